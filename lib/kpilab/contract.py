"""The data contract as data; docs/data-contract.md is rendered from it (``render_markdown``).

Reading, mapping and validation take every column name, type, default and key from here, and the
document users read is generated from the same declaration (``kpilab contract -o
docs/data-contract.md``; a test fails when the file differs), so the contract is written down once.
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
    ``computed`` describes a default worked out from other data (inventory value = on_hand_units
    × unit_cost), for the document; validation does the computing.
    """

    name: str
    dtype: DType
    required: bool
    default: object = None
    meaning: str = ""
    choices: tuple[str, ...] | None = None
    nonnegative: bool = False
    maximum: float | None = None
    computed: str = ""

    @property
    def upper_case(self) -> bool:
        """True for codes written in upper case (abc_class)."""
        return self.choices is not None and all(c.isupper() for c in self.choices)


@dataclass(frozen=True)
class Table:
    """One contract table; ``key`` identifies a row (a duplicate key is an error); ``notes`` are
    the reading rules written under the table in the document."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    meaning: str = ""
    notes: tuple[str, ...] = ()

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


def _qty(name: str, meaning: str = "", required: bool = True, computed: str = "") -> Column:
    """A quantity or an amount of money: a number ≥ 0."""
    return Column(name, "float", required, meaning=meaning, nonnegative=True, computed=computed)


_SKU = _req("sku", "str", "item id")
_WAREHOUSE = _req("warehouse", "str", "warehouse id")

_TABLES = (
    Table("skus", ("sku",), (
        _SKU,
        _req("category", "str", "leaf or level-2 category"),
        _qty("unit_cost", "cost per unit, used to value units"),
        _opt("abc_class", "code", None,
             "A super-hit, B hit, C light-hit, D long-tail, E no sales; derived from sales when "
             "absent or blank (see kpi-catalog `abc_class`)", choices=("A", "B", "C", "D", "E"),
             computed="derived from sales"),
        _opt("lifecycle", "code", "active", "life-cycle stage",
             choices=("not_launched", "new", "active", "phase_out", "discontinued")),
        _opt("shelf_life_days", "int", None, "total shelf life; needed for near-expiry",
             nonnegative=True),
        _opt("scarce", "bool", False,
             "in the scarce-goods pool (excluded from supplier OTIF by default)"),
        _opt("split_warehouse", "bool", True,
             "the item's category follows a regional split-warehouse strategy (counts for local "
             "fulfilment)"),
        _opt("oos_policy", "code", "none",
             "what happens when the item is out of stock: backorderable (keeps selling for later "
             "delivery), substitutable (a similar item is offered) or none; a grouping dimension "
             "of the order-based KPIs", choices=("backorderable", "substitutable", "none")),
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
        _opt("page_views", "float", None,
             "product page views that day (for lost-sales estimation by traffic)",
             nonnegative=True),
    ), "daily sales per SKU and warehouse"),
    Table("inventory", ("date", "sku", "warehouse"), (
        _req("date", "date", "snapshot day (end of day)"),
        _SKU,
        _WAREHOUSE,
        _qty("on_hand_units", "all units physically held"),
        _qty("sellable_units", "good, sellable units; 0 ≤ sellable_units ≤ on_hand_units "
                               "(excludes QC-locked, return-area, defective)"),
        _qty("value", "inventory value at cost", required=False,
             computed="on_hand_units × skus.unit_cost"),
    ), "daily inventory snapshot per SKU and warehouse", (
        "A (sku, warehouse) pair is listed from its first inventory row to its last: on a day in "
        "between with no row it counts as 0 units (out of stock), not as \"not listed\".",)),
    Table("batches", ("date", "sku", "warehouse", "batch"), (
        _req("date", "date", "snapshot day"),
        _SKU,
        _WAREHOUSE,
        _req("batch", "str", "lot id"),
        _req("received_date", "date", "goods-receipt date of the lot, ≤ date"),
        _qty("units", "units of the lot on hand"),
        _qty("value", "value of the lot at cost", required=False,
             computed="units × skus.unit_cost"),
        _opt("expiry_date", "date", None, "expiry date of the lot"),
        _opt("status", "code", "sellable", "state of the lot",
             choices=("sellable", "defective", "locked", "unsellable")),
    ), "stock lots on hand at a snapshot"),
    Table("plans", ("sku", "month", "version_month", "source"), (
        _SKU,
        _req("month", "month", "the month planned"),
        _req("version_month", "month", "the month in which this version was made; lag = month − "
                                       "version_month in months (M-1 plan: lag 1)"),
        _opt("source", "code", "plan",
             "plan (confirmed by people) or forecast (proposed by an algorithm)",
             choices=("plan", "forecast")),
        _qty("units", "planned units"),
        _qty("value", "planned value", required=False),
    ), "monthly demand plans and forecasts per SKU", (
        "Actuals for a plan are the `sales.units` (or `sales.gmv` for value) of that SKU in that "
        "month, summed over all warehouses.",)),
    Table("orders", ("sub_order_id",), (
        _req("sub_order_id", "str", "one item line of a customer order"),
        _req("order_id", "str", "parent order"),
        _req("paid_date", "date", "payment day (the purchase date of its returns)"),
        _SKU,
        _qty("units", "units ordered"),
        _qty("gmv", "order line value"),
        _opt("customer_region", "str", None, "for local fulfilment"),
        _opt("warehouse", "str", None, "fulfilling warehouse"),
    ), "paid sub-orders"),
    Table("returns", ("sub_order_id", "refund_date"), (
        _req("sub_order_id", "str", "refers to orders.sub_order_id; its paid_date is the purchase "
                                    "date"),
        _req("refund_date", "date", "refund day"),
        _req("reason", "code", "reason code chosen by the customer: quality, authenticity, "
                               "not_as_described, size, changed_mind, logistics, other (other "
                               "codes are allowed)"),
        _opt("comment", "str", None, "free text written by the customer"),
    ), "refunds"),
    Table("backorders", ("sub_order_id",), (
        _req("sub_order_id", "str", "refers to orders.sub_order_id: the sub-order put on backorder"),
        _qty("backordered_units", "units of the sub-order not shipped from stock and promised for "
                                  "later; 0 < backordered_units ≤ orders.units"),
        _req("backorder_date", "date", "day the line went on backorder, ≥ the order's paid_date"),
        _req("promised_date", "date", "delivery date promised to the customer"),
        _opt("shipped_date", "date", None, "day the backordered units shipped; empty = not shipped"),
        _opt("cancelled_date", "date", None,
             "day the backorder was cancelled; empty = not cancelled (at most one of shipped_date "
             "and cancelled_date)"),
    ), "backordered sub-orders (sold while out of stock, delivered later)", (
        "A line is open on day d when backorder_date ≤ d and neither shipped_date nor "
        "cancelled_date is ≤ d. Month-end KPIs look at the open lines on each month's last day.",)),
    Table("order_volume_plans", ("date", "warehouse", "version_date"), (
        _req("date", "date", "day planned"),
        _WAREHOUSE,
        _req("version_date", "date", "day the plan was made; lag in days = date − version_date "
                                     "(D-14: 14)"),
        _qty("planned_orders", "planned number of orders"),
    ), "warehouse order-volume plans", (
        "Actual order volume of a warehouse on a day = number of distinct `orders.order_id` with "
        "that `paid_date` and `warehouse`.",)),
    Table("purchase_orders", ("po_line_id",), (
        _req("po_line_id", "str", "PO line id"),
        _req("po_id", "str", "PO id"),
        _req("supplier", "str", "supplier id"),
        _SKU,
        _req("order_date", "date", "order day"),
        _req("promised_date", "date", "agreed arrival date at the hand-off point"),
        _qty("ordered_units", "units ordered"),
        _qty("unit_price", "price per unit"),
        _opt("rush", "bool", False, "urgent order placed inside the supplier's normal lead time"),
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
        _opt("new_product", "bool", False, "first production run of a new (own-brand) product"),
        _opt("attempt", "int", 1,
             "1 for the first inspection of that product run, 2 for a re-inspection, …",
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

VERSION = 1

DATASET = (
    "Every KPI in the project reads these tables and nothing else. A dataset is a folder that "
    "holds one file per table (`<table>.csv`, `<table>.parquet` or `<table>.xlsx`), one Excel "
    "workbook whose sheet names are the table names, or a .zip of such files. Only the tables a "
    "KPI needs must be present; the app shows which KPIs a dataset can feed and, for the others, "
    "which table or column is missing.")

CONVENTIONS = (
    "Column names are snake_case, exactly as below. Uploads with other headers (for example "
    "Chinese headers such as `SKU编码`, `日期`) are mapped onto these names by the user, and a "
    "mapping can be saved and reused (a named preset, or JSON with `--mapping`). A mapping can "
    "also turn a wide file — one column per month, or per horizon such as `M+1` — into plan or "
    "sales rows.",
    "`date` columns are calendar dates (no time zone). `month` columns are periods `YYYY-MM` "
    "(`2024/03`, `202403` and `2024年3月` are read too).",
    "Quantities (`*_units`, `units`) are non-negative numbers; money (`gmv`, `value`, `amount`, "
    "`unit_cost`, `unit_price`) is non-negative, in one currency per dataset.",
    "Booleans accept true/false, 1/0, yes/no, y/n, 是/否.",
    "`code` columns are trimmed and compared without case; where the allowed values are listed, "
    "another value is an error.",
    "\"key\" means the listed columns identify a row: a duplicate key is a validation error.",
    "Optional columns have the default shown; a missing required column is a validation error "
    "that names the table, the column and the KPIs that need it.",
)

BAD_INPUT = (
    "Validation collects every problem of a dataset in one pass and reports each as: table, "
    "column, row numbers (first few), what is wrong, and how to fix it. Examples that must be "
    "caught: a required column missing, a value of the wrong type (text in `units`), negative "
    "quantities, `sellable_units > on_hand_units`, duplicate keys, `received_date` after the "
    "snapshot `date`, `passed_units > inspected_units`, returns whose `sub_order_id` is not in "
    "orders, a `month` that is not `YYYY-MM`, an empty table, backorders of more units than the "
    "sub-order or dated before its payment, a backorder both shipped and cancelled. Nothing is silently dropped: rows "
    "that a KPI cannot use are counted and shown.")


def _type_text(col: Column) -> str:
    """The type cell: dtype, then bounds (≥ 0, 0–100)."""
    text = "month (YYYY-MM)" if col.dtype == "month" else col.dtype
    if col.maximum is not None:
        return f"{text} 0–{col.maximum:g}"
    return f"{text} ≥ 0" if col.nonnegative else text


def _default_text(col: Column) -> str:
    if col.required:
        return ""
    if col.computed:
        return col.computed
    if col.default is None:
        return "empty"
    return f"`{str(col.default).lower()}`"


def _meaning_text(col: Column) -> str:
    choices = f" — one of {', '.join(col.choices)}" if col.choices else ""
    return f"{col.meaning}{choices}".replace("|", "\\|")


def render_markdown() -> str:
    """The whole contract as Markdown (docs/data-contract.md): conventions, then per table its
    key and one row per column (type, required, default, meaning), then the bad-input rules.

    Generated, not written by hand, so the document and the code cannot drift.
    """
    lines = [f"# Data contract v{VERSION}", "",
             "<!-- Generated from lib/kpilab/contract.py by `kpilab contract -o "
             "docs/data-contract.md`; do not edit by hand (tests/test_contract.py checks it). -->",
             "", DATASET, "", "## Conventions", ""]
    lines += [f"- {c}" for c in CONVENTIONS]
    lines += ["", "## Tables", ""]
    lines += [f"- [{t.name}](#{t.name}) — {t.meaning}" for t in TABLES.values()]
    for table in TABLES.values():
        lines += ["", f"### {table.name}", "", f"{table.meaning[:1].upper()}{table.meaning[1:]}. "
                  f"Key: {', '.join(f'`{k}`' for k in table.key)}.", "",
                  "| column | type | required | default | meaning |", "|---|---|---|---|---|"]
        lines += [f"| {c.name} | {_type_text(c)} | {'yes' if c.required else 'no'} | "
                  f"{_default_text(c)} | {_meaning_text(c)} |" for c in table.columns]
        for note in table.notes:
            lines += ["", note]
    lines += ["", "## Bad input", "", BAD_INPUT, ""]
    return "\n".join(lines)
