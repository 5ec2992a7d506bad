"""Rendering helpers that never let uploaded text become HTML or Markdown."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from mlimpact.errors import InputError
from mlimpact.io import to_safe_csv
from mlimpact.report.charts.core import text_alternative
from mlimpact.report.render import RenderError, render_charts

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md_escape(text: object) -> str:
    """Escape every Markdown/HTML-significant character, so user text shows literally in st.markdown sinks."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def error(message: object) -> None:
    """Show an error message (which may quote column names or values from the file) literally."""
    st.error(md_escape(message), icon=":material/error:")


def warning(message: object) -> None:
    st.warning(md_escape(message), icon=":material/warning:")


def info(message: object) -> None:
    st.info(md_escape(message), icon=":material/info:")


@contextmanager
def stop_on_input_error(show: Callable[[InputError], None] | None = None) -> Iterator[None]:
    """Run the block; on bad input show the message (:func:`error`, or ``show``) and stop the page."""
    try:
        yield
    except InputError as exc:
        (show or error)(exc)
        st.stop()


def table(frame: pd.DataFrame, *, key: str, file_name: str, header_lines: list[str] | None = None,
          column_config: dict | None = None, height: int | str = "auto", label: str = "Download CSV") -> None:
    """A dataframe plus a formula-safe CSV download beside it (the grid's own export is disabled in config)."""
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config, height=height, key=key)
    st.download_button(label, to_safe_csv(frame, header_lines=header_lines), file_name=file_name,
                       mime="text/csv", key=f"{key}_csv", on_click="ignore", icon=":material/download:")


def chart(ch, *, key: str | None = None, title_space: int = 70, on_select=None, selection_mode=None,
          downloads: bool = True):
    """Show an Altair chart at its own height, with SVG and PNG downloads beneath it (rendered on click).

    Streamlit's content sizing squeezes titled band charts, so the height is passed explicitly.
    ``on_select`` passes through (e.g. ``"rerun"`` for a chart with a selection parameter).
    """
    if not isinstance(getattr(ch, "description", None), str):  # the text alternative screen readers announce
        ch = ch.properties(description=text_alternative(ch))
    height = getattr(ch, "height", None)
    options = {"key": key}
    if on_select is not None:
        options["on_select"] = on_select
    if selection_mode is not None:
        options["selection_mode"] = selection_mode
    if isinstance(height, int | float) and height > 0:
        event = st.altair_chart(ch, height=int(height) + title_space, **options)
    else:
        event = st.altair_chart(ch, **options)
    if downloads:
        spec = ch.to_dict()
        name = key or "chart_" + hashlib.sha1(ch.to_json().encode()).hexdigest()[:10]
        with st.container(horizontal=True, gap="small"):
            st.download_button("SVG", data=lambda: _rendered(spec, "svg"), file_name=f"{name}.svg",
                               mime="image/svg+xml", key=f"{name}_svg", on_click="ignore", type="tertiary",
                               icon=":material/download:")
            st.download_button("PNG", data=lambda: _rendered(spec, "png"), file_name=f"{name}.png",
                               mime="image/png", key=f"{name}_png", on_click="ignore", type="tertiary",
                               icon=":material/download:")
    return event


def _rendered(spec: dict, fmt: str):
    """The chart as SVG text or PNG bytes, rendered in a child process: a renderer crash costs this
    download (an SVG saying why; an empty PNG), never the server."""
    try:
        return render_charts([spec], fmt=fmt)[0]
    except RenderError as exc:
        if fmt == "svg":
            return ("<svg xmlns='http://www.w3.org/2000/svg' width='640' height='40'><text x='8' y='24'>"
                    f"{html.escape(str(exc))}</text></svg>")
        return b""
