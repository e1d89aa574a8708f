"""Validate raw tables against the data contract: parse, check, clean, and report every problem.

Every rule of the contract is a narwhals LAZY query (over polars, or over DuckDB for data that
stays on disk): a flag per row, one aggregate that counts the flagged rows of every rule, and, for
a rule that fires, a small query fetching its first rows as examples. Text cells are parsed by
expressions (numbers with thousands separators, one date format per column, yes/no in English
or Chinese), references are anti-joins and duplicate keys a group-by, so a 5.7M-row table never
leaves the engine and never goes through pandas.

Rows are numbered as the user sees them: spreadsheet row = row index + 2 (the header is row 1).
Rows with an error are dropped from the cleaned tables and counted; warnings keep the row.
The cleaned tables come back on the backend they came in: pandas → pandas, polars → polars
DataFrame, DuckDB relation → DuckDB relation (lazy, never materialised).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd
import polars as pl
from pandas.api import types as ptypes

from kpilab import engines
from kpilab.contract import TABLES, Column, Table
from kpilab.reading import ROW
from kpilab.registry import Note

Severity = Literal["error", "warning"]

DATE_FORMATS: dict[str, tuple[str, str]] = {
    # name: (pattern, order of the year/month/day groups)
    "YYYY-MM-DD": (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
    "YYYY/MM/DD": (r"(\d{4})/(\d{1,2})/(\d{1,2})", "ymd"),
    "YYYYMMDD": (r"(\d{4})(\d{2})(\d{2})", "ymd"),
    "YYYY年M月D日": (r"(\d{4})年(\d{1,2})月(\d{1,2})日", "ymd"),
    "DD.MM.YYYY": (r"(\d{1,2})\.(\d{1,2})\.(\d{4})", "dmy"),
    "MM/DD/YYYY": (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy"),
    "DD/MM/YYYY": (r"(\d{1,2})/(\d{1,2})/(\d{4})", "dmy"),
    "YYYY-MM": (r"(\d{4})-(\d{1,2})", "ym"),
    "YYYY年M月": (r"(\d{4})年(\d{1,2})月", "ym"),
}
"""Date formats accepted in a date column (one per column); a time of day after it is ignored.
A month alone (YYYY-MM) reads as the month's first day: monthly sales totals (grain=monthly)."""

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_MONTH = r"^\d{4}(?:-\d{1,2}|/\d{1,2}|\d{2}|年\d{1,2}月)$"
_TRUE, _FALSE = ("true", "1", "yes", "y", "是"), ("false", "0", "no", "n", "否")
_PLAIN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_SPACES = " \u00a0\u202f"  # thousands separators besides the comma (RE2 has no \\u escape)
_GROUPED = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[" + _SPACES + r"]\d{3})+)(?:\.\d+)?$"
_MONEY = {"gmv", "value", "amount", "unit_cost", "unit_price"}
# Dates are returned as datetime64[ns] / Datetime("ns"), which holds these years.
_FIRST_DAY, _LAST_DAY = dt.date(1678, 1, 1), dt.date(2261, 12, 31)
_DATETIME = nw.Datetime("ns")
_MAP_KEYS = 100_000  # most distinct texts of a date column mapped in place (_map_back)

# Row relations checked within a table: (column that must not exceed, the column it is bounded by).
# The description's Chinese follows "N 行" (N rows).
_NOT_ABOVE = {
    "inventory": ("sellable_units", "on_hand_units",
                  Note("more sellable units than units on hand", "的可售数量大于在库数量"),
                  Note("sellable_units must be ≤ on_hand_units (sellable is the good part of on "
                       "hand); check the two columns are not swapped.",
                       "sellable_units 必须 ≤ on_hand_units (可售是在库中的良品部分); "
                       "请检查这两列是否填反。")),
    "batches": ("received_date", "date",
                Note("a received_date after the snapshot date", "的 received_date 晚于快照日期"),
                Note("A lot on hand at a snapshot was received on or before that day; correct the "
                     "dates or check that the two date columns are not swapped",
                     "快照时在库的批次应在当天或之前收货; 请更正日期, 或检查两个日期列是否填反。")),
    "inspections": ("passed_units", "inspected_units",
                    Note("more passed units than inspected units", "的合格数量大于检验数量"),
                    Note("passed_units must be ≤ inspected_units; check the two columns are not "
                         "swapped.", "passed_units 必须 ≤ inspected_units; 请检查这两列是否填反。")),
}
# Inventory and batches are valued at skus.unit_cost when value is blank: table → units column.
_VALUED_AT_COST = {"inventory": "on_hand_units", "batches": "units"}
# Codes that should exist in a master table (a warning: the row is kept).
_MASTERS = {"sku": "skus", "warehouse": "warehouses"}


@dataclass(frozen=True)
class Problem:
    """One problem: where (table, column, first ≤ 10 spreadsheet rows), what, and the fix.

    ``what`` and ``fix`` are ``Note``s: they read as English and carry the Chinese
    (``p.what("zh")``).
    """

    table: str
    column: str
    rows: tuple[int, ...]
    n_rows: int
    what: str
    fix: str
    severity: Severity = "error"


@dataclass
class ValidationReport:
    """Every problem found in one pass, with the rows read and dropped per table."""

    problems: list[Problem] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_dropped: dict[str, int] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors

    @property
    def usable(self) -> bool:
        """At least one table can be used."""
        return any(t not in self.unusable for t in self.rows_read)

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row per problem, rows shown as text such as '2, 5, 9 … (+12 more)'.

        ``lang="zh"``: Chinese headers, severities and messages (table, column names and codes
        stay as they are).
        """
        zh = lang == "zh"
        return pd.DataFrame(
            [(p.table, p.column, _rows_text(p, lang), p.n_rows,
              _SEVERITY_ZH[p.severity] if zh else p.severity, _say(p.what, lang),
              _say(p.fix, lang)) for p in self.problems],
            columns=(["表", "列", "行", "行数", "级别", "问题", "修正方法"] if zh else
                     ["table", "column", "rows", "n_rows", "severity", "what", "fix"]))

    def to_text(self, lang: str = "en") -> str:
        """The report for a terminal: per table, rows read/dropped, then each problem."""
        zh = lang == "zh"
        lines = [f"{len(self.errors):,} 个错误, {len(self.warnings):,} 个警告" if zh else
                 f"{_count_text(len(self.errors), 'error')}, "
                 f"{_count_text(len(self.warnings), 'warning')}"]
        tables = list(dict.fromkeys([*self.rows_read, *(p.table for p in self.problems)]))
        for table in tables:
            head = f"{table}:"
            if table in self.rows_read:
                head += f" 读取 {self.rows_read[table]:,} 行" if zh \
                    else f" {self.rows_read[table]:,} rows read"
            if self.rows_dropped.get(table):
                head += f", 剔除 {self.rows_dropped[table]:,} 行" if zh \
                    else f", {self.rows_dropped[table]:,} dropped"
            if table in self.unusable:
                head += f" — {'不可用' if zh else 'NOT USABLE'}: {_say(self.unusable[table], lang)}"
            lines.append(head)
            for p in (p for p in self.problems if p.table == table):
                rows = (f"第 {_rows_text(p, lang)} 行" if zh else f"rows {_rows_text(p)}")
                where = f"{p.column}, {rows}" if p.rows else p.column
                where = f" [{where}]" if where else ""
                severity = _SEVERITY_ZH[p.severity] if zh else p.severity.upper()
                lines.append(f"  {severity}{where}: {_say(p.what, lang)}\n"
                             f"      {'修正' if zh else 'fix'}: {_say(p.fix, lang)}")
        return "\n".join(lines)


@dataclass
class ValidatedTables:
    """The usable tables, typed and cleaned (every contract column present), and the report.

    Each table is on the backend it came in: pandas DataFrame, polars DataFrame, or a lazy
    DuckDB relation (the checks ran in DuckDB; nothing was loaded into Python).
    """

    tables: dict[str, Any]
    report: ValidationReport


def validate(tables: Mapping[str, Any], *,
             date_formats: Mapping[str, Mapping[str, str]] | None = None) -> ValidatedTables:
    """Parse, check and clean the tables (as read, headers already mapped to contract names).

    ``tables`` holds pandas or polars frames or DuckDB relations (DuckDB relations of one
    dataset must come from one connection: references between tables are joins). pandas input
    is converted to polars at the edge and converted back at the end. ``date_formats`` fixes
    the format of a date column ({"sales": {"date": "DD/MM/YYYY"}}), the way to settle a column
    whose dates could be day/month or month/day. Tables are checked in contract order, so
    references (returns → orders, sku → skus) use tables checked before.
    """
    report = ValidationReport()
    forced = {(t, c): f for t, cols in (date_formats or {}).items() for c, f in cols.items()}
    for (table, column), fmt in forced.items():
        if fmt not in DATE_FORMATS:
            raise ValueError(f"Unknown date format {fmt!r} for {table}.{column}; "
                             f"choose one of {', '.join(DATE_FORMATS)}.")
    for name in tables:
        if name not in TABLES:
            report.problems.append(Problem(
                name, "", (), 0,
                Note(f"{name!r} is not a contract table and was ignored.",
                     f"{name!r} 不是约定中的表, 已忽略。"),
                Note(f"Rename it after a contract table ({', '.join(TABLES)}).",
                     f"请按约定中的表名重命名 ({', '.join(TABLES)})。"), "warning"))
    parsed: dict[str, nw.LazyFrame] = {}
    filled: dict[tuple[str, str], bool] = {}
    clean: dict[str, nw.LazyFrame] = {}
    kinds: dict[str, str] = {}
    for name, table in TABLES.items():
        if name in tables:
            frame, kinds[name] = _lazy(tables[name])
            _TableCheck(table, frame, report, forced, parsed, clean, filled).run()
    out = {name: _native(frame, kinds[name]) for name, frame in clean.items()}
    on_duckdb = [out[name] for name in out if kinds[name] == "duckdb"]
    if on_duckdb:  # the clean tables are kept: the checks' scratch results go
        engines.drop_temporaries(on_duckdb[0])
    return ValidatedTables(out, report)


# ---------------------------------------------------------------------------------------------
# Backends: in at the edge, out on the same backend.


def _lazy(frame: Any) -> tuple[nw.LazyFrame, str]:
    """A native table as a narwhals LazyFrame carrying the spreadsheet row number (ROW)."""
    if isinstance(frame, pd.DataFrame):
        return _polars_lazy(_from_pandas(frame)), "pandas"
    if isinstance(frame, (pl.DataFrame, pl.LazyFrame)):
        return _polars_lazy(frame), "polars"
    native = nw.from_native(frame)
    if isinstance(native, nw.DataFrame):  # another eager frame (pyarrow …): through polars
        return _polars_lazy(native.to_polars()), "polars"
    if engines.engine_of(frame) == "spark":  # numbered in scan order unless read with ROW
        return nw.from_native(frame if ROW in native.columns
                              else engines.spark_row_numbers(frame, ROW)), "spark"
    if ROW not in native.columns:  # a DuckDB relation built elsewhere: rows in scan order
        native = nw.from_native(frame.project(
            f'*, (row_number() OVER () + 1)::BIGINT AS "{ROW}"'))
    return native, "duckdb"


def _polars_lazy(frame: pl.DataFrame | pl.LazyFrame) -> nw.LazyFrame:
    lazy = frame.lazy()
    if ROW not in lazy.collect_schema().names():
        lazy = lazy.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    return nw.from_native(lazy)


def _from_pandas(frame: pd.DataFrame) -> pl.DataFrame:
    """pandas → polars: mixed-type cells (Excel, frames built by hand) become text first.

    Why: polars columns have one type; a column mixing numbers and text is parsed from its text
    like a CSV column, so '12.0' reads as '12' and a text cell is reported, not lost. NaN in a
    float column is a blank (pandas' missing value).
    """
    columns: dict[str, pd.Series] = {}
    for j, name in enumerate(frame.columns):
        cells = frame.iloc[:, j].reset_index(drop=True)
        if isinstance(cells.dtype, pd.DatetimeTZDtype):
            cells = cells.dt.tz_localize(None)
        elif cells.dtype == object:
            kind = ptypes.infer_dtype(cells, skipna=True)
            if kind in ("date", "datetime", "datetime64"):
                cells = pd.to_datetime(cells)
                if cells.dt.tz is not None:
                    cells = cells.dt.tz_localize(None)
            elif kind in ("integer", "floating", "mixed-integer-float"):
                cells = pd.to_numeric(cells).astype("float64")
            elif kind == "empty":
                cells = cells.astype("float64")
            elif kind != "boolean":
                cells = cells.map(_cell_text, na_action="ignore").astype("str")
        columns[str(name)] = cells
    return pl.from_pandas(pd.DataFrame(columns, index=pd.RangeIndex(len(frame))))


def _cell_text(value: object) -> str:
    """One mixed-type cell as text: 12.0 as '12' (Excel stores whole numbers as floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat(sep=" ")
    return str(value)


def _native(frame: nw.LazyFrame, kind: str) -> Any:
    """The cleaned table on its input's backend, in the input's row order, without ROW."""
    if kind == "duckdb":  # computed once, in DuckDB's own storage (spilling beyond memory)
        return engines.materialize(frame.drop(ROW), name="clean").to_native()
    if kind == "spark":  # computed once: KPI queries start from the clean table, not the files
        return engines.materialize(frame.drop(ROW)).to_native()
    polars = frame.sort(ROW).drop(ROW).collect().to_native()
    if kind == "polars":
        return polars
    out = polars.to_pandas()
    for name, dtype in polars.schema.items():
        if dtype == pl.String:
            out[name] = out[name].astype("str")
    return out


def _materialise(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Compute once and keep: each later query would otherwise re-run the parse (polars' lazy
    plans and DuckDB views are re-run per query; Spark's plan would keep growing). DuckDB keeps
    it as a temporary table, spilled to disk beyond its memory limit."""
    if frame.implementation.is_polars():
        return nw.from_native(frame.to_native().collect().lazy())
    return engines.materialize(frame)


def _distinct(frame: nw.LazyFrame, *columns: str) -> nw.LazyFrame:
    """The distinct values of ``columns``, as a group-by: narwhals' ``unique`` on DuckDB numbers
    the rows of each value with a window function, which sorts the whole table (9× slower)."""
    return frame.group_by(*columns).agg(nw.len().alias("__count")).select(*columns)


def _with(frame: nw.LazyFrame, columns: list[nw.Expr]) -> nw.LazyFrame:
    """``with_columns``, which refuses an empty list (a table with no contract column)."""
    return frame.with_columns(*columns) if columns else frame


def _v(column: str) -> str:
    """The name of a column's typed values while its raw cells are still needed."""
    return f"__v_{column}"


def _t(column: str) -> str:
    """The name of a column's cells as trimmed text (null when blank)."""
    return f"__t_{column}"


def _p(column: str) -> str:
    """The name of a column's parsed cells (null where a cell does not parse)."""
    return f"__p_{column}"


@dataclass
class _Rule:
    """One check: the rows it flags, and its message from (count, first flagged row)."""

    column: str
    flag: nw.Expr
    message: Any  # (n, first row as a dict) -> (what, fix)
    severity: Severity = "error"
    drop: bool = True
    shown: tuple[str, ...] = ()  # columns of the first flagged row the message needs


class _TableCheck:
    """Validation of one table; writes into the shared report, parsed and clean dicts."""

    def __init__(self, table: Table, frame: nw.LazyFrame, report: ValidationReport,
                 forced: dict[tuple[str, str], str], parsed: dict[str, nw.LazyFrame],
                 clean: dict[str, nw.LazyFrame], filled: dict[tuple[str, str], bool]):
        self.t, self.name, self.report = table, table.name, report
        self.frame, self.forced, self.parsed, self.clean = frame, forced, parsed, clean
        self.filled = filled  # (table, column) -> whether the column has a value in some row
        self.unusable: list[Note] = []
        self.dropped = 0

    def run(self) -> None:
        """One pass per table: the blank-row flag, the parsed and typed values and every rule's
        flag are computed in a single query and kept (``_materialise``); the counts, the
        duplicate keys and the example rows are then read from that one result. Why: each
        separate query re-ran the whole parse on polars, and re-scanned the files on DuckDB."""
        frame = self.frame
        raw_columns = [c for c in frame.columns if c != ROW]
        schema = frame.collect_schema()
        n_rows = int(frame.select(nw.len()).collect().item())
        self.report.rows_read[self.name] = n_rows
        if n_rows == 0:
            self.report.problems.append(Problem(
                self.name, "", (), 0,
                Note("The table is empty (no data rows).", "该表为空 (没有数据行)。"),
                Note(f"Fill in {self.name} or remove the file; the KPIs that need it cannot be "
                     "computed.", f"请填写 {self.name} 或移除该文件; 依赖此表的 KPI 无法计算。")))
            self.report.unusable[self.name] = Note("the table is empty", "该表为空")
            return
        blank_at = len(self.report.problems)  # the blank-row warning, counted below, goes first
        missing = [c for c in self.t.column_names if c not in raw_columns
                   and self.t.column(c).required]
        for c in missing:
            self._add(c, (), 0, Note(f"Required column {c!r} is missing.", f"缺少必填列 {c!r}。"),
                      Note(f"Add a column {c!r} to {self.name}, or map your header onto {c!r} "
                           "(column mapping).",
                           f"在 {self.name} 中添加列 {c!r}, 或将你的表头映射到 {c!r} (列映射)。"))
        if missing:
            names = ", ".join(map(repr, missing))
            self.unusable.append(Note("missing required column " + names, "缺少必填列 " + names))
        extra = [c for c in raw_columns if c not in self.t.column_names]
        if extra:
            names = ", ".join(repr(str(c)) for c in extra)
            self._add("", (), 0,
                      Note(f"Columns not in the contract are kept but not used: {names}.",
                           f"不在约定中的列会保留, 但不参与计算: {names}。"),
                      Note("Map them onto contract columns if they hold one (column mapping).",
                           "如果其中有列对应约定中的列, 请做映射 (列映射)。"), "warning")
        rules: list[_Rule] = []
        present = [c for c in self.t.columns if c.name in raw_columns]
        texts = {c.name for c in present if _needs_text(c, schema[c.name])}
        frame = _with(frame, [_text(c, schema[c]).alias(_t(c)) for c in texts])
        # a row is blank when every cell is: the trimmed texts just computed, or the raw cells
        blank = nw.all_horizontal(*(nw.col(_t(c)).is_null() if c in texts
                                    else _blank(c, schema[c]) for c in raw_columns),
                                  ignore_nulls=True) if raw_columns else nw.lit(False)
        frame, formats = self._dates(frame, schema)
        done = set(frame.collect_schema().names())
        frame = _with(frame.filter(~blank),
                      [_PARSERS[c.dtype][0](c, schema[c.name]).alias(_p(c.name))
                       for c in present if _p(c.name) not in done])
        typed = []
        for col in self.t.columns:
            if col.name in raw_columns:
                value, rules_of_col = self._parse(col, schema[col.name], formats.get(col.name))
                rules += rules_of_col
            else:
                value = nw.lit(None)
            typed.append(_fill(value, col, _dates_of(frame)).alias(_v(col.name)))
        work = frame.with_columns(*typed)
        work, checks = self._value_checks(work, set(missing))
        rules += checks
        helpers = [c for c in work.collect_schema().names() if c.startswith(("__t_", "__p_", "__iso_",
                                                                             "__differ_"))]
        work = _materialise(_with(work, [r.flag.fill_null(False).alias(f"__f{i}")
                                         for i, r in enumerate(rules)]).drop(*helpers))
        work, repeat = self._repeats(work, set(missing), len(rules))
        rules += repeat
        for i, rule in enumerate(rules):
            rule.flag = nw.col(f"__f{i}")
        drop = [r.flag for r in rules if r.severity == "error" and r.drop]
        bad = nw.any_horizontal(*drop, ignore_nulls=True) if drop else nw.lit(False)
        unvalued = (~bad & nw.col(_v("value")).is_null() if self.name in _VALUED_AT_COST
                    else nw.col(ROW).is_null())  # no blank values to fill: count nothing
        sums = work.select(
            *(r.flag.cast(nw.Int64).sum().alias(f"n{i}") for i, r in enumerate(rules)),
            bad.cast(nw.Int64).sum().alias("bad"), nw.len().alias("kept"),
            unvalued.cast(nw.Int64).sum().alias("unvalued"),
            *(nw.col(_v(c)).count().alias(f"c{j}") for j, c in enumerate(self.t.column_names))
        ).collect().rows(named=True)[0]
        self.filled.update({(self.name, c): bool(sums[f"c{j}"])
                            for j, c in enumerate(self.t.column_names)})
        n_blank = n_rows - int(sums["kept"])
        if n_blank:
            self._blank_rows(blank_at, n_blank, raw_columns, schema)
        self._report(rules, work, {i: sums[f"n{i}"] for i in range(len(rules))})
        n_bad = int(sums["bad"] or 0)
        self.dropped += n_blank + n_bad
        final = [nw.col(_v(c)).alias(c) for c in self.t.column_names]
        self.parsed[self.name] = work.select(ROW, *final, *extra)
        self._finish(work.filter(~bad).select(ROW, *final, *extra),
                     n_rows - self.dropped, int(sums["unvalued"] or 0))

    def _blank_rows(self, at: int, n: int, raw_columns: list[str], schema) -> None:
        """The warning for rows without any value, put before the table's other problems."""
        blank = nw.all_horizontal(*(_blank(c, schema[c]) for c in raw_columns),
                                  ignore_nulls=True)
        before = len(self.report.problems)
        self._report([_Rule("", blank, lambda n, first: (
            Note(f"{_have(n)} no values at all and were skipped.",
                 f"{_rows_zh(n)}完全没有值, 已跳过。"),
            Note("Nothing to do, unless data is missing there.",
                 "无需处理, 除非这些行本应有数据。")), "warning")], self.frame, {0: n})
        self.report.problems.insert(at, self.report.problems.pop(before))

    def _repeats(self, work: nw.LazyFrame, missing: set[str],
                 index: int) -> tuple[nw.LazyFrame, list[_Rule]]:
        """Rows repeating an earlier row's key. Whether any key repeats is asked first, cheaply:
        grouped by the key without its date column, a group repeats a key exactly when it has
        more rows than distinct dates (few large groups hash much faster than one group per
        row); the rows are then flagged only when a key repeats. The question is asked of every
        row first, then, if some group repeats, of the rows whose key is filled: DuckDB pushes
        a filter down into the scan, where it re-ran the parse expressions (8× the query)."""
        if set(self.t.key) & missing:
            return work, []
        key = [_v(k) for k in self.t.key]
        filled = nw.all_horizontal(*(~nw.col(k).is_null() for k in key), ignore_nulls=True)
        inner = next((_v(k) for k in self.t.key if self.t.column(k).dtype == "date"), None)
        outer = [k for k in key if k != inner]

        def repeated(frame: nw.LazyFrame) -> int:
            if inner is None or not outer:
                groups = frame.group_by(*key).agg(nw.len().alias("__n"))
                more = nw.col("__n") > 1
            else:
                groups = frame.group_by(*outer).agg(nw.len().alias("__n"),
                                                    nw.col(inner).n_unique().alias("__u"))
                more = nw.col("__n") > nw.col("__u")
            return groups.filter(more).select(nw.len()).collect().item()

        if not repeated(work) or not repeated(work.filter(filled)):
            return work, []
        work = _materialise(work.with_columns(nw.col(ROW).min().over(*key).alias("__first"))
                            .with_columns((filled & (nw.col(ROW) != nw.col("__first")))
                                          .fill_null(False).alias(f"__f{index}")))
        return work, [_Rule(", ".join(self.t.key), nw.col(f"__f{index}"), self._repeat,
                            shown=("__first",))]

    # -- reporting ---------------------------------------------------------------------------

    def _add(self, column: str, rows: tuple[int, ...], n: int, what: Note, fix: Note,
             severity: Severity = "error") -> None:
        self.report.problems.append(Problem(self.name, column, rows, n, what, fix, severity))

    def _report(self, rules: list[_Rule], frame: nw.LazyFrame, counts: Mapping[int, Any]) -> None:
        """For each rule that fired: its first ten rows and its message, in the rules' order."""
        for i, rule in enumerate(rules):
            n = int(counts[i] or 0)
            if not n:
                continue
            shown = [c for c in dict.fromkeys(rule.shown) if c != ROW]
            first = (frame.filter(rule.flag).sort(ROW).head(10).select(ROW, *shown)
                     .collect().rows(named=True))
            what, fix = rule.message(n, first[0])
            self._add(rule.column, tuple(int(r[ROW]) for r in first), n, what, fix,
                      rule.severity)
            if rule.severity == "error" and not rule.drop:  # ambiguous dates
                self.unusable.append(Note(
                    f"the dates in {rule.column!r} could be day/month or month/day",
                    f"{rule.column!r} 中的日期既可能是日/月也可能是月/日"))

    # -- parsing -------------------------------------------------------------------------------

    def _dates(self, frame: nw.LazyFrame,
               schema) -> tuple[nw.LazyFrame, dict[str, tuple[list[str], bool]]]:
        """Parse the text date columns: per column, the format that fits the most cells, and
        whether the column is ambiguous (day/month and month/day both fit best and read some
        cell differently). Formats are tried on the distinct texts (with their counts), whose
        dates are then joined back: a column of 2M cells has a few hundred distinct dates.
        YYYY-MM-DD is tried first: a text that fits it fits no other format, so when it fits
        every text the others are not tried (each format is a long expression, and building
        the queries cost more than running them); the day/month reading is compared only when
        both orders fit best."""
        columns = [c.name for c in self.t.columns if c.dtype == "date" and c.name in schema
                   and not _is_temporal(schema[c.name])]
        out = {}
        for c in columns:
            names = ([self.forced[(self.name, c)]] if (self.name, c) in self.forced
                     else list(DATE_FORMATS))
            text = nw.col(_t(c))
            distinct = _materialise(frame.group_by(_t(c)).agg(nw.len().alias("__n")))
            first = names[:1] if names[0] == "YYYY-MM-DD" else names
            fits = _fits(distinct, text, first)
            if first != names and fits["YYYY-MM-DD"] != fits["__cells"]:
                fits = _fits(distinct, text, names)
            counts = {f: int(fits.get(f) or 0) for f in names}
            best = max(counts.values())
            top = [f for f in names if counts[f] == best and best > 0]
            ambiguous = {"MM/DD/YYYY", "DD/MM/YYYY"} <= set(top) and bool(distinct.select(
                _day_month_differ(text).any()).collect().item())
            out[c] = (top, ambiguous)
            dates = (_date_in(text, top[0]) if top and not ambiguous
                     else nw.lit(None).cast(nw.Date))
            differ = _day_month_differ(text) if ambiguous else nw.lit(False)
            frame = _map_back(frame, distinct.select(_t(c), dates.alias(_p(c)),
                                                     differ.alias(f"__differ_{c}")), _t(c))
        return frame, out

    def _parse(self, col: Column, dtype, formats) -> tuple[nw.Expr, list[_Rule]]:
        """The column's typed values and the rules for unparseable cells and required blanks."""
        value, blank, issues = _PARSERS[col.dtype][1](col, dtype, formats)
        rules = []
        for flag, description, fix, drop in issues:
            if not drop:  # ambiguous day/month: reported, kept, and the table is unusable
                rules.append(_Rule(col.name, flag, lambda n, first, f=fix, c=col.name: (
                    Note(f"{_have(n)} a date that could be day/month or month/day (e.g. "
                         f"{_show(first[c])}), and no value in {c!r} settles which.",
                         f"{_rows_zh(n)}的日期既可能是日/月也可能是月/日 (例如 "
                         f"{_show(first[c])}), 且 {c!r} 中没有能确定顺序的值。"), f),
                    drop=False, shown=(col.name,)))
                continue
            rules.append(_Rule(col.name, flag, lambda n, first, d=description, f=fix, c=col.name: (
                Note(f"{_have(n)} {d} (e.g. {_show(first[c])} in row {first[ROW]}).",
                     f"{_rows_zh(n)}{d.zh} (例如第 {first[ROW]} 行的 {_show(first[c])})。"), f),
                shown=(col.name,)))
        if col.required:
            rules.append(_Rule(col.name, blank, lambda n, first, c=col.name: (
                Note(f"{_have(n)} a blank in a required column (e.g. row {first[ROW]}).",
                     f"{_rows_zh(n)}的必填列为空 (例如第 {first[ROW]} 行)。"),
                Note(f"Fill in {c!r} or remove those rows.", f"请填写 {c!r}, 或删除这些行。"))))
        return value, rules

    # -- value checks ------------------------------------------------------------------------

    def _value_checks(self, work: nw.LazyFrame,
                      missing: set[str]) -> tuple[nw.LazyFrame, list[_Rule]]:
        """Bounds, codes and references per column, row relations (duplicate keys: after the
        flags are computed, ``_repeats``)."""
        rules: list[_Rule] = []
        for col in self.t.columns:
            value, shown = nw.col(_v(col.name)), (_v(col.name),)
            if col.nonnegative:
                rules.append(_Rule(col.name, value < 0, self._negative(col.name), shown=shown))
            if col.maximum is not None:
                rules.append(_Rule(col.name, value > col.maximum, self._maximum(col),
                                   shown=shown))
            if col.choices is not None:
                rules.append(_Rule(col.name, ~value.is_null() & ~value.is_in(col.choices),
                                   self._choices(col), shown=shown))
        known = self._reference("orders", "sub_order_id")
        if self.name == "returns" and known is not None:
            # the orders' ids that returns name (a semi join on the returns' distinct ids)
            ids = _distinct(work, _v("sub_order_id"))
            hits = _distinct(known.select(nw.col("sub_order_id").alias(_v("sub_order_id")))
                             .join(ids, on=_v("sub_order_id"), how="semi"), _v("sub_order_id"))
            work = work.join(hits.with_columns(nw.lit(True).alias("__order")),
                             on=_v("sub_order_id"), how="left")
            rules.append(_Rule("sub_order_id", ~nw.col(_v("sub_order_id")).is_null()
                               & nw.col("__order").is_null(), self._unknown_order,
                               shown=(_v("sub_order_id"),)))
        if self.name == "backorders" and not missing:
            work, found = self._backorder_rules(work)
            rules += found
        if self.name in _NOT_ABOVE:
            low, high, *_ = _NOT_ABOVE[self.name]
            if not {low, high} & missing:
                rules.append(_Rule(low, nw.col(_v(low)) > nw.col(_v(high)), self._not_above,
                                   shown=(_v(low), _v(high))))
        return work, rules

    def _backorder_rules(self, work: nw.LazyFrame) -> tuple[nw.LazyFrame, list[_Rule]]:
        """Backorder lines: 0 < backordered_units ≤ the sub-order's units, backorder_date ≥ its
        paid_date, its sub_order_id in orders, not both shipped and cancelled. Errors: a line
        breaking one cannot be placed in time or counted, so it is dropped and counted."""
        units, day = nw.col(_v("backordered_units")), nw.col(_v("backorder_date"))
        rules = [
            _Rule("backordered_units", units == 0, lambda n, first: (
                Note(f"{_have(n)} 0 backordered units (e.g. row {first[ROW]}).",
                     f"{_rows_zh(n)}的 backordered_units 为 0 (例如第 {first[ROW]} 行)。"),
                Note("A backorder line holds at least part of a unit; remove lines with nothing "
                     "on backorder.", "缺货预订行至少包含部分数量; 请删除没有缺货预订数量的行。"))),
            _Rule("cancelled_date", ~nw.col(_v("shipped_date")).is_null()
                  & ~nw.col(_v("cancelled_date")).is_null(), lambda n, first: (
                Note(f"{_have(n)} both a shipped_date and a cancelled_date (e.g. row "
                     f"{first[ROW]}).",
                     f"{_rows_zh(n)}同时有 shipped_date 和 cancelled_date (例如第 {first[ROW]} 行)。"),
                Note("A backorder ends once, shipped or cancelled: keep the date that happened "
                     "and clear the other.", "缺货预订只会以发货或取消之一结束: 保留实际发生的日期, "
                     "清空另一个。")))]
        orders = self._reference("orders", "sub_order_id")
        if orders is None:
            return work, rules
        first_row = orders.filter(nw.col(ROW) == nw.col(ROW).min().over("sub_order_id"))
        work = work.join(first_row.select(
            nw.col("sub_order_id").alias(_v("sub_order_id")), nw.lit(True).alias("__order"),
            nw.col("units").alias("__order_units"), nw.col("paid_date").alias("__paid")),
            on=_v("sub_order_id"), how="left")
        rules += [
            _Rule("sub_order_id", ~nw.col(_v("sub_order_id")).is_null()
                  & nw.col("__order").is_null(), lambda n, first: (
                Note(f"{_have(n)} a sub_order_id that is not in orders (e.g. "
                     f"{_example(first, 'sub_order_id')}).",
                     f"{_rows_zh(n)}的 sub_order_id 不在 orders 中 "
                     f"({_example_zh(first, 'sub_order_id')})。"),
                Note("Add the orders rows of these sub-orders (a backorder needs its order: SKU, "
                     "units, paid date), or check that the ids match exactly.",
                     "请在 orders 表中补充这些子订单 (缺货预订需要对应订单的 SKU、数量、付款日), "
                     "或检查 ID 是否完全一致。")), shown=(_v("sub_order_id"),)),
            _Rule("backordered_units", units > nw.col("__order_units"), lambda n, first: (
                Note(f"{_have(n)} more backordered units than the sub-order's units (e.g. row "
                     f"{first[ROW]}: {_show(first[_v('backordered_units')])} > "
                     f"{_show(first['__order_units'])}).",
                     f"{_rows_zh(n)}的 backordered_units 大于子订单的 units (例如第 {first[ROW]} "
                     f"行: {_show(first[_v('backordered_units')])} > "
                     f"{_show(first['__order_units'])})。"),
                Note("Only units that were ordered can be on backorder: correct the quantity or "
                     "the sub_order_id.", "只有下单的数量才能缺货预订: 请更正数量或 sub_order_id。")),
                shown=(_v("backordered_units"), "__order_units")),
            _Rule("backorder_date", day < nw.col("__paid"), lambda n, first: (
                Note(f"{_have(n)} a backorder_date before the order's paid_date (e.g. row "
                     f"{first[ROW]}: {_show(first[_v('backorder_date')])} < "
                     f"{_show(first['__paid'])}).",
                     f"{_rows_zh(n)}的 backorder_date 早于订单的 paid_date (例如第 {first[ROW]} "
                     f"行: {_show(first[_v('backorder_date')])} < {_show(first['__paid'])})。"),
                Note("A sub-order goes on backorder on or after its payment: check the dates.",
                     "子订单在付款当天或之后才会进入缺货预订: 请检查日期。")),
                shown=(_v("backorder_date"), "__paid"))]
        return work, rules

    def _negative(self, column: str):
        kind = _number_kind(column)
        return lambda n, first: (
            Note(f"{_have(n)} a negative value (e.g. {_example(first, column)}).",
                 f"{_rows_zh(n)}含有负值 ({_example_zh(first, column)})。"),
            Note(f"{kind.capitalize()} must be ≥ 0: correct those rows or remove them (returns "
                 "belong in the returns table).",
                 f"{_KIND_ZH[kind]}必须 ≥ 0: 请更正或删除这些行 (退货应记录在 returns 表中)。"))

    def _maximum(self, col: Column):
        top = f"{col.maximum:g}"
        return lambda n, first: (
            Note(f"{_have(n)} a value above {top} (e.g. {_example(first, col.name)}).",
                 f"{_rows_zh(n)}的值大于 {top} ({_example_zh(first, col.name)})。"),
            Note(f"{col.name} is a score from 0 to {top}.", f"{col.name} 是 0 到 {top} 的评分。"))

    def _choices(self, col: Column):
        codes = ", ".join(col.choices or ())
        return lambda n, first: (
            Note(f"{_have(n)} an unknown code (e.g. {_example(first, col.name)}).",
                 f"{_rows_zh(n)}含有未知代码 ({_example_zh(first, col.name)})。"),
            Note(f"Use one of: {codes} (upper/lower case does not matter).",
                 f"请使用以下之一: {codes} (不区分大小写)。"))

    @staticmethod
    def _unknown_order(n: int, first: dict) -> tuple[Note, Note]:
        return (Note(f"{_have(n)} a sub_order_id that is not in orders (e.g. "
                     f"{_example(first, 'sub_order_id')}).",
                     f"{_rows_zh(n)}的 sub_order_id 不在 orders 中 "
                     f"({_example_zh(first, 'sub_order_id')})。"),
                Note("Add the orders table rows for these sub-orders (a refund needs its "
                     "purchase), or check that the ids match exactly.",
                     "请在 orders 表中补充这些子订单的行 (退款须有对应的购买), 或检查 ID "
                     "是否完全一致。"))

    def _not_above(self, n: int, first: dict) -> tuple[Note, Note]:
        low, high, description, fix = _NOT_ABOVE[self.name]
        row = first[ROW]
        pair = f"{low} {_show(first[_v(low)])} > {high} {_show(first[_v(high)])}"
        return (Note(f"{_have(n)} {description} (e.g. row {row}: {pair}).",
                     f"{_rows_zh(n)}{description.zh} (例如第 {row} 行: {pair})。"), fix)

    def _repeat(self, n: int, first: dict) -> tuple[Note, Note]:
        column, row, earlier = ", ".join(self.t.key), first[ROW], first["__first"]
        return (Note(f"{_have(n)} a key ({column}) already used by an earlier row (e.g. row "
                     f"{row} repeats row {earlier}).",
                     f"{_rows_zh(n)}的键 ({column}) 与前面的行重复 (例如第 {row} 行重复第 "
                     f"{earlier} 行)。"),
                Note("Keep one row per key: the first is used, the repeats are dropped. Sum or "
                     "remove the repeats in your file.",
                     "每个键只保留一行: 使用第一行, 重复的行被剔除。请在文件中合计或删除重复行。"))

    # -- the rows kept -----------------------------------------------------------------------

    def _finish(self, typed: nw.LazyFrame, n_left: int, n_unvalued: int) -> None:
        """Fill cost-based values (``n_unvalued`` rows kept have none), add warnings on the
        rows kept, keep the clean table."""
        self.report.rows_dropped[self.name] = self.dropped
        if not self.unusable and n_left == 0:
            self.unusable.append(Note("no usable rows are left after removing the rows with "
                                      "errors", "剔除有错误的行后没有可用的行"))
        if self.unusable:
            self.report.unusable[self.name] = Note("; ".join(self.unusable),
                                                   "; ".join(u.zh for u in self.unusable))
            return
        if n_unvalued:
            typed = self._value_at_cost(typed, _VALUED_AT_COST[self.name])
        self._check_masters(typed)
        if self.name == "returns":
            self._check_refund_after_payment(typed)
        if self.name == "batches" and "inventory" in self.clean:
            self._check_batches_reconcile(typed, self.clean["inventory"])
        self.clean[self.name] = typed

    def _warn(self, frame: nw.LazyFrame, rule: _Rule) -> None:
        """Count one warning's rows and report it (the rows are kept)."""
        n = frame.select(rule.flag.fill_null(False).cast(nw.Int64).sum()).collect().item()
        self._report([rule], frame, {0: n})

    def _value_at_cost(self, typed: nw.LazyFrame, units: str) -> nw.LazyFrame:
        """value = units × skus.unit_cost where value is blank (the contract's default)."""
        blank = nw.col("value").is_null()
        skus = self.clean.get("skus")
        if skus is None:
            self._warn(typed, _Rule("value", blank, lambda n, first: (
                Note(f"{_have(n)} no value, and it cannot be computed as {units} × unit_cost "
                     "without a usable skus table.",
                     f"{_rows_zh(n)}没有 value, 且缺少可用的 skus 表, 无法按 {units} × "
                     "unit_cost 计算。"),
                Note("Add the skus table (with unit_cost), or fill in value.",
                     "请添加 skus 表 (含 unit_cost), 或填写 value。")), "warning"))
            return typed
        cost = skus.select("sku", nw.col("unit_cost").alias("__cost"))
        valued = typed.join(cost, on="sku", how="left").with_columns(
            nw.when(blank).then(nw.col(units) * nw.col("__cost")).otherwise(nw.col("value"))
            .alias("value")).drop("__cost")
        return _materialise(valued)

    def _reference(self, table: str, column: str) -> nw.LazyFrame | None:
        """A table checked before, when its ``column`` has values to compare with (counted in
        that table's pass: asking again would re-run its whole parse on DuckDB)."""
        if not self.filled.get((table, column)):
            return None
        return self.parsed[table]

    def _check_masters(self, typed: nw.LazyFrame) -> None:
        """Codes (sku, warehouse) missing from their master table, a warning. The distinct
        code pairs of the rows kept are computed once and kept (small, on the table's engine);
        only a code missing from its master is then looked for row by row."""
        names = typed.collect_schema().names()
        checks = [(column, master, known) for column, master in _MASTERS.items()
                  if self.name != master and column in names
                  and (known := self._reference(master, column)) is not None]
        if not checks:
            return
        codes = engines.materialize(_distinct(typed, *(c for c, _, _ in checks)))
        for column, master, known in checks:
            hits = _distinct(known.filter(~nw.col(column).is_null()), column)
            unknown = _distinct(codes.filter(~nw.col(column).is_null()), column).join(
                hits, on=column, how="anti")
            if unknown.select(nw.len()).collect().item():
                self._check_master(typed, column, master, hits)

    def _check_master(self, typed: nw.LazyFrame, column: str, master: str,
                      hits: nw.LazyFrame) -> None:
        joined = typed.join(hits.with_columns(nw.lit(True).alias("__known")), on=column,
                            how="left")
        flag = ~nw.col(column).is_null() & nw.col("__known").is_null()
        n, distinct = joined.filter(flag).select(
            nw.len(), nw.col(column).n_unique()).collect().row(0)
        self._report([_Rule(column, flag, lambda n, first: (
            Note(f"{_have(n)} a {column} that is not in {master} ({distinct} distinct, e.g. "
                 f"{_show(first[column])} in row {first[ROW]}).",
                 f"{_rows_zh(n)}的 {column} 不在 {master} 中 ({distinct} 个不同值, 例如第 "
                 f"{first[ROW]} 行的 {_show(first[column])})。"),
            Note(f"Add them to {master}, or check that the codes match exactly (spaces, "
                 "leading zeros); KPIs that group or value by them leave these rows out.",
                 f"请将它们添加到 {master}, 或检查代码是否完全一致 (空格、前导零); "
                 "按其分组或计价的 KPI 会剔除这些行。")), "warning", shown=(column,))],
            joined, {0: n})

    def _check_refund_after_payment(self, typed: nw.LazyFrame) -> None:
        orders = self._reference("orders", "paid_date")
        if orders is None:
            return
        # the orders of these returns only (a semi join), then each sub-order's first row
        mine = orders.join(_distinct(typed, "sub_order_id"), on="sub_order_id", how="semi")
        paid = mine.filter(nw.col(ROW) == nw.col(ROW).min().over("sub_order_id")).select(
            "sub_order_id", nw.col("paid_date").alias("__paid"))
        joined = typed.join(paid, on="sub_order_id", how="left")
        self._warn(joined, _Rule("refund_date", nw.col("refund_date") < nw.col("__paid"),
                                 lambda n, first: (
            Note(f"{_have(n)} a refund_date before the order's paid_date (e.g. row "
                 f"{first[ROW]}).",
                 f"{_rows_zh(n)}的 refund_date 早于订单的 paid_date (例如第 {first[ROW]} 行)。"),
            Note("Check the dates: a refund comes after the payment.",
                 "请检查日期: 退款应在付款之后。")), "warning"))

    def _check_batches_reconcile(self, batches: nw.LazyFrame, inventory: nw.LazyFrame) -> None:
        """Σ batch units per cell and batch date vs inventory on_hand_units (1% tolerance)."""
        cell = ["date", "sku", "warehouse"]
        # the inventory rows on batch dates, then the lots on those dates: small, and kept
        # (computed once: inventory is not scanned again for each step below)
        days = engines.materialize(_distinct(batches, "date"))
        stock = engines.materialize(inventory.join(days, on="date", how="semi")
                                    .select(*cell, "on_hand_units"))
        lots = engines.materialize(batches.join(_distinct(stock, "date"), on="date", how="semi")
                                   .group_by(*cell).agg(nw.col("units").sum()))
        cells = _distinct(nw.concat([lots.select(cell), stock.select(cell)], how="vertical"),
                          *cell)
        both = (cells.join(lots, on=cell, how="left").join(stock, on=cell, how="left")
                .with_columns(nw.col("units").fill_null(0.0), nw.col("on_hand_units").fill_null(0.0)))
        off = both.filter((nw.col("units") - nw.col("on_hand_units")).abs()
                          > 0.01 * nw.col("on_hand_units"))
        summary = off.select(nw.len(), nw.col("date").n_unique()).collect().row(0)
        if not summary[0]:
            return
        n_cells, n_dates = int(summary[0]), int(summary[1])
        first = off.sort(*cell).head(1).collect().rows(named=True)[0]
        flagged = batches.join(off.select(cell).with_columns(nw.lit(True).alias("__off")),
                               on=cell, how="left")
        day, units, on_hand = (f"{first['date']:%Y-%m-%d}", f"{first['units']:g}",
                               f"{first['on_hand_units']:g}")
        sku, warehouse = first["sku"], first["warehouse"]
        self._warn(flagged, _Rule("units", ~nw.col("__off").is_null(), lambda n, _: (
            Note(f"On {n_dates} snapshot date(s), batch units do not add up to inventory "
                 f"on_hand_units for {n_cells} sku-warehouse cells (e.g. {day}, {sku} in "
                 f"{warehouse}: batches {units} vs on hand {on_hand}).",
                 f"在 {n_dates} 个快照日期上, 有 {n_cells} 个 sku-仓库组合的批次数量合计与 "
                 f"inventory 的 on_hand_units 不符 (例如 {day}, {sku} 在 {warehouse}: 批次 "
                 f"{units}, 在库 {on_hand})。"),
            Note("Export batches and inventory from the same snapshot; otherwise stock-age "
                 "shares can exceed 100%.",
                 "请从同一快照导出 batches 和 inventory; 否则库龄占比可能超过 100%。")),
            "warning"))


# ---------------------------------------------------------------------------------------------
# Parsing, as expressions. Each parser returns (values, blank flag, issues); an issue is (flag of
# bad cells, description, fix, drop) with Notes; the description's Chinese follows "N 行".


def _is_temporal(dtype) -> bool:
    return dtype == nw.Date or dtype == nw.Datetime


def _text(name: str, dtype) -> nw.Expr:
    """Cells as trimmed text; blank cells become null. Whole floats read as '12', not '12.0'
    (Excel stores whole numbers as floats)."""
    cell = nw.col(name)
    if dtype == nw.String:
        text = cell.str.strip_chars()
    elif dtype.is_float():
        whole = cell.is_finite() & (cell % 1 == 0) & (cell.abs() < 2**53)
        as_int = nw.when(whole).then(cell).cast(nw.Int64).cast(nw.String)
        text = nw.when(whole).then(as_int).otherwise(cell.cast(nw.String))
    else:
        text = cell.cast(nw.String)
    return nw.when(text != "").then(text)


def _blank(name: str, dtype) -> nw.Expr:
    if dtype == nw.String:
        return nw.col(name).is_null() | (nw.col(name).str.strip_chars() == "")
    return nw.col(name).is_null()


def _needs_text(col: Column, dtype) -> bool:
    """Whether a column is parsed from its cells' text (not from typed cells)."""
    if col.dtype in ("float", "int"):
        return not dtype.is_numeric()
    if col.dtype == "bool":
        return dtype != nw.Boolean
    if col.dtype in ("date", "month"):
        return not _is_temporal(dtype)
    return True


def _pre_text(col: Column, dtype) -> nw.Expr:
    text = nw.col(_t(col.name))
    if col.dtype == "code":
        return text.str.to_uppercase() if col.upper_case else text.str.to_lowercase()
    return text


def _parse_text(col: Column, dtype, formats):
    value = nw.col(_p(col.name))
    return value, value.is_null(), []


def _pre_number(col: Column, dtype) -> nw.Expr:
    """Typed cells as they are; text cells plain (1.5, -2, 1e3) or with thousands separators
    (1,234.5 / 1 234); anything else null."""
    if not _needs_text(col, dtype):
        return nw.col(col.name).cast(nw.Float64)
    text = nw.col(_t(col.name))
    return nw.when(text.str.contains(_PLAIN)).then(text).otherwise(
        nw.when(text.str.contains(_GROUPED)).then(
            text.str.replace_all(f"[,{_SPACES}]", ""))).cast(nw.Float64)


def _parse_number(col: Column, dtype, formats):
    """NaN and infinity are not numbers: reported like text."""
    values = nw.col(_p(col.name))
    blank = nw.col(_t(col.name)).is_null() if _needs_text(col, dtype) else values.is_null()
    bad = ~blank & (values.is_null() | ~values.is_finite())
    kind = _number_kind(col.name)
    whole = col.dtype == "int"
    where = "a whole-number" if whole else "a number"
    must = ("whole numbers" if whole else "numbers") + (" ≥ 0" if col.nonnegative else "")
    must_zh = (" ≥ 0 的" if col.nonnegative else "") + ("整数" if whole else "数字")
    issues = [(bad, Note(f"text in {where} column", f"在{'整数' if whole else '数值'}列中含有文本"),
               Note(f"Remove the text or map the right column; {kind} must be {must} "
                    "(thousands separators such as 1,234.5 are fine).",
                    f"请删除文本或映射正确的列; {_KIND_ZH[kind]}必须是{must_zh} "
                    "(可以带千位分隔符, 如 1,234.5)。"), True)]
    if whole:
        fraction = ~bad & ~blank & (values % 1 != 0)
        issues.append((fraction, Note("a fraction in a whole-number column", "在整数列中含有小数"),
                       Note(f"{col.name} counts whole units: use whole numbers.",
                            f"{col.name} 按整数单位计数: 请使用整数。"), True))
        bad = bad | fraction
    return nw.when(~bad).then(values), blank, issues


def _pre_bool(col: Column, dtype) -> nw.Expr:
    """Typed yes/no cells as they are; text lower-cased (compared with the words below)."""
    if not _needs_text(col, dtype):
        return nw.col(col.name)
    return nw.col(_t(col.name)).str.to_lowercase()


def _parse_bool(col: Column, dtype, formats):
    values = nw.col(_p(col.name))
    if not _needs_text(col, dtype):
        return values, values.is_null(), []
    blank = values.is_null()
    bad = ~blank & ~values.is_in(_TRUE + _FALSE)
    issue = (bad, Note("a value that is not yes/no", "含有不是 是/否 的值"),
             Note("Use true/false, 1/0, yes/no, y/n or 是/否.",
                  "请使用 true/false、1/0、yes/no、y/n 或 是/否。"), True)
    return nw.when(~bad).then(values.is_in(_TRUE)), blank, [issue]


def _pre_month(col: Column, dtype) -> nw.Expr:
    """Months as 'YYYY-MM' text, from dates or from YYYY-MM, YYYY/M, YYYYMM, YYYY年M月."""
    if not _needs_text(col, dtype):
        return nw.col(col.name).dt.to_string("%Y-%m")
    text = nw.col(_t(col.name))
    fits = text.str.contains(_MONTH)
    month = nw.when(fits).then(text.str.slice(4).str.replace_all(r"\D", "")).cast(nw.Int64)
    return nw.when(fits & (month >= 1) & (month <= 12)).then(nw.concat_str(
        [text.str.slice(0, 4), nw.lit("-"), month.cast(nw.String).str.zfill(2)]))


def _parse_month(col: Column, dtype, formats):
    values = nw.col(_p(col.name))
    if not _needs_text(col, dtype):
        return values, values.is_null(), []
    blank = nw.col(_t(col.name)).is_null()
    issue = (~blank & values.is_null(),
             Note("a value that is not a month YYYY-MM", "含有不是 YYYY-MM 月份的值"),
             Note("Write months as YYYY-MM, e.g. 2024-03 (2024/03, 202403 and 2024年3月 are "
                  "read too).",
                  "月份请写成 YYYY-MM, 例如 2024-03 (也能识别 2024/03、202403 和 2024年3月)。"),
             True)
    return values, blank, [issue]


def _pre_date(col: Column, dtype) -> nw.Expr:
    """Typed dates and datetimes (local time kept) as dates; text dates are joined in by
    ``_TableCheck._dates``."""
    cells = nw.col(col.name)
    if dtype == nw.Datetime and dtype.time_zone is not None:
        cells = cells.dt.replace_time_zone(None)
    return cells.cast(nw.Date)


def _parse_date(col: Column, dtype, formats: tuple[list[str], bool] | None):
    """One format per column: the one that fits the most cells; day/month vs month/day is
    never guessed (reported as ambiguous unless the format is chosen)."""
    values = nw.col(_p(col.name))
    issues = []
    if not _needs_text(col, dtype):
        blank = values.is_null()
    else:
        blank = nw.col(_t(col.name)).is_null()
        top, ambiguous = formats or ([], False)
        if ambiguous:
            return values, blank, [(nw.col(f"__differ_{col.name}"), None, Note(
                "Choose the order for this column (DD/MM/YYYY or MM/DD/YYYY), or write the "
                "dates as YYYY-MM-DD.",
                "请为该列选择日期顺序 (DD/MM/YYYY 或 MM/DD/YYYY), 或将日期写成 YYYY-MM-DD。"),
                False)]
        accepted = ", ".join(DATE_FORMATS)
        fits = f"the column's format {top[0]}" if top else f"an accepted format ({accepted})"
        fits_zh = f"该列的格式 {top[0]} " if top else f"任何可接受的格式 ({accepted}) "
        issues.append((~blank & values.is_null(),
                       Note(f"a value that is not a date in {fits}",
                            f"含有无法按{fits_zh}识别为日期的值"),
                       Note("Write every date of the column in one format, best YYYY-MM-DD; "
                            "check that the day exists.",
                            "该列的所有日期请使用同一种格式, 最好是 YYYY-MM-DD; 并检查日期"
                            "是否存在。"), True))
    far = ~values.is_null() & ((values < _FIRST_DAY) | (values > _LAST_DAY))
    issues.append((far, Note("a date outside the years 1678–2261", "含有 1678–2261 年范围之外的日期"),
                   Note("Correct the year, or leave the cell blank when there is no date "
                        "(e.g. 9999-12-31 for 'never expires').",
                        "请更正年份; 没有日期时请留空 (例如用 9999-12-31 表示“永不过期”时)。"),
                   True))
    return nw.when(~far).then(values), blank, issues


_PARSERS = {"str": (_pre_text, _parse_text), "code": (_pre_text, _parse_text),
            "float": (_pre_number, _parse_number), "int": (_pre_number, _parse_number),
            "bool": (_pre_bool, _parse_bool), "month": (_pre_month, _parse_month),
            "date": (_pre_date, _parse_date)}


def _date_parts(text: nw.Expr, name: str) -> tuple[nw.Expr, nw.Expr, nw.Expr]:
    """Year, month and day of the texts that fit a format (null elsewhere)."""
    pattern, order = DATE_FORMATS[name]
    fits = text.str.contains(f"^{pattern}{_TIME}$")
    day = nw.when(fits).then(text.str.replace_all(r"[ T].*$", ""))
    if name == "YYYYMMDD":
        parts = [day.str.slice(0, 4), day.str.slice(4, 2), day.str.slice(6, 2)]
    else:
        pieces = day.str.replace_all(r"\D+", "-").str.strip_chars("-").str.split("-")
        parts = [pieces.list.get(i) for i in range(len(order))]
    if order == "ym":
        return parts[0].cast(nw.Int64), parts[1].cast(nw.Int64), nw.when(fits).then(nw.lit(1)).cast(nw.Int64)
    y, m, d = (parts[order.index(k)].cast(nw.Int64) for k in "ymd")
    return y, m, d


def _day_exists(y: nw.Expr, m: nw.Expr, d: nw.Expr) -> nw.Expr:
    """Whether year, month and day make a day of the calendar (no 2024-02-30)."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = nw.when(m == 2).then(nw.when(leap).then(29).otherwise(28)).otherwise(
        nw.when(m.is_in([4, 6, 9, 11])).then(30).otherwise(31))
    return (m >= 1) & (m <= 12) & (d >= 1) & (d <= days)


def _iso_date(text: nw.Expr) -> nw.Expr:
    """The dates of texts written exactly YYYY-MM-DD (null for any other text or a day that
    does not exist): fixed positions, so slices instead of ``_date_in``'s pattern groups. Such
    a text fits no other format, so its date is the same whatever format a column has."""
    iso = nw.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(text)
    y, m, d = (iso.str.slice(start, n).cast(nw.Int64) for start, n in ((0, 4), (5, 2), (8, 2)))
    return nw.when(_day_exists(y, m, d)).then(iso).str.to_date("%Y-%m-%d")


def _date_in(text: nw.Expr, name: str) -> nw.Expr:
    """The dates of the texts under one format (null where the text does not fit it or the day
    does not exist, such as 2024-02-30)."""
    y, m, d = _date_parts(text, name)
    valid = _day_exists(y, m, d)
    iso = nw.concat_str([y.cast(nw.String).str.zfill(4), nw.lit("-"),
                         m.cast(nw.String).str.zfill(2), nw.lit("-"),
                         d.cast(nw.String).str.zfill(2)])
    return nw.when(valid).then(iso).str.to_date("%Y-%m-%d")


def _map_back(frame: nw.LazyFrame, values: nw.LazyFrame, key: str) -> nw.LazyFrame:
    """Add the columns of ``values`` (one row per distinct ``key``) to each row of ``frame``.

    polars: the few distinct keys are mapped in place (``replace_strict``), which keeps the rows
    in order (a join does not: the table had to be sorted back, which cost more than the join);
    other engines, or many keys: a left join (DuckDB would test a long CASE row by row)."""
    if frame.implementation.is_polars():
        table = values.filter(~nw.col(key).is_null()).collect()
        if len(table) <= _MAP_KEYS:
            keys = table[key].to_list()
            return frame.with_columns(*(
                nw.col(key).replace_strict(keys, table[name].to_list(), default=None,
                                           return_dtype=dtype).alias(name)
                for name, dtype in table.schema.items() if name != key))
    return frame.join(values, on=key, how="left")


def _fits(distinct: nw.LazyFrame, text: nw.Expr, formats: list[str]) -> dict[str, Any]:
    """How many cells (``__n`` per distinct text) each format reads as a date, and how many
    cells have a text (``__cells``)."""
    return distinct.select(
        (nw.col("__n") * (~text.is_null()).cast(nw.Int64)).sum().alias("__cells"),
        *((nw.col("__n") * (~_date_in(text, f).is_null()).cast(nw.Int64)).sum().alias(f)
          for f in formats)).collect().rows(named=True)[0]


def _day_month_differ(text: nw.Expr) -> nw.Expr:
    """Texts that are valid dates both as MM/DD/YYYY and DD/MM/YYYY, and differ."""
    mdy, dmy = _date_in(text, "MM/DD/YYYY"), _date_in(text, "DD/MM/YYYY")
    return ~mdy.is_null() & ~dmy.is_null() & (mdy != dmy)


def _dates_of(frame: nw.LazyFrame):
    """The dtype of clean dates: nanoseconds (pandas, polars, DuckDB); Spark keeps microseconds."""
    return nw.Datetime("us") if engines.is_spark(frame) else _DATETIME


def _fill(values: nw.Expr, col: Column, dates=_DATETIME) -> nw.Expr:
    """Blanks take the column's default; the result has the column's final dtype."""
    if col.default is not None:
        values = values.fill_null(col.default)
    if col.dtype in ("str", "code", "month"):
        return values.cast(nw.String)
    if col.dtype == "date":
        return values.cast(dates)
    if col.dtype == "bool":  # every bool column has a default (contract), so no blanks remain
        return values.cast(nw.Boolean)
    if col.dtype == "int" and col.default is not None:
        return values.cast(nw.Int64)
    return values.cast(nw.Float64)


# ---------------------------------------------------------------------------------------------
# Messages


def _have(n: int) -> str:
    return "1 row has" if n == 1 else f"{n:,} rows have"


def _rows_zh(n: int) -> str:
    """The Chinese of ``_have``: "N 行", followed by the description."""
    return f"{n:,} 行"


def _example(first: dict, column: str) -> str:
    return f"{_show(first[_v(column)])} in row {first[ROW]}"


def _example_zh(first: dict, column: str) -> str:
    return f"例如第 {first[ROW]} 行的 {_show(first[_v(column)])}"


def _say(text: str, lang: str) -> str:
    """A message in ``lang`` (a plain string, e.g. a Problem built by hand, reads as it is)."""
    return text(lang) if isinstance(text, Note) else str(text)


def _count_text(n: int, word: str) -> str:
    return f"1 {word}" if n == 1 else f"{n:,} {word}s"


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (pd.Timestamp, dt.date)):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_KIND_ZH = {"amounts": "金额", "quantities": "数量", "values": "数值"}
_SEVERITY_ZH = {"error": "错误", "warning": "警告"}


def _number_kind(column: str) -> str:
    if column in _MONEY:
        return "amounts"
    if column == "units" or column.endswith("_units") or column == "planned_orders":
        return "quantities"
    return "values"


def _rows_text(p: Problem, lang: str = "en") -> str:
    text = ", ".join(map(str, p.rows))
    more = p.n_rows - len(p.rows)
    if more <= 0:
        return text
    return f"{text} … (另 {more:,} 行)" if lang == "zh" else f"{text} … (+{more:,} more)"
