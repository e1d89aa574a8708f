"""Sourcing KPIs: the worked checks of issue 12 verbatim, hand-worked cases per definition and the
edge cases (no earlier PO, same-day lines, a line never completed, ties, zero denominators), on
pandas, polars and DuckDB (the ``backend`` fixture)."""

import math

import pandas as pd
import pytest

from kpilab import compute
from kpilab.registry import KpiError
from tests.conftest import dataset, dates, table, value

PO_COLUMNS = ["po_line_id", "po_id", "supplier", "sku", "order_date", "promised_date", "ordered_units", "unit_price"]


def po(*rows) -> pd.DataFrame:
    """PO lines (line, supplier, sku, order_date, promised_date, ordered_units, unit_price)."""
    frame = pd.DataFrame([(r[0], f"P{r[0]}", *r[1:]) for r in rows], columns=PO_COLUMNS)
    for c in ("order_date", "promised_date"):
        frame[c] = pd.to_datetime(frame[c])
    frame["ordered_units"] = frame["ordered_units"].astype(float)
    frame["unit_price"] = frame["unit_price"].astype(float)
    frame["rush"] = False
    return frame


def receipts(*rows) -> pd.DataFrame:
    """Receipts (line, received_date, units)."""
    frame = pd.DataFrame(rows, columns=["po_line_id", "received_date", "units"])
    frame["received_date"] = pd.to_datetime(frame["received_date"])
    frame["units"] = frame["units"].astype(float)
    return frame


def skus(**costs) -> pd.DataFrame:
    return pd.DataFrame({"sku": list(costs), "category": "c", "unit_cost": [float(c) for c in costs.values()]})


def lots(*rows) -> pd.DataFrame:
    """Inspections (lot, supplier, date, inspected, passed)."""
    frame = pd.DataFrame(rows, columns=["lot_id", "supplier", "date", "inspected_units", "passed_units"])
    frame["sku"] = "x"
    frame["date"] = pd.to_datetime(frame["date"])
    frame[["inspected_units", "passed_units"]] = frame[["inspected_units", "passed_units"]].astype(float)
    return frame


# --------------------------------------------------------------------------- supplier_lead_time

def lead_time_data(backend):
    # the worked check: L1 01-01 → 01-11 (60 of 100), 01-21 (40); L2 01-05 → 01-12 (50 of 50);
    # L3 01-10 → 02-09 (30 of 30)
    lines = po(("L1", "S", "x", "2024-01-01", "2024-01-20", 100, 1), ("L2", "S", "x", "2024-01-05", "2024-01-20", 50, 1),
               ("L3", "S", "x", "2024-01-10", "2024-02-01", 30, 1))
    rc = receipts(("L1", "2024-01-11", 60), ("L1", "2024-01-21", 40), ("L2", "2024-01-12", 50), ("L3", "2024-02-09", 30))
    return dataset(backend, purchase_orders=lines, receipts=rc, skus=skus(x=1))


def test_lead_time_worked_check(backend):
    ds = lead_time_data(backend)
    # first receipts 10, 7, 30 days
    assert value(ds, "supplier_lead_time", "mean_first_receipt") == pytest.approx(15.667, abs=5e-4)
    # full receipts 20, 7, 30 days
    assert value(ds, "supplier_lead_time", "mean_full_receipt") == pytest.approx(19.0)
    # 7, 10, 30: rank 0.9 × 2 = 1.8 → 10 + 0.8 × 20
    assert value(ds, "supplier_lead_time", "p90_first_receipt") == pytest.approx(26.0)
    # mean 47/3; population variance (3·1049 − 47²)/9 = 938/9; std 10.209 / 15.667
    assert value(ds, "supplier_lead_time", "variability") == pytest.approx(0.6516, abs=5e-5)


def test_lead_time_helpers_and_grouping(backend):
    ds = lead_time_data(backend)
    t = table(ds, "supplier_lead_time", "mean_first_receipt", by=("month",))
    assert t["month"].tolist() == ["2024-01"]
    assert t["lead_days"].tolist() == [47.0] and t["lines"].tolist() == [3]
    v = table(ds, "supplier_lead_time", "variability")
    assert v["mean_days"].iloc[0] == pytest.approx(47 / 3)
    assert v["std_days"].iloc[0] == pytest.approx(math.sqrt(938) / 3)


def test_lead_time_line_never_completed_is_left_out_and_counted(backend):
    lines = po(("L1", "S", "x", "2024-01-01", "2024-01-20", 100, 1), ("L2", "S", "x", "2024-01-01", "2024-01-20", 10, 1),
               ("L3", "T", "x", "2024-01-01", "2024-01-20", 10, 1))
    rc = receipts(("L1", "2024-01-05", 99), ("L2", "2024-01-03", 4), ("L2", "2024-01-09", 6))
    ds = dataset(backend, purchase_orders=lines, receipts=rc, skus=skus(x=1))
    full = compute(ds, "supplier_lead_time", "mean_full_receipt")
    assert full.value == pytest.approx(8.0)         # only L2, complete on 01-09
    assert any("2 PO lines never received in full (1 of them received nothing)" in n for n in full.notes)
    first = compute(ds, "supplier_lead_time", "mean_first_receipt")
    assert first.value == pytest.approx((4 + 2) / 2)
    assert any("1 PO lines without any receipt" in n for n in first.notes)
    by_supplier = table(ds, "supplier_lead_time", "mean_first_receipt", by=("supplier",))
    assert by_supplier["supplier"].tolist() == ["S"]     # T has no received line: no group


def test_lead_time_data_errors_are_counted(backend):
    lines = po(("L1", "S", "x", "2024-01-10", "2024-01-20", 5, 1), ("L2", "S", "x", "2024-01-01", "2024-01-20", 0, 1),
               ("L3", "S", "x", "2024-01-01", "2024-01-20", 5, 1))
    rc = receipts(("L1", "2024-01-05", 5), ("L3", "2024-01-04", 5), ("L9", "2024-01-04", 5))
    ds = dataset(backend, purchase_orders=lines, receipts=rc, skus=skus(x=1))
    result = compute(ds, "supplier_lead_time", "mean_first_receipt")
    assert result.value == pytest.approx(3.0)            # L3 only
    text = " ".join(result.notes)
    assert "1 PO lines with 0 ordered units" in text
    assert "1 receipts refer to PO lines missing" in text
    assert "1 PO lines received before their order_date" in text


def test_lead_time_zero_denominators_are_empty(backend):
    lines = po(("L1", "S", "x", "2024-01-01", "2024-01-20", 5, 1), ("L2", "S", "x", "2024-01-03", "2024-01-20", 5, 1))
    rc = receipts(("L1", "2024-01-01", 5), ("L2", "2024-01-03", 5))
    ds = dataset(backend, purchase_orders=lines, receipts=rc, skus=skus(x=1))
    assert value(ds, "supplier_lead_time", "mean_first_receipt") == 0.0
    assert math.isnan(value(ds, "supplier_lead_time", "variability"))     # mean 0: no relative spread
    nothing = dataset(backend, purchase_orders=lines, receipts=receipts(("L1", "2024-01-01", 1)), skus=skus(x=1))
    assert math.isnan(value(nothing, "supplier_lead_time", "mean_full_receipt"))
    assert math.isnan(value(nothing, "supplier_lead_time", "p90_first_receipt")) is False   # one line: its own 0
    assert value(nothing, "supplier_lead_time", "p90_first_receipt") == 0.0


def test_lead_time_ties_and_p90_per_supplier(backend):
    # S: 5, 5, 5, 5 (ties) → p90 5, CV 0; T: 2, 4 → p90 2 + 0.9 × 2 = 3.8
    rows, rc = [], []
    for i, (sup, days) in enumerate([("S", 5), ("S", 5), ("S", 5), ("S", 5), ("T", 2), ("T", 4)]):
        rows.append((f"L{i}", sup, "x", "2024-03-01", "2024-03-20", 1, 1))
        rc.append((f"L{i}", f"2024-03-{1 + days:02d}", 1))
    ds = dataset(backend, purchase_orders=po(*rows), receipts=receipts(*rc), skus=skus(x=1))
    p90 = table(ds, "supplier_lead_time", "p90_first_receipt", by=("supplier",))
    assert p90["value"].tolist() == pytest.approx([5.0, 3.8])
    assert p90["lines"].tolist() == [4, 2]
    cv = table(ds, "supplier_lead_time", "variability", by=("supplier",))
    assert cv["value"].tolist() == pytest.approx([0.0, 1 / 3])      # T: mean 3, std 1


# --------------------------------------------------------------------------- purchase_savings

def savings_data(backend, **extra):
    # the worked check: one SKU, standard cost 10; Jan 100 at 10, Feb 200 at 9, Mar 100 at 9.5
    lines = po(("J", "S", "x", "2024-01-10", "2024-02-01", 100, 10), ("F", "S", "x", "2024-02-10", "2024-03-01", 200, 9),
               ("M", "S", "x", "2024-03-10", "2024-04-01", 100, 9.5), *extra.get("rows", ()))
    return dataset(backend, purchase_orders=lines, skus=extra.get("skus", skus(x=10)))


def test_savings_worked_check(backend):
    ds = savings_data(backend)
    last = compute(ds, "purchase_savings", "vs_last_price")
    assert last.value == pytest.approx(150 / 2900) and round(last.value, 4) == 0.0517
    assert any("1 PO lines without an earlier PO line" in n for n in last.notes)      # January
    base = compute(ds, "purchase_savings", "vs_baseline", baseline_months=1)
    assert base.value == pytest.approx(250 / 3000) and round(base.value, 4) == 0.0833
    assert any("1 PO lines in the baseline period" in n for n in base.notes)
    std = compute(ds, "purchase_savings", "vs_standard_cost")
    assert std.value == pytest.approx(250 / 4000) and round(std.value, 4) == 0.0625


def test_savings_by_month_and_helpers(backend):
    t = table(savings_data(backend), "purchase_savings", "vs_last_price", by=("month",))
    assert t["month"].tolist() == ["2024-02", "2024-03"]          # January has no earlier price
    assert t["savings"].tolist() == pytest.approx([200.0, -50.0])
    assert t["ref_value"].tolist() == pytest.approx([2000.0, 900.0])
    assert t["value"].tolist() == pytest.approx([0.1, -50 / 900])


def test_savings_default_baseline_is_the_first_three_months(backend):
    ds = savings_data(backend, rows=[("A", "T", "x", "2024-04-02", "2024-05-01", 50, 8)])
    # baseline Jan–Mar: (100·10 + 200·9 + 100·9.5) / 400 = 9.375; April 50 at 8
    result = compute(ds, "purchase_savings", "vs_baseline")
    assert result.value == pytest.approx((9.375 - 8) * 50 / (9.375 * 50))
    assert any("Baseline: 2024-01 … 2024-03" in n for n in result.notes)
    # a baseline starting in February: Feb–Apr in the baseline, January before it is judged against 9.125
    later = compute(ds, "purchase_savings", "vs_baseline", baseline_start="2024-02-15")
    ref = (200 * 9 + 100 * 9.5 + 50 * 8) / 350
    assert later.value == pytest.approx((ref - 10) * 100 / (ref * 100))


def test_savings_everything_in_the_baseline_is_empty_with_a_note(backend):
    result = compute(savings_data(backend), "purchase_savings", "vs_baseline")
    assert math.isnan(result.value)
    assert any("3 PO lines in the baseline period" in n for n in result.notes)


def test_savings_same_day_lines_averaged_by_units(backend):
    # two suppliers on Jan 10: 100 at 10 and 300 at 8 → 8.5; Feb 100 at 9 → (8.5 − 9)·100 / 850
    rows = [("J2", "T", "x", "2024-01-10", "2024-02-01", 300, 8)]
    ds = dataset(backend, purchase_orders=po(("J", "S", "x", "2024-01-10", "2024-02-01", 100, 10), *rows,
                                             ("F", "S", "x", "2024-02-10", "2024-03-01", 100, 9)), skus=skus(x=10))
    t = table(ds, "purchase_savings", "vs_last_price")
    assert t["savings"].iloc[0] == pytest.approx(-50.0) and t["ref_value"].iloc[0] == pytest.approx(850.0)
    # a same-day line is not "earlier": neither January line has a reference
    assert any("2 PO lines without an earlier PO line" in n for n in compute(ds, "purchase_savings", "vs_last_price").notes)


def test_savings_last_price_any_supplier_and_per_sku(backend):
    rows = [("Y1", "T", "y", "2024-01-05", "2024-02-01", 10, 100), ("Y2", "S", "y", "2024-03-01", "2024-04-01", 10, 110)]
    ds = savings_data(backend, rows=rows, skus=skus(x=10, y=100))
    t = table(ds, "purchase_savings", "vs_last_price", by=("sku",))
    assert t["sku"].tolist() == ["x", "y"]
    assert t["savings"].tolist() == pytest.approx([150.0, -100.0])    # y: bought from T at 100, then S at 110
    by_supplier = table(ds, "purchase_savings", "vs_last_price", by=("supplier",))
    assert by_supplier["supplier"].tolist() == ["S"]


def test_savings_standard_cost_missing_or_zero_is_left_out(backend):
    rows = [("Z", "S", "z", "2024-01-05", "2024-02-01", 10, 5), ("W", "S", "w", "2024-01-05", "2024-02-01", 10, 5)]
    ds = savings_data(backend, rows=rows, skus=skus(x=10, w=0))
    result = compute(ds, "purchase_savings", "vs_standard_cost")
    assert result.value == pytest.approx(250 / 4000)
    assert any("2 PO lines of SKUs without a unit_cost" in n for n in result.notes)


def test_savings_without_skus_table_is_a_clear_error(backend):
    ds = dataset(backend, purchase_orders=po(("J", "S", "x", "2024-01-10", "2024-02-01", 100, 10)))
    with pytest.raises(KpiError, match="skus"):
        compute(ds, "purchase_savings", "vs_standard_cost")
    assert math.isnan(value(ds, "purchase_savings", "vs_last_price"))


# --------------------------------------------------------------------------- supplier_scorecard

def scorecard_data(backend):
    """Supplier S in 2024-Q1: 4 judged lines promised 01-20 (window 01-13 … 01-23):
    A 10/10 on 01-18 (OTIF pass, on time); B 10/10 on 01-22 (pass, late); C 5/10 on 01-15 (fill 0.5: fail, on time);
    D 10 on 01-05 (early: fail, on time). Lots: 100 inspected, 90 passed → inspection 0.9.
    Supplier T in 2024-Q1: one line E 10/10 on 01-20 (pass, on time), no lot → inspection empty.
    Line F promised 2024-03-30 is not yet due (last receipt 02-10, late_days 3)."""
    lines = po(("A", "S", "x", "2024-01-01", "2024-01-20", 10, 1), ("B", "S", "x", "2024-01-01", "2024-01-20", 10, 1),
               ("C", "S", "x", "2024-01-01", "2024-01-20", 10, 1), ("D", "S", "x", "2024-01-01", "2024-01-20", 10, 1),
               ("E", "T", "x", "2024-01-01", "2024-01-20", 10, 1), ("F", "S", "x", "2024-01-01", "2024-03-30", 10, 1))
    rc = receipts(("A", "2024-01-18", 10), ("B", "2024-01-22", 10), ("C", "2024-01-15", 5), ("D", "2024-01-05", 10),
                  ("E", "2024-01-20", 10), ("F", "2024-02-10", 2))
    inspections = lots(("L1", "S", "2024-02-01", 60, 60), ("L2", "S", "2024-03-01", 40, 30))
    return dataset(backend, purchase_orders=lines, receipts=rc, inspections=inspections, skus=skus(x=1))


def test_scorecard_weighted_by_supplier_and_quarter(backend):
    ds = scorecard_data(backend)
    t = table(ds, "supplier_scorecard", "weighted", by=("supplier", "quarter"))
    assert t["supplier"].tolist() == ["S", "T"] and t["quarter"].tolist() == ["2024-Q1", "2024-Q1"]
    # S: otif 2/4, inspection 90/100, on time 3/4 → 0.4·0.5 + 0.4·0.9 + 0.2·0.75 = 0.71
    assert t["otif"].iloc[0] == pytest.approx(0.5) and t["inspection"].iloc[0] == pytest.approx(0.9)
    assert t["on_time"].iloc[0] == pytest.approx(0.75)
    assert t["value"].iloc[0] == pytest.approx(0.71)
    assert math.isnan(t["value"].iloc[1])                       # T: no inspected unit
    result = compute(ds, "supplier_scorecard", "weighted", by=("supplier", "quarter"))
    assert any("1 of 2 supplier-quarters lack a component" in n for n in result.notes)
    assert any("1 PO lines not yet due" in n for n in result.notes)


def test_scorecard_weakest_link_and_weights(backend):
    ds = scorecard_data(backend)
    weakest = table(ds, "supplier_scorecard", "weakest_link", by=("supplier",))
    assert weakest["value"].iloc[0] == pytest.approx(0.5)        # OTIF is S's weakest component
    assert math.isnan(weakest["value"].iloc[1])
    # weights 1 / 1 / 0 → (0.5 + 0.9) / 2; a 0-weight component is not needed
    s = table(ds, "supplier_scorecard", "weighted", by=("supplier",), weight_otif=1, weight_inspection=1,
              weight_on_time=0)
    assert s["value"].iloc[0] == pytest.approx(0.7)
    t_only = table(ds, "supplier_scorecard", "weighted", by=("supplier",), weight_otif=0.5, weight_inspection=0,
                   weight_on_time=0.5)
    assert t_only["value"].tolist() == pytest.approx([0.625, 1.0])     # T: otif 1, on time 1
    # ungrouped: the supplier base pooled: otif 3/5, inspection 0.9, on time 4/5
    assert value(ds, "supplier_scorecard", "weighted") == pytest.approx(0.4 * 0.6 + 0.4 * 0.9 + 0.2 * 0.8)


def test_scorecard_window_parameters(backend):
    ds = scorecard_data(backend)
    # a fill mark of 0.5 lets C pass; late_days 1 makes B fail
    t = table(ds, "supplier_scorecard", "weighted", by=("supplier",), line_fill=0.5, late_days=1)
    assert t["otif"].iloc[0] == pytest.approx(2 / 4)          # A, C pass; B late, D early


def test_scorecard_zero_weights_are_an_error(backend):
    with pytest.raises(KpiError, match="weights sum to 0"):
        compute(scorecard_data(backend), "supplier_scorecard", "weighted", weight_otif=0, weight_inspection=0,
                weight_on_time=0)


def test_scorecard_by_month_uses_promised_and_inspection_months(backend):
    t = table(scorecard_data(backend), "supplier_scorecard", "weakest_link", by=("month",))
    assert t["month"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert t["lines"].tolist() == [5.0, 0.0, 0.0] and t["inspected_units"].tolist() == [0.0, 60.0, 40.0]
    assert t["value"].isna().all()              # no month holds both lines and lots
