"""What the Segments page shows, as rows and sentences: one metric's segments, their summary, the weak slices.

Pages only read widgets, call these and render; every filter, sort, count and sentence is here, so it
is tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlimpact.metrics import METRICS
from mlimpact.slices.search import ERROR_KINDS, slice_sentence

__all__ = [
    "RERANK_METRICS",
    "metric_rows",
    "metric_value",
    "segments_summary",
    "segment_display_columns",
    "segment_display",
    "segment_of_row",
    "error_kinds",
    "rerank_options",
    "search_caption",
    "weak_slice_rows",
    "picked_slice",
]

#: Metrics the weak slices can be re-ranked by, when the task has them.
RERANK_METRICS = ("recall", "precision", "roc_auc", "f1", "accuracy", "mae")


def metric_rows(table: pd.DataFrame, metric: str, sort_by: str = "impact") -> pd.DataFrame:
    """The rows of ``segment_table`` for one metric; ``sort_by="metric"`` puts the worst value first.

    >>> t = pd.DataFrame({"metric": ["recall"] * 3 + ["precision"], "value": [0.8, 0.5, np.nan, 0.1]})
    >>> metric_rows(t, "recall", "metric")["value"].tolist()
    [0.5, 0.8, nan]
    """
    rows = table[table["metric"] == metric]
    if sort_by == "metric":
        rows = rows.sort_values("value", ascending=METRICS[metric].direction == "higher", na_position="last")
    return rows


def metric_value(table: pd.DataFrame, metric: str) -> float:
    """One metric's value from an ``evaluate`` table.

    >>> metric_value(pd.DataFrame({"metric": ["recall", "precision"], "value": [0.75, 0.5]}), "precision")
    0.5
    """
    return float(table.loc[table["metric"] == metric, "value"].iloc[0])


def segments_summary(rows: pd.DataFrame, n_tests: int, metric: str, min_size: int) -> str:
    """One sentence: how many segments are significantly worse, over how many tests, and how many are small.

    >>> rows = pd.DataFrame({"significantly_worse": [True, False, False], "small": [False, True, False]})
    >>> segments_summary(rows, 12, "recall", 30)  # doctest: +NORMALIZE_WHITESPACE
    '1 of 3 segments are significantly worse than the rest on recall (Benjamini–Hochberg at 5% over all 12
     tests shown). 1 segments have fewer than 30 rows: their intervals are wide.'
    """
    flagged = rows[rows["significantly_worse"]]
    n_small = int(rows["small"].sum())
    summary = (f"{len(flagged)} of {len(rows)} segments are significantly worse than the rest on "
               f"{METRICS[metric].label.lower()} (Benjamini–Hochberg at 5% over all {n_tests:,} tests shown).")
    if n_small:
        summary += f" {n_small} segments have fewer than {int(min_size)} rows: their intervals are wide."
    return summary


def segment_display_columns(columns: Sequence[str], task: str) -> list[str]:
    """The columns of the segment table a person sees, in order.

    >>> segment_display_columns(["region"], "binary")[:3]
    ['region', 'n', 'positives']
    """
    return list(columns) + ["n"] + (["positives"] if task == "binary" else []) + [
        "value", "low", "high", "rest_value", "difference", "q_value", "significantly_worse", "small", "impact",
        "note"]


def segment_display(rows: pd.DataFrame, columns: Sequence[str], task: str) -> pd.DataFrame:
    """The segment rows as shown: the display columns, notes blank rather than missing."""
    return rows[segment_display_columns(columns, task)].assign(note=rows["note"].fillna(""))


def segment_of_row(rows: pd.DataFrame, columns: Sequence[str], picked: Sequence[int]) -> dict[str, str] | None:
    """The segment (``{column: value}``) of the first picked row position, None when none is in range.

    >>> rows = pd.DataFrame({"region": ["north", "south"], "n": [10, 20]})
    >>> segment_of_row(rows, ["region"], [1]), segment_of_row(rows, ["region"], [5])
    ({'region': 'south'}, None)
    """
    inside = [i for i in picked if i < len(rows)]
    if not inside:
        return None
    row = rows.iloc[inside[0]]
    return {c: str(row[c]) for c in columns}


def error_kinds(task: str) -> list[str]:
    """The kinds of error a weak-slice search can look for in this task.

    >>> error_kinds("regression")
    ['absolute_error']
    """
    return [k for k, tasks in ERROR_KINDS.items() if task in tasks]


def rerank_options(metrics: Sequence[str], default: str = "(error rate)") -> list[str]:
    """``default`` (keep the search's order) and the metrics weak slices can be re-ranked by.

    >>> rerank_options(["recall", "roc_auc", "log_loss"])
    ['(error rate)', 'recall', 'roc_auc']
    """
    return [default] + [m for m in RERANK_METRICS if m in metrics]


def search_caption(result) -> str:
    """How many slices were evaluated (and whether the time budget cut the search short), how many listed."""
    done = "" if result.settings.get("complete", True) else " (stopped at the 30 s time budget: partial search)"
    return f"{result.n_evaluated:,} slices evaluated{done}; {len(result.slices)} listed."


def weak_slice_rows(result, kind: str, ranked: pd.DataFrame | None = None, metric: str | None = None) -> pd.DataFrame:
    """The weak slices as shown: rank, a sentence each, size and error rate with its interval.

    With ``ranked`` (from ``rerank_slices``) the slices gain ``metric``, ``metric_low``, ``metric_high`` and
    are sorted worst first on that metric.
    """
    found = result.slices
    findings = found.assign(finding=[slice_sentence(r, overall=result.overall_error_rate, kind=kind)
                                     for r in found.to_dict("records")])
    shown = findings[["rank", "finding", "ratio_to_overall", "share", "q_value", "n", "error_rate", "low", "high"]]
    if ranked is not None and metric is not None:
        shown = shown.merge(ranked[["rank", "value", "low", "high"]].rename(
            columns={"value": metric, "low": f"{metric}_low", "high": f"{metric}_high"}), on="rank")
        shown = shown.sort_values(metric, ascending=METRICS[metric].direction == "higher", na_position="last")
    return shown


def picked_slice(result, shown: pd.DataFrame, picked: Sequence[int]) -> dict | None:
    """The slice in the first picked row of ``shown``: its description, row positions and predicates (column ->
    value label); None when none.

    >>> import types
    >>> result = types.SimpleNamespace(slices=pd.DataFrame({"rank": [1, 2], "description": ["a = 1", "b = 2"]}),
    ...                                row_indices=lambda i: np.array([i, 7]))
    >>> picked_slice(result, pd.DataFrame({"rank": [2, 1]}), [0])
    {'description': 'b = 2', 'rows': array([1, 7]), 'predicates': None}
    """
    inside = [i for i in picked if i < len(shown)]
    if not inside:
        return None
    rank = int(shown.iloc[inside[0]]["rank"])
    i = int(np.flatnonzero(result.slices["rank"].to_numpy() == rank)[0])
    row = result.slices.iloc[i]
    return {"description": str(row["description"]), "rows": result.row_indices(i), "predicates": row.get("predicates")}
