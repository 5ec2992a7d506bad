"""Performance before the labels arrive, on an engine: ``check --engine duckdb|spark`` with ``estimated = true``.

The memory path (:mod:`mlimpact.monitoring.estimate`) already calibrates from counts per (score, label) of
the reference rows, and a bootstrap refit is a multinomial draw of those counts: an engine returns them with
one ``GROUP BY score, label``, so the calibration and its refits are the memory path's, bit for bit. The
unlabelled rows come back as runs per (time bucket, segment value, score); every expected count is a sum over
runs of ``rows × f(score)``, worked out by the memory path's own code
(:func:`~mlimpact.monitoring.estimate.estimate_cells_from_runs`, :func:`~mlimpact.monitoring.estimate.estimated_series`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.engine.sql import ident, literal
from mlimpact.engine.tables import RUNS_BUDGET
from mlimpact.errors import InputError
from mlimpact.monitoring.engine_population import _bucket_sql, _codes, engine_reference_end, engine_time_span
from mlimpact.monitoring.estimate import (
    basic_problem_of,
    calibration_of,
    estimate_cells_from_runs,
    estimated_metrics,
    estimated_series,
    no_reference_time,
    reference_problem_of,
    unlabelled_problem_of,
)
from mlimpact.monitoring.series import DEFAULT_SETTINGS, MonitorSettings, TimeBuckets, time_buckets

__all__ = ["engine_estimation_problem", "engine_estimated_over_time"]


def _reference_sql(eds, end: pd.Timestamp) -> str:
    t = eds.time_sql()
    return f"({eds.spec.where}) AND {t} IS NOT NULL AND {t} <= CAST({literal(str(end))} AS TIMESTAMP)"


def engine_estimation_problem(eds, reference_end=None) -> str | None:
    """:func:`mlimpact.monitoring.estimate.estimation_problem` on an engine: the same sentences, from counts."""
    problem = basic_problem_of(eds.source, eds.task, bool(eds.roles.score), eds.roles.time)
    if problem:
        return problem
    unlabelled = int(eds.backend.query(f"SELECT count(*) AS n FROM src WHERE {eds.unlabelled}").iloc[0]["n"])
    problem = unlabelled_problem_of(eds.source, eds.roles.score, eds.exclusions.get("label is missing", 0), unlabelled)
    if problem:
        return problem
    if pd.isna(engine_time_span(eds)[0]):
        return no_reference_time(eds.source, eds.roles.time)
    end = engine_reference_end(eds, reference_end)
    row = eds.backend.query(f"SELECT count(*) AS n, coalesce(sum({eds.spec.y}), 0) AS pos FROM src "
                            f"WHERE {_reference_sql(eds, end)}").iloc[0]
    return reference_problem_of(eds.source, end, int(row["n"]), int(row["pos"]))


def _calibration(eds, reference_end, seed: int):
    end = engine_reference_end(eds, reference_end)
    runs = eds.backend.query(f"SELECT CAST({eds.spec.score} AS DOUBLE) AS s, {eds.spec.y} AS y, count(*) AS n "
                             f"FROM src WHERE {_reference_sql(eds, end)} GROUP BY 1, 2")
    values, at = np.unique(runs["s"].to_numpy(dtype=float), return_inverse=True)
    counts = np.bincount(at * 2 + runs["y"].to_numpy(dtype=np.int64), weights=runs["n"].to_numpy(dtype=float),
                         minlength=2 * len(values)).astype(np.int64)
    return calibration_of(end, values, counts, seed)


def engine_estimated_over_time(eds, *, metrics, period: str | None = "W", segment: str | None = None,
                               reference_end=None, settings: MonitorSettings = DEFAULT_SETTINGS,
                               seed: int = 0) -> pd.DataFrame:
    """:func:`mlimpact.monitoring.estimate.estimated_over_time` on an engine: the same table."""
    trace.count("engine_estimated_over_time")
    metrics = estimated_metrics(metrics)
    problem = engine_estimation_problem(eds, reference_end)
    if problem:
        raise InputError(problem)
    cal = _calibration(eds, reference_end, seed)
    score = f"CAST({eds.spec.score} AS DOUBLE)"
    keys = ([f"{_bucket_sql(eds, period)} AS g0"] if period is not None else []) + (
        [f"{ident(segment)} AS g1"] if segment is not None else [])
    rows = f"SELECT * FROM src WHERE ({eds.unlabelled})"
    left_out = {"score is missing": 0}  # the unlabelled rows an engine keeps have a usable score
    if period is not None:
        left = eds.backend.query(f"SELECT count(*) FILTER (WHERE {eds.time_sql()} IS NULL) AS t FROM ({rows}) u")
        left_out["time is missing"] = int(left.iloc[0]["t"])
        rows += f" AND {eds.time_sql()} IS NOT NULL"
    group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys) + 1))
    res = eds.backend.query(f"SELECT {', '.join(keys + [score + ' AS s'])}, count(*) AS n FROM ({rows}) u{group} "
                            f"LIMIT {RUNS_BUDGET + 1}")
    if len(res) > RUNS_BUDGET:  # runs per (bucket, segment value, score): at most the budget come back
        raise InputError(f"{eds.source}: the rows without a label have more than {RUNS_BUDGET:,} distinct (bucket, "
                         "segment value, score) runs, more than an estimate on an engine brings back; round the "
                         "scores (4 decimals) in the query, or check with --engine memory")
    buckets, bucket_of = _buckets_of(res, period)
    seg_of, slabels = _codes(res["g1"]) if segment is not None else (np.zeros(len(res), dtype=np.int64), [None])
    B, S = len(buckets.labels), len(slabels)
    cell = np.where(bucket_of < 0, B, bucket_of) * S + seg_of
    c = estimate_cells_from_runs(cal, res["s"].to_numpy(dtype=float), res["n"].to_numpy(dtype=float), cell,
                                 (buckets, slabels, (B + 1) * S), settings.threshold, left_out)
    return estimated_series(c, metrics, segment, settings)


def _buckets_of(res: pd.DataFrame, period: str | None) -> tuple[TimeBuckets, np.ndarray]:
    """The buckets that hold unlabelled rows (as memory's :func:`time_buckets` of their times) and each run's."""
    if period is None:
        nat = pd.DatetimeIndex([pd.NaT])
        return TimeBuckets(None, np.zeros(1, dtype=np.int64), ("all",), nat, nat), np.zeros(len(res), dtype=np.int64)
    starts = pd.to_datetime(res["g0"])
    distinct = pd.DatetimeIndex(starts.unique()).sort_values()
    buckets = time_buckets(distinct, period)
    return buckets, buckets.codes[pd.Index(distinct).get_indexer(starts)]
