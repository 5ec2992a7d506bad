"""Altair chart builders: small tables in, charts out, each titled with its finding.

Colours per segment value come from :func:`color_scale`, keyed by the column's full list
of values, so a value has the same colour on every page and in every export.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from mlimpact.format import format_cell, format_value

__all__ = ["text_alternative", "SEGMENT_SELECTION", "PALETTE", "color_scale", "score_distribution_chart", "roc_chart", "pr_chart", "calibration_chart",
           "confusion_chart", "segment_bar_chart", "segment_heatmap", "residual_chart", "predicted_actual_chart",
           "per_class_chart"]

#: Colour-blind-friendly categorical palette (Okabe–Ito first, then Tableau), cycled beyond 16 values.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F"]
POSITIVE_COLOR, NEGATIVE_COLOR, NEUTRAL = "#D55E00", "#0072B2", "#6e7781"
HEIGHT = 300


def color_scale(domain) -> alt.Scale:
    """A categorical scale with a fixed colour per value of ``domain`` (the column's full value list)."""
    domain = [str(v) for v in domain]
    return alt.Scale(domain=domain, range=[PALETTE[i % len(PALETTE)] for i in range(len(domain))])


def _diagonal(lo: float, hi: float, *, color: str = NEUTRAL) -> alt.Chart:
    """The dashed y = x line (a random ROC, perfect calibration, exact predictions)."""
    return alt.Chart(pd.DataFrame({"x": [lo, hi], "y": [lo, hi]})).mark_line(color=color, strokeDash=[4, 3]).encode(
        x="x:Q", y="y:Q")


def text_alternative(chart) -> str:
    """A chart's text alternative for screen readers: its title (the finding) and subtitle, in words.

    >>> import altair as alt
    >>> text_alternative(alt.Chart().mark_bar().properties(title=_title("Recall fell in west", "Weekly recall.")))
    'Chart: Recall fell in west. Weekly recall.'
    """
    title = getattr(chart, "title", None)
    parts = []
    if isinstance(title, str):
        parts.append(title)
    elif title is not None and not isinstance(title, type(alt.Undefined)):
        for part in (getattr(title, "text", None), getattr(title, "subtitle", None)):
            if isinstance(part, str) and part:
                parts.append(part)
            elif isinstance(part, list | tuple):
                parts += [str(p) for p in part if p]
    text = ". ".join(p.rstrip(". ") for p in parts)
    return f"Chart: {text}." if text else "Chart"


def _title(text: str, subtitle: str | list[str] | None = None) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle or "", anchor="start", fontSize=15, subtitleFontSize=12)


def score_distribution_chart(hist: pd.DataFrame, *, threshold: float, subject: str, recall: float,
                             false_positive_rate: float) -> alt.Chart:
    """Score histograms of the positive and other cases (share of each class), with the threshold.

    The title's shares are the exact recall and false positive rate at the threshold (the
    histogram's bins would round them).
    """
    title = _title(f"{format_value('recall', recall)} of {subject} cases vs "
                   f"{format_value('false_positive_rate', false_positive_rate)} of others score above the threshold",
                   f"Share of each class's rows per score bin; threshold {threshold:g} (rule)")
    domain = sorted(hist["true_class"].unique().tolist())
    bars = alt.Chart(hist).mark_bar(opacity=0.6, binSpacing=0).encode(
        x=alt.X("bin_start:Q", title="score", bin="binned"), x2="bin_end:Q",
        y=alt.Y("share:Q", title="share of the class", axis=alt.Axis(format="%"), stack=None),
        color=alt.Color("true_class:N", title="true class",
                        scale=alt.Scale(domain=domain, range=[POSITIVE_COLOR if d == subject else NEGATIVE_COLOR
                                                              for d in domain])),
        tooltip=["true_class:N", alt.Tooltip("bin_start:Q", format=".3f"), alt.Tooltip("bin_end:Q", format=".3f"),
                 alt.Tooltip("rows:Q", format=","), alt.Tooltip("share:Q", format=".1%")])
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(color="black", strokeDash=[4, 3]).encode(
        x="threshold:Q")
    return (bars + rule).properties(title=title, height=HEIGHT)


def roc_chart(points: pd.DataFrame, *, auc: dict) -> alt.Chart:
    """ROC curve with the diagonal of a random model."""
    title = _title(f"ROC AUC {format_cell('roc_auc', auc)}: "
                   + ("strong ranking" if (auc.get("value") or 0) >= 0.9 else
                      "useful ranking" if (auc.get("value") or 0) >= 0.75 else "weak ranking"),
                   "True positive rate against false positive rate over all thresholds")
    line = alt.Chart(points).mark_line(color=POSITIVE_COLOR).encode(
        x=alt.X("false_positive_rate:Q", title="false positive rate", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("true_positive_rate:Q", title="true positive rate (recall)", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("false_positive_rate:Q", format=".3f"),
                 alt.Tooltip("true_positive_rate:Q", format=".3f")])
    diag = _diagonal(0.0, 1.0)
    return (diag + line).properties(title=title, height=HEIGHT)


def pr_chart(points: pd.DataFrame, *, ap: dict, base_rate: float) -> alt.Chart:
    """Precision–recall curve with the base rate (what random flags achieve)."""
    title = _title(f"Average precision {format_value('average_precision', ap.get('value'))} vs "
                   f"{base_rate:.3f} for random flags",
                   "Precision against recall over all thresholds; dashed: the base rate")
    line = alt.Chart(points).mark_line(color=POSITIVE_COLOR).encode(
        x=alt.X("recall:Q", title="recall", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("precision:Q", title="precision", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("recall:Q", format=".3f"),
                 alt.Tooltip("precision:Q", format=".3f")])
    base = alt.Chart(pd.DataFrame({"y": [base_rate]})).mark_rule(color=NEUTRAL, strokeDash=[4, 3]).encode(y="y:Q")
    return (base + line).properties(title=title, height=HEIGHT)


def calibration_chart(table: pd.DataFrame) -> alt.Chart:
    """Observed rate (with Wilson intervals) against mean score per quantile bin; diagonal = calibrated."""
    gap = (table["observed_rate"] - table["mean_score"]).abs()
    worst = table.loc[gap.idxmax()] if len(table) else None
    if worst is not None and gap.max() > 0.05:
        text = (f"Scores near {worst['mean_score']:.2f} come true {100 * worst['observed_rate']:.0f}% of the time "
                f"({100 * worst['low']:.0f}–{100 * worst['high']:.0f}%)")
    else:
        text = "Scores are well calibrated: they come true about as often as they say"
    title = _title(text, "Observed rate per score bin with 95% intervals; diagonal = perfectly calibrated")
    diag = _diagonal(0.0, 1.0)
    enc = {"x": alt.X("mean_score:Q", title="mean score in bin", scale=alt.Scale(domain=[0, 1]))}
    points = alt.Chart(table).mark_line(point=True, color=POSITIVE_COLOR).encode(
        **enc, y=alt.Y("observed_rate:Q", title="observed rate", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("mean_score:Q", format=".3f"), alt.Tooltip("observed_rate:Q", format=".3f"),
                 alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"),
                 alt.Tooltip("rows:Q", format=",")])
    bars = alt.Chart(table).mark_errorbar(color=POSITIVE_COLOR).encode(
        **enc, y=alt.Y("low:Q", title="observed rate"), y2="high:Q")
    return (diag + bars + points).properties(title=title, height=HEIGHT)


def confusion_chart(table: pd.DataFrame, *, title: str, subtitle: str = "") -> alt.Chart:
    """Heatmap of the confusion matrix: colour = share of the actual class, text = rows."""
    base = alt.Chart(table).encode(
        x=alt.X("predicted:N", title="predicted",  # flat labels fit two or three classes; more are slanted
                axis=alt.Axis(labelAngle=0 if table["predicted"].nunique() <= 3 else -35, labelOverlap=False)),
        y=alt.Y("actual:N", title="actual"))
    rect = base.mark_rect().encode(
        color=alt.Color("share_of_actual:Q", title="share of actual", scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=["actual:N", "predicted:N", alt.Tooltip("rows:Q", format=","),
                 alt.Tooltip("share_of_actual:Q", format=".1%")])
    text = base.mark_text(fontSize=13).encode(
        text=alt.Text("rows:Q", format=","),
        color=alt.condition("datum.share_of_actual > 0.5", alt.value("white"), alt.value("black")))
    return (rect + text).properties(title=_title(title, subtitle), height=max(160, 48 * table["actual"].nunique()))


#: the click selection on a segment bar (``event.selection[SEGMENT_SELECTION]`` in Streamlit): the value picked
SEGMENT_SELECTION = "segment_pick"


def segment_bar_chart(rows: pd.DataFrame, *, metric: str, label: str, column: str, overall: float,
                      domain, direction: str) -> alt.Chart:
    """Metric per segment value, 95% error bars, overall as a rule; flagged segments outlined."""
    data = rows.dropna(subset=["value"]).copy()
    data["segment_value"] = data[column].astype(str)
    if data.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_point().add_params(  # a page may listen for clicks
            alt.selection_point(name=SEGMENT_SELECTION)).properties(title=_title(f"No {label} to show"))
    worst = data.loc[data["value"].idxmin() if direction == "higher" else data["value"].idxmax()]
    word = "lowest" if direction == "higher" else "highest"
    title = _title(f"{label} is {word} for {column} = {worst['segment_value']}: "
                   f"{format_cell(metric, worst.to_dict())}",
                   f"Overall {format_value(metric, overall)} (dashed). Bars: 95% intervals. "
                   "Outlined: significantly worse than the rest (BH 5%).")
    order = data.sort_values("value", ascending=direction == "higher")["segment_value"].tolist()
    y = alt.Y("segment_value:N", title=column, sort=order)
    pick = alt.selection_point(name=SEGMENT_SELECTION, fields=["segment_value"], on="click")
    bars = alt.Chart(data).mark_bar(cursor="pointer").add_params(pick).encode(
        y=y, x=alt.X("value:Q", title=label),
        color=alt.Color("segment_value:N", scale=color_scale(domain), legend=None),
        stroke=alt.condition("datum.significantly_worse", alt.value("black"), alt.value(None)),
        strokeWidth=alt.condition("datum.significantly_worse", alt.value(2), alt.value(0)),
        tooltip=[alt.Tooltip("segment_value:N", title=column), alt.Tooltip("value:Q", format=".4f"),
                 alt.Tooltip("low:Q", format=".4f"), alt.Tooltip("high:Q", format=".4f"),
                 alt.Tooltip("n:Q", format=","), alt.Tooltip("significantly_worse:N", title="significantly worse")])
    err = alt.Chart(data).mark_errorbar(ticks=True, color="black").encode(y=y, x=alt.X("low:Q", title=label),
                                                                          x2="high:Q")
    rule = alt.Chart(pd.DataFrame({"overall": [overall]})).mark_rule(strokeDash=[4, 3], color="black").encode(
        x="overall:Q")
    return (bars + err + rule).properties(title=title, height=max(160, 34 * len(data)))


def segment_heatmap(rows: pd.DataFrame, *, metric: str, label: str, columns: list[str], direction: str) -> alt.Chart:
    """Metric per cell of a two-column cross: colour = value, text = value and n."""
    a, b = columns
    data = rows.copy()
    data[a] = data[a].astype(str)
    data[b] = data[b].astype(str)
    data["text"] = [f"{format_value(metric, v)}\nn={n:,}" for v, n in zip(data["value"], data["n"], strict=True)]
    valid = data.dropna(subset=["value"])
    if len(valid):
        worst = valid.loc[valid["value"].idxmin() if direction == "higher" else valid["value"].idxmax()]
        word = "lowest" if direction == "higher" else "highest"
        text = f"{label} is {word} for {a} = {worst[a]} and {b} = {worst[b]}: {format_cell(metric, worst.to_dict())}"
    else:
        text = f"No {label} to show"
    scheme = "redyellowblue" if direction == "higher" else "yelloworangered"
    base = alt.Chart(data).encode(x=alt.X(f"{b}:N", title=b), y=alt.Y(f"{a}:N", title=a))
    pick = alt.selection_point(name=SEGMENT_SELECTION, fields=[a, b], on="click")
    rect = base.mark_rect(cursor="pointer").add_params(pick).encode(
        color=alt.Color("value:Q", title=label, scale=alt.Scale(scheme=scheme)),
        tooltip=[f"{a}:N", f"{b}:N", alt.Tooltip("value:Q", format=".4f"), alt.Tooltip("low:Q", format=".4f"),
                 alt.Tooltip("high:Q", format=".4f"), alt.Tooltip("n:Q", format=",")])
    labels = base.mark_text(fontSize=11, lineBreak="\n").encode(text="text:N")
    return (rect + labels).properties(title=_title(text, "Cells with fewer rows have wider intervals; hover for them"),
                                      height=max(180, 54 * data[a].nunique()))


def residual_chart(hist: pd.DataFrame, *, mean_error: dict, unit: str = "") -> alt.Chart:
    """Histogram of residuals (prediction minus truth) with zero marked."""
    v = mean_error.get("value") or 0.0
    word = "too high" if v > 0 else "too low"
    title = _title(f"Predictions are {format_cell('mean_error', mean_error, unit=unit)} {word} on average",
                   "Residual = prediction minus truth; dashed: zero")
    bars = alt.Chart(hist).mark_bar(color=NEGATIVE_COLOR, binSpacing=0).encode(
        x=alt.X("bin_start:Q", bin="binned", title="residual (prediction − truth)"), x2="bin_end:Q",
        y=alt.Y("rows:Q", title="rows"), tooltip=[alt.Tooltip("bin_start:Q", format=".2f"),
                                                 alt.Tooltip("bin_end:Q", format=".2f"), alt.Tooltip("rows:Q", format=",")])
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="black", strokeDash=[4, 3]).encode(x="x:Q")
    return (bars + zero).properties(title=title, height=HEIGHT)


def predicted_actual_chart(table: pd.DataFrame, *, r2: dict) -> alt.Chart:
    """2-D histogram of predicted vs actual with the diagonal."""
    title = _title(f"R² {format_cell('r2', r2)}: points on the diagonal are exact predictions",
                   "Colour: rows per cell")
    lo = float(min(table["actual"].min(), table["predicted"].min())) if len(table) else 0.0
    hi = float(max(table["actual"].max(), table["predicted"].max())) if len(table) else 1.0
    pts = alt.Chart(table).mark_square(size=40).encode(
        x=alt.X("actual:Q", title="actual", scale=alt.Scale(domain=[lo, hi])),
        y=alt.Y("predicted:Q", title="predicted", scale=alt.Scale(domain=[lo, hi])),
        color=alt.Color("rows:Q", scale=alt.Scale(scheme="blues", type="log"), title="rows"),
        tooltip=[alt.Tooltip("actual:Q", format=".2f"), alt.Tooltip("predicted:Q", format=".2f"),
                 alt.Tooltip("rows:Q", format=",")])
    diag = _diagonal(lo, hi, color="black")
    return (pts + diag).properties(title=title, height=HEIGHT)


def per_class_chart(table: pd.DataFrame) -> alt.Chart:
    """Recall per class with Wilson intervals (multiclass)."""
    data = table.dropna(subset=["recall"])
    if data.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_point()
    worst = data.loc[data["recall"].idxmin()]
    title = _title(f"Class {worst['class']} is recognised least: recall {100 * worst['recall']:.0f}% "
                   f"({100 * worst['recall_low']:.0f}–{100 * worst['recall_high']:.0f}%)",
                   "Recall per true class with 95% intervals")
    order = data.sort_values("recall")["class"].tolist()
    y = alt.Y("class:N", sort=order, title="true class", axis=alt.Axis(labelOverlap=False))
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("recall:Q", title="recall", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("class:N", scale=color_scale(sorted(table["class"])), legend=None),
        tooltip=["class:N", alt.Tooltip("support:Q", format=","), alt.Tooltip("recall:Q", format=".3f"),
                 alt.Tooltip("precision:Q", format=".3f"), alt.Tooltip("f1:Q", format=".3f")])
    err = alt.Chart(data).mark_errorbar(ticks=True, color="black").encode(
        y=y, x=alt.X("recall_low:Q", title="recall"), x2="recall_high:Q")
    return (bars + err).properties(title=title, height=max(160, 36 * len(data)))
