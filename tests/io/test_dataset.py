"""Dataset validation: every problem at once, exclusions counted by reason, exact messages."""

import numpy as np
import pandas as pd
import pytest

from mlimpact.errors import InputError
from mlimpact.io import Roles, build_dataset, encode_column
from mlimpact.io.times import parse_times


def test_exclusions_counted_by_reason():
    frame = pd.DataFrame({"y": [0, 1, None, 1, 0, 1], "p": [0.1, np.nan, 0.3, np.inf, 0.2, 0.9]})
    ds = build_dataset(frame, Roles(label="y", score="p"), source="f.csv")
    assert ds.n == 3 and ds.n_total == 6
    assert ds.exclusions == {"label is missing": 1, "score is missing": 1, "score is infinite": 1}
    assert ds.summary() == {"total": 6, "used": 3, "excluded": ds.exclusions}
    assert ds.y.tolist() == [0, 0, 1]


def test_all_problems_reported_at_once():
    frame = pd.DataFrame({"y": [0, 1], "p": [0.1, 0.2]})
    with pytest.raises(InputError) as err:
        build_dataset(frame, Roles(label="truth", score="prob", segments=("region",)), source="f.csv")
    assert str(err.value) == (
        "f.csv: 3 problems: (1) column `truth` is not in the file; its columns are 'y', 'p'; "
        "(2) column `prob` is not in the file; its columns are 'y', 'p'; "
        "(3) column `region` is not in the file; its columns are 'y', 'p'")
    assert len(err.value.problems) == 3


def test_no_label_and_no_score_messages():
    with pytest.raises(InputError) as err:
        build_dataset(pd.DataFrame({"a": [1]}), Roles(), source="f.csv")
    assert err.value.problems == ["no label column chosen; pick the column with the true outcome",
                                  "no score or prediction column chosen; pick the column with the model's output"]


def test_label_all_missing():
    with pytest.raises(InputError, match=r"^f\.csv: column `y` \(label\): every value is missing; pick the column "
                                         r"with the true outcome$"):
        build_dataset(pd.DataFrame({"y": [None, None], "p": [0.1, 0.2]}), Roles(label="y", score="p"), source="f.csv")


def test_text_scores_rejected_with_examples():
    frame = pd.DataFrame({"y": [0, 1, 0], "p": ["high", "low", "high"]})
    with pytest.raises(InputError) as err:
        build_dataset(frame, Roles(label="y", score="p"), source="f.csv")
    assert str(err.value) == ("f.csv: column `p` (score): values are not numbers (e.g. 'high', 'low'); pick a column "
                              "of numbers as the score, or set this column as the prediction")


def test_single_class_loads_with_note():
    ds = build_dataset(pd.DataFrame({"y": [0, 0, 0], "p": [0.1, 0.5, 0.7]}), Roles(label="y", score="p"))
    assert ds.task == "binary" and ds.y.sum() == 0
    assert any("never occurs" in n or "only one class" in n for n in ds.notes)


def test_scores_outside_unit_interval_are_scores():
    ds = build_dataset(pd.DataFrame({"y": [0, 1, 1], "risk": [1.0, 7.0, 9.5]}), Roles(label="y", score="risk"))
    assert not ds.scores_are_probabilities
    assert ds.predicted(5).tolist() == [0, 1, 1]
    assert ds.notes[-1] == ("column `risk`: scores range from 1 to 9.5, not 0 to 1; they are used as scores (the "
                            "threshold is in their units) and log loss and Brier score are unavailable")


@pytest.mark.parametrize(("labels", "positive", "expected"), [
    (["yes", "no", "yes"], None, [1, 0, 1]), ([True, False, True], None, [1, 0, 1]),
    (["fraud", "legit", "legit"], None, [1, 0, 0]), ([0, 1, 1], "0", [1, 0, 0]),
])
def test_binary_label_forms(labels, positive, expected):
    ds = build_dataset(pd.DataFrame({"y": labels, "p": [0.9, 0.1, 0.8]}), Roles(label="y", score="p", positive=positive))
    assert ds.y.tolist() == expected


def test_rare_unexpected_label_values_excluded():
    labels = ["yes"] * 150 + ["no"] * 149 + ["maybe"]
    ds = build_dataset(pd.DataFrame({"y": labels, "p": np.linspace(0, 1, 300)}), Roles(label="y", score="p"))
    assert ds.exclusions == {"label is not one of the two classes ('no', 'yes')": 1}


def test_many_unexpected_label_values_rejected():
    labels = ["yes", "no", "maybe", "unsure"] * 10
    with pytest.raises(InputError, match="a binary task needs two; choose the multiclass task"):
        build_dataset(pd.DataFrame({"y": labels, "p": np.linspace(0, 1, 40)}),
                      Roles(label="y", score="p", task="binary"))


def test_prediction_only_binary():
    ds = build_dataset(pd.DataFrame({"y": ["a", "b", "b"], "yhat": ["b", "b", "a"]}),
                       Roles(label="y", prediction="yhat", positive="b"))
    assert ds.predicted(0.5).tolist() == [1, 1, 0]


def test_multiclass_encoding_with_probabilities():
    frame = pd.DataFrame({"y": ["b", "a", "c"], "pred": ["b", "c", "c"], "prob_a": [0.1, 0.3, 0.2],
                          "prob_b": [0.8, 0.2, 0.1], "prob_c": [0.1, 0.5, 0.7]})
    ds = build_dataset(frame, Roles(label="y", prediction="pred", class_scores=("prob_c", "prob_a", "prob_b")))
    assert ds.task == "multiclass" and ds.classes == ("a", "b", "c")
    assert ds.y.tolist() == [1, 0, 2] and ds.prediction.tolist() == [1, 2, 2]
    np.testing.assert_allclose(ds.proba[0], [0.1, 0.8, 0.1])


def test_regression_rows_and_messages():
    frame = pd.DataFrame({"actual": [10.0, 12.0, np.nan, 9.0], "pred": [11.0, np.nan, 8.0, 9.5]})
    ds = build_dataset(frame, Roles(label="actual", prediction="pred", task="regression"))
    assert ds.exclusions == {"label is missing": 1, "prediction is missing": 1}
    assert ds.y.tolist() == [10.0, 9.0]
    with pytest.raises(InputError, match=r"column `actual` \(label\): values are not numbers"):
        build_dataset(pd.DataFrame({"actual": ["x", "y", "z"], "pred": [1.0, 2.0, 3.0]}),
                      Roles(label="actual", prediction="pred", task="regression"))


def test_no_usable_rows():
    with pytest.raises(InputError, match=r"^f\.csv: no usable rows \(score is missing: 2\); check the label"):
        build_dataset(pd.DataFrame({"y": [0, 1], "p": [np.nan, np.nan]}), Roles(label="y", score="p"), source="f.csv")


def test_time_parsing_mixed_and_bad_values():
    parsed, bad = parse_times(pd.Series(["2026-01-02", "02/03/2026", "not a date", None]))
    assert bad == 1
    assert parsed.iloc[0] == pd.Timestamp("2026-01-02")
    ds = build_dataset(pd.DataFrame({"y": [0, 1, 1], "p": [0.1, 0.9, 0.8], "t": ["2026-01-01", "x", "2026-01-03"]}),
                       Roles(label="y", score="p", time="t"))
    assert "column `t` (time): 1 values are not dates" in ds.notes[-1]
    assert ds.n == 3  # bad dates do not drop rows from the metrics


def test_encode_column_missing_and_bools():
    codes, labels = encode_column(pd.Series([True, False, None]))
    assert labels == ["False", "True", "(missing)"] and codes.tolist() == [1, 0, 2]
    codes, labels = encode_column(pd.Series([2.0, 1.0, 2.0]))
    assert labels == ["1", "2"]


def test_daylight_saving_offsets_are_read_as_utc_instants(tmp_path):
    """+01:00 and +02:00 in one column (a DST change) used to crash every command ("Mixed timezones")."""
    from mlimpact.cli import main

    path = tmp_path / "dst.csv"
    path.write_text("ts,y,p\n2026-03-28T10:00:00+01:00,0,0.1\n2026-03-29T10:00:00+02:00,1,0.9\n"
                    "2026-03-30T10:00:00+02:00,0,0.3\n2026-03-27T10:00:00+01:00,1,0.7\n")
    ds = build_dataset(pd.read_csv(path), Roles(label="y", score="p", time="ts"))
    assert ds.frame["ts"].dt.hour.tolist() == [9, 8, 8, 9]
    assert ds.notes == ["column `ts` (time): mixed UTC offsets (as at a daylight-saving change); times are read "
                        "as UTC instants"]
    assert main(["summarize", str(path)]) == 0
    assert main(["check", str(path), "--config", str(_checks(tmp_path))]) in (0, 1)


def _checks(tmp_path):
    config = tmp_path / "checks.toml"
    config.write_text('[columns]\nlabel = "y"\nscore = "p"\ntime = "ts"\n[[check]]\nmetric = "recall"\nmin = 0.1\n'
                      'period = "D"\n[settings]\nmin_count = 1\nmin_positives = 1\n')
    return config


def test_no_score_message_names_the_column_that_looks_like_one():
    frame = pd.DataFrame({"y": [1, 0, 1, 0], "score": ["high", "low", "high", "low"]})
    with pytest.raises(InputError) as err:
        build_dataset(frame, Roles(label="y"))
    assert str(err.value) == (
        "<data>: no score or prediction column chosen; column `score` is named like one but was not taken because "
        "it holds text (e.g. 'high', 'low'); choose it as the prediction (a predicted class) or the score (numbers) "
        "if it is the model's output")


def test_a_time_span_of_thousands_of_years_is_noted():
    frame = pd.DataFrame({"y": [0, 1, 0, 1], "p": [0.1, 0.9, 0.2, 0.8],
                          "ts": ["2026-01-01", "2026-01-02", "1026-01-03", "2026-01-04"]})
    ds = build_dataset(frame, Roles(label="y", score="p", time="ts"))
    assert ds.notes == ["column `ts` (time): the times span 1,000 years (from 1026-01-03 to 2026-01-04); check the "
                        "dates for a mistyped year"]
