"""The Impact and Compare pages' choices as plain values: money sources, the money scale, defaults, columns.

What a person picks (a number or a column per money term; whole file, per month or per year; a segment)
is turned into package values here, so the pages only read widgets and render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from mlimpact.impact.costs import Period, detect_period
from mlimpact.io import Dataset

__all__ = [
    "ONE_VS_REST_NOTE",
    "unavailable_reason",
    "NUMBER",
    "TERM_HELP",
    "SCALES",
    "MONEY_COLUMNS",
    "SHARE_COLUMNS",
    "money_columns",
    "term_start",
    "scale_options",
    "start_scale",
    "scale_of",
    "saved_scale",
    "start_segment",
    "lanes_caption",
    "NO_LANES_SENTENCE",
    "lanes_sentence",
    "shown_points",
]

#: What the Impact page says when it looks at one class of a multiclass file against the rest.
ONE_VS_REST_NOTE = ("Business value needs a yes/no decision, and this file is multiclass. Look at one class against "
                    "the rest here (flag a row when that class's probability is at least the threshold), or choose "
                    "the binary task in the sidebar (Columns and task).")


def unavailable_reason(dataset: Dataset) -> str | None:
    """Why money cannot be put on this file's decisions (None when it can: binary with a score, or multiclass
    with class probabilities, looked at one class against the rest).

    >>> from mlimpact.io import Roles, build_dataset
    >>> reg = build_dataset(pd.DataFrame({"y": [1.0, 2.0], "yhat": [1.5, 2.5]}),
    ...                     Roles(label="y", prediction="yhat", task="regression"))
    >>> unavailable_reason(reg)[:62]
    "Business value needs a yes/no decision; this file's task is re"
    """
    if dataset.task == "multiclass" and dataset.proba is not None:
        return None
    if dataset.task != "binary":
        return (f"Business value needs a yes/no decision; this file's task is {dataset.task}. Choose the binary task "
                "and a positive class in the sidebar (Columns and task) to put money on the model's decisions. "
                "The Compare page compares models on their metrics for any task.")
    if dataset.score is None:
        return ("Business value over thresholds needs a score column; pick the model's score in the sidebar "
                "(Columns and task).")
    return None


#: The money-source option that means "type a number" (the others are column names).
NUMBER = "a number"

#: What each money term means, as the page explains it.
TERM_HELP = {"value_tp": "What catching a positive earns (often 0 when a missed one is counted as a cost).",
             "value_tn": "What leaving a negative alone earns (often 0).",
             "cost_fp": "What a false alarm costs: a blocked good customer, an investigation.",
             "cost_fn": "What a missed positive costs; pick the amount column when a miss loses that row's amount.",
             "cost_review": "What one human review costs (used with the Difficulty page's review lanes)."}

#: How money is shown, by label: the whole file, or scaled by the span of the time column.
SCALES = {"whole file": None, "per month": "month", "per year": "year"}

#: Columns of the impact tables that hold money.
MONEY_COLUMNS = ("value", "low", "high", "value_vs_flag_none", "vs_none_low", "vs_none_high", "optimism",
                 "difference", "diff_low", "diff_high", "best_value", "best_vs_flag_none", "value_at_base_best",
                 "regret", "value_at_current", "current_vs_flag_none", "lanes_value", "perfect_value", "lost",
                 "lost_false_positives", "lost_false_negatives", "lost_reviews")
#: Columns of the impact tables that hold shares.
SHARE_COLUMNS = ("flag_rate", "share_of_lost")


def money_columns(dataset: Dataset) -> list[str]:
    """Numeric columns that can hold money per row (not the label or the score; booleans are not money).

    >>> from mlimpact.io import Roles, build_dataset
    >>> frame = pd.DataFrame({"y": [0, 1], "p": [0.2, 0.8], "amount": [10.0, 25.0], "vip": [True, False]})
    >>> money_columns(build_dataset(frame, Roles(label="y", score="p")))
    ['amount']
    """
    frame = dataset.frame
    return [str(c) for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            and c not in (dataset.roles.label, dataset.roles.score)]


def term_start(current: object, columns: Sequence[str]) -> tuple[str, float]:
    """Where a money term's inputs start: its source (:data:`NUMBER` or a column) and the number.

    >>> term_start("amount", ["amount"]), term_start(5, ["amount"]), term_start("gone", ["amount"])
    (('amount', 0.0), ('a number', 5.0), ('a number', 0.0))
    """
    source = current if isinstance(current, str) and current in columns else NUMBER
    return source, float(current) if not isinstance(current, str) else 0.0


def scale_options(period: Period | None) -> list[str]:
    """The money scales on offer: per month and per year need a time span.

    >>> scale_options(None)
    ['whole file']
    """
    return ["whole file", "per month", "per year"] if period is not None else ["whole file"]


def start_scale(options: Mapping[str, object], period: Period | None) -> str:
    """The scale shown first: the saved one if still on offer, else per month (whole file without a period).

    >>> start_scale({"scale": "per year"}, None)
    'whole file'
    """
    scales = scale_options(period)
    saved = options.get("scale", "per month" if period else "whole file")
    return saved if saved in scales else scales[0]


def scale_of(label: str) -> str | None:
    """``"month"``, ``"year"`` or None (whole file) for a scale label.

    >>> scale_of("per month"), scale_of("whole file")
    ('month', None)
    """
    return SCALES[label]


def saved_scale(dataset: Dataset, options: Mapping[str, object]) -> str | None:
    """The scale the Impact page chose (per month unless it chose otherwise), None when the file has no span."""
    scale = {"per month": "month", "per year": "year"}.get(options.get("scale", "per month"))
    if scale and detect_period(dataset) is None:
        return None
    return scale


def start_segment(options: Mapping[str, object], preferred: str | None, segments: Sequence[str]) -> str | None:
    """The segment column "where value is lost" starts on: the saved one, else ``preferred``, else the first.

    >>> start_segment({}, "channel", ["region", "channel"]), start_segment({}, None, [])
    ('channel', None)
    """
    return options.get("segment", preferred if preferred in segments else (segments[0] if segments else None))


def lanes_caption(lanes: tuple[float, float]) -> str:
    """The note under the headline numbers when review lanes from the Difficulty page are in use.

    >>> lanes_caption((0.3, 0.87))
    'Review lanes from the Difficulty page: review scores from 0.3 to below 0.87; see the operating points below.'
    """
    return (f"Review lanes from the Difficulty page: review scores from {lanes[0]:g} to below "
            f"{lanes[1]:g}; see the operating points below.")


#: What the Impact page says when no review lanes are in use.
NO_LANES_SENTENCE = ("No review lanes: every row is decided at the threshold and no review cost is charged. Set lanes "
                     "on the Difficulty page to send some cases to people.")


def lanes_sentence(lanes: tuple[float, float] | None) -> str:
    """Whether review lanes are in, in one plain sentence (:func:`lanes_caption` when they are).

    >>> lanes_sentence(None)[:16]
    'No review lanes:'
    """
    return NO_LANES_SENTENCE if lanes is None else lanes_caption(lanes)


def shown_points(points: pd.DataFrame, lanes) -> pd.DataFrame:
    """The operating points as shown: without the review-lane columns when no lanes are in use."""
    return points.drop(columns=["low_cut", "high_cut", "reviewed"] if lanes is None else [])
