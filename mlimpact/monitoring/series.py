"""Monitoring over time: metrics per day, week or month, acceptable ranges, alerts and drift.

A time bucket is one more grouping code: ``bucket × segment`` codes go through
:func:`mlimpact.metrics.evaluate.evaluate` in one vectorized call per metric, so every bucket of every
segment gets its value, 95% interval and support at once. Acceptable ranges are small frozen
:class:`Range` objects (fixed, or derived from a reference period); :func:`check_ranges` turns a
metrics-over-time table plus ranges into a status per bucket. The page and ``python -m mlimpact
check`` (:mod:`mlimpact.monitoring.checks`) call the same functions, so the alerts agree.

Rules (defaults in :class:`MonitorSettings`):

* A bucket is **too small** (never an alert) when it has fewer than ``min_count`` rows (200), or,
  for metrics computed on the actual positives (:data:`POSITIVE_SUPPORT`: recall, false negative
  rate, precision, F1, ROC AUC, average precision), fewer than ``min_positives`` positives (20).
* A bucket is **out of range** when its 95% interval lies entirely outside the range
  (``rule="interval"``), or, with ``rule="point"``, when its value does.
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

from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import METRICS, Z95, metrics_for_task, wilson_interval

__all__ = ["PERIODS", "POSITIVE_SUPPORT", "DEFAULT_SETTINGS", "OVER_TIME_COLUMNS", "STATUS_COLUMNS", "DRIFT_COLUMNS", "MonitorSettings",
           "MonitorSetup", "Range", "TimeBuckets", "time_buckets", "dataset_buckets", "default_reference_end", "time_span",
           "metrics_over_time", "derive_ranges", "check_ranges", "alert_table", "evaluate_ranges", "violation_line",
           "describe_alerts", "drift_over_time", "population_stability_index"]

#: bucket codes and their names
PERIODS = {"D": "day", "W": "week", "M": "month"}
#: metrics whose support is the actual positives: too small below ``min_positives`` positives
POSITIVE_SUPPORT = frozenset({"recall", "false_negative_rate", "precision", "f1", "roc_auc", "average_precision"})
#: bootstrap replicates, fixed and without a time budget, so the app and the CLI get identical intervals
N_BOOT = 500
#: fewest reference buckets (not too small) to derive a mean ± k sd range from
MIN_REFERENCE_BUCKETS = 3
#: natural bounds of each metric: a derived bound beyond them is dropped (no check on that side)
_BOUNDS = {m: (0.0, 1.0) for m in METRICS if METRICS[m].kind in ("proportion", "rank")}
_BOUNDS.update({m: (0.0, 1.0) for m in ("f1", "balanced_accuracy", "macro_f1", "weighted_f1", "brier_score")})
_BOUNDS.update({m: (0.0, None) for m in ("log_loss", "mae", "rmse", "mape")})
_BOUNDS.update({"r2": (None, 1.0), "mean_error": (None, None)})

OVER_TIME_COLUMNS = ["metric", "segment_column", "segment", "period", "bucket", "start", "end", "n", "positives",
                     "value", "low", "high", "note", "too_small"]
STATUS_COLUMNS = OVER_TIME_COLUMNS + ["min", "max", "status"]
DRIFT_COLUMNS = ["period", "bucket", "start", "end", "n", "reference", "score_psi", "label_psi", "label_mean",
                 "label_low", "label_high"]


@dataclass(frozen=True)
class MonitorSettings:
    """How buckets are checked: decision threshold, out-of-range rule, and the too-small limits.

    >>> MonitorSettings(rule="point").min_count
    200
    """

    threshold: float = DEFAULT_THRESHOLD
    rule: str = "interval"
    min_count: int = 200
    min_positives: int = 20

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) \
                or not math.isfinite(self.threshold):
            problems.append(f"threshold must be a number; got {self.threshold!r}")
        if self.rule not in ("interval", "point"):
            problems.append(f"rule must be \"interval\" or \"point\"; got {self.rule!r}")
        for name in ("min_count", "min_positives"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(f"{name} must be a whole number of at least 0; got {v!r}")
        if problems:
            raise InputError("; ".join(problems), problems=problems)


@dataclass(frozen=True)
class Range:
    """An acceptable range of one metric, optionally per time bucket and per segment (value).

    ``period``: ``"D"``, ``"W"``, ``"M"`` or None (the whole file). ``segment``: a column, checked
    per value; ``segment_value``: only that value. ``line``: where it came from in a checks file.

    >>> Range("recall", minimum=0.7, period="W", segment="region", segment_value="west")
    Range(metric='recall', minimum=0.7, maximum=None, period='W', segment='region', segment_value='west')
    """

    metric: str
    minimum: float | None = None
    maximum: float | None = None
    period: str | None = None
    segment: str | None = None
    segment_value: str | None = None
    line: int | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if self.metric not in METRICS:
            problems.append(f"metric {self.metric!r} is not a metric; choose one of {', '.join(METRICS)}")
        for name in ("minimum", "maximum"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)):
                problems.append(f"{name[:3]} must be a number; got {v!r}")
        if self.minimum is None and self.maximum is None:
            problems.append("give min, max or both")
        elif not problems and self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            problems.append(f"min {self.minimum:g} is greater than max {self.maximum:g}")
        if self.period is not None and self.period not in PERIODS:
            problems.append(f"period must be one of D (day), W (week), M (month); got {self.period!r}")
        if self.segment_value is not None and self.segment is None:
            problems.append("segment_value needs segment (the column it is a value of)")
        if problems:
            raise InputError("; ".join(problems), problems=problems)


#: the defaults (200 rows, 20 positives, threshold 0.5, interval rule)
DEFAULT_SETTINGS = MonitorSettings()


@dataclass(frozen=True)
class MonitorSetup:
    """What the Monitoring page checks: the series, how its range is set, and the ranges that gives.

    Saved per file by the page (and read back as its widgets' defaults); the report and
    :func:`evaluate_ranges` need only ``ranges`` and ``settings``.

    >>> MonitorSetup("recall", segment="region").mode
    'reference'
    """

    metric: str
    period: str = "W"
    segment: str | None = None
    mode: str = "reference"
    k: float = 3.0
    tolerance: float = 0.1
    minimum: float | None = None
    maximum: float | None = None
    reference_end: object = None  # a date; None = the middle of the file's time span
    settings: MonitorSettings = DEFAULT_SETTINGS
    ranges: tuple[Range, ...] = ()


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
                           pd.DatetimeIndex([pd.NaT]))
    return time_buckets(_time_column(dataset, "a period").to_numpy(), period)


def time_span(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last time in the Dataset; InputError when no time can be read."""
    t = _time_column(dataset, "monitoring")
    if t.isna().all():
        raise InputError(f"column `{dataset.roles.time}` (time): no value could be read as a date; pick the column "
                         "with the time of each prediction (e.g. 2026-04-06 or 2026-04-06 13:45)")
    return t.min(), t.max()


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
    >>> metrics_over_time(ds, metrics="recall")[["bucket", "n", "value", "too_small"]].values.tolist()
    [['2026-W15', 2, 0.5, True], ['2026-W16', 2, 1.0, True]]
    """
    from mlimpact.metrics import evaluate

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
    t = t[(t["group"] < B * S) & (t["n"] > 0)]
    b, s = (t["group"] // S).to_numpy(), (t["group"] % S).to_numpy()
    small = t["n"].to_numpy() < settings.min_count
    if dataset.task == "binary":
        small |= t["metric"].isin(POSITIVE_SUPPORT).to_numpy() & (t["positives"].to_numpy() < settings.min_positives)
    out = pd.DataFrame({
        "metric": t["metric"].to_numpy(), "segment_column": segment,
        "segment": np.asarray(slabels, dtype=object)[s], "period": period,
        "bucket": np.asarray(buckets.labels, dtype=object)[b], "start": buckets.starts[b], "end": buckets.ends[b],
        "n": t["n"].to_numpy(), "positives": t["positives"].to_numpy(), "value": t["value"].to_numpy(),
        "low": t["low"].to_numpy(), "high": t["high"].to_numpy(), "note": t["note"].to_numpy(), "too_small": small,
    })
    return out.sort_values(["metric", "segment", "start"], kind="stable", na_position="first",
                           ignore_index=True)[OVER_TIME_COLUMNS]


# ----------------------------------------------------------------------------- ranges
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
    from mlimpact.metrics import evaluate

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
                  reference_end=None, settings: MonitorSettings = DEFAULT_SETTINGS) -> tuple[Range, ...]:
    """The acceptable ranges for the series in ``table`` (from :func:`metrics_over_time`).

    ``mode``: ``"fixed"`` — ``minimum``/``maximum`` for every segment value; ``"reference"`` — per
    segment value, mean ± ``k`` standard deviations of its reference buckets (at least 3 not too small;
    the sd floored at the median standard error of those buckets, interval width / 3.92);
    ``"relative"`` — per segment value, the metric pooled over the reference period ± ``tolerance`` × |it|.
    Derived bounds are rounded to 4 significant digits; a bound beyond the metric's natural limit (0 or 1
    for a proportion) is dropped, and a series without enough reference data gets no range.
    """
    if table.empty:
        return ()
    period = table["period"].iloc[0]
    segment = table["segment_column"].iloc[0]
    if mode == "fixed":
        if minimum is None and maximum is None:
            return ()
        return tuple(Range(m, minimum=minimum, maximum=maximum, period=period, segment=segment)
                     for m in table["metric"].unique())
    if mode not in ("reference", "relative"):
        raise InputError(f"range mode must be fixed, reference or relative; got {mode!r}")
    if not (isinstance(k, int | float) and k > 0) or not (isinstance(tolerance, int | float) and tolerance >= 0):
        raise InputError(f"k must be above 0 and the tolerance at least 0; got k={k!r}, tolerance={tolerance!r}")
    end = _reference_end(dataset, reference_end)
    if mode == "reference":
        ref = table[(table["end"] <= end) & ~table["too_small"] & table["value"].notna()]
        ref = ref.assign(se=(ref["high"] - ref["low"]) / (2 * Z95))
        agg = ref.groupby(["metric", "segment"], dropna=False, sort=False).agg(
            mean=("value", "mean"), std=("value", "std"), count=("value", "size"), se=("se", "median"))
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
    return tuple(out)


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


def evaluate_ranges(dataset: Dataset, ranges, *, settings: MonitorSettings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """:func:`check_ranges` for ranges of any metrics, periods and segments: what ``check`` runs.

    Each (metric, period, segment column) is computed exactly as the page computes it
    (:func:`metrics_over_time` with the same settings), so both give the same alerts.
    """
    ranges = tuple(ranges)
    _check_metrics(dataset, sorted({r.metric for r in ranges}))
    groups = list(dict.fromkeys((r.metric, r.period, r.segment) for r in ranges))
    frames = [check_ranges(metrics_over_time(dataset, metrics=m, period=p, segment=s, settings=settings),
                           [r for r in ranges if (r.metric, r.period, r.segment) == (m, p, s)], rule=settings.rule)
              for m, p, s in groups]  # a few (metric, period, segment) series, each one vectorized call
    if not frames:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _num(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}" if abs(x) < 100 \
        else f"{x:,.1f}"


def violation_line(row) -> str:
    """One line per violation: metric, segment value, bucket, value (interval), and the bound it broke.

    >>> violation_line({"metric": "recall", "segment_column": "region", "segment": "west", "bucket": "2026-W15",
    ...                 "value": 0.122, "low": 0.057, "high": 0.242, "min": 0.7, "max": None, "status": "below"})
    'recall region=west 2026-W15: 0.122 (0.057–0.242) below min 0.7'
    """
    where = [row["metric"]]
    if row.get("segment_column") is not None and not pd.isna(row.get("segment_column")):
        where.append(f"{row['segment_column']}={row['segment']}")
    if row.get("bucket") not in (None, "all"):
        where.append(str(row["bucket"]))
    bound = f"below min {row['min']:g}" if row["status"] == "below" else f"above max {row['max']:g}"
    return f"{' '.join(where)}: {_num(row['value'])} ({_num(row['low'])}–{_num(row['high'])}) {bound}"


def describe_alerts(status: pd.DataFrame, *, label: str) -> str:
    """A one-sentence finding for a status table (chart titles, captions).

    >>> describe_alerts(pd.DataFrame({"status": ["ok", "too small"], "segment": [None, None],
    ...                               "bucket": ["2026-W01", "2026-W02"], "period": ["W", "W"]}), label="Recall")
    'Recall stayed in range in all 1 checked week'
    """
    alerts = status[status["status"].isin(["below", "above"])]
    checked = int(status["status"].isin(["ok", "below", "above"]).sum())
    unit = PERIODS.get(status["period"].iloc[0], "bucket") if len(status) else "bucket"
    if alerts.empty:
        if not checked:
            return f"No {unit} of {label} could be checked: none has a range and enough rows"
        return f"{label} stayed in range in all {checked} checked {unit}{'s' if checked != 1 else ''}"
    words = []
    for seg, part in alerts.groupby("segment", dropna=False, sort=False):  # a few alerting series
        where = "" if seg is None or pd.isna(seg) else f" in {seg}"
        words.append(f"{where} in {_join_buckets(part['bucket'].tolist())}")
    sides = set(alerts["status"])
    verb = "fell below" if sides == {"below"} else "rose above" if sides == {"above"} else "left"
    return f"{label} {verb} its range" + ";".join(words)


def _join_buckets(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) > 4:
        return f"{names[0]} … {names[-1]} ({len(names)} buckets)"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ----------------------------------------------------------------------------- drift
def population_stability_index(counts: np.ndarray, reference: np.ndarray, *, eps: float = 1e-4) -> np.ndarray:
    """PSI of each row of ``counts`` (buckets × bins) against the ``reference`` bin counts.

    PSI = Σ (p − q) · ln(p / q) over bins, shares floored at ``eps``. Below 0.1: no real shift;
    0.1–0.25: moderate; above 0.25: a major shift.

    >>> population_stability_index(np.array([[50, 50], [90, 10]]), np.array([500, 500])).round(3).tolist()
    [0.0, 0.879]
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    p = np.maximum(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1), eps)
    q = np.maximum(np.asarray(reference, dtype=float) / max(float(np.sum(reference)), 1.0), eps)
    return ((p - q) * np.log(p / q)).sum(axis=1)


def _bins(values: np.ndarray, ref_mask: np.ndarray, n_bins: int) -> tuple[np.ndarray, int]:
    """Bin ids from the reference rows' quantiles (ties merge bins)."""
    ref = values[ref_mask]
    if not len(ref):
        return np.zeros(len(values), dtype=np.int64), 1
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1))[1:-1])
    return np.searchsorted(edges, values, side="right"), len(edges) + 1


def _drift_values(dataset: Dataset) -> tuple[np.ndarray, bool]:
    """What drift is measured on, and whether it is categorical (codes) rather than numeric."""
    if dataset.task == "binary":
        return (dataset.score, False) if dataset.score is not None else (dataset.prediction.astype(np.int64), True)
    if dataset.task == "multiclass":
        if dataset.proba is not None:
            return dataset.proba.max(axis=1), False
        return dataset.prediction.astype(np.int64), True
    return dataset.prediction.astype(float), False


def drift_over_time(dataset: Dataset, *, period: str = "W", reference_end=None, n_bins: int = 10) -> pd.DataFrame:
    """Score and label drift per bucket against the reference period, and the label's mean over time.

    Score PSI is on the binary score (or predicted class), the multiclass top-class probability (or
    predicted class), or the regression prediction, in ``n_bins`` quantile bins of the reference rows.
    Label PSI is on the classes (binary, multiclass) or reference deciles (regression). ``label_mean``
    is the base rate (binary, Wilson interval) or the mean label (regression, normal interval); NaN for
    multiclass. Returns :data:`DRIFT_COLUMNS`, one row per bucket; ``reference`` marks its buckets.
    """
    buckets = dataset_buckets(dataset, period)
    end = _reference_end(dataset, reference_end)
    B = len(buckets.labels)
    in_ref = np.asarray(buckets.ends <= end)
    ok = buckets.codes >= 0
    b = buckets.codes[ok]
    row_ref = np.zeros(dataset.n, dtype=bool)
    row_ref[ok] = in_ref[b]

    def psi(ids: np.ndarray, k: int) -> np.ndarray:
        counts = np.bincount(b * k + ids[ok], minlength=B * k).reshape(B, k)
        if not row_ref.any():
            return np.full(B, np.nan)
        return population_stability_index(counts, np.bincount(ids[row_ref], minlength=k))

    values, categorical = _drift_values(dataset)
    ids, k = (values, int(values.max()) + 1 if len(values) else 1) if categorical else _bins(values, row_ref, n_bins)
    n = np.bincount(b, minlength=B)
    if dataset.task == "regression":
        label_ids, lk = _bins(dataset.y, row_ref, n_bins)
    else:
        label_ids, lk = dataset.y.astype(np.int64), max(len(dataset.classes), 2)
    if dataset.task == "multiclass":
        mean = low = high = np.full(B, np.nan)
    else:
        y = dataset.y[ok].astype(float)
        s1, s2 = np.bincount(b, weights=y, minlength=B), np.bincount(b, weights=y * y, minlength=B)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / n
            if dataset.task == "binary":
                low, high = wilson_interval(s1, n)
            else:
                half = Z95 * np.sqrt(np.maximum(s2 / n - mean ** 2, 0) / np.maximum(n - 1, 1))
                low, high = mean - half, mean + half
    out = pd.DataFrame({"period": period, "bucket": list(buckets.labels), "start": buckets.starts,
                        "end": buckets.ends, "n": n, "reference": in_ref, "score_psi": psi(ids, k),
                        "label_psi": psi(label_ids, lk), "label_mean": mean, "label_low": low, "label_high": high})
    return out[n > 0].reset_index(drop=True)[DRIFT_COLUMNS]
