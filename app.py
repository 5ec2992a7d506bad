"""mlimpact: entry point. Only routes: every page renders the shared frame itself (see ui/frame.py)."""

import time

import streamlit as st

from mlimpact.trace import run_time
from ui import nav

nav.page_config()
page = st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
                      for i, (path, title, icon) in enumerate(nav.available())], position="hidden")
start = time.perf_counter()
try:
    page.run()
finally:  # the server's share of a click, for bench/bench_live.py (written only when MLIMPACT_TRACE_RUNS is set)
    run_time(page.title, time.perf_counter() - start)
