"""Binary sufficient statistics counted by a SQL engine: one ``GROUP BY`` per grouping, small tables back.

For a binary score, every metric mlimpact shows is a function of, per group:

* the *runs*: rows by (score, label) — ROC AUC, its DeLong variance and average precision
  (:mod:`mlimpact.engine.runs`);
* the *cells*: rows by (score bin, label), the bins being the score's global deciles with the
  threshold as an edge, with the sums of the per-row log loss and squared error and their squares —
  the confusion counts, the losses and the bootstrap (:mod:`mlimpact.metrics.binary_cells`).

One query per grouping returns both (``GROUP BY group, score key, bin, label``). The score key is
the score itself while the distinct scores are few enough for the result to stay small
(:data:`RUNS_BUDGET` rows), so the statistics equal the memory path's; beyond that, the key is one of
``K`` equal-width score bins (``K`` chosen so the result fits the budget) and ROC AUC and average
precision come with their largest possible error (:func:`mlimpact.metrics.tables` states it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.engine.memory import row_loss
from mlimpact.engine.sql import bin_index, group_by_sets, loss_sql

__all__ = ["BinarySpec", "BinaryTables", "ScoreKeys", "score_keys", "binary_tables", "binary_tables_many", "RUNS_BUDGET",
           "quantile_edges", "BOOT_SCORE_BINS", "REST_AP_BINS", "linear_quantiles"]

#: rows a grouping's result may have before the score is binned
RUNS_BUDGET = 1_000_000
#: the finest score binning, used when the distinct scores are too many to keep
MAX_KEYS = 1 << 20
#: the bootstrap's score bins and the rest-of-data AP's (the memory path's, mlimpact.metrics.base)
BOOT_SCORE_BINS = 10
REST_AP_BINS = 256


@dataclass(frozen=True)
class BinarySpec:
    """What to count: the usable rows (``where``), the 0/1 label, the score and the losses wanted."""

    where: str
    y: str
    score: str
    threshold: float
    losses: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreKeys:
    """The score's global picture: rows, distinct scores (approximate), range, bin edges."""

    n: int
    distinct: int  #: exact up to 1.5 x the exact limit, else HyperLogLog's estimate
    lo: float
    hi: float
    coarse_edges: np.ndarray  #: the bootstrap's bin edges (score values), threshold included
    fine_edges: np.ndarray  #: REST_AP_BINS quantile edges (score values)
    exact_global: bool  #: the edges are exact order statistics (the memory path's)


def quantile_edges(values: np.ndarray, counts: np.ndarray, n_bins: int) -> np.ndarray:
    """The memory path's quantile edges (``sorted[linspace(0, n, n_bins + 1)[1:-1]]``, made unique) from
    distinct sorted ``values`` with their ``counts``.

    >>> quantile_edges(np.array([0.1, 0.2, 0.9]), np.array([2, 1, 1]), 2).tolist()
    [0.2]
    """
    n = int(counts.sum())
    if n == 0:
        return np.zeros(0)
    pos = np.linspace(0, n, n_bins + 1).astype(np.int64)[1:-1]
    idx = np.searchsorted(np.cumsum(counts), pos, side="right")
    return np.unique(values[idx])


def linear_quantiles(values: np.ndarray, counts: np.ndarray, probs) -> np.ndarray:
    """``np.quantile(np.repeat(values, counts), probs)`` (numpy's default "linear" method, bit for bit) from the
    ascending distinct ``values`` and their ``counts``, without repeating them.

    >>> linear_quantiles(np.array([1.0, 2.0, 4.0]), np.array([2, 1, 1]), [0.5, 0.9]).tolist()
    [1.5, 3.4000000000000004]
    """
    n = int(counts.sum())
    virtual = (n - 1) * np.asarray(probs, dtype=float)  # numpy's virtual index, gamma and lerp, as it computes them
    previous = np.floor(virtual)
    gamma = virtual - previous
    ends = np.cumsum(counts)
    a = values[np.searchsorted(ends, np.clip(previous, 0, n - 1).astype(np.int64), side="right")]
    b = values[np.searchsorted(ends, np.clip(previous + 1, 0, n - 1).astype(np.int64), side="right")]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def _base(spec: BinarySpec) -> str:
    return f"SELECT *, CAST({spec.y} AS INTEGER) AS mli_y, CAST({spec.score} AS DOUBLE) AS mli_s FROM src " \
           f"WHERE {spec.where}"


def score_keys(backend, spec: BinarySpec, *, exact_max: int = 200_000) -> ScoreKeys:
    """Two passes over the usable rows: count and range, then the distinct scores (or fine bins)."""
    base = _base(spec)
    st = backend.query(f"SELECT count(*) AS n, approx_count_distinct(mli_s) AS d, min(mli_s) AS lo, "
                       f"max(mli_s) AS hi FROM ({base}) t").iloc[0]
    n = int(st["n"])
    lo = float(st["lo"]) if n else 0.0
    hi = float(st["hi"]) if n else 1.0
    d = int(st["d"]) if n else 0
    # the estimate only decides whether the distinct scores are worth fetching; the choice between exact and
    # binned keys uses their exact count, so every engine makes the same choice on the same data
    fetch_exact = d <= 1.5 * exact_max
    key = "mli_s" if fetch_exact else _key_sql(lo, hi, MAX_KEYS)
    g = backend.query(f"SELECT {key} AS k, min(mli_s) AS smin, count(*) AS n FROM ({base}) t GROUP BY 1 "
                      "ORDER BY 1") if n else pd.DataFrame({"k": [], "smin": [], "n": []})
    if fetch_exact:
        d = len(g)
    exact = fetch_exact and d <= exact_max
    values = g["smin"].to_numpy(dtype=float)
    counts = g["n"].to_numpy(dtype=np.int64)
    coarse = np.unique(np.concatenate([quantile_edges(values, counts, BOOT_SCORE_BINS), [spec.threshold]]))
    fine = quantile_edges(values, counts, REST_AP_BINS)
    return ScoreKeys(n, d, lo, hi, coarse, fine, exact)


def _key_sql(lo: float, hi: float, k: int) -> str:
    """The equal-width bin (0..k-1) of the score over [lo, hi]."""
    if not hi > lo:
        return "0"
    scale = k / (hi - lo)
    return f"least(CAST(floor((mli_s - {lo!r}) * {scale!r}) AS BIGINT), {k - 1})"


@dataclass(frozen=True)
class BinaryTables:
    """One grouping's counts: runs and cells as flat arrays (raw group values still to be coded)."""

    groups: pd.DataFrame  #: raw group values of each result row, one column per group expression (g0, g1, ...)
    key: np.ndarray  #: score key (the score itself when ``exact``)
    cell: np.ndarray  #: the score bin (ascending, 0..len(coarse_edges))
    y: np.ndarray  #: 0/1
    n: np.ndarray  #: rows
    sums: dict  #: loss -> (sum, sum of squares) per result row
    keys: ScoreKeys
    exact: bool  #: the key is the score (rank statistics equal the memory path's)
    n_keys: int  #: the number of score bins when not exact

    @property
    def group(self) -> pd.Series:
        """The raw values of the first group expression."""
        return self.groups["g0"]


def binary_tables(backend, spec: BinarySpec, keys: ScoreKeys, group_sql, *, n_groups_hint: int = 1,
                  where: str | None = None) -> BinaryTables:
    """Count the runs and cells of one grouping: ``group_sql`` is an expression, a list of them (a cross),
    or None for all rows; ``where`` narrows the usable rows further (e.g. rows with a time)."""
    return binary_tables_many(backend, spec, keys, [(group_sql, n_groups_hint)], where=where)[0]


def _resolution(keys: ScoreKeys, n_groups_hint: int) -> tuple[bool, int]:
    """Whether a grouping keeps the score itself as its key, else its number of equal-width score bins."""
    # result rows <= 2 x (distinct (group, score) pairs) <= 2 x min(rows, groups x distinct scores)
    if keys.exact_global and 2 * min(keys.n, keys.distinct * max(n_groups_hint, 1)) <= RUNS_BUDGET:
        return True, 0
    budget_keys = max(RUNS_BUDGET // max(2 * n_groups_hint, 1), 256)
    return False, int(min(MAX_KEYS, 1 << int(np.log2(budget_keys))))


def binary_tables_many(backend, spec: BinarySpec, keys: ScoreKeys, groupings, *,
                       where: str | None = None) -> list[BinaryTables]:
    """:func:`binary_tables` of several groupings (``(group_sql, n_groups_hint)`` pairs) in one scan
    (``GROUPING SETS``): each row's score key, bin and losses are worked out once for all of them.

    A grouping whose key is the score itself needs neither the bin nor the losses from the engine (both are
    functions of the score and the label, added up here), so with only such groupings the engine just counts.
    """
    plans = []
    for i, (group_sql, hint) in enumerate(groupings):
        exprs = [] if group_sql is None else [group_sql] if isinstance(group_sql, str) else list(group_sql)
        exact, n_keys = _resolution(keys, hint)
        plans.append((i, exprs, exact, n_keys))
    binned = any(not exact for _, _, exact, _ in plans)
    cols, sets = [], []
    for i, exprs, exact, n_keys in plans:
        names = [f"g{i}_{j}" for j in range(len(exprs))]
        cols += [f"{e} AS {n}" for e, n in zip(exprs, names, strict=True)]
        cols.append(f"{'mli_s' if exact else _key_sql(keys.lo, keys.hi, n_keys)} AS k{i}")
        sets.append(names + [f"k{i}"] + ([] if exact else ["b"]) + ["mli_y"])
    losses = spec.losses if binned else ()
    if binned:
        cols.append(f"{bin_index('mli_s', keys.coarse_edges)} AS b")
    cols += [f"{loss_sql(m, 'mli_s', 'mli_y')} AS {m}" for m in losses]
    group_by, grouped, marks = group_by_sets(sets, lambda i: f"k{i}")
    sums = "".join(f", sum({m}) AS {m}_1, sum({m} * {m}) AS {m}_2" for m in losses)
    extra = f" WHERE {where}" if where else ""
    sql = (f"SELECT {', '.join(grouped + marks)}, count(*) AS n{sums} FROM ("
           f"SELECT {', '.join(cols)}, mli_y "
           f"FROM ({_base(spec)}) t{extra}) u {group_by}")
    df = backend.query(sql)
    return [_one_grouping(df if len(plans) == 1 else df[df[f"x{i}"] == 0], spec, keys, i, len(exprs), exact, n_keys,
                          losses) for i, exprs, exact, n_keys in plans]


def _one_grouping(df: pd.DataFrame, spec: BinarySpec, keys: ScoreKeys, i: int, n_exprs: int, exact: bool,
                  n_keys: int, losses) -> BinaryTables:
    key = df[f"k{i}"].to_numpy(dtype=float)
    y = df["mli_y"].to_numpy(dtype=np.int64)
    n = df["n"].to_numpy(dtype=np.int64)
    if exact:  # the bin and the losses are functions of (score, label): counted here, as the memory path does
        cell = np.searchsorted(keys.coarse_edges, key, side="right").astype(np.int64)
        sums = {m: _loss_sums(m, key, y, n) for m in spec.losses}
    else:
        cell = df["b"].to_numpy(dtype=np.int64)
        sums = {m: (df[f"{m}_1"].to_numpy(dtype=float), df[f"{m}_2"].to_numpy(dtype=float)) for m in losses}
    groups = df[[f"g{i}_{j}" for j in range(n_exprs)]] if n_exprs else pd.DataFrame({"g": [None] * len(df)})
    groups = groups.set_axis([f"g{j}" for j in range(groups.shape[1])], axis=1).reset_index(drop=True)
    return BinaryTables(groups=groups, key=key, cell=cell, y=y, n=n, sums=sums, keys=keys, exact=exact,
                        n_keys=n_keys)


def _loss_sums(name: str, score: np.ndarray, y: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the per-row loss and its square over ``n`` rows of one (score, label)."""
    x = row_loss(name, score, y)
    return n * x, n * x * x
