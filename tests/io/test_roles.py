"""Role inference: names, values, tasks, positive classes, and the reasons shown to people."""

import numpy as np
import pandas as pd
import pytest

from mlimpact.io import Roles, build_dataset, infer_positive, infer_roles, infer_task, normalize_labels


def _binary_frame(n=200, seed=0, **extra):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"transaction_id": [f"tx{i}" for i in range(n)],
                          "timestamp": pd.date_range("2026-01-01", periods=n, freq="h").astype(str),
                          "amount": rng.lognormal(3, 1, n).round(2),
                          "region": rng.choice(["north", "south", "west"], n),
                          "is_fraud": y, "fraud_score": rng.random(n), "fraud_score_v2": rng.random(n)})
    for k, v in extra.items():
        frame[k] = v
    return frame


def test_binary_roles_and_reasons():
    guess = infer_roles(_binary_frame())
    r = guess.roles
    assert (r.label, r.score, r.other_scores, r.time, r.id, r.amount) == (
        "is_fraud", "fraud_score", ("fraud_score_v2",), "timestamp", "transaction_id", "amount")
    assert r.segments == ("region",)
    assert (r.task, r.positive) == ("binary", "1")
    assert guess.reasons["label"] == "`is_fraud`: 2 distinct values, named like a target"
    assert guess.reasons["id"] == "`transaction_id`: named like an identifier, 100% distinct values"
    assert guess.reasons["other_scores"] == "1 more score column(s) treated as other models: `fraud_score_v2`"


def test_multiclass_roles_with_probability_columns():
    rng = np.random.default_rng(1)
    classes = ["billing", "technical", "account"]
    probs = rng.dirichlet([1, 1, 1], 300)
    frame = pd.DataFrame({"ticket_id": range(300), "created_at": "2026-02-01 10:00:00",
                          "language": rng.choice(["en", "de"], 300), "true_queue": rng.choice(classes, 300),
                          "predicted_queue": np.array(classes)[probs.argmax(1)],
                          **{f"prob_{c}": probs[:, i] for i, c in enumerate(classes)}})
    r = infer_roles(frame).roles
    assert r.task == "multiclass"
    assert r.label == "true_queue" and r.prediction == "predicted_queue"
    assert set(r.class_scores) == {"prob_billing", "prob_technical", "prob_account"}
    assert r.segments == ("language",)


def test_regression_roles_with_uncertainty():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"order_id": range(500), "city": rng.choice(["a", "b"], 500),
                          "distance_km": rng.random(500) * 9, "actual_minutes": rng.random(500) * 40,
                          "predicted_minutes": rng.random(500) * 40, "prediction_std": rng.random(500)})
    r = infer_roles(frame).roles
    assert (r.task, r.label, r.prediction, r.uncertainty) == ("regression", "actual_minutes", "predicted_minutes",
                                                              "prediction_std")
    assert "distance_km" not in r.segments  # continuous numbers are binned on request, not default segments


@pytest.mark.parametrize(("values", "positive"), [
    (["no", "yes", "no"], "yes"), ([True, False, False], "True"), ([0, 1, 0], "1"), ([0.0, 1.0], "1"),
    (["legit", "fraud", "legit"], "fraud"), (["ok", "broken", "ok"], "broken"), (["a", "b", "a", "a"], "b"),
])
def test_positive_class(values, positive):
    assert infer_positive(pd.Series(values))[0] == positive


def test_task_inference():
    assert infer_task(pd.Series(["a", "b", "c"]))[0] == "multiclass"
    assert infer_task(pd.Series([1, 2, 3, 2, 1]))[0] == "multiclass"
    assert infer_task(pd.Series(np.linspace(0, 10, 50)))[0] == "regression"
    assert infer_task(pd.Series(["yes", "no", None]))[0] == "binary"


@pytest.mark.parametrize(("name", "is_label"), [
    ("y_true", True), ("target", True), ("actual", True), ("label", True), ("is_churn", True),
    ("ground_truth", True), ("clicked", True), ("y_pred", False), ("predicted_label", False), ("score", False),
])
def test_tricky_label_names(name, is_label):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({name: rng.integers(0, 2, 100), "model_prob": rng.random(100)})
    r = infer_roles(frame).roles
    assert (r.label == name) is is_label


def test_score_found_without_score_name_when_in_unit_interval():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"label": rng.integers(0, 2, 50), "m1": rng.random(50)})
    assert infer_roles(frame).roles.score == "m1"


def test_normalize_labels():
    assert normalize_labels(pd.Series([1.0, 0.0, np.nan])).tolist()[:2] == ["1", "0"]
    assert normalize_labels(pd.Series([" yes", "no ", ""])).tolist()[:2] == ["yes", "no"]
    assert pd.isna(normalize_labels(pd.Series([" yes", "no ", ""])).iloc[2])


def test_roles_replace_and_columns():
    r = Roles(label="y", score="p").replace(segments=["a", "b"])
    assert r.segments == ("a", "b")
    assert r.used_columns() == ["y", "p", "a", "b"]
    assert hash(r) == hash(Roles(label="y", score="p", segments=("a", "b")))


def test_infer_roles_never_raises_on_odd_frames():
    for frame in (pd.DataFrame(), pd.DataFrame({"a": [None, None]}), pd.DataFrame({"x": ["1", "2"], "y": [1, 1]})):
        infer_roles(frame)


@pytest.mark.parametrize(("sample", "expected"), [
    ("fraud", {"task": "binary", "label": "is_fraud", "score": "fraud_score", "other_scores": ("fraud_score_v2",),
               "time": "timestamp", "id": "transaction_id", "amount": "amount", "positive": "1",
               "segments": ("region", "merchant_category", "channel", "device")}),
    ("ads", {"task": "binary", "label": "clicked", "score": "predicted_ctr", "time": "date", "id": "impression_id",
             "positive": "1", "segments": ("placement", "device", "country")}),
    ("support", {"task": "multiclass", "label": "true_queue", "prediction": "predicted_queue", "time": "created_at",
                 "id": "ticket_id", "segments": ("language", "channel")}),
    ("delivery", {"task": "regression", "label": "actual_minutes", "prediction": "predicted_minutes",
                  "uncertainty": "prediction_std", "time": "order_time", "id": "order_id",
                  "segments": ("city", "vehicle")}),
])
def test_roles_inferred_on_each_sample(sample, expected):
    from mlimpact.io import read_predictions, sample_path

    frame, _ = read_predictions(sample_path(sample))
    guess = infer_roles(frame)
    for role, value in expected.items():
        assert getattr(guess.roles, role) == value, role
        assert role in guess.reasons or role == "positive"
    if sample == "support":
        assert len(guess.roles.class_scores) == 6


def test_huge_whole_floats_are_not_overflowed_into_int64_labels():
    """1e30 as a label once became the positive class -9223372036854775808."""

    assert normalize_labels(pd.Series([0.0, 1e30, None])).tolist() == ["0.0", "1e+30", pd.NA]
    ds = build_dataset(pd.DataFrame({"y": [0.0, 1e30, 0.0, 1e30], "p": [0.1, 0.9, 0.2, 0.8]}), Roles(label="y", score="p"))
    assert ds.roles.positive == "1e+30" and ds.y.tolist() == [0, 1, 0, 1]
