"""Tests of mlimpact.slices.weak: planted slices, null data, equality with the sliceline peer, binning."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from mlimpact.errors import InputError
from mlimpact.metrics import wilson_interval
from mlimpact.slices import SLICE_COLUMNS, encode_features, find_weak_slices

DOMAINS = [4, 5, 6, 3, 8, 4, 5, 6]
L1 = "c1 = v1"
L2 = "c2 = v2 and c3 = v0"
L3 = "c4 = v3 and c5 = v1 and c6 = v4"


def make_planted(n: int, seed: int, *, planted: bool = True, continuous: bool = False):
    """8 categorical columns; planted weak slices at levels 1 (1.6x), 2 (2.5x) and 3 (5x, 0.6% of rows)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {f"c{j}": np.array([f"v{i}" for i in range(d)])[rng.integers(0, d, n)] for j, d in enumerate(DOMAINS)}
    )
    rate = np.full(n, 0.08)
    if planted:
        rate[(frame.c1 == "v1").to_numpy()] *= 1.6
        rate[((frame.c2 == "v2") & (frame.c3 == "v0")).to_numpy()] = 0.08 * 2.5
        rate[((frame.c4 == "v3") & (frame.c5 == "v1") & (frame.c6 == "v4")).to_numpy()] = 0.08 * 5
    errors = rng.exponential(rate) if continuous else (rng.random(n) < rate).astype(float)
    return frame, errors


@pytest.fixture(scope="module")
def planted_binary():
    frame, errors = make_planted(60_000, 1)
    return frame, encode_features(frame, list(frame.columns)), errors


# --------------------------------------------------------------------------------------------------
# planted slices and null data
# --------------------------------------------------------------------------------------------------
def test_planted_slices_found_in_order(planted_binary):
    _, features, errors = planted_binary
    result = find_weak_slices(features, errors)
    top = result.slices
    assert top["description"].tolist()[:3] == [L3, L2, L1]
    assert top["significant"].head(3).all()
    assert top["level"].tolist()[:3] == [3, 2, 1]
    # nothing else significant crowds in (children and overlaps of the planted slices are filtered)
    assert top["significant"].sum() == 3


def test_planted_slices_found_with_continuous_errors():
    frame, errors = make_planted(60_000, 2, continuous=True)
    result = find_weak_slices(encode_features(frame, list(frame.columns)), errors)
    top = result.slices[result.slices["significant"]]
    assert top["description"].tolist() == [L3, L2, L1]
    assert result.settings["error_kind"] == "continuous"


@pytest.mark.parametrize("continuous", [False, True])
def test_null_data_returns_nothing_significant(continuous):
    frame, errors = make_planted(60_000, 3, planted=False, continuous=continuous)
    features = encode_features(frame, list(frame.columns))
    for scoring in ("balanced", "sliceline"):
        result = find_weak_slices(features, errors, scoring=scoring)
        assert not result.slices["significant"].any(), result.slices
        assert result.n_evaluated > 1000


def test_small_severe_slice_shown_by_balanced_but_hidden_by_sliceline():
    rng = np.random.default_rng(7)
    n = 50_000
    frame = pd.DataFrame(
        {
            "device": rng.choice(["mobile", "desktop", "tablet"], n, p=[0.3, 0.6, 0.1]),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "plan": rng.choice([f"p{i}" for i in range(10)], n),
            "lang": rng.choice([f"l{i}" for i in range(25)], n),
        }
    )
    rate = np.full(n, 0.06)
    large = (frame["device"] == "mobile").to_numpy()  # 30% of rows, 1.5x
    rate[large] *= 1.5
    small = ((frame["plan"] == "p3") & (frame["lang"] == "l7")).to_numpy()  # 0.4% of rows, 5x
    rate[small] = 0.06 * 5
    errors = (rng.random(n) < rate).astype(float)
    assert 0.003 < small.mean() < 0.005
    features = encode_features(frame, list(frame.columns))

    balanced = find_weak_slices(features, errors, k=10)
    shown = balanced.slices.set_index("description")
    assert shown.loc["plan = p3 and lang = l7", "significant"]
    assert shown.loc["device = mobile", "significant"]

    sliceline = find_weak_slices(features, errors, k=10, scoring="sliceline", alpha=0.95)
    assert "plan = p3 and lang = l7" not in sliceline.slices["description"].tolist()
    assert "device = mobile" in sliceline.slices["description"].tolist()


def test_redundant_children_are_dropped():
    rng = np.random.default_rng(11)
    n = 40_000
    frame = pd.DataFrame({c: rng.choice(list("abcd"), n) for c in ("x", "y", "z")})
    rate = np.where(frame["x"] == "a", 0.3, 0.1)  # uniform effect: children of x = a are no worse
    errors = (rng.random(n) < rate).astype(float)
    features = encode_features(frame, ["x", "y", "z"])
    result = find_weak_slices(features, errors, k=10)
    assert result.slices["description"].tolist() == ["x = a"]
    # without the filter, children of x = a score above 1 too
    loose = find_weak_slices(features, errors, k=10, scoring="sliceline", alpha=0.99)
    assert (loose.slices["level"] > 1).any()


# --------------------------------------------------------------------------------------------------
# equality with the sliceline package
# --------------------------------------------------------------------------------------------------
def _random_problem(seed: int):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(300, 2500))
    m = int(rng.integers(3, 7))
    domains = rng.integers(1, 6, m)
    frame = pd.DataFrame({f"c{j}": rng.integers(0, d, n) for j, d in enumerate(domains)})
    features = encode_features(frame, list(frame.columns), n_bins=10)
    x = features.codes
    if seed % 3 == 2:
        errors = rng.exponential(1.0, n) * (1 + ((x[:, 0] == 0) & (x[:, -1] == 0)))
    else:
        errors = (rng.random(n) < 0.1 + 0.3 * ((x[:, 0] == 0) & (x[:, 1] % 2 == 0))).astype(float)
    params = {
        "alpha": float(rng.choice([0.5, 0.8, 0.95, 1.0])),
        "k": int(rng.integers(1, 15)),
        "max_level": int(rng.integers(2, 5)),
        "min_support": int(rng.choice([1, 5, 10, 50])),
    }
    return features, errors, params


@pytest.mark.parametrize("seed", range(10))
def test_sliceline_scoring_equals_the_sliceline_package(seed):
    from sliceline.slicefinder import Slicefinder

    features, errors, params = _random_problem(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = Slicefinder(
            alpha=params["alpha"], k=params["k"], max_l=params["max_level"], min_sup=params["min_support"],
            verbose=False,
        ).fit(features.codes, errors)  # fmt: skip
    ours = find_weak_slices(features, errors, scoring="sliceline", **params)
    theirs = [
        (frozenset((j, int(v)) for j, v in enumerate(row) if v is not None), stats["slice_score"])
        for row, stats in zip(peer.top_slices_, peer.top_slices_statistics_, strict=True)
    ]
    mine = [(frozenset(d), s) for d, s in zip(ours.definitions, ours.slices["score"], strict=True)]
    assert [t[0] for t in theirs] == [m[0] for m in mine]
    np.testing.assert_allclose([m[1] for m in mine], [t[1] for t in theirs], rtol=0, atol=1e-9)
    sizes = [stats["slice_size"] for stats in peer.top_slices_statistics_]
    assert ours.slices["n"].tolist() == sizes


@pytest.mark.parametrize("seed", range(3))
def test_sliceline_scoring_returns_the_exact_top_k(seed):
    """Brute force over every slice with pandas: the pruned search loses nothing."""
    features, errors, params = _random_problem(100 + seed)
    frame = pd.DataFrame(features.codes, columns=features.columns)
    frame["e"] = errors
    n, avg, alpha = len(frame), errors.mean(), params["alpha"]
    scores = []
    for level in range(1, params["max_level"] + 1):
        for cols in itertools.combinations(features.columns, level):
            g = frame.groupby(list(cols))["e"].agg(["size", "sum"])
            g = g[g["size"] >= params["min_support"]]
            sc = alpha * ((g["sum"] / g["size"]) / avg - 1) - (1 - alpha) * (n / g["size"] - 1)
            scores.extend(sc[sc > 0].tolist())
    exact = sorted(scores, reverse=True)[: params["k"]]
    ours = find_weak_slices(features, errors, scoring="sliceline", **params)
    np.testing.assert_allclose(ours.slices["score"].to_numpy()[: params["k"]], exact, rtol=0, atol=1e-9)


def test_sliceline_score_formula(planted_binary):
    _, features, errors = planted_binary
    result = find_weak_slices(features, errors, scoring="sliceline", alpha=0.9, k=5)
    s = result.slices
    n, avg = features.n_rows, errors.mean()
    expected = 0.9 * (s["error_rate"] / avg - 1) - 0.1 * (n / s["n"] - 1)
    np.testing.assert_allclose(s["score"], expected, atol=1e-12)
    assert (s["score"].diff().dropna() <= 0).all()


# --------------------------------------------------------------------------------------------------
# statistics of the returned slices
# --------------------------------------------------------------------------------------------------
def test_row_mask_matches_predicates_and_statistics(planted_binary):
    frame, features, errors = planted_binary
    result = find_weak_slices(features, errors, scoring="sliceline", k=10)
    for i, row in enumerate(result.slices.itertuples()):
        expected = np.ones(len(frame), dtype=bool)
        for col, value in row.predicates.items():
            expected &= (frame[col] == value).to_numpy()
        mask = result.row_mask(i)
        np.testing.assert_array_equal(mask, expected)
        np.testing.assert_array_equal(result.row_indices(i), np.flatnonzero(expected))
        assert row.n == mask.sum()
        assert row.error_rate == pytest.approx(errors[mask].mean())
        assert row.rest_error_rate == pytest.approx(errors[~mask].mean())
        lo, hi = wilson_interval(errors[mask].sum(), mask.sum())
        assert (row.low, row.high) == pytest.approx((float(lo), float(hi)))


def test_p_values_and_intervals_match_scipy():
    from scipy import stats

    frame, errors = make_planted(20_000, 5, continuous=True)
    result = find_weak_slices(encode_features(frame, list(frame.columns)), errors, k=3)
    assert len(result.slices) >= 1
    for i, row in enumerate(result.slices.itertuples()):
        mask = result.row_mask(i)
        ref = stats.ttest_ind(errors[mask], errors[~mask], equal_var=False, alternative="greater")
        assert row.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
        lo, hi = stats.t.interval(
            0.95, mask.sum() - 1, loc=errors[mask].mean(), scale=stats.sem(errors[mask])
        )
        assert (row.low, row.high) == pytest.approx((max(lo, 0.0), hi))
        assert row.q_value >= row.p_value

    frame, errors = make_planted(20_000, 5)
    result = find_weak_slices(encode_features(frame, list(frame.columns)), errors, k=3)
    for i, row in enumerate(result.slices.itertuples()):
        mask = result.row_mask(i)
        ref = stats.binomtest(int(errors[mask].sum()), int(mask.sum()), errors.mean(), alternative="greater")
        assert row.p_value == pytest.approx(ref.pvalue, rel=1e-6)
        # at least as conservative as Fisher's exact test of slice vs rest
        table = [[errors[mask].sum(), mask.sum() - errors[mask].sum()],
                 [errors[~mask].sum(), (~mask).sum() - errors[~mask].sum()]]  # fmt: skip
        assert row.p_value >= stats.fisher_exact(table, alternative="greater").pvalue * (1 - 1e-9)


def test_n_evaluated_counts_every_supported_slice():
    rng = np.random.default_rng(4)
    n = 3000
    frame = pd.DataFrame({c: rng.choice(list("abcde"), n) for c in ("a", "b", "c", "d")})
    errors = (rng.random(n) < 0.2).astype(float)
    features = encode_features(frame, list(frame.columns))
    result = find_weak_slices(features, errors, min_support=30, max_level=3)
    expected = 0
    for level in (1, 2, 3):
        for cols in itertools.combinations(frame.columns, level):
            sizes = frame.groupby(list(cols)).size()
            expected += int((sizes >= 30).sum())
    assert result.n_evaluated == expected


# --------------------------------------------------------------------------------------------------
# output shape
# --------------------------------------------------------------------------------------------------
def test_columns_are_the_same_every_time(planted_binary):
    _, features, errors = planted_binary
    found = find_weak_slices(features, errors)
    empty = find_weak_slices(features, np.zeros(features.n_rows))
    assert list(found.slices.columns) == SLICE_COLUMNS
    assert list(empty.slices.columns) == SLICE_COLUMNS
    assert len(empty.slices) == 0
    assert list(found.slices.dtypes) == list(empty.slices.dtypes)
    assert found.slices["rank"].tolist() == list(range(1, len(found.slices) + 1))


def test_to_json_shape(planted_binary):
    _, features, errors = planted_binary
    result = find_weak_slices(features, errors, k=3)
    out = json.loads(json.dumps(result.to_json()))
    assert set(out) >= {"slices"}
    first = out["slices"][0]
    assert set(first) >= {"predicates", "n", "error_rate", "score"}
    assert first["predicates"] == {"c4": "v3", "c5": "v1", "c6": "v4"}
    assert isinstance(first["n"], int)
    assert out["n_evaluated"] == result.n_evaluated


def test_progress_and_time_budget(planted_binary):
    _, features, errors = planted_binary
    seen = []
    result = find_weak_slices(features, errors, progress=lambda f, msg: seen.append((f, msg)))
    fractions = [f for f, _ in seen]
    assert fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)
    assert result.settings["complete"] is True
    for scoring in ("balanced", "sliceline"):
        cut = find_weak_slices(features, errors, scoring=scoring, time_budget_s=1e-9)
        assert cut.settings["complete"] is False
        assert list(cut.slices.columns) == SLICE_COLUMNS


# --------------------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------------------
def test_numeric_binning_edge_cases():
    n = 1000
    rng = np.random.default_rng(0)
    ties = np.where(rng.random(n) < 0.9, 0.0, rng.gamma(2.0, 100.0, n))
    frame = pd.DataFrame(
        {
            "constant": np.full(n, 5.0),
            "with_nan": np.where(np.arange(n) % 10 == 0, np.nan, np.arange(n, dtype=float)),
            "ties": ties,
            "flag": np.arange(n) % 2,
            "all_nan": np.full(n, np.nan),
        }
    )
    enc = encode_features(frame, list(frame.columns), n_bins=5)
    labels = dict(zip(enc.columns, enc.labels, strict=True))
    assert labels["constant"] == ("5",)
    assert (enc.codes[:, 0] == 0).all()
    assert labels["with_nan"][-1] == "(missing)"
    assert len(labels["with_nan"]) == 6  # 5 quantile bins + missing
    assert labels["with_nan"][0].startswith("[1, ") and labels["with_nan"][-2].endswith("999]")
    assert (enc.codes[:, 1] == 5).sum() == 100
    assert labels["ties"][0] == "0"  # 90% tied zeros: a bin of their own, the rest still binned
    assert len(labels["ties"]) == len(set(labels["ties"])) >= 4
    assert (enc.codes[:, 2] == 0).sum() == (ties == 0).sum()
    assert labels["flag"] == ("0", "1")
    assert labels["all_nan"] == ("(missing)",)
    # every code is used and codes are dense
    for j, lab in enumerate(enc.labels):
        assert set(np.unique(enc.codes[:, j])) == set(range(len(lab)))
    frag = dict(zip(enc.columns, enc.fragments, strict=True))
    assert frag["with_nan"][-1] == "with_nan is missing"
    assert frag["with_nan"][0].startswith("with_nan in [1, ")
    assert frag["constant"] == ("constant = 5",)
    assert frag["ties"][0] == "ties = 0" and frag["ties"][1].startswith("ties in [")


def test_bins_follow_half_open_intervals():
    x = np.array([1.0, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert encode_features(pd.DataFrame({"x": x}), ["x"], n_bins=3).labels[0] == (
        "[1, 3)",
        "[3, 7)",
        "[7, 10]",
    )
    x = np.array([1.0, 2, 2, 2, 2, 4, 5, 6, 7, 8, 9, 10])  # 2 holds a third of the rows: its own bin
    enc = encode_features(pd.DataFrame({"x": x}), ["x"], n_bins=3)
    labels = enc.labels[0]
    assert labels == ("1", "2", "[4, 7)", "[7, 10]")
    for value, code in zip(x, enc.codes[:, 0], strict=True):
        if not labels[code].startswith("["):
            assert value == float(labels[code])
            continue
        lo, hi = labels[code].strip("[]()").split(", ")
        assert float(lo) <= value and (
            value < float(hi) or (labels[code].endswith("]") and value == float(hi))
        )


def test_categorical_encoding_folds_rare_values_and_missing():
    values = ["a"] * 50 + ["b"] * 30 + ["c"] * 5 + ["d"] * 3 + [None] * 2
    enc = encode_features(pd.DataFrame({"cat": values}), ["cat"], max_values=2)
    assert enc.labels[0] == ("a", "b", "Other", "(missing)")
    assert np.bincount(enc.codes[:, 0]).tolist() == [50, 30, 8, 2]
    clash = encode_features(pd.DataFrame({"cat": ["Other"] * 5 + ["x"] * 4 + ["y"]}), ["cat"], max_values=2)
    assert clash.labels[0] == ("Other", "x", "Other (folded)")
    booleans = encode_features(pd.DataFrame({"b": [True, False, True]}), ["b"])
    assert booleans.labels[0] == ("False", "True") and booleans.kinds == ("categorical",)


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------
def test_bad_input_messages(planted_binary):
    frame, features, errors = planted_binary
    with pytest.raises(InputError, match=r"columns \['nope'\]: not in the data"):
        encode_features(frame, ["nope"])
    with pytest.raises(InputError, match=r"errors: expected one error per row \(60000 values\)"):
        find_weak_slices(features, errors[:10])
    with pytest.raises(InputError, match="errors: must be >= 0"):
        find_weak_slices(features, -errors)
    bad = errors.copy()
    bad[:3] = np.nan
    with pytest.raises(InputError, match="errors: 3 rows have a missing or infinite error"):
        find_weak_slices(features, bad)
    with pytest.raises(InputError, match="scoring: must be one of"):
        find_weak_slices(features, errors, scoring="best")
    with pytest.raises(InputError, match="min_support: must be a whole number"):
        find_weak_slices(features, errors, min_support=0)
