"""Named slices: slices.toml, the comparison with the rest (against scikit-learn), and the CLI's --slice/--slices."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_score, recall_score

from mlimpact.cli.main import main
from mlimpact.errors import InputError
from mlimpact.io import load
from mlimpact.slices import (
    NamedSlice,
    parse_slices_toml,
    resolve_slices,
    slice_rows,
    slice_table,
    slices_to_toml,
)

FRAUD = "sample_data/fraud.csv"


@pytest.fixture(scope="module")
def fraud():
    return load([FRAUD])[0]


def test_slices_toml_round_trips_and_names_its_errors():
    slices = [NamedSlice("online, big", 'channel == "online" and amount > 500'),
              NamedSlice('quote " and \\ back', "`device type` is null")]
    assert parse_slices_toml(slices_to_toml(slices)) == slices
    with pytest.raises(InputError, match=r"slices.toml line 4 \(slice \"b\"\): col 9: expected a value"):
        parse_slices_toml('[[slice]]\nname = "a"\nexpression = "x > 1"\n[[slice]]\nname = "b"\nexpression = "amount >"\n')
    with pytest.raises(InputError, match="used twice"):
        parse_slices_toml('[[slice]]\nname = "a"\nexpression = "x > 1"\n[[slice]]\nname = "a"\nexpression = "x > 2"\n')
    with pytest.raises(InputError, match="only \\[\\[slice\\]\\] tables"):
        parse_slices_toml('[check]\nmetric = "recall"\n')


def test_a_slice_against_the_rest_matches_scikit_learn(fraud):
    frame = pd.read_csv(FRAUD)
    (s,) = resolve_slices(['channel == "online" and amount > 200'], data=fraud)
    t = slice_table(fraud, [s], metrics=["recall", "precision"]).set_index("metric")
    inside = (frame["channel"] == "online") & (frame["amount"] > 200)
    y, pred = frame["is_fraud"], frame["fraud_score"] >= 0.5
    assert t.loc["recall", "n"] == inside.sum() and t.loc["recall", "share"] == pytest.approx(inside.mean())
    assert t.loc["recall", "value"] == pytest.approx(recall_score(y[inside], pred[inside]))
    assert t.loc["recall", "rest_value"] == pytest.approx(recall_score(y[~inside], pred[~inside]))
    assert t.loc["precision", "value"] == pytest.approx(precision_score(y[inside], pred[inside]))
    assert t.loc["recall", "difference"] == pytest.approx(t.loc["recall", "value"] - t.loc["recall", "rest_value"])
    assert t.loc["recall", "low"] < t.loc["recall", "value"] < t.loc["recall", "high"]


def test_slice_rows_keep_their_rows_and_say_which_slice(fraud):
    rows = slice_rows(fraud, 'region == "west"')
    assert rows.n == int((fraud.frame["region"] == "west").sum()) and set(rows.frame["region"]) == {"west"}
    assert rows.content_hash != fraud.content_hash and rows.content_hash.startswith(fraud.content_hash)
    assert len(rows.y) == len(rows.score) == len(rows.frame)


def test_cli_summarize_and_slices_follow_named_slices(tmp_path, capsys):
    path = tmp_path / "slices.toml"
    path.write_text(slices_to_toml([NamedSlice("west", 'region == "west"')]))
    assert main(["summarize", FRAUD, "--slice", "amount > 500", "--slices", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [s["name"] for s in doc["named_slices"]]
    assert names == ["amount > 500", "west"]
    west = doc["named_slices"][1]
    recall = next(m for m in west["metrics"] if m["metric"] == "recall")
    assert west["n"] == 16080 and recall["value"] == pytest.approx(0.719, abs=1e-3)  # the Segments page's number
    assert main(["slices", FRAUD, "--slices", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["named_slices"][0]["name"] == "west"


def test_cli_impact_gives_the_value_within_a_slice(capsys):
    assert main(["impact", FRAUD, "--cost-fn", "amount", "--cost-fp", "5", "--slice", 'channel == "online"']) == 0
    doc = json.loads(capsys.readouterr().out)
    (inside,) = doc["slices"]
    assert inside["n"] == int((pd.read_csv(FRAUD)["channel"] == "online").sum())
    assert inside["impact"]["best_threshold"] != doc["best_threshold"] or np.isfinite(inside["impact"]["best_threshold"])


@pytest.mark.parametrize("args, words", [
    (["--slice", 'chanel == "online"'], "slice 'chanel == \"online\"': col 1: unknown column `chanel`; did you mean"),
    (["--slice", "region > 5"], "`region` holds text"),
    (["--slices", "nope.toml"], "nope.toml: no such file"),
])
def test_cli_bad_slices_are_one_line(args, words, capsys):
    assert main(["summarize", FRAUD, *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_the_report_has_a_section_per_named_slice(capsys):
    assert main(["summarize", FRAUD, "--format", "markdown", "--slice", 'channel == "online"',
                 "--slice", "amount > 500"]) == 0
    text = capsys.readouterr().out
    section = text.split("## Slices you named: each against the rest")[1].split("\n## ")[0]
    assert 'channel == "online": 34,031 rows (42.5%); recall 0.762' in section
    assert "amount \\> 500: 742 rows (0.9%)" in section and "significantly better" in section
    assert section.count("| recall |") == 2


def test_the_difference_has_an_interval_that_agrees_with_the_test(fraud):
    t = slice_table(fraud, resolve_slices(['region == "west"', 'channel == "phone"'], data=fraud),
                    metrics=["recall"]).set_index("name")
    for _, r in t.iterrows():
        assert r["diff_low"] < r["difference"] < r["diff_high"]
        excludes_zero = r["diff_high"] < 0 or r["diff_low"] > 0
        assert excludes_zero == (r["p_value"] < 0.05)  # both well away from the boundary on these slices


def test_a_weak_slice_saved_as_a_slice_has_the_same_rows(fraud):
    from mlimpact.slices import search_weak_slices, selection_expression

    result = search_weak_slices(fraud, kind="misclassification", k=5)
    for i, row in enumerate(result.slices.to_dict("records")):  # binned amounts included
        expr = selection_expression(row["predicates"], fraud)
        rows = slice_rows(fraud, expr)
        assert row["n"] == len(result.row_indices(i))
        if " <= " in expr or " < " in expr:  # a bin's edges as shown (rounded): a value on the edge may move
            assert abs(rows.n - row["n"]) <= 0.001 * row["n"] + 1, (expr, row["description"])
        else:
            assert rows.n == row["n"], (expr, row["description"])


def test_cli_says_when_a_slice_value_does_not_occur(capsys):
    assert main(["summarize", FRAUD, "--slice", 'channel == "onlin"']) == 0
    captured = capsys.readouterr()
    assert 'note: slice \'channel == "onlin"\': `channel` has no value "onlin"; did you mean "online"?' in captured.err
    assert json.loads(captured.out)["named_slices"][0]["n"] == 0
