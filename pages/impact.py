"""Impact: what is the model worth? Money against the alternatives, the best threshold and the risks."""

import pandas as pd
import streamlit as st

from mlimpact import impact
from mlimpact.errors import InputError
from mlimpact.report.charts import baselines_chart, segment_loss_chart, tornado_chart, value_curve_chart
from mlimpact.slices import segment_codes
from ui import safe, sidebar, state

ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Impact")
h = ds.content_hash[:12]

# ---- a binary decision is needed ---------------------------------------------------------------
if ds.task == "multiclass" and ds.proba is not None:
    st.info("Business value needs a yes/no decision, and this file is multiclass. Look at one class against "
            "the rest here (flag a row when that class's probability is at least the threshold), or choose "
            "the binary task in the sidebar (Columns and task).", icon=":material/info:")
    c1, c2 = st.columns(2)
    cls = c1.selectbox("Class to act on", list(ds.classes), key=f"imp_class_{h}")
    threshold = c2.slider("Threshold for this class", 0.0, 1.0, 0.5, 0.01, key=f"imp_class_threshold_{h}")
    ds = impact.one_vs_rest(ds, cls)
elif ds.task != "binary":
    st.info(f"Business value needs a yes/no decision; this file's task is {ds.task}. Choose the binary task "
            "and a positive class in the sidebar (Columns and task) to put money on the model's decisions. "
            "The Compare page compares models on their metrics for any task.", icon=":material/info:")
    st.stop()
elif ds.score is None:
    st.info("Business value over thresholds needs a score column; pick the model's score in the sidebar "
            "(Columns and task).", icon=":material/info:")
    st.stop()

# ---- assumptions ----------------------------------------------------------------------------------
saved: impact.CostModel = st.session_state[state.COSTS].get(ds.content_hash) or impact.default_costs(ds)
options = st.session_state[state.COSTS].get(f"{ds.content_hash}:options", {})
numeric = [str(c) for c in ds.frame.columns
           if pd.api.types.is_numeric_dtype(ds.frame[c]) and not pd.api.types.is_bool_dtype(ds.frame[c])
           and c not in (ds.roles.label, ds.roles.score)]
NUMBER = "a number"
HELP = {"value_tp": "What catching a positive earns (often 0 when a missed one is counted as a cost).",
        "value_tn": "What leaving a negative alone earns (often 0).",
        "cost_fp": "What a false alarm costs: a blocked good customer, an investigation.",
        "cost_fn": "What a missed positive costs; pick the amount column when a miss loses that row's amount.",
        "cost_review": "What one human review costs (used with the Difficulty page's review lanes)."}

st.markdown("**Money per decision** — each a number, or a column whose value per row is used")
chosen = {}
for col, term in zip(st.columns(len(impact.MONEY_TERMS)), impact.MONEY_TERMS, strict=True):
    with col:
        current = getattr(saved, term)
        sources = [NUMBER] + numeric
        src = st.selectbox(impact.TERM_LABELS[term].capitalize(), sources,
                           index=sources.index(current) if isinstance(current, str) and current in sources else 0,
                           key=f"imp_{term}_src_{h}", help=HELP[term])
        if src == NUMBER:
            chosen[term] = st.number_input("amount", value=float(current) if not isinstance(current, str) else 0.0,
                                           step=1.0, key=f"imp_{term}_num_{h}", label_visibility="collapsed")
        else:
            chosen[term] = src
costs = impact.CostModel(**chosen)
st.session_state[state.COSTS][ds.content_hash] = costs

period = impact.detect_period(ds)
segments = [c for c in ds.roles.segments if c in ds.frame.columns]
with st.expander("Options: period, currency, a rule to compare with, segments", expanded=False):
    o1, o2, o3 = st.columns([2, 1, 2])
    scales = ["whole file", "per month", "per year"] if period is not None else ["whole file"]
    scale_label = o1.radio("Show money", scales, horizontal=True, key=f"imp_scale_{h}",
                           index=scales.index(options.get("scale", "per month" if period else "whole file"))
                           if options.get("scale", "per month" if period else "whole file") in scales else 0,
                           help="Per month and per year scale the file's totals by the span of its time column.")
    unit = o2.text_input("Currency", value=options.get("unit", ""), max_chars=6, key=f"imp_unit_{h}",
                         placeholder="€")
    rule_text = o3.text_input("A simple rule to compare with (one column)",
                              value=options.get("rule", impact.default_rule(ds)), key=f"imp_rule_{h}",
                              placeholder="amount > 500",
                              help="column op value, with op one of > >= < <= == !=; quote text: channel == \"online\"")
    preferred = (st.session_state.get(state.SEGMENT_COLUMNS) or [None])[0]
    seg_default = options.get("segment", preferred if preferred in segments else (segments[0] if segments else None))
    segment = st.selectbox("Where is value lost: segment by", segments or ["(no segment columns)"],
                           index=segments.index(seg_default) if seg_default in segments else 0,
                           key=f"imp_segment_{h}", disabled=not segments)
    segment = segment if segments else None
    if period is None:
        st.caption("Per month and per year need a time column; pick one in the sidebar.")
scale = {"whole file": None, "per month": "month", "per year": "year"}[scale_label]
st.session_state[state.COSTS][f"{ds.content_hash}:options"] = {"scale": scale_label, "unit": unit, "rule": rule_text,
                                                                "segment": segment}

lanes = impact.lanes_from(st.session_state[state.LANES].get(ds.content_hash))

key = ("impact", ds.content_hash, ds.roles, float(threshold), costs, lanes, rule_text.strip(), segment, scale, unit)
try:
    with st.spinner("Putting money on the decisions…"):
        report = state.memo(key, lambda: impact.impact_report(
            ds, costs, threshold=threshold, lanes=lanes, rule=rule_text.strip() or None, segment=segment,
            scale=scale, unit=unit, time_budget_s=5.0))
except InputError as exc:
    safe.error(exc)
    st.stop()

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
if lanes is not None:
    st.caption(safe.md_escape(f"Review lanes from the Difficulty page: review scores from {lanes[0]:g} to below "
                              f"{lanes[1]:g}; see the operating points below."))

MONEY = st.column_config.NumberColumn(format="localized")
money_config = {c: MONEY for c in ("value", "low", "high", "value_vs_flag_none", "vs_none_low", "vs_none_high",
                                   "optimism", "difference", "diff_low", "diff_high", "best_value",
                                   "best_vs_flag_none", "value_at_base_best", "regret", "value_at_current",
                                   "current_vs_flag_none", "lanes_value", "perfect_value", "lost",
                                   "lost_false_positives", "lost_false_negatives", "lost_reviews")}
money_config["flag_rate"] = st.column_config.NumberColumn(format="percent")
money_config["share_of_lost"] = st.column_config.NumberColumn(format="percent")
header = report.header_lines()

safe.chart(value_curve_chart(report.curve, threshold=threshold, best_threshold=head["best_threshold_value"],
                             best_gain=head["best_gain"], unit=unit, per=scale), key="imp_curve_chart")
st.markdown("**Operating points**")
pts = report.points.drop(columns=["low_cut", "high_cut", "reviewed"] if lanes is None else [])
safe.table(pts, key="imp_points", file_name="impact_operating_points.csv", header_lines=header,
           column_config=money_config)

safe.chart(baselines_chart(report.baselines, unit=unit, per=scale), key="imp_baselines_chart",
           title_space=150)
st.markdown("**Against the alternatives** (difference = model − alternative; positive: the model is worth more)")
safe.table(report.baselines, key="imp_baselines", file_name="impact_baselines.csv", header_lines=header,
           column_config=money_config)

safe.chart(tornado_chart(report.sensitivity, unit=unit, per=scale), key="imp_tornado",
           title_space=150)
with st.expander("Sensitivity: each money term ±50%, one at a time", expanded=False):
    safe.table(report.sensitivity, key="imp_sensitivity", file_name="impact_sensitivity.csv", header_lines=header,
               column_config=money_config)

if report.segments is not None:
    domain = segment_codes(ds, [segment]).labels[segment].tolist()
    safe.chart(segment_loss_chart(report.segments, column=segment, domain=domain, unit=unit, per=scale),
               key="imp_segment_chart", title_space=150)
    with st.expander("Where value is lost, per segment", expanded=False):
        safe.table(report.segments, key="imp_segments", file_name="impact_segments.csv", header_lines=header,
                   column_config=money_config)
else:
    st.info("Pick segment columns in the sidebar to see where value is lost.", icon=":material/info:")
with st.expander("Value at every threshold", expanded=False):
    safe.table(report.curve, key="imp_curve", file_name="impact_value_curve.csv", header_lines=header,
               column_config=money_config)

st.markdown("**Assumptions** (printed in every export)")
st.text("\n".join(report.assumptions()))
st.download_button("Download the impact report (Markdown)", report.markdown(), file_name="impact_report.md",
                   mime="text/markdown", on_click="ignore", icon=":material/download:", key="imp_report_md")
