"""Validate raw tables against the data contract: parse, check, clean, and report every problem.

Two steps, because pandera stops checking a column once coercing it fails (so a negative
quantity next to a text cell would go unreported):
1. each column is parsed here, cell by cell but vectorised; cells that do not parse are counted
   and reported with their rows;
2. pandera (``lazy=True``) runs the value checks on the parsed columns.
The index is the spreadsheet row number (header = row 1), so every problem names the rows the
user sees. Rows with an error are dropped from the cleaned tables and counted; warnings keep
the row.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api import types as ptypes

from kpilab.contract import TABLES, Column, Table
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
}
"""Date formats accepted in a date column (one per column); a time of day after it is ignored."""

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_MONTH_PATTERNS = (r"(\d{4})-(\d{1,2})", r"(\d{4})/(\d{1,2})", r"(\d{4})(\d{2})",
                   r"(\d{4})年(\d{1,2})月")
_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
          "y": True, "n": False, "是": True, "否": False}
_GROUPED = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+)(?:\.\d+)?"
_MONEY = {"gmv", "value", "amount", "unit_cost", "unit_price"}
# Dates are returned as datetime64[ns], which holds these years.
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")

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
                 f"{_count(len(self.errors), 'error')}, {_count(len(self.warnings), 'warning')}"]
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
    """The usable tables, typed and cleaned (every contract column present), and the report."""

    tables: dict[str, pd.DataFrame]
    report: ValidationReport


def validate(tables: Mapping[str, pd.DataFrame], *,
             date_formats: Mapping[str, Mapping[str, str]] | None = None) -> ValidatedTables:
    """Parse, check and clean the tables (as read, headers already mapped to contract names).

    ``date_formats`` fixes the format of a date column ({"sales": {"date": "DD/MM/YYYY"}}), the
    way to settle a column whose dates could be day/month or month/day. Tables are checked in
    contract order, so references (returns → orders, sku → skus) use tables checked before.
    """
    report = ValidationReport()
    forced = {(t, c): f for t, cols in (date_formats or {}).items() for c, f in cols.items()}
    for (table, column), fmt in forced.items():
        if fmt not in DATE_FORMATS:
            raise ValueError(f"Unknown date format {fmt!r} for {table}.{column}; "
                             f"choose one of {', '.join(DATE_FORMATS)}.")
    parsed: dict[str, pd.DataFrame] = {}
    clean: dict[str, pd.DataFrame] = {}
    for name in tables:
        if name not in TABLES:
            report.problems.append(_problem(
                name, "", None,
                Note(f"{name!r} is not a contract table and was ignored.",
                     f"{name!r} 不是约定中的表, 已忽略。"),
                Note(f"Rename it after a contract table ({', '.join(TABLES)}).",
                     f"请按约定中的表名重命名 ({', '.join(TABLES)})。"), "warning"))
    for name, table in TABLES.items():
        if name in tables:
            _TableCheck(table, tables[name], report, forced, parsed, clean).run()
    return ValidatedTables(clean, report)


class _TableCheck:
    """Validation of one table; writes into the shared report, parsed and clean dicts."""

    def __init__(self, table: Table, frame: pd.DataFrame, report: ValidationReport,
                 forced: dict[tuple[str, str], str], parsed: dict[str, pd.DataFrame],
                 clean: dict[str, pd.DataFrame]):
        self.t, self.name, self.report = table, table.name, report
        self.raw = frame.set_axis(np.arange(2, len(frame) + 2), axis=0)
        self.forced, self.parsed, self.clean = forced, parsed, clean
        self.bad = pd.Series(False, index=self.raw.index)
        self.unusable: list[Note] = []

    def add(self, column: str, mask: pd.Series | None, what: Note, fix: Note,
            severity: Severity = "error", drop: bool = True) -> None:
        """Report a problem; an error drops its rows unless ``drop`` is False."""
        self.report.problems.append(_problem(self.name, column, mask, what, fix, severity))
        if severity == "error" and drop and mask is not None:
            self.bad[mask.index[mask.to_numpy()]] = True

    def run(self) -> None:
        self.report.rows_read[self.name] = len(self.raw)
        if self.raw.empty:
            self.report.problems.append(_problem(
                self.name, "", None,
                Note("The table is empty (no data rows).", "该表为空 (没有数据行)。"),
                Note(f"Fill in {self.name} or remove the file; the KPIs that need it cannot be "
                     "computed.", f"请填写 {self.name} 或移除该文件; 依赖此表的 KPI 无法计算。")))
            self.report.unusable[self.name] = Note("the table is empty", "该表为空")
            return
        frame = self._drop_blank_rows(self.raw)
        missing = [c for c in self.t.column_names if c not in frame.columns
                   and self.t.column(c).required]
        for c in missing:
            self.add(c, None, Note(f"Required column {c!r} is missing.", f"缺少必填列 {c!r}。"),
                     Note(f"Add a column {c!r} to {self.name}, or map your header onto {c!r} "
                          "(column mapping).",
                          f"在 {self.name} 中添加列 {c!r}, 或将你的表头映射到 {c!r} (列映射)。"))
        if missing:
            names = ", ".join(map(repr, missing))
            self.unusable.append(Note("missing required column " + names, "缺少必填列 " + names))
        extra = [c for c in frame.columns if c not in self.t.column_names]
        if extra:
            names = ", ".join(repr(str(c)) for c in extra)
            self.add("", None,
                     Note(f"Columns not in the contract are kept but not used: {names}.",
                          f"不在约定中的列会保留, 但不参与计算: {names}。"),
                     Note("Map them onto contract columns if they hold one (column mapping).",
                          "如果其中有列对应约定中的列, 请做映射 (列映射)。"), "warning")
        typed = pd.DataFrame(index=frame.index)
        for col in self.t.columns:
            typed[col.name] = (self._parse(col, frame[col.name]) if col.name in frame.columns
                               else _fill(pd.Series(np.nan, index=frame.index), col))
        typed = pd.concat([typed, frame[extra]], axis=1)
        self.parsed[self.name] = typed
        self._value_checks(typed, set(missing))
        self._finish(typed[~self.bad.loc[typed.index]])

    def _drop_blank_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        blank = pd.concat([_blank(frame[c]) for c in frame.columns], axis=1).all(axis=1)
        if blank.any():
            self.add("", blank, Note(f"{_have(blank.sum())} no values at all and were skipped.",
                                     f"{_rows_zh(blank.sum())}完全没有值, 已跳过。"),
                     Note("Nothing to do, unless data is missing there.",
                          "无需处理, 除非这些行本应有数据。"), "warning")
            self.bad[blank] = True
        return frame[~blank]

    def _parse(self, col: Column, raw: pd.Series) -> pd.Series:
        """The column's typed values; unparseable cells and required blanks are reported."""
        forced = self.forced.get((self.name, col.name))
        values, blank, issues = _PARSERS[col.dtype](raw, col, forced)
        for mask, description, fix in issues:
            if isinstance(mask, _Ambiguous):
                n = mask.rows.sum()
                self.add(col.name, mask.rows, Note(f"{_have(n)} {description}",
                                                   f"{_rows_zh(n)}{description.zh}"),
                         fix, drop=False)
                self.unusable.append(Note(
                    f"the dates in {col.name!r} could be day/month or month/day",
                    f"{col.name!r} 中的日期既可能是日/月也可能是月/日"))
                continue
            first = mask.idxmax()
            shown = _show(raw.loc[first])
            self.add(col.name, mask,
                     Note(f"{_have(mask.sum())} {description} (e.g. {shown} in row {first}).",
                          f"{_rows_zh(mask.sum())}{description.zh} (例如第 {first} 行的 "
                          f"{shown})。"), fix)
        if col.required and blank.any():
            n, first = blank.sum(), blank.idxmax()
            self.add(col.name, blank,
                     Note(f"{_have(n)} a blank in a required column (e.g. row {first}).",
                          f"{_rows_zh(n)}的必填列为空 (例如第 {first} 行)。"),
                     Note(f"Fill in {col.name!r} or remove those rows.",
                          f"请填写 {col.name!r}, 或删除这些行。"))
        return _fill(values, col)

    def _value_checks(self, typed: pd.DataFrame, missing: set[str]) -> None:
        """pandera: bounds, codes and references per column, row relations, duplicate keys."""
        checks: dict[str, list[pa.Check]] = {}
        for col in self.t.columns:
            own = checks.setdefault(col.name, [])
            if col.nonnegative:
                own.append(pa.Check(lambda s: s >= 0, error="negative", ignore_na=True))
            if col.maximum is not None:
                own.append(pa.Check.le(col.maximum, error="maximum", ignore_na=True))
            if col.choices is not None:
                own.append(pa.Check.isin(col.choices, error="choices", ignore_na=True))
        known = self._reference("orders", "sub_order_id")
        if self.name == "returns" and known is not None:
            checks["sub_order_id"].append(
                pa.Check(lambda s: s.isin(known), error="unknown_order", ignore_na=True))
        runs = [(pa.DataFrameSchema({c: pa.Column(checks=k, nullable=True)
                                     for c, k in checks.items() if k}), typed)]
        if self.name in _NOT_ABOVE:
            low, high, *_ = _NOT_ABOVE[self.name]
            if not {low, high} & missing:
                runs.append((pa.DataFrameSchema(checks=[pa.Check(
                    lambda d: ~(d[low] > d[high]), error="not_above")]), typed[[low, high]]))
        key = list(self.t.key)
        if not set(key) & missing:
            keys = typed[key].dropna()
            runs.append((pa.DataFrameSchema(unique=key, report_duplicates="exclude_first"), keys))
        failures = []
        for schema, frame in runs:
            try:
                schema.validate(frame, lazy=True)
            except pa.errors.SchemaErrors as exc:
                failures.append(exc.failure_cases)
        if failures:
            self._report_failures(pd.concat(failures), typed)

    def _report_failures(self, cases: pd.DataFrame, typed: pd.DataFrame) -> None:
        index = typed.index
        for check, group in cases.groupby("check", sort=False):
            if check in ("not_above", "multiple_fields_uniqueness"):
                column = self.t.key if check != "not_above" else _NOT_ABOVE[self.name][:1]
                self._report_rows(check, ", ".join(column), index.isin(group["index"]), typed)
                continue
            for column, cells in group.groupby("column", sort=False):
                self._report_cells(check, column, index.isin(cells["index"]), typed[column])

    def _report_cells(self, check: str, column: str, mask: np.ndarray, values: pd.Series) -> None:
        mask = pd.Series(mask, index=values.index)
        first, n = mask.idxmax(), mask.sum()
        shown = _show(values.loc[first])
        example = f"{shown} in row {first}"
        example_zh = f"例如第 {first} 行的 {shown}"
        col = self.t.column(column)
        if check == "negative":
            kind = _number_kind(column)
            self.add(column, mask, Note(f"{_have(n)} a negative value (e.g. {example}).",
                                        f"{_rows_zh(n)}含有负值 ({example_zh})。"),
                     Note(f"{kind.capitalize()} must be ≥ 0: correct those rows or remove them "
                          "(returns belong in the returns table).",
                          f"{_KIND_ZH[kind]}必须 ≥ 0: 请更正或删除这些行 (退货应记录在 returns "
                          "表中)。"))
        elif check == "maximum":
            self.add(column, mask, Note(f"{_have(n)} a value above {col.maximum:g} "
                                        f"(e.g. {example}).",
                                        f"{_rows_zh(n)}的值大于 {col.maximum:g} ({example_zh})。"),
                     Note(f"{column} is a score from 0 to {col.maximum:g}.",
                          f"{column} 是 0 到 {col.maximum:g} 的评分。"))
        elif check == "choices":
            codes = ", ".join(col.choices)
            self.add(column, mask, Note(f"{_have(n)} an unknown code (e.g. {example}).",
                                        f"{_rows_zh(n)}含有未知代码 ({example_zh})。"),
                     Note(f"Use one of: {codes} (upper/lower case does not matter).",
                          f"请使用以下之一: {codes} (不区分大小写)。"))
        else:  # unknown_order
            self.add(column, mask,
                     Note(f"{_have(n)} a sub_order_id that is not in orders (e.g. {example}).",
                          f"{_rows_zh(n)}的 sub_order_id 不在 orders 中 ({example_zh})。"),
                     Note("Add the orders table rows for these sub-orders (a refund needs its "
                          "purchase), or check that the ids match exactly.",
                          "请在 orders 表中补充这些子订单的行 (退款须有对应的购买), 或检查 ID "
                          "是否完全一致。"))

    def _report_rows(self, check: str, column: str, mask: np.ndarray, typed: pd.DataFrame) -> None:
        mask = pd.Series(mask, index=typed.index)
        first, n = mask.idxmax(), mask.sum()
        if check == "not_above":
            low, high, description, fix = _NOT_ABOVE[self.name]
            pair = (f"{low} {_show(typed.at[first, low])} > {high} "
                    f"{_show(typed.at[first, high])}")
            self.add(column, mask, Note(f"{_have(n)} {description} (e.g. row {first}: {pair}).",
                                        f"{_rows_zh(n)}{description.zh} (例如第 {first} 行: "
                                        f"{pair})。"), fix)
            return
        key = list(self.t.key)
        same = (typed[key] == typed.loc[first, key]).all(axis=1)
        earlier = same.idxmax()
        self.add(column, mask,
                 Note(f"{_have(n)} a key ({column}) already used by an earlier row (e.g. row "
                      f"{first} repeats row {earlier}).",
                      f"{_rows_zh(n)}的键 ({column}) 与前面的行重复 (例如第 {first} 行重复第 "
                      f"{earlier} 行)。"),
                 Note("Keep one row per key: the first is used, the repeats are dropped. Sum or "
                      "remove the repeats in your file.",
                      "每个键只保留一行: 使用第一行, 重复的行被剔除。请在文件中合计或删除重复行。"))

    def _finish(self, typed: pd.DataFrame) -> None:
        """Drop bad rows, fill cost-based values, add warnings on the rows kept."""
        self.report.rows_dropped[self.name] = int(self.bad.sum())
        if not self.unusable and typed.empty:
            self.unusable.append(Note("no usable rows are left after removing the rows with "
                                      "errors", "剔除有错误的行后没有可用的行"))
        if self.unusable:
            self.report.unusable[self.name] = Note("; ".join(self.unusable),
                                                   "; ".join(u.zh for u in self.unusable))
            return
        if self.name in _VALUED_AT_COST:
            typed = self._value_at_cost(typed, _VALUED_AT_COST[self.name])
        for column, master in _MASTERS.items():
            self._check_master(typed, column, master)
        if self.name == "returns":
            self._check_refund_after_payment(typed)
        if self.name == "batches" and "inventory" in self.clean:
            self._check_batches_reconcile(typed, self.clean["inventory"])
        self.clean[self.name] = typed.reset_index(drop=True)

    def _value_at_cost(self, typed: pd.DataFrame, units: str) -> pd.DataFrame:
        blank = typed["value"].isna()
        if not blank.any():
            return typed
        skus = self.clean.get("skus")
        if skus is None:
            n = blank.sum()
            self.add("value", blank,
                     Note(f"{_have(n)} no value, and it cannot be computed as {units} × "
                          "unit_cost without a usable skus table.",
                          f"{_rows_zh(n)}没有 value, 且缺少可用的 skus 表, 无法按 {units} × "
                          "unit_cost 计算。"),
                     Note("Add the skus table (with unit_cost), or fill in value.",
                          "请添加 skus 表 (含 unit_cost), 或填写 value。"), "warning")
            return typed
        cost = typed["sku"].map(skus.set_index("sku")["unit_cost"])
        return typed.assign(value=typed["value"].fillna(typed[units] * cost))

    def _reference(self, table: str, column: str) -> pd.Series | None:
        """The values of a column of a table checked before; None when it has none to compare."""
        values = self.parsed[table][column].dropna() if table in self.parsed else None
        return values if values is not None and len(values) else None

    def _check_master(self, typed: pd.DataFrame, column: str, master: str) -> None:
        known = self._reference(master, column)
        if self.name == master or column not in typed or known is None:
            return
        unknown = typed[column].notna() & ~typed[column].isin(known)
        if unknown.any():
            first, n = unknown.idxmax(), unknown.sum()
            distinct = typed.loc[unknown, column].nunique()
            shown = _show(typed.at[first, column])
            self.add(column, unknown,
                     Note(f"{_have(n)} a {column} that is not in {master} ({distinct} distinct, "
                          f"e.g. {shown} in row {first}).",
                          f"{_rows_zh(n)}的 {column} 不在 {master} 中 ({distinct} 个不同值, "
                          f"例如第 {first} 行的 {shown})。"),
                     Note(f"Add them to {master}, or check that the codes match exactly (spaces, "
                          "leading zeros); KPIs that group or value by them leave these rows out.",
                          f"请将它们添加到 {master}, 或检查代码是否完全一致 (空格、前导零); "
                          "按其分组或计价的 KPI 会剔除这些行。"), "warning")

    def _check_refund_after_payment(self, typed: pd.DataFrame) -> None:
        if self._reference("orders", "paid_date") is None:
            return
        orders = self.parsed["orders"]
        paid = orders.drop_duplicates("sub_order_id").set_index("sub_order_id")["paid_date"]
        early = typed["refund_date"] < typed["sub_order_id"].map(paid)
        if early.any():
            first, n = early.idxmax(), early.sum()
            self.add("refund_date", early,
                     Note(f"{_have(n)} a refund_date before the order's paid_date (e.g. row "
                          f"{first}).",
                          f"{_rows_zh(n)}的 refund_date 早于订单的 paid_date (例如第 {first} 行)。"),
                     Note("Check the dates: a refund comes after the payment.",
                          "请检查日期: 退款应在付款之后。"), "warning")

    def _check_batches_reconcile(self, batches: pd.DataFrame, inventory: pd.DataFrame) -> None:
        """Σ batch units per cell and batch date vs inventory on_hand_units (1% tolerance)."""
        cell = ["date", "sku", "warehouse"]
        dates = batches["date"].unique()
        lots = batches.groupby(cell, as_index=False)["units"].sum()
        stock = inventory.loc[inventory["date"].isin(dates), [*cell, "on_hand_units"]]
        both = lots.merge(stock, on=cell, how="outer")
        both = both[both["date"].isin(inventory["date"])].fillna({"units": 0, "on_hand_units": 0})
        off = both[(both["units"] - both["on_hand_units"]).abs() > 0.01 * both["on_hand_units"]]
        if off.empty:
            return
        rows = batches.set_index(cell).index.isin(off.set_index(cell).index)
        first = off.iloc[0]
        dates, day = off["date"].nunique(), f"{first['date']:%Y-%m-%d}"
        units, on_hand = f"{first['units']:g}", f"{first['on_hand_units']:g}"
        self.add("units", pd.Series(rows, index=batches.index),
                 Note(f"On {dates} snapshot date(s), batch units do not add up to inventory "
                      f"on_hand_units for {len(off)} sku-warehouse cells (e.g. {day}, "
                      f"{first['sku']} in {first['warehouse']}: batches {units} vs on hand "
                      f"{on_hand}).",
                      f"在 {dates} 个快照日期上, 有 {len(off)} 个 sku-仓库组合的批次数量合计与 "
                      f"inventory 的 on_hand_units 不符 (例如 {day}, {first['sku']} 在 "
                      f"{first['warehouse']}: 批次 {units}, 在库 {on_hand})。"),
                 Note("Export batches and inventory from the same snapshot; otherwise stock-age "
                      "shares can exceed 100%.",
                      "请从同一快照导出 batches 和 inventory; 否则库龄占比可能超过 100%。"),
                 "warning")


# ---------------------------------------------------------------------------------------------
# Parsing. Each parser returns (values, blank mask, issues); an issue is (mask of bad cells,
# description, fix) or (_Ambiguous, description, fix), as Notes; the description's Chinese
# follows "N 行" (N rows).


@dataclass(frozen=True)
class _Ambiguous:
    rows: pd.Series


def _parse_text(raw: pd.Series, col: Column, forced: str | None):
    text = _text(raw)
    if col.dtype == "code":
        text = text.str.upper() if col.upper_case else text.str.lower()
    return text, text.isna(), []


def _parse_number(raw: pd.Series, col: Column, forced: str | None):
    if ptypes.is_numeric_dtype(raw) and not ptypes.is_bool_dtype(raw):
        values, blank = raw.astype("float64"), raw.isna()
    else:
        text = _text(raw)
        blank = text.isna()
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        retry = values.isna() & text.notna()
        grouped = text[retry]
        grouped = grouped[grouped.str.fullmatch(_GROUPED)]
        values[grouped.index] = pd.to_numeric(
            grouped.str.replace(r"[, \u00a0\u202f]", "", regex=True)).astype("float64")
    bad = ~blank & ~np.isfinite(values)
    kind = _number_kind(col.name)
    issues = []
    if bad.any():
        whole = col.dtype == "int"
        where = "a whole-number" if whole else "a number"
        must = ("whole numbers" if whole else "numbers") + (" ≥ 0" if col.nonnegative else "")
        must_zh = (" ≥ 0 的" if col.nonnegative else "") + ("整数" if whole else "数字")
        issues.append((bad, Note(f"text in {where} column",
                                 f"在{'整数' if whole else '数值'}列中含有文本"),
                       Note(f"Remove the text or map the right column; {kind} must be {must} "
                            "(thousands separators such as 1,234.5 are fine).",
                            f"请删除文本或映射正确的列; {_KIND_ZH[kind]}必须是{must_zh} "
                            "(可以带千位分隔符, 如 1,234.5)。")))
    if col.dtype == "int":
        fraction = ~bad & ~blank & (values % 1 != 0)
        if fraction.any():
            issues.append((fraction, Note("a fraction in a whole-number column",
                                          "在整数列中含有小数"),
                           Note(f"{col.name} counts whole units: use whole numbers.",
                                f"{col.name} 按整数单位计数: 请使用整数。")))
        bad |= fraction
    return values.where(~bad), blank, issues


def _parse_bool(raw: pd.Series, col: Column, forced: str | None):
    text = _text(raw).str.lower()
    values = text.map(_BOOLS)
    blank = text.isna()
    bad = ~blank & values.isna()
    issues = [(bad, Note("a value that is not yes/no", "含有不是 是/否 的值"),
               Note("Use true/false, 1/0, yes/no, y/n or 是/否.",
                    "请使用 true/false、1/0、yes/no、y/n 或 是/否。"))] if bad.any() else []
    return values, blank, issues


def _parse_month(raw: pd.Series, col: Column, forced: str | None):
    is_dt = _datetime_cells(raw)
    values = pd.Series(np.nan, index=raw.index, dtype="str")
    if is_dt.any():
        values[is_dt] = pd.to_datetime(raw[is_dt]).dt.strftime("%Y-%m")
    text = _text(raw)
    todo = text.notna() & ~is_dt
    codes, uniq = pd.factorize(text[todo])
    uniq = pd.Series(uniq, dtype="str")
    found = pd.Series(np.nan, index=uniq.index, dtype="str")
    for pattern in _MONTH_PATTERNS:
        part = uniq.str.extract(f"^{pattern}$")
        ok = part[1].notna() & part[1].astype(float).between(1, 12) & found.isna()
        found[ok] = part.loc[ok, 0] + "-" + part.loc[ok, 1].str.zfill(2)
    if todo.any():
        values[todo] = found.take(codes).to_numpy()
    blank = text.isna()
    bad = ~blank & values.isna()
    issues = [(bad, Note("a value that is not a month YYYY-MM", "含有不是 YYYY-MM 月份的值"),
               Note("Write months as YYYY-MM, e.g. 2024-03 (2024/03, 202403 and 2024年3月 are "
                    "read too).",
                    "月份请写成 YYYY-MM, 例如 2024-03 (也能识别 2024/03、202403 和 2024年3月)。"))
              ] if bad.any() else []
    return values, blank, issues


def _parse_date(raw: pd.Series, col: Column, forced: str | None):
    """One format per column: the one that fits the most cells; day/month vs month/day is
    never guessed (reported as ambiguous unless ``forced``)."""
    is_dt = _datetime_cells(raw)
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    if is_dt.any():
        stamps = pd.to_datetime(raw[is_dt])
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        values[is_dt] = stamps.dt.normalize().astype("datetime64[us]")
    text = _text(raw)
    blank = text.isna()
    todo = ~blank & ~is_dt
    issues = []
    if todo.any():
        codes, uniq = pd.factorize(text[todo])
        uniq = pd.Series(uniq, dtype="str")
        names = [forced] if forced else list(DATE_FORMATS)
        parses = {name: _dates_in_format(uniq, name) for name in names}
        counts = {name: int(p.notna().sum()) for name, p in parses.items()}
        best = max(counts.values())
        top = [name for name in names if counts[name] == best and best > 0]
        if {"MM/DD/YYYY", "DD/MM/YYYY"} <= set(top):
            mdy, dmy = parses["MM/DD/YYYY"], parses["DD/MM/YYYY"]
            differ = (mdy != dmy) & mdy.notna() & dmy.notna()
            if differ.any():
                rows = todo.copy()
                rows[todo] = differ.take(codes).to_numpy()
                example = repr(uniq[differ].iloc[0])
                return values, blank, [(_Ambiguous(rows), Note(
                    f"a date that could be day/month or month/day (e.g. {example}), and no "
                    f"value in {col.name!r} settles which.",
                    f"的日期既可能是日/月也可能是月/日 (例如 {example}), 且 {col.name!r} "
                    "中没有能确定顺序的值。"),
                    Note("Choose the order for this column (DD/MM/YYYY or MM/DD/YYYY), or write "
                         "the dates as YYYY-MM-DD.",
                         "请为该列选择日期顺序 (DD/MM/YYYY 或 MM/DD/YYYY), 或将日期写成 "
                         "YYYY-MM-DD。"))]
        if top:
            values[todo] = parses[top[0]].take(codes).to_numpy()
        bad = todo & values.isna()
        if bad.any():
            accepted = ", ".join(DATE_FORMATS)
            fits = f"the column's format {top[0]}" if top else f"an accepted format ({accepted})"
            fits_zh = f"该列的格式 {top[0]} " if top else f"任何可接受的格式 ({accepted}) "
            issues.append((bad, Note(f"a value that is not a date in {fits}",
                                     f"含有无法按{fits_zh}识别为日期的值"),
                           Note("Write every date of the column in one format, best YYYY-MM-DD; "
                                "check that the day exists.",
                                "该列的所有日期请使用同一种格式, 最好是 YYYY-MM-DD; 并检查日期"
                                "是否存在。")))
    far = values.notna() & ~values.between(_FIRST_DAY, _LAST_DAY)
    if far.any():
        values[far] = pd.NaT
        issues.append((far, Note("a date outside the years 1678–2261",
                                 "含有 1678–2261 年范围之外的日期"),
                       Note("Correct the year, or leave the cell blank when there is no date "
                            "(e.g. 9999-12-31 for 'never expires').",
                            "请更正年份; 没有日期时请留空 (例如用 9999-12-31 表示“永不过期”时)。")))
    return values, blank, issues


_PARSERS = {"str": _parse_text, "code": _parse_text, "float": _parse_number,
            "int": _parse_number, "bool": _parse_bool, "month": _parse_month,
            "date": _parse_date}


def _dates_in_format(uniq: pd.Series, name: str) -> pd.Series:
    """Dates of the distinct texts under one format (NaT where the text does not fit it)."""
    pattern, order = DATE_FORMATS[name]
    parts = uniq.str.extract(f"^{pattern}{_TIME}$").astype("float64")
    parts.columns = list(order)
    stamps = pd.to_datetime(pd.DataFrame({"year": parts["y"], "month": parts["m"],
                                          "day": parts["d"]}), errors="coerce")
    return stamps.astype("datetime64[us]")


def _datetime_cells(raw: pd.Series) -> pd.Series:
    """Cells that already hold a date or datetime (Excel, parquet), not text."""
    if ptypes.is_datetime64_any_dtype(raw):
        return raw.notna()
    if raw.dtype != object:
        return pd.Series(False, index=raw.index)
    kind = ptypes.infer_dtype(raw, skipna=True)
    if kind in ("date", "datetime", "datetime64"):
        return raw.notna()
    if kind.startswith("mixed"):
        return raw.map(lambda v: isinstance(v, (dt.date, np.datetime64)))
    return pd.Series(False, index=raw.index)


def _text(raw: pd.Series) -> pd.Series:
    """Cells as trimmed text (pandas str dtype); blank cells become missing (NaN)."""
    if ptypes.is_float_dtype(raw):
        text = raw.astype("str")
        whole = raw.notna() & np.isfinite(raw) & (raw % 1 == 0) & (raw.abs() < 2**53)
        text[whole] = raw[whole].astype("int64").astype("str")
    elif raw.dtype == object and ptypes.infer_dtype(raw, skipna=True) not in ("string", "empty"):
        text = raw.map(_cell_text, na_action="ignore").astype("str")
    else:
        text = raw.astype("str")
    text = text.str.strip()
    return text.mask(text == "")


def _cell_text(value: object) -> str:
    """One mixed-type cell as text: 12.0 as '12' (Excel stores whole numbers as floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank(raw: pd.Series) -> pd.Series:
    if raw.dtype == object or ptypes.is_string_dtype(raw):
        return _text(raw).isna()
    return raw.isna()


def _fill(values: pd.Series, col: Column) -> pd.Series:
    """Blanks take the column's default; the result has the column's final dtype."""
    if col.default is not None:
        values = values.where(values.notna(), col.default)
    if col.dtype in ("str", "code", "month"):
        return values.astype("str")
    if col.dtype == "date":
        return values.astype("datetime64[ns]")
    if col.dtype == "bool":  # every bool column has a default (contract), so no blanks remain
        return values.astype("bool")
    if col.dtype == "int" and col.default is not None:
        return values.astype("int64")
    return values.astype("float64")


# ---------------------------------------------------------------------------------------------
# Messages


def _problem(table: str, column: str, mask: pd.Series | None, what: str, fix: str,
             severity: Severity = "error") -> Problem:
    rows = mask.index[mask.to_numpy()] if mask is not None else pd.Index([])
    return Problem(table, column, tuple(int(r) for r in rows[:10]), len(rows), what, fix,
                   severity)


def _have(n: int) -> str:
    return "1 row has" if n == 1 else f"{n:,} rows have"


def _rows_zh(n: int) -> str:
    """The Chinese of ``_have``: "N 行", followed by the description."""
    return f"{n:,} 行"


def _say(text: str, lang: str) -> str:
    """A message in ``lang`` (a plain string, e.g. a Problem built by hand, reads as it is)."""
    return text(lang) if isinstance(text, Note) else str(text)


def _count(n: int, word: str) -> str:
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
