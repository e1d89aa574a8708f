"""The home and data pages through the app frame: coverage, upload with a bad cell, mapping, switching."""

import io
import json
from pathlib import Path

import pandas as pd

from kpilab import REGISTRY
from tests.app.conftest import assert_clean, open_page


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, encoding=encoding)
    return buffer.getvalue()


def test_home_lists_every_family_and_what_the_sample_feeds():
    at = open_page("views/home.py")
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert text.count("✅") == len(REGISTRY) and "⛔" not in text      # the sample feeds every KPI
    assert [s.value for s in at.subheader][:2] == ["Planning (S&OP)", "Inventory health"]


def test_data_page_shows_the_sample_report_and_coverage():
    at = open_page("views/data.py")
    assert_clean(at)
    assert any(f"{len(REGISTRY)} of {len(REGISTRY)}" in m.value for m in at.markdown)
    assert any(s.value == "No problems found." for s in at.success)


def test_upload_with_chinese_headers_and_a_bad_cell_is_reported_then_used():
    skus = pd.DataFrame({"SKU编码": ["a", "b", "c"], "品类": ["x", "x", "y"], "成本": ["1", "abc", "2"]})
    sales = pd.DataFrame({"日期": ["2024-01-10", "2024-01-10", "2024-01-31"], "SKU编码": ["a", "b", "a"],
                          "仓库": "W1", "销量": [5, 3, 0], "销售额": [50, 30, 0]})
    at = open_page("views/data.py", lang="zh")
    at.get("file_uploader")[0].set_value([("skus.csv", csv_bytes(skus, "gb18030"), "text/csv"),
                                         ("sales.csv", csv_bytes(sales), "text/csv")]).run()
    assert not at.exception          # the bad cell is an error message in the report, not a crash
    # the suggested mapping put the Chinese headers onto the contract
    assert at.selectbox(key="data_map_skus_SKU编码").value == "sku"
    assert at.selectbox(key="data_map_sales_销量").value == "units"
    # the text in a number column is reported, in Chinese, with its spreadsheet row (row 3)
    report = at.dataframe[0].value
    assert (report["列"] == "unit_cost").any()
    assert report.loc[report["列"] == "unit_cost", "行"].astype(str).str.contains("3").all()
    assert any("问题" in e.value for e in at.error)
    at.button(key="data_use").click().run()
    assert at.session_state["data"] not in ("sample", None)
    assert any("整个应用已切换到此数据集" in s.value for s in at.success)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _frames_with(at, columns: list[str]) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if list(d.value.columns) == columns]


def test_bundled_preset_reads_a_forecast_tools_wide_export(tmp_path, monkeypatch):
    """forecast-tool-wide: Item → sku, Run Month → version_month, M+1 … M+3 → 6 forecast rows."""
    monkeypatch.setenv("KPILAB_MAPPINGS", str(tmp_path))
    at = open_page("views/data.py")
    plans = (FIXTURES / "forecast_wide" / "plans.csv").read_bytes()
    at.get("file_uploader")[0].set_value([("plans.csv", plans, "text/csv")]).run()
    assert "forecast-tool-wide (bundled)" in at.selectbox(key="data_preset").options
    at.selectbox(key="data_preset").set_value("forecast-tool-wide").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="data_map_plans_Item").value == "sku"
    assert at.selectbox(key="data_map_plans_Run Month").value == "version_month"
    assert at.checkbox(key="data_wide_plans").value
    assert at.selectbox(key="data_wide_kind_plans").value == "horizon"
    assert at.selectbox(key="data_wide_source_plans").value == "forecast"
    [preview] = _frames_with(at, ["sku", "month", "version_month", "source", "units"])
    assert sorted(zip(preview["sku"], preview["month"], preview["version_month"], preview["units"])) == [
        ("A", "2024-02", "2024-01", "10"), ("A", "2024-03", "2024-01", "12"),
        ("A", "2024-03", "2024-02", "11"), ("A", "2024-04", "2024-02", "9"),
        ("A", "2024-05", "2024-02", "8"), ("B", "2024-02", "2024-01", "5")]
    assert any("columns left out: Total" in c.value for c in at.caption)
    at.button(key="data_use").click().run()
    assert at.session_state["data"] not in ("sample", None)


def test_wide_plan_sheet_is_suggested_then_saved_as_a_preset(tmp_path, monkeypatch):
    """No preset chosen: the month headers are recognised; the mapping is saved under a name."""
    monkeypatch.setenv("KPILAB_MAPPINGS", str(tmp_path))
    at = open_page("views/data.py", lang="zh")
    plans = (FIXTURES / "plan_sheet_wide" / "plans.csv").read_bytes()
    at.get("file_uploader")[0].set_value([("plans.csv", plans, "text/csv")]).run()
    assert at.checkbox(key="data_wide_plans").value            # suggested from the headers
    [preview] = _frames_with(at, ["sku", "month", "version_month", "units"])
    assert sorted(zip(preview["sku"], preview["month"], preview["units"])) == [
        ("乙002", "2024-04", "6"), ("甲001", "2024-03", "30"), ("甲001", "2024-04", "40")]
    assert any("未使用的列: 合计" in c.value for c in at.caption)
    at.text_input(key="data_preset_name").input("我的计划表").run()
    at.button(key="data_preset_save").click().run()
    assert any("已保存为预设" in s.value for s in at.success)
    saved = json.loads((tmp_path / "我的计划表.json").read_text(encoding="utf-8"))
    assert saved["tables"] == {"plans": {"SKU编码": "sku", "版本月": "version_month"}}
    assert saved["wide"] == {"plans": {"kind": "month", "value": "units", "constants": {}}}
    assert "我的计划表 (自建)" in at.selectbox(key="data_preset").options
    at.button(key="data_preset_save").click().run()            # the same name again is refused
    assert any("已存在" in e.value for e in at.error)


def test_a_preset_that_does_not_fit_the_file_is_an_error_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("KPILAB_MAPPINGS", str(tmp_path))
    at = open_page("views/data.py")
    sales = (FIXTURES / "erp_sales_zh" / "sales.csv").read_bytes()
    at.get("file_uploader")[0].set_value([("plans.csv", sales, "text/csv")]).run()
    at.selectbox(key="data_preset").set_value("plan-sheet-wide-zh").run()
    assert not at.exception
    assert any("no month column found" in e.value for e in at.error)


def test_data_page_links_the_contract_document():
    at = open_page("views/data.py")
    assert any("docs/data-contract.md" in c.value for c in at.caption)
    assert any(m.value.startswith("# Data contract v1") for m in at.markdown)
