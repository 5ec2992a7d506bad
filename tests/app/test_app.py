"""AppTest: every page on every sample, real uploads through the file uploader, state across pages."""

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact.io import SAMPLES, sample_path
from ui import nav

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
SOURCE = "mi_source_select"
SAMPLE_KEYS = list(SAMPLES)


def shown(markdown_source: str) -> str:
    """The text a person sees for an escaped Markdown source (the app escapes every file value)."""
    return re.sub(r"\\(.)", r"\1", markdown_source)


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _choose(at: AppTest, key: str) -> AppTest:
    options = list(SAMPLES) + ["upload"]
    return at.selectbox(key=SOURCE).select_index(options.index(key)).run()


def test_first_open_shows_fraud_sample_with_inferred_roles():
    at = _app().run()
    _assert_clean(at)
    assert at.title[0].value == "Overview"
    assert [m.label for m in at.metric] == ["Recall", "Precision", "ROC AUC", "Share flagged"]
    roles = at.session_state["mi_roles"]
    (chosen,) = roles.values()
    assert (chosen.label, chosen.score, chosen.time, chosen.amount) == ("is_fraud", "fraud_score", "timestamp", "amount")
    assert chosen.other_scores == ("fraud_score_v2",)
    assert set(chosen.segments) == {"region", "merchant_category", "channel", "device"}
    assert at.caption[0].value.replace("\\", "") == ("Label `is_fraud` (positive class 1) · score `fraud_score` · "
                                                      "threshold 0.5 (0.5, the convention for probabilities)")
    assert at.caption[1].value.startswith("Of the fraud cases, the model catches")


@pytest.mark.parametrize("sample", SAMPLE_KEYS)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_every_sample(sample, page):
    at = _app().run()
    _choose(at, sample)
    at.switch_page(page).run()
    _assert_clean(at)
    assert at.title[0].value == {path: title for path, title, _ in nav.PAGES}[page]  # the title the sidebar shows
    if page in ("pages/overview.py", "pages/segments.py"):
        assert len(at.get("vega_lite_chart")) >= 1


@pytest.mark.parametrize("sample", SAMPLE_KEYS)
def test_upload_each_sample_through_the_uploader(sample):
    at = _app().run()
    _choose(at, "upload")
    path = sample_path(sample)
    at.file_uploader[0].set_value([(path.name, path.read_bytes(), "text/csv")]).run()
    _assert_clean(at)
    task = SAMPLES[sample].task
    expected = {"binary": "Recall", "multiclass": "Accuracy", "regression": "Mean absolute error"}[task]
    assert at.metric[0].label == expected
    # the upload stays in use on another page, even though that page has its own (empty) uploader
    at.switch_page("pages/data.py").run()
    _assert_clean(at)
    read = at.dataframe[0].value
    assert read["file"].tolist() == [path.name]


def test_bad_upload_shows_message_not_traceback():
    at = _app().run()
    _choose(at, "upload")
    at.file_uploader[0].set_value([("notes.csv", b"", "text/csv")]).run()
    assert not at.exception
    assert shown(at.error[0].value) == ("notes.csv: the file is empty; export the predictions with a header row "
                                        "and at least one data row")


def test_threshold_and_roles_survive_page_switches():
    at = _app().run()
    slider = next(s for s in at.slider if s.key.startswith("threshold_"))
    slider.set_value(0.3).run()
    recall_at_03 = at.metric[0].value
    at.switch_page("pages/segments.py").run()
    at.switch_page("pages/overview.py").run()
    _assert_clean(at)
    assert next(s for s in at.slider if s.key.startswith("threshold_")).value == pytest.approx(0.3)
    assert at.metric[0].value == recall_at_03


def test_segments_cross_and_selection_state():
    at = _app().run()
    at.switch_page("pages/segments.py").run()
    multiselect = next(m for m in at.multiselect if m.key.startswith("seg_columns_"))
    multiselect.set_value(["merchant_category", "channel"]).run()
    _assert_clean(at)
    table = at.dataframe[0].value
    assert {"merchant_category", "channel", "n", "value", "low", "high", "significantly_worse"} <= set(table.columns)
    worst = table.sort_values("value").iloc[0]
    assert (worst["merchant_category"], worst["channel"]) == ("electronics", "online")


def test_changing_a_role_changes_the_analysis():
    at = _app().run()
    h = next(s.key for s in at.selectbox if s.key.startswith("role_score_")).removeprefix("role_score_")
    before = at.metric[2].value
    at.selectbox(key=f"role_score_{h}").set_value("fraud_score_v2").run()
    _assert_clean(at)
    assert at.metric[2].value != before


def test_weak_slices_panel_lists_planted_slices_and_selection_state():
    at = _app().run()
    at.switch_page("pages/segments.py").run()
    _assert_clean(at)
    tables = [d.value for d in at.dataframe]
    slices = next(t for t in tables if "finding" in t.columns)
    findings = slices["finding"].tolist()
    assert findings[0].startswith("device = unknown:")
    assert any(f.startswith("merchant_category = electronics and channel = online:") for f in findings)
    at.selectbox(key="seg_ws_rerank").set_value("recall").run()
    _assert_clean(at)
    slices = next(d.value for d in at.dataframe if "finding" in d.value.columns)
    assert {"recall", "recall_low", "recall_high"} <= set(slices.columns)


def test_report_downloads_offered_in_the_sidebar():
    at = _app().run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Report" in labels and "Markdown" in labels


def test_weak_slice_pick_filters_the_review_page():
    import numpy as np

    at = _app().run()
    at.switch_page("pages/segments.py").run()
    # a pick in the slice table (a browser click) stores the slice's rows; AppTest cannot click, so seed it
    ds = next(iter(at.session_state["mi_datasets"].values()))
    frame = pd.read_csv(sample_path("fraud"), usecols=["device"])
    rows = np.flatnonzero(frame["device"].to_numpy() == "unknown")
    at.session_state["mi_selected_rows"] = {"content_hash": ds.content_hash, "roles": ds.roles,
                                            "description": "device = unknown", "rows": rows}
    at.switch_page("pages/review.py").run()
    _assert_clean(at)
    toggle = next(t for t in at.toggle if t.key.startswith("rev_slice_"))
    assert toggle.value is True
    shown_tables = [d.value for d in at.dataframe]
    assert any("device" in t.columns and len(t) and set(t["device"]) == {"unknown"} for t in shown_tables)


def test_review_uses_the_difficulty_pages_default_lanes_at_the_threshold_in_use():
    """The default lanes follow the threshold (the target is half the model's error there): the Review page
    shows the lanes the Difficulty page chose at the same threshold, not those of the file's default one."""
    at = _app().run()
    next(s for s in at.slider if s.key.startswith("threshold_")).set_value(0.15).run()
    at.switch_page("pages/difficulty.py").run()
    _assert_clean(at)
    lanes = next(shown(c.value) for c in at.caption if " Lanes: " in shown(c.value)).split(" Lanes: ")[1].rstrip(".")
    at.switch_page("pages/review.py").run()
    _assert_clean(at)
    caption = next(shown(c.value) for c in at.caption if shown(c.value).startswith("Lanes"))
    assert caption.startswith(f"Lanes: {lanes} (the default, "), (lanes, caption)
