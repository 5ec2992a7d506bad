"""The line at the top of every page that says which columns it shows, and a one-click switch of label."""

from __future__ import annotations

import streamlit as st

from mlimpact.io import Dataset, infer_positive, infer_task
from mlimpact.io.decision import rate_mismatch
from mlimpact.io.load import Source, apply_roles
from mlimpact.io.profile import columns_sentence, label_alternatives

from . import meeting, safe, state


def _use_label(source: Source, column: str) -> None:
    """Make ``column`` the label in the saved roles; the sidebar's widgets are redrawn from them."""
    h = source.content_hash[:12]
    task = infer_task(source.frame[column])[0]
    positive = infer_positive(source.frame[column])[0] if task == "binary" else None
    saved = st.session_state[state.ROLES].get(source.content_hash, source.guess.roles)
    st.session_state[state.ROLES][source.content_hash] = apply_roles(source.guess, {"label": column}).replace(
        task=task, positive=positive, segments=saved.segments)
    for key in (f"role_label_{h}", f"role_task_{h}", f"role_pos_{h}"):  # redrawn from the saved roles
        st.session_state.pop(key, None)


def _use_threshold(source: Source, value: float) -> None:
    st.session_state[state.THRESHOLD][source.content_hash] = value
    st.session_state.pop(f"threshold_{source.content_hash[:12]}", None)  # redrawn from the saved value


def show(source: Source, dataset: Dataset, threshold: float, threshold_why: str | None) -> None:
    """Name the label, its positive class, the score and the threshold; offer the other label-like columns."""
    st.caption(safe.md_escape(columns_sentence(dataset, threshold, threshold_why=threshold_why)))
    if meeting.is_on():
        return
    if dataset.task == "binary" and dataset.score is not None:
        mismatch = rate_mismatch(dataset.score, dataset.y, threshold)
        if mismatch:
            sentence, matching = mismatch
            with st.container(horizontal=True, vertical_alignment="center"):
                st.caption(safe.md_escape(sentence))
                st.button(safe.md_escape(f"Use {matching:.4g} (flags as many rows as are positive)"),
                          key="use_matching_threshold", type="tertiary", on_click=_use_threshold,
                          args=(source, matching), icon=":material/tune:")
    others = label_alternatives(source.guess, dataset.roles)
    if others:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.caption(safe.md_escape("Also looks like a label: " + ", ".join(others) + "."))
            for column in others[:2]:
                st.button(safe.md_escape(f"Use {column} as the label"), key=f"use_label_{column}", type="tertiary",
                          on_click=_use_label, args=(source, column), icon=":material/swap_horiz:")
