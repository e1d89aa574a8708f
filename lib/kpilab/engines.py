"""The engine layer: the only module that knows the backends.

KPI code is written once as narwhals lazy code (``nw.LazyFrame``); a dataset's tables live on one
engine and this module turns them into lazy frames, materialises shared intermediate results
on the same engine, and brings small results back to pandas:

- ``pandas``: in memory, narwhals runs each lazy step eagerly (small data, the reference);
- ``polars``: in memory, polars' lazy engine (the default for data that fits in memory);
- ``duckdb``: embedded and out of core: tables are DuckDB relations (views over Parquet files or
  tables of a ``.duckdb`` file) queried in place, spilling to disk beyond memory;
- ``spark``: tables are PySpark DataFrames (local mode, a cluster or Spark Connect, see
  ``spark_session``); the work runs on the cluster and only small results come back. pyspark is
  imported only when Spark is used (``import kpilab`` does not need it).

A DuckDB connection is not safe to use from several threads at once, so each DuckDB dataset
carries a lock that ``using`` holds while a request runs on it (DuckDB parallelises each query
itself, so serialising requests costs little).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import weakref
from typing import Any

import narwhals.stable.v2 as nw

ENGINES = ("pandas", "polars", "duckdb", "spark")
IN_MEMORY = ("pandas", "polars")

SPARK_LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
"""Settings of the local session kpilab starts itself: no web UI or progress bars, dates in UTC
(no shift between the driver's and the executors' clocks), few shuffle partitions (the default
200 is made for clusters: on small data it is 200 tiny tasks per aggregation), Arrow transfers."""

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_TEMP_NAMES = itertools.count()
_KEPT: "weakref.WeakSet[Any]" = weakref.WeakSet()   # DuckDB / Spark tables materialize made


def engine_of(native: Any) -> str:
    """The engine a native table lives on: pandas, polars, duckdb or spark."""
    impl = nw.from_native(native).implementation
    if impl.is_pandas():
        return "pandas"
    if impl.is_polars():
        return "polars"
    if impl is nw.Implementation.DUCKDB:
        return "duckdb"
    if impl in (nw.Implementation.PYSPARK, nw.Implementation.PYSPARK_CONNECT):
        return "spark"
    raise TypeError(f"unsupported table type {type(native).__name__}")


def lazy(native: Any) -> nw.LazyFrame:
    """A native table (pandas or polars frame, DuckDB relation, Spark DataFrame) as a narwhals
    LazyFrame."""
    frame = nw.from_native(native)
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def as_lazy(frame: nw.DataFrame | nw.LazyFrame) -> nw.LazyFrame:
    """A narwhals frame as a LazyFrame (an eager one — e.g. built by a numpy kernel — keeps its backend)."""
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def onto(small: nw.LazyFrame, like: nw.LazyFrame) -> nw.LazyFrame:
    """A small frame moved onto the engine of ``like`` when they differ — the SKU master beside
    a prototype definition's pandas detail, a numpy kernel's result onto a DuckDB dataset's
    connection (so it joins and pools with its tables)."""
    if small.implementation is like.implementation:
        return small
    if like.implementation is nw.Implementation.DUCKDB:
        return nw.from_native(like.to_native()._con.from_arrow(collect(small).to_arrow()))
    if not like.implementation.is_pandas() and not like.implementation.is_polars():
        raise TypeError(f"cannot move a frame onto {like.implementation}")
    frame = collect(small)
    return nw.from_native(frame.to_pandas() if like.implementation.is_pandas() else frame.to_polars()).lazy()


def materialize(frame: nw.LazyFrame, name: str = "tmp") -> nw.LazyFrame:
    """Compute a lazy frame once and keep the result on its engine, as a LazyFrame again.

    In memory the result is a collected frame; on DuckDB it is a temporary table of the same
    connection (so it stays out of core and joins with the dataset's relations); on Spark it is
    a local checkpoint (computed now and kept on the executors, its plan cut: later queries
    neither recompute it nor re-analyse a growing plan), with DECIMAL columns cast to Float64
    (as ``collect`` does) so the numbers compare and chart like the other engines'. ``name``
    goes into the DuckDB table's name (``drop_temporaries`` drops the default "tmp" ones)."""
    if not on_engine(frame):
        return frame.collect().lazy()
    native = frame.to_native()
    if native in _KEPT:  # already computed and kept: not copied again
        return frame
    if frame.implementation is nw.Implementation.DUCKDB:
        name = f"kpilab_{name}_{next(_TEMP_NAMES)}"
        native.to_table(name)
        connection = getattr(native, "_con", None)   # reading the table back directly binds no old plan
        kept = (connection.table(name) if connection is not None
                else native.query("kpilab_self", f"select * from {name}"))
    else:
        kept = _floats(frame).to_native().localCheckpoint(eager=True)
    _KEPT.add(kept)
    return nw.from_native(kept)


def on_engine(frame: nw.DataFrame | nw.LazyFrame) -> bool:
    """Whether a frame lives on an out-of-memory engine (DuckDB, Spark): kept there, not collected."""
    return frame.implementation is nw.Implementation.DUCKDB or is_spark(frame)


def is_spark(frame: nw.DataFrame | nw.LazyFrame) -> bool:
    """Whether a narwhals frame is a Spark DataFrame (classic or Spark Connect)."""
    return frame.implementation in (nw.Implementation.PYSPARK, nw.Implementation.PYSPARK_CONNECT)


def _floats(frame: nw.LazyFrame) -> nw.LazyFrame:
    """DECIMAL columns (DuckDB's sums of integers, Spark's decimal sources) cast to Float64."""
    decimals = [name for name, dtype in frame.collect_schema().items() if dtype == nw.Decimal]
    return frame.with_columns(nw.col(*decimals).cast(nw.Float64)) if decimals else frame


def collect(frame: nw.DataFrame | nw.LazyFrame) -> nw.DataFrame:
    """An eager narwhals frame with DuckDB's DECIMAL sums cast to Float64 (Spark's come back
    through Arrow as a pyarrow table)."""
    return _floats(as_lazy(frame)).collect()


def to_pandas(frame: nw.DataFrame | nw.LazyFrame):
    """The frame collected into pandas with a clean 0…n−1 index (what results hand back)."""
    return collect(frame).to_pandas().reset_index(drop=True)


def scalar(frame: nw.LazyFrame, expr: nw.Expr) -> Any:
    """One value computed on the engine (a count for a note, a max date)."""
    return collect(frame.select(expr)).item()


def count(frame: nw.LazyFrame) -> int:
    """Number of rows, counted on the engine."""
    return int(scalar(frame, nw.len()))


@contextlib.contextmanager
def using(dataset) -> Any:
    """Hold the dataset's DuckDB lock while a request runs (no-op for in-memory engines)."""
    if dataset.engine != "duckdb":
        yield
        return
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(dataset.fingerprint, threading.RLock())
    with lock:
        yield


def convert(native: Any, engine: str, connection=None) -> Any:
    """A table moved to another engine: a pandas or polars frame, a DuckDB relation on
    ``connection`` (a new in-memory database when None), or a Spark DataFrame of
    ``spark_session()`` (sent through Arrow)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine_of(native) == engine:
        return native
    frame = lazy(native).collect()
    if engine == "pandas":
        return frame.to_pandas()
    if engine == "polars":
        return frame.to_polars()
    if engine == "spark":
        return to_spark(frame.to_arrow())
    return (connection or connect()).from_arrow(frame.to_arrow())


def to_spark(table, spark=None):
    """A pyarrow table as a Spark DataFrame, through Arrow (no row-by-row Python conversion).

    Timestamps without a time zone become TIMESTAMP_NTZ (wall-clock dates, as in pandas and
    polars): Spark's default TIMESTAMP is an instant, which would come back as UTC-aware
    datetimes and shift with the session's time zone."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    spark = spark or spark_session()
    naive = [f.name for f in table.schema if pa.types.is_timestamp(f.type) and f.type.tz is None]
    for name in naive:  # Spark keeps microseconds
        table = table.set_column(table.schema.get_field_index(name), name,
                                 table[name].cast(pa.timestamp("us")))
    frame = spark.createDataFrame(table)
    return frame.withColumns({n: F.col(n).cast("timestamp_ntz") for n in naive}) if naive else frame


def spark_session(master: str | None = None, remote: str | None = None):
    """The SparkSession KPIs run on, taken from the user's environment in this order:

    1. the active session (a notebook on Databricks, ``pyspark`` shell, a session the caller
       built with its own settings);
    2. Spark Connect at ``remote`` or ``$SPARK_REMOTE`` (``sc://host:15002``; needs the
       ``pyspark[connect]`` extras);
    3. a new session on ``master`` (``--spark-master``: ``spark://host:7077``, ``yarn``,
       ``k8s://…``);
    4. ``local[2]``.

    A session kpilab starts itself gets ``SPARK_LOCAL_CONF`` (no UI, UTC, few shuffle
    partitions, Arrow) and logs only errors. Starting one costs 5–30 s (a JVM), so it is made
    once and reused by every later call (``getOrCreate``)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("kpilab")
    remote = remote or os.environ.get("SPARK_REMOTE")
    if remote:
        import atexit

        session = builder.remote(remote).getOrCreate()
        # Released before the interpreter shuts down: a Connect DataFrame kept by ``materialize``
        # (a local checkpoint) is otherwise released from its ``__del__`` at shutdown, by a gRPC
        # call that hangs there (seen with ``remote("local[1]")``: the command line never exited).
        atexit.register(session.stop)
        return session
    builder = builder.master(master or "local[2]")
    for key, value in SPARK_LOCAL_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_row_numbers(frame, column: str):
    """A Spark DataFrame with its rows numbered 2, 3, … in scan order in ``column`` (the
    spreadsheet row: the header is row 1), without a global sort on one executor.

    ``monotonically_increasing_id`` is (partition << 33) + position in the partition; the rows
    per partition are counted once (on a local checkpoint, so both passes see the same rows) and
    each partition is shifted by the rows of the partitions before it (a broadcast join)."""
    from pyspark.sql import functions as F

    ids = frame.withColumn("__id", F.monotonically_increasing_id()).localCheckpoint(eager=True)
    ids = ids.withColumn("__part", F.shiftright("__id", 33))
    counts = sorted((int(p), int(n)) for p, n in ids.groupBy("__part").count().collect())
    starts, start = [], 0
    for part, n in counts:
        starts.append((part, start))
        start += n
    shifts = ids.sparkSession.createDataFrame(starts or [(0, 0)], "__part long, __start long")
    number = F.col("__id").bitwiseAND((1 << 33) - 1) + F.col("__start") + 2
    return (ids.join(F.broadcast(shifts), "__part").withColumn(column, number.cast("bigint"))
            .drop("__id", "__part", "__start"))


DUCKDB_MEMORY_LIMIT = os.environ.get("KPILAB_DUCKDB_MEMORY", "3GB")
"""DuckDB's buffer memory per dataset (``$KPILAB_DUCKDB_MEMORY``, e.g. ``8GB``): beyond it the
clean tables, intermediate results and large joins spill to a temporary directory, so a dataset
bigger than memory is worked on out of core and the app's server keeps a bounded footprint."""


def connect(database: str = ":memory:", read_only: bool = False):
    """A DuckDB connection set up for KPI work: a memory limit (``DUCKDB_MEMORY_LIMIT``) beyond
    which it spills to a temporary directory, and insertion order off so large aggregations can
    stream."""
    import tempfile

    import duckdb

    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/kpilab-duckdb-{os.getpid()}'")
    return con


def drop_temporaries(relation) -> None:
    """Drop the scratch tables ``materialize`` made on a DuckDB relation's connection
    (validation's, once the clean tables are kept), freeing their memory and spill files."""
    connection = relation._con
    names = connection.execute("SELECT table_name FROM duckdb_tables() "
                               "WHERE table_name LIKE 'kpilab_tmp_%'").fetchall()
    for (name,) in names:
        connection.execute(f"DROP TABLE {name}")
