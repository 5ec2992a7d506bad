"""Weak-slice search: conjunctions of up to three predicates where the model's error is high.

A person slicing by hand checks a few columns; the slices that hurt most are often a conjunction
nobody thought of ("channel = mobile and region = west and amount in [500, 2000]"). This module
finds them over any per-row error (0/1 misclassification, false negative, absolute error, log loss).

Two scorings, one search engine:

``scoring="balanced"`` (default)
    A slice's score is the lower end of the confidence interval of its error rate divided by the
    overall error rate: "with 95% confidence this slice's error rate is at least ``score`` times the
    average". Size enters only through the interval, so a small slice with a severe error
    (0.4% of the rows at 5x the error) scores about 4.5 and a large moderately bad slice
    (30% of the rows at 1.5x) about 1.45: both are listed. Small noisy slices get wide intervals
    and low scores instead of the top of the list. Every slice with at least ``min_support`` rows,
    up to ``max_level`` predicates, is evaluated (one grouped pass over the rows per combination of
    columns) and tested against the rest of the data; Benjamini-Hochberg controls the false
    discovery rate over all of them. Only significant slices whose lower bound is above the average
    (``score > 1``) are listed -- on data without a weak slice the list is empty. (SliceLine's
    score-bound pruning cannot help here: the bound on a child's lower confidence bound is far too
    loose to cut anything, so this mode enumerates exhaustively, which the grouped passes make
    cheap.) Three honesty filters follow:

    * *redundant*: a slice that adds a predicate to a parent without being clearly worse is dropped
      (it is tested against the parent's other rows, for each parent; the largest p-value goes
      through Benjamini-Hochberg over all slices of two or more predicates);
    * *explained away*: a slice whose extra error comes entirely from a more specific candidate
      slice (the rows left after removing the child are not clearly worse than average) is dropped;
    * *overlap*: going down the list, a slice is kept only if its rows outside the slices listed
      above it are still clearly worse than average and than each of its parents (Bonferroni over
      the slices examined), so the overlap of two listed effects does not fill the list.

``scoring="sliceline"``
    The SliceLine score of Sagadeeva and Boehm (SIGMOD 2021),
    ``sc = alpha * ((se / |S|) / e_avg - 1) - (1 - alpha) * (n / |S| - 1)``, with its level-wise
    enumeration, minimum support, pruning on size, error and score upper bound and its top-k
    (ties at the k-th score kept). The result equals the ``sliceline`` package (``Slicefinder``),
    including its upper bound and its pruning against an incomplete top-k, so that the two can be
    compared slice by slice. At ``alpha=0.95`` its size penalty hides a slice of 0.4% of the rows
    with 5x the average error; ``balanced`` shows it.

Errors of 0/1 get Wilson intervals and a one-sided binomial test of the slice's error count at the
overall error rate (a fast, slightly conservative stand-in for Fisher's exact test of slice vs
rest); other errors get Student-t intervals and a one-sided Welch test of slice vs rest.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({"channel": rng.choice(["web", "app"], 4000),
...                       "region": rng.choice(["north", "south", "west"], 4000)})
>>> bad = (frame["channel"] == "app") & (frame["region"] == "west")
>>> errors = (rng.random(4000) < np.where(bad, 0.5, 0.1)).astype(float)
>>> result = find_weak_slices(encode_features(frame, ["channel", "region"]), errors, k=3)
>>> result.slices.loc[0, "description"]
'channel = app and region = west'
>>> bool(result.slices.loc[0, "significant"])
True
"""

from __future__ import annotations

import itertools
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.uncertainty import benjamini_hochberg, wilson_interval

__all__ = ["SLICE_COLUMNS", "EncodedFeatures", "SliceResult", "encode_features", "find_weak_slices"]

#: columns of ``SliceResult.slices``, in order, every time
SLICE_COLUMNS = [
    "rank", "predicates", "description", "level", "n", "share", "error_sum", "error_rate", "low", "high",
    "rest_error_rate", "ratio_to_overall", "score", "p_value", "q_value", "significant",
]  # fmt: skip

MISSING_LABEL = "(missing)"
OTHER_LABEL = "Other"
_SCORINGS = ("balanced", "sliceline")


# --------------------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------------------
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

    @property
    def n_rows(self) -> int:
        return int(self.codes.shape[0])

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


def _encode_categorical(s: pd.Series, max_values: int) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(s, use_na_sentinel=True, sort=False)
    uniques = np.asarray(uniques)
    missing = codes < 0
    counts = np.bincount(codes[~missing], minlength=len(uniques))
    top = np.argsort(-counts, kind="stable")[:max_values]
    try:  # kept values in their natural order (numbers numerically, strings alphabetically)
        top = top[np.argsort(uniques[top], kind="stable")]
    except TypeError:
        top = top[np.argsort(np.array([str(u) for u in uniques[top]]), kind="stable")]
    labels = _value_labels(uniques[top]) if len(top) else []
    mapping = np.full(len(uniques), len(top), dtype=np.int32)  # folded values -> "Other"
    mapping[top] = np.arange(len(top), dtype=np.int32)
    out = np.empty(len(s), dtype=np.int32)
    out[~missing] = mapping[codes[~missing]]
    if len(top) < len(uniques):
        other = OTHER_LABEL if OTHER_LABEL not in labels else f"{OTHER_LABEL} (folded)"
        labels.append(other)
    out[missing] = len(labels)
    if missing.any():
        labels.append(MISSING_LABEL)
    return out, labels


def _encode_numeric(x: np.ndarray, n_bins: int) -> tuple[np.ndarray, list[str], list[bool]]:
    """Equal-frequency bins that respect ties; returns codes, labels and which labels are intervals.

    A value holding at least 1/n_bins of the rows gets a bin of its own (labelled by the value);
    the other values are cut into about equal-frequency bins between those, at observed values,
    so every bin is non-empty and its edges are unique.
    """
    missing = np.isnan(x)
    present = x[~missing]
    uniq, counts = np.unique(present, return_counts=True)
    if len(uniq) <= n_bins:  # few distinct values (flags, counts, constants): one code per value
        codes = np.searchsorted(uniq, x).astype(np.int32)
        labels = _format_numbers(uniq)
        interval = [False] * len(labels)
    else:
        heavy = counts >= len(present) / n_bins
        light = np.where(heavy, 0, counts)
        per_bin = max(int(light.sum()), 1) / max(n_bins - int(heavy.sum()), 1)
        block = np.floor((np.cumsum(light) - light) / per_bin)
        new = np.r_[True, heavy[1:] | heavy[:-1] | (block[1:] != block[:-1])]
        bin_of = np.cumsum(new) - 1
        codes = bin_of[np.minimum(np.searchsorted(uniq, x), len(uniq) - 1)].astype(np.int32)
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
    codes[missing] = len(labels)
    if missing.any():
        labels.append(MISSING_LABEL)
        interval.append(False)
    return codes, labels, interval


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
    if not columns:
        raise InputError("columns: pick at least one column to slice by")
    if len(set(columns)) != len(columns):
        raise InputError(f"columns {columns}: each column may appear only once")
    if not isinstance(n_bins, int) or n_bins < 2:
        raise InputError(f"n_bins: must be an integer of at least 2, got {n_bins!r}")
    if not isinstance(max_values, int) or max_values < 1:
        raise InputError(f"max_values: must be a positive integer, got {max_values!r}")
    if len(frame) == 0:
        raise InputError("the data has no rows; there is nothing to slice")

    all_codes, all_labels, all_fragments, kinds = [], [], [], []
    for col in columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            x = s.to_numpy(dtype=float, na_value=np.nan)
            codes, labels, interval = _encode_numeric(x, n_bins)
            kind = "numeric"
            fragments = [
                f"{col} is missing"
                if lab == MISSING_LABEL
                else f"{col} in {lab}"
                if is_bin
                else f"{col} = {lab}"
                for lab, is_bin in zip(labels, interval, strict=True)
            ]
        else:
            codes, labels = _encode_categorical(s, max_values)
            kind = "categorical"
            fragments = [f"{col} is missing" if lab == MISSING_LABEL else f"{col} = {lab}" for lab in labels]
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


# --------------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class SliceResult:
    """Weak slices found, best first, with how many slices were evaluated to find them.

    ``slices`` has the columns ``SLICE_COLUMNS``; ``row_mask(i)`` / ``row_indices(i)`` give the
    rows of the slice in row ``i`` of ``slices`` (to re-rank them by any metric).
    """

    slices: pd.DataFrame
    n_evaluated: int
    overall_error_rate: float
    settings: dict[str, Any]
    features: EncodedFeatures = field(repr=False)
    definitions: list[tuple[tuple[int, int], ...]] = field(repr=False)

    def row_mask(self, i: int) -> np.ndarray:
        """Boolean mask over the rows of the data: True where row ``i`` of ``slices`` applies."""
        mask = np.ones(self.features.n_rows, dtype=bool)
        for col, code in self.definitions[i]:
            mask &= self.features.codes[:, col] == code
        return mask

    def row_indices(self, i: int) -> np.ndarray:
        """Positions of the rows in slice ``i``."""
        return np.flatnonzero(self.row_mask(i))

    def to_json(self) -> dict[str, Any]:
        """``{"slices": [{"predicates", "n", "error_rate", "score", ...}], ...}``, best first."""

        def num(v: Any) -> float | None:
            v = float(v)
            return v if math.isfinite(v) else None

        rows = [
            {
                "predicates": dict(r.predicates),
                "n": int(r.n),
                "error_rate": num(r.error_rate),
                "score": num(r.score),
                "description": r.description,
                "low": num(r.low),
                "high": num(r.high),
                "q_value": num(r.q_value),
                "significant": bool(r.significant),
            }
            for r in self.slices.itertuples(index=False)
        ]
        return {
            "slices": rows,
            "n_evaluated": int(self.n_evaluated),
            "overall_error_rate": num(self.overall_error_rate),
            "scoring": self.settings.get("scoring"),
        }


# --------------------------------------------------------------------------------------------------
# the lattice engine: grouped statistics per combination of columns
# --------------------------------------------------------------------------------------------------
class _TimeUp(Exception):
    pass


@dataclass
class _Level:
    """Slices of one level: one-hot ids per predicate (sorted), sorted integer keys and statistics."""

    g: np.ndarray  # (c, level) int64
    key: np.ndarray  # (c,) int64, ascending
    ss: np.ndarray  # sizes
    se: np.ndarray  # error sums
    sq: np.ndarray  # sums of squared errors
    sm: np.ndarray  # max error

    def __len__(self) -> int:
        return len(self.key)

    def take(self, idx) -> _Level:
        return _Level(self.g[idx], self.key[idx], self.ss[idx], self.se[idx], self.sq[idx], self.sm[idx])

    @staticmethod
    def concat(parts: list[_Level], level: int) -> _Level:
        if not parts:
            e = np.empty(0)
            return _Level(
                np.empty((0, level), np.int64), np.empty(0, np.int64), np.empty(0, np.int64), e, e, e
            )
        out = _Level(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("g", "key", "ss", "se", "sq", "sm"))
        )
        return out.take(np.argsort(out.key, kind="stable"))

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Positions of ``keys`` in this level, -1 where absent."""
        if len(self.key) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.key, keys), len(self.key) - 1)
        return np.where(self.key[pos] == keys, pos, -1)


class _Engine:
    """Grouped statistics of slices over encoded columns: one vectorized pass per column combination."""

    def __init__(
        self,
        features: EncodedFeatures,
        errors: np.ndarray,
        binary: bool,
        need_max: bool,
        deadline: float | None,
    ) -> None:
        self.codes = features.codes
        self.n, self.m = features.codes.shape
        self.dims = features.domain_sizes
        self.offsets = np.concatenate([[0], np.cumsum(self.dims)[:-1]]).astype(np.int64)
        self.D = int(self.dims.sum())
        self.feat_of = np.repeat(np.arange(self.m), self.dims)
        self.e = errors
        self.e2 = None if binary else errors * errors
        self.binary = binary
        self.need_max = need_max and not binary
        self.deadline = deadline
        self.limit = max(4 * self.n, 1 << 16)
        # rows with a non-zero error: error sums only need those (10% of the rows at a 10% error rate)
        nz = np.flatnonzero(errors)
        self.nz = nz if len(nz) < 0.6 * self.n else slice(None)
        self._prefix: tuple[tuple[int, ...], np.ndarray | None] = ((), None)

    def check_time(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _TimeUp

    def keys(self, g: np.ndarray) -> np.ndarray:
        key = np.zeros(len(g), dtype=np.int64)
        for i in range(g.shape[1]):
            key = key * self.D + g[:, i]
        return key

    def combined_code(self, feats: tuple[int, ...]) -> np.ndarray:
        """Per-row code of the value combination over ``feats`` (the prefix's code is reused)."""
        if len(feats) == 1:
            return self.codes[:, feats[0]].astype(np.int64)
        if self._prefix[0] == feats[:-1]:
            prefix = self._prefix[1]
        else:
            prefix = self.combined_code(feats[:-1])
            self._prefix = (feats[:-1], prefix)
        code = prefix * self.dims[feats[-1]]
        code += self.codes[:, feats[-1]]
        return code

    def table(self, feats: tuple[int, ...]):
        """Statistics of every non-empty slice over the columns ``feats`` (local codes ascending)."""
        code = self.combined_code(feats)
        n_groups = int(np.prod(self.dims[list(feats)]))
        if n_groups <= self.limit:
            cnt = np.bincount(code, minlength=n_groups)
            local = np.flatnonzero(cnt)
            idx, cnt = code, cnt[local]
        else:
            local, idx = np.unique(code, return_inverse=True)
            cnt = np.bincount(idx)
            n_groups = len(local)

        def agg(w):
            out = np.bincount(idx[self.nz], weights=w, minlength=n_groups)
            return out if len(out) == len(local) else out[local]

        se = agg(None if self.binary else self.e[self.nz]).astype(float)
        sq = se if self.binary else agg(self.e2[self.nz])
        if self.binary:
            sm = (se > 0).astype(float)
        elif self.need_max:
            sm = np.zeros(n_groups)
            np.maximum.at(sm, idx[self.nz], self.e[self.nz])
            if len(sm) != len(local):
                sm = sm[local]
        else:
            sm = np.full(len(local), np.nan)
        return local, cnt.astype(np.int64), se, sq, sm

    def decode(self, feats: tuple[int, ...], local: np.ndarray) -> np.ndarray:
        g = np.empty((len(local), len(feats)), dtype=np.int64)
        rest = local
        for i in range(len(feats) - 1, -1, -1):
            f = feats[i]
            rest, v = np.divmod(rest, self.dims[f])
            g[:, i] = v + self.offsets[f]
        return g

    def evaluate(self, g: np.ndarray, progress: Callable[[float], None] | None = None) -> _Level:
        """Exact statistics for the slices ``g`` (rows of sorted one-hot ids), grouped by columns."""
        c, level = g.shape
        ss = np.zeros(c, np.int64)
        se, sq, sm = np.zeros(c), np.zeros(c), np.zeros(c)
        if c:
            feats = self.feat_of[g]
            local = g - self.offsets[feats]
            combo = np.zeros(c, dtype=np.int64)
            for i in range(level):
                combo = combo * self.m + feats[:, i]
            order = np.argsort(combo, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(combo[order]) != 0])
            ends = np.r_[starts[1:], c]
            for j, (a, b) in enumerate(zip(starts, ends, strict=True)):
                self.check_time()
                rows = order[a:b]
                F = tuple(int(f) for f in feats[rows[0]])
                lc = np.zeros(len(rows), dtype=np.int64)
                for i, f in enumerate(F):
                    lc = lc * self.dims[f] + local[rows, i]
                t_local, t_ss, t_se, t_sq, t_sm = self.table(F)
                pos = np.minimum(np.searchsorted(t_local, lc), max(len(t_local) - 1, 0))
                found = t_local[pos] == lc
                ss[rows] = np.where(found, t_ss[pos], 0)
                se[rows] = np.where(found, t_se[pos], 0.0)
                sq[rows] = np.where(found, t_sq[pos], 0.0)
                sm[rows] = np.where(found, t_sm[pos], 0.0)
                if progress is not None:
                    progress((j + 1) / len(starts))
        out = _Level(g, self.keys(g), ss, se, sq, sm)
        return out.take(np.argsort(out.key, kind="stable"))

    def join(self, parents: _Level, level: int):
        """Apriori join: candidates of ``level`` predicates whose every parent is in ``parents``.

        Returns the candidates' one-hot ids and the positions in ``parents`` of their two parents
        that drop the first and the second predicate (SliceLine bounds a candidate by those two).
        """
        p = parents.g
        if level == 2:
            a, b = np.triu_indices(len(p), 1)
            ok = self.feat_of[p[a, 0]] != self.feat_of[p[b, 0]]
            a, b = a[ok], b[ok]
            g = np.column_stack([p[a, 0], p[b, 0]])
            return g, b, a
        prefix = parents.key // self.D
        starts = np.flatnonzero(np.r_[True, prefix[1:] != prefix[:-1]])
        sizes = np.diff(np.r_[starts, len(p)])
        pos_in_group = np.arange(len(p)) - np.repeat(starts, sizes)
        partners = np.repeat(sizes, sizes) - pos_in_group - 1
        total = int(partners.sum())
        if total == 0:
            return np.empty((0, level), np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        a = np.repeat(np.arange(len(p)), partners)
        b = a + 1 + (np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners))
        ok = self.feat_of[p[a, -1]] != self.feat_of[p[b, -1]]
        a, b = a[ok], b[ok]
        g = np.column_stack([p[a], p[b, -1]])
        present = np.ones(len(g), dtype=bool)
        pos = {}
        for drop in range(level - 2):
            sub = np.delete(g, drop, axis=1)
            pos[drop] = parents.find(self.keys(sub))
            present &= pos[drop] >= 0
        g = g[present]
        first = pos[0][present]
        second = pos[1][present] if level > 3 else b[present]
        return g, first, second


# --------------------------------------------------------------------------------------------------
# statistics of slices
# --------------------------------------------------------------------------------------------------
def _intervals(ss, se, sq, binary: bool, confidence: float):
    from scipy import special

    ss = np.asarray(ss, dtype=float)
    if binary:
        z = float(special.ndtri(0.5 + confidence / 2))
        return wilson_interval(se, ss, z=z)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = se / ss
        var = np.maximum(sq - se * mean, 0.0) / (ss - 1)
        t = special.stdtrit(np.maximum(ss - 1, 1), 0.5 + confidence / 2)
        half = np.where(ss > 1, t * np.sqrt(var / ss), np.inf)
    return np.maximum(mean - half, 0.0), mean + half


def _p_values(ss, se, sq, total_n, total_se, total_sq, binary: bool):
    """One-sided p-values: is the slice's error higher than the rest's?"""
    from scipy import special

    if binary:
        rate = total_se / total_n
        k = np.rint(se).astype(np.int64)
        with np.errstate(invalid="ignore"):
            p = np.where(
                k >= 1, special.bdtrc(np.maximum(k - 1, 0), np.asarray(ss, dtype=np.int64), rate), 1.0
            )
        return np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)
    ss = np.asarray(ss, dtype=float)
    n2 = total_n - ss
    se2, sq2 = total_se - se, total_sq - sq
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m2 = se / ss, se2 / n2
        v1 = np.maximum(sq - se * m1, 0.0) / (ss - 1)
        v2 = np.maximum(sq2 - se2 * m2, 0.0) / (n2 - 1)
        a, b = v1 / ss, v2 / n2
        s = np.sqrt(a + b)
        t = (m1 - m2) / s
        df = (a + b) ** 2 / (a * a / (ss - 1) + b * b / (n2 - 1))
        p = special.stdtr(df, -t)
    p = np.where(s > 0, p, np.where(m1 > m2, 0.0, 1.0))
    p = np.where((ss > 1) & (n2 > 1), p, 1.0)
    return np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)


def _sliceline_score(ss, se, n: int, alpha: float, avg: float) -> np.ndarray:
    """SliceLine's score, with the exact arithmetic of the ``sliceline`` package."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = alpha * ((se / ss) / avg - 1) - (1 - alpha) * (n / ss - 1)
    return np.nan_to_num(sc, nan=-np.inf)


def _sliceline_score_ub(ss, se, sm, n_col: int, min_sup: float, alpha: float, avg: float) -> np.ndarray:
    """SliceLine's upper bound, probing |S| in {min_sup, se/sm, ss} as the ``sliceline`` package does."""
    ss, se, sm = (np.asarray(a, dtype=float) for a in (ss, se, sm))
    with np.errstate(divide="ignore", invalid="ignore"):
        cand = np.column_stack([np.full(len(ss), float(min_sup)), np.maximum(se / sm, min_sup), ss])
        err = np.minimum(cand * sm[:, None], se[:, None])
        ub = (alpha * (err / avg - cand) - (1 - alpha) * (n_col - cand)) / cand
    return np.max(ub, axis=1) if len(ss) else np.empty(0)


# --------------------------------------------------------------------------------------------------
# search
# --------------------------------------------------------------------------------------------------
def _resolve_min_support(min_support, n: int) -> int:
    if min_support is None:
        return int(min(n, max(20, math.ceil(0.001 * n))))
    if isinstance(min_support, bool) or not isinstance(min_support, int | float | np.integer | np.floating):
        raise InputError(f"min_support: expected a row count or a fraction of the rows, got {min_support!r}")
    if isinstance(min_support, float | np.floating) and 0 < min_support < 1:
        return int(min_support * n)
    if min_support < 1 or min_support != int(min_support):
        raise InputError(
            f"min_support: must be a whole number of rows (>= 1) or a fraction in (0, 1), got {min_support!r}"
        )
    return int(min_support)


def _validate(features, errors, max_level, k, scoring, alpha, confidence, time_budget_s):
    if not isinstance(features, EncodedFeatures):
        raise InputError("features: pass the result of encode_features(frame, columns)")
    e = np.asarray(errors, dtype=float)
    if e.ndim != 1 or len(e) != features.n_rows:
        raise InputError(
            f"errors: expected one error per row ({features.n_rows} values), got shape {e.shape}"
        )
    bad = ~np.isfinite(e)
    if bad.any():
        raise InputError(
            f"errors: {int(bad.sum())} rows have a missing or infinite error; drop or fill them first"
        )
    if (e < 0).any():
        raise InputError(f"errors: must be >= 0 (0/1, absolute error, log loss...), found {float(e.min())}")
    if scoring not in _SCORINGS:
        raise InputError(f"scoring: must be one of {list(_SCORINGS)}, got {scoring!r}")
    if not isinstance(max_level, numbers.Integral) or not 1 <= max_level <= 5:
        raise InputError(f"max_level: must be an integer from 1 to 5, got {max_level!r}")
    if not isinstance(k, numbers.Integral) or k < 1:
        raise InputError(f"k: must be a positive integer, got {k!r}")
    if not 0 < alpha <= 1:
        raise InputError(f"alpha: must be in (0, 1], got {alpha!r}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence: must be in (0, 1), got {confidence!r}")
    if time_budget_s is not None and not time_budget_s > 0:
        raise InputError(f"time_budget_s: must be a positive number of seconds, got {time_budget_s!r}")
    if float(features.domain_sizes.sum()) ** max_level >= 2.0**62:
        raise InputError(
            f"max_level={max_level}: too many column values ({int(features.domain_sizes.sum())}) "
            "for so deep a "
            "search; lower max_values or n_bins, slice by fewer columns, or lower max_level"
        )
    return e


def find_weak_slices(
    features: EncodedFeatures,
    errors: np.ndarray,
    *,
    max_level: int = 3,
    min_support: int | float | None = None,
    k: int = 10,
    scoring: str = "balanced",
    alpha: float = 0.95,
    confidence: float = 0.95,
    time_budget_s: float | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> SliceResult:
    """Find the slices (conjunctions of up to ``max_level`` predicates) where the error is highest.

    Parameters
    ----------
    features:
        ``encode_features(frame, columns)``.
    errors:
        One error per row, >= 0: 0/1 (misclassification, false negative...), absolute error, log loss.
    max_level:
        Most predicates per slice.
    min_support:
        Fewest rows in a slice: a count, or a fraction of the rows (0 < f < 1). Default:
        ``max(20, 0.1% of the rows)``.
    k:
        How many slices to return (``sliceline`` keeps ties at the k-th score, as the peer does).
    scoring:
        ``"balanced"`` (lower confidence bound of the error-rate ratio, with redundancy filters) or
        ``"sliceline"`` (the SliceLine score with ``alpha``); see the module docstring.
    alpha:
        SliceLine's weight of error against size (``scoring="sliceline"`` only).
    confidence:
        Level of the intervals; slices with a Benjamini-Hochberg q-value <= ``1 - confidence`` are
        ``significant``.
    time_budget_s:
        Stop enumerating after this many seconds and report what was evaluated
        (``settings["complete"]`` is then False).
    progress:
        Optional ``callable(fraction, message)`` for a progress bar.

    Returns
    -------
    SliceResult
        ``slices`` (columns ``SLICE_COLUMNS``, best first), ``n_evaluated``, ``overall_error_rate``,
        ``settings``, ``row_mask(i)``, ``to_json()``.
    """
    e = _validate(features, errors, max_level, k, scoring, alpha, confidence, time_budget_s)
    max_level, k = int(max_level), int(k)
    started = time.perf_counter()
    n = features.n_rows
    min_sup = _resolve_min_support(min_support, n)
    binary = bool(np.isin(e, (0.0, 1.0)).all())
    deadline = None if time_budget_s is None else started + float(time_budget_s)
    engine = _Engine(features, e, binary, need_max=scoring == "sliceline", deadline=deadline)
    total_se = float(e.sum())
    total_sq = total_se if binary else float((e * e).sum())
    avg = float(np.mean(e))
    max_l = min(features.codes.shape[1], max_level)

    last = [-1.0, 0.0]  # fraction and time of the last report: at most ~100 reports reach the UI

    def report(fraction: float, message: str) -> None:
        if progress is None:
            return
        fraction = float(min(max(fraction, 0.0), 1.0))
        now = time.perf_counter()
        if fraction >= 1.0 or fraction - last[0] >= 0.01 or now - last[1] >= 0.25:
            last[:] = [fraction, now]
            progress(fraction, message)

    settings: dict[str, Any] = {
        "scoring": scoring, "alpha": alpha if scoring == "sliceline" else None, "k": k,
        "max_level": max_level, "min_support": min_sup, "confidence": confidence,
        "error_kind": "binary" if binary else "continuous", "time_budget_s": time_budget_s,
        "n_rows": n, "columns": list(features.columns),
    }  # fmt: skip
    if scoring == "sliceline":
        levels, chosen, complete = _search_sliceline(engine, max_l, min_sup, k, alpha, avg, report)
    else:
        levels, complete = _search_exhaustive(engine, max_l, min_sup, report)
        chosen = None
    if not levels:  # the time budget ran out before the first level was done
        levels = [_Level.concat([], 1)]

    # every evaluated slice is tested; BH runs over all of them
    all_ss = np.concatenate([lv.ss for lv in levels])
    all_se = np.concatenate([lv.se for lv in levels])
    all_sq = np.concatenate([lv.sq for lv in levels])
    n_evaluated = len(all_ss)
    p_all = _p_values(all_ss, all_se, all_sq, n, total_se, total_sq, binary)
    q_all = benjamini_hochberg(p_all) if n_evaluated else p_all
    bounds = np.cumsum([0] + [len(lv.ss) for lv in levels])

    if scoring == "sliceline":
        picks = chosen  # list of (level index, position, score)
    else:
        significant = q_all <= 1 - confidence
        picks = _select_balanced(
            levels, np.split(significant, bounds[1:-1]), avg, k, binary, confidence, engine
        )

    records, definitions = [], []
    flat = np.array([bounds[li] + pos for li, pos, _ in picks], dtype=np.int64)
    for rank, (li, pos, sc) in enumerate(picks, start=1):
        lv = levels[li]
        g = lv.g[pos]
        feats = engine.feat_of[g]
        codes = g - engine.offsets[feats]
        defn = tuple((int(f), int(c)) for f, c in zip(feats, codes, strict=True))
        definitions.append(defn)
        records.append(
            {
                "rank": rank,
                "predicates": {features.columns[f]: features.labels[f][c] for f, c in defn},
                "description": " and ".join(features.fragments[f][c] for f, c in defn),
                "level": len(defn),
                "n": int(lv.ss[pos]),
                "error_sum": float(lv.se[pos]),
                "score": float(sc),
            }
        )
    out = pd.DataFrame.from_records(
        records, columns=["rank", "predicates", "description", "level", "n", "error_sum", "score"]
    )
    ss = out["n"].to_numpy(dtype=float)
    se = out["error_sum"].to_numpy(dtype=float)
    sq = np.concatenate([lv.sq for lv in levels])[flat] if len(flat) else np.empty(0)
    low, high = _intervals(ss, se, sq, binary, confidence) if len(flat) else (np.empty(0), np.empty(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = ss / n
        out["error_rate"] = se / ss
        out["low"], out["high"] = low, high
        out["rest_error_rate"] = np.where(ss < n, (total_se - se) / (n - ss), np.nan)
        out["ratio_to_overall"] = (se / ss) / avg if avg > 0 else np.nan
    out["p_value"] = p_all[flat] if len(flat) else np.empty(0)
    out["q_value"] = q_all[flat] if len(flat) else np.empty(0)
    out["significant"] = (out["q_value"] <= 1 - confidence).astype(bool)
    out = out[SLICE_COLUMNS].astype(
        {"rank": "int64", "predicates": "object", "description": "str", "level": "int64", "n": "int64",
         "share": "float64", "error_sum": "float64", "error_rate": "float64", "low": "float64",
         "high": "float64", "rest_error_rate": "float64", "ratio_to_overall": "float64", "score": "float64",
         "p_value": "float64", "q_value": "float64", "significant": "bool"}
    )  # fmt: skip
    settings["complete"] = complete
    settings["elapsed_s"] = round(time.perf_counter() - started, 4)
    report(1.0, f"done: {n_evaluated:,} slices evaluated")
    return SliceResult(out, n_evaluated, avg, settings, features, definitions)


def _search_exhaustive(engine: _Engine, max_l: int, min_sup: int, report):
    """Every slice with at least ``min_sup`` rows, level by level (a column combination is skipped
    when one of its sub-combinations has no such slice)."""
    levels: list[_Level] = []
    alive: set[tuple[int, ...]] = set()
    complete = True
    parts: list[_Level] = []
    level = 1
    combos_by_level = [list(itertools.combinations(range(engine.m), lvl)) for lvl in range(1, max_l + 1)]
    weights = np.array([len(c) for c in combos_by_level], dtype=float)
    done_before = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    try:
        for li, combos in enumerate(combos_by_level):
            level = li + 1
            parts, new_alive = [], set()
            for j, F in enumerate(combos):
                if level > 1 and any(F[:i] + F[i + 1 :] not in alive for i in range(level)):
                    continue
                engine.check_time()
                local, ss, se, sq, sm = engine.table(F)
                keep = ss >= min_sup
                if keep.any():
                    new_alive.add(F)
                    g = engine.decode(F, local[keep])
                    parts.append(_Level(g, engine.keys(g), ss[keep], se[keep], sq[keep], sm[keep]))
                report(
                    done_before[li] + (j + 1) / len(combos) * (done_before[li + 1] - done_before[li]),
                    f"level {level}: {j + 1}/{len(combos)} column combinations",
                )
            levels.append(_Level.concat(parts, level))
            alive = new_alive
            if not alive:
                break
    except _TimeUp:
        complete = False
        levels.append(_Level.concat(parts, level))
    return levels, complete


def _search_sliceline(engine: _Engine, max_l: int, min_sup: int, k: int, alpha: float, avg: float, report):
    """SliceLine, step for step as the ``sliceline`` package runs it (so results match exactly)."""
    n = engine.n
    levels: list[_Level] = []
    complete = True
    top_li, top_pos, top_sc = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)

    def maintain(li: int, sc: np.ndarray) -> None:
        """Add the valid slices of level table ``li`` to the top-k (ties at the k-th score kept)."""
        nonlocal top_li, top_pos, top_sc
        lv = levels[li]
        valid = np.flatnonzero((lv.ss >= min_sup) & (sc > 0))
        if len(valid) == 0:
            return
        cand_li = np.r_[top_li, np.full(len(valid), li)]
        cand_pos = np.r_[top_pos, valid]
        cand_sc = np.r_[top_sc, sc[valid]]
        keep = np.arange(len(cand_sc))
        if len(cand_sc) > k:
            keep = np.flatnonzero(cand_sc >= np.sort(cand_sc)[::-1][k - 1])
        # order: score descending, then the one-hot vectors lexicographically (as the peer does)
        onehot = np.zeros((len(keep), engine.D), dtype=np.int8)
        for r, i in enumerate(keep):
            onehot[r, levels[cand_li[i]].g[cand_pos[i]]] = 1
        keys = tuple(onehot[:, j] for j in range(engine.D - 1, -1, -1)) + (-cand_sc[keep],)
        order = keep[np.lexsort(keys)]
        top_li, top_pos, top_sc = cand_li[order], cand_pos[order], cand_sc[order]

    try:
        report(0.0, "level 1")
        levels.append(engine.evaluate(np.arange(engine.D, dtype=np.int64)[:, None]))
        current = levels[0]
        maintain(0, _sliceline_score(current.ss, current.se, n, alpha, avg))
        current = current.take(np.flatnonzero((current.ss >= min_sup) & (current.se > 0)))
        level = 1
        while len(current) and level < max_l:
            level += 1
            parents = current.take(np.flatnonzero((current.ss >= min_sup) & (current.se > 0)))
            g, first, second = engine.join(parents, level)
            ub = _sliceline_score_ub(
                np.minimum(parents.ss[first], parents.ss[second]),
                np.minimum(parents.se[first], parents.se[second]),
                np.minimum(parents.sm[first], parents.sm[second]),
                engine.D,
                min_sup,
                alpha,
                avg,
            )
            min_score = top_sc[-1] if len(top_sc) else -np.inf
            g = g[(ub > min_score) & (ub > 0)]
            count = len(g)

            def tick(f, level=level, count=count):
                report((level - 1 + f) / max_l, f"level {level}: evaluating {count:,} candidates")

            current = engine.evaluate(g, tick)
            levels.append(current)
            maintain(len(levels) - 1, _sliceline_score(current.ss, current.se, n, alpha, avg))
    except _TimeUp:
        complete = False
    picks = [(int(li), int(pos), float(sc)) for li, pos, sc in zip(top_li, top_pos, top_sc, strict=True)]
    return levels, picks, complete


def _select_balanced(
    levels: list[_Level],
    significant: list[np.ndarray],
    avg: float,
    k: int,
    binary: bool,
    confidence: float,
    engine: _Engine,
):
    """Top k significant slices by the lower bound of the error-rate ratio, after the redundancy filters."""
    if avg <= 0:
        return []
    # redundancy: a child must be clearly worse than every parent. Its p-value against a parent
    # tests it against the parent's other rows; the largest over the parents (intersection-union)
    # goes through Benjamini-Hochberg over every evaluated child.
    p_red = []
    for li, lv in enumerate(levels):
        level = lv.g.shape[1]
        if level == 1 or len(lv) == 0:
            continue
        parent_lv = levels[li - 1]
        worst = np.zeros(len(lv))
        for drop in range(level):
            pos = parent_lv.find(engine.keys(np.delete(lv.g, drop, axis=1)))
            pos = np.maximum(pos, 0)  # parents of an evaluated slice are always evaluated
            p = _p_values(
                lv.ss,
                lv.se,
                lv.sq,
                parent_lv.ss[pos].astype(float),
                parent_lv.se[pos],
                parent_lv.sq[pos],
                binary,
            )
            worst = np.maximum(worst, p)
        p_red.append(worst)
    q_red = benjamini_hochberg(np.concatenate(p_red)) if p_red else np.empty(0)
    cands = []  # (level index, positions, score, size)
    offset = 0
    for li, lv in enumerate(levels):
        if len(lv) == 0:
            continue
        low, _ = _intervals(lv.ss, lv.se, lv.sq, binary, confidence)
        ok = (low > avg) & significant[li]
        if lv.g.shape[1] > 1:
            ok &= q_red[offset : offset + len(lv)] <= 1 - confidence
            offset += len(lv)
        idx = np.flatnonzero(ok)
        cands.append((np.full(len(idx), li), idx, low[idx] / avg, lv.ss[idx]))
    if not cands:
        return []
    li_all, pos_all, sc_all, ss_all = (np.concatenate([c[j] for c in cands]) for j in range(4))
    order = np.lexsort((-ss_all, -sc_all))
    pool = order[: 5 * k + 50]

    # explained away: drop a slice whose excess comes from a more specific candidate slice
    D = engine.D
    P = len(pool)
    onehot = np.zeros((P, D), dtype=np.int32)
    lev = np.empty(P, dtype=np.int64)
    ss = np.empty(P)
    se = np.empty(P)
    sq = np.empty(P)
    for r, i in enumerate(pool):
        lv = levels[li_all[i]]
        onehot[r, lv.g[pos_all[i]]] = 1
        lev[r] = lv.g.shape[1]
        ss[r], se[r], sq[r] = lv.ss[pos_all[i]], lv.se[pos_all[i]], lv.sq[pos_all[i]]
    contains = (onehot @ onehot.T) == lev[:, None]  # contains[a, c]: c has every predicate of a
    np.fill_diagonal(contains, False)
    a_idx, c_idx = np.nonzero(contains & (lev[None, :] > lev[:, None]))
    explained = np.zeros(P, dtype=bool)
    if len(a_idx):
        r_ss = ss[a_idx] - ss[c_idx]
        r_se = se[a_idx] - se[c_idx]
        r_sq = sq[a_idx] - sq[c_idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            r_low, _ = _intervals(
                np.maximum(r_ss, 1), np.maximum(r_se, 0), np.maximum(r_sq, 0), binary, confidence
            )
        not_worse = (r_ss < 1) | ~(r_low > avg)
        explained[a_idx[not_worse]] = True
    # greedy, best first: a slice is listed only if its rows not covered by the slices listed above
    # it (other than its own ancestors) are still clearly worse than average and than each parent
    # on those rows -- so overlaps of two listed effects do not fill the list
    codes, e = engine.codes, engine.e
    e2 = e if binary else engine.e2
    ordered = pool[~explained]
    alpha_test = (1 - confidence) / max(len(ordered), 1)  # Bonferroni over the slices examined here

    def mask_of(preds) -> np.ndarray:
        mask = np.ones(engine.n, dtype=bool)
        for gid in preds:
            f = engine.feat_of[gid]
            mask &= codes[:, f] == gid - engine.offsets[f]
        return mask

    chosen: list[tuple[int, frozenset, np.ndarray]] = []
    for i in ordered:
        if len(chosen) == k:
            break
        g = levels[li_all[i]].g[pos_all[i]]
        preds = frozenset(int(x) for x in g)
        others = [m for _, sp, m in chosen if not sp < preds]
        if not others:
            chosen.append((int(i), preds, mask_of(g)))
            continue
        covered = np.logical_or.reduce(others)
        mask = mask_of(g)
        rest = mask & ~covered
        n_r = int(rest.sum())
        if n_r == 0:
            continue
        se_r, sq_r = float(e[rest].sum()), float(e2[rest].sum())
        low_r, _ = _intervals(np.array([n_r]), np.array([se_r]), np.array([sq_r]), binary, confidence)
        ok = bool(low_r[0] > avg)
        for drop in range(len(g) if len(g) > 1 else 0):
            if not ok:
                break
            pmask = mask_of(np.delete(g, drop)) & ~covered
            p = _p_values(
                np.array([n_r]),
                np.array([se_r]),
                np.array([sq_r]),
                float(pmask.sum()),
                float(e[pmask].sum()),
                float(e2[pmask].sum()),
                binary,
            )
            ok = bool(p[0] <= alpha_test)
        if ok:
            chosen.append((int(i), preds, mask))
    return [(int(li_all[i]), int(pos_all[i]), float(sc_all[i])) for i, _, _ in chosen]
