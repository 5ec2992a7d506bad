"""Every registered metric, looped over the registry: oracles, edge cases, invariances.

The pattern is scikit-learn's ``sklearn/metrics/tests/test_common.py``: one table of reference
implementations keyed by metric name, and tests parametrized over the registry
(:data:`mlimpact.metrics.METRICS` / :func:`mlimpact.metrics.metrics_for_task`) rather than over
hand-written lists, so a newly registered metric is tested by every check here, and a metric
registered without an oracle fails :func:`test_every_registered_metric_has_an_oracle`.

Per-group values are checked against the oracle computed directly on that group's rows (as
fairlearn's ``MetricFrame`` tests do). An oracle returns NaN exactly where the metric is
undefined; the engine must then give NaN with a note (never a crash, never a silent 0).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from mlimpact.metrics import METRICS, TASKS, compute_metrics, evaluate, metrics_for_task

REL, ABS = 1e-9, 1e-12
NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# the oracles: metric name -> reference on one group's rows (NaN = undefined)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """The rows of one group, as an oracle sees them.

    ``pred``: binary 0/1 decisions (``score >= threshold`` or the given predictions), multiclass
    class codes, regression predictions. ``score``: binary scores (1-d) or multiclass per-class
    probabilities ``(n, K)``; None when only predictions were given. ``probabilities``: the whole
    score column lies in [0, 1] (the engine decides this on all rows, not per group).
    """

    task: str
    y: np.ndarray
    pred: np.ndarray
    score: np.ndarray | None = None
    n_classes: int = 2
    probabilities: bool = True


def _strict(fn, *args, **kw) -> float:
    """scikit-learn's value; NaN where it warns or raises that the metric is undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            v = float(fn(*args, **kw))
        except (ValueError, Warning, ZeroDivisionError):
            return NAN
    return v if math.isfinite(v) else NAN


def _quiet(fn, *args, **kw) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(*args, **kw))


def _cells(r: Rows):
    """tn, fp, fn, tp of a binary group (scikit-learn's confusion matrix)."""
    return skm.confusion_matrix(r.y, r.pred, labels=[0, 1]).ravel()


def _div(a, b) -> float:
    return float(a) / float(b) if b else NAN


def _only(*tasks):
    def wrap(fn):
        @functools.wraps(fn)
        def oracle(r: Rows) -> float:
            if r.task not in tasks:
                raise NotImplementedError(f"{fn.__name__}: no oracle for task {r.task}")
            return fn(r)
        oracle.tasks = tasks
        return oracle
    return wrap


def _needs_score(fn):
    @functools.wraps(fn)
    def oracle(r: Rows) -> float:
        return NAN if r.score is None else fn(r)
    oracle.tasks = fn.tasks
    return oracle


def _needs_probabilities(fn):
    @functools.wraps(fn)
    def oracle(r: Rows) -> float:
        return fn(r) if r.probabilities else NAN
    oracle.tasks = fn.tasks
    return oracle


@_only("binary", "multiclass")
def accuracy(r):
    return skm.accuracy_score(r.y, r.pred)


@_only("binary")
def precision(r):
    return skm.precision_score(r.y, r.pred, zero_division=np.nan)


@_only("binary")
def recall(r):
    return skm.recall_score(r.y, r.pred, zero_division=np.nan)


@_only("binary")
def f1(r):
    return skm.f1_score(r.y, r.pred, zero_division=np.nan)


@_only("binary")
def false_positive_rate(r):  # not in scikit-learn: from the confusion matrix
    tn, fp, _, _ = _cells(r)
    return _div(fp, fp + tn)


@_only("binary")
def false_negative_rate(r):
    _, _, fn, tp = _cells(r)
    return _div(fn, fn + tp)


@_only("binary")
def true_negative_rate(r):
    tn, fp, _, _ = _cells(r)
    return _div(tn, tn + fp)


@_only("binary")
def positive_rate(r):
    return float(np.mean(r.pred))


@_only("binary")
def base_rate(r):
    return float(np.mean(r.y))


@_needs_score
@_only("binary")
def roc_auc(r):
    return _strict(skm.roc_auc_score, r.y, r.score)


@_needs_score
@_only("binary")
def average_precision(r):
    return _strict(skm.average_precision_score, r.y, r.score)


@_needs_probabilities
@_needs_score
@_only("binary", "multiclass")
def log_loss(r):
    return _quiet(skm.log_loss, r.y, r.score, labels=list(range(r.n_classes)))


@_needs_probabilities
@_needs_score
@_only("binary")
def brier_score(r):
    return skm.brier_score_loss(r.y, r.score, pos_label=1)


@_only("multiclass")
def balanced_accuracy(r):
    return _quiet(skm.balanced_accuracy_score, r.y, r.pred)


@_only("multiclass")
def macro_f1(r):
    return _quiet(skm.f1_score, r.y, r.pred, average="macro")


@_only("multiclass")
def weighted_f1(r):
    return _quiet(skm.f1_score, r.y, r.pred, average="weighted")


@_needs_score
@_only("multiclass")
def top_2_accuracy(r):
    return _quiet(skm.top_k_accuracy_score, r.y, r.score, k=2, labels=list(range(r.n_classes)))


@_only("regression")
def mae(r):
    return skm.mean_absolute_error(r.y, r.pred)


@_only("regression")
def rmse(r):
    return skm.root_mean_squared_error(r.y, r.pred)


@_only("regression")
def r2(r):  # undefined (not scikit-learn's forced 0 or 1) for constant truth or a single row
    return _strict(skm.r2_score, r.y, r.pred, force_finite=False)


@_only("regression")
def mean_error(r):  # not in scikit-learn: the signed bias
    return float(np.mean(r.pred - r.y))


@_only("regression")
def mape(r):  # scikit-learn divides by max(|y|, eps); mlimpact calls a zero truth undefined
    return skm.mean_absolute_percentage_error(r.y, r.pred) if (r.y != 0).all() else NAN


ORACLES: dict[str, Callable[[Rows], float]] = {
    f.__name__: f for f in (
        accuracy, precision, recall, f1, false_positive_rate, false_negative_rate, true_negative_rate,
        positive_rate, base_rate, roc_auc, average_precision, log_loss, brier_score,
        balanced_accuracy, macro_f1, weighted_f1, top_2_accuracy,
        mae, rmse, r2, mean_error, mape,
    )
}


def oracle(name: str, r: Rows) -> float:
    if len(r.y) == 0:
        return NAN
    return float(ORACLES[name](r))


#: every (task, metric) the registry holds, in display order: the parametrization of most tests
REGISTERED = [(task, name) for task in TASKS for name in metrics_for_task(task)]
REGISTERED_IDS = [f"{task}-{name}" for task, name in REGISTERED]
by_registry = pytest.mark.parametrize(("task", "name"), REGISTERED, ids=REGISTERED_IDS)


# ---------------------------------------------------------------------------------------------
# problems: arrays for compute_metrics plus each group's rows for the oracle
# ---------------------------------------------------------------------------------------------


@dataclass
class Problem:
    task: str
    kwargs: dict  # for compute_metrics: y, score/pred/proba/classes, codes, n_groups, threshold
    labels: list[str]  # one per group, for messages

    def rows(self, g: int) -> Rows:
        kw = self.kwargs
        m = np.asarray(kw["codes"]) == g
        y = np.asarray(kw["y"])[m]
        if self.task == "binary":
            score = kw.get("score")
            score = None if score is None else np.asarray(score, dtype=float)
            pred = kw.get("pred")
            pred = (score >= kw.get("threshold", 0.5)).astype(int) if pred is None else np.asarray(pred)
            probs = score is None or (score.min() >= 0 and score.max() <= 1)
            return Rows("binary", y.astype(int), pred[m].astype(int), None if score is None else score[m],
                        probabilities=bool(probs))
        if self.task == "multiclass":
            proba = kw.get("proba")
            proba = None if proba is None else np.asarray(proba, dtype=float)
            pred = np.asarray(kw["pred"]) if kw.get("pred") is not None else proba.argmax(axis=1)
            return Rows("multiclass", y.astype(int), pred[m].astype(int), None if proba is None else proba[m],
                        n_classes=len(kw["classes"]))
        return Rows("regression", y.astype(float), np.asarray(kw["pred"], dtype=float)[m])


def _shuffled(rng, sizes):
    codes = np.repeat(np.arange(len(sizes)), sizes)
    return codes[rng.permutation(len(codes))]


def random_problem(task: str, variant: str, seed: int) -> Problem:
    """Random groups of 1 to ~300 rows (the sizes drawn per seed), scores rounded so ties are common."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 300, 5)
    codes = _shuffled(rng, sizes)
    n, G = len(codes), len(sizes)
    labels = [f"random group of {k} rows" for k in sizes]
    if task == "binary":
        y = rng.binomial(1, 0.15 + 0.1 * codes)
        s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1).round(2)
        kw = {"y": y, "codes": codes, "n_groups": G}
        if variant == "pred only":
            kw["pred"] = np.where(rng.random(n) < 0.8, y, 1 - y)
        elif variant == "risk scale":  # a 0-10 score, not a probability: no log loss or Brier score
            kw.update(score=np.round(10 * s), threshold=5.0)
        else:
            kw.update(score=s, threshold=float(variant))
        return Problem(task, kw, labels)
    if task == "multiclass":
        K = 4
        y = rng.integers(0, K, n)
        logits = rng.normal(size=(n, K)) + 1.5 * np.eye(K)[y]
        proba = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 2) + 0.0
        proba /= proba.sum(axis=1, keepdims=True)  # ties survive the division
        kw = {"y": y, "classes": [f"c{k}" for k in range(K)], "codes": codes, "n_groups": G}
        if variant == "pred only":
            kw["pred"] = np.where(rng.random(n) < 0.7, y, rng.integers(0, K, n))
        else:
            kw["proba"] = proba
        return Problem(task, kw, labels)
    y = rng.normal(100, 20, n).round(1)
    pred = y + rng.normal(2 * codes, 10).round(1)
    return Problem(task, {"y": y, "pred": pred, "codes": codes, "n_groups": G}, labels)


VARIANTS = {"binary": ["0.5", "0.3", "risk scale", "pred only"], "multiclass": ["proba", "pred only"],
            "regression": ["default"]}
SEEDS = (0, 1, 2)


def _edge_problem(task: str) -> Problem:
    """Named degenerate groups: one class, no predicted positives, one row, ties, constant scores."""
    groups: list[tuple[str, dict]] = []
    if task == "binary":
        rng = np.random.default_rng(5)
        y0 = rng.integers(0, 2, 80)
        groups = [
            ("random, both classes", {"y": y0, "score": np.clip(rng.normal(0.3 + 0.4 * y0, 0.2), 0, 1)}),
            ("a single positive row", {"y": [1], "score": [0.9]}),
            ("a single negative row", {"y": [0], "score": [0.2]}),
            ("only negatives, constant score", {"y": [0] * 5, "score": [0.3] * 5}),
            ("only negatives, some flagged", {"y": [0] * 4, "score": [0.3, 0.7, 0.6, 0.1]}),
            ("only positives", {"y": [1] * 6, "score": [0.2, 0.4, 0.6, 0.8, 0.8, 0.9]}),
            ("no predicted positives", {"y": [0, 1, 0, 1, 1], "score": [0.1, 0.4, 0.2, 0.3, 0.49]}),
            ("every row flagged", {"y": [0, 1, 0, 1], "score": [0.5, 0.9, 0.7, 0.5]}),
            ("constant score at the threshold", {"y": [0, 1, 1, 0, 1], "score": [0.5] * 5}),
            ("ties across classes", {"y": [0, 1, 0, 1, 0, 1, 1, 0],
                                     "score": [0.2, 0.2, 0.5, 0.5, 0.8, 0.8, 0.5, 0.2]}),
            ("scores of exactly 0 and 1, confidently wrong", {"y": [0, 1, 0, 1], "score": [1.0, 0.0, 0.0, 1.0]}),
            ("no rows", {"y": [], "score": []}),
        ]
        cols = ("y", "score")
    elif task == "multiclass":
        third = [1 / 3] * 3
        groups = [
            ("random", {"y": [0, 1, 2, 2, 1, 0, 1],
                        "proba": [[.6, .3, .1], [.2, .5, .3], [.1, .2, .7], [.4, .4, .2], [.3, .3, .4],
                                  [.2, .2, .6], [.5, .25, .25]]}),
            ("a single row", {"y": [2], "proba": [[.2, .3, .5]]}),
            ("one class in truth, predictions mixed", {"y": [1, 1, 1], "proba": [[.6, .3, .1], [.1, .8, .1],
                                                                                 [.1, .2, .7]]}),
            ("one class in truth, all right", {"y": [0, 0], "proba": [[.9, .05, .05], [.7, .2, .1]]}),
            ("constant probabilities (all tied)", {"y": [0, 1, 2], "proba": [third] * 3}),
            ("two of three classes", {"y": [0, 1, 0, 1], "proba": [[.6, .4, 0], [.3, .7, 0], [.4, .6, 0],
                                                                  [.5, .5, 0]]}),
            ("true class has probability 0", {"y": [2, 0], "proba": [[.5, .5, 0], [0, 1, 0]]}),
            ("no rows", {"y": [], "proba": np.zeros((0, 3))}),
        ]
        cols = ("y", "proba")
    else:
        groups = [
            ("random", {"y": [3.0, 5.5, -2.0, 8.0, 1.5], "pred": [2.5, 6.0, -1.0, 7.0, 2.5]}),
            ("a single row", {"y": [4.0], "pred": [5.0]}),
            ("constant truth", {"y": [5.0] * 4, "pred": [4.0, 6.0, 5.5, 5.0]}),
            ("a true value of 0", {"y": [0.0, 2.0, 3.0], "pred": [1.0, 2.0, 2.5]}),
            ("constant predictions", {"y": [1.0, 2.0, 3.0, 4.0], "pred": [2.0] * 4}),
            ("perfect predictions", {"y": [1.0, -2.0, 3.0], "pred": [1.0, -2.0, 3.0]}),
            ("constant truth, perfect predictions", {"y": [2.0, 2.0], "pred": [2.0, 2.0]}),
            ("no rows", {"y": [], "pred": []}),
        ]
        cols = ("y", "pred")
    codes = np.concatenate([np.full(len(g["y"]), k) for k, (_, g) in enumerate(groups)]).astype(int)
    kw = {c: np.concatenate([np.asarray(g[c], dtype=float) for _, g in groups]) for c in cols}
    if task != "regression":
        kw["y"] = kw["y"].astype(int)
    if task == "multiclass":
        kw["proba"] = np.vstack([np.asarray(g["proba"], dtype=float).reshape(-1, 3) for _, g in groups])
        kw["classes"] = ["a", "b", "c"]
    if task == "binary":
        kw["threshold"] = 0.5
    kw.update(codes=codes, n_groups=len(groups))
    return Problem(task, kw, [label for label, _ in groups])


def _whole_data_problem(task: str, kind: str) -> Problem:
    """The whole data set is degenerate: a single row, a single class / constant truth, constant scores."""
    y = {"binary": [0, 1, 1, 0, 1, 0], "multiclass": [0, 1, 2, 1, 0, 2],
         "regression": [1.0, 4.0, 2.0, 8.0, 5.0, 7.0]}[task]
    score = [0.1, 0.8, 0.6, 0.4, 0.3, 0.7]
    proba = [[.7, .2, .1], [.2, .6, .2], [.1, .1, .8], [.3, .4, .3], [.5, .3, .2], [.2, .2, .6]]
    pred = [1.5, 3.0, 2.5, 7.0, 6.0, 6.5]
    if kind == "single row":
        y, score, proba, pred = y[:1], score[:1], proba[:1], pred[:1]
    elif kind == "one class":
        y = [y[0]] * len(y)
    elif kind == "constant scores":
        score, proba, pred = [0.4] * 6, [[1 / 3] * 3] * 6, [3.0] * 6
    n = len(y)
    codes = np.zeros(n, dtype=int)
    if task == "binary":
        kw = {"y": np.asarray(y), "score": np.asarray(score), "threshold": 0.5}
    elif task == "multiclass":
        kw = {"y": np.asarray(y), "proba": np.asarray(proba), "classes": ["a", "b", "c"]}
    else:
        kw = {"y": np.asarray(y, dtype=float), "pred": np.asarray(pred)}
    kw.update(codes=codes, n_groups=1)
    return Problem(task, kw, [f"whole data: {kind}"])


# ---------------------------------------------------------------------------------------------
# checking a table against the oracles
# ---------------------------------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def check_metric(table: pd.DataFrame, problem: Problem, name: str) -> int:
    """Every group's value of ``name`` against the oracle on that group's rows; returns groups checked."""
    rows = table[table.metric == name].set_index("group")
    assert len(rows) == len(problem.labels), (name, len(rows))
    problems = []
    for g, label in enumerate(problem.labels):
        got = rows.loc[g]
        want = oracle(name, problem.rows(g))
        where = f"{problem.task} {name}, group {g} ({label}): value {got.value!r}, oracle {want!r}"
        if math.isnan(want):
            if not math.isnan(got.value):
                problems.append(f"{where}: undefined, so it must be NaN")
            elif not (isinstance(got.note, str) and got.note.strip()):
                problems.append(f"{where}: NaN without a note (note={got.note!r})")
        elif math.isnan(got.value):
            problems.append(f"{where}: NaN where the oracle has a value (note {got.note!r})")
        else:
            if not _close(got.value, want):
                problems.append(f"{where}: differ by {got.value - want:.3g}")
            if got.note is not None:
                problems.append(f"{where}: a value with a note {got.note!r}")
        if math.isnan(got.value):
            for col in ("low", "high", "rest_value", "p_value"):
                if not math.isnan(got[col]):
                    problems.append(f"{where}: {col} is {got[col]!r} for an undefined value")
    assert not problems, "\n".join(problems)
    return len(problem.labels)


@functools.cache
def _random_table(task: str, variant: str, seed: int) -> tuple[Problem, pd.DataFrame]:
    p = random_problem(task, variant, seed)
    return p, compute_metrics(task, **p.kwargs, intervals=False)


# ---------------------------------------------------------------------------------------------
# the registry itself
# ---------------------------------------------------------------------------------------------


def test_every_registered_metric_has_an_oracle():
    missing = sorted(set(METRICS) - set(ORACLES))
    assert not missing, (f"metrics registered without an oracle: {missing}; add a reference implementation "
                         f"to ORACLES in {__name__} (scikit-learn's, or numpy's where scikit-learn has none)")
    stale = sorted(set(ORACLES) - set(METRICS))
    assert not stale, f"oracles for metrics that are no longer registered: {stale}"


@pytest.mark.parametrize("name", sorted(METRICS))
def test_each_oracle_handles_every_task_of_its_metric(name):
    """The oracle table keys by name; each oracle must serve exactly the tasks the registry gives."""
    assert set(ORACLES[name].tasks) == set(METRICS[name].task), (name, ORACLES[name].tasks, METRICS[name].task)
    toy = {
        "binary": Rows("binary", np.array([0, 1, 1, 0]), np.array([0, 1, 0, 1]), np.array([.2, .9, .4, .6])),
        "multiclass": Rows("multiclass", np.array([0, 1, 2, 1]), np.array([0, 1, 1, 1]),
                           np.array([[.6, .3, .1], [.2, .5, .3], [.1, .5, .4], [.3, .4, .3]]), n_classes=3),
        "regression": Rows("regression", np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])),
    }
    for task in METRICS[name].task:
        assert math.isfinite(oracle(name, toy[task])), (name, task)


def test_registry_task_lists_agree_with_each_metric():
    """``metrics_for_task`` and each Metric's ``task`` tuple describe the same (task, metric) pairs."""
    listed = {(t, m) for t in TASKS for m in metrics_for_task(t)}
    declared = {(t, m.name) for m in METRICS.values() for t in m.task}
    assert listed == declared, {"listed only": listed - declared, "declared only": declared - listed}
    for task in TASKS:
        assert len(set(metrics_for_task(task))) == len(metrics_for_task(task)), task


@pytest.mark.parametrize("task", TASKS)
def test_a_table_holds_every_registered_metric_of_its_task(task):
    p, table = _random_table(task, VARIANTS[task][0], 0)
    G = p.kwargs["n_groups"]
    assert table.metric.tolist() == metrics_for_task(task) * G
    assert table.group.tolist() == list(np.repeat(np.arange(G), len(metrics_for_task(task))))
    assert table.attrs["interval_methods"] == {m: METRICS[m].interval for m in metrics_for_task(task)}


# ---------------------------------------------------------------------------------------------
# (a) every metric equals its oracle on every group of random data
# ---------------------------------------------------------------------------------------------


@by_registry
def test_matches_oracle_on_every_group(task, name):
    checked = 0
    for variant in VARIANTS[task]:
        for seed in SEEDS:
            p, table = _random_table(task, variant, seed)
            checked += check_metric(table, p, name)
    assert checked == len(VARIANTS[task]) * len(SEEDS) * 5


@by_registry
def test_value_does_not_depend_on_the_other_metrics_requested(task, name):
    """Asked alone, a metric has the same value, rest value and test as in the full table."""
    p = random_problem(task, VARIANTS[task][0], 3)
    full = compute_metrics(task, **p.kwargs, intervals=False, compare_to_rest=True)
    alone = compute_metrics(task, **p.kwargs, intervals=False, compare_to_rest=True, metrics=[name])
    assert alone.metric.unique().tolist() == [name]
    ref = full[full.metric == name].reset_index(drop=True)
    cols = ["value", "rest_value", "difference", "n", "positives"]
    if METRICS[name].interval != "bootstrap" or task == "binary":  # closed-form p-values (no resampling)
        cols.append("p_value")
    for col in cols:
        np.testing.assert_allclose(alone[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-12,
                                   equal_nan=True, err_msg=f"{task} {name}: {col}")
    assert alone.note.tolist() == ref.note.tolist()


@by_registry
def test_evaluate_on_a_dataset_matches_oracle(task, name):
    """The one door from a Dataset (labels as text, encoded by mlimpact.io) gives the oracle's values."""
    from mlimpact.io.dataset import build_dataset
    from mlimpact.io.roles import Roles

    p = random_problem(task, VARIANTS[task][0], 4)
    kw = p.kwargs
    frame = pd.DataFrame({"segment": np.asarray(kw["codes"])})
    if task == "binary":
        frame["y"] = np.where(kw["y"] == 1, "yes", "no")
        frame["s"] = kw["score"]
        roles = Roles(label="y", score="s", positive="yes")
    elif task == "multiclass":
        frame["y"] = np.asarray(kw["classes"], dtype=object)[kw["y"]]
        for k, c in enumerate(kw["classes"]):
            frame[f"p_{c}"] = kw["proba"][:, k]
        roles = Roles(label="y", class_scores=tuple(f"p_{c}" for c in kw["classes"]))
    else:
        frame["y"], frame["yhat"] = kw["y"], kw["pred"]
        roles = Roles(label="y", prediction="yhat")
    ds = build_dataset(frame, roles)
    assert ds.task == task
    table = evaluate(ds, metrics=[name], codes=kw["codes"], n_groups=kw["n_groups"],
                     threshold=kw.get("threshold", 0.5), intervals=False)
    check_metric(table, p, name)


# ---------------------------------------------------------------------------------------------
# (b) edge cases: undefined is NaN with a note, defined is the oracle's value; nothing crashes
# ---------------------------------------------------------------------------------------------


@functools.cache
def _edge_tables(task: str) -> list[tuple[Problem, pd.DataFrame, pd.DataFrame]]:
    out = []
    problems = [_edge_problem(task)] + [_whole_data_problem(task, k)
                                        for k in ("single row", "one class", "constant scores")]
    for p in problems:
        bare = compute_metrics(task, **p.kwargs, intervals=False)
        # the same with intervals and tests against the rest: no crash, the same values
        full = compute_metrics(task, **p.kwargs, intervals=True, compare_to_rest=True, n_boot=40,
                               time_budget_s=None, min_group_size=1)
        out.append((p, bare, full))
    return out


@by_registry
def test_edge_cases_are_the_oracle_or_nan_with_a_note(task, name):
    for p, bare, full in _edge_tables(task):
        check_metric(bare, p, name)
        check_metric(full, p, name)
        a, b = bare[bare.metric == name], full[full.metric == name]
        # (loss sums come per score-bin cell when intervals are on: equal to the last bits)
        np.testing.assert_allclose(a.value.to_numpy(), b.value.to_numpy(), rtol=1e-12, equal_nan=True)
        assert a.note.tolist() == b.note.tolist()


def test_edge_cases_exercise_undefined_values_of_every_kind():
    """The planted groups do make metrics undefined (else the test above would prove little)."""
    undefined = {}
    for task in TASKS:
        for p, bare, _ in _edge_tables(task):
            nan = bare[bare.value.isna()]
            for g, name in zip(nan.group, nan.metric, strict=True):
                undefined.setdefault((task, name), set()).add(p.labels[g])
    # every metric is undefined on an empty group
    for task, name in REGISTERED:
        assert "no rows" in undefined[(task, name)], (task, name)
    expect = {
        ("binary", "roc_auc"): {"a single positive row", "only negatives, constant score", "only positives"},
        ("binary", "precision"): {"no predicted positives", "only negatives, constant score"},
        ("binary", "recall"): {"only negatives, some flagged"},
        ("binary", "f1"): {"only negatives, constant score"},
        ("binary", "false_positive_rate"): {"only positives", "a single positive row"},
        ("binary", "average_precision"): {"a single negative row"},
        ("regression", "r2"): {"a single row", "constant truth", "constant truth, perfect predictions"},
        ("regression", "mape"): {"a true value of 0"},
    }
    for key, labels in expect.items():
        assert labels <= undefined[key], (key, labels - undefined[key])
    # and defined zeros stay zeros: no predicted positives is a positive rate of 0, not NaN
    p, bare, _ = _edge_tables("binary")[0]
    g = p.labels.index("no predicted positives")
    row = bare[(bare.group == g)].set_index("metric")
    assert row.loc["positive_rate", "value"] == 0.0 and row.loc["recall", "value"] == 0.0
    assert row.loc["f1", "value"] == 0.0


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_score_metrics_without_scores_are_nan_with_a_note(task):
    """Registry-driven: ``needs_score`` metrics are null, naming themselves; the rest use the predictions."""
    p, table = _random_table(task, "pred only", 0)
    for name in metrics_for_task(task):
        rows = table[table.metric == name]
        if METRICS[name].needs_score:
            assert rows.value.isna().all(), name
            assert all(isinstance(n, str) and n.startswith(f"{name} needs ") for n in rows.note), name
        else:
            check_metric(table, p, name)


# ---------------------------------------------------------------------------------------------
# (c) invariances: row order, group relabelling, dtypes
# ---------------------------------------------------------------------------------------------


def _full(task, kw, **extra):
    return compute_metrics(task, **kw, intervals=True, compare_to_rest=True, n_boot=60, time_budget_s=None,
                           seed=3, **extra)


def _assert_same(a: pd.DataFrame, b: pd.DataFrame, cols, *, what: str, rtol=1e-10):
    """Tables equal column by column; a failure names the metrics that differ."""
    assert a.metric.tolist() == b.metric.tolist()
    for col in cols:
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        bad = ~(np.isclose(x, y, rtol=rtol, atol=1e-12) | (np.isnan(x) & np.isnan(y)))
        assert not bad.any(), (f"{what}: {col} differs for "
                               f"{sorted(set(a.metric[bad]))}: {x[bad][:4]} vs {y[bad][:4]}")
    assert a.note.tolist() == b.note.tolist(), what


VALUE_COLS = ["value", "rest_value", "difference", "n", "positives"]
ALL_COLS = VALUE_COLS + ["low", "high", "p_value", "q_value"]


@pytest.mark.parametrize("task", TASKS)
def test_invariant_to_row_order(task):
    """Values, intervals and tests (seeded) do not depend on the order of the rows."""
    p = random_problem(task, VARIANTS[task][0], 5)
    kw = p.kwargs
    base = _full(task, kw)
    perm = np.random.default_rng(9).permutation(len(kw["y"]))
    moved = {k: (np.asarray(v)[perm] if k in ("y", "score", "pred", "proba", "codes") else v)
             for k, v in kw.items()}
    _assert_same(base, _full(task, moved), ALL_COLS, what=f"{task} row order", rtol=1e-9)


@pytest.mark.parametrize("task", TASKS)
def test_invariant_to_relabelling_groups(task):
    """Group g renamed to relabel[g]: each group keeps its values and its comparison to the rest."""
    p = random_problem(task, VARIANTS[task][0], 6)
    kw = p.kwargs
    G = kw["n_groups"]
    base = _full(task, kw)
    relabel = np.random.default_rng(2).permutation(G)
    moved = _full(task, {**kw, "codes": relabel[np.asarray(kw["codes"])]})
    back = moved.assign(group=np.argsort(relabel)[moved.group.to_numpy()])
    back = back.sort_values(["group"], kind="stable").reset_index(drop=True)
    cols = VALUE_COLS + (["p_value"] if task == "binary" else [])  # elsewhere p comes from the bootstrap's draws
    _assert_same(base, back, cols, what=f"{task} relabelled groups")


def _dtype_variants(task):
    """(description, changes to the arguments) that must leave the table unchanged."""
    if task == "binary":
        labels = [("y " + t, lambda kw, t=t: {"y": kw["y"].astype(t)})
                  for t in ("int8", "uint8", "int32", "float64", "float32", "bool")]
        labels.append(("y as a list", lambda kw: {"y": kw["y"].tolist()}))
    elif task == "multiclass":
        labels = [("y " + t, lambda kw, t=t: {"y": kw["y"].astype(t)})
                  for t in ("int8", "uint8", "int32", "int64", "float64")]
    else:  # integer-valued truth, so every one of these holds the same numbers
        labels = [("y " + t, lambda kw, t=t: {"y": kw["y"].astype(t)}) for t in ("float64", "int32", "float32")]
    codes = [("codes " + t, lambda kw, t=t: {"codes": np.asarray(kw["codes"]).astype(t)})
             for t in ("int8", "uint8", "uint16", "int32", "int64", "float64")]
    return labels + codes


@pytest.mark.parametrize("task", TASKS)
def test_invariant_to_label_and_code_dtypes(task):
    p = random_problem(task, VARIANTS[task][0], 7)
    kw = p.kwargs
    if task == "regression":  # integer-valued truth: int64 and float64 labels are the same numbers
        kw = {**kw, "y": np.round(kw["y"]).astype(np.int64)}
    base = _full(task, kw)
    for what, change in _dtype_variants(task):
        _assert_same(base, _full(task, {**kw, **change(kw)}), ALL_COLS, what=f"{task} {what}", rtol=0)


@pytest.mark.parametrize("task", TASKS)
def test_float32_scores_equal_their_float64_values(task):
    """float32 scores, probabilities or predictions give exactly the table of the same numbers in float64
    (and so, by the oracle tests, scikit-learn's values on them): no float32 arithmetic inside."""
    p = random_problem(task, VARIANTS[task][0], 8)
    kw = p.kwargs
    key = {"binary": "score", "multiclass": "proba", "regression": "pred"}[task]
    low = np.asarray(kw[key]).astype(np.float32)
    a = _full(task, {**kw, key: low})
    b = _full(task, {**kw, key: low.astype(np.float64)})
    _assert_same(a, b, ALL_COLS, what=f"{task} float32 {key}", rtol=0)
    up = Problem(task, {**kw, key: low.astype(np.float64)}, p.labels)
    for name in metrics_for_task(task):
        check_metric(a, up, name)


# ---------------------------------------------------------------------------------------------
# Hypothesis: small, often degenerate problems, every registered metric against its oracle
# ---------------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, task):
    n = draw(st.integers(1, 40))
    G = draw(st.integers(1, 4))
    codes = np.array(draw(st.lists(st.integers(0, G - 1), min_size=n, max_size=n)))
    ints = functools.partial(st.lists, min_size=n, max_size=n)
    if task == "binary":
        y = np.array(draw(ints(st.integers(0, 1))))
        kw = {"y": y}
        if draw(st.booleans()):
            kw["score"] = np.array(draw(ints(st.integers(0, 10)))) / 10  # coarse: ties, 0 and 1
            kw["threshold"] = draw(st.sampled_from([0.5, 0.3, 1.0]))
        else:
            kw["pred"] = np.array(draw(ints(st.integers(0, 1))))
    elif task == "multiclass":
        K = draw(st.integers(3, 4))
        y = np.array(draw(ints(st.integers(0, K - 1))))
        w = np.array(draw(st.lists(st.lists(st.integers(0, 3), min_size=K, max_size=K), min_size=n,
                                   max_size=n)), dtype=float)
        w[w.sum(axis=1) == 0] = 1.0
        kw = {"y": y, "proba": w / w.sum(axis=1, keepdims=True), "classes": [f"k{i}" for i in range(K)]}
    else:
        y = np.array(draw(ints(st.integers(-3, 3))), dtype=float)  # zeros and constant truth are common
        kw = {"y": y, "pred": y + np.array(draw(ints(st.integers(-2, 2))))}
    kw.update(codes=codes, n_groups=G)
    return Problem(task, kw, [f"group {g}" for g in range(G)])


def _check_all(p: Problem):
    table = compute_metrics(p.task, **p.kwargs, intervals=True, compare_to_rest=True, n_boot=20,
                            time_budget_s=None, min_group_size=1)
    for name in metrics_for_task(p.task):
        check_metric(table, p, name)


@SETTINGS
@given(problems("binary"))
def test_hypothesis_binary_every_metric_matches_oracle(p):
    _check_all(p)


@SETTINGS
@given(problems("multiclass"))
def test_hypothesis_multiclass_every_metric_matches_oracle(p):
    _check_all(p)


@SETTINGS
@given(problems("regression"))
def test_hypothesis_regression_every_metric_matches_oracle(p):
    _check_all(p)
