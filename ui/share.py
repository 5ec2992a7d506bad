"""Shareable views: the view state lives in ``st.query_params`` as allow-listed, validated values.

Never data, never pickles: only a sample key or the first 16 hex digits of the file's sha256,
column names, a threshold, a few choices per page. A link restores the view when opened with the
same sample or file; with another file it says so. Unknown or malformed parameters are ignored
with a notice, never a crash.

The view is read once per session (on its first run) and written on every run, so the address
bar always holds a link to what is on screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from mlimpact.impact import MONEY_TERMS
from mlimpact.io import SAMPLES, TASKS
from mlimpact.io.decision import check_threshold
from mlimpact.io.load import Source
from mlimpact.slices import parse_selection, selection_text

from . import state

PENDING = "mi_share_pending"      # validated values from the link, not yet applied
NOTICES = "mi_share_notices"      # messages about ignored parameters, shown once
READ = "mi_share_read"            # the link has been read in this session
APPLIED = "mi_share_applied"      # content hash the link's file-dependent settings were applied to

MAX_TEXT = 200
_HASH = re.compile(r"^[0-9a-f]{8,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_]{1,40}$")


def _text(value: str) -> str:
    if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        raise ValueError("too long or holds control characters")
    return value


def _choice(options) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"not one of {', '.join(map(str, options))}")
        return value
    return check


def _names(value: str) -> tuple[str, ...]:
    parts = tuple(_text(p) for p in value.split(",") if p)
    if len(parts) > 20:
        raise ValueError("more than 20 names")
    return parts


def _hash(value: str) -> str:
    if not _HASH.match(value):
        raise ValueError("not a hexadecimal content hash")
    return value


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError("not 0 or 1")
    return value == "1"


def _word(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("not a simple name")
    return value


@dataclass(frozen=True)
class Param:
    """One allow-listed query parameter: how to check it, and what it means."""

    check: Callable[[str], object]
    what: str


#: Every parameter a link may carry. Anything else is ignored with a notice.
PARAMS: dict[str, Param] = {
    "sample": Param(_choice(list(SAMPLES)), "a bundled sample"),
    "src": Param(_choice(["sample", "upload"]), "where the data came from"),
    "h": Param(_hash, "the file's content hash"),
    "label": Param(_text, "label column"),
    "score": Param(_text, "score column"),
    "prediction": Param(_text, "prediction column"),
    "time": Param(_text, "time column"),
    "id": Param(_text, "id column"),
    "amount": Param(_text, "amount column"),
    "seg": Param(_names, "segment columns"),
    "other": Param(_names, "other models' score columns"),
    "task": Param(_choice(list(TASKS)), "task"),
    "positive": Param(_text, "positive class"),
    "t": Param(check_threshold, "threshold"),
    "meeting": Param(_flag, "meeting mode"),
    # page-level view state (each page reads and writes its own)
    "segcols": Param(_names, "segment columns on the Segments page"),
    "metric": Param(_word, "metric"),
    "sel": Param(_text, "selected segment, column=value"),
}

#: every page control a link carries: parameter -> (widget key, kind); ``{h}`` is the file's short hash
CONTROLS: dict[str, tuple[str, str]] = {
    # Segments (its columns, metric and selection travel as segcols, metric, sel)
    "seg_min_size": ("seg_min_size", "int"), "seg_top_k": ("seg_top_k", "int"), "seg_bins": ("seg_bins", "int"),
    "seg_sort": ("seg_sort", "text"), "seg_edges": ("seg_edges", "text"), "seg_ws_kind": ("seg_ws_kind", "text"),
    "seg_ws_level": ("seg_ws_level", "int"), "seg_ws_scoring": ("seg_ws_scoring", "text"),
    "seg_ws_alpha": ("seg_ws_alpha", "float"), "seg_ws_rerank": ("seg_ws_rerank", "text"),
    # Difficulty (the lanes themselves travel as ``lanes``)
    "dif_mode": ("dif_mode_{h}", "text"), "dif_tolerance": ("dif_tolerance_{h}", "float"),
    # Review
    "rev_segment_column": ("rev_segment_column_{h}", "text"), "rev_segment_value": ("rev_segment_value_{h}", "text"),
    "rev_lane": ("rev_lane", "text"), "rev_error": ("rev_error", "text"), "rev_order": ("rev_order", "text"),
    "rev_n": ("rev_n", "int"), "rev_seed": ("rev_seed", "int"), "rev_strata": ("rev_strata", "text"),
    # Impact
    "imp_class": ("imp_class_{h}", "text"), "imp_class_threshold": ("imp_class_threshold_{h}", "float"),
    **{f"imp_{t}_src": (f"imp_{t}_src_{{h}}", "text") for t in MONEY_TERMS},
    **{f"imp_{t}_num": (f"imp_{t}_num_{{h}}", "float") for t in MONEY_TERMS},
    "imp_scale": ("imp_scale_{h}", "text"), "imp_unit": ("imp_unit_{h}", "text"), "imp_rule": ("imp_rule_{h}", "text"),
    "imp_segment": ("imp_segment_{h}", "text"), "imp_view": ("imp_view", "text"),
    # Compare
    "cmp_segment": ("cmp_segment_{h}", "text"), "cmp_metric": ("cmp_metric_{h}", "text"),
    "cmp_challenger": ("cmp_challenger_{h}", "text"),
    # Monitoring
    "mon_metric": ("mon_metric_{h}", "text"), "mon_period": ("mon_period_{h}", "text"),
    "mon_segment": ("mon_segment_{h}", "text"), "mon_mode": ("mon_mode_{h}", "text"), "mon_k": ("mon_k_{h}", "float"),
    "mon_tol": ("mon_tol_{h}", "float"), "mon_min": ("mon_min_{h}", "float"), "mon_max": ("mon_max_{h}", "float"),
    "mon_ref": ("mon_ref_{h}", "date"), "mon_rule": ("mon_rule_{h}", "text"),
    "mon_min_count": ("mon_min_count_{h}", "int"), "mon_min_pos": ("mon_min_pos_{h}", "int"),
}
PARAMS.update({name: Param(_text, f"a control of the {name.split('_')[0]} page") for name in CONTROLS})
PARAMS["lanes"] = Param(_text, "the lanes set on the Difficulty page")
PARAMS["slices"] = Param(lambda v: _slices(v), "the saved slices")
PARAMS["slice"] = Param(_text, "the active slice")


def _slices(value: str) -> list[tuple[str, str]]:
    """The saved slices of a link: a JSON list of [name, expression] pairs (parsed again before any use)."""
    import json  # noqa: PLC0415 - only links with slices need it

    if len(value) > 4000:
        raise ValueError("longer than 4,000 characters")
    try:
        pairs = json.loads(value)
    except ValueError:
        raise ValueError("not a list of [name, expression] pairs") from None
    if not (isinstance(pairs, list) and len(pairs) <= 50 and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs)):
        raise ValueError("not a list of at most 50 [name, expression] pairs")
    return [(_text(n), e) for n, e in pairs]

ROLE_PARAMS = ("label", "score", "prediction", "time", "id", "amount", "task", "positive")


def parse(raw: dict[str, list[str]]) -> tuple[dict[str, object], list[str]]:
    """Validate query parameters; returns the accepted values and a notice per ignored one.

    >>> parse({"t": ["0.3"], "x": ["1"], "task": ["cubic"]})
    ({'t': 0.3}, ['ignored link parameter `x`: not a setting of this app', 'ignored link parameter `task`: not one of binary, multiclass, regression'])
    """
    values: dict[str, object] = {}
    notices: list[str] = []
    for key, vals in raw.items():
        spec = PARAMS.get(key)
        if spec is None:
            notices.append(f"ignored link parameter `{key[:40]}`: not a setting of this app")
            continue
        try:
            if len(vals) != 1:
                raise ValueError("given more than once")
            values[key] = spec.check(vals[0])
        except (ValueError, TypeError) as exc:
            notices.append(f"ignored link parameter `{key}`: {exc}")
    return values, notices


def read_once() -> None:
    """On a session's first run, validate the link's parameters and keep them for the frame and pages."""
    if st.session_state.get(READ):
        return
    raw = {k: st.query_params.get_all(k) for k in st.query_params}
    values, notices = parse(raw)
    st.session_state[READ] = True
    st.session_state[PENDING] = values
    st.session_state[NOTICES] = notices


def pending(key: str, default=None):
    """A value from the link (validated), or ``default``."""
    return st.session_state.get(PENDING, {}).get(key, default)


def pop_notices() -> list[str]:
    notices = st.session_state.get(NOTICES) or []
    st.session_state[NOTICES] = []
    return notices


def publish(values: dict[str, object]) -> None:
    """Write view values into the address bar (only allow-listed keys; None removes a key)."""
    for key, value in values.items():
        if key not in PARAMS:
            raise KeyError(f"{key} is not an allow-listed link parameter")
        if value is None or value == () or value == "":
            if key in st.query_params:
                del st.query_params[key]
            continue
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, tuple | list):
            text = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def restore_selection(view: dict, columns) -> None:
    """A link's selected segment (kept in the page's ``view``) becomes the session's, unless one is picked."""
    if view.get("sel") and st.session_state.get(state.SELECTED_SEGMENT) is None:
        st.session_state[state.SELECTED_SEGMENT] = parse_selection(view["sel"], columns)


def publish_selection(view: dict) -> dict | None:
    """Write the session's selected segment into the address bar and the page's ``view``; returns it."""
    selected = st.session_state.get(state.SELECTED_SEGMENT)
    text = selection_text(selected)
    publish({"sel": text})
    if text:
        view["sel"] = text
    return selected


def apply_link(source: Source) -> None:
    """Once per file: apply the link's column choices, threshold and page views if it was made for this file."""
    link_hash = pending("h")
    if not st.session_state.get(PENDING) or st.session_state.get(APPLIED) == source.content_hash:
        return
    st.session_state[APPLIED] = source.content_hash
    if link_hash and not source.content_hash.startswith(link_hash):
        st.session_state[NOTICES].append(
            f"This link was made for another file (content hash {link_hash[:16]}…), not {source.name}; "
            "its column choices and settings were not applied.")
        st.session_state[PENDING] = {k: v for k, v in st.session_state[PENDING].items() if k in ("meeting",)}
        return
    values = st.session_state[PENDING]
    cols = set(map(str, source.frame.columns))
    changes = {}
    for key in ROLE_PARAMS:
        if key in values:
            if key in ("task", "positive") or values[key] in cols:
                changes[key] = values[key]
            else:
                st.session_state[NOTICES].append(f"ignored link parameter `{key}`: this file has no such column")
    for key, role in (("seg", "segments"), ("other", "other_scores")):
        if key in values:
            changes[role] = tuple(c for c in values[key] if c in cols)
    if changes:
        st.session_state[state.ROLES][source.content_hash] = source.guess.roles.replace(**changes)
    if "t" in values:
        st.session_state[state.THRESHOLD][source.content_hash] = float(values["t"])
    view = state.view_for(source.content_hash)
    for key in ("segcols", "metric", "sel"):
        if key in values:
            view[key] = values[key]
