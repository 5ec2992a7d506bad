"""Bootstrap intervals of binary f1, average precision, log loss and Brier score from resampled cells."""

from __future__ import annotations

import numpy as np

from mlimpact.metrics.base import (
    _apply_bootstrap,
    _chunk,
    _f1,
    _ratio,
)
from mlimpact.metrics.binary_cells import _LOSSES, _Cells
from mlimpact.metrics.bootstrap import NORMAL_ABOVE, poisson_table, resample_cells, table_normal
from mlimpact.metrics.uncertainty import (
    run_bootstrap,
)

__all__ = []


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
        second = _ratio(s2, counts)
        var = np.maximum(second - mu * mu, 0.0)
        var = np.where(var <= 1e-12 * second, 0.0, var)  # rounding, not spread: a cell of equal losses (any order)
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
