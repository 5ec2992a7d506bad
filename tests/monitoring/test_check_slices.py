"""Checks on a slice: ``slice = "name"`` with [[slice]] tables in checks.toml, ``check --slice`` and ``--slices``;
the values are the slice's own (against scikit-learn), and a bad slice is one line naming its line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import recall_score

from mlimpact.cli.main import main

FRAUD = "sample_data/fraud.csv"
CHECKS = '''[columns]
label = "is_fraud"
score = "fraud_score"
time = "timestamp"

[[slice]]
name = "west online"
expression = 'region == "west" and channel == "online"'

[[check]]
metric = "recall"
min = 0.99
period = "M"
slice = "west online"

[[check]]
metric = "precision"
min = 0.1
period = "M"
'''


def _run(tmp_path, capsys, text=CHECKS, *extra):
    config = tmp_path / "checks.toml"
    config.write_text(text)
    code = main(["check", FRAUD, "--config", str(config), "--format", "json", *extra])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


def test_a_named_slice_checks_its_own_rows(tmp_path, capsys):
    code, doc, _ = _run(tmp_path, capsys)
    assert code == 1
    sliced = [r for r in doc["results"] if r["slice"] == "west online"]
    frame = pd.read_csv(FRAUD, parse_dates=["timestamp"])
    rows = frame[(frame["region"] == "west") & (frame["channel"] == "online")]
    month = rows["timestamp"].dt.strftime("%Y-%m")
    expected = {m: recall_score(g["is_fraud"], g["fraud_score"] >= 0.5) for m, g in rows.groupby(month)}
    assert {r["bucket"]: round(r["value"], 12) for r in sliced} == {m: round(v, 12) for m, v in expected.items()}
    assert all(v["message"].startswith("[west online] recall 2026-") for v in doc["violations"])
    assert all(r["slice"] is None for r in doc["results"] if r["metric"] == "precision")


def test_check_slice_follows_every_check_on_a_slice(tmp_path, capsys):
    code, doc, _ = _run(tmp_path, capsys, CHECKS, "--slice", "amount > 300")
    follows = {r["metric"] for r in doc["results"] if r["slice"] == "amount > 300"}
    assert follows == {"precision"}  # the checks without a slice of their own


def test_slices_file_names_a_checks_slice(tmp_path, capsys):
    names = tmp_path / "slices.toml"
    names.write_text('[[slice]]\nname = "big"\nexpression = "amount > 500"\n')
    text = CHECKS.replace('slice = "west online"', 'slice = "big"')
    code, doc, _ = _run(tmp_path, capsys, text, "--slices", str(names))
    assert {r["slice"] for r in doc["results"]} == {"big", None}


@pytest.mark.parametrize("text, extra, words", [
    (CHECKS.replace('slice = "west online"', 'slice = "chanel == 1"'), [], "line 10: slice 'chanel == 1': col 1: "
                                                                          "unknown column `chanel`"),
    (CHECKS.replace("expression = 'region", "expression = 'regio"), [], "line 10: slice 'west online': col 1: unknown column `regio`"),
    (CHECKS.replace('slice = "west online"', 'slice = "chanel == 1"'), ["--engine", "duckdb"],
     "line 10: slice 'chanel == 1': col 1: unknown column `chanel`"),  # on an engine: the same message
])
def test_bad_slices_exit_2_naming_the_line(tmp_path, capsys, text, extra, words):
    code, _, err = _run(tmp_path, capsys, text, *extra)
    assert code == 2 and words in err and "Traceback" not in err
