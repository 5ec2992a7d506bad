"""Parsed files and computed results, shared by the sessions that sent the very same bytes.

A :class:`FileStore` holds one source (the parsed frame), its Datasets (one per role mapping) and the results
computed on them (:meth:`FileStore.result`, keyed by what is computed and its settings). Five people who
upload the same file in one meeting parse it once and compute each view once.

Who reaches a store: its key is made here from what the session itself sent (the sha256 of every uploaded
file's bytes, with the names it gave them), or names a bundled sample; a server source gets a store of its
own. No function takes a hash from the caller, so a session never reaches data whose bytes it did not send.

Lifetime: sessions hold their stores in ``st.session_state``; the registry holds them weakly, so a store, its
frame and its results are freed when the last session that uses it ends (Streamlit keeps a disconnected
session ``server.disconnectedSessionTTL`` seconds, 120 by default, for a reconnect).

Memory: pyarrow's default allocator (mimalloc) keeps what a parse or a freed frame gave back, per thread, and a
release from another thread cannot reach it (measured, 1M rows: 383 MiB still resident after every object was
freed). The app's server therefore gives pyarrow the system allocator, and :func:`release_memory` hands glibc's
freed heap back (``malloc_trim`` reaches every thread's arena) after a file is parsed and shortly after a store
is freed: a 214 MiB frame then holds 285 MiB resident instead of 419, and 19 MiB remain once it is freed.

Heaps: glibc gives each new thread a heap of its own (up to 8 per core), and ``malloc_trim`` cannot hand back
the free top of those heaps, which glibc keeps up to its trim threshold (it grows with the largest block freed, to
64 MiB); each Streamlit run is a new thread. The app's threads are asked to share the heaps that exist when this
module is imported (``mallopt(M_ARENA_MAX, 1)``), but glibc fixes that limit once it has opened 8 heaps, and a
``streamlit run`` server has by the time its first run imports this module: after five sessions it had 16. So the
thresholds are fixed as well (``M_MMAP_THRESHOLD`` 32 MiB, glibc's own ceiling for it; ``M_TRIM_THRESHOLD``
4 MiB), which glibc applies to every heap at once: a heap's free top beyond 4 MiB goes back when the block next to
it is freed. Five sessions on a 1M-row file visiting every page once (bench_live part C), resident 30 s after they
expired: 433–499 MiB with the heap limit alone, 254 MiB with the thresholds (252 with ``MALLOC_ARENA_MAX=1`` in the
server's environment); the CLI's weak-slice search at 1M rows took ~8% longer with them, its impact analysis the
same. Python's small objects do not take the allocator's lock, but numpy's, pandas' and pyarrow's buffers do:
three threads each reading a 1M-row file and its metrics at once took 3.98 s with one heap, 3.96 s without.

Ended sessions: Streamlit drops an expired session's objects, but they hold reference cycles, so its stores are
freed only by the garbage collector's next full pass, which an idle server may not run for a long time (measured:
five sessions on a 1M-row file: 797–808 MiB still resident after they expired). :func:`touch` notes every page run;
once the server has been idle for :data:`IDLE_COLLECT_S` seconds, a janitor thread runs one full collection
(once per idle spell, never while anyone clicks), so the stores of ended sessions are freed, then hands what it
freed back. The same pass returns a live session's garbage: the pages' temporaries and cycles, which Python's
collector and glibc keep for a while (one session touring every page of a 1M-row file: 1,327 MiB resident at the
last page, 747 MiB 4 s later; 296 before the upload). Three seconds is a pause in a meeting; the collection takes
about 0.1 s, so a click that lands during it waits at most that long. A store's finaliser can run before its frame
is freed (the frame is still held by the session's other cycles), so the store's own release alone left it
resident (one session on a 1M-row file: 513 MiB after it expired; with the janitor's release 244 MiB).

Concurrency: each session runs in its own thread. A result being computed is computed once; a second
session asking for it waits for the first instead of computing it again (2 cores do not gain from both).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import itertools
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence

import pyarrow as pa

from mlimpact import trace
from mlimpact.io import Dataset, Roles
from mlimpact.io.load import Source

MAX_RESULTS = 64   # results kept per file (every session's views of it together)
MAX_DATASETS = 4   # role mappings kept per file
MAX_CHARTS = 96    # drawn charts kept per file (apart from the results: a chart never evicts a computation)
RELEASE_ROWS = 100_000  # files from this many rows hand their parse's buffers back (smaller ones: not worth a trim)

pa.set_memory_pool(pa.system_memory_pool())  # memory freed in any session's thread can go back (see above)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's mallopt parameters (malloc.h)
#: blocks from this size on get pages of their own, given back when freed (glibc's ceiling for its moving threshold)
MMAP_FROM = 32 << 20
#: a heap's free top beyond this goes back to the system when the block next to it is freed
TRIM_FROM = 4 << 20


def _one_heap() -> None:
    """Threads created from now on share glibc's existing heaps instead of opening one each, when glibc still
    allows it; and every heap hands its free top back beyond :data:`TRIM_FROM` (see above)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 1)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_FROM)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_FROM)


_one_heap()

_REGISTRY: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_REGISTRY_LOCK = threading.Lock()
_PRIVATE = itertools.count()


class FileStore:
    """One source, its Datasets and its results, for every session that sent these bytes."""

    def __init__(self, key: tuple) -> None:
        self.key = key
        self.source: Source | None = None
        self._datasets: OrderedDict = OrderedDict()
        self._results: OrderedDict = OrderedDict()
        self._charts: OrderedDict = OrderedDict()
        self._computing: dict = {}
        self._lock = threading.Lock()       # guards the dicts (held only for dict operations)
        self._load_lock = threading.Lock()  # one parse of the file at a time

    def load(self, read: Callable[[], Source]) -> Source:
        """The store's source, read with ``read()`` by the first session that needs it."""
        with self._load_lock:
            if self.source is None:
                self.source = read()
                if len(self.source.frame) >= RELEASE_ROWS:  # the parse's buffers, freed: back to the system
                    _release_soon()
            return self.source

    def dataset(self, roles: Roles, build: Callable[[], Dataset]) -> Dataset:
        """The Dataset for ``roles`` (built once: every session with these roles gets the same object)."""
        return self._once(self._datasets, roles, build, MAX_DATASETS)

    def result(self, key: tuple, compute: Callable[[], object]):
        """``compute()`` once per ``key``; concurrent callers of the same key wait for the first."""
        return self._once(self._results, key, compute, MAX_RESULTS)

    def chart(self, key: tuple, draw: Callable[[], object]):
        """A chart drawn once per ``key`` (its inputs' content) for every session of the file."""
        return self._once(self._charts, key, draw, MAX_CHARTS)

    def has_result(self, key: tuple) -> bool:
        with self._lock:
            return key in self._results

    def computing(self, key: tuple) -> bool:
        """Whether a result for ``key`` is being computed right now (by a session or the background)."""
        with self._lock:
            return (id(self._results), key) in self._computing and key not in self._results

    def _once(self, cache: OrderedDict, key, compute: Callable[[], object], limit: int):
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
            gate = self._computing.setdefault((id(cache), key), threading.Lock())
        with gate:
            with self._lock:
                if key in cache:  # computed by another session while this one waited
                    cache.move_to_end(key)
                    return cache[key]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop((id(cache), key), None)
                raise
            with self._lock:  # stored and un-gated at once: a later caller finds either the gate or the value
                cache[key] = value
                cache.move_to_end(key)
                self._computing.pop((id(cache), key), None)
                while len(cache) > limit:
                    cache.popitem(last=False)
            return value


def _open(key: tuple) -> FileStore:
    with _REGISTRY_LOCK:
        store = _REGISTRY.get(key)
        if store is None:
            store = FileStore(key)
            _REGISTRY[key] = store
            trace.count("store_opened")
            weakref.finalize(store, _store_freed).atexit = False  # at exit the process gives everything back
        return store


def _store_freed() -> None:
    trace.count("store_freed")
    _release_soon()


def release_memory() -> None:
    """Hand freed memory back to the system: pyarrow's pool and glibc's heap (every thread's arena)."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator returns memory its own way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_PENDING = threading.Lock()  # held while a release is scheduled: stores that die meanwhile share it

#: seconds without a page run after which the janitor collects garbage: ended sessions' stores, live sessions'
#: temporaries (once per idle spell)
IDLE_COLLECT_S = 3.0
#: threads whose being alive means work is under way: the app's background work, and a page run (Streamlit names
#: each run's thread so; a first visit can compute for longer than the idle spell)
_RUN_THREAD = "ScriptRunner.scriptThread"
_BUSY_THREADS = ("mlimpact-prefetch", _RUN_THREAD)
_ACTIVITY = {"last": time.monotonic(), "janitor": None}


def touch() -> None:
    """A page is running (called by its sidebar and each kept result): the janitor waits for the next idle spell
    without background work; starts the janitor once."""
    _ACTIVITY["last"] = time.monotonic()
    if _ACTIVITY["janitor"] is None:
        with _REGISTRY_LOCK:
            if _ACTIVITY["janitor"] is None:
                _ACTIVITY["janitor"] = threading.Thread(target=_janitor, name="mlimpact-janitor", daemon=True)
                _ACTIVITY["janitor"].start()


def others_running() -> bool:
    """Whether a page run other than the caller's is under way: another session's click, which a background
    guess (:func:`ui.state.prefetch`) would take the server's cores from."""
    me = threading.current_thread()
    return any(t.name == _RUN_THREAD and t is not me for t in threading.enumerate())


def _janitor() -> None:
    collected_for = None
    while not sys.is_finalizing():
        time.sleep(min(IDLE_COLLECT_S / 4, 5.0))
        last = _ACTIVITY["last"]
        busy = any(t.name in _BUSY_THREADS for t in threading.enumerate())  # background work, or a long run
        if last != collected_for and time.monotonic() - last >= IDLE_COLLECT_S and not busy:
            collected_for = last
            gc.collect()  # dead sessions' cycles (their frames, results and session state)...
            release_memory()  # ...and what that freed, back to the system (a store's own release can come first)


def _release_soon() -> None:
    """A store died (its frame and results are freed right after its finaliser runs) or a large file was parsed:
    release a moment later, once for every call in that moment, in a thread of its own (no session waits)."""
    if sys.is_finalizing() or not _PENDING.acquire(blocking=False):
        return

    def run() -> None:
        try:
            release_memory()
        finally:
            _PENDING.release()

    timer = threading.Timer(1.0, run)
    timer.daemon = True
    timer.start()


def for_upload(files: Sequence[tuple[str, bytes]]) -> FileStore:
    """The store of these uploaded ``(name, bytes)`` files: shared with sessions that sent the same bytes
    under the same names (the names are shown, so they are part of what must match)."""
    return _open(("upload",) + tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files))


def for_sample(key: str) -> FileStore:
    """The store of a bundled sample (the app's own file: every session may share it)."""
    return _open(("sample", key))


def private() -> FileStore:
    """A store no other session can reach (a server source: read per session, as its files may change)."""
    return _open(("private", next(_PRIVATE)))


def open_stores() -> int:
    """How many stores are alive (for tests and the benchmark's memory check)."""
    with _REGISTRY_LOCK:
        return len(_REGISTRY)
