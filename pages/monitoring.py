"""Monitoring: is the model still working? Metrics over time against acceptable ranges, alerts and drift."""

import streamlit as st

from mlimpact import monitoring as mon
from mlimpact.metrics import METRICS, default_metrics
from mlimpact.report.charts import monitoring as mcharts
from ui import controls, links, monitor_inputs, monitor_views, safe, sidebar, slice_panel, state, widgets

ds, fs = sidebar.require_dataset("monitoring")
threshold = fs.threshold
st.title("Monitoring")

if ds.roles.time is None:
    st.info("This file has no time column, so there is nothing to track over time. Pick the column with the time "
            "of each prediction under “Columns and task” in the sidebar, or add one to the file.",
            icon=":material/schedule:")
    st.stop()
with safe.stop_on_input_error(safe.info):
    first, last = mon.time_span(ds)

h = ds.content_hash[:12]
links.page("mon", h)
metrics = default_metrics(ds)
saved = st.session_state[state.RANGES].get(ds.content_hash) or state.memo(
    ("mon_default", ds.content_hash, ds.roles), lambda: mon.default_setup(ds))  # its bucket suits the file

c1, c2, c3 = st.columns([2, 2, 2])
metric = c1.selectbox("Metric", metrics, index=widgets.index_of(metrics, saved.metric),
                      format_func=lambda m: METRICS[m].label, key=f"mon_metric_{h}")
periods = list(mon.PERIODS)
period = c2.radio("Bucket", periods, index=periods.index(saved.period), horizontal=True,
                  format_func=mon.PERIOD_LABELS.__getitem__, key=f"mon_period_{h}")
named = slice_panel.saved(state.file_key(ds.content_hash))
seg_options = [mon.NO_SEGMENT] + list(ds.roles.segments) + ([mon.SLICES] if named else [])
segment = c3.selectbox("Per segment", seg_options, index=widgets.index_of(seg_options, saved.segment),
                       key=f"mon_segment_{h}", help="Segment columns are chosen in the sidebar (Columns and task).")
segment = None if segment == mon.NO_SEGMENT else segment

ranges_in = controls.acceptable_range(ds, saved, first, last)
mode, reference_end = ranges_in["mode"], ranges_in["reference_end"]
checks = monitor_inputs.check_settings(ds, saved)

with safe.stop_on_input_error():
    settings = mon.MonitorSettings(threshold=float(threshold), **checks)
    key = ("monitoring", ds.content_hash, ds.roles, metric, period, segment, settings)
    with st.spinner("Computing metrics over time…"):
        table = state.memo(key + (tuple(named),), lambda: monitor_views.series(
            ds, fs.dataset, named, metric=metric, period=period, segment=segment, settings=settings))
        ranges = state.memo(key + (tuple(named),) + tuple(ranges_in.values()), lambda: mon.derive_ranges(
            ds, table, **ranges_in, settings=settings))
    status = mon.check_ranges(table, ranges, rule=settings.rule)
alerts = mon.alert_table(status)
monitor_views.prefetch_other_metrics(ds, fs.dataset, named, metrics, key + (tuple(named),), period=period,
                                     segment=segment, settings=settings, ranges_in=ranges_in)
setup = st.session_state[state.RANGES][ds.content_hash] = mon.MonitorSetup(
    metric, period=period, segment=segment, **ranges_in, settings=settings, ranges=ranges)

label = METRICS[metric].label
st.caption(safe.md_escape(mon.status_summary(status, n_alerts=len(alerts), n_ranges=len(ranges), mode=mode,
                                             task=ds.task, **checks)))
advice, better = mon.reference_advice(ranges, period)
if advice and mode != "fixed":
    st.warning(safe.md_escape(advice), icon=":material/rule:")
    monitor_inputs.reference_fix(ds, setup, better)
est = None if segment == mon.SLICES else monitor_views.estimated(ds, metric, period, segment, reference_end, settings,
                                                                 ranges)
for chart, chart_key in monitor_views.metric_charts(ds, status, named, label=label, segment=segment, mode=mode,
                                                   reference_end=reference_end, est=est):
    safe.chart(chart, key=chart_key)

st.subheader("Alerts")
safe.table(alerts[mon.ALERT_COLUMNS], key="mon_alerts", file_name="alerts.csv",
           header_lines=mon.alerts_header(ds.source, metric=metric, period=period, rule=checks["rule"], task=ds.task,
                                          threshold=threshold),
           column_config={c: st.column_config.NumberColumn(c, format="%.4f") for c in ("value", "low", "high")})
if alerts.empty:
    st.caption(safe.md_escape(mon.describe_alerts(status, label=label) + "."))
if segment != mon.SLICES:  # why: split by the segment columns of the whole file's rows
    monitor_views.why(ds, status, reference_end, settings)

monitor_inputs.checks_file(ds, mon.slice_ranges(ranges), settings, period, reference_end, estimated=est is not None,
                           slices=named if segment == mon.SLICES else ())

st.subheader("Drift against the reference period")
with safe.stop_on_input_error():
    drift = state.memo(("drift", ds.content_hash, ds.roles, period, reference_end),
                       lambda: mon.drift_over_time(ds, period=period, reference_end=reference_end))
what, name = mon.drift_names(ds)
d1, d2 = st.columns(2)
with d1:
    safe.chart(safe.lazy(mcharts.psi_chart, drift, what=what), key="mon_psi")
with d2:
    safe.chart(safe.lazy(mcharts.label_over_time_chart, drift, name=name, task=ds.task), key="mon_label")
