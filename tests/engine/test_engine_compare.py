"""Compare on DuckDB (and Spark) gives the memory path's Comparison: each model's metrics overall, per segment
and per period, the paired differences (bootstrap and DeLong) with their winners, and robustness — on the
samples, with a baseline, and on awkward files (another model with missing scores, a copy of a column, scores
that are not probabilities, missing times); DeLong from score bins stays close and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlimpact.compare.engine_compare as engine_compare
import mlimpact.compare.engine_paired as engine_paired
import mlimpact.engine.tables as engine_tables
from mlimpact.compare import compare_models
from mlimpact.compare.engine_compare import compare_models_engine
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.impact import CostModel
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path

TABLES = ("overall", "segments", "differences", "robustness", "over_time")


def assert_same_frame(a: pd.DataFrame | None, b: pd.DataFrame | None, name: str) -> None:
    assert (a is None) == (b is None), name
    if a is None:
        return
    assert list(a.columns) == list(b.columns) and a.shape == b.shape, name
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind in "fi" and y.dtype.kind in "fi":
            np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=1e-12, err_msg=f"{name}.{c}")
        else:
            assert [None if pd.isna(u) else u for u in x] == [None if pd.isna(v) else v for v in y], f"{name}.{c}"


def both(path, changes=None, **options):
    ds, _ = load(str(path), changes or {})
    memory = compare_models(ds, time_budget_s=None, **options)
    eds = open_engine_dataset(str(path), "duckdb", changes or {}, threshold=options.get("threshold", 0.5))
    try:
        engine = compare_models_engine(eds, time_budget_s=None, **{k: v for k, v in options.items() if k != "threshold"})
    finally:
        eds.close()
    return memory, engine


def assert_same_comparison(memory, engine) -> None:
    for name in TABLES:
        assert_same_frame(getattr(memory, name), getattr(engine, name), name)
    for field in ("models", "reference", "metrics", "threshold", "segment", "n_rows", "n_boot", "notes", "period"):
        assert getattr(memory, field) == getattr(engine, field), field
    assert_same_frame(memory.value, engine.value, "value")
    if memory.value is not None:
        assert memory.value.attrs == engine.value.attrs


@pytest.mark.parametrize(("sample", "segment"), [("fraud", "region"), ("fraud", None), ("ads", "placement")])
def test_samples_give_the_memory_paths_comparison(tmp_path, sample, segment):
    path = tmp_path / "s.parquet"
    pd.read_csv(sample_path(sample)).to_parquet(path)
    memory, engine = both(path, segment=segment)
    assert_same_comparison(memory, engine)
    if sample == "ads":
        assert engine.models[1].startswith("baseline") and engine.notes  # one model: the constant-score stand-in
    else:
        assert set(engine.differences["method"]) == {"DeLong", "paired bootstrap"}
        assert engine.wins().shape[0] == (1 if segment is None else 6)  # every region, then all rows


def _awkward(seed: int, n: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.15
    a = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1).round(2)
    b = np.clip(0.25 * y + rng.random(n) * 0.75, 0, 1).round(3)
    df = pd.DataFrame({"y": y.astype(int), "a": a, "b": b, "a_copy": a, "raw": 4 * b - 1,
                       "region": rng.choice(["west", "east", None], n, p=[0.6, 0.35, 0.05]),
                       "t": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")})
    df.loc[rng.choice(n, 60, replace=False), "b"] = np.nan
    df.loc[rng.choice(n, 30, replace=False), "t"] = pd.NaT
    return df


@pytest.mark.parametrize(("models", "expect"), [
    (("b", "a_copy"), {"probabilities": True, "copy": True}),
    (("raw",), {"probabilities": False, "copy": False}),
])
def test_awkward_files_give_the_memory_paths_comparison(tmp_path, models, expect):
    path = tmp_path / "a.parquet"
    _awkward(3).to_parquet(path)
    changes = {"label": "y", "score": "a", "other_scores": models, "segments": ("region",), "time": "t"}
    memory, engine = both(path, changes, segment="region", threshold=0.4)
    assert_same_comparison(memory, engine)
    assert ("brier_score" in engine.metrics) is expect["probabilities"]
    assert any("is a copy of `a`" in note for note in engine.notes) is expect["copy"]
    if "b" in models:
        assert any(note.startswith("60 rows without a prediction from every model") for note in engine.notes)


@pytest.mark.parametrize("segment", ["region", None])
def test_delong_beyond_the_budget_joins_each_models_placements_exactly(tmp_path, monkeypatch, segment):
    """More (label, both scores) pairs than come back: each model's placements per score are uploaded and one
    scan sums their products; the table equals memory's."""
    pd.read_csv(sample_path("fraud")).to_parquet(tmp_path / "f.parquet")
    monkeypatch.setattr(engine_paired, "RUNS_BUDGET", 10_000)
    uploads = []
    real = engine_paired._delong_joined
    monkeypatch.setattr(engine_paired, "_delong_joined", lambda *a, **k: uploads.append(1) or real(*a, **k))
    memory, engine = both(tmp_path / "f.parquet", segment=segment, metrics=["roc_auc", "recall"])
    assert uploads and not any("bins" in note for note in engine.notes)
    assert_same_comparison(memory, engine)


def test_delong_from_score_bins_stays_close_and_says_so(tmp_path, monkeypatch):
    rng = np.random.default_rng(9)
    n = 20_000
    y = rng.random(n) < 0.2
    a = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * y)))  # every score distinct
    b = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y)))
    pd.DataFrame({"y": y.astype(int), "a": a, "b": b}).to_parquet(tmp_path / "c.parquet")
    monkeypatch.setattr(engine_paired, "RUNS_BUDGET", 15_000)  # fewer than the rows, and each model's runs
    monkeypatch.setattr(engine_tables, "RUNS_BUDGET", 15_000)  # binned too: DeLong from binned scores
    memory, engine = both(tmp_path / "c.parquet", {"label": "y", "score": "a", "other_scores": ("b",)},
                          metrics=["roc_auc", "recall"])
    assert any("equal-width bins of each score" in note for note in engine.notes)
    exact, binned = (c.differences.set_index("metric").loc["roc_auc"] for c in (memory, engine))
    assert binned["difference"] == pytest.approx(exact["difference"], abs=2e-3)
    assert binned["high"] - binned["low"] == pytest.approx(exact["high"] - exact["low"], rel=0.05)
    assert binned["winner"] == exact["winner"] == "b"


@pytest.mark.parametrize("segment", ["city", None])
def test_the_regression_sample_gives_the_memory_paths_comparison(tmp_path, segment):
    """One prediction column: the mean of the truth as the stand-in; per segment and per period."""
    pd.read_csv(sample_path("delivery")).to_parquet(tmp_path / "d.parquet")
    memory, engine = both(tmp_path / "d.parquet", segment=segment)
    assert_same_comparison(memory, engine)
    assert engine.task == "regression" and engine.models[1] == "baseline: mean of the truth"
    assert set(engine.differences["winner"]) >= {"predicted_minutes"}


def test_awkward_regression_models_give_the_memory_paths_comparison(tmp_path):
    """Large truth with little spread (the shifted sums keep the covariance's digits), another model with missing
    and infinite predictions (rows left out, said), a copy of a column, a copy with a missing value (not a copy,
    as numpy's array_equal sees it), ties at the quartiles."""
    rng = np.random.default_rng(11)
    n = 5000
    y = 1e6 + rng.integers(0, 40, n).astype(float)
    a = y + rng.integers(-5, 6, n)
    b = y + rng.normal(0, 4, n).round(1)
    df = pd.DataFrame({"y": y, "a": a, "b": b, "a_copy": a, "region": rng.choice(["n", "s", None], n),
                       "t": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")})
    df["b_gappy"] = df["b"]
    df.loc[rng.choice(n, 40, replace=False), "b"] = np.nan
    df.loc[rng.choice(n, 5, replace=False), "b"] = np.inf
    df.loc[7, "b_gappy"] = np.nan
    df.to_parquet(tmp_path / "r.parquet")
    changes = {"label": "y", "prediction": "a", "other_scores": ("b", "a_copy", "b_gappy"), "task": "regression",
               "segments": ("region",), "time": "t"}
    memory, engine = both(tmp_path / "r.parquet", changes, segment="region")
    assert_same_comparison(memory, engine)
    notes = " ".join(engine.notes)
    assert "rows without a prediction from every model" in notes and "`a_copy` is a copy of `a`" in notes
    assert "b_gappy" in engine.models


@pytest.mark.parametrize("seed", range(5))
def test_linear_quantiles_of_runs_are_numpys_bit_for_bit(seed):
    """The paired bootstrap's score bins from each model's runs: np.quantile without repeating the values."""
    from mlimpact.engine.tables import linear_quantiles  # noqa: I001 - beside numpy's own

    rng = np.random.default_rng(seed)
    for _ in range(200):
        x = rng.random(int(rng.integers(1, 2000))).round(int(rng.integers(1, 6))) * rng.choice([1, 1e-3, 7.3])
        values, counts = np.unique(x, return_counts=True)
        probs = np.linspace(0, 1, 21)[1:-1]
        assert np.array_equal(linear_quantiles(values, counts, probs), np.quantile(x, probs))


def test_infinite_scores_and_many_segment_values_on_the_engine(tmp_path, monkeypatch):
    """Another model's infinite scores are no prediction (both paths leave those rows out); a segment of 300 values
    folded to its top 20 is grouped by its code in SQL, so what comes back stays within the budget."""
    rng = np.random.default_rng(2)
    n = 6000
    y = rng.random(n) < 0.2
    a = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1).round(2)
    b = np.clip(0.2 * y + rng.random(n) * 0.8, 0, 1).round(2)
    b[:3] = [np.inf, -np.inf, np.inf]
    shops = np.char.zfill(rng.integers(0, 300, n).astype(str), 3)  # text of digits: "007" stays text in both paths
    pd.DataFrame({"y": y.astype(int), "a": a, "b": b, "shop": shops}).to_parquet(tmp_path / "s.parquet")
    monkeypatch.setattr(engine_tables, "RUNS_BUDGET", 2_000)  # a model's runs per shop would not fit: binned
    sizes = []
    real = engine_tables.binary_tables_many
    monkeypatch.setattr(engine_compare, "binary_tables_many",
                        lambda *a, **k: [sizes.append(len(t.n)) or t for t in real(*a, **k)])
    memory, engine = both(tmp_path / "s.parquet", {"label": "y", "score": "a", "other_scores": ("b",),
                                                   "segments": ("shop",)}, segment="shop", metrics=["recall", "f1"])
    assert_same_comparison(memory, engine)
    assert any(note.startswith("3 rows without a prediction") for note in engine.notes)
    assert max(sizes) <= 2 * 2_000 and len(engine.segments["shop"].unique()) == 21
    assert all(len(v) == 3 for v in set(engine.segments["shop"]) - {"Other"})  # "014", not 14.0 or a bin


@pytest.mark.parametrize("segment", ["channel", None])
def test_the_multiclass_sample_gives_the_memory_paths_comparison(tmp_path, segment):
    """One prediction column: the most common class as the stand-in; per segment and per period."""
    pd.read_csv(sample_path("support")).to_parquet(tmp_path / "t.parquet")
    memory, engine = both(tmp_path / "t.parquet", segment=segment)
    assert_same_comparison(memory, engine)
    assert engine.task == "multiclass" and engine.models[1] == "baseline: most common class"
    assert set(engine.differences["method"]) == {"paired bootstrap"} and engine.over_time is not None


@pytest.mark.parametrize(("seed", "with_prediction"), [(0, False), (1, True)])
def test_awkward_multiclass_models_give_the_memory_paths_comparison(tmp_path, seed, with_prediction):
    """Another model's predictions with values that are not classes (appended, said), missing predictions (rows
    left out, said), a copy of a column, labels read with spaces and numbers; without a prediction column the
    argmax of the probabilities is the first model."""
    from tests.engine.test_engine_multiclass import _awkward as awkward_multiclass  # the multiclass generator

    df, changes = awkward_multiclass(seed, with_prediction=with_prediction, numeric_labels=False)
    rng = np.random.default_rng(seed)
    other = np.asarray(["billing", "tech", "account", "other", "spam", " tech "], dtype=object)
    df["other_model"] = other[rng.choice(6, len(df), p=[0.3, 0.3, 0.2, 0.1, 0.05, 0.05])]
    df.loc[rng.choice(len(df), 50, replace=False), "other_model"] = None
    df["copy"] = df["other_model"]
    df["t"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 60, len(df)), unit="D")
    df.to_parquet(tmp_path / "m.parquet")
    changes = changes | {"other_scores": ("other_model", "copy"), "time": "t"}
    memory, engine = both(tmp_path / "m.parquet", changes, segment="region")
    assert_same_comparison(memory, engine)
    notes = " ".join(engine.notes)
    assert "predicts 1 value(s) that are not classes" in notes and "is a copy of `other_model`" in notes
    assert "rows without a prediction from every model" in notes
    assert engine.models[0] == ("predicted" if with_prediction else "argmax of the class probabilities")


@pytest.mark.parametrize(("sample", "costs", "scale"), [
    ("fraud", CostModel(cost_fn="amount", cost_fp=5), None),  # money per row: within-cell spread
    ("fraud", CostModel(cost_fn=50, cost_fp=5, value_tn=0.1), "month"),
    ("ads", CostModel(value_tp=2, cost_fp=0.05), None),  # one model: the constant-score stand-in's value too
])
def test_each_models_value_equals_memory(tmp_path, sample, costs, scale):
    """Compare's money table: every model at the threshold and at its own best one, paired against the first."""
    pd.read_csv(sample_path(sample)).to_parquet(tmp_path / "s.parquet")
    memory, engine = both(tmp_path / "s.parquet", costs=costs, scale=scale, metrics=["recall"])
    assert engine.value is not None and len(engine.value) == 2 * len(engine.models)
    assert_same_comparison(memory, engine)
