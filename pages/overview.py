"""Overview: is the model good? Headline metrics with intervals, in plain words, and the main charts."""

import streamlit as st

from mlimpact import report
from mlimpact.metrics import curves
from mlimpact.report import charts
from ui import computed, safe, sidebar, state

ds, fs = sidebar.require_dataset("overview")
threshold = fs.threshold
st.title("Overview")

table = computed.overall(ds, threshold)
cells = report.metric_cells(table)
subject = report.subject_of(ds)

headline = report.headline_rows(ds.task, cells, subject)
for col, number in zip(st.columns(len(headline)), headline, strict=True):
    with col:
        st.metric(number["label"], number["value"], border=True)
        st.caption(safe.md_escape(number["sentence"]))
st.caption(report.rows_caption(ds, threshold))
for note in report.data_warnings(ds.notes):
    safe.warning(note)

with st.expander("All metrics with 95% intervals", expanded=False):
    safe.table(report.all_metrics_table(table), key="overall_metrics", file_name="overall_metrics.csv",
               header_lines=[f"file: {ds.source}", f"threshold: {threshold:g}"])

if ds.task == "binary":
    names = [f"not {subject}", subject]
    conf = curves.confusion_table(ds.y, ds.predicted(threshold), names)
    c1, c2 = st.columns(2)
    with c1:
        if ds.score is not None:
            hist = state.memo(("hist", ds.content_hash, ds.roles),
                              lambda: curves.score_histogram(ds.y, ds.score, classes=tuple(names)))
            safe.chart(safe.lazy(charts.score_distribution_chart,
                hist, threshold=threshold, subject=subject, recall=cells["recall"]["value"],
                false_positive_rate=cells["false_positive_rate"]["value"]))
    with c2:
        safe.chart(safe.lazy(charts.confusion_chart,
            conf, title=report.confusion_title(conf, subject),
            subtitle=f"Confusion matrix at threshold {threshold:g}; colour = share of the actual class"))
    if ds.score is not None and 0 < report.confusion_counts(conf, subject)["positives"] < ds.n:
        roc = state.memo(("roc", ds.content_hash, ds.roles), lambda: curves.roc_points(ds.y, ds.score))
        pr = state.memo(("pr", ds.content_hash, ds.roles), lambda: curves.pr_points(ds.y, ds.score))
        c3, c4 = st.columns(2)
        with c3:
            safe.chart(safe.lazy(charts.roc_chart, roc, auc=cells.get("roc_auc", {})))
        with c4:
            safe.chart(safe.lazy(charts.pr_chart, pr, ap=cells.get("average_precision", {}), base_rate=cells["base_rate"]["value"]))
        if ds.scores_are_probabilities:
            cal = state.memo(("cal", ds.content_hash, ds.roles), lambda: curves.calibration_table(ds.y, ds.score))
            c5, c6 = st.columns(2)
            with c5:
                safe.chart(safe.lazy(charts.calibration_chart, cal))
            with c6:
                st.markdown("**Calibration by score bin**")
                safe.table(cal, key="calibration", file_name="calibration.csv")
    with st.expander("Confusion matrix as a table"):
        safe.table(conf, key="confusion", file_name="confusion_matrix.csv")
elif ds.task == "multiclass":
    pred = ds.predicted(threshold)
    per_class = curves.per_class_table(ds.y, pred, ds.classes)
    conf = curves.confusion_table(ds.y, pred, ds.classes)
    c1, c2 = st.columns(2)
    with c1:
        safe.chart(safe.lazy(charts.per_class_chart, per_class))
    with c2:
        safe.chart(safe.lazy(charts.confusion_chart, conf, title=report.mixup_title(conf),
                                          subtitle="Colour = share of the actual class"))
    st.markdown("**Per class**")
    safe.table(per_class, key="per_class", file_name="per_class.csv")
    with st.expander("Confusion matrix as a table"):
        safe.table(conf, key="confusion", file_name="confusion_matrix.csv")
else:
    c1, c2 = st.columns(2)
    with c1:
        safe.chart(safe.lazy(charts.residual_chart, curves.residual_histogram(ds.y, ds.prediction),
                                         mean_error=cells.get("mean_error", {})))
    with c2:
        safe.chart(safe.lazy(charts.predicted_actual_chart, curves.predicted_vs_actual(ds.y, ds.prediction),
                                                 r2=cells.get("r2", {})))

computed.warm_up(ds, threshold)  # a large file: Segments' weak slices and Compare start in the background
