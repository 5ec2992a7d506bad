"""The sidebar's report downloads: one self-contained HTML file, or Markdown, built on click."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mlimpact.io import Dataset
from mlimpact.io.load import Source
from mlimpact.report import ReportSettings, build_report, report_html, report_markdown

from . import state


def report_settings(dataset: Dataset, threshold: float) -> ReportSettings:
    """What the pages have set for this file (costs, lanes, ranges), for the report's extra sections."""
    h = dataset.content_hash
    options = st.session_state[state.COSTS].get(f"{h}:options") or {}
    return ReportSettings(threshold=threshold, costs=st.session_state[state.COSTS].get(h),
                          impact_options=tuple(sorted(options.items())), lanes=st.session_state[state.LANES].get(h),
                          monitoring=st.session_state[state.RANGES].get(h))


def show(source: Source, dataset: Dataset, threshold: float) -> None:
    """Download the report as one self-contained HTML file or as Markdown (built on click)."""
    settings = report_settings(dataset, threshold)
    stem = Path(source.name.split(",")[0]).stem or "data"
    c1, c2 = st.columns(2)
    c1.download_button("Report", data=lambda: report_html(build_report(dataset, settings)),
                       file_name=f"mlimpact_report_{stem}.html", mime="text/html", on_click="ignore",
                       key="report_html", icon=":material/summarize:",
                       help="One self-contained HTML file (charts inside, no internet needed), aggregates only")
    c2.download_button("Markdown", data=lambda: report_markdown(build_report(dataset, settings)),
                       file_name=f"mlimpact_report_{stem}.md", mime="text/markdown", on_click="ignore",
                       key="report_md", icon=":material/description:")
