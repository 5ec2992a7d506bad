"""Compare: which option should we pick? Every model side by side, paired tests, robustness, a decision table."""

from functools import partial

import streamlit as st

from mlimpact import compare, slices
from mlimpact.metrics import METRICS
from mlimpact.report.charts import model_segment_chart, model_time_chart, segment_difference_chart
from ui import columns as cols
from ui import computed, links, safe, sidebar, state, widgets

ds, fs = sidebar.require_dataset("compare")
threshold = fs.threshold
st.title("Compare")
h = ds.content_hash[:12]
links.page("cmp", h)

models = compare.model_columns(ds)
if len(models) < 2:
    safe.info(compare.one_model_notice(models, ds.task))

segments = slices.role_segments(ds)
c1, c2 = st.columns(2)
segment = c1.selectbox("Compare per value of", segments or ["(no segment columns)"],
                       index=widgets.index_of(segments, state.preferred_segment_column()), key=f"cmp_segment_{h}",
                       disabled=not segments)
segment = segment if segments else None

costs, scale, unit = computed.compare_money(ds)
with safe.stop_on_input_error(), st.spinner("Comparing the models on the same rows…"):
    comp = state.memo(*computed.compare_job(ds, threshold, segment, costs, scale))

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
table = partial(safe.table, header_lines=compare.export_header(ds.source, comp, threshold, summary, costs))
table(numbers, key="cmp_numbers", file_name="compare_side_by_side.csv")

st.markdown("**Paired differences against** " + safe.md_escape(comp.reference)
            + " (the same rows for both; DeLong for ROC AUC, paired bootstrap otherwise)")
config = cols.comparison()
table(compare.overall_differences(comp), key="cmp_differences", file_name="compare_differences.csv",
      column_config=config)

challengers = compare.challengers(comp)
challenger = challengers[0]
if len(challengers) > 1:
    challenger = st.selectbox("Challenger shown in the charts", challengers, key=f"cmp_challenger_{h}")
safe.chart(safe.lazy(segment_difference_chart, comp.differences, metric=metric, label=label, model=challenger,
                                    reference=comp.reference), key="cmp_diff_chart", title_space=130)
if comp.segments is not None:
    safe.chart(safe.lazy(model_segment_chart, comp.segments, metric=metric, label=label, column=segment,
                                   models=list(comp.models)), key="cmp_segment_chart", title_space=130)
else:
    st.info("Pick segment columns in the sidebar to compare per segment.", icon=":material/info:")
if comp.segment:
    st.markdown("**Where each model wins** (the winner when the paired 95% interval excludes no difference)")
    table(comp.wins(), key="cmp_wins", file_name="compare_wins.csv")
    with st.expander("Every model per segment", expanded=False):
        table(comp.segments, key="cmp_segments", file_name="compare_segments.csv", column_config=config)

st.markdown("**Robustness**: worst segment, spread across segments and across time periods")
if comp.over_time is not None:
    safe.chart(safe.lazy(model_time_chart, comp.over_time, metric=metric, label=label, models=list(comp.models)),
               key="cmp_time_chart")
table(comp.robustness, key="cmp_robustness", file_name="compare_robustness.csv", column_config=config)

if comp.value is not None:
    st.markdown("**Value under the same cost model** (from the Impact page: "
                + safe.md_escape("; ".join(costs.describe())) + ")")
    table(comp.value, key="cmp_value", file_name="compare_value.csv",
          column_config=cols.formatted(compare.MONEY_COLUMNS, "localized"))

# ---- the design document ------------------------------------------------------------------------
st.subheader("Decision table")
st.caption("Fill in what the numbers cannot say. Add a row for any other option (a vendor model, a rule, "
           "keeping the current process). It is exported with the numbers.")
doc = st.session_state[state.DESIGN_DOC]
editor_key = f"cmp_design_{h}"
if editor_key not in st.session_state or ds.content_hash not in doc:
    rows = compare.design_rows(comp.models, doc.get(ds.content_hash, {}).get("rows"))
    doc[ds.content_hash] = {"base": rows, "rows": rows}
base = doc[ds.content_hash]["base"]
edited = st.data_editor(base, key=editor_key, num_rows="dynamic", hide_index=True,
                        column_config={c: st.column_config.TextColumn(c) for c in base.columns})
doc[ds.content_hash]["rows"] = edited
markdown = compare.decision_table_markdown(numbers, edited, title="Decision table", summary=summary,
                                           assumptions=compare.decision_assumptions(ds.source, comp, threshold, costs))
st.download_button("Download the decision table (Markdown)", markdown, file_name="decision_table.md",
                   mime="text/markdown", on_click="ignore", icon=":material/download:", key="cmp_decision_md")
with st.expander("Preview the Markdown", expanded=False):
    st.code(markdown, language="markdown", wrap_lines=True)
