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

import numpy as np

from mlimpact.compare.candidates import BASELINE_MODEL, _Model, metrics_to_compare
from mlimpact.compare.engine_models import left_out_notes, model_tables, period_sql, present_groups
from mlimpact.compare.engine_multiclass import compare_multiclass_engine
from mlimpact.compare.engine_paired import engine_differences
from mlimpact.compare.engine_regression import compare_regression_engine
from mlimpact.compare.engine_value import engine_value_table
from mlimpact.compare.models import Comparison, exact_values
from mlimpact.compare.robustness import _robustness
from mlimpact.engine.sql import double, finite, ident, number_type
from mlimpact.engine.tables import BinarySpec, binary_tables_many, score_keys
from mlimpact.errors import InputError
from mlimpact.metrics.tables import losses_for_range
from mlimpact.slices.engine_segments import engine_grouping

__all__ = ["compare_models_engine"]


def compare_models_engine(eds, score_columns=None, *, segment: str | None = None, metrics=None,
                          baseline: bool | None = None, time_freq: str | None = None, n_bins: int = 5,
                          top_k: int = 20, min_group_size: int = 30, n_boot: int = 1000, seed: int = 0,
                          time_budget_s: float | None = 2.0, progress=None, costs=None, scale=None) -> Comparison:
    """:func:`mlimpact.compare.compare_models` for an :class:`mlimpact.engine.dataset.EngineDataset` (binary
    with scores; multiclass and regression: :mod:`mlimpact.compare.engine_multiclass`, ``engine_regression``);
    ``costs`` (binary): each model's value, as in memory (:mod:`mlimpact.compare.engine_value`). ``progress(text)``
    as each step starts."""
    say = progress or (lambda text: None)
    if eds.task != "binary":
        run = compare_multiclass_engine if eds.task == "multiclass" else compare_regression_engine
        return run(eds, score_columns, segment=segment, metrics=metrics, baseline=baseline, time_freq=time_freq,
                   n_bins=n_bins, top_k=top_k, min_group_size=min_group_size, n_boot=n_boot, seed=seed,
                   time_budget_s=time_budget_s, say=say)
    threshold = float(eds.spec.threshold)
    say("the rows every model scored")
    models, where, notes = _models(eds, score_columns, baseline)
    say("each model's runs and cells, per segment and period")
    grouping = engine_grouping(eds, segment, n_bins=n_bins, top_k=top_k) if segment else None
    period = period_sql(eds, where, time_freq)
    counted = {name: _count(eds, where, sql, grouping, period) for name, sql in models}
    ref_name = models[0][0]
    probabilities = all(k.lo >= 0 and k.hi <= 1 for _, k, _ in counted.values())
    allowed = metrics_to_compare("binary", has_score=True, probabilities=probabilities)
    metrics = [m for m in (metrics or allowed) if m in allowed]
    if not metrics:
        raise InputError(f"none of the metrics can be compared for this task; choose from {', '.join(allowed)}")
    present, groups = present_groups(grouping, counted[ref_name][2][1] if grouping else None, segment,
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
    value = None
    if costs is not None:
        say("each model's value, paired against the first")
        value = engine_value_table(eds, where, models, costs, threshold=threshold, scale=scale, n_boot=n_boot,
                                   seed=seed, time_budget_s=time_budget_s)
    return Comparison(task="binary", models=tuple(name for name, _ in models), reference=ref_name,
                      metrics=tuple(metrics), threshold=threshold, segment=segment, overall=overall,
                      segments=seg_table, differences=differences, robustness=robustness, over_time=over_time,
                      value=value, n_rows=int(counted[ref_name][1].n), n_boot=min(used_all) if used_all else 0,
                      notes=notes, period=period[0] if period else None)


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
    notes = left_out_notes(int(row["n"]), int(row["kept"]))
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


def _count(eds, where, score_sql, grouping, period):
    """One model's spec, score keys and tables: all rows, then the segment, then the periods (one scan)."""
    spec = BinarySpec(where=where, y=eds.spec.y, score=score_sql, threshold=eds.spec.threshold)
    keys = score_keys(eds.backend, spec)
    spec = BinarySpec(where=where, y=eds.spec.y, score=score_sql, threshold=eds.spec.threshold,
                      losses=losses_for_range(keys.lo, keys.hi))
    sets = [(None, 1)] + ([(grouping.code_sql(), grouping.n_groups)] if grouping else []) + (
        [(period[1], 64)] if period else [])
    return spec, keys, binary_tables_many(eds.backend, spec, keys, sets)
