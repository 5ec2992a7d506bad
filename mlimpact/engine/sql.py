"""SQL written once (DuckDB's dialect) and transpiled for Spark with sqlglot.

Every aggregation mlimpact runs on an engine is built here from quoted identifiers and literals, so a
column named ``select`` or ``my "col"`` is safe and the same text serves DuckDB and Spark SQL. The only
dialect-specific piece is the epoch of a timestamp (:func:`epoch_ns`).
"""

from __future__ import annotations

import math

import numpy as np
import sqlglot
from sqlglot import exp

__all__ = ["ident", "literal", "literals", "to_dialect", "epoch_ns", "double",
           "finite", "bin_index", "LOG_EPS", "loss_sql", "group_by_sets", "number_type"]

#: scikit-learn's clipping of probabilities in log loss (``np.finfo(float).eps``)
LOG_EPS = 2.220446049250313e-16
_MAX_DOUBLE = "1.7976931348623157e308"
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT",
                 "USMALLINT", "UINTEGER", "UBIGINT", "INT", "LONG", "SHORT", "BYTE", "REAL")


def number_type(t) -> bool:
    """Whether an engine's column type holds numbers (not booleans).

    >>> number_type("DOUBLE"), number_type("VARCHAR"), number_type("BOOLEAN")
    (True, False, False)
    """
    t = str(t).upper()
    return t.startswith(_NUMBER_TYPES) and not t.startswith("BOOL")


def ident(name: str) -> str:
    """A quoted column name in DuckDB's dialect.

    >>> print(ident('my "col" x'))
    "my ""col"" x"
    """
    return exp.to_identifier(str(name), quoted=True).sql("duckdb")


def literal(value) -> str:
    """A SQL literal for a Python or numpy value (strings quoted and escaped; floats exactly, as repr).

    >>> literal("it's"), literal(0.1), literal(3), literal(None), literal(np.int64(7))
    ("'it''s'", '0.1', '3', 'NULL', '7')
    """
    if isinstance(value, np.generic):  # what pandas hands back from an engine's result
        value = value.item()
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no SQL literal for {value!r}")
        return repr(value)
    return exp.convert(value).sql("duckdb")


def literals(values) -> str:
    """Comma-separated :func:`literal` of each value (the inside of ``IN (...)``)."""
    return ", ".join(literal(v) for v in values)


def to_dialect(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB's dialect) for ``dialect`` (``duckdb`` or ``spark``).

    >>> to_dialect('SELECT CAST("a b" AS VARCHAR) FROM src', "spark")
    'SELECT CAST(`a b` AS STRING) FROM src'
    """
    if dialect == "duckdb":
        return sql
    return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]


def epoch_ns(expr: str, dialect: str) -> str:
    """The timestamp ``expr`` as nanoseconds since 1970 in a DOUBLE (pandas' datetime64[ns] integers as floats)."""
    return f"CAST({'unix_micros' if dialect == 'spark' else 'epoch_us'}({expr}) * 1000 AS DOUBLE)"


def double(value: float) -> str:
    """A DOUBLE literal both engines read back bit for bit (a plain ``0.1`` is a DECIMAL first).

    >>> double(0.1)
    "CAST('0.1' AS DOUBLE)"
    """
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def finite(expr: str) -> str:
    """True where the number ``expr`` is present, not NaN and not infinite (NaN sorts above every
    number in both engines, so it is tested first)."""
    as_double = f"CAST({expr} AS DOUBLE)"
    return f"({expr} IS NOT NULL AND NOT isnan({as_double}) AND abs({as_double}) <= {_MAX_DOUBLE})"



def bin_index(expr: str, edges) -> str:
    """The number of ``edges`` at or below ``expr`` (numpy ``searchsorted(edges, v, "right")``).

    >>> bin_index("s", [0.5, 0.7])
    '(CAST(s >= 0.5 AS INTEGER) + CAST(s >= 0.7 AS INTEGER))'
    """
    if not len(edges):
        return "0"
    return "(" + " + ".join(f"CAST({expr} >= {literal(float(e))} AS INTEGER)" for e in edges) + ")"


def loss_sql(name: str, score: str, y: str) -> str:
    """The per-row log loss (scikit-learn's clipping) or squared error of a probability ``score``."""
    if name == "log_loss":
        hi = repr(1 - LOG_EPS)
        p = f"CASE WHEN {y} = 1 THEN {score} ELSE 1 - {score} END"
        return f"-ln(greatest(least({p}, {hi}), {LOG_EPS!r}))"
    return f"(({score}) - {y}) * (({score}) - {y})"


def group_by_sets(sets, marker) -> tuple[str, list[str], list[str]]:
    """``GROUP BY`` for one set of columns, or ``GROUPING SETS`` for several; the grouped columns to select
    and, for several sets, a ``GROUPING(marker)`` column ``x{i}`` per set (0 on that set's rows).

    >>> group_by_sets([["g0", "k0"], ["k1"]], lambda i: f"k{i}")[0]
    'GROUP BY GROUPING SETS ((g0, k0), (k1))'
    """
    columns = sorted({c for st in sets for c in st})
    if len(sets) == 1:
        return "GROUP BY " + ", ".join(sets[0]), columns, []
    marks = [f"GROUPING({marker(i)}) AS x{i}" for i in range(len(sets))]
    return "GROUP BY GROUPING SETS (" + ", ".join("(" + ", ".join(st) + ")" for st in sets) + ")", columns, marks
