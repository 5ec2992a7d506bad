"""Review: look at the examples yourself, record verdicts, and see what the reviewers' corrections change."""

import hashlib

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact import report, slices
from mlimpact import review as rv
from mlimpact.metrics import evaluate
from ui import computed, links, review_panel, safe, sidebar, slice_panel, state, widgets

ds, fs = sidebar.require_dataset("review")
threshold = fs.threshold
st.title("Review")

h = ds.content_hash[:12]
links.page("rev", h)
subject = report.subject_of(ds)
# verdicts are kept by row position in this Dataset, so per file AND roles (roles decide which rows are used)
verdicts: dict = st.session_state[state.VERDICTS].setdefault((ds.content_hash, ds.roles), {})

# ------------------------------------------------------------------ lanes (chosen on the Difficulty page)
lanes, codes = None, None
if not dif.unavailable_reason(ds):
    used = computed.lanes_in_use(ds, state.setting(state.LANES, ds.content_hash), threshold)
    lanes = used.lanes
    policy = computed.default_start(ds, threshold).policy
    st.caption(safe.md_escape(f"Lanes: {lanes} (the default, {policy}; choose them on the Difficulty "
                              "page)." if used.is_default else f"Lanes from the Difficulty page: {lanes}."))
    curve = computed.lane_curve(ds, lanes.mode, lanes.tolerance)
    codes = state.memo(("lane_codes", ds.content_hash, ds.roles, lanes), lambda: dif.lane_codes(curve, lanes))
tolerance = lanes.tolerance if lanes is not None else None
rows = state.memo(("review_rows", ds.content_hash, ds.roles, lanes, threshold, tolerance),
                  lambda: rv.review_rows(ds, lanes=codes, threshold=threshold, tolerance=tolerance))

# ------------------------------------------------------------------ filters
candidates = slices.segment_candidates(ds)
first_col, first_val = next(iter(state.selected_segment().items()), (None, None))
f1, f2, f3, f4 = st.columns(4)
widgets.keep_valid(f"rev_segment_column_{h}", [rv.ALL] + candidates, first_col if first_col in candidates else rv.ALL)
seg_col = f1.selectbox("Segment column", [rv.ALL] + candidates, key=f"rev_segment_column_{h}")
segment_mask = None
if seg_col != rv.ALL:
    with safe.stop_on_input_error():
        values = [str(v) for v in computed.segment_codes(ds, seg_col).labels[seg_col]]
    widgets.keep_valid(f"rev_segment_value_{h}", [rv.ALL] + values,
                       str(first_val) if first_col == seg_col and str(first_val) in values else rv.ALL)
    seg_val = f2.selectbox("Segment value", [rv.ALL] + values, key=f"rev_segment_value_{h}")
    if seg_val != rv.ALL:
        segment_mask = rv.segment_mask(ds, {seg_col: seg_val})
        with f2:
            slice_panel.offer(ds, {seg_col: seg_val}, "rev_to_slice")
else:
    f2.selectbox("Segment value", [rv.ALL], key=f"rev_segment_none_{h}", disabled=True)

lane_names = [] if lanes is None else dif.lane_columns(lanes.two_sided)
lane_choice = f3.selectbox("Lane", rv.lane_options(lane_names), key="rev_lane", disabled=not lane_names,
                           format_func=lambda x: rv.lane_option_label(x, subject))
error_choice = f4.selectbox("Error type", rv.error_options(ds.task), key="rev_error", format_func=rv.error_option_label)

o1, o2, o3, o4 = st.columns(4)
order = o1.radio("Order", list(rv.ORDERS), format_func=rv.order_labels(ds.task).get, key="rev_order")
n_rows = o2.number_input("Rows to show", min_value=1, max_value=1000, value=50, step=10, key="rev_n")
seed, strata_col = 0, None
if order == "sample":
    seed = o3.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="rev_seed")
    widgets.seed({"rev_strata": candidates[0] if candidates else rv.ALL})
    strata_col = o4.selectbox("Stratify by", [rv.ALL] + candidates, key="rev_strata",
                              format_func=lambda x: "no strata" if x == rv.ALL else x)

slice_mask = None
picked = state.selected_rows(ds)  # a weak slice picked on the Segments page
if picked and st.toggle(safe.md_escape(f"Only the weak slice picked on Segments: {picked['description']} "
                                       f"({len(picked['rows']):,} rows)"), value=True, key=f"rev_slice_{h}"):
    slice_mask = rv.slice_mask(ds.n, picked["rows"])

strata = computed.segment_codes(ds, strata_col).codes if strata_col and strata_col != rv.ALL else None
picked_rows = slice_mask is not None and hashlib.sha1(slice_mask.tobytes()).hexdigest()
chosen = (seg_col, segment_mask is not None and seg_val, picked_rows,
          order, int(n_rows), error_choice, int(seed), strata_col, lane_choice)  # everything select_rows is given
with safe.stop_on_input_error():
    index = state.memo(("review_pick", ds.content_hash, ds.roles, lanes, threshold, tolerance) + chosen,
                       lambda: rv.select_rows(rows, mask=rv.combine_masks(segment_mask, slice_mask), order=order,
                                              n=int(n_rows), error_types=rv.error_filter(error_choice, ds.task),
                                              seed=int(seed), strata=strata, lanes=rv.lane_filter(lane_choice,
                                                                                                  lane_names)))

# ------------------------------------------------------------------ the rows
if len(index) == 0:
    st.info("No rows match these filters.", icon=":material/filter_alt_off:")
else:
    review_panel.rows_and_verdict(ds, index, rows, verdicts, subject=subject)

# ------------------------------------------------------------------ verdicts so far
review_panel.load_queue(ds, verdicts)
st.markdown("**Verdicts recorded**")
if not verdicts:
    st.caption("No verdicts yet. They stay for this session, on every page, for this file.")
else:
    review_panel.summary(ds, verdicts, rows, codes, lanes, subject=subject)
    marked = rv.marked_rows(verdicts, "label wrong")
    if marked and st.toggle(f"Apply label corrections ({len(marked)} marked “label wrong”)", key="rev_apply"):
        correction = state.memo(("corrected", ds.content_hash, ds.roles, threshold, marked),
                                lambda: rv.apply_label_corrections(ds, verdicts, threshold=threshold), private=True)
        headline = rv.correction_metrics(ds)
        before = state.memo(("review_metrics", ds.content_hash, ds.roles, threshold, tuple(headline)),
                            lambda: evaluate(ds, threshold=threshold, metrics=headline))
        after = state.memo(("review_metrics", correction.dataset.content_hash, ds.roles, threshold,
                            tuple(headline)), lambda: evaluate(correction.dataset, threshold=threshold,
                                                               metrics=headline), private=True)
        review_panel.corrected(ds, correction, rv.compare_metrics(before, after), threshold)
