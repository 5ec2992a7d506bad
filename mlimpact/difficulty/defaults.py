"""The lanes in use for a file: the ones chosen on the Difficulty page while they still fit, else the default.

One place decides this for the Difficulty page, the Review page and the report. The default is the most
automation under :func:`~mlimpact.difficulty.derived.default_policy` (a target from the model's own error,
the file's own cases per day), on the first available mode. Pass the threshold in use to every call, so the
page, the Review page and the report agree.

>>> import pandas as pd
>>> from mlimpact.io import Roles, build_dataset
>>> ds = build_dataset(pd.DataFrame({"y": [0, 1] * 50, "p": [0.1, 0.9] * 50}), Roles(label="y", score="p"))
>>> used = lanes_in_use(ds)
>>> used.is_default, used.lanes.mode, used.point.errors
(True, 'score', 0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlimpact.difficulty.curve import LaneCurve, lane_curve
from mlimpact.difficulty.derived import default_policy
from mlimpact.difficulty.lanes import LanePolicy, Lanes, OperatingPoint, available_modes
from mlimpact.difficulty.solvers import choose_lanes, evaluate_lanes
from mlimpact.io import Dataset

__all__ = ["CurveOf", "LanesInUse", "saved_lanes", "start_policy", "default_point", "lanes_in_use", "manual_start"]

#: ``curve_of(mode, tolerance)`` returns the lane curve of a dataset (pages pass a memoised one).
CurveOf = Callable[[str, "float | None"], LaneCurve]


@dataclass(frozen=True)
class LanesInUse:
    """The lanes in use with the curve they were read on and what they do there."""

    curve: LaneCurve
    point: OperatingPoint
    is_default: bool

    @property
    def lanes(self) -> Lanes:
        return self.point.lanes


def saved_lanes(dataset: Dataset, saved: Lanes | None) -> Lanes | None:
    """``saved`` when its mode is still available for ``dataset`` (roles may have changed), else None."""
    return saved if saved is not None and saved.mode in available_modes(dataset) else None


def start_policy(dataset: Dataset, saved: Lanes | None, threshold: float | None = None, *,
                 curve: LaneCurve | None = None) -> LanePolicy:
    """The policy the Difficulty page's controls start from: the saved lanes' policy, else the default
    (``curve``: the first mode's lane curve, when the caller has it)."""
    return saved.policy if saved is not None else default_policy(dataset, threshold, curve=curve)


def default_point(dataset: Dataset, curve: LaneCurve, threshold: float | None = None) -> OperatingPoint:
    """The most automation under the default policy, on ``curve``."""
    return choose_lanes(curve, default_policy(dataset, threshold, curve=curve))


def _curve_of(dataset: Dataset) -> CurveOf:
    return lambda mode, tolerance: lane_curve(dataset, mode=mode, tolerance=tolerance)


def lanes_in_use(dataset: Dataset, saved: Lanes | None = None, *, curve_of: CurveOf | None = None,
                 threshold: float | None = None) -> LanesInUse:
    """The saved lanes (see :func:`saved_lanes`) evaluated on their curve, or the default lanes.

    ``curve_of(mode, tolerance)`` builds the lane curve (default: :func:`lane_curve` on ``dataset``);
    ``threshold``: the binary decision the default target is derived from.
    """
    curve_of = curve_of or _curve_of(dataset)
    lanes = saved_lanes(dataset, saved)
    if lanes is None:
        curve = curve_of(available_modes(dataset)[0], None)
        return LanesInUse(curve, default_point(dataset, curve, threshold), True)
    curve = curve_of(lanes.mode, lanes.tolerance)
    return LanesInUse(curve, evaluate_lanes(curve, lanes), False)


def manual_start(dataset: Dataset, saved: Lanes | None, curve: LaneCurve, *, solve=None,
                 threshold: float | None = None) -> Lanes:
    """Where hand-set cut-offs start: the saved lanes if they are on this curve's mode and tolerance,
    else the default lanes on ``curve`` (``solve(curve, policy)`` may be a memoised :func:`choose_lanes`)."""
    if saved is not None and saved.mode == curve.mode and saved.tolerance == curve.tolerance:
        return saved
    return (solve or choose_lanes)(curve, default_policy(dataset, threshold, curve=curve)).lanes
