"""Availability family: the spec's worked check, hand-worked cases, edge cases, and the numpy
kernels against slow per-cell reference loops on seeded random data — on pandas, polars and DuckDB
(DuckDB runs the lazy path); and the numpy cube against the lazy path forced on the same data."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import KpiError, compare, compute
from kpilab.kpis.availability import daily_series, gap_breakdown, in_stock_matrix
from tests.conftest import dataset, table, value

D = pd.Timestamp


def inv_rows(rows):
    """rows: (date, sku, warehouse, sellable)."""
    return pd.DataFrame({"date": pd.to_datetime([r[0] for r in rows]), "sku": [r[1] for r in rows],
                         "warehouse": [r[2] for r in rows], "on_hand_units": [float(r[3]) + 1 for r in rows],
                         "sellable_units": [float(r[3]) for r in rows]})


def sales_rows(rows):
    """rows: (date, sku, warehouse, units, gmv, promo, page_views)."""
    return pd.DataFrame({"date": pd.to_datetime([r[0] for r in rows]), "sku": [r[1] for r in rows],
                         "warehouse": [r[2] for r in rows], "units": [float(r[3]) for r in rows],
                         "gmv": [float(r[4]) for r in rows], "promo": [bool(r[5]) for r in rows],
                         "page_views": [None if r[6] is None else float(r[6]) for r in rows]})


def sku_rows(skus, lifecycle=None, abc=None):
    n = len(skus)
    return pd.DataFrame({"sku": list(skus), "category": "c", "unit_cost": 1.0,
                         "lifecycle": lifecycle or ["active"] * n, "abc_class": abc or ["A"] * n})


def detail(result) -> pd.DataFrame:
    return nw.from_native(result.detail, eager_only=True).to_pandas()


def row(ds, kpi, definition, **params) -> pd.Series:
    return table(ds, kpi, definition, **params).iloc[0]


# ----------------------------------------------------------------------------- spec worked check

def spec_dataset(backend):
    skus = [f"s{i:03d}" for i in range(100)]
    whs = [f"w{j:02d}" for j in range(20)]
    rows = [("2024-03-01", s, w, 0 if s == "s000" or (s == "s001" and w < "w10") else 5)
            for s in skus for w in whs]
    return dataset(backend, inventory=inv_rows(rows), skus=sku_rows(skus))


def test_spec_worked_check(backend):
    ds = spec_dataset(backend)
    # (20 + 10) out of 100 × 20 cells → 1 − 30/2000; 1 SKU of 100 out everywhere → 0.99
    assert value(ds, "availability", "cell_level") == pytest.approx(0.985)
    assert value(ds, "availability", "sku_level") == pytest.approx(0.99)
    r = row(ds, "availability", "cell_level")
    assert (r["in_stock_cell_days"], r["pool_cell_days"]) == (1970, 2000)
    r = row(ds, "availability", "sku_level")
    assert (r["in_stock_sku_days"], r["pool_sku_days"]) == (99, 100)


# ----------------------------------------------------------------------------- pool

def listing_dataset(backend):
    """SKU a in W1 (rows Jan 2 and Jan 4 only; Jan 3 missing) and W2 (Jan 1–5, out on Jan 3)."""
    rows = [("2024-01-02", "a", "W1", 5), ("2024-01-04", "a", "W1", 3)]
    rows += [(f"2024-01-0{d}", "a", "W2", 0 if d == 3 else 1) for d in range(1, 6)]
    return dataset(backend, inventory=inv_rows(rows), skus=sku_rows(["a"]))


def test_missing_row_inside_listing_is_out_of_stock(backend):
    ds = listing_dataset(backend)
    # W1 listed Jan 2–4 (3 days, in stock 2: Jan 3 has no row → out); W2 5 days, in stock 4
    r = row(ds, "availability", "cell_level")
    assert (r["in_stock_cell_days"], r["pool_cell_days"]) == (6, 8)
    assert r["value"] == pytest.approx(0.75)
    by_wh = table(ds, "availability", "cell_level", by=["warehouse"])
    assert list(by_wh["value"]) == pytest.approx([2 / 3, 4 / 5])
    # SKU a is in the pool Jan 1–5; Σ_w sellable is 0 only on Jan 3 → 4/5
    assert value(ds, "availability", "sku_level") == pytest.approx(0.8)
    res = compute(ds, "availability", "cell_level")
    assert any("no inventory row" in n and n.startswith("1 ") for n in res.notes)


def test_lifecycle_filter_and_unknown_skus(backend):
    skus = sku_rows(["a", "b", "c", "d"], lifecycle=["active", "phase_out", "new", None])
    inv = inv_rows([("2024-01-01", "a", "W", 1), ("2024-01-01", "b", "W", 0), ("2024-01-01", "c", "W", 0),
                    ("2024-01-01", "d", "W", 2), ("2024-01-01", "e", "W", 0)])
    ds = dataset(backend, inventory=inv, skus=skus)
    # default new,active: a (in), c (out), d (blank lifecycle = active, in); b phase_out and e unknown left out
    assert value(ds, "availability", "cell_level") == pytest.approx(2 / 3)
    everything = "not_launched,new,active,phase_out,discontinued"
    assert value(ds, "availability", "cell_level", lifecycles=everything) == pytest.approx(2 / 4)
    assert value(ds, "availability", "cell_level", lifecycles="phase_out") == pytest.approx(0.0)
    assert value(ds, "availability", "sku_level", lifecycles="Phase_Out") == pytest.approx(0.0)
    notes = compute(ds, "availability", "cell_level").notes
    assert any("missing from the SKU master" in n for n in notes)
    assert any(n.startswith("Pool: 3 SKUs") for n in notes)


def test_class_filter_and_empty_pool_is_nan(backend):
    skus = sku_rows(["a", "b", "c"], abc=["A", "B", "C"])
    inv = inv_rows([("2024-01-01", "a", "W", 1), ("2024-01-01", "b", "W", 0), ("2024-01-01", "c", "W", 0)])
    ds = dataset(backend, inventory=inv, skus=skus)
    assert value(ds, "availability", "cell_level", classes="A,B") == pytest.approx(0.5)
    assert value(ds, "availability", "cell_level", classes="A") == pytest.approx(1.0)
    for d in ("sku_level", "cell_level"):
        r = row(ds, "availability", d, classes="E")
        assert math.isnan(r["value"])
    by = table(ds, "availability", "cell_level", by=["abc_class"])
    assert list(by["abc_class"]) == ["A", "B", "C"] and list(by["value"]) == [1.0, 0.0, 0.0]


def test_month_and_year_boundary(backend):
    rows = [("2023-12-30", "a", "W", 1), ("2023-12-31", "a", "W", 0), ("2024-01-01", "a", "W", 0),
            ("2024-01-02", "a", "W", 4)]
    ds = dataset(backend, inventory=inv_rows(rows), skus=sku_rows(["a"]))
    by = table(ds, "availability", "cell_level", by=["month"])
    assert list(by["month"]) == ["2023-12", "2024-01"]
    assert list(by["value"]) == pytest.approx([0.5, 0.5])
    assert list(by["pool_cell_days"]) == [2, 2]


def test_sku_level_by_warehouse_is_an_error(backend):
    ds = listing_dataset(backend)
    with pytest.raises(KpiError, match="network-level"):
        compute(ds, "availability", "sku_level", by=["warehouse"])
    with pytest.raises(KpiError, match="warehouse"):
        compute(ds, "low_cover", "trailing", by=["warehouse"])


# ----------------------------------------------------------------------------- demand_weighted

def weighted_dataset(backend, with_sales=True):
    # one inventory day, Jan 4: X = (a, W1) in stock, Y = (a, W2) out, Z = (b, W1) out
    inv = inv_rows([("2024-01-04", "a", "W1", 5), ("2024-01-04", "a", "W2", 0), ("2024-01-04", "b", "W1", 0)])
    sales = sales_rows([
        ("2024-01-01", "a", "W1", 3, 30, False, None),    # t − 3: in the window
        ("2024-01-03", "a", "W1", 3, 30, False, None),    # t − 1: in the window
        ("2024-01-04", "a", "W1", 100, 1000, False, None),  # t itself: not in the window
        ("2023-12-31", "a", "W2", 50, 500, False, None),  # t − 4: outside
        ("2024-01-02", "a", "W2", 3, 30, False, None),
    ] if with_sales else [("2024-01-10", "zz", "W9", 1, 1, False, None)])
    return dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a", "b"]))


def test_demand_weighted_hand_worked_with_zero_weight(backend):
    ds = weighted_dataset(backend)
    # window 3 → days Jan 1–3: w_X = 6/3 = 2, w_Y = 3/3 = 1, w_Z = 0 (no sales) → 2 / 3
    r = row(ds, "availability", "demand_weighted", window=3)
    assert r["value"] == pytest.approx(2 / 3)
    assert r["in_stock_weight"] == pytest.approx(2.0) and r["weight_total"] == pytest.approx(3.0)
    assert value(ds, "availability", "cell_level") == pytest.approx(1 / 3)
    notes = compute(ds, "availability", "demand_weighted", window=3).notes
    assert any(n.startswith("1 pool cell-days sold nothing") for n in notes)
    # window 4 reaches Dec 31: w_Y = 53/4, w_X = 6/4 → 6 / 59
    assert value(ds, "availability", "demand_weighted", window=4) == pytest.approx(6 / 59)
    # window 1 → only Jan 3: w_X = 3, w_Y = 0 → 1.0
    assert value(ds, "availability", "demand_weighted", window=1) == pytest.approx(1.0)
    by = table(ds, "availability", "demand_weighted", by=["warehouse"], window=3)
    assert list(by["value"]) == pytest.approx([1.0, 0.0])


def test_demand_weighted_all_zero_weights_is_nan(backend):
    ds = weighted_dataset(backend, with_sales=False)
    r = row(ds, "availability", "demand_weighted")
    assert math.isnan(r["value"]) and r["weight_total"] == 0


def test_demand_weighted_needs_sales(backend):
    ds = dataset(backend, inventory=inv_rows([("2024-01-01", "a", "W", 1)]), skus=sku_rows(["a"]))
    assert value(ds, "availability", "cell_level") == 1.0
    with pytest.raises(KpiError, match="sales"):
        compute(ds, "availability", "demand_weighted")


# ----------------------------------------------------------------------------- low_cover

def cover_dataset(backend, extra_sales=()):
    inv = inv_rows([("2024-01-03", "a", "W1", 5), ("2024-01-03", "a", "W2", 4),
                    ("2024-01-03", "b", "W1", 0), ("2024-01-03", "c", "W1", 3)])
    sales = sales_rows([("2024-01-02", "a", "W1", 1, 10, False, None), ("2024-01-03", "a", "W2", 1, 10, False, None),
                        *extra_sales])
    return dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a", "b", "c"]))


def test_low_cover_trailing_hand_worked(backend):
    ds = cover_dataset(backend)
    # window 2 → demand(a) = (1 + 1)/2 = 1, DOS(a) = (5 + 4)/1 = 9; b: 0 units → DOS 0; c: no demand → ∞
    assert value(ds, "low_cover", "trailing", window=2) == pytest.approx(1 / 3)              # b
    assert value(ds, "low_cover", "trailing", window=2, days=10) == pytest.approx(2 / 3)     # a, b
    assert value(ds, "low_cover", "trailing", window=2, days=9) == pytest.approx(1 / 3)      # 9 < 9 is false
    assert value(ds, "low_cover", "trailing", window=2, days=1) == pytest.approx(1 / 3)
    r = row(ds, "low_cover", "trailing", window=2)
    assert (r["low_cover_sku_days"], r["pool_sku_days"]) == (1, 3)
    # a sale on t − window (Jan 1) is outside the trailing window t−window+1 … t
    ds = cover_dataset(backend, [("2024-01-01", "a", "W1", 100, 1000, False, None)])
    assert value(ds, "low_cover", "trailing", window=2, days=10) == pytest.approx(2 / 3)
    # default window 30: demand(a) = 2/30 → DOS 135
    assert value(ds, "low_cover", "trailing", days=100) == pytest.approx(2 / 3)   # (100+2)/30 → DOS 2.6


def forward_dataset(backend):
    inv = inv_rows([("2024-01-25", "a", "W1", 95)])
    sales = sales_rows([("2024-01-25", "a", "W1", 0, 0, False, None)])
    plans = pd.DataFrame({"sku": ["a", "a", "a"], "month": ["2024-01", "2024-02", "2024-02"],
                          "version_month": ["2023-12", "2024-01", "2024-02"], "source": "plan",
                          "units": [310.0, 580.0, 2900.0]})
    return dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a"]), plans=plans)


def test_low_cover_forward_crosses_month_boundary(backend):
    ds = forward_dataset(backend)
    # t = Jan 25, window 10 → Jan 26–31 at 310/31 = 10 a day, Feb 1–4 at 580/29 = 20 a day (the Feb version
    # made in Feb is look-ahead and ignored) → demand (60 + 80)/10 = 14, DOS = 95/14 = 6.79
    assert value(ds, "low_cover", "forward", window=10, days=7) == 1.0
    assert value(ds, "low_cover", "forward", window=10, days=6) == 0.0
    assert value(ds, "low_cover", "forward", window=10, days=3) == 0.0   # look-ahead would give DOS 2.07
    # window 6 stays in January: demand 10, DOS 9.5
    assert value(ds, "low_cover", "forward", window=6, days=9) == 0.0
    assert value(ds, "low_cover", "forward", window=6, days=10) == 1.0
    assert value(ds, "low_cover", "trailing", window=10, days=7) == 0.0   # no sales: DOS ∞


def test_low_cover_forward_needs_plans(backend):
    with pytest.raises(KpiError, match="plans"):
        compute(cover_dataset(backend), "low_cover", "forward")


# ----------------------------------------------------------------------------- lost_sales

def lost_dataset(backend):
    stock = {1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 6: 0, 7: 5, 8: 0}
    inv = inv_rows([(f"2024-01-0{d}", "a", "W1", s) for d, s in stock.items()])
    sales = sales_rows([
        ("2024-01-01", "a", "W1", 2, 20, False, 20),
        ("2024-01-02", "a", "W1", 4, 40, False, 40),
        ("2024-01-03", "a", "W1", 20, 160, False, 100),   # promo day (flagged on another SKU's row)
        ("2024-01-03", "z", "W9", 1, 1, True, None),
        ("2024-01-05", "a", "W1", 6, 60, False, 60),      # Jan 4: no row → 0 units, 0 views
        ("2024-01-06", "a", "W1", 0, 0, False, 15),
        ("2024-01-07", "a", "W1", 3, 30, False, 30),
        ("2024-01-08", "a", "W1", 0, 0, True, 50),        # promo day
    ])
    return dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a"]))


def test_lost_sales_historical_average_with_promo_reference_days(backend):
    ds = lost_dataset(backend)
    # window 4. Jan 6 (everyday): reference Jan 2, 4, 5 (Jan 3 is promo) → units (4+0+6)/3, price 100/10
    # Jan 8 (promo): Jan 4–7 holds no in-stock promo day → 0
    r = row(ds, "lost_sales", "historical_average", window=4)
    assert r["lost_units"] == pytest.approx(10 / 3)
    assert r["value"] == pytest.approx(100 / 3)
    assert r["oos_cell_days"] == 2
    # window 6. Jan 6: Jan 1, 2, 4, 5 → 12/4 = 3 units at 10 → 30; Jan 8: Jan 3 (promo) → 20 units, 160
    r = row(ds, "lost_sales", "historical_average", window=6)
    assert r["lost_units"] == pytest.approx(23) and r["value"] == pytest.approx(190)
    notes = compute(ds, "lost_sales", "historical_average", window=4).notes
    assert any(n.startswith("1 out-of-stock cell-days have no in-stock reference day") for n in notes)


def test_lost_sales_traffic_conversion(backend):
    ds = lost_dataset(backend)
    # window 4. Jan 6: units 10 over views 100 → 0.1 × 15 views = 1.5 units at 10 → 15; Jan 8: none
    r = row(ds, "lost_sales", "traffic_conversion", window=4)
    assert r["lost_units"] == pytest.approx(1.5) and r["value"] == pytest.approx(15)
    # window 6. Jan 6: 12 / 120 × 15 = 1.5 → 15; Jan 8: 20/100 × 50 = 10 units at 8 → 80
    r = row(ds, "lost_sales", "traffic_conversion", window=6)
    assert r["lost_units"] == pytest.approx(11.5) and r["value"] == pytest.approx(95)


def test_lost_sales_reference_window_at_start_of_data(backend):
    inv = inv_rows([("2024-01-01", "a", "W1", 0), ("2024-01-02", "a", "W1", 4), ("2024-01-03", "a", "W1", 0)])
    sales = sales_rows([("2024-01-02", "a", "W1", 2, 30, False, 10)])
    ds = dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a"]))
    # Jan 1: no day before → 0; Jan 3: reference Jan 2 → 2 units at 15
    for d, units in (("historical_average", 2.0), ("traffic_conversion", 0.0)):   # Jan 3 had no views
        r = row(ds, "lost_sales", d)
        assert r["lost_units"] == pytest.approx(units) and r["oos_cell_days"] == 2
    assert value(ds, "lost_sales", "historical_average") == pytest.approx(30.0)
    by = table(ds, "lost_sales", "historical_average", by=["month", "warehouse"])
    assert list(by["value"]) == pytest.approx([30.0])


def test_lost_sales_traffic_needs_page_views(backend):
    inv = inv_rows([("2024-01-01", "a", "W1", 0)])
    sales = sales_rows([("2024-01-01", "a", "W1", 0, 0, False, None)])
    ds = dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a"]))
    assert value(ds, "lost_sales", "historical_average") == 0.0
    with pytest.raises(KpiError, match="page_views"):
        compute(ds, "lost_sales", "traffic_conversion")


# ----------------------------------------------------------------------------- parameters

@pytest.mark.parametrize("kpi, definition, params", [
    ("availability", "demand_weighted", {"window": 0}),
    ("availability", "cell_level", {"lifecycles": "active,retired"}),
    ("availability", "cell_level", {"classes": "A,F"}),
    ("availability", "cell_level", {"colour": "red"}),
    ("low_cover", "trailing", {"days": 0}),
    ("low_cover", "trailing", {"days": 1.5}),
    ("low_cover", "trailing", {"window": -3}),
    ("lost_sales", "historical_average", {"window": "x"}),
])
def test_invalid_parameters(params, kpi, definition):
    with pytest.raises(KpiError):
        compute(listing_dataset("pandas"), kpi, definition, **params)


def test_registry_entries():
    from kpilab import get_kpi
    assert [d.id for d in get_kpi("availability").definitions] == ["sku_level", "cell_level", "demand_weighted"]
    assert [d.id for d in get_kpi("low_cover").definitions] == ["trailing", "forward"]
    assert [d.id for d in get_kpi("lost_sales").definitions] == ["historical_average", "traffic_conversion"]
    defaults = {k: {p.name: p.default for p in get_kpi(k).params} for k in ("availability", "low_cover", "lost_sales")}
    assert defaults["availability"] == {"lifecycles": ("new", "active"), "classes": (), "window": 30}
    assert defaults["low_cover"] == {"days": 7, "window": 30, "lifecycles": ("new", "active"), "classes": ()}
    assert defaults["lost_sales"] == {"window": 28, "lifecycles": ("new", "active"), "classes": ()}
    for d in get_kpi("lost_sales").definitions:
        assert d.helpers == ("lost_units", "oos_cell_days")
    assert get_kpi("availability").dims == ("warehouse",) and get_kpi("low_cover").dims == ()


# ----------------------------------------------------------------------------- reference loops


def random_frames(seed: int, n_sku=4, n_wh=3, n_days=40):
    rng = random.Random(seed)
    skus = [f"s{i}" for i in range(n_sku)]
    whs = [f"W{j}" for j in range(n_wh)]
    start = dt.date(2024, 1, 20)
    calendar_days = [start + dt.timedelta(days=k) for k in range(n_days)]
    inv_days = [d for d in calendar_days if rng.random() > 0.1]            # some dates absent everywhere
    promo = {d: rng.random() < 0.2 for d in calendar_days}
    inv, sales = [], []
    for s in skus:
        for w in whs:
            if rng.random() < 0.15:
                continue
            a, b = sorted(rng.sample(range(len(inv_days)), 2))
            for d in inv_days[a:b + 1]:
                if rng.random() < 0.1:
                    continue                                                 # missing row inside listing
                inv.append((d, s, w, 0 if rng.random() < 0.3 else rng.randint(1, 30)))
            for d in calendar_days:
                if rng.random() < 0.6:
                    units = rng.choice([0, 0, 1, 2, 3, 5, 8])
                    pv = None if rng.random() < 0.05 else units * rng.randint(3, 9) + rng.randint(0, 5)
                    sales.append((d, s, w, units, units * rng.choice([9.5, 10, 12]), promo[d], pv))
    # one promo flag on a row of a SKU that has no inventory: the day still counts as promo
    sales.append((calendar_days[5], "zz", "W0", 1, 1, True, 1))
    lifecycle = [rng.choice(["new", "active", "active", "phase_out", None]) for _ in skus]
    abc = [rng.choice("ABC") for _ in skus]
    plans = [(s, f"2024-{m:02d}", f"2024-{v:02d}", "plan", float(rng.randint(0, 300)))
             for s in skus for m in (1, 2, 3) for v in (1, 2) if v <= m and rng.random() < 0.8]
    plans += [(s, f"2024-{m:02d}", "2023-12", "plan", float(rng.randint(0, 300))) for s in skus for m in (1, 2)]
    return (inv_rows(inv), sales_rows(sales), sku_rows(skus, lifecycle, abc),
            pd.DataFrame(plans, columns=["sku", "month", "version_month", "source", "units"]))


class Reference:
    """The spec, read literally, with dicts and loops (slow and obvious)."""

    def __init__(self, inv, sales, skus, plans, lifecycles=("new", "active"), classes=()):
        life = {r.sku: r.lifecycle if isinstance(r.lifecycle, str) else "active" for r in skus.itertuples()}
        cls = dict(zip(skus.sku, skus.abc_class))
        self.eligible = {s for s in skus.sku if (not lifecycles or life[s] in lifecycles)
                         and (not classes or cls[s] in classes)}
        self.days = sorted({d.date() for d in inv.date})
        self.stock = {(r.sku, r.warehouse, r.date.date()): r.sellable_units for r in inv.itertuples()}
        self.span = {}
        for (s, w, d) in self.stock:
            lo, hi = self.span.get((s, w), (d, d))
            self.span[(s, w)] = (min(lo, d), max(hi, d))
        self.sales = {(r.sku, r.warehouse, r.date.date()): r for r in sales.itertuples()}
        self.promo = {}
        for r in sales.itertuples():
            self.promo[r.date.date()] = self.promo.get(r.date.date(), False) or bool(r.promo)
        self.plan_rows = list(plans[["sku", "month", "version_month", "source", "units"]].itertuples(index=False))

    def pool(self, t):
        return sorted(c for c, (lo, hi) in self.span.items() if lo <= t <= hi and c[0] in self.eligible)

    def sellable(self, c, t):
        return self.stock.get((c[0], c[1], t), 0.0)

    def units(self, c, d, field="units"):
        r = self.sales.get((c[0], c[1], d))
        if r is None:
            return 0.0
        v = getattr(r, field)
        return 0.0 if v is None or v != v else float(v)

    def cell_terms(self, definition, window):
        """(month, warehouse) → [numerator, denominator] (or lost gmv, units, oos days)."""
        out = {}
        for t in self.days:
            for c in self.pool(t):
                key = (t.strftime("%Y-%m"), c[1])
                acc = out.setdefault(key, [0.0, 0.0, 0.0])
                in_stock = self.sellable(c, t) > 0
                if definition == "cell_level":
                    acc[0] += in_stock
                    acc[1] += 1
                elif definition == "demand_weighted":
                    w = sum(self.units(c, t - dt.timedelta(days=k)) for k in range(1, window + 1)) / window
                    acc[0] += w * in_stock
                    acc[1] += w
                elif not in_stock:
                    ref = [d for d in self.days if t - dt.timedelta(days=window) <= d <= t - dt.timedelta(days=1)
                           and self.sellable(c, d) > 0 and self.promo.get(d, False) == self.promo.get(t, False)]
                    U = sum(self.units(c, d) for d in ref)
                    G = sum(self.units(c, d, "gmv") for d in ref)
                    PV = sum(self.units(c, d, "page_views") for d in ref)
                    if definition == "historical_average":
                        est = U / len(ref) if ref else 0.0
                    else:
                        est = self.units(c, t, "page_views") * U / PV if ref and PV > 0 else 0.0
                    price = G / U if U > 0 else 0.0
                    acc[0] += est * price
                    acc[1] += est
                    acc[2] += 1
        return out

    def demand(self, s, t, basis, window):
        if basis == "trailing":
            daily = self.sku_daily_units()
            return sum(daily.get((s, t - dt.timedelta(days=k)), 0.0) for k in range(window)) / window
        m0 = t.strftime("%Y-%m")
        total = 0.0
        for k in range(1, window + 1):
            d = t + dt.timedelta(days=k)
            m = d.strftime("%Y-%m")
            versions = [(v, u) for (s2, m2, v, src, u) in self.plan_rows if s2 == s and m2 == m and v <= m0
                        and src == "plan"]
            p = max(versions)[1] if versions else 0.0
            total += p / calendar.monthrange(d.year, d.month)[1]
        return total / window

    def sku_daily_units(self):
        if not hasattr(self, "_daily"):
            self._daily = {}
            for (s, _, d), r in self.sales.items():
                self._daily[(s, d)] = self._daily.get((s, d), 0.0) + r.units
        return self._daily

    def sku_terms(self, definition, window=30, days=7):
        """month → [numerator, denominator] for sku_level and low_cover."""
        out = {}
        for t in self.days:
            pool_skus = sorted({c[0] for c in self.pool(t)})
            for s in pool_skus:
                acc = out.setdefault(t.strftime("%Y-%m"), [0.0, 0.0])
                units = sum(v for (s2, _, d), v in self.stock.items() if s2 == s and d == t)
                if definition == "sku_level":
                    acc[0] += units > 0
                else:
                    demand = self.demand(s, t, definition, window)
                    dos = 0.0 if units == 0 else (units / demand if demand > 0 else math.inf)
                    acc[0] += dos < days
                acc[1] += 1
        return out


def pooled(terms, keep=lambda key: True):
    num = sum(v[0] for k, v in terms.items() if keep(k))
    den = sum(v[1] for k, v in terms.items() if keep(k))
    return num / den if den else math.nan


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kernels_agree_with_reference_loops(seed, backend):
    inv, sales, skus, plans = random_frames(seed)
    ds = dataset(backend, inventory=inv, sales=sales, skus=skus, plans=plans)
    params = {"lifecycles": "new,active,phase_out"} if seed % 2 else {}
    lifecycles = ("new", "active", "phase_out") if seed % 2 else ("new", "active")
    ref = Reference(inv, sales, skus, plans, lifecycles=lifecycles)
    months = sorted({t.strftime("%Y-%m") for t in ref.days})
    window = 5 + seed
    for definition in ("cell_level", "demand_weighted"):
        terms = ref.cell_terms(definition, window)
        by = table(ds, "availability", definition, by=["month", "warehouse"], window=window, **params)
        expected = {k: pooled(terms, lambda key, k=k: key == k) for k in terms}
        got = {(r.month, r.warehouse): r.value for r in by.itertuples()}
        assert got.keys() == expected.keys()
        for k in expected:
            assert got[k] == pytest.approx(expected[k], rel=1e-9, nan_ok=True), (definition, k)
        assert value(ds, "availability", definition, window=window, **params) == pytest.approx(
            pooled(terms), rel=1e-9, nan_ok=True)
    sku_terms = ref.sku_terms("sku_level")
    by = table(ds, "availability", "sku_level", by=["month"], **params)
    assert list(by["month"]) == months
    assert list(by["value"]) == pytest.approx([pooled(sku_terms, lambda k, m=m: k == m) for m in months])
    for basis in ("trailing", "forward"):
        for days in (1, 7):
            terms = ref.sku_terms(basis, window=window, days=days)
            by = table(ds, "low_cover", basis, by=["month"], window=window, days=days, **params)
            assert list(by["value"]) == pytest.approx([pooled(terms, lambda k, m=m: k == m) for m in months]), \
                (basis, days)
    for definition in ("historical_average", "traffic_conversion"):
        terms = ref.cell_terms(definition, window)
        r = row(ds, "lost_sales", definition, window=window, **params)
        assert r["value"] == pytest.approx(sum(v[0] for v in terms.values()), rel=1e-9)
        assert r["lost_units"] == pytest.approx(sum(v[1] for v in terms.values()), rel=1e-9)
        assert r["oos_cell_days"] == sum(v[2] for v in terms.values())
        by = table(ds, "lost_sales", definition, by=["warehouse"], window=window, **params)
        for r in by.itertuples():
            assert r.value == pytest.approx(sum(v[0] for k, v in terms.items() if k[1] == r.warehouse), rel=1e-9)


# ----------------------------------------------------------------------------- invariants

ALL = [("availability", "sku_level"), ("availability", "cell_level"), ("availability", "demand_weighted"),
       ("low_cover", "trailing"), ("low_cover", "forward"),
       ("lost_sales", "historical_average"), ("lost_sales", "traffic_conversion")]


def test_row_order_invariance_and_pooling_of_detail(backend):
    inv, sales, skus, plans = random_frames(11, n_sku=5)
    ds = dataset(backend, inventory=inv, sales=sales, skus=skus, plans=plans)
    shuffled = dataset(backend, inventory=inv.sample(frac=1, random_state=1),
                       sales=sales.sample(frac=1, random_state=2), skus=skus.sample(frac=1, random_state=3),
                       plans=plans.sample(frac=1, random_state=4))
    for kpi, d in ALL:
        by = ["month", "abc_class"]
        a, b = table(ds, kpi, d, by=by, window=9), table(shuffled, kpi, d, by=by, window=9)
        pd.testing.assert_frame_equal(a, b)
        result = compute(ds, kpi, d, window=9)
        det = detail(result).merge(skus[["sku", "abc_class"]], on="sku")
        sums = det.groupby(["month", "abc_class"], as_index=False)[list(result.definition.sums)].sum()
        assert len(sums) == len(a)
        assert list(sums[result.definition.sums[0]]) == pytest.approx(list(a[result.definition.helpers[0]]
                                                                           if kpi != "lost_sales" else a["value"]))
        # the detail is per cell × month (or SKU × month), one row per key
        keys = ["sku", "warehouse", "month"] if "warehouse" in det.columns else ["sku", "month"]
        assert not det.duplicated(keys).any()


def test_pandas_and_polars_agree():
    inv, sales, skus, plans = random_frames(21)
    frames = dict(inventory=inv, sales=sales, skus=skus, plans=plans)
    for kpi, d in ALL:
        for by in ((), ("month",), ("category", "lifecycle")):
            a = table(dataset("pandas", **frames), kpi, d, by=by)
            b = table(dataset("polars", **frames), kpi, d, by=by)
            pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_compare_shares_the_pool():
    cmp = compare(listing_dataset("pandas"), "availability", definitions=["sku_level", "cell_level"])
    wide = cmp.wide()
    assert float(wide["sku_level"].iloc[0]) == pytest.approx(0.8)
    assert float(wide["cell_level"].iloc[0]) == pytest.approx(0.75)


# ----------------------------------------------------------------------------- page helpers

def test_daily_series(backend):
    ds = listing_dataset(backend)
    daily = nw.from_native(daily_series(ds, "availability", ["cell_level", "sku_level"]),
                           eager_only=True).to_pandas()
    cell = daily[daily.definition == "cell_level"]
    # Jan 1: W2 only (1/1); Jan 2: 2/2; Jan 3: 0/2; Jan 4: 2/2; Jan 5: W2 (1/1)
    assert list(cell["value"]) == [1.0, 1.0, 0.0, 1.0, 1.0]
    assert list(cell["pool_cell_days"]) == [1, 2, 2, 2, 1]
    sku = daily[daily.definition == "sku_level"]
    assert list(sku["value"]) == [1.0, 1.0, 0.0, 1.0, 1.0]
    # summing the days gives the pooled table
    assert cell["in_stock_cell_days"].sum() / cell["pool_cell_days"].sum() == pytest.approx(0.75)
    with pytest.raises(KpiError):
        daily_series(ds, "plan_accuracy")


def matrix_dataset(backend):
    inv = inv_rows([
        ("2024-01-01", "a", "W1", 1), ("2024-01-02", "a", "W1", 0), ("2024-01-01", "a", "W2", 1),
        ("2024-01-02", "a", "W2", 1),
        ("2024-01-01", "b", "W1", 0), ("2024-01-02", "b", "W1", 0),
        ("2024-02-01", "c", "W2", 3),
    ])
    sales = sales_rows([("2024-01-01", "a", "W1", 1, 1, False, None), ("2024-01-02", "b", "W2", 5, 5, False, None),
                        ("2024-01-15", "c", "W2", 2, 2, False, None)])
    return dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a", "b", "c"], abc=["A", "B", "A"]))


def test_in_stock_matrix(backend):
    ds = matrix_dataset(backend)
    m = nw.from_native(in_stock_matrix(ds), eager_only=True).to_pandas()
    # demand over Jan 1 – Feb 1: b 5, c 2, a 1 → order b, c, a
    assert list(m["sku"]) == ["b", "c", "a", "a"] and list(m["order"]) == [0, 1, 2, 2]
    a = m[m.sku == "a"].set_index("warehouse")
    assert a.loc["W1", "share"] == 0.5 and a.loc["W2", "share"] == 1.0
    assert a.loc["W1", "in_stock_days"] == 1 and a.loc["W1", "pool_days"] == 2
    assert a.loc["W1", "sku_share"] == pytest.approx(3 / 4)
    worst = nw.from_native(in_stock_matrix(ds, sort="availability"), eager_only=True).to_pandas()
    assert list(dict.fromkeys(worst["sku"])) == ["b", "a", "c"]      # shares 0, 0.75, 1
    top = nw.from_native(in_stock_matrix(ds, top=2, sort="sku"), eager_only=True).to_pandas()
    assert list(dict.fromkeys(top["sku"])) == ["b", "c"]
    only_a = nw.from_native(in_stock_matrix(ds, classes="A", month="2024-01"), eager_only=True).to_pandas()
    assert set(only_a["sku"]) == {"a"} and list(only_a["abc_class"]) == ["A", "A"]
    with pytest.raises(KpiError):
        in_stock_matrix(ds, sort="colour")
    with pytest.raises(KpiError):
        in_stock_matrix(ds, month="2030-01")


def test_gap_breakdown(backend):
    inv = inv_rows([("2024-01-01", "a", "W1", 0), ("2024-01-01", "a", "W2", 4),     # a: out in W1 only
                    ("2024-01-01", "b", "W1", 0), ("2024-01-01", "b", "W2", 0),     # b: out everywhere
                    ("2024-01-01", "c", "W1", 2)])
    sales = sales_rows([("2023-12-31", "a", "W1", 3, 3, False, None), ("2023-12-31", "c", "W1", 1, 1, False, None)])
    ds = dataset(backend, inventory=inv, sales=sales, skus=sku_rows(["a", "b", "c"]))
    g = nw.from_native(gap_breakdown(ds), eager_only=True).to_pandas().iloc[0]
    assert (g["pool_cell_days"], g["oos_cell_days"], g["pool_sku_days"], g["oos_sku_days"]) == (5, 3, 3, 1)
    assert g["covered_oos_cell_days"] == 1                    # a in W1: out, but W2 has it
    # weights (window 30): a/W1 3/30, c/W1 1/30, the rest 0 → out weight share 3/4; count share 3/5
    assert g["oos_weight_share"] == pytest.approx(0.75)
    assert g["oos_count_share"] == pytest.approx(0.6)
    assert g["weight_concentration"] == pytest.approx(1.25)
    assert (g["zero_weight_cell_days"], g["zero_weight_oos_cell_days"]) == (3, 2)
    assert 1 - g["oos_weight_share"] == pytest.approx(value(ds, "availability", "demand_weighted"))


# ----------------------------------------------------------------------------- bundled sample

def test_sample_dataset_computes_every_definition():
    pytest.importorskip("kpilab.validation")
    from kpilab.dataset import SAMPLE_DIR
    if not SAMPLE_DIR.exists() or not any(SAMPLE_DIR.iterdir()):
        pytest.skip("the bundled sample is not written yet")
    import kpilab
    ds = kpilab.load_sample()
    computed = 0
    for kpi, d in ALL:
        try:
            result = compute(ds, kpi, d, by=["month"])
        except KpiError as exc:           # e.g. a sample without page views
            assert "page_views" in str(exc) or "plans" in str(exc)
            continue
        frame = nw.from_native(result.table, eager_only=True).to_pandas()
        assert len(frame) > 0
        values = frame["value"].dropna()
        assert len(values) > 0 and values.map(math.isfinite).all()
        if kpi != "lost_sales":
            assert ((values >= 0) & (values <= 1)).all()
        else:
            assert (values >= 0).all()
        computed += 1
    assert computed >= len(ALL) - 1


def test_usable_definitions_and_pool_views_and_cover_long(backend):
    from kpilab.kpis.availability import cover_long, pool_views, rarely_rebought, usable_definitions
    ds = listing_dataset(backend)                                  # inventory + skus only
    assert usable_definitions(ds, "availability") == ("sku_level", "cell_level")
    lost = lost_dataset(backend)
    assert usable_definitions(lost, "lost_sales") == ("historical_average", "traffic_conversion")
    assert usable_definitions(lost, "low_cover") == ("trailing",)  # no plans
    no_views = dataset(backend, inventory=inv_rows([("2024-01-01", "a", "W1", 0)]), skus=sku_rows(["a"]),
                       sales=sales_rows([("2024-01-01", "a", "W1", 0, 0, False, None)]))
    assert usable_definitions(no_views, "lost_sales") == ("historical_average",)
    with pytest.raises(KpiError):
        usable_definitions(ds, "otif")
    # A view: a (class A, in stock all 5 days of W2, 2 of 3 in W1) → out-of-stock rates 1 − 0.8, 1 − 0.75
    views = pool_views({"all": compare(ds, "availability", ["sku_level", "cell_level"])},
                       {"sku_level": "SKU", "cell_level": "cell"}, pool_column="view")
    assert list(views.columns) == ["view", "SKU", "cell"]
    assert views.loc[0, "SKU"] == pytest.approx(0.2) and views.loc[0, "cell"] == pytest.approx(0.25)
    cover = cover_dataset(backend)
    long = cover_long({1: compare(cover, "low_cover", ["trailing"], by=["month"], window=2, days=1),
                       10: compare(cover, "low_cover", ["trailing"], by=["month"], window=2, days=10)})
    assert list(long["threshold"]) == ["DOS < 1", "DOS < 10"]
    assert list(long["value"]) == pytest.approx([1 / 3, 2 / 3])
    assert rarely_rebought(["Apparel", "Snacks", "箱包", None]) == ["Apparel", "箱包"]


def test_charts_build_from_library_output():
    from kpilab import charts
    from kpilab.charts import availability as av_charts
    from kpilab.kpis.availability import cover_long
    ds = matrix_dataset("pandas")
    assert av_charts.in_stock_heatmap(in_stock_matrix(ds)).to_dict()
    assert av_charts.oos_split(gap_breakdown(ds), {"covered": "c", "everywhere": "e", "zero_weight": "z",
                                                   "weighted": "w"}).to_dict()
    assert av_charts.daily_lines(daily_series(ds), {}).to_dict()
    monthly = compare(ds, "availability", by=["month"]).wide()
    assert av_charts.monthly_lines(charts.wide_to_long(monthly, ["month"]), {}).to_dict()
    by_wh = compare(ds, "availability", ["cell_level", "demand_weighted"], by=["warehouse"]).wide()
    assert av_charts.by_warehouse(charts.wide_to_long(by_wh, ["warehouse"]), {}).to_dict()
    cover = cover_long({7: compare(ds, "low_cover", ["trailing"], by=["month"])})
    assert av_charts.cover_lines(cover).to_dict()
    lost = compare(ds, "lost_sales", ["historical_average"], by=["category"]).wide()
    assert av_charts.lost_by_group(charts.wide_to_long(lost, ["category"]), {}, group="category",
                                   highlight=["c"]).to_dict()


# ----------------------------------------------------------------------------- numpy cube vs lazy path

def both_paths(monkeypatch, run):
    """run() with the numpy cube (in memory) and with the lazy path forced on the same dataset."""
    from kpilab.kpis import availability
    cube = run()
    monkeypatch.setattr(availability, "_use_cube", lambda ctx: False)
    lazy = run()
    monkeypatch.undo()
    return cube, lazy


def assert_same_results(monkeypatch, ds, cases, groupings):
    for kpi, d, params in cases:
        for by in groupings(kpi, d):
            def run():
                result = compute(ds, kpi, d, by=by, **params)
                return nw.from_native(result.table, eager_only=True).to_pandas(), result.notes
            (a, notes_a), (b, notes_b) = both_paths(monkeypatch, run)
            pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9, obj=f"{kpi} {d} {by}")
            assert notes_a == notes_b, (kpi, d, by)


def cell_groupings(kpi, d):
    out = [(), ("month",), ("month", "abc_class")]
    return out + [("warehouse",)] if kpi != "low_cover" and d != "sku_level" else out


@pytest.mark.parametrize("seed", [1, 2, 21])
def test_numpy_cube_and_lazy_path_agree(monkeypatch, seed):
    inv, sales, skus, plans = random_frames(seed)
    ds = dataset("polars", inventory=inv, sales=sales, skus=skus, plans=plans)
    params = {"lifecycles": "new,active,phase_out"} if seed % 2 else {}
    cases = [(kpi, d, {"window": 5 + seed, **params}) for kpi, d in ALL]
    cases += [("low_cover", b, {"window": 7, "days": 1, **params}) for b in ("trailing", "forward")]
    assert_same_results(monkeypatch, ds, cases, cell_groupings)


def test_numpy_cube_and_lazy_path_agree_on_the_fixtures(monkeypatch):
    cases = {
        "listing": (listing_dataset("polars"), [("availability", "sku_level", {}), ("availability", "cell_level", {})]),
        "weighted": (weighted_dataset("polars"), [("availability", "demand_weighted", {"window": w}) for w in (1, 3, 4)]),
        "no sales": (weighted_dataset("polars", with_sales=False), [("availability", "demand_weighted", {})]),
        "cover": (cover_dataset("polars"), [("low_cover", "trailing", {"window": 2, "days": n}) for n in (1, 9, 10)]),
        "forward": (forward_dataset("polars"), [("low_cover", "forward", {"window": w, "days": 7}) for w in (6, 10)]),
        "lost": (lost_dataset("polars"), [("lost_sales", m, {"window": w}) for m in ("historical_average",
                                                                                      "traffic_conversion")
                                          for w in (4, 6)]),
        "empty pool": (spec_dataset("polars"), [("availability", "cell_level", {"classes": "E"}),
                                                 ("availability", "sku_level", {"classes": "E"})]),
    }
    for name, (ds, runs) in cases.items():
        assert_same_results(monkeypatch, ds, runs, cell_groupings)


def test_numpy_cube_and_lazy_path_agree_on_the_small_simulated_dataset(monkeypatch):
    from kpilab import Dataset
    from kpilab.simulate import simulate
    ds = Dataset.from_frames(simulate(skus=18, warehouses=2, days=430, seed=5), "small").to_engine("polars")
    assert_same_results(monkeypatch, ds, [(kpi, d, {}) for kpi, d in ALL], cell_groupings)


def test_page_helpers_agree_on_both_paths(monkeypatch):
    inv, sales, skus, plans = random_frames(3)
    ds = dataset("polars", inventory=inv, sales=sales, skus=skus, plans=plans)

    def pandas(frame):
        return nw.from_native(frame, eager_only=True).to_pandas().reset_index(drop=True)
    for run in (lambda: daily_series(ds, "availability", window=6),
                lambda: daily_series(ds, "low_cover", window=6),
                lambda: daily_series(ds, "lost_sales", lifecycles="new,active,phase_out"),
                lambda: gap_breakdown(ds, window=6),
                lambda: in_stock_matrix(ds),
                lambda: in_stock_matrix(ds, month="2024-02", top=2, sort="availability")):
        a, b = both_paths(monkeypatch, run)
        pd.testing.assert_frame_equal(pandas(a), pandas(b), check_dtype=False, rtol=1e-9)
