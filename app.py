"""mlimpact: entry point. Only routes: every page renders the shared frame itself (see ui/frame.py)."""

import streamlit as st

from ui import nav

nav.page_config()
st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
               for i, (path, title, icon) in enumerate(nav.available())], position="hidden").run()
