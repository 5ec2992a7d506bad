"""Checks on the traffic (rows, missing_share, unlabelled_share, psi): against pandas, in checks.toml and in ``check``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli.main import main
from mlimpact.errors import InputError
from mlimpact.io.dataset import build_dataset
from mlimpact.io.roles import Roles
from mlimpact.monitoring import Range, evaluate_ranges, parse_checks
from mlimpact.monitoring.drift import population_stability_index
from mlimpact.monitoring.population import population_over_time, population_problem


def _frame(seed=0, weeks=10, per_week=400, gap_week=None, unlabelled_weeks=2):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05")  # a Monday
    rows = []
    for w in range(weeks):
        if w == gap_week:
            continue
        t = start + pd.Timedelta(days=7 * w) + pd.to_timedelta(rng.integers(0, 7 * 86400, per_week), unit="s")
        shift = 0.25 if w >= weeks - 2 else 0.0  # the score drifts up in the last two weeks
        p = np.clip(rng.beta(2, 5, per_week) + shift, 0, 1)
        y = (rng.random(per_week) < p).astype(float)
        if w >= weeks - unlabelled_weeks:
            y[:] = np.nan
        region = rng.choice(["north", "south", "west"], per_week)
        device = np.where(rng.random(per_week) < (0.3 if w == weeks - 1 else 0.05), None,
                          rng.choice(["ios", "android"], per_week))
        rows.append(pd.DataFrame({"t": t, "y": y, "p": p.round(4), "region": region, "device": device,
                                  "amount": rng.gamma(2, 50, per_week).round(2), "const": "x"}))
    return pd.concat(rows, ignore_index=True)


def _ds(df):
    return build_dataset(df, Roles(label="y", score="p", time="t", segments=("region",)))


def _week(t):
    d = pd.to_datetime(t).dt.normalize()
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


def test_unlabelled_rows_are_kept_aside_with_their_time_parsed():
    df = _frame()
    ds = _ds(df.astype({"t": str}))
    assert ds.exclusions == {"label is missing": 800}
    assert len(ds.unlabelled) == 800 and pd.api.types.is_datetime64_any_dtype(ds.unlabelled["t"])
    assert ds.n == len(df) - 800


def test_rows_per_week_match_pandas_and_an_empty_week_counts_zero():
    df = _frame(gap_week=4)
    out = population_over_time(_ds(df), "rows", period="W")
    expected = df.groupby(_week(df["t"])).size()
    assert len(out) == 10 and out.loc[4, "value"] == 0 and out.loc[4, "n"] == 0
    got = out[out["n"] > 0].set_index("start")["value"]
    assert got.to_dict() == {k: float(v) for k, v in expected.items()}


def test_rows_per_segment_include_unlabelled_traffic():
    df = _frame()
    out = population_over_time(_ds(df), "rows", period="W", segment="region")
    expected = df.groupby([_week(df["t"]), "region"]).size()
    got = out.set_index(["start", "segment"])["value"]
    assert got.to_dict() == {k: float(v) for k, v in expected.items()}


@pytest.mark.parametrize("metric", ["missing_share", "unlabelled_share"])
def test_shares_match_pandas_with_wilson_intervals(metric):
    from scipy.stats import binomtest

    df = _frame(seed=3)
    out = population_over_time(_ds(df), metric, period="W", column="device" if metric == "missing_share" else None)
    flag = df["device"].isna() if metric == "missing_share" else df["y"].isna()
    g = flag.groupby(_week(df["t"]))
    np.testing.assert_allclose(out["value"], g.mean().to_numpy())
    cis = [binomtest(int(k), int(n)).proportion_ci(method="wilson") for k, n in zip(g.sum(), g.size(), strict=True)]
    lo, hi = [c.low for c in cis], [c.high for c in cis]
    np.testing.assert_allclose(out["low"], lo, atol=1e-12)
    np.testing.assert_allclose(out["high"], hi, atol=1e-12)
    if metric == "unlabelled_share":
        assert out["value"].tolist()[-2:] == [1.0, 1.0] and out["value"].iloc[0] == 0


def _manual_psi(values: pd.Series, in_ref: pd.Series, weeks: pd.Series, numeric: bool, rows=None):
    """PSI per week by hand: bins from every reference row, proportions from ``rows`` (default all)."""
    if numeric:
        edges = np.unique(np.quantile(values[in_ref], np.linspace(0, 1, 11))[1:-1])
        ids = pd.Series(np.searchsorted(edges, values, side="right"), index=values.index)
        k = len(edges) + 2
    else:
        cats = sorted(values.dropna().unique())
        ids = values.map({c: i for i, c in enumerate(cats)}).fillna(len(cats)).astype(int)
        k = len(cats) + 1
    rows = values.index if rows is None else rows
    ids, in_ref, weeks = ids[rows], in_ref[rows], weeks[rows]
    ref = np.bincount(ids[in_ref], minlength=k)
    out = []
    for _, idx in weeks.groupby(weeks).groups.items():  # the reference: a loop is fine in a test
        out.append(population_stability_index(np.bincount(ids[idx], minlength=k), ref)[0])
    return np.array(out)


@pytest.mark.parametrize("column, numeric", [(None, True), ("amount", True), ("device", False)])
def test_psi_matches_a_hand_computation_and_sees_the_planted_drift(column, numeric):
    df = _frame(seed=5)
    ds = _ds(df)
    end = pd.Timestamp("2026-02-08")  # weeks 1-5 are the reference
    out = population_over_time(ds, "psi", period="W", column=column, reference_end=end)
    weeks = _week(df["t"])
    in_ref = weeks + pd.Timedelta(days=7) <= end
    expected = _manual_psi(df[column or "p"], in_ref, weeks, numeric)
    np.testing.assert_allclose(out["value"], expected, rtol=1e-9)
    assert out["note"].iloc[0] == f"column {column or 'p'}"
    if column is None:
        assert out["value"].iloc[-1] > 0.25 > out["value"].iloc[:8].max()  # the shifted scores
    if column == "device":
        assert out["value"].iloc[-1] > 0.1 > out["value"].iloc[:9].max()  # 30% missing in the last week


def test_psi_per_segment_uses_each_values_own_reference():
    df = _frame(seed=7)
    out = population_over_time(_ds(df), "psi", period="W", segment="region", reference_end="2026-02-08")
    weeks = _week(df["t"])
    in_ref = weeks + pd.Timedelta(days=7) <= pd.Timestamp("2026-02-08")
    west = df.index[df["region"] == "west"]
    expected = _manual_psi(df["p"], in_ref, weeks, True, rows=west)  # bins of all regions, west's proportions
    got = out[out["segment"] == "west"]["value"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[-1] > 0.25


def test_small_buckets_are_too_small_for_psi():
    df = _frame(per_week=60)
    out = population_over_time(_ds(df), "psi", period="W")
    assert out["too_small"].all()


@pytest.mark.parametrize("metric, column, period, words", [
    ("psi", "const", "W", "has one value (x) in every row"),
    ("psi", "nope", "W", "column `nope` is not in"),
    ("psi", None, None, "add period"),
    ("missing_share", None, "W", "add column"),
    ("missing_share", "y", "W", "unlabelled_share"),
])
def test_checks_that_cannot_run_say_why(metric, column, period, words):
    ds = _ds(_frame())
    assert words in population_problem(ds, metric, column, period)
    with pytest.raises(InputError, match=words.split("(")[0].strip().replace("`", ".")):
        population_over_time(ds, metric, period=period, column=column)


def test_ranges_on_the_traffic_raise_the_planted_alerts():
    ds = _ds(_frame(seed=1, gap_week=6))
    ranges = [Range("rows", minimum=300, period="W"), Range("psi", maximum=0.25, period="W"),
              Range("missing_share", column="device", maximum=0.2, period="W"),
              Range("unlabelled_share", maximum=0.5, period="W")]
    status = evaluate_ranges(ds, ranges, reference_end="2026-02-08")
    alerts = status[status["status"].isin(["below", "above"])]
    found = {(m, b) for m, b in zip(alerts["metric"], alerts["bucket"], strict=True)}
    assert ("rows", "2026-W08") in found  # the empty week (weeks start at 2026-W02)
    assert {("psi", "2026-W10"), ("psi", "2026-W11")} <= found
    assert ("missing_share", "2026-W11") in found and ("missing_share", "2026-W10") not in found
    assert {("unlabelled_share", "2026-W10"), ("unlabelled_share", "2026-W11")} <= found
    assert set(status.loc[status["metric"] == "psi", "column"]) == {"p"}


def test_a_range_refuses_what_does_not_fit():
    with pytest.raises(InputError, match="column applies to psi and missing_share"):
        Range("recall", minimum=0.5, column="x")
    with pytest.raises(InputError, match="can never be met"):
        Range("unlabelled_share", minimum=1.5)
    with pytest.raises(InputError, match="estimated = true applies to"):
        Range("roc_auc", minimum=0.5, estimated=True)


def test_checks_file_reads_and_writes_the_new_keys():
    from mlimpact.monitoring import checks_to_toml

    text = ('[settings]\nreference_end = "2026-02-08"\n\n[[check]]\nmetric = "psi"\ncolumn = "amount"\nmax = 0.2\n'
            'period = "W"\n\n[[check]]\nmetric = "rows"\nmin = 100\nperiod = "D"\n')
    cfg = parse_checks(text)
    assert cfg.reference_end == pd.Timestamp("2026-02-08")
    assert cfg.ranges[0] == Range("psi", maximum=0.2, period="W", column="amount")
    again = parse_checks(checks_to_toml({"label": "y"}, cfg.ranges, reference_end=cfg.reference_end))
    assert again.ranges == cfg.ranges and again.reference_end == cfg.reference_end
    with pytest.raises(InputError, match=r"checks.toml line 2: reference_end 'soon' is not a date"):
        parse_checks('[settings]\nreference_end = "soon"\n[[check]]\nmetric = "rows"\nmin = 1\n')
    with pytest.raises(InputError, match=r"line 4: `estimated` must be true or false"):
        parse_checks('[[check]]\nmetric = "recall"\nmin = 0.5\nestimated = "yes"\n')


def _write(tmp_path, df, checks):
    data, config = tmp_path / "traffic.csv", tmp_path / "checks.toml"
    df.to_csv(data, index=False)
    config.write_text('[columns]\nlabel = "y"\nscore = "p"\ntime = "t"\n\n[settings]\nreference_end = "2026-02-08"\n'
                      + checks)
    return data, config


def test_check_cli_reports_traffic_violations_with_their_column(tmp_path, capsys):
    data, config = _write(tmp_path, _frame(seed=1), '\n[[check]]\nmetric = "psi"\nmax = 0.25\nperiod = "W"\n'
                          '\n[[check]]\nmetric = "missing_share"\ncolumn = "device"\nmax = 0.2\nperiod = "W"\n')
    assert main(["check", str(data), "--config", str(config)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("psi(p) 2026-W11: ") and "above max 0.25" in line and "(" not in line[8:]
               for line in out)
    assert any(line.startswith("missing_share(device) 2026-W11: ") for line in out)
    assert main(["check", str(data), "--config", str(config), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    v = next(v for v in doc["violations"] if v["metric"] == "missing_share")
    assert v["column"] == "device" and v["estimated"] is False and v["bucket"] == "2026-W11"
    assert all("column" in r and "estimated" in r for r in doc["results"])


@pytest.mark.parametrize("checks, words", [
    ('\n[[check]]\nmetric = "psi"\ncolumn = "const"\nmax = 0.2\nperiod = "W"\n', "line 9: column `const` has one value"),
    ('\n[[check]]\nmetric = "missing_share"\ncolumn = "nope"\nmax = 0.2\n', "line 9: column `nope` is not in"),
])
def test_check_cli_bad_traffic_checks_exit_2_with_one_line(tmp_path, capsys, checks, words):
    data, config = _write(tmp_path, _frame(seed=1), checks)
    assert main(["check", str(data), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("inferred ")]
    assert words in err and "Traceback" not in err and len(errors) == 1


def test_check_cli_on_a_file_where_every_label_is_empty(tmp_path, capsys):
    df = _frame(seed=1).assign(y=np.nan)
    data, config = _write(tmp_path, df, '\n[[check]]\nmetric = "rows"\nmin = 10\nperiod = "W"\n')
    assert main(["check", str(data), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "every value is missing" in err and "Traceback" not in err


def test_estimated_checks_on_an_engine_give_memorys_results(tmp_path, capsys):
    """Traffic and estimated checks run on the engines too (tests/engine/test_engine_population.py and
    test_engine_estimate.py): the unlabelled weeks of this generated file, estimated on DuckDB as in memory."""
    from tests.engine.test_engines import assert_same_summary  # the engines' comparison of two JSON documents

    data, config = _write(tmp_path, _frame(seed=1), '\n[[check]]\nmetric = "recall"\nestimated = true\nmin = 0.5\n'
                          'period = "W"\n')
    said = {}
    for engine in ("memory", "duckdb"):
        code = main(["check", str(data), "--config", str(config), "--engine", engine, "--format", "json"])
        said[engine] = code, json.loads(capsys.readouterr().out)
    assert said["memory"][0] == said["duckdb"][0] in (0, 1)
    assert said["duckdb"][1]["results"] and all(r["estimated"] for r in said["duckdb"][1]["results"])
    assert_same_summary(said["memory"][1], said["duckdb"][1])


def test_rows_without_a_usable_score_are_not_traffic_labelled_or_not():
    df = _frame(seed=2)
    df.loc[df.sample(frac=0.1, random_state=1).index, "p"] = np.nan  # 10% blank scores in every week
    ds = _ds(df)
    rows = population_over_time(ds, "rows", period="W")
    expected = df[df["p"].notna()].groupby(_week(df["t"])).size()
    assert rows["value"].tolist() == expected.astype(float).tolist()
    psi = population_over_time(ds, "psi", period="W", reference_end="2026-02-08")
    assert psi["value"].iloc[:8].max() < 0.1  # the unlabelled weeks 10-11 drift by construction, not by blanks


def test_times_of_unlabelled_rows_written_differently_or_missing_get_a_note():
    df = _frame(seed=4).astype({"t": str})
    late = df["y"].isna()
    df.loc[late, "t"] = pd.to_datetime(df.loc[late, "t"]).dt.strftime("%d/%m/%Y %H:%M")
    df.loc[df.index[late][:5], "t"] = None
    notes = _ds(df).notes
    assert any("write their times differently from the labelled rows" in n for n in notes)
    assert any("5 rows without a label have no readable time" in n for n in notes)


def test_drift_and_datetime_or_id_like_columns():
    from mlimpact.monitoring import drift_over_time

    df = _frame(seed=6).assign(p=0.3)  # a constant score: its PSI cannot be checked, the drift table still comes
    df["y"] = df["y"].fillna(np.nan)
    assert len(drift_over_time(_ds(df))) > 0
    df = _frame(seed=6)
    df["ticket"] = [f"id{i}" for i in range(len(df))]
    ds = _ds(df)
    times = population_over_time(ds, "psi", period="W", column="t", reference_end="2026-02-08")
    ids = population_over_time(ds, "psi", period="W", column="ticket", reference_end="2026-02-08")
    assert np.isfinite(times["value"]).all() and np.isfinite(ids["value"]).all()
    assert ids["value"].max() < 0.25  # every id new, but all in the one "other" bin: not a "major shift"


def test_reference_end_with_an_offset_is_utc_and_before_the_data_is_refused(tmp_path, capsys):
    cfg = parse_checks('[settings]\nreference_end = "2026-02-01T00:00:00+05:00"\n[[check]]\nmetric = "rows"\nmin = 1\n')
    assert cfg.reference_end == pd.Timestamp("2026-01-31 19:00")
    data, config = _write(tmp_path, _frame(seed=1), '\n[[check]]\nmetric = "psi"\nmax = 0.25\nperiod = "W"\n')
    config.write_text(config.read_text().replace('reference_end = "2026-02-08"', 'reference_end = "2025-01-01"'))
    assert main(["check", str(data), "--config", str(config)]) == 2
    assert "reference_end 2025-01-01 is before the first time" in capsys.readouterr().err


def test_causes_are_listed_even_when_empty(tmp_path, capsys):
    data, config = _write(tmp_path, _frame(seed=1), '\n[[check]]\nmetric = "rows"\nmin = 1\nperiod = "W"\n')
    assert main(["check", str(data), "--config", str(config), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["causes"] == []
