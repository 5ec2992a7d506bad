"""The "Large data" panel's metrics over time, counted on DuckDB: the Monitoring page's ranges, alerts and file.

A metric per day, week or month (per segment value, if chosen) from
:func:`mlimpact.monitoring.engine_series.engine_metrics_over_time`; the acceptable range of each series is the
Monitoring page's default (its reference period's mean ± 3 sd, :func:`mlimpact.monitoring.derive_ranges`, the
reference ending mid-span), and the ranges download as a checks file ``check --engine duckdb`` runs in cron.
"""

from __future__ import annotations

import streamlit as st

from mlimpact import monitoring as mon
from mlimpact.metrics import METRICS
from mlimpact.monitoring.engine_population import engine_reference_end
from mlimpact.monitoring.engine_series import engine_metrics_over_time
from mlimpact.report.charts import monitoring as mcharts
from mlimpact.report.scaled import prepare_engine

from . import safe

#: the Monitoring page's default range: the reference period's mean ± K sd
K = 3.0


def render(options, last: dict, engine) -> None:
    """The form, the series with its ranges and alerts, and the checks file; ``engine(options, asked)`` opens."""
    summary = last["summary"]
    st.subheader("Over time")
    if summary["columns"]["time"] is None:
        st.info("No time column was found; give one to see metrics over time.", icon=":material/schedule:")
        return
    with st.form("large_time_form"):
        c1, c2, c3 = st.columns(3)
        metric = c1.selectbox("Metric", list(summary["overall"]), key="large_metric")
        period = c2.radio("Bucket", list(mon.PERIODS), index=1, horizontal=True,
                          format_func=mon.PERIOD_LABELS.__getitem__, key="large_period")
        segment = c3.selectbox("Per segment", [mon.NO_SEGMENT] + summary["columns"]["segments"], key="large_per")
        go = st.form_submit_button("Compute over time on DuckDB", icon=":material/timeline:")
    if go:
        segment = None if segment == mon.NO_SEGMENT else segment
        with safe.stop_on_input_error(), st.spinner("Counting every bucket on DuckDB…"):
            last["series"] = _series(options, last["asked"], engine, metric, period, segment)
    if "series" in last:
        _show(last, *last["series"])


def _series(options, asked, engine, metric, period, segment):
    settings = mon.MonitorSettings(threshold=asked[3])
    with engine(options, asked) as eds:
        table = engine_metrics_over_time(eds, prepare_engine(eds), metrics=metric, period=period, segment=segment,
                                         settings=settings)
        end = engine_reference_end(eds, None)
    ranges = mon.derive_ranges(None, table, mode="reference", k=K, reference_end=end, settings=settings)
    return metric, segment, period, settings, end, ranges, mon.check_ranges(table, ranges, rule=settings.rule)


def _show(last, metric, segment, period, settings, end, ranges, status) -> None:
    summary = last["summary"]
    label = METRICS[metric].label
    alerts = mon.alert_table(status)
    said = mon.status_summary(status, n_alerts=len(alerts), n_ranges=len(ranges), mode="reference", min_count=None,
                              min_positives=None, task=summary["task"], rule=settings.rule).rstrip(".")
    st.caption(safe.md_escape(f"{said}. Acceptable range: each series' reference period (to {end:%Y-%m-%d}) mean ± "
                              f"{K:g} sd."))
    if segment is None:
        safe.chart(safe.lazy(mcharts.range_chart, status, label=label, reference_end=end), key="large_chart")
    else:
        domain = sorted(status["segment"].astype(str).unique())
        safe.chart(safe.lazy(mcharts.segments_overlay_chart, status, label=label, segment_column=segment, domain=domain),
                   key="large_overlay")
    st.markdown("**Alerts**")
    safe.table(alerts[mon.ALERT_COLUMNS], key="large_alerts", file_name="alerts.csv",
               header_lines=mon.alerts_header(summary["source"]["file"], metric=metric, period=period,
                                              rule=settings.rule, task=summary["task"], threshold=settings.threshold))
    if alerts.empty:
        st.caption(safe.md_escape(mon.describe_alerts(status, label=label) + "."))
    with st.expander("Every bucket"):
        safe.table(status[mon.OVER_TIME_COLUMNS], key="large_series", file_name="large_over_time.csv")
    roles = last.get("read", {}).get("roles")
    if roles is not None and len(ranges):
        toml_text = mon.checks_to_toml(roles, mon.slice_ranges(ranges), settings=settings,
                                       source=summary["source"]["file"])
        what = "the range" if len(ranges) == 1 else f"the {len(ranges)} ranges"
        st.download_button(f"Download {what} as checks.toml", toml_text, file_name="checks.toml",
                           mime="application/toml", key="large_toml", on_click="ignore", icon=":material/download:")
        st.caption("Run it unattended where the data lives: `python -m mlimpact check PATH --config checks.toml "
                   "--engine duckdb` exits 1 and prints one line per bucket out of range.")
