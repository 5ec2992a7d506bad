"""Segment columns on an engine: the memory path's groups (values, numeric bins, "Other"), as SQL.

:func:`engine_grouping` asks the engine for a column's values over the usable rows (one small
``GROUP BY``), applies the memory path's rules to them — :func:`mlimpact.io.dataset.encode_column` for
the labels, :func:`mlimpact.slices.segments.bin_labels` and quantile edges for numeric columns with many
values, :func:`mlimpact.slices.segments.fold_map` for ``top_k`` — and returns the SQL expression to group
by plus the mapping from what the engine returns to group codes. :func:`engine_segment_table` is
:func:`mlimpact.slices.segments.segment_table` on an engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.engine.sql import bin_index, finite, ident, literals
from mlimpact.engine.tables import linear_quantiles
from mlimpact.errors import InputError
from mlimpact.io import MISSING_LABEL, encode_column
from mlimpact.metrics.evaluate import in_metric_order
from mlimpact.metrics.tables import metrics_from_tables
from mlimpact.slices.segments import MAX_EXACT_NUMERIC, bin_labels, dates_message, decorate_segments, fold_map

__all__ = ["EngineGrouping", "engine_grouping", "engine_groupings", "engine_segment_table", "MAX_ENGINE_VALUES",
           "value_counts"]

#: values of one segment column an engine brings back (more: fold with ``top_k``)
MAX_ENGINE_VALUES = 100_000


@dataclass(frozen=True)
class EngineGrouping:
    """A column's grouping: the SQL to group by, the labels, and the code of each returned value."""

    column: str
    sql: str
    labels: list[str]
    raw: pd.Index  #: the values the SQL returns (NaN for missing)
    codes: np.ndarray  #: the group code of each raw value

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def code_sql(self) -> str:
        """The group code as SQL: each kept value's code, the most shared code (the folded "Other") for the rest,
        so a grouping by it has at most ``top_k`` + 2 groups, not the column's values."""
        raw, codes = list(self.raw), np.asarray(self.codes)
        absent = [c for v, c in zip(raw, codes, strict=True) if pd.isna(v)]
        rest = int(np.bincount(codes).argmax()) if len(codes) else 0
        whens = [f"WHEN {self.sql} IS NULL THEN {int(absent[0])}"] if absent else []
        for code in np.unique(codes):
            if int(code) == rest:
                continue
            values = [v for v, c in zip(raw, codes, strict=True) if c == code and not pd.isna(v)]
            if values:
                whens.append(f"WHEN {self.sql} IN ({literals(values)}) THEN {int(code)}")
        return f"CASE {' '.join(whens)} ELSE {rest} END" if whens else str(rest)

    def code_of(self, values: pd.Series) -> np.ndarray:
        """The group code of each value the engine returned for :attr:`sql`."""
        at = self.raw.get_indexer(pd.Index(values))
        if (at < 0).any():
            raise InputError(f"column `{self.column}`: the engine returned a value it did not list; run again")
        return self.codes[at]


def engine_grouping(eds, column: str, *, n_bins: int = 5, top_k: int | None = None,
                    binned: bool = True) -> EngineGrouping:
    """The grouping of ``column`` over ``eds``' usable rows, as the memory path would make it
    (``binned=False``: every value, as ``Dataset.codes`` gives them, numeric or not)."""
    return engine_groupings(eds, [column], n_bins=n_bins, top_k=top_k, binned=binned)[0]


def engine_groupings(eds, columns, *, n_bins: int = 5, top_k: int | None = None,
                     binned: bool = True) -> list[EngineGrouping]:
    """:func:`engine_grouping` of several columns: their values counted in one scan (``GROUPING SETS``)."""
    columns = list(columns)
    for column in columns:
        kind = str(eds.column_types.get(column, "")).upper()
        if column not in eds.column_types:
            raise InputError(f"column `{column}` is not in {eds.name}; pick one of its columns")
        if kind.startswith(("TIMESTAMP", "DATE")):
            raise InputError(dates_message(column))
    if not columns:
        return []
    counted = value_counts(eds, columns, limit=MAX_ENGINE_VALUES, too_many=lambda c: (
        f"column `{c}`: more than {MAX_ENGINE_VALUES:,} values; is it an id? Leave it out of the segments or keep the "
        "largest values with --max-values"))
    return [_grouping(eds, column, values, n.astype(float), n_bins=n_bins, top_k=top_k, binned=binned)
            for column, (values, n) in zip(columns, counted, strict=True)]


def value_counts(eds, columns: list[str], *, limit: int, too_many) -> list[tuple[pd.Series, np.ndarray]]:
    """Each column's values over the usable rows and their row counts, in one ``GROUPING SETS`` scan; a column
    with more than about ``limit`` values is refused first with ``too_many(column)``."""
    be, where = eds.backend, eds.spec.where
    names = [ident(c) for c in columns]
    approx = be.query("SELECT " + ", ".join(f"approx_count_distinct({c}) AS d{i}" for i, c in enumerate(names))
                      + f" FROM src WHERE {where}").iloc[0]
    for i, column in enumerate(columns):
        if int(approx[f"d{i}"]) > limit:
            raise InputError(too_many(column))
    sets = ", ".join(f"({c})" for c in names)
    marks = ", ".join(f"GROUPING({c}) AS x{i}" for i, c in enumerate(names))
    counts = be.query(f"SELECT {', '.join(f'{c} AS v{i}' for i, c in enumerate(names))}, {marks}, count(*) AS n "
                      f"FROM src WHERE {where} GROUP BY GROUPING SETS ({sets})")
    out = []
    for i in range(len(columns)):
        mine = counts[counts[f"x{i}"] == 0]
        out.append((mine[f"v{i}"].reset_index(drop=True), mine["n"].to_numpy(dtype=np.int64)))
    return out


def _grouping(eds, column, values: pd.Series, n, *, n_bins, top_k, binned) -> EngineGrouping:
    col = ident(column)
    if binned and eds.is_numeric(column) and pd.to_numeric(values, errors="coerce").dropna().nunique() > MAX_EXACT_NUMERIC:
        return _numeric_bins(column, n_bins, values, n)
    codes, labels = encode_column(values)
    codes = np.asarray(codes)
    if top_k is not None:
        per_value = np.bincount(codes, weights=n, minlength=len(labels))
        new_index, labels = fold_map(per_value.astype(np.int64), labels, top_k=top_k)
        codes = new_index[codes]
    return EngineGrouping(column, col, list(labels), pd.Index(values), codes.astype(np.int64))


def _numeric_bins(column: str, n_bins: int, values: pd.Series, n: np.ndarray) -> EngineGrouping:
    """Quantile bins of a numeric column from its value counts (numpy's quantiles of the finite values)."""
    col = ident(column)
    qs = np.linspace(0, 1, n_bins + 1)
    nums = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite_at = np.isfinite(nums)
    order = np.argsort(nums[finite_at], kind="stable")
    counts = np.asarray(n, dtype=np.int64)[finite_at][order]
    edges = np.unique(linear_quantiles(nums[finite_at][order], counts, qs)) if counts.sum() else np.zeros(0)
    labels = bin_labels(edges)
    has_missing = bool((~np.isfinite(nums)).any())
    if len(edges) == 0:
        return EngineGrouping(column, "0", [MISSING_LABEL], pd.Index([0]), np.zeros(1, dtype=np.int64))
    inner = edges[1:-1]
    n_bins_made = len(labels)
    if has_missing:
        labels = labels + [MISSING_LABEL]
    sql = f"CASE WHEN {finite(col)} THEN {bin_index(col, inner)} ELSE -1 END"
    raw = list(range(n_bins_made)) + ([-1] if has_missing else [])
    codes = np.arange(n_bins_made + (1 if has_missing else 0), dtype=np.int64)
    return EngineGrouping(column, sql, labels, pd.Index(raw), codes)


def engine_segment_table(eds, grouping: EngineGrouping, tables, *, metrics, overall_value: dict,
                         min_size: int = 30, seed: int = 0, intervals: bool = True,
                         time_budget_s: float | None = 2.0, sort_by: str = "impact") -> pd.DataFrame:
    """:func:`mlimpact.slices.segments.segment_table` for one column on an engine, from its counted
    ``tables`` (:func:`mlimpact.engine.tables.binary_tables_many` of :attr:`EngineGrouping.sql`)."""
    table = metrics_from_tables(tables, grouping.code_of(tables.group), grouping.n_groups,
                                threshold=eds.spec.threshold, metrics=metrics, intervals=intervals, seed=seed,
                                time_budget_s=time_budget_s, compare_to_rest=True, min_group_size=min_size)
    present = np.bincount(table["group"].to_numpy(), weights=table["n"].to_numpy(), minlength=grouping.n_groups) > 0
    table = in_metric_order(table[present[table["group"].to_numpy()]], metrics)
    seg_labels = pd.DataFrame({grouping.column: grouping.labels})
    out = decorate_segments(seg_labels, table, overall_value, sort_by=sort_by)
    out.attrs.update(table.attrs)
    return out
