"""Compare on an engine for a multiclass source: :func:`mlimpact.compare.compare_models` of predicted-class
columns, counted where the data lives.

The models are the source's prediction (or the argmax of its class probabilities) and its other models'
predicted-class columns, each read as class codes in SQL by the memory path's rules (values normalized as
labels; values that are not classes of the label appended to the classes, with a note; a missing prediction
leaves the row out of the comparison). Per model, one ``GROUPING SETS`` scan counts (group, true class,
predicted class) for all rows, the segment and the periods; per challenger, one scan counts the paired
bootstrap's cells (segment, true class, class of A, class of B). The memory path's code makes the tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.compare.candidates import BASELINE_MODEL, _Model
from mlimpact.compare.differences import _metric_rows, difference_table
from mlimpact.compare.engine_models import evaluate_models, left_out_notes
from mlimpact.compare.engine_paired import _codes
from mlimpact.compare.models import Comparison
from mlimpact.compare.paired_bootstrap import multiclass_replicates
from mlimpact.compare.robustness import _robustness
from mlimpact.engine.multiclass_tables import (
    MulticlassSpec,
    class_code_sql,
    label_values,
    multiclass_keys,
    multiclass_tables_many,
    predicted_sql,
)
from mlimpact.errors import InputError
from mlimpact.impact.bootstrap import cell_bootstrap, make_cells_of_units

__all__ = ["compare_multiclass_engine", "ARGMAX_MODEL"]

#: the name of the model a multiclass source without a prediction column makes (as in memory)
ARGMAX_MODEL = "argmax of the class probabilities"


def compare_multiclass_engine(eds, score_columns=None, *, segment=None, metrics=None, baseline=None, time_freq=None,
                              n_bins=5, top_k=20, min_group_size=30, n_boot=1000, seed=0, time_budget_s=2.0,
                              say=lambda text: None) -> Comparison:
    """:func:`mlimpact.compare.engine_compare.compare_models_engine` for a multiclass engine dataset."""
    say("the rows every model predicted")
    models, where, classes, notes = _models(eds, score_columns, baseline)
    K = len(classes)
    say("each model's counts per class, segment and period")

    def count(pred, sets):
        spec = MulticlassSpec(where=where, y=eds.spec.y, pred=pred, probs=(), K=K)
        return multiclass_tables_many(eds.backend, spec, multiclass_keys(eds.backend, spec), sets)

    ev = evaluate_models(eds, "multiclass", models, where, count, segment=segment, metrics=metrics,
                         time_freq=time_freq, n_bins=n_bins, top_k=top_k, min_group_size=min_group_size,
                         n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    say("paired differences against the first model")
    seg = ev.grouping.code_sql() if ev.grouping is not None else "0"
    differences, used_all = _differences(eds, where, seg, models, K, ev.grouping, ev.present, ev.groups, ev.exact,
                                         ev.metrics, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    shown = [_Model(name, None, np.zeros(0)) for name, _ in models]
    robustness = _robustness(shown, ev.metrics, ev.overall, ev.seg_table, ev.over_time, min_group_size)
    return Comparison(task="multiclass", models=tuple(name for name, _ in models), reference=models[0][0],
                      metrics=tuple(ev.metrics), threshold=float(eds.spec.threshold), segment=segment,
                      overall=ev.overall, segments=ev.seg_table, differences=differences, robustness=robustness,
                      over_time=ev.over_time, value=None, n_rows=ev.n_rows,
                      n_boot=min(used_all) if used_all else 0, notes=notes,
                      period=ev.period[0] if ev.period else None)


def _models(eds, score_columns, baseline):
    """``[(name, class code SQL)]``, the rows every model predicted (``where``), the classes and the notes."""
    roles, be, where = eds.roles, eds.backend, eds.spec.where
    main = roles.prediction or roles.score or (ARGMAX_MODEL if eds.spec.probs else None)
    columns = list(score_columns) if score_columns else ([main] if main else []) + [
        c for c in roles.other_scores if c in eds.column_types and c != main]
    if not columns:
        raise InputError("no model column to compare; name the prediction column")
    if len(set(columns)) != len(columns):
        raise InputError("each model column may appear only once")
    classes, notes, codes, missing = list(eds.classes), [], [], []
    for c in columns:
        if c == main:
            codes.append(predicted_sql(eds.spec))
            continue
        if c not in eds.column_types:
            raise InputError(f"column `{c}` (a model to compare) is not in the file; pick one of its columns")
        counts = label_values(be, c, where)  # the used rows' values, as memory reads them
        extra = sorted({v for v in counts["norm"].dropna() if v not in classes})
        if extra:
            notes.append(f"column `{c}` predicts {len(extra)} value(s) that are not classes of the label "
                         f"(e.g. {extra[0]!r}); they count as wrong")
            classes += extra
        code, is_missing = class_code_sql(c, counts, {k: j for j, k in enumerate(classes)}, eds.column_types[c])
        codes.append(f"CASE WHEN {is_missing} THEN 0 ELSE {code} END")  # missing: 0, as in memory, then left out
        missing.append(is_missing)
    keep = f"({where})" + "".join(f" AND NOT {m}" for m in missing)
    models = _without_copies(be, where, list(zip(columns, codes, strict=True)), notes)
    row = be.query(f"SELECT count(*) AS n, sum(CASE WHEN {keep} THEN 1 ELSE 0 END) AS kept FROM src "
                   f"WHERE {where}").iloc[0]
    notes[:0] = left_out_notes(int(row["n"]), int(row["kept"]))
    if baseline if baseline is not None else len(columns) == 1:
        counts = be.query(f"SELECT {eds.spec.y} AS y, count(*) AS n FROM src WHERE {keep} GROUP BY 1")
        per = np.bincount(counts["y"].to_numpy(dtype=np.int64), weights=counts["n"].to_numpy(dtype=float),
                          minlength=len(classes))
        models.append((BASELINE_MODEL["multiclass"], str(int(np.argmax(per)))))
        notes.append(f"{BASELINE_MODEL['multiclass']} is computed on these same rows (an in-sample stand-in for "
                     "having no model)")
    if len(models) < 2:
        raise InputError("comparing needs two models; pick other models' prediction columns")
    return models, keep, classes, notes


def _without_copies(be, where: str, models: list[tuple[str, str]], notes: list[str]) -> list[tuple[str, str]]:
    """Models whose codes equal an earlier one's on every row are listed once, with a note (as in memory)."""
    diff = [f"sum(CASE WHEN ({a}) = ({b}) THEN 0 ELSE 1 END) AS d{i}_{j}" for i, (_, a) in enumerate(models)
            for j, (_, b) in enumerate(models) if j < i]
    row = be.query(f"SELECT {', '.join(diff)} FROM src WHERE {where}").iloc[0] if diff else {}
    kept: list[tuple[int, str, str]] = []
    for i, (name, code) in enumerate(models):
        twin = next((k for k in kept if int(row[f"d{i}_{k[0]}"]) == 0), None)
        if twin is None:
            kept.append((i, name, code))
        else:
            notes.append(f"`{name}` is a copy of `{twin[1]}` (identical on every row) and is not compared")
    return [(name, code) for _, name, code in kept]


def _differences(eds, where, seg, models, K, grouping, present, groups, exact, metrics, *, n_boot, seed,
                 time_budget_s) -> tuple[pd.DataFrame, list[int]]:
    """Each challenger against the first model: the paired bootstrap on (segment, true class, both classes)."""
    (ref, ref_sql), rows, used_all = models[0], [], []
    for mi, (name, sql) in enumerate(models[1:], start=1):
        df = eds.backend.query(f"SELECT {seg} AS g, {eds.spec.y} AS y, ({ref_sql}) AS a, ({sql}) AS b, count(*) AS n "
                               f"FROM src WHERE {where} GROUP BY 1, 2, 3, 4")
        pattern = (df["y"].to_numpy(dtype=np.int64) * K + df["a"].to_numpy(dtype=np.int64)) * K + \
            df["b"].to_numpy(dtype=np.int64)
        U = len(df)
        cells = make_cells_of_units(_codes(grouping, present, df["g"]), pattern, df["n"].to_numpy(dtype=float),
                                    np.zeros((U, 0)), np.zeros((U, 0, 0)), np.zeros(U, dtype=bool), groups.n_groups)
        reps, used = cell_bootstrap(cells, n_boot=n_boot, seed=seed + mi, time_budget_s=time_budget_s)
        if used:
            used_all.append(used)
        ma, mb = multiclass_replicates(cells, reps, K)
        paired = {m: (np.asarray(ma[m], float), np.asarray(mb[m], float)) for m in metrics if m in ma and m in mb}
        for metric in metrics:
            rows += _metric_rows(metric, _Model(ref, None, np.zeros(0)), _Model(name, None, np.zeros(0)),
                                 exact[ref][metric], exact[name][metric], paired, None, groups)
    return difference_table(rows), used_all
