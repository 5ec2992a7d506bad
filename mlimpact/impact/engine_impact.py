"""Business impact on an engine (DuckDB, Spark): the memory path's analysis from an engine's *units*.

A unit is the group of rows with one score, label, decision pattern of the baselines (the other models at
their thresholds) and segment value. Every number of the analysis is a sum over rows of money that is
fixed within a unit's decision, so the engine returns, per unit, its rows, the sums of each money term and
of keep/flag/review/perfect money, and the sums of their products (the bootstrap's within-cell spread).
:func:`~mlimpact.impact.points.policies_of`, :func:`~mlimpact.impact.risks.sensitivity_of` and
:func:`~mlimpact.impact.risks.segment_table` then run as in memory on units with weights
(:class:`~mlimpact.impact.values.Gains` ``weight``). Two scans: one for the other models' own curves (only
when the source has other models), one for the units. Nothing row-sized comes back.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.engine.dataset import engine_time_span
from mlimpact.engine.sql import double, finite, ident
from mlimpact.engine.tables import BinarySpec
from mlimpact.errors import InputError
from mlimpact.impact.analysis import ImpactAnalysis, assemble_impact
from mlimpact.impact.bootstrap import make_cells_of_units
from mlimpact.impact.costs import (
    MONEY_TERMS,
    TERM_LABELS,
    CostModel,
    Period,
    money_column_problems,
    parse_rule,
    scale_factor_of,
)
from mlimpact.impact.points import other_model_extras, policies_of
from mlimpact.impact.risks import segment_table, sensitivity_of
from mlimpact.impact.values import (
    _check_lanes,
    _check_threshold,
    _curve_frame,
    best_threshold,
    exact_curve,
    gains_from_terms,
    lane_decisions,
)
from mlimpact.io.build import class_from_column
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.slices.engine_named import slice_sql
from mlimpact.slices.engine_segments import engine_grouping

__all__ = ["analyze_impact_engine", "usable_amount", "engine_one_vs_rest", "terms_sql", "MAX_UNITS"]

#: units an engine may send back (score values × labels × decision patterns × segment values)
MAX_UNITS = 5_000_000
_MONEY = ("k", "f", "r", "p")  # keep, flag, review, perfect: the per-row money the units sum


def terms_sql(eds, costs: CostModel) -> dict[str, str]:
    """Each money term as SQL (a number, or the column as a double), the columns checked as in memory."""
    cols = costs.columns()
    problems = []
    if cols:
        facts = {c: {"present": c in eds.column_types} for c in cols}
        for c in cols:
            if facts[c]["present"]:
                facts[c]["numeric"] = eds.is_numeric(c)
        counted = [c for c in cols if facts[c].get("numeric")]
        if counted:
            parts = []
            for i, c in enumerate(counted):
                x = f"CAST({ident(c)} AS DOUBLE)"
                parts += [f"count(*) FILTER (WHERE {x} IS NULL OR isnan({x})) AS m{i}",
                          f"count(*) FILTER (WHERE NOT ({x} IS NULL OR isnan({x}) OR {finite(x)})) AS i{i}",
                          f"max(CASE WHEN {finite(x)} THEN abs({x}) END) AS a{i}"]
            row = eds.backend.query(f"SELECT {', '.join(parts)} FROM src WHERE {eds.spec.where}").iloc[0]
            for i, c in enumerate(counted):
                facts[c].update(missing=int(row[f"m{i}"]), infinite=int(row[f"i{i}"]),
                                max_abs=float(0.0 if pd.isna(row[f"a{i}"]) else row[f"a{i}"]))
        for name in MONEY_TERMS:
            v = getattr(costs, name)
            if isinstance(v, str):
                problems += money_column_problems(v, TERM_LABELS[name], **facts[v])
    if problems:
        raise InputError("; ".join(problems), problems=problems)
    return {name: (f"CAST({ident(v)} AS DOUBLE)" if isinstance(v, str) else double(float(v)))
            for name, v in ((n, getattr(costs, n)) for n in MONEY_TERMS)}


def usable_amount(eds) -> str | None:
    """The amount column when :func:`mlimpact.impact.default_costs` would use it (numbers, none missing)."""
    col = eds.roles.amount
    if not col or col not in eds.column_types or not eds.is_numeric(col):
        return None
    x = f"CAST({ident(col)} AS DOUBLE)"
    missing = eds.backend.query(f"SELECT count(*) FILTER (WHERE {x} IS NULL OR isnan({x})) AS m FROM src "
                                f"WHERE {eds.spec.where}").iloc[0]["m"]
    return col if int(missing) == 0 else None


def _money_sql(y: str, t: dict[str, str]) -> dict[str, str]:
    k = f"CASE WHEN {y} = 1 THEN -({t['cost_fn']}) ELSE {t['value_tn']} END"
    f = f"CASE WHEN {y} = 1 THEN {t['value_tp']} ELSE -({t['cost_fp']}) END"
    r = f"CASE WHEN {y} = 1 THEN {t['value_tp']} ELSE {t['value_tn']} END - ({t['cost_review']})"
    return {"k": k, "f": f, "r": r, "p": f"greatest({f}, {k})"}


def _others(eds) -> list[str]:
    out = []
    for col in eds.roles.other_scores:
        if col not in eds.column_types or col == eds.roles.score:
            continue
        if not eds.is_numeric(col):
            raise InputError(f"column `{col}` (another model's score) does not hold numbers; remove it from the other "
                             "models or pick its score column")
        out.append(col)
    return out


def _filled(col: str) -> str:
    x = f"CAST({ident(col)} AS DOUBLE)"
    return f"CASE WHEN {x} IS NULL OR isnan({x}) THEN {double(-np.inf)} ELSE {x} END"


def _sums_sql(t: dict[str, str]) -> str:
    return ", ".join(f"sum({t[n]}) AS {n}" for n in MONEY_TERMS)


def _other_curves(eds, others: list[str], terms: dict[str, str], threshold: float):
    """One scan: the model's flag count at ``threshold``, and each other model's rows and term sums per score."""
    spec = eds.spec
    keys = [f"{_filled(c)} AS o{i}" for i, c in enumerate(others)]
    inner = (f"SELECT {', '.join(keys)}, {spec.y} AS y, CASE WHEN {spec.score} >= {double(threshold)} THEN 1 ELSE 0 "
             f"END AS d, {', '.join(f'{v} AS {n}' for n, v in terms.items())} FROM src WHERE {spec.where}")
    sets = ", ".join([f"(o{i}, y)" for i in range(len(others))] + ["(d)"])
    marks = ", ".join(f"GROUPING(o{i}) AS x{i}" for i in range(len(others)))
    df = eds.backend.query(f"SELECT {', '.join(f'o{i}' for i in range(len(others)))}, y, d, {marks}, "
                           f"GROUPING(d) AS xd, count(*) AS w, {_sums_sql({n: n for n in MONEY_TERMS})} "
                           f"FROM ({inner}) GROUP BY GROUPING SETS ({sets})")
    flagged = df[(df["xd"] == 0) & (df["d"] == 1)]["w"]
    k = int(flagged.iloc[0]) if len(flagged) else 0
    curves = []
    for i in range(len(others)):
        mine = df[df[f"x{i}"] == 0]
        curves.append((mine[f"o{i}"].to_numpy(dtype=float), mine["y"].to_numpy(dtype=np.int64),
                       mine["w"].to_numpy(dtype=float), {n: mine[n].to_numpy(dtype=float) for n in MONEY_TERMS}))
    return k, curves


def _same_rate_of_counts(values: np.ndarray, counts: np.ndarray, k: int) -> float:
    """:func:`mlimpact.impact.layout.same_rate_threshold` from distinct values and their rows."""
    order = np.argsort(values, kind="stable")
    v, c = values[order], counts[order]
    finite = np.isfinite(v)
    v, c = v[finite], c[finite]
    if not len(v):
        return 0.0
    if k <= 0:
        return float(np.nextafter(v[-1], np.inf))
    n = int(c.sum())
    return float(v[np.searchsorted(np.cumsum(c), max(n - k, 0), side="right")])


def _other_extras(others, curves, k: int, n: int) -> list[tuple]:
    """Each other model's threshold at its own best value and at the model's flag rate (with the note)."""
    specs = []
    for col, (o, y, w, sums) in zip(others, curves, strict=True):
        own = gains_from_terms(y.astype(bool), o, sums, weight=w)
        t_own, _ = best_threshold(_curve_frame(exact_curve(own)))
        distinct, inv = np.unique(o, return_inverse=True)
        t_rate = _same_rate_of_counts(distinct, np.bincount(inv, weights=w).astype(np.int64), k)
        missing = int(w[np.isneginf(o)].sum())
        note = f"{missing:,} rows without a score count as not flagged" if missing else None
        specs.append((col, t_own, t_rate, note))
    return specs


def _units(eds, terms: dict[str, str], decisions: list[str], seg_sql: str) -> pd.DataFrame:
    """One scan: per (score, label, pattern of ``decisions``, segment) the rows, money sums and product sums."""
    spec = eds.spec
    money = _money_sql("y", {n: n for n in MONEY_TERMS})
    bits = " + ".join(f"CASE WHEN {c} THEN {1 << i} ELSE 0 END" for i, c in enumerate(decisions)) or "0"
    inner = (f"SELECT CAST({spec.score} AS DOUBLE) AS s, {spec.y} AS y, {bits} AS b, {seg_sql} AS g, "
             f"{', '.join(f'{v} AS {n}' for n, v in terms.items())} FROM src WHERE {spec.where}")
    mid = f"SELECT s, y, b, g, {', '.join(MONEY_TERMS)}, {', '.join(f'{v} AS {n}' for n, v in money.items())} FROM ({inner})"
    prods = [f"sum({a} * {b}) AS {a}{b}" for i, a in enumerate(_MONEY) for b in _MONEY[i:]]
    spread = ", ".join(f"max({m}) - min({m}) AS v{m}" for m in _MONEY)
    return eds.backend.query(f"SELECT s, y, b, g, count(*) AS w, {_sums_sql({n: n for n in MONEY_TERMS})}, "
                             f"{', '.join(f'sum({m}) AS s{m}' for m in _MONEY)}, {', '.join(prods)}, "
                             f"{spread} FROM ({mid}) GROUP BY s, y, b, g")


def _moments(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: sums (U, 4) and products (U, 4, 4) of keep, flag, review and perfect money."""
    S = np.column_stack([df[f"s{m}"].to_numpy(dtype=float) for m in _MONEY])
    M = np.empty((len(df), 4, 4))
    for i, a in enumerate(_MONEY):
        for j in range(i, 4):
            M[:, i, j] = M[:, j, i] = df[f"{a}{_MONEY[j]}"].to_numpy(dtype=float)
    return S, M


def analyze_impact_engine(eds, costs: CostModel, *, threshold: float | None = None, lanes=None,
                          segment: str | None = None, scale: str | None = None, unit: str = "", n_boot: int = 1000,
                          seed: int = 0, time_budget_s: float | None = None, progress=None,
                          rule=None) -> ImpactAnalysis:
    """:func:`mlimpact.impact.analyze_impact` on an engine dataset; a ``rule`` (a slice expression) is written as SQL
    (:func:`mlimpact.slices.engine_named.slice_sql`) and counted as one more decision bit of the units."""
    trace.count("analyze_impact_engine")
    say = progress or (lambda message: None)
    if eds.task != "binary":
        raise InputError(f"business value needs a binary decision; {eds.name} is {eds.task}. Choose the binary task "
                         "and a positive class")
    threshold = _check_threshold(eds.spec.threshold if threshold is None else threshold)
    lanes = _check_lanes(lanes)
    terms = terms_sql(eds, costs)
    span = engine_time_span(eds)
    period = None if span is None else Period(start=span[0], end=span[1], days=span[2])
    factor, period = scale_factor_of(period, scale)
    est = int(eds.backend.query(f"SELECT approx_count_distinct({eds.spec.score}) AS d FROM src "
                                f"WHERE {eds.spec.where}").iloc[0]["d"])
    if est > MAX_UNITS:
        raise InputError(f"{eds.name}: column `{eds.roles.score}` (score) has about {est:,} distinct values; value at "
                         f"every threshold on an engine needs at most {MAX_UNITS:,} (round the scores to 4 decimals)")
    others = _others(eds)
    specs = []
    if others:
        say(f"counting the other models' values per score ({', '.join(others)})")
        k, curves = _other_curves(eds, others, terms, threshold)
        specs = _other_extras(others, curves, k, eds.n)
    rule, decisions = _decisions(eds, specs, rule)
    grouping = engine_grouping(eds, segment, n_bins=5, top_k=20) if segment else None
    say("counting rows and money per score, label, baseline decisions" + (f" and {segment}" if segment else ""))
    _check_units(eds, est, others, grouping, rule is not None)
    df = _units(eds, terms, decisions, grouping.code_sql() if grouping else "0")
    y = df["y"].to_numpy(dtype=np.int64).astype(bool)
    w = df["w"].to_numpy(dtype=float)
    bits = df["b"].to_numpy(dtype=np.int64)
    S, M = _moments(df)
    varies = np.column_stack([df[f"v{m}"].to_numpy(dtype=float) > 0 for m in _MONEY])  # per unit and column
    g = gains_from_terms(y, df["s"].to_numpy(dtype=float), {n: df[n].to_numpy(dtype=float) for n in MONEY_TERMS},
                         weight=w, perfect_sum=S[:, 3])

    def extras_of(k_model: int, n: int) -> list:
        out = [] if rule is None else [("rule", f"rule: flag when {rule.describe()}", np.nan,
                                        (bits >> (2 * len(specs))) & 1 == 1, None)]  # first, as in memory
        for i, (col, t_own, t_rate, note) in enumerate(specs):
            out += other_model_extras(col, t_own, t_rate, (bits >> (2 * i)) & 1 == 1, (bits >> (2 * i + 1)) & 1 == 1,
                                      k_model, n, note)
        return out

    def cells_of(bins, pattern, n_cells, columns, derived):
        return make_cells_of_units(bins, pattern, w, S[:, :columns], M[:, :columns, :columns], varies[:, :columns], n_cells,
                                   derived=derived)

    say("bootstrapping every policy")
    P = policies_of(g, threshold=threshold, lanes=lanes, extras_of=extras_of, cells_of=cells_of, n_boot=n_boot,
                    seed=seed, time_budget_s=time_budget_s)
    sens = sensitivity_of(g, costs, threshold=threshold, lanes=lanes, factor=factor, scale=scale)
    segs = _segments(g, grouping, df, S, M, varies.any(axis=1), threshold=threshold, lanes=None, n_boot=n_boot, seed=seed,  # at the threshold, as in memory
                     time_budget_s=time_budget_s, factor=factor, scale=scale) if grouping else None
    return assemble_impact(P, _curve_frame(exact_curve(g)), sens, segs, source=eds.name, costs=costs, rule=rule,
                           scale=scale, factor=factor, period=period, unit=unit, seed=seed)


def _decisions(eds, specs, rule) -> tuple:
    """The rule (parsed) and the SQL of each decision bit: the other models' (at their two thresholds), then the
    rule's last, so the other models' bits keep their places."""
    decisions = [f"{_filled(col)} >= {double(t)}" for col, t_own, t_rate, _ in specs for t in (t_own, t_rate)]
    if isinstance(rule, str):
        rule = parse_rule(rule) if rule.strip() else None
    if rule is not None:
        decisions.append(slice_sql(eds, rule.expression)[0])
    return rule, decisions


def _check_units(eds, est: int, others: list[str], grouping, rule: bool = False) -> None:
    """Refuse before a scan whose units would be row-sized: distinct scores × labels × baseline patterns ×
    segment groups, each estimated."""
    for col in others:
        d = int(eds.backend.query(f"SELECT approx_count_distinct({ident(col)}) AS d FROM src "
                                  f"WHERE {eds.spec.where}").iloc[0]["d"])
        if d > MAX_UNITS:
            raise InputError(f"{eds.name}: column `{col}` (another model's score) has about {d:,} distinct values, more "
                             f"than {MAX_UNITS:,}; round it to 4 decimals, or leave it out of the other models")
    units = est * 2 * 4 ** len(others) * (2 if rule else 1) * (grouping.n_groups if grouping else 1)
    if units > 20 * MAX_UNITS:
        raise InputError(f"{eds.name}: up to {units:,} groups of rows (scores × labels × other models' decisions × "
                         f"segment values) would come back; round the scores, or use fewer other models")


def _segments(g, grouping, df, S, M, varies, *, threshold, lanes, n_boot, seed, time_budget_s, factor, scale):
    """:func:`mlimpact.impact.segment_impact` from the units: the value lost per segment value."""
    codes = df["g"].to_numpy(dtype=np.int64)  # the segment's group codes, folded in SQL
    present = np.bincount(codes, weights=g.weight, minlength=grouping.n_groups) > 0
    remap = np.cumsum(present) - 1
    codes = remap[codes]
    labels = pd.DataFrame({grouping.column: [lab for lab, p in zip(grouping.labels, present, strict=True) if p]})
    d = lane_decisions(g.score, threshold, lanes)
    m = d.astype(np.int64)  # keep 0, flag 1, review 2: the money columns' order
    U = np.arange(len(d))
    lost = S[:, 3] - S[U, m]
    cross = M[:, 3, 3] - 2 * M[U, 3, m] + M[U, m, m]
    cells = make_cells_of_units(codes, m * 2 + g.y, g.weight, lost[:, None], cross[:, None, None], varies,
                                len(labels))
    return segment_table(g, d, codes, labels, grouping.column, cells, n_boot=n_boot, seed=seed,
                         time_budget_s=time_budget_s, factor=factor, scale=scale)


def engine_one_vs_rest(eds, cls: str, threshold: float = DEFAULT_THRESHOLD):
    """:func:`mlimpact.impact.one_vs_rest` on an engine: a binary view of a multiclass engine dataset, ``cls``
    against every other class, scored by its probability and flagged at ``threshold`` (the same rows)."""
    if eds.task != "multiclass":
        raise InputError(f"one class against the rest needs a multiclass task; {eds.name} is {eds.task}")
    if cls not in eds.classes:
        raise InputError(f"class {cls!r} is not one of {', '.join(map(repr, eds.classes))}")
    if not eds.spec.probs:
        raise InputError(f"{eds.name}: one class against the rest needs one probability column per class; name them "
                         "with --class-scores, or on the Large data page")
    k = eds.classes.index(cls)
    column = next((c for c in eds.roles.class_scores if class_from_column(c, set(eds.classes)) == cls), None)
    spec = BinarySpec(where=eds.spec.where, y=f"CASE WHEN ({eds.spec.y}) = {k} THEN 1 ELSE 0 END",
                      score=f"CAST({eds.spec.probs[k]} AS DOUBLE)", threshold=_check_threshold(threshold))
    # other models of a multiclass file predict classes: no scores to compare one class's value with
    roles = eds.roles.replace(task="binary", positive=cls, score=column, prediction=None, class_scores=(),
                              other_scores=())
    return dataclasses.replace(eds, roles=roles, task="binary", classes=(f"not {cls}", cls), spec=spec)
