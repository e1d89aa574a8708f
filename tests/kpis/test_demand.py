"""daily_demand (numpy kernel) against a slow, obvious loop over the spec's formulas."""

import calendar
import datetime as dt
import random

import pandas as pd
import pytest

from kpilab.engine import Context
from kpilab.kpis._demand import daily_demand
from tests.conftest import dataset


def reference(sales, plans, basis, window, day, sku):
    if basis == "trailing":
        start = day - dt.timedelta(days=window - 1)
        rows = sales[(sales.sku == sku) & (sales.date.dt.date >= start) & (sales.date.dt.date <= day)]
        return rows.units.sum() / window
    total = 0.0
    for k in range(1, window + 1):
        d = day + dt.timedelta(days=k)
        month = f"{d.year:04d}-{d.month:02d}"
        rows = plans[(plans.sku == sku) & (plans.month == month) & (plans.source == "plan")
                     & (plans.version_month <= f"{day.year:04d}-{day.month:02d}")]
        if len(rows):
            total += rows.sort_values("version_month").units.iloc[-1] / calendar.monthrange(d.year, d.month)[1]
    return total / window


@pytest.mark.parametrize("seed", [1, 2])
def test_kernel_agrees_with_the_loop(backend, seed):
    rng = random.Random(seed)
    skus = ["a", "b", "c"]
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(120)]
    sales = pd.DataFrame([{"date": pd.Timestamp(d), "sku": s, "warehouse": "W", "units": float(rng.randint(0, 9)),
                           "gmv": 1.0} for d in days for s in skus if rng.random() < 0.6])
    plans = pd.DataFrame([{"sku": s, "month": f"2024-{m:02d}", "version_month": f"{2024 if v > 0 else 2023}-"
                           f"{v if v > 0 else 12:02d}", "source": rng.choice(["plan", "plan", "forecast"]),
                           "units": float(rng.randint(0, 300))}
                          for s in skus for m in range(1, 7) for v in range(m - 2, m + 1)])
    plans = plans.drop_duplicates(["sku", "month", "version_month", "source"])
    ctx = Context(dataset(backend, sales=sales, plans=plans), {})
    probe = [dt.date(2024, 1, 3), dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 15),
             dt.date(2024, 4, 30)]
    for basis in ("trailing", "forward"):
        for window in (1, 7, 30):
            got = daily_demand(ctx, basis, window, probe, skus + ["unknown"])
            got = got.to_pandas() if hasattr(got, "to_pandas") else got
            for row in got.itertuples():
                want = 0.0 if row.sku == "unknown" else reference(sales, plans, basis, window, row.date.date(), row.sku)
                assert row.demand == pytest.approx(want), (basis, window, row)
