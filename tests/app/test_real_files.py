"""Defaults that fit the file in hand: files shaped like real ones people bring (generated here, small)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact.cli import main
from mlimpact.compare import compare_models
from mlimpact.io import Roles, build_dataset, infer_roles
from mlimpact.io.decision import rate_mismatch, threshold_scale
from mlimpact.io.profile import columns_sentence, label_alternatives

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def recidivism(n: int = 7214, seed: int = 11) -> pd.DataFrame:
    """~7,000 rows over two years, a 1-10 risk score, two label-like flags (the one that matters second)."""
    rng = np.random.default_rng(seed)
    risk = rng.integers(1, 11, n)
    two_year = (rng.random(n) < 0.15 + 0.06 * risk).astype(int)
    return pd.DataFrame({"id": np.arange(n), "screening_date": rng.choice(pd.date_range("2013-01-01", periods=730), n),
                         "sex": rng.choice(["Male", "Female"], n), "race": rng.choice(list("ABCD"), n),
                         "decile_score": risk, "is_recid": np.maximum(two_year, (rng.random(n) < 0.1).astype(int)),
                         "two_year_recid": two_year})


def _upload(frame: pd.DataFrame, name: str = "file.csv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(4).run()
    at.file_uploader[0].set_value([(name, frame.to_csv(index=False).encode(), "text/csv")]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at) -> list[str]:
    return [c.value.replace("\\", "") for c in at.main.caption]


def test_two_label_like_columns_are_ranked_and_explained():
    guess = infer_roles(recidivism())
    assert guess.roles.label == "is_recid" and guess.alternatives["label"] == ("two_year_recid",)
    assert guess.reasons["label"].endswith("named like a target; also possible: `two_year_recid`")
    assert label_alternatives(guess, guess.roles.replace(label="two_year_recid")) == ("is_recid",)
    assert "sex" not in guess.alternatives["label"]  # two values, but not an outcome flag


def test_every_page_names_its_columns_and_offers_the_other_label():
    at = _upload(recidivism(), "recid.csv")
    assert _shown(at)[:2] == ["Label `is_recid` (positive class 1) · score `decile_score` · threshold 5.5 (the middle "
                              "of the score range (1 to 10))", "Also looks like a label: two_year_recid."]
    at.button(key="use_label_two_year_recid").click().run()
    assert not at.exception
    assert _shown(at)[0].startswith("Label `two_year_recid` (positive class 1) · score `decile_score`")
    for page in ("pages/segments.py", "pages/difficulty.py", "pages/impact.py"):
        at.switch_page(page).run()
        assert not at.exception and _shown(at)[0].startswith("Label `two_year_recid`"), page


def test_a_threshold_far_from_the_base_rate_is_said_and_fixed_in_one_click():
    rng = np.random.default_rng(3)
    n = 20_000
    y = (rng.random(n) < 0.05).astype(int)
    p = np.clip(0.02 + 0.25 * y * rng.random(n) + 0.05 * rng.random(n), 0, 1).round(4)
    sentence, matching = rate_mismatch(p, y, 0.5)
    assert sentence.startswith("At threshold 0.5 the model flags 0.0% of rows while 5.") and 0 < matching < 0.3
    assert threshold_scale(p, probabilities=True).why == "0.5, the convention for probabilities"
    at = _upload(pd.DataFrame({"loan_defaulted": y, "p_default": p}), "loans.csv")
    assert any(s.startswith("At threshold 0.5 the model flags") for s in _shown(at))
    at.button(key="use_matching_threshold").click().run()
    assert not at.exception
    assert _shown(at)[0].endswith(f"threshold {matching:g} (set in the sidebar)")
    assert not any(s.startswith("At threshold") for s in _shown(at))


def test_a_duplicated_score_column_is_listed_once_and_not_compared(capsys, tmp_path):
    rng = np.random.default_rng(4)
    risk = rng.random(2000)
    frame = pd.DataFrame({"y": (rng.random(2000) < risk).astype(int), "risk": risk, "risk_2": risk,
                          "other_score": rng.random(2000)})
    guess = infer_roles(frame)
    assert guess.roles.score == "risk" and guess.roles.other_scores == ("other_score",)
    assert guess.reasons["copies"] == "`risk_2` is a copy of `risk`: left out, so no model is compared with itself"
    path = tmp_path / "dup.csv"
    frame.to_csv(path, index=False)
    assert main(["summarize", str(path)]) == 0
    assert "note: `risk_2` is a copy of `risk`: left out, so no model is compared with itself" in \
        capsys.readouterr().err.splitlines()
    ds = build_dataset(frame, Roles(label="y", score="risk", other_scores=("risk_2", "other_score")))
    comparison = compare_models(ds)
    assert comparison.models == ("risk", "other_score")
    assert "`risk_2` is a copy of `risk` (identical on every row) and is not compared" in comparison.notes


@pytest.mark.parametrize(("task", "frame", "expected"), [
    ("multiclass", pd.DataFrame({"true_queue": list("abcabc"), "predicted_queue": list("abcaab")}),
     "Label `true_queue` (3 classes) · prediction `predicted_queue`"),
    ("regression", pd.DataFrame({"actual_minutes": [1.0, 2.5, 3.0, 4.0], "predicted_minutes": [1.2, 2.0, 3.1, 3.9]}),
     "Label `actual_minutes` · prediction `predicted_minutes`"),
])
def test_columns_sentence_for_every_task(task, frame, expected):
    ds = build_dataset(frame, infer_roles(frame).roles)
    assert ds.task == task and columns_sentence(ds, 0.5) == expected
