"""Difficulty: which cases to automate, which to send to people, and what each choice costs."""

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact.errors import InputError
from mlimpact.format import subject_name
from mlimpact.report.charts import FRONTIER_SELECTION, automated_errors_chart, frontier_chart, lane_mix_chart
from mlimpact.slices import segment_codes
from ui import safe, sidebar, state

ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Difficulty")

reason = dif.unavailable_reason(ds)
if reason:
    safe.info(reason)
    st.stop()

h = ds.content_hash[:12]
modes = dif.available_modes(ds)
saved = st.session_state[state.LANES].get(ds.content_hash)
if saved is not None and saved.mode not in modes:
    saved = None
policy0 = saved.policy if saved is not None else dif.default_policy(ds)
subject = subject_name(ds.roles.label, ds.roles.positive) if ds.task == "binary" else "positive"
st.caption("Cases in the review lane are decided by people and assumed correct after review; the errors left are "
           "the errors among automated decisions.")

# ------------------------------------------------------------------ how cases are ordered
mode, tolerance = modes[0], None
if len(modes) > 1 or ds.task == "regression":
    c1, c2 = st.columns(2)
    mode_key = f"dif_mode_{h}"
    if mode_key not in st.session_state:
        st.session_state[mode_key] = saved.mode if saved is not None else modes[0]
    mode = c1.selectbox("Order cases from hard to easy by", modes, format_func=dif.MODES.get, key=mode_key)
    if ds.task == "regression":
        tol_key = f"dif_tolerance_{h}"
        if tol_key not in st.session_state:
            st.session_state[tol_key] = float(saved.tolerance if saved is not None and saved.tolerance
                                              else dif.default_tolerance(ds))
        tolerance = c2.number_input("A miss larger than this counts as an error", min_value=1e-9, key=tol_key,
                                    help="Default: the 90th percentile of |prediction − truth| (about 10% of "
                                         "cases are errors).")
if mode == "error_size":
    st.warning("Lanes by the size of the error need the truth, which is unknown when a decision is made: use them "
               "to analyse where errors are, not to route cases. Pick an uncertainty column in the sidebar to "
               "route cases.", icon=":material/warning:")

curve = state.memo(("lane_curve", ds.content_hash, ds.roles, mode, tolerance),
                   lambda: dif.lane_curve(ds, mode=mode, tolerance=tolerance))
frontier = state.memo(("lane_frontier", ds.content_hash, ds.roles, mode, tolerance),
                      lambda: dif.tradeoff_curve(curve))

# ------------------------------------------------------------------ the policy
METHOD_LABELS = {"target": "Most automation under a target error rate",
                 "capacity": "Fewest errors the reviewers can keep up with",
                 "manual": "Set the cut-offs by hand"}
defaults = {f"dif_method_{h}": policy0.method, f"dif_target_{h}": float(100 * policy0.target_error),
            f"dif_reviewers_{h}": int(policy0.reviewers), f"dif_per_reviewer_{h}": int(policy0.cases_per_reviewer),
            f"dif_per_day_{h}": int(policy0.cases_per_day)}
for key, value in defaults.items():
    if key not in st.session_state:
        st.session_state[key] = value
method = st.radio("Choose the cut-offs by", list(dif.METHODS), format_func=METHOD_LABELS.get, horizontal=True,
                  key=f"dif_method_{h}")
p1, p2, p3, p4 = st.columns(4)
target_pct = p1.number_input("Target: errors among automated decisions (%)", min_value=0.01, max_value=99.0,
                             step=0.1, format="%.2f", key=f"dif_target_{h}")
reviewers = p2.number_input("Reviewers", min_value=0, max_value=100_000, step=1, key=f"dif_reviewers_{h}")
per_reviewer = p3.number_input("Cases per reviewer per day", min_value=0, max_value=10_000_000, step=10,
                               key=f"dif_per_reviewer_{h}")
per_day = p4.number_input("Cases per day", min_value=1, max_value=1_000_000_000, step=1000, key=f"dif_per_day_{h}")
try:
    policy = dif.LanePolicy(method=method, target_error=float(target_pct) / 100, reviewers=int(reviewers),
                            cases_per_reviewer=int(per_reviewer), cases_per_day=int(per_day))
except InputError as exc:
    safe.error(exc)
    st.stop()

lo_r, hi_r, step = dif.cutoff_range(curve)


def _clamp(v: float) -> float:
    return float(min(max(v, lo_r), hi_r))


def _slider_value(lanes: dif.Lanes):
    return (_clamp(lanes.low), _clamp(lanes.high)) if lanes.two_sided else _clamp(lanes.cutoff)


slider_key = f"dif_cut_{h}_{mode}"
if method != "manual":
    point = state.memo(("lane_solve", ds.content_hash, ds.roles, mode, tolerance, policy),
                       lambda: dif.choose_lanes(curve, policy))
    st.session_state[slider_key] = _slider_value(point.lanes)
elif slider_key not in st.session_state:
    start = saved if saved is not None and saved.mode == mode and saved.tolerance == tolerance else None
    if start is None:
        start = state.memo(("lane_solve", ds.content_hash, ds.roles, mode, tolerance, dif.default_policy(ds)),
                           lambda: dif.choose_lanes(curve, dif.default_policy(ds))).lanes
    st.session_state[slider_key] = _slider_value(start)

value = st.slider(safe.md_escape(dif.cutoff_label(mode, subject)), lo_r, hi_r, step=step, key=slider_key, disabled=method != "manual",
                  help="Choose “Set the cut-offs by hand” to move it, or click a point on the chart.")
if method == "manual":
    try:
        if curve.two_sided:
            lanes = dif.Lanes("score", low=float(value[0]), high=float(value[1]), policy=policy)
        else:
            lanes = dif.Lanes(mode, cutoff=float(value), tolerance=tolerance, policy=policy)
    except InputError as exc:
        safe.error(exc)
        st.stop()
    point = dif.evaluate_lanes(curve, lanes)
lanes = point.lanes
st.session_state[state.LANES][ds.content_hash] = lanes

# ------------------------------------------------------------------ the answer in words
st.markdown("#### " + safe.md_escape(dif.summary_sentence(point, cases_per_day=policy.cases_per_day)))
st.caption(safe.md_escape(dif.capacity_sentence(point, policy) + " Lanes: " + str(lanes) + "."))
if point.note:
    safe.warning(point.note)
daily = point.per_day(policy.cases_per_day)
m1, m2, m3, m4 = st.columns(4)
a_lo, a_hi = point.automation_interval
m1.metric("Automated", dif.percent(point.automation_rate), border=True,
          help=f"95% interval {dif.percent(a_lo)}–{dif.percent(a_hi)}")
m2.metric("Errors among automated", dif.percent_cell(point.error_rate, *point.error_interval).split(" (")[0],
          border=True, help="With its 95% interval: " + dif.percent_cell(point.error_rate, *point.error_interval))
m3.metric("Reviews a day", f"{daily['review']:,.0f}", border=True,
          help=f"Capacity: {policy.capacity:,.0f} a day")
m4.metric("Automated errors a day", f"{daily['errors']:,.0f}", border=True,
          help=f"Out of {policy.cases_per_day:,.0f} cases a day")

# ------------------------------------------------------------------ the trade-off


def _on_pick() -> None:
    event = st.session_state.get("dif_frontier")
    picked = (event or {}).get("selection", {}).get(FRONTIER_SELECTION) if event else None
    if not picked:
        return
    p = picked[0]
    st.session_state[f"dif_method_{h}"] = "manual"
    if "high" in p:
        st.session_state[slider_key] = ((_clamp(p["low"]), _clamp(p["high"])) if curve.two_sided
                                        else _clamp(p["high"]))


chart = frontier_chart(frontier, point=point, target=policy.target_error if method == "target" else None,
                       min_automation=1 - policy.review_share_limit if method == "capacity" else None)
safe.chart(chart, key="dif_frontier", on_select=_on_pick, selection_mode=FRONTIER_SELECTION)
if frontier.attrs.get("exact"):
    st.caption("The curve is exact: every " + ("pair of cut-offs" if curve.two_sided else "cut-off")
               + " at every distinct value was scored.")
else:
    st.caption(f"The curve scores every pair among {frontier.attrs.get('candidates', 0):,} candidate cut-offs "
               "(score quantiles); the solvers above are exact over every distinct value.")

st.markdown("**Lanes**")
table = dif.lane_table(curve, lanes, threshold=threshold if ds.task == "binary" else None, subject=subject)
pct = {c: st.column_config.NumberColumn(c.replace("_", " "), format="percent")
       for c in ("share", "error_rate", "error_low", "error_high", "expected_rate", "observed_rate", "observed_low",
                 "observed_high")}
pct["errors_per_1000"] = st.column_config.NumberColumn("errors per 1,000", format="%.1f")
safe.table(table, key="dif_lanes", file_name="difficulty_lanes.csv", column_config=pct,
           header_lines=[f"file: {ds.source}", f"lanes: {lanes}", f"chosen by: {lanes.policy}",
                         "review lane assumed correct after review"])

# ------------------------------------------------------------------ per segment
roles = ds.roles
not_segments = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
                *roles.class_scores, *roles.other_scores}
candidates = list(roles.segments) + [c for c in ds.frame.columns if c not in not_segments and c not in roles.segments]
if candidates:
    st.markdown("**Per segment: who goes to review, and where automated errors land**")
    selected = st.session_state.get(state.SELECTED_SEGMENT) or {}
    seg_key = f"dif_segment_{h}"
    if seg_key not in st.session_state or st.session_state[seg_key] not in candidates:
        first = next(iter(selected), None)
        st.session_state[seg_key] = first if first in candidates else candidates[0]
    column = st.selectbox("Segment column", candidates, key=seg_key)
    try:
        sc = state.memo(("segment_codes", ds.content_hash, ds.roles, column), lambda: segment_codes(ds, [column]))
        grouped = state.memo(("lane_segments", ds.content_hash, ds.roles, mode, tolerance, column),
                             lambda: dif.segment_curve(curve, sc.codes, sc.n_groups))
    except InputError as exc:
        safe.error(exc)
        st.stop()
    by_segment = dif.lanes_by_segment(grouped, lanes, sc.labels[column].tolist())
    shown_lanes = ["auto_negative", "review", "auto_positive"] if curve.two_sided else ["automatic", "review"]
    safe.chart(lane_mix_chart(by_segment, column=column, lanes=shown_lanes, subject=subject), key="dif_mix",
               title_space=130 if curve.two_sided else 70)
    safe.chart(automated_errors_chart(by_segment, column=column, domain=sc.labels[column].tolist()),
               key="dif_errors")
    seg_cfg = {c: st.column_config.NumberColumn(c.replace("_", " "), format="percent")
               for c in ("share_of_rows", "review_share", "review_low", "review_high", "automated_error_rate",
                         "error_low", "error_high", "share_of_automated_errors")}
    with st.expander("Per-segment table"):
        safe.table(by_segment.rename(columns={"segment": column}) if column not in by_segment.columns else by_segment,
                   key="dif_segments", file_name="difficulty_by_segment.csv", column_config=seg_cfg,
                   header_lines=[f"file: {ds.source}", f"lanes: {lanes}", f"segment column: {column}"])
