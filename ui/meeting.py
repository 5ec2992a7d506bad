"""Meeting mode: key numbers and charts only, larger, for a projector; a toggle and the ``meeting=1`` link flag.

In meeting mode the sidebar holds only the navigation and this toggle (the frame draws no other
controls; every choice stays as it was), and the style sheet hides the pages' own controls.

The style sheet below is a constant (no user data can reach it); it is the only HTML the app writes.
"""

from __future__ import annotations

import streamlit as st

from . import share, state

#: Hides controls and chrome, enlarges headline numbers. Constant text: never formatted with data.
MEETING_CSS = """<style>
header[data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stMain"] [data-testid="stExpander"], [data-testid="stMain"] .stDownloadButton,
[data-testid="stMain"] .stSelectbox, [data-testid="stMain"] .stMultiSelect, [data-testid="stMain"] .stNumberInput,
[data-testid="stMain"] .stTextInput, [data-testid="stMain"] .stRadio, [data-testid="stMain"] .stSlider,
[data-testid="stMain"] .stCheckbox, [data-testid="stMain"] .stToggle, [data-testid="stMain"] .stTextArea
{ display: none !important; }
[data-testid="stMetricValue"] { font-size: 3.4rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem !important; }
[data-testid="stMain"] h1 { font-size: 3rem !important; }
</style>"""


def is_on() -> bool:
    return bool(st.session_state.get(state.MEETING))


TOGGLE = "meeting_toggle"


def _changed() -> None:
    st.session_state[state.MEETING] = bool(st.session_state[TOGGLE])


def toggle() -> None:
    """The sidebar toggle (default from the link) and the style when on.

    ``state.MEETING`` is the truth; the toggle is set from it before it is drawn (each page draws
    its own toggle), and its callback writes back, so the mode survives page switches.
    """
    if state.MEETING not in st.session_state:
        st.session_state[state.MEETING] = bool(share.pending("meeting", False))
    st.session_state[TOGGLE] = is_on()
    on = st.toggle("Meeting mode", key=TOGGLE, on_change=_changed,
                   help="Hides the controls, enlarges the key numbers; also as a link: add ?meeting=1")
    if on:
        st.html(MEETING_CSS)
