"""Column roles: which column is the label, the score, a segment, the time...

Every role is inferred from column names and values, with a reason a person can read,
and every role can be overridden. :func:`infer_roles` never raises on odd data: it
guesses what it can and leaves the rest empty; :mod:`mlimpact.io.dataset` validates.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "TASKS",
    "ROLE_NAMES",
    "Roles",
    "RoleGuess",
    "infer_roles",
    "infer_task",
    "infer_positive",
    "normalize_labels",
]

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
    """The inferred roles plus one readable reason per role that was filled."""

    roles: Roles
    reasons: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- name patterns
def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


_LABEL_EXACT = {"label", "target", "y", "y_true", "ytrue", "truth", "ground_truth", "actual", "outcome",
                "class", "true", "true_label", "true_class", "gold", "gt", "is_positive", "response"}
_LABEL_WORDS = ("label", "target", "truth", "actual", "outcome", "true", "gold")
_LABEL_EVENT_WORDS = ("clicked", "churned", "converted", "defaulted", "fraud", "is_fraud", "spam")
_SCORE_WORDS = ("score", "prob", "proba", "probability", "likelihood", "confidence", "risk", "pred", "ctr",
                "yhat", "y_hat", "logit", "p")
_PRED_CLASS_WORDS = ("pred", "predicted", "prediction", "yhat", "y_hat", "y_pred", "decision", "assigned")
_TIME_WORDS = ("time", "timestamp", "date", "datetime", "ts", "day", "created", "created_at", "updated",
               "event_time", "dt", "period", "week", "month")
_ID_WORDS = ("id", "uuid", "guid", "key", "identifier", "row", "index", "idx")
_AMOUNT_WORDS = ("amount", "amt", "value", "revenue", "price", "cost", "spend", "loss", "exposure",
                 "balance", "sales", "money", "eur", "usd", "gbp")
_UNCERTAINTY_WORDS = ("std", "stdev", "stddev", "sigma", "stderr", "se", "uncertainty", "variance", "var",
                      "interval", "width")


def _tokens(name: str) -> list[str]:
    return [t for t in _norm(name).split("_") if t]


def _has_word(name: str, words) -> bool:
    toks = _tokens(name)
    return any(w in toks for w in words) or _norm(name) in words


def _label_name_rank(name: str) -> int:
    """Lower is a stronger hint that the column is the target; 99 = no hint."""
    n = _norm(name)
    toks = _tokens(name)
    if n in _LABEL_EXACT:
        return 0
    if toks and toks[0] in ("true", "actual", "is", "has", "was") and not _has_word(name, _PRED_CLASS_WORDS):
        return 1
    if toks and toks[-1] in ("true", "actual", "label", "target") and not _has_word(name, _PRED_CLASS_WORDS):
        return 1
    if any(w in toks for w in _LABEL_WORDS) and not _has_word(name, _PRED_CLASS_WORDS + ("score", "prob")):
        return 2
    if n in _LABEL_EVENT_WORDS:
        return 3
    return 99


# ----------------------------------------------------------------------------- value helpers
def normalize_labels(values: pd.Series) -> pd.Series:
    """Label values as clean strings: 1.0 -> '1', True -> 'True', ' yes ' -> 'yes'; missing stays NA.

    >>> normalize_labels(pd.Series([1.0, 0.0, None])).tolist()
    ['1', '0', <NA>]
    """
    s = values
    if pd.api.types.is_bool_dtype(s):
        out = s.astype("string")
    elif pd.api.types.is_float_dtype(s):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(arr)
        if finite.any() and np.all(arr[finite] == np.round(arr[finite])):
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


def _looks_like_time(s: pd.Series, name: str) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
        return False
    sample = s.dropna().head(200)
    if sample.empty:
        return False
    if not sample.astype(str).str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True).mean() >= 0.9:
        return False
    parsed = pd.to_datetime(sample.astype(str), errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


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
    norm = normalize_labels(label).dropna()
    counts = norm.value_counts()
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
def _distinct_ratio(s: pd.Series) -> float:
    n = int(s.notna().sum())
    return s.nunique() / n if n else 0.0


def _class_score_columns(df: pd.DataFrame, classes: list[str], taken: set[str]) -> tuple[str, ...]:
    """Columns named ``prob_<class>``, ``p_<class>``, ``score_<class>`` or exactly after each class."""
    by_norm = {_norm(c): c for c in df.columns if c not in taken and _is_numeric(df[c])}
    found = []
    for cls in classes:
        k = _norm(cls)
        for pattern in (f"prob_{k}", f"proba_{k}", f"probability_{k}", f"p_{k}", f"score_{k}",
                        f"{k}_prob", f"{k}_proba", f"{k}_score", k):
            if pattern in by_norm:
                found.append(by_norm[pattern])
                break
        else:
            return ()
    return tuple(found)


def infer_roles(df: pd.DataFrame) -> RoleGuess:
    """Infer every column role from names and values, with a reason for each.

    >>> frame = pd.DataFrame({"is_fraud": [0, 1, 0, 1], "score": [0.1, 0.9, 0.2, 0.7],
    ...                       "region": ["n", "s", "n", "s"]})
    >>> guess = infer_roles(frame)
    >>> guess.roles.label, guess.roles.score, guess.roles.segments, guess.roles.task
    ('is_fraud', 'score', ('region',), 'binary')
    """
    cols = list(df.columns)
    reasons: dict[str, str] = {}
    taken: set[str] = set()
    roles: dict = {}

    def assign(role: str, value, reason: str) -> None:
        """Give ``role`` its column(s), mark them taken, and keep the reason shown to the user."""
        roles[role] = value
        taken.update(value if isinstance(value, tuple) else (value,))
        reasons[role] = reason

    # time: datetime dtype or date-like text, preferring time-like names
    time_candidates = [c for c in cols if _has_word(c, _TIME_WORDS) and _looks_like_time(df[c], c)]
    time_candidates += [c for c in cols if c not in time_candidates and pd.api.types.is_datetime64_any_dtype(df[c])]
    if not time_candidates:
        time_candidates = [c for c in cols if _looks_like_time(df[c], c)]
    if time_candidates:
        assign("time", time_candidates[0], f"`{time_candidates[0]}`: values read as dates")

    # id: named like an identifier and (nearly) unique
    for c in cols:
        if c in taken:
            continue
        if _has_word(c, _ID_WORDS) and _distinct_ratio(df[c]) >= 0.95 and len(df) > 1:
            assign("id", c, f"`{c}`: named like an identifier, {100 * _distinct_ratio(df[c]):.0f}% distinct values")
            break

    # label: best name rank, then fewest distinct values among candidates
    label_candidates = []
    for c in cols:
        if c in taken:
            continue
        rank = _label_name_rank(c)
        if rank < 99:  # chosen by name even when empty, so validation can say what is wrong with it
            label_candidates.append((rank, cols.index(c), c))
    if label_candidates:
        label = sorted(label_candidates)[0][2]
    else:
        # fall back: a two-valued column that is not score-like
        two_valued = [c for c in cols if c not in taken and df[c].nunique() == 2
                      and not _has_word(c, _SCORE_WORDS + _PRED_CLASS_WORDS)]
        label = two_valued[0] if two_valued else None
    if label is not None:
        roles["label"] = label
        taken.add(label)

    label_series = df[label] if label is not None else None
    classes = (sorted(normalize_labels(label_series).dropna().unique().tolist())
               if label_series is not None else [])

    # multiclass probability columns
    class_scores: tuple[str, ...] = ()
    if label_series is not None and 3 <= len(classes) <= 200:
        class_scores = _class_score_columns(df, classes, taken)
        if class_scores:
            assign("class_scores", class_scores,
                   f"{len(class_scores)} probability columns named after the classes (`{class_scores[0]}`, ...)")

    task = None
    if label_series is not None:
        task, task_reason = infer_task(label_series, class_scores=class_scores)
        roles["task"] = task
        reasons["task"] = f"{task}: label `{label}` has {task_reason}"
        hint = "named like a target" if _label_name_rank(label) < 99 else "two values, not named like a score"
        reasons["label"] = f"`{label}`: {task_reason}, {hint}"

    # prediction (class or value) and scores
    numeric = [c for c in cols if c not in taken and _is_numeric(df[c])]
    if task == "binary":
        positive, why = infer_positive(label_series)
        roles["positive"] = positive
        reasons["positive"] = why
        scores = []
        for c in numeric:
            if df[c].nunique() > 2 and (_has_word(c, _SCORE_WORDS) or _norm(c).startswith(("p_", "prob", "score"))):
                scores.append(c)
        if not scores:  # any real-valued column in [0, 1] is a good guess
            for c in numeric:
                v = _float_values(df[c])
                v = v[np.isfinite(v)]
                if len(v) and df[c].nunique() > 2 and v.min() >= 0 and v.max() <= 1:
                    scores.append(c)
        if scores:
            assign("score", scores[0], f"`{scores[0]}`: real-valued, named like a score")
            if len(scores) > 1:
                assign("other_scores", tuple(scores[1:]),
                       f"{len(scores) - 1} more score column(s) treated as other models: "
                       + ", ".join(f"`{c}`" for c in scores[1:]))
        preds = [c for c in cols if c not in taken and _has_word(c, _PRED_CLASS_WORDS) and df[c].nunique() <= 2]
        if preds:
            assign("prediction", preds[0], f"`{preds[0]}`: two values, named like a predicted class")
    elif task == "multiclass":
        preds = [c for c in cols if c not in taken and _has_word(c, _PRED_CLASS_WORDS)]
        if preds:
            assign("prediction", preds[0], f"`{preds[0]}`: named like a predicted class")
    elif task == "regression":
        preds = [c for c in numeric if _has_word(c, _PRED_CLASS_WORDS + ("forecast", "estimate", "estimated"))]
        preds = [c for c in preds if not _has_word(c, _UNCERTAINTY_WORDS)]
        if preds:
            assign("prediction", preds[0], f"`{preds[0]}`: numbers, named like a prediction")
            if len(preds) > 1:
                assign("other_scores", tuple(preds[1:]), "more prediction columns treated as other models: "
                       + ", ".join(f"`{c}`" for c in preds[1:]))
        unc = [c for c in numeric if c not in taken and _has_word(c, _UNCERTAINTY_WORDS)]
        if unc:
            assign("uncertainty", unc[0], f"`{unc[0]}`: named like an uncertainty (standard deviation)")

    # amount
    for c in cols:
        if c not in taken and _is_numeric(df[c]) and _has_word(c, _AMOUNT_WORDS):
            assign("amount", c, f"`{c}`: numbers, named like a money amount")
            break

    # segments: remaining text/boolean/small-integer columns with few distinct values
    segments = []
    for c in cols:
        if c in taken or len(segments) >= MAX_DEFAULT_SEGMENTS:
            continue
        s = df[c]
        distinct = s.nunique()
        if distinct < 2 or distinct > MAX_SEGMENT_VALUES:
            continue
        if _is_numeric(s):
            v = _float_values(s)
            v = v[np.isfinite(v)]
            if not (distinct <= 12 and len(v) and np.all(v == np.round(v))):
                continue
        segments.append(c)
    if segments:
        roles["segments"] = tuple(segments)
        reasons["segments"] = f"{len(segments)} column(s) with 2 to {MAX_SEGMENT_VALUES} distinct values"
    return RoleGuess(Roles(**roles), reasons)
