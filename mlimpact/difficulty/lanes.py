"""Difficulty lanes, the assumptions: modes, lane policies, the chosen lanes and what they do.

:class:`LanePolicy` says how cut-offs are chosen (a target error rate, a reviewer capacity, or by hand),
:class:`Lanes` holds the chosen cut-offs of a file and :class:`OperatingPoint` what a pair of cut-offs
does (cases automated, errors among them, cases left for review). Re-exported by :mod:`mlimpact.difficulty`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd  # noqa: F401 (the doctests' namespace)

from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.metrics import wilson_interval

__all__ = ["MODES", "ERROR_SIZE_WARNING", "LANE_NAMES", "AUTO_NEGATIVE", "REVIEW", "AUTO_POSITIVE", "AUTOMATIC", "METHODS", "ERROR_SLACK",
           "DEFAULT_TARGET", "MIN_AUTOMATED", "LanePolicy", "Lanes", "OperatingPoint", "available_modes",
           "unavailable_reason", "default_tolerance", "checked_tolerance"]

#: How rows are ordered from hard to easy, per mode (the display name says what the cut-off is on).
MODES = {
    "score": "score",
    "top_probability": "top-class probability",
    "margin": "margin between the top two classes",
    "uncertainty": "uncertainty",
    "error_size": "size of the error (needs the truth; for analysis only)",
}
#: what lanes by the size of the error can and cannot be used for (said wherever they are chosen)
ERROR_SIZE_WARNING = ("Lanes by the size of the error need the truth, which is unknown when a decision is made: use "
                      "them to analyse where errors are, not to route cases. Pick an uncertainty column to route cases.")
#: +1: automatic when the value is at least the cut-off; -1: automatic when it is at most the cut-off.
_SIGN = {"score": 1, "top_probability": 1, "margin": 1, "uncertainty": -1, "error_size": -1}

#: Lane codes (index into LANE_NAMES). Binary files use the first three; the others AUTOMATIC and REVIEW.
LANE_NAMES = ("auto_negative", "review", "auto_positive", "automatic")
AUTO_NEGATIVE, REVIEW, AUTO_POSITIVE, AUTOMATIC = range(4)
METHODS = ("target", "capacity", "manual")
#: A pair of cut-offs meets a target when errors <= target * automated + this (floating-point slack, in cases).
ERROR_SLACK = 1e-7


# ---------------------------------------------------------------------------------------------
# assumptions
# ---------------------------------------------------------------------------------------------


def _real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class LanePolicy:
    """How the cut-offs were chosen: a target error rate, a reviewer capacity, or by hand.

    ``target_error``: the highest acceptable error rate among automated decisions.
    ``reviewers × cases_per_reviewer`` cases a day can be reviewed, out of ``cases_per_day``.

    >>> LanePolicy(method="capacity", reviewers=3, cases_per_reviewer=200, cases_per_day=20000).review_share_limit
    0.03
    """

    method: str = "target"
    target_error: float = 0.01
    reviewers: float = 3
    cases_per_reviewer: float = 200
    cases_per_day: float = 20_000

    def __post_init__(self) -> None:
        problems = []
        if self.method not in METHODS:
            problems.append(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if not (_real(self.target_error) and 0 < self.target_error < 1):
            problems.append(f"target error rate must be between 0 and 1 (got {self.target_error!r}); "
                            "write 1% as 0.01")
        if not (_real(self.reviewers) and self.reviewers >= 0):
            problems.append(f"reviewers must be 0 or more (got {self.reviewers!r})")
        if not (_real(self.cases_per_reviewer) and self.cases_per_reviewer >= 0):
            problems.append(f"cases per reviewer must be 0 or more (got {self.cases_per_reviewer!r})")
        if not (_real(self.cases_per_day) and self.cases_per_day > 0):
            problems.append(f"cases per day must be more than 0 (got {self.cases_per_day!r})")
        if problems:
            raise InputError("; ".join(problems), problems=problems)

    @property
    def capacity(self) -> float:
        """Cases the reviewers can look at per day."""
        return float(self.reviewers) * float(self.cases_per_reviewer)

    @property
    def review_share_limit(self) -> float:
        """The largest share of cases the review lane may hold (capacity / volume, at most 1)."""
        return min(1.0, self.capacity / float(self.cases_per_day))

    def __str__(self) -> str:
        if self.method == "target":
            return f"most automation with at most {100 * self.target_error:g}% errors among automated decisions"
        if self.method == "capacity":
            return (f"fewest errors with {self.reviewers:g} reviewers × {self.cases_per_reviewer:,.0f} cases a day, "
                    f"{self.cases_per_day:,.0f} cases a day")
        return "cut-offs set by hand"


@dataclass(frozen=True)
class Lanes:
    """The chosen lanes of a file (saved per file by the Difficulty page; read by Review and Impact).

    ``mode="score"`` (binary): auto-negative when ``score < low``, review when ``low <= score < high``,
    auto-positive when ``score >= high``. ``top_probability``/``margin``: automatic when the value is
    ``>= cutoff``. ``uncertainty``/``error_size``: automatic when the value is ``<= cutoff``.
    ``tolerance`` (regression): a miss larger than this counts as an error.

    >>> print(Lanes("score", low=0.05, high=0.8))
    automatic negative below 0.05; review from 0.05 to below 0.8; automatic positive from 0.8
    """

    mode: str
    low: float | None = None
    high: float | None = None
    cutoff: float | None = None
    tolerance: float | None = None
    policy: LanePolicy = field(default=LanePolicy(method="manual"))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"lanes mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.mode == "score":
            if self.low is None or self.high is None or not (math.isfinite(self.low) and math.isfinite(self.high)):
                raise InputError("binary lanes need two finite cut-offs, low and high")
            if self.low > self.high:
                raise InputError(f"lanes: the low cut-off ({self.low:g}) is above the high cut-off "
                                 f"({self.high:g}); swap them")
        elif self.cutoff is None or math.isnan(self.cutoff):
            raise InputError(f"lanes by {MODES[self.mode]} need one cut-off")
        if self.mode in ("uncertainty", "error_size") and not (self.tolerance is not None and self.tolerance > 0):
            raise InputError("regression lanes need a tolerance above 0: the size of a miss that counts as an error")

    @property
    def two_sided(self) -> bool:
        """True for binary lanes (auto-negative, review, auto-positive)."""
        return self.mode == "score"

    def __str__(self) -> str:
        if self.two_sided:
            return (f"automatic negative below {self.low:.4g}; review from {self.low:.4g} to below {self.high:.4g}; "
                    f"automatic positive from {self.high:.4g}")
        word = "at least" if _SIGN[self.mode] > 0 else "at most"
        text = f"automatic when the {MODES[self.mode]} is {word} {self.cutoff:.4g}; review otherwise"
        if self.tolerance is not None:
            text += f" (an error is a miss larger than {self.tolerance:g})"
        return text


# ---------------------------------------------------------------------------------------------
# modes and defaults
# ---------------------------------------------------------------------------------------------


def available_modes(dataset: Dataset) -> list[str]:
    """The lane modes this Dataset supports, best first (empty when it has no signal of difficulty).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> available_modes(build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7]}), Roles(label="y", score="p")))
    ['score']
    """
    if dataset.task == "binary":
        return ["score"] if dataset.score is not None else []
    if dataset.task == "multiclass":
        return ["top_probability", "margin"] if dataset.proba is not None else []
    return (["uncertainty"] if dataset.roles.uncertainty else []) + ["error_size"]


def unavailable_reason(dataset: Dataset) -> str | None:
    """Why this Dataset has no difficulty lanes (None when it has some).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> print(unavailable_reason(build_dataset(pd.DataFrame({"y": [0, 1], "c": [0, 1]}), Roles(label="y", prediction="c"))))
    difficulty lanes need a score: `c` holds only predicted classes; pick the model's score column in the sidebar
    """
    return None if available_modes(dataset) else _why_no_mode(dataset)


def _why_no_mode(dataset: Dataset) -> str:
    if dataset.task == "binary":
        return (f"difficulty lanes need a score: `{dataset.roles.prediction}` holds only predicted classes; "
                "pick the model's score column in the sidebar")
    return ("difficulty lanes for multiclass need one probability column per class; pick them under "
            "\"Columns and task\" in the sidebar")


def checked_tolerance(tolerance: float | None, default) -> float:
    """Regression's tolerance: ``default()`` when None; above 0, else one clear line."""
    tolerance = default() if tolerance is None else float(tolerance)
    if not tolerance > 0:
        raise InputError(f"tolerance must be above 0 (got {tolerance:g}): the size of a miss that counts as an error")
    return tolerance


def default_tolerance(dataset: Dataset) -> float | None:
    """Regression: the 90th percentile of |prediction − truth|, to two significant digits (else None).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "yhat": [1.5, 2, 1, 4.25]})
    >>> default_tolerance(build_dataset(df, Roles(label="y", prediction="yhat", task="regression")))
    1.6
    """
    if dataset.task != "regression":
        return None
    q = float(np.quantile(np.abs(dataset.prediction - dataset.y), 0.9))
    if not q > 0:
        q = float(np.max(np.abs(dataset.prediction - dataset.y))) or 1.0
    return float(f"{q:.2g}")


#: Fallback target error rate among automated decisions, per task, when the model makes no errors on the file
#: (the default target is derived from the model's own error: :func:`mlimpact.difficulty.derived.default_start`).
DEFAULT_TARGET = {"binary": 0.01, "multiclass": 0.05, "regression": 0.08}
#: Fewer automated cases than this make the error rate's interval wide; the solver says so.
MIN_AUTOMATED = 30


# ---------------------------------------------------------------------------------------------
# operating points
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatingPoint:
    """What a pair of cut-offs does: automated cases, errors among them, cases left for review.

    Intervals are 95% Wilson intervals. ``feasible`` is False when no cut-offs meet the policy.
    """

    lanes: Lanes
    n: int
    automated: int
    errors: int
    review: int
    feasible: bool = True
    note: str = ""

    @property
    def automation_rate(self) -> float:
        return self.automated / self.n if self.n else float("nan")

    @property
    def review_rate(self) -> float:
        return self.review / self.n if self.n else float("nan")

    @property
    def error_rate(self) -> float:
        """Errors among automated decisions (NaN when nothing is automated)."""
        return self.errors / self.automated if self.automated else float("nan")

    @property
    def error_interval(self) -> tuple[float, float]:
        lo, hi = wilson_interval(self.errors, self.automated)
        return float(lo), float(hi)

    @property
    def automation_interval(self) -> tuple[float, float]:
        lo, hi = wilson_interval(self.automated, self.n)
        return float(lo), float(hi)

    def per_day(self, cases_per_day: float) -> dict:
        """Cases automated, sent to review and expected errors per day at ``cases_per_day`` cases a day.

        >>> OperatingPoint(Lanes("score", low=0.1, high=0.9), n=100, automated=80, errors=2, review=20).per_day(1000)
        {'automated': 800.0, 'review': 200.0, 'errors': 20.0}
        """
        if not self.n:
            return {"automated": float("nan"), "review": float("nan"), "errors": float("nan")}
        return {"automated": self.automated / self.n * cases_per_day, "review": self.review / self.n * cases_per_day,
                "errors": self.errors / self.n * cases_per_day}
