"""Sufficient statistics: counts, confusion matrices and rank statistics against direct computation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlimpact.engine import (
    as_codes,
    binary_counts,
    group_sums,
    multiclass_confusion,
    rank_statistics,
    score_order,
)


def naive_delong_variance(y, s):
    """O(n1 * n0) DeLong variance straight from the definition."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)


def test_binary_counts_layout_and_empty_groups():
    y = np.array([1, 0, 1, 0, 1])
    p = np.array([1, 1, 0, 0, 1])
    c = np.array([0, 0, 0, 0, 2])
    out = binary_counts(y, p, c, 4)
    assert out.tolist() == [[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert binary_counts(y, p, None, None).tolist() == [[2, 1, 1, 1]]


def test_multiclass_confusion_matches_sklearn():
    rng = np.random.default_rng(0)
    y, p, c = rng.integers(0, 4, 500), rng.integers(0, 4, 500), rng.integers(0, 3, 500)
    cm = multiclass_confusion(y, p, c, 3, 4)
    for g in range(3):
        m = c == g
        np.testing.assert_array_equal(cm[g], skm.confusion_matrix(y[m], p[m], labels=range(4)))


def test_group_sums():
    out = group_sums(np.array([1.0, 2.0, 3.0]), np.array([1, 1, 0]), 3)
    assert out[:, 0].tolist() == [3.0, 3.0, 0.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_statistics_match_sklearn_and_naive_delong(seed):
    rng = np.random.default_rng(seed)
    n, G = 2000, 12
    y = rng.integers(0, 2, n)
    s = np.round(rng.normal(0.4 * y, 1.0), 1)  # many ties, negative scores allowed
    c = rng.integers(0, G, n)
    so = score_order(y, s)
    r = rank_statistics(y, s, c, G, order=so)
    r2 = rank_statistics(y, s, c, G)
    np.testing.assert_array_equal(r.auc, r2.auc)
    for g in range(G):
        m = c == g
        assert abs(r.auc[g] - skm.roc_auc_score(y[m], s[m])) < 1e-12
        assert abs(r.average_precision[g] - skm.average_precision_score(y[m], s[m])) < 1e-12
        assert abs(r.auc_var[g] - naive_delong_variance(y[m], s[m])) < 1e-12
        assert abs(r.auc_rest[g] - skm.roc_auc_score(y[~m], s[~m])) < 1e-12
        assert r.n[g] == m.sum() and r.n_pos[g] == y[m].sum()


def test_rank_statistics_edge_groups():
    y = np.array([1, 0, 0, 0, 1])
    s = np.array([0.5, 0.5, 0.5, 0.1, 0.3])
    c = np.array([0, 0, 0, 0, 1])
    r = rank_statistics(y, s, c, 3)
    assert np.isnan(r.auc[1]) and np.isnan(r.auc[2])  # one class; empty
    assert r.average_precision[1] == 1.0 and np.isnan(r.average_precision[2])
    assert abs(r.auc[0] - skm.roc_auc_score(y[:4], s[:4])) < 1e-12
    assert np.isnan(r.auc_var[0])  # a single positive: DeLong undefined: caller falls back


def test_as_codes_dtype():
    codes, G = as_codes(np.array([0, 5, 2]), 3, None)
    assert G == 6 and codes.dtype == np.int16
    codes, G = as_codes(np.array([0, 1]), 2, 40000)
    assert codes.dtype == np.int32


@pytest.mark.parametrize("G", [3, 256, 257, 40000])
def test_group_order_is_the_stable_sort_by_group(G):
    from mlimpact.engine.memory import _group_order

    rng = np.random.default_rng(G)
    codes = rng.integers(0, G, 5000).astype(np.int32 if G > 30000 else np.int16)
    np.testing.assert_array_equal(_group_order(codes, G), np.argsort(codes, kind="stable"))


def test_score_order_caches_per_score_work_once():
    so = score_order([0, 1, 1], [0.3, 0.2, 0.9])
    calls = []
    assert so.cached("k", lambda: calls.append(1) or 5) == 5
    assert so.cached("k", lambda: calls.append(1) or 6) == 5
    assert calls == [1]
    assert so.placements() is so.placements()
