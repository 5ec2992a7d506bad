"""An engine source made ready for analysis: roles, the binary label's classes, rows used and excluded.

:func:`open_engine_dataset` is the engines' counterpart of :func:`mlimpact.io.load.load`. Roles are inferred
by :func:`mlimpact.io.infer.infer_roles` from the first rows (names and types; the user's role options
override them), the label's classes by :func:`mlimpact.io.build.binary_label_classes` from the label's
value counts, and the rows that cannot be used are counted by the same reasons as in memory — all in
SQL, nothing row-sized read back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mlimpact.engine.backends import open_backend
from mlimpact.engine.multiclass_tables import (
    REASONS,
    multiclass_keys,
    multiclass_spec,
    multiclass_tables_many,
)
from mlimpact.engine.regression_tables import RegressionSpec, regression_keys, regression_tables_many
from mlimpact.engine.sources import (
    CSV_SUFFIXES,
    DUCKDB_SUFFIXES,
    PARQUET_SUFFIXES,
    SourceSpec,
    resolve_source,
)
from mlimpact.engine.sql import finite, ident, literal, literals, number_type
from mlimpact.engine.tables import BinarySpec, binary_tables_many, score_keys
from mlimpact.errors import InputError
from mlimpact.io.build import binary_label_classes
from mlimpact.io.infer import infer_roles
from mlimpact.io.load import apply_roles
from mlimpact.io.roles import Roles, infer_task, normalize_labels

__all__ = ["EngineDataset", "engine_time_span", "NotOnEngine", "open_engine_dataset", "ROLE_SAMPLE_ROWS", "MAX_LABEL_VALUES", "MEMORY_BUDGET",
           "estimated_memory", "memory_budget", "choose_engine", "read_frame", "global_keys", "count_groupings"]

#: rows read to infer roles (column names, types and a first look at the values)
ROLE_SAMPLE_ROWS = 20_000
MAX_LABEL_VALUES = 1_000


@dataclass
class EngineDataset:
    """A source on an engine with validated roles; :attr:`spec` selects and labels the usable rows."""

    backend: object
    name: str
    fingerprint: str
    roles: Roles
    task: str
    classes: tuple[str, ...]
    spec: BinarySpec
    n_total: int
    exclusions: dict[str, int]
    notes: list[str] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)
    column_types: dict[str, str] = field(default_factory=dict)
    #: SQL: the rows left out only because their label is missing, model output usable (traffic without a label)
    unlabelled: str = "FALSE"
    #: the checks file's end of the reference period (``validate_config`` records it for the engine's checks)
    reference_end: pd.Timestamp | None = None
    #: rows used when :attr:`spec` selects fewer than the source's usable rows (a slice's rows)
    n_used: int | None = None

    @property
    def n(self) -> int:
        """Rows used."""
        return self.n_used if self.n_used is not None else self.n_total - sum(self.exclusions.values())

    @property
    def source(self) -> str:
        """How messages name the source (as ``Dataset.source``)."""
        return self.name

    @property
    def columns(self) -> list[str]:
        """The source's columns."""
        return list(self.column_types)

    def time_sql(self) -> str:
        """The time column as a timestamp (text parsed with ``TRY_CAST``; unparsable text is missing)."""
        col = ident(self.roles.time)
        kind = str(self.column_types.get(self.roles.time, "")).upper()
        return col if kind.startswith(("TIMESTAMP", "DATE")) else f"TRY_CAST({col} AS TIMESTAMP)"

    def summary(self) -> dict:
        """Rows total/used/excluded in the JSON contract's shape."""
        return {"total": self.n_total, "used": self.n, "excluded": dict(self.exclusions)}

    def is_numeric(self, column: str) -> bool:
        """Whether the engine holds ``column`` as numbers (not booleans)."""
        return number_type(self.column_types.get(column, ""))

    def close(self) -> None:
        self.backend.close()


class NotOnEngine(InputError):
    """The engines cannot compute this (not a binary task with a score); the memory path can."""


def _roles(backend, name: str, changes: Mapping | None) -> tuple[Roles, list[str], pd.DataFrame]:
    sample = backend.sample(ROLE_SAMPLE_ROWS)
    guess = infer_roles(sample)
    changes = dict(changes or {})
    roles = apply_roles(guess, changes)
    given = set(changes) | ({"task", "positive"} if "label" in changes else set())
    inferred = [f"inferred {k}={getattr(roles, k)!r} ({why}; from the first {len(sample):,} rows)"
                for k, why in guess.reasons.items() if k not in given and hasattr(roles, k)]
    missing = [c for c in roles.used_columns() if c not in sample.columns]
    if missing:
        raise InputError(f"{name}: column {', '.join(f'`{c}`' for c in missing)} is not in the source; its columns "
                         f"are {', '.join(f'`{c}`' for c in list(sample.columns)[:8])}")
    if roles.label is None:
        raise InputError(f"{name}: no label column chosen; pick the column with the true outcome (--label)")
    task = roles.task or infer_task(sample[roles.label], class_scores=roles.class_scores)[0]
    if task == "multiclass":
        return roles.replace(task="multiclass", positive=None), inferred, sample
    if task == "regression":
        if (roles.prediction or roles.score) is None:
            raise InputError(f"{name}: no prediction column chosen; pick the model's predicted values (--prediction)")
        return roles.replace(task="regression", positive=None), inferred, sample
    if roles.score is None:
        raise NotOnEngine(f"{name}: the engines need a score column (--score); a predicted-class column alone "
                         "works with --engine memory")
    return roles, inferred, sample


def open_engine_dataset(source: str, engine: str, changes: Mapping | None = None, *, threshold: float,
                        spark_master: str | None = None, lockdown: bool = False) -> EngineDataset:
    """Open ``source`` on ``engine`` (``duckdb`` or ``spark``) with the role ``changes``; binary tasks."""
    spec_src = resolve_source(source, engine=engine)
    backend = open_backend(spec_src, engine, spark_master=spark_master, lockdown=lockdown)
    try:
        return _prepare(backend, spec_src, changes, threshold)
    except BaseException:
        backend.close()
        raise


def _prepare(backend, src, changes, threshold) -> EngineDataset:
    name = src.name
    roles, inferred, sample = _roles(backend, name, changes)
    types = backend.columns()
    if roles.task == "regression":
        return _prepare_regression(backend, src, roles, inferred, types)
    if roles.task == "multiclass":
        return _prepare_multiclass(backend, src, roles, inferred, types)
    label, score = ident(roles.label), ident(roles.score)
    counts = backend.query(f"SELECT {label} AS v, count(*) AS n FROM src GROUP BY 1 ORDER BY 2 DESC "
                           f"LIMIT {MAX_LABEL_VALUES + 1}")
    if len(counts) > MAX_LABEL_VALUES:
        raise NotOnEngine(f"{name}: the label `{roles.label}` has more than {MAX_LABEL_VALUES:,} values, not two; "
                         "the duckdb and spark engines compute binary metrics; use --engine memory")
    norm = normalize_labels(counts["v"])
    by_value = counts.assign(norm=norm).dropna(subset=["norm"]).groupby("norm", sort=False)["n"].sum()
    by_value = by_value.sort_values(ascending=False, kind="stable")
    if by_value.empty:
        raise InputError(f"{name}: column `{roles.label}` (label): every value is missing; pick the column with "
                         "the true outcome")
    found = binary_label_classes(by_value, roles.positive, roles.label)
    if found.problem:
        raise InputError(f"{name}: {found.problem}")
    if not number_type(types.get(roles.score, "")):
        raise InputError(f"{name}: column `{roles.score}` (score): values are not numbers (type "
                         f"{types.get(roles.score)}); pick the model's score column")
    raw = counts["v"].tolist()
    norm_list = norm.tolist()
    missing_raw = [v for v, k in zip(raw, norm_list, strict=True) if v is not None and pd.isna(k) and not _nan(v)]
    float_label = str(types.get(roles.label, "")).upper().startswith(("FLOAT", "DOUBLE", "REAL"))
    nan_label = f" OR isnan({label})" if float_label and any(_nan(v) for v in raw) else ""
    kept_raw = [v for v, k in zip(raw, norm_list, strict=True) if not pd.isna(k) and k in found.kept]
    pos_raw = [v for v, k in zip(raw, norm_list, strict=True) if not pd.isna(k) and k == found.positive]
    is_missing = f"({label} IS NULL{nan_label}" + (f" OR {label} IN ({literals(missing_raw)})" if missing_raw else "") + ")"
    in_classes = f"{label} IN ({literals(kept_raw)})" if kept_raw else "FALSE"
    reason = (f"CASE WHEN {is_missing} THEN 'label is missing' "
              f"WHEN NOT ({in_classes}) THEN {literal(found.dropped_reason or 'label is not a class')} "
              f"WHEN {score} IS NULL OR isnan({score}) THEN 'score is missing' "
              f"WHEN NOT {finite(score)} THEN 'score is infinite' END")
    total, exclusions = _excluded(backend, name, reason, ["label is missing", found.dropped_reason,
                                                          "score is missing", "score is infinite"], "score")
    y = f"CASE WHEN {label} IN ({literals(pos_raw)}) THEN 1 ELSE 0 END" if pos_raw else "0"
    spec = BinarySpec(where=f"({in_classes}) AND {finite(score)}", y=y, score=score, threshold=float(threshold))
    roles = roles.replace(task="binary", positive=found.positive)
    return EngineDataset(backend, name, src.fingerprint, roles, "binary", found.classes, spec, total, exclusions,
                         notes=list(src.notes) + list(found.notes), inferred=inferred, column_types=types,
                         unlabelled=f"{is_missing} AND {finite(score)}")


def _excluded(backend, name: str, reason_sql: str, order, output: str) -> tuple[int, dict]:
    """Rows in all and rows excluded by reason (one scan, the memory path's order); none usable is an error."""
    rows = backend.query(f"SELECT {reason_sql} AS reason, count(*) AS n FROM src GROUP BY 1")
    total = int(rows["n"].sum())
    found = {str(r): int(k) for r, k in zip(rows["reason"], rows["n"], strict=True) if r is not None}
    exclusions = {k: found[k] for k in order if k in found}
    if total - sum(exclusions.values()) == 0:
        raise InputError(f"{name}: no usable rows ({', '.join(f'{k}: {v:,}' for k, v in exclusions.items())}); "
                         f"check the label and {output} columns")
    return total, exclusions


def _prepare_regression(backend, src, roles, inferred, types) -> EngineDataset:
    """Numbers for truth and prediction; rows excluded by the memory path's reasons, in its order."""
    name, pred_col = src.name, roles.prediction or roles.score
    for col, role in ((roles.label, "label"), (pred_col, "prediction")):
        if not number_type(types.get(col, "")):
            raise InputError(f"{name}: column `{col}` ({role}): values are not numbers (type {types.get(col)}); a "
                             "regression's label and prediction must be numbers")
    y, p = ident(roles.label), ident(pred_col)
    reason = (f"CASE WHEN {y} IS NULL OR isnan(CAST({y} AS DOUBLE)) THEN 'label is missing' "
              f"WHEN NOT {finite(y)} THEN 'label is infinite' "
              f"WHEN {p} IS NULL OR isnan(CAST({p} AS DOUBLE)) THEN 'prediction is missing' "
              f"WHEN NOT {finite(p)} THEN 'prediction is infinite' END")
    total, exclusions = _excluded(backend, name, reason, ["label is missing", "label is infinite",
                                                          "prediction is missing", "prediction is infinite"],
                                  "prediction")
    spec = RegressionSpec(where=f"{finite(y)} AND {finite(p)}", y=y, pred=p)
    return EngineDataset(backend, name, src.fingerprint, roles, "regression", (), spec, total, exclusions,
                         notes=list(src.notes), inferred=inferred, column_types=types,
                         unlabelled=f"({y} IS NULL OR isnan(CAST({y} AS DOUBLE))) AND {finite(p)}")


def _prepare_multiclass(backend, src, roles, inferred, types) -> EngineDataset:
    """The classes and the rows used, by the memory path's rules (:mod:`mlimpact.engine.multiclass_tables`)."""
    try:
        spec, classes, reason, unlabelled = multiclass_spec(backend, roles, types)
    except InputError as exc:
        raise InputError(f"{src.name}: {exc}") from None
    total, exclusions = _excluded(backend, src.name, reason, REASONS, "prediction")
    return EngineDataset(backend, src.name, src.fingerprint, roles, "multiclass", classes, spec, total, exclusions,
                         notes=list(src.notes), inferred=inferred, column_types=types, unlabelled=unlabelled)


def engine_time_span(eds: EngineDataset) -> tuple[pd.Timestamp, pd.Timestamp, float] | None:
    """:func:`mlimpact.io.time_span` on an engine: first and last time of the used rows and the days between
    them (plus one when times are whole dates); None without a time column or with fewer than two times."""
    if not eds.roles.time:
        return None
    t = eds.time_sql()
    row = eds.backend.query(f"SELECT min({t}) AS a, max({t}) AS b, min(CASE WHEN {t} = date_trunc('day', {t}) "
                            f"THEN 1 ELSE 0 END) AS whole FROM src WHERE {eds.spec.where} AND {t} IS NOT NULL").iloc[0]
    if pd.isna(row["a"]) or pd.isna(row["b"]) or row["a"] == row["b"]:
        return None
    start, end = pd.Timestamp(row["a"]), pd.Timestamp(row["b"])
    days = (end - start) / pd.Timedelta(days=1)
    return start, end, float(days + (1.0 if int(row["whole"]) == 1 else 0.0))


def global_keys(eds: EngineDataset):
    """The whole data's picture the groupings need: score keys (binary), quantile edges (regression) or the
    log loss's edges (multiclass)."""
    if eds.task == "regression":
        return regression_keys(eds.backend, eds.spec)
    if eds.task == "multiclass":
        return multiclass_keys(eds.backend, eds.spec)
    return score_keys(eds.backend, eds.spec)


def count_groupings(eds: EngineDataset, keys, groupings, *, where: str | None = None) -> list:
    """Every grouping's tables (``(group_sql, hint)`` pairs) in one scan, for the dataset's task."""
    count = {"regression": regression_tables_many, "multiclass": multiclass_tables_many}.get(eds.task,
                                                                                          binary_tables_many)
    return count(eds.backend, eds.spec, keys, groupings, where=where)


def _nan(v) -> bool:
    return isinstance(v, float) and v != v


#: ``--engine auto`` computes in memory when the source's estimated in-memory size is at most this many
#: bytes (``MLIMPACT_MEMORY_BUDGET`` overrides it), else on DuckDB
MEMORY_BUDGET = 2 << 30
#: in-memory bytes per byte on disk, by kind (pandas frames of mixed columns; measured on the samples)
_EXPANSION = {"csv": 2.5, "csv.gz": 10.0, "parquet": 8.0}


def memory_budget(environ=None) -> int:
    """The memory budget in bytes: ``MLIMPACT_MEMORY_BUDGET`` or :data:`MEMORY_BUDGET`."""
    env = os.environ if environ is None else environ
    return int(env.get("MLIMPACT_MEMORY_BUDGET", MEMORY_BUDGET))


def estimated_memory(spec) -> int:
    """A rough in-memory size of the source's frame, from its bytes on disk (0 when unknown)."""
    if spec.kind == "csv":
        gz = any(f.lower().endswith(".gz") for f in spec.files)
        return int(spec.bytes * _EXPANSION["csv.gz" if gz else "csv"])
    if spec.kind == "parquet":
        return int(spec.bytes * _EXPANSION["parquet"])
    return int(spec.bytes * _EXPANSION["parquet"]) if spec.kind == "duckdb" else 0


def choose_engine(source: str, requested: str) -> str:
    """``memory``, ``duckdb`` or ``spark``: ``auto`` is memory for a single file (the readers' many formats)
    or a source whose estimate fits :data:`MEMORY_BUDGET`, else DuckDB.

    >>> from mlimpact.io.samples import sample_path
    >>> choose_engine(str(sample_path("fraud")), "auto")
    'memory'
    """
    if requested != "auto":
        return requested
    budget = memory_budget()
    lowered = source.lower()
    if Path(source).is_file() and not lowered.endswith(DUCKDB_SUFFIXES + PARQUET_SUFFIXES + CSV_SUFFIXES):
        return "memory"  # Excel, zip: only the memory readers know them
    try:
        spec = resolve_source(source)
    except InputError:
        return "memory"  # the memory loader says what is wrong, as without --engine
    return "memory" if estimated_memory(spec) <= budget else "duckdb"


def read_frame(source: str) -> tuple[pd.DataFrame, SourceSpec]:
    """A folder, a Parquet file or a DuckDB table or query read into one pandas frame through DuckDB (the
    memory engine's way to the sources only the engines resolve)."""
    spec = resolve_source(source)
    backend = open_backend(spec, "duckdb")
    try:
        return backend.query("SELECT * FROM src"), spec
    finally:
        backend.close()
