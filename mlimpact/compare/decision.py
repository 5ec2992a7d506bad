"""A comparison in words and as a design-document decision table.

Re-exported by :mod:`mlimpact.compare`.
"""

from __future__ import annotations

import math

import pandas as pd

from mlimpact.compare.candidates import _CONFUSION_BINARY, ALL_ROWS
from mlimpact.compare.models import Comparison
from mlimpact.format import PERCENT_METRICS, format_cell, format_value
from mlimpact.impact import format_money, md_escape
from mlimpact.io import markdown_table
from mlimpact.metrics import METRICS

__all__ = ["DESIGN_CRITERIA", "comparison_summary", "decision_numbers", "design_rows_template",
           "decision_table_markdown"]

#: The rows a person fills in for each option, as in a design document.
DESIGN_CRITERIA = ("Cost to build and run", "Maintenance", "Interpretability", "Likelihood of success", "Notes")


def _fmt(metric: str, v) -> str:

    return format_value(metric, v)


def _signed(metric: str, v) -> str:

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if metric in PERCENT_METRICS and metric not in ("roc_auc", "average_precision", "r2"):
        return f"{100 * v:+.1f} points"
    return f"{v:+.3f}" if abs(v) < 1000 else f"{v:+,.0f}"


def comparison_summary(comparison: Comparison, *, unit: str = "") -> list[str]:
    """Plain sentences: the headline metric's difference, where the challenger is clearly worse, the money.

    One or two sentences per challenger; user text (column and segment names) appears as is.
    """

    c = comparison
    out = []
    head = c.metrics[0]
    label = METRICS[head].label
    d = c.differences
    for model in c.models[1:]:
        r = d[(d["model"] == model) & (d["metric"] == head) & (d["segment"] == ALL_ROWS)].iloc[0]
        verdict = ("better" if r["winner"] == model else "worse" if r["winner"] == c.reference
                   else "not clearly different")
        out.append(f"{model} against {c.reference}: {label} {_fmt(head, r['value_model'])} vs "
                   f"{_fmt(head, r['value_reference'])}, a difference of {_signed(head, r['difference'])} "
                   f"(95% interval {_signed(head, r['low'])} to {_signed(head, r['high'])}, {r['method']}): "
                   f"{verdict}.")
        # where the verdict turns: a better model that loses somewhere, a worse one that wins somewhere
        against = c.reference if verdict == "better" else model if verdict == "worse" else None
        segs = d[(d["model"] == model) & (d["segment"] != ALL_ROWS)]
        segs = segs[segs["winner"] == against] if against else segs[segs["winner"] != "no clear winner"]
        if len(segs):
            w = segs.assign(_a=segs["difference"].abs()).sort_values("_a", ascending=False).iloc[0]
            word = "worse" if w["winner"] == c.reference else "better"
            lead = "But" if against else "Still,"
            out.append(f"{lead} {model} is clearly {word} on {w['segment']}: {METRICS[w['metric']].label} "
                       f"{_fmt(w['metric'], w['value_model'])} vs {_fmt(w['metric'], w['value_reference'])} "
                       f"({_signed(w['metric'], w['difference'])}).")
    if c.value is not None:
        best = c.value[c.value["point"] == "at its best threshold"]
        top = best.loc[best["value"].idxmax()]
        per = {"month": " per month", "year": " per year"}.get(c.value.attrs.get("scale") or "", "")
        out.append(f"Under the same cost model, {top['model']} is worth the most at its best threshold "
                   f"({top['threshold']:g}): {format_money(top['value_vs_flag_none'], unit=unit)}{per} against "
                   "flagging nothing.")
    return out


def _headline(c: Comparison) -> str:
    prefer = {"binary": ["roc_auc", "recall"], "multiclass": ["accuracy"], "regression": ["mae"]}[c.task]
    return next((m for m in prefer if m in c.metrics), c.metrics[0])


def decision_numbers(comparison: Comparison, *, unit: str = "") -> pd.DataFrame:
    """The numbers of the decision table: one row per model (``option``), one column per criterion (text).

    Metrics with their 95% intervals, the headline metric's worst segment, its spread across
    segments and across time periods, and the value under the cost model when there is one.
    """

    c = comparison
    rows = []
    head = _headline(c)
    for model in c.models:
        row = {"option": model}
        o = c.overall[c.overall["model"] == model].set_index("metric")
        for metric in c.metrics:
            r = o.loc[metric]
            at = c.task == "binary" and metric in _CONFUSION_BINARY
            label = METRICS[metric].label + (f" at {c.threshold:g}" if at else "")
            row[label] = format_cell(metric, {"value": r["value"], "low": r["low"], "high": r["high"]})
        rb = c.robustness[(c.robustness["model"] == model) & (c.robustness["metric"] == head)]
        if len(rb):
            rb = rb.iloc[0]
            hl = METRICS[head].label
            if c.segment:
                row[f"Worst segment ({hl})"] = (f"{rb['worst_segment']}: {_fmt(head, rb['worst_segment_value'])}"
                                                if rb["worst_segment"] is not None else "n/a")
                row[f"Spread across segments ({hl})"] = _fmt(head, rb["segment_spread"]).lstrip("+")
            if c.over_time is not None:
                row[f"Spread across time periods ({hl})"] = _fmt(head, rb["period_spread"]).lstrip("+")
                row[f"Worst period ({hl})"] = (f"{rb['worst_period']}: {_fmt(head, rb['worst_period_value'])}"
                                               if rb["worst_period"] is not None else "n/a")
        if c.value is not None:
            per = {"month": " per month", "year": " per year"}.get(c.value.attrs.get("scale") or "", "")
            v = c.value[(c.value["model"] == model) & (c.value["point"] == "at its best threshold")].iloc[0]
            row[f"Worth vs flagging nothing{per} (best threshold)"] = (
                f"{format_money(v['value_vs_flag_none'], unit=unit)} at {v['threshold']:g}")
        rows.append(row)
    return pd.DataFrame(rows)


def design_rows_template(options) -> pd.DataFrame:
    """Empty design-document rows to fill in: one row per option, one column per :data:`DESIGN_CRITERIA`.

    >>> design_rows_template(["a", "b"]).columns.tolist()[:2]
    ['option', 'Cost to build and run']
    """
    return pd.DataFrame({"option": list(options), **{c: [""] * len(list(options)) for c in DESIGN_CRITERIA}})


def decision_table_markdown(numbers: pd.DataFrame, design_rows: pd.DataFrame | None = None, *,
                            title: str = "Decision table", summary=(), assumptions=()) -> str:
    r"""The design-document decision table in Markdown: criteria as rows, options as columns.

    ``numbers`` (from :func:`decision_numbers`) and ``design_rows`` (the filled-in rows, one per
    option) are joined on ``option``; options only in ``design_rows`` (e.g. "buy a vendor model")
    get "—" for the numbers. Every cell, including the user's text, is escaped for Markdown.

    >>> nums = pd.DataFrame({"option": ["m1"], "ROC AUC": ["0.9"]})
    >>> rows = pd.DataFrame({"option": ["m1", "rule"], "Notes": ["ok", "[link](http://x)"]})
    >>> print(decision_table_markdown(nums, rows, title="T"))
    # T
    <BLANKLINE>
    | Criterion | m1 | rule |
    |---|---|---|
    | ROC AUC | 0\.9 | — |
    | Notes | ok | \[link\]\(http\://x\) |
    <BLANKLINE>
    """
    numbers = numbers.copy()
    numbers["option"] = numbers["option"].astype(str)
    options = list(numbers["option"])
    if design_rows is not None and len(design_rows):
        design_rows = design_rows.copy()
        design_rows["option"] = design_rows["option"].fillna("").astype(str)
        design_rows = design_rows[design_rows["option"].str.strip() != ""]
        options += [o for o in design_rows["option"] if o not in options]
    criteria = [c for c in numbers.columns if c != "option"]
    table = numbers.set_index("option").reindex(options)
    if design_rows is not None and len(design_rows):
        filled = design_rows.drop_duplicates("option").set_index("option").reindex(options)
        for c in filled.columns:
            table[c] = filled[c]
            criteria.append(c)
    lines = [f"# {md_escape(title)}", ""]
    if summary:
        lines += [md_escape(s) for s in summary] + [""]
    rows = []
    for c in criteria:  # a handful of criteria x options, already text
        cells = [c]
        for o in options:
            v = table.at[o, c] if c in table.columns else None
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                cells.append("—" if c not in DESIGN_CRITERIA else "")
            else:
                cells.append(str(v))
        rows.append(cells)
    lines.append(markdown_table(pd.DataFrame(rows, columns=["Criterion", *options]), escape=md_escape))
    if assumptions:
        lines += ["", "## Assumptions", ""] + [f"- {md_escape(a)}" for a in assumptions]
    return "\n".join(lines) + "\n"
