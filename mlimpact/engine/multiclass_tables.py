"""Multiclass sufficient statistics counted by a SQL engine, in the memory path's cells.

Every multiclass metric mlimpact shows is a function of, per group, the rows by (true class, predicted
class), the rows whose true class is among the two most probable, and the log loss's sum and its
bootstrap cells (rows, sum and sum of squares per global quantile of the per-row loss). The io layer's
rules become SQL here: the label's and the prediction's values are read back (at most
:data:`MAX_CLASSES` of each), normalized by :func:`mlimpact.io.roles.normalize_labels` and mapped to the
sorted classes; the predicted class is the first most probable one (``np.argmax``) when no prediction
column is given; top-2 uses scikit-learn's tie order; the loss quantiles are exact order statistics of
the probability of the true class, the loss being a decreasing function of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact.engine.order import order_statistics
from mlimpact.engine.sql import (
    LOG_EPS,
    double,
    finite,
    group_by_sets,
    ident,
    literal,
    literals,
    number_type,
)
from mlimpact.errors import InputError
from mlimpact.io.build import class_from_column
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.io.roles import normalize_labels

__all__ = ["MulticlassSpec", "MulticlassKeys", "MulticlassTables", "multiclass_spec", "multiclass_keys",
           "multiclass_tables_many", "MAX_CLASSES", "LOSS_BINS", "REASONS", "predicted_sql", "true_prob_sql",
           "DISTINCT_MAX", "most_sql", "argmax_sql", "of_class_sql", "label_values",
           "class_code_sql"]

#: values of the label (and of the prediction) an engine reads back: more is not a multiclass label
MAX_CLASSES = 1_000
#: the log loss's bootstrap bins (the memory path's, mlimpact.metrics.base.BOOT_LOSS_BINS)
LOSS_BINS = 16
#: the true class's probability is counted per value (and its order statistics read here) up to this many values
DISTINCT_MAX = 1_000_000
#: why rows are left out, in the memory path's order
REASONS = ("label is missing", "a class probability is missing", "a class probability is infinite",
           "prediction is missing")


@dataclass(frozen=True)
class MulticlassSpec:
    """The usable rows (``where``), the true class's code, the predicted class's code (None: the argmax of
    ``probs``) and each class's probability (SQL; ``0.0`` for a class without a column), as SQL."""

    where: str
    y: str
    pred: str | None
    probs: tuple[str, ...]
    K: int
    threshold: float = DEFAULT_THRESHOLD  # unused: kept so engines can treat every spec alike


@dataclass(frozen=True)
class MulticlassKeys:
    """The usable rows and the log loss's bin edges (the memory path's) with, per edge, the largest
    probability of the true class whose loss reaches it (None: every row's does), and each bin's shift."""

    n: int
    K: int
    loss_edges: np.ndarray
    limits: tuple
    shifts: np.ndarray  #: each bin's smallest loss (mlimpact.metrics.multiclass._loss_cells's)


@dataclass(frozen=True)
class MulticlassTables:
    """One grouping's counts by (group, true class, predicted class, top-2 hit, loss bin)."""

    groups: pd.DataFrame
    y: np.ndarray
    pred: np.ndarray
    hit: np.ndarray
    cell: np.ndarray
    n: np.ndarray
    loss_sum: np.ndarray
    shifted_sum: np.ndarray  #: sums of the loss minus its bin's shift
    shifted_sq: np.ndarray  #: and of its square
    keys: MulticlassKeys
    probabilities: bool
    exact: bool = True  #: every count equals the memory path's
    n_keys: int = 0

    @property
    def group(self) -> pd.Series:
        return self.groups["g0"]


def label_values(backend, column: str, where: str = "TRUE") -> pd.DataFrame:
    """A label-like column's values with their counts (``v``, ``n``) and normalized (``norm``) over the rows
    ``where``, at most :data:`MAX_CLASSES` (more: one clear line)."""
    counts = backend.query(f"SELECT {ident(column)} AS v, count(*) AS n FROM src WHERE {where} GROUP BY 1 "
                           f"ORDER BY 2 DESC LIMIT {MAX_CLASSES + 1}")
    if len(counts) > MAX_CLASSES:
        raise InputError(f"column `{column}` has more than {MAX_CLASSES:,} values; a multiclass label or prediction "
                         "on the engines has at most that many classes; use --engine memory")
    return counts.assign(norm=normalize_labels(counts["v"]))


def class_code_sql(column: str, counts: pd.DataFrame, lookup: dict, kind: str) -> tuple[str, str]:
    """The class code of ``column``'s values (CASE over its raw values) and the SQL of its missing values."""
    col = ident(column)
    by_class: dict[int, list] = {}
    missing = []
    floats = str(kind).upper().startswith(("FLOAT", "DOUBLE", "REAL"))
    for v, k in zip(counts["v"].tolist(), counts["norm"].tolist(), strict=True):
        if pd.isna(v) or (floats and not np.isfinite(v)):  # NULL, NaN, pandas' NA; infinities: as below
            continue
        if pd.isna(k):
            missing.append(v)
        else:
            by_class.setdefault(lookup[k], []).append(v)
    whens = " ".join(f"WHEN {col} IN ({literals(vs)}) THEN {j}" for j, vs in sorted(by_class.items()))
    # numbers that are not finite read as missing labels, as normalize_labels reads them
    nan = f" OR NOT {finite(col)}" if floats else ""
    is_missing = f"({col} IS NULL{nan}" + (f" OR {col} IN ({literals(missing)})" if missing else "") + ")"
    return (f"CASE {whens} ELSE -1 END" if whens else "-1"), is_missing


def multiclass_spec(backend, roles, types) -> tuple[MulticlassSpec, tuple[str, ...], str, str]:
    """The spec, the classes (sorted, as in memory), the SQL of each row's reason to be left out (NULL: used)
    and of the rows left out only because their label is missing."""
    labels = label_values(backend, roles.label)
    found = set(labels["norm"].dropna())
    if not found:
        raise InputError(f"column `{roles.label}` (label): every value is missing; pick the column with the true "
                         "outcome")
    preds = label_values(backend, roles.prediction) if roles.prediction else None
    if preds is not None:
        found |= set(preds["norm"].dropna())
    names = [class_from_column(c, found) for c in roles.class_scores]
    classes = tuple(sorted(found | set(names)))
    if not roles.class_scores and roles.prediction is None:
        raise InputError("multiclass needs a predicted-class column or one probability column per class")
    for c in roles.class_scores:
        if not number_type(types.get(c, "")):
            raise InputError(f"column `{c}` (score): values are not numbers (type {types.get(c)}); pick columns of "
                             "numbers")
    lookup = {c: j for j, c in enumerate(classes)}
    y, y_missing = class_code_sql(roles.label, labels, lookup, types.get(roles.label, ""))
    cols = [ident(c) for c in roles.class_scores]
    probs = tuple(f"CAST({cols[names.index(c)]} AS DOUBLE)" if c in names else double(0.0) for c in classes)
    prob_missing = " OR ".join(f"{c} IS NULL OR isnan(CAST({c} AS DOUBLE))" for c in cols) or "FALSE"
    prob_bad = " OR ".join(f"NOT {finite(c)}" for c in cols) or "FALSE"
    pred, pred_missing = class_code_sql(roles.prediction, preds, lookup, types.get(roles.prediction, "")) if preds is not None else (None, "FALSE")
    reason = (f"CASE WHEN {y_missing} THEN {literal(REASONS[0])} WHEN {prob_missing} THEN {literal(REASONS[1])} "
              f"WHEN {prob_bad} THEN {literal(REASONS[2])} WHEN {pred_missing} THEN {literal(REASONS[3])} END")
    output_ok = f"NOT ({prob_bad}) AND NOT ({pred_missing})"
    spec = MulticlassSpec(f"NOT ({y_missing}) AND {output_ok}", y, pred, probs if cols else (), len(classes))
    return spec, classes, reason, f"{y_missing} AND {output_ok}"


def predicted_sql(spec: MulticlassSpec) -> str:
    """The predicted class's code over the source's columns: the prediction column's, else the first most
    probable class (``np.argmax``)."""
    return spec.pred if spec.pred is not None else _argmax(spec.probs, most_sql(spec.probs))


def true_prob_sql(spec: MulticlassSpec) -> str:
    """The probability of the true class over the source's columns (needs probabilities)."""
    return of_class_sql(spec.y, spec.probs)


def most_sql(probs) -> str:
    """The largest class probability."""
    return f"greatest({', '.join(probs)})" if len(probs) > 1 else probs[0]


def argmax_sql(probs) -> str:
    """The first most probable class's code (``np.argmax``)."""
    return _argmax(probs, most_sql(probs))


def _argmax(probs, most: str) -> str:
    """The first class whose probability is ``most`` (``np.argmax``'s tie order)."""
    return "CASE " + " ".join(f"WHEN {p} = {most} THEN {j}" for j, p in enumerate(probs)) + f" ELSE {len(probs) - 1} END"


def of_class_sql(code: str, probs) -> str:
    """The probability of the class whose code is ``code``."""
    return f"CASE {code} " + " ".join(f"WHEN {j} THEN {p}" for j, p in enumerate(probs)) + " END"


def _layers(spec: MulticlassSpec, keys: MulticlassKeys | None = None) -> str:
    """The usable rows with ``mli_y`` (true class), ``mli_p`` (predicted class) and, with probabilities,
    ``mli_t`` (the true class's), ``mli_h`` (top-2 hit), ``mli_l`` (log loss) and ``mli_b`` (its bin)."""
    qs = [f"mli_q{j}" for j in range(len(spec.probs))]
    inner = ", ".join(["*", f"{spec.y} AS mli_y"] + [f"{p} AS {q}" for p, q in zip(spec.probs, qs, strict=True)])
    sql = f"SELECT {inner} FROM src WHERE {spec.where}"
    if not qs:
        return f"SELECT *, {spec.pred} AS mli_p, 0 AS mli_h, 0 AS mli_b FROM ({sql}) a"
    sql = f"SELECT *, {of_class_sql('mli_y', qs)} AS mli_t, {most_sql(qs)} AS mli_m FROM ({sql}) a"
    # scikit-learn's tie order: among classes as probable as the true one, the later ones rank above it
    ahead = " + ".join(f"CAST({q} > mli_t AS INTEGER) + CAST({q} = mli_t AND mli_y < {j} AS INTEGER)"
                       for j, q in enumerate(qs))
    clipped = f"greatest(least(mli_t, {double(1 - LOG_EPS)}), {double(LOG_EPS)})"
    cells = "(" + " + ".join("1" if lim is None else f"CAST(mli_t <= {double(lim)} AS INTEGER)"
                             for lim in keys.limits) + ")" if keys is not None and keys.limits else "0"
    return (f"SELECT *, {spec.pred or _argmax(qs, 'mli_m')} AS mli_p, CASE WHEN {ahead} < 2 THEN 1 ELSE 0 END AS mli_h, "
            f"-ln({clipped}) AS mli_l, {cells} AS mli_b FROM ({sql}) b")


def multiclass_keys(backend, spec: MulticlassSpec) -> MulticlassKeys:
    """The usable rows, then (with probabilities) the loss's quantile edges from exact order statistics: read
    from the true class's probability counted per value while its values are few (:data:`DISTINCT_MAX`), else
    from :func:`mlimpact.engine.order.order_statistics` (histogram, then the few bins that hold them)."""
    stats = f"SELECT mli_t FROM ({_layers(spec)}) t" if spec.probs else None
    row = backend.query("SELECT count(*) AS n" + (", approx_count_distinct(mli_t) AS d" if stats else "")
                        + f" FROM ({stats or f'SELECT 1 FROM src WHERE {spec.where}'}) s").iloc[0]
    n = int(row["n"])
    if not spec.probs or n == 0:
        return MulticlassKeys(n, spec.K, np.zeros(0), (), np.zeros(1))
    pos = np.linspace(0, n, LOSS_BINS + 1).astype(np.int64)[:-1]  # 0: the smallest loss, then the edges
    ranks = n - 1 - pos  # the loss ascending is the true class's probability descending
    if int(row["d"]) <= DISTINCT_MAX:
        counts = backend.query(f"SELECT mli_t AS v, count(*) AS k FROM ({stats}) s GROUP BY 1 ORDER BY 1")
        values, ends = counts["v"].to_numpy(dtype=float), np.cumsum(counts["k"].to_numpy(dtype=np.int64))
        return _keys_of(n, spec.K, values[np.searchsorted(ends, ranks, side="right")])
    return _keys_of(n, spec.K, order_statistics(backend, true_prob_sql(spec), spec.where, ranks))


def _keys_of(n: int, K: int, q: np.ndarray) -> MulticlassKeys:
    """Edges ``unique(loss(q[1:]))`` as memory's (``q[0]`` is the largest probability: the smallest loss); each
    edge's limit is the largest ``q`` with that loss, widened by the clipping (at or below eps every loss is the
    largest; at or above 1 - eps, the smallest)."""
    eps = np.finfo(float).eps
    loss = -np.log(np.clip(q, eps, 1 - eps))
    smallest, q, loss = loss[0], q[1:], loss[1:]
    edges = np.unique(loss)
    limits = []
    for e in edges:
        lim = max(float(q[loss == e].max()), eps)  # at or below eps every loss is the largest
        while lim < 1 - eps and -np.log(np.clip(np.nextafter(lim, 2.0), eps, 1 - eps)) == e:
            lim = float(np.nextafter(lim, 2.0))  # the next doubles up with the same loss: a few ulps at most
        limits.append(None if lim >= 1 - eps else lim)
    return MulticlassKeys(n, K, edges, tuple(limits), np.concatenate([[smallest], edges]))


def multiclass_tables_many(backend, spec: MulticlassSpec, keys: MulticlassKeys, groupings, *,
                           where: str | None = None) -> list[MulticlassTables]:
    """Every grouping's (``(group_sql, n_groups_hint)`` pairs) counts in one scan (``GROUPING SETS``)."""
    cols, sets, plans = [], [], []
    for i, (group_sql, _hint) in enumerate(groupings):
        exprs = [] if group_sql is None else [group_sql] if isinstance(group_sql, str) else list(group_sql)
        names = [f"g{i}_{j}" for j in range(len(exprs))]
        cols += [f"{e} AS {nm}" for e, nm in zip(exprs, names, strict=True)] + [f"{i} AS k{i}"]
        sets.append(names + [f"k{i}", "mli_y", "mli_p", "mli_h", "mli_b"])
        plans.append((i, len(exprs)))
    group_by, grouped, marks = group_by_sets(sets, lambda i: f"k{i}")
    probs = bool(spec.probs)
    loss = ", sum(mli_l) AS l1, sum(mli_d) AS d1, sum(mli_d * mli_d) AS d2" if probs else ""
    shift = "CASE mli_b " + " ".join(f"WHEN {b} THEN {double(v)}" for b, v in enumerate(keys.shifts)) + " END"
    carried = f", mli_l, mli_l - {shift} AS mli_d" if probs else ""
    extra = f" WHERE {where}" if where else ""
    sql = (f"SELECT {', '.join(grouped + marks)}, count(*) AS n{loss} FROM (SELECT {', '.join(cols)}, mli_y, mli_p, "
           f"mli_h, mli_b{carried} FROM ({_layers(spec, keys)}) t{extra}) u {group_by}")
    df = backend.query(sql)
    out = []
    for i, n_exprs in plans:
        part = df if len(plans) == 1 else df[df[f"x{i}"] == 0]
        groups = part[[f"g{i}_{j}" for j in range(n_exprs)]] if n_exprs else pd.DataFrame({"g": [None] * len(part)})
        groups = groups.set_axis([f"g{j}" for j in range(groups.shape[1])], axis=1).reset_index(drop=True)
        zeros = np.zeros(len(part))
        out.append(MulticlassTables(
            groups, part["mli_y"].to_numpy(dtype=np.int64), part["mli_p"].to_numpy(dtype=np.int64),
            part["mli_h"].to_numpy(dtype=np.int64), part["mli_b"].to_numpy(dtype=np.int64),
            part["n"].to_numpy(dtype=np.int64), *(part[c].to_numpy(dtype=float) if probs else zeros
                                                  for c in ("l1", "d1", "d2")), keys, probs))
    return out
