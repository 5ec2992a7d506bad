"""Defaults derived from the file: cases per day, the target error rate, and the default policy.

The volume comes from the time column (rows per day over its span) when there is one, else the row count,
said to be a guess. The target is half the model's own error rate when it decides every case (at the
threshold, for a binary score), rounded to one significant digit. When nothing can be automated at that
target but some cut-offs still beat deciding every case, the target is raised just enough to automate them.

>>> import pandas as pd
>>> from mlimpact.io import Roles, build_dataset
>>> frame = pd.DataFrame({"y": [0, 1, 0, 1] * 25, "p": [0.1, 0.9, 0.6, 0.4] * 25,
...                       "t": pd.date_range("2024-01-01", periods=100, freq="12h")})
>>> start = default_start(build_dataset(frame, Roles(label="y", score="p", time="t")), 0.5)
>>> start.per_day, start.model_error, start.policy.target_error
(2, 0.5, 0.2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlimpact import trace
from mlimpact.difficulty.curve import LaneCurve, lane_curve
from mlimpact.difficulty.lanes import DEFAULT_TARGET, MIN_AUTOMATED, LanePolicy, available_modes
from mlimpact.difficulty.solvers import choose_lanes, tradeoff_curve
from mlimpact.difficulty.text import percent
from mlimpact.io import Dataset
from mlimpact.io.dataset import time_span

__all__ = ["DefaultStart", "time_span_days", "volume_per_day", "per_day_of", "model_error_rate", "half_error_target",
           "default_start", "start_from", "default_policy"]


def time_span_days(dataset: Dataset) -> float | None:
    """Days from the first to the last time (plus one when times are whole dates, as the Impact page
    counts them); None without a time column or with fewer than two distinct times."""
    span = time_span(dataset)
    return None if span is None else span[2]


def volume_per_day(dataset: Dataset) -> tuple[int, float | None]:
    """``(cases per day, span in days)``: rows per day over the time column's span, to two significant
    digits (at least 1); without a span, the row count and None (a guess: the file as one day).

    >>> import pandas as pd
    >>> from mlimpact.io import Roles, build_dataset
    >>> volume_per_day(build_dataset(pd.DataFrame({"y": [0, 1] * 5, "p": [0.2, 0.7] * 5}), Roles(label="y", score="p")))
    (10, None)
    """
    return per_day_of(int(dataset.n), time_span_days(dataset))


def per_day_of(n: int, days: float | None) -> tuple[int, float | None]:
    """:func:`volume_per_day` from a row count and a span in days (None: no span)."""
    if days is None or not days > 0:
        return max(int(n), 1), None
    rate = max(round(n / days), 1)
    return max(int(float(f"{rate:.2g}")), 1), days


def model_error_rate(dataset: Dataset, threshold: float | None = None, *, curve: LaneCurve | None = None) -> float:
    """The share of rows the model gets wrong when it decides every case: binary at ``threshold``
    (the dataset's default decision when None), multiclass its top class, regression a miss larger than
    the curve's tolerance (``curve`` or the default one). NaN for an empty file."""
    if dataset.task == "binary":
        predicted = dataset.predicted() if threshold is None else dataset.predicted(threshold)
        return float(np.mean(predicted != dataset.y)) if dataset.n else float("nan")
    curve = curve if curve is not None else lane_curve(dataset, mode=available_modes(dataset)[0])
    return float(curve.cum_bad[-1]) / curve.n if curve.n else float("nan")


def _one_digit(x: float, *, up: bool = False) -> float:
    """``x`` to one significant digit (rounded up when ``up``).

    >>> _one_digit(0.175), _one_digit(0.0086), _one_digit(0.21, up=True)
    (0.2, 0.009, 0.3)
    """
    step = 10.0 ** math.floor(math.log10(x))
    return round((math.ceil(x / step - 1e-9) if up else round(x / step)) * step, 12)


def half_error_target(error: float, task: str) -> float:
    """Half the model's error rate, to one significant digit; :data:`DEFAULT_TARGET` when the model makes
    no errors (or the rate is unknown).

    >>> half_error_target(0.35, "binary"), half_error_target(0.0172, "binary"), half_error_target(0.0, "binary")
    (0.2, 0.009, 0.01)
    """
    if not (error > 0):
        return DEFAULT_TARGET[task]
    return min(_one_digit(error / 2), 0.5)


def _raised_target(curve: LaneCurve, beat: float) -> float | None:
    """The lowest error rate among automated decisions of cut-offs that beat ``beat`` (preferring ones that
    automate at least :data:`MIN_AUTOMATED` cases), rounded up below ``beat``; None when none beat it."""
    frontier = tradeoff_curve(curve)
    better = frontier[frontier["error_rate"] < beat]
    if better.empty:
        return None
    many = better[better["automated"] >= MIN_AUTOMATED]
    rate = float((many if len(many) else better)["error_rate"].min())
    rounded = _one_digit(rate, up=True)
    return rounded if rounded < beat else rate


@dataclass(frozen=True)
class DefaultStart:
    """The default policy with how each part of it was chosen (for the page's caption)."""

    policy: LanePolicy
    per_day: int
    span_days: float | None
    model_error: float
    half_target: float
    raised: bool
    threshold: float | None
    time_column: str | None

    def caption(self, n: int) -> str:
        """How each default was chosen, in plain words (``n``: the file's rows). Holds the time column's
        name: escape it before any Markdown sink."""
        if self.span_days is not None:
            volume = (f"cases per day: {n:,} rows over {self.span_days:,.0f} days of `{self.time_column}` ≈ "
                      f"{self.per_day:,} a day")
        else:
            volume = (f"cases per day: a guess, the file's {n:,} rows as if they were one day (pick a time column "
                      "in the sidebar to use its span)")
        at = f" at threshold {self.threshold:g}" if self.threshold is not None else ""
        target = (f"target: half the model's error rate{at} ({percent(self.model_error)}), rounded: "
                  f"{percent(self.half_target)}")
        if self.raised:
            target += (f"; nothing can be automated at that, so it is raised to {percent(self.policy.target_error)}, "
                       f"still below the {percent(self.model_error)} of deciding every case")
        return f"Defaults from this file: {volume}; {target}."


def default_start(dataset: Dataset, threshold: float | None = None, *, curve: LaneCurve | None = None) -> DefaultStart:
    """The default policy for ``dataset`` and how it was chosen (``curve``: its first mode's lane curve,
    built when not given; ``threshold``: the binary decision's, the dataset's default when None)."""
    trace.count("default_start")
    per_day, days = volume_per_day(dataset)
    if curve is None:
        curve = lane_curve(dataset, mode=available_modes(dataset)[0])
    error = model_error_rate(dataset, threshold, curve=curve)
    return start_from(curve, task=dataset.task, per_day=per_day, days=days, error=error,
                      threshold=threshold if dataset.task == "binary" else None,
                      time_column=dataset.roles.time if days is not None else None)


def start_from(curve: LaneCurve, *, task: str, per_day: int, days: float | None, error: float,
               threshold: float | None, time_column: str | None) -> DefaultStart:
    """:func:`default_start` from what it reads of a file: the one rule, in memory and on the engines."""
    half = half_error_target(error, task)
    policy = LanePolicy(method="target", target_error=half, cases_per_day=per_day)
    raised = False
    if error > 0 and choose_lanes(curve, policy).automated == 0:
        higher = _raised_target(curve, error)
        if higher is not None and higher > half:
            policy, raised = LanePolicy(method="target", target_error=higher, cases_per_day=per_day), True
    return DefaultStart(policy=policy, per_day=per_day, span_days=days, model_error=error, half_target=half,
                        raised=raised, threshold=threshold, time_column=time_column)


def default_policy(dataset: Dataset, threshold: float | None = None, *, curve: LaneCurve | None = None) -> LanePolicy:
    """The policy the pages and the report start from: the most automation under the target of
    :func:`default_start`, at the file's own cases per day."""
    return default_start(dataset, threshold, curve=curve).policy
