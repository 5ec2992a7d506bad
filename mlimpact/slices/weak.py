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

The pieces live in small modules behind this one: :mod:`mlimpact.slices.encoding` (columns to codes),
:mod:`mlimpact.slices.lattice` (the grouped-statistics engine and both searches),
:mod:`mlimpact.slices.stats` (intervals, tests, SliceLine's score), :mod:`mlimpact.slices.selection`
(the honesty filters of ``balanced``) and :mod:`mlimpact.slices.table` (the tests of every slice and
the result table).

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

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import MISSING_LABEL
from mlimpact.slices.encoding import EncodedFeatures, encode_features
from mlimpact.slices.lattice import _Engine, _Level, _search_exhaustive, _search_sliceline
from mlimpact.slices.segments import OTHER_LABEL
from mlimpact.slices.selection import _select_balanced
from mlimpact.slices.table import SLICE_COLUMNS, _slice_table, _SliceTests

__all__ = ["SLICE_COLUMNS", "EncodedFeatures", "SliceResult", "encode_features", "find_weak_slices", "search_lattice",
           "MISSING_LABEL", "OTHER_LABEL"]

_SCORINGS = ("balanced", "sliceline")


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
        if self.features.rows is not None:
            raise InputError("the rows of a slice found on an engine stay on the engine; filter the source by the "
                             "slice's predicates to see them")
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
    _validate_options(features, max_level, k, scoring, alpha, confidence, time_budget_s)
    return e


def _validate_options(features, max_level, k, scoring, alpha, confidence, time_budget_s) -> None:
    """The search's options (the same checks in memory and on the engines)."""
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
    binary = bool(np.isin(e, (0.0, 1.0)).all())
    deadline = None if time_budget_s is None else time.perf_counter() + float(time_budget_s)
    engine = _Engine(features, e, binary, need_max=scoring == "sliceline", deadline=deadline)
    return search_lattice(features, engine, max_level=max_level, min_support=min_support, k=k, scoring=scoring,
                          alpha=alpha, confidence=confidence, time_budget_s=time_budget_s, progress=progress)


def search_lattice(features: EncodedFeatures, engine: _Engine, *, max_level: int, min_support, k: int, scoring: str,
                   alpha: float, confidence: float, time_budget_s: float | None,
                   progress: Callable[[float, str], None] | None) -> SliceResult:
    """The search over a lattice engine: the rows' (:class:`_Engine`) or an engine's counted cells.

    Everything after the per-row errors is here, once, so both give the same slices on the same bins.
    """
    max_level, k = int(max_level), int(k)
    started = time.perf_counter()
    min_sup = _resolve_min_support(min_support, features.n_rows)
    binary = engine.binary
    avg = engine.total_se / engine.n
    report = _Progress(progress)
    settings: dict[str, Any] = {
        "scoring": scoring, "alpha": alpha if scoring == "sliceline" else None, "k": k,
        "max_level": max_level, "min_support": min_sup, "confidence": confidence,
        "error_kind": "binary" if binary else "continuous", "time_budget_s": time_budget_s,
        "n_rows": features.n_rows, "columns": list(features.columns),
    }  # fmt: skip
    max_l = min(len(features.columns), max_level)
    if scoring == "sliceline":
        levels, picks, complete = _search_sliceline(engine, max_l, min_sup, k, alpha, avg, report)
    else:
        levels, complete = _search_exhaustive(engine, max_l, min_sup, report)
        picks = None  # chosen once every slice is tested, below
    if not levels:  # the time budget ran out before the first level was done
        levels = [_Level.concat([], 1)]
    tests = _SliceTests.of(levels, engine.n, engine.total_se, engine.total_sq, binary)  # BH runs over all
    if picks is None:  # sliceline's come with its search: (level index, position, score)
        picks = _select_balanced(levels, tests.significant_per_level(confidence), avg, k, binary, confidence,
                                 engine)
    out, definitions = _slice_table(features, engine, levels, picks, tests, avg=avg, binary=binary,
                                    confidence=confidence)
    settings["complete"] = complete
    settings["elapsed_s"] = round(time.perf_counter() - started, 4)
    report(1.0, f"done: {tests.n_evaluated:,} slices evaluated")
    return SliceResult(out, tests.n_evaluated, avg, settings, features, definitions)


class _Progress:
    """``report(fraction, message)`` for the searches: passes at most ~100 reports on to ``progress``.

    A report reaches ``progress`` at the end, or after 1% more progress or 0.25 s since the last one.
    """

    def __init__(self, progress: Callable[[float, str], None] | None):
        self.progress = progress
        self.last = [-1.0, 0.0]  # fraction and time of the last report

    def __call__(self, fraction: float, message: str) -> None:
        if self.progress is None:
            return
        fraction = float(min(max(fraction, 0.0), 1.0))
        now = time.perf_counter()
        if fraction >= 1.0 or fraction - self.last[0] >= 0.01 or now - self.last[1] >= 0.25:
            self.last[:] = [fraction, now]
            self.progress(fraction, message)
