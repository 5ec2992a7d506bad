"""Issue "Real files", points 3 and 4: defaults derived from the file, and lanes on Impact only once set.

The file: ~7,000 rows over two years (about 10 a day), a 1–10 risk score, a model wrong on ~35% of rows.
Before, Difficulty's default (1% target, 20,000 cases a day) automated nothing and sent 20,000 reviews a
day, and Impact charged a review cost on those default lanes although nobody chose them.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact import difficulty as dif
from mlimpact import impact
from mlimpact.io import Roles, build_dataset
from mlimpact.report import ReportSettings, build_report

APP = str(Path(__file__).resolve().parents[2] / "app.py")
THRESHOLD = 5.5  # the sidebar's start for a 1–10 score: the middle of its range


def _real_frame(n: int = 7214, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.integers(1, 11, n)
    y = (rng.random(n) < 0.15 + 0.06 * (score - 1)).astype(int)
    t = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.sort(rng.random(n)) * 730, unit="D")
    return pd.DataFrame({"timestamp": t.round("s"), "risk_score": score, "is_bad": y,
                         "region": rng.choice(["north", "south"], n)})


def _real(time: bool = True):
    frame = _real_frame()
    return build_dataset(frame, Roles(label="is_bad", score="risk_score", time="timestamp" if time else None))


def _stepped(error_by_score: dict[int, float], rows: int = 100):
    """A 1–10 score with exactly ``error_by_score[s]`` of each score's rows wrong at threshold 5.5."""
    parts = []
    for s, err in error_by_score.items():
        wrong = round(err * rows)
        right_label = int(s >= 6)
        parts.append(pd.DataFrame({"s": s, "y": [1 - right_label] * wrong + [right_label] * (rows - wrong)}))
    return build_dataset(pd.concat(parts, ignore_index=True), Roles(label="y", score="s"))


# ----------------------------------------------------------------------------- each default
def test_the_file_is_shaped_as_in_the_issue():
    ds = _real()
    assert 0.33 < dif.model_error_rate(ds, THRESHOLD) < 0.37
    assert 700 < dif.time_span_days(ds) <= 731


def test_volume_per_day_from_the_time_column():
    per_day, days = dif.volume_per_day(_real())
    assert per_day == 10 and days == pytest.approx(730, abs=1)


def test_volume_without_a_time_column_is_the_row_count_and_said_to_be_a_guess():
    ds = _real(time=False)
    assert dif.volume_per_day(ds) == (ds.n, None)
    start = dif.default_start(ds, THRESHOLD)
    assert start.policy.cases_per_day == ds.n
    assert "a guess" in start.caption(ds.n) and "7,214 rows" in start.caption(ds.n)


def test_target_is_half_the_model_error_rounded():
    assert dif.half_error_target(0.357, "binary") == 0.2
    assert dif.half_error_target(0.0172, "binary") == 0.009
    assert dif.half_error_target(0.11, "regression") == 0.06
    assert dif.half_error_target(0.0, "binary") == dif.DEFAULT_TARGET["binary"]  # a perfect model: the fallback
    start = dif.default_start(_real(), THRESHOLD)
    assert start.policy.target_error == 0.2 and not start.raised
    assert start.model_error == pytest.approx(dif.model_error_rate(_real(), THRESHOLD))


def test_the_default_automates_something_on_the_real_file():
    ds = _real()
    used = dif.lanes_in_use(ds, threshold=THRESHOLD)
    assert used.is_default and used.point.automated > 0
    assert used.point.error_rate <= 0.2
    assert used.lanes.policy.cases_per_day == 10
    # before: 1% errors and 20,000 cases a day automated nothing
    old = dif.choose_lanes(used.curve, dif.LanePolicy(method="target", target_error=0.01))
    assert old.automated == 0


def test_target_is_raised_when_some_cut_offs_beat_deciding_everything():
    # 25% wrong at the extremes, 35% in the middle: half the error (~17%) automates nothing
    ds = _stepped({1: 0.25, 2: 0.35, 3: 0.35, 4: 0.35, 5: 0.35, 6: 0.35, 7: 0.35, 8: 0.35, 9: 0.35, 10: 0.25})
    curve = dif.lane_curve(ds)
    start = dif.default_start(ds, THRESHOLD, curve=curve)
    assert dif.choose_lanes(curve, dif.LanePolicy(target_error=start.half_target)).automated == 0
    assert start.raised and start.half_target < start.policy.target_error < start.model_error
    point = dif.choose_lanes(curve, start.policy)
    assert point.automated >= dif.MIN_AUTOMATED and point.error_rate < start.model_error
    assert "raised to 30%" in start.caption(ds.n)


def test_nothing_is_automated_when_no_cut_offs_beat_deciding_everything():
    ds = _stepped(dict.fromkeys(range(1, 11), 0.3))
    start = dif.default_start(ds, THRESHOLD)
    assert not start.raised and dif.choose_lanes(dif.lane_curve(ds), start.policy).automated == 0


def test_caption_says_how_each_default_was_chosen():
    ds = _real()
    text = dif.default_start(ds, THRESHOLD).caption(ds.n)
    assert "7,214 rows over 730 days of `timestamp` ≈ 10 a day" in text
    assert "half the model's error rate at threshold 5.5 (36%), rounded: 20%" in text


def test_report_uses_the_same_default_as_the_page():
    ds = _real()
    doc = build_report(ds, ReportSettings(threshold=THRESHOLD))
    (section,) = [s for s in doc.sections if s.title.startswith("How hard are the inputs")]
    used = dif.lanes_in_use(ds, threshold=THRESHOLD)
    assert section.paragraphs[0] == dif.summary_sentence(used.point)
    assert section.paragraphs[0].startswith("Automating ")


# ----------------------------------------------------------------------------- the pages
def _upload(at: AppTest) -> AppTest:
    at.selectbox(key="mi_source_select").set_value("upload").run()
    data = _real_frame().to_csv(index=False).encode()
    at.file_uploader[0].set_value([("real.csv", data, "text/csv")]).run()
    return at


def _difficulty() -> AppTest:
    at = _upload(AppTest.from_file(APP, default_timeout=90).run())
    at.switch_page("pages/difficulty.py").run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    return at


def _impact_lanes_caption(at: AppTest) -> str:
    at.switch_page("pages/impact.py").run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    return next(c.value for c in at.caption if "review lanes" in c.value.lower())


def test_difficulty_page_automates_something_by_default():
    at = _difficulty()
    assert at.markdown[0].value.startswith("#### Automating ")
    per_day = next(n for n in at.number_input if n.key.startswith("dif_per_day_"))
    assert per_day.value == 10
    threshold = at.session_state["mi_threshold"][at.session_state["mi_current"]]  # the sidebar's start
    target = next(n for n in at.number_input if n.key.startswith("dif_target_"))
    assert target.value == pytest.approx(100 * dif.default_start(_real(), threshold).policy.target_error)
    assert threshold != THRESHOLD or target.value == pytest.approx(20.0)
    assert any("≈ 10 a day" in c.value for c in at.caption)
    assert at.session_state["mi_lanes"] == {}


def test_impact_after_an_untouched_difficulty_page_has_no_review_lanes():
    at = _difficulty()
    caption = _impact_lanes_caption(at)
    assert caption.startswith("No review lanes") and "no review cost is charged" in caption
    assert impact.NO_LANES_SENTENCE.startswith("No review lanes")
    assert at.session_state["mi_lanes"] == {}
    assert "reviewed" not in at.dataframe[0].value.columns


def test_impact_after_setting_lanes_on_difficulty_uses_them():
    at = _difficulty()
    next(n for n in at.number_input if n.key.startswith("dif_target_")).set_value(25.0).run()
    (lanes,) = at.session_state["mi_lanes"].values()
    assert lanes.policy.target_error == 0.25
    caption = _impact_lanes_caption(at)
    assert caption.startswith("Review lanes from the Difficulty page")
    assert "reviewed" in at.dataframe[0].value.columns


def test_keeping_the_defaults_with_the_button_sets_them():
    at = _difficulty()
    next(b for b in at.button if b.key.startswith("dif_keep_")).click().run()
    (lanes,) = at.session_state["mi_lanes"].values()
    threshold = at.session_state["mi_threshold"][at.session_state["mi_current"]]
    assert lanes.policy == dif.default_start(_real(), threshold).policy
    assert _impact_lanes_caption(at).startswith("Review lanes from the Difficulty page")
    # and back to the defaults: the lanes leave Impact again
    at.switch_page("pages/difficulty.py").run()
    next(b for b in at.button if b.key.startswith("dif_reset_")).click().run()
    assert at.session_state["mi_lanes"] == {}
    assert _impact_lanes_caption(at).startswith("No review lanes")
