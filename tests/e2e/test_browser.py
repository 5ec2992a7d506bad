"""End-to-end: the real app in Chromium. What AppTest cannot see: the browser, real uploads, navigation
clicks, the slider, deep links on a fresh server, and whether uploaded text can become live HTML.

Run alone with ``python -m pytest tests/e2e -q``; screenshots land in ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from .conftest import SAMPLE_DATA, click_nav, nav_names, open_app, screenshot, slug, wait_for_app

pytestmark = pytest.mark.e2e

UPLOAD_LABEL = "Upload my files"


# ----------------------------------------------------------------------------- helpers
def no_exception(page) -> None:
    """No Streamlit exception box on the page (checked after the run finished; reports its text)."""
    wait_for_app(page)
    boxes = page.get_by_test_id("stException")
    assert boxes.count() == 0, f"stException on {page.url}: {boxes.all_inner_texts()}"


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def choose_option(page, combobox, option: str) -> None:
    """Open a Streamlit selectbox/multiselect (a react-aria combobox) and click one option by its text."""
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def rows_used_caption(page):
    return sidebar(page).get_by_test_id("stCaptionContainer").filter(has_text="rows used")


def upload(page, path) -> None:
    data_box = sidebar(page).get_by_role("combobox", name="Data", exact=True)
    choose_option(page, data_box, UPLOAD_LABEL)
    expect(data_box).to_have_value(UPLOAD_LABEL)
    label = page.get_by_test_id("stWidgetLabel").get_by_text("Prediction files", exact=True)  # not the slices one
    file_input = page.get_by_test_id("stFileUploader").filter(has=label).get_by_test_id("stFileUploaderDropzoneInput")
    file_input.wait_for(state="attached")
    file_input.set_input_files(str(path))
    # The file's name shows in the uploader once the server has it; once read, the upload is "in use" and the
    # uploader starts empty again (ui.sidebar._release_upload_bytes); a file that is refused stays in the uploader.
    in_use = sidebar(page).get_by_test_id("stCaptionContainer").filter(has_text=f"In use: {path.name} (uploaded)")
    expect(page.get_by_test_id("stFileChipName").filter(has_text=path.name).or_(in_use).first).to_be_attached()
    wait_for_app(page)


def assert_inert(page, where: str) -> None:
    """Nothing from the uploaded payloads became live HTML, a script, a remote image or a link."""
    assert page.evaluate("() => window.__xss") is None, f"payload script ran ({where})"
    # Vega-Embed adds an empty <form class="vega-bindings"> to every chart; any other form came from data.
    assert page.locator("form:not(.vega-bindings)").count() == 0, f"a <form> appeared ({where})"
    assert page.locator("form.vega-bindings *").count() == 0, f"a chart's bindings form has content ({where})"
    assert page.locator("input[type=password], iframe, object, embed").count() == 0, where
    assert page.locator("img[src*='example.com'], img[src='x']").count() == 0, f"payload <img> ({where})"
    assert page.locator("a[href*='example.com'], a[href*='http://x']").count() == 0, f"payload link ({where})"
    assert page.locator("[onerror], [onclick], [onload]").count() == 0, f"inline handler ({where})"


# ----------------------------------------------------------------------------- tests
def test_first_open_shows_fraud_sample(page, streamlit_server):
    open_app(page, streamlit_server)
    expect(sidebar(page).get_by_role("combobox", name="Data", exact=True)).to_have_value(re.compile("fraud", re.I))
    expect(page.get_by_test_id("stMetricValue")).to_have_count(4)
    for value in page.get_by_test_id("stMetricValue").all_inner_texts():
        assert re.search(r"\d", value), f"headline metric without a number: {value!r}"
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    expect(chart.locator("svg .mark-rect path, svg .mark-rect rect, svg path").first).to_be_attached()
    expect(rows_used_caption(page)).to_have_text(re.compile(r"of 80,000 rows used"))
    no_exception(page)
    screenshot(page, "overview.png")
    assert not page.js_errors, page.js_errors


def test_visit_every_page_via_sidebar(page, streamlit_server):
    open_app(page, streamlit_server)
    names = nav_names(page)
    assert len(names) >= 3, names
    assert {"Overview", "Segments", "Data"} <= set(names), names
    for name in names:
        click_nav(page, name)
        expect(page.get_by_test_id("stMain").get_by_role("heading", level=1).first).to_have_text(name)
        no_exception(page)
        # Still the same session: the sample chosen on first open is still in use.
        expect(rows_used_caption(page)).to_have_text(re.compile(r"of 80,000 rows used"))
        screenshot(page, f"page_{slug(name)}.png")
    assert not page.js_errors, page.js_errors


def test_upload_through_file_input(page, streamlit_server):
    path = SAMPLE_DATA / "support_tickets.csv"
    n_rows = len(pd.read_csv(path, usecols=[0]))
    open_app(page, streamlit_server)
    upload(page, path)
    no_exception(page)
    labels = page.get_by_test_id("stMetricLabel")
    expect(labels.get_by_text("Accuracy", exact=True)).to_be_visible()
    expect(labels.get_by_text("Recall", exact=True)).to_have_count(0)  # no binary metrics left from fraud
    expect(rows_used_caption(page)).to_have_text(re.compile(rf"of {n_rows:,} rows used"))
    screenshot(page, "upload_overview.png")

    click_nav(page, "Segments")
    expect(page.get_by_test_id("stMain").get_by_role("heading", name="Segments")).to_be_visible()
    no_exception(page)
    expect(rows_used_caption(page)).to_have_text(re.compile(rf"of {n_rows:,} rows used"))
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    screenshot(page, "upload_segments.png")

    click_nav(page, "Overview")
    no_exception(page)
    expect(sidebar(page).get_by_role("combobox", name="Data", exact=True)).to_have_value(UPLOAD_LABEL)
    expect(rows_used_caption(page)).to_have_text(re.compile(rf"of {n_rows:,} rows used"))
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Accuracy", exact=True)).to_be_visible()
    screenshot(page, "upload_overview_after_switch.png")


def test_change_threshold_and_segment(page, streamlit_server):
    open_app(page, streamlit_server)
    values = page.get_by_test_id("stMetricValue")
    expect(values).to_have_count(4)
    before = values.all_inner_texts()

    slider = sidebar(page).get_by_role("slider")
    expect(slider).to_have_value("0.5")
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    expect(slider).to_have_value("0.6")
    wait_for_app(page)
    expect(values).not_to_have_text(before)
    expect(page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer")
           .filter(has_text="threshold 0.6 (set in the sidebar)")).to_have_count(1)  # the page's columns line
    no_exception(page)
    screenshot(page, "threshold_0_6.png")

    click_nav(page, "Segments")
    expect(slider).to_have_value("0.6")  # the threshold survives the page switch
    picker = page.get_by_test_id("stMain").get_by_test_id("stMultiSelect").filter(has_text="Segment by")
    tags = picker.get_by_test_id("stMultiSelectTagsContainer")
    first = tags.locator("[data-tag]").first.get_attribute("aria-label")
    other = "channel" if first != "channel" else "device"
    picker.get_by_role("button", name=f"Remove {first}").click()
    wait_for_app(page)
    choose_option(page, picker.get_by_role("combobox"), other)
    page.keyboard.press("Escape")  # a multiselect's list stays open after a pick; close it for the screenshot
    expect(tags.locator("[data-tag]")).to_have_count(1)
    expect(tags.locator("[data-tag]").first).to_have_attribute("aria-label", other)
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    # The chart is drawn for the new column: its name is in the SVG (axis title), the old one is not.
    expect(chart.locator("svg text").filter(has_text=other).first).to_be_attached()
    no_exception(page)
    screenshot(page, f"segments_by_{other}.png")


PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    "[click me](https://example.com)",
    "![img](https://example.com/x.png)",
    '=HYPERLINK("http://x")',
]


def test_xss_payload_is_inert(page, streamlit_server, tmp_path):
    path = tmp_path / "payloads.csv"
    n = 600
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["is_fraud", "score", "region", *PAYLOADS])
        for i in range(n):
            y = int(i % 7 < 2)  # positives in every region (region cycles with period 5)
            score = round(0.05 + 0.45 * y + (i * 37 % 100) / 200, 4)
            cells = [PAYLOADS[(i + k) % len(PAYLOADS)] for k in range(len(PAYLOADS) + 1)]
            w.writerow([y, score, *cells])

    open_app(page, streamlit_server)
    upload(page, path)
    expect(rows_used_caption(page)).to_have_text(re.compile(rf"of {n:,} rows used"))
    assert_inert(page, "after upload")
    names = nav_names(page)
    for name in names:
        click_nav(page, name)
        no_exception(page)
        assert_inert(page, name)
        screenshot(page, f"xss_{slug(name)}.png")
        if name == "Segments":
            # The payloads did reach the screen, as plain text (so this test is not vacuous): the chart's
            # SVG text (axis labels, title) quotes the region values literally.
            chart = page.get_by_test_id("stVegaLiteChart").first
            expect(chart).to_be_visible()
            expect(chart.locator("svg text").filter(has_text="<img src=x").first).to_be_attached()
    # Open the sidebar's role mapping, where every column name is a selectbox value or option.
    sidebar(page).get_by_test_id("stExpander").filter(has_text="Columns and task").locator("summary").click()
    page.wait_for_timeout(300)
    assert_inert(page, "roles expander")
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert not page.js_errors, page.js_errors


def test_deep_link_on_fresh_server(page, fresh_streamlit_server):
    url = fresh_streamlit_server()
    page.goto(f"{url}/segments")  # the very first request this server sees
    wait_for_app(page)
    expect(page.get_by_test_id("stMain").get_by_role("heading", name="Segments")).to_be_visible()
    expect(sidebar(page).get_by_role("combobox", name="Data", exact=True)).to_be_visible()
    expect(rows_used_caption(page)).to_have_text(re.compile(r"of 80,000 rows used"))
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    no_exception(page)
    screenshot(page, "deeplink_segments.png")


def test_deep_link_navigation_matches_the_app(page, fresh_streamlit_server):
    """A fresh server runs a deep-linked page without app.py (pages/ legacy discovery); the app draws its own
    navigation and page config from every page, so the sidebar and the wide layout are the same anyway."""
    url = fresh_streamlit_server()
    page.goto(f"{url}/segments")
    wait_for_app(page)
    expect(page.get_by_test_id("stMain").get_by_role("heading", name="Segments")).to_be_visible()
    names = nav_names(page)
    assert "app" not in names and {"Overview", "Segments", "Data"} <= set(names), names
    width = page.get_by_test_id("stMainBlockContainer").evaluate("e => e.getBoundingClientRect().width")
    assert width > 900, f"main column {width:.0f}px wide: layout='wide' from app.py did not apply"


def test_report_download_holds_the_numbers(page, streamlit_server, tmp_path):
    """The sidebar's Report button downloads one self-contained HTML file with the numbers on screen."""
    from html.parser import HTMLParser

    open_app(page, streamlit_server)
    recall_on_screen = page.get_by_test_id("stMetricValue").first.inner_text()
    with page.expect_download(timeout=120_000) as download:
        sidebar(page).get_by_test_id("stDownloadButton").filter(has_text="Report").get_by_role("button").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "mlimpact_report_fraud.html"
    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) < 2_000_000
    assert recall_on_screen in text  # e.g. "76.7%": the same number as the Overview's headline
    for heading in ("Summary", "Is it good? Headline metrics", "For whom? Metrics per segment",
                    "Where does it fail? Weak slices", "What is it worth? Business impact",
                    "Is it still working? Monitoring", "Provenance"):
        assert f">{heading}</h2>" in text, heading

    class Refs(HTMLParser):
        urls: list = []
        tags: list = []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.urls += [v for k, v in attrs if k in ("src", "href") and v and not v.startswith("#")]

    refs = Refs()
    refs.feed(text)
    assert refs.urls == [] and "script" not in refs.tags and "svg" in refs.tags


def test_share_link_restores_the_view_in_a_fresh_browser(page, browser, streamlit_server):
    """The address bar is the share link: a new browser context (a colleague) opening it sees the same view."""
    open_app(page, streamlit_server)
    slider = sidebar(page).get_by_role("slider")
    slider.focus()
    for _ in range(20):
        slider.press("ArrowLeft")
    expect(slider).to_have_value("0.3")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"[?&]t=0\.3(&|$)"))  # the address bar follows the rerun, a moment later
    click_nav(page, "Segments")
    picker = page.get_by_test_id("stMain").get_by_test_id("stMultiSelect").filter(has_text="Segment by")
    choose_option(page, picker.get_by_role("combobox"), "channel")
    page.keyboard.press("Escape")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"segcols=[^&]*channel"))
    link = page.url
    assert "t=0.3" in link and "segcols=" in link and "sample=fraud" in link, link
    mine = page.get_by_test_id("stVegaLiteChart").first.locator("svg text").first.text_content()

    colleague = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = colleague.new_page()
        other.goto(link)
        wait_for_app(other)
        expect(other.get_by_test_id("stMain").get_by_role("heading", name="Segments")).to_be_visible()
        expect(other.get_by_test_id("stSidebar").get_by_role("slider")).to_have_value("0.3")
        tags = other.get_by_test_id("stMain").get_by_test_id("stMultiSelect").filter(
            has_text="Segment by").get_by_test_id("stMultiSelectTagsContainer").locator("[data-tag]")
        expect(tags).to_have_count(2)
        expect(other.get_by_test_id("stVegaLiteChart").first.locator("svg text").first).to_have_text(mine)
        assert other.get_by_test_id("stException").count() == 0
        screenshot(other, "share_link_restored.png")
    finally:
        colleague.close()
