"""A per-column summary of a loaded file, for the Data page and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.io.roles import ROLE_NAMES, RoleGuess, Roles

__all__ = ["column_summary", "roles_table", "columns_sentence", "label_alternatives"]

SUMMARY_COLUMNS = ["column", "role", "type", "non_missing", "missing", "distinct", "min", "max", "mean", "top_values"]


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date/time"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_float_dtype(s):
        return "number"
    return "text"


def column_summary(frame: pd.DataFrame, roles: Roles | None = None, *, top: int = 3) -> pd.DataFrame:
    """One row per column: role, type, missing, distinct, min/max/mean for numbers, the commonest values.

    >>> column_summary(pd.DataFrame({"a": [1, 2, None], "b": ["x", "x", "y"]}))[["column", "missing", "distinct"]]
      column  missing  distinct
    0      a        1         2
    1      b        0         2
    """
    trace.count("column_summary")
    role_of: dict[str, str] = {}
    if roles is not None:
        for name in ROLE_NAMES:
            value = getattr(roles, name)
            for col in value if isinstance(value, tuple) else (value,):
                if col is not None and col not in role_of:
                    role_of[col] = name
    rows = []
    for col in frame.columns:
        s = frame[col]
        kind = _kind(s)
        nn = int(s.notna().sum())
        row = {"column": str(col), "role": role_of.get(col, ""), "type": kind, "non_missing": nn,
               "missing": int(len(s) - nn), "distinct": int(s.nunique()), "min": None, "max": None, "mean": None}
        if kind in ("integer", "number"):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            fin = v[np.isfinite(v)]
            if len(fin):
                row.update(min=float(fin.min()), max=float(fin.max()), mean=float(fin.mean()))
        elif kind == "date/time" and nn:
            row.update(min=str(s.min()), max=str(s.max()))
        counts = s.value_counts(dropna=True).head(top)
        row["top_values"] = ", ".join(f"{v} ({c:,})" for v, c in counts.items()) if kind in ("text", "boolean") else ""
        rows.append(row)
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for c in ("min", "max", "mean"):
        out[c] = out[c].astype(object).where(out[c].notna(), None).map(lambda v: "" if v is None else (
            f"{v:,.4g}" if isinstance(v, float) else str(v)))
    return out


def roles_table(roles: Roles, guess: RoleGuess | None = None) -> pd.DataFrame:
    """Role, column(s) and why: the inferred reason, or "chosen by you" where the user changed it.

    >>> g = RoleGuess(Roles(label="y", task="binary"), {"label": "`y`: 2 distinct values"})
    >>> roles_table(Roles(label="y", score="p", task="binary"), g)["why"].tolist()
    ['y: 2 distinct values', 'chosen by you', 'inferred']
    """
    rows = []
    for name in ROLE_NAMES + ("task", "positive"):
        value = getattr(roles, name)
        if value in (None, ()):
            continue
        shown = ", ".join(value) if isinstance(value, tuple) else str(value)
        if guess is not None and getattr(guess.roles, name) == value:
            why = guess.reasons.get(name, "inferred")
        else:
            why = "chosen by you"
        rows.append({"role": name, "column": shown, "why": why.replace("`", "")})
    return pd.DataFrame(rows, columns=["role", "column", "why"])


def columns_sentence(dataset, threshold: float | None, *, threshold_why: str | None = None) -> str:
    """Which columns a page shows, in one line: the label and its positive class, the model's output, and
    (binary with a score) the threshold with how it was chosen.

    >>> import pandas as pd
    >>> from mlimpact.io.dataset import build_dataset
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7]}), Roles(label="y", score="p"))
    >>> columns_sentence(ds, 0.5, threshold_why="0.5, the convention for probabilities")
    'Label `y` (positive class 1) · score `p` · threshold 0.5 (0.5, the convention for probabilities)'
    """
    roles = dataset.roles
    if dataset.task == "binary":
        parts = [f"Label `{roles.label}` (positive class {roles.positive})"]
    elif dataset.task == "multiclass":
        parts = [f"Label `{roles.label}` ({len(dataset.classes)} classes)"]
    else:
        parts = [f"Label `{roles.label}`"]
    if roles.score is not None:
        parts.append(f"score `{roles.score}`")
    elif roles.prediction is not None:
        parts.append(f"prediction `{roles.prediction}`")
    elif roles.class_scores:
        parts.append(f"{len(roles.class_scores)} class probability columns")
    if dataset.task == "binary" and dataset.score is not None and threshold is not None:
        parts.append(f"threshold {threshold:g}" + (f" ({threshold_why})" if threshold_why else ""))
    return " · ".join(parts)


def label_alternatives(guess: RoleGuess, roles: Roles) -> tuple[str, ...]:
    """Other columns that also look like the label (the inferred one included when the user chose another)."""
    options = [guess.roles.label, *guess.alternatives.get("label", ())]
    return tuple(c for c in options if c is not None and c != roles.label)
