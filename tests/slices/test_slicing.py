"""Segment tables: each grouped number against scikit-learn on that group's rows; binning; folding; crosses."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, mean_absolute_error, precision_score, recall_score, roc_auc_score

from mlimpact.errors import InputError
from mlimpact.io import MISSING_LABEL, Roles, build_dataset
from mlimpact.slices import (
    OTHER_LABEL,
    SEGMENT_TABLE_COLUMNS,
    bin_numeric,
    fold_rare,
    segment_codes,
    segment_table,
)


def _binary(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    noise = np.where(region == "west", 0.9, 0.5)  # the model is worse in the west
    score = np.clip(y * (1 - noise) + noise * rng.random(n), 0, 1).round(3)  # rounding makes ties
    frame = pd.DataFrame({"y": y, "score": score, "region": region, "amount": rng.lognormal(3, 1, n),
                          "channel": rng.choice(["web", "app", "phone"], n)})
    return frame, build_dataset(frame, Roles(label="y", score="score", segments=("region", "channel")))


def test_every_group_matches_scikit_learn():
    frame, ds = _binary()
    table = segment_table(ds, ["region"], metrics=["recall", "precision", "f1", "roc_auc"], threshold=0.5)
    assert list(table.columns) == ["region"] + SEGMENT_TABLE_COLUMNS
    for (value, metric), row in table.set_index(["region", "metric"]).iterrows():
        part = frame[frame["region"] == value]
        pred = part["score"] >= 0.5
        expected = {"recall": recall_score(part["y"], pred), "precision": precision_score(part["y"], pred),
                    "f1": f1_score(part["y"], pred), "roc_auc": roc_auc_score(part["y"], part["score"])}[metric]
        assert row["value"] == pytest.approx(expected, abs=1e-9), (value, metric)
        assert row["n"] == len(part) and row["positives"] == part["y"].sum()
        assert row["low"] <= row["value"] <= row["high"]


def test_weak_segment_flagged_and_first_by_impact():
    _, ds = _binary()
    table = segment_table(ds, ["region"], metrics=["roc_auc"])
    assert table.iloc[0]["region"] == "west" and bool(table.iloc[0]["significantly_worse"])
    assert not table.loc[table["region"] != "west", "significantly_worse"].any()


def test_cross_matches_direct_computation_and_drops_empty_cells():
    frame, ds = _binary()
    table = segment_table(ds, ["region", "channel"], metrics=["recall"])
    assert len(table) == frame.groupby(["region", "channel"]).ngroups
    row = table[(table["region"] == "west") & (table["channel"] == "app")].iloc[0]
    part = frame[(frame["region"] == "west") & (frame["channel"] == "app")]
    assert row["value"] == pytest.approx(recall_score(part["y"], part["score"] >= 0.5), abs=1e-12)
    assert row["segment"] == "region = west and channel = app"


def test_numeric_column_binned_by_quantiles_and_custom_edges():
    frame, ds = _binary()
    seg = segment_codes(ds, ["amount"], n_bins=4)
    assert seg.n_groups == 4 and np.bincount(seg.codes).min() >= 700
    seg = segment_codes(ds, ["amount"], edges={"amount": [10, 100]})
    assert seg.labels["amount"].tolist()[1] == "[10, 100)"
    counts = np.bincount(seg.codes)
    assert counts[1] == ((frame["amount"] >= 10) & (frame["amount"] < 100)).sum()


def test_bin_numeric_edge_cases():
    codes, labels = bin_numeric(np.full(5, 3.0))
    assert labels == ["= 3"] and codes.tolist() == [0] * 5
    codes, labels = bin_numeric([1, 1, 1, 1, 2, np.nan], n_bins=4)  # heavy ties: fewer bins, none empty
    assert labels == ["[1, 2]", MISSING_LABEL] or labels[-1] == MISSING_LABEL
    assert np.bincount(codes).min() > 0 and codes[-1] == len(labels) - 1
    codes, labels = bin_numeric([np.nan, np.nan])
    assert labels == [MISSING_LABEL] and codes.tolist() == [0, 0]


def test_long_tail_folded_into_other():
    codes = np.repeat(np.arange(30), np.arange(30, 0, -1))
    new, labels = fold_rare(codes, [f"v{i}" for i in range(30)], top_k=5)
    assert labels == ["v0", "v1", "v2", "v3", "v4", OTHER_LABEL]
    assert np.bincount(new)[-1] == np.arange(25, 0, -1).sum()


def test_missing_segment_values_get_their_own_row():
    frame, _ = _binary(400)
    frame.loc[:19, "region"] = None
    ds = build_dataset(frame, Roles(label="y", score="score"))
    table = segment_table(ds, ["region"], metrics=["recall"])
    assert (table["region"] == MISSING_LABEL).sum() == 1
    assert table["n"].sum() == 400


def test_small_segments_flagged_not_hidden():
    frame, _ = _binary(2000)
    frame.loc[:9, "region"] = "tiny"
    ds = build_dataset(frame, Roles(label="y", score="score"))
    table = segment_table(ds, ["region"], metrics=["recall"], min_size=30)
    tiny = table[table["region"] == "tiny"].iloc[0]
    assert bool(tiny["small"]) and tiny["n"] == 10


def test_invariant_to_row_order_and_value_names():
    frame, ds = _binary()
    a = segment_table(ds, ["region"], metrics=["recall", "roc_auc"], intervals=False)
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    shuffled["region"] = shuffled["region"].map({"north": "N", "south": "S", "east": "E", "west": "W"})
    b = segment_table(build_dataset(shuffled, Roles(label="y", score="score")), ["region"],
                      metrics=["recall", "roc_auc"], intervals=False)
    a = a.set_index(["region", "metric"])["value"]
    b = b.assign(region=b["region"].map({"N": "north", "S": "south", "E": "east", "W": "west"}))
    b = b.set_index(["region", "metric"])["value"]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index(), atol=1e-12)


def test_categorical_and_string_dtypes_agree():
    frame, ds = _binary()
    cat = frame.assign(region=frame["region"].astype("category"))
    a = segment_table(ds, ["region"], metrics=["recall"], intervals=False).sort_values("region")
    b = segment_table(build_dataset(cat, Roles(label="y", score="score")), ["region"], metrics=["recall"],
                      intervals=False).sort_values("region")
    np.testing.assert_allclose(a["value"].to_numpy(), b["value"].to_numpy())


def test_regression_segments():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"actual": rng.normal(30, 5, 500), "city": rng.choice(["a", "b"], 500)})
    frame["pred"] = frame["actual"] + rng.normal(0, 2, 500) + np.where(frame["city"] == "b", 3, 0)
    ds = build_dataset(frame, Roles(label="actual", prediction="pred", task="regression"))
    table = segment_table(ds, ["city"], metrics=["mae"])
    part = frame[frame["city"] == "b"]
    got = table.loc[table["city"] == "b", "value"].iloc[0]
    assert got == pytest.approx(mean_absolute_error(part["actual"], part["pred"]), abs=1e-9)
    assert table.iloc[0]["city"] == "b"  # largest impact first


def test_bad_requests():
    _, ds = _binary(200)
    with pytest.raises(InputError, match="pick one or two segment columns"):
        segment_codes(ds, ["region", "channel", "amount"])
    with pytest.raises(InputError, match="pick two different segment columns"):
        segment_codes(ds, ["region", "region"])
    with pytest.raises(InputError, match="bin edges need a column of numbers"):
        segment_codes(ds, ["region"], edges={"region": [1, 2]})


def test_numeric_codes_equal_the_bin_of_each_distinct_value():
    """Rows are coded by searching among the bins' first values; that is the bin of the row's own distinct value
    (normal, rounded, integer, mostly-zero and ±0 columns, with missing values, 2 to 10 bins)."""
    import numpy as np

    from mlimpact.slices.encoding import _encode_numeric, numeric_bins

    rng = np.random.default_rng(0)
    for trial in range(150):
        n = int(rng.integers(1, 3000))
        x = [rng.normal(size=n), np.round(rng.gamma(1, 3, n), trial % 3), rng.integers(-3, 4, n).astype(float),
             np.where(rng.random(n) < 0.7, 0.0, rng.random(n)), np.r_[-0.0, 0.0, rng.normal(size=n)]][trial % 5]
        x[rng.random(len(x)) < 0.05] = np.nan
        missing = np.isnan(x)
        uniq, counts = np.unique(x[~missing], return_counts=True)
        for n_bins in (2, 5, 10):
            bin_of, labels, _ = numeric_bins(uniq, counts, n_bins)
            want = np.full(len(x), len(labels), dtype=np.int64)
            want[~missing] = bin_of[np.searchsorted(uniq, x[~missing])]
            np.testing.assert_array_equal(_encode_numeric(x, n_bins)[0], want)
