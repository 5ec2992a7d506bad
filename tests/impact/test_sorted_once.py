"""The impact analysis sorts the scores once per Dataset and counts cells without a sort: the same numbers.

* ``_distinct`` equals ``np.unique(..., return_inverse=True)`` on random keys (small and large ranges, negative
  keys, empty).
* ``score_bins`` equals ``np.unique`` of the score and is kept with the Dataset; the bootstrap grid built from it
  equals the grid built by sorting.
* ``analyze_impact`` gives identical tables with the bins kept and with every sort done again (a fresh Dataset
  of the same rows), on the fraud sample with its amount column and a second model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlimpact import impact
from mlimpact.impact.bootstrap import _distinct, _grid
from mlimpact.impact.values import gains_from_terms, row_gains, score_bins
from mlimpact.io import SAMPLES, load, sample_path


@pytest.mark.parametrize("seed", range(5))
def test_distinct_equals_numpy_unique(seed):
    rng = np.random.default_rng(seed)
    for keys, bound in [(rng.integers(0, 50, 1_000), 50), (rng.integers(0, 5_000, 300), 5_000),
                        (rng.integers(0, 10**9, 100), 10**9), (rng.integers(-5, 5, 100), 5),
                        (np.zeros(0, dtype=np.int64), 10)]:
        got, want = _distinct(keys, bound), np.unique(keys, return_inverse=True)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


@pytest.fixture(scope="module")
def fraud():
    ds, _ = load(sample_path("fraud"))
    return ds


def test_score_bins_are_the_sorted_scores_kept_with_the_dataset(fraud):
    cuts, inverse = score_bins(fraud)
    want = np.unique(fraud.score, return_inverse=True)
    np.testing.assert_array_equal(cuts, want[0])
    np.testing.assert_array_equal(inverse, want[1])
    assert score_bins(fraud)[0] is cuts  # kept
    with pytest.raises(ValueError):
        score_bins(fraud, "score_v2")  # another model's column needs its score


def test_the_grid_from_the_kept_sort_equals_the_sorted_grid(fraud):
    costs = impact.default_costs(fraud)
    kept = row_gains(fraud, costs)
    fresh = gains_from_terms(kept.y, kept.score, kept.terms)
    assert kept.bins is not None and fresh.bins is None
    np.testing.assert_array_equal(_grid(kept, [0.5]), _grid(fresh, [0.5]))


def test_analysis_is_the_same_with_the_sort_kept(fraud, monkeypatch):
    assert "fraud" in SAMPLES
    costs = impact.default_costs(fraud)
    options = {"threshold": 0.5, "segment": fraud.roles.segments[0], "time_budget_s": None, "n_boot": 200}
    first = impact.analyze_impact(fraud, costs, **options)
    again = impact.analyze_impact(fraud, costs, **options)  # the bins are kept now
    monkeypatch.setattr("mlimpact.impact.values.score_bins", lambda *args: None)  # every sort done again
    monkeypatch.setattr("mlimpact.impact.layout.score_bins",  # the other models' too, never kept
                        lambda ds, column=None, score=None: np.unique(np.asarray(score, dtype=float),
                                                                      return_inverse=True))
    fresh_ds, _ = load(sample_path("fraud"))
    fresh = impact.analyze_impact(fresh_ds, costs, **options)
    assert row_gains(fresh_ds, costs).bins is None
    for table in ("points", "baselines", "curve", "sensitivity", "segments"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(again, table))
        pd.testing.assert_frame_equal(getattr(first, table), getattr(fresh, table))
    assert first.summary == fresh.summary
