"""Compare: every model against scikit-learn, DeLong against a brute-force computation, paired-interval
coverage by simulation, robustness by hand, the decision table and the page on every sample."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from mlimpact import compare, impact
from mlimpact.engine import rank_statistics
from mlimpact.errors import InputError
from mlimpact.io import Roles, build_dataset

ROOT = Path(__file__).resolve().parents[2]


def binary_frame(n=600, seed=0, missing=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    a = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(3)
    b = np.clip(0.45 * y + 0.55 * rng.random(n), 0, 1).round(3)
    frame = pd.DataFrame({"y": y, "a": a, "b": b, "region": rng.choice(["n", "s", "e"], n),
                          "amount": rng.lognormal(3, 1, n).round(2),
                          "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")})
    if missing:
        frame.loc[: missing - 1, "b"] = np.nan
    return frame


def binary_ds(frame):
    return build_dataset(frame, Roles(label="y", score="a", other_scores=("b",), segments=("region",), time="day"),
                         source="t.csv", content_hash="h")


def brute_delong(y, a, b):
    """O(n²) DeLong: placements by comparing every positive with every negative."""
    y = np.asarray(y).astype(bool)

    def place(s):
        pos, neg = s[y], s[~y]
        cmp = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        return cmp.mean(axis=1), cmp.mean(axis=0)  # V10 per positive, (1 - V01) per negative

    v10a, v01a = place(a)
    v10b, v01b = place(b)
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    n1, n0 = y.sum(), (~y).sum()
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / n1 + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n0
    return v10a.mean(), v10b.mean(), var, s10[0, 0] / n1 + s01[0, 0] / n0


# ---------------------------------------------------------------------------------------------- DeLong


def test_delong_paired_matches_brute_force_and_sklearn():
    f = binary_frame(n=400, seed=1)
    t = compare.delong_paired(f["y"], f["a"], f["b"]).iloc[0]
    auc_a, auc_b, var, var_a = brute_delong(f["y"].to_numpy(), f["a"].to_numpy(), f["b"].to_numpy())
    assert (t["auc_a"], t["auc_b"]) == (pytest.approx(roc_auc_score(f["y"], f["a"])),
                                        pytest.approx(roc_auc_score(f["y"], f["b"])))
    assert t["auc_a"] == pytest.approx(auc_a) and t["auc_b"] == pytest.approx(auc_b)
    assert ((t["high"] - t["low"]) / (2 * 1.959963984540054)) ** 2 == pytest.approx(var)
    assert t["var_a"] == pytest.approx(var_a)
    assert t["var_a"] == pytest.approx(rank_statistics(f["y"], f["a"], None, 1).auc_var[0])


def test_delong_per_group_equals_each_group_alone():
    f = binary_frame(n=500, seed=2)
    codes, labels = pd.factorize(f["region"], sort=True)
    t = compare.delong_paired(f["y"], f["a"], f["b"], codes, len(labels))
    for g, name in enumerate(labels):
        sub = f[f["region"] == name]
        alone = compare.delong_paired(sub["y"], sub["a"], sub["b"]).iloc[0]
        row = t.iloc[g]
        for col in ("auc_a", "auc_b", "difference", "low", "high", "p_value"):
            assert row[col] == pytest.approx(alone[col]), (name, col)


# ---------------------------------------------------------------------------------------------- binary


@pytest.fixture(scope="module")
def binary_comparison():
    f = binary_frame(n=1500, seed=3, missing=20)
    ds = binary_ds(f)
    comp = compare.compare_models(ds, threshold=0.5, segment="region", costs=impact.CostModel(cost_fp=2,
                                  cost_fn="amount"), n_boot=300, time_budget_s=None)
    return f.iloc[20:].reset_index(drop=True), ds, comp


def test_binary_metrics_match_scikit_learn_on_the_shared_rows(binary_comparison):
    f, _, comp = binary_comparison
    assert comp.n_rows == len(f)
    assert comp.notes[0] == ("20 rows without a prediction from every model are left out of the comparison, so "
                             "every model is judged on the same rows")
    o = comp.overall.set_index(["model", "metric"])["value"]
    for col in ("a", "b"):
        pred = f[col] >= 0.5
        assert o[(col, "roc_auc")] == pytest.approx(roc_auc_score(f["y"], f[col]))
        assert o[(col, "average_precision")] == pytest.approx(average_precision_score(f["y"], f[col]))
        assert o[(col, "recall")] == pytest.approx(recall_score(f["y"], pred))
        assert o[(col, "precision")] == pytest.approx(precision_score(f["y"], pred))
        assert o[(col, "f1")] == pytest.approx(f1_score(f["y"], pred))
        assert o[(col, "brier_score")] == pytest.approx(brier_score_loss(f["y"], f[col]))


def test_binary_differences_are_paired_and_named(binary_comparison):
    f, _, comp = binary_comparison
    d = comp.differences
    assert d.columns.tolist() == compare.DIFFERENCE_COLUMNS
    overall = d[d["segment"] == compare.ALL_ROWS].set_index("metric")
    assert overall.loc["roc_auc", "method"] == "DeLong"
    assert overall.loc["recall", "method"] == "paired bootstrap"
    rec = recall_score(f["y"], f["b"] >= 0.5) - recall_score(f["y"], f["a"] >= 0.5)
    assert overall.loc["recall", "difference"] == pytest.approx(rec)
    assert (overall["low"] <= overall["difference"]).all() and (overall["difference"] <= overall["high"]).all()
    # per segment: the values are each segment's own metrics
    seg = d[(d["segment"] == "region = s") & (d["metric"] == "roc_auc")].iloc[0]
    sub = f[f["region"] == "s"]
    assert seg["value_model"] == pytest.approx(roc_auc_score(sub["y"], sub["b"]))
    assert seg["winner"] in ("a", "b", "no clear winner")
    wins = comp.wins()
    assert wins["segment"].tolist() == [compare.ALL_ROWS, "region = e", "region = n", "region = s"]
    assert set(wins.columns) == {"segment", *comp.metrics}


def test_robustness_by_hand(binary_comparison):
    f, _, comp = binary_comparison
    r = comp.robustness.set_index(["model", "metric"]).loc[("a", "recall")]
    per = {g: recall_score(s["y"], s["a"] >= 0.5) for g, s in f.groupby("region")}
    worst = min(per, key=per.get)
    assert r["worst_segment"] == f"region = {worst}" and r["worst_segment_value"] == pytest.approx(per[worst])
    assert r["segment_spread"] == pytest.approx(max(per.values()) - min(per.values()))
    months = {m: recall_score(s["y"], s["a"] >= 0.5) for m, s in f.groupby(f["day"].dt.to_period("M"))}
    assert comp.period == "M" and r["n_periods"] == len(months)
    assert r["period_spread"] == pytest.approx(max(months.values()) - min(months.values()))
    assert comp.robustness.columns.tolist() == compare.ROBUSTNESS_COLUMNS


def test_value_under_the_same_cost_model(binary_comparison):
    f, _, comp = binary_comparison
    v = comp.value.set_index(["model", "point"])
    costs = impact.CostModel(cost_fp=2, cost_fn="amount")
    sub = build_dataset(f, Roles(label="y", score="b"))
    assert v.loc[("b", "at threshold 0.5"), "value"] == pytest.approx(
        impact.net_value(sub, costs, threshold=0.5)["value"])
    t, best = impact.best_threshold(impact.value_curve(sub, costs))
    assert v.loc[("b", "at its best threshold"), ["threshold", "value"]].tolist() == pytest.approx([t, best])
    a_val = v.loc[("a", "at its best threshold"), "value"]
    assert v.loc[("b", "at its best threshold"), "difference"] == pytest.approx(best - a_val)


def test_paired_interval_coverage_by_simulation():
    """Paired intervals of the recall difference cover the true difference about 95% of the time.

    Model a flags a positive with probability 0.7 and model b with 0.75, correlated through a shared
    uniform; the true difference in recall is 0.05.
    """
    rng = np.random.default_rng(11)
    covered, auc_covered, sims = 0, 0, 80
    for i in range(sims):
        n = 400
        y = (rng.random(n) < 0.4).astype(int)
        u = rng.random(n)
        a = np.where(y == 1, (u < 0.7) * 0.8 + 0.1 * rng.random(n), 0.6 * rng.random(n))
        b = np.where(y == 1, (u < 0.75) * 0.8 + 0.1 * rng.random(n), 0.6 * rng.random(n))
        ds = build_dataset(pd.DataFrame({"y": y, "a": a, "b": b}), Roles(label="y", score="a", other_scores=("b",)))
        comp = compare.compare_models(ds, threshold=0.5, metrics=["recall", "roc_auc"], n_boot=300, seed=i,
                                      time_budget_s=None)
        d = comp.differences.set_index("metric")
        covered += d.loc["recall", "low"] <= 0.05 <= d.loc["recall", "high"]
        # AUC: negatives below 0.6 and positives either ~0.8-0.9 (above all negatives) or ~0.0-0.1
        # true AUC = P(hit) + P(miss) * P(neg < pos | miss): a miss scores U(0, .1) vs negatives U(0, .6)
        true = (0.75 + 0.25 * (0.05 / 0.6 * 0.5)) - (0.7 + 0.3 * (0.05 / 0.6 * 0.5))
        auc_covered += d.loc["roc_auc", "low"] <= true <= d.loc["roc_auc", "high"]
    assert 0.86 <= covered / sims <= 1.0
    assert 0.86 <= auc_covered / sims <= 1.0


def test_one_model_is_compared_with_a_stand_in():
    f = binary_frame(n=300, seed=4)
    ds = build_dataset(f, Roles(label="y", score="a"))
    comp = compare.compare_models(ds, threshold=0.5, metrics=["roc_auc", "recall"], n_boot=100)
    assert comp.models == ("a", compare.BASELINE_MODEL["binary"])
    auc = comp.overall.set_index(["model", "metric"]).loc[(compare.BASELINE_MODEL["binary"], "roc_auc"), "value"]
    assert auc == 0.5


# ---------------------------------------------------------------------------------------------- other tasks


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_multiclass_other_model_column_matches_scikit_learn():
    rng = np.random.default_rng(5)
    n = 900
    classes = np.array(["billing", "tech", "other"])
    y = rng.choice(classes, n, p=[0.5, 0.3, 0.2])
    p1 = np.where(rng.random(n) < 0.7, y, rng.choice(classes, n))
    p2 = np.where(rng.random(n) < 0.6, y, rng.choice(np.append(classes, "spam"), n))
    f = pd.DataFrame({"y": y, "p1": p1, "p2": p2, "lang": rng.choice(["en", "de"], n)})
    # the Dataset takes numeric other_scores only; text predictions are compared when named explicitly
    ds = build_dataset(f, Roles(label="y", prediction="p1", task="multiclass"))
    comp = compare.compare_models(ds, ["p1", "p2"], segment="lang", n_boot=200, time_budget_s=None)
    o = comp.overall.set_index(["model", "metric"])["value"]
    for col in ("p1", "p2"):
        assert o[(col, "accuracy")] == pytest.approx(accuracy_score(y, f[col]))
        assert o[(col, "balanced_accuracy")] == pytest.approx(balanced_accuracy_score(y, f[col]))
        assert o[(col, "macro_f1")] == pytest.approx(f1_score(y, f[col], average="macro"))
        assert o[(col, "weighted_f1")] == pytest.approx(f1_score(y, f[col], average="weighted"))
    assert any("predicts 1 value(s) that are not classes of the label (e.g. 'spam')" in n for n in comp.notes)
    d = comp.differences.set_index(["segment", "metric"])
    assert d.loc[(compare.ALL_ROWS, "accuracy"), "winner"] == "p1"


def test_regression_models_match_scikit_learn():
    rng = np.random.default_rng(6)
    n = 800
    y = rng.normal(30, 8, n)
    f = pd.DataFrame({"y": y, "m1": y + rng.normal(0, 3, n), "m2": y + rng.normal(1, 4, n),
                      "city": rng.choice(["a", "b"], n)})
    ds = build_dataset(f, Roles(label="y", prediction="m1", other_scores=("m2",), task="regression"))
    comp = compare.compare_models(ds, segment="city", n_boot=200, time_budget_s=None)
    o = comp.overall.set_index(["model", "metric"])["value"]
    assert o[("m2", "mae")] == pytest.approx(mean_absolute_error(y, f["m2"]))
    assert o[("m2", "r2")] == pytest.approx(r2_score(y, f["m2"]))
    d = comp.differences[comp.differences["segment"] == compare.ALL_ROWS].set_index("metric")
    assert d.loc["mae", "winner"] == "m1" and d.loc["rmse", "winner"] == "m1"
    assert d.loc["mean_error", "winner"] == "m1"  # |bias| of m2 is about 1


def test_bad_model_columns_say_what_to_do():
    f = binary_frame(n=100).assign(label_text="x")
    ds = build_dataset(f, Roles(label="y", score="a"))
    with pytest.raises(InputError, match=r"^column `label_text` \(a model to compare\) does not hold numbers; "):
        compare.compare_models(ds, ["a", "label_text"])
    with pytest.raises(InputError, match=r"^column `zz` \(a model to compare\) is not in the file"):
        compare.compare_models(binary_ds(binary_frame(n=100)), ["a", "zz"])


# ---------------------------------------------------------------------------------------------- decision table


def test_decision_table_markdown_escapes_user_text_and_keeps_extra_options(binary_comparison):
    _, _, comp = binary_comparison
    numbers = compare.decision_numbers(comp, unit="€")
    assert numbers["option"].tolist() == ["a", "b"]
    assert numbers.columns[1] == "ROC AUC"
    rows = compare.design_rows_template(["a", "b", "vendor <script>"])
    rows.loc[0, "Notes"] = "| pipe and [link](http://evil) ![img](x.png)"
    rows.loc[2, "Likelihood of success"] = "=HYPERLINK(1)"
    md = compare.decision_table_markdown(numbers, rows, title="Pick a model", summary=["a | b"],
                                         assumptions=["cost of a false positive: 2"])
    lines = md.splitlines()
    assert lines[0] == "# Pick a model"
    assert lines[2] == r"a \| b"
    assert lines[4] == r"| Criterion | a | b | vendor \<script\> |"
    notes = next(line for line in lines if line.startswith("| Notes |"))
    assert notes == r"| Notes | \| pipe and \[link\]\(http\://evil\) \!\[img\]\(x\.png\) |  |  |"
    auc = next(line for line in lines if line.startswith("| ROC AUC |"))
    assert auc.endswith(" | — |")  # an option without numbers
    assert next(line for line in lines if line.startswith("| Likelihood")) == \
        r"| Likelihood of success |  |  | \=HYPERLINK\(1\) |"
    assert lines[-1] == r"- cost of a false positive\: 2"
    assert "<" not in md.replace(r"\<", "") and "](" not in md.replace(r"\]\(", "")


def test_comparison_summary_names_the_winner_and_the_exception(binary_comparison):
    _, _, comp = binary_comparison
    text = compare.comparison_summary(comp)
    assert text[0].startswith("b against a: ROC AUC ")
    assert text[-1].startswith("Under the same cost model, ")


# ---------------------------------------------------------------------------------------------- the page


def _page(sample_index: int):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(sample_index).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Compare"
    return at


def _shown(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def test_page_fraud_two_models():
    at = _page(0)
    assert not at.info
    assert at.code[0].value.startswith("fraud_score_v2 against fraud_score: ROC AUC 0.978 vs 0.959")
    frames = [d.value for d in at.dataframe]
    side = next(f for f in frames if "option" in f.columns and "ROC AUC" in f.columns)
    assert side["option"].tolist() == ["fraud_score", "fraud_score_v2"]
    assert len(at.get("vega_lite_chart")) == 3
    # compare per channel: the challenger is clearly worse on phone (planted)
    h = next(s.key for s in at.selectbox if s.key.startswith("cmp_segment_")).removeprefix("cmp_segment_")
    at.selectbox(key=f"cmp_segment_{h}").set_value("channel").run()
    assert not at.exception and not at.error
    wins = next(d.value for d in at.dataframe if "segment" in d.value.columns and "roc_auc" in d.value.columns)
    assert wins.set_index("segment").loc["channel = phone", "roc_auc"] == "fraud_score"
    assert any("clearly worse on channel = phone" in line for line in at.code[0].value.splitlines())
    decision = at.code[-1].value
    assert decision.startswith("# Decision table") and "Cost to build and run" in decision
    keep = at.session_state["mi_design_doc"]
    (entry,) = keep.values()
    assert entry["rows"]["option"].tolist() == ["fraud_score", "fraud_score_v2", "No model (keep the current process)"]


@pytest.mark.parametrize("index,model", [(1, "predicted_ctr"), (2, "predicted_queue"), (3, "predicted_minutes")])
def test_page_one_model_against_a_stand_in(index, model):
    at = _page(index)
    assert _shown(at.info[0].value).startswith(f"This file has one model ({model}). To compare models, pick")
    assert at.code[0].value.startswith("baseline: ")
    assert len(at.get("vega_lite_chart")) >= 2


def test_thousands_of_classes_compare_without_classes_cubed(monkeypatch):
    """Compare on 3,000 classes allocated (replicates x K³) and failed with 589 TiB; now the occurring cells."""
    import time

    import mlimpact.compare.paired_bootstrap as pb

    rng = np.random.default_rng(9)
    n, K = 3000, 40
    y = rng.integers(0, K, n)
    a = np.where(rng.random(n) < 0.6, y, rng.integers(0, K, n))
    b = np.where(rng.random(n) < 0.5, y, rng.integers(0, K, n))
    frame = pd.DataFrame({"truth": [f"c{v}" for v in y], "model_a": [f"c{v}" for v in a],
                          "model_b": [f"c{v}" for v in b], "region": rng.choice(["x", "y"], n)})
    ds = build_dataset(frame, Roles(label="truth", prediction="model_a", other_scores=("model_b",),
                                    task="multiclass"))
    kw = {"segment": "region", "n_boot": 300, "time_budget_s": None}
    dense = compare.compare_models(ds, **kw).differences
    monkeypatch.setattr(pb, "DENSE_CELLS_MAX", 0)
    sparse = compare.compare_models(ds, **kw).differences
    np.testing.assert_array_equal(dense["difference"], sparse["difference"])
    np.testing.assert_allclose(dense["low"], sparse["low"], atol=0.02)
    np.testing.assert_allclose(dense["high"], sparse["high"], atol=0.02)
    monkeypatch.undo()
    many = np.repeat(np.arange(3000), 10)
    big = pd.DataFrame({"truth": many.astype(str), "model_a": np.roll(many, 1).astype(str),
                        "model_b": many.astype(str), "region": rng.choice(["x", "y"], len(many))})
    start = time.perf_counter()
    comparison = compare.compare_models(build_dataset(big, Roles(label="truth", prediction="model_a",
                                                         other_scores=("model_b",), task="multiclass")),
                                segment="region", n_boot=100, time_budget_s=None)
    assert len(comparison.differences) and time.perf_counter() - start < 120


def test_each_models_score_is_sorted_once_and_the_numbers_do_not_change(monkeypatch):
    """The overall and per-segment metrics of a model share its one sort (a million-row comparison sorted each
    score twice); the intervals are the same as with a sort per call."""
    import mlimpact.compare.models as models

    f = binary_frame(n=800, seed=8, missing=0)
    kwargs = {"threshold": 0.5, "segment": "region", "n_boot": 100, "time_budget_s": None, "seed": 4}
    sorts = []
    real = models.score_order
    monkeypatch.setattr(models, "score_order", lambda *a, **k: sorts.append(1) or real(*a, **k))
    shared = compare.compare_models(binary_ds(f), **kwargs)
    assert len(sorts) == 2  # models a and b
    monkeypatch.setattr(models, "score_order", lambda *a, **k: sorts.append(1))  # None: each call sorts on its own
    alone = compare.compare_models(binary_ds(f), **kwargs)
    assert len(sorts) == 2 + 4  # asked again on every call: overall and per segment, for each model
    pd.testing.assert_frame_equal(shared.overall, alone.overall)
    pd.testing.assert_frame_equal(shared.segments, alone.segments)
    pd.testing.assert_frame_equal(shared.differences, alone.differences)
