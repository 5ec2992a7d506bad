"""The Difficulty page's per-segment view: who goes to review, and where automated errors land.

Streamlit-only: the grouped curve and the table come from :mod:`mlimpact.difficulty`.
"""

from __future__ import annotations

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact import slices
from mlimpact.io import Dataset
from mlimpact.report.charts import automated_errors_chart, lane_mix_chart

from . import columns as cols
from . import computed, safe, state, widgets


def show(ds: Dataset, curve: dif.LaneCurve, lanes: dif.Lanes, *, subject: str) -> None:
    """Pick a segment column (starting from the segment picked on Segments); lane mix and errors per value."""
    key = f"dif_segment_{ds.content_hash[:12]}"
    candidates = slices.segment_candidates(ds)
    if not candidates:
        return
    st.markdown("**Per segment: who goes to review, and where automated errors land**")
    first = next(iter(state.selected_segment()), None)
    widgets.keep_valid(key, candidates, first if first in candidates else candidates[0])
    column = st.selectbox("Segment column", candidates, key=key)
    with safe.stop_on_input_error():
        sc = computed.segment_codes(ds, column)
        grouped = state.memo(("lane_segments", ds.content_hash, ds.roles, curve.mode, curve.tolerance, column),
                             lambda: dif.segment_curve(curve, sc.codes, sc.n_groups))
    by_segment = dif.lanes_by_segment(grouped, lanes, sc.labels[column].tolist())
    safe.chart(safe.lazy(lane_mix_chart, by_segment, column=column, lanes=dif.lane_columns(curve.two_sided), subject=subject),
               key="dif_mix", title_space=130 if curve.two_sided else 70)
    safe.chart(safe.lazy(automated_errors_chart, by_segment, column=column, domain=sc.labels[column].tolist()),
               key="dif_errors")
    with st.expander("Per-segment table"):
        safe.table(dif.segment_lanes_table(by_segment, column), key="dif_segments",
                   file_name="difficulty_by_segment.csv", column_config=cols.lanes_by_segment(),
                   header_lines=[f"file: {ds.source}", f"lanes: {lanes}", f"segment column: {column}"])
