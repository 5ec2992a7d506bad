"""The Segments page's weak-slice search: its controls, the slices found, and picking one for the Review page.

Streamlit-only: the search, the table and the sentences come from :mod:`mlimpact.slices`.
"""

from __future__ import annotations

import streamlit as st

from mlimpact import slices
from mlimpact.io import Dataset

from . import columns as cols
from . import computed, nav, safe, slice_panel, state, widgets


@st.fragment(run_every=1.0)
def _found_soon(key: tuple) -> None:
    """While the background finds the slices: say so, look again every second, and redraw the page once found."""
    if not state.computing_elsewhere(key):
        st.rerun()  # the whole page: the slices are kept now
    st.info("Finding weak slices in the background (started when the file was opened): they appear here when "
            "found; the rest of the page is ready.", icon=":material/hourglass_top:")


def show(ds: Dataset, threshold: float, metrics: list[str]) -> None:
    """The "Weak slices" section: search with the chosen settings, list the slices, keep the one picked."""
    st.divider()
    st.subheader("Weak slices")
    st.caption("Where does the model err most? Conjunctions of up to three conditions (numeric columns binned), "
               "found automatically. Only slices clearly worse than the rest are listed (Benjamini–Hochberg at 5% "
               "over every slice evaluated), so noise is not presented as a finding.")
    w1, w2, w3, w4 = st.columns(4)
    kind = w1.selectbox("Error", slices.error_kinds(ds.task), key="seg_ws_kind",
                        format_func=lambda k: k.replace("_", " "))
    max_level = w2.selectbox("Conditions per slice", [1, 2, 3], index=2, key="seg_ws_level")
    scoring = w3.selectbox("Ranking", ["balanced", "sliceline"], key="seg_ws_scoring",
                           help="balanced: the lower 95% bound of the slice's error rate over the overall rate, so "
                                "both large, moderately bad slices and small, severe ones surface. sliceline: the "
                                "SliceLine score (Sagadeeva & Boehm 2021) with weight α on error against size.")
    alpha = w4.number_input("α (sliceline)", 0.01, 1.0, 0.95, 0.01, key="seg_ws_alpha",
                            disabled=scoring != "sliceline")
    rerank = st.selectbox("Re-rank the slices found by", slices.rerank_options(metrics), key="seg_ws_rerank")

    ws_key, _ = computed.weak_slices_job(ds, threshold, kind=kind, max_level=max_level, scoring=scoring, alpha=alpha)
    if state.computing_elsewhere(ws_key):  # the warm-up is finding them: the page is ready, the slices follow
        _found_soon(ws_key)
        return
    with safe.stop_on_input_error(lambda exc: safe.info(f"Weak slices are not available here: {exc}")), \
            widgets.progress(not state.has_memo(ws_key), "Searching slices…") as progress:
        result = state.memo(ws_key, computed.weak_slices_job(ds, threshold, kind=kind, max_level=max_level,
                                                             scoring=scoring, alpha=alpha, progress=progress)[1])
    st.caption(slices.search_caption(result))
    if result.slices.empty:
        st.success("No slice is clearly worse than the rest at these settings.", icon=":material/check_circle:")
    else:
        ranked = None if rerank == "(error rate)" else state.memo(ws_key + ("rerank", rerank), lambda: (
            slices.rerank_slices(result, ds, metric=rerank, threshold=threshold)))
        shown_ws = slices.weak_slice_rows(result, kind, ranked, None if ranked is None else rerank)
        st.markdown("**Pick a slice to open its rows on the Review page**")
        picked_rows = widgets.pick_table(shown_ws, key=widgets.digest_key("seg_ws_table_", ws_key, rerank),
                                         column_config=cols.weak_slices())
        widgets.download_csv("Download CSV (weak slices)", shown_ws, "weak_slices.csv", header_lines=[
            f"file: {ds.source}", f"error: {kind}", f"threshold: {threshold:g}", f"ranking: {scoring}",
            f"slices evaluated: {result.n_evaluated}"])
        picked_ws = slices.picked_slice(result, shown_ws, picked_rows)
        if picked_ws:
            st.session_state[state.SELECTED_ROWS] = {"content_hash": ds.content_hash, "roles": ds.roles, **picked_ws}
        chosen = state.selected_rows(ds)
        if chosen:
            st.caption(safe.md_escape(f"Selected slice: {chosen['description']} ({len(chosen['rows']):,} rows)"))
            slice_panel.offer(ds, chosen.get("predicates"), "ws_to_slice")
            if nav.has_page("pages/review.py"):
                st.page_link("pages/review.py", label="Open these rows on the Review page",
                             icon=":material/rate_review:")
