"""Statistics of slices: intervals of a slice's error, its test against the rest, SliceLine's score and bound."""

from __future__ import annotations

import numpy as np

from mlimpact.metrics import wilson_interval

__all__ = ["_intervals", "_p_values", "_sliceline_score", "_sliceline_score_ub"]


def _intervals(ss, se, sq, binary: bool, confidence: float):
    from scipy import special  # scipy: heavy, imported on use

    ss = np.asarray(ss, dtype=float)
    if binary:
        z = float(special.ndtri(0.5 + confidence / 2))
        return wilson_interval(se, ss, z=z)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = se / ss
        var = np.maximum(sq - se * mean, 0.0) / (ss - 1)
        t = special.stdtrit(np.maximum(ss - 1, 1), 0.5 + confidence / 2)
        half = np.where(ss > 1, t * np.sqrt(var / ss), np.inf)
    return np.maximum(mean - half, 0.0), mean + half


def _p_values(ss, se, sq, total_n, total_se, total_sq, binary: bool):
    """One-sided p-values: is the slice's error higher than the rest's?"""
    from scipy import special  # scipy: heavy, imported on use

    if binary:
        rate = total_se / total_n
        k = np.rint(se).astype(np.int64)
        with np.errstate(invalid="ignore"):
            p = np.where(
                k >= 1, special.bdtrc(np.maximum(k - 1, 0), np.asarray(ss, dtype=np.int64), rate), 1.0
            )
        return np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)
    ss = np.asarray(ss, dtype=float)
    n2 = total_n - ss
    se2, sq2 = total_se - se, total_sq - sq
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m2 = se / ss, se2 / n2
        v1 = np.maximum(sq - se * m1, 0.0) / (ss - 1)
        v2 = np.maximum(sq2 - se2 * m2, 0.0) / (n2 - 1)
        a, b = v1 / ss, v2 / n2
        s = np.sqrt(a + b)
        t = (m1 - m2) / s
        df = (a + b) ** 2 / (a * a / (ss - 1) + b * b / (n2 - 1))
        p = special.stdtr(df, -t)
    p = np.where(s > 0, p, np.where(m1 > m2, 0.0, 1.0))
    p = np.where((ss > 1) & (n2 > 1), p, 1.0)
    return np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)


def _sliceline_score(ss, se, n: int, alpha: float, avg: float) -> np.ndarray:
    """SliceLine's score, with the exact arithmetic of the ``sliceline`` package."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = alpha * ((se / ss) / avg - 1) - (1 - alpha) * (n / ss - 1)
    return np.nan_to_num(sc, nan=-np.inf)


def _sliceline_score_ub(ss, se, sm, n_col: int, min_sup: float, alpha: float, avg: float) -> np.ndarray:
    """SliceLine's upper bound, probing |S| in {min_sup, se/sm, ss} as the ``sliceline`` package does."""
    ss, se, sm = (np.asarray(a, dtype=float) for a in (ss, se, sm))
    with np.errstate(divide="ignore", invalid="ignore"):
        cand = np.column_stack([np.full(len(ss), float(min_sup)), np.maximum(se / sm, min_sup), ss])
        err = np.minimum(cand * sm[:, None], se[:, None])
        ub = (alpha * (err / avg - cand) - (1 - alpha) * (n_col - cand)) / cand
    return np.max(ub, axis=1) if len(ss) else np.empty(0)
