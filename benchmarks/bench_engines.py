"""Time of every KPI definition, ungrouped and by month, on a dataset (default: the bundled sample).

Run: .venv/bin/python benchmarks/bench_kpis.py [--data DIR] [--polars]
       .venv/bin/python benchmarks/bench_kpis.py --generate 1000,10,365   (skus, warehouses, days)
Per definition: the first call with the cross-request cache emptied (cold, as after a parameter
change that needs new universes), and the median of 3 warm calls; after loading and validating
once (also timed).
"""

from __future__ import annotations

import argparse
import statistics
import time

import kpilab
from kpilab import REGISTRY, compute
from kpilab.engine import clear_shared


def timed(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data")
    parser.add_argument("--generate", help="skus,warehouses,days of a simulated dataset")
    parser.add_argument("--polars", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.generate:
        from kpilab.simulate import simulate

        skus, warehouses, days = (int(x) for x in args.generate.split(","))
        ds = kpilab.Dataset.from_frames(simulate(skus=skus, warehouses=warehouses, days=days), "generated")
    else:
        ds = kpilab.load_dataset(args.data) if args.data else kpilab.load_sample()
    print(f"load + validate: {time.perf_counter() - start:.2f} s  ({sum(len(t) for t in ds.tables.values()):,} rows)")
    if args.polars:
        ds = ds.to_polars()
    print(f"{'kpi':28s} {'definition':20s} {'cold':>10s} {'warm':>10s} {'warm by month':>14s}")
    for kpi in REGISTRY.values():
        for d in kpi.definitions:
            clear_shared()
            cold = timed(lambda: compute(ds, kpi.id, d.id), repeat=1)
            warm = timed(lambda: compute(ds, kpi.id, d.id))
            monthly = timed(lambda: compute(ds, kpi.id, d.id, by=("month",)))
            print(f"{kpi.id:28s} {d.id:20s} {cold * 1000:7.0f} ms {warm * 1000:7.0f} ms {monthly * 1000:11.0f} ms")


if __name__ == "__main__":
    main()
