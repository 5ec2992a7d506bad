"""Weak slices of a Dataset: per-row errors, the search, re-ranking by any metric, readable sentences.

The search itself lives in :mod:`mlimpact.slices.weak` (arrays in, slices out); this module
connects it to a Dataset, the metric engine, the app and the ``slices`` command.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import METRICS, evaluate
from mlimpact.slices.encoding import encode_features
from mlimpact.slices.weak import find_weak_slices

__all__ = ["ERROR_KINDS", "default_error_kind", "per_row_errors", "slice_columns", "search_weak_slices",
           "rerank_slices", "slice_sentence"]

#: per-row error kinds and the tasks they apply to
ERROR_KINDS = {
    "misclassification": ("binary", "multiclass"),
    "false_negative": ("binary",),
    "false_positive": ("binary",),
    "log_loss": ("binary", "multiclass"),
    "absolute_error": ("regression",),
}
_LABELS = {"misclassification": "errors", "false_negative": "missed positives", "false_positive": "false alarms",
           "log_loss": "log loss", "absolute_error": "mean absolute error"}
#: the most rows stacked when re-ranking slices by a metric (slices overlap, so rows repeat)
MAX_STACKED_ROWS = 20_000_000


def default_error_kind(dataset: Dataset) -> str:
    """``misclassification`` for classes, ``absolute_error`` for regression."""
    return "absolute_error" if dataset.task == "regression" else "misclassification"


def per_row_errors(dataset: Dataset, *, kind: str | None = None, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """One error per row: 0/1 for misclassification, false negatives and false positives; else a loss.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1, 1], "p": [0.9, 0.8, 0.1]}), Roles(label="y", score="p"))
    >>> per_row_errors(ds, kind="false_negative").tolist()
    [0.0, 0.0, 1.0]
    """
    kind = kind or default_error_kind(dataset)
    if kind not in ERROR_KINDS:
        raise InputError(f"error {kind!r} is not one of {', '.join(ERROR_KINDS)}")
    if dataset.task not in ERROR_KINDS[kind]:
        raise InputError(f"error {kind!r} needs a {' or '.join(ERROR_KINDS[kind])} task; this file is "
                         f"{dataset.task}")
    y = dataset.y
    if kind == "absolute_error":
        return np.abs(dataset.prediction - y).astype(float)
    if kind == "log_loss":
        eps = 1e-15
        if dataset.task == "binary":
            if dataset.score is None or not dataset.scores_are_probabilities:
                raise InputError("log loss needs probabilities between 0 and 1 in the score column")
            p = np.clip(dataset.score, eps, 1 - eps)
            return -(y * np.log(p) + (1 - y) * np.log(1 - p))
        if dataset.proba is None:
            raise InputError("log loss needs one probability column per class")
        return -np.log(np.clip(dataset.proba[np.arange(len(y)), y], eps, 1.0))
    pred = dataset.predicted(threshold)
    if kind == "misclassification":
        return (pred != y).astype(float)
    if kind == "false_negative":
        return ((y == 1) & (pred == 0)).astype(float)
    return ((y == 0) & (pred == 1)).astype(float)


def slice_columns(dataset: Dataset) -> list[str]:
    """Columns the search slices on: the segment columns plus amount and other plain numeric features, and other
    columns with at most 50 values (not dates)."""
    roles = dataset.roles
    skip = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
            *roles.class_scores, *roles.other_scores}
    cols = list(roles.segments)
    for c in dataset.frame.columns:
        if c in skip or c in cols:
            continue
        s = dataset.frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):  # dates are times, not segments (the engines agree)
            continue
        if (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)) or s.nunique() <= 50:
            cols.append(c)
    return cols


def search_weak_slices(dataset: Dataset, *, columns=None, kind: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                       n_bins: int = 5, max_values: int = 50, **options):
    """Encode the slicing columns and run :func:`mlimpact.slices.weak.find_weak_slices` on per-row errors.

    ``options`` pass through (``max_level``, ``min_support``, ``k``, ``scoring``, ``alpha``,
    ``time_budget_s``, ``progress``).
    """
    trace.count("search_weak_slices")

    columns = list(columns) if columns else slice_columns(dataset)
    if not columns:
        raise InputError("no columns to slice on; add segment columns (region, channel…) to the file")
    features = encode_features(dataset.frame, columns, n_bins=n_bins, max_values=max_values)
    errors = per_row_errors(dataset, kind=kind, threshold=threshold)
    return find_weak_slices(features, errors, **options)


def rerank_slices(result, dataset: Dataset, *, metric: str, threshold: float = DEFAULT_THRESHOLD, seed: int = 0) -> pd.DataFrame:
    """Every returned slice's ``metric`` with a 95% interval, worst first, in ONE engine pass.

    Slices overlap, so their rows are stacked with the slice number as the group code; the
    metric engine then computes all slices at once. Returns ``rank, description, n, value, low,
    high, note`` sorted worst first.
    """
    trace.count("rerank_slices")

    if metric not in METRICS:
        raise InputError(f"metric {metric!r} is unknown; pick one of {', '.join(METRICS)}")
    slices = result.slices
    if slices.empty:
        return pd.DataFrame(columns=["rank", "description", "n", "value", "low", "high", "note"])
    indices = [result.row_indices(i) for i in range(len(slices))]
    total = sum(len(ix) for ix in indices)
    if total > MAX_STACKED_ROWS:
        raise InputError(f"the slices hold {total:,} rows together, more than {MAX_STACKED_ROWS:,}; "
                         "raise the minimum support or lower the number of slices")
    rows = np.concatenate(indices)
    codes = np.repeat(np.arange(len(indices), dtype=np.int32), [len(ix) for ix in indices])
    sub = _subset(dataset, rows)
    table = evaluate(sub, threshold=threshold, metrics=[metric], codes=codes, n_groups=len(indices), seed=seed)
    out = pd.DataFrame({"rank": slices["rank"].to_numpy(), "description": slices["description"].to_numpy(),
                        "n": table["n"].to_numpy(), "value": table["value"].to_numpy(),
                        "low": table["low"].to_numpy(), "high": table["high"].to_numpy(),
                        "note": table["note"].to_numpy()})
    worst_first = METRICS[metric].direction != "higher"
    return out.sort_values("value", ascending=not worst_first, na_position="last").reset_index(drop=True)


def _subset(dataset: Dataset, rows: np.ndarray) -> Dataset:
    """A Dataset view of some rows (repeats allowed) sharing roles and settings; frame left empty."""

    def take(a):
        return None if a is None else a[rows]

    return replace(dataset, frame=dataset.frame.iloc[:0], y=dataset.y[rows], score=take(dataset.score),
                   prediction=take(dataset.prediction), proba=take(dataset.proba), _codes={})


def slice_sentence(row, *, overall: float, kind: str) -> str:
    """"channel = online and region = west: 31.0% errors (27.0–35.0%) vs 9.0% overall, 1,204 rows"."""
    label = _LABELS.get(kind, "errors")
    if kind in ("log_loss", "absolute_error"):
        body = f"{label} {row['error_rate']:.3g} ({row['low']:.3g}–{row['high']:.3g}) vs {overall:.3g} overall"
    else:
        body = (f"{100 * row['error_rate']:.1f}% {label} ({100 * row['low']:.1f}–{100 * row['high']:.1f}%) vs "
                f"{100 * overall:.1f}% overall")
    return f"{row['description']}: {body}, {int(row['n']):,} rows"
