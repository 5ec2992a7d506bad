"""Multiclass metrics of every group: confusion matrices, per-row log loss, top-2 hits; bootstrap on
the confusion matrix (exact for balanced accuracy, macro and weighted F1) and on loss-quantile cells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlimpact.metrics.base import (
    BOOT_LOSS_BINS,
    NO_ROWS,
    NORMAL_ABOVE,
    _apply_bootstrap,
    _chunk,
    _moments_of_sums,
    _Out,
    _proportion,
    _quantile_bin_ids,
    _ratio,
    _resampled_sum,
)
from mlimpact.metrics.uncertainty import multinomial_resample, run_bootstrap

__all__ = ["DENSE_CELLS_MAX", "class_score_matrix", "class_scores_from_counts", "ClassCounts", "class_counts",
           "multiclass_from_counts", "row_log_loss"]


#: above this many confusion cells (groups x classes x classes) the bootstrap resamples only the
#: (truth, prediction) pairs that occur: a 3,000-class file has 9M cells per group, of which a few thousand occur
DENSE_CELLS_MAX = 1_000_000


def class_score_matrix(cm):
    """balanced accuracy, macro F1, weighted F1 from confusion matrices ``(..., K, K)`` (sklearn's)."""
    return class_scores_from_counts(np.diagonal(cm, axis1=-2, axis2=-1), cm.sum(axis=-1), cm.sum(axis=-2))


def class_scores_from_counts(tp, support, predicted):
    """balanced accuracy, macro F1, weighted F1 from per-class hits, true and predicted counts ``(..., K)``.

    >>> [round(float(v), 3) for v in class_scores_from_counts(np.array([2., 1.]), np.array([2., 2.]), np.array([3., 1.]))]
    [0.75, 0.733, 0.733]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        present = support > 0
        rec = np.where(present, tp / np.where(present, support, 1), 0.0)
        bal = rec.sum(axis=-1) / present.sum(axis=-1)
        den = support + predicted
        seen = den > 0
        f1 = np.where(seen, 2 * tp / np.where(seen, den, 1), 0.0)
        macro = f1.sum(axis=-1) / seen.sum(axis=-1)
        weighted = (f1 * support).sum(axis=-1) / support.sum(axis=-1)
    return bal, macro, weighted


@dataclass
class ClassCounts:
    """What every multiclass metric of ``G`` groups needs: per class hits, true and predicted counts ``(G, K)``;
    the confusion cells (the (truth, prediction) pairs that occur: ``pairs`` as ``truth * K + prediction``,
    their counts ``(G, P)``); with probabilities, top-2 hits and the log loss's sum ``(G,)`` and its bootstrap cells (per
    group and global loss quantile: rows, sum and sum of squares of the loss minus the bin's shift ``(G, nb)``,
    and the shifts ``(nb,)``)."""

    K: int
    tp: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    pairs: np.ndarray
    pair_counts: np.ndarray
    probabilities: bool = False
    top2: np.ndarray | None = None
    loss_sum: np.ndarray | None = None
    loss_cells: tuple | None = None

    def confusion(self) -> np.ndarray:
        """Dense confusion counts ``(G, K * K)`` (truth-major)."""
        cm = np.zeros((self.pair_counts.shape[0], self.K * self.K))
        cm[:, self.pairs] = self.pair_counts
        return cm


def class_counts(y, proba, pred, K: int, codes, G: int, wanted=("top_2_accuracy", "log_loss")) -> ClassCounts:
    """The :class:`ClassCounts` of rows: class codes ``y`` and ``pred`` (or the argmax of ``proba``); top-2 hits
    and loss cells only when ``wanted``."""
    y = np.asarray(y, dtype=np.int64)
    if pred is None:
        pred = np.argmax(proba, axis=1)
    pred = np.asarray(pred, dtype=np.int64)
    codes = np.zeros(len(y), dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    tp, support, predicted = _class_counts(y, pred, codes, G, K)
    pairs, cell = _pairs(y * K + pred, K)
    pair_counts = np.bincount(codes * len(pairs) + cell, minlength=G * len(pairs)).reshape(G, len(pairs))
    if proba is None:
        return ClassCounts(K, tp, support, predicted, pairs, pair_counts)
    p_true = proba[np.arange(len(y)), y]
    top2 = loss_sum = cells = None
    if "top_2_accuracy" in wanted:
        top2 = _top2_hits(proba, p_true, y, codes, G)
    if "log_loss" in wanted:
        loss = row_log_loss(p_true)
        loss_sum = np.bincount(codes, weights=loss, minlength=G)
        cells = _loss_cells(loss, codes, G)
    return ClassCounts(K, tp, support, predicted, pairs, pair_counts, True, top2, loss_sum, cells)


def _pairs(flat, K):
    """The distinct (truth, prediction) pairs (ascending) and each row's index among them (``np.unique``'s)."""
    if K * K > DENSE_CELLS_MAX:
        return np.unique(flat, return_inverse=True)
    occurs = np.bincount(flat, minlength=K * K)
    pairs = np.flatnonzero(occurs)
    index = np.zeros(K * K, dtype=np.int64)
    index[pairs] = np.arange(len(pairs))
    return pairs, index[flat]


def _top2_hits(proba, p_true, y, codes, G):
    """Rows per group whose true class is among the two most probable."""
    K = proba.shape[1]
    # sklearn's tie order: stable ascending argsort reversed, so among ties the later class wins
    above = (proba > p_true[:, None]).sum(axis=1)
    tied_later = ((proba == p_true[:, None]) & (np.arange(K) > y[:, None])).sum(axis=1)
    return np.bincount(codes, weights=(above + tied_later) < 2, minlength=G)


def _loss_cells(loss, codes, G):
    """Per (group, global loss quantile): rows, and the sum and sum of squares of each row's loss minus its
    bin's *shift*, the bin's smallest loss (the smallest of all, then each edge), so a bin of equal losses has
    no spread in any order of summation; and the shifts."""
    order = np.argsort(loss)
    ranked = loss[order]
    bins_sorted, nb = _quantile_bin_ids(ranked, BOOT_LOSS_BINS)
    bins = np.empty_like(bins_sorted)
    bins[order] = bins_sorted
    first = np.searchsorted(bins_sorted, np.arange(nb), side="left")
    shifts = np.where(first < len(ranked), ranked[np.minimum(first, len(ranked) - 1)], 0.0) if len(ranked) \
        else np.zeros(nb)
    d = loss - shifts[bins]
    flat = codes * nb + bins
    counts, s, ss = (np.bincount(flat, weights=w, minlength=G * nb).reshape(G, nb) for w in (None, d, d * d))
    return counts, s, ss, shifts


def row_log_loss(p_true: np.ndarray) -> np.ndarray:
    """Per-row log loss from the probability of the true class (scikit-learn's clipping)."""
    eps = np.finfo(float).eps
    return -np.log(np.clip(p_true, eps, 1 - eps))


def _multiclass(y, proba, pred, classes, codes, G, *, want, opts, attrs):
    return multiclass_from_counts(class_counts(y, proba, pred, len(classes), codes, G, want), G, want=want,
                                  opts=opts, attrs=attrs)


def multiclass_from_counts(c: ClassCounts, G: int, *, want, opts, attrs):
    """Every multiclass metric of ``G`` groups, with intervals and tests, from their :class:`ClassCounts`."""
    intervals, compare = opts["intervals"], opts["compare"]
    tp, support, predicted = c.tp, c.support, c.predicted
    n = support.sum(axis=1)
    outs = {name: _Out(G) for name in want}
    for o in outs.values():
        o.explain(n == 0, NO_ROWS)
    if "accuracy" in outs:
        _proportion(outs["accuracy"], tp.sum(axis=1), n, intervals=intervals, compare=compare)
    bal, macro, weighted = class_scores_from_counts(tp, support, predicted)
    rest = class_scores_from_counts(*(a.sum(axis=0, keepdims=True) - a for a in (tp, support, predicted))) if compare \
        else (None, None, None)
    for name, v, r in zip(("balanced_accuracy", "macro_f1", "weighted_f1"), (bal, macro, weighted), rest,
                          strict=True):
        if name in outs:
            outs[name].value = v
            if compare:
                outs[name].rest = r
    for name in ("log_loss", "top_2_accuracy"):
        if name in outs and not c.probabilities:
            outs[name].explain(np.ones(G, bool), f"{name} needs per-class probabilities; none were given")
    if c.probabilities:
        if "log_loss" in outs:
            s = c.loss_sum
            outs["log_loss"].value = _ratio(s, n)
            if compare:
                outs["log_loss"].rest = _ratio(s.sum() - s, n.sum() - n)
        if "top_2_accuracy" in outs:
            _proportion(outs["top_2_accuracy"], c.top2, n, intervals=intervals, compare=compare)
    boot = [m for m in ("balanced_accuracy", "macro_f1", "weighted_f1") if m in outs]
    if boot and (intervals or compare):
        _confusion_bootstrap(outs, boot, c, G, opts, attrs)
    if c.loss_cells is not None and "log_loss" in outs and (intervals or compare):
        _mean_bootstrap(outs, "log_loss", c.loss_cells, G, n, opts, attrs, seed_offset=1)
    return outs, n, n.copy()


def _class_counts(y, pred, codes, G, K):
    """Per group and class: hits, true count (support) and predicted count, each ``(G, K)``."""
    codes = np.zeros(len(y), dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    base = codes * K
    support = np.bincount(base + y, minlength=G * K).reshape(G, K).astype(float)
    predicted = np.bincount(base + pred, minlength=G * K).reshape(G, K).astype(float)
    tp = np.bincount(base + y, weights=(y == pred), minlength=G * K).reshape(G, K)
    return tp, support, predicted


def _per_class(m, cls, K, keep=None):
    """Sum resampled cell counts ``m (b, G, U)`` into classes ``(b, G, K)`` by each cell's class ``cls``."""
    b, G, U = m.shape
    w = m if keep is None else m * keep
    idx = (np.arange(b * G)[:, None] * K + cls[None, :]).ravel()
    return np.bincount(idx, weights=w.reshape(-1), minlength=b * G * K).reshape(b, G, K)


def _confusion_bootstrap(outs, boot, c: ClassCounts, G: int, opts, attrs) -> None:
    """Percentile intervals of balanced accuracy and macro/weighted F1 from resampled confusion cells: every
    (truth, prediction) cell while they are few (:data:`DENSE_CELLS_MAX`), else the pairs that occur."""
    K, compare, names = c.K, opts["compare"], ("balanced_accuracy", "macro_f1", "weighted_f1")
    if G * K * K <= DENSE_CELLS_MAX:
        counts = c.confusion()

        def scores(m):
            return class_score_matrix(m.reshape(m.shape[0], G, K, K))
    else:
        counts = c.pair_counts
        truth, guess = c.pairs // K, c.pairs % K
        hit = (truth == guess).astype(float)

        def scores(m):
            return class_scores_from_counts(_per_class(m, truth, K, hit), _per_class(m, truth, K), _per_class(m, guess, K))

    def replicate(rng, b):
        m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE)
        res = dict(zip(names, scores(m), strict=True))
        if compare:
            rr = scores(m.sum(axis=1, keepdims=True) - m)
            res.update({k + "_rest": v for k, v in zip(names, rr, strict=True)})
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"],
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, counts.shape[1]))
    attrs["n_boot"] = min(attrs.get("n_boot", used), used)
    _apply_bootstrap(outs, boot, reps, {}, opts)


def _mean_bootstrap(outs, name, cells, G, n, opts, attrs, *, seed_offset):
    """Bootstrap of a per-row mean on (group x quantile bin) cells: rows, sums and sums of squares ``(G, nb)``
    of the values minus their bin's shift ``(nb,)``, the within-cell spread drawn as a normal term."""
    counts, s, ss, shifts = cells
    mu, var = _moments_of_sums(counts, s, ss)
    mu = mu + shifts
    compare = opts["compare"]
    n_all = n.sum()

    def replicate(rng, b):
        m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE)
        total = _resampled_sum(m, mu, var, rng)
        res = {name: total / n}
        if compare:
            res[name + "_rest"] = (total.sum(axis=1, keepdims=True) - total) / (n_all - n)
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"] + seed_offset,
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, counts.shape[1]))
    attrs["n_boot"] = min(attrs.get("n_boot", used), used)
    _apply_bootstrap(outs, [name], reps, {}, opts)
