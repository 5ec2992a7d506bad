"""The Difficulty page's policy inputs, and whether the user has set the file's lanes.

The page always shows lanes; they reach the Impact and Review pages and the report only once the user
sets them (changes a control, or keeps the defaults with the button). Until then the controls follow the
defaults :func:`mlimpact.difficulty.default_start` derives from the file. Streamlit-only.
"""

from __future__ import annotations

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact.io import Dataset

from . import safe, state, widgets


def lanes_set(ds: Dataset) -> bool:
    """Whether the user set this file's lanes on the Difficulty page."""
    return ds.content_hash in st.session_state.setdefault(state.LANES_SET, set())


def mark_lanes_set(content_hash: str) -> None:
    """Callback of every Difficulty control: the user has set this file's lanes."""
    st.session_state.setdefault(state.LANES_SET, set()).add(content_hash)


def touched(ds: Dataset) -> dict:
    """Widget keyword arguments that mark the lanes as set when the widget changes."""
    return {"on_change": mark_lanes_set, "args": (ds.content_hash,)}


def forget_lanes(content_hash: str) -> None:
    """Back to the defaults: the lanes leave the other pages and the controls follow the defaults again."""
    st.session_state.setdefault(state.LANES_SET, set()).discard(content_hash)
    st.session_state[state.LANES].pop(content_hash, None)


def start_values(values: dict, *, user_set: bool) -> None:
    """Widgets start from ``values``: once when the user has set the lanes, else on every run (the controls
    follow the defaults, which follow the threshold, until the user changes one)."""
    if user_set:
        widgets.seed(values)
    else:
        for key, value in values.items():
            st.session_state[key] = value


def lane_policy(ds: Dataset, start: dif.LanePolicy, *, user_set: bool) -> tuple[str, dif.LanePolicy]:
    """How the cut-offs are chosen (``method``) and the policy the inputs describe."""
    h = ds.content_hash[:12]
    start_values({f"dif_{name}_{h}": value for name, value in dif.policy_inputs(start).items()}, user_set=user_set)
    mark = touched(ds)
    method = st.radio("Choose the cut-offs by", list(dif.METHODS), format_func=dif.METHOD_LABELS.get, horizontal=True,
                      key=f"dif_method_{h}", **mark)
    p1, p2, p3, p4 = st.columns(4)
    target_pct = p1.number_input("Target: errors among automated decisions (%)", min_value=0.01, max_value=99.0,
                                 step=0.1, format="%.2f", key=f"dif_target_{h}", **mark)
    reviewers = p2.number_input("Reviewers", min_value=0, max_value=100_000, step=1, key=f"dif_reviewers_{h}", **mark)
    per_reviewer = p3.number_input("Cases per reviewer per day", min_value=0, max_value=10_000_000, step=10,
                                   key=f"dif_per_reviewer_{h}", **mark)
    per_day = p4.number_input("Cases per day", min_value=1, max_value=1_000_000_000, step=1, key=f"dif_per_day_{h}",
                              **mark)
    with safe.stop_on_input_error():
        return method, dif.policy_from_inputs(method, target_pct, reviewers, per_reviewer, per_day)


def keep_or_reset(ds: Dataset, user_set: bool) -> None:
    """Say whether the lanes are in use elsewhere, with the button that keeps the defaults or goes back to them."""
    h = ds.content_hash[:12]
    if user_set:
        st.caption("These lanes are in use on the Impact and Review pages and in the report.")
        st.button("Back to the defaults", on_click=forget_lanes, args=(ds.content_hash,), key=f"dif_reset_{h}")
    else:
        st.caption("These are the defaults: the Impact page adds no review lanes until you change a control above "
                   "or keep them with the button.")
        st.button("Use these lanes on Impact and Review", key=f"dif_keep_{h}", on_click=mark_lanes_set,
                  args=(ds.content_hash,))
