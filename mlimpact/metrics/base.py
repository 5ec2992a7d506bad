"""Pieces shared by the task modules of :mod:`mlimpact.metrics`: the per-metric result arrays, ratios,
proportions with Wilson intervals, the bootstrap's cell helpers and its percentile intervals."""

from __future__ import annotations

import numpy as np

from mlimpact.metrics.registry import METRICS
from mlimpact.metrics.uncertainty import (
    Z95,
    bootstrap_p_value,
    percentile_interval,
    two_proportion_test,
    wilson_interval,
)

#: score bins used by the binary bootstrap (global quantiles, the threshold always an edge)
BOOT_SCORE_BINS = 10
#: finer score bins for the rest-of-data average precision
REST_AP_BINS = 256
#: bins of the per-row loss (multiclass log loss) and of truth x error (regression) for the bootstrap
BOOT_LOSS_BINS = 16
BOOT_REG_Y_BINS = 4
BOOT_REG_ERROR_BINS = 16
#: multiclass and regression: groups with at least this many rows resample their cells from the
#: multinomial's normal approximation (binary: :data:`mlimpact.metrics.bootstrap.NORMAL_ABOVE`)
NORMAL_ABOVE = 1000
#: cap on the floats of one bootstrap chunk (replicates x groups x cells), bounding memory
_CHUNK_CELLS = 1_500_000

NO_ROWS = "this group has no rows"
#: metrics whose bootstrap interval is clipped to [0, 1]
_UNIT_INTERVAL = ("f1", "balanced_accuracy", "macro_f1", "weighted_f1")


class _Out:
    """Arrays of one metric over groups: value, interval, note, rest value and p-value."""

    def __init__(self, n_groups: int) -> None:
        self.value = np.full(n_groups, np.nan)
        self.low = np.full(n_groups, np.nan)
        self.high = np.full(n_groups, np.nan)
        self.rest = np.full(n_groups, np.nan)
        self.p = np.full(n_groups, np.nan)
        self.note = np.full(n_groups, None, dtype=object)
        self._free = np.ones(n_groups, dtype=bool)

    def explain(self, mask, text: str) -> None:
        """Give the groups in ``mask`` (that have no note yet) the note ``text``; first note wins."""
        m = np.asarray(mask, dtype=bool) & self._free
        self.note[m] = text
        self._free &= ~m

    def finish(self) -> None:
        """Null everything of groups whose value is undefined; make sure each such group has a note."""
        bad = np.isnan(self.value)
        self.explain(bad, "undefined for this group")
        for a in (self.low, self.high, self.rest, self.p):
            a[bad] = np.nan
        self.note[~bad] = None


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _proportion(out: _Out, num, den, *, intervals: bool, compare: bool) -> None:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out.value = _ratio(num, den)
    if intervals:
        out.low, out.high = wilson_interval(num, den, z=Z95)
    if compare:
        rk, rn = num.sum() - num, den.sum() - den
        out.rest = _ratio(rk, rn)
        out.p = two_proportion_test(num, den, rk, rn)[1]


def _f1(tp, fp, fn):
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _quantile_bin_ids(sorted_values: np.ndarray, n_bins: int, extra_edges=()) -> tuple[np.ndarray, int]:
    """Bin ids of already-sorted values: global quantile bins, ties never split, extra edges added."""
    n = len(sorted_values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 1
    pos = np.linspace(0, n, n_bins + 1).astype(np.int64)[1:-1]
    edges = np.unique(np.concatenate([sorted_values[pos], np.asarray(extra_edges, dtype=float)]))
    bounds = np.searchsorted(sorted_values, edges, side="left")
    ids = np.cumsum(np.bincount(bounds, minlength=n + 1)[:n])
    return ids, len(edges) + 1


def _cell_moments(flat, size, x):
    """Per-cell count-weighted mean and (population) variance of ``x``; cells laid out flat."""
    cnt = np.bincount(flat, minlength=size).astype(float)
    return _moments_of_sums(cnt, np.bincount(flat, weights=x, minlength=size),
                            np.bincount(flat, weights=x * x, minlength=size))


def _moments_of_sums(cnt, s, ss):
    """Per-cell mean and (population) variance from rows, sums and sums of squares (0 in empty cells)."""
    cnt = np.asarray(cnt, dtype=float)
    mu = _ratio(s, cnt)
    var = np.maximum(_ratio(ss, cnt) - mu * mu, 0.0)
    return np.nan_to_num(mu), np.nan_to_num(var)


def _resampled_sum(m, mu, var, rng):
    """Replicate sums from resampled cell counts; the within-cell spread enters as a normal term.

    A cell holding ``m`` resampled rows contributes ``m * mean`` plus the sum of ``m`` draws around
    the mean, whose variance is ``m * within-cell variance``; that part is drawn from a normal. The
    first two moments equal those of the row-level bootstrap exactly.
    """
    base = np.einsum("bgc,gc->bg", m, mu)
    spread = np.sqrt(np.einsum("bgc,gc->bg", m, var))
    return base + spread * rng.standard_normal(base.shape)


def _chunk(n_groups: int, n_cells: int) -> int:
    return int(np.clip(_CHUNK_CELLS // max(1, n_groups * n_cells), 10, 200))


def _apply_bootstrap(outs, names, reps, shift, opts):
    """Percentile intervals (shifted where the replicates are of an approximation) and rest p-values."""
    for name in names:
        o = outs[name]
        r = reps[name]
        if name in shift:
            r = r + shift[name]
        if opts["intervals"]:
            o.low, o.high = percentile_interval(r)
            if METRICS[name].kind in ("proportion", "rank") or name in _UNIT_INTERVAL:
                o.low, o.high = np.clip(o.low, 0, 1), np.clip(o.high, 0, 1)
        if opts["compare"] and name + "_rest" in reps:
            o.p = bootstrap_p_value(o.value - o.rest, reps[name] - reps[name + "_rest"])
