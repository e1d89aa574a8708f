"""Column mapping: suggestion from headers, applying, saving and loading."""
from __future__ import annotations

import pandas as pd
import pytest

from kpilab.mapping import ColumnMapping, MappingError, suggest
from kpilab.reading import RawDataset, read_dataset
from kpilab.validation import validate


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
    sales = result.tables["sales"]
    assert sales["date"].dt.day.tolist() == [5, 6]
    assert sales["gmv"].tolist() == [1234.5, 99.0]
    assert sales["warehouse"].tolist() == ["华东仓", "华东仓"]
