"""Business impact on DuckDB: the memory path's analysis from an engine's units, on samples and awkward files."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli.main import main
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.errors import InputError
from mlimpact.impact import CostModel, analyze_impact
from mlimpact.impact.bootstrap import make_cells, make_cells_of_units, quantiles_of_counts
from mlimpact.impact.engine_impact import _same_rate_of_counts, analyze_impact_engine, engine_one_vs_rest
from mlimpact.impact.points import _same_rate_threshold
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path


def _flat(d, prefix=""):
    if isinstance(d, dict):
        return {k2: v2 for k, v in d.items() for k2, v2 in _flat(v, f"{prefix}/{k}").items()}
    if isinstance(d, list):
        return {k2: v2 for i, v in enumerate(d) for k2, v2 in _flat(v, f"{prefix}[{i}]").items()}
    return {prefix: d}


def assert_same_impact(memory: dict, engine: dict) -> None:
    """Equal but for the file's name; sums in another order differ in the last bits, and a cell's spread of money
    comes from sums of products (in memory: from the rows), so intervals agree to about 1e-9."""
    a, b = _flat(memory), _flat(engine)
    assert a.keys() == b.keys()
    for k, x in a.items():
        if k.startswith("/assumptions[0]"):
            continue
        y = b[k]
        if isinstance(x, float) and isinstance(y, float):
            assert math.isclose(x, y, rel_tol=1e-7, abs_tol=1e-6), (k, x, y)
        else:
            assert x == y, (k, x, y)


def both(path, costs: CostModel, changes=None, **options):
    ds, _ = load(str(path), changes or {})
    segment = next(iter(ds.roles.segments), None)
    memory = analyze_impact(ds, costs, segment=segment, time_budget_s=None, **options).to_json()
    eds = open_engine_dataset(str(path), "duckdb", changes or {}, threshold=options.get("threshold", 0.5))
    try:
        engine = analyze_impact_engine(eds, costs, segment=segment, **options).to_json()
    finally:
        eds.close()
    return memory, engine


@pytest.mark.parametrize(("name", "costs", "options"), [
    ("fraud", CostModel(cost_fn="amount", cost_fp=5), {}),  # money per row, another model, a segment
    ("fraud", CostModel(cost_fn="amount", cost_fp=5, cost_review=2), {"lanes": (0.2, 0.6), "scale": "month"}),
    ("fraud", CostModel(value_tp="amount", cost_fp=3, value_tn=0.1), {"threshold": 0.3}),
    ("ads", CostModel(value_tp=2, cost_fp=0.05), {}),
    ("fraud", CostModel(value_tp="amount", cost_fn="amount", cost_fp=5), {}),  # two terms' risks tie exactly
])
def test_samples_give_the_memory_paths_impact(name, costs, options):
    memory, engine = both(sample_path(name), costs, **options)
    assert memory["other_baselines"] or name == "ads"
    assert_same_impact(memory, engine)


def test_awkward_file_missing_other_scores_and_ties(tmp_path):
    rng = np.random.default_rng(11)
    n = 30_000
    y = (rng.random(n) < 0.08).astype(int)
    score = np.round(np.clip(0.5 * y + rng.normal(0.25, 0.2, n), 0, 1), 2)  # many ties
    other = np.round(np.clip(0.3 * y + rng.normal(0.3, 0.25, n), 0, 1), 3)
    other[rng.random(n) < 0.05] = np.nan  # rows without the other model's score: not flagged, said in a note
    amount = np.round(rng.lognormal(4, 1.2, n), 2)
    amount[:50] = 0.0
    df = pd.DataFrame({"y": y, "s": score, "s2": other, "amount": amount,
                       "shop": rng.choice([f"shop_{i}" for i in range(30)], n),  # folded into the top 20 + Other
                       "day": pd.Timestamp("2026-02-01") + pd.to_timedelta(rng.integers(0, 59, n), unit="D")})
    df.to_parquet(tmp_path / "a.parquet")
    changes = {"label": "y", "score": "s", "other_scores": ("s2",), "segments": ("shop",), "time": "day"}
    memory, engine = both(tmp_path / "a.parquet", CostModel(cost_fn="amount", cost_fp=4, cost_review=1), changes,
                          lanes=(0.3, 0.6), scale="year")
    assert {"s2 (best threshold)", "s2 (same flag rate)"} <= set(memory["other_baselines"])
    assert len(memory["segments"]) == 21  # 20 shops and Other
    assert_same_impact(memory, engine)


def test_bad_money_columns_get_the_memory_paths_message(tmp_path):
    df = pd.read_csv(sample_path("fraud")).head(5_000)
    df.loc[:9, "amount"] = np.nan
    df.to_parquet(tmp_path / "f.parquet")
    costs = CostModel(cost_fn="amount", value_tp="amount", cost_fp="nope")  # amount twice: said twice
    ds, _ = load(str(tmp_path / "f.parquet"))
    with pytest.raises(InputError) as mem:
        analyze_impact(ds, costs)
    eds = open_engine_dataset(str(tmp_path / "f.parquet"), "duckdb", {}, threshold=0.5)
    try:
        with pytest.raises(InputError) as eng:
            analyze_impact_engine(eds, costs)
    finally:
        eds.close()
    assert str(eng.value) == str(mem.value) and str(eng.value).count("10 missing values") == 2


def test_cli_impact_on_a_folder_equals_memory_and_rules_fall_back(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    df = pd.read_csv(sample_path("fraud"))
    df.iloc[:40_000].to_parquet(folder / "part-0.parquet")
    df.iloc[40_000:].to_parquet(folder / "part-1.parquet")
    args = ["impact", str(folder), "--cost-fn", "amount", "--cost-fp", "5"]
    assert main([*args, "--engine", "memory"]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main([*args, "--engine", "duckdb"]) == 0
    out = capsys.readouterr()
    assert "duckdb: bootstrapping every policy" in out.err
    assert_same_impact(memory, json.loads(out.out))
    rule = ["--rule", "amount > 500"]  # a rule is one more decision bit of the units, written as SQL
    assert main([*args, *rule, "--engine", "memory"]) == 0
    with_rule = json.loads(capsys.readouterr().out)
    assert main([*args, *rule, "--engine", "duckdb"]) == 0
    out = capsys.readouterr()
    assert "computed in memory" not in out.err
    assert_same_impact(with_rule, json.loads(out.out))
    assert "rule" in with_rule["other_baselines"]


def test_unit_pieces_equal_their_row_versions():
    rng = np.random.default_rng(2)
    values = np.unique(np.round(rng.random(3_000), 3))
    counts = rng.integers(1, 40, len(values))
    rows = np.repeat(values, counts)
    probs = np.linspace(0, 1, 257)
    assert np.array_equal(quantiles_of_counts(values, counts, probs), np.quantile(rows, probs, method="inverted_cdf"))
    with_inf = np.r_[-np.inf, values]
    for k in (0, 1, 17, int(counts.sum()), int(counts.sum()) + 5):
        assert _same_rate_of_counts(with_inf, np.r_[3, counts], k) == _same_rate_threshold(np.r_[[-np.inf] * 3, rows], k)
    # cells from units of one row each are the row cells: same counts, means and (symmetric) roots
    n = 2_000
    group, pattern = rng.integers(0, 5, n), rng.integers(0, 2, n)
    x = np.column_stack([rng.normal(0, 10, n), rng.normal(5, 1, n)])
    a = make_cells(group, pattern, x, 5)
    b = make_cells_of_units(group, pattern, np.ones(n), x, x[:, :, None] * x[:, None, :], np.zeros(n, bool), 5)
    assert np.array_equal(a.count, b.count) and np.allclose(a.mean, b.mean)
    np.testing.assert_allclose(a.root, b.root, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("cls", "threshold"), [("billing", 0.5), ("returns", 0.2)])
def test_one_class_against_the_rest_equals_memory(cls, threshold):
    """The Impact page's multiclass view (one class against the rest, flagged on its probability) on DuckDB."""
    from mlimpact.impact import one_vs_rest  # the memory path's view, compared with the engine's

    path = sample_path("support")
    ds, _ = load(str(path), {})
    view = one_vs_rest(ds, cls)
    costs = CostModel(cost_fn=20, cost_fp=4, cost_review=1)
    segment = next(iter(ds.roles.segments), None)
    memory = analyze_impact(view, costs, threshold=threshold, segment=segment, time_budget_s=None).to_json()
    eds = open_engine_dataset(str(path), "duckdb", {}, threshold=0.5)
    try:
        engine = analyze_impact_engine(engine_one_vs_rest(eds, cls, threshold), costs, segment=segment).to_json()
        with pytest.raises(InputError, match="is not one of"):
            engine_one_vs_rest(eds, "nope")
    finally:
        eds.close()
    assert_same_impact(memory, engine)
    assert engine["summary"][0].startswith("Over ")
