"""The metric registry and :func:`compute_metrics`: every metric for every group, with 95% intervals.

Metrics are functions of per-group sufficient statistics (:mod:`mlimpact.engine.memory`), so one group or
ten thousand cost one vectorized pass. Names and meanings follow scikit-learn; an undefined value is
NaN with a ``note`` saying why, never a crash and never a silent 0.

Interval methods (95%):

* ``wilson`` — proportions (accuracy, precision, recall, the rates, top-2 accuracy).
* ``delong`` — ROC AUC: DeLong's variance from the placement values, normal interval clipped to
  [0, 1] (Hanley–McNeil when a class has fewer than 2 rows).
* ``bootstrap`` — everything else: a seeded percentile bootstrap stratified by group (each group is
  resampled within itself, n_g rows out of n_g) done on per-group *cells* (see
  :func:`compute_metrics` for what each cell scheme is exact for and what it approximates).

The work is split by task: :mod:`mlimpact.metrics.binary`, :mod:`mlimpact.metrics.multiclass`,
:mod:`mlimpact.metrics.regression`; the registry lives in :mod:`mlimpact.metrics.registry` and the
shared pieces in :mod:`mlimpact.metrics.base` and :mod:`mlimpact.metrics.bootstrap`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.engine import as_codes
from mlimpact.errors import InputError
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics.base import (  # noqa: F401 - the bootstrap's settings, re-exported
    BOOT_LOSS_BINS,
    BOOT_REG_ERROR_BINS,
    BOOT_REG_Y_BINS,
    BOOT_SCORE_BINS,
    REST_AP_BINS,
)
from mlimpact.metrics.binary import _binary
from mlimpact.metrics.multiclass import (  # noqa: F401 - class_score_matrix is used by compare_paired
    _multiclass,
    class_score_matrix,
)
from mlimpact.metrics.registry import _BY_TASK, COLUMNS, METRICS, TASKS, Metric, metrics_for_task
from mlimpact.metrics.regression import _regression
from mlimpact.metrics.uncertainty import benjamini_hochberg

__all__ = ["Metric", "METRICS", "TASKS", "COLUMNS", "metrics_for_task", "compute_metrics"]


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
        if n and not _zero_one(y):
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


def _zero_one(y: np.ndarray) -> bool:
    """Whether every label is 0 or 1 (one pass; min/max for integers)."""
    if y.dtype == bool:
        return True
    if y.dtype.kind in "iu":
        return bool(y.min() >= 0 and y.max() <= 1)
    if y.dtype.kind == "f":
        return bool(((y == 0) | (y == 1)).all())
    return bool(np.isin(np.unique(y), [0, 1]).all())


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
    threshold: float = DEFAULT_THRESHOLD,
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
    order : optional precomputed ``np.argsort(score)`` or :class:`mlimpact.engine.memory.ScoreOrder`, to
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
    Hanley–McNeil variance of the rest (ROC AUC). Binary f1, average precision, log loss and Brier:
    z = difference / sqrt(Var_group + Var_rest), the variances in closed form under the bootstrap's
    own resampling (each group within itself; the rest as the sum of the other groups): delta method
    on the confusion cells (f1) and on the bootstrap's score-bin cells (average precision), sums of
    squares for the means. That is what the bootstrap's standard deviation estimates, without its
    Monte Carlo noise, so the p-values do not depend on ``intervals`` and ``intervals=False`` runs no
    bootstrap at all. Multiclass and regression: the rest is resampled too (the sum of the other
    groups' stratified replicates) and z = difference / bootstrap SD of the difference (so there a
    comparison runs the bootstrap even without intervals). The rest's average precision is computed
    from 256 score-quantile bins.

    Bootstrap schemes (percentile intervals, stratified by group): binary — cells of (10 score
    quantile bins with the threshold as an edge) x (label; or tp/fp/fn/tn when pred is given): exact
    for f1 in groups under 100 rows (larger groups draw each cell from a Poisson, tabulated or
    normal: the multinomial's moments to first order, see :mod:`mlimpact.metrics.bootstrap`); log loss and
    Brier exact in mean and variance (within-cell spread added as a normal term); average precision
    recomputed on binned scores and shifted to the exact value. Multiclass — the confusion matrix (exact for balanced accuracy, macro and weighted F1); log
    loss on 16 loss-quantile cells (as above). Regression — 4 x 16 (truth x error) quantile cells; mae,
    rmse, mean_error, mape exact in mean and variance of the resampled sums; r2 moves rows cell by cell
    (within-cell spread ignored). Multiclass and regression groups of 1,000 rows or more draw their
    cells from the normal approximation.

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
    n_rows = np.repeat(n, M).astype(np.int64)
    cols = {
        "group": np.repeat(np.arange(G, dtype=np.int64), M),
        "n": n_rows,
        "positives": np.repeat(positives, M).astype(float),
        "metric": np.tile(np.asarray(want, dtype=object), G),
        "value": value,
        "low": stack("low"),
        "high": stack("high"),
        "note": pd.Series(note, dtype=object),
    }
    if compare:
        q = benjamini_hochberg(p)
        diff = value - rest
        direction = np.tile(np.asarray([METRICS[m].direction for m in want], dtype=object), G)
        bad = np.where(direction == "higher", diff < 0,
                       np.where(direction == "lower", diff > 0,
                                np.where(direction == "zero", np.abs(value) > np.abs(rest), False)))
        untested = np.isnan(q)
        worse = pd.arrays.BooleanArray((q < 0.05) & bad & ~untested, untested)
        cols.update({"rest_value": rest, "difference": diff, "p_value": p, "q_value": q})
    else:
        worse = pd.arrays.BooleanArray(np.zeros(len(value), dtype=bool), np.ones(len(value), dtype=bool))
        cols.update({c: np.full(len(value), np.nan) for c in ("rest_value", "difference", "p_value", "q_value")})
    cols["significantly_worse"] = worse
    cols["small"] = n_rows < min_group_size
    df = pd.DataFrame(cols)
    df.attrs.update(attrs)
    return df[COLUMNS]
