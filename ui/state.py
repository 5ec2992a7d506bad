"""Every session-state key the app uses, declared in one place, with small typed accessors.

Per-user data lives only in ``st.session_state`` (never module globals, never the global
``st.cache_data``), so one person's upload is never visible to another session.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict

import streamlit as st

from mlimpact.io import Dataset, Roles
from mlimpact.io.load import Source
from mlimpact.slices import file_hash

from . import store as stores

# --- keys (widget keys included, so no page invents its own spelling) ---
SOURCE = "mi_source"                # selected data source: a sample key or "upload"
SOURCE_WIDGET = "mi_source_select"  # its selectbox (each page owns its widget; SOURCE is the truth)
UPLOADS = "mi_uploads"              # file_uploader widget key (then mi_uploads_1, _2… after each upload is read)
UPLOADER_ROUND = "mi_uploader_round"  # how many uploads this session has read (the uploader's key suffix)
LOADED = "mi_loaded"                # OrderedDict content_hash -> Source (bounded)
STORES = "mi_stores"                # dict content_hash -> ui.store.FileStore (the source's shared results)
UPLOAD_KEY = "mi_upload_key"        # (name, file_id) tuples of the files currently loaded from the uploader
CURRENT = "mi_current"              # content hash of the source in use
ROLES = "mi_roles"                  # dict content_hash -> Roles chosen by the user
DATASETS = "mi_datasets"            # OrderedDict (content_hash, Roles) -> Dataset (bounded)
THRESHOLD = "mi_threshold"          # dict content_hash -> float
SELECTED_SEGMENT = "mi_selected_segment"  # (column, value) chosen on the Segments page, or None
SEGMENT_COLUMNS = "mi_segment_columns"    # columns picked on the Segments page
LANES = "mi_lanes"                  # dict content_hash -> difficulty lanes the user set on the Difficulty page
LANES_SET = "mi_lanes_set"          # set of content hashes whose lanes the user set (changed a Difficulty control)
VERDICTS = "mi_verdicts"            # dict content_hash -> review verdicts recorded on the Review page
COSTS = "mi_costs"                  # dict content_hash -> cost assumptions chosen on the Impact page
DESIGN_DOC = "mi_design_doc"        # dict content_hash -> the rows a user fills in on the Compare page
RANGES = "mi_ranges"                # dict content_hash -> acceptable ranges chosen on the Monitoring page
WEAK_SLICES = "mi_weak_slices"      # last weak-slice search result shown on the Segments page
VIEW = "mi_view"                    # dict content_hash -> page choices shared by links (segcols, metric, ...)
MEETING = "mi_meeting"              # meeting mode on/off
LARGE = "mi_large"                  # the last summary counted on DuckDB (Large data page, engine views)
TOO_LARGE = "mi_too_large"          # the server source opened above the budget: (kind, path or query, why)
LARGE_BY_SOURCE = "mi_large_by_source"  # each recent server source's latest DuckDB summary, by (kind, text)
LARGE_FAILED = "mi_large_failed"    # why a source's summary failed, by (kind, text): tried again on request
WARMED_UP = "mi_warmed_up"          # what this session already started in the background (warm-up, prefetch)
SELECTED_ROWS = "mi_selected_rows"  # {"content_hash", "description", "rows": row positions} picked from a slice
# Widget keys of a page start with its prefix: seg_, dif_, rev_, imp_, cmp_, mon_, data_.

MAX_LOADED = 2     # parsed files kept per session (the current one and the previous one)
MAX_DATASETS = 4   # role mappings kept per session


def init() -> None:
    """Create the session's keys once (never re-run loaders on every rerun)."""
    defaults = {
        LOADED: OrderedDict(),
        STORES: {},
        ROLES: {},
        DATASETS: OrderedDict(),
        THRESHOLD: {},
        CURRENT: None,
        UPLOAD_KEY: None,
        SELECTED_SEGMENT: None,
        SEGMENT_COLUMNS: None,
        LANES: {},
        LANES_SET: set(),
        VERDICTS: {},
        COSTS: {},
        DESIGN_DOC: {},
        RANGES: {},
        WEAK_SLICES: None,
        SELECTED_ROWS: None,
        VIEW: {},
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


#: A previous source this large (frame bytes) is not kept once another one is loaded.
KEEP_PREVIOUS_BELOW = 50_000_000


def remember_loaded(source: Source, store: stores.FileStore) -> None:
    """Make ``source`` (read into ``store``) current; forget older sources, with their roles, datasets and
    memoised results (a shared store's results stay for the other sessions that use it)."""
    loaded: OrderedDict = st.session_state[LOADED]
    if st.session_state[STORES].get(source.content_hash, store) is not store:  # same bytes, another name
        _forget_results(source.content_hash)
    loaded[source.content_hash] = source
    st.session_state[STORES][source.content_hash] = store
    loaded.move_to_end(source.content_hash)
    limit = MAX_LOADED
    if len(loaded) > 1:
        previous = list(loaded.values())[-2]
        if previous.frame.memory_usage(deep=False).sum() > KEEP_PREVIOUS_BELOW:
            limit = 1  # a big file is not kept around once another is in use
    while len(loaded) > limit:
        old, _ = loaded.popitem(last=False)
        st.session_state[STORES].pop(old, None)
        st.session_state[ROLES].pop(old, None)
        _forget_results(old)
        for name in (THRESHOLD, LANES, COSTS, RANGES, DESIGN_DOC, VIEW, VERDICTS):
            kept = st.session_state.get(name) or {}
            for key in [k for k in kept if (k[0] if isinstance(k, tuple) else str(k)).startswith(old)]:
                del kept[key]
    st.session_state[CURRENT] = source.content_hash


def _forget_results(content_hash: str) -> None:
    """Drop this session's Datasets, results and drawn charts of one file."""
    for key in [k for k in st.session_state[DATASETS] if k[0] == content_hash]:
        del st.session_state[DATASETS][key]
    memo = st.session_state.get(MEMO, {})
    for key in [k for k in memo if len(k) > 1 and isinstance(k[1], str) and k[1].startswith(content_hash)]:
        del memo[key]
    st.session_state.pop(CHARTS, None)  # charts are keyed by their tables, not by file: drop them all


def uploader_key() -> str:
    """The sidebar uploader's key: a new one after each upload is read, so it shows empty again."""
    n = st.session_state.get(UPLOADER_ROUND, 0)
    return UPLOADS if not n else f"{UPLOADS}_{n}"


def next_uploader() -> None:
    st.session_state[UPLOADER_ROUND] = st.session_state.get(UPLOADER_ROUND, 0) + 1


def current_source() -> Source | None:
    h = st.session_state.get(CURRENT)
    return st.session_state[LOADED].get(h) if h else None


def kept(name: str, key, make, limit: int):
    """``make()`` once per ``key`` in this session's bounded cache ``name`` (least recently used goes first);
    ``key=None``: cannot be cached, so made every time."""
    if key is None:
        return make()
    cache: OrderedDict = st.session_state.setdefault(name, OrderedDict())
    stores.touch()  # a page is running: the store's janitor waits for an idle spell
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = make()
    while len(cache) > limit:
        cache.popitem(last=False)
    return value


def dataset(source: Source, roles: Roles, build) -> Dataset:
    """The Dataset of ``source`` with ``roles``: this session's, else the file's shared one, else ``build()``."""
    store = st.session_state[STORES].get(source.content_hash)
    return kept(DATASETS, (source.content_hash, roles),
                lambda: store.dataset(roles, build) if store is not None else build(), MAX_DATASETS)


MEMO = "mi_memo"        # OrderedDict key -> computed result (per session, bounded)
CHARTS = "mi_charts"    # OrderedDict chart inputs' fingerprint -> its Vega-Lite (ui.safe.chart; per session, bounded)
MAX_CHARTS = 48
MAX_MEMO = 48


def file_key(content_hash: str) -> str:
    """The file's content hash of a Dataset that may be a slice's rows."""
    return file_hash(content_hash)


def setting(kind: str, content_hash: str):
    """A setting the pages keep per file (``COSTS``, ``LANES``): the one set in this view (a slice), else the
    file's, so costs and lanes set on all rows hold inside a slice too."""
    kept = st.session_state[kind]
    return kept.get(content_hash) or kept.get(file_key(content_hash))


def view_for(content_hash: str) -> dict:
    """The page choices kept for one file (what a shared link restores), created on first use."""
    return st.session_state.setdefault(VIEW, {}).setdefault(content_hash, {})


def _store_of(key: tuple) -> stores.FileStore | None:
    """The shared store of the file a memo key names (its second element), if this session loaded that file."""
    if len(key) < 2 or not isinstance(key[1], str):
        return None
    return st.session_state.get(STORES, {}).get(file_hash(key[1]))


def has_memo(key: tuple) -> bool:
    """Whether :func:`memo` already holds ``key`` (pages show progress only for real work)."""
    store = _store_of(key)
    return key in st.session_state.get(MEMO, {}) or (store is not None and store.has_result(key))


def computing_elsewhere(key: tuple) -> bool:
    """Whether the file's store is computing ``key`` for someone else (the warm-up, another session) while this
    session does not hold it: a page can show progress and come back, instead of waiting with nothing drawn."""
    store = _store_of(key)
    return key not in st.session_state.get(MEMO, {}) and store is not None and store.computing(key)


def memo(key: tuple, compute, *, private: bool = False):
    """A computation keyed by what it computes, the file's content hash and every setting it depends on (never
    by a sampled frame hash): computed once for every session that loaded the same bytes (:mod:`ui.store`).

    ``private=True`` keeps it in this session only: for results that depend on what this session recorded
    (review verdicts), which the key does not spell out in full."""
    store = None if private else _store_of(key)
    # the session keeps what it uses, so another session's clicks never evict this session's results
    return kept(MEMO, key, lambda: store.result(key, compute) if store is not None else compute(), MAX_MEMO)


#: seconds a page's background computations wait before they start (a click right after a page opens goes first)
PREFETCH_DELAY_S = 0.3
#: what a page computes ahead at most (the next few choices in its list): bounded, as several sessions share 2 cores
PREFETCH_MAX = 4


def prefetch(jobs) -> None:
    """Compute ``jobs`` (``(key, compute)`` pairs, as :func:`memo` takes them) in the background, into the file's
    shared store, so the next click that asks for one finds it (or waits for it) instead of computing it: what a
    page is likely to be asked next, while the user reads it. One daemon thread per call, one job at a time;
    keys already held are skipped. Nothing is shown from the thread (it has no page to show on); charts drawn
    there are kept for the page (:func:`ui.safe.chart_step`). Skipped while another session's page runs
    (:func:`quiet`)."""
    if not quiet():
        return
    todo = [(key, compute, _store_of(key)) for key, compute in jobs]
    todo = [(key, compute, store) for key, compute, store in todo if store is not None and not store.has_result(key)]
    prefetch_steps(todo[0][0][1] if todo else "", [lambda store, k=k, c=c: store.result(k, c) for k, c, _ in todo])


def quiet() -> bool:
    """No other session's page is running: background guesses at the next click (:func:`prefetch`) may take the
    CPU. With several people at once they are skipped: a guess for one would slow the others' clicks."""
    return not stores.others_running()


def prefetch_steps(content_hash: str, steps) -> threading.Thread | None:
    """As :func:`prefetch`, for work whose later keys depend on earlier results: each step is called with the
    file's :class:`ui.store.FileStore` (``result(key, compute)``, ``chart(key, draw)``) in the background thread
    (returned; None when nothing started)."""
    store = st.session_state.get(STORES, {}).get(file_hash(content_hash)) if steps else None
    if store is None:
        return None

    def run() -> None:
        time.sleep(PREFETCH_DELAY_S)  # the page's own reruns first
        for step in steps:
            with contextlib.suppress(Exception):  # a failure is the click's to report, when it computes it again
                step(store)

    thread = threading.Thread(target=run, name="mlimpact-prefetch", daemon=True)
    thread.start()
    return thread


def shared_chart(content_hash: str | None, key: tuple, draw):
    """A chart drawn once for every session of the file (``content_hash``; None: the file in use), by its inputs'
    content (``key``); drawn here when this session has no such file."""
    store = st.session_state.get(STORES, {}).get(file_hash(content_hash or st.session_state.get(CURRENT) or ""))
    return store.chart(key, draw) if store is not None else draw()


def warmed_up() -> set:
    """What this session already started in the background (:func:`ui.computed.warm_up`, Monitoring's prefetch),
    so a rerun does not start it again."""
    return st.session_state.setdefault(WARMED_UP, set())


# --- what one page hands to the others -------------------------------------------------------
def preferred_segment_column() -> str | None:
    """The first column picked on the Segments page (other pages start from it), or None."""
    return (st.session_state.get(SEGMENT_COLUMNS) or [None])[0]


def selected_segment() -> dict:
    """The segment picked on the Segments page (``{column: value}``), empty when none is."""
    return st.session_state.get(SELECTED_SEGMENT) or {}


def selected_rows(dataset: Dataset) -> dict | None:
    """The weak slice picked on the Segments page, when it was picked on this file with these roles."""
    picked = st.session_state.get(SELECTED_ROWS)
    if picked and picked.get("content_hash") == dataset.content_hash and picked.get("roles") == dataset.roles:
        return picked
    return None


def impact_options(content_hash: str) -> dict:
    """The Impact page's options for a file (scale, currency unit, rule, segment), empty until it is opened."""
    return st.session_state[COSTS].get(f"{content_hash}:options", {})
