"""compute_metrics: every metric of every group against scikit-learn on that group's rows, edge cases,
invariances, and the compare-to-rest flags."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlimpact.engine import score_order
from mlimpact.errors import InputError
from mlimpact.metrics import COLUMNS, METRICS, compute_metrics, metrics_for_task

TOL = 1e-9


def _sk(fn, *args, **kw):
    """sklearn value, NaN when sklearn raises or warns that the metric is undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return float(fn(*args, **kw))
        except (ValueError, Warning, ZeroDivisionError):
            return np.nan


def sk_binary(y, s, p):
    nan = np.nan
    if len(y) == 0:
        return {}
    cm = skm.confusion_matrix(y, p, labels=[0, 1])
    tn, fp, fn, tp = cm.ravel()
    out = {
        "accuracy": skm.accuracy_score(y, p),
        "precision": skm.precision_score(y, p, zero_division=nan),
        "recall": skm.recall_score(y, p, zero_division=nan),
        "f1": skm.f1_score(y, p, zero_division=nan),
        "false_positive_rate": fp / (fp + tn) if fp + tn else nan,
        "false_negative_rate": 1 - skm.recall_score(y, p, zero_division=nan),
        "true_negative_rate": skm.recall_score(1 - y, 1 - p, zero_division=nan),
        "positive_rate": p.mean(),
        "base_rate": y.mean(),
    }
    if s is not None:
        out["roc_auc"] = _sk(skm.roc_auc_score, y, s) if 0 < y.sum() < len(y) else nan
        out["average_precision"] = _sk(skm.average_precision_score, y, s) if y.sum() > 0 else nan
        if s.min() >= 0 and s.max() <= 1:
            out["log_loss"] = skm.log_loss(y, s, labels=[0, 1])
            out["brier_score"] = skm.mean_squared_error(y, s)
    return out


def check_against(df, expected_by_group, n_groups):
    """Every (group, metric) value equals the reference; NaN exactly where it is NaN, with a note."""
    checked = 0
    for g in range(n_groups):
        rows = df[df.group == g].set_index("metric")
        exp = expected_by_group[g]
        for metric, row in rows.iterrows():
            ref = exp.get(metric, np.nan)
            if np.isnan(ref):
                assert np.isnan(row.value), (g, metric, row.value)
                assert isinstance(row.note, str) and row.note, (g, metric)
                assert np.isnan(row.low) and np.isnan(row.high)
            else:
                assert abs(row.value - ref) <= TOL * max(1.0, abs(ref)), (g, metric, row.value, ref)
                assert row.note is None
            checked += 1
    return checked


def _binary_data(seed=0, n=1500, n_groups=9, ties=True):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_groups - 3, n)  # last three groups: planted edge cases below
    y = rng.integers(0, 2, n)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    if ties:
        s = np.round(s, 2)
    # group G-3: one row; G-2: only negatives with all-same scores; G-1: empty
    y = np.append(y, [1, 0, 0, 0])
    s = np.append(s, [0.9, 0.3, 0.3, 0.3])
    codes = np.append(codes, [n_groups - 3, n_groups - 2, n_groups - 2, n_groups - 2])
    return y, s, codes


def test_registry_covers_every_task():
    for task in ("binary", "multiclass", "regression"):
        names = metrics_for_task(task)
        assert names
        for name in names:
            m = METRICS[name]
            assert task in m.task
            assert m.direction in ("higher", "lower", "zero", "none")
            assert m.kind in ("proportion", "rank", "mean", "other")
            assert m.interval in ("wilson", "delong", "bootstrap")
            assert "{value}" in m.description
    assert metrics_for_task("binary")[:3] == ["accuracy", "precision", "recall"]


@pytest.mark.parametrize("threshold", [0.5, 0.31])
def test_binary_matches_sklearn_per_group(threshold):
    y, s, codes = _binary_data()
    G = 9
    df = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=G, threshold=threshold,
                         n_boot=50, time_budget_s=None)
    assert list(df.columns) == COLUMNS
    assert len(df) == G * len(metrics_for_task("binary"))
    exp = {}
    for g in range(G):
        m = codes == g
        exp[g] = sk_binary(y[m], s[m], (s[m] >= threshold).astype(int))
    assert check_against(df, exp, G) == len(df)
    # planted edge cases have the notes we promise
    notes = df.set_index(["group", "metric"]).note
    assert notes[(7, "roc_auc")] == "roc_auc needs both classes; this group has only negatives"
    assert notes[(7, "precision")].startswith("precision needs predicted positives")
    assert notes[(8, "accuracy")] == "this group has no rows"
    assert (df[df.group == 8].n == 0).all()
    assert df[df.group == 6].n.iloc[0] == 1


def test_binary_pred_only_and_non_probability_scores():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = rng.integers(0, 2, 400)
    df = compute_metrics("binary", y=y, pred=p, n_boot=20, time_budget_s=None).set_index("metric")
    assert np.isnan(df.loc["roc_auc", "value"])
    assert "needs a score column" in df.loc["roc_auc", "note"]
    assert abs(df.loc["f1", "value"] - skm.f1_score(y, p)) < TOL
    # a 1-10 risk score with threshold 5: AUC and AP work, log loss and brier are null with a note
    risk = rng.integers(1, 11, 400).astype(float) + 2 * y
    df = compute_metrics("binary", y=y, score=risk, threshold=5, n_boot=20,
                         time_budget_s=None).set_index("metric")
    assert abs(df.loc["roc_auc", "value"] - skm.roc_auc_score(y, risk)) < TOL
    assert abs(df.loc["recall", "value"] - skm.recall_score(y, risk >= 5)) < TOL
    assert np.isnan(df.loc["log_loss", "value"])
    assert "probabilities in [0, 1]" in df.loc["log_loss", "note"]


def test_binary_given_pred_is_used_as_is_with_score():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    s = rng.random(300)
    p = rng.integers(0, 2, 300)
    df = compute_metrics("binary", y=y, score=s, pred=p, n_boot=20, time_budget_s=None).set_index("metric")
    assert abs(df.loc["precision", "value"] - skm.precision_score(y, p)) < TOL
    assert abs(df.loc["roc_auc", "value"] - skm.roc_auc_score(y, s)) < TOL


def test_all_same_scores_and_no_predicted_positives():
    y = np.array([0, 1, 0, 1, 1])
    s = np.full(5, 0.2)
    df = compute_metrics("binary", y=y, score=s, n_boot=20, time_budget_s=None).set_index("metric")
    assert df.loc["roc_auc", "value"] == 0.5
    assert abs(df.loc["average_precision", "value"] - skm.average_precision_score(y, s)) < TOL
    assert np.isnan(df.loc["precision", "value"])
    assert df.loc["recall", "value"] == 0.0
    assert df.loc["f1", "value"] == 0.0


def _multiclass_data(seed=1, n=1200, K=4, G=6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    logits = rng.normal(size=(n, K)) + 1.5 * np.eye(K)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    proba = np.round(proba, 2)  # ties
    proba = proba / proba.sum(axis=1, keepdims=True)
    codes = rng.integers(0, G - 2, n)
    # group G-2: only classes 0 and 1 present in truth and predictions; group G-1: empty
    sel = np.flatnonzero(y < 2)[:40]
    y = np.append(y, y[sel])
    p2 = proba[sel].copy()
    p2[:, 2:] = 0
    p2 /= p2.sum(axis=1, keepdims=True)
    proba = np.vstack([proba, p2])
    codes = np.append(codes, np.full(len(sel), G - 2))
    return y, proba, codes, K, G


def test_multiclass_matches_sklearn_per_group():
    y, proba, codes, K, G = _multiclass_data()
    classes = [f"c{i}" for i in range(K)]
    df = compute_metrics("multiclass", y=y, proba=proba, classes=classes, codes=codes, n_groups=G,
                         n_boot=30, time_budget_s=None)
    pred = proba.argmax(axis=1)
    exp = {}
    for g in range(G):
        m = codes == g
        if not m.any():
            exp[g] = {}
            continue
        yt, pp, pr = y[m], pred[m], proba[m]
        exp[g] = {
            "accuracy": skm.accuracy_score(yt, pp),
            "balanced_accuracy": _sk_quiet(skm.balanced_accuracy_score, yt, pp),
            "macro_f1": skm.f1_score(yt, pp, average="macro"),
            "weighted_f1": skm.f1_score(yt, pp, average="weighted"),
            "log_loss": skm.log_loss(yt, pr, labels=list(range(K))),
            "top_2_accuracy": skm.top_k_accuracy_score(yt, pr, k=2, labels=list(range(K))),
        }
    assert check_against(df, exp, G) == len(df)
    assert (df[df.group == G - 1].note == "this group has no rows").all()
    assert (df.positives == df.n).all()


def _sk_quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(*a, **kw))


def test_multiclass_pred_only():
    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    df = compute_metrics("multiclass", y=y, pred=p, classes=["a", "b", "c"], n_boot=20,
                         time_budget_s=None).set_index("metric")
    assert abs(df.loc["macro_f1", "value"] - skm.f1_score(y, p, average="macro")) < TOL
    assert "needs per-class probabilities" in df.loc["log_loss", "note"]


def test_regression_matches_sklearn_per_group():
    rng = np.random.default_rng(5)
    n, G = 1000, 7
    codes = rng.integers(0, G - 3, n)
    y = rng.normal(100, 20, n)
    pred = y + rng.normal(2, 10, n)
    # group G-3: zero-variance truth; G-2: has a zero truth (mape null); G-1: single row
    y = np.append(y, [5.0, 5.0, 5.0, 0.0, 3.0, 7.0])
    pred = np.append(pred, [4.0, 6.0, 5.5, 1.0, 2.0, 9.0])
    codes = np.append(codes, [G - 3, G - 3, G - 3, G - 2, G - 2, G - 1])
    df = compute_metrics("regression", y=y, pred=pred, codes=codes, n_groups=G, n_boot=30,
                         time_budget_s=None)
    exp = {}
    for g in range(G):
        m = codes == g
        yt, pp = y[m], pred[m]
        sst = ((yt - yt.mean()) ** 2).sum()
        exp[g] = {
            "mae": skm.mean_absolute_error(yt, pp),
            "rmse": skm.root_mean_squared_error(yt, pp),
            "r2": skm.r2_score(yt, pp) if len(yt) >= 2 and sst > 0 else np.nan,
            "mean_error": float(np.mean(pp - yt)),
            "mape": skm.mean_absolute_percentage_error(yt, pp) if (yt != 0).all() else np.nan,
        }
    assert check_against(df, exp, G) == len(df)
    notes = df.set_index(["group", "metric"]).note
    assert "do not vary" in notes[(G - 3, "r2")]
    assert "true value is 0" in notes[(G - 2, "mape")]
    assert notes[(G - 1, "r2")] == "r2 needs at least 2 rows"
    assert df.positives.isna().all()


def test_invariance_row_order_codes_and_dtypes():
    y, s, codes = _binary_data(seed=7, ties=True)
    G = 9
    kw = {"n_boot": 40, "time_budget_s": None, "compare_to_rest": True}
    base = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=G, **kw)
    perm = np.random.default_rng(0).permutation(len(y))
    shuffled = compute_metrics("binary", y=y[perm], score=s[perm], codes=codes[perm], n_groups=G, **kw)
    for col in ("value", "rest_value", "p_value"):
        # rank/count statistics are exact under row order; bootstraps are on cells so also equal
        np.testing.assert_allclose(shuffled[col], base[col], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(shuffled["low"], base["low"], rtol=1e-9, atol=1e-12, equal_nan=True)
    relabel = np.random.default_rng(1).permutation(G)
    renamed = compute_metrics("binary", y=y, score=s, codes=relabel[codes], n_groups=G, **kw)
    back = renamed.set_index(["group", "metric"]).loc[list(zip(np.repeat(relabel, 13),
                                                               base.metric, strict=True))]
    np.testing.assert_allclose(back["value"].to_numpy(), base["value"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(back["rest_value"].to_numpy(), base["rest_value"].to_numpy(), rtol=1e-9)
    typed = compute_metrics("binary", y=y.astype(np.float32), score=s, codes=codes.astype(np.int64),
                            n_groups=G, **kw)
    typed_bool = compute_metrics("binary", y=y.astype(bool), score=s, codes=codes.astype(np.uint8),
                                 n_groups=G, **kw)
    for other in (typed, typed_bool):
        np.testing.assert_allclose(other["value"], base["value"], rtol=1e-12)


def test_reused_order_gives_identical_results():
    y, s, codes = _binary_data(seed=8)
    so = score_order(y, s)
    a = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, n_boot=40, time_budget_s=None,
                        compare_to_rest=True)
    b = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, n_boot=40, time_budget_s=None,
                        compare_to_rest=True, order=so)
    c = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, n_boot=40, time_budget_s=None,
                        compare_to_rest=True, order=np.argsort(s))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_rest_values_match_sklearn_on_the_complement():
    y, s, codes = _binary_data(seed=9, ties=True)
    df = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, compare_to_rest=True, n_boot=30,
                         time_budget_s=None)
    for g in (0, 3, 5):  # (group 6 has one row: its AUC is null, so its comparison is null too)
        m = codes != g
        exp = sk_binary(y[m], s[m], (s[m] >= 0.5).astype(int))
        rows = df[df.group == g].set_index("metric")
        for metric in ("accuracy", "precision", "f1", "roc_auc", "log_loss", "brier_score"):
            assert abs(rows.loc[metric, "rest_value"] - exp[metric]) < TOL, (g, metric)
        # rest AP comes from 256 score bins: close, not exact
        assert abs(rows.loc["average_precision", "rest_value"] - exp["average_precision"]) < 0.02


def test_compare_to_rest_flags_planted_bad_group_only():
    rng = np.random.default_rng(11)
    n, G = 20000, 10
    codes = rng.integers(0, G, n)
    y = rng.binomial(1, 0.3, n)
    s = np.clip(rng.normal(0.3 + 0.35 * y, 0.15), 0, 1)
    bad = codes == 4  # planted: this segment gets noisy scores
    s[bad] = np.clip(rng.normal(0.4 + 0.1 * y[bad], 0.2), 0, 1)
    df = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=G, compare_to_rest=True, n_boot=200,
                         time_budget_s=None)
    flagged = df[df.significantly_worse.fillna(False)]
    assert set(flagged.group) == {4}
    assert {"recall", "roc_auc", "f1"} <= set(flagged.metric)
    # null data: nothing (or almost nothing) flagged
    s0 = np.clip(rng.normal(0.3 + 0.35 * y, 0.15), 0, 1)
    null = compute_metrics("binary", y=y, score=s0, codes=codes, n_groups=G, compare_to_rest=True,
                           n_boot=200, time_budget_s=None)
    assert null.significantly_worse.fillna(False).sum() <= 1
    assert null.p_value.notna().sum() > 100


def test_comparison_columns_and_small_flag():
    y, s, codes = _binary_data(seed=12)
    df = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, intervals=False)
    assert list(df.columns) == COLUMNS
    assert df.p_value.isna().all() and df.significantly_worse.isna().all()
    assert df.low.isna().all()
    assert df[df.group == 6].small.all() and not df[df.group == 0].small.any()
    q = df.significantly_worse.dtype
    assert str(q) == "boolean"


def test_bad_input_messages():
    with pytest.raises(InputError, match="task: must be one of binary, multiclass, regression; got 'ranking'"):
        compute_metrics("ranking", y=[1])
    with pytest.raises(InputError, match="binary labels must be 0/1"):
        compute_metrics("binary", y=[0, 2], score=[0.1, 0.2])
    with pytest.raises(InputError, match="score: has 1 rows but y has 2"):
        compute_metrics("binary", y=[0, 1], score=[0.1])
    with pytest.raises(InputError, match="metrics: mae not available for task binary"):
        compute_metrics("binary", y=[0, 1], score=[0.1, 0.7], metrics=["mae"])
    with pytest.raises(InputError, match="give a score or a predicted class"):
        compute_metrics("binary", y=[0, 1])


def test_metric_subset_and_overall_group():
    df = compute_metrics("binary", y=[0, 1, 1, 0], score=[0.2, 0.6, 0.4, 0.7], metrics=["roc_auc", "recall"])
    assert df.metric.tolist() == ["recall", "roc_auc"]
    assert (df.group == 0).all() and (df.n == 4).all() and (df.positives == 2).all()


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_each_metric_alone_with_intervals_and_comparison(task):
    """Any subset of metrics works (a subset once skipped a shared per-row-loss step)."""
    rng = np.random.default_rng(11)
    n = 400
    codes = rng.integers(0, 3, n)
    if task == "binary":
        y = rng.integers(0, 2, n)
        kwargs = {"y": y, "score": np.clip(0.4 * y + 0.6 * rng.random(n), 0, 1)}
    elif task == "multiclass":
        proba = rng.dirichlet([1, 1, 1], n)
        kwargs = {"y": rng.integers(0, 3, n), "proba": proba, "classes": ["a", "b", "c"]}
    else:
        y = rng.normal(10, 2, n)
        kwargs = {"y": y + 20, "pred": y + 20 + rng.normal(0, 1, n)}
    for name in metrics_for_task(task):
        table = compute_metrics(task, **kwargs, codes=codes, n_groups=3, metrics=[name], compare_to_rest=True)
        assert table["metric"].eq(name).all() and len(table) == 3
        assert table["value"].notna().all(), (name, table["note"].tolist())


# ---------------------------------------------------------------------------------------------
# tests against the rest: closed forms (no bootstrap without intervals)
# ---------------------------------------------------------------------------------------------


def _row_bootstrap_z(y, s, codes, G, metric, *, B=1500, seed=0):
    """|z| of each group against the rest from a brute-force row bootstrap stratified by group."""
    rng = np.random.default_rng(seed)
    p = (s >= 0.5).astype(float)
    eps = np.finfo(float).eps
    per_row = {"log_loss": -np.log(np.where(y == 1, np.clip(s, eps, 1 - eps), np.clip(1 - s, eps, 1 - eps))),
               "brier_score": (s - y) ** 2}
    cols = {"tp": (y == 1) & (p == 1), "fp": (y == 0) & (p == 1), "fn": (y == 1) & (p == 0),
            "x": per_row.get(metric, np.zeros(len(y))), "one": np.ones(len(y))}
    sums = {k: np.zeros((B, G)) for k in cols}
    for g in range(G):  # the loop over a few groups of a test's brute force
        rows = np.flatnonzero(codes == g)
        pick = rows[rng.integers(0, len(rows), (B, len(rows)))]
        for k, v in cols.items():
            sums[k][:, g] = np.asarray(v, dtype=float)[pick].sum(axis=1)

    def stat(t):
        if metric == "f1":
            return 2 * t["tp"] / (2 * t["tp"] + t["fp"] + t["fn"])
        return t["x"] / t["one"]

    rest = {k: v.sum(axis=1, keepdims=True) - v for k, v in sums.items()}
    diff = stat(sums) - stat(rest)
    full = {k: np.bincount(codes, weights=np.asarray(v, dtype=float), minlength=G) for k, v in cols.items()}
    full_rest = {k: v.sum() - v for k, v in full.items()}
    return np.abs(stat(full) - stat(full_rest)) / diff.std(axis=0, ddof=1)


@pytest.mark.parametrize("metric", ["f1", "log_loss", "brier_score"])
def test_closed_form_tests_match_a_row_bootstrap(metric):
    """The p-values of f1, log loss and Brier equal a brute-force stratified row bootstrap's."""
    from scipy.stats import norm

    rng = np.random.default_rng(31)
    G = 5
    codes = rng.integers(0, G, 3000)
    y = rng.binomial(1, 0.3, 3000)
    s = np.clip(rng.normal(0.3 + 0.3 * y + 0.05 * codes, 0.2), 0, 1)
    df = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=G, metrics=[metric], intervals=False,
                         compare_to_rest=True)
    z = norm.isf(df.p_value.to_numpy() / 2)
    z_boot = _row_bootstrap_z(y, s, codes, G, metric)
    big = z_boot > 1
    assert big.sum() >= 2
    np.testing.assert_allclose(z[big], z_boot[big], rtol=0.08)


def test_p_values_do_not_depend_on_intervals_and_run_no_bootstrap(monkeypatch):
    import mlimpact.metrics.binary_bootstrap as binary

    y, s, codes = _binary_data(seed=13)
    with_intervals = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, compare_to_rest=True,
                                     n_boot=60, time_budget_s=None)

    def no_bootstrap(*args, **kwargs):
        raise AssertionError("the bootstrap ran without intervals")

    monkeypatch.setattr(binary, "run_bootstrap", no_bootstrap)
    without = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, compare_to_rest=True,
                              intervals=False)
    assert without.attrs["n_boot"] == 0 and with_intervals.attrs["n_boot"] == 60
    for col in ("value", "rest_value", "p_value", "q_value"):
        np.testing.assert_array_equal(without[col], with_intervals[col])
    assert without.low.isna().all()
    assert (without.significantly_worse.isna() == with_intervals.significantly_worse.isna()).all()


def test_subset_without_score_metrics_skips_the_sort_and_agrees():
    """Counts-only metrics take the unsorted path; their values and tests equal the full table's."""
    y, s, codes = _binary_data(seed=14)
    full = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, compare_to_rest=True, intervals=False)
    few = ["precision", "recall", "f1", "accuracy"]
    part = compute_metrics("binary", y=y, score=s, codes=codes, n_groups=9, compare_to_rest=True, intervals=False,
                           metrics=few)
    ref = full[full.metric.isin(few)].reset_index(drop=True)
    for col in ("value", "rest_value", "p_value"):
        np.testing.assert_allclose(part[col], ref[col], rtol=1e-12, equal_nan=True)


def test_predictions_only_intervals_and_tests():
    rng = np.random.default_rng(15)
    y = rng.integers(0, 2, 2000)
    p = np.where(rng.random(2000) < 0.8, y, 1 - y)
    codes = rng.integers(0, 4, 2000)
    df = compute_metrics("binary", y=y, pred=p, codes=codes, n_groups=4, compare_to_rest=True, n_boot=200,
                         time_budget_s=None, metrics=["f1", "recall"])
    f1 = df[df.metric == "f1"]
    assert (f1.low <= f1.value).all() and (f1.value <= f1.high).all() and f1.p_value.notna().all()
    for g in range(4):
        assert abs(f1.value.iloc[g] - skm.f1_score(y[codes == g], p[codes == g])) < TOL


def test_delta_method_variances_match_multinomial_resampling():
    """Binned-AP and f1 variances (group and stratified rest) against exact multinomial cell draws."""
    from mlimpact.metrics.binary_tests import _ap_gradient, _delta_variances, _f1_gradient

    rng = np.random.default_rng(16)
    G, nb = 4, 6
    counts = rng.integers(3, 60, (G, nb * 2)).astype(float)  # bins from the top x (negative, positive)

    def binned_ap(c):
        c = c.reshape(c.shape[:-1] + (nb, 2))
        pos, tot = c[..., 1], c.sum(axis=-1)
        return (pos * np.cumsum(pos, -1) / np.cumsum(tot, -1)).sum(-1) / pos.sum(-1)

    def f1(c):
        return 2 * c[..., 0] / (2 * c[..., 0] + c[..., 1] + c[..., 2])

    # the gradient matches finite differences
    g = _ap_gradient(2)(counts)
    h = 1e-6
    for k in range(nb * 2):
        bumped = counts.copy()
        bumped[:, k] += h
        np.testing.assert_allclose((binned_ap(bumped) - binned_ap(counts)) / h, g[:, k], rtol=1e-4, atol=1e-7)
    confusion = rng.integers(20, 200, (G, 4)).astype(float)
    for stat, cells, grad in ((binned_ap, counts, _ap_gradient(2)), (f1, confusion, _f1_gradient)):
        var_g, var_r = _delta_variances(cells, grad)
        n = cells.sum(axis=1).astype(int)
        draws = np.stack([rng.multinomial(n[j], cells[j] / n[j], size=20000) for j in range(G)], axis=1)
        rest = draws.sum(axis=1, keepdims=True) - draws
        np.testing.assert_allclose(stat(draws).var(axis=0), var_g, rtol=0.1)
        np.testing.assert_allclose(stat(rest).var(axis=0), var_r, rtol=0.1)


def test_thousands_of_classes_cost_what_occurs_not_classes_squared(monkeypatch):
    """3,000 classes: the bootstrap resamples the (truth, prediction) pairs that occur, not 9M cells per group.

    Point values are identical to the dense path; intervals agree within Monte Carlo noise.
    """
    import mlimpact.metrics.multiclass as mc
    from mlimpact.metrics.curves import confusion_table

    rng = np.random.default_rng(5)
    n, K = 6000, 300
    y = rng.integers(0, K, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, K, n))
    codes = rng.integers(0, 3, n)
    kw = {"y": y, "pred": pred, "classes": list(range(K)), "codes": codes, "n_groups": 3, "n_boot": 400,
          "time_budget_s": None, "compare_to_rest": True,
          "metrics": ["accuracy", "balanced_accuracy", "macro_f1", "weighted_f1"]}
    dense = compute_metrics("multiclass", **kw)
    monkeypatch.setattr(mc, "DENSE_CELLS_MAX", 0)
    sparse = compute_metrics("multiclass", **kw)
    np.testing.assert_array_equal(dense["value"], sparse["value"])
    np.testing.assert_allclose(dense["low"], sparse["low"], atol=0.02)
    np.testing.assert_allclose(dense["high"], sparse["high"], atol=0.02)
    table = confusion_table(y, pred, [f"c{i}" for i in range(K)])
    assert len(table) == 20 * 20 and table["rows"].sum() == n
    assert table["actual"].iloc[-1] == "other (281 classes)"


def test_a_datasets_score_is_sorted_once_for_every_grouping(monkeypatch):
    """evaluate() keeps the score's sort with the Dataset: the overall figures and every segment table of the same
    rows share it (each used to sort a million scores again); the numbers are those of a sort per call."""
    import importlib

    from mlimpact.io import Roles, build_dataset

    ev = importlib.import_module("mlimpact.metrics.evaluate")  # the module (the package exports a function of its name)

    rng = np.random.default_rng(11)
    n = 3_000
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n).round(2),
                          "a": rng.choice(list("xyz"), n), "b": rng.choice(list("uv"), n)})

    def tables(ds):
        out = [ev.evaluate(ds, intervals=True, n_boot=50, seed=1)]
        for column in ("a", "b"):
            codes, labels = ds.codes(column)
            out.append(ev.evaluate(ds, codes=codes, n_groups=len(labels), intervals=True, n_boot=50, seed=1,
                                   compare_to_rest=True))
        return out

    sorts = []
    real = ev.score_order
    monkeypatch.setattr(ev, "score_order", lambda *a, **k: sorts.append(1) or real(*a, **k))
    shared = tables(build_dataset(frame, Roles(label="y", score="p")))
    assert len(sorts) == 1
    monkeypatch.setattr(ev, "_score_order", lambda ds: None)  # each call sorts on its own, as before
    alone = tables(build_dataset(frame, Roles(label="y", score="p")))
    for s, a in zip(shared, alone, strict=True):
        pd.testing.assert_frame_equal(s, a)
