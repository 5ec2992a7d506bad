"""The DuckDB engine gives the memory path's numbers: on the samples, on generated awkward files, with
binned scores within the stated error; and every bad source gets one clear message."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import mlimpact.engine.tables as engine_tables
import mlimpact.metrics.binary_bootstrap as binary_bootstrap
from mlimpact.cli.main import main
from mlimpact.engine.dataset import choose_engine, open_engine_dataset
from mlimpact.errors import InputError
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.report.scaled import summarize_engine
from mlimpact.report.summarize import summarize
from tests.engine.test_engine_impact import assert_same_impact


@pytest.fixture(autouse=True)
def full_bootstrap(monkeypatch):
    """Both paths draw all 1,000 replicates (no time budget), so their intervals can be compared exactly."""
    real = binary_bootstrap.run_bootstrap

    def no_budget(replicate, *, n_boot, seed, time_budget_s, chunk):
        return real(replicate, n_boot=n_boot, seed=seed, time_budget_s=None, chunk=chunk)

    monkeypatch.setattr(binary_bootstrap, "run_bootstrap", no_budget)


def _flat(d, prefix=""):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}/{k}"))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out.update(_flat(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = d
    return out


def assert_same_summary(memory: dict, engine: dict) -> None:
    """Equal but for the source line and the readers' notes on the file (the engine reads it its own way);
    sums of losses may differ in the last bits (summation order)."""
    a, b = _flat(memory), _flat(engine)
    a = {k: v for k, v in a.items() if not k.startswith(("/source", "/notes"))}
    b = {k: v for k, v in b.items() if not k.startswith(("/source", "/notes"))}
    assert a.keys() == b.keys()
    for k, x in a.items():
        y = b[k]
        if isinstance(x, float) and isinstance(y, float):
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), (k, x, y)
        else:
            assert x == y, (k, x, y)


def _engine_summary(path, changes=None, **kw):
    eds = open_engine_dataset(str(path), "duckdb", changes or {}, threshold=kw.pop("threshold", 0.5))
    try:
        return summarize_engine(eds, seed=0, **kw)
    finally:
        eds.close()


@pytest.mark.parametrize("sample", ["fraud", "ads", "delivery"])
def test_samples_give_the_memory_paths_summary(sample):
    dataset, _ = load(sample_path(sample))
    assert_same_summary(summarize(dataset, seed=0), _engine_summary(sample_path(sample)))


def _awkward_frame(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.2
    score = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1).round(2)  # heavy ties
    df = pd.DataFrame({
        "outcome": np.where(y, "fraud", "ok").astype(object),
        "p": score,
        "region": rng.choice(["west", "east", "north", None], n, p=[0.5, 0.3, 0.15, 0.05]),
        "flag": rng.random(n) < 0.3,
        "tier": rng.integers(1, 4, n).astype(float),
        "amount": rng.lognormal(3, 1, n),
    })
    df.loc[rng.choice(n, 40, replace=False), "outcome"] = None
    df.loc[rng.choice(n, 10, replace=False), "outcome"] = "unknown"  # a rare third value: excluded
    df.loc[rng.choice(n, 25, replace=False), "p"] = np.nan
    df.loc[rng.choice(n, 3, replace=False), "p"] = np.inf
    df.loc[rng.choice(n, 30, replace=False), "amount"] = np.nan
    return df


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_awkward_files_give_the_memory_paths_summary(tmp_path, seed):
    path = tmp_path / "awkward.parquet"
    _awkward_frame(seed).to_parquet(path)
    changes = {"label": "outcome", "score": "p", "segments": ("region", "flag", "tier", "amount")}
    dataset, _ = load(str(path), changes)
    engine = _engine_summary(path, changes, max_values=2)
    assert engine["rows"]["excluded"] == dataset.summary()["excluded"]
    assert set(engine["rows"]["excluded"]) == {"label is missing", "label is not one of the two classes ('fraud', 'ok')",
                                               "score is missing", "score is infinite"}
    assert_same_summary(summarize(dataset, seed=0, max_values=2), engine)


def test_binned_scores_stay_within_the_stated_error(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    n = 20_000
    y = rng.random(n) < 0.1
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y)))  # all distinct
    pd.DataFrame({"y": y.astype(int), "p": score, "g": rng.choice(list("abc"), n)}).to_parquet(tmp_path / "b.parquet")
    monkeypatch.setattr(engine_tables, "RUNS_BUDGET", 2_000)  # forces 256 score bins per group
    out = _engine_summary(tmp_path / "b.parquet", {"label": "y", "score": "p", "segments": ("g",)})
    auc, ap = out["overall"]["roc_auc"], out["overall"]["average_precision"]
    assert 0 < auc["max_error"] < 0.01 and ap["max_error"] > 0
    assert abs(auc["value"] - roc_auc_score(y, score)) <= auc["max_error"]
    assert abs(ap["value"] - average_precision_score(y, score)) <= ap["max_error"]
    for seg in out["segments"]:
        m = np.asarray([str(v) == seg["value"] for v in pd.read_parquet(tmp_path / "b.parquet")["g"]])
        assert abs(seg["metrics"]["roc_auc"]["value"] - roc_auc_score(y[m], score[m])) <= seg["metrics"]["roc_auc"][
            "max_error"]
    assert any("score bins" in note for note in out["notes"])
    # counts-based metrics do not depend on the binning
    assert out["overall"]["recall"]["value"] == pytest.approx(((score >= 0.5) & y).sum() / y.sum(), abs=1e-15)


def test_hive_folder_duckdb_table_and_query_are_sources(tmp_path):
    df = pd.read_csv(sample_path("fraud"))
    for i, part in enumerate(np.array_split(np.arange(len(df)), 3)):
        d = tmp_path / "logs" / f"day={i}"
        d.mkdir(parents=True)
        df.iloc[part].to_parquet(d / "part-0.parquet")
    db = tmp_path / "preds.duckdb"
    con = duckdb.connect(str(db))
    con.register("df", df)
    con.execute("CREATE TABLE preds AS SELECT * FROM df")
    con.close()
    changes = {"label": "is_fraud", "score": "fraud_score", "segments": ("region",)}
    folder = _engine_summary(tmp_path / "logs", changes)
    table = _engine_summary(f"{db}:preds", changes)
    query = _engine_summary(f"{db}:SELECT * FROM preds WHERE region <> 'west'", changes)
    assert folder["rows"]["used"] == table["rows"]["used"] == len(df)
    assert folder["overall"]["roc_auc"] == table["overall"]["roc_auc"]
    assert query["rows"]["used"] == int((df["region"] != "west").sum())


def _write_parts(folder, frames):
    folder.mkdir()
    for i, f in enumerate(frames):
        f.to_parquet(folder / f"part-{i}.parquet")


@pytest.mark.parametrize("case, expected", [
    ("missing", "no such file or folder"),
    ("disagree", "part-1.parquet: its columns disagree with"),
    ("corrupt", "part-1.parquet: not a readable Parquet file"),
    ("bad_query", "preds.duckdb:SELECT nope FROM preds"),
    ("multiclass", "multiclass needs a predicted-class column or one probability column per class"),
    ("empty_folder", "holds no .parquet or .csv files"),
])
def test_bad_sources_get_one_clear_message(tmp_path, case, expected):
    base = pd.DataFrame({"y": [0, 1] * 50, "p": np.linspace(0, 1, 100)})
    source = str(tmp_path / "nowhere")
    if case == "disagree":
        _write_parts(tmp_path / "f", [base, base.assign(p=base["p"].astype(str))])
        source = str(tmp_path / "f")
    elif case == "corrupt":
        _write_parts(tmp_path / "f", [base])
        (tmp_path / "f" / "part-1.parquet").write_bytes(b"PAR1 not really")
        source = str(tmp_path / "f")
    elif case == "bad_query":
        con = duckdb.connect(str(tmp_path / "preds.duckdb"))
        con.execute("CREATE TABLE preds AS SELECT 1 AS y, 0.5 AS p")
        con.close()
        source = f"{tmp_path / 'preds.duckdb'}:SELECT nope FROM preds"
    elif case == "multiclass":
        base.assign(y=np.arange(100) % 3).to_parquet(tmp_path / "m.parquet")
        source = str(tmp_path / "m.parquet")
    elif case == "empty_folder":
        (tmp_path / "f").mkdir()
        source = str(tmp_path / "f")
    with pytest.raises(InputError) as err:
        open_engine_dataset(source, "duckdb", {"label": "y", "score": "p"}, threshold=0.5)
    assert expected in str(err.value)
    assert "Traceback" not in str(err.value) and "\n" not in str(err.value)


def test_cli_engine_option(tmp_path, capsys):
    pd.read_csv(sample_path("ads")).to_parquet(tmp_path / "ads.parquet")
    assert main(["summarize", str(tmp_path / "ads.parquet"), "--engine", "duckdb"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"]["engine"] == "duckdb" and out["task"] == "binary"
    assert main(["summarize", str(tmp_path / "ads.parquet"), "--engine", "duckdb", "--format", "markdown"]) == 0
    assert "note: computed in memory (the engines compute the summary JSON" in capsys.readouterr().err
    assert main(["summarize", str(tmp_path / "ads.parquet"), "--engine", "spark", "--format", "markdown"]) == 2
    assert "is computed in memory in this version" in capsys.readouterr().err
    assert main(["summarize", str(tmp_path), "--engine", "memory", "--label", "clicked"]) == 0  # a folder, in memory
    assert json.loads(capsys.readouterr().out)["rows"]["used"] == out["rows"]["used"]


def test_auto_picks_memory_for_small_sources_and_duckdb_beyond_the_budget(tmp_path, monkeypatch):
    pd.DataFrame({"y": [0, 1], "p": [0.1, 0.9]}).to_parquet(tmp_path / "a.parquet")
    assert choose_engine(str(tmp_path), "auto") == "memory"
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "10")
    assert choose_engine(str(tmp_path), "auto") == "duckdb"
    assert choose_engine(str(tmp_path / "a.parquet"), "spark") == "spark"


@pytest.mark.parametrize("sample", ["fraud", "ads", "delivery"])
def test_check_on_duckdb_prints_the_memory_paths_results(sample, tmp_path, capsys):
    file = {"fraud": "fraud", "ads": "ads_ctr", "delivery": "delivery_times"}[sample]
    config = f"tests/golden/checks_{file}.toml"
    folder = tmp_path / "logs"
    folder.mkdir()
    pd.read_csv(sample_path(sample)).to_parquet(folder / "part-0.parquet")
    codes = [main(["check", str(sample_path(sample)), "--config", config, "--format", "json", "--engine", e])
             for e in ("memory", "duckdb")]
    memory, engine = capsys.readouterr().out.split("\n}\n")[:2]
    assert codes[0] == codes[1] == 1  # both find the planted violations
    memory = json.loads(memory + "}")
    assert "causes" in memory and "causes" not in json.loads(engine + "}")  # why: split by slices, from rows
    memory = {k: v for k, v in memory.items() if k != "causes"}
    assert_same_summary(memory, json.loads(engine + "}"))
    assert main(["check", str(folder), "--config", config, "--format", "json", "--engine", "duckdb"]) == 1
    assert_same_summary(memory, json.loads(capsys.readouterr().out))  # a Parquet folder


def test_slices_and_impact_read_folders_through_duckdb_within_the_budget(tmp_path, capsys, monkeypatch):
    """`slices` and `impact` on DuckDB give memory's JSON; `impact --rule` reads the rows into memory through
    DuckDB, within the budget."""
    folder = tmp_path / "logs"
    folder.mkdir()
    pd.read_csv(sample_path("fraud")).to_parquet(folder / "part-0.parquet")
    for command in (["impact", "--cost-fn", "amount", "--cost-fp", "5"], ["slices"]):
        assert main([command[0], str(sample_path("fraud")), *command[1:]]) == 0
        memory = json.loads(capsys.readouterr().out)
        assert main([command[0], str(folder), *command[1:], "--engine", "duckdb"]) == 0
        engine = json.loads(capsys.readouterr().out)
        if command[0] == "impact":  # counted on DuckDB: the same numbers to about 1e-9 (sums in another order)
            assert_same_impact(memory, engine)
            continue
        assert engine == memory
    rule = ["--rule", "amount > 500", "--slice", 'channel == "online"', "--slice", "timestamp >= \"2026-04-01\""]
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")  # a rule and named slices are SQL now: no budget applies
    assert main(["impact", str(sample_path("fraud")), "--cost-fn", "amount", "--cost-fp", "5", *rule]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main(["impact", str(folder), "--cost-fn", "amount", "--cost-fp", "5", *rule, "--engine", "duckdb"]) == 0
    engine = json.loads(capsys.readouterr().out)
    assert_same_impact({k: v for k, v in memory.items() if k != "slices"}, {k: v for k, v in engine.items()
                                                                            if k != "slices"})
    assert "rule baseline: flag when amount > 500" in engine["assumptions"]
    for a, b in zip(memory["slices"], engine["slices"], strict=True):  # the value within each slice
        assert (a["name"], a["n"]) == (b["name"], b["n"])
        assert_same_impact(a["impact"], b["impact"])
    named = ["--slice", "amount > 500", "--slice", 'device == "unknown"']
    assert main(["slices", str(sample_path("fraud")), *named]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main(["slices", str(folder), *named, "--engine", "duckdb"]) == 0
    engine = json.loads(capsys.readouterr().out)
    assert_same_summary({"named": memory.pop("named_slices")}, {"named": engine.pop("named_slices")})
    assert engine == memory
    for command in (["slices"], ["impact", "--cost-fn", "amount"]):  # counted on DuckDB: no budget applies
        assert main([command[0], str(folder), *command[1:], "--engine", "duckdb"]) == 0
        assert json.loads(capsys.readouterr().out)


def test_csv_folders_gzip_and_schema_qualified_tables(tmp_path):
    df = pd.read_csv(sample_path("ads"))
    (tmp_path / "csv").mkdir()
    df.iloc[:20_000].to_csv(tmp_path / "csv" / "a.csv", index=False)
    df.iloc[20_000:].to_csv(tmp_path / "csv" / "b.csv.gz", index=False)
    changes = {"label": "clicked", "score": "predicted_ctr", "segments": ("placement",)}
    folder = _engine_summary(tmp_path / "csv", changes)
    dataset, _ = load(sample_path("ads"), changes)
    assert_same_summary(summarize(dataset, seed=0), folder)
    df.head(10).drop(columns=["clicked"]).to_csv(tmp_path / "csv" / "c.csv", index=False)
    with pytest.raises(InputError, match="c.csv: its header differs from"):
        open_engine_dataset(str(tmp_path / "csv"), "duckdb", changes, threshold=0.5)
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    con.execute("CREATE SCHEMA logs")
    con.register("df", df)
    con.execute("CREATE TABLE logs.preds AS SELECT * FROM df")
    con.close()
    assert _engine_summary(f"{tmp_path / 'p.duckdb'}:logs.preds", changes)["rows"]["used"] == len(df)


@pytest.mark.parametrize("seed", [0, 1])
def test_awkward_regression_files_give_the_memory_paths_summary(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 4000
    y = rng.gamma(2.0, 10.0, n).round(1)
    y[rng.choice(n, 30, replace=False)] = 0.0  # mape undefined where the truth is 0
    df = pd.DataFrame({"minutes": y, "predicted": y + rng.normal(0, 5, n),
                       "zone": rng.choice(["a", "b", "c", None], n), "size": rng.integers(1, 30, n)})
    df.loc[rng.choice(n, 20, replace=False), "minutes"] = np.nan
    df.loc[rng.choice(n, 5, replace=False), "minutes"] = np.inf
    df.loc[rng.choice(n, 15, replace=False), "predicted"] = np.nan
    df.loc[df["zone"] == "c", "minutes"] = 7.0  # a segment whose truth does not vary: r2 undefined there
    df.to_parquet(tmp_path / "r.parquet")
    changes = {"label": "minutes", "prediction": "predicted", "task": "regression", "segments": ("zone", "size")}
    dataset, _ = load(str(tmp_path / "r.parquet"), changes)
    engine = _engine_summary(tmp_path / "r.parquet", changes)
    assert engine["task"] == "regression"
    assert engine["rows"]["excluded"] == dataset.summary()["excluded"]
    assert_same_summary(summarize(dataset, seed=0), engine)


@pytest.mark.parametrize("sample", ["fraud", "delivery", "support"])
def test_confident_mistakes_are_the_review_pages_rows(sample, tmp_path):
    from mlimpact.engine.rows import confident_mistakes  # noqa: I001 - beside the Review page's own selection
    from mlimpact.review.rows import review_rows, select_rows

    pd.read_csv(sample_path(sample)).to_parquet(tmp_path / "s.parquet")
    dataset, _ = load(str(tmp_path / "s.parquet"))
    rows = review_rows(dataset, tolerance=0.0)
    expected = select_rows(rows, n=30)
    eds = open_engine_dataset(str(tmp_path / "s.parquet"), "duckdb", {}, threshold=0.5)
    try:
        got = confident_mistakes(eds, n=30, probabilities=True)
    finally:
        eds.close()
    assert len(got) == 30
    if sample == "fraud":
        assert got["confidence"].round(12).tolist() == rows.confidence[expected].round(12).tolist()
        assert set(got["error"]) <= {"false_positive", "false_negative"}
    elif sample == "support":  # wrong classes, the predicted class's probability first: the same rows
        assert got["confidence"].tolist() == rows.confidence[expected].tolist()
        ids = dataset.frame["ticket_id"].iloc[expected].to_numpy()
        conf = got["confidence"]  # ties (also with rows past the cut) may come back in any order
        alone = (~conf.duplicated(keep=False) & (conf > conf.min())).to_numpy()
        assert alone.sum() > 20 and (got["ticket_id"].to_numpy()[alone] == ids[alone]).all()
        assert set(got["error"]) == {"wrong_class"}
        assert (got["predicted_class"] == got["predicted_queue"]).all()
    else:
        assert got["miss"].round(9).tolist() == rows.confidence[expected].round(9).tolist()
