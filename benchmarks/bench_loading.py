"""Load + validate the S dataset (1,000 SKUs × 10 warehouses × 365 days, 5.7M rows) from CSV and
Parquet, next to a hand-written polars read of the same files in the same run.

    .venv/bin/kpilab generate /tmp/S --skus 1000 --warehouses 10 --days 365 --seed 3
    .venv/bin/python benchmarks/bench_loading.py /tmp/S [--engine polars|duckdb]

The Parquet copy is written next to the CSV folder (``<folder>_parquet``, typed by polars) when
missing. The ratio is (load + validate) / (plain polars read): the price of the checks.
Targets on 2 cores: ≤ 3 s from CSV, ≤ 1 s from Parquet.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from kpilab.dataset import load_dataset


def reference_read(folder: Path, suffix: str) -> float:
    """The floor: polars reads every file, typed by its own inference, nothing checked."""
    start = time.perf_counter()
    for path in sorted(folder.glob(f"*{suffix}")):
        pl.read_csv(path) if suffix == ".csv" else pl.read_parquet(path)
    return time.perf_counter() - start


def timed_load(folder: Path, engine: str) -> tuple[float, object]:
    start = time.perf_counter()
    ds = load_dataset(folder, engine=engine)
    return time.perf_counter() - start, ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--engine", default="polars", choices=["polars", "duckdb", "pandas"])
    args = parser.parse_args()
    parquet = args.folder.with_name(args.folder.name + "_parquet")
    if not parquet.exists():
        parquet.mkdir()
        for path in sorted(args.folder.glob("*.csv")):
            pl.read_csv(path, try_parse_dates=True).write_parquet(parquet / f"{path.stem}.parquet")
    for folder, suffix in ((args.folder, ".csv"), (parquet, ".parquet")):
        floor = reference_read(folder, suffix)
        took, ds = timed_load(folder, args.engine)
        rows = sum(ds.report.rows_read.values())
        print(f"{suffix[1:]:>8} {args.engine}: load+validate {took:6.2f} s, polars read "
              f"{floor:5.2f} s, ratio {took / floor:5.1f}×  ({rows:,} rows, "
              f"{len(ds.report.errors)} errors, {len(ds.report.warnings)} warnings)")


if __name__ == "__main__":
    main()
