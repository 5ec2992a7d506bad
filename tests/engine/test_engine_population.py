"""Checks on the traffic (rows, missing_share, unlabelled_share, psi) on DuckDB and Spark give the memory path's
``check --format json``: on generated weekly traffic (a week without rows, missing values, the last weeks without
labels, rows without a score) and on the fraud sample as Parquet (one file and a folder of two)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli.main import main
from mlimpact.engine.tables import linear_quantiles
from mlimpact.io.samples import sample_path
from tests.engine.test_engines import assert_same_summary

COLUMNS = '[columns]\nlabel = "y"\nscore = "p"\ntime = "t"\n'
FRAUD_COLUMNS = '[columns]\nlabel = "is_fraud"\nscore = "fraud_score"\ntime = "timestamp"\n'


def _traffic(seed: int = 0, weeks: int = 12, per_week: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05")  # a Monday
    parts = []
    for w in range(weeks):
        if w == 5:
            continue  # a week without traffic
        span = 3 if w == weeks - 1 else 7  # the last week is still running
        t = start + pd.Timedelta(days=7 * w) + pd.to_timedelta(rng.integers(0, span * 86400, per_week), unit="s")
        p = np.clip(rng.beta(2, 5, per_week) + (0.2 if w >= weeks - 3 else 0.0), 0, 1).round(3)  # ties
        y = np.where(w >= weeks - 2, np.nan, (rng.random(per_week) < p).astype(float))  # not labelled yet
        regions = ["north", "south", "west"] + (["east"] if w >= weeks - 2 else [])  # east: unlabelled rows only
        parts.append(pd.DataFrame({
            "t": t, "y": y, "p": p, "region": rng.choice(regions, per_week),
            "device": rng.choice(["ios", "android", "web"], per_week), "amount": rng.gamma(2, 50, per_week).round(1),
            "merchant": rng.choice([f"m{i:02d}" for i in range(70)], per_week), "const": "x"}))
    df = pd.concat(parts, ignore_index=True)
    df.loc[rng.random(len(df)) < 0.1, "device"] = None
    df.loc[rng.choice(len(df), 60, replace=False), "p"] = np.nan  # no score: not traffic, labelled or not
    df.loc[rng.choice(len(df), 30, replace=False), "amount"] = np.nan
    return df


def _check(metric: str, limit: str, **keys) -> str:
    lines = [f'metric = "{metric}"', limit] + [f'{k} = "{v}"' for k, v in keys.items()]
    return "\n[[check]]\n" + "\n".join(lines) + "\n"


#: per traffic metric: by week, per segment, by day or month, and what each measures
CHECKS = {
    "rows": [_check("rows", "min = 300", period="W"), _check("rows", "min = 100", period="W", segment="region"),
             _check("rows", "max = 80", period="D"), _check("rows", "min = 10", segment="device")],
    "missing_share": [_check("missing_share", "max = 0.09", period="W", column="device"),
                      _check("missing_share", "max = 0.12", period="M", column="device", segment="region"),
                      _check("missing_share", "max = 0.001", period="W", column="amount")],
    "unlabelled_share": [_check("unlabelled_share", "max = 0.1", period="W"),
                         _check("unlabelled_share", "max = 0.1", period="M", segment="region")],
    "psi": [_check("psi", "max = 0.1", period="W"), _check("psi", "max = 0.1", period="W", segment="region"),
            _check("psi", "max = 0.05", period="W", column="amount"),
            _check("psi", "max = 0.05", period="M", column="device", segment="region"),
            _check("psi", "max = 0.05", period="W", column="merchant"), _check("psi", "max = 0.05", period="D",
                                                                                column="t")],
}


def _run(capsys, source, config, engine: str) -> tuple[int, dict]:
    code = main(["check", str(source), "--config", str(config), "--format", "json", "--engine", engine])
    out = json.loads(capsys.readouterr().out)
    out.pop("causes", None)  # why each incident fired: split by slices, from the rows (memory only)
    return code, out


def _same_on_duckdb(capsys, source, config, *others) -> dict:
    code, memory = _run(capsys, source, config, "memory")
    assert memory["results"] and code in (0, 1)
    for where in (source, *others):
        engine_code, engine = _run(capsys, where, config, "duckdb")
        assert engine_code == code
        assert_same_summary(memory, engine)
    return memory


@pytest.mark.parametrize("metric", list(CHECKS))
@pytest.mark.parametrize("settings", ["", '\n[settings]\nreference_end = "2026-02-08"\n'])
def test_generated_traffic_gives_the_memory_paths_checks(tmp_path, capsys, metric, settings):
    _traffic(seed=len(metric)).to_parquet(tmp_path / "traffic.parquet")
    config = tmp_path / "checks.toml"
    config.write_text(COLUMNS + settings + "".join(CHECKS[metric]))
    memory = _same_on_duckdb(capsys, tmp_path / "traffic.parquet", config)
    statuses = {r["status"] for r in memory["results"]}
    assert "violation" in statuses and ("too_small" in statuses) == (metric in ("rows", "psi"))
    if metric == "rows":  # the week without traffic is checked as 0 rows
        assert [r["value"] for r in memory["results"] if r["bucket"] == "2026-W07" and r["segment"] is None] == [0]
    if metric == "unlabelled_share":
        assert {r["segment"] for r in memory["results"]} == {None, "east", "north", "south", "west"}


def test_fraud_sample_as_parquet_and_a_folder_gives_the_memory_paths_checks(tmp_path, capsys):
    df = pd.read_csv(sample_path("fraud"))
    df.to_parquet(tmp_path / "fraud.parquet")
    folder = tmp_path / "logs"
    folder.mkdir()
    df.iloc[:30_000].to_parquet(folder / "part-0.parquet")
    df.iloc[30_000:].to_parquet(folder / "part-1.parquet")
    checks = [_check("rows", "min = 1500", period="W", segment="region"),
              _check("missing_share", "max = 0.001", period="W", column="device"),
              _check("unlabelled_share", "max = 0.01", period="M"), _check("psi", "max = 0.02", period="W"),
              _check("psi", "max = 0.02", period="W", column="amount", segment="channel"),
              _check("psi", "max = 0.02", period="M", column="transaction_id"),  # 80,000 values: 49 kept apart
              _check("psi", "max = 0.02", period="W", column="merchant_category"),
              _check("psi", "max = 0.02", period="D", column="timestamp")]
    config = tmp_path / "checks.toml"
    config.write_text(FRAUD_COLUMNS + "".join(checks))
    memory = _same_on_duckdb(capsys, tmp_path / "fraud.parquet", config, folder)
    assert memory["violations"] and {r["metric"] for r in memory["results"]} == {"rows", "missing_share",
                                                                                 "unlabelled_share", "psi"}


@pytest.mark.parametrize("check", [
    _check("psi", "max = 0.1", period="W", column="nope"),
    _check("missing_share", "max = 0.1", period="W", column="nope"),
    _check("psi", "max = 0.1", period="W", column="const"),
    _check("missing_share", "max = 0.1", period="W", column="y"),
    _check("psi", "max = 0.1"),
    '\n[settings]\nreference_end = "2025-06-01"\n' + _check("psi", "max = 0.1", period="W"),
])
def test_bad_traffic_checks_exit_2_with_the_memory_paths_message(tmp_path, capsys, monkeypatch, check):
    monkeypatch.chdir(tmp_path)  # the engines name a source as given, memory by its file name: give just that
    _traffic(weeks=6).to_parquet("traffic.parquet")
    Path("checks.toml").write_text(COLUMNS + check)
    errors = []
    for engine in ("memory", "duckdb"):
        assert main(["check", "traffic.parquet", "--config", "checks.toml", "--engine", engine]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        errors.append([line for line in err.splitlines() if not line.startswith("inferred ")])
    assert errors[0] == errors[1] and len(errors[0]) == 1


def test_linear_quantiles_are_numpys_to_the_bit():
    rng = np.random.default_rng(3)
    qs = np.linspace(0, 1, 11)
    for n in [*range(1, 40), 101, 1000, 1001, 99_999]:
        x = rng.random(n) * 10.0 ** rng.integers(-3, 7)
        x = x.round(rng.integers(0, 4)) if n % 3 == 0 else x  # ties
        values, counts = np.unique(x, return_counts=True)
        got = linear_quantiles(values, counts, qs)  # the engines' one rule (engine/tables), with 0 and 1 among qs
        assert np.array_equal(got, np.quantile(x, qs)), n


def test_spark_gives_the_memory_paths_traffic_checks(tmp_path, capsys):
    """One Spark call (starting Spark costs seconds): all four traffic metrics, per segment, reference_end set."""
    _traffic(seed=7).to_parquet(tmp_path / "traffic.parquet")
    config = tmp_path / "checks.toml"
    config.write_text(COLUMNS + '\n[settings]\nreference_end = "2026-02-08"\n' + "".join(
        [CHECKS["rows"][1], CHECKS["missing_share"][1], CHECKS["unlabelled_share"][0], CHECKS["psi"][1],
         CHECKS["psi"][2], CHECKS["psi"][4]]))
    code, memory = _run(capsys, tmp_path / "traffic.parquet", config, "memory")
    spark_code, spark = _run(capsys, tmp_path / "traffic.parquet", config, "spark")
    assert code == spark_code == 1
    assert_same_summary(memory, spark)
