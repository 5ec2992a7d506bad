"""Plain-language sentences and number formats, so every page and export says it the same way."""

from __future__ import annotations

import math
import re

__all__ = ["subject_name", "format_value", "format_cell", "sentence", "PERCENT_METRICS"]

#: Metrics shown as percentages.
PERCENT_METRICS = {
    "accuracy", "precision", "recall", "f1", "false_positive_rate", "false_negative_rate", "true_negative_rate",
    "positive_rate", "base_rate", "balanced_accuracy", "macro_f1", "weighted_f1", "top_2_accuracy", "mape",
    "roc_auc", "average_precision", "r2",
}
_AS_PERCENT_SIGN = PERCENT_METRICS - {"roc_auc", "average_precision", "r2"}


def subject_name(label: str | None, positive: str | None) -> str:
    """What a positive case is called in sentences: ``is_fraud``/``1`` -> ``fraud``; ``churn``/``yes`` -> ``churn``.

    >>> subject_name("is_fraud", "1"), subject_name("outcome", "spam"), subject_name("clicked", "1")
    ('fraud', 'spam', 'clicked')
    """
    pos = (positive or "").strip()
    if pos and pos.lower() not in {"1", "1.0", "true", "t", "yes", "y", "positive", "pos"}:
        return pos
    name = re.sub(r"[^0-9A-Za-z]+", " ", label or "").strip().lower()
    name = re.sub(r"^(is|has|was|label|target|y)\s+", "", name)
    if name in {"y", "label", "target", "class", "outcome", "truth", "actual", "ground truth", "y true", "gt"}:
        return "positive"
    return name or "positive"


def _isnan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def format_value(metric: str, value, *, unit: str = "") -> str:
    """One number as people read it: 0.812 recall -> ``81.2%``; AUC -> ``0.953``; MAE -> ``4.21``.

    >>> format_value("recall", 0.8123), format_value("roc_auc", 0.95312), format_value("mae", 4.2109, unit=" min")
    ('81.2%', '0.953', '4.21 min')
    """
    if _isnan(value):
        return "n/a"
    if metric in _AS_PERCENT_SIGN:
        return f"{100 * value:.1f}%"
    if metric in ("roc_auc", "average_precision", "r2"):
        return f"{value:.3f}"
    return f"{value:,.3g}{unit}" if abs(value) < 1000 else f"{value:,.0f}{unit}"


def format_cell(metric: str, cell: dict, *, unit: str = "") -> str:
    """Value with its 95% interval: ``81.2% (77.0–85.1%)``.

    >>> format_cell("recall", {"value": 0.8, "low": 0.7, "high": 0.9})
    '80.0% (70.0–90.0%)'
    """
    text = format_value(metric, cell.get("value"), unit=unit)
    lo, hi = cell.get("low"), cell.get("high")
    if text != "n/a" and not _isnan(lo) and not _isnan(hi):
        a, b = format_value(metric, lo, unit=unit), format_value(metric, hi, unit=unit)
        if metric in _AS_PERCENT_SIGN:
            a = a[:-1]
        elif unit:
            a = a[: -len(unit)]
        text += f" ({a}–{b})"
    return text


def sentence(metric: str, cell: dict, *, subject: str = "positive", unit: str = "") -> str:
    """A plain-language sentence for a headline metric, with its interval.

    >>> sentence("recall", {"value": 0.81, "low": 0.77, "high": 0.85}, subject="fraud")
    'Of the fraud cases, the model catches 81.0% (77.0–85.0%).'
    """
    v = format_cell(metric, cell, unit=unit)
    if _isnan(cell.get("value")):
        note = cell.get("note")
        return f"{metric.replace('_', ' ').capitalize()} is not available" + (f": {note}." if note else ".")
    value = cell["value"]
    s = subject
    templates = {
        "recall": f"Of the {s} cases, the model catches {v}.",
        "precision": f"Of the cases it flags, {v} are really {s}.",
        "false_positive_rate": f"Of the cases that are not {s}, {v} are flagged by mistake.",
        "false_negative_rate": f"Of the {s} cases, {v} are missed.",
        "true_negative_rate": f"Of the cases that are not {s}, {v} are correctly left alone.",
        "accuracy": f"{v} of all decisions are right.",
        "f1": f"F1, the balance of catching and being right when flagging: {v}.",
        "roc_auc": f"A random {s} case scores above a random other case {v} of the time (0.5 is a coin flip).",
        "average_precision": f"Average precision over all thresholds: {v}.",
        "log_loss": f"Log loss {v} (lower is better).",
        "brier_score": f"Brier score {v}: the mean squared error of the probabilities (lower is better).",
        "positive_rate": f"The model flags {v} of all cases.",
        "base_rate": f"{v} of all cases are {s}.",
        "balanced_accuracy": f"Averaged over the classes, {v} of each class is recognised.",
        "macro_f1": f"F1 averaged over classes (each class counts the same): {v}.",
        "weighted_f1": f"F1 averaged over classes, weighted by class size: {v}.",
        "top_2_accuracy": f"The right class is among the model's top two for {v} of cases.",
        "mae": f"Predictions are off by {v} on average.",
        "rmse": f"Root mean squared error {v}: large misses weigh more.",
        "r2": f"The model explains {v} of the variation (R², 1 is perfect, 0 is no better than the mean).",
        "mape": f"Predictions are off by {v} of the true value on average.",
    }
    if metric == "mean_error":
        direction = "too high" if value > 0 else "too low"
        return f"On average predictions are {format_cell(metric, cell, unit=unit)} {direction}" + (
            " (prediction minus truth)." if value else ".")
    return templates.get(metric, f"{metric.replace('_', ' ').capitalize()}: {v}.")
