"""Overview: is the model good? Headline metrics with intervals, in plain words, and the main charts."""

import streamlit as st

from mlimpact.format import format_cell, sentence, subject_name
from mlimpact.metrics import METRICS, curves, default_metrics, evaluate
from mlimpact.report import charts
from mlimpact.report.summarize import metric_cell
from ui import safe, sidebar, state

ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Overview")

metrics = default_metrics(ds)
table = state.memo(("overall", ds.content_hash, ds.roles, threshold),
                   lambda: evaluate(ds, threshold=threshold, metrics=metrics))
cells = {r["metric"]: metric_cell(r) for r in table.to_dict("records")}
subject = subject_name(ds.roles.label, ds.roles.positive) if ds.task == "binary" else "positive"

HEADLINE = {"binary": ["recall", "precision", "roc_auc", "positive_rate"],
            "multiclass": ["accuracy", "balanced_accuracy", "macro_f1", "top_2_accuracy"],
            "regression": ["mae", "rmse", "r2", "mean_error"]}[ds.task]
HEADLINE = [m for m in HEADLINE if m in cells]
cols = st.columns(len(HEADLINE))
for col, name in zip(cols, HEADLINE, strict=True):
    with col:
        st.metric(METRICS[name].label, format_cell(name, cells[name]).split(" (")[0], border=True)
        safe_text = sentence(name, cells[name], subject=subject)
        st.caption(safe.md_escape(safe_text))

caption = f"{ds.n:,} rows"
if ds.task == "binary":
    caption += f" · threshold {threshold:g}"
if ds.n_excluded:
    caption += f" · {ds.n_excluded:,} rows excluded (see Data)"
st.caption(caption + " · 95% intervals in brackets")
for note in ds.notes:
    if "scores range" in note or "only one class" in note or "never occurs" in note:
        safe.warning(note)

with st.expander("All metrics with 95% intervals", expanded=False):
    shown = table.assign(label=table["metric"].map(lambda m: METRICS[m].label),
                         shown=[format_cell(m, c) for m, c in ((r["metric"], metric_cell(r))
                                                                for r in table.to_dict("records"))])
    safe.table(shown[["label", "metric", "value", "low", "high", "n", "note", "shown"]], key="overall_metrics",
               file_name="overall_metrics.csv", header_lines=[f"file: {ds.source}", f"threshold: {threshold:g}"])

if ds.task == "binary":
    pred = ds.predicted(threshold)
    names = [f"not {subject}", subject]
    conf = curves.confusion_table(ds.y, pred, names)
    tp = int(conf.loc[(conf.actual == subject) & (conf.predicted == subject), "rows"].iloc[0])
    fp = int(conf.loc[(conf.actual != subject) & (conf.predicted == subject), "rows"].iloc[0])
    pos = int(conf.loc[conf.actual == subject, "rows"].sum())
    c1, c2 = st.columns(2)
    with c1:
        if ds.score is not None:
            hist = state.memo(("hist", ds.content_hash, ds.roles),
                              lambda: curves.score_histogram(ds.y, ds.score, classes=tuple(names)))
            safe.chart(charts.score_distribution_chart(
                hist, threshold=threshold, subject=subject, recall=cells["recall"]["value"],
                false_positive_rate=cells["false_positive_rate"]["value"]))
    with c2:
        safe.chart(charts.confusion_chart(
            conf, title=f"Catches {tp:,} of {pos:,} {subject} cases; flags {fp:,} others",
            subtitle=f"Confusion matrix at threshold {threshold:g}; colour = share of the actual class"))
    if ds.score is not None and 0 < pos < ds.n:
        roc = state.memo(("roc", ds.content_hash, ds.roles), lambda: curves.roc_points(ds.y, ds.score))
        pr = state.memo(("pr", ds.content_hash, ds.roles), lambda: curves.pr_points(ds.y, ds.score))
        c3, c4 = st.columns(2)
        with c3:
            safe.chart(charts.roc_chart(roc, auc=cells.get("roc_auc", {})))
        with c4:
            safe.chart(charts.pr_chart(pr, ap=cells.get("average_precision", {}), base_rate=cells["base_rate"]["value"]))
        if ds.scores_are_probabilities:
            cal = state.memo(("cal", ds.content_hash, ds.roles), lambda: curves.calibration_table(ds.y, ds.score))
            c5, c6 = st.columns(2)
            with c5:
                safe.chart(charts.calibration_chart(cal))
            with c6:
                st.markdown("**Calibration by score bin**")
                safe.table(cal, key="calibration", file_name="calibration.csv")
    with st.expander("Confusion matrix as a table"):
        safe.table(conf, key="confusion", file_name="confusion_matrix.csv")
elif ds.task == "multiclass":
    pred = ds.predicted(threshold)
    per_class = curves.per_class_table(ds.y, pred, ds.classes)
    conf = curves.confusion_table(ds.y, pred, ds.classes)
    off = conf[conf.actual != conf.predicted].sort_values("rows", ascending=False).iloc[0]
    c1, c2 = st.columns(2)
    with c1:
        safe.chart(charts.per_class_chart(per_class))
    with c2:
        safe.chart(charts.confusion_chart(
            conf, title=(f"Most common mix-up: {off['actual']} sent to {off['predicted']} ({int(off['rows']):,} rows)"
                         if off["rows"] > 0 else "No mix-ups: every row is classified right"),
            subtitle="Colour = share of the actual class"))
    st.markdown("**Per class**")
    safe.table(per_class, key="per_class", file_name="per_class.csv")
    with st.expander("Confusion matrix as a table"):
        safe.table(conf, key="confusion", file_name="confusion_matrix.csv")
else:
    hist = curves.residual_histogram(ds.y, ds.prediction)
    pva = curves.predicted_vs_actual(ds.y, ds.prediction)
    c1, c2 = st.columns(2)
    with c1:
        safe.chart(charts.residual_chart(hist, mean_error=cells.get("mean_error", {})))
    with c2:
        safe.chart(charts.predicted_actual_chart(pva, r2=cells.get("r2", {})))
