"""The decision rule and its threshold: the one place that turns a score into a yes/no.

A row is predicted positive when ``score >= threshold`` (DESIGN.md). Scores need not be
probabilities: a 1–10 risk score with threshold 5 is valid. Every analysis decides through
:func:`decide` (or :meth:`mlimpact.io.dataset.Dataset.decisions`), and every threshold that comes
from outside (CLI option, checks.toml, a link, a widget) is checked once by :func:`check_threshold`.

>>> decide([0.2, 0.5, 0.9], 0.5).tolist()
[0, 1, 1]
>>> check_threshold("0.3")
0.3
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlimpact.errors import InputError

__all__ = ["DEFAULT_THRESHOLD", "check_threshold", "decide", "decide_sql", "threshold_note", "ThresholdScale", "threshold_scale",
           "rate_mismatch"]

#: The conventional threshold when none is given.
DEFAULT_THRESHOLD = 0.5


def check_threshold(value, *, name: str = "threshold") -> float:
    """``value`` as a finite float, or :class:`InputError` naming ``name`` and what to give.

    >>> check_threshold(float("nan"), name="--threshold")
    Traceback (most recent call last):
    ...
    mlimpact.errors.InputError: --threshold nan: not a usable threshold; give a finite number such as 0.5 \
(rows with score >= threshold are flagged)
    """
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise InputError(f"{name} {value}: not a usable threshold; give a finite number such as 0.5 "
                         "(rows with score >= threshold are flagged)")
    return number


def decide(scores, threshold: float) -> np.ndarray:
    """1 where ``score >= threshold``, else 0 (int8); a missing score (NaN) is never flagged."""
    return (np.asarray(scores, dtype=float) >= threshold).astype(np.int8)


def decide_sql(score_sql: str, threshold: float) -> str:
    """:func:`decide` as SQL for the engines (1 or 0): the same rule, written once more only in SQL's words.

    >>> decide_sql("p", 0.5)
    'CASE WHEN p >= 0.5 THEN 1 ELSE 0 END'
    """
    return f"CASE WHEN {score_sql} >= {float(threshold)!r} THEN 1 ELSE 0 END"


def threshold_note(scores, threshold: float) -> str | None:
    """A sentence when ``threshold`` flags every row or none (a threshold outside the scores' range).

    >>> threshold_note([0.2, 0.7], 1e308)
    'threshold 1e+308 is above every score (0.2 to 0.7): no row is flagged'
    """
    s = np.asarray(scores, dtype=float)
    s = s[np.isfinite(s)]
    if not len(s):
        return None
    lo, hi = float(s.min()), float(s.max())
    if threshold > hi:
        return f"threshold {threshold:g} is above every score ({lo:g} to {hi:g}): no row is flagged"
    if threshold <= lo:
        return f"threshold {threshold:g} is at or below every score ({lo:g} to {hi:g}): every row is flagged"
    return None


@dataclass(frozen=True)
class ThresholdScale:
    """The range a threshold control offers for a score column, its default, and how the default was chosen."""

    low: float
    high: float
    step: float
    default: float
    why: str


def threshold_scale(scores, *, probabilities: bool) -> ThresholdScale:
    """0 to 1 with the conventional 0.5 for probabilities; otherwise the scores' range and its middle.

    >>> threshold_scale([1, 4, 10], probabilities=False).why
    'the middle of the score range (1 to 10)'
    """
    if probabilities:
        return ThresholdScale(0.0, 1.0, 0.01, DEFAULT_THRESHOLD, "0.5, the convention for probabilities")
    s = np.asarray(scores, dtype=float)
    lo, hi = float(np.nanmin(s)), float(np.nanmax(s))
    why = f"the middle of the score range ({lo:g} to {hi:g})"
    if hi <= lo:  # a constant score: give the control some room around it
        lo, hi = lo - 1.0, hi + 1.0
    return ThresholdScale(lo, hi, max((hi - lo) / 200, 1e-6), lo + (hi - lo) / 2, why)


def rate_mismatch(scores, y, threshold: float, *, factor: float = 3.0) -> tuple[str, float] | None:
    """When ``threshold`` flags far fewer or far more rows than are positive (by ``factor``), a sentence
    saying so and the threshold that flags as many rows as are positive; else ``None``.

    >>> s = np.linspace(0, 0.6, 1000); y = (np.arange(1000) >= 950).astype(int)
    >>> rate_mismatch(s, y, 0.5)[0]
    'At threshold 0.5 the model flags 16.7% of rows while 5.0% are positive.'
    """
    s, y = np.asarray(scores, dtype=float), np.asarray(y)
    flagged, positive = float(decide(s, threshold).mean()), float(y.mean())
    if not len(s) or positive in (0.0, 1.0) or positive / factor <= flagged <= positive * factor:
        return None
    matching = float(np.quantile(s, 1 - positive, method="higher"))
    return (f"At threshold {threshold:g} the model flags {100 * flagged:.1f}% of rows while {100 * positive:.1f}% "
            "are positive.", matching)
