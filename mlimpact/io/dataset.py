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

from mlimpact.errors import InputError
from mlimpact.io.decision import DEFAULT_THRESHOLD, decide
from mlimpact.io.roles import TASKS, Roles, infer_positive, infer_task, normalize_labels

__all__ = ["class_from_column", "Dataset", "build_dataset", "MISSING_LABEL", "encode_column"]

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


def _fmt_values(values, limit: int = 3) -> str:
    vals = list(values)[:limit]
    return ", ".join(repr(str(v)) for v in vals)


def _require_numeric(frame: pd.DataFrame, column: str, role: str, problems: list[str], hint: str) -> None:
    s = frame[column]
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        bad = s.dropna().astype(str)
        problems.append(f"column `{column}` ({role}): values are not numbers (e.g. {_fmt_values(bad.unique())}); "
                        f"{hint}")


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
    problems: list[str] = []
    notes = list(notes or [])
    where = f"{source}: " if source else ""

    # 1. every named column exists
    for col in roles.used_columns():
        if col not in frame.columns:
            problems.append(f"column `{col}` is not in the file; its columns are {_fmt_values(frame.columns, 8)}"
                            + (" ..." if len(frame.columns) > 8 else ""))
    if roles.label is None:
        problems.append("no label column chosen; pick the column with the true outcome")
    if roles.score is None and roles.prediction is None and not roles.class_scores:
        problems.append("no score or prediction column chosen; pick the column with the model's output")
    if roles.task is not None and roles.task not in TASKS:
        problems.append(f"task {roles.task!r} is not one of {', '.join(TASKS)}")
    if problems:
        raise InputError(_join(where, problems), problems=problems)

    label = frame[roles.label]
    if label.notna().sum() == 0:
        problems.append(f"column `{roles.label}` (label): every value is missing; pick the column with the "
                        "true outcome")
        raise InputError(_join(where, problems), problems=problems)
    task = roles.task or infer_task(label, class_scores=roles.class_scores)[0]

    if roles.score is not None:
        _require_numeric(frame, roles.score, "score", problems,
                         "pick a column of numbers as the score, or set this column as the prediction")
    for col in roles.class_scores:
        _require_numeric(frame, col, "score", problems, "pick columns of numbers")
    if task != "multiclass":  # another multiclass model may be given as its predicted classes (text)
        for col in roles.other_scores:
            _require_numeric(frame, col, "score", problems, "pick columns of numbers")
    if roles.amount is not None:
        _require_numeric(frame, roles.amount, "amount", problems, "pick a column of money amounts or none")
    if roles.uncertainty is not None:
        _require_numeric(frame, roles.uncertainty, "uncertainty", problems, "pick a column of numbers or none")
    if task == "regression":
        _require_numeric(frame, roles.label, "label", problems,
                         "a regression label must be numbers; choose the binary or multiclass task instead")
        pred_col = roles.prediction or roles.score
        if pred_col is not None:
            _require_numeric(frame, pred_col, "prediction", problems, "pick the column of predicted values")
    if problems:
        raise InputError(_join(where, problems), problems=problems)

    keep = np.ones(len(frame), dtype=bool)
    exclusions: dict[str, int] = {}

    def exclude(mask: np.ndarray, reason: str) -> None:
        new = mask & keep
        count = int(new.sum())
        if count:
            exclusions[reason] = exclusions.get(reason, 0) + count
            keep[new] = False

    labels = normalize_labels(label)
    exclude(labels.isna().to_numpy(), "label is missing")

    positive = roles.positive
    classes: tuple[str, ...]
    if task == "binary":
        values = labels[keep].value_counts()
        if positive is None:
            positive = infer_positive(labels[keep])[0]
        positive = str(positive)
        if len(values) > 2:
            top2 = list(values.index[:2])
            if positive not in top2:
                top2 = [positive, top2[0]] if top2[0] != positive else top2
            rest = int(values.drop(labels=top2, errors="ignore").sum())
            if rest > 0.01 * values.sum():
                problems.append(
                    f"column `{roles.label}` (label): {len(values)} distinct values ({_fmt_values(values.index, 5)}),"
                    " a binary task needs two; choose the multiclass task, or fix the labels")
                raise InputError(_join(where, problems), problems=problems)
            exclude((~labels.isin(top2)).fillna(False).to_numpy(),
                    f"label is not one of the two classes ({_fmt_values(sorted(top2))})")
            values = labels[keep].value_counts()
        if positive not in set(values.index):
            if len(values) >= 2:
                problems.append(f"positive class {positive!r} is not a value of `{roles.label}`; its values are "
                                f"{_fmt_values(values.index)}")
                raise InputError(_join(where, problems), problems=problems)
            notes.append(f"column `{roles.label}`: the positive class {positive!r} never occurs; "
                         "metrics that need both classes are unavailable")
        elif len(values) == 1:
            notes.append(f"column `{roles.label}`: only one class ({_fmt_values(values.index)}) occurs; "
                         "metrics that need both classes are unavailable")
        negatives = [v for v in values.index if v != positive]
        classes = (negatives[0] if negatives else f"not {positive}", positive)
        y_full = (labels == positive).fillna(False).to_numpy()
    elif task == "multiclass":
        pred_labels = normalize_labels(frame[roles.prediction]) if roles.prediction else None
        found = set(labels.dropna().unique())
        if pred_labels is not None:
            found |= set(pred_labels.dropna().unique())
        if roles.class_scores:
            class_names = [class_from_column(c, found) for c in roles.class_scores]
            found |= set(class_names)
            classes = tuple(sorted(found))
        else:
            classes = tuple(sorted(found))
        y_full = None
    else:
        classes = ()
        y_full = None

    score = None
    if task == "binary" and roles.score is not None:
        score_all = frame[roles.score].to_numpy(dtype=float, na_value=np.nan)
        exclude(np.isnan(score_all), "score is missing")
        exclude(np.isinf(score_all), "score is infinite")
        score = score_all
    prediction = None
    if task == "binary" and roles.prediction is not None:
        p = normalize_labels(frame[roles.prediction])
        exclude(p.isna().to_numpy(), "prediction is missing")
        pvals = set(p[keep].dropna().unique())
        label_vals = set(labels[keep].dropna().unique())
        if pvals <= label_vals or positive in pvals:
            prediction = (p == positive).fillna(False).to_numpy().astype(np.int8)
        elif pvals <= {"0", "1", "True", "False", "true", "false"}:
            prediction = p.isin(["1", "True", "true"]).to_numpy().astype(np.int8)
        else:
            problems.append(f"column `{roles.prediction}` (prediction): values {_fmt_values(pvals)} do not match "
                            f"the label's values {_fmt_values(label_vals)}; pick the predicted-class column")
    proba = None
    if task == "multiclass":
        if roles.class_scores:
            mat = frame[list(roles.class_scores)].to_numpy(dtype=float, na_value=np.nan)
            exclude(np.isnan(mat).any(axis=1), "a class probability is missing")
            exclude(np.isinf(mat).any(axis=1), "a class probability is infinite")
            order = [class_names.index(c) if c in class_names else None for c in classes]
            full = np.zeros((len(frame), len(classes)))
            for j, src in enumerate(order):
                if src is not None:
                    full[:, j] = mat[:, src]
            proba = full
        if roles.prediction is not None:
            exclude(pred_labels.isna().to_numpy(), "prediction is missing")
        elif proba is None:
            problems.append("multiclass needs a predicted-class column or one probability column per class")
    if task == "regression":
        y_num = frame[roles.label].to_numpy(dtype=float, na_value=np.nan)
        exclude(np.isinf(y_num), "label is infinite")
        pred_col = roles.prediction or roles.score
        pv = frame[pred_col].to_numpy(dtype=float, na_value=np.nan)
        exclude(np.isnan(pv), "prediction is missing")
        exclude(np.isinf(pv), "prediction is infinite")
    if problems:
        raise InputError(_join(where, problems), problems=problems)

    if keep.sum() == 0:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in exclusions.items())
        raise InputError(f"{where}no usable rows ({reasons}); check the label and score columns")

    used = frame.loc[keep].reset_index(drop=True) if not keep.all() else frame.reset_index(drop=True)
    idx = np.flatnonzero(keep)
    if task == "binary":
        y = y_full[idx].astype(np.int8)
        if score is not None:
            score = score[idx]
            if not (score.min() >= 0 and score.max() <= 1):
                notes.append(f"column `{roles.score}`: scores range from {score.min():g} to {score.max():g}, not "
                             "0 to 1; they are used as scores (the threshold is in their units) and log loss and "
                             "Brier score are unavailable")
        if prediction is not None:
            prediction = prediction[idx]
    elif task == "multiclass":
        lookup = {c: i for i, c in enumerate(classes)}
        y = labels.iloc[idx].map(lookup).to_numpy(dtype=np.int32)
        if roles.prediction is not None:
            prediction = pred_labels.iloc[idx].map(lookup).to_numpy(dtype=np.int32)
        if proba is not None:
            proba = proba[idx]
    else:
        y = y_num[idx]
        prediction = pv[idx]

    if roles.time is not None:
        parsed, bad = parse_times(used[roles.time])
        used[roles.time] = parsed
        if bad:
            notes.append(f"column `{roles.time}` (time): {bad:,} values are not dates; those rows are left out of "
                         "charts over time")

    return Dataset(frame=used, roles=roles.replace(task=task, positive=positive if task == "binary" else None),
                   task=task, y=y, score=score, prediction=prediction, proba=proba, classes=tuple(classes),
                   n_total=len(frame), exclusions=exclusions, notes=notes, source=source,
                   content_hash=content_hash)


def parse_times(values: pd.Series) -> tuple[pd.Series, int]:
    """Parse a time column (ISO first, then mixed formats); returns the datetimes and how many failed.

    >>> parsed, bad = parse_times(pd.Series(["2026-01-02", "2026-01-03 10:00", "soon"]))
    >>> bad
    1
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
    else:
        text = values.astype("string")
        out = pd.to_datetime(text, errors="coerce", format="ISO8601")
        failed = out.isna() & text.notna()
        if failed.any():
            out = out.copy()
            out[failed] = pd.to_datetime(text[failed], errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = int((out.isna() & values.notna()).sum())
    return out, bad


def class_from_column(column: str, known: set[str]) -> str:
    """The class a probability column stands for (``prob_billing`` -> ``billing``)."""
    import re

    norm = re.sub(r"[^0-9a-z]+", "_", column.strip().lower()).strip("_")
    by_norm = {re.sub(r"[^0-9a-z]+", "_", k.strip().lower()).strip("_"): k for k in known}
    for prefix in ("prob_", "proba_", "probability_", "p_", "score_"):
        if norm.startswith(prefix) and norm[len(prefix):] in by_norm:
            return by_norm[norm[len(prefix):]]
    for suffix in ("_prob", "_proba", "_score"):
        if norm.endswith(suffix) and norm[: -len(suffix)] in by_norm:
            return by_norm[norm[: -len(suffix)]]
    if norm in by_norm:
        return by_norm[norm]
    for prefix in ("prob_", "proba_", "probability_", "p_", "score_"):
        if norm.startswith(prefix):
            return norm[len(prefix):]
    return column


def _join(where: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return where + problems[0]
    return where + f"{len(problems)} problems: " + "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
