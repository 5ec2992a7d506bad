"""Difficulty lanes on DuckDB (binary, multiclass, regression): the memory path's lane curve, default policy,
sentence and frontier, from counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlimpact.difficulty import (
    available_modes,
    choose_lanes,
    default_start,
    lane_curve,
    summary_sentence,
    tradeoff_curve,
)
from mlimpact.difficulty.engine_lanes import engine_default_start, engine_lane_curve, engine_modes
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.errors import InputError
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from tests.engine.test_engine_multiclass import _awkward


def assert_same_lanes(path, changes=None, threshold=0.5, mode=None, tolerance=None):
    ds, _ = load(str(path), changes or {})
    eds = open_engine_dataset(str(path), "duckdb", changes or {}, threshold=threshold)
    try:
        assert engine_modes(eds) == available_modes(ds)
        a, b = lane_curve(ds, mode=mode, tolerance=tolerance), engine_lane_curve(eds, mode, tolerance)
        sb = engine_default_start(eds, b, threshold)
    finally:
        eds.close()
    assert (a.mode, a.tolerance) == (b.mode, b.tolerance)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.cum_n, b.cum_n)
    assert np.array_equal(a.cum_bad, b.cum_bad) and a.probabilities == b.probabilities
    if a.probabilities:
        np.testing.assert_allclose(a.cum_expected, b.cum_expected, rtol=1e-12, atol=1e-9)
    sa = default_start(ds, threshold if ds.task == "binary" else None, curve=a)
    assert sa == sb and sa.caption(ds.n) == sb.caption(b.n)
    pa, pb = choose_lanes(a, sa.policy), choose_lanes(b, sb.policy)
    assert summary_sentence(pa, cases_per_day=sa.per_day) == summary_sentence(pb, cases_per_day=sb.per_day)
    pd.testing.assert_frame_equal(tradeoff_curve(a), tradeoff_curve(b))
    return sa


@pytest.mark.parametrize("name", ["fraud", "ads"])
def test_samples_give_the_memory_paths_lanes(name):
    start = assert_same_lanes(sample_path(name), threshold=0.3)
    assert start.span_days is not None and start.per_day > 1  # from the time column's span


def test_awkward_scores_dates_and_ties(tmp_path):
    rng = np.random.default_rng(5)
    n = 20_000
    y = (rng.random(n) < 0.1).astype(int)
    score = np.round(np.clip(0.4 * y + rng.normal(0.3, 0.2, n), -0.5, 1.7), 2)  # outside [0, 1]: no expectations
    score[rng.random(n) < 0.01] = np.nan  # excluded, as in memory
    day = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")  # whole dates: +1 day
    path = tmp_path / "a.parquet"
    pd.DataFrame({"y": y, "s": score, "day": day}).to_parquet(path)
    start = assert_same_lanes(path, {"label": "y", "score": "s", "time": "day"})
    assert start.span_days == 40.0


@pytest.mark.parametrize("mode", ["top_probability", "margin"])
def test_multiclass_lanes_by_confidence_equal_memory(mode):
    start = assert_same_lanes(sample_path("support"), mode=mode)
    assert start.model_error > 0.1 and start.policy.target_error < start.model_error


@pytest.mark.parametrize(("seed", "with_prediction"), [(0, False), (1, True), (2, False)])
@pytest.mark.parametrize("mode", ["top_probability", "margin"])
def test_awkward_multiclass_lanes_equal_memory(tmp_path, seed, with_prediction, mode):
    """Ties at the top (margin 0), a class without a column, missing and infinite probabilities, a prediction
    column that disagrees with the probabilities (bad: the column's class; expected: its probability)."""
    df, changes = _awkward(seed, with_prediction=with_prediction, numeric_labels=seed == 2)
    df.to_parquet(tmp_path / "m.parquet")
    assert_same_lanes(tmp_path / "m.parquet", changes, mode=mode)


@pytest.mark.parametrize(("mode", "tolerance"), [("error_size", None), ("error_size", 3.0),
                                                 ("uncertainty", None), ("uncertainty", 7.5)])
def test_regression_lanes_equal_memory(mode, tolerance):
    start = assert_same_lanes(sample_path("delivery"), {"uncertainty": "prediction_std"}, mode=mode,
                              tolerance=tolerance)
    assert start.model_error > 0


def test_awkward_regression_lanes_equal_memory(tmp_path):
    """Missing and infinite uncertainties (always reviewed, no expected rate), misses tied at the 90th percentile."""
    rng = np.random.default_rng(3)
    n = 5000
    y = rng.integers(0, 50, n).astype(float)
    pred = y + rng.integers(-6, 7, n)
    std = np.abs(rng.normal(3, 1, n)).round(1)
    std[rng.random(n) < 0.02] = np.nan
    std[:3] = [np.inf, 0.0, -1.0]
    pd.DataFrame({"y": y, "p": pred, "u": std}).to_parquet(tmp_path / "r.parquet")
    changes = {"label": "y", "prediction": "p", "uncertainty": "u", "task": "regression"}
    for mode in ("uncertainty", "error_size"):
        assert_same_lanes(tmp_path / "r.parquet", changes, mode=mode)


def test_lanes_on_an_engine_need_a_signal_of_difficulty(tmp_path):
    df = pd.read_csv(sample_path("support"))
    df = df.drop(columns=[c for c in df.columns if c.startswith("prob_")])
    df.to_parquet(tmp_path / "d.parquet")
    eds = open_engine_dataset(str(tmp_path / "d.parquet"), "duckdb", {}, threshold=0.5)
    try:
        assert engine_modes(eds) == []
        with pytest.raises(InputError, match="one probability column per class"):
            engine_lane_curve(eds)
    finally:
        eds.close()
