"""Checks on the traffic on an engine (``check --engine duckdb|spark``): rows, missing_share, unlabelled_share and
psi, as :func:`mlimpact.monitoring.population.population_over_time` gives them, from aggregates only.

The population is the usable labelled rows (the dataset's ``spec.where``) plus the rows whose label is missing but
whose model output is usable (:attr:`mlimpact.engine.dataset.EngineDataset.unlabelled`). One ``GROUP BY`` time
bucket, segment value (and, for psi, bin) counts them where the data lives; the memory module's helpers then list
the buckets without rows, flag the small ones and make the same table. PSI's bins are the memory path's:

* numbers and times (as nanoseconds): cut at the reference's quantiles, numpy's linear interpolation between two
  order statistics, which the engine reads exactly (:func:`mlimpact.engine.order.order_statistics`) and which
  are interpolated here with numpy's arithmetic, so the edges are ``np.quantile``'s to the bit;
* text: one bin per value, or, beyond 50 values, the 49 most frequent in the reference (ties in value order,
  missing last) and one bin for the rest;
* missing values: a bin of their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.engine.order import linear_quantiles_of
from mlimpact.engine.sql import double, epoch_ns, ident, literal
from mlimpact.errors import InputError
from mlimpact.io.dataset import encode_column
from mlimpact.metrics import wilson_interval
from mlimpact.monitoring.population import (
    _MAX_VALUES,
    _PSI_BINS,
    POPULATION_METRICS,
    PSI_MIN_ROWS,
    _complete,
    _partial_last,
    _table,
    psi_by_bucket,
    psi_column,
    traffic_problem,
)
from mlimpact.monitoring.series import DEFAULT_SETTINGS, PERIODS, MonitorSettings, TimeBuckets, time_buckets

__all__ = ["engine_population_over_time", "engine_population_problem", "engine_time_span", "population_sql",
           "engine_reference_end"]

_TRUNC = {"D": "day", "W": "week", "M": "month"}
#: the quantiles PSI's numeric bins are cut at (the memory path's inner ones)
_QS = np.linspace(0, 1, _PSI_BINS + 1)[1:-1]


def population_sql(eds) -> str:
    """SQL: the population's rows (labelled and usable, or without a label but with a usable model output)."""
    return f"(({eds.spec.where}) OR ({eds.unlabelled}))"


def _query(eds, sql: str) -> pd.DataFrame:
    return eds.backend.query(sql)


def _type(eds, column: str) -> str:
    return str(eds.column_types.get(column, "")).upper()


def _kind(eds, column: str) -> str:
    """How PSI bins ``column`` (the memory path's dtypes): ``time`` (as nanoseconds), ``number`` or ``text``."""
    if column == eds.roles.time or _type(eds, column).startswith(("TIMESTAMP", "DATE")):
        return "time"
    return "number" if eds.is_numeric(column) else "text"


def _raw_sql(eds, column: str) -> str:
    """The column as the memory path holds it: the time column parsed, dates as timestamps, the rest as stored."""
    if column == eds.roles.time:
        return eds.time_sql()
    return f"CAST({ident(column)} AS TIMESTAMP)" if _type(eds, column).startswith("DATE") else ident(column)


def _missing_sql(eds, column: str) -> str:
    """Where ``column`` is missing in memory: empty, NaN for numbers, unreadable for the time column."""
    col = _raw_sql(eds, column)
    if _kind(eds, column) == "number":
        return f"({col} IS NULL OR isnan(CAST({col} AS DOUBLE)))"
    return f"({col} IS NULL)"


def _one_value(eds, column: str) -> str | None:
    """:func:`mlimpact.monitoring.population.one_value` of ``column`` over the population, in one aggregate."""
    v = f"CASE WHEN NOT {_missing_sql(eds, column)} THEN {_raw_sql(eds, column)} END"
    row = _query(eds, f"SELECT min({v}) AS lo, max({v}) AS hi, count({v}) AS k, count(*) AS n FROM src "
                      f"WHERE {population_sql(eds)}")
    lo, hi, k, n = (row[c].iloc[0] for c in ("lo", "hi", "k", "n"))
    if int(k) == 0:
        return "empty"
    return None if int(k) < int(n) or lo != hi else f"{lo!s}"


def engine_population_problem(eds, metric: str, column: str | None, period: str | None = "W") -> str | None:
    """:func:`mlimpact.monitoring.population.population_problem` on an engine (the one-value test in SQL)."""
    return traffic_problem(eds, metric, column, period, columns=eds.columns, single=lambda c: _one_value(eds, c))


def engine_time_span(eds) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last time of the labelled rows used (NaT when none reads as a time), as in memory."""
    t = eds.time_sql()
    row = _query(eds, f"SELECT min({t}) AS lo, max({t}) AS hi FROM src WHERE {eds.spec.where}")
    return pd.Timestamp(row["lo"].iloc[0]), pd.Timestamp(row["hi"].iloc[0])


def engine_reference_end(eds, reference_end) -> pd.Timestamp:
    """As :func:`mlimpact.monitoring.series.default_reference_end` when not given: mid-span, at midnight."""
    if reference_end is not None:
        return pd.Timestamp(reference_end)
    first, last = engine_time_span(eds)
    if pd.isna(first):
        raise InputError(f"column `{eds.roles.time}` (time): no value could be read as a date; pick the column "
                         "with the time of each prediction (e.g. 2026-04-06 or 2026-04-06 13:45)")
    return (first + (last - first) / 2).floor("D")


# ----------------------------------------------------------------------------- one GROUP BY
def _bucket_sql(eds, period: str) -> str:
    return f"CAST(date_trunc({_TRUNC[period]!r}, {eds.time_sql()}) AS TIMESTAMP)"


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """:func:`mlimpact.io.dataset.encode_column` of every row's value, from the distinct values the engine gave."""
    distinct = values.drop_duplicates().reset_index(drop=True)
    codes, labels = encode_column(distinct)
    return np.asarray(codes, dtype=np.int64)[pd.Index(distinct).get_indexer(values)], labels


def _bucket_codes(res: pd.DataFrame, period: str | None) -> tuple[TimeBuckets, np.ndarray]:
    """The buckets from the first to the last (those without rows too) and each result row's (-1: no time)."""
    if period is None:
        return (TimeBuckets(None, np.zeros(1, dtype=np.int64), ("all",), pd.DatetimeIndex([pd.NaT]),
                            pd.DatetimeIndex([pd.NaT])), np.zeros(len(res), dtype=np.int64))
    starts = pd.to_datetime(res["g0"])
    distinct = pd.DatetimeIndex(starts.dropna().unique()).sort_values()
    buckets = _complete(time_buckets(distinct, period))
    if not len(distinct):
        return buckets, np.full(len(res), -1, dtype=np.int64)
    at = pd.Index(distinct).get_indexer(starts)
    return buckets, np.where(at < 0, -1, buckets.codes[np.maximum(at, 0)])


def _grouped(eds, period: str | None, segment: str | None, *, bin_sql: str | None = None, hits: str | None = None,
             last: bool = False):
    """One ``GROUP BY`` over the population: per time bucket (g0), segment value (g1) and ``bin_sql`` (g2) the
    rows (n), those where ``hits`` holds (h) and the last time (tmax). Returns the result with each row's
    ``cell`` (bucket × S + segment code; bucket B: no time), the buckets and the segment's labels."""
    keys = [f"{_bucket_sql(eds, period)} AS g0"] if period is not None else []
    keys += [f"{ident(segment)} AS g1"] if segment is not None else []
    keys += [f"{bin_sql} AS g2"] if bin_sql is not None else []
    aggs = ["count(*) AS n"] + ([f"sum(CASE WHEN {hits} THEN 1 ELSE 0 END) AS h"] if hits else []) \
        + ([f"max({eds.time_sql()}) AS tmax"] if last else [])
    group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys))) if keys else ""
    res = _query(eds, f"SELECT {', '.join(keys + aggs)} FROM src WHERE {population_sql(eds)}{group}")
    buckets, bucket_of = _bucket_codes(res, period)
    if segment is not None:
        seg_of, slabels = _codes(res["g1"])
    else:
        seg_of, slabels = np.zeros(len(res), dtype=np.int64), [None]
    B, S = len(buckets.labels), len(slabels)
    res["cell"] = np.where(bucket_of < 0, B, bucket_of) * S + seg_of
    return res, buckets, slabels


def _per_cell(res: pd.DataFrame, column: str, buckets: TimeBuckets, slabels) -> np.ndarray:
    size = (len(buckets.labels) + 1) * len(slabels)
    return np.bincount(res["cell"], weights=res[column].to_numpy(dtype=float), minlength=size)[: size - len(slabels)]


# ----------------------------------------------------------------------------- psi
def _numeric_bins(eds, target: str, ref_sql: str):
    """Bins at the reference's quantiles (missing values: the last bin), and how to read them back."""
    col, missing = _raw_sql(eds, target), _missing_sql(eds, target)
    x = epoch_ns(col, eds.backend.dialect) if _kind(eds, target) == "time" else f"CAST({col} AS DOUBLE)"
    where = f"{population_sql(eds)} AND {ref_sql} AND NOT {missing}"
    n = int(_query(eds, f"SELECT count(*) AS n FROM src WHERE {where}")["n"].iloc[0])

    # numpy's quantiles from exact order statistics, in bounded memory at any size
    edges = np.unique(linear_quantiles_of(eds.backend, x, where, n, _QS)) if n else np.zeros(0)
    index = " + ".join(f"CASE WHEN {x} >= {double(e)} THEN 1 ELSE 0 END" for e in edges) or "0"
    return (f"CASE WHEN {missing} THEN {len(edges) + 1} ELSE {index} END",
            lambda g2: (g2.to_numpy(dtype=np.int64), len(edges) + 2))


def _text_bins(eds, target: str, ref_sql: str):
    """One bin per value, or the 49 most frequent in the reference and one for the rest; how to read them back."""
    col = _raw_sql(eds, target)
    top = _query(eds, f"SELECT {col} AS v, sum(CASE WHEN {ref_sql} THEN 1 ELSE 0 END) AS c FROM src "
                      f"WHERE {population_sql(eds)} GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST "
                      f"LIMIT {_MAX_VALUES + 1}")["v"]
    if len(top) <= _MAX_VALUES:
        def each_value(g2):
            codes, labels = _codes(g2)
            return codes, len(labels)

        return col, each_value
    whens = " ".join(f"WHEN {col} IS NULL THEN {i}" if pd.isna(v) else
                     f"WHEN {col} = {literal(v.item() if hasattr(v, 'item') else v)} THEN {i}"
                     for i, v in enumerate(top.iloc[: _MAX_VALUES - 1]))
    return f"CASE {whens} ELSE {_MAX_VALUES - 1} END", lambda g2: (g2.to_numpy(dtype=np.int64), _MAX_VALUES)


def _psi(eds, target: str, period: str, segment: str | None, reference_end):
    """Rows and PSI of ``target`` per (bucket, segment value) against that value's reference rows."""
    end = engine_reference_end(eds, reference_end)
    cut = time_buckets(pd.DatetimeIndex([end]), period).starts[0]  # reference buckets start before it
    ref_sql = f"{_bucket_sql(eds, period)} < CAST({literal(str(cut))} AS TIMESTAMP)"
    bin_sql, decode = (_text_bins if _kind(eds, target) == "text" else _numeric_bins)(eds, target, ref_sql)
    res, buckets, slabels = _grouped(eds, period, segment, bin_sql=bin_sql)
    ids, k = decode(res["g2"])
    B, S = len(buckets.labels), len(slabels)
    counts = np.zeros(((B + 1) * S, k))
    np.add.at(counts, (res["cell"].to_numpy(), ids), res["n"].to_numpy(dtype=float))
    counts = counts[: B * S]
    return counts.sum(axis=1), psi_by_bucket(counts, buckets.ends <= end, S), buckets, slabels


# ----------------------------------------------------------------------------- the table
def engine_population_over_time(eds, metric: str, *, period: str | None = "W", segment: str | None = None,
                                column: str | None = None, reference_end=None,
                                settings: MonitorSettings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """:func:`mlimpact.monitoring.population.population_over_time` for an engine's dataset: the same table."""
    if metric not in POPULATION_METRICS:
        raise InputError(f"{metric!r} is not one of {', '.join(POPULATION_METRICS)}")
    problem = engine_population_problem(eds, metric, column, period)
    if problem:
        raise InputError(problem)
    if period is not None and period not in PERIODS:
        raise InputError(f"period must be one of D (day), W (week), M (month); got {period!r}")
    if period is not None and eds.roles.time is None:
        raise InputError(f"{eds.source}: no time column chosen; a period needs one (add time = \"COLUMN\" to "
                         "[columns] in checks.toml)")
    note = ""
    if metric == "psi":
        target = psi_column(eds, column)
        n, value, buckets, slabels = _psi(eds, target, period, segment, reference_end)
        low = high = np.full(len(n), np.nan)
        small, note = n < max(PSI_MIN_ROWS, settings.limits[0]), f"column {target}"
    elif metric == "rows":
        res, buckets, slabels = _grouped(eds, period, segment, last=period is not None)
        n = value = _per_cell(res, "n", buckets, slabels)
        low = high = np.full(len(n), np.nan)
        last = pd.Timestamp(res["tmax"].max()) if period is not None else None
        small = _partial_last(buckets, len(slabels), last.tz_localize(None) if last is not None and last.tzinfo
                              else last)
    else:
        hits = eds.unlabelled if metric == "unlabelled_share" else _missing_sql(eds, column)
        res, buckets, slabels = _grouped(eds, period, segment, hits=hits)
        n, h = _per_cell(res, "n", buckets, slabels), _per_cell(res, "h", buckets, slabels)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = h / n
        low, high = wilson_interval(h, n)
        small, note = n < settings.limits[0], f"column {column}" if metric == "missing_share" else ""
    return _table(metric, buckets, slabels, segment, n, value, low, high, small, note, keep_empty=metric == "rows")
