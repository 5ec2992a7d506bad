"""Chart rendering cannot take the process down: text made XML-safe, the renderer in a child process."""

import altair as alt
import pandas as pd
import pytest

import mlimpact.report.render as render

HOSTILE = ["a\x01b", "c\x0bd", "\x00e", "f\ufffeg", "ok"]


def _chart():
    frame = pd.DataFrame({"segment": HOSTILE, "value": range(len(HOSTILE))})
    return alt.Chart(frame).mark_bar().encode(x="segment:N", y="value:Q").properties(title="worst\x01segment")


def test_control_characters_are_replaced_before_rendering():
    spec = render.xml_safe(_chart().to_dict())
    text = str(spec)
    assert not any(ch in text for ch in "\x00\x01\x0b\ufffe")
    (svg,) = render.render_charts([_chart().to_dict()])
    assert svg.startswith("<svg") and "\ufffd" in svg and "\x01" not in svg
    (png,) = render.render_charts([_chart().to_dict()], fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_renderer_crash_costs_one_render_not_the_process(monkeypatch):
    """Without the clean-up vl-convert aborts (SIGABRT); in the child that is a RenderError here."""
    monkeypatch.setattr(render, "xml_safe", lambda value: value)
    with pytest.raises(render.RenderError, match=r"^the chart renderer failed \((signal 6|exit \d+)\)$"):
        render.render_charts([_chart().to_dict()])


def test_a_slow_renderer_is_stopped():
    with pytest.raises(render.RenderError, match="took more than 0.01 s"):
        render.render_charts([_chart().to_dict()], timeout_s=0.01)
