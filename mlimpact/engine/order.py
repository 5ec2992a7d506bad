"""Exact order statistics of a column of any size, without holding it: the engines' exact quantile aggregates
(DuckDB's ``quantile_cont``/``quantile_disc``, Spark's ``percentile``) keep every value of the column in memory,
which a 100M-row column of distinct doubles does not fit in DuckDB's cap.

:func:`order_statistics` counts the values in equal-width bins (one scan), then reads back the distinct values
(with their counts) of only the bins that hold a wanted rank, narrowing again inside a bin that holds too many.
:func:`linear_quantiles_of` turns them into numpy's default ("linear") quantiles, bit for bit.
"""

from __future__ import annotations

import numpy as np

from mlimpact.engine.sql import double
from mlimpact.engine.tables import linear_quantiles

__all__ = ["order_statistics", "linear_quantiles_of", "HISTOGRAM_BINS", "FETCH_MAX"]

#: equal-width bins of one counting pass
HISTOGRAM_BINS = 1 << 16
#: distinct values read back at most per pass
FETCH_MAX = 1_000_000


def order_statistics(backend, expr: str, where: str, ranks, *, depth: int = 0) -> np.ndarray:
    """The values at the 0-based ascending ``ranks`` of the finite number ``expr`` over the rows ``where``."""
    ranks = np.asarray(ranks, dtype=np.int64)
    base = f"SELECT CAST({expr} AS DOUBLE) AS x FROM src WHERE {where}"
    row = backend.query(f"SELECT min(x) AS lo, max(x) AS hi, count(*) AS n FROM ({base}) t").iloc[0]
    lo, hi = float(row["lo"]), float(row["hi"])
    if not hi > lo:
        return np.full(len(ranks), lo)
    k = HISTOGRAM_BINS

    def bin_of(x: str) -> str:
        return f"least(CAST(floor(({x} - {double(lo)}) * {double(k / (hi - lo))}) AS BIGINT), {k - 1})"

    h = backend.query(f"SELECT {bin_of('x')} AS b, count(*) AS c FROM ({base}) t GROUP BY 1 ORDER BY 1")
    b, c = h["b"].to_numpy(dtype=np.int64), h["c"].to_numpy(dtype=np.int64)
    ends = np.cumsum(c)
    holder = b[np.searchsorted(ends, ranks, side="right")]  # the bin holding each rank
    needed = np.unique(holder)
    before = dict(zip(b.tolist(), (ends - c).tolist(), strict=True))  # rows in the bins below each bin (a few used)
    inside = f"{bin_of('x')} IN ({', '.join(str(int(x)) for x in needed)})"
    got = backend.query(f"SELECT x AS v, count(*) AS c, min({bin_of('x')}) AS b FROM ({base}) t WHERE {inside} "
                        f"GROUP BY x ORDER BY x LIMIT {FETCH_MAX + 1}")
    if len(got) > FETCH_MAX and depth < 3:  # too many distinct values in those bins: narrow to each, again
        out = np.empty(len(ranks))
        for bin_id in needed:  # a handful of bins (one per wanted rank at most)
            mine = holder == bin_id
            sub = f"({where}) AND {bin_of(f'CAST({expr} AS DOUBLE)')} = {int(bin_id)}"
            out[mine] = order_statistics(backend, expr, sub, ranks[mine] - before[int(bin_id)], depth=depth + 1)
        return out
    values, counts = got["v"].to_numpy(dtype=float), got["c"].to_numpy(dtype=np.int64)
    value_bin = got["b"].to_numpy(dtype=np.int64)
    # each fetched value's last rank: the rows below its bin, then its bin's values up to it (bins ascend with x)
    total = np.cumsum(counts)
    new_bin = np.r_[True, value_bin[1:] != value_bin[:-1]]
    within = total - np.maximum.accumulate(np.where(new_bin, total - counts, 0))
    last = (ends - c)[np.searchsorted(b, value_bin)] + within
    return values[np.searchsorted(last, ranks, side="right")]


def linear_quantiles_of(backend, expr: str, where: str, n: int, probs) -> np.ndarray:
    """``np.quantile(column, probs)`` (the "linear" method) of ``expr`` over ``n`` rows ``where``, exactly."""
    virtual = (n - 1) * np.asarray(probs, dtype=float)
    previous = np.floor(virtual)
    ranks = np.unique(np.clip(np.concatenate([previous, previous + 1]), 0, n - 1).astype(np.int64))
    values = order_statistics(backend, expr, where, ranks)
    counts = np.diff(np.concatenate([ranks, [n]]))  # each gathered value stands for the ranks up to the next one
    counts[0] += ranks[0]
    return linear_quantiles(values, counts, probs)
