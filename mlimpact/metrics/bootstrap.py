"""Fast stratified resampling of per-group cell counts for the binary metric bootstrap.

A cell holds rows that are interchangeable for the statistics at hand (a score bin and a label, say).
Redrawing each group's cell counts as the row bootstrap within that group would redraw them is then the
row bootstrap, at the cost of cells instead of rows:

* groups under :data:`NORMAL_ABOVE` rows: an exact multinomial draw (the group total kept);
* larger groups: each cell independently from a Poisson with the cell's count as its mean — by table
  lookup below :data:`POISSON_BELOW` rows, as ``c + sqrt(c) * Z`` (clipped at 0) above. Divided by the
  replicate's total, Poisson counts are the multinomial's shares to first order (the classic Poisson
  bootstrap); the statistics here are ratios or are divided by that total, so draws are never rescaled.

Both tables are indexed by 11 random bits (inverse-transform sampling at 2,048 quantiles), several times
cheaper than numpy's samplers: the normal one has unit variance exactly and tails cut at ±3.5 sd, the
Poisson one holds the exact quantiles of each small integer mean. Against exact multinomial draws, the
95% percentile intervals of f1, average precision, log loss and Brier move by under 1% of their width on
groups of 100 to 600 rows (about 1% at 30 rows), below the Monte Carlo noise of 1,000 replicates
(about 2.5% of the width).

Draws are float32 and laid out cells first, ``(K, replicates, G)``, so that every per-cell operation
runs over one long contiguous vector (numpy is slow on short inner axes) and no BLAS call is needed.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["NORMAL_ABOVE", "POISSON_BELOW", "table_normal", "poisson_table", "resample_cells"]

#: groups with fewer rows get exact multinomial draws
NORMAL_ABOVE = 100
#: in larger groups, cells with fewer rows are drawn from exact Poisson quantiles, others from the normal
POISSON_BELOW = 32
_BITS = 11
_LEVELS = 1 << _BITS
_normal: np.ndarray | None = None  # 2,048 float32 quantiles (8 KB), built on first use


def _normal_table() -> np.ndarray:
    global _normal
    if _normal is None:

        inv = NormalDist().inv_cdf
        t = np.array([inv((i + 0.5) / _LEVELS) for i in range(_LEVELS)])
        t /= np.sqrt(np.mean(t * t))  # symmetric: mean 0; scaled to variance 1
        _normal = t.astype(np.float32)
    return _normal


def _uniform_levels(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Independent uniform integers in ``0..2047`` (uint16), four per 64 random bits."""
    n = int(np.prod(shape, dtype=np.int64))
    idx = rng.bit_generator.random_raw(-(-n // 4)).view(np.uint16)[:n]
    idx >>= 16 - _BITS
    return idx.reshape(shape)


def table_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard normal float32 deviates of ``shape`` from a 2,048-point quantile table (11 random bits each).

    >>> z = table_normal(np.random.default_rng(0), (200_000,))
    >>> z.dtype.name, abs(float(z.mean())) < 0.01, abs(float(z.var()) - 1) < 0.01
    ('float32', True, True)
    """
    shape = (int(shape),) if np.isscalar(shape) else tuple(shape)
    return _normal_table()[_uniform_levels(rng, shape)]


def poisson_table(below: int = POISSON_BELOW) -> np.ndarray:
    """Draw table of :func:`resample_cells`: float32 ``(below + 1, 2048)``.

    Row ``m < below``: the quantiles of Poisson(m) at the 2,048 midpoints ``(j + 0.5) / 2048``; the last
    row: standard normal quantiles (unit variance).

    >>> t = poisson_table(8)
    >>> t.shape, float(t[0].max()), [round(float(t[m].mean()), 1) for m in (1, 4, 7)], round(float(t[8].std()), 3)
    ((9, 2048), 0.0, [1.0, 4.0, 7.0], 1.0)
    """
    m = np.arange(below, dtype=float)[:, None]
    x = np.arange(1, int(below + 8 * np.sqrt(below) + 20), dtype=float)[None, :]
    pmf = np.exp(-m) * np.cumprod(np.concatenate([np.ones_like(m), np.broadcast_to(m / x, (below, x.size))],
                                                 axis=1), axis=1)
    cdf = np.cumsum(pmf, axis=1)
    u = (np.arange(_LEVELS) + 0.5) / _LEVELS
    table = np.empty((below + 1, _LEVELS), dtype=np.float32)
    table[:below] = np.minimum([np.searchsorted(row, u, side="right") for row in cdf], cdf.shape[1] - 1)
    table[below] = _normal_table()
    return table


def resample_cells(counts, n_rep: int, rng: np.random.Generator, *, normal_above: int | None = NORMAL_ABOVE,
                   poisson: np.ndarray | None = None) -> np.ndarray:
    """Redraw each group's cell counts ``n_rep`` times: a float32 ``(K, n_rep, G)`` array.

    Row ``g`` of ``counts`` (``(G, K)`` integer counts) holds a group's cells. Groups with fewer than
    ``normal_above`` rows (``None``: all groups) get exact multinomial draws; the others independent
    Poisson draws, whose totals vary: divide by each replicate's total (ratios need not).
    ``poisson``: :func:`poisson_table`, when the caller draws many chunks.

    >>> m = resample_cells(np.array([[5, 5], [0, 0], [300, 700]]), 4, np.random.default_rng(0))
    >>> m.shape, m.sum(axis=0)[:, :2].tolist(), bool(np.all(np.abs(m.sum(axis=0)[:, 2] - 1000) < 150))
    ((2, 4, 3), [[10.0, 0.0], [10.0, 0.0], [10.0, 0.0], [10.0, 0.0]], True)
    """
    counts = np.asarray(counts, dtype=float)
    G, K = counts.shape
    n = counts.sum(axis=1)
    big = np.zeros(G, dtype=bool) if normal_above is None else n >= normal_above
    if big.all():
        return _poisson_draws(counts, n_rep, rng, poisson)
    exact = _exact_draws(counts[~big], n[~big], n_rep, rng)
    if not big.any():
        return exact
    out = np.empty((K, n_rep, G), dtype=np.float32)
    out[:, :, ~big] = exact
    out[:, :, big] = _poisson_draws(counts[big], n_rep, rng, poisson)
    return out


def _exact_draws(counts, n, n_rep, rng) -> np.ndarray:
    ns = np.rint(n).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(ns[:, None] > 0, counts / ns[:, None], 0.0)
    p[ns == 0, 0] = 1.0
    draws = rng.multinomial(ns, p, size=(n_rep, len(ns)))  # (n_rep, G, K)
    return np.ascontiguousarray(draws.transpose(2, 0, 1), dtype=np.float32)


def _poisson_draws(counts, n_rep, rng, table) -> np.ndarray:
    """Each cell ``table[c, level]`` if ``c < below`` (Poisson quantiles), else ``c + sqrt(c) * normal[level]``
    (never negative for the default table: the normal row stops at -3.5 and ``c >= 32``)."""
    table = poisson_table() if table is None else table
    below = len(table) - 1
    c = np.ascontiguousarray(counts.T, dtype=np.float32)  # (K, G)
    small = c < below
    row = (np.where(small, c, below).astype(np.intp) * _LEVELS)[:, None, :]
    idx = np.add(row, _uniform_levels(rng, (counts.shape[1], n_rep, counts.shape[0])), dtype=np.intp)
    x = table.ravel().take(idx)
    if not small.all():
        x *= np.where(small, 1, np.sqrt(c))[:, None, :]
        x += np.where(small, 0, c)[:, None, :]
        if below < 12:  # a short custom table: c - 3.5 sqrt(c) can fall below 0
            np.maximum(x, 0, out=x)
    return x
