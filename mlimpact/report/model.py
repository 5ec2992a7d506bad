"""What a report is made of: the settings that shaped its numbers, its sections, the report itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mlimpact.io.decision import DEFAULT_THRESHOLD

__all__ = ["ReportSettings", "Section", "Report"]


@dataclass(frozen=True)
class ReportSettings:
    """Everything that shaped the numbers; printed in the report's provenance.

    ``costs``, ``lanes`` and ``monitoring`` are optional settings objects from the Impact,
    Difficulty and Monitoring pages (their own frozen dataclasses); each adds a section.
    """

    threshold: float = DEFAULT_THRESHOLD
    segments: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    seed: int = 0
    costs: object | None = None
    impact_options: tuple[tuple[str, object], ...] = ()  # the Impact page's scale, unit, rule, segment
    lanes: object | None = None
    monitoring: object | None = None
    slices: bool = True
    named_slices: tuple = ()  # NamedSlice: the slices the user named, each against the rest
    max_values: int = 20  # values shown per segment column; the rest folded into "Other"


@dataclass
class Section:
    """A titled part of the report: sentences, tables and charts (aggregates only)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    charts: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class Report:
    title: str
    source: str
    summary: list[str]
    sections: list[Section]
    provenance: dict
    data: dict  # the JSON summary the numbers came from
