"""Rendering helpers that never let uploaded text become HTML or Markdown."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import altair as alt
import pandas as pd
import streamlit as st

from mlimpact.errors import InputError
from mlimpact.io import to_safe_csv
from mlimpact.report.charts.core import text_alternative
from mlimpact.report.render import RenderError, render_charts

alt.data_transformers.disable_max_rows()  # charts get aggregated data; a limit would only break a large one

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


def vega_spec(ch) -> dict:
    """The chart as a Vega-Lite dict, converted once per draw.

    Without Altair's JSON-schema validation (the chart functions' specs are validated in their tests; here it
    took 0.1–0.35 s a page) and without the default theme's 300-pixel view sizes (as Streamlit's own conversion
    does). Data goes inline; Streamlit sends it to the browser as Arrow.
    """
    spec = ch.to_dict(validate=False)
    theme_view = (alt.theme.get()() if alt.theme.active == "default" else {}).get("config", {}).get("view", {})
    view = spec.get("config", {}).get("view", {})
    for name, value in theme_view.items():
        if view.get(name) == value:
            del view[name]
    if "view" in spec.get("config", {}) and not view:
        del spec["config"]["view"]
    if "config" in spec and not spec["config"]:
        del spec["config"]
    return spec


def chart(ch, *, key: str | None = None, title_space: int = 70, on_select=None, selection_mode=None,
          downloads: bool = True):
    """Show an Altair chart at its own height, with SVG and PNG downloads beneath it (rendered on click).

    Streamlit's content sizing squeezes titled band charts, so the height is passed explicitly.
    ``on_select`` passes through (e.g. ``"rerun"`` for a chart with a selection parameter).
    The chart is converted to Vega-Lite once (:func:`vega_spec`) for the screen, the downloads and the name.
    """
    if not isinstance(getattr(ch, "description", None), str):  # the text alternative screen readers announce
        ch = ch.properties(description=text_alternative(ch))
    height = getattr(ch, "height", None)
    spec = vega_spec(ch)
    options = {"key": key}
    if on_select is not None:
        options["on_select"] = on_select
    if selection_mode is not None:
        options["selection_mode"] = selection_mode
    if isinstance(height, int | float) and height > 0:
        options["height"] = int(height) + title_space
    event = st.vega_lite_chart(spec=dict(spec), **options)  # Streamlit moves the data out of the top level
    if downloads:
        name = key or "chart_" + hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:10]
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
