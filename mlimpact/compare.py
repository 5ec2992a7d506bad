"""Candidate models side by side, like a design document: metrics, paired differences, robustness, value.

Every model in the file (the score column plus ``roles.other_scores``: several score columns, or
several files joined on an id) is evaluated on the same rows. Differences against the first model
(the reference) are paired:

* ROC AUC — DeLong's test for two correlated AUCs (placement values of both models on the same rows),
  per segment in one vectorized pass;
* every other metric — a paired bootstrap: rows fall into cells of (segment, label, score bin of
  model A, score bin of model B) (the threshold is a bin edge, so confusion counts are exact), the cell
  counts are resampled once per replicate for both models, and per-row losses (Brier, log loss, errors)
  enter with the cell's exact within-cell covariance (see :mod:`mlimpact.impact`). Average precision
  is recomputed on the score bins and shifted to its exact value, as in :mod:`mlimpact.metrics`.

:func:`compare_models` returns a :class:`Comparison`; :func:`decision_table_markdown` exports its numbers
with the rows a person fills in (cost to build and run, maintenance, interpretability, likelihood of
success, notes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import InputError
from .impact import (
    CostModel,
    _cell_bootstrap,
    _cut_threshold,
    _decisions,
    _exact,
    _gains_from_terms,
    _make_cells,
    _money,
    _threshold_values,
    format_money,
    md_escape,
    row_gains,
    scale_factor,
)
from .uncertainty import Z95, bootstrap_p_value, normal_p_value, percentile_interval

__all__ = ["DESIGN_CRITERIA", "BASELINE_MODEL", "compare_metrics", "model_columns", "Comparison", "compare_models",
           "delong_paired", "decision_numbers", "design_rows_template", "decision_table_markdown",
           "comparison_summary"]

#: The rows a person fills in for each option, as in a design document.
DESIGN_CRITERIA = ("Cost to build and run", "Maintenance", "Interpretability", "Likelihood of success", "Notes")
#: Name of the stand-in model used when a file holds only one model.
BASELINE_MODEL = {"binary": "baseline: constant score (base rate)", "multiclass": "baseline: most common class",
                  "regression": "baseline: mean of the truth"}
#: score bins per model in the paired bootstrap (plus the threshold as an edge)
SCORE_BINS = 20
REG_BINS = 4

_CONFUSION_BINARY = ("accuracy", "precision", "recall", "f1", "false_positive_rate", "false_negative_rate",
                     "true_negative_rate", "positive_rate")
_CONFUSION_MULTI = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1")


def compare_metrics(dataset: Dataset, *, probabilities: bool = True) -> list[str]:
    """The metrics compared for this task (score metrics only when the models give scores).

    >>> from mlimpact.impact import _demo_dataset
    >>> compare_metrics(_demo_dataset())[:3]
    ['roc_auc', 'average_precision', 'recall']
    """
    if dataset.task == "binary":
        if dataset.score is None:
            return ["recall", "precision", "f1", "false_positive_rate", "accuracy"]
        out = ["roc_auc", "average_precision", "recall", "precision", "f1", "false_positive_rate", "accuracy"]
        return out + (["brier_score", "log_loss"] if probabilities else [])
    if dataset.task == "multiclass":
        return list(_CONFUSION_MULTI)
    return ["mae", "rmse", "r2", "mean_error"]


def model_columns(dataset: Dataset) -> list[str]:
    """The model columns of the file: the main score (or prediction) column, then ``roles.other_scores``.

    >>> from mlimpact.impact import _demo_dataset
    >>> model_columns(_demo_dataset())
    ['p']
    """
    r = dataset.roles
    main = r.score if dataset.task == "binary" and dataset.score is not None else (r.prediction or r.score)
    if main is None and dataset.task == "multiclass":
        main = "argmax of the class probabilities"
    out = [main] if main else []
    out += [c for c in r.other_scores if c in dataset.frame.columns and c not in out]
    return out


# ---------------------------------------------------------------------------------------------
# models as arrays on shared rows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Model:
    name: str
    score: np.ndarray | None  # binary scores
    pred: np.ndarray          # binary 0/1 at the threshold, multiclass codes, regression predictions


def _column_values(dataset: Dataset, col: str) -> np.ndarray:
    s = dataset.frame[col]
    if dataset.task == "multiclass":
        from .roles import normalize_labels

        return normalize_labels(s).to_numpy(dtype=object, na_value=None)
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise InputError(f"column `{col}` (a model to compare) does not hold numbers; remove it from the other "
                         "models in the sidebar, or pick its score column")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _build_models(dataset: Dataset, columns, *, threshold: float, baseline: bool):
    """Arrays of every model on the rows all of them scored; returns (models, keep mask, classes, notes)."""
    task, n = dataset.task, dataset.n
    columns = list(columns)
    main = model_columns(dataset)[:1]
    raw: dict[str, np.ndarray | None] = {}
    for col in columns:
        if col in main:
            raw[col] = None  # the Dataset's own arrays
        elif col not in dataset.frame.columns:
            raise InputError(f"column `{col}` (a model to compare) is not in the file; pick one of its columns")
        else:
            raw[col] = _column_values(dataset, col)
    keep = np.ones(n, dtype=bool)
    for v in raw.values():
        if v is not None:
            keep &= ~pd.isna(v)
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum()):,} rows without a prediction from every model are left out of the "
                     "comparison, so every model is judged on the same rows")
    if not keep.any():
        raise InputError("no row has a prediction from every model; check the other models' columns")
    classes = list(dataset.classes)
    models = []
    for col, v in raw.items():
        if task == "binary":
            if v is None:
                score = dataset.score
                pred = (score >= threshold).astype(np.int8) if score is not None else dataset.prediction
            else:
                score = v
                pred = (np.nan_to_num(v, nan=-np.inf) >= threshold).astype(np.int8)
            models.append(_Model(col, None if score is None else np.asarray(score, float), pred))
        elif task == "multiclass":
            if v is None:
                pred = dataset.predicted()
            else:
                labels = [str(x) if x is not None else None for x in v]
                extra = sorted({x for x in labels if x is not None and x not in classes})
                if extra:
                    notes.append(f"column `{col}` predicts {len(extra)} value(s) that are not classes of the label "
                                 f"(e.g. {extra[0]!r}); they count as wrong")
                    classes += extra
                lookup = {c: i for i, c in enumerate(classes)}
                pred = np.array([lookup.get(x, 0) if x is not None else 0 for x in labels], dtype=np.int64)
            models.append(_Model(col, None, np.asarray(pred, dtype=np.int64)))
        else:
            models.append(_Model(col, None, np.asarray(dataset.prediction if v is None else v, dtype=float)))
    y = dataset.y[keep]
    if baseline:
        if task == "binary":
            rate = float(np.mean(y)) if len(y) else 0.0
            models.append(_Model(BASELINE_MODEL[task], np.full(n, rate), np.full(n, int(rate >= threshold), np.int8)))
        elif task == "multiclass":
            top = int(np.argmax(np.bincount(y, minlength=len(classes))))
            models.append(_Model(BASELINE_MODEL[task], None, np.full(n, top, dtype=np.int64)))
        else:
            models.append(_Model(BASELINE_MODEL[task], None, np.full(n, float(np.mean(y)))))
        notes.append(f"{BASELINE_MODEL[task]} is computed on these same rows (an in-sample stand-in for "
                     "having no model)")
    models = [_Model(m.name, None if m.score is None else m.score[keep], m.pred[keep]) for m in models]
    return models, keep, classes, notes


def _arrays(task: str, m: _Model, classes) -> dict:
    if task == "binary":
        return {"score": m.score} if m.score is not None else {"pred": m.pred}
    if task == "multiclass":
        return {"pred": m.pred, "classes": list(classes)}
    return {"pred": m.pred}


# ---------------------------------------------------------------------------------------------
# DeLong for two correlated AUCs, per group
# ---------------------------------------------------------------------------------------------


def _placements(y: np.ndarray, score: np.ndarray, codes: np.ndarray, G: int):
    """Per row, its DeLong placement value within its group, and per group (n1, n0, auc).

    A positive's placement is the share of its group's negatives scored below it (ties count half);
    a negative's is the share of the group's positives scored above it. One lexsort, no group loop.
    """
    y = np.asarray(y).astype(bool)
    order = np.lexsort((score, codes))
    cs, ss, ys = codes[order], score[order], y[order]
    n = len(order)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = (cs[1:] != cs[:-1]) | (ss[1:] != ss[:-1])
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    run_pos = np.add.reduceat(ys.astype(float), starts) if n else np.zeros(0)
    run_len = np.diff(np.append(starts, n)).astype(float)
    run_neg = run_len - run_pos
    run_group = cs[starts]
    n1 = np.bincount(codes[y], minlength=G).astype(float)
    n0 = np.bincount(codes[~y], minlength=G).astype(float)
    # cumulative counts before each run, restarted in every group
    cneg = np.cumsum(run_neg) - run_neg
    cpos = np.cumsum(run_pos) - run_pos
    gstart = np.r_[True, run_group[1:] != run_group[:-1]] if len(starts) else np.zeros(0, bool)
    first_run = np.maximum.accumulate(np.where(gstart, np.arange(len(starts)), 0))
    neg_below = cneg - cneg[first_run]
    pos_below = cpos - cpos[first_run]
    with np.errstate(divide="ignore", invalid="ignore"):
        v_pos_run = (neg_below + 0.5 * run_neg) / n0[run_group]
        v_neg_run = (n1[run_group] - pos_below - run_pos + 0.5 * run_pos) / n1[run_group]
    v_sorted = np.where(ys, v_pos_run[run], v_neg_run[run])
    v = np.empty(n)
    v[order] = v_sorted
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.bincount(codes[y], weights=v[y], minlength=G) / n1
    auc = np.where((n1 > 0) & (n0 > 0), auc, np.nan)
    return v, n1, n0, auc


def delong_paired(y, score_a, score_b, codes=None, n_groups: int | None = None) -> pd.DataFrame:
    """DeLong's test of two correlated ROC AUCs on the same rows, per group.

    Returns ``group, n, positives, auc_a, auc_b, difference (b − a), low, high, p_value, var_a, var_b``
    (DeLong variances; the interval is normal, 95%). NaN where a group lacks a class or has fewer
    than two rows of one.

    >>> t = delong_paired([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.7], [0.2, 0.1, 0.6, 0.9, 0.3, 0.5])
    >>> t[["auc_a", "auc_b"]].round(4).values.tolist()
    [[0.8889, 1.0]]
    """
    y = np.asarray(y).astype(bool)
    a = np.asarray(score_a, dtype=float)
    b = np.asarray(score_b, dtype=float)
    codes = np.zeros(len(y), dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
    G = int(n_groups if n_groups is not None else (codes.max() + 1 if len(codes) else 1))
    va, n1, n0, auc_a = _placements(y, a, codes, G)
    vb, _, _, auc_b = _placements(y, b, codes, G)

    def cov(mask, u, w, n_k):
        su = np.bincount(codes[mask], weights=u[mask], minlength=G)
        sw = np.bincount(codes[mask], weights=w[mask], minlength=G)
        suw = np.bincount(codes[mask], weights=u[mask] * w[mask], minlength=G)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (suw - su * sw / n_k) / (n_k - 1)

    with np.errstate(divide="ignore", invalid="ignore"):
        s10 = [cov(y, va, va, n1), cov(y, vb, vb, n1), cov(y, va, vb, n1)]
        s01 = [cov(~y, va, va, n0), cov(~y, vb, vb, n0), cov(~y, va, vb, n0)]
        var_a = s10[0] / n1 + s01[0] / n0
        var_b = s10[1] / n1 + s01[1] / n0
        var_d = np.maximum((s10[0] + s10[1] - 2 * s10[2]) / n1 + (s01[0] + s01[1] - 2 * s01[2]) / n0, 0.0)
        ok = (n1 >= 2) & (n0 >= 2)
        diff = auc_b - auc_a
        sd = np.sqrt(var_d)
        z = np.where(sd > 0, diff / np.where(sd > 0, sd, 1), np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    p = np.where(ok, normal_p_value(z), np.nan)
    return pd.DataFrame({"group": np.arange(G), "n": (n1 + n0).astype(np.int64), "positives": n1.astype(np.int64),
                         "auc_a": auc_a, "auc_b": auc_b, "difference": diff,
                         "low": np.where(ok, diff - Z95 * sd, np.nan), "high": np.where(ok, diff + Z95 * sd, np.nan),
                         "p_value": p, "var_a": np.where(ok, var_a, np.nan), "var_b": np.where(ok, var_b, np.nan)})


# ---------------------------------------------------------------------------------------------
# paired bootstrap of everything else
# ---------------------------------------------------------------------------------------------


def _score_bins(score: np.ndarray, threshold: float) -> tuple[np.ndarray, int, int]:
    """Quantile bins with the threshold as an edge: (bin per row, number of bins, first flagged bin)."""
    qs = np.quantile(score, np.linspace(0, 1, SCORE_BINS + 1)[1:-1]) if len(score) else np.zeros(0)
    edges = np.unique(np.append(qs, threshold))
    bins = np.searchsorted(edges, score, side="right")
    return bins, len(edges) + 1, int(np.searchsorted(edges, threshold, side="left")) + 1


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
    from .metrics import _mc_scores

    bal, macro, weighted = _mc_scores(cm)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.trace(cm, axis1=-2, axis2=-1) / cm.sum(axis=(-2, -1))
    return {"accuracy": acc, "balanced_accuracy": bal, "macro_f1": macro, "weighted_f1": weighted}


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


def _paired_bootstrap(task, y, a: _Model, b: _Model, codes, G, *, threshold, metrics, probabilities, n_classes,
                      exact_a, exact_b, n_boot, seed, time_budget_s):
    """Paired replicates per metric: ``{metric: (reps_a, reps_b)}``, each (r, G + 1) (groups, then all rows).

    Both models' metrics in a replicate come from the same resampled cells, i.e. the same rows.
    """
    want = [m for m in metrics if m != "roc_auc"]
    if not want:
        return {}, 0
    values = np.zeros((len(y), 0))
    loss_names: list[str] = []
    shape = None
    if task == "binary":
        if a.score is not None and b.score is not None:
            ba, qa, ja = _score_bins(a.score, threshold)
            bb, qb, jb = _score_bins(b.score, threshold)
        else:
            ba, qa, ja = a.pred.astype(np.int64), 2, 1
            bb, qb, jb = b.pred.astype(np.int64), 2, 1
        pattern = (y.astype(np.int64) * qa + ba) * qb + bb
        shape = (2, qa, qb)
        la = _binary_losses(y, a.score, probabilities) if a.score is not None else {}
        lb = _binary_losses(y, b.score, probabilities) if b.score is not None else {}
        loss_names = [m for m in ("brier_score", "log_loss") if m in want and m in la and m in lb]
        if loss_names:
            values = np.column_stack([la[m] for m in loss_names] + [lb[m] for m in loss_names])
    elif task == "multiclass":
        K = n_classes
        pattern = (y.astype(np.int64) * K + a.pred) * K + b.pred
        shape = (K, K, K)
    else:
        def qbins(v):
            return np.searchsorted(np.unique(np.quantile(v, np.linspace(0, 1, REG_BINS + 1)[1:-1])), v,
                                   side="right")

        width = REG_BINS + 1
        pattern = (qbins(y) * width + qbins(np.abs(a.pred - y))) * width + qbins(np.abs(b.pred - y))
        values = np.column_stack([_reg_sums(y, a.pred), _reg_sums(y, b.pred), y, y * y])
    cells = _make_cells(codes, pattern, values, G)
    reps, used = _cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    if task == "binary":
        dense = _dense(cells, reps["counts"], shape)  # (r, G+1, 2, qa, qb)

        def confusion(pos, tot, j):
            tp, flagged = pos[..., j:].sum(-1), tot[..., j:].sum(-1)
            npos, nn = pos.sum(-1), tot.sum(-1)
            return tp, flagged - tp, npos - tp, nn - npos - flagged + tp

        pos_a, tot_a = dense[:, :, 1].sum(axis=-1), dense.sum(axis=(2, 4))
        pos_b, tot_b = dense[:, :, 1].sum(axis=-2), dense.sum(axis=(2, 3))
        ma = _binary_counts_metrics(*confusion(pos_a, tot_a, ja))
        mb = _binary_counts_metrics(*confusion(pos_b, tot_b, jb))
        if "average_precision" in want and a.score is not None and b.score is not None:
            base = _dense(cells, cells.count[None, :], shape)[0]  # the data itself, binned
            oa = _binned_ap(base[:, 1].sum(axis=-1), base.sum(axis=(1, 3)))
            ob = _binned_ap(base[:, 1].sum(axis=-2), base.sum(axis=(1, 2)))
            with np.errstate(invalid="ignore"):
                ma["average_precision"] = _binned_ap(pos_a, tot_a) + (exact_a["average_precision"] - oa)
                mb["average_precision"] = _binned_ap(pos_b, tot_b) + (exact_b["average_precision"] - ob)
        if loss_names:
            n_g = dense.sum(axis=(2, 3, 4))
            sums = _with_overall(reps["sums"])
            k = len(loss_names)
            with np.errstate(divide="ignore", invalid="ignore"):
                for i, name in enumerate(loss_names):
                    ma[name] = sums[..., i] / n_g
                    mb[name] = sums[..., k + i] / n_g
    elif task == "multiclass":
        dense = _dense(cells, reps["counts"], shape)  # (r, G+1, K(y), K(a), K(b))
        ma = _multi_metrics(dense.sum(axis=-1))
        mb = _multi_metrics(dense.sum(axis=-2))
    else:
        sums = _with_overall(reps["sums"])
        n_g = _with_overall(_group_totals(cells, reps["counts"]))
        ma = _reg_metrics(sums[..., 0:3], sums[..., 6], sums[..., 7], n_g)
        mb = _reg_metrics(sums[..., 3:6], sums[..., 6], sums[..., 7], n_g)
    return {m: (np.asarray(ma[m], float), np.asarray(mb[m], float)) for m in want if m in ma and m in mb}, used


# ---------------------------------------------------------------------------------------------
# the comparison
# ---------------------------------------------------------------------------------------------

ALL_ROWS = "all rows"
DIFFERENCE_COLUMNS = ["segment", "n", "model", "reference", "metric", "value_reference", "value_model",
                      "difference", "low", "high", "p_value", "method", "winner"]
ROBUSTNESS_COLUMNS = ["model", "metric", "overall", "worst_segment", "worst_segment_value", "best_segment_value",
                      "segment_spread", "segment_sd", "worst_period", "worst_period_value", "period_spread",
                      "n_periods"]
VALUE_COLUMNS = ["model", "point", "threshold", "flagged", "value", "low", "high", "value_vs_flag_none",
                 "difference", "diff_low", "diff_high"]


@dataclass(frozen=True, eq=False)
class Comparison:
    """Every model side by side; built by :func:`compare_models`. All tables are tidy and long.

    ``overall`` / ``segments`` / ``over_time``: each model's metrics (``model, metric, value, low, high,
    n, ...``); ``differences``: every challenger against the reference, overall (``segment ==
    "all rows"``) and per segment, with paired 95% intervals and the winner; ``robustness``: worst
    segment, spread across segments and across time periods; ``value``: money under one cost model.
    """

    task: str
    models: tuple[str, ...]
    reference: str
    metrics: tuple[str, ...]
    threshold: float
    segment: str | None
    overall: pd.DataFrame
    segments: pd.DataFrame | None
    differences: pd.DataFrame
    robustness: pd.DataFrame
    over_time: pd.DataFrame | None
    value: pd.DataFrame | None
    n_rows: int
    n_boot: int
    notes: list[str] = field(default_factory=list)
    period: str | None = None

    def wins(self, metric: str | None = None) -> pd.DataFrame:
        """Where each model wins: one row per segment, one column per metric, the winner's name.

        "no clear winner" when the paired 95% interval includes 0.
        """
        d = self.differences
        if metric is not None:
            d = d[d["metric"] == metric]
        if d.empty:
            return pd.DataFrame(columns=["segment"])
        if len(self.models) > 2:  # one column per challenger and metric
            d = d.assign(metric=d["metric"] + " (" + d["model"] + ")")
        out = d.pivot_table(index="segment", columns="metric", values="winner", aggfunc="first", sort=False)
        return out.reset_index().rename_axis(columns=None)


def _direction(metric: str) -> str:
    from .metrics import METRICS

    return METRICS[metric].direction


def _winner(metric, lo, hi, a_name, b_name, abs_lo=None, abs_hi=None) -> str:
    d = _direction(metric)
    if d == "zero" and abs_lo is not None:
        lo, hi, d = abs_lo, abs_hi, "lower"
    if d not in ("higher", "lower") or pd.isna(lo) or pd.isna(hi):
        return "no clear winner"
    if lo > 0:
        return b_name if d == "higher" else a_name
    if hi < 0:
        return a_name if d == "higher" else b_name
    return "no clear winner"


def _time_codes(dataset: Dataset, keep: np.ndarray, freq: str | None):
    col = dataset.roles.time
    if not col or col not in dataset.frame.columns:
        return None, None, None
    t = dataset.frame[col][keep]
    if not pd.api.types.is_datetime64_any_dtype(t) or t.notna().sum() < 2:
        return None, None, None
    if freq is None:
        span = (t.max() - t.min()) / pd.Timedelta(days=1)
        freq = "M" if span >= 90 else "W" if span >= 21 else "D"
    if freq not in ("D", "W", "M"):
        raise InputError(f"time period must be D, W or M, not {freq!r}")
    periods = t.dt.to_period(freq)
    codes, labels = pd.factorize(periods, sort=True)
    fmt = {"M": "%Y-%m", "W": "week of %Y-%m-%d", "D": "%Y-%m-%d"}[freq]
    return codes.astype(np.int64), [x.start_time.strftime(fmt) for x in labels], freq


def compare_models(dataset: Dataset, score_columns=None, *, threshold: float = 0.5, metrics=None,
                   segment: str | None = None, costs: CostModel | None = None, scale: str | None = None,
                   baseline: bool | None = None, time_freq: str | None = None, n_bins: int = 5, top_k: int = 20,
                   min_group_size: int = 30, n_boot: int = 1000, seed: int = 0,
                   time_budget_s: float | None = 2.0) -> Comparison:
    """Every model in the file side by side, overall and per segment, with paired tests against the first.

    Parameters
    ----------
    score_columns: the models (default :func:`model_columns`); the first is the reference. Binary: score
        columns; multiclass: predicted-class columns; regression: prediction columns.
    threshold: binary decision threshold, the same for every model.
    metrics: default :func:`compare_metrics`.
    segment: a column to compare per value of (where each model wins; robustness).
    costs: a cost model (binary): each model's value at the threshold and at its own best threshold.
    baseline: add a stand-in for "no model" (default: when there is only one model).
    time_freq: "D", "W" or "M" periods for robustness over time (default from the span).

    Returns a :class:`Comparison`.
    """
    from .metrics import compute_metrics
    from .slicing import segment_codes

    task = dataset.task
    columns = list(score_columns) if score_columns else model_columns(dataset)
    if not columns:
        raise InputError("no model column to compare; pick the score or prediction column in the sidebar")
    if len(set(columns)) != len(columns):
        raise InputError("each model column may appear only once")
    if baseline is None:
        baseline = len(columns) == 1
    models, keep, classes, notes = _build_models(dataset, columns, threshold=threshold, baseline=baseline)
    if len(models) < 2:
        raise InputError("comparing needs two models; pick other models' score columns in the sidebar")
    y = dataset.y[keep]
    probabilities = task == "binary" and all(m.score is not None and m.score.min() >= 0 and m.score.max() <= 1
                                             for m in models)
    allowed = compare_metrics(dataset, probabilities=probabilities)
    if task == "binary" and any(m.score is None for m in models):
        allowed = [m for m in allowed if m not in ("roc_auc", "average_precision", "brier_score", "log_loss")]
    metrics = [m for m in (metrics or allowed) if m in allowed]
    if not metrics:
        raise InputError(f"none of the metrics can be compared for this task; choose from {', '.join(allowed)}")

    if segment:
        seg = segment_codes(dataset, [segment], n_bins=n_bins, top_k=top_k)
        raw_codes = seg.codes[keep]
        present, codes = np.unique(raw_codes, return_inverse=True)
        labels = [str(v) for v in seg.labels[segment].to_numpy()[present]]
        codes = codes.astype(np.int64)
    else:
        codes, labels = np.zeros(len(y), dtype=np.int64), []
    G = max(len(labels), 1)
    seg_names = [f"{segment} = {v}" for v in labels] if segment else []

    def evaluate_model(m: _Model, grp, n_groups, intervals):
        return compute_metrics(task, y=y, **_arrays(task, m, classes), codes=grp, n_groups=n_groups,
                               threshold=threshold, metrics=metrics, intervals=intervals, seed=seed,
                               n_boot=n_boot, time_budget_s=0.2 if time_budget_s is not None else None,
                               min_group_size=min_group_size)

    cols = ["model", "metric", "value", "low", "high", "n", "positives", "note"]
    overall = pd.concat([evaluate_model(m, None, None, True).assign(model=m.name) for m in models],
                        ignore_index=True)[cols]
    seg_table = None
    if segment:
        parts = []
        for m in models:
            t = evaluate_model(m, codes, G, True).assign(model=m.name)
            t.insert(0, segment, np.asarray(labels, dtype=object)[t["group"].to_numpy()])
            t.insert(1, "segment", np.asarray(seg_names, dtype=object)[t["group"].to_numpy()])
            parts.append(t)
        seg_table = pd.concat(parts, ignore_index=True)[[segment, "segment"] + cols + ["small"]]

    def exact(m: _Model) -> dict:
        """metric -> values per group then overall (G + 1)."""
        o = overall[overall["model"] == m.name].set_index("metric")["value"]
        if segment:
            s = seg_table[seg_table["model"] == m.name]
            return {k: np.append(s[s["metric"] == k]["value"].to_numpy(), o[k]) for k in metrics}
        return {k: np.array([o[k], o[k]]) for k in metrics}

    ref = models[0]
    ex_ref = exact(ref)
    diff_rows = []
    used_all = []
    names = seg_names + [ALL_ROWS] if segment else [ALL_ROWS]
    sizes = np.append(np.bincount(codes, minlength=G), len(y)) if segment else np.array([len(y)])
    for mi, ch in enumerate(models[1:], start=1):
        ex_ch = exact(ch)
        reps, used = _paired_bootstrap(task, y, ref, ch, codes, G, threshold=threshold, metrics=metrics,
                                       probabilities=probabilities, n_classes=len(classes), exact_a=ex_ref,
                                       exact_b=ex_ch, n_boot=n_boot, seed=seed + mi, time_budget_s=time_budget_s)
        if used:
            used_all.append(used)
        delong = None
        if "roc_auc" in metrics:
            per_group = delong_paired(y, ref.score, ch.score, codes, G) if segment else None
            whole = delong_paired(y, ref.score, ch.score)
            delong = pd.concat([per_group, whole], ignore_index=True) if segment else whole
        for metric in metrics:
            va, vb = ex_ref[metric], ex_ch[metric]
            if segment is None:
                va, vb = va[1:], vb[1:]
            if metric == "roc_auc":
                lo, hi, p = delong["low"].to_numpy(), delong["high"].to_numpy(), delong["p_value"].to_numpy()
                method = "DeLong"
                abs_lo = abs_hi = [None] * len(names)
            else:
                ra, rb = reps[metric]
                if segment is None:
                    ra, rb = ra[:, -1:], rb[:, -1:]
                d = rb - ra
                lo, hi = percentile_interval(d)
                p = bootstrap_p_value(vb - va, d)
                method = "paired bootstrap"
                abs_lo, abs_hi = percentile_interval(np.abs(rb) - np.abs(ra))
            for i, name in enumerate(names):
                diff_rows.append({"segment": name, "n": int(sizes[i]), "model": ch.name, "reference": ref.name,
                                  "metric": metric, "value_reference": va[i], "value_model": vb[i],
                                  "difference": vb[i] - va[i], "low": lo[i], "high": hi[i], "p_value": p[i],
                                  "method": method,
                                  "winner": _winner(metric, lo[i], hi[i], ref.name, ch.name, abs_lo[i], abs_hi[i])})
    differences = pd.DataFrame(diff_rows, columns=DIFFERENCE_COLUMNS)
    # overall first, then segments (largest first)
    differences["_o"] = (differences["segment"] != ALL_ROWS).astype(int)
    differences = differences.sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)

    # robustness over time
    tcodes, tlabels, freq = _time_codes(dataset, keep, time_freq)
    over_time = None
    if tcodes is not None:
        ok = tcodes >= 0
        parts = []
        for m in models:
            sub = _Model(m.name, None if m.score is None else m.score[ok], m.pred[ok])
            t = compute_metrics(task, y=y[ok], **_arrays(task, sub, classes), codes=tcodes[ok],
                                n_groups=len(tlabels), threshold=threshold, metrics=metrics, intervals=False)
            t.insert(0, "period", np.asarray(tlabels, dtype=object)[t["group"].to_numpy()])
            parts.append(t.assign(model=m.name)[["period", "model", "metric", "value", "n"]])
        over_time = pd.concat(parts, ignore_index=True)
    robustness = _robustness(models, metrics, overall, seg_table, over_time, min_group_size)

    value = None
    if costs is not None and task == "binary" and all(m.score is not None for m in models):
        value = _value_table(dataset, keep, models, costs, threshold=threshold, scale=scale, n_boot=n_boot,
                             seed=seed, time_budget_s=time_budget_s)
    return Comparison(task=task, models=tuple(m.name for m in models), reference=ref.name, metrics=tuple(metrics),
                      threshold=float(threshold), segment=segment, overall=overall, segments=seg_table,
                      differences=differences, robustness=robustness, over_time=over_time, value=value,
                      n_rows=int(len(y)), n_boot=min(used_all) if used_all else 0, notes=notes, period=freq)


def _worst(values: np.ndarray, labels: np.ndarray, direction: str):
    """(label, value) of the worst entry in the metric's bad direction; (None, NaN) when undefined."""
    ok = ~np.isnan(values)
    if not ok.any() or direction == "none":
        return None, np.nan
    v = values[ok]
    key = {"higher": v, "lower": -v, "zero": -np.abs(v)}[direction]
    i = int(np.argmin(key))
    return labels[ok][i], float(v[i])


def _robustness(models, metrics, overall, seg_table, over_time, min_size) -> pd.DataFrame:
    over = overall.set_index(["model", "metric"])["value"]
    segs = dict(iter(seg_table[seg_table["n"] >= min_size].groupby(["model", "metric"], sort=False))) \
        if seg_table is not None else {}
    times = dict(iter(over_time[over_time["n"] >= min_size].groupby(["model", "metric"], sort=False))) \
        if over_time is not None else {}
    directions = {m: _direction(m) for m in metrics}
    rows = []
    for m in models:  # a handful of models x metrics; every table is already aggregated
        for metric in metrics:
            d = directions[metric]
            row = {"model": m.name, "metric": metric, "overall": float(over.get((m.name, metric), np.nan))}
            if seg_table is not None:
                s = segs.get((m.name, metric), seg_table.iloc[:0])
                vals = s["value"].to_numpy(dtype=float)
                name, wv = _worst(vals, s["segment"].to_numpy(dtype=object), d)
                good = vals[~np.isnan(vals)]
                best = None
                if len(good) and d != "none":
                    best = {"higher": good.max(), "lower": good.min(), "zero": good[np.argmin(np.abs(good))]}[d]
                row.update({"worst_segment": name, "worst_segment_value": wv,
                            "best_segment_value": np.nan if best is None else float(best),
                            "segment_spread": float(good.max() - good.min()) if len(good) else np.nan,
                            "segment_sd": float(good.std(ddof=1)) if len(good) > 1 else np.nan})
            if over_time is not None:
                t = times.get((m.name, metric), over_time.iloc[:0])
                vals = t["value"].to_numpy(dtype=float)
                name, wv = _worst(vals, t["period"].to_numpy(dtype=object), d)
                good = vals[~np.isnan(vals)]
                row.update({"worst_period": name, "worst_period_value": wv,
                            "period_spread": float(good.max() - good.min()) if len(good) else np.nan,
                            "n_periods": int(len(good))})
            rows.append(row)
    return pd.DataFrame(rows, columns=ROBUSTNESS_COLUMNS)


def _value_table(dataset, keep, models, costs, *, threshold, scale, n_boot, seed, time_budget_s) -> pd.DataFrame:
    """Each model's money at the shared threshold and at its own best threshold, paired against the reference."""
    factor, _ = scale_factor(dataset, scale)
    g0 = row_gains(dataset, costs)
    terms = {k: v[keep] for k, v in g0.terms.items()}
    y = g0.y[keep]
    specs = []
    for m in models:
        g = _gains_from_terms(y, m.score, terms)
        ex = _exact(g)
        vals = _threshold_values(ex.keep, ex.flag)
        j = len(vals) - 1 - int(np.argmax(vals[::-1]))
        t_best = _cut_threshold(ex.cuts, j)
        for point, t in ((f"at threshold {threshold:g}", threshold), ("at its best threshold", t_best)):
            specs.append((m.name, point, t, _decisions(m.score, t)))
    g = _gains_from_terms(y, models[0].score, terms)
    money = np.column_stack([_money(g, d) for *_, d in specs])
    pattern = y.astype(np.int64)
    for i, (*_, d) in enumerate(specs):
        pattern |= d.astype(np.int64) << (i + 1)
    cells = _make_cells(np.zeros(len(y), np.int64), pattern, np.column_stack([money, g.keep]), 1)
    reps, _ = _cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    sums = reps["sums"][:, 0, :]
    values = money.sum(axis=0)
    none_v = g.keep.sum()
    rows = []
    for i, (name, point, t, d) in enumerate(specs):
        ref_i = i % 2  # the reference's column for the same point
        lo, hi = percentile_interval(sums[:, i])
        dlo, dhi = percentile_interval(sums[:, i] - sums[:, ref_i]) if i >= 2 else (np.nan, np.nan)
        rows.append({"model": name, "point": point, "threshold": t, "flagged": int(d.sum()), "value": values[i],
                     "low": float(lo), "high": float(hi), "value_vs_flag_none": values[i] - none_v,
                     "difference": values[i] - values[ref_i] if i >= 2 else np.nan, "diff_low": float(dlo),
                     "diff_high": float(dhi)})
    out = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    money_cols = ["value", "low", "high", "value_vs_flag_none", "difference", "diff_low", "diff_high"]
    out[money_cols] = out[money_cols] * factor
    out.attrs.update({"scale": scale, "factor": factor, "costs": costs.describe()})
    return out


# ---------------------------------------------------------------------------------------------
# words and the decision table
# ---------------------------------------------------------------------------------------------


def _fmt(metric: str, v) -> str:
    from .narrative import format_value

    return format_value(metric, v)


def _signed(metric: str, v) -> str:
    from .narrative import PERCENT_METRICS

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if metric in PERCENT_METRICS and metric not in ("roc_auc", "average_precision", "r2"):
        return f"{100 * v:+.1f} points"
    return f"{v:+.3f}" if abs(v) < 1000 else f"{v:+,.0f}"


def comparison_summary(comparison: Comparison, *, unit: str = "") -> list[str]:
    """Plain sentences: the headline metric's difference, where the challenger is clearly worse, the money.

    One or two sentences per challenger; user text (column and segment names) appears as is.
    """
    from .metrics import METRICS

    c = comparison
    out = []
    head = c.metrics[0]
    label = METRICS[head].label
    d = c.differences
    for model in c.models[1:]:
        r = d[(d["model"] == model) & (d["metric"] == head) & (d["segment"] == ALL_ROWS)].iloc[0]
        verdict = ("better" if r["winner"] == model else "worse" if r["winner"] == c.reference
                   else "not clearly different")
        out.append(f"{model} against {c.reference}: {label} {_fmt(head, r['value_model'])} vs "
                   f"{_fmt(head, r['value_reference'])}, a difference of {_signed(head, r['difference'])} "
                   f"(95% interval {_signed(head, r['low'])} to {_signed(head, r['high'])}, {r['method']}): "
                   f"{verdict}.")
        # where the verdict turns: a better model that loses somewhere, a worse one that wins somewhere
        against = c.reference if verdict == "better" else model if verdict == "worse" else None
        segs = d[(d["model"] == model) & (d["segment"] != ALL_ROWS)]
        segs = segs[segs["winner"] == against] if against else segs[segs["winner"] != "no clear winner"]
        if len(segs):
            w = segs.assign(_a=segs["difference"].abs()).sort_values("_a", ascending=False).iloc[0]
            word = "worse" if w["winner"] == c.reference else "better"
            lead = "But" if against else "Still,"
            out.append(f"{lead} {model} is clearly {word} on {w['segment']}: {METRICS[w['metric']].label} "
                       f"{_fmt(w['metric'], w['value_model'])} vs {_fmt(w['metric'], w['value_reference'])} "
                       f"({_signed(w['metric'], w['difference'])}).")
    if c.value is not None:
        best = c.value[c.value["point"] == "at its best threshold"]
        top = best.loc[best["value"].idxmax()]
        per = {"month": " per month", "year": " per year"}.get(c.value.attrs.get("scale") or "", "")
        out.append(f"Under the same cost model, {top['model']} is worth the most at its best threshold "
                   f"({top['threshold']:g}): {format_money(top['value_vs_flag_none'], unit=unit)}{per} against "
                   "flagging nothing.")
    return out


def _headline(c: Comparison) -> str:
    prefer = {"binary": ["roc_auc", "recall"], "multiclass": ["accuracy"], "regression": ["mae"]}[c.task]
    return next((m for m in prefer if m in c.metrics), c.metrics[0])


def decision_numbers(comparison: Comparison, *, unit: str = "") -> pd.DataFrame:
    """The numbers of the decision table: one row per model (``option``), one column per criterion (text).

    Metrics with their 95% intervals, the headline metric's worst segment, its spread across
    segments and across time periods, and the value under the cost model when there is one.
    """
    from .metrics import METRICS
    from .narrative import format_cell

    c = comparison
    rows = []
    head = _headline(c)
    for model in c.models:
        row = {"option": model}
        o = c.overall[c.overall["model"] == model].set_index("metric")
        for metric in c.metrics:
            r = o.loc[metric]
            at = c.task == "binary" and metric in _CONFUSION_BINARY
            label = METRICS[metric].label + (f" at {c.threshold:g}" if at else "")
            row[label] = format_cell(metric, {"value": r["value"], "low": r["low"], "high": r["high"]})
        rb = c.robustness[(c.robustness["model"] == model) & (c.robustness["metric"] == head)]
        if len(rb):
            rb = rb.iloc[0]
            hl = METRICS[head].label
            if c.segment:
                row[f"Worst segment ({hl})"] = (f"{rb['worst_segment']}: {_fmt(head, rb['worst_segment_value'])}"
                                                if rb["worst_segment"] is not None else "n/a")
                row[f"Spread across segments ({hl})"] = _fmt(head, rb["segment_spread"]).lstrip("+")
            if c.over_time is not None:
                row[f"Spread across time periods ({hl})"] = _fmt(head, rb["period_spread"]).lstrip("+")
                row[f"Worst period ({hl})"] = (f"{rb['worst_period']}: {_fmt(head, rb['worst_period_value'])}"
                                               if rb["worst_period"] is not None else "n/a")
        if c.value is not None:
            per = {"month": " per month", "year": " per year"}.get(c.value.attrs.get("scale") or "", "")
            v = c.value[(c.value["model"] == model) & (c.value["point"] == "at its best threshold")].iloc[0]
            row[f"Worth vs flagging nothing{per} (best threshold)"] = (
                f"{format_money(v['value_vs_flag_none'], unit=unit)} at {v['threshold']:g}")
        rows.append(row)
    return pd.DataFrame(rows)


def design_rows_template(options) -> pd.DataFrame:
    """Empty design-document rows to fill in: one row per option, one column per :data:`DESIGN_CRITERIA`.

    >>> design_rows_template(["a", "b"]).columns.tolist()[:2]
    ['option', 'Cost to build and run']
    """
    return pd.DataFrame({"option": list(options), **{c: [""] * len(list(options)) for c in DESIGN_CRITERIA}})


def decision_table_markdown(numbers: pd.DataFrame, design_rows: pd.DataFrame | None = None, *,
                            title: str = "Decision table", summary=(), assumptions=()) -> str:
    r"""The design-document decision table in Markdown: criteria as rows, options as columns.

    ``numbers`` (from :func:`decision_numbers`) and ``design_rows`` (the filled-in rows, one per
    option) are joined on ``option``; options only in ``design_rows`` (e.g. "buy a vendor model")
    get "—" for the numbers. Every cell, including the user's text, is escaped for Markdown.

    >>> nums = pd.DataFrame({"option": ["m1"], "ROC AUC": ["0.9"]})
    >>> rows = pd.DataFrame({"option": ["m1", "rule"], "Notes": ["ok", "[link](http://x)"]})
    >>> print(decision_table_markdown(nums, rows, title="T"))
    # T
    <BLANKLINE>
    | Criterion | m1 | rule |
    |---|---|---|
    | ROC AUC | 0\.9 | — |
    | Notes | ok | \[link\]\(http\://x\) |
    <BLANKLINE>
    """
    numbers = numbers.copy()
    numbers["option"] = numbers["option"].astype(str)
    options = list(numbers["option"])
    if design_rows is not None and len(design_rows):
        design_rows = design_rows.copy()
        design_rows["option"] = design_rows["option"].fillna("").astype(str)
        design_rows = design_rows[design_rows["option"].str.strip() != ""]
        options += [o for o in design_rows["option"] if o not in options]
    criteria = [c for c in numbers.columns if c != "option"]
    table = numbers.set_index("option").reindex(options)
    if design_rows is not None and len(design_rows):
        filled = design_rows.drop_duplicates("option").set_index("option").reindex(options)
        for c in filled.columns:
            table[c] = filled[c]
            criteria.append(c)
    lines = [f"# {md_escape(title)}", ""]
    if summary:
        lines += [md_escape(s) for s in summary] + [""]
    lines.append("| Criterion | " + " | ".join(md_escape(o) for o in options) + " |")
    lines.append("|" + "|".join("---" for _ in range(len(options) + 1)) + "|")
    for c in criteria:
        cells = []
        for o in options:
            v = table.at[o, c] if c in table.columns else None
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                cells.append("—" if c not in DESIGN_CRITERIA else "")
            else:
                cells.append(md_escape(v))
        lines.append(f"| {md_escape(c)} | " + " | ".join(cells) + " |")
    if assumptions:
        lines += ["", "## Assumptions", ""] + [f"- {md_escape(a)}" for a in assumptions]
    return "\n".join(lines) + "\n"
