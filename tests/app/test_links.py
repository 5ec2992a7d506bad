"""Links restore every page: change controls on a page, take the address bar's parameters to a fresh session,
and the page shows the same values (AppTest; the browser test does it on a freshly started server)."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_share import ROOT, _app, _fraud_hash


def _h(at) -> str:
    return _fraud_hash()[:12]  # the default sample's short content hash: the widgets' key suffix


def _widget(at, key):
    for kind in ("selectbox", "radio", "number_input", "text_input", "date_input", "slider"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise AssertionError(f"no widget {key}")


# page, {key (with {h}): new value}
CHANGES = [
    ("pages/monitoring.py", {"mon_metric_{h}": "precision", "mon_period_{h}": "M", "mon_k_{h}": 2.5,
                             "mon_ref_{h}": dt.date(2026, 3, 1), "mon_rule_{h}": "point"}),
    ("pages/impact.py", {"imp_cost_fp_num_{h}": 7.0, "imp_value_tp_src_{h}": "amount", "imp_unit_{h}": "EUR",
                         "imp_rule_{h}": "amount > 900"}),
    ("pages/compare.py", {"cmp_metric_{h}": "recall", "cmp_segment_{h}": "channel"}),
    ("pages/review.py", {"rev_order": "sample", "rev_n": 20, "rev_seed": 7, "rev_segment_column_{h}": "region"}),
    ("pages/segments.py", {"seg_min_size": 50, "seg_bins": 4, "seg_ws_level": 2}),
    ("pages/difficulty.py", {"dif_method_{h}": "manual"}),
]


@pytest.mark.parametrize("page, changes", CHANGES, ids=[c[0].split("/")[1] for c in CHANGES])
def test_a_link_restores_the_pages_controls(page, changes):
    at = _app({}, page)
    assert not at.exception, [e.value for e in at.exception]
    h = _h(at)
    for key, value in changes.items():
        _widget(at, key.format(h=h)).set_value(value)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    params = {k: at.query_params[k] for k in at.query_params}
    assert sum(len(k) + len(str(v)) + 2 for k, v in params.items()) < 2000  # short links
    again = _app(params, page)
    assert not again.exception, [e.value for e in again.exception]
    for key, value in changes.items():
        assert _widget(again, key.format(h=h)).value == value, (key, params)


def test_a_link_restores_the_open_impact_tab():
    at = _app({}, "pages/impact.py")
    at.session_state["imp_view"] = "Every threshold"
    at.run()
    params = {k: at.query_params[k] for k in at.query_params}
    assert params["imp_view"] == "Every threshold"
    again = _app(params, "pages/impact.py")
    assert not again.exception and not again.error
    assert [t.label for t in again.tabs if t.children] == ["Every threshold"]


def test_lanes_set_on_difficulty_travel_to_impact():
    at = _app({}, "pages/difficulty.py")
    h = _h(at)
    _widget(at, f"dif_method_{h}").set_value("capacity").run()
    _widget(at, f"dif_reviewers_{h}").set_value(5).run()
    lanes = at.query_params["lanes"]
    assert lanes.split("~")[5] == "capacity" and lanes.split("~")[7] == "5"
    again = _app({k: at.query_params[k] for k in at.query_params}, "pages/impact.py")
    assert not again.exception
    assert any("review" in c.value.lower() for c in [*again.main.caption, *again.main.markdown])  # lanes in use
    again.switch_page("pages/difficulty.py").run()
    assert _widget(again, f"dif_reviewers_{h}").value == 5


def test_a_tampered_control_is_ignored_with_a_notice():
    at = _app({"mon_k": "lots", "lanes": "score~0.9~0.1~~~manual~0.01~3~200~20000"})
    assert any("lanes" in w.value and "swap them" in w.value for w in at.warning)  # shown once, by the frame
    at.switch_page("pages/monitoring.py").run()
    assert not at.exception
    assert any("mon_k" in t.value for t in at.toast)


def test_every_control_key_exists_on_its_page():
    from ui.share import CONTROLS

    text = "".join(p.read_text() for p in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
    for param, (template, _) in CONTROLS.items():
        stem = template.split("{")[0]
        assert f'key="{stem}' in text or f'key=f"{stem}' in text or "imp_{term}" in text, param


def test_link_parameters_are_allow_listed():
    from ui.share import parse

    values, notices = parse({"mon_k": ["2.5"], "mon_zzz": ["1"], "imp_rule": ["x" * 500]})
    assert values == {"mon_k": "2.5"}
    assert len(notices) == 2 and all("ignored link parameter" in n for n in notices)
    assert AppTest  # imported for the fixtures' module
