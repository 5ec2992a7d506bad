"""Compare on an engine (DuckDB or Spark): :func:`mlimpact.compare.compare_models` of a binary source, counted
where the data lives.

Every model is evaluated on the rows all of them scored (the memory path's rule, as SQL). Per model, one
``GROUPING SETS`` scan counts the runs and cells of all rows, of every segment value and of every time period
(:func:`mlimpact.engine.tables.binary_tables_many`); per challenger, one scan counts the paired bootstrap's
cells (segment x label x score bin of both models, with the sums and cross-products of both models' losses:
:func:`mlimpact.impact.bootstrap.make_cells_of_units`) and one the rows per (segment, label, both scores) for
DeLong's test (exact while they are few; else both scores in equal-width bins, said in a note). The memory
path's own code then makes the tables: the same values, intervals and winners.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from mlimpact.compare.candidates import BASELINE_MODEL, _Model, metrics_to_compare
from mlimpact.compare.differences import _Groups
from mlimpact.compare.engine_paired import _codes, engine_differences
from mlimpact.compare.models import _COLUMNS, PERIOD_FORMAT, Comparison, exact_values, period_of
from mlimpact.compare.robustness import _robustness
from mlimpact.engine.sql import double, finite, ident, number_type
from mlimpact.engine.tables import BinarySpec, binary_tables_many, score_keys
from mlimpact.errors import InputError
from mlimpact.metrics.tables import losses_for_range, metrics_from_tables
from mlimpact.slices.engine_segments import engine_grouping

__all__ = ["compare_models_engine", "model_tables"]

_TRUNC = {"D": "day", "W": "week", "M": "month"}


@dataclass(frozen=True, eq=False)
class _Counted(_Groups):
    """:class:`_Groups` whose sizes an engine counted (no per-row codes)."""

    counts: np.ndarray = None

    @property
    def sizes(self) -> np.ndarray:
        n = int(self.counts.sum())
        return np.append(self.counts, n).astype(np.int64) if self.segment else np.array([n])


def compare_models_engine(eds, score_columns=None, *, segment: str | None = None, metrics=None,
                          baseline: bool | None = None, time_freq: str | None = None, n_bins: int = 5,
                          top_k: int = 20, min_group_size: int = 30, n_boot: int = 1000, seed: int = 0,
                          time_budget_s: float | None = 2.0, progress=None) -> Comparison:
    """:func:`mlimpact.compare.compare_models` for an :class:`mlimpact.engine.dataset.EngineDataset` (binary
    with scores; multiclass and regression: :mod:`mlimpact.compare.engine_multiclass`, ``engine_regression``);
    ``value`` is None (the business value
    is its own step). ``progress(text)`` as each step starts."""
    say = progress or (lambda text: None)
    if eds.task != "binary":
        # in the function: both build on this module's helpers
        from mlimpact.compare.engine_multiclass import compare_multiclass_engine
        from mlimpact.compare.engine_regression import compare_regression_engine

        run = compare_multiclass_engine if eds.task == "multiclass" else compare_regression_engine
        return run(eds, score_columns, segment=segment, metrics=metrics, baseline=baseline, time_freq=time_freq,
                   n_bins=n_bins, top_k=top_k, min_group_size=min_group_size, n_boot=n_boot, seed=seed,
                   time_budget_s=time_budget_s, say=say)
    threshold = float(eds.spec.threshold)
    say("the rows every model scored")
    models, where, notes = _models(eds, score_columns, baseline)
    say("each model's runs and cells, per segment and period")
    grouping = engine_grouping(eds, segment, n_bins=n_bins, top_k=top_k) if segment else None
    period = _period(eds, where, time_freq)
    counted = {name: _count(eds, where, sql, grouping, period) for name, sql in models}
    ref_name = models[0][0]
    probabilities = all(k.lo >= 0 and k.hi <= 1 for _, k, _ in counted.values())
    allowed = metrics_to_compare("binary", has_score=True, probabilities=probabilities)
    metrics = [m for m in (metrics or allowed) if m in allowed]
    if not metrics:
        raise InputError(f"none of the metrics can be compared for this task; choose from {', '.join(allowed)}")
    present, groups = _present(grouping, counted[ref_name][2][1] if grouping else None, segment,
                               counted[ref_name][1].n)
    opts = {"threshold": threshold, "metrics": metrics, "seed": seed, "n_boot": n_boot,
            "time_budget_s": 0.2 if time_budget_s is not None else None, "min_group_size": min_group_size}
    overall, seg_table, over_time = model_tables({name: counted[name][2] for name, _ in models}, grouping, present,
                                                 groups, period, opts)
    exact = {name: exact_values(name, metrics, overall, seg_table) for name, _ in models}
    say("paired differences against the first model")
    differences, used_all = engine_differences(eds, where, models, counted, grouping, present, groups, exact,
                                               metrics, probabilities, threshold, n_boot=n_boot, seed=seed,
                                               time_budget_s=time_budget_s, notes=notes)
    shown = [_Model(name, None, np.zeros(0)) for name, _ in models]
    robustness = _robustness(shown, metrics, overall, seg_table, over_time, min_group_size)
    return Comparison(task="binary", models=tuple(name for name, _ in models), reference=ref_name,
                      metrics=tuple(metrics), threshold=threshold, segment=segment, overall=overall,
                      segments=seg_table, differences=differences, robustness=robustness, over_time=over_time,
                      value=None, n_rows=int(counted[ref_name][1].n), n_boot=min(used_all) if used_all else 0,
                      notes=notes, period=period[0] if period else None)


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


def _models(eds, score_columns, baseline):
    """``[(name, score SQL)]`` on the rows every model scored (``where``), and the notes, as in memory."""
    roles, be, where = eds.roles, eds.backend, eds.spec.where
    columns = list(score_columns) if score_columns else [roles.score] + [c for c in roles.other_scores
                                                                          if c != roles.score]
    if len(set(columns)) != len(columns):
        raise InputError("each model column may appear only once")
    for c in columns:
        if c not in eds.column_types:
            raise InputError(f"column `{c}` (a model to compare) is not in the file; pick one of its columns")
        if c != roles.score and not number_type(eds.column_types[c]):
            raise InputError(f"column `{c}` (a model to compare) does not hold numbers; remove it from the other "
                             "models in the sidebar, or pick its score column")
    others = [c for c in columns if c != roles.score]
    scored = " AND ".join(finite(ident(c)) for c in others)  # missing or infinite: no prediction
    keep = f"({where}) AND {scored}" if others else where
    parts = ["count(*) AS n", f"sum(CASE WHEN {keep} THEN 1 ELSE 0 END) AS kept",
             f"sum(CASE WHEN {keep} THEN {eds.spec.y} ELSE 0 END) AS pos"]
    parts += [f"sum(CASE WHEN {ident(a)} IS NOT DISTINCT FROM {ident(b)} THEN 0 ELSE 1 END) AS d{i}_{j}"
              for i, a in enumerate(columns) for j, b in enumerate(columns) if j < i]
    row = be.query(f"SELECT {', '.join(parts)} FROM src WHERE {where}").iloc[0]
    notes = []
    if int(row["kept"]) < int(row["n"]):
        notes.append(f"{int(row['n']) - int(row['kept']):,} rows without a prediction from every model are left out "
                     "of the comparison, so every model is judged on the same rows")
    if int(row["kept"]) == 0:
        raise InputError("no row has a prediction from every model; check the other models' columns")
    models: list[tuple[str, str]] = []
    for i, c in enumerate(columns):
        twin = next((columns[j] for j in range(i) if columns[j] in dict(models) and int(row[f"d{i}_{j}"]) == 0), None)
        if twin is None:
            models.append((c, f"CAST({ident(c)} AS DOUBLE)"))
        else:
            notes.append(f"`{c}` is a copy of `{twin}` (identical on every row) and is not compared")
    if baseline if baseline is not None else len(columns) == 1:
        models.append((BASELINE_MODEL["binary"], double(float(row["pos"]) / float(row["kept"]))))
        notes.append(f"{BASELINE_MODEL['binary']} is computed on these same rows (an in-sample stand-in for "
                     "having no model)")
    if len(models) < 2:
        raise InputError("comparing needs two models; pick other models' score columns in the sidebar")
    return models, keep, notes


def _period(eds, where: str, freq: str | None):
    """``(freq, bucket SQL)`` of the time column over the kept rows (the memory path's choice), or None."""
    if not eds.roles.time:
        return None
    t = eds.time_sql()
    row = eds.backend.query(f"SELECT min({t}) AS a, max({t}) AS b, count({t}) AS k FROM src WHERE {where}").iloc[0]
    if int(row["k"]) < 2:
        return None
    freq = period_of(pd.Timestamp(row["a"]), pd.Timestamp(row["b"]), freq)
    return freq, f"CAST(date_trunc({_TRUNC[freq]!r}, {t}) AS TIMESTAMP)"


def _count(eds, where, score_sql, grouping, period):
    """One model's spec, score keys and tables: all rows, then the segment, then the periods (one scan)."""
    spec = BinarySpec(where=where, y=eds.spec.y, score=score_sql, threshold=eds.spec.threshold)
    keys = score_keys(eds.backend, spec)
    spec = BinarySpec(where=where, y=eds.spec.y, score=score_sql, threshold=eds.spec.threshold,
                      losses=losses_for_range(keys.lo, keys.hi))
    sets = [(None, 1)] + ([(grouping.code_sql(), grouping.n_groups)] if grouping else []) + (
        [(period[1], 64)] if period else [])
    return spec, keys, binary_tables_many(eds.backend, spec, keys, sets)


def _present(grouping, tables, segment, n: int):
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
