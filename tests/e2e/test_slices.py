"""End-to-end: build a slice by clicking a bar on Segments, name it, and see every page follow it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import click_nav, open_app, screenshot, wait_for_app
from .test_browser import no_exception

pytestmark = pytest.mark.e2e


def _banner(page):
    return page.get_by_test_id("stMain").get_by_test_id("stAlertContentInfo").filter(
        has_text="every page shows these rows")


def test_click_a_bar_save_it_as_a_slice_and_every_page_follows(page, streamlit_server):
    open_app(page, streamlit_server)
    click_nav(page, "Segments")
    chart = page.get_by_test_id("stVegaLiteChart").first
    bar = chart.locator("g.mark-rect.role-mark path").first  # the worst segment's bar (sorted worst first)
    bar.click()
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Selected segment (used by the other pages)", exact=False)).to_be_visible()
    main.get_by_role("button", name="Save as a slice").click()
    name = page.get_by_role("textbox", name="Name of the new slice")
    name.fill("worst region")
    name.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Save and use this slice").last.click()
    wait_for_app(page)
    no_exception(page)
    expect(_banner(page)).to_contain_text("Slice worst region:")
    screenshot(page, "slice_saved_on_segments.png")
    for name in ("Overview", "Impact", "Monitoring"):
        click_nav(page, name)
        no_exception(page)
        expect(_banner(page)).to_contain_text("Slice worst region:")
    screenshot(page, "slice_on_monitoring.png")
    page.get_by_role("button", name="Clear slice").click()
    wait_for_app(page)
    expect(_banner(page)).to_have_count(0)


def test_a_heatmap_cell_offers_its_two_values_as_a_slice(page, streamlit_server):
    from .test_browser import choose_option

    open_app(page, streamlit_server)
    click_nav(page, "Segments")
    main = page.get_by_test_id("stMain")
    picker = main.get_by_test_id("stMultiSelect").filter(has_text="Segment by")
    choose_option(page, picker.get_by_role("combobox"), "channel")
    page.keyboard.press("Escape")
    wait_for_app(page)
    cell = page.get_by_test_id("stVegaLiteChart").first.locator("g.mark-rect.role-mark path").first
    cell.click()
    wait_for_app(page)
    no_exception(page)
    caption = main.get_by_text("Selected segment (used by the other pages)", exact=False)
    expect(caption).to_contain_text(" and channel = ")
    expect(main.get_by_role("button", name="Save as a slice")).to_be_visible()
    screenshot(page, "slice_from_heatmap.png")
