"""The PDF report: valid, small, page 1 a complete one-page summary, charts as vectors, hostile text drawn as text."""

from __future__ import annotations

import io
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

import mlimpact.report.pdf as pdf_module
from mlimpact.cli import main
from mlimpact.format import format_cell
from mlimpact.io import Roles, build_dataset, load
from mlimpact.metrics.leading import headline_metrics
from mlimpact.report import RenderError, ReportSettings, Section, build_report, report_pdf
from mlimpact.report.pdf import failure_pdf

SAMPLES = ["fraud", "ads_ctr", "support_tickets", "delivery_times"]
HOSTILE = ["<script>alert(1)</script>", "**bold**", "=cmd|' /C calc'!A0", "a\x01b\x0bc", "مرحبا", "שלום", "東京",
           "😀 smile", "x\u202egnp.exe"]


@cache
def _report(name: str):
    dataset, _ = load([f"sample_data/{name}.csv"])
    return build_report(dataset)


@cache
def _pdf(name: str, paper: str = "A4") -> bytes:
    return report_pdf(_report(name), paper=paper)


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_makes_a_small_pdf_with_a_complete_first_page(name):
    report, data = _report(name), _pdf(name)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) < 1_000_000
    pages = _pages(data)
    # page 1, then at least one page per section, then the provenance
    assert len(report.sections) + 2 <= len(pages) <= 3 * (len(report.sections) + 2)
    first = pages[0]
    cells = report.data["overall"]
    for metric in headline_metrics(report.data["task"], cells):
        assert format_cell(metric, cells[metric]) in first
    assert report.provenance["sha256"][:12] in first and f"mlimpact {report.provenance['mlimpact version']}" in first
    assert "rows used" in first and report.provenance["generated"] in first
    # complete on page 1: its last block (the contents) is there, nothing was cut, and page 2 starts a section
    assert "Contents" in first and "cut to keep this summary to one page" not in first
    assert _first_line(pages[1]) == report.sections[0].title
    starts = [_first_line(p) for p in pages]
    assert [s.title for s in report.sections] == [t for t in starts if t in {s.title for s in report.sections}]
    assert starts[-1].startswith("Provenance")


def test_charts_are_vectors_with_their_text():
    report, data = _report("fraud"), _pdf("fraud")
    reader = PdfReader(io.BytesIO(data))
    images = [name for page in reader.pages
              for name, obj in (page["/Resources"].get("/XObject") or {}).items()
              if obj.get_object().get("/Subtype") == "/Image"]
    assert images == []
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Recall is lowest for region = west" in text  # a chart title, drawn as text
    assert report.sections[1].charts and "recall by region" in text  # and its caption


def test_paper_sizes():
    a4, letter = (PdfReader(io.BytesIO(_pdf("support_tickets", paper))).pages[0].mediabox
                  for paper in ("A4", "Letter"))
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)
    assert len(_pdf("support_tickets", "Letter")) < 1_000_000
    with pytest.raises(ValueError, match="A4, Letter"):
        report_pdf(_report("support_tickets"), paper="B5")


def test_hostile_segment_values_are_drawn_as_text():
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.4 * y + 0.6 * rng.random(n), 0, 1),
                          "seg <b>": rng.choice(HOSTILE, n),
                          "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")})
    ds = build_dataset(frame, Roles(label="y", score="score", segments=("seg <b>",), time="when"),
                       source="<i>evil</i> **x**\x01.csv")
    data = report_pdf(build_report(ds, ReportSettings(slices=False)))
    assert data.startswith(b"%PDF-") and len(data) < 1_000_000
    text = "\n".join(_pages(data))
    for literal in ["<script>alert(1)</script>", "**bold**", "=cmd|' /C calc'!A0", "שלום", "مرحبا", "😀 smile",
                    "<i>evil</i> **x**", "seg <b>", "xgnp.exe"]:
        assert literal in text, literal
    assert not {"\x01", "\x0b", "\u202e"} & set(text)
    assert "東京" not in text and "\ufffd\ufffd" in text  # DejaVu has no CJK glyphs: replaced, never dropped


def test_page_one_stays_one_page_whatever_the_summary():
    long = [f"Finding {i}: " + "a long sentence about a segment value " * 12 for i in range(40)]
    report = replace(_report("support_tickets"), title="Model report: " + "x" * 3000, summary=long,
                     sections=[Section("Is it good? Headline metrics", paragraphs=["fine"]),
                               Section("For whom? Metrics per segment", paragraphs=["fine"])])
    pages = _pages(report_pdf(report))
    assert "cut to keep this summary to one page" in pages[0]
    assert _first_line(pages[1]) == "Is it good? Headline metrics"
    assert len(pages) == 4


def test_a_renderer_failure_costs_the_charts_only(monkeypatch):
    def broken(*args, **kwargs):
        raise RenderError("the chart renderer failed (signal 6)")

    monkeypatch.setattr(pdf_module, "render_charts", broken)
    pages = _pages(report_pdf(_report("support_tickets")))
    assert "Charts are left out of this PDF: the chart renderer failed (signal 6)" in pages[0].replace("\n", " ")
    assert _first_line(pages[1]) == "Is it good? Headline metrics"


def test_failure_pdf_says_why():
    text = _pages(failure_pdf("Model report: a.csv", "FPDFException: <b>boom</b>\x01"))[0]
    assert "could not be made" in text and "<b>boom</b>" in text and "\x01" not in text


def test_cli_writes_a_pdf_and_refuses_a_terminal(tmp_path, capsys):
    out = tmp_path / "report.pdf"
    assert main(["summarize", "sample_data/fraud.csv", "--format", "pdf", "--out", str(out), "--paper", "Letter"]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) < 1_000_000
    assert round(float(PdfReader(io.BytesIO(data)).pages[0].mediabox.width)) == 612
    capsys.readouterr()
    assert main(["summarize", "sample_data/fraud.csv", "--format", "pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0]
