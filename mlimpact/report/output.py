"""The report as Markdown and as one self-contained HTML page (charts rendered in a child process)."""

from __future__ import annotations

import html

import pandas as pd

from mlimpact.io import markdown_text
from mlimpact.report.model import Report
from mlimpact.report.render import RenderError, render_charts

__all__ = ["report_markdown", "report_html"]


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(markdown_text(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(markdown_text("" if pd.isna(v) else v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def report_markdown(report: Report) -> str:
    """The report as Markdown; every value from the file is escaped (no links, images or HTML)."""
    lines = [f"# Model report: {markdown_text(report.source)}", "", "## Summary", ""]
    lines += [f"- {markdown_text(s)}" for s in report.summary]
    for section in report.sections:
        lines += ["", f"## {markdown_text(section.title)}", ""]
        lines += [markdown_text(p) + "\n" for p in section.paragraphs]
        for caption, table in section.tables:
            lines += [f"**{markdown_text(caption)}**", "", _md_table(table), ""]
    lines += ["", "## Provenance", "", _md_table(pd.DataFrame({"setting": list(report.provenance),
                                                                 "value": list(report.provenance.values())}))]
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1.2em;color:#1f2328;line-height:1.45}h1{font-size:1.9em}h2{margin-top:1.8em;border-bottom:1px solid #d0d7de;
padding-bottom:.2em}table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.92em}th,td{border:1px solid #d0d7de;
padding:.3em .6em;text-align:left}th{background:#f6f8fa}.summary li{margin:.3em 0;font-size:1.08em}
figure{margin:1em 0}figcaption{color:#57606a;font-size:.9em}.prov td:first-child{color:#57606a}"""


def _rendered(report: Report) -> tuple[dict, str | None]:
    """Every chart of the report as SVG, rendered together in one child process; on failure, why."""
    charts = [chart for section in report.sections for _, chart in section.charts]
    try:
        svgs = render_charts([chart.properties(width=640).to_dict() for chart in charts])
    except RenderError as exc:
        return {}, f"Charts are left out of this report: {exc}. The numbers below are complete."
    return {id(chart): svg for chart, svg in zip(charts, svgs, strict=True)}, None


def report_html(report: Report, *, charts: bool = True) -> str:
    """One self-contained HTML page: escaped text, inline SVG charts, no scripts, no external URLs.

    The charts are rendered in a child process (:mod:`mlimpact.report.render`): a renderer that fails
    costs the charts, with a sentence saying so, never the process that asked for the report.
    """
    esc = html.escape
    svgs, failure = _rendered(report) if charts else ({}, None)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(report.title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{esc(report.title)}</h1>", "<h2>Summary</h2>",
             "<ul class='summary'>", *[f"<li>{esc(s)}</li>" for s in report.summary], "</ul>"]
    if failure:
        parts.append(f"<p><em>{esc(failure)}</em></p>")
    for section in report.sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        parts += [f"<p>{esc(p)}</p>" for p in section.paragraphs]
        for caption, chart in section.charts:
            if id(chart) in svgs:
                parts.append(f"<figure>{svgs[id(chart)]}<figcaption>{esc(caption)}</figcaption></figure>")
        for caption, table in section.tables:
            parts.append(f"<p><strong>{esc(caption)}</strong></p>")
            parts.append(table.to_html(index=False, escape=True, na_rep="", border=0))
    parts.append("<h2>Provenance</h2><table class='prov'>")
    parts += [f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>" for k, v in report.provenance.items()]
    parts.append("</table></body></html>\n")
    return "\n".join(parts)
