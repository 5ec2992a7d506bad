"""Where the value is at risk: how the optimum moves when a cost is off, and where value is lost.

:func:`sensitivity` scales each money term by ±50% (one at a time, exact values);
:func:`segment_impact` ranks the values of a column by the value lost against perfect decisions,
with bootstrap intervals. Re-exported by :mod:`mlimpact.impact`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.impact.bootstrap import cell_bootstrap, cells_of_layout
from mlimpact.impact.costs import MONEY_TERMS, TERM_LABELS, CostModel, _fmt_number, scale_factor
from mlimpact.impact.layout import segment_layout
from mlimpact.impact.values import (
    _check_lanes,
    _check_threshold,
    cut_threshold,
    lane_decisions,
    money_of,
    row_gains,
    threshold_values,
)
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.metrics import percentile_interval

__all__ = ["SENSITIVITY_COLUMNS", "sensitivity", "sensitivity_of", "SEGMENT_COLUMNS", "segment_impact", "segment_table",
           "segments_of"]

# ---------------------------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------------------------

SENSITIVITY_COLUMNS = ["term", "label", "factor", "setting", "best_threshold", "best_value",
                       "best_vs_flag_none", "value_at_base_best", "regret", "value_at_current",
                       "current_vs_flag_none", "lanes_value"]
_SENS_MONEY = ["best_value", "best_vs_flag_none", "value_at_base_best", "regret", "value_at_current",
               "current_vs_flag_none", "lanes_value"]


def sensitivity(dataset: Dataset, costs: CostModel, *, threshold: float = DEFAULT_THRESHOLD, lanes=None,
                scale: str | None = None, change: float = 0.5) -> pd.DataFrame:
    """Each money term × (1 − change) and × (1 + change), one at a time: how the optimum and the value move.

    The first row (``term == "base"``) holds the assumptions as given. Terms that are zero
    everywhere (and the review cost without lanes) are left out: scaling them changes nothing.
    ``value_at_base_best`` is the value if the base optimum is kept while the cost is really this;
    ``regret`` = best value − that (what a wrong guess of this cost costs).
    """
    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    if not 0 < change < 1:
        raise InputError(f"change must be between 0 and 1 (0.5 = ±50%), not {change!r}")
    factor, _ = scale_factor(dataset, scale)
    return sensitivity_of(row_gains(dataset, costs), costs, threshold=threshold, lanes=lanes, factor=factor, scale=scale,
                          change=change)


#: which of the money per decision (flag, keep, review) each term enters
_ENTERS = {"value_tp": ("flag", "review"), "value_tn": ("keep", "review"), "cost_fp": ("flag",),
           "cost_fn": ("keep",), "cost_review": ("review",)}


def sensitivity_of(g, costs: CostModel, *, threshold: float, lanes, factor: float, scale: str | None,
                   change: float = 0.5, ex=None) -> pd.DataFrame:
    """:func:`sensitivity` of rows or an engine's units (``g``), checked inputs, money × ``factor``.

    ``ex``: :func:`~mlimpact.impact.values.exact_curve` of ``g``, when already computed (its sums are the base's).
    A scaled term only changes the money it enters; the rest is the base's, not computed again.
    """
    cuts, inverse = g.bins if g.bins is not None else np.unique(g.score, return_inverse=True)
    bins = inverse + 1
    k1 = len(cuts) + 1
    flagged = lane_decisions(g.score, threshold) == 1
    d_lanes = lane_decisions(g.score, threshold, lanes) if lanes is not None else None

    def sums(m):
        return np.bincount(bins, weights=m, minlength=k1)

    base = {"flag": g.flag, "keep": g.keep, "review": g.review}
    base_sums = (ex.keep, ex.flag) if ex is not None else (sums(g.keep), sums(g.flag))
    base_cur = float(np.where(flagged, g.flag, g.keep).sum())

    def evaluate(name=None, f=1.0):
        enters = _ENTERS.get(name, ())
        money = {**base, **_money({**g.terms, name: g.terms[name] * f}, g.y, enters)} if enters else base
        keep_b, flag_b = (sums(money["keep"]) if "keep" in enters else base_sums[0],
                          sums(money["flag"]) if "flag" in enters else base_sums[1])
        vals = threshold_values(keep_b, flag_b)
        j = len(vals) - 1 - int(np.argmax(vals[::-1]))
        cur = float(np.where(flagged, money["flag"], money["keep"]).sum()) if {"flag", "keep"} & set(enters) \
            else base_cur
        lanes_v = float(np.where(d_lanes == 1, money["flag"], np.where(d_lanes == 2, money["review"],
                                                                        money["keep"])).sum()) \
            if d_lanes is not None else np.nan
        return vals, j, cur, lanes_v

    return _sensitivity_rows(evaluate, g, costs, cuts, lanes=lanes, factor=factor, scale=scale, change=change)


def _money(terms: dict, y: np.ndarray, which) -> dict:
    """Money per row (or unit) if flagged, kept or reviewed, as :func:`gains_from_terms` computes it, for ``which``."""
    pos = np.asarray(y).astype(bool)
    out = {}
    if "flag" in which:
        out["flag"] = np.where(pos, terms["value_tp"], -terms["cost_fp"])
    if "keep" in which:
        out["keep"] = np.where(pos, -terms["cost_fn"], terms["value_tn"])
    if "review" in which:
        out["review"] = np.where(pos, terms["value_tp"], terms["value_tn"]) - terms["cost_review"]
    return out


def _sensitivity_rows(evaluate, g, costs: CostModel, cuts, *, lanes, factor: float, scale, change: float):
    base_vals, base_j, base_cur, base_lanes = evaluate()
    rows = [{"term": "base", "label": "as given", "factor": 1.0, "setting": "; ".join(costs.describe()),
             "best_threshold": cut_threshold(cuts, base_j), "best_value": float(base_vals[base_j]),
             "best_vs_flag_none": float(base_vals[base_j] - base_vals[-1]),
             "value_at_base_best": float(base_vals[base_j]), "regret": 0.0, "value_at_current": base_cur,
             "current_vs_flag_none": base_cur - float(base_vals[-1]), "lanes_value": base_lanes}]
    for name in MONEY_TERMS:
        arr = g.terms[name]
        if not np.any(arr != 0) or (name == "cost_review" and lanes is None):
            continue
        v = getattr(costs, name)
        for f in (1 - change, 1 + change):
            vals, j, cur, lv = evaluate(name, f)
            setting = f"`{v}` × {f:g}" if isinstance(v, str) else f"{_fmt_number(v * f)} ({_fmt_number(v)} × {f:g})"
            rows.append({"term": name, "label": TERM_LABELS[name], "factor": f, "setting": setting,
                         "best_threshold": cut_threshold(cuts, j), "best_value": float(vals[j]),
                         "best_vs_flag_none": float(vals[j] - vals[-1]), "value_at_base_best": float(vals[base_j]),
                         "regret": float(vals[j] - vals[base_j]), "value_at_current": cur,
                         "current_vs_flag_none": cur - float(vals[-1]), "lanes_value": lv})
    out = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    out[_SENS_MONEY] = out[_SENS_MONEY] * factor
    out.attrs.update({"scale": scale, "factor": factor, "change": change})
    return out


# ---------------------------------------------------------------------------------------------
# per-segment impact
# ---------------------------------------------------------------------------------------------

SEGMENT_COLUMNS = ["segment", "n", "positives", "flagged", "value", "perfect_value", "lost", "low", "high",
                   "lost_false_positives", "lost_false_negatives", "lost_reviews", "share_of_lost", "lost_per_row",
                   "rank"]
_SEGMENT_MONEY = ["value", "perfect_value", "lost", "low", "high", "lost_false_positives", "lost_false_negatives",
                  "lost_reviews"]


def segment_impact(dataset: Dataset, costs: CostModel, *, column: str, threshold: float = DEFAULT_THRESHOLD, lanes=None,
                   scale: str | None = None, n_bins: int = 5, top_k: int = 20, n_boot: int = 1000, seed: int = 0,
                   time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """Where value is lost: per value of ``column``, the value lost against perfect decisions, ranked.

    ``perfect_value`` decides every row right (flag the rows where flagging pays, no reviews);
    ``lost`` = perfect − actual, split into what false positives, false negatives and reviews cost.
    Returns the segment column first, then :data:`SEGMENT_COLUMNS`, largest loss first, with 95%
    bootstrap intervals of ``lost``; ``lost_per_row`` is not scaled.
    """

    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    factor, _ = scale_factor(dataset, scale)
    return segments_of(dataset, row_gains(dataset, costs), column=column, threshold=threshold, lanes=lanes,
                       factor=factor, scale=scale, n_bins=n_bins, top_k=top_k, n_boot=n_boot, seed=seed,
                       time_budget_s=time_budget_s)


def segments_of(dataset: Dataset, g, *, column: str, threshold: float, lanes, factor: float, scale, n_bins: int = 5,
                top_k: int = 20, n_boot: int = 1000, seed: int = 0, time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """:func:`segment_impact` of the Dataset's rows with their money ``g``, checked inputs, money × ``factor``.

    The cells and their resampled counts do not depend on the money: made once per column, threshold and lanes
    (:func:`~mlimpact.impact.layout.segment_layout`); only the value lost is put on them.
    """
    lay = segment_layout(dataset, g, column=column, threshold=threshold, lanes=lanes, n_bins=n_bins, top_k=top_k)
    codes, d = lay.rows()
    lost = g.perfect - money_of(g, d)
    cells = cells_of_layout(lay.cells, lost[:, None])
    reps = lay.replicates(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    return segment_table(g, d, codes, lay.labels, column, cells, n_boot=n_boot, seed=seed,
                         time_budget_s=time_budget_s, factor=factor, scale=scale, reps=reps)


def segment_table(g, d: np.ndarray, codes: np.ndarray, labels: pd.DataFrame, column: str, cells, *, n_boot: int,
                  seed: int, time_budget_s, factor: float, scale, reps: tuple | None = None) -> pd.DataFrame:
    """:func:`segment_impact`'s table from rows or an engine's units (``g``), their decisions ``d``, segment
    ``codes`` with their ``labels`` (one column, ``column``), and the bootstrap ``cells`` of the value lost
    (``reps``: their replicates and how many, when already drawn)."""
    G = len(labels)
    actual = money_of(g, d)
    perfect = g.perfect
    lost = perfect - actual
    fp = (d == 1) & ~g.y
    fn = (d == 0) & g.y
    rv = d == 2
    reps, used = cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s) if reps is None else reps
    lo, hi = percentile_interval(reps["sums"][:, :, 0])
    w = np.ones(len(g.y)) if g.weight is None else g.weight

    def s(x):
        return np.bincount(codes, weights=x, minlength=G)

    n_g = np.bincount(codes, minlength=G) if g.weight is None else s(w).astype(np.int64)
    total_lost = lost.sum()
    out = labels.copy()
    out["segment"] = [f"{column} = {v}" for v in labels[column]]
    out["n"] = n_g
    out["positives"] = s(g.y * w).astype(np.int64)
    out["flagged"] = s((d == 1) * w).astype(np.int64)
    out["value"] = s(actual)
    out["perfect_value"] = s(perfect)
    out["lost"] = s(lost)
    out["low"], out["high"] = lo, hi
    out["lost_false_positives"] = s(np.where(fp, lost, 0.0))
    out["lost_false_negatives"] = s(np.where(fn, lost, 0.0))
    out["lost_reviews"] = s(np.where(rv, lost, 0.0))
    out["share_of_lost"] = out["lost"] / total_lost if total_lost else np.nan
    out["lost_per_row"] = out["lost"] / np.maximum(n_g, 1)
    out = out.sort_values("lost", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out[_SEGMENT_MONEY] = out[_SEGMENT_MONEY] * factor
    out = out[[column] + SEGMENT_COLUMNS]
    out.attrs.update({"n_boot": used, "seed": seed, "scale": scale, "factor": factor, "column": column})
    return out
