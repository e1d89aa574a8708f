"""Logistics family: logistics cost and local fulfilment — hand-worked cases and edge cases on pandas,
polars and DuckDB; the cost trend helper; the bundled sample."""

import math

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import KpiError, compute
from kpilab.kpis.logistics import cost_trend
from tests.conftest import dataset, table, value


def nan(x):
    return isinstance(x, float) and math.isnan(x)


# ----------------------------------------------------------------------------- builders

def costs(*rows):
    """(month, warehouse, cost_type, amount)."""
    frame = pd.DataFrame(rows, columns=["month", "warehouse", "cost_type", "amount"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def sales(*rows):
    """(date, warehouse, gmv) — one SKU."""
    frame = pd.DataFrame(rows, columns=["date", "warehouse", "gmv"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["gmv"] = frame["gmv"].astype(float)
    frame["sku"] = "a"
    frame["units"] = 1.0
    frame["promo"] = False
    frame["page_views"] = float("nan")
    return frame


def orders(*rows):
    """(sub_order_id, order_id, paid_date, sku, customer_region, warehouse)."""
    frame = pd.DataFrame(rows, columns=["sub_order_id", "order_id", "paid_date", "sku", "customer_region",
                                        "warehouse"])
    frame["paid_date"] = pd.to_datetime(frame["paid_date"])
    frame["units"] = 1.0
    frame["gmv"] = 10.0
    frame["customer_region"] = frame["customer_region"].astype(object)
    frame["warehouse"] = frame["warehouse"].astype(object)
    return frame


def cost_ds(backend, cost_rows, sales_rows, order_rows):
    return dataset(backend, logistics_costs=costs(*cost_rows), sales=sales(*sales_rows), orders=orders(*order_rows))


# January: W1 storage 100 + courier 50, W2 storage 30 → 180. GMV W1 600 + 400 = 1000, W2 500 → 1500.
# Orders: O1 (W1, two sub-orders), O2 (split over W1 and W2), O3 (W2) → 3 distinct; W1 has O1, O2; W2 has O2, O3.
JAN_COSTS = [("2024-01", "W1", "storage", 100), ("2024-01", "W1", "courier", 50), ("2024-01", "W2", "storage", 30)]
JAN_SALES = [("2024-01-05", "W1", 600), ("2024-01-20", "W1", 400), ("2024-01-06", "W2", 500)]
JAN_ORDERS = [("s1", "O1", "2024-01-05", "a", "E", "W1"), ("s2", "O1", "2024-01-05", "a", "E", "W1"),
              ("s3", "O2", "2024-01-06", "a", "E", "W1"), ("s4", "O2", "2024-01-06", "a", "E", "W2"),
              ("s5", "O3", "2024-01-07", "a", "N", "W2")]


# ----------------------------------------------------------------------------- logistics cost

def test_cost_to_gmv_by_hand(backend):
    ds = cost_ds(backend, JAN_COSTS, JAN_SALES, JAN_ORDERS)
    assert value(ds, "logistics_cost", "cost_to_gmv") == pytest.approx(180 / 1500)
    t = table(ds, "logistics_cost", "cost_to_gmv", by=["warehouse"])
    assert dict(zip(t.warehouse, t.value)) == pytest.approx({"W1": 150 / 1000, "W2": 30 / 500})


def test_cost_type_grouping_keeps_the_full_gmv_denominator(backend):
    ds = cost_ds(backend, JAN_COSTS, JAN_SALES, JAN_ORDERS)
    t = table(ds, "logistics_cost", "cost_to_gmv", by=["cost_type"])
    # storage 130 / 1500, courier 50 / 1500: every cost type is divided by the whole GMV
    assert dict(zip(t.cost_type, t.gmv)) == {"courier": 1500.0, "storage": 1500.0}
    assert dict(zip(t.cost_type, t.value)) == pytest.approx({"storage": 130 / 1500, "courier": 50 / 1500})
    # so the cost-type shares add up to the total
    assert t.value.sum() == pytest.approx(180 / 1500)
    # W2 has GMV and orders but no courier row: no cost data cannot be told from no cost, so the group
    # still shows (amount 0 over W2's GMV 500, 0 cost rows) with an empty value, and a note names it
    result = compute(ds, "logistics_cost", "cost_to_gmv", by=["warehouse", "cost_type"])
    t = nw.from_native(result.table, eager_only=True).to_pandas()
    row = t[(t.warehouse == "W2") & (t.cost_type == "courier")].iloc[0]
    assert nan(row.value) and row.amount == 0 and row.gmv == 500 and row.cost_rows == 0
    assert dict(zip(zip(t.warehouse, t.cost_type), t.cost_rows)) == {
        ("W1", "courier"): 1, ("W1", "storage"): 1, ("W2", "courier"): 0, ("W2", "storage"): 1}
    assert any(n.startswith("1 groups have GMV but no logistics cost rows") and n.endswith(": W2 / courier.")
               for n in result.notes), result.notes
    # per order: W2 has O2 and O3 but no courier row → empty too; W2 storage 30 / 2 orders
    result = compute(ds, "logistics_cost", "cost_per_order", by=["warehouse", "cost_type"])
    t = nw.from_native(result.table, eager_only=True).to_pandas().set_index(["warehouse", "cost_type"])
    assert nan(t.loc[("W2", "courier"), "value"]) and t.loc[("W2", "courier"), "orders"] == 2
    assert t.loc[("W2", "storage"), "value"] == 15.0 and t.loc[("W1", "courier"), "value"] == 25.0
    assert any("orders but no logistics cost rows" in n and "W2 / courier" in n for n in result.notes)
    # ungrouped, and by cost type alone, every group has cost rows: no such note
    assert not any("no logistics cost rows" in n for n in compute(ds, "logistics_cost", "cost_to_gmv").notes)
    t = table(ds, "logistics_cost", "cost_per_order", by=["cost_type"])
    assert dict(zip(t.cost_type, t.orders)) == {"courier": 3.0, "storage": 3.0}
    assert dict(zip(t.cost_type, t.value)) == pytest.approx({"storage": 130 / 3, "courier": 50 / 3})


def test_cost_per_order_by_hand(backend):
    ds = cost_ds(backend, JAN_COSTS, JAN_SALES, JAN_ORDERS)
    assert value(ds, "logistics_cost", "cost_per_order") == pytest.approx(180 / 3)
    t = table(ds, "logistics_cost", "cost_per_order", by=["warehouse"])
    # an order shipped from two warehouses counts in each: W1 {O1, O2}, W2 {O2, O3}
    assert dict(zip(t.warehouse, t.orders)) == {"W1": 2.0, "W2": 2.0}
    assert dict(zip(t.warehouse, t.value)) == pytest.approx({"W1": 75.0, "W2": 15.0})
    # ungrouped, the split order O2 is half in each warehouse cell of the detail, whole in the table
    result = compute(ds, "logistics_cost", "cost_per_order")
    detail = nw.from_native(result.detail, eager_only=True).to_pandas()
    assert dict(zip(detail.warehouse, detail.orders)) == {"W1": 1.5, "W2": 1.5}
    assert nw.from_native(result.table, eager_only=True)["orders"][0] == 3.0


def test_month_without_orders_gives_nan_cost_per_order(backend):
    # costs Jan–Mar; orders in Jan (3) and Mar (1), none in Feb → Feb NaN; Feb's cost stays in the total.
    # Ungrouped: (180 + 20 + 40) / 4 = 60.
    cost_rows = JAN_COSTS + [("2024-02", "W1", "storage", 20), ("2024-03", "W1", "storage", 40)]
    order_rows = JAN_ORDERS + [("s9", "O9", "2024-03-03", "a", "E", "W1")]
    sales_rows = JAN_SALES + [("2024-02-10", "W1", 0), ("2024-03-03", "W1", 100)]
    ds = cost_ds(backend, cost_rows, sales_rows, order_rows)
    t = table(ds, "logistics_cost", "cost_per_order", by=["month"])
    got = dict(zip(t.month, t.value))
    assert got["2024-01"] == pytest.approx(60.0) and nan(got["2024-02"]) and got["2024-03"] == 40.0
    assert value(ds, "logistics_cost", "cost_per_order") == pytest.approx(240 / 4)
    # February has GMV 0 too → cost to GMV empty there
    t = table(ds, "logistics_cost", "cost_to_gmv", by=["month"])
    assert nan(dict(zip(t.month, t.value))["2024-02"])


def test_month_with_sales_and_no_cost_rows_is_empty_and_named(backend):
    # costs in January only; sales in January (1500) and February (800), orders in both months.
    # Grouped by month, February has a denominator and no cost rows: empty, not 0, and named in a note.
    # Ungrouped, the spec's formula still divides all costs by all GMV: 180 / 2300.
    sales_rows = JAN_SALES + [("2024-02-03", "W1", 800)]
    order_rows = JAN_ORDERS + [("s9", "O9", "2024-02-03", "a", "E", "W1")]
    ds = cost_ds(backend, JAN_COSTS, sales_rows, order_rows)
    result = compute(ds, "logistics_cost", "cost_to_gmv", by=["month"])
    t = nw.from_native(result.table, eager_only=True).to_pandas().set_index("month")
    assert t.loc["2024-01", "value"] == pytest.approx(180 / 1500) and t.loc["2024-01", "cost_rows"] == 3
    assert nan(t.loc["2024-02", "value"]) and t.loc["2024-02", "gmv"] == 800 and t.loc["2024-02", "cost_rows"] == 0
    assert any("1 groups have GMV but no logistics cost rows" in n and n.endswith(": 2024-02.") for n in result.notes)
    t = table(ds, "logistics_cost", "cost_per_order", by=["month"]).set_index("month")
    assert t.loc["2024-01", "value"] == pytest.approx(60.0) and nan(t.loc["2024-02", "value"])
    assert value(ds, "logistics_cost", "cost_to_gmv") == pytest.approx(180 / 2300)


def test_cost_months_outside_the_denominator_table_are_kept_and_named(backend):
    # costs Jan and Apr; sales Jan–Apr; orders only in January. The spec's formula is Σ amount over
    # Σ denominator: cost_per_order = (180 + 70) / 3 orders; cost_to_gmv = 250 / (1500 + 999 + 700).
    # Notes name April (cost, no orders) and March (sales, no cost rows).
    cost_rows = JAN_COSTS + [("2024-04", "W1", "storage", 70)]
    sales_rows = JAN_SALES + [("2024-03-15", "W1", 999), ("2024-04-01", "W1", 700)]
    ds = cost_ds(backend, cost_rows, sales_rows, JAN_ORDERS)
    result = compute(ds, "logistics_cost", "cost_per_order")
    assert result.value == pytest.approx(250 / 3)
    assert any("2024-04" in n and "different spans" in n for n in result.notes)
    by_month = table(ds, "logistics_cost", "cost_per_order", by=["month"]).set_index("month")["value"]
    assert by_month["2024-01"] == pytest.approx(60.0) and math.isnan(by_month["2024-04"])
    result = compute(ds, "logistics_cost", "cost_to_gmv")
    assert result.value == pytest.approx(250 / 3199)
    assert any("without logistics cost rows" in n and "2024-03" in n for n in result.notes)


def test_orders_spanning_months_and_without_warehouse(backend):
    # O4 has a sub-order paid 2024-01-31 (W1) and one paid 2024-02-01 (W1): it counts in each month,
    # once overall. O5 has no warehouse: it counts in the totals and under a blank warehouse.
    cost_rows = [("2024-01", "W1", "storage", 60), ("2024-02", "W1", "storage", 30)]
    order_rows = [("s1", "O4", "2024-01-31", "a", "E", "W1"), ("s2", "O4", "2024-02-01", "a", "E", "W1"),
                  ("s3", "O5", "2024-01-10", "a", "E", None), ("s4", "O6", "2024-01-11", "a", "E", "W1")]
    ds = cost_ds(backend, cost_rows, [("2024-01-05", "W1", 100), ("2024-02-05", "W1", 100)], order_rows)
    result = compute(ds, "logistics_cost", "cost_per_order")
    # 3 distinct orders (O4, O5, O6) for 90 → 30
    assert result.value == pytest.approx(30.0)
    assert any("without a warehouse" in n for n in result.notes)
    t = table(ds, "logistics_cost", "cost_per_order", by=["month"])
    assert dict(zip(t.month, t.orders)) == {"2024-01": 3.0, "2024-02": 1.0}   # O4, O5, O6 | O4
    t = table(ds, "logistics_cost", "cost_per_order", by=["warehouse"])
    got = {w: (o, v) for w, o, v in zip(t.warehouse, t.orders, t.value)}
    assert got["W1"] == (2.0, 45.0)                                           # O4, O6 for 90
    assert got["(none)"][0] == 1.0 and nan(got["(none)"][1])                 # O5: no cost rows → empty


def test_fractional_order_counts_sum_to_whole_orders(backend):
    # one order shipped from three warehouses in one month: 1/3 in each cell, exactly 1 in the total
    order_rows = [(f"s{i}", "O1", "2024-01-02", "a", "E", w) for i, w in enumerate(["W1", "W2", "W3"])]
    cost_rows = [("2024-01", w, "storage", 10) for w in ["W1", "W2", "W3"]]
    ds = cost_ds(backend, cost_rows, [("2024-01-02", "W1", 100)], order_rows)
    t = table(ds, "logistics_cost", "cost_per_order")
    assert t.orders[0] == 1.0 and t.value[0] == 30.0
    t = table(ds, "logistics_cost", "cost_per_order", by=["month"])
    assert t.orders[0] == 1.0


def test_logistics_cost_row_order_invariance_and_pooling(backend):
    import random

    rnd = random.Random(7)
    cost_rows = [(f"2024-0{m}", w, t, rnd.randrange(1, 100)) for m in (1, 2, 3) for w in ("W1", "W2", "W3")
                 for t in ("storage", "courier", "packaging") if rnd.random() < 0.7]
    sales_rows = [(f"2024-0{m}-{d:02d}", w, rnd.randrange(0, 500)) for m in (1, 2, 3) for d in (1, 15)
                  for w in ("W1", "W2")]
    order_rows = [(f"s{i}", f"O{i // 2}", f"2024-0{1 + i % 3}-0{1 + i % 5}", "a", "E",
                   rnd.choice(["W1", "W2", "W3", None])) for i in range(40)]
    ds = cost_ds(backend, cost_rows, sales_rows, order_rows)
    shuffled = dataset(backend, logistics_costs=costs(*cost_rows).sample(frac=1, random_state=1),
                       sales=sales(*sales_rows).sample(frac=1, random_state=2),
                       orders=orders(*order_rows).sample(frac=1, random_state=3))
    for d in ("cost_to_gmv", "cost_per_order"):
        for by in ([], ["month"], ["warehouse"], ["cost_type"], ["month", "warehouse", "cost_type"]):
            a = table(ds, "logistics_cost", d, by=by)
            pd.testing.assert_frame_equal(a, table(shuffled, "logistics_cost", d, by=by))
            result = compute(ds, "logistics_cost", d, by=by)
            detail = nw.from_native(result.detail, eager_only=True).to_pandas()
            sums = list(result.definition.sums)
            pooled = (detail.groupby(by, dropna=False)[sums].sum().reset_index() if by
                      else detail[sums].sum().to_frame().T)
            assert pooled[sums].to_numpy().ravel().tolist() == pytest.approx(a[sums].to_numpy().ravel().tolist())
    # a slow count: distinct orders per month
    o = orders(*order_rows)
    t = table(ds, "logistics_cost", "cost_per_order", by=["month"])
    expected = o.assign(month=o.paid_date.dt.strftime("%Y-%m")).groupby("month").order_id.nunique()
    assert dict(zip(t.month, t.orders)) == expected.astype(float).to_dict()


def test_logistics_cost_invalid_requests():
    ds = cost_ds("pandas", JAN_COSTS, JAN_SALES, JAN_ORDERS)
    with pytest.raises(KpiError):
        compute(ds, "logistics_cost", "cost_to_gmv", lag=1)
    with pytest.raises(KpiError, match="cost_type"):
        compute(ds, "logistics_cost", "cost_to_gmv", by=["category"])
    with pytest.raises(KpiError, match="needs"):
        compute(dataset("pandas", logistics_costs=costs(*JAN_COSTS)), "logistics_cost", "cost_to_gmv")


def test_cost_trend(backend):
    # Jan: 180 cost, 1500 GMV, 3 orders. Feb: 180 cost, 1500 GMV, 1 order → cost to GMV flat (index 100),
    # cost per order 60 → 180 (index 300): they move apart when order volume falls with GMV held.
    cost_rows = JAN_COSTS + [(m.replace("01", "02", 1), w, t, a) for m, w, t, a in JAN_COSTS]
    sales_rows = JAN_SALES + [("2024-02-05", "W1", 1500)]
    order_rows = JAN_ORDERS + [("s9", "O9", "2024-02-02", "a", "E", "W1")]
    ds = cost_ds(backend, cost_rows, sales_rows, order_rows)
    trend = nw.from_native(cost_trend(ds), eager_only=True).to_pandas()
    feb = trend[trend.month == "2024-02"].set_index("measure")
    assert feb.loc["cost_to_gmv", "index"] == pytest.approx(100.0)
    assert feb.loc["cost_per_order", "index"] == pytest.approx(300.0)
    assert feb.loc["orders", "value"] == 1.0
    assert feb.loc["gmv_per_order", "index"] == pytest.approx(300.0)    # 1500/3 → 1500/1
    assert set(trend.measure) == {"cost_to_gmv", "cost_per_order", "amount", "gmv", "orders", "gmv_per_order"}
    # cost per order = cost to GMV × GMV per order, month by month
    wide = trend.pivot(index="month", columns="measure", values="value")
    assert (wide.cost_per_order).tolist() == pytest.approx((wide.cost_to_gmv * wide.gmv_per_order).tolist())


# ----------------------------------------------------------------------------- local fulfilment

def fulfilment_ds(backend, order_rows, split=None):
    warehouses = pd.DataFrame({"warehouse": ["W1", "W2"], "region": ["East", "North"]})
    split = split or {"a": True, "b": False}
    skus = pd.DataFrame({"sku": list(split), "category": "c", "unit_cost": 1.0, "abc_class": "A",
                         "lifecycle": "active", "shelf_life_days": pd.Series([None] * len(split), dtype="Int64"),
                         "scarce": False, "split_warehouse": list(split.values())})
    return dataset(backend, orders=orders(*order_rows), warehouses=warehouses, skus=skus)


LOCAL_ORDERS = [
    ("s1", "O1", "2024-01-05", "a", "East", "W1"),     # local
    ("s2", "O2", "2024-01-05", "a", "East", "W2"),     # cross-region
    ("s3", "O3", "2024-01-31", "b", "North", "W2"),    # local, non-split SKU
    ("s4", "O4", "2024-02-01", "b", "North", "W1"),    # cross-region, non-split SKU
    ("s5", "O5", "2024-02-02", "a", "East", None),     # blank warehouse → excluded
    ("s6", "O6", "2024-02-02", "a", "  ", "W1"),       # blank customer_region → excluded
    ("s7", "O7", "2024-02-03", "a", "East", "W9"),     # warehouse missing from warehouses → excluded
    ("s8", "O8", "2024-02-03", "a", " east ", "W1"),   # local (trimmed, case-insensitive)
    ("s9", "O9", "2024-02-04", "b", None, "W1"),       # blank region, non-split SKU
]


def test_local_fulfilment_by_hand(backend):
    ds = fulfilment_ds(backend, LOCAL_ORDERS)
    # split_only: SKU a only → s1, s2, s8 counted (local s1, s8), s5, s6, s7 excluded → 2/3, excluded 3
    t = table(ds, "local_fulfilment", "split_only")
    assert (t.value[0], t.local[0], t.sub_orders[0], t.excluded[0]) == (pytest.approx(2 / 3), 2, 3, 3)
    # all_items: s1, s2, s3, s4, s8 counted (local s1, s3, s8) → 3/5; excluded s5, s6, s7, s9 = 4
    t = table(ds, "local_fulfilment", "all_items")
    assert (t.value[0], t.local[0], t.sub_orders[0], t.excluded[0]) == (0.6, 3, 5, 4)
    result = compute(ds, "local_fulfilment", "split_only")
    assert any("split-warehouse" in n for n in result.notes)
    assert any("helper excluded" in n for n in result.notes)


def test_local_fulfilment_grouping(backend):
    ds = fulfilment_ds(backend, LOCAL_ORDERS)
    t = table(ds, "local_fulfilment", "all_items", by=["month"])
    # Jan: s1 local, s2 not, s3 local → 2/3. Feb: s4 not, s8 local → 1/2 (s5, s6, s7, s9 excluded)
    assert dict(zip(t.month, t.value)) == pytest.approx({"2024-01": 2 / 3, "2024-02": 0.5})
    assert dict(zip(t.month, t.excluded)) == {"2024-01": 0, "2024-02": 4}
    t = table(ds, "local_fulfilment", "split_only", by=["sku"])
    got = dict(zip(t.sku, t.value))
    assert got["a"] == pytest.approx(2 / 3) and nan(got["b"])     # b is out of split_only: 0/0
    t = table(ds, "local_fulfilment", "all_items", by=["customer_region"])
    assert dict(zip(t.customer_region, t.value))["North"] == 0.5   # s3 local, s4 not


def test_local_fulfilment_edge_cases(backend):
    # every sub-order excluded → NaN, with the count in the helper
    ds = fulfilment_ds(backend, [("s1", "O1", "2024-01-05", "a", None, "W1"), ("s2", "O2", "2024-01-05", "a", "East", "")])
    t = table(ds, "local_fulfilment", "all_items")
    assert nan(t.value[0]) and t.excluded[0] == 2 and t.sub_orders[0] == 0
    # a SKU missing from skus is a split SKU (contract default) and is counted
    ds = fulfilment_ds(backend, [("s1", "O1", "2024-01-05", "zz", "East", "W1")])
    result = compute(ds, "local_fulfilment", "split_only")
    assert result.value == 1.0 and any("missing from skus" in n for n in result.notes)


def test_local_fulfilment_row_order_invariance_and_pooling(backend):
    rows = LOCAL_ORDERS * 1
    ds = fulfilment_ds(backend, rows)
    shuffled = dataset(backend, orders=orders(*rows).sample(frac=1, random_state=4),
                       warehouses=pd.DataFrame({"warehouse": ["W2", "W1"], "region": ["North", "East"]}),
                       skus=nw.from_native(fulfilment_ds("pandas", rows).tables["skus"]).to_native().iloc[::-1])
    for d in ("split_only", "all_items"):
        for by in ([], ["month"], ["customer_region"], ["month", "category"]):
            a = table(ds, "local_fulfilment", d, by=by)
            pd.testing.assert_frame_equal(a, table(shuffled, "local_fulfilment", d, by=by))
        result = compute(ds, "local_fulfilment", d, by=["month"])
        detail = nw.from_native(result.detail, eager_only=True).to_pandas()
        pooled = detail.groupby("month")[["local", "sub_orders", "excluded"]].sum()
        got = nw.from_native(result.table, eager_only=True).to_pandas().set_index("month")
        assert (pooled.to_numpy() == got[["local", "sub_orders", "excluded"]].to_numpy()).all()


def test_local_fulfilment_invalid_requests():
    ds = fulfilment_ds("pandas", LOCAL_ORDERS)
    with pytest.raises(KpiError):
        compute(ds, "local_fulfilment", "split_only", weight="max")
    with pytest.raises(KpiError):
        compute(ds, "local_fulfilment", "local_only")
    with pytest.raises(KpiError, match="customer_region"):
        compute(ds, "local_fulfilment", "split_only", by=["warehouse_region"])


# ----------------------------------------------------------------------------- bundled sample

@pytest.fixture(scope="module")
def sample():
    pytest.importorskip("kpilab.validation")
    from kpilab.dataset import SAMPLE_DIR
    if not SAMPLE_DIR.exists() or not any(SAMPLE_DIR.iterdir()):
        pytest.skip("the bundled sample is not written yet")
    import kpilab
    return kpilab.load_sample()


@pytest.mark.parametrize("kpi, by", [("logistics_cost", ("month", "warehouse", "cost_type")),
                                     ("local_fulfilment", ("month", "customer_region"))])
def test_sample_every_definition_computes(sample, kpi, by):
    from kpilab import get_kpi

    k = get_kpi(kpi)
    for d in k.definitions:
        v = compute(sample, kpi, d.id).value
        assert math.isfinite(v) and v > 0, (kpi, d.id, v)
        t = nw.from_native(compute(sample, kpi, d.id, by=by).table, eager_only=True)
        assert len(t) > 1
