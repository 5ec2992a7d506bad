"""A cost change reuses everything that does not depend on the money, and changes no number.

* A second ``analyze_impact`` with other costs on the same Dataset does not lay out its rows again (the traced
  ``impact_scores``, ``impact_layout``, the score grid's ``impact_grid_layout`` and ``impact_grid_draws``,
  ``impact_segment_layout`` and ``impact_segment_draws`` run once), and its
  report equals the one computed on a fresh copy of the file (nothing kept): numeric costs, a cost from a column,
  review lanes, another threshold, a rule and another model.
* Another threshold or segment column does lay out again; the kept layouts are bounded.
* The pieces are the same numbers as the general ones: cells with derived (policy) columns equal cells with the
  columns stacked, replicates from kept draws equal :func:`cell_bootstrap`'s, the other model's rate threshold
  from its counts equals the sorted one.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from mlimpact import impact
from mlimpact.impact.bootstrap import (
    cell_bootstrap,
    layout_draws,
    make_cells,
    make_layout,
    replicates_of_draws,
)
from mlimpact.impact.layout import KEPT_GRIDS, KEPT_LAYOUTS, _other_model, same_rate_threshold
from mlimpact.io import Roles, build_dataset, load, sample_path
from mlimpact.trace import TRACE_ENV

TABLES = ("points", "baselines", "curve", "sensitivity", "segments")
LAID_OUT = ("impact_scores", "impact_layout", "impact_grid_layout", "impact_grid_draws", "impact_segment_layout",
            "impact_segment_draws")


@pytest.fixture
def traced(tmp_path, monkeypatch):
    path = tmp_path / "trace.log"
    monkeypatch.setenv(TRACE_ENV, str(path))

    def take() -> Counter:
        found = Counter(path.read_text().split()) if path.exists() else Counter()
        path.unlink(missing_ok=True)
        return found

    return take


def _fraud():
    ds, _ = load(sample_path("fraud"))
    return ds


def _same(a: impact.ImpactAnalysis, b: impact.ImpactAnalysis) -> None:
    assert a.to_json() == b.to_json()
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.markdown() == b.markdown()


CASES = {
    "numbers": (impact.CostModel(value_tp=3, cost_fp=5, cost_fn=20), impact.CostModel(value_tp=3, cost_fp=7, cost_fn=20),
                {"threshold": 0.5}),
    "a column": (impact.CostModel(cost_fn="amount", cost_fp=5), impact.CostModel(cost_fn="amount", cost_fp=6),
                 {"threshold": 0.5, "rule": "amount > 500"}),
    "lanes": (impact.CostModel(cost_fn="amount", cost_fp=5, cost_review=2),
              impact.CostModel(cost_fn="amount", cost_fp=9, cost_review=1.5), {"threshold": 0.5, "lanes": (0.2, 0.6)}),
    "threshold 0.3": (impact.CostModel(value_tp="amount", cost_fn="amount", cost_fp=0.7, value_tn=0.1),
                      impact.CostModel(value_tp="amount", cost_fn="amount", cost_fp=2.5, value_tn=0.1),
                      {"threshold": 0.3, "rule": "amount > 900", "scale": "month"}),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_cost_change_lays_nothing_out_again_and_changes_no_number(case, traced):
    first_costs, costs, options = CASES[case]
    ds = _fraud()
    options = {**options, "segment": "region", "n_boot": 200, "time_budget_s": None}
    traced()
    impact.analyze_impact(ds, first_costs, **options)
    first = traced()
    assert all(first[name] == 1 for name in LAID_OUT), first
    again = impact.analyze_impact(ds, costs, **options)
    assert traced() == Counter({"analyze_impact": 1})  # only the money is new
    _same(again, impact.analyze_impact(_fraud(), costs, **options))  # a fresh Dataset: nothing kept


def test_another_threshold_or_segment_lays_out_again_and_the_layouts_are_bounded(traced):
    ds = _fraud()
    costs = impact.default_costs(ds)
    options = {"n_boot": 50, "time_budget_s": None}
    impact.analyze_impact(ds, costs, threshold=0.5, segment="region", **options)
    traced()
    impact.analyze_impact(ds, costs.replace(cost_fp=8), threshold=0.4, segment="region", **options)
    assert traced() == Counter({"analyze_impact": 1, "impact_layout": 1, "impact_grid_layout": 1, "impact_grid_draws": 1,
                                "impact_segment_layout": 1, "impact_segment_draws": 1})  # the sorted scores are kept
    impact.analyze_impact(ds, costs, threshold=0.4, segment="channel", **options)
    assert traced() == Counter({"analyze_impact": 1, "impact_segment_layout": 1, "impact_segment_draws": 1})
    for t in np.linspace(0.1, 0.9, 9):
        impact.analyze_impact(ds, costs, threshold=float(t), segment="region", **options)
    kinds = Counter(key[0] for key in ds._codes[("impact_layouts",)])
    assert kinds == Counter({"scores": 1, "decisions": KEPT_LAYOUTS, "grid": KEPT_GRIDS, "segment": KEPT_LAYOUTS})


def test_cells_with_derived_columns_equal_cells_with_the_columns_stacked():
    """A derived column (flag where a policy flags, else keep) is one base column in each cell: its mean is that
    column's, and its bootstrap totals have the stacked columns' distribution (the same draws of the counts, the
    within-cell term drawn for the base columns only)."""
    rng = np.random.default_rng(3)
    n = 5_000
    y = rng.random(n) < 0.2
    bits = rng.random((n, 2)) < 0.4
    group = rng.integers(0, 40, n)
    pattern = y.astype(np.int64) | bits[:, 0].astype(np.int64) << 1 | bits[:, 1].astype(np.int64) << 2
    amount = rng.gamma(2.0, 50.0, n)
    for keep, flag in [(np.where(y, -amount, 0.1), np.where(y, 3.0, -5.0)),  # money varies in positive cells
                       (np.where(y, -20.0, 0.1), np.where(y, 3.0, -0.7)),  # numbers: no spread
                       (np.where(y, -20.0, 0.0), np.where(y, amount, -5.0))]:  # only flag varies
        review = np.where(y, 3.0, 0.1) - 2.0
        base = np.column_stack([keep, flag, review])
        stacked = np.column_stack([base] + [np.where(bits[:, i], flag, keep) for i in range(2)])
        a = make_cells(group, pattern, stacked, 40)
        b = make_cells(group, pattern, base, 40, derived=[(1, 1, 0), (2, 1, 0)])
        np.testing.assert_array_equal(a.mean[:, :3], b.mean)
        np.testing.assert_array_equal(a.mean[:, 3:], np.take_along_axis(b.mean, b.src, axis=1))
        assert (a.root is None) == (b.root is None)
        ra, _ = cell_bootstrap(a, n_boot=4000, seed=1, time_budget_s=None)
        rb, _ = cell_bootstrap(b, n_boot=4000, seed=1, time_budget_s=None)
        totals_a = ra["sums"].sum(axis=1)
        totals_b = np.column_stack([rb["sums"].sum(axis=1), rb["derived"]])
        if a.root is None:  # the same count draws and no within-cell term: the same totals
            np.testing.assert_allclose(totals_b, totals_a, rtol=1e-12)
            continue
        np.testing.assert_array_equal(ra["counts"][:1], rb["counts"][:1])  # the first chunk's counts come first
        cov_a, cov_b = np.cov(totals_a.T), np.cov(totals_b.T)
        scale = np.sqrt(np.outer(np.diag(cov_a), np.diag(cov_a)))
        assert np.abs(cov_b - cov_a).max() / scale.max() < 0.08, (cov_a, cov_b)
        np.testing.assert_allclose(totals_b.mean(axis=0), totals_a.mean(axis=0), rtol=0.01, atol=1.0)


def test_replicates_from_kept_draws_equal_the_bootstrap():
    rng = np.random.default_rng(5)
    n = 20_000
    y = rng.random(n) < 0.1
    group = rng.integers(0, 7, n)
    d = (rng.random(n) < 0.3).astype(np.int64)
    layout = make_layout(group, d * 2 + y, 7)
    draws, used = layout_draws(layout, 1, n_boot=700, seed=9, time_budget_s=None)
    for lost in (np.where(y, 20.0, 5.0) * d, np.where(y, rng.gamma(2.0, 40.0, n), 5.0) * (1 - d)):
        cells = make_cells(group, d * 2 + y, lost[:, None], 7)
        want, n_want = cell_bootstrap(cells, n_boot=700, seed=9, time_budget_s=None)
        got = replicates_of_draws(cells, draws)
        assert used == n_want == 700
        np.testing.assert_array_equal(got["sums"], want["sums"])
        np.testing.assert_array_equal(got["counts"], want["counts"])


def test_the_rate_threshold_from_counts_equals_the_sorted_one():
    rng = np.random.default_rng(11)
    n = 3_000
    other = np.round(rng.random(n), 2)
    other[rng.random(n) < 0.05] = np.nan
    ds = build_dataset(pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "q": other}),
                       Roles(label="y", score="p", other_scores=("q",)))
    filled = np.where(np.isnan(other), -np.inf, other)
    for k in (0, 1, 7, 500, n - 200, n, n + 5):
        model = _other_model(ds, "q", other, k)
        assert model.rate_threshold == same_rate_threshold(filled, k)
        np.testing.assert_array_equal(model.at_rate, filled >= model.rate_threshold)


def test_the_first_columns_alone_are_the_same_numbers():
    """Without review lanes the grid sums keep and flag money only: the same numbers as among all three columns
    (the review column's normals are still drawn, so summing it changes no keep or flag sum)."""
    rng = np.random.default_rng(8)
    n = 20_000
    y = rng.random(n) < 0.1
    group = rng.integers(0, 30, n)
    amount = rng.gamma(2.0, 40.0, n)
    money = np.column_stack([np.where(y, -amount, 0.0), np.where(y, 2.0, -5.0), np.where(y, 2.0 - 0.3 * amount, -2.0)])
    layout = make_layout(group, y.astype(np.int64), 30)
    draws, _ = layout_draws(layout, 3, n_boot=300, seed=4, time_budget_s=None)
    cells = make_cells(group, y.astype(np.int64), money, 30)
    assert cells.root is not None
    every = replicates_of_draws(cells, draws)["sums"]
    two = replicates_of_draws(cells, draws, columns=2)["sums"]
    assert two.shape == every.shape[:2] + (2,)
    np.testing.assert_allclose(two, every[..., :2], rtol=1e-12, atol=1e-9)


def test_the_best_threshold_interval_is_the_grids_spread_around_the_exact_value():
    """The grid holds no cut-off that moves with the money, so its best on the rows can fall short of the exact
    best; the interval is the replicates' spread about the grid's best, placed around the exact value. With every
    distinct score in the grid the two agree and it is the plain basic interval."""
    from mlimpact.impact.bootstrap import _basic_interval
    from mlimpact.impact.points import _points_table, _policies
    from mlimpact.impact.values import _lanes_values, threshold_values

    rng = np.random.default_rng(2)
    n = 6_000
    y = rng.random(n) < 0.15
    for score, exact_in_grid in ((np.round(np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1), 2), True),
                                 (np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1), False)):
        ds = build_dataset(pd.DataFrame({"y": y.astype(int), "p": score}), Roles(label="y", score="p"))
        P = _policies(ds, impact.CostModel(cost_fp=1, cost_fn=6), threshold=0.5, lanes=None, rule=None, others=False,
                      n_boot=300, seed=1, time_budget_s=None)
        grid_best, exact_best = float(P.orig.max()), float(P.vals[P.j_best])
        assert grid_best <= exact_best + 1e-9
        assert (abs(grid_best - exact_best) < 1e-9) == exact_in_grid, (grid_best, exact_best)
        rv = threshold_values(P.sums[..., 0], P.sums[..., 1])
        best_r, none_v, none_r = rv.max(axis=1), float(P.vals[-1]), rv[:, -1]
        row = _points_table(P, 1.0, None).set_index("point").loc["best"]
        shift = exact_best - grid_best
        low, high = np.add(_basic_interval(grid_best, best_r), shift)
        vs_low, vs_high = np.add(_basic_interval(grid_best - none_v, best_r - none_r), shift)
        assert (row["value"], row["low"], row["high"], row["vs_none_low"], row["vs_none_high"]) == pytest.approx(
            (exact_best, low, high, vs_low, vs_high))
        assert row["low"] < row["value"] < row["high"]
        # the best review band: exact over every cut pair, chosen again among the grid's
        P = _policies(ds, impact.CostModel(cost_fp=1, cost_fn=6, cost_review=0.4), threshold=0.5, lanes=(0.3, 0.6),
                      rule=None, others=False, n_boot=300, seed=1, time_budget_s=None)
        band = _points_table(P, 1.0, None).set_index("point").loc["best_lanes"]
        exact_band = float(P.best_lane[2])
        assert P.orig_lanes <= exact_band + 1e-9
        assert (abs(P.orig_lanes - exact_band) < 1e-9) == exact_in_grid, (P.orig_lanes, exact_band)
        band_r, _ = _lanes_values(P.sums[..., 0], P.sums[..., 1], P.sums[..., 2])
        low, high = np.add(_basic_interval(P.orig_lanes, band_r), exact_band - P.orig_lanes)
        assert (band["value"], band["low"], band["high"]) == pytest.approx((exact_band, low, high))
