"""The meeting report: one self-contained HTML file (charts inlined as SVG) and a Markdown version.

Aggregates only, never raw rows, so it stays small whatever the input size. Every value that
comes from the file is escaped (HTML or Markdown), charts are rendered locally by vl-convert,
and nothing is loaded from the network: the file opens anywhere, offline.

The app's "Download report" and ``python -m mlimpact summarize --format html`` both call
:func:`build_report`, so the numbers are the same as the JSON summary's.
"""

from __future__ import annotations

import datetime as _dt

import pandas as pd

from mlimpact import __version__
from mlimpact.compare import model_columns
from mlimpact.format import format_cell, sentence, subject_name
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS, default_metrics
from mlimpact.metrics.leading import MAIN_METRIC
from mlimpact.report.model import Report, ReportSettings, Section
from mlimpact.report.sections import (
    _compare_section,
    _difficulty_section,
    _impact,
    _impact_section,
    _monitoring_section,
    _named_slices_section,
    _segment_chart,
    _slices_section,
    _worst_segment,
)
from mlimpact.report.summarize import summarize

__all__ = ["build_report", "ReportSettings", "Section", "Report"]


# ----------------------------------------------------------------------------- building
def build_report(dataset: Dataset, settings: ReportSettings | None = None) -> Report:
    """Assemble every section the settings allow, from the same functions as the pages and the CLI."""
    settings = settings or ReportSettings()
    segments = settings.segments if settings.segments is not None else dataset.roles.segments
    data = summarize(dataset, threshold=settings.threshold, segments=list(segments),
                     metrics=list(settings.metrics) if settings.metrics else default_metrics(dataset),
                     seed=settings.seed, max_values=settings.max_values)
    headline = _headline_section(dataset, data)
    sections = [headline]
    seg_section = _segments_section(dataset, data, segments)
    if seg_section.tables:
        sections.append(seg_section)
    if settings.slices:
        sections.append(_slices_section(dataset, settings))
    if settings.named_slices:
        sections.append(_named_slices_section(dataset, settings))
    impact = _impact(dataset, settings)
    if impact is not None:
        sections.append(_impact_section(impact))
    if len(model_columns(dataset)) >= 2:  # the Compare page's models, side by side
        sections.append(_compare_section(dataset, settings, segments))
    difficulty = _difficulty_section(dataset, settings)
    if difficulty is not None:
        sections.append(difficulty)
    if dataset.roles.time is not None:
        sections.append(_monitoring_section(dataset, settings))
    if impact is not None:  # the executive summary: money first, as the Impact page says it
        summary = list(impact.summary)
    else:
        summary = list(headline.paragraphs[:3])
        worst = _worst_segment(data, MAIN_METRIC.get(dataset.task))
        if worst:
            summary.append(worst)
    return Report(title=f"Model report: {dataset.source}", source=dataset.source, summary=summary, sections=sections,
                  provenance=_provenance(dataset, settings, segments), data=data)


def _headline_section(dataset: Dataset, data: dict) -> Section:
    subject = subject_name(dataset.roles.label, dataset.roles.positive) if dataset.task == "binary" else "positive"
    headline = Section("Is it good? Headline metrics")
    rows = []
    for name, cell in data["overall"].items():
        rows.append({"metric": METRICS[name].label, "value (95% interval)": format_cell(name, cell),
                     "note": cell.get("note") or ""})
        if name in _HEADLINE.get(dataset.task, ()):
            headline.paragraphs.append(sentence(name, cell, subject=subject))
    headline.tables.append(("All metrics", pd.DataFrame(rows)))
    return headline


def _segments_section(dataset: Dataset, data: dict, segments) -> Section:
    section = Section("For whom? Metrics per segment")
    main_metric = MAIN_METRIC.get(dataset.task)
    shown = _SEGMENT_METRICS.get(dataset.task, ())
    for column in segments:
        items = [s for s in data["segments"] if s["column"] == column]
        if not items:
            continue
        table = pd.DataFrame([{"value": s["value"], "rows": s["n"],
                               **{METRICS[m].label: format_cell(m, c) + (" ⚠" if c.get("significantly_worse") else "")
                                  for m, c in s["metrics"].items() if m in shown}}
                              for s in items])
        section.tables.append((f"By {column} (⚠ significantly worse than the rest, BH 5%)", table))
        if main_metric and main_metric in items[0]["metrics"]:
            section.charts.append((f"{main_metric} by {column}", _segment_chart(items, column, main_metric,
                                                                               data["overall"][main_metric])))
    return section


def _provenance(dataset: Dataset, settings: ReportSettings, segments) -> dict:
    return {
        "file": dataset.source, "sha256": dataset.content_hash, "rows in file": dataset.n_total,
        "rows used": dataset.n, "rows excluded": dataset.n_excluded,
        **{f"excluded: {k}": v for k, v in dataset.exclusions.items()},
        "task": dataset.task, "threshold": settings.threshold if dataset.task == "binary" else "n/a",
        **{f"column: {k}": (", ".join(v) if isinstance(v, list) else v)
           for k, v in dataset.roles.to_dict().items() if v not in (None, [], ())},
        "segments analysed": ", ".join(segments) or "none", "bootstrap seed": settings.seed,
        "mlimpact version": __version__,
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


_HEADLINE = {"binary": ("recall", "precision", "roc_auc"), "multiclass": ("accuracy", "macro_f1"),
             "regression": ("mae", "mean_error", "r2")}
_SEGMENT_METRICS = {"binary": ("recall", "precision", "roc_auc", "false_positive_rate"),
                    "multiclass": ("accuracy", "macro_f1"), "regression": ("mae", "mean_error")}


# ----------------------------------------------------------------------------- rendering


