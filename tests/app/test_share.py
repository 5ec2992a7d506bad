"""Shareable views: validated query parameters restore the view; bad ones are ignored with a notice."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.share import parse

ROOT = Path(__file__).resolve().parents[2]
FRAUD_HASH = None


def _shown(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _app(params: dict, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def _fraud_hash() -> str:
    import hashlib

    return hashlib.sha256((ROOT / "sample_data" / "fraud.csv").read_bytes()).hexdigest()[:16]


def test_parse_validates_every_value():
    values, notices = parse({"t": ["0.3"], "sample": ["ads"], "h": ["zz"], "meeting": ["yes"], "evil": ["<x>"],
                             "seg": ["a,b"], "metric": ["recall; drop"]})
    assert values == {"t": 0.3, "sample": "ads", "seg": ("a", "b")}
    assert notices == ["ignored link parameter `h`: not a hexadecimal content hash",
                       "ignored link parameter `meeting`: not 0 or 1",
                       "ignored link parameter `evil`: not a setting of this app",
                       "ignored link parameter `metric`: not a simple name"]
    assert parse({"t": ["nan"]})[1] == ["ignored link parameter `t`: threshold nan: not a usable threshold; give a "
                                        "finite number such as 0.5 (rows with score >= threshold are flagged)"]
    assert parse({"t": ["1", "2"]})[1] == ["ignored link parameter `t`: given more than once"]


def test_link_restores_sample_threshold_roles_and_segment_view():
    h = _fraud_hash()
    at = _app({"sample": "fraud", "h": h, "t": "0.3", "score": "fraud_score_v2", "segcols": "channel",
               "metric": "precision"})
    assert not at.exception and not at.error and not at.warning
    slider = next(s for s in at.slider if s.key.startswith("threshold_"))
    assert slider.value == 0.3
    roles = next(iter(at.session_state["mi_roles"].values()))
    assert roles.score == "fraud_score_v2"
    at.switch_page("pages/segments.py").run()
    columns = next(m for m in at.multiselect if m.key.startswith("seg_columns_"))
    assert columns.value == ["channel"]
    assert at.selectbox(key="seg_metric").value == "precision"
    # the address bar holds the view
    assert at.query_params["t"] == "0.3" and at.query_params["score"] == "fraud_score_v2"


def test_link_for_another_file_says_so_and_does_not_apply():
    at = _app({"sample": "fraud", "h": "0123456789abcdef", "t": "0.3", "score": "fraud_score_v2"})
    assert not at.exception
    warnings = [_shown(w.value) for w in at.warning]
    assert any(w.startswith("This link was made for another file (content hash 0123456789abcdef…), not fraud.csv")
               for w in warnings)
    slider = next(s for s in at.slider if s.key.startswith("threshold_"))
    assert slider.value == 0.5


def test_malformed_and_unknown_parameters_are_ignored_with_a_notice():
    at = _app({"sample": "nope", "t": "abc", "<script>": "1", "label": "no_such_column"})
    assert not at.exception and not at.error
    warnings = [_shown(w.value) for w in at.warning]
    assert "ignored link parameter `sample`: not one of fraud, ads, support, delivery" in warnings
    assert ("ignored link parameter `t`: threshold abc: not a usable threshold; give a finite number such as 0.5 "
            "(rows with score >= threshold are flagged)") in warnings
    assert "ignored link parameter `<script>`: not a setting of this app" in warnings
    assert "ignored link parameter `label`: this file has no such column" in warnings
    assert at.title[0].value == "Overview"


def test_upload_link_asks_for_the_file():
    at = _app({"src": "upload", "h": "0123456789abcdef"})
    assert not at.exception
    assert any("Upload the same file to restore it" in _shown(i.value) for i in at.info)


def test_meeting_flag_turns_meeting_mode_on_and_off():
    at = _app({"meeting": "1"})
    assert at.toggle(key="meeting_toggle").value is True
    assert at.query_params["meeting"] == "1"
    at.toggle(key="meeting_toggle").set_value(False).run()
    assert at.toggle(key="meeting_toggle").value is False
    assert "meeting" not in at.query_params


def test_meeting_mode_survives_page_switches():
    at = _app({})
    at.toggle(key="meeting_toggle").set_value(True).run()
    at.switch_page("pages/segments.py").run()
    assert at.toggle(key="meeting_toggle").value is True
    assert not at.exception
