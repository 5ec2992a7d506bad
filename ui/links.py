"""Links that restore every page: each page's controls in the address bar, allow-listed and validated.

A page calls :func:`page` with its prefix before it draws its widgets. Once per file, a link's values for
that page's controls become the widgets' values (decoded by kind; a value that does not decode is ignored
with a notice, and a value the widget does not offer falls back to the page's default, as Streamlit does);
then the controls' current values are written to the address bar, so it always holds a link to what is on
screen. Nothing from a link is executed: each value is a number, a date, a flag or a short text checked
by :mod:`ui.share` before it is decoded here. The lanes the Difficulty page set travel in every link
(``lanes``), since Impact and Review use them too.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact.errors import InputError

from . import share, state

APPLIED = "mi_links_applied"  # (file hash, parameter) pairs a link already set

def _decode(kind: str, raw: str):
    if kind == "text":
        return raw
    if kind == "date":
        return _dt.date.fromisoformat(raw)
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if kind == "int":
        if value != int(value):
            raise ValueError("not a whole number")
        return int(value)
    return value


def _encode(value) -> str | None:
    if value is None or isinstance(value, list | tuple | dict):
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def page(prefix: str, h: str, *, on_apply: Callable[[], None] | None = None) -> None:
    """Before a page's widgets: apply a link's values for its controls (once per file), then publish them.

    ``prefix``: the page's parameter prefix (``"mon"``, ``"imp"``...). ``on_apply``: called when a link set a
    control (the Difficulty page marks its lanes as set, so its defaults do not overwrite the link's values).
    """
    applied = st.session_state.setdefault(APPLIED, set())
    current = {}
    for param, (template, kind) in share.CONTROLS.items():
        if not param.startswith(prefix + "_"):
            continue
        key = template.format(h=h)
        raw = share.pending(param)
        if raw is not None and (h, param) not in applied:
            applied.add((h, param))
            try:
                st.session_state[key] = _decode(kind, raw)
            except ValueError as exc:
                st.toast(f"Ignored link parameter `{param}`: {exc}", icon=":material/link_off:")
            else:
                if on_apply is not None:
                    on_apply()
        current[param] = _encode(st.session_state.get(key))
    share.publish(current)


def apply_lanes(content_hash: str) -> None:
    """Once per file: the link's lanes become the file's lanes (as if set on the Difficulty page)."""
    raw = share.pending("lanes")
    applied = st.session_state.setdefault(APPLIED, set())
    if raw is None or (content_hash, "lanes") in applied:
        return
    applied.add((content_hash, "lanes"))
    try:
        st.session_state[state.LANES][content_hash] = dif.lanes_from_text(raw)
    except InputError as exc:
        st.session_state.setdefault(share.NOTICES, []).append(f"ignored link parameter `lanes`: {exc}")
        return
    st.session_state.setdefault(state.LANES_SET, set()).add(content_hash)


def lanes_param(content_hash: str) -> str | None:
    """The file's lanes for the address bar, when the user set them."""
    if content_hash not in st.session_state.setdefault(state.LANES_SET, set()):
        return None
    lanes = st.session_state[state.LANES].get(content_hash)
    return None if lanes is None else dif.lanes_text(lanes)


def publish_lanes(content_hash: str) -> None:
    """Right after the Difficulty page saved the file's lanes: the address bar gets them in this run."""
    share.publish({"lanes": lanes_param(content_hash)})
