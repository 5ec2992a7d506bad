"""checks.toml: parsing, every error naming its line, writing it back exactly, and `check` errors (exit 2)."""

import json

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli import main
from mlimpact.errors import InputError
from mlimpact.io import Roles
from mlimpact.monitoring import MonitorSettings, Range, checks_to_toml, parse_checks

GOOD = """\
# nightly checks
[columns]
label = "is_fraud"
score = "fraud_score"
time = "ts"
positive = 1

[settings]
threshold = 0.4
rule = "point"
min_count = 50

[[check]]
metric = "recall"
min = 0.80
period = "w"
segment = "region"

[[check]]
metric = "false_positive_rate"
max = 0.02
segment = "region"
segment_value = "west"
"""


def test_parse_a_good_file():
    cfg = parse_checks(GOOD)
    assert cfg.columns == {"label": "is_fraud", "score": "fraud_score", "time": "ts", "positive": 1}
    assert cfg.settings == MonitorSettings(threshold=0.4, rule="point", min_count=50)  # min_positives: not set
    assert cfg.ranges == (Range("recall", minimum=0.8, period="W", segment="region"),
                          Range("false_positive_rate", maximum=0.02, segment="region", segment_value="west"))
    assert [r.line for r in cfg.ranges] == [13, 19]
    # threshold may sit in [columns] instead
    alt = parse_checks('[columns]\nthreshold = 0.3\n[[check]]\nmetric = "recall"\nmin = 0.5\n')
    assert alt.settings.threshold == 0.3 and alt.columns == {"threshold": 0.3}


def test_written_file_reads_back_exactly():
    ranges = (Range("recall", minimum=0.5093, period="W", segment="region", segment_value="cent\"ral é"),
              Range("mae", maximum=4.125, period="D"), Range("mean_error", minimum=-1.0, maximum=1e-05))
    settings = MonitorSettings(threshold=0.35, rule="point", min_count=10, min_positives=3)
    roles = Roles(label="y", score="p", time="t", class_scores=("a", "b"), positive="1", task="binary")
    text = checks_to_toml(roles, ranges, settings=settings, source="x\n.csv")
    cfg = parse_checks(text)
    assert cfg.ranges == ranges and cfg.settings == settings
    assert cfg.columns == {"label": "y", "score": "p", "class_scores": ["a", "b"], "time": "t", "positive": "1",
                           "task": "binary"}
    assert text.startswith("# Acceptable ranges exported by mlimpact from x .csv.\n")


TOML_HINT = ("write one `key = value` per line, text in double quotes, each check under its own [[check]] header")


@pytest.mark.parametrize("text,message", [
    ('[columns]\nlabel = "y"\n\n[[check]]\nmetric = recall\n',
     f"checks.toml line 5, column 10: not valid TOML (invalid value); {TOML_HINT}"),
    ('[columns]\nlabel = "y\n', f"checks.toml line 2, column 11: not valid TOML (illegal character '\\n'); {TOML_HINT}"),
    ('[columns]\nlabel = "a"\nlabel = "b"\n',
     f"checks.toml line 3, column 12: not valid TOML (cannot overwrite a value); {TOML_HINT}"),
    ('[[check]]\nmetric = "recall"\n# comment\nmax = 0.5\nmin = 0.9\n',
     "checks.toml line 5: min 0.9 is greater than max 0.5"),
    ('[[check]]\nmetric = "recall"\nmin = 0.7\n\n[[check]]\nmetric = "recal"\nmin = 0.8\n',
     "checks.toml line 6: metric 'recal' is not a metric; choose one of accuracy, precision, recall, f1, "
     "false_positive_rate, false_negative_rate, true_negative_rate, positive_rate, base_rate, roc_auc, "
     "average_precision, log_loss, brier_score, balanced_accuracy, macro_f1, weighted_f1, top_2_accuracy, mae, rmse, "
     "r2, mean_error, mape, or check the traffic with rows, missing_share, unlabelled_share, psi"),
    ('[[check]]\nmetric = "recall"\nperiod = "W"\n', "checks.toml line 1: give min, max or both"),
    ('[[check]]\nmetric = "recall"\nmni = 0.9\n',
     "checks.toml line 3: unknown key `mni` in [[check]]; use metric, min, max, period, segment, segment_value, column, "
     "estimated, slice"),
    ('[columns]\nlabel = "y"\n[[check]]\nmin = 0.9\n',
     'checks.toml line 3: this [[check]] has no metric; add e.g. metric = "recall"'),
    ('[[check]]\nmetric = "recall"\nmin = 0.9\nperiod = "Q"\n',
     "checks.toml line 4: period must be one of D (day), W (week), M (month); got 'Q'"),
    ('[[check]]\nmetric = "recall"\nmin = 0.9\nsegment_value = "west"\n',
     "checks.toml line 4: segment_value needs segment (the column it is a value of)"),
    ('[[check]]\nmetric = "recall"\nmin = "0.9"\n', "checks.toml line 3: min must be a number; got '0.9'"),
    ('[columns]\nlabel = "y"\n', "checks.toml: no checks; add at least one [[check]] table with a metric and a min or "
                                 "max"),
    ('[colums]\nlabel = "y"\n[[check]]\nmetric = "recall"\nmin = 0.9\n',
     "checks.toml line 1: unknown table or key `colums`; use [columns], [settings], [[check]] and [[slice]] tables"),
    ('[columns]\nlabel = "y"\nscores = "p"\n[[check]]\nmetric = "recall"\nmin = 0.9\n',
     "checks.toml line 3: unknown key `scores` in [columns]; use label, score, prediction, class_scores, time, "
     "positive, task, segment, segments, threshold"),
    ('[columns]\nlabel = 3\n[[check]]\nmetric = "recall"\nmin = 0.9\n',
     'checks.toml line 2: `label` has the wrong type (3); write column names in double quotes, e.g. label = '
     '"is_fraud"'),
    ('[settings]\nrule = "mean"\n[[check]]\nmetric = "recall"\nmin = 0.9\n',
     "checks.toml line 2: rule must be \"interval\" or \"point\"; got 'mean'"),
    ('[columns]\nthreshold = 0.4\n[settings]\nthreshold = 0.5\n[[check]]\nmetric = "recall"\nmin = 0.9\n',
     "checks.toml line 4: threshold 0.5 differs from 0.4 in [columns]; give the threshold once"),
    ('[check]\nmetric = "recall"\nmin = 0.9\n',
     "checks.toml line 1: `check` must be a list of tables; start each check with a [[check]] header (two brackets)"),
])
def test_errors_name_the_line(text, message):
    with pytest.raises(InputError) as err:
        parse_checks(text)
    assert str(err.value) == message


@pytest.fixture
def preds(tmp_path):
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 2, n)
    t = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.uniform(0, 28, n), unit="D")
    frame = pd.DataFrame({"y": y, "p": np.clip(0.4 * y + 0.6 * rng.random(n), 0, 1).round(3),
                          "t": t.strftime("%Y-%m-%d %H:%M"), "region": rng.choice(["a", "b"], n)})
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    return path


def _run(preds, tmp_path, toml, *extra):
    config = tmp_path / "checks.toml"
    config.write_text(toml, encoding="utf-8")
    return main(["check", str(preds), "--config", str(config), *extra])


@pytest.mark.parametrize("toml,message", [
    ('[columns]\nlabel = "y"\n\n[[check]]\nmetric = "mae"\nmax = 3\n',
     "line 4: metric 'mae' does not apply to preds.csv, a binary task; choose one of accuracy, precision, recall, f1, "
     "false_positive_rate, false_negative_rate, true_negative_rate, positive_rate, base_rate, roc_auc, "
     "average_precision, log_loss, brier_score"),
    ('[columns]\nlabel = "y"\n[[check]]\nmetric = "recall"\nmin = 0.5\nsegment = "regio"\n',
     "line 3: segment column `regio` is not in preds.csv; name one of its columns"),
    ('[columns]\nlabel = "y"\nscore = "p"\n[[check]]\nmetric = "recall"\nmin = 0.5\nperiod = "W"\n',
     None),  # time inferred: fine
])
def test_check_command_errors_exit_2_with_the_line(preds, tmp_path, capsys, toml, message):
    code = _run(preds, tmp_path, toml)
    err = capsys.readouterr().err.strip().splitlines()
    if message is None:
        assert code in (0, 1)
    else:
        assert code == 2
        assert err[-1] == f"mlimpact: error: {tmp_path / 'checks.toml'} {message}"


def test_period_without_a_time_column(tmp_path, capsys):
    path = tmp_path / "nodates.csv"
    pd.DataFrame({"y": [0, 1] * 50, "p": [0.2, 0.7] * 50}).to_csv(path, index=False)
    config = tmp_path / "c.toml"
    config.write_text('[columns]\nlabel = "y"\nscore = "p"\n[[check]]\nmetric = "recall"\nmin = 0.5\nperiod = "W"\n')
    assert main(["check", str(path), "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"mlimpact: error: {config} line 4: period 'W' needs a time column, and none was found in nodates.csv; "
        'add time = "COLUMN" to [columns]')


def test_missing_or_unreadable_config(preds, tmp_path, capsys):
    assert main(["check", str(preds), "--config", str(tmp_path / "nope.toml")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mlimpact: error: {tmp_path / 'nope.toml'}: no such file; give the checks file with --config (see "
        "`checks.toml` in the README)")
    bad = tmp_path / "latin.toml"
    bad.write_bytes('[columns]\nlabel = "é"\n'.encode("latin-1"))
    assert main(["check", str(preds), "--config", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"mlimpact: error: {bad}: not UTF-8 text; save the checks file as UTF-8"


def test_json_shape_and_overall_check(preds, tmp_path, capsys):
    toml = ('[columns]\nlabel = "y"\nscore = "p"\ntime = "t"\n[settings]\nmin_count = 10\nmin_positives = 5\n'
            '[[check]]\nmetric = "recall"\nmin = 0.99\n\n[[check]]\nmetric = "accuracy"\nmin = 0.01\nperiod = "W"\n'
            'segment = "region"\n')
    assert _run(preds, tmp_path, toml, "--format", "json") == 1
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["violations", "checked", "too_small", "unavailable", "results", "causes"]
    assert doc["causes"][0]["sentence"].startswith("Recall fell over the whole file; no reference rows")
    assert doc["checked"] == 1 + 4 * 2 and doc["too_small"] == 0
    assert len(doc["results"]) == doc["checked"]  # every bucket evaluated, as DESIGN.md's `results`
    assert [r["status"] for r in doc["results"]].count("violation") == 1
    assert {r["status"] for r in doc["results"]} == {"ok", "violation"}
    (v,) = doc["violations"]
    assert list(v) == ["metric", "column", "estimated", "slice", "segment_column", "segment", "period", "bucket", "start",
                       "value", "low", "high", "min", "max", "side", "n", "positives", "message"]
    assert (v["column"], v["estimated"]) == (None, False)
    assert (v["metric"], v["segment"], v["period"], v["bucket"], v["side"], v["n"]) == ("recall", None, None, "all",
                                                                                        "below", 2000)
    assert v["message"].startswith("recall: ") and v["message"].endswith(" below min 0.99")


@pytest.mark.parametrize(("text", "message"), [
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "checks.toml: values are nested too deeply to read; write each value "
     "as a number, a text in double quotes or a flat list"),
    ('[[check]]\nmetric = "recall"\nmin = 0.1\n' * 1001, "checks.toml line 3001: 1,001 checks, more than the limit "
     'of 1,000; check per segment with segment = "COLUMN" instead of one check per value'),
    ("#" * 1_000_001, "checks.toml: 1,000,001 characters, more than the limit of 1,000,000; a checks file holds a "
     "few dozen checks; split it or remove repeated checks"),
], ids=["nesting bomb", "too many checks", "too large"])
def test_hostile_checks_files_are_bounded(text, message, tmp_path, capsys):
    with pytest.raises(InputError) as err:
        parse_checks(text)
    assert str(err.value) == message
    config = tmp_path / "checks.toml"
    config.write_text(text)
    assert main(["check", "sample_data/fraud.csv", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"mlimpact: error: {message}".replace(
        "checks.toml", str(config), 1)


def test_exported_checks_with_control_characters_read_back_exactly():
    roles = Roles(label="y\x01", score="p\x7f", time="t")
    ranges = (Range("recall", minimum=0.5, segment="reg\x0bion", segment_value="we\x00st\x7f\t"),)
    text = checks_to_toml(roles, ranges, source="fi\x01le\r\n\x7f.csv")
    cfg = parse_checks(text)
    assert cfg.columns == {"label": "y\x01", "score": "p\x7f", "time": "t"}
    assert cfg.ranges == ranges


def test_nothing_checked_is_not_all_in_range(tmp_path, capsys):
    """'all 0 checks in range' with exit 0 reassured cron when nothing was verified."""
    config = tmp_path / "checks.toml"
    config.write_text('[columns]\nlabel = "is_fraud"\nscore = "fraud_score"\n[settings]\nmin_count = 1000000\n'
                      '[[check]]\nmetric = "recall"\nmin = 0.5\nperiod = "W"\n')
    assert main(["check", "sample_data/fraud.csv", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "mlimpact: error: nothing could be checked (27 buckets too small, 0 unavailable); lower min_count or "
        "min_positives in [settings], use a longer period, or pass --allow-unchecked to accept it")
    assert main(["check", "sample_data/fraud.csv", "--config", str(config), "--allow-unchecked"]) == 0


@pytest.mark.parametrize(("text", "message"), [
    ('[[check]]\nmetric = "precision"\nmin = 2\n', "checks.toml line 3: min 2 can never be met: precision lies "
     "between 0 and 1"),
    ('[[check]]\nmetric = "mae"\nmax = -1\n', "checks.toml line 3: max -1 can never be met: mae lies at or above 0"),
    ('[settings]\nmin_positives = 100000000000000000000000000\n[[check]]\nmetric = "recall"\nmin = 0.5\n',
     "checks.toml line 2: min_positives must be a whole number from 0 to 10^12; got 100000000000000000000000000"),
])
def test_ranges_no_value_can_meet_are_refused(text, message):
    with pytest.raises(InputError) as err:
        parse_checks(text)
    assert str(err.value) == message
