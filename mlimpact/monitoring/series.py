"""Monitoring over time: metrics per day, week or month, acceptable ranges, alerts and drift.

A time bucket is one more grouping code: ``bucket × segment`` codes go through
:func:`mlimpact.metrics.evaluate.evaluate` in one vectorized call per metric, so every bucket of every
segment gets its value, 95% interval and support at once. Acceptable ranges are small frozen
:class:`Range` objects (fixed, or derived from a reference period); :func:`check_ranges` turns a
metrics-over-time table plus ranges into a status per bucket. The page and ``python -m mlimpact
check`` (:mod:`mlimpact.monitoring.checks`) call the same functions, so the alerts agree.

Rules (defaults in :class:`MonitorSettings`):

* A bucket is **out of range** when its 95% interval lies entirely outside the range
  (``rule="interval"``, whatever the bucket's size: the interval already accounts for it), or, with
  ``rule="point"``, when its value does.
* A bucket is **too small** (never an alert) when it has fewer than ``min_count`` rows, or, for
  metrics computed on the actual positives (:data:`POSITIVE_SUPPORT`: recall, false negative rate,
  precision, F1, ROC AUC, average precision), fewer than ``min_positives`` positives. Unset (None),
  these are 200 and 20 under the point rule and do not apply under the interval rule, where a bucket
  is too small only when it has no usable interval: none, a zero-width one, or a resampled (bootstrap,
  DeLong) one from fewer than :data:`MIN_RESAMPLED_ROWS` rows.
* The default bucket (:func:`default_period`) is the shortest of day, week and month whose median
  bucket holds ``min_count`` rows (200 when unset), else the month.
* Reference-derived ranges: mean ± k standard deviations of the reference buckets' values (those
  not too small; at least 3), the standard deviation never below the typical standard error of one
  reference bucket (median 95% interval width / 3.92), so a short reference whose few buckets agree by
  chance does not give a needle-thin range; or the pooled reference value ± a relative tolerance. The reference
  period is every bucket that ends on or before ``reference_end`` (default: the middle of the file's
  time span, at midnight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import METRICS, evaluate, metrics_for_task

__all__ = ["SLICES", "PERIODS", "POSITIVE_SUPPORT", "DEFAULT_SETTINGS", "POINT_MIN_COUNT", "POINT_MIN_POSITIVES",
           "MIN_RESAMPLED_ROWS", "default_period", "OVER_TIME_COLUMNS", "MonitorSettings", "TimeBuckets", "time_buckets", "dataset_buckets", "default_reference_end", "time_span", "metrics_over_time",
           "series_table"]

#: bucket codes and their names
PERIODS = {"D": "day", "W": "week", "M": "month"}
#: metrics whose support is the actual positives: too small below ``min_positives`` positives
POSITIVE_SUPPORT = frozenset({"recall", "false_negative_rate", "precision", "f1", "roc_auc", "average_precision"})
#: bootstrap replicates, fixed and without a time budget, so the app and the CLI get identical intervals
N_BOOT = 500
#: the too-small limits when not set: under the point rule, and the bucket size :func:`default_period` aims at
POINT_MIN_COUNT, POINT_MIN_POSITIVES = 200, 20
#: under the interval rule without limits set, fewer rows than this make a bootstrap or DeLong interval unusable
MIN_RESAMPLED_ROWS = 10

#: the ``segment_column`` of the series of named slices (:mod:`mlimpact.monitoring.slice_series`; not a column of
#: any file: it has parentheses)
SLICES = "(saved slices)"

OVER_TIME_COLUMNS = ["metric", "segment_column", "segment", "period", "bucket", "start", "end", "n", "positives",
                     "value", "low", "high", "note", "too_small"]


@dataclass(frozen=True)
class MonitorSettings:
    """How buckets are checked: decision threshold, out-of-range rule, and the too-small limits.

    ``min_count``/``min_positives`` None = not set: :attr:`limits` resolves them per rule.

    >>> MonitorSettings(rule="point").limits, MonitorSettings().limits, MonitorSettings(min_count=50).limits
    ((200, 20), (0, 0), (50, 0))
    """

    threshold: float = DEFAULT_THRESHOLD
    rule: str = "interval"
    min_count: int | None = None
    min_positives: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) \
                or not math.isfinite(self.threshold):
            problems.append(f"threshold must be a number; got {self.threshold!r}")
        if self.rule not in ("interval", "point"):
            problems.append(f"rule must be \"interval\" or \"point\"; got {self.rule!r}")
        for name in ("min_count", "min_positives"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10**12):
                problems.append(f"{name} must be a whole number from 0 to 10^12; got {v!r}")
        if problems:
            raise InputError("; ".join(problems), problems=problems)

    @property
    def limits(self) -> tuple[int, int]:
        """(rows, positives) below which a bucket is too small: as set; unset, 200 and 20 under the point
        rule and 0 under the interval rule (whose interval already accounts for the bucket's size)."""
        point = self.rule == "point"
        return (self.min_count if self.min_count is not None else POINT_MIN_COUNT if point else 0,
                self.min_positives if self.min_positives is not None else POINT_MIN_POSITIVES if point else 0)

    def too_small_words(self, task: str) -> str:
        """Why a bucket is too small, for sentences: ``fewer than 200 rows or 20 positives`` or
        ``no usable 95% interval``."""
        rows, positives = self.limits
        if not rows and not positives:
            return "no usable 95% interval" if self.rule == "interval" else "no value"
        words = [f"fewer than {rows:,} rows"] if rows else []
        words += [f"{positives:,} positives"] if positives and task == "binary" else []
        return " or ".join(words) or "no value"


#: the defaults (threshold 0.5, interval rule, no size limits)
DEFAULT_SETTINGS = MonitorSettings()




# ----------------------------------------------------------------------------- time buckets
@dataclass(frozen=True)
class TimeBuckets:
    """Bucket code per row (-1 where the time is missing), and per bucket its label, start and end."""

    period: str | None
    codes: np.ndarray = field(repr=False)
    labels: tuple[str, ...]
    starts: pd.DatetimeIndex = field(repr=False)
    ends: pd.DatetimeIndex = field(repr=False)


def time_buckets(times, period: str | None) -> TimeBuckets:
    """Day, ISO week (Monday start, ``2026-W15``) or month of each time; ``None`` = one bucket ``all``.

    >>> b = time_buckets(pd.to_datetime(["2026-04-06 10:00", "2026-04-12 23:00", None, "2026-04-13 08:00"]), "W")
    >>> b.codes.tolist(), b.labels
    ([0, 0, -1, 1], ('2026-W15', '2026-W16'))
    """
    t = pd.DatetimeIndex(pd.to_datetime(times)).as_unit("s").tz_localize(None)
    ok = ~t.isna()
    if period is None:
        codes = np.where(ok, 0, -1)
        first = t[ok].min() if ok.any() else pd.NaT
        last = t[ok].max() if ok.any() else pd.NaT
        return TimeBuckets(None, codes, ("all",), pd.DatetimeIndex([first]), pd.DatetimeIndex([last]))
    if period not in PERIODS:
        raise InputError(f"period must be one of D (day), W (week), M (month); got {period!r}")
    values = t.to_numpy()[ok]
    if period == "M":
        start = values.astype("datetime64[M]")
    else:
        days = values.astype("datetime64[D]")
        start = days if period == "D" else days - ((days.astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
    uniq, inverse = np.unique(start, return_inverse=True)
    codes = np.full(len(t), -1, dtype=np.int64)
    codes[ok] = inverse
    starts = pd.DatetimeIndex(uniq.astype("datetime64[s]"))
    if period == "D":
        ends, labels = starts + pd.Timedelta(days=1), starts.strftime("%Y-%m-%d")
    elif period == "W":
        iso = starts.isocalendar()
        ends = starts + pd.Timedelta(days=7)
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    else:
        ends, labels = starts + pd.offsets.MonthBegin(1), starts.strftime("%Y-%m")
    return TimeBuckets(period, codes, tuple(str(s) for s in labels), starts, pd.DatetimeIndex(ends))


def _time_column(dataset: Dataset, why: str) -> pd.Series:
    if dataset.roles.time is None:
        raise InputError(f"{dataset.source}: no time column chosen; {why} needs one (pick the time column, or "
                         "add `time = \"COLUMN\"` to [columns] in checks.toml)")
    return dataset.frame[dataset.roles.time]


def dataset_buckets(dataset: Dataset, period: str | None) -> TimeBuckets:
    """:func:`time_buckets` of the Dataset's time column (all rows in one bucket when ``period`` is None)."""
    if period is None:
        return TimeBuckets(None, np.zeros(dataset.n, dtype=np.int64), ("all",), pd.DatetimeIndex([pd.NaT]),
                           pd.DatetimeIndex([pd.NaT]))  # one bucket; period None
    return time_buckets(_time_column(dataset, "a period").to_numpy(), period)


def time_span(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last time in the Dataset; InputError when no time can be read."""
    t = _time_column(dataset, "monitoring")
    if t.isna().all():
        raise InputError(f"column `{dataset.roles.time}` (time): no value could be read as a date; pick the column "
                         "with the time of each prediction (e.g. 2026-04-06 or 2026-04-06 13:45)")
    return t.min(), t.max()


def default_period(dataset: Dataset, *, metric: str | None = None, segment: str | None = None,
                   settings: MonitorSettings = DEFAULT_SETTINGS) -> str:
    """The bucket the page and the report start on, chosen from the file so that typical buckets are large
    enough to check: the shortest of day, week and month whose median bucket (per ``segment`` value, among
    those with rows) holds ``settings.min_count`` rows (:data:`POINT_MIN_COUNT` when unset) and, for a
    recall-like ``metric`` (:data:`POSITIVE_SUPPORT`), ``min_positives`` actual positives (20 when unset);
    else the month. "W" when the Dataset has no time column (nothing to bucket).
    """
    if dataset.roles.time is None:
        return "W"
    rows = settings.min_count if settings.min_count is not None else POINT_MIN_COUNT
    positives = settings.min_positives if settings.min_positives is not None else POINT_MIN_POSITIVES
    count_positives = dataset.task == "binary" and metric in POSITIVE_SUPPORT
    scodes, slabels = dataset.codes(segment) if segment is not None else (np.zeros(dataset.n, dtype=np.int64), [0])
    for period in ("D", "W"):
        codes = dataset_buckets(dataset, period).codes
        ok = codes >= 0
        cells = codes[ok] * len(slabels) + scodes[ok]
        n = np.bincount(cells)
        enough = len(n[n > 0]) and np.median(n[n > 0]) >= rows
        if enough and count_positives:
            enough = np.median(np.bincount(cells, weights=dataset.y[ok] == 1, minlength=len(n))[n > 0]) >= positives
        if enough:
            return period
    return "M"


def default_reference_end(dataset: Dataset) -> pd.Timestamp:
    """The default end of the reference period: the middle of the time span, at midnight."""
    first, last = time_span(dataset)
    return (first + (last - first) / 2).floor("D")


def _reference_end(dataset: Dataset, reference_end) -> pd.Timestamp:
    return default_reference_end(dataset) if reference_end is None else pd.Timestamp(reference_end)


# ----------------------------------------------------------------------------- metrics over time
def _check_metrics(dataset: Dataset, metrics: list[str]) -> None:
    allowed = metrics_for_task(dataset.task)
    bad = [m for m in metrics if m not in allowed]
    if bad:
        raise InputError(f"metric {', '.join(bad)} does not apply to a {dataset.task} task; choose one of "
                         f"{', '.join(allowed)}")


def metrics_over_time(dataset: Dataset, *, metrics, period: str | None = "W", segment: str | None = None,
                      settings: MonitorSettings = DEFAULT_SETTINGS, seed: int = 0) -> pd.DataFrame:
    """Metrics per time bucket (and per segment value), with 95% intervals, counts and the too-small flag.

    One :func:`mlimpact.metrics.evaluate.evaluate` call per metric over ``bucket × segment`` codes (one metric
    per call keeps every bootstrap interval independent of which other metrics were asked for).

    Parameters
    ----------
    metrics: a metric name or a list of them (for the Dataset's task).
    period: ``"D"``, ``"W"``, ``"M"``, or None for the whole file as one bucket.
    segment: a column to split by (every value), or None for all rows.
    settings: threshold and the too-small limits.

    Returns
    -------
    DataFrame with :data:`OVER_TIME_COLUMNS`, one row per (metric, segment value, bucket) that has rows;
    ``segment_column``/``segment`` are None without a segment; ``period`` is the bucket kind; ``bucket``
    its label; rows whose time is missing are left out.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> df = pd.DataFrame({"y": [1, 1, 0, 1], "p": [0.9, 0.2, 0.1, 0.8],
    ...                    "t": ["2026-04-06", "2026-04-07", "2026-04-14", "2026-04-15"]})
    >>> ds = build_dataset(df, Roles(label="y", score="p", time="t"))
    >>> point = MonitorSettings(rule="point")  # too small below 200 rows; the interval rule has no such limit
    >>> metrics_over_time(ds, metrics="recall", settings=point)[["bucket", "n", "value", "too_small"]].values.tolist()
    [['2026-W15', 2, 0.5, True], ['2026-W16', 2, 1.0, True]]
    """
    trace.count("metrics_over_time")

    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    _check_metrics(dataset, metrics)
    buckets = dataset_buckets(dataset, period)
    B = len(buckets.labels)
    if segment is not None:
        scodes, slabels = dataset.codes(segment)
    else:
        scodes, slabels = np.zeros(dataset.n, dtype=np.int64), [None]
    S = len(slabels)
    codes = np.where(buckets.codes < 0, B, buckets.codes) * S + scodes  # missing times: one extra bucket, dropped
    parts = [evaluate(dataset, threshold=settings.threshold, metrics=[m], codes=codes, n_groups=(B + 1) * S,
                      seed=seed, n_boot=N_BOOT, time_budget_s=None) for m in metrics]
    t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "n", "metric"])
    return series_table(t, buckets, slabels, segment=segment, settings=settings, task=dataset.task)


def series_table(t: pd.DataFrame, buckets: TimeBuckets, slabels, *, segment: str | None, settings: MonitorSettings,
                 task: str) -> pd.DataFrame:
    """:data:`OVER_TIME_COLUMNS` from a metrics table over ``bucket * S + segment`` group codes (bucket B, one
    past the last, holds the rows without a time and is dropped), for the memory path and the engines."""
    B, S = len(buckets.labels), len(slabels)
    t = t[(t["group"] < B * S) & (t["n"] > 0)]
    b, s = (t["group"] // S).to_numpy(), (t["group"] % S).to_numpy()
    small = _too_small(t, settings, task)
    out = pd.DataFrame({
        "metric": t["metric"].to_numpy(), "segment_column": segment,
        "segment": np.asarray(slabels, dtype=object)[s], "period": buckets.period,
        "bucket": np.asarray(buckets.labels, dtype=object)[b], "start": buckets.starts[b], "end": buckets.ends[b],
        "n": t["n"].to_numpy(), "positives": t["positives"].to_numpy(), "value": t["value"].to_numpy(),
        "low": t["low"].to_numpy(), "high": t["high"].to_numpy(), "note": t["note"].to_numpy(), "too_small": small,
    })
    return out.sort_values(["metric", "segment", "start"], kind="stable", na_position="first",
                           ignore_index=True)[OVER_TIME_COLUMNS]


def _too_small(t: pd.DataFrame, settings: MonitorSettings, task: str) -> np.ndarray:
    """The too-small flag of each evaluated group (see the module's rules)."""
    rows, positives = settings.limits
    n = t["n"].to_numpy()
    small = n < rows
    if task == "binary":
        small |= t["metric"].isin(POSITIVE_SUPPORT).to_numpy() & (t["positives"].to_numpy() < positives)
    if settings.rule == "interval":  # the check reads the interval: one that is missing or zero-width cannot
        low, high = t["low"].to_numpy(float), t["high"].to_numpy(float)
        small |= t["value"].notna().to_numpy() & ~(high > low)
        if settings.min_count is None:  # a bootstrap or DeLong interval from a handful of rows means little
            resampled = t["metric"].map(lambda m: METRICS[m].interval != "wilson").to_numpy(bool)
            small |= resampled & (n < MIN_RESAMPLED_ROWS)
    return small


# ----------------------------------------------------------------------------- ranges


# ----------------------------------------------------------------------------- drift


