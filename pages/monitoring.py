"""Monitoring: is the model still working? Metrics over time against acceptable ranges, alerts and drift."""

import streamlit as st

from mlimpact import monitoring as mon
from mlimpact.errors import InputError
from mlimpact.format import subject_name
from mlimpact.metrics import METRICS, default_metrics
from mlimpact.monitoring import checks_to_toml
from mlimpact.report.charts import monitoring as mcharts
from ui import safe, sidebar, state

ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Monitoring")

if ds.roles.time is None:
    st.info("This file has no time column, so there is nothing to track over time. Pick the column with the time "
            "of each prediction under “Columns and task” in the sidebar, or add one to the file.",
            icon=":material/schedule:")
    st.stop()
try:
    first, last = mon.time_span(ds)
except InputError as exc:
    safe.info(exc)
    st.stop()

h = ds.content_hash[:12]
metrics = default_metrics(ds)
segments = list(ds.roles.segments)
saved = st.session_state[state.RANGES].get(ds.content_hash) or mon.MonitorSetup(
    {"binary": "recall", "multiclass": "accuracy", "regression": "mae"}[ds.task],
    segment=segments[0] if segments else None)
NONE = "(none)"

c1, c2, c3 = st.columns([2, 2, 2])
metric = c1.selectbox("Metric", metrics, index=metrics.index(saved.metric) if saved.metric in metrics else 0,
                      format_func=lambda m: METRICS[m].label, key=f"mon_metric_{h}")
periods = list(mon.PERIODS)
period = c2.radio("Bucket", periods, index=periods.index(saved.period), horizontal=True,
                  format_func=lambda p: {"D": "Day", "W": "Week (ISO)", "M": "Month"}[p], key=f"mon_period_{h}")
seg_options = [NONE] + segments
segment = c3.selectbox("Per segment", seg_options,
                       index=seg_options.index(saved.segment) if saved.segment in seg_options else 0,
                       key=f"mon_segment_{h}", help="Segment columns are chosen in the sidebar (Columns and task).")
segment = None if segment == NONE else segment

MODES = {"reference": "Reference period: mean ± k sd", "relative": "Reference value ± tolerance",
         "fixed": "Fixed min / max"}
r1, r2, r3 = st.columns([3, 2, 2])
mode = r1.radio("Acceptable range", list(MODES), index=list(MODES).index(saved.mode),
                format_func=MODES.get, key=f"mon_mode_{h}",
                help="Reference: each series' own range from its buckets in the reference period. "
                     "Fixed: the same range for every segment value.")
k, tolerance, minimum, maximum = saved.k, saved.tolerance, saved.minimum, saved.maximum
reference_end = saved.reference_end or mon.default_reference_end(ds).date()
if mode == "fixed":
    minimum = r2.number_input("Minimum", value=minimum, format="%.4f", key=f"mon_min_{h}", placeholder="none")
    maximum = r3.number_input("Maximum", value=maximum, format="%.4f", key=f"mon_max_{h}", placeholder="none")
else:
    if mode == "reference":
        k = r2.number_input("k (standard deviations)", 0.5, 10.0, float(k), step=0.5, key=f"mon_k_{h}")
    else:
        tolerance = r2.number_input("Tolerance (share of the reference value)", 0.0, 10.0, float(tolerance),
                                    step=0.05, key=f"mon_tol_{h}")
    reference_end = r3.date_input("Reference period ends", value=reference_end, min_value=first.date(),
                                  max_value=last.date(), key=f"mon_ref_{h}",
                                  help="Buckets that end on or before this date form the reference period.")
with st.expander("Check settings"):
    s1, s2, s3 = st.columns(3)
    rule = s1.radio("Out of range when", ["interval", "point"], index=["interval", "point"].index(
        saved.settings.rule), key=f"mon_rule_{h}",
        format_func={"interval": "the 95% interval is entirely outside", "point": "the value is outside"}.get)
    min_count = s2.number_input("Too small below (rows)", 0, 10_000_000, saved.settings.min_count,
                                key=f"mon_min_count_{h}")
    min_positives = s3.number_input("… or below (actual positives, recall-like metrics)", 0, 1_000_000,
                                    saved.settings.min_positives, key=f"mon_min_pos_{h}",
                                    disabled=ds.task != "binary")

try:
    settings = mon.MonitorSettings(threshold=float(threshold), rule=rule, min_count=int(min_count),
                                   min_positives=int(min_positives))
    key = ("monitoring", ds.content_hash, ds.roles, metric, period, segment, settings)
    with st.spinner("Computing metrics over time…"):
        table = state.memo(key, lambda: mon.metrics_over_time(ds, metrics=metric, period=period, segment=segment,
                                                              settings=settings))
        ranges = state.memo(key + (mode, k, tolerance, minimum, maximum, reference_end), lambda: mon.derive_ranges(
            ds, table, mode=mode, k=k, tolerance=tolerance, minimum=minimum, maximum=maximum,
            reference_end=reference_end, settings=settings))
    status = mon.check_ranges(table, ranges, rule=settings.rule)
except InputError as exc:
    safe.error(exc)
    st.stop()
alerts = mon.alert_table(status)
st.session_state[state.RANGES][ds.content_hash] = mon.MonitorSetup(
    metric, period=period, segment=segment, mode=mode, k=k, tolerance=tolerance, minimum=minimum, maximum=maximum,
    reference_end=reference_end, settings=settings, ranges=ranges)

label = METRICS[metric].label
counts = status["status"].value_counts()
checked = int(sum(counts.get(s, 0) for s in ("ok", "below", "above")))
summary = (f"{len(alerts)} of {checked} checked buckets out of range; {int(counts.get('too small', 0))} too small "
           f"to check (fewer than {int(min_count)} rows"
           + (f" or {int(min_positives)} positives)" if ds.task == "binary" else ")"))
if not checked and int(counts.get("too small", 0)):
    summary = ("Every bucket is too small to check: pick a longer bucket, or lower the limits under Check settings. "
               + summary)
elif mode == "fixed" and not ranges:
    summary = "Enter a minimum, a maximum or both to check against. " + summary
elif not ranges:
    summary = ("No range could be derived: the reference period needs at least 3 buckets big enough to check. "
               "Move its end later, or pick a shorter bucket. ") + summary
st.caption(safe.md_escape(summary))

if segment is None:
    safe.chart(mcharts.range_chart(status, label=label, reference_end=None if mode == "fixed" else reference_end),
               key="mon_chart")
else:
    domain = ds.codes(segment)[1]
    safe.chart(mcharts.segments_overlay_chart(status, label=label, segment_column=segment, domain=domain),
               key="mon_overlay")
    safe.chart(mcharts.small_multiples_chart(status, label=label, segment_column=segment, domain=domain),
               key="mon_multiples")

st.subheader("Alerts")
shown = ["metric", "segment_column", "segment", "bucket", "value", "low", "high", "min", "max", "status", "n",
         "positives"]
header = [f"file: {ds.source}", f"metric: {metric}", f"bucket: {period}", f"rule: {rule}"]
if ds.task == "binary":
    header.append(f"threshold: {threshold:g}")
safe.table(alerts[shown], key="mon_alerts", file_name="alerts.csv", header_lines=header,
           column_config={c: st.column_config.NumberColumn(c, format="%.4f") for c in ("value", "low", "high")})
if alerts.empty:
    st.caption("No bucket is out of range.")

with st.expander(f"The {len(ranges)} acceptable ranges, as a checks file for cron and CI"):
    toml_text = checks_to_toml(ds.roles, ranges, settings=settings, source=ds.source)
    st.code(toml_text, language="toml")
    st.caption("Run it unattended: `python -m mlimpact check FILE --config checks.toml` exits 1 and prints one line "
               "per bucket out of range (the same alerts as above, on the same file).")
st.download_button("Download checks.toml", toml_text, file_name="checks.toml", mime="application/toml",
                   key="mon_toml", on_click="ignore", icon=":material/download:", disabled=not ranges)

st.subheader("Drift against the reference period")
try:
    drift = state.memo(("drift", ds.content_hash, ds.roles, period, reference_end),
                       lambda: mon.drift_over_time(ds, period=period, reference_end=reference_end))
except InputError as exc:
    safe.error(exc)
    st.stop()
what = {"binary": "score" if ds.score is not None else "predicted class",
        "multiclass": "top-class probability" if ds.proba is not None else "predicted class",
        "regression": "prediction"}[ds.task]
name = subject_name(ds.roles.label, ds.roles.positive) if ds.task == "binary" else str(ds.roles.label)
d1, d2 = st.columns(2)
with d1:
    safe.chart(mcharts.psi_chart(drift, what=what), key="mon_psi")
with d2:
    safe.chart(mcharts.label_over_time_chart(drift, name=name, task=ds.task), key="mon_label")
