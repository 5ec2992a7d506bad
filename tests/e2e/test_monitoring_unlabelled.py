"""End-to-end: a monitoring file whose last weeks have no label yet, uploaded in Chromium. The Monitoring page
draws the estimate beside the measured series, says why the planted incident fired, and exports traffic checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from .conftest import SAMPLE_DATA, click_nav, open_app, screenshot
from .test_browser import choose_option, no_exception, upload

pytestmark = pytest.mark.e2e


def test_monitoring_shows_the_estimate_and_why(page, streamlit_server, tmp_path):
    df = pd.read_csv(SAMPLE_DATA / "fraud.csv")
    t = pd.to_datetime(df["timestamp"])
    df.loc[t > t.max() - pd.Timedelta(days=21), "is_fraud"] = np.nan
    path = tmp_path / "fraud_recent.csv"
    df.to_csv(path, index=False)
    open_app(page, streamlit_server)
    upload(page, path)
    click_nav(page, "Monitoring")
    no_exception(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("rows have no label yet", exact=False).first).to_be_visible()
    expect(main.get_by_text("Recall fell in west in 2026-W15–W16", exact=False).first).to_be_visible()
    screenshot(page, "monitoring_estimate_by_region.png")
    choose_option(page, main.get_by_role("combobox", name="Per segment"), "(none)")
    no_exception(page)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    screenshot(page, "monitoring_estimate.png")
    main.get_by_text("as a checks file for cron and CI", exact=False).click()
    expect(main.get_by_text('metric = "psi"', exact=False).first).to_be_visible()
    expect(main.get_by_text('estimated = true', exact=False).first).to_be_visible()
