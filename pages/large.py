"""Large data: a folder or query on the server, summarized on DuckDB without reading its rows into memory."""

import streamlit as st

from ui import large_data, sidebar

sidebar.current()
st.title("Large data")
st.caption("Folders and tables on the server too large for the other pages: headline metrics with 95% intervals and every "
           "segment's metrics, counted where the data lives (binary and regression models).")
large_data.render()
