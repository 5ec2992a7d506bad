"""The sidebar's report downloads: one self-contained HTML file, Markdown, or a PDF, built on click."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from mlimpact.io import Dataset
from mlimpact.io.load import Source
from mlimpact.report import ReportSettings, build_report, report_html, report_markdown

from . import state
from .slice_panel import SAVED as SAVED_SLICES

#: regions (of the browser's locale) that print on US Letter; A4 everywhere else
LETTER_REGIONS = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "PR", "GT", "CR", "PA", "DO", "SV", "NI"})


def report_settings(dataset: Dataset, threshold: float) -> ReportSettings:
    """What the pages have set for this file (costs, lanes, ranges), for the report's extra sections."""
    h = dataset.content_hash
    options = st.session_state[state.COSTS].get(f"{h}:options") or {}
    return ReportSettings(threshold=threshold, costs=st.session_state[state.COSTS].get(h),
                          impact_options=tuple(sorted(options.items())), lanes=st.session_state[state.LANES].get(h),
                          monitoring=st.session_state[state.RANGES].get(h),
                          named_slices=tuple(st.session_state.get(SAVED_SLICES, {}).get(h, ())))


def paper_for(locale: str | None) -> str:
    """``"Letter"`` for a browser whose locale is in the US, Canada, Mexico, ... (``en-US``), ``"A4"`` elsewhere.

    >>> paper_for("en-US"), paper_for("fr_CA"), paper_for("de-DE"), paper_for("en"), paper_for(None)
    ('Letter', 'Letter', 'A4', 'A4', 'A4')
    """
    parts = (locale or "").replace("_", "-").split("-")
    return "Letter" if len(parts) > 1 and parts[-1].upper() in LETTER_REGIONS else "A4"


def _pdf(dataset: Dataset, settings: ReportSettings, paper: str) -> bytes:
    """The PDF report; if making it fails, a one-page PDF that says so (never a traceback in the download)."""
    from mlimpact.report.pdf import failure_pdf, report_pdf  # fpdf2: loaded on click, not on every rerun

    report = build_report(dataset, settings)
    try:
        return report_pdf(report, paper=paper)
    except Exception as exc:  # a bug in the PDF path costs this download, not the session; the file says why
        logging.getLogger(__name__).exception("the PDF report failed")
        return failure_pdf(report.title, f"{type(exc).__name__}: {exc}")


def show(source: Source, dataset: Dataset, threshold: float) -> None:
    """Download the report as one self-contained HTML file, as Markdown or as a PDF (built on click)."""
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
    paper = paper_for(st.context.locale)
    c3, _ = st.columns(2)
    c3.download_button("PDF", data=lambda: _pdf(dataset, settings, paper), file_name=f"mlimpact_report_{stem}.pdf",
                       mime="application/pdf", on_click="ignore", key="report_pdf", icon=":material/picture_as_pdf:",
                       help=f"{paper} pages: a one-page summary, then one page per section; charts as vectors, "
                            "made on this machine. For the other paper size: `summarize --format pdf --paper`")
