"""Map the user's column headers onto contract column names, and save the mapping for reuse.

Uploads often carry other headers (Chinese ones such as ``SKU编码`` or ``日期``, or ``Unit Cost``);
``suggest`` proposes a mapping the user can correct, ``apply`` renames the columns. A mapping can
also turn a wide file (one column per month, or per horizon such as ``M+1``) into plan or sales
rows (``WideSpec``), and be kept as a named preset: bundled ones in ``kpilab/presets/*.json``
(common exports), the user's own in a folder (``KPILAB_MAPPINGS`` or ``~/.kpilab/mappings``).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import narwhals.stable.v2 as nw

from kpilab.contract import TABLES
from kpilab.reading import ROW, RawDataset
from kpilab.registry import Note

# Headers that mean a contract column in any table that has that column.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": ("SKU编码", "商品编码", "SKU", "货号", "商品ID", "商品id", "SKU ID", "item", "item_id"),
    "category": ("类目", "品类", "商品类目", "分类"),
    "unit_cost": ("成本", "单位成本", "单件成本", "成本价"),
    "abc_class": ("ABC分类", "ABC类别", "ABC"),
    "lifecycle": ("生命周期", "商品状态"),
    "shelf_life_days": ("保质期", "保质期天数"),
    "scarce": ("稀缺", "紧俏"),
    "split_warehouse": ("分仓",),
    "warehouse": ("仓库", "仓库编码", "发货仓", "仓"),
    "region": ("区域", "地区", "大区"),
    "date": ("日期", "库存日期", "销售日期"),
    "units": ("销量", "销售件数", "件数", "数量"),
    "gmv": ("销售额", "GMV", "成交金额", "销售金额"),
    "promo": ("大促", "促销", "是否大促", "是否促销"),
    "page_views": ("浏览量", "PV", "访客数"),
    "on_hand_units": ("在库件数", "库存", "库存件数", "在库库存", "实物库存"),
    "sellable_units": ("可售件数", "可售库存", "可用库存"),
    "value": ("金额", "库存金额", "货值"),
    "batch": ("批次", "批次号"),
    "received_date": ("入库日期", "收货日期", "到货日期"),
    "expiry_date": ("过期日期", "到期日期", "有效期至"),
    "status": ("状态", "批次状态"),
    "month": ("月份", "月"),
    "version_month": ("版本月", "版本月份"),
    "source": ("来源", "类型"),
    "sub_order_id": ("子订单号", "子订单编号"),
    "order_id": ("订单号", "订单编号", "主订单号"),
    "paid_date": ("支付日期", "付款日期"),
    "customer_region": ("客户区域", "收货区域", "收货省份"),
    "refund_date": ("退款日期",),
    "reason": ("退款原因", "退货原因", "原因"),
    "comment": ("评论", "备注", "买家留言"),
    "version_date": ("版本日期", "预测日期"),
    "planned_orders": ("计划单量", "预测单量"),
    "po_line_id": ("采购单行号", "采购行号"),
    "po_id": ("采购单号", "采购订单号"),
    "supplier": ("供应商", "供应商编码"),
    "order_date": ("下单日期", "采购日期"),
    "promised_date": ("承诺到货日期", "约定到货日期", "预计到货日期"),
    "ordered_units": ("采购数量", "采购件数", "订购数量"),
    "unit_price": ("单价", "采购单价"),
    "rush": ("加急", "是否加急"),
    "incoterm": ("贸易条款",),
    "lot_id": ("批号", "检验批号", "票号"),
    "inspected_units": ("送检数量", "检验数量", "抽检数量"),
    "passed_units": ("合格数量", "合格件数"),
    "new_product": ("新品", "是否新品"),
    "attempt": ("检验次数", "第几次检验"),
    "cost_type": ("费用类型", "成本类型"),
    "amount": ("费用", "金额"),
    "tier": ("供应商类型", "供应商级别"),
    "rating": ("评分", "供应商评分"),
}

# Headers whose meaning depends on the table (checked before SYNONYMS).
TABLE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "plans": {"units": ("计划量", "计划件数", "预测量"), "value": ("计划金额",)},
    "receipts": {"units": ("收货数量", "到货数量", "入库数量")},
    "batches": {"units": ("批次件数", "批次数量"), "date": ("快照日期",)},
    "orders": {"gmv": ("支付金额", "实付金额")},
}


class MappingError(ValueError):
    """A mapping that cannot be applied; the message names the headers and columns involved.

    The message is a ``Note`` when it has a Chinese text (``exc.args[0].zh``)."""


def _norm(header: str) -> str:
    """Compare headers without case, spaces, underscores or hyphens ('Unit Cost' = unit_cost)."""
    return re.sub(r"[\s_\-]+", "", str(header)).lower()


_MONTH_NAMES = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_NUMERIC_MONTH = re.compile(r"(\d{4})\s*(?:[-/.]|年)?\s*(\d{1,2})\s*月?"
                            r"(?:\s*[-/.]\s*\d{1,2}\s*日?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_NAMED_MONTH = re.compile(r"([a-z]{3})[a-z]*\.?[\s\-']*(\d{4}|\d{2})")
_HORIZON = re.compile(r"(?:m\s*[+\-]|lag|l|h|horizon|提前)\s*(\d{1,2})\s*(?:个?月)?")
_LOOKS_WIDE = {"month": re.compile(r"\d{4}"),
               "horizon": re.compile(r"m\s*[+\-]|lag\b", re.IGNORECASE)}


def month_of_header(header: object) -> str | None:
    """The month ``YYYY-MM`` a header (or a month cell) names, else None.

    Reads 2024-03, 2024/3, 202403, 2024.03, 2024年3月, 2024-03-01 (a date: its month, as Excel
    writes month headers), Mar 2024 and Mar-24.

    >>> [month_of_header(h) for h in ("2024-03", "2024年3月", "Mar-24", "2024-03-01 00:00:00", "2024-13")]
    ['2024-03', '2024-03', '2024-03', '2024-03', None]
    """
    text = str(header).strip().lower()
    if m := _NUMERIC_MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
    elif (m := _NAMED_MONTH.fullmatch(text)) and m[1] in _MONTH_NAMES:
        year, month = int(m[2]) + (2000 if len(m[2]) == 2 else 0), _MONTH_NAMES[m[1]]
    else:
        return None
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def lag_of_header(header: object) -> int | None:
    """The lag in months a horizon header names, else None: M+1, M-1, lag 1, L1, h1, 提前1个月.

    M+n (a forecast made in month M, for n months later) and M-n (the plan for month M made n
    months before) are both lag n, as the contract counts lag = month − version_month.

    >>> [lag_of_header(h) for h in ("M+1", "M-2", "lag 3", "L0", "提前1个月", "units")]
    [1, 2, 3, 0, 1, None]
    """
    m = _HORIZON.fullmatch(str(header).strip().lower())
    return int(m[1]) if m else None


def _add_months(month: str, lag: int) -> str:
    """'2024-11' + 3 → '2025-02'."""
    n = int(month[:4]) * 12 + int(month[5:]) - 1 + lag
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


# Per wide table: the contract column a month header fills (sales get the month's first day).
_WIDE_TARGET = {"plans": "month", "sales": "date"}
_HEADER = "__kpilab_header"


@dataclass(frozen=True)
class WideSpec:
    """A wide table: one column per month (``kind="month"``) or per horizon (``"horizon"``).

    Every column that is a contract column after renaming is an id kept on each row (sku,
    warehouse, version_month, source …); each month or horizon column becomes one row per id row,
    its header giving the month and its cell the ``value`` column (units). Plans: a month header
    fills ``month``; a horizon header (lag n) fills ``month`` = version_month + n, or
    ``version_month`` = month − n when the file has a month column instead. Sales: a month header
    fills ``date`` with the month's first day (monthly totals). ``constants`` give a column one
    value on every row (``source``: ``forecast`` for a forecast tool's export). Blank cells give
    no row and other columns are left out, both counted in a note: wide exports leave months
    without a plan blank and carry totals or names beside the months.
    """

    kind: str = "month"
    value: str = "units"
    constants: dict[str, str] = field(default_factory=dict)

    def check(self, table: str) -> None:
        """Raise MappingError naming what does not fit ``table``."""
        if table not in _WIDE_TARGET:
            raise MappingError(Note(
                f"{table}: only plans and sales can be read from a wide file (one column per "
                "month).", f"{table}: 只有 plans 与 sales 可以从宽表 (每月一列) 读取。"))
        if self.kind not in ("month", "horizon") or (self.kind == "horizon" and table != "plans"):
            raise MappingError(Note(
                f"{table}: wide columns of kind {self.kind!r} are not known; use 'month'"
                f"{' or horizon' if table == 'plans' else ''}.",
                f"{table}: 未知的宽表列类型 {self.kind!r}; 请使用 'month'"
                f"{' 或 horizon' if table == 'plans' else ''}。"))
        names, target = TABLES[table].column_names, _WIDE_TARGET[table]
        for column in (self.value, *self.constants):
            if column not in names or column == target:
                raise MappingError(Note(
                    f"{table}: {column!r} cannot be filled by the wide reshape (columns: "
                    f"{', '.join(c for c in names if c != target)}).",
                    f"{table}: 宽表转换不能填写 {column!r} (可用列: "
                    f"{', '.join(c for c in names if c != target)})。"))
        if self.value in self.constants:
            raise MappingError(Note(f"{table}: {self.value!r} is both the cells' column and a "
                                    "constant; choose one.",
                                    f"{table}: {self.value!r} 同时是单元格列和常量; 请选其一。"))

    def wide_header(self, header: str) -> str | int | None:
        """The month (kind month) or lag (kind horizon) a header names, else None."""
        return month_of_header(header) if self.kind == "month" else lag_of_header(header)

    def reshape(self, frame, table: str):
        """The long table of a wide one (any narwhals-supported frame, eager or lazy) and a note.

        Written with narwhals (unpivot, join), so a polars LazyFrame stays lazy; only the
        distinct months of the anchor column are collected for a horizon reshape.
        """
        long = nw.from_native(frame)
        if long.implementation.is_duckdb():
            # The reader's relation lives on its own connection, which narwhals' DuckDB unpivot
            # cannot reach; a plan or sales sheet wide enough to matter is small, so reshape it
            # as a polars LazyFrame.
            long = long.collect(backend="polars").lazy()
        names = long.collect_schema().names()
        contract = TABLES[table].column_names
        target = _WIDE_TARGET[table]
        ids = [c for c in names if c in contract or c == ROW]  # ROW: the reader's row numbers
        wide = {h: self.wide_header(h) for h in names if h not in ids}
        wide = {h: v for h, v in wide.items() if v is not None}
        dropped = [h for h in names if h not in ids and h not in wide]
        what = ("month", "月份") if self.kind == "month" else ("horizon", "提前期")
        near = [h for h in dropped if _LOOKS_WIDE[self.kind].match(h.strip())]
        if near:
            raise MappingError(Note(
                f"{table}: column {near[0]!r} looks like a {what[0]} but cannot be read as one "
                f"({'2024-03, 2024年3月 or Mar 2024' if self.kind == 'month' else 'M+1, lag 1'}"
                "); rename it or remove it from the file.",
                f"{table}: 列 {near[0]!r} 看似{what[1]}, 但无法识别 ("
                f"{'2024-03、2024年3月或 Mar 2024' if self.kind == 'month' else 'M+1、lag 1'}"
                "); 请改名或从文件中删除。"))
        if not wide:
            raise MappingError(Note(
                f"{table}: no {what[0]} column found for the wide reshape (headers: "
                f"{', '.join(names)}).",
                f"{table}: 宽表转换找不到{what[1]}列 (表头: {', '.join(names)})。"))
        taken = [c for c in (self.value, *self.constants) if c in ids]
        anchor = None
        if self.kind == "horizon":
            anchors = [c for c in ("version_month", "month") if c in ids]
            if not anchors:
                raise MappingError(Note(
                    f"{table}: the horizon columns ({', '.join(list(wide)[:3])} …) count from a "
                    "version_month (or month) column, and the file has none; map one.",
                    f"{table}: 提前期列 ({', '.join(list(wide)[:3])} …) 需要 version_month (或 "
                    "month) 列作为起点, 文件中没有; 请映射一列。"))
            anchor = anchors[0]
            target = "month" if anchor == "version_month" else "version_month"
        if target in ids:
            taken.append(target)
        if taken:
            raise MappingError(Note(
                f"{table}: the file already has a column {taken[0]!r}, which the wide reshape "
                "fills; unmap it or turn the reshape off.",
                f"{table}: 文件已有列 {taken[0]!r}, 而宽表转换会填写该列; 请取消其映射或关闭宽表转换。"))
        long = long.unpivot(on=list(wide), index=ids, variable_name=_HEADER, value_name=self.value)
        blank = nw.col(self.value).is_null() | (
            nw.col(self.value).cast(nw.String()).str.strip_chars() == "")
        counts = _collect(long.select(blank.sum().alias("blank"), nw.len().alias("all")))
        n_blank, n_all = (int(counts.item(0, c)) for c in ("blank", "all"))
        long = long.filter(~blank)
        lookup = self._lookup(long, wide, target, anchor)
        long = long.join(_like(long, lookup), on=[_HEADER, *([anchor] if anchor else [])],
                         how="left")
        if self.constants:
            long = long.with_columns(*[nw.lit(v).alias(k) for k, v in self.constants.items()])
        ordered = [c for c in (ROW, *contract) if c in {*ids, target, self.value, *self.constants}]
        shown = list(wide)
        note = Note(
            f"{table}: {len(wide)} {what[0]} columns ({shown[0]} … {shown[-1]}) turned into "
            f"{n_all - n_blank} rows; {n_blank} blank cells give no row"
            + (f"; columns left out: {', '.join(dropped)}" if dropped else "")
            + (". Row numbers in the validation report are the rows of the wide file." if ROW in ids
               else ". Row numbers in the validation report count these rows."),
            f"{table}: {len(wide)} 个{what[1]}列 ({shown[0]} … {shown[-1]}) 已转为 "
            f"{n_all - n_blank} 行; {n_blank} 个空单元格不生成行"
            + (f"; 未使用的列: {', '.join(dropped)}" if dropped else "")
            + ("。校验报告中的行号为宽表中的行。" if ROW in ids else "。校验报告中的行号按转换后的行计数。"))
        return long.select(ordered).to_native(), note

    def _lookup(self, long, wide: dict, target: str, anchor: str | None) -> dict[str, list]:
        """Header (and anchor month) → the value of ``target``: a small table to join."""
        if anchor is None:
            first = "-01" if target == "date" else ""
            return {_HEADER: list(wide), target: [f"{m}{first}" for m in wide.values()]}
        values = _collect(long.select(nw.col(anchor)).unique()).get_column(anchor).to_list()
        rows: dict[str, list] = {_HEADER: [], anchor: [], target: []}
        for value in values:
            month = month_of_header(value)
            if month is None:
                raise MappingError(Note(
                    f"plans: {anchor} {value!r} is not a month (YYYY-MM); the horizon columns "
                    "count from it. Correct the cell or the column mapped onto it.",
                    f"plans: {anchor} {value!r} 不是月份 (YYYY-MM); 提前期列以它为起点。请修正该"
                    "单元格或其映射的列。"))
            for header, lag in wide.items():
                rows[_HEADER].append(header)
                rows[anchor].append(value)
                rows[target].append(_add_months(month, lag if anchor == "version_month" else -lag))
        return rows

    def to_json(self) -> dict:
        return {"kind": self.kind, "value": self.value, "constants": dict(self.constants)}


def _headers(frame) -> list[str]:
    """The column names of a native or narwhals frame, eager or lazy (pandas, polars, DuckDB)."""
    return [str(h) for h in nw.from_native(frame).collect_schema().names()]


def _collect(frame) -> nw.DataFrame:
    """A small frame (counts, distinct months) as an eager narwhals DataFrame."""
    return frame.collect() if isinstance(frame, nw.LazyFrame) else frame


def _like(frame, data: dict[str, list]):
    """``data`` as a frame of ``frame``'s backend (eager or lazy), with the anchor's dtype kept."""
    schema = frame.collect_schema()
    backend = frame.implementation
    eager = backend if backend.is_pandas() or backend.is_polars() else nw.Implementation.POLARS
    small = nw.from_dict(data, backend=eager).with_columns(
        nw.col(c).cast(schema[c]) for c in data if c in schema)
    return small.lazy(backend=backend) if isinstance(frame, nw.LazyFrame) else small


@dataclass(frozen=True)
class ColumnMapping:
    """Per table, the user's header → contract column, and the tables read from a wide file.

    Checked when built."""

    tables: dict[str, dict[str, str]]
    wide: dict[str, WideSpec] = field(default_factory=dict)
    grain: str | None = None      # "daily" or "monthly" sales; None = detected from the data

    def __post_init__(self) -> None:
        if self.grain not in (None, "daily", "monthly"):
            raise MappingError(Note(f"grain {self.grain!r} is not daily or monthly.",
                                    f"grain {self.grain!r} 不是 daily 或 monthly。"))
        for table, spec in self.wide.items():
            spec.check(table)
        for table, columns in self.tables.items():
            if table not in TABLES:
                raise MappingError(f"The mapping names table {table!r}, which is not in the "
                                   f"contract (tables: {', '.join(TABLES)}).")
            known = TABLES[table].column_names
            seen: dict[str, str] = {}
            for source, target in columns.items():
                if target not in known:
                    raise MappingError(
                        f"{table}: header {source!r} is mapped onto {target!r}, which is not a "
                        f"column of {table} (columns: {', '.join(known)}).")
                if target in seen:
                    raise MappingError(
                        f"{table}: headers {seen[target]!r} and {source!r} are both mapped onto "
                        f"{target!r}; map only one of them.")
                seen[target] = source

    def apply(self, raw: RawDataset) -> RawDataset:
        """Rename the mapped headers (a mapped header missing from the file is noted), then turn
        the wide tables into rows."""
        tables, notes = dict(raw.tables), list(raw.notes)
        for table, columns in self.tables.items():
            if table not in tables:
                continue
            frame = nw.from_native(tables[table])
            headers = _headers(frame)
            present = {s: t for s, t in columns.items() if s in headers}
            notes += [f"{table}: mapped header {s!r} is not in the file, ignored."
                      for s in columns if s not in present]
            for source, target in present.items():
                if target in headers and target not in present:
                    raise MappingError(
                        f"{table}: header {source!r} is mapped onto {target!r}, but the file "
                        f"already has a column {target!r}; unmap one of them.")
            tables[table] = frame.rename(present).to_native()
        for table, spec in self.wide.items():
            if table in tables:
                tables[table], note = spec.reshape(tables[table], table)
                notes.append(note)
        return replace(raw, tables=tables, notes=notes)

    def to_dict(self) -> dict:
        data: dict = {"version": 1, "tables": self.tables}
        if self.wide:
            data["wide"] = {t: spec.to_json() for t, spec in self.wide.items()}
        if self.grain:
            data["grain"] = self.grain
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        try:
            data = json.loads(text)
            tables, wide, grain = data["tables"], data.get("wide", {}), data.get("grain")
            ok = isinstance(tables, dict) and all(
                isinstance(cols, dict) and all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in cols.items())
                for cols in tables.values())
            specs = {table: WideSpec(**spec) for table, spec in wide.items()}
            ok = ok and all(isinstance(s.kind, str) and isinstance(s.value, str)
                            and isinstance(s.constants, dict)
                            and all(isinstance(v, str) for v in s.constants.values())
                            for s in specs.values()) and grain in (None, "daily", "monthly")
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise MappingError(Note(
                'Not a saved column mapping: expected JSON like {"version": 1, "tables": '
                '{"sales": {"日期": "date"}}, "wide": {"plans": {"kind": "month", "value": '
                '"units"}}, "grain": "monthly"} ("wide" and "grain" are optional).',
                '不是已保存的列映射: 应为形如 {"version": 1, "tables": {"sales": {"日期": "date"}}, '
                '"wide": {"plans": {"kind": "month", "value": "units"}}} 的 JSON ("wide" 可省略)。'))
        return cls(tables, specs, grain)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def suggest(raw: RawDataset) -> ColumnMapping:
    """Propose a mapping: headers equal up to case/spaces/underscores, then known synonyms.

    Headers that already are contract names are left alone, and no column gets two headers
    (a near-exact header beats a synonym, then the first header in the file wins), so the
    suggestion is always a valid mapping. Plans or sales without a month (date) column whose
    headers are months (plans: or horizons such as M+1) are proposed as a wide table.
    """
    tables: dict[str, dict[str, str]] = {}
    wide: dict[str, WideSpec] = {}
    for table, frame in raw.tables.items():
        names = TABLES[table].column_names
        synonyms: dict[str, str] = {}
        for column, words in [*TABLE_SYNONYMS.get(table, {}).items(), *SYNONYMS.items()]:
            if column in names:
                for word in words:
                    synonyms.setdefault(_norm(word), column)
        all_headers = _headers(frame)
        headers = [h for h in all_headers if h not in names]
        taken = set(all_headers) & set(names)
        found: dict[str, str] = {}
        for lookup in ({_norm(n): n for n in names}, synonyms):
            for header in headers:
                target = lookup.get(_norm(header))
                if header not in found and target is not None and target not in taken:
                    found[header] = target
                    taken.add(target)
        if found:
            tables[table] = {h: found[h] for h in headers if h in found}
        spec = _suggest_wide(table, all_headers, found)
        if spec is not None:
            wide[table] = spec
    return ColumnMapping(tables, wide)


def _suggest_wide(table: str, headers: list[str], found: dict[str, str]) -> WideSpec | None:
    """A wide spec for plans or sales whose headers are months (or plans' horizons), else None.

    Only proposed when the month (sales: date) column is not already in the file or the mapping.
    """
    target = _WIDE_TARGET.get(table)
    if target is None or target in {*headers, *found.values()}:
        return None
    rest = [h for h in headers if h not in found and h not in TABLES[table].column_names]
    for kind in ("month", "horizon") if table == "plans" else ("month",):
        spec = WideSpec(kind)
        if sum(spec.wide_header(h) is not None for h in rest) >= 2:
            return spec
    return None


BUNDLED_PRESETS = Path(__file__).resolve().parent / "presets"


def user_presets_dir() -> Path:
    """Where the user's named mappings are kept: $KPILAB_MAPPINGS, else ~/.kpilab/mappings."""
    return Path(os.environ.get("KPILAB_MAPPINGS") or Path.home() / ".kpilab" / "mappings")


@dataclass(frozen=True)
class Preset:
    """A named mapping: bundled with KPI Lab (common exports) or saved by the user."""

    name: str
    mapping: ColumnMapping
    bundled: bool
    description: str = ""
    description_zh: str = ""


_PRESET_NAME = re.compile(r"[\w\-. ()（）]{1,60}")


def _preset_path(name: str, folder: Path) -> Path:
    """The file of a preset; names are kept to letters, digits, spaces and - _ . ( ) so that a
    name can never point outside the folder."""
    if not _PRESET_NAME.fullmatch(name.strip()) or name.strip().startswith("."):
        raise MappingError(Note(
            f"{name!r} cannot be a preset name: use 1–60 letters, digits, spaces, - _ . ( ), "
            "not starting with a dot.",
            f"{name!r} 不能作为预设名称: 请使用 1–60 个字母、数字、空格或 - _ . ( ), 且不以点开头。"))
    return folder / f"{name.strip()}.json"


def preset_names(folder: str | Path | None = None) -> list[tuple[str, bool]]:
    """(name, bundled) of every preset: the bundled ones, then the user's, each sorted."""
    user = Path(folder) if folder is not None else user_presets_dir()
    bundled = sorted(p.stem for p in BUNDLED_PRESETS.glob("*.json"))
    own = sorted(p.stem for p in user.glob("*.json")) if user.is_dir() else []
    return [(n, True) for n in bundled] + [(n, False) for n in own if n not in bundled]


def load_preset(name: str, folder: str | Path | None = None) -> Preset:
    """A preset by name (bundled first); MappingError names the file when it cannot be used."""
    user = Path(folder) if folder is not None else user_presets_dir()
    for base, bundled in ((BUNDLED_PRESETS, True), (user, False)):
        path = _preset_path(name, base)
        if path.is_file():
            break
    else:
        raise MappingError(Note(f"No mapping preset called {name!r}.",
                                f"没有名为 {name!r} 的映射预设。"))
    try:
        text = path.read_text(encoding="utf-8")
        mapping = ColumnMapping.from_json(text)
    except (OSError, UnicodeDecodeError, MappingError) as exc:
        reason = exc.args[0] if isinstance(exc, MappingError) else exc
        raise MappingError(Note(f"Preset {name!r} ({path}) cannot be used: {reason}",
                                f"预设 {name!r} ({path}) 无法使用: {getattr(reason, 'zh', reason)}")
                           ) from None
    about = json.loads(text).get("description", {})
    about = about if isinstance(about, dict) else {"en": str(about)}
    return Preset(name.strip(), mapping, bundled, str(about.get("en", "")),
                  str(about.get("zh", about.get("en", ""))))


def save_preset(name: str, mapping: ColumnMapping, folder: str | Path | None = None, *,
                description: str = "", description_zh: str = "",
                overwrite: bool = False) -> Path:
    """Save ``mapping`` as the user's preset ``name`` (a JSON file any ``--mapping`` reads).

    A bundled preset's name is refused (a user's file would hide it), and so is an existing
    name unless ``overwrite``."""
    user = Path(folder) if folder is not None else user_presets_dir()
    path = _preset_path(name, user)
    if _preset_path(name, BUNDLED_PRESETS).is_file():
        raise MappingError(Note(f"{name!r} is a bundled preset; save under another name.",
                                f"{name!r} 是内置预设; 请使用其他名称保存。"))
    if path.exists() and not overwrite:
        raise MappingError(Note(f"A preset called {name!r} already exists ({path}).",
                                f"名为 {name!r} 的预设已存在 ({path})。"))
    data = {"name": name.strip(), "description": {"en": description, "zh": description_zh},
            **mapping.to_dict()}
    user.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
