"""Data on the app's server: a path under ``MLIMPACT_DATA_DIRS`` or a query on ``MLIMPACT_DUCKDB``.

:func:`open_server_source` checks the path against the allowed folders (:func:`allowed_path`), estimates its
size in memory, and reads it through DuckDB into a :class:`mlimpact.io.load.Source` that every page uses as
it uses an upload. A query runs on the administrator's database opened read-only, with DuckDB's access to
other files switched off. A source above the memory budget is refused with what to do instead.
"""

from __future__ import annotations

import os
import re

from mlimpact.engine.backends import DuckDBBackend
from mlimpact.engine.dataset import estimated_memory, memory_budget, open_engine_dataset
from mlimpact.engine.sources import allowed_path, resolve_source, server_roots
from mlimpact.errors import InputError
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.io.infer import infer_roles
from mlimpact.io.load import Source

__all__ = ["AboveBudget", "server_options", "open_server_source", "ServerOptions", "server_source_text", "open_server_engine"]


class ServerOptions:
    """What this server offers, from its environment."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.roots = server_roots(env.get("MLIMPACT_DATA_DIRS"))
        db = env.get("MLIMPACT_DUCKDB")
        self.database = db if db and os.path.isfile(db) else None
        self.budget = memory_budget(env)

    @property
    def available(self) -> bool:
        return bool(self.roots or self.database)


def server_options(environ=None) -> ServerOptions:
    """The server's data folders, DuckDB database and memory budget."""
    return ServerOptions(environ)


def server_source_text(options: ServerOptions, *, path: str | None = None, query: str | None = None) -> str:
    """The engine source for an allowed path, or for a SELECT on the server's database (checked here)."""
    if query is not None:
        if options.database is None:
            raise InputError("this server has no DuckDB database to query (MLIMPACT_DUCKDB is not set)")
        if not re.match(r"^\s*(select|with|from)\b", query, re.IGNORECASE):
            raise InputError("type a SELECT query on the server's database (it is opened read-only)")
        return f"{options.database}:{query}"
    return str(allowed_path(path or "", options.roots))


def open_server_engine(options: ServerOptions, *, path: str | None = None, query: str | None = None,
                       changes=None, threshold: float = DEFAULT_THRESHOLD):
    """An allowed path or a query opened on DuckDB without reading its rows into memory (any size)."""
    eds = open_engine_dataset(server_source_text(options, path=path, query=query), "duckdb", changes,
                              threshold=threshold, lockdown=query is not None)
    # named as the user gave it: the server's own folders stay out of what the page shows
    eds.name = "query on " + os.path.basename(options.database) if query is not None else str(path).strip()
    return eds


class AboveBudget(InputError):
    """A server source too large to read into memory: the app counts it on DuckDB instead (its engine views)."""


def _size(n: int) -> str:
    """``2.5 GiB``, or ``120 MiB`` / ``12 KiB`` below a GiB (a budget set low for a test reads sensibly)."""
    unit, size = next((u, z) for u, z in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)) if n >= z or u == "KiB")
    return f"{n / size:.1f} {unit}"


def open_server_source(options: ServerOptions, *, path: str | None = None, query: str | None = None) -> Source:
    """Read an allowed path, or a query on the server's database, into a Source (within the budget)."""
    spec = resolve_source(server_source_text(options, path=path, query=query))
    name = "query on " + os.path.basename(options.database) if query is not None else str(path).strip()
    size = estimated_memory(spec)
    if size > options.budget:
        raise AboveBudget(f"{name}: about {_size(size)} in memory, above this app's budget of {_size(options.budget)} "
                         f"(MLIMPACT_MEMORY_BUDGET), so the pages count it where it lives, on DuckDB; to read it "
                         "into memory instead, narrow it (a sub-folder, a query with WHERE)")
    backend = DuckDBBackend(spec, lockdown=query is not None)
    try:
        frame = backend.query("SELECT * FROM src")
    finally:
        backend.close()
    if len(frame) == 0:
        raise InputError(f"{name}: no rows; check the path or the query's WHERE clause")
    return Source(name=name, frame=frame, reports=[], content_hash=spec.fingerprint, guess=infer_roles(frame),
                  notes=[f"read with DuckDB from the server ({spec.kind}, {len(spec.files) or 1:,} file(s))"])
