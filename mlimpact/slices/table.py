"""Weak slices as a table: every evaluated slice tested, the picked ones laid out in ``SLICE_COLUMNS``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.metrics import benjamini_hochberg
from mlimpact.slices.encoding import EncodedFeatures
from mlimpact.slices.lattice import _Engine, _Level
from mlimpact.slices.stats import _intervals, _p_values

__all__ = ["SLICE_COLUMNS", "_SliceTests", "_slice_table"]

#: columns of ``SliceResult.slices``, in order, every time
SLICE_COLUMNS = [
    "rank", "predicates", "description", "level", "n", "share", "error_sum", "error_rate", "low", "high",
    "rest_error_rate", "ratio_to_overall", "score", "p_value", "q_value", "significant",
]  # fmt: skip

_DTYPES = {
    "rank": "int64", "predicates": "object", "description": "str", "level": "int64", "n": "int64",
    "share": "float64", "error_sum": "float64", "error_rate": "float64", "low": "float64",
    "high": "float64", "rest_error_rate": "float64", "ratio_to_overall": "float64", "score": "float64",
    "p_value": "float64", "q_value": "float64", "significant": "bool",
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class _SliceTests:
    """Every evaluated slice tested against the rest of the data; Benjamini-Hochberg over all of them.

    ``p_all`` / ``q_all`` / ``sq_all`` run over the levels in order; ``bounds`` are the levels' offsets
    into them (one more than there are levels).
    """

    n: int
    total_se: float
    p_all: np.ndarray
    q_all: np.ndarray
    sq_all: np.ndarray
    bounds: np.ndarray

    @property
    def n_evaluated(self) -> int:
        return len(self.p_all)

    @classmethod
    def of(cls, levels: list[_Level], n: int, total_se: float, total_sq: float, binary: bool) -> _SliceTests:
        """Test every slice of ``levels`` against the rest of the ``n`` rows (error sums ``total_se``, ``total_sq``)."""
        all_ss = np.concatenate([lv.ss for lv in levels])
        all_se = np.concatenate([lv.se for lv in levels])
        all_sq = np.concatenate([lv.sq for lv in levels])
        p_all = _p_values(all_ss, all_se, all_sq, n, total_se, total_sq, binary)
        q_all = benjamini_hochberg(p_all) if len(all_ss) else p_all
        bounds = np.cumsum([0] + [len(lv.ss) for lv in levels])
        return cls(n, total_se, p_all, q_all, all_sq, bounds)

    def significant_per_level(self, confidence: float) -> list[np.ndarray]:
        """Per level, which slices have a q-value <= ``1 - confidence``."""
        return np.split(self.q_all <= 1 - confidence, self.bounds[1:-1])


def _slice_table(features: EncodedFeatures, engine: _Engine, levels: list[_Level], picks, tests: _SliceTests, *,
                 avg: float, binary: bool, confidence: float) -> tuple[pd.DataFrame, list]:
    """The picks ``(level index, position, score)`` as ``SliceResult.slices``, and each one's definition.

    A definition is the slice's ``(column, code)`` pairs.
    """
    n, total_se = tests.n, tests.total_se
    flat = np.array([tests.bounds[li] + pos for li, pos, _ in picks], dtype=np.int64)
    records, definitions = _records(features, engine, levels, picks)
    out = pd.DataFrame.from_records(
        records, columns=["rank", "predicates", "description", "level", "n", "error_sum", "score"]
    )
    ss = out["n"].to_numpy(dtype=float)
    se = out["error_sum"].to_numpy(dtype=float)
    sq = tests.sq_all[flat] if len(flat) else np.empty(0)
    low, high = _intervals(ss, se, sq, binary, confidence) if len(flat) else (np.empty(0), np.empty(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = ss / n
        out["error_rate"] = se / ss
        out["low"], out["high"] = low, high
        out["rest_error_rate"] = np.where(ss < n, (total_se - se) / (n - ss), np.nan)
        out["ratio_to_overall"] = (se / ss) / avg if avg > 0 else np.nan
    out["p_value"] = tests.p_all[flat] if len(flat) else np.empty(0)
    out["q_value"] = tests.q_all[flat] if len(flat) else np.empty(0)
    out["significant"] = (out["q_value"] <= 1 - confidence).astype(bool)
    return out[SLICE_COLUMNS].astype(_DTYPES), definitions


def _records(features: EncodedFeatures, engine: _Engine, levels: list[_Level], picks):
    """One record per pick (rank, predicates, description, level, n, error_sum, score), and its definition."""
    records, definitions = [], []
    for rank, (li, pos, sc) in enumerate(picks, start=1):
        lv = levels[li]
        g = lv.g[pos]
        feats = engine.feat_of[g]
        codes = g - engine.offsets[feats]
        defn = tuple((int(f), int(c)) for f, c in zip(feats, codes, strict=True))
        definitions.append(defn)
        records.append(
            {
                "rank": rank,
                "predicates": {features.columns[f]: features.labels[f][c] for f, c in defn},
                "description": " and ".join(features.fragments[f][c] for f, c in defn),
                "level": len(defn),
                "n": int(lv.ss[pos]),
                "error_sum": float(lv.se[pos]),
                "score": float(sc),
            }
        )
    return records, definitions
