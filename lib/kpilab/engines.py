"""The engine layer: the only module that knows the backends.

KPI code is written once as narwhals lazy code (``nw.LazyFrame``); a dataset's tables live on one
engine and this module turns them into lazy frames, materialises shared intermediate results
on the same engine, and brings small results back to pandas:

- ``pandas``: in memory, narwhals runs each lazy step eagerly (small data, the reference);
- ``polars``: in memory, polars' lazy engine (the default for data that fits in memory);
- ``duckdb``: embedded and out of core: tables are DuckDB relations (views over Parquet files or
  tables of a ``.duckdb`` file) queried in place, spilling to disk beyond memory.

A DuckDB connection is not safe to use from several threads at once, so each DuckDB dataset
carries a lock that ``using`` holds while a request runs on it (DuckDB parallelises each query
itself, so serialising requests costs little).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

import narwhals.stable.v2 as nw

ENGINES = ("pandas", "polars", "duckdb")
IN_MEMORY = ("pandas", "polars")

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_TEMP_NAMES = itertools.count()


def engine_of(native: Any) -> str:
    """The engine a native table lives on: pandas, polars or duckdb."""
    impl = nw.from_native(native).implementation
    if impl.is_pandas():
        return "pandas"
    if impl.is_polars():
        return "polars"
    if impl is nw.Implementation.DUCKDB:
        return "duckdb"
    raise TypeError(f"unsupported table type {type(native).__name__}")


def lazy(native: Any) -> nw.LazyFrame:
    """A native table (pandas or polars frame, DuckDB relation) as a narwhals LazyFrame."""
    frame = nw.from_native(native)
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def as_lazy(frame: nw.DataFrame | nw.LazyFrame) -> nw.LazyFrame:
    """A narwhals frame as a LazyFrame (an eager one — e.g. built by a numpy kernel — keeps its backend)."""
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def materialize(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Compute a lazy frame once and keep the result on its engine, as a LazyFrame again.

    In memory the result is a collected frame; on DuckDB it is a temporary table of the same
    connection (so it stays out of core and joins with the dataset's relations)."""
    native = frame.to_native()
    if frame.implementation is nw.Implementation.DUCKDB:
        name = f"kpilab_tmp_{next(_TEMP_NAMES)}"
        native.to_table(name)
        return nw.from_native(native.query("kpilab_self", f"select * from {name}"))
    return frame.collect().lazy()


def collect(frame: nw.DataFrame | nw.LazyFrame) -> nw.DataFrame:
    """An eager narwhals frame with DuckDB's DECIMAL sums cast to Float64."""
    frame = as_lazy(frame)
    decimals = [name for name, dtype in frame.collect_schema().items() if dtype == nw.Decimal]
    if decimals:
        frame = frame.with_columns(nw.col(*decimals).cast(nw.Float64))
    return frame.collect()


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
    """A table moved to another engine: a pandas or polars frame, or a DuckDB relation on
    ``connection`` (a new in-memory database when None)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine_of(native) == engine:
        return native
    frame = lazy(native).collect()
    if engine == "pandas":
        return frame.to_pandas()
    if engine == "polars":
        return frame.to_polars()
    return (connection or connect()).from_arrow(frame.to_arrow())


def connect(database: str = ":memory:", read_only: bool = False):
    """A DuckDB connection set up for KPI work: spills to a temporary directory beyond its
    memory limit, and keeps insertion order off so large aggregations can stream."""
    import duckdb

    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET preserve_insertion_order = false")
    return con
