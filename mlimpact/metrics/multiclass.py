"""Multiclass metrics of every group: confusion matrices, per-row log loss, top-2 hits; bootstrap on
the confusion matrix (exact for balanced accuracy, macro and weighted F1) and on loss-quantile cells."""

from __future__ import annotations

import numpy as np

from mlimpact.engine import multiclass_confusion
from mlimpact.metrics.base import (
    BOOT_LOSS_BINS,
    NO_ROWS,
    NORMAL_ABOVE,
    _apply_bootstrap,
    _cell_moments,
    _chunk,
    _Out,
    _proportion,
    _quantile_bin_ids,
    _ratio,
    _resampled_sum,
)
from mlimpact.metrics.uncertainty import multinomial_resample, run_bootstrap

__all__ = ["DENSE_CELLS_MAX", "class_score_matrix", "class_scores_from_counts"]


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


def _multiclass(y, proba, pred, classes, codes, G, *, want, opts, attrs):
    y = np.asarray(y, dtype=np.int64)
    K = len(classes)
    if pred is None:
        pred = np.argmax(proba, axis=1)
    pred = np.asarray(pred, dtype=np.int64)
    intervals, compare = opts["intervals"], opts["compare"]
    dense = G * K * K <= DENSE_CELLS_MAX
    cm = multiclass_confusion(y, pred, codes, G, K).astype(float) if dense else None
    tp, support, predicted = _class_counts(y, pred, codes, G, K)
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
    loss = None
    for name in ("log_loss", "top_2_accuracy"):
        if name in outs and proba is None:
            outs[name].explain(np.ones(G, bool), f"{name} needs per-class probabilities; none were given")
    if proba is not None:
        p_true = proba[np.arange(len(y)), y]
        if "log_loss" in outs:
            eps = np.finfo(float).eps
            loss = -np.log(np.clip(p_true, eps, 1 - eps))
            s = np.bincount(codes, weights=loss, minlength=G)
            outs["log_loss"].value = _ratio(s, n)
            if compare:
                outs["log_loss"].rest = _ratio(s.sum() - s, n.sum() - n)
        if "top_2_accuracy" in outs:
            # sklearn's tie order: stable ascending argsort reversed, so among ties the later class wins
            above = (proba > p_true[:, None]).sum(axis=1)
            tied_later = ((proba == p_true[:, None]) & (np.arange(K) > y[:, None])).sum(axis=1)
            hit = (above + tied_later) < 2
            _proportion(outs["top_2_accuracy"], np.bincount(codes, weights=hit, minlength=G), n,
                        intervals=intervals, compare=compare)

    boot = [m for m in ("balanced_accuracy", "macro_f1", "weighted_f1") if m in outs]
    if boot and (intervals or compare):
        _confusion_bootstrap(outs, boot, cm if dense else None, (y, pred, codes, G, K), opts, attrs)
    if loss is not None and (intervals or compare):
        _mean_bootstrap(outs, {"log_loss": loss}, loss, codes, G, n, opts, attrs, seed_offset=1)
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


def _confusion_bootstrap(outs, boot, cm, rows, opts, attrs) -> None:
    """Percentile intervals of balanced accuracy and macro/weighted F1 from resampled confusion cells.

    ``cm`` dense ``(G, K, K)``, or ``None``: then the cells are the (truth, prediction) pairs that occur.
    """
    y, pred, codes, G, K = rows
    compare, names = opts["compare"], ("balanced_accuracy", "macro_f1", "weighted_f1")
    if cm is not None:
        counts = cm.reshape(G, K * K)

        def scores(m):
            return class_score_matrix(m.reshape(m.shape[0], G, K, K))
    else:
        codes = np.zeros(len(y), dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
        pairs, cell = np.unique(y * K + pred, return_inverse=True)
        counts = np.bincount(codes * len(pairs) + cell, minlength=G * len(pairs)).reshape(G, len(pairs))
        truth, guess = pairs // K, pairs % K
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


def _mean_bootstrap(outs, stats, bin_by, codes, G, n, opts, attrs, *, seed_offset):
    """Bootstrap of per-row means on (group x quantile bin of ``bin_by``) cells with within-cell terms."""
    order = np.argsort(bin_by)
    bins_sorted, nb = _quantile_bin_ids(bin_by[order], BOOT_LOSS_BINS)
    bins = np.empty_like(bins_sorted)
    bins[order] = bins_sorted
    flat = codes.astype(np.int64) * nb + bins
    counts = np.bincount(flat, minlength=G * nb).reshape(G, nb)
    mom = {k: tuple(a.reshape(G, nb) for a in _cell_moments(flat, G * nb, x)) for k, x in stats.items()}
    compare = opts["compare"]
    n_all = n.sum()

    def replicate(rng, b):
        m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE)
        res = {}
        for k, (mu, var) in mom.items():
            s = _resampled_sum(m, mu, var, rng)
            res[k] = s / n
            if compare:
                res[k + "_rest"] = (s.sum(axis=1, keepdims=True) - s) / (n_all - n)
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"] + seed_offset,
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, nb))
    attrs["n_boot"] = min(attrs.get("n_boot", used), used)
    _apply_bootstrap(outs, list(stats), reps, {}, opts)
