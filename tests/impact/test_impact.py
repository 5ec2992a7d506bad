"""Impact: money by hand, the best threshold and review band against brute force, baselines by hand,
interval coverage by simulation, sensitivity, segments, the summary, the CLI contract and the page."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlimpact import impact
from mlimpact.cli import main
from mlimpact.errors import InputError
from mlimpact.impact import CostModel, parse_rule
from mlimpact.io import Roles, build_dataset, markdown_table, sample_path

ROOT = Path(__file__).resolve().parents[2]


def ds_of(frame: pd.DataFrame, **roles):
    return build_dataset(frame, Roles(label="y", score="p", **roles), source="t.csv", content_hash="h")


@pytest.fixture
def small():
    # y:  1    0    1    0    1    0
    # p: .9   .8   .6   .4   .3   .1
    return ds_of(pd.DataFrame({"y": [1, 0, 1, 0, 1, 0], "p": [0.9, 0.8, 0.6, 0.4, 0.3, 0.1],
                               "amount": [100.0, 20.0, 50.0, 10.0, 200.0, 5.0],
                               "region": ["a", "a", "b", "b", "b", "a"]}))


def random_ds(n=400, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(int)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    frame = pd.DataFrame({"y": y, "p": p.round(2) if ties else p, "amount": rng.lognormal(3, 1, n).round(2),
                          "other": np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(3),
                          "region": rng.choice(["n", "s", "e"], n)})
    return ds_of(frame, other_scores=("other",))


# ---------------------------------------------------------------------------------------------- cost model


def test_cost_model_parses_numbers_and_columns_and_describes_itself():
    c = CostModel.parse(value_tp="0", value_tn="0", cost_fp="5", cost_fn="amount", cost_review="2.5")
    assert (c.cost_fp, c.cost_fn, c.cost_review) == (5.0, "amount", 2.5)
    assert c.describe() == ["value of a true positive: 0", "value of a true negative: 0",
                            "cost of a false positive: 5", "cost of a false negative: the row’s `amount`",
                            "cost of one human review: 2.5"]
    assert hash(c) == hash(CostModel(cost_fp=5, cost_fn="amount", cost_review=2.5))
    assert c.replace(cost_fp=1).cost_fp == 1.0


def test_cost_model_reports_every_bad_column_at_once(small):
    frame = small.frame.assign(note="x", gap=[1.0, None, 2, 3, 4, 5])
    with pytest.raises(InputError) as e:
        CostModel(cost_fn="missing", cost_fp="note", value_tp="gap").validate(frame)
    assert e.value.problems == [
        "column `gap` (value of a true positive) has 1 missing values; fill them or give a number",
        "column `note` (cost of a false positive) does not hold numbers; give a number or a numeric column",
        "column `missing` (cost of a false negative) is not in the file; give a number or one of its numeric columns"]
    with pytest.raises(InputError, match=r"^cost model: cost_fp: must be a finite number, not inf$"):
        CostModel(cost_fp=float("inf"))
    with pytest.raises(InputError, match=r"^cost model: cost_fn: give a number or a column name; it is empty$"):
        CostModel(cost_fn="  ")


# ---------------------------------------------------------------------------------------------- value by hand


def test_net_value_by_hand_with_numbers(small):
    costs = CostModel(value_tp=10, value_tn=1, cost_fp=3, cost_fn=7)
    # threshold 0.5 flags .9 (TP) .8 (FP) .6 (TP); keeps .4 (TN) .3 (FN) .1 (TN)
    assert impact.net_value(small, costs, threshold=0.5) == {
        "flagged": 3, "reviewed": 0, "tp": 2, "fp": 1, "fn": 1, "tn": 2, "value": 2 * 10 - 3 - 7 + 2 * 1}


def test_net_value_by_hand_with_an_amount_column(small):
    costs = CostModel(cost_fp=5, cost_fn="amount")
    # missed positives: the row at .3 (amount 200) -> -200; false positive at .8 -> -5
    assert impact.net_value(small, costs, threshold=0.5)["value"] == -205.0
    # per-row value of a true positive from a column too
    assert impact.net_value(small, CostModel(value_tp="amount"), threshold=0.5)["value"] == 150.0


def test_net_value_with_review_lanes_by_hand(small):
    costs = CostModel(value_tp=10, cost_fp=3, cost_fn=7, cost_review=2)
    # lanes (0.35, 0.85): flag .9 (TP +10); review .8 .6 .4 (each decided right, -2: 0-2, 10-2, 0-2);
    # keep .3 (FN -7) .1 (TN 0)
    out = impact.net_value(small, costs, lanes=(0.35, 0.85))
    assert out == {"flagged": 1, "reviewed": 3, "tp": 1, "fp": 0, "fn": 1, "tn": 1, "value": 10 - 2 + 8 - 2 - 7}


def test_value_curve_matches_brute_force_at_every_distinct_score():
    ds = random_ds(ties=True)
    costs = CostModel(value_tp=3, value_tn=0.5, cost_fp=4, cost_fn="amount")
    curve = impact.value_curve(ds, costs)
    thresholds = np.unique(ds.score)
    brute = [impact.net_value(ds, costs, threshold=float(t))["value"] for t in thresholds]
    np.testing.assert_allclose(curve["value"].to_numpy()[:-1], brute, rtol=1e-12)
    assert curve["value"].iloc[-1] == pytest.approx(impact.net_value(ds, costs, threshold=1.01)["value"])
    t_best, v_best = impact.best_threshold(curve)
    assert v_best == pytest.approx(max(brute + [curve["value"].iloc[-1]]))
    assert impact.net_value(ds, costs, threshold=t_best)["value"] == pytest.approx(v_best)
    counts = curve.iloc[10]
    direct = impact.net_value(ds, costs, threshold=float(counts["threshold"]))
    assert (counts["tp"], counts["fp"], counts["fn"], counts["tn"]) == (direct["tp"], direct["fp"], direct["fn"],
                                                                        direct["tn"])


def test_best_review_band_matches_brute_force_over_all_cut_pairs():
    ds = random_ds(n=150, seed=3)
    costs = CostModel(value_tp=2, cost_fp=3, cost_fn="amount", cost_review=4)
    low, high, value = impact.best_lanes(ds, costs)
    cuts = list(np.unique(ds.score)) + [2.0]
    brute = max(impact.net_value(ds, costs, lanes=(a, b))["value"] for i, a in enumerate(cuts) for b in cuts[i:])
    assert value == pytest.approx(brute)
    assert impact.net_value(ds, costs, lanes=(low, high))["value"] == pytest.approx(value)


def test_flagging_nothing_can_be_best_and_the_threshold_then_flags_nothing(small):
    curve = impact.value_curve(small, CostModel(cost_fp=100, value_tn=1))
    t, v = impact.best_threshold(curve)
    assert t > small.score.max() and v == 3.0


def test_when_flagging_nothing_is_best_the_summary_says_so():
    ds = ds_of(pd.DataFrame({"y": [0, 0, 0, 0], "p": [0.1, 0.5, 0.7, 0.2]}))
    report = impact.analyze_impact(ds, CostModel(cost_fp=1, cost_fn=2), n_boot=50)
    assert report.points["description"].tolist()[1] == "flag nothing: a threshold above every score (value-maximising)"
    assert report.summary[1] == ("Under these costs flagging nothing is worth the most: 2.00 more than the model's "
                                 "decisions now; check the costs, or the model does not pay for itself.")


# ---------------------------------------------------------------------------------------------- baselines


def test_baselines_by_hand():
    ds = random_ds(seed=1)
    costs = CostModel(value_tp=1, cost_fp=2, cost_fn="amount")
    g = impact.row_gains(ds, costs)
    base = impact.compare_baselines(ds, costs, threshold=0.5, rule="amount > 40", n_boot=200).set_index("baseline")
    model = impact.net_value(ds, costs, threshold=0.5)
    q = model["flagged"] / ds.n
    assert base.loc["model", "value"] == pytest.approx(model["value"])
    assert base.loc["flag_none", "value"] == pytest.approx(g.keep.sum())
    assert base.loc["flag_all", "value"] == pytest.approx(g.flag.sum())
    assert base.loc["random", "value"] == pytest.approx(q * g.flag.sum() + (1 - q) * g.keep.sum())
    rule = ds.frame["amount"].to_numpy() > 40
    assert base.loc["rule", "value"] == pytest.approx(np.where(rule, g.flag, g.keep).sum())
    assert base.loc["rule", "flagged"] == rule.sum()
    # the other model at its own best threshold: brute force over its distinct scores
    other = ds.frame["other"].to_numpy()
    brute = max(np.where(other >= t, g.flag, g.keep).sum() for t in np.append(np.unique(other), 2.0))
    assert base.loc["other (best threshold)", "value"] == pytest.approx(brute)
    # ... and at the model's flag rate: the same number of rows flagged (no ties at the cut here)
    same = base.loc["other (same flag rate)"]
    assert same["flagged"] >= model["flagged"]
    assert (other >= same["threshold"]).sum() == same["flagged"]
    assert base["difference"].iloc[1:].tolist() == pytest.approx((model["value"] - base["value"].iloc[1:]).tolist())
    assert (base["diff_low"].iloc[1:] <= base["difference"].iloc[1:]).all()
    assert (base["difference"].iloc[1:] <= base["diff_high"].iloc[1:]).all()
    assert ["baseline", *base.columns] == impact.BASELINE_COLUMNS


def test_paired_interval_coverage_by_simulation():
    """The model-minus-rule interval covers the true expected difference about 95% of the time."""
    rng = np.random.default_rng(42)

    def draw(n):
        y = (rng.random(n) < 0.2).astype(int)
        p = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
        amount = rng.lognormal(3, 1, n)
        return pd.DataFrame({"y": y, "p": p, "amount": amount})

    def diff_per_row(f):  # model at 0.5 minus the rule amount > 30, with cost_fp 5 and cost_fn = amount
        flag = np.where(f["y"] == 1, 0.0, -5.0)
        keep = np.where(f["y"] == 1, -f["amount"], 0.0)
        return np.where(f["p"] >= 0.5, flag, keep) - np.where(f["amount"] > 30, flag, keep)

    truth_per_row = diff_per_row(draw(2_000_000)).mean()
    n, sims, covered = 300, 120, 0
    costs = CostModel(cost_fp=5, cost_fn="amount")
    for i in range(sims):
        ds = ds_of(draw(n))
        r = impact.compare_baselines(ds, costs, threshold=0.5, rule="amount > 30", n_boot=300, seed=i,
                                     time_budget_s=None).set_index("baseline").loc["rule"]
        covered += r["diff_low"] <= truth_per_row * n <= r["diff_high"]
    assert 0.88 <= covered / sims <= 0.99


def test_intervals_agree_with_a_row_level_bootstrap():
    ds = random_ds(n=2000, seed=5, ties=False)
    costs = CostModel(cost_fp=5, cost_fn="amount")
    pts = impact.operating_points(ds, costs, threshold=0.5, n_boot=1000, time_budget_s=None)
    cur = pts.set_index("point").loc["current"]
    g = impact.row_gains(ds, costs)
    v = np.where(g.score >= 0.5, g.flag, g.keep)
    rng = np.random.default_rng(0)
    reps = [v[rng.integers(0, len(v), len(v))].sum() for _ in range(1000)]
    lo, hi = np.percentile(reps, [2.5, 97.5])
    width = hi - lo
    assert cur["high"] - cur["low"] == pytest.approx(width, rel=0.15)
    assert cur["low"] <= cur["value"] <= cur["high"]


def test_operating_points_rows_and_optimism(small):
    ds = random_ds(seed=2)
    pts = impact.operating_points(ds, CostModel(cost_fp=1, cost_fn="amount", cost_review=3), threshold=0.5,
                                  lanes=(0.3, 0.7), n_boot=200)
    assert pts["point"].tolist() == ["current", "best", "lanes", "best_lanes"]
    assert pts.columns.tolist() == impact.POINT_COLUMNS
    best = pts.set_index("point").loc["best"]
    assert best["value"] >= pts.set_index("point").loc["current", "value"]
    bl = pts.set_index("point").loc["best_lanes"]
    assert bl["value"] >= best["value"]  # a band of width zero is a threshold
    assert np.isfinite(best["optimism"])
    assert pts.attrs["n_boot"] == 200


# ---------------------------------------------------------------------------------------------- sensitivity


def test_sensitivity_moves_one_term_at_a_time():
    ds = random_ds(seed=4)
    costs = CostModel(value_tp=1, cost_fp=4, cost_fn="amount")
    sens = impact.sensitivity(ds, costs, threshold=0.5)
    assert sens["term"].tolist() == ["base", "value_tp", "value_tp", "cost_fp", "cost_fp", "cost_fn", "cost_fn"]
    row = sens[(sens["term"] == "cost_fp") & (sens["factor"] == 1.5)].iloc[0]
    direct = impact.value_curve(ds, costs.replace(cost_fp=6.0))
    t, v = impact.best_threshold(direct)
    assert (row["best_threshold"], row["best_value"]) == (pytest.approx(t), pytest.approx(v))
    base_t = sens.iloc[0]["best_threshold"]
    assert row["value_at_base_best"] == pytest.approx(impact.net_value(ds, costs.replace(cost_fp=6.0),
                                                                       threshold=base_t)["value"])
    assert row["regret"] >= 0
    fn = sens[(sens["term"] == "cost_fn") & (sens["factor"] == 0.5)].iloc[0]
    assert fn["setting"] == "`amount` × 0.5"
    assert fn["value_at_current"] == pytest.approx(impact.net_value(
        ds_of(ds.frame.assign(amount=ds.frame["amount"] * 0.5)), costs, threshold=0.5)["value"])


# ---------------------------------------------------------------------------------------------- segments


def test_segment_impact_by_hand(small):
    costs = CostModel(value_tp=10, cost_fp=3, cost_fn="amount")
    seg = impact.segment_impact(small, costs, column="region", threshold=0.5, n_boot=200)
    # region a: rows .9 (TP +10) .8 (FP -3) .1 (TN 0): value 7, perfect 10, lost 3 (a false positive)
    # region b: rows .6 (TP +10) .4 (TN 0) .3 (FN -200): value -190, perfect 20, lost 210
    assert seg["region"].tolist() == ["b", "a"]
    assert seg[["value", "perfect_value", "lost"]].values.tolist() == [[-190.0, 20.0, 210.0], [7.0, 10.0, 3.0]]
    assert seg["lost_false_negatives"].tolist() == [210.0, 0.0]
    assert seg["lost_false_positives"].tolist() == [0.0, 3.0]
    assert seg["share_of_lost"].tolist() == pytest.approx([210 / 213, 3 / 213])
    assert seg["rank"].tolist() == [1, 2]
    assert seg.columns.tolist() == ["region"] + impact.SEGMENT_COLUMNS


# ---------------------------------------------------------------------------------------------- rules, period


@pytest.mark.parametrize("text,expected", [
    ("amount > 500", "amount > 500"),
    ("amount>=1e3", "amount >= 1000.0"),
    ('channel == "online"', 'channel == "online"'),
    ("channel != 'phone'", 'channel != "phone"'),
    ("`card amount` < -2.5", "`card amount` < -2.5"),
    ('channel=="online" and amount>200', 'channel == "online" and amount > 200'),  # any slice expression
])
def test_parse_rule(text, expected):
    assert parse_rule(text).describe() == expected


@pytest.mark.parametrize("text,message", [
    ("amount", "rule 'amount': col 7: expected an operator after `amount`"),
    ("amount => 5", "rule 'amount => 5': col 9: expected a value after `=`"),
    ("channel == online", "rule 'channel == online': col 12: expected a value after `==`, found `online`"),
])
def test_bad_rules_say_how_to_write_them(text, message):
    with pytest.raises(InputError) as e:
        parse_rule(text)
    assert str(e.value).startswith(message) and str(e.value).endswith("(the slice grammar: see the README)")


def test_rule_masks(small):
    f = small.frame
    assert parse_rule("amount > 40").mask(f).tolist() == [True, False, True, False, True, False]
    assert parse_rule('region == "a"').mask(f).tolist() == [True, True, False, False, False, True]
    with pytest.raises(InputError, match=r"`region` holds text; compare it with == or in, not >"):
        parse_rule("region > 3").mask(f)
    with pytest.raises(InputError, match=r"^rule 'nope > 3': col 1: unknown column `nope`"):
        parse_rule("nope > 3").mask(f)
    both = parse_rule('region == "a" and amount > 40').mask(f)  # a rule over two columns
    assert both.tolist() == [a and b for a, b in zip(parse_rule('region == "a"').mask(f),
                                                      parse_rule("amount > 40").mask(f), strict=True)]
    with pytest.raises(InputError, match=r"`region` holds text; compare it with == or in, not >"):
        parse_rule('region > "a"').mask(f)


def test_period_and_scaling():
    frame = pd.DataFrame({"y": [0, 1, 0, 1], "p": [0.1, 0.9, 0.2, 0.8],
                          "day": ["2026-01-01", "2026-01-15", "2026-01-20", "2026-01-31"]})
    ds = ds_of(frame, time="day")
    period = impact.detect_period(ds)
    assert period.days == 31.0  # whole dates: the last day counts
    factor, _ = impact.scale_factor(ds, "year")
    assert factor == pytest.approx(365.2425 / 31)
    base = impact.compare_baselines(ds, CostModel(cost_fp=1, cost_fn=1), n_boot=50)
    per_year = impact.compare_baselines(ds, CostModel(cost_fp=1, cost_fn=1), n_boot=50, scale="year")
    assert per_year["value"].tolist() == pytest.approx((base["value"] * factor).tolist())
    with pytest.raises(InputError, match=r"^values per month need a time column"):
        impact.scale_factor(ds_of(frame.drop(columns="day")), "month")


# ---------------------------------------------------------------------------------------------- helpers


def test_lanes_from_pairs_and_objects():
    @dataclass(frozen=True)
    class Lanes:
        low: float
        high: float

    @dataclass(frozen=True)
    class Other:
        lower: float
        upper: float

    assert impact.lanes_from(Lanes(0.2, 0.7)) == (0.2, 0.7)
    assert impact.lanes_from(Other(0.1, 0.9)) == (0.1, 0.9)
    assert impact.lanes_from(Lanes(0.9, 0.2)) is None
    assert impact.lanes_from(object()) is None


def test_one_vs_rest_on_the_support_sample():
    from mlimpact.io import infer_roles, read_predictions

    path = sample_path("support")
    frame, _ = read_predictions(path, name=path.name)
    ds = build_dataset(frame, infer_roles(frame).roles)
    b = impact.one_vs_rest(ds, "returns")
    assert b.task == "binary" and b.roles.score == "prob_returns"
    assert b.y.sum() == (frame["true_queue"] == "returns").sum()
    np.testing.assert_array_equal(b.score, frame["prob_returns"].to_numpy())
    with pytest.raises(InputError, match=r"^class 'nope' is not one of"):
        impact.one_vs_rest(ds, "nope")


def test_markdown_helpers_escape_user_text():
    assert impact.md_escape("![x](http://e/i.png)") == r"\!\[x\]\(http\://e/i\.png\)"
    table = markdown_table(pd.DataFrame({"a|b": ["<b>x</b>"]}))
    assert table.splitlines() == [r"| a\|b |", "|---|", r"| \<b\>x\</b\> |"]


def test_format_money():
    assert impact.format_money(1234567.8, unit="€") == "€1,234,568"
    assert impact.format_money(-0.004) == "0.00"
    assert impact.format_money(float("nan")) == "n/a"


# ---------------------------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def fraud():
    from mlimpact.io import infer_roles, read_predictions

    path = sample_path("fraud")
    frame, report = read_predictions(path, name=path.name)
    return build_dataset(frame, infer_roles(frame).roles, source=path.name, content_hash=report.content_hash)


def test_fraud_story_with_default_costs(fraud):
    costs = impact.default_costs(fraud)
    assert costs == CostModel(cost_fp=5, cost_fn="amount", cost_review=2)
    report = impact.analyze_impact(fraud, costs, threshold=0.5, rule=impact.default_rule(fraud), segment="channel",
                                  scale="month", unit="€")
    assert impact.default_rule(fraud) == "amount > 500"
    cur = report.points.set_index("point").loc["current"]
    best = report.points.set_index("point").loc["best"]
    assert cur["vs_none_low"] > 0  # clearly worth more than flagging nothing
    assert best["threshold"] != 0.5 and best["value"] > cur["value"]
    assert 3 <= len(report.summary) <= 5
    assert report.summary[0].startswith("Over 2026-01-01 to 2026-06-30, 181 days, 80,000 rows, at threshold 0.5 "
                                        "the model's decisions are worth €")
    assert any("channel = online" in s for s in report.summary)  # where value is lost
    assert any(s.startswith("The biggest risk is the cost of a false negative") for s in report.summary)
    lines = report.header_lines()
    assert lines[: len(report.summary)] == [f"summary: {s}" for s in report.summary]
    assert "cost of a false negative: the row’s `amount`" in lines
    md = report.markdown()
    assert "## Executive summary" in md and "## Assumptions" in md


def test_the_report_is_one_joint_bootstrap(fraud):
    report = impact.analyze_impact(fraud, impact.default_costs(fraud), threshold=0.5, n_boot=200)
    cur = report.points.set_index("point").loc["current"]
    base = report.baselines.set_index("baseline")
    assert (cur["low"], cur["high"]) == (base.loc["model", "low"], base.loc["model", "high"])
    assert (cur["vs_none_low"], cur["vs_none_high"]) == (base.loc["flag_none", "diff_low"],
                                                         base.loc["flag_none", "diff_high"])


def test_business_value_needs_a_binary_score():
    ds = build_dataset(pd.DataFrame({"y": [1.0, 2.0, 3.5], "yhat": [1.1, 2.0, 3.0]}),
                       Roles(label="y", prediction="yhat", task="regression"))
    with pytest.raises(InputError, match=r"^business value needs a binary decision; this file's task is "
                                         r"regression\. Choose the binary task"):
        impact.net_value(ds, CostModel())


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_impact_json_shape(tmp_path, capsys):
    ds = random_ds(seed=7)
    path = tmp_path / "preds.csv"
    ds.frame.to_csv(path, index=False)
    code = main(["impact", str(path), "--label", "y", "--score", "p", "--threshold", "0.4", "--cost-fp", "5",
                 "--cost-fn", "amount", "--value-tp", "1"])
    out, err = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert {"threshold", "value", "best_threshold", "best_value", "baselines"} <= set(doc)
    assert doc["threshold"] == 0.4
    assert set(doc["value"]) == {"value", "low", "high"} and set(doc["best_value"]) == {"value", "low", "high"}
    assert set(doc["baselines"]) == {"flag_none", "flag_all"}
    costs = CostModel(value_tp=1, cost_fp=5, cost_fn="amount")
    ds2 = ds_of(pd.read_csv(path))
    assert doc["value"]["value"] == pytest.approx(impact.net_value(ds2, costs, threshold=0.4)["value"])
    t, v = impact.best_threshold(impact.value_curve(ds2, costs))
    assert (doc["best_threshold"], doc["best_value"]["value"]) == (pytest.approx(t), pytest.approx(v))
    g = impact.row_gains(ds2, costs)
    assert doc["baselines"] == {"flag_none": pytest.approx(g.keep.sum()), "flag_all": pytest.approx(g.flag.sum())}
    assert doc["value"]["low"] <= doc["value"]["value"] <= doc["value"]["high"]
    assert "cost of a false negative: the row’s `amount`" in doc["assumptions"]
    assert 3 <= len(doc["summary"]) <= 5
    lost = doc["segments"]  # value lost per value of the first segment column (inferred: region)
    assert [r["segment"] for r in lost] and all(r["low"] <= r["lost"] <= r["high"] for r in lost)


def test_cli_impact_bad_cost_column_exits_2(tmp_path, capsys):
    path = tmp_path / "preds.csv"
    random_ds().frame.to_csv(path, index=False)
    code = main(["impact", str(path), "--label", "y", "--score", "p", "--cost-fn", "amont"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().endswith("mlimpact: error: column `amont` (cost of a false negative) is not in the file; "
                                "give a number or one of its numeric columns")


def test_cli_impact_text_format(tmp_path, capsys):
    path = tmp_path / "preds.csv"
    random_ds().frame.to_csv(path, index=False)
    assert main(["impact", str(path), "--label", "y", "--score", "p", "--cost-fp", "1", "--cost-fn", "2",
                 "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Over 400 rows, at threshold 0.5 the model's decisions are worth")
    assert "- cost of a false negative: 2" in out


# ---------------------------------------------------------------------------------------------- the page

SOURCE = "mi_source_select"


def _page(sample_index: int):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key=SOURCE).select_index(sample_index).run()
    at.switch_page("pages/impact.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Impact"
    return at


def test_page_fraud_equals_the_cli(tmp_path, capsys):
    at = _page(0)
    assert [m.label for m in at.metric] == ["Worth now per month", "Best threshold", "Worth at best per month",
                                            "Net value per month"]
    assert len(at.get("vega_lite_chart")) == 2  # the value curve, and the open tab's: against the alternatives
    h = next(s.key for s in at.radio if s.key.startswith("imp_scale_")).removeprefix("imp_scale_")
    at.radio(key=f"imp_scale_{h}").set_value("whole file").run()
    at.text_input(key=f"imp_rule_{h}").set_value("").run()
    assert not at.exception and not at.error
    main(["impact", str(sample_path("fraud")), "--cost-fp", "5", "--cost-fn", "amount", "--cost-review", "2"])
    doc = json.loads(capsys.readouterr().out)
    points = next(d.value for d in at.dataframe if "point" in d.value.columns).set_index("point")
    assert points.loc["current", ["value", "low", "high"]].tolist() == pytest.approx(
        [doc["value"]["value"], doc["value"]["low"], doc["value"]["high"]])
    assert points.loc["best", ["threshold", "value", "low", "high"]].tolist() == pytest.approx(
        [doc["best_threshold"], doc["best_value"]["value"], doc["best_value"]["low"], doc["best_value"]["high"]])
    base = next(d.value for d in at.dataframe if "baseline" in d.value.columns).set_index("baseline")
    assert base.loc["flag_none", "value"] == pytest.approx(doc["baselines"]["flag_none"])
    assert at.code[0].value.splitlines() == doc["summary"]


VIEWS = ["Against the alternatives", "Sensitivity (each money term ±50%)", "Where value is lost", "Every threshold"]


def test_page_draws_only_the_open_tab():
    """A cost change redraws the open tab's chart and table only; each tab draws its own when opened."""
    at = _page(0)
    drawn = {}
    for view, table_column in [("Against the alternatives", "baseline"), ("Sensitivity (each money term ±50%)", "term"),
                               ("Where value is lost", "segment"), ("Every threshold", "threshold")]:
        at.session_state["imp_view"] = view
        at.run()
        assert not at.exception and not at.error
        tabs = {t.label: t for t in at.tabs}
        assert list(tabs) == VIEWS
        for label, tab in tabs.items():  # the closed tabs hold nothing
            assert bool(tab.children) == (label == view), label
        frames = [d.value for d in tabs[view].dataframe]
        assert any(table_column in f.columns for f in frames), (view, [f.columns.tolist() for f in frames])
        drawn[view] = len(tabs[view].get("vega_lite_chart"))
    assert drawn == {"Against the alternatives": 1, "Sensitivity (each money term ±50%)": 1,
                     "Where value is lost": 1, "Every threshold": 0}


def test_page_ads_binary_without_amount():
    at = _page(1)
    assert at.metric[0].label == "Worth now per month"
    assert at.code[0].value.startswith("Over 2026-01-01 to 2026-03-31, 90 days, 100,000 rows")


def test_page_support_offers_one_class_against_the_rest():
    at = _page(2)
    assert re.sub(r"\\(.)", r"\1", at.info[0].value).startswith("Business value needs a yes/no decision, and this "
                                                                "file is multiclass")
    h = next(s.key for s in at.selectbox if s.key.startswith("imp_class_")).removeprefix("imp_class_")
    at.selectbox(key=f"imp_class_{h}").set_value("returns").run()
    assert not at.exception and not at.error
    assert len(at.metric) == 4


def test_page_delivery_says_why_there_is_no_money():
    at = _page(3)
    assert at.info[0].value.startswith("Business value needs a yes/no decision; this file's task is regression")
    assert not at.metric


def test_money_beyond_a_trillion_per_decision_is_refused(tmp_path, capsys):
    """1e308 per missed fraud made the bootstrap's eigenvalues fail (an internal error)."""
    assert main(["impact", "sample_data/fraud.csv", "--cost-fn", "1e308"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "mlimpact: error: cost model: cost_fn: 1e+308 is beyond ±1e+12 per decision; give the money in a larger "
        "unit (thousands, millions)")
    frame = pd.DataFrame({"y": [0, 1, 0, 1], "p": [0.1, 0.9, 0.3, 0.6], "amount": [1.0, 2e13, 3.0, 4.0]})
    ds = build_dataset(frame, Roles(label="y", score="p", amount="amount"))
    with pytest.raises(InputError, match=r"column `amount` \(cost of a false negative\) has values beyond ±1e\+12 "
                                         r"\(up to 2e\+13\)"):
        CostModel(cost_fn="amount").validate(ds.frame)


def test_cli_json_is_strict_json():
    from mlimpact.cli.common import json_text

    text = json_text({"value": float("nan"), "bounds": [float("inf"), -float("inf"), 0.5]})
    assert json.loads(text, parse_constant=lambda token: pytest.fail(f"non-standard token {token}")) == {
        "value": None, "bounds": [None, None, 0.5]}


def test_setting_lanes_leaves_the_other_intervals_alone():
    """The model at its threshold and the baselines come from a bootstrap of (label × fixed decisions), which lanes
    do not enter: setting lanes adds their rows and changes neither the current point's interval nor the
    baselines'. (The best threshold's grid holds the lanes' cut-offs, so its interval may move.)"""
    ds = build_dataset(pd.read_csv(sample_path("fraud")), Roles(label="is_fraud", score="fraud_score",
                                                                 amount="amount", other_scores=("fraud_score_v2",)))
    costs = CostModel(cost_fp=5, cost_fn="amount", cost_review=2)
    plain = impact.analyze_impact(ds, costs, threshold=0.5, time_budget_s=None, n_boot=300)
    lanes = impact.analyze_impact(ds, costs, threshold=0.5, lanes=(0.2, 0.6), time_budget_s=None, n_boot=300)
    cols = ["value", "low", "high", "vs_none_low", "vs_none_high", "optimism"]
    pd.testing.assert_frame_equal(plain.points.set_index("point").loc[["current", "best"], cols[:1]],
                                  lanes.points.set_index("point").loc[["current", "best"], cols[:1]])
    pd.testing.assert_frame_equal(plain.points.set_index("point").loc[["current"], cols[:-1]],
                                  lanes.points.set_index("point").loc[["current"], cols[:-1]])
    pd.testing.assert_frame_equal(plain.baselines, lanes.baselines)
    assert {"lanes", "best_lanes"} <= set(lanes.points["point"])
