"""The package functions the pages call instead of computing in place (segment candidates, bin edges,
selections, default lanes, filters, captions, money choices, decision-table rows, monitoring texts).

Each is checked on small hand-computed frames, and on the four samples against the code the pages ran
before it moved into the package (copied here as ``_old_*``), so the pages show what they showed.
"""

from __future__ import annotations

import types
from functools import cache
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import pytest

from mlimpact import compare, impact, report, slices
from mlimpact import difficulty as dif
from mlimpact import monitoring as mon
from mlimpact import review as rv
from mlimpact.errors import InputError
from mlimpact.format import format_cell, sentence, subject_name
from mlimpact.io import SAMPLES, Roles, build_dataset, sample_path
from mlimpact.io.load import dataset_of, read_source
from mlimpact.metrics import METRICS, curves, default_metrics, evaluate, headline_metrics, main_metric

SAMPLE_KEYS = list(SAMPLES)


@cache
def _sample(key: str):
    source = read_source(sample_path(key), is_sample=True)
    return dataset_of(source, source.guess.roles)


def _small(**roles):
    frame = pd.DataFrame({"y": [0, 1, 1, 0, 1, 0, 0, 1], "p": [0.1, 0.9, 0.6, 0.4, 0.8, 0.2, 0.7, 0.3],
                          "region": list("nnssnnss"), "channel": list("abababab"), "amount": [1.0, 2, 3, 4, 5, 6, 7, 8],
                          "id": range(8), "p2": [0.2, 0.8, 0.5, 0.5, 0.7, 0.3, 0.6, 0.4]})
    return build_dataset(frame, Roles(label="y", score="p", **roles))


# ----------------------------------------------------------------------------- segment choices
def _old_candidates(ds):
    roles = ds.roles
    not_segments = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
                    *roles.class_scores, *roles.other_scores}
    return list(roles.segments) + [c for c in ds.frame.columns if c not in not_segments and c not in roles.segments]


def test_segment_candidates_hand_made():
    ds = _small(segments=("channel",), id="id", other_scores=("p2",))
    # the segment role first, then every column with no role (amount has none here)
    assert slices.segment_candidates(ds) == ["channel", "region", "amount"]
    assert slices.role_segments(ds) == ["channel"]


@pytest.mark.parametrize("sample", SAMPLE_KEYS)
def test_segment_candidates_as_the_pages_had_them(sample):
    ds = _sample(sample)
    assert slices.segment_candidates(ds) == _old_candidates(ds)
    assert slices.role_segments(ds) == [c for c in ds.roles.segments if c in ds.frame.columns]


def test_bin_edges_parsed_or_explained():
    cols = ["amount", "region"]
    assert slices.parse_bin_edges("amount: 0, 100,500", cols) == {"amount": [0.0, 100.0, 500.0]}
    assert slices.parse_bin_edges(" amount :1,", cols) == {"amount": [1.0]}
    assert slices.parse_bin_edges("", cols) is None
    assert slices.parse_bin_edges("   ", cols) is None
    with pytest.raises(InputError) as exc:
        slices.parse_bin_edges("amount: 0, ten", cols)
    assert str(exc.value) == ("Bin edges: could not convert string to float: ' ten'. "
                              "Write them as `column: 0, 100, 500`.")
    with pytest.raises(InputError) as exc:
        slices.parse_bin_edges("size: 1, 2", cols)
    assert str(exc.value) == "Bin edges: column `size` is not in the file. Write them as `column: 0, 100, 500`."


@pytest.mark.parametrize("selected", [{"region": "west"}, {"a=b": "x|y", "city": "São Paulo %20"},
                                      {"amount": "(100, 500]", "channel": "online"}])
def test_selection_round_trips_through_the_link(selected):
    text = slices.selection_text(selected)
    assert text == "|".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in selected.items())
    assert slices.parse_selection(text, list(selected) + ["other"]) == selected


def test_selection_from_a_link_names_known_columns_only():
    assert slices.selection_text(None) is None
    assert slices.selection_text({}) is None
    assert slices.parse_selection("region=west|planet=mars", ["region"]) is None
    assert slices.parse_selection("no pairs here", ["region"]) is None
    assert slices.parse_selection("region=north|region=west", ["region"]) == {"region": "west"}
    text = "a=1|b=x%7Cy|junk"
    old = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in text.split("|") if "=" in p)}
    assert slices.parse_selection(text, ["a", "b"]) == old == {"a": "1", "b": "x|y"}


# ----------------------------------------------------------------------------- the Segments page's rows
def test_metric_rows_sorted_worst_first_on_request():
    table = pd.DataFrame({"metric": ["recall"] * 3 + ["mae"] * 3, "value": [0.9, 0.2, np.nan, 3.0, 1.0, 2.0],
                          "segment": list("abcabc")})
    assert slices.metric_rows(table, "recall")["segment"].tolist() == ["a", "b", "c"]  # table order: impact
    assert slices.metric_rows(table, "recall", "metric")["segment"].tolist() == ["b", "a", "c"]
    assert slices.metric_rows(table, "mae", "metric")["segment"].tolist() == ["a", "c", "b"]  # lower is better
    assert slices.metric_value(table.assign(value=[0.5, 0, 0, 0, 0, 0]), "recall") == 0.5


def test_segments_summary_counts_flagged_and_small():
    rows = pd.DataFrame({"significantly_worse": [True, True, False, False], "small": [False, False, False, False]})
    assert slices.segments_summary(rows, 1234, "precision", 30) == (
        "2 of 4 segments are significantly worse than the rest on precision (Benjamini–Hochberg at 5% over all "
        "1,234 tests shown).")


@pytest.mark.parametrize("sample", SAMPLE_KEYS)
def test_segment_table_rows_as_the_page_showed_them(sample):
    ds = _sample(sample)
    column = _old_candidates(ds)[0]
    metrics = default_metrics(ds)
    metric = main_metric(ds.task)
    table = slices.segment_table(ds, [column], threshold=0.5, metrics=metrics, min_size=30, top_k=20, n_bins=5,
                                 sort_by="impact")
    for sort_by in ("impact", "metric"):
        rows = table[table["metric"] == metric]
        if sort_by == "metric":
            rows = rows.sort_values("value", ascending=METRICS[metric].direction == "higher", na_position="last")
        pd.testing.assert_frame_equal(slices.metric_rows(table, metric, sort_by), rows)
    rows = table[table["metric"] == metric]
    flagged, n_small = rows[rows["significantly_worse"]], int(rows["small"].sum())
    summary = (f"{len(flagged)} of {len(rows)} segments are significantly worse than the rest on "
               f"{METRICS[metric].label.lower()} (Benjamini–Hochberg at 5% over all {len(table):,} tests shown).")
    if n_small:
        summary += f" {n_small} segments have fewer than 30 rows: their intervals are wide."
    assert slices.segments_summary(rows, len(table), metric, 30) == summary
    shown_cols = [column] + ["n"] + (["positives"] if ds.task == "binary" else []) + [
        "value", "low", "high", "rest_value", "difference", "q_value", "significantly_worse", "small", "impact", "note"]
    pd.testing.assert_frame_equal(slices.segment_display(rows, [column], ds.task),
                                  rows[shown_cols].assign(note=rows["note"].fillna("")))
    assert slices.segment_of_row(rows, [column], [len(rows) - 1]) == {column: str(rows.iloc[-1][column])}
    assert slices.segment_of_row(rows, [column], [len(rows)]) is None
    assert slices.segment_of_row(rows, [column], []) is None


def test_weak_slice_choices():
    assert slices.error_kinds("binary") == ["misclassification", "false_negative", "false_positive", "log_loss"]
    assert slices.error_kinds("multiclass") == ["misclassification", "log_loss"]
    assert slices.rerank_options(default_metrics(_small())) == ["(error rate)", "recall", "precision", "roc_auc",
                                                                 "f1", "accuracy"]


def test_weak_slice_rows_and_pick_on_the_fraud_sample():
    ds = _sample("fraud")
    result = slices.search_weak_slices(ds, kind="misclassification", threshold=0.5, max_level=2, k=10,
                                       time_budget_s=30.0)
    assert not result.slices.empty
    found = result.slices
    findings = found.assign(finding=[slices.slice_sentence(r, overall=result.overall_error_rate,
                                                           kind="misclassification")
                                     for r in found.to_dict("records")])
    old = findings[["rank", "finding", "ratio_to_overall", "share", "q_value", "n", "error_rate", "low", "high"]]
    pd.testing.assert_frame_equal(slices.weak_slice_rows(result, "misclassification"), old)
    ranked = slices.rerank_slices(result, ds, metric="recall", threshold=0.5)
    shown = slices.weak_slice_rows(result, "misclassification", ranked, "recall")
    old = old.merge(ranked[["rank", "value", "low", "high"]].rename(
        columns={"value": "recall", "low": "recall_low", "high": "recall_high"}), on="rank")
    pd.testing.assert_frame_equal(shown, old.sort_values("recall", ascending=True, na_position="last"))
    picked = slices.picked_slice(result, shown, [0])
    i = int(np.flatnonzero(found["rank"].to_numpy() == int(shown.iloc[0]["rank"]))[0])
    assert picked["description"] == found.iloc[i]["description"]
    np.testing.assert_array_equal(picked["rows"], result.row_indices(i))
    assert slices.picked_slice(result, shown, [len(shown)]) is None
    done = "" if result.settings.get("complete", True) else " (stopped at the 30 s time budget: partial search)"
    assert slices.search_caption(result) == f"{result.n_evaluated:,} slices evaluated{done}; {len(found)} listed."


# ----------------------------------------------------------------------------- the Overview page
def test_leading_metrics():
    assert [main_metric(t) for t in ("binary", "multiclass", "regression")] == ["recall", "accuracy", "mae"]
    assert headline_metrics("regression", {"r2", "mae", "other"}) == ["mae", "r2"]


def test_confusion_counts_and_titles_hand_made():
    conf = curves.confusion_table(np.array([0, 0, 0, 1, 1, 1, 1]), np.array([0, 1, 1, 1, 1, 1, 0]),
                                  ["not fraud", "fraud"])
    assert report.confusion_counts(conf, "fraud") == {"true_positives": 3, "false_positives": 2, "positives": 4}
    assert report.confusion_title(conf, "fraud") == "Catches 3 of 4 fraud cases; flags 2 others"
    perfect = curves.confusion_table(np.array([0, 1, 2]), np.array([0, 1, 2]), ["a", "b", "c"])
    assert report.mixup_title(perfect) == "No mix-ups: every row is classified right"
    mixed = curves.confusion_table(np.array([0, 1, 1, 2, 2, 2]), np.array([0, 0, 1, 1, 1, 2]), ["a", "b", "c"])
    assert report.mixup_title(mixed) == "Most common mix-up: c sent to b (2 rows)"


def test_overview_caption_and_warnings_hand_made():
    ds = _small()
    assert report.rows_caption(ds, 0.25) == "8 rows · threshold 0.25 · 95% intervals in brackets"
    notes = ["column `p`: scores range from 3 to 9", "two values read as missing", "label: only one class occurs"]
    assert report.data_warnings(notes) == [notes[0], notes[2]]
    assert report.subject_of(ds) == subject_name("y", ds.roles.positive)


@pytest.mark.parametrize("sample", SAMPLE_KEYS)
def test_overview_numbers_as_the_page_showed_them(sample):
    ds = _sample(sample)
    table = evaluate(ds, threshold=0.5, metrics=default_metrics(ds))
    cells = report.metric_cells(table)
    subject = subject_name(ds.roles.label, ds.roles.positive) if ds.task == "binary" else "positive"
    assert report.subject_of(ds) == subject
    rows = report.headline_rows(ds.task, cells, subject)
    old = {"binary": ["recall", "precision", "roc_auc", "positive_rate"],
           "multiclass": ["accuracy", "balanced_accuracy", "macro_f1", "top_2_accuracy"],
           "regression": ["mae", "rmse", "r2", "mean_error"]}[ds.task]
    old = [m for m in old if m in cells]
    assert [r["metric"] for r in rows] == old
    assert [r["value"] for r in rows] == [format_cell(m, cells[m]).split(" (")[0] for m in old]
    assert [r["sentence"] for r in rows] == [sentence(m, cells[m], subject=subject) for m in old]
    shown = report.all_metrics_table(table)
    assert shown.columns.tolist() == ["label", "metric", "value", "low", "high", "n", "note", "shown"]
    assert shown["shown"].tolist() == [format_cell(m, cells[m]) for m in table["metric"]]
    caption = f"{ds.n:,} rows" + (" · threshold 0.5" if ds.task == "binary" else "") + (
        f" · {ds.n_excluded:,} rows excluded (see Data)" if ds.n_excluded else "") + " · 95% intervals in brackets"
    assert report.rows_caption(ds, 0.5) == caption
    if ds.task == "binary":
        conf = curves.confusion_table(ds.y, ds.predicted(0.5), [f"not {subject}", subject])
        tp = int(conf.loc[(conf.actual == subject) & (conf.predicted == subject), "rows"].iloc[0])
        fp = int(conf.loc[(conf.actual != subject) & (conf.predicted == subject), "rows"].iloc[0])
        pos = int(conf.loc[conf.actual == subject, "rows"].sum())
        assert report.confusion_title(conf, subject) == f"Catches {tp:,} of {pos:,} {subject} cases; flags {fp:,} others"
        assert report.confusion_counts(conf, subject)["positives"] == pos == int(ds.y.sum())


# ----------------------------------------------------------------------------- default lanes
def _old_review_lanes(ds, saved):
    """pages/review.py before: the saved lanes, or the default ones."""
    lanes = saved
    if lanes is None or lanes.mode not in dif.available_modes(ds):
        mode = dif.available_modes(ds)[0]
        curve = dif.lane_curve(ds, mode=mode)
        lanes = dif.choose_lanes(curve, dif.default_policy(ds)).lanes
    return lanes


def _old_report_lanes(ds, saved):
    """report/document.py before: curve, point and lanes."""
    lanes = saved
    if lanes is None or lanes.mode not in dif.available_modes(ds):
        mode = dif.available_modes(ds)[0]
        curve = dif.lane_curve(ds, mode=mode)
        point = dif.choose_lanes(curve, dif.default_policy(ds))
        lanes = point.lanes
    else:
        curve = dif.lane_curve(ds, mode=lanes.mode, tolerance=lanes.tolerance)
        point = dif.evaluate_lanes(curve, lanes)
    return curve, point, lanes


@pytest.mark.parametrize("sample", SAMPLE_KEYS)
def test_default_lanes_as_review_and_report_had_them(sample):
    ds = _sample(sample)
    if dif.unavailable_reason(ds):
        pytest.skip("no lanes for this sample")
    used = dif.lanes_in_use(ds)
    assert used.is_default and used.lanes == _old_review_lanes(ds, None)
    curve, point, lanes = _old_report_lanes(ds, None)
    assert (used.point, used.lanes) == (point, lanes)
    np.testing.assert_array_equal(used.curve.values, curve.values)
    # lanes chosen by hand on the Difficulty page are used as they are
    mode = dif.available_modes(ds)[-1]
    curve = dif.lane_curve(ds, mode=mode)
    chosen = dif.choose_lanes(curve, dif.LanePolicy(method="target", target_error=0.2)).lanes
    used = dif.lanes_in_use(ds, chosen)
    assert not used.is_default and used.lanes is chosen
    assert used.point == _old_report_lanes(ds, chosen)[1]
    assert used.lanes == _old_review_lanes(ds, chosen)


def test_lanes_of_another_mode_fall_back_to_the_default():
    ds = _small()
    stale = dif.Lanes("top_probability", cutoff=0.7)  # chosen when the file was read as multiclass
    assert dif.saved_lanes(ds, stale) is None
    assert dif.lanes_in_use(ds, stale).is_default
    assert dif.start_policy(ds, dif.saved_lanes(ds, stale)) == dif.default_policy(ds)
    assert dif.start_policy(ds, stale) == stale.policy
    calls = []
    used = dif.lanes_in_use(ds, curve_of=lambda mode, tol: calls.append((mode, tol)) or dif.lane_curve(ds, mode=mode))
    assert calls == [("score", None)] and used.point == dif.default_point(ds, used.curve)


def test_manual_start_keeps_lanes_on_the_same_curve():
    ds = _small()
    curve = dif.lane_curve(ds)
    mine = dif.Lanes("score", low=0.3, high=0.75)
    assert dif.manual_start(ds, mine, curve) is mine
    assert dif.manual_start(ds, None, curve) == dif.default_point(ds, curve).lanes
    solved = []
    dif.manual_start(ds, None, curve, solve=lambda c, p: solved.append(p) or dif.choose_lanes(c, p))
    assert solved == [dif.default_policy(ds)]


# ----------------------------------------------------------------------------- the Difficulty page's controls
def test_policy_inputs_round_trip():
    policy = dif.LanePolicy(method="capacity", target_error=0.025, reviewers=3, cases_per_reviewer=200,
                            cases_per_day=20_000)
    inputs = dif.policy_inputs(policy)
    assert inputs == {"method": "capacity", "target": 2.5, "reviewers": 3, "per_reviewer": 200, "per_day": 20_000}
    assert dif.policy_from_inputs(**inputs) == policy
    with pytest.raises(InputError):
        dif.policy_from_inputs("target", 150.0, 1, 1, 1)


def test_slider_values_stay_inside_the_slider():
    bounds = (0.0, 1.0, 0.001)
    assert dif.clamp(1.2, bounds) == 1.0 and dif.clamp(-0.1, bounds) == 0.0
    assert dif.slider_value(dif.Lanes("score", low=0.2, high=1.3), bounds) == (0.2, 1.0)
    assert dif.slider_value(dif.Lanes("top_probability", cutoff=-1.0), bounds) == 0.0
    assert dif.picked_cutoffs({"low": -1.0, "high": 0.5}, bounds, True) == (0.0, 0.5)
    assert dif.picked_cutoffs({"low": 0.1, "high": 0.5}, bounds, False) == 0.5
    assert dif.picked_cutoffs({"automation_rate": 0.9}, bounds, True) is None


def test_manual_lanes_from_the_slider():
    ds = _small()
    curve = dif.lane_curve(ds)
    policy = dif.LanePolicy(method="manual")
    assert dif.manual_lanes(curve, (0.2, 0.8), mode="score", tolerance=None, policy=policy) == dif.Lanes(
        "score", low=0.2, high=0.8, policy=policy)
    with pytest.raises(InputError):
        dif.manual_lanes(curve, (0.8, 0.2), mode="score", tolerance=None, policy=policy)
    assert dif.lane_columns(True) == ["auto_negative", "review", "auto_positive"]


def test_headline_numbers_hand_computed():
    point = dif.OperatingPoint(dif.Lanes("score", low=0.1, high=0.9), n=100, automated=80, errors=2, review=20)
    policy = dif.LanePolicy(method="capacity", reviewers=2, cases_per_reviewer=150, cases_per_day=1000)
    numbers = dif.headline_numbers(point, policy)
    assert [n["label"] for n in numbers] == ["Automated", "Errors among automated", "Reviews a day",
                                             "Automated errors a day"]
    a_lo, a_hi = point.automation_interval
    assert numbers[0] == {"label": "Automated", "value": "80%",
                          "help": f"95% interval {dif.percent(a_lo)}–{dif.percent(a_hi)}"}
    assert numbers[1]["value"] == dif.percent_cell(0.025, *point.error_interval).split(" (")[0]
    assert numbers[2] == {"label": "Reviews a day", "value": "200", "help": "Capacity: 300 a day"}
    assert numbers[3] == {"label": "Automated errors a day", "value": "20", "help": "Out of 1,000 cases a day"}


def test_frontier_caption_and_segment_table():
    exact = pd.DataFrame()
    exact.attrs["exact"] = True
    assert dif.frontier_caption(exact, False) == ("The curve is exact: every cut-off at every distinct value was "
                                                  "scored.")
    sampled = pd.DataFrame()
    sampled.attrs.update(exact=False, candidates=2000)
    assert dif.frontier_caption(sampled, True).startswith("The curve scores every pair among 2,000 candidate")
    clash = pd.DataFrame({"segment": ["a"], "review": [1]})
    assert dif.segment_lanes_table(clash, "review") is clash


def test_start_tolerance():
    reg = build_dataset(pd.DataFrame({"y": np.arange(20.0), "yhat": np.arange(20.0) + np.r_[np.zeros(10), np.ones(10)]}),
                        Roles(label="y", prediction="yhat", task="regression"))
    assert dif.start_tolerance(reg, None) == float(dif.default_tolerance(reg))
    assert dif.start_tolerance(reg, dif.Lanes("error_size", cutoff=1.0, tolerance=0.5)) == 0.5


# ----------------------------------------------------------------------------- the Review page's filters
def test_review_filters():
    lanes = ["auto_negative", "review", "auto_positive"]
    assert rv.lane_options(lanes) == [rv.ALL, rv.AUTOMATED, *lanes]
    assert rv.lane_filter(rv.AUTOMATED, lanes) == ["auto_negative", "auto_positive"]
    assert rv.lane_filter("review", lanes) == ["review"]
    assert rv.lane_filter(rv.ALL, lanes) is None
    assert rv.lane_option_label("auto_positive", "fraud") == dif.lane_label("auto_positive", "fraud")
    assert rv.error_options("binary") == [rv.ALL, rv.MISTAKES, "false_positive", "false_negative", "correct"]
    assert rv.error_filter(rv.MISTAKES, "multiclass") == ["wrong_class"]
    assert rv.error_filter("false_negative", "binary") == ["false_negative"]
    assert rv.error_filter(rv.ALL, "binary") is None
    assert [rv.error_option_label(x) for x in rv.error_options("binary")] == [
        "all rows", "any mistake", "false positive", "false negative", "correct"]
    assert rv.order_labels("binary") == {"confident": "Most confident mistakes first",
                                         "sample": "Random sample, stratified by segment"}


def test_review_masks():
    np.testing.assert_array_equal(rv.slice_mask(5, np.array([0, 4])), [True, False, False, False, True])
    a, b = np.array([True, True, False]), np.array([False, True, True])
    np.testing.assert_array_equal(rv.combine_masks(a, b), [False, True, False])
    assert rv.combine_masks(a, None) is a
    assert rv.combine_masks(None, None) is None


# ----------------------------------------------------------------------------- the Impact page's choices
def test_money_choices_hand_made():
    ds = _small(amount="amount")
    assert impact.money_columns(ds) == ["amount", "id", "p2"]
    assert impact.term_start("amount", ["amount"]) == ("amount", 0.0)
    assert impact.term_start(2, ["amount"]) == (impact.NUMBER, 2.0)
    assert impact.scale_options(None) == ["whole file"]
    assert impact.scale_of("per year") == "year"
    assert impact.start_scale({}, None) == "whole file"
    assert impact.saved_scale(ds, {}) is None  # no time column: no month to scale to
    assert impact.start_segment({"segment": "x"}, "region", ["region"]) == "x"
    assert impact.start_segment({}, "gone", ["region", "channel"]) == "region"
    assert impact.lanes_caption((0.25, 0.5)) == ("Review lanes from the Difficulty page: review scores from 0.25 to "
                                                 "below 0.5; see the operating points below.")
    points = pd.DataFrame({"point": ["current"], "low_cut": [0.1], "high_cut": [0.9], "reviewed": [3]})
    assert impact.shown_points(points, None).columns.tolist() == ["point"]
    assert impact.shown_points(points, (0.1, 0.9)).columns.tolist() == points.columns.tolist()


def test_money_scale_on_the_fraud_sample():
    ds = _sample("fraud")
    period = impact.detect_period(ds)
    assert period is not None
    assert impact.scale_options(period) == ["whole file", "per month", "per year"]
    assert impact.start_scale({}, period) == "per month"
    assert impact.start_scale({"scale": "per year"}, period) == "per year"
    assert impact.saved_scale(ds, {}) == "month"
    assert impact.saved_scale(ds, {"scale": "whole file"}) is None
    numeric = [str(c) for c in ds.frame.columns
               if pd.api.types.is_numeric_dtype(ds.frame[c]) and not pd.api.types.is_bool_dtype(ds.frame[c])
               and c not in (ds.roles.label, ds.roles.score)]
    assert impact.money_columns(ds) == numeric


# ----------------------------------------------------------------------------- the Compare page
def _comparison(**extra):
    values = dict(models=("a", "b", "c"), reference="a", n_rows=1234, n_boot=500,
                  differences=pd.DataFrame({"segment": [compare.ALL_ROWS, "north"], "model": ["b", "b"]}))
    values.update(extra)
    return types.SimpleNamespace(**values)


def test_compare_texts_hand_made():
    comp = _comparison()
    assert compare.challengers(comp) == ["b", "c"]
    assert compare.overall_differences(comp)["segment"].tolist() == [compare.ALL_ROWS]
    costs = types.SimpleNamespace(describe=lambda: ["cost of a false positive: 5"])
    assert compare.export_header("f.csv", comp, 0.5, ["b wins"], costs) == [
        "file: f.csv", "threshold: 0.5", "rows compared: 1,234", "reference: a", "summary: b wins",
        "cost of a false positive: 5"]
    assert compare.decision_assumptions("f.csv", comp, 0.25) == [
        "file: f.csv (1,234 rows compared)", "threshold: 0.25", "reference model: a",
        "intervals: 95%; DeLong for ROC AUC, paired bootstrap (500 replicates) otherwise"]
    assert "flagging nothing" in compare.one_model_notice(["score"], "binary")
    assert compare.one_model_notice(["score"], "regression").endswith("stand-in for having no model.")


def test_design_rows_keep_what_was_typed():
    saved = compare.design_rows(["a", "b"], None)
    saved.loc[saved["option"] == "b", "Notes"] = "fast"
    rows = compare.design_rows(["a", "b", "c"], saved)
    assert rows["option"].tolist() == ["a", "b", compare.NO_MODEL_OPTION, "c"]
    assert rows.loc[rows["option"] == "b", "Notes"].tolist() == ["fast"]


# ----------------------------------------------------------------------------- the Monitoring page
def test_monitoring_status_summary_branches():
    status = pd.DataFrame({"status": ["ok", "ok", "above", "too small"]})
    common = dict(min_count=200, min_positives=20)
    assert mon.status_summary(status, n_alerts=1, n_ranges=3, mode="reference", task="regression", **common) == (
        "1 of 3 checked buckets out of range; 1 too small to check (fewer than 200 rows)")
    small = pd.DataFrame({"status": ["too small", "too small"]})
    assert mon.status_summary(small, n_alerts=0, n_ranges=0, mode="fixed", task="binary", **common).startswith(
        "Every bucket is too small to check")
    assert mon.status_summary(status, n_alerts=0, n_ranges=0, mode="fixed", task="binary", **common).startswith(
        "Enter a minimum, a maximum or both")
    assert mon.status_summary(status, n_alerts=0, n_ranges=0, mode="relative", task="binary", **common).startswith(
        "No range could be derived")


def test_monitoring_setup_and_names():
    ds = _sample("fraud")
    setup = mon.default_setup(ds)
    assert (setup.metric, setup.segment) == ("recall", ds.roles.segments[0])
    assert mon.start_reference_end(ds, setup) == mon.default_reference_end(ds).date()
    assert mon.drift_names(ds) == ("score", subject_name(ds.roles.label, ds.roles.positive))
    assert mon.drift_names(_sample("delivery"))[0] == "prediction"
    assert mon.alerts_header("f.csv", metric="recall", period="W", rule="interval", task="binary",
                             threshold=0.3) == ["file: f.csv", "metric: recall", "bucket: W", "rule: interval",
                                                "threshold: 0.3"]
