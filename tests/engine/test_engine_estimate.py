"""Performance estimated without labels (CBPE) on DuckDB: the memory path's calibration, table and problems;
``check --engine duckdb`` with ``estimated = true`` prints what memory prints."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli.main import main
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.errors import InputError
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.monitoring import MonitorSettings, time_buckets
from mlimpact.monitoring.engine_estimate import engine_estimated_over_time, engine_estimation_problem
from mlimpact.monitoring.estimate import ESTIMATED_METRICS, estimated_over_time, estimation_problem
from tests.engine.test_engines import assert_same_summary

METRICS = list(ESTIMATED_METRICS)


def _hidden_fraud(path, weeks: int = 4) -> None:
    """The fraud sample with its last ``weeks`` weeks' labels blanked, a few scores missing among them."""
    frame = pd.read_csv(sample_path("fraud"))
    b = time_buckets(pd.to_datetime(frame["timestamp"]), "W")
    frame["is_fraud"] = frame["is_fraud"].astype(float)
    late = b.codes > b.codes.max() - weeks
    frame.loc[late, "is_fraud"] = np.nan
    frame.loc[np.flatnonzero(late)[::97], "fraud_score"] = np.nan  # no score: not traffic at all
    frame.loc[np.flatnonzero(late)[5::101], "timestamp"] = None  # no time: left out of the weekly estimate
    frame.to_parquet(path)


def _both(path, changes, **options):
    ds, _ = load(str(path), changes)
    memory = estimated_over_time(ds, metrics=METRICS, **options)
    eds = open_engine_dataset(str(path), "duckdb", changes, threshold=0.5)
    try:
        engine = engine_estimated_over_time(eds, metrics=METRICS, **options)
    finally:
        eds.close()
    return memory, engine


@pytest.mark.parametrize(("period", "segment", "threshold"), [("W", None, 0.5), ("W", "region", 0.3),
                                                              (None, "channel", 0.5), ("D", None, 0.5)])
def test_the_estimate_equals_memory(tmp_path, period, segment, threshold):
    _hidden_fraud(tmp_path / "f.parquet")
    changes = {"label": "is_fraud", "score": "fraud_score", "time": "timestamp"}
    memory, engine = _both(tmp_path / "f.parquet", changes, period=period, segment=segment,
                           settings=MonitorSettings(threshold=threshold))
    assert list(memory.columns) == list(engine.columns) and len(memory) == len(engine) > 0
    for c in memory.columns:
        x, y = memory[c].to_numpy(), engine[c].to_numpy()
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y.astype(float), rtol=1e-9, atol=1e-12, err_msg=c)
        else:
            assert [None if pd.isna(u) else u for u in x] == [None if pd.isna(v) else v for v in y], c
    assert engine.attrs["left_out"] == memory.attrs["left_out"]
    if period is not None:
        assert engine.attrs["left_out"]["time is missing"] > 0


def test_the_reasons_not_to_estimate_are_memorys(tmp_path):
    pd.read_csv(sample_path("fraud")).to_parquet(tmp_path / "labelled.parquet")  # every row has a label
    early = pd.read_csv(sample_path("fraud"))
    early["is_fraud"] = early["is_fraud"].astype(float)
    early.loc[early["timestamp"] > "2026-01-02", "is_fraud"] = np.nan  # almost no reference
    early.to_parquet(tmp_path / "early.parquet")
    for name, options in (("labelled", {}), ("early", {}), ("early", {"reference_end": "2025-12-01"})):
        path = str(tmp_path / f"{name}.parquet")
        ds, _ = load(path, {})
        eds = open_engine_dataset(path, "duckdb", {}, threshold=0.5)
        try:
            said = engine_estimation_problem(eds, options.get("reference_end"))  # names the path as given
            assert said.replace(f"{tmp_path}/", "") == estimation_problem(ds, options.get("reference_end")) and said
            with pytest.raises(InputError, match="estimat|label"):
                engine_estimated_over_time(eds, metrics="recall", **options)
        finally:
            eds.close()


def test_check_with_estimated_ranges_prints_memorys_results(tmp_path, capsys):
    _hidden_fraud(tmp_path / "f.parquet")
    (tmp_path / "checks.toml").write_text(
        '[columns]\nlabel = "is_fraud"\nscore = "fraud_score"\ntime = "timestamp"\n\n'
        '[[check]]\nmetric = "recall"\nmin = 0.9\nperiod = "W"\nestimated = true\n\n'
        '[[check]]\nmetric = "precision"\nmin = 0.5\nperiod = "W"\nsegment = "region"\nestimated = true\n')
    out = {}
    for engine in ("memory", "duckdb"):
        code = main(["check", str(tmp_path / "f.parquet"), "--config", str(tmp_path / "checks.toml"),
                     "--engine", engine, "--format", "json"])
        out[engine] = (code, json.loads(capsys.readouterr().out))
    assert out["memory"][0] == out["duckdb"][0]
    memory, engine = out["memory"][1], out["duckdb"][1]
    assert len(engine["results"]) == len(memory["results"]) > 10 and all(r["estimated"] for r in engine["results"])
    assert out["duckdb"][0] == 1 and engine["violations"]  # a week's estimated recall below 0.9, clearly
    assert_same_summary(memory, engine)
