"""Issue "Real files", point 2: a file with ~70 rows a week. The default bucket is chosen from the file,
the interval rule checks every bucket whatever its size, and no sentence says "stayed in range" about
buckets that were not checked."""

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact import monitoring as mon
from mlimpact.cli import main
from mlimpact.io import SAMPLES, Roles, build_dataset, sample_path

APP = str(sample_path("fraud").parents[1] / "app.py")
HOT = ("2025-03", "2025-07", "2025-11")  # months of ~100 rows whose base rate is 97–100%


def _small_file() -> pd.DataFrame:
    """~7,000 rows over two years (~70 a week); a base rate near 30%, but 97–100% in the HOT months."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    month = days.strftime("%Y-%m")
    per_day = np.where(np.isin(month, HOT), 3, 10)  # ~100 rows in a HOT month, ~300 otherwise
    t = np.repeat(days, rng.poisson(per_day))
    hot = np.isin(t.strftime("%Y-%m"), HOT)
    y = (rng.random(len(t)) < np.where(hot, 0.985, 0.3)).astype(int)
    score = np.clip(0.35 * y + 0.65 * rng.random(len(t)), 0, 1).round(4)
    return pd.DataFrame({"id": np.arange(len(t)), "time": t + pd.to_timedelta(rng.integers(0, 86_400, len(t)), "s"),
                         "label": y, "score": score})


@pytest.fixture(scope="module")
def small():
    return _small_file()


@pytest.fixture(scope="module")
def ds(small):
    return build_dataset(small, Roles(label="label", score="score", time="time"), source="small.csv")


def test_the_file_is_shaped_like_the_report(small):
    weeks = small.groupby(small["time"].dt.to_period("W")).size()
    months = small.groupby(small["time"].dt.strftime("%Y-%m"))
    assert 6_000 < len(small) < 8_000 and 50 < weeks.median() < 90
    assert months.size()[list(HOT)].between(60, 140).all() and (months["label"].mean()[list(HOT)] >= 0.95).all()


# ----------------------------------------------------------------------------- the default bucket
def test_default_period_is_the_shortest_with_buckets_big_enough(ds):
    assert mon.default_period(ds) == "M"  # weeks hold ~70 rows, months ~300
    assert mon.default_period(ds, settings=mon.MonitorSettings(min_count=50)) == "W"
    assert mon.default_period(ds, settings=mon.MonitorSettings(min_count=5)) == "D"
    assert mon.default_period(ds, settings=mon.MonitorSettings(min_count=10**6)) == "M"  # nothing is: month
    assert mon.default_setup(ds).period == "M"


def test_default_period_counts_positives_per_segment_for_recall_like_metrics():
    rng = np.random.default_rng(0)
    t = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 120 * 86_400, 40_000), "s")
    frame = pd.DataFrame({"t": t, "y": (rng.random(40_000) < 0.01).astype(int), "p": rng.random(40_000),
                          "seg": rng.choice(list("ab"), 40_000)})
    d = build_dataset(frame, Roles(label="y", score="p", time="t", segments=("seg",)))
    assert mon.default_period(d, metric="accuracy") == "D"  # ~330 rows a day
    assert mon.default_period(d, metric="accuracy", segment="seg") == "W"  # ~165 a day per value
    assert mon.default_period(d, metric="recall", segment="seg") == "M"  # ~12 positives a week per value


# ----------------------------------------------------------------------------- the rule change
def test_limits_resolve_per_rule_and_only_apply_under_the_interval_rule_when_set():
    assert mon.MonitorSettings().limits == (0, 0)
    assert mon.MonitorSettings(rule="point").limits == (200, 20)
    assert mon.MonitorSettings(min_count=200).limits == (200, 0)
    assert mon.MonitorSettings(min_count=None, min_positives=None) == mon.DEFAULT_SETTINGS
    assert hash(mon.MonitorSettings(rule="point", min_count=3))  # still frozen and hashable


def test_checks_file_round_trip_keeps_unset_limits_unset():
    ranges = [mon.Range("base_rate", maximum=0.6, period="M")]
    for settings in (mon.MonitorSettings(), mon.MonitorSettings(rule="point"), mon.MonitorSettings(min_count=0),
                     mon.MonitorSettings(threshold=0.3, min_count=50, min_positives=7)):
        text = mon.checks_to_toml({"label": "y"}, ranges, settings=settings)
        cfg = mon.parse_checks(text)
        assert cfg.settings == settings and cfg.ranges == tuple(ranges)
        assert ("min_count =" in text) == (settings.min_count is not None)


def test_interval_rule_alerts_whatever_the_bucket_size(ds):
    ranges = [mon.Range("base_rate", maximum=0.6, period="M")]
    status = mon.evaluate_ranges(ds, ranges)
    alerts = mon.alert_table(status)
    assert alerts["bucket"].tolist() == list(HOT) and (alerts["n"] < 200).all() and (alerts["low"] > 0.6).all()
    assert not status["status"].eq("too small").any()
    # the point rule keeps its 200-row floor; so does the interval rule when the user sets min_count
    for settings in (mon.MonitorSettings(rule="point"), mon.MonitorSettings(min_count=200)):
        status = mon.evaluate_ranges(ds, ranges, settings=settings)
        assert mon.alert_table(status).empty and status["status"].eq("too small").sum() == len(HOT)


def test_degenerate_intervals_of_tiny_buckets_are_not_checked():
    frame = pd.DataFrame({"y": [1, 0, 1, 1, 0, 1, 0, 0, 1], "p": [.9, .2, .3, .8, .1, .7, .6, .4, .2],
                          "t": ["2026-04-06"] + ["2026-04-13"] * 2 + ["2026-04-20"] * 6})
    d = build_dataset(frame, Roles(label="y", score="p", time="t"))
    auc = mon.metrics_over_time(d, metrics="roc_auc")  # DeLong from 2 rows: [1, 1]; from 6: fewer than 10 rows
    assert auc["too_small"].tolist() == [True, True, True]
    assert mon.metrics_over_time(d, metrics="roc_auc", settings=mon.MonitorSettings(min_count=2))[
        "too_small"].tolist() == [True, True, False]  # set: the user's floor; a zero-width interval still is not one
    recall = mon.metrics_over_time(d, metrics="recall")  # Wilson intervals: every bucket is checked
    assert not recall["too_small"].any()


# ----------------------------------------------------------------------------- the sentences
def test_no_sentence_says_stayed_in_range_when_nothing_was_checked():
    frame = pd.DataFrame({"status": ["too small", "no range"], "segment": [None, None],
                          "bucket": ["2026-01", "2026-02"], "period": ["M", "M"]})
    text = mon.describe_alerts(frame, label="Recall")
    assert "stayed" not in text and text.startswith("No month of Recall could be checked")
    ok = frame.assign(status=["ok", "too small"])
    assert mon.describe_alerts(ok, label="Recall") == "Recall stayed in range in the 1 checked month (1 of 2 not checked)"
    from mlimpact.report.charts.monitoring import small_multiples_chart

    seg = frame.assign(segment=["a", "b"], segment_column="s", too_small=[True, False], value=[0.5, 0.6],
                       low=[0.1, 0.2], high=[0.9, 0.9], n=[3, 4], positives=[1, 1], min=[0.3, None],
                       max=[None, None], start=pd.to_datetime(["2026-01-01", "2026-02-01"]))
    title = small_multiples_chart(seg, label="Recall", segment_column="s", domain=["a", "b"]).to_dict()["title"]
    assert "stayed" not in str(title) and "could be checked" in str(title)


def test_too_few_reference_buckets_says_so_and_offers_the_fix(ds):
    point = mon.MonitorSettings(rule="point")
    table = mon.metrics_over_time(ds, metrics="recall", period="W", settings=point)  # every week too small
    ranges = mon.derive_ranges(ds, table, settings=point)
    assert ranges == () and ranges.short == (("recall", None, 0, 52),)
    text, better = mon.reference_advice(ranges, "W")
    assert better == "M" and text.startswith("No range for recall: the reference period has 0 weeks big enough")
    assert "fixed limits" in text
    short = mon.derive_ranges(ds, table, settings=point, reference_end="2024-01-10")
    assert mon.reference_advice(short, "W")[0].endswith("move the reference end later, or use shorter buckets, "
                                                        "or set fixed limits.")
    assert mon.reference_advice(mon.derive_ranges(ds, mon.metrics_over_time(ds, metrics="recall", period="M")),
                                "M") == ("", None)


# ----------------------------------------------------------------------------- CLI and page
def test_check_exits_1_and_lists_the_months_out_of_range(small, tmp_path, capsys):
    data = tmp_path / "small.csv"
    small.to_csv(data, index=False)
    config = tmp_path / "checks.toml"
    config.write_text('[columns]\nlabel = "label"\nscore = "score"\ntime = "time"\n\n'
                      '[[check]]\nmetric = "base_rate"\nmax = 0.6\nperiod = "M"\n', encoding="utf-8")
    assert main(["check", str(data), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"base_rate {m}" for m in HOT]
    assert all(line.endswith("above max 0.6") for line in lines)
    assert err.splitlines()[-1] == "3 of 24 checks out of range"


def test_monitoring_page_defaults_give_a_checked_view(small):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(len(SAMPLES)).run()  # "upload"
    at.file_uploader[0].set_value([("small.csv", small.to_csv(index=False).encode(), "text/csv")]).run()
    at.switch_page("pages/monitoring.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    period = next(r for r in at.radio if r.key.startswith("mon_period_"))
    assert period.value == "M"
    summary = next(c.value for c in at.caption if "checked buckets out of range" in c.value)
    checked = int(summary.replace("\\", "").split(" of ")[1].split(" ")[0])
    assert checked >= 20 and "No range could be derived" not in summary
    assert not [w for w in at.warning if "No range" in w.value]
    saved = next(iter(at.session_state["mi_ranges"].values()))
    assert saved.period == "M" and len(saved.ranges) == 1


def test_page_offers_longer_buckets_when_the_reference_has_too_few(small):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(len(SAMPLES)).run()
    at.file_uploader[0].set_value([("small.csv", small.to_csv(index=False).encode(), "text/csv")]).run()
    at.switch_page("pages/monitoring.py").run()
    h = next(r.key for r in at.radio if r.key.startswith("mon_period_")).removeprefix("mon_period_")
    at.radio(key=f"mon_rule_{h}").set_value("point").run()
    at.radio(key=f"mon_period_{h}").set_value("W").run()  # weeks of ~70 rows: too small under the point rule
    assert any(w.value.startswith("No range for recall") for w in at.warning)
    at.button(key=f"mon_fix_period_{h}").click().run()
    assert not at.exception and at.radio(key=f"mon_period_{h}").value == "M"
    assert not any("No range" in w.value for w in at.warning)
