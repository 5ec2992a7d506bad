"""The meeting report: one self-contained HTML file (charts inlined as SVG) and a Markdown version.

Aggregates only, never raw rows, so it stays small whatever the input size. Every value that
comes from the file is escaped (HTML or Markdown), charts are rendered locally by vl-convert,
and nothing is loaded from the network: the file opens anywhere, offline.

The app's "Download report" and ``python -m mlimpact summarize --format html`` both call
:func:`build_report`, so the numbers are the same as the JSON summary's.
"""

from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass, field

import pandas as pd

from mlimpact import __version__
from mlimpact.io import Dataset, markdown_text
from mlimpact.io.decision import DEFAULT_THRESHOLD

__all__ = ["ReportSettings", "Section", "Report", "build_report", "report_markdown", "report_html"]


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


# ----------------------------------------------------------------------------- building
def build_report(dataset: Dataset, settings: ReportSettings | None = None) -> Report:
    """Assemble every section the settings allow, from the same functions as the pages and the CLI."""
    from mlimpact.format import format_cell, sentence, subject_name
    from mlimpact.metrics import METRICS, default_metrics
    from mlimpact.report.summarize import summarize

    settings = settings or ReportSettings()
    segments = settings.segments if settings.segments is not None else dataset.roles.segments
    data = summarize(dataset, threshold=settings.threshold, segments=list(segments),
                     metrics=list(settings.metrics) if settings.metrics else default_metrics(dataset),
                     seed=settings.seed, max_values=settings.max_values)
    subject = subject_name(dataset.roles.label, dataset.roles.positive) if dataset.task == "binary" else "positive"

    sections: list[Section] = []
    headline = Section("Is it good? Headline metrics")
    rows = []
    for name, cell in data["overall"].items():
        rows.append({"metric": METRICS[name].label, "value (95% interval)": format_cell(name, cell),
                     "note": cell.get("note") or ""})
        if name in _HEADLINE.get(dataset.task, ()):
            headline.paragraphs.append(sentence(name, cell, subject=subject))
    headline.tables.append(("All metrics", pd.DataFrame(rows)))
    sections.append(headline)

    seg_section = Section("For whom? Metrics per segment")
    main_metric = _MAIN.get(dataset.task)
    for column in segments:
        items = [s for s in data["segments"] if s["column"] == column]
        if not items:
            continue
        table = pd.DataFrame([{"value": s["value"], "rows": s["n"],
                               **{METRICS[m].label: format_cell(m, c) + (" ⚠" if c.get("significantly_worse") else "")
                                  for m, c in s["metrics"].items() if m in _SEGMENT_METRICS.get(dataset.task, ())}}
                              for s in items])
        seg_section.tables.append((f"By {column} (⚠ significantly worse than the rest, BH 5%)", table))
        if main_metric and items and main_metric in items[0]["metrics"]:
            seg_section.charts.append((f"{main_metric} by {column}", _segment_chart(items, column, main_metric,
                                                                                   data["overall"][main_metric])))
    if seg_section.tables:
        sections.append(seg_section)

    if settings.slices:
        sections.append(_slices_section(dataset, settings))
    impact = _impact(dataset, settings)
    if impact is not None:
        sections.append(_impact_section(impact))
    difficulty = _difficulty_section(dataset, settings)
    if difficulty is not None:
        sections.append(difficulty)
    if dataset.roles.time is not None:
        sections.append(_monitoring_section(dataset, settings))

    if impact is not None:  # the executive summary: money first, as the Impact page says it
        summary = list(impact.summary)
    else:
        summary = list(headline.paragraphs[:3])
        worst = _worst_segment(data, main_metric)
        if worst:
            summary.append(worst)
    provenance = {
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
    return Report(title=f"Model report: {dataset.source}", source=dataset.source, summary=summary, sections=sections,
                  provenance=provenance, data=data)


_HEADLINE = {"binary": ("recall", "precision", "roc_auc"), "multiclass": ("accuracy", "macro_f1"),
             "regression": ("mae", "mean_error", "r2")}
_MAIN = {"binary": "recall", "multiclass": "accuracy", "regression": "mae"}
_SEGMENT_METRICS = {"binary": ("recall", "precision", "roc_auc", "false_positive_rate"),
                    "multiclass": ("accuracy", "macro_f1"), "regression": ("mae", "mean_error")}


def _worst_segment(data: dict, metric: str | None) -> str | None:
    from mlimpact.format import format_cell
    from mlimpact.metrics import METRICS

    if not metric:
        return None
    flagged = [s for s in data["segments"] if s["metrics"].get(metric, {}).get("significantly_worse")]
    if not flagged:
        return f"No segment is significantly worse than the rest on {METRICS[metric].label.lower()}."
    higher = METRICS[metric].direction == "higher"
    s = sorted(flagged, key=lambda s: s["metrics"][metric]["value"], reverse=not higher)[0]
    return (f"Weakest segment: {s['column']} = {s['value']}, {METRICS[metric].label.lower()} "
            f"{format_cell(metric, s['metrics'][metric])} on {s['n']:,} rows.")


def _segment_chart(items: list[dict], column: str, metric: str, overall: dict):
    from mlimpact.metrics import METRICS
    from mlimpact.report.charts import segment_bar_chart

    rows = pd.DataFrame([{column: s["value"], "n": s["n"], **{k: s["metrics"][metric].get(k)
                                                              for k in ("value", "low", "high")},
                          "significantly_worse": s["metrics"][metric].get("significantly_worse", False)}
                         for s in items])
    m = METRICS[metric]
    return segment_bar_chart(rows, metric=metric, label=m.label, column=column, overall=overall.get("value"),
                             domain=sorted(rows[column].astype(str)), direction=m.direction)


def _slices_section(dataset: Dataset, settings: ReportSettings) -> Section:
    from mlimpact.errors import InputError
    from mlimpact.slices import default_error_kind, search_weak_slices, slice_sentence

    section = Section("Where does it fail? Weak slices")
    kind = default_error_kind(dataset)
    try:
        result = search_weak_slices(dataset, kind=kind, threshold=settings.threshold, time_budget_s=30.0)
    except InputError as exc:
        section.paragraphs.append(f"Not searched: {exc}")
        return section
    section.paragraphs.append(f"{result.n_evaluated:,} slices evaluated; {len(result.slices)} clearly worse than "
                              "the rest (Benjamini–Hochberg at 5%).")
    section.paragraphs += [slice_sentence(r, overall=result.overall_error_rate, kind=kind)
                           for r in result.slices.to_dict("records")]
    return section


def _impact(dataset: Dataset, settings: ReportSettings):
    """The Impact page's report (its costs and options, or its defaults); None when there is no binary score."""
    from mlimpact import impact as imp
    from mlimpact.errors import InputError

    if dataset.task != "binary" or dataset.score is None:
        return None
    options = dict(settings.impact_options)
    costs = settings.costs if settings.costs is not None else imp.default_costs(dataset)
    scale = {"whole file": None, "per month": "month", "per year": "year"}.get(
        options.get("scale"), "month" if imp.detect_period(dataset) is not None else None)
    segments = [c for c in dataset.roles.segments if c in dataset.frame.columns]
    segment = options.get("segment") or (segments[0] if segments else None)
    rule = options.get("rule", imp.default_rule(dataset))
    try:
        return imp.impact_report(dataset, costs, threshold=settings.threshold, lanes=imp.lanes_from(settings.lanes),
                                 rule=(rule or "").strip() or None, segment=segment, scale=scale,
                                 unit=options.get("unit", ""), seed=settings.seed, time_budget_s=None)
    except InputError:
        return None


def _impact_section(report) -> Section:
    from mlimpact.impact import format_money

    section = Section("What is it worth? Business impact")
    section.paragraphs += [f"Assumption: {a}" for a in report.assumptions()]

    def money(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for c in out.columns:
            if c in ("value", "low", "high", "value_vs_flag_none", "difference", "diff_low", "diff_high", "lost",
                     "best_value", "value_at_current"):
                out[c] = [format_money(v, unit=report.unit) if pd.notna(v) else "" for v in out[c]]
        return out

    keep = [c for c in ("description", "threshold", "flagged", "reviewed", "value", "low", "high",
                        "value_vs_flag_none") if c in report.points]
    section.tables.append(("Operating points", money(report.points[keep]).round(4)))
    section.tables.append(("Against the alternatives",
                           money(report.baselines.drop(columns=["threshold"], errors="ignore")).round(4)))
    section.tables.append(("Sensitivity: each money term ±50%, one at a time",
                           money(report.sensitivity.drop(columns=["setting"], errors="ignore")).round(4)))
    if report.segments is not None:
        section.tables.append((f"Where value is lost, by {report.segments.attrs.get('column', 'segment')}",
                               money(report.segments).round(4)))
    return section


def _difficulty_section(dataset: Dataset, settings: ReportSettings) -> Section | None:
    """The lanes chosen on the Difficulty page (or its default: most automation at the default target)."""
    from mlimpact import difficulty as dif
    from mlimpact.format import subject_name

    if dif.unavailable_reason(dataset):
        return None
    section = Section("How hard are the inputs? Automation and review")
    used = dif.lanes_in_use(dataset, settings.lanes)
    curve, point, lanes = used.curve, used.point, used.lanes
    section.paragraphs.append(dif.summary_sentence(point))
    section.paragraphs.append(f"Lanes: {lanes}. Cases sent to review are assumed to be decided correctly.")
    subject = subject_name(dataset.roles.label, dataset.roles.positive) if dataset.task == "binary" else "positive"
    table = dif.lane_table(curve, lanes, threshold=settings.threshold if dataset.task == "binary" else None,
                           subject=subject)
    section.tables.append(("Lanes", table.round(4)))
    return section


def _monitoring_section(dataset: Dataset, settings: ReportSettings) -> Section:
    """Alerts of the Monitoring page's ranges (or its defaults: weekly, per first segment, reference-derived)."""
    from mlimpact import monitoring as mon
    from mlimpact.errors import InputError
    from mlimpact.metrics import METRICS
    from mlimpact.report.charts import range_chart, segments_overlay_chart

    section = Section("Is it still working? Monitoring")
    setup = settings.monitoring
    if setup is None:
        setup = mon.MonitorSetup(_MAIN[dataset.task],
                                 segment=dataset.roles.segments[0] if dataset.roles.segments else None,
                                 settings=mon.MonitorSettings(threshold=settings.threshold))
    try:
        table = mon.metrics_over_time(dataset, metrics=setup.metric, period=setup.period, segment=setup.segment,
                                      settings=setup.settings)
        ranges = setup.ranges or mon.derive_ranges(dataset, table, mode=setup.mode, k=setup.k,
                                                   tolerance=setup.tolerance, minimum=setup.minimum,
                                                   maximum=setup.maximum, reference_end=setup.reference_end,
                                                   settings=setup.settings)
        status = mon.check_ranges(table, ranges, rule=setup.settings.rule)
    except InputError as exc:
        section.paragraphs.append(f"Not checked: {exc}")
        return section
    label = METRICS[setup.metric].label
    section.paragraphs.append(mon.describe_alerts(status, label=label) + ".")
    how = {"reference": f"mean ± {setup.k:g} standard deviations of the reference period's buckets",
           "relative": f"the reference value ± {100 * setup.tolerance:g}%", "fixed": "fixed limits"}[setup.mode]
    section.paragraphs.append(f"{label} per {mon.PERIODS.get(setup.period, setup.period)}"
                              + (f" and {setup.segment}" if setup.segment else "")
                              + f"; acceptable range: {how}; a bucket is out of range when its 95% interval lies "
                              "entirely outside it (buckets with too few rows are not checked).")
    if setup.segment is None:
        section.charts.append((f"{label} over time", range_chart(status, label=label)))
    else:
        section.charts.append((f"{label} over time by {setup.segment}", segments_overlay_chart(
            status, label=label, segment_column=setup.segment, domain=dataset.codes(setup.segment)[1])))
    alerts = mon.alert_table(status)
    if len(alerts):
        cols = [c for c in ("segment", "bucket", "value", "low", "high", "min", "max", "status", "n") if c in alerts]
        section.tables.append(("Alerts", alerts[cols].round(4)))
    return section


# ----------------------------------------------------------------------------- rendering


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(markdown_text(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(markdown_text("" if pd.isna(v) else v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def report_markdown(report: Report) -> str:
    """The report as Markdown; every value from the file is escaped (no links, images or HTML)."""
    lines = [f"# Model report: {markdown_text(report.source)}", "", "## Summary", ""]
    lines += [f"- {markdown_text(s)}" for s in report.summary]
    for section in report.sections:
        lines += ["", f"## {markdown_text(section.title)}", ""]
        lines += [markdown_text(p) + "\n" for p in section.paragraphs]
        for caption, table in section.tables:
            lines += [f"**{markdown_text(caption)}**", "", _md_table(table), ""]
    lines += ["", "## Provenance", "", _md_table(pd.DataFrame({"setting": list(report.provenance),
                                                                 "value": list(report.provenance.values())}))]
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1.2em;color:#1f2328;line-height:1.45}h1{font-size:1.9em}h2{margin-top:1.8em;border-bottom:1px solid #d0d7de;
padding-bottom:.2em}table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.92em}th,td{border:1px solid #d0d7de;
padding:.3em .6em;text-align:left}th{background:#f6f8fa}.summary li{margin:.3em 0;font-size:1.08em}
figure{margin:1em 0}figcaption{color:#57606a;font-size:.9em}.prov td:first-child{color:#57606a}"""


def _svg(chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.properties(width=640).to_json())


def report_html(report: Report, *, charts: bool = True) -> str:
    """One self-contained HTML page: escaped text, inline SVG charts, no scripts, no external URLs."""
    esc = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(report.title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{esc(report.title)}</h1>", "<h2>Summary</h2>",
             "<ul class='summary'>", *[f"<li>{esc(s)}</li>" for s in report.summary], "</ul>"]
    for section in report.sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        parts += [f"<p>{esc(p)}</p>" for p in section.paragraphs]
        if charts:
            for caption, chart in section.charts:
                parts.append(f"<figure>{_svg(chart)}<figcaption>{esc(caption)}</figcaption></figure>")
        for caption, table in section.tables:
            parts.append(f"<p><strong>{esc(caption)}</strong></p>")
            parts.append(table.to_html(index=False, escape=True, na_rep="", border=0))
    parts.append("<h2>Provenance</h2><table class='prov'>")
    parts += [f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>" for k, v in report.provenance.items()]
    parts.append("</table></body></html>\n")
    return "\n".join(parts)

