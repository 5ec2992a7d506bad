"""Reading delimited text (CSV, TSV, semicolon, pipe): encoding, delimiter and decimal detection, then pyarrow.

The bytes are parsed directly with pyarrow (never decoded whole to a Python ``str``); a sample of about
64 KiB decides the encoding, the delimiter and the decimal separator. Rows with too few fields are
filled by pandas' C parser, with a note; rows with too many are refused with their line number.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from mlimpact.errors import InputError
from mlimpact.io.common import _NULL_VALUES, MAX_COLUMNS, _empty, _Parsed, _too_many_columns

__all__ = ["SAMPLE_BYTES", "_read_text", "read_settings_file"]

#: how much of a text file is looked at to detect the delimiter and the decimal separator
SAMPLE_BYTES = 65_536
_DELIMITERS = (",", ";", "\t", "|")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_COMMA_DECIMAL = re.compile(r"\s*[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+\s*")
_POINT_DECIMAL = re.compile(r"\s*[+-]?\d*\.\d+([eE][+-]?\d+)?\s*")
_THOUSANDS_ONLY = re.compile(r"\s*[+-]?\d{1,3}(\.\d{3})+\s*")
_TEMPORAL = re.compile(
    r"\s*(\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?|\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)\s*"
)


def _unknown(label: str) -> InputError:
    return InputError(
        f"could not read `{label}`: it is not CSV, TSV, Parquet or Excel; export the predictions as CSV"
    )


def _unknown_encoding(label: str, what: str) -> InputError:
    return InputError(f"could not read `{label}`: its text looks like {what}, which is not read; "
                      "save it as CSV in UTF-8 (Excel: “CSV UTF-8”) and upload it again")


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


_SURROGATE = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, decoded with surrogateescape
_BAD_LINE = re.compile("[^\n]*[\udc80-\udcff][^\n]*")
_BEYOND_ASCII = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")  # valid UTF-8 beyond ASCII


def _not_utf8(data: bytes, start: int, encoding: str) -> tuple[bytes, str, list[str]]:
    """A file that is not valid UTF-8: all Windows-1252, or UTF-8 with some lines in another encoding.

    When the file holds valid UTF-8 beyond ASCII, only the lines that are not UTF-8 are read as
    Windows-1252 (a mixed file keeps "Kraków" one value); otherwise the whole file is. Either way a note
    says so, naming the first line affected.
    """
    text = data[start:].decode("utf-8", errors="surrogateescape")
    bad = [m.start() for m in _SURROGATE.finditer(text)]
    first_line = text.count("\n", 0, bad[0]) + 1 if bad else None
    if not _BEYOND_ASCII.search(text):
        name = "Windows-1252 (CP-1252)" if encoding == "cp1252" else "Latin-1"
        return data, encoding, [f"the file is not UTF-8 (first at line {first_line}); it was read as {name}: "
                                "check accented text, or save the file as UTF-8"]
    fixed, n = _BAD_LINE.subn(  # only the lines with an invalid byte; the rest stays as it is
        lambda m: m.group(0).encode("utf-8", "surrogateescape").decode("cp1252", errors="replace"), text)
    note = (f"{n:,} line(s) are not valid UTF-8 (first at line {first_line}) in a UTF-8 file; they were read "
            "as Windows-1252 (CP-1252): check their text, or save the file as UTF-8")
    return fixed.encode("utf-8"), "utf-8", [note]


_SEP_LINE = re.compile(rb"(?i)sep=([^\r\n])[ \t]*\r?\n")


def _excel_sep_line(data: bytes, start: int, encoding: str) -> tuple[str | None, int, list[str]]:
    """Excel's ``sep=;`` first line: the delimiter it names, where the header starts, and a note."""
    m = _SEP_LINE.match(data, start) if encoding != "utf-16" else None
    if not m:
        return None, start, []
    sep = m.group(1).decode("latin-1")
    return sep, m.end(), [f"the first line `sep={sep}` (written by Excel) names the delimiter; it is not data"]


def _check_quotes(data: bytes, start: int, encoding: str, label: str) -> None:
    """An odd number of double quotes means a quoted field is never closed: everything after it would
    silently become one value. Name the first line whose quotes do not pair up."""
    if encoding == "utf-16" or data.count(b'"', start) % 2 == 0:
        return
    for number, line in enumerate(data[start:].split(b"\n"), 1):
        if line.count(b'"') % 2:
            raise InputError(f"{label}, line {number}: a double quote (\") opens a field that is never closed; close "
                             "the quote or remove it, and export the file again")


def _text_layout(data: bytes, label: str) -> tuple[bytes, int, str, str, list[list[str]], list[str]]:
    """The bytes to parse, where the header starts, the encoding, the delimiter, the sampled rows, notes."""
    encoding, start = _detect_encoding(data, label)
    notes: list[str] = []
    if encoding in ("cp1252", "latin-1"):
        data, encoding, notes = _not_utf8(data, start, encoding)
        start = 0 if encoding == "utf-8" else start
    if not data[start : start + SAMPLE_BYTES].strip() and not re.compile(rb"\S").search(data, start):
        raise _empty(label)
    forced, start, sep_notes = _excel_sep_line(data, start, encoding)
    _check_quotes(data, start, encoding, label)
    text = _sample_text(data, start, encoding)
    delimiter, rows = (forced, _split(text, forced)) if forced else _sniff_delimiter(text)
    return data, start, encoding, delimiter, rows, notes + sep_notes


def _read_text(data: bytes, label: str) -> _Parsed:
    """Parse delimited text with pyarrow; fall back to pandas' C parser to fill short rows."""
    data, start, encoding, delimiter, rows, encoding_notes = _text_layout(data, label)
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
    return _Parsed(table, "csv", encoding, delimiter, decimal, text_temporal=True, notes=encoding_notes + notes)


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


def read_settings_file(path, *, what: str, how: str) -> str:
    """A small UTF-8 settings file (``checks.toml``, ``slices.toml``) as text, with or without BOM; a missing file or
    other text says which file and what to do (``what``: "the checks file"; ``how``: where one comes from)."""
    from pathlib import Path  # here: only settings files need it

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file; give {what} {how}")
    try:
        return p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save {what} as UTF-8") from None
