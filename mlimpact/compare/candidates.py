"""The candidate models of a comparison, as arrays on the rows every one of them scored.

Which models a file holds (:func:`model_columns`), which metrics compare them (:func:`compare_metrics`)
and their scores or predictions on shared rows, with a stand-in for "no model" when there is only one.
Re-exported by :mod:`mlimpact.compare`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import Dataset, normalize_labels
from mlimpact.io.decision import decide

__all__ = ["BASELINE_MODEL", "ALL_ROWS", "compare_metrics", "model_columns", "metrics_to_compare"]

#: Name of the stand-in model used when a file holds only one model.
BASELINE_MODEL = {"binary": "baseline: constant score (base rate)", "multiclass": "baseline: most common class",
                  "regression": "baseline: mean of the truth"}
#: The ``segment`` of the rows about the whole file in every comparison table.
ALL_ROWS = "all rows"

_CONFUSION_BINARY = ("accuracy", "precision", "recall", "f1", "false_positive_rate", "false_negative_rate",
                     "true_negative_rate", "positive_rate")
_CONFUSION_MULTI = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1")


def compare_metrics(dataset: Dataset, *, probabilities: bool = True) -> list[str]:
    """The metrics compared for this task (score metrics only when the models give scores).

    >>> from mlimpact.impact.costs import _demo_dataset
    >>> compare_metrics(_demo_dataset())[:3]
    ['roc_auc', 'average_precision', 'recall']
    """
    return metrics_to_compare(dataset.task, has_score=dataset.score is not None, probabilities=probabilities)


def metrics_to_compare(task: str, *, has_score: bool, probabilities: bool) -> list[str]:
    """:func:`compare_metrics` from what the data has (an engine's dataset has no arrays to look at)."""
    if task == "binary":
        if not has_score:
            return ["recall", "precision", "f1", "false_positive_rate", "accuracy"]
        out = ["roc_auc", "average_precision", "recall", "precision", "f1", "false_positive_rate", "accuracy"]
        return out + (["brier_score", "log_loss"] if probabilities else [])
    if task == "multiclass":
        return list(_CONFUSION_MULTI)
    return ["mae", "rmse", "r2", "mean_error"]


def model_columns(dataset: Dataset) -> list[str]:
    """The model columns of the file: the main score (or prediction) column, then ``roles.other_scores``.

    >>> from mlimpact.impact.costs import _demo_dataset
    >>> model_columns(_demo_dataset())
    ['p']
    """
    r = dataset.roles
    main = r.score if dataset.task == "binary" and dataset.score is not None else (r.prediction or r.score)
    if main is None and dataset.task == "multiclass":
        main = "argmax of the class probabilities"
    out = [main] if main else []
    out += [c for c in r.other_scores if c in dataset.frame.columns and c not in out]
    return out


@dataclass(frozen=True, eq=False)
class _Model:
    name: str
    score: np.ndarray | None  # binary scores
    pred: np.ndarray          # binary 0/1 at the threshold, multiclass codes, regression predictions


def _column_values(dataset: Dataset, col: str) -> np.ndarray:
    s = dataset.frame[col]
    if dataset.task == "multiclass":

        return normalize_labels(s).to_numpy(dtype=object, na_value=None)
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise InputError(f"column `{col}` (a model to compare) does not hold numbers; remove it from the other "
                         "models in the sidebar, or pick its score column")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _build_models(dataset: Dataset, columns, *, threshold: float, baseline: bool):
    """Arrays of every model on the rows all of them scored; returns (models, keep mask, classes, notes)."""
    raw = _raw_values(dataset, list(columns))
    keep, notes = _shared_rows(raw, dataset.n)
    classes = list(dataset.classes)
    models = _without_copies([_model_of(dataset, col, v, threshold=threshold, classes=classes, notes=notes)
                              for col, v in raw.items()], notes)
    if baseline:
        models.append(_baseline_model(dataset.task, dataset.y[keep], dataset.n, n_classes=len(classes),
                                      threshold=threshold))
        notes.append(f"{BASELINE_MODEL[dataset.task]} is computed on these same rows (an in-sample stand-in for "
                     "having no model)")
    models = [_Model(m.name, None if m.score is None else m.score[keep], m.pred[keep]) for m in models]
    return models, keep, classes, notes


def _same(a: _Model, b: _Model) -> bool:
    scores = (a.score is None and b.score is None) or (
        a.score is not None and b.score is not None and np.array_equal(a.score, b.score, equal_nan=True))
    return scores and np.array_equal(a.pred, b.pred)


def _without_copies(models: list[_Model], notes: list[str]) -> list[_Model]:
    """Models identical to an earlier one (a duplicated column read as ``x_2``) are listed once, with a note."""
    kept: list[_Model] = []
    for m in models:
        twin = next((k for k in kept if _same(m, k)), None)
        if twin is None:
            kept.append(m)
        else:
            notes.append(f"`{m.name}` is a copy of `{twin.name}` (identical on every row) and is not compared")
    return kept


def _raw_values(dataset: Dataset, columns: list[str]) -> dict[str, np.ndarray | None]:
    """Each model column's values; None for the file's main model (the Dataset's own arrays are used)."""
    main = model_columns(dataset)[:1]
    raw: dict[str, np.ndarray | None] = {}
    for col in columns:
        if col in main:
            raw[col] = None  # the Dataset's own arrays
        elif col not in dataset.frame.columns:
            raise InputError(f"column `{col}` (a model to compare) is not in the file; pick one of its columns")
        else:
            raw[col] = _column_values(dataset, col)
    return raw


def _shared_rows(raw: dict[str, np.ndarray | None], n: int) -> tuple[np.ndarray, list[str]]:
    """The rows every model scored (a mask over the n rows), and a note when some are left out."""
    keep = np.ones(n, dtype=bool)
    for v in raw.values():
        if v is not None:  # an infinite score is no prediction either (and no score bin holds it)
            keep &= np.isfinite(v) if v.dtype.kind == "f" else ~pd.isna(v)
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum()):,} rows without a prediction from every model are left out of the "
                     "comparison, so every model is judged on the same rows")
    if not keep.any():
        raise InputError("no row has a prediction from every model; check the other models' columns")
    return keep, notes


def _model_of(dataset: Dataset, col: str, v: np.ndarray | None, *, threshold: float, classes: list,
              notes: list[str]) -> _Model:
    """One model on every row, from its column's values ``v`` (None: the Dataset's own arrays).

    Multiclass: predicted values that are not classes are added to ``classes`` (and to ``notes``).
    """
    if dataset.task == "binary":
        if v is None:
            score = dataset.score
            pred = decide(score, threshold) if score is not None else dataset.prediction
        else:
            score = v
            pred = decide(v, threshold)
        return _Model(col, None if score is None else np.asarray(score, float), pred)
    if dataset.task == "multiclass":
        pred = dataset.predicted() if v is None else _class_codes(col, v, classes, notes)
        return _Model(col, None, np.asarray(pred, dtype=np.int64))
    return _Model(col, None, np.asarray(dataset.prediction if v is None else v, dtype=float))


def _class_codes(col: str, v: np.ndarray, classes: list, notes: list[str]) -> np.ndarray:
    """Class codes of the predicted labels ``v``; labels that are not classes are appended to ``classes``."""
    labels = [str(x) if x is not None else None for x in v]
    extra = sorted({x for x in labels if x is not None and x not in classes})
    if extra:
        notes.append(f"column `{col}` predicts {len(extra)} value(s) that are not classes of the label "
                     f"(e.g. {extra[0]!r}); they count as wrong")
        classes += extra
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup.get(x, 0) if x is not None else 0 for x in labels], dtype=np.int64)


def _baseline_model(task: str, y: np.ndarray, n: int, *, n_classes: int, threshold: float) -> _Model:
    """The stand-in for "no model" on all n rows, from the truth ``y`` on the shared rows."""
    if task == "binary":
        rate = float(np.mean(y)) if len(y) else 0.0
        return _Model(BASELINE_MODEL[task], np.full(n, rate), np.full(n, decide([rate], threshold)[0], np.int8))
    if task == "multiclass":
        top = int(np.argmax(np.bincount(y, minlength=n_classes)))
        return _Model(BASELINE_MODEL[task], None, np.full(n, top, dtype=np.int64))
    return _Model(BASELINE_MODEL[task], None, np.full(n, float(np.mean(y))))


def _arrays(task: str, m: _Model, classes) -> dict:
    if task == "binary":
        return {"score": m.score} if m.score is not None else {"pred": m.pred}
    if task == "multiclass":
        return {"pred": m.pred, "classes": list(classes)}
    return {"pred": m.pred}
