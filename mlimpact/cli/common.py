"""What every command shares: loading with the role options, writing output, exit codes."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

__all__ = ["EXIT_OK", "EXIT_CHECK_FAILED", "EXIT_BAD_INPUT", "EXIT_INTERNAL_ERROR", "json_text", "load_dataset", "load_file", "write"]

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR = 0, 1, 2, 3

ROLE_OPTIONS = ("label", "score", "prediction", "time", "positive", "task")


def load_dataset(args: argparse.Namespace, *, quiet: bool = False):
    """Load ``args.file`` with the role options given on the command line (the rest inferred)."""
    changes = {k: getattr(args, k) for k in ROLE_OPTIONS if getattr(args, k, None) is not None}
    if getattr(args, "segment", None):
        changes["segments"] = tuple(args.segment)
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

    source = read_source(file)
    roles = apply_roles(source.guess, changes)
    if not quiet:
        for line in inferred_lines(source, roles, changes):
            print(line, file=sys.stderr)
    return dataset_of(source, roles)


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
