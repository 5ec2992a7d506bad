"""Difficulty lanes on an engine (DuckDB, Spark): the memory path's lane curve and default policy from counts.

A binary file's lane curve is the cumulative count of rows and positives per distinct score
(:class:`~mlimpact.difficulty.curve.LaneCurve`); an engine returns those counts with one ``GROUP BY score``,
so every solver, the trade-off frontier and the summary sentence run unchanged on it. The defaults
(cases per day from the time column's span, the model's error rate at the threshold) are read with two
small queries and go through :func:`~mlimpact.difficulty.derived.start_from`, the memory path's rule.
"""

from __future__ import annotations

import numpy as np

from mlimpact import trace
from mlimpact.difficulty.curve import LaneCurve
from mlimpact.difficulty.derived import DefaultStart, per_day_of, start_from
from mlimpact.engine.dataset import engine_time_span
from mlimpact.errors import InputError

__all__ = ["engine_lane_curve", "engine_default_start", "MAX_ENGINE_SCORES"]

#: distinct scores an engine sends back for an exact lane curve (more: refused, with what to do)
MAX_ENGINE_SCORES = 5_000_000


def engine_lane_curve(eds) -> LaneCurve:
    """The lane curve of a binary engine dataset (lanes by score), exactly as :func:`lane_curve` builds it."""
    trace.count("engine_lane_curve")
    if eds.task != "binary":
        raise InputError(f"{eds.name}: difficulty lanes on an engine need a binary task with a score in this version "
                         f"(this source is {eds.task}); a source within the memory budget opens on the Difficulty page")
    spec, be = eds.spec, eds.backend
    approx = int(be.query(f"SELECT approx_count_distinct({spec.score}) AS d FROM src WHERE {spec.where}").iloc[0]["d"])
    if approx > MAX_ENGINE_SCORES:
        raise InputError(f"{eds.name}: column `{eds.roles.score}` (score) has about {approx:,} distinct values, more "
                         f"than the {MAX_ENGINE_SCORES:,} an exact lane curve brings back; round the scores (4 decimals "
                         "keep every lane) in the query")
    runs = be.query(f"SELECT CAST({spec.score} AS DOUBLE) AS s, count(*) AS n, sum({spec.y}) AS pos FROM src "
                    f"WHERE {spec.where} GROUP BY 1 ORDER BY 1")
    values = runs["s"].to_numpy(dtype=float)
    n = runs["n"].to_numpy(dtype=np.int64)
    pos = runs["pos"].to_numpy(dtype=np.int64)
    probabilities = bool(len(values) and values[0] >= 0.0 and values[-1] <= 1.0)
    cum_e = np.concatenate([[0.0], np.cumsum(values * n)]) if probabilities else None
    empty = np.zeros(0, dtype=np.int32)
    return LaneCurve(mode="score", tolerance=None, values=values, combo=np.arange(len(values), dtype=np.int64),
                     cum_n=np.concatenate([[0], np.cumsum(n)]).astype(np.int64),
                     cum_bad=np.concatenate([[0], np.cumsum(pos)]).astype(np.int64), cum_expected=cum_e,
                     n_groups=1, row_index=empty, row_bad=empty.astype(np.int8),
                     row_expected=None if cum_e is None else np.zeros(0), probabilities=probabilities)


def engine_default_start(eds, curve: LaneCurve, threshold: float | None = None) -> DefaultStart:
    """:func:`~mlimpact.difficulty.derived.default_start` on an engine: cases per day from the time column's
    span, the model's error rate at ``threshold`` (the engine's when None) from ``curve``'s counts."""
    threshold = eds.spec.threshold if threshold is None else float(threshold)
    span = engine_time_span(eds)
    per_day, days = per_day_of(curve.n, None if span is None else span[2])
    j = int(np.searchsorted(curve.values, threshold, side="left"))  # scores below the threshold: kept
    pos_below = int(curve.cum_bad[j])
    neg_above = int((curve.cum_n[-1] - curve.cum_n[j]) - (curve.cum_bad[-1] - curve.cum_bad[j]))
    error = (pos_below + neg_above) / curve.n if curve.n else float("nan")
    return start_from(curve, task="binary", per_day=per_day, days=days, error=error, threshold=threshold,
                      time_column=eds.roles.time if days is not None else None)
