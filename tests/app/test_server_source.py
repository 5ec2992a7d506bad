"""'Open data on the server': a Parquet folder under MLIMPACT_DATA_DIRS opens on every page; paths outside it,
`..`, symlinks out of it and queries that reach other files are refused with one clear message."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlimpact.engine.server import open_server_source, server_options
from mlimpact.errors import InputError
from mlimpact.io.samples import sample_path

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ("pages/segments.py", "pages/difficulty.py", "pages/impact.py", "pages/compare.py", "pages/monitoring.py",
         "pages/review.py")


@pytest.fixture
def server(tmp_path, monkeypatch):
    data = tmp_path / "data"
    logs = data / "logs"
    df = pd.read_csv(sample_path("fraud"))
    for i, part in enumerate((df.iloc[:40_000], df.iloc[40_000:])):
        (logs / f"day={i}").mkdir(parents=True)
        part.to_parquet(logs / f"day={i}" / "part-0.parquet")
    (tmp_path / "secret").mkdir()
    df.head(50).to_parquet(tmp_path / "secret" / "other.parquet")
    (data / "escape").symlink_to(tmp_path / "secret")
    con = duckdb.connect(str(tmp_path / "preds.duckdb"))
    con.register("df", df)
    con.execute("CREATE TABLE preds AS SELECT * FROM df")
    con.close()
    monkeypatch.setenv("MLIMPACT_DATA_DIRS", str(data))
    monkeypatch.setenv("MLIMPACT_DUCKDB", str(tmp_path / "preds.duckdb"))
    return tmp_path


def _open(at: AppTest, path: str) -> AppTest:
    at.selectbox(key="mi_source_select").set_value("server").run()
    at.radio(key="mi_server_kind").set_value("A file or folder").run()
    at.text_input(key="mi_server_path").input(path)
    at.sidebar.button[0].click().run()  # the form's "Open"
    return at


def test_a_parquet_folder_on_the_server_opens_on_every_page(server):
    at = _open(AppTest.from_file(APP, default_timeout=90).run(), "logs")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("80,000 of 80,000 rows used" in c.value for c in at.sidebar.caption)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception and not at.error, (page, [e.value for e in at.error])


def test_paths_outside_the_data_folders_are_refused_on_the_page(server):
    at = AppTest.from_file(APP, default_timeout=60).run()
    for path, words in (("../preds.duckdb", "`..` is not allowed"), ("escape/other.parquet", "not under the folders"),
                        (str(server / "secret" / "other.parquet"), "not under the folders"),
                        ("nothing_here", "no such file or folder")):
        _open(at, path)
        assert not at.exception
        assert any(words in e.value.replace("\\", "") for e in at.error), (path, [e.value for e in at.error])


def test_queries_run_read_only_and_cannot_reach_other_files(server):
    options = server_options()
    source = open_server_source(options, query="SELECT * FROM preds WHERE region = 'west'")
    assert 0 < len(source.frame) < 80_000
    for query, words in ((f"SELECT * FROM read_parquet('{server}/secret/other.parquet')", "disabled by configuration"),
                         ("DROP TABLE preds", "type a SELECT query"), ("", "type a SELECT query"),
                         ("SELECT 1; DROP TABLE preds", "Parser Error"), ("SELECT * FROM nope", "does not exist")):
        with pytest.raises(InputError, match=words):
            open_server_source(options, query=query)


def test_a_source_above_the_budget_says_what_to_do(server, monkeypatch):
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")
    with pytest.raises(InputError, match="above this app.s budget .* count it where it lives, on DuckDB"):
        open_server_source(server_options(), path="logs")


def test_without_data_folders_the_choice_is_not_offered():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "server" not in at.selectbox(key="mi_source_select").options


def test_large_data_page_summarizes_a_folder_above_the_budget_on_duckdb(server, monkeypatch):
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")  # too large for the other pages
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/large.py").run()
    at.radio(key="large_kind").set_value("A file or folder").run()
    at.text_input(key="large_path").input("logs")
    at.text_input(key="large_segments").input("region, channel")
    at.main.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = [d.value for d in at.dataframe]
    overall = shown[0].set_index("metric")
    assert round(overall.loc["recall", "value"], 3) == 0.767 and overall.loc["roc_auc", "low"] < 0.959
    assert set(shown[1]["column"]) == {"region", "channel"}
    assert any(c.value.replace("\\", "").startswith("logs: 80,000 of 80,000 rows used") for c in at.main.caption)
    _press(at, "Find weak slices on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    found = at.dataframe[2].value
    assert found["finding"].iloc[0].startswith("device = unknown:")  # the memory path's first slice (fraud)
    assert any("slices evaluated" in c.value for c in at.main.caption)
    _press(at, "Count the lanes on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = [m.value for m in at.markdown if "Automating" in m.value]
    assert said and "about" in said[0] and "a day" in said[0]  # the Difficulty page's sentence, from DuckDB counts
    at.number_input(key="large_target").set_value(0.5).run()
    assert [m.value for m in at.markdown if "Automating" in m.value] != said  # a stricter target: another point
    assert at.text_input(key="large_cost_fn").value == "amount"  # the file's amount column, as on the Impact page
    _press(at, "Compute the value on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = "\n".join(c.value for c in at.code)
    assert "the model's decisions are worth" in said and "value-maximising threshold is 0.0619" in said
    at.selectbox(key="large_cmp_segment").set_value("region")
    _press(at, "Compare the models on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = "\n".join(c.value for c in at.code)
    assert "fraud_score_v2" in said  # the file's second model against the first, as on the Compare page
    diffs = next(d.value for d in at.dataframe if "method" in d.value.columns)
    assert {"DeLong", "paired bootstrap"} == set(diffs["method"]) and set(diffs["model"]) == {"fraud_score_v2"}
    assert (diffs.set_index("metric").loc["roc_auc", "winner"]) == "fraud_score_v2"
    value = next(d.value for d in at.dataframe if {"point", "diff_low"} <= set(d.value.columns))  # amount-based costs
    assert len(value) == 4 and set(value["model"]) == {"fraud_score", "fraud_score_v2"}
    at.radio(key="large_period").set_value("W")
    at.selectbox(key="large_per").set_value("region")
    _press(at, "Compute over time on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    series = at.dataframe[-1].value
    west = series[(series["segment"] == "west") & series["bucket"].isin(["2026-W15", "2026-W16"])]
    assert (west["value"] < 0.2).all() and len(series) > 100  # the planted incident, counted on DuckDB
    alerts = at.dataframe[-2].value  # and alerted on: below west's reference range, as on the Monitoring page
    assert {"2026-W15", "2026-W16"} <= set(alerts.loc[alerts["segment"] == "west", "bucket"])
    assert any(b.label.endswith("ranges as checks.toml") for b in at.get("download_button"))  # one per region
    at.button(key="large_fetch").click().run()
    assert not at.exception and not at.error
    mistakes = at.dataframe[-1].value
    assert len(mistakes) == 50 and (mistakes["confidence"] > 0.99).all()
    at.text_input(key="large_path").input("../preds.duckdb")
    at.main.button[0].click().run()
    assert any("`..` is not allowed" in e.value.replace("\\", "") for e in at.error)


def test_large_data_page_summarizes_a_multiclass_folder_on_duckdb(server, monkeypatch):
    """The support-tickets sample as a folder above the budget: the memory path's headline numbers, weak slices,
    a metric over time and the most confident wrong classes, counted on DuckDB; lanes and value say why not."""
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")
    (server / "data" / "tickets").mkdir()
    pd.read_csv(sample_path("support")).to_parquet(server / "data" / "tickets" / "part-0.parquet")
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/large.py").run()
    at.radio(key="large_kind").set_value("A file or folder").run()
    at.text_input(key="large_path").input("tickets")
    at.main.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    overall = at.dataframe[0].value.set_index("metric")
    assert round(overall.loc["accuracy", "value"], 5) == 0.79195  # the memory path's (tests/golden)
    assert round(overall.loc["log_loss", "value"], 4) == 0.5217 and overall.loc["macro_f1", "low"] < 0.7342
    assert any("multiclass" in c.value for c in at.main.caption)
    _press(at, "Compare the models on DuckDB")  # the prediction against the most common class, per language
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "baseline: most common class" in "\n".join(c.value for c in at.code)
    at.selectbox(key="large_class").set_value("billing")
    _press(at, "Compute the value on DuckDB")  # one class against the rest, as on the Impact page
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "decisions are worth" in "\n".join(c.value for c in at.code)
    at.selectbox(key="large_mode").set_value("margin")
    _press(at, "Count the lanes on DuckDB")  # lanes by the margin between the top two classes, as in memory
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = [m.value for m in at.markdown if "Automating" in m.value]
    assert said and any("half the model's error rate (21%)" in c.value.replace("\\", "") for c in at.main.caption)
    _press(at, "Find weak slices on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.dataframe[2].value["finding"].iloc[0].startswith("language = pt")  # as `slices` on the sample
    at.selectbox(key="large_metric").set_value("macro_f1")
    _press(at, "Compute over time on DuckDB")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.dataframe[-1].value) >= 8
    at.button(key="large_fetch").click().run()
    assert not at.exception and not at.error
    mistakes = at.dataframe[-1].value
    assert len(mistakes) == 50 and set(mistakes["error"]) == {"wrong_class"} and mistakes["confidence"].is_monotonic_decreasing


def test_the_difficulty_and_compare_pages_count_a_regression_on_duckdb(server, monkeypatch):
    """A regression folder above the budget: the Difficulty page orders cases by the uncertainty column, or by the
    size of the miss (saying what such lanes are for), and the Compare page compares the models, on DuckDB."""
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")
    (server / "data" / "trips").mkdir()
    pd.read_csv(sample_path("delivery")).to_parquet(server / "data" / "trips" / "part-0.parquet")
    at = _open(AppTest.from_file(APP, default_timeout=90).run(), "trips")
    at.switch_page("pages/difficulty.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="large_mode").options == ["uncertainty",
                                                      "size of the error (needs the truth; for analysis only)"]
    _press(at, "Count the lanes on DuckDB")  # by the file's prediction_std, inferred as in memory
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Automating" in m.value for m in at.markdown) and not at.warning
    at.selectbox(key="large_mode").set_value("error_size")
    at.number_input(key="large_tolerance").set_value(20.0)
    _press(at, "Count the lanes on DuckDB")
    assert not at.exception and any("need the truth" in w.value for w in at.warning)
    frontier = at.dataframe[-1].value
    assert frontier["error_rate"].min() >= 0 and len(frontier) > 10
    at.switch_page("pages/compare.py").run()
    _press(at, "Compare the models on DuckDB")  # the prediction against the mean of the truth, per city
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "baseline: mean of the truth" in "\n".join(c.value for c in at.code)


def _press(at: AppTest, label: str) -> None:
    next(b for b in at.main.button if b.label == label).click().run()


def test_large_data_page_without_server_data_says_how_to_enable_it():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/large.py").run()
    assert not at.exception and any("MLIMPACT_DATA_DIRS" in i.value for i in at.info)


def test_every_page_answers_on_duckdb_for_a_folder_above_the_budget(server, monkeypatch):
    """Opened from the sidebar, a folder too large for memory is not refused: each page shows its own answer
    counted on DuckDB (the summary once, the heavier parts on a press), with the memory path's numbers."""
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")
    at = _open(AppTest.from_file(APP, default_timeout=90).run(), "logs")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [t.value for t in at.title] == ["Overview"]
    assert any("above this app's budget" in c.value.replace("\\", "") for c in at.main.caption)
    assert [m.value for m in at.metric][:2] == ["76.7%", "79.5%"]  # recall and precision, as on the fraud sample
    assert any("In use: logs" in c.value.replace("\\", "") for c in at.sidebar.caption)
    overall = at.dataframe[0].value.set_index("metric")
    assert round(overall.loc["roc_auc", "value"], 3) == 0.959
    at.switch_page("pages/segments.py").run()
    assert not at.exception and not at.error and [t.value for t in at.title] == ["Segments"]
    assert {"region", "channel"} <= set(at.dataframe[0].value["column"])  # from the summary kept for the session
    _press(at, "Find weak slices on DuckDB")
    assert at.dataframe[1].value["finding"].iloc[0].startswith("device = unknown:")  # the memory path's first
    at.switch_page("pages/difficulty.py").run()
    _press(at, "Count the lanes on DuckDB")
    assert not at.exception and any("Automating" in m.value for m in at.markdown)
    at.switch_page("pages/impact.py").run()
    _press(at, "Compute the value on DuckDB")
    assert not at.exception and "value-maximising threshold is 0.0619" in "\n".join(c.value for c in at.code)
    at.switch_page("pages/compare.py").run()
    _press(at, "Compare the models on DuckDB")
    assert not at.exception and "fraud_score_v2" in "\n".join(c.value for c in at.code)
    at.switch_page("pages/monitoring.py").run()
    _press(at, "Compute over time on DuckDB")
    assert not at.exception and not at.error and len(at.dataframe[-1].value) >= 10
    at.switch_page("pages/review.py").run()
    at.button(key="large_fetch").click().run()
    assert not at.exception and len(at.dataframe[-1].value) == 50
    at.switch_page("pages/data.py").run()
    assert not at.exception and [m.value for m in at.metric] == ["80,000", "80,000", "0"]
    roles = at.dataframe[0].value.set_index("column")["role"]
    assert roles["is_fraud"] == "label" and roles["region"] == "segment" and roles["amount"] == "amount"
    assert roles["fraud_score_v2"] == "other model's score" and roles["transaction_id"] == "id"
    at.switch_page("pages/large.py").run()
    assert at.text_input(key="large_path").value == "logs"  # the Large data form starts with the folder
    assert at.dataframe[0].value.shape[0] == overall.shape[0]  # and shows the summary already counted
    at.selectbox(key="mi_source_select").set_value("fraud").run()  # a sample again: the pages read it as usual
    at.switch_page("pages/overview.py").run()
    assert not at.exception and not any("above this app's budget" in c.value.replace("\\", "") for c in at.caption)
