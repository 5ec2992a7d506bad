"""mlimpact: entry point. Only routes: every page renders the shared frame itself (see ui/frame.py)."""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="mlimpact: what is the model worth?", page_icon=":material/insights:",
                   layout="wide")

HERE = Path(__file__).resolve().parent
#: (file, title, icon), in the order of the questions a meeting asks.
PAGES = [
    ("pages/overview.py", "Overview", ":material/speed:"),
    ("pages/segments.py", "Segments", ":material/view_column:"),
    ("pages/difficulty.py", "Difficulty", ":material/call_split:"),
    ("pages/review.py", "Review", ":material/rate_review:"),
    ("pages/impact.py", "Impact", ":material/payments:"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    ("pages/monitoring.py", "Monitoring", ":material/monitor_heart:"),
    ("pages/data.py", "Data", ":material/table:"),
]

st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
               for i, (path, title, icon) in enumerate(PAGES) if (HERE / path).exists()]).run()
