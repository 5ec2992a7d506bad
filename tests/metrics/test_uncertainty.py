"""Intervals and tests: closed forms against references, coverage by simulation, seeded bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats as sps

from mlimpact.metrics import (
    benjamini_hochberg,
    bootstrap_p_value,
    compute_metrics,
    hanley_mcneil_variance,
    multinomial_resample,
    percentile_interval,
    run_bootstrap,
    two_proportion_test,
    wilson_interval,
)


def test_wilson_known_values_and_edges():
    lo, hi = wilson_interval(np.array([0, 10, 5, 0]), np.array([10, 10, 10, 0]))
    assert lo[0] == 0.0 and hi[1] == 1.0
    assert np.isnan(lo[3]) and np.isnan(hi[3])
    # reference: Wilson 1927 formula via scipy's binomtest
    ci = sps.binomtest(5, 10).proportion_ci(method="wilson")
    assert abs(lo[2] - ci.low) < 1e-12 and abs(hi[2] - ci.high) < 1e-12


def test_benjamini_hochberg_matches_scipy():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 0.01, size=20)])
    np.testing.assert_allclose(benjamini_hochberg(p), sps.false_discovery_control(p), rtol=1e-12)
    with_nan = np.append(p, np.nan)
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[-1])
    np.testing.assert_allclose(q[:-1], sps.false_discovery_control(p), rtol=1e-12)


def test_two_proportion_test_matches_chi2():
    z, p = two_proportion_test(30, 100, 50, 120)
    table = np.array([[30, 70], [50, 70]])
    chi2 = sps.chi2_contingency(table, correction=False)
    assert abs(z * z - chi2.statistic) < 1e-9 and abs(p - chi2.pvalue) < 1e-9
    z, p = two_proportion_test(0, 10, 0, 20)
    assert p == 1.0
    assert np.isnan(two_proportion_test(1, 0, 1, 5)[1])


def test_hanley_mcneil_is_close_to_delong_for_binormal():
    assert hanley_mcneil_variance(0.5, 100, 100) > 0
    assert np.isnan(hanley_mcneil_variance(0.7, 0, 10))


def test_multinomial_resample_keeps_group_totals_and_moments():
    rng = np.random.default_rng(1)
    counts = np.array([[50, 30, 20], [5000, 3000, 2000], [0, 0, 0]])
    m = multinomial_resample(counts, 4000, rng, normal_above=1000)
    np.testing.assert_allclose(m.sum(axis=2)[:, :2], [[100, 10000]] * 4000)
    for g in (0, 1):
        n = counts[g].sum()
        p = counts[g] / n
        np.testing.assert_allclose(m[:, g].mean(axis=0), counts[g], rtol=0.02)
        np.testing.assert_allclose(m[:, g].var(axis=0), n * p * (1 - p), rtol=0.1)
    assert (m[:, 2] == 0).all()


def test_run_bootstrap_is_seeded_and_respects_budget():
    def rep(rng, b):
        return {"x": rng.random((b, 2))}

    a, na = run_bootstrap(rep, n_boot=100, seed=3, time_budget_s=None, chunk=30)
    b, nb = run_bootstrap(rep, n_boot=100, seed=3, time_budget_s=None, chunk=30)
    assert na == nb == 100
    np.testing.assert_array_equal(a["x"], b["x"])

    def slow(rng, b):
        import time

        time.sleep(0.02)
        return {"x": rng.random(b)}

    _, used = run_bootstrap(slow, n_boot=1000, seed=0, time_budget_s=0.05, chunk=10)
    assert 10 <= used < 100


def test_percentile_interval_and_bootstrap_p_value():
    r = np.vstack([np.arange(101.0), np.full(101, np.nan)]).T
    lo, hi = percentile_interval(r)
    assert abs(lo[0] - 2.5) < 1e-9 and np.isnan(lo[1])
    rng = np.random.default_rng(2)
    p = bootstrap_p_value(np.array([0.0, 3.0]), rng.normal(size=(2000, 2)))
    assert p[0] == 1.0 and abs(p[1] - 0.0027) < 0.002


# ---------------------------------------------------------------------------------------------
# coverage: many independent groups in ONE call (the bootstrap is stratified by group), each group
# a fresh sample from a population with a known true value; accept 0.91–0.98 over 300 groups
# ---------------------------------------------------------------------------------------------

SIMS = 300


def _coverage(df, metric, truth):
    rows = df[df.metric == metric]
    t = truth if np.ndim(truth) else np.full(len(rows), truth)
    inside = (rows.low.to_numpy() <= t) & (t <= rows.high.to_numpy())
    return inside.mean()


def test_coverage_binary_wilson_delong_and_bootstrap():
    rng = np.random.default_rng(20)
    n_per, base, d = 300, 0.4, 1.0
    codes = np.repeat(np.arange(SIMS), n_per)
    y = rng.binomial(1, base, SIMS * n_per)
    latent = rng.normal(d * y, 1.0)
    score = 1 / (1 + np.exp(-(latent - d / 2 + np.log(base / (1 - base)))))  # calibrated-ish probability
    df = compute_metrics("binary", y=y, score=score, codes=codes, n_groups=SIMS, n_boot=400,
                         time_budget_s=None, seed=1)
    # population truths by a huge sample from the same model
    big = 2_000_000
    yb = rng.binomial(1, base, big)
    lb = rng.normal(d * yb, 1.0)
    sb = 1 / (1 + np.exp(-(lb - d / 2 + np.log(base / (1 - base)))))
    pb = sb >= 0.5
    tp, fp, fn = (yb & pb).sum(), (~yb.astype(bool) & pb).sum(), (yb.astype(bool) & ~pb).sum()
    eps = np.finfo(float).eps
    truths = {
        "recall": tp / (tp + fn),
        "precision": tp / (tp + fp),
        "roc_auc": sps.norm.cdf(d / np.sqrt(2)),
        "f1": 2 * tp / (2 * tp + fp + fn),
        "log_loss": float(np.mean(-np.log(np.where(yb, np.clip(sb, eps, 1), np.clip(1 - sb, eps, 1))))),
        "brier_score": float(np.mean((sb - yb) ** 2)),
    }
    for metric, truth in truths.items():
        cov = _coverage(df, metric, truth)
        assert 0.91 <= cov <= 0.98, (metric, cov)


def test_coverage_regression_bootstrap():
    rng = np.random.default_rng(21)
    n_per = 200
    codes = np.repeat(np.arange(SIMS), n_per)
    y = rng.normal(10, 3, SIMS * n_per)
    err = rng.standard_t(10, SIMS * n_per) + 0.5  # heavier tails than normal, bias 0.5
    df = compute_metrics("regression", y=y, pred=y + err, codes=codes, n_groups=SIMS, n_boot=400,
                         time_budget_s=None, metrics=["mae", "rmse", "mean_error"])
    big = rng.standard_t(10, 4_000_000) + 0.5
    truths = {"mae": np.abs(big).mean(), "rmse": np.sqrt((big**2).mean()), "mean_error": 0.5}
    for metric, truth in truths.items():
        cov = _coverage(df, metric, truth)
        assert 0.91 <= cov <= 0.98, (metric, cov)


def test_coverage_multiclass_balanced_accuracy():
    rng = np.random.default_rng(22)
    n_per, K = 300, 3
    codes = np.repeat(np.arange(SIMS), n_per)
    y = rng.integers(0, K, SIMS * n_per)
    correct = rng.random(SIMS * n_per) < np.array([0.8, 0.6, 0.5])[y]
    pred = np.where(correct, y, (y + rng.integers(1, K, SIMS * n_per)) % K)
    df = compute_metrics("multiclass", y=y, pred=pred, classes=["a", "b", "c"], codes=codes,
                         n_groups=SIMS, n_boot=400, time_budget_s=None,
                         metrics=["accuracy", "balanced_accuracy"])
    assert 0.91 <= _coverage(df, "balanced_accuracy", np.mean([0.8, 0.6, 0.5])) <= 0.98
    assert 0.91 <= _coverage(df, "accuracy", np.mean([0.8, 0.6, 0.5])) <= 0.98


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_bootstrap_seeded(task):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 500) if task == "binary" else rng.normal(size=500)
    kw = {"score": rng.random(500)} if task == "binary" else {"pred": y + rng.normal(size=500)}
    codes = rng.integers(0, 4, 500)
    a = compute_metrics(task, y=y, codes=codes, n_groups=4, seed=7, n_boot=100, time_budget_s=None, **kw)
    b = compute_metrics(task, y=y, codes=codes, n_groups=4, seed=7, n_boot=100, time_budget_s=None, **kw)
    c = compute_metrics(task, y=y, codes=codes, n_groups=4, seed=8, n_boot=100, time_budget_s=None, **kw)
    np.testing.assert_array_equal(a.low, b.low)
    assert not np.array_equal(a.low.fillna(0), c.low.fillna(0))
    assert a.attrs["n_boot"] == 100


# ---------------------------------------------------------------------------------------------
# the binary bootstrap's cell resampler (mlimpact.metrics.bootstrap)
# ---------------------------------------------------------------------------------------------


def test_table_normal_is_a_fine_standard_normal():
    from mlimpact.metrics import table_normal

    z = table_normal(np.random.default_rng(0), (400_000,))
    assert z.dtype == np.float32 and abs(z.mean()) < 0.005 and abs(z.var() - 1) < 0.01
    assert abs(np.mean(np.abs(z) > 1.959964) - 0.05) < 0.002
    assert abs(sps.kurtosis(z)) < 0.05 and abs(sps.skew(z)) < 0.02
    np.testing.assert_array_equal(table_normal(np.random.default_rng(3), (5, 7)),
                                  table_normal(np.random.default_rng(3), (5, 7)))


def test_poisson_table_holds_exact_quantiles():
    from mlimpact.metrics import poisson_table

    t = poisson_table(32)
    u = (np.arange(2048) + 0.5) / 2048
    for m in range(32):
        np.testing.assert_array_equal(t[m], sps.poisson.ppf(u, m))
    np.testing.assert_allclose(t[32], sps.norm.ppf(u) / np.sqrt(np.mean(sps.norm.ppf(u) ** 2)), rtol=1e-6)


def test_resample_cells_exact_below_the_cut_and_multinomial_moments_above():
    from mlimpact.metrics import resample_cells

    rng = np.random.default_rng(4)
    counts = np.array([[3, 0, 40, 17], [2, 130, 9, 400], [5000, 30, 700, 1], [0, 0, 0, 0]])
    m = resample_cells(counts, 20000, rng, normal_above=100)
    assert m.shape == (4, 20000, 4) and m.dtype == np.float32
    np.testing.assert_array_equal(m[:, :, 0].sum(axis=0), 60)  # exact multinomial: total kept
    assert (m[:, :, 3] == 0).all() and (m[1, :, 0] == 0).all() and (m >= 0).all()
    for g in (1, 2):  # Poisson draws: shares of the replicate's total have the multinomial's moments
        n = counts[g].sum()
        p = counts[g] / n
        share = m[:, :, g] / m[:, :, g].sum(axis=0)
        np.testing.assert_allclose(share.mean(axis=1), p, rtol=0.02, atol=1e-4)
        cov = np.cov(share)
        np.testing.assert_allclose(cov, (np.diag(p) - np.outer(p, p)) / n, rtol=0.1, atol=2e-7)


@pytest.mark.parametrize("n_per", [120, 400])
def test_binary_intervals_match_exact_multinomial_draws(n_per, monkeypatch):
    """The approximate draws of groups of 100+ rows give the intervals exact draws give."""
    import mlimpact.metrics.binary_bootstrap as binary

    rng = np.random.default_rng(23)
    G = 30
    codes = np.repeat(np.arange(G), n_per)
    y = rng.binomial(1, 0.15, G * n_per)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1)
    kw = {"codes": codes, "n_groups": G, "n_boot": 3000, "time_budget_s": None,
          "metrics": ["f1", "average_precision", "log_loss", "brier_score"]}
    approx = compute_metrics("binary", y=y, score=s, seed=1, **kw)
    monkeypatch.setattr(binary, "NORMAL_ABOVE", 10**9)
    exact = compute_metrics("binary", y=y, score=s, seed=2, **kw)
    width = exact.high - exact.low
    for end in ("low", "high"):
        shift = (approx[end] - exact[end]) / width
        assert abs(shift.mean()) < 0.012, (end, shift.mean())  # no bias beyond Monte Carlo noise
        assert shift.abs().mean() < 0.04, (end, shift.abs().mean())


def test_percentile_interval_equals_numpy_quantiles_bit_for_bit():
    rng = np.random.default_rng(9)
    a = (1 - 0.95) / 2
    for shape in [(400, 300), (3, 5), (1, 4), (250,), (7, 2, 3)]:
        r = rng.normal(size=shape)
        lo, hi = percentile_interval(r)
        q = np.quantile(r, [a, 1 - a], axis=0)
        np.testing.assert_array_equal(lo, q[0])
        np.testing.assert_array_equal(hi, q[1])
        r[rng.random(shape) < 0.3] = np.nan
        if r.ndim > 1:
            r[:, 0] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns about the all-NaN column
            q = np.nanquantile(r, [a, 1 - a], axis=0)
        lo, hi = percentile_interval(r)
        np.testing.assert_array_equal(lo, q[0])
        np.testing.assert_array_equal(hi, q[1])
