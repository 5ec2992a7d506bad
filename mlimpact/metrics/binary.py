"""Binary metrics of every group from one score order: counts, rank statistics, losses, tests, intervals.

Per grouping, the rows are counted once into *cells*: score bin x label (score bin x confusion cell when
the predicted class is given), the bins being global score quantiles with the threshold as an edge, so
the confusion counts, the cell sums of the per-row losses and the bootstrap's cells all come from one
``bincount`` (without intervals or an average precision test, the four confusion cells do; without any
score metric, not even the sort is needed). ROC AUC and average precision are exact
(:func:`mlimpact.engine.memory.rank_statistics`). The bins, the per-row losses and the global placements are
per-score work: they are cached on the :class:`mlimpact.engine.memory.ScoreOrder`, so a second grouping of the
same rows does not redo them.

Tests against the rest are closed forms (the bootstrap is for intervals only, and runs only when they
are asked for): two-proportion z for proportions, DeLong + Hanley–McNeil for ROC AUC, and for f1,
average precision, log loss and Brier score the delta-method variance of the group and of the rest
under the same stratified resampling the bootstrap does (what the bootstrap's standard deviation
estimates, without its Monte Carlo noise).
"""

from __future__ import annotations

import numpy as np

from mlimpact.metrics.base import (
    NO_ROWS,
    _f1,
    _Out,
    _proportion,
    _ratio,
)
from mlimpact.metrics.binary_bootstrap import _binary_bootstrap
from mlimpact.metrics.binary_cells import _LOSSES, _count_cells, rest_ap_from_fine
from mlimpact.metrics.binary_tests import (
    _ap_gradient,
    _delta_variances,
    _f1_gradient,
    _mean_variances,
    _p_value,
)
from mlimpact.metrics.uncertainty import (
    hanley_mcneil_variance,
    normal_interval,
)

_ONLY_NEG = "this group has only negatives"
_ONLY_POS = "this group has only positives"
_BOOTSTRAPPED = ("f1", "average_precision", "log_loss", "brier_score")


def binary_plan(want, score_range, G: int, *, has_score: bool, intervals: bool, compare: bool):
    """The metric outputs, the losses that can be computed, the bootstrapped metrics, and whether the
    score-bin cells (``bins``) and the score order (``ranked``) are needed."""
    outs = {name: _Out(G) for name in want}
    score_names = [m for m in ("roc_auc", "average_precision", "log_loss", "brier_score") if m in outs]
    losses = _usable_losses(outs, score_range if has_score else None, G)
    boot = [m for m in _BOOTSTRAPPED if m in outs and (m == "f1" or has_score)]
    boot = [m for m in boot if m not in _LOSSES or m in losses]
    # the bootstrap's cells (score bins) serve its intervals and the average precision test
    bins = has_score and ((intervals and bool(boot)) or (compare and "average_precision" in outs))
    return outs, losses, boot, bins, has_score and bool(score_names or bins)


def _binary(y, score, pred, codes, G, *, threshold, want, opts, attrs):
    """Binary metrics of every group: counts from one pass of cells, ranks from one score order."""
    intervals, compare = opts["intervals"], opts["compare"]
    score_range = (float(np.min(score)), float(np.max(score))) if score is not None and len(score) else (0.0, 1.0)
    outs, losses, boot, bins, ranked = binary_plan(want, score_range, G, has_score=score is not None,
                                                   intervals=intervals, compare=compare)
    cells = _count_cells(y, score, pred, codes, G, threshold=threshold, opts=opts, sorted_=ranked, bins=bins,
                         losses=losses, squares=intervals or compare)
    return binary_from_cells(outs, cells, boot, opts, attrs)


def binary_from_cells(outs, cells, boot, opts, attrs):
    """Every binary metric from the cells (counted from rows or by an engine): ``(outs, n, positives)``."""
    intervals, compare = opts["intervals"], opts["compare"]
    G = len(cells.counts)
    confusion = cells.confusion()
    tp, fp, fn, tn = confusion.T
    n = confusion.sum(axis=1)
    pos, neg = tp + fn, fp + tn
    for o in outs.values():
        o.explain(n == 0, NO_ROWS)

    props = {
        "accuracy": (tp + tn, n, None),
        "precision": (tp, tp + fp, "precision needs predicted positives; the model flags no rows in this group"),
        "recall": (tp, pos, f"recall needs actual positives; {_ONLY_NEG}"),
        "false_positive_rate": (fp, neg, f"false_positive_rate needs actual negatives; {_ONLY_POS}"),
        "false_negative_rate": (fn, pos, f"false_negative_rate needs actual positives; {_ONLY_NEG}"),
        "true_negative_rate": (tn, neg, f"true_negative_rate needs actual negatives; {_ONLY_POS}"),
        "positive_rate": (tp + fp, n, None),
        "base_rate": (pos, n, None),
    }
    for name, (num, den, why) in props.items():
        if name in outs:
            if why:
                outs[name].explain(den == 0, why)
            _proportion(outs[name], num, den, intervals=intervals, compare=compare)

    _f1_metric(outs, confusion, compare)
    _score_metrics(outs, cells, pos, neg, n, G, intervals=intervals, compare=compare)
    if boot and intervals:
        _binary_bootstrap(outs, boot, cells, n, opts, attrs)
    return outs, n, pos


def _usable_losses(outs, score_range, G) -> list[str]:
    """The losses that can be computed (scores are probabilities); the others explain why not.

    ``score_range``: the lowest and highest score, or None without a score."""
    score_names = [m for m in ("roc_auc", "average_precision", "log_loss", "brier_score") if m in outs]
    if score_range is None:
        for name in score_names:
            outs[name].explain(np.ones(G, bool), f"{name} needs a score column; only predicted classes were given")
        return []
    if not any(m in outs for m in _LOSSES):
        return []
    lo_s, hi_s = score_range
    losses = [m for m in _LOSSES if m in outs] if lo_s >= 0.0 and hi_s <= 1.0 else []
    for name in [m for m in _LOSSES if m in outs and m not in losses]:
        outs[name].explain(np.ones(G, bool), f"{name} needs scores that are probabilities in [0, 1]; "
                           f"scores range from {lo_s:g} to {hi_s:g}")
    return losses


def _f1_metric(outs, confusion, compare) -> None:
    tp, fp, fn, _ = confusion.T
    if "f1" in outs:
        o = outs["f1"]
        o.explain(tp + fp + fn == 0, "f1 needs an actual or predicted positive; this group has neither")
        o.value = _f1(tp, fp, fn)
        if compare:
            t = confusion.sum(axis=0)
            o.rest = _f1(t[0] - tp, t[1] - fp, t[2] - fn)
            o.p = _p_value(o.value - o.rest, *_delta_variances(confusion, _f1_gradient))


def _score_metrics(outs, cells, pos, neg, n, G, *, intervals, compare) -> None:
    """ROC AUC and average precision from rank statistics; log loss and Brier score from cell sums."""
    if cells.rank is not None and ("roc_auc" in outs or "average_precision" in outs):
        rs = cells.rank(compare and "roc_auc" in outs)
        if "roc_auc" in outs:
            _roc_auc(outs["roc_auc"], rs, pos, neg, intervals=intervals, compare=compare)
        if "average_precision" in outs:
            o = outs["average_precision"]
            o.explain(pos == 0, f"average_precision needs actual positives; {_ONLY_NEG}")
            o.value = rs.average_precision
            if compare:
                o.rest = rest_ap_from_fine(cells.fine())
                o.p = _p_value(o.value - o.rest, *_delta_variances(cells.counts, _ap_gradient(cells.S)))
    for name, (s1, s2) in cells.sums.items():
        o = outs[name]
        total = s1.sum(axis=1)
        o.value = _ratio(total, n)
        if compare:
            o.rest = _ratio(total.sum() - total, n.sum() - n)
            o.p = _p_value(o.value - o.rest, *_mean_variances(total, s2.sum(axis=1), n))


def _roc_auc(o: _Out, rs, pos, neg, *, intervals: bool, compare: bool) -> None:
    o.explain(pos == 0, f"roc_auc needs both classes; {_ONLY_NEG}")
    o.explain(neg == 0, f"roc_auc needs both classes; {_ONLY_POS}")
    o.value = rs.auc
    var = np.where(np.isnan(rs.auc_var), hanley_mcneil_variance(rs.auc, rs.n_pos, rs.n_neg), rs.auc_var)
    if intervals:
        o.low, o.high = normal_interval(rs.auc, var)
    if compare:
        o.rest = rs.auc_rest
        o.p = _p_value(rs.auc - rs.auc_rest, var, hanley_mcneil_variance(rs.auc_rest, rs.n_pos_rest, rs.n_neg_rest))


# ---------------------------------------------------------------------------------------------
# closed-form tests: delta-method variances under the bootstrap's stratified resampling
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# bootstrap intervals
# ---------------------------------------------------------------------------------------------


