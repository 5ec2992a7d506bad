"""The SQL engines: DuckDB embedded (files and folders beyond memory) and Spark (cluster-sized logs).

Both expose the same small surface: the source as a view named ``src``, :meth:`query` (DuckDB-dialect
SQL in, a small pandas frame out), :meth:`columns` and :meth:`sample`. Queries are built in
:mod:`mlimpact.engine.sql` and transpiled for Spark there; only aggregates come back, never rows
(except :meth:`sample`, which Review and role inference ask for by size).
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings

import pandas as pd

from mlimpact.engine.sources import SourceSpec
from mlimpact.engine.sql import ident, literal, to_dialect
from mlimpact.errors import InputError
from mlimpact.io.common import MISSING_MARKERS

__all__ = ["DuckDBBackend", "SparkBackend", "open_backend", "ENGINES", "SPARK_INSTALL_HINT", "DUCKDB_MEMORY"]

ENGINES = ("auto", "memory", "duckdb", "spark")
#: DuckDB's memory limit (``MLIMPACT_DUCKDB_MEMORY`` overrides it); beyond it, DuckDB spills to disk
DUCKDB_MEMORY = "1200MB"
SPARK_INSTALL_HINT = ("Spark needs pyspark and Java: `pip install pyspark==4.3.0` and "
                      "`apt-get install openjdk-17-jre-headless` (or set JAVA_HOME), or use --engine duckdb")
_QUERY_START = re.compile(r"^\s*(select|with|from|values|\()", re.IGNORECASE)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:300]


class DuckDBBackend:
    """DuckDB in this process: no server; reads Parquet/CSV in place and spills to disk when needed."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, spec: SourceSpec, *, lockdown: bool = False, threads: int | None = None,
                 memory_limit: str | None = None):
        import duckdb  # on use: only the duckdb engine needs it

        self.spec = spec
        self._duckdb = duckdb
        self.con = duckdb.connect(config={"preserve_insertion_order": False})
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        # DuckDB spills what does not fit to disk: bound its memory, and spill to the system's temporary folder
        self.con.execute(f"SET memory_limit = {literal(memory_limit or os.environ.get('MLIMPACT_DUCKDB_MEMORY', DUCKDB_MEMORY))}")
        self.con.execute(f"SET temp_directory = {literal(os.path.join(tempfile.gettempdir(), 'mlimpact-duckdb'))}")
        try:
            relation = self._relation(spec)
            if lockdown:  # a query typed in the app must not reach other files, even while its view is bound
                self.con.execute("SET enable_external_access = false")
                self.con.execute("SET lock_configuration = true")
            self.con.execute(f"CREATE TEMP VIEW src AS {relation}")
            self.con.execute("SELECT * FROM src LIMIT 0")
        except duckdb.Error as exc:
            self.close()
            raise InputError(f"{spec.name}: {_short(exc)}") from None

    def _relation(self, spec: SourceSpec) -> str:
        files = "[" + ", ".join(literal(f) for f in spec.files) + "]"
        if spec.kind == "parquet":
            return f"SELECT * FROM read_parquet({files}, hive_partitioning = {literal(spec.hive)})"
        if spec.kind == "csv":
            nulls = "[" + ", ".join(literal(v) for v in MISSING_MARKERS) + "]"  # the memory path's missing markers
            return (f"SELECT * FROM read_csv({files}, header = true, hive_partitioning = {literal(spec.hive)}, "
                    f"nullstr = {nulls})")
        if spec.kind == "duckdb":
            self.con.execute(f"ATTACH {literal(spec.database)} AS userdb (READ_ONLY)")
            self.con.execute("USE userdb")
            if _QUERY_START.match(spec.relation):
                return f"SELECT * FROM ({spec.relation})"
            return "SELECT * FROM " + ".".join(ident(p) for p in spec.relation.split("."))
        raise InputError(f"{spec.name}: DuckDB cannot read a {spec.kind} source")

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` and return its (small) result."""
        try:
            return self.con.execute(sql).fetch_df()
        except self._duckdb.Error as exc:
            raise InputError(f"{self.spec.name}: {_short(exc)}") from None

    def columns(self) -> dict[str, str]:
        """Column name -> DuckDB type."""
        df = self.query("DESCRIBE SELECT * FROM src")
        return dict(zip(df["column_name"], df["column_type"], strict=True))

    def sample(self, n: int) -> pd.DataFrame:
        """The first ``n`` rows."""
        return self.query(f"SELECT * FROM src LIMIT {int(n)}")

    def temp_table(self, name: str, sql: str) -> str:
        """Keep ``sql``'s result as a temporary table (in DuckDB's memory, spilled when it must) for
        several scans; returns what to select from. :meth:`drop` removes it."""
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS {sql}")
        except self._duckdb.Error as exc:
            raise InputError(f"{self.spec.name}: {_short(exc)}") from None
        return ident(name)

    def upload(self, name: str, frame: pd.DataFrame) -> str:
        """A small frame (a lookup of a few hundred thousand rows at most) as a temporary table to join with;
        returns what to select from. :meth:`drop` removes it."""
        self.con.register("mli_upload", frame)
        try:
            return self.temp_table(name, "SELECT * FROM mli_upload")
        finally:
            self.con.unregister("mli_upload")

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {ident(name)}")

    def close(self) -> None:
        self.con.close()


class SparkBackend:
    """A SparkSession: ``local[2]`` by default, a master URL, or Spark Connect (``sc://...``)."""

    name = "spark"
    dialect = "spark"

    def __init__(self, spec: SourceSpec, *, master: str | None = None):
        try:
            with warnings.catch_warnings():  # pyspark 4.3 warns that pandas 3 is "not fully supported"; only
                warnings.simplefilter("ignore", FutureWarning)  # small Arrow results cross, which it handles
                from pyspark.sql import SparkSession  # on use: only the spark engine needs pyspark
        except ImportError:
            raise InputError(f"pyspark is not installed. {SPARK_INSTALL_HINT}") from None
        self.spec = spec
        self._kept: dict = {}
        remote = master or os.environ.get("SPARK_REMOTE")
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local[2] stays on loopback
        try:
            builder = SparkSession.builder.appName("mlimpact")
            if remote and remote.startswith("sc://"):
                builder = builder.remote(remote)
            else:
                builder = (builder.master(remote or "local[2]").config("spark.ui.enabled", "false")
                           .config("spark.ui.showConsoleProgress", "false")
                           .config("spark.sql.shuffle.partitions", "8")
                           .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                self.spark = builder.getOrCreate()
            self.spark.sparkContext.setLogLevel("ERROR")
        except Exception as exc:  # Java missing, gateway failed, cluster unreachable: one line, no traceback
            raise InputError(f"Spark did not start ({_short(exc)}). {SPARK_INSTALL_HINT}") from None
        try:
            self._frame(spec).createOrReplaceTempView("src")
        except Exception as exc:  # AnalysisException and friends: the source is the problem
            raise InputError(f"{spec.name}: {_short(exc)}") from None

    def _frame(self, spec: SourceSpec):
        reader = self.spark.read
        if spec.kind == "parquet":
            return reader.parquet(*spec.files) if not spec.hive else reader.option("basePath", spec.text).parquet(
                *spec.files)
        if spec.kind == "csv":  # every column as text, the memory path's markers missing, then typed
            return _typed(reader.csv(list(spec.files), header=True, inferSchema=False))
        if spec.kind == "spark-table":
            return self.spark.table(spec.relation)
        raise InputError(f"{spec.name}: Spark reads Parquet, CSV and its own tables; use --engine duckdb "
                         "for a DuckDB database")

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` (DuckDB's dialect, transpiled) and return its small result through Arrow."""
        try:
            return self.spark.sql(to_dialect(sql, "spark")).toArrow().to_pandas()
        except Exception as exc:  # Spark raises many exception types; each becomes one line
            raise InputError(f"{self.spec.name}: {_short(exc)}") from None

    def columns(self) -> dict[str, str]:
        """Column name -> Spark type."""
        return dict(self.spark.table("src").dtypes)

    def sample(self, n: int) -> pd.DataFrame:
        """The first ``n`` rows."""
        return self.query(f"SELECT * FROM src LIMIT {int(n)}")

    def temp_table(self, name: str, sql: str) -> str:
        """Keep ``sql``'s result cached as a temporary view for several scans; :meth:`drop` releases it."""
        try:
            frame = self.spark.sql(to_dialect(sql, "spark")).cache()
            frame.createOrReplaceTempView(name)
        except Exception as exc:  # Spark raises many exception types; each becomes one line
            raise InputError(f"{self.spec.name}: {_short(exc)}") from None
        self._kept[name] = frame
        return ident(name)

    def upload(self, name: str, frame: pd.DataFrame) -> str:
        """A small frame as a temporary view to join with (cached); :meth:`drop` releases it."""
        try:
            with warnings.catch_warnings():  # pyspark's notice about pandas 3: this frame is plain numbers and text
                warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
                kept = self.spark.createDataFrame(frame).cache()
            kept.createOrReplaceTempView(name)
        except Exception as exc:  # Spark raises many exception types; each becomes one line
            raise InputError(f"{self.spec.name}: {_short(exc)}") from None
        self._kept[name] = kept
        return ident(name)

    def drop(self, name: str) -> None:
        frame = self._kept.pop(name, None)
        if frame is not None:
            frame.unpersist()
            self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        """Leave the session running: starting Spark costs seconds, and tests share one."""


def open_backend(spec: SourceSpec, engine: str, *, spark_master: str | None = None, lockdown: bool = False):
    """The backend for ``engine`` (``duckdb`` or ``spark``) on ``spec``."""
    if engine == "spark":
        return SparkBackend(spec, master=spark_master)
    if engine == "duckdb":
        return DuckDBBackend(spec, lockdown=lockdown)
    raise InputError(f"engine {engine!r}: choose one of {', '.join(ENGINES)}")


def _typed(frame):
    """A CSV read as text, typed as the memory path reads it: its missing markers (``NA``, ``null``, ``""``…) are
    missing, then a column whose every value is a whole number is BIGINT; one with at least
    :data:`~mlimpact.io.clean.NUMERIC_SHARE` numbers is DOUBLE (the rest missing, as in memory); true/false is
    BOOLEAN; else text (times stay text: the engines parse them where they are used). One pass to count, one cast.
    Not as in memory: thousands separators and decimal commas (Spark's reader takes ``,`` only)."""
    from pyspark.sql import functions as F  # noqa: N812 - pyspark's own convention; imported on use

    from mlimpact.io.clean import NUMERIC_SHARE  # the memory path's share of numbers

    quoted = {c: "`" + c.replace("`", "``") + "`" for c in frame.columns}
    frame = frame.select(*[F.when(F.col(quoted[c]).isin(*MISSING_MARKERS), None).otherwise(F.col(quoted[c])).alias(c)
                           for c in frame.columns])
    checks = []
    for i, c in enumerate(frame.columns):
        x = quoted[c]
        checks += [F.count(F.col(x)).alias(f"n{i}"), F.count(F.expr(f"try_cast({x} AS BIGINT)")).alias(f"i{i}"),
                   F.count(F.expr(f"try_cast({x} AS DOUBLE)")).alias(f"d{i}"),
                   F.count(F.when(F.lower(F.trim(F.col(x))).isin("true", "false"), 1)).alias(f"b{i}")]
    row = frame.agg(*checks).collect()[0] if checks else None
    typed = []
    for i, c in enumerate(frame.columns):
        n, col = row[f"n{i}"], F.col(quoted[c])
        if n == 0 or (row[f"i{i}"] < n and row[f"d{i}"] >= NUMERIC_SHARE * n):
            col = F.expr(f"try_cast({quoted[c]} AS DOUBLE)")
        elif row[f"i{i}"] == n:
            col = col.cast("bigint")
        elif row[f"b{i}"] == n:
            col = F.lower(F.trim(col)) == "true"
        typed.append(col.alias(c))
    return frame.select(*typed)
