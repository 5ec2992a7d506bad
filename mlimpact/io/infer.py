"""Role inference: which column is the label, the score, the time, the segments ..., each with a reason."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mlimpact.io.roles import (
    MAX_DEFAULT_SEGMENTS,
    MAX_SEGMENT_VALUES,
    RoleGuess,
    Roles,
    _float_values,
    _is_numeric,
    infer_positive,
    infer_task,
    normalize_labels,
)

__all__ = ["infer_roles"]


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
    parsed = pd.to_datetime(sample.astype(str), errors="coerce", format="mixed", utc=True)  # offsets may differ
    return bool(parsed.notna().mean() >= 0.9)


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
    guess = _Inference(df)
    guess.time()
    guess.id()
    task = guess.label_and_task()
    numeric = [c for c in guess.cols if c not in guess.taken and _is_numeric(df[c])]
    if task == "binary":
        guess.binary_scores(numeric)
    elif task == "multiclass":
        guess.predicted_class()
    elif task == "regression":
        guess.regression(numeric)
    guess.amount()
    guess.segments()
    return RoleGuess(Roles(**guess.roles), guess.reasons, guess.alternatives)


_FLAG_VALUES = {"0", "1", "true", "false", "yes", "no", "y", "n", "t", "f"}


class _Inference:
    """The state of one inference: roles found so far, their reasons, and the columns taken."""

    def __init__(self, df: pd.DataFrame):
        self.df, self.cols = df, list(df.columns)
        self.reasons: dict[str, str] = {}
        self.taken: set[str] = set()
        self.roles: dict = {}
        self.alternatives: dict[str, tuple[str, ...]] = {}

    def assign(self, role: str, value, reason: str | None = None) -> None:
        """Give ``role`` its column(s), mark them taken, and keep the reason shown to the user."""
        self.roles[role] = value
        if role not in ("task", "positive"):
            self.taken.update(value if isinstance(value, tuple) else (value,))
        if reason is not None:
            self.reasons[role] = reason

    def free(self) -> list[str]:
        return [c for c in self.cols if c not in self.taken]

    def time(self) -> None:
        """Datetime dtype or date-like text, preferring time-like names."""
        df, cols = self.df, self.cols
        candidates = [c for c in cols if _has_word(c, _TIME_WORDS) and _looks_like_time(df[c], c)]
        candidates += [c for c in cols if c not in candidates and pd.api.types.is_datetime64_any_dtype(df[c])]
        if not candidates:
            candidates = [c for c in cols if _looks_like_time(df[c], c)]
        if candidates:
            self.assign("time", candidates[0], f"`{candidates[0]}`: values read as dates")

    def id(self) -> None:
        """Named like an identifier and (nearly) unique."""
        for c in self.free():
            if _has_word(c, _ID_WORDS) and _distinct_ratio(self.df[c]) >= 0.95 and len(self.df) > 1:
                why = f"`{c}`: named like an identifier, {100 * _distinct_ratio(self.df[c]):.0f}% distinct values"
                self.assign("id", c, why)
                return

    def label(self) -> str | None:
        """Best name rank, then the first column; else a two-valued column that is not score-like.

        The runners-up (named like a target, or two-valued like the label) are kept as alternatives.
        """
        ranked = [(_label_name_rank(c), self.cols.index(c), c) for c in self.free()]
        named = [c for _, _, c in sorted(r for r in ranked if r[0] < 99)]  # chosen by name even when empty
        two_valued = [c for c in self.free() if c not in named and self.df[c].nunique() == 2
                      and not _has_word(c, _SCORE_WORDS + _PRED_CLASS_WORDS)]
        flags = [c for c in two_valued if set(normalize_labels(self.df[c]).dropna().str.lower()) <= _FLAG_VALUES]
        if named:  # a runner-up must look like an outcome: named like one, or a 0/1, yes/no flag
            two_valued = flags
        candidates = named + two_valued
        if not candidates:
            return None
        self.alternatives["label"] = tuple(candidates[1:4])
        return candidates[0]

    def label_and_task(self) -> str | None:
        """The label, the multiclass probability columns, and the task they imply."""
        label = self.label()
        if label is None:
            return None
        self.assign("label", label)
        series = self.df[label]
        classes = sorted(normalize_labels(series).dropna().unique().tolist())
        class_scores: tuple[str, ...] = ()
        if 3 <= len(classes) <= 200:
            class_scores = _class_score_columns(self.df, classes, self.taken)
            if class_scores:
                self.assign("class_scores", class_scores, f"{len(class_scores)} probability columns named after "
                                                          f"the classes (`{class_scores[0]}`, ...)")
        task, task_reason = infer_task(series, class_scores=class_scores)
        self.assign("task", task, f"{task}: label `{label}` has {task_reason}")
        hint = "named like a target" if _label_name_rank(label) < 99 else "two values, not named like a score"
        others = self.alternatives.get("label", ())
        also = f"; also possible: {', '.join(f'`{c}`' for c in others)}" if others else ""
        self.reasons["label"] = f"`{label}`: {task_reason}, {hint}{also}"
        if task == "binary":
            positive, why = infer_positive(series)
            self.assign("positive", positive, why)
        return task

    def binary_scores(self, numeric: list[str]) -> None:
        """Score columns by name, else any real-valued column in [0, 1]; then a 0/1 predicted class."""
        df = self.df
        scores = [c for c in numeric if df[c].nunique() > 2
                  and (_has_word(c, _SCORE_WORDS) or _norm(c).startswith(("p_", "prob", "score")))]
        if not scores:
            for c in numeric:
                v = _float_values(df[c])
                v = v[np.isfinite(v)]
                if len(v) and df[c].nunique() > 2 and v.min() >= 0 and v.max() <= 1:
                    scores.append(c)
        scores = self.distinct(scores)
        if scores:
            self.assign("score", scores[0], f"`{scores[0]}`: real-valued, named like a score")
            if len(scores) > 1:
                self.assign("other_scores", tuple(scores[1:]),
                            f"{len(scores) - 1} more score column(s) treated as other models: "
                            + ", ".join(f"`{c}`" for c in scores[1:]))
        preds = [c for c in self.free() if _has_word(c, _PRED_CLASS_WORDS) and df[c].nunique() <= 2]
        if preds:
            self.assign("prediction", preds[0], f"`{preds[0]}`: two values, named like a predicted class")

    def distinct(self, columns: list[str]) -> list[str]:
        """``columns`` without exact copies of an earlier one (a duplicated column read as ``x_2``);
        each copy is named in the reasons and left out, so a model is never compared with itself."""
        kept: list[str] = []
        copies = []
        for c in columns:
            twin = next((k for k in kept if self.df[c].equals(self.df[k])), None)
            if twin is None:
                kept.append(c)
            else:
                copies.append(f"`{c}` is a copy of `{twin}`")
        if copies:
            self.reasons["copies"] = "; ".join(copies) + ": left out, so no model is compared with itself"
        return kept

    def predicted_class(self) -> None:
        preds = [c for c in self.free() if _has_word(c, _PRED_CLASS_WORDS)]
        if preds:
            self.assign("prediction", preds[0], f"`{preds[0]}`: named like a predicted class")

    def regression(self, numeric: list[str]) -> None:
        """Prediction columns by name (the first is the model, the rest other models) and an uncertainty."""
        preds = [c for c in numeric if _has_word(c, _PRED_CLASS_WORDS + ("forecast", "estimate", "estimated"))]
        preds = self.distinct([c for c in preds if not _has_word(c, _UNCERTAINTY_WORDS)])
        if preds:
            self.assign("prediction", preds[0], f"`{preds[0]}`: numbers, named like a prediction")
            if len(preds) > 1:
                self.assign("other_scores", tuple(preds[1:]), "more prediction columns treated as other models: "
                            + ", ".join(f"`{c}`" for c in preds[1:]))
        unc = [c for c in numeric if c not in self.taken and _has_word(c, _UNCERTAINTY_WORDS)]
        if unc:
            self.assign("uncertainty", unc[0], f"`{unc[0]}`: named like an uncertainty (standard deviation)")

    def amount(self) -> None:
        for c in self.free():
            if _is_numeric(self.df[c]) and _has_word(c, _AMOUNT_WORDS):
                self.assign("amount", c, f"`{c}`: numbers, named like a money amount")
                return

    def segments(self) -> None:
        """Remaining text, boolean or small-integer columns with few distinct values."""
        segments = []
        for c in self.free():
            if len(segments) >= MAX_DEFAULT_SEGMENTS:
                break
            s = self.df[c]
            if pd.api.types.is_datetime64_any_dtype(s):  # a second date column (a partition date): time, not a segment
                continue
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
            self.assign("segments", tuple(segments),
                        f"{len(segments)} column(s) with 2 to {MAX_SEGMENT_VALUES} distinct values")
