"""Difficulty lanes: counts, the trade-off frontier and both solvers against brute force over thresholds."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact import difficulty as dif
from mlimpact.errors import InputError
from mlimpact.io import SAMPLES, Roles, build_dataset
from mlimpact.metrics import wilson_interval

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SLACK = dif.ERROR_SLACK


# ----------------------------------------------------------------------------- small frames and brute force
def _binary(n, seed, *, decimals=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(decimals)  # rounding makes ties
    if n and y.min() == y.max():
        y[0] = 1 - y[0]
    seg = rng.choice(["a", "b", "c"], n)
    frame = pd.DataFrame({"y": y, "p": score, "seg": seg})
    return frame, build_dataset(frame, Roles(label="y", score="p", segments=("seg",)))


def _binary_pairs(frame):
    """Every pair of cut-offs (low <= high) over the distinct scores and +inf: (low, high, automated, errors)."""
    s, y = frame["p"].to_numpy(), frame["y"].to_numpy()
    cuts = list(np.unique(s)) + [np.inf]
    out = []
    for i, lo in enumerate(cuts):
        for hi in cuts[i:]:
            neg, pos = s < lo, s >= hi
            out.append((lo, hi, int(neg.sum() + pos.sum()), int((neg & (y == 1)).sum() + (pos & (y == 0)).sum())))
    return out


def _brute_frontier(pairs):
    """(automated, errors) points no other pair beats on automation (more) and error rate (lower)."""
    best = {}
    for _, _, a, e in pairs:
        if a > 0:
            best[a] = min(e, best.get(a, e))
    out, best_rate = [], np.inf
    for a in sorted(best, reverse=True):
        rate = best[a] / a
        if rate < best_rate:
            out.append((a, best[a]))
            best_rate = rate
    return sorted(out)


def _counts(frame, low, high):
    s, y = frame["p"].to_numpy(), frame["y"].to_numpy()
    neg, pos = s < low, s >= high
    return int(neg.sum() + pos.sum()), int((neg & (y == 1)).sum() + (pos & (y == 0)).sum())


SEEDS = range(14)


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_matches_brute_force_over_all_pairs(seed):
    frame, ds = _binary(5 + 4 * seed, seed)
    curve = dif.lane_curve(ds)
    got = dif.tradeoff_curve(curve)
    assert list(got.columns) == dif.TRADEOFF_COLUMNS
    assert got.attrs["exact"] is True
    assert list(zip(got["automated"], got["errors"], strict=True)) == _brute_frontier(_binary_pairs(frame))
    for r in got.itertuples():  # every point's cut-offs reproduce it
        assert _counts(frame, r.low, r.high) == (r.automated, r.errors)
    lo, hi = wilson_interval(got["errors"], got["automated"])
    assert np.allclose(got["error_low"], lo) and np.allclose(got["error_high"], hi)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("target", [0.013, 0.0501, 0.1, 0.2501, 0.5])
def test_target_solver_is_optimal(seed, target):
    frame, ds = _binary(5 + 4 * seed, seed)
    pairs = _binary_pairs(frame)
    feasible = [(a, e) for _, _, a, e in pairs if e <= target * a + SLACK]
    best = max(feasible, key=lambda p: (p[0], -p[1]))
    point = dif.solve_for_target(dif.lane_curve(ds), target)
    assert (point.automated, point.errors) == best
    assert _counts(frame, point.lanes.low, point.lanes.high) == best
    assert point.review == len(frame) - best[0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("capacity", [0, 1, 3, 7, 100])
def test_capacity_solver_is_optimal(seed, capacity):
    frame, ds = _binary(5 + 4 * seed, seed)
    n = len(frame)
    policy = dif.LanePolicy(method="capacity", reviewers=1, cases_per_reviewer=capacity, cases_per_day=40)
    limit = int(np.floor(policy.review_share_limit * n + 1e-9))
    pairs = [(a, e) for _, _, a, e in _binary_pairs(frame) if n - a <= limit]
    best = min(pairs, key=lambda p: (p[1], -p[0]))
    point = dif.choose_lanes(dif.lane_curve(ds), policy)
    assert (point.automated, point.errors) == best
    assert _counts(frame, point.lanes.low, point.lanes.high) == best
    assert point.review <= limit


@pytest.mark.parametrize("seed", range(6))
def test_lane_counts_table_and_codes_against_masks(seed):
    frame, ds = _binary(200, seed, decimals=2)
    curve = dif.lane_curve(ds)
    s, y = frame["p"].to_numpy(), frame["y"].to_numpy()
    rng = np.random.default_rng(seed)
    for low, high in [(0.0, 0.0), (0.2, 0.7), (0.35, 0.35), (0.5, 1.5), tuple(sorted(rng.random(2)))]:
        lanes = dif.Lanes("score", low=float(low), high=float(high))
        codes = dif.lane_codes(curve, lanes)
        neg, pos = s < low, s >= high
        assert (codes == dif.AUTO_NEGATIVE).tolist() == neg.tolist()
        assert (codes == dif.AUTO_POSITIVE).tolist() == pos.tolist()
        table = dif.lane_table(curve, lanes, threshold=0.5).set_index("lane")
        assert list(table.reset_index().columns) == dif.LANE_TABLE_COLUMNS
        rev = ~neg & ~pos
        expect = {"automatic: not positive": (neg, (neg & (y == 1)).sum()),
                  "review": (rev, (rev & (y == 1) & (s < 0.5)).sum() + (rev & (y == 0) & (s >= 0.5)).sum()),
                  "automatic: positive": (pos, (pos & (y == 0)).sum())}
        for lane, (m, errors) in expect.items():
            row = table.loc[lane]
            assert row["n"] == m.sum() and row["errors"] == errors
            if m.sum():
                assert row["observed_rate"] == pytest.approx(y[m].mean())
                assert row["expected_rate"] == pytest.approx(s[m].mean())
                lo, hi = wilson_interval(errors, m.sum())
                assert (row["error_low"], row["error_high"]) == pytest.approx((float(lo), float(hi)))
        point = dif.evaluate_lanes(curve, lanes)
        assert (point.automated, point.errors) == _counts(frame, low, high)
        assert table.loc["automated decisions", "errors"] == point.errors


@pytest.mark.parametrize("seed", range(4))
def test_segment_mix_against_masks(seed):
    frame, ds = _binary(300, seed, decimals=2)
    curve = dif.lane_curve(ds)
    codes, labels = ds.codes("seg")
    grouped = dif.segment_curve(curve, codes, len(labels))
    lanes = dif.Lanes("score", low=0.25, high=0.6)
    table = dif.lanes_by_segment(grouped, lanes, labels).set_index("segment")
    assert list(table.reset_index().columns) == dif.SEGMENT_LANE_COLUMNS
    s, y = frame["p"].to_numpy(), frame["y"].to_numpy()
    neg, pos = s < 0.25, s >= 0.6
    errs = (neg & (y == 1)) | (pos & (y == 0))
    for value in labels:
        m = frame["seg"].to_numpy() == value
        row = table.loc[value]
        assert (row["auto_negative"], row["review"], row["auto_positive"]) == (
            (m & neg).sum(), (m & ~neg & ~pos).sum(), (m & pos).sum())
        assert row["automated_errors"] == (m & errs).sum()
        assert row["share_of_automated_errors"] == pytest.approx((m & errs).sum() / errs.sum())
    assert table["review_share"].is_monotonic_decreasing


# ----------------------------------------------------------------------------- one cut-off: multiclass, regression
def _multiclass(n, seed):
    rng = np.random.default_rng(seed)
    k = 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    proba = proba.round(1)  # ties
    frame = pd.DataFrame({"label": np.array(["a", "b", "c"])[y], **{f"prob_{c}": proba[:, i]
                                                                    for i, c in enumerate("abc")}})
    roles = Roles(label="label", class_scores=("prob_a", "prob_b", "prob_c"), task="multiclass")
    return frame, build_dataset(frame, roles)


def _one_sided_brute(key, bad, *, fixed_review=None):
    """Every cut-off c over the distinct finite keys and +inf; automated = key >= c."""
    fixed_review = np.zeros(len(key), dtype=bool) if fixed_review is None else fixed_review
    cuts = list(np.unique(key[~fixed_review])) + [np.inf]
    out = []
    for c in cuts:
        auto = (key >= c) & ~fixed_review
        out.append((c, int(auto.sum()), int((auto & bad).sum())))
    return out


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("mode", ["top_probability", "margin"])
def test_multiclass_lanes_against_brute_force(seed, mode):
    frame, ds = _multiclass(15 + 5 * seed, seed)
    proba = ds.proba
    part = np.sort(proba, axis=1)
    key = part[:, -1] if mode == "top_probability" else part[:, -1] - part[:, -2]
    bad = ds.predicted() != ds.y
    pairs = _one_sided_brute(key, bad)
    curve = dif.lane_curve(ds, mode=mode)
    front = dif.tradeoff_curve(curve)
    assert list(zip(front["automated"], front["errors"], strict=True)) == _brute_frontier(
        [(None, None, a, e) for _, a, e in pairs])
    assert front["low"].isna().all()
    for target in (0.05, 0.2, 0.4):
        best = max(((a, e) for _, a, e in pairs if e <= target * a + SLACK), key=lambda p: (p[0], -p[1]))
        point = dif.solve_for_target(curve, target)
        assert (point.automated, point.errors) == best
        auto = key >= point.lanes.cutoff
        assert (auto.sum(), (auto & bad).sum()) == best
    for cap in (0, 2, 5, 40):
        policy = dif.LanePolicy(method="capacity", reviewers=1, cases_per_reviewer=cap, cases_per_day=40)
        limit = int(np.floor(policy.review_share_limit * len(frame) + 1e-9))
        best = min(((a, e) for _, a, e in pairs if len(frame) - a <= limit), key=lambda p: (p[1], -p[0]))
        point = dif.choose_lanes(curve, policy)
        assert (point.automated, point.errors) == best


def test_regression_by_uncertainty_sends_missing_uncertainty_to_review():
    rng = np.random.default_rng(3)
    n = 60
    unc = rng.uniform(1, 5, n).round(1)
    y = rng.normal(30, 5, n)
    pred = y + rng.normal(0, unc)
    unc[[3, 17, 40]] = np.nan
    frame = pd.DataFrame({"y": y, "yhat": pred, "sd": unc})
    ds = build_dataset(frame, Roles(label="y", prediction="yhat", uncertainty="sd", task="regression"))
    assert dif.available_modes(ds) == ["uncertainty", "error_size"]
    curve = dif.lane_curve(ds, mode="uncertainty", tolerance=3.0)
    bad = np.abs(pred - y) > 3.0
    missing = np.isnan(unc)
    pairs = [(c, a, e) for c, a, e in _one_sided_brute(-np.nan_to_num(unc, nan=-1), bad, fixed_review=missing)]
    for target in (0.1, 0.3):
        best = max(((a, e) for _, a, e in pairs if e <= target * a + SLACK), key=lambda p: (p[0], -p[1]))
        point = dif.solve_for_target(curve, target)
        assert (point.automated, point.errors) == best
        codes = dif.lane_codes(curve, point.lanes)
        assert (codes[missing] == dif.REVIEW).all()
        assert ((codes == dif.AUTOMATIC) == (~missing & (unc <= point.lanes.cutoff))).all()
    # every cut-off, even +inf, keeps the rows without an uncertainty in review
    everything = dif.evaluate_lanes(curve, dif.Lanes("uncertainty", cutoff=1e9, tolerance=3.0))
    assert everything.review == 3
    table = dif.lane_table(curve, point.lanes).set_index("lane")
    assert table.loc["automatic", "calibration_of"] == "share within ±3"


def test_regression_by_error_size_is_labelled_and_uses_the_tolerance():
    frame = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "yhat": [1.1, 2.5, 1, 4, 9]})
    ds = build_dataset(frame, Roles(label="y", prediction="yhat", task="regression"))
    assert dif.available_modes(ds) == ["error_size"]
    assert "needs the truth" in dif.MODES["error_size"]
    curve = dif.lane_curve(ds, mode="error_size", tolerance=1.0)
    point = dif.evaluate_lanes(curve, dif.Lanes("error_size", cutoff=0.5, tolerance=1.0))
    assert (point.automated, point.errors, point.review) == (3, 0, 2)  # |errors| 0.1, 0.5, 0 are automated


# ----------------------------------------------------------------------------- structure and speed helpers
@pytest.mark.parametrize("block", [1, 3, 64])
def test_first_at_or_after_against_brute_force(block):
    rng = np.random.default_rng(block)
    for size in (1, 2, 7, 64, 65, 300):
        values = rng.integers(-5, 6, size).astype(float)
        values[rng.random(size) < 0.1] = np.inf
        start = rng.integers(0, size + 2, 200)
        limit = rng.integers(-6, 7, 200).astype(float)
        got = dif.first_at_or_after(values, start, limit, block=block)
        want = [next((j for j in range(s, size) if values[j] <= lim), size) for s, lim in zip(start, limit, strict=True)]
        assert got.tolist() == want


def test_large_file_uses_a_candidate_grid_and_stays_consistent():
    rng = np.random.default_rng(0)
    n = 20_000
    y = rng.integers(0, 2, n)
    score = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    frame = pd.DataFrame({"y": y, "p": score})
    curve = dif.lane_curve(build_dataset(frame, Roles(label="y", score="p")))
    front = dif.tradeoff_curve(curve, max_candidates=150)
    assert front.attrs["exact"] is False and front.attrs["candidates"] <= 152
    assert front["error_rate"].is_monotonic_increasing and front["automated"].is_monotonic_increasing
    for r in front.iloc[:: max(1, len(front) // 10)].itertuples():
        assert _counts(frame, r.low, r.high) == (r.automated, r.errors)
    point = dif.solve_for_target(curve, 0.05)  # exact over every distinct score: at least as good as the grid
    grid_best = front.loc[front["error_rate"] <= 0.05, "automated"].max()
    assert point.automated >= grid_best and point.error_rate <= 0.05 + 1e-12
    assert _counts(frame, point.lanes.low, point.lanes.high) == (point.automated, point.errors)


def test_row_order_does_not_change_the_answers():
    frame, ds = _binary(400, 9, decimals=2)
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    ds2 = build_dataset(shuffled, Roles(label="y", score="p"))
    a, b = dif.lane_curve(ds), dif.lane_curve(ds2)
    pa, pb = dif.solve_for_target(a, 0.1), dif.solve_for_target(b, 0.1)
    assert (pa.lanes, pa.automated, pa.errors) == (pb.lanes, pb.automated, pb.errors)
    pd.testing.assert_frame_equal(dif.tradeoff_curve(a), dif.tradeoff_curve(b))


# ----------------------------------------------------------------------------- assumptions, messages, sentences
def test_lanes_and_policy_validate_with_clear_messages():
    with pytest.raises(InputError) as err:
        dif.Lanes("score", low=0.8, high=0.2)
    assert str(err.value) == "lanes: the low cut-off (0.8) is above the high cut-off (0.2); swap them"
    with pytest.raises(InputError) as err:
        dif.Lanes("confidence", cutoff=0.5)
    assert str(err.value) == ("lanes mode 'confidence' is not one of score, top_probability, margin, uncertainty, "
                              "error_size")
    with pytest.raises(InputError) as err:
        dif.LanePolicy(target_error=1.5)
    assert str(err.value) == "target error rate must be between 0 and 1 (got 1.5); write 1% as 0.01"
    with pytest.raises(InputError) as err:
        dif.LanePolicy(reviewers=-1, cases_per_day=0)
    assert err.value.problems == ["reviewers must be 0 or more (got -1)", "cases per day must be more than 0 (got 0)"]
    assert hash(dif.Lanes("score", low=0.1, high=0.2)) == hash(dif.Lanes("score", low=0.1, high=0.2))


def test_no_lanes_without_a_score_or_probabilities():
    ds = build_dataset(pd.DataFrame({"y": [0, 1, 1], "pred": [0, 1, 0]}), Roles(label="y", prediction="pred"))
    with pytest.raises(InputError) as err:
        dif.lane_curve(ds)
    assert str(err.value) == ("difficulty lanes need a score: `pred` holds only predicted classes; pick the model's "
                              "score column in the sidebar")
    mc = build_dataset(pd.DataFrame({"y": ["a", "b", "c"], "pred": ["a", "b", "b"]}),
                       Roles(label="y", prediction="pred", task="multiclass"))
    assert dif.unavailable_reason(mc) == ("difficulty lanes for multiclass need one probability column per class; "
                                          "pick them under \"Columns and task\" in the sidebar")


def test_lanes_of_another_mode_are_refused():
    _, ds = _binary(20, 1)
    with pytest.raises(InputError) as err:
        dif.evaluate_lanes(dif.lane_curve(ds), dif.Lanes("margin", cutoff=0.2))
    assert str(err.value) == ("lanes were chosen by margin between the top two classes, but this analysis orders "
                              "cases by score; choose the lanes again on the Difficulty page")


def test_summary_and_capacity_sentences():
    p = dif.OperatingPoint(lanes=dif.Lanes("score", low=0.1, high=0.9), n=10_000, automated=7_800, errors=70,
                           review=2_200)
    assert dif.summary_sentence(p, cases_per_day=20_000) == (
        "Automating 78% of cases keeps errors among automated decisions at 0.9% (0.7–1.1%); 22%, about 4,400 a day, "
        "go to review.")
    ok = dif.LanePolicy(method="capacity", reviewers=20, cases_per_reviewer=300, cases_per_day=20_000)
    assert dif.capacity_sentence(p, ok) == ("The review lane needs about 4,400 reviews a day; 20 reviewers × 300 = "
                                            "6,000 a day can do all of them.")
    none = dif.OperatingPoint(lanes=dif.Lanes("score", low=0, high=1), n=50, automated=0, errors=0, review=50)
    assert dif.summary_sentence(none) == "Nothing is automated: every one of the 50 cases goes to review."


def test_infeasible_target_says_so():
    frame = pd.DataFrame({"y": [1, 0, 1, 0], "p": [0.1, 0.2, 0.3, 0.4]})  # scores point the wrong way
    point = dif.solve_for_target(dif.lane_curve(build_dataset(frame, Roles(label="y", score="p"))), 0.01)
    assert point.automated == 0 and point.review == 4
    assert point.note == ("no cut-offs keep errors among automated decisions at or below 1%: every case goes to "
                          "review")


# ----------------------------------------------------------------------------- the page
def _page(sample_index: int) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(sample_index).run()
    return at.switch_page("pages/difficulty.py").run()


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_difficulty_page_on_every_sample(sample):
    at = _page(list(SAMPLES).index(sample))
    assert not at.exception and not at.error, [e.value for e in at.exception]
    assert at.title[0].value == "Difficulty"
    assert len(at.get("vega_lite_chart")) == 3  # frontier, lane mix, automated errors
    # the defaults are shown, not stored: lanes reach other pages only once the user sets them (issue "Real files" 4)
    assert at.session_state["mi_lanes"] == {}
    assert at.markdown[0].value.startswith("#### Automating ")
    table = at.dataframe[0].value
    assert table["lane"].tolist()[-2:] == ["automated decisions", "all cases, after review"]
    # reviewer capacity: the review lane fits within 3 × 200 of the file's own cases a day (no longer 20,000)
    next(r for r in at.radio if r.key.startswith("dif_method_")).set_value("capacity").run()
    (cap,) = at.session_state["mi_lanes"].values()
    assert cap.policy.method == "capacity"
    assert at.dataframe[0].value.set_index("lane").loc["review", "share"] <= cap.policy.review_share_limit + 1e-12
    # by hand: the slider starts at the solver's cut-offs and moving it changes the lanes
    next(r for r in at.radio if r.key.startswith("dif_method_")).set_value("manual").run()
    slider = next(s for s in at.slider if s.key.startswith("dif_cut_"))
    lo, hi = slider.min, slider.max
    slider.set_value((lo, hi) if cap.two_sided else hi).run()
    assert not at.exception and not at.error
    (manual,) = at.session_state["mi_lanes"].values()
    assert manual.policy.method == "manual" and manual != cap
    # the choice survives a page switch
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/difficulty.py").run()
    assert next(r for r in at.radio if r.key.startswith("dif_method_")).value == "manual"
    assert list(at.session_state["mi_lanes"].values()) == [manual]
