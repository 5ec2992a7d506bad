"""Operating points and baselines, each paired difference from one bootstrap of the rows it compares.

The model at the current threshold, at the value-maximising one and with review lanes
(:func:`operating_points`), against flagging nothing, flagging everything, random flags, a rule and
the other models in the file (:func:`compare_baselines`). Two bootstraps of cells
(:mod:`mlimpact.impact.bootstrap`): score bins × label for the thresholds and lanes chosen again in every
replicate, and (label × every fixed policy's decision) for the model at its threshold against each baseline.
Every interval and difference is read from one of them, so each is paired; the second has a few dozen cells
instead of score bins × decision patterns, which is what keeps a cost change quick.

The grid's cut-offs are the scores' quantiles, the threshold and the review lanes: nothing that moves with the
money, so its cells and draws are kept with the Dataset (:mod:`mlimpact.impact.layout`) and a cost change only puts
money on them (fraud sample: the analysis 0.14 → 0.07 s). The value-maximising threshold (and band) is exact, over
every distinct score; in each replicate it is chosen again over the grid, so its basic interval is the replicates'
spread about the grid's own best on the rows, placed around the exact value (the two agree when the best cut-off is
in the grid).
Re-exported by :mod:`mlimpact.impact`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.impact.bootstrap import (
    _basic_interval,
    _cut_index,
    _grid,
    cell_bootstrap,
    cells_of_layout,
    make_cells,
)
from mlimpact.impact.costs import CostModel, Rule, parse_rule, scale_factor
from mlimpact.impact.executive import format_money
from mlimpact.impact.layout import PolicyLayout, policy_layout
from mlimpact.impact.layout import same_rate_threshold as _same_rate_threshold  # noqa: F401 (its former name)
from mlimpact.impact.values import (
    Gains,
    _best_lanes_exact,
    _check_lanes,
    _check_threshold,
    _counts,
    _Exact,
    _lanes_values,
    cut_threshold,
    exact_curve,
    lane_decisions,
    money_of,
    row_gains,
    threshold_values,
)
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD, decide
from mlimpact.metrics import percentile_interval

__all__ = ["POINT_COLUMNS", "BASELINE_COLUMNS", "operating_points", "compare_baselines", "policies_of",
           "other_model_extras"]

POINT_COLUMNS = ["point", "description", "threshold", "low_cut", "high_cut", "flagged", "reviewed", "tp", "fp",
                 "fn", "tn", "value", "low", "high", "value_vs_flag_none", "vs_none_low", "vs_none_high",
                 "optimism", "note"]
_POINT_MONEY = ["value", "low", "high", "value_vs_flag_none", "vs_none_low", "vs_none_high", "optimism"]
BASELINE_COLUMNS = ["baseline", "description", "threshold", "flagged", "flag_rate", "value", "low", "high",
                    "difference", "diff_low", "diff_high", "note"]
_BASELINE_MONEY = ["value", "low", "high", "difference", "diff_low", "diff_high"]


@dataclass(frozen=True, eq=False)
class _Policies:
    """Exact values of every policy plus its bootstrap replicates (module docstring: which bootstrap)."""

    g: Gains
    vals: np.ndarray        # exact value at every cut index of the distinct scores
    cuts_exact: np.ndarray
    j_best: int
    threshold: float
    lanes: tuple | None
    best_lane: tuple | None
    cuts: np.ndarray        # the bootstrap's grid of cut-offs (nothing that moves with the money)
    sums: np.ndarray        # (b, len(cuts)+1, 2 or with lanes 3) replicate sums of keep, flag (review) money per bin
    orig: np.ndarray        # exact values at the grid's cut indices
    orig_lanes: float | None  # the best review band among the grid's cut-offs, on the rows (with lanes)
    extras: list            # (key, description, threshold, decisions, note) of the rule and other models
    extra_reps: np.ndarray  # (b', len(extras)) replicate totals of their money
    fixed_reps: np.ndarray  # (b', 3) replicate totals, same rows: the model at the threshold, flag none, flag all
    used: int
    seed: int
    ex: _Exact | None = None  # the exact sums per distinct score (the value curve's)


def _policies(dataset: Dataset, costs: CostModel, *, threshold, lanes, rule, others: bool, n_boot: int,
              seed: int, time_budget_s, g: Gains | None = None) -> _Policies:
    """Every policy of the Dataset's rows under ``costs`` (their per-row money ``g`` when already computed)."""
    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    if isinstance(rule, str):
        rule = parse_rule(rule) if rule.strip() else None
    g = row_gains(dataset, costs) if g is None else g
    fixed = policy_layout(dataset, g, threshold=threshold, rule=rule, others=others, lanes=lanes)

    def extras_of(k: int, n: int) -> list:
        extras = []
        if rule is not None:
            extras.append(("rule", f"rule: flag when {rule.describe()}", np.nan, fixed.rule, None))
        for o in fixed.others:
            t_own = o.best_threshold(g)
            extras.extend(other_model_extras(o.column, t_own, o.rate_threshold, o.flags(t_own), o.at_rate, k, n,
                                             o.note))
        return extras

    def cells_of(bins, pattern, n_cells, columns, derived):
        return make_cells(bins, pattern, [g.keep, g.flag, g.review][:columns], n_cells, derived=derived)

    return policies_of(g, threshold=threshold, lanes=lanes, extras_of=extras_of, cells_of=cells_of, n_boot=n_boot,
                       seed=seed, time_budget_s=time_budget_s, fixed=fixed)


def other_model_extras(col: str, t_own: float, t_rate: float, d_own, d_rate, k: int, n: int, note) -> list:
    """Another model as two baselines: at its own value-maximising threshold, and at the model's flag rate."""
    return [(f"{col} (best threshold)", f"{col} at its own value-maximising threshold {t_own:g}", t_own, d_own, note),
            (f"{col} (same flag rate)", f"{col} flagging as many rows as the model ({k / n if n else 0:.2%})",
             t_rate, d_rate, note)]


def policies_of(g: Gains, *, threshold: float, lanes, extras_of, cells_of, n_boot: int, seed: int,
                time_budget_s, fixed: PolicyLayout | None = None) -> _Policies:
    """Every policy's exact value and its bootstrap replicates (the module docstring), from rows or an engine's units (``g``).

    ``extras_of(k, n)`` gives the rule's and the other models' policies once the model's flag count ``k`` is
    known; ``cells_of(bins, pattern, n_cells, columns, derived)`` groups rows (or units) into the bootstrap's cells
    with the first ``columns`` of keep, flag and review money and the extra policies' money as ``derived``
    columns (:func:`mlimpact.impact.bootstrap.make_cells`). Each bootstrap has its own ``time_budget_s``.
    ``fixed``: what of it does not depend on the money, computed once for the rows (:func:`policy_layout`).
    """
    ex = exact_curve(g, None if fixed is None else fixed.counts)
    vals = threshold_values(ex.keep, ex.flag)
    j_best = len(vals) - 1 - int(np.argmax(vals[::-1]))
    best_lane = _best_lanes_exact(ex) if lanes is not None else None
    k = g.rows_where(decide(g.score, threshold)) if fixed is None else fixed.k
    extras = extras_of(k, g.n_rows)
    columns = 3 if lanes is not None else 2  # review money drawn either way (the same draws), summed for lanes
    y = g.y.astype(np.int64)
    if fixed is not None and fixed.grid is not None:  # the grid's cells and draws are kept: only the money is new
        cuts = fixed.grid.cuts
        cells = cells_of_layout(fixed.grid.cells, [g.keep, g.flag, g.review])
        reps, used = fixed.grid.replicates(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s,
                                           columns=columns)
    else:
        cuts = _grid(g, [threshold, *(lanes or ())])
        cells = cells_of(np.searchsorted(cuts, g.score, side="right"), y, len(cuts) + 1, 3, [])
        reps, used = cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    sums = reps["sums"][..., :columns]
    on_rows = np.zeros((len(cuts) + 1, 3))  # each bin's money on the rows themselves
    np.add.at(on_rows, cells.group, cells.mean * cells.count[:, None])
    orig = threshold_values(on_rows[:, 0], on_rows[:, 1])
    orig_lanes = float(_lanes_values(on_rows[:, 0], on_rows[:, 1], on_rows[:, 2])[0]) if lanes is not None else None
    # the fixed policies, paired: keep and flag money, the model's (bit 1) and each extra's (bit i + 2) decisions
    pattern = y | np.asarray(decide(g.score, threshold), dtype=np.int64) << 1
    for i, e in enumerate(extras):  # the rule and the other models: a handful of bits
        pattern |= np.asarray(e[3], dtype=np.int64) << (i + 2)
    fixed_cells = cells_of(np.zeros(len(pattern), dtype=np.int64), pattern, 1, 2,
                           [(i + 1, 1, 0) for i in range(len(extras) + 1)])
    fixed_reps, used_fixed = cell_bootstrap(fixed_cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    totals = fixed_reps["sums"][:, 0]  # (b', 2): flag none, flag all
    derived = fixed_reps["derived"]  # (b', 1 + len(extras)): the model, then each extra
    return _Policies(g=g, vals=vals, cuts_exact=ex.cuts, j_best=j_best, threshold=threshold, lanes=lanes,
                     best_lane=best_lane, cuts=cuts, sums=sums, orig=orig, orig_lanes=orig_lanes,
                     extras=[(key, desc, thr, np.asarray(d, dtype=np.int8), note)
                             for key, desc, thr, d, note in extras],
                     extra_reps=derived[:, 1:], fixed_reps=np.column_stack([derived[:, 0], totals]),
                     used=min(used, used_fixed), seed=seed, ex=ex)


def _current_row(P: _Policies, t: float, d, none_v: float) -> dict:
    """The model at its threshold, with the baselines' bootstrap (its interval is the baselines table's)."""
    value = float(money_of(P.g, d).sum())
    model_r, none_r = P.fixed_reps[:, 0], P.fixed_reps[:, 1]
    lo, hi = percentile_interval(model_r)
    dlo, dhi = percentile_interval(model_r - none_r)
    return {"point": "current", "description": f"flag when score ≥ {t:g}", "threshold": t, "low_cut": np.nan,
            "high_cut": np.nan, **_counts(P.g, d), "value": value, "low": float(lo), "high": float(hi),
            "value_vs_flag_none": value - none_v, "vs_none_low": float(dlo), "vs_none_high": float(dhi),
            "optimism": np.nan, "note": None}


def _points_table(P: _Policies, factor: float, scale) -> pd.DataFrame:
    g, sums = P.g, P.sums
    rv = threshold_values(sums[..., 0], sums[..., 1])  # (b, len(cuts) + 2)
    none_v, none_r = float(P.vals[-1]), rv[:, -1]
    rows = []

    def add(point, description, d, value, reps_value, *, basic=None, optimism=np.nan, note=None,
            thr=np.nan, low_cut=np.nan, high_cut=np.nan):
        if basic is not None:  # the grid's own best on the rows: the replicates' spread about it, around the value
            lo, hi = np.add(_basic_interval(basic, reps_value), value - basic)
            dlo, dhi = np.add(_basic_interval(basic - none_v, reps_value - none_r), value - basic)
        else:
            lo, hi = percentile_interval(reps_value)
            dlo, dhi = percentile_interval(reps_value - none_r)
        rows.append({"point": point, "description": description, "threshold": thr, "low_cut": low_cut,
                     "high_cut": high_cut, **_counts(g, d), "value": value, "low": float(lo), "high": float(hi),
                     "value_vs_flag_none": value - none_v, "vs_none_low": float(dlo), "vs_none_high": float(dhi),
                     "optimism": optimism, "note": note})

    t = P.threshold
    d_cur = lane_decisions(g.score, t)
    rows.append(_current_row(P, t, d_cur, none_v))

    t_best = cut_threshold(P.cuts_exact, P.j_best)
    rj = rv.shape[1] - 1 - np.argmax(rv[:, ::-1], axis=1)
    best_r = rv[np.arange(len(rv)), rj]
    optimism = float(np.mean(best_r - P.orig[rj]))
    note = ("chosen on these rows: the interval chooses the threshold again in every bootstrap replicate "
            "(basic bootstrap interval); expect about " + format_money(optimism * factor) + " less on new rows")
    if P.j_best > len(P.cuts_exact):
        note = "flagging nothing is best under these costs; " + note
    description = f"flag when score ≥ {t_best:g} (value-maximising)"
    if P.j_best > len(P.cuts_exact):
        description = "flag nothing: a threshold above every score (value-maximising)"
    add("best", description, lane_decisions(g.score, t_best),
        float(P.vals[P.j_best]), best_r, basic=float(P.orig.max()), optimism=optimism, note=note, thr=t_best)

    if P.lanes is not None:
        low, high = P.lanes
        a_j, b_j = _cut_index(P.cuts, low), _cut_index(P.cuts, high)
        zero = np.zeros((len(sums), 1))
        pk, pf, pr = (np.concatenate([zero, np.cumsum(sums[..., i], axis=1)], axis=1) for i in range(3))
        lane_r = pk[:, a_j] + pr[:, b_j] - pr[:, a_j] + pf[:, -1] - pf[:, b_j]
        d_l = lane_decisions(g.score, t, P.lanes)
        add("lanes", f"review scores from {low:g} to below {high:g}; flag from {high:g}", d_l,
            float(money_of(g, d_l).sum()), lane_r, low_cut=low, high_cut=high,
            note="rows in the review lane cost a review and are assumed decided correctly")
        bl_r, _ = _lanes_values(sums[..., 0], sums[..., 1], sums[..., 2])
        b_low, b_high, b_value = P.best_lane
        bl_note = "chosen on these rows: the interval chooses the band again in every bootstrap replicate"
        if not np.any(g.terms["cost_review"] != 0):
            bl_note = "with no review cost, reviewing every row is best; " + bl_note
        add("best_lanes", f"review scores from {b_low:g} to below {b_high:g} (value-maximising)",
            lane_decisions(g.score, t, (b_low, b_high)), float(b_value), bl_r, basic=P.orig_lanes, note=bl_note,
            low_cut=b_low, high_cut=b_high)
    out = pd.DataFrame(rows, columns=POINT_COLUMNS)
    out[_POINT_MONEY] = out[_POINT_MONEY] * factor
    out.attrs.update({"n_boot": P.used, "seed": P.seed, "scale": scale, "factor": factor})
    return out


def _baselines_table(P: _Policies, factor: float, scale) -> pd.DataFrame:
    g, n = P.g, P.g.n_rows
    t = P.threshold
    d_model = lane_decisions(g.score, t)
    k = g.rows_where(d_model == 1)
    q = k / n if n else 0.0
    model_v = float(money_of(g, d_model).sum())
    model_r, none_r, all_r = P.fixed_reps.T
    none_v, all_v = float(g.keep.sum()), float(g.flag.sum())
    specs = [("model", f"the model: flag when score ≥ {t:g}", t, k, model_v, model_r, None),
             ("flag_none", "no model: flag nothing", np.nan, 0, none_v, none_r, None),
             ("flag_all", "no model: flag everything", np.nan, n, all_v, all_r, None),
             ("random", f"random flags at the model's rate ({q:.2%})", np.nan, k, q * all_v + (1 - q) * none_v,
              q * all_r + (1 - q) * none_r,
              "expected value; the interval covers the sampling of rows, not the luck of the draw")]
    for i, (key, desc, thr, d, note) in enumerate(P.extras):
        specs.append((key, desc, thr, g.rows_where(d == 1), float(money_of(g, d).sum()), P.extra_reps[:, i], note))
    rows = []
    for i, (key, desc, thr, flagged, value, reps, note) in enumerate(specs):
        lo, hi = percentile_interval(reps)
        dlo, dhi = percentile_interval(model_r - reps) if i else (np.nan, np.nan)
        rows.append({"baseline": key, "description": desc, "threshold": thr, "flagged": flagged,
                     "flag_rate": flagged / n if n else np.nan, "value": value, "low": float(lo),
                     "high": float(hi), "difference": model_v - value if i else np.nan, "diff_low": float(dlo),
                     "diff_high": float(dhi), "note": note})
    out = pd.DataFrame(rows, columns=BASELINE_COLUMNS)
    out[_BASELINE_MONEY] = out[_BASELINE_MONEY] * factor
    out.attrs.update({"n_boot": P.used, "seed": P.seed, "scale": scale, "factor": factor})
    return out


def operating_points(dataset: Dataset, costs: CostModel, *, threshold: float = DEFAULT_THRESHOLD, lanes=None,
                     scale: str | None = None, n_boot: int = 1000, seed: int = 0,
                     time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """Net value at the current threshold and at the value-maximising one (and with review lanes).

    Rows ``current`` and ``best`` always; ``lanes`` (the given review band) and ``best_lanes`` (the
    best band, exact over all cut pairs) when ``lanes`` are given. ``value_vs_flag_none`` is what
    the decisions are worth against flagging nothing. Intervals (95%) are bootstrap: percentile for
    fixed cut-offs; for the best ones the cut-offs are chosen again in every replicate and the basic
    (reverse-percentile) interval is used, which corrects for choosing them on these rows (chosen again among the
    grid's cut-offs: the replicates' spread about the grid's best on the rows, placed around the exact value);
    ``optimism`` is the bootstrap estimate of how much choosing on these rows flatters the value (over the grid:
    it can understate the exact choice's a little; fraud sample 113 where a grid holding the best cut-off gave 123).
    Money is per ``scale`` ("month"/"year") when given. Columns: :data:`POINT_COLUMNS`.
    """
    factor, _ = scale_factor(dataset, scale)
    P = _policies(dataset, costs, threshold=threshold, lanes=lanes, rule=None, others=False, n_boot=n_boot,
                  seed=seed, time_budget_s=time_budget_s)
    return _points_table(P, factor, scale)


def compare_baselines(dataset: Dataset, costs: CostModel, *, threshold: float = DEFAULT_THRESHOLD, rule: Rule | str | None = None,
                      scale: str | None = None, n_boot: int = 1000, seed: int = 0,
                      time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """The model at ``threshold`` against the alternatives, with paired 95% intervals of the differences.

    Rows: ``model`` (the reference), ``flag_none``, ``flag_all``, ``random`` (random flags at the
    model's flag rate: the expected value, in closed form), ``rule`` (when a rule is given), and for
    every other model in the file (``roles.other_scores``) its value at its own best threshold and
    at the model's flag rate. ``difference`` = model − baseline (positive: the model is worth more),
    its interval from the same resampled rows for both. Rows of another model's score that are
    missing count as not flagged. Columns: :data:`BASELINE_COLUMNS`.
    """
    factor, _ = scale_factor(dataset, scale)
    P = _policies(dataset, costs, threshold=threshold, lanes=None, rule=rule, others=True, n_boot=n_boot,
                  seed=seed, time_budget_s=time_budget_s)
    return _baselines_table(P, factor, scale)
