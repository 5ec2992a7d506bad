"""Drift: how far the score and label distributions of each time bucket moved from the reference period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.io import Dataset
from mlimpact.metrics import Z95, wilson_interval
from mlimpact.monitoring.population import (
    population_over_time,
    population_problem,
    population_stability_index,
)
from mlimpact.monitoring.series import _reference_end, dataset_buckets

__all__ = ["DRIFT_COLUMNS", "drift_over_time", "population_stability_index"]


DRIFT_COLUMNS = ["period", "bucket", "start", "end", "n", "reference", "score_psi", "label_psi", "label_mean",
                 "label_low", "label_high"]


def _bins(values: np.ndarray, ref_mask: np.ndarray, n_bins: int) -> tuple[np.ndarray, int]:
    """Bin ids from the reference rows' quantiles (ties merge bins)."""
    ref = values[ref_mask]
    if not len(ref):
        return np.zeros(len(values), dtype=np.int64), 1
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1))[1:-1])
    return np.searchsorted(edges, values, side="right"), len(edges) + 1


def _raw_score_column(dataset: Dataset) -> str | None:
    """The column whose values :func:`_drift_values` measures as they are (binary score, regression
    prediction), so its PSI is the ``psi`` check's (:mod:`mlimpact.monitoring.population`); else None."""
    if dataset.task == "binary" and dataset.score is not None:
        return dataset.roles.score
    if dataset.task == "regression":
        return dataset.roles.prediction or dataset.roles.score
    return None


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
    trace.count("drift_over_time")
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
    out = out[n > 0].reset_index(drop=True)
    column = _raw_score_column(dataset)
    if column is not None and n_bins == 10 and population_problem(dataset, "psi", column, period) is None:
        # the score as the psi check sees it: rows without a label included
        out = _with_traffic(out, population_over_time(dataset, "psi", period=period, column=column,
                                                      reference_end=end), end)
    return out[DRIFT_COLUMNS]


def _with_traffic(out: pd.DataFrame, traffic: pd.DataFrame, end) -> pd.DataFrame:
    """The drift table over every bucket with traffic, its score PSI the check's; buckets of rows without a label
    only have no label statistics (``n``, the labelled rows, is 0)."""
    keys = ["bucket", "start", "end"]
    merged = traffic[keys].merge(out.drop(columns=["score_psi"]), on=keys, how="left")
    return merged.assign(period=out["period"].iloc[0] if len(out) else traffic["period"].iloc[0],
                         n=merged["n"].fillna(0).astype(np.int64), reference=merged["end"] <= end,
                         score_psi=traffic["value"].to_numpy())
