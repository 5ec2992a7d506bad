"""The weak-slice search on an engine (DuckDB, Spark): the same slices as in memory, from counted cells.

Nothing row-sized comes back. The columns are encoded by the memory path's rules
(:func:`mlimpact.slices.encoding.top_values`, :func:`~mlimpact.slices.encoding.numeric_bins`) from their
value counts (one ``GROUPING SETS`` scan), then turned into integer codes in SQL. One more scan counts,
for every combination of ``max_level`` columns, the rows, error sum, squared-error sum and largest
error of each slice; lower levels are sums of those (:class:`CellsEngine`). The search itself is
:func:`mlimpact.slices.weak.search_lattice`, the very code the memory path runs. The overlap filter's
questions ("this slice outside those") are answered by grouping the rows by which of the examined
slices hold them, a batch of slices per scan.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.engine.multiclass_tables import predicted_sql, true_prob_sql
from mlimpact.engine.sql import double, ident, literals
from mlimpact.errors import InputError
from mlimpact.io import MISSING_LABEL
from mlimpact.io.decision import decide_sql
from mlimpact.slices.encoding import (
    EncodedFeatures,
    categorical_codes,
    check_encoding,
    fragments_of,
    numeric_bins,
    top_values,
)
from mlimpact.slices.engine_segments import value_counts
from mlimpact.slices.lattice import _Engine
from mlimpact.slices.search import ERROR_KINDS, default_error_kind
from mlimpact.slices.weak import SliceResult, _resolve_min_support, _validate_options, search_lattice

__all__ = ["engine_slice_columns", "search_weak_slices_engine", "CellsEngine", "MAX_NUMERIC_VALUES"]

#: distinct values of a numeric column the engine sends back to bin it exactly (more: refused)
MAX_NUMERIC_VALUES = 5_000_000
#: categorical columns outside the segments are sliced when they have at most this many values (as in memory)
MAX_PLAIN_VALUES = 50
_BITS = 62  # slices per BIGINT word of the overlap filter's grouping
_BATCH = 32  # examined slices per overlap-filter scan
_TEMP, _CELLS = "mlimpact_slice_codes", "mlimpact_slice_cells"
#: cells the sliceline ranking may bring back (it evaluates candidates below the minimum support too)
MAX_CELLS = 3_000_000


def engine_slice_columns(eds) -> tuple[list[str], list[str]]:
    """The memory path's :func:`~mlimpact.slices.search.slice_columns` on an engine: the segments, other
    numeric columns, and other columns with at most 50 values (dates and times left out); and the numeric
    columns left out because they have more than :data:`MAX_NUMERIC_VALUES` distinct values."""
    roles = eds.roles
    skip = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
            *roles.class_scores, *roles.other_scores}
    segments = list(roles.segments)
    others = [c for c, t in eds.column_types.items()
              if c not in skip and c not in segments and not str(t).upper().startswith(("TIMESTAMP", "DATE"))]
    if not others:
        return segments, []
    names = [ident(c) for c in others]
    approx = eds.backend.query("SELECT " + ", ".join(f"approx_count_distinct({c}) AS d{i}" for i, c in enumerate(names))
                               + f" FROM src WHERE {eds.spec.where}").iloc[0]
    numeric = [c for c in others if eds.is_numeric(c)]
    left_out = [c for c in numeric if int(approx[f"d{others.index(c)}"]) > MAX_NUMERIC_VALUES]
    plain = [c for c in others if not eds.is_numeric(c) and int(approx[f"d{others.index(c)}"]) <= 2 * MAX_PLAIN_VALUES]
    few = set()
    if plain:  # the estimate is close, not exact: count the candidates exactly
        n = eds.backend.query("SELECT " + ", ".join(f"count(DISTINCT {ident(c)}) AS d{i}" for i, c in enumerate(plain))
                              + f" FROM src WHERE {eds.spec.where}").iloc[0]
        few = {c for i, c in enumerate(plain) if int(n[f"d{i}"]) <= MAX_PLAIN_VALUES}
    return segments + [c for c in others if (c in numeric and c not in left_out) or c in few], left_out


def _error_sql(eds, kind: str) -> tuple[str, bool]:
    """The per-row error of ``kind`` as SQL, and whether it is 0/1 by construction."""
    if eds.task not in ERROR_KINDS[kind]:
        raise InputError(f"error {kind!r} needs a {' or '.join(ERROR_KINDS[kind])} task; {eds.name} is {eds.task}")
    spec = eds.spec
    if kind == "absolute_error":
        return f"abs(CAST({spec.pred} AS DOUBLE) - CAST({spec.y} AS DOUBLE))", False
    if eds.task == "multiclass":
        if kind == "misclassification":
            return f"CASE WHEN ({predicted_sql(spec)}) <> ({spec.y}) THEN 1 ELSE 0 END", True
        if not spec.probs:
            raise InputError("log loss needs one probability column per class")
        return f"-ln(greatest(least({true_prob_sql(spec)}, {double(1.0)}), {double(1e-15)}))", False
    if kind == "log_loss":
        lo, hi = eds.backend.query(f"SELECT min({spec.score}) AS lo, max({spec.score}) AS hi FROM src "
                                   f"WHERE {spec.where}").iloc[0]
        if not (float(lo) >= 0 and float(hi) <= 1):
            raise InputError("log loss needs probabilities between 0 and 1 in the score column")
        p = f"greatest(least(CAST({spec.score} AS DOUBLE), {double(1 - 1e-15)}), {double(1e-15)})"
        return f"-({spec.y} * ln({p}) + (1 - {spec.y}) * ln(1 - {p}))", False
    d = decide_sql(spec.score, spec.threshold)
    cond = {"misclassification": f"({d}) <> {spec.y}", "false_negative": f"{spec.y} = 1 AND ({d}) = 0",
            "false_positive": f"{spec.y} = 0 AND ({d}) = 1"}[kind]
    return f"CASE WHEN {cond} THEN 1 ELSE 0 END", True


def _encode(eds, columns: list[str], n_bins: int, max_values: int) -> tuple[EncodedFeatures, list[str]]:
    """The columns encoded by the memory path's rules from their value counts; the SQL of each code."""
    counted = value_counts(eds, columns, limit=MAX_NUMERIC_VALUES, too_many=lambda c: (
        f"column `{c}`: more than {MAX_NUMERIC_VALUES:,} distinct values; on an engine a slicing column must have "
        "fewer (round it, or slice by other columns)"))
    labels, fragments, kinds, sql = [], [], [], []
    for col, (values, n) in zip(columns, counted, strict=True):
        name = ident(col)
        if eds.is_numeric(col):
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            present = ~np.isnan(x)
            uniq, inv = np.unique(x[present], return_inverse=True)  # values beyond 2^53 meet as doubles
            cnt = np.bincount(inv, weights=n[present], minlength=len(uniq)).astype(np.int64)
            bin_of, labs, interval = numeric_bins(uniq, cnt, n_bins)
            lo = uniq[np.r_[True, bin_of[1:] != bin_of[:-1]]] if len(uniq) else uniq
            code = "(" + " + ".join(["0"] + [f"CAST({name} >= {double(e)} AS INTEGER)" for e in lo[1:]]) + ")"
            missing = f"{name} IS NULL OR isnan(CAST({name} AS DOUBLE))"
            kind = "numeric"
        else:
            present = values.notna().to_numpy()
            uniq, cnt = np.asarray(values[present].to_list(), dtype=object), n[present]
            top = top_values(uniq, cnt, max_values)
            labs = categorical_codes(uniq, cnt, max_values, False)[1]
            kept = [uniq[j] for j in top]
            interval = None
            arr = "[" + literals(kept) + "]"
            code = f"coalesce(nullif(array_position({arr}, {name}), 0) - 1, {len(kept)})"
            missing = f"{name} IS NULL"
            kind = "categorical"
        if (~present).any():
            labs = [*labs, MISSING_LABEL]
            interval = None if interval is None else [*interval, False]
        labels.append(tuple(labs))
        fragments.append(fragments_of(col, labs, interval))
        kinds.append(kind)
        sql.append(f"CASE WHEN {missing} THEN {len(labs) - 1} ELSE {code} END")
    features = EncodedFeatures(columns=tuple(columns), codes=np.zeros((0, len(columns)), np.int32),
                               labels=tuple(labels), fragments=tuple(fragments), kinds=tuple(kinds), rows=eds.n)
    return features, sql


def _combine(codes: np.ndarray, dims) -> np.ndarray:
    """One integer per row of ``codes`` (columns prefix-major, as ``_Engine.combined_code``)."""
    out = np.zeros(len(codes), dtype=np.int64)
    for i, d in enumerate(dims):
        out = out * int(d) + codes[:, i]
    return out


class CellsEngine(_Engine):
    """:class:`~mlimpact.slices.lattice._Engine` over an engine's counted cells instead of rows.

    Every combination of ``level`` columns is counted in one ``GROUPING SETS`` scan into a table the engine
    keeps; a smaller combination's table is the sum of a larger one's. For the exhaustive search only the
    slices with at least the minimum support come back (summed on the engine); SliceLine, which evaluates
    smaller candidates too, gets every cell (up to :data:`MAX_CELLS`). ``region_sums`` groups the rows by which
    slices hold them, for a batch of the slices the overlap filter will examine, one scan per batch.
    """

    def __init__(self, eds, features: EncodedFeatures, key_sql: list[str], error_sql: str, *, level: int,
                 binary: bool, need_max: bool, deadline: float | None, min_sup: int | None) -> None:
        self.codes, self.e, self.e2 = None, None, None
        self.n, self.m = int(eds.n), len(key_sql)
        self.dims = features.domain_sizes
        self.offsets = np.concatenate([[0], np.cumsum(self.dims)[:-1]]).astype(np.int64)
        self.D = int(self.dims.sum())
        self.feat_of = np.repeat(np.arange(self.m), self.dims)
        self.deadline = deadline
        self.backend = eds.backend
        types = ["SMALLINT" if d <= 32_000 else "INTEGER" for d in self.dims]  # small keys group faster
        self.inner = ("SELECT " + ", ".join(f"CAST({k} AS {t}) AS k{i}" for i, (k, t) in enumerate(zip(key_sql, types,
                                                                                                        strict=True)))
                      + f", {'CAST(' + error_sql + ' AS SMALLINT)' if binary else error_sql} AS e "
                      f"FROM src WHERE {eds.spec.where}")
        self.table_sql = self.backend.temp_table(_TEMP, self.inner)  # counted once, then scanned per batch
        self._cells: dict[tuple[int, ...], tuple] = {}
        self._tables: dict[tuple[int, ...], tuple] = {}
        self._planned: list[np.ndarray] = []
        self._patterns: tuple[dict, np.ndarray, np.ndarray] | None = None
        self.binary, self.need_max = binary, need_max
        self._count(min(level, self.m), binary, min_sup)

    def _count(self, level: int, binary: bool, min_sup: int | None) -> None:
        """Count every combination of ``level`` columns into a kept table of cells; the totals; whether every
        error is 0 or 1, as in memory (0/1 errors by construction need only the counts and error sums). With ``min_sup`` (the
        exhaustive search) only the slices of every level with that many rows come back; else every cell, up to
        :data:`MAX_CELLS`."""
        sets = list(itertools.combinations(range(self.m), level))
        keys = [f"k{i}" for i in range(self.m)]
        gs = ", ".join("(" + ", ".join(keys[f] for f in F) + ")" for F in sets)
        self.cells_sql = self.backend.temp_table(_CELLS, (
            f"SELECT {', '.join(keys)}, {', '.join(f'GROUPING({k}) AS g{i}' for i, k in enumerate(keys))}, "
            "count(*) AS n, sum(e) AS se, "
            + ("sum(e) AS sq, 1 AS mx, 0 AS nb " if binary else
               "sum(e * e) AS sq, max(e) AS mx, max(CASE WHEN e = 0 OR e = 1 THEN 0 ELSE 1 END) AS nb ")
            + f"FROM {self.table_sql} GROUP BY GROUPING SETS ({gs})"))
        tot = self.backend.query(f"SELECT sum(n) AS n, sum(se) AS se, sum(sq) AS sq, max(nb) AS nb, "
                                 f"(SELECT count(*) FROM {self.cells_sql}) AS cells FROM {self.cells_sql} "
                                 f"WHERE {self._is_set(sets[0])}").iloc[0]
        if int(tot["n"]) != self.n:
            raise InputError(f"the engine counted {int(tot['n']):,} rows, not {self.n:,}; run again")
        self.total_se, self.total_sq = float(tot["se"]), float(tot["sq"])
        self.binary = self.binary or not int(tot["nb"] or 0) > 0
        self.need_max = self.need_max and not self.binary
        spark_fetch = self.backend.name == "spark" and int(tot["cells"]) <= MAX_CELLS  # ~1 s a stage: fetch
        if min_sup is not None and not spark_fetch:
            self._supported(level, sets, min_sup)
        elif int(tot["cells"]) > MAX_CELLS:
            raise InputError(f"{int(tot['cells']):,} slices of {level} columns to rank, more than the {MAX_CELLS:,} "
                             "the sliceline ranking brings back from an engine; use the balanced ranking, fewer "
                             "columns or fewer conditions per slice")
        else:
            self._all_cells(sets)

    def _is_set(self, F) -> str:
        return " AND ".join(f"g{i} = {0 if i in F else 1}" for i in range(self.m))

    def _supported(self, level: int, sets, min_sup: int) -> None:
        """Every slice of every level with at least ``min_sup`` rows: each combination summed from one of the
        counted combinations that holds it, in one query over the kept cells (a small result)."""
        combos = [F for lvl in range(1, level + 1) for F in itertools.combinations(range(self.m), lvl)]
        parts = []
        for c, F in enumerate(combos):
            source = next(S for S in sets if set(F) <= set(S))
            cols = ", ".join([f"k{f} AS c{j}" for j, f in enumerate(F)] + [f"0 AS c{j}" for j in range(len(F), level)])
            parts.append(f"SELECT {c} AS combo, {cols}, sum(n) AS n, sum(se) AS se, sum(sq) AS sq, max(mx) AS mx "
                         f"FROM {self.cells_sql} WHERE {self._is_set(source)} GROUP BY "
                         f"{', '.join(f'k{f}' for f in F)} HAVING sum(n) >= {int(min_sup)}")
        df = self.backend.query(" UNION ALL ".join(parts))
        combo = df["combo"].to_numpy(dtype=np.int64)
        order = np.argsort(combo, kind="stable")
        starts = np.searchsorted(combo[order], np.arange(len(combos) + 1))
        codes = np.column_stack([df[f"c{j}"].to_numpy(dtype=np.int64) for j in range(level)])[order]
        stats = [df[k].to_numpy(dtype=float)[order] for k in ("n", "se", "sq", "mx")]
        for c, F in enumerate(combos):
            rows = slice(starts[c], starts[c + 1])
            self._tables[F] = self._finish(_combine(codes[rows, :len(F)], self.dims[list(F)]),
                                           *(st[rows] for st in stats))

    def _all_cells(self, sets) -> None:
        keys = [f"k{i}" for i in range(self.m)]
        df = self.backend.query(f"SELECT {', '.join(keys)}, {', '.join(f'g{i}' for i in range(self.m))}, n, se, sq, "
                                f"mx FROM {self.cells_sql}")
        grouped = np.column_stack([df[f"g{i}"].to_numpy(dtype=np.int64) == 0 for i in range(self.m)])
        set_id = (grouped * (1 << np.arange(self.m))).sum(axis=1)
        order = np.argsort(set_id, kind="stable")
        ids = np.array([sum(1 << f for f in F) for F in sets])
        starts, ends = np.searchsorted(set_id[order], ids, "left"), np.searchsorted(set_id[order], ids, "right")
        codes = np.column_stack([pd.to_numeric(df[k]).fillna(0).to_numpy(dtype=np.int64) for k in keys])[order]
        stats = [df[c].to_numpy(dtype=float)[order] for c in ("n", "se", "sq", "mx")]
        for F, a, b in zip(sets, starts, ends, strict=True):
            self._cells[F] = (codes[a:b][:, list(F)], *(st[a:b] for st in stats))

    def table(self, feats: tuple[int, ...]):
        """Statistics of every non-empty slice over the columns ``feats`` (local codes ascending)."""
        if feats not in self._tables:
            self._tables[feats] = self._table(tuple(feats))
        return self._tables[feats]

    def _table(self, feats: tuple[int, ...]):
        source = next(F for F in self._cells if set(feats) <= set(F))
        codes, ss, se, sq, mx = self._cells[source]
        local = _combine(codes[:, [source.index(f) for f in feats]], self.dims[list(feats)])
        uniq, inv = np.unique(local, return_inverse=True)
        sm = np.zeros(len(uniq))
        np.maximum.at(sm, inv, mx)
        return self._finish(uniq, *(np.bincount(inv, weights=w, minlength=len(uniq)) for w in (ss, se, sq)), sm)

    def _finish(self, local, ss, se, sq, mx):
        """A table as the lattice wants it: local codes ascending, counts, sums and the largest error."""
        order = np.argsort(local, kind="stable")
        local, ss, se, sq, mx = local[order], ss[order], se[order], sq[order], mx[order]
        if self.binary:
            sq, sm = se, (se > 0).astype(float)
        else:
            sm = mx if self.need_max else np.full(len(local), np.nan)
        return local, ss.astype(np.int64), se, sq, sm

    def plan_regions(self, slices: list[np.ndarray]) -> None:
        self._planned = [np.sort(np.asarray(g, dtype=np.int64)) for g in slices]

    def region_sums(self, includes, excludes):
        need = [tuple(int(x) for x in np.sort(g)) for g in [*includes, *excludes]]
        if self._patterns is None or any(s not in self._patterns[0] for s in need):
            self._scan_regions(need)
        bit_of, words, stats = self._patterns
        n, se, sq = stats

        def mask(s):
            w, b = divmod(bit_of[s], _BITS)
            return ((words[:, w] >> b) & 1).astype(bool)

        covered = np.zeros(len(n), dtype=bool)
        for s in need[len(includes):]:
            covered |= mask(s)
        out = []
        for s in need[: len(includes)]:
            m = mask(s) & ~covered
            out.append((int(n[m].sum()), float(se[m].sum()), float((se if self.binary else sq)[m].sum())))
        return out

    def _scan_regions(self, need: list[tuple[int, ...]]) -> None:
        """Group the rows by which of ``need`` and the next planned slices (with their parents) hold them."""
        first = next((j for j, g in enumerate(self._planned) if tuple(g) == need[0]), len(self._planned))
        wanted = list(need)
        for g in self._planned[first: first + _BATCH]:
            wanted += [tuple(g)] + [tuple(np.delete(g, d)) for d in range(len(g) if len(g) > 1 else 0)]
        wanted = list(dict.fromkeys(tuple(int(x) for x in s) for s in wanted))
        terms = []
        for b, s in enumerate(wanted):
            cond = " AND ".join(f"k{self.feat_of[gid]} = {int(gid - self.offsets[self.feat_of[gid]])}" for gid in s)
            terms.append((b // _BITS, f"CAST(({cond}) AS BIGINT) * {1 << (b % _BITS)}"))
        n_words = (len(wanted) + _BITS - 1) // _BITS
        words_sql = [" + ".join(t for w, t in terms if w == i) for i in range(n_words)]
        cols = ", ".join(f"{w} AS w{i}" for i, w in enumerate(words_sql))
        group = ", ".join(f"w{i}" for i in range(n_words))
        df = self.backend.query(f"SELECT {group}, count(*) AS n, sum(e) AS se, sum(e * e) AS sq FROM "
                                f"(SELECT {cols}, e FROM {self.table_sql}) GROUP BY {group}")
        words = np.column_stack([df[f"w{i}"].to_numpy(dtype=np.int64) for i in range(n_words)])
        stats = tuple(df[c].to_numpy(dtype=float) for c in ("n", "se", "sq"))
        self._patterns = ({s: b for b, s in enumerate(wanted)}, words, stats)


def search_weak_slices_engine(eds, *, columns=None, kind: str | None = None, n_bins: int = 5, max_values: int = 50,
                              max_level: int = 3, min_support=None, k: int = 10, scoring: str = "balanced",
                              alpha: float = 0.95, confidence: float = 0.95, time_budget_s: float | None = None,
                              progress=None) -> SliceResult:
    """:func:`mlimpact.slices.search.search_weak_slices` on an engine dataset (threshold: the engine's)."""
    trace.count("search_weak_slices_engine")
    kind = kind or default_error_kind(eds)
    if kind not in ERROR_KINDS:
        raise InputError(f"error {kind!r} is not one of {', '.join(ERROR_KINDS)}")
    left_out: list[str] = []
    if columns:
        columns = list(columns)
    else:
        columns, left_out = engine_slice_columns(eds)
    if not columns:
        raise InputError("no columns to slice on; add segment columns (region, channel…) to the source")
    unknown = [c for c in columns if c not in eds.column_types]
    if unknown:
        raise InputError(f"columns {unknown}: not in {eds.name}; pick from {eds.columns}")
    check_encoding(columns, n_bins, max_values)
    if progress:
        progress(0.0, f"encoding {len(columns)} columns on {eds.backend.name}")
    features, key_sql = _encode(eds, columns, n_bins, max_values)
    _validate_options(features, max_level, k, scoring, alpha, confidence, time_budget_s)
    error_sql, binary = _error_sql(eds, kind)
    if progress:
        progress(0.0, f"counting every slice of up to {max_level} columns on {eds.backend.name}")
    try:
        deadline = None if time_budget_s is None else time.perf_counter() + float(time_budget_s)
        engine = CellsEngine(eds, features, key_sql, error_sql, level=int(max_level), binary=binary,
                             need_max=scoring == "sliceline", deadline=deadline,
                             min_sup=None if scoring == "sliceline" else _resolve_min_support(min_support, eds.n))
        result = search_lattice(features, engine, max_level=max_level, min_support=min_support, k=k, scoring=scoring,
                                alpha=alpha, confidence=confidence, time_budget_s=time_budget_s, progress=progress)
    finally:
        eds.backend.drop(_CELLS)
        eds.backend.drop(_TEMP)
    result.settings["left_out"] = [f"column `{c}`: more than {MAX_NUMERIC_VALUES:,} distinct values, not sliced "
                                   "(round it to slice by it)" for c in left_out]
    return result
