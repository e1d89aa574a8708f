"""The home and data pages through the app frame: coverage, upload with a bad cell, mapping, switching."""

import io

import pandas as pd

from tests.app.conftest import assert_clean, open_page


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, encoding=encoding)
    return buffer.getvalue()


def test_home_lists_every_family_and_what_the_sample_feeds():
    at = open_page("views/home.py")
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert text.count("✅") == 18 and "⛔" not in text
    assert [s.value for s in at.subheader][:2] == ["Planning (S&OP)", "Inventory health"]


def test_data_page_shows_the_sample_report_and_coverage():
    at = open_page("views/data.py")
    assert_clean(at)
    assert any("18 of 18" in m.value for m in at.markdown)
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
