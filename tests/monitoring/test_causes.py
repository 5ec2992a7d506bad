"""Why did it alert: incidents from a status table, the slices that explain them (planted drops found, shares
against hand computations, noise not named), per-segment alerts, regression and multiclass, and the sentences."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, recall_score

from mlimpact import monitoring as mon
from mlimpact.io import Roles, build_dataset
from mlimpact.monitoring.causes import (
    CAUSE_COLUMNS,
    INCIDENT_COLUMNS,
    NO_SINGLE_SLICE,
    alert_causes,
    alert_incidents,
    cause_sentence,
)

START = pd.Timestamp("2026-01-05")  # a Monday: 2026-W02
REFERENCE_END = "2026-02-16"  # the end of the sixth week (2026-W07)
LATE = pd.Timestamp("2026-03-16")  # the last two of 12 weeks: 2026-W12 and 2026-W13


def _weekly(seed: int, *, online_recall: float = 0.4, only_region: str | None = None, n_week: int = 3000):
    """12 weeks of a binary model: recall 0.8 everywhere, except channel = online in the last two weeks
    (and only in ``only_region`` when given), where it is ``online_recall``."""
    rng = np.random.default_rng(seed)
    n = 12 * n_week
    t = START + pd.to_timedelta(np.repeat(np.arange(12), n_week) * 7 + rng.uniform(0, 7, n), unit="D")
    region = rng.choice(["east", "north", "south", "west"], n)
    channel = rng.choice(["online", "store"], n)
    y = (rng.random(n) < 0.3).astype(int)
    hit_rate = np.where((t >= LATE) & (channel == "online") & ((region == only_region) if only_region else True),
                        online_recall, 0.8)
    flagged = np.where(y == 1, rng.random(n) < hit_rate, rng.random(n) < 0.1)
    p = np.where(flagged, 0.5 + 0.5 * rng.random(n), 0.5 * rng.random(n)).round(4)
    return pd.DataFrame({"y": y, "p": p, "t": t, "region": region, "channel": channel})


def _binary(frame):
    return build_dataset(frame, Roles(label="y", score="p", time="t", segments=("region", "channel")))


def _recall(frame, rows) -> float:
    return recall_score(frame.loc[rows, "y"], frame.loc[rows, "p"] >= 0.5)


# ----------------------------------------------------------------------------- incidents
def _status_rows(rows, *, metric="recall", segment_column=None, segment=None):
    starts = pd.to_datetime([r[1] for r in rows])
    return pd.DataFrame({"metric": metric, "segment_column": segment_column, "segment": segment, "period": "W",
                         "bucket": [r[0] for r in rows], "start": starts, "end": starts + pd.Timedelta(days=7),
                         "status": [r[2] for r in rows]})


def test_incidents_merge_consecutive_alerts_of_one_series_and_side():
    west = _status_rows([("2026-W10", "2026-03-02", "below"), ("2026-W11", "2026-03-09", "ok"),
                         ("2026-W12", "2026-03-16", "below"), ("2026-W12", "2026-03-16", "below"),  # two ranges
                         ("2026-W13", "2026-03-23", "below"), ("2026-W14", "2026-03-30", "too small")],
                        segment_column="region", segment="west")
    year_end = _status_rows([("2025-W52", "2025-12-22", "above"), ("2026-W01", "2025-12-29", "above")],
                            metric="false_positive_rate")
    inc = alert_incidents(pd.concat([west, year_end], ignore_index=True))
    assert list(inc.columns) == INCIDENT_COLUMNS
    got = inc[["metric", "segment", "side", "buckets", "n_buckets"]].values.tolist()
    assert got == [["false_positive_rate", None, "above", "2025-W52–2026-W01", 2],
                   ["recall", "west", "below", "2026-W10", 1], ["recall", "west", "below", "2026-W12–W13", 2]]
    assert inc["start"].iloc[2] == pd.Timestamp("2026-03-16") and inc["end"].iloc[2] == pd.Timestamp("2026-03-30")
    assert inc["segment_column"].iloc[0] is None and inc["segment_column"].iloc[1] == "region"
    assert alert_incidents(west[west["status"] == "ok"]).empty
    assert alert_causes(None, west[west["status"] == "ok"]).columns.tolist() == CAUSE_COLUMNS


# ----------------------------------------------------------------------------- the planted drop
@pytest.fixture(scope="module")
def planted():
    frame = _weekly(7)
    ds = _binary(frame)
    table = mon.metrics_over_time(ds, metrics="recall", period="W")
    status = mon.check_ranges(table, mon.derive_ranges(ds, table, reference_end=REFERENCE_END))
    return frame, ds, status


def test_a_recall_drop_in_online_is_found_with_its_share_of_the_drop(planted):
    frame, ds, status = planted
    assert mon.alert_table(status)["bucket"].tolist() == ["2026-W12", "2026-W13"]
    inc = alert_incidents(status)
    assert inc[["buckets", "side", "n_buckets"]].values.tolist() == [["2026-W12–W13", "below", 2]]
    causes = alert_causes(ds, status, reference_end=REFERENCE_END)
    assert causes["column"].tolist() == ["channel"] and causes["value"].tolist() == ["online"]  # no region: noise
    top = causes.iloc[0]
    # the share by hand: w = online's share of the incident's positives, recall per channel in both periods
    inc_rows, ref_rows = frame["t"] >= LATE, frame["t"] < pd.Timestamp(REFERENCE_END)
    pos_inc = frame[inc_rows & (frame["y"] == 1)]
    terms = {c: (pos_inc["channel"] == c).mean()
             * (_recall(frame, inc_rows & (frame["channel"] == c)) - _recall(frame, ref_rows & (frame["channel"] == c)))
             for c in ("online", "store")}
    assert top["share_of_drop"] == pytest.approx(terms["online"] / sum(terms.values()), abs=1e-12)
    assert top["share_of_drop"] == pytest.approx(1.0, abs=0.1)  # planted: only online dropped
    online = inc_rows & (frame["channel"] == "online")
    assert top["value_incident"] == pytest.approx(_recall(frame, online), abs=1e-12)  # scikit-learn agrees
    assert top["value_reference"] == pytest.approx(_recall(frame, ref_rows & (frame["channel"] == "online")), abs=1e-12)
    assert top["n"] == int(online.sum()) and top["low"] < top["value_incident"] < top["high"]
    assert top["overall_incident"] == pytest.approx(_recall(frame, inc_rows), abs=1e-12)
    assert top["p_value"] < 1e-6 and top["q_value"] < 0.05
    now, then = f"{top['value_incident']:.3f}", f"{top['value_reference']:.3f}"
    amount = "all" if top["share_of_drop"] >= 0.995 else f"{top['share_of_drop']:.0%}"  # 101%: others rose a bit
    assert top["message"] == f"channel = online: {now} against {then} in the reference, " \
                             f"{amount} of the drop"
    sentence = cause_sentence(inc.iloc[0], causes)
    assert sentence == (f"Recall fell in 2026-W12–W13 ({top['overall_incident']:.3f} against "
                        f"{top['overall_reference']:.3f} in the reference); {amount} of the drop is "
                        f"channel = online ({now} against {then})")
    assert json.loads(json.dumps(causes.to_dict("records")))[0]["column"] == "channel"  # plain values


def test_the_default_reference_is_the_monitoring_pages(planted):
    _, ds, status = planted
    explicit = alert_causes(ds, status, reference_end=mon.default_reference_end(ds))
    assert alert_causes(ds, status).equals(explicit)


def test_share_of_the_drop_equals_a_hand_computation():
    """Accuracy by device, reference week 2026-W02 against the alerting week 2026-W04:

    ========  ====================  ====================
    device    reference right/rows  incident right/rows
    ========  ====================  ====================
    a         144/180 = 0.80        90/300 = 0.30
    b         324/360 = 0.90        120/150 = 0.80
    c         360/360 = 1.00        144/150 = 0.96
    all       828/900 = 0.92        354/600 = 0.59
    ========  ====================  ====================

    Incident weights 0.5, 0.25, 0.25; terms 0.5·(0.30−0.80) = −0.25, 0.25·(0.80−0.90) = −0.025,
    0.25·(0.96−1.00) = −0.01; performance part −0.285 (the mix, Σ (w − w')·r = −0.045, makes the −0.33).
    a's share of the drop: 0.25 / 0.285 = 0.877193. Only a changed more than the whole (−0.5 against −0.33).
    """
    cells = [("a", 0, 180, 144), ("b", 0, 360, 324), ("c", 0, 360, 360),
             ("a", 2, 300, 90), ("b", 2, 150, 120), ("c", 2, 150, 144)]
    parts = []
    for device, week, rows, right in cells:
        y = np.arange(rows) % 2
        pred = np.where(np.arange(rows) < right, y, 1 - y)
        t = START + pd.Timedelta(days=7 * week) + pd.to_timedelta(np.arange(rows) % 7, unit="D")
        parts.append(pd.DataFrame({"y": y, "pred": pred, "t": t, "device": device}))
    frame = pd.concat(parts, ignore_index=True)
    ds = build_dataset(frame, Roles(label="y", prediction="pred", time="t", segments=("device",)))
    table = mon.metrics_over_time(ds, metrics="accuracy", period="W")
    status = mon.check_ranges(table, [mon.Range("accuracy", minimum=0.85, period="W")])
    causes = alert_causes(ds, status, reference_end="2026-01-12")
    assert causes[["column", "value", "n"]].values.tolist() == [["device", "a", 300]]
    row = causes.iloc[0]
    assert (row["value_incident"], row["value_reference"]) == pytest.approx((0.3, 0.8))
    assert (row["overall_incident"], row["overall_reference"]) == pytest.approx((0.59, 0.92))
    assert row["share_of_drop"] == pytest.approx(0.25 / 0.285, abs=1e-12)
    assert row["message"] == "device = a: 0.300 against 0.800 in the reference, 88% of the drop"


def test_pure_noise_names_no_slice():
    frame = _weekly(11, online_recall=0.8)  # nothing planted
    ds = _binary(frame)
    table = mon.metrics_over_time(ds, metrics="recall", period="W")
    late = table[table["start"] >= LATE]  # an alert forced on the last two weeks: a range nobody meets
    status = mon.check_ranges(late, [mon.Range("recall", minimum=0.95, period="W")])
    causes = alert_causes(ds, status, reference_end=REFERENCE_END)
    assert len(causes) == 1 and causes["column"].iloc[0] is None and causes["share_of_drop"].iloc[0] is None
    assert causes["message"].iloc[0] == NO_SINGLE_SLICE
    assert causes["n"].iloc[0] == int((frame["t"] >= LATE).sum())
    sentence = cause_sentence(alert_incidents(status).iloc[0], causes)
    assert sentence.endswith("; no single slice explains it: the change is spread across slices")


def test_an_alert_on_one_segment_value_uses_only_its_rows():
    frame = _weekly(5, online_recall=0.2, only_region="west")
    ds = _binary(frame)
    table = mon.metrics_over_time(ds, metrics="recall", period="W", segment="region")
    status = mon.check_ranges(table, mon.derive_ranges(ds, table, reference_end=REFERENCE_END))
    assert set(mon.alert_table(status)["segment"]) == {"west"}
    causes = alert_causes(ds, status, reference_end=REFERENCE_END)
    assert set(causes["segment"]) == {"west"} and set(causes["segment_column"]) == {"region"}
    assert causes["column"].tolist() == ["channel"]  # its own segment column is no candidate
    west_online = (frame["region"] == "west") & (frame["channel"] == "online")
    inc_rows, ref_rows = frame["t"] >= LATE, frame["t"] < pd.Timestamp(REFERENCE_END)
    row = causes.iloc[0]
    assert row["value"] == "online" and row["n"] == int((west_online & inc_rows).sum())
    assert row["value_incident"] == pytest.approx(_recall(frame, west_online & inc_rows), abs=1e-12)
    assert row["value_reference"] == pytest.approx(_recall(frame, west_online & ref_rows), abs=1e-12)
    assert row["overall_reference"] == pytest.approx(_recall(frame, (frame["region"] == "west") & ref_rows))
    assert cause_sentence(alert_incidents(status).iloc[0], causes).startswith("Recall fell in west in 2026-W12–W13")


def test_a_regression_error_that_rose_is_a_rise():
    rng = np.random.default_rng(2)
    n = 12 * 1500
    t = START + pd.to_timedelta(np.repeat(np.arange(12), 1500) * 7 + rng.uniform(0, 7, n), unit="D")
    device = rng.choice(["android", "ios", "web"], n)
    y = rng.normal(50, 10, n)
    pred = y + rng.normal(0, 1, n) * np.where((t >= LATE) & (device == "ios"), 4.0, 1.0)
    frame = pd.DataFrame({"y": y, "pred": pred, "t": t, "device": device, "region": rng.choice(["n", "s"], n)})
    ds = build_dataset(frame, Roles(label="y", prediction="pred", time="t", segments=("device", "region")))
    table = mon.metrics_over_time(ds, metrics="mae", period="W")
    status = mon.check_ranges(table, mon.derive_ranges(ds, table, reference_end=REFERENCE_END))
    inc = alert_incidents(status)
    assert inc[["buckets", "side"]].values.tolist() == [["2026-W12–W13", "above"]]
    causes = alert_causes(ds, status, reference_end=REFERENCE_END)
    assert causes[["column", "value"]].values.tolist() == [["device", "ios"]]
    row = causes.iloc[0]
    ios_inc, ios_ref = (device == "ios") & (t >= LATE), (device == "ios") & (t < pd.Timestamp(REFERENCE_END))
    assert row["value_incident"] == pytest.approx(mean_absolute_error(y[ios_inc], pred[ios_inc]), rel=1e-9)
    assert row["value_reference"] == pytest.approx(mean_absolute_error(y[ios_ref], pred[ios_ref]), rel=1e-9)
    late, ref = t >= LATE, t < pd.Timestamp(REFERENCE_END)
    terms = [np.mean(device[late] == d) * (mean_absolute_error(y[late & (device == d)], pred[late & (device == d)])
                                           - mean_absolute_error(y[ref & (device == d)], pred[ref & (device == d)]))
             for d in ("android", "ios", "web")]
    assert row["share_of_drop"] == pytest.approx(terms[1] / sum(terms), rel=1e-9)  # MAE: a mean over rows
    assert row["message"].endswith("of the rise")
    assert "Mean absolute error rose in 2026-W12–W13" in cause_sentence(inc.iloc[0], causes)
    assert "of the rise is device = ios" in cause_sentence(inc.iloc[0], causes)
    rmse = mon.metrics_over_time(ds, metrics="rmse", period="W")
    rmse_causes = alert_causes(ds, mon.check_ranges(rmse, mon.derive_ranges(ds, rmse, reference_end=REFERENCE_END)),
                               reference_end=REFERENCE_END)
    assert rmse_causes["value"].iloc[0] == "ios" and rmse_causes["share_of_drop"].iloc[0] is None  # no decomposition
    assert "the largest rise is in device = ios" in cause_sentence(inc.iloc[0], rmse_causes)


def test_multiclass_accuracy_and_a_whole_file_alert():
    rng = np.random.default_rng(4)
    n = 12 * 1000
    t = START + pd.to_timedelta(np.repeat(np.arange(12), 1000) * 7 + rng.uniform(0, 7, n), unit="D")
    source = rng.choice(["app", "mail", "web"], n)
    y = rng.choice(["a", "b", "c"], n)
    right = rng.random(n) < np.where((t >= LATE) & (source == "mail"), 0.5, 0.85)
    pred = np.where(right, y, np.roll(y, 1))
    pred = np.where(~right & (pred == y), np.where(y == "a", "b", "a"), pred)
    frame = pd.DataFrame({"y": y, "pred": pred, "t": t, "source": source})
    ds = build_dataset(frame, Roles(label="y", prediction="pred", time="t", segments=("source",)))
    table = mon.metrics_over_time(ds, metrics="accuracy", period="W")
    status = mon.check_ranges(table, mon.derive_ranges(ds, table, reference_end=REFERENCE_END))
    causes = alert_causes(ds, status, reference_end=REFERENCE_END)
    assert causes[["column", "value"]].values.tolist() == [["source", "mail"]]
    rows = (source == "mail") & (t >= LATE)
    assert causes["value_incident"].iloc[0] == pytest.approx(accuracy_score(y[rows], pred[rows]), abs=1e-12)
    whole = mon.metrics_over_time(ds, metrics="accuracy", period=None)  # no period: no reference to compare with
    status = mon.check_ranges(whole, [mon.Range("accuracy", minimum=0.99)])
    assert alert_causes(ds, status)["message"].tolist() [0].startswith("no reference rows to compare with")


def test_check_json_and_text_say_why_it_alerted(tmp_path, capsys):
    import json

    from mlimpact.cli.main import main

    frame = _weekly(1)
    data, config = tmp_path / "weekly.csv", tmp_path / "checks.toml"
    frame.to_csv(data, index=False)
    config.write_text('[columns]\nlabel = "y"\nscore = "p"\ntime = "t"\nsegments = ["region", "channel"]\n\n'
                      '[[check]]\nmetric = "recall"\nmin = 0.72\nperiod = "W"\n\n'
                      '[[check]]\nmetric = "rows"\nmin = 10\nperiod = "W"\n')
    assert main(["check", str(data), "--config", str(config), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (cause,) = doc["causes"]  # one incident: the traffic check has none
    assert cause["metric"] == "recall" and cause["slices"][0]["column"] == "channel"
    assert cause["slices"][0]["value"] == "online" and cause["sentence"].startswith("Recall fell in ")
    assert main(["check", str(data), "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "why: Recall fell in " in captured.err and "channel = online" in captured.err
    assert all(line.startswith("recall ") for line in captured.out.splitlines())


def test_with_state_only_new_incidents_carry_their_causes(tmp_path, capsys):
    import json

    from mlimpact.cli.main import main

    data, config, state = tmp_path / "weekly.csv", tmp_path / "checks.toml", tmp_path / "state.json"
    _weekly(1).to_csv(data, index=False)
    config.write_text('[columns]\nlabel = "y"\nscore = "p"\ntime = "t"\nsegments = ["region", "channel"]\n\n'
                      '[[check]]\nmetric = "recall"\nmin = 0.72\nperiod = "W"\n')
    args = ["check", str(data), "--config", str(config), "--format", "json", "--state", str(state)]
    assert main(args) == 1
    assert len(json.loads(capsys.readouterr().out)["causes"]) == 1
    assert main(args) == 1  # the same incident: already reported
    doc = json.loads(capsys.readouterr().out)
    assert doc["violations"] == [] and doc["causes"] == [] and doc["ongoing"] >= 1
