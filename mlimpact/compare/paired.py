"""Paired tests of two models on the same rows: DeLong for ROC AUC, a paired bootstrap for the rest.

* ROC AUC — DeLong's test for two correlated AUCs (placement values of both models on the same rows),
  per segment in one vectorized pass (:func:`delong_paired`);
* every other metric — a paired bootstrap: rows fall into cells of (segment, label, score bin of
  model A, score bin of model B) (the threshold is a bin edge, so confusion counts are exact), the cell
  counts are resampled once per replicate for both models, and per-row losses (Brier, log loss, errors)
  enter with the cell's exact within-cell covariance (:mod:`mlimpact.impact.bootstrap`). Average
  precision is recomputed on the score bins and shifted to its exact value, as in :mod:`mlimpact.metrics`
  (the bootstrap lives in :mod:`mlimpact.compare.paired_bootstrap`; its constants are re-exported here);
* value — each model's money at the shared threshold and at its own best one, paired against the reference.

Re-exported by :mod:`mlimpact.compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.compare.paired_bootstrap import REG_BINS, SCORE_BINS
from mlimpact.impact import row_gains, scale_factor
from mlimpact.impact.bootstrap import cell_bootstrap, make_cells
from mlimpact.impact.values import (
    cut_threshold,
    exact_curve,
    gains_from_terms,
    lane_decisions,
    money_of,
    threshold_values,
)
from mlimpact.metrics import Z95, normal_p_value, percentile_interval

__all__ = ["SCORE_BINS", "REG_BINS", "VALUE_COLUMNS", "delong_paired", "delong_table", "_placements", "best_cut",
           "value_frame"]

VALUE_COLUMNS = ["model", "point", "threshold", "flagged", "value", "low", "high", "value_vs_flag_none",
                 "difference", "diff_low", "diff_high"]


# ---------------------------------------------------------------------------------------------
# DeLong for two correlated AUCs, per group
# ---------------------------------------------------------------------------------------------


def _placements(y: np.ndarray, score: np.ndarray, codes: np.ndarray, G: int, w: np.ndarray):
    """Per row, its DeLong placement value within its group, and per group (n1, n0, auc); ``w``: the rows
    each entry stands for (an engine's counts; 1 for rows).

    A positive's placement is the share of its group's negatives scored below it (ties count half);
    a negative's is the share of the group's positives scored above it. One lexsort, no group loop.
    """
    y = np.asarray(y).astype(bool)
    order = np.lexsort((score, codes))
    cs, ss, ys, ws = codes[order], score[order], y[order], w[order]
    n = len(order)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = (cs[1:] != cs[:-1]) | (ss[1:] != ss[:-1])
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    run_pos = np.add.reduceat(ys * ws, starts) if n else np.zeros(0)
    run_len = np.add.reduceat(ws, starts) if n else np.zeros(0)
    run_neg = run_len - run_pos
    run_group = cs[starts]
    n1 = np.bincount(codes[y], weights=w[y], minlength=G)
    n0 = np.bincount(codes[~y], weights=w[~y], minlength=G)
    # cumulative counts before each run, restarted in every group
    cneg = np.cumsum(run_neg) - run_neg
    cpos = np.cumsum(run_pos) - run_pos
    gstart = np.r_[True, run_group[1:] != run_group[:-1]] if len(starts) else np.zeros(0, bool)
    first_run = np.maximum.accumulate(np.where(gstart, np.arange(len(starts)), 0))
    neg_below = cneg - cneg[first_run]
    pos_below = cpos - cpos[first_run]
    with np.errstate(divide="ignore", invalid="ignore"):
        v_pos_run = (neg_below + 0.5 * run_neg) / n0[run_group]
        v_neg_run = (n1[run_group] - pos_below - run_pos + 0.5 * run_pos) / n1[run_group]
    v_sorted = np.where(ys, v_pos_run[run], v_neg_run[run])
    v = np.empty(n)
    v[order] = v_sorted
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.bincount(codes[y], weights=v[y] * w[y], minlength=G) / n1
    auc = np.where((n1 > 0) & (n0 > 0), auc, np.nan)
    return v, n1, n0, auc


def delong_paired(y, score_a, score_b, codes=None, n_groups: int | None = None, weights=None) -> pd.DataFrame:
    """DeLong's test of two correlated ROC AUCs on the same rows, per group (``weights``: the rows each entry
    stands for, when an engine counted the rows per (group, label, both scores)).

    Returns ``group, n, positives, auc_a, auc_b, difference (b − a), low, high, p_value, var_a, var_b``
    (DeLong variances; the interval is normal, 95%). NaN where a group lacks a class or has fewer
    than two rows of one.

    >>> t = delong_paired([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.7], [0.2, 0.1, 0.6, 0.9, 0.3, 0.5])
    >>> t[["auc_a", "auc_b"]].round(4).values.tolist()
    [[0.8889, 1.0]]
    """
    y = np.asarray(y).astype(bool)
    a = np.asarray(score_a, dtype=float)
    b = np.asarray(score_b, dtype=float)
    codes = np.zeros(len(y), dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    G = int(n_groups if n_groups is not None else (codes.max() + 1 if len(codes) else 1))
    rows = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    va, n1, n0, auc_a = _placements(y, a, codes, G, rows)
    vb, _, _, auc_b = _placements(y, b, codes, G, rows)

    def sums(mask):  # per group: sum of A's and B's placements, of their squares and of their product
        return [np.bincount(codes[mask], weights=x[mask] * rows[mask], minlength=G)
                for x in (va, vb, va * va, vb * vb, va * vb)]

    return delong_table(n1, n0, auc_a, auc_b, sums(y), sums(~y))


def delong_table(n1, n0, auc_a, auc_b, pos_sums, neg_sums) -> pd.DataFrame:
    """:func:`delong_paired`'s table from, per group, the rows of each class, both AUCs and the sums over the
    positives (``pos_sums``) and the negatives (``neg_sums``) of A's and B's placements, of their squares and of
    their product."""
    G = len(n1)

    def cov(s, i, j, n_k):  # the sample covariance of placements i and j (0: A, 1: B)
        product = s[2] if i == j == 0 else s[3] if i == j == 1 else s[4]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (product - s[i] * s[j] / n_k) / (n_k - 1)

    with np.errstate(divide="ignore", invalid="ignore"):
        s10 = [cov(pos_sums, 0, 0, n1), cov(pos_sums, 1, 1, n1), cov(pos_sums, 0, 1, n1)]
        s01 = [cov(neg_sums, 0, 0, n0), cov(neg_sums, 1, 1, n0), cov(neg_sums, 0, 1, n0)]
        var_a = s10[0] / n1 + s01[0] / n0
        var_b = s10[1] / n1 + s01[1] / n0
        var_d = np.maximum((s10[0] + s10[1] - 2 * s10[2]) / n1 + (s01[0] + s01[1] - 2 * s01[2]) / n0, 0.0)
        ok = (n1 >= 2) & (n0 >= 2)
        diff = auc_b - auc_a
        sd = np.sqrt(var_d)
        z = np.where(sd > 0, diff / np.where(sd > 0, sd, 1), np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    p = np.where(ok, normal_p_value(z), np.nan)
    return pd.DataFrame({"group": np.arange(G), "n": (n1 + n0).astype(np.int64), "positives": n1.astype(np.int64),
                         "auc_a": auc_a, "auc_b": auc_b, "difference": diff,
                         "low": np.where(ok, diff - Z95 * sd, np.nan), "high": np.where(ok, diff + Z95 * sd, np.nan),
                         "p_value": p, "var_a": np.where(ok, var_a, np.nan), "var_b": np.where(ok, var_b, np.nan)})


# ---------------------------------------------------------------------------------------------
# value, paired against the reference
# ---------------------------------------------------------------------------------------------


def _value_table(dataset, keep, models, costs, *, threshold, scale, n_boot, seed, time_budget_s) -> pd.DataFrame:
    """Each model's money at the shared threshold and at its own best threshold, paired against the reference."""
    factor, _ = scale_factor(dataset, scale)
    g0 = row_gains(dataset, costs)
    terms = {k: v[keep] for k, v in g0.terms.items()}
    y = g0.y[keep]
    specs = []
    for m in models:
        t_best = best_cut(exact_curve(gains_from_terms(y, m.score, terms)))
        for point, t in ((f"at threshold {threshold:g}", threshold), ("at its best threshold", t_best)):
            specs.append((m.name, point, t, lane_decisions(m.score, t)))
    g = gains_from_terms(y, models[0].score, terms)
    money = np.column_stack([money_of(g, d) for *_, d in specs])
    pattern = y.astype(np.int64)
    for i, (*_, d) in enumerate(specs):
        pattern |= d.astype(np.int64) << (i + 1)
    cells = make_cells(np.zeros(len(y), np.int64), pattern, np.column_stack([money, g.keep]), 1)
    reps, _ = cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    return value_frame([(name, point, t, int(d.sum())) for name, point, t, d in specs], money.sum(axis=0),
                       g.keep.sum(), reps["sums"][:, 0, :], factor=factor, scale=scale, costs=costs)


def best_cut(ex) -> float:
    """A model's value-maximising threshold from its exact curve (ties: the one flagging fewest)."""
    vals = threshold_values(ex.keep, ex.flag)
    return cut_threshold(ex.cuts, len(vals) - 1 - int(np.argmax(vals[::-1])))


def value_frame(specs, values, none_v, sums, *, factor, scale, costs) -> pd.DataFrame:
    """The value table from each point's ``(model, point, threshold, flagged)`` (two per model, the reference's
    first), its money ``values``, flagging nothing's ``none_v`` and the bootstrap's ``sums`` (replicates × points):
    in memory or from an engine's counts."""
    rows = []
    for i, (name, point, t, flagged) in enumerate(specs):
        ref_i = i % 2  # the reference's column for the same point
        lo, hi = percentile_interval(sums[:, i])
        dlo, dhi = percentile_interval(sums[:, i] - sums[:, ref_i]) if i >= 2 else (np.nan, np.nan)
        rows.append({"model": name, "point": point, "threshold": t, "flagged": flagged, "value": values[i],
                     "low": float(lo), "high": float(hi), "value_vs_flag_none": values[i] - none_v,
                     "difference": values[i] - values[ref_i] if i >= 2 else np.nan, "diff_low": float(dlo),
                     "diff_high": float(dhi)})
    out = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    money_cols = ["value", "low", "high", "value_vs_flag_none", "difference", "diff_low", "diff_high"]
    out[money_cols] = out[money_cols] * factor
    out.attrs.update({"scale": scale, "factor": factor, "costs": costs.describe()})
    return out
