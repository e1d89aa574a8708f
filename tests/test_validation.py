"""Validation: every bad input of the contract caught with table, column and spreadsheet rows."""
from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

from kpilab.validation import Problem, ValidatedTables, validate

SKUS = {"sku": ["A", "B"], "category": ["x", "y"], "unit_cost": ["2", "3"]}
WAREHOUSES = {"warehouse": ["W1"], "region": ["east"]}
INVENTORY = {"date": ["2024-03-05", "2024-03-05"], "sku": ["A", "B"], "warehouse": ["W1", "W1"],
             "on_hand_units": ["10", "5"], "sellable_units": ["8", "5"]}
ORDERS = {"sub_order_id": ["s1", "s2"], "order_id": ["o1", "o1"],
          "paid_date": ["2024-03-01", "2024-03-02"], "sku": ["A", "B"], "units": ["1", "2"],
          "gmv": ["10", "20"]}


def check(**tables) -> ValidatedTables:
    return validate({name: pd.DataFrame(columns) for name, columns in tables.items()})


def only(result: ValidatedTables, table: str, column: str, severity: str = "error") -> Problem:
    found = [p for p in result.report.problems
             if (p.table, p.column, p.severity) == (table, column, severity)]
    assert len(found) == 1, result.report.to_text()
    return found[0]


def with_(base: dict, **changes) -> dict:
    return {**base, **changes}


# --- a clean dataset ---------------------------------------------------------------------------

def test_clean_dataset_is_typed_and_defaults_filled():
    result = check(skus=SKUS, warehouses=WAREHOUSES, inventory=INVENTORY)
    assert result.report.ok and result.report.problems == []
    skus, inv = result.tables["skus"], result.tables["inventory"]
    assert str(skus["sku"].dtype) == "str" and skus["unit_cost"].dtype == "float64"
    assert skus["lifecycle"].tolist() == ["active", "active"]
    assert skus["scarce"].tolist() == [False, False] and skus["scarce"].dtype == bool
    assert skus["split_warehouse"].tolist() == [True, True]
    assert skus["abc_class"].isna().all() and str(skus["abc_class"].dtype) == "str"
    assert skus["shelf_life_days"].isna().all() and skus["shelf_life_days"].dtype == "float64"
    assert inv["date"].dtype == "datetime64[ns]"
    assert inv["date"].tolist() == [pd.Timestamp("2024-03-05")] * 2
    assert inv["value"].tolist() == [20.0, 15.0]  # on_hand_units × unit_cost
    assert inv.columns.tolist() == ["date", "sku", "warehouse", "on_hand_units",
                                    "sellable_units", "value"]
    assert result.report.rows_read == {"skus": 2, "warehouses": 1, "inventory": 2}
    assert result.report.rows_dropped == {"skus": 0, "warehouses": 0, "inventory": 0}


def test_absent_optional_columns_are_added():
    result = check(batches={"date": ["2024-03-05"], "sku": ["A"], "warehouse": ["W1"],
                            "batch": ["L1"], "received_date": ["2024-01-01"], "units": ["4"]},
                   plans={"sku": ["A"], "month": ["2024-03"], "version_month": ["2024-02"],
                          "units": ["5"]},
                   inspections={"lot_id": ["1"], "supplier": ["s"], "sku": ["A"],
                                "date": ["2024-03-05"], "inspected_units": ["10"],
                                "passed_units": ["9"], "attempt": [""]})
    batches = result.tables["batches"]
    assert batches["status"].tolist() == ["sellable"]
    assert batches["expiry_date"].isna().all() and batches["expiry_date"].dtype == "datetime64[ns]"
    assert result.tables["plans"]["source"].tolist() == ["plan"]
    assert result.tables["plans"]["value"].isna().all()
    inspections = result.tables["inspections"]
    assert inspections["attempt"].tolist() == [1] and inspections["attempt"].dtype == "int64"
    assert inspections["new_product"].tolist() == [False]


def test_typed_frames_pass_through():
    """Frames built in code (datetime64, floats, bools) validate like files do."""
    result = validate({"sales": pd.DataFrame({
        "date": pd.to_datetime(["2024-03-05 13:30", "2024-03-06 00:00"]).tz_localize("Asia/Shanghai"),
        "sku": ["A", "B"], "warehouse": ["W1", "W1"], "units": [1, 2], "gmv": [1.5, 2.0],
        "promo": [True, False]})})
    assert result.report.ok, result.report.to_text()
    sales = result.tables["sales"]
    assert sales["date"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]
    assert sales["units"].dtype == "float64" and sales["promo"].tolist() == [True, False]


def test_excel_cells_of_mixed_types():
    result = validate({"skus": pd.DataFrame({"sku": [1001, 1002.0, "C3"],
                                             "category": ["x", "y", "z"],
                                             "unit_cost": [2, "abc", 1.5]}, dtype=object)})
    assert result.tables["skus"]["sku"].tolist() == ["1001", "C3"]
    assert only(result, "skus", "unit_cost").rows == (3,)


# --- the contract's "Bad input" list ----------------------------------------------------------

def test_required_column_missing_makes_the_table_unusable():
    inv = {k: v for k, v in INVENTORY.items() if k != "sellable_units"}
    result = check(skus=SKUS, inventory=with_(inv, on_hand_units=["10", "abc"]))
    problem = only(result, "inventory", "sellable_units")
    assert problem.what == "Required column 'sellable_units' is missing."
    assert "map your header onto 'sellable_units'" in problem.fix
    assert "inventory" not in result.tables and "skus" in result.tables
    assert "sellable_units" in result.report.unusable["inventory"]
    assert only(result, "inventory", "on_hand_units").rows == (3,)  # still checked in the pass


def test_text_in_units():
    sales = {"date": ["2024-03-05"] * 3, "sku": ["A", "A", "B"], "warehouse": ["W1", "W2", "W1"],
             "units": ["3", "abc", "x1"], "gmv": ["1", "2", "3"]}
    result = check(sales=sales)
    problem = only(result, "sales", "units")
    assert (problem.rows, problem.n_rows) == ((3, 4), 2)
    assert problem.what == "2 rows have text in a number column (e.g. 'abc' in row 3)."
    assert problem.fix.startswith("Remove the text or map the right column; quantities must be "
                                  "numbers ≥ 0")
    assert result.report.rows_dropped["sales"] == 2
    assert result.tables["sales"]["units"].tolist() == [3.0]


def test_negative_next_to_text_in_one_column_both_reported():
    result = check(skus=SKUS, inventory=with_(INVENTORY, on_hand_units=["-1", "abc"],
                                              sellable_units=["0", "0"]))
    problems = [p for p in result.report.errors if p.column == "on_hand_units"]
    assert sorted((p.rows, p.what.split(" (")[0]) for p in problems) == [
        ((2,), "1 row has a negative value"), ((3,), "1 row has text in a number column")]
    assert "inventory" in result.report.unusable  # both rows dropped: nothing left


def test_negative_money_and_quantities():
    result = check(orders=with_(ORDERS, units=["-2", "1"], gmv=["10", "-0.5"]))
    assert only(result, "orders", "units").rows == (2,)
    gmv = only(result, "orders", "gmv")
    assert gmv.rows == (3,) and "-0.5 in row 3" in gmv.what and gmv.fix.startswith("Amounts")


def test_problems_carry_a_chinese_text():
    result = check(orders=with_(ORDERS, units=["-2", "1"]))
    problem = only(result, "orders", "units")
    assert problem.what == "1 row has a negative value (e.g. -2 in row 2)."
    assert problem.what("zh") == "1 行含有负值 (例如第 2 行的 -2)。"
    assert problem.fix.startswith("Quantities must be ≥ 0")
    assert problem.fix("zh").startswith("数量必须 ≥ 0")
    frame = result.report.to_frame(lang="zh")
    assert frame.columns.tolist() == ["表", "列", "行", "行数", "级别", "问题", "修正方法"]
    row = frame.iloc[0]
    assert (row["表"], row["列"], row["行"], row["级别"]) == ("orders", "units", "2", "错误")
    assert row["问题"] == problem.what("zh") and row["修正方法"] == problem.fix("zh")
    assert result.report.to_frame()["what"].tolist() == [str(problem.what)]  # English default
    assert "负值" in result.report.to_text(lang="zh") and "负值" not in result.report.to_text()
    again = pickle.loads(pickle.dumps(result.report))  # st.cache_data pickles the report
    assert again.problems[0].what("zh") == problem.what("zh")


def test_sellable_above_on_hand():
    result = check(inventory=with_(INVENTORY, sellable_units=["8", "6"]))
    problem = only(result, "inventory", "sellable_units")
    assert problem.rows == (3,)
    assert "row 3: sellable_units 6 > on_hand_units 5" in problem.what
    assert result.tables["inventory"]["sku"].tolist() == ["A"]


def test_duplicate_keys_keep_the_first():
    inv = {"date": ["2024-03-05"] * 4, "sku": ["A", "B", "A", "A "],
           "warehouse": ["W1"] * 4, "on_hand_units": ["1", "2", "3", "4"],
           "sellable_units": ["1", "2", "3", "4"]}
    result = check(inventory=inv)
    problem = only(result, "inventory", "date, sku, warehouse")
    assert (problem.rows, problem.n_rows) == ((4, 5), 2)
    assert "row 4 repeats row 2" in problem.what
    assert result.tables["inventory"]["on_hand_units"].tolist() == [1.0, 2.0]
    assert result.report.rows_dropped["inventory"] == 2


def test_received_after_snapshot_date():
    batches = {"date": ["2024-03-05", "2024-03-05"], "sku": ["A", "A"], "warehouse": ["W1"] * 2,
               "batch": ["L1", "L2"], "received_date": ["2024-03-05", "2024-03-06"],
               "units": ["1", "1"]}
    problem = only(check(batches=batches), "batches", "received_date")
    assert problem.rows == (3,) and "received_date after the snapshot date" in problem.what


def test_passed_above_inspected():
    inspections = {"lot_id": ["1", "2"], "supplier": ["s", "s"], "sku": ["A", "A"],
                   "date": ["2024-03-05"] * 2, "inspected_units": ["10", "10"],
                   "passed_units": ["10", "11"]}
    assert only(check(inspections=inspections), "inspections", "passed_units").rows == (3,)


def test_returns_checked_against_orders():
    returns = {"sub_order_id": ["s1", "s9", "s2"],
               "refund_date": ["2024-03-04", "2024-03-04", "2024-03-01"],
               "reason": ["Quality", "size", "other_code"]}
    result = check(orders=ORDERS, returns=returns)
    unknown = only(result, "returns", "sub_order_id")
    assert unknown.rows == (3,) and "'s9' in row 3" in unknown.what
    early = only(result, "returns", "refund_date", "warning")
    assert early.rows == (4,)  # s2 paid on 03-02, refunded 03-01: kept, but warned
    assert result.tables["returns"]["reason"].tolist() == ["quality", "other_code"]


def test_month_not_yyyy_mm():
    months = ["2024-03", "2024/4", "202405", "2024年6月", "2024-13", "March", "2024-03-01"]
    plans = {"sku": ["A"] * 7, "month": months, "version_month": ["2024-01"] * 7,
             "units": ["1"] * 7, "source": ["plan", "forecast", "Plan", "plan", "plan", "plan",
                                            "plan"]}
    result = check(plans=plans)
    problem = only(result, "plans", "month")
    assert (problem.rows, problem.n_rows) == ((6, 7, 8), 3)
    assert "not a month YYYY-MM" in problem.what and "'2024-13' in row 6" in problem.what
    assert result.tables["plans"]["month"].tolist() == ["2024-03", "2024-04", "2024-05", "2024-06"]


def test_month_from_excel_dates():
    plans = pd.DataFrame({"sku": ["A"], "month": [dt.datetime(2024, 3, 1)],
                          "version_month": [202402], "units": [1]})
    assert validate({"plans": plans}).tables["plans"][["month", "version_month"]].values.tolist() \
        == [["2024-03", "2024-02"]]


@pytest.mark.parametrize("frame", [pd.DataFrame(columns=["sku", "category", "unit_cost"]),
                                   pd.DataFrame()])
def test_empty_table(frame):
    result = validate({"skus": frame})
    problem = only(result, "skus", "")
    assert problem.what == "The table is empty (no data rows)."
    assert result.report.unusable == {"skus": "the table is empty"}
    assert not result.report.usable and result.tables == {}


def test_blank_in_required_column():
    result = check(skus=with_(SKUS, category=["x", "  "]))
    problem = only(result, "skus", "category")
    assert problem.rows == (3,) and "blank in a required column" in problem.what


# --- numbers, dates, booleans, codes ------------------------------------------------------------

def test_thousands_separators():
    costs = ["1,234.5", "1 234", "1\u00a0234", "2,000,000", "12,34", "1,2345", "1.5e3", "nan"]
    result = check(skus={"sku": list("ABCDEFGH"), "category": ["x"] * 8, "unit_cost": costs})
    assert result.tables["skus"]["unit_cost"].tolist() == [1234.5, 1234, 1234, 2e6, 1500]
    assert only(result, "skus", "unit_cost").rows == (6, 7, 9)


def test_int_column_rejects_fractions():
    skus = with_(SKUS, shelf_life_days=["30", "2.5"])
    problem = only(check(skus=skus), "skus", "shelf_life_days")
    assert problem.rows == (3,) and "fraction in a whole-number column" in problem.what


@pytest.mark.parametrize("text", ["2024-03-05", "2024-3-5", "2024/03/05", "20240305",
                                  "2024年3月5日", "05.03.2024", "2024-03-05 00:00:00",
                                  "2024/3/5 14:20"])
def test_each_date_format(text):
    result = check(sales={"date": [text], "sku": ["A"], "warehouse": ["W1"], "units": ["1"],
                          "gmv": ["1"]})
    assert result.report.ok, result.report.to_text()
    assert result.tables["sales"]["date"].tolist() == [pd.Timestamp("2024-03-05")]


def test_slash_dates_settled_by_a_day_above_12():
    dates = ["03/05/2024", "03/25/2024", "12/12/2024"]
    result = check(order_volume_plans={"date": dates, "warehouse": ["W1"] * 3,
                                       "version_date": ["25/02/2024", "01/03/2024", "01/12/2024"],
                                       "planned_orders": ["1", "2", "3"]})
    plans = result.tables["order_volume_plans"]
    assert plans["date"].dt.strftime("%m-%d").tolist() == ["03-05", "03-25", "12-12"]
    assert plans["version_date"].dt.strftime("%m-%d").tolist() == ["02-25", "03-01", "12-01"]


def test_ambiguous_day_month_is_reported_not_guessed():
    sales = {"date": ["03/05/2024", "04/06/2024", "07/07/2024"], "sku": ["A"] * 3,
             "warehouse": ["W1"] * 3, "units": ["1"] * 3, "gmv": ["1"] * 3}
    result = check(sales=sales)
    problem = only(result, "sales", "date")
    assert problem.rows == (2, 3)  # 07/07 reads the same either way
    assert "could be day/month or month/day" in problem.what and "DD/MM/YYYY" in problem.fix
    assert "sales" not in result.tables and "day/month" in result.report.unusable["sales"]
    chosen = validate({"sales": pd.DataFrame(sales)}, date_formats={"sales": {"date": "DD/MM/YYYY"}})
    assert chosen.tables["sales"]["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-05-03", "2024-06-04", "2024-07-07"]


def test_one_date_format_per_column():
    sales = {"date": ["2024-03-05", "2024-03-06", "2024/03/07", "2024-02-30"], "sku": list("ABCD"),
             "warehouse": ["W1"] * 4, "units": ["1"] * 4, "gmv": ["1"] * 4}
    problem = only(check(sales=sales), "sales", "date")
    assert problem.rows == (4, 5)
    assert "not a date in the column's format YYYY-MM-DD (e.g. '2024/03/07' in row 4)" in problem.what


def test_no_accepted_date_format():
    sales = {"date": ["March 5", "05-03-24"], "sku": ["A", "B"], "warehouse": ["W1"] * 2,
             "units": ["1"] * 2, "gmv": ["1"] * 2}
    problem = only(check(sales=sales), "sales", "date")
    assert problem.rows == (2, 3) and "an accepted format (YYYY-MM-DD" in problem.what


def test_unknown_date_format_choice():
    with pytest.raises(ValueError, match="'D/M/Y' .*DD/MM/YYYY"):
        validate({}, date_formats={"sales": {"date": "D/M/Y"}})


def test_excel_and_parquet_date_values():
    sales = pd.DataFrame({"date": [dt.datetime(2024, 3, 5, 9), dt.date(2024, 3, 6), "2024-03-07"],
                          "sku": ["A"] * 3, "warehouse": ["W1"] * 3, "units": [1] * 3,
                          "gmv": [1] * 3}, dtype=object)
    result = validate({"sales": sales})
    assert result.tables["sales"]["date"].dt.day.tolist() == [5, 6, 7]


def test_dates_beyond_2261_are_reported():
    batches = pd.DataFrame({"date": ["2024-03-05"] * 2, "sku": ["A", "B"], "warehouse": ["W1"] * 2,
                            "batch": ["L1", "L2"], "received_date": ["2024-03-01"] * 2,
                            "units": ["1", "1"],
                            "expiry_date": [dt.date(9999, 12, 31), dt.date(2025, 1, 1)]})
    result = validate({"batches": batches})
    problem = only(result, "batches", "expiry_date")
    assert problem.rows == (2,) and "outside the years 1678–2261" in problem.what
    assert result.tables["batches"]["expiry_date"].tolist() == [pd.Timestamp("2025-01-01")]


def test_nullable_and_arrow_numbers():
    sales = pd.DataFrame({"date": ["2024-03-05", "2024-03-06"], "sku": ["A", "A"],
                          "warehouse": ["W1", "W1"],
                          "units": pd.array([1, None], dtype="Int64"),
                          "gmv": pd.array([1.5, 2.0], dtype="double[pyarrow]")})
    result = validate({"sales": sales})
    assert only(result, "sales", "units").rows == (3,)  # blank in a required column
    assert result.tables["sales"]["gmv"].tolist() == [1.5]


def test_booleans():
    texts = ["true", "FALSE", "1", "0", "Yes", "no", "Y", "n", "是", "否", "", "maybe"]
    sales = {"date": pd.date_range("2024-03-01", periods=12).strftime("%Y-%m-%d"),
             "sku": ["A"] * 12, "warehouse": ["W1"] * 12, "units": ["1"] * 12, "gmv": ["1"] * 12,
             "promo": texts}
    result = check(sales=sales)
    assert result.tables["sales"]["promo"].tolist() == [True, False] * 5 + [False]
    problem = only(result, "sales", "promo")
    assert problem.rows == (13,) and "'maybe'" in problem.what and "是/否" in problem.fix


def test_codes_are_trimmed_and_cased():
    skus = with_(SKUS, abc_class=["a", " B "], lifecycle=[" Active ", "PHASE_OUT"])
    result = check(skus=skus)
    assert result.tables["skus"]["abc_class"].tolist() == ["A", "B"]
    assert result.tables["skus"]["lifecycle"].tolist() == ["active", "phase_out"]
    bad = check(skus=with_(SKUS, abc_class=["F", "A"]))
    problem = only(bad, "skus", "abc_class")
    assert problem.rows == (2,) and "'F'" in problem.what and "A, B, C, D, E" in problem.fix


def test_status_and_rating_bounds():
    suppliers = {"supplier": ["s1", "s2", "s3"], "tier": ["Brand", "", "reseller"],
                 "rating": ["80", "120", ""]}
    result = check(suppliers=suppliers)
    assert only(result, "suppliers", "rating").rows == (3,)
    assert only(result, "suppliers", "tier").rows == (4,)
    assert result.tables["suppliers"]["tier"].tolist() == ["brand"]


# --- warnings, cost-based values, cleaning ------------------------------------------------------

def test_unknown_sku_and_warehouse_are_warnings():
    inv = with_(INVENTORY, sku=["A", "Z"], warehouse=["W1", "W9"])
    orders = with_(ORDERS, warehouse=["W1", ""])
    result = check(skus=SKUS, warehouses=WAREHOUSES, inventory=inv, orders=orders)
    assert only(result, "inventory", "sku", "warning").rows == (3,)
    assert only(result, "inventory", "warehouse", "warning").rows == (3,)
    assert not [p for p in result.report.problems if p.table == "orders"]
    assert result.report.ok and len(result.tables["inventory"]) == 2
    assert np.isnan(result.tables["inventory"]["value"].iloc[1])  # no unit_cost for Z


def test_batch_values_at_cost_and_without_skus():
    batches = {"date": ["2024-03-05"] * 2, "sku": ["A", "B"], "warehouse": ["W1"] * 2,
               "batch": ["L1", "L2"], "received_date": ["2024-03-01"] * 2, "units": ["4", "2"],
               "value": ["", "100"]}
    assert check(skus=SKUS, batches=batches).tables["batches"]["value"].tolist() == [8.0, 100.0]
    alone = check(batches=batches)
    assert alone.tables["batches"]["value"].isna().tolist() == [True, False]
    assert only(alone, "batches", "value", "warning").rows == (2,)


def test_batches_that_do_not_reconcile_with_inventory():
    batches = {"date": ["2024-03-05"] * 3, "sku": ["A", "A", "B"], "warehouse": ["W1"] * 3,
               "batch": ["L1", "L2", "L3"], "received_date": ["2024-03-01"] * 3,
               "units": ["6", "3.95", "4"]}  # A: 9.95 vs 10 (within 1%), B: 4 vs 5
    result = check(inventory=INVENTORY, batches=batches)
    problem = only(result, "batches", "units", "warning")
    assert problem.rows == (4,)
    assert "B in W1: batches 4 vs on hand 5" in problem.what


def test_blank_rows_are_skipped_and_counted():
    skus = {"sku": ["A", "", "B", " "], "category": ["x", "", "y", ""],
            "unit_cost": ["1", "", "-2", ""]}
    result = check(skus=skus)
    assert only(result, "skus", "", "warning").rows == (3, 5)
    assert only(result, "skus", "unit_cost").rows == (4,)  # row numbers still match the file
    assert result.report.rows_read["skus"] == 4 and result.report.rows_dropped["skus"] == 3


def test_extra_columns_are_kept_with_a_warning():
    result = check(skus=with_(SKUS, brand=["p", "q"]))
    assert result.tables["skus"]["brand"].tolist() == ["p", "q"]
    assert "'brand'" in only(result, "skus", "", "warning").what


def test_unknown_table_is_a_warning():
    result = check(skus=SKUS, stock={"a": ["1"]})
    assert "'stock' is not a contract table" in only(result, "stock", "", "warning").what
    assert list(result.tables) == ["skus"]


# --- the report ----------------------------------------------------------------------------------

def test_report_frame_text_and_flags():
    units = [str(-i) for i in range(1, 14)]
    sales = {"date": pd.date_range("2024-03-01", periods=14).strftime("%Y-%m-%d"),
             "sku": ["Z"] * 14, "warehouse": ["W1"] * 14, "units": units + ["1"],
             "gmv": ["1"] * 14}
    report = check(skus=SKUS, sales=sales).report
    assert not report.ok and report.usable
    assert [p.column for p in report.errors] == ["units"]
    assert [p.column for p in report.warnings] == ["sku"]
    frame = report.to_frame()
    assert frame.columns.tolist() == ["table", "column", "rows", "n_rows", "severity", "what",
                                      "fix"]
    assert frame.loc[0, "rows"] == "2, 3, 4, 5, 6, 7, 8, 9, 10, 11 … (+3 more)"
    assert frame.loc[0, "n_rows"] == 13
    text = report.to_text()
    assert text.startswith("1 error, 1 warning")
    assert "sales: 14 rows read, 13 dropped" in text
    assert "ERROR [units, rows 2, 3" in text and "WARNING [sku, rows 15]" in text


def test_many_problems_in_one_pass_across_tables():
    result = check(skus=with_(SKUS, unit_cost=["x", "1"]),
                   inventory=with_(INVENTORY, date=["2024-03-05", "someday"]),
                   plans={"sku": ["A"], "month": ["13/2024"], "version_month": ["2024-01"],
                          "units": ["1"]})
    assert {(p.table, p.column) for p in result.report.errors} == {
        ("skus", "unit_cost"), ("inventory", "date"), ("plans", "month")}


def test_150k_rows_validate():
    n = 150_000
    days = pd.date_range("2024-01-01", periods=100).strftime("%Y-%m-%d")
    inventory = pd.DataFrame({"date": np.repeat(days, n // 100),
                              "sku": np.tile([f"S{i}" for i in range(n // 100)], 100),
                              "warehouse": "W1", "on_hand_units": "1,000",
                              "sellable_units": "5"})
    result = validate({"inventory": inventory})
    assert result.report.ok and len(result.tables["inventory"]) == n
    assert result.tables["inventory"]["on_hand_units"].eq(1000.0).all()


# --- engines: polars and DuckDB report the same problems ---------------------------------------

BAD_FILES = {
    "skus.csv": "sku,category,unit_cost,abc_class\nA,x,2,A\nB,y,abc,F\nC,z,\"1,500\",b\n",
    "warehouses.csv": "warehouse,region\nW1,east\n",
    "inventory.csv": ("date,sku,warehouse,on_hand_units,sellable_units\n"
                      "2024-03-05,A,W1,10,8\n2024-03-05,B,W1,5,6\n2024-03-05,A,W1,1,1\n"
                      "2024-03-06,Z,W9,-1,0\n,,,,\n2024-02-30,C,W1,3,3\n"),
    "orders.csv": ("sub_order_id,order_id,paid_date,sku,units,gmv\n"
                   "s1,o1,2024-03-01,A,1,10\ns2,o1,2024-03-02,B,2.5,20\n"),
    "returns.csv": ("sub_order_id,refund_date,reason\ns1,2024-03-04,quality\n"
                    "s9,2024-03-04,size\ns2,2024-03-01,other\n"),
    "plans.csv": "sku,month,version_month,units\nA,2024-13,2024-01,1\nB,2024年6月,202401,2\n",
    "order_volume_plans.csv": ("date,warehouse,version_date,planned_orders\n"
                               "03/05/2024,W1,2024-01-01,1\n04/06/2024,W1,2024-01-01,2\n"),
}


def _problems(result: ValidatedTables) -> list[tuple]:
    return [(p.table, p.column, p.rows, p.n_rows, str(p.what), p.severity)
            for p in result.report.problems]


def write_bad_files(folder, form: str) -> None:
    """The bad-input files as CSV, or as Parquet with the text cells kept as text (the same bad
    cells), for the tests that compare engines."""
    import polars as pl

    for name, text in BAD_FILES.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        if form == "parquet":
            pl.read_csv(path, infer_schema=False).write_parquet(path.with_suffix(".parquet"))
            path.unlink()


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_duckdb_and_polars_report_the_same_problems(tmp_path, form):
    import duckdb
    import polars as pl

    from kpilab.reading import read_dataset

    write_bad_files(tmp_path, form)
    on_polars = validate(read_dataset(tmp_path, engine="polars").tables)
    on_duckdb = validate(read_dataset(tmp_path, engine="duckdb").tables)
    assert _problems(on_duckdb) == _problems(on_polars)
    assert on_duckdb.report.rows_dropped == on_polars.report.rows_dropped
    assert on_duckdb.report.unusable == on_polars.report.unusable
    # worked by hand: inventory rows 3 (sellable 6 > 5), 4 (repeats row 2), 5 (-1), 6 (blank,
    # skipped), 7 (2024-02-30) are dropped, which leaves row 2 only.
    assert on_polars.report.rows_dropped["inventory"] == 5
    assert only(on_polars, "inventory", "date, sku, warehouse").rows == (4,)
    assert only(on_polars, "inventory", "date").rows == (7,)
    assert only(on_polars, "skus", "unit_cost").rows == (3,)  # '1,500' reads as 1500
    assert only(on_polars, "skus", "abc_class").rows == (3,)  # F; b reads as B
    assert only(on_polars, "returns", "sub_order_id").rows == (3,)
    assert only(on_polars, "returns", "refund_date", "warning").rows == (4,)
    assert only(on_polars, "inventory", "sellable_units").rows == (3, 5)  # 6 > 5, 0 > -1
    assert not [p for p in on_polars.report.problems if p.table == "orders"]
    assert only(on_polars, "plans", "month").rows == (2,)
    assert "order_volume_plans" in on_polars.report.unusable  # 03/05 vs 05/03: not guessed
    assert isinstance(on_polars.tables["skus"], pl.DataFrame)
    assert isinstance(on_duckdb.tables["skus"], duckdb.DuckDBPyRelation)
    assert sorted(on_duckdb.tables["inventory"].pl()["on_hand_units"].to_list()) == [10.0]
    assert on_polars.tables["skus"]["unit_cost"].to_list() == [2.0, 1500.0]


# --- backorders (issue 12) ---------------------------------------------------------------------

BACKORDERS = {"sub_order_id": ["s1", "s2"], "backordered_units": ["1", "1.5"],
              "backorder_date": ["2024-03-01", "2024-03-03"],
              "promised_date": ["2024-03-10", "2024-03-12"],
              "shipped_date": ["2024-03-08", ""], "cancelled_date": ["", ""]}


def test_clean_backorders_are_typed_with_blank_dates_empty():
    result = check(orders=ORDERS, backorders=BACKORDERS)
    assert result.report.ok and result.report.problems == []
    table = result.tables["backorders"]
    assert table["backordered_units"].tolist() == [1.0, 1.5]
    assert table["shipped_date"].tolist()[0] == pd.Timestamp("2024-03-08")
    assert table["shipped_date"].isna().tolist() == [False, True]
    assert table["cancelled_date"].isna().all()


def test_backorders_checked_against_their_orders():
    # s1: 1 unit ordered, paid 03-01; s2: 2 units, paid 03-02 (ORDERS)
    bad = {"sub_order_id": ["s1", "s2", "s9", "s1x", "s2"],
           "backordered_units": ["2", "0", "1", "1", "-1"],
           "backorder_date": ["2024-03-01", "2024-03-01", "2024-03-05", "2024-03-05", "2024-03-05"],
           "promised_date": ["2024-03-09"] * 5,
           "shipped_date": ["", "", "", "2024-03-06", ""],
           "cancelled_date": ["", "", "", "2024-03-07", ""]}
    result = check(orders=ORDERS, backorders=bad)
    problems = {(p.column, p.rows) for p in result.report.errors}
    assert ("backordered_units", (2,)) in problems            # 2 > 1 unit ordered
    assert ("backordered_units", (3,)) in problems            # zero
    assert ("backordered_units", (6,)) in problems            # negative
    assert ("backorder_date", (3,)) in problems               # 03-01 before s2's payment 03-02
    assert ("cancelled_date", (5,)) in problems               # both shipped and cancelled
    unknown = [p for p in result.report.errors if "not in orders" in p.what]
    assert [p.rows for p in unknown] == [(4, 5)] and "'s9' in row 4" in unknown[0].what
    assert ("sub_order_id", (6,)) in problems                 # row 6 repeats s2's key
    over = [p for p in result.report.errors if p.column == "backordered_units" and p.rows == (2,)][0]
    assert "2 > 1" in over.what and "2 > 1" in over.what("zh")
    # s2 (row 6) repeats the key of row 3, and every row broke a rule: nothing is usable
    assert result.report.rows_dropped["backorders"] == 5
    assert "backorders" in result.report.unusable


def test_unknown_oos_policy_is_an_error_and_blank_is_none():
    skus = with_(SKUS, oos_policy=["Backorderable", "maybe"])
    problem = only(check(skus=skus), "skus", "oos_policy")
    assert problem.rows == (3,) and "'maybe'" in problem.what
    assert check(skus=with_(SKUS, oos_policy=["", "substitutable"])).tables["skus"][
        "oos_policy"].tolist() == ["none", "substitutable"]
    assert check(skus=SKUS).tables["skus"]["oos_policy"].tolist() == ["none", "none"]


# --- the fast paths (issue 10, part 3): the same report from fewer passes ------------------------

def _on(engine: str, tables: dict, **options) -> ValidatedTables:
    """Validate hand-made text tables as polars frames or as DuckDB relations (rows numbered in
    scan order)."""
    import duckdb
    import polars as pl

    frames = {name: pl.DataFrame(columns) for name, columns in tables.items()}
    if engine == "duckdb":
        con = duckdb.connect()
        frames = {name: con.from_arrow(frame.to_arrow()) for name, frame in frames.items()}
    return validate(frames, **options)


def _rows(table, column: str) -> list:
    import duckdb

    frame = table.pl() if isinstance(table, duckdb.DuckDBPyRelation) else table
    return sorted(frame[column].to_list())


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_repeated_keys_found_within_groups_of_dates(engine):
    # (A, W1) has 3 dated rows on 2 dates, so row 4 repeats row 2; B's rows are on 2 dates;
    # row 7 has no date: a blank in a required column, not a repeat
    inv = {"date": ["2024-03-05", "2024-03-06", "2024-03-05", "2024-03-05", "2024-03-06", ""],
           "sku": ["A", "A", "A", "B", "B", "A"], "warehouse": ["W1"] * 6,
           "on_hand_units": ["1", "2", "3", "4", "5", "6"], "sellable_units": ["0"] * 6}
    result = _on(engine, {"inventory": inv})
    repeat = only(result, "inventory", "date, sku, warehouse")
    assert (repeat.rows, repeat.n_rows) == ((4,), 1) and "row 4 repeats row 2" in repeat.what
    assert only(result, "inventory", "date").rows == (7,)
    assert result.report.rows_dropped["inventory"] == 2
    assert _rows(result.tables["inventory"], "on_hand_units") == [1.0, 2.0, 4.0, 5.0]
    no_repeat = {column: values[:2] + values[3:5] for column, values in inv.items()}
    assert [p.column for p in _on(engine, {"inventory": no_repeat}).report.problems] == [
        "value"]  # no skus to value the rows at cost: the only warning


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_iso_dates_with_a_few_other_texts(engine):
    # YYYY-MM-DD fits 3 cells (2024-3-6 too), YYYY/MM/DD 1, and 2024-02-30 is no day: the
    # column's format is YYYY-MM-DD, rows 4 and 5 are reported, the others keep their order
    sales = {"date": ["2024-03-09", "2024-03-05", "2024/03/07", "2024-02-30", "2024-3-6"],
             "sku": list("ABCDE"), "warehouse": ["W1"] * 5, "units": ["1"] * 5, "gmv": ["1"] * 5}
    result = _on(engine, {"sales": sales})
    problem = only(result, "sales", "date")
    assert (problem.rows, problem.n_rows) == ((4, 5), 2)
    assert "the column's format YYYY-MM-DD (e.g. '2024/03/07' in row 4)" in problem.what
    table = result.tables["sales"]
    if engine == "polars":  # dates mapped in place: the table keeps the file's order
        assert table["sku"].to_list() == ["A", "B", "E"]
        assert [f"{d:%m-%d}" for d in table["date"].to_list()] == ["03-09", "03-05", "03-06"]
    assert [f"{d:%m-%d}" for d in _rows(table, "date")] == ["03-05", "03-06", "03-09"]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_chosen_format_reports_iso_cells(engine):
    # DD/MM/YYYY chosen: 2024-03-06 is a date, but not in the column's format
    sales = {"date": ["05/03/2024", "2024-03-06"], "sku": ["A", "B"], "warehouse": ["W1"] * 2,
             "units": ["1"] * 2, "gmv": ["1"] * 2}
    result = _on(engine, {"sales": sales}, date_formats={"sales": {"date": "DD/MM/YYYY"}})
    problem = only(result, "sales", "date")
    assert problem.rows == (3,) and "the column's format DD/MM/YYYY" in problem.what
    assert [f"{d:%Y-%m-%d}" for d in _rows(result.tables["sales"], "date")] == ["2024-03-05"]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_codes_missing_from_masters_counted_on_the_rows_kept(engine):
    # C (twice) and W9 are unknown; row 5's C also has a negative quantity: dropped, not counted
    skus = {"sku": ["A", "B"], "category": ["x", "y"], "unit_cost": ["2", "3"]}
    sales = {"date": ["2024-03-05", "2024-03-05", "2024-03-06", "2024-03-07"],
             "sku": ["A", "C", "C", "C"], "warehouse": ["W1", "W1", "W9", "W1"],
             "units": ["1", "1", "1", "-1"], "gmv": ["1"] * 4}
    result = _on(engine, {"skus": skus, "warehouses": WAREHOUSES, "sales": sales})
    sku = only(result, "sales", "sku", "warning")
    assert (sku.rows, sku.n_rows) == ((3, 4), 2) and "(1 distinct, e.g. 'C' in row 3)" in sku.what
    warehouse = only(result, "sales", "warehouse", "warning")
    assert (warehouse.rows, warehouse.n_rows) == ((4,), 1)
    assert only(result, "sales", "units").rows == (5,)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_values_at_cost_only_where_blank(engine):
    # row 2 has a value (kept as it is), row 3 none: 5 units × B's unit_cost 3 = 15
    skus = {"sku": ["A", "B"], "category": ["x", "y"], "unit_cost": ["2", "3"]}
    inv = with_(INVENTORY, value=["7", ""])
    result = _on(engine, {"skus": skus, "inventory": inv})
    assert result.report.problems == []
    assert _rows(result.tables["inventory"], "value") == [7.0, 15.0]
