"""Paired differences of two models on an engine: the paired bootstrap's cells and DeLong's counts.

The memory path (:mod:`mlimpact.compare.paired_bootstrap`, :func:`mlimpact.compare.paired.delong_paired`)
works on rows; here the engine counts what those need. Bootstrap cells: rows per (segment, label, score
bin of A, score bin of B) — the bins being each score's quantiles (numpy's, from its runs or its order
statistics) with the threshold as an edge — with the sums and cross-products of both models' Brier and log
losses, each minus its loss at the bin's low edge, and whether they vary in the cell. DeLong: rows per
(segment, label, score of A, score of B), weighted, while they are few; else each model's placements per score
uploaded and joined to every row (exact); both scores in equal-width bins only when a model's runs were binned
(rows in one bin count as tied; a note says so). The segment is its folded code, in SQL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.compare.candidates import _Model
from mlimpact.compare.differences import _metric_rows, difference_table
from mlimpact.compare.paired import _placements, delong_paired, delong_table
from mlimpact.compare.paired_bootstrap import SCORE_BINS, _binary_replicates, _Layout, score_edges
from mlimpact.engine.order import linear_quantiles_of
from mlimpact.engine.sql import LOG_EPS, bin_index, double
from mlimpact.engine.tables import RUNS_BUDGET, linear_quantiles
from mlimpact.impact.bootstrap import cell_bootstrap, make_cells_of_units

__all__ = ["engine_differences"]

_LOSSES = ("brier_score", "log_loss")


def engine_differences(eds, where, models, counted, grouping, present, groups, exact, metrics, probabilities,
                       threshold, *, n_boot, seed, time_budget_s, notes) -> tuple[pd.DataFrame, list[int]]:
    """:func:`mlimpact.compare.differences._differences` from an engine's counts."""
    (ref, ref_sql), rows, used_all = models[0], [], []
    seg = grouping.code_sql() if grouping is not None else "0"  # folded in SQL: at most top_k + 2 groups
    for mi, (name, sql) in enumerate(models[1:], start=1):
        want = [m for m in metrics if m != "roc_auc"]
        reps = {}
        if want:
            whole = (counted[ref][2][0], counted[name][2][0])  # each model's runs over all rows
            reps, used = _bootstrap(eds, where, seg, (ref_sql, sql), whole, grouping, present, groups, want,
                                    probabilities, threshold, (exact[ref], exact[name]), n_boot=n_boot, seed=seed + mi,
                                    time_budget_s=time_budget_s)
            if used:
                used_all.append(used)
        delong = None
        if "roc_auc" in metrics:
            sizes = (counted[ref][1].n, counted[ref][1].distinct, counted[name][1].distinct)
            runs = (counted[ref][2], counted[name][2])  # each model's tables: all rows, then the segment's
            delong = _delong(eds, where, seg, (ref_sql, sql), grouping, present, groups, sizes, runs, notes)
        for metric in metrics:
            rows += _metric_rows(metric, _Model(ref, None, np.zeros(0)), _Model(name, None, np.zeros(0)),
                                 exact[ref][metric], exact[name][metric], reps, delong, groups)
    return difference_table(rows), used_all


def _codes(grouping, present, raw) -> np.ndarray:
    """The comparison's group of each result row (grouped by :meth:`EngineGrouping.code_sql`: the codes)."""
    if grouping is None:
        return np.zeros(len(raw), dtype=np.int64)
    return np.searchsorted(present, np.asarray(raw, dtype=np.int64))


def _loss_sql(name: str, s: str, y: str) -> str:
    """The memory path's per-row loss of the paired bootstrap (its clipping of the log loss)."""
    if name == "brier_score":
        return f"(({s}) - {y}) * (({s}) - {y})"
    p = f"greatest(least({s}, {double(1 - LOG_EPS)}), {double(LOG_EPS)})"
    return f"-({y} * ln({p}) + (1 - {y}) * ln(1 - {p}))"


def _low_edges(edges: np.ndarray) -> np.ndarray:
    """Each bin's low edge (bin 0: its high edge), bins numbered as ``searchsorted(edges, v, "right")``."""
    return np.r_[edges[:1], edges] if len(edges) else np.zeros(1)


def _loss_at(name: str, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The memory path's per-row loss at scores ``s`` (numpy, as :func:`_loss_sql` in SQL)."""
    if name == "brier_score":
        return (s - y) ** 2
    p = np.clip(s, LOG_EPS, 1 - LOG_EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _shift_sql(name: str, bins: str, edges: np.ndarray) -> str:
    """The loss at each row's bin's low edge, as SQL (the shift :func:`_bootstrap` subtracts)."""
    low = _low_edges(edges)
    at = {y: _loss_at(name, low, np.full(len(low), float(y))) for y in (0, 1)}
    return "CASE " + " ".join(f"WHEN mli_y = {y} AND {bins} = {k} THEN {double(float(at[y][k]))}"
                              for y in (0, 1) for k in range(len(low))) + " END"


def _quantiles(eds, where, score: str, runs, probs) -> np.ndarray:
    """The score's quantiles (numpy's): from its runs when they were counted per score, else from its order
    statistics (:func:`mlimpact.engine.order.linear_quantiles_of`: a histogram, then the bins that hold them)."""
    if runs.exact:
        values, at = np.unique(runs.key, return_inverse=True)
        return linear_quantiles(values, np.bincount(at, weights=runs.n).astype(np.int64), probs)
    return linear_quantiles_of(eds.backend, score, where, int(runs.n.sum()), probs)


def _bootstrap(eds, where, seg, scores, whole, grouping, present, groups, want, probabilities, threshold, exact, *,
               n_boot, seed, time_budget_s):
    be, y = eds.backend, eds.spec.y
    probs = np.linspace(0, 1, SCORE_BINS + 1)[1:-1]
    (ea, qa, ja), (eb, qb, jb) = (score_edges(_quantiles(eds, where, s, runs, probs), threshold)
                                  for s, runs in zip(scores, whole, strict=True))
    names = [m for m in _LOSSES if m in want] if probabilities else []
    # each value minus its loss at the low edge of the row's own score bin: sums of small numbers, no cancellation
    values = [f"{_loss_sql(m, s, 'mli_y')} - {_shift_sql(m, b, edges)}" for s, b, edges in
              (("mli_a", "ba", ea), ("mli_b", "bb", eb)) for m in names]
    P = len(values)
    cols = [f"sum(v{i}) AS s{i}" for i in range(P)] + [f"sum(v{i} * v{j}) AS c{i}_{j}" for i in range(P)
                                                        for j in range(i, P)]
    cols += [f"max(v{i}) - min(v{i}) AS r{i}" for i in range(P)]
    inner = (f"SELECT {seg} AS g, CAST({y} AS INTEGER) AS mli_y, {scores[0]} AS mli_a, {scores[1]} AS mli_b "
             f"FROM src WHERE {where}")
    binned = (f"SELECT g, mli_y, mli_a, mli_b, {bin_index('mli_a', ea)} AS ba, {bin_index('mli_b', eb)} AS bb "
              f"FROM ({inner}) t")
    mid = "SELECT g, mli_y, ba, bb" + "".join(f", {v} AS v{i}" for i, v in enumerate(values)) + f" FROM ({binned}) s"
    df = be.query(f"SELECT g, mli_y, ba, bb, count(*) AS n{''.join(', ' + c for c in cols)} FROM ({mid}) u "
                  "GROUP BY g, mli_y, ba, bb")
    codes = _codes(grouping, present, df["g"])
    pattern = (df["mli_y"].to_numpy(dtype=np.int64) * qa + df["ba"].to_numpy(dtype=np.int64)) * qb + \
        df["bb"].to_numpy(dtype=np.int64)
    w = df["n"].to_numpy(dtype=float)
    sums = np.column_stack([df[f"s{i}"].to_numpy(dtype=float) for i in range(P)]) if P else np.zeros((len(df), 0))
    cross = np.zeros((len(df), P, P))
    for i in range(P):
        for j in range(i, P):
            cross[:, i, j] = cross[:, j, i] = df[f"c{i}_{j}"].to_numpy(dtype=float)
    varies = np.column_stack([df[f"r{i}"].to_numpy(dtype=float) > 0 for i in range(P)]) if P \
        else np.zeros((len(df), 0), dtype=bool)
    ya, bins = df["mli_y"].to_numpy(dtype=float), (df["ba"].to_numpy(dtype=np.int64), df["bb"].to_numpy(dtype=np.int64))
    shift = np.column_stack([_loss_at(m, _low_edges(e)[b], ya) for e, b in zip((ea, eb), bins, strict=True)
                             for m in names]) if P else None
    cells = make_cells_of_units(codes, pattern, w, sums, cross, varies, groups.n_groups, shift=shift)
    reps, used = cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    layout = _Layout(pattern, (2, qa, qb), np.zeros((0, P)), tuple(names), ja, jb)
    ma, mb = _binary_replicates(cells, reps, layout, want, exact[0], exact[1], scored=True)
    return {m: (np.asarray(ma[m], float), np.asarray(mb[m], float)) for m in want if m in ma and m in mb}, used


def _delong(eds, where, seg, scores, grouping, present, groups, sizes, runs, notes) -> pd.DataFrame:
    """DeLong per group then over all rows: from rows per (group, label, both scores) while they are few; else
    from each model's placements (its runs per score) and one scan summing their products (exact while each
    model's runs were counted per score); else both scores in bins (said in a note).
    ``sizes``: the kept rows and each score's distinct values (bound the rows that come back)."""
    be, G = eds.backend, groups.n_groups
    keys = ["mli_a", "mli_b"]
    few = min(sizes[0], 2 * G * sizes[1] * sizes[2]) <= RUNS_BUDGET
    if not few and all(t.exact for tables in runs for t in tables[:2 if grouping is not None else 1]):
        return _delong_joined(eds, where, seg, scores, grouping, present, groups, runs)
    if not few:
        k = int(max(16, np.sqrt(RUNS_BUDGET / (2 * G))))
        lim = be.query(f"SELECT min({scores[0]}) AS a0, max({scores[0]}) AS a1, min({scores[1]}) AS b0, "
                       f"max({scores[1]}) AS b1 FROM src WHERE {where}").iloc[0]
        keys = [_binned(c, float(lim[f"{c[-1]}0"]), float(lim[f"{c[-1]}1"]), k) for c in keys]
        notes.append(f"ROC AUC differences come from {k:,} equal-width bins of each score (too many distinct pairs "
                     "of scores to keep); rows in one bin count as tied")
    inner = (f"SELECT {seg} AS g, CAST({eds.spec.y} AS INTEGER) AS mli_y, {scores[0]} AS mli_a, "
             f"{scores[1]} AS mli_b FROM src WHERE {where}")
    df = be.query(f"SELECT g, mli_y, {keys[0]} AS ka, {keys[1]} AS kb, count(*) AS n FROM ({inner}) t "
                  "GROUP BY 1, 2, 3, 4")
    y = df["mli_y"].to_numpy(dtype=np.int64)
    a, b, w = (df[c].to_numpy(dtype=float) for c in ("ka", "kb", "n"))
    whole = delong_paired(y, a, b, weights=w)
    if grouping is None:
        return whole
    per_group = delong_paired(y, a, b, _codes(grouping, present, df["g"]), G, weights=w)
    return pd.concat([per_group, whole], ignore_index=True)


def _delong_joined(eds, where, seg, scores, grouping, present, groups, runs) -> pd.DataFrame:
    """Exact DeLong at any size: each model's placement per (group, label, score) from its runs, uploaded; one
    scan joins every row to both models' placements and sums their products per (group, label)."""
    be, G = eds.backend, groups.n_groups
    levels = [(1, G)] if grouping is not None else []
    levels.append((0, 1))  # then all rows
    placed, names = {}, []
    for level, n_groups in levels:
        for m, tables in enumerate(runs):
            t = tables[level]
            codes = _codes(grouping, present, t.group) if level else np.zeros(len(t.n), dtype=np.int64)
            v, n1, n0, auc = _placements(t.y.astype(bool), t.key, codes, n_groups, t.n.astype(float))
            placed[level, m] = (t, codes, v, n1, n0, auc)
            name = f"mli_place_{level}_{m}"
            frame = pd.DataFrame({"g": t.group if level else 0, "y": t.y, "s": t.key, "v": v})
            names.append(be.upload(name, frame))
    try:
        joins = "".join(f" JOIN {names[2 * i + m]} p{i}{m} ON p{i}{m}.g IS NOT DISTINCT FROM "
                        f"{'r.g' if level else '0'} AND p{i}{m}.y = r.y AND p{i}{m}.s = r.s{m}"
                        for i, (level, _) in enumerate(levels) for m in (0, 1))
        products = ", ".join(f"sum(p{i}0.v * p{i}1.v) AS ab{level}" for i, (level, _) in enumerate(levels))
        rows = (f"SELECT {seg} AS g, CAST({eds.spec.y} AS INTEGER) AS y, {scores[0]} AS s0, {scores[1]} AS s1 "
                f"FROM src WHERE {where}")
        df = be.query(f"SELECT r.g AS g, r.y AS y, {products} FROM ({rows}) r{joins} GROUP BY r.g, r.y")
    finally:
        for name in names:
            be.drop(name.strip('"'))
    parts = []
    for level, n_groups in levels:
        codes = _codes(grouping, present, df["g"]) if level else np.zeros(len(df), dtype=np.int64)
        (ta, ca, va, n1, n0, auc_a), (tb, cb, vb, _, _, auc_b) = placed[level, 0], placed[level, 1]
        y = df["y"].to_numpy(dtype=bool)
        ab = df[f"ab{level}"].to_numpy(dtype=float)

        def sums(cls, t, codes_t, v, n_groups=n_groups):
            at = t.y == cls
            return [np.bincount(codes_t[at], weights=(x * t.n)[at], minlength=n_groups) for x in (v, v * v)]

        part = []
        for cls, mask in ((1, y), (0, ~y)):
            (sa, saa), (sb, sbb) = sums(cls, ta, ca, va), sums(cls, tb, cb, vb)
            part.append([sa, sb, saa, sbb, np.bincount(codes[mask], weights=ab[mask], minlength=n_groups)])
        parts.append(delong_table(n1, n0, auc_a, auc_b, part[0], part[1]))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _binned(column: str, lo: float, hi: float, k: int) -> str:
    if not hi > lo:
        return "0"
    return f"least(CAST(floor(({column} - {double(lo)}) * {double(k / (hi - lo))}) AS BIGINT), {k - 1})"
