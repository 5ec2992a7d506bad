"""In the browser: a Parquet folder opened from the server (MLIMPACT_DATA_DIRS) by typing its path; a path
outside the allowed folder refused on the page."""

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from .conftest import SAMPLE_DATA, click_nav, open_app, screenshot, wait_for_app
from .test_browser import choose_option, no_exception, rows_used_caption, sidebar

pytestmark = pytest.mark.e2e


def _server_folder(tmp_path, monkeypatch) -> None:
    """The fraud sample as a hive-partitioned Parquet folder `logs` under the server's data folder."""
    df = pd.read_csv(SAMPLE_DATA / "fraud.csv")
    for i, part in enumerate((df.iloc[:30_000], df.iloc[30_000:])):
        (tmp_path / "data" / "logs" / f"date=2026-03-0{i + 1}").mkdir(parents=True)
        part.to_parquet(tmp_path / "data" / "logs" / f"date=2026-03-0{i + 1}" / "part-0.parquet")
    monkeypatch.setenv("MLIMPACT_DATA_DIRS", str(tmp_path / "data"))


def test_open_a_parquet_folder_on_the_server(page, fresh_streamlit_server, tmp_path, monkeypatch):
    _server_folder(tmp_path, monkeypatch)
    open_app(page, fresh_streamlit_server())
    choose_option(page, sidebar(page).get_by_role("combobox", name="Data", exact=True), "Open data on the server")
    path_box = sidebar(page).get_by_role("textbox", name="Path under the data folders")
    path_box.fill("../../etc")
    sidebar(page).get_by_test_id("stBaseButton-secondaryFormSubmit").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentError").filter(has_text="is not allowed")).to_be_visible()
    expect(sidebar(page).get_by_text("Not opened: see the message on the page")).to_be_visible()
    screenshot(page, "server_refused.png")
    path_box.fill("logs")
    sidebar(page).get_by_test_id("stBaseButton-secondaryFormSubmit").click()
    wait_for_app(page)
    no_exception(page)
    expect(rows_used_caption(page)).to_have_text(re.compile("80,000 of 80,000 rows used"))
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Recall", exact=True)).to_be_visible()
    screenshot(page, "server_overview.png")
    for name in ("Segments", "Monitoring"):
        click_nav(page, name)
        no_exception(page)
        expect(rows_used_caption(page)).to_have_text(re.compile("80,000 of 80,000 rows used"))
    screenshot(page, "server_monitoring.png")


def test_large_data_page_summarizes_on_duckdb(page, fresh_streamlit_server, tmp_path, monkeypatch):
    _server_folder(tmp_path, monkeypatch)
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")  # too large for the other pages: the engine's turn
    open_app(page, fresh_streamlit_server())
    click_nav(page, "Large data")
    main = page.get_by_test_id("stMain")
    main.get_by_role("textbox", name="Path under the data folders").fill("logs")
    main.get_by_role("textbox", name="Segment columns, comma-separated (empty: inferred)").fill("region, channel")
    main.get_by_test_id("stBaseButton-secondaryFormSubmit").click()
    wait_for_app(page)
    no_exception(page)
    expect(main.get_by_text("Summarized 80,000 rows")).to_be_visible()
    expect(main.get_by_test_id("stDataFrame")).to_have_count(2)
    screenshot(page, "large_data.png")
    _step(page, "Find weak slices on DuckDB", main.get_by_text("Slices found"), "large_data_slices.png")
    expect(main.get_by_test_id("stDataFrame")).to_have_count(3)
    _step(page, "Count the lanes on DuckDB", main.get_by_text(re.compile("^Automating .* go to review")),
          "large_data_lanes.png")
    _step(page, "Compute the value on DuckDB", main.get_by_text(re.compile("value-maximising threshold is 0.0619")),
          "large_data_impact.png")
    _step(page, "Compare the models on DuckDB", main.get_by_text("Models compared"), "large_data_compare.png")
    chart = main.get_by_test_id("stVegaLiteChart").last  # the paired differences per region, as on Compare
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    screenshot(page, "large_data_compare_chart.png")


def test_every_page_answers_on_duckdb_for_a_folder_above_the_budget(page, fresh_streamlit_server, tmp_path,
                                                                     monkeypatch):
    """Opened from the sidebar, a folder above the memory budget is counted on DuckDB by every page."""
    _server_folder(tmp_path, monkeypatch)
    monkeypatch.setenv("MLIMPACT_MEMORY_BUDGET", "1000")
    open_app(page, fresh_streamlit_server())
    choose_option(page, sidebar(page).get_by_role("combobox", name="Data", exact=True), "Open data on the server")
    sidebar(page).get_by_role("textbox", name="Path under the data folders").fill("logs")
    sidebar(page).get_by_test_id("stBaseButton-secondaryFormSubmit").click()
    wait_for_app(page)
    no_exception(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Summarized 80,000 rows")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("76.7%")  # recall, as on the fraud sample
    screenshot(page, "engine_overview.png")
    click_nav(page, "Segments")
    no_exception(page)
    expect(main.get_by_text("Per segment, worst first")).to_be_visible()
    _step(page, "Find weak slices on DuckDB", main.get_by_text("Slices found"), "engine_segments.png")
    click_nav(page, "Impact")
    _step(page, "Compute the value on DuckDB", main.get_by_text(re.compile("value-maximising threshold is 0.0619")),
          "engine_impact.png")
    click_nav(page, "Monitoring")
    _step(page, "Compute over time on DuckDB", main.get_by_text("Alerts", exact=True), "engine_monitoring.png")
    expect(main.get_by_role("button", name=re.compile("as checks.toml"))).to_be_visible()
    click_nav(page, "Data")
    no_exception(page)
    expect(main.get_by_text("How the roles were inferred")).to_be_visible()
    screenshot(page, "engine_data.png")


def _step(page, button: str, shown, shot: str) -> None:
    """Press a Large data button; its result is shown, scrolled into view, and kept as a screenshot."""
    page.get_by_test_id("stMain").get_by_role("button", name=button).click()
    wait_for_app(page)
    no_exception(page)
    expect(shown).to_be_visible()
    shown.scroll_into_view_if_needed()
    screenshot(page, shot)
