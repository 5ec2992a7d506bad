"""End-to-end: a click recomputes only what it changes (counted, not timed), and two browsers that upload the
same 100,000-row file share its parsed copy and its results.

The server runs with ``MLIMPACT_TRACE`` set, so every heavy computation (:mod:`mlimpact.trace`) writes its
name to a file. After a first visit of each page, going back to a page computes nothing; moving the threshold
recomputes the metrics but not the threshold-free curves; changing the segment column, the monitoring metric
or a cost recomputes that page's one analysis and nothing else (not the weak slices, the drift, the default
ranges, the Dataset or the file).
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, click_nav, open_app, screenshot, wait_for_app
from .test_browser import choose_option, no_exception, rows_used_caption, sidebar, upload

pytestmark = pytest.mark.e2e

ROWS = 100_000
PAGES = ["Overview", "Segments", "Difficulty", "Impact", "Monitoring"]
#: computations a page visit may cause the first time (each at most once per visit)
NEVER_TWICE = {"read_source", "build_dataset"}


def _make_file(path) -> None:
    spec = importlib.util.spec_from_file_location("make_big_file", ROOT / "bench" / "make_big_file.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_csv(path, ROWS)


class Trace:
    """The server's trace file: what was computed since the last :meth:`take`."""

    def __init__(self, path) -> None:
        self.path, self.seen = path, 0

    def take(self) -> Counter:
        lines = self.path.read_text().split() if self.path.exists() else []
        new, self.seen = lines[self.seen:], len(lines)
        return Counter(new)

    def settle(self) -> Counter:
        """:meth:`take` once nothing more is traced for 1.5 s: what a page computes ahead in the background
        (``ui.state.prefetch``) is done, so it cannot be counted against the next click."""
        n, quiet = -1, 0
        for _ in range(300):
            now = len(self.path.read_text().split()) if self.path.exists() else 0
            quiet = quiet + 1 if now == n else 0
            if quiet >= 15:
                break
            n = now
            time.sleep(0.1)
        return self.take()


@pytest.fixture
def traced(fresh_streamlit_server, tmp_path):
    trace = tmp_path / "trace.log"
    url = fresh_streamlit_server({"MLIMPACT_TRACE": str(trace)})
    path = tmp_path / "live_100k.csv"
    _make_file(path)
    return url, Trace(trace), path


def _open_with_file(page, url, path) -> None:
    open_app(page, url)
    upload(page, path)
    expect(rows_used_caption(page)).to_have_text(f"{ROWS:,} of {ROWS:,} rows used")


def test_a_click_recomputes_only_what_it_changes(page, traced):
    url, trace, path = traced
    _open_with_file(page, url, path)
    first = trace.take()
    assert first["read_source"] >= 1 and first["build_dataset"] >= 1  # the sample it opened on, then the file
    for name in PAGES:
        click_nav(page, name)
        no_exception(page)
    visits = trace.settle()
    assert not (NEVER_TWICE & set(visits)), visits  # pages reuse the file's Dataset
    assert visits["search_weak_slices"] == 1 and visits["analyze_impact"] == 1, visits

    for name in PAGES:  # back to each page: nothing is computed again
        click_nav(page, name)
        no_exception(page)
    assert trace.settle() == Counter()

    click_nav(page, "Overview")
    trace.settle()
    slider = sidebar(page).get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    wait_for_app(page)
    no_exception(page)
    moved = trace.take()
    assert moved["evaluate"] >= 1, moved  # the metrics at the new threshold
    assert not ({"roc_points", "pr_points", "score_histogram", "calibration_table"} & set(moved)), moved
    assert not (NEVER_TWICE & set(moved)), moved

    click_nav(page, "Segments")
    trace.settle()
    picker = page.get_by_test_id("stMain").get_by_test_id("stMultiSelect").filter(has_text="Segment by")
    choose_option(page, picker.get_by_role("combobox"), "device")
    page.keyboard.press("Escape")
    wait_for_app(page)
    no_exception(page)
    changed = trace.settle()  # the crossing's table, and the next single columns' ahead of the next click
    assert changed["segment_table"] >= 1, changed
    assert set(changed) <= {"segment_table", "evaluate"}, changed  # not the weak slices, not the Dataset

    click_nav(page, "Monitoring")
    trace.settle()
    metric = page.get_by_test_id("stMain").get_by_role("combobox", name="Metric", exact=True)
    current = metric.input_value()
    metric.click()
    other = next(o for o in page.get_by_role("option").all_inner_texts() if o.strip() and o.strip() != current)
    page.get_by_role("option", name=other.strip(), exact=True).click()
    wait_for_app(page)
    no_exception(page)
    changed = trace.settle()  # its series was computed ahead, in the background, while the page was read
    assert changed["metrics_over_time"] <= 1, changed
    assert not ({"drift_over_time", "default_setup", "traffic_ranges"} | NEVER_TWICE) & set(changed), changed

    click_nav(page, "Impact")
    trace.settle()
    cost = page.get_by_test_id("stMain").get_by_label("Cost of a false positive: amount", exact=True)
    cost.fill(str(float(cost.input_value()) + 1))
    cost.press("Enter")
    wait_for_app(page)
    no_exception(page)
    changed = trace.take()
    assert changed == Counter({"analyze_impact": 1}), changed
    screenshot(page, "live_impact_after_cost_change.png")


def test_two_browsers_with_the_same_file_share_its_results(page, browser, traced):
    url, trace, path = traced
    _open_with_file(page, url, path)
    for name in PAGES:
        click_nav(page, name)
    trace.settle()
    other = browser.new_context(viewport=page.viewport_size).new_page()
    try:
        _open_with_file(other, url, path)
        for name in PAGES:
            click_nav(other, name)
            no_exception(other)
        assert trace.settle() == Counter()  # the second person's upload and pages computed nothing again
        expect(other.get_by_test_id("stMain").get_by_role("heading", level=1, name="Monitoring")).to_be_visible()
    finally:
        other.context.close()
