"""Charts of the Difficulty page: the automation–error frontier and the lanes per segment.

Each takes a small aggregated table from :mod:`mlimpact.difficulty` (never raw rows) and is titled with
its finding.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from mlimpact.difficulty import OperatingPoint, lane_label, percent, percent_cell
from mlimpact.metrics import thin_curve
from mlimpact.report.charts.core import HEIGHT, NEUTRAL, _title, color_scale

__all__ = ["LANE_COLORS", "FRONTIER_SELECTION", "frontier_chart", "lane_mix_chart", "automated_errors_chart"]

#: One fixed colour per lane (Okabe–Ito): blue auto-negative, amber review, vermillion auto-positive, green automatic.
LANE_COLORS = {"auto_negative": "#0072B2", "review": "#E69F00", "auto_positive": "#D55E00", "automatic": "#009E73"}
#: Name of the point selection on the frontier (``event.selection[FRONTIER_SELECTION]`` in Streamlit).
FRONTIER_SELECTION = "pick"


def frontier_chart(frontier: pd.DataFrame, *, point: OperatingPoint, target: float | None = None,
                   min_automation: float | None = None, max_points: int = 400) -> alt.LayerChart:
    """Error rate among automated decisions against automation rate: the best pair of cut-offs at each rate.

    The band is the 95% Wilson interval of each frontier point; the large dot (with its interval) is the
    chosen point; dashed lines are the target error rate and the least automation the reviewers allow.
    Clicking a frontier point selects its cut-offs (selection ``pick`` with fields ``low``, ``high``).
    """
    data = thin_curve(frontier, max_points=max_points).copy()
    data["low"] = data["low"].fillna(-1.0)  # one cut-off: a constant, so selections stay valid JSON
    if point.automated:
        text = (f"Automating {percent(point.automation_rate)} keeps errors among automated decisions at "
                f"{percent_cell(point.error_rate, *point.error_interval)}")
    else:
        text = "Nothing is automated: every case goes to review"
    sub = ("Lowest error rate among automated decisions for at least that share automated (band: 95% "
           "interval). Dot: the chosen cut-offs. Click a point to use its cut-offs.")
    top = float(data.loc[data["automation_rate"] >= 0.05, "error_rate"].max()) if len(data) else 0.05
    top = max(top if top == top else 0.05, (target or 0) * 1.3, point.error_interval[1] if point.automated else 0,
              0.005) * 1.15
    y_scale = alt.Scale(domain=[0, top], clamp=True)
    x = alt.X("automation_rate:Q", title="share of cases automated", axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=[0, 1]))
    tooltip = [alt.Tooltip("automation_rate:Q", title="automated", format=".1%"),
               alt.Tooltip("error_rate:Q", title="errors among automated", format=".2%"),
               alt.Tooltip("error_low:Q", title="95% low", format=".2%"),
               alt.Tooltip("error_high:Q", title="95% high", format=".2%"),
               alt.Tooltip("automated:Q", format=","), alt.Tooltip("errors:Q", format=","),
               alt.Tooltip("low:Q", title="low cut-off", format=".4g"),
               alt.Tooltip("high:Q", title="cut-off" if (frontier["low"].isna().all()) else "high cut-off",
                           format=".4g")]
    pick = alt.selection_point(name=FRONTIER_SELECTION, fields=["low", "high"], on="click", nearest=True,
                               clear=False)
    base = alt.Chart(data)
    # step-before: between two frontier points the best achievable rate is the next point's
    band = base.mark_area(opacity=0.18, color="#0072B2", interpolate="step-before").encode(
        x=x, y=alt.Y("error_low:Q", scale=y_scale, title="errors among automated decisions",
                     axis=alt.Axis(format="%")), y2="error_high:Q")
    line = base.mark_line(color="#0072B2", interpolate="step-before").encode(
        x=x, y=alt.Y("error_rate:Q", scale=y_scale))
    dots = base.mark_circle(size=28, color="#0072B2", opacity=0.5).encode(
        x=x, y=alt.Y("error_rate:Q", scale=y_scale), tooltip=tooltip).add_params(pick)
    layers = [band, line, dots]
    if point.automated:
        lo, hi = point.error_interval
        chosen = pd.DataFrame({"automation_rate": [point.automation_rate], "error_rate": [point.error_rate],
                               "error_low": [lo], "error_high": [hi], "automated": [point.automated],
                               "errors": [point.errors]})
        cbase = alt.Chart(chosen)
        layers.append(cbase.mark_rule(color="black", strokeWidth=2).encode(
            x=x, y=alt.Y("error_low:Q", scale=y_scale), y2="error_high:Q"))
        layers.append(cbase.mark_point(size=160, filled=True, color="#D55E00", stroke="black").encode(
            x=x, y=alt.Y("error_rate:Q", scale=y_scale),
            tooltip=[alt.Tooltip("automation_rate:Q", title="automated", format=".1%"),
                     alt.Tooltip("error_rate:Q", title="errors among automated", format=".2%"),
                     alt.Tooltip("error_low:Q", title="95% low", format=".2%"),
                     alt.Tooltip("error_high:Q", title="95% high", format=".2%")]))
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"y": [target]})).mark_rule(color=NEUTRAL, strokeDash=[5, 4]).encode(
            y=alt.Y("y:Q", scale=y_scale)))
    if min_automation is not None and min_automation > 0:
        layers.append(alt.Chart(pd.DataFrame({"x": [min_automation]})).mark_rule(
            color=NEUTRAL, strokeDash=[2, 3]).encode(x=alt.X("x:Q", scale=alt.Scale(domain=[0, 1]))))
    return alt.layer(*layers).properties(title=_title(text, sub), height=HEIGHT + 60)


def _lane_domain(lanes: list[str], subject: str) -> tuple[list[str], list[str]]:
    return [lane_label(x, subject) for x in lanes], [LANE_COLORS[x] for x in lanes]


def lane_mix_chart(table: pd.DataFrame, *, column: str, lanes: list[str], subject: str = "positive") -> alt.Chart:
    """Share of each segment's cases sent to review (and to the smaller automatic lane), segments with the
    most review on top. The largest automatic lane is the remainder, named in the subtitle, so that a small
    review lane stays readable.

    ``table`` is :func:`mlimpact.difficulty.lanes_by_segment`; ``lanes`` the lane names of the file.
    """
    if table.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_point().properties(title=_title("No segments to show"))
    worst = table.iloc[0]
    overall = float(table["review"].sum() / max(table["n"].sum(), 1))
    automatic = [x for x in lanes if x != "review"]
    rest = max(automatic, key=lambda x: int(table[x].sum()))
    shown = ["review"] + [x for x in automatic if x != rest]
    cell = percent_cell(worst["review_share"], worst["review_low"], worst["review_high"],
                        digits=1 if worst["review_share"] < 0.1 else 0)
    text = f"{column} = {worst['segment']} sends the most to review: {cell} of its cases"
    sub = f"The rest is {lane_label(rest, subject)}; {percent(overall)} of all cases go to review"
    long = table.melt(id_vars=["segment", "n", "review_low", "review_high"], value_vars=shown, var_name="lane_name",
                      value_name="rows")
    long["share"] = long["rows"] / long["n"].where(long["n"] > 0)
    long["lane"] = [lane_label(x, subject) for x in long["lane_name"]]
    long["order"] = long["lane_name"].map({x: i for i, x in enumerate(shown)})
    domain, colors = _lane_domain(shown, subject)
    order = table["segment"].astype(str).tolist()
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("segment:N", title=column, sort=order),
        x=alt.X("share:Q", title="share of the segment's cases", axis=alt.Axis(format="%"), stack="zero"),
        color=alt.Color("lane:N", title="lane", scale=alt.Scale(domain=domain, range=colors),
                        legend=alt.Legend(orient="bottom") if len(shown) > 1 else None),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("segment:N", title=column), "lane:N", alt.Tooltip("rows:Q", format=","),
                 alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("review_low:Q", title="review share, 95% low", format=".1%"),
                 alt.Tooltip("review_high:Q", title="review share, 95% high", format=".1%")])
    return chart.properties(title=_title(text, sub), height=max(200, 40 * len(table)))


def automated_errors_chart(table: pd.DataFrame, *, column: str, domain) -> alt.LayerChart | alt.Chart:
    """Share of all automated errors per segment (bars, coloured by segment) against its share of cases (ticks).

    ``domain`` is the column's full list of values, so each value keeps its colour (:func:`color_scale`).
    """
    data = table[table["automated"] > 0].copy()
    if data.empty or data["automated_errors"].sum() == 0:
        return alt.Chart(pd.DataFrame({"x": []})).mark_point().properties(
            title=_title("No errors among automated decisions", "Nothing to place by segment"))
    data["segment"] = data["segment"].astype(str)
    data["excess"] = data["share_of_automated_errors"] / data["share_of_rows"]
    worst = data.sort_values(["excess", "automated_errors"], ascending=False).iloc[0]
    text = (f"{column} = {worst['segment']} holds {percent(worst['share_of_automated_errors'])} of automated errors "
            f"with {percent(worst['share_of_rows'])} of cases")
    sub = "Bars: share of the errors among automated decisions; ticks: share of all cases"
    order = data.sort_values("share_of_automated_errors", ascending=False)["segment"].tolist()
    y = alt.Y("segment:N", title=column, sort=order)
    tooltip = [alt.Tooltip("segment:N", title=column),
               alt.Tooltip("share_of_automated_errors:Q", title="share of automated errors", format=".1%"),
               alt.Tooltip("share_of_rows:Q", title="share of cases", format=".1%"),
               alt.Tooltip("automated_errors:Q", title="automated errors", format=","),
               alt.Tooltip("automated_error_rate:Q", title="error rate among automated", format=".2%"),
               alt.Tooltip("error_low:Q", title="95% low", format=".2%"),
               alt.Tooltip("error_high:Q", title="95% high", format=".2%")]
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("share_of_automated_errors:Q", title="share", axis=alt.Axis(format="%")),
        color=alt.Color("segment:N", scale=color_scale(domain), legend=None), tooltip=tooltip)
    ticks = alt.Chart(data).mark_tick(color="black", thickness=2, size=22).encode(
        y=y, x=alt.X("share_of_rows:Q"), tooltip=tooltip)
    return (bars + ticks).properties(title=_title(text, sub), height=max(200, 40 * len(data)))
