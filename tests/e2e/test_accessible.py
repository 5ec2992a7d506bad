"""End-to-end: every input on every page has its own accessible name (what a screen reader announces, and how a
test finds it by label), and every chart a text alternative."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from .conftest import click_nav, nav_names, open_app

pytestmark = pytest.mark.e2e

#: roles of the controls a person operates; radio options and buttons are named by their visible text
INPUT_ROLES = ("textbox", "spinbutton", "combobox", "slider", "checkbox", "switch", "radiogroup")
_LINE = re.compile(r'^\s*- \'?(?P<role>[a-z]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?')  # 'role "name"': value


def _inputs(page) -> list[tuple[str, str]]:
    """(role, accessible name) of every input in the sidebar and the main area, from the accessibility tree."""
    found = []
    for area in ("stSidebar", "stMain"):
        for line in page.get_by_test_id(area).aria_snapshot().splitlines():
            m = _LINE.match(line)
            if m and m.group("role") in INPUT_ROLES:
                found.append((m.group("role"), (m.group("name") or "").strip()))
    return found


def charts_named(page) -> bool:
    """At least the first chart carries its text alternative (the title, as Vega's aria-label)."""
    charts = page.locator("[data-testid='stVegaLiteChart']")
    return charts.count() == 0 or (charts.first.get_attribute("aria-label") or "").startswith("Chart: ")


def test_every_input_has_its_own_name_and_every_chart_a_text_alternative(page, streamlit_server):
    open_app(page, streamlit_server)
    problems, seen = [], set()
    for name in nav_names(page):
        if name == "Large data":
            continue  # a form for a server path: checked by tests/e2e/test_server_source.py
        click_nav(page, name)
        inputs = _inputs(page)
        assert inputs and charts_named(page), name
        seen.update(role for role, _ in inputs)
        unnamed = [role for role, label in inputs if not label]
        repeated = [label for label, k in Counter(label for _, label in inputs).items() if k > 1]
        charts = page.locator("[data-testid='stVegaLiteChart']")
        untitled = [i for i in range(charts.count())
                    if not (charts.nth(i).get_attribute("aria-label") or "").startswith("Chart: ")]
        if unnamed or repeated or untitled:
            problems.append((name, unnamed, repeated, f"{len(untitled)} of {charts.count()} charts unnamed"))
    assert not problems, problems
    assert {"spinbutton", "combobox", "slider", "radiogroup", "textbox"} <= seen  # the scan sees each kind
