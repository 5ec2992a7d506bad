"""Review: look at the examples yourself, record verdicts, and see what the reviewers' corrections change."""

import numpy as np
import streamlit as st

from mlimpact import difficulty as dif
from mlimpact import review as rv
from mlimpact.errors import InputError
from mlimpact.format import subject_name
from mlimpact.io import to_safe_csv
from mlimpact.metrics import evaluate
from mlimpact.slices import segment_codes
from ui import safe, sidebar, state

ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Review")

h = ds.content_hash[:12]
subject = subject_name(ds.roles.label, ds.roles.positive) if ds.task == "binary" else "positive"
# verdicts are kept by row position in this Dataset, so per file AND roles (roles decide which rows are used)
verdicts: dict = st.session_state[state.VERDICTS].setdefault((ds.content_hash, ds.roles), {})

# ------------------------------------------------------------------ lanes (chosen on the Difficulty page)
lanes, codes = None, None
if not dif.unavailable_reason(ds):
    lanes = st.session_state[state.LANES].get(ds.content_hash)
    if lanes is None or lanes.mode not in dif.available_modes(ds):
        policy = dif.default_policy(ds)
        mode = dif.available_modes(ds)[0]
        curve = state.memo(("lane_curve", ds.content_hash, ds.roles, mode, None),
                           lambda: dif.lane_curve(ds, mode=mode))
        lanes = state.memo(("lane_solve", ds.content_hash, ds.roles, mode, None, policy),
                           lambda: dif.choose_lanes(curve, policy)).lanes
        st.caption(safe.md_escape(f"Lanes: {lanes} (the default, {policy}; choose them on the Difficulty page)."))
    else:
        st.caption(safe.md_escape(f"Lanes from the Difficulty page: {lanes}."))
    curve = state.memo(("lane_curve", ds.content_hash, ds.roles, lanes.mode, lanes.tolerance),
                       lambda: dif.lane_curve(ds, mode=lanes.mode, tolerance=lanes.tolerance))
    codes = state.memo(("lane_codes", ds.content_hash, ds.roles, lanes), lambda: dif.lane_codes(curve, lanes))
tolerance = lanes.tolerance if lanes is not None else None
rows = state.memo(("review_rows", ds.content_hash, ds.roles, lanes, threshold, tolerance),
                  lambda: rv.review_rows(ds, lanes=codes, threshold=threshold, tolerance=tolerance))

# ------------------------------------------------------------------ filters
roles = ds.roles
not_segments = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
                *roles.class_scores, *roles.other_scores}
candidates = list(roles.segments) + [c for c in ds.frame.columns if c not in not_segments and c not in roles.segments]
ALL = "(all)"
selected = st.session_state.get(state.SELECTED_SEGMENT) or {}
first_sel = next(iter(selected.items()), (None, None))

f1, f2, f3, f4 = st.columns(4)
seg_col_key, seg_val_key = f"rev_segment_column_{h}", f"rev_segment_value_{h}"
if seg_col_key not in st.session_state or st.session_state[seg_col_key] not in [ALL] + candidates:
    st.session_state[seg_col_key] = first_sel[0] if first_sel[0] in candidates else ALL
seg_col = f1.selectbox("Segment column", [ALL] + candidates, key=seg_col_key)
mask = None
if seg_col != ALL:
    try:
        sc = state.memo(("segment_codes", ds.content_hash, ds.roles, seg_col), lambda: segment_codes(ds, [seg_col]))
    except InputError as exc:
        safe.error(exc)
        st.stop()
    values = [str(v) for v in sc.labels[seg_col]]
    if seg_val_key not in st.session_state or st.session_state[seg_val_key] not in [ALL] + values:
        st.session_state[seg_val_key] = (str(first_sel[1]) if first_sel[0] == seg_col and str(first_sel[1]) in values
                                         else ALL)
    seg_val = f2.selectbox("Segment value", [ALL] + values, key=seg_val_key)
    if seg_val != ALL:
        mask = rv.segment_mask(ds, {seg_col: seg_val})
else:
    f2.selectbox("Segment value", [ALL], key=f"rev_segment_none_{h}", disabled=True)

lane_names = [] if lanes is None else (["auto_negative", "review", "auto_positive"] if lanes.two_sided
                                       else ["automatic", "review"])
AUTOMATED = "automated"
lane_options = [ALL] + ([AUTOMATED] if lane_names else []) + lane_names
lane_choice = f3.selectbox("Lane", lane_options, key="rev_lane", disabled=not lane_names,
                           format_func=lambda x: {ALL: "all lanes", AUTOMATED: "automated (all automatic lanes)"}.get(
                               x, dif.lane_label(x, subject)))
MISTAKES = "mistakes"
error_options = [ALL, MISTAKES] + rv.error_types_for(ds.task)
error_choice = f4.selectbox("Error type", error_options, key="rev_error",
                            format_func=lambda x: {ALL: "all rows", MISTAKES: "any mistake"}.get(x, rv.ERROR_LABELS.get(x)))

o1, o2, o3, o4 = st.columns(4)
ORDER_LABELS = {"confident": "Most confident mistakes first" if ds.task != "regression" else "Largest misses first",
                "sample": "Random sample, stratified by segment"}
order = o1.radio("Order", list(rv.ORDERS), format_func=ORDER_LABELS.get, key="rev_order")
n_rows = o2.number_input("Rows to show", min_value=1, max_value=1000, value=50, step=10, key="rev_n")
strata_col = None
if order == "sample":
    seed = o3.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="rev_seed")
    strata_options = [ALL] + candidates
    if "rev_strata" not in st.session_state:
        st.session_state["rev_strata"] = candidates[0] if candidates else ALL
    strata_col = o4.selectbox("Stratify by", strata_options, key="rev_strata",
                              format_func=lambda x: "no strata" if x == ALL else x)
else:
    seed = 0

picked = st.session_state.get(state.SELECTED_ROWS)  # a weak slice picked on the Segments page
if picked and picked.get("content_hash") == ds.content_hash and picked.get("roles") == ds.roles:
    only_slice = st.toggle(safe.md_escape(f"Only the weak slice picked on Segments: {picked['description']} "
                                          f"({len(picked['rows']):,} rows)"), value=True, key=f"rev_slice_{h}")
    if only_slice:
        slice_mask = np.zeros(ds.n, dtype=bool)
        slice_mask[picked["rows"]] = True
        mask = slice_mask if mask is None else (mask & slice_mask)

lanes_filter = None
if lane_choice == AUTOMATED:
    lanes_filter = [x for x in lane_names if x != "review"]
elif lane_choice != ALL:
    lanes_filter = [lane_choice]
types_filter = None
if error_choice == MISTAKES:
    types_filter = [e for e in rv.error_types_for(ds.task) if e != "correct"]
elif error_choice != ALL:
    types_filter = [error_choice]
strata = None
if strata_col and strata_col != ALL:
    strata = state.memo(("segment_codes", ds.content_hash, ds.roles, strata_col),
                        lambda: segment_codes(ds, [strata_col])).codes
try:
    index = rv.select_rows(rows, mask=mask, error_types=types_filter, lanes=lanes_filter, order=order, n=int(n_rows),
                           seed=int(seed), strata=strata)
except InputError as exc:
    safe.error(exc)
    st.stop()

# ------------------------------------------------------------------ the rows
if len(index) == 0:
    st.info("No rows match these filters.", icon=":material/filter_alt_off:")
else:
    view = rv.review_frame(ds, index, rows, verdicts, subject=subject)
    st.caption(f"{len(index):,} rows shown; pick one to look at it and record a verdict. Every column of the file "
               "is shown.")
    options = [int(i) for i in index]

    def _on_table_pick() -> None:
        picked = st.session_state["rev_table"].selection.rows
        if picked:
            st.session_state["rev_row"] = options[picked[0]]

    st.dataframe(view, hide_index=True, on_select=_on_table_pick, selection_mode="single-row", key="rev_table",
                 column_config={rv.confidence_column(ds.task): st.column_config.NumberColumn(format="%.3f")})
    st.download_button("Download these rows (CSV)", to_safe_csv(view, header_lines=[f"file: {ds.source}"]),
                       file_name="review_rows.csv", mime="text/csv", on_click="ignore", icon=":material/download:",
                       key="rev_rows_csv")
    if st.session_state.get("rev_row") not in options:
        st.session_state["rev_row"] = options[0]
    errors_of = dict(zip(options, view["error type"], strict=True))
    row = st.selectbox("Row to look at", options, key="rev_row",
                       format_func=lambda i: f"row {i} · {errors_of[i]}"
                       + (f" · verdict: {verdicts[i][0]}" if i in verdicts else ""))

    d1, d2 = st.columns([3, 2])
    with d1:
        st.dataframe(rv.row_detail(ds, row, rows, verdicts, subject=subject), hide_index=True, key="rev_detail",
                     height=min(35 * (len(view.columns) + 1) + 3, 700))
    with d2:
        saved_verdict, saved_note = verdicts.get(row, (None, ""))
        v_key, n_key = f"rev_verdict_{h}_{row}", f"rev_note_{h}_{row}"
        if v_key not in st.session_state and saved_verdict is not None:
            st.session_state[v_key] = saved_verdict
        if n_key not in st.session_state:
            st.session_state[n_key] = saved_note

        def _save(row=row, v_key=v_key, n_key=n_key) -> None:
            if st.session_state.get(v_key):
                verdicts[row] = (st.session_state[v_key], st.session_state.get(n_key, ""))

        def _clear(row=row, v_key=v_key, n_key=n_key) -> None:
            verdicts.pop(row, None)
            st.session_state[v_key] = None
            st.session_state[n_key] = ""

        verdict = st.radio("Verdict", list(rv.VERDICTS), index=None, key=v_key)
        st.text_input("Note", key=n_key, max_chars=500)
        b1, b2 = st.columns(2)
        b1.button("Save verdict", key="rev_save", type="primary", disabled=verdict is None, on_click=_save)
        b2.button("Clear verdict", key="rev_clear", disabled=row not in verdicts, on_click=_clear)
        if row in verdicts:
            st.caption(safe.md_escape(f"Saved: {verdicts[row][0]}" + (f" — {verdicts[row][1]}" if verdicts[row][1]
                                                                      else "")))

# ------------------------------------------------------------------ verdicts so far
st.markdown("**Verdicts recorded**")
if not verdicts:
    st.caption("No verdicts yet. They stay for this session, on every page, for this file.")
else:
    summary = rv.summarize_verdicts(verdicts, lanes=codes)
    for text in rv.verdict_sentences(summary):
        st.markdown("- " + safe.md_escape(text))
    cfg = {c: st.column_config.NumberColumn(c, format="percent") for c in ("share", "low", "high")}
    safe.table(summary, key="rev_summary", file_name="verdict_summary.csv", column_config=cfg,
               header_lines=[f"file: {ds.source}", "95% Wilson intervals"])
    st.markdown("**Every verdict**")
    safe.table(rv.verdicts_table(ds, verdicts, rows, subject=subject), key="rev_verdicts",
               file_name="verdicts.csv", header_lines=[f"file: {ds.source}", f"lanes: {lanes}"],
               label="Download verdicts (CSV)")

    marked = rv.marked_rows(verdicts, "label wrong")
    if marked and st.toggle(f"Apply label corrections ({len(marked)} marked “label wrong”)", key="rev_apply"):
        correction = state.memo(("corrected", ds.content_hash, ds.roles, threshold, marked),
                                lambda: rv.apply_label_corrections(ds, verdicts, threshold=threshold))
        headline = rv.correction_metrics(ds)
        before = state.memo(("review_metrics", ds.content_hash, ds.roles, threshold, tuple(headline)),
                            lambda: evaluate(ds, threshold=threshold, metrics=headline))
        after = state.memo(("review_metrics", correction.dataset.content_hash, ds.roles, threshold,
                            tuple(headline)),
                           lambda: evaluate(correction.dataset, threshold=threshold, metrics=headline))
        compared = rv.compare_metrics(before, after)
        st.markdown("**Metrics " + safe.md_escape(correction.description) + ", next to the originals**")
        cfg = {"corrected": st.column_config.NumberColumn(correction.description, format="%.4f"),
               "original": st.column_config.NumberColumn("original", format="%.4f")}
        safe.table(compared, key="rev_corrected", file_name="metrics_corrected.csv", column_config=cfg,
                   header_lines=[f"file: {ds.source}", correction.description, f"threshold: {threshold:g}"])
