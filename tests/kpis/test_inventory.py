"""Inventory family: hand-worked cases for every definition, edge cases, both backends,
row-order invariance, pooling, page helpers (threshold sweep, DOS × age cross-tab), a slow
reference loop on random data, and the bundled sample."""

from __future__ import annotations

import math

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest

from kpilab import KpiError, compare, compute, engines
from kpilab.kpis import get_kpi
from kpilab.kpis.inventory import (dos_age_crosstab, dos_age_skus, growth_verdict, growth_with_verdict,
                                   promotion_months, slow_disagreements, slow_focus, slow_moving_sweep,
                                   slow_value_long, sweep_levels)
from tests.conftest import dataset, table, value

T = pd.Timestamp("2024-03-31")


def day(n: int) -> pd.Timestamp:
    """The day n days before T (negative: after)."""
    return T - pd.Timedelta(days=n)


def native(frame) -> pd.DataFrame:
    return nw.from_native(frame, eager_only=True).to_pandas()


def source(ds, name: str) -> pd.DataFrame:
    """A dataset's table as pandas, on any engine (a DuckDB table is a relation, not a frame)."""
    return engines.to_pandas(engines.lazy(ds.tables[name]))


def inv_rows(rows) -> pd.DataFrame:
    """rows: (date, sku, warehouse, on_hand, sellable, value)."""
    return pd.DataFrame(rows, columns=["date", "sku", "warehouse", "on_hand_units", "sellable_units", "value"])


def sales_rows(rows) -> pd.DataFrame:
    """rows: (date, sku, warehouse, units, gmv)."""
    f = pd.DataFrame(rows, columns=["date", "sku", "warehouse", "units", "gmv"])
    return f.assign(units=f["units"].astype(float), gmv=f["gmv"].astype(float), promo=False)


def skus_frame(rows) -> pd.DataFrame:
    """rows: (sku, category, unit_cost, abc_class, shelf_life_days)."""
    f = pd.DataFrame(rows, columns=["sku", "category", "unit_cost", "abc_class", "shelf_life_days"])
    return f.assign(unit_cost=f["unit_cost"].astype(float), shelf_life_days=f["shelf_life_days"].astype("Float64"))


def batch_rows(rows) -> pd.DataFrame:
    """rows: (date, sku, warehouse, batch, received_date, units, value, expiry_date, status)."""
    f = pd.DataFrame(rows, columns=["date", "sku", "warehouse", "batch", "received_date", "units", "value",
                                    "expiry_date", "status"])
    return f.assign(units=f["units"].astype(float), value=f["value"].astype(float),
                    expiry_date=pd.to_datetime(f["expiry_date"]))


EMPTY_SALES = sales_rows([(day(400), "zz", "w1", 0, 0)])


# =========================================================================== inventory_value

def value_data(backend):
    # snapshot days: 2024-01-30, 2024-01-31, 2024-02-01 (a month boundary)
    d1, d2, d3 = pd.Timestamp("2024-01-30"), pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")
    inv = inv_rows([(d1, "a", "w1", 1, 1, 10.0), (d2, "a", "w1", 1, 1, 20.0), (d3, "a", "w1", 1, 1, 30.0),
                    (d2, "b", "w2", 1, 1, 60.0)])
    skus = skus_frame([("a", "x", 1, "A", None), ("b", "y", 1, "B", None)])
    return dataset(backend, inventory=inv, skus=skus)


def test_inventory_value_ungrouped(backend):
    ds = value_data(backend)
    # Σ per day: 10, 20 + 60 = 80, 30 → mean (10 + 80 + 30) / 3 = 40; last day 02-01: 30
    assert value(ds, "inventory_value", "daily_average") == pytest.approx(40.0)
    assert value(ds, "inventory_value", "month_end") == pytest.approx(30.0)


def test_inventory_value_by_month(backend):
    ds = value_data(backend)
    t = table(ds, "inventory_value", "daily_average", by=["month"])
    # Jan: days 30, 31 → (10 + 80) / 2 = 45; Feb: one day, 30
    assert t["month"].tolist() == ["2024-01", "2024-02"]
    assert t["value"].tolist() == pytest.approx([45.0, 30.0])
    t = table(ds, "inventory_value", "month_end", by=["month"])
    # Jan's last snapshot day is 01-31: 20 + 60 = 80
    assert t["value"].tolist() == pytest.approx([80.0, 30.0])


def test_inventory_value_group_without_row_counts_zero(backend):
    ds = value_data(backend)
    t = table(ds, "inventory_value", "daily_average", by=["warehouse"]).set_index("warehouse")
    # w2 has one row (60) on one of three days → 60 / 3 = 20; w1: (10 + 20 + 30) / 3 = 20
    assert t.loc["w1", "value"] == pytest.approx(20.0)
    assert t.loc["w2", "value"] == pytest.approx(20.0)
    t = table(ds, "inventory_value", "month_end", by=["warehouse"]).set_index("warehouse")
    assert t.loc["w1", "value"] == pytest.approx(30.0)
    assert "w2" not in t.index or t.loc["w2", "value"] == 0     # no stock on the last day
    t = table(ds, "inventory_value", "daily_average", by=["month", "category"])
    jan_y = t[(t["month"] == "2024-01") & (t["category"] == "y")]["value"].item()
    assert jan_y == pytest.approx(30.0)   # 60 over Jan's 2 snapshot days


def test_inventory_value_year_boundary(backend):
    inv = inv_rows([(pd.Timestamp("2023-12-31"), "a", "w1", 1, 1, 5.0), (pd.Timestamp("2024-01-01"), "a", "w1", 1, 1, 7.0)])
    ds = dataset(backend, inventory=inv)
    t = table(ds, "inventory_value", "month_end", by=["month"])
    assert t["month"].tolist() == ["2023-12", "2024-01"]
    assert t["value"].tolist() == pytest.approx([5.0, 7.0])
    assert value(ds, "inventory_value", "daily_average") == pytest.approx(6.0)


# =========================================================================== days_of_inventory

def doi_data(backend, with_plans=True):
    skus = skus_frame([("a", "x", 2, "A", None), ("b", "x", 4, "B", None), ("c", "y", 1, "C", None)])
    t = pd.Timestamp("2024-01-10")
    inv = inv_rows([(t, "a", "w1", 30, 30, 60.0), (t, "a", "w2", 15, 15, 30.0), (t, "c", "w1", 5, 5, 5.0),
                    (t - pd.Timedelta(days=1), "a", "w1", 99, 99, 999.0)])
    sales = sales_rows([(pd.Timestamp("2024-01-07"), "a", "w1", 100, 1),   # t − window: outside
                        (pd.Timestamp("2024-01-08"), "a", "w1", 3, 1),     # t − window + 1: inside
                        (pd.Timestamp("2024-01-09"), "a", "w2", 6, 1),
                        (pd.Timestamp("2024-01-10"), "b", "w1", 3, 1),
                        (pd.Timestamp("2024-01-11"), "a", "w1", 50, 1)])   # after t
    tables = dict(skus=skus, inventory=inv, sales=sales)
    if with_plans:
        tables["plans"] = pd.DataFrame({
            "sku": ["a", "a", "a", "b"], "month": ["2024-01", "2024-02", "2024-02", "2024-02"],
            "version_month": ["2023-12", "2024-01", "2024-02", "2024-01"], "source": ["plan"] * 4,
            "units": [31.0, 58.0, 2900.0, 0.0], "value": [None] * 4})
    return dataset(backend, **tables)


def test_days_of_inventory_trailing(backend):
    ds = doi_data(backend)
    # window 3 at t = 01-10: a sold 3 + 6 = 9 in 01-08…01-10 → 3/day × cost 2 = 6; b 3 → 1/day × 4 = 4
    # stock value on t: a 60 + 30 = 90, c 5 → 95 / (6 + 4) = 9.5
    r = compute(ds, "days_of_inventory", "trailing", window=3)
    assert r.value == pytest.approx(9.5)
    t = native(r.table)
    assert t["inventory_value"].item() == pytest.approx(95.0)
    assert t["daily_cost_of_demand"].item() == pytest.approx(10.0)
    t = table(ds, "days_of_inventory", "trailing", by=["category"], window=3).set_index("category")
    assert t.loc["x", "value"] == pytest.approx(9.0)    # 90 / 10
    assert math.isnan(t.loc["y", "value"])               # c does not sell: demand 0 → empty


def test_days_of_inventory_forward(backend):
    ds = doi_data(backend)
    # t = 01-10, window 30: days 01-11 … 02-09 = 21 Jan days at 31/31 = 1/day + 9 Feb days at 58/29
    # = 2/day (version 2024-01; the 2024-02 version is look-ahead) → a: (21 + 18) / 30 = 1.3/day
    # × cost 2 = 2.6; b plans 0. Stock 95 → 95 / 2.6
    assert value(ds, "days_of_inventory", "forward") == pytest.approx(95 / 2.6)


def test_days_of_inventory_forward_needs_plans(backend):
    with pytest.raises(KpiError, match="plans"):
        compute(doi_data(backend, with_plans=False), "days_of_inventory", "forward")


def test_days_of_inventory_by_month_uses_month_end_snapshots(backend):
    ds = doi_data(backend)
    t = table(ds, "days_of_inventory", "trailing", by=["month"], window=3)
    # only January: its last inventory date is 01-10 (the 01-09 row is not a snapshot)
    assert t["month"].tolist() == ["2024-01"]
    assert t["value"].item() == pytest.approx(9.5)


# =========================================================================== slow_moving

SLOW_PARAMS = dict(window=10, dos_days=20, age_days=30)


def slow_data(backend, batches=True):
    """At T, window 10, dos_days 20, age_days 30:
    A sellable 60 + 40 = 100, cost 1, sold 10 (t−9) + 10 (t) = 20 → 2/day (50 at t−10 is outside),
      DOS 50 > 20: excess 100 − 40 = 60, whole 100; lots: 70 received t−40 (aged), 30 at t−5.
    B sellable 10, cost 2, sold 10 → 1/day, DOS 10; lots 5 at t−30 (age 30: not over) and 5 at t−31
      (age 31 from t; 30 from the read date t−1, so it shows the age is taken from t): aged 10.
    C sellable 5, cost 4, no sales → DOS +∞: excess 20, whole 20; one young lot.
    D on hand 5, sellable 0: nothing; an old defective lot (not sellable).
    E sellable 20, cost 1, sold 10 → DOS exactly 20: not over.
    total = 100 + 20 + 20 + 0 + 20 = 160.
    """
    skus = skus_frame([("A", "x", 1, "A", None), ("B", "x", 2, "A", None), ("C", "y", 4, "C", None),
                       ("D", "y", 3, "C", None), ("E", "y", 1, "C", None)])
    inv = inv_rows([(T, "A", "w1", 60, 60, 60.0), (T, "A", "w2", 40, 40, 40.0), (T, "B", "w1", 10, 10, 20.0),
                    (T, "C", "w2", 5, 5, 20.0), (T, "D", "w1", 5, 0, 15.0), (T, "E", "w1", 20, 20, 20.0),
                    (day(1), "A", "w1", 500, 500, 500.0)])
    sales = sales_rows([(day(10), "A", "w1", 50, 50), (day(9), "A", "w1", 10, 10), (T, "A", "w2", 10, 10),
                        (day(3), "B", "w1", 10, 30), (day(2), "E", "w2", 10, 20)])
    tables = dict(skus=skus, inventory=inv, sales=sales)
    if batches:
        good = [(day(1), "A", "w1", "a1", day(40), 70, 70.0, None, "sellable"),
                (day(1), "A", "w2", "a2", day(5), 30, 30.0, None, "sellable"),
                (day(1), "B", "w1", "b1", day(30), 5, 10.0, None, "sellable"),
                (day(1), "B", "w1", "b2", day(31), 5, 10.0, None, "sellable"),
                (day(1), "C", "w2", "c1", day(2), 5, 20.0, None, "sellable"),
                (day(1), "D", "w1", "d1", day(300), 5, 15.0, None, "defective"),
                (day(1), "E", "w1", "e1", day(10), 20, 20.0, None, "sellable")]
        decoys = [(day(-1), "C", "w2", "c9", day(300), 500, 500.0, None, "sellable"),   # after t: unread
                  (day(8), "C", "w2", "c8", day(300), 500, 500.0, None, "sellable")]    # older read: unread
        tables["batches"] = batch_rows(good + decoys)
    return dataset(backend, **tables)


def test_slow_moving_every_definition(backend):
    ds = slow_data(backend)
    expected = {"dos_excess": 80 / 160,      # A 60 + C 20
                "dos_whole": 120 / 160,      # A 100 + C 20
                "stock_age": 80 / 160,       # A 70 + B 10
                "dos_and_age": 70 / 160}     # A only (B's DOS is 10)
    for definition, share in expected.items():
        r = compute(ds, "slow_moving", definition, **SLOW_PARAMS)
        assert r.value == pytest.approx(share), definition
        assert native(r.table)["total_value"].item() == pytest.approx(160.0)
        assert native(r.table)["slow_value"].item() == pytest.approx(share * 160)


def test_slow_moving_detail_carries_every_flag(backend):
    r = compute(slow_data(backend), "slow_moving", "dos_excess", **SLOW_PARAMS)
    d = native(r.detail).set_index("sku")
    assert d.loc["C", "dos"] == math.inf and d.loc["D", "dos"] == 0 and d.loc["E", "dos"] == pytest.approx(20)
    flags = {k: d[f"flag_{k}"].astype(bool).to_dict() for k in ("dos_excess", "dos_whole", "stock_age", "dos_and_age")}
    assert flags["dos_whole"] == {"A": True, "B": False, "C": True, "D": False, "E": False}
    assert flags["dos_excess"] == flags["dos_whole"]
    assert flags["stock_age"] == {"A": True, "B": True, "C": False, "D": False, "E": False}
    assert flags["dos_and_age"] == {"A": True, "B": False, "C": False, "D": False, "E": False}
    assert d["slow_stock_age"].to_dict() == pytest.approx({"A": 70, "B": 10, "C": 0, "D": 0, "E": 0})
    assert d["slow_dos_excess"].to_dict() == pytest.approx({"A": 60, "B": 0, "C": 20, "D": 0, "E": 0})
    assert d["slow_value"].to_dict() == d["slow_dos_excess"].to_dict()


def test_slow_moving_defaults_and_abc_focus(backend):
    ds = slow_data(backend)
    # defaults dos_days 180, age_days 90, window 30: A 20/30 per day → DOS 150; B 10/30 → 30; E 60;
    # only C (DOS ∞) is slow: 20 / 160. No lot is older than 90 days except D's defective one.
    assert value(ds, "slow_moving", "dos_whole") == pytest.approx(20 / 160)
    assert value(ds, "slow_moving", "stock_age") == 0.0
    t = table(ds, "slow_moving", "dos_whole", by=["abc_class"], **SLOW_PARAMS).set_index("abc_class")
    assert t.loc["A", "value"] == pytest.approx(100 / 120)     # A + B
    assert t.loc["C", "value"] == pytest.approx(20 / 40)       # C, D, E


def test_slow_moving_without_batches(backend):
    ds = slow_data(backend, batches=False)
    assert value(ds, "slow_moving", "dos_excess", **SLOW_PARAMS) == pytest.approx(0.5)
    with pytest.raises(KpiError, match="batches"):
        compute(ds, "slow_moving", "stock_age")


def test_slow_moving_by_month_reads_batches_per_snapshot(backend):
    ds = slow_data(backend)
    # February's last inventory date is 02-29: add a snapshot there; batches read at day(8) = 03-23
    # are after it, so February reads no batch (stock_age 0) — no earlier batch date exists.
    feb = pd.Timestamp("2024-02-29")
    inv = inv_rows([(feb, "C", "w1", 4, 4, 16.0)])
    tables = {k: source(ds, k) for k in ds.tables}
    tables["inventory"] = pd.concat([tables["inventory"], inv], ignore_index=True)
    ds2 = dataset(backend, **tables)
    t = table(ds2, "slow_moving", "stock_age", by=["month"], **SLOW_PARAMS)
    assert t["month"].tolist() == ["2024-02", "2024-03"]
    assert t["value"].tolist() == pytest.approx([0.0, 0.5])
    r = compute(ds2, "slow_moving", "stock_age", by=["month"], **SLOW_PARAMS)
    assert any("No batch snapshot on or before 2024-02-29" in n for n in r.notes)
    # February: C has 4 sellable and sold nothing before → DOS ∞ → whole 16 / 16
    t = table(ds2, "slow_moving", "dos_whole", by=["month"], **SLOW_PARAMS)
    assert t["value"].tolist() == pytest.approx([1.0, 120 / 160])


def test_slow_moving_forward_basis(backend):
    skus = skus_frame([("A", "x", 1, "A", None)])
    inv = inv_rows([(T, "A", "w1", 100, 100, 100.0)])
    plans = pd.DataFrame({"sku": ["A"], "month": ["2024-04"], "version_month": ["2024-03"], "source": ["plan"],
                          "units": [60.0], "value": [None]})
    ds = dataset(backend, skus=skus, inventory=inv, sales=EMPTY_SALES, plans=plans)
    # forward at 03-31, window 30: April 1…30 at 60/30 = 2/day → DOS 50; dos_days 20 → excess 100 − 40
    assert value(ds, "slow_moving", "dos_excess", basis="forward", dos_days=20) == pytest.approx(0.6)
    # trailing: no sales → DOS ∞ → whole SKU
    assert value(ds, "slow_moving", "dos_excess", dos_days=20) == pytest.approx(1.0)


def test_slow_moving_zero_total_is_empty(backend):
    skus = skus_frame([("A", "x", 1, "A", None)])
    inv = inv_rows([(T, "A", "w1", 5, 0, 5.0)])
    ds = dataset(backend, skus=skus, inventory=inv, sales=EMPTY_SALES)
    assert math.isnan(value(ds, "slow_moving", "dos_whole"))


def test_slow_moving_cannot_group_by_warehouse(backend):
    with pytest.raises(KpiError, match="warehouse"):
        compute(slow_data(backend), "slow_moving", "dos_whole", by=["warehouse"])


# --------------------------------------------------------------------------- page helpers

def test_dos_age_crosstab(backend):
    r = compute(slow_data(backend), "slow_moving", "stock_age", **SLOW_PARAMS)
    x = native(dos_age_crosstab(r.detail)).set_index(["dos_flag", "age_flag"])
    # (F,F): D, E → total 0 + 20; (F,T): B → 20; (T,F): C → 20; (T,T): A → 100
    assert x["skus"].to_dict() == {(False, False): 2, (False, True): 1, (True, False): 1, (True, True): 1}
    assert x["total_value"].to_dict() == pytest.approx(
        {(False, False): 20, (False, True): 20, (True, False): 20, (True, True): 100})
    assert x.loc[(True, True), "slow_dos_and_age"] == pytest.approx(70)
    assert x.loc[(False, True), "aged_value"] == pytest.approx(10)
    assert native(dos_age_skus(r.detail, True, False))["sku"].tolist() == ["C"]
    assert native(dos_age_skus(r.detail, False, False))["sku"].tolist() == ["E", "D"]   # by value
    disagree = native(slow_disagreements(r.detail))["sku"].tolist()
    assert sorted(disagree) == ["B", "C"]      # A: flagged everywhere; D, E: nowhere


def test_dos_age_crosstab_empty_cells(backend):
    skus = skus_frame([("A", "x", 1, "A", None)])
    ds = dataset(backend, skus=skus, inventory=inv_rows([(T, "A", "w1", 5, 5, 5.0)]), sales=EMPTY_SALES)
    x = native(dos_age_crosstab(compute(ds, "slow_moving", "dos_whole").detail))
    assert len(x) == 4 and x["skus"].tolist() == [0, 0, 1, 0]


@pytest.mark.parametrize("and_moves", ["dos", "age", "both"])
def test_sweep_matches_compute(backend, and_moves):
    ds = slow_data(backend)
    xs = [0, 10, 20, 30, 31, 50, 365]      # 10, 20: DOS of B and E; 30, 31: ages of b1, b2
    sweep = native(slow_moving_sweep(ds, thresholds=xs, and_moves=and_moves, window=10, dos_days=20, age_days=30))
    assert sorted(sweep["threshold"].unique().tolist()) == xs
    for x in xs:
        at = sweep[sweep["threshold"] == x].set_index("definition")["value"]
        if and_moves == "dos":      # the single-threshold definitions do not depend on and_moves
            assert at["dos_excess"] == pytest.approx(value(ds, "slow_moving", "dos_excess", window=10, dos_days=x))
            assert at["dos_whole"] == pytest.approx(value(ds, "slow_moving", "dos_whole", window=10, dos_days=x))
            assert at["stock_age"] == pytest.approx(value(ds, "slow_moving", "stock_age", window=10, age_days=x))
        dos_days = {"dos": x, "age": 20, "both": x}[and_moves]
        age_days = {"dos": 30, "age": x, "both": x}[and_moves]
        assert at["dos_and_age"] == pytest.approx(
            value(ds, "slow_moving", "dos_and_age", window=10, dos_days=dos_days, age_days=age_days))


def test_sweep_hand_values_and_classes(backend):
    ds = slow_data(backend)
    s = native(slow_moving_sweep(ds, thresholds=[10], window=10)).set_index("definition")
    # threshold 10: A (DOS 50), C (∞), E (20) over 10; B exactly 10 is not.
    # excess: A 100 − 20 = 80, C 20, E 20 − 10 = 10 → 110; lots older than 10: a1 70, b1 10, b2 10 → 90
    assert s.loc["dos_excess", "slow_value"] == pytest.approx(110)
    assert s.loc["dos_whole", "slow_value"] == pytest.approx(140)
    assert s.loc["stock_age", "slow_value"] == pytest.approx(90)
    s = native(slow_moving_sweep(ds, thresholds=[10], classes=["C"], window=10)).set_index("definition")
    assert s.loc["dos_whole", "total_value"] == pytest.approx(40)       # C, D, E
    assert s.loc["dos_whole", "value"] == pytest.approx(40 / 40)
    with pytest.raises(KpiError):
        slow_moving_sweep(ds, and_moves="sideways")
    with pytest.raises(KpiError):
        slow_moving_sweep(ds, classes=["Z"])


def test_slow_value_long_and_focus(backend):
    ds = slow_data(backend)
    cmp = compare(ds, "slow_moving", by=["abc_class"], **SLOW_PARAMS)
    long = native(slow_value_long(cmp))
    assert len(long) == 4 * 2 and set(long["abc_class"]) == {"A", "C"}
    row = long[(long["abc_class"] == "C") & (long["definition"] == "dos_whole")].iloc[0]
    assert row["slow_value"] == pytest.approx(20) and row["total_value"] == pytest.approx(40)   # C of C, D, E
    focus = native(slow_focus(slow_value_long(cmp))).set_index("definition")
    # class C holds C, D, E: total 40; dos_excess 20 (C), stock_age 0
    assert focus["total_value"].tolist() == pytest.approx([40] * 4)
    assert focus.loc["dos_excess", "value"] == pytest.approx(0.5) and focus.loc["stock_age", "value"] == 0
    empty = native(slow_focus(slow_value_long(cmp), ["E"]))
    assert empty["slow_value"].tolist() == [0.0] * 4 and empty["value"].isna().all()


def test_sweep_levels_and_definitions(backend):
    ds = slow_data(backend)
    sweep = slow_moving_sweep(ds, thresholds=[10, 20], definitions=["dos_whole", "stock_age"], window=10)
    assert set(native(sweep)["definition"]) == {"dos_whole", "stock_age"}
    at = native(sweep_levels(sweep, [10, 20, 99])).set_index("definition")
    # threshold 10: whole 140 / 160; 20: A 100 + C 20 → 120 / 160; 99 not swept → empty
    assert at.loc["dos_whole", "10 d"] == pytest.approx(140 / 160)
    assert at.loc["dos_whole", "20 d"] == pytest.approx(120 / 160)
    assert math.isnan(at.loc["stock_age", "99 d"])
    with pytest.raises(KpiError):
        slow_moving_sweep(ds, definitions=["nope"])


def test_growth_with_verdict_and_promotions(backend):
    ds = growth_data(backend)
    t = native(growth_with_verdict(compute(ds, "inventory_growth", "daily_average", by=["month"]).table))
    assert t["verdict"].tolist() == ["slower"]        # 2/3: slower than GMV, not golden
    sales = sales_rows([(pd.Timestamp("2024-06-18"), "a", "w1", 1, 1), (pd.Timestamp("2024-11-11"), "a", "w1", 1, 1),
                        (pd.Timestamp("2024-07-01"), "a", "w1", 1, 1)])
    sales["promo"] = [True, True, False]
    assert promotion_months(dataset(backend, sales=sales)) == ["2024-06", "2024-11"]
    assert promotion_months(dataset(backend, inventory=inv_rows([(T, "a", "w1", 1, 1, 1.0)]))) == []


def test_chart_builders_render(backend):
    import altair as alt

    from kpilab import charts
    from kpilab.charts import inventory as ic
    ds = slow_data(backend)
    cmp = compare(ds, "slow_moving", **SLOW_PARAMS)
    labels = {d: d for d in ("dos_excess", "dos_whole", "stock_age", "dos_and_age")}
    built = [
        ic.slow_by_definition(slow_value_long(cmp), labels),
        ic.dos_age_matrix(dos_age_crosstab(cmp.results["dos_whole"].detail)),
        ic.threshold_sweep(slow_moving_sweep(ds, thresholds=[10, 20], window=10), labels, [(10, "L1")]),
        ic.slow_by_class(slow_value_long(compare(ds, "slow_moving", by=["abc_class"], **SLOW_PARAMS)), labels),
        ic.growth_vs_gmv(growth_with_verdict(compute(growth_data(backend), "inventory_growth", "month_end",
                                                     by=["month"]).table)),
        ic.value_with_promotions(charts.wide_to_long(compare(value_data(backend), "inventory_value", by=["month"]).wide(),
                                                     ["month"]), ["2024-01"]),
        ic.ratio_trend(charts.wide_to_long(compare(health_data(backend), "stock_health", by=["month"]).wide(),
                                           ["month"]), unit="share", references=[(0.1, "ten")]),
    ]
    for chart in built:
        assert isinstance(chart, alt.TopLevelMixin)
        assert chart.to_dict()["$schema"]


# =========================================================================== stock_health

def health_data(backend):
    """At T: total batch value 300.
    h1 x sellable 100, 99 days left (< 0.3333 × 300 = 99.99) → near expiry
    h2 x sellable 50, 100 days left → not
    h3 y sellable 30, 1 day left but y has no shelf life → cannot be judged
    h4 x defective 20 (1 day left: not sellable, so not near-expiry)
    h5 x locked 40 (w2), h6 x unsellable 10 (w2)
    h7 x sellable 50, expired 5 days ago → near expiry
    One month earlier (02-29): one x lot, defective, value 10 of 40."""
    skus = skus_frame([("x", "c1", 1, "A", 300), ("y", "c2", 1, "B", None)])
    at = [("h1", "x", "w1", 100, 99, "sellable"), ("h2", "x", "w1", 50, 100, "sellable"),
          ("h3", "y", "w1", 30, 1, "sellable"), ("h4", "x", "w1", 20, 1, "defective"),
          ("h5", "x", "w2", 40, 50, "locked"), ("h6", "x", "w2", 10, 50, "unsellable"),
          ("h7", "x", "w1", 50, -5, "sellable")]
    rows = [(T, s, w, b, day(10), 1, v, T + pd.Timedelta(days=left), st) for b, s, w, v, left, st in at]
    feb = pd.Timestamp("2024-02-29")
    rows += [(feb, "x", "w1", "f1", day(60), 1, 10.0, feb + pd.Timedelta(days=200), "defective"),
             (feb, "x", "w1", "f2", day(60), 1, 30.0, feb + pd.Timedelta(days=200), "sellable")]
    return dataset(backend, skus=skus, batches=batch_rows(rows))


def test_stock_health(backend):
    ds = health_data(backend)
    assert value(ds, "stock_health", "near_expiry") == pytest.approx(150 / 300)
    assert value(ds, "stock_health", "defective") == pytest.approx(20 / 300)
    assert value(ds, "stock_health", "unsellable") == pytest.approx(50 / 300)
    assert value(ds, "stock_health", "near_expiry", fraction=0.34) == pytest.approx(200 / 300)   # 102 days
    r = compute(ds, "stock_health", "near_expiry")
    assert any("cannot be judged" in n for n in r.notes)
    t = native(r.table)
    assert t["problem_value"].item() == pytest.approx(150) and t["total_value"].item() == pytest.approx(300)


def test_stock_health_groups(backend):
    ds = health_data(backend)
    t = table(ds, "stock_health", "unsellable", by=["warehouse"]).set_index("warehouse")
    assert t.loc["w2", "value"] == pytest.approx(1.0) and t.loc["w1", "value"] == 0.0
    t = table(ds, "stock_health", "defective", by=["month"])
    assert t["month"].tolist() == ["2024-02", "2024-03"]
    assert t["value"].tolist() == pytest.approx([10 / 40, 20 / 300])


def test_near_expiry_boundary(backend):
    skus = skus_frame([("x", "c", 1, "A", 200)])
    rows = [(T, "x", "w1", "on", day(1), 1, 1.0, T + pd.Timedelta(days=100), "sellable"),   # 100 < 100: no
            (T, "x", "w1", "in", day(1), 1, 3.0, T + pd.Timedelta(days=99), "sellable")]    # 99 < 100: yes
    ds = dataset(backend, skus=skus, batches=batch_rows(rows))
    assert value(ds, "stock_health", "near_expiry", fraction=0.5) == pytest.approx(0.75)


def test_near_expiry_without_expiry_data(backend):
    skus = skus_frame([("x", "c", 1, "A", None)])
    rows = [(T, "x", "w1", "b", day(1), 1, 1.0, None, "sellable")]
    with pytest.raises(KpiError, match="expiry"):
        compute(dataset(backend, skus=skus, batches=batch_rows(rows)), "stock_health", "near_expiry")


# =========================================================================== inventory_growth

def growth_data(backend, gmv_now=1500.0):
    """Snapshot days 15th and last of 2023-01 and 2024-01 (and 2023-02 without a year-ago).
    I daily average: 2023-01 (100 + 200) / 2 = 150, 2024-01 (300 + 100) / 2 = 200;
    month end: 200 and 100. G: 1000 and gmv_now."""
    inv = inv_rows([(pd.Timestamp("2023-01-15"), "a", "w1", 1, 1, 100.0), (pd.Timestamp("2023-01-31"), "a", "w1", 1, 1, 150.0),
                    (pd.Timestamp("2023-01-31"), "b", "w2", 1, 1, 50.0),
                    (pd.Timestamp("2023-02-15"), "a", "w1", 1, 1, 999.0),
                    (pd.Timestamp("2024-01-15"), "a", "w1", 1, 1, 300.0), (pd.Timestamp("2024-01-31"), "a", "w1", 1, 1, 100.0)])
    sales = sales_rows([(pd.Timestamp("2023-01-10"), "a", "w1", 1, 600), (pd.Timestamp("2023-01-31"), "b", "w2", 1, 400),
                        (pd.Timestamp("2023-02-10"), "a", "w1", 1, 77), (pd.Timestamp("2024-01-31"), "a", "w1", 1, gmv_now)])
    skus = skus_frame([("a", "x", 1, "A", None), ("b", "y", 1, "B", None)])
    return dataset(backend, inventory=inv, sales=sales, skus=skus)


def test_inventory_growth(backend):
    ds = growth_data(backend)
    r = compute(ds, "inventory_growth", "daily_average")
    t = native(r.table)
    # inv_growth 200/150 − 1 = 1/3, gmv_growth 1500/1000 − 1 = 0.5 → 2/3;
    # ratio_change (200/1500) / (150/1000) − 1 = −1/9
    assert r.value == pytest.approx(2 / 3)
    assert t["inv_growth"].item() == pytest.approx(1 / 3)
    assert t["gmv_growth"].item() == pytest.approx(0.5)
    assert t["ratio_change"].item() == pytest.approx(-1 / 9)
    t = native(compute(ds, "inventory_growth", "month_end").table)
    # 100/200 − 1 = −0.5 → −1.0; ratio_change (100/1500) / (200/1000) − 1 = −2/3
    assert t["value"].item() == pytest.approx(-1.0)
    assert t["ratio_change"].item() == pytest.approx(-2 / 3)


@pytest.mark.parametrize("gmv_now", [800.0, 1000.0])
def test_inventory_growth_empty_when_gmv_does_not_grow(backend, gmv_now):
    t = native(compute(growth_data(backend, gmv_now), "inventory_growth", "daily_average").table)
    assert math.isnan(t["value"].item())
    # ratio_change stays meaningful: (200/gmv_now) / (150/1000) − 1
    assert t["ratio_change"].item() == pytest.approx((200 / gmv_now) / 0.15 - 1)


def test_inventory_growth_groups(backend):
    ds = growth_data(backend)
    t = table(ds, "inventory_growth", "daily_average", by=["month"])
    assert t["month"].tolist() == ["2024-01"]           # 2023-01/02 have no year-ago month
    t = table(ds, "inventory_growth", "month_end", by=["warehouse"]).set_index("warehouse")
    # w1: I 150 → 100, G 600 → 1500 (gmv 1.5): (−1/3) / 1.5; w2: I 50 → 0, G 400 → 0: GMV shrank
    assert t.loc["w1", "value"] == pytest.approx((-1 / 3) / 1.5)
    assert math.isnan(t.loc["w2", "value"])
    assert t.loc["w2", "inv_growth"] == pytest.approx(-1.0)


def test_inventory_growth_needs_a_year(backend):
    inv = inv_rows([(T, "a", "w1", 1, 1, 1.0)])
    ds = dataset(backend, inventory=inv, sales=sales_rows([(T, "a", "w1", 1, 1)]))
    r = compute(ds, "inventory_growth", "daily_average")
    assert math.isnan(r.value)
    assert any("13 months" in n for n in r.notes)


def test_growth_verdict():
    assert growth_verdict(0.05, 0.10) == "golden"        # exactly half
    assert growth_verdict(0.099, 0.10) == "slower"
    assert growth_verdict(0.10, 0.10) == "faster"
    assert growth_verdict(-0.2, 0.10) == "golden"
    assert growth_verdict(0.1, 0.0) == "gmv_not_growing"
    assert growth_verdict(float("nan"), 0.1) == "unknown"


# =========================================================================== common properties

CASES = [("inventory_value", value_data, {}), ("days_of_inventory", doi_data, {"window": 3}),
         ("slow_moving", slow_data, SLOW_PARAMS), ("stock_health", health_data, {}),
         ("inventory_growth", growth_data, {})]


def _shuffled(ds, backend, seed=3):
    tables = {k: source(ds, k).sample(frac=1, random_state=seed).reset_index(drop=True) for k in ds.tables}
    return dataset(backend, **tables)


@pytest.mark.parametrize("kpi,make,params", CASES)
def test_row_order_invariance(backend, kpi, make, params):
    ds = make(backend)
    shuffled = _shuffled(ds, backend)
    for by in [(), ("month", "category")]:
        a, b = (compare(x, kpi, by=by, **params) for x in (ds, shuffled))
        for d in a.results:
            pd.testing.assert_frame_equal(native(a.results[d].table), native(b.results[d].table), check_dtype=False)
            pd.testing.assert_frame_equal(native(a.results[d].detail), native(b.results[d].detail), check_dtype=False)


@pytest.mark.parametrize("kpi,make,params", CASES)
def test_pooling_the_detail_gives_the_table(backend, kpi, make, params):
    ds = make(backend)
    skus = source(ds, "skus")[["sku", "category"]]
    grouped, ungrouped = compare(ds, kpi, by=["category"], **params), compare(ds, kpi, **params)
    for d in get_kpi(kpi).definitions:
        r = grouped.results[d.id]
        detail = native(r.detail).merge(skus, on="sku", how="left")
        sums = detail.groupby("category")[list(d.sums)].sum()
        t = native(r.table).set_index("category")
        for column in d.sums:
            if column in t.columns:
                assert t[column].to_dict() == pytest.approx(sums[column].to_dict()), (kpi, d.id, column)
        # the ungrouped table pools the same detail (shape depends only on month in by)
        whole = native(ungrouped.results[d.id].table)
        for column in d.sums:
            if column in whole.columns:
                assert whole[column].item() == pytest.approx(sums[column].sum())


def test_backends_agree():
    for kpi, make, params in CASES:
        a = compare(make("pandas"), kpi, by=["month"], **params)
        b = compare(make("polars"), kpi, by=["month"], **params)
        for d in a.results:
            pd.testing.assert_frame_equal(native(a.results[d].table), native(b.results[d].table), check_dtype=False)
            pd.testing.assert_frame_equal(native(a.results[d].detail), native(b.results[d].detail), check_dtype=False)


@pytest.mark.parametrize("kpi,params", [
    ("slow_moving", {"dos_days": -1}), ("slow_moving", {"age_days": "many"}), ("slow_moving", {"basis": "plan"}),
    ("slow_moving", {"window": 0}), ("days_of_inventory", {"window": 400}), ("stock_health", {"fraction": 1.5}),
    ("slow_moving", {"classes": "A"}), ("inventory_value", {"dos_days": 3})])
def test_invalid_parameters(kpi, params):
    ds = slow_data("pandas")
    definition = get_kpi(kpi).definitions[0].id
    with pytest.raises(KpiError):
        compute(ds, kpi, definition, **params)


def test_registry_declarations():
    spec = {"inventory_value": ["daily_average", "month_end"], "days_of_inventory": ["trailing", "forward"],
            "slow_moving": ["dos_excess", "dos_whole", "stock_age", "dos_and_age"],
            "stock_health": ["near_expiry", "defective", "unsellable"],
            "inventory_growth": ["daily_average", "month_end"]}
    for kpi_id, ids in spec.items():
        kpi = get_kpi(kpi_id)
        assert [d.id for d in kpi.definitions] == ids
        for d in kpi.definitions:
            assert d.formula and d.says.en and d.says.zh and d.prefer_when.en and d.prefer_when.zh
            assert set(d.params) <= {p.name for p in kpi.params}
    defaults = {p.name: p.default for p in get_kpi("slow_moving").params}
    assert defaults == {"dos_days": 180, "age_days": 90, "basis": "trailing", "window": 30}
    assert {p.name: p.default for p in get_kpi("stock_health").params} == {"fraction": 0.3333}
    assert {p.name: p.default for p in get_kpi("days_of_inventory").params} == {"window": 30}
    assert [d.helpers for d in get_kpi("slow_moving").definitions] == [("slow_value", "total_value")] * 4
    assert get_kpi("days_of_inventory").definitions[0].helpers == ("inventory_value", "daily_cost_of_demand")
    assert "ratio_change" in get_kpi("inventory_growth").definitions[0].helpers
    assert get_kpi("inventory_value").dims == ("warehouse",)
    assert "warehouse" not in get_kpi("slow_moving").dims + get_kpi("days_of_inventory").dims


# =========================================================================== slow reference on random data

def _random_data(seed: int):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-20", "2024-03-05", freq="D")
    skus = [f"s{i}" for i in range(6)]
    cost = {s: float(rng.integers(1, 5)) for s in skus}
    inv = [(t, s, w, float(rng.integers(0, 30)), 0.0, 0.0) for t in days for s in skus for w in ("w1", "w2")
           if rng.random() < 0.7]
    inv = inv_rows(inv)
    inv["sellable_units"] = np.floor(inv["on_hand_units"] * rng.random(len(inv)))
    inv["value"] = inv["on_hand_units"] * inv["sku"].map(cost)
    sales = sales_rows([(t, s, "w1", int(rng.integers(0, 4)), 1) for t in days for s in skus[:4] if rng.random() < 0.5])
    bdays = [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-25")]
    batches = batch_rows([(b, s, "w1", f"{s}-{k}", b - pd.Timedelta(days=int(rng.integers(0, 120))),
                           float(rng.integers(1, 10)), 0.0, None, str(rng.choice(["sellable", "sellable", "locked"])))
                          for b in bdays for s in skus for k in range(2)])
    batches["value"] = batches["units"] * batches["sku"].map(cost)
    sk = skus_frame([(s, "c", cost[s], None, None) for s in skus])
    return dict(skus=sk, inventory=inv, sales=sales, batches=batches), cost


def _reference_slow(tables, cost, dos_days, age_days, window):
    """Slow, obvious loops: per SKU at the last inventory date (ungrouped)."""
    inv, sales, batches = tables["inventory"], tables["sales"], tables["batches"]
    t = inv["date"].max()
    read = batches[batches["date"] <= t]["date"].max()
    out = dict.fromkeys(["dos_excess", "dos_whole", "stock_age", "dos_and_age", "total"], 0.0)
    for s in cost:
        sellable = inv[(inv["date"] == t) & (inv["sku"] == s)]["sellable_units"].sum()
        sold = 0.0
        for _, row in sales[sales["sku"] == s].iterrows():
            if 0 <= (t - row["date"]).days < window:
                sold += row["units"]
        demand = sold / window
        dos = 0.0 if sellable == 0 else (math.inf if demand == 0 else sellable / demand)
        aged = 0.0
        for _, b in batches[(batches["date"] == read) & (batches["sku"] == s)].iterrows():
            if b["status"] == "sellable" and (t - b["received_date"]).days > age_days:
                aged += b["value"]
        out["total"] += sellable * cost[s]
        out["dos_excess"] += max(0.0, sellable - dos_days * demand) * cost[s]
        out["dos_whole"] += sellable * cost[s] if dos > dos_days else 0.0
        out["stock_age"] += aged
        out["dos_and_age"] += aged if dos > dos_days else 0.0
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_slow_moving_matches_reference_loop(backend, seed):
    tables, cost = _random_data(seed)
    ds = dataset(backend, **tables)
    params = dict(dos_days=15, age_days=40, window=7)
    ref = _reference_slow(tables, cost, **params)
    for k in ("dos_excess", "dos_whole", "stock_age", "dos_and_age"):
        r = native(compute(ds, "slow_moving", k, **params).table)
        assert r["slow_value"].item() == pytest.approx(ref[k]), k
        assert r["total_value"].item() == pytest.approx(ref["total"])
    # days of inventory by the same loops: Σ value on t / Σ demand × cost
    inv, sales = tables["inventory"], tables["sales"]
    t = inv["date"].max()
    num = inv[inv["date"] == t]["value"].sum()
    den = sum(sales[(sales["sku"] == s) & (sales["date"] > t - pd.Timedelta(days=7)) & (sales["date"] <= t)]["units"].sum()
              / 7 * c for s, c in cost.items())
    assert value(ds, "days_of_inventory", "trailing", window=7) == pytest.approx(num / den)
    # daily-average inventory value: mean over the inventory dates of Σ value
    assert value(ds, "inventory_value", "daily_average") == pytest.approx(inv.groupby("date")["value"].sum().mean())


# =========================================================================== the bundled sample

@pytest.fixture(scope="module")
def sample():
    pytest.importorskip("kpilab.validation")
    from kpilab.dataset import SAMPLE_DIR
    if not SAMPLE_DIR.exists() or not any(SAMPLE_DIR.iterdir()):
        pytest.skip("the bundled sample (data/sample) is not there yet")
    import kpilab
    return kpilab.load_sample()


@pytest.mark.parametrize("kpi", ["inventory_value", "days_of_inventory", "slow_moving", "stock_health",
                                 "inventory_growth"])
def test_sample_every_definition_computes(sample, kpi):
    cmp = compare(sample, kpi, by=["month"])
    for d, r in cmp.results.items():
        t = native(r.table)
        assert len(t), (kpi, d)
        values = t["value"].astype(float)
        if kpi in ("inventory_value", "slow_moving", "stock_health"):
            assert np.isfinite(values).all(), (kpi, d)
        if kpi in ("slow_moving", "stock_health"):
            assert ((values >= 0) & (values <= 1.0 + 1e-9)).all() or kpi == "slow_moving" and d in ("stock_age", "dos_and_age")
        else:
            assert np.isfinite(values).any(), (kpi, d)
    whole = compare(sample, kpi)
    assert all(len(native(r.table)) == 1 for r in whole.results.values())


def test_lazy_demand_kernel_gives_the_numpy_results(monkeypatch):
    """The two demand kernels (numpy: pandas' default; lazy: polars' and DuckDB's), each forced on
    the same polars data: every demand-based definition gives the same table."""
    import functools

    from kpilab.engine import clear_shared
    from kpilab.kpis import _demand, inventory

    cases = [(slow_data, "slow_moving", d, SLOW_PARAMS) for d in ("dos_excess", "dos_whole", "dos_and_age")]
    cases += [(doi_data, "days_of_inventory", "trailing", {"window": 3}), (doi_data, "days_of_inventory", "forward", {})]
    runs = []
    for kernel in ("numpy", "lazy"):
        clear_shared()
        monkeypatch.setattr(inventory, "demand_at", functools.partial(_demand.demand_at, kernel=kernel))
        runs.append([native(compute(make("polars"), kpi, d, by=by, **params).table)
                     for make, kpi, d, params in cases for by in ((), ("month",))])
    clear_shared()
    for numpy_table, lazy_table in zip(*runs):
        pd.testing.assert_frame_equal(numpy_table, lazy_table, check_dtype=False, rtol=1e-12)
