"""The Spark engine (pyspark, ``local[2]``, Java from Debian) gives the memory path's summary."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import mlimpact.metrics.binary_bootstrap as binary_bootstrap
from mlimpact.cli.main import main
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.report.summarize import summarize
from tests.engine.test_engines import assert_same_summary

if shutil.which("java") is None:  # the README's test command installs it; say so instead of skipping silently
    pytest.fail("Java is missing: the README's test command installs openjdk-17-jre-headless", pytrace=False)


@pytest.fixture(autouse=True)
def full_bootstrap(monkeypatch):
    real = binary_bootstrap.run_bootstrap
    monkeypatch.setattr(binary_bootstrap, "run_bootstrap",
                        lambda replicate, *, n_boot, seed, time_budget_s, chunk: real(
                            replicate, n_boot=n_boot, seed=seed, time_budget_s=None, chunk=chunk))


def test_spark_local_gives_the_memory_paths_summary(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    df = pd.read_csv(sample_path("fraud"))
    df.iloc[:40_000].to_parquet(folder / "part-0.parquet")
    df.iloc[40_000:].to_parquet(folder / "part-1.parquet")
    args = ["summarize", str(folder), "--label", "is_fraud", "--score", "fraud_score", "--segment", "region",
            "--segment", "channel"]
    assert main([*args, "--engine", "spark"]) == 0
    spark = json.loads(capsys.readouterr().out)
    assert spark["source"]["engine"] == "spark"
    dataset, _ = load(sample_path("fraud"), {"label": "is_fraud", "score": "fraud_score",
                                             "segments": ("region", "channel")})
    assert_same_summary(summarize(dataset, seed=0), spark)


def test_spark_bad_source_is_one_line(tmp_path, capsys):
    (tmp_path / "x.parquet").write_bytes(b"PAR1 broken")
    assert main(["summarize", str(tmp_path / "x.parquet"), "--engine", "spark", "--label", "y", "--score", "p"]) == 2
    err = capsys.readouterr().err
    assert "x.parquet: not a readable Parquet file" in err and "Traceback" not in err


def test_spark_check_prints_the_memory_paths_results(tmp_path, capsys):
    pd.read_csv(sample_path("ads")).to_parquet(tmp_path / "ads.parquet")
    config = "tests/golden/checks_ads_ctr.toml"
    assert main(["check", str(tmp_path / "ads.parquet"), "--config", config, "--format", "json"]) == 1
    memory = json.loads(capsys.readouterr().out)
    assert memory.pop("causes")  # why it alerted: split by slices, from the rows (memory only)
    assert main(["check", str(tmp_path / "ads.parquet"), "--config", config, "--format", "json",
                 "--engine", "spark"]) == 1
    assert json.loads(capsys.readouterr().out) == memory


def test_spark_multiclass_gives_the_memory_paths_summary(tmp_path, capsys, monkeypatch):
    import mlimpact.metrics.multiclass as multiclass  # noqa: I001 - the multiclass bootstrap, without a time budget

    real = multiclass.run_bootstrap
    monkeypatch.setattr(multiclass, "run_bootstrap", lambda replicate, *, n_boot, seed, time_budget_s, chunk: real(
        replicate, n_boot=n_boot, seed=seed, time_budget_s=None, chunk=chunk))
    pd.read_csv(sample_path("support")).to_parquet(tmp_path / "t.parquet")
    assert main(["summarize", str(tmp_path / "t.parquet"), "--engine", "spark"]) == 0
    spark = json.loads(capsys.readouterr().out)
    dataset, _ = load(sample_path("support"))
    assert_same_summary(summarize(dataset, seed=0), spark)


def test_spark_regression_gives_the_memory_paths_summary(tmp_path, capsys):
    pd.read_csv(sample_path("delivery")).to_parquet(tmp_path / "d.parquet")
    assert main(["summarize", str(tmp_path / "d.parquet"), "--engine", "spark"]) == 0
    spark = json.loads(capsys.readouterr().out)
    dataset, _ = load(sample_path("delivery"))
    assert_same_summary(summarize(dataset, seed=0), spark)


def test_spark_slices_equal_memory(tmp_path, capsys):
    """The weak slices counted on Spark (level-3 cells, overlap batches) are the memory path's, to the bit."""
    pd.read_csv(sample_path("fraud")).to_parquet(tmp_path / "fraud.parquet")
    args = ["slices", str(tmp_path / "fraud.parquet"), "--label", "is_fraud", "--score", "fraud_score"]
    assert main([*args, "--engine", "memory"]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main([*args, "--engine", "spark"]) == 0
    spark = json.loads(capsys.readouterr().out)
    assert memory["slices"] and spark == memory


def test_spark_impact_equals_memory(tmp_path, capsys):
    """Impact from Spark's units (another model, a segment, money per row) is the memory path's."""
    from tests.engine.test_engine_impact import assert_same_impact  # noqa: I001 - one comparison rule

    pd.read_csv(sample_path("fraud")).to_parquet(tmp_path / "fraud.parquet")
    args = ["impact", str(tmp_path / "fraud.parquet"), "--cost-fn", "amount", "--cost-fp", "5", "--lanes", "0.2", "0.6"]
    assert main([*args, "--engine", "memory"]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main([*args, "--engine", "spark"]) == 0
    out = capsys.readouterr()
    assert "spark: bootstrapping every policy" in out.err
    assert_same_impact(memory, json.loads(out.out))


def test_spark_compare_gives_the_memory_paths_comparison(tmp_path, monkeypatch):
    """Also DeLong from each model's uploaded placements (the path beyond the budget of returned rows)."""
    import mlimpact.compare.engine_paired as engine_paired  # noqa: I001 - compare is loaded on use
    from mlimpact.compare import compare_models
    from mlimpact.compare.engine_compare import compare_models_engine
    from mlimpact.engine.dataset import open_engine_dataset
    from tests.engine.test_engine_compare import assert_same_comparison

    pd.read_csv(sample_path("fraud")).to_parquet(tmp_path / "f.parquet")
    dataset, _ = load(str(tmp_path / "f.parquet"))
    monkeypatch.setattr(engine_paired, "RUNS_BUDGET", 10_000)
    eds = open_engine_dataset(str(tmp_path / "f.parquet"), "spark", {}, threshold=0.5)
    try:
        spark = compare_models_engine(eds, segment="channel", time_budget_s=None)
    finally:
        eds.close()
    assert_same_comparison(compare_models(dataset, segment="channel", time_budget_s=None), spark)


def test_spark_multiclass_and_regression_comparisons_and_lanes_equal_memory(tmp_path):
    """Compare of a multiclass source (against the most common class), its lanes by margin, and Compare of a
    regression (against the mean of the truth), on Spark."""
    from mlimpact.compare import compare_models  # noqa: I001 - compare and difficulty are loaded on use
    from mlimpact.compare.engine_compare import compare_models_engine
    from mlimpact.difficulty import lane_curve
    from mlimpact.difficulty.engine_lanes import engine_lane_curve
    from mlimpact.engine.dataset import open_engine_dataset
    from tests.engine.test_engine_compare import assert_same_comparison

    pd.read_csv(sample_path("support")).to_parquet(tmp_path / "t.parquet")
    dataset, _ = load(str(tmp_path / "t.parquet"))
    eds = open_engine_dataset(str(tmp_path / "t.parquet"), "spark", {}, threshold=0.5)
    try:
        spark = compare_models_engine(eds, segment="channel", time_budget_s=None)
        curve = engine_lane_curve(eds, "margin")
    finally:
        eds.close()
    assert_same_comparison(compare_models(dataset, segment="channel", time_budget_s=None), spark)
    memory = lane_curve(dataset, mode="margin")
    assert np.array_equal(memory.values, curve.values) and np.array_equal(memory.cum_bad, curve.cum_bad)
    np.testing.assert_allclose(memory.cum_expected, curve.cum_expected, rtol=1e-12)
    pd.read_csv(sample_path("delivery")).to_parquet(tmp_path / "d.parquet")  # and a regression's models
    dataset, _ = load(str(tmp_path / "d.parquet"))
    eds = open_engine_dataset(str(tmp_path / "d.parquet"), "spark", {}, threshold=0.5)
    try:
        spark = compare_models_engine(eds, segment="city", time_budget_s=None)
    finally:
        eds.close()
    assert_same_comparison(compare_models(dataset, segment="city", time_budget_s=None), spark)
    changes = {"uncertainty": "prediction_std"}  # and the regression's lanes by its uncertainty column
    dataset, _ = load(str(tmp_path / "d.parquet"), changes)
    eds = open_engine_dataset(str(tmp_path / "d.parquet"), "spark", changes, threshold=0.5)
    try:
        curve = engine_lane_curve(eds, "uncertainty")
    finally:
        eds.close()
    memory = lane_curve(dataset, mode="uncertainty")
    assert np.array_equal(memory.values, curve.values) and np.array_equal(memory.cum_bad, curve.cum_bad)


def test_spark_reads_a_csv_with_the_memory_paths_missing_markers(tmp_path, capsys):
    """"NA", "null", "n/a" and empty cells are missing on Spark as in memory: a score column with them (and one
    stray word) stays a number (rows left out by reason), a text segment keeps its missing values, a backtick in a
    column name is quoted; the same summary."""
    df = pd.read_csv(sample_path("fraud"))
    rng = np.random.default_rng(1)
    text = df.astype({"fraud_score": object, "region": object, "is_fraud": object})
    text.loc[rng.choice(len(df), 300, replace=False), "fraud_score"] = "NA"
    text.loc[rng.choice(len(df), 200, replace=False), "region"] = "null"
    text.loc[rng.choice(len(df), 100, replace=False), "is_fraud"] = "n/a"
    text.loc[7, "fraud_score"] = "oops"  # not a marker: mostly numbers, so missing (memory's 90% rule)
    text = text.rename(columns={"device": "dev`ice"})  # a backtick in a name
    text.to_csv(tmp_path / "f.csv", index=False)
    args = ["summarize", str(tmp_path / "f.csv"), "--label", "is_fraud", "--score", "fraud_score", "--segment",
            "region", "--segment", "dev`ice"]
    assert main([*args, "--engine", "spark"]) == 0
    spark = json.loads(capsys.readouterr().out)
    assert main([*args, "--engine", "memory"]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert spark["rows"] == memory["rows"] and memory["rows"]["excluded"]["score is missing"] > 250
    assert_same_summary(memory, spark)
