"""The metrics a page leads with: the headline four of each task, and the one a chart starts on.

>>> main_metric("regression"), headline_metrics("binary", ["recall", "precision", "accuracy"])
('mae', ['recall', 'precision'])
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["MAIN_METRIC", "HEADLINE_METRICS", "main_metric", "headline_metrics"]

#: The metric the Segments and Monitoring pages start on, per task.
MAIN_METRIC = {"binary": "recall", "multiclass": "accuracy", "regression": "mae"}

#: The Overview page's headline numbers, per task, in the order shown.
HEADLINE_METRICS = {"binary": ["recall", "precision", "roc_auc", "positive_rate"],
                    "multiclass": ["accuracy", "balanced_accuracy", "macro_f1", "top_2_accuracy"],
                    "regression": ["mae", "rmse", "r2", "mean_error"]}


def main_metric(task: str) -> str:
    """The metric a page starts on for ``task`` (recall, accuracy or mean absolute error).

    >>> main_metric("binary")
    'recall'
    """
    return MAIN_METRIC[task]


def headline_metrics(task: str, available: Collection[str]) -> list[str]:
    """The headline metrics of ``task`` that were computed (those in ``available``), in order.

    >>> headline_metrics("multiclass", {"accuracy", "macro_f1"})
    ['accuracy', 'macro_f1']
    """
    return [m for m in HEADLINE_METRICS[task] if m in available]
