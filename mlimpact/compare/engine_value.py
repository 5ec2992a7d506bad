"""Compare's money table on an engine: each model's value at the shared threshold and at its own best one, with
the paired bootstrap against the reference (:func:`mlimpact.compare.paired._value_table`, counted where the
data lives).

Per model, one ``GROUP BY score, label`` gives its rows and money sums per distinct score: its exact value curve
and best threshold, as in memory. Then one scan counts the units of the paired bootstrap — rows per (label,
every point's decision) with the sums of the keep and flag money and of their products — and the memory path's
:func:`~mlimpact.compare.paired.value_frame` makes the table. Nothing row-sized comes back.
"""

from __future__ import annotations

import numpy as np

from mlimpact.compare.paired import best_cut, value_frame
from mlimpact.engine.dataset import engine_time_span
from mlimpact.errors import InputError
from mlimpact.impact.bootstrap import cell_bootstrap, make_cells_of_units
from mlimpact.impact.costs import MONEY_TERMS, Period, scale_factor_of
from mlimpact.impact.engine_impact import MAX_UNITS, terms_sql
from mlimpact.impact.values import exact_curve, gains_from_terms
from mlimpact.io.decision import decide_sql

__all__ = ["engine_value_table"]


def engine_value_table(eds, where: str, models, costs, *, threshold: float, scale=None, n_boot: int = 1000,
                       seed: int = 0, time_budget_s: float | None = 2.0):
    """The value table of ``models`` (``[(name, score SQL)]``, the reference first) on the rows ``where``."""
    span = engine_time_span(eds)
    factor, _ = scale_factor_of(None if span is None else Period(start=span[0], end=span[1], days=span[2]), scale)
    terms = terms_sql(eds, costs)
    y = eds.spec.y
    specs = []
    for name, score in models:
        best = best_cut(exact_curve(_gains_per_score(eds, where, score, terms)))
        specs += [(name, f"at threshold {threshold:g}", float(threshold), score),
                  (name, "at its best threshold", best, score)]
    bits = " + ".join(f"{decide_sql(score, t)} * {1 << (i + 1)}" for i, (*_, t, score) in enumerate(specs))
    keep = f"CASE WHEN {y} = 1 THEN -({terms['cost_fn']}) ELSE {terms['value_tn']} END"
    flag = f"CASE WHEN {y} = 1 THEN {terms['value_tp']} ELSE -({terms['cost_fp']}) END"
    inner = f"SELECT CAST({y} AS INTEGER) + {bits} AS p, {keep} AS k, {flag} AS f FROM src WHERE {where}"
    df = eds.backend.query(f"SELECT p, count(*) AS w, sum(k) AS k, sum(f) AS f, sum(k * k) AS kk, sum(k * f) AS kf, "
                           f"sum(f * f) AS ff, max(k) - min(k) + max(f) - min(f) AS spread FROM ({inner}) t GROUP BY p")
    p = df["p"].to_numpy(dtype=np.int64)
    w, k, f = (df[c].to_numpy(dtype=float) for c in ("w", "k", "f"))
    flagged = np.column_stack([(p >> (i + 1)) & 1 for i in range(len(specs))]).astype(bool)
    sums = np.column_stack([np.where(flagged[:, i], f, k) for i in range(len(specs))] + [k])
    moment = {(False, False): df["kk"].to_numpy(dtype=float), (True, True): df["ff"].to_numpy(dtype=float),
              (False, True): df["kf"].to_numpy(dtype=float), (True, False): df["kf"].to_numpy(dtype=float)}
    which = np.column_stack([flagged, np.zeros(len(df), dtype=bool)])  # each column: flag money or keep money
    P = which.shape[1]
    cross = np.empty((len(df), P, P))
    for a in range(P):  # a handful of points
        for b in range(P):
            cross[:, a, b] = np.select([which[:, a] & which[:, b], ~which[:, a] & ~which[:, b]],
                                       [moment[True, True], moment[False, False]], moment[False, True])
    cells = make_cells_of_units(np.zeros(len(df), dtype=np.int64), p, w, sums, cross,
                                df["spread"].to_numpy(dtype=float) > 0, 1)
    reps, _ = cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    points = [(name, point, t, int(w[flagged[:, i]].sum())) for i, (name, point, t, _) in enumerate(specs)]
    return value_frame(points, sums[:, :-1].sum(axis=0), k.sum(), reps["sums"][:, 0, :], factor=factor, scale=scale,
                       costs=costs)


def _gains_per_score(eds, where: str, score: str, terms: dict):
    """One model's rows and money sums per (distinct score, label): the gains its exact curve is made of."""
    approx = int(eds.backend.query(f"SELECT approx_count_distinct({score}) AS d FROM src WHERE {where}").iloc[0]["d"])
    if approx > MAX_UNITS:
        raise InputError(f"{eds.name}: a model's score has about {approx:,} distinct values; its value at every "
                         f"threshold on an engine needs at most {MAX_UNITS:,} (round the scores to 4 decimals)")
    sums = ", ".join(f"sum({terms[n]}) AS {n}" for n in MONEY_TERMS)
    df = eds.backend.query(f"SELECT {score} AS s, CAST({eds.spec.y} AS INTEGER) AS y, count(*) AS w, {sums} "
                           f"FROM src WHERE {where} GROUP BY 1, 2")
    return gains_from_terms(df["y"].to_numpy(dtype=np.int64).astype(bool), df["s"].to_numpy(dtype=float),
                            {n: df[n].to_numpy(dtype=float) for n in MONEY_TERMS},
                            weight=df["w"].to_numpy(dtype=float))
