"""Validated DuckDB datasets kept on disk, so the same files open in seconds the second time.

Validating a large dataset (10,000 SKUs × 10 warehouses × a year: 57M rows) costs minutes of
parsing and checking; its result — the clean tables, the validation report, the notes and the
grain — depends only on the files read and how they were read. ``load_dataset`` on DuckDB keeps
that result in a DuckDB file named by a key of exactly those inputs (each file's path, size and
modification time, or the content of tables read into memory; the mapping, date formats and
grain asked for; the code of the checks), and opens it read-only in place of validating again.
A file changed on disk gets a new key; the newest ``KEEP`` results are kept.

Where: ``$KPILAB_CACHE`` (a folder, or ``off``), else ``~/.cache/kpilab``. The report is stored
pickled: the cache folder is the user's own, like any other cache of Python objects.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any, Mapping

import duckdb

from kpilab import engines

KEEP = 4
_CODE = ("contract.py", "validation.py", "dataset.py", "reading.py", "cache.py")
_META = "kpilab_meta"


def folder() -> Path | None:
    """The cache folder, or None when caching is off (``KPILAB_CACHE=off``)."""
    setting = os.environ.get("KPILAB_CACHE", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "kpilab"


def key(source_fingerprint: str, options: Any) -> str:
    """The key of a validation: what was read (``Dataset.fingerprint`` of the raw tables), how
    (mapping, date formats, grain asked for) and the code that checks it."""
    digest = hashlib.sha256(source_fingerprint.encode())
    digest.update(repr(options).encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:24]


def options(mapping: Any, date_formats: Mapping | None, grain: str) -> tuple:
    """How the files were read, as a stable value for ``key``."""
    return (mapping.to_json() if mapping is not None else None,
            sorted((t, sorted(c.items())) for t, c in (date_formats or {}).items()), grain)


def load(cache_key: str, name: str):
    """The Dataset validated under ``cache_key``, its tables read in place from the cache file
    (read only; temporary results go to a new in-memory database), or None."""
    from kpilab.dataset import Dataset

    where = folder()
    path = where / f"{cache_key}.duckdb" if where else None
    if path is None or not path.exists():
        return None
    con = engines.connect()
    try:
        con.execute(f"ATTACH '{_text(path)}' AS kpilab_cache (READ_ONLY)")
        (blob,), = con.execute(f"SELECT payload FROM kpilab_cache.{_META}").fetchall()
        meta = pickle.loads(blob)
    except (duckdb.Error, pickle.UnpicklingError, EOFError):  # damaged: validate again
        con.close()
        return None
    path.touch()  # recently used: kept longest
    tables = {table: con.sql(f'SELECT * FROM kpilab_cache."{table}"') for table in meta["tables"]}
    return Dataset(tables, name, meta["report"], cache_key, meta["notes"], meta["grain"])


def save(cache_key: str, dataset) -> None:
    """Write a DuckDB dataset's clean tables and report under ``cache_key`` (into a temporary
    file renamed at the end, so a reader never sees a half-written one); old results beyond
    ``KEEP`` are removed. A cache that cannot be written (disk full, read-only home) is skipped."""
    where = folder()
    if where is None or dataset.engine != "duckdb" or not dataset.tables:
        return
    path = where / f"{cache_key}.duckdb"
    partial = where / f"{cache_key}.{os.getpid()}.partial"
    con = next(iter(dataset.tables.values()))._con
    try:
        where.mkdir(parents=True, exist_ok=True)
        con.execute(f"ATTACH '{_text(partial)}' AS kpilab_save")
        try:
            for table, relation in dataset.tables.items():
                con.execute(f'CREATE TABLE kpilab_save."{table}" AS {relation.sql_query()}')
            meta = {"tables": list(dataset.tables), "report": dataset.report,
                    "notes": dataset.notes, "grain": dataset.grain}
            con.execute(f"CREATE TABLE kpilab_save.{_META} (payload BLOB)")
            con.execute(f"INSERT INTO kpilab_save.{_META} VALUES (?)", [pickle.dumps(meta)])
        finally:
            con.execute("DETACH kpilab_save")
        os.replace(partial, path)
    except (OSError, duckdb.Error):
        partial.unlink(missing_ok=True)
        return
    _prune(where)


def _prune(where: Path) -> None:
    """Keep the ``KEEP`` most recently used results."""
    files = sorted(where.glob("*.duckdb"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


def _text(path: Path) -> str:
    return str(path).replace("'", "''")
