"""mlimpact: entry point. Only routes: every page renders the shared frame itself (see ui/frame.py)."""

import streamlit as st

st.set_page_config(page_title="mlimpact: what is the model worth?", page_icon=":material/insights:",
                   layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/speed:", default=True),
    st.Page("pages/segments.py", title="Segments", icon=":material/view_column:"),
    st.Page("pages/data.py", title="Data", icon=":material/table:"),
]

st.navigation(PAGES).run()
