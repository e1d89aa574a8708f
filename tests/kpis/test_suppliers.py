"""Suppliers family: OTIF, inspection pass rate, preferred-supplier share — hand-worked cases and
edge cases on pandas and polars; the ranking helpers; the bundled sample."""

import math

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import KpiError, compare, compute
from kpilab.kpis.suppliers import (Scenario, compare_groupings, fill_curve, otif_overview, preferred_breakdown,
                                   rank_correlations, ranking_scenarios, supplier_ranking, variants)
from tests.conftest import dataset, table, value

OTIF_DEFS = ("by_value", "by_line", "by_order")
LATE = "2024-12-31"   # judge every line of a test (as_of defaults to the last receipt)


# ----------------------------------------------------------------------------- builders

def po(*rows):
    """PO lines: (po_line_id, po_id, supplier, sku, promised_date, ordered_units, unit_price[, rush])."""
    rows = [r if len(r) == 8 else (*r, False) for r in rows]
    frame = pd.DataFrame(rows, columns=["po_line_id", "po_id", "supplier", "sku", "promised_date",
                                        "ordered_units", "unit_price", "rush"])
    frame["promised_date"] = pd.to_datetime(frame["promised_date"])
    frame["order_date"] = frame["promised_date"] - pd.Timedelta(days=30)
    frame["ordered_units"] = frame["ordered_units"].astype(float)
    frame["unit_price"] = frame["unit_price"].astype(float)
    frame["incoterm"] = pd.Series([None] * len(frame), dtype=object)
    return frame


def rc(*rows):
    """Receipts: (po_line_id, received_date, units)."""
    frame = pd.DataFrame(rows, columns=["po_line_id", "received_date", "units"])
    frame["received_date"] = pd.to_datetime(frame["received_date"])
    frame["units"] = frame["units"].astype(float)
    return frame


def skus(*names, scarce=(), category=None):
    return pd.DataFrame({"sku": list(names), "category": [category or "c"] * len(names),
                         "unit_cost": 1.0, "abc_class": ["A"] * len(names), "lifecycle": "active",
                         "shelf_life_days": pd.Series([None] * len(names), dtype="Int64"),
                         "scarce": [n in scarce for n in names], "split_warehouse": True})


def otif_ds(backend, lines, receipts, sku_table=None):
    tables = {"purchase_orders": lines, "receipts": receipts}
    if sku_table is not None:
        tables["skus"] = sku_table
    return dataset(backend, **tables)


def all_values(ds, **params):
    return {d: value(ds, "otif", d, **params) for d in OTIF_DEFS}


def nan(x):
    return isinstance(x, float) and math.isnan(x)


# ----------------------------------------------------------------------------- OTIF: receipts and window

def test_receipts_split_early_in_window_late(backend):
    # promised 2024-03-10, window −7/+3 = 03-03 … 03-13 inclusive. Receipts: 03-02 (8 days early) 10u,
    # 03-03 (7 early, inside) 20u, 03-13 (3 late, inside) 30u, 03-14 (4 late) 40u.
    # on_time = min(100, 20 + 30) = 50 → by_value 50·2 / 100·2 = 0.5; fill 0.5 < 0.95 → line fails.
    ds = otif_ds(backend, po(("L1", "P1", "S1", "x", "2024-03-10", 100, 2)),
                 rc(("L1", "2024-03-02", 10), ("L1", "2024-03-03", 20), ("L1", "2024-03-13", 30),
                    ("L1", "2024-03-14", 40)))
    assert all_values(ds) == {"by_value": pytest.approx(0.5), "by_line": 0.0, "by_order": 0.0}
    detail = nw.from_native(compute(ds, "otif", "by_line").detail, eager_only=True).to_pandas().iloc[0]
    assert (detail.early_units, detail.window_units, detail.late_units) == (10, 50, 40)
    assert detail.received_units == 100 and detail.on_time_units == 50 and detail.fill == 0.5
    # widening to −8/+4 takes every receipt: on_time = min(100, 100) → all pass
    assert all_values(ds, early_days=8, late_days=4) == {"by_value": 1.0, "by_line": 1.0, "by_order": 1.0}
    # a zero-day window keeps only receipts on the promised day: none here
    assert value(ds, "otif", "by_value", early_days=0, late_days=0, as_of="2024-03-20") == 0.0


def test_several_receipts_capped_at_ordered_units(backend):
    # L1: 80 + 50 in the window = 130 > 100 ordered → on_time 100 (not 130).
    # L2: nothing received. by_value = (100·1 + 0) / (100·1 + 100·1) = 0.5 (uncapped would be 0.65).
    ds = otif_ds(backend,
                 po(("L1", "P1", "S1", "x", "2024-03-10", 100, 1), ("L2", "P2", "S1", "y", "2024-03-10", 100, 1)),
                 rc(("L1", "2024-03-09", 80), ("L1", "2024-03-11", 50)))
    assert all_values(ds, as_of=LATE) == {"by_value": 0.5, "by_line": 0.5, "by_order": 0.5}
    t = table(ds, "otif", "by_value", as_of=LATE)
    assert t.on_time_value[0] == 100 and t.ordered_value[0] == 200


def test_by_value_weights_by_price(backend):
    # L1 100u × 5 fully on time; L2 10u × 1, 5 arrived → by_value (500 + 5)/(500 + 10) = 505/510;
    # by_line: L1 passes, L2 fill 0.5 fails → 1/2. The big line hides the short one in value.
    ds = otif_ds(backend,
                 po(("L1", "P1", "S1", "x", "2024-03-10", 100, 5), ("L2", "P1", "S1", "y", "2024-03-10", 10, 1)),
                 rc(("L1", "2024-03-10", 100), ("L2", "2024-03-10", 5)))
    assert value(ds, "otif", "by_value", as_of=LATE) == pytest.approx(505 / 510)
    assert value(ds, "otif", "by_line", as_of=LATE) == 0.5
    assert value(ds, "otif", "by_order", as_of=LATE) == 0.0


def test_line_fill_threshold_boundary(backend):
    # fills 95/100 = 0.95 (passes: ≥), 94/100 (fails), 57/60 = 0.95 (passes), 19/20 = 0.95 (passes)
    ds = otif_ds(backend,
                 po(("L1", "P1", "S", "a", "2024-03-10", 100, 1), ("L2", "P2", "S", "b", "2024-03-10", 100, 1),
                    ("L3", "P3", "S", "c", "2024-03-10", 60, 1), ("L4", "P4", "S", "d", "2024-03-10", 20, 1)),
                 rc(("L1", "2024-03-10", 95), ("L2", "2024-03-10", 94), ("L3", "2024-03-10", 57),
                    ("L4", "2024-03-10", 19)))
    assert value(ds, "otif", "by_line", as_of=LATE) == 0.75
    assert value(ds, "otif", "by_line", as_of=LATE, line_fill=0.94) == 1.0
    assert value(ds, "otif", "by_line", as_of=LATE, line_fill=0.96) == 0.0
    assert value(ds, "otif", "by_line", as_of=LATE, line_fill=0.0) == 1.0
    # by_value ignores line_fill: (95+94+57+19)/(100+100+60+20) = 265/280
    assert value(ds, "otif", "by_value", as_of=LATE, line_fill=0.5) == pytest.approx(265 / 280)


def test_lines_not_yet_due_are_left_out_and_counted(backend):
    # as_of defaults to the last receipt, 2024-03-12. L1 promised 03-09: 03-09 + 3 = 03-12 ≤ as_of → judged.
    # L2 promised 03-10: 03-13 > 03-12 → not yet due, left out (its window is still open).
    lines = po(("L1", "P1", "S", "x", "2024-03-09", 10, 1), ("L2", "P2", "S", "y", "2024-03-10", 10, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-12", 10)))
    result = compute(ds, "otif", "by_line")
    assert result.value == 1.0
    assert nw.from_native(result.table, eager_only=True)["lines"][0] == 1
    assert any("1 PO lines not yet due" in n for n in result.notes)
    # judging on 03-13 includes L2 (nothing received): 1/2
    assert value(ds, "otif", "by_line", as_of="2024-03-13") == 0.5
    # judging earlier than every window end: no line, so every definition is empty (NaN)
    assert all(nan(v) for v in all_values(ds, as_of="2024-03-01").values())


def test_receipts_after_as_of_are_not_seen(backend):
    # promised 03-10; receipt on 03-12 (inside the window) but as_of = 03-13 vs 03-11:
    # with as_of 03-13 the line is due and on time; with as_of 03-11 the line is not due.
    lines = po(("L1", "P1", "S", "x", "2024-03-10", 10, 1), ("L2", "P2", "S", "x", "2024-03-01", 10, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-12", 10), ("L2", "2024-03-12", 10)))
    assert value(ds, "otif", "by_line", as_of="2024-03-13") == 0.5    # L2 late (11 days)
    detail = compute(ds, "otif", "by_line", as_of="2024-03-11").detail
    frame = nw.from_native(detail, eager_only=True).to_pandas()
    assert list(frame.po_line_id) == ["L2"] and frame.received_units[0] == 0   # the 03-12 receipt is after as_of


def test_scarce_exclusion_on_off(backend):
    # L1 (scarce sku m) never arrives; L2 fully on time. Excluded by default → 1.0; included → 0.5.
    lines = po(("L1", "P1", "S", "m", "2024-03-10", 10, 1), ("L2", "P2", "S", "y", "2024-03-10", 10, 1))
    ds = otif_ds(backend, lines, rc(("L2", "2024-03-10", 10)), skus("m", "y", scarce=("m",)))
    result = compute(ds, "otif", "by_line", as_of=LATE)
    assert result.value == 1.0 and any("scarce" in n for n in result.notes)
    assert value(ds, "otif", "by_line", as_of=LATE, exclude_scarce=False) == 0.5
    assert value(ds, "otif", "by_value", as_of=LATE, exclude_scarce="false") == 0.5
    # without a skus table nothing can be excluded, and the note says so
    ds = otif_ds(backend, lines, rc(("L2", "2024-03-10", 10)))
    result = compute(ds, "otif", "by_line", as_of=LATE)
    assert result.value == 0.5 and any("No skus table" in n for n in result.notes)


def test_rush_vs_normal(backend):
    # normal: L1 on time, L2 late → 1/2. rush: L3 late → 0. all: 1/3.
    lines = po(("L1", "P1", "S", "x", "2024-03-10", 10, 1, False), ("L2", "P2", "S", "x", "2024-03-10", 10, 1, False),
               ("L3", "P3", "S", "x", "2024-03-10", 10, 1, True))
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-10", 10), ("L2", "2024-03-20", 10), ("L3", "2024-03-20", 10)))
    assert value(ds, "otif", "by_line", as_of=LATE, orders="normal") == 0.5
    assert value(ds, "otif", "by_line", as_of=LATE, orders="rush") == 0.0
    assert value(ds, "otif", "by_line", as_of=LATE, orders="all") == pytest.approx(1 / 3)
    t = table(ds, "otif", "by_line", as_of=LATE, by=["rush"])
    assert dict(zip(t.rush.tolist(), t.value.tolist())) == {False: 0.5, True: 0.0}


def test_by_order_with_one_failing_line(backend):
    # P1: three lines, L3 has 90/100 = 0.9 < 0.95 → P1 fails. P2: one line passes.
    # by_line 3/4; by_order 1/2; by_value (10+10+90+10)/(10+10+100+10) = 120/130.
    lines = po(("L1", "P1", "S", "a", "2024-03-10", 10, 1), ("L2", "P1", "S", "b", "2024-03-10", 10, 1),
               ("L3", "P1", "S", "c", "2024-03-10", 100, 1), ("L4", "P2", "S", "a", "2024-03-10", 10, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-10", 10), ("L2", "2024-03-10", 10), ("L3", "2024-03-10", 90),
                                    ("L4", "2024-03-10", 10)))
    assert all_values(ds, as_of=LATE) == {"by_value": pytest.approx(120 / 130), "by_line": 0.75, "by_order": 0.5}
    # with line_fill 0.9 the failing line passes → every PO passes
    assert value(ds, "otif", "by_order", as_of=LATE, line_fill=0.9) == 1.0
    detail = nw.from_native(compute(ds, "otif", "by_order", as_of=LATE).detail, eager_only=True).to_pandas()
    assert detail.set_index("po_id").orders_passed.to_dict() == {"P1": 0, "P2": 1}
    assert detail.set_index("po_id").lines.to_dict() == {"P1": 3, "P2": 1}


def test_by_order_po_spanning_months_and_suppliers(backend):
    # P1: L1 (S1, due Jan, passes) and L2 (S2, due Feb, fails). P2: L3 (S1, due Jan, passes).
    # Ungrouped: P1 fails, P2 passes → 1/2. By month: Jan has P1's Jan part (passes) and P2 → 2/2,
    # Feb has P1's Feb part (fails) → 0/1. By supplier: S1 2/2, S2 0/1.
    lines = po(("L1", "P1", "S1", "a", "2024-01-20", 10, 1), ("L2", "P1", "S2", "b", "2024-02-10", 10, 1),
               ("L3", "P2", "S1", "a", "2024-01-25", 10, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-01-20", 10), ("L3", "2024-01-25", 10), ("L2", "2024-03-01", 10)))
    assert value(ds, "otif", "by_order", as_of=LATE) == 0.5
    t = table(ds, "otif", "by_order", as_of=LATE, by=["month"])
    assert t.set_index("month")[["orders_passed", "orders"]].to_dict("index") == {
        "2024-01": {"orders_passed": 2, "orders": 2}, "2024-02": {"orders_passed": 0, "orders": 1}}
    t = table(ds, "otif", "by_order", as_of=LATE, by=["supplier"])
    assert dict(zip(t.supplier, t.value)) == {"S1": 1.0, "S2": 0.0}


def test_month_and_year_boundaries(backend):
    # L1 promised 2023-12-30, received 2024-01-02 (3 days late, inside) → on time, period 2023-12.
    # L2 promised 2024-01-31, received 2024-01-24 (7 early, inside) → on time, period 2024-01.
    # L3 promised 2024-01-31, received 2024-02-04 (4 late) → late, period 2024-01.
    lines = po(("L1", "P1", "S", "a", "2023-12-30", 10, 1), ("L2", "P2", "S", "a", "2024-01-31", 10, 1),
               ("L3", "P3", "S", "a", "2024-01-31", 10, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-01-02", 10), ("L2", "2024-01-24", 10), ("L3", "2024-02-04", 10)))
    t = table(ds, "otif", "by_line", by=["month"])
    assert dict(zip(t.month, t.value)) == {"2023-12": 1.0, "2024-01": 0.5}


def test_orphan_receipts_and_zero_ordered_lines_are_counted(backend):
    lines = po(("L1", "P1", "S", "a", "2024-03-10", 10, 1), ("L0", "P1", "S", "a", "2024-03-10", 0, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-10", 10), ("LX", "2024-03-11", 5)))
    result = compute(ds, "otif", "by_order", as_of=LATE)
    assert result.value == 1.0
    assert any("1 receipts refer to PO lines missing" in n for n in result.notes)
    assert any("0 ordered units" in n for n in result.notes)


def test_no_receipts_gives_empty_values_and_a_note(backend):
    lines = po(("L1", "P1", "S", "a", "2024-03-10", 10, 1))
    ds = otif_ds(backend, lines, rc(("L9", "2024-03-10", 1)).iloc[:0])
    result = compute(ds, "otif", "by_value")
    assert nan(result.value) and any("set as_of" in n for n in result.notes)
    assert value(ds, "otif", "by_value", as_of="2024-04-01") == 0.0


def _random_otif(backend, seed=3, n_lines=60):
    import random

    rnd = random.Random(seed)
    lines, receipts = [], []
    for i in range(n_lines):
        promised = pd.Timestamp("2024-01-01") + pd.Timedelta(days=rnd.randrange(0, 90))
        ordered = rnd.choice([10, 20, 50, 100])
        lines.append((f"L{i:03d}", f"P{i // 3:03d}", rnd.choice("ABCD"), rnd.choice(["x", "y", "z"]),
                      promised.strftime("%Y-%m-%d"), ordered, rnd.choice([1, 2.5, 10]), rnd.random() < 0.3))
        for j in range(rnd.randrange(0, 3)):
            day = promised + pd.Timedelta(days=rnd.randrange(-10, 8))
            receipts.append((f"L{i:03d}", (day + pd.Timedelta(days=j * 20)).strftime("%Y-%m-%d"),
                             rnd.choice([ordered, ordered * 0.96, ordered * 0.5])))
    receipts = rc(*receipts).drop_duplicates(["po_line_id", "received_date"])
    return po(*lines), receipts, skus("x", "y", "z", scarce=("z",), category=None)


def _slow_otif(lines, receipts, sku_table, *, early=7, late=3, fill=0.95, exclude_scarce=True):
    """An obvious per-line loop: the reference the vectorised code is checked against."""
    as_of = receipts.received_date.max()
    scarce = set(sku_table.sku[sku_table.scarce])
    judged = []
    for line in lines.itertuples():
        if exclude_scarce and line.sku in scarce:
            continue
        if line.promised_date + pd.Timedelta(days=late) > as_of:
            continue
        got = 0.0
        for r in receipts[receipts.po_line_id == line.po_line_id].itertuples():
            if line.promised_date - pd.Timedelta(days=early) <= r.received_date <= line.promised_date + pd.Timedelta(days=late):
                got += r.units
        on_time = min(line.ordered_units, got)
        judged.append((line.po_id, on_time * line.unit_price, line.ordered_units * line.unit_price,
                       on_time / line.ordered_units >= fill))
    by_value = sum(j[1] for j in judged) / sum(j[2] for j in judged)
    by_line = sum(j[3] for j in judged) / len(judged)
    pos = {}
    for po_id, _, _, ok in judged:
        pos[po_id] = pos.get(po_id, True) and ok
    return {"by_value": by_value, "by_line": by_line, "by_order": sum(pos.values()) / len(pos)}


@pytest.mark.parametrize("params", [{}, {"early_days": 2, "late_days": 0, "line_fill": 0.5},
                                    {"exclude_scarce": False}])
def test_matches_slow_reference_loop(backend, params):
    lines, receipts, sku_table = _random_otif(backend)
    ds = otif_ds(backend, lines, receipts, sku_table)
    expected = _slow_otif(lines, receipts, sku_table, early=params.get("early_days", 7),
                          late=params.get("late_days", 3), fill=params.get("line_fill", 0.95),
                          exclude_scarce=params.get("exclude_scarce", True))
    assert all_values(ds, **params) == pytest.approx(expected)


def test_row_order_invariance_and_pooling(backend):
    lines, receipts, sku_table = _random_otif(backend, seed=11)
    ds = otif_ds(backend, lines, receipts, sku_table)
    shuffled = otif_ds(backend, lines.sample(frac=1, random_state=1), receipts.sample(frac=1, random_state=2),
                       sku_table.sample(frac=1, random_state=3))
    for by in ([], ["supplier"], ["month", "rush"], ["sku"]):
        for d in OTIF_DEFS:
            a = table(ds, "otif", d, by=by)
            b = table(shuffled, "otif", d, by=by)
            pd.testing.assert_frame_equal(a, b)
            # pooling the detail by the grouping gives the table
            result = compute(ds, "otif", d, by=by)
            detail = nw.from_native(result.detail, eager_only=True).to_pandas()
            sums = list(result.definition.sums)
            pooled = detail.groupby(by)[sums].sum().reset_index() if by else detail[sums].sum().to_frame().T
            assert pooled[sums].to_numpy().ravel().tolist() == pytest.approx(a[sums].to_numpy().ravel().tolist())
    # by_order: ungrouped PO count equals the distinct POs judged
    n_po = nw.from_native(compute(ds, "otif", "by_line").detail, eager_only=True)["po_id"].n_unique()
    assert table(ds, "otif", "by_order").orders[0] == n_po


def test_grouping_by_sku_columns(backend):
    lines = po(("L1", "P1", "S", "a", "2024-03-10", 10, 1), ("L2", "P1", "S", "b", "2024-03-10", 10, 1))
    sku_table = skus("a", "b")
    sku_table["category"] = ["food", "toys"]
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-10", 10)), sku_table)
    for d in OTIF_DEFS:
        t = table(ds, "otif", d, as_of=LATE, by=["category"])
        assert dict(zip(t.category, t.value)) == {"food": 1.0, "toys": 0.0}


@pytest.mark.parametrize("params", [{"line_fill": 1.5}, {"orders": "urgent"}, {"early_days": -1},
                                    {"late_days": "x"}, {"exclude_scarce": "maybe"}, {"as_of": "2024-13-01"},
                                    {"nope": 1}])
def test_invalid_otif_parameters(params):
    ds = otif_ds("pandas", po(("L1", "P1", "S", "a", "2024-03-10", 10, 1)), rc(("L1", "2024-03-10", 10)))
    with pytest.raises(KpiError):
        compute(ds, "otif", "by_line", **params)


def test_invalid_grouping_and_definition():
    ds = otif_ds("pandas", po(("L1", "P1", "S", "a", "2024-03-10", 10, 1)), rc(("L1", "2024-03-10", 10)))
    with pytest.raises(KpiError, match="supplier"):
        compute(ds, "otif", "by_line", by=["warehouse"])
    with pytest.raises(KpiError, match="by_value"):
        compute(ds, "otif", "by_weight")


# ----------------------------------------------------------------------------- inspection pass rate

def lots(*rows):
    """(lot_id, supplier, sku, date, inspected, passed, new_product, attempt)."""
    frame = pd.DataFrame(rows, columns=["lot_id", "supplier", "sku", "date", "inspected_units", "passed_units",
                                        "new_product", "attempt"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame[["inspected_units", "passed_units"]] = frame[["inspected_units", "passed_units"]].astype(float)
    frame["attempt"] = frame["attempt"].astype("int64")
    frame["po_line_id"] = pd.Series([None] * len(frame), dtype=object)
    return frame


def test_inspection_by_quantity_and_by_lot_threshold_exactly(backend):
    # rates 95/100 = 0.95 (passes at ≥), 94/100 (fails), 50/50, 19/20 = 0.95 (passes)
    # by_quantity (95+94+50+19)/(100+100+50+20) = 258/270; by_lot 3/4.
    ds = dataset(backend, inspections=lots(("T1", "S1", "a", "2024-03-01", 100, 95, False, 1),
                                           ("T2", "S1", "a", "2024-03-02", 100, 94, False, 1),
                                           ("T3", "S2", "b", "2024-04-01", 50, 50, False, 1),
                                           ("T4", "S2", "b", "2024-04-02", 20, 19, False, 1)))
    assert value(ds, "inspection_pass_rate", "by_quantity") == pytest.approx(258 / 270)
    assert value(ds, "inspection_pass_rate", "by_lot") == 0.75
    assert value(ds, "inspection_pass_rate", "by_lot", lot_threshold=0.9) == 1.0
    assert value(ds, "inspection_pass_rate", "by_lot", lot_threshold=1.0) == 0.25
    t = table(ds, "inspection_pass_rate", "by_lot", by=["supplier"])
    assert dict(zip(t.supplier, t.value)) == {"S1": 0.5, "S2": 1.0}
    t = table(ds, "inspection_pass_rate", "by_quantity", by=["month"])
    assert dict(zip(t.month, t.value)) == pytest.approx({"2024-03": 189 / 200, "2024-04": 69 / 70})


def test_new_first_scope_with_reinspections(backend):
    # new first inspections: N1 (96/100 passes), N3 (80/100 fails); N2 is a re-inspection of N3's run
    # (100/100) and T1 an ordinary lot: both left out under new_first.
    # new_first: by_lot 1/2, by_quantity 176/200. all: by_lot 3/4 (N1, N2, T1), by_quantity 376/400.
    ds = dataset(backend, inspections=lots(("N1", "S1", "a", "2024-03-01", 100, 96, True, 1),
                                           ("N3", "S1", "b", "2024-03-01", 100, 80, True, 1),
                                           ("N2", "S1", "b", "2024-03-09", 100, 100, True, 2),
                                           ("T1", "S1", "c", "2024-03-01", 100, 100, False, 1)))
    assert value(ds, "inspection_pass_rate", "by_lot", scope="new_first") == 0.5
    assert value(ds, "inspection_pass_rate", "by_quantity", scope="new_first") == pytest.approx(176 / 200)
    assert value(ds, "inspection_pass_rate", "by_lot") == 0.75
    assert value(ds, "inspection_pass_rate", "by_quantity") == pytest.approx(376 / 400)
    result = compute(ds, "inspection_pass_rate", "by_lot", scope="new_first")
    assert any("2 of 4 lots" in n for n in result.notes)


def test_inspection_zero_units_and_empty_scope(backend):
    # a lot with 0 inspected units has no rate: left out of by_lot, adds 0 to by_quantity
    ds = dataset(backend, inspections=lots(("T1", "S1", "a", "2024-03-01", 0, 0, False, 1),
                                           ("T2", "S1", "a", "2024-03-01", 10, 10, False, 1)))
    result = compute(ds, "inspection_pass_rate", "by_lot")
    assert result.value == 1.0 and any("0 inspected units" in n for n in result.notes)
    assert nw.from_native(result.table, eager_only=True)["lots"][0] == 1
    # only the zero lot in a month → both definitions empty there
    t = table(ds, "inspection_pass_rate", "by_quantity", scope="new_first")
    assert nan(t.value[0]) and t.inspected_units[0] == 0


def test_inspection_invalid_parameters():
    ds = dataset("pandas", inspections=lots(("T1", "S1", "a", "2024-03-01", 10, 10, False, 1)))
    for params in ({"lot_threshold": 1.2}, {"scope": "first"}, {"lot_threshold": "high"}):
        with pytest.raises(KpiError):
            compute(ds, "inspection_pass_rate", "by_lot", **params)


def test_inspection_row_order_and_pooling(backend):
    rows = [(f"T{i}", f"S{i % 3}", "abc"[i % 3], f"2024-0{1 + i % 4}-1{i % 9}", 10 + i, 10 + i - (i % 4),
             i % 2 == 0, 1 + (i % 5 == 0)) for i in range(40)]
    ds = dataset(backend, inspections=lots(*rows))
    shuffled = dataset(backend, inspections=lots(*rows).sample(frac=1, random_state=5))
    for d in ("by_quantity", "by_lot"):
        for by in ([], ["supplier"], ["month", "supplier"]):
            pd.testing.assert_frame_equal(table(ds, "inspection_pass_rate", d, by=by),
                                          table(shuffled, "inspection_pass_rate", d, by=by))
    # by_lot by hand: rate = (10+i−i%4)/(10+i) ≥ 0.95 ⇔ i%4 = 0, or i%4 = 1 with i ≥ 10
    expected = sum(1 for i in range(40) if (i % 4) / (10 + i) <= 0.05 + 1e-12) / 40
    assert value(ds, "inspection_pass_rate", "by_lot") == pytest.approx(expected)


# ----------------------------------------------------------------------------- preferred-supplier share

def preferred_ds(backend):
    # values: S1 100 (brand, 90), S2 200 (distributor, 85), S3 300 (primary_distributor, 70),
    # S4 50 (missing from suppliers), S5 350 (other, no rating); total 1000.
    lines = po(("L1", "P1", "S1", "a", "2024-03-10", 10, 10), ("L2", "P2", "S2", "a", "2024-03-10", 20, 10),
               ("L3", "P3", "S3", "b", "2024-03-10", 30, 10), ("L4", "P4", "S4", "b", "2024-03-10", 5, 10),
               ("L5", "P5", "S5", "c", "2024-03-10", 35, 10))
    lines.loc[lines.po_line_id == "L2", "order_date"] = pd.Timestamp("2024-01-31")
    lines.loc[lines.po_line_id != "L2", "order_date"] = pd.Timestamp("2024-02-01")
    sup = pd.DataFrame({"supplier": ["S1", "S2", "S3", "S5"],
                        "tier": ["brand", "distributor", "primary_distributor", "other"],
                        "rating": [90.0, 85.0, 70.0, None]})
    return dataset(backend, purchase_orders=lines, suppliers=sup, skus=skus("a", "b", "c"))


def test_preferred_share_by_tier_and_rating(backend):
    ds = preferred_ds(backend)
    assert value(ds, "preferred_supplier_share", "by_tier") == pytest.approx(400 / 1000)   # S1 + S3
    assert value(ds, "preferred_supplier_share", "by_rating") == pytest.approx(300 / 1000)  # S1 + S2
    assert value(ds, "preferred_supplier_share", "by_rating", min_rating=70) == pytest.approx(0.6)   # ≥ 70
    assert value(ds, "preferred_supplier_share", "by_rating", min_rating=70.01) == pytest.approx(0.3)
    assert value(ds, "preferred_supplier_share", "by_tier", tiers="distributor") == pytest.approx(0.2)
    # S4 (unknown) takes tier other
    assert value(ds, "preferred_supplier_share", "by_tier", tiers="Other") == pytest.approx(400 / 1000)
    result = compute(ds, "preferred_supplier_share", "by_rating")
    assert any("missing from the suppliers table" in n for n in result.notes)
    assert any("without a rating" in n for n in result.notes)


def test_preferred_share_grouping(backend):
    ds = preferred_ds(backend)
    t = table(ds, "preferred_supplier_share", "by_tier", by=["month"])
    # month of order_date: L2 in January (distributor: 0/200), the rest in February (400/800)
    assert dict(zip(t.month, t.value)) == pytest.approx({"2024-01": 0.0, "2024-02": 0.5})
    t = table(ds, "preferred_supplier_share", "by_tier", by=["supplier"])
    assert dict(zip(t.supplier, t.value)) == {"S1": 1.0, "S2": 0.0, "S3": 1.0, "S4": 0.0, "S5": 0.0}
    t = table(ds, "preferred_supplier_share", "by_rating", by=["sku"])
    assert dict(zip(t.sku, t.value)) == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.0})


def test_preferred_share_zero_purchase_value_is_nan(backend):
    lines = po(("L1", "P1", "S1", "a", "2024-03-10", 0, 10))
    sup = pd.DataFrame({"supplier": ["S1"], "tier": ["brand"], "rating": [90.0]})
    ds = dataset(backend, purchase_orders=lines, suppliers=sup)
    assert nan(value(ds, "preferred_supplier_share", "by_tier"))


def test_preferred_share_invalid_parameters():
    ds = preferred_ds("pandas")
    for params in ({"tiers": "gold"}, {"min_rating": 120}, {"min_rating": -1}):
        with pytest.raises(KpiError):
            compute(ds, "preferred_supplier_share", "by_rating", **params)


# ----------------------------------------------------------------------------- page helpers

def test_rank_correlations_by_hand():
    # X ranks S1..S4 as 1,2,3,4; Y as 4,1,2,3. d = −3,1,1,1 → Σd² = 12 → ρ = 1 − 6·12/(4·15) = −0.2.
    # Kendall: S1 is discordant with the 3 others, the other 3 pairs concordant → τ = (3 − 3)/6 = 0.
    ranking = pd.DataFrame({"scenario": ["X"] * 4 + ["Y"] * 4 + ["Z"] * 1, "definition": "by_line",
                            "supplier": ["S1", "S2", "S3", "S4"] * 2 + ["S1"],
                            "value": [0.9, 0.8, 0.7, 0.6, 0.6, 0.9, 0.8, 0.7, 0.5],
                            "count": 1.0, "rank": [1, 2, 3, 4, 4, 1, 2, 3, 1]})
    out = rank_correlations(ranking).set_index(["scenario_a", "scenario_b"])
    assert out.loc[("X", "Y"), "spearman"] == pytest.approx(-0.2)
    assert out.loc[("X", "Y"), "kendall"] == pytest.approx(0.0)
    assert out.loc[("X", "Y"), "suppliers"] == 4
    assert nan(out.loc[("X", "Z"), "spearman"])          # one common supplier: no correlation
    assert list(rank_correlations(ranking, base="Y")[["scenario_a", "scenario_b"]].itertuples(index=False,
                name=None)) == [("Y", "X"), ("Y", "Z")]


def test_supplier_ranking_and_variants(backend):
    # S1: one big line on time (100×10) + one small line short (10×1, 5 received) → by_value 1005/1010,
    #     by_line 1/2. S2: two lines of 10×1, one on time, one 9/10 → by_value 19/20, by_line 1/2.
    # S3: everything on time → 1.0 under both. by_value ranks S3, S1, S2; by_line ranks S3, then S1 = S2 (tie → 2).
    lines = po(("L1", "P1", "S1", "a", "2024-03-10", 100, 10), ("L2", "P1", "S1", "b", "2024-03-10", 10, 1),
               ("L3", "P2", "S2", "a", "2024-03-10", 10, 1), ("L4", "P3", "S2", "b", "2024-03-10", 10, 1),
               ("L5", "P4", "S3", "a", "2024-03-10", 10, 1))
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-10", 100), ("L2", "2024-03-10", 5), ("L3", "2024-03-10", 10),
                                    ("L4", "2024-03-10", 9), ("L5", "2024-03-10", 10)))
    scenarios = ranking_scenarios(("by_value", "by_line"), windows=((7, 3), (0, 0)))
    assert [s.label for s in scenarios] == ["by_value −7/+3", "by_line −7/+3", "by_value −0/+0", "by_line −0/+0"]
    assert ranking_scenarios(("by_line",), names={"by_line": "按订单行"})[0].label == "按订单行 −7/+3"
    ranking = nw.from_native(supplier_ranking(ds, scenarios, as_of=LATE), eager_only=True).to_pandas()
    got = ranking[ranking.scenario == "by_value −7/+3"].set_index("supplier")["rank"].to_dict()
    assert got == {"S3": 1, "S1": 2, "S2": 3}
    got = ranking[ranking.scenario == "by_line −7/+3"].set_index("supplier")["rank"].to_dict()
    assert got == {"S3": 1, "S1": 2, "S2": 2}
    custom = supplier_ranking(ds, [Scenario("strict", "by_line", {"line_fill": 1.0})], min_count=2, as_of=LATE)
    assert set(nw.from_native(custom, eager_only=True)["supplier"].to_list()) == {"S1", "S2"}  # S3: 1 line
    # variants: scarce on/off with sku b scarce — S1 and S2 lose their short lines
    ds = otif_ds(backend, lines, rc(("L1", "2024-03-10", 100), ("L2", "2024-03-10", 5), ("L3", "2024-03-10", 10),
                                    ("L4", "2024-03-10", 9), ("L5", "2024-03-10", 10)), skus("a", "b", scarce=("b",)))
    v = nw.from_native(variants(ds, "otif", "exclude_scarce", [True, False], definitions=["by_line"], as_of=LATE),
                       eager_only=True).to_pandas()
    assert dict(zip(v.variant, v.value)) == {"true": 1.0, "false": pytest.approx(3 / 5)}


def test_fill_curve():
    detail = pd.DataFrame({"fill": [1.0, 0.95, 0.5, 0.2]})
    curve = fill_curve(detail, [0.5, 0.95, 1.0])
    assert curve.value.tolist() == [0.75, 0.5, 0.25] and curve.rows.tolist() == [4] * 3
    lots_detail = pd.DataFrame({"rate": [1.0, float("nan")], "lots": [1, 0]})
    assert fill_curve(lots_detail, [0.9]).value.tolist() == [1.0]


# ----------------------------------------------------------------------------- bundled sample

@pytest.fixture(scope="module")
def sample():
    pytest.importorskip("kpilab.validation")
    from kpilab.dataset import SAMPLE_DIR
    if not SAMPLE_DIR.exists() or not any(SAMPLE_DIR.iterdir()):
        pytest.skip("the bundled sample is not written yet")
    import kpilab
    return kpilab.load_sample()


@pytest.mark.parametrize("kpi", ["otif", "inspection_pass_rate", "preferred_supplier_share"])
def test_sample_every_definition_computes(sample, kpi):
    from kpilab import get_kpi

    k = get_kpi(kpi)
    if any(t not in sample.tables for t in k.tables):
        pytest.skip(f"the sample has no {k.tables}")
    for d in k.definitions:
        v = compute(sample, kpi, d.id).value
        assert 0 <= v <= 1, (kpi, d.id, v)
        by = ("month", "supplier")
        t = nw.from_native(compute(sample, kpi, d.id, by=by).table, eager_only=True)
        assert len(t) > 1


# ----------------------------------------------------------------------------- shared page helpers

def test_compare_groupings_equals_compare(backend):
    lines, receipts, sku_table = _random_otif(backend, seed=5)
    ds = otif_ds(backend, lines, receipts, sku_table)
    groupings = [(), ("supplier",), ("month", "rush"), ("category",)]
    views = compare_groupings(ds, "otif", groupings, early_days=3, line_fill=0.9)
    for by in groupings:
        expected = compare(ds, "otif", by=by, early_days=3, line_fill=0.9)
        for d in OTIF_DEFS:
            got = nw.from_native(views[by].results[d].table, eager_only=True)
            want = nw.from_native(expected.results[d].table, eager_only=True)
            assert type(got.to_native()) is type(want.to_native())          # the input's backend
            pd.testing.assert_frame_equal(got.to_pandas(), want.to_pandas())
            assert views[by].results[d].notes == expected.results[d].notes


def test_otif_overview_matches_the_single_helpers(backend):
    lines, receipts, sku_table = _random_otif(backend, seed=8)
    ds = otif_ds(backend, lines, receipts, sku_table)
    ov = otif_overview(ds, windows=((3, 1), (7, 3)), min_lines=2, late_days=2)
    assert ov.scenarios == ("by_value −7/+2", "by_line −7/+2", "by_order −7/+2", "by_line −3/+1", "by_line −7/+3")
    ranking = supplier_ranking(ds, [Scenario(s, s.split()[0], {}) for s in ov.scenarios[:3]], min_count=2,
                               late_days=2)
    got = nw.from_native(ov.ranking, eager_only=True).to_pandas()
    want = nw.from_native(ranking, eager_only=True).to_pandas()
    pd.testing.assert_frame_equal(got[got.scenario.isin(ov.scenarios[:3])].reset_index(drop=True), want)
    scarce = nw.from_native(ov.scarce, eager_only=True).to_pandas()
    assert dict(zip(scarce.definition[scarce.variant == "false"], scarce.value[scarce.variant == "false"])) == \
        pytest.approx(all_values(ds, late_days=2, exclude_scarce=False))
    timing = nw.from_native(ov.timing, eager_only=True).to_pandas()
    # the receipts of the judged lines, by position: in_window units are what on_time was capped from
    detail = nw.from_native(ov.views[()].results["by_line"].detail, eager_only=True).to_pandas()
    assert timing.loc[timing.position == "in_window", "units"].sum() == pytest.approx(detail.window_units.sum())
    assert timing.loc[timing.position == "late", "units"].sum() == pytest.approx(detail.late_units.sum())
    assert timing.offset_days.between(-30, 30).all()


def test_preferred_breakdown(backend):
    ds = preferred_ds(backend)
    out = nw.from_native(preferred_breakdown(ds), eager_only=True).to_pandas().set_index("supplier")
    # S5 350 (other, unrated), S3 300 (primary_distributor, 70), S2 200, S1 100, S4 50 (unknown → other)
    assert list(out.index) == ["S5", "S3", "S2", "S1", "S4"]
    assert out.share.sum() == pytest.approx(1.0) and out.loc["S3", "share"] == pytest.approx(0.3)
    assert out.loc["S3", "by_tier"] and not out.loc["S3", "by_rating"]          # the two readings disagree
    assert out.loc["S2", "by_rating"] and not out.loc["S2", "by_tier"]
    assert out.loc["S4", "tier"] == "other" and not out.loc["S4", "by_rating"]
