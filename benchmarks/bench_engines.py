"""Every KPI definition on one engine, cold and warm, beside hand-written polars / DuckDB queries of
the same KPIs in the same run (the machine is shared and noisy: read the ratios).

Run:
  .venv/bin/kpilab generate /tmp/S --skus 1000 --warehouses 10 --days 365 --format parquet
  .venv/bin/python benchmarks/bench_engines.py /tmp/S --engine polars
  .venv/bin/python benchmarks/bench_engines.py /tmp/M --engine duckdb --only plan_accuracy,availability

Per definition: the first call with the cross-request cache emptied (cold: a new parameter set
that needs new universes), its CPU time (every thread of the process: DuckDB's and polars' work
included; steadier than wall time on a shared machine) and, with --warm, the median of 3 warm
calls. The reference queries compute
plan_accuracy / wape and availability / cell_level from the same in-memory frames (polars) or the
same Parquet views (DuckDB) with no KPI Lab code, and their values are checked against the
library's; the ratio is wall / wall, then CPU / CPU. Peak memory is the process' maximum
resident set size at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import time

import kpilab
from kpilab import REGISTRY, compute
from kpilab.engine import clear_shared


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    runs, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), out


# ----------------------------------------------------------------------------- reference queries

def plan_accuracy_polars(ds, data: str | None) -> float:
    """1 − Σ|P−A| / ΣA over the planned SKU-months and those that sold, lag 1, source plan."""
    import polars as pl

    sales, plans = ds.tables["sales"].lazy(), ds.tables["plans"].lazy()
    last = sales.select(pl.col("date").max()).collect().item()
    month_end = (last + dt.timedelta(days=1)).month != last.month
    last_month = last.year * 12 + last.month - 1 - (0 if month_end else 1)
    number = lambda c: pl.col(c).str.slice(0, 4).cast(pl.Int64) * 12 + pl.col(c).str.slice(5, 2).cast(pl.Int64) - 1
    p = (plans.filter(pl.col("source") == "plan", number("month") - number("version_month") == 1,
                      number("month") <= last_month, pl.col("units").is_not_null())
         .select("sku", "month", planned=pl.col("units")))
    a = (sales.with_columns(month=pl.col("date").dt.strftime("%Y-%m")).group_by("sku", "month")
         .agg(actual=pl.col("units").sum()).join(p.select("month").unique(), on="month"))
    keys = pl.concat([p.select("sku", "month"), a.filter(pl.col("actual") > 0).select("sku", "month")]).unique()
    pairs = keys.join(p, on=["sku", "month"], how="left").join(a, on=["sku", "month"], how="left").fill_null(0.0)
    out = pairs.select(err=(pl.col("planned") - pl.col("actual")).abs().sum(), act=pl.col("actual").sum()).collect()
    return 1 - out["err"][0] / out["act"][0]


PLAN_ACCURACY_SQL = """
WITH last AS (SELECT max(date) AS d FROM sales),
lm AS (SELECT year(d) * 12 + month(d) - 1 - CASE WHEN month(d + INTERVAL 1 DAY) <> month(d) THEN 0 ELSE 1 END AS m FROM last),
p AS (SELECT sku, month, units AS planned FROM plans, lm
      WHERE source = 'plan' AND units IS NOT NULL
        AND (CAST(left(month, 4) AS INT) * 12 + CAST(substr(month, 6, 2) AS INT) - 1)
          - (CAST(left(version_month, 4) AS INT) * 12 + CAST(substr(version_month, 6, 2) AS INT) - 1) = 1
        AND CAST(left(month, 4) AS INT) * 12 + CAST(substr(month, 6, 2) AS INT) - 1 <= lm.m),
a AS (SELECT sku, strftime(date, '%Y-%m') AS month, sum(units) AS actual FROM sales
      WHERE strftime(date, '%Y-%m') IN (SELECT month FROM p) GROUP BY ALL),
k AS (SELECT sku, month FROM p UNION SELECT sku, month FROM a WHERE actual > 0)
SELECT 1 - sum(abs(coalesce(planned, 0) - coalesce(actual, 0))) / sum(coalesce(actual, 0))
FROM k LEFT JOIN p USING (sku, month) LEFT JOIN a USING (sku, month)
"""

AVAILABILITY_SQL = """
WITH days AS (SELECT DISTINCT date FROM inventory),
cells AS (SELECT i.sku, i.warehouse, min(i.date) AS f, max(i.date) AS l FROM inventory i JOIN skus s USING (sku)
          WHERE coalesce(lower(trim(s.lifecycle)), 'active') IN ('new', 'active') GROUP BY ALL),
pool AS (SELECT c.sku, c.warehouse, d.date FROM cells c JOIN days d ON d.date BETWEEN c.f AND c.l)
SELECT count(*) FILTER (WHERE i.sellable_units > 0) / count(*)
FROM pool LEFT JOIN inventory i USING (sku, warehouse, date)
"""


def duckdb_reference(sql: str):
    """The query on a fresh DuckDB connection: views over the same Parquet files for a DuckDB
    dataset, the in-memory tables (as Arrow) otherwise."""
    def run(ds, data: str | None) -> float:
        import duckdb

        con = duckdb.connect()
        for name, table in ds.tables.items():
            if ds.engine == "duckdb":
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{data}/{name}.parquet')")
            else:
                con.register(name, kpilab.engines.collect(kpilab.engines.lazy(table)).to_arrow())
        return float(con.sql(sql).fetchall()[0][0])
    return run


REFERENCES = {("plan_accuracy", "wape"): {"polars": plan_accuracy_polars, "duckdb": duckdb_reference(PLAN_ACCURACY_SQL)},
              ("availability", "cell_level"): {"duckdb": duckdb_reference(AVAILABILITY_SQL)}}


# ----------------------------------------------------------------------------- the run

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="?", help="dataset folder (default: the bundled sample)")
    parser.add_argument("--engine", default="polars", choices=["pandas", "polars", "duckdb"])
    parser.add_argument("--only", help="comma-separated KPI ids")
    parser.add_argument("--warm", action="store_true", help="also time 3 warm calls per definition")
    args = parser.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    ds = kpilab.load_dataset(args.data, engine=args.engine) if args.data else kpilab.load_sample().to_engine(args.engine)
    print(f"load + validate ({args.engine}): {time.perf_counter() - start:.2f} s, "
          f"CPU {time.process_time() - cpu:.2f} s", flush=True)
    rows = sum(ds.rows(t) for t in ds.tables)
    print(f"{rows:,} rows")
    only = set(args.only.split(",")) if args.only else None
    print(f"{'kpi':26s} {'definition':20s} {'cold':>9s} {'CPU':>8s} {'warm':>9s} {'reference':>16s} {'ratio':>6s}")
    for kpi in REGISTRY.values():
        if only and kpi.id not in only:
            continue
        for d in kpi.definitions:
            clear_shared()
            cpu = time.process_time()
            try:
                cold, result = timed(lambda: compute(ds, kpi.id, d.id), repeat=1)
                cpu = time.process_time() - cpu
            except kpilab.KpiError as exc:
                print(f"{kpi.id:26s} {d.id:20s} skipped: {exc}")
                continue
            warm = timed(lambda: compute(ds, kpi.id, d.id))[0] if args.warm else float("nan")
            ref = REFERENCES.get((kpi.id, d.id), {}).get(args.engine if args.engine != "pandas" else "polars")
            line = f"{kpi.id:26s} {d.id:20s} {cold:8.2f}s {cpu:7.2f}s {warm:8.2f}s"
            if ref:
                ref_cpu = time.process_time()
                seconds, value = timed(lambda: ref(ds, args.data), repeat=1)
                ref_cpu = time.process_time() - ref_cpu
                same = abs(value - result.value) <= 1e-9 * max(1.0, abs(value))
                line += (f" {seconds:8.2f}s {'=' if same else '≠'}{'':6s} {cold / seconds:5.1f}× "
                         f"(CPU {ref_cpu:.2f}s, {cpu / ref_cpu:.1f}×)")
            print(line, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory: {peak:.2f} GB")


if __name__ == "__main__":
    main()
