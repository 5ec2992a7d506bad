"""Slices you name, in the app: type a slice in the sidebar, save it, and every page works on its rows and says so;
the link carries it (parsed again, never executed); a bad slice is a message, not a traceback."""

from __future__ import annotations

import pytest

from tests.app.test_links import _h
from tests.app.test_share import _app

EXPR = 'channel == "online" and amount > 200'


def _save(at, expr=EXPR, name="online, over 200"):
    h = _h(at)
    at.text_input(key=f"slice_expr_{h}").set_value(expr)
    at.text_input(key=f"slice_name_{h}").set_value(name)
    at.button(key=f"slice_save_{h}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _banner(at) -> str:
    return " ".join(i.value for i in at.main.info if "every page shows these rows" in i.value)


def test_a_saved_slice_is_followed_by_every_page():
    at = _save(_app({}))
    banner = _banner(at)
    assert "online, over 200" in banner.replace("\\", "") and "of 80,000 rows" in banner
    for page in ("pages/overview.py", "pages/segments.py", "pages/impact.py", "pages/monitoring.py",
                 "pages/review.py", "pages/difficulty.py", "pages/compare.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert _banner(at), page
    rows = int(_banner(at).replace("\\", "").split("Slice online, over 200: ")[1].split(" of")[0].replace(",", ""))
    import pandas as pd

    frame = pd.read_csv("sample_data/fraud.csv")
    assert rows == int(((frame["channel"] == "online") & (frame["amount"] > 200)).sum())
    at.button(key="slice_clear").click().run()
    assert not _banner(at)


def test_the_link_restores_the_slices_and_the_active_one():
    at = _save(_app({}))
    params = {k: at.query_params[k] for k in at.query_params}
    assert params["slice"] == "online, over 200" and "amount > 200" in params["slices"]
    again = _app(params, "pages/impact.py")
    assert not again.exception and "online, over 200" in _banner(again).replace("\\", "")


def test_a_bad_slice_says_why_and_a_tampered_link_is_ignored():
    at = _save(_app({}), expr='chanel == "online"', name="typo")
    errors = " ".join(e.value for e in at.sidebar.error).replace("\\", "")
    assert "unknown column `chanel`; did you mean `channel`?" in errors and not _banner(at)
    at = _app({"slices": '[["x", "__import__(\\"os\\")"]]', "slice": "x"})
    assert not at.exception and not _banner(at)
    assert any("ignored link parameter `slices`" in w.value.replace("\\", "") for w in at.warning)


def test_monitoring_in_a_slice_exports_checks_on_that_slice():
    from mlimpact.monitoring import parse_checks

    at = _save(_app({}))
    at.switch_page("pages/monitoring.py").run()
    assert not at.exception
    code = next(c.value for c in at.main.code if "[[check]]" in c.value)
    cfg = parse_checks(code)
    assert {r.slice for r in cfg.ranges} == {"online, over 200"}
    assert [(s.name, s.expression) for s in cfg.slices] == [("online, over 200", EXPR)]


def test_segments_lists_the_named_slices_against_the_rest():
    at = _save(_app({}))
    at.switch_page("pages/segments.py").run()
    assert not at.exception
    table = next(d.value for d in at.main.dataframe if {"name", "rest_value"} <= set(d.value.columns))
    assert table["name"].tolist() == ["online, over 200"] and table["n"].iloc[0] > 0


def test_the_active_slice_can_be_edited_and_saved_again():
    at = _save(_app({}))
    h = _h(at)
    at.button(key=f"slice_edit_{h}").click().run()
    assert at.text_input(key=f"slice_expr_{h}").value == EXPR
    at.text_input(key=f"slice_expr_{h}").set_value('channel == "online" and amount > 900')
    at.button(key=f"slice_save_{h}").click().run()
    assert not at.exception
    banner = _banner(at).replace("\\", "")
    assert "online, over 200" in banner and "of 80,000 rows" in banner
    rows = int(banner.split("Slice online, over 200: ")[1].split(" of")[0].replace(",", ""))
    import pandas as pd

    frame = pd.read_csv("sample_data/fraud.csv")
    assert rows == int(((frame["channel"] == "online") & (frame["amount"] > 900)).sum())  # the edited slice


def test_a_review_filter_offers_save_as_a_slice():
    at = _app({}, "pages/review.py")
    h = _h(at)
    at.selectbox(key=f"rev_segment_column_{h}").select("region").run()
    at.selectbox(key=f"rev_segment_value_{h}").select("west").run()
    assert not at.exception
    at.text_input(key="rev_to_slice_name").set_value("west")
    at.button(key="rev_to_slice_save").click().run()
    assert "Slice west: 16,080 of 80,000 rows" in _banner(at).replace("\\", "")


def test_monitoring_follows_each_saved_slice_and_check_agrees(tmp_path, capsys):
    import json

    from mlimpact.cli.main import main
    from mlimpact.monitoring import SLICES, parse_checks

    at = _save(_app({}), expr='region == "west"', name="west")
    at = _save(at, expr='region == "north"', name="north")
    at.switch_page("pages/monitoring.py").run()
    h = _h(at)
    at.selectbox(key=f"mon_segment_{h}").select(SLICES).run()
    assert not at.exception, [e.value for e in at.exception]
    specs = " ".join(c.proto.spec for c in at.main.get("vega_lite_chart"))
    assert '"west"' in specs and '"north"' in specs
    alerts = next(d.value for d in at.main.dataframe if {"bucket", "status"} <= set(d.value.columns))
    code = next(c.value for c in at.main.code if "[[check]]" in c.value)
    cfg = parse_checks(code)
    assert {r.slice for r in cfg.ranges if r.metric == "recall"} == {"west", "north"}
    assert {s.name for s in cfg.slices} == {"west", "north"}
    config = tmp_path / "checks.toml"
    config.write_text(code)
    main(["check", "sample_data/fraud.csv", "--config", str(config), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    page = sorted(zip(alerts["segment"], alerts["bucket"], strict=True))
    cli = sorted((v["slice"], v["bucket"]) for v in doc["violations"] if v["metric"] == "recall")
    assert page == cli and ("west", "2026-W15") in cli  # the planted incident, found the same way


def test_a_value_that_does_not_occur_is_a_warning_and_zero_rows():
    at = _save(_app({}), expr='channel == "onlin"', name="typo value")
    warnings = " ".join(w.value for w in at.sidebar.warning).replace("\\", "")
    assert 'has no value "onlin"; did you mean "online"? The slice has 0 rows.' in warnings
    assert not at.exception
    assert any("Slice typo value: 0 of 80,000 rows" in w.value.replace("\\", "") for w in at.main.warning)
    at.switch_page("pages/impact.py").run()
    assert not at.exception and any("0 of 80,000 rows" in w.value.replace("\\", "") for w in at.main.warning)


@pytest.mark.parametrize("expr", ["is_fraud == 0", 'transaction_id == "tx_000009"'])
def test_every_page_stands_an_awkward_slice(expr):
    at = _save(_app({}), expr=expr, name="awkward")  # one class only; one row
    for page in ("pages/overview.py", "pages/segments.py", "pages/difficulty.py", "pages/review.py",
                 "pages/impact.py", "pages/compare.py", "pages/monitoring.py", "pages/data.py"):
        at.switch_page(page).run()
        assert not at.exception, (expr, page, [e.value for e in at.exception])


def test_costs_and_lanes_set_on_all_rows_hold_inside_a_slice():
    from tests.app.test_links import _widget

    at = _app({}, "pages/difficulty.py")
    h = _h(at)
    _widget(at, f"dif_method_{h}").set_value("capacity").run()  # the user sets the lanes on all rows
    at.switch_page("pages/impact.py").run()
    no_lanes = "No review lanes"
    assert not any(no_lanes in c.value for c in at.main.caption)
    _save(at)
    at.switch_page("pages/impact.py").run()
    assert not at.exception and _banner(at)
    assert not any(no_lanes in c.value for c in at.main.caption)  # the file's lanes, inside the slice
