"""mlimpact: entry point. Only routes: every page draws the shared sidebar itself (ui.sidebar.require_dataset)."""

import streamlit as st

from ui import nav

nav.page_config()
st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
               for i, (path, title, icon) in enumerate(nav.available())], position="hidden").run()
