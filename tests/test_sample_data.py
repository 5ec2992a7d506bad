"""The shipped sample files: format, columns, and every planted effect, measured with scikit-learn."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, recall_score, roc_auc_score

from mlimpact.metrics import wilson_interval

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

COLUMNS = {
    "fraud.csv": ["transaction_id", "timestamp", "amount", "region", "merchant_category", "channel", "device",
                  "is_fraud", "fraud_score", "fraud_score_v2"],
    "ads_ctr.csv": ["impression_id", "date", "placement", "device", "country", "clicked", "predicted_ctr"],
    "support_tickets.csv": ["ticket_id", "created_at", "language", "channel", "true_queue", "predicted_queue",
                            "prob_billing", "prob_technical", "prob_account", "prob_shipping", "prob_returns",
                            "prob_other"],
    "delivery_times.csv": ["order_id", "order_time", "city", "vehicle", "distance_km", "actual_minutes",
                           "predicted_minutes", "prediction_std"],
}
QUEUES = ["billing", "technical", "account", "shipping", "returns", "other"]
INCIDENT = ("2026-04-06", "2026-04-19")  # ISO weeks 2026-W15 and W16, Monday to Sunday


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fraud() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "fraud.csv")


@pytest.fixture(scope="module")
def ads() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "ads_ctr.csv")


@pytest.fixture(scope="module")
def support() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "support_tickets.csv")


@pytest.fixture(scope="module")
def delivery() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "delivery_times.csv")


def _recall(frame: pd.DataFrame, score: str = "fraud_score") -> float:
    return recall_score(frame["is_fraud"], frame[score] >= 0.5)


# ------------------------------------------------------------------------------------------------ format
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_file_exists_is_small_utf8_with_unix_line_endings(name):
    path = SAMPLE / name
    data = path.read_bytes()
    assert 0 < len(data) < 10 * 1024 * 1024
    assert b"\r" not in data
    header = data.split(b"\n", 1)[0].decode("utf-8")
    assert header.split(",") == COLUMNS[name]
    data.decode("utf-8")


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_columns_exactly_and_no_missing_values(name):
    frame = pd.read_csv(SAMPLE / name)
    assert list(frame.columns) == COLUMNS[name]
    assert not frame.isna().any().any()
    assert frame.iloc[:, 0].is_unique


def test_readme_documents_every_file_and_how_to_regenerate():
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "python scripts/make_sample_data.py" in readme
    for name, columns in COLUMNS.items():
        assert name in readme
        for column in columns:
            assert f"`{column}`" in readme, (name, column)


# ------------------------------------------------------------------------------------------------- fraud
def test_fraud_overall_figures(fraud):
    assert len(fraud) == 80_000
    assert fraud["is_fraud"].mean() == pytest.approx(0.04, abs=0.005)
    assert fraud["timestamp"].min() >= "2026-01-01" and fraud["timestamp"].max() < "2026-07-01"
    assert 0.72 <= _recall(fraud) <= 0.87
    assert 0.93 <= roc_auc_score(fraud["is_fraud"], fraud["fraud_score"]) <= 0.97
    assert fraud["amount"][fraud["is_fraud"] == 1].median() > 1.5 * fraud["amount"][fraud["is_fraud"] == 0].median()


def test_fraud_weak_segment_electronics_online(fraud):
    weak = fraud[(fraud["merchant_category"] == "electronics") & (fraud["channel"] == "online")]
    assert weak["is_fraud"].sum() >= 200
    assert _recall(weak) < _recall(fraud) - 0.2


def test_fraud_device_unknown_is_a_small_severe_slice(fraud):
    unknown = fraud["device"] == "unknown"
    error = (fraud["fraud_score"] >= 0.5) != (fraud["is_fraud"] == 1)
    assert 0.003 <= unknown.mean() <= 0.006
    assert error[unknown].mean() >= 3.5 * error.mean()


def test_fraud_west_incident_only_in_two_iso_weeks(fraud):
    day = fraud["timestamp"].str.slice(0, 10)
    in_weeks = day.between(*INCIDENT)
    west = fraud["region"] == "west"
    incident, west_other = fraud[west & in_weeks], fraud[west & ~in_weeks]
    frauds, caught = incident["is_fraud"].sum(), ((incident["fraud_score"] >= 0.5) & (incident["is_fraud"] == 1)).sum()
    other_frauds = west_other["is_fraud"].sum()
    other_caught = ((west_other["fraud_score"] >= 0.5) & (west_other["is_fraud"] == 1)).sum()
    assert caught / frauds <= 0.35
    assert other_caught / other_frauds >= 0.7
    # Statistically clear: the Wilson intervals do not overlap.
    _, incident_high = wilson_interval(caught, frauds)
    other_low, _ = wilson_interval(other_caught, other_frauds)
    assert incident_high < other_low
    # Nothing else changes: the challenger in west, and production elsewhere, during those weeks.
    assert _recall(incident, "fraud_score_v2") >= 0.65
    assert _recall(fraud[~west & in_weeks]) >= 0.7
    # Each of the two weeks is low on its own.
    week = pd.to_datetime(fraud["timestamp"]).dt.isocalendar().week
    by_week = fraud[west].groupby(week[west]).apply(_recall)
    assert by_week.loc[[15, 16]].max() <= 0.35
    assert by_week.drop([15, 16]).min() >= 0.45


def test_fraud_every_full_region_week_has_enough_frauds(fraud):
    week = pd.to_datetime(fraud["timestamp"]).dt.isocalendar().week
    counts = fraud["is_fraud"].groupby([fraud["region"], week]).sum()
    full = counts[(counts.index.get_level_values(1) > 1) & (counts.index.get_level_values(1) < 27)]
    assert len(full) == 5 * 25
    assert full.min() >= 20


def test_fraud_challenger_better_overall_but_worse_on_phone(fraud):
    y = fraud["is_fraud"]
    assert roc_auc_score(y, fraud["fraud_score_v2"]) >= roc_auc_score(y, fraud["fraud_score"]) + 0.01
    phone = fraud[fraud["channel"] == "phone"]
    assert roc_auc_score(phone["is_fraud"], phone["fraud_score_v2"]) < roc_auc_score(
        phone["is_fraud"], phone["fraud_score"]) - 0.01
    assert _recall(phone, "fraud_score_v2") < _recall(phone) - 0.1


def test_fraud_ambiguous_middle_band(fraud):
    middle = fraud["fraud_score"].between(0.2, 0.8)
    assert middle.mean() >= 0.01
    assert middle[fraud["is_fraud"] == 1].mean() >= 0.10
    assert 0.2 <= fraud["is_fraud"][middle].mean() <= 0.6


# --------------------------------------------------------------------------------------------------- ads
def test_ads_click_rate_and_video_ranked_poorly(ads):
    assert 0.02 <= ads["clicked"].mean() <= 0.05
    overall = roc_auc_score(ads["clicked"], ads["predicted_ctr"])
    video = ads[ads["placement"] == "video"]
    assert overall >= 0.72
    assert roc_auc_score(video["clicked"], video["predicted_ctr"]) < overall - 0.1


def test_ads_over_confident_at_the_top(ads):
    top = ads[ads["predicted_ctr"] >= ads["predicted_ctr"].quantile(0.99)]
    assert top["predicted_ctr"].mean() > 1.1 * top["clicked"].mean()


# ----------------------------------------------------------------------------------------------- support
def test_support_predicted_queue_is_argmax_of_probabilities(support):
    probs = support[[f"prob_{q}" for q in QUEUES]].to_numpy()
    assert (np.asarray(QUEUES)[probs.argmax(axis=1)] == support["predicted_queue"].to_numpy()).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-3)


def test_support_portuguese_is_much_worse(support):
    pt = support["language"] == "pt"
    accuracy_pt = accuracy_score(support["true_queue"][pt], support["predicted_queue"][pt])
    accuracy_rest = accuracy_score(support["true_queue"][~pt], support["predicted_queue"][~pt])
    assert accuracy_rest >= 0.75
    assert accuracy_pt <= accuracy_rest - 0.15


def test_support_returns_and_shipping_confused(support):
    returns = support[support["true_queue"] == "returns"]
    shipping = support[support["true_queue"] == "shipping"]
    assert (returns["predicted_queue"] == "shipping").mean() >= 0.25
    assert (shipping["predicted_queue"] == "returns").mean() >= 0.10
    assert support["true_queue"].value_counts(normalize=True).max() < 0.35  # imbalanced, not degenerate


# ---------------------------------------------------------------------------------------------- delivery
def test_delivery_porto_biased_low_and_bikes_noisier(delivery):
    error = delivery["predicted_minutes"] - delivery["actual_minutes"]
    by_city = error.groupby(delivery["city"]).mean()
    assert by_city["porto"] < -3
    assert by_city.drop("porto").abs().max() < 1.5
    mae = error.abs().groupby(delivery["vehicle"]).mean()
    assert mae["bike"] > 1.3 * max(mae["scooter"], mae["car"])


def test_delivery_prediction_std_tracks_absolute_error(delivery):
    error = (delivery["predicted_minutes"] - delivery["actual_minutes"]).abs()
    assert (delivery["prediction_std"] > 0).all()
    assert np.corrcoef(delivery["prediction_std"], error)[0, 1] > 0.2


# ------------------------------------------------------------------------------------------ determinism
@pytest.mark.parametrize(("maker", "n_rows"), [("make_fraud", 1000), ("make_ads_ctr", 1500),
                                               ("make_support_tickets", 1000), ("make_delivery_times", 1000)])
def test_generator_is_deterministic(maker, n_rows, tmp_path):
    generator = _load_generator()
    first = getattr(generator, maker)(n_rows, 11)
    second = getattr(generator, maker)(n_rows, 11)
    pd.testing.assert_frame_equal(first, second)
    assert generator.write_csv(first, tmp_path / "a.csv") == generator.write_csv(second, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert list(first.columns) == COLUMNS[{"make_fraud": "fraud.csv", "make_ads_ctr": "ads_ctr.csv",
                                           "make_support_tickets": "support_tickets.csv",
                                           "make_delivery_times": "delivery_times.csv"}[maker]]
    assert len(first) == n_rows
