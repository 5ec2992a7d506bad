"""Weak slices on DuckDB: the memory path's slices, from counted cells, on the samples and on awkward files."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import mlimpact.slices.engine_weak as engine_weak
from mlimpact.cli.main import main
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.errors import InputError
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.slices import search_weak_slices
from mlimpact.slices.encoding import _encode_categorical, _encode_numeric, numeric_bins, top_values
from mlimpact.slices.engine_weak import engine_slice_columns, search_weak_slices_engine
from mlimpact.slices.search import slice_columns


def assert_same_slices(memory: dict, engine: dict, *, exact: bool) -> None:
    """Equal documents; continuous errors may differ in the last bits (the order of the sums)."""
    if exact:
        assert memory == engine
        return
    assert memory.keys() == engine.keys()
    assert [s["description"] for s in memory["slices"]] == [s["description"] for s in engine["slices"]]
    assert memory["n_evaluated"] == engine["n_evaluated"]
    for a, b in zip(memory["slices"], engine["slices"], strict=True):
        assert a["n"] == b["n"] and a["significant"] == b["significant"]
        for k in ("error_rate", "score", "low", "high", "q_value"):
            assert math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12), (k, a[k], b[k])


def both(path, changes=None, **options):
    ds, _ = load(str(path), changes or {})
    eds = open_engine_dataset(str(path), "duckdb", changes or {}, threshold=0.5)
    try:
        assert engine_slice_columns(eds) == (slice_columns(ds), [])
        engine = search_weak_slices_engine(eds, **options).to_json()
    finally:
        eds.close()
    return search_weak_slices(ds, **options).to_json(), engine


@pytest.mark.parametrize(("name", "options", "exact"), [
    ("fraud", {}, True),
    ("fraud", {"scoring": "sliceline"}, True),
    ("fraud", {"kind": "false_negative", "max_level": 2}, True),
    ("fraud", {"kind": "log_loss"}, False),
    ("ads", {}, True),
    ("delivery", {}, False),
    ("delivery", {"scoring": "sliceline", "k": 5}, False),
])
def test_samples_give_the_memory_paths_slices(name, options, exact):
    memory, engine = both(sample_path(name), **options)
    assert memory["slices"], "a sample without weak slices tests nothing"
    assert_same_slices(memory, engine, exact=exact)


def _awkward(n: int = 30_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shop = np.array([f"s{i:03d}" for i in range(120)])[rng.integers(0, 120, n)]  # > 50 values: folded
    shop[:400] = "s_tie_a"  # two values tied in count near the cut: the natural order breaks the tie
    shop[400:800] = "s_tie_b"
    shop[800:1400] = "s007"
    region = rng.choice(["north", "south", "west", None], n, p=[0.4, 0.3, 0.25, 0.05])
    amount = np.round(rng.lognormal(3, 1, n), 1)
    amount[rng.random(n) < 0.3] = 0.0  # a heavy value: a bin of its own
    amount[rng.random(n) < 0.02] = np.nan
    items = rng.integers(1, 4, n).astype(float)  # few values: one bin per value
    flag = rng.random(n) < 0.2
    bad = ((region == "west") & (amount > 40)) | (shop == "s007")
    y = (rng.random(n) < np.where(bad, 0.5, 0.12)).astype(int)
    score = np.round(np.where(bad, rng.random(n), 0.45 * y + rng.random(n) * 0.55), 3)  # blind in the bad slices
    return pd.DataFrame({"label": y, "score": score, "shop": shop, "region": region, "amount": amount,
                         "items": items, "express": flag})


@pytest.mark.parametrize("scoring", ["balanced", "sliceline"])
def test_awkward_parquet_gives_the_memory_paths_slices(tmp_path, scoring):
    path = tmp_path / "awkward.parquet"
    _awkward().to_parquet(path)
    changes = {"label": "label", "score": "score", "segments": ("shop", "region")}
    memory, engine = both(path, changes, scoring=scoring, min_support=100)
    assert memory["slices"]
    assert_same_slices(memory, engine, exact=True)
    shops = {s["predicates"].get("shop") for s in memory["slices"]} - {None}
    assert shops, "the folded column takes part"


def test_regression_with_missing_values_gives_the_memory_paths_slices(tmp_path):
    df = _awkward()
    df["label"] = df["amount"].fillna(10) * 0.5 + np.where(df["region"] == "west", 8.0, 0.0)
    df["pred"] = df["amount"].fillna(10) * 0.5
    path = tmp_path / "reg.parquet"
    df.drop(columns=["score"]).to_parquet(path)
    changes = {"label": "label", "prediction": "pred", "task": "regression", "segments": ("region",)}
    memory, engine = both(path, changes)
    assert memory["slices"][0]["predicates"].get("region") == "west"
    assert_same_slices(memory, engine, exact=False)


def test_the_overlap_filter_gives_the_same_slices_one_scan_per_slice(monkeypatch):
    monkeypatch.setattr(engine_weak, "_BATCH", 1)
    memory, engine = both(sample_path("fraud"))
    assert_same_slices(memory, engine, exact=True)


def test_encoding_from_counts_is_the_row_encoding():
    rng = np.random.default_rng(0)
    x = np.round(rng.exponential(5, 5_000), 1)
    x[rng.random(5_000) < 0.4] = 2.0
    codes, labels, _ = _encode_numeric(x, 5)
    uniq, counts = np.unique(x, return_counts=True)
    bin_of, labels_c, _ = numeric_bins(uniq, counts, 5)
    assert labels == labels_c and "2" in labels
    assert (bin_of[np.searchsorted(uniq, x)] == codes).all()
    # ties at the cut: the natural order decides, not which value came first in the file
    s = pd.Series(["b", "c", "a", "c", "b", "a", "d"])
    assert _encode_categorical(s, 2)[1] == ["a", "b", "Other"]
    assert top_values(np.array(["c", "b", "a"]), np.array([2, 2, 2]), 2).tolist() == [2, 1]


def test_cli_slices_on_a_folder_equal_memory(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    df = pd.read_csv(sample_path("fraud"))
    df.iloc[:50_000].to_parquet(folder / "part-0.parquet")
    df.iloc[50_000:].to_parquet(folder / "part-1.parquet")
    args = ["slices", str(folder), "--label", "is_fraud", "--score", "fraud_score"]
    assert main([*args, "--engine", "duckdb"]) == 0
    out = capsys.readouterr()
    assert "counting every slice of up to 3 columns on duckdb" in out.err
    assert main([*args, "--engine", "memory"]) == 0
    assert json.loads(out.out) == json.loads(capsys.readouterr().out)


def test_bad_requests_on_the_engine_get_one_line(tmp_path, capsys):
    path = tmp_path / "ids.parquet"
    df = _awkward(2_000)
    df["score"] = np.linspace(0.01, 0.99, len(df))
    df.to_parquet(path)
    eds = open_engine_dataset(str(path), "duckdb", {"label": "label", "score": "score"}, threshold=0.5)
    try:
        with pytest.raises(InputError, match="absolute_error.*regression"):
            search_weak_slices_engine(eds, kind="absolute_error")
        with pytest.raises(InputError, match="not in"):
            search_weak_slices_engine(eds, columns=["nope"])
        monkey = engine_weak.MAX_NUMERIC_VALUES
        engine_weak.MAX_NUMERIC_VALUES = 10
        try:
            with pytest.raises(InputError, match="column `amount`: more than 10 distinct values"):
                search_weak_slices_engine(eds, columns=["amount"])
            found = search_weak_slices_engine(eds)  # chosen by the search: left out, and said
            assert "amount" not in found.settings["columns"] and "items" in found.settings["columns"]
            assert found.settings["left_out"] == ["column `amount`: more than 10 distinct values, not sliced (round "
                                                  "it to slice by it)"]
        finally:
            engine_weak.MAX_NUMERIC_VALUES = monkey
    finally:
        eds.close()
    assert main(["slices", str(path), "--engine", "duckdb", "--slice", 'regio == "west"']) == 2  # a named slice: SQL
    err = capsys.readouterr().err
    assert "unknown column `regio`" in err and "Traceback" not in err


def test_many_columns_bring_back_only_supported_slices(tmp_path):
    """Ten columns of 40 values: the engine returns the slices with enough rows, not every cell of every combination."""
    rng = np.random.default_rng(8)
    n = 40_000
    df = pd.DataFrame({f"c{i}": rng.choice([f"v{j:02d}" for j in range(40)], n) for i in range(10)})
    bad = (df["c0"] == "v01") & (df["c1"] == "v02")
    df["y"] = (rng.random(n) < np.where(bad, 0.6, 0.1)).astype(int)
    df["s"] = np.round(rng.random(n), 3)
    df.to_parquet(tmp_path / "wide.parquet")
    changes = {"label": "y", "score": "s", "segments": tuple(f"c{i}" for i in range(10))}
    eds = open_engine_dataset(str(tmp_path / "wide.parquet"), "duckdb", changes, threshold=0.5)
    sizes = []
    query = eds.backend.query
    eds.backend.query = lambda sql: sizes.append(len(out := query(sql))) or out
    try:
        engine = search_weak_slices_engine(eds, min_support=50).to_json()
    finally:
        eds.close()
    ds, _ = load(str(tmp_path / "wide.parquet"), changes)
    assert search_weak_slices(ds, min_support=50).to_json() == engine
    assert max(sizes) < 10_000  # the memory path's 3.6M cells stay on the engine


def test_dates_big_integers_and_csv_missing_markers_agree(tmp_path):
    rng = np.random.default_rng(4)
    n = 6_000
    df = pd.DataFrame({"y": (rng.random(n) < 0.2).astype(int), "s": np.round(rng.random(n), 2),
                       "day": pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 20, n), unit="D"),
                       "big": 2**53 + rng.integers(0, 8, n) * 2**40,  # integers beyond a double's 53 bits
                       "kind": rng.choice(["a", "b", "NA", "null"], n)})
    df.to_parquet(tmp_path / "p.parquet")
    df.to_csv(tmp_path / "c.csv", index=False)
    changes = {"label": "y", "score": "s"}
    for name in ("p.parquet", "c.csv"):
        memory, engine = both(tmp_path / name, changes, min_support=30)
        assert_same_slices(memory, engine, exact=True)
    ds, _ = load(str(tmp_path / "c.csv"), changes)
    assert "day" not in slice_columns(ds) and "big" in slice_columns(ds)  # dates are not slices, in both paths
    eds = open_engine_dataset(str(tmp_path / "c.csv"), "duckdb", changes, threshold=0.5)
    try:
        with pytest.raises(InputError, match="only once"):
            search_weak_slices_engine(eds, columns=["kind", "kind"])
    finally:
        eds.close()
