"""The metric registry and :func:`compute_metrics`: every metric for every group, with 95% intervals.

Metrics are functions of per-group sufficient statistics (:mod:`mlimpact.stats`), so one group or
ten thousand cost one vectorized pass. Names and meanings follow scikit-learn; an undefined value is
NaN with a ``note`` saying why, never a crash and never a silent 0.

Interval methods (95%):

* ``wilson`` — proportions (accuracy, precision, recall, the rates, top-2 accuracy).
* ``delong`` — ROC AUC: DeLong's variance from the placement values, normal interval clipped to
  [0, 1] (Hanley–McNeil when a class has fewer than 2 rows).
* ``bootstrap`` — everything else: a seeded percentile bootstrap stratified by group (each group is
  resampled within itself, n_g rows out of n_g) done on per-group *cells* (see
  :func:`compute_metrics` for what each cell scheme is exact for and what it approximates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .stats import ScoreOrder, as_codes, binary_counts, multiclass_confusion, rank_statistics, score_order
from .uncertainty import (
    Z95,
    benjamini_hochberg,
    bootstrap_p_value,
    hanley_mcneil_variance,
    multinomial_resample,
    normal_interval,
    normal_p_value,
    percentile_interval,
    run_bootstrap,
    two_proportion_test,
    wilson_interval,
)

__all__ = ["Metric", "METRICS", "TASKS", "COLUMNS", "metrics_for_task", "compute_metrics"]

TASKS = ("binary", "multiclass", "regression")

#: the columns of :func:`compute_metrics`, in order, every time
COLUMNS = [
    "group", "n", "positives", "metric", "value", "low", "high", "note",
    "rest_value", "difference", "p_value", "q_value", "significantly_worse", "small",
]


@dataclass(frozen=True)
class Metric:
    """One metric: its name, the tasks it applies to, how to display and read it.

    ``direction``: ``"higher"`` or ``"lower"`` is better, ``"zero"`` (closer to 0 is better:
    ``mean_error``) or ``"none"`` (descriptive: ``base_rate``, ``positive_rate``).
    ``kind``: ``"proportion"``, ``"rank"``, ``"mean"`` or ``"other"``. ``interval``: ``"wilson"``,
    ``"delong"`` or ``"bootstrap"``. ``description`` is a plain-language template with ``{value}``
    and ``{positive}`` placeholders.

    >>> METRICS["recall"].description.format(positive="fraud", value="81%")
    'Of the frauds, the model catches 81%'
    """

    name: str
    task: tuple[str, ...]
    label: str
    direction: str
    kind: str
    needs_score: bool
    description: str
    interval: str


_B, _M, _R = ("binary",), ("multiclass",), ("regression",)
_REGISTRY = [
    Metric("accuracy", ("binary", "multiclass"), "Accuracy", "higher", "proportion", False,
           "The model is right on {value} of rows", "wilson"),
    Metric("precision", _B, "Precision", "higher", "proportion", False,
           "Of the rows flagged as {positive}, {value} really are", "wilson"),
    Metric("recall", _B, "Recall", "higher", "proportion", False,
           "Of the {positive}s, the model catches {value}", "wilson"),
    Metric("f1", _B, "F1 score", "higher", "other", False,
           "Balance of precision and recall (their harmonic mean): {value}", "bootstrap"),
    Metric("false_positive_rate", _B, "False positive rate", "lower", "proportion", False,
           "Of the rows that are not {positive}, the model flags {value} anyway", "wilson"),
    Metric("false_negative_rate", _B, "False negative rate", "lower", "proportion", False,
           "Of the {positive}s, the model misses {value}", "wilson"),
    Metric("true_negative_rate", _B, "True negative rate", "higher", "proportion", False,
           "Of the rows that are not {positive}, the model correctly leaves {value} alone", "wilson"),
    Metric("positive_rate", _B, "Share flagged", "none", "proportion", False,
           "The model flags {value} of rows as {positive}", "wilson"),
    Metric("base_rate", _B, "Share actually positive", "none", "proportion", False,
           "{value} of rows are actually {positive}", "wilson"),
    Metric("roc_auc", _B, "ROC AUC", "higher", "rank", True,
           "A random {positive} gets a higher score than a random other row {value} of the time", "delong"),
    Metric("average_precision", _B, "Average precision", "higher", "rank", True,
           "Precision averaged over every threshold, weighted by the {positive}s caught: {value}",
           "bootstrap"),
    Metric("log_loss", ("binary", "multiclass"), "Log loss", "lower", "mean", True,
           "Average log loss of the predicted probabilities (lower is better): {value}", "bootstrap"),
    Metric("brier_score", _B, "Brier score", "lower", "mean", True,
           "Mean squared gap between predicted probability and outcome (lower is better): {value}",
           "bootstrap"),
    Metric("balanced_accuracy", _M, "Balanced accuracy", "higher", "other", False,
           "Recall averaged over the classes present: {value}", "bootstrap"),
    Metric("macro_f1", _M, "Macro F1", "higher", "other", False,
           "F1 averaged over classes, each class counting equally: {value}", "bootstrap"),
    Metric("weighted_f1", _M, "Weighted F1", "higher", "other", False,
           "F1 averaged over classes, weighted by how common each class is: {value}", "bootstrap"),
    Metric("top_2_accuracy", _M, "Top-2 accuracy", "higher", "proportion", True,
           "The true class is among the model's two most likely classes on {value} of rows", "wilson"),
    Metric("mae", _R, "Mean absolute error", "lower", "mean", False,
           "On average the prediction is off by {value}", "bootstrap"),
    Metric("rmse", _R, "Root mean squared error", "lower", "other", False,
           "Typical size of an error, large misses weighing more: {value}", "bootstrap"),
    Metric("r2", _R, "R²", "higher", "other", False,
           "Share of the variation in the truth that the predictions explain: {value}", "bootstrap"),
    Metric("mean_error", _R, "Mean error (bias)", "zero", "mean", False,
           "On average the prediction is {value} above the truth (negative: below)", "bootstrap"),
    Metric("mape", _R, "Mean absolute percentage error", "lower", "mean", False,
           "On average the prediction is off by {value} of the true value", "bootstrap"),
]
METRICS: dict[str, Metric] = {m.name: m for m in _REGISTRY}

_BY_TASK = {
    "binary": ["accuracy", "precision", "recall", "f1", "false_positive_rate", "false_negative_rate",
               "true_negative_rate", "positive_rate", "base_rate", "roc_auc", "average_precision",
               "log_loss", "brier_score"],
    "multiclass": ["accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss", "top_2_accuracy"],
    "regression": ["mae", "rmse", "r2", "mean_error", "mape"],
}

#: score bins used by the binary bootstrap (global quantiles, the threshold always an edge)
BOOT_SCORE_BINS = 10
#: finer score bins for the rest-of-data average precision
REST_AP_BINS = 256
#: bins of the per-row loss (multiclass log loss) and of truth x error (regression) for the bootstrap
BOOT_LOSS_BINS = 16
BOOT_REG_Y_BINS = 4
BOOT_REG_ERROR_BINS = 16
#: groups with at least this many rows resample their cells from the multinomial's normal approximation
NORMAL_ABOVE = 1000
#: cap on the floats of one bootstrap chunk (replicates x groups x cells), bounding memory
_CHUNK_CELLS = 1_500_000


def metrics_for_task(task: str) -> list[str]:
    """Names of the metrics of a task, in display order.

    >>> metrics_for_task("regression")
    ['mae', 'rmse', 'r2', 'mean_error', 'mape']
    """
    if task not in _BY_TASK:
        raise InputError(f"task: must be one of {', '.join(TASKS)}; got {task!r}")
    return list(_BY_TASK[task])


# ---------------------------------------------------------------------------------------------
# per-metric result holder
# ---------------------------------------------------------------------------------------------


class _Out:
    """Arrays of one metric over groups: value, interval, note, rest value and p-value."""

    def __init__(self, n_groups: int) -> None:
        self.value = np.full(n_groups, np.nan)
        self.low = np.full(n_groups, np.nan)
        self.high = np.full(n_groups, np.nan)
        self.rest = np.full(n_groups, np.nan)
        self.p = np.full(n_groups, np.nan)
        self.note = np.full(n_groups, None, dtype=object)
        self._free = np.ones(n_groups, dtype=bool)

    def explain(self, mask, text: str) -> None:
        """Give the groups in ``mask`` (that have no note yet) the note ``text``; first note wins."""
        m = np.asarray(mask, dtype=bool) & self._free
        self.note[m] = text
        self._free &= ~m

    def finish(self) -> None:
        """Null everything of groups whose value is undefined; make sure each such group has a note."""
        bad = np.isnan(self.value)
        self.explain(bad, "undefined for this group")
        for a in (self.low, self.high, self.rest, self.p):
            a[bad] = np.nan
        self.note[~bad] = None


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _proportion(out: _Out, num, den, *, intervals: bool, compare: bool) -> None:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out.value = _ratio(num, den)
    if intervals:
        out.low, out.high = wilson_interval(num, den, z=Z95)
    if compare:
        rk, rn = num.sum() - num, den.sum() - den
        out.rest = _ratio(rk, rn)
        out.p = two_proportion_test(num, den, rk, rn)[1]


def _f1(tp, fp, fn):
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _quantile_bin_ids(sorted_values: np.ndarray, n_bins: int, extra_edges=()) -> tuple[np.ndarray, int]:
    """Bin ids of already-sorted values: global quantile bins, ties never split, extra edges added."""
    n = len(sorted_values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 1
    pos = np.linspace(0, n, n_bins + 1).astype(np.int64)[1:-1]
    edges = np.unique(np.concatenate([sorted_values[pos], np.asarray(extra_edges, dtype=float)]))
    bounds = np.searchsorted(sorted_values, edges, side="left")
    ids = np.cumsum(np.bincount(bounds, minlength=n + 1)[:n])
    return ids, len(edges) + 1


def _cell_moments(flat, size, x):
    """Per-cell count-weighted mean and (population) variance of ``x``; cells laid out flat."""
    cnt = np.bincount(flat, minlength=size).astype(float)
    s = np.bincount(flat, weights=x, minlength=size)
    ss = np.bincount(flat, weights=x * x, minlength=size)
    mu = _ratio(s, cnt)
    var = np.maximum(_ratio(ss, cnt) - mu * mu, 0.0)
    return np.nan_to_num(mu), np.nan_to_num(var)


def _resampled_sum(m, mu, var, rng):
    """Replicate sums from resampled cell counts; the within-cell spread enters as a normal term.

    A cell holding ``m`` resampled rows contributes ``m * mean`` plus the sum of ``m`` draws around
    the mean, whose variance is ``m * within-cell variance``; that part is drawn from a normal. The
    first two moments equal those of the row-level bootstrap exactly.
    """
    base = np.einsum("bgc,gc->bg", m, mu)
    spread = np.sqrt(np.einsum("bgc,gc->bg", m, var))
    return base + spread * rng.standard_normal(base.shape)


def _chunk(n_groups: int, n_cells: int) -> int:
    return int(np.clip(_CHUNK_CELLS // max(1, n_groups * n_cells), 10, 200))


def _binned_ap(pos_bins, tot_bins):
    """AP from per-bin positives and totals (bins ascending in score), ties within a bin grouped."""
    pos_ge = np.cumsum(pos_bins[..., ::-1], axis=-1)[..., ::-1]
    tot_ge = np.cumsum(tot_bins[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(tot_ge > 0, pos_ge / tot_ge, 0.0)
        return (pos_bins * prec).sum(axis=-1) / pos_bins.sum(axis=-1)


# ---------------------------------------------------------------------------------------------
# binary
# ---------------------------------------------------------------------------------------------

_NO_ROWS = "this group has no rows"


def _binary(y, score, pred, codes, G, *, threshold, want, opts, attrs):
    y = np.asarray(y).astype(bool)
    opts["pred_given"] = pred is not None
    if pred is None:
        pred = score >= threshold
    pred = np.asarray(pred).astype(bool)
    intervals, compare = opts["intervals"], opts["compare"]
    counts = binary_counts(y, pred, codes, G).astype(float)
    tp, fp, fn, tn = counts.T
    n = counts.sum(axis=1)
    pos = tp + fn
    neg = fp + tn
    outs = {name: _Out(G) for name in want}
    empty = n == 0
    for o in outs.values():
        o.explain(empty, _NO_ROWS)

    only_neg = "this group has only negatives"
    only_pos = "this group has only positives"
    props = {
        "accuracy": (tp + tn, n, None),
        "precision": (tp, tp + fp, "precision needs predicted positives; the model flags no rows in this group"),
        "recall": (tp, pos, f"recall needs actual positives; {only_neg}"),
        "false_positive_rate": (fp, neg, f"false_positive_rate needs actual negatives; {only_pos}"),
        "false_negative_rate": (fn, pos, f"false_negative_rate needs actual positives; {only_neg}"),
        "true_negative_rate": (tn, neg, f"true_negative_rate needs actual negatives; {only_pos}"),
        "positive_rate": (tp + fp, n, None),
        "base_rate": (pos, n, None),
    }
    for name, (num, den, why) in props.items():
        if name in outs:
            if why:
                outs[name].explain(den == 0, why)
            _proportion(outs[name], num, den, intervals=intervals, compare=compare)

    if "f1" in outs:
        outs["f1"].explain(tp + fp + fn == 0, "f1 needs an actual or predicted positive; this group has neither")
        outs["f1"].value = _f1(tp, fp, fn)
        if compare:
            t = counts.sum(axis=0)
            outs["f1"].rest = _f1(t[0] - tp, t[1] - fp, t[2] - fn)

    score_names = [m for m in ("roc_auc", "average_precision", "log_loss", "brier_score") if m in outs]
    if score is None:
        for name in score_names:
            outs[name].explain(np.ones(G, bool), f"{name} needs a score column; only predicted classes were given")
        prob_ok = False
    else:
        so = opts["order"]
        if not isinstance(so, ScoreOrder):
            so = opts["order"] = score_order(y, score, order=so)
        lo_s, hi_s = (float(so.score[0]), float(so.score[-1])) if len(so.score) else (0.0, 1.0)
        prob_ok = lo_s >= 0.0 and hi_s <= 1.0
        if not prob_ok:
            for name in ("log_loss", "brier_score"):
                if name in outs:
                    outs[name].explain(np.ones(G, bool), f"{name} needs scores that are probabilities in [0, 1]; "
                                       f"scores range from {lo_s:g} to {hi_s:g}")
        if "roc_auc" in outs or "average_precision" in outs:
            rs = rank_statistics(y, score, codes, G, order=so, rest=compare)
            if "roc_auc" in outs:
                o = outs["roc_auc"]
                o.explain(pos == 0, f"roc_auc needs both classes; {only_neg}")
                o.explain(neg == 0, f"roc_auc needs both classes; {only_pos}")
                o.value = rs.auc
                var = np.where(np.isnan(rs.auc_var), hanley_mcneil_variance(rs.auc, rs.n_pos, rs.n_neg),
                               rs.auc_var)
                if intervals:
                    o.low, o.high = normal_interval(rs.auc, var)
                if compare:
                    o.rest = rs.auc_rest
                    var_rest = hanley_mcneil_variance(rs.auc_rest, rs.n_pos_rest, rs.n_neg_rest)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        z = (rs.auc - rs.auc_rest) / np.sqrt(var + var_rest)
                    o.p = normal_p_value(np.where((var + var_rest == 0) & (rs.auc == rs.auc_rest), 0.0, z))
            if "average_precision" in outs:
                o = outs["average_precision"]
                o.explain(pos == 0, f"average_precision needs actual positives; {only_neg}")
                o.value = rs.average_precision
        if prob_ok and ("log_loss" in outs or "brier_score" in outs):
            # per-row losses in score order, shared with the bootstrap
            cs = codes[so.order]
            opts["row_losses"] = losses = _binary_losses(so)
            for name, x in losses.items():
                if name in outs:
                    s = np.bincount(cs, weights=x, minlength=G)
                    outs[name].value = _ratio(s, n)
                    if compare:
                        outs[name].rest = _ratio(s.sum() - s, n.sum() - n)

    boot = [m for m in ("f1", "average_precision", "log_loss", "brier_score") if m in outs]
    if score is None:
        boot = [m for m in boot if m == "f1"]
    elif not prob_ok:
        boot = [m for m in boot if m not in ("log_loss", "brier_score")]
    if boot and (intervals or compare):
        _binary_bootstrap(y, score, pred, codes, G, n, outs, boot, threshold, prob_ok, opts, attrs)
    return outs, n, pos


def _binary_bootstrap(y, score, pred, codes, G, n, outs, boot, threshold, prob_ok, opts, attrs):
    """Stratified bootstrap of f1, average precision, log loss and Brier score on score-bin cells.

    Cells per group are (score bin x confusion cell); a multinomial draw of each group's cell counts
    is the row bootstrap for everything that depends on rows only through their cell: exact for f1.
    Log loss and Brier use cell sums plus a normal within-cell term (exact first two moments).
    Average precision is recomputed on the binned scores and the interval is the exact AP shifted by
    the binned replicates' deviation from the binned point estimate.
    """
    compare = opts["compare"]
    if score is not None:
        so = opts["order"] if isinstance(opts["order"], ScoreOrder) else score_order(y, score, order=opts["order"])
        ys, cs = so.y, codes[so.order]
        bins, n_bins = _quantile_bin_ids(so.score, BOOT_SCORE_BINS, [threshold])
        ps = pred[so.order] if opts["pred_given"] else so.score >= threshold
    else:
        ys, ps, cs = y, pred, codes
        bins, n_bins = np.zeros(len(y), dtype=np.int64), 1
    # cells: (bin, y) when the decision follows from the score bin (threshold is a bin edge),
    # otherwise (bin, tp/fp/fn/tn)
    if score is not None and not opts["pred_given"]:
        stride = 2
        local = bins * 2 + ys
        pred_of_bin = np.bincount(bins, weights=ps, minlength=n_bins) > 0
        b_of, y_of = np.repeat(np.arange(n_bins), 2), np.tile([False, True], n_bins)
        cell4_of = 2 * (~pred_of_bin[b_of]) + (~y_of)
        pos_of = y_of
    else:
        stride = 4
        local = bins * 4 + (2 * (~ps) + (~ys))
        cell4_of = np.tile(np.arange(4), n_bins)
        pos_of = np.tile([True, False, True, False], n_bins)
    C = stride * n_bins
    flat = cs.astype(np.int64) * C + local
    counts = np.bincount(flat, minlength=G * C).reshape(G, C)
    moments = {}
    if prob_ok:
        for name, x in opts.get("row_losses", {}).items():
            if name in boot:
                mu, var = _cell_moments(flat, G * C, x)
                moments[name] = (mu.reshape(G, C), var.reshape(G, C))
    onehot = (cell4_of[:, None] == np.arange(4)).astype(float)  # (C, 4)
    pos_w = pos_of.astype(float)
    n_all = n.sum()

    def replicate(rng, b):
        m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE)  # (b, G, C)
        res = {}
        cm = np.matmul(m, onehot)  # (b, G, 4)
        if "f1" in boot:
            res["f1"] = _f1(cm[..., 0], cm[..., 1], cm[..., 2])
            if compare:
                r = cm.sum(axis=1, keepdims=True) - cm
                res["f1_rest"] = _f1(r[..., 0], r[..., 1], r[..., 2])
        for name, (mu, var) in moments.items():
            s = _resampled_sum(m, mu, var, rng)
            res[name] = s / n
            if compare:
                res[name + "_rest"] = (s.sum(axis=1, keepdims=True) - s) / (n_all - n)
        if "average_precision" in boot:
            pb = np.matmul(m.reshape(b, G, n_bins, stride), pos_w[:stride])
            tb = m.reshape(b, G, n_bins, stride).sum(axis=-1)
            res["average_precision"] = _binned_ap(pb, tb)
            if compare:
                res["average_precision_rest"] = _binned_ap(pb.sum(axis=1, keepdims=True) - pb,
                                                           tb.sum(axis=1, keepdims=True) - tb)
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"],
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, C))
    attrs["n_boot"] = min(attrs.get("n_boot", used), used)
    shift = {}
    if "average_precision" in boot:
        cb = counts.astype(float)
        pb = (cb * pos_w).reshape(G, n_bins, stride).sum(axis=-1)
        tb = cb.reshape(G, n_bins, stride).sum(axis=-1)
        shift["average_precision"] = outs["average_precision"].value - _binned_ap(pb, tb)
        if compare:
            outs["average_precision"].rest = _rest_ap_fine(so, cs, G)
    _apply_bootstrap(outs, boot, reps, shift, opts)


def _binary_losses(so: ScoreOrder) -> dict[str, np.ndarray]:
    """Per-row log loss (scikit-learn's clipping) and squared error, in score order."""
    eps = np.finfo(float).eps
    p = so.score
    ll = -np.log(np.where(so.y, np.clip(p, eps, 1 - eps), np.clip(1 - p, eps, 1 - eps)))
    return {"log_loss": ll, "brier_score": (p - so.y) ** 2}


def _rest_ap_fine(so: ScoreOrder, cs, G):
    """Average precision of each group's complement from fine score bins (REST_AP_BINS quantiles)."""
    bins, nb = _quantile_bin_ids(so.score, REST_AP_BINS)
    flat = cs.astype(np.int64) * (2 * nb) + bins * 2 + so.y
    c = np.bincount(flat, minlength=G * 2 * nb).reshape(G, nb, 2).astype(float)
    r = c.sum(axis=0, keepdims=True) - c
    return _binned_ap(r[..., 1], r.sum(axis=-1))


def _apply_bootstrap(outs, names, reps, shift, opts):
    """Percentile intervals (shifted where the replicates are of an approximation) and rest p-values."""
    for name in names:
        o = outs[name]
        r = reps[name]
        if name in shift:
            r = r + shift[name]
        if opts["intervals"]:
            o.low, o.high = percentile_interval(r)
            if METRICS[name].kind in ("proportion", "rank") or name in ("f1", "balanced_accuracy", "macro_f1",
                                                                        "weighted_f1"):
                o.low, o.high = np.clip(o.low, 0, 1), np.clip(o.high, 0, 1)
        if opts["compare"] and name + "_rest" in reps:
            o.p = bootstrap_p_value(o.value - o.rest, reps[name] - reps[name + "_rest"])


# ---------------------------------------------------------------------------------------------
# multiclass
# ---------------------------------------------------------------------------------------------


def _mc_scores(cm):
    """balanced accuracy, macro F1, weighted F1 from confusion matrices ``(..., K, K)`` (sklearn's)."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
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
    cm = multiclass_confusion(y, pred, codes, G, K).astype(float)
    n = cm.sum(axis=(1, 2))
    outs = {name: _Out(G) for name in want}
    for o in outs.values():
        o.explain(n == 0, _NO_ROWS)
    if "accuracy" in outs:
        _proportion(outs["accuracy"], np.trace(cm, axis1=1, axis2=2), n, intervals=intervals, compare=compare)
    bal, macro, weighted = _mc_scores(cm)
    total = cm.sum(axis=0, keepdims=True)
    rest = _mc_scores(total - cm) if compare else (None, None, None)
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
        counts = cm.reshape(G, K * K)

        def replicate(rng, b):
            m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE).reshape(b, G, K, K)
            res = dict(zip(("balanced_accuracy", "macro_f1", "weighted_f1"), _mc_scores(m), strict=True))
            if compare:
                rr = _mc_scores(m.sum(axis=1, keepdims=True) - m)
                res.update({k + "_rest": v for k, v in zip(("balanced_accuracy", "macro_f1", "weighted_f1"), rr,
                                                              strict=True)})
            return res

        reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"],
                                   time_budget_s=opts["time_budget_s"], chunk=_chunk(G, K * K))
        attrs["n_boot"] = min(attrs.get("n_boot", used), used)
        _apply_bootstrap(outs, boot, reps, {}, opts)
    if loss is not None and (intervals or compare):
        _mean_bootstrap(outs, {"log_loss": loss}, loss, codes, G, n, opts, attrs, seed_offset=1)
    return outs, n, n.copy()


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


# ---------------------------------------------------------------------------------------------
# regression
# ---------------------------------------------------------------------------------------------


def _regression(y, pred, codes, G, *, want, opts, attrs):
    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    compare = opts["compare"]
    e = pred - y
    n = np.bincount(codes, minlength=G).astype(float)
    n_all = n.sum()
    outs = {name: _Out(G) for name in want}
    for o in outs.values():
        o.explain(n == 0, _NO_ROWS)
    zero_truth = np.bincount(codes, weights=(y == 0), minlength=G) > 0
    with np.errstate(over="ignore"):  # scikit-learn's denominator: max(|y|, machine epsilon)
        ape = np.abs(e) / np.maximum(np.abs(y), np.finfo(float).eps)
    per_row = {"mae": np.abs(e), "mean_error": e, "rmse": e * e, "mape": ape}
    sums = {k: np.bincount(codes, weights=v, minlength=G) for k, v in per_row.items() if k in outs or k == "rmse"}
    for k in ("mae", "mean_error", "mape", "rmse"):
        if k in outs:
            outs[k].value = _ratio(sums[k], n)
            if compare:
                outs[k].rest = _ratio(sums[k].sum() - sums[k], n_all - n)
    if "rmse" in outs:
        outs["rmse"].value = np.sqrt(outs["rmse"].value)
        outs["rmse"].rest = np.sqrt(outs["rmse"].rest)
    if "mape" in outs:
        outs["mape"].explain(zero_truth, "mape is undefined when a true value is 0; this group has one")
        outs["mape"].value[zero_truth] = np.nan
    # r2 with an exact two-pass total sum of squares
    ybar = _ratio(np.bincount(codes, weights=y, minlength=G), n)
    sst = np.bincount(codes, weights=(y - ybar[codes]) ** 2, minlength=G)
    yc = y - (y.mean() if len(y) else 0.0)
    s1, s2 = np.bincount(codes, weights=yc, minlength=G), np.bincount(codes, weights=yc * yc, minlength=G)
    if "r2" in outs:
        o = outs["r2"]
        o.explain(n < 2, "r2 needs at least 2 rows")
        o.explain(sst == 0, "r2 is undefined when the true values do not vary in this group")
        o.value = np.where((n >= 2) & (sst > 0), 1 - _ratio(sums["rmse"], np.where(sst > 0, sst, 1)), np.nan)
        if compare:
            nr = n_all - n
            sst_r = (s2.sum() - s2) - _ratio((s1.sum() - s1) ** 2, nr)
            sse_r = sums["rmse"].sum() - sums["rmse"]
            o.rest = np.where((nr >= 2) & (sst_r > 1e-12 * np.maximum(s2.sum() - s2, 1e-300)),
                              1 - _ratio(sse_r, sst_r), np.nan)
    if not (opts["intervals"] or compare) or not outs:
        return outs, n, np.full(G, np.nan)

    # cells: (truth quantile bin x error quantile bin) per group
    def qbins(x, k):
        if len(x) == 0:
            return np.zeros(0, dtype=np.int64), 1
        edges = np.unique(np.quantile(x, np.linspace(0, 1, k + 1)[1:-1]))
        return np.searchsorted(edges, x, side="right"), len(edges) + 1

    by, nby = qbins(y, BOOT_REG_Y_BINS)
    be, nbe = qbins(e, BOOT_REG_ERROR_BINS)
    C = nby * nbe
    flat = codes.astype(np.int64) * C + by * nbe + be
    counts = np.bincount(flat, minlength=G * C).reshape(G, C)
    mom = {k: tuple(a.reshape(G, C) for a in _cell_moments(flat, G * C, v)) for k, v in per_row.items()}
    ycm = _cell_moments(flat, G * C, yc)[0].reshape(G, C)
    y2m = _cell_moments(flat, G * C, yc * yc)[0].reshape(G, C)
    e2m = mom["rmse"][0]
    boot = [k for k in ("mae", "rmse", "r2", "mean_error", "mape") if k in outs]

    def r2_of(sse, a, b, nn):
        with np.errstate(divide="ignore", invalid="ignore"):
            sst_ = b - a * a / nn
            return np.where((nn >= 2) & (sst_ > 0), 1 - sse / sst_, np.nan)

    def replicate(rng, b):
        m = multinomial_resample(counts, b, rng, normal_above=NORMAL_ABOVE)
        res = {}
        for k in ("mae", "mean_error", "mape", "rmse"):
            if k in boot:
                s = _resampled_sum(m, *mom[k], rng)
                if k == "rmse":
                    s = np.maximum(s, 0.0)
                res[k] = s / n
                if compare:
                    res[k + "_rest"] = (s.sum(axis=1, keepdims=True) - s) / (n_all - n)
        if "rmse" in res:
            res["rmse"] = np.sqrt(res["rmse"])
            if compare:
                res["rmse_rest"] = np.sqrt(np.maximum(res["rmse_rest"], 0))
        if "r2" in boot:
            sse, a, q = (m * e2m).sum(-1), (m * ycm).sum(-1), (m * y2m).sum(-1)
            res["r2"] = r2_of(sse, a, q, n)
            if compare:
                res["r2_rest"] = r2_of(sse.sum(1, keepdims=True) - sse, a.sum(1, keepdims=True) - a,
                                       q.sum(1, keepdims=True) - q, n_all - n)
        return res

    reps, used = run_bootstrap(replicate, n_boot=opts["n_boot"], seed=opts["seed"],
                               time_budget_s=opts["time_budget_s"], chunk=_chunk(G, C))
    attrs["n_boot"] = used
    _apply_bootstrap(outs, boot, reps, {}, opts)
    return outs, n, np.full(G, np.nan)


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------


def _validate(task, y, score, pred, proba, classes, codes, n_groups, metrics):
    problems = []
    if task not in TASKS:
        raise InputError(f"task: must be one of {', '.join(TASKS)}; got {task!r}")
    n = len(y)
    for name, arr in (("score", score), ("pred", pred), ("codes", codes)):
        if arr is not None and len(arr) != n:
            problems.append(f"{name}: has {len(arr)} rows but y has {n}; pass arrays of equal length")
    if proba is not None and (proba.ndim != 2 or proba.shape[0] != n):
        problems.append(f"proba: must be an (n_rows, n_classes) array with n_rows = {n}; got shape {proba.shape}")
    if task == "binary":
        if score is None and pred is None:
            problems.append("binary task: give a score or a predicted class (pred); neither was given")
        if n and not np.isin(np.unique(y), [0, 1]).all():
            problems.append(f"y: binary labels must be 0/1; got values {np.unique(y)[:5].tolist()}")
        if score is not None and np.isnan(score).any():
            problems.append("score: contains missing values; drop or fill those rows first")
    elif task == "multiclass":
        if classes is None:
            problems.append("classes: the multiclass task needs the list of class names")
        elif n and (y.min() < 0 or y.max() >= len(classes)):
            problems.append(f"y: class codes must be in 0..{len(classes) - 1}")
        if proba is None and pred is None:
            problems.append("multiclass task: give per-class probabilities (proba) or predicted classes (pred)")
        if proba is not None and classes is not None and proba.shape[1] != len(classes):
            problems.append(f"proba: has {proba.shape[1]} columns but there are {len(classes)} classes")
    else:
        if pred is None:
            problems.append("regression task: give the predictions (pred)")
        elif np.isnan(np.asarray(pred, dtype=float)).any() or np.isnan(np.asarray(y, dtype=float)).any():
            problems.append("y/pred: contain missing values; drop those rows first")
    if codes is not None and n and n_groups is not None and (codes.min() < 0 or codes.max() >= n_groups):
        problems.append(f"codes: must be in 0..{n_groups - 1}; got {codes.min()}..{codes.max()}")
    if metrics is not None:
        allowed = _BY_TASK[task]
        bad = [m for m in metrics if m not in allowed]
        if bad:
            problems.append(f"metrics: {', '.join(bad)} not available for task {task}; choose from "
                            f"{', '.join(allowed)}")
    if problems:
        raise InputError("; ".join(problems), problems=problems)


def compute_metrics(
    task: str,
    *,
    y,
    score=None,
    pred=None,
    proba=None,
    classes=None,
    codes=None,
    n_groups: int | None = None,
    threshold: float = 0.5,
    metrics: list[str] | None = None,
    intervals: bool = True,
    seed: int = 0,
    n_boot: int = 1000,
    time_budget_s: float | None = 0.1,
    compare_to_rest: bool = False,
    min_group_size: int = 30,
    order=None,
) -> pd.DataFrame:
    """Every metric of ``task`` for every group, with 95% intervals, as one tidy long table.

    Parameters
    ----------
    task : ``"binary"``, ``"multiclass"`` or ``"regression"``.
    y : labels — binary 0/1; multiclass int codes ``0..K-1``; regression floats.
    score : binary score (any real scale; predicted positive when ``score >= threshold``).
    pred : binary 0/1, multiclass codes, or regression predictions. For binary, used as is when given.
    proba : multiclass ``(n, K)`` probabilities (``pred`` defaults to their argmax).
    classes : multiclass class names (K of them).
    codes, n_groups : group code per row (``0..n_groups-1``); ``None`` = one overall group 0.
    metrics : subset of :func:`metrics_for_task` (default all).
    intervals : compute the 95% intervals (``low``/``high``); otherwise they are NaN.
    seed, n_boot, time_budget_s : bootstrap seed, replicates wanted, and the seconds allowed per
        resampling scheme (fewer replicates when short; ``None`` = no limit). ``attrs["n_boot"]`` is
        the number of replicates actually used (the smallest over schemes; 0 when none ran).
    compare_to_rest : test each group against all rows outside it (fills the comparison columns).
    min_group_size : groups with fewer rows are flagged ``small`` (never dropped).
    order : optional precomputed ``np.argsort(score)`` or :class:`mlimpact.stats.ScoreOrder`, to
        reuse one sort across several groupings of the same rows.

    Returns
    -------
    DataFrame with columns :data:`COLUMNS`, one row per (group, metric), group-major:
    ``group`` (int code), ``n`` (rows), ``positives`` (binary: actual positives; multiclass: the
    group's rows, as positives has no single meaning there; regression: NaN), ``metric``, ``value``,
    ``low``, ``high``, ``note`` (None, or why the value is null), ``rest_value`` (the metric on all
    rows outside the group), ``difference`` (value − rest_value), ``p_value``, ``q_value``
    (Benjamini–Hochberg over all tests in the table), ``significantly_worse`` (nullable bool: q < 0.05
    and worse in the metric's direction; NA when not tested), ``small`` (n < min_group_size). The
    comparison columns are NaN/NA unless ``compare_to_rest``. ``attrs`` holds ``task``,
    ``threshold``, ``n_boot``, ``seed`` and ``interval_methods``.

    Notes
    -----
    Tests against the rest: two-proportion z test (proportions); DeLong variance of the group plus
    Hanley–McNeil variance of the rest (ROC AUC); for bootstrapped metrics the rest is resampled too
    (the sum of the other groups' stratified replicates) and z = difference / bootstrap SD of the
    difference. The rest's average precision is computed from 256 score-quantile bins.

    Bootstrap schemes (percentile intervals, stratified by group): binary — cells of (10 score
    quantile bins with the threshold as an edge) x (label; or tp/fp/fn/tn when pred is given): exact
    for f1; log loss and Brier
    exact in mean and variance (within-cell spread added as a normal term); average precision
    recomputed on binned scores and shifted to the exact value. Multiclass — the confusion matrix
    (exact for balanced accuracy, macro and weighted F1); log loss on 16 loss-quantile cells (as above).
    Regression — 4 x 16 (truth x error) quantile cells; mae, rmse, mean_error, mape exact in mean and
    variance of the resampled sums; r2 moves rows cell by cell (within-cell spread ignored).

    >>> df = compute_metrics("binary", y=[1, 0, 1, 1], score=[0.9, 0.2, 0.4, 0.7], codes=[0, 0, 1, 1],
    ...                      n_groups=2, metrics=["recall", "roc_auc"], intervals=False)
    >>> df.value.tolist()
    [1.0, 1.0, 0.5, nan]
    >>> df.note.iloc[3]
    'roc_auc needs both classes; this group has only positives'
    """
    y = np.asarray(y)
    score = None if score is None else np.asarray(score, dtype=float)
    pred = None if pred is None else np.asarray(pred)
    proba = None if proba is None else np.asarray(proba, dtype=float)
    codes_in = None if codes is None else np.asarray(codes)
    _validate(task, y, score, pred, proba, classes, codes_in, n_groups, metrics)
    codes, G = as_codes(codes_in, len(y), n_groups)
    want = metrics_for_task(task) if metrics is None else [m for m in metrics_for_task(task) if m in metrics]
    opts = {"intervals": bool(intervals), "compare": bool(compare_to_rest), "seed": int(seed),
            "n_boot": int(n_boot), "time_budget_s": time_budget_s, "order": order}
    attrs: dict = {}
    if task == "binary":
        outs, n, positives = _binary(y, score, pred, codes, G, threshold=threshold, want=want, opts=opts,
                                     attrs=attrs)
    elif task == "multiclass":
        outs, n, positives = _multiclass(y, proba, pred, list(classes), codes, G, want=want, opts=opts,
                                         attrs=attrs)
    else:
        outs, n, positives = _regression(y, pred, codes, G, want=want, opts=opts, attrs=attrs)
    for o in outs.values():
        o.finish()
    return _assemble(outs, want, G, n, positives, task=task, compare=bool(compare_to_rest),
                     min_group_size=min_group_size,
                     attrs={"task": task, "threshold": threshold if task == "binary" else None,
                            "n_boot": attrs.get("n_boot", 0), "seed": seed,
                            "interval_methods": {m: METRICS[m].interval for m in want}})


def _assemble(outs, want, G, n, positives, *, task, compare, min_group_size, attrs) -> pd.DataFrame:
    M = len(want)

    def stack(field):
        if M == 0:
            return np.zeros(0)
        return np.column_stack([getattr(outs[m], field) for m in want]).ravel()

    value = stack("value")
    rest = stack("rest")
    p = stack("p")
    note = np.column_stack([outs[m].note for m in want]).ravel() if M else np.zeros(0, dtype=object)
    groups = np.repeat(np.arange(G), M)
    n_rows = np.repeat(n, M).astype(np.int64)
    df = pd.DataFrame({
        "group": groups.astype(np.int64),
        "n": n_rows,
        "positives": np.repeat(positives, M).astype(float),
        "metric": np.tile(np.asarray(want, dtype=object), G),
        "value": value,
        "low": stack("low"),
        "high": stack("high"),
        "note": pd.Series(note, dtype=object),
    })
    worse = pd.array([pd.NA] * len(df), dtype="boolean")
    if compare:
        q = benjamini_hochberg(p)
        diff = value - rest
        direction = np.tile(np.asarray([METRICS[m].direction for m in want], dtype=object), G)
        bad = np.where(direction == "higher", diff < 0,
                       np.where(direction == "lower", diff > 0,
                                np.where(direction == "zero", np.abs(value) > np.abs(rest), False)))
        flag = (q < 0.05) & bad
        worse = pd.array(np.where(np.isnan(q), None, flag), dtype="boolean")
        df["rest_value"], df["difference"], df["p_value"], df["q_value"] = rest, diff, p, q
    else:
        for c in ("rest_value", "difference", "p_value", "q_value"):
            df[c] = np.nan
    df["significantly_worse"] = worse
    df["small"] = n_rows < min_group_size
    df.attrs.update(attrs)
    return df[COLUMNS]
