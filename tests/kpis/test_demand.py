"""daily_demand and demand_at (numpy and lazy kernels) against a slow, obvious loop over the spec's
formulas, on every engine."""

import calendar
import datetime as dt
import random

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import engines
from kpilab.engine import Context
from kpilab.kpis._demand import daily_demand, demand_at, with_month_of, with_month_start
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


def _random_tables(seed):
    rng = random.Random(seed)
    skus = ["a", "b", "c"]
    days = [dt.date(2023, 12, 20) + dt.timedelta(days=i) for i in range(140)]
    sales = pd.DataFrame([{"date": pd.Timestamp(d), "sku": s, "warehouse": w, "units": float(rng.randint(0, 9)),
                           "gmv": 1.0} for d in days for s in skus for w in ("W1", "W2") if rng.random() < 0.4])
    plans = pd.DataFrame([{"sku": s, "month": f"2024-{m:02d}", "version_month": f"{2024 if v > 0 else 2023}-"
                           f"{v if v > 0 else 12:02d}", "source": rng.choice(["plan", "plan", "forecast"]),
                           "units": float(rng.randint(0, 300))}
                          for s in skus for m in range(1, 8) for v in range(m - 2, m + 1)])
    return sales, plans.drop_duplicates(["sku", "month", "version_month", "source"])


@pytest.mark.parametrize("kernel", ["lazy", "numpy"])
def test_demand_at_agrees_with_the_loop(backend, kernel):
    """Both kernels of demand_at (the lazy one forced on in-memory engines too) on day numbers:
    a month end, a leap day, a year boundary, a window reaching over three months."""
    sales, plans = _random_tables(3)
    ctx = Context(dataset(backend, sales=sales, plans=plans), {})
    probe = [dt.date(2023, 12, 31), dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 15),
             dt.date(2024, 4, 30)]
    epoch = dt.date(1970, 1, 1)
    days = ctx.table("sales").select(day=nw.col("units").cast(nw.Int64) * 0).unique()   # on the engine
    days = nw.concat([days.with_columns(day=nw.lit((d - epoch).days, dtype=nw.Int64)) for d in probe])
    skus = ctx.table("sales").select("sku").unique().filter(nw.col("sku") != "c")
    for basis in ("trailing", "forward"):
        for window in (1, 7, 45):
            got = engines.to_pandas(demand_at(ctx, basis, window, days, skus, kernel=kernel))
            assert len(got) == 2 * len(probe)
            for row in got.itertuples():
                want = reference(sales, plans, basis, window, epoch + dt.timedelta(days=int(row.day)), row.sku)
                assert row.demand == pytest.approx(want, rel=1e-12, abs=1e-12), (basis, window, row)


def test_month_helpers_on_every_engine(backend):
    """Month number of a day number and the first day of a month, in integer arithmetic,
    against Python's calendar over 1969–2100 (leap years, century rule)."""
    epoch = dt.date(1970, 1, 1)
    numbers = list(range(-400, 48000, 13))
    ctx = Context(dataset(backend, sales=pd.DataFrame({"day": numbers})), {})
    out = engines.to_pandas(with_month_start(with_month_of(ctx.table("sales"), "day", "m"), "m", "first", offset=1)
                            .sort("day"))
    want = [(epoch + dt.timedelta(days=n)).year * 12 + (epoch + dt.timedelta(days=n)).month - 1 for n in numbers]
    assert out["m"].tolist() == want
    assert out["first"].tolist() == [(dt.date((m + 1) // 12, (m + 1) % 12 + 1, 1) - epoch).days for m in want]
