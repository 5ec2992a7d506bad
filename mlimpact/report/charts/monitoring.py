"""Charts of the Monitoring page: metrics over time against their acceptable range, and drift.

Input is the status table of :func:`mlimpact.monitoring.check_ranges` (one row per bucket and
segment value) or the drift table of :func:`mlimpact.monitoring.drift_over_time`: small aggregated
tables, never raw rows. Every chart is titled with its finding.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from mlimpact.monitoring import PERIODS, describe_alerts
from mlimpact.report.charts.core import HEIGHT, NEUTRAL, _title, color_scale

__all__ = ["range_chart", "segments_overlay_chart", "small_multiples_chart", "psi_chart", "label_over_time_chart"]

ALERT = "#d62728"
BAND = "#2ca02c"
LINE = "#0072B2"
ESTIMATE = "#E69F00"
STATUS_ORDER = ["ok", "below", "above", "too small", "n/a", "no range"]
_SUBTITLE = ("{unit} {label} with 95% intervals. Shaded: acceptable range. Red triangles: out of range. "
             "Hollow grey: not checked (too small).")


def _prepare(status: pd.DataFrame) -> pd.DataFrame:
    """Chart columns: band edges (one-sided ranges run to the edge of the data), flags, tidy labels."""
    data = status.copy()
    data["segment"] = data["segment"].astype(object).where(data["segment"].notna(), "all rows").astype(str)
    lows = pd.concat([data["low"], data["value"], data["min"]]).dropna()
    highs = pd.concat([data["high"], data["value"], data["max"]]).dropna()
    floor, ceil = (float(lows.min()), float(highs.max())) if len(lows) and len(highs) else (0.0, 1.0)
    ranged = data["min"].notna() | data["max"].notna()
    data["band_low"] = data["min"].fillna(floor).where(ranged)
    data["band_high"] = data["max"].fillna(ceil).where(ranged)
    data["alert"] = data["status"].isin(["below", "above"])
    data["hollow"] = data["too_small"].astype(bool) | data["status"].isin(["too small", "n/a"])
    data["range"] = [_range_text(a, b) for a, b in zip(data["min"], data["max"], strict=True)]
    return data


def _range_text(a, b) -> str:
    if pd.isna(a) and pd.isna(b):
        return "no range"
    if pd.isna(b):
        return f"≥ {a:g}"
    if pd.isna(a):
        return f"≤ {b:g}"
    return f"{a:g} – {b:g}"


def _tooltip(label: str, with_segment: bool):
    tips = [alt.Tooltip("bucket:N", title="period"), alt.Tooltip("value:Q", title=label, format=".3f"),
            alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"),
            alt.Tooltip("range:N", title="acceptable"), alt.Tooltip("status:N"), alt.Tooltip("n:Q", format=","),
            alt.Tooltip("positives:Q", format=",")]
    return ([alt.Tooltip("segment:N")] if with_segment else []) + tips


def _layers(label: str, x: alt.X, *, line_color=None, with_segment: bool = False, band: bool = True):
    """Band, interval rules, line, points (filled / hollow / alert) over the same data."""
    y_title = label
    base = alt.Chart()
    layers = []
    if band:
        layers.append(base.mark_area(color=BAND, opacity=0.15, interpolate="step-after").encode(
            x=x, y=alt.Y("band_low:Q", title=y_title), y2="band_high:Q"))
    layers.append(base.mark_rule(color=NEUTRAL, opacity=0.6).encode(x=x, y=alt.Y("low:Q", title=y_title),
                                                                      y2="high:Q"))
    line_kw = {"color": line_color} if isinstance(line_color, str) else {}
    enc = {"color": line_color} if line_color is not None and not isinstance(line_color, str) else {}
    layers.append(base.mark_line(strokeWidth=1.5, **line_kw).encode(x=x, y=alt.Y("value:Q", title=y_title), **enc))
    tips = _tooltip(label, with_segment)
    layers.append(base.mark_point(filled=True, size=40, **line_kw).encode(
        x=x, y="value:Q", tooltip=tips, **enc).transform_filter("!datum.alert && !datum.hollow"))
    layers.append(base.mark_point(filled=False, size=40, color=NEUTRAL).encode(
        x=x, y="value:Q", tooltip=tips).transform_filter("datum.hollow"))
    layers.append(base.mark_point(filled=True, size=140, color=ALERT, stroke="black", strokeWidth=0.8).encode(
        x=x, y="value:Q", tooltip=tips,
        shape=alt.Shape("status:N", scale=alt.Scale(domain=["below", "above"], range=["triangle-down", "triangle-up"]),
                        legend=None)).transform_filter("datum.alert"))
    return layers


def _x(frame: pd.DataFrame) -> alt.X:
    """Time axis labelled by date (or month), not Vega's mixed weekday/date ticks."""
    monthly = len(frame) and frame["period"].iloc[0] == "M"
    return alt.X("start:T", title=None, axis=alt.Axis(format="%b %Y" if monthly else "%b %-d", labelOverlap=True))


def _unit(status: pd.DataFrame) -> str:
    period = status["period"].iloc[0] if len(status) else None
    return {"D": "Daily", "W": "Weekly", "M": "Monthly"}.get(period, "Overall")


def range_chart(status: pd.DataFrame, *, label: str, reference_end=None, title: str | None = None,
                estimated: pd.DataFrame | None = None) -> alt.Chart:
    """One series over time: acceptable band shaded, intervals, out-of-range buckets in red; ``estimated`` (a status
    table of :func:`mlimpact.monitoring.estimated_over_time`) adds the estimate for rows without a label, dashed."""
    data = _prepare(status)
    text = title or describe_alerts(status, label=label)
    layers = _layers(label, _x(status), line_color=LINE)
    if estimated is not None and len(estimated):
        layers += _estimated_layers(_prepare(estimated), label, _x(status))
        text += "; " + describe_alerts(estimated, label=f"estimated {label.lower()}")
    if reference_end is not None and not pd.isna(reference_end):
        layers.append(alt.Chart(pd.DataFrame({"end": [pd.Timestamp(reference_end)]})).mark_rule(
            color="black", strokeDash=[4, 3]).encode(x="end:T"))
    sub = _SUBTITLE.format(unit=_unit(status), label=label.lower())
    if reference_end is not None:
        sub += " Dashed: end of the reference period."
    if estimated is not None and len(estimated):  # a second line: one would be cut off
        sub = [sub, "Orange dashed diamonds: estimated from the scores for the rows without a label yet."]
    return alt.layer(*layers, data=data).properties(title=_title(text, sub), height=HEIGHT)


def _estimated_layers(est: pd.DataFrame, label: str, x: alt.X) -> list:
    """The estimated series: dashed line and interval, open diamonds, red triangles where out of range."""
    base = alt.Chart(est.assign(kind="estimated"))
    tips = [alt.Tooltip("kind:N", title="value")] + _tooltip(label, False)
    return [base.mark_area(color=BAND, opacity=0.08, interpolate="step-after").encode(
                x=x, y="band_low:Q", y2="band_high:Q"),
            base.mark_rule(color=ESTIMATE, strokeDash=[3, 2]).encode(x=x, y="low:Q", y2="high:Q"),
            base.mark_line(color=ESTIMATE, strokeDash=[6, 4], strokeWidth=1.5).encode(x=x, y="value:Q"),
            base.mark_point(shape="diamond", filled=False, size=60, color=ESTIMATE).encode(
                x=x, y="value:Q", tooltip=tips).transform_filter("!datum.alert"),
            base.mark_point(shape="diamond", filled=True, size=140, color=ALERT, stroke="black").encode(
                x=x, y="value:Q", tooltip=tips).transform_filter("datum.alert")]


def segments_overlay_chart(status: pd.DataFrame, *, label: str, segment_column: str, domain) -> alt.Chart:
    """Every segment value's series on one chart (colour per value), out-of-range buckets in red."""
    data = _prepare(status)
    color = alt.Color("segment:N", title=segment_column, scale=color_scale(domain))
    layers = _layers(label, _x(status), line_color=color, with_segment=True, band=False)[1:]  # no band, no interval rules
    sub = (f"{_unit(status)} {label.lower()} per {segment_column}. Red triangles: out of that value's range "
           "(bands below). Hollow grey: not checked (too small).")
    return alt.layer(*layers, data=data).properties(title=_title(describe_alerts(status, label=label), sub),
                                                    height=HEIGHT)


def small_multiples_chart(status: pd.DataFrame, *, label: str, segment_column: str, domain,
                          columns: int = 3, width: int = 185, height: int = 140,
                          max_panels: int = 12) -> alt.FacetChart:
    """One small chart per segment value, each with its own acceptable band; shared y axis.

    At most ``max_panels`` values: those with alerts first, then the ones with the most rows.
    """
    data = _prepare(status)
    rank = data.groupby("segment").agg(alerts=("alert", "sum"), rows=("n", "sum"))
    keep = set(rank.sort_values(["alerts", "rows"], ascending=False).index[:max_panels])
    data = data[data["segment"].isin(keep)]
    order = [str(v) for v in domain if str(v) in keep]
    color = alt.Color("segment:N", scale=color_scale(domain), legend=None)
    layers = _layers(label, _x(status), line_color=color, with_segment=True)
    inner = alt.layer(*layers).properties(width=width, height=height)
    text = _multiples_title(data, rank, segment_column)
    unranged = sorted(set(data["segment"]) - set(data.loc[data["status"] != "no range", "segment"]))
    if unranged:
        text += f"; no range for {', '.join(unranged[:3])}{' …' if len(unranged) > 3 else ''} (too little reference data)"
    shown = "" if len(rank) <= max_panels else f" Showing {len(order)} of {len(rank)} values (alerts first)."
    return alt.FacetChart(data=data, spec=inner, facet=alt.Facet("segment:N", title=None, sort=order),
                          columns=columns).properties(
        title=_title(text, f"Per {segment_column}: shaded band = that value's acceptable range; red = out of range."
                           + shown))


def _multiples_title(data: pd.DataFrame, rank: pd.DataFrame, segment_column: str) -> str:
    """How many values left their range, among the buckets checked; never "stayed in range" unchecked."""
    checked = data["status"].isin(["ok", "below", "above"])
    n_checked, values = int(checked.sum()), data.loc[checked, "segment"].nunique()
    n_alert = int((rank["alerts"] > 0).sum())
    buckets = f"{n_checked} checked bucket{'s' if n_checked != 1 else ''}"
    if not n_checked:
        return f"No bucket of any {segment_column} value could be checked ({len(data)} not checked)"
    if n_alert:
        return f"{n_alert} of {len(rank)} {segment_column} values left their range ({buckets})"
    rest = f" ({len(data) - n_checked} not checked)" if len(data) > n_checked else ""
    if values == len(rank):
        return f"Every {segment_column} value stayed in its range in the {buckets}{rest}"
    return f"{values} of {len(rank)} {segment_column} values could be checked, and stayed in range in the {buckets}{rest}"


def psi_chart(drift: pd.DataFrame, *, what: str) -> alt.Chart:
    """Score-distribution drift per bucket (PSI against the reference period), with the usual 0.1 / 0.25 lines."""
    data = drift.copy()
    data["level"] = pd.cut(data["score_psi"].fillna(0), [-1, 0.1, 0.25, float("inf")],
                           labels=["stable (< 0.1)", "moderate (0.1–0.25)", "major (> 0.25)"]).astype(str)
    data["period_kind"] = data["reference"].map({True: "reference", False: "monitored"})
    later = data[~data["reference"]]
    unit = PERIODS.get(data["period"].iloc[0], "bucket") if len(data) else "bucket"
    if not data["reference"].any():
        text = f"No whole {unit} in the reference period: move its end later to compare"
    elif later.empty:
        text = f"No {unit}s after the reference period to compare"
    else:
        worst = later.loc[later["score_psi"].idxmax()]
        if worst["score_psi"] < 0.1:
            text = f"The {what} distribution is stable (PSI < 0.1)"
        else:
            word = "shifted" if worst["score_psi"] > 0.25 else "moved"
            text = f"The {what} distribution {word} in {worst['bucket']} (PSI {worst['score_psi']:.2f})"
    bars = alt.Chart(data).mark_bar(stroke="white", strokeWidth=0.5).encode(
        x=_x(data), x2="end:T", y=alt.Y("score_psi:Q", title="PSI vs reference"), y2=alt.datum(0),
        color=alt.Color("level:N", title="shift", scale=alt.Scale(
            domain=["stable (< 0.1)", "moderate (0.1–0.25)", "major (> 0.25)"], range=[LINE, "#E69F00", ALERT])),
        opacity=alt.condition("datum.reference", alt.value(0.35), alt.value(1.0)),
        tooltip=[alt.Tooltip("bucket:N", title="period"), alt.Tooltip("score_psi:Q", format=".3f", title="PSI"),
                 alt.Tooltip("n:Q", format=","), alt.Tooltip("period_kind:N", title="")])
    rules = alt.Chart(pd.DataFrame({"y": [0.1, 0.25]})).mark_rule(strokeDash=[4, 3], color=NEUTRAL).encode(y="y:Q")
    sub = f"PSI per {unit} vs the reference (faded); dashed: 0.1, 0.25"
    return (bars + rules).properties(title=_title(text, sub), height=HEIGHT)


def label_over_time_chart(drift: pd.DataFrame, *, name: str, task: str) -> alt.Chart:
    """The label over time: base rate (binary) or mean (regression) with 95% intervals; label PSI (multiclass)."""
    unit = PERIODS.get(drift["period"].iloc[0], "bucket") if len(drift) else "bucket"
    x = _x(drift)
    if task == "multiclass":
        worst = float(drift["label_psi"].max()) if drift["label_psi"].notna().any() else None
        text = (f"No whole {unit} in the reference period to compare the class mix with" if worst is None
                else "The class mix is stable (label PSI < 0.1)" if worst < 0.1
                else f"The class mix moved: label PSI up to {worst:.2f}")
        bars = alt.Chart(drift).mark_bar(color=LINE, stroke="white", strokeWidth=0.5).encode(
            x=x, x2="end:T", y=alt.Y("label_psi:Q", title="label PSI vs reference"), y2=alt.datum(0),
            opacity=alt.condition("datum.reference", alt.value(0.35), alt.value(1.0)),
            tooltip=[alt.Tooltip("bucket:N", title="period"), alt.Tooltip("label_psi:Q", format=".3f"),
                     alt.Tooltip("n:Q", format=",")])
        return bars.properties(title=_title(text, f"PSI of the true classes per {unit} vs the reference (faded)"),
                               height=HEIGHT)
    fmt = ".1%" if task == "binary" else ",.4~g"
    lo, hi = drift["label_mean"].min(), drift["label_mean"].max()
    word = "rate" if task == "binary" else "mean"
    if task == "binary":
        text = f"The {name} rate stays between {lo:.1%} and {hi:.1%}"
    else:
        text = f"The mean {name} stays between {lo:.2f} and {hi:.2f}"
    band = alt.Chart(drift).mark_area(color=LINE, opacity=0.15).encode(
        x=x, y=alt.Y("label_low:Q", title=f"{name} {word}", axis=alt.Axis(format=fmt),
                     scale=alt.Scale(zero=task == "binary")), y2="label_high:Q")
    line = alt.Chart(drift).mark_line(point=True, color=LINE).encode(
        x=x, y=alt.Y("label_mean:Q", title=f"{name} {word}"),
        tooltip=[alt.Tooltip("bucket:N", title="period"), alt.Tooltip("label_mean:Q", format=fmt, title=word),
                 alt.Tooltip("label_low:Q", format=fmt), alt.Tooltip("label_high:Q", format=fmt),
                 alt.Tooltip("n:Q", format=","), alt.Tooltip("label_psi:Q", format=".3f", title="label PSI")])
    return (band + line).properties(title=_title(text, f"Actual {name} {word} per {unit}; shaded: 95% interval"),
                                    height=HEIGHT)
