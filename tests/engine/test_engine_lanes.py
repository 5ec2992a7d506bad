"""Difficulty lanes on DuckDB: the memory path's lane curve, default policy, sentence and frontier, from counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlimpact.difficulty import choose_lanes, default_start, lane_curve, summary_sentence, tradeoff_curve
from mlimpact.difficulty.engine_lanes import engine_default_start, engine_lane_curve
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.errors import InputError
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path


def assert_same_lanes(path, changes=None, threshold=0.5):
    ds, _ = load(str(path), changes or {})
    eds = open_engine_dataset(str(path), "duckdb", changes or {}, threshold=threshold)
    try:
        a, b = lane_curve(ds), engine_lane_curve(eds)
        sb = engine_default_start(eds, b, threshold)
    finally:
        eds.close()
    assert np.array_equal(a.values, b.values) and np.array_equal(a.cum_n, b.cum_n)
    assert np.array_equal(a.cum_bad, b.cum_bad) and a.probabilities == b.probabilities
    if a.probabilities:
        np.testing.assert_allclose(a.cum_expected, b.cum_expected, rtol=1e-12)
    sa = default_start(ds, threshold, curve=a)
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


def test_lanes_on_an_engine_need_a_binary_score(tmp_path):
    pd.read_csv(sample_path("delivery")).to_parquet(tmp_path / "d.parquet")
    eds = open_engine_dataset(str(tmp_path / "d.parquet"), "duckdb", {}, threshold=0.5)
    try:
        with pytest.raises(InputError, match="binary task with a score"):
            engine_lane_curve(eds)
    finally:
        eds.close()
