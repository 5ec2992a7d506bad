"""Solving for difficulty lanes: exact cut-offs for a target error rate or a reviewer capacity, and the frontier.

The solvers are exact over every distinct score; the trade-off curve is exact over every pair of
candidate cut-offs (every distinct score when there are at most ``max_candidates``).
Re-exported by :mod:`mlimpact.difficulty`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.difficulty.curve import (  # noqa: F401 (lane_curve: doctests)
    LaneCurve,
    _cut,
    _indices,
    _lanes_from,
    lane_curve,
)
from mlimpact.difficulty.lanes import _SIGN, ERROR_SLACK, MIN_AUTOMATED, LanePolicy, Lanes, OperatingPoint
from mlimpact.difficulty.text import percent
from mlimpact.errors import InputError
from mlimpact.metrics import wilson_interval

__all__ = ["evaluate_lanes", "first_at_or_after", "solve_for_target", "solve_for_capacity", "choose_lanes",
           "TRADEOFF_COLUMNS", "tradeoff_curve"]


# ---------------------------------------------------------------------------------------------
# operating points and solvers
# ---------------------------------------------------------------------------------------------


def _totals(curve: LaneCurve, i_low: int, i_high: int) -> tuple[int, int, int]:
    """(automated, errors, review) of the ungrouped curve at value indices (i_low, i_high)."""
    cn, cb = curve.cum_n, curve.cum_bad
    n, pos = int(cn[-1]), int(cb[-1])
    if curve.two_sided:
        a_neg, fn = int(cn[i_low]), int(cb[i_low])
        a_pos = n - int(cn[i_high])
        fp = a_pos - (pos - int(cb[i_high]))
        return a_neg + a_pos, fn + fp, n - a_neg - a_pos
    auto = n - int(cn[i_high])
    return auto, pos - int(cb[i_high]), n - auto


def _point(curve: LaneCurve, i_low: int, i_high: int, policy: LanePolicy, *, feasible=True, note="") -> OperatingPoint:
    auto, err, rev = _totals(curve, i_low, i_high)
    return OperatingPoint(lanes=_lanes_from(curve, i_low, i_high, policy), n=curve.n, automated=auto, errors=err,
                          review=rev, feasible=feasible, note=note)


def evaluate_lanes(curve: LaneCurve, lanes: Lanes) -> OperatingPoint:
    """The operating point of given lanes (O(log n): two ``searchsorted`` calls).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.5, 0.9]}), Roles(label="y", score="p"))
    >>> p = evaluate_lanes(lane_curve(ds), Lanes("score", low=0.45, high=0.9))
    >>> p.automated, p.errors, p.review
    (3, 0, 1)
    """
    i_low, i_high = _indices(curve, lanes)
    auto, err, rev = _totals(curve, i_low, i_high)
    return OperatingPoint(lanes=lanes, n=curve.n, automated=auto, errors=err, review=rev)


def first_at_or_after(values, start, limit, *, block: int = 64) -> np.ndarray:
    """For each query q, the smallest ``j >= start[q]`` with ``values[j] <= limit[q]`` (``len(values)`` if none).

    Vectorized over queries: block minima with a sparse table (binary descent over blocks), then one
    scan of ``block`` values per query inside its own block and inside the block found.

    >>> first_at_or_after([5, 3, 4, 1], [0, 2, 0, 3], [3, 2, 0, 0]).tolist()
    [1, 3, 4, 4]
    """
    v = np.asarray(values, dtype=float)
    start = np.asarray(start, dtype=np.int64)
    limit = np.asarray(limit, dtype=float)
    size = len(v)
    out = np.full(start.shape, size, dtype=np.int64)
    if size == 0 or start.size == 0:
        return out
    nb = -(-size // block)
    padded = np.full(nb * block, np.inf)
    padded[:size] = v
    grid = padded.reshape(nb, block)
    q = np.flatnonzero(start < size)
    b = start[q] // block
    hit = _first_in_blocks(grid, b, start[q] % block, limit[q])
    found = hit >= 0
    out[q[found]] = b[found] * block + hit[found]
    q, b = q[~found], b[~found] + 1
    if q.size == 0:
        return out
    # sparse table over block minima: levels[k][p] = min(bmin[p : p + 2**k])
    levels = [grid.min(axis=1)]
    while (1 << len(levels)) <= nb:
        prev, half = levels[-1], 1 << (len(levels) - 1)
        levels.append(np.minimum(prev[:-half], prev[half:]))
    lim = limit[q]
    pos = b.copy()
    for k in range(len(levels) - 1, -1, -1):
        table = levels[k]
        can = pos < len(table)
        jump = can & (table[np.where(can, pos, 0)] > lim)
        pos += jump.astype(np.int64) << k
    have = pos < nb
    hit = _first_in_blocks(grid, pos[have], np.zeros(int(have.sum()), dtype=np.int64), lim[have])
    out[q[have]] = pos[have] * block + hit
    return out


def _first_in_blocks(grid: np.ndarray, blocks: np.ndarray, offsets: np.ndarray, limits: np.ndarray,
                     chunk: int = 32_768) -> np.ndarray:
    """Per query, the first offset >= offsets[q] in row blocks[q] of grid with value <= limits[q] (else -1)."""
    width = grid.shape[1]
    cols = np.arange(width)
    out = np.full(blocks.shape, -1, dtype=np.int64)
    for s in range(0, len(blocks), chunk):
        sl = slice(s, s + chunk)
        mask = (grid[blocks[sl]] <= limits[sl, None]) & (cols[None, :] >= offsets[sl, None])
        first = mask.argmax(axis=1)
        out[sl] = np.where(mask.any(axis=1), first, -1)
    return out


def solve_for_target(curve: LaneCurve, target_error: float, *, policy: LanePolicy | None = None) -> OperatingPoint:
    """The cut-offs that automate the most cases with errors among automated ≤ ``target_error``.

    Exact over every distinct score: binary, for each low cut-off the nearest feasible high cut-off
    (:func:`first_at_or_after`), then the best pair; ties go to fewer errors.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 0, 0, 1, 0, 1, 1], "p": [0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9]})
    >>> p = solve_for_target(lane_curve(build_dataset(df, Roles(label="y", score="p"))), 0.1)
    >>> p.lanes.low, p.lanes.high, p.automated, p.errors
    (0.4, 0.8, 5, 0)
    """
    policy = policy or LanePolicy(method="target", target_error=target_error)
    t = float(target_error)
    if not 0 < t < 1:
        raise InputError(f"target error rate must be between 0 and 1 (got {target_error!r}); write 1% as 0.01")
    cn, cb = curve.cum_n.astype(float), curve.cum_bad.astype(float)
    n, pos = cn[-1], cb[-1]
    idx = np.arange(len(cn))
    if curve.two_sided:
        a, fn = cn, cb
        b = n - cn
        fp = b - (pos - cb)
        j = first_at_or_after(fp - t * b, idx, t * a - fn + ERROR_SLACK)
        ok = j < len(cn)
        i_ok, j_ok = idx[ok], j[ok]
        auto = a[i_ok] + b[j_ok]
        err = fn[i_ok] + fp[j_ok]
        best = np.lexsort((err, -auto))[0]
        i_low, i_high = int(i_ok[best]), int(j_ok[best])
    else:
        cand = idx[curve.first_index:]
        auto = n - cn[cand]
        err = pos - cb[cand]
        ok = err <= t * auto + ERROR_SLACK
        i_low, i_high = 0, int(cand[ok][0]) if ok.any() else len(cn) - 1
    point = _point(curve, i_low, i_high, policy)
    if point.automated == 0:
        return _point(curve, i_low, i_high, policy,
                      note=f"no cut-offs keep errors among automated decisions at or below {100 * t:g}%: "
                           "every case goes to review")
    if point.automated < MIN_AUTOMATED:
        return _point(curve, i_low, i_high, policy,
                      note=f"only {point.automated} cases can be automated at {100 * t:g}% errors or fewer; the "
                           "error rate of so few cases is uncertain (see its interval): consider a higher target")
    return point


def solve_for_capacity(curve: LaneCurve, *, reviewers: float, cases_per_reviewer: float, cases_per_day: float,
                       policy: LanePolicy | None = None) -> OperatingPoint:
    """The cut-offs with the fewest errors among automated decisions that the reviewers can keep up with.

    The review lane may hold at most ``reviewers × cases_per_reviewer / cases_per_day`` of the cases
    (all of them if that is ≥ 1). Exact over every distinct score; ties go to more automation.

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 0, 0, 1, 0, 1, 1], "p": [0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9]})
    >>> c = lane_curve(build_dataset(df, Roles(label="y", score="p")))
    >>> p = solve_for_capacity(c, reviewers=1, cases_per_reviewer=2, cases_per_day=7)
    >>> p.review, p.errors, p.lanes.low, p.lanes.high
    (2, 0, 0.4, 0.8)
    """
    policy = policy or LanePolicy(method="capacity", reviewers=reviewers, cases_per_reviewer=cases_per_reviewer,
                                  cases_per_day=cases_per_day)
    share = policy.review_share_limit
    n = curve.n
    limit = int(math.floor(share * n + 1e-9))
    cn, cb = curve.cum_n, curve.cum_bad
    pos = int(cb[-1])
    idx = np.arange(len(cn))
    if curve.two_sided:
        a, fn = cn, cb
        b = n - cn
        fp = b - (pos - cb)
        j_max = np.searchsorted(cn, cn + limit, side="right") - 1  # review = cn[j] - cn[i] <= limit
        fp_best = fp[j_max]
        j = np.maximum(np.searchsorted(-fp, -fp_best, side="left"), idx)  # fewest reviews with those errors
        auto = a + b[j]
        err = fn + fp_best
        best = np.lexsort((-auto, err))[0]
        i_low, i_high = int(idx[best]), int(j[best])
        feasible = True
    else:
        first = curve.first_index
        i_max = int(np.searchsorted(cn, limit, side="right")) - 1
        feasible = i_max >= first
        if not feasible:
            i_high = first
        else:
            i_high = max(int(np.searchsorted(cb, cb[i_max], side="left")), first)
        i_low = 0
    note = "" if feasible else (f"the review capacity ({percent(share, 1)} of cases) is below the cases without an "
                                "uncertainty, which always go to review")
    return _point(curve, i_low, i_high, policy, feasible=feasible, note=note)


def choose_lanes(curve: LaneCurve, policy: LanePolicy) -> OperatingPoint:
    """Solve the policy: ``target`` → :func:`solve_for_target`; ``capacity`` → :func:`solve_for_capacity`."""
    trace.count("choose_lanes")
    if policy.method == "target":
        return solve_for_target(curve, policy.target_error, policy=policy)
    if policy.method == "capacity":
        return solve_for_capacity(curve, reviewers=policy.reviewers, cases_per_reviewer=policy.cases_per_reviewer,
                                  cases_per_day=policy.cases_per_day, policy=policy)
    raise InputError("cut-offs set by hand are not solved; pass them as Lanes to evaluate_lanes")


# ---------------------------------------------------------------------------------------------
# the trade-off curve (risk–coverage frontier)
# ---------------------------------------------------------------------------------------------

TRADEOFF_COLUMNS = ["automation_rate", "automated", "review", "errors", "error_rate", "error_low", "error_high",
                    "low", "high"]


def _pareto(auto: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Indices of points no other point beats on both automation (more) and error rate (lower)."""
    keep = np.flatnonzero(auto > 0)
    if keep.size == 0:
        return keep
    order = keep[np.lexsort((err[keep], -auto[keep]))]
    rate = err[order] / auto[order]
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(rate)[:-1]])
    return order[rate < best_before]


def _candidates(curve: LaneCurve, max_candidates: int) -> tuple[np.ndarray, bool]:
    size = len(curve.cum_n)  # indices 0..K
    first = curve.first_index
    if size - first <= max_candidates:
        return np.arange(first, size), True
    targets = np.linspace(curve.cum_n[first], curve.n, max_candidates)
    cand = np.unique(np.concatenate([[first, size - 1], np.searchsorted(curve.cum_n, targets, side="left")]))
    return cand[cand >= first], False


def tradeoff_curve(curve: LaneCurve, *, max_candidates: int = 2000, chunk: int = 256) -> pd.DataFrame:
    """The efficient frontier: for each automation rate, the lowest error rate among automated decisions.

    Binary: every pair of candidate cut-offs (low ≤ high) is scored from the cumulative counts in
    vectorized blocks and only the points no other pair beats are kept. Candidates are every distinct
    score when there are at most ``max_candidates`` (then the frontier is exact), otherwise that many
    score quantiles (each step moves about 1/max_candidates of the rows; ``attrs["exact"]`` says which).
    One cut-off (multiclass, regression): every distinct value, exact.

    Returns ``automation_rate, automated, review, errors, error_rate, error_low, error_high, low, high``
    sorted by automation (``low`` is NaN for one cut-off; ``high`` is then the cut-off).

    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> df = pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.3, 0.9]})
    >>> tradeoff_curve(lane_curve(build_dataset(df, Roles(label="y", score="p"))))[["automated", "errors"]].values.tolist()
    [[2, 0], [4, 1]]
    """
    trace.count("tradeoff_curve")
    if curve.two_sided:
        cand, exact = _candidates(curve, max_candidates)
    else:
        cand, exact = np.arange(curve.first_index, len(curve.cum_n)), True
    cn, cb = curve.cum_n, curve.cum_bad
    n, pos = int(cn[-1]), int(cb[-1])
    if curve.two_sided:
        a, fn = cn[cand], cb[cand]
        b = n - cn[cand]
        fp = b - (pos - cb[cand])
        parts_a, parts_e, parts_i, parts_j = [], [], [], []
        for s in range(0, len(cand), chunk):
            rows = np.arange(s, min(s + chunk, len(cand)))
            ii, jj = np.nonzero(cand[None, :] >= cand[rows, None])
            ii = rows[ii]
            auto = a[ii] + b[jj]
            err = fn[ii] + fp[jj]
            keep = _pareto(auto, err)
            parts_a.append(auto[keep])
            parts_e.append(err[keep])
            parts_i.append(ii[keep])
            parts_j.append(jj[keep])
        auto, err = np.concatenate(parts_a), np.concatenate(parts_e)
        ii, jj = np.concatenate(parts_i), np.concatenate(parts_j)
        keep = _pareto(auto, err)
        auto, err, i_low, i_high = auto[keep], err[keep], cand[ii[keep]], cand[jj[keep]]
    else:
        auto = n - cn[cand]
        err = pos - cb[cand]
        keep = _pareto(auto, err)
        auto, err, i_high = auto[keep], err[keep], cand[keep]
        i_low = None
    order = np.argsort(auto, kind="stable")
    auto, err, i_high = auto[order], err[order], i_high[order]
    low_cut = np.full(len(auto), np.nan) if i_low is None else _cuts(curve, i_low[order])
    lo, hi = wilson_interval(err, auto)
    out = pd.DataFrame({"automation_rate": auto / n if n else auto * 0.0, "automated": auto.astype(np.int64),
                        "review": (n - auto).astype(np.int64), "errors": err.astype(np.int64),
                        "error_rate": err / auto, "error_low": lo, "error_high": hi, "low": low_cut,
                        "high": _cuts(curve, i_high)}, columns=TRADEOFF_COLUMNS)
    out.attrs.update(exact=exact, candidates=int(len(cand)))
    return out


def _cuts(curve: LaneCurve, idx: np.ndarray) -> np.ndarray:
    idx = np.asarray(idx, dtype=np.int64)
    k = len(curve.values)
    top = float(np.nextafter(curve.values[-1], np.inf)) if k else 0.0
    v = np.where(idx < k, curve.values[np.minimum(idx, max(k - 1, 0))] if k else 0.0, top)
    return _SIGN[curve.mode] * v
