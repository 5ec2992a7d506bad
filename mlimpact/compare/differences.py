"""Each challenger against the reference, per segment and metric: paired intervals, p-values, the winner."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.compare.candidates import ALL_ROWS, _Model
from mlimpact.compare.paired import delong_paired
from mlimpact.compare.paired_bootstrap import _paired_bootstrap
from mlimpact.metrics import METRICS, bootstrap_p_value, percentile_interval

__all__ = ["DIFFERENCE_COLUMNS", "_Groups", "_differences", "_direction", "_winner", "difference_table"]

DIFFERENCE_COLUMNS = ["segment", "n", "model", "reference", "metric", "value_reference", "value_model",
                      "difference", "low", "high", "p_value", "method", "winner"]


def _direction(metric: str) -> str:
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


@dataclass(frozen=True, eq=False)
class _Groups:
    """The segments of one comparison: a code per row (all 0 without a segment) and the segments' values."""

    segment: str | None
    codes: np.ndarray
    labels: list[str]

    @property
    def n_groups(self) -> int:
        return max(len(self.labels), 1)

    @property
    def segment_names(self) -> list[str]:
        """``"<segment> = <value>"`` per group; empty without a segment."""
        return [f"{self.segment} = {v}" for v in self.labels] if self.segment else []

    @property
    def names(self) -> list[str]:
        """The ``segment`` of each difference row: every group, then all rows (all rows only without a segment)."""
        return self.segment_names + [ALL_ROWS] if self.segment else [ALL_ROWS]

    @property
    def sizes(self) -> np.ndarray:
        """Rows behind each of :attr:`names`."""
        n = len(self.codes)
        return np.append(np.bincount(self.codes, minlength=self.n_groups), n) if self.segment else np.array([n])


def _differences(task, y, models: list[_Model], exact: dict, groups: _Groups, *, threshold, metrics, probabilities,
                 n_classes, n_boot, seed, time_budget_s) -> tuple[pd.DataFrame, list[int]]:
    """Every challenger against the reference (the first model), per segment and over all rows.

    ``exact``: per model name, ``{metric: values per group, then over all rows}``. Returns the table
    (``DIFFERENCE_COLUMNS``; overall first, then segments) and the bootstrap replicates used per challenger.
    """
    ref = models[0]
    diff_rows = []
    used_all = []
    for mi, ch in enumerate(models[1:], start=1):
        reps, used = _paired_bootstrap(task, y, ref, ch, groups.codes, groups.n_groups, threshold=threshold,
                                       metrics=metrics, probabilities=probabilities, n_classes=n_classes,
                                       exact_a=exact[ref.name], exact_b=exact[ch.name], n_boot=n_boot,
                                       seed=seed + mi, time_budget_s=time_budget_s)
        if used:
            used_all.append(used)
        delong = _delong(y, ref, ch, groups) if "roc_auc" in metrics else None
        for metric in metrics:
            diff_rows += _metric_rows(metric, ref, ch, exact[ref.name][metric], exact[ch.name][metric], reps, delong,
                                      groups)
    return difference_table(diff_rows), used_all


def difference_table(rows: list[dict]) -> pd.DataFrame:
    """The differences' rows as a table (:data:`DIFFERENCE_COLUMNS`): all rows first, then the segments."""
    differences = pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
    differences["_o"] = (differences["segment"] != ALL_ROWS).astype(int)
    return differences.sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _delong(y, ref: _Model, ch: _Model, groups: _Groups) -> pd.DataFrame:
    """DeLong's test of the two ROC AUCs, per group then over all rows (all rows only without a segment)."""
    per_group = delong_paired(y, ref.score, ch.score, groups.codes, groups.n_groups) if groups.segment else None
    whole = delong_paired(y, ref.score, ch.score)
    return pd.concat([per_group, whole], ignore_index=True) if groups.segment else whole


def _metric_rows(metric, ref: _Model, ch: _Model, va, vb, reps, delong, groups: _Groups) -> list[dict]:
    """The rows of one metric of one challenger: one per entry of ``groups.names``.

    ``va`` / ``vb``: the reference's and the challenger's exact values (per group, then over all rows);
    ``reps``: the paired bootstrap replicates; ``delong``: the DeLong table (ROC AUC).
    """
    names, sizes = groups.names, groups.sizes
    if groups.segment is None:
        va, vb = va[1:], vb[1:]
    if metric == "roc_auc":
        lo, hi, p = delong["low"].to_numpy(), delong["high"].to_numpy(), delong["p_value"].to_numpy()
        method = "DeLong"
        abs_lo = abs_hi = [None] * len(names)
    else:
        ra, rb = reps[metric]
        if groups.segment is None:
            ra, rb = ra[:, -1:], rb[:, -1:]
        d = rb - ra
        lo, hi = percentile_interval(d)
        p = bootstrap_p_value(vb - va, d)
        method = "paired bootstrap"
        abs_lo, abs_hi = percentile_interval(np.abs(rb) - np.abs(ra))
    return [{"segment": name, "n": int(sizes[i]), "model": ch.name, "reference": ref.name,
             "metric": metric, "value_reference": va[i], "value_model": vb[i],
             "difference": vb[i] - va[i], "low": lo[i], "high": hi[i], "p_value": p[i],
             "method": method,
             "winner": _winner(metric, lo[i], hi[i], ref.name, ch.name, abs_lo[i], abs_hi[i])}
            for i, name in enumerate(names)]
