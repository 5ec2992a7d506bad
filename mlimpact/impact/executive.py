"""Business value in words: money as people read it and the executive summary for people who decide.

Re-exported by :mod:`mlimpact.impact`.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from mlimpact.impact.costs import TERM_LABELS, Period

__all__ = ["format_money", "md_escape", "per_words", "executive_summary"]


def format_money(value, *, unit: str = "") -> str:
    """Money as people read it: ``12,345``, ``-1,234``, ``12.35``; a unit is a prefix (``€``) or a suffix (``EUR``).

    >>> format_money(12345.6), format_money(-12.345, unit="€"), format_money(3.5, unit="EUR")
    ('12,346', '-€12.35', '3.50 EUR')
    """
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "n/a"
    v = float(value)
    body = f"{abs(v):,.0f}" if abs(v) >= 100 else f"{abs(v):,.2f}"
    sign = "-" if v < 0 and body.strip("0.,") else ""
    unit = unit.strip()
    if unit and unit.isalpha() and len(unit) > 1:
        return f"{sign}{body} {unit}"
    return f"{sign}{unit}{body}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md_escape(text) -> str:
    """Escape Markdown/HTML-significant characters so user text shows literally in a Markdown export.

    Stricter than :func:`mlimpact.io.export.markdown_text` (it also escapes ``( ) . - + # : = & ~ $ { }``);
    only the decision table of :mod:`mlimpact.compare.decision` still uses it, whose tests pin that
    output. The Impact report's Markdown uses ``markdown_text``.

    >>> print(md_escape("[x](http://a) | *b*"))
    \\[x\\]\\(http\\://a\\) \\| \\*b\\*
    """
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def per_words(scale: str | None) -> str:
    """`` per month`` / `` per year`` / ``""`` for money at that scale."""
    return {"month": " per month", "year": " per year"}.get(scale or "", "")


def _join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def executive_summary(points: pd.DataFrame, baselines: pd.DataFrame, *, sens: pd.DataFrame | None = None,
                      segments: pd.DataFrame | None = None, period: Period | None = None, scale: str | None = None,
                      unit: str = "", n_rows: int | None = None) -> list[str]:
    """Three to five plain sentences with the numbers and the biggest risk, for people who decide.

    Built from :func:`operating_points`, :func:`compare_baselines` and optionally
    :func:`sensitivity` and :func:`segment_impact` (all at the same ``scale``). The biggest risk
    is the money term whose ±50% moves the model's worth the most (with the segment losing most).
    """
    per = per_words(scale)

    def m(v):
        return format_money(v, unit=unit)

    cur = points.loc[points["point"] == "current"].iloc[0]
    best = points.loc[points["point"] == "best"].iloc[0]
    out = [_lead_sentence(cur, period, n_rows, m, per), _best_sentence(cur, best, m, per),
           _baselines_sentence(baselines, best, m, per), _segment_sentence(segments, m, per),
           _risk_sentence(sens, m, per)]
    return [s for s in out if s][:5]


def _lead_sentence(cur, period: Period | None, n_rows: int | None, m, per: str) -> str:
    where = []
    if period is not None:
        where.append(period.describe().replace(" (", ", ").rstrip(")"))
    if n_rows:
        where.append(f"{n_rows:,} row{'s' if n_rows != 1 else ''}")
    lead = f"Over {' and '.join(where) if len(where) < 2 else where[0] + ', ' + where[1]}, at" if where else "At"
    return (f"{lead} threshold {cur['threshold']:g} the model's decisions are worth {m(cur['value_vs_flag_none'])}"
            f"{per} against flagging nothing (95% interval {m(cur['vs_none_low'])} to {m(cur['vs_none_high'])}); "
            f"the net value, after the losses the model does not prevent, is {m(cur['value'])}{per}.")


def _best_sentence(cur, best, m, per: str) -> str:
    gain = best["value"] - cur["value"]
    if best["flagged"] == 0 and gain > 1e-9 * max(1.0, abs(best["value"])):
        return (f"Under these costs flagging nothing is worth the most: {m(gain)}{per} more than the model's "
                "decisions now; check the costs, or the model does not pay for itself.")
    if gain > 1e-9 * max(1.0, abs(best["value"])):
        return (f"The value-maximising threshold is {best['threshold']:g}: the model would be worth "
                f"{m(best['value_vs_flag_none'])}{per}, {m(gain)} more than now (chosen on these rows, so "
                f"expect about {m(best['optimism'])} less on new data).")
    return f"The current threshold is already the value-maximising one ({best['threshold']:g})."


def _baselines_sentence(baselines: pd.DataFrame, best, m, per: str) -> str:
    by_key = {r["baseline"]: r for r in baselines.to_dict("records")}
    wins, losses = [], []
    for key in ("flag_all", "random", "rule"):
        r = by_key.get(key)
        if r is None:
            continue
        name = {"flag_all": "flagging everything", "random": "random flags at the same rate"}.get(
            key, "the rule " + str(r["description"]).removeprefix("rule: flag when "))
        (wins if r["difference"] >= 0 else losses).append(f"{name} by {m(abs(r['difference']))}")
    sentence = ""
    if wins:
        sentence = f"At the current threshold it beats {_join_words(wins)}{per}"
    if losses:
        sentence += (", but loses to " if sentence else "At the current threshold it loses to ") + \
            f"{_join_words(losses)}{per}"
    sentence = sentence + "." if sentence else ""
    better = [r for k, r in by_key.items() if k.endswith(" (best threshold)") and r["value"] > best["value"]]
    if better:
        top = max(better, key=lambda r: r["value"])
        other = top["baseline"].removesuffix(" (best threshold)")
        sentence += (f" Another model in the file, {other}, would be worth {m(top['value'] - best['value'])}{per} "
                     "more at its own best threshold.")
    return sentence.strip()


def _segment_sentence(segments: pd.DataFrame | None, m, per: str) -> str:
    if segments is None or not len(segments) or not segments["lost"].iloc[0] > 0:
        return ""
    top = segments.iloc[0]
    return (f"Most value is lost in {top['segment']}: {m(top['lost'])}{per} "
            f"({top['share_of_lost']:.0%} of all value lost against perfect decisions, {int(top['n']):,} rows).")


def _risk_sentence(sens: pd.DataFrame | None, m, per: str) -> str:
    if sens is None or len(sens) <= 1:
        return ""
    s = sens[sens["term"] != "base"]
    swing = s.groupby("term", sort=False)["best_vs_flag_none"].agg(lambda v: v.max() - v.min())
    if not len(swing) or not swing.max() > 0:
        return ""
    term = swing.index[int(np.argmax(swing.to_numpy() >= swing.max() * (1 - 1e-9)))]  # ties: the first term
    rows = s[s["term"] == term]
    thr = rows["best_threshold"]
    return (f"The biggest risk is the {TERM_LABELS[term]}: if it is off by 50% either way, the best "
            f"threshold moves between {thr.min():g} and {thr.max():g} and the model's worth between "
            f"{m(rows['best_vs_flag_none'].min())} and {m(rows['best_vs_flag_none'].max())}{per}.")
