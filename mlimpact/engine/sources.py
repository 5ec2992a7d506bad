"""Where the data lives: a file, a folder of Parquet or CSV files, a DuckDB table or query, a Spark table.

:func:`resolve_source` turns the text a user gives (a path, ``db.duckdb:table``, ``db.duckdb:SELECT ...``)
into a :class:`SourceSpec`: its kind, its files (a folder's files listed once, their columns checked to
agree, a corrupt Parquet file named) and a fingerprint for reports and links. Nothing is read into memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from mlimpact.errors import InputError

__all__ = ["SourceSpec", "resolve_source", "PARQUET_SUFFIXES", "CSV_SUFFIXES", "DUCKDB_SUFFIXES", "server_roots",
           "allowed_path"]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
_MAX_FILES = 100_000


@dataclass(frozen=True)
class SourceSpec:
    """A resolved source: ``kind`` is ``parquet``, ``csv``, ``duckdb`` or ``spark-table``."""

    text: str
    kind: str
    files: tuple[str, ...] = ()
    hive: bool = False
    database: str | None = None
    relation: str | None = None  #: a table name or a SELECT query (duckdb, spark-table)
    bytes: int = 0
    fingerprint: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """How messages and reports name it."""
        return self.text


def _suffix_kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def _fingerprint(paths) -> tuple[str, int]:
    """sha256 of each file's name, size and modification time (reading 100 GB to hash it is not an option)."""
    h = hashlib.sha256()
    total = 0
    for p in paths:
        st = Path(p).stat()
        total += st.st_size
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest(), total


def _split_database(text: str) -> tuple[str, str] | None:
    lowered = text.lower()
    for suffix in DUCKDB_SUFFIXES:
        at = lowered.find(suffix + ":")
        if at > 0:
            return text[:at + len(suffix)], text[at + len(suffix) + 1:].strip()
    return None


def resolve_source(text: str, *, engine: str = "duckdb") -> SourceSpec:
    """Resolve ``text`` to a :class:`SourceSpec`; every problem is an :class:`InputError` naming it.

    ``engine == "spark"`` also accepts a table name the Spark session knows (no such path).
    """
    text = str(text)
    db = _split_database(text)
    if db is not None:
        path, relation = db
        if not Path(path).is_file():
            raise InputError(f"{path}: no such DuckDB database; check the path")
        if not relation:
            raise InputError(f"{text}: name a table or give a query after the colon, e.g. {path}:predictions")
        fp, size = _fingerprint([path])
        return SourceSpec(text, "duckdb", database=path, relation=relation, bytes=size,
                          fingerprint=hashlib.sha256((fp + relation).encode()).hexdigest())
    path = Path(text)
    if not path.exists():
        if engine == "spark" and text.replace(".", "").replace("_", "").isalnum():
            return SourceSpec(text, "spark-table", relation=text, fingerprint=hashlib.sha256(text.encode()).hexdigest())
        raise InputError(f"{text}: no such file or folder; check the path")
    if path.is_dir():
        return _folder(text, path)
    kind = _suffix_kind(path)
    if kind is None:
        raise InputError(f"{text}: not a Parquet or CSV file (by its name); the engines read .parquet, .csv, "
                         ".csv.gz and .tsv files, folders of them, and DuckDB databases (file.duckdb:table)")
    fp, size = _fingerprint([path])
    if kind == "parquet":
        _check_parquet_schemas([str(path)])
    return SourceSpec(text, kind, files=(str(path),), bytes=size, fingerprint=fp)


def _folder(text: str, path: Path) -> SourceSpec:
    files = sorted(p for p in path.rglob("*") if p.is_file() and _suffix_kind(p) is not None
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    if not files:
        raise InputError(f"{text}: the folder holds no .parquet or .csv files")
    if len(files) > _MAX_FILES:
        raise InputError(f"{text}: {len(files):,} files; point at a sub-folder with at most {_MAX_FILES:,}")
    kinds = {_suffix_kind(p) for p in files}
    if len(kinds) > 1:
        raise InputError(f"{text}: the folder mixes Parquet and CSV files; point at a folder of one kind")
    kind = kinds.pop()
    hive = any("=" in part for p in files for part in p.relative_to(path).parts[:-1])
    names = tuple(str(p) for p in files)
    if kind == "parquet":
        _check_parquet_schemas(names)
    else:
        _check_csv_headers(names)
    fp, size = _fingerprint(names)
    return SourceSpec(text, kind, files=names, hive=hive, bytes=size, fingerprint=fp)


def _check_parquet_schemas(files) -> None:
    """Every file is readable Parquet with the first file's columns and types (metadata only)."""
    import pyarrow as pa  # noqa: I001 - on use: only the engines read Parquet metadata
    import pyarrow.parquet as pq  # on use: as above

    first = None
    for f in files:
        try:
            schema = pq.read_schema(f)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{f}: not a readable Parquet file ({str(exc).splitlines()[0][:160]}); "
                             "remove or rewrite it") from None
        fields = {n: str(schema.field(n).type) for n in schema.names}
        if first is None:
            first = (f, fields)
            continue
        ref_file, ref = first
        missing = [n for n in ref if n not in fields]
        extra = [n for n in fields if n not in ref]
        changed = [f"`{n}` is {fields[n]} here but {ref[n]} in {Path(ref_file).name}"
                   for n in ref if n in fields and _type_family(fields[n]) != _type_family(ref[n])]
        if missing or extra or changed:
            parts = ([f"lacks {', '.join(f'`{n}`' for n in missing)}"] if missing else []) + \
                    ([f"adds {', '.join(f'`{n}`' for n in extra)}"] if extra else []) + changed
            raise InputError(f"{f}: its columns disagree with {ref_file}: {'; '.join(parts)}; "
                             "make the files agree or point at a folder of files that do")


def _type_family(arrow_type: str) -> str:
    """Types that the engines combine without loss count as one (int32 and int64, string and large_string)."""
    t = arrow_type.lower()
    if t.startswith(("int", "uint")):
        return "integer"
    if t in ("float", "double", "halffloat") or t.startswith(("float", "double")):
        return "float"
    if "string" in t or t == "utf8":
        return "string"
    if t.startswith("timestamp") or t.startswith("date"):
        return "time"
    if t.startswith("dictionary"):
        return "string" if "string" in t else t
    return t


def _check_csv_headers(files) -> None:
    """Every CSV file has the first file's header (column names in the same order)."""
    import gzip  # on use: only folders of CSV files need it

    first = None
    for f in files:
        opener = gzip.open if f.lower().endswith(".gz") else open
        try:
            with opener(f, "rt", encoding="utf-8", errors="replace") as fh:
                header = fh.readline().rstrip("\r\n")
        except OSError as exc:
            raise InputError(f"{f}: cannot be read ({exc}); remove or rewrite it") from None
        if first is None:
            first = (f, header)
        elif header != first[1]:
            raise InputError(f"{f}: its header differs from {first[0]}'s ({header[:80]!r} vs {first[1][:80]!r}); "
                             "make the files agree or point at a folder of files that do")


def server_roots(text: str | None) -> list[Path]:
    """The folders the app may open (``MLIMPACT_DATA_DIRS``: paths separated by ``os.pathsep``), resolved;
    folders that do not exist are left out.

    >>> server_roots(None), server_roots("")
    ([], [])
    """
    import os  # on use: only the app's server sources need the separator

    roots = []
    for part in (text or "").split(os.pathsep):
        part = part.strip()
        if part and Path(part).is_dir():
            roots.append(Path(part).resolve())
    return roots


def allowed_path(text: str, roots: list[Path]) -> Path:
    """``text`` as a path inside one of ``roots``: relative paths are taken from the first root, ``..`` is
    refused, symlinks are resolved before the check. Anything else is an :class:`InputError`."""
    if not roots:
        raise InputError("this server opens no folders: its administrator sets MLIMPACT_DATA_DIRS to allow some")
    text = str(text).strip()
    if not text:
        raise InputError("type a path under " + ", ".join(str(r) for r in roots))
    if ".." in Path(text).parts:
        raise InputError(f"{text}: `..` is not allowed; give a path under " + ", ".join(str(r) for r in roots))
    candidate = Path(text) if Path(text).is_absolute() else roots[0] / text
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputError(f"{text}: no such file or folder under " + ", ".join(str(r) for r in roots)) from None
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        raise InputError(f"{text}: not under the folders this server allows ({', '.join(str(r) for r in roots)}); "
                         "ask its administrator to add it to MLIMPACT_DATA_DIRS")
    return resolved
