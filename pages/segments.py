"""Segments: for whom does the model work? Metrics per segment with intervals, flags and impact."""

import streamlit as st

from mlimpact import charts
from mlimpact.errors import InputError
from mlimpact.evaluate import default_metrics, evaluate
from mlimpact.export import to_safe_csv
from mlimpact.metrics import METRICS
from mlimpact.slicing import segment_codes, segment_table
from ui import frame, safe, state

ds, fs = frame.require_dataset()
threshold = fs.threshold
st.title("Segments")

roles = ds.roles
not_segments = {roles.label, roles.score, roles.prediction, roles.id, roles.time, *roles.class_scores}
candidates = list(roles.segments) + [c for c in ds.frame.columns if c not in not_segments and c not in roles.segments]
if not candidates:
    st.info("This file has no columns to segment by. Add a segment column (region, channel…) to the file.")
    st.stop()
saved = st.session_state.get(state.SEGMENT_COLUMNS) or candidates[:1]
saved = [c for c in saved if c in candidates] or candidates[:1]

metrics = default_metrics(ds)
preferred = {"binary": "recall", "multiclass": "accuracy", "regression": "mae"}[ds.task]
c1, c2 = st.columns([3, 2])
columns = c1.multiselect("Segment by (one column, or two to cross them)", candidates, default=saved,
                         max_selections=2, key=f"seg_columns_{ds.content_hash[:12]}")
metric = c2.selectbox("Metric", metrics, index=metrics.index(preferred) if preferred in metrics else 0,
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
st.session_state[state.SEGMENT_COLUMNS] = list(columns)

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

shown_cols = list(columns) + ["n", "positives", "value", "low", "high", "rest_value", "difference", "q_value",
                              "significantly_worse", "small", "impact", "note"]
fmt = "percent" if m.kind == "proportion" else "%.4f"
config = {c: st.column_config.NumberColumn(c, format=fmt) for c in ("value", "low", "high", "rest_value", "difference")}
config["q_value"] = st.column_config.NumberColumn("q value", format="%.3g")
config["impact"] = st.column_config.NumberColumn("impact", format="%.1f",
                                                 help="rows × gap to overall in the bad direction")
st.markdown("**Pick a row to carry that segment to the other pages**")
event = st.dataframe(rows[shown_cols], hide_index=True, column_config=config, on_select="rerun",
                     selection_mode="single-row", key=f"seg_table_{'_'.join(columns)}")
st.download_button("Download CSV (all metrics)", to_safe_csv(
    table, header_lines=[f"file: {ds.source}", f"threshold: {threshold:g}", f"segments: {', '.join(columns)}"]),
    file_name="segments.csv", mime="text/csv", on_click="ignore", icon=":material/download:")
picked = event.selection.rows if event is not None else []
if picked:
    row = rows.iloc[picked[0]]
    st.session_state[state.SELECTED_SEGMENT] = {c: str(row[c]) for c in columns}
sel = st.session_state.get(state.SELECTED_SEGMENT)
if sel:
    st.caption(safe.md_escape("Selected segment (used by the other pages): "
                              + " and ".join(f"{k} = {v}" for k, v in sel.items())))
