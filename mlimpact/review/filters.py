"""The Review page's filters as plain values: the options offered, their labels, and what each choice keeps.

The page reads its widgets and hands the choices to :func:`lane_filter`, :func:`error_filter` and
:func:`combine_masks`; the results go straight to :func:`mlimpact.review.select_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlimpact.difficulty import lane_label
from mlimpact.review.rows import ERROR_LABELS, error_types_for

__all__ = [
    "ALL",
    "AUTOMATED",
    "MISTAKES",
    "lane_options",
    "lane_option_label",
    "lane_filter",
    "error_options",
    "error_option_label",
    "error_filter",
    "order_labels",
    "slice_mask",
    "combine_masks",
]

#: The option that filters nothing (also "no strata" for the sample's strata).
ALL = "(all)"
#: The lane option for every automatic lane at once.
AUTOMATED = "automated"
#: The error option for every kind of mistake at once.
MISTAKES = "mistakes"


def lane_options(lane_names: Sequence[str]) -> list[str]:
    """The lane filter's options: all lanes, then (when there are lanes) every automatic lane, then each lane.

    >>> lane_options(["automatic", "review"])
    ['(all)', 'automated', 'automatic', 'review']
    >>> lane_options([])
    ['(all)']
    """
    return [ALL] + ([AUTOMATED] if lane_names else []) + list(lane_names)


def lane_option_label(option: str, subject: str = "positive") -> str:
    """How a lane option is shown.

    >>> lane_option_label(ALL), lane_option_label(AUTOMATED)
    ('all lanes', 'automated (all automatic lanes)')
    """
    return {ALL: "all lanes", AUTOMATED: "automated (all automatic lanes)"}.get(option, lane_label(option, subject))


def lane_filter(choice: str, lane_names: Sequence[str]) -> list[str] | None:
    """The lanes a choice keeps (None: every row).

    >>> lane_filter(AUTOMATED, ["auto_negative", "review", "auto_positive"])
    ['auto_negative', 'auto_positive']
    >>> lane_filter("review", ["automatic", "review"]), lane_filter(ALL, ["automatic", "review"])
    (['review'], None)
    """
    if choice == AUTOMATED:
        return [x for x in lane_names if x != "review"]
    if choice != ALL:
        return [choice]
    return None


def error_options(task: str) -> list[str]:
    """The error filter's options: all rows, any mistake, then each error type of ``task``.

    >>> error_options("regression")
    ['(all)', 'mistakes', 'large_residual', 'correct']
    """
    return [ALL, MISTAKES] + error_types_for(task)


def error_option_label(option: str) -> str | None:
    """How an error option is shown.

    >>> error_option_label(MISTAKES), error_option_label("false_positive")
    ('any mistake', 'false positive')
    """
    return {ALL: "all rows", MISTAKES: "any mistake"}.get(option, ERROR_LABELS.get(option))


def error_filter(choice: str, task: str) -> list[str] | None:
    """The error types a choice keeps (None: every row).

    >>> error_filter(MISTAKES, "binary"), error_filter("correct", "binary"), error_filter(ALL, "binary")
    (['false_positive', 'false_negative'], ['correct'], None)
    """
    if choice == MISTAKES:
        return [e for e in error_types_for(task) if e != "correct"]
    if choice != ALL:
        return [choice]
    return None


def order_labels(task: str) -> dict[str, str]:
    """How the two orders are shown (regression mistakes are misses, largest first).

    >>> order_labels("regression")["confident"]
    'Largest misses first'
    """
    return {"confident": "Most confident mistakes first" if task != "regression" else "Largest misses first",
            "sample": "Random sample, stratified by segment"}


def slice_mask(n: int, rows: Sequence[int] | np.ndarray) -> np.ndarray:
    """A boolean mask over ``n`` rows, True at the positions ``rows`` (a weak slice's rows).

    >>> slice_mask(4, [1, 3]).tolist()
    [False, True, False, True]
    """
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


def combine_masks(*masks: np.ndarray | None) -> np.ndarray | None:
    """Rows allowed by every mask given (None masks allow every row; None when none is given).

    >>> combine_masks(None, np.array([True, False, True]), np.array([True, True, False])).tolist()
    [True, False, False]
    >>> combine_masks(None, None) is None
    True
    """
    result = None
    for mask in masks:
        if mask is not None:
            result = mask if result is None else (result & mask)
    return result
