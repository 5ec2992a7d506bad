"""The lattice engine of the weak-slice search: grouped statistics per combination of columns, and the searches.

:class:`_Engine` computes the statistics of every slice over a combination of columns in one
vectorized pass; :func:`_search_exhaustive` (``scoring="balanced"``) enumerates every slice with
enough rows level by level, :func:`_search_sliceline` runs SliceLine step for step as the
``sliceline`` package does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlimpact.slices.encoding import EncodedFeatures
from mlimpact.slices.stats import _sliceline_score, _sliceline_score_ub

__all__ = ["_TimeUp", "_Level", "_Engine", "_search_exhaustive", "_search_sliceline"]


class _TimeUp(Exception):
    pass


@dataclass
class _Level:
    """Slices of one level: one-hot ids per predicate (sorted), sorted integer keys and statistics."""

    g: np.ndarray  # (c, level) int64
    key: np.ndarray  # (c,) int64, ascending
    ss: np.ndarray  # sizes
    se: np.ndarray  # error sums
    sq: np.ndarray  # sums of squared errors
    sm: np.ndarray  # max error

    def __len__(self) -> int:
        return len(self.key)

    def take(self, idx) -> _Level:
        return _Level(self.g[idx], self.key[idx], self.ss[idx], self.se[idx], self.sq[idx], self.sm[idx])

    @staticmethod
    def concat(parts: list[_Level], level: int) -> _Level:
        if not parts:
            e = np.empty(0)
            return _Level(
                np.empty((0, level), np.int64), np.empty(0, np.int64), np.empty(0, np.int64), e, e, e
            )
        out = _Level(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("g", "key", "ss", "se", "sq", "sm"))
        )
        return out.take(np.argsort(out.key, kind="stable"))

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Positions of ``keys`` in this level, -1 where absent."""
        if len(self.key) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.key, keys), len(self.key) - 1)
        return np.where(self.key[pos] == keys, pos, -1)


class _Engine:
    """Grouped statistics of slices over encoded columns: one vectorized pass per column combination."""

    def __init__(
        self,
        features: EncodedFeatures,
        errors: np.ndarray,
        binary: bool,
        need_max: bool,
        deadline: float | None,
    ) -> None:
        self.codes = features.codes
        self.n, self.m = features.codes.shape
        self.dims = features.domain_sizes
        self.offsets = np.concatenate([[0], np.cumsum(self.dims)[:-1]]).astype(np.int64)
        self.D = int(self.dims.sum())
        self.feat_of = np.repeat(np.arange(self.m), self.dims)
        self.e = errors
        self.e2 = None if binary else errors * errors
        self.total_se = float(errors.sum())
        self.total_sq = self.total_se if binary else float(self.e2.sum())
        self.binary = binary
        self.need_max = need_max and not binary
        self.deadline = deadline
        self.limit = max(4 * self.n, 1 << 16)
        # rows with a non-zero error: error sums only need those (10% of the rows at a 10% error rate)
        nz = np.flatnonzero(errors)
        self.nz = nz if len(nz) < 0.6 * self.n else slice(None)
        self._prefix: tuple[tuple[int, ...], np.ndarray | None] = ((), None)
        self._masks: dict[tuple[int, ...], np.ndarray] = {}

    def mask_of(self, preds) -> np.ndarray:
        """Rows where every predicate (global predicate id) holds (kept: the overlap filter asks again)."""
        key = tuple(int(x) for x in preds)
        if key not in self._masks:
            self._masks[key] = self._mask(key)
        return self._masks[key]

    def _mask(self, preds) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool)
        for gid in preds:
            f = self.feat_of[gid]
            mask &= self.codes[:, f] == gid - self.offsets[f]
        return mask

    def plan_regions(self, slices: list[np.ndarray]) -> None:
        """The slices the overlap filter will examine, best first (an engine batches its scans by them)."""

    def region_sums(self, includes: list[np.ndarray], excludes: list[np.ndarray]) -> list[tuple[int, float, float]]:
        """Rows, error sum and squared-error sum of each slice in ``includes`` outside every slice in ``excludes``."""
        covered = np.zeros(self.n, dtype=bool)
        for g in excludes:
            covered |= self.mask_of(g)
        e2 = self.e if self.binary else self.e2
        out = []
        for g in includes:
            m = self.mask_of(g) & ~covered
            out.append((int(m.sum()), float(self.e[m].sum()), float(e2[m].sum())))
        return out

    def check_time(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _TimeUp

    def keys(self, g: np.ndarray) -> np.ndarray:
        key = np.zeros(len(g), dtype=np.int64)
        for i in range(g.shape[1]):
            key = key * self.D + g[:, i]
        return key

    def combined_code(self, feats: tuple[int, ...]) -> np.ndarray:
        """Per-row code of the value combination over ``feats`` (the prefix's code is reused)."""
        if len(feats) == 1:
            return self.codes[:, feats[0]].astype(np.int64)
        if self._prefix[0] == feats[:-1]:
            prefix = self._prefix[1]
        else:
            prefix = self.combined_code(feats[:-1])
            self._prefix = (feats[:-1], prefix)
        code = prefix * self.dims[feats[-1]]
        code += self.codes[:, feats[-1]]
        return code

    def table(self, feats: tuple[int, ...]):
        """Statistics of every non-empty slice over the columns ``feats`` (local codes ascending)."""
        code = self.combined_code(feats)
        n_groups = int(np.prod(self.dims[list(feats)]))
        if n_groups <= self.limit:
            cnt = np.bincount(code, minlength=n_groups)
            local = np.flatnonzero(cnt)
            idx, cnt = code, cnt[local]
        else:
            local, idx = np.unique(code, return_inverse=True)
            cnt = np.bincount(idx)
            n_groups = len(local)

        def agg(w):
            out = np.bincount(idx[self.nz], weights=w, minlength=n_groups)
            return out if len(out) == len(local) else out[local]

        se = agg(None if self.binary else self.e[self.nz]).astype(float)
        sq = se if self.binary else agg(self.e2[self.nz])
        if self.binary:
            sm = (se > 0).astype(float)
        elif self.need_max:
            sm = np.zeros(n_groups)
            np.maximum.at(sm, idx[self.nz], self.e[self.nz])
            if len(sm) != len(local):
                sm = sm[local]
        else:
            sm = np.full(len(local), np.nan)
        return local, cnt.astype(np.int64), se, sq, sm

    def decode(self, feats: tuple[int, ...], local: np.ndarray) -> np.ndarray:
        g = np.empty((len(local), len(feats)), dtype=np.int64)
        rest = local
        for i in range(len(feats) - 1, -1, -1):
            f = feats[i]
            rest, v = np.divmod(rest, self.dims[f])
            g[:, i] = v + self.offsets[f]
        return g

    def evaluate(self, g: np.ndarray, progress: Callable[[float], None] | None = None) -> _Level:
        """Exact statistics for the slices ``g`` (rows of sorted one-hot ids), grouped by columns."""
        c, level = g.shape
        ss = np.zeros(c, np.int64)
        se, sq, sm = np.zeros(c), np.zeros(c), np.zeros(c)
        if c:
            feats = self.feat_of[g]
            local = g - self.offsets[feats]
            combo = np.zeros(c, dtype=np.int64)
            for i in range(level):
                combo = combo * self.m + feats[:, i]
            order = np.argsort(combo, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(combo[order]) != 0])
            ends = np.r_[starts[1:], c]
            for j, (a, b) in enumerate(zip(starts, ends, strict=True)):
                self.check_time()
                rows = order[a:b]
                F = tuple(int(f) for f in feats[rows[0]])
                lc = np.zeros(len(rows), dtype=np.int64)
                for i, f in enumerate(F):
                    lc = lc * self.dims[f] + local[rows, i]
                t_local, t_ss, t_se, t_sq, t_sm = self.table(F)
                pos = np.minimum(np.searchsorted(t_local, lc), max(len(t_local) - 1, 0))
                found = t_local[pos] == lc
                ss[rows] = np.where(found, t_ss[pos], 0)
                se[rows] = np.where(found, t_se[pos], 0.0)
                sq[rows] = np.where(found, t_sq[pos], 0.0)
                sm[rows] = np.where(found, t_sm[pos], 0.0)
                if progress is not None:
                    progress((j + 1) / len(starts))
        out = _Level(g, self.keys(g), ss, se, sq, sm)
        return out.take(np.argsort(out.key, kind="stable"))

    def join(self, parents: _Level, level: int):
        """Apriori join: candidates of ``level`` predicates whose every parent is in ``parents``.

        Returns the candidates' one-hot ids and the positions in ``parents`` of their two parents
        that drop the first and the second predicate (SliceLine bounds a candidate by those two).
        """
        p = parents.g
        if level == 2:
            a, b = np.triu_indices(len(p), 1)
            ok = self.feat_of[p[a, 0]] != self.feat_of[p[b, 0]]
            a, b = a[ok], b[ok]
            g = np.column_stack([p[a, 0], p[b, 0]])
            return g, b, a
        prefix = parents.key // self.D
        starts = np.flatnonzero(np.r_[True, prefix[1:] != prefix[:-1]])
        sizes = np.diff(np.r_[starts, len(p)])
        pos_in_group = np.arange(len(p)) - np.repeat(starts, sizes)
        partners = np.repeat(sizes, sizes) - pos_in_group - 1
        total = int(partners.sum())
        if total == 0:
            return np.empty((0, level), np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        a = np.repeat(np.arange(len(p)), partners)
        b = a + 1 + (np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners))
        ok = self.feat_of[p[a, -1]] != self.feat_of[p[b, -1]]
        a, b = a[ok], b[ok]
        g = np.column_stack([p[a], p[b, -1]])
        present = np.ones(len(g), dtype=bool)
        pos = {}
        for drop in range(level - 2):
            sub = np.delete(g, drop, axis=1)
            pos[drop] = parents.find(self.keys(sub))
            present &= pos[drop] >= 0
        g = g[present]
        first = pos[0][present]
        second = pos[1][present] if level > 3 else b[present]
        return g, first, second


def _search_exhaustive(engine: _Engine, max_l: int, min_sup: int, report):
    """Every slice with at least ``min_sup`` rows, level by level (a column combination is skipped
    when one of its sub-combinations has no such slice)."""
    levels: list[_Level] = []
    alive: set[tuple[int, ...]] = set()
    complete = True
    parts: list[_Level] = []
    level = 1
    combos_by_level = [list(itertools.combinations(range(engine.m), lvl)) for lvl in range(1, max_l + 1)]
    weights = np.array([len(c) for c in combos_by_level], dtype=float)
    done_before = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    try:
        for li, combos in enumerate(combos_by_level):
            level = li + 1
            parts, new_alive = [], set()
            for j, F in enumerate(combos):
                if level > 1 and any(F[:i] + F[i + 1 :] not in alive for i in range(level)):
                    continue
                engine.check_time()
                local, ss, se, sq, sm = engine.table(F)
                keep = ss >= min_sup
                if keep.any():
                    new_alive.add(F)
                    g = engine.decode(F, local[keep])
                    parts.append(_Level(g, engine.keys(g), ss[keep], se[keep], sq[keep], sm[keep]))
                report(
                    done_before[li] + (j + 1) / len(combos) * (done_before[li + 1] - done_before[li]),
                    f"level {level}: {j + 1}/{len(combos)} column combinations",
                )
            levels.append(_Level.concat(parts, level))
            alive = new_alive
            if not alive:
                break
    except _TimeUp:
        complete = False
        levels.append(_Level.concat(parts, level))
    return levels, complete


def _search_sliceline(engine: _Engine, max_l: int, min_sup: int, k: int, alpha: float, avg: float, report):
    """SliceLine, step for step as the ``sliceline`` package runs it (so results match exactly)."""
    n = engine.n
    levels: list[_Level] = []
    complete = True
    top_li, top_pos, top_sc = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)

    def maintain(li: int, sc: np.ndarray) -> None:
        """Add the valid slices of level table ``li`` to the top-k (ties at the k-th score kept)."""
        nonlocal top_li, top_pos, top_sc
        lv = levels[li]
        valid = np.flatnonzero((lv.ss >= min_sup) & (sc > 0))
        if len(valid) == 0:
            return
        cand_li = np.r_[top_li, np.full(len(valid), li)]
        cand_pos = np.r_[top_pos, valid]
        cand_sc = np.r_[top_sc, sc[valid]]
        keep = np.arange(len(cand_sc))
        if len(cand_sc) > k:
            keep = np.flatnonzero(cand_sc >= np.sort(cand_sc)[::-1][k - 1])
        # order: score descending, then the one-hot vectors lexicographically (as the peer does)
        onehot = np.zeros((len(keep), engine.D), dtype=np.int8)
        for r, i in enumerate(keep):
            onehot[r, levels[cand_li[i]].g[cand_pos[i]]] = 1
        keys = tuple(onehot[:, j] for j in range(engine.D - 1, -1, -1)) + (-cand_sc[keep],)
        order = keep[np.lexsort(keys)]
        top_li, top_pos, top_sc = cand_li[order], cand_pos[order], cand_sc[order]

    try:
        report(0.0, "level 1")
        levels.append(engine.evaluate(np.arange(engine.D, dtype=np.int64)[:, None]))
        current = levels[0]
        maintain(0, _sliceline_score(current.ss, current.se, n, alpha, avg))
        current = current.take(np.flatnonzero((current.ss >= min_sup) & (current.se > 0)))
        level = 1
        while len(current) and level < max_l:
            level += 1
            parents = current.take(np.flatnonzero((current.ss >= min_sup) & (current.se > 0)))
            g, first, second = engine.join(parents, level)
            ub = _sliceline_score_ub(
                np.minimum(parents.ss[first], parents.ss[second]),
                np.minimum(parents.se[first], parents.se[second]),
                np.minimum(parents.sm[first], parents.sm[second]),
                engine.D,
                min_sup,
                alpha,
                avg,
            )
            min_score = top_sc[-1] if len(top_sc) else -np.inf
            g = g[(ub > min_score) & (ub > 0)]
            count = len(g)

            def tick(f, level=level, count=count):
                report((level - 1 + f) / max_l, f"level {level}: evaluating {count:,} candidates")

            current = engine.evaluate(g, tick)
            levels.append(current)
            maintain(len(levels) - 1, _sliceline_score(current.ss, current.se, n, alpha, avg))
    except _TimeUp:
        complete = False
    picks = [(int(li), int(pos), float(sc)) for li, pos, sc in zip(top_li, top_pos, top_sc, strict=True)]
    return levels, picks, complete
