"""Regression metrics of every group from sums of per-row errors (r2 with an exact two-pass total sum of
squares); bootstrap on (truth quantile x error quantile) cells."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlimpact.metrics.base import (
    BOOT_REG_ERROR_BINS,
    BOOT_REG_Y_BINS,
    NO_ROWS,
    NORMAL_ABOVE,
    _apply_bootstrap,
    _chunk,
    _Out,
    _ratio,
    _resampled_sum,
)
from mlimpact.metrics.uncertainty import multinomial_resample, run_bootstrap


@dataclass(eq=False)
class RegressionStats:
    """Per-group sufficient statistics of regression rows (counted from rows here or by an engine).

    ``sums``: per metric the group sums of the per-row error term (``mae`` |e|, ``mean_error`` e, ``rmse`` e²,
    ``mape`` |e| / max(|y|, eps)); ``sst``: the two-pass total sum of squares; ``s1``/``s2``: sums of the
    globally centred truth and its square; ``cells``: the bootstrap's (truth quantile x error quantile) cell
    counts ``(G, C)`` and ``cell_sums`` (term -> (sum, sum of squares) per cell; ``yc``/``yc2`` sums only).
    """

    n: np.ndarray
    sums: dict
    zero_truth: np.ndarray
    sst: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    cells: np.ndarray | None = None
    cell_sums: dict = field(default_factory=dict)


def regression_terms(y, pred) -> dict:
    """The per-row error terms of every regression metric (one owner: rows here, engines in SQL).

    >>> {k: v.tolist() for k, v in regression_terms(np.array([2.0]), np.array([3.0])).items()}
    {'mae': [1.0], 'mean_error': [1.0], 'rmse': [1.0], 'mape': [0.5]}
    """
    e = np.asarray(pred, dtype=float) - np.asarray(y, dtype=float)
    with np.errstate(over="ignore"):  # scikit-learn's denominator: max(|y|, machine epsilon)
        ape = np.abs(e) / np.maximum(np.abs(y), np.finfo(float).eps)
    return {"mae": np.abs(e), "mean_error": e, "rmse": e * e, "mape": ape}


def regression_stats(y, pred, codes, G, *, cells: bool) -> RegressionStats:
    """:class:`RegressionStats` of rows (``cells``: also the bootstrap's cells)."""
    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    per_row = regression_terms(y, pred)
    n = np.bincount(codes, minlength=G).astype(float)
    sums = {k: np.bincount(codes, weights=v, minlength=G) for k, v in per_row.items()}
    ybar = _ratio(np.bincount(codes, weights=y, minlength=G), n)
    sst = np.bincount(codes, weights=(y - ybar[codes]) ** 2, minlength=G) if len(y) else np.zeros(G)
    yc = y - (y.mean() if len(y) else 0.0)
    stats = RegressionStats(n=n, sums=sums, zero_truth=np.bincount(codes, weights=(y == 0), minlength=G) > 0,
                            sst=sst, s1=np.bincount(codes, weights=yc, minlength=G),
                            s2=np.bincount(codes, weights=yc * yc, minlength=G))
    if cells:
        by, nby = _qbins(y, BOOT_REG_Y_BINS)
        be, nbe = _qbins(per_row["mean_error"], BOOT_REG_ERROR_BINS)
        C = nby * nbe
        flat = codes.astype(np.int64) * C + by * nbe + be
        stats.cells = np.bincount(flat, minlength=G * C).reshape(G, C)
        terms = dict(per_row, yc=yc, yc2=yc * yc)
        stats.cell_sums = {k: (np.bincount(flat, weights=v, minlength=G * C).reshape(G, C),
                               np.bincount(flat, weights=v * v, minlength=G * C).reshape(G, C))
                           for k, v in terms.items()}
    return stats


def _regression(y, pred, codes, G, *, want, opts, attrs):
    """Regression metrics of every group from per-row error sums; intervals from resampled cells."""
    stats = regression_stats(y, pred, codes, G, cells=bool((opts["intervals"] or opts["compare"]) and want))
    return regression_from_stats(stats, G, want=want, opts=opts, attrs=attrs)


def regression_from_stats(st: RegressionStats, G, *, want, opts, attrs):
    """Every regression metric of every group from its sufficient statistics: ``(outs, n, positives)``."""
    compare = opts["compare"]
    n = st.n
    n_all = n.sum()
    outs = {name: _Out(G) for name in want}
    for o in outs.values():
        o.explain(n == 0, NO_ROWS)
    sums = st.sums
    for k in ("mae", "mean_error", "mape", "rmse"):
        if k in outs:
            outs[k].value = _ratio(sums[k], n)
            if compare:
                outs[k].rest = _ratio(sums[k].sum() - sums[k], n_all - n)
    if "rmse" in outs:
        outs["rmse"].value = np.sqrt(outs["rmse"].value)
        outs["rmse"].rest = np.sqrt(outs["rmse"].rest)
    if "mape" in outs:
        outs["mape"].explain(st.zero_truth, "mape is undefined when a true value is 0; this group has one")
        outs["mape"].value[st.zero_truth] = np.nan
    if "r2" in outs:
        _r2(outs["r2"], st, n, compare)
    if (opts["intervals"] or compare) and outs:
        _regression_bootstrap(outs, st, G, n, opts, attrs)
    return outs, n, np.full(G, np.nan)


def _r2(o: _Out, st: RegressionStats, n, compare) -> None:
    """r2 of every group (and of the rest) with an exact two-pass total sum of squares."""
    n_all = n.sum()
    sse, sst, s1, s2 = st.sums["rmse"], st.sst, st.s1, st.s2
    o.explain(n < 2, "r2 needs at least 2 rows")
    o.explain(sst == 0, "r2 is undefined when the true values do not vary in this group")
    o.value = np.where((n >= 2) & (sst > 0), 1 - _ratio(sse, np.where(sst > 0, sst, 1)), np.nan)
    if compare:
        nr = n_all - n
        sst_r = (s2.sum() - s2) - _ratio((s1.sum() - s1) ** 2, nr)
        sse_r = sse.sum() - sse
        o.rest = np.where((nr >= 2) & (sst_r > 1e-12 * np.maximum(s2.sum() - s2, 1e-300)),
                          1 - _ratio(sse_r, sst_r), np.nan)


def _qbins(x, k):
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64), 1
    edges = np.unique(np.quantile(x, np.linspace(0, 1, k + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right"), len(edges) + 1


def _r2_of(sse, a, b, nn):
    with np.errstate(divide="ignore", invalid="ignore"):
        sst_ = b - a * a / nn
        return np.where((nn >= 2) & (sst_ > 0), 1 - sse / sst_, np.nan)


def _moments(count, pair):
    """Per-cell mean and (population) variance from the cell's count, sum and sum of squares."""
    s, ss = pair
    mu = _ratio(s, count)
    var = np.maximum(_ratio(ss, count) - mu * mu, 0.0)
    return np.nan_to_num(mu), np.nan_to_num(var)


def _regression_bootstrap(outs, st: RegressionStats, G, n, opts, attrs) -> None:
    """Percentile intervals from resampled (truth quantile bin x error quantile bin) cells per group."""
    compare, n_all = opts["compare"], n.sum()
    counts = st.cells
    C = counts.shape[1]
    cnt = counts.astype(float)
    mom = {k: _moments(cnt, st.cell_sums[k]) for k in ("mae", "mean_error", "rmse", "mape")}
    ycm = _moments(cnt, st.cell_sums["yc"])[0]
    y2m = _moments(cnt, st.cell_sums["yc2"])[0]
    e2m = mom["rmse"][0]
    boot = [k for k in ("mae", "rmse", "r2", "mean_error", "mape") if k in outs]

    def replicate(rng, b):
        m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE)
        res = {}
        for k in ("mae", "mean_error", "mape", "rmse"):
            if k in boot:
                s = _resampled_sum(m, *mom[k], rng)
                if k == "rmse":
                    s = np.maximum(s, 0.0)
                res[k] = s / n
                if compare:
                    res[k + "_rest"] = (s.sum(axis=1, keepdims=True) - s) / (n_all - n)
        if "rmse" in res:
            res["rmse"] = np.sqrt(res["rmse"])
            if compare:
                res["rmse_rest"] = np.sqrt(np.maximum(res["rmse_rest"], 0))
        if "r2" in boot:
            sse, a, q = (m * e2m).sum(-1), (m * ycm).sum(-1), (m * y2m).sum(-1)
            res["r2"] = _r2_of(sse, a, q, n)
            if compare:
                res["r2_rest"] = _r2_of(sse.sum(1, keepdims=True) - sse, a.sum(1, keepdims=True) - a,
                                       q.sum(1, keepdims=True) - q, n_all - n)
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"],
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, C))
    attrs["n_boot"] = used
    _apply_bootstrap(outs, boot, reps, {}, opts)
