"""The report's sections beyond the headline: weak slices, impact, difficulty lanes, monitoring."""

from __future__ import annotations

import pandas as pd

from mlimpact import difficulty as dif
from mlimpact import impact as imp
from mlimpact import monitoring as mon
from mlimpact.errors import InputError
from mlimpact.format import format_cell, subject_name
from mlimpact.impact import format_money
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS
from mlimpact.metrics.leading import MAIN_METRIC
from mlimpact.report.model import ReportSettings, Section
from mlimpact.slices import default_error_kind, search_weak_slices, slice_sentence

__all__ = []


def _worst_segment(data: dict, metric: str | None) -> str | None:

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

    from mlimpact.report.charts import segment_bar_chart  # altair: heavy, imported when a chart is made

    rows = pd.DataFrame([{column: s["value"], "n": s["n"], **{k: s["metrics"][metric].get(k)
                                                              for k in ("value", "low", "high")},
                          "significantly_worse": s["metrics"][metric].get("significantly_worse", False)}
                         for s in items])
    m = METRICS[metric]
    return segment_bar_chart(rows, metric=metric, label=m.label, column=column, overall=overall.get("value"),
                             domain=sorted(rows[column].astype(str)), direction=m.direction)


def _slices_section(dataset: Dataset, settings: ReportSettings) -> Section:

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
        return imp.analyze_impact(dataset, costs, threshold=settings.threshold, lanes=imp.lanes_from(settings.lanes),
                                 rule=(rule or "").strip() or None, segment=segment, scale=scale,
                                 unit=options.get("unit", ""), seed=settings.seed, time_budget_s=None)
    except InputError:
        return None


def _impact_section(report) -> Section:

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
    """The lanes set on the Difficulty page, or its default (the most automation under the target derived from
    the model's own error at the report's threshold, as the page starts)."""

    if dif.unavailable_reason(dataset):
        return None
    section = Section("How hard are the inputs? Automation and review")
    used = dif.lanes_in_use(dataset, settings.lanes, threshold=settings.threshold)
    curve, point, lanes = used.curve, used.point, used.lanes
    section.paragraphs.append(dif.summary_sentence(point))
    section.paragraphs.append(f"Lanes: {lanes}. Cases sent to review are assumed to be decided correctly.")
    subject = subject_name(dataset.roles.label, dataset.roles.positive) if dataset.task == "binary" else "positive"
    table = dif.lane_table(curve, lanes, threshold=settings.threshold if dataset.task == "binary" else None,
                           subject=subject)
    section.tables.append(("Lanes", table.round(4)))
    return section


def _monitoring_section(dataset: Dataset, settings: ReportSettings) -> Section:
    """Alerts of the Monitoring page's ranges (or its defaults: the bucket chosen from the file, per first
    segment, reference-derived)."""

    section = Section("Is it still working? Monitoring")
    setup = settings.monitoring
    try:
        if setup is None:
            metric, checks = MAIN_METRIC[dataset.task], mon.MonitorSettings(threshold=settings.threshold)
            segment = dataset.roles.segments[0] if dataset.roles.segments else None
            period = mon.default_period(dataset, metric=metric, segment=segment, settings=checks)  # fits the file
            setup = mon.MonitorSetup(metric, period=period, segment=segment, settings=checks)
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
    if setup.mode != "fixed" and not setup.ranges and getattr(ranges, "short", ()):
        section.paragraphs.append(mon.reference_advice(ranges, setup.period)[0])
    how = {"reference": f"mean ± {setup.k:g} standard deviations of the reference period's buckets",
           "relative": f"the reference value ± {100 * setup.tolerance:g}%", "fixed": "fixed limits"}[setup.mode]
    section.paragraphs.append(f"{label} per {mon.PERIODS.get(setup.period, setup.period)}"
                              + (f" and {setup.segment}" if setup.segment else "")
                              + f"; acceptable range: {how}; a bucket is out of range when "
                              + ("its 95% interval lies entirely outside it" if setup.settings.rule == "interval"
                                 else "its value lies outside it")
                              + f" (a bucket with {setup.settings.too_small_words(dataset.task)} is not checked).")
    from mlimpact.report.charts import range_chart, segments_overlay_chart  # altair: heavy, imported on use

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
