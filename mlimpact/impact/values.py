"""Per-row money and exact values: what every decision is worth, at every threshold, from one sort.

Each row's money if flagged, kept or reviewed (:class:`Gains`) comes from the cost model; the value
at every distinct threshold is one cumulative sum over the sorted scores (:func:`value_curve`), so
the best threshold and the best review band are exact, never a grid search.
Re-exported by :mod:`mlimpact.impact`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.impact.costs import CostModel, _demo_dataset  # noqa: F401 (_demo_dataset: the doctests' file)
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD, decide

__all__ = ["score_bins", "curve_counts", "cut_threshold", "lane_decisions", "exact_curve", "gains_from_terms", "money_of", "threshold_values", "require_binary", "Gains", "row_gains", "lanes_from", "net_value", "value_curve", "thin_value_curve", "best_threshold",
           "best_lanes"]


@dataclass(frozen=True, eq=False)
class Gains:
    """Per-row money under each decision: ``flag``, ``keep`` (not flagged) and ``review``."""

    y: np.ndarray
    score: np.ndarray
    flag: np.ndarray
    keep: np.ndarray
    review: np.ndarray
    terms: dict
    bins: tuple | None = None  # (distinct scores, each row's index into them): the sort, kept with its Dataset
    #: units instead of rows (an engine's groups of rows with one score, label and decision pattern): rows per
    #: unit; ``flag``/``keep``/``review``/``terms`` are then sums over the unit's rows
    weight: np.ndarray | None = None
    #: units: Σ max(flag, keep) per unit (perfect decisions are a per-row maximum, not a sum's)
    perfect_sum: np.ndarray | None = None

    @property
    def perfect(self) -> np.ndarray:
        """Money per row (per unit: summed) if every row were decided right (no review needed)."""
        return np.maximum(self.flag, self.keep) if self.weight is None else self.perfect_sum

    @property
    def n_rows(self) -> int:
        """Rows in all (units: their weights)."""
        return len(self.y) if self.weight is None else int(self.weight.sum())

    def rows_where(self, mask: np.ndarray) -> int:
        """Rows where ``mask`` holds (units: their weights)."""
        mask = np.asarray(mask, dtype=bool)
        return int(mask.sum()) if self.weight is None else int(self.weight[mask].sum())


def require_binary(dataset: Dataset) -> None:
    if dataset.task != "binary":
        raise InputError(f"business value needs a binary decision; this file's task is {dataset.task}. Choose "
                         "the binary task (or one class against the rest) and a positive class")
    if dataset.score is None:
        raise InputError("business value over thresholds needs a score column; pick the model's score column")


def gains_from_terms(y: np.ndarray, score: np.ndarray, terms: dict, bins: tuple | None = None, *,
                     weight: np.ndarray | None = None, perfect_sum: np.ndarray | None = None) -> Gains:
    """Money per row (or, with ``weight``, per unit: ``terms`` then hold each unit's sums) under each decision."""
    pos = np.asarray(y).astype(bool)
    flag = np.where(pos, terms["value_tp"], -terms["cost_fp"])
    keep = np.where(pos, -terms["cost_fn"], terms["value_tn"])
    review = np.where(pos, terms["value_tp"], terms["value_tn"]) - terms["cost_review"]
    return Gains(y=pos, score=np.asarray(score, dtype=float), flag=flag, keep=keep, review=review, terms=terms,
                 bins=bins, weight=weight, perfect_sum=perfect_sum)


def score_bins(dataset: Dataset, column: str | None = None, score: np.ndarray | None = None) -> tuple:
    """``np.unique(score, return_inverse=True)`` of the model's score (or of another model's ``score``, filled
    as the caller needs, under its ``column``), sorted once per Dataset: the costs change, the order does not.

    >>> ds = _demo_dataset()
    >>> cuts, inverse = score_bins(ds)
    >>> cuts.tolist(), score_bins(ds)[1] is inverse
    ([0.1, 0.4, 0.6, 0.8], True)
    """
    key = ("score_bins", column)
    if (column is None) != (score is None):
        raise ValueError("score_bins: give another model's score with its column, or neither")
    if key not in dataset._codes:
        values = dataset.score if column is None else score
        dataset._codes[key] = np.unique(np.asarray(values, dtype=float), return_inverse=True)
    return dataset._codes[key]


def row_gains(dataset: Dataset, costs: CostModel, *, score: np.ndarray | None = None) -> Gains:
    """Money per row if flagged, kept or reviewed (validates the cost columns).

    >>> ds = _demo_dataset()
    >>> g = row_gains(ds, CostModel(value_tp=10, cost_fp=1, cost_fn=4))
    >>> g.flag.tolist(), g.keep.tolist()
    ([-1.0, 10.0, 10.0, -1.0], [0.0, -4.0, -4.0, 0.0])
    """
    require_binary(dataset)
    if score is None:
        return gains_from_terms(dataset.y, dataset.score, costs.arrays(dataset.frame), bins=score_bins(dataset))
    return gains_from_terms(dataset.y, score, costs.arrays(dataset.frame))


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.integer | np.floating) \
            or not math.isfinite(float(threshold)):
        raise InputError(f"threshold must be a finite number, not {threshold!r}")
    return float(threshold)


def _check_lanes(lanes) -> tuple[float, float] | None:
    if lanes is None:
        return None
    try:
        low, high = (float(v) for v in lanes)
    except (TypeError, ValueError):
        raise InputError(f"lanes must be two numbers (low, high), not {lanes!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise InputError(f"lanes ({low:g}, {high:g}): give two finite cut-offs with low ≤ high")
    return low, high


def lanes_from(obj) -> tuple[float, float] | None:
    """The two score cut-offs of difficulty lanes from a pair or a lanes object; None if absent.

    Accepts ``(low, high)`` or an object with two cut-off attributes (``low``/``high``,
    ``lower``/``upper``, ...); anything else is ignored (returns None).

    >>> lanes_from((0.2, 0.8)), lanes_from(None), lanes_from("x")
    ((0.2, 0.8), None, None)
    """
    if obj is None:
        return None
    pairs = [("low", "high"), ("lower", "upper"), ("low_cut", "high_cut"), ("low_cutoff", "high_cutoff"),
             ("review_low", "review_high"), ("auto_negative_below", "auto_positive_at"),
             ("negative_below", "positive_at"), ("lower_threshold", "upper_threshold"), ("t_low", "t_high")]
    candidates = []
    if isinstance(obj, tuple | list) and len(obj) == 2:
        candidates.append(tuple(obj))
    for a, b in pairs:
        if hasattr(obj, a) and hasattr(obj, b):
            candidates.append((getattr(obj, a), getattr(obj, b)))
    cut = getattr(obj, "cutoffs", None) or getattr(obj, "thresholds", None)
    if isinstance(cut, tuple | list) and len(cut) == 2:
        candidates.append(tuple(cut))
    for low, high in candidates:
        try:
            lo, hi = float(low), float(high)
        except (TypeError, ValueError):
            continue
        if math.isfinite(lo) and math.isfinite(hi) and lo <= hi:
            return lo, hi
    return None


def lane_decisions(score: np.ndarray, threshold: float, lanes: tuple[float, float] | None = None) -> np.ndarray:
    """0 keep, 1 flag, 2 review."""
    if lanes is None:
        return decide(score, threshold)
    low, high = lanes
    return np.where(score >= high, 1, np.where(score >= low, 2, 0)).astype(np.int8)


def money_of(g: Gains, d: np.ndarray) -> np.ndarray:
    return np.where(d == 1, g.flag, np.where(d == 2, g.review, g.keep))


def _counts(g: Gains, d: np.ndarray) -> dict:
    y, rows = g.y, g.rows_where
    return {"flagged": rows(d == 1), "reviewed": rows(d == 2), "tp": rows((d == 1) & y), "fp": rows((d == 1) & ~y),
            "fn": rows((d == 0) & y), "tn": rows((d == 0) & ~y)}


def net_value(dataset: Dataset, costs: CostModel, *, threshold: float = DEFAULT_THRESHOLD, lanes=None) -> dict:
    """Net value of the decisions at ``threshold`` (or with review ``lanes``), with the outcome counts.

    >>> ds = _demo_dataset()
    >>> net_value(ds, CostModel(value_tp=10, cost_fp=1, cost_fn=4), threshold=0.5)
    {'flagged': 2, 'reviewed': 0, 'tp': 1, 'fp': 1, 'fn': 1, 'tn': 1, 'value': 5.0}
    """
    g = row_gains(dataset, costs)
    d = lane_decisions(g.score, _check_threshold(threshold), _check_lanes(lanes))
    return {**_counts(g, d), "value": float(money_of(g, d).sum())}


# ---- values at every cut: bins of scores, prefix sums ----------------------------------------


def threshold_values(keep_b: np.ndarray, flag_b: np.ndarray) -> np.ndarray:
    """Value at every cut index j = 0..K+1 from per-bin sums (..., K+1) (bin i ≥ j is flagged)."""
    zero = np.zeros(keep_b.shape[:-1] + (1,))
    pk = np.concatenate([zero, np.cumsum(keep_b, axis=-1)], axis=-1)  # sum of bins < j
    pf = np.concatenate([zero, np.cumsum(flag_b, axis=-1)], axis=-1)
    return pk + (pf[..., -1:] - pf)


def _lanes_values(keep_b, flag_b, rev_b):
    """Best review band over all cut pairs a ≤ b: returns (value, a, b), vectorized over leading axes.

    value(a, b) = Σ keep(bins < a) + Σ review(a ≤ bins < b) + Σ flag(bins ≥ b)
                = [PK(a) − PR(a)] + [PR(b) + TF − PF(b)]; the best a for each b is a running maximum.
    """
    zero = np.zeros(keep_b.shape[:-1] + (1,))
    pk = np.concatenate([zero, np.cumsum(keep_b, axis=-1)], axis=-1)
    pf = np.concatenate([zero, np.cumsum(flag_b, axis=-1)], axis=-1)
    pr = np.concatenate([zero, np.cumsum(rev_b, axis=-1)], axis=-1)
    f = pk - pr
    gb = pr + pf[..., -1:] - pf
    run = np.maximum.accumulate(f, axis=-1)
    total = gb + run
    b = total.shape[-1] - 1 - np.argmax(total[..., ::-1], axis=-1)  # most flags-averse among ties
    value = np.take_along_axis(total, b[..., None], axis=-1)[..., 0]
    return value, b


def _best_a(f_values: np.ndarray, b: int) -> int:
    """The last index ≤ b where f reaches its running maximum (widest automatic-negative lane)."""
    seg = f_values[: b + 1]
    return int(b - np.argmax(seg[::-1]))


@dataclass(frozen=True, eq=False)
class _Exact:
    """Per distinct score: bins (0 = below the lowest score, empty), sums and counts."""

    cuts: np.ndarray  # ascending distinct scores (K)
    keep: np.ndarray  # (K+1,)
    flag: np.ndarray
    review: np.ndarray
    pos: np.ndarray
    rows: np.ndarray


def exact_curve(g: Gains, counts: tuple | None = None) -> _Exact:
    """Sums per distinct score; ``counts``: its positives and rows (:func:`curve_counts`), kept: they never change."""
    cuts, inverse = g.bins if g.bins is not None else np.unique(g.score, return_inverse=True)
    bins = inverse + 1
    k1 = len(cuts) + 1

    def s(w):
        return np.bincount(bins, weights=w, minlength=k1)

    pos, rows = _counts_per_bin(g, bins, k1) if counts is None else counts
    return _Exact(cuts, s(g.keep), s(g.flag), s(g.review), pos, rows)


def curve_counts(g: Gains) -> tuple[np.ndarray, np.ndarray]:
    """Positives and rows per bin of :func:`exact_curve` (no money in them)."""
    cuts, inverse = g.bins if g.bins is not None else np.unique(g.score, return_inverse=True)
    return _counts_per_bin(g, inverse + 1, len(cuts) + 1)


def _counts_per_bin(g: Gains, bins: np.ndarray, k1: int) -> tuple[np.ndarray, np.ndarray]:
    w = g.weight
    return (np.bincount(bins, weights=g.y.astype(float) if w is None else g.y * w, minlength=k1),
            np.bincount(bins, weights=w, minlength=k1).astype(float))


def cut_threshold(cuts: np.ndarray, j: int) -> float:
    """The threshold of cut index j (1..K: cuts[j-1]; 0: flag all; K+1: above every score)."""
    if j <= 0:
        return float(cuts[0]) if len(cuts) else 0.0
    if j > len(cuts):
        return float(np.nextafter(cuts[-1], np.inf)) if len(cuts) else 0.0
    return float(cuts[j - 1])


def value_curve(dataset: Dataset, costs: CostModel, *, score: np.ndarray | None = None) -> pd.DataFrame:
    """Net value at every distinct threshold (flag when score ≥ threshold), from one sort.

    Returns columns ``threshold, flagged, flag_rate, tp, fp, fn, tn, value, value_vs_flag_none``,
    thresholds ascending; the last row (threshold just above the highest score) flags nothing.

    >>> ds = _demo_dataset()
    >>> value_curve(ds, CostModel(value_tp=10, cost_fp=1, cost_fn=4))[["threshold", "value"]].values.tolist()
    [[0.1, 18.0], [0.4, 19.0], [0.6, 5.0], [0.8, 6.0], [0.8000000000000002, -8.0]]
    """
    g = row_gains(dataset, costs, score=score)
    return _curve_frame(exact_curve(g))


def _curve_frame(ex: _Exact) -> pd.DataFrame:
    vals = threshold_values(ex.keep, ex.flag)[1:]  # j = 1..K+1
    k = len(ex.cuts)
    rows_ge = np.concatenate([np.cumsum(ex.rows[::-1])[::-1], [0.0]])[1:]  # rows with bin >= j, j=1..K+1
    pos_ge = np.concatenate([np.cumsum(ex.pos[::-1])[::-1], [0.0]])[1:]
    n, npos = ex.rows.sum(), ex.pos.sum()
    thr = np.append(ex.cuts, cut_threshold(ex.cuts, k + 1))
    tp, fp = pos_ge, rows_ge - pos_ge
    return pd.DataFrame({"threshold": thr, "flagged": rows_ge.astype(np.int64),
                         "flag_rate": rows_ge / n if n else np.nan, "tp": tp.astype(np.int64),
                         "fp": fp.astype(np.int64), "fn": (npos - tp).astype(np.int64),
                         "tn": (n - npos - fp).astype(np.int64), "value": vals, "value_vs_flag_none": vals - vals[-1]})


def thin_value_curve(curve: pd.DataFrame, *, keep=(), max_points: int = 400) -> pd.DataFrame:
    """At most about ``max_points`` rows of a value curve, evenly spread over the thresholds' range,
    always keeping the ends, the best row and the rows at the thresholds in ``keep``.

    >>> c = pd.DataFrame({"threshold": np.linspace(0, 1, 1001), "value": np.arange(1001.0)})
    >>> len(thin_value_curve(c, max_points=11)) <= 13
    True
    """
    if len(curve) <= max_points:
        return curve.reset_index(drop=True)
    t = curve["threshold"].to_numpy(dtype=float)
    finite = np.isfinite(t)
    lo, hi = t[finite].min(), t[finite].max()
    idx = np.searchsorted(t, np.linspace(lo, hi, max_points), side="left")
    idx = np.concatenate([idx, [0, len(t) - 1, int(np.argmax(curve["value"].to_numpy()))],
                          np.searchsorted(t, np.asarray(list(keep), dtype=float), side="left")])
    idx = np.unique(np.clip(idx, 0, len(t) - 1))
    return curve.iloc[idx].reset_index(drop=True)


def best_threshold(curve: pd.DataFrame) -> tuple[float, float]:
    """``(threshold, value)`` maximising value on a :func:`value_curve` (ties: the one flagging fewer).

    >>> best_threshold(pd.DataFrame({"threshold": [0.1, 0.5, 0.9], "value": [3.0, 5.0, 5.0]}))
    (0.9, 5.0)
    """
    v = curve["value"].to_numpy()
    i = len(v) - 1 - int(np.argmax(v[::-1]))
    return float(curve["threshold"].iloc[i]), float(v[i])


def best_lanes(dataset: Dataset, costs: CostModel) -> tuple[float, float, float]:
    """The review band ``(low, high, value)`` with the highest net value (exact, over all cut pairs).

    Rows scoring below ``low`` are left alone, from ``low`` to below ``high`` reviewed, at or above
    ``high`` flagged. With no review cost, reviewing everything is best.

    >>> ds = _demo_dataset()
    >>> best_lanes(ds, CostModel(value_tp=10, cost_fp=6, cost_fn=4, cost_review=1))
    (0.4, 0.8, 18.0)
    """
    ex = exact_curve(row_gains(dataset, costs))
    return _best_lanes_exact(ex)


def _best_lanes_exact(ex: _Exact) -> tuple[float, float, float]:
    value, b = _lanes_values(ex.keep, ex.flag, ex.review)
    zero = np.zeros(1)
    f = np.concatenate([zero, np.cumsum(ex.keep)]) - np.concatenate([zero, np.cumsum(ex.review)])
    a = _best_a(f, int(b))
    return cut_threshold(ex.cuts, a), cut_threshold(ex.cuts, int(b)), float(value)
