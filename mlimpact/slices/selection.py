"""The selection of weak slices under ``scoring="balanced"``: significance, then three honesty filters.

*redundant* (a child must be clearly worse than every parent), *explained away* (a slice whose excess
comes from a more specific candidate is dropped) and *overlap* (going down the list, a slice's rows
outside the slices listed above it must still be clearly worse); see :mod:`mlimpact.slices.weak`.
"""

from __future__ import annotations

import numpy as np

from mlimpact.metrics import benjamini_hochberg
from mlimpact.slices.lattice import _Engine, _Level
from mlimpact.slices.stats import _intervals, _p_values

__all__ = ["_select_balanced"]


def _select_balanced(
    levels: list[_Level],
    significant: list[np.ndarray],
    avg: float,
    k: int,
    binary: bool,
    confidence: float,
    engine: _Engine,
):
    """Top k significant slices by the lower bound of the error-rate ratio, after the redundancy filters."""
    if avg <= 0:
        return []
    q_red = _redundancy_q_values(levels, binary, engine)
    found = _candidates(levels, significant, q_red, avg, binary, confidence)
    if found is None:
        return []
    li_all, pos_all, sc_all, ss_all = found
    order = np.lexsort((-ss_all, -sc_all))
    pool = order[: 5 * k + 50]
    explained = _explained_away(levels, li_all[pool], pos_all[pool], avg, binary, confidence, engine.D)
    ordered = pool[~explained]
    overlap = _OverlapFilter(engine, avg, binary, confidence, n_examined=len(ordered))
    chosen = overlap.select([levels[li_all[i]].g[pos_all[i]] for i in ordered], k)
    return [(int(li_all[ordered[j]]), int(pos_all[ordered[j]]), float(sc_all[ordered[j]])) for j in chosen]


def _redundancy_q_values(levels: list[_Level], binary: bool, engine: _Engine) -> np.ndarray:
    """Benjamini-Hochberg q-values of "not clearly worse than its worst parent", per slice of level >= 2.

    A child must be clearly worse than every parent. Its p-value against a parent tests it against the
    parent's other rows; the largest over the parents (intersection-union) goes through
    Benjamini-Hochberg over every evaluated child. Levels in order, as one flat array.
    """
    p_red = []
    for li, lv in enumerate(levels):
        level = lv.g.shape[1]
        if level == 1 or len(lv) == 0:
            continue
        parent_lv = levels[li - 1]
        worst = np.zeros(len(lv))
        for drop in range(level):
            pos = parent_lv.find(engine.keys(np.delete(lv.g, drop, axis=1)))
            pos = np.maximum(pos, 0)  # parents of an evaluated slice are always evaluated
            p = _p_values(
                lv.ss,
                lv.se,
                lv.sq,
                parent_lv.ss[pos].astype(float),
                parent_lv.se[pos],
                parent_lv.sq[pos],
                binary,
            )
            worst = np.maximum(worst, p)
        p_red.append(worst)
    return benjamini_hochberg(np.concatenate(p_red)) if p_red else np.empty(0)


def _candidates(levels, significant, q_red, avg, binary, confidence):
    """Significant, non-redundant slices with a lower bound above ``avg``.

    Returns flat arrays (level index, position, score, size), or None when no level has a slice.
    """
    cands = []  # (level index, positions, score, size)
    offset = 0
    for li, lv in enumerate(levels):
        if len(lv) == 0:
            continue
        low, _ = _intervals(lv.ss, lv.se, lv.sq, binary, confidence)
        ok = (low > avg) & significant[li]
        if lv.g.shape[1] > 1:
            ok &= q_red[offset : offset + len(lv)] <= 1 - confidence
            offset += len(lv)
        idx = np.flatnonzero(ok)
        cands.append((np.full(len(idx), li), idx, low[idx] / avg, lv.ss[idx]))
    if not cands:
        return None
    return tuple(np.concatenate([c[j] for c in cands]) for j in range(4))


def _explained_away(levels, li_pool, pos_pool, avg, binary, confidence, D: int) -> np.ndarray:
    """Mask over the pool: True where a slice's excess comes from a more specific candidate slice.

    Such a slice's rows outside the more specific one are not clearly worse than average.
    """
    P = len(li_pool)
    onehot = np.zeros((P, D), dtype=np.int32)
    lev = np.empty(P, dtype=np.int64)
    ss = np.empty(P)
    se = np.empty(P)
    sq = np.empty(P)
    for r, (li, pos) in enumerate(zip(li_pool, pos_pool, strict=True)):
        lv = levels[li]
        onehot[r, lv.g[pos]] = 1
        lev[r] = lv.g.shape[1]
        ss[r], se[r], sq[r] = lv.ss[pos], lv.se[pos], lv.sq[pos]
    contains = (onehot @ onehot.T) == lev[:, None]  # contains[a, c]: c has every predicate of a
    np.fill_diagonal(contains, False)
    a_idx, c_idx = np.nonzero(contains & (lev[None, :] > lev[:, None]))
    explained = np.zeros(P, dtype=bool)
    if len(a_idx):
        r_ss = ss[a_idx] - ss[c_idx]
        r_se = se[a_idx] - se[c_idx]
        r_sq = sq[a_idx] - sq[c_idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            r_low, _ = _intervals(
                np.maximum(r_ss, 1), np.maximum(r_se, 0), np.maximum(r_sq, 0), binary, confidence
            )
        not_worse = (r_ss < 1) | ~(r_low > avg)
        explained[a_idx[not_worse]] = True
    return explained


class _OverlapFilter:
    """The overlap filter of one selection, over the rows of the data.

    Greedy, best first: a slice is listed only if its rows not covered by the slices listed above it
    (other than its own ancestors) are still clearly worse than average and than each parent on those
    rows -- so overlaps of two listed effects do not fill the list. Bonferroni over the slices examined.
    """

    def __init__(self, engine: _Engine, avg: float, binary: bool, confidence: float, n_examined: int):
        self.engine, self.avg, self.binary, self.confidence = engine, avg, binary, confidence
        self.alpha_test = (1 - confidence) / max(n_examined, 1)  # Bonferroni over the slices examined here

    def select(self, slices: list[np.ndarray], k: int) -> list[int]:
        """Indices into ``slices`` (predicate ids of each, best first) of the at most k slices listed."""
        chosen: list[tuple[int, frozenset]] = []
        self.engine.plan_regions(slices)
        for j, g in enumerate(slices):
            if len(chosen) == k:
                break
            preds = frozenset(int(x) for x in g)
            others = [slices[i] for i, sp in chosen if not sp < preds]
            if not others or self.clearly_worse(g, others):
                chosen.append((j, preds))
        return [j for j, _ in chosen]

    def clearly_worse(self, g: np.ndarray, covered: list[np.ndarray]) -> bool:
        """Whether the slice's rows outside ``covered`` are clearly worse than average and than each parent's."""
        parents = [np.delete(g, drop) for drop in range(len(g) if len(g) > 1 else 0)]
        sums = self.engine.region_sums([g, *parents], covered)
        n_r, se_r, sq_r = sums[0]
        if n_r == 0:
            return False
        low_r, _ = _intervals(np.array([n_r]), np.array([se_r]), np.array([sq_r]), self.binary, self.confidence)
        ok = bool(low_r[0] > self.avg)
        for n_p, se_p, sq_p in sums[1:]:
            if not ok:
                break
            p = _p_values(np.array([n_r]), np.array([se_r]), np.array([sq_r]), float(n_p), se_p, sq_p, self.binary)
            ok = bool(p[0] <= self.alpha_test)
        return ok
