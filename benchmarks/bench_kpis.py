"""Time of every KPI definition, ungrouped and by month, on a dataset (default: the bundled sample).

Run: .venv/bin/python benchmarks/bench_kpis.py [--data DIR] [--polars]
       .venv/bin/python benchmarks/bench_kpis.py --generate 1000,10,365   (skus, warehouses, days)
Median of 3 runs per definition, after loading and validating once (also timed).
"""

from __future__ import annotations

import argparse
import statistics
import time

import kpilab
from kpilab import REGISTRY, compute


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
    print(f"{'kpi':28s} {'definition':20s} {'overall':>9s} {'by month':>9s}")
    for kpi in REGISTRY.values():
        for d in kpi.definitions:
            overall = timed(lambda: compute(ds, kpi.id, d.id))
            monthly = timed(lambda: compute(ds, kpi.id, d.id, by=("month",)))
            print(f"{kpi.id:28s} {d.id:20s} {overall * 1000:7.0f} ms {monthly * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
