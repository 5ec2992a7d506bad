"""While a page is read, what it is likely to be asked next is computed in the background (ui.state.prefetch):
on Monitoring, the other metrics' series, ranges, alert causes and charts, so a metric change computes none of
them (counted with MLIMPACT_TRACE, and the chart functions wrapped); on Segments, the other columns' tables."""

from __future__ import annotations

import functools
import time

import pytest
from streamlit.testing.v1 import AppTest

from mlimpact.report.charts import monitoring as mcharts
from mlimpact.trace import TRACE_ENV
from tests.app.test_isolation import APP, csv_bytes, upload
from ui.state import PREFETCH_MAX


def _calls(path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _settle(trace, name: str) -> None:
    """Wait until the background thread has stopped computing ``name`` (no new call for a second; 20 s at most)."""
    seen, quiet = -1, 0
    for _ in range(200):
        n = _calls(trace).count(name)
        quiet = quiet + 1 if n == seen else 0
        if quiet >= 10:
            return
        seen = n
        time.sleep(0.1)


def _count_charts(monkeypatch) -> list:
    """Wrap the Monitoring page's metric charts so each drawing is counted (the wrapper keeps the name)."""
    drawn = []
    for name in ("range_chart", "segments_overlay_chart", "small_multiples_chart"):
        build = getattr(mcharts, name)

        @functools.wraps(build)
        def counted(*args, _build=build, _name=name, **kwargs):
            drawn.append(_name)
            return _build(*args, **kwargs)

        monkeypatch.setattr(mcharts, name, counted)
    return drawn


def test_a_metric_change_on_monitoring_finds_its_series_computed(tmp_path, monkeypatch):
    trace = tmp_path / "trace.log"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    drawn = _count_charts(monkeypatch)
    at = upload(AppTest.from_file(APP, default_timeout=60).run(), csv_bytes(3_000, seed=77))  # a store of its own
    at.switch_page("pages/monitoring.py").run()
    assert not at.exception and not at.error
    box = next(s for s in at.selectbox if s.key and s.key.startswith("mon_metric_"))
    first = _calls(trace).count("metrics_over_time")
    _settle(trace, "metrics_over_time")
    assert _calls(trace).count("metrics_over_time") >= first + PREFETCH_MAX - 1  # the next few metrics
    time.sleep(1.0)  # the last step's causes and charts, after its series
    assert drawn  # the page's, and the next metrics' in the background
    trace.unlink()
    drawn.clear()
    assert box.value != "precision"
    box.set_value("precision").run()
    assert not at.exception and not at.error
    assert "metrics_over_time" not in _calls(trace)  # found, not computed
    assert "alert_causes" not in _calls(trace)
    assert drawn == []  # its charts too
    assert next(s for s in at.selectbox if s.key == box.key).value == "precision"


def test_another_segment_column_finds_its_table_computed(tmp_path, monkeypatch):
    trace = tmp_path / "trace.log"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    at = upload(AppTest.from_file(APP, default_timeout=60).run(), csv_bytes(3_000, seed=78))
    at.switch_page("pages/segments.py").run()
    assert not at.exception and not at.error
    box = next(m for m in at.multiselect if m.key and m.key.startswith("seg_columns_"))
    other = next(c for c in box.options if c not in box.value)
    _settle(trace, "segment_table")
    trace.unlink()
    box.set_value([other]).run()
    assert not at.exception and not at.error
    assert "segment_table" not in _calls(trace)  # found, not computed


def test_a_large_file_warms_up_the_heaviest_first_visits(tmp_path, monkeypatch):
    """From the Overview, the weak slices and the comparison at the pages' defaults start in the background
    (files from ui.computed.WARM_UP_ROWS rows; lowered here): the first visits of Segments and Compare find them."""
    at = AppTest.from_file(APP, default_timeout=60).run()  # the default sample: fewer rows than the default
    monkeypatch.setattr("ui.computed.WARM_UP_ROWS", 1_000)
    trace = tmp_path / "trace.log"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    at = upload(at, csv_bytes(3_000, seed=79))
    assert not at.exception and not at.error
    _settle(trace, "compare_models")
    heavy = ("search_weak_slices", "lane_curve", "tradeoff_curve", "analyze_impact", "compare_models")
    assert [_calls(trace).count(name) for name in heavy] == [1, 1, 1, 1, 1]
    assert _calls(trace).count("default_start") == 2  # Difficulty's first answer, and Review's default lanes
    trace.unlink()
    for page in ("segments", "difficulty", "review", "impact", "compare"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception and not at.error
    calls = _calls(trace)
    assert not [name for name in heavy + ("default_start", "choose_lanes") if name in calls]  # found, not computed
    at.switch_page("pages/overview.py").run()  # once per file and session
    time.sleep(0.5)
    assert "search_weak_slices" not in _calls(trace)


def test_a_smaller_file_is_not_warmed_up(tmp_path, monkeypatch):
    monkeypatch.setattr("ui.computed.WARM_UP_ROWS", 200_000)  # on, above this file's rows
    trace = tmp_path / "trace.log"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    upload(AppTest.from_file(APP, default_timeout=60).run(), csv_bytes(3_000, seed=80))
    time.sleep(1.0)
    assert "search_weak_slices" not in _calls(trace) and "compare_models" not in _calls(trace)


def test_a_threshold_moved_during_the_warm_up_starts_no_second_one(tmp_path, monkeypatch):
    """One warm-up per file and session: moving the threshold, while it runs or after, starts no other (the pages
    compute what they need at the new threshold on their visit)."""
    import threading

    from ui import computed

    at = AppTest.from_file(APP, default_timeout=60).run()  # the default sample first, before the warm-up is on
    monkeypatch.setattr("ui.computed.WARM_UP_ROWS", 1_000)
    gate = threading.Event()
    started = []

    def slow(content_hash, steps):  # a warm-up that runs until the test lets it finish
        started.append(len(steps))
        thread = threading.Thread(target=gate.wait, name="mlimpact-prefetch", daemon=True)
        thread.start()
        return thread

    monkeypatch.setattr("ui.state.prefetch_steps", slow)
    try:
        at = upload(at, csv_bytes(3_000, seed=81))
        assert len(started) == 1
        key = next(s.key for s in at.sidebar.slider if s.key.startswith("threshold_"))
        at.sidebar.slider(key=key).set_value(0.3).run()
        assert not at.exception and len(started) == 1  # still running: none started
        gate.set()
        for thread in list(computed._WARMING.values()):
            thread.join(5)
        at.sidebar.slider(key=key).set_value(0.4).run()
        assert not at.exception and len(started) == 1  # done: once per file (each warm-up is seconds of CPU at 1M rows)
    finally:
        gate.set()


@pytest.mark.parametrize("value, rows", [("200000", 200_000), ("200_000", 200_000), ("200,000", 200_000),
                                         ("2e5", 200_000), ("off", None), ("0", None), ("-1", None),
                                         ("lots", 200_000)])
def test_the_warm_up_threshold_from_the_environment(value, rows):
    from ui.computed import _warm_up_rows

    assert _warm_up_rows(value) == rows


def test_segments_is_drawn_while_the_background_finds_the_weak_slices(monkeypatch):
    """A large file's warm-up finds the weak slices; a visit of Segments meanwhile draws the page (its table) with
    a note instead of waiting, and the slices appear once found (the note's fragment reruns the page)."""
    import threading

    from mlimpact import slices
    from ui import computed

    at = AppTest.from_file(APP, default_timeout=60).run()  # the default sample first, before the warm-up is on
    monkeypatch.setattr("ui.computed.WARM_UP_ROWS", 1_000)
    started, release = threading.Event(), threading.Event()
    search = slices.search_weak_slices

    def slow(*args, **kwargs):  # the warm-up's search, held until the test lets it go
        started.set()
        release.wait(20)
        return search(*args, **kwargs)

    monkeypatch.setattr(slices, "search_weak_slices", slow)
    try:
        at = upload(at, csv_bytes(3_000, seed=82))
        assert started.wait(10)
        at.switch_page("pages/segments.py").run()
        assert not at.exception and not at.error
        assert any("Finding weak slices in the background" in i.value for i in at.info)
        assert at.dataframe  # the segment table is there
        assert not any("slices evaluated" in c.value for c in at.caption)
    finally:
        release.set()
    for thread in list(computed._WARMING.values()):
        thread.join(20)
    at.run()
    assert not at.exception and not at.error
    assert not any("Finding weak slices in the background" in i.value for i in at.info)
    assert any("slices evaluated" in c.value for c in at.caption)  # found by the warm-up, shown now
