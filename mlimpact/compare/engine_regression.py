"""Compare on an engine for a regression source: :func:`mlimpact.compare.compare_models` of prediction columns,
counted where the data lives.

The models are the source's prediction and its other models' prediction columns (numbers), on the rows where
every one of them is finite (the memory path's rule and notes; the mean of the truth as the stand-in for one
model). Per model, one ``GROUPING SETS`` scan counts the regression cells (truth × error quantile bins, with
the sums the metrics need) of all rows, the segment and the periods. Per challenger, one scan counts the paired
bootstrap's cells — segment × quartile bins of the truth and of both models' absolute errors (numpy's
quantiles, read as exact order statistics) — with the sums and cross-products of both models' (e, |e|, e²)
and of (y, y²), each minus its value at the bin's low edge so the covariance loses no digits.
"""

from __future__ import annotations

import numpy as np

from mlimpact.compare.candidates import BASELINE_MODEL, _Model
from mlimpact.compare.differences import _metric_rows, difference_table
from mlimpact.compare.engine_models import evaluate_models, left_out_notes
from mlimpact.compare.engine_paired import _codes, _low_edges
from mlimpact.compare.models import Comparison
from mlimpact.compare.paired_bootstrap import REG_BINS, regression_replicates
from mlimpact.compare.robustness import _robustness
from mlimpact.engine.order import linear_quantiles_of
from mlimpact.engine.regression_tables import RegressionSpec, regression_keys, regression_tables_many
from mlimpact.engine.sql import bin_index, double, finite, ident, number_type
from mlimpact.errors import InputError
from mlimpact.impact.bootstrap import cell_bootstrap, make_cells_of_units

__all__ = ["compare_regression_engine"]


def compare_regression_engine(eds, score_columns=None, *, segment=None, metrics=None, baseline=None, time_freq=None,
                              n_bins=5, top_k=20, min_group_size=30, n_boot=1000, seed=0, time_budget_s=2.0,
                              say=lambda text: None) -> Comparison:
    """:func:`mlimpact.compare.engine_compare.compare_models_engine` for a regression engine dataset."""
    say("the rows every model predicted")
    models, where, notes = _models(eds, score_columns, baseline)
    say("each model's cells per segment and period")

    def count(pred, sets):
        spec = RegressionSpec(where=where, y=eds.spec.y, pred=pred)
        return regression_tables_many(eds.backend, spec, regression_keys(eds.backend, spec), sets)

    ev = evaluate_models(eds, "regression", models, where, count, segment=segment, metrics=metrics,
                         time_freq=time_freq, n_bins=n_bins, top_k=top_k, min_group_size=min_group_size,
                         n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    say("paired differences against the first model")
    ref_name, rows, used_all = models[0][0], [], []
    for mi, (name, pred) in enumerate(models[1:], start=1):
        cells = _cells(eds, where, ev.grouping, ev.present, ev.groups, (models[0][1], pred), ev.n_rows)
        reps, used = cell_bootstrap(cells, n_boot=n_boot, seed=seed + mi, time_budget_s=time_budget_s)
        if used:
            used_all.append(used)
        ma, mb = regression_replicates(cells, reps)
        paired = {m: (np.asarray(ma[m], float), np.asarray(mb[m], float)) for m in ev.metrics if m in ma and m in mb}
        for metric in ev.metrics:
            rows += _metric_rows(metric, _Model(ref_name, None, np.zeros(0)), _Model(name, None, np.zeros(0)),
                                 ev.exact[ref_name][metric], ev.exact[name][metric], paired, None, ev.groups)
    shown = [_Model(name, None, np.zeros(0)) for name, _ in models]
    robustness = _robustness(shown, ev.metrics, ev.overall, ev.seg_table, ev.over_time, min_group_size)
    return Comparison(task="regression", models=tuple(name for name, _ in models), reference=ref_name,
                      metrics=tuple(ev.metrics), threshold=float(eds.spec.threshold), segment=segment,
                      overall=ev.overall, segments=ev.seg_table, differences=difference_table(rows),
                      robustness=robustness, over_time=ev.over_time, value=None, n_rows=ev.n_rows,
                      n_boot=min(used_all) if used_all else 0, notes=notes,
                      period=ev.period[0] if ev.period else None)


def _models(eds, score_columns, baseline):
    """``[(name, prediction SQL)]`` on the rows every model predicted (``where``), and the notes, as in memory."""
    roles, be, where = eds.roles, eds.backend, eds.spec.where
    main = roles.prediction or roles.score
    columns = list(score_columns) if score_columns else [main] + [c for c in roles.other_scores
                                                                  if c in eds.column_types and c != main]
    if len(set(columns)) != len(columns):
        raise InputError("each model column may appear only once")
    for c in columns:
        if c not in eds.column_types:
            raise InputError(f"column `{c}` (a model to compare) is not in the file; pick one of its columns")
        if c != main and not number_type(eds.column_types[c]):
            raise InputError(f"column `{c}` (a model to compare) does not hold numbers; remove it from the other "
                             "models in the sidebar, or pick its score column")
    sql = [eds.spec.pred if c == main else f"CAST({ident(c)} AS DOUBLE)" for c in columns]
    others = [ident(c) for c in columns if c != main]
    keep = f"({where})" + "".join(f" AND {finite(c)}" for c in others)  # missing or infinite: no prediction
    parts = ["count(*) AS n", f"sum(CASE WHEN {keep} THEN 1 ELSE 0 END) AS kept",
             f"avg(CASE WHEN {keep} THEN CAST({eds.spec.y} AS DOUBLE) END) AS mean"]
    # numpy's array_equal: NaN (or a missing value) is never equal, not even to itself
    parts += [f"sum(CASE WHEN CAST({a} AS DOUBLE) = CAST({b} AS DOUBLE) AND NOT isnan(CAST({a} AS DOUBLE)) THEN 0 "
              f"ELSE 1 END) AS d{i}_{j}" for i, a in enumerate(sql) for j, b in enumerate(sql) if j < i]
    row = be.query(f"SELECT {', '.join(parts)} FROM src WHERE {where}").iloc[0]
    notes = left_out_notes(int(row["n"]), int(row["kept"]))
    models: list[tuple[int, str, str]] = []
    for i, c in enumerate(columns):
        twin = next((name for j, name, _ in models if int(row[f"d{i}_{j}"]) == 0), None)
        if twin is None:
            models.append((i, c, sql[i]))
        else:
            notes.append(f"`{c}` is a copy of `{twin}` (identical on every row) and is not compared")
    out = [(name, s) for _, name, s in models]
    if baseline if baseline is not None else len(columns) == 1:
        out.append((BASELINE_MODEL["regression"], double(float(row["mean"]))))
        notes.append(f"{BASELINE_MODEL['regression']} is computed on these same rows (an in-sample stand-in for "
                     "having no model)")
    if len(out) < 2:
        raise InputError("comparing needs two models; pick other models' prediction columns in the sidebar")
    return out, keep, notes


def _cells(eds, where, grouping, present, groups, preds, n):
    """The paired bootstrap's cells of two models: (segment, bins of y, |e_a|, |e_b|), with the shifted sums."""
    be, y = eds.backend, f"CAST({eds.spec.y} AS DOUBLE)"
    errors = [f"(CAST({p} AS DOUBLE) - {y})" for p in preds]
    probs = np.linspace(0, 1, REG_BINS + 1)[1:-1]
    edges = [np.unique(linear_quantiles_of(be, expr, where, n, probs)) for expr in (y, *(f"abs({e})" for e in errors))]
    width = REG_BINS + 1
    seg = grouping.code_sql() if grouping is not None else "0"
    inner = (f"SELECT {seg} AS g, {y} AS my, {errors[0]} AS ea, {errors[1]} AS eb FROM src WHERE {where}")
    binned = (f"SELECT *, {bin_index('my', edges[0])} AS qy, {bin_index('abs(ea)', edges[1])} AS qa, "
              f"{bin_index('abs(eb)', edges[2])} AS qb FROM ({inner}) t")
    lows = [_low_edges(e) for e in edges]

    def low(q: str, at: np.ndarray, power: int) -> str:  # the bin's low edge (or its square), as numpy has it
        at = at * at if power == 2 else at
        return "CASE " + " ".join(f"WHEN {q} = {k} THEN {double(float(v))}" for k, v in enumerate(at)) + " END"

    values = ["ea", f"abs(ea) - {low('qa', lows[1], 1)}", f"ea * ea - {low('qa', lows[1], 2)}",
              "eb", f"abs(eb) - {low('qb', lows[2], 1)}", f"eb * eb - {low('qb', lows[2], 2)}",
              f"my - {low('qy', lows[0], 1)}", f"my * my - {low('qy', lows[0], 2)}"]
    P = len(values)
    cols = [f"sum(v{i}) AS s{i}" for i in range(P)] + [f"sum(v{i} * v{j}) AS c{i}_{j}" for i in range(P)
                                                        for j in range(i, P)]
    cols += [f"max(v{i}) - min(v{i}) AS r{i}" for i in range(P)]
    mid = "SELECT g, qy, qa, qb" + "".join(f", {v} AS v{i}" for i, v in enumerate(values)) + f" FROM ({binned}) s"
    df = be.query(f"SELECT g, qy, qa, qb, count(*) AS n, {', '.join(cols)} FROM ({mid}) u GROUP BY g, qy, qa, qb")
    q = {k: df[k].to_numpy(dtype=np.int64) for k in ("qy", "qa", "qb")}
    pattern = (q["qy"] * width + q["qa"]) * width + q["qb"]
    sums = np.column_stack([df[f"s{i}"].to_numpy(dtype=float) for i in range(P)])
    cross = np.zeros((len(df), P, P))
    for i in range(P):
        for j in range(i, P):
            cross[:, i, j] = cross[:, j, i] = df[f"c{i}_{j}"].to_numpy(dtype=float)
    varies = np.column_stack([df[f"r{i}"].to_numpy(dtype=float) > 0 for i in range(P)])
    la, lb, ly = lows[1][q["qa"]], lows[2][q["qb"]], lows[0][q["qy"]]
    zero = np.zeros(len(df))
    shift = np.column_stack([zero, la, la * la, zero, lb, lb * lb, ly, ly * ly])
    return make_cells_of_units(_codes(grouping, present, df["g"]), pattern, df["n"].to_numpy(dtype=float), sums,
                               cross, varies, groups.n_groups, shift=shift)
