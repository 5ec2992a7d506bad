"""The Difficulty page's controls as plain values: policy inputs, slider cut-offs, hand-set lanes, headline numbers.

Every conversion between what a person types or drags and the package's objects lives here, so the page
only reads widgets and renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from mlimpact.difficulty.curve import LaneCurve
from mlimpact.difficulty.lanes import LanePolicy, Lanes, OperatingPoint, default_tolerance
from mlimpact.difficulty.text import percent, percent_cell
from mlimpact.errors import InputError
from mlimpact.io import Dataset

__all__ = [
    "METHOD_LABELS",
    "LANE_SHARE_COLUMNS",
    "SEGMENT_SHARE_COLUMNS",
    "policy_inputs",
    "policy_from_inputs",
    "start_tolerance",
    "clamp",
    "slider_value",
    "picked_cutoffs",
    "manual_lanes",
    "lane_columns",
    "headline_numbers",
    "frontier_caption",
    "frontier_marks",
    "segment_lanes_table",
    "lanes_text",
    "lanes_from_text",
]

#: How the cut-offs are chosen, as the page offers it.
METHOD_LABELS = {"target": "Most automation under a target error rate",
                 "capacity": "Fewest errors the reviewers can keep up with",
                 "manual": "Set the cut-offs by hand"}

#: Columns of :func:`~mlimpact.difficulty.tables.lane_table` that hold shares.
LANE_SHARE_COLUMNS = ("share", "error_rate", "error_low", "error_high", "expected_rate", "observed_rate",
                      "observed_low", "observed_high")
#: Columns of :func:`~mlimpact.difficulty.tables.lanes_by_segment` that hold shares.
SEGMENT_SHARE_COLUMNS = ("share_of_rows", "review_share", "review_low", "review_high", "automated_error_rate",
                         "error_low", "error_high", "share_of_automated_errors")


def policy_inputs(policy: LanePolicy) -> dict[str, object]:
    """A policy as the page's inputs: ``method``, ``target`` (errors among automated, in percent),
    ``reviewers``, ``per_reviewer``, ``per_day``.

    >>> policy_inputs(LanePolicy(method="target", target_error=0.01))["target"]
    1.0
    """
    return {"method": policy.method, "target": float(100 * policy.target_error),
            "reviewers": int(policy.reviewers), "per_reviewer": int(policy.cases_per_reviewer),
            "per_day": int(policy.cases_per_day)}


def policy_from_inputs(method: str, target: float, reviewers: float, per_reviewer: float,
                       per_day: float) -> LanePolicy:
    """The policy the inputs of :func:`policy_inputs` describe (raises ``InputError`` for impossible values).

    >>> policy_from_inputs("target", 2.5, 3, 200, 20000).target_error
    0.025
    """
    return LanePolicy(method=method, target_error=float(target) / 100, reviewers=int(reviewers),
                      cases_per_reviewer=int(per_reviewer), cases_per_day=int(per_day))


def start_tolerance(dataset: Dataset, saved: Lanes | None) -> float:
    """The regression tolerance the page starts from: the saved lanes' own, else :func:`default_tolerance`."""
    return float(saved.tolerance if saved is not None and saved.tolerance else default_tolerance(dataset))


def clamp(value: float, bounds: Sequence[float]) -> float:
    """``value`` moved inside ``bounds = (low, high, ...)``.

    >>> clamp(1.7, (0.0, 1.0)), clamp(-2, (0.0, 1.0)), clamp(0.3, (0.0, 1.0))
    (1.0, 0.0, 0.3)
    """
    return float(min(max(value, bounds[0]), bounds[1]))


def slider_value(lanes: Lanes, bounds: Sequence[float]) -> float | tuple[float, float]:
    """The cut-off slider's value for ``lanes``: a (low, high) pair for two-sided lanes, else one cut-off.

    >>> slider_value(Lanes("score", low=-0.2, high=0.8), (0.0, 1.0, 0.001))
    (0.0, 0.8)
    """
    if lanes.two_sided:
        return clamp(lanes.low, bounds), clamp(lanes.high, bounds)
    return clamp(lanes.cutoff, bounds)


def picked_cutoffs(picked: Mapping[str, float], bounds: Sequence[float],
                   two_sided: bool) -> float | tuple[float, float] | None:
    """The slider value for a point clicked on the trade-off chart (None when the point has no cut-offs).

    >>> picked_cutoffs({"low": 0.2, "high": 0.95}, (0.0, 1.0), True), picked_cutoffs({}, (0.0, 1.0), True)
    ((0.2, 0.95), None)
    """
    if "high" not in picked:
        return None
    return (clamp(picked["low"], bounds), clamp(picked["high"], bounds)) if two_sided else clamp(picked["high"], bounds)


def manual_lanes(curve: LaneCurve, value, *, mode: str, tolerance: float | None, policy: LanePolicy) -> Lanes:
    """Lanes from hand-set cut-offs (a (low, high) pair on a two-sided curve); raises ``InputError`` if invalid."""
    if curve.two_sided:
        return Lanes("score", low=float(value[0]), high=float(value[1]), policy=policy)
    return Lanes(mode, cutoff=float(value), tolerance=tolerance, policy=policy)


def lane_columns(two_sided: bool) -> list[str]:
    """The lanes of a curve, in the order the charts and filters show them.

    >>> lane_columns(False)
    ['automatic', 'review']
    """
    return ["auto_negative", "review", "auto_positive"] if two_sided else ["automatic", "review"]


def headline_numbers(point: OperatingPoint, policy: LanePolicy) -> list[dict[str, str]]:
    """The four numbers above the chart: ``label``, ``value`` and ``help`` each."""
    daily = point.per_day(policy.cases_per_day)
    a_lo, a_hi = point.automation_interval
    error = percent_cell(point.error_rate, *point.error_interval)
    return [
        {"label": "Automated", "value": percent(point.automation_rate),
         "help": f"95% interval {percent(a_lo)}–{percent(a_hi)}"},
        {"label": "Errors among automated", "value": error.split(" (")[0],
         "help": "With its 95% interval: " + error},
        {"label": "Reviews a day", "value": f"{daily['review']:,.0f}",
         "help": f"Capacity: {policy.capacity:,.0f} a day"},
        {"label": "Automated errors a day", "value": f"{daily['errors']:,.0f}",
         "help": f"Out of {policy.cases_per_day:,.0f} cases a day"},
    ]


def frontier_caption(frontier: pd.DataFrame, two_sided: bool) -> str:
    """How the trade-off curve was made: exactly, or from candidate cut-offs."""
    if frontier.attrs.get("exact"):
        return ("The curve is exact: every " + ("pair of cut-offs" if two_sided else "cut-off")
                + " at every distinct value was scored.")
    return (f"The curve scores every pair among {frontier.attrs.get('candidates', 0):,} candidate cut-offs "
            "(score quantiles); the solvers above are exact over every distinct value.")


def frontier_marks(policy: LanePolicy) -> dict[str, float | None]:
    """What the trade-off chart marks for a policy: the target error rate, or the least automation the
    reviewers' capacity allows (``target`` / ``min_automation``, None when the policy sets neither).

    >>> frontier_marks(LanePolicy(method="target", target_error=0.02))
    {'target': 0.02, 'min_automation': None}
    """
    return {"target": policy.target_error if policy.method == "target" else None,
            "min_automation": 1 - policy.review_share_limit if policy.method == "capacity" else None}


def segment_lanes_table(by_segment: pd.DataFrame, column: str) -> pd.DataFrame:
    """``lanes_by_segment`` with its ``segment`` column named after the segment column (unless that clashes).

    >>> segment_lanes_table(pd.DataFrame({"segment": ["a"], "n": [3]}), "region").columns.tolist()
    ['region', 'n']
    """
    return by_segment.rename(columns={"segment": column}) if column not in by_segment.columns else by_segment


_LANE_FIELDS = ("low", "high", "cutoff", "tolerance")
_POLICY_FIELDS = ("target_error", "reviewers", "cases_per_reviewer", "cases_per_day")


def lanes_text(lanes: Lanes) -> str:
    """A file's lanes as one short text for a link (:func:`lanes_from_text` reads it back).

    >>> lanes_text(Lanes("score", low=0.05, high=0.8))
    'score~0.05~0.8~~~manual~0.01~3~200~20000'
    """
    numbers = [getattr(lanes, f) for f in _LANE_FIELDS]
    policy = [getattr(lanes.policy, f) for f in _POLICY_FIELDS]
    return "~".join([lanes.mode, *("" if v is None else f"{v:.10g}" for v in numbers), lanes.policy.method,
                     *(f"{v:.10g}" for v in policy)])


def lanes_from_text(text: str) -> Lanes:
    """:func:`lanes_text` read back; InputError naming what is wrong (a link may have been edited by hand).

    >>> lanes_from_text("score~0.05~0.8~~~manual~0.01~3~200~20000").high
    0.8
    >>> lanes_from_text("score~0.9~0.1~~~manual~0.01~3~200~20000")
    Traceback (most recent call last):
    ...
    mlimpact.errors.InputError: lanes: the low cut-off (0.9) is above the high cut-off (0.1); swap them
    """
    parts = text.split("~")
    if len(parts) != 1 + len(_LANE_FIELDS) + 1 + len(_POLICY_FIELDS):
        raise InputError(f"lanes {text[:60]!r}: not the link's lanes format")
    try:
        numbers = [None if p == "" else float(p) for p in parts[1:5]]
        policy = [float(p) for p in parts[6:]]
    except ValueError:
        raise InputError(f"lanes {text[:60]!r}: a cut-off or a policy value is not a number") from None
    return Lanes(parts[0], **dict(zip(_LANE_FIELDS, numbers, strict=True)),
                 policy=LanePolicy(parts[5], **dict(zip(_POLICY_FIELDS, policy, strict=True))))
