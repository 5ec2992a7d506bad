"""The one loader: files (or uploaded bytes) in, a :class:`Source` and a :class:`Dataset` out.

The CLI, the app, the report and the notebook API all load through here, so a file reads the same
everywhere: the same readers, the same combining of several files, the same content hash, the same
role inference and the same rule for applying a user's role choices.

>>> from mlimpact.io.samples import sample_path
>>> dataset, source = load(sample_path("fraud"), {"segments": ("region",)})
>>> dataset.task, dataset.roles.label, source.guess.roles.segments[:2]
('binary', 'is_fraud', ('region', 'merchant_category'))
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io.combine import combine_frames
from mlimpact.io.dataset import Dataset, build_dataset
from mlimpact.io.infer import infer_roles
from mlimpact.io.read import LoadReport, read_predictions
from mlimpact.io.roles import RoleGuess, Roles

__all__ = ["Source", "read_source", "apply_roles", "dataset_of", "load", "inferred_lines"]


@dataclass
class Source:
    """What was read: one file, several files combined, or a sample; roles inferred, not yet applied."""

    name: str
    frame: pd.DataFrame
    reports: list[LoadReport]
    content_hash: str
    guess: RoleGuess
    notes: list[str] = field(default_factory=list)
    is_sample: bool = False


def _one(item) -> tuple[str, pd.DataFrame, LoadReport]:
    if isinstance(item, tuple):  # (name, bytes): an upload
        name, data = item
        frame, report = read_predictions(data, name=name)
        return name, frame, report
    path = Path(item)
    if not path.exists():
        raise InputError(f"{item}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{item}: is a folder; give the predictions file")
    frame, report = read_predictions(path, name=path.name)
    return path.name, frame, report


def read_source(items, *, is_sample: bool = False) -> Source:
    """Read a path, or a list of paths or ``(name, bytes)`` uploads, into one :class:`Source`.

    Several files with the same columns are stacked, with different columns joined on a shared id
    (:func:`mlimpact.io.combine.combine_frames`). The content hash of several files is the sha256 of
    their hashes in order, so the same uploads give the same hash in every session.
    """
    trace.count("read_source")
    items = list(items) if isinstance(items, Sequence) and not isinstance(items, (str, tuple)) else [items]
    if not items:
        raise InputError("no file given; choose a predictions file")
    read = [_one(item) for item in items]
    reports = [r for _, _, r in read]
    if len(read) == 1:
        name, frame, report = read[0]
        content_hash, notes = report.content_hash, list(report.notes)
    else:
        frame, combine_notes = combine_frames([(name, frame) for name, frame, _ in read])
        name = ", ".join(n for n, _, _ in read)
        content_hash = hashlib.sha256("".join(r.content_hash for r in reports).encode()).hexdigest()
        notes = [f"{r.source}: {n}" for r in reports for n in r.notes] + combine_notes
    return Source(name=name, frame=frame, reports=reports, content_hash=content_hash, guess=infer_roles(frame),
                  notes=notes, is_sample=is_sample)


def apply_roles(guess: RoleGuess, changes: Mapping | None) -> Roles:
    """The inferred roles with the user's ``changes`` (role name -> column) applied.

    Choosing a label re-infers the task and the positive class, unless those are given too.
    """
    changes = dict(changes or {})
    if "label" in changes and "task" not in changes:
        changes["task"] = None
        changes.setdefault("positive", None)
    return guess.roles.replace(**changes)


def inferred_lines(source: Source, roles: Roles, changes: Mapping | None) -> list[str]:
    """One line per role that was inferred rather than given: ``inferred label='y' (why)``."""
    given = set(changes or ())
    if "label" in given:  # the task and positive class are re-inferred for the chosen label, not guessed here
        given |= {"task", "positive"}
    return [f"inferred {k}={getattr(roles, k)!r} ({why})" if hasattr(roles, k) else f"note: {why}"
            for k, why in source.guess.reasons.items() if k not in given]


def dataset_of(source: Source, roles: Roles) -> Dataset:
    """Validate ``roles`` on the source's frame and encode it (:func:`build_dataset`)."""
    return build_dataset(source.frame, roles, source=source.name, content_hash=source.content_hash,
                         notes=source.notes)


def load(items, changes: Mapping | None = None) -> tuple[Dataset, Source]:
    """Read ``items`` (a path, or paths / ``(name, bytes)`` pairs), apply role ``changes``, validate.

    Returns the Dataset and the Source it came from (load reports, inferred roles and why).
    """
    source = read_source(items)
    return dataset_of(source, apply_roles(source.guess, changes)), source
