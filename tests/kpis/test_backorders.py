"""Backorders: the issue's worked check and hand-worked cases per definition, on every engine.

The snapshot dataset (month-ends 01-31, 02-29, 03-31; the data ends 2024-03-31):

    line  sku (oos_policy)   units  backorder  promised  closed
    L1    a (backorderable)  2      01-10      01-20     shipped 02-05 (late)
    L2    a                  1      01-25      02-15     cancelled 03-31 (the month's last day)
    L3    b (none)           4      02-20      03-31     shipped 03-31 (on the promise, the last day)
    L4    b                  3      03-01      04-30     open

Open at 01-31: L1 (age 21, past promise), L2 (age 6). At 02-29: L2 (age 35, past promise), L3
(age 9). At 03-31: L4 (age 30) — L2 and L3 closed that very day.
"""

import doctest
import math

import pandas as pd
import pytest

from kpilab import compute
from kpilab.kpis import backorders as backorders_module
from tests.conftest import dataset, table, value

NaT = pd.NaT
T = pd.Timestamp
SKUS = pd.DataFrame({"sku": ["a", "b"], "category": ["x", "y"], "unit_cost": 1.0,
                     "oos_policy": ["backorderable", "none"]})


def _orders(ids, paid, skus, units, gmv=None):
    gmv = gmv or [10.0 * u for u in units]
    return pd.DataFrame({"sub_order_id": ids, "order_id": [f"o{i}" for i in range(len(ids))],
                         "paid_date": pd.to_datetime(paid), "sku": skus, "units": [float(u) for u in units],
                         "gmv": [float(g) for g in gmv]})


def _backorders(ids, units, start, promised, shipped, cancelled):
    return pd.DataFrame({"sub_order_id": ids, "backordered_units": [float(u) for u in units],
                         "backorder_date": pd.to_datetime(start), "promised_date": pd.to_datetime(promised),
                         "shipped_date": pd.to_datetime(shipped), "cancelled_date": pd.to_datetime(cancelled)})


ORDERS = _orders(["s1", "s2", "s3", "s4", "s5"], ["2024-01-10", "2024-01-25", "2024-02-20", "2024-03-01", "2024-03-31"],
                 ["a", "a", "b", "b", "a"], [2, 1, 4, 3, 1])
BACKORDERS = _backorders(["s1", "s2", "s3", "s4"], [2, 1, 4, 3],
                         ["2024-01-10", "2024-01-25", "2024-02-20", "2024-03-01"],
                         ["2024-01-20", "2024-02-15", "2024-03-31", "2024-04-30"],
                         ["2024-02-05", None, "2024-03-31", None], [None, "2024-03-31", None, None])


@pytest.fixture
def snap(backend):
    return dataset(backend, orders=ORDERS, backorders=BACKORDERS, skus=SKUS)


def by_month(ds, kpi, definition, **params):
    t = table(ds, kpi, definition, by=("month",), **params)
    return dict(zip(t["month"], t["value"]))


def same(got: dict, expected: dict):
    assert list(got) == list(expected)
    for key, want in expected.items():
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(want), key


# --------------------------------------------------------------------------- backorder_rate


def test_backorder_rate_worked_check_of_the_issue(backend):
    orders = _orders(["s1", "s2", "s3", "s4"], ["2024-03-01"] * 4, ["a"] * 4, [2, 1, 5, 2], [100, 300, 50, 40])
    bo = _backorders(["s2", "s3"], [1, 2], ["2024-03-01"] * 2, ["2024-03-10"] * 2, [None] * 2, [None] * 2)
    ds = dataset(backend, orders=orders, backorders=bo)
    assert value(ds, "backorder_rate", "by_lines") == pytest.approx(0.5)
    assert value(ds, "backorder_rate", "by_units") == pytest.approx(3 / 10)
    assert value(ds, "backorder_rate", "by_value") == pytest.approx(320 / 490)   # 300 + 2 × 50/5
    assert round(320 / 490, 4) == 0.6531


def test_the_worked_check_doctest_runs():
    assert doctest.testmod(backorders_module).failed == 0


def test_backorder_rate_by_paid_month_and_oos_policy(snap):
    # Jan: s1, s2 both backordered; Feb: s3; Mar: s4 backordered of s4, s5
    same(by_month(snap, "backorder_rate", "by_lines"), {"2024-01": 1.0, "2024-02": 1.0, "2024-03": 0.5})
    same(by_month(snap, "backorder_rate", "by_units"), {"2024-01": 1.0, "2024-02": 1.0, "2024-03": 3 / 4})
    t = table(snap, "backorder_rate", "by_lines", by=("oos_policy",))
    # backorderable = a: s1, s2 of s1, s2, s5; none = b: s3, s4 of s3, s4
    assert t["oos_policy"].tolist() == ["backorderable", "none"]
    assert t["value"].tolist() == pytest.approx([2 / 3, 1.0])
    assert t["lines"].tolist() == [3.0, 2.0]


def test_backorder_rate_zero_denominator_is_empty_with_a_note(backend):
    orders = _orders(["s1", "s2"], ["2024-01-05", "2024-02-05"], ["a", "a"], [1, 2], [0, 20])
    bo = _backorders(["s2"], [1], ["2024-02-06"], ["2024-02-10"], [None], [None])
    ds = dataset(backend, orders=orders, backorders=bo)
    result = compute(ds, "backorder_rate", "by_value", by=("month",))
    months = dict(zip(result.table["month"], result.table["value"]))
    assert math.isnan(months["2024-01"]) and months["2024-02"] == pytest.approx(10 / 20)
    assert any("1 groups have no sub-order value (2024-01)" in n for n in result.notes)
    assert value(ds, "backorder_rate", "by_value") == pytest.approx(10 / 20)


def test_a_backorder_line_without_its_order_is_counted(backend):
    bo = pd.concat([BACKORDERS, _backorders(["s9"], [1], ["2024-03-02"], ["2024-03-09"], [None], [None])])
    ds = dataset(backend, orders=ORDERS, backorders=bo, skus=SKUS)
    result = compute(ds, "overdue_backorders", "vs_promise")
    assert result.value == pytest.approx(2 / 5)                  # as without s9
    assert any("1 backorder lines have a sub_order_id that is not in orders" in n for n in result.notes)


# --------------------------------------------------------------------------- overdue_backorders


def test_overdue_vs_promise_by_lines_and_units(snap):
    same(by_month(snap, "overdue_backorders", "vs_promise"), {"2024-01": 0.5, "2024-02": 0.5, "2024-03": 0.0})
    assert value(snap, "overdue_backorders", "vs_promise") == pytest.approx(2 / 5)
    # units: Jan L1 2 of 3, Feb L2 1 of 5, Mar 0 of 3
    same(by_month(snap, "overdue_backorders", "vs_promise", weight="units"),
         {"2024-01": 2 / 3, "2024-02": 1 / 5, "2024-03": 0.0})
    assert value(snap, "overdue_backorders", "vs_promise", weight="units") == pytest.approx(3 / 11)


def test_overdue_vs_age_and_max_days(snap):
    # ages Jan 21, 6; Feb 35, 9; Mar 30
    same(by_month(snap, "overdue_backorders", "vs_age"), {"2024-01": 0.5, "2024-02": 0.5, "2024-03": 1.0})
    assert value(snap, "overdue_backorders", "vs_age") == pytest.approx(3 / 5)
    same(by_month(snap, "overdue_backorders", "vs_age", max_days=30), {"2024-01": 0.0, "2024-02": 0.5, "2024-03": 0.0})
    t = table(snap, "overdue_backorders", "vs_age", by=("oos_policy",), weight="units")
    # backorderable: L1 2 (21 > 14) + L2 1 (6) + L2 1 (35 > 14) → 3 of 4; none: L3 4 (9) + L4 3 (30 > 14) → 3 of 7
    assert t["value"].tolist() == pytest.approx([3 / 4, 3 / 7])
    assert t["open"].tolist() == [4.0, 7.0]


def test_nothing_open_at_a_month_end_is_empty_with_a_note(backend):
    orders = _orders(["s1", "s2"], ["2024-01-05", "2024-02-29"], ["a", "a"], [1, 1])
    bo = _backorders(["s1"], [1], ["2024-01-05"], ["2024-01-10"], ["2024-01-31"], [None])   # shipped on 01-31
    ds = dataset(backend, orders=orders, backorders=bo, skus=SKUS)
    result = compute(ds, "overdue_backorders", "vs_promise", by=("month",))
    assert result.table["month"].tolist() == ["2024-01", "2024-02"]
    assert result.table["value"].isna().all() and result.table["open"].tolist() == [0.0, 0.0]
    assert any("2 groups have no open backorders at month-end" in n for n in result.notes)
    overall = compute(ds, "backorder_age", "p90")
    assert math.isnan(overall.value) and any("No open backorders at month-end" in n for n in overall.notes)
    assert any(n("zh").startswith("没有月末未结的缺货预订") for n in overall.notes)
    assert math.isnan(value(ds, "backorder_age", "mean"))


def test_an_incomplete_last_month_has_no_snapshot(backend):
    orders = pd.concat([ORDERS, _orders(["s6"], ["2024-04-10"], ["a"], [1])])
    ds = dataset(backend, orders=orders, backorders=BACKORDERS, skus=SKUS)
    result = compute(ds, "backorder_age", "mean", by=("month",))
    assert result.table["month"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert any("2024-04 is not complete (the data ends on 2024-04-10)" in n for n in result.notes)


# --------------------------------------------------------------------------- backorder_promise_kept


def test_promise_kept_shipped_only_and_all_closed(snap):
    # Feb: L1 shipped late; Mar: L3 shipped on its promise, L2 cancelled
    same(by_month(snap, "backorder_promise_kept", "shipped_only"), {"2024-02": 0.0, "2024-03": 1.0})
    same(by_month(snap, "backorder_promise_kept", "all_closed"), {"2024-02": 0.0, "2024-03": 0.5})
    shipped = compute(snap, "backorder_promise_kept", "shipped_only")
    assert shipped.value == pytest.approx(1 / 2)
    assert any("1 cancelled backorder lines are left out" in n for n in shipped.notes)
    assert value(snap, "backorder_promise_kept", "all_closed") == pytest.approx(1 / 3)


def test_promise_kept_with_only_cancellations_is_empty_with_a_note(backend):
    bo = _backorders(["s1"], [2], ["2024-01-10"], ["2024-01-20"], [None], ["2024-01-15"])
    ds = dataset(backend, orders=ORDERS, backorders=bo)
    result = compute(ds, "backorder_promise_kept", "shipped_only")
    assert math.isnan(result.value) and any("No shipped backorder lines" in n for n in result.notes)
    assert value(ds, "backorder_promise_kept", "all_closed") == 0.0


# --------------------------------------------------------------------------- backorder_age


def test_backorder_age_mean_and_p90(snap):
    same(by_month(snap, "backorder_age", "mean"), {"2024-01": 13.5, "2024-02": 22.0, "2024-03": 30.0})
    assert value(snap, "backorder_age", "mean") == pytest.approx(101 / 5)
    # p90 (linear): Jan 6 + 0.9 × 15; Feb 9 + 0.9 × 26; all five 6, 9, 21, 30, 35: rank 3.6 → 30 + 0.6 × 5
    same(by_month(snap, "backorder_age", "p90"), {"2024-01": 19.5, "2024-02": 32.4, "2024-03": 30.0})
    assert value(snap, "backorder_age", "p90") == pytest.approx(33.0)
    t = table(snap, "backorder_age", "p90", by=("oos_policy",))
    # backorderable 6, 21, 35: rank 1.8 → 21 + 0.8 × 14; none 9, 30 → 9 + 0.9 × 21
    assert t["value"].tolist() == pytest.approx([32.2, 27.9])
    assert t["open_lines"].tolist() == [3.0, 2.0]


def test_p90_with_ties(backend):
    ids = [f"s{i}" for i in range(5)]
    starts = ["2024-01-26"] * 4 + ["2024-01-21"]                 # ages at 01-31: 5, 5, 5, 5, 10
    orders = _orders(ids, starts, ["a"] * 5, [1] * 5)
    orders = pd.concat([orders, _orders(["s9"], ["2024-01-31"], ["a"], [1])])
    bo = _backorders(ids, [1] * 5, starts, ["2024-03-01"] * 5, [None] * 5, [None] * 5)
    ds = dataset(backend, orders=orders, backorders=bo)
    assert value(ds, "backorder_age", "p90") == pytest.approx(8.0)   # rank 3.6: 5 + 0.6 × 5
    tied = dataset(backend, orders=orders, backorders=bo.iloc[:4])
    assert value(tied, "backorder_age", "p90") == pytest.approx(5.0)


# --------------------------------------------------------------------------- backorder_growth


def test_growth_new_and_open_units(snap):
    # new: Jan 3, Feb 4, Mar 3; open at month-end: Jan 3, Feb 5, Mar 3
    same(by_month(snap, "backorder_growth", "new_units"), {"2024-01": math.nan, "2024-02": 4 / 3 - 1,
                                                            "2024-03": 3 / 4 - 1})
    same(by_month(snap, "backorder_growth", "open_units"), {"2024-01": math.nan, "2024-02": 5 / 3 - 1,
                                                             "2024-03": 3 / 5 - 1})
    latest = compute(snap, "backorder_growth", "open_units")
    assert latest.value == pytest.approx(-0.4)
    assert latest.table[["units", "previous_units"]].values.tolist() == [[3.0, 5.0]]
    assert any("growth of 2024-03 (the last month-end)" in n for n in latest.notes)
    monthly = compute(snap, "backorder_growth", "new_units", by=("month",))
    assert any("The first month has no previous month" in n for n in monthly.notes)


def test_growth_from_a_zero_month_is_empty_with_a_note(snap):
    result = compute(snap, "backorder_growth", "new_units", by=("oos_policy",))
    # backorderable: Mar 0 new after Feb 0 → empty; none: Mar 3 after Feb 4
    assert result.table["oos_policy"].tolist() == ["backorderable", "none"]
    assert math.isnan(result.table["value"][0]) and result.table["value"][1] == pytest.approx(-0.25)
    assert any("1 rows have 0 new units in the previous month" in n for n in result.notes)
    t = table(snap, "backorder_growth", "open_units", by=("oos_policy",))
    assert t["value"].tolist() == pytest.approx([-1.0, -0.25])       # a: 0 after 1; b: 3 after 4


def test_growth_after_a_month_without_new_backorders(backend):
    orders = _orders(["s1", "s2", "s3", "s4"], ["2024-01-10", "2024-02-10", "2024-03-10", "2024-03-31"],
                     ["a"] * 4, [3, 1, 3, 1])
    bo = _backorders(["s1", "s3"], [3, 3], ["2024-01-10", "2024-03-10"], ["2024-01-20", "2024-03-20"],
                     ["2024-01-15", "2024-03-31"], [None, None])
    ds = dataset(backend, orders=orders, backorders=bo)
    result = compute(ds, "backorder_growth", "new_units", by=("month",))
    months = dict(zip(result.table["month"], result.table["value"]))
    same(months, {"2024-01": math.nan, "2024-02": -1.0, "2024-03": math.nan})
    assert any("1 rows have 0 new units in the previous month" in n for n in result.notes)
