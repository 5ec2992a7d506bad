"""Segments: for whom does the model work? Metrics per segment with intervals, flags and impact."""

import streamlit as st

from mlimpact import slices
from mlimpact.errors import InputError
from mlimpact.metrics import METRICS, default_metrics, main_metric
from mlimpact.report import charts
from ui import columns as cols
from ui import computed, links, safe, share, sidebar, slice_panel, state, weak_slices, widgets

ds, fs = sidebar.require_dataset("segments")
threshold = fs.threshold
st.title("Segments")

candidates = slices.segment_candidates(ds)
if not candidates:
    st.info("This file has no columns to segment by. Add a segment column (region, channel…) to the file.")
    st.stop()
view = state.view_for(ds.content_hash)  # what a shared link restores, and what the page remembers
links.page("seg", ds.content_hash[:12])
saved = [c for c in (view.get("segcols") or ()) if c in candidates][:2] or candidates[:1]

metrics = default_metrics(ds)
c1, c2 = st.columns([3, 2])
columns = c1.multiselect("Segment by (one column, or two to cross them)", candidates, default=saved,
                         max_selections=2, key=f"seg_columns_{ds.content_hash[:12]}")
start_metric = view.get("metric") if view.get("metric") in metrics else main_metric(ds.task)
metric = c2.selectbox("Metric", metrics, index=widgets.index_of(metrics, start_metric),
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
share.restore_selection(view, ds.frame.columns)  # a link's selected segment

edges = None
try:
    edges = slices.parse_bin_edges(edges_text, ds.frame.columns)
except InputError as exc:
    safe.error(exc)

key = ("segments", ds.content_hash, ds.roles, threshold, tuple(columns), int(min_size), int(top_k), int(n_bins),
       str(edges))


def segment_table(cols):
    return slices.segment_table(ds, cols, threshold=threshold, metrics=metrics, min_size=int(min_size),
                                top_k=int(top_k), n_bins=int(n_bins), edges=edges, sort_by="impact")


with safe.stop_on_input_error(), st.spinner("Computing metrics per segment…"):
    table = state.memo(key, lambda: segment_table(columns))
state.prefetch([(key[:4] + ((c,),) + key[5:], lambda c=c: segment_table([c]))  # the next column asked for
                for c in [c for c in candidates if [c] != list(columns)][:state.PREFETCH_MAX]])

rows = slices.metric_rows(table, metric, sort_by)
m = METRICS[metric]
overall_value = slices.metric_value(computed.overall(ds, threshold), metric)
st.caption(safe.md_escape(slices.segments_summary(rows, len(table), metric, int(min_size))))
if len(columns) == 1:
    col = columns[0]
    domain = slices.segment_codes(ds, [col], n_bins=int(n_bins), top_k=int(top_k), edges=edges).labels[col].tolist()
    safe.chart(safe.lazy(charts.segment_bar_chart, rows, metric=metric, label=m.label, column=col, overall=overall_value,
                                        domain=domain, direction=m.direction), key="seg_bars", on_select="rerun")
    if (bar := widgets.chart_pick("seg_bars", charts.SEGMENT_SELECTION)) is not None:  # a clicked bar: its segment
        st.session_state[state.SELECTED_SEGMENT] = {col: bar["segment_value"]}
else:
    safe.chart(safe.lazy(charts.segment_heatmap, rows, metric=metric, label=m.label, columns=list(columns),
                                      direction=m.direction), key="seg_heatmap", on_select="rerun")
    if (cell := widgets.chart_pick("seg_heatmap", charts.SEGMENT_SELECTION)) is not None:  # a clicked cell
        st.session_state[state.SELECTED_SEGMENT] = {c: cell[c] for c in columns if c in cell}

st.markdown("**Pick a row to carry that segment to the other pages**")
picked = widgets.pick_table(slices.segment_display(rows, columns, ds.task), column_config=cols.segments(
    m.kind, min_size), key=widgets.digest_key("seg_table_", key, metric, sort_by))
widgets.download_csv("Download CSV (all metrics)", table, "segments.csv", header_lines=[
    f"file: {ds.source}", f"threshold: {threshold:g}", f"segments: {', '.join(columns)}"])
if segment := slices.segment_of_row(rows, columns, picked):
    st.session_state[state.SELECTED_SEGMENT] = segment
sel = share.publish_selection(view)
if sel:
    st.caption(safe.md_escape("Selected segment (used by the other pages): "
                              + " and ".join(f"{k} = {v}" for k, v in sel.items())))
    slice_panel.offer(ds, sel, "seg_to_slice")

slice_panel.saved_slices_table(fs.dataset, threshold, metric)  # the slices you named, as segments of their own

# ----------------------------------------------------------------------------- weak slices
weak_slices.show(ds, threshold, metrics)
