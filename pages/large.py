"""Large data: a folder or query on the server, summarized on DuckDB without reading its rows into memory."""

import streamlit as st

from ui import large_data, large_views, sidebar

fs = sidebar.current()
st.title("Large data")
if fs.dataset is None and not large_views.active():  # the sidebar's file could not be read, or none is chosen
    sidebar.explain(fs)
st.caption("Folders and tables on the server larger than memory, every answer on one page: headline metrics with "
           "95% intervals, every segment's metrics, weak slices, difficulty lanes, business value, models side by "
           "side, metrics over time and the most confident mistakes, counted where the data lives (binary, "
           "multiclass and regression; value: binary, or one class against the rest).")
large_data.render()
