"""Acceptable ranges: derived from a reference period or fixed, checked bucket by bucket, and the alerts they raise."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS, Z95, evaluate
from mlimpact.monitoring.estimate import ESTIMATED_METRICS, estimated_over_time
from mlimpact.monitoring.population import (
    POPULATION_BOUNDS,
    POPULATION_METRICS,
    population_over_time,
    psi_column,
)
from mlimpact.monitoring.series import (
    DEFAULT_SETTINGS,
    OVER_TIME_COLUMNS,
    PERIODS,
    SLICES,
    MonitorSettings,
    _check_metrics,
    _reference_end,
    dataset_buckets,
    metrics_over_time,
)
from mlimpact.slices.named import slice_rows

__all__ = ["MonitorSetup", "STATUS_COLUMNS", "Range", "DerivedRanges", "MIN_REFERENCE_BUCKETS", "derive_ranges", "check_ranges", "alert_table", "evaluate_ranges"]


#: fewest reference buckets (not too small) to derive a mean ± k sd range from
MIN_REFERENCE_BUCKETS = 3


#: natural bounds of each metric: a derived bound beyond them is dropped (no check on that side)
_BOUNDS = {m: (0.0, 1.0) for m in METRICS if METRICS[m].kind in ("proportion", "rank")}
_BOUNDS.update({m: (0.0, 1.0) for m in ("f1", "balanced_accuracy", "macro_f1", "weighted_f1", "brier_score")})
_BOUNDS.update({m: (0.0, None) for m in ("log_loss", "mae", "rmse", "mape")})
_BOUNDS.update({"r2": (None, 1.0), "mean_error": (None, None)})
_BOUNDS.update(POPULATION_BOUNDS)


STATUS_COLUMNS = OVER_TIME_COLUMNS + ["min", "max", "status"]


def _unreachable(metric: str, minimum, maximum) -> list[str]:
    """A range that no value of ``metric`` can meet (a precision of at least 2) is a typo, not a check."""
    lo, hi = _BOUNDS[metric]
    if lo is None and hi is None:
        return []
    if lo is not None and hi is not None:
        span = f"{metric} lies between {lo:g} and {hi:g}"
    else:
        span = f"{metric} lies at or above {lo:g}" if lo is not None else f"{metric} lies at or below {hi:g}"
    problems = []
    if minimum is not None and hi is not None and minimum > hi:
        problems.append(f"min {minimum:g} can never be met: {span}")
    if maximum is not None and lo is not None and maximum < lo:
        problems.append(f"max {maximum:g} can never be met: {span}")
    return problems


@dataclass(frozen=True)
class Range:
    """An acceptable range of one metric, optionally per time bucket and per segment (value).

    ``metric``: a model metric (:data:`mlimpact.metrics.METRICS`) or a check on the traffic
    (:data:`mlimpact.monitoring.population.POPULATION_METRICS`: rows, missing_share, unlabelled_share, psi).
    ``period``: ``"D"``, ``"W"``, ``"M"`` or None (the whole file). ``segment``: a column, checked
    per value; ``segment_value``: only that value. ``column``: what psi and missing_share measure.
    ``estimated``: check the performance estimated for the rows without a label (:data:`ESTIMATED_METRICS`)
    instead of the labelled rows'. ``slice``: check only the rows of this slice (an expression, or the name of a
    ``[[slice]]`` of the checks file). ``line``: where it came from in a checks file.

    >>> Range("recall", minimum=0.7, period="W", segment="region", segment_value="west")
    Range(metric='recall', minimum=0.7, maximum=None, period='W', segment='region', segment_value='west', \
column=None, estimated=False, slice=None)
    """

    metric: str
    minimum: float | None = None
    maximum: float | None = None
    period: str | None = None
    segment: str | None = None
    segment_value: str | None = None
    column: str | None = None
    estimated: bool = False
    slice: str | None = None
    line: int | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if self.metric not in METRICS and self.metric not in POPULATION_METRICS:
            problems.append(f"metric {self.metric!r} is not a metric; choose one of {', '.join(METRICS)}, or check "
                            f"the traffic with {', '.join(POPULATION_METRICS)}")
        if self.column is not None and self.metric not in ("psi", "missing_share"):
            problems.append(f"column applies to psi and missing_share checks, not to {self.metric}")
        if self.estimated is not False and (self.estimated is not True or self.metric not in ESTIMATED_METRICS):
            problems.append(f"estimated = true applies to {', '.join(ESTIMATED_METRICS)} (estimated from the scores "
                            f"of the rows without a label); got estimated = {self.estimated!r} for {self.metric}")
        for name in ("minimum", "maximum"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)):
                problems.append(f"{name[:3]} must be a number; got {v!r}")
        if self.minimum is None and self.maximum is None:
            problems.append("give min, max or both")
        elif not problems and self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            problems.append(f"min {self.minimum:g} is greater than max {self.maximum:g}")
        elif not problems and self.metric in _BOUNDS:
            problems += _unreachable(self.metric, self.minimum, self.maximum)
        if self.period is not None and self.period not in PERIODS:
            problems.append(f"period must be one of D (day), W (week), M (month); got {self.period!r}")
        if self.segment_value is not None and self.segment is None:
            problems.append("segment_value needs segment (the column it is a value of)")
        if problems:
            raise InputError("; ".join(problems), problems=problems)


class DerivedRanges(tuple):
    """What :func:`derive_ranges` gives: a tuple of :class:`Range`, plus ``short``, the series left without
    one for want of reference buckets: ``(metric, segment value, usable buckets, reference buckets)`` each
    (usable: big enough to check and with a value; :data:`MIN_REFERENCE_BUCKETS` are needed).

    >>> r = DerivedRanges((), short=[("recall", None, 1, 4)])
    >>> r == (), r.note("week")
    (True, 'No range for recall: the reference period has 1 week big enough to check (of 4); 3 are needed')
    """

    short: tuple = ()

    def __new__(cls, ranges=(), short=()):
        self = super().__new__(cls, ranges)
        self.short = tuple(short)
        return self

    def note(self, unit: str) -> str:
        """One sentence on the series without a range ("" when every series has one)."""
        if not self.short:
            return ""
        usable = [u for _, _, u, _ in self.short]
        total = [t for _, _, _, t in self.short]
        names = list(dict.fromkeys(m if s is None else f"{m} {s}" for m, s, _, _ in self.short))
        who = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        span = f"{min(usable)}" if min(usable) == max(usable) else f"{min(usable)}–{max(usable)}"
        of = f"{min(total)}" if min(total) == max(total) else f"{min(total)}–{max(total)}"
        plural = "" if max(usable) == 1 else "s"
        return (f"No range for {who}: the reference period has {span} {unit}{plural} big enough to check "
                f"(of {of}); {MIN_REFERENCE_BUCKETS} are needed")


@dataclass(frozen=True)
class MonitorSetup:
    """What the Monitoring page checks: the series, how its range is set, and the ranges that gives.

    Saved per file by the page (and read back as its widgets' defaults); the report and
    :func:`evaluate_ranges` need only ``ranges`` and ``settings``.

    >>> MonitorSetup("recall", segment="region").mode
    'reference'
    """

    metric: str
    period: str = "W"  # the page and the report start on :func:`mlimpact.monitoring.default_period`
    segment: str | None = None
    mode: str = "reference"
    k: float = 3.0
    tolerance: float = 0.1
    minimum: float | None = None
    maximum: float | None = None
    reference_end: object = None  # a date; None = the middle of the file's time span
    settings: MonitorSettings = DEFAULT_SETTINGS
    ranges: tuple[Range, ...] = ()


def _tidy_bound(metric: str, value: float, side: int) -> float | None:
    """Round a derived bound to 4 significant digits; None when beyond the metric's natural bound."""
    if value is None or not math.isfinite(value):
        return None
    natural = _BOUNDS.get(metric, (None, None))[side]
    if natural is not None and (value <= natural if side == 0 else value >= natural):
        return None
    return float(f"{value:.4g}")


def _reference_values(dataset: Dataset, table: pd.DataFrame, reference_end, settings) -> pd.DataFrame:
    """Each (metric, segment value)'s metric pooled over the reference period's rows."""

    period = table["period"].iloc[0]
    segment = table["segment_column"].iloc[0]
    buckets = dataset_buckets(dataset, period)
    in_ref = np.append(np.asarray(buckets.ends <= reference_end), False)  # last: rows without a time
    row_ref = in_ref[np.where(buckets.codes < 0, len(in_ref) - 1, buckets.codes)]
    if segment is not None:
        scodes, slabels = dataset.codes(segment)
    else:
        scodes, slabels = np.zeros(dataset.n, dtype=np.int64), [None]
    codes = np.where(row_ref, scodes, len(slabels))
    frames = [evaluate(dataset, threshold=settings.threshold, metrics=[m], codes=codes, n_groups=len(slabels) + 1,
                       intervals=False) for m in table["metric"].unique()]
    ref = pd.concat(frames, ignore_index=True)
    ref = ref[(ref["group"] < len(slabels)) & (ref["n"] > 0)]
    return pd.DataFrame({"metric": ref["metric"].to_numpy(),
                         "segment": np.asarray(slabels, dtype=object)[ref["group"].to_numpy()],
                         "value": ref["value"].to_numpy()})


def derive_ranges(dataset: Dataset, table: pd.DataFrame, *, mode: str = "reference", k: float = 3.0,
                  tolerance: float = 0.1, minimum: float | None = None, maximum: float | None = None,
                  reference_end=None, settings: MonitorSettings = DEFAULT_SETTINGS) -> DerivedRanges:
    """The acceptable ranges for the series in ``table`` (from :func:`metrics_over_time`).

    ``mode``: ``"fixed"`` — ``minimum``/``maximum`` for every segment value; ``"reference"`` — per
    segment value, mean ± ``k`` standard deviations of its reference buckets (at least 3 not too small;
    the sd floored at the median standard error of those buckets, interval width / 3.92);
    ``"relative"`` — per segment value, the metric pooled over the reference period ± ``tolerance`` × |it|.
    Derived bounds are rounded to 4 significant digits; a bound beyond the metric's natural limit (0 or 1
    for a proportion) is dropped, and a series without enough reference data gets no range: the result's
    ``short`` lists it with its counts (:class:`DerivedRanges`), so the caller can say so and offer a fix.
    """
    if table.empty:
        return DerivedRanges()
    period = table["period"].iloc[0]
    segment = table["segment_column"].iloc[0]
    if mode == "fixed":
        if minimum is None and maximum is None:
            return DerivedRanges()
        return DerivedRanges(Range(m, minimum=minimum, maximum=maximum, period=period, segment=segment)
                     for m in table["metric"].unique())
    if mode == "relative" and segment == SLICES:  # the slices overlap: no column to group the reference by
        raise InputError("the reference value ± tolerance is not available per slice; choose the reference period's "
                         "mean ± k sd, or fixed limits")
    if mode not in ("reference", "relative"):
        raise InputError(f"range mode must be fixed, reference or relative; got {mode!r}")
    if not (isinstance(k, int | float) and k > 0) or not (isinstance(tolerance, int | float) and tolerance >= 0):
        raise InputError(f"k must be above 0 and the tolerance at least 0; got k={k!r}, tolerance={tolerance!r}")
    end = _reference_end(dataset, reference_end)
    short = ()
    if mode == "reference":
        ref = table[(table["end"] <= end) & ~table["too_small"] & table["value"].notna()]
        ref = ref.assign(se=(ref["high"] - ref["low"]) / (2 * Z95))
        agg = ref.groupby(["metric", "segment"], dropna=False, sort=False).agg(
            mean=("value", "mean"), std=("value", "std"), count=("value", "size"), se=("se", "median"))
        short = _short_series(table, agg["count"], end)
        agg = agg[agg["count"] >= MIN_REFERENCE_BUCKETS].reset_index()
        sd = np.fmax(agg["std"].to_numpy(float), agg["se"].to_numpy(float))  # never below one bucket's noise
        lo, hi = agg["mean"] - k * sd, agg["mean"] + k * sd
    else:
        agg = _reference_values(dataset, table, end, settings).dropna(subset=["value"])
        lo = agg["value"] - tolerance * agg["value"].abs()
        hi = agg["value"] + tolerance * agg["value"].abs()
    out = []
    for metric, value, a, b in zip(agg["metric"], agg["segment"], lo, hi, strict=True):  # one per series
        mn, mx = _tidy_bound(metric, a, 0), _tidy_bound(metric, b, 1)
        if mn is not None or mx is not None:
            out.append(Range(metric, minimum=mn, maximum=mx, period=period, segment=segment,
                             segment_value=None if segment is None else value))
    return DerivedRanges(out, short=short)


def _short_series(table: pd.DataFrame, usable: pd.Series, end) -> tuple:
    """(metric, segment value, usable reference buckets, reference buckets) of each series with too few."""
    def counts(frame_counts: pd.Series) -> dict:
        return {(m, None if pd.isna(s) else s): int(c) for (m, s), c in frame_counts.items()}

    total = counts(table[table["end"] <= end].groupby(["metric", "segment"], dropna=False, sort=False).size())
    ok = counts(usable)
    series = dict.fromkeys((m, None if pd.isna(s) else s) for m, s in zip(table["metric"], table["segment"],
                                                                           strict=True))
    return tuple((m, s, ok.get((m, s), 0), total.get((m, s), 0)) for m, s in series
                 if ok.get((m, s), 0) < MIN_REFERENCE_BUCKETS)


def check_ranges(table: pd.DataFrame, ranges, *, rule: str = "interval") -> pd.DataFrame:
    """Status of every bucket of ``table`` against the ranges that apply to it.

    Returns :data:`STATUS_COLUMNS`: the table's columns plus ``min``, ``max`` and ``status`` — ``"below"``
    or ``"above"`` (out of range), ``"ok"``, ``"too small"``, ``"n/a"`` (value undefined) or ``"no range"``.
    A range applies to rows with its metric, period and segment column (and segment value, when set);
    a row under two ranges appears twice.
    """
    if rule not in ("interval", "point"):
        raise InputError(f"rule must be \"interval\" or \"point\"; got {rule!r}")
    keys = ["metric", "period", "segment_column"]
    rdf = pd.DataFrame([{"metric": r.metric, "period": r.period, "segment_column": r.segment,
                         "segment": r.segment_value, "min": r.minimum, "max": r.maximum} for r in ranges],
                       columns=keys + ["segment", "min", "max"])
    base = table.reset_index(drop=True).assign(_row=lambda d: np.arange(len(d)))
    filled = base.fillna({"period": "", "segment_column": "", "segment": ""}).astype({"period": object})
    rdf = rdf.astype({"min": float, "max": float}).fillna({"period": "", "segment_column": ""})
    every = rdf[rdf["segment"].isna()].drop(columns="segment")
    one = rdf[rdf["segment"].notna()]
    hits = pd.concat([filled[keys + ["_row"]].merge(every, on=keys),
                      filled[keys + ["segment", "_row"]].merge(one, on=keys + ["segment"])], ignore_index=True)
    out = base.merge(hits[["_row", "min", "max"]], on="_row", how="left").sort_values("_row", kind="stable")
    value = out["value"].to_numpy(dtype=float)
    if rule == "interval":
        lo = np.where(np.isnan(out["low"].to_numpy(float)), value, out["low"].to_numpy(float))
        hi = np.where(np.isnan(out["high"].to_numpy(float)), value, out["high"].to_numpy(float))
    else:
        lo = hi = value
    mn, mx = out["min"].to_numpy(float), out["max"].to_numpy(float)
    below = hi < np.where(np.isnan(mn), -np.inf, mn)
    above = lo > np.where(np.isnan(mx), np.inf, mx)
    status = np.select([np.isnan(mn) & np.isnan(mx), out["too_small"].to_numpy(bool), np.isnan(value), below, above],
                       ["no range", "too small", "n/a", "below", "above"], "ok")
    out["status"] = status
    return out[STATUS_COLUMNS].reset_index(drop=True)


def alert_table(status: pd.DataFrame) -> pd.DataFrame:
    """The out-of-range rows of a :func:`check_ranges` table (same columns), in table order."""
    return status[status["status"].isin(["below", "above"])].reset_index(drop=True)


def evaluate_ranges(dataset: Dataset, ranges, *, settings: MonitorSettings = DEFAULT_SETTINGS,
                    reference_end=None, slices=None) -> pd.DataFrame:
    """:func:`check_ranges` for ranges of any metrics, periods and segments: what ``check`` runs.

    Each (metric, period, segment column) is computed exactly as the page computes it
    (:func:`metrics_over_time` with the same settings), so both give the same alerts; checks on the traffic
    come from :func:`population_over_time` and estimated ones from
    :func:`mlimpact.monitoring.estimate.estimated_over_time` (``reference_end``: the end of the reference
    period PSI and the estimation's calibration use; default the middle of the file's time span). A range with a
    ``slice`` reads that slice's rows (``slices``: name -> expression, else the text is the expression). The
    result has :data:`STATUS_COLUMNS` plus ``column`` (what psi and missing_share measured), ``estimated`` and
    ``slice``.
    """
    ranges = tuple(ranges)
    _check_metrics(dataset, sorted({r.metric for r in ranges if r.metric not in POPULATION_METRICS}))
    slices = dict(slices or {})
    groups = list(dict.fromkeys(_key(r) for r in ranges))
    frames = [check_ranges(_series(_rows(dataset, g[5], slices), g[:5], settings, reference_end),
                           [r for r in ranges if _key(r) == g], rule=settings.rule).assign(
                  column=_measured(dataset, g), estimated=g[4], slice=g[5])
              for g in groups]  # a few series, each one vectorized call
    if not frames:
        return pd.DataFrame(columns=STATUS_COLUMNS + ["column", "estimated", "slice"])
    return pd.concat(frames, ignore_index=True)


def _key(r: Range) -> tuple:
    return r.metric, r.period, r.segment, r.column, r.estimated, r.slice


def _rows(dataset: Dataset, name: str | None, slices: dict) -> Dataset:
    """The rows a check reads: all, or its slice's (a name of ``slices``, else an expression)."""
    if name is None:
        return dataset
    return slice_rows(dataset, slices.get(name, name))


def _measured(dataset: Dataset, group: tuple):
    metric, column = group[0], group[3]
    return psi_column(dataset, column) if metric == "psi" else column


def _series(dataset: Dataset, group: tuple, settings: MonitorSettings, reference_end) -> pd.DataFrame:
    """The metrics-over-time table one group of ranges is checked against (``group``: metric, period, segment,
    column, estimated)."""
    metric, period, segment, column, estimated = group
    if metric in POPULATION_METRICS:
        return population_over_time(dataset, metric, period=period, segment=segment, column=column,
                                    reference_end=reference_end, settings=settings)
    if estimated:
        return estimated_over_time(dataset, metrics=[metric], period=period, segment=segment,
                                   reference_end=reference_end, settings=settings)
    return metrics_over_time(dataset, metrics=metric, period=period, segment=segment, settings=settings)
