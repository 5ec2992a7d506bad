"""Candidate models side by side, like a design document: metrics, paired differences, robustness, value.

Every model in the file (the score column plus ``roles.other_scores``: several score columns, or
several files joined on an id) is evaluated on the same rows. Differences against the first model
(the reference) are paired:

* ROC AUC — DeLong's test for two correlated AUCs (placement values of both models on the same rows),
  per segment in one vectorized pass;
* every other metric — a paired bootstrap of cells of (segment, label, score bins of both models),
  resampled once per replicate for both models (see :mod:`mlimpact.compare.paired_bootstrap`).

The table of differences is built in :mod:`mlimpact.compare.differences`, robustness (worst segment,
spread across segments and periods) in :mod:`mlimpact.compare.robustness`.

:func:`compare_models` returns a :class:`Comparison`; :func:`decision_table_markdown` exports its numbers
with the rows a person fills in (cost to build and run, maintenance, interpretability, likelihood of
success, notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.compare.candidates import (
    _arrays,
    _build_models,
    _Model,
    compare_metrics,
    model_columns,
)
from mlimpact.compare.differences import DIFFERENCE_COLUMNS, _differences, _Groups
from mlimpact.compare.paired import _value_table
from mlimpact.compare.robustness import ROBUSTNESS_COLUMNS, _robustness
from mlimpact.engine.memory import score_order
from mlimpact.errors import InputError
from mlimpact.impact import CostModel
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import compute_metrics

__all__ = ["Comparison", "compare_models", "DIFFERENCE_COLUMNS", "ROBUSTNESS_COLUMNS", "PERIOD_FORMAT", "period_of",
           "exact_values"]

# ---------------------------------------------------------------------------------------------
# the comparison
# ---------------------------------------------------------------------------------------------

#: the columns of ``Comparison.overall`` (``Comparison.segments`` adds the segment before, ``small`` after)
_COLUMNS = ["model", "metric", "value", "low", "high", "n", "positives", "note"]


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


def _time_codes(dataset: Dataset, keep: np.ndarray, freq: str | None):
    col = dataset.roles.time
    if not col or col not in dataset.frame.columns:
        return None, None, None
    t = dataset.frame[col][keep]
    if not pd.api.types.is_datetime64_any_dtype(t) or t.notna().sum() < 2:
        return None, None, None
    freq = period_of(t.min(), t.max(), freq)
    periods = t.dt.to_period(freq)
    codes, labels = pd.factorize(periods, sort=True)
    return codes.astype(np.int64), [x.start_time.strftime(PERIOD_FORMAT[freq]) for x in labels], freq


#: how a period is named in the comparison's tables, by its first day
PERIOD_FORMAT = {"M": "%Y-%m", "W": "week of %Y-%m-%d", "D": "%Y-%m-%d"}


def period_of(first, last, freq: str | None) -> str:
    """The robustness periods: ``freq`` checked, or from the span (months from 90 days, weeks from 21, else days)."""
    if freq is None:
        span = (last - first) / pd.Timedelta(days=1)
        freq = "M" if span >= 90 else "W" if span >= 21 else "D"
    if freq not in PERIOD_FORMAT:
        raise InputError(f"time period must be D, W or M, not {freq!r}")
    return freq


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
    trace.count("compare_models")
    task = dataset.task
    models, keep, classes, notes = _models_to_compare(dataset, score_columns, threshold=threshold, baseline=baseline)
    y = dataset.y[keep]
    probabilities, metrics = _metrics_to_compare(dataset, models, metrics)
    groups = _segment_groups(dataset, segment, keep, n_bins=n_bins, top_k=top_k, n_rows=len(y))
    run = _Evaluation(task, y, classes, threshold, metrics, seed=seed, n_boot=n_boot, time_budget_s=time_budget_s,
                      min_group_size=min_group_size)
    overall = run.overall(models)
    seg_table = run.per_segment(models, groups) if segment else None
    exact = {m.name: run.exact(m.name, overall, seg_table) for m in models}
    differences, used_all = _differences(task, y, models, exact, groups, threshold=threshold, metrics=metrics,
                                         probabilities=probabilities, n_classes=len(classes), n_boot=n_boot,
                                         seed=seed, time_budget_s=time_budget_s)
    tcodes, tlabels, freq = _time_codes(dataset, keep, time_freq)
    over_time = None if tcodes is None else run.over_time(models, tcodes, tlabels)
    robustness = _robustness(models, metrics, overall, seg_table, over_time, min_group_size)
    value = None
    if costs is not None and task == "binary" and all(m.score is not None for m in models):
        value = _value_table(dataset, keep, models, costs, threshold=threshold, scale=scale, n_boot=n_boot,
                             seed=seed, time_budget_s=time_budget_s)
    return Comparison(task=task, models=tuple(m.name for m in models), reference=models[0].name,
                      metrics=tuple(metrics), threshold=float(threshold), segment=segment, overall=overall,
                      segments=seg_table, differences=differences, robustness=robustness, over_time=over_time,
                      value=value, n_rows=int(len(y)), n_boot=min(used_all) if used_all else 0, notes=notes,
                      period=freq)


def _models_to_compare(dataset: Dataset, score_columns, *, threshold: float, baseline: bool | None):
    """The models (at least two) on the rows all of them scored: (models, keep mask, classes, notes)."""
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
    return models, keep, classes, notes


def _metrics_to_compare(dataset: Dataset, models: list[_Model], metrics) -> tuple[bool, list[str]]:
    """(whether every model gives probabilities, the metrics asked for that can compare these models)."""
    task = dataset.task
    probabilities = task == "binary" and all(m.score is not None and m.score.min() >= 0 and m.score.max() <= 1
                                             for m in models)
    allowed = compare_metrics(dataset, probabilities=probabilities)
    if task == "binary" and any(m.score is None for m in models):
        allowed = [m for m in allowed if m not in ("roc_auc", "average_precision", "brier_score", "log_loss")]
    metrics = [m for m in (metrics or allowed) if m in allowed]
    if not metrics:
        raise InputError(f"none of the metrics can be compared for this task; choose from {', '.join(allowed)}")
    return probabilities, metrics


def _segment_groups(dataset: Dataset, segment: str | None, keep: np.ndarray, *, n_bins: int, top_k: int,
                    n_rows: int) -> _Groups:
    """The values of ``segment`` present on the kept rows, as groups; one group without a segment."""
    if not segment:
        return _Groups(segment, np.zeros(n_rows, dtype=np.int64), [])
    from mlimpact.slices import segment_codes  # on use: the slices package is not loaded with compare

    seg = segment_codes(dataset, [segment], n_bins=n_bins, top_k=top_k)
    raw_codes = seg.codes[keep]
    present, codes = np.unique(raw_codes, return_inverse=True)
    labels = [str(v) for v in seg.labels[segment].to_numpy()[present]]
    return _Groups(segment, codes.astype(np.int64), labels)


@dataclass(frozen=True, eq=False)
class _Evaluation:
    """Each model's metrics in one comparison: same rows, threshold, metrics and interval settings for all."""

    task: str
    y: np.ndarray
    classes: list
    threshold: float
    metrics: list[str]
    seed: int
    n_boot: int
    time_budget_s: float | None
    min_group_size: int

    orders: dict = field(default_factory=dict)  # each binary model's score sort, shared by its overall and segments

    def evaluate(self, m: _Model, codes=None, n_groups=None) -> pd.DataFrame:
        """:func:`mlimpact.metrics.compute_metrics` of one model, with intervals, over all rows or per group."""
        order = None
        if self.task == "binary" and m.score is not None:
            order = self.orders.get(m.name)
            if order is None:
                order = self.orders[m.name] = score_order(self.y, m.score)
        return compute_metrics(self.task, y=self.y, **_arrays(self.task, m, self.classes), codes=codes,
                               n_groups=n_groups, threshold=self.threshold, metrics=self.metrics, intervals=True,
                               seed=self.seed, n_boot=self.n_boot,
                               time_budget_s=0.2 if self.time_budget_s is not None else None,
                               min_group_size=self.min_group_size, order=order)

    def overall(self, models: list[_Model]) -> pd.DataFrame:
        """Every model's metrics over all rows: ``model, metric, value, low, high, n, positives, note``."""
        return pd.concat([self.evaluate(m).assign(model=m.name) for m in models], ignore_index=True)[_COLUMNS]

    def per_segment(self, models: list[_Model], groups: _Groups) -> pd.DataFrame:
        """Every model's metrics per segment: the segment's value and name, then as :meth:`overall`, then small."""
        segment = groups.segment
        parts = []
        for m in models:
            t = self.evaluate(m, groups.codes, groups.n_groups).assign(model=m.name)
            t.insert(0, segment, np.asarray(groups.labels, dtype=object)[t["group"].to_numpy()])
            t.insert(1, "segment", np.asarray(groups.segment_names, dtype=object)[t["group"].to_numpy()])
            parts.append(t)
        return pd.concat(parts, ignore_index=True)[[segment, "segment"] + _COLUMNS + ["small"]]

    def exact(self, name: str, overall: pd.DataFrame, seg_table: pd.DataFrame | None) -> dict:
        """metric -> values per group then overall (G + 1) of the model ``name``."""
        return exact_values(name, self.metrics, overall, seg_table)

    def over_time(self, models: list[_Model], tcodes: np.ndarray, tlabels: list[str]) -> pd.DataFrame:
        """Every model's metrics per time period (no intervals): ``period, model, metric, value, n``."""
        ok = tcodes >= 0
        parts = []
        for m in models:
            sub = _Model(m.name, None if m.score is None else m.score[ok], m.pred[ok])
            t = compute_metrics(self.task, y=self.y[ok], **_arrays(self.task, sub, self.classes), codes=tcodes[ok],
                                n_groups=len(tlabels), threshold=self.threshold, metrics=self.metrics,
                                intervals=False)
            t.insert(0, "period", np.asarray(tlabels, dtype=object)[t["group"].to_numpy()])
            parts.append(t.assign(model=m.name)[["period", "model", "metric", "value", "n"]])
        return pd.concat(parts, ignore_index=True)


def exact_values(name: str, metrics, overall: pd.DataFrame, seg_table: pd.DataFrame | None) -> dict:
    """metric -> values per group then overall (G + 1) of the model ``name``: the values the paired tests are
    centred on (the memory path's comparison and the engines')."""
    o = overall[overall["model"] == name].set_index("metric")["value"]
    if seg_table is not None:
        s = seg_table[seg_table["model"] == name]
        return {k: np.append(s[s["metric"] == k]["value"].to_numpy(), o[k]) for k in metrics}
    return {k: np.array([o[k], o[k]]) for k in metrics}
