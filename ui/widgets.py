"""Widget plumbing the pages share: start values for keyed widgets, picked rows, CSV downloads, progress.

Nothing here computes a number; it only moves values between widgets, session state and the package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from mlimpact.io import to_safe_csv


def seed(values: dict) -> None:
    """Give keyed widgets their start values, once (a widget's own value wins after that)."""
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


def keep_valid(key: str, options: Sequence, start) -> None:
    """Set a keyed widget to ``start`` unless it already holds one of ``options``."""
    if key not in st.session_state or st.session_state[key] not in options:
        st.session_state[key] = start


def index_of(options: Sequence, value, default: int = 0) -> int:
    """The position of ``value`` in ``options`` (``default`` when it is not one of them)."""
    return options.index(value) if value in options else default


def digest_key(prefix: str, *parts) -> str:
    """A widget key that changes whenever ``parts`` change (so a stale table selection is never reused)."""
    return prefix + hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


def pick_table(frame: pd.DataFrame, *, key: str, column_config: dict | None = None) -> list[int]:
    """A table whose rows can be picked, one at a time; returns the picked row positions."""
    event = st.dataframe(frame, hide_index=True, column_config=column_config, on_select="rerun",
                         selection_mode="single-row", key=key)
    return list(event.selection.rows) if event is not None else []


def chart_pick(key: str, selection: str) -> dict | None:
    """The first point picked on the chart with widget ``key`` under its selection parameter, or None."""
    event = st.session_state.get(key)
    picked = (event or {}).get("selection", {}).get(selection) if event else None
    return picked[0] if picked else None


def download_csv(label: str, frame: pd.DataFrame, file_name: str, header_lines: list[str] | None = None,
                 key: str | None = None) -> None:
    """A formula-safe CSV download of ``frame``, with comment lines on top."""
    st.download_button(label, to_safe_csv(frame, header_lines=header_lines), file_name=file_name, mime="text/csv",
                       on_click="ignore", icon=":material/download:", key=key)


def metric_row(numbers: list[dict[str, str]]) -> None:
    """Bordered headline metrics side by side, from ``label``/``value``/``help`` dicts."""
    for col, number in zip(st.columns(len(numbers)), numbers, strict=True):
        col.metric(number["label"], number["value"], border=True, help=number["help"])


@contextmanager
def progress(show: bool, text: str) -> Iterator:
    """A progress bar while a long computation runs (``show=False``: none); yields ``report(fraction, message)``."""
    bar = st.progress(0.0, text=text) if show else None

    def report(fraction: float, message: str) -> None:
        if bar is not None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    try:
        yield report
    finally:
        if bar is not None:
            bar.empty()
