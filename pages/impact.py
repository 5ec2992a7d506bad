"""Impact: what is the model worth? Money against the alternatives, the best threshold and the risks."""

from functools import partial

import streamlit as st

from mlimpact import impact, slices
from mlimpact.report.charts import baselines_chart, segment_loss_chart, tornado_chart, value_curve_chart
from ui import columns as cols
from ui import computed, controls, links, safe, sidebar, state

VIEWS = ["Against the alternatives", "Sensitivity (each money term ±50%)", "Where value is lost", "Every threshold"]

ds, fs = sidebar.require_dataset("impact")
threshold = fs.threshold
st.title("Impact")
h = ds.content_hash[:12]
links.page("imp", h)

# ---- a binary decision is needed ---------------------------------------------------------------
if reason := impact.unavailable_reason(ds):
    st.info(reason, icon=":material/info:")
    st.stop()
if ds.task == "multiclass":
    st.info(impact.ONE_VS_REST_NOTE, icon=":material/info:")
    c1, c2 = st.columns(2)
    cls = c1.selectbox("Class to act on", list(ds.classes), key=f"imp_class_{h}")
    threshold = c2.slider("Threshold for this class", 0.0, 1.0, 0.5, 0.01, key=f"imp_class_threshold_{h}")
    # kept: the binary view's sorted scores and layouts then outlive the rerun (a cost change reuses them)
    ds = state.memo(("one_vs_rest", ds.content_hash, ds.roles, cls), lambda: impact.one_vs_rest(ds, cls))

# ---- assumptions ----------------------------------------------------------------------------------
saved: impact.CostModel = state.setting(state.COSTS, ds.content_hash) or impact.default_costs(ds)
options = state.impact_options(ds.content_hash)
st.markdown("**Money per decision** — each a number, or a column whose value per row is used")
costs = impact.CostModel(**controls.money_terms(saved, impact.money_columns(ds), h))
st.session_state[state.COSTS][ds.content_hash] = costs

period = impact.detect_period(ds)
segments = slices.role_segments(ds)
chosen = controls.impact_options(ds, options, period, segments)
scale_label, unit, rule_text, segment = chosen["scale"], chosen["unit"], chosen["rule"], chosen["segment"]
scale = impact.scale_of(scale_label)
st.session_state[state.COSTS][f"{ds.content_hash}:options"] = chosen

lanes = impact.lanes_from(state.setting(state.LANES, ds.content_hash))  # only lanes the user set
with safe.stop_on_input_error(), st.spinner("Putting money on the decisions…"):
    report = state.memo(*computed.impact_job(ds, threshold, costs, lanes=lanes, rule=rule_text, segment=segment,
                                             scale=scale, unit=unit))

# ---- the answer ---------------------------------------------------------------------------------
head = report.headline()
per = head["per"]
st.subheader("Executive summary")
st.code("\n".join(report.summary), language=None, wrap_lines=True)

m1, m2, m3, m4 = st.columns(4)
m1.metric(f"Worth now{per}", head["worth_now"], border=True,
          help=safe.md_escape(f"Against flagging nothing, at threshold {threshold:g}; {head['worth_now_interval']}"))
m2.metric("Best threshold", head["best_threshold"], border=True, delta=head["best_threshold_change"],
          delta_color="off", help="The threshold with the highest net value under these costs")
m3.metric(f"Worth at best{per}", head["worth_best"], border=True, delta=head["gain_vs_now"],
          help=safe.md_escape("Against flagging nothing, at the best threshold. " + head["optimism"]))
m4.metric(f"Net value{per}", head["net_now"], border=True,
          help="At the current threshold: value of true positives and negatives minus the cost of errors "
               "(and reviews), summed over rows")
st.caption(safe.md_escape(impact.lanes_sentence(lanes)))  # says plainly whether review lanes are in


table = partial(safe.table, header_lines=report.header_lines(), column_config=cols.money())
safe.chart(safe.lazy(value_curve_chart, report.curve, threshold=threshold, best_threshold=head["best_threshold_value"],
                             best_gain=head["best_gain"], unit=unit, per=scale), key="imp_curve_chart")
st.markdown("**Operating points**")
table(impact.shown_points(report.points, lanes), key="imp_points", file_name="impact_operating_points.csv")
# Only the open tab is drawn: a cost change redraws one chart and table here, not four (the rest on request)
alternatives, sensitivity, lost, every = st.tabs(VIEWS, key="imp_view", on_change="rerun")
if alternatives.open:
    with alternatives:
        safe.chart(safe.lazy(baselines_chart, report.baselines, unit=unit, per=scale), key="imp_baselines_chart",
                   title_space=150)
        st.markdown("Difference = model − alternative; positive: the model is worth more")
        table(report.baselines, key="imp_baselines", file_name="impact_baselines.csv")
if sensitivity.open:
    with sensitivity:
        safe.chart(safe.lazy(tornado_chart, report.sensitivity, unit=unit, per=scale), key="imp_tornado",
                   title_space=150)
        table(report.sensitivity, key="imp_sensitivity", file_name="impact_sensitivity.csv")
if lost.open:
    with lost:
        if report.segments is None:
            st.info("Pick segment columns in the sidebar to see where value is lost.", icon=":material/info:")
        else:
            domain = computed.segment_codes(ds, segment).labels[segment].tolist()
            safe.chart(safe.lazy(segment_loss_chart, report.segments, column=segment, domain=domain, unit=unit,
                                 per=scale), key="imp_segment_chart", title_space=150)
            table(report.segments, key="imp_segments", file_name="impact_segments.csv")
if every.open:
    with every:
        table(report.curve, key="imp_curve", file_name="impact_value_curve.csv")

st.markdown("**Assumptions** (printed in every export)")
st.text("\n".join(report.assumptions()))
st.download_button("Download the impact report (Markdown)", report.markdown(), file_name="analyze_impact.md",
                   mime="text/markdown", on_click="ignore", icon=":material/download:", key="imp_report_md")
