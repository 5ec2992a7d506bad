"""Every page on a server source above the memory budget: the page's own part of the Large data panel.

When "Open data on the server" opens a folder or query too large to read into memory, the pages do not
refuse it: each one shows its question answered on DuckDB, where the data lives (the Large data page's
sections, :mod:`ui.large_data`). The summary is counted once, on the first page that needs it, with its
progress shown, and kept for the session; each page's heavier part (weak slices, lanes, value, models side
by side, series, mistakes) is counted when its button is pressed, and kept too.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from mlimpact.engine.server import server_options
from mlimpact.errors import InputError
from mlimpact.format import subject_name
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.report import headline_rows

from . import large_compare, large_data, large_monitor, nav, safe, server_source, state

#: the page (its file's stem) → its title
TITLES = {path.rsplit("/", 1)[-1].removesuffix(".py"): title for path, title, _ in nav.PAGES}


def active() -> tuple[str, str] | None:
    """``(kind, text)`` of the server source counted on DuckDB, while "Open data on the server" is the choice."""
    if st.session_state.get(state.SOURCE) != server_source.CHOICE:
        return None
    opened = st.session_state.get(state.TOO_LARGE)
    return opened[:2] if opened else None


def render(page: str) -> None:
    """The page's title and its answer counted on DuckDB (the summary first, once per source)."""
    kind, text = active()
    st.title(TITLES.get(page, page.title()))
    options = server_options()
    last = _record(options, kind, text)
    if last is None:
        return
    changes = last["asked"][2]
    chosen = ("Columns as chosen on the Large data page (" + ", ".join(f"{k}: {v}" for k, v in changes.items())
              + ")" if changes else "Columns as inferred; to choose them")
    st.caption(safe.md_escape(f"{st.session_state[state.TOO_LARGE][2]}. {chosen}, or to see every answer at once, "
                              "use the Large data page."))
    large_data.header(last)
    VIEWS[page](options, last)


def _record(options, kind: str, text: str) -> dict | None:
    """The summary of this source: the Large data page's latest (its columns), else one counted now with the
    columns inferred. A summary that failed says why once, and is tried again only on request."""
    records = st.session_state.setdefault(state.LARGE_BY_SOURCE, {})
    last = st.session_state.get(state.LARGE)
    if last and tuple(last["asked"][:2]) == (kind, text):
        return last
    if (kind, text) in records:
        return records[kind, text]
    failed = st.session_state.setdefault(state.LARGE_FAILED, {})
    if (kind, text) in failed and not st.button("Try again", icon=":material/refresh:", key="large_retry"):
        safe.error(failed[kind, text])
        return None
    try:
        return large_data.run(options, kind, text, {}, DEFAULT_THRESHOLD)
    except InputError as exc:
        failed[kind, text] = str(exc)
        safe.error(exc)
        return None


def _overview(options, last: dict) -> None:
    summary = last["summary"]
    subject = subject_name(summary["columns"]["label"], summary.get("positive")) \
        if summary["task"] == "binary" else "positive"
    headline = headline_rows(summary["task"], summary["overall"], subject)
    for col, number in zip(st.columns(len(headline)), headline, strict=True):
        with col:
            st.metric(number["label"], number["value"], border=True)
            st.caption(safe.md_escape(number["sentence"]))
    large_data.headline(last, segments=False)


def _segments(options, last: dict) -> None:
    if last["summary"]["segments"]:
        large_data.segments_table_of(last["summary"])
    else:
        st.info("No segment columns were inferred: name them on the Large data page.", icon=":material/info:")
    large_data.weak_slices(options, last)


def _data(options, last: dict) -> None:
    summary, read = last["summary"], last.get("read", {})
    rows = summary["rows"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows in the source", f"{rows['total']:,}")
    c2.metric("Rows used", f"{rows['used']:,}")
    c3.metric("Rows excluded", f"{rows['total'] - rows['used']:,}")
    if rows["excluded"]:
        st.markdown("**Rows excluded, by reason**")
        safe.table(pd.DataFrame({"reason": list(rows["excluded"]), "rows": list(rows["excluded"].values())}),
                   key="large_exclusions", file_name="excluded_rows.csv")
    st.subheader("Columns and their roles")
    roles = _role_of_column(read.get("roles"))
    types = read.get("column_types", {})
    safe.table(pd.DataFrame({"column": list(types), "type": [str(t) for t in types.values()],
                             "role": [roles.get(c, "") for c in types]}), key="large_columns", file_name="columns.csv")
    if read.get("inferred"):
        st.markdown("**How the roles were inferred**")
        safe.table(pd.DataFrame({"inferred": read["inferred"]}), key="large_inferred", file_name="inferred.csv")
    st.caption("No preview: the rows stay where they are. The Review page fetches the most confident mistakes.")


def _role_of_column(roles) -> dict[str, str]:
    """``{column: role}`` of the roles the source was opened with (a column in a list: its role, singular)."""
    if roles is None:
        return {}
    names = {"segments": "segment", "other_scores": "other model's score", "class_scores": "class probability"}
    out: dict[str, str] = {}
    for field in dataclasses.fields(roles):
        value = getattr(roles, field.name)
        for column in (value if isinstance(value, tuple) else (value,)):
            if isinstance(column, str) and field.name not in ("task", "positive"):
                out.setdefault(column, names.get(field.name, field.name))
    return out


VIEWS = {
    "overview": _overview,
    "segments": _segments,
    "difficulty": large_data.difficulty,
    "review": large_data.mistakes,
    "impact": large_data.value,
    "compare": lambda options, last: large_compare.render(options, last, large_data.engine_of),
    "monitoring": lambda options, last: large_monitor.render(options, last, large_data.engine_of),
    "data": _data,
}
