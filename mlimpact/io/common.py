"""What every reader of :mod:`mlimpact.io` shares: the limits, the missing markers, the parsed table, the messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

from mlimpact.errors import InputError

__all__ = ["MISSING_MARKERS", "MAX_COLUMNS", "_NULL_VALUES", "_NULL_SET", "_Parsed", "_empty", "_too_many_columns", "_short",
           "_check_rows"]

#: files with more columns than this are refused before parsing
MAX_COLUMNS = 20_000

# pandas' default missing-value markers, used for every format so that all formats agree
_NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
_NULL_SET = frozenset(_NULL_VALUES)
#: the texts every reader takes for a missing value (the engines' CSV readers too)
MISSING_MARKERS = tuple(_NULL_VALUES)


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
    typed: bool = False  # the format stores types (Parquet): its text columns stay text, as the engines read them


def _empty(label: str) -> InputError:
    return InputError(
        f"{label}: the file is empty; export the predictions with a header row and at least one data row"
    )


def _too_many_columns(label: str, n: int) -> InputError:
    return InputError(
        f"{label}: {n:,} columns, more than the limit of {MAX_COLUMNS:,}; "
        "keep only the columns you need (label, score, segments) and export again"
    )


def _short(exc: BaseException) -> str:
    """The first line of an exception message, without row contents, shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^(CSV parse error|CSV conversion error[^:]*): ", "", text)
    return text if len(text) <= 160 else text[:157] + "..."


def _check_rows(label: str, n_rows: int, max_rows: int | None) -> None:
    if max_rows is not None and n_rows > max_rows:
        raise InputError(
            f"{label}: {n_rows:,} data rows, more than the limit of {max_rows:,}; "
            "sample or filter the file and try again"
        )
