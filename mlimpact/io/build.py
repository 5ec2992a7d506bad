"""The steps of :func:`mlimpact.io.dataset.build_dataset`: check the roles, exclude unusable rows, encode.

Each step adds to one list of problems (raised together, so a file's problems are reported at once)
and to one count of excluded rows by reason (never dropped silently).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io.roles import TASKS, Roles, infer_task, normalize_labels, positive_from_counts
from mlimpact.io.times import iso_share, parse_times

__all__ = ["parse_times", "class_from_column", "LabelClasses", "binary_label_classes",
           "score_range_note"]

_CLASS_PREFIXES = ("prob_", "proba_", "probability_", "p_", "score_")
_CLASS_SUFFIXES = ("_prob", "_proba", "_score")


def _fmt_values(values, limit: int = 3) -> str:
    vals = list(values)[:limit]
    return ", ".join(repr(str(v)) for v in vals)


def _output_hint(frame: pd.DataFrame, roles: Roles) -> str:
    """What to do when no model output was found: name a column that looks like one, and why it was not taken."""
    named = [c for c in frame.columns if c != roles.label and re.search(r"score|prob|pred|risk", str(c).lower())]
    if not named:
        return "pick the column with the model's output"
    col, s = named[0], frame[named[0]]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        why = f"it holds text (e.g. {_fmt_values(s.dropna().astype(str).unique())})"
    else:
        why = f"it has {s.nunique()} distinct value(s)"
    return (f"column `{col}` is named like one but was not taken because {why}; choose it as the prediction (a "
            "predicted class) or the score (numbers) if it is the model's output")


def _join(where: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return where + problems[0]
    return where + f"{len(problems)} problems: " + "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))


#: exclusion reasons about the model's output (a row without a label is still traffic unless one applies)
_OUTPUT_REASONS = ("score is", "prediction is", "a class probability is")


class _Builder:
    """One validation of ``roles`` on ``frame``: problems, excluded rows, and the encoded arrays."""

    def __init__(self, frame: pd.DataFrame, roles: Roles, source: str, notes: list[str] | None):
        self.frame, self.roles = frame, roles
        self.where = f"{source}: " if source else ""
        self.problems: list[str] = []
        self.notes = list(notes or [])
        self.keep = np.ones(len(frame), dtype=bool)
        self.bad_output = np.zeros(len(frame), dtype=bool)
        self.exclusions: dict[str, int] = {}
        self.labels: pd.Series | None = None
        self.positive = roles.positive
        self.classes: tuple[str, ...] = ()
        self.class_names: list[str] = []
        self.pred_labels: pd.Series | None = None

    def fail_if_any(self) -> None:
        if self.problems:
            raise InputError(_join(self.where, self.problems), problems=self.problems)

    def fail(self, problem: str) -> None:
        self.problems.append(problem)
        self.fail_if_any()

    def exclude(self, mask: np.ndarray, reason: str) -> None:
        if reason.startswith(_OUTPUT_REASONS):  # rows whose model output is unusable are not traffic either
            self.bad_output |= mask
        new = mask & self.keep
        count = int(new.sum())
        if count:
            self.exclusions[reason] = self.exclusions.get(reason, 0) + count
            self.keep[new] = False

    def require_numeric(self, column: str, role: str, hint: str) -> None:
        s = self.frame[column]
        if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            bad = s.dropna().astype(str)
            self.problems.append(f"column `{column}` ({role}): values are not numbers (e.g. "
                                 f"{_fmt_values(bad.unique())}); {hint}")

    # ------------------------------------------------------------------ checks before reading values
    def check_columns(self) -> None:
        """Every named column exists; a label and a model output are chosen; the task is known."""
        roles, frame = self.roles, self.frame
        for col in roles.used_columns():
            if col not in frame.columns:
                self.problems.append(f"column `{col}` is not in the file; its columns are "
                                     f"{_fmt_values(frame.columns, 8)}" + (" ..." if len(frame.columns) > 8 else ""))
        if roles.label is None:
            self.problems.append("no label column chosen; pick the column with the true outcome")
        if roles.score is None and roles.prediction is None and not roles.class_scores:
            self.problems.append("no score or prediction column chosen; " + _output_hint(frame, roles))
        if roles.task is not None and roles.task not in TASKS:
            self.problems.append(f"task {roles.task!r} is not one of {', '.join(TASKS)}")
        self.fail_if_any()

    def task(self) -> str:
        label = self.frame[self.roles.label]
        if label.notna().sum() == 0:
            self.fail(f"column `{self.roles.label}` (label): every value is missing; pick the column with the "
                      "true outcome")
        return self.roles.task or infer_task(label, class_scores=self.roles.class_scores)[0]

    def check_numeric(self, task: str) -> None:
        """Scores, amounts and uncertainties are numbers; so are a regression's label and prediction."""
        roles = self.roles
        if roles.score is not None:
            self.require_numeric(roles.score, "score",
                                 "pick a column of numbers as the score, or set this column as the prediction")
        for col in roles.class_scores:
            self.require_numeric(col, "score", "pick columns of numbers")
        if task != "multiclass":  # another multiclass model may be given as its predicted classes (text)
            for col in roles.other_scores:
                self.require_numeric(col, "score", "pick columns of numbers")
        if roles.amount is not None:
            self.require_numeric(roles.amount, "amount", "pick a column of money amounts or none")
        if roles.uncertainty is not None:
            self.require_numeric(roles.uncertainty, "uncertainty", "pick a column of numbers or none")
        if task == "regression":
            self.require_numeric(roles.label, "label",
                                 "a regression label must be numbers; choose the binary or multiclass task instead")
            pred_col = roles.prediction or roles.score
            if pred_col is not None:
                self.require_numeric(pred_col, "prediction", "pick the column of predicted values")
        self.fail_if_any()

    # ------------------------------------------------------------------ labels and classes
    def read_labels(self) -> None:
        self.labels = normalize_labels(self.frame[self.roles.label])
        self.no_label = self.labels.isna().to_numpy()
        self.exclude(self.no_label, "label is missing")

    def binary_classes(self) -> np.ndarray:
        """The positive class and the two classes; rows of a rare third value are excluded."""
        labels = self.labels
        found = binary_label_classes(labels[self.keep].value_counts(), self.positive, self.roles.label)
        if found.problem:
            self.fail(found.problem)
        if found.dropped_reason:
            self.exclude((~labels.isin(found.kept)).fillna(False).to_numpy(), found.dropped_reason)
        self.notes.extend(found.notes)
        self.positive, self.classes = found.positive, found.classes
        return (labels == found.positive).fillna(False).to_numpy()

    def multiclass_classes(self) -> None:
        """Every class seen in the label, the predictions and the probability columns' names."""
        roles = self.roles
        self.pred_labels = normalize_labels(self.frame[roles.prediction]) if roles.prediction else None
        found = set(self.labels.dropna().unique())
        if self.pred_labels is not None:
            found |= set(self.pred_labels.dropna().unique())
        if roles.class_scores:
            self.class_names = [class_from_column(c, found) for c in roles.class_scores]
            found |= set(self.class_names)
        self.classes = tuple(sorted(found))

    # ------------------------------------------------------------------ model outputs
    def binary_score(self) -> np.ndarray | None:
        if self.roles.score is None:
            return None
        score = self.frame[self.roles.score].to_numpy(dtype=float, na_value=np.nan)
        self.exclude(np.isnan(score), "score is missing")
        self.exclude(np.isinf(score), "score is infinite")
        return score

    def binary_prediction(self) -> np.ndarray | None:
        col = self.roles.prediction
        if col is None:
            return None
        p = normalize_labels(self.frame[col])
        self.exclude(p.isna().to_numpy(), "prediction is missing")
        pvals = set(p[self.keep].dropna().unique())
        label_vals = set(self.labels[self.keep].dropna().unique())
        if pvals <= label_vals or self.positive in pvals:
            return (p == self.positive).fillna(False).to_numpy().astype(np.int8)
        if pvals <= {"0", "1", "True", "False", "true", "false"}:
            return p.isin(["1", "True", "true"]).to_numpy().astype(np.int8)
        self.problems.append(f"column `{col}` (prediction): values {_fmt_values(pvals)} do not match "
                             f"the label's values {_fmt_values(label_vals)}; pick the predicted-class column")
        return None

    def multiclass_proba(self) -> np.ndarray | None:
        proba = None
        if self.roles.class_scores:
            mat = self.frame[list(self.roles.class_scores)].to_numpy(dtype=float, na_value=np.nan)
            self.exclude(np.isnan(mat).any(axis=1), "a class probability is missing")
            self.exclude(np.isinf(mat).any(axis=1), "a class probability is infinite")
            proba = np.zeros((len(self.frame), len(self.classes)))
            for j, c in enumerate(self.classes):
                if c in self.class_names:
                    proba[:, j] = mat[:, self.class_names.index(c)]
        if self.roles.prediction is not None:
            self.exclude(self.pred_labels.isna().to_numpy(), "prediction is missing")
        elif proba is None:
            self.problems.append("multiclass needs a predicted-class column or one probability column per class")
        return proba

    def regression_values(self) -> tuple[np.ndarray, np.ndarray]:
        y_num = self.frame[self.roles.label].to_numpy(dtype=float, na_value=np.nan)
        self.exclude(np.isinf(y_num), "label is infinite")
        pv = self.frame[self.roles.prediction or self.roles.score].to_numpy(dtype=float, na_value=np.nan)
        self.exclude(np.isnan(pv), "prediction is missing")
        self.exclude(np.isinf(pv), "prediction is infinite")
        return y_num, pv

    # ------------------------------------------------------------------ the rows kept
    def used_rows(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The kept rows (index reset) and their positions; no usable row at all is an error."""
        self.fail_if_any()
        if self.keep.sum() == 0:
            reasons = ", ".join(f"{k}: {v:,}" for k, v in self.exclusions.items())
            raise InputError(f"{self.where}no usable rows ({reasons}); check the label and score columns")
        frame = self.frame
        used = frame.loc[self.keep].reset_index(drop=True) if not self.keep.all() else frame.reset_index(drop=True)
        return used, np.flatnonzero(self.keep)

    def unlabelled_rows(self) -> pd.DataFrame | None:
        """The rows whose label is missing but whose model output is usable (index reset), or None;
        :meth:`parse_time` parses their time."""
        rows = self.no_label & ~self.bad_output
        if not rows.any():
            return None
        return self.frame.loc[rows].reset_index(drop=True)

    def _note_unlabelled_times(self, used: pd.Series, raw: pd.Series, parsed: pd.Series) -> None:
        """Notes on the rows without a label: times written differently from the labelled rows', or unreadable."""
        col = self.roles.time
        if iso_share(used) == 1.0 and iso_share(raw) < 1.0:
            example = raw.dropna().astype(str).iloc[0] if raw.notna().any() else ""
            self.notes.append(f"column `{col}` (time): the rows without a label write their times differently from "
                              f"the labelled rows (e.g. {example[:40]!r}); check that they were read as meant")
        missing = int(parsed.isna().sum())
        if missing:
            self.notes.append(f"column `{col}` (time): {missing:,} rows without a label have no readable time; "
                              "checks per day, week or month leave them out")

    def note_score_range(self, score: np.ndarray) -> None:
        note = score_range_note(self.roles.score, float(score.min()), float(score.max()))
        if note:
            self.notes.append(note)

    def parse_time(self, used: pd.DataFrame, unlabelled: pd.DataFrame | None = None) -> None:
        """Parse the time column of the used rows (and of the unlabelled ones, read the same way, uncounted)."""
        col = self.roles.time
        if col is not None:
            extra = 0 if unlabelled is None else len(unlabelled)
            both = pd.concat([used[col], unlabelled[col]], ignore_index=True) if extra else used[col]
            parsed, bad = parse_times(both, self.notes)
            if extra:
                self._note_unlabelled_times(used[col], unlabelled[col], parsed.iloc[len(used):])
                unlabelled[col] = parsed.iloc[len(used):].reset_index(drop=True)
                parsed = parsed.iloc[:len(used)]
                bad = int(parsed.isna().sum() - used[col].isna().sum())
            used[col] = parsed.to_numpy() if extra else parsed
            if bad:
                self.notes.append(f"column `{col}` (time): {bad:,} values are not dates; those rows are left out "
                                  "of charts over time")
            first, last = parsed.min(), parsed.max()
            if pd.notna(first) and (last - first).days > 200 * 365.25:
                self.notes.append(f"column `{col}` (time): the times span {(last - first).days / 365.25:,.0f} years "
                                  f"(from {first:%Y-%m-%d} to {last:%Y-%m-%d}); check the dates for a mistyped year")


def score_range_note(column: str, lo: float, hi: float) -> str | None:
    """The note for scores outside [0, 1] (None inside it).

    >>> score_range_note("p", 0.0, 1.0) is None
    True
    """
    if lo >= 0 and hi <= 1:
        return None
    return (f"column `{column}`: scores range from {lo:g} to {hi:g}, not 0 to 1; they are used as scores (the "
            "threshold is in their units) and log loss and Brier score are unavailable")


@dataclass(frozen=True)
class LabelClasses:
    """The binary classes read from a label's value counts (see :func:`binary_label_classes`)."""

    positive: str
    classes: tuple[str, str]  #: negative, positive
    kept: tuple[str, ...]  #: the values whose rows are used
    dropped_reason: str | None  #: the exclusion reason of rows holding other values (None: no such rows)
    notes: tuple[str, ...]
    problem: str | None


def binary_label_classes(values: pd.Series, positive, label_col: str) -> LabelClasses:
    """The one rule for a binary label, from its normalized values' counts (most frequent first): the
    positive class (given or inferred), the two classes, a rare third value's rows excluded (at most 1%
    of rows; more is a problem), notes when a class never occurs.

    >>> found = binary_label_classes(pd.Series({"no": 95, "yes": 5}), None, "y")
    >>> found.positive, found.classes, found.dropped_reason
    ('yes', ('no', 'yes'), None)
    """
    positive = str(positive if positive is not None else positive_from_counts(values)[0])
    problem = dropped = None
    notes: list[str] = []
    kept = tuple(values.index)
    if len(values) > 2:
        top2 = list(values.index[:2])
        if positive not in top2:
            top2 = [positive, top2[0]] if top2[0] != positive else top2
        rest = int(values.drop(labels=top2, errors="ignore").sum())
        if rest > 0.01 * values.sum():
            problem = (f"column `{label_col}` (label): {len(values)} distinct values "
                       f"({_fmt_values(values.index, 5)}), a binary task needs two; choose the multiclass task, "
                       "or fix the labels")
        kept = tuple(top2)
        dropped = f"label is not one of the two classes ({_fmt_values(sorted(top2))})"
        values = values[values.index.isin(top2)]
    if positive not in set(values.index):
        if len(values) >= 2:
            problem = problem or (f"positive class {positive!r} is not a value of `{label_col}`; its values are "
                                  f"{_fmt_values(values.index)}")
        notes.append(f"column `{label_col}`: the positive class {positive!r} never occurs; "
                     "metrics that need both classes are unavailable")
    elif len(values) == 1:
        notes.append(f"column `{label_col}`: only one class ({_fmt_values(values.index)}) occurs; "
                     "metrics that need both classes are unavailable")
    negatives = [v for v in values.index if v != positive]
    return LabelClasses(positive, (negatives[0] if negatives else f"not {positive}", positive), kept, dropped,
                        tuple(notes), problem)


def _norm_name(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


def class_from_column(column: str, known: set[str]) -> str:
    """The class a probability column stands for (``prob_billing`` -> ``billing``).

    >>> class_from_column("prob_billing", {"billing", "technical"}), class_from_column("Technical_proba", {"technical"})
    ('billing', 'technical')
    """
    norm = _norm_name(column)
    by_norm = {_norm_name(k): k for k in known}
    for prefix in _CLASS_PREFIXES:
        if norm.startswith(prefix) and norm[len(prefix):] in by_norm:
            return by_norm[norm[len(prefix):]]
    for suffix in _CLASS_SUFFIXES:
        if norm.endswith(suffix) and norm[: -len(suffix)] in by_norm:
            return by_norm[norm[: -len(suffix)]]
    if norm in by_norm:
        return by_norm[norm]
    for prefix in _CLASS_PREFIXES:
        if norm.startswith(prefix):
            return norm[len(prefix):]
    return column
