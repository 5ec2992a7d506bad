"""Difficulty: which cases to automate, which to send to people, and what each choice costs."""

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact import report
from mlimpact.report.charts import FRONTIER_SELECTION, frontier_chart
from ui import columns as cols
from ui import computed, lane_controls, lane_segments, links, safe, sidebar, state, widgets

ds, fs = sidebar.require_dataset("difficulty")
threshold = fs.threshold
st.title("Difficulty")

reason = dif.unavailable_reason(ds)
if reason:
    safe.info(reason)
    st.stop()

h = ds.content_hash[:12]
links.page("dif", h, on_apply=lambda: lane_controls.mark_lanes_set(ds.content_hash))
modes = dif.available_modes(ds)
user_set = lane_controls.lanes_set(ds)  # lanes reach Impact, Review and the report only once the user sets them
saved = dif.saved_lanes(ds, st.session_state[state.LANES].get(ds.content_hash)) if user_set else None
touched = lane_controls.touched(ds)
subject = report.subject_of(ds)
st.caption("Cases in the review lane are decided by people and assumed correct after review; the errors left are "
           "the errors among automated decisions.")

# ------------------------------------------------------------------ how cases are ordered
mode, tolerance = modes[0], None
if len(modes) > 1 or ds.task == "regression":
    c1, c2 = st.columns(2)
    lane_controls.start_values({f"dif_mode_{h}": saved.mode if saved is not None else modes[0]}, user_set=user_set)
    mode = c1.selectbox("Order cases from hard to easy by", modes, format_func=dif.MODES.get, key=f"dif_mode_{h}",
                        **touched)
    if ds.task == "regression":
        lane_controls.start_values({f"dif_tolerance_{h}": dif.start_tolerance(ds, saved)}, user_set=user_set)
        tolerance = c2.number_input("A miss larger than this counts as an error", min_value=1e-9,
                                    key=f"dif_tolerance_{h}", **touched,
                                    help="Default: the 90th percentile of |prediction − truth| (about 10% of "
                                         "cases are errors).")
if mode == "error_size":
    st.warning(dif.ERROR_SIZE_WARNING, icon=":material/warning:")
curve = computed.lane_curve(ds, mode, tolerance)
frontier = state.memo(computed.frontier_key(ds, mode, tolerance), lambda: dif.tradeoff_curve(curve))

# ------------------------------------------------------------------ the policy
start = computed.default_start(ds, threshold)
method, policy = lane_controls.lane_policy(ds, saved.policy if saved is not None else start.policy, user_set=user_set)
st.caption(safe.md_escape(start.caption(ds.n)))

bounds = dif.cutoff_range(curve)
slider_key = f"dif_cut_{h}_{mode}"
point = computed.solve(ds, curve, policy) if method != "manual" else None
if point is not None:
    st.session_state[slider_key] = dif.slider_value(point.lanes, bounds)
elif slider_key not in st.session_state:
    first = dif.manual_start(ds, saved, curve, solve=lambda c, p: computed.solve(ds, c, p), threshold=threshold)
    st.session_state[slider_key] = dif.slider_value(first, bounds)
value = st.slider(safe.md_escape(dif.cutoff_label(mode, subject)), bounds[0], bounds[1], step=bounds[2],
                  key=slider_key, disabled=method != "manual", **touched,
                  help="Choose “Set the cut-offs by hand” to move it, or click a point on the chart.")
if method == "manual":
    with safe.stop_on_input_error():
        manual = dif.manual_lanes(curve, value, mode=mode, tolerance=tolerance, policy=policy)
    point = dif.evaluate_lanes(curve, manual)
lanes = point.lanes
if user_set:
    st.session_state[state.LANES][ds.content_hash] = lanes
    links.publish_lanes(ds.content_hash)

# ------------------------------------------------------------------ the answer in words
st.markdown("#### " + safe.md_escape(dif.summary_sentence(point, cases_per_day=policy.cases_per_day)))
st.caption(safe.md_escape(dif.capacity_sentence(point, policy) + " Lanes: " + str(lanes) + "."))
if point.note:
    safe.warning(point.note)
lane_controls.keep_or_reset(ds, user_set)
widgets.metric_row(dif.headline_numbers(point, policy))


# ------------------------------------------------------------------ the trade-off
def _on_pick() -> None:
    if (picked := widgets.chart_pick("dif_frontier", FRONTIER_SELECTION)) is not None:
        lane_controls.mark_lanes_set(ds.content_hash)
        st.session_state[f"dif_method_{h}"] = "manual"
        if (cutoffs := dif.picked_cutoffs(picked, bounds, curve.two_sided)) is not None:
            st.session_state[slider_key] = cutoffs


safe.chart(safe.lazy(frontier_chart, frontier, point=point, **dif.frontier_marks(policy)), key="dif_frontier",
           on_select=_on_pick, selection_mode=FRONTIER_SELECTION)
st.caption(dif.frontier_caption(frontier, curve.two_sided))

st.markdown("**Lanes**")
safe.table(dif.lane_table(curve, lanes, threshold=threshold if ds.task == "binary" else None, subject=subject),
           key="dif_lanes", file_name="difficulty_lanes.csv", column_config=cols.lanes(),
           header_lines=[f"file: {ds.source}", f"lanes: {lanes}", f"chosen by: {lanes.policy}",
                         "review lane assumed correct after review"])

# ------------------------------------------------------------------ per segment
lane_segments.show(ds, curve, lanes, subject=subject)
