"""Results several pages share, memoised per session (:func:`ui.state.memo`) under one spelling of each key.

Keys start with what is computed, then the file's content hash and roles, then the settings, so a result
computed on one page is reused on another and forgotten with its file.
"""

from __future__ import annotations

import logging
import os

from mlimpact import compare, impact, slices
from mlimpact import difficulty as dif
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


def lane_curve_job(ds: Dataset, mode: str, tolerance: float | None) -> tuple:
    """The file's lane curve for one difficulty mode (and regression tolerance), as (key, compute)."""
    return ("lane_curve", ds.content_hash, ds.roles, mode, tolerance), lambda: dif.lane_curve(ds, mode=mode,
                                                                                              tolerance=tolerance)


def lane_curve(ds: Dataset, mode: str, tolerance: float | None) -> dif.LaneCurve:
    """:func:`lane_curve_job`, memoised."""
    return state.memo(*lane_curve_job(ds, mode, tolerance))


def frontier_key(ds: Dataset, mode: str, tolerance: float | None) -> tuple:
    """The Difficulty page's trade-off curve (``dif.tradeoff_curve`` of the lane curve)."""
    return ("lane_frontier", ds.content_hash, ds.roles, mode, tolerance)


def curve_of(ds: Dataset) -> dif.CurveOf:
    """:func:`lane_curve` for ``ds`` as ``curve_of(mode, tolerance)``, for :func:`mlimpact.difficulty.lanes_in_use`."""
    return lambda mode, tolerance: lane_curve(ds, mode, tolerance)


def default_start_job(ds: Dataset, threshold: float, curve_of: dif.CurveOf) -> tuple:
    """The Difficulty page's default policy and how it was chosen at ``threshold`` (on the first mode's curve,
    ``curve_of(mode, tolerance)``), as (key, compute)."""
    return (("dif_start", ds.content_hash, ds.roles, float(threshold)),
            lambda: dif.default_start(ds, threshold, curve=curve_of(dif.available_modes(ds)[0], None)))


def default_start(ds: Dataset, threshold: float) -> dif.DefaultStart:
    """:func:`default_start_job`, memoised."""
    return state.memo(*default_start_job(ds, threshold, curve_of(ds)))


def lanes_in_use_job(ds: Dataset, saved, threshold: float, curve_of: dif.CurveOf) -> tuple:
    """The lanes the Review page uses at ``threshold`` (the user's, else the default: the Difficulty page's first
    answer), as (key, compute)."""
    return (("lanes_in_use", ds.content_hash, ds.roles, saved, float(threshold)),
            lambda: dif.lanes_in_use(ds, saved, curve_of=curve_of, threshold=threshold))


def lanes_in_use(ds: Dataset, saved, threshold: float) -> dif.LanesInUse:
    """:func:`lanes_in_use_job`, memoised."""
    return state.memo(*lanes_in_use_job(ds, saved, threshold, curve_of(ds)))


def solve_job(ds: Dataset, curve: dif.LaneCurve, policy: dif.LanePolicy) -> tuple:
    """The operating point a policy chooses on ``curve``, as (key, compute)."""
    return (("lane_solve", ds.content_hash, ds.roles, curve.mode, curve.tolerance, policy),
            lambda: dif.choose_lanes(curve, policy))


def solve(ds: Dataset, curve: dif.LaneCurve, policy: dif.LanePolicy) -> dif.OperatingPoint:
    """:func:`solve_job`, memoised."""
    return state.memo(*solve_job(ds, curve, policy))


def weak_slices_job(ds: Dataset, threshold: float, *, kind: str, max_level: int = 3, scoring: str = "balanced",
                    alpha: float = 0.95, progress=None) -> tuple:
    """The Segments page's weak-slice search (defaults: the page's) as a (key, compute) pair for :func:`ui.state.memo`."""
    key = ("weak_slices", ds.content_hash, ds.roles, threshold, kind, int(max_level), scoring, float(alpha))
    return key, lambda: slices.search_weak_slices(ds, kind=kind, threshold=threshold, max_level=int(max_level),
                                                  scoring=scoring, alpha=float(alpha), k=10, time_budget_s=30.0,
                                                  progress=progress)


def compare_money(ds: Dataset) -> tuple:
    """The money the Compare page puts on each model: (costs, scale, unit), the Impact page's when set."""
    options = state.impact_options(ds.content_hash)
    if ds.task != "binary" or ds.score is None:
        return None, None, options.get("unit", "")
    costs = state.setting(state.COSTS, ds.content_hash) or impact.default_costs(ds)
    return costs, impact.saved_scale(ds, options), options.get("unit", "")


def compare_job(ds: Dataset, threshold: float, segment: str | None, costs, scale) -> tuple:
    """The Compare page's comparison as a (key, compute) pair for :func:`ui.state.memo`."""
    key = ("compare", ds.content_hash, ds.roles, float(threshold), segment, costs, scale)
    return key, lambda: compare.compare_models(ds, threshold=threshold, segment=segment, costs=costs, scale=scale,
                                               time_budget_s=2.0)


def impact_job(ds: Dataset, threshold: float, costs, *, lanes, rule: str, segment: str | None, scale: str | None,
               unit: str) -> tuple:
    """The Impact page's analysis as a (key, compute) pair for :func:`ui.state.memo`."""
    key = ("impact", ds.content_hash, ds.roles, float(threshold), costs, lanes, rule.strip(), segment, scale, unit)
    return key, lambda: impact.analyze_impact(ds, costs, threshold=threshold, lanes=lanes, rule=rule.strip() or None,
                                              segment=segment, scale=scale, unit=unit, time_budget_s=5.0)


def impact_defaults(ds: Dataset, threshold: float) -> tuple:
    """:func:`impact_job` at the settings the Impact page opens with (a binary file)."""
    options = state.impact_options(ds.content_hash)
    costs = state.setting(state.COSTS, ds.content_hash) or impact.default_costs(ds)
    scale = impact.scale_of(impact.start_scale(options, impact.detect_period(ds)))
    segments = slices.role_segments(ds)
    start = impact.start_segment(options, state.preferred_segment_column(), segments)
    segment = start if start in segments else (segments[0] if segments else None)  # the page's selectbox
    return impact_job(ds, threshold, costs, lanes=impact.lanes_from(state.setting(state.LANES, ds.content_hash)),
                      rule=options.get("rule", default_rule(ds)), segment=segment, scale=scale,
                      unit=options.get("unit", ""))


def _warm_up_rows(value: str) -> int | None:
    """``MLIMPACT_WARM_UP_ROWS``: a row count (``200000``, ``200_000`` or ``200,000``), or ``off`` (also 0 or less);
    anything else keeps the default, with a warning in the server's log."""
    text = value.strip().lower().replace("_", "").replace(",", "")
    if text in ("off", ""):
        return None
    try:
        rows = int(float(text))
    except ValueError:
        logging.getLogger(__name__).warning("MLIMPACT_WARM_UP_ROWS=%r is not a row count or 'off': using %d",
                                            value, DEFAULT_WARM_UP_ROWS)
        return DEFAULT_WARM_UP_ROWS
    return rows if rows > 0 else None


DEFAULT_WARM_UP_ROWS = 200_000
_WARMING: dict = {}  # file (content hash) -> its warm-up thread: one at a time per file, whoever started it


#: files from this many rows on get their heaviest first visits computed in the background once loaded
#: (``MLIMPACT_WARM_UP_ROWS`` sets another threshold; ``off`` turns it off). Five sessions on a 1M-row file: median
#: page 2.7-4.7 s with it, 3.7 s without; 95th percentile 5.9-6.5 s with it, 9.7 s without (README, Live)
WARM_UP_ROWS = _warm_up_rows(os.environ.get("MLIMPACT_WARM_UP_ROWS", str(DEFAULT_WARM_UP_ROWS)))


def warm_up(ds: Dataset, threshold: float) -> None:
    """Once per file and roles in a session, from the Overview: what the first visits of Segments
    (weak slices), Difficulty (lanes and trade-off, classification), Impact (binary) and Compare compute at their
    default settings, in the background in page order (:func:`ui.state.prefetch_steps`) while the Overview is
    read, so those visits find it (or wait for it) on a large file. Smaller files compute them on the visit quickly enough; ``ui.state.PREFETCH_MAX = 0``
    turns background work off."""
    done = state.warmed_up()
    marker = ("warm_up", ds.content_hash, ds.roles)  # once: a moved threshold's visits compute what they need
    if WARM_UP_ROWS is None or len(ds.frame) < WARM_UP_ROWS or state.PREFETCH_MAX == 0 or marker in done:
        return
    running = _WARMING.get(ds.content_hash)
    if running is not None and running.is_alive():  # another session's: one at a time per file
        return
    done.add(marker)

    def put(job):
        return lambda store: store.result(*job)

    steps = [put(weak_slices_job(ds, threshold, kind=slices.error_kinds(ds.task)[0]))]
    if ds.task != "regression" and not dif.unavailable_reason(ds):
        mode = dif.available_modes(ds)[0]

        def lanes(store):  # the curve, its trade-off and default lanes (Difficulty's first answer, Review's lanes)
            curve = store.result(*lane_curve_job(ds, mode, None))
            store.result(frontier_key(ds, mode, None), lambda: dif.tradeoff_curve(curve))
            def curves(m, tolerance):  # the lane curves, from the store (this thread has no session)
                return store.result(*lane_curve_job(ds, m, tolerance))

            start = store.result(*default_start_job(ds, threshold, curves))
            store.result(*solve_job(ds, curve, start.policy))
            store.result(*lanes_in_use_job(ds, None, threshold, curves))

        steps.append(lanes)
    if ds.task == "binary" and not impact.unavailable_reason(ds):
        steps.append(put(impact_defaults(ds, threshold)))
    if len(compare.model_columns(ds)) >= 2:
        segment = impact.start_segment({}, state.preferred_segment_column(), slices.role_segments(ds))
        steps.append(put(compare_job(ds, threshold, segment, *compare_money(ds)[:2])))
    _WARMING[ds.content_hash] = state.prefetch_steps(ds.content_hash, steps)
