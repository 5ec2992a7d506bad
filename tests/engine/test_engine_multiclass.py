"""Multiclass on DuckDB gives the memory path's numbers: the summary (values, Wilson and bootstrap intervals,
tests), the rows excluded by reason, `check` and `slices`, on the support-tickets sample and on awkward
generated files (labels with spaces or as whole floats, a class without a probability column, heavy ties,
probabilities of exactly 0 and 1, missing and infinite values, no prediction column), with the dense and
the sparse confusion bootstrap; the log loss's bootstrap cells hold the very rows they hold in memory."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlimpact.engine.multiclass_tables as multiclass_tables
import mlimpact.metrics.multiclass as multiclass
from mlimpact.cli.main import main
from mlimpact.engine.dataset import count_groupings, global_keys, open_engine_dataset
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.metrics.tables import class_counts_from_tables
from mlimpact.report.summarize import summarize
from tests.engine.test_engine_slices import assert_same_slices
from tests.engine.test_engines import _engine_summary, assert_same_summary


@pytest.fixture(autouse=True)
def full_bootstrap(monkeypatch):
    """Both paths draw all 1,000 replicates (no time budget), so their intervals can be compared exactly."""
    real = multiclass.run_bootstrap
    monkeypatch.setattr(multiclass, "run_bootstrap", lambda replicate, *, n_boot, seed, time_budget_s, chunk: real(
        replicate, n_boot=n_boot, seed=seed, time_budget_s=None, chunk=chunk))


def test_support_sample_summary_check_and_slices_equal_memory(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    df = pd.read_csv(sample_path("support"))
    df.iloc[:9_000].to_parquet(folder / "part-0.parquet")
    df.iloc[9_000:].to_parquet(folder / "part-1.parquet")
    csv = str(sample_path("support"))
    assert main(["summarize", csv]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main(["summarize", str(folder), "--engine", "duckdb"]) == 0
    out = capsys.readouterr()
    assert "computed in memory" not in out.err
    engine = json.loads(out.out)
    assert engine["source"]["engine"] == "duckdb" and engine["task"] == "multiclass"
    assert set(engine["overall"]) == {"accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss",
                                      "top_2_accuracy"}
    assert_same_summary(memory, engine)
    config = "tests/golden/checks_support_tickets.toml"
    assert main(["check", csv, "--config", config, "--format", "json"]) == 1
    memory = json.loads(capsys.readouterr().out)
    memory.pop("causes", None)  # why it alerted: split by slices, from the rows (memory only)
    assert main(["check", str(folder), "--config", config, "--format", "json", "--engine", "duckdb"]) == 1
    assert_same_summary(memory, json.loads(capsys.readouterr().out))
    for error, exact in (("misclassification", True), ("log_loss", False)):
        assert main(["slices", csv, "--error", error]) == 0
        memory = json.loads(capsys.readouterr().out)
        assert main(["slices", str(folder), "--error", error, "--engine", "duckdb"]) == 0
        assert_same_slices(memory, json.loads(capsys.readouterr().out), exact=exact)


def _awkward(seed: int, *, with_prediction: bool, numeric_labels: bool, n: int = 4000) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    names = ["1", "2", "3", "4"] if numeric_labels else ["billing", "tech", "account", "other"]
    y = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
    logits = rng.normal(size=(n, 4)) + 1.5 * np.eye(4)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p = p.round(1)  # heavy ties (argmax and top-2), and probabilities of exactly 0 and 1
    p[rng.choice(n, 30, replace=False)] = [1.0, 0.0, 0.0, 0.0]
    p[rng.choice(n, 5, replace=False), 1] = 1e-300  # below the clipping
    label = np.asarray(names, dtype=object)[y]
    if numeric_labels:
        label = label.astype(float)
    else:
        label = np.where(rng.random(n) < 0.1, " " + label, label)  # spaces: the same class once stripped
    df = pd.DataFrame({"label": label, "region": rng.choice(["west", "east", None], n, p=[0.6, 0.35, 0.05]),
                       "tier": rng.integers(1, 4, n).astype(float)})
    for j in range(3):  # no column for the fourth class: its probability is 0
        df[f"prob_{names[j]}"] = p[:, j]
    df.loc[rng.choice(n, 40, replace=False), "label"] = None
    df.loc[rng.choice(n, 20, replace=False), f"prob_{names[0]}"] = np.nan
    df.loc[rng.choice(n, 5, replace=False), f"prob_{names[1]}"] = np.inf
    changes = {"label": "label", "class_scores": tuple(f"prob_{c}" for c in names[:3]),
               "segments": ("region", "tier"), "task": "multiclass"}
    if with_prediction:
        pred = np.asarray(names, dtype=object)[rng.choice(4, n)]
        pred[rng.choice(n, 25, replace=False)] = "" if not numeric_labels else None  # missing
        df["predicted"] = pred if not numeric_labels else pd.to_numeric(pd.Series(pred), errors="coerce")
        changes["prediction"] = "predicted"
    return df, changes


@pytest.mark.parametrize(("seed", "with_prediction", "numeric_labels"),
                         [(0, False, False), (1, True, False), (2, False, True), (3, True, True)])
def test_awkward_multiclass_files_give_the_memory_paths_summary(tmp_path, seed, with_prediction, numeric_labels):
    df, changes = _awkward(seed, with_prediction=with_prediction, numeric_labels=numeric_labels)
    path = tmp_path / "m.parquet"
    df.to_parquet(path)
    dataset, _ = load(str(path), changes)
    engine = _engine_summary(path, changes)
    expected = {"label is missing", "a class probability is missing", "a class probability is infinite"}
    assert set(engine["rows"]["excluded"]) == expected | ({"prediction is missing"} if with_prediction else set())
    assert engine["rows"] == dataset.summary()
    assert_same_summary(summarize(dataset, seed=0), engine)


def test_the_sparse_confusion_bootstrap_equals_memory(tmp_path, monkeypatch):
    """Beyond DENSE_CELLS_MAX cells, both paths resample only the (truth, prediction) pairs that occur."""
    monkeypatch.setattr(multiclass, "DENSE_CELLS_MAX", 20)
    df, changes = _awkward(4, with_prediction=True, numeric_labels=False)
    path = tmp_path / "m.parquet"
    df.to_parquet(path)
    dataset, _ = load(str(path), changes)
    assert_same_summary(summarize(dataset, seed=0), _engine_summary(path, changes))


def _both_counts(path, changes):
    """The ClassCounts of all rows (three classes), in memory and from DuckDB's tables."""
    dataset, _ = load(str(path), changes)
    memory = multiclass.class_counts(dataset.y, dataset.proba, None, 3, None, 1)
    eds = open_engine_dataset(str(path), "duckdb", changes, threshold=0.5)
    try:
        (tables,) = count_groupings(eds, global_keys(eds), [(None, 1)])
    finally:
        eds.close()
    return memory, class_counts_from_tables(tables, np.zeros(len(tables.n), dtype=np.int64), 1)


@pytest.mark.parametrize("counted", [True, False])
def test_the_loss_cells_hold_the_rows_they_hold_in_memory(tmp_path, monkeypatch, counted):
    """Exact counts per (true class, predicted class, top-2 hit, loss bin): the quantile edges of the loss are
    the memory path's even where probabilities tie, sit at the clipping, or are 0 and 1 — read from the
    probabilities counted per value, or (too many values) from the engine's exact quantile."""
    if not counted:
        monkeypatch.setattr(multiclass_tables, "DISTINCT_MAX", 0)
    rng = np.random.default_rng(7)
    n = 5000
    p = rng.dirichlet([0.3, 0.3, 0.3], n)
    p[: n // 3] = p[: n // 3].round(2)
    p[rng.choice(n, 400, replace=False)] = [0.0, 1.0, 0.0]
    p[rng.choice(n, 100, replace=False)] = [2e-16, 0.5, 0.5 - 2e-16]
    y = rng.choice(3, n)
    df = pd.DataFrame({"y": np.array(["a", "b", "c"])[y], "prob_a": p[:, 0], "prob_b": p[:, 1], "prob_c": p[:, 2]})
    df.to_parquet(tmp_path / "c.parquet")
    changes = {"label": "y", "class_scores": ("prob_a", "prob_b", "prob_c"), "task": "multiclass"}
    memory, engine = _both_counts(tmp_path / "c.parquet", changes)
    for name in ("tp", "support", "predicted", "pairs", "pair_counts", "top2"):
        assert np.array_equal(getattr(memory, name), getattr(engine, name)), name
    assert np.array_equal(memory.loss_cells[0], engine.loss_cells[0])
    assert len(np.unique(memory.loss_cells[0])) > 3  # the bins really split the rows
    for a, b in zip(memory.loss_cells[1:], engine.loss_cells[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_label_with_too_many_values_is_one_clear_line(tmp_path, capsys):
    pd.DataFrame({"y": np.arange(1500) % 1200, "pred": np.arange(1500) % 7}).to_parquet(tmp_path / "m.parquet")
    assert main(["summarize", str(tmp_path / "m.parquet"), "--label", "y", "--prediction", "pred", "--task",
                 "multiclass", "--engine", "duckdb"]) == 2
    err = capsys.readouterr().err
    assert "m.parquet: column `y` has more than 1,000 values" in err and "Traceback" not in err


def test_integer_labels_with_missing_values_and_probabilities_one_ulp_apart(tmp_path):
    """An integer label with blanks (pandas' NA from the engine) is a missing label, as in memory; true-class
    probabilities one ulp apart whose losses are equal share a loss bin, as in memory."""
    rng = np.random.default_rng(3)
    n = 64
    y = rng.integers(1, 4, n)
    close = np.nextafter(0.01, 1.0)
    p_true = np.where(np.arange(n) % 4 == 0, 0.01, np.where(np.arange(n) % 4 == 1, close, 0.6))
    rest = (1 - p_true) / 2
    frame = pd.DataFrame({f"prob_{k}": np.where(y == k, p_true, rest) for k in (1, 2, 3)})
    frame.insert(0, "y", pd.array(y, dtype="Int64"))
    frame.loc[[5, 9], "y"] = pd.NA
    frame.to_parquet(tmp_path / "m.parquet")
    changes = {"label": "y", "class_scores": ("prob_1", "prob_2", "prob_3"), "task": "multiclass"}
    dataset, _ = load(str(tmp_path / "m.parquet"), changes)
    engine = _engine_summary(tmp_path / "m.parquet", changes)
    assert engine["rows"]["excluded"] == {"label is missing": 2} == dataset.summary()["excluded"]
    memory, engine = _both_counts(tmp_path / "m.parquet", changes)
    assert np.array_equal(memory.loss_cells[0], engine.loss_cells[0])
