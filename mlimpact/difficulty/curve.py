"""The sorted cumulative structure of difficulty lanes: one sort of a file's keys, then O(log n) per question.

:func:`lane_curve` sorts the file's keys once and keeps cumulative counts per distinct value (a
:class:`LaneCurve`); the counts of any pair of cut-offs are then a few ``searchsorted`` calls, and a
segment mix is O(groups · log n) on a curve built once per column (:func:`segment_curve`).
Re-exported by :mod:`mlimpact.difficulty`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd  # noqa: F401 (the doctests' namespace)

from mlimpact import trace
from mlimpact.difficulty.lanes import (
    _SIGN,
    AUTO_NEGATIVE,
    AUTO_POSITIVE,
    AUTOMATIC,
    LANE_NAMES,  # noqa: F401 (the doctests' namespace)
    MODES,
    REVIEW,
    LanePolicy,
    Lanes,
    _why_no_mode,
    available_modes,
    checked_tolerance,
    default_tolerance,
)
from mlimpact.errors import InputError
from mlimpact.io import Dataset

__all__ = ["LaneCurve", "lane_curve", "segment_curve", "lane_codes", "cutoff_range"]


def _row_arrays(dataset: Dataset, mode: str, tolerance: float | None):
    """Per row: the sort key (higher = more positive / more confident), the bad indicator, the expected rate."""
    if dataset.task == "binary":
        key = dataset.score.astype(float)
        bad = dataset.y.astype(np.int8)  # positives: errors in the auto-negative lane
        expected = key if dataset.scores_are_probabilities else None
        return key, bad, expected
    if dataset.task == "multiclass":
        proba = dataset.proba
        pred = dataset.predicted()
        part = np.partition(proba, proba.shape[1] - 2, axis=1) if proba.shape[1] >= 2 else proba
        top = part[:, -1]
        key = top if mode == "top_probability" else (top - part[:, -2] if proba.shape[1] >= 2 else top)
        bad = (pred != dataset.y).astype(np.int8)
        expected = proba[np.arange(len(pred)), pred]  # the model's probability of its own decision
        return key.astype(float), bad, expected.astype(float)
    resid = np.abs(dataset.prediction - dataset.y)
    bad = (resid > tolerance).astype(np.int8)
    if mode == "uncertainty":
        u = dataset.frame[dataset.roles.uncertainty].to_numpy(dtype=float, na_value=np.nan)
        key = np.where(np.isfinite(u), -u, -np.inf)  # no uncertainty: always reviewed
        from scipy.special import erf  # scipy: heavy, imported on use

        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(u > 0, erf(tolerance / (np.abs(u) * math.sqrt(2.0))), 1.0)
        expected = None if not np.isfinite(u).all() else expected
        return key, bad, expected
    return -resid, bad, None


@dataclass(frozen=True, eq=False)
class LaneCurve:
    """One sort of a file's keys with cumulative counts per distinct value (optionally per group).

    ``values``: distinct keys ascending (K of them); a cut-off maps to an index 0..K with ``searchsorted``.
    ``combo``: sorted distinct ``group * K + value index`` (the ungrouped curve: ``0..K-1``).
    ``cum_n``/``cum_bad``/``cum_expected``: cumulative rows, bad rows (binary: positives; otherwise errors)
    and expected-rate sums over ``combo`` (length ``len(combo) + 1``).
    ``row_index``/``row_bad``/``row_expected``: per row, to build segment curves and lane codes.
    """

    mode: str
    tolerance: float | None
    values: np.ndarray
    combo: np.ndarray
    cum_n: np.ndarray
    cum_bad: np.ndarray
    cum_expected: np.ndarray | None
    n_groups: int
    row_index: np.ndarray
    row_bad: np.ndarray
    row_expected: np.ndarray | None
    probabilities: bool

    @property
    def n(self) -> int:
        return int(self.cum_n[-1])

    @property
    def k(self) -> int:
        """Number of distinct keys."""
        return len(self.values)

    @property
    def two_sided(self) -> bool:
        return self.mode == "score"

    @property
    def first_index(self) -> int:
        """Smallest usable cut-off index (rows without an uncertainty are always reviewed)."""
        return 1 if (not self.two_sided and len(self.values) and self.values[0] == -np.inf) else 0


def _cumulate(index: np.ndarray, size: int, bad: np.ndarray, expected: np.ndarray | None):
    n = np.bincount(index, minlength=size)
    b = np.bincount(index, weights=bad, minlength=size)
    cum_n = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
    cum_bad = np.concatenate([[0], np.cumsum(np.rint(b).astype(np.int64))])
    cum_e = None
    if expected is not None:
        cum_e = np.concatenate([[0.0], np.cumsum(np.bincount(index, weights=expected, minlength=size))])
    return cum_n, cum_bad, cum_e


def lane_curve(dataset: Dataset, *, mode: str | None = None, tolerance: float | None = None) -> LaneCurve:
    """Sort the file once by its difficulty key and keep cumulative counts (memoise it per file).

    Parameters
    ----------
    mode: one of :func:`available_modes` (default: the first).
    tolerance: regression only: a miss larger than this counts as an error (default :func:`default_tolerance`).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.4, 0.9]}), Roles(label="y", score="p"))
    >>> c = lane_curve(ds)
    >>> c.values.tolist(), c.cum_n.tolist(), c.cum_bad.tolist()
    ([0.1, 0.4, 0.9], [0, 1, 3, 4], [0, 0, 1, 2])
    """
    trace.count("lane_curve")
    modes = available_modes(dataset)
    if not modes:
        raise InputError(_why_no_mode(dataset))
    mode = mode or modes[0]
    if mode not in modes:
        raise InputError(f"lanes by {mode!r} are not available for this {dataset.task} file; "
                         f"use one of {', '.join(modes)}")
    tolerance = checked_tolerance(tolerance, lambda: default_tolerance(dataset)) \
        if dataset.task == "regression" else None
    key, bad, expected = _row_arrays(dataset, mode, tolerance)
    values, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.astype(np.int32).ravel()
    cum_n, cum_bad, cum_e = _cumulate(inverse, len(values), bad, expected)
    return LaneCurve(mode=mode, tolerance=tolerance, values=values, combo=np.arange(len(values), dtype=np.int64),
                     cum_n=cum_n, cum_bad=cum_bad, cum_expected=cum_e, n_groups=1, row_index=inverse,
                     row_bad=bad, row_expected=expected,
                     probabilities=expected is not None)


def segment_curve(curve: LaneCurve, codes: np.ndarray, n_groups: int) -> LaneCurve:
    """The same curve split by a group code (one more sort); lane counts per group are then O(groups · log n).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.4, 0.9]}), Roles(label="y", score="p"))
    >>> g = segment_curve(lane_curve(ds), np.array([0, 1, 1, 0]), 2)
    >>> g.combo.tolist(), g.cum_n.tolist()
    ([0, 2, 4], [0, 1, 2, 4])
    """
    trace.count("segment_curve")
    codes = np.asarray(codes)
    if codes.shape != curve.row_index.shape:
        raise InputError(f"segment codes have {codes.size:,} values for {curve.row_index.size:,} rows")
    k = max(len(curve.values), 1)
    combined = codes.astype(np.int64) * k + curve.row_index
    combo, inverse = np.unique(combined, return_inverse=True)
    cum_n, cum_bad, cum_e = _cumulate(inverse.ravel(), len(combo), curve.row_bad, curve.row_expected)
    return LaneCurve(mode=curve.mode, tolerance=curve.tolerance, values=curve.values, combo=combo, cum_n=cum_n,
                     cum_bad=cum_bad, cum_expected=cum_e, n_groups=int(n_groups), row_index=curve.row_index,
                     row_bad=curve.row_bad, row_expected=curve.row_expected, probabilities=curve.probabilities)


def _below(curve: LaneCurve, idx: int):
    """Per group: rows, bad rows and expected sum with a value index below ``idx`` (0..K)."""
    k = max(len(curve.values), 1)
    base = np.arange(curve.n_groups, dtype=np.int64) * k
    lo = np.searchsorted(curve.combo, base, side="left")
    hi = np.searchsorted(curve.combo, base + int(idx), side="left")
    e = None if curve.cum_expected is None else curve.cum_expected[hi] - curve.cum_expected[lo]
    return curve.cum_n[hi] - curve.cum_n[lo], curve.cum_bad[hi] - curve.cum_bad[lo], e


def _index(curve: LaneCurve, cut: float) -> int:
    """Cut-off (display units) -> value index: rows with index >= it are at/above the cut-off."""
    return int(np.searchsorted(curve.values, _SIGN[curve.mode] * cut, side="left"))


def _cut(curve: LaneCurve, idx: int) -> float:
    """Value index -> cut-off in display units (K: just past the largest key, so the lane is empty)."""
    if idx < len(curve.values):
        v = float(curve.values[idx])
    else:
        v = float(np.nextafter(curve.values[-1], np.inf)) if len(curve.values) else 0.0
    return _SIGN[curve.mode] * v


def _indices(curve: LaneCurve, lanes: Lanes) -> tuple[int, int]:
    if lanes.mode != curve.mode:
        raise InputError(f"lanes were chosen by {MODES[lanes.mode]}, but this analysis orders cases by "
                         f"{MODES[curve.mode]}; choose the lanes again on the Difficulty page")
    if curve.two_sided:
        return _index(curve, lanes.low), _index(curve, lanes.high)
    return 0, max(_index(curve, lanes.cutoff), curve.first_index)


def _lanes_from(curve: LaneCurve, i_low: int, i_high: int, policy: LanePolicy) -> Lanes:
    if curve.two_sided:
        return Lanes("score", low=_cut(curve, i_low), high=_cut(curve, i_high), policy=policy)
    return Lanes(curve.mode, cutoff=_cut(curve, i_high), tolerance=curve.tolerance, policy=policy)


def lane_codes(curve: LaneCurve, lanes: Lanes) -> np.ndarray:
    """Per row, its lane code (index into :data:`LANE_NAMES`), from the curve's per-row value index.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.5, 0.9]}), Roles(label="y", score="p"))
    >>> [LANE_NAMES[c] for c in lane_codes(lane_curve(ds), Lanes("score", low=0.2, high=0.9))]
    ['auto_negative', 'review', 'review', 'auto_positive']
    """
    i_low, i_high = _indices(curve, lanes)
    r = curve.row_index
    if curve.two_sided:
        out = np.full(r.shape, REVIEW, dtype=np.int8)
        out[r < i_low] = AUTO_NEGATIVE
        out[r >= i_high] = AUTO_POSITIVE
        return out
    return np.where(r >= i_high, AUTOMATIC, REVIEW).astype(np.int8)


def cutoff_range(curve: LaneCurve) -> tuple[float, float, float]:
    """``(min, max, step)`` for a cut-off slider covering every useful cut-off of this curve.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> cutoff_range(lane_curve(build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7]}), Roles(label="y", score="p"))))
    (0.0, 1.0, 0.001)
    """
    finite = curve.values[np.isfinite(curve.values)]
    lo_v = float(finite.min()) if finite.size else 0.0
    hi_v = float(finite.max()) if finite.size else 1.0
    if curve.mode in ("score", "top_probability", "margin") and lo_v >= 0 and hi_v < 1:
        return 0.0, 1.0, 0.001
    if _SIGN[curve.mode] < 0:
        lo_v, hi_v = -hi_v, -lo_v
    span = hi_v - lo_v or 1.0
    step = float(f"{span / 1000:.1g}")
    lo = math.floor(lo_v / step) * step
    hi = math.ceil(hi_v / step) * step + step
    return float(f"{lo:.12g}"), float(f"{hi:.12g}"), step
