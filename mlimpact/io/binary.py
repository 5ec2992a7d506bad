"""Reading Parquet files and the first sheet of Excel workbooks (.xlsx) into an Arrow table."""

from __future__ import annotations

import datetime as dt
import io
import re

import pyarrow as pa

from mlimpact.errors import InputError
from mlimpact.io.common import _NULL_SET, MAX_COLUMNS, _check_rows, _empty, _Parsed, _short, _too_many_columns

__all__ = ["_read_parquet", "_read_xlsx"]

_INDEX_COLUMN = re.compile(r"__index_level_\d+__")


def _read_parquet(data: bytes, label: str, max_rows: int | None) -> _Parsed:
    import pyarrow.parquet as pq  # pyarrow: heavy, imported on use

    pf = pq.ParquetFile(pa.BufferReader(pa.py_buffer(data)))
    n_columns = len(pf.schema_arrow)
    if n_columns > MAX_COLUMNS:
        raise _too_many_columns(label, n_columns)
    _check_rows(label, pf.metadata.num_rows, max_rows)
    table = pf.read(use_pandas_metadata=False)
    notes = []
    for j in reversed(range(table.num_columns)):
        if _INDEX_COLUMN.fullmatch(table.column_names[j]):
            notes.append(f"column `{table.column_names[j]}` is a saved pandas index and is left out")
            table = table.remove_column(j)
    table, set_aside = _flat_columns(table)
    return _Parsed(table, "parquet", notes=notes[::-1] + set_aside, typed=True)


def _flat_columns(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Set aside nested columns (lists, structs, maps: embeddings are lists) and binary columns that are
    not UTF-8 text, with a note each; binary columns that are UTF-8 become text."""
    import pyarrow.compute as pc  # pyarrow: heavy, imported on use

    notes = []
    for j in reversed(range(table.num_columns)):
        name, col = table.column_names[j], table.column(j)
        kind = col.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_nested(kind):
            notes.append(f"column `{name}` holds nested values ({kind}); it is set aside (mlimpact reads flat "
                         "columns: numbers, text, dates)")
            table = table.remove_column(j)
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            try:
                table = table.set_column(j, name, pc.cast(pc.cast(col, pa.binary()), pa.string()))
            except pa.ArrowInvalid:  # "Invalid UTF8 payload"
                notes.append(f"column `{name}` holds bytes that are not UTF-8 text; it is set aside")
                table = table.remove_column(j)
    return table, notes[::-1]


def _read_xlsx(data: bytes, label: str, max_rows: int | None) -> _Parsed:
    """Read the first sheet of an .xlsx workbook with openpyxl."""
    import openpyxl  # openpyxl: heavy, imported on use

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            header, rows = _sheet_rows(workbook.worksheets[0], label, max_rows)
        finally:
            workbook.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises its own and XML parser exceptions on broken workbooks
        raise InputError(
            f"could not read `{label}` as an Excel workbook: {_short(exc)}; "
            "open it in Excel and save it again, or export the predictions as CSV"
        ) from exc
    width = max([len(header), *(len(r) for r in rows)])
    header += [None] * (width - len(header))
    columns = [[r[j] if j < len(r) else None for r in rows] for j in range(width)]
    while width and header[width - 1] is None and all(v is None for v in columns[width - 1]):
        width -= 1  # trailing empty columns (a stale sheet dimension)
    if width == 0:
        raise _empty(label)
    if width > MAX_COLUMNS:
        raise _too_many_columns(label, width)
    _check_rows(label, len(rows), max_rows)
    names = ["" if h is None else str(h) for h in header[:width]]
    arrays = [_excel_column(values) for values in columns[:width]]
    return _Parsed(pa.table(arrays, names=[f"c{j}" for j in range(width)]).rename_columns(names), "xlsx")


def _blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _sheet_rows(sheet, label: str, max_rows: int | None) -> tuple[list, list[tuple]]:
    """The header and the data rows, as wide as the header: a sheet that declares the full grid
    (``A1:XFD1048576``) or holds stray formatted cells far right costs what its header holds, and
    trailing blank rows are counted, not kept."""
    header = list(next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ()) or ())
    while header and header[-1] is None:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise _too_many_columns(label, len(header))
    if not header:
        return [], []
    rows: list[tuple] = []
    blank_run = 0
    limit = None if max_rows is None else max_rows + 1
    for row in sheet.iter_rows(min_row=2, max_col=len(header), values_only=True):
        if _blank(row):
            blank_run += 1
            continue
        rows.extend([(None,) * len(header)] * blank_run)  # blank rows between data rows stay rows
        blank_run = 0
        rows.append(row)
        if limit is not None and len(rows) > limit:
            break
    return header, rows


def _excel_column(values: list) -> pa.Array:
    """One Excel column as an Arrow array: numbers, booleans and datetimes natively, the rest as text."""

    values = [None if isinstance(v, str) and v in _NULL_SET else v for v in values]
    present = [v for v in values if v is not None]
    if not present:
        return pa.nulls(len(values))
    if all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array(values, pa.int64() if all(isinstance(v, int) for v in present) else pa.float64())
    if all(isinstance(v, dt.datetime) for v in present):
        return pa.array(values, pa.timestamp("us"))
    return pa.array([None if v is None else _excel_text(v) for v in values], pa.string())


def _excel_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") and hasattr(value, "hour") else str(value)
