"""What a cost change leaves alone: computed once per Dataset (and threshold, rule, segment column), kept with it.

The Impact page asks about the same rows again and again while only the money changes, and most of the work
does not depend on the money: the positives and rows per distinct score, the bootstrap grid's quantiles, the rows
flagged at the threshold, the rule's flags, the other models' sorted scores and their flags at the model's rate;
per segment column, and for the score grid of the thresholds chosen again in every replicate (its cut-offs: the
quantiles, the threshold and the review lanes), which rows fall in which cell and the cells' resampled counts with
the normals of the within-cell term (:func:`mlimpact.impact.bootstrap.layout_draws`). :func:`policy_layout` and
:func:`segment_layout` compute them once (each traced: :mod:`mlimpact.trace`) and keep the last
:data:`KEPT_LAYOUTS` of each kind (:data:`KEPT_GRIDS` score grids) in the Dataset's cache, so a cost change only
puts money on them. Every number is the one computed afresh (the same operations on the same arrays).

The fixed policies' bootstrap is not kept: its cells hold the other models' own best flags, which move with the
money. It is small (label × a handful of decisions: :mod:`mlimpact.impact.points`), so it is drawn again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.engine.memory import kept_per_kind
from mlimpact.errors import InputError
from mlimpact.impact.bootstrap import (
    _Cells,
    _grid,
    _Layout,
    grid_quantiles,
    layout_draws,
    make_layout,
    replicates_of_draws,
)
from mlimpact.impact.costs import Rule
from mlimpact.impact.values import (
    Gains,
    _check_lanes,
    curve_counts,
    cut_threshold,
    lane_decisions,
    score_bins,
    threshold_values,
)
from mlimpact.io import Dataset
from mlimpact.io.decision import decide
from mlimpact.slices import segment_codes

__all__ = ["KEPT_LAYOUTS", "KEPT_GRIDS", "OtherModel", "PolicyLayout", "policy_layout", "GridLayout",
           "SegmentLayout", "segment_layout", "other_scores", "same_rate_threshold"]

#: layouts of each kind (scores, decisions, segment cells) kept per Dataset: the last few thresholds, rules and
#: segment columns; the least recently used goes first. At 1M rows: about 4 MB per segment column, 2 MB per
#: threshold and rule, 1.2 MB for the sorted scores' counts.
KEPT_LAYOUTS = 3
#: score grids kept per Dataset: the one in use. Its draws are score bins × label × (1 + 3 money columns) floats per
#: replicate whatever the rows (about 33 MB for 1,000 replicates); a grid is remade in ~0.07 s
KEPT_GRIDS = 1
_STORE = ("impact_layouts",)  # a tuple: the same cache holds column names as keys


def _kept(dataset: Dataset, key: tuple, compute, limit: int = KEPT_LAYOUTS):
    """``compute()`` once per ``key`` for this Dataset, kept in its cache (the last ``limit`` of each kind,
    ``key[0]``; safe when sessions share the Dataset: at worst a layout is computed twice)."""
    return kept_per_kind(dataset._codes.setdefault(_STORE, {}), key, compute, limit)


def other_scores(dataset: Dataset) -> dict[str, np.ndarray]:
    """The other models' scores (``roles.other_scores``), as floats (missing: NaN)."""
    out = {}
    for col in dataset.roles.other_scores:
        if col not in dataset.frame.columns or col == dataset.roles.score:
            continue
        s = dataset.frame[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise InputError(f"column `{col}` (another model's score) does not hold numbers; remove it from "
                             "the other models or pick its score column")
        out[col] = s.to_numpy(dtype=float, na_value=np.nan)
    return out


def same_rate_threshold(score: np.ndarray, k: int) -> float:
    """The threshold flagging the k highest scores (ties at the cut are all flagged).

    >>> same_rate_threshold(np.array([0.1, 0.9, 0.5, 0.7]), 2)
    0.7
    """
    finite = np.sort(score[np.isfinite(score)])
    if not len(finite):
        return 0.0
    if k <= 0:
        return float(np.nextafter(finite[-1], np.inf))
    return float(finite[max(len(finite) - k, 0)])


@dataclass(frozen=True, eq=False)
class OtherModel:
    """Another model's score, sorted once: its rows' places among its distinct scores, its flags at the model's
    flag rate."""

    column: str
    distinct: np.ndarray  # ascending distinct scores (missing: -inf, never flagged)
    inverse: np.ndarray   # each row's index into them
    note: str | None
    rate_threshold: float
    at_rate: np.ndarray   # rows it flags at the model's flag rate

    def flags(self, t: float) -> np.ndarray:
        """Rows whose score is at least ``t``."""
        return _at_least(self.distinct, self.inverse, t)

    def best_threshold(self, g: Gains) -> float:
        """Its value-maximising threshold under the money of ``g`` (ties: the one flagging fewer), exact."""
        K = len(self.distinct)
        bins = self.inverse + 1
        vals = threshold_values(np.bincount(bins, weights=g.keep, minlength=K + 1),
                                np.bincount(bins, weights=g.flag, minlength=K + 1))[1:]
        thr = np.append(self.distinct, cut_threshold(self.distinct, K + 1))
        return float(thr[len(vals) - 1 - int(np.argmax(vals[::-1]))])


def _other_model(dataset: Dataset, col: str, s: np.ndarray, k: int) -> OtherModel:
    missing = np.isnan(s)
    filled = np.where(missing, -np.inf, s)
    note = f"{int(missing.sum()):,} rows without a score count as not flagged" if missing.any() else None
    distinct, inverse = score_bins(dataset, col, filled)
    finite = np.isfinite(distinct)
    values, counts = distinct[finite], np.bincount(inverse, minlength=len(distinct))[finite]
    n = int(counts.sum())
    if not n or k <= 0:
        t_rate = 0.0 if not n else float(np.nextafter(values[-1], np.inf))
    else:  # the (n - k)-th smallest finite score, from the counts instead of a sort
        t_rate = float(values[np.searchsorted(np.cumsum(counts), max(n - k, 0), side="right")])
        if t_rate == 0:  # ±0 are one distinct value: take the sorted row's own sign
            t_rate = same_rate_threshold(filled, k)
    return OtherModel(col, distinct, inverse, note, t_rate, _at_least(distinct, inverse, t_rate))


def _at_least(distinct: np.ndarray, inverse: np.ndarray, t: float) -> np.ndarray:
    """``score >= t`` for the rows of ``distinct[inverse]``, from their places among the sorted scores."""
    return inverse >= np.searchsorted(distinct, t, side="left")


@dataclass(frozen=True, eq=False)
class PolicyLayout:
    """The money-free part of :func:`mlimpact.impact.points.policies_of` for one threshold, rule and lanes."""

    distinct: np.ndarray  # the model's ascending distinct scores
    inverse: np.ndarray   # each row's index into them
    counts: tuple         # positives and rows per bin of the exact curve
    quantiles: list       # the bootstrap grid's quantiles
    k: int                # rows flagged at the threshold
    rule: np.ndarray | None
    others: list
    grid: GridLayout | None = None  # the bootstrap's grid at the threshold and lanes


def policy_layout(dataset: Dataset, g: Gains, *, threshold: float, rule: Rule | None, others: bool,
                  lanes: tuple | None = None) -> PolicyLayout:
    """:class:`PolicyLayout` of the rows of ``g`` (the Dataset's, any money), computed once and kept."""
    lanes = _check_lanes(lanes)  # a tuple (part of a key) or None

    def scores():
        trace.count("impact_scores")
        distinct, inverse = g.bins if g.bins is not None else np.unique(g.score, return_inverse=True)
        return distinct, inverse, curve_counts(g), grid_quantiles(g)

    def decisions():
        trace.count("impact_layout")
        k = int(np.asarray(decide(g.score, threshold), dtype=bool).sum())
        return (k, None if rule is None else rule.mask(dataset.frame),
                [_other_model(dataset, col, s, k) for col, s in other_scores(dataset).items()] if others else [])

    def grid():
        trace.count("impact_grid_layout")
        cuts = _grid(g, [threshold, *(lanes or ())], quantiles)
        bins = np.searchsorted(cuts, distinct, side="right")[inverse]
        cells = make_layout(bins, g.y.astype(np.int64), len(cuts) + 1)
        if len(cells.count) < 2**31:  # kept: half the memory (bincount takes either)
            cells = dataclasses.replace(cells, inv=cells.inv.astype(np.int32))
        return GridLayout(cuts, cells)

    distinct, inverse, counts, quantiles = _kept(dataset, ("scores", g.bins is not None), scores)
    k, mask, models = _kept(dataset, ("decisions", threshold, rule, others), decisions)
    return PolicyLayout(distinct, inverse, counts, quantiles, k, mask, models,
                        _kept(dataset, ("grid", g.bins is not None, threshold, lanes), grid, KEPT_GRIDS))


class _Drawn:
    """A layout (``cells``) whose draws are kept in ``draws``, made once and traced as ``_TRACED``."""

    _TRACED: str = ""

    def replicates(self, cells: _Cells, *, n_boot: int, seed: int, time_budget_s,
                   columns: int | None = None) -> tuple[dict, int]:
        """:func:`mlimpact.impact.bootstrap.cell_bootstrap` of ``cells`` (money on :attr:`cells`; ``columns``: of
        the first few money columns only), from draws made once per (n_boot, seed, money columns), again only when
        fewer than ``n_boot`` were made and no time budget is given now."""
        key = (n_boot, seed, cells.mean.shape[1])
        found = self.draws.get(key)
        if found is None or (time_budget_s is None and found[1] < n_boot):
            trace.count(self._TRACED)
            found = layout_draws(self.cells, key[2], n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
            self.draws.clear()  # the newest only: a grid's draws are ~33 MB whatever the rows
            self.draws[key] = found
        return replicates_of_draws(cells, found[0], columns), found[1]


@dataclass(frozen=True, eq=False)
class SegmentLayout(_Drawn):
    """The money-free part of :func:`mlimpact.impact.risks.segment_impact` for one column, threshold and lanes."""

    _TRACED = "impact_segment_draws"

    labels: pd.DataFrame
    cells: _Layout        # segment × decision × label (pattern: decision · 2 + label)
    draws: dict = field(default_factory=dict)  # (n_boot, seed, columns) -> (draws, replicates used): the newest

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's segment code and decision (0 keep, 1 flag, 2 review), from its cell (not kept twice)."""
        return self.cells.group[self.cells.inv], (self.cells.pattern[self.cells.inv] >> 1).astype(np.int8)


@dataclass(frozen=True, eq=False)
class GridLayout(_Drawn):
    """The score grid of the thresholds chosen again in every replicate (:func:`mlimpact.impact.points.policies_of`):
    its cut-offs (quantiles, the threshold and the review lanes: nothing that moves with the money), which rows fall
    in which bin × label cell, and the cells' draws."""

    _TRACED = "impact_grid_draws"
    cuts: np.ndarray
    cells: _Layout        # score bin × label
    draws: dict = field(default_factory=dict)  # (n_boot, seed, columns) -> (draws, replicates used): the newest


def segment_layout(dataset: Dataset, g: Gains, *, column: str, threshold: float, lanes, n_bins: int,
                   top_k: int) -> SegmentLayout:
    """:class:`SegmentLayout` of the rows of ``g`` (the Dataset's, any money), computed once and kept."""

    def compute():
        trace.count("impact_segment_layout")
        seg = segment_codes(dataset, [column], n_bins=n_bins, top_k=top_k)
        d = lane_decisions(g.score, threshold, lanes)
        cells = make_layout(seg.codes, d.astype(np.int64) * 2 + g.y, seg.n_groups)
        if len(cells.count) < 2**31:  # kept: half the memory (bincount takes either)
            cells = dataclasses.replace(cells, inv=cells.inv.astype(np.int32))
        return SegmentLayout(seg.labels, cells)

    return _kept(dataset, ("segment", column, threshold, lanes, n_bins, top_k), compute)
