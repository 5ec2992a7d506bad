"""The sidebar's "Open data on the server": a path under MLIMPACT_DATA_DIRS or a query on MLIMPACT_DUCKDB.

Offered only when the server's administrator set one of them. The package checks the path (no ``..``,
symlinks resolved, inside an allowed folder) and the size, and reads it with DuckDB
(:func:`mlimpact.engine.server.open_server_source`); this module only draws the form.
"""

from __future__ import annotations

import streamlit as st

from mlimpact.engine.server import AboveBudget, ServerOptions, open_server_source
from mlimpact.errors import InputError
from mlimpact.io.load import Source

from . import safe, state, store

CHOICE = "server"
LABEL = "Open data on the server"


def _key(kind: str, text: str) -> tuple:
    return ("server", kind, text)


def select(options: ServerOptions, controls: bool) -> Source | None:
    """The form, and the server source in use (None until one is opened)."""
    last = st.session_state[state.UPLOAD_KEY]
    in_use = state.current_source() if last and last[:1] == ("server",) else None
    if not controls:
        return in_use
    kinds = (["A file or folder"] if options.roots else []) + (["A DuckDB query"] if options.database else [])
    kind = st.radio("Open", kinds, horizontal=True, key="mi_server_kind") if len(kinds) > 1 else kinds[0]
    with st.form("mi_server_form", border=False):
        if kind == "A file or folder":
            text = st.text_input("Path under the data folders", key="mi_server_path",
                                 help="A Parquet or CSV file, or a folder of them (hive-partitioned or not), under: "
                                      + ", ".join(str(r) for r in options.roots))
        else:
            text = st.text_area("SQL query (read-only)", key="mi_server_query",
                                placeholder="SELECT * FROM predictions WHERE day >= '2026-03-01'")
        opened = st.form_submit_button("Open", icon=":material/folder_open:")
    if opened:
        source = _read(options, kind, text)
        if source is not None:
            return source
        in_use = None  # above the budget: counted on DuckDB, on every page
    if in_use is not None:
        st.caption(safe.md_escape(f"In use: {in_use.name} (from the server)."))
    elif st.session_state.get(state.TOO_LARGE):
        st.caption(safe.md_escape(f"In use: {st.session_state[state.TOO_LARGE][1]} (from the server, larger than "
                                  "memory: counted on DuckDB)."))
    return in_use


def _read(options: ServerOptions, kind: str, text: str) -> Source | None:
    """Read what the form names into memory and make it current; None when it is above the memory budget (then
    every page counts it on DuckDB: :mod:`ui.large_views`)."""
    with st.status("Reading with DuckDB…") as status:
        try:
            source = open_server_source(options, path=text if kind == "A file or folder" else None,
                                        query=text if kind == "A DuckDB query" else None)
        except AboveBudget as exc:
            status.update(label="Larger than memory: counted on DuckDB", state="complete")
            st.session_state[state.TOO_LARGE] = (kind, text, str(exc))
            st.session_state[state.UPLOAD_KEY] = None  # a server source read before is no longer in use
            st.session_state["large_kind"] = kind  # the Large data page's form starts with it too
            st.session_state["large_path" if kind == "A file or folder" else "large_query"] = text
            return None
        except InputError:  # the page shows the message; the box says it did not open
            status.update(label="Not opened: see the message on the page", state="error")
            raise
        status.update(label=f"Read {len(source.frame):,} rows", state="complete")
    st.session_state.pop(state.TOO_LARGE, None)
    state.remember_loaded(source, store.private())
    st.session_state[state.UPLOAD_KEY] = _key(kind, text)
    return state.current_source()
