"""Read a dataset (folder, workbook, single file or web upload) into raw tables.

Cells stay as read: CSV cells are strings ("" for a blank), parquet and Excel cells keep their
own types. Parsing and checking the values is validation's job (kpilab.validation), so that
every bad cell can be reported with its row instead of failing here.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import charset_normalizer
import openpyxl
import pandas as pd

from kpilab.contract import TABLES
from kpilab.registry import Note

MAX_XLSX_BYTES = 200 * 1024 * 1024
"""Largest uncompressed size of an .xlsx or .zip accepted (protects against zip bombs)."""

_DELIMITERS = (",", ";", "\t")
_READABLE = (".csv", ".parquet", ".xlsx")
_FORMULA = re.compile(rb"<f[\s>/]")  # a formula element in a worksheet's XML


class DatasetReadError(Exception):
    """A file cannot be read; the message names the file and how to fix it."""


@dataclass
class RawDataset:
    """Tables as read, before mapping and validation.

    ``tables`` maps a contract table name to its cells; row i (0-based) of a table is row i + 2
    of the user's file (the header is row 1). ``sources`` says where each table came from
    (file, sheet, encoding); ``notes`` lists what the user should know (files ignored,
    encodings guessed, formulas without values), as ``Note``s (English, with the Chinese in
    ``zh``).
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, frame: pd.DataFrame, source: str) -> None:
        """Add one table; the same table from two places is an error, not a silent choice."""
        if table in self.tables:
            raise DatasetReadError(
                f"Table {table!r} is given twice ({self.sources[table]} and {source}): "
                "keep only one of them.")
        self.tables[table] = frame
        self.sources[table] = source


Source = str | Path | list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]


def read_dataset(source: Source, *, encoding: str | None = None) -> RawDataset:
    """Read every contract table found in ``source``.

    ``source`` is a folder of ``<table>.csv|.parquet|.xlsx`` files, one .xlsx workbook with a
    sheet per table, one .csv/.parquet file (the table is its file name), a .zip of such files,
    or a list of uploads ``[(filename, bytes), ...]``. ``encoding`` forces the encoding of every
    CSV (when the detected one shows garbled text). Raises DatasetReadError.
    """
    raw = RawDataset()
    if isinstance(source, (list, tuple)):
        files = _expand_zips([(name, data) for name, data in source])
        where = "the upload"
    else:
        path = Path(source)
        if path.is_dir():
            files = _expand_zips([(p.name, p) for p in sorted(path.iterdir())
                                  if p.is_file() and not _is_junk(p.name)])
        elif path.is_file():
            files = _expand_zips([(path.name, path)])
        else:
            raise DatasetReadError(f"{path}: no such file or folder.")
        where = str(path)
    for name, data in files:
        _read_file(raw, name, data, encoding)
    if not raw.tables:
        raise DatasetReadError(
            f"No contract table found in {where}: name each file after its table "
            f"({', '.join(t + '.csv' for t in list(TABLES)[:3])}, …) or each sheet of a "
            "workbook after its table.")
    return raw


def table_name(file_or_sheet: str) -> str | None:
    """The contract table a file or sheet name stands for (case, spaces, hyphens ignored)."""
    name = re.sub(r"[\s\-]+", "_", PurePath(file_or_sheet).stem.strip().lower())
    return name if name in TABLES else None


def _is_junk(name: str) -> bool:
    """Hidden files, Excel lock files (~$book.xlsx) and macOS resource forks."""
    base = PurePath(name).name
    return base.startswith((".", "~$")) or "__MACOSX" in PurePath(name).parts


def _expand_zips(files: list[tuple[str, bytes | Path]]) -> list[tuple[str, bytes | Path]]:
    """Replace each .zip by its member files (folders inside the zip are flattened)."""
    out: list[tuple[str, bytes | Path]] = []
    for name, data in files:
        if not name.lower().endswith(".zip"):
            out.append((name, data))
            continue
        with _open_zip(name, data, "a .zip of the data files") as zf:
            out += [(PurePath(info.filename).name, zf.read(info)) for info in zf.infolist()
                    if not info.is_dir() and not _is_junk(info.filename)]
    return out


def _open_zip(name: str, data: bytes | Path, kind: str) -> zipfile.ZipFile:
    """Open a zip container, refusing it when it would unpack to more than MAX_XLSX_BYTES."""
    try:
        zf = zipfile.ZipFile(_stream(data))
    except zipfile.BadZipFile:
        raise DatasetReadError(
            f"{name}: not {kind} (the file is damaged or has another format). "
            "Save it again as .xlsx (Excel workbook) or export the sheets as CSV.") from None
    size = sum(info.file_size for info in zf.infolist())
    if size > MAX_XLSX_BYTES:
        zf.close()
        raise DatasetReadError(
            f"{name}: unpacks to {size / 2**20:,.0f} MB, more than the "
            f"{MAX_XLSX_BYTES // 2**20} MB allowed. Split it, or export the tables as CSV.")
    return zf


def _stream(data: bytes | Path) -> io.BytesIO | Path:
    return io.BytesIO(data) if isinstance(data, bytes) else data


def _read_file(raw: RawDataset, name: str, data: bytes | Path, encoding: str | None) -> None:
    suffix = PurePath(name).suffix.lower()
    if suffix not in _READABLE:
        xls = suffix == ".xls"
        raw.notes.append(Note(
            f"{name}: not a .csv, .parquet or .xlsx file, ignored{' (save it as .xlsx)' * xls}.",
            f"{name}: 不是 .csv、.parquet 或 .xlsx 文件, 已忽略{' (请另存为 .xlsx)' * xls}。"))
        return
    if suffix == ".xlsx":
        _read_workbook(raw, name, data)
        return
    table = table_name(name)
    if table is None:
        raw.notes.append(Note(f"{name}: not a contract table, ignored.",
                              f"{name}: 不是约定中的表, 已忽略。"))
        return
    if suffix == ".csv":
        frame, source = _read_csv(raw, name, data, encoding)
    else:
        try:
            frame, source = pd.read_parquet(_stream(data)), name
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DatasetReadError(
                f"{name}: cannot be read as parquet ({exc}). Export the table again, "
                "or as CSV.") from None
    raw.add(table, frame, source)


def _read_csv(raw: RawDataset, name: str, data: bytes | Path,
              encoding: str | None) -> tuple[pd.DataFrame, str]:
    """Decode (UTF-8, then GB18030, then a detector), guess the delimiter, read all as text."""
    blob = data if isinstance(data, bytes) else data.read_bytes()
    text, used = _decode(raw, name, blob, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    try:  # header=None: pandas would otherwise turn extra fields of row 2 into an index
        cells = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        cells = pd.DataFrame()
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().split("C error: ")[-1]
        raise DatasetReadError(
            f"{name}: {detail}. Every row must have at most as many fields as the header; put "
            f"quotes around text that contains the delimiter {delimiter!r}.") from None
    if cells.empty:
        frame = pd.DataFrame()
    else:
        frame = cells.iloc[1:].reset_index(drop=True).fillna("")
        frame.columns = _unique_headers(cells.iloc[0].tolist())
    shown = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    return frame, f"{name} ({used}, {shown}-separated)"


def _decode(raw: RawDataset, name: str, blob: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return blob.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise DatasetReadError(f"{name}: cannot be read as {encoding} ({exc}). "
                                   "Choose another encoding, or save the file as UTF-8.") from None
    try:
        return blob.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = blob.decode("gb18030")
        raw.notes.append(Note(f"{name}: not UTF-8, read as GB18030 (Chinese, covers GBK). If "
                              "the text looks garbled, choose the file's encoding.",
                              f"{name}: 不是 UTF-8, 已按 GB18030 (中文, 兼容 GBK) 读取。如果文字"
                              "显示为乱码, 请选择文件的编码。"))
        return text, "gb18030"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(blob).best()
    if best is None:
        raise DatasetReadError(f"{name}: the text encoding cannot be recognised. "
                               "Save the file as CSV UTF-8 and upload it again.")
    raw.notes.append(Note(f"{name}: not UTF-8 or GB18030, read as {best.encoding} (detected). "
                          "If the text looks garbled, choose the file's encoding.",
                          f"{name}: 不是 UTF-8 或 GB18030, 已按检测到的 {best.encoding} 读取。"
                          "如果文字显示为乱码, 请选择文件的编码。"))
    return str(best), best.encoding


def _read_workbook(raw: RawDataset, name: str, data: bytes | Path) -> None:
    """A workbook named after a table gives that table; otherwise each sheet named after one."""
    with _open_zip(name, data, "an Excel .xlsx workbook") as zf:
        has_formulas = any(_FORMULA.search(zf.read(n)) for n in zf.namelist()
                           if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    try:
        book = openpyxl.load_workbook(_stream(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise DatasetReadError(f"{name}: cannot be opened as an .xlsx workbook ({exc}). "
                               "Save it again from Excel, or export the sheets as CSV.") from None
    try:
        sheets = {ws.title: table_name(ws.title) for ws in book.worksheets}
        own = table_name(name)
        if own is not None:
            chosen = next((s for s, t in sheets.items() if t == own), book.sheetnames[0])
            picks = {chosen: own}
            if len(sheets) > 1:
                raw.notes.append(Note(
                    f"{name}: read sheet {chosen!r} as {own}; other sheets ignored.",
                    f"{name}: 已将工作表 {chosen!r} 读取为 {own}; 其他工作表已忽略。"))
        else:
            picks = {s: t for s, t in sheets.items() if t is not None}
            ignored = [s for s, t in sheets.items() if t is None]
            if ignored:
                sheet_names = ", ".join(map(repr, ignored))
                raw.notes.append(Note(
                    f"{name}: sheets {sheet_names} are not contract tables, ignored.",
                    f"{name}: 工作表 {sheet_names} 不是约定中的表, 已忽略。"))
        for sheet, table in picks.items():
            frame, blanks = _sheet_frame(book[sheet], has_formulas)
            if blanks:
                _note_formulas_without_values(raw, name, data, sheet, blanks)
            raw.add(table, frame, f"{name}, sheet {sheet!r}")
    finally:
        book.close()


def _sheet_frame(ws, want_blanks: bool) -> tuple[pd.DataFrame, set[tuple[int, int]]]:
    """A sheet as a frame (first row = header) and, if wanted, the (row, column) of empty cells."""
    ws.reset_dimensions()  # some tools write a wrong size; read what is there
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        return pd.DataFrame(), set()
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    keep = [j for j in range(width) if any(r[j] is not None for r in rows)]
    header = _unique_headers([rows[0][j] for j in keep])
    body = [[r[j] for j in keep] for r in rows[1:]]
    blanks = {(i + 2, keep[k] + 1) for i, r in enumerate(body) for k, v in enumerate(r)
              if v is None} if want_blanks else set()
    return pd.DataFrame(body, columns=header, dtype=object), blanks


def _unique_headers(values: list[object]) -> list[str]:
    """Header texts, trimmed; a blank header becomes 'column N'; repeats get '.1', '.2'."""
    out: list[str] = []
    for j, v in enumerate(values):
        text = "" if v is None or pd.isna(v) else str(v).strip()
        text = text or f"column {j + 1}"
        base, n = text, 0
        while text in out:
            n += 1
            text = f"{base}.{n}"
        out.append(text)
    return out


def _note_formulas_without_values(raw: RawDataset, name: str, data: bytes | Path, sheet: str,
                                  blanks: set[tuple[int, int]]) -> None:
    """Empty cells that hold a formula: the file was saved without the formulas' results."""
    book = openpyxl.load_workbook(_stream(data), read_only=True, data_only=False)
    try:
        ws = book[sheet]
        ws.reset_dimensions()
        count = sum(1 for i, row in enumerate(ws.iter_rows(values_only=True), start=1)
                    for j, v in enumerate(row, start=1)
                    if isinstance(v, str) and v.startswith("=") and (i, j) in blanks)
    finally:
        book.close()
    if count:
        raw.notes.append(Note(
            f"{name}, sheet {sheet!r}: {count} formula cells have no saved result and read as "
            "empty (the file was saved by a tool that does not store values). Open it in Excel "
            "or LibreOffice and save it again, or paste the values.",
            f"{name}, 工作表 {sheet!r}: {count} 个公式单元格没有保存计算结果, 读取为空 (文件由"
            "不保存计算值的工具保存)。请在 Excel 或 LibreOffice 中打开并重新保存, 或粘贴为数值。"))
