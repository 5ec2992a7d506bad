"""Regression metrics of every group from sums of per-row errors (r2 with an exact two-pass total sum of
squares); bootstrap on (truth quantile x error quantile) cells."""

from __future__ import annotations

import numpy as np

from mlimpact.metrics.base import (
    BOOT_REG_ERROR_BINS,
    BOOT_REG_Y_BINS,
    NO_ROWS,
    NORMAL_ABOVE,
    _apply_bootstrap,
    _cell_moments,
    _chunk,
    _Out,
    _ratio,
    _resampled_sum,
)
from mlimpact.metrics.uncertainty import multinomial_resample, run_bootstrap


def _regression(y, pred, codes, G, *, want, opts, attrs):
    """Regression metrics of every group from per-row error sums; intervals from resampled cells."""
    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    compare = opts["compare"]
    e = pred - y
    n = np.bincount(codes, minlength=G).astype(float)
    n_all = n.sum()
    outs = {name: _Out(G) for name in want}
    for o in outs.values():
        o.explain(n == 0, NO_ROWS)
    zero_truth = np.bincount(codes, weights=(y == 0), minlength=G) > 0
    with np.errstate(over="ignore"):  # scikit-learn's denominator: max(|y|, machine epsilon)
        ape = np.abs(e) / np.maximum(np.abs(y), np.finfo(float).eps)
    per_row = {"mae": np.abs(e), "mean_error": e, "rmse": e * e, "mape": ape}
    sums = {k: np.bincount(codes, weights=v, minlength=G) for k, v in per_row.items() if k in outs or k == "rmse"}
    for k in ("mae", "mean_error", "mape", "rmse"):
        if k in outs:
            outs[k].value = _ratio(sums[k], n)
            if compare:
                outs[k].rest = _ratio(sums[k].sum() - sums[k], n_all - n)
    if "rmse" in outs:
        outs["rmse"].value = np.sqrt(outs["rmse"].value)
        outs["rmse"].rest = np.sqrt(outs["rmse"].rest)
    if "mape" in outs:
        outs["mape"].explain(zero_truth, "mape is undefined when a true value is 0; this group has one")
        outs["mape"].value[zero_truth] = np.nan
    yc = y - (y.mean() if len(y) else 0.0)
    if "r2" in outs:
        _r2(outs["r2"], y, yc, sums["rmse"], codes, G, n, compare)
    if (opts["intervals"] or compare) and outs:
        _regression_bootstrap(outs, y, e, yc, per_row, codes, G, n, opts, attrs)
    return outs, n, np.full(G, np.nan)


def _r2(o: _Out, y, yc, sse, codes, G, n, compare) -> None:
    """r2 of every group (and of the rest) with an exact two-pass total sum of squares."""
    n_all = n.sum()
    ybar = _ratio(np.bincount(codes, weights=y, minlength=G), n)
    sst = np.bincount(codes, weights=(y - ybar[codes]) ** 2, minlength=G)
    s1, s2 = np.bincount(codes, weights=yc, minlength=G), np.bincount(codes, weights=yc * yc, minlength=G)
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


def _regression_bootstrap(outs, y, e, yc, per_row, codes, G, n, opts, attrs) -> None:
    """Percentile intervals from resampled (truth quantile bin x error quantile bin) cells per group."""
    compare, n_all = opts["compare"], n.sum()
    by, nby = _qbins(y, BOOT_REG_Y_BINS)
    be, nbe = _qbins(e, BOOT_REG_ERROR_BINS)
    C = nby * nbe
    flat = codes.astype(np.int64) * C + by * nbe + be
    counts = np.bincount(flat, minlength=G * C).reshape(G, C)
    mom = {k: tuple(a.reshape(G, C) for a in _cell_moments(flat, G * C, v)) for k, v in per_row.items()}
    ycm = _cell_moments(flat, G * C, yc)[0].reshape(G, C)
    y2m = _cell_moments(flat, G * C, yc * yc)[0].reshape(G, C)
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
