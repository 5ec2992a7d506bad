"""The report's sections beyond the headline: weak slices, impact, compare, difficulty lanes, monitoring."""

from __future__ import annotations

import pandas as pd

from mlimpact import compare as cmp
from mlimpact import difficulty as dif
from mlimpact import impact as imp
from mlimpact import monitoring as mon
from mlimpact.errors import InputError
from mlimpact.format import format_cell, subject_name
from mlimpact.impact import format_money
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS, default_metrics
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

    money = _money_settings(dataset, settings)
    if money is None:
        return None
    costs, scale, unit = money
    options = dict(settings.impact_options)
    segments = [c for c in dataset.roles.segments if c in dataset.frame.columns]
    segment = options.get("segment") or (segments[0] if segments else None)
    rule = options.get("rule", imp.default_rule(dataset))
    try:
        return imp.analyze_impact(dataset, costs, threshold=settings.threshold, lanes=imp.lanes_from(settings.lanes),
                                 rule=(rule or "").strip() or None, segment=segment, scale=scale,
                                 unit=unit, seed=settings.seed, time_budget_s=None)
    except InputError:
        return None


def _money_settings(dataset: Dataset, settings: ReportSettings):
    """(costs, scale, unit) of the Impact page (its settings, or its defaults); None without a binary score."""
    if dataset.task != "binary" or dataset.score is None:
        return None
    options = dict(settings.impact_options)
    costs = settings.costs if settings.costs is not None else imp.default_costs(dataset)
    scale = {"whole file": None, "per month": "month", "per year": "year"}.get(
        options.get("scale"), "month" if imp.detect_period(dataset) is not None else None)
    return costs, scale, options.get("unit", "")


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


def _compare_section(dataset: Dataset, settings: ReportSettings, segments) -> Section:
    """The Compare page's comparison of every model in the file, on the report's threshold and seed: side by side
    with 95% intervals, paired differences against the first model, wins per value of the first segment column,
    the value under the Impact section's cost model, the page's chart of the differences and its sentences."""
    section = Section("Which option should we pick? Compare models")
    money = _money_settings(dataset, settings)
    costs, scale, unit = money if money is not None else (None, None, "")
    segment = next((c for c in segments if c in dataset.frame.columns), None)
    try:  # deterministic: no time budget, the report's seed
        comp = cmp.compare_models(dataset, threshold=settings.threshold, segment=segment, costs=costs, scale=scale,
                                  seed=settings.seed, time_budget_s=None)
    except InputError as exc:
        section.paragraphs.append(f"Not compared: {exc}")
        return section
    section.paragraphs += cmp.comparison_summary(comp, unit=unit)
    section.paragraphs += [f"Note: {n}." for n in comp.notes]
    assumptions = [a for a in cmp.decision_assumptions(dataset.source, comp, settings.threshold)
                   if comp.task == "binary" or not a.startswith("threshold:")]  # no threshold without scores
    section.paragraphs.append("Assumptions: " + "; ".join(assumptions) + ".")
    from mlimpact.report.charts import segment_difference_chart  # altair: heavy, imported on use

    metric, challenger = comp.metrics[0], cmp.challengers(comp)[0]  # the page's defaults for its chart
    section.charts.append((f"{METRICS[metric].label}: {challenger} minus {comp.reference}, overall and per segment",
                           segment_difference_chart(comp.differences, metric=metric, label=METRICS[metric].label,
                                                    model=challenger, reference=comp.reference)))
    side = cmp.decision_numbers(comp, unit=unit).set_index("option").T.rename_axis(index="criterion")
    section.tables.append(("Side by side (95% intervals in brackets)", side.reset_index().rename_axis(columns=None)))
    section.tables.append((f"Paired differences against {comp.reference} (the same rows for both; DeLong for ROC "
                           "AUC, paired bootstrap otherwise; significant: the 95% interval excludes 0)",
                           _differences_table(comp)))
    if comp.value is not None:
        per = {"month": ", per month", "year": ", per year"}.get(comp.value.attrs.get("scale") or "", "")
        section.tables.append((f"Value under the same cost model as the Impact section{per} ("
                               + "; ".join(costs.describe()) + ")", _value_table(comp, unit)))
    if comp.segment:
        section.tables.append((f"Where each model wins, by {comp.segment} (the winner when the paired 95% interval "
                               "excludes no difference)", _wins_table(comp)))
    return section


def _differences_table(comp) -> pd.DataFrame:
    """The paired differences over all rows: metric labels, four decimals, p-values in two significant digits."""
    d = cmp.overall_differences(comp)
    out = pd.DataFrame({"metric": [METRICS[m].label for m in d["metric"]]})
    if len(comp.models) > 2:
        out["model"] = d["model"].to_numpy()
    for c, name in (("value_reference", "reference value"), ("value_model", "model value"),
                    ("difference", "difference"), ("low", "95% low"), ("high", "95% high")):
        out[name] = d[c].to_numpy(dtype=float).round(4)
    out["p-value"] = [f"{p:.2g}" if pd.notna(p) else "" for p in d["p_value"]]
    out["significant"] = ["yes" if (lo > 0 or hi < 0) else "no" for lo, hi in zip(d["low"], d["high"], strict=True)]
    out["winner"] = d["winner"].to_numpy()
    return out


def _value_table(comp, unit: str) -> pd.DataFrame:
    """Each model's value under the cost model (money, with 95% intervals), at the threshold and at its best."""
    v = comp.value

    def money(value, low, high) -> str:
        if pd.isna(value):
            return ""
        interval = f" ({format_money(low, unit=unit)} to {format_money(high, unit=unit)})" \
            if pd.notna(low) and pd.notna(high) else ""
        return format_money(value, unit=unit) + interval

    return pd.DataFrame({
        "model": v["model"].to_numpy(), "point": v["point"].to_numpy(), "threshold": v["threshold"].round(4),
        "flagged": v["flagged"].to_numpy(),
        "value (95% interval)": [money(*r) for r in zip(v["value"], v["low"], v["high"], strict=True)],
        "worth vs flagging nothing": [money(x, None, None) for x in v["value_vs_flag_none"]],
        f"difference vs {comp.reference} (95% interval)": [
            money(*r) for r in zip(v["difference"], v["diff_low"], v["diff_high"], strict=True)]})


def _wins_table(comp) -> pd.DataFrame:
    """:meth:`Comparison.wins` with metric labels as column names (``metric (model)`` with several challengers)."""
    wins = comp.wins()

    def label(column: str) -> str:
        name, sep, rest = column.partition(" (")
        return METRICS[name].label + sep + rest if name in METRICS else column

    return wins.rename(columns={c: label(c) for c in wins.columns if c != "segment"})


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


def _named_slices_section(dataset: Dataset, settings: ReportSettings) -> Section:
    """The slices the user named, each against the rest of the rows, one table per slice (BH over them all)."""
    from mlimpact.slices import (  # on use: only reports with slices
        named_slice_line,
        slice_summary,
        slice_table,
    )

    metrics = list(settings.metrics) if settings.metrics else default_metrics(dataset)
    section = Section("Slices you named: each against the rest")
    summary = slice_summary(dataset, settings.named_slices, threshold=settings.threshold, metrics=metrics,
                            seed=settings.seed)
    section.paragraphs += [named_slice_line(s) for s in summary]
    table = slice_table(dataset, settings.named_slices, threshold=settings.threshold, metrics=metrics,
                        seed=settings.seed)
    for s in settings.named_slices:  # a few slices
        rows = table[table["name"] == s.name].drop(columns=["name", "expression", "note"]).round(4)
        section.tables.append((f"{s.name}: {s.expression}", rows.reset_index(drop=True)))
    return section
