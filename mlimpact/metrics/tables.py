"""Binary metrics from an engine's tables: the memory path's cells and runs, counted where the data lives.

:func:`metrics_from_tables` turns one grouping's :class:`mlimpact.engine.tables.BinaryTables` into the
cells of :mod:`mlimpact.metrics.binary_cells` and the runs of :mod:`mlimpact.engine.runs`, then runs the
very same code as :func:`mlimpact.metrics.compute_metrics` (``binary_from_cells``). With the score as
the key (few enough distinct scores) every value, Wilson and DeLong interval and test equals the memory
path's, and the bootstrap draws from the same cells with the same seed. With binned scores, ROC AUC and
average precision carry a ``max_error`` column: the largest possible distance to the exact value.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mlimpact.engine import binning_error, rank_statistics_from_runs
from mlimpact.engine.dataset import global_keys
from mlimpact.engine.multiclass_tables import MulticlassTables
from mlimpact.engine.regression_tables import RegressionTables
from mlimpact.engine.tables import BinaryTables
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics.binary import binary_from_cells, binary_plan
from mlimpact.metrics.binary_cells import _Cells
from mlimpact.metrics.compute import _assemble
from mlimpact.metrics.evaluate import metric_names
from mlimpact.metrics.multiclass import ClassCounts, multiclass_from_counts
from mlimpact.metrics.registry import METRICS, metrics_for_task
from mlimpact.metrics.regression import RegressionStats, regression_from_stats

__all__ = ["metrics_from_tables", "losses_for_range", "regression_stats_from_tables", "class_counts_from_tables",
           "engine_keys", "default_engine_metrics"]


def losses_for_range(lo: float, hi: float) -> tuple[str, ...]:
    """The losses the engine should sum: log loss and Brier score need probabilities in [0, 1].

    >>> losses_for_range(0.0, 1.0), losses_for_range(-2.0, 3.0)
    (('log_loss', 'brier_score'), ())
    """
    return ("log_loss", "brier_score") if lo >= 0.0 and hi <= 1.0 else ()


def engine_keys(eds):
    """The whole data's picture (:func:`mlimpact.engine.dataset.global_keys`); for a binary score, also the losses
    its range allows, kept on ``eds.spec`` for every later count. Once per engine dataset."""
    keys = global_keys(eds)
    if eds.task == "binary":
        eds.spec = replace(eds.spec, losses=losses_for_range(keys.lo, keys.hi))
    return keys


def default_engine_metrics(eds) -> list[str]:
    """:func:`mlimpact.metrics.evaluate.default_metrics` of an engine dataset (after :func:`engine_keys`)."""
    spec = eds.spec
    return metric_names(eds.task, has_score=eds.task == "binary", probabilities=bool(getattr(spec, "losses", ())),
                        has_proba=bool(getattr(spec, "probs", ())))


def _cells(tables: BinaryTables, codes: np.ndarray, G: int, threshold: float, losses) -> _Cells:
    keys = tables.keys
    nb = len(keys.coarse_edges) + 1
    C = nb * 2
    flat = codes.astype(np.int64) * C + (nb - 1 - tables.cell) * 2 + tables.y
    counts = np.bincount(flat, weights=tables.n, minlength=G * C).reshape(G, C)
    t_idx = int(np.searchsorted(keys.coarse_edges, threshold, side="left"))
    present = np.bincount(tables.cell, weights=tables.n, minlength=nb) > 0
    pred_asc = (np.arange(nb) > t_idx) & present
    sums = {name: tuple(np.bincount(flat, weights=a, minlength=G * C).reshape(G, C) for a in pair)
            for name, pair in tables.sums.items() if name in losses}  # the losses asked for, as in memory
    pos = np.where(tables.y == 1, tables.n, 0).astype(float)
    neg = np.where(tables.y == 1, 0, tables.n).astype(float)
    score_of_key = tables.key if tables.exact else keys.lo + tables.key * ((keys.hi - keys.lo) / max(tables.n_keys, 1))
    fine_bin = np.searchsorted(keys.fine_edges, score_of_key, side="right")
    nf = len(keys.fine_edges) + 1

    def fine():
        flat_f = codes.astype(np.int64) * (2 * nf) + fine_bin * 2 + tables.y
        return np.bincount(flat_f, weights=tables.n, minlength=G * 2 * nf).reshape(G, nf, 2)

    return _Cells(counts, nb, 2, pred_asc[::-1].copy(), sums=sums,
                  rank=lambda rest: rank_statistics_from_runs(codes, tables.key, pos, neg, G, rest=rest), fine=fine)


def metrics_from_tables(tables: BinaryTables, codes, n_groups: int, *, threshold: float = DEFAULT_THRESHOLD,
                        metrics=None, intervals: bool = True, seed: int = 0, n_boot: int = 1000,
                        time_budget_s: float | None = 0.1, compare_to_rest: bool = False,
                        min_group_size: int = 30) -> pd.DataFrame:
    """:func:`mlimpact.metrics.compute_metrics`'s table for a binary score, a multiclass task or a regression,
    from an engine's counts.

    ``codes``: the group (0..n_groups-1) of each row of ``tables``. Returns the same columns and
    ``attrs``, plus a ``max_error`` column (NaN but for ROC AUC and average precision) when the scores were binned.
    """
    codes = np.asarray(codes, dtype=np.int64)
    G = int(n_groups)
    task = "regression" if isinstance(tables, RegressionTables) else \
        "multiclass" if isinstance(tables, MulticlassTables) else "binary"
    want = [m for m in metrics_for_task(task) if metrics is None or m in metrics]
    opts = {"intervals": bool(intervals), "compare": bool(compare_to_rest), "seed": int(seed), "n_boot": int(n_boot),
            "time_budget_s": time_budget_s, "order": None}
    attrs: dict = {}
    if task == "multiclass":
        outs, n, positives = multiclass_from_counts(class_counts_from_tables(tables, codes, G), G, want=want,
                                                    opts=opts, attrs=attrs)
    elif task == "regression":
        outs, n, positives = regression_from_stats(regression_stats_from_tables(tables, codes, G), G, want=want,
                                                   opts=opts, attrs=attrs)
    else:
        keys = tables.keys
        outs, losses, boot, _bins, _ranked = binary_plan(want, (keys.lo, keys.hi), G, has_score=True,
                                                          intervals=intervals, compare=compare_to_rest)
        outs, n, positives = binary_from_cells(outs, _cells(tables, codes, G, threshold, losses), boot, opts, attrs)
    for o in outs.values():
        o.finish()
    table = _assemble(outs, want, G, n, positives, task=task, compare=bool(compare_to_rest),
                      min_group_size=min_group_size,
                      attrs={"task": task, "threshold": threshold if task == "binary" else None,
                             "n_boot": attrs.get("n_boot", 0), "seed": seed,
                             "interval_methods": {m: METRICS[m].interval for m in want}})
    if task == "binary" and not tables.exact:
        pos = np.where(tables.y == 1, tables.n, 0)
        neg = tables.n - pos
        errors = dict(zip(("roc_auc", "average_precision"), binning_error(codes, tables.key, pos, neg, G),
                          strict=True))
        group, metric = table["group"].to_numpy(), table["metric"].to_numpy()
        table["max_error"] = np.nan
        for name, err in errors.items():  # two metrics, each one vectorized assignment
            at = metric == name
            table.loc[at, "max_error"] = err[group[at]]
        table.attrs["score_bins"] = tables.n_keys
    return table


def regression_stats_from_tables(tables: RegressionTables, codes: np.ndarray, G: int) -> RegressionStats:
    """The memory path's :class:`RegressionStats` from an engine's cells."""
    keys = tables.keys
    C = (len(keys.y_edges) + 1) * (len(keys.e_edges) + 1)
    flat = codes * C + tables.cell
    cells = np.bincount(flat, weights=tables.n, minlength=G * C).reshape(G, C)
    cell_sums = {k: tuple(np.bincount(flat, weights=a, minlength=G * C).reshape(G, C) for a in pair)
                 for k, pair in tables.sums.items()}
    n = cells.sum(axis=1)
    s1, s2 = cell_sums["yc"][0].sum(axis=1), cell_sums["yc2"][0].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sst = np.where(n > 0, s2 - s1 * s1 / np.where(n > 0, n, 1), 0.0)
    sst = np.where(sst <= 1e-12 * np.maximum(s2, 1e-300), 0.0, sst)  # truth that does not vary: exactly 0
    return RegressionStats(n=n.astype(float), sums={k: cell_sums[k][0].sum(axis=1) for k in
                                                    ("mae", "mean_error", "rmse", "mape")},
                           zero_truth=np.bincount(codes, weights=tables.zeros, minlength=G) > 0, sst=sst, s1=s1, s2=s2,
                           cells=cells.astype(np.int64), cell_sums=cell_sums)


def class_counts_from_tables(tables: MulticlassTables, codes: np.ndarray, G: int) -> ClassCounts:
    """The memory path's :class:`ClassCounts` from an engine's counts (``codes``: each result row's group)."""
    K, w = tables.keys.K, tables.n
    base = codes * K

    def per_class(cls, weights):
        return np.bincount(base + cls, weights=weights, minlength=G * K).reshape(G, K)

    support, predicted = per_class(tables.y, w), per_class(tables.pred, w)
    tp = per_class(tables.y, w * (tables.y == tables.pred))
    flat = tables.y * K + tables.pred
    pairs = np.unique(flat)
    at = np.searchsorted(pairs, flat)
    pair_counts = np.bincount(codes * len(pairs) + at, weights=w, minlength=G * len(pairs))
    pair_counts = pair_counts.reshape(G, len(pairs)).astype(np.int64)
    if not tables.probabilities:
        return ClassCounts(K, tp, support, predicted, pairs, pair_counts)
    nb = len(tables.keys.loss_edges) + 1
    cell = codes * nb + tables.cell
    cells = tuple(np.bincount(cell, weights=a, minlength=G * nb).reshape(G, nb)
                  for a in (w, tables.shifted_sum, tables.shifted_sq))
    return ClassCounts(K, tp, support, predicted, pairs, pair_counts, True,
                       np.bincount(codes, weights=w * tables.hit, minlength=G),
                       np.bincount(codes, weights=tables.loss_sum, minlength=G),
                       (cells[0].astype(np.int64), *cells[1:], tables.keys.shifts))
