"""The report's Compare section: the Compare page's numbers (same function, same settings), in HTML, Markdown and
PDF, only for files with two or more models, deterministic, and text from the file kept as text."""

from __future__ import annotations

import io
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from mlimpact import compare
from mlimpact.impact import default_costs, format_money
from mlimpact.io import Roles, build_dataset, load
from mlimpact.metrics import METRICS
from mlimpact.report import ReportSettings, build_report, report_html, report_markdown, report_pdf
from mlimpact.report.charts import segment_difference_chart

SETTINGS = ReportSettings(threshold=0.4, seed=3, slices=False)
HOSTILE_MODEL = "<script>alert('model')</script>"
HOSTILE_SEGMENT = "<script>alert('segment')</script>"


@cache
def _fraud():
    dataset, _ = load(["sample_data/fraud.csv"])
    return dataset


@cache
def _fraud_report():
    return build_report(_fraud(), SETTINGS)


@cache
def _expected():
    """What the Compare page computes for the same file and settings, with no time budget."""
    ds = _fraud()
    return compare.compare_models(ds, threshold=SETTINGS.threshold, segment=ds.roles.segments[0],
                                  costs=default_costs(ds), scale="month", seed=SETTINGS.seed, time_budget_s=None)


def _compare_section(report):
    found = [s for s in report.sections if "Compare" in s.title]
    assert len(found) <= 1
    return found[0] if found else None


def _markdown_section(markdown: str, title: str) -> str:
    start = markdown.index(f"## {title}")
    return markdown[start: markdown.index("\n## ", start + 1)]


def test_fraud_has_a_compare_section_after_impact():
    report = _fraud_report()
    assert compare.model_columns(_fraud()) == ["fraud_score", "fraud_score_v2"]
    titles = [s.title for s in report.sections]
    section = _compare_section(report)
    assert section is not None
    assert titles.index(section.title) == titles.index("What is it worth? Business impact") + 1


def test_numbers_equal_the_compare_pages():
    section, comp = _compare_section(_fraud_report()), _expected()
    tables = dict(section.tables)
    # the decision sentences, as the page's "In short"
    assert compare.comparison_summary(comp) == section.paragraphs[:len(compare.comparison_summary(comp))]
    # side by side: every model on every metric with its 95% interval (and robustness, value)
    side = tables["Side by side (95% intervals in brackets)"].set_index("criterion")
    numbers = compare.decision_numbers(comp).set_index("option")
    assert list(side.columns) == list(comp.models) == ["fraud_score", "fraud_score_v2"]
    pd.testing.assert_frame_equal(side, numbers.T, check_names=False)
    # paired differences against the reference, significant or not
    diff = next(t for c, t in section.tables if c.startswith("Paired differences against fraud_score "))
    expected = compare.overall_differences(comp)
    assert diff["metric"].tolist() == [METRICS[m].label for m in comp.metrics]
    for ours, theirs in (("reference value", "value_reference"), ("model value", "value_model"),
                         ("difference", "difference"), ("95% low", "low"), ("95% high", "high")):
        np.testing.assert_allclose(diff[ours], expected[theirs].round(4))
    significant = (expected["low"] > 0) | (expected["high"] < 0)
    assert diff["significant"].tolist() == ["yes" if s else "no" for s in significant]
    assert diff["winner"].tolist() == expected["winner"].tolist()


def test_value_and_wins_equal_the_compare_pages():
    section, comp = _compare_section(_fraud_report()), _expected()
    value = next(t for c, t in section.tables if c.startswith("Value under the same cost model"))
    best = comp.value[comp.value["point"] == "at its best threshold"]
    shown = value[value["point"] == "at its best threshold"]
    assert shown["model"].tolist() == best["model"].tolist()
    assert shown["worth vs flagging nothing"].tolist() == [format_money(v) for v in best["value_vs_flag_none"]]
    assert [s.split(" (")[0] for s in shown["value (95% interval)"]] == [format_money(v) for v in best["value"]]
    wins = next(t for c, t in section.tables if c.startswith("Where each model wins, by region"))
    expected = comp.wins()
    assert wins["segment"].tolist() == expected["segment"].tolist()
    for metric in comp.metrics:
        assert wins[METRICS[metric].label].tolist() == expected[metric].tolist()


def test_the_chart_is_the_pages_chart():
    section, comp = _compare_section(_fraud_report()), _expected()
    assert len(section.charts) == 1
    chart = section.charts[0][1]
    metric = comp.metrics[0]
    page = segment_difference_chart(comp.differences, metric=metric, label=METRICS[metric].label,
                                    model="fraud_score_v2", reference="fraud_score")
    assert chart.to_dict() == page.to_dict()


def test_html_markdown_and_pdf_show_it_and_are_deterministic():
    report = _fraud_report()
    title = _compare_section(report).title
    page, markdown = report_html(report), report_markdown(report)
    assert f"<h2>{title}</h2>" in page and "fraud_score_v2" in page
    again = report_markdown(build_report(_fraud(), SETTINGS))
    assert _markdown_section(markdown, title) == _markdown_section(again, title)
    assert "fraud\\_score\\_v2" in _markdown_section(markdown, title)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(report_pdf(report))).pages)
    assert title in text and "Side by side (95% intervals in brackets)" in text


def test_a_one_model_file_has_no_compare_section():
    ds = _fraud()
    one = build_dataset(ds.frame, replace(ds.roles, other_scores=()), source="fraud one model.csv")
    assert compare.model_columns(one) == ["fraud_score"]
    report = build_report(one, SETTINGS)
    assert _compare_section(report) is None
    assert "Compare" not in report_markdown(report)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.fixture(scope="module")
def hostile():
    rng = np.random.default_rng(1)
    n = 600
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.5 * y + 0.5 * rng.random(n), 0, 1),
                          HOSTILE_MODEL: np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1),
                          HOSTILE_SEGMENT: rng.choice([HOSTILE_SEGMENT, "plain"], n)})
    roles = Roles(label="y", score="score", other_scores=(HOSTILE_MODEL,), segments=(HOSTILE_SEGMENT,))
    return build_report(build_dataset(frame, roles, source="hostile.csv"), ReportSettings(slices=False))


def test_hostile_model_and_segment_names_stay_text(hostile):
    section = _compare_section(hostile)
    assert section is not None and not section.paragraphs[0].startswith("Not compared")
    page = report_html(hostile)
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags
    assert "&lt;script&gt;alert(&#x27;model&#x27;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#x27;segment&#x27;)&lt;/script&gt;" in page
    markdown = _markdown_section(report_markdown(hostile), section.title)
    assert "<script>" not in markdown and "\\<script\\>" in markdown
