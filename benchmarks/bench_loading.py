"""Load + validate from CSV and Parquet (polars) and from Parquet on DuckDB, each next to a plain
read of the same files in the same run, with wall time, CPU time and peak memory.

    .venv/bin/kpilab generate /tmp/S --skus 1000 --warehouses 10 --days 365 --seed 3 --format csv
    .venv/bin/kpilab generate /tmp/S_pq --skus 1000 --warehouses 10 --days 365 --seed 3 \\
        --format parquet
    .venv/bin/python benchmarks/bench_loading.py --csv /tmp/S --parquet /tmp/S_pq \\
        [--duckdb /tmp/S_pq /tmp/M_pq] [--repeat 3]

Every measurement runs in a fresh process under ``/usr/bin/time -v`` (its peak resident memory
is read from there; nothing is cached between cases). The plain read is the floor: polars reads
every file with its own type inference (``read_csv`` / ``read_parquet``), DuckDB hashes every
value of every column of every file (all decoded, nothing kept). The ratio is
(load + validate) / (plain read). Targets on 2 cores at S (5.7M rows): ≤ 3 s from CSV and
≤ 1 s from Parquet; on DuckDB at M (57M rows) a peak well under 4 GB and well under a minute.
Wall times depend on what else runs on the machine: the CPU column says what the work costs.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

TIME = "/usr/bin/time"


def _load(folder: str, engine: str) -> dict:
    """One load_dataset, timed in this process (modules imported before the clock starts)."""
    import time

    import kpilab.mapping  # noqa: F401  (imported by load_dataset: not part of the timing)
    import kpilab.validation  # noqa: F401
    from kpilab.dataset import load_dataset

    wall, cpu = time.perf_counter(), time.process_time()
    ds = load_dataset(folder, engine=engine)
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "rows": sum(ds.report.rows_read.values()), "errors": len(ds.report.errors),
            "warnings": len(ds.report.warnings)}


def _plain(folder: str, engine: str) -> dict:
    """The floor: read every file of the folder, nothing checked."""
    import time

    import duckdb
    import polars as pl

    files = sorted(p for p in Path(folder).iterdir() if p.suffix in (".csv", ".parquet"))
    wall, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for path in files:
        if engine == "duckdb":
            query = f"SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM read_parquet('{path}')"
            rows += duckdb.sql(query).fetchall()[0][0]
        else:
            rows += len(pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path))
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "rows": rows}


def measure(kind: str, folder: Path, engine: str) -> dict:
    """Run one case in a fresh process under /usr/bin/time -v; add its peak memory (GB)."""
    done = subprocess.run([TIME, "-v", sys.executable, __file__, "--one", kind, str(folder),
                           engine], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} {engine} {folder} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    out["peak_gb"] = int(peak.group(1)) / 2**20 if peak else float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, help="a folder of CSV files (polars engine)")
    parser.add_argument("--parquet", type=Path, help="a folder of Parquet files (polars engine)")
    parser.add_argument("--duckdb", type=Path, nargs="*", default=[],
                        help="folders of Parquet files validated on DuckDB")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest counts")
    parser.add_argument("--one", nargs=3, metavar=("KIND", "FOLDER", "ENGINE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, folder, engine = args.one
        print(json.dumps((_load if kind == "load" else _plain)(folder, engine)))
        return
    cases = ([(args.csv, "polars")] if args.csv else []) + \
        ([(args.parquet, "polars")] if args.parquet else []) + [(d, "duckdb") for d in args.duckdb]
    print("| data | engine | rows | load + validate: wall / CPU / peak | plain read: wall / CPU "
          "/ peak | ratio (wall) | errors, warnings |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for folder, engine in cases:
        load = min((measure("load", folder, engine) for _ in range(args.repeat)),
                   key=lambda m: m["wall"])
        plain = min((measure("plain", folder, engine) for _ in range(args.repeat)),
                    key=lambda m: m["wall"])
        form = "CSV" if any(folder.glob("*.csv")) else "Parquet"
        print(f"| {folder.name} ({form}) | {engine} | {load['rows']:,} | {load['wall']:.2f} s / "
              f"{load['cpu']:.2f} s / {load['peak_gb']:.2f} GB | {plain['wall']:.2f} s / "
              f"{plain['cpu']:.2f} s / {plain['peak_gb']:.2f} GB | "
              f"{load['wall'] / plain['wall']:.1f}× | {load['errors']}, {load['warnings']} |",
              flush=True)


if __name__ == "__main__":
    main()
