"""End-to-end: change a control on every page, open each page's link on a freshly started server, and see the
same values (links carry every page's controls, not only the frame's)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import click_nav, open_app, screenshot, wait_for_app
from .test_browser import choose_option, no_exception

pytestmark = pytest.mark.e2e


def _main(page):
    return page.get_by_test_id("stMain")


def _set_number(page, name: str, value: str) -> None:
    box = _main(page).get_by_role("spinbutton", name=name, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_for_app(page)


def _pick(page, group: str, option: str) -> None:
    _main(page).get_by_role("radiogroup", name=group).get_by_text(option, exact=True).click()
    wait_for_app(page)


# page: (how to change one control, how to see it again)
STEPS = {
    "Segments": (lambda p: choose_option(p, _main(p).get_by_role("combobox", name="Metric", exact=True), "Precision"),
                 lambda p: expect(_main(p).get_by_role("combobox", name="Metric", exact=True)).to_have_value(
                     "Precision")),
    "Impact": (lambda p: _set_number(p, "Cost of a false positive: amount", "7"),
               lambda p: expect(_main(p).get_by_role("spinbutton", name="Cost of a false positive: amount",
                                                     exact=True)).to_have_value("7.00")),
    "Compare": (lambda p: choose_option(p, _main(p).get_by_role("combobox", name="Compare per value of", exact=True),
                                        "channel"),
                lambda p: expect(_main(p).get_by_role("combobox", name="Compare per value of", exact=True))
                .to_have_value("channel")),
    "Review": (lambda p: _set_number(p, "Rows to show", "20"),
               lambda p: expect(_main(p).get_by_role("spinbutton", name="Rows to show", exact=True)).to_have_value(
                   "20")),
    "Monitoring": (lambda p: choose_option(p, _main(p).get_by_role("combobox", name="Metric", exact=True),
                                           "Precision"),
                   lambda p: expect(_main(p).get_by_role("combobox", name="Metric", exact=True)).to_have_value(
                       "Precision")),
    "Difficulty": (lambda p: _pick(p, "Choose the cut-offs by", "Set the cut-offs by hand"),
                   lambda p: expect(_main(p).get_by_role("radiogroup", name="Choose the cut-offs by").get_by_role(
                       "radio", name="Set the cut-offs by hand")).to_be_checked()),
}


def test_every_pages_link_restores_its_controls_on_a_fresh_server(page, streamlit_server, fresh_streamlit_server):
    open_app(page, streamlit_server)
    links = {}
    for name, (change, _) in STEPS.items():
        click_nav(page, name)
        change(page)
        no_exception(page)
        wait_for_app(page)
        links[name] = page.url
        assert len(links[name]) < 2000, links[name]
    fresh = fresh_streamlit_server()
    for name, (_, check) in STEPS.items():
        parts = urlsplit(links[name])
        page.goto(fresh.rstrip("/") + parts.path + ("?" + parts.query if parts.query else ""))
        wait_for_app(page)
        no_exception(page)
        expect(_main(page).get_by_role("heading", name=re.compile(name))).to_be_visible()
        check(page)
        screenshot(page, f"link_restored_{name.lower()}.png")
