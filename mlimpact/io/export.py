"""Safe exports: CSV cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralize_formulas", "to_safe_csv", "markdown_text", "markdown_table"]

#: A text cell starting with one of these runs as a formula in Excel/LibreOffice/Sheets (CWE-1236).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


#: the start of every line within a cell (after LF, CR or CRLF) that begins like a formula
_FORMULA_LINE_START = re.compile(r"(?m)(?:^|(?<=\r))(?=[=+\-@\t\r])")


def _fix(value):
    """``'`` before every line start of a text cell that a spreadsheet would run as a formula."""
    if isinstance(value, str):
        return _FORMULA_LINE_START.sub("'", value)
    return value


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where text cells and column names starting with ``= + - @ TAB CR`` get a leading ``'``.

    Every line start inside a cell counts (after LF, CR or CRLF): a spreadsheet may split a cell's
    lines. Numbers (including negatives) are left alone.

    >>> neutralize_formulas(pd.DataFrame({"a": ["=1+1", "ok"], "b": [-2, 3]})).to_dict("list")
    {'a': ["'=1+1", 'ok'], 'b': [-2, 3]}
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype(object).map(_fix)
    out.columns = [_fix(str(c)) for c in out.columns]
    return out


def to_safe_csv(frame: pd.DataFrame, *, header_lines: list[str] | None = None) -> bytes:
    """UTF-8 CSV bytes (RFC 4180: CRLF line ends) with formulas neutralised; ``# comment`` lines first.

    Any cell holding a CR or an LF is quoted (with LF line ends a bare CR went out unquoted and
    started a new physical line in some readers).

    >>> to_safe_csv(pd.DataFrame({"x": ["@SUM(A1)", "ok\\r=1"]})).split(b"\\r\\n")
    [b'x', b"'@SUM(A1)", b'"ok\\r\\'=1"', b'']
    """
    body = neutralize_formulas(frame).to_csv(index=False, lineterminator="\r\n")
    head = "".join(f"# {_fix(' '.join(str(line).splitlines()))}\r\n" for line in (header_lines or []))
    return (head + body).encode("utf-8")


_MD_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|!"})


def markdown_text(text: object) -> str:
    """Text from a file made inert in Markdown: no links, images, autolinks, HTML or table breaks.

    Escapes ``\\ ` * _ [ ] < > | !`` and breaks the ``://`` and ``www.`` of autolinks;
    numbers and ordinary punctuation stay readable.

    >>> markdown_text("[x](https://e.com) <b>")
    '\\\\[x\\\\](https\\\\://e.com) \\\\<b\\\\>'
    """
    out = str(text).translate(_MD_ESCAPE).replace("\n", " ").replace("\r", " ").replace("://", "\\://")
    return out.replace("www.", "www\\.").replace("WWW.", "WWW\\.")


def _is_missing(value: object) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def markdown_table(frame: pd.DataFrame, *, formats: dict | None = None,
                   escape: Callable[[object], str] = markdown_text) -> str:
    """A Markdown table of a small frame, every cell and column name made inert by ``escape``.

    Parameters
    ----------
    frame: the rows to show (a few dozen; the index is left out).
    formats: ``{column: function}`` turning that column's values into text (e.g. money); missing values
        stay empty.
    escape: the escaper of every cell and column name (default :func:`markdown_text`).

    Returns the table: a header row, a ``|---|`` rule and one line per row. Missing values are empty
    cells; other floats show 4 significant digits (whole numbers from 100,000 on).

    >>> print(markdown_table(pd.DataFrame({"a|b": ["<b>x</b>", None], "n": [1.5, float("nan")]})))
    | a\\|b | n |
    |---|---|
    | \\<b\\>x\\</b\\> | 1.5 |
    |  |  |
    """
    formats = formats or {}

    def cell(col, v) -> str:
        if _is_missing(v):
            return ""
        if col in formats:
            return escape(formats[col](v))
        if isinstance(v, float | np.floating):
            return escape(f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}")
        return escape(v)

    head = "| " + " | ".join(escape(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])
