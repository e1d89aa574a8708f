"""The data contract (shared/spec/data-contract.md) as data.

Reading, mapping and validation take every column name, type, default and key from here, so
the contract is written down once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DType = Literal["str", "code", "float", "int", "date", "month", "bool"]


@dataclass(frozen=True)
class Column:
    """One contract column.

    ``dtype`` "code" is a trimmed code compared case-insensitively: lower-case, except codes whose
    ``choices`` are upper-case (abc_class A–E), which stay upper-case. ``default`` fills blank
    cells and absent optional columns (None: left empty). ``maximum`` bounds a score (rating).
    """

    name: str
    dtype: DType
    required: bool
    default: object = None
    meaning: str = ""
    choices: tuple[str, ...] | None = None
    nonnegative: bool = False
    maximum: float | None = None

    @property
    def upper_case(self) -> bool:
        """True for codes written in upper case (abc_class)."""
        return self.choices is not None and all(c.isupper() for c in self.choices)


@dataclass(frozen=True)
class Table:
    """One contract table; ``key`` identifies a row (a duplicate key is an error)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    meaning: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The contract column called ``name`` (KeyError when the table has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


def _req(name: str, dtype: DType, meaning: str = "", **kw) -> Column:
    return Column(name, dtype, True, meaning=meaning, **kw)


def _opt(name: str, dtype: DType, default: object = None, meaning: str = "", **kw) -> Column:
    return Column(name, dtype, False, default=default, meaning=meaning, **kw)


def _qty(name: str, meaning: str = "", required: bool = True) -> Column:
    """A quantity or an amount of money: a number ≥ 0."""
    return Column(name, "float", required, meaning=meaning, nonnegative=True)


_SKU = _req("sku", "str", "item id")
_WAREHOUSE = _req("warehouse", "str", "warehouse id")

_TABLES = (
    Table("skus", ("sku",), (
        _SKU,
        _req("category", "str", "leaf or level-2 category"),
        _qty("unit_cost", "cost per unit, used to value units"),
        _opt("abc_class", "code", None,
             "A super-hit, B hit, C light-hit, D long-tail, E no sales; derived from sales when blank",
             choices=("A", "B", "C", "D", "E")),
        _opt("lifecycle", "code", "active", "life-cycle stage",
             choices=("not_launched", "new", "active", "phase_out", "discontinued")),
        _opt("shelf_life_days", "int", None, "total shelf life; needed for near-expiry",
             nonnegative=True),
        _opt("scarce", "bool", False, "in the scarce-goods pool (excluded from supplier OTIF)"),
        _opt("split_warehouse", "bool", True,
             "the category follows a regional split-warehouse strategy (local fulfilment)"),
    ), "item master"),
    Table("warehouses", ("warehouse",), (
        _WAREHOUSE,
        _req("region", "str", "region the warehouse serves (compared with customer_region)"),
    ), "warehouses"),
    Table("sales", ("date", "sku", "warehouse"), (
        _req("date", "date", "sales day"),
        _SKU,
        _req("warehouse", "str", "fulfilling warehouse"),
        _qty("units", "units sold (paid)"),
        _qty("gmv", "sales value"),
        _opt("promo", "bool", False, "the day is a promotion day (e.g. 618, Double 11)"),
        _opt("page_views", "float", None, "product page views that day", nonnegative=True),
    ), "daily sales per SKU and warehouse"),
    Table("inventory", ("date", "sku", "warehouse"), (
        _req("date", "date", "snapshot day (end of day)"),
        _SKU,
        _WAREHOUSE,
        _qty("on_hand_units", "all units physically held"),
        _qty("sellable_units", "good, sellable units; 0 ≤ sellable_units ≤ on_hand_units"),
        _qty("value", "inventory value at cost; default on_hand_units × skus.unit_cost",
             required=False),
    ), "daily inventory snapshot per SKU and warehouse"),
    Table("batches", ("date", "sku", "warehouse", "batch"), (
        _req("date", "date", "snapshot day"),
        _SKU,
        _WAREHOUSE,
        _req("batch", "str", "lot id"),
        _req("received_date", "date", "goods-receipt date of the lot, ≤ date"),
        _qty("units", "units of the lot on hand"),
        _qty("value", "default units × skus.unit_cost", required=False),
        _opt("expiry_date", "date", None, "expiry date of the lot"),
        _opt("status", "code", "sellable", "state of the lot",
             choices=("sellable", "defective", "locked", "unsellable")),
    ), "stock lots on hand at a snapshot"),
    Table("plans", ("sku", "month", "version_month", "source"), (
        _SKU,
        _req("month", "month", "the month planned"),
        _req("version_month", "month", "the month in which this version was made"),
        _opt("source", "code", "plan", "plan (confirmed by people) or forecast (an algorithm)",
             choices=("plan", "forecast")),
        _qty("units", "planned units"),
        _qty("value", "planned value", required=False),
    ), "monthly demand plans and forecasts per SKU"),
    Table("orders", ("sub_order_id",), (
        _req("sub_order_id", "str", "one item line of a customer order"),
        _req("order_id", "str", "parent order"),
        _req("paid_date", "date", "payment day"),
        _SKU,
        _qty("units", "units ordered"),
        _qty("gmv", "order line value"),
        _opt("customer_region", "str", None, "for local fulfilment"),
        _opt("warehouse", "str", None, "fulfilling warehouse"),
    ), "paid sub-orders"),
    Table("returns", ("sub_order_id", "refund_date"), (
        _req("sub_order_id", "str", "refers to orders.sub_order_id"),
        _req("refund_date", "date", "refund day"),
        _req("reason", "code", "reason code: quality, authenticity, not_as_described, size, "
                               "changed_mind, logistics, other (other codes are allowed)"),
        _opt("comment", "str", None, "free text written by the customer"),
    ), "refunds"),
    Table("order_volume_plans", ("date", "warehouse", "version_date"), (
        _req("date", "date", "day planned"),
        _WAREHOUSE,
        _req("version_date", "date", "day the plan was made"),
        _qty("planned_orders", "planned number of orders"),
    ), "warehouse order-volume plans"),
    Table("purchase_orders", ("po_line_id",), (
        _req("po_line_id", "str", "PO line id"),
        _req("po_id", "str", "PO id"),
        _req("supplier", "str", "supplier id"),
        _SKU,
        _req("order_date", "date", "order day"),
        _req("promised_date", "date", "agreed arrival date at the hand-off point"),
        _qty("ordered_units", "units ordered"),
        _qty("unit_price", "price per unit"),
        _opt("rush", "bool", False, "urgent order inside the supplier's normal lead time"),
        _opt("incoterm", "str", None, "e.g. EXW, FOB, CIF, DDP"),
    ), "PO lines"),
    Table("receipts", ("po_line_id", "received_date"), (
        _req("po_line_id", "str", "PO line received against"),
        _req("received_date", "date", "arrival at the hand-off point"),
        _qty("units", "units received"),
    ), "goods receipts against PO lines"),
    Table("inspections", ("lot_id",), (
        _req("lot_id", "str", "one delivery (票)"),
        _req("supplier", "str", "supplier id"),
        _SKU,
        _req("date", "date", "inspection day"),
        _qty("inspected_units", "units inspected"),
        _qty("passed_units", "units passed; ≤ inspected_units"),
        _opt("po_line_id", "str", None, "PO line of the delivery"),
        _opt("new_product", "bool", False, "first production run of a new own-brand product"),
        _opt("attempt", "int", 1, "1 for the first inspection of a run, 2 for a re-inspection, …",
             nonnegative=True),
    ), "incoming quality inspections per delivery lot"),
    Table("logistics_costs", ("month", "warehouse", "cost_type"), (
        _req("month", "month", "cost month"),
        _WAREHOUSE,
        _req("cost_type", "code", "kind of cost",
             choices=("storage", "handling", "value_added", "packaging", "courier", "other")),
        _qty("amount", "cost amount"),
    ), "monthly logistics costs"),
    Table("suppliers", ("supplier",), (
        _req("supplier", "str", "supplier id"),
        _opt("tier", "code", "other", "brand, primary_distributor, distributor or other",
             choices=("brand", "primary_distributor", "distributor", "other")),
        _opt("rating", "float", None, "overall supplier score 0–100", nonnegative=True,
             maximum=100.0),
    ), "suppliers"),
)

TABLES: dict[str, Table] = {t.name: t for t in _TABLES}
