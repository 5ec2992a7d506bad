"""The summary: headline metrics and per-segment metrics in the JSON contract of DESIGN.md.

The CLI's ``summarize`` prints it; the app's exports are built from the same dict.
"""

from __future__ import annotations

import math

import pandas as pd

from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import contract_metrics, evaluate
from mlimpact.slices import segment_table

__all__ = ["summarize", "metric_cell"]


def _num(x):
    if x is None:
        return None
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(xf) else xf


def metric_cell(row) -> dict:
    """``{"value", "low", "high", "note"}`` from one row of a metrics table (NaN becomes null)."""
    note = row.get("note")
    return {"value": _num(row.get("value")), "low": _num(row.get("low")), "high": _num(row.get("high")),
            "note": None if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)}


def summarize(dataset: Dataset, *, threshold: float = DEFAULT_THRESHOLD, segments=None, metrics=None, seed: int = 0,
              min_size: int = 30, max_values: int | None = None) -> dict:
    """Headline metrics with 95% intervals and metrics per value of each segment column.

    Parameters
    ----------
    dataset: a validated Dataset.
    threshold: binary decision threshold (``score >= threshold`` is positive).
    segments: segment columns (default: the Dataset's segment role).
    metrics: metric names (default: every contract metric the data defines,
        :func:`mlimpact.metrics.evaluate.contract_metrics`).
    max_values: values kept per segment column, the rest folded into "Other" (default: every value).

    Returns
    -------
    dict in the shape of DESIGN.md's ``summarize --format json``.
    """

    roles = dataset.roles
    metrics = list(metrics) if metrics else contract_metrics(dataset)
    overall = evaluate(dataset, threshold=threshold, metrics=metrics, seed=seed)
    columns = list(segments if segments is not None else roles.segments)
    tables = {column: segment_table(dataset, [column], threshold=threshold, metrics=metrics, seed=seed,
                                    min_size=min_size, sort_by="metric", top_k=max_values or dataset.n)
              for column in columns}
    return summary_document(dataset, roles, overall, tables, threshold=threshold,
                            source={"file": dataset.source, "sha256": dataset.content_hash})


def summary_document(dataset, roles, overall: pd.DataFrame, tables: dict, *, threshold: float, source: dict) -> dict:
    """The summary object from the overall metrics table and one segment table per column (sorted by
    metric); ``dataset`` is a Dataset or an engine's dataset (``task``, ``summary()``, ``notes``)."""
    out = {
        "task": dataset.task,
        "columns": {"label": roles.label, "score": roles.score, "prediction": roles.prediction,
                    "segments": list(tables), "time": roles.time},
        "threshold": threshold if dataset.task == "binary" else None,
        "positive": roles.positive,
        "source": source,
        "rows": dataset.summary(),
        "notes": list(dataset.notes),
        "overall": {r["metric"]: _with_error(metric_cell(r), r)
                    for r in overall.to_dict("records")},
        "segments": [],
    }
    for column, table in tables.items():
        for value, rows in table.groupby(column, sort=False):
            first = rows.iloc[0]
            out["segments"].append({
                "column": column, "value": str(value), "n": int(first["n"]),
                "positives": None if pd.isna(first["positives"]) else int(first["positives"]),
                "small": bool(first["small"]),
                "metrics": {r["metric"]: _with_error(metric_cell(r), r)
                            | {"significantly_worse": bool(r["significantly_worse"])}
                            for r in rows.to_dict("records")},
            })
    return out


def _with_error(cell: dict, row: dict) -> dict:
    """Add ``max_error`` (the largest possible distance to the exact value) where an engine binned the scores."""
    error = _num(row.get("max_error"))
    if error is not None and cell["value"] is not None:
        cell["max_error"] = error
    return cell
