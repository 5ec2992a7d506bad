"""The CLI contract: JSON shape, role options, inferred roles on stderr, exit codes and one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"id": range(n), "y": y, "p": np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(4),
                          "region": rng.choice(["north", "south"], n), "channel": rng.choice(["web", "app"], n)})
    frame.loc[:9, "y"] = None
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    return path


def test_summarize_json_shape(small_csv, capsys):
    code = main(["summarize", str(small_csv), "--segment", "region", "--threshold", "0.4"])
    out, err = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert doc["task"] == "binary"
    assert doc["columns"] == {"label": "y", "score": "p", "prediction": None, "segments": ["region"], "time": None}
    assert doc["threshold"] == 0.4
    assert doc["rows"] == {"total": 600, "used": 590, "excluded": {"label is missing": 10}}
    recall = doc["overall"]["recall"]
    assert set(recall) >= {"value", "low", "high"} and recall["low"] <= recall["value"] <= recall["high"]
    assert [s["value"] for s in doc["segments"]] == sorted(s["value"] for s in doc["segments"]) or len(doc["segments"]) == 2
    seg = doc["segments"][0]
    assert seg["column"] == "region" and isinstance(seg["value"], str) and seg["n"] > 0
    assert set(seg["metrics"]["recall"]) >= {"value", "low", "high", "note"}
    assert "inferred label='y'" in err  # what was inferred goes to stderr, JSON stays clean


def test_summarize_numbers_match_scikit_learn(small_csv, capsys):
    from sklearn.metrics import recall_score, roc_auc_score

    main(["summarize", str(small_csv)])
    doc = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(small_csv).dropna(subset=["y"])
    assert doc["overall"]["recall"]["value"] == pytest.approx(recall_score(frame["y"], frame["p"] >= 0.5), abs=1e-12)
    assert doc["overall"]["roc_auc"]["value"] == pytest.approx(roc_auc_score(frame["y"], frame["p"]), abs=1e-12)
    north = frame[frame["region"] == "north"]
    seg = next(s for s in doc["segments"] if s["column"] == "region" and s["value"] == "north")
    assert seg["metrics"]["recall"]["value"] == pytest.approx(recall_score(north["y"], north["p"] >= 0.5), abs=1e-12)


def test_summarize_markdown_and_out(small_csv, tmp_path, capsys):
    out = tmp_path / "summary.md"
    assert main(["summarize", str(small_csv), "--format", "markdown", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Model report: preds.csv")
    assert "## Is it good? Headline metrics" in text and "**By region" in text and "## Provenance" in text


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    assert main(["summarize", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mlimpact: error: empty.csv: the file is empty; export the predictions with a header row and at "
                   "least one data row"]


def test_missing_file_and_unknown_column(small_csv, tmp_path, capsys):
    assert main(["summarize", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"mlimpact: error: {tmp_path / 'nope.csv'}: no such file; check the path"
    assert main(["summarize", str(small_csv), "--score", "prob"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("mlimpact: error: preds.csv: column `prob` is not in the file; its columns are 'id', 'y'")


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["summarize"])
    assert exc.value.code == 2


def test_every_command_documented_in_readme():
    readme = (ROOT / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"python -m mlimpact {name}" in readme, f"README does not show `python -m mlimpact {name}`"


def test_module_entry_point_runs(small_csv):
    proc = subprocess.run([sys.executable, "-m", "mlimpact", "summarize", str(small_csv), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"]["used"] == 590


def test_slices_json_contract_and_planted_slice(capsys):
    code = main(["slices", str(ROOT / "sample_data" / "fraud.csv"), "--format", "json", "--top", "5"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    first = doc["slices"][0]
    assert set(first) >= {"predicates", "n", "error_rate", "score"}
    assert first["predicates"] == {"device": "unknown"}
    scores = [s["score"] for s in doc["slices"]]
    assert scores == sorted(scores, reverse=True)
    assert doc["n_evaluated"] > len(doc["slices"])


def test_slices_sliceline_scoring_option(capsys):
    code = main(["slices", str(ROOT / "sample_data" / "support_tickets.csv"), "--scoring", "sliceline",
                 "--alpha", "0.9", "--max-level", "2", "--format", "json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scoring"] == "sliceline" and doc["slices"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "abc", ""])
@pytest.mark.parametrize("command", ["summarize", "slices", "impact"])
def test_unusable_threshold_exits_2_with_one_line(command, value, capsys):
    code = main([command, "sample_data/fraud.csv", f"--threshold={value}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"mlimpact: error: --threshold {value}: not a usable threshold; give a finite number such as 0.5 "
                   "(rows with score >= threshold are flagged)"]


def test_an_unexpected_error_exits_3_not_1(monkeypatch, capsys):
    """A crash is not a violation: cron and CI read exit 1 as 'a check is out of range'."""
    import importlib

    cli_main = importlib.import_module("mlimpact.cli.main")  # the module (mlimpact.cli.main is also the function)

    def boom(args):
        raise KeyError("surprise")

    monkeypatch.setitem(cli_main.COMMANDS, "summarize", boom)
    assert main(["summarize", "sample_data/fraud.csv"]) == 3
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mlimpact: internal error (KeyError: 'surprise'); this is a bug in mlimpact")


def test_notes_on_a_threshold_outside_the_scores_and_a_negative_cost(capsys):
    assert main(["impact", "sample_data/fraud.csv", "--cost-fp", "-5", "--threshold", "1e308"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert notes == ["note: cost of a false positive is -5: a negative cost counts as a gain; check the sign",
                     "note: threshold 1e+308 is above every score (0 to 0.9987): no row is flagged"]


def test_summarize_json_lists_every_segment_value_and_contract_metric(tmp_path, capsys):
    """A 437-value column was folded to its 20 largest values plus "Other"; FNR and TNR were missing."""
    rng = np.random.default_rng(7)
    n = 5000
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "p": np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(3),
                          "category": [f"cat_{i % 437}" for i in range(n)], "region": rng.choice(["a", "b"], n)})
    path = tmp_path / "wide_segment.csv"
    frame.to_csv(path, index=False)
    assert main(["summarize", str(path), "--segment", "category"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len([s for s in doc["segments"] if s["column"] == "category"]) == 437
    assert {"false_negative_rate", "true_negative_rate", "log_loss", "brier_score"} <= set(doc["overall"])
    assert main(["summarize", str(path), "--segment", "category", "--max-values", "10"]) == 0
    values = [s["value"] for s in json.loads(capsys.readouterr().out)["segments"]]
    assert len(values) == 11 and "Other" in values
