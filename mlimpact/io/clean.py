"""The clean-up every format shares: limits, column names, types, and numbers written as text."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlimpact.errors import InputError
from mlimpact.io.common import MAX_COLUMNS, _check_rows, _Parsed, _too_many_columns

__all__ = ["NUMERIC_SHARE", "_finish"]

#: share of non-missing values that must be numbers before a text column is made numeric
NUMERIC_SHARE = 0.9

# a number as text, after normalising the decimal separator to "."
_NUMBER_RE = r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|(?i:inf|infinity|nan))$"
_THOUSANDS_DOT_RE = r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"  # 1.234,56 (decimal comma files)
_THOUSANDS_COMMA_RE = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"  # 1,234.56 (decimal point files)


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _finish(parsed: _Parsed, label: str, max_rows: int | None) -> tuple[pd.DataFrame, list[str], dict]:
    """Apply the limits, rename columns, settle dtypes, coerce numbers; return (frame, notes, coerced)."""
    table, parsed.table = parsed.table, None  # drop references so to_pandas can free Arrow memory early
    if table.num_columns > MAX_COLUMNS:
        raise _too_many_columns(label, table.num_columns)
    if table.num_rows == 0:
        raise InputError(
            f"{label}: the file has a header row ({_plural(table.num_columns, 'column')}) but no data rows; "
            "export the predictions with at least one data row"
        )
    _check_rows(label, table.num_rows, max_rows)
    notes = list(parsed.notes)
    names, rename_notes = _clean_names(table.column_names)
    notes += rename_notes
    coerced: dict[str, int] = {}
    columns = []
    bool_with_nulls = []
    for name, column in zip(names, table.columns, strict=True):
        column = _settle_type(column, parsed.text_temporal)
        if not parsed.typed and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column, bad, examples = _coerce_numeric(column, parsed.decimal or ".")
            if bad:
                coerced[name] = bad
                shown = ", ".join(repr(e if len(e) <= 20 else e[:17] + "...") for e in examples)
                what = (
                    "1 value is not a number and is"
                    if bad == 1
                    else f"{bad:,} values are not numbers and are"
                )
                notes.append(f"column `{name}`: {what} treated as missing (e.g. {shown})")
        if pa.types.is_floating(column.type):
            n_inf = pc.sum(pc.is_inf(column)).as_py() or 0
            if n_inf:
                what = "1 infinite value" if n_inf == 1 else f"{n_inf:,} infinite values"
                kept = "it is" if n_inf == 1 else "they are"
                notes.append(f"column `{name}`: {what} (inf or -inf), kept as {kept}")
        if pa.types.is_boolean(column.type) and column.null_count:
            bool_with_nulls.append(name)
        columns.append(column)
    table = pa.table(columns, names=[f"c{j}" for j in range(len(columns))])
    columns.clear()
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    frame.columns = names
    for name in bool_with_nulls:
        frame[name] = frame[name].astype("boolean")
    return frame, notes, coerced


def _clean_names(raw: list[str]) -> tuple[list[str], list[str]]:
    """Strip names; name blank ones ``column_<k>``; suffix duplicates ``_2``, ``_3``; one note per rename."""
    notes = []
    stripped = [str(n).strip() for n in raw]
    taken = {n for n in stripped if n}
    seen: Counter = Counter()
    names = []
    for k, name in enumerate(stripped, start=1):
        if not name:
            new, i = f"column_{k}", 1
            while new in taken:
                i += 1
                new = f"column_{k}_{i}"
            taken.add(new)
            notes.append(f"column {k} has no name; it is called `{new}`")
            names.append(new)
            continue
        seen[name] += 1
        if seen[name] == 1:
            names.append(name)
            continue
        i = seen[name]
        while f"{name}_{i}" in taken:
            i += 1
        new = f"{name}_{i}"
        taken.add(new)
        notes.append(f"column {k} repeats the name `{name}`; it is called `{new}`")
        names.append(new)
    return names, notes


def _settle_type(column: pa.ChunkedArray, text_temporal: bool) -> pa.ChunkedArray:
    """Map Arrow types to the documented pandas-friendly ones."""
    t = column.type
    if pa.types.is_dictionary(t):
        column, t = column.cast(t.value_type), t.value_type
    if pa.types.is_null(t):
        return column.cast(pa.float64())
    if pa.types.is_large_string(t):
        return column.cast(pa.string())
    if text_temporal and (pa.types.is_temporal(t)):
        return column.cast(pa.string())  # a date column beyond the sniffed sample: back to text
    if pa.types.is_decimal(t) or (pa.types.is_floating(t) and t != pa.float64()):
        return column.cast(pa.float64())
    if pa.types.is_integer(t) and t not in (pa.int64(), pa.uint64()):
        return column.cast(pa.int64())
    return column


def _coerce_numeric(column: pa.ChunkedArray, decimal: str):
    """Turn a mostly-numeric text column into float64; return (column, n_bad or None, bad examples)."""
    n_present = len(column) - column.null_count
    if n_present == 0:
        return column, None, []
    # cheap look at a spread-out sample first: most text columns are plainly not numbers
    sample = pa.chunked_array(
        [c for k in range(8) for c in column.slice(k * len(column) // 8, 256).chunks], column.type
    )
    n_sample_numbers = pc.sum(_number_mask(sample, decimal)).as_py() or 0
    if n_sample_numbers < 0.5 * (len(sample) - sample.null_count):
        return column, None, []
    normalized = _normalize_number_text(column, decimal)
    valid = pc.match_substring_regex(normalized, _NUMBER_RE)
    n_numbers = pc.sum(valid).as_py() or 0
    if n_numbers == 0 or n_numbers < NUMERIC_SHARE * n_present:
        return column, None, []
    bad_mask = pc.and_(pc.invert(valid), pc.is_valid(column))
    n_bad = n_present - n_numbers
    examples = pc.unique(column.filter(bad_mask)).slice(0, 3).to_pylist() if n_bad else []
    numbers = pc.if_else(valid, normalized, pa.scalar(None, pa.string())).cast(pa.float64())
    return numbers, n_bad, examples


def _normalize_number_text(column, decimal: str):
    """Trim spaces and normalise separators so that a number reads as ``1234.56``."""
    text = pc.utf8_trim_whitespace(column)
    if decimal == ",":
        text = pc.if_else(
            pc.match_substring_regex(text, _THOUSANDS_DOT_RE), pc.replace_substring(text, ".", ""), text
        )
        return pc.replace_substring(text, ",", ".")
    return pc.if_else(
        pc.match_substring_regex(text, _THOUSANDS_COMMA_RE), pc.replace_substring(text, ",", ""), text
    )


def _number_mask(column, decimal: str):
    return pc.match_substring_regex(_normalize_number_text(column, decimal), _NUMBER_RE)
