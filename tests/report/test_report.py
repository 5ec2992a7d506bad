"""The report: self-contained (no external URLs, no scripts), escaped, small, same numbers as the JSON summary."""

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from mlimpact.format import format_cell
from mlimpact.io import Roles, build_dataset, infer_roles, read_predictions, sample_path
from mlimpact.report import ReportSettings, build_report, report_html, report_markdown

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>alert(1)</script>[click](https://evil.example) ' \
          '![i](https://evil.example/p.png) www.evil.example'


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href", "xlink:href") and v]


def _parse(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    return p


@pytest.fixture(scope="module")
def fraud():
    frame, report = read_predictions(sample_path("fraud"))
    return build_dataset(frame, infer_roles(frame).roles, source="fraud.csv", content_hash=report.content_hash)


@pytest.fixture(scope="module")
def fraud_report(fraud):
    return build_report(fraud, ReportSettings(threshold=0.5))


def test_html_is_self_contained(fraud_report):
    page = report_html(fraud_report)
    tags = _parse(page)
    assert "script" not in tags.tags and "iframe" not in tags.tags and "link" not in tags.tags
    assert [u for u in tags.urls if not u.startswith("#")] == []
    assert "svg" in tags.tags  # charts inlined
    assert "http://" not in page.replace("http://www.w3.org/", "")  # only SVG namespaces


def test_numbers_equal_the_json_summary(fraud_report):
    data = fraud_report.data
    page = report_html(fraud_report)
    for name in ("recall", "precision", "roc_auc"):
        assert format_cell(name, data["overall"][name]) in page
    west = next(s for s in data["segments"] if s["column"] == "region" and s["value"] == "west")
    assert format_cell("recall", west["metrics"]["recall"]) in page


def test_provenance_and_sections(fraud_report, fraud):
    prov = fraud_report.provenance
    assert prov["sha256"] == fraud.content_hash and prov["rows used"] == fraud.n and prov["threshold"] == 0.5
    titles = [s.title for s in fraud_report.sections]
    assert titles[:3] == ["Is it good? Headline metrics", "For whom? Metrics per segment",
                          "Where does it fail? Weak slices"]
    assert any(p.startswith("device = unknown:") for p in fraud_report.sections[2].paragraphs)


def test_user_text_is_escaped_in_html_and_markdown():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1),
                          PAYLOAD: rng.choice([PAYLOAD, "plain"], 300)})
    ds = build_dataset(frame, Roles(label="y", score="score", segments=(PAYLOAD,)), source=f"{PAYLOAD}.csv")
    rep = build_report(ds, ReportSettings(slices=False))
    page = report_html(rep)
    tags = _parse(page)
    assert "script" not in tags.tags and "img" not in tags.tags
    assert [u for u in tags.urls if not u.startswith("#")] == []
    # render the Markdown as GitHub would (links, autolinks, raw HTML all on): nothing becomes live
    from markdown_it import MarkdownIt

    rendered = _parse(MarkdownIt("gfm-like").render(report_markdown(rep)))
    assert not {"a", "img", "script"} & set(rendered.tags)
    assert rendered.urls == []


def test_report_stays_small_for_a_million_rows():
    rng = np.random.default_rng(1)
    n = 1_000_000
    y = rng.binomial(1, 0.05, n).astype(np.int8)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.5 * y + 0.5 * rng.random(n), 0, 1),
                          "region": rng.choice([f"r{i}" for i in range(30)], n),
                          "channel": rng.choice(["web", "app", "phone"], n)})
    ds = build_dataset(frame, Roles(label="y", score="score", segments=("region", "channel")))
    page = report_html(build_report(ds, ReportSettings(slices=False)))
    assert len(page.encode()) < 2_000_000
