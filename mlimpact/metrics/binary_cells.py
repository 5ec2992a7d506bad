"""Cells of binary rows: one bincount of each group's rows by score bin and label, and the cell sums of the per-row losses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlimpact.engine import ScoreOrder, binary_counts, rank_statistics_from_order, row_loss, score_order
from mlimpact.io.decision import decide
from mlimpact.metrics.base import (
    BOOT_SCORE_BINS,
    REST_AP_BINS,
    _quantile_bin_ids,
)

__all__ = []


_LOSSES = ("log_loss", "brier_score")


@dataclass(frozen=True, eq=False)
class _Grid:
    """The bootstrap's score bins for one ScoreOrder and threshold, per sorted row (shared by groupings)."""

    coarse_y: np.ndarray  #: bin (BOOT_SCORE_BINS quantiles + the threshold; 0 = highest scores) * 2 + label
    n_coarse: int
    pred_coarse: np.ndarray  #: (n_coarse,) the bin lies at or above the threshold


def _grid(so: ScoreOrder, threshold: float) -> _Grid:
    def build():
        s = so.score
        bins, nb = _quantile_bin_ids(s, BOOT_SCORE_BINS, [threshold])
        pred_asc = np.bincount(bins, weights=decide(s, threshold), minlength=nb) > 0
        return _Grid((nb - 1 - bins).astype(np.int32) * 2 + so.y, nb, pred_asc[::-1].copy())

    return so.cached(("grid", float(threshold)), build)


def _fine_bins(so: ScoreOrder) -> tuple[np.ndarray, int]:
    """Per sorted row: REST_AP_BINS score-quantile bin (ascending) * 2 + label; and the number of bins."""
    def build():
        fine, nf = _quantile_bin_ids(so.score, REST_AP_BINS)
        return fine.astype(np.int32) * 2 + so.y, nf

    return so.cached("fine_bins", build)


def _row_loss(so: ScoreOrder, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log loss (scikit-learn's clipping) or squared error in score order, and its square."""
    def build():
        x = row_loss(name, so.score, so.y)
        return x, x * x

    return so.cached(("row_loss", name), build)


@dataclass(eq=False)
class _Cells:
    """Per-group cell counts ``(G, nb * S)``: ``nb`` score bins from the top x ``S`` states (2: label;
    4: tp, fp, fn, tn), plus what the later steps reuse."""

    counts: np.ndarray
    nb: int
    S: int
    pred_bins: np.ndarray  #: (nb,) the bin is predicted positive (S == 2)
    so: ScoreOrder | None = None
    cs: np.ndarray | None = None  #: codes in score order
    csi: np.ndarray | None = None  #: the same as np.intp
    sums: dict = None  #: loss -> (cell sums, cell sums of squares or None)
    rank: object = None  #: rest -> RankStats of every group (None without a score order)
    fine: object = None  #: () -> (G, REST_AP_BINS-ish, 2) counts by fine score bin (ascending) and label

    def confusion(self) -> np.ndarray:
        """``(G, 4)`` tp, fp, fn, tn."""
        cells = self.counts.reshape(len(self.counts), self.nb, self.S)
        if self.S == 4:
            return cells.sum(axis=1)
        pos_b, neg_b = cells[..., 1], cells[..., 0]
        pm = self.pred_bins.astype(float)
        tp, fp = pos_b @ pm, neg_b @ pm
        return np.column_stack([tp, fp, pos_b.sum(axis=1) - tp, neg_b.sum(axis=1) - fp])


def _count_cells(y, score, pred, codes, G, *, threshold, opts, sorted_, bins, losses, squares) -> _Cells:
    """One ``bincount`` of each group's rows into cells, and the cell sums of the per-row losses.

    ``sorted_``: work in score order (rank statistics and losses need it); ``bins``: score-bin cells
    (the bootstrap and the average precision test need them), else the four confusion cells.
    """
    one = np.ones(1, dtype=bool)
    if not sorted_:  # no sort needed: the four confusion cells
        decided = pred if pred is not None else decide(score, threshold)
        counts = binary_counts(np.asarray(y).astype(bool), np.asarray(decided).astype(bool), codes, G)
        return _Cells(counts.astype(float), 1, 4, one, sums={})
    so = opts["order"]
    if not isinstance(so, ScoreOrder):
        so = opts["order"] = score_order(y, score, order=so)
    cs = codes[so.order]
    csi = cs.astype(np.intp)
    if bins:
        grid = _grid(so, threshold)
        nb, pred_bins = grid.n_coarse, grid.pred_coarse
        if pred is not None:  # score bin x (tp, fp, fn, tn) from the given predictions
            ps = np.asarray(pred)[so.order].astype(bool)
            S, local = 4, (grid.coarse_y >> 1) * 4 + (2 * ~ps + ~so.y)
        else:  # score bin x label: the bin decides the prediction (the threshold is a bin edge)
            S, local = 2, grid.coarse_y
    else:  # tp, fp, fn, tn; the rows below the threshold are a prefix of the score order
        nb, pred_bins, S = 1, one, 4
        local = (~so.y).astype(np.intp)
        if pred is not None:
            local += 2 * ~np.asarray(pred)[so.order].astype(bool)
        else:
            local[:np.searchsorted(so.score, threshold, side="left")] += 2
    C = nb * S
    flat = csi * C
    flat += local
    counts = np.bincount(flat, minlength=G * C).reshape(G, C).astype(float)
    sums = {}
    for name in losses:
        x, x2 = _row_loss(so, name)
        index, size = (flat, G * C) if bins else (csi, G)
        s2 = np.bincount(index, weights=x2, minlength=size).reshape(G, -1) if squares else None
        sums[name] = (np.bincount(index, weights=x, minlength=size).reshape(G, -1), s2)
    return _Cells(counts, nb, S, pred_bins, so, cs, csi, sums,
                  rank=lambda rest: rank_statistics_from_order(so, cs, G, rest=rest, csi=csi),
                  fine=lambda: _fine_counts(so, csi, G))


def _fine_counts(so: ScoreOrder, csi, G):
    """Each group's rows by fine score bin (REST_AP_BINS quantiles, ascending) and label: ``(G, nf, 2)``."""
    fine_y, nf = _fine_bins(so)
    flat = csi * (2 * nf)
    flat += fine_y
    return np.bincount(flat, minlength=G * 2 * nf).reshape(G, nf, 2)


def rest_ap_from_fine(c):
    """Average precision of each group's complement from its fine score-bin counts ``(G, nf, 2)``.

    Running sums from the highest bin down are linear, so the rest's are the whole data's minus the
    group's; tied scores share a bin, as scikit-learn groups tied scores.
    """
    c = c[:, ::-1]  # bins from the top
    pos = np.ascontiguousarray(c[..., 1])
    tot = c[..., 0] + pos
    rest_pos = pos.sum(axis=0) - pos
    pg = np.cumsum(pos.sum(axis=0)) - np.cumsum(pos, axis=1)
    tg = (np.cumsum(tot.sum(axis=0)) - np.cumsum(tot, axis=1)).astype(float)
    tg += 1e-300  # no rows at or above a bin: no positives either, 0 / tiny = 0
    ratio = np.divide(pg, tg, out=tg)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("gb,gb->g", rest_pos.astype(float), ratio) / pg[:, -1]
