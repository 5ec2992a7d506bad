"""Curves and small tables behind the Overview charts, computed in vectorized passes.

Each function returns a small tidy DataFrame (a few hundred rows at most), whatever the
number of input rows, so charts never ship raw data to the browser.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.metrics.uncertainty import wilson_interval

__all__ = ["score_histogram", "roc_points", "pr_points", "calibration_table", "confusion_table",
           "residual_histogram", "predicted_vs_actual", "per_class_table", "thin_curve"]


def thin_curve(frame: pd.DataFrame, *, max_points: int = 400) -> pd.DataFrame:
    """Keep at most ``max_points`` rows, evenly spaced, always keeping the first and last.

    >>> len(thin_curve(pd.DataFrame({"x": range(1000)}), max_points=10))
    10
    """
    if len(frame) <= max_points:
        return frame.reset_index(drop=True)
    idx = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[idx].reset_index(drop=True)


def score_histogram(y: np.ndarray, score: np.ndarray, *, bins: int = 40, classes=("negative", "positive")) -> pd.DataFrame:
    """Counts of scores per bin and true class: ``bin_start, bin_end, true_class, rows, share``.

    ``share`` is the share of that class's rows in the bin, so rare positives stay visible.

    >>> score_histogram(np.array([0, 1, 1]), np.array([0.1, 0.8, 0.9]), bins=2)["rows"].tolist()
    [1, 0, 0, 2]
    """
    trace.count("score_histogram")
    lo, hi = float(np.min(score)), float(np.max(score))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, bins - 1)
    counts = np.bincount(idx * 2 + y.astype(np.int64), minlength=bins * 2).reshape(bins, 2)
    totals = counts.sum(axis=0)
    rows = []
    for k, name in enumerate(classes):
        share = counts[:, k] / totals[k] if totals[k] else np.zeros(bins)
        rows.append(pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "true_class": name,
                                  "rows": counts[:, k], "share": share}))
    return pd.concat(rows, ignore_index=True)


def _sorted_cumulative(y: np.ndarray, score: np.ndarray):
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order].astype(np.int64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    return s[last], tp, fp


def roc_points(y: np.ndarray, score: np.ndarray, *, max_points: int = 400) -> pd.DataFrame:
    """ROC curve ``threshold, false_positive_rate, true_positive_rate`` (scikit-learn's points, thinned).

    >>> roc_points(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))["true_positive_rate"].tolist()
    [0.0, 0.5, 0.5, 1.0, 1.0]
    """
    trace.count("roc_points")
    thr, tp, fp = _sorted_cumulative(y, score)
    p, n = max(tp[-1], 1), max(fp[-1], 1)
    out = pd.DataFrame({"threshold": np.r_[np.inf, thr], "false_positive_rate": np.r_[0.0, fp / n],
                        "true_positive_rate": np.r_[0.0, tp / p]})
    return thin_curve(out, max_points=max_points)


def pr_points(y: np.ndarray, score: np.ndarray, *, max_points: int = 400) -> pd.DataFrame:
    """Precision–recall curve ``threshold, recall, precision`` (one point per distinct score, thinned).

    >>> pr_points(np.array([0, 1, 1]), np.array([0.2, 0.9, 0.5]))["precision"].round(3).tolist()
    [1.0, 1.0, 0.667]
    """
    trace.count("pr_points")
    thr, tp, fp = _sorted_cumulative(y, score)
    p = max(tp[-1], 1)
    out = pd.DataFrame({"threshold": thr, "recall": tp / p, "precision": tp / (tp + fp)})
    return thin_curve(out, max_points=max_points)


def calibration_table(y: np.ndarray, score: np.ndarray, *, n_bins: int = 10, strategy: str = "uniform") -> pd.DataFrame:
    """Reliability table: mean score vs observed rate per score bin, with a Wilson interval.

    ``strategy="uniform"`` uses equal-width bins over [0, 1] (scikit-learn's default, and the
    readable choice when positives are rare); ``"quantile"`` uses equal-count bins. Empty bins
    are left out. Columns: ``bin, rows, mean_score, observed_rate, low, high``.

    >>> calibration_table(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.7, 0.9]), n_bins=2)["observed_rate"].tolist()
    [0.0, 1.0]
    """
    trace.count("calibration_table")
    if strategy == "quantile":
        edges = np.unique(np.quantile(score, np.linspace(0, 1, n_bins + 1)))
    else:
        edges = np.arange(n_bins + 1) / n_bins  # k / n: the decimal edge itself (linspace: 0.30000000000000004)
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0] + 1e-12])
    idx = np.clip(np.searchsorted(edges[1:-1], score, side="right"), 0, len(edges) - 2)
    k = len(edges) - 1
    rows = np.bincount(idx, minlength=k)
    pos = np.bincount(idx, weights=y, minlength=k)
    ssum = np.bincount(idx, weights=score, minlength=k)
    keep = rows > 0
    low, high = wilson_interval(pos[keep], rows[keep])
    return pd.DataFrame({"bin": np.arange(k)[keep], "rows": rows[keep], "mean_score": ssum[keep] / rows[keep],
                         "observed_rate": pos[keep] / rows[keep], "low": low, "high": high})


def confusion_table(y: np.ndarray, pred: np.ndarray, classes, *, max_classes: int = 20) -> pd.DataFrame:
    """Confusion counts in long form: ``actual, predicted, rows, share_of_actual``.

    With more than ``max_classes`` classes, the ``max_classes - 1`` most frequent (as truth or as
    prediction) are kept and the rest folded into one ``other (N classes)`` class, so the table and its
    chart stay readable (and small) for files with thousands of classes.

    >>> confusion_table(np.array([0, 1, 1]), np.array([0, 0, 1]), ["no", "yes"])["rows"].tolist()
    [1, 0, 1, 1]
    >>> confusion_table(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]), ["a", "b", "c"], max_classes=2)["actual"].unique().tolist()
    ['b', 'other (2 classes)']
    """
    y, pred = y.astype(np.int64), pred.astype(np.int64)
    names = [str(c) for c in classes]
    k = len(names)
    if k > max_classes:
        seen = np.bincount(y, minlength=k) + np.bincount(pred, minlength=k)
        keep = np.sort(np.argsort(-seen, kind="stable")[: max_classes - 1])
        remap = np.full(k, len(keep), dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        names = [names[i] for i in keep] + [f"other ({k - len(keep)} classes)"]
        y, pred, k = remap[y], remap[pred], len(names)
    counts = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    actual_totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, actual_totals, out=np.zeros_like(counts, dtype=float), where=actual_totals > 0)
    a, p = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    labels = np.asarray(names, dtype=object)
    return pd.DataFrame({"actual": labels[a.ravel()], "predicted": labels[p.ravel()], "rows": counts.ravel(),
                         "share_of_actual": share.ravel()})


def per_class_table(y: np.ndarray, pred: np.ndarray, classes) -> pd.DataFrame:
    """Multiclass one-vs-rest table: ``class, support, predicted, precision, recall, f1`` with Wilson intervals.

    >>> per_class_table(np.array([0, 1, 1]), np.array([0, 0, 1]), ["a", "b"])["recall"].tolist()
    [1.0, 0.5]
    """
    k = len(classes)
    y, pred = y.astype(np.int64), pred.astype(np.int64)
    tp = np.bincount(y, weights=(y == pred), minlength=k).astype(float)
    support = np.bincount(y, minlength=k).astype(float)
    predicted = np.bincount(pred, minlength=k).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), np.nan)
    plo, phi = wilson_interval(tp, predicted)
    rlo, rhi = wilson_interval(tp, support)
    return pd.DataFrame({"class": [str(c) for c in classes], "support": support.astype(int),
                         "predicted": predicted.astype(int), "precision": precision, "precision_low": plo,
                         "precision_high": phi, "recall": recall, "recall_low": rlo, "recall_high": rhi, "f1": f1})


def residual_histogram(y: np.ndarray, pred: np.ndarray, *, bins: int = 50) -> pd.DataFrame:
    """Histogram of residuals (prediction minus truth): ``bin_start, bin_end, rows``.

    The range is clipped to the 0.5–99.5% quantiles so one outlier cannot flatten the chart;
    the clipped rows land in the end bins.

    >>> residual_histogram(np.array([1.0, 2.0]), np.array([1.0, 3.0]), bins=2)["rows"].tolist()
    [1, 1]
    """
    r = pred - y
    lo, hi = np.quantile(r, [0.005, 0.995])
    if hi <= lo:
        lo, hi = float(r.min()) - 0.5, float(r.max()) + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    idx = np.clip(np.searchsorted(edges, r, side="right") - 1, 0, bins - 1)
    return pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "rows": np.bincount(idx, minlength=bins)})


def predicted_vs_actual(y: np.ndarray, pred: np.ndarray, *, bins: int = 40) -> pd.DataFrame:
    """A 2-D histogram of predicted vs actual values: ``actual, predicted, rows`` (bin centres).

    >>> int(predicted_vs_actual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), bins=3)["rows"].sum())
    3
    """
    lo = float(np.quantile(np.r_[y, pred], 0.001))
    hi = float(np.quantile(np.r_[y, pred], 0.999))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    iy = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, bins - 1)
    ip = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, bins - 1)
    counts = np.bincount(iy * bins + ip, minlength=bins * bins)
    nz = np.flatnonzero(counts)
    return pd.DataFrame({"actual": centres[nz // bins], "predicted": centres[nz % bins], "rows": counts[nz]})
