"""Every KPI definition on Spark local mode, cold, beside the same on DuckDB (as information: on
data that fits one machine DuckDB is expected to win; Spark is for data that does not).

Run:
  .venv/bin/kpilab generate /tmp/S --skus 1000 --warehouses 10 --days 365 --format parquet
  .venv/bin/python benchmarks/bench_spark.py /tmp/S
  .venv/bin/python benchmarks/bench_spark.py /tmp/S --only plan_accuracy,days_of_inventory --no-duckdb

Timed on Spark: the session start (a JVM, ``--master``, default local[2], with kpilab's local
settings and ``--driver-memory``), ``load_dataset(..., engine="spark")`` with the contract's
validation, then each definition's first call with the cross-request cache emptied (cold: new
universes, plans analysed for the first time; the JIT warms up over the first few). The same
on DuckDB (``engine="duckdb"``, its validation cache off so it validates too). Each line says
whether the two engines' values agree within 1e-9. Wall times on a shared machine are noisy:
the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("KPILAB_CACHE", "off")   # DuckDB validates the files, like Spark does

import kpilab
from kpilab import REGISTRY, compute, engines
from kpilab.engine import clear_shared

from bench_engines import timed


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def start_spark(master: str, driver_memory: str):
    """kpilab's local session (``engines.spark_session`` picks up the active one) with more
    driver memory than Spark's 1 GB default: in local mode the executors run inside the driver."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("kpilab-bench").master(master)
    for key, value in {**engines.SPARK_LOCAL_CONF, "spark.driver.memory": driver_memory}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    assert engines.spark_session() is session
    return session


def cold(ds, kpi_id: str, definition: str):
    clear_shared()
    try:
        return timed(lambda: compute(ds, kpi_id, definition), repeat=1)
    except kpilab.KpiError as exc:
        return None, exc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="dataset folder (Parquet or CSV), e.g. the S dataset")
    parser.add_argument("--only", help="comma-separated KPI ids")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--no-duckdb", action="store_true", help="time Spark only")
    args = parser.parse_args()
    print(f"{load()} at the start")

    start = time.perf_counter()
    start_spark(args.master, args.driver_memory)
    print(f"spark session ({args.master}, driver {args.driver_memory}): {time.perf_counter() - start:.2f} s", flush=True)
    sets = {}
    for engine in ("spark",) if args.no_duckdb else ("spark", "duckdb"):
        start = time.perf_counter()
        sets[engine] = kpilab.load_dataset(args.data, engine=engine)
        print(f"load + validate ({engine}): {time.perf_counter() - start:.2f} s", flush=True)
    rows = sum(sets["spark"].rows(t) for t in sets["spark"].tables)
    print(f"{rows:,} rows in {len(sets['spark'].tables)} tables")

    only = set(args.only.split(",")) if args.only else None
    print(f"{'kpi':26s} {'definition':20s} {'spark':>9s} {'duckdb':>9s} {'ratio':>6s}  same")
    total = dict.fromkeys(sets, 0.0)
    for kpi in REGISTRY.values():
        if only and kpi.id not in only:
            continue
        for d in kpi.definitions:
            times, values = {}, {}
            for engine, ds in sets.items():
                seconds, result = cold(ds, kpi.id, d.id)
                if seconds is None:
                    values[engine] = f"skipped: {result}"
                    continue
                times[engine], values[engine] = seconds, result.value
                total[engine] += seconds
            if "spark" not in times:
                print(f"{kpi.id:26s} {d.id:20s} {values['spark']}", flush=True)
                continue
            line = f"{kpi.id:26s} {d.id:20s} {times['spark']:8.2f}s"
            if "duckdb" in times:
                a, b = float(values["spark"]), float(values["duckdb"])
                same = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(b))
                line += f" {times['duckdb']:8.2f}s {times['spark'] / times['duckdb']:5.1f}×  {'=' if same else '≠'}"
            print(line, flush=True)
    print("total " + ", ".join(f"{engine} {seconds:.1f} s" for engine, seconds in total.items()))
    print(f"{load()} at the end")


if __name__ == "__main__":
    main()
