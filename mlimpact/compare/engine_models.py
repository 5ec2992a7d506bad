"""What every comparison on an engine shares: the time periods, the segment's groups and each model's tables.

:func:`model_tables` turns each model's counted tables (all rows, the segment's folded groups, the periods)
into the memory path's overall, per-segment and per-period tables with :func:`mlimpact.metrics.tables.
metrics_from_tables` (binary, multiclass and regression tables alike). Used by
:mod:`mlimpact.compare.engine_compare`, :mod:`mlimpact.compare.engine_multiclass` and
:mod:`mlimpact.compare.engine_regression`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from mlimpact.compare.candidates import metrics_to_compare
from mlimpact.compare.differences import _Groups
from mlimpact.compare.engine_paired import _codes
from mlimpact.compare.models import _COLUMNS, PERIOD_FORMAT, exact_values, period_of
from mlimpact.errors import InputError
from mlimpact.metrics.tables import metrics_from_tables
from mlimpact.slices.engine_segments import engine_grouping

__all__ = ["model_tables", "period_sql", "present_groups", "left_out_notes", "Evaluated", "evaluate_models"]

_TRUNC = {"D": "day", "W": "week", "M": "month"}


@dataclass(frozen=True, eq=False)
class _Counted(_Groups):
    """:class:`_Groups` whose sizes an engine counted (no per-row codes)."""

    counts: np.ndarray = None

    @property
    def sizes(self) -> np.ndarray:
        n = int(self.counts.sum())
        return np.append(self.counts, n).astype(np.int64) if self.segment else np.array([n])


def left_out_notes(n: int, kept: int) -> list[str]:
    """The note on the rows left out because a model has no prediction there (none when all are kept); one clear
    line when no row is kept."""
    if kept == 0:
        raise InputError("no row has a prediction from every model; check the other models' columns")
    return [f"{n - kept:,} rows without a prediction from every model are left out of the comparison, so every "
            "model is judged on the same rows"] if kept < n else []


@dataclass(frozen=True, eq=False)
class Evaluated:
    """Each model's counts and metric tables in a multiclass or regression comparison on an engine."""

    grouping: object
    period: tuple | None
    counted: dict
    metrics: list
    n_rows: int
    present: np.ndarray | None
    groups: _Groups
    overall: pd.DataFrame
    seg_table: pd.DataFrame | None
    over_time: pd.DataFrame | None
    exact: dict


def evaluate_models(eds, task: str, models, where: str, count, *, segment, metrics, time_freq, n_bins, top_k,
                    min_group_size, n_boot, seed, time_budget_s) -> Evaluated:
    """Count every model (``count(prediction SQL, groupings)``: its tables for all rows, the segment's folded
    groups and the periods) and make the memory path's overall, per-segment and per-period tables."""
    grouping = engine_grouping(eds, segment, n_bins=n_bins, top_k=top_k) if segment else None
    period = period_sql(eds, where, time_freq)
    sets = [(None, 1)] + ([(grouping.code_sql(), grouping.n_groups)] if grouping else []) + (
        [(period[1], 64)] if period else [])
    counted = {name: count(sql, sets) for name, sql in models}
    allowed = metrics_to_compare(task, has_score=False, probabilities=False)
    metrics = [m for m in (metrics or allowed) if m in allowed]
    if not metrics:
        raise InputError(f"none of the metrics can be compared for this task; choose from {', '.join(allowed)}")
    ref = models[0][0]
    n_rows = int(counted[ref][0].n.sum())
    present, groups = present_groups(grouping, counted[ref][1] if grouping else None, segment, n_rows)
    opts = {"threshold": float(eds.spec.threshold), "metrics": metrics, "seed": seed, "n_boot": n_boot,
            "time_budget_s": 0.2 if time_budget_s is not None else None, "min_group_size": min_group_size}
    overall, seg_table, over_time = model_tables(counted, grouping, present, groups, period, opts)
    exact = {name: exact_values(name, metrics, overall, seg_table) for name, _ in models}
    return Evaluated(grouping, period, counted, metrics, n_rows, present, groups, overall, seg_table, over_time,
                     exact)


def model_tables(tables_of: dict, grouping, present, groups, period, opts):
    """Every model's metrics (``tables_of``: model -> its tables for all rows, then the segment, then the periods):
    overall, per segment (None without one) and per period (None without a time), as the memory path's."""
    overall, seg_parts, time_parts = [], [], []
    for name, tables in tables_of.items():
        overall.append(_evaluate(tables[0], np.zeros(len(tables[0].n), dtype=np.int64), 1, opts).assign(model=name))
        if grouping is not None:
            seg_parts.append(_segment_rows(tables[1], grouping, present, groups, opts, name))
        if period is not None:
            time_parts.append(_period_rows(tables[-1], period, name, opts))
    return (pd.concat(overall, ignore_index=True)[_COLUMNS],
            pd.concat(seg_parts, ignore_index=True) if seg_parts else None,
            pd.concat(time_parts, ignore_index=True) if time_parts else None)


def period_sql(eds, where: str, freq: str | None):
    """``(freq, bucket SQL)`` of the time column over the kept rows (the memory path's choice), or None."""
    if not eds.roles.time:
        return None
    t = eds.time_sql()
    row = eds.backend.query(f"SELECT min({t}) AS a, max({t}) AS b, count({t}) AS k FROM src WHERE {where}").iloc[0]
    if int(row["k"]) < 2:
        return None
    freq = period_of(pd.Timestamp(row["a"]), pd.Timestamp(row["b"]), freq)
    return freq, f"CAST(date_trunc({_TRUNC[freq]!r}, {t}) AS TIMESTAMP)"


def present_groups(grouping, tables, segment, n: int):
    """The segment values with kept rows (``present`` codes, ascending) and the comparison's groups."""
    if grouping is None:
        return None, _Counted(None, np.zeros(0, dtype=np.int64), [], counts=np.array([n]))
    n = np.bincount(np.asarray(tables.group, dtype=np.int64), weights=tables.n, minlength=grouping.n_groups)
    present = np.flatnonzero(n > 0)
    return present, _Counted(segment, np.zeros(0, dtype=np.int64), [str(grouping.labels[i]) for i in present],
                             counts=n[present])


def _evaluate(tables, codes, G, opts, *, intervals=True):
    return metrics_from_tables(tables, codes, G, threshold=opts["threshold"], metrics=opts["metrics"],
                               intervals=intervals, seed=opts["seed"], n_boot=opts["n_boot"],
                               time_budget_s=opts["time_budget_s"], min_group_size=opts["min_group_size"])


def _segment_rows(tables, grouping, present, groups, opts, name):
    t = _evaluate(tables, _codes(grouping, present, tables.group), groups.n_groups, opts).assign(model=name)
    g = t["group"].to_numpy()
    t.insert(0, groups.segment, np.asarray(groups.labels, dtype=object)[g])
    t.insert(1, "segment", np.asarray(groups.segment_names, dtype=object)[g])
    return t[[groups.segment, "segment"] + _COLUMNS + ["small"]]


def _period_rows(tables, period, name, opts):
    starts = pd.to_datetime(tables.group)
    ok = starts.notna().to_numpy()
    distinct = pd.DatetimeIndex(starts[ok].unique()).sort_values()
    codes = pd.Index(distinct).get_indexer(starts[ok])
    sub = _subset(tables, ok)
    t = metrics_from_tables(sub, codes, len(distinct), threshold=opts["threshold"], metrics=opts["metrics"],
                            intervals=False)
    labels = np.asarray([d.strftime(PERIOD_FORMAT[period[0]]) for d in distinct], dtype=object)
    t.insert(0, "period", labels[t["group"].to_numpy()])
    return t.assign(model=name)[["period", "model", "metric", "value", "n"]]


def _subset(tables, ok):
    """The tables' result rows ``ok`` (the periods drop the rows without a time): every per-row field sliced."""
    changes = {}
    for f in fields(tables):
        v = getattr(tables, f.name)
        if isinstance(v, pd.DataFrame):
            changes[f.name] = v[ok].reset_index(drop=True)
        elif isinstance(v, np.ndarray) and v.shape[:1] == ok.shape:
            changes[f.name] = v[ok]
        elif isinstance(v, dict):  # binary: loss -> (sum, sum of squares) per row
            changes[f.name] = {k: (a[ok], b[ok]) for k, (a, b) in v.items()}
    return replace(tables, **changes)
