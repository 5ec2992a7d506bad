"""Charts of the Impact and Compare pages: small tables in, charts titled with their finding out."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from mlimpact.format import format_value
from mlimpact.impact import TERM_LABELS, format_money
from mlimpact.report.charts.core import HEIGHT, NEGATIVE_COLOR, NEUTRAL, POSITIVE_COLOR, _title, color_scale

__all__ = ["value_curve_chart", "baselines_chart", "tornado_chart", "segment_loss_chart",
           "segment_difference_chart", "model_segment_chart", "model_time_chart"]

GOOD, BAD = "#009E73", "#D55E00"


def _per(per: str | None) -> str:
    return {"month": " per month", "year": " per year"}.get(per or "", "")


def _empty(text: str) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"x": []})).mark_point().properties(title=_title(text), height=60)


def value_curve_chart(curve: pd.DataFrame, *, threshold: float, best_threshold: float, best_gain: float,
                      unit: str = "", per: str | None = None) -> alt.Chart:
    """Worth against flagging nothing at every threshold; dashed rule = current, solid = best.

    ``curve`` is a thinned :func:`mlimpact.impact.value_curve`; ``best_gain`` = best − current value.
    """
    data = curve[pd.Series(curve["threshold"]).map(math.isfinite)].copy()
    p = _per(per)
    at_best = data.loc[data["threshold"] == best_threshold, "flagged"]
    if best_gain > 0 and len(at_best) and at_best.iloc[0] == 0:
        text = f"Flagging nothing is worth {format_money(best_gain, unit=unit)} more{p} than the current threshold"
    elif best_gain > 0:
        text = (f"Flagging from {best_threshold:g} instead of {threshold:g} is worth "
                f"{format_money(best_gain, unit=unit)} more{p}")
    else:
        text = f"The current threshold {threshold:g} is the value-maximising one"
    title = _title(text, "Worth of the model's decisions against flagging nothing, at every threshold. "
                         "Dashed: current threshold; solid: best.")
    line = alt.Chart(data).mark_line(color=POSITIVE_COLOR).encode(
        x=alt.X("threshold:Q", title="threshold (flag when score ≥ threshold)"),
        y=alt.Y("value_vs_flag_none:Q", title=f"worth vs flagging nothing{p}"),
        tooltip=[alt.Tooltip("threshold:Q", format=".4f"), alt.Tooltip("value_vs_flag_none:Q", format=",.0f"),
                 alt.Tooltip("flagged:Q", format=","), alt.Tooltip("tp:Q", format=","),
                 alt.Tooltip("fp:Q", format=",")])
    rules = pd.DataFrame({"threshold": [threshold, best_threshold], "which": ["current", "best"]})
    rule = alt.Chart(rules).mark_rule(color="black").encode(
        x="threshold:Q", strokeDash=alt.StrokeDash("which:N", scale=alt.Scale(domain=["current", "best"],
                                                                            range=[[4, 3], [1, 0]]),
                                                   title=None),
        tooltip=["which:N", alt.Tooltip("threshold:Q", format=".4f")])
    return (line + rule).properties(title=title, height=HEIGHT)


def baselines_chart(baselines: pd.DataFrame, *, unit: str = "", per: str | None = None) -> alt.Chart:
    """How much more the model is worth than each alternative (paired 95% intervals)."""
    data = baselines[baselines["baseline"] != "model"].copy()
    if data.empty:
        return _empty("No alternatives to compare with")
    p = _per(per)
    data["alternative"] = [_short_baseline(k, d) for k, d in zip(data["baseline"], data["description"], strict=True)]
    data["verdict"] = ["model worth more" if d >= 0 else "alternative worth more" for d in data["difference"]]
    losers = data[data["difference"] < 0]
    if len(losers):
        top = losers.loc[losers["difference"].idxmin()]
        text = (f"{top['alternative']} is worth {format_money(-top['difference'], unit=unit)} more{p} than the "
                "model at its current threshold")
    else:
        text = f"The model is worth more than all {len(data)} alternatives"
    title = _title(text, "Model at its threshold minus each alternative; bars: 95% paired bootstrap intervals")
    order = data.sort_values("difference")["alternative"].tolist()
    y = alt.Y("alternative:N", title=None, sort=order, axis=alt.Axis(labelLimit=280))
    x_title = f"model minus alternative{p}"
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("difference:Q", title=x_title),
        color=alt.Color("verdict:N", scale=alt.Scale(domain=["model worth more", "alternative worth more"],
                                                     range=[GOOD, BAD]), title=None,
                        legend=alt.Legend(orient="bottom")),
        tooltip=["alternative:N", alt.Tooltip("value:Q", format=",.0f"), alt.Tooltip("difference:Q", format=",.0f"),
                 alt.Tooltip("diff_low:Q", format=",.0f"), alt.Tooltip("diff_high:Q", format=",.0f"),
                 alt.Tooltip("flagged:Q", format=",")])
    err = alt.Chart(data).mark_errorbar(ticks=True, color="black").encode(
        y=y, x=alt.X("diff_low:Q", title=x_title), x2="diff_high:Q")
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color=NEUTRAL).encode(x=alt.X("x:Q", title=x_title))
    return (bars + err + zero).properties(title=title, height=max(140, 40 * len(data)))


def _short_baseline(key: str, description: str) -> str:
    names = {"flag_none": "flag nothing", "flag_all": "flag everything", "random": "random flags, same rate"}
    if key in names:
        return names[key]
    if key == "rule":
        return "rule: " + description.removeprefix("rule: flag when ")
    if key.endswith(" (best threshold)"):
        return key.removesuffix(" (best threshold)") + " at its best threshold"
    if key.endswith(" (same flag rate)"):
        return key.removesuffix(" (same flag rate)") + " at the same flag rate"
    return key


def tornado_chart(sens: pd.DataFrame, *, unit: str = "", per: str | None = None) -> alt.Chart:
    """Each money term at −50% and +50%: the model's worth at its best threshold (a tornado chart)."""
    base = sens[sens["term"] == "base"]
    rows = sens[sens["term"] != "base"]
    if rows.empty or base.empty:
        return _empty("No money term to vary: every cost and value is zero")
    p = _per(per)
    b = float(base["best_vs_flag_none"].iloc[0])
    g = rows.groupby("term", sort=False)
    data = pd.DataFrame({"term": list(g.groups)})
    data["label"] = data["term"].map(TERM_LABELS)
    data["low_value"] = g["best_vs_flag_none"].min().to_numpy()
    data["high_value"] = g["best_vs_flag_none"].max().to_numpy()
    data["low_threshold"] = g["best_threshold"].min().to_numpy()
    data["high_threshold"] = g["best_threshold"].max().to_numpy()
    data["swing"] = data["high_value"] - data["low_value"]
    data = data.sort_values("swing", ascending=False)
    top = data.iloc[0]
    title = _title(f"The model's worth depends most on the {top['label']}: {format_money(top['low_value'], unit=unit)}"
                   f" to {format_money(top['high_value'], unit=unit)}{p}",
                   "Each money term ×0.5 and ×1.5, one at a time, the threshold re-optimised; line: as given")
    y = alt.Y("label:N", title=None, sort=data["label"].tolist(), axis=alt.Axis(labelLimit=260))
    x_title = f"worth vs flagging nothing at the best threshold{p}"
    bars = alt.Chart(data).mark_bar(color=NEGATIVE_COLOR, opacity=0.8).encode(
        y=y, x=alt.X("low_value:Q", title=x_title), x2="high_value:Q",
        tooltip=["label:N", alt.Tooltip("low_value:Q", format=",.0f"), alt.Tooltip("high_value:Q", format=",.0f"),
                 alt.Tooltip("low_threshold:Q", format=".4f", title="best threshold (min)"),
                 alt.Tooltip("high_threshold:Q", format=".4f", title="best threshold (max)")])
    rule = alt.Chart(pd.DataFrame({"x": [b]})).mark_rule(color="black").encode(x=alt.X("x:Q", title=x_title))
    return (bars + rule).properties(title=title, height=max(110, 45 * len(data)))


def segment_loss_chart(segments: pd.DataFrame, *, column: str, domain, unit: str = "",
                       per: str | None = None) -> alt.Chart:
    """Value lost against perfect decisions per segment value, with 95% bootstrap intervals."""
    if segments.empty:
        return _empty("No segments")
    p = _per(per)
    data = segments.copy()
    data["segment_value"] = data[column].astype(str)
    top = data.iloc[0]
    if top["lost"] > 0:
        text = (f"Most value is lost in {column} = {top['segment_value']}: {format_money(top['lost'], unit=unit)}{p} "
                f"({top['share_of_lost']:.0%})")
    else:
        text = "No value is lost: every row is decided as well as it could be"
    title = _title(text, "Value lost against perfect decisions (false positives, false negatives, reviews); "
                         "bars: 95% intervals")
    y = alt.Y("segment_value:N", title=column, sort=data["segment_value"].tolist())
    x_title = f"value lost{p}"
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("lost:Q", title=x_title),
        color=alt.Color("segment_value:N", scale=color_scale(domain), legend=None),
        tooltip=[alt.Tooltip("segment_value:N", title=column), alt.Tooltip("lost:Q", format=",.0f"),
                 alt.Tooltip("low:Q", format=",.0f"), alt.Tooltip("high:Q", format=",.0f"),
                 alt.Tooltip("lost_false_positives:Q", format=",.0f"),
                 alt.Tooltip("lost_false_negatives:Q", format=",.0f"), alt.Tooltip("n:Q", format=","),
                 alt.Tooltip("share_of_lost:Q", format=".1%")])
    err = alt.Chart(data).mark_errorbar(ticks=True, color="black").encode(y=y, x=alt.X("low:Q", title=x_title),
                                                                          x2="high:Q")
    return (bars + err).properties(title=title, height=max(140, 36 * len(data)))


def segment_difference_chart(differences: pd.DataFrame, *, metric: str, label: str, model: str,
                             reference: str) -> alt.Chart:
    """Paired difference (model − reference) of one metric, overall and per segment, coloured by the winner."""
    data = differences[(differences["metric"] == metric) & (differences["model"] == model)].copy()
    if data.empty:
        return _empty(f"No {label} to compare")
    segs = data[data["segment"] != "all rows"]
    wins = segs[segs["winner"] == model]["segment"].tolist()
    losses = segs[segs["winner"] == reference]["segment"].tolist()
    if len(segs):
        text = f"{model} is clearly better on {len(wins)} of {len(segs)} segments ({label})"
        if losses:
            text += f" and worse on {', '.join(losses[:2])}" + (" …" if len(losses) > 2 else "")
    else:
        overall = data.iloc[0]
        text = f"{label}: {model} minus {reference} = {format_value(metric, overall['difference'])}"
    title = _title(text, f"{model} minus {reference}; bars: paired 95% intervals "
                         f"({data['method'].iloc[0]}); the first row is all rows")
    data["who"] = [w if w in (model, reference) else "no clear winner" for w in data["winner"]]
    y = alt.Y("segment:N", title=None, sort=data["segment"].tolist(), axis=alt.Axis(labelLimit=300))
    x_title = f"{label}: {model} minus {reference}"
    points = alt.Chart(data).mark_point(filled=True, size=80).encode(
        y=y, x=alt.X("difference:Q", title=x_title),
        color=alt.Color("who:N", title="winner", scale=alt.Scale(domain=[model, reference, "no clear winner"],
                                                                 range=[GOOD, BAD, NEUTRAL])),
        tooltip=["segment:N", alt.Tooltip("value_reference:Q", format=".4f"),
                 alt.Tooltip("value_model:Q", format=".4f"), alt.Tooltip("difference:Q", format=".4f"),
                 alt.Tooltip("low:Q", format=".4f"),
                 alt.Tooltip("high:Q", format=".4f"), alt.Tooltip("n:Q", format=","), "winner:N"])
    err = alt.Chart(data).mark_errorbar(ticks=True).encode(y=y, x=alt.X("low:Q", title=x_title), x2="high:Q",
                                                           color=alt.Color("who:N", title="winner"))
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="black", strokeDash=[4, 3]).encode(
        x=alt.X("x:Q", title=x_title))
    return (zero + err + points).properties(title=title, height=max(120, 30 * len(data)))


def model_segment_chart(table: pd.DataFrame, *, metric: str, label: str, column: str, models) -> alt.Chart:
    """Each model's metric per segment value, with 95% intervals; one colour per model."""
    data = table[table["metric"] == metric].dropna(subset=["value"]).copy()
    if data.empty:
        return _empty(f"No {label} per {column}")
    data["segment_value"] = data[column].astype(str)
    spread = data.groupby("model")["value"].agg(lambda v: v.max() - v.min())
    steady = spread.idxmin()
    title = _title(f"{label} by {column}: {steady} varies least across segments "
                   f"({format_value(metric, spread.min())} between best and worst)",
                   "Dots: each model's value; bars: 95% intervals")
    offset = alt.YOffset("model:N", scale=alt.Scale(domain=list(models)))
    y = alt.Y("segment_value:N", title=column)
    points = alt.Chart(data).mark_point(filled=True, size=70).encode(
        y=y, yOffset=offset, x=alt.X("value:Q", title=label, scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", scale=color_scale(models), title="model"),
        tooltip=["model:N", alt.Tooltip("segment_value:N", title=column), alt.Tooltip("value:Q", format=".4f"),
                 alt.Tooltip("low:Q", format=".4f"), alt.Tooltip("high:Q", format=".4f"),
                 alt.Tooltip("n:Q", format=",")])
    err = alt.Chart(data).mark_errorbar(ticks=False).encode(
        y=y, yOffset=offset, x=alt.X("low:Q", title=label), x2="high:Q",
        color=alt.Color("model:N", scale=color_scale(models), title="model"))
    n_seg = data["segment_value"].nunique()
    return (err + points).properties(title=title, height=max(140, 22 * n_seg * max(1, len(models))))


def model_time_chart(over_time: pd.DataFrame, *, metric: str, label: str, models) -> alt.Chart:
    """Each model's metric per time period."""
    data = over_time[over_time["metric"] == metric].dropna(subset=["value"]).copy()
    if data.empty:
        return _empty(f"No {label} over time")
    spread = data.groupby("model")["value"].agg(lambda v: v.max() - v.min())
    steady, shaky = spread.idxmin(), spread.idxmax()
    text = f"{label} over time: {steady} moves by {format_value(metric, spread.min())}"
    if shaky != steady:
        text += f", {shaky} by {format_value(metric, spread.max())}"
    title = _title(text, "Each model's value per period (periods with few rows are noisy)")
    line = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("period:N", title="period", sort=sorted(data["period"].unique())),
        y=alt.Y("value:Q", title=label, scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", scale=color_scale(models), title="model"),
        tooltip=["model:N", "period:N", alt.Tooltip("value:Q", format=".4f"), alt.Tooltip("n:Q", format=",")])
    return line.properties(title=title, height=HEIGHT)
