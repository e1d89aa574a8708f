"""Column mapping: suggestion from headers, applying, saving and loading; wide files; presets."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import narwhals.stable.v2 as nw
import pandas as pd
import polars as pl
import pytest

from kpilab.dataset import load_dataset
from kpilab.mapping import (ColumnMapping, MappingError, WideSpec, lag_of_header, load_preset,
                            month_of_header, preset_names, save_preset, suggest, user_presets_dir)
from kpilab.reading import ROW, RawDataset, read_dataset
from kpilab.validation import validate


def _pd(frame) -> pd.DataFrame:
    """Any table (pandas, polars, eager or lazy) as pandas, for the checks."""
    return nw.from_native(frame).lazy().collect().to_pandas()


def _raw(**headers: list[str]) -> RawDataset:
    return RawDataset({t: pd.DataFrame(columns=h) for t, h in headers.items()})


def test_suggest_maps_chinese_headers_per_table():
    raw = _raw(inventory=["日期", "SKU编码", "仓库", "在库件数", "可售件数"],
               plans=["商品编码", "月份", "版本月", "计划量"],
               sales=["日期", "SKU编码", "仓库", "销量", "GMV", "计划量"],
               returns=["子订单号", "退款日期", "退款原因", "评论"],
               orders=["子订单号", "订单号", "支付日期", "sku", "销售件数", "销售额"])
    tables = suggest(raw).tables
    assert tables["inventory"] == {"日期": "date", "SKU编码": "sku", "仓库": "warehouse",
                                   "在库件数": "on_hand_units", "可售件数": "sellable_units"}
    assert tables["plans"] == {"商品编码": "sku", "月份": "month", "版本月": "version_month",
                               "计划量": "units"}
    assert tables["sales"] == {"日期": "date", "SKU编码": "sku", "仓库": "warehouse",
                               "销量": "units", "GMV": "gmv"}  # 计划量 means units only in plans
    assert tables["returns"] == {"子订单号": "sub_order_id", "退款日期": "refund_date",
                                 "退款原因": "reason", "评论": "comment"}
    assert tables["orders"] == {"子订单号": "sub_order_id", "订单号": "order_id",
                                "支付日期": "paid_date", "销售件数": "units", "销售额": "gmv"}


def test_suggest_ignores_case_spaces_and_underscores():
    raw = _raw(skus=["SKU", "Category ", "Unit Cost", "shelf-life days", "ABC_Class"])
    assert suggest(raw).tables["skus"] == {"SKU": "sku", "Category ": "category",
                                           "Unit Cost": "unit_cost",
                                           "shelf-life days": "shelf_life_days",
                                           "ABC_Class": "abc_class"}


def test_suggest_never_maps_two_headers_onto_one_column():
    raw = _raw(skus=["sku", "SKU编码", "成本", "Unit_Cost", "单位成本"],
               warehouses=["warehouse", "region"])
    tables = suggest(raw).tables
    assert tables == {"skus": {"Unit_Cost": "unit_cost"}}  # exact names and near-exact win


def test_apply_renames_and_notes_missing_headers():
    raw = RawDataset({"skus": pd.DataFrame({"SKU编码": ["A"], "类目": ["x"]})},
                     {"skus": "skus.csv"}, ["earlier note"])
    mapped = ColumnMapping({"skus": {"SKU编码": "sku", "类目": "category", "成本": "unit_cost"},
                            "sales": {"日期": "date"}}).apply(raw)
    assert mapped.tables["skus"].columns.tolist() == ["sku", "category"]
    assert mapped.notes == ["earlier note", "skus: mapped header '成本' is not in the file, ignored."]
    assert raw.tables["skus"].columns.tolist() == ["SKU编码", "类目"]  # input untouched
    assert mapped.sources == raw.sources


def test_apply_refuses_a_mapping_onto_an_existing_column():
    raw = RawDataset({"skus": pd.DataFrame({"sku": ["A"], "SKU编码": ["B"]})})
    with pytest.raises(MappingError, match=r"'SKU编码' is mapped onto 'sku'.*already has"):
        ColumnMapping({"skus": {"SKU编码": "sku"}}).apply(raw)
    swapped = ColumnMapping({"skus": {"SKU编码": "sku", "sku": "category"}}).apply(raw)
    assert swapped.tables["skus"].columns.tolist() == ["category", "sku"]


def test_invalid_mappings_name_both_sides():
    with pytest.raises(MappingError, match=r"'件数' is mapped onto 'qty'.*not a column of sales"):
        ColumnMapping({"sales": {"件数": "qty"}})
    with pytest.raises(MappingError, match=r"'销量' and '件数' are both mapped onto 'units'"):
        ColumnMapping({"sales": {"销量": "units", "件数": "units"}})
    with pytest.raises(MappingError, match="'stock'.*not in the contract"):
        ColumnMapping({"stock": {"a": "sku"}})


def test_json_round_trip_and_files(tmp_path):
    mapping = ColumnMapping({"sales": {"日期": "date", "SKU编码": "sku"}, "skus": {"成本": "unit_cost"}})
    text = mapping.to_json()
    assert "日期" in text  # readable, not \\u escapes
    assert ColumnMapping.from_json(text) == mapping
    path = tmp_path / "mapping.json"
    mapping.save(path)
    assert ColumnMapping.load(path) == mapping


@pytest.mark.parametrize("text", ["not json", "[]", '{"tables": {"sales": ["date"]}}',
                                  '{"tables": {"sales": {"日期": 3}}}'])
def test_from_json_rejects_other_files(text):
    with pytest.raises(MappingError, match="Not a saved column mapping"):
        ColumnMapping.from_json(text)


def test_from_json_still_checks_targets():
    with pytest.raises(MappingError, match="'qty'"):
        ColumnMapping.from_json('{"version": 1, "tables": {"sales": {"件数": "qty"}}}')


def test_gbk_upload_with_chinese_headers_end_to_end():
    """Read a GBK file, accept the suggested mapping, and validate it without errors."""
    data = ("日期,SKU编码,仓库,销量,销售额\n2024年3月5日,甲001,华东仓,3,\"1,234.5\"\n"
            "2024年3月6日,甲001,华东仓,2,99\n").encode("gbk")
    raw = read_dataset([("sales.csv", data)])
    result = validate(suggest(raw).apply(raw).tables)
    assert result.report.ok, result.report.to_text()
    sales = _pd(result.tables["sales"])
    assert sales["date"].dt.day.tolist() == [5, 6]
    assert sales["gmv"].tolist() == [1234.5, 99.0]
    assert sales["warehouse"].tolist() == ["华东仓", "华东仓"]


# --- wide files ---------------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("header, month", [
    ("2024-03", "2024-03"), ("2024/3", "2024-03"), ("202403", "2024-03"), ("2024.03", "2024-03"),
    ("2024年3月", "2024-03"), (" 2024 年 3 月 ", "2024-03"), ("2024-03-01", "2024-03"),
    ("2024-03-01 00:00:00", "2024-03"), ("Mar 2024", "2024-03"), ("March-24", "2024-03"),
    ("2024-13", None), ("20240301", None), ("Total", None), ("合计", None), ("M+1", None)])
def test_month_headers(header, month):
    assert month_of_header(header) == month


@pytest.mark.parametrize("header, lag", [
    ("M+1", 1), ("m + 2", 2), ("M-1", 1), ("lag 3", 3), ("Lag12", 12), ("L0", 0), ("h6", 6),
    ("提前1个月", 1), ("M+", None), ("2024-03", None), ("units", None)])
def test_horizon_headers(header, lag):
    assert lag_of_header(header) == lag


def _rows(frame) -> set[tuple]:
    return set(_pd(frame).itertuples(index=False, name=None))


def test_plan_sheet_by_month_with_the_bundled_preset():
    """甲001: 30 in March, 40 in April; 乙002: blank March (no row), 6 in April; 合计 is left out."""
    raw = read_dataset(FIXTURES / "plan_sheet_wide")
    mapped = load_preset("plan-sheet-wide-zh").mapping.apply(raw)
    plans = mapped.tables["plans"]
    assert _pd(plans).columns.tolist() == ["sku", "month", "version_month", "source", "units"]
    assert _rows(plans) == {("甲001", "2024-03", "2024年2月", "plan", "30"),
                            ("甲001", "2024-04", "2024年2月", "plan", "40"),
                            ("乙002", "2024-04", "2024年2月", "plan", "6")}
    assert mapped.notes[-1] == ("plans: 2 month columns (2024年3月 … 2024年4月) turned into 3 rows; "
                                "1 blank cells give no row; columns left out: 合计. Row numbers in "
                                "the validation report count these rows.")
    assert mapped.notes[-1].zh.startswith("plans: 2 个月份列")
    typed = validate(mapped.tables)
    assert typed.report.ok, typed.report.to_text()
    assert _pd(typed.tables["plans"])["units"].sum() == 76
    assert set(_pd(typed.tables["plans"])["version_month"]) == {"2024-02"}


@pytest.mark.parametrize("lazy", [False, True])
def test_forecast_tool_by_horizon_on_pandas_and_lazy_polars(lazy):
    """Run month + horizon = month: A run in 2024-01 with M+1 = 10, M+2 = 12 (M+3 blank) …"""
    raw = read_dataset(FIXTURES / "forecast_wide")
    mapping = load_preset("forecast-tool-wide").mapping
    assert mapping.apply(replace(raw, tables={})).tables == {}  # no plans: nothing to reshape
    renamed = _pd(raw.tables["plans"]).rename(columns=mapping.tables["plans"])
    source = pl.from_pandas(renamed).lazy() if lazy else renamed
    long, note = mapping.wide["plans"].reshape(source, "plans")
    assert isinstance(long, pl.LazyFrame if lazy else pd.DataFrame)
    assert _rows(long) == {("A", "2024-02", "2024-01", "forecast", "10"),
                           ("A", "2024-03", "2024-01", "forecast", "12"),
                           ("B", "2024-02", "2024-01", "forecast", "5"),
                           ("A", "2024-03", "2024-02", "forecast", "11"),
                           ("A", "2024-04", "2024-02", "forecast", "9"),
                           ("A", "2024-05", "2024-02", "forecast", "8")}
    assert "3 horizon columns (M+1 … M+3) turned into 6 rows; 3 blank cells" in note
    assert "columns left out: Total" in note


def test_horizon_counted_back_from_the_month_across_a_year():
    """A month column and M-1/M-2 columns: version_month = month − lag (2024-01 − 2 = 2023-11)."""
    frame = pd.DataFrame({"sku": ["A"], "month": ["2024-01"], "M-1": ["5"], "M-2": ["4"]})
    long, _ = WideSpec("horizon").reshape(frame, "plans")
    assert _rows(long) == {("A", "2024-01", "2023-12", "5"), ("A", "2024-01", "2023-11", "4")}


def test_wide_sales_suggested_and_turned_into_monthly_rows():
    """Sales with one column per month: units on the month's first day; the blank cell gives no row."""
    raw = read_dataset(FIXTURES / "wide_sales")
    mapping = suggest(raw)
    assert mapping.tables == {"sales": {"SKU编码": "sku", "仓库": "warehouse"}}
    assert mapping.wide == {"sales": WideSpec("month", "units")}
    sales = mapping.apply(raw).tables["sales"]
    assert _pd(sales).columns.tolist() == ["date", "sku", "warehouse", "units"]
    assert _rows(sales) == {("2024-01-01", "甲001", "华东仓", "5"), ("2024-02-01", "甲001", "华东仓", "7"),
                            ("2024-01-01", "甲001", "华南仓", "1"), ("2024-02-01", "甲001", "华南仓", "0"),
                            ("2024-03-01", "甲001", "华南仓", "2")}


def test_suggest_proposes_a_horizon_reshape_only_without_a_month_column():
    raw = _raw(plans=["SKU编码", "版本月", "M+1", "M+2"],
               sales=["日期", "SKU编码", "仓库", "销量", "销售额", "2024-01", "2024-02"])
    mapping = suggest(raw)
    assert mapping.wide == {"plans": WideSpec("horizon")}  # sales already has a date column
    assert suggest(_raw(plans=["sku", "month", "M+1", "M+2"])).wide == {}  # not a horizon: month given


@pytest.mark.parametrize("frame, spec, message", [
    (pd.DataFrame({"sku": ["A"], "version_month": ["2024-01"], "2024-01": ["1"], "2024-13": ["2"]}),
     WideSpec(), r"column '2024-13' looks like a month but cannot be read"),
    (pd.DataFrame({"sku": ["A"], "Total": ["1"]}), WideSpec(), r"no month column found.*sku, Total"),
    (pd.DataFrame({"sku": ["A"], "M+1": ["1"], "M+2": ["2"]}), WideSpec("horizon"),
     r"horizon columns \(M\+1, M\+2 …\) count from a version_month"),
    (pd.DataFrame({"sku": ["A"], "version_month": ["soon"], "M+1": ["1"]}), WideSpec("horizon"),
     r"version_month 'soon' is not a month"),
    (pd.DataFrame({"sku": ["A"], "month": ["2024-01"], "2024-02": ["1"]}), WideSpec(),
     r"already has a column 'month'"),
    (pd.DataFrame({"sku": ["A"], "source": ["plan"], "2024-02": ["1"]}),
     WideSpec(constants={"source": "forecast"}), r"already has a column 'source'"),
])
def test_wide_errors_name_the_column(frame, spec, message):
    with pytest.raises(MappingError, match=message):
        spec.reshape(frame, "plans")


@pytest.mark.parametrize("table, spec, message", [
    ("skus", WideSpec(), "only plans and sales can be read from a wide file"),
    ("sales", WideSpec("horizon"), "kind 'horizon' are not known; use 'month'"),
    ("plans", WideSpec(value="qty"), r"'qty' cannot be filled.*columns: sku, version_month"),
    ("plans", WideSpec(constants={"month": "2024-01"}), "'month' cannot be filled"),
    ("plans", WideSpec(constants={"units": "1"}), "'units' is both the cells' column and a constant"),
])
def test_invalid_wide_specs_are_refused_when_built(table, spec, message):
    with pytest.raises(MappingError, match=message):
        ColumnMapping({}, {table: spec})


def test_wide_json_round_trip_and_bad_specs():
    mapping = ColumnMapping({"plans": {"Item": "sku"}},
                            {"plans": WideSpec("horizon", "units", {"source": "forecast"})})
    assert ColumnMapping.from_json(mapping.to_json()) == mapping
    assert '"wide"' not in ColumnMapping({"sales": {"日期": "date"}}).to_json()
    for wide in ('{"plans": {"kind": "month", "lag": 1}}', '{"plans": ["month"]}',
                 '{"plans": {"constants": {"source": 1}}}'):
        with pytest.raises(MappingError, match="Not a saved column mapping") as info:
            ColumnMapping.from_json(f'{{"version": 1, "tables": {{}}, "wide": {wide}}}')
        assert info.value.args[0].zh.startswith("不是已保存的列映射")


# --- presets ------------------------------------------------------------------------------------

def test_bundled_presets_are_listed_and_valid(tmp_path):
    names = preset_names(tmp_path / "none")
    assert names == [("erp-sales-zh", True), ("forecast-tool-wide", True),
                     ("plan-sheet-wide-zh", True)]
    for name, _ in names:
        preset = load_preset(name, tmp_path)
        assert preset.bundled and preset.description and preset.description_zh != preset.description


def test_erp_sales_preset_reads_the_gbk_export_end_to_end():
    """Sales: 3 + 0 + 2 = 5 units, 1,200.5 + 0 + 800 = 2,000.5 GMV; 是否促销 是 → promo."""
    preset = load_preset("erp-sales-zh")
    ds = load_dataset(FIXTURES / "erp_sales_zh", mapping=preset.mapping)
    assert not ds.report.errors, ds.report.to_text()
    sales = _pd(ds.tables["sales"])
    assert sales["units"].sum() == 5 and sales["gmv"].sum() == 2000.5
    assert sales["promo"].tolist() == [True, False, False]
    assert _pd(ds.tables["skus"]).set_index("sku")["unit_cost"].to_dict() == {"甲001": 250, "乙002": 40}
    assert any("'浏览量' is not in the file" in n for n in ds.notes)  # optional header absent


def test_save_list_load_and_overwrite_user_presets(tmp_path, monkeypatch):
    monkeypatch.setenv("KPILAB_MAPPINGS", str(tmp_path / "mine"))
    assert user_presets_dir() == tmp_path / "mine"
    mapping = ColumnMapping({"sales": {"日期": "date"}}, {"plans": WideSpec()})
    path = save_preset("我的 ERP (v2)", mapping, description="mine", description_zh="我的")
    assert path == tmp_path / "mine" / "我的 ERP (v2).json"
    assert ColumnMapping.load(path) == mapping            # a preset is a mapping file too
    assert ("我的 ERP (v2)", False) in preset_names()
    loaded = load_preset("我的 ERP (v2)")
    assert (loaded.mapping, loaded.bundled, loaded.description_zh) == (mapping, False, "我的")
    with pytest.raises(MappingError, match="already exists"):
        save_preset("我的 ERP (v2)", ColumnMapping({}))
    save_preset("我的 ERP (v2)", ColumnMapping({}), overwrite=True)
    assert load_preset("我的 ERP (v2)").mapping == ColumnMapping({})


@pytest.mark.parametrize("name, message", [
    ("../escape", "cannot be a preset name"), (".hidden", "cannot be a preset name"),
    ("", "cannot be a preset name"), ("erp-sales-zh", "is a bundled preset")])
def test_preset_names_that_are_refused(tmp_path, name, message):
    with pytest.raises(MappingError, match=message):
        save_preset(name, ColumnMapping({}), tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_broken_preset_file_is_named(tmp_path):
    (tmp_path / "old.json").write_text('{"tables": {"sales": {"日期": "qty"}}}', encoding="utf-8")
    with pytest.raises(MappingError, match=r"Preset 'old' \(.*old.json\) cannot be used: .*'qty'"):
        load_preset("old", tmp_path)
    with pytest.raises(MappingError, match="No mapping preset called 'new'"):
        load_preset("new", tmp_path)


def test_wide_rows_keep_the_wide_files_row_numbers_on_duckdb():
    """The DuckDB reader numbers rows (ROW); each plan row keeps its line of the wide file, so the
    report points at the line the user sees: A's 2024-02 run is line 4."""
    raw = read_dataset(FIXTURES / "forecast_wide", engine="duckdb")
    mapped = load_preset("forecast-tool-wide").mapping.apply(raw)
    rows = _pd(mapped.tables["plans"])
    assert sorted(rows.loc[rows["version_month"] == "2024-02", ROW]) == [4, 4, 4]
    assert mapped.notes[-1].endswith("Row numbers in the validation report are the rows of the "
                                     "wide file.")
    assert "columns left out: Total" in mapped.notes[-1]
    ds = load_dataset(FIXTURES / "forecast_wide", mapping=load_preset("forecast-tool-wide").mapping,
                      engine="duckdb")
    assert not ds.report.errors, ds.report.to_text()
    assert _pd(ds.tables["plans"])["units"].sum() == 10 + 12 + 5 + 11 + 9 + 8
