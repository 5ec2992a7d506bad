"""Rank statistics from *runs*: per group, the counts of positives and negatives at each distinct score.

A run is one (group, score) pair with its positives and negatives. Rows sorted by score give runs
(:mod:`mlimpact.engine.memory`); an engine's ``GROUP BY group, score, label`` gives them directly
(:mod:`mlimpact.engine.tables`). Both then share these formulas, so ROC AUC (midranks), its DeLong
variance, average precision (scikit-learn's tied-score grouping) and the rest-of-data AUC are the same
numbers whichever way the runs were counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RankStats", "merge_runs", "binning_error", "run_sums", "rank_stats_from_sums", "rank_statistics_from_runs"]


@dataclass(frozen=True, eq=False)
class RankStats:
    """Per-group rank statistics (arrays of length ``n_groups``); NaN where undefined."""

    n: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    auc: np.ndarray  #: Mann–Whitney AUC with midrank ties (= sklearn roc_auc_score)
    auc_var: np.ndarray  #: DeLong variance of the AUC (NaN when a class has < 2 rows)
    average_precision: np.ndarray  #: sklearn's step-wise AP, tied scores grouped
    auc_rest: np.ndarray  #: AUC of all rows outside the group
    n_pos_rest: np.ndarray
    n_neg_rest: np.ndarray


def run_sums(rg, run_pos, run_neg, n_g, n1, n0, G: int):
    """U, the sums of squared placements (positives, negatives) and the AP numerator per group.

    ``rg``: the group of each run; runs are sorted by group, then score ascending. ``n_g``, ``n1``,
    ``n0``: rows, positives and negatives per group.

    >>> u, *_ = run_sums(np.array([0, 0]), np.array([0.0, 1.0]), np.array([1.0, 0.0]),
    ...                  np.array([2.0]), np.array([1.0]), np.array([1.0]), 1)
    >>> u.tolist()
    [1.0]
    """
    lens = run_pos + run_neg
    group_pos_start = np.cumsum(n1) - n1
    group_neg_start = np.cumsum(n0) - n0
    group_row_start = np.cumsum(n_g) - n_g
    pos_before = np.cumsum(run_pos) - run_pos - group_pos_start[rg]
    neg_before = np.cumsum(run_neg) - run_neg - group_neg_start[rg]
    rows_before = np.cumsum(lens) - lens - group_row_start[rg]
    neg_below = neg_before + 0.5 * run_neg
    pos_above = (n1[rg] - pos_before - run_pos) + 0.5 * run_pos
    u = np.bincount(rg, weights=run_pos * neg_below, minlength=G)
    sq_pos = np.bincount(rg, weights=run_pos * neg_below * neg_below, minlength=G)
    sq_neg = np.bincount(rg, weights=run_neg * pos_above * pos_above, minlength=G)
    tp_at = n1[rg] - pos_before
    pp_at = n_g[rg] - rows_before
    ap_sum = np.bincount(rg, weights=run_pos * tp_at / pp_at, minlength=G)
    return u, sq_pos, sq_neg, ap_sum


def rank_stats_from_sums(u, sq_pos, sq_neg, ap_sum, n_g, n1, n0, *, u_rest=None) -> RankStats:
    """AUC, DeLong variance, AP and (given each group's complement U, ``u_rest``) the rest's AUC."""
    n1r = n1.sum() - n1
    n0r = n0.sum() - n0
    with np.errstate(divide="ignore", invalid="ignore"):
        both = (n1 > 0) & (n0 > 0)
        auc = np.where(both, u / (n1 * n0), np.nan)
        # DeLong: V10 = (negatives below a positive) / n0, V01 = (positives above a negative) / n1
        s10, ss10 = u / n0, sq_pos / (n0 * n0)
        s01, ss01 = u / n1, sq_neg / (n1 * n1)
        var10 = (ss10 - s10 * s10 / n1) / (n1 - 1)
        var01 = (ss01 - s01 * s01 / n0) / (n0 - 1)
        auc_var = np.where((n1 >= 2) & (n0 >= 2), np.maximum(var10, 0) / n1 + np.maximum(var01, 0) / n0, np.nan)
        ap = np.where(n1 > 0, ap_sum / n1, np.nan)
        if u_rest is None:
            auc_rest = np.full(len(n_g), np.nan)
        else:
            auc_rest = np.where((n1r > 0) & (n0r > 0), u_rest / (n1r * n0r), np.nan)
    return RankStats(n=n_g, n_pos=n1, n_neg=n0, auc=auc, auc_var=auc_var, average_precision=ap,
                     auc_rest=auc_rest, n_pos_rest=n1r, n_neg_rest=n0r)


def merge_runs(rg, key, run_pos, run_neg):
    """Runs sorted by (group, key), rows of the same (group, key) added together.

    >>> [a.tolist() for a in merge_runs([1, 0, 1], [5.0, 2.0, 5.0], [1, 0, 2], [0, 1, 0])]
    [[0, 1], [2.0, 5.0], [0.0, 3.0], [1.0, 0.0]]
    """
    rg = np.asarray(rg, dtype=np.intp)
    key = np.asarray(key)
    order = np.lexsort((key, rg))
    rg, key = rg[order], key[order]
    run_pos = np.asarray(run_pos, dtype=float)[order]
    run_neg = np.asarray(run_neg, dtype=float)[order]
    if len(rg) > 1:
        new = np.empty(len(rg), dtype=bool)
        new[0] = True
        new[1:] = (rg[1:] != rg[:-1]) | (key[1:] != key[:-1])
        if not new.all():
            starts = np.flatnonzero(new)
            rg, key = rg[starts], key[starts]
            run_pos = np.add.reduceat(run_pos, starts)
            run_neg = np.add.reduceat(run_neg, starts)
    return rg, key, run_pos, run_neg


def binning_error(rg, key, run_pos, run_neg, G: int) -> tuple[np.ndarray, np.ndarray]:
    """The largest possible error of ROC AUC and of average precision per group when each key is a bin
    of several scores (counted as ties): the bins' pairs of a positive and a negative, half each, for
    AUC; for AP, each bin's positives times the spread of the precision they could have inside it.

    >>> auc_err, ap_err = binning_error([0, 0], [0, 1], [1, 1], [1, 1], 1)
    >>> auc_err.tolist()
    [0.25]
    """
    rg, key, p, q = merge_runs(rg, key, run_pos, run_neg)
    n1 = np.bincount(rg, weights=p, minlength=G)
    n0 = np.bincount(rg, weights=q, minlength=G)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc_err = 0.5 * np.bincount(rg, weights=p * q, minlength=G) / (n1 * n0)
        # from the top: positives and rows in the group's runs above each run
        desc = np.lexsort((-key.astype(float), rg))
        g, pp, qq = rg[desc], p[desc], q[desc]
        start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1] if len(g) else np.zeros(0, dtype=np.intp)
        cp, ct = np.cumsum(pp), np.cumsum(pp + qq)
        first = np.zeros(len(g), dtype=np.intp)
        if len(g):
            first[start] = start
            first = np.maximum.accumulate(first)
        tp_above = cp - pp - (cp[first] - pp[first])
        rows_above = ct - (pp + qq) - (ct[first] - (pp + qq)[first])
        best = (tp_above + pp) / (rows_above + pp)
        worst = (tp_above + 1) / (rows_above + pp + qq)
        spread = np.where(pp > 0, pp * (best - worst), 0.0)
        ap_err = np.bincount(g, weights=spread, minlength=G) / n1
    return np.where((n1 > 0) & (n0 > 0), auc_err, np.nan), np.where(n1 > 0, ap_err, np.nan)


def rank_statistics_from_runs(rg, key, run_pos, run_neg, G: int, *, rest: bool) -> RankStats:
    """:class:`RankStats` of every group from runs counted by an engine.

    ``rg``, ``key``: group and score rank (any integers ordered as the scores) of each run, one run per
    (group, key); ``run_pos``/``run_neg``: its positives and negatives. The runs need not be sorted.

    >>> r = rank_statistics_from_runs(np.array([0, 0, 0, 0, 1, 1]), np.array([0, 1, 2, 4, 3, 4]),
    ...                               np.array([0, 1, 0, 1, 1, 0]), np.array([1, 1, 0, 0, 0, 1]), 2, rest=True)
    >>> r.auc.tolist(), r.average_precision.round(4).tolist()
    ([0.875, 0.0], [0.8333, 0.5])
    """
    rg, key, run_pos, run_neg = merge_runs(rg, key, run_pos, run_neg)
    n1 = np.bincount(rg, weights=run_pos, minlength=G)
    n0 = np.bincount(rg, weights=run_neg, minlength=G)
    n_g = n1 + n0
    if len(rg) == 0:
        z = np.zeros(G)
        nan = np.full(G, np.nan)
        return RankStats(z, z, z, nan, nan, nan, nan, z, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        u, sq_pos, sq_neg, ap_sum = run_sums(rg, run_pos, run_neg, n_g, n1, n0, G)
    u_rest = None
    if rest:  # U_rest = U_total - U_gg - U_gc - U_cg, from the global placements of each key
        keys, at = np.unique(key, return_inverse=True)
        kp = np.bincount(at, weights=run_pos, minlength=len(keys))
        kn = np.bincount(at, weights=run_neg, minlength=len(keys))
        neg_below = np.cumsum(kn) - kn + 0.5 * kn
        pos_above = (kp.sum() - np.cumsum(kp)) + 0.5 * kp
        u_total = float(np.dot(kp, neg_below))
        u_gc = np.bincount(rg, weights=run_pos * neg_below[at], minlength=G) - u
        u_cg = np.bincount(rg, weights=run_neg * pos_above[at], minlength=G) - u
        u_rest = u_total - u - u_gc - u_cg
    return rank_stats_from_sums(u, sq_pos, sq_neg, ap_sum, n_g, n1, n0, u_rest=u_rest)
