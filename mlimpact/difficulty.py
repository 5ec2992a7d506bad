"""Difficulty lanes: which cases to decide automatically and which to send to people.

A *lane* is a range of the model's output. Binary: two cut-offs on the score make three lanes —
automatically negative (``score < low``), human review (``low <= score < high``) and automatically
positive (``score >= high``). Multiclass: a case is decided automatically when its top-class probability
(or the margin between the top two classes) is at least a cut-off, otherwise it goes to review.
Regression: automatically when the row's uncertainty is at most a cut-off; without an uncertainty column,
by the size of the error itself (that needs the truth, so it is for analysis only).

The cases in the review lane are assumed to be decided correctly by the reviewer. The errors that remain
are the errors among automated decisions: false negatives in the auto-negative lane plus false positives
in the auto-positive lane (multiclass: wrong classes; regression: misses larger than a tolerance).

Speed: :func:`lane_curve` sorts the file's keys once and keeps cumulative counts per distinct value
(a :class:`LaneCurve`). The counts of any pair of cut-offs are then a few ``searchsorted`` calls, O(log n)
whatever the number of rows, and a segment mix is O(groups · log n) on a curve built once per column
(:func:`segment_curve`). The solvers are exact over every distinct score; the trade-off curve is exact
over every pair of candidate cut-offs (every distinct score when there are at most ``max_candidates``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import InputError
from .uncertainty import wilson_interval

__all__ = [
    "MODES", "LANE_NAMES", "AUTO_NEGATIVE", "REVIEW", "AUTO_POSITIVE", "AUTOMATIC", "METHODS",
    "LanePolicy", "Lanes", "LaneCurve", "OperatingPoint",
    "available_modes", "unavailable_reason", "default_tolerance", "default_policy", "lane_curve", "segment_curve", "lane_codes",
    "evaluate_lanes", "solve_for_target", "solve_for_capacity", "choose_lanes", "tradeoff_curve",
    "lane_table", "lanes_by_segment", "lane_label", "summary_sentence", "capacity_sentence",
    "cutoff_range", "cutoff_label", "first_at_or_after", "percent", "percent_cell", "LANE_TABLE_COLUMNS", "SEGMENT_LANE_COLUMNS",
    "TRADEOFF_COLUMNS", "DEFAULT_TARGET", "MIN_AUTOMATED", "ERROR_SLACK",
]

#: How rows are ordered from hard to easy, per mode (the display name says what the cut-off is on).
MODES = {
    "score": "score",
    "top_probability": "top-class probability",
    "margin": "margin between the top two classes",
    "uncertainty": "uncertainty",
    "error_size": "size of the error (needs the truth; for analysis only)",
}
#: +1: automatic when the value is at least the cut-off; -1: automatic when it is at most the cut-off.
_SIGN = {"score": 1, "top_probability": 1, "margin": 1, "uncertainty": -1, "error_size": -1}

#: Lane codes (index into LANE_NAMES). Binary files use the first three; the others AUTOMATIC and REVIEW.
LANE_NAMES = ("auto_negative", "review", "auto_positive", "automatic")
AUTO_NEGATIVE, REVIEW, AUTO_POSITIVE, AUTOMATIC = range(4)
METHODS = ("target", "capacity", "manual")
#: A pair of cut-offs meets a target when errors <= target * automated + this (floating-point slack, in cases).
ERROR_SLACK = 1e-7


# ---------------------------------------------------------------------------------------------
# assumptions
# ---------------------------------------------------------------------------------------------


def _real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class LanePolicy:
    """How the cut-offs were chosen: a target error rate, a reviewer capacity, or by hand.

    ``target_error``: the highest acceptable error rate among automated decisions.
    ``reviewers × cases_per_reviewer`` cases a day can be reviewed, out of ``cases_per_day``.

    >>> LanePolicy(method="capacity", reviewers=3, cases_per_reviewer=200, cases_per_day=20000).review_share_limit
    0.03
    """

    method: str = "target"
    target_error: float = 0.01
    reviewers: float = 3
    cases_per_reviewer: float = 200
    cases_per_day: float = 20_000

    def __post_init__(self) -> None:
        problems = []
        if self.method not in METHODS:
            problems.append(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if not (_real(self.target_error) and 0 < self.target_error < 1):
            problems.append(f"target error rate must be between 0 and 1 (got {self.target_error!r}); "
                            "write 1% as 0.01")
        if not (_real(self.reviewers) and self.reviewers >= 0):
            problems.append(f"reviewers must be 0 or more (got {self.reviewers!r})")
        if not (_real(self.cases_per_reviewer) and self.cases_per_reviewer >= 0):
            problems.append(f"cases per reviewer must be 0 or more (got {self.cases_per_reviewer!r})")
        if not (_real(self.cases_per_day) and self.cases_per_day > 0):
            problems.append(f"cases per day must be more than 0 (got {self.cases_per_day!r})")
        if problems:
            raise InputError("; ".join(problems), problems=problems)

    @property
    def capacity(self) -> float:
        """Cases the reviewers can look at per day."""
        return float(self.reviewers) * float(self.cases_per_reviewer)

    @property
    def review_share_limit(self) -> float:
        """The largest share of cases the review lane may hold (capacity / volume, at most 1)."""
        return min(1.0, self.capacity / float(self.cases_per_day))

    def __str__(self) -> str:
        if self.method == "target":
            return f"most automation with at most {100 * self.target_error:g}% errors among automated decisions"
        if self.method == "capacity":
            return (f"fewest errors with {self.reviewers:g} reviewers × {self.cases_per_reviewer:,.0f} cases a day, "
                    f"{self.cases_per_day:,.0f} cases a day")
        return "cut-offs set by hand"


@dataclass(frozen=True)
class Lanes:
    """The chosen lanes of a file (saved per file by the Difficulty page; read by Review and Impact).

    ``mode="score"`` (binary): auto-negative when ``score < low``, review when ``low <= score < high``,
    auto-positive when ``score >= high``. ``top_probability``/``margin``: automatic when the value is
    ``>= cutoff``. ``uncertainty``/``error_size``: automatic when the value is ``<= cutoff``.
    ``tolerance`` (regression): a miss larger than this counts as an error.

    >>> print(Lanes("score", low=0.05, high=0.8))
    automatic negative below 0.05; review from 0.05 to below 0.8; automatic positive from 0.8
    """

    mode: str
    low: float | None = None
    high: float | None = None
    cutoff: float | None = None
    tolerance: float | None = None
    policy: LanePolicy = field(default=LanePolicy(method="manual"))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"lanes mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.mode == "score":
            if self.low is None or self.high is None or not (math.isfinite(self.low) and math.isfinite(self.high)):
                raise InputError("binary lanes need two finite cut-offs, low and high")
            if self.low > self.high:
                raise InputError(f"lanes: the low cut-off ({self.low:g}) is above the high cut-off "
                                 f"({self.high:g}); swap them")
        elif self.cutoff is None or math.isnan(self.cutoff):
            raise InputError(f"lanes by {MODES[self.mode]} need one cut-off")
        if self.mode in ("uncertainty", "error_size") and not (self.tolerance is not None and self.tolerance > 0):
            raise InputError("regression lanes need a tolerance above 0: the size of a miss that counts as an error")

    @property
    def two_sided(self) -> bool:
        """True for binary lanes (auto-negative, review, auto-positive)."""
        return self.mode == "score"

    def __str__(self) -> str:
        if self.two_sided:
            return (f"automatic negative below {self.low:.4g}; review from {self.low:.4g} to below {self.high:.4g}; "
                    f"automatic positive from {self.high:.4g}")
        word = "at least" if _SIGN[self.mode] > 0 else "at most"
        text = f"automatic when the {MODES[self.mode]} is {word} {self.cutoff:.4g}; review otherwise"
        if self.tolerance is not None:
            text += f" (an error is a miss larger than {self.tolerance:g})"
        return text


# ---------------------------------------------------------------------------------------------
# per-row keys and the sorted cumulative structure
# ---------------------------------------------------------------------------------------------


def available_modes(dataset: Dataset) -> list[str]:
    """The lane modes this Dataset supports, best first (empty when it has no signal of difficulty).

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> available_modes(build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7]}), Roles(label="y", score="p")))
    ['score']
    """
    if dataset.task == "binary":
        return ["score"] if dataset.score is not None else []
    if dataset.task == "multiclass":
        return ["top_probability", "margin"] if dataset.proba is not None else []
    return (["uncertainty"] if dataset.roles.uncertainty else []) + ["error_size"]


def unavailable_reason(dataset: Dataset) -> str | None:
    """Why this Dataset has no difficulty lanes (None when it has some).

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> print(unavailable_reason(build_dataset(pd.DataFrame({"y": [0, 1], "c": [0, 1]}), Roles(label="y", prediction="c"))))
    difficulty lanes need a score: `c` holds only predicted classes; pick the model's score column in the sidebar
    """
    return None if available_modes(dataset) else _why_no_mode(dataset)


def _why_no_mode(dataset: Dataset) -> str:
    if dataset.task == "binary":
        return (f"difficulty lanes need a score: `{dataset.roles.prediction}` holds only predicted classes; "
                "pick the model's score column in the sidebar")
    return ("difficulty lanes for multiclass need one probability column per class; pick them under "
            "\"Columns and task\" in the sidebar")


def default_tolerance(dataset: Dataset) -> float | None:
    """Regression: the 90th percentile of |prediction − truth|, to two significant digits (else None).

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "yhat": [1.5, 2, 1, 4.25]})
    >>> default_tolerance(build_dataset(df, Roles(label="y", prediction="yhat", task="regression")))
    1.6
    """
    if dataset.task != "regression":
        return None
    q = float(np.quantile(np.abs(dataset.prediction - dataset.y), 0.9))
    if not q > 0:
        q = float(np.max(np.abs(dataset.prediction - dataset.y))) or 1.0
    return float(f"{q:.2g}")


#: Default target error rate among automated decisions, per task (regression: misses above the tolerance,
#: which is the 90th-percentile miss by default, so about 10% of all cases are errors).
DEFAULT_TARGET = {"binary": 0.01, "multiclass": 0.05, "regression": 0.08}
#: Fewer automated cases than this make the error rate's interval wide; the solver says so.
MIN_AUTOMATED = 30


def default_policy(dataset: Dataset) -> LanePolicy:
    """The policy the pages start from: the most automation at :data:`DEFAULT_TARGET` errors among automated."""
    return LanePolicy(method="target", target_error=DEFAULT_TARGET[dataset.task])


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
        from scipy.special import erf

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

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.4, 0.9]}), Roles(label="y", score="p"))
    >>> c = lane_curve(ds)
    >>> c.values.tolist(), c.cum_n.tolist(), c.cum_bad.tolist()
    ([0.1, 0.4, 0.9], [0, 1, 3, 4], [0, 0, 1, 2])
    """
    modes = available_modes(dataset)
    if not modes:
        raise InputError(_why_no_mode(dataset))
    mode = mode or modes[0]
    if mode not in modes:
        raise InputError(f"lanes by {mode!r} are not available for this {dataset.task} file; "
                         f"use one of {', '.join(modes)}")
    if dataset.task == "regression":
        tolerance = default_tolerance(dataset) if tolerance is None else float(tolerance)
        if not tolerance > 0:
            raise InputError(f"tolerance must be above 0 (got {tolerance:g}): the size of a miss that counts "
                             "as an error")
    else:
        tolerance = None
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

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.4, 0.9]}), Roles(label="y", score="p"))
    >>> g = segment_curve(lane_curve(ds), np.array([0, 1, 1, 0]), 2)
    >>> g.combo.tolist(), g.cum_n.tolist()
    ([0, 2, 4], [0, 1, 2, 4])
    """
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

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
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


def cutoff_label(mode: str, subject: str = "positive") -> str:
    """What the cut-off slider does, in words.

    >>> cutoff_label("uncertainty")
    'Automatic when the uncertainty is at most the cut-off; review otherwise'
    """
    if mode == "score":
        return (f"Review band: automatic “not {subject}” below the left handle, automatic “{subject}” from the "
                "right handle")
    word = "at least" if _SIGN[mode] > 0 else "at most"
    return f"Automatic when the {MODES[mode]} is {word} the cut-off; review otherwise"


def cutoff_range(curve: LaneCurve) -> tuple[float, float, float]:
    """``(min, max, step)`` for a cut-off slider covering every useful cut-off of this curve.

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
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


# ---------------------------------------------------------------------------------------------
# operating points and solvers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatingPoint:
    """What a pair of cut-offs does: automated cases, errors among them, cases left for review.

    Intervals are 95% Wilson intervals. ``feasible`` is False when no cut-offs meet the policy.
    """

    lanes: Lanes
    n: int
    automated: int
    errors: int
    review: int
    feasible: bool = True
    note: str = ""

    @property
    def automation_rate(self) -> float:
        return self.automated / self.n if self.n else float("nan")

    @property
    def review_rate(self) -> float:
        return self.review / self.n if self.n else float("nan")

    @property
    def error_rate(self) -> float:
        """Errors among automated decisions (NaN when nothing is automated)."""
        return self.errors / self.automated if self.automated else float("nan")

    @property
    def error_interval(self) -> tuple[float, float]:
        lo, hi = wilson_interval(self.errors, self.automated)
        return float(lo), float(hi)

    @property
    def automation_interval(self) -> tuple[float, float]:
        lo, hi = wilson_interval(self.automated, self.n)
        return float(lo), float(hi)

    def per_day(self, cases_per_day: float) -> dict:
        """Cases automated, sent to review and expected errors per day at ``cases_per_day`` cases a day.

        >>> OperatingPoint(Lanes("score", low=0.1, high=0.9), n=100, automated=80, errors=2, review=20).per_day(1000)
        {'automated': 800.0, 'review': 200.0, 'errors': 20.0}
        """
        if not self.n:
            return {"automated": float("nan"), "review": float("nan"), "errors": float("nan")}
        return {"automated": self.automated / self.n * cases_per_day, "review": self.review / self.n * cases_per_day,
                "errors": self.errors / self.n * cases_per_day}


def _totals(curve: LaneCurve, i_low: int, i_high: int) -> tuple[int, int, int]:
    """(automated, errors, review) of the ungrouped curve at value indices (i_low, i_high)."""
    cn, cb = curve.cum_n, curve.cum_bad
    n, pos = int(cn[-1]), int(cb[-1])
    if curve.two_sided:
        a_neg, fn = int(cn[i_low]), int(cb[i_low])
        a_pos = n - int(cn[i_high])
        fp = a_pos - (pos - int(cb[i_high]))
        return a_neg + a_pos, fn + fp, n - a_neg - a_pos
    auto = n - int(cn[i_high])
    return auto, pos - int(cb[i_high]), n - auto


def _point(curve: LaneCurve, i_low: int, i_high: int, policy: LanePolicy, *, feasible=True, note="") -> OperatingPoint:
    auto, err, rev = _totals(curve, i_low, i_high)
    return OperatingPoint(lanes=_lanes_from(curve, i_low, i_high, policy), n=curve.n, automated=auto, errors=err,
                          review=rev, feasible=feasible, note=note)


def evaluate_lanes(curve: LaneCurve, lanes: Lanes) -> OperatingPoint:
    """The operating point of given lanes (O(log n): two ``searchsorted`` calls).

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.5, 0.9]}), Roles(label="y", score="p"))
    >>> p = evaluate_lanes(lane_curve(ds), Lanes("score", low=0.45, high=0.9))
    >>> p.automated, p.errors, p.review
    (3, 0, 1)
    """
    i_low, i_high = _indices(curve, lanes)
    auto, err, rev = _totals(curve, i_low, i_high)
    return OperatingPoint(lanes=lanes, n=curve.n, automated=auto, errors=err, review=rev)


def first_at_or_after(values, start, limit, *, block: int = 64) -> np.ndarray:
    """For each query q, the smallest ``j >= start[q]`` with ``values[j] <= limit[q]`` (``len(values)`` if none).

    Vectorized over queries: block minima with a sparse table (binary descent over blocks), then one
    scan of ``block`` values per query inside its own block and inside the block found.

    >>> first_at_or_after([5, 3, 4, 1], [0, 2, 0, 3], [3, 2, 0, 0]).tolist()
    [1, 3, 4, 4]
    """
    v = np.asarray(values, dtype=float)
    start = np.asarray(start, dtype=np.int64)
    limit = np.asarray(limit, dtype=float)
    size = len(v)
    out = np.full(start.shape, size, dtype=np.int64)
    if size == 0 or start.size == 0:
        return out
    nb = -(-size // block)
    padded = np.full(nb * block, np.inf)
    padded[:size] = v
    grid = padded.reshape(nb, block)
    q = np.flatnonzero(start < size)
    b = start[q] // block
    hit = _first_in_blocks(grid, b, start[q] % block, limit[q])
    found = hit >= 0
    out[q[found]] = b[found] * block + hit[found]
    q, b = q[~found], b[~found] + 1
    if q.size == 0:
        return out
    # sparse table over block minima: levels[k][p] = min(bmin[p : p + 2**k])
    levels = [grid.min(axis=1)]
    while (1 << len(levels)) <= nb:
        prev, half = levels[-1], 1 << (len(levels) - 1)
        levels.append(np.minimum(prev[:-half], prev[half:]))
    lim = limit[q]
    pos = b.copy()
    for k in range(len(levels) - 1, -1, -1):
        table = levels[k]
        can = pos < len(table)
        jump = can & (table[np.where(can, pos, 0)] > lim)
        pos += jump.astype(np.int64) << k
    have = pos < nb
    hit = _first_in_blocks(grid, pos[have], np.zeros(int(have.sum()), dtype=np.int64), lim[have])
    out[q[have]] = pos[have] * block + hit
    return out


def _first_in_blocks(grid: np.ndarray, blocks: np.ndarray, offsets: np.ndarray, limits: np.ndarray,
                     chunk: int = 32_768) -> np.ndarray:
    """Per query, the first offset >= offsets[q] in row blocks[q] of grid with value <= limits[q] (else -1)."""
    width = grid.shape[1]
    cols = np.arange(width)
    out = np.full(blocks.shape, -1, dtype=np.int64)
    for s in range(0, len(blocks), chunk):
        sl = slice(s, s + chunk)
        mask = (grid[blocks[sl]] <= limits[sl, None]) & (cols[None, :] >= offsets[sl, None])
        first = mask.argmax(axis=1)
        out[sl] = np.where(mask.any(axis=1), first, -1)
    return out


def solve_for_target(curve: LaneCurve, target_error: float, *, policy: LanePolicy | None = None) -> OperatingPoint:
    """The cut-offs that automate the most cases with errors among automated ≤ ``target_error``.

    Exact over every distinct score: binary, for each low cut-off the nearest feasible high cut-off
    (:func:`first_at_or_after`), then the best pair; ties go to fewer errors.

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 0, 0, 1, 0, 1, 1], "p": [0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9]})
    >>> p = solve_for_target(lane_curve(build_dataset(df, Roles(label="y", score="p"))), 0.1)
    >>> p.lanes.low, p.lanes.high, p.automated, p.errors
    (0.4, 0.8, 5, 0)
    """
    policy = policy or LanePolicy(method="target", target_error=target_error)
    t = float(target_error)
    if not 0 < t < 1:
        raise InputError(f"target error rate must be between 0 and 1 (got {target_error!r}); write 1% as 0.01")
    cn, cb = curve.cum_n.astype(float), curve.cum_bad.astype(float)
    n, pos = cn[-1], cb[-1]
    idx = np.arange(len(cn))
    if curve.two_sided:
        a, fn = cn, cb
        b = n - cn
        fp = b - (pos - cb)
        j = first_at_or_after(fp - t * b, idx, t * a - fn + ERROR_SLACK)
        ok = j < len(cn)
        i_ok, j_ok = idx[ok], j[ok]
        auto = a[i_ok] + b[j_ok]
        err = fn[i_ok] + fp[j_ok]
        best = np.lexsort((err, -auto))[0]
        i_low, i_high = int(i_ok[best]), int(j_ok[best])
    else:
        cand = idx[curve.first_index:]
        auto = n - cn[cand]
        err = pos - cb[cand]
        ok = err <= t * auto + ERROR_SLACK
        i_low, i_high = 0, int(cand[ok][0]) if ok.any() else len(cn) - 1
    point = _point(curve, i_low, i_high, policy)
    if point.automated == 0:
        return _point(curve, i_low, i_high, policy,
                      note=f"no cut-offs keep errors among automated decisions at or below {100 * t:g}%: "
                           "every case goes to review")
    if point.automated < MIN_AUTOMATED:
        return _point(curve, i_low, i_high, policy,
                      note=f"only {point.automated} cases can be automated at {100 * t:g}% errors or fewer; the "
                           "error rate of so few cases is uncertain (see its interval): consider a higher target")
    return point


def solve_for_capacity(curve: LaneCurve, *, reviewers: float, cases_per_reviewer: float, cases_per_day: float,
                       policy: LanePolicy | None = None) -> OperatingPoint:
    """The cut-offs with the fewest errors among automated decisions that the reviewers can keep up with.

    The review lane may hold at most ``reviewers × cases_per_reviewer / cases_per_day`` of the cases
    (all of them if that is ≥ 1). Exact over every distinct score; ties go to more automation.

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 0, 0, 1, 0, 1, 1], "p": [0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9]})
    >>> c = lane_curve(build_dataset(df, Roles(label="y", score="p")))
    >>> p = solve_for_capacity(c, reviewers=1, cases_per_reviewer=2, cases_per_day=7)
    >>> p.review, p.errors, p.lanes.low, p.lanes.high
    (2, 0, 0.4, 0.8)
    """
    policy = policy or LanePolicy(method="capacity", reviewers=reviewers, cases_per_reviewer=cases_per_reviewer,
                                  cases_per_day=cases_per_day)
    share = policy.review_share_limit
    n = curve.n
    limit = int(math.floor(share * n + 1e-9))
    cn, cb = curve.cum_n, curve.cum_bad
    pos = int(cb[-1])
    idx = np.arange(len(cn))
    if curve.two_sided:
        a, fn = cn, cb
        b = n - cn
        fp = b - (pos - cb)
        j_max = np.searchsorted(cn, cn + limit, side="right") - 1  # review = cn[j] - cn[i] <= limit
        fp_best = fp[j_max]
        j = np.maximum(np.searchsorted(-fp, -fp_best, side="left"), idx)  # fewest reviews with those errors
        auto = a + b[j]
        err = fn + fp_best
        best = np.lexsort((-auto, err))[0]
        i_low, i_high = int(idx[best]), int(j[best])
        feasible = True
    else:
        first = curve.first_index
        i_max = int(np.searchsorted(cn, limit, side="right")) - 1
        feasible = i_max >= first
        if not feasible:
            i_high = first
        else:
            i_high = max(int(np.searchsorted(cb, cb[i_max], side="left")), first)
        i_low = 0
    note = "" if feasible else (f"the review capacity ({percent(share, 1)} of cases) is below the cases without an "
                                "uncertainty, which always go to review")
    return _point(curve, i_low, i_high, policy, feasible=feasible, note=note)


def choose_lanes(curve: LaneCurve, policy: LanePolicy) -> OperatingPoint:
    """Solve the policy: ``target`` → :func:`solve_for_target`; ``capacity`` → :func:`solve_for_capacity`."""
    if policy.method == "target":
        return solve_for_target(curve, policy.target_error, policy=policy)
    if policy.method == "capacity":
        return solve_for_capacity(curve, reviewers=policy.reviewers, cases_per_reviewer=policy.cases_per_reviewer,
                                  cases_per_day=policy.cases_per_day, policy=policy)
    raise InputError("cut-offs set by hand are not solved; pass them as Lanes to evaluate_lanes")


# ---------------------------------------------------------------------------------------------
# the trade-off curve (risk–coverage frontier)
# ---------------------------------------------------------------------------------------------

TRADEOFF_COLUMNS = ["automation_rate", "automated", "review", "errors", "error_rate", "error_low", "error_high",
                    "low", "high"]


def _pareto(auto: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Indices of points no other point beats on both automation (more) and error rate (lower)."""
    keep = np.flatnonzero(auto > 0)
    if keep.size == 0:
        return keep
    order = keep[np.lexsort((err[keep], -auto[keep]))]
    rate = err[order] / auto[order]
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(rate)[:-1]])
    return order[rate < best_before]


def _candidates(curve: LaneCurve, max_candidates: int) -> tuple[np.ndarray, bool]:
    size = len(curve.cum_n)  # indices 0..K
    first = curve.first_index
    if size - first <= max_candidates:
        return np.arange(first, size), True
    targets = np.linspace(curve.cum_n[first], curve.n, max_candidates)
    cand = np.unique(np.concatenate([[first, size - 1], np.searchsorted(curve.cum_n, targets, side="left")]))
    return cand[cand >= first], False


def tradeoff_curve(curve: LaneCurve, *, max_candidates: int = 2000, chunk: int = 256) -> pd.DataFrame:
    """The efficient frontier: for each automation rate, the lowest error rate among automated decisions.

    Binary: every pair of candidate cut-offs (low ≤ high) is scored from the cumulative counts in
    vectorized blocks and only the points no other pair beats are kept. Candidates are every distinct
    score when there are at most ``max_candidates`` (then the frontier is exact), otherwise that many
    score quantiles (each step moves about 1/max_candidates of the rows; ``attrs["exact"]`` says which).
    One cut-off (multiclass, regression): every distinct value, exact.

    Returns ``automation_rate, automated, review, errors, error_rate, error_low, error_high, low, high``
    sorted by automation (``low`` is NaN for one cut-off; ``high`` is then the cut-off).

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.3, 0.9]})
    >>> tradeoff_curve(lane_curve(build_dataset(df, Roles(label="y", score="p"))))[["automated", "errors"]].values.tolist()
    [[2, 0], [4, 1]]
    """
    if curve.two_sided:
        cand, exact = _candidates(curve, max_candidates)
    else:
        cand, exact = np.arange(curve.first_index, len(curve.cum_n)), True
    cn, cb = curve.cum_n, curve.cum_bad
    n, pos = int(cn[-1]), int(cb[-1])
    if curve.two_sided:
        a, fn = cn[cand], cb[cand]
        b = n - cn[cand]
        fp = b - (pos - cb[cand])
        parts_a, parts_e, parts_i, parts_j = [], [], [], []
        for s in range(0, len(cand), chunk):
            rows = np.arange(s, min(s + chunk, len(cand)))
            ii, jj = np.nonzero(cand[None, :] >= cand[rows, None])
            ii = rows[ii]
            auto = a[ii] + b[jj]
            err = fn[ii] + fp[jj]
            keep = _pareto(auto, err)
            parts_a.append(auto[keep])
            parts_e.append(err[keep])
            parts_i.append(ii[keep])
            parts_j.append(jj[keep])
        auto, err = np.concatenate(parts_a), np.concatenate(parts_e)
        ii, jj = np.concatenate(parts_i), np.concatenate(parts_j)
        keep = _pareto(auto, err)
        auto, err, i_low, i_high = auto[keep], err[keep], cand[ii[keep]], cand[jj[keep]]
    else:
        auto = n - cn[cand]
        err = pos - cb[cand]
        keep = _pareto(auto, err)
        auto, err, i_high = auto[keep], err[keep], cand[keep]
        i_low = None
    order = np.argsort(auto, kind="stable")
    auto, err, i_high = auto[order], err[order], i_high[order]
    low_cut = np.full(len(auto), np.nan) if i_low is None else _cuts(curve, i_low[order])
    lo, hi = wilson_interval(err, auto)
    out = pd.DataFrame({"automation_rate": auto / n if n else auto * 0.0, "automated": auto.astype(np.int64),
                        "review": (n - auto).astype(np.int64), "errors": err.astype(np.int64),
                        "error_rate": err / auto, "error_low": lo, "error_high": hi, "low": low_cut,
                        "high": _cuts(curve, i_high)}, columns=TRADEOFF_COLUMNS)
    out.attrs.update(exact=exact, candidates=int(len(cand)))
    return out


def _cuts(curve: LaneCurve, idx: np.ndarray) -> np.ndarray:
    idx = np.asarray(idx, dtype=np.int64)
    k = len(curve.values)
    top = float(np.nextafter(curve.values[-1], np.inf)) if k else 0.0
    v = np.where(idx < k, curve.values[np.minimum(idx, max(k - 1, 0))] if k else 0.0, top)
    return _SIGN[curve.mode] * v


# ---------------------------------------------------------------------------------------------
# tables: per lane and per segment
# ---------------------------------------------------------------------------------------------

LANE_TABLE_COLUMNS = ["lane", "n", "share", "errors", "error_rate", "error_low", "error_high", "errors_per_1000",
                      "expected_rate", "observed_rate", "observed_low", "observed_high", "calibration_of", "note"]


def lane_label(lane: str, subject: str = "positive") -> str:
    """People's name of a lane: ``auto_positive`` -> ``automatic: fraud``.

    >>> lane_label("auto_negative", "fraud"), lane_label("review")
    ('automatic: not fraud', 'review')
    """
    return {"auto_negative": f"automatic: not {subject}", "auto_positive": f"automatic: {subject}",
            "review": "review", "automatic": "automatic"}.get(lane, lane)


def _lane_stats(curve: LaneCurve, i_low: int, i_high: int, threshold_index: int | None):
    """Per group: dict lane -> (n, errors, bad, expected sum) plus the review lane's model errors."""
    k = len(curve.values)
    n0, b0, e0 = _below(curve, i_low)
    n1, b1, e1 = _below(curve, i_high)
    nk, bk, ek = _below(curve, k)

    def exp(a, b):
        return None if a is None else a - (0 if b is None else b)

    stats = {}
    if curve.two_sided:
        stats["auto_negative"] = (n0, b0, b0, e0)
        rn, rb = n1 - n0, b1 - b0
        if threshold_index is None:
            rev_err = np.full(rn.shape, np.nan)
        else:
            t = min(max(threshold_index, i_low), i_high)
            nt, bt, _ = _below(curve, t)
            rev_err = (bt - b0) + ((n1 - nt) - (b1 - bt))  # FN below the threshold + FP at/above it
        stats["review"] = (rn, rev_err, rb, exp(e1, e0))
        pn, pb = nk - n1, bk - b1
        stats["auto_positive"] = (pn, pn - pb, pb, exp(ek, e1))
    else:
        stats["review"] = (n1, b1, b1, e1)
        stats["automatic"] = (nk - n1, bk - b1, bk - b1, exp(ek, e1))
    return stats


def lane_table(curve: LaneCurve, lanes: Lanes, *, threshold: float | None = None, subject: str = "positive"
               ) -> pd.DataFrame:
    """Per lane: rows, share, errors with a Wilson interval, errors per 1,000 cases, and calibration.

    Rows: each lane, then ``automated decisions`` and ``all cases, after review`` (review assumed correct).
    Review lane errors are the model's own mistakes there (binary: at ``threshold``), which review removes.
    Calibration: ``expected_rate`` is what the model's scores say, ``observed_rate`` what happened:
    binary — mean score vs positive rate; multiclass — mean probability of the chosen class vs accuracy;
    regression by uncertainty — the normal-model chance of a miss within the tolerance vs the share within it.
    """
    i_low, i_high = _indices(curve, lanes)
    t_idx = None if (threshold is None or not curve.two_sided) else _index(curve, threshold)
    stats = {k: tuple(None if v is None else float(np.asarray(v)[0]) for v in t)
             for k, t in _lane_stats(curve, i_low, i_high, t_idx).items()}
    auto = [stats[x] for x in stats if x != "review"]
    exp_auto = None if auto[0][3] is None else sum(p[3] for p in auto)
    stats["automated"] = (sum(p[0] for p in auto), sum(p[1] for p in auto), sum(p[2] for p in auto), exp_auto)
    rev = stats["review"]
    stats["all"] = (stats["automated"][0] + rev[0], stats["automated"][1], stats["automated"][2] + rev[2],
                    None if exp_auto is None else exp_auto + rev[3])
    names = list(stats)
    ln, err, bad = (np.array([stats[x][i] for x in names], dtype=float) for i in range(3))
    expected = np.array([np.nan if stats[x][3] is None else stats[x][3] for x in names])
    observed = bad if curve.two_sided else ln - bad
    elo, ehi = wilson_interval(err, ln)
    olo, ohi = wilson_interval(observed, ln)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(ln > 0, err / ln, np.nan)
        obs_rate = np.where(ln > 0, observed / ln, np.nan)
        exp_rate = np.where(ln > 0, expected / ln, np.nan)
    if curve.two_sided:
        cal = "positive rate"
    elif curve.mode in ("top_probability", "margin"):
        cal = "accuracy"
    elif curve.mode == "uncertainty":
        cal = f"share within ±{curve.tolerance:g}"
    else:
        cal = "—"
    notes = []
    for name in names:
        note = ""
        if name == "review":
            note = ("decided by people, assumed correct after review; errors shown are the model's own"
                    + (f" at threshold {threshold:g}" if curve.two_sided and threshold is not None else ""))
        elif name == "all":
            note = "errors left after review: the automated decisions' errors only"
        if curve.two_sided and not curve.probabilities:
            note = (note + "; " if note else "") + "scores are not probabilities: no calibration"
        notes.append(note)
    labels = [{"automated": "automated decisions", "all": "all cases, after review"}.get(x, lane_label(x, subject))
              for x in names]
    n = curve.n
    return pd.DataFrame({"lane": labels, "n": ln.astype(np.int64), "share": ln / n if n else ln * np.nan,
                         "errors": err, "error_rate": rate, "error_low": elo, "error_high": ehi,
                         "errors_per_1000": 1000 * rate, "expected_rate": exp_rate, "observed_rate": obs_rate,
                         "observed_low": olo, "observed_high": ohi, "calibration_of": cal, "note": notes},
                        columns=LANE_TABLE_COLUMNS)


SEGMENT_LANE_COLUMNS = ["segment", "n", "share_of_rows", "auto_negative", "review", "auto_positive", "automatic",
                        "review_share", "review_low", "review_high", "automated", "automated_errors",
                        "automated_error_rate", "error_low", "error_high", "share_of_automated_errors"]


def lanes_by_segment(grouped: LaneCurve, lanes: Lanes, labels) -> pd.DataFrame:
    """Per segment: rows in each lane, share sent to review, and where the automated errors land.

    ``grouped`` comes from :func:`segment_curve` (built once per column); this call is O(groups · log n).
    Sorted by share sent to review, largest first.

    >>> from mlimpact.dataset import build_dataset
    >>> from mlimpact.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.5, 0.9]}), Roles(label="y", score="p"))
    >>> g = segment_curve(lane_curve(ds), np.array([0, 0, 1, 1]), 2)
    >>> lanes_by_segment(g, Lanes("score", low=0.3, high=0.6), ["a", "b"])[["segment", "review"]].values.tolist()
    [['a', 1], ['b', 1]]
    """
    labels = [str(x) for x in labels]
    if len(labels) != grouped.n_groups:
        raise InputError(f"{len(labels)} segment labels for {grouped.n_groups} groups")
    i_low, i_high = _indices(grouped, lanes)
    stats = _lane_stats(grouped, i_low, i_high, None)
    g = grouped.n_groups
    zeros = np.zeros(g, dtype=np.int64)
    count = {name: np.asarray(stats[name][0], dtype=np.int64) if name in stats else zeros for name in
             ("auto_negative", "review", "auto_positive", "automatic")}
    total = sum(count.values())
    automated = total - count["review"]
    auto_err = sum(np.asarray(stats[x][1], dtype=np.int64) for x in stats if x != "review")
    rlo, rhi = wilson_interval(count["review"], total)
    elo, ehi = wilson_interval(auto_err, automated)
    all_err = auto_err.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "segment": labels, "n": total, "share_of_rows": total / max(total.sum(), 1),
            **count, "review_share": count["review"] / total, "review_low": rlo, "review_high": rhi,
            "automated": automated, "automated_errors": auto_err, "automated_error_rate": auto_err / automated,
            "error_low": elo, "error_high": ehi,
            "share_of_automated_errors": auto_err / all_err if all_err else np.zeros(g)},
            columns=SEGMENT_LANE_COLUMNS)
    out = out[out["n"] > 0]
    return out.sort_values(["review_share", "n"], ascending=[False, False], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# plain language
# ---------------------------------------------------------------------------------------------


def percent(x: float, digits: int = 0) -> str:
    """Percent for sentences: whole percents in the middle, more digits near 0% and 100%.

    >>> percent(0.78), percent(0.009, 1), percent(0.0004, 1), percent(0.99983), percent(0.0)
    ('78%', '0.9%', '0.04%', '99.98%', '0%')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    v = 100 * x
    while digits < 3 and 0 < v < 100 and float(f"{v:.{digits}f}") in (0.0, 100.0):
        digits += 1
    if digits == 0 and (0 < v < 1 or 99 < v < 100):
        digits = 1
    return f"{v:.{digits}f}%"


def percent_cell(value: float, low: float, high: float, digits: int = 1) -> str:
    """A rate with its interval, with enough digits that the bounds differ: ``1.00% (0.96–1.04%)``.

    >>> percent_cell(0.009, 0.007, 0.011), percent_cell(0.01, 0.0096, 0.0104)
    ('0.9% (0.7–1.1%)', '1.00% (0.96–1.04%)')
    """
    while digits < 3 and percent(low, digits) == percent(high, digits) and low != high:
        digits += 1
    a, b = percent(low, digits), percent(high, digits)
    return f"{percent(value, digits)} ({a[:-1]}–{b})"


def summary_sentence(point: OperatingPoint, *, cases_per_day: float | None = None, cases: str = "cases") -> str:
    """The chosen point in one sentence, with 95% intervals.

    >>> lanes = Lanes("score", low=0.1, high=0.9)
    >>> p = OperatingPoint(lanes=lanes, n=10_000, automated=7_800, errors=70, review=2_200)
    >>> summary_sentence(p, cases_per_day=20_000)
    'Automating 78% of cases keeps errors among automated decisions at 0.9% (0.7–1.1%); 22%, about 4,400 a day, go to review.'
    """
    if point.automated == 0:
        return f"Nothing is automated: every one of the {point.n:,} {cases} goes to review."
    err = percent_cell(point.error_rate, *point.error_interval)
    head = f"Automating {percent(point.automation_rate)} of {cases} keeps errors among automated decisions at {err}"
    if point.review == 0:
        return head + "; nothing goes to review."
    per_day = ""
    if cases_per_day:
        per_day = f", about {_round_count(point.review_rate * cases_per_day)} a day,"
    return f"{head}; {percent(point.review_rate)}{per_day} go to review."


def _round_count(x: float) -> str:
    if x >= 1000:
        return f"{round(x, -2):,.0f}"
    if x >= 100:
        return f"{round(x, -1):,.0f}"
    return f"{x:,.0f}"


def capacity_sentence(point: OperatingPoint, policy: LanePolicy) -> str:
    """Whether the reviewers can keep up with the review lane at ``policy.cases_per_day``.

    >>> p = OperatingPoint(lanes=Lanes("score", low=0.1, high=0.9), n=10_000, automated=7_800, errors=70, review=2_200)
    >>> capacity_sentence(p, LanePolicy(reviewers=3, cases_per_reviewer=200, cases_per_day=20_000))
    'The review lane needs about 4,400 reviews a day; 3 reviewers × 200 = 600 a day can do 14% of them (7.3 times capacity).'
    """
    need = point.review_rate * policy.cases_per_day
    cap = policy.capacity
    head = (f"The review lane needs about {_round_count(need)} reviews a day; {policy.reviewers:g} reviewers × "
            f"{policy.cases_per_reviewer:,.0f} = {cap:,.0f} a day")
    if need <= cap + 1e-9:
        return head + " can do all of them."
    if cap <= 0:
        return head + " cannot do any of them."
    return head + f" can do {percent(cap / need)} of them ({need / cap:.1f} times capacity)."
