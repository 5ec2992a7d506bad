"""Segment tables: metrics per value of one column, or per cell of a two-column cross.

A segment column is turned into integer codes once (numeric columns binned, long tails
folded into "Other"); a cross is one more code (``a * n_b + b``, compressed to the
cells that occur). Every metric then comes from :func:`mlimpact.metrics.compute_metrics`
in one vectorized pass over those codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io import MISSING_LABEL, Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import METRICS, default_metrics, evaluate

__all__ = ["OTHER_LABEL", "SegmentCodes", "bin_numeric", "bin_labels", "fold_rare", "fold_map", "segment_codes",
           "segment_table", "decorate_segments", "dates_message", "SEGMENT_TABLE_COLUMNS", "MAX_EXACT_NUMERIC"]

OTHER_LABEL = "Other"
#: A numeric column with more distinct values than this is binned instead of used value by value.
MAX_EXACT_NUMERIC = 12


@dataclass(frozen=True)
class SegmentCodes:
    """Codes (0..k-1, one per row) and, per code, the value label of each segment column."""

    codes: np.ndarray
    labels: pd.DataFrame  # one row per code, one column per segment column

    @property
    def n_groups(self) -> int:
        return len(self.labels)


def _fmt_edge(x: float) -> str:
    return f"{x:,.4g}"


def bin_numeric(values, *, n_bins: int = 5, edges=None) -> tuple[np.ndarray, list[str]]:
    """Quantile bins (or the given edges) for a numeric column; missing values get their own bin.

    Edges are made unique, so heavy ties and constant columns give fewer bins, never empty ones.

    >>> codes, labels = bin_numeric([1, 2, 3, 4, np.nan], n_bins=2)
    >>> codes.tolist(), labels
    ([0, 0, 1, 1, 2], ['[1, 2.5)', '[2.5, 4]', '(missing)'])
    """
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    if edges is None:
        if finite.any():
            qs = np.quantile(v[finite], np.linspace(0, 1, n_bins + 1))
            edges = np.unique(qs)
        else:
            edges = np.array([])
    else:
        edges = np.unique(np.asarray(edges, dtype=float))
        if finite.any():
            lo, hi = v[finite].min(), v[finite].max()
            edges = np.unique(np.concatenate([[min(lo, edges[0])], edges, [max(hi, edges[-1])]]))
    labels = bin_labels(edges)
    if len(edges) <= 1:
        codes = np.zeros(len(v), dtype=np.int32)
        if len(edges) == 0:
            return codes, labels
    else:
        codes = np.searchsorted(edges[1:-1], v, side="right").astype(np.int32)
    if (~finite).any():
        codes = np.where(finite, codes, len(labels)).astype(np.int32)
        labels.append(MISSING_LABEL)
    return codes, labels


def bin_labels(edges) -> list[str]:
    """The labels of the bins between unique sorted ``edges`` (the last bin closed); one edge: ``= x``.

    >>> bin_labels([1.0, 2.5, 4.0])
    ['[1, 2.5)', '[2.5, 4]']
    """
    if len(edges) <= 1:
        return [f"= {_fmt_edge(edges[0])}" if len(edges) else MISSING_LABEL]
    return [f"[{_fmt_edge(edges[i])}, {_fmt_edge(edges[i + 1])}{']' if i == len(edges) - 2 else ')'}"
            for i in range(len(edges) - 1)]


def fold_rare(codes: np.ndarray, labels: list[str], *, top_k: int) -> tuple[np.ndarray, list[str]]:
    """Keep the ``top_k`` most frequent values, fold the rest into "Other" (missing is kept apart).

    >>> codes, labels = fold_rare(np.array([0, 0, 1, 2, 2, 2, 3]), ["a", "b", "c", "d"], top_k=2)
    >>> codes.tolist(), labels
    ([0, 0, 2, 1, 1, 1, 2], ['a', 'c', 'Other'])
    """
    new_index, new_labels = fold_map(np.bincount(codes, minlength=len(labels)), labels, top_k=top_k)
    return new_index[codes], new_labels


def fold_map(counts: np.ndarray, labels: list[str], *, top_k: int) -> tuple[np.ndarray, list[str]]:
    """:func:`fold_rare` from the rows per value: the new code of each old code, and the new labels.

    >>> fold_map(np.array([2, 1, 3, 1]), ["a", "b", "c", "d"], top_k=2)[1]
    ['a', 'c', 'Other']
    """
    if len(labels) <= top_k + 1:  # folding a single value into "Other" only hides its name
        return np.arange(len(labels), dtype=np.int32), list(labels)
    keep_mask = np.zeros(len(labels), dtype=bool)
    order = np.argsort(-counts, kind="stable")
    missing = labels.index(MISSING_LABEL) if MISSING_LABEL in labels else None
    kept = [i for i in order if i != missing][:top_k]
    keep_mask[kept] = True
    if missing is not None:
        keep_mask[missing] = True
    kept_sorted = np.flatnonzero(keep_mask)
    new_index = np.full(len(labels), len(kept_sorted), dtype=np.int32)
    new_index[kept_sorted] = np.arange(len(kept_sorted), dtype=np.int32)
    new_labels = [labels[i] for i in kept_sorted] + [OTHER_LABEL]
    if missing is not None:  # keep "(missing)" last
        mpos = int(new_index[missing])
        new_labels.pop(mpos)
        new_labels.insert(len(new_labels), MISSING_LABEL)
        shift = new_index > mpos
        new_index = np.where(shift, new_index - 1, new_index)
        new_index[missing] = len(new_labels) - 1
    return new_index, new_labels


def dates_message(column: str) -> str:
    """Why a date column is not a segment, and where metrics over time are.

    >>> dates_message("day")[:31]
    'column `day` holds dates, not a'
    """
    return (f"column `{column}` holds dates, not a segment's values; leave it out of the segments: metrics over time "
            "are on the Monitoring page, and in `check` with a `period` in checks.toml")


def _column_codes(dataset: Dataset, column: str, *, n_bins: int, edges, top_k: int) -> tuple[np.ndarray, list[str]]:
    s = dataset.frame[column]
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if edges is not None or (numeric and s.nunique() > MAX_EXACT_NUMERIC):
        if not numeric:
            raise InputError(f"column `{column}`: bin edges need a column of numbers")
        return bin_numeric(s.to_numpy(dtype=float, na_value=np.nan), n_bins=n_bins, edges=edges)
    if pd.api.types.is_datetime64_any_dtype(s):
        raise InputError(dates_message(column))
    codes, labels = dataset.codes(column)
    return fold_rare(codes, labels, top_k=top_k)


def segment_codes(dataset: Dataset, columns: list[str] | tuple[str, ...], *, n_bins: int = 5,
                  edges: dict | None = None, top_k: int = 20) -> SegmentCodes:
    """Group codes for one column or the cross of two; only cells that occur become groups.

    Parameters
    ----------
    columns: one or two segment columns.
    n_bins: quantile bins for numeric columns with many values.
    edges: custom bin edges per numeric column, e.g. ``{"amount": [0, 100, 500]}``.
    top_k: values kept per column; the rest are folded into "Other".
    """
    columns = list(columns)
    if not 1 <= len(columns) <= 2:
        raise InputError("pick one or two segment columns")
    if len(set(columns)) != len(columns):
        raise InputError("pick two different segment columns to cross")
    edges = edges or {}
    parts = [_column_codes(dataset, c, n_bins=n_bins, edges=edges.get(c), top_k=top_k) for c in columns]
    if len(parts) == 1:
        codes, labels = parts[0]
        present = np.bincount(codes, minlength=len(labels)) > 0
        # keep empty categories out of the table (they cannot arise from the rows used)
        remap = np.cumsum(present) - 1
        return SegmentCodes(remap[codes].astype(np.int32),
                            pd.DataFrame({columns[0]: [lab for lab, p in zip(labels, present, strict=True) if p]}))
    (ca, la), (cb, lb) = parts
    combined = ca.astype(np.int64) * len(lb) + cb
    cells, inverse = np.unique(combined, return_inverse=True)
    labels = pd.DataFrame({columns[0]: np.asarray(la, dtype=object)[cells // len(lb)],
                           columns[1]: np.asarray(lb, dtype=object)[cells % len(lb)]})
    return SegmentCodes(inverse.astype(np.int32), labels)


SEGMENT_TABLE_COLUMNS = ["segment", "n", "positives", "metric", "value", "low", "high", "note", "rest_value",
                         "difference", "p_value", "q_value", "significantly_worse", "small", "impact"]


def segment_table(dataset: Dataset, columns, *, threshold: float = DEFAULT_THRESHOLD, metrics=None, n_bins: int = 5,
                  edges: dict | None = None, top_k: int = 20, min_size: int = 30, sort_by: str = "impact",
                  seed: int = 0, intervals: bool = True, time_budget_s: float = 2.0) -> pd.DataFrame:
    """Metrics per segment with 95% intervals, a test against the rest, and impact.

    Returns a long table with the segment column(s) first, then ``SEGMENT_TABLE_COLUMNS``:
    one row per segment value and metric; ``segment`` is a readable label ("region = west").
    ``impact`` is ``n × gap to overall`` in the metric's bad direction (positive = this
    segment pulls the metric down). Sorted by ``impact`` (largest first), or by ``value``
    (worst first) with ``sort_by="metric"``.
    """
    trace.count("segment_table")

    seg = segment_codes(dataset, columns, n_bins=n_bins, edges=edges, top_k=top_k)
    metrics = list(metrics) if metrics else default_metrics(dataset)
    table = evaluate(dataset, threshold=threshold, metrics=metrics, codes=seg.codes, n_groups=seg.n_groups,
                     intervals=intervals, seed=seed, time_budget_s=time_budget_s, compare_to_rest=True,
                     min_group_size=min_size)
    overall = evaluate(dataset, threshold=threshold, metrics=metrics, intervals=False)
    return decorate_segments(seg.labels, table, dict(zip(overall["metric"], overall["value"], strict=True)),
                             sort_by=sort_by)


def decorate_segments(seg_labels: pd.DataFrame, table: pd.DataFrame, overall_value: dict, *,
                      sort_by: str = "impact") -> pd.DataFrame:
    """A metrics table per group (``group`` codes into ``seg_labels``' rows) as a segment table: the value
    labels and a readable ``segment`` first, ``impact`` against the overall values, sorted."""
    labels = seg_labels.copy()
    labels["segment"] = [" and ".join(f"{c} = {v}" for c, v in zip(labels.columns, row, strict=True))
                         for row in labels.itertuples(index=False)]
    out = labels.iloc[table["group"].to_numpy()].reset_index(drop=True)
    out = pd.concat([out, table.drop(columns=["group"]).reset_index(drop=True)], axis=1)
    sign = out["metric"].map(lambda m: -1.0 if METRICS[m].direction == "higher" else 1.0)
    out["impact"] = out["n"] * sign * (out["value"] - out["metric"].map(overall_value))
    extra = [c for c in table.columns if c not in SEGMENT_TABLE_COLUMNS and c != "group"]  # e.g. max_error
    out = out[list(seg_labels.columns) + SEGMENT_TABLE_COLUMNS + extra]
    if sort_by == "impact":
        out = out.sort_values(["metric", "impact"], ascending=[True, False], na_position="last", kind="stable")
    elif sort_by == "metric":
        worst_first = out["metric"].map(lambda m: METRICS[m].direction == "higher")
        key = np.where(worst_first, out["value"], -out["value"])
        out = out.assign(_k=key).sort_values(["metric", "_k"], na_position="last", kind="stable").drop(columns="_k")
    else:
        raise InputError(f"sort_by must be 'impact' or 'metric', not {sort_by!r}")
    return out.reset_index(drop=True)

