"""The report as a PDF: an executive summary on page 1, then one page (or more) per section.

Made with fpdf2 (pure Python) and the DejaVu Sans fonts in ``fonts/``: no network, no browser. Charts are
vectors: vl-convert renders each to SVG (in a child process, :mod:`mlimpact.report.render`), fpdf2 draws it
as paths and text; lines told apart by colour also get a dash pattern (:func:`print_friendly`), for black and
white. Text from the file is only drawn as text (no Markdown, no HTML): control and format characters (bidi
overrides too) removed or replaced, glyphs the font lacks as U+FFFD, right-to-left text shaped (uharfbuzz).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import io
import math
import numbers
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pandas as pd
from fpdf import FPDF, FontFace

from mlimpact.format import format_cell
from mlimpact.metrics import METRICS
from mlimpact.metrics.leading import MAIN_METRIC, headline_metrics
from mlimpact.report.model import Report, Section
from mlimpact.report.overview import data_warnings
from mlimpact.report.render import RenderError, render_charts
from mlimpact.report.sections import _worst_segment

__all__ = ["PAPERS", "report_pdf", "failure_pdf", "print_friendly", "pdf_text", "provenance_line"]

#: paper sizes offered (fpdf2's names)
PAPERS = ("A4", "Letter")
FONTS = Path(__file__).with_name("fonts")
#: the family is registered under the generic name vl-convert's SVG asks for, so chart text uses it too
FAMILY = "sans-serif"
GREY = (90, 90, 90)
CHART_WIDTH, PX_MM = 600, 25.4 / 96  # chart width in CSS px; one CSS px in mm
TEXT_LIMIT, CELL_LIMIT = 600, 160  # characters of one sentence / table cell kept (then "…")
#: sections whose lead sentences page 1 repeats under "What to look at next": title start -> sentences
NEXT = {"Where does it fail?": 2, "Which option should we pick?": 1, "How hard are the inputs?": 1,
        "Is it still working?": 1}
KEEP_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners shape some scripts; other format characters go


@functools.cache
def _glyphs() -> frozenset[int]:
    """Code points that both DejaVu Sans fonts (regular and bold) can draw."""
    from fontTools.ttLib import TTFont  # fpdf2's own dependency; read once, on the first PDF

    return frozenset.intersection(*(frozenset(TTFont(FONTS / name, lazy=True).getBestCmap())
                                    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")))


def pdf_text(value, limit: int = TEXT_LIMIT) -> str:
    """``value`` as text the PDF draws literally: whitespace to spaces, format characters (bidi overrides,
    zero-width marks) removed, controls and characters the font lacks as U+FFFD, cut at ``limit`` with "…".

    >>> pdf_text("a\\x01b\\u202e c\\td")
    'a\\ufffdb c d'
    """
    glyphs, out = _glyphs(), []
    for ch in str(value):
        if unicodedata.category(ch) != "Cf" or ch in KEEP_FORMAT:
            out.append(" " if ch in "\t\n\r\x0b\x0c" else ch if ord(ch) in glyphs else "\ufffd")
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ----------------------------------------------------------------------------- charts
def print_friendly(spec: dict) -> dict:
    """A copy of a Vega-Lite spec readable in black and white: lines told apart by a nominal colour are also
    told apart by dash pattern, and that legend draws line samples (dash and colour) instead of dots.

    >>> spec = {"mark": "line", "encoding": {"color": {"field": "region", "type": "nominal"}}}
    >>> print_friendly(spec)["encoding"]["strokeDash"]
    {'field': 'region', 'type': 'nominal', 'legend': {'symbolType': 'stroke', 'symbolStrokeWidth': 2, 'symbolSize': 300}}
    """
    spec = copy.deepcopy(spec)
    units, todo = [], [spec]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo += node
        elif isinstance(node, dict):
            units += [node] if isinstance(node.get("encoding"), dict) else []
            todo += [node.get(k) for k in ("layer", "spec", "hconcat", "vconcat", "concat")]

    def colour(unit) -> dict | None:
        c = unit["encoding"].get("color")
        return c if isinstance(c, dict) and c.get("type") == "nominal" and c.get("field") else None

    def kind(unit) -> str | None:
        mark = unit.get("mark")
        return mark.get("type") if isinstance(mark, dict) else mark

    fields = {colour(u)["field"] for u in units if kind(u) == "line" and colour(u)}
    legend = {"symbolType": "stroke", "symbolStrokeWidth": 2, "symbolSize": 300}
    for unit in units:
        c = colour(unit)
        if c is None or c["field"] not in fields:
            continue
        if kind(unit) == "line" and "strokeDash" not in unit["encoding"]:
            dash = {k: c[k] for k in ("field", "type", "title") if k in c}
            if (c.get("scale") or {}).get("domain") is not None:
                dash["scale"] = {"domain": c["scale"]["domain"]}
            unit["encoding"]["strokeDash"] = dash
        for channel in ("color", "strokeDash"):
            enc = unit["encoding"].get(channel)
            if isinstance(enc, dict) and ("legend" not in enc or isinstance(enc["legend"], dict)):
                enc["legend"] = {**(enc.get("legend") or {}), **legend}
    return spec


def _drawable_svg(svg: str) -> bytes:
    """vl-convert's SVG made drawable by fpdf2: SVG's defaults spelled out (no stroke, line ends at 0), empty
    paths dropped, text in the report's font with characters it cannot draw replaced."""
    root = SafeET.fromstring(svg)
    root.set("stroke", root.get("stroke", "none"))  # SVG's default; fpdf2 would stroke in black
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag.rpartition("}")[2]
            if tag == "path" and not (child.get("d") or "").strip():
                parent.remove(child)
            elif tag == "line":
                for name in ("x1", "y1", "x2", "y2"):
                    child.set(name, child.get(name, "0"))
            elif tag in ("text", "tspan"):
                child.set("font-family", FAMILY)
                child.attrib.pop("font-style", None)
                child.text, child.tail = (pdf_text(t, 10_000) if t else t for t in (child.text, child.tail))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _chart_svgs(report: Report) -> tuple[dict, str | None]:
    """Every chart as drawable SVG, rendered together in one child process; on failure, why."""
    charts = [chart for section in report.sections for _, chart in section.charts]
    try:
        svgs = render_charts([print_friendly(chart.properties(width=CHART_WIDTH).to_dict()) for chart in charts])
    except RenderError as exc:
        return {}, f"Charts are left out of this PDF: {exc}. The numbers are complete."
    return {id(chart): _drawable_svg(svg) for chart, svg in zip(charts, svgs, strict=True)}, None


def _chart(pdf: FPDF, caption: str, svg: bytes) -> None:
    """One chart at its natural size (narrowed to the page), its caption below; a new page when it does not fit."""
    root = SafeET.fromstring(svg)
    w_px, h_px = float(root.get("width", CHART_WIDTH)), float(root.get("height", 300))
    w = min(pdf.epw, w_px * PX_MM, (pdf.eph - 20) * w_px / h_px)  # narrowed to the page, or shortened to it
    h = w * h_px / w_px
    if pdf.y + h + 8 > pdf.page_break_trigger:
        pdf.add_page()
    try:
        pdf.image(io.BytesIO(svg), x=pdf.l_margin, w=w, h=h)
    except Exception as exc:  # an SVG that fpdf2 cannot draw costs that chart, not the report
        _paragraph(pdf, f"(This chart could not be drawn in the PDF: {type(exc).__name__}.)", size=8, color=GREY)
        return
    _paragraph(pdf, caption, size=7.5, color=GREY)
    pdf.ln(2)


# ----------------------------------------------------------------------------- text and tables
def _paragraph(pdf: FPDF, text: str, *, size: float = 9.5, bold: bool = False, color=(0, 0, 0),
               indent: float = 0, bullet: bool = False, dry: bool = False) -> float:
    """Write ``text`` as one left-aligned paragraph (or, ``dry``, only measure it); returns its height."""
    pdf.set_font(FAMILY, "B" if bold else "", size)
    width, text = pdf.epw - indent - (4 if bullet else 0), pdf_text(text)
    if dry:
        return pdf.multi_cell(width, size * 0.5, text, align="L", dry_run=True, output="HEIGHT")
    pdf.set_text_color(*color)
    pdf.set_x(pdf.l_margin + indent)
    if bullet:
        pdf.cell(4, size * 0.5, "•")
    height = pdf.multi_cell(width, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT", output="HEIGHT")
    pdf.set_text_color(0, 0, 0)
    return height


def _cell(value) -> str:
    """A table value as text: numbers with thousands separators and at most 4 decimals, missing as empty."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return pdf_text(value, CELL_LIMIT)
    if isinstance(value, numbers.Integral) or (math.isfinite(value) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)


def _column_groups(widths: list[float], room: float) -> list[list[int]]:
    """Columns in groups that fit ``room``; every group after the first repeats column 0 (what the row is).

    >>> _column_groups([30, 50, 50, 50], 140)
    [[0, 1, 2], [0, 3]]
    """
    groups, current = [], [0]
    for j in range(1, len(widths)):
        if len(current) > 1 and sum(widths[i] for i in current) + widths[j] > room:
            groups.append(current)
            current = [0]
        current.append(j)
    return [*groups, current]


def _table(pdf: FPDF, caption: str, frame: pd.DataFrame, *, size: float = 7.0) -> None:
    """A table: bold caption, header row repeated on every page, numbers right-aligned; split into column groups
    (first column repeated) when wider than the page."""
    if not len(frame.columns):
        return
    header = [pdf_text(c, 60) for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    numeric = [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes]
    natural = []
    for j, name in enumerate(header):
        pdf.set_font(FAMILY, "", size)
        widest = max([pdf.get_string_width(r[j]) for r in rows] + [0])
        pdf.set_font(FAMILY, "B", size)
        word = max(pdf.get_string_width(w) for w in (name.split() or [""]))  # headers wrap between words only
        natural.append(min(max(widest, word, 8), 55) + 3)
    groups = _column_groups(natural, pdf.epw)
    for k, cols in enumerate(groups):
        title = caption if len(groups) == 1 else f"{caption} (columns, part {k + 1} of {len(groups)})"
        if pdf.y + 22 > pdf.page_break_trigger:
            pdf.add_page()
        _paragraph(pdf, title, size=8.5, bold=True)
        pdf.ln(0.8)
        pdf.set_font(FAMILY, "", size)
        widths = [natural[j] for j in cols]
        with pdf.table(width=sum(widths), col_widths=widths, align="LEFT", line_height=size * 0.48,
                       text_align=tuple("RIGHT" if numeric[j] else "LEFT" for j in cols), markdown=False,
                       borders_layout="HORIZONTAL_LINES", padding=(0.6, 1.0), repeat_headings=1,
                       headings_style=FontFace(emphasis="BOLD", fill_color=(232, 232, 232))) as table:
            for values in [header, *rows]:
                table.row([values[j] for j in cols])
        pdf.ln(3)


# ----------------------------------------------------------------------------- the document
class _Document(FPDF):
    """fpdf2's FPDF with the report's footer: where it came from and the page number."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*GREY)
        self.cell(self.epw * 0.8, 5, self.footer_text)
        self.cell(self.epw * 0.2, 5, f"page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def _new_document(report: Report, paper: str) -> _Document:
    pdf = _Document(format=paper, unit="mm")
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
    if _needs_shaping(report) and importlib.util.find_spec("uharfbuzz") is not None:
        pdf.set_text_shaping(True)  # joins Arabic letters and orders right-to-left runs; slower, so only when needed
    pdf.footer_text = pdf_text(f"mlimpact report · {report.source}", 90)
    pdf.set_title(pdf_text(report.title, 200))
    pdf.set_creator(pdf_text(f"mlimpact {report.provenance.get('mlimpact version', '')}".strip()))
    pdf.set_font(FAMILY, "", 9.5)
    return pdf


def _needs_shaping(report: Report) -> bool:
    """Whether any text is right-to-left or carries combining marks (Arabic, Hebrew, Indic scripts...)."""
    texts = [report.title, *report.summary, *map(str, report.provenance.values())]
    for s in report.sections:
        texts += [s.title, *s.paragraphs, *(caption for caption, _ in [*s.tables, *s.charts])]
        texts += [str(v) for _, frame in s.tables for v in [*frame.columns, *frame.to_numpy().ravel()]]
    return any(unicodedata.bidirectional(ch) in ("R", "AL") or unicodedata.category(ch) in ("Mn", "Mc")
               for ch in set("".join(texts)))


def provenance_line(provenance: dict) -> str:
    """The provenance in one line: file, hash, rows, task and threshold, seed, version, time."""
    p = provenance
    rows = (f"{p['rows used']:,} of {p['rows in file']:,} rows used"
            if isinstance(p.get("rows used"), int) and isinstance(p.get("rows in file"), int) else "")
    parts = [str(p.get("file", "")), f"sha256 {str(p['sha256'])[:12]}…" if p.get("sha256") else "", rows,
             str(p.get("task", "")), f"threshold {p['threshold']}" if p.get("threshold") not in (None, "n/a") else "",
             f"bootstrap seed {p.get('bootstrap seed', 0)}", f"mlimpact {p.get('mlimpact version', '')}",
             f"generated {p.get('generated', '')}"]
    return " · ".join(x for x in parts if x)


def _headline_rows(report: Report) -> list[list[str]]:
    task, cells = report.data.get("task"), report.data.get("overall") or {}
    names = headline_metrics(task, cells) if task in ("binary", "multiclass", "regression") else []
    return [[METRICS[n].label, format_cell(n, cells[n])] for n in names]


def _next_steps(report: Report, pages: dict[str, int]) -> list[str]:
    """The lead sentences of the later sections, each with the page it continues on."""
    steps = []
    for section in report.sections[2:]:
        count = next((n for start, n in NEXT.items() if section.title.startswith(start)), 0)
        lead = [p for p in section.paragraphs if not p.startswith("Assumption:")][:count]
        if lead:
            page = pages.get(pdf_text(section.title, 120))
            where = f" (p. {page})" if page else ""
            steps.append(f"{section.title.split('?')[0]}? " + " ".join(lead) + where)
    return steps


def _summary_blocks(report: Report, pages: dict[str, int], failure: str | None) -> list[tuple[str, list[str]]]:
    """Page 1 after the headline table, most important first: (heading, bullets)."""
    task = report.data.get("task")
    worst = _worst_segment(report.data, MAIN_METRIC.get(task)) if report.data.get("segments") else None
    findings = [s for s in report.summary if s != worst]
    blocks = [("Worst segment", [worst] if worst else []),
              ("What it is worth" if any(s.title.startswith("What is it worth?") for s in report.sections)
               else "Findings", findings),
              ("Data warnings", data_warnings(report.data.get("notes") or [])),
              ("What to look at next", _next_steps(report, pages)),
              ("Charts", [failure] if failure else []),
              ("Contents", [f"p. {page}  {title}" for title, page in pages.items()])]
    return [(heading, items) for heading, items in blocks if items]


def _summary_page(pdf: FPDF, outline, *, report: Report, failure: str | None) -> None:
    """Page 1: title, provenance line, headline numbers, then the blocks while they fit (never a second page)."""
    pages = {s.name: s.page_number for s in outline}  # the names are pdf_text(title, 120)
    pdf.set_auto_page_break(False)
    bottom = pdf.h - 16
    _paragraph(pdf, pdf_text(report.title, 160), size=16, bold=True)
    pdf.ln(0.5)
    _paragraph(pdf, pdf_text(provenance_line(report.provenance), 400), size=7.5, color=GREY)
    pdf.ln(3)
    rows = _headline_rows(report)
    if rows:
        _table(pdf, "Headline numbers (value and 95% interval)", pd.DataFrame(rows, columns=["metric", "value"]),
               size=9)
    for heading, items in _summary_blocks(report, pages, failure):
        if pdf.y + _paragraph(pdf, heading, size=10.5, bold=True, dry=True) + 8 > bottom:
            break
        pdf.ln(1.5)
        _paragraph(pdf, heading, size=10.5, bold=True)
        pdf.ln(0.5)
        for i, item in enumerate(items):
            if pdf.y + _paragraph(pdf, item, size=9, bullet=True, dry=True) + 6 > bottom:
                rest = len(items) - i
                _paragraph(pdf, f"… and {rest} more, cut to keep this summary to one page.", size=8, color=GREY,
                           indent=4)
                break
            _paragraph(pdf, item, size=9, indent=0, bullet=True)
            pdf.ln(0.6)
    pdf.set_auto_page_break(True, margin=16)


def _section(pdf: FPDF, section: Section, svgs: dict) -> None:
    pdf.start_section(pdf_text(section.title, 120))
    _paragraph(pdf, section.title, size=14, bold=True)
    pdf.ln(2)
    for text in section.paragraphs:
        _paragraph(pdf, text, size=9.5)
        pdf.ln(1)
    for caption, chart in section.charts:
        if id(chart) in svgs:
            _chart(pdf, caption, svgs[id(chart)])
    for caption, frame in section.tables:
        _table(pdf, caption, frame)


def report_pdf(report: Report, *, paper: str = "A4") -> bytes:
    """The report as PDF bytes: page 1 an executive summary, then one page (or more) per section, then the
    provenance. ``paper`` is ``"A4"`` or ``"Letter"``. Charts that cannot be rendered are left out with a
    sentence saying so; the numbers are always complete."""
    chosen = next((p for p in PAPERS if p.lower() == str(paper).lower()), None)
    if chosen is None:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {paper!r}")
    svgs, failure = _chart_svgs(report)
    pdf = _new_document(report, chosen)
    pdf.add_page()  # page 1 is written last (fpdf2's table-of-contents slot), when the sections' pages are known
    pdf.insert_toc_placeholder(functools.partial(_summary_page, report=report, failure=failure), pages=1,
                               reset_page_indices=False)
    provenance = pd.DataFrame({"setting": [str(k) for k in report.provenance],
                               "value": [str(v) for v in report.provenance.values()]})
    last = Section("Provenance: what shaped these numbers", tables=[("Settings and source", provenance)])
    for i, section in enumerate([*report.sections, last]):
        if i:
            pdf.add_page()
        _section(pdf, section, svgs)
    return bytes(pdf.output())


def failure_pdf(title: str, reason: str) -> bytes:
    """A one-page PDF that says why the report could not be made as a PDF, and what still works."""
    pdf = _new_document(Report(title=title, source=title, summary=[], sections=[], provenance={}, data={}), "A4")
    pdf.add_page()
    _paragraph(pdf, "The PDF report could not be made", size=16, bold=True)
    _paragraph(pdf, f"{pdf_text(reason, 300)}. The HTML and Markdown reports have the same numbers.", size=10)
    return bytes(pdf.output())
