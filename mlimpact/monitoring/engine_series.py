"""Metrics over time and the range checks on an engine: ``check --engine duckdb|spark``.

One ``GROUP BY`` per (period, segment column) counts every bucket's runs and cells where the data lives
(the bucket is the engine's ``date_trunc`` of the time column: ISO weeks start on Monday, as in memory);
:func:`mlimpact.monitoring.series.series_table` and :func:`mlimpact.monitoring.ranges.check_ranges` then
turn them into the very status table the memory path's ``check`` prints. The checks on the traffic (rows,
missing_share, unlabelled_share, psi) come from :mod:`mlimpact.monitoring.engine_population`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.engine.dataset import count_groupings, global_keys
from mlimpact.errors import InputError
from mlimpact.metrics.tables import metrics_from_tables
from mlimpact.monitoring.engine_estimate import engine_estimated_over_time
from mlimpact.monitoring.engine_population import engine_population_over_time
from mlimpact.monitoring.population import POPULATION_METRICS, psi_column
from mlimpact.monitoring.ranges import STATUS_COLUMNS, check_ranges
from mlimpact.monitoring.series import (
    DEFAULT_SETTINGS,
    N_BOOT,
    PERIODS,
    MonitorSettings,
    TimeBuckets,
    series_table,
    time_buckets,
)
from mlimpact.slices.engine_named import engine_slice_rows
from mlimpact.slices.engine_segments import engine_grouping

__all__ = ["engine_metrics_over_time", "engine_evaluate_ranges"]

_TRUNC = {"D": "day", "W": "week", "M": "month"}


def _buckets(eds, keys, period: str | None, segment_sql, seg_count: int):
    """The grouping's tables and the bucket of each result row (-1: no time)."""
    if period is None:
        (tables,) = count_groupings(eds, keys, [(segment_sql, seg_count)])
        buckets = TimeBuckets(None, np.zeros(1, dtype=np.int64), ("all",), pd.DatetimeIndex([pd.NaT]),
                              pd.DatetimeIndex([pd.NaT]))
        return tables, buckets, np.zeros(len(tables.n), dtype=np.int64), None
    if period not in PERIODS:
        raise InputError(f"period must be one of D (day), W (week), M (month); got {period!r}")
    if eds.roles.time is None:
        raise InputError(f"{eds.name}: no time column chosen; a period needs one (add `time = \"COLUMN\"` to "
                         "[columns] in checks.toml)")
    bucket_sql = f"CAST(date_trunc({_TRUNC[period]!r}, {eds.time_sql()}) AS TIMESTAMP)"
    groups = [bucket_sql] + ([segment_sql] if segment_sql is not None else [])
    (tables,) = count_groupings(eds, keys, [(groups, 64 * max(seg_count, 1))])
    starts = pd.to_datetime(tables.groups["g0"])
    distinct = pd.DatetimeIndex(starts.dropna().unique()).sort_values()
    buckets = time_buckets(distinct, period)
    at = pd.Index(distinct).get_indexer(starts)
    return tables, buckets, np.where(starts.isna().to_numpy(), -1, buckets.codes[at] if len(at) else at), "g1"


def engine_metrics_over_time(eds, keys, *, metrics, period: str | None = "W", segment: str | None = None,
                             settings: MonitorSettings = DEFAULT_SETTINGS, seed: int = 0) -> pd.DataFrame:
    """:func:`mlimpact.monitoring.series.metrics_over_time` for an engine's dataset (binary or regression)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    grouping = engine_grouping(eds, segment, binned=False) if segment is not None else None
    seg_sql = grouping.sql if grouping is not None else None
    tables, buckets, bucket_of, seg_col = _buckets(eds, keys, period, seg_sql, grouping.n_groups if grouping else 1)
    if grouping is not None:
        seg_codes = grouping.code_of(tables.groups[seg_col or "g0"])
        slabels = grouping.labels
    else:
        seg_codes, slabels = np.zeros(len(tables.n), dtype=np.int64), [None]
    B, S = len(buckets.labels), len(slabels)
    codes = np.where(bucket_of < 0, B, bucket_of) * S + seg_codes
    parts = [metrics_from_tables(tables, codes, (B + 1) * S, threshold=settings.threshold, metrics=[m], seed=seed,
                                 n_boot=N_BOOT, time_budget_s=None) for m in metrics]  # one per metric, as memory
    t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "n", "metric"])
    return series_table(t, buckets, slabels, segment=segment, settings=settings, task=eds.task)


def engine_evaluate_ranges(eds, keys, ranges, *, settings: MonitorSettings = DEFAULT_SETTINGS,
                           reference_end=None, slices=None) -> pd.DataFrame:
    """:func:`mlimpact.monitoring.ranges.evaluate_ranges` on an engine: one query per (slice, period, segment) for
    the model's metrics, and the checks on the traffic from
    :func:`mlimpact.monitoring.engine_population.engine_population_over_time` (``reference_end``: default the
    one :func:`mlimpact.monitoring.checks.validate_config` recorded on ``eds``, else mid-span). A range with a
    ``slice`` reads that slice's rows, narrowed in SQL (``slices``: name -> expression, else the text is the
    expression). The result has :data:`STATUS_COLUMNS` plus ``column``, ``estimated`` and ``slice``, as in memory."""
    ranges = tuple(ranges)
    end = reference_end if reference_end is not None else getattr(eds, "reference_end", None)
    names = dict(slices or {})
    wanted: dict = {}
    for r in ranges:
        if r.metric not in POPULATION_METRICS and not r.estimated:
            wanted.setdefault((r.slice, r.period, r.segment), set()).add(r.metric)
    rows = {None: (eds, keys)}  # each slice's rows (a narrowed dataset) and their keys, counted once
    tables = {}  # one GROUP BY per (slice, period, segment), every metric of it from the same counts
    frames = []
    for group in dict.fromkeys(_key(r) for r in ranges):  # memory's order
        metric, period, segment, column, estimated, piece = group
        if piece not in rows:
            narrowed = engine_slice_rows(eds, names.get(piece, piece))
            rows[piece] = (narrowed, global_keys(narrowed))
        target, target_keys = rows[piece]
        if metric in POPULATION_METRICS:
            table = engine_population_over_time(target, metric, period=period, segment=segment, column=column,
                                                reference_end=end, settings=settings)
        elif estimated:
            table = engine_estimated_over_time(target, metrics=[metric], period=period, segment=segment,
                                               reference_end=end, settings=settings)
        else:
            if (piece, period, segment) not in tables:
                tables[piece, period, segment] = engine_metrics_over_time(
                    target, target_keys, metrics=sorted(wanted[piece, period, segment]), period=period,
                    segment=segment, settings=settings)
            table = tables[piece, period, segment]
            table = table[table["metric"] == metric]
        measured = psi_column(target, column) if metric == "psi" else column
        frames.append(check_ranges(table, [r for r in ranges if _key(r) == group], rule=settings.rule)
                      .assign(column=measured, estimated=estimated, slice=piece))
    if not frames:
        return pd.DataFrame(columns=STATUS_COLUMNS + ["column", "estimated", "slice"])
    return pd.concat(frames, ignore_index=True)


def _key(r) -> tuple:
    return r.metric, r.period, r.segment, r.column, r.estimated, r.slice
