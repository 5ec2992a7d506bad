"""Property-based tests of the metric engine (Hypothesis): totals, invariances, scikit-learn, intervals."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from mlimpact.metrics import compute_metrics

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def binary_problems(draw, min_size=2, max_size=120):
    n = draw(st.integers(min_size, max_size))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int8)
    # coarse scores make ties common, which is where rank statistics go wrong
    score = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), dtype=float) / 20
    groups = draw(st.integers(1, 4))
    codes = np.array(draw(st.lists(st.integers(0, groups - 1), min_size=n, max_size=n)), dtype=np.int32)
    return y, score, codes, groups


@st.composite
def regression_problems(draw):
    n = draw(st.integers(2, 100))
    y = np.array(draw(st.lists(st.floats(-50, 50, allow_nan=False), min_size=n, max_size=n)))
    err = np.array(draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=n, max_size=n)))
    groups = draw(st.integers(1, 3))
    codes = np.array(draw(st.lists(st.integers(0, groups - 1), min_size=n, max_size=n)), dtype=np.int32)
    return y, y + err, codes, groups


BINARY = ["accuracy", "precision", "recall", "f1", "roc_auc", "average_precision", "log_loss", "brier_score"]


def _sk(name, y, s):
    pred = (s >= 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "roc_auc":
            return skm.roc_auc_score(y, s) if len(set(y)) == 2 else np.nan
        if name == "average_precision":
            return skm.average_precision_score(y, s) if y.sum() > 0 else np.nan
        if name == "precision":
            return skm.precision_score(y, pred, zero_division=np.nan) if pred.sum() else np.nan
        if name == "recall":
            return skm.recall_score(y, pred, zero_division=np.nan) if y.sum() else np.nan
        if name == "f1":
            return skm.f1_score(y, pred) if (y.sum() + pred.sum()) else np.nan
        if name == "log_loss":
            return skm.log_loss(y, s, labels=[0, 1])
        if name == "brier_score":
            return skm.brier_score_loss(y, s, pos_label=1)
        return skm.accuracy_score(y, pred)


@SETTINGS
@given(binary_problems())
def test_binary_groups_equal_scikit_learn(problem):
    y, score, codes, groups = problem
    table = compute_metrics("binary", y=y, score=score, codes=codes, n_groups=groups, metrics=BINARY,
                            intervals=False)
    for row in table.itertuples(index=False):
        mask = codes == row.group
        if not mask.any():
            assert np.isnan(row.value)
            continue
        expected = _sk(row.metric, y[mask], score[mask])
        if np.isnan(expected):
            assert np.isnan(row.value) and row.note, (row.metric, row.note)
        else:
            assert row.value == pytest.approx(expected, abs=1e-9), row.metric


@SETTINGS
@given(binary_problems(min_size=5))
def test_group_counts_sum_to_total_and_intervals_hold_the_estimate(problem):
    y, score, codes, groups = problem
    table = compute_metrics("binary", y=y, score=score, codes=codes, n_groups=groups, metrics=BINARY,
                            seed=1, time_budget_s=None, n_boot=200)
    per_group = table.drop_duplicates("group")
    assert per_group["n"].sum() == len(y)
    assert per_group["positives"].sum() == y.sum()
    ok = table["value"].notna() & table["low"].notna()
    assert (table.loc[ok, "low"] <= table.loc[ok, "value"] + 1e-12).all()
    assert (table.loc[ok, "value"] <= table.loc[ok, "high"] + 1e-12).all()


@SETTINGS
@given(binary_problems(min_size=5), st.randoms(use_true_random=False))
def test_invariant_to_row_order_and_relabelling(problem, rnd):
    y, score, codes, groups = problem
    base = compute_metrics("binary", y=y, score=score, codes=codes, n_groups=groups, metrics=BINARY,
                           intervals=False)
    order = np.array(rnd.sample(range(len(y)), len(y)))
    relabel = np.array(rnd.sample(range(groups), groups))  # group g becomes relabel[g]
    moved = compute_metrics("binary", y=y[order], score=score[order], codes=relabel[codes[order]],
                            n_groups=groups, metrics=BINARY, intervals=False)
    back = moved.assign(group=np.argsort(relabel)[moved["group"].to_numpy()])
    a = base.set_index(["group", "metric"])["value"].sort_index()
    b = back.set_index(["group", "metric"])["value"].sort_index()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=1e-12, equal_nan=True)


@SETTINGS
@given(regression_problems())
def test_regression_groups_equal_scikit_learn(problem):
    y, pred, codes, groups = problem
    table = compute_metrics("regression", y=y, pred=pred, codes=codes, n_groups=groups,
                            metrics=["mae", "rmse", "mean_error"], intervals=False)
    for row in table.itertuples(index=False):
        mask = codes == row.group
        if not mask.any():
            continue
        expected = {"mae": skm.mean_absolute_error(y[mask], pred[mask]),
                    "rmse": np.sqrt(skm.mean_squared_error(y[mask], pred[mask])),
                    "mean_error": float(np.mean(pred[mask] - y[mask]))}[row.metric]
        assert row.value == pytest.approx(expected, rel=1e-9, abs=1e-9)
