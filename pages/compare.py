"""Compare: which option should we pick? Every model side by side, paired tests, robustness, a decision table."""

import pandas as pd
import streamlit as st

from mlimpact import compare, impact
from mlimpact.errors import InputError
from mlimpact.metrics import METRICS
from mlimpact.report.charts import model_segment_chart, model_time_chart, segment_difference_chart
from ui import safe, sidebar, state

ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Compare")
h = ds.content_hash[:12]

models = compare.model_columns(ds)
if len(models) < 2:
    safe.info(f"This file has one model ({models[0] if models else 'none'}). To compare models, pick other models' "
              "score or prediction columns in the sidebar (Columns and task → Other models' scores), or upload "
              "several files joined on a shared id. Meanwhile it is shown against a stand-in for having no model"
              + ("; the Impact page compares it in money with flagging nothing, everything, random flags and a "
                 "rule." if ds.task == "binary" else "."))

segments = [c for c in ds.roles.segments if c in ds.frame.columns]
preferred = (st.session_state.get(state.SEGMENT_COLUMNS) or [None])[0]
c1, c2 = st.columns(2)
segment = c1.selectbox("Compare per value of", segments or ["(no segment columns)"],
                       index=segments.index(preferred) if preferred in segments else 0, key=f"cmp_segment_{h}",
                       disabled=not segments)
segment = segment if segments else None

costs = None
scale = None
if ds.task == "binary" and ds.score is not None:
    costs = st.session_state[state.COSTS].get(ds.content_hash) or impact.default_costs(ds)
    options = st.session_state[state.COSTS].get(f"{ds.content_hash}:options", {})
    scale = {"per month": "month", "per year": "year"}.get(options.get("scale", "per month"))
    if scale and impact.detect_period(ds) is None:
        scale = None
unit = st.session_state[state.COSTS].get(f"{ds.content_hash}:options", {}).get("unit", "")

key = ("compare", ds.content_hash, ds.roles, float(threshold), segment, costs, scale)
try:
    with st.spinner("Comparing the models on the same rows…"):
        comp = state.memo(key, lambda: compare.compare_models(ds, threshold=threshold, segment=segment, costs=costs,
                                                              scale=scale, time_budget_s=2.0))
except InputError as exc:
    safe.error(exc)
    st.stop()

metric = c2.selectbox("Metric for the charts", list(comp.metrics), format_func=lambda m: METRICS[m].label,
                      key=f"cmp_metric_{h}")
label = METRICS[metric].label
for note in comp.notes:
    st.caption(safe.md_escape(note))

summary = compare.comparison_summary(comp, unit=unit)
st.subheader("In short")
st.code("\n".join(summary), language=None, wrap_lines=True)

st.markdown("**Side by side** (95% intervals in brackets)")
numbers = compare.decision_numbers(comp, unit=unit)
header = [f"file: {ds.source}", f"threshold: {threshold:g}", f"rows compared: {comp.n_rows:,}",
          f"reference: {comp.reference}"] + [f"summary: {s}" for s in summary]
if costs is not None:
    header += costs.describe()
safe.table(numbers, key="cmp_numbers", file_name="compare_side_by_side.csv", header_lines=header)

st.markdown("**Paired differences against** " + safe.md_escape(comp.reference)
            + " (the same rows for both; DeLong for ROC AUC, paired bootstrap otherwise)")
FOUR = st.column_config.NumberColumn(format="%.4f")
config = {c: FOUR for c in ("value", "low", "high", "value_reference", "value_model", "difference", "overall",
                            "worst_segment_value", "best_segment_value", "segment_spread", "segment_sd",
                            "worst_period_value", "period_spread")}
config["p_value"] = st.column_config.NumberColumn(format="%.2g")
overall_diff = comp.differences[comp.differences["segment"] == compare.ALL_ROWS]
safe.table(overall_diff, key="cmp_differences", file_name="compare_differences.csv", header_lines=header,
           column_config=config)

challengers = [m for m in comp.models if m != comp.reference]
challenger = challengers[0]
if len(challengers) > 1:
    challenger = st.selectbox("Challenger shown in the charts", challengers, key=f"cmp_challenger_{h}")
safe.chart(segment_difference_chart(comp.differences, metric=metric, label=label, model=challenger,
                                    reference=comp.reference),
           key="cmp_diff_chart", title_space=130)
if comp.segments is not None:
    safe.chart(model_segment_chart(comp.segments, metric=metric, label=label, column=segment,
                                   models=list(comp.models)),
               key="cmp_segment_chart", title_space=130)
else:
    st.info("Pick segment columns in the sidebar to compare per segment.", icon=":material/info:")
if comp.segment:
    st.markdown("**Where each model wins** (the winner when the paired 95% interval excludes no difference)")
    safe.table(comp.wins(), key="cmp_wins", file_name="compare_wins.csv", header_lines=header)
    with st.expander("Every model per segment", expanded=False):
        safe.table(comp.segments, key="cmp_segments", file_name="compare_segments.csv", header_lines=header,
                   column_config=config)

st.markdown("**Robustness**: worst segment, spread across segments and across time periods")
if comp.over_time is not None:
    safe.chart(model_time_chart(comp.over_time, metric=metric, label=label, models=list(comp.models)),
               key="cmp_time_chart")
safe.table(comp.robustness, key="cmp_robustness", file_name="compare_robustness.csv", header_lines=header,
           column_config=config)

if comp.value is not None:
    st.markdown("**Value under the same cost model** (from the Impact page: "
                + safe.md_escape("; ".join(costs.describe())) + ")")
    money = st.column_config.NumberColumn(format="localized")
    safe.table(comp.value, key="cmp_value", file_name="compare_value.csv", header_lines=header,
               column_config={c: money for c in ("value", "low", "high", "value_vs_flag_none", "difference",
                                                 "diff_low", "diff_high")})

# ---- the design document ------------------------------------------------------------------------
st.subheader("Decision table")
st.caption("Fill in what the numbers cannot say. Add a row for any other option (a vendor model, a rule, "
           "keeping the current process). It is exported with the numbers.")
doc = st.session_state[state.DESIGN_DOC]
editor_key = f"cmp_design_{h}"
options_now = list(comp.models) + ["No model (keep the current process)"]
if editor_key not in st.session_state or ds.content_hash not in doc:
    rows = doc.get(ds.content_hash, {}).get("rows")
    template = compare.design_rows_template(options_now)
    if rows is not None:
        template = pd.concat([rows, template[~template["option"].isin(rows["option"])]], ignore_index=True)
    doc[ds.content_hash] = {"base": template, "rows": template}
base = doc[ds.content_hash]["base"]
edited = st.data_editor(base, key=editor_key, num_rows="dynamic", hide_index=True,
                        column_config={c: st.column_config.TextColumn(c) for c in base.columns})
doc[ds.content_hash]["rows"] = edited
assumptions = [f"file: {ds.source} ({comp.n_rows:,} rows compared)", f"threshold: {threshold:g}",
               f"reference model: {comp.reference}",
               f"intervals: 95%; DeLong for ROC AUC, paired bootstrap ({comp.n_boot:,} replicates) otherwise"]
if costs is not None:
    assumptions += costs.describe()
markdown = compare.decision_table_markdown(numbers, edited, title="Decision table", summary=summary,
                                           assumptions=assumptions)
st.download_button("Download the decision table (Markdown)", markdown, file_name="decision_table.md",
                   mime="text/markdown", on_click="ignore", icon=":material/download:", key="cmp_decision_md")
with st.expander("Preview the Markdown", expanded=False):
    st.code(markdown, language="markdown", wrap_lines=True)
