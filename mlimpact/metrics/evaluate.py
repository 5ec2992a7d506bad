"""Metrics of a Dataset: the one door from a validated Dataset into the metric engine.

Pages, exports and the CLI all call :func:`evaluate`, so every number shown anywhere
comes from the same computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.engine.memory import score_order
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics.compute import compute_metrics

__all__ = ["contract_metrics", "default_metrics", "metric_names", "dataset_arrays", "evaluate", "in_metric_order"]

_DEFAULTS = {
    "binary": ["recall", "precision", "f1", "accuracy", "false_positive_rate", "roc_auc", "average_precision",
               "log_loss", "brier_score", "positive_rate", "base_rate"],
    "multiclass": ["accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss", "top_2_accuracy"],
    "regression": ["mae", "rmse", "r2", "mean_error", "mape"],
}
_NEEDS_SCORE = {"roc_auc", "average_precision", "log_loss", "brier_score"}
_NEEDS_PROBA = {"log_loss", "top_2_accuracy"}


def default_metrics(dataset: Dataset) -> list[str]:
    """The metrics worth showing for this Dataset (score metrics only when there is a score).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "yhat": [0, 1]}), Roles(label="y", prediction="yhat"))
    >>> "roc_auc" in default_metrics(ds)
    False
    """
    return metric_names(dataset.task, has_score=dataset.score is not None,
                        probabilities=dataset.scores_are_probabilities, has_proba=dataset.proba is not None)


def metric_names(task: str, *, has_score: bool, probabilities: bool, has_proba: bool = False,
                 contract: bool = False) -> list[str]:
    """:func:`default_metrics` (or, with ``contract``, :func:`contract_metrics`) from what the data has.

    >>> metric_names("binary", has_score=True, probabilities=False)[-3:]
    ['average_precision', 'positive_rate', 'base_rate']
    """
    names = list(_DEFAULTS[task])
    if task == "binary":
        if not has_score:
            names = [m for m in names if m not in _NEEDS_SCORE]
        elif not probabilities:
            names = [m for m in names if m not in ("log_loss", "brier_score")]
        if contract:
            at = names.index("false_positive_rate") + 1
            names[at:at] = ["false_negative_rate", "true_negative_rate"]
    if task == "multiclass" and not has_proba:
        names = [m for m in names if m not in _NEEDS_PROBA]
    return names


def contract_metrics(dataset: Dataset) -> list[str]:
    """Every contract metric (DESIGN.md) that the dataset defines: the defaults plus the rates the app's
    default views leave out (false negative and true negative rates).

    >>> import pandas as pd
    >>> from mlimpact.io import Roles, build_dataset
    >>> contract_metrics(build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7]}), Roles(label="y", score="p")))[:7]
    ['recall', 'precision', 'f1', 'accuracy', 'false_positive_rate', 'false_negative_rate', 'true_negative_rate']
    """
    return metric_names(dataset.task, has_score=dataset.score is not None,
                        probabilities=dataset.scores_are_probabilities, has_proba=dataset.proba is not None,
                        contract=True)


def dataset_arrays(dataset: Dataset) -> dict:
    """The arrays :func:`mlimpact.metrics.compute_metrics` takes, for this Dataset's task."""
    if dataset.task == "binary":
        return {"y": dataset.y, "score": dataset.score,
                "pred": None if dataset.score is not None else dataset.prediction}
    if dataset.task == "multiclass":
        return {"y": dataset.y, "proba": dataset.proba, "pred": dataset.prediction, "classes": list(dataset.classes)}
    return {"y": dataset.y, "pred": dataset.prediction}


def evaluate(dataset: Dataset, *, threshold: float = DEFAULT_THRESHOLD, metrics=None, codes: np.ndarray | None = None,
             n_groups: int | None = None, **options) -> pd.DataFrame:
    """:func:`mlimpact.metrics.compute_metrics` on this Dataset (overall, or per group when ``codes`` given).

    ``options`` pass through (``intervals``, ``seed``, ``compare_to_rest``, ``min_group_size``...).
    """
    trace.count("evaluate")

    metrics = list(metrics) if metrics else default_metrics(dataset)
    if dataset.task == "binary" and dataset.score is not None and options.get("order") is None:
        options["order"] = _score_order(dataset)
    table = compute_metrics(dataset.task, **dataset_arrays(dataset), codes=codes, n_groups=n_groups,
                            threshold=threshold, metrics=metrics, **options)
    return in_metric_order(table, metrics)


def _score_order(dataset: Dataset):
    """The score's one sort for this Dataset, kept with it: every segment table, slice and overall figure of the
    same rows shares it (and what it caches) instead of sorting a million scores again."""
    found = dataset._codes.get(_ORDER_KEY)
    if found is None:  # sessions sharing the Dataset: at worst sorted twice
        found = dataset._codes[_ORDER_KEY] = score_order(dataset.y, dataset.score)
    return found


_ORDER_KEY = ("mlimpact.metrics.evaluate", "score_order")  # never a column name (those are strings)


def in_metric_order(table: pd.DataFrame, metrics) -> pd.DataFrame:
    """Rows in the order asked for (groups first), so tables and exports list metrics consistently."""
    rank = {m: i for i, m in enumerate(metrics)}
    order = np.lexsort((table["metric"].map(rank).to_numpy(), table["group"].to_numpy()))
    return table.iloc[order].reset_index(drop=True)
