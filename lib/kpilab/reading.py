"""Read a dataset (folder, workbook, single file or web upload) into raw tables.

Reads are typed and fast, on an engine: CSV by polars (strict UTF-8 with or without BOM, else
GB18030 or a detected encoding decoded in Python, then parsed by polars), with the contract's
number and yes/no columns typed in the read (a file where one cell does not parse is read again
as text, so validation can report the cell by row); Parquet by polars; Excel by fastexcel
(calamine). With ``engine="duckdb"`` Parquet files, folders of Parquet files and .duckdb
databases are opened in place as lazy DuckDB relations: a dataset bigger than memory is
validated in DuckDB without being loaded. With ``engine="spark"`` CSV and Parquet files on disk
are read by Spark (text columns, encoding and delimiter sniffed from the file's first MiB) and
everything else (workbooks, uploads) is read here and sent to Spark. Dates stay text here: validation parses them, one
format per column, so every bad cell is reported with its row instead of failing here.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

import charset_normalizer
import duckdb
import fastexcel
import openpyxl
import polars as pl
import pyarrow.parquet as pq

from kpilab import engines
from kpilab.contract import TABLES
from kpilab.registry import Note

Engine = Literal["polars", "duckdb", "pandas", "spark"]
ROW = "__row__"
"""Column of a DuckDB relation holding each row's spreadsheet row number (relations have no
order of their own); validation uses it for the rows it reports and drops it."""

MAX_XLSX_BYTES = 200 * 1024 * 1024
"""Largest uncompressed size of an .xlsx or .zip accepted (protects against zip bombs)."""

_DELIMITERS = (",", ";", "\t")
_READABLE = (".csv", ".parquet", ".xlsx", ".duckdb")
_TYPED_IN_CSV = {"float": pl.Float64, "int": pl.Float64, "bool": pl.Boolean}
_FORMULA = re.compile(rb"<f[\s>/]")  # a formula element in a worksheet's XML


class DatasetReadError(Exception):
    """A file cannot be read; the message names the file and how to fix it."""


@dataclass
class RawDataset:
    """Tables as read, before mapping and validation.

    ``tables`` maps a contract table name to its cells, as native frames narwhals wraps: polars
    DataFrames (engine "polars"), pandas DataFrames ("pandas") or lazy DuckDB relations
    ("duckdb", which carry the row numbers in a ``ROW`` column). Row i (0-based) of a table is
    row i + 2 of the user's file (the header is row 1); blank cells are null. ``sources`` says
    where each table came from (file, sheet, encoding); ``notes`` lists what the user should
    know (files ignored, encodings guessed, formulas without values), as ``Note``s (English,
    with the Chinese in ``zh``).
    """

    tables: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, frame: Any, source: str) -> None:
        """Add one table; the same table from two places is an error, not a silent choice."""
        if table in self.tables:
            raise DatasetReadError(
                f"Table {table!r} is given twice ({self.sources[table]} and {source}): "
                "keep only one of them.")
        self.tables[table] = frame
        self.sources[table] = source


Source = str | Path | list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]


def read_dataset(source: Source, *, encoding: str | None = None,
                 engine: Engine = "polars") -> RawDataset:
    """Read every contract table found in ``source``.

    ``source`` is a folder of ``<table>.csv|.parquet|.xlsx`` files (a table may also be a
    sub-folder ``<table>/`` of Parquet files, and a ``.duckdb`` database gives its tables named
    after contract tables), one .xlsx workbook with a sheet per table, one .csv/.parquet file
    (the table is its file name), a .zip of such files, or a list of uploads
    ``[(filename, bytes), ...]``. ``encoding`` forces the encoding of every CSV (when the
    detected one shows garbled text). ``engine`` chooses the tables' backend (see RawDataset);
    with "duckdb", files on disk are read in place, lazily. Raises DatasetReadError.
    """
    if engine not in ("polars", "duckdb", "pandas", "spark"):
        raise ValueError(f"Unknown engine {engine!r}: choose polars, duckdb, pandas or spark.")
    raw = RawDataset()
    if isinstance(source, (list, tuple)):
        files = _expand_zips([(name, data) for name, data in source])
        where = "the upload"
    else:
        path = Path(source)
        if path.is_dir():
            files = _expand_zips([(p.name, p) for p in sorted(path.iterdir())
                                  if (p.is_file() or _parquet_folder(p)) and not _is_junk(p.name)])
        elif path.is_file():
            files = _expand_zips([(path.name, path)])
        else:
            raise DatasetReadError(f"{path}: no such file or folder.")
        where = str(path)
    reader = _Reader(raw, encoding, engine)
    for name, data in files:
        reader.read(name, data)
    if not raw.tables:
        raise DatasetReadError(
            f"No contract table found in {where}: name each file after its table "
            f"({', '.join(t + '.csv' for t in list(TABLES)[:3])}, …) or each sheet of a "
            "workbook after its table.")
    if engine == "pandas":
        raw.tables = {name: _to_pandas(frame) for name, frame in raw.tables.items()}
    if engine == "spark":
        raw.tables = {name: _to_spark(frame) for name, frame in raw.tables.items()}
    return raw


def table_name(file_or_sheet: str) -> str | None:
    """The contract table a file or sheet name stands for (case, spaces, hyphens ignored)."""
    name = re.sub(r"[\s\-]+", "_", PurePath(file_or_sheet).stem.strip().lower())
    return name if name in TABLES else None


def _parquet_folder(path: Path) -> bool:
    """A folder named after a contract table that holds Parquet files (one table, many files)."""
    return (path.is_dir() and table_name(path.name + ".x") is not None
            and any(path.glob("*.parquet")))


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


def _to_pandas(frame: Any):
    """A table as pandas (the "pandas" engine): text columns get pandas' str dtype."""
    if isinstance(frame, pl.DataFrame):
        out = frame.to_pandas()
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                out[name] = out[name].astype("str")
        return out
    return frame


class _Reader:
    """Reads files into ``raw`` on one engine (one DuckDB connection per dataset)."""

    def __init__(self, raw: RawDataset, encoding: str | None, engine: Engine):
        self.raw, self.encoding, self.engine = raw, encoding, engine
        self.con = engines.connect() if engine == "duckdb" else None

    def read(self, name: str, data: bytes | Path) -> None:
        raw = self.raw
        if isinstance(data, Path) and data.is_dir() and self.engine == "spark":
            self._add(table_name(name + ".x"), _spark_parquet(data), f"{name}/ (Parquet files)")
            return
        if isinstance(data, Path) and data.is_dir():
            self._add(table_name(name + ".x"), _parquet_table(self.con, data), f"{name}/ (Parquet files)")
            return
        suffix = PurePath(name).suffix.lower()
        if suffix not in _READABLE or (suffix == ".duckdb" and isinstance(data, bytes)):
            xls = suffix == ".xls"
            raw.notes.append(Note(
                f"{name}: not a .csv, .parquet or .xlsx file, ignored"
                f"{' (save it as .xlsx)' * xls}.",
                f"{name}: 不是 .csv、.parquet 或 .xlsx 文件, 已忽略{' (请另存为 .xlsx)' * xls}。"))
            return
        if suffix == ".xlsx":
            for table, frame, source in _read_workbook(raw, name, data):
                self._add(table, frame, source)
            return
        if suffix == ".duckdb":
            self._read_database(name, data)
            return
        table = table_name(name)
        if table is None:
            raw.notes.append(Note(f"{name}: not a contract table, ignored.",
                                  f"{name}: 不是约定中的表, 已忽略。"))
            return
        if self.engine == "spark" and isinstance(data, Path):
            frame, source = (_spark_csv(raw, name, data, self.encoding, table) if suffix == ".csv"
                             else (_spark_parquet(data), name))
        elif suffix == ".csv":
            frame, source = _read_csv(raw, name, data, self.encoding, table)
        elif self.con is not None and isinstance(data, Path):
            frame, source = _parquet_table(self.con, data), name
        else:
            try:
                frame, source = pl.read_parquet(_stream(data)), name
            except Exception as exc:  # polars raises several types for a damaged file
                raise DatasetReadError(
                    f"{name}: cannot be read as parquet ({exc}). Export the table again, "
                    "or as CSV.") from None
        self._add(table, frame, source)

    def _add(self, table: str, frame: Any, source: str) -> None:
        """Add a table on the engine: an in-memory frame goes into DuckDB with its row numbers."""
        if self.con is not None and isinstance(frame, pl.DataFrame):
            frame = self.con.from_arrow(
                frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
                .to_arrow())
        elif self.con is None and isinstance(frame, duckdb.DuckDBPyRelation):
            frame = frame.pl()
        self.raw.add(table, frame, source)

    def _read_database(self, name: str, path: Path) -> None:
        """The tables of a .duckdb file named after contract tables (read only, in place)."""
        con = self.con or duckdb.connect()
        alias = f"db{len(self.raw.sources)}"
        try:
            con.execute(f"ATTACH '{_sql_text(str(path))}' AS {alias} (READ_ONLY)")
            names = [r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "ORDER BY table_name", [alias]).fetchall()]
        except duckdb.Error as exc:
            raise DatasetReadError(f"{name}: cannot be opened as a DuckDB database ({exc}).") \
                from None
        for table in names:
            contract = table_name(table + ".x")
            if contract is None:
                self.raw.notes.append(Note(f"{name}: table {table!r} is not a contract table, "
                                           "ignored.",
                                           f"{name}: 表 {table!r} 不是约定中的表, 已忽略。"))
                continue
            rel = con.sql(f'SELECT *, rowid + 2 AS "{ROW}" FROM {alias}."{_sql_name(table)}"')
            if self.con is None:
                rel = rel.pl().drop(ROW)
            self.raw.add(contract, rel, f"{name}, table {table!r}")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _sql_name(text: str) -> str:
    return text.replace('"', '""')


def _parquet_table(con: duckdb.DuckDBPyConnection | None, path: Path) -> Any:
    """A Parquet file or folder of Parquet files: a lazy DuckDB relation whose ROW numbers the
    rows file after file (from the files' metadata, nothing is scanned), or a polars frame."""
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if con is None:
        try:
            return pl.read_parquet(files)
        except Exception as exc:  # polars raises several types for a damaged file
            raise DatasetReadError(f"{path.name}: cannot be read as parquet ({exc}). Export "
                                   "the table again, or as CSV.") from None
    try:
        starts, offset = [], 0
        for file in files:
            starts.append(offset)
            offset += pq.ParquetFile(file).metadata.num_rows
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DatasetReadError(f"{path.name}: cannot be read as parquet ({exc}). Export the "
                               "table again, or as CSV.") from None
    listed = ", ".join(f"'{_sql_text(str(f))}'" for f in files)
    start = " ".join(f"WHEN '{_sql_text(str(f))}' THEN {s}" for f, s in zip(files, starts))
    return con.sql(
        f'SELECT * EXCLUDE (filename, file_row_number), '
        f'(CASE filename {start} END + file_row_number + 2)::BIGINT AS "{ROW}" '
        f"FROM read_parquet([{listed}], filename = true, file_row_number = true)")


def _to_spark(frame: Any) -> Any:
    """A table read in memory (workbook, upload) sent to Spark with its row numbers (ROW)."""
    from kpilab.engines import to_spark

    if not isinstance(frame, pl.DataFrame):
        return frame
    return to_spark(frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
                    .to_arrow())


def _spark_csv(raw: RawDataset, name: str, path: Path, encoding: str | None,
               table: str) -> tuple[Any, str]:
    """A CSV file read by Spark, every column as text (validation parses and reports the cells).

    The encoding and the delimiter are found as for polars, on the file's first MiB (cut at a
    line end); a file that is not UTF-8 (GB18030 …, which Spark's CSV reader refuses) is read
    by polars and sent to Spark. A row with more fields than the header is an error, as with polars (Spark's
    default would drop the extra fields silently): the file is checked in one pass here. Files
    with quotes are read with ``multiLine`` (a quoted cell may hold a line break; such a file is
    parsed by one task). Rows are numbered in file order (``engines.spark_row_numbers``)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from kpilab.engines import spark_row_numbers, spark_session

    with path.open("rb") as f:
        head = f.read(2**20 + 1)
    if len(head) > 2**20:
        head = head[:head.rfind(b"\n") + 1] or head[:2**20]
    body, used = _decode(RawDataset(), name, head, encoding)
    if used.lower().replace("-", "") != "utf8":
        return _read_csv(raw, name, path, encoding, table)
    first_line = body.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    delimiter = max(_DELIMITERS, key=first_line.count)
    shown = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    source = f"{name} ({used}, {shown}-separated, read by Spark)"
    if not body.strip():
        return pl.DataFrame(), source
    headers = _unique_headers(next(csv.reader([first_line], delimiter=delimiter)))
    schema = T.StructType([T.StructField(h, T.StringType()) for h in headers]
                          + [T.StructField("__bad", T.StringType())])
    frame = spark_session().read.csv(
        str(path), schema=schema, header=True, enforceSchema=True, sep=delimiter,
        encoding="UTF-8", multiLine=b'"' in head, mode="PERMISSIVE",
        columnNameOfCorruptRecord="__bad")
    frame = spark_row_numbers(frame, ROW)
    pieces = F.size(F.split("__bad", re.escape(delimiter)))  # ≥ the fields: quotes not counted
    suspects = (frame.filter(F.col("__bad").isNotNull() & (pieces > len(headers)))
                .select(ROW, "__bad").orderBy(ROW).limit(20).collect())
    for row, text in suspects:
        fields = next(csv.reader([text], delimiter=delimiter), [])
        if len(fields) > len(headers):
            raise DatasetReadError(
                f"{name}: Expected {len(headers)} fields in row {row}, saw {len(fields)}. Every "
                "row must have at most as many fields as the header; put quotes around text "
                f"that contains the delimiter {delimiter!r}.")
    return frame.drop("__bad"), source


def _spark_parquet(path: Path) -> Any:
    """A Parquet file or folder of Parquet files read by Spark, its rows numbered file after
    file (each file's rows from its metadata, then Spark's row index within the file)."""
    from pyspark.sql import functions as F

    from kpilab.engines import spark_session

    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    try:
        counts = [pq.ParquetFile(file).metadata.num_rows for file in files]
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DatasetReadError(f"{path.name}: cannot be read as parquet ({exc}). Export the "
                               "table again, or as CSV.") from None
    spark = spark_session()
    starts = spark.createDataFrame([(f.name, sum(counts[:i])) for i, f in enumerate(files)],
                                   "__file string, __start long")
    frame = spark.read.parquet(*map(str, files))
    number = F.col("__index") + F.col("__start") + 2
    return (frame.withColumns({"__file": F.col("_metadata.file_name"),
                               "__index": F.col("_metadata.row_index")})
            .join(F.broadcast(starts), "__file").withColumn(ROW, number.cast("bigint"))
            .drop("__file", "__index", "__start"))


def _read_csv(raw: RawDataset, name: str, data: bytes | Path, encoding: str | None,
              table: str) -> tuple[pl.DataFrame, str]:
    """Decode (UTF-8, then GB18030, then a detector), guess the delimiter, read with polars.

    The contract's number and yes/no columns (by header) are typed in the read; when a cell
    does not parse, the file is read again as text so that validation reports that cell.
    """
    blob = data if isinstance(data, bytes) else data.read_bytes()
    body, used = _decode(raw, name, blob, encoding)
    end = body.find(b"\n")  # not split(): that copies the rest of the file
    first_line = (body if end < 0 else body[:end]).decode("utf-8").rstrip("\r")
    delimiter = max(_DELIMITERS, key=first_line.count)
    shown = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    source = f"{name} ({used}, {shown}-separated)"
    if not body.strip():
        return pl.DataFrame(), source
    headers = _unique_headers(next(csv.reader([first_line], delimiter=delimiter)))
    columns = {c.name: c.dtype for c in TABLES[table].columns}
    typed = {h: _TYPED_IN_CSV.get(columns.get(h), pl.String) for h in headers}
    for schema in (typed, dict.fromkeys(headers, pl.String)):
        try:
            return pl.read_csv(io.BytesIO(body), has_header=False, skip_rows=1,
                               separator=delimiter, schema=schema, missing_columns="insert",
                               raise_if_empty=False), source
        except pl.exceptions.PolarsError:
            continue
    raise DatasetReadError(f"{name}: {_ragged(body, delimiter, len(headers))}. Every row must "
                           "have at most as many fields as the header; put quotes around text "
                           f"that contains the delimiter {delimiter!r}.")


def _ragged(body: bytes, delimiter: str, width: int) -> str:
    """Where a CSV that polars refused has more fields than its header (the usual cause)."""
    rows = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), delimiter=delimiter)
    for row in rows:
        if len(row) > width:
            return f"Expected {width} fields in line {rows.line_num}, saw {len(row)}"
    return "the file cannot be parsed as CSV"


def _decode(raw: RawDataset, name: str, blob: bytes, encoding: str | None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without BOM (what polars reads), and the encoding used."""
    if encoding:
        try:
            return blob.decode(encoding).lstrip("\ufeff").encode("utf-8"), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise DatasetReadError(f"{name}: cannot be read as {encoding} ({exc}). "
                                   "Choose another encoding, or save the file as UTF-8.") from None
    if blob.isascii():  # ASCII is UTF-8: checked at memory speed, without decoding a copy
        return blob, "utf-8"
    try:
        blob.decode("utf-8")  # strict check; polars reads the bytes themselves
        return blob.removeprefix(b"\xef\xbb\xbf"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = blob.decode("gb18030")
        raw.notes.append(Note(f"{name}: not UTF-8, read as GB18030 (Chinese, covers GBK). If "
                              "the text looks garbled, choose the file's encoding.",
                              f"{name}: 不是 UTF-8, 已按 GB18030 (中文, 兼容 GBK) 读取。如果文字"
                              "显示为乱码, 请选择文件的编码。"))
        return text.encode("utf-8"), "gb18030"
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
    return str(best).encode("utf-8"), best.encoding


def _read_workbook(raw: RawDataset, name: str,
                   data: bytes | Path) -> list[tuple[str, pl.DataFrame, str]]:
    """A workbook named after a table gives that table; otherwise each sheet named after one."""
    with _open_zip(name, data, "an Excel .xlsx workbook") as zf:
        has_formulas = any(_FORMULA.search(zf.read(n)) for n in zf.namelist()
                           if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    try:
        book = fastexcel.read_excel(data if isinstance(data, bytes) else str(data))
    except Exception as exc:  # fastexcel raises several types for a damaged workbook
        raise DatasetReadError(f"{name}: cannot be opened as an .xlsx workbook ({exc}). "
                               "Save it again from Excel, or export the sheets as CSV.") from None
    sheets = {title: table_name(title) for title in book.sheet_names}
    own = table_name(name)
    if own is not None:
        chosen = next((s for s, t in sheets.items() if t == own), book.sheet_names[0])
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
    out = []
    for sheet, table in picks.items():
        frame = _sheet_frame(book, sheet)
        if has_formulas:
            _note_formulas_without_values(raw, name, data, sheet, frame)
        out.append((table, frame, f"{name}, sheet {sheet!r}"))
    return out


def _sheet_frame(book: fastexcel.ExcelReader, sheet: str) -> pl.DataFrame:
    """A sheet as a typed polars frame (first row = header; a column mixing types is text).

    Columns with neither a header nor a value are left out."""
    header = book.load_sheet(sheet, header_row=None, n_rows=1, dtypes="string").to_polars()
    if header.width == 0:
        return pl.DataFrame()
    names = list(header.row(0))
    body = book.load_sheet(sheet, header_row=0).to_polars() if header.height else pl.DataFrame()
    if body.width != len(names):  # a sheet with a header row only
        return pl.DataFrame(schema=dict.fromkeys(_unique_headers(names), pl.String))
    body.columns = [f"column {j}" for j in range(body.width)]
    keep = [j for j, n in enumerate(names) if n is not None or body[:, j].null_count() < body.height]
    return body.select(body.columns[j] for j in keep).rename(
        dict(zip([body.columns[j] for j in keep], _unique_headers([names[j] for j in keep]))))


def _unique_headers(values: list[object]) -> list[str]:
    """Header texts, trimmed; a blank header becomes 'column N'; repeats get '.1', '.2'."""
    out: list[str] = []
    for j, v in enumerate(values):
        text = "" if v is None else str(v).strip()
        text = text or f"column {j + 1}"
        base, n = text, 0
        while text in out:
            n += 1
            text = f"{base}.{n}"
        out.append(text)
    return out


def _note_formulas_without_values(raw: RawDataset, name: str, data: bytes | Path, sheet: str,
                                  frame: pl.DataFrame) -> None:
    """Empty cells that hold a formula: the file was saved without the formulas' results."""
    book = openpyxl.load_workbook(_stream(data), read_only=True, data_only=False)
    try:
        ws = book[sheet]
        ws.reset_dimensions()
        count = sum(1 for i, row in enumerate(ws.iter_rows(min_row=2, values_only=True))
                    for j, v in enumerate(row)
                    if isinstance(v, str) and v.startswith("=") and i < frame.height
                    and j < frame.width and frame[i, j] is None)
    finally:
        book.close()
    if count:
        raw.notes.append(Note(
            f"{name}, sheet {sheet!r}: {count} formula cells have no saved result and read as "
            "empty (the file was saved by a tool that does not store values). Open it in Excel "
            "or LibreOffice and save it again, or paste the values.",
            f"{name}, 工作表 {sheet!r}: {count} 个公式单元格没有保存计算结果, 读取为空 (文件由"
            "不保存计算值的工具保存)。请在 Excel 或 LibreOffice 中打开并重新保存, 或粘贴为数值。"))
