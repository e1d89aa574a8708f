"""A Dataset: the validated tables of the data contract, with a content fingerprint.

Reading (files, encodings, workbooks), column mapping and validation live in ``reading``,
``mapping`` and ``validation``; this module ties them together and knows where the bundled
sample is.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote, urlparse

import narwhals.stable.v2 as nw
import pandas as pd

from kpilab.registry import Note

PROJ_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = PROJ_ROOT / "data" / "sample"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Validated tables (native frames of one engine: pandas, polars or DuckDB relations), their
    report, and the grain of the sales table: ``daily`` rows, or ``monthly`` totals (one row per
    SKU, warehouse optional, and month — what forecast data usually comes with)."""

    tables: Mapping[str, Any]
    name: str = "dataset"
    report: Any = None
    fingerprint: str = field(default="")
    notes: tuple[str, ...] = ()          # what reading the files found (encodings, ignored files)
    grain: str = "daily"

    def __post_init__(self):
        if self.grain not in GRAINS:
            raise ValueError(f"grain {self.grain!r}: choose one of {', '.join(GRAINS)}")
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.tables))

    def has(self, table: str) -> bool:
        return table in self.tables

    @property
    def engine(self) -> str:
        """Where the tables live and KPIs run: pandas, polars or duckdb (see ``kpilab.engines``)."""
        from kpilab.engines import engine_of

        first = next(iter(self.tables.values()), None)
        return "pandas" if first is None else engine_of(first)

    def to_engine(self, engine: str) -> "Dataset":
        """The same data on another engine (KPI code gives identical results on each)."""
        from kpilab.engines import connect, convert

        connection = connect() if engine == "duckdb" else None
        tables = {n: convert(t, engine, connection) for n, t in self.tables.items()}
        return Dataset(tables, self.name, self.report, self.fingerprint, self.notes, self.grain)

    def rows(self, table: str) -> int:
        """Rows of a table, counted on its engine."""
        from kpilab.engines import count, lazy

        return count(lazy(self.tables[table]))

    def head(self, table: str, n: int = 50) -> pd.DataFrame:
        """The first ``n`` rows of a table as pandas (a preview; the table stays on its engine)."""
        from kpilab.engines import lazy, to_pandas

        return to_pandas(lazy(self.tables[table]).head(n))

    def to_polars(self) -> "Dataset":
        return self.to_engine("polars")

    def to_pandas(self) -> "Dataset":
        return self.to_engine("pandas")

    @classmethod
    def from_frames(cls, tables: Mapping[str, Any], name: str = "frames", *,
                    date_formats: Mapping[str, Mapping[str, str]] | None = None,
                    notes: tuple[str, ...] = (), grain: str = "auto") -> "Dataset":
        """Validate raw tables (pandas or polars frames or DuckDB relations, as read from files
        or typed) into a Dataset whose tables stay on their backend. ``grain`` of the sales:
        daily, monthly, or auto (detected, see ``detect_grain``)."""
        from kpilab.engines import engine_of
        from kpilab.validation import validate

        raw = dict(tables)
        # monthly totals may come without a warehouse: read them for all warehouses together
        fill = (grain != "daily" and "sales" in raw
                and "warehouse" not in nw.from_native(raw["sales"]).collect_schema().names())
        if fill:
            raw["sales"] = nw.from_native(raw["sales"]).with_columns(
                warehouse=nw.lit(ALL_WAREHOUSES)).to_native()
        checked = validate(raw, date_formats=date_formats)
        # DuckDB's clean tables are stored copies: they are fingerprinted by what they were
        # read from (files: paths, sizes and times; nothing re-scanned) and how they were read
        on_duckdb = raw and all(engine_of(t) == "duckdb" for t in raw.values())
        source = fingerprint(raw) + repr(sorted((date_formats or {}).items())) if on_duckdb else ""
        notes = tuple(notes)
        detected = grain == "auto"
        if detected:
            grain = detect_grain(checked.tables.get("sales"))
        if fill and grain == "daily":      # daily rows need their warehouse: report it as missing
            checked = validate(dict(tables), date_formats=date_formats)
        elif fill:
            notes += (Note(f"sales has no warehouse column: the monthly totals are read for all "
                           f"warehouses together (warehouse {ALL_WAREHOUSES}).",
                           f"销售数据没有 warehouse 列: 月度汇总按全部仓库合计读取 (仓库 {ALL_WAREHOUSES})。"),)
        if detected and grain == "monthly":
            notes += (Note("sales have one date per SKU and month: read as monthly totals "
                           "(grain=monthly). KPIs that need daily sales say so; set grain=daily "
                           "if these are daily rows.",
                           "销售数据每个 SKU 每月只有一个日期: 按月度汇总读取 (grain=monthly)。"
                           "需要日销售的 KPI 会提示; 如果这是日数据, 请设置 grain=daily。"),)
        stamp = hashlib.sha256(f"{source}{grain}".encode()).hexdigest()[:16] if source else ""
        return cls(checked.tables, name, checked.report, stamp, notes=notes, grain=grain)


    @classmethod
    def from_spark(cls, tables: Mapping[str, Any], name: str = "spark", *,
                   date_formats: Mapping[str, Mapping[str, str]] | None = None) -> "Dataset":
        """Validate Spark DataFrames (catalog tables in a notebook, ``spark.read`` results) into
        a Dataset whose tables stay on Spark: the contract's checks run as Spark queries (rows
        numbered in scan order), KPIs run on the cluster, only pooled results are collected.

        >>> Dataset.from_spark({"sales": [1, 2]})
        Traceback (most recent call last):
        ...
        TypeError: sales is a list, not a Spark DataFrame
        """
        for table, frame in tables.items():
            if not type(frame).__module__.startswith("pyspark."):
                raise TypeError(f"{table} is a {type(frame).__name__}, not a Spark DataFrame")
        return cls.from_frames(tables, name, date_formats=date_formats)


GRAINS = ("daily", "monthly")
ALL_WAREHOUSES = "ALL"


def detect_grain(sales) -> str:
    """``monthly`` when the sales table has one date per SKU and month (monthly totals, dated
    on any day of the month), else ``daily``. A table of one row has no grain to tell: daily.

    >>> import pandas as pd
    >>> detect_grain(pd.DataFrame({"sku": ["a", "a", "b"], "units": [1.0, 2.0, 3.0],
    ...                            "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-31"])}))
    'monthly'
    """
    from kpilab import engines

    if sales is None:
        return "daily"
    frame = engines.lazy(sales).with_columns(month=nw.col("date").dt.to_string("%Y-%m"))
    per = frame.group_by("sku", "month").agg(dates=nw.col("date").n_unique())
    most, cells = engines.collect(per.select(nw.col("dates").max(), nw.len().alias("cells"))).row(0)
    return "monthly" if cells and cells > 1 and most == 1 else "daily"


def fingerprint(tables: Mapping[str, Any]) -> str:
    """A hash of every table, stable across runs: of the content for in-memory tables (names,
    columns, values), of the query and its files' paths, sizes and modification times for
    DuckDB relations over files, of the plan and input files for Spark tables (cheap: a table
    bigger than memory is not scanned)."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(_table_hash(tables[name]))
    return digest.hexdigest()[:16]


def _table_hash(native: Any) -> bytes:
    import duckdb
    import polars as pl

    if type(native).__module__.startswith("pyspark."):
        return _spark_hash(native)
    if isinstance(native, duckdb.DuckDBPyRelation):
        query = native.sql_query()
        files = sorted(set(re.findall(r"'([^']+\.(?:parquet|duckdb))'", query)))
        if files:
            stats = [(f, Path(f).stat()) for f in files if Path(f).exists()]
            return "\n".join([query, *(f"{f}:{s.st_size}:{s.st_mtime_ns}" for f, s in stats)]
                             ).encode()
        return repr(native.query("t", "SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM t")
                    .fetchall()).encode()
    if isinstance(native, pl.DataFrame):
        return (",".join(native.columns).encode() + repr(native.dtypes).encode()
                + native.hash_rows(seed=0).to_numpy().tobytes())
    frame = nw.from_native(native, eager_only=True).to_pandas()
    return (",".join(map(str, frame.columns)).encode()
            + pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())


def _spark_hash(frame: Any) -> bytes:
    """A Spark table's schema, plan and input files with their sizes and modification times
    (local files): cheap, nothing is scanned. The plan's semantic hash tells apart tables built
    differently (another filter, another source); the file stats tell a file rewritten in place.
    A table built in memory gets a new plan, so a new fingerprint, each time it is built."""
    parts = [frame.schema.simpleString(), str(frame.semanticHash())]
    for name in sorted(frame.inputFiles()):
        url = urlparse(name)
        path = Path(unquote(url.path)) if url.scheme in ("", "file") else None
        stat = path.stat() if path is not None and path.exists() else None
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}" if stat else name)
    return "\n".join(parts).encode()


AUTO_DUCKDB_BYTES = 2 * 2**30
"""engine="auto" keeps a dataset whose files total more than this on disk, in DuckDB."""


def load_dataset(source, mapping=None, name: str | None = None, *, encoding: str | None = None,
                 date_formats: Mapping[str, Mapping[str, str]] | None = None,
                 engine: str = "auto", grain: str = "auto") -> Dataset:
    """Read a folder, workbook, file or list of (file name, bytes) uploads; map columns; validate.

    ``mapping`` is a ``ColumnMapping`` or the path of one saved as JSON; ``encoding`` forces a
    CSV encoding; ``date_formats`` settles ambiguous date columns (see ``validation.validate``).
    ``engine`` is where the tables live: "pandas", "polars", "duckdb" (lazy relations over the
    files, for data bigger than memory) or "auto" (duckdb when the files total more than
    AUTO_DUCKDB_BYTES, else polars). ``grain`` of the sales: "daily", "monthly" or "auto"
    (the mapping's, else detected from the data).
    """
    from kpilab import cache
    from kpilab.mapping import ColumnMapping
    from kpilab.reading import read_dataset

    engine = _engine_for(source, engine)
    raw = read_dataset(source, encoding=encoding, engine=engine)
    if mapping is not None:
        if not isinstance(mapping, ColumnMapping):
            mapping = ColumnMapping.from_json(Path(mapping).read_text(encoding="utf-8"))
        raw = mapping.apply(raw)
    if grain == "auto" and mapping is not None and mapping.grain:
        grain = mapping.grain
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "upload")
    # large data on DuckDB: a validation already done on the same files is read back from disk
    kept = (cache.key(fingerprint(raw.tables), (cache.options(mapping, date_formats, grain), raw.notes))
            if engine == "duckdb" and cache.folder() is not None else None)
    if kept and (hit := cache.load(kept, label)) is not None:
        return hit
    dataset = Dataset.from_frames(raw.tables, label, date_formats=date_formats,
                                  notes=tuple(raw.notes), grain=grain)
    if kept:
        cache.save(kept, dataset)
    return dataset


def _engine_for(source, engine: str) -> str:
    """The engine "auto" stands for: by the size of the files (uploads are in memory)."""
    if engine != "auto":
        return engine
    if not isinstance(source, (str, Path)):
        return "polars"
    path = Path(source)
    files = path.rglob("*") if path.is_dir() else [path]
    size = sum(f.stat().st_size for f in files if f.is_file())
    return "duckdb" if size > AUTO_DUCKDB_BYTES else "polars"


def load_sample() -> Dataset:
    """The bundled sample dataset (generated by ``kpilab generate``)."""
    return load_dataset(SAMPLE_DIR, name="sample")
