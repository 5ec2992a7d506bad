"""Monitoring: time buckets, metrics over time against scikit-learn, ranges by hand, alerts, drift,
the planted fraud incident, the page → checks.toml → CLI round trip, and the Monitoring page (AppTest)."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact import monitoring as mon
from mlimpact.cli import main
from mlimpact.errors import InputError
from mlimpact.io import SAMPLES, Roles, build_dataset, infer_roles, read_predictions, sample_path
from mlimpact.metrics import wilson_interval
from mlimpact.monitoring import checks_to_toml

APP = str(sample_path("fraud").parents[1] / "app.py")


def _sample(key):
    frame, report = read_predictions(sample_path(key))
    return build_dataset(frame, infer_roles(frame).roles, source=sample_path(key).name,
                         content_hash=report.content_hash)


@pytest.fixture(scope="module")
def fraud():
    return _sample("fraud")


# ----------------------------------------------------------------------------- buckets
def test_iso_weeks_days_and_months_match_pandas_calendar():
    times = pd.to_datetime(pd.Series(["2025-12-28 23:59", "2025-12-29 00:00", "2026-01-04 12:00", "2026-01-05",
                                      "2026-12-31 08:00", "2027-01-03", "2027-01-04", None]), format="ISO8601")
    b = mon.time_buckets(times, "W")
    ok = times.notna()
    iso = times[ok].dt.isocalendar()
    expected = (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).tolist()
    assert [b.labels[c] for c in b.codes[ok.to_numpy()]] == expected
    assert b.labels == ("2025-W52", "2026-W01", "2026-W02", "2026-W53", "2027-W01")
    assert b.codes[-1] == -1
    assert all(s.day_of_week == 0 for s in b.starts)  # Monday
    assert (b.ends - b.starts == pd.Timedelta(days=7)).all()
    d = mon.time_buckets(times, "D")
    assert d.labels[:2] == ("2025-12-28", "2025-12-29")
    m = mon.time_buckets(times, "M")
    assert m.labels == ("2025-12", "2026-01", "2026-12", "2027-01")
    assert str(m.ends[0].date()) == "2026-01-01"
    with pytest.raises(InputError, match="period must be one of D"):
        mon.time_buckets(times, "Q")


# ----------------------------------------------------------------------------- metrics over time
@pytest.fixture(scope="module")
def random_binary():
    rng = np.random.default_rng(3)
    n = 4000
    t = pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.uniform(0, 70, n), unit="D")
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(3)
    frame = pd.DataFrame({"y": y, "p": p, "t": t.astype(str), "region": rng.choice(["north", "south", "east"], n)})
    frame.loc[::97, "t"] = "not a date"
    return frame, build_dataset(frame, Roles(label="y", score="p", time="t", segments=("region",)))


@pytest.mark.parametrize("metric", ["recall", "precision", "roc_auc"])
def test_metrics_over_time_match_scikit_learn_per_week_and_segment(random_binary, metric):
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    frame, ds = random_binary
    fn = {"recall": lambda y, p: recall_score(y, p >= 0.5), "precision": lambda y, p: precision_score(y, p >= 0.5),
          "roc_auc": roc_auc_score}[metric]
    table = mon.metrics_over_time(ds, metrics=metric, period="W", segment="region")
    t = pd.to_datetime(frame["t"], errors="coerce", format="ISO8601")
    rows = frame.assign(week=t.dt.isocalendar().week)[t.notna()]
    assert table["n"].sum() == len(rows)  # rows without a time are left out
    for r in table.to_dict("records"):  # brute force: select the rows directly
        part = rows[(rows["region"] == r["segment"]) & (rows["week"] == int(r["bucket"][-2:]))]
        assert r["n"] == len(part) and r["positives"] == part["y"].sum()
        assert r["value"] == pytest.approx(fn(part["y"], part["p"]), abs=1e-12)
        assert r["low"] <= r["value"] <= r["high"]
    if metric == "recall":
        lo, hi = wilson_interval(table["value"] * table["positives"], table["positives"])
        assert np.allclose(table["low"], lo) and np.allclose(table["high"], hi)
    assert list(table.columns) == mon.OVER_TIME_COLUMNS


def test_metrics_over_time_regression_and_multiclass_against_direct_computation():
    from sklearn.metrics import accuracy_score, mean_absolute_error

    rng = np.random.default_rng(1)
    n = 900
    t = (pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")).astype(str)
    y = rng.normal(30, 5, n)
    reg = build_dataset(pd.DataFrame({"y": y, "yhat": y + rng.normal(0, 2, n), "t": t}),
                        Roles(label="y", prediction="yhat", time="t", task="regression"))
    table = mon.metrics_over_time(reg, metrics=["mae", "mean_error"], period="M")
    assert table["metric"].tolist() == ["mae"] * 3 + ["mean_error"] * 3
    months = pd.to_datetime(pd.Series(t)).dt.strftime("%Y-%m")
    for r in table[table["metric"] == "mae"].to_dict("records"):
        part = months == r["bucket"]
        assert r["value"] == pytest.approx(mean_absolute_error(reg.y[part], reg.prediction[part]))
        assert r["segment"] is None and r["segment_column"] is None and np.isnan(r["positives"])
    classes = np.array(["a", "b", "c"])
    mc = build_dataset(pd.DataFrame({"y": classes[rng.integers(0, 3, n)], "pred": classes[rng.integers(0, 3, n)],
                                     "t": t}), Roles(label="y", prediction="pred", time="t", task="multiclass"))
    acc = mon.metrics_over_time(mc, metrics="accuracy", period="M")
    frame = mc.frame.assign(m=months.to_numpy())
    assert acc["value"].tolist() == pytest.approx(
        [accuracy_score(g["y"], g["pred"]) for _, g in frame.groupby("m")])
    with pytest.raises(InputError, match="^metric recall does not apply to a multiclass task; choose one of"):
        mon.metrics_over_time(mc, metrics="recall")


def test_no_time_column_is_a_clear_error():
    ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.8]}), Roles(label="y", score="p"), source="a.csv")
    with pytest.raises(InputError) as err:
        mon.metrics_over_time(ds, metrics="recall", period="W")
    assert str(err.value) == ("a.csv: no time column chosen; a period needs one (pick the time column, or add "
                              "`time = \"COLUMN\"` to [columns] in checks.toml)")
    whole = mon.metrics_over_time(ds, metrics="recall", period=None)  # the whole file is one bucket
    assert whole[["bucket", "n", "value"]].values.tolist() == [["all", 2, 1.0]]


# ----------------------------------------------------------------------------- ranges by hand
def _hand_frame():
    """Two segments × 6 weeks (from Monday 2026-01-05), 250 rows each: 30 positives, TP counts chosen."""
    tps = {"a": [24, 21, 27, 24, 6, 24], "b": [15, 15, 15, 15, 15, 15]}
    rows = []
    for seg, counts in tps.items():
        for week, tp in enumerate(counts):
            day = (pd.Timestamp("2026-01-06 12:00") + pd.Timedelta(weeks=week)).isoformat(sep=" ")
            rows += [(seg, day, 1, 0.9)] * tp + [(seg, day, 1, 0.1)] * (30 - tp) + [(seg, day, 0, 0.2)] * 220
    frame = pd.DataFrame(rows, columns=["seg", "t", "y", "p"])
    return build_dataset(frame, Roles(label="y", score="p", time="t", segments=("seg",)))


def test_reference_ranges_by_hand():
    ds = _hand_frame()
    table = mon.metrics_over_time(ds, metrics="recall", period="W", segment="seg")
    assert table.loc[table["segment"] == "a", "value"].round(3).tolist() == [0.8, 0.7, 0.9, 0.8, 0.2, 0.8]
    end = pd.Timestamp("2026-02-02")  # weeks 1-4 end on or before it
    ranges = mon.derive_ranges(ds, table, k=3, reference_end=end)
    a_vals = np.array([24, 21, 27, 24]) / 30
    a_se = np.median([(h - lo) / 3.919927969080108 for lo, h in zip(*wilson_interval(a_vals * 30, 30), strict=True)])
    sd = max(a_vals.std(ddof=1), a_se)
    assert ranges[0] == mon.Range("recall", minimum=float(f"{a_vals.mean() - 3 * sd:.4g}"), maximum=None, period="W",
                                  segment="seg", segment_value="a")  # mean + 3 sd > 1: no max
    b_se = (lambda lo, hi: (hi - lo) / 3.919927969080108)(*wilson_interval(15, 30))
    assert ranges[1] == mon.Range("recall", minimum=float(f"{0.5 - 3 * b_se:.4g}"),
                                  maximum=float(f"{0.5 + 3 * b_se:.4g}"), period="W", segment="seg",
                                  segment_value="b")  # sd 0 between weeks: floored at one week's noise
    status = mon.check_ranges(table, ranges)
    assert mon.alert_table(status)[["segment", "bucket", "status"]].values.tolist() == [["a", "2026-W06", "below"]]
    relative = mon.derive_ranges(ds, table, mode="relative", tolerance=0.1, reference_end=end)
    assert [(r.segment_value, r.minimum, r.maximum) for r in relative] == [("a", 0.72, 0.88), ("b", 0.45, 0.55)]
    fixed = mon.derive_ranges(ds, table, mode="fixed", minimum=0.6)
    assert fixed == (mon.Range("recall", minimum=0.6, period="W", segment="seg"),)
    assert mon.derive_ranges(ds, table, mode="fixed") == ()
    # too few reference buckets: no range rather than a guess
    assert mon.derive_ranges(ds, table, reference_end=pd.Timestamp("2026-01-19")) == ()


def test_interval_rule_point_rule_too_small_and_segment_values():
    table = pd.DataFrame({
        "metric": "recall", "segment_column": "seg", "segment": ["a", "a", "a", "a", "b"], "period": "W",
        "bucket": ["w1", "w2", "w3", "w4", "w1"], "start": pd.NaT, "end": pd.NaT, "n": [500, 500, 50, 500, 500],
        "positives": 40.0, "value": [0.65, 0.5, 0.1, np.nan, 0.1], "low": [0.55, 0.4, 0.0, np.nan, 0.05],
        "high": [0.75, 0.6, 0.3, np.nan, 0.2], "note": None, "too_small": [False, False, True, False, False]})
    only_a = [mon.Range("recall", minimum=0.7, period="W", segment="seg", segment_value="a")]
    interval = mon.check_ranges(table, only_a)
    assert interval["status"].tolist() == ["ok", "below", "too small", "n/a", "no range"]
    point = mon.check_ranges(table, only_a, rule="point")
    assert point["status"].tolist() == ["below", "below", "too small", "n/a", "no range"]
    every = mon.check_ranges(table, [mon.Range("recall", maximum=0.5, period="W", segment="seg")])
    assert every["status"].tolist() == ["above", "ok", "too small", "n/a", "ok"]
    assert list(every.columns) == mon.STATUS_COLUMNS


def test_range_and_settings_validation_messages():
    with pytest.raises(InputError, match="^min 0.9 is greater than max 0.8$"):
        mon.Range("recall", minimum=0.9, maximum=0.8)
    with pytest.raises(InputError, match="^give min, max or both$"):
        mon.Range("recall")
    with pytest.raises(InputError, match="^segment_value needs segment"):
        mon.Range("recall", minimum=0.1, segment_value="west")
    with pytest.raises(InputError, match="^rule must be \"interval\" or \"point\"; got 'mean'$"):
        mon.MonitorSettings(rule="mean")


def test_too_small_uses_rows_and_positives_for_recall_like_metrics_only():
    ds = _hand_frame()
    settings = mon.MonitorSettings(min_count=100, min_positives=31)
    recall = mon.metrics_over_time(ds, metrics="recall", period="W", segment="seg", settings=settings)
    accuracy = mon.metrics_over_time(ds, metrics="accuracy", period="W", segment="seg", settings=settings)
    assert recall["too_small"].all() and not accuracy["too_small"].any()
    rows = mon.metrics_over_time(ds, metrics="accuracy", period="W", settings=mon.MonitorSettings(min_count=501))
    assert rows["too_small"].all()


# ----------------------------------------------------------------------------- the planted incident
def test_fraud_incident_found_in_the_right_weeks_and_region_and_nothing_else(fraud):
    table = mon.metrics_over_time(fraud, metrics="recall", period="W", segment="region")
    ranges = mon.derive_ranges(fraud, table)  # the page's defaults: reference = first half, k = 3, interval rule
    status = mon.check_ranges(table, ranges)
    alerts = mon.alert_table(status)
    assert alerts[["segment", "bucket", "status"]].values.tolist() == [["west", "2026-W15", "below"],
                                                                      ["west", "2026-W16", "below"]]
    assert alerts["value"].round(2).tolist() == [0.08, 0.17]  # sample_data/README.md: W15 0.08, W16 0.17
    # under the interval rule every bucket is checked, whatever its size (its interval accounts for it):
    # the edge weeks (W01: < 20 frauds per region, W27: < 200 rows) are checked and in range, not skipped
    assert status["status"].value_counts().to_dict() == {"ok": 133, "below": 2}
    point = mon.MonitorSettings(rule="point")  # the point rule keeps its 200 rows / 20 positives limits
    small = mon.metrics_over_time(fraud, metrics="recall", period="W", segment="region", settings=point)
    assert set(small.loc[small["too_small"], "bucket"]) == {"2026-W01", "2026-W27"}
    # overall (no segment) the incident is diluted by the four healthy regions: nothing fires
    overall = mon.metrics_over_time(fraud, metrics="recall", period="W")
    assert mon.alert_table(mon.check_ranges(overall, mon.derive_ranges(fraud, overall))).empty
    assert mon.describe_alerts(status, label="Recall") == ("Recall fell below its range in west in 2026-W15 and "
                                                           "2026-W16 (2 of 135 checked weeks)")


def test_fraud_drift_is_flat_and_base_rate_steady(fraud):
    drift = mon.drift_over_time(fraud, period="W")
    assert list(drift.columns) == mon.DRIFT_COLUMNS
    assert drift["reference"].tolist() == [True] * 13 + [False] * 14  # W01-W13 end by 2026-04-01
    assert drift["n"].sum() == fraud.n
    assert (drift["score_psi"] < 0.1).all() and (drift["label_psi"] < 0.01).all()
    assert drift["label_mean"].iloc[1] == pytest.approx(fraud.y[drift_rows(fraud, "2026-W02")].mean())


def drift_rows(ds, label):
    b = mon.dataset_buckets(ds, "W")
    return b.codes == b.labels.index(label)


def test_psi_against_a_hand_computation_and_drift_for_every_task():
    counts, ref = np.array([[30, 70]]), np.array([50, 50])
    p, q = np.array([0.3, 0.7]), np.array([0.5, 0.5])
    assert mon.population_stability_index(counts, ref)[0] == pytest.approx(((p - q) * np.log(p / q)).sum())
    for key in ("support", "delivery"):
        drift = mon.drift_over_time(_sample(key), period="W")
        assert list(drift.columns) == mon.DRIFT_COLUMNS and drift["score_psi"].notna().all()
        assert drift["label_mean"].isna().all() == (key == "support")
    # a two-month file has no whole month before its middle: no reference, so no PSI (not a fake 0)
    assert mon.drift_over_time(_sample("delivery"), period="M")["score_psi"].isna().all()


# ----------------------------------------------------------------------------- page → checks.toml → CLI
def _page_alerts(ds, *, metric, period, segment, mode="reference", settings=mon.DEFAULT_SETTINGS, **kw):
    """What the Monitoring page computes for a setting (the same calls, in the same order)."""
    table = mon.metrics_over_time(ds, metrics=metric, period=period, segment=segment, settings=settings)
    ranges = mon.derive_ranges(ds, table, mode=mode, settings=settings, **kw)
    return ranges, mon.alert_table(mon.check_ranges(table, ranges, rule=settings.rule))


@pytest.mark.parametrize("key,setting", [
    ("fraud", {"metric": "recall", "period": "W", "segment": "region"}),
    ("fraud", {"metric": "f1", "period": "W", "segment": "region", "k": 1.5,
               "settings": mon.MonitorSettings(threshold=0.4, rule="point")}),
    ("delivery", {"metric": "mean_error", "period": "W", "segment": "city", "mode": "fixed", "minimum": -1.0,
                  "maximum": 1.0}),
    ("delivery", {"metric": "mae", "period": "D", "segment": None, "mode": "relative", "tolerance": 0.05,
                  "settings": mon.MonitorSettings(rule="point")}),
    ("support", {"metric": "macro_f1", "period": "W", "segment": "channel", "mode": "fixed", "minimum": 0.75}),
])
def test_round_trip_page_to_checks_file_to_cli(key, setting, tmp_path, capsys):
    ds = _sample(key)
    ranges, alerts = _page_alerts(ds, **setting)
    settings = setting.get("settings", mon.DEFAULT_SETTINGS)
    config = tmp_path / "checks.toml"
    config.write_text(checks_to_toml(ds.roles, ranges, settings=settings, source=ds.source), encoding="utf-8")
    code = main(["check", str(sample_path(key)), "--config", str(config), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert len(alerts) > 0  # each setting has something to agree on
    assert code == 1
    cols = ["metric", "segment", "bucket", "value", "low", "high", "min", "max"]
    page = alerts.rename(columns={"status": "side"})[cols + ["side"]].astype(object)
    page = page.where(page.notna(), None).to_dict("records")
    assert [{c: v[c] for c in cols + ["side"]} for v in out["violations"]] == page
    assert out["checked"] + out["too_small"] + out["unavailable"] > len(alerts)


def test_cli_text_output_and_exit_codes(fraud, tmp_path, capsys):
    ranges, _ = _page_alerts(fraud, metric="recall", period="W", segment="region")
    config = tmp_path / "checks.toml"
    config.write_text(checks_to_toml(fraud.roles, ranges), encoding="utf-8")
    assert main(["check", str(sample_path("fraud")), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    # the edge weeks now count in the reference (interval rule, no size limit), so west's min is 0.5018, not 0.53
    assert out.splitlines() == ["recall region=west 2026-W15: 0.080 (0.022–0.250) below min 0.5018",
                                "recall region=west 2026-W16: 0.167 (0.067–0.359) below min 0.5018"]
    assert err.splitlines()[-1] == "2 of 135 checks out of range"
    config.write_text(checks_to_toml(fraud.roles, [mon.Range("recall", minimum=0.5, period="M")]), encoding="utf-8")
    assert main(["check", str(sample_path("fraud")), "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines()[-1] == "all 6 checks in range"


# ----------------------------------------------------------------------------- the page
def _shown(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _open(sample_index: int) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if sample_index:
        at.selectbox(key="mi_source_select").select_index(sample_index).run()
    return at.switch_page("pages/monitoring.py").run()


def _clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_page_on_fraud_lists_the_incident_then_follows_metric_and_bucket():
    at = _open(0)
    _clean(at)
    assert at.title[0].value == "Monitoring"
    alerts = at.dataframe[0].value
    assert alerts[["segment_column", "segment", "bucket"]].values.tolist() == [["region", "west", "2026-W15"],
                                                                             ["region", "west", "2026-W16"]]
    assert len(at.get("vega_lite_chart")) >= 4  # overlay, small multiples, PSI, base rate
    assert "Download checks.toml" in [b.proto.label for b in at.get("download_button")]
    saved = at.session_state["mi_ranges"]
    (entry,) = saved.values()
    assert entry.metric == "recall" and len(entry.ranges) == 5 and entry.settings == mon.DEFAULT_SETTINGS
    assert hash(entry)  # a frozen settings object: the report and caches can key on it
    h = next(s.key for s in at.selectbox if s.key.startswith("mon_metric_")).removeprefix("mon_metric_")
    at.selectbox(key=f"mon_metric_{h}").set_value("precision").run()
    at.radio(key=f"mon_period_{h}").set_value("M").run()
    _clean(at)
    assert set(at.dataframe[0].value["bucket"]) <= {f"2026-0{m}" for m in range(1, 7)}
    at.selectbox(key=f"mon_metric_{h}").set_value("recall").run()
    at.radio(key=f"mon_period_{h}").set_value("W").run()
    _clean(at)
    assert at.dataframe[0].value["bucket"].tolist() == ["2026-W15", "2026-W16"]


@pytest.mark.parametrize("index", range(1, len(SAMPLES)))
def test_page_on_the_other_samples_has_no_alerts(index):
    at = _open(index)
    _clean(at)
    assert at.dataframe[0].value.empty
    summary = next(_shown(c.value) for c in at.caption if "checked buckets out of range" in c.value)
    assert summary.startswith("0 of ") and not summary.startswith("0 of 0 ")


def test_page_without_a_time_column_says_so_and_stops():
    at = _open(0)
    h = next(s.key for s in at.selectbox if s.key.startswith("role_time_")).removeprefix("role_time_")
    at.selectbox(key=f"role_time_{h}").set_value("(none)").run()
    _clean(at)
    assert at.title[0].value == "Monitoring"
    assert "no time column" in at.info[0].value
    assert not at.dataframe and not at.get("vega_lite_chart")
