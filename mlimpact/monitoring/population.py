"""Checks on the traffic rather than the model: volume, missing values, rows without a label, and drift (PSI).

The population of a monitoring file is every row the model scored: the labelled rows used for the metrics
plus the rows without a label yet (:attr:`mlimpact.io.Dataset.unlabelled`, the recent traffic). Rows left out
for another reason (a missing score, say) are counted in the Dataset's exclusions and are not traffic here.

* ``rows``: rows per bucket (and segment value). Buckets between the first and the last one that have no row
  at all are listed with 0 — a day without traffic is the incident a volume check is for. The last bucket is
  too small to check when the file ends before it does (a week still running).
* ``missing_share``: the share of rows whose ``column`` is empty, with a Wilson 95% interval.
* ``unlabelled_share``: the share of rows without a label, with a Wilson 95% interval.
* ``psi``: the population stability index of ``column`` (default: the score, or the prediction) in each
  bucket against the reference period's rows of the same segment value: ten quantile bins of the reference
  for numbers, one bin per value for text, and one bin for missing values. A bucket with fewer than
  :data:`PSI_MIN_ROWS` rows is too small (PSI grows with noise in small samples); it has no interval.

Each gives the columns of :func:`mlimpact.monitoring.series.metrics_over_time`, so ranges are checked the
same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.dataset import encode_column
from mlimpact.metrics import wilson_interval
from mlimpact.monitoring.series import (
    DEFAULT_SETTINGS,
    OVER_TIME_COLUMNS,
    MonitorSettings,
    TimeBuckets,
    _reference_end,
    time_buckets,
)

__all__ = ["population_stability_index", "POPULATION_METRICS", "PSI_MIN_ROWS", "PSI_MAJOR", "POPULATION_BOUNDS", "population_over_time", "psi_column",
           "population_problem", "traffic_problem", "one_value", "psi_by_bucket"]

#: the checks on the traffic, and what each measures (for messages and the checks file's comments)
POPULATION_METRICS = {"rows": "rows per bucket", "missing_share": "share of rows where a column is empty",
                      "unlabelled_share": "share of rows without a label", "psi": "population stability index"}
#: natural bounds of each (a range beyond them can never be met)
POPULATION_BOUNDS = {"rows": (0.0, None), "missing_share": (0.0, 1.0), "unlabelled_share": (0.0, 1.0),
                     "psi": (0.0, None)}
#: fewer rows than this in a bucket: its PSI is mostly noise (ten bins of ten rows)
PSI_MIN_ROWS = 100
_PSI_BINS = 10
#: a text column's values kept apart for PSI (the rest share one bin): an id-like column is not a distribution
_MAX_VALUES = 50
#: the PSI above which a shift is conventionally called major
PSI_MAJOR = 0.25


def population_stability_index(counts: np.ndarray, reference: np.ndarray, *, eps: float = 1e-4) -> np.ndarray:
    """PSI of each row of ``counts`` (buckets × bins) against the ``reference`` bin counts (one row for all, or
    one row per row of ``counts``).

    PSI = Σ (p − q) · ln(p / q) over bins, shares floored at ``eps``. Below 0.1: no real shift;
    0.1–0.25: moderate; above 0.25: a major shift.

    >>> population_stability_index(np.array([[50, 50], [90, 10]]), np.array([500, 500])).round(3).tolist()
    [0.0, 0.879]
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    reference = np.asarray(reference, dtype=float)
    p = np.maximum(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1), eps)
    q = np.maximum(reference / np.maximum(reference.sum(axis=-1, keepdims=True), 1.0), eps)
    return ((p - q) * np.log(p / q)).sum(axis=1)


def psi_column(dataset: Dataset, column: str | None) -> str | None:
    """The column a PSI check measures: the one given, else the model's score, else its prediction."""
    return column or dataset.roles.score or dataset.roles.prediction


def _population(dataset: Dataset, column: str) -> pd.Series:
    """``column`` over the population: the used rows, then the rows without a label."""
    used = dataset.frame[column]
    if dataset.unlabelled is None:
        return used.reset_index(drop=True)
    return pd.concat([used, dataset.unlabelled[column]], ignore_index=True)


def population_problem(dataset: Dataset, metric: str, column: str | None, period: str | None = "W") -> str | None:
    """Why this check cannot run on ``dataset`` (one sentence naming the file and column), or None."""
    return traffic_problem(dataset, metric, column, period, columns=dataset.frame.columns,
                           single=lambda c: one_value(_population(dataset, c)))


def one_value(values: pd.Series) -> str | None:
    """How the one value of ``values`` reads (``empty`` when every value is missing); None when they vary."""
    if values.nunique(dropna=False) >= 2:
        return None
    return "empty" if values.isna().all() else f"{values.dropna().iloc[0]!s}"


def traffic_problem(dataset, metric: str, column: str | None, period: str | None, *, columns,
                    single) -> str | None:
    """:func:`population_problem` for a Dataset or an engine's dataset: ``columns`` are its columns and
    ``single(column)`` says how a column's one value over the population reads (None when it varies)."""
    if metric == "psi" and period is None:
        return 'psi compares each time bucket with the reference period: add period = "D", "W" or "M"'
    if metric == "missing_share":
        if column is None:
            return 'missing_share needs the column whose empty values it counts: add column = "COLUMN"'
        if column == dataset.roles.label:
            return f'`{column}` is the label: check the share of rows without a label with metric = "unlabelled_share"'
    if metric == "psi":
        target = psi_column(dataset, column)
        if target is None:
            return 'psi needs a column: add column = "COLUMN" (the score, or any column of the file)'
        if target not in columns:
            return f"column `{target}` is not in {dataset.source}; name one of its columns"
        shown = single(target)
        if shown is not None:
            return (f"column `{target}` has one value ({shown}) in every row of {dataset.source}, so its PSI cannot "
                    "move; check a column that varies")
    if column is not None and column not in columns:
        return f"column `{column}` is not in {dataset.source}; name one of its columns"
    return None


def _cells(dataset: Dataset, period: str | None, segment: str | None):
    """Bucket and segment codes of the population rows; rows without a time get bucket code B (dropped)."""
    if period is None:
        buckets = TimeBuckets(None, np.zeros(dataset.n + _n_unlabelled(dataset), dtype=np.int64), ("all",),
                              pd.DatetimeIndex([pd.NaT]), pd.DatetimeIndex([pd.NaT]))
    else:
        if dataset.roles.time is None:
            raise InputError(f"{dataset.source}: no time column chosen; a period needs one (add time = \"COLUMN\" to "
                             "[columns] in checks.toml)")
        buckets = _complete(time_buckets(_population(dataset, dataset.roles.time).to_numpy(), period))
    if segment is not None:
        scodes, slabels = encode_column(_population(dataset, segment))
    else:
        scodes, slabels = np.zeros(dataset.n + _n_unlabelled(dataset), dtype=np.int64), [None]
    B = len(buckets.labels)
    return np.where(buckets.codes < 0, B, buckets.codes), buckets, np.asarray(scodes), slabels


def _n_unlabelled(dataset: Dataset) -> int:
    return 0 if dataset.unlabelled is None else len(dataset.unlabelled)


def _complete(b: TimeBuckets) -> TimeBuckets:
    """The buckets from the first to the last, those without rows included (their codes renumbered)."""
    if len(b.labels) < 2:
        return b
    step = {"D": pd.Timedelta(days=1), "W": pd.Timedelta(days=7)}.get(b.period)
    starts = pd.date_range(b.starts[0], b.starts[-1], freq=step if step is not None else "MS")
    if len(starts) == len(b.labels):
        return b
    full = time_buckets(starts, b.period)
    where = np.searchsorted(starts.to_numpy(), b.starts.to_numpy())
    codes = np.where(b.codes < 0, -1, where[np.maximum(b.codes, 0)])
    return TimeBuckets(b.period, codes, full.labels, full.starts, full.ends)


def _partial_last(buckets: TimeBuckets, S: int, last) -> np.ndarray:
    """Too small: the last bucket when the file ends (``last``, its last time) a day or more before it does (a
    week still running)."""
    small = np.zeros(len(buckets.labels) * S, dtype=bool)
    if buckets.period is None or last is None:
        return small
    if pd.notna(last) and buckets.ends[-1] - last > pd.Timedelta(hours=1 if buckets.period == "D" else 24):
        small[-S:] = True
    return small


def _bins(values: pd.Series, ref: np.ndarray) -> tuple[np.ndarray, int]:
    """Bin ids: reference-quantile bins for numbers and times, one per value for text (the
    :data:`_MAX_VALUES` most frequent in the reference, the rest in one bin); missing values get their own bin."""
    if pd.api.types.is_datetime64_any_dtype(values):
        values = pd.Series(values.to_numpy("datetime64[ns]").astype(np.int64), dtype=float).where(values.notna())
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(x)
        known = x[ref & ~missing]
        edges = np.unique(np.quantile(known, np.linspace(0, 1, _PSI_BINS + 1))[1:-1]) if len(known) else np.array([])
        ids = np.searchsorted(edges, np.where(missing, 0, x), side="right")
        return np.where(missing, len(edges) + 1, ids), len(edges) + 2
    codes, labels = encode_column(values)
    codes = np.asarray(codes, dtype=np.int64)
    if len(labels) <= _MAX_VALUES:
        return codes, len(labels)
    top = np.argsort(-np.bincount(codes[ref], minlength=len(labels)), kind="stable")[:_MAX_VALUES - 1]
    lookup = np.full(len(labels), _MAX_VALUES - 1)
    lookup[top] = np.arange(len(top))
    return lookup[codes], _MAX_VALUES


def population_over_time(dataset: Dataset, metric: str, *, period: str | None = "W", segment: str | None = None,
                         column: str | None = None, reference_end=None,
                         settings: MonitorSettings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """``metric`` (one of :data:`POPULATION_METRICS`) per bucket and segment value: :data:`OVER_TIME_COLUMNS`.

    ``n`` is the bucket's rows (labelled or not); ``positives`` is empty; ``note`` names the column measured.
    """
    if metric not in POPULATION_METRICS:
        raise InputError(f"{metric!r} is not one of {', '.join(POPULATION_METRICS)}")
    problem = population_problem(dataset, metric, column, period)
    if problem:
        raise InputError(problem)
    bcodes, buckets, scodes, slabels = _cells(dataset, period, segment)
    B, S = len(buckets.labels), len(slabels)
    cells = bcodes * S + scodes
    n = np.bincount(cells, minlength=(B + 1) * S)[: B * S].astype(float)
    low = high = np.full(B * S, np.nan)
    small = np.zeros(B * S, dtype=bool)
    note = ""
    if metric == "rows":
        value = n.copy()
        time = dataset.roles.time
        small = _partial_last(buckets, S, _population(dataset, time).max() if time else None)
    elif metric in ("missing_share", "unlabelled_share"):
        if metric == "missing_share":
            flag, note = _population(dataset, column).isna().to_numpy(), f"column {column}"
        else:
            flag = np.arange(len(cells)) >= dataset.n
        hits = np.bincount(cells, weights=flag, minlength=(B + 1) * S)[: B * S]
        with np.errstate(invalid="ignore", divide="ignore"):
            value = hits / n
        low, high = wilson_interval(hits, n)
        small = n < settings.limits[0]
    else:
        target = psi_column(dataset, column)
        value, note = _psi(dataset, target, cells, bcodes, buckets, S, reference_end), f"column {target}"
        small = n < max(PSI_MIN_ROWS, settings.limits[0])
    return _table(metric, buckets, slabels, segment, n, value, low, high, small, note, keep_empty=metric == "rows")


def _psi(dataset, target, cells, bcodes, buckets, S, reference_end) -> np.ndarray:
    """PSI of ``target`` per (bucket, segment value) against that segment value's reference rows."""
    B = len(buckets.labels)
    end = _reference_end(dataset, reference_end)
    in_ref = np.append(np.asarray(buckets.ends <= end), False)  # the last code: rows without a time
    ref = in_ref[bcodes]
    ids, k = _bins(_population(dataset, target), ref)
    counts = np.bincount(cells * k + ids, minlength=(B + 1) * S * k)[: B * S * k].reshape(B * S, k)
    return psi_by_bucket(counts, in_ref[:B], S)


def psi_by_bucket(counts: np.ndarray, in_ref: np.ndarray, S: int) -> np.ndarray:
    """PSI of each (bucket, segment value) row of ``counts`` (``B*S`` × bins, bucket-major) against the summed
    counts of the reference buckets (``in_ref``, one flag per bucket) of the same segment value; NaN where that
    value has no reference rows. The memory path and the engines both end here."""
    B, k = len(in_ref), counts.shape[1]
    reference = counts.reshape(B, S, k)[np.asarray(in_ref, dtype=bool)].sum(axis=0)
    tile = np.tile(np.arange(S), B)
    value = population_stability_index(counts, reference[tile])
    value[reference.sum(axis=1)[tile] == 0] = np.nan  # no reference rows for this value
    return value


def _table(metric, buckets, slabels, segment, n, value, low, high, small, note, *, keep_empty) -> pd.DataFrame:
    S = len(slabels)
    cell = np.arange(len(n))
    keep = cell if keep_empty else cell[n > 0]
    b, s = keep // S, keep % S
    out = pd.DataFrame({
        "metric": metric, "segment_column": segment, "segment": np.asarray(slabels, dtype=object)[s],
        "period": buckets.period, "bucket": np.asarray(buckets.labels, dtype=object)[b],
        "start": buckets.starts[b], "end": buckets.ends[b], "n": n[keep].astype(np.int64), "positives": np.nan,
        "value": value[keep], "low": low[keep], "high": high[keep], "note": note, "too_small": small[keep]})
    return out.sort_values(["segment", "start"], kind="stable", na_position="first",
                           ignore_index=True)[OVER_TIME_COLUMNS]

