"""Column roles: which column is the label, the score, a segment, the time...

Every role is inferred from column names and values, with a reason a person can read,
and every role can be overridden. :func:`infer_roles` never raises on odd data: it
guesses what it can and leaves the rest empty; :mod:`mlimpact.io.dataset` validates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["TASKS", "ROLE_NAMES", "Roles", "RoleGuess", "infer_task", "infer_positive", "positive_from_counts",
           "normalize_labels"]

TASKS = ("binary", "multiclass", "regression")

#: Roles that hold one column name (the rest hold a tuple of names).
SINGLE_ROLES = ("label", "score", "prediction", "time", "id", "amount", "uncertainty")
MULTI_ROLES = ("class_scores", "segments", "other_scores")
ROLE_NAMES = SINGLE_ROLES + MULTI_ROLES

#: Maximum distinct values for a column to be offered as a segment by default.
MAX_SEGMENT_VALUES = 100
#: Maximum number of segment columns chosen by default.
MAX_DEFAULT_SEGMENTS = 8

_POSITIVE_WORDS = (
    "1", "true", "t", "yes", "y", "positive", "pos", "fraud", "fraudulent", "churn", "churned",
    "click", "clicked", "spam", "default", "defaulted", "bad", "converted", "conversion", "hit",
    "malignant", "anomaly", "attack", "failure", "fail", "failed", "abnormal", "sick", "disease",
)
_NEGATIVE_WORDS = ("0", "false", "f", "no", "n", "negative", "neg", "legit", "legitimate", "ok", "good",
                   "normal", "ham", "benign", "healthy", "pass", "none")


@dataclass(frozen=True)
class Roles:
    """Which column plays which part. Hashable, so it can key a cache.

    ``task`` and ``positive`` are ``None`` until inferred or chosen.

    >>> Roles(label="y", score="p").replace(segments=("region",)).segments
    ('region',)
    """

    label: str | None = None
    score: str | None = None
    prediction: str | None = None
    class_scores: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    time: str | None = None
    id: str | None = None
    amount: str | None = None
    other_scores: tuple[str, ...] = ()
    uncertainty: str | None = None
    task: str | None = None
    positive: str | None = None

    def replace(self, **changes) -> Roles:
        """A copy with some roles changed (tuples accepted as lists)."""
        for key in MULTI_ROLES:
            if key in changes and changes[key] is not None:
                changes[key] = tuple(changes[key])
        return dataclasses.replace(self, **changes)

    def used_columns(self) -> list[str]:
        """Every column named by a role, in role order, without repeats."""
        cols: list[str] = []
        for key in ROLE_NAMES:
            value = getattr(self, key)
            for c in (value if isinstance(value, tuple) else (value,)):
                if c is not None and c not in cols:
                    cols.append(c)
        return cols

    def to_dict(self) -> dict:
        """Plain dict (lists for tuples), for JSON and reports."""
        out = dataclasses.asdict(self)
        for key in MULTI_ROLES:
            out[key] = list(out[key])
        return out


@dataclass(frozen=True)
class RoleGuess:
    """The inferred roles plus one readable reason per role that was filled, and, per role, the other
    columns that could also fill it (best first), so a person can switch in one click."""

    roles: Roles
    reasons: dict[str, str] = field(default_factory=dict)
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- name patterns


# ----------------------------------------------------------------------------- value helpers
def normalize_labels(values: pd.Series) -> pd.Series:
    """Label values as clean strings: 1.0 -> '1', True -> 'True', ' yes ' -> 'yes'; missing stays NA.

    >>> normalize_labels(pd.Series([1.0, 0.0, None])).tolist()
    ['1', '0', <NA>]
    >>> normalize_labels(pd.Series([0.0, 1e30])).tolist()
    ['0.0', '1e+30']
    """
    s = values
    if pd.api.types.is_bool_dtype(s):
        out = s.astype("string")
    elif pd.api.types.is_float_dtype(s):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(arr)
        whole = finite.any() and np.all(arr[finite] == np.round(arr[finite]))
        if whole and np.abs(arr[finite]).max() < 2**53:  # exact as integers; 1e30 stays '1e+30', not int64 overflow
            out = pd.Series(pd.array(np.where(finite, arr, 0).astype(np.int64), dtype="Int64"), index=s.index)
            out = out.mask(~finite).astype("string")
        else:
            out = s.astype("string")
    else:
        out = s.astype("string").str.strip()
        out = out.mask(out == "")
    return out


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _float_values(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=float, na_value=np.nan)


def infer_task(label: pd.Series, *, class_scores: tuple[str, ...] = ()) -> tuple[str, str]:
    """Guess the task from the label values; returns ``(task, reason)``.

    >>> infer_task(pd.Series([0, 1, 1]))[0]
    'binary'
    >>> infer_task(pd.Series([3.2, 4.1, 5.0, 7.7]))[0]
    'regression'
    """
    values = label.dropna()
    distinct = values.nunique()
    if distinct <= 2:
        return "binary", f"{distinct} distinct values"
    counts = normalize_labels(values).value_counts()
    other = int(counts.iloc[2:].sum())
    if other <= 0.01 * len(values) and not class_scores:
        return "binary", f"2 main values ({other:,} rows hold other values)"
    if len(class_scores) >= 2:
        return "multiclass", f"{distinct} classes with a probability column each"
    if _is_numeric(label):
        arr = _float_values(values)
        integral = bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
        if integral and distinct <= 20:
            return "multiclass", f"{distinct} whole-number classes"
        return "regression", f"numbers with {distinct} distinct values"
    if distinct <= 200:
        return "multiclass", f"{distinct} classes"
    return "multiclass", f"{distinct} distinct text values (many for classes; check the label column)"


def infer_positive(label: pd.Series) -> tuple[str | None, str]:
    """Pick the positive class of a binary label; returns ``(value, reason)``.

    >>> infer_positive(pd.Series(["no", "yes", "no"]))
    ('yes', "'yes' reads as the positive class")
    >>> infer_positive(pd.Series([0, 1, 0]))[0]
    '1'
    """
    return positive_from_counts(normalize_labels(label).dropna().value_counts())


def positive_from_counts(counts: pd.Series) -> tuple[str | None, str]:
    """:func:`infer_positive` from the normalized label values' counts (most frequent first), as an
    engine counts them.

    >>> positive_from_counts(pd.Series({"0": 90, "1": 10}))
    ('1', "'1' reads as the positive class")
    """
    values = list(counts.index)
    if not values:
        return None, "no label values"
    lowered = {v: v.lower() for v in values}
    for word in _POSITIVE_WORDS:
        for v, low in lowered.items():
            if low == word:
                return v, f"'{v}' reads as the positive class"
    if len(values) == 2:
        for v, low in lowered.items():
            if low in _NEGATIVE_WORDS:
                other = values[1] if v == values[0] else values[0]
                return other, f"'{v}' reads as the negative class"
        rare = counts.index[-1]
        return rare, f"'{rare}' is the rarer of the two values"
    only = values[-1]
    counterpart = {"0": "1", "false": "True", "f": "t", "no": "yes", "n": "y", "negative": "positive", "neg": "pos"}
    if only.lower() in counterpart:
        guess = counterpart[only.lower()]
        return guess, f"only '{only}' occurs, which reads as the negative class"
    return only, f"'{only}' is the only value seen"


# ----------------------------------------------------------------------------- inference


