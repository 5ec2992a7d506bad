"""Candidate models side by side, like a design document: metrics, paired differences, robustness, value.

Every model in the file (the score column plus ``roles.other_scores``: several score columns, or
several files joined on an id) is evaluated on the same rows. Differences against the first model
(the reference) are paired:

* ROC AUC — DeLong's test for two correlated AUCs (placement values of both models on the same rows),
  per segment in one vectorized pass;
* every other metric — a paired bootstrap of cells of (segment, label, score bins of both models),
  resampled once per replicate for both models (see :mod:`mlimpact.compare.paired`).

:func:`compare_models` returns a :class:`Comparison`; :func:`decision_table_markdown` exports its numbers
with the rows a person fills in (cost to build and run, maintenance, interpretability, likelihood of
success, notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact.compare.candidates import (
    ALL_ROWS,
    _arrays,
    _build_models,
    _Model,
    compare_metrics,
    model_columns,
)
from mlimpact.compare.paired import _paired_bootstrap, _value_table, delong_paired
from mlimpact.errors import InputError
from mlimpact.impact import CostModel
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import bootstrap_p_value, percentile_interval

__all__ = ["Comparison", "compare_models", "DIFFERENCE_COLUMNS", "ROBUSTNESS_COLUMNS"]

# ---------------------------------------------------------------------------------------------
# the comparison
# ---------------------------------------------------------------------------------------------

DIFFERENCE_COLUMNS = ["segment", "n", "model", "reference", "metric", "value_reference", "value_model",
                      "difference", "low", "high", "p_value", "method", "winner"]
ROBUSTNESS_COLUMNS = ["model", "metric", "overall", "worst_segment", "worst_segment_value", "best_segment_value",
                      "segment_spread", "segment_sd", "worst_period", "worst_period_value", "period_spread",
                      "n_periods"]


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
    from mlimpact.metrics import METRICS

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


def compare_models(dataset: Dataset, score_columns=None, *, threshold: float = DEFAULT_THRESHOLD, metrics=None,
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
    from mlimpact.metrics import compute_metrics
    from mlimpact.slices import segment_codes

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
