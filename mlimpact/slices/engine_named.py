"""Named slices on an engine: the slice language as SQL, and each slice against the rest counted where the data lives.

:func:`slice_sql` checks an expression against the source's columns (their kinds from the engine's types, as
:func:`mlimpact.slices.language.parse_slice` does against a frame) and writes it as a SQL condition with the
language's rules for missing values: every comparison is false on them, ``!=``, ``not in`` and ``not`` are exact
negations (so they hold there), ``is null`` finds them (NaN included), and a column with no values at all takes
any value, each row as missing. :func:`engine_slice_table` is :func:`mlimpact.slices.named.slice_table` on an
engine: one ``GROUPING SETS`` scan counts every slice against the rest, and the memory path's code makes the table.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mlimpact.engine.dataset import count_groupings
from mlimpact.engine.sql import double, ident, literal
from mlimpact.metrics.evaluate import in_metric_order
from mlimpact.metrics.tables import default_engine_metrics, engine_keys, metrics_from_tables
from mlimpact.slices.language import Term, _timestamp, absent_values, parse_slice
from mlimpact.slices.named import slice_rows_of_tables, summary_of_table

__all__ = ["slice_sql", "engine_kinds", "engine_slice_table", "engine_slice_summary", "engine_slice_rows",
           "engine_slice_warnings"]

#: distinct values of a text column read back to suggest the nearest one (more: only the asked values are looked up)
_VALUES_MAX = 100_000

_ORDER_SQL = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "="}


def engine_kinds(eds, columns) -> dict[str, str]:
    """Each source column's kind for the slice language: number, text, time or bool; "any" for the given
    ``columns`` that hold no value at all (one query)."""
    kinds = {}
    for c, t in eds.column_types.items():
        t = str(t).upper()
        kinds[c] = "bool" if t.startswith("BOOL") else "time" if t.startswith(("TIMESTAMP", "DATE")) or \
            c == eds.roles.time else "number" if eds.is_numeric(c) else "text"
    used = [c for c in dict.fromkeys(columns) if c in kinds]
    if used:
        row = eds.backend.query("SELECT " + ", ".join(f"count({ident(c)}) AS n{i}" for i, c in enumerate(used))
                                + " FROM src").iloc[0]
        kinds.update({c: "any" for i, c in enumerate(used) if int(row[f"n{i}"]) == 0})
    return kinds


def slice_sql(eds, expression: str) -> tuple[str, object]:
    """The SQL condition (never NULL) of ``expression`` on ``eds``' rows, and the parsed slice."""
    kinds = engine_kinds(eds, parse_slice(expression, list(eds.column_types)).columns)
    parsed = parse_slice(expression, kinds)
    return _node(parsed.tree, eds, kinds), parsed


def engine_slice_warnings(eds, slices) -> list[str]:
    """:func:`mlimpact.slices.named.slice_warnings` on an engine: each text value that does not occur (with the
    nearest one that does) and, then, a slice with no row; one line each, as in memory."""
    out = []
    for s in slices:
        cond, parsed = slice_sql(eds, s.expression)
        kinds = engine_kinds(eds, parsed.columns)
        said = absent_values(parsed.tree, kinds, lambda column, wanted: _text_values(eds, column, wanted))
        if said:
            rows = int(eds.backend.query(f"SELECT count(*) AS n FROM src WHERE ({eds.spec.where}) AND {cond}"
                                         ).iloc[0]["n"])
            if rows == 0:
                said[-1] += ("" if said[-1].endswith("?") else ".") + " The slice has 0 rows."
        out += [f"slice {s.name!r}: {w}" for w in said]
    return out


def _text_values(eds, column: str, wanted) -> set[str]:
    """The values of a text column among the rows used (all, while few; else those of ``wanted`` that occur)."""
    col = f"CAST({ident(column)} AS VARCHAR)"
    distinct = eds.backend.query(f"SELECT DISTINCT {col} AS v FROM src WHERE ({eds.spec.where}) AND {col} IS NOT "
                                 f"NULL LIMIT {_VALUES_MAX + 1}")["v"]
    if len(distinct) <= _VALUES_MAX:
        return set(distinct.astype(str))
    asked = ", ".join(literal(str(v)) for v in wanted)
    return set(eds.backend.query(f"SELECT DISTINCT {col} AS v FROM src WHERE ({eds.spec.where}) AND {col} IN "
                                 f"({asked})")["v"].astype(str))


def _node(node, eds, kinds) -> str:
    if isinstance(node, Term):
        return _term(node, eds, kinds[node.column])
    if node.op == "not":
        return f"(NOT {_node(node.children[0], eds, kinds)})"
    return "(" + f" {node.op.upper()} ".join(_node(c, eds, kinds) for c in node.children) + ")"


def _term(term: Term, eds, kind: str) -> str:
    col = ident(term.column)
    value = f"CAST({col} AS DOUBLE)" if kind in ("number", "bool") else \
        (eds.time_sql() if term.column == eds.roles.time else f"CAST({col} AS TIMESTAMP)") if kind == "time" else \
        f"CAST({col} AS VARCHAR)"
    missing = f"({col} IS NULL" + (f" OR isnan({value}))" if kind == "number" else ")") if kind != "time" else \
        f"({value} IS NULL)"
    if term.op in ("is null", "is not null"):
        return missing if term.op == "is null" else f"(NOT {missing})"
    negated = term.op in ("!=", "not in")
    if kind == "any":
        return "TRUE" if negated else "FALSE"
    values = [_literal(v, kind) for v in term.values]
    if term.op == "between":
        cond = f"{value} >= {values[0]} AND {value} <= {values[1]}"
    elif term.op in ("in", "not in", "!="):
        cond = f"{value} IN ({', '.join(values)})" if values else "FALSE"
    else:
        cond = f"{value} {_ORDER_SQL[term.op]} {values[0]}"
    cond = f"(NOT {missing} AND {cond})"
    return f"(NOT {cond})" if negated else cond


def _literal(v, kind: str) -> str:
    if kind in ("number", "bool"):
        return double(float(v))
    if kind == "time":
        ts = pd.Timestamp(_timestamp(v, None))
        return f"CAST({literal(ts.isoformat(sep=' '))} AS TIMESTAMP)"
    return literal(str(v))


def engine_slice_table(eds, slices, *, threshold: float, metrics=None, seed: int = 0,
                       time_budget_s: float | None = None, keys=None) -> pd.DataFrame:
    """:func:`mlimpact.slices.named.slice_table` on an engine (``metrics``: default the memory path's defaults;
    ``keys``: :func:`mlimpact.metrics.tables.engine_keys`' when already counted)."""
    keys = engine_keys(eds) if keys is None else keys
    metrics = list(metrics) if metrics else default_engine_metrics(eds)
    conds = [slice_sql(eds, s.expression)[0] for s in slices]
    counted = count_groupings(eds, keys, [(f"CASE WHEN {c} THEN 1 ELSE 0 END", 2) for c in conds]) if conds else []
    parts = []
    for s, tables in zip(slices, counted, strict=True):
        codes = tables.group.to_numpy(dtype=np.int64)
        t = in_metric_order(metrics_from_tables(tables, codes, 2, threshold=threshold, metrics=metrics,
                                                compare_to_rest=True, seed=seed, time_budget_s=time_budget_s), metrics)
        n = np.bincount(codes, weights=tables.n, minlength=2)
        parts.append((s, t, float(n[1] / n.sum()) if n.sum() else 0.0))
    return slice_rows_of_tables(parts)


def engine_slice_summary(eds, slices, *, threshold: float, metrics=None, seed: int = 0, keys=None) -> list[dict]:
    """:func:`mlimpact.slices.named.slice_summary` on an engine."""
    return summary_of_table(engine_slice_table(eds, slices, threshold=threshold, metrics=metrics, seed=seed,
                                               keys=keys), slices)


def engine_slice_rows(eds, expression: str):
    """:func:`mlimpact.slices.named.slice_rows` on an engine: ``eds`` narrowed to the slice's rows (the same backend;
    the rows without a label too), with their number counted."""
    cond, _ = slice_sql(eds, expression)
    spec = replace(eds.spec, where=f"({eds.spec.where}) AND {cond}")
    n = int(eds.backend.query(f"SELECT count(*) AS n FROM src WHERE {spec.where}").iloc[0]["n"])
    return replace(eds, spec=spec, unlabelled=f"({eds.unlabelled}) AND {cond}", n_used=n)
