"""Difficulty lanes in plain language: lane names, rates as people read them, the chosen point in a sentence.

Re-exported by :mod:`mlimpact.difficulty`.
"""

from __future__ import annotations

import math

from mlimpact.difficulty.lanes import (  # noqa: F401 (Lanes: doctests)
    _SIGN,
    MODES,
    LanePolicy,
    Lanes,
    OperatingPoint,
)

__all__ = ["lane_label", "cutoff_label", "percent", "percent_cell", "summary_sentence", "capacity_sentence"]


def lane_label(lane: str, subject: str = "positive") -> str:
    """People's name of a lane: ``auto_positive`` -> ``automatic: fraud``.

    >>> lane_label("auto_negative", "fraud"), lane_label("review")
    ('automatic: not fraud', 'review')
    """
    return {"auto_negative": f"automatic: not {subject}", "auto_positive": f"automatic: {subject}",
            "review": "review", "automatic": "automatic"}.get(lane, lane)


def cutoff_label(mode: str, subject: str = "positive") -> str:
    """What the cut-off slider does, in words.

    >>> cutoff_label("uncertainty")
    'Automatic when the uncertainty is at most the cut-off; review otherwise'
    """
    if mode == "score":
        return (f"Review band: automatic “not {subject}” below the left handle, automatic “{subject}” from the "
                "right handle")
    word = "at least" if _SIGN[mode] > 0 else "at most"
    return f"Automatic when the {MODES[mode]} is {word} the cut-off; review otherwise"


def percent(x: float, digits: int = 0) -> str:
    """Percent for sentences: whole percents in the middle, more digits near 0% and 100%.

    >>> percent(0.78), percent(0.009, 1), percent(0.0004, 1), percent(0.99983), percent(0.0)
    ('78%', '0.9%', '0.04%', '99.98%', '0%')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    v = 100 * x
    while digits < 3 and 0 < v < 100 and float(f"{v:.{digits}f}") in (0.0, 100.0):
        digits += 1
    if digits == 0 and (0 < v < 1 or 99 < v < 100):
        digits = 1
    return f"{v:.{digits}f}%"


def percent_cell(value: float, low: float, high: float, digits: int = 1) -> str:
    """A rate with its interval, with enough digits that the bounds differ: ``1.00% (0.96–1.04%)``.

    >>> percent_cell(0.009, 0.007, 0.011), percent_cell(0.01, 0.0096, 0.0104)
    ('0.9% (0.7–1.1%)', '1.00% (0.96–1.04%)')
    """
    while digits < 3 and percent(low, digits) == percent(high, digits) and low != high:
        digits += 1
    a, b = percent(low, digits), percent(high, digits)
    return f"{percent(value, digits)} ({a[:-1]}–{b})"


def summary_sentence(point: OperatingPoint, *, cases_per_day: float | None = None, cases: str = "cases") -> str:
    """The chosen point in one sentence, with 95% intervals.

    >>> lanes = Lanes("score", low=0.1, high=0.9)
    >>> p = OperatingPoint(lanes=lanes, n=10_000, automated=7_800, errors=70, review=2_200)
    >>> summary_sentence(p, cases_per_day=20_000)
    'Automating 78% of cases keeps errors among automated decisions at 0.9% (0.7–1.1%); 22%, about 4,400 a day, go to review.'
    """
    if point.automated == 0:
        return f"Nothing is automated: every one of the {point.n:,} {cases} goes to review."
    err = percent_cell(point.error_rate, *point.error_interval)
    head = f"Automating {percent(point.automation_rate)} of {cases} keeps errors among automated decisions at {err}"
    if point.review == 0:
        return head + "; nothing goes to review."
    per_day = ""
    if cases_per_day:
        per_day = f", about {_round_count(point.review_rate * cases_per_day)} a day,"
    return f"{head}; {percent(point.review_rate)}{per_day} go to review."


def _round_count(x: float) -> str:
    if x >= 1000:
        return f"{round(x, -2):,.0f}"
    if x >= 100:
        return f"{round(x, -1):,.0f}"
    return f"{x:,.0f}"


def capacity_sentence(point: OperatingPoint, policy: LanePolicy) -> str:
    """Whether the reviewers can keep up with the review lane at ``policy.cases_per_day``.

    >>> p = OperatingPoint(lanes=Lanes("score", low=0.1, high=0.9), n=10_000, automated=7_800, errors=70, review=2_200)
    >>> capacity_sentence(p, LanePolicy(reviewers=3, cases_per_reviewer=200, cases_per_day=20_000))
    'The review lane needs about 4,400 reviews a day; 3 reviewers × 200 = 600 a day can do 14% of them (7.3 times capacity).'
    """
    need = point.review_rate * policy.cases_per_day
    cap = policy.capacity
    head = (f"The review lane needs about {_round_count(need)} reviews a day; {policy.reviewers:g} reviewers × "
            f"{policy.cases_per_reviewer:,.0f} = {cap:,.0f} a day")
    if need <= cap + 1e-9:
        return head + " can do all of them."
    if cap <= 0:
        return head + " cannot do any of them."
    return head + f" can do {percent(cap / need)} of them ({need / cap:.1f} times capacity)."
