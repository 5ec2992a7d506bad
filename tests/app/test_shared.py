"""Sessions that sent the very same bytes share one parsed copy and each result; nobody else reaches it.

* Two AppTest sessions upload the same bytes under the same name: one Source object, one Dataset, and a
  result computed by the first session is not computed again for the second (counted with
  ``MLIMPACT_TRACE``), nor a chart drawn again. Their own choices (roles, verdicts) stay their own.
* The same bytes under another name, or other bytes under the same name, get a store of their own.
* When the sessions end, their stores (frame, datasets, results) are freed.
* :class:`ui.store.FileStore` computes a result once while four threads ask for it at the same time, and a
  failed computation is not kept.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mlimpact.trace import TRACE_ENV
from tests.app.test_isolation import APP, NAME, assert_clean, csv_bytes, sha, upload
from ui import store

ROOT = Path(__file__).resolve().parents[2]


def settle(path: Path) -> None:
    """Wait until nothing more is traced for a second (background work done; 20 s at most)."""
    seen, quiet = -1, 0
    for _ in range(200):
        n = len(computed(path))
        quiet = quiet + 1 if n == seen else 0
        if quiet >= 10:
            return
        seen = n
        time.sleep(0.1)


def computed(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def quiet_background(monkeypatch) -> None:
    """No computing ahead in this test (it counts what each click computes), and none left over from another."""
    from ui import state  # the app's own module, as the pages use it

    monkeypatch.setattr(state, "PREFETCH_MAX", 0)
    for thread in threading.enumerate():
        if thread.name == "mlimpact-prefetch":
            thread.join(timeout=60)


def test_the_same_bytes_are_parsed_once_and_each_result_computed_once(tmp_path, monkeypatch):
    from ui import safe  # the app's own module: each chart drawn is converted once by vega_spec

    quiet_background(monkeypatch)
    trace = tmp_path / "trace.log"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    drawn = []
    convert = safe.vega_spec
    monkeypatch.setattr(safe, "vega_spec", lambda ch: drawn.append(1) or convert(ch))
    x = csv_bytes(3_000, seed=21)
    a = AppTest.from_file(APP, default_timeout=60).run()  # opens on the default sample
    b = AppTest.from_file(APP, default_timeout=60).run()
    trace.unlink(missing_ok=True)
    upload(a, x)
    a.switch_page("pages/segments.py").run()
    assert_clean(a)
    first = computed(trace)
    assert first.count("read_source") == first.count("build_dataset") == first.count("segment_table") == 1
    assert first.count("evaluate") >= 1
    settle(trace)  # A's page computes the other columns' tables in the background (ui.state.prefetch)
    trace.unlink(missing_ok=True)
    assert drawn  # A drew its pages' charts
    drawn.clear()
    upload(b, x)
    b.switch_page("pages/segments.py").run()
    assert_clean(b)
    assert drawn == []  # B's Overview and Segments charts: drawn once for both, by A
    h = sha(x)
    assert a.session_state["mi_loaded"][h] is b.session_state["mi_loaded"][h]  # one parsed copy
    datasets_a, datasets_b = (list(at.session_state["mi_datasets"].values()) for at in (a, b))
    assert any(d is e for d in datasets_a for e in datasets_b if d.content_hash == h)  # one Dataset
    assert computed(trace) == []  # B's upload and pages computed nothing A had computed
    # B's own choices stay B's: its threshold is computed for B; A's view does not change
    b.switch_page("pages/overview.py").run()
    b.slider(key=f"threshold_{h[:12]}").set_value(0.3).run()
    assert_clean(b)
    assert "evaluate" in computed(trace)
    a.run()
    assert a.slider(key=f"threshold_{h[:12]}").value == 0.5


def test_other_bytes_or_another_name_get_a_store_of_their_own():
    x, y = csv_bytes(2_000, seed=22), csv_bytes(2_000, seed=23)
    a = upload(AppTest.from_file(APP, default_timeout=60).run(), x)
    b = upload(AppTest.from_file(APP, default_timeout=60).run(), x, name="other_name.csv")
    c = upload(AppTest.from_file(APP, default_timeout=60).run(), y)
    hx, hy = sha(x), sha(y)
    source_a, source_b = a.session_state["mi_loaded"][hx], b.session_state["mi_loaded"][hx]
    assert source_a is not source_b  # the name is shown, so it is part of what must match
    assert (source_a.name, source_b.name) == (NAME, "other_name.csv")
    assert a.session_state["mi_stores"][hx] is not b.session_state["mi_stores"][hx]
    assert hy in c.session_state["mi_stores"] and hx not in c.session_state["mi_stores"]  # (the sample it opened on)
    assert c.session_state["mi_stores"][hy] not in (a.session_state["mi_stores"][hx], b.session_state["mi_stores"][hx])
    assert any("of 2,000 rows used" in cap.value for cap in b.sidebar.caption)


def test_stores_are_freed_when_their_sessions_end():
    gc.collect()
    before = store.open_stores()
    x = csv_bytes(2_000, seed=24)
    sessions = [upload(AppTest.from_file(APP, default_timeout=60).run(), x) for _ in range(2)]
    shared = sessions[0].session_state["mi_stores"][sha(x)]
    assert sessions[1].session_state["mi_stores"][sha(x)] is shared
    assert store.open_stores() >= before + 1
    import weakref  # a weak reference to watch the store go

    watched = weakref.ref(shared)
    del shared, sessions
    for _ in range(50):
        gc.collect()
        if watched() is None:
            break
        time.sleep(0.1)
    assert watched() is None, gc.get_referrers(watched())
    assert store.open_stores() <= before


def test_a_result_is_computed_once_while_threads_wait_for_it():
    shared = store.for_upload([("t.csv", b"thread test bytes")])
    calls, results = [], []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return object()

    threads = [threading.Thread(target=lambda: results.append(shared.result(("k", "h"), slow))) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and len(results) == 4 and len({id(r) for r in results}) == 1


def test_a_failed_computation_is_not_kept():
    shared = store.for_upload([("f.csv", b"failing bytes")])

    def fail():
        raise ValueError("bad")

    with pytest.raises(ValueError):
        shared.result(("k",), fail)
    assert not shared.has_result(("k",))
    assert shared.result(("k",), lambda: 42) == 42


def test_a_store_is_reached_only_through_the_bytes():
    """The registry's keys are made from the bytes; there is no lookup by a hash a caller passes in."""
    one = store.for_upload([("a.csv", b"1,2\n")])
    assert store.for_upload([("a.csv", b"1,2\n")]) is one
    assert store.for_upload([("a.csv", b"1,3\n")]) is not one
    assert store.private() is not store.private()
    public = [n for n in vars(store) if not n.startswith("_") and callable(getattr(store, n))]
    assert set(public) >= {"for_upload", "for_sample", "private", "open_stores"}
    assert not [n for n in public if "hash" in n or n in {"get", "lookup", "find"}]



def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS"))


def _parse_and_drop(data: bytes) -> tuple[float, float]:
    """RSS (MiB) grown by parsing ``data`` through a store, and what is left of it once the store is freed."""
    from mlimpact.io.load import read_source  # the app's reader

    gc.collect()
    store.release_memory()
    base = _rss_mib()
    shared = store.for_upload([("mem.csv", data)])
    shared.load(lambda: read_source([("mem.csv", data)]))
    grown = _rss_mib() - base
    del shared
    gc.collect()
    time.sleep(1.6)  # the store's finaliser releases a moment after the frame is freed
    return grown, _rss_mib() - base


def test_memory_goes_back_to_the_system_when_a_store_is_freed(monkeypatch):
    """The parse's buffers go back to the system once a file is read, and the frame's once its store is freed (the
    store's finaliser releases from another thread: pyarrow uses the system allocator in the app for that)."""
    import numpy as np  # a file of text columns: what the Arrow pool holds

    rng = np.random.default_rng(0)
    n = 400_000
    text = "id,region,note,score\n" + "".join(f"id_{i},{r},{w}{i % 977},{s:.4f}\n" for i, r, w, s in zip(
        range(n), rng.choice(["west", "east", "north"], n), rng.choice(["alpha", "beta", "gamma"], n), rng.random(n),
        strict=True))
    data = text.encode()
    monkeypatch.setattr(store, "IDLE_COLLECT_S", 1e9)  # the janitor's idle release (3 s) would blur the measurement
    real = store.release_memory
    monkeypatch.setattr(store, "release_memory", lambda: None)  # without it the memory stays: the test can fail
    grown_kept, left_kept = _parse_and_drop(data)
    monkeypatch.setattr(store, "release_memory", real)
    grown, left = _parse_and_drop(data)
    # without the release most stays (measured 28-88 MiB grown, 59-100% kept: heaps' tops beyond ui.store.TRIM_FROM
    # go back by themselves)
    assert grown_kept > 20 and left_kept > 0.5 * grown_kept, (grown_kept, left_kept)
    assert left < 0.25 * left_kept, (grown, left)  # measured -2 to 3 MiB


def test_an_idle_server_frees_the_stores_of_ended_sessions(monkeypatch):
    """Ended sessions hold reference cycles: without a full collection their stores stay. With the automatic
    collector off, ui.store's janitor collects once the server has been idle (IDLE_COLLECT_S, shortened here)."""
    import weakref  # a weak reference to watch the store go

    from ui import store as app_store  # the app's own module, as the pages use it

    monkeypatch.setattr(app_store, "IDLE_COLLECT_S", 1.0)
    released_by = []  # the janitor hands back what its collection freed (a store's own release can come before)
    monkeypatch.setattr(app_store, "release_memory", lambda: released_by.append(threading.current_thread().name))
    gc.collect()
    gc.disable()
    try:
        x = csv_bytes(2_000, seed=25)
        at = upload(AppTest.from_file(APP, default_timeout=60).run(), x)
        watched = weakref.ref(at.session_state["mi_stores"][sha(x)])
        app_store.touch()  # the idle spell starts now
        del at
        time.sleep(0.3)
        assert watched() is not None  # held by cycles until a collection
        for _ in range(100):
            if watched() is None:
                break
            time.sleep(0.1)
        assert watched() is None
        for _ in range(50):
            if "mlimpact-janitor" in released_by:
                break
            time.sleep(0.1)
        assert "mlimpact-janitor" in released_by, released_by
    finally:
        gc.enable()


HEAPS_CODE = """
import ctypes, sys, threading
import numpy as np
if sys.argv[1] == "late":  # as in a server: its threads opened 8 heaps and more before the app's first run
    opened = threading.Barrier(10)
    def first_block():
        block = np.ones(1 << 14)  # noqa: F841 - held while the others open their heaps
        opened.wait()
    early = [threading.Thread(target=first_block) for _ in range(10)]
    for t in early:
        t.start()
    for t in early:
        t.join()
if sys.argv[1] in ("app", "late"):
    import ui.store  # noqa: F401 - what the app's server imports
else:
    import pandas, pyarrow  # noqa: F401 - the same libraries, glibc's defaults
def rss():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) // 1024
big = np.ones(2 << 20)  # a large block freed: glibc's thresholds grow (as after any parsed frame)
del big
gate = threading.Barrier(6)
def run():  # a session's run: 24 MiB held while the others hold theirs, then freed
    gate.wait()
    held = [np.ones(1 << 19) for _ in range(6)]
    gate.wait()
    del held
base = rss()
threads = [threading.Thread(target=run) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL("libc.so.6").malloc_trim(0)
print(rss() - base)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's per-thread heaps: the app's setting is for them (other allocators return memory their own way)")
def test_the_app_threads_share_one_heap_so_freed_memory_goes_back():
    """glibc opens a heap per thread, and malloc_trim cannot hand back those heaps' free tops: six runs that held
    and freed 24 MiB each at once keep ~110 MiB resident. With ui.store imported first, they share the heaps opened
    before (the test process's library threads open one or two); imported after ten threads opened heaps (as in a
    server), glibc no longer limits the heaps, and the fixed trim threshold hands their tops back (143 MiB kept
    without it)."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}  # glibc's defaults

    def grown(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", HEAPS_CODE, mode], cwd=ROOT, capture_output=True, text=True,
                             timeout=120, check=True, env=env).stdout
        return int(out.split()[-1])

    assert grown("default") >= 90  # the case the app avoids (measured 112-116 MiB)
    assert grown("app") <= 60  # what the heaps opened before ui.store's import can keep (measured 11-35 MiB)
    assert grown("late") <= 60  # measured 0-24 MiB; 143 with the heap limit alone
