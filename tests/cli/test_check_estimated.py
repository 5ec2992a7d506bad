"""``check`` with ``estimated = true``: the CBPE estimate of the weeks without labels, checked like a metric."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli.main import main

CHECKS = ('[columns]\nlabel = "is_fraud"\nscore = "fraud_score"\ntime = "timestamp"\n\n'
          '[[check]]\nmetric = "recall"\nestimated = true\nmin = {min}\nperiod = "W"\n\n'
          '[[check]]\nmetric = "recall"\nmin = 0.01\nperiod = "W"\n')


@pytest.fixture(scope="module")
def recent(tmp_path_factory):
    df = pd.read_csv("sample_data/fraud.csv")
    t = pd.to_datetime(df["timestamp"])
    df.loc[t > t.max() - pd.Timedelta(days=21), "is_fraud"] = np.nan
    path = tmp_path_factory.mktemp("est") / "fraud_recent.csv"
    df.to_csv(path, index=False)
    return path


def _run(data, tmp_path, minimum, *extra):
    config = tmp_path / "checks.toml"
    config.write_text(CHECKS.format(min=minimum))
    return main(["check", str(data), "--config", str(config), *extra])


def test_estimated_buckets_are_checked_and_marked(recent, tmp_path, capsys):
    assert _run(recent, tmp_path, 0.99, "--format", "json") == 1
    doc = json.loads(capsys.readouterr().out)
    estimated = [r for r in doc["results"] if r["estimated"]]
    assert {r["bucket"] for r in estimated} >= {"2026-W25", "2026-W26"}  # the weeks without labels
    assert all(r["status"] == "violation" for r in estimated if r["high"] < 0.99)
    assert all(v["estimated"] and v["message"].startswith("estimated recall 2026-W") for v in doc["violations"])
    assert [c for c in doc.get("causes", [])] == []  # estimated values have no labelled slices to compare
    labelled = [r for r in doc["results"] if not r["estimated"]]
    assert labelled and all(r["status"] in ("ok", "too_small") for r in labelled)


def test_estimated_in_range_passes(recent, tmp_path, capsys):
    assert _run(recent, tmp_path, 0.05) == 0
    assert "checks in range" in capsys.readouterr().err


def test_estimated_needs_rows_without_a_label(tmp_path, capsys):
    assert _run("sample_data/fraud.csv", tmp_path, 0.5) == 2
    err = capsys.readouterr().err
    assert "line 6" in err and "label" in err and "Traceback" not in err
