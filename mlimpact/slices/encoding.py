"""Columns encoded once for the weak-slice search: categorical values as codes, numeric columns as bins.

Numeric bins are equal-frequency and keep ties together (a value holding 1/n_bins of the rows or
more is a bin of its own); categorical columns keep their most frequent values and fold the rest
into "Other"; missing values are their own value. Re-exported by :mod:`mlimpact.slices.weak`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import MISSING_LABEL
from mlimpact.slices.segments import OTHER_LABEL

__all__ = ["EncodedFeatures", "encode_features", "top_values", "categorical_codes", "numeric_bins", "fragments_of",
           "natural_order", "check_encoding"]


@dataclass(frozen=True, eq=False)
class EncodedFeatures:
    """Columns encoded once as dense integer codes, with a readable label per code.

    ``codes[:, j]`` holds codes ``0 .. len(labels[j]) - 1`` of column ``columns[j]``; every code
    occurs at least once. ``labels`` are predicate values ("west", "[120, 480)", "(missing)");
    ``fragments`` are the readable predicates ("region = west", "amount in [120, 480)").
    """

    columns: tuple[str, ...]
    codes: np.ndarray
    labels: tuple[tuple[str, ...], ...]
    fragments: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...]
    #: rows encoded when ``codes`` is not kept per row (an engine's encoding: codes stay on the engine)
    rows: int | None = None

    @property
    def n_rows(self) -> int:
        return int(self.codes.shape[0]) if self.rows is None else int(self.rows)

    @property
    def domain_sizes(self) -> np.ndarray:
        return np.array([len(lab) for lab in self.labels], dtype=np.int64)


def _format_numbers(values: np.ndarray) -> list[str]:
    """Shortest general format (4+ significant digits) that keeps distinct values distinct."""
    for digits in range(4, 18):
        out = [_fmt(float(v), digits) for v in values]
        if len(set(out)) == len(set(values.tolist())):
            return out
    return [repr(float(v)) for v in values]  # pragma: no cover - 17 digits always suffice


def _fmt(v: float, digits: int) -> str:
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def _value_labels(uniques: np.ndarray) -> list[str]:
    if uniques.dtype.kind in "iuf":
        return _format_numbers(uniques)
    return [str(u) for u in uniques]


def natural_order(values: np.ndarray) -> np.ndarray:
    """Positions that sort ``values`` naturally: numbers numerically, text alphabetically (mixed: as text)."""
    try:
        return np.argsort(values, kind="stable")
    except TypeError:
        return np.argsort(np.array([str(u) for u in values]), kind="stable")


def top_values(uniques: np.ndarray, counts: np.ndarray, max_values: int) -> np.ndarray:
    """Positions of the ``max_values`` most frequent values (ties: the natural order), in natural order.

    The one rule for which values a categorical column keeps, in memory and on the engines.

    >>> top_values(np.array(["b", "a", "c"]), np.array([5, 5, 1]), 2).tolist()
    [1, 0]
    """
    nat = natural_order(uniques)
    top = nat[np.argsort(-np.asarray(counts)[nat], kind="stable")][:max_values]
    return np.sort(top, kind="stable") if not len(top) else top[natural_order(uniques[top])]


def _encode_categorical(s: pd.Series, max_values: int) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(s, use_na_sentinel=True, sort=False)
    uniques = np.asarray(uniques)
    missing = codes < 0
    counts = np.bincount(codes[~missing], minlength=len(uniques))
    mapping, labels = categorical_codes(uniques, counts, max_values, missing.any())
    out = np.empty(len(s), dtype=np.int32)
    out[~missing] = mapping[codes[~missing]]
    out[missing] = len(labels) - 1
    return out, labels


def categorical_codes(uniques: np.ndarray, counts: np.ndarray, max_values: int,
                      has_missing: bool) -> tuple[np.ndarray, list[str]]:
    """The code of each value (folded values: "Other") and the labels; missing is the last label."""
    top = top_values(uniques, counts, max_values)
    labels = _value_labels(uniques[top]) if len(top) else []
    mapping = np.full(len(uniques), len(top), dtype=np.int32)  # folded values -> "Other"
    mapping[top] = np.arange(len(top), dtype=np.int32)
    if len(top) < len(uniques):
        labels.append(OTHER_LABEL if OTHER_LABEL not in labels else f"{OTHER_LABEL} (folded)")
    if has_missing:
        labels.append(MISSING_LABEL)
    return mapping, labels


def _encode_numeric(x: np.ndarray, n_bins: int) -> tuple[np.ndarray, list[str], list[bool]]:
    """Equal-frequency bins that respect ties; returns codes, labels and which labels are intervals."""
    missing = np.isnan(x)
    uniq, counts = np.unique(x[~missing], return_counts=True)
    bin_of, labels, interval = numeric_bins(uniq, counts, n_bins)
    codes = np.zeros(len(x), dtype=np.int32)
    if len(uniq):  # bins are runs of the sorted values: search each row among the bins' first values (a handful)
        first = uniq[np.r_[True, bin_of[1:] != bin_of[:-1]]]
        codes = np.maximum(np.searchsorted(first, x, side="right") - 1, 0).astype(np.int32)
    codes[missing] = len(labels)
    if missing.any():
        labels.append(MISSING_LABEL)
        interval.append(False)
    return codes, labels, interval


def numeric_bins(uniq: np.ndarray, counts: np.ndarray, n_bins: int) -> tuple[np.ndarray, list[str], list[bool]]:
    """The bin of each distinct value (sorted ``uniq`` with its row ``counts``), the labels, which are intervals.

    A value holding at least 1/n_bins of the rows gets a bin of its own (labelled by the value);
    the other values are cut into about equal-frequency bins between those, at observed values,
    so every bin is non-empty and its edges are unique. At most ``n_bins`` distinct values: one
    bin per value. The one rule, in memory and on the engines (which send value counts).
    """
    if len(uniq) <= n_bins:  # few distinct values (flags, counts, constants): one code per value
        return np.arange(len(uniq)), _format_numbers(uniq), [False] * len(uniq)
    heavy = counts >= counts.sum() / n_bins
    light = np.where(heavy, 0, counts)
    per_bin = max(int(light.sum()), 1) / max(n_bins - int(heavy.sum()), 1)
    block = np.floor((np.cumsum(light) - light) / per_bin)
    new = np.r_[True, heavy[1:] | heavy[:-1] | (block[1:] != block[:-1])]
    bin_of = np.cumsum(new) - 1
    lo = uniq[new]
    single = np.diff(np.r_[np.flatnonzero(new), len(uniq)]) == 1
    text = _format_numbers(np.r_[lo, uniq[-1]])
    labels, interval = [], []
    for j in range(len(lo)):
        if single[j]:
            labels.append(text[j])
            interval.append(False)
        elif j == len(lo) - 1:
            labels.append(f"[{text[j]}, {text[j + 1]}]")
            interval.append(True)
        else:
            labels.append(f"[{text[j]}, {text[j + 1]})")
            interval.append(True)
    return bin_of, labels, interval


def fragments_of(column: str, labels, interval=None) -> tuple[str, ...]:
    """Readable predicates per label: "region = west", "amount in [1, 4)", "region is missing"."""
    interval = interval or [False] * len(labels)
    return tuple(f"{column} is missing" if lab == MISSING_LABEL else f"{column} in {lab}" if is_bin
                 else f"{column} = {lab}" for lab, is_bin in zip(labels, interval, strict=True))


def check_encoding(columns: list, n_bins, max_values) -> None:
    """The encoding's options, checked the same way in memory and on the engines."""
    if not columns:
        raise InputError("columns: pick at least one column to slice by")
    if len(set(columns)) != len(columns):
        raise InputError(f"columns {columns}: each column may appear only once")
    if not isinstance(n_bins, int) or n_bins < 2:
        raise InputError(f"n_bins: must be an integer of at least 2, got {n_bins!r}")
    if not isinstance(max_values, int) or max_values < 1:
        raise InputError(f"max_values: must be a positive integer, got {max_values!r}")


def encode_features(
    frame: pd.DataFrame, columns: list[str], *, n_bins: int = 5, max_values: int = 50
) -> EncodedFeatures:
    """Encode columns for slicing: categorical values as codes, numeric columns as quantile bins.

    Parameters
    ----------
    frame:
        The data; one row per prediction.
    columns:
        Columns to slice by.
    n_bins:
        Equal-frequency bins per numeric column. Ties stay together: a value holding 1/n_bins of
        the rows or more is a bin of its own ("amount = 0"); a numeric column with at most
        ``n_bins`` distinct values keeps one code per value, so a constant column is one code.
    max_values:
        Categorical columns keep their ``max_values`` most frequent values; the rest become "Other".

    Missing values are their own value, "(missing)", in every kind of column.

    >>> enc = encode_features(pd.DataFrame({"amount": [1.0, 2, 3, 4, 5, 6, None]}), ["amount"], n_bins=2)
    >>> list(enc.labels[0])
    ['[1, 4)', '[4, 6]', '(missing)']
    >>> enc.codes[:, 0].tolist()
    [0, 0, 0, 1, 1, 1, 2]
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"frame: expected a pandas DataFrame, got {type(frame).__name__}")
    columns = list(columns)
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise InputError(f"columns {unknown}: not in the data; pick from {list(frame.columns)}")
    check_encoding(columns, n_bins, max_values)
    if len(frame) == 0:
        raise InputError("the data has no rows; there is nothing to slice")

    all_codes, all_labels, all_fragments, kinds = [], [], [], []
    for col in columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            x = s.to_numpy(dtype=float, na_value=np.nan)
            codes, labels, interval = _encode_numeric(x, n_bins)
            kind = "numeric"
            fragments = fragments_of(col, labels, interval)
        else:
            codes, labels = _encode_categorical(s, max_values)
            kind = "categorical"
            fragments = fragments_of(col, labels)
        all_codes.append(codes)
        all_labels.append(tuple(labels))
        all_fragments.append(tuple(fragments))
        kinds.append(kind)
    return EncodedFeatures(
        columns=tuple(columns),
        codes=np.asfortranarray(np.column_stack(all_codes).astype(np.int32)),
        labels=tuple(all_labels),
        fragments=tuple(all_fragments),
        kinds=tuple(kinds),
    )
