"""The paired bootstrap of two models on the same rows, for every metric but ROC AUC.

Rows fall into cells of (segment, label, score bin of model A, score bin of model B) (the threshold is
a bin edge, so confusion counts are exact); the cell counts are resampled once per replicate for both
models, and per-row losses (Brier, log loss, errors) enter with the cell's exact within-cell covariance
(:mod:`mlimpact.impact.bootstrap`). Average precision is recomputed on the score bins and shifted to its
exact value, as in :mod:`mlimpact.metrics`. Multiclass cells are (segment, label, class of A, class of B);
regression cells are (segment, quantile bins of the truth and of both models' absolute errors).
Used by :mod:`mlimpact.compare.differences`; the constants are re-exported by :mod:`mlimpact.compare.paired`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlimpact.compare.candidates import _Model
from mlimpact.impact.bootstrap import cell_bootstrap, make_cells
from mlimpact.metrics.multiclass import DENSE_CELLS_MAX, class_score_matrix, class_scores_from_counts

__all__ = ["SCORE_BINS", "REG_BINS", "_paired_bootstrap", "_Layout", "_binary_replicates", "score_edges",
           "multiclass_replicates", "regression_replicates"]

#: score bins per model in the paired bootstrap (plus the threshold as an edge)
SCORE_BINS = 20
REG_BINS = 4


def _score_bins(score: np.ndarray, threshold: float) -> tuple[np.ndarray, int, int]:
    """Quantile bins with the threshold as an edge: (bin per row, number of bins, first flagged bin)."""
    qs = np.quantile(score, np.linspace(0, 1, SCORE_BINS + 1)[1:-1]) if len(score) else np.zeros(0)
    edges, nb, first = score_edges(qs, threshold)
    return np.searchsorted(edges, score, side="right"), nb, first


def score_edges(quantiles, threshold: float) -> tuple[np.ndarray, int, int]:
    """The bins' edges from the score's quantiles and the threshold: (edges, number of bins, first flagged bin)."""
    edges = np.unique(np.append(quantiles, threshold))
    return edges, len(edges) + 1, int(np.searchsorted(edges, threshold, side="left")) + 1


def _binned_ap(pos, tot):
    """Average precision from per-bin positives and totals (bins ascending in score; ties in a bin grouped)."""
    pos_ge = np.cumsum(pos[..., ::-1], axis=-1)[..., ::-1]
    tot_ge = np.cumsum(tot[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(tot_ge > 0, pos_ge / tot_ge, 0.0)
        return (pos * prec).sum(axis=-1) / pos.sum(axis=-1)


def _binary_counts_metrics(tp, fp, fn, tn) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        n = tp + fp + fn + tn
        return {"accuracy": (tp + tn) / n, "precision": tp / (tp + fp), "recall": tp / (tp + fn),
                "f1": 2 * tp / (2 * tp + fp + fn), "false_positive_rate": fp / (fp + tn),
                "false_negative_rate": fn / (tp + fn), "true_negative_rate": tn / (fp + tn),
                "positive_rate": (tp + fp) / n}


def _multi_metrics(cm) -> dict:
    bal, macro, weighted = class_score_matrix(cm)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.trace(cm, axis1=-2, axis2=-1) / cm.sum(axis=(-2, -1))
    return {"accuracy": acc, "balanced_accuracy": bal, "macro_f1": macro, "weighted_f1": weighted}


def _multi_sparse(cells, counts: np.ndarray, K: int) -> tuple[dict, dict]:
    """Both models' multiclass metrics per replicate from the occurring (label, class of A, class of B) cells."""
    y, pa, pb = cells.pattern // (K * K), (cells.pattern // K) % K, cells.pattern % K
    r, G = len(counts), cells.n_groups
    rows = (np.arange(r)[:, None] * G + cells.group[None, :]) * K

    def per_class(cls, weights):  # (r, G + 1, K): every group, then all rows
        out = np.bincount((rows + cls[None, :]).ravel(), weights=weights.ravel(), minlength=r * G * K)
        return _with_overall(out.reshape(r, G, K))

    support = per_class(y, counts)
    metrics = []
    for p in (pa, pb):
        tp, predicted = per_class(y, counts * (y == p)[None, :]), per_class(p, counts)
        bal, macro, weighted = class_scores_from_counts(tp, support, predicted)
        with np.errstate(divide="ignore", invalid="ignore"):
            acc = tp.sum(-1) / support.sum(-1)
        metrics.append({"accuracy": acc, "balanced_accuracy": bal, "macro_f1": macro, "weighted_f1": weighted})
    return metrics[0], metrics[1]


def _binary_losses(y, score, probabilities: bool) -> dict:
    if not probabilities:
        return {}
    eps = np.finfo(float).eps
    p = np.clip(score, eps, 1 - eps)
    return {"brier_score": (score - y) ** 2, "log_loss": -(y * np.log(p) + (1 - y) * np.log(1 - p))}


def _reg_sums(y, pred) -> np.ndarray:
    e = pred - y
    return np.column_stack([e, np.abs(e), e * e])


def _reg_metrics(s, ysum, y2sum, n) -> dict:
    """mae, rmse, mean_error, r2 from sums of (e, |e|, e²) and of y, y² over n rows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sst = y2sum - ysum * ysum / n
        return {"mean_error": s[..., 0] / n, "mae": s[..., 1] / n, "rmse": np.sqrt(s[..., 2] / n),
                "r2": np.where(sst > 0, 1 - s[..., 2] / sst, np.nan)}


def _group_totals(cells, counts: np.ndarray) -> np.ndarray:
    """Per-group totals (r, G) of per-cell replicate counts (r, C)."""
    out = np.zeros((len(counts), cells.n_groups))
    if len(cells.count):
        out[:, cells.present] = np.add.reduceat(counts, cells.starts, axis=1)
    return out


def _dense(cells, counts: np.ndarray, shape: tuple) -> np.ndarray:
    """Cell counts (r, C) laid out as (r, G + 1, *shape): every group, then all rows."""
    size = int(np.prod(shape))
    dense = np.zeros((len(counts), cells.n_groups * size))
    dense[:, cells.group * size + cells.pattern] = counts
    dense = dense.reshape((len(counts), cells.n_groups) + shape)
    return _with_overall(dense)


def _with_overall(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, x.sum(axis=1, keepdims=True)], axis=1)


@dataclass(frozen=True, eq=False)
class _Layout:
    """How the rows of two models fall into the cells of the paired bootstrap.

    ``pattern``: each row's cell within its segment; ``shape``: one segment's patterns as an array (None for
    regression); ``values``: per-row values summed per cell; binary only: ``loss_names`` (the losses among
    ``values``, A's then B's) and ``ja`` / ``jb``, each model's first flagged score bin.
    """

    pattern: np.ndarray
    shape: tuple | None
    values: np.ndarray
    loss_names: tuple[str, ...] = ()
    ja: int = 1
    jb: int = 1


def _paired_bootstrap(task, y, a: _Model, b: _Model, codes, G, *, threshold, metrics, probabilities, n_classes,
                      exact_a, exact_b, n_boot, seed, time_budget_s):
    """Paired replicates per metric: ``{metric: (reps_a, reps_b)}``, each (r, G + 1) (groups, then all rows).

    Both models' metrics in a replicate come from the same resampled cells, i.e. the same rows.
    """
    want = [m for m in metrics if m != "roc_auc"]
    if not want:
        return {}, 0
    if task == "binary":
        layout = _binary_layout(y, a, b, threshold, want, probabilities)
    elif task == "multiclass":
        layout = _multiclass_layout(y, a, b, n_classes)
    else:
        layout = _regression_layout(y, a, b)
    cells = make_cells(codes, layout.pattern, layout.values, G)
    reps, used = cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    if task == "binary":
        ma, mb = _binary_replicates(cells, reps, layout, want, exact_a, exact_b,
                                    scored=a.score is not None and b.score is not None)
    elif task == "multiclass":
        ma, mb = multiclass_replicates(cells, reps, n_classes)
    else:
        ma, mb = regression_replicates(cells, reps)
    return {m: (np.asarray(ma[m], float), np.asarray(mb[m], float)) for m in want if m in ma and m in mb}, used


def multiclass_replicates(cells, reps, K: int) -> tuple[dict, dict]:
    """Both models' multiclass metrics per replicate and group (then all rows) from the resampled cells of
    (label, class of A, class of B): dense while G·K³ is small, else per-class sums of the cells that occur."""
    if cells.n_groups * K ** 3 <= DENSE_CELLS_MAX:
        dense = _dense(cells, reps["counts"], (K, K, K))  # (r, G+1, K(y), K(a), K(b))
        return _multi_metrics(dense.sum(axis=-1)), _multi_metrics(dense.sum(axis=-2))
    return _multi_sparse(cells, reps["counts"], K)


def regression_replicates(cells, reps) -> tuple[dict, dict]:
    """Both models' regression metrics per replicate and group (then all rows) from the resampled sums of
    (e, |e|, e²) of A, of B, then y and y² (:func:`_regression_layout`'s values)."""
    sums = _with_overall(reps["sums"])
    n_g = _with_overall(_group_totals(cells, reps["counts"]))
    return (_reg_metrics(sums[..., 0:3], sums[..., 6], sums[..., 7], n_g),
            _reg_metrics(sums[..., 3:6], sums[..., 6], sums[..., 7], n_g))


def _binary_layout(y, a: _Model, b: _Model, threshold, want, probabilities) -> _Layout:
    """Cells of (label, score bin of A, score bin of B) (0/1 decisions without scores); the losses as values."""
    if a.score is not None and b.score is not None:
        ba, qa, ja = _score_bins(a.score, threshold)
        bb, qb, jb = _score_bins(b.score, threshold)
    else:
        ba, qa, ja = a.pred.astype(np.int64), 2, 1
        bb, qb, jb = b.pred.astype(np.int64), 2, 1
    pattern = (y.astype(np.int64) * qa + ba) * qb + bb
    la = _binary_losses(y, a.score, probabilities) if a.score is not None else {}
    lb = _binary_losses(y, b.score, probabilities) if b.score is not None else {}
    loss_names = [m for m in ("brier_score", "log_loss") if m in want and m in la and m in lb]
    values = np.zeros((len(y), 0))
    if loss_names:
        values = np.column_stack([la[m] for m in loss_names] + [lb[m] for m in loss_names])
    return _Layout(pattern, (2, qa, qb), values, tuple(loss_names), ja, jb)


def _multiclass_layout(y, a: _Model, b: _Model, n_classes: int) -> _Layout:
    """Cells of (label, class predicted by A, class predicted by B)."""
    K = n_classes
    pattern = (y.astype(np.int64) * K + a.pred) * K + b.pred
    return _Layout(pattern, (K, K, K), np.zeros((len(y), 0)))


def _regression_layout(y, a: _Model, b: _Model) -> _Layout:
    """Cells of quantile bins of the truth and of both absolute errors; sums of errors and of y, y² as values."""
    def qbins(v):
        return np.searchsorted(np.unique(np.quantile(v, np.linspace(0, 1, REG_BINS + 1)[1:-1])), v,
                               side="right")

    width = REG_BINS + 1
    pattern = (qbins(y) * width + qbins(np.abs(a.pred - y))) * width + qbins(np.abs(b.pred - y))
    values = np.column_stack([_reg_sums(y, a.pred), _reg_sums(y, b.pred), y, y * y])
    return _Layout(pattern, None, values)


def _confusion(pos, tot, j):
    """(tp, fp, fn, tn) from per-bin positives and totals, flagging bins ``j`` and above."""
    tp, flagged = pos[..., j:].sum(-1), tot[..., j:].sum(-1)
    npos, nn = pos.sum(-1), tot.sum(-1)
    return tp, flagged - tp, npos - tp, nn - npos - flagged + tp


def _binary_replicates(cells, reps, layout: _Layout, want, exact_a, exact_b, *, scored: bool):
    """Each model's binary metrics per replicate and group (then all rows): ``(metrics of A, metrics of B)``;
    ``scored``: both models have scores (average precision)."""
    dense = _dense(cells, reps["counts"], layout.shape)  # (r, G+1, 2, qa, qb)
    pos_a, tot_a = dense[:, :, 1].sum(axis=-1), dense.sum(axis=(2, 4))
    pos_b, tot_b = dense[:, :, 1].sum(axis=-2), dense.sum(axis=(2, 3))
    ma = _binary_counts_metrics(*_confusion(pos_a, tot_a, layout.ja))
    mb = _binary_counts_metrics(*_confusion(pos_b, tot_b, layout.jb))
    if "average_precision" in want and scored:
        base = _dense(cells, cells.count[None, :], layout.shape)[0]  # the data itself, binned
        oa = _binned_ap(base[:, 1].sum(axis=-1), base.sum(axis=(1, 3)))
        ob = _binned_ap(base[:, 1].sum(axis=-2), base.sum(axis=(1, 2)))
        with np.errstate(invalid="ignore"):
            ma["average_precision"] = _binned_ap(pos_a, tot_a) + (exact_a["average_precision"] - oa)
            mb["average_precision"] = _binned_ap(pos_b, tot_b) + (exact_b["average_precision"] - ob)
    if layout.loss_names:
        n_g = dense.sum(axis=(2, 3, 4))
        sums = _with_overall(reps["sums"])
        k = len(layout.loss_names)
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, name in enumerate(layout.loss_names):
                ma[name] = sums[..., i] / n_g
                mb[name] = sums[..., k + i] / n_g
    return ma, mb
