"""Verdicts: what reviewers found, summarised with intervals, and label corrections applied to the metrics."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.difficulty import (
    AUTO_NEGATIVE,
    AUTO_POSITIVE,
    AUTOMATIC,
    REVIEW,
    percent,
)
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import wilson_interval
from mlimpact.review.rows import ReviewRows, review_frame

__all__ = ["VERDICTS", "Correction", "summarize_verdicts", "verdict_sentences", "verdicts_table", "apply_label_corrections", "marked_rows", "correction_metrics", "compare_metrics", "VERDICT_SUMMARY_COLUMNS"]


#: What a reviewer can say about a row.
VERDICTS = ("model right", "model wrong", "label wrong", "upsetting")


_GROUP_WORDS = {"all": "cases", "automated": "automated decisions", "review": "review-lane cases"}


_VERDICT_WORDS = {"model right": "right", "model wrong": "wrong", "label wrong": "wrongly labelled",
                  "upsetting": "upsetting"}


VERDICT_SUMMARY_COLUMNS = ["group", "verdict", "count", "reviewed", "share", "low", "high"]


def summarize_verdicts(verdicts: Mapping[int, tuple[str, str]], *, lanes: np.ndarray | None = None) -> pd.DataFrame:
    """Share of each verdict among reviewed rows, with 95% Wilson intervals; overall and per lane group.

    Groups: ``all`` reviewed rows, and with ``lanes``: ``automated`` decisions and ``review``-lane rows.

    >>> v = {i: ("upsetting" if i < 3 else "model right", "") for i in range(50)}
    >>> s = summarize_verdicts(v)
    >>> s[s.verdict == "upsetting"][["count", "reviewed", "share"]].values.tolist()
    [[3.0, 50.0, 0.06]]
    """
    unknown = sorted({v for v, _ in verdicts.values() if v not in VERDICTS})
    if unknown:
        raise InputError(f"verdict {unknown[0]!r} is not one of {', '.join(VERDICTS)}")
    rows = np.fromiter((int(k) for k in verdicts), dtype=np.int64, count=len(verdicts))
    codes = np.fromiter((VERDICTS.index(v) for v, _ in verdicts.values()), dtype=np.int64, count=len(verdicts))
    groups = {"all": np.ones(len(rows), dtype=bool)}
    if lanes is not None:
        lanes = np.asarray(lanes)
        if len(rows) and rows.max() >= len(lanes):
            raise InputError("a verdict refers to a row that is not in this file; clear the verdicts")
        lane_of = lanes[rows]
        groups["automated"] = np.isin(lane_of, [AUTO_NEGATIVE, AUTO_POSITIVE, AUTOMATIC])
        groups["review"] = lane_of == REVIEW
    out = []
    for name, m in groups.items():
        counts = np.bincount(codes[m], minlength=len(VERDICTS)).astype(float)
        total = np.full(len(VERDICTS), float(m.sum()))
        lo, hi = wilson_interval(counts, total)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, counts / total, np.nan)
        out.append(pd.DataFrame({"group": name, "verdict": list(VERDICTS), "count": counts, "reviewed": total,
                                 "share": share, "low": lo, "high": hi}))
    return pd.concat(out, ignore_index=True)[VERDICT_SUMMARY_COLUMNS]


def verdict_sentences(summary: pd.DataFrame) -> list[str]:
    """Plain sentences for the verdicts found, e.g. "Reviewers found 3 of 50 reviewed automated decisions
    upsetting: 6% (2–16%)."

    >>> v = {i: ("upsetting" if i < 3 else "model right", "") for i in range(50)}
    >>> verdict_sentences(summarize_verdicts(v))[1]
    'Reviewers found 3 of 50 reviewed cases upsetting: 6% (2–16%).'
    """
    out = []
    for r in summary.itertuples(index=False):
        if r.count <= 0 or r.reviewed <= 0:
            continue
        lo, hi = percent(r.low), percent(r.high)
        out.append(f"Reviewers found {int(r.count):,} of {int(r.reviewed):,} reviewed {_GROUP_WORDS[r.group]} "
                   f"{_VERDICT_WORDS[r.verdict]}: {percent(r.share)} ({lo[:-1]}–{hi}).")
    return out


def verdicts_table(dataset: Dataset, verdicts: Mapping[int, tuple[str, str]], rows: ReviewRows, *,
                   subject: str = "positive") -> pd.DataFrame:
    """The recorded verdicts for export: row, id, lane, error type, label, model decision, verdict, note.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> from mlimpact.review.rows import review_rows
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.9, 0.2]}), Roles(label="y", score="p"))
    >>> verdicts_table(ds, {1: ("label wrong", "=2+2")}, review_rows(ds))[["row", "verdict", "note"]].values.tolist()
    [[1, 'label wrong', '=2+2']]
    """
    index = np.asarray(sorted(int(k) for k in verdicts), dtype=np.int64)
    if len(index) and (index.min() < 0 or index.max() >= dataset.n):
        raise InputError("a verdict refers to a row that is not in this file; clear the verdicts")
    frame = review_frame(dataset, index, rows, verdicts, subject=subject)
    roles = dataset.roles
    out = frame[["row", "lane", "error type", "model decision", "verdict", "note"]].copy()
    if roles.id and roles.id in dataset.frame.columns:
        out.insert(1, "id", dataset.frame[roles.id].iloc[index].astype(str).to_numpy())
    out.insert(len(out.columns) - 3, "label", dataset.frame[roles.label].iloc[index].astype(str).to_numpy())
    return out.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Correction:
    """A Dataset with reviewers' label corrections applied, and what changed."""

    dataset: Dataset
    changed: int
    excluded: int

    @property
    def description(self) -> str:
        text = f"corrected ({self.changed:,} label{'s' if self.changed != 1 else ''} changed by reviewers"
        if self.excluded:
            text += f"; {self.excluded:,} row{'s' if self.excluded != 1 else ''} marked wrong left out"
        return text + ")"


def apply_label_corrections(dataset: Dataset, verdicts: Mapping[int, tuple[str, str]], *,
                            threshold: float = DEFAULT_THRESHOLD) -> Correction:
    """The Dataset with every label a reviewer marked ``label wrong`` corrected.

    Binary: the label is flipped. Multiclass: the label becomes the model's class when it differs
    (the reviewer judged the label wrong, so the model's class is taken as right); when the model agreed
    with the label the right class is unknown and the row is left out. Regression: the true value is
    unknown, so the row is left out. The corrected Dataset has its own ``content_hash``.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1, 1], "p": [0.9, 0.2, 0.8]}), Roles(label="y", score="p"))
    >>> c = apply_label_corrections(ds, {0: ("label wrong", ""), 2: ("upsetting", "")})
    >>> c.dataset.y.tolist(), c.description
    ([1, 1, 1], 'corrected (1 label changed by reviewers)')
    """
    marked = np.asarray(sorted(int(k) for k, (v, _) in verdicts.items() if v == "label wrong"), dtype=np.int64)
    if len(marked) and (marked.min() < 0 or marked.max() >= dataset.n):
        raise InputError("a verdict refers to a row that is not in this file; clear the verdicts")
    digest = hashlib.sha256(marked.tobytes()).hexdigest()[:16]
    y = dataset.y.copy()
    drop = np.zeros(dataset.n, dtype=bool)
    if dataset.task == "binary":
        y[marked] = 1 - y[marked]
        changed = len(marked)
    elif dataset.task == "multiclass":
        pred = dataset.predicted(threshold)
        differs = pred[marked] != y[marked]
        y[marked[differs]] = pred[marked[differs]]
        drop[marked[~differs]] = True
        changed = int(differs.sum())
    else:
        drop[marked] = True
        changed = 0
    excluded = int(drop.sum())
    changes = {"y": y, "_codes": {}, "content_hash": f"{dataset.content_hash}+labels:{digest}",
               "notes": list(dataset.notes) + [f"{changed:,} labels corrected and {excluded:,} rows left out by "
                                               "reviewers' verdicts"]}
    if excluded:
        keep = ~drop
        changes.update(frame=dataset.frame.loc[keep].reset_index(drop=True), y=y[keep],
                       score=None if dataset.score is None else dataset.score[keep],
                       prediction=None if dataset.prediction is None else dataset.prediction[keep],
                       proba=None if dataset.proba is None else dataset.proba[keep],
                       exclusions={**dataset.exclusions, "label marked wrong by a reviewer": excluded})
    return Correction(dataset=dataclasses.replace(dataset, **changes), changed=changed, excluded=excluded)


def marked_rows(verdicts: Mapping[int, tuple[str, str]], verdict: str = "label wrong") -> tuple[int, ...]:
    """Rows with the given verdict, sorted (a hashable memo key).

    >>> marked_rows({5: ("label wrong", ""), 2: ("label wrong", "x"), 3: ("upsetting", "")})
    (2, 5)
    """
    if verdict not in VERDICTS:
        raise InputError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    return tuple(sorted(int(k) for k, (v, _) in verdicts.items() if v == verdict))


def correction_metrics(dataset: Dataset) -> list[str]:
    """The headline metrics recomputed after label corrections (score metrics only when there is a score).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> correction_metrics(build_dataset(pd.DataFrame({"y": [0, 1], "c": [0, 1]}), Roles(label="y", prediction="c")))
    ['recall', 'precision', 'false_positive_rate']
    """
    names = {"binary": ["recall", "precision", "false_positive_rate", "roc_auc"],
             "multiclass": ["accuracy", "balanced_accuracy", "macro_f1"],
             "regression": ["mae", "rmse", "r2", "mean_error"]}[dataset.task]
    return names[:3] if dataset.task == "binary" and dataset.score is None else names


def compare_metrics(original: pd.DataFrame, corrected: pd.DataFrame) -> pd.DataFrame:
    """Original and corrected metric tables (from :func:`mlimpact.metrics.evaluate.evaluate`) side by side.

    Columns: ``metric, original, original_low, original_high, corrected, corrected_low, corrected_high, change``.

    >>> a = pd.DataFrame({"group": [0], "metric": ["recall"], "value": [0.8], "low": [0.7], "high": [0.9]})
    >>> b = a.assign(value=[0.85])
    >>> compare_metrics(a, b)["change"].round(2).tolist()
    [0.05]
    """
    cols = ["metric", "value", "low", "high"]
    left = original[cols].rename(columns={"value": "original", "low": "original_low", "high": "original_high"})
    right = corrected[cols].rename(columns={"value": "corrected", "low": "corrected_low", "high": "corrected_high"})
    out = left.merge(right, on="metric", how="left", sort=False)
    out["change"] = out["corrected"] - out["original"]
    return out
