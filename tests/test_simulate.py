"""The sample-data simulator: contract shape, determinism, and the invariants of one operation."""

from __future__ import annotations

import filecmp
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kpilab.contract import TABLES
from kpilab.dataset import SAMPLE_DIR, load_dataset
from kpilab.reading import read_dataset
from kpilab.simulate import (COLUMNS, _Ids, _part_world, _setup, _simulate_part, _sku_chunks, generate, simulate,
                             write_dataset)
from kpilab.validation import validate

SMALL = dict(skus=30, warehouses=3, days=430)
CHUNKED = dict(SMALL, chunk_skus=10)     # three chunks
CELL = ["sku", "warehouse"]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return simulate(**SMALL)


@pytest.fixture(scope="module")
def csv_dir(tables, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    write_dataset(tables, out)
    return out


def _typed_columns(kind: str) -> dict[str, list[str]]:
    return {t: [c.name for c in TABLES[t].columns if c.dtype == kind] for t in COLUMNS}


def test_same_seed_gives_the_same_tables_another_seed_others(tables):
    again = simulate(**SMALL)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(again[name], frame, obj=name)
    other = simulate(**SMALL, seed=8)
    assert not other["sales"]["units"].equals(tables["sales"]["units"])
    assert not other["orders"]["sku"].equals(tables["orders"]["sku"])


def test_every_contract_table_and_column_in_contract_order(tables):
    assert set(tables) == set(TABLES)
    for name, frame in tables.items():
        contract = [c for c in TABLES[name].column_names if c != "abc_class"]
        assert list(frame.columns) == contract, name
        assert len(frame) > 0, name
    assert "abc_class" not in tables["skus"]  # derived by the library


def test_keys_are_unique(tables):
    for name, frame in tables.items():
        key = list(TABLES[name].key)
        assert not frame.duplicated(key).any(), name


def test_csv_formats(csv_dir):
    dates, months, bools = _typed_columns("date"), _typed_columns("month"), _typed_columns("bool")
    for name in COLUMNS:
        raw = pd.read_csv(csv_dir / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        for col in dates[name]:
            filled = raw[col][raw[col] != ""]
            assert filled.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (name, col)
            assert len(filled) == len(raw) or col in ("expiry_date", "shipped_date", "cancelled_date"), (name, col)
        for col in months[name]:
            assert raw[col].str.fullmatch(r"\d{4}-\d{2}").all(), (name, col)
        for col in bools[name]:
            assert set(raw[col]) <= {"true", "false"}, (name, col)
    assert re.search("[\u4e00-\u9fff]", (csv_dir / "returns.csv").read_text(encoding="utf-8"))


def test_written_csv_and_parquet_read_back_equal(tables, csv_dir, tmp_path):
    write_dataset(tables, tmp_path, fmt="parquet")
    dates, bools = _typed_columns("date"), _typed_columns("bool")
    for name, frame in tables.items():
        for path in (csv_dir / f"{name}.csv", tmp_path / f"{name}.parquet"):
            back = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
            for col in dates[name]:
                back[col] = pd.to_datetime(back[col]).astype(frame[col].dtype)
            for col in bools[name]:
                back[col] = back[col].astype(str).str.lower().map({"true": True, "false": False})
            pd.testing.assert_frame_equal(back, frame, check_dtype=False, obj=f"{path.name}")


def test_the_project_validator_accepts_the_files(csv_dir):
    checked = validate(read_dataset(csv_dir).tables)
    assert checked.report.ok, checked.report.to_text()
    assert not checked.report.warnings, checked.report.to_text()


def test_stock_is_consistent(tables):
    inv, skus = tables["inventory"], tables["skus"].set_index("sku")
    assert (inv["sellable_units"] >= 0).all()
    assert (inv["sellable_units"] <= inv["on_hand_units"]).all()
    assert (inv["on_hand_units"] > inv["sellable_units"]).any()   # locked / defective stock exists
    cost = inv["sku"].map(skus["unit_cost"])
    assert np.allclose(inv["value"], inv["on_hand_units"] * cost, atol=0.01)
    # sales and inventory list the same cell-days
    keys = ["date", *CELL]
    pd.testing.assert_frame_equal(tables["sales"][keys], inv[keys])


def test_sales_never_exceed_the_stock_held_the_evening_before(tables):
    inv = tables["inventory"].merge(tables["sales"], on=["date", *CELL])
    inv = inv.sort_values([*CELL, "date"])
    prev = inv.groupby(CELL)["on_hand_units"].shift()
    consecutive = inv.groupby(CELL)["date"].diff() == pd.Timedelta(days=1)
    checked = inv[consecutive]
    assert len(checked) > 0.9 * len(inv)
    # what was sold plus what is left sellable came out of yesterday's stock
    assert (checked["units"] + checked["sellable_units"] <= prev[consecutive]).all()
    assert (checked["units"][prev[consecutive] == 0] == 0).all()


def test_stock_outs_and_overstock_exist(tables):
    inv, sales, skus = tables["inventory"], tables["sales"], tables["skus"].set_index("sku")
    pool = inv["sku"].map(skus["lifecycle"]).isin(["new", "active"])
    assert (inv.loc[pool, "sellable_units"] == 0).sum() > 0
    last = inv["date"].max()
    recent = sales[sales["date"] > last - pd.Timedelta(days=30)].groupby("sku")["units"].sum() / 30
    stock = inv[inv["date"] == last].groupby("sku")["sellable_units"].sum()
    cover = stock / recent.reindex(stock.index)
    assert ((cover > 180) & np.isfinite(cover)).any()
    # stock-outs cut sales: days out of stock at the end sell less than days in stock
    merged = inv.merge(sales, on=["date", *CELL])
    assert merged.loc[merged["sellable_units"] == 0, "units"].mean() < merged["units"].mean()


def test_batches_reconcile_with_inventory_on_snapshot_days(tables):
    batches, inv = tables["batches"], tables["inventory"]
    days = batches["date"].unique()
    assert len(days) >= 14 and inv["date"].max() in set(days)
    assert (batches["date"].dt.is_month_end | (batches["date"] == inv["date"].max())).all()
    snap = inv[inv["date"].isin(days)].set_index(["date", *CELL])
    total = batches.groupby(["date", *CELL])["units"].sum()
    sellable = batches[batches["status"] == "sellable"].groupby(["date", *CELL])["units"].sum()
    pd.testing.assert_series_equal(total.reindex(snap.index, fill_value=0), snap["on_hand_units"],
                                   check_names=False)
    pd.testing.assert_series_equal(sellable.reindex(snap.index, fill_value=0), snap["sellable_units"],
                                   check_names=False)
    assert (batches["received_date"] <= batches["date"]).all()
    assert set(batches["status"]) >= {"sellable", "defective", "locked"}
    perishable = batches["sku"].map(tables["skus"].set_index("sku")["shelf_life_days"]).notna()
    assert batches.loc[perishable, "expiry_date"].notna().all()
    assert batches.loc[~perishable, "expiry_date"].isna().all()


def test_inspections(tables):
    ins, po = tables["inspections"], tables["purchase_orders"]
    assert (ins["passed_units"] <= ins["inspected_units"]).all()
    assert (ins["passed_units"] >= 0).all()
    assert set(ins["attempt"]) == {1, 2}
    assert ins["new_product"].any()
    assert ins["po_line_id"].isin(po["po_line_id"]).all()
    failed = ins[ins["passed_units"] < 0.95 * ins["inspected_units"]]
    assert 0 < len(failed) < 0.3 * len(ins)
    # a lot that passed becomes a batch with the same id
    assert ins["lot_id"].isin(tables["batches"]["batch"]).any()


def test_purchase_orders_and_receipts(tables):
    po, rec = tables["purchase_orders"], tables["receipts"]
    assert rec["po_line_id"].isin(po["po_line_id"]).all()
    assert 0.03 < po["rush"].mean() < 0.2
    assert po.groupby("po_id").size().max() > 1
    per_line = rec.groupby("po_line_id").size()
    assert (per_line == 2).any()                               # split deliveries
    assert (~po["po_line_id"].isin(rec["po_line_id"])).any()   # not received yet
    joined = rec.merge(po, on="po_line_id")
    early_late = (joined["received_date"] - joined["promised_date"]).dt.days
    assert (early_late > 3).any() and (early_late < -7).any()
    assert (joined["received_date"] > joined["order_date"]).all()
    received = joined.groupby("po_line_id").agg(units=("units", "sum"), ordered=("ordered_units", "first"))
    assert (received["units"] < received["ordered"]).any()     # short deliveries
    assert po["supplier"].isin(tables["suppliers"]["supplier"]).all()


def test_orders_split_the_sales_of_the_last_months(tables):
    orders, sales, wh = tables["orders"], tables["sales"], tables["warehouses"]
    first = orders["paid_date"].min()
    assert first.day == 1 and orders["paid_date"].max() == sales["date"].max()
    window = sales[(sales["date"] >= first) & (sales["units"] > 0)]
    from_stock = orders[~orders["sub_order_id"].isin(tables["backorders"]["sub_order_id"])]
    from_orders = from_stock.groupby(["paid_date", *CELL])["units"].sum()
    expected = window.set_index(["date", *CELL])["units"]
    pd.testing.assert_series_equal(from_orders.sort_index(), expected.sort_index(), check_names=False,
                                   check_index_type=False)
    lines = orders.groupby("order_id").agg(n=("sku", "size"), days=("paid_date", "nunique"),
                                           whs=("warehouse", "nunique"))
    assert lines["n"].max() <= 3 and (lines["n"] > 1).any()
    assert (lines["days"] == 1).all() and (lines["whs"] == 1).all()
    assert (orders["units"] > 1).any()
    local = orders["customer_region"] == orders["warehouse"].map(wh.set_index("warehouse")["region"])
    assert 0.7 < local.mean() < 0.9


def test_returns(tables):
    ret, orders = tables["returns"], tables["orders"].set_index("sub_order_id")
    assert ret["sub_order_id"].isin(orders.index).all()
    delay = (ret["refund_date"] - ret["sub_order_id"].map(orders["paid_date"])).dt.days
    assert (delay >= 1).all() and delay.max() <= 60
    assert 3 <= delay.median() <= 30
    assert (ret["sub_order_id"].value_counts() == 2).any()
    assert {"quality", "size", "changed_mind", "logistics"} <= set(ret["reason"])
    keywords = "defect|broken|damaged|faulty|stopped working|poor quality|质量问题|破损|瑕疵|坏了"
    has_keyword = ret["comment"].str.contains(keywords, case=False, na=False)
    assert (has_keyword & (ret["reason"] != "quality")).any()
    assert ret["comment"].str.contains("great quality|质量很好", case=False, na=False).any()
    apparel = ret["sub_order_id"].map(orders["sku"]).map(tables["skus"].set_index("sku")["category"]) == "Apparel"
    assert (ret.loc[apparel, "reason"] == "size").mean() > (ret.loc[~apparel, "reason"] == "size").mean()


def test_gmv_is_concentrated(tables):
    gmv = tables["sales"].groupby("sku")["gmv"].sum().reindex(tables["skus"]["sku"], fill_value=0)
    top = gmv.sort_values(ascending=False).iloc[:len(gmv) // 5]
    assert top.sum() >= 0.5 * gmv.sum()


def test_promotions_in_june_and_november(tables):
    sales = tables["sales"]
    promo_days = sales.loc[sales["promo"], "date"].drop_duplicates()
    assert set(promo_days.dt.month) == {6, 11}
    assert set(promo_days[promo_days.dt.month == 6].dt.day) == set(range(1, 19))
    assert set(promo_days[promo_days.dt.month == 11].dt.day) == set(range(1, 12))
    daily = sales.groupby("date")["units"].sum()
    double11 = daily[(daily.index.month == 11) & (daily.index.day == 11)].iloc[0]
    october = daily[daily.index.month == 10].mean()
    assert double11 > 3 * october


def test_plans_cover_lags_sources_and_months(tables):
    plans, sales = tables["plans"], tables["sales"]
    month, version = (pd.PeriodIndex(plans[c], freq="M") for c in ("month", "version_month"))
    lag = np.asarray([(m - v).n for m, v in zip(month, version)])
    for source in ("plan", "forecast"):
        assert set(lag[plans["source"] == source]) == {0, 1, 2}
    last = sales["date"].max().to_period("M")
    full_months = pd.period_range(sales["date"].min().to_period("M") + 1, last, freq="M")
    for lg in (1, 2):
        for source in ("plan", "forecast"):
            covered = set(month[(lag == lg) & (plans["source"] == source).to_numpy()])
            assert set(full_months) <= covered, (lg, source)
    assert month.max() >= last + 2
    assert version.max() == last
    assert (plans["units"] >= 0).all()
    # people over-plan a little; the algorithm is noisier
    actual = sales.assign(month=sales["date"].dt.strftime("%Y-%m")).groupby(["sku", "month"])["units"].sum()
    errors = {}
    for source in ("plan", "forecast"):
        p = plans[(lag == 1) & (plans["source"] == source).to_numpy() & (plans["month"] <= str(last - 1))]
        pairs = pd.concat([p.set_index(["sku", "month"])["units"], actual], axis=1, keys=["P", "A"]).dropna(
            subset=["P"]).fillna(0)
        errors[source] = ((pairs.P - pairs.A).sum() / pairs.A.sum(), (pairs.P - pairs.A).abs().sum() / pairs.A.sum())
    assert errors["plan"][0] > 0
    assert errors["forecast"][1] > errors["plan"][1]


def test_backorders_sell_through_stock_outs_of_backorderable_skus(tables):
    bo, orders, skus = tables["backorders"], tables["orders"], tables["skus"].set_index("sku")
    inv = tables["inventory"].set_index(["date", *CELL])["sellable_units"]
    lines = bo.merge(orders, on="sub_order_id", validate="one_to_one")
    assert len(lines) == len(bo) > 20
    assert set(skus["oos_policy"]) == {"backorderable", "substitutable", "none"}
    assert (lines["sku"].map(skus["oos_policy"]) == "backorderable").all()
    assert (skus.loc[skus["oos_policy"] == "backorderable", "lifecycle"].isin(["active", "new"])).all()
    # a whole sub-order of 1–2 units, paid on the day it went on backorder, in the order months
    assert (lines["backordered_units"] == lines["units"]).all() and lines["units"].isin([1, 2]).all()
    assert (lines["backorder_date"] == lines["paid_date"]).all()
    # sold while the cell had no sellable stock left; shipped on a later day with stock again
    assert (inv.loc[list(zip(lines["backorder_date"], lines["sku"], lines["warehouse"]))] == 0).all()
    shipped = lines[lines["shipped_date"].notna()]
    assert (shipped["shipped_date"] > shipped["backorder_date"]).all()
    assert (inv.loc[list(zip(shipped["shipped_date"], shipped["sku"], shipped["warehouse"]))] > 0).all()
    cancelled = lines[lines["cancelled_date"].notna()]
    assert len(cancelled) and (cancelled["cancelled_date"] > cancelled["backorder_date"]).all()
    assert not (lines["shipped_date"].notna() & lines["cancelled_date"].notna()).any()
    assert (lines["promised_date"] > lines["backorder_date"]).all()
    assert validate({"orders": orders, "backorders": bo}).report.ok


def test_lifecycles(tables):
    skus, inv, plans = tables["skus"].set_index("sku"), tables["inventory"], tables["plans"]
    assert set(skus["lifecycle"]) == {"not_launched", "new", "active", "phase_out", "discontinued"}
    not_launched = skus.index[skus["lifecycle"] == "not_launched"]
    for name in ("inventory", "sales", "orders", "purchase_orders"):
        assert not tables[name]["sku"].isin(not_launched).any(), name
    assert plans["sku"].isin(not_launched).any()
    start = inv.groupby("sku")["date"].min()
    new = skus.index[skus["lifecycle"] == "new"]
    assert (start[new] > inv["date"].min()).all()
    assert skus["scarce"].dtype == bool and not skus["split_warehouse"].all()
    perishable = skus["category"].isin(["Infant formula", "Diapers", "Skincare", "Wine", "Snacks"])
    assert skus.loc[perishable, "shelf_life_days"].notna().all()
    assert skus.loc[~perishable, "shelf_life_days"].isna().all()


def test_order_volume_plans_and_logistics_costs(tables):
    ovp, orders, costs, sales = (tables[t] for t in ("order_volume_plans", "orders", "logistics_costs", "sales"))
    assert set((ovp["date"] - ovp["version_date"]).dt.days) == {7, 14}
    assert set(ovp["date"]) == set(orders["paid_date"])
    months = set(sales["date"].dt.strftime("%Y-%m"))
    assert set(costs["month"]) == months
    assert len(costs) == len(months) * len(tables["warehouses"]) * 6
    assert (costs["amount"] > 0).all()
    assert set(tables["suppliers"]["tier"]) <= {"brand", "primary_distributor", "distributor", "other"}
    assert tables["suppliers"]["rating"].between(0, 100).all()


def test_more_warehouses_than_regions_and_a_single_warehouse():
    many = simulate(skus=12, warehouses=9, days=90)
    assert many["warehouses"]["warehouse"].is_unique
    assert many["warehouses"]["region"].nunique() == 7
    one = simulate(skus=8, warehouses=1, days=90)
    assert (one["orders"]["warehouse"] == "WH-East").all()


def test_bundled_sample_is_what_generate_writes_byte_for_byte(tmp_path):
    generate(tmp_path)          # the defaults fit in one chunk: the single random stream of simulate()
    names = sorted(p.name for p in SAMPLE_DIR.glob("*.csv"))
    assert names == sorted(f"{n}.csv" for n in COLUMNS)
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE_DIR, tmp_path, names, shallow=False)
    assert not mismatch and not errors


# --- generation in chunks of SKUs -------------------------------------------------------------

@pytest.fixture(scope="module")
def chunked_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("chunked")
    generate(out, **CHUNKED)
    return out


@pytest.fixture(scope="module")
def chunked(chunked_dir) -> dict[str, pd.DataFrame]:
    dates = _typed_columns("date")
    return {name: pd.read_csv(chunked_dir / f"{name}.csv", parse_dates=dates[name], keep_default_na=False,
                              na_values={"expiry_date": [""]}) for name in COLUMNS}


def test_chunks_are_whole_suppliers_and_cover_every_sku_once():
    _, _, w = _setup(30, 3, 430, 7, "2026-10-31")
    chunks = _sku_chunks(w, 10, 430)
    assert len(chunks) == 3                                   # ⌈30 / 10⌉
    assert sorted(np.concatenate(chunks)) == list(range(30))
    owner = {sup: k for k, chunk in enumerate(chunks) for sup in w.supplier[chunk]}
    assert all(owner[sup] == k for k, chunk in enumerate(chunks) for sup in w.supplier[chunk])
    assert len(_sku_chunks(w, 30, 430)) == 1 and len(_sku_chunks(w, 1, 430)) == len(set(w.supplier))


def test_one_chunk_writes_the_same_bytes_as_simulate(csv_dir, tmp_path):
    generate(tmp_path, **SMALL, chunk_skus=30)
    names = [f"{n}.csv" for n in COLUMNS]
    assert filecmp.cmpfiles(csv_dir, tmp_path, names, shallow=False)[0] == names


def test_chunked_keeps_the_world_and_the_row_counts(csv_dir, chunked_dir, tables, chunked):
    # the world is drawn once from the seed as in simulate(): same master tables, byte for byte
    for name in ("skus", "warehouses", "suppliers"):
        assert filecmp.cmp(csv_dir / f"{name}.csv", chunked_dir / f"{name}.csv", shallow=False), name
    # rows fixed by the world and the calendar: plans (SKU × month × lag × source kept by lifecycle),
    # logistics costs (15 months × 3 warehouses × 6 types), order-volume plans (order days × warehouses)
    for name in ("plans", "logistics_costs", "order_volume_plans"):
        assert len(chunked[name]) == len(tables[name]), name
    assert len(chunked["logistics_costs"]) == 15 * 3 * 6
    # the rest is drawn again chunk by chunk: the same operation, not the same draw; a lost or
    # doubled chunk (a third of the SKUs) would be far outside 10 %
    for name in ("sales", "inventory", "orders", "purchase_orders", "receipts", "inspections", "batches"):
        assert len(chunked[name]) == pytest.approx(len(tables[name]), rel=0.1), name
    assert set(map(tuple, chunked["inventory"][CELL].drop_duplicates().to_numpy())) == \
        set(map(tuple, tables["inventory"][CELL].drop_duplicates().to_numpy()))


def test_chunked_dataset_validates_with_no_problem(chunked_dir):
    report = load_dataset(chunked_dir).report
    assert report.ok and not report.warnings, report.to_text()


def _numbers(ids: pd.Series, prefix: str) -> list[int]:
    return sorted(ids.str.removeprefix(prefix).astype(int))


def test_ids_continue_across_chunks_and_references_hold(chunked):
    orders, po, ins = chunked["orders"], chunked["purchase_orders"], chunked["inspections"]
    for name, frame in chunked.items():
        assert not frame.duplicated(list(TABLES[name].key)).any(), name
    # ids are numbered 1 … N over all chunks, with no gap and no repeat
    assert _numbers(orders["sub_order_id"], "S") == list(range(1, len(orders) + 1))
    assert _numbers(orders["order_id"].drop_duplicates(), "O") == list(range(1, orders["order_id"].nunique() + 1))
    assert _numbers(po["po_line_id"], "PL-") == list(range(1, len(po) + 1))
    assert _numbers(po["po_id"].drop_duplicates(), "PO-") == list(range(1, po["po_id"].nunique() + 1))
    # an order is one day and warehouse; a PO one supplier and day (chunks hold whole suppliers)
    assert (orders.groupby("order_id")[["paid_date", "warehouse"]].nunique() == 1).all().all()
    assert (po.groupby("po_id")[["supplier", "order_date"]].nunique() == 1).all().all()
    assert chunked["returns"]["sub_order_id"].isin(orders["sub_order_id"]).all()
    assert chunked["receipts"]["po_line_id"].isin(po["po_line_id"]).all()
    assert ins["po_line_id"].isin(po["po_line_id"]).all()
    lots = chunked["batches"]["batch"].str.removesuffix("-D").str.removesuffix("-X")
    assert lots.isin(ins["lot_id"]).mean() > 0.5            # the others are opening lots
    merged = chunked["batches"].assign(lot_id=lots).merge(ins, on="lot_id", suffixes=("", "_ins"))
    assert (merged["sku"] == merged["sku_ins"]).all()         # a lot id is not reused by another chunk


def test_network_tables_sum_the_volumes_of_every_chunk(chunked):
    sales, orders, costs, ovp = (chunked[t] for t in ("sales", "orders", "logistics_costs", "order_volume_plans"))
    # handling = (1.2 × units shipped + 0.4 × units received) × lognormal(0, 0.04), per warehouse-month;
    # summed over warehouses, per month
    month = sales["date"].dt.strftime("%Y-%m")
    shipped = sales.groupby(month)["units"].sum()
    rec = chunked["receipts"]
    received = rec.groupby(rec["received_date"].dt.strftime("%Y-%m"))["units"].sum().reindex(shipped.index,
                                                                                             fill_value=0)
    handling = costs[costs["cost_type"] == "handling"].groupby("month")["amount"].sum()
    ratio = handling / (1.2 * shipped + 0.4 * received)
    assert ratio.between(0.9, 1.1).all(), ratio
    # D-14 order-volume plans: actual distinct orders × exp(N(+3 %, 12 %)) on normal days
    actual = orders.groupby(["paid_date", "warehouse"])["order_id"].nunique()
    d14 = ovp[(ovp["date"] - ovp["version_date"]).dt.days == 14].set_index(["date", "warehouse"])["planned_orders"]
    normal = ~d14.index.get_level_values("date").month.isin([6, 11])
    assert d14[normal].sum() / actual.reindex(d14.index[normal]).sum() == pytest.approx(1.03, abs=0.05)


def test_parquet_is_typed_from_the_contract_and_streams_row_groups(tmp_path, chunked):
    generate(tmp_path, **CHUNKED, fmt="parquet")
    expected = {"date": pa.date32(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
                "str": pa.string(), "code": pa.string(), "month": pa.string()}
    for name, cols in COLUMNS.items():
        schema = pq.read_schema(tmp_path / f"{name}.parquet")
        assert schema.names == list(cols), name
        for col in cols:
            assert schema.field(col).type == expected[TABLES[name].column(col).dtype], (name, col)
    assert pq.read_schema(tmp_path / "sales.parquet").field("units").type == pa.float64()
    assert pq.read_schema(tmp_path / "skus.parquet").field("shelf_life_days").type == pa.int64()
    assert pq.ParquetFile(tmp_path / "sales.parquet").num_row_groups == 3        # one per chunk
    # the same seed and chunks as the CSV: the same rows and numbers
    sales = pd.read_parquet(tmp_path / "sales.parquet")
    assert len(sales) == len(chunked["sales"]) and sales["units"].sum() == chunked["sales"]["units"].sum()
    batches = pd.read_parquet(tmp_path / "batches.parquet")
    assert batches["expiry_date"].isna().sum() == chunked["batches"]["expiry_date"].isna().sum() > 0
    report = load_dataset(tmp_path).report
    assert report.ok and not report.warnings, report.to_text()


def test_chunked_generation_is_deterministic_by_seed(tmp_path):
    small = dict(skus=12, warehouses=2, days=120, chunk_skus=4)
    for folder, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(tmp_path / folder, **small, seed=seed)
    names = [f"{n}.csv" for n in COLUMNS]
    assert filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names, shallow=False)[0] == names
    assert not filecmp.cmp(tmp_path / "a" / "sales.csv", tmp_path / "c" / "sales.csv", shallow=False)


def test_bad_chunk_size_or_format_is_refused(tmp_path):
    for size in (0, -1):
        with pytest.raises(ValueError, match="chunk_skus"):
            generate(tmp_path / "x", skus=12, warehouses=2, days=120, chunk_skus=size)
    with pytest.raises(ValueError, match="'csv' or 'parquet'"):
        generate(tmp_path / "y", skus=12, warehouses=2, days=120, fmt="xlsx")


def test_a_chunk_of_not_launched_skus_has_plans_only():
    rng, cal, w = _setup(40, 2, 90, 3, "2026-10-31")
    not_launched = np.flatnonzero(w.lifecycle == "not_launched")
    tables, _, after = _simulate_part(rng, _part_world(w, not_launched), cal, _Ids(lot=5, sub=9))
    assert set(tables["plans"]["sku"]) == set(w.sku_id[not_launched])
    assert all(len(frame) == 0 for name, frame in tables.items() if name != "plans")
    assert after == _Ids(lot=5, sub=9)                      # nothing numbered, the next chunk goes on
