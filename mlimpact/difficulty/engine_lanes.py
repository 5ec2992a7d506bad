"""Difficulty lanes on an engine (DuckDB, Spark): the memory path's lane curve and default policy from counts.

A lane curve is the cumulative count of rows and "bad" rows per distinct difficulty key
(:class:`~mlimpact.difficulty.curve.LaneCurve`); an engine returns those counts with one ``GROUP BY key``,
so every solver, the trade-off frontier and the summary sentence run unchanged on it. The keys are the memory
path's (:func:`~mlimpact.difficulty.curve.lane_curve`): binary the score (bad: a positive); multiclass the top
class's probability or its margin over the second (bad: a wrong class; expected: the probability of the class
chosen); regression minus the size of the miss, or minus the uncertainty (bad: a miss above the tolerance,
by default the 90th percentile of the misses, read as exact order statistics). The defaults
(cases per day from the time column's span, the model's error rate at the threshold) are read with two
small queries and go through :func:`~mlimpact.difficulty.derived.start_from`, the memory path's rule.
"""

from __future__ import annotations

import math

import numpy as np

from mlimpact import trace
from mlimpact.difficulty.curve import LaneCurve
from mlimpact.difficulty.derived import DefaultStart, per_day_of, start_from
from mlimpact.difficulty.lanes import MODES, checked_tolerance
from mlimpact.engine.dataset import engine_time_span
from mlimpact.engine.multiclass_tables import argmax_sql, most_sql, of_class_sql, predicted_sql
from mlimpact.engine.order import linear_quantiles_of
from mlimpact.engine.sql import double, finite, ident
from mlimpact.errors import InputError

__all__ = ["engine_modes", "engine_lane_curve", "engine_default_start", "engine_default_tolerance",
           "MAX_ENGINE_SCORES"]

#: distinct scores an engine sends back for an exact lane curve (more: refused, with what to do)
MAX_ENGINE_SCORES = 5_000_000


def engine_modes(eds) -> list[str]:
    """The lane modes of an engine dataset, best first (:func:`~mlimpact.difficulty.lanes.available_modes`)."""
    if eds.task == "binary":
        return ["score"] if eds.roles.score else []
    if eds.task == "multiclass":
        return ["top_probability", "margin"] if eds.spec.probs else []
    return (["uncertainty"] if eds.roles.uncertainty else []) + ["error_size"]


def engine_lane_curve(eds, mode: str | None = None, tolerance: float | None = None) -> LaneCurve:
    """The lane curve of an engine dataset, exactly as :func:`~mlimpact.difficulty.curve.lane_curve` builds it
    (``mode``: one of :func:`engine_modes`, the first by default; ``tolerance``: regression's)."""
    trace.count("engine_lane_curve")
    modes = engine_modes(eds)
    if not modes:
        raise InputError(f"{eds.name}: difficulty lanes need a score (binary) or one probability column per class "
                         "(multiclass); name it on the Large data page or with --score")
    mode = mode or modes[0]
    if mode not in modes:
        raise InputError(f"{eds.name}: lanes by {mode!r} are not available for this {eds.task} source; use one of "
                         + ", ".join(modes))
    tolerance = checked_tolerance(tolerance, lambda: engine_default_tolerance(eds)) \
        if eds.task == "regression" else None
    rows, key, bad, expected = _key_sql(eds, mode, tolerance)
    approx = int(eds.backend.query(f"SELECT approx_count_distinct(k) AS d FROM (SELECT {key} AS k FROM ({rows}) r) "
                                   "t").iloc[0]["d"])
    if approx > MAX_ENGINE_SCORES:
        raise InputError(f"{eds.name}: the lanes' key ({MODES[mode]}) has about {approx:,} distinct values, more "
                         f"than the {MAX_ENGINE_SCORES:,} an exact lane curve brings back; round the scores (4 "
                         "decimals keep every lane) in the query")
    cols = f"{key} AS k, {bad} AS b" + (f", {expected} AS x" if expected else "")
    sums = "count(*) AS n, sum(b) AS bad" + (", sum(x) AS e" if expected else "")
    runs = eds.backend.query(f"SELECT k AS s, {sums} FROM (SELECT {cols} FROM ({rows}) r) t GROUP BY 1 ORDER BY 1")
    values = runs["s"].to_numpy(dtype=float)
    n = runs["n"].to_numpy(dtype=np.int64)
    expected_sums = runs["e"].to_numpy(dtype=float) if expected else _expected_of(eds, mode, values, n, tolerance)
    empty = np.zeros(0, dtype=np.int32)
    cum_e = None if expected_sums is None else np.concatenate([[0.0], np.cumsum(expected_sums)])
    return LaneCurve(mode=mode, tolerance=tolerance, values=values, combo=np.arange(len(values), dtype=np.int64),
                     cum_n=np.concatenate([[0], np.cumsum(n)]).astype(np.int64),
                     cum_bad=np.concatenate([[0], np.cumsum(runs["bad"].to_numpy(dtype=np.int64))]).astype(np.int64),
                     cum_expected=cum_e, n_groups=1, row_index=empty, row_bad=empty.astype(np.int8),
                     row_expected=None if cum_e is None else np.zeros(0), probabilities=cum_e is not None)


def _key_sql(eds, mode: str, tolerance: float | None) -> tuple[str, str, str, str | None]:
    """The usable rows (SQL) and, over them, the key, the bad indicator and the expected rate summed in SQL
    (None: none, or worked out per key afterwards)."""
    spec = eds.spec
    if eds.task == "binary":
        return f"SELECT * FROM src WHERE {spec.where}", f"CAST({spec.score} AS DOUBLE)", f"CAST({spec.y} AS INTEGER)", None
    if eds.task == "multiclass":
        probs = spec.probs
        top, pred = most_sql(probs), predicted_sql(spec)
        first = f", {argmax_sql(probs)} AS mli_a" if mode == "margin" and len(probs) >= 2 else ""
        if first:  # np.partition's second largest: the top class's own value left out (the argmax computed once)
            second = "greatest(" + ", ".join(f"CASE WHEN mli_a = {j} THEN CAST('-inf' AS DOUBLE) ELSE {p} END"
                                              for j, p in enumerate(probs)) + ")"
            key = f"CAST({top} AS DOUBLE) - CAST({second} AS DOUBLE)"
        else:
            key = f"CAST({top} AS DOUBLE)"
        rows = f"SELECT *, {pred} AS mli_p{first} FROM src WHERE {spec.where}"
        return rows, key, f"CAST(mli_p <> {spec.y} AS INTEGER)", f"CAST({of_class_sql('mli_p', probs)} AS DOUBLE)"
    miss = f"abs(CAST({spec.pred} AS DOUBLE) - CAST({spec.y} AS DOUBLE))"
    rows = f"SELECT *, {miss} AS mli_e FROM src WHERE {spec.where}"
    bad = f"CAST(mli_e > {double(tolerance)} AS INTEGER)"
    if mode == "uncertainty":
        u = f"TRY_CAST({ident(eds.roles.uncertainty)} AS DOUBLE)"
        return rows, f"CASE WHEN {finite(u)} THEN -({u}) ELSE CAST('-inf' AS DOUBLE) END", bad, None
    return rows, "-mli_e", bad, None


def _expected_of(eds, mode: str, values: np.ndarray, n: np.ndarray, tolerance: float | None) -> np.ndarray | None:
    """Per key, the expected rate's sum where it depends on the key alone: binary probabilities (the score
    itself) and regression's uncertainty (the chance a normal miss stays within the tolerance)."""
    if eds.task == "binary":
        return values * n if len(values) and values[0] >= 0.0 and values[-1] <= 1.0 else None
    if mode != "uncertainty" or not np.isfinite(values).all():
        return None
    from scipy.special import erf  # scipy: heavy, imported on use (as the memory path does)

    u = -values
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(u > 0, erf(tolerance / (np.abs(u) * math.sqrt(2.0))), 1.0) * n


def engine_default_tolerance(eds) -> float:
    """Regression: :func:`~mlimpact.difficulty.lanes.default_tolerance` on an engine (exact 90th percentile)."""
    spec = eds.spec
    miss = f"abs(CAST({spec.pred} AS DOUBLE) - CAST({spec.y} AS DOUBLE))"
    q = float(linear_quantiles_of(eds.backend, miss, spec.where, eds.n, [0.9])[0]) if eds.n else 0.0
    if not q > 0:
        q = float(eds.backend.query(f"SELECT max({miss}) AS m FROM src WHERE {spec.where}").iloc[0]["m"] or 0) or 1.0
    return float(f"{q:.2g}")


def engine_default_start(eds, curve: LaneCurve, threshold: float | None = None) -> DefaultStart:
    """:func:`~mlimpact.difficulty.derived.default_start` on an engine: cases per day from the time column's
    span; the model's error rate from ``curve``'s counts: binary at ``threshold`` (the engine's when None),
    otherwise the curve's bad rows (wrong classes, misses above the tolerance)."""
    span = engine_time_span(eds)
    per_day, days = per_day_of(curve.n, None if span is None else span[2])
    if eds.task == "binary":
        threshold = eds.spec.threshold if threshold is None else float(threshold)
        j = int(np.searchsorted(curve.values, threshold, side="left"))  # scores below the threshold: kept
        pos_below = int(curve.cum_bad[j])
        neg_above = int((curve.cum_n[-1] - curve.cum_n[j]) - (curve.cum_bad[-1] - curve.cum_bad[j]))
        error = (pos_below + neg_above) / curve.n if curve.n else float("nan")
    else:
        threshold = None
        error = float(curve.cum_bad[-1]) / curve.n if curve.n else float("nan")
    return start_from(curve, task=eds.task, per_day=per_day, days=days, error=error, threshold=threshold,
                      time_column=eds.roles.time if days is not None else None)
