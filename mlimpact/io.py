"""Read a predictions file robustly (CSV/TSV/Parquet/Excel, compressed or not) and report what was done.

The one entry point is :func:`read_predictions`. It takes bytes, a path or a binary file object,
detects the format from the bytes (not the file name), parses the bytes directly with pyarrow
(never decoding the whole file to a Python ``str``), and returns a pandas DataFrame plus a
:class:`LoadReport` that says what was detected and what was coerced.

Dtypes of the returned frame:

* numbers: ``int64`` (integer columns without missing values) or ``float64`` (numpy dtypes);
* text: pandas' default string dtype (``str``, Arrow-backed, missing values are NaN);
* true/false columns: numpy ``bool``, or pandas ``boolean`` when some values are missing;
* timestamps in text files stay text (the roles layer parses them); native date/time types of
  Parquet and Excel cells are kept as ``datetime64``;
* a column with no values at all is ``float64`` (all NaN).

Missing markers are pandas' defaults (empty, ``NA``, ``N/A``, ``n/a``, ``NaN``, ``null``, ``None``, ...).
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import os
import re
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from mlimpact.errors import InputError

__all__ = ["MAX_COLUMNS", "LoadReport", "read_predictions"]

#: files with more columns than this are refused before parsing
MAX_COLUMNS = 20_000
#: how much of a text file is looked at to detect the delimiter and the decimal separator
SAMPLE_BYTES = 65_536
#: share of non-missing values that must be numbers before a text column is made numeric
NUMERIC_SHARE = 0.9

# pandas' default missing-value markers, used for every format so that all formats agree
_NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
_NULL_SET = frozenset(_NULL_VALUES)
_DELIMITERS = (",", ";", "\t", "|")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other MS Office binaries)

# a number as text, after normalising the decimal separator to "."
_NUMBER_RE = r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|(?i:inf|infinity|nan))$"
_THOUSANDS_DOT_RE = r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"  # 1.234,56 (decimal comma files)
_THOUSANDS_COMMA_RE = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"  # 1,234.56 (decimal point files)
_COMMA_DECIMAL = re.compile(r"\s*[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+\s*")
_POINT_DECIMAL = re.compile(r"\s*[+-]?\d*\.\d+([eE][+-]?\d+)?\s*")
_THOUSANDS_ONLY = re.compile(r"\s*[+-]?\d{1,3}(\.\d{3})+\s*")
_TEMPORAL = re.compile(
    r"\s*(\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?|\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)\s*"
)
_INDEX_COLUMN = re.compile(r"__index_level_\d+__")


@dataclass
class LoadReport:
    """What :func:`read_predictions` detected and changed while reading a file.

    >>> LoadReport("a.csv", "csv", None, "utf-8", ",", ".", 2, 3, "0" * 64).to_dict()["n_rows"]
    2
    """

    source: str
    format: str
    compression: str | None
    encoding: str | None
    delimiter: str | None
    decimal: str | None
    n_rows: int
    n_columns: int
    content_hash: str
    notes: list[str] = field(default_factory=list)
    coerced: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the report as a plain JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass
class _Parsed:
    """A parsed table plus what was detected, before the shared clean-up."""

    table: pa.Table | None
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    text_temporal: bool = False  # date/time types came from text inference: turn them back to text
    notes: list[str] = field(default_factory=list)


def read_predictions(
    source, *, name: str | None = None, max_rows: int | None = None
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a predictions file into a DataFrame and a report of what was detected and coerced.

    Parameters
    ----------
    source:
        The file: ``bytes``, a path (``str`` or ``os.PathLike``) or a binary file object. A
        ``BytesIO`` (and Streamlit's ``UploadedFile``) is read whole with ``getvalue()``; other file
        objects are read from their current position.
    name:
        The file name to show in messages and in the report (default: the path's base name, the
        file object's ``name``, or ``"<bytes>"``).
    max_rows:
        Refuse files with more data rows than this.

    Returns
    -------
    (DataFrame, LoadReport)
        Numbers as ``int64``/``float64``, text as pandas' ``str`` dtype; see the module docstring.

    Raises
    ------
    InputError
        For every problem with the file; the message names the file and says what to do.

    >>> df, report = read_predictions(b"id;score\\n1;0,87\\n2;0,5\\n", name="p.csv")
    >>> df["score"].tolist(), report.delimiter, report.decimal
    ([0.87, 0.5], ';', ',')
    """
    data, label = _read_source(source, name)
    hasher = _Hasher(data)  # hashing releases the GIL: overlap it with parsing
    try:
        parsed, compression = _parse_any(data, label, max_rows)
        frame, notes, coerced = _finish(parsed, label, max_rows)
    except InputError:
        raise
    except (pa.ArrowException, ValueError, TypeError, KeyError, IndexError, OSError, EOFError,
            RuntimeError, zipfile.BadZipFile, UnicodeError, csv.Error) as exc:  # fmt: skip
        raise InputError(
            f"could not read `{label}`: {_short(exc)}; check the file or export the predictions as CSV again"
        ) from exc
    report = LoadReport(
        source=label,
        format=parsed.format,
        compression=compression,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        decimal=parsed.decimal,
        n_rows=len(frame),
        n_columns=frame.shape[1],
        content_hash=hasher.hexdigest(),
        notes=notes,
        coerced=coerced,
    )
    return frame, report


# ---------------------------------------------------------------------------------------------
# source and format detection


class _Hasher(threading.Thread):
    """SHA-256 of the raw bytes, computed in a background thread."""

    def __init__(self, data: bytes) -> None:
        super().__init__(daemon=True)
        self._data, self._digest = data, ""
        self.start()

    def run(self) -> None:
        self._digest = hashlib.sha256(self._data).hexdigest()
        self._data = b""

    def hexdigest(self) -> str:
        self.join()
        return self._digest


def _read_source(source, name: str | None) -> tuple[bytes, str]:
    """Return the raw bytes of ``source`` and the name to show for it."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "<bytes>"
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        label = name or os.path.basename(path) or path
        try:
            with open(path, "rb") as fh:
                return fh.read(), label
        except FileNotFoundError as exc:
            raise InputError(f"could not read `{label}`: the file does not exist; check the path") from exc
        except OSError as exc:
            raise InputError(f"could not read `{label}`: {_short(exc)}; check the path") from exc
    if hasattr(source, "read"):
        file_name = getattr(source, "name", None)
        label = name or (os.path.basename(file_name) if isinstance(file_name, str) else None) or "<bytes>"
        data = source.getvalue() if isinstance(source, io.BytesIO) else source.read()
        if isinstance(data, str):
            raise InputError(
                f"could not read `{label}`: the file was opened as text; open it in binary mode ('rb')"
            )
        return bytes(data), label
    raise InputError(
        f"could not read a predictions file from a {type(source).__name__}; pass bytes, a path or a binary file"
    )


def _parse_any(data: bytes, label: str, max_rows: int | None) -> tuple[_Parsed, str | None]:
    """Detect the format from the bytes, decompress when needed, and parse; return (parsed, compression)."""
    compression = None
    if data[:2] == b"\x1f\x8b":
        compression, data = "gzip", gzip.decompress(data)
    elif data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
                return _read_xlsx(data, label, max_rows), None
            members = [
                info for info in zf.infolist()
                if not info.is_dir() and not info.filename.startswith("__MACOSX/")
                and not os.path.basename(info.filename).startswith(".")
            ]  # fmt: skip
            if len(members) != 1:
                listed = ", ".join(m.filename for m in members[:5]) + (", ..." if len(members) > 5 else "")
                held = "no file" if not members else f"{len(members)} files ({listed})"
                raise InputError(
                    f"{label}: the zip archive holds {held}; put exactly one predictions file in it"
                )
            compression, data = "zip", zf.read(members[0])
    if compression and (data[:2] == b"\x1f\x8b" or data[:4] == b"PK\x03\x04"):
        raise InputError(
            f"{label}: the archive holds another archive; compress the predictions file only once"
        )
    if not data:
        raise _empty(label)
    if data[:4] == b"PAR1":
        return _read_parquet(data, label, max_rows), compression
    if data[:4] == b"PK\x03\x04":  # an .xlsx inside a compressed file: handled, though unusual
        return _read_xlsx(data, label, max_rows), compression
    if data[:8] == _OLE2_MAGIC:
        raise InputError(f"could not read `{label}`: it is an old Excel .xls file; save it as .xlsx or CSV")
    return _read_text(data, label), compression


def _empty(label: str) -> InputError:
    return InputError(
        f"{label}: the file is empty; export the predictions with a header row and at least one data row"
    )


def _unknown(label: str) -> InputError:
    return InputError(
        f"could not read `{label}`: it is not CSV, TSV, Parquet or Excel; export the predictions as CSV"
    )


def _unknown_encoding(label: str, what: str) -> InputError:
    return InputError(f"could not read `{label}`: its text looks like {what}, which is not read; "
                      "save it as CSV in UTF-8 (Excel: “CSV UTF-8”) and upload it again")


def _too_many_columns(label: str, n: int) -> InputError:
    return InputError(
        f"{label}: {n:,} columns, more than the limit of {MAX_COLUMNS:,}; "
        "keep only the columns you need (label, score, segments) and export again"
    )


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _short(exc: BaseException) -> str:
    """The first line of an exception message, without row contents, shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^(CSV parse error|CSV conversion error[^:]*): ", "", text)
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------------------------------------
# text (CSV, TSV, semicolon, pipe)


def _detect_encoding(data: bytes, label: str) -> tuple[str, int]:
    """Return (encoding, bytes to skip) for a text file; refuse binary content and unknown encodings."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise _unknown_encoding(label, "UTF-32")
    if data.startswith(_UTF16_BOMS):
        return "utf-16", 0
    head = data[:SAMPLE_BYTES]
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
    if b"\x00" in head or controls > 0.02 * len(head):
        even, odd = head[0::2], head[1::2]
        if len(head) >= 8 and (odd.count(0) > 0.8 * len(odd) or even.count(0) > 0.8 * len(even)):
            raise _unknown_encoding(label, "UTF-16 without a byte-order mark")
        raise _unknown(label)
    if data.startswith(_UTF8_BOM):
        return "utf-8-sig", len(_UTF8_BOM)
    buf = pa.py_buffer(data)
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, buf]).validate(full=True)
        return "utf-8", 0
    except pa.ArrowInvalid:
        pass
    if any(b in data for b in _CP1252_UNDEFINED):
        return "latin-1", 0
    return "cp1252", 0


def _sample_text(data: bytes, start: int, encoding: str) -> str:
    """Decode the first ~64 KiB (at least the whole header line), without a partial last line."""
    end = start + SAMPLE_BYTES
    if encoding != "utf-16":
        first_newline = data.find(b"\n", start)
        end = max(end, first_newline + 1 if first_newline >= 0 else len(data))
    whole = end >= len(data)
    chunk = data[start:end]
    if encoding == "utf-16":
        chunk = chunk[: len(chunk) // 2 * 2]
    text = chunk.decode("utf-16" if encoding == "utf-16" else encoding.replace("-sig", ""), errors="replace")
    if not whole:  # drop the partial last line
        cut = text.rfind("\n")
        text = text[: cut + 1] if cut > 0 else text
    return text


def _split(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    return [row for row in reader if row]


def _sniff_delimiter(text: str) -> tuple[str, list[list[str]]]:
    """Pick the delimiter whose field counts are the most consistent (header included)."""
    best, best_key, best_rows = ",", (-1.0, 0, 0), None
    for rank, delim in enumerate(_DELIMITERS):
        rows = _split(text, delim)
        counts = [len(r) for r in rows]
        if not counts:
            continue
        mode = Counter(counts).most_common(1)[0][0]
        if max(mode, counts[0]) <= 1:
            continue
        key = (counts.count(mode) / len(counts), mode, -rank)
        if key > best_key:
            best, best_key, best_rows = delim, key, rows
    return best, best_rows if best_rows is not None else _split(text, ",")


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """A decimal comma when the delimiter is not a comma and number-like fields use commas."""
    if delimiter == ",":
        return "."
    comma = point = 0
    for row in rows[1:]:
        for value in row:
            if _COMMA_DECIMAL.fullmatch(value):
                comma += 1
            elif _POINT_DECIMAL.fullmatch(value) and not _THOUSANDS_ONLY.fullmatch(value):
                point += 1
    return "," if comma > point else "."


def _read_text(data: bytes, label: str) -> _Parsed:
    """Parse delimited text with pyarrow; fall back to pandas' C parser to fill short rows."""
    encoding, start = _detect_encoding(data, label)
    if not data[start : start + SAMPLE_BYTES].strip() and not re.compile(rb"\S").search(data, start):
        raise _empty(label)
    text = _sample_text(data, start, encoding)
    delimiter, rows = _sniff_delimiter(text)
    header = rows[0] if rows else []
    if len(header) > MAX_COLUMNS:
        raise _too_many_columns(label, len(header))
    decimal = _sniff_decimal(rows, delimiter)
    quoted_newlines = any("\n" in v or "\r" in v for row in rows for v in row)
    # timestamps are the roles layer's job: keep date/time-looking columns as text
    temporal = {
        name: pa.string()
        for j, name in enumerate(header)
        if any(j < len(r) and _TEMPORAL.fullmatch(r[j]) for r in rows[1:])
    }
    invalid: list[tuple[int, int, int | None, str]] = []

    def on_invalid(row) -> str:
        invalid.append((row.expected_columns, row.actual_columns, row.number, row.text))
        return "skip"

    read_options = pcsv.ReadOptions(encoding="utf8" if encoding.startswith("utf-8") else encoding)
    convert_options = pcsv.ConvertOptions(
        null_values=_NULL_VALUES,
        strings_can_be_null=True,
        column_types=temporal,
        decimal_point=decimal,
        timestamp_parsers=["\x01"],  # matches nothing: no timestamp inference
    )
    buf = pa.py_buffer(data)
    if start:
        buf = buf.slice(start)

    def parse(newlines: bool) -> pa.Table:
        invalid.clear()
        parse_options = pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=newlines, invalid_row_handler=on_invalid
        )
        return pcsv.read_csv(
            pa.BufferReader(buf), read_options=read_options, parse_options=parse_options,
            convert_options=convert_options,
        )  # fmt: skip

    try:
        table = parse(quoted_newlines)
    except pa.ArrowInvalid:
        if quoted_newlines or data.find(b'"', start) < 0:
            raise
        quoted_newlines = True  # a quoted newline after the sample
        table = parse(True)
    if not quoted_newlines and invalid and data.find(b'"', start) >= 0:
        quoted_newlines = True  # ragged rows may be quoted newlines after the sample: parse again
        table = parse(True)

    notes: list[str] = []
    if invalid:
        table, notes = _handle_invalid(data, start, label, encoding, delimiter, decimal, table, invalid)
    return _Parsed(table, "csv", encoding, delimiter, decimal, text_temporal=True, notes=notes)


def _line_of(data: bytes, start: int, text: str, encoding: str) -> int | None:
    """1-based physical line number of the first line whose bytes equal ``text`` (None if not found)."""
    if "\n" in text or encoding == "utf-16":
        return None
    try:
        needle = text.encode("utf-8" if encoding.startswith("utf-8") else encoding)
    except UnicodeError:
        return None
    pos = start
    while True:
        pos = data.find(needle, pos)
        if pos < 0:
            return None
        before = data[pos - 1 : pos] if pos > start else b"\n"
        after = data[pos + len(needle) : pos + len(needle) + 1]
        if before == b"\n" and after in (b"", b"\r", b"\n"):
            return data.count(b"\n", 0, pos) + 1
        pos += 1


def _handle_invalid(data, start, label, encoding, delimiter, decimal, table, invalid):
    """Refuse rows with too many fields; fill rows with too few (pandas' C parser) with a note."""
    expected = invalid[0][0]
    long_rows = [r for r in invalid if r[1] > r[0]]
    if long_rows:
        if table.num_rows == 0 and all(r[1] == expected + 1 for r in invalid):
            raise InputError(
                f"{label}: every row has {expected + 1} fields but the header has {expected}; "
                "the header is missing a column name (or every row ends with an extra delimiter); "
                "fix the header or re-export the file"
            )
        # with threads the handler sees rows out of order: the first is the one with the lowest line
        located = [(_line_of(data, start, r[3], encoding), r[1]) for r in long_rows[:1000]]
        found = [x for x in located if x[0] is not None]
        line, actual = min(found) if found else (None, long_rows[0][1])
        where = f"line {line}" if line is not None else "a row"
        raise InputError(
            f"{label}, {where}: {actual} fields where the header has {expected}; "
            "fix the row or re-export the file"
        )
    names = table.column_names
    lines = [_line_of(data, start, r[3], encoding) for r in invalid[:1000]]
    first_line = min((x for x in lines if x is not None), default=None)
    frame = pd.read_csv(
        io.BytesIO(data),
        sep=delimiter,
        decimal=decimal,
        encoding=encoding,
        header=0,
        names=[f"c{j}" for j in range(len(names))],
        index_col=False,
        na_values=_NULL_VALUES,
        keep_default_na=False,
        dtype={f"c{j}": "str" for j, n in enumerate(names) if table.schema.field(j).type == pa.string()},
        engine="c",
    )
    filled = pa.Table.from_pandas(frame, preserve_index=False).rename_columns(names)
    n = len(invalid)
    at = f" (first at line {first_line})" if first_line is not None and n > 1 else ""
    at = f" (line {first_line})" if first_line is not None and n == 1 else at
    rows = "1 row has" if n == 1 else f"{n:,} rows have"
    note = f"{rows} fewer fields than the header{at}; the missing fields are treated as missing"
    return filled, [note]


# ---------------------------------------------------------------------------------------------
# Parquet and Excel


def _read_parquet(data: bytes, label: str, max_rows: int | None) -> _Parsed:
    import pyarrow.parquet as pq

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
    return _Parsed(table, "parquet", notes=notes[::-1])


def _read_xlsx(data: bytes, label: str, max_rows: int | None) -> _Parsed:
    """Read the first sheet of an .xlsx workbook with openpyxl."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows_iter = sheet.iter_rows(values_only=True)
            header = list(next(rows_iter, ()) or ())
            if len(header) > MAX_COLUMNS:
                raise _too_many_columns(label, len(header))
            rows: list[tuple] = []
            limit = None if max_rows is None else max_rows + 1
            for row in rows_iter:
                rows.append(row)
                if limit is not None and len(rows) > limit + 1000:  # leave room for trailing blank rows
                    break
        finally:
            workbook.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises its own and XML parser exceptions on broken workbooks
        raise InputError(
            f"could not read `{label}` as an Excel workbook: {_short(exc)}; "
            "open it in Excel and save it again, or export the predictions as CSV"
        ) from exc
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
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


def _excel_column(values: list) -> pa.Array:
    """One Excel column as an Arrow array: numbers, booleans and datetimes natively, the rest as text."""
    import datetime as dt

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


# ---------------------------------------------------------------------------------------------
# shared clean-up: limits, names, types, coercion


def _check_rows(label: str, n_rows: int, max_rows: int | None) -> None:
    if max_rows is not None and n_rows > max_rows:
        raise InputError(
            f"{label}: {n_rows:,} data rows, more than the limit of {max_rows:,}; "
            "sample or filter the file and try again"
        )


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
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
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
