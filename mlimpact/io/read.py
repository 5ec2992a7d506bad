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

This module detects the source and the format; the readers live in small private modules:
:mod:`mlimpact.io.text` (delimited text), :mod:`mlimpact.io.binary` (Parquet and Excel),
:mod:`mlimpact.io.clean` (the clean-up every format shares) and :mod:`mlimpact.io.common`
(limits, missing markers and messages).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from mlimpact.errors import InputError
from mlimpact.io.binary import _read_parquet, _read_xlsx
from mlimpact.io.clean import NUMERIC_SHARE, _finish
from mlimpact.io.common import MAX_COLUMNS, _empty, _Parsed, _short
from mlimpact.io.text import SAMPLE_BYTES, _read_text

__all__ = ["MAX_COLUMNS", "LoadReport", "read_predictions", "SAMPLE_BYTES", "NUMERIC_SHARE", "MAX_EXPANDED_BYTES",
           "expansion_limits"]

#: default limit on the bytes a compressed upload may expand to (MLIMPACT_MAX_EXPANDED_MB overrides it)
MAX_EXPANDED_BYTES = 1024 * 2**20
#: above RATIO_CHECKED_ABOVE expanded bytes, refuse expansions of more than this many times the compressed size
MAX_EXPANSION_RATIO, RATIO_CHECKED_ABOVE = 200, 64 * 2**20
CHUNK_BYTES = 4 * 2**20

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other MS Office binaries)


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
    _content_hash: str = ""
    notes: list[str] = field(default_factory=list)
    coerced: dict[str, int] = field(default_factory=dict)
    _raw: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the raw bytes, computed on first use (it keys caches and goes into provenance).

        Computing it when asked rather than while reading keeps it off the reading time
        (about 66 ms for 71 MB on one core) for callers that never need it.
        """
        if not self._content_hash and self._raw is not None:
            self._content_hash = hashlib.sha256(self._raw).hexdigest()
            self._raw = None  # the bytes were kept only for this
        return self._content_hash

    def to_dict(self) -> dict:
        """Return the report as a plain JSON-ready dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}
        out["content_hash"] = self.content_hash
        return out


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
        notes=notes,
        coerced=coerced,
        _raw=data,
    )
    return frame, report


# ---------------------------------------------------------------------------------------------
# decompression, bounded


def expansion_limits() -> tuple[int, int]:
    """Most bytes a compressed file may expand to, and the ratio above which a large expansion is refused.

    ``MLIMPACT_MAX_EXPANDED_MB`` (default 1024) sets the byte limit, for the app's server and the CLI alike;
    when it is set, the ratio is not checked.
    """
    mb = os.environ.get("MLIMPACT_MAX_EXPANDED_MB", "").strip()
    if mb:  # the user's own limit replaces both defaults
        return int(float(mb) * 2**20), 10**12
    return MAX_EXPANDED_BYTES, MAX_EXPANSION_RATIO


def _too_expanded(label: str, compressed: int, expanded: int) -> InputError:
    limit, ratio = expansion_limits()
    return InputError(
        f"{label}: the compressed file expands to more than {min(expanded, limit) / 2**20:,.0f} MB "
        f"({expanded / max(compressed, 1):,.0f} times its {compressed / 2**20:,.1f} MB; limits: {limit / 2**20:,.0f} "
        f"MB, and {ratio}x above {RATIO_CHECKED_ABOVE // 2**20} MB); if the file is genuine, set "
        "MLIMPACT_MAX_EXPANDED_MB (in MB, for the command line or the app's server) to read it")


def _bounded(chunks, compressed: int, label: str) -> bytes:
    """Join decompressed chunks, stopping as soon as the total passes a limit."""
    limit, ratio = expansion_limits()
    out, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit or (total > RATIO_CHECKED_ABOVE and total > ratio * compressed):
            raise _too_expanded(label, compressed, total)
        out.append(chunk)
    return b"".join(out)


def _gunzip(data: bytes, label: str) -> bytes:
    def chunks():
        view, d = memoryview(data), zlib.decompressobj(16 + zlib.MAX_WBITS)
        while view:
            piece = d.decompress(view, CHUNK_BYTES)
            view = memoryview(d.unconsumed_tail) if d.unconsumed_tail else view[len(view):]
            yield piece
            if d.eof and d.unused_data[:2] == b"\x1f\x8b":  # concatenated gzip members
                view, d = memoryview(d.unused_data), zlib.decompressobj(16 + zlib.MAX_WBITS)
        if not d.eof:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
    return _bounded(chunks(), len(data), label)


def _unzip(zf: zipfile.ZipFile, member: zipfile.ZipInfo, compressed: int, label: str) -> bytes:
    def chunks():
        with zf.open(member) as fh:
            while piece := fh.read(CHUNK_BYTES):
                yield piece
    return _bounded(chunks(), compressed, label)


# ---------------------------------------------------------------------------------------------
# source and format detection


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
        compression, data = "gzip", _gunzip(data, label)
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
            compression, data = "zip", _unzip(zf, members[0], len(data), label)
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
