"""The metric registry: every metric's name, tasks, display label, direction and interval method.

Imported by :mod:`mlimpact.metrics` (which re-exports everything here); kept apart so that the
task modules can read the registry without importing the public entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlimpact.errors import InputError

__all__ = ["Metric", "METRICS", "TASKS", "COLUMNS", "metrics_for_task"]

TASKS = ("binary", "multiclass", "regression")

#: the columns of :func:`compute_metrics`, in order, every time
COLUMNS = [
    "group", "n", "positives", "metric", "value", "low", "high", "note",
    "rest_value", "difference", "p_value", "q_value", "significantly_worse", "small",
]


@dataclass(frozen=True)
class Metric:
    """One metric: its name, the tasks it applies to, how to display and read it.

    ``direction``: ``"higher"`` or ``"lower"`` is better, ``"zero"`` (closer to 0 is better:
    ``mean_error``) or ``"none"`` (descriptive: ``base_rate``, ``positive_rate``).
    ``kind``: ``"proportion"``, ``"rank"``, ``"mean"`` or ``"other"``. ``interval``: ``"wilson"``,
    ``"delong"`` or ``"bootstrap"``. ``description`` is a plain-language template with ``{value}``
    and ``{positive}`` placeholders.

    >>> METRICS["recall"].description.format(positive="fraud", value="81%")
    'Of the frauds, the model catches 81%'
    """

    name: str
    task: tuple[str, ...]
    label: str
    direction: str
    kind: str
    needs_score: bool
    description: str
    interval: str


_B, _M, _R = ("binary",), ("multiclass",), ("regression",)
_REGISTRY = [
    Metric("accuracy", ("binary", "multiclass"), "Accuracy", "higher", "proportion", False,
           "The model is right on {value} of rows", "wilson"),
    Metric("precision", _B, "Precision", "higher", "proportion", False,
           "Of the rows flagged as {positive}, {value} really are", "wilson"),
    Metric("recall", _B, "Recall", "higher", "proportion", False,
           "Of the {positive}s, the model catches {value}", "wilson"),
    Metric("f1", _B, "F1 score", "higher", "other", False,
           "Balance of precision and recall (their harmonic mean): {value}", "bootstrap"),
    Metric("false_positive_rate", _B, "False positive rate", "lower", "proportion", False,
           "Of the rows that are not {positive}, the model flags {value} anyway", "wilson"),
    Metric("false_negative_rate", _B, "False negative rate", "lower", "proportion", False,
           "Of the {positive}s, the model misses {value}", "wilson"),
    Metric("true_negative_rate", _B, "True negative rate", "higher", "proportion", False,
           "Of the rows that are not {positive}, the model correctly leaves {value} alone", "wilson"),
    Metric("positive_rate", _B, "Share flagged", "none", "proportion", False,
           "The model flags {value} of rows as {positive}", "wilson"),
    Metric("base_rate", _B, "Share actually positive", "none", "proportion", False,
           "{value} of rows are actually {positive}", "wilson"),
    Metric("roc_auc", _B, "ROC AUC", "higher", "rank", True,
           "A random {positive} gets a higher score than a random other row {value} of the time", "delong"),
    Metric("average_precision", _B, "Average precision", "higher", "rank", True,
           "Precision averaged over every threshold, weighted by the {positive}s caught: {value}",
           "bootstrap"),
    Metric("log_loss", ("binary", "multiclass"), "Log loss", "lower", "mean", True,
           "Average log loss of the predicted probabilities (lower is better): {value}", "bootstrap"),
    Metric("brier_score", _B, "Brier score", "lower", "mean", True,
           "Mean squared gap between predicted probability and outcome (lower is better): {value}",
           "bootstrap"),
    Metric("balanced_accuracy", _M, "Balanced accuracy", "higher", "other", False,
           "Recall averaged over the classes present: {value}", "bootstrap"),
    Metric("macro_f1", _M, "Macro F1", "higher", "other", False,
           "F1 averaged over classes, each class counting equally: {value}", "bootstrap"),
    Metric("weighted_f1", _M, "Weighted F1", "higher", "other", False,
           "F1 averaged over classes, weighted by how common each class is: {value}", "bootstrap"),
    Metric("top_2_accuracy", _M, "Top-2 accuracy", "higher", "proportion", True,
           "The true class is among the model's two most likely classes on {value} of rows", "wilson"),
    Metric("mae", _R, "Mean absolute error", "lower", "mean", False,
           "On average the prediction is off by {value}", "bootstrap"),
    Metric("rmse", _R, "Root mean squared error", "lower", "other", False,
           "Typical size of an error, large misses weighing more: {value}", "bootstrap"),
    Metric("r2", _R, "R²", "higher", "other", False,
           "Share of the variation in the truth that the predictions explain: {value}", "bootstrap"),
    Metric("mean_error", _R, "Mean error (bias)", "zero", "mean", False,
           "On average the prediction is {value} above the truth (negative: below)", "bootstrap"),
    Metric("mape", _R, "Mean absolute percentage error", "lower", "mean", False,
           "On average the prediction is off by {value} of the true value", "bootstrap"),
]
METRICS: dict[str, Metric] = {m.name: m for m in _REGISTRY}

_BY_TASK = {
    "binary": ["accuracy", "precision", "recall", "f1", "false_positive_rate", "false_negative_rate",
               "true_negative_rate", "positive_rate", "base_rate", "roc_auc", "average_precision",
               "log_loss", "brier_score"],
    "multiclass": ["accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss", "top_2_accuracy"],
    "regression": ["mae", "rmse", "r2", "mean_error", "mape"],
}


def metrics_for_task(task: str) -> list[str]:
    """Names of the metrics of a task, in display order.

    >>> metrics_for_task("regression")
    ['mae', 'rmse', 'r2', 'mean_error', 'mape']
    """
    if task not in _BY_TASK:
        raise InputError(f"task: must be one of {', '.join(TASKS)}; got {task!r}")
    return list(_BY_TASK[task])
