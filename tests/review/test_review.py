"""Review workbench: selection order, seeded stratified sampling, verdict summaries, corrections, the page."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, precision_score, recall_score
from streamlit.testing.v1 import AppTest

from mlimpact import difficulty as dif
from mlimpact import review as rv
from mlimpact.errors import InputError
from mlimpact.io import SAMPLES, Roles, build_dataset, to_safe_csv
from mlimpact.metrics import evaluate
from mlimpact.review.rows import _allocate

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _binary(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(0.4 * y + 0.6 * rng.random(n), 0, 1).round(3)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.5, 0.25, 0.15, 0.1])
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "y": y, "p": score, "region": region,
                          "comment": ["=HYPERLINK(\"x\")"] + ["fine"] * (n - 1)})
    return frame, build_dataset(frame, Roles(label="y", score="p", id="id", segments=("region",)))


def test_rows_know_their_error_type_and_confidence():
    frame, ds = _binary()
    lanes = dif.Lanes("score", low=0.2, high=0.8)
    codes = dif.lane_codes(dif.lane_curve(ds), lanes)
    rows = rv.review_rows(ds, lanes=codes, threshold=0.5)
    s, y = frame["p"].to_numpy(), frame["y"].to_numpy()
    decision = np.where(s < 0.2, 0, np.where(s >= 0.8, 1, s >= 0.5))
    assert rows.decision.tolist() == decision.tolist()
    want = np.where((decision == 1) & (y == 0), "false_positive", np.where((decision == 0) & (y == 1),
                                                                          "false_negative", "correct"))
    assert [rv.ERROR_TYPES[e] for e in rows.error] == want.tolist()
    assert np.allclose(rows.confidence, np.where(decision == 1, s, 1 - s))


def test_most_confident_mistakes_first_against_sorting():
    frame, ds = _binary()
    rows = rv.review_rows(ds, threshold=0.5)
    got = rv.select_rows(rows, error_types=["false_positive", "false_negative"], n=30)
    mistakes = np.flatnonzero(rows.error > 0)
    want = sorted(mistakes, key=lambda i: (-rows.confidence[i], i))[:30]
    assert got.tolist() == want
    # with correct rows allowed, mistakes still come first
    mixed = rv.select_rows(rows, n=len(frame))
    assert rows.mistake[mixed].tolist() == sorted(rows.mistake[mixed].tolist(), reverse=True)


def test_filters_by_segment_lane_and_error_type():
    frame, ds = _binary()
    curve = dif.lane_curve(ds)
    codes = dif.lane_codes(curve, dif.Lanes("score", low=0.3, high=0.7))
    rows = rv.review_rows(ds, lanes=codes, threshold=0.5)
    mask = rv.segment_mask(ds, {"region": "west"})
    assert mask.tolist() == (frame["region"] == "west").tolist()
    got = rv.select_rows(rows, mask=mask, lanes=["auto_negative"], error_types=["false_negative"], n=10_000)
    want = np.flatnonzero(mask & (codes == dif.AUTO_NEGATIVE) & (rows.error == 2))
    assert sorted(got.tolist()) == want.tolist()
    with pytest.raises(InputError) as err:
        rv.segment_mask(ds, {"region": "mars"})
    assert str(err.value) == "segment value 'mars' of `region` is not in <data>; pick another value"


def test_seeded_sample_is_deterministic_and_stratified():
    frame, ds = _binary(n=1000, seed=4)
    rows = rv.review_rows(ds, threshold=0.5)
    codes, labels = ds.codes("region")
    a = rv.select_rows(rows, order="sample", n=40, seed=7, strata=codes)
    b = rv.select_rows(rows, order="sample", n=40, seed=7, strata=codes)
    c = rv.select_rows(rows, order="sample", n=40, seed=8, strata=codes)
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    assert len(set(a.tolist())) == 40
    sizes = np.bincount(codes, minlength=len(labels))
    got = np.bincount(codes[a], minlength=len(labels))
    exact = sizes * 40 / sizes.sum()
    assert got.sum() == 40 and (np.abs(got - exact) < 1).all()  # proportional, to the nearest row
    # a sample within a filter keeps the same rows when more are asked for (one key per row of the file)
    small = rv.select_rows(rows, order="sample", n=10, seed=7)
    large = rv.select_rows(rows, order="sample", n=20, seed=7)
    assert set(small.tolist()) <= set(large.tolist())
    # more rows asked than exist: every eligible row, once
    west = rv.segment_mask(ds, {"region": "west"})
    everything = rv.select_rows(rows, mask=west, order="sample", n=10_000, seed=1, strata=codes)
    assert sorted(everything.tolist()) == np.flatnonzero(west).tolist()


def test_allocation_rounds_by_largest_remainder():
    assert _allocate(np.array([5, 3, 2]), 5).tolist() == [3, 1, 1]
    assert _allocate(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]
    assert _allocate(np.array([10, 1]), 11).tolist() == [10, 1]


def test_verdict_summary_intervals_and_sentences():
    lanes = np.array([dif.AUTO_NEGATIVE] * 60 + [dif.REVIEW] * 40, dtype=np.int8)
    verdicts = {i: ("upsetting" if i < 3 else "model right", "") for i in range(50)}
    verdicts.update({60 + i: ("label wrong" if i < 4 else "model wrong", "note") for i in range(10)})
    summary = rv.summarize_verdicts(verdicts, lanes=lanes)
    assert list(summary.columns) == rv.VERDICT_SUMMARY_COLUMNS
    row = summary[(summary.group == "automated") & (summary.verdict == "upsetting")].iloc[0]
    assert (row["count"], row["reviewed"], row["share"]) == (3, 50, 0.06)
    # Wilson 95% for 3 of 50, from the formula
    z, n, p = 1.959963984540054, 50, 0.06
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (
        1 + z * z / n)
    assert (row["low"], row["high"]) == pytest.approx((centre - half, centre + half))
    review = summary[(summary.group == "review") & (summary.verdict == "label wrong")].iloc[0]
    assert (review["count"], review["reviewed"]) == (4, 10)
    sentences = rv.verdict_sentences(summary)
    assert "Reviewers found 3 of 50 reviewed automated decisions upsetting: 6% (2–16%)." in sentences
    assert "Reviewers found 4 of 10 reviewed review-lane cases wrongly labelled: 40% (17–69%)." in sentences
    with pytest.raises(InputError) as err:
        rv.summarize_verdicts({1: ("meh", "")})
    assert str(err.value) == "verdict 'meh' is not one of model right, model wrong, label wrong, upsetting"


def test_every_column_shown_and_exports_are_formula_safe():
    frame, ds = _binary()
    rows = rv.review_rows(ds, threshold=0.5)
    view = rv.review_frame(ds, np.array([0, 5]), rows, {0: ("upsetting", "@SUM(A1)")})
    assert list(view.columns)[7:] == list(frame.columns)
    detail = rv.row_detail(ds, 0, rows, {0: ("upsetting", "@SUM(A1)")})
    assert detail["field"].tolist()[7:] == list(frame.columns)
    assert detail.set_index("field").loc["comment", "value"] == "=HYPERLINK(\"x\")"
    table = rv.verdicts_table(ds, {0: ("upsetting", "@SUM(A1)")}, rows)
    assert list(table.columns) == ["row", "id", "lane", "error type", "label", "model decision", "verdict", "note"]
    csv = to_safe_csv(table).decode()
    assert "'@SUM(A1)" in csv and ",@SUM" not in csv
    clash = build_dataset(frame.rename(columns={"comment": "lane"}), Roles(label="y", score="p"))
    assert "lane (file)" in rv.review_frame(clash, np.array([0]), rv.review_rows(clash)).columns


def test_label_corrections_recompute_metrics_binary():
    frame, ds = _binary()
    verdicts = {3: ("label wrong", ""), 10: ("label wrong", "x"), 11: ("upsetting", "")}
    corr = rv.apply_label_corrections(ds, verdicts)
    assert corr.description == "corrected (2 labels changed by reviewers)"
    y = frame["y"].to_numpy().copy()
    y[[3, 10]] = 1 - y[[3, 10]]
    table = evaluate(corr.dataset, threshold=0.5, metrics=["recall", "precision"], intervals=False)
    got = dict(zip(table["metric"], table["value"], strict=True))
    pred = frame["p"] >= 0.5
    assert got["recall"] == pytest.approx(recall_score(y, pred))
    assert got["precision"] == pytest.approx(precision_score(y, pred))
    assert corr.dataset.content_hash != ds.content_hash and ds.y[3] == frame["y"][3]  # original untouched
    compared = rv.compare_metrics(evaluate(ds, threshold=0.5, metrics=["recall"], intervals=False), table)
    assert list(compared.columns) == ["metric", "original", "original_low", "original_high", "corrected",
                                      "corrected_low", "corrected_high", "change"]


def test_label_corrections_multiclass_and_regression():
    frame = pd.DataFrame({"y": ["a", "b", "c", "a"], "pred": ["a", "c", "c", "b"]})
    ds = build_dataset(frame, Roles(label="y", prediction="pred", task="multiclass"))
    corr = rv.apply_label_corrections(ds, {1: ("label wrong", ""), 2: ("label wrong", "")})
    # row 1: the model said c -> label becomes c; row 2: the model agreed with the label -> unknown, left out
    assert (corr.changed, corr.excluded) == (1, 1)
    assert [corr.dataset.classes[i] for i in corr.dataset.y] == ["a", "c", "a"]
    acc = evaluate(corr.dataset, metrics=["accuracy"], intervals=False)["value"].iloc[0]
    assert acc == pytest.approx(accuracy_score(["a", "c", "a"], ["a", "c", "b"]))
    reg = build_dataset(pd.DataFrame({"y": [1.0, 2, 3], "yhat": [1.0, 2.5, 9]}),
                        Roles(label="y", prediction="yhat", task="regression"))
    rc = rv.apply_label_corrections(reg, {2: ("label wrong", "")})
    assert rc.description == "corrected (0 labels changed by reviewers; 1 row marked wrong left out)"
    assert rc.dataset.y.tolist() == [1.0, 2.0] and len(rc.dataset.frame) == 2


def test_bad_options_have_clear_messages():
    _, ds = _binary(50)
    rows = rv.review_rows(ds)
    with pytest.raises(InputError) as err:
        rv.select_rows(rows, order="newest")
    assert str(err.value) == "order 'newest' is not one of confident, sample"
    with pytest.raises(InputError) as err:
        rv.select_rows(rows, lanes=["review"])
    assert str(err.value) == "no lanes are chosen for this file; choose them on the Difficulty page"


# ----------------------------------------------------------------------------- the page
def shown(markdown_source: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown_source)


def _verdict_radio(at):
    return next(r for r in at.radio if r.key.startswith("rev_verdict_"))


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_review_page_verdict_survives_a_page_switch(sample):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(list(SAMPLES).index(sample)).run()
    at.switch_page("pages/review.py").run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    assert at.title[0].value == "Review"
    rows_table = at.dataframe[0].value
    assert len(rows_table) == 50 and rows_table["error type"].iloc[0] != "correct"  # confident mistakes first
    row = at.selectbox(key="rev_row").value
    detail = at.dataframe[1].value
    assert len(detail) == len(rows_table.columns)  # every column of the row, transposed
    _verdict_radio(at).set_value("upsetting").run()
    next(t for t in at.text_input if t.key.startswith("rev_note_")).input("=1+1 rude").run()
    at.button(key="rev_save").click().run()
    assert not at.exception
    (verdicts,) = at.session_state["mi_verdicts"].values()
    assert verdicts == {row: ("upsetting", "=1+1 rude")}
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="rev_row").value == row
    assert _verdict_radio(at).value == "upsetting"
    texts = [shown(m.value) for m in at.markdown]
    assert "- Reviewers found 1 of 1 reviewed cases upsetting: 100% (21–100%)." in texts
    exported = at.dataframe[-1].value
    assert exported["note"].tolist() == ["=1+1 rude"]  # shown as is; the CSV download neutralises it


def test_review_page_starts_from_the_selected_segment():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.session_state["mi_selected_segment"] = {"region": "west"}
    at.switch_page("pages/review.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("rev_segment_column_"))).value == \
        "region"
    assert set(at.dataframe[0].value["region"]) == {"west"}
    at.selectbox(key="rev_error").set_value("false_negative").run()
    assert set(at.dataframe[0].value["error type"]) == {"false negative"}


def test_review_page_sample_order_and_label_corrections():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/review.py").run()
    at.radio(key="rev_order").set_value("sample").run()
    at.number_input(key="rev_n").set_value(20).run()
    first = at.dataframe[0].value["row"].tolist()
    at.run()
    assert at.dataframe[0].value["row"].tolist() == first and len(first) == 20
    at.selectbox(key="rev_lane").set_value("automated").run()
    assert set(at.dataframe[0].value["lane"]) <= {"automatic: not fraud", "automatic: fraud"}
    _verdict_radio(at).set_value("label wrong").run()
    at.button(key="rev_save").click().run()
    at.toggle(key="rev_apply").set_value(True).run()
    assert not at.exception and not at.error
    assert shown(at.markdown[-1].value) == "**Metrics corrected (1 label changed by reviewers), next to the originals**"
    compared = at.dataframe[-1].value
    assert compared["metric"].tolist() == ["recall", "precision", "false_positive_rate", "roc_auc"]
    assert (compared["change"].abs() > 0).any()
