"""The Monitoring page's estimate for rows without a label, and its "why did it alert?" section.

Streamlit-only: every number comes from :mod:`mlimpact.monitoring` (``estimated_over_time``, ``check_ranges``,
``alert_causes``, ``cause_sentence``), the same functions ``python -m mlimpact check`` runs.
"""

from __future__ import annotations

import hashlib
from functools import partial

import pandas as pd
import streamlit as st

from mlimpact import monitoring as mon
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS
from mlimpact.report.charts import monitoring as mcharts

from . import safe, state


def series(ds: Dataset, full: Dataset, named, *, metric: str, period: str, segment: str | None,
           settings: mon.MonitorSettings):
    """The metrics-over-time table the page checks: per segment value, or per saved slice (on the whole file)."""
    if segment == mon.SLICES:
        return mon.metrics_over_time_by_slice(full, named, metric=metric, period=period, settings=settings)
    return mon.metrics_over_time(ds, metrics=metric, period=period, segment=segment, settings=settings)


def prefetch_other_metrics(ds: Dataset, full: Dataset, named, metrics, key: tuple, *, period: str,
                           segment: str | None, settings: mon.MonitorSettings, ranges_in: dict) -> None:
    """What a metric change needs, computed in the background for the next few metrics while the page is read:
    the series, its ranges, the alerts' causes and the charts (``key``: the page's memo key with the metric as
    its fourth element; the same keys as the page's, so the click finds them). Not while another session's page
    runs (:func:`ui.state.quiet`)."""
    if not state.quiet():
        return
    steps = []
    for m in [m for m in metrics if m != key[3]][:state.PREFETCH_MAX]:  # the next few in the list
        k = key[:3] + (m,) + key[4:]
        done = ("prefetched",) + k + tuple(ranges_in.values())
        if done in state.warmed_up():  # this session scheduled it already
            continue
        state.warmed_up().add(done)

        def step(store, m=m, k=k):
            put = store.result
            table = put(k, lambda: series(ds, full, named, metric=m, period=period, segment=segment,
                                          settings=settings))
            ranges = put(k + tuple(ranges_in.values()), lambda: mon.derive_ranges(ds, table, **ranges_in,
                                                                                  settings=settings))
            status = mon.check_ranges(table, ranges, rule=settings.rule)
            if segment != mon.SLICES and _alerting(status).any():
                put(causes_key(ds, status, ranges_in["reference_end"], settings), lambda: mon.alert_causes(
                    ds, status, reference_end=ranges_in["reference_end"], settings=settings))
            if ds.unlabelled is None or segment == mon.SLICES:  # else the charts hold an estimate drawn on the page
                for chart, _ in metric_charts(ds, status, named, label=METRICS[m].label, segment=segment,
                                              mode=ranges_in["mode"], reference_end=ranges_in["reference_end"]):
                    safe.chart_step(chart, store)

        steps.append(step)
    state.prefetch_steps(ds.content_hash, steps)


def metric_charts(ds: Dataset, status: pd.DataFrame, named, *, label: str, segment: str | None, mode: str,
                  reference_end, est: pd.DataFrame | None = None) -> list:
    """The page's charts of one metric's status table, as (:func:`ui.safe.lazy_shared`, widget key) pairs."""
    shared = partial(safe.lazy_shared, ds.content_hash)
    if segment is None:
        return [(shared(mcharts.range_chart, status, label=label, estimated=est,
                        reference_end=None if mode == "fixed" else reference_end), "mon_chart")]
    domain = [s.name for s in named] if segment == mon.SLICES else ds.codes(segment)[1]
    out = [(shared(mcharts.segments_overlay_chart, status, label=label, segment_column=segment, domain=domain),
            "mon_overlay"),
           (shared(mcharts.small_multiples_chart, status, label=label, segment_column=segment, domain=domain),
            "mon_multiples")]
    if est is not None and len(est):
        out.append((shared(mcharts.segments_overlay_chart, est, label=f"Estimated {label.lower()}",
                           segment_column=segment, domain=domain), "mon_est_overlay"))
    return out


def _alerting(status: pd.DataFrame) -> pd.Series:
    return status["status"].isin(["below", "above"])


def causes_key(ds: Dataset, status: pd.DataFrame, reference_end, settings: mon.MonitorSettings) -> tuple:
    """The memo key of the alerts' causes of ``status`` (the page's and the background's)."""
    alerting = status.loc[_alerting(status)]
    return ("causes", ds.content_hash, ds.roles, settings, reference_end, tuple(status["metric"].unique()),
            tuple(status["segment_column"].dropna().unique()), tuple(status["period"].dropna().unique()),
            hashlib.sha1(pd.util.hash_pandas_object(alerting.astype(str), index=False).to_numpy().tobytes()).hexdigest())


def estimated(ds: Dataset, metric: str, period: str, segment: str | None, reference_end,
              settings: mon.MonitorSettings, ranges) -> pd.DataFrame | None:
    """The status table of ``metric`` estimated for the rows without a label (None when there is nothing to
    estimate), with one caption that says what it is and, when it cannot run, why."""
    if ds.unlabelled is None:
        return None
    n = len(ds.unlabelled)
    if metric not in mon.ESTIMATED_METRICS:
        st.caption(f"{n:,} rows have no label yet. Their {', '.join(mon.ESTIMATED_METRICS)} can be estimated from "
                   "the scores: pick one of those metrics to see the estimate.")
        return None
    problem = mon.estimation_problem(ds, reference_end)
    if problem:
        st.caption(safe.md_escape(f"{n:,} rows have no label yet; no estimate: {problem}"))
        return None
    key = ("estimated", ds.content_hash, ds.roles, metric, period, segment, settings, reference_end)
    with st.spinner("Estimating performance for the rows without a label…"):
        table = state.memo(key, lambda: mon.estimated_over_time(ds, metrics=[metric], period=period, segment=segment,
                                                                 reference_end=reference_end, settings=settings))
    status = mon.check_ranges(table, ranges, rule=settings.rule)
    alerts = int(status["status"].isin(["below", "above"]).sum())
    st.caption(f"{n:,} rows have no label yet: their {metric.replace('_', ' ')} is estimated from the scores "
               "(calibrated on the labelled reference rows; orange, dashed), "
               f"{alerts} estimated bucket{'s' if alerts != 1 else ''} out of range. The estimate assumes the "
               "relation between score and outcome has not changed since the reference period.")
    with st.expander("Estimated confusion counts of the rows without a label"):
        confusion = state.memo(key + ("confusion",), lambda: mon.estimated_confusion(
            ds, period=period, segment=segment, reference_end=reference_end, settings=settings))
        safe.table(confusion, key="mon_est_confusion", file_name="estimated_confusion.csv")
        st.caption("Expected true/false positives and negatives per bucket (flagged rows are known; which of them "
                   "are positives is estimated), with their standard deviations.")
    return status


def why(ds: Dataset, status: pd.DataFrame, reference_end, settings: mon.MonitorSettings) -> None:
    """Per alert incident, the sentence that says which slices explain it, and the slices as a table."""
    if not _alerting(status).any():
        return
    key = causes_key(ds, status, reference_end, settings)
    with st.spinner("Looking for the slices behind each alert…"):
        causes = state.memo(key, lambda: mon.alert_causes(ds, status, reference_end=reference_end, settings=settings))
    st.markdown("**Why did it alert?** Each alert against the reference period, split by the other segment columns "
                "(a slice is named only when its change stands out beyond noise, Benjamini–Hochberg at 5%).")
    keys = ["metric", "segment_column", "segment", "period", "buckets", "side"]
    for _, rows in causes.groupby(keys, dropna=False, sort=False):  # one per incident: a handful
        st.text(mon.cause_sentence(rows.iloc[0], rows))
    named = causes[causes["column"].notna()]
    if len(named):
        safe.table(named[["buckets", "segment", "column", "value", "n", "value_incident", "value_reference",
                          "share_of_drop", "q_value"]], key="mon_causes", file_name="alert_causes.csv")
