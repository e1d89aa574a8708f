"""Reading folders, workbooks, single files and uploads; encodings, delimiters, Excel traps."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from kpilab import reading
from kpilab.reading import DatasetReadError, RawDataset, read_dataset, table_name

SKUS_CSV = "sku,category,unit_cost\nA1,drinks,1.5\nB2,snacks,\n"


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook written with openpyxl (which stores no cached results for formulas)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_folder_of_csv_parquet_and_xlsx(tmp_path):
    (tmp_path / "Skus.CSV").write_text(SKUS_CSV, encoding="utf-8")
    pd.DataFrame({"warehouse": ["W1"], "region": ["east"]}).to_parquet(tmp_path / "warehouses.parquet")
    (tmp_path / "sales.xlsx").write_bytes(_xlsx({"Sheet1": [["date", "sku", "units"],
                                                            [dt.datetime(2024, 3, 5), "A1", 3]]}))
    (tmp_path / "products.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "readme.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "~$sales.xlsx").write_bytes(b"lock file")
    raw = read_dataset(tmp_path)
    assert set(raw.tables) == {"skus", "warehouses", "sales"}
    skus = raw.tables["skus"]
    assert skus.columns == ["sku", "category", "unit_cost"]
    assert skus["unit_cost"].to_list() == [1.5, None]  # numbers typed in the read, blanks null
    assert raw.tables["sales"].row(0) == (dt.datetime(2024, 3, 5), "A1", 3)  # Excel types
    assert raw.sources["skus"] == "Skus.CSV (utf-8, comma-separated)"
    assert raw.sources["sales"] == "sales.xlsx, sheet 'Sheet1'"
    assert "products.csv: not a contract table, ignored." in raw.notes
    assert any(n.startswith("readme.txt: not a .csv") for n in raw.notes)
    assert not any("~$" in n for n in raw.notes)


def test_gb18030_csv_with_chinese_headers():
    data = "SKU编码,类目,成本\n甲001,饮料,1\n乙002,零食,2\n".encode("gbk")
    raw = read_dataset([("skus.csv", data)])
    frame = raw.tables["skus"]
    assert frame.columns == ["SKU编码", "类目", "成本"]
    assert frame["类目"].to_list() == ["饮料", "零食"]
    assert raw.sources["skus"].startswith("skus.csv (gb18030")
    assert any("GB18030" in n for n in raw.notes)


def test_utf8_bom_csv_header_has_no_bom():
    data = "\ufeff日期,SKU编码,销量\n2024-03-05,甲001,3\n".encode("utf-8")
    raw = read_dataset([("sales.csv", data)])
    assert raw.tables["sales"].columns == ["日期", "SKU编码", "销量"]
    assert raw.sources["sales"].startswith("sales.csv (utf-8")
    assert raw.notes == []


@pytest.mark.parametrize("text", ["sku,category\nA1,drinks\n", "sku,category\nA1,café\n",
                                  "sku,category\nA1,饮料"])
def test_utf8_with_and_without_non_ascii_text(text):
    # ASCII is taken as UTF-8 without decoding; other UTF-8 is checked by decoding
    raw = read_dataset([("skus.csv", text.encode("utf-8"))])
    assert raw.sources["skus"] == "skus.csv (utf-8, comma-separated)" and raw.notes == []
    assert raw.tables["skus"]["category"].to_list() == [text.split(",")[-1].strip()]
    header_only = read_dataset([("skus.csv", b"sku;category")]).tables["skus"]  # no line end
    assert header_only.columns == ["sku", "category"] and header_only.height == 0


def test_detector_fallback_and_encoding_override():
    data = "sku,category,unit_cost\nA1,café crème,1\n".encode("cp1252")  # neither UTF-8 nor GB18030
    raw = read_dataset([("skus.csv", data)])
    assert any("detected" in n for n in raw.notes)
    fixed = read_dataset([("skus.csv", data)], encoding="cp1252")
    assert fixed.tables["skus"]["category"].to_list() == ["café crème"]
    with pytest.raises(DatasetReadError, match="skus.csv.*ascii"):
        read_dataset([("skus.csv", data)], encoding="ascii")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_delimiter_detected(sep):
    data = SKUS_CSV.replace(",", sep).encode()
    frame = read_dataset([("skus.csv", data)]).tables["skus"]
    assert frame.columns == ["sku", "category", "unit_cost"]
    assert frame["sku"].to_list() == ["A1", "B2"]


def test_blank_lines_are_kept_so_row_numbers_match_the_file():
    frame = read_dataset([("skus.csv", b"sku,category\nA1,x\n\nB2,y\n")]).tables["skus"]
    assert frame["sku"].to_list() == ["A1", None, "B2"]  # B2 is line 4 = index 2 + 2


def test_empty_csv_reads_as_empty_table():
    assert read_dataset([("skus.csv", b"")]).tables["skus"].is_empty()


def test_ragged_csv_names_file_and_fix():
    with pytest.raises(DatasetReadError, match=r"skus.csv: Expected 2 fields in line 2, saw 4\. .*fields as the header"):
        read_dataset([("skus.csv", b"sku,category\nA,b,c,d\n")])


def test_short_rows_read_as_blanks_and_repeated_headers_are_kept():
    frame = read_dataset([("skus.csv", b"sku,sku,\nA,B,C\nD\n")]).tables["skus"]
    assert frame.columns == ["sku", "sku.1", "column 3"]
    assert frame.row(1) == ("D", None, None)


def test_workbook_with_a_sheet_per_table(tmp_path):
    path = tmp_path / "dataset.xlsx"
    with xlsxwriter.Workbook(path) as book:
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        for title, rows in {"SKUs": [["sku", "unit_cost"], ["A1", 2.5]],
                            "Order Volume Plans": [["date", "warehouse"],
                                                   [dt.datetime(2024, 1, 2), "W1"]],
                            "Summary": [["x"], [1]]}.items():
            ws = book.add_worksheet(title)
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    ws.write_datetime(i, j, v, day) if isinstance(v, dt.datetime) else ws.write(i, j, v)
    raw = read_dataset(path)
    assert set(raw.tables) == {"skus", "order_volume_plans"}
    assert raw.tables["skus"].row(0) == ("A1", 2.5)
    assert raw.tables["order_volume_plans"][0, 0] == dt.datetime(2024, 1, 2)
    assert raw.sources["order_volume_plans"] == "dataset.xlsx, sheet 'Order Volume Plans'"
    assert any("'Summary'" in n and "ignored" in n for n in raw.notes)


def test_workbook_keeps_row_numbers_and_trims_trailing_blanks():
    data = _xlsx({"skus": [["sku", "category", None], ["A1", "x"], [None, None], ["B2", "y"],
                           [None, None], [None, None]]})
    frame = read_dataset([("book.xlsx", data)]).tables["skus"]
    assert frame.columns == ["sku", "category"]
    assert frame["sku"].to_list() == ["A1", None, "B2"]


def test_formulas_without_saved_values_are_noted():
    data = _xlsx({"sales": [["date", "sku", "units"], ["2024-03-05", "A1", "=1+2"],
                            ["2024-03-06", "A1", "=2+2"]]})
    raw = read_dataset([("book.xlsx", data)])
    assert raw.tables["sales"]["units"].is_null().all()
    assert any("2 formula cells have no saved result" in n and "'sales'" in n for n in raw.notes)


def test_workbook_named_after_a_table_reads_that_table():
    data = _xlsx({"Sheet1": [["sku"], ["A1"]], "inventory": [["date", "sku"], ["2024-03-05", "A1"]]})
    raw = read_dataset([("Inventory.xlsx", data)])
    assert list(raw.tables) == ["inventory"]
    assert raw.tables["inventory"].columns == ["date", "sku"]
    assert any("other sheets ignored" in n for n in raw.notes)


def test_oversized_workbook_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_XLSX_BYTES", 1000)
    with pytest.raises(DatasetReadError, match=r"big.xlsx: unpacks to .* MB"):
        read_dataset([("big.xlsx", _xlsx({"skus": [["sku"]] + [["A" * 50]] * 100}))])


def test_not_a_workbook():
    with pytest.raises(DatasetReadError, match=r"old.xlsx: not an Excel .xlsx workbook.*Save it"):
        read_dataset([("old.xlsx", b"\xd0\xcf\x11\xe0 legacy xls bytes")])


def test_zip_upload_and_single_files(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("export/skus.csv", SKUS_CSV)
        zf.writestr("__MACOSX/export/._skus.csv", "junk")
        zf.writestr("export/warehouses.csv", "warehouse,region\nW1,east\n")
    raw = read_dataset([("data.zip", buf.getvalue())])
    assert set(raw.tables) == {"skus", "warehouses"}
    single = tmp_path / "skus.csv"
    single.write_text(SKUS_CSV, encoding="utf-8")
    assert list(read_dataset(single).tables) == ["skus"]
    assert list(read_dataset(str(single)).tables) == ["skus"]


def test_same_table_twice_is_an_error():
    with pytest.raises(DatasetReadError, match=r"'skus' is given twice \(skus.csv.*SKUS.csv"):
        read_dataset([("skus.csv", SKUS_CSV.encode()), ("SKUS.csv", SKUS_CSV.encode())])


def test_nothing_readable_is_an_error(tmp_path):
    (tmp_path / "notes.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(DatasetReadError, match="No contract table found"):
        read_dataset(tmp_path)
    with pytest.raises(DatasetReadError, match="no such file or folder"):
        read_dataset(tmp_path / "missing")


def test_damaged_parquet_names_the_file():
    with pytest.raises(DatasetReadError, match="sales.parquet: cannot be read as parquet"):
        read_dataset([("sales.parquet", b"not parquet")])


def test_table_name_ignores_case_spaces_and_hyphens():
    assert table_name("Order Volume Plans.xlsx") == "order_volume_plans"
    assert table_name("purchase-orders.csv") == "purchase_orders"
    assert table_name("products.csv") is None


def test_raw_dataset_refuses_a_second_copy():
    raw = RawDataset()
    raw.add("skus", pd.DataFrame({"sku": ["A"]}), "a.csv")
    with pytest.raises(DatasetReadError, match="a.csv and b.csv"):
        raw.add("skus", pd.DataFrame({"sku": ["A"]}), "b.csv")


def test_openpyxl_parses_with_defusedxml():
    """openpyxl switches to defusedxml (XML-bomb safe) only when it is installed."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML
