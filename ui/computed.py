"""Results several pages share, memoised per session (:func:`ui.state.memo`) under one spelling of each key.

Keys start with what is computed, then the file's content hash and roles, then the settings, so a result
computed on one page is reused on another and forgotten with its file.
"""

from __future__ import annotations

from mlimpact import difficulty as dif
from mlimpact import impact
from mlimpact.io import Dataset
from mlimpact.metrics import default_metrics, evaluate
from mlimpact.slices import SegmentCodes
from mlimpact.slices import segment_codes as _segment_codes

from . import state


def overall(ds: Dataset, threshold: float):
    """Every default metric of the file over all rows (the Overview's table)."""
    return state.memo(("overall", ds.content_hash, ds.roles, threshold),
                      lambda: evaluate(ds, threshold=threshold, metrics=default_metrics(ds)))


def segment_codes(ds: Dataset, column: str) -> SegmentCodes:
    """One column's segment codes with the default binning (as the Segments page labels them)."""
    return state.memo(("segment_codes", ds.content_hash, ds.roles, column), lambda: _segment_codes(ds, [column]))


def default_rule(ds: Dataset) -> str:
    """The rule the Impact page offers first (about the 99th percentile of the amount): computed once per file."""
    return state.memo(("default_rule", ds.content_hash, ds.roles), lambda: impact.default_rule(ds))


def lane_curve(ds: Dataset, mode: str, tolerance: float | None) -> dif.LaneCurve:
    """The file's lane curve for one difficulty mode (and regression tolerance)."""
    return state.memo(("lane_curve", ds.content_hash, ds.roles, mode, tolerance),
                      lambda: dif.lane_curve(ds, mode=mode, tolerance=tolerance))


def curve_of(ds: Dataset) -> dif.CurveOf:
    """:func:`lane_curve` for ``ds`` as ``curve_of(mode, tolerance)``, for :func:`mlimpact.difficulty.lanes_in_use`."""
    return lambda mode, tolerance: lane_curve(ds, mode, tolerance)


def solve(ds: Dataset, curve: dif.LaneCurve, policy: dif.LanePolicy) -> dif.OperatingPoint:
    """The operating point a policy chooses on ``curve``."""
    return state.memo(("lane_solve", ds.content_hash, ds.roles, curve.mode, curve.tolerance, policy),
                      lambda: dif.choose_lanes(curve, policy))
