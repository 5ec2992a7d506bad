"""Binary metrics of every group from one score order: counts, rank statistics, losses, tests, intervals.

Per grouping, the rows are counted once into *cells*: score bin x label (score bin x confusion cell when
the predicted class is given), the bins being global score quantiles with the threshold as an edge, so
the confusion counts, the cell sums of the per-row losses and the bootstrap's cells all come from one
``bincount`` (without intervals or an average precision test, the four confusion cells do; without any
score metric, not even the sort is needed). ROC AUC and average precision are exact
(:func:`mlimpact.engine.memory.rank_statistics`). The bins, the per-row losses and the global placements are
per-score work: they are cached on the :class:`mlimpact.engine.memory.ScoreOrder`, so a second grouping of the
same rows does not redo them.

Tests against the rest are closed forms (the bootstrap is for intervals only, and runs only when they
are asked for): two-proportion z for proportions, DeLong + Hanley–McNeil for ROC AUC, and for f1,
average precision, log loss and Brier score the delta-method variance of the group and of the rest
under the same stratified resampling the bootstrap does (what the bootstrap's standard deviation
estimates, without its Monte Carlo noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlimpact.engine import ScoreOrder, binary_counts, score_order
from mlimpact.engine.memory import rank_statistics_from_order
from mlimpact.io.decision import decide
from mlimpact.metrics.base import (
    BOOT_SCORE_BINS,
    NO_ROWS,
    REST_AP_BINS,
    _apply_bootstrap,
    _chunk,
    _f1,
    _Out,
    _proportion,
    _quantile_bin_ids,
    _ratio,
)
from mlimpact.metrics.bootstrap import NORMAL_ABOVE, poisson_table, resample_cells, table_normal
from mlimpact.metrics.uncertainty import (
    hanley_mcneil_variance,
    normal_interval,
    normal_p_value,
    run_bootstrap,
)

_ONLY_NEG = "this group has only negatives"
_ONLY_POS = "this group has only positives"
_BOOTSTRAPPED = ("f1", "average_precision", "log_loss", "brier_score")
_LOSSES = ("log_loss", "brier_score")


@dataclass(frozen=True, eq=False)
class _Grid:
    """The bootstrap's score bins for one ScoreOrder and threshold, per sorted row (shared by groupings)."""

    coarse_y: np.ndarray  #: bin (BOOT_SCORE_BINS quantiles + the threshold; 0 = highest scores) * 2 + label
    n_coarse: int
    pred_coarse: np.ndarray  #: (n_coarse,) the bin lies at or above the threshold


def _grid(so: ScoreOrder, threshold: float) -> _Grid:
    def build():
        s = so.score
        bins, nb = _quantile_bin_ids(s, BOOT_SCORE_BINS, [threshold])
        pred_asc = np.bincount(bins, weights=decide(s, threshold), minlength=nb) > 0
        return _Grid((nb - 1 - bins).astype(np.int32) * 2 + so.y, nb, pred_asc[::-1].copy())

    return so.cached(("grid", float(threshold)), build)


def _fine_bins(so: ScoreOrder) -> tuple[np.ndarray, int]:
    """Per sorted row: REST_AP_BINS score-quantile bin (ascending) * 2 + label; and the number of bins."""
    def build():
        fine, nf = _quantile_bin_ids(so.score, REST_AP_BINS)
        return fine.astype(np.int32) * 2 + so.y, nf

    return so.cached("fine_bins", build)


def _row_loss(so: ScoreOrder, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log loss (scikit-learn's clipping) or squared error in score order, and its square."""
    def build():
        p, y = so.score, so.y
        if name == "log_loss":
            eps = np.finfo(float).eps
            x = -np.log(np.where(y, np.clip(p, eps, 1 - eps), np.clip(1 - p, eps, 1 - eps)))
        else:
            x = (p - y) ** 2
        return x, x * x

    return so.cached(("row_loss", name), build)


@dataclass(eq=False)
class _Cells:
    """Per-group cell counts ``(G, nb * S)``: ``nb`` score bins from the top x ``S`` states (2: label;
    4: tp, fp, fn, tn), plus what the later steps reuse."""

    counts: np.ndarray
    nb: int
    S: int
    pred_bins: np.ndarray  #: (nb,) the bin is predicted positive (S == 2)
    so: ScoreOrder | None = None
    cs: np.ndarray | None = None  #: codes in score order
    csi: np.ndarray | None = None  #: the same as np.intp
    sums: dict = None  #: loss -> (cell sums, cell sums of squares or None)

    def confusion(self) -> np.ndarray:
        """``(G, 4)`` tp, fp, fn, tn."""
        cells = self.counts.reshape(len(self.counts), self.nb, self.S)
        if self.S == 4:
            return cells.sum(axis=1)
        pos_b, neg_b = cells[..., 1], cells[..., 0]
        pm = self.pred_bins.astype(float)
        tp, fp = pos_b @ pm, neg_b @ pm
        return np.column_stack([tp, fp, pos_b.sum(axis=1) - tp, neg_b.sum(axis=1) - fp])


def _count_cells(y, score, pred, codes, G, *, threshold, opts, sorted_, bins, losses, squares) -> _Cells:
    """One ``bincount`` of each group's rows into cells, and the cell sums of the per-row losses.

    ``sorted_``: work in score order (rank statistics and losses need it); ``bins``: score-bin cells
    (the bootstrap and the average precision test need them), else the four confusion cells.
    """
    one = np.ones(1, dtype=bool)
    if not sorted_:  # no sort needed: the four confusion cells
        decided = pred if pred is not None else decide(score, threshold)
        counts = binary_counts(np.asarray(y).astype(bool), np.asarray(decided).astype(bool), codes, G)
        return _Cells(counts.astype(float), 1, 4, one, sums={})
    so = opts["order"]
    if not isinstance(so, ScoreOrder):
        so = opts["order"] = score_order(y, score, order=so)
    cs = codes[so.order]
    csi = cs.astype(np.intp)
    if bins:
        grid = _grid(so, threshold)
        nb, pred_bins = grid.n_coarse, grid.pred_coarse
        if pred is not None:  # score bin x (tp, fp, fn, tn) from the given predictions
            ps = np.asarray(pred)[so.order].astype(bool)
            S, local = 4, (grid.coarse_y >> 1) * 4 + (2 * ~ps + ~so.y)
        else:  # score bin x label: the bin decides the prediction (the threshold is a bin edge)
            S, local = 2, grid.coarse_y
    else:  # tp, fp, fn, tn; the rows below the threshold are a prefix of the score order
        nb, pred_bins, S = 1, one, 4
        local = (~so.y).astype(np.intp)
        if pred is not None:
            local += 2 * ~np.asarray(pred)[so.order].astype(bool)
        else:
            local[:np.searchsorted(so.score, threshold, side="left")] += 2
    C = nb * S
    flat = csi * C
    flat += local
    counts = np.bincount(flat, minlength=G * C).reshape(G, C).astype(float)
    sums = {}
    for name in losses:
        x, x2 = _row_loss(so, name)
        index, size = (flat, G * C) if bins else (csi, G)
        s2 = np.bincount(index, weights=x2, minlength=size).reshape(G, -1) if squares else None
        sums[name] = (np.bincount(index, weights=x, minlength=size).reshape(G, -1), s2)
    return _Cells(counts, nb, S, pred_bins, so, cs, csi, sums)


def _binary(y, score, pred, codes, G, *, threshold, want, opts, attrs):
    intervals, compare = opts["intervals"], opts["compare"]
    outs = {name: _Out(G) for name in want}
    score_names = [m for m in ("roc_auc", "average_precision", "log_loss", "brier_score") if m in outs]
    boot = [m for m in _BOOTSTRAPPED if m in outs and (m == "f1" or score is not None)]
    losses = []
    if score is None:
        for name in score_names:
            outs[name].explain(np.ones(G, bool), f"{name} needs a score column; only predicted classes were given")
    elif any(m in outs for m in _LOSSES):
        lo_s, hi_s = (float(np.min(score)), float(np.max(score))) if len(score) else (0.0, 1.0)
        if lo_s >= 0.0 and hi_s <= 1.0:
            losses = [m for m in _LOSSES if m in outs]
        for name in [m for m in _LOSSES if m in outs and m not in losses]:
            outs[name].explain(np.ones(G, bool), f"{name} needs scores that are probabilities in [0, 1]; "
                               f"scores range from {lo_s:g} to {hi_s:g}")
    boot = [m for m in boot if m not in _LOSSES or m in losses]
    # the bootstrap's cells (score bins) serve its intervals and the average precision test
    bins = score is not None and ((intervals and bool(boot)) or (compare and "average_precision" in outs))
    cells = _count_cells(y, score, pred, codes, G, threshold=threshold, opts=opts,
                         sorted_=score is not None and bool(score_names or bins), bins=bins, losses=losses,
                         squares=intervals or compare)
    confusion = cells.confusion()
    tp, fp, fn, tn = confusion.T
    n = confusion.sum(axis=1)
    pos, neg = tp + fn, fp + tn
    for o in outs.values():
        o.explain(n == 0, NO_ROWS)

    props = {
        "accuracy": (tp + tn, n, None),
        "precision": (tp, tp + fp, "precision needs predicted positives; the model flags no rows in this group"),
        "recall": (tp, pos, f"recall needs actual positives; {_ONLY_NEG}"),
        "false_positive_rate": (fp, neg, f"false_positive_rate needs actual negatives; {_ONLY_POS}"),
        "false_negative_rate": (fn, pos, f"false_negative_rate needs actual positives; {_ONLY_NEG}"),
        "true_negative_rate": (tn, neg, f"true_negative_rate needs actual negatives; {_ONLY_POS}"),
        "positive_rate": (tp + fp, n, None),
        "base_rate": (pos, n, None),
    }
    for name, (num, den, why) in props.items():
        if name in outs:
            if why:
                outs[name].explain(den == 0, why)
            _proportion(outs[name], num, den, intervals=intervals, compare=compare)

    if "f1" in outs:
        o = outs["f1"]
        o.explain(tp + fp + fn == 0, "f1 needs an actual or predicted positive; this group has neither")
        o.value = _f1(tp, fp, fn)
        if compare:
            t = confusion.sum(axis=0)
            o.rest = _f1(t[0] - tp, t[1] - fp, t[2] - fn)
            o.p = _p_value(o.value - o.rest, *_delta_variances(confusion, _f1_gradient))

    if score is not None and ("roc_auc" in outs or "average_precision" in outs):
        rs = rank_statistics_from_order(cells.so, cells.cs, G, rest=compare and "roc_auc" in outs, csi=cells.csi)
        if "roc_auc" in outs:
            _roc_auc(outs["roc_auc"], rs, pos, neg, intervals=intervals, compare=compare)
        if "average_precision" in outs:
            o = outs["average_precision"]
            o.explain(pos == 0, f"average_precision needs actual positives; {_ONLY_NEG}")
            o.value = rs.average_precision
            if compare:
                o.rest = _rest_ap_fine(cells.so, cells.csi, G)
                o.p = _p_value(o.value - o.rest, *_delta_variances(cells.counts, _ap_gradient(cells.S)))
    for name, (s1, s2) in cells.sums.items():
        o = outs[name]
        total = s1.sum(axis=1)
        o.value = _ratio(total, n)
        if compare:
            o.rest = _ratio(total.sum() - total, n.sum() - n)
            o.p = _p_value(o.value - o.rest, *_mean_variances(total, s2.sum(axis=1), n))
    if boot and intervals:
        _binary_bootstrap(outs, boot, cells, n, opts, attrs)
    return outs, n, pos


def _roc_auc(o: _Out, rs, pos, neg, *, intervals: bool, compare: bool) -> None:
    o.explain(pos == 0, f"roc_auc needs both classes; {_ONLY_NEG}")
    o.explain(neg == 0, f"roc_auc needs both classes; {_ONLY_POS}")
    o.value = rs.auc
    var = np.where(np.isnan(rs.auc_var), hanley_mcneil_variance(rs.auc, rs.n_pos, rs.n_neg), rs.auc_var)
    if intervals:
        o.low, o.high = normal_interval(rs.auc, var)
    if compare:
        o.rest = rs.auc_rest
        o.p = _p_value(rs.auc - rs.auc_rest, var, hanley_mcneil_variance(rs.auc_rest, rs.n_pos_rest, rs.n_neg_rest))


def _rest_ap_fine(so: ScoreOrder, csi, G):
    """Average precision of each group's complement from fine score bins (REST_AP_BINS quantiles).

    Running sums from the highest bin down are linear, so the rest's are the whole data's minus the
    group's; tied scores share a bin, as scikit-learn groups tied scores.
    """
    fine_y, nf = _fine_bins(so)
    flat = csi * (2 * nf)
    flat += fine_y
    c = np.bincount(flat, minlength=G * 2 * nf).reshape(G, nf, 2)[:, ::-1]  # bins from the top
    del flat
    pos = np.ascontiguousarray(c[..., 1])
    tot = c[..., 0] + pos
    rest_pos = pos.sum(axis=0) - pos
    pg = np.cumsum(pos.sum(axis=0)) - np.cumsum(pos, axis=1)
    tg = (np.cumsum(tot.sum(axis=0)) - np.cumsum(tot, axis=1)).astype(float)
    tg += 1e-300  # no rows at or above a bin: no positives either, 0 / tiny = 0
    ratio = np.divide(pg, tg, out=tg)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("gb,gb->g", rest_pos.astype(float), ratio) / pg[:, -1]


# ---------------------------------------------------------------------------------------------
# closed-form tests: delta-method variances under the bootstrap's stratified resampling
# ---------------------------------------------------------------------------------------------


def _p_value(diff, var_group, var_rest):
    """Two-sided normal p-value of ``diff`` with variance ``var_group + var_rest`` (p = 1 for 0 / 0)."""
    var = var_group + var_rest
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / np.sqrt(var)
    return normal_p_value(np.where((var == 0) & (diff == 0), 0.0, z))


def _delta_variances(c, gradient):
    """Delta-method variances of a scale-free statistic of multinomial cell counts (f1, binned AP).

    ``c`` is ``(G, K)`` cell counts, ``gradient(counts)`` the statistic's gradient there. For a group,
    ``Var = sum_k c_k g_k^2`` (the statistic is unchanged by scaling the counts, so ``c . g = 0``).
    For the rest of the data, resampled group by group as the bootstrap does:
    ``Var = sum_k R_k g_k^2 - sum_{h != g} (c_h . g)^2 / n_h`` with ``g`` the gradient at the rest's
    counts ``R``; the sum over other groups is ``g' (M - c_g c_g' / n_g) g``, ``M = sum_h c_h c_h' / n_h``.
    Returns ``(var_group, var_rest)``; NaN where the statistic is undefined.
    """
    n = c.sum(axis=1)
    inv_n = np.where(n > 0, 1.0 / np.where(n > 0, n, 1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(c > 0, gradient(c), 0.0)
        var_g = (c * g * g).sum(axis=1)
        rest = c.sum(axis=0) - c
        gr = np.where(rest > 0, gradient(rest), 0.0)
        m = (c * inv_n[:, None]).T @ c
        own = (c * gr).sum(axis=1) ** 2 * inv_n
        var_r = (rest * gr * gr).sum(axis=1) - (((gr @ m) * gr).sum(axis=1) - own)
    return var_g, np.maximum(var_r, 0.0)


def _f1_gradient(c):
    """Gradient of f1 = 2tp / (2tp + fp + fn) in the cells (tp, fp, fn, tn)."""
    tp, fp, fn = c[..., 0], c[..., 1], c[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 2 * tp + fp + fn
        f = 2 * tp / d
        g_tp, g_other = 2 * (1 - f) / d, -f / d
    return np.stack([g_tp, g_other, g_other, np.where(d > 0, 0.0, np.nan)], axis=-1)


def _ap_gradient(S: int):
    """Gradient of the binned average precision in cells (bins from the highest score down) x S states."""
    pos_state = np.array([False, True]) if S == 2 else np.array([True, False, True, False])

    def gradient(c):
        cc = c.reshape(c.shape[:-1] + (-1, S))
        pos, tot = cc[..., pos_state].sum(axis=-1), cc.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tg = np.cumsum(tot, axis=-1)
            r = np.where(tg > 0, np.cumsum(pos, axis=-1) / tg, 0.0)
            p_all = pos.sum(axis=-1, keepdims=True)
            ap = (pos * r).sum(axis=-1, keepdims=True) / p_all
            # sums over the bins at or below each bin (b >= k), i.e. reversed cumulative sums
            below1 = np.cumsum((np.where(tg > 0, pos * (1 - r) / tg, 0.0))[..., ::-1], axis=-1)[..., ::-1]
            below2 = np.cumsum((np.where(tg > 0, pos * r / tg, 0.0))[..., ::-1], axis=-1)[..., ::-1]
            d_pos = (r + below1 - ap) / p_all
            d_neg = -below2 / p_all
        return np.where(pos_state, d_pos[..., None], d_neg[..., None]).reshape(c.shape)

    return gradient


def _mean_variances(s1, s2, n):
    """Variances of a group's mean and of the rest's mean (resampled group by group) from sums and
    sums of squares: ``Var = sum_h (s2_h - s1_h^2 / n_h) / n^2`` over the groups involved."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.maximum(s2 - s1 * _ratio(s1, n), 0.0)
        w = np.where(n > 0, w, 0.0)
        n_rest = n.sum() - n
        return w / (n * n), (w.sum() - w) / (n_rest * n_rest)


# ---------------------------------------------------------------------------------------------
# bootstrap intervals
# ---------------------------------------------------------------------------------------------


def _binary_bootstrap(outs, boot, cells: _Cells, n, opts, attrs):
    """Percentile intervals of f1, average precision, log loss and Brier from resampled cells.

    Each group's cell counts are redrawn (:func:`mlimpact.metrics.bootstrap.resample_cells`): exact for f1
    (its cells are the confusion cells); log loss and Brier use the cell sums plus a normal
    within-cell term (exact first two moments); average precision is recomputed on the binned scores
    and the interval is the exact AP shifted by the binned replicates' deviation from the binned
    point estimate. Bins run from the highest score down, so the predicted bins come first.
    """
    counts, S, nb, sums = cells.counts, cells.S, cells.nb, cells.sums
    G, C = counts.shape
    k = int(cells.pred_bins.sum())
    losses = [m for m in _LOSSES if m in boot]
    moments = {}
    for name in losses:
        s1, s2 = sums[name]
        mu = _ratio(s1, counts)
        var = np.maximum(_ratio(s2, counts) - mu * mu, 0.0)
        # centred on the group's value: replicates add deviations (exact where nothing varies)
        moments[name] = tuple(np.ascontiguousarray(np.nan_to_num(a).T, dtype=np.float32)
                              for a in (mu - outs[name].value[:, None], var))

    table = poisson_table()

    def replicate(rng, b):
        x = resample_cells(counts, b, rng, normal_above=NORMAL_ABOVE, poisson=table)  # (C, b, G)
        pos, pg, tg = _cumulative(x, S, nb)
        total = tg[-1].astype(float)
        res = {}
        if "f1" in boot:
            if S == 2:  # the first k bins are predicted positive
                tp = pg[k - 1] if k else np.zeros_like(total, dtype=np.float32)
                fp = tg[k - 1] - tp if k else tp
                fn = pg[-1] - tp
            else:
                by_state = x.reshape(nb, S, b, G)
                tp, fp, fn = (by_state[:, j].sum(axis=0) for j in range(3))
            res["f1"] = _f1(tp.astype(float), fp.astype(float), fn.astype(float))
        for name in losses:
            mu, var = moments[name]
            dev = np.einsum("kbg,kg->bg", x, mu).astype(float)
            spread = np.sqrt(np.maximum(np.einsum("kbg,kg->bg", x, var), 0) * n / total)
            res[name] = outs[name].value + (dev + spread * table_normal(rng, (b, G))) / total
        if "average_precision" in boot:
            res["average_precision"] = _binned_ap(pos, pg, tg).astype(float)
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"],
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, C))
    attrs["n_boot"] = min(attrs.get("n_boot", used), used)
    shift = {}
    if "average_precision" in boot:
        point = _binned_ap(*_cumulative(counts.T.astype(np.float32)[:, None, :], S, nb))[0]
        shift["average_precision"] = outs["average_precision"].value - point.astype(float)
    _apply_bootstrap(outs, boot, reps, shift, opts)


def _cumulative(x, S: int, nb: int):
    """Per-bin positives and the running positives and rows from the highest bin down: ``(nb, b, G)`` each."""
    cells = x.reshape((nb, S) + x.shape[1:])
    if S == 2:
        pos = cells[:, 1]
        tot = cells[:, 0] + pos
    else:
        pos = cells[:, 0] + cells[:, 2]
        tot = cells.sum(axis=1)
    return pos, _running_sum(pos), _running_sum(tot, out=tot)


def _running_sum(a, out=None):
    """``np.cumsum(a, axis=0)`` as a loop over the (few) bins: numpy accumulates along a short outer
    axis one element at a time, ten times slower than adding whole contiguous rows."""
    out = np.empty_like(a) if out is None else out
    out[0] = a[0]
    for k in range(1, len(a)):
        np.add(out[k - 1], a[k], out=out[k])
    return out


def _binned_ap(pos, pg, tg):
    """Average precision with the bins as tie groups (float32; NaN without positives). Overwrites ``tg``."""
    tg += np.float32(1e-30)  # where no rows are at or above a bin, it has no positives either: 0 / tiny
    ratio = np.divide(pg, tg, out=tg)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("kbg,kbg->bg", pos, ratio) / pg[-1]
