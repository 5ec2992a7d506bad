"""The bootstrap of cell sums behind every interval of :mod:`mlimpact.impact` and :mod:`mlimpact.compare`.

Rows are grouped into cells whose decisions agree (score bin × label, or the pattern of every
policy's decision); cell counts are resampled (multinomial), and the spread of money within a cell
enters as a normal term with the cell's exact covariance, so sums and paired differences have the
first two moments of the row bootstrap. With numeric costs the rows of a cell are identical and the
bootstrap is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlimpact.impact.values import Gains
from mlimpact.metrics import percentile_interval, run_bootstrap

__all__ = ["quantiles_of_counts", "make_cells_of_units", "_distinct", "cell_bootstrap", "make_cells", "GRID_ROW_QUANTILES", "GRID_POSITIVE_QUANTILES", "NORMAL_ABOVE", "SMALL_CELL", "_Cells", "make_cells",
           "_resample_counts", "cell_bootstrap", "_basic_interval", "_grid", "_cut_index", "make_layout",
           "cells_of_layout", "layout_draws", "replicates_of_draws", "grid_quantiles"]

#: score cut-offs in the bootstrap's grid: row quantiles plus quantiles of the positives' scores
GRID_ROW_QUANTILES = 256
GRID_POSITIVE_QUANTILES = 256
#: up to this many rows in all, cell counts are an exact multinomial draw
NORMAL_ABOVE = 1000
#: cells with fewer rows are resampled with exact (Poisson) draws
SMALL_CELL = 50
#: floats per bootstrap chunk (replicates × cells × columns), bounding memory
_CHUNK_FLOATS = 2_000_000


@dataclass(frozen=True, eq=False)
class _Cells:
    group: np.ndarray    # (C,) group of each cell, ascending
    pattern: np.ndarray  # (C,) pattern of each cell
    count: np.ndarray    # (C,)
    mean: np.ndarray     # (C, P)
    root: np.ndarray | None  # (C, P, P) square root of the within-cell covariance; None when all zero
    starts: np.ndarray   # first cell of each present group
    present: np.ndarray  # the groups present
    n_groups: int
    src: np.ndarray | None = None  # (C, E) per derived column, the column of ``mean`` it equals in each cell


@dataclass(frozen=True, eq=False)
class _Layout:
    """Which rows fall in which cell, without money: the same for every cost model (kept across cost changes)."""

    inv: np.ndarray      # (n,) cell of each row
    group: np.ndarray    # (C,) group of each cell, ascending
    pattern: np.ndarray  # (C,) pattern of each cell
    count: np.ndarray    # (C,) rows per cell
    starts: np.ndarray   # first cell of each present group
    present: np.ndarray  # the groups present
    n_groups: int


def make_layout(group, pattern, n_groups: int) -> _Layout:
    """The cells of :func:`make_cells` (rows grouped by ``group`` × ``pattern``) before any money is put on them."""
    group = np.asarray(group, dtype=np.int64)
    pattern = np.asarray(pattern, dtype=np.int64)
    n_pat = int(pattern.max()) + 1 if len(pattern) else 1
    keys, inv = _distinct(group * n_pat + pattern, n_groups * n_pat)
    count = np.bincount(inv, minlength=len(keys)).astype(float)
    cg = keys // n_pat
    starts = np.flatnonzero(np.r_[True, cg[1:] != cg[:-1]]) if len(cg) else np.zeros(0, dtype=np.int64)
    return _Layout(inv, cg, keys % n_pat, count, starts, cg[starts], n_groups)


def make_cells(group, pattern, values, n_groups: int, derived=()) -> _Cells:
    """Cells of rows (``group`` × ``pattern``) with the mean and spread of each money column in ``values``.

    ``derived``: ``(bit, a, b)`` per extra column, whose value is column ``a`` where the pattern has ``bit`` set,
    else column ``b`` (a policy's money: flag or keep). The bit is one value per cell, so in every cell such a
    column *is* one of the base columns: :func:`cell_bootstrap` draws the base columns only and gives each derived
    column's total as the sum of its base column's cell sums (``derived`` in its replicates), which has the same
    distribution as drawing the stacked columns with their (rank-deficient) covariance, at a fraction of the work.
    """
    return cells_of_layout(make_layout(group, pattern, n_groups), values, derived)


def cells_of_layout(layout: _Layout, values, derived=()) -> _Cells:
    """:func:`make_cells` on a :func:`make_layout` computed once: only the money is new. ``values``: (n, B), or
    a list of B columns."""
    inv, K = layout.inv, len(layout.count)
    if isinstance(values, list | tuple):
        cols = [np.asarray(c, dtype=float) for c in values]
    else:
        cols = list(np.ascontiguousarray(np.asarray(values, dtype=float).reshape(len(inv), -1).T))
    B = len(cols)
    mean = np.column_stack([np.bincount(inv, weights=c, minlength=K) / layout.count for c in cols]) if B \
        else np.zeros((K, 0))
    root = _root(layout, cols, mean) if B else None
    return _Cells(layout.group, layout.pattern, layout.count, mean, root, layout.starts, layout.present,
                  layout.n_groups, _derived_src(layout.pattern, derived))


def _derived_src(pattern: np.ndarray, derived) -> np.ndarray | None:
    """(C, E): the base column each derived column ``(bit, a, b)`` equals in each cell (its pattern's bit)."""
    if not derived:
        return None
    return np.column_stack([np.where((pattern >> bit) & 1, a, b) for bit, a, b in derived]).astype(np.int64)


def _largest(x: np.ndarray) -> float:
    """``abs(x).max()`` without the temporary."""
    return max(float(x.max()), -float(x.min()))


def _root(layout: _Layout, cols: list, base) -> np.ndarray | None:
    """Square roots of the cells' covariances (None when no column varies within a cell beyond 1e-12 of its
    largest value); a column that never deviates has exactly zero covariances, so it is not summed."""
    inv, K, B = layout.inv, len(layout.count), len(cols)
    devs = [c - base[:, p][inv] for p, c in enumerate(cols)]
    largest = [_largest(d) for d in devs]
    if not any(big > 1e-12 * max(_largest(c), 1.0) for big, c in zip(largest, cols, strict=True)):
        return None
    moving = [p for p in range(B) if largest[p] > 0]
    cov = np.zeros((K, B, B))
    for i, p in enumerate(moving):  # a handful of columns
        for q in moving[i:]:
            c = np.bincount(inv, weights=devs[p] * devs[q], minlength=K) / layout.count
            cov[:, p, q] = c
            cov[:, q, p] = c
    lam, vec = np.linalg.eigh(cov)
    return _symmetric_root(lam, vec)


def _symmetric_root(lam: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """The symmetric square root V·diag(√λ)·Vᵀ of each cell's covariance: unique, so the draws do not depend on
    the signs (or, for equal eigenvalues, the rotation) the eigen solver picks for its vectors, and rows and an
    engine's units give the same intervals. Eigenvalues below 1e-10 of the cell's largest are rounding (a cell
    whose columns are tied, as e, |e| and e² of a few distinct errors, is exactly rank-deficient) and count as 0:
    their square roots would otherwise turn rounding into noise of 1e-8 in the draws."""
    top = np.abs(lam).max(axis=-1, keepdims=True) if lam.size else lam
    return (vec * np.sqrt(np.where(lam > 1e-10 * top, lam, 0.0))[:, None, :]) @ np.swapaxes(vec, 1, 2)


def _distinct(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for keys in ``[0, bound)``: one counting pass instead of a sort
    while the range is small (cells are a few thousand score bins × decision patterns).

    >>> k, inv = _distinct(np.array([5, 2, 5, 9]), 10)
    >>> k.tolist(), inv.tolist()
    ([2, 5, 9], [1, 0, 1, 2])
    """
    if not len(keys) or bound > max(4 * len(keys), 1 << 20) or keys.min() < 0:
        return np.unique(keys, return_inverse=True)
    present = np.bincount(keys, minlength=bound) > 0
    distinct = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return distinct, position[keys]


def _resample_counts(count: np.ndarray, b: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap cell counts (b, C): Poisson draws for small cells, the normal approximation for cells of
    at least SMALL_CELL rows, then every replicate rescaled to the total number of rows.

    Poisson-then-rescale is the multinomial bootstrap up to terms of order 1/n; the exact draw for
    small cells keeps the skew of a few large amounts (one fraud of 5,000 is there 0, 1 or 2 times).

    >>> m = _resample_counts(np.array([1.0, 5.0, 4000.0]), 3, np.random.default_rng(0))
    >>> m.sum(axis=1).round(6).tolist()
    [4006.0, 4006.0, 4006.0]
    """
    n = count.sum()
    if n <= NORMAL_ABOVE:
        return rng.multinomial(int(round(n)), count / n, size=b).astype(float)
    small = count < SMALL_CELL
    m = np.empty((b, len(count)))
    if small.any():
        m[:, small] = rng.poisson(count[small], size=(b, int(small.sum())))
    if (~small).any():
        c = count[~small]
        m[:, ~small] = np.maximum(c + np.sqrt(c) * rng.standard_normal((b, len(c))), 0.0)
    total = m.sum(axis=1, keepdims=True)
    return m * (n / np.where(total > 0, total, 1.0))


def cell_bootstrap(cells: _Cells, *, n_boot: int, seed: int, time_budget_s: float | None) -> tuple[dict, int]:
    """Replicates of the cell counts ``counts`` (b, C) and of per-group column sums ``sums`` (b, G, P).

    Cell counts come from :func:`_resample_counts` (the multinomial bootstrap of rows);
    within a cell the resampled sum is ``m · mean`` plus a normal term with covariance ``m · Σ``.
    """
    C, P = cells.mean.shape
    noisy = _noisy(cells)

    def replicate(rng, b):
        m = _resample_counts(cells.count, b, rng)
        z = rng.standard_normal((b, C, P)) if P and cells.root is not None else None
        return _replicate_sums(cells, m, z, noisy)

    return run_bootstrap(replicate, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s, chunk=_chunk(C, P))


def _chunk(C: int, P: int) -> int:
    return int(np.clip(_CHUNK_FLOATS // max(1, C * max(P, 1) * 2), 5, 500))


def _noisy(cells: _Cells) -> np.ndarray | None:
    """The cells whose money varies (a nonzero covariance root); None when that is every cell."""
    if cells.root is None:
        return None
    noisy = np.flatnonzero(cells.root.reshape(len(cells.root), -1).any(axis=1))
    return None if len(noisy) == len(cells.root) else noisy


def _replicate_sums(cells: _Cells, m: np.ndarray, z: np.ndarray | None, noisy: np.ndarray | None,
                    columns: int | None = None) -> dict:
    """``counts`` and per-group ``sums`` of the replicates with cell counts ``m`` (b, C) and, when the money varies
    within cells, standard normals ``z`` (b, C, P); only the ``noisy`` cells (all when None) get the normal term.
    With derived columns (``cells.src``), ``derived`` (b, E): each one's total over every cell. ``columns``: sums of
    the first few columns only (the same numbers as theirs among all; not with derived columns)."""
    b, (C, P) = len(m), cells.mean.shape
    Q = P if columns is None or cells.src is not None else min(int(columns), P)
    out = {"counts": m}
    if P:
        mean, root = cells.mean[:, :Q], None if cells.root is None else cells.root[:, :Q]
        contrib = m[:, :, None] * mean[None]
        if z is not None and noisy is None:
            contrib += np.sqrt(m)[:, :, None] * np.einsum("bcp,cqp->bcq", z, root, optimize=True)
        elif z is not None and len(noisy):
            contrib[:, noisy] += np.sqrt(m[:, noisy])[:, :, None] * np.einsum(
                "bcp,cqp->bcq", z[:, noisy], root[noisy], optimize=True)
        sums = np.zeros((b, cells.n_groups, Q))
        if C:
            sums[:, cells.present] = np.add.reduceat(contrib, cells.starts, axis=1)
        out["sums"] = sums
        if cells.src is not None:  # a derived column's cell sum is its base column's
            flat = contrib.reshape(b, C * Q)
            out["derived"] = np.stack([flat[:, np.arange(C) * Q + cells.src[:, e]].sum(axis=1)
                                       for e in range(cells.src.shape[1])], axis=1)
    return out


def layout_draws(layout: _Layout, P: int, *, n_boot: int, seed: int, time_budget_s: float | None) -> tuple[dict, int]:
    """The random part of :func:`cell_bootstrap` on cells of ``layout`` with ``P`` money columns, drawn as it draws
    them (the same seeds, chunks and order): cell counts ``m`` and the normals ``z`` of the within-cell term. They
    do not depend on the money, so they are drawn once and :func:`replicates_of_draws` puts each cost model on them.
    """
    C = len(layout.count)

    def replicate(rng, b):
        return {"m": _resample_counts(layout.count, b, rng), "z": rng.standard_normal((b, C, P))}

    return run_bootstrap(replicate, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s, chunk=_chunk(C, P))


def replicates_of_draws(cells: _Cells, draws: dict, columns: int | None = None) -> dict:
    """:func:`cell_bootstrap`'s replicates of ``cells`` from :func:`layout_draws` of their layout: the same numbers
    (``columns``: of the first few money columns only, see :func:`_replicate_sums`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _replicate_sums(cells, draws["m"], draws["z"] if cells.root is not None else None, _noisy(cells),
                               columns)


def _basic_interval(value, reps):
    """Basic (reverse-percentile) interval: 2·value − the upper and lower percentiles."""
    lo, hi = percentile_interval(reps)
    return 2 * value - hi, 2 * value - lo


def quantiles_of_counts(values: np.ndarray, counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile(np.repeat(values, counts), probs, method="inverted_cdf")`` for ascending distinct ``values``
    without repeating them (an engine's units hold millions of rows each).

    >>> quantiles_of_counts(np.array([1.0, 2.0, 5.0]), np.array([2, 1, 3]), np.array([0, 0.5, 0.51, 1])).tolist()
    [1.0, 2.0, 5.0, 5.0]
    """
    n = int(counts.sum())
    k = np.clip(np.ceil(n * np.asarray(probs, dtype=float)) - 1, 0, n - 1)  # the smallest x with F(x) >= p
    return values[np.searchsorted(np.cumsum(counts), k, side="right")]


def _grid(g: Gains, extra_cuts, quantiles: list | None = None) -> np.ndarray:
    """The bootstrap's cut-offs: :func:`grid_quantiles` (or those ``quantiles``, kept) plus ``extra_cuts``."""
    if g.weight is not None:  # units: scores with their rows
        return _grid_of_units(g, extra_cuts)
    parts = list(grid_quantiles(g) if quantiles is None else quantiles)
    parts.append(np.asarray([c for c in extra_cuts if c is not None and math.isfinite(c)], dtype=float))
    return np.unique(np.concatenate(parts))


def grid_quantiles(g: Gains) -> list:
    """Quantiles of the rows' scores and of the positives' scores: the part of the grid no cost changes."""
    if g.bins is not None:  # the sorted scores from the Dataset's one sort
        distinct, inverse = g.bins
        s = np.repeat(distinct, np.bincount(inverse, minlength=len(distinct)))
        pos = np.repeat(distinct, np.bincount(inverse[g.y], minlength=len(distinct)))
    else:
        s = np.sort(g.score)
        pos = np.sort(g.score[g.y])
    parts = [np.quantile(s, np.linspace(0, 1, GRID_ROW_QUANTILES + 1), method="inverted_cdf")] if len(s) else []
    if len(pos):
        parts.append(np.quantile(pos, np.linspace(0, 1, GRID_POSITIVE_QUANTILES + 1), method="inverted_cdf"))
    return parts


def _grid_of_units(g: Gains, extra_cuts) -> np.ndarray:
    distinct, inverse = np.unique(g.score, return_inverse=True)
    rows = np.bincount(inverse, weights=g.weight, minlength=len(distinct)).astype(np.int64)
    pos = np.bincount(inverse, weights=g.weight * g.y, minlength=len(distinct)).astype(np.int64)
    parts = []
    if rows.sum():
        parts.append(quantiles_of_counts(distinct, rows, np.linspace(0, 1, GRID_ROW_QUANTILES + 1)))
    if pos.sum():
        parts.append(quantiles_of_counts(distinct, pos, np.linspace(0, 1, GRID_POSITIVE_QUANTILES + 1)))
    parts.append(np.asarray([c for c in extra_cuts if c is not None and math.isfinite(c)], dtype=float))
    return np.unique(np.concatenate(parts))


def make_cells_of_units(group, pattern, weight, sums, cross, varies, n_groups: int, shift=None,
                        derived=()) -> _Cells:
    """:func:`make_cells` from units (an engine's groups of rows) instead of rows.

    Per unit: ``weight`` rows, ``sums`` (U, P) of each money column, ``cross`` (U, P, P) of their products and
    ``varies`` (U,) whether the unit's rows differ in any column, or (U, P) in each. A cell's covariance is its
    rows' (from the sums); a column's is exactly zero, as in memory, where no unit of the cell varies in it and
    its units' means agree. ``shift`` (U, P): the sums are of each value minus this, the same for every unit of
    a cell (an engine subtracts a value near the cell's own, so the covariance loses no digits to cancellation).
    ``derived``: as in :func:`make_cells`.
    """
    group = np.asarray(group, dtype=np.int64)
    pattern = np.asarray(pattern, dtype=np.int64)
    w = np.asarray(weight, dtype=float)
    n_pat = int(pattern.max()) + 1 if len(pattern) else 1
    keys, inv = _distinct(group * n_pat + pattern, n_groups * n_pat)
    count = np.bincount(inv, weights=w, minlength=len(keys))
    P = sums.shape[1]
    total = np.column_stack([np.bincount(inv, weights=sums[:, p], minlength=len(keys)) for p in range(P)]) if P \
        else np.zeros((len(keys), 0))
    mean = total / count[:, None]
    base = np.zeros_like(mean)
    if shift is not None:
        base[inv] = np.asarray(shift, dtype=float).reshape(len(w), P)
    scale = np.maximum(np.abs(sums / w[:, None]).max(axis=0, initial=0.0), 1.0)
    varies = np.asarray(varies, dtype=bool)
    apart = (np.abs(sums / w[:, None] - mean[inv]) > 1e-12 * scale) | (varies if varies.ndim == 2 else varies[:, None])
    spread = np.column_stack([np.bincount(inv, weights=apart[:, p], minlength=len(keys)) > 0 for p in range(P)]) \
        if P else np.zeros((len(keys), 0), dtype=bool)
    root = None
    if spread.any():  # a column that does not vary in a cell has no covariance there (exactly 0, as in memory)
        cov = np.zeros((len(keys), P, P))
        for p in range(P):
            for q in range(p, P):
                c = np.bincount(inv, weights=cross[:, p, q], minlength=len(keys)) / count - mean[:, p] * mean[:, q]
                cov[:, p, q] = cov[:, q, p] = np.where(spread[:, p] & spread[:, q], c, 0.0)
        lam, vec = np.linalg.eigh(cov)
        root = _symmetric_root(lam, vec)
    cg = keys // n_pat
    starts = np.flatnonzero(np.r_[True, cg[1:] != cg[:-1]]) if len(cg) else np.zeros(0, dtype=np.int64)
    return _Cells(cg, keys % n_pat, count, base + mean, root, starts, cg[starts], n_groups,
                  _derived_src(keys % n_pat, derived))


def _cut_index(cuts: np.ndarray, t: float) -> int:
    """Cut index j whose threshold is ``t`` (t must be in cuts, or above them all: K+1)."""
    j = int(np.searchsorted(cuts, t, side="left"))
    return j + 1 if j < len(cuts) and cuts[j] == t else len(cuts) + 1
