"""The page list, in one place: app.py routes with it, the frame draws the sidebar links from it.

The sidebar navigation is drawn by the app (``st.page_link``), with Streamlit's own hidden
(``position="hidden"`` and ``client.showSidebarNavigation = false``). Streamlit's own list
differs when a page is deep-linked on a freshly started server (it then lists the ``pages/``
files, lower case, plus "app"); ours is the same in every case.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]

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
    ("pages/large.py", "Large data", ":material/database:"),
]


def available() -> list[tuple[str, str, str]]:
    """The pages whose file exists."""
    return [p for p in PAGES if (ROOT / p[0]).exists()]


def page_config() -> None:
    """Wide layout and title; called by app.py and again by every page (a deep-linked page may run alone)."""
    st.set_page_config(page_title="mlimpact: what is the model worth?", page_icon=":material/insights:",
                       layout="wide")


def links() -> None:
    """The sidebar navigation."""
    with st.container(key="mi_nav"):
        for path, title, icon in available():
            st.page_link(path, label=title, icon=icon)


def has_page(path: str) -> bool:
    """Whether the page file ``path`` (relative to the app) exists."""
    return (ROOT / path).exists()
