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
    # redundancy: a child must be clearly worse than every parent. Its p-value against a parent
    # tests it against the parent's other rows; the largest over the parents (intersection-union)
    # goes through Benjamini-Hochberg over every evaluated child.
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
    q_red = benjamini_hochberg(np.concatenate(p_red)) if p_red else np.empty(0)
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
        return []
    li_all, pos_all, sc_all, ss_all = (np.concatenate([c[j] for c in cands]) for j in range(4))
    order = np.lexsort((-ss_all, -sc_all))
    pool = order[: 5 * k + 50]

    # explained away: drop a slice whose excess comes from a more specific candidate slice
    D = engine.D
    P = len(pool)
    onehot = np.zeros((P, D), dtype=np.int32)
    lev = np.empty(P, dtype=np.int64)
    ss = np.empty(P)
    se = np.empty(P)
    sq = np.empty(P)
    for r, i in enumerate(pool):
        lv = levels[li_all[i]]
        onehot[r, lv.g[pos_all[i]]] = 1
        lev[r] = lv.g.shape[1]
        ss[r], se[r], sq[r] = lv.ss[pos_all[i]], lv.se[pos_all[i]], lv.sq[pos_all[i]]
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
    # greedy, best first: a slice is listed only if its rows not covered by the slices listed above
    # it (other than its own ancestors) are still clearly worse than average and than each parent
    # on those rows -- so overlaps of two listed effects do not fill the list
    codes, e = engine.codes, engine.e
    e2 = e if binary else engine.e2
    ordered = pool[~explained]
    alpha_test = (1 - confidence) / max(len(ordered), 1)  # Bonferroni over the slices examined here

    def mask_of(preds) -> np.ndarray:
        mask = np.ones(engine.n, dtype=bool)
        for gid in preds:
            f = engine.feat_of[gid]
            mask &= codes[:, f] == gid - engine.offsets[f]
        return mask

    chosen: list[tuple[int, frozenset, np.ndarray]] = []
    for i in ordered:
        if len(chosen) == k:
            break
        g = levels[li_all[i]].g[pos_all[i]]
        preds = frozenset(int(x) for x in g)
        others = [m for _, sp, m in chosen if not sp < preds]
        if not others:
            chosen.append((int(i), preds, mask_of(g)))
            continue
        covered = np.logical_or.reduce(others)
        mask = mask_of(g)
        rest = mask & ~covered
        n_r = int(rest.sum())
        if n_r == 0:
            continue
        se_r, sq_r = float(e[rest].sum()), float(e2[rest].sum())
        low_r, _ = _intervals(np.array([n_r]), np.array([se_r]), np.array([sq_r]), binary, confidence)
        ok = bool(low_r[0] > avg)
        for drop in range(len(g) if len(g) > 1 else 0):
            if not ok:
                break
            pmask = mask_of(np.delete(g, drop)) & ~covered
            p = _p_values(
                np.array([n_r]),
                np.array([se_r]),
                np.array([sq_r]),
                float(pmask.sum()),
                float(e[pmask].sum()),
                float(e2[pmask].sum()),
                binary,
            )
            ok = bool(p[0] <= alpha_test)
        if ok:
            chosen.append((int(i), preds, mask))
    return [(int(li_all[i]), int(pos_all[i]), float(sc_all[i])) for i, _, _ in chosen]
