"""Rendering helpers that never let uploaded text become HTML or Markdown."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit.dataframe_util import convert_anything_to_arrow_bytes

from mlimpact.errors import InputError
from mlimpact.io import to_safe_csv
from mlimpact.report.charts.core import text_alternative
from mlimpact.report.render import RenderError, render_charts

from . import state

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


@dataclass(frozen=True, eq=False)
class Lazy:
    """A chart to build only when its inputs changed: ``build(*args, **kwargs)`` (see :func:`lazy`)."""

    build: Callable
    args: tuple
    kwargs: dict
    file: str | None = None  # content hash of the file whose shared store keeps the drawing (None: the one in use)


def lazy(build: Callable, *args, **kwargs) -> Lazy:
    """Hand :func:`chart` the chart function and its inputs rather than the chart: on a rerun with the same
    inputs (the same tables, compared by content) the Vega-Lite of the last draw is reused, so a click elsewhere
    on the page does not rebuild and reconvert every chart; and it is drawn once for every session of the file
    in use (kept in its shared store, :meth:`ui.store.FileStore.chart`), reached only with inputs of the same
    content, which such a session computed itself."""
    return Lazy(build, args, kwargs)


def lazy_shared(content_hash: str, build: Callable, *args, **kwargs) -> Lazy:
    """:func:`lazy` for the file ``content_hash``: a background step (:func:`chart_step`) can draw it before the
    click that shows it."""
    return Lazy(build, args, kwargs, content_hash)


def _key_of(ch: Lazy):
    try:
        return (ch.build.__module__, ch.build.__qualname__, _fingerprint(ch.args), _fingerprint(ch.kwargs))
    except TypeError:
        return None


def chart_step(ch: Lazy, store) -> None:
    """Draw a :func:`lazy_shared` chart into its file's ``store`` (in a :func:`ui.state.prefetch_steps` step)."""
    key = _key_of(ch)
    if key is not None:
        store.chart(key, lambda: _drawn(ch.build(*ch.args, **ch.kwargs)))


def _fingerprint(value):
    """A hashable summary of a chart input that changes when its content does (TypeError: cannot tell)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        rows = hashlib.sha1(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()).hexdigest()
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        return ("frame", tuple(map(str, frame.columns)), tuple(map(str, frame.dtypes)), rows,
                repr(sorted(value.attrs.items(), key=str)))
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest())
    if isinstance(value, list | tuple):
        return (type(value).__name__, *map(_fingerprint, value))
    if isinstance(value, dict):
        return ("dict", *sorted(((str(k), _fingerprint(v)) for k, v in value.items()), key=repr))
    hash(value)  # anything else must be a plain hashable value
    return value


def _drawn(ch) -> tuple[dict, dict, int | None]:
    """(the Vega-Lite for the screen, with its data as Arrow; the plain Vega-Lite for downloads; height)."""
    if isinstance(ch, Lazy):
        key = _key_of(ch)

        def draw():
            return _drawn(ch.build(*ch.args, **ch.kwargs))

        return state.kept(state.CHARTS, key, (lambda: state.shared_chart(ch.file, key, draw)) if key is not None
                          else draw, state.MAX_CHARTS)
    if not isinstance(getattr(ch, "description", None), str):  # the text alternative screen readers announce
        ch = ch.properties(description=text_alternative(ch))
    height = getattr(ch, "height", None)
    spec = vega_spec(ch)
    screen = {**spec, "datasets": {name: convert_anything_to_arrow_bytes(rows)
                                   for name, rows in spec.get("datasets", {}).items()}}
    return screen, spec, int(height) if isinstance(height, int | float) and height > 0 else None


def chart(ch, *, key: str | None = None, title_space: int = 70, on_select=None, selection_mode=None,
          downloads: bool = True):
    """Show an Altair chart (or a :func:`lazy` one) at its own height, with SVG and PNG downloads beneath it
    (rendered on click).

    Streamlit's content sizing squeezes titled band charts, so the height is passed explicitly.
    ``on_select`` passes through (e.g. ``"rerun"`` for a chart with a selection parameter).
    The chart is converted to Vega-Lite once (:func:`vega_spec`) for the screen, the downloads and the name.
    """
    screen, spec, height = _drawn(ch)
    options = {"key": key}
    if on_select is not None:
        options["on_select"] = on_select
    if selection_mode is not None:
        options["selection_mode"] = selection_mode
    if height is not None:
        options["height"] = height + title_space
    event = st.vega_lite_chart(spec=dict(screen), **options)  # Streamlit moves the data out of the top level
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
