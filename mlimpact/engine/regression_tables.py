"""Regression sufficient statistics counted by a SQL engine, in the memory path's cells.

Per group the regression metrics need the sums of the per-row error terms (|e|, e, e², |e| / max(|y|, eps)),
the centred truth and its square, and for the bootstrap the same sums per (truth quantile x error quantile)
cell, the quantiles being the whole data's (:mod:`mlimpact.metrics.regression`). One pass gets the global
mean, a few more the quantiles from exact order statistics (numpy's linear interpolation, in bounded memory:
:mod:`mlimpact.engine.order`), and one scan counts every grouping's cells at once (``GROUPING SETS``); nothing
else comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.engine.order import linear_quantiles_of
from mlimpact.engine.sql import bin_index, group_by_sets
from mlimpact.io.decision import DEFAULT_THRESHOLD

__all__ = ["RegressionSpec", "RegressionKeys", "RegressionTables", "regression_keys", "regression_tables_many",
           "REG_Y_BINS", "REG_ERROR_BINS", "TERMS"]

#: the bootstrap's cells: truth quantiles x error quantiles (the memory path's, mlimpact.metrics.base)
REG_Y_BINS = 4
REG_ERROR_BINS = 16
#: the per-row terms summed per cell (name -> SQL over the error ``mli_e`` and the truth ``mli_y``)
TERMS = {
    "mae": "abs(mli_e)",
    "mean_error": "mli_e",
    "rmse": "mli_e * mli_e",
    "mape": "abs(mli_e) / greatest(abs(mli_y), 2.220446049250313e-16)",
    "yc": "mli_yc",
    "yc2": "mli_yc * mli_yc",
}


@dataclass(frozen=True)
class RegressionSpec:
    """The usable rows (``where``), the truth and the prediction as SQL."""

    where: str
    y: str
    pred: str
    threshold: float = DEFAULT_THRESHOLD  # unused: kept so engines can treat every spec alike


@dataclass(frozen=True)
class RegressionKeys:
    """The whole data's rows, mean truth and the bootstrap's bin edges."""

    n: int
    mean: float
    y_edges: np.ndarray
    e_edges: np.ndarray


def _base(spec: RegressionSpec) -> str:
    return (f"SELECT *, CAST({spec.y} AS DOUBLE) AS mli_y, CAST({spec.pred} AS DOUBLE) - CAST({spec.y} AS DOUBLE) "
            f"AS mli_e FROM src WHERE {spec.where}")


def regression_keys(backend, spec: RegressionSpec) -> RegressionKeys:
    """Rows, the mean truth, and the exact quantile edges of truth and error (numpy's, from their order statistics:
    :func:`mlimpact.engine.order.linear_quantiles_of`, in bounded memory at any size)."""
    qy = np.linspace(0, 1, REG_Y_BINS + 1)[1:-1]
    qe = np.linspace(0, 1, REG_ERROR_BINS + 1)[1:-1]
    row = backend.query(f"SELECT count(*) AS n, avg(mli_y) AS m FROM ({_base(spec)}) t").iloc[0]
    n = int(row["n"])
    if n == 0:
        return RegressionKeys(0, 0.0, np.zeros(0), np.zeros(0))
    truth, error = f"CAST({spec.y} AS DOUBLE)", f"CAST({spec.pred} AS DOUBLE) - CAST({spec.y} AS DOUBLE)"
    return RegressionKeys(n, float(row["m"]), np.unique(linear_quantiles_of(backend, truth, spec.where, n, qy)),
                          np.unique(linear_quantiles_of(backend, error, spec.where, n, qe)))


@dataclass(frozen=True)
class RegressionTables:
    """One grouping's cells: raw group values, cell index, rows, and per term (sum, sum of squares)."""

    groups: pd.DataFrame
    cell: np.ndarray
    n: np.ndarray
    sums: dict
    zeros: np.ndarray  #: rows whose truth is 0, per result row
    keys: RegressionKeys

    @property
    def group(self) -> pd.Series:
        return self.groups["g0"]


def regression_tables_many(backend, spec: RegressionSpec, keys: RegressionKeys, groupings, *,
                           where: str | None = None) -> list[RegressionTables]:
    """The cells of several groupings (``(group_sql, hint)`` pairs) in one scan."""
    n_e = len(keys.e_edges) + 1
    cell = f"({bin_index('mli_y', keys.y_edges)} * {n_e} + {bin_index('mli_e', keys.e_edges)})"
    cols, sets = [], []
    for i, (group_sql, _hint) in enumerate(groupings):
        exprs = [] if group_sql is None else [group_sql] if isinstance(group_sql, str) else list(group_sql)
        names = [f"g{i}_{j}" for j in range(len(exprs))]
        cols += [f"{e} AS {n}" for e, n in zip(exprs, names, strict=True)]
        cols.append(f"{cell} AS c{i}")
        sets.append(names + [f"c{i}"])
    terms = "".join(f", {sql} AS t_{k}" for k, sql in TERMS.items())
    sums = "".join(f", sum(t_{k}) AS {k}_1, sum(t_{k} * t_{k}) AS {k}_2" for k in TERMS)
    group_by, grouped, marks = group_by_sets(sets, lambda i: f"c{i}")
    extra = f" WHERE {where}" if where else ""
    sql = (f"SELECT {', '.join(grouped + marks)}, count(*) AS n, sum(CASE WHEN mli_y = 0 THEN 1 ELSE 0 END) AS z"
           f"{sums} FROM (SELECT {', '.join(cols)}, mli_y, mli_e, mli_y - {keys.mean!r} AS mli_yc{terms} "
           f"FROM ({_base(spec)}) t{extra}) u {group_by}")
    df = backend.query(sql)
    out = []
    for i in range(len(groupings)):  # a handful of groupings, each split off the one result
        mine = df if len(sets) == 1 else df[df[f"x{i}"] == 0]
        n_exprs = len(sets[i]) - 1
        groups = mine[[f"g{i}_{j}" for j in range(n_exprs)]] if n_exprs else pd.DataFrame({"g": [None] * len(mine)})
        groups = groups.set_axis([f"g{j}" for j in range(groups.shape[1])], axis=1).reset_index(drop=True)
        out.append(RegressionTables(
            groups=groups, cell=mine[f"c{i}"].to_numpy(dtype=np.int64), n=mine["n"].to_numpy(dtype=np.int64),
            sums={k: (mine[f"{k}_1"].to_numpy(dtype=float), mine[f"{k}_2"].to_numpy(dtype=float)) for k in TERMS},
            zeros=mine["z"].to_numpy(dtype=np.int64), keys=keys))
    return out
