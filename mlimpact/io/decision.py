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

import numpy as np

from mlimpact.errors import InputError

__all__ = ["DEFAULT_THRESHOLD", "check_threshold", "decide", "threshold_note"]

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
