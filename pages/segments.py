"""Segments: for whom does the model work? Metrics per segment with intervals, flags and impact."""

import hashlib
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import streamlit as st

from mlimpact.errors import InputError
from mlimpact.io import to_safe_csv
from mlimpact.metrics import METRICS, default_metrics, evaluate
from mlimpact.report import charts
from mlimpact.slices import (
    ERROR_KINDS,
    rerank_slices,
    search_weak_slices,
    segment_codes,
    segment_table,
    slice_sentence,
)
from ui import safe, share, sidebar, state

ROOT = Path(__file__).resolve().parents[1]
ds, fs = sidebar.require_dataset()
threshold = fs.threshold
st.title("Segments")

roles = ds.roles
not_segments = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
                *roles.class_scores, *roles.other_scores}
candidates = list(roles.segments) + [c for c in ds.frame.columns if c not in not_segments and c not in roles.segments]
if not candidates:
    st.info("This file has no columns to segment by. Add a segment column (region, channel…) to the file.")
    st.stop()
view = state.view_for(ds.content_hash)  # what a shared link restores, and what the page remembers
saved = [c for c in (view.get("segcols") or ()) if c in candidates][:2] or candidates[:1]

metrics = default_metrics(ds)
preferred = {"binary": "recall", "multiclass": "accuracy", "regression": "mae"}[ds.task]
c1, c2 = st.columns([3, 2])
columns = c1.multiselect("Segment by (one column, or two to cross them)", candidates, default=saved,
                         max_selections=2, key=f"seg_columns_{ds.content_hash[:12]}")
start_metric = view.get("metric") if view.get("metric") in metrics else preferred
metric = c2.selectbox("Metric", metrics, index=metrics.index(start_metric) if start_metric in metrics else 0,
                      format_func=lambda m: METRICS[m].label, key="seg_metric")
with st.expander("Options"):
    o1, o2, o3, o4 = st.columns(4)
    min_size = o1.number_input("Minimum rows per segment", 1, 100_000, 30, key="seg_min_size",
                               help="Smaller segments are flagged as small (their intervals are wide), not hidden.")
    top_k = o2.number_input("Values kept per column", 2, 200, 20, key="seg_top_k",
                            help="Rarer values are folded into “Other”.")
    n_bins = o3.number_input("Bins for numeric columns", 2, 20, 5, key="seg_bins")
    sort_by = o4.radio("Sort by", ["impact", "metric"], key="seg_sort", horizontal=True,
                       help="impact = rows × gap to overall, in the bad direction; metric = worst first")
    edges_text = st.text_input("Custom bin edges for a numeric column, e.g. `amount: 0, 100, 500`", key="seg_edges")
if not columns:
    st.info("Pick one or two columns to segment by.")
    st.stop()
view.update(segcols=tuple(columns), metric=metric)
st.session_state[state.SEGMENT_COLUMNS] = list(columns)  # other pages start from the same segment column
share.publish({"segcols": tuple(columns), "metric": metric})
if view.get("sel") and st.session_state.get(state.SELECTED_SEGMENT) is None:  # a link's selected segment
    pairs = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in str(view["sel"]).split("|") if "=" in p)}
    if pairs and set(pairs) <= set(ds.frame.columns):
        st.session_state[state.SELECTED_SEGMENT] = pairs

edges = None
if edges_text.strip():
    try:
        name, _, values = edges_text.partition(":")
        edges = {name.strip(): [float(v) for v in values.split(",") if v.strip()]}
        if name.strip() not in ds.frame.columns:
            raise InputError(f"column `{name.strip()}` is not in the file")
    except ValueError as exc:
        safe.error(f"Bin edges: {exc}. Write them as `column: 0, 100, 500`.")
        edges = None

key = ("segments", ds.content_hash, ds.roles, threshold, tuple(columns), int(min_size), int(top_k), int(n_bins),
       str(edges))
try:
    with st.spinner("Computing metrics per segment…"):
        table = state.memo(key, lambda: segment_table(ds, columns, threshold=threshold, metrics=metrics,
                                                      min_size=int(min_size), top_k=int(top_k), n_bins=int(n_bins),
                                                      edges=edges, sort_by="impact"))
except InputError as exc:
    safe.error(exc)
    st.stop()

rows = table[table["metric"] == metric]
if sort_by == "metric":
    rows = rows.sort_values("value", ascending=METRICS[metric].direction == "higher", na_position="last")
m = METRICS[metric]
overall_table = state.memo(("overall", ds.content_hash, ds.roles, threshold),
                           lambda: evaluate(ds, threshold=threshold, metrics=metrics))
overall_value = float(overall_table.loc[overall_table["metric"] == metric, "value"].iloc[0])

flagged = rows[rows["significantly_worse"]]
n_small = int(rows["small"].sum())
summary = (f"{len(flagged)} of {len(rows)} segments are significantly worse than the rest on {m.label.lower()} "
           f"(Benjamini–Hochberg at 5% over all {len(table):,} tests shown).")
if n_small:
    summary += f" {n_small} segments have fewer than {int(min_size)} rows: their intervals are wide."
st.caption(safe.md_escape(summary))

if len(columns) == 1:
    col = columns[0]
    domain = segment_codes(ds, [col], n_bins=int(n_bins), top_k=int(top_k), edges=edges).labels[col].tolist()
    safe.chart(charts.segment_bar_chart(rows, metric=metric, label=m.label, column=col, overall=overall_value,
                                             domain=domain, direction=m.direction))
else:
    safe.chart(charts.segment_heatmap(rows, metric=metric, label=m.label, columns=list(columns),
                                           direction=m.direction))

shown_cols = list(columns) + ["n"] + (["positives"] if ds.task == "binary" else []) + [
    "value", "low", "high", "rest_value", "difference", "q_value", "significantly_worse", "small", "impact", "note"]
fmt = "percent" if m.kind == "proportion" else "%.4f"
config = {c: st.column_config.NumberColumn(c, format=fmt) for c in ("value", "low", "high", "rest_value", "difference")}
config["q_value"] = st.column_config.NumberColumn("q value", format="%.3g",
                                                  help="Benjamini–Hochberg adjusted p-value of the test against the rest")
config["rest_value"] = st.column_config.NumberColumn("rest", format=fmt, help="the metric on all other rows")
config["significantly_worse"] = st.column_config.CheckboxColumn("significantly worse")
config["small"] = st.column_config.CheckboxColumn("small", help=f"fewer than {int(min_size)} rows")
config["impact"] = st.column_config.NumberColumn("impact", format="%.1f",
                                                 help="rows × gap to overall in the bad direction")
st.markdown("**Pick a row to carry that segment to the other pages**")
event = st.dataframe(rows[shown_cols].assign(note=rows["note"].fillna("")), hide_index=True, column_config=config, on_select="rerun",
                     selection_mode="single-row",
                     key="seg_table_" + hashlib.sha1(repr((key, metric, sort_by)).encode()).hexdigest()[:12])
st.download_button("Download CSV (all metrics)", to_safe_csv(
    table, header_lines=[f"file: {ds.source}", f"threshold: {threshold:g}", f"segments: {', '.join(columns)}"]),
    file_name="segments.csv", mime="text/csv", on_click="ignore", icon=":material/download:")
picked = [i for i in (event.selection.rows if event is not None else []) if i < len(rows)]
if picked:
    row = rows.iloc[picked[0]]
    st.session_state[state.SELECTED_SEGMENT] = {c: str(row[c]) for c in columns}
sel = st.session_state.get(state.SELECTED_SEGMENT)
sel_text = "|".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in sel.items()) if sel else None
share.publish({"sel": sel_text})
if sel_text:
    view["sel"] = sel_text
if sel:
    st.caption(safe.md_escape("Selected segment (used by the other pages): "
                              + " and ".join(f"{k} = {v}" for k, v in sel.items())))

# ----------------------------------------------------------------------------- weak slices
st.divider()
st.subheader("Weak slices")
st.caption("Where does the model err most? Conjunctions of up to three conditions (numeric columns binned), found "
           "automatically. Only slices clearly worse than the rest are listed (Benjamini–Hochberg at 5% over every "
           "slice evaluated), so noise is not presented as a finding.")
kinds = [k for k, tasks in ERROR_KINDS.items() if ds.task in tasks]
w1, w2, w3, w4 = st.columns(4)
kind = w1.selectbox("Error", kinds, key="seg_ws_kind", format_func=lambda k: k.replace("_", " "))
max_level = w2.selectbox("Conditions per slice", [1, 2, 3], index=2, key="seg_ws_level")
scoring = w3.selectbox("Ranking", ["balanced", "sliceline"], key="seg_ws_scoring",
                       help="balanced: the lower 95% bound of the slice's error rate over the overall rate, so both "
                            "large, moderately bad slices and small, severe ones surface. sliceline: the SliceLine "
                            "score (Sagadeeva & Boehm 2021) with weight α on error against size.")
alpha = w4.number_input("α (sliceline)", 0.01, 1.0, 0.95, 0.01, key="seg_ws_alpha", disabled=scoring != "sliceline")
rerank_options = ["(error rate)"] + [m for m in ("recall", "precision", "roc_auc", "f1", "accuracy", "mae")
                                     if m in metrics]
rerank = st.selectbox("Re-rank the slices found by", rerank_options, key="seg_ws_rerank")

ws_key = ("weak_slices", ds.content_hash, ds.roles, threshold, kind, int(max_level), scoring, float(alpha))
bar = None if state.has_memo(ws_key) else st.progress(0.0, text="Searching slices…")


def progress(fraction: float, message: str) -> None:
    if bar is not None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)


try:
    result = state.memo(ws_key, lambda: search_weak_slices(ds, kind=kind, threshold=threshold, max_level=int(max_level),
                                                           scoring=scoring, alpha=float(alpha), k=10,
                                                           time_budget_s=30.0, progress=progress))
except InputError as exc:
    if bar is not None:
        bar.empty()
    safe.info(f"Weak slices are not available here: {exc}")
    st.stop()
if bar is not None:
    bar.empty()
found = result.slices
done = "" if result.settings.get("complete", True) else " (stopped at the 30 s time budget: partial search)"
st.caption(f"{result.n_evaluated:,} slices evaluated{done}; {len(found)} listed.")
if found.empty:
    st.success("No slice is clearly worse than the rest at these settings.", icon=":material/check_circle:")
else:
    findings = found.assign(finding=[slice_sentence(r, overall=result.overall_error_rate, kind=kind)
                                     for r in found.to_dict("records")])
    shown_ws = findings[["rank", "finding", "ratio_to_overall", "share", "q_value", "n", "error_rate", "low", "high"]]
    if rerank != "(error rate)":
        ranked = state.memo(ws_key + ("rerank", rerank), lambda: rerank_slices(result, ds, metric=rerank,
                                                                                threshold=threshold))
        shown_ws = shown_ws.merge(ranked[["rank", "value", "low", "high"]].rename(
            columns={"value": rerank, "low": f"{rerank}_low", "high": f"{rerank}_high"}), on="rank")
        better_high = METRICS[rerank].direction == "higher"
        shown_ws = shown_ws.sort_values(rerank, ascending=better_high, na_position="last")
    st.markdown("**Pick a slice to open its rows on the Review page**")
    pct = st.column_config.NumberColumn(format="percent")
    ws_event = st.dataframe(shown_ws, hide_index=True, on_select="rerun", selection_mode="single-row",
                            key="seg_ws_table_" + hashlib.sha1(repr((ws_key, rerank)).encode()).hexdigest()[:12],
                            column_config={
                                "share": pct, "finding": st.column_config.TextColumn("finding", width=620),
                                "ratio_to_overall": st.column_config.NumberColumn("× overall", format="%.1f"),
                                "q_value": st.column_config.NumberColumn("q value", format="%.1e"),
                                "rank": st.column_config.NumberColumn("#", width=40)})
    st.download_button("Download CSV (weak slices)", to_safe_csv(shown_ws, header_lines=[
        f"file: {ds.source}", f"error: {kind}", f"threshold: {threshold:g}", f"ranking: {scoring}",
        f"slices evaluated: {result.n_evaluated}"]), file_name="weak_slices.csv", mime="text/csv",
        on_click="ignore", icon=":material/download:")
    picked_ws = [i for i in (ws_event.selection.rows if ws_event is not None else []) if i < len(shown_ws)]
    if picked_ws:
        rank = int(shown_ws.iloc[picked_ws[0]]["rank"])
        i = int(np.flatnonzero(found["rank"].to_numpy() == rank)[0])
        st.session_state[state.SELECTED_ROWS] = {"content_hash": ds.content_hash, "roles": ds.roles,
                                                 "description": str(found.iloc[i]["description"]),
                                                 "rows": result.row_indices(i)}
    chosen = st.session_state.get(state.SELECTED_ROWS)
    if chosen and chosen.get("content_hash") == ds.content_hash and chosen.get("roles") == ds.roles:
        st.caption(safe.md_escape(f"Selected slice: {chosen['description']} ({len(chosen['rows']):,} rows)"))
        if (ROOT / "pages" / "review.py").exists():
            st.page_link("pages/review.py", label="Open these rows on the Review page", icon=":material/rate_review:")
