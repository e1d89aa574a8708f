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

import narwhals.stable.v2 as nw
import pandas as pd

PROJ_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = PROJ_ROOT / "data" / "sample"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Validated tables (native frames: pandas by default, or polars) and their report."""

    tables: Mapping[str, Any]
    name: str = "dataset"
    report: Any = None
    fingerprint: str = field(default="")
    notes: tuple[str, ...] = ()          # what reading the files found (encodings, ignored files)

    def __post_init__(self):
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
        return Dataset(tables, self.name, self.report, self.fingerprint, self.notes)

    def to_polars(self) -> "Dataset":
        return self.to_engine("polars")

    def to_pandas(self) -> "Dataset":
        return self.to_engine("pandas")

    @classmethod
    def from_frames(cls, tables: Mapping[str, Any], name: str = "frames", *,
                    date_formats: Mapping[str, Mapping[str, str]] | None = None,
                    notes: tuple[str, ...] = ()) -> "Dataset":
        """Validate raw tables (pandas or polars frames or DuckDB relations, as read from files
        or typed) into a Dataset whose tables stay on their backend."""
        from kpilab.validation import validate

        checked = validate(dict(tables), date_formats=date_formats)
        return cls(checked.tables, name, checked.report, notes=tuple(notes))


def fingerprint(tables: Mapping[str, Any]) -> str:
    """A hash of every table, stable across runs: of the content for in-memory tables (names,
    columns, values), of the query and its files' paths, sizes and modification times for
    DuckDB relations over files (cheap: a table bigger than memory is not scanned)."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(_table_hash(tables[name]))
    return digest.hexdigest()[:16]


def _table_hash(native: Any) -> bytes:
    import duckdb
    import polars as pl

    if isinstance(native, duckdb.DuckDBPyRelation):
        query = native.sql_query()
        files = sorted(set(re.findall(r"'([^']+\.(?:parquet|duckdb))'", query)))
        if files:
            stats = [(f, Path(f).stat()) for f in files if Path(f).exists()]
            return "\n".join([query, *(f"{f}:{s.st_size}:{s.st_mtime_ns}" for f, s in stats)]
                             ).encode()
        return repr(native.query("t", "SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM t")
                    .fetchone()).encode()
    if isinstance(native, pl.DataFrame):
        return (",".join(native.columns).encode() + repr(native.dtypes).encode()
                + native.hash_rows(seed=0).to_numpy().tobytes())
    frame = nw.from_native(native, eager_only=True).to_pandas()
    return (",".join(map(str, frame.columns)).encode()
            + pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())


AUTO_DUCKDB_BYTES = 2 * 2**30
"""engine="auto" keeps a dataset whose files total more than this on disk, in DuckDB."""


def load_dataset(source, mapping=None, name: str | None = None, *, encoding: str | None = None,
                 date_formats: Mapping[str, Mapping[str, str]] | None = None,
                 engine: str = "auto") -> Dataset:
    """Read a folder, workbook, file or list of (file name, bytes) uploads; map columns; validate.

    ``mapping`` is a ``ColumnMapping`` or the path of one saved as JSON; ``encoding`` forces a
    CSV encoding; ``date_formats`` settles ambiguous date columns (see ``validation.validate``).
    ``engine`` is where the tables live: "pandas", "polars", "duckdb" (lazy relations over the
    files, for data bigger than memory) or "auto" (duckdb when the files total more than
    AUTO_DUCKDB_BYTES, else polars).
    """
    from kpilab.mapping import ColumnMapping
    from kpilab.reading import read_dataset

    raw = read_dataset(source, encoding=encoding, engine=_engine_for(source, engine))
    if mapping is not None:
        if not isinstance(mapping, ColumnMapping):
            mapping = ColumnMapping.from_json(Path(mapping).read_text(encoding="utf-8"))
        raw = mapping.apply(raw)
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "upload")
    return Dataset.from_frames(raw.tables, label, date_formats=date_formats, notes=tuple(raw.notes))


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
