"""Review: pick examples for people to look at, summarise their verdicts, apply their label corrections.

The best metrics still miss results that are obviously wrong, or upsetting, to a person. This module
chooses rows to look at (filtered by segment, lane and error type; the most confident mistakes first, or a
seeded random sample stratified by segment), summarises the verdicts people record with Wilson intervals,
and recomputes metrics with the labels reviewers marked wrong corrected.

Everything here is vectorized over rows: one pass builds :class:`ReviewRows` (lane, decision, error type,
confidence per row); a selection is a mask, a ``lexsort`` and a slice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.difficulty import (
    AUTO_NEGATIVE,
    AUTO_POSITIVE,
    LANE_NAMES,
    default_tolerance,
    lane_label,
)
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD, decide
from mlimpact.slices import segment_codes

__all__ = ["ERROR_TYPES", "ERROR_LABELS", "ORDERS", "ReviewRows", "review_rows", "error_types_for", "confidence_column", "segment_mask", "select_rows", "review_frame", "row_detail"]

#: Error type codes (index into this tuple).
ERROR_TYPES = ("correct", "false_positive", "false_negative", "wrong_class", "large_residual")
ERROR_LABELS = {"correct": "correct", "false_positive": "false positive", "false_negative": "false negative",
                "wrong_class": "wrong class", "large_residual": "large residual"}
#: Orders of the rows shown: most confident mistakes first, or a seeded stratified random sample.
ORDERS = ("confident", "sample")


@dataclass(frozen=True, eq=False)
class ReviewRows:
    """Per row of ``dataset.frame``: lane code (or None without lanes), decision, error type, confidence.

    ``decision``: binary 0/1 (the lane decides automated rows, the threshold the others); multiclass class
    code; regression the prediction. ``confidence``: binary the model's probability of its decision (or
    the distance of the score from the threshold when scores are not probabilities); multiclass the
    probability of the predicted class; regression the size of the miss |prediction − truth|.
    """

    lane: np.ndarray | None
    decision: np.ndarray
    error: np.ndarray
    confidence: np.ndarray

    @property
    def mistake(self) -> np.ndarray:
        return self.error != 0


def review_rows(dataset: Dataset, *, lanes: np.ndarray | None = None, threshold: float = DEFAULT_THRESHOLD,
                tolerance: float | None = None) -> ReviewRows:
    """Lane, decision, error type and confidence of every row, in one vectorized pass.

    Parameters
    ----------
    lanes: per-row lane codes from :func:`mlimpact.difficulty.lane_codes`, or None.
    threshold: binary decisions of rows outside the automatic lanes are ``score >= threshold``.
    tolerance: regression: a miss larger than this is a ``large_residual`` (default: the 90th-percentile miss).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1, 0], "p": [0.9, 0.2, 0.1]}), Roles(label="y", score="p"))
    >>> r = review_rows(ds)
    >>> [ERROR_TYPES[e] for e in r.error], r.confidence.round(2).tolist()
    (['false_positive', 'false_negative', 'correct'], [0.9, 0.8, 0.9])
    """
    trace.count("review_rows")
    n = dataset.n
    if lanes is not None and len(lanes) != n:
        raise InputError(f"lane codes have {len(lanes):,} values for {n:,} rows; choose the lanes again")
    y = dataset.y
    if dataset.task == "binary":
        if dataset.score is not None:
            decision = decide(dataset.score, threshold)
            if lanes is not None:
                decision = np.where(lanes == AUTO_NEGATIVE, 0, np.where(lanes == AUTO_POSITIVE, 1, decision))
                decision = decision.astype(np.int8)
            if dataset.scores_are_probabilities:
                confidence = np.where(decision == 1, dataset.score, 1.0 - dataset.score)
            else:
                confidence = np.abs(dataset.score - threshold)
        else:
            decision = dataset.prediction.astype(np.int8)
            confidence = np.zeros(n)
        error = np.where(decision > y, 1, np.where(decision < y, 2, 0)).astype(np.int8)
    elif dataset.task == "multiclass":
        decision = dataset.predicted()
        error = np.where(decision != y, 3, 0).astype(np.int8)
        confidence = (dataset.proba[np.arange(n), decision] if dataset.proba is not None else np.zeros(n))
    else:

        tol = default_tolerance(dataset) if tolerance is None else float(tolerance)
        decision = dataset.prediction
        confidence = np.abs(dataset.prediction - y)
        error = np.where(confidence > tol, 4, 0).astype(np.int8)
    return ReviewRows(lane=None if lanes is None else np.asarray(lanes, dtype=np.int8), decision=decision,
                      error=error, confidence=np.asarray(confidence, dtype=float))


def error_types_for(task: str) -> list[str]:
    """The error types a task can have (the filter's options besides "all" and "any mistake").

    >>> error_types_for("binary")
    ['false_positive', 'false_negative', 'correct']
    """
    return {"binary": ["false_positive", "false_negative", "correct"], "multiclass": ["wrong_class", "correct"],
            "regression": ["large_residual", "correct"]}[task]


def segment_mask(dataset: Dataset, selection: Mapping[str, str] | None) -> np.ndarray:
    """Rows whose segment values match ``selection`` ({column: value label}, as the Segments page shows them).

    Numeric columns are matched by their bin labels (:func:`mlimpact.slices.segments.segment_codes` defaults).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 1, 0], "p": [0.9, 0.2, 0.1], "region": ["n", "s", "n"]})
    >>> segment_mask(build_dataset(df, Roles(label="y", score="p")), {"region": "n"}).tolist()
    [True, False, True]
    """

    mask = np.ones(dataset.n, dtype=bool)
    for column, value in (selection or {}).items():
        if column not in dataset.frame.columns:
            raise InputError(f"segment column `{column}` is not in {dataset.source}; pick another segment")
        sc = segment_codes(dataset, [column])
        labels = sc.labels[column].astype(str).tolist()
        if str(value) not in labels:
            raise InputError(f"segment value {value!r} of `{column}` is not in {dataset.source}; pick another value")
        mask &= sc.codes == labels.index(str(value))
    return mask


def select_rows(rows: ReviewRows, *, mask: np.ndarray | None = None, error_types=None, lanes=None,
                order: str = "confident", n: int = 50, seed: int = 0, strata: np.ndarray | None = None) -> np.ndarray:
    """Row indices to look at: filtered, then the most confident mistakes first or a stratified sample.

    Parameters
    ----------
    mask: rows allowed (e.g. from :func:`segment_mask`).
    error_types: names from :data:`ERROR_TYPES` to keep (None: all).
    lanes: names from :data:`mlimpact.difficulty.LANE_NAMES` to keep (None: all).
    order: ``"confident"`` — mistakes first, most confident first (regression: largest miss first), ties by
        row; ``"sample"`` — a seeded random sample, allocated to the ``strata`` codes in proportion to their
        eligible rows (largest remainders), so the same seed and filters give the same rows.
    n: rows to return at most.

    >>> r = ReviewRows(lane=None, decision=np.zeros(4), error=np.array([0, 1, 2, 1], dtype=np.int8),
    ...                confidence=np.array([0.99, 0.6, 0.9, 0.7]))
    >>> select_rows(r, n=3).tolist()
    [2, 3, 1]
    """
    if order not in ORDERS:
        raise InputError(f"order {order!r} is not one of {', '.join(ORDERS)}")
    if not (isinstance(n, int | np.integer) and n >= 0):
        raise InputError(f"number of rows must be a whole number of 0 or more (got {n!r})")
    size = len(rows.error)
    keep = np.ones(size, dtype=bool) if mask is None else np.asarray(mask, dtype=bool).copy()
    if error_types is not None:
        unknown = [e for e in error_types if e not in ERROR_TYPES]
        if unknown:
            raise InputError(f"error type {unknown[0]!r} is not one of {', '.join(ERROR_TYPES)}")
        keep &= np.isin(rows.error, [ERROR_TYPES.index(e) for e in error_types])
    if lanes is not None:
        unknown = [x for x in lanes if x not in LANE_NAMES]
        if unknown:
            raise InputError(f"lane {unknown[0]!r} is not one of {', '.join(LANE_NAMES)}")
        if rows.lane is None:
            raise InputError("no lanes are chosen for this file; choose them on the Difficulty page")
        keep &= np.isin(rows.lane, [LANE_NAMES.index(x) for x in lanes])
    idx = np.flatnonzero(keep)
    if order == "confident":
        ranked = idx[np.lexsort((-rows.confidence[idx], ~rows.mistake[idx]))]
        return ranked[:n]
    keys = np.random.default_rng(seed).random(size)  # one key per row of the file: stable across filters
    groups = np.zeros(size, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    g = groups[idx]
    n_take = min(n, len(idx))
    if n_take == 0:
        return idx[:0]
    labels, g = np.unique(g, return_inverse=True)
    sizes = np.bincount(g, minlength=len(labels))
    quota = _allocate(sizes, n_take)
    ordered = idx[np.lexsort((keys[idx], g))]
    g_sorted = np.sort(g, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(ordered)) - starts[g_sorted]
    return ordered[rank < quota[g_sorted]]


def _allocate(sizes: np.ndarray, total: int) -> np.ndarray:
    """Proportional allocation of ``total`` over groups of ``sizes`` (largest remainders, ties to larger groups)."""
    exact = sizes * total / sizes.sum()
    base = np.floor(exact).astype(np.int64)
    left = total - int(base.sum())
    if left:
        order = np.lexsort((-sizes, -(exact - base)))
        base[order[:left]] += 1
    return np.minimum(base, sizes)


def _decision_text(dataset: Dataset, decision: np.ndarray, subject: str) -> np.ndarray:
    if dataset.task == "regression":
        return np.asarray([f"{v:.6g}" for v in decision], dtype=object)
    if dataset.task == "binary":
        names = np.asarray([f"not {subject}", subject], dtype=object)
    else:
        names = np.asarray([str(c) for c in dataset.classes], dtype=object)
    return names[np.asarray(decision, dtype=np.int64)]


def confidence_column(task: str) -> str:
    """Name of the confidence column: ``size of the miss`` for regression, else ``confidence``."""
    return "size of the miss" if task == "regression" else "confidence"


def review_frame(dataset: Dataset, index: np.ndarray, rows: ReviewRows,
                 verdicts: Mapping[int, tuple[str, str]] | None = None, *, subject: str = "positive") -> pd.DataFrame:
    """The selected rows with review columns first (row, lane, error type, decision, confidence — for
    regression the size of the miss —, verdict, note), then every column of the file (a file column with the same name gets `` (file)`` appended).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.9, 0.2]}), Roles(label="y", score="p"))
    >>> list(review_frame(ds, np.array([1]), review_rows(ds)).columns)
    ['row', 'lane', 'error type', 'model decision', 'confidence', 'verdict', 'note', 'y', 'p']
    """
    index = np.asarray(index, dtype=np.int64)
    verdicts = verdicts or {}
    lanes = (["—"] * len(index) if rows.lane is None
             else [lane_label(LANE_NAMES[c], subject) for c in rows.lane[index]])
    meta = pd.DataFrame({
        "row": index,
        "lane": lanes,
        "error type": [ERROR_LABELS[ERROR_TYPES[e]] for e in rows.error[index]],
        "model decision": _decision_text(dataset, rows.decision[index], subject),
        confidence_column(dataset.task): rows.confidence[index],
        "verdict": [verdicts.get(int(i), ("", ""))[0] for i in index],
        "note": [verdicts.get(int(i), ("", ""))[1] for i in index],
    })
    body = dataset.frame.iloc[index].reset_index(drop=True)
    body.columns = [f"{c} (file)" if c in meta.columns else c for c in body.columns]
    return pd.concat([meta, body], axis=1)


def row_detail(dataset: Dataset, row: int, rows: ReviewRows, verdicts=None, *, subject: str = "positive"
               ) -> pd.DataFrame:
    """One row as a two-column table (``field``, ``value`` as text): every review field and file column.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.9, 0.2]}), Roles(label="y", score="p"))
    >>> row_detail(ds, 0, review_rows(ds))["value"].tolist()
    ['0', '—', 'false positive', 'positive', '0.9', '', '', '0', '0.9']
    """
    if not 0 <= int(row) < dataset.n:
        raise InputError(f"row {row} is not in the file (it has {dataset.n:,} rows used)")
    frame = review_frame(dataset, np.array([int(row)]), rows, verdicts, subject=subject)
    values = ["" if pd.isna(v) else f"{v:.6g}" if isinstance(v, float) else str(v) for v in frame.iloc[0].tolist()]
    return pd.DataFrame({"field": [str(c) for c in frame.columns], "value": values})


