"""Per-group sufficient statistics, computed in vectorized passes over integer group codes.

Every function here takes plain arrays plus ``codes`` (int array with values ``0..n_groups-1``, or
``None`` for one overall group) and returns small per-group tables. There is no Python loop over rows
or groups: counts are ``bincount`` over ``codes * cells + cell``, rank statistics come from one global
sort of the score plus a stable sort of the codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlimpact.engine.runs import RankStats, rank_stats_from_sums, run_sums

__all__ = ["rank_statistics_from_order",
    "kept_per_kind",
    "ScoreOrder",
    "RankStats",
    "as_codes",
    "score_order",
    "binary_counts",
    "rank_statistics",
    "group_sums",
    "multiclass_confusion",
    "row_loss",
]


def as_codes(codes, n_rows: int, n_groups: int | None) -> tuple[np.ndarray, int]:
    """Return ``(codes, n_groups)`` as a compact integer array (``None`` means one group).

    int16 codes when they fit, so that the stable sort by group is numpy's radix sort.

    >>> as_codes(None, 3, None)
    (array([0, 0, 0], dtype=int16), 1)
    """
    if codes is None:
        return np.zeros(n_rows, dtype=np.int16), 1
    codes = np.asarray(codes)
    if n_groups is None:
        n_groups = int(codes.max()) + 1 if codes.size else 0
    dtype = np.int16 if n_groups <= np.iinfo(np.int16).max else np.int32
    if codes.dtype != dtype:
        codes = codes.astype(dtype)
    return codes, int(n_groups)


def binary_counts(y, pred, codes, n_groups: int) -> np.ndarray:
    """Confusion counts per group: an ``(n_groups, 4)`` int64 array of tp, fp, fn, tn.

    One ``bincount`` over ``codes * 4 + cell``.

    >>> binary_counts([1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1], 2).tolist()
    [[1, 1, 0, 0], [0, 0, 1, 1]]
    """
    y = np.asarray(y)
    pred = np.asarray(pred)
    codes, n_groups = as_codes(codes, len(y), n_groups)
    # tp=0 (y1 p1), fp=1 (y0 p1), fn=2 (y1 p0), tn=3 (y0 p0)
    cell = (2 * (pred == 0) + (y == 0)).astype(np.int64)
    flat = codes.astype(np.int64) * 4 + cell
    return np.bincount(flat, minlength=4 * n_groups).reshape(n_groups, 4)


def group_sums(values, codes, n_groups: int) -> np.ndarray:
    """Per-group sums of each column of ``values`` (1-D or ``(n, m)``): an ``(n_groups, m)`` array.

    >>> group_sums([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 1], 2).tolist()
    [[1.0, 2.0], [8.0, 10.0]]
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    codes, n_groups = as_codes(codes, v.shape[0], n_groups)
    out = np.empty((n_groups, v.shape[1]))
    for j in range(v.shape[1]):  # loop over statistics (a handful), not rows or groups
        out[:, j] = np.bincount(codes, weights=v[:, j], minlength=n_groups)
    return out


def row_loss(name: str, p, y) -> np.ndarray:
    """Per-row log loss (scikit-learn's clipping of the probability) or squared error (Brier) of binary rows.

    >>> row_loss("brier_score", np.array([0.25]), np.array([1])).tolist()
    [0.5625]
    """
    p = np.asarray(p, dtype=float)
    pos = np.asarray(y).astype(bool)
    if name == "log_loss":
        eps = np.finfo(float).eps
        return -np.log(np.where(pos, np.clip(p, eps, 1 - eps), np.clip(1 - p, eps, 1 - eps)))
    return (p - pos) ** 2


def multiclass_confusion(y, pred, codes, n_groups: int, n_classes: int) -> np.ndarray:
    """Confusion matrices per group, ``(n_groups, K, K)`` with rows = truth, columns = prediction.

    >>> multiclass_confusion([0, 1, 2], [0, 2, 2], None, None, 3)[0].tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
    """
    y = np.asarray(y, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    codes, n_groups = as_codes(codes, len(y), n_groups)
    k = int(n_classes)
    flat = codes.astype(np.int64) * (k * k) + y * k + pred
    return np.bincount(flat, minlength=n_groups * k * k).reshape(n_groups, k, k)


KEPT_PER_KIND = 3  # per-parameter work kept per ScoreOrder (the last few thresholds)
_MISSING = object()


def kept_per_kind(cache: dict, key, build, limit: int):
    """``build()`` once per ``key`` in ``cache`` (the most recently used last); of the keys that are tuples, only
    the last ``limit`` of each kind (``key[0]``) stay. Safe when threads share the cache: at worst built twice.

    >>> c = {}
    >>> [kept_per_kind(c, ("t", i), lambda: i, 2) for i in range(4)], list(c)
    ([0, 1, 2, 3], [('t', 2), ('t', 3)])
    """
    found = cache.pop(key, _MISSING)  # re-inserted below: the most recently used last
    if found is _MISSING:
        found = build()
    cache[key] = found
    if isinstance(key, tuple):
        same_kind = [k for k in list(cache) if isinstance(k, tuple) and k[0] == key[0]]
        for old in same_kind[:-limit]:
            cache.pop(old, None)
    return found


@dataclass(frozen=True, eq=False)
class ScoreOrder:
    """One global ascending sort of the score, reusable by every grouping of the same rows.

    Holds the order, the sorted score and label, whether any scores tie and the sorted positions of
    the positives; :meth:`placements` adds (once, cached) the global placements that the
    rest-of-data AUC needs. Build it with :func:`score_order`.
    """

    order: np.ndarray  #: argsort of the score (ascending)
    score: np.ndarray  #: score[order]
    y: np.ndarray  #: y[order] as bool
    has_ties: bool  #: any two scores equal
    pos_idx: np.ndarray  #: sorted positions of the positives
    _cache: dict = field(default_factory=dict, repr=False)

    def cached(self, key, build):
        """``build()`` computed once per ScoreOrder and ``key``: per-score work shared by every grouping. Keys
        that are tuples are kinds with a parameter (``("grid", threshold)``): the last :data:`KEPT_PER_KIND` of a
        kind are kept (a ScoreOrder kept with its Dataset would otherwise hold a grid per threshold ever shown).

        >>> so = score_order([0, 1], [0.2, 0.7])
        >>> so.cached("n", lambda: len(so.score)), so.cached("n", lambda: -1)
        (2, 2)
        >>> [so.cached(("t", i), lambda: i) for i in range(5)] and sorted(k for k in so._cache if k != "n")
        [('t', 2), ('t', 3), ('t', 4)]
        """
        return kept_per_kind(self._cache, key, build, KEPT_PER_KIND)

    def placements(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(pos_neg_below, neg_pos_above, u_total)``: per positive (``pos_idx`` order) the negatives
        below it; per sorted row the positives above it if it is a negative, else 0 (ties count half);
        and the Mann–Whitney U of all rows."""
        return self.cached("placements", lambda: _global_placements(self))


def score_order(y, score, *, order=None) -> ScoreOrder:
    """Sort the score once; pass the result to every grouping of the same rows.

    >>> so = score_order([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.4])
    >>> so.placements()[2] / (2 * 2), so.has_ties
    (0.875, True)
    """
    score = np.asarray(score, dtype=float)
    if order is None:
        order = np.argsort(score)
    s = score[order]
    yy = np.asarray(y)[order].astype(bool)
    has_ties = bool(len(s) > 1 and (s[1:] == s[:-1]).any())
    return ScoreOrder(order, s, yy, has_ties, np.flatnonzero(yy))


def _global_placements(so: ScoreOrder):
    s, yy, pos_idx = so.score, so.y, so.pos_idx
    n, n1 = len(s), len(pos_idx)
    if n == 0:
        e = np.zeros(0)
        return e, e, 0.0
    if not so.has_ties:  # each row is its own run
        neg_below_pos = (pos_idx - np.arange(n1)).astype(float)
        pos_above = (n1 - np.cumsum(yy)).astype(float)
        return neg_below_pos, np.where(yy, 0.0, pos_above), float(neg_below_pos.sum())
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    lens = np.diff(np.append(starts, n))
    run_pos = np.add.reduceat(yy.astype(np.int64), starts)
    run_neg = lens - run_pos
    neg_below_run = (np.cumsum(run_neg) - run_neg) + 0.5 * run_neg
    pos_above_run = (n1 - np.cumsum(run_pos)) + 0.5 * run_pos
    run_of = np.repeat(np.arange(len(starts)), lens)
    return (neg_below_run[run_of[pos_idx]], np.where(yy, 0.0, pos_above_run[run_of]),
            float(np.dot(run_pos, neg_below_run)))


def rank_statistics(y, score, codes, n_groups: int, *, order=None, rest: bool = True) -> RankStats:
    """Per-group ROC AUC (with DeLong variance), average precision and rest-of-data AUC.

    One global sort of ``score`` (or the precomputed ``order``: an argsort array or a
    :class:`ScoreOrder`) plus a stable sort of the codes gives every group's rows in score order.
    Tied scores are runs; AUC uses midranks exactly (Mann–Whitney), AP groups ties as scikit-learn's
    ``precision_recall_curve`` does, and DeLong's placement values come from per-run counts.

    Parameters
    ----------
    y : 0/1 array.  score : real array (any scale).  codes, n_groups : grouping (``None`` = one group).
    order : optional precomputed ``np.argsort(score)`` or :class:`ScoreOrder`, reused across groupings.
    rest : also compute each group's complement AUC (``auc_rest``; NaN otherwise).

    Returns
    -------
    RankStats

    >>> r = rank_statistics([0, 1, 1, 0, 1, 0], [0.1, 0.8, 0.4, 0.4, 0.3, 0.5], [0, 0, 0, 0, 1, 1], 2)
    >>> r.auc.tolist(), r.average_precision.round(4).tolist()
    ([0.875, 0.0], [0.8333, 0.5])
    """
    y = np.asarray(y)
    so = order if isinstance(order, ScoreOrder) else score_order(y, score, order=order)
    codes, n_groups = as_codes(codes, len(y), n_groups)
    return rank_statistics_from_order(so, codes[so.order], n_groups, rest=rest)


def rank_statistics_from_order(so: ScoreOrder, cs: np.ndarray, G: int, *, rest: bool, csi=None) -> RankStats:
    """:func:`rank_statistics` from the score order and the codes already in score order (``cs``;
    ``csi``: the same as ``np.intp``, when the caller has it)."""
    n_rows = len(cs)
    csi = cs.astype(np.intp, copy=False) if csi is None else csi
    ys = so.y
    n_g = np.bincount(csi, minlength=G).astype(float)
    n1 = np.bincount(csi[so.pos_idx], minlength=G).astype(float)
    n0 = n_g - n1
    nan = np.full(G, np.nan)
    if n_rows == 0:
        z = np.zeros(G)
        return RankStats(z, z, z, nan, nan, nan, nan, z, z)

    o2 = _group_order(cs, G)
    group_pos_start = np.cumsum(n1) - n1
    group_row_start = np.cumsum(n_g) - n_g
    with np.errstate(divide="ignore", invalid="ignore"):
        if not so.has_ties:
            u, sq_pos, sq_neg, ap_sum = _runs_without_ties(ys, csi, o2, n_g, n1, group_pos_start,
                                                           group_row_start, G)
        else:
            u, sq_pos, sq_neg, ap_sum = _runs_with_ties(so, cs, o2, n_g, n1, n0, group_pos_start,
                                                        group_row_start, G)
        u_rest = None
        if rest:  # U_rest = U_total - U_gg - U_gc - U_cg, from global placements
            pos_neg_below, neg_pos_above, u_total = so.placements()
            u_gc = np.bincount(csi[so.pos_idx], weights=pos_neg_below, minlength=G) - u
            u_cg = np.bincount(csi, weights=neg_pos_above, minlength=G) - u
            u_rest = u_total - u - u_gc - u_cg
    return rank_stats_from_sums(u, sq_pos, sq_neg, ap_sum, n_g, n1, n0, u_rest=u_rest)


def _group_order(cs: np.ndarray, G: int) -> np.ndarray:
    """Stable argsort of group codes (rows of each group together, in their original order).

    numpy's stable sort of 8- and 16-bit integers is a radix sort: codes are narrowed when they fit.
    """
    if G <= 256 and cs.dtype != np.uint8:
        cs = cs.astype(np.uint8)
    elif G <= 65536 and cs.dtype.itemsize > 2:
        cs = cs.astype(np.uint16)
    return np.argsort(cs, kind="stable")


def _runs_without_ties(ys, cs, o2, n_g, n1, group_pos_start, group_row_start, G):
    """U, sum over positives of (negatives below)^2, sum over negatives of (positives above)^2 and the
    AP numerator per group, touching only the positives (no tied scores anywhere)."""
    ipos = np.flatnonzero(ys[o2])  # positions of positives in the grouped order
    gp = cs[o2[ipos]]
    k = np.arange(len(ipos))
    neg_before = (ipos - k - (group_row_start - group_pos_start)[gp]).astype(float)
    above = (n1[gp] - (k - group_pos_start[gp]) - 1).astype(float)  # positives above, same group
    u = np.bincount(gp, weights=neg_before, minlength=G)
    sq_pos = np.bincount(gp, weights=neg_before * neg_before, minlength=G)
    # sum_j (positives above negative j)^2 = sum over ordered positive pairs of negatives below both
    sq_neg = np.bincount(gp, weights=neg_before * (2 * above + 1), minlength=G)
    pp_at = group_row_start[gp] + n_g[gp] - ipos
    ap_sum = np.bincount(gp, weights=(above + 1) / pp_at, minlength=G)
    return u, sq_pos, sq_neg, ap_sum


def _runs_with_ties(so, cs, o2, n_g, n1, n0, group_pos_start, group_row_start, G):
    """The same four sums with tied scores: runs of equal (group, score), midranks counted half."""
    n_rows = len(o2)
    g = cs[o2]
    s = so.score[o2]
    yg = so.y[o2]
    new = np.empty(n_rows, dtype=bool)
    new[0] = True
    new[1:] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new)
    lens = np.diff(np.append(starts, n_rows)).astype(float)
    rg = g[starts]
    run_pos = np.add.reduceat(yg.astype(np.int64), starts).astype(float)
    run_neg = lens - run_pos
    return run_sums(rg, run_pos, run_neg, n_g, n1, n0, G)
