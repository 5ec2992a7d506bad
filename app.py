"""mlimpact: entry point. Routes pages and renders the shared frame (data, columns, threshold)."""

import streamlit as st

from ui import frame

st.set_page_config(page_title="mlimpact: what is the model worth?", page_icon=":material/insights:",
                   layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/speed:", default=True),
    st.Page("pages/segments.py", title="Segments", icon=":material/view_column:"),
    st.Page("pages/data.py", title="Data", icon=":material/table:"),
]

page = st.navigation(PAGES)
frame.run_page(page)
