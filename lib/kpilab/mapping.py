"""Map the user's column headers onto contract column names, and save the mapping for reuse.

Uploads often carry other headers (Chinese ones such as ``SKU编码`` or ``日期``, or ``Unit Cost``);
``suggest`` proposes a mapping the user can correct, ``apply`` renames the columns.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from kpilab.contract import TABLES
from kpilab.reading import RawDataset

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
    """A mapping that cannot be applied; the message names the headers and columns involved."""


def _norm(header: str) -> str:
    """Compare headers without case, spaces, underscores or hyphens ('Unit Cost' = unit_cost)."""
    return re.sub(r"[\s_\-]+", "", str(header)).lower()


@dataclass(frozen=True)
class ColumnMapping:
    """Per table, the user's header → contract column. Checked when built."""

    tables: dict[str, dict[str, str]]

    def __post_init__(self) -> None:
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
        """Rename the mapped headers; a mapped header missing from the file is noted."""
        tables, notes = dict(raw.tables), list(raw.notes)
        for table, columns in self.tables.items():
            if table not in tables:
                continue
            frame = tables[table]
            present = {s: t for s, t in columns.items() if s in frame.columns}
            notes += [f"{table}: mapped header {s!r} is not in the file, ignored."
                      for s in columns if s not in present]
            for source, target in present.items():
                if target in frame.columns and target not in present:
                    raise MappingError(
                        f"{table}: header {source!r} is mapped onto {target!r}, but the file "
                        f"already has a column {target!r}; unmap one of them.")
            tables[table] = frame.rename(columns=present)
        return replace(raw, tables=tables, notes=notes)

    def to_json(self) -> str:
        return json.dumps({"version": 1, "tables": self.tables}, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        try:
            data = json.loads(text)
            tables = data["tables"]
            ok = isinstance(tables, dict) and all(
                isinstance(cols, dict) and all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in cols.items())
                for cols in tables.values())
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise MappingError('Not a saved column mapping: expected JSON like {"version": 1, '
                               '"tables": {"sales": {"日期": "date"}}}.')
        return cls(tables)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def suggest(raw: RawDataset) -> ColumnMapping:
    """Propose a mapping: headers equal up to case/spaces/underscores, then known synonyms.

    Headers that already are contract names are left alone, and no column gets two headers
    (a near-exact header beats a synonym, then the first header in the file wins), so the
    suggestion is always a valid mapping.
    """
    tables: dict[str, dict[str, str]] = {}
    for table, frame in raw.tables.items():
        names = TABLES[table].column_names
        synonyms: dict[str, str] = {}
        for column, words in [*TABLE_SYNONYMS.get(table, {}).items(), *SYNONYMS.items()]:
            if column in names:
                for word in words:
                    synonyms.setdefault(_norm(word), column)
        headers = [str(h) for h in frame.columns if str(h) not in names]
        taken = {str(h) for h in frame.columns} & set(names)
        found: dict[str, str] = {}
        for lookup in ({_norm(n): n for n in names}, synonyms):
            for header in headers:
                target = lookup.get(_norm(header))
                if header not in found and target is not None and target not in taken:
                    found[header] = target
                    taken.add(target)
        if found:
            tables[table] = {h: found[h] for h in headers if h in found}
    return ColumnMapping(tables)
