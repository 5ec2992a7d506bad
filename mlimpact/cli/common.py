"""What every command shares: loading with the role options, writing output, exit codes."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

__all__ = ["EXIT_OK", "EXIT_CHECK_FAILED", "EXIT_BAD_INPUT", "EXIT_INTERNAL_ERROR", "json_text", "load_dataset", "load_file", "write",
           "engine_options", "load_engine_dataset", "engine_dataset_or_none",
           "chosen_engine"]

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR = 0, 1, 2, 3

ROLE_OPTIONS = ("label", "score", "prediction", "time", "positive", "task")


def load_dataset(args: argparse.Namespace, *, quiet: bool = False):
    """Load ``args.file`` with the role options given on the command line (the rest inferred)."""
    changes = {k: getattr(args, k) for k in ROLE_OPTIONS if getattr(args, k, None) is not None}
    if getattr(args, "segment", None):
        changes["segments"] = tuple(args.segment)
    in_memory_only(args)
    dataset = load_file(args.file, changes, quiet=quiet)
    if not quiet and dataset.task == "binary" and dataset.score is not None and hasattr(args, "threshold"):
        from mlimpact.io.decision import threshold_note  # on use: start-up

        note = threshold_note(dataset.score, args.threshold)
        if note:
            print(f"note: {note}", file=sys.stderr)
    return dataset


def load_file(file: str, changes: dict, *, quiet: bool = False):
    """Load as :func:`mlimpact.io.load.load` does; print what was inferred (not given) to stderr."""
    from mlimpact.io.load import apply_roles, dataset_of, inferred_lines, read_source  # on use: start-up

    source = _engine_source(file) or read_source(file)
    roles = apply_roles(source.guess, changes)
    if not quiet:
        for line in inferred_lines(source, roles, changes):
            print(line, file=sys.stderr)
    return dataset_of(source, roles)


def _engine_source(file: str):
    """A folder or a DuckDB table/query, read through DuckDB into a Source (None for a plain file)."""
    from mlimpact.engine.sources import DUCKDB_SUFFIXES  # on use: start-up

    lowered = str(file).lower()
    if not Path(file).is_dir() and not any(s + ":" in lowered for s in DUCKDB_SUFFIXES):
        return None
    from mlimpact.engine.dataset import read_frame  # noqa: I001 - on use: duckdb only for these sources
    from mlimpact.io.infer import infer_roles  # on use: start-up
    from mlimpact.io.load import Source  # on use: start-up

    frame, spec = read_frame(file)
    return Source(name=str(file), frame=frame, reports=[], content_hash=spec.fingerprint, guess=infer_roles(frame),
                  notes=list(spec.notes))


def chosen_engine(args: argparse.Namespace) -> str:
    """``--engine`` resolved (``auto``: by the source's size); says on stderr when auto chose an engine."""
    from mlimpact.engine.dataset import choose_engine  # on use: start-up

    engine = choose_engine(args.file, args.engine)
    if args.engine == "auto" and engine != "memory":
        print(f"note: --engine auto chose {engine}: the source is estimated above the memory budget "
              "(MLIMPACT_MEMORY_BUDGET)", file=sys.stderr)
    return engine


def engine_options(p: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--spark-master``."""
    p.add_argument("--engine", choices=["auto", "memory", "duckdb", "spark"], default="auto",
                   help="where to compute: memory (numpy), duckdb (embedded; files and folders beyond memory) or "
                        "spark (local[2], a master URL or Spark Connect); auto: memory when the source's estimated "
                        "in-memory size is at most 2 GiB (MLIMPACT_MEMORY_BUDGET), else duckdb")
    p.add_argument("--spark-master", default=None,
                   help="Spark master URL or sc:// Spark Connect URL (default: SPARK_REMOTE, else local[2])")


def in_memory_only(args: argparse.Namespace) -> None:
    """For what computes in memory in this version (``review-sample``, ``summarize --verdicts`` and reports):
    ``--engine duckdb`` reads the source through DuckDB into memory when its estimate fits the budget; anything
    else says what to do."""
    engine = getattr(args, "engine", "auto")
    if engine == "memory" or engine == "auto":
        return
    from mlimpact.engine.dataset import estimated_memory, memory_budget  # noqa: I001 - on use: start-up
    from mlimpact.engine.sources import resolve_source  # on use: start-up
    from mlimpact.errors import InputError  # on use: start-up

    command = getattr(args, "command", "this command")
    if engine == "spark":
        raise InputError(f"`{command}` computes in memory in this version and reads through DuckDB, not Spark: use "
                         "--engine duckdb (or memory); `summarize`, `check`, `slices` and `impact` run on Spark")
    budget = memory_budget()
    size = estimated_memory(resolve_source(args.file))
    if size > budget:
        raise InputError(f"{args.file}: about {size / 2**30:.1f} GiB in memory, above the budget of "
                         f"{budget / 2**30:.1f} GiB (MLIMPACT_MEMORY_BUDGET); `{command}` computes in memory in this "
                         "version: narrow the source (a sub-folder, or db.duckdb:SELECT ... WHERE ...), or run "
                         "`summarize`, `check`, `slices` or `impact`, which compute on the engine")


def load_engine_dataset(args: argparse.Namespace, engine: str, *, quiet: bool = False):
    """Open ``args.file`` on ``engine`` with the role options; print what was inferred to stderr."""
    from mlimpact.engine.dataset import open_engine_dataset  # on use: duckdb/pyspark only when asked for

    changes = {k: getattr(args, k) for k in ROLE_OPTIONS if getattr(args, k, None) is not None}
    if getattr(args, "segment", None):
        changes["segments"] = tuple(args.segment)
    eds = open_engine_dataset(args.file, engine, changes, threshold=float(args.threshold),
                              spark_master=getattr(args, "spark_master", None))
    if not quiet:
        for line in eds.inferred:
            print(line, file=sys.stderr)
    return eds


def engine_dataset_or_none(args: argparse.Namespace, engine: str):
    """:func:`load_engine_dataset`, or None when only the memory path can compute it (a binary task without a
    score): DuckDB then reads the source into memory within the budget; Spark says so in one line."""
    from mlimpact.engine.dataset import NotOnEngine  # noqa: I001 - on use: start-up
    from mlimpact.errors import InputError  # on use: start-up

    try:
        return load_engine_dataset(args, engine)
    except NotOnEngine as exc:
        if engine == "spark":
            raise InputError(f"{exc}") from None
        return None


def write(text: str, out: str | None) -> None:
    """Write ``text`` to the file ``out``, or to standard output."""
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def json_text(document) -> str:
    """Strict JSON (RFC 8259) of a command's document: NaN and ±inf become ``null``, never ``NaN`` tokens.

    >>> json_text({"value": float("nan"), "high": [1.0, float("inf")]})
    '{\\n  "value": null,\\n  "high": [\\n    1.0,\\n    null\\n  ]\\n}\\n'
    """
    return json.dumps(_finite(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def slice_options(p: argparse.ArgumentParser) -> None:
    """``--slice EXPR`` (repeatable) and ``--slices slices.toml``."""
    p.add_argument("--slice", action="append", default=[], metavar="EXPR",
                   help='a slice to follow, e.g. \'channel == "online" and amount > 500\' (repeatable; see the '
                        "README's slice grammar)")
    p.add_argument("--slices", action="append", default=[], metavar="FILE",
                   help="slices.toml: named slices ([[slice]] tables with name and expression), e.g. saved in the app")


def given_slices(args: argparse.Namespace, data=None, *, eds=None) -> list:
    """The slices of ``--slice`` and ``--slices``, checked against ``data``'s columns when given; a value that does
    not occur is said on stderr, for ``data`` in memory or an engine's ``eds``."""
    if not getattr(args, "slice", None) and not getattr(args, "slices", None):
        return []
    from mlimpact.slices import resolve_slices, slice_warnings  # on use: start-up

    slices = resolve_slices(args.slice, args.slices, data=data)
    if data is not None:
        lines = slice_warnings(slices, data)
    elif eds is not None:
        from mlimpact.slices.engine_named import engine_slice_warnings  # on use: the engine path only

        lines = engine_slice_warnings(eds, slices)
    else:
        lines = []
    for line in lines:  # zero rows is a result, said once
        print(f"note: {line}", file=sys.stderr)
    return slices
