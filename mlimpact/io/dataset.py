"""The Dataset: a validated predictions frame with its roles, encoded once for fast grouping.

:func:`build_dataset` checks the roles against the frame, reports *every* problem at
once (one :class:`~mlimpact.errors.InputError` listing them all), counts the rows it
cannot use by reason, and encodes the label, scores and segment columns into numpy
arrays. Every later grouping is a ``bincount`` over the integer codes kept here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io.build import _Builder
from mlimpact.io.decision import DEFAULT_THRESHOLD, decide
from mlimpact.io.roles import Roles, normalize_labels

__all__ = ["Dataset", "build_dataset", "MISSING_LABEL", "encode_column", "time_span"]

#: The value label that stands for a missing segment value.
MISSING_LABEL = "(missing)"


@dataclass
class Dataset:
    """Validated rows plus their encoded arrays. Build it with :func:`build_dataset`.

    Attributes
    ----------
    frame: the rows used (original columns; the time column parsed to datetimes), index 0..n-1.
    roles: the complete roles (task and positive class filled in).
    y: binary 0/1 int8; multiclass class codes (int32, into ``classes``); regression float64.
    score: binary score (float64) or None.
    prediction: the predicted-class column encoded like ``y`` (or regression predictions), or None.
    proba: multiclass (n, k) probabilities aligned with ``classes``, or None.
    classes: class names (binary: negative then positive; multiclass: sorted).
    exclusions: rows left out, by reason (counts).
    notes: things the user should know that did not exclude rows.
    unlabelled: the rows left out only because their label is missing (every column, the time parsed, index
        0..k-1): in a monitoring file, the recent traffic whose outcome is not known yet. Monitoring counts
        them (volume, drift, the share without a label) and estimates their performance from the scores.
    """

    frame: pd.DataFrame
    roles: Roles
    task: str
    y: np.ndarray
    score: np.ndarray | None
    prediction: np.ndarray | None
    proba: np.ndarray | None
    classes: tuple[str, ...]
    n_total: int
    exclusions: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = "<data>"
    content_hash: str = ""
    unlabelled: pd.DataFrame | None = field(default=None, repr=False)
    _codes: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Rows used."""
        return len(self.y)

    @property
    def n_excluded(self) -> int:
        """Rows left out."""
        return int(sum(self.exclusions.values()))

    @property
    def scores_are_probabilities(self) -> bool:
        """True when every binary score lies in [0, 1]."""
        if self.score is None or not len(self.score):
            return False
        return bool(self.score.min() >= 0.0 and self.score.max() <= 1.0)

    def predicted(self, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
        """Binary: the decisions at ``threshold`` (:func:`~mlimpact.io.decision.decide`, or the given
        prediction column); multiclass and regression: the predictions."""
        if self.task == "binary":
            if self.score is not None:
                return decide(self.score, threshold)
            return self.prediction
        if self.task == "multiclass":
            if self.prediction is not None:
                return self.prediction
            return np.argmax(self.proba, axis=1).astype(np.int32)
        return self.prediction

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Integer codes (0..k-1) and value labels of a column; missing values get their own code.

        Cached: each column is encoded once per Dataset.
        """
        if column not in self._codes:
            if column not in self.frame.columns:
                raise InputError(f"column `{column}` is not in {self.source}; pick one of its columns")
            self._codes[column] = encode_column(self.frame[column])
        return self._codes[column]

    def summary(self) -> dict:
        """Rows total/used/excluded in the JSON contract's shape."""
        return {"total": self.n_total, "used": self.n, "excluded": dict(self.exclusions)}


def encode_column(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Encode one column as sorted-value codes; missing values become the last code, ``(missing)``.

    >>> codes, labels = encode_column(pd.Series(["b", "a", None, "b"]))
    >>> codes.tolist(), labels
    ([1, 0, 2, 1], ['a', 'b', '(missing)'])
    """
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_float_dtype(values):
        values = normalize_labels(values)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    codes = codes.astype(np.int32, copy=False)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes).astype(np.int32)
        labels.append(MISSING_LABEL)
    return codes, labels


def build_dataset(frame: pd.DataFrame, roles: Roles, *, source: str = "<data>", content_hash: str = "",
                  notes: list[str] | None = None) -> Dataset:
    """Validate ``roles`` against ``frame`` and encode it; every problem is reported at once.

    Rows with a missing label, score or prediction are excluded and counted by reason.

    Parameters
    ----------
    frame: the predictions as read by :func:`mlimpact.io.read_predictions`.
    roles: the column roles (missing ``task``/``positive`` are inferred).
    source: the file name, used in messages.
    content_hash: the file's sha256, carried into reports and shared links.
    notes: notes from loading, kept with the Dataset.

    Raises
    ------
    InputError: naming every problem (missing columns, no label, non-numeric scores...).

    >>> df = pd.DataFrame({"y": [0, 1, 1, None], "p": [0.2, 0.8, 0.4, 0.5]})
    >>> ds = build_dataset(df, Roles(label="y", score="p"))
    >>> ds.task, ds.n, ds.exclusions
    ('binary', 3, {'label is missing': 1})
    """
    trace.count("build_dataset")
    b = _Builder(frame, roles, source, notes)
    b.check_columns()
    task = b.task()
    b.check_numeric(task)
    b.read_labels()
    score = prediction = proba = y_num = pv = None
    if task == "binary":
        y_full = b.binary_classes()
        score, prediction = b.binary_score(), b.binary_prediction()
    elif task == "multiclass":
        b.multiclass_classes()
        proba = b.multiclass_proba()
    else:
        y_num, pv = b.regression_values()
    used, idx = b.used_rows()
    if task == "binary":
        y = y_full[idx].astype(np.int8)
        if score is not None:
            score = score[idx]
            b.note_score_range(score)
        if prediction is not None:
            prediction = prediction[idx]
    elif task == "multiclass":
        lookup = {c: i for i, c in enumerate(b.classes)}
        y = b.labels.iloc[idx].map(lookup).to_numpy(dtype=np.int32)
        if roles.prediction is not None:
            prediction = b.pred_labels.iloc[idx].map(lookup).to_numpy(dtype=np.int32)
        if proba is not None:
            proba = proba[idx]
    else:
        y, prediction = y_num[idx], pv[idx]
    unlabelled = b.unlabelled_rows()
    b.parse_time(used, unlabelled)
    return Dataset(frame=used, roles=roles.replace(task=task, positive=b.positive if task == "binary" else None),
                   task=task, y=y, score=score, prediction=prediction, proba=proba, classes=tuple(b.classes),
                   n_total=len(frame), exclusions=b.exclusions, notes=b.notes, source=source,
                   content_hash=content_hash, unlabelled=unlabelled)


def time_span(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp, float] | None:
    """First time, last time and the days between them (plus one when times are whole dates: the last day
    counts in full); ``None`` without a time column or with fewer than two distinct times.

    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7], "t": ["2026-01-01", "2026-01-31"]}),
    ...                    Roles(label="y", score="p", time="t"))
    >>> time_span(ds)[2]
    31.0
    """
    col = dataset.roles.time
    if not col or col not in dataset.frame.columns:
        return None
    key = ("time_span", col)  # several pages ask on every rerun; the rows never change
    if key not in dataset._codes:
        dataset._codes[key] = _time_span(dataset.frame[col])
    return dataset._codes[key]


def _time_span(t: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp, float] | None:
    if not pd.api.types.is_datetime64_any_dtype(t):
        return None
    t = t.dropna()
    if t.nunique() < 2:
        return None
    start, end = t.min(), t.max()
    days = (end - start) / pd.Timedelta(days=1)
    if (t.dt.normalize() == t).all():  # whole dates: the last day counts in full
        days += 1.0
    return start, end, float(days)
