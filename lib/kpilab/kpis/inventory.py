"""Inventory health: inventory value, days of inventory, slow-moving share, stock health, growth.

Snapshots. Inventory is a stock, not a flow: a KPI read "at t" looks at one snapshot day. Without
month grouping that is the last inventory date; grouped by ``month``, each month's last
inventory date. ``inventory_value`` and ``inventory_growth`` (daily_average) average over every
snapshot day of the period instead. The snapshot days are the dates present in the inventory
table as a whole, so a group with no row on a snapshot day contributes 0 that day. Batches are
read at the latest date of the batches table (over the whole table) on or before the snapshot.

Demand per SKU (all warehouses) is ``kpilab.kpis._demand.demand_at``: trailing(t) = Σ units
of t−window+1 … t / window, or forward(t) from the people's plan, with no look-ahead. Days of
sales DOS(t) = sellable / demand; +∞ when demand is 0 and units > 0; 0 when units are 0.

Which KPIs accept ``warehouse`` (their own dimension) and why:

- ``inventory_value``: yes — a sum of inventory rows, each belonging to a cell (sku, warehouse).
- ``stock_health``: yes — a share of batch value, each batch lies in one warehouse.
- ``inventory_growth``: yes — inventory value and GMV (sales.warehouse = the fulfilling
  warehouse) both belong to cells, so a warehouse's inventory can be set against the GMV it ships.
- ``days_of_inventory`` and ``slow_moving``: no — the spec defines demand and sellable units per
  SKU over all warehouses (one network cover per SKU); per-warehouse stock against network-wide
  demand would count the demand once per warehouse.

Reading of the spec (where it leaves room; each choice is stated to the user where it matters):

- ``stock_health`` reads only batches and skus, so its snapshot days are the dates of the
  batches table (the last one, or each month's last one); the reading rule is then the identity.
- ``days_of_inventory`` is a ratio of sums, so a zero demand cost gives NaN (the spec's general
  rule); DOS per SKU in ``slow_moving`` is +∞ in that case, as its own rule says.
- ``days_of_inventory`` universe: every SKU with inventory on t or demand > 0 on t (a SKU that
  sells but holds no stock adds to the denominator only).
- SKUs missing from the SKU master have no unit_cost: they are left out of ``slow_moving`` and
  add no demand cost to ``days_of_inventory`` (both counted in a note).
- ``slow_moving`` flags per SKU: dos = DOS > dos_days (dos_whole); dos_excess = sellable −
  dos_days × demand > 0 (the same test without the division); stock_age = some sellable batch
  older than age_days holds units; dos_and_age = dos and stock_age flags both set.
- ``stock_health`` near_expiry: t is the snapshot day; expired batches (expiry before t) are
  near-expiry too; a sellable batch without expiry_date or whose SKU has no shelf_life_days
  cannot be judged (counted in a note, and in no numerator).
- ``inventory_growth``: the months judged are the inventory months M whose M−12 is also an
  inventory month; GMV is Σ sales.gmv of the calendar month (a note says when sales do not cover
  the month completely). Helpers: inv_growth, gmv_growth, ratio_change.
- ``stock_health`` helpers (the spec names none): problem_value (numerator) and total_value.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Iterable, Sequence

import narwhals.stable.v2 as nw
import numpy as np

from kpilab import engines
from kpilab.kpis._common import NAN, as_date, day_number, day_number_or_null, month_of, month_str, ratio
from kpilab.kpis._demand import DEMAND_WINDOW, demand_at
from kpilab.registry import Definition, Kpi, KpiError, L10n, Param, Reference


SLOW_DEFINITIONS = ("dos_excess", "dos_whole", "stock_age", "dos_and_age")


def _month_expr(column: str = "date") -> nw.Expr:
    """Month number (months since year 0) of a date column: integer arithmetic, fast on pandas."""
    col = nw.col(column)
    return col.dt.year().cast(nw.Int64) * 12 + col.dt.month().cast(nw.Int64) - 1


def _fill_value(ctx, frame: nw.LazyFrame, units: str, table: str) -> nw.LazyFrame:
    """Fill a blank ``value`` with units × unit_cost (the contract's default)."""
    has_value = "value" in frame.collect_schema().names()
    if has_value and not ctx.scalar(frame, nw.col("value").is_null().cast(nw.Int64).sum()):
        return frame
    if not ctx.has("skus"):
        raise KpiError(f"{table}.value is blank and there is no skus table to value units at cost")
    default = nw.col(units) * nw.col("unit_cost")
    out = frame.join(_unit_costs(ctx), on="sku", how="left")
    out = out.with_columns(value=nw.coalesce(nw.col("value"), default) if has_value else default)
    blank = ctx.scalar(out, nw.col("value").is_null().cast(nw.Int64).sum())
    if blank:
        ctx.note(f"{blank} {table} rows have no value and a SKU missing from skus: counted as 0.",
                 zh=f"{table} 中有 {blank} 行缺少 value, 且其 SKU 不在 skus 中: 按 0 计。")
    return out.with_columns(nw.col("value").fill_null(0.0)).drop("unit_cost")


# --------------------------------------------------------------------------- snapshots


def _inventory(ctx, at: nw.LazyFrame | None = None) -> nw.LazyFrame:
    """Inventory rows with day and month numbers and a filled value (a query, not kept: each use
    reads only the snapshot days or the sums it needs); with ``at`` (a frame with ``date``),
    only the rows of those dates, selected before the day arithmetic."""
    inv = ctx.table("inventory")
    if at is not None:
        inv = inv.join(at.select("date"), on="date", how="semi")
    inv = _fill_value(ctx, inv, "on_hand_units", "inventory")
    return inv.select("sku", "warehouse", "value", "sellable_units", day=day_number("date"), mn=_month_expr("date"))


def _dates(ctx, table: str) -> nw.LazyFrame:
    """The distinct dates of a table (inventory or batches): (day, mn, month, date)."""
    return ctx.shared(("dates", table), lambda: ctx.table(table).select("date").unique().with_columns(
        day=day_number("date"), mn=_month_expr("date"), month=month_of("date")))


def _snapshots(ctx, table: str, monthly: bool) -> nw.LazyFrame:
    """The snapshot days of a table: its last date, or the last date of each month.
    Columns (day, mn, month, date): the key that labels detail rows."""
    def build():
        dates = _dates(ctx, table)
        last = dates.group_by("mn").agg(nw.col("day").max()) if monthly else dates.select(nw.col("day").max())
        return dates.join(last.select("day"), on="day", how="semi")
    return ctx.shared(("snapshots", table, monthly), build)


def _last_date(ctx, table: str) -> dt.date:
    """The last date of a table (an empty table is an error)."""
    last = ctx.scalar(ctx.table(table), nw.col("date").max())
    if last is None:
        raise KpiError(f"the {table} table has no rows")
    return as_date(last)


def _inventory_snapshots(ctx, monthly: bool) -> nw.LazyFrame:
    last = _last_date(ctx, "inventory")
    if not monthly:
        ctx.note(f"Measured at the last inventory date, {last}.", zh=f"按最后一个库存日期 {last} 计量。")
    return _snapshots(ctx, "inventory", monthly)


def _batch_reads(ctx, table: str, monthly: bool) -> nw.LazyFrame:
    """Batches read for each snapshot day of ``table``: the batches of the latest batches date on
    or before it (over the whole table). Columns: day (the snapshot), sku, warehouse, batch,
    status, units, value, age = day − received_date, expiry_left = expiry_date − day (days;
    null if no expiry)."""
    def build():
        batches = _fill_value(ctx, ctx.table("batches"), "units", "batches")
        snaps = _snapshots(ctx, table, monthly)
        bdays = _dates(ctx, "batches").select(bday=nw.col("day"))
        reads = (snaps.select("day").join(bdays, how="cross").filter(nw.col("bday") <= nw.col("day"))
                 .group_by("day").agg(nw.col("bday").max()))
        _note_reads(ctx, snaps, reads)
        names = batches.collect_schema().names()
        # float days: a blank expiry_date stays empty (NaN / null), an integer cast would fail
        expiry = (day_number_or_null("expiry_date") if "expiry_date" in names
                  else nw.lit(None, dtype=nw.Float64)).alias("expiry_day")
        status = nw.col("status") if "status" in names else nw.lit("sellable")
        out = (batches.with_columns(bday=day_number("date"))
               .join(reads, on="bday", how="inner")
               .select("day", "sku", "warehouse", "batch", "units", "value",
                       status.alias("status"), received_day=day_number("received_date"), expiry_day=expiry))
        return out.with_columns(age=nw.col("day") - nw.col("received_day"),
                                expiry_left=(nw.col("expiry_day") - nw.col("day")).cast(nw.Float64))
    return ctx.shared(("batch_reads", table, monthly), build)


def _note_reads(ctx, snaps: nw.LazyFrame, reads: nw.LazyFrame) -> None:
    """A note per snapshot whose batches are read on an earlier day, or not at all (the few
    snapshot rows concerned are brought back only when there are any)."""
    odd = snaps.select("day", "date").join(reads, on="day", how="left").filter(
        nw.col("bday").is_null() | (nw.col("bday") != nw.col("day")))
    if not ctx.count(odd):
        return
    odd = odd.sort("day").select("date", unread=nw.col("bday").is_null(),
                                 gap=(nw.col("day") - nw.col("bday")).fill_null(0).cast(nw.Int64))
    for date, unread, gap in engines.collect(odd).rows():
        date = as_date(date)
        if unread:
            ctx.note(f"No batch snapshot on or before {date}: no batch is counted that day.",
                     zh=f"{date} 当天及之前没有批次快照: 当天不计任何批次。")
        else:
            read = date - dt.timedelta(days=int(gap))
            ctx.note(f"Batches for {date} are read at {read}, the latest batch snapshot on or before it.",
                     zh=f"{date} 的批次按 {read} 读取, 即当天或之前最近的批次快照。")


def _sku_stock(ctx, monthly: bool) -> nw.LazyFrame:
    """(sku, day, on_hand_value, sellable) summed over warehouses at each snapshot day."""
    return ctx.shared(("sku_stock", monthly), lambda: (
        _inventory(ctx, _snapshots(ctx, "inventory", monthly))
        .group_by("sku", "day").agg(on_hand_value=nw.col("value").sum(),
                                    sellable=nw.col("sellable_units").sum())))


def _demand(ctx, basis: str, window: int, monthly: bool, skus: str) -> nw.LazyFrame:
    """(sku, day, demand) for every SKU × inventory snapshot day (units per day, all warehouses);
    ``skus``: "master" (the SKU master) or "stocked" (the master and every SKU with stock)."""
    if basis == "forward" and not ctx.has("plans"):
        raise KpiError("the forward basis needs a plans table (the people's monthly plan)")
    if not ctx.has("sales"):
        raise KpiError("demand needs a sales table")

    def build():
        ids = _unit_costs(ctx).select("sku")
        if skus == "stocked":
            ids = nw.concat([ids, _sku_stock(ctx, monthly).select("sku")]).unique()
        days = _snapshots(ctx, "inventory", monthly).select("day")
        return demand_at(ctx, basis, window, days, ids)
    return ctx.shared(("demand", basis, window, monthly, skus), build)


def _unit_costs(ctx) -> nw.LazyFrame:
    return ctx.table("skus").select("sku", "unit_cost")


# --------------------------------------------------------------------------- inventory_value


def _cell_month_value(ctx) -> nw.LazyFrame:
    """Σ value over the snapshot days of each month, per cell (sku, warehouse, mn)."""
    return ctx.shared(("cell_month_value",), lambda: (
        _inventory(ctx).group_by("sku", "warehouse", "mn").agg(nw.col("value").sum())))


def _month_labels(ctx) -> nw.LazyFrame:
    """(mn, month) of every inventory month."""
    return _dates(ctx, "inventory").select("mn", "month").unique()


def _daily_average_cells(ctx, monthly: bool) -> nw.LazyFrame:
    """(sku, warehouse, mn, inventory_value) with inventory_value = Σ_days value / n, n = number
    of snapshot days of the month (monthly) or of the whole table: summing the column over any
    group gives the mean over snapshot days of the group's Σ value (absent rows count 0)."""
    dates = _dates(ctx, "inventory")
    if monthly:
        weights = dates.group_by("mn").agg(n_days=nw.len())
    else:
        weights = dates.select("mn").unique().join(dates.select(n_days=nw.len()), how="cross")
    return (_cell_month_value(ctx).join(weights, on="mn", how="inner")
            .with_columns(inventory_value=nw.col("value") / nw.col("n_days").cast(nw.Float64))
            .drop("value", "n_days"))


def _month_end_cells(ctx, monthly: bool) -> nw.LazyFrame:
    """(sku, warehouse, mn, day, inventory_value) on the snapshot days."""
    return (_inventory(ctx, _snapshots(ctx, "inventory", monthly))
            .select("sku", "warehouse", "mn", "day", inventory_value=nw.col("value")))


def _inventory_value_stats(kind: str):
    def stats(ctx, p, by):
        monthly = "month" in by
        if kind == "daily_average":
            last = _last_date(ctx, "inventory")
            if not monthly:
                dates = _dates(ctx, "inventory")
                first, n = as_date(ctx.scalar(dates, nw.col("date").min())), ctx.count(dates)
                ctx.note(f"Mean over {n} snapshot days, {first} to {last}.",
                         zh=f"{first} 至 {last} 共 {n} 个快照日的平均值。")
            detail = _daily_average_cells(ctx, monthly).join(_month_labels(ctx), on="mn", how="left")
            return detail.select("month", "sku", "warehouse", "inventory_value").sort("month", "sku", "warehouse")
        snaps = _inventory_snapshots(ctx, monthly)
        detail = _month_end_cells(ctx, monthly).drop("mn").join(snaps.select("day", "month", "date"), on="day")
        return detail.select("month", "date", "sku", "warehouse", "inventory_value").sort("month", "sku", "warehouse")
    return stats


def _value_finish(sums):
    return sums.with_columns(value=nw.col("inventory_value"))


# --------------------------------------------------------------------------- days_of_inventory


def _doi_stats(basis: str):
    """Detail per (sku, snapshot): inventory_value = Σ inventory.value over warehouses,
    daily_cost_of_demand = demand × unit_cost; pooled value = Σ inventory_value / Σ cost."""
    def stats(ctx, p, by):
        monthly = "month" in by
        snaps = _inventory_snapshots(ctx, monthly)
        stock = _sku_stock(ctx, monthly)
        _note_unknown_sales(ctx)
        demand = _demand(ctx, basis, p["window"], monthly, "stocked")
        keys = nw.concat([stock.select("sku", "day"),
                          demand.filter(nw.col("demand") > 0).select("sku", "day")]).unique()
        detail = (keys.join(stock.select("sku", "day", "on_hand_value"), on=["sku", "day"], how="left")
                  .join(demand, on=["sku", "day"], how="left")
                  .join(_unit_costs(ctx), on="sku", how="left"))
        unknown = ctx.scalar(detail.filter(nw.col("unit_cost").is_null()), nw.col("sku").n_unique())
        if unknown:
            ctx.note(f"{unknown} SKUs with stock are missing from skus (no unit_cost): their demand "
                     "adds no cost to the denominator.",
                     zh=f"{unknown} 个有库存的 SKU 不在 skus 中 (无 unit_cost): 其需求不为分母增加成本。")
        detail = (detail.with_columns(inventory_value=nw.col("on_hand_value").fill_null(0.0),
                                      demand=nw.col("demand").fill_null(0.0))
                  .with_columns(daily_cost_of_demand=(nw.col("demand") * nw.col("unit_cost")).fill_null(0.0))
                  .with_columns(days_of_inventory=ratio("inventory_value", "daily_cost_of_demand"))
                  .join(snaps.select("day", "month", "date"), on="day", how="left"))
        return detail.select("month", "date", "sku", "inventory_value", "demand", "unit_cost",
                             "daily_cost_of_demand", "days_of_inventory").sort("month", "sku")
    return stats


def _note_unknown_sales(ctx) -> None:
    def build():
        sold = ctx.table("sales").select("sku").unique()
        n = ctx.count(sold.join(_unit_costs(ctx).select("sku"), on="sku", how="anti"))
        if n:
            ctx.note(f"{n} SKUs with sales are missing from skus: their demand is left out.",
                     zh=f"{n} 个有销售的 SKU 不在 skus 中: 其需求不计入。")
        return n
    if ctx.has("sales"):
        ctx.cached(("unknown_sales",), build)


def _doi_finish(sums):
    return sums.with_columns(value=ratio("inventory_value", "daily_cost_of_demand"))


# --------------------------------------------------------------------------- slow_moving


def _slow_frame(ctx, p, monthly: bool) -> nw.LazyFrame:
    """Per (sku, snapshot): stock, demand, DOS and the slow value and flag of EVERY definition."""
    key = ("slow", monthly, p["dos_days"], p["age_days"], p["basis"], p["window"])

    def build():
        snaps = _inventory_snapshots(ctx, monthly)
        stock = _sku_stock(ctx, monthly).select("sku", "day", "sellable")
        costs = _unit_costs(ctx)
        if ctx.has("batches"):
            aged = (_batch_reads(ctx, "inventory", monthly)
                    .filter(nw.col("status") == "sellable", nw.col("age") > p["age_days"])
                    .group_by("sku", "day").agg(aged_value=nw.col("value").sum(), aged_units=nw.col("units").sum()))
            keys = nw.concat([stock.select("sku", "day"), aged.select("sku", "day")]).unique()
        else:
            ctx.note("There is no batches table: stock age cannot be measured (aged value is 0).",
                     zh="没有 batches 表: 无法计算库龄 (超龄货值为 0)。")
            aged, keys = None, stock.select("sku", "day")
        unknown = ctx.count(keys.select("sku").unique().join(costs.select("sku"), on="sku", how="anti"))
        if unknown:
            ctx.note(f"{unknown} SKUs with stock are missing from skus (no unit_cost) and are left out.",
                     zh=f"{unknown} 个有库存的 SKU 不在 skus 中 (无 unit_cost), 不计入。")
        _note_unknown_sales(ctx)
        demand = _demand(ctx, p["basis"], p["window"], monthly, "master")
        d = float(p["dos_days"])
        sellable, dem, cost = nw.col("sellable"), nw.col("demand"), nw.col("unit_cost")
        dos = (nw.when(sellable <= 0).then(nw.lit(0.0))
               .when(dem <= 0).then(nw.lit(float("inf")))
               .otherwise(sellable / dem))
        frame = keys.join(costs, on="sku", how="inner").join(stock, on=["sku", "day"], how="left")
        frame = (frame.join(aged, on=["sku", "day"], how="left") if aged is not None
                 else frame.with_columns(aged_value=nw.lit(0.0), aged_units=nw.lit(0.0)))
        frame = (frame.join(demand, on=["sku", "day"], how="left")
                 .with_columns(nw.col("sellable", "aged_value", "aged_units", "demand").fill_null(0.0))
                 .with_columns(dos=dos, total_value=sellable * cost, excess_units=sellable - d * dem))
        flag_dos = nw.col("dos") > d
        flag_age = nw.col("aged_units") > 0
        frame = frame.with_columns(
            flag_dos_excess=nw.col("excess_units") > 0, flag_dos_whole=flag_dos,
            flag_stock_age=flag_age, flag_dos_and_age=flag_dos & flag_age,
            slow_dos_excess=nw.when(nw.col("excess_units") > 0).then(nw.col("excess_units") * cost)
            .otherwise(nw.lit(0.0)),
            slow_dos_whole=nw.when(flag_dos).then(nw.col("total_value")).otherwise(nw.lit(0.0)),
            slow_stock_age=nw.col("aged_value"),
            slow_dos_and_age=nw.when(flag_dos).then(nw.col("aged_value")).otherwise(nw.lit(0.0)))
        return (frame.join(snaps.select("day", "month", "date"), on="day", how="left")
                .select("month", "date", "sku", "sellable", "unit_cost", "demand", "dos", "total_value",
                        "aged_value", "aged_units",
                        *(f"flag_{k}" for k in SLOW_DEFINITIONS), *(f"slow_{k}" for k in SLOW_DEFINITIONS))
                .sort("month", "sku"))
    return ctx.shared(key, build)


def _slow_stats(kind: str):
    """Detail per (sku, snapshot) carrying the flag and slow value under every definition;
    ``slow_value`` and ``flagged`` are this definition's."""
    def stats(ctx, p, by):
        if kind in ("stock_age", "dos_and_age") and not ctx.has("batches"):
            raise KpiError(f"slow_moving {kind} needs a batches table (received dates of the lots on hand)")
        frame = _slow_frame(ctx, p, "month" in by)
        return frame.with_columns(slow_value=nw.col(f"slow_{kind}"), flagged=nw.col(f"flag_{kind}"))
    return stats


def _slow_finish(sums):
    return sums.with_columns(value=ratio("slow_value", "total_value"))


# --------------------------------------------------------------------------- stock_health


def _health_stats(kind: str):
    """Detail per batch read at each snapshot (batches dates): problem_value and total_value."""
    def stats(ctx, p, by):
        monthly = "month" in by
        last = _last_date(ctx, "batches")
        if not monthly:
            ctx.note(f"Measured at the last batch snapshot, {last}.", zh=f"按最后一个批次快照 {last} 计量。")
        reads = _batch_reads(ctx, "batches", monthly)
        if kind == "near_expiry":
            reads = reads.join(ctx.table("skus").select("sku", "shelf_life_days"), on="sku", how="left")
            sellable = reads.filter(nw.col("status") == "sellable")
            judged = ~nw.col("expiry_left").is_null() & ~nw.col("shelf_life_days").is_null()
            n_sellable, blind = ctx.count(sellable), ctx.count(sellable.filter(~judged))
            if n_sellable and blind == n_sellable:
                raise KpiError("near_expiry needs batches.expiry_date and skus.shelf_life_days; "
                               "no sellable batch has both")
            if blind:
                ctx.note(f"{blind} sellable batch rows lack expiry_date or shelf_life_days and "
                         "cannot be judged near expiry.",
                         zh=f"{blind} 行可售批次缺少 expiry_date 或 shelf_life_days, 无法判断是否临期。")
            problem = (nw.col("status") == "sellable") & judged & (
                nw.col("expiry_left") < p["fraction"] * nw.col("shelf_life_days").cast(nw.Float64))
        elif kind == "defective":
            problem = nw.col("status") == "defective"
        else:
            problem = nw.col("status").is_in(["locked", "unsellable"])
        detail = reads.with_columns(
            problem_value=nw.when(problem.fill_null(False)).then(nw.col("value")).otherwise(nw.lit(0.0)),
            total_value=nw.col("value"))
        detail = detail.join(_snapshots(ctx, "batches", monthly).select("day", "month", "date"), on="day", how="left")
        return detail.select("month", "date", "sku", "warehouse", "batch", "status", "units", "age",
                             "expiry_left", "problem_value", "total_value").sort("month", "sku", "warehouse", "batch")
    return stats


def _health_finish(sums):
    return sums.with_columns(value=ratio("problem_value", "total_value"))


# --------------------------------------------------------------------------- inventory_growth


def _growth_stats(kind: str):
    """Detail per (cell, judged month M): inventory and gmv of M and of M−12 (``*_year_ago``)."""
    def stats(ctx, p, by):
        months = _month_labels(ctx).select("mn")
        judged = months.join(months.select(mn=nw.col("mn") + 12), on="mn", how="semi")
        n_judged = ctx.count(judged)
        if not n_judged:
            ctx.note("Inventory growth needs a month and the same month a year earlier: the inventory "
                     "table covers less than 13 months.",
                     zh="库存增长需要某月及去年同月的数据: inventory 表覆盖不足 13 个月。")
        last_judged = ctx.scalar(judged, nw.col("mn").max()) if n_judged else None
        if n_judged and "month" not in by:
            judged = judged.filter(nw.col("mn") == last_judged)
            ctx.note(f"Judged month: {month_str(last_judged)} against {month_str(last_judged - 12)}.",
                     zh=f"评估月份: {month_str(last_judged)}, 对比 {month_str(last_judged - 12)}。")
        elif n_judged:
            early = ctx.count(months) - n_judged
            if early:
                ctx.note(f"{early} months have no year-ago month and are not judged.",
                         zh=f"{early} 个月没有去年同月数据, 不参与评估。")
        if kind == "daily_average":
            inv = _daily_average_cells(ctx, monthly=True)
        else:
            inv = _month_end_cells(ctx, monthly=True).drop("day")
        sales = ctx.table("sales")
        last_sale = ctx.scalar(sales, nw.col("date").max())
        gmv = ctx.shared(("cell_month_gmv",), lambda: (
            sales.select("sku", "warehouse", "gmv", mn=_month_expr("date"))
            .group_by("sku", "warehouse", "mn").agg(nw.col("gmv").sum())))
        if n_judged and last_sale is not None:
            last, m = as_date(last_sale), last_judged
            month_end = dt.date(m // 12, m % 12 + 1, calendar.monthrange(m // 12, m % 12 + 1)[1])
            if last < month_end:
                ctx.note(f"Sales end on {last}: the GMV of {month_str(m)} covers part of the month.",
                         zh=f"销售数据截至 {last}: {month_str(m)} 的 GMV 只覆盖该月的一部分。")
        cells = ["sku", "warehouse"]
        shift = (nw.col("mn") + 12).alias("mn")
        parts = [inv.join(judged, on="mn", how="semi").rename({"inventory_value": "inventory"}),
                 inv.select(*cells, shift, inventory_year_ago=nw.col("inventory_value")).join(judged, on="mn", how="semi"),
                 gmv.join(judged, on="mn", how="semi"),
                 gmv.select(*cells, shift, gmv_year_ago=nw.col("gmv")).join(judged, on="mn", how="semi")]
        keys = nw.concat([f.select(*cells, "mn") for f in parts]).unique()
        for f in parts:
            keys = keys.join(f, on=[*cells, "mn"], how="left")
        detail = (keys.with_columns(nw.col("inventory", "inventory_year_ago", "gmv", "gmv_year_ago").fill_null(0.0))
                  .join(_month_labels(ctx), on="mn", how="left"))
        return detail.select("month", *cells, "inventory", "inventory_year_ago", "gmv",
                             "gmv_year_ago").sort("month", *cells)
    return stats


def _growth_finish(sums):
    inv_growth = ratio("inventory", "inventory_year_ago") - 1
    gmv_growth = ratio("gmv", "gmv_year_ago") - 1
    out = sums.with_columns(inv_growth=inv_growth, gmv_growth=gmv_growth,
                            ratio_change=ratio(ratio("inventory", "gmv"), ratio("inventory_year_ago", "gmv_year_ago")) - 1)
    growing = (nw.col("gmv_growth") > 0) & ~nw.col("gmv_growth").is_nan()
    return out.with_columns(value=nw.when(growing).then(ratio("inv_growth", "gmv_growth")).otherwise(nw.lit(NAN)))


def growth_verdict(inv_growth: float, gmv_growth: float) -> str:
    """The article's "golden rule" on one pair of growths.

    golden: inventory grows at most half as fast as GMV (value ≤ 0.5); slower: inventory grows
    slower than GMV (value < 1); faster: inventory grows as fast as GMV or faster;
    gmv_not_growing: GMV did not grow, the ratio misleads (read ratio_change instead);
    unknown: a year-ago value is 0.

    >>> growth_verdict(0.10, 0.30), growth_verdict(0.20, 0.30), growth_verdict(0.40, 0.30)
    ('golden', 'slower', 'faster')
    >>> growth_verdict(-0.05, -0.10)
    'gmv_not_growing'
    """
    if inv_growth is None or gmv_growth is None or np.isnan(inv_growth) or np.isnan(gmv_growth):
        return "unknown"
    if gmv_growth <= 0:
        return "gmv_not_growing"
    value = inv_growth / gmv_growth
    return "golden" if value <= 0.5 else "slower" if value < 1 else "faster"


# --------------------------------------------------------------------------- page helpers (slow_moving)


def _context(dataset, kpi_id: str, params: dict):
    from kpilab.engine import Context, missing_inputs
    from kpilab.kpis import get_kpi

    kpi = get_kpi(kpi_id)
    missing = missing_inputs(kpi, dataset)
    if missing:
        raise KpiError(f"{kpi_id} needs {', '.join(missing)}, which this dataset does not have")
    return Context(dataset, kpi.resolve_params(params))


def slow_moving_sweep(dataset, thresholds: Iterable[int] | None = None, and_moves: str = "dos",
                      classes: Sequence[str] = (), definitions: Sequence[str] = SLOW_DEFINITIONS, **params):
    """Share of slow value under every slow_moving definition as the threshold moves.

    For each threshold x (days; default 30, 35, … 365): dos_excess and dos_whole use
    dos_days = x, stock_age uses age_days = x, dos_and_age moves the DOS threshold (``and_moves``
    = "dos", age stays at ``age_days``), the age threshold ("age") or both ("both"). Measured at
    the last inventory date, optionally on SKUs of ``classes`` only, for ``definitions`` (default
    all four; the stock-age ones need a batches table). Each point equals
    ``compute(dataset, "slow_moving", definition, dos_days=…, age_days=…)`` at that threshold.

    Returns a pandas frame: threshold, definition, slow_value, total_value, value (share).
    """
    if and_moves not in ("dos", "age", "both"):
        raise KpiError(f"and_moves must be dos, age or both, not {and_moves!r}")
    unknown = [d for d in definitions if d not in SLOW_DEFINITIONS]
    if unknown:
        raise KpiError(f"slow_moving: unknown definition {', '.join(unknown)}; valid: {', '.join(SLOW_DEFINITIONS)}")
    xs = np.array(sorted(set(int(x) for x in (thresholds if thresholds is not None else range(30, 366, 5)))),
                  dtype=np.float64)
    if len(xs) and xs.min() < 0:
        raise KpiError("thresholds must be ≥ 0 days")
    ctx = _context(dataset, "slow_moving", params)
    p = ctx.params
    with engines.using(dataset):          # SKU-level arrays (one row per SKU) and the sellable lots
        base = _slow_frame(ctx, p, monthly=False)
        if classes:
            base = _filter_classes(ctx, base, classes)
        skus = engines.collect(base.select("sellable", "demand", "unit_cost", "dos"))
        if ctx.has("batches"):
            lots = engines.collect(_batch_reads(ctx, "inventory", False).filter(nw.col("status") == "sellable")
                                   .join(base.select("sku", "dos"), on="sku", how="inner").select("age", "value", "dos"))
        else:
            lots = nw.from_dict({"age": [], "value": [], "dos": []}, schema={c: nw.Float64 for c in ("age", "value", "dos")},
                                backend="pandas")
    sellable, demand, cost, dos = (skus[c].to_numpy().astype(float) for c in ("sellable", "demand", "unit_cost", "dos"))
    b_age, b_value, b_dos = (lots[c].to_numpy().astype(float) for c in ("age", "value", "dos"))
    total = float((sellable * cost).sum())
    fixed_dos, fixed_age = float(p["dos_days"]), float(p["age_days"])
    rows: dict[str, list] = {"threshold": [], "definition": [], "slow_value": [], "total_value": [], "value": []}
    for x in xs:
        flag_dos = dos > x
        excess = sellable - x * demand
        aged_mask = b_age > x
        and_dos = b_dos > x if and_moves in ("dos", "both") else b_dos > fixed_dos
        and_age = aged_mask if and_moves in ("age", "both") else b_age > fixed_age
        # a SKU's dos_and_age value is its aged value when its DOS is over the threshold
        values = {
            "dos_excess": float(np.where(excess > 0, excess * cost, 0.0).sum()),
            "dos_whole": float(np.where(flag_dos, sellable * cost, 0.0).sum()),
            "stock_age": float(b_value[aged_mask].sum()),
            "dos_and_age": float(b_value[and_age & and_dos].sum()),
        }
        for k in definitions:
            rows["threshold"].append(int(x))
            rows["definition"].append(k)
            rows["slow_value"].append(values[k])
            rows["total_value"].append(total)
            rows["value"].append(values[k] / total if total else NAN)
    import pandas as pd

    return pd.DataFrame({**rows, "threshold": np.array(rows["threshold"], dtype=np.int64)})


def _filter_classes(ctx, frame: nw.LazyFrame, classes: Sequence[str]) -> nw.LazyFrame:
    wanted = [c.strip().upper() for c in classes if c.strip()]
    bad = [c for c in wanted if c not in ("A", "B", "C", "D", "E")]
    if bad:
        raise KpiError(f"classes: {', '.join(bad)} not allowed; choose from A, B, C, D, E")
    keep = ctx.skus.filter(nw.col("abc_class").is_in(wanted)).select("sku")
    return frame.join(keep, on="sku", how="inner")


def _latest(detail: nw.DataFrame, month: str | None) -> nw.DataFrame:
    if not len(detail):
        return detail
    month = month or max(detail["month"].to_list())
    return detail.filter(nw.col("month") == month)


def dos_age_crosstab(detail, month: str | None = None):
    """The 2×2 of DOS flag × age flag at one snapshot (default: the latest month of the detail).

    ``detail`` is the detail of any slow_moving definition (each carries every flag). One row
    per cell (dos_flag, age_flag, both False/True): skus (count), total_value (sellable value at
    cost), aged_value, and the slow value under each definition (slow_dos_excess …). The cell
    (True, False) holds SKUs slow by cover but not by age; (False, True) old stock that still
    sells: the SKUs on which the definitions disagree.
    """
    frame = _latest(nw.from_native(detail, eager_only=True), month)
    sums = ["total_value", "aged_value", *(f"slow_{k}" for k in SLOW_DEFINITIONS)]
    cells = nw.from_dict({"dos_flag": [False, False, True, True], "age_flag": [False, True, False, True]},
                         backend=frame.implementation)
    grouped = (frame.with_columns(dos_flag=nw.col("flag_dos_whole"), age_flag=nw.col("flag_stock_age"), skus=nw.lit(1))
               .group_by("dos_flag", "age_flag").agg(nw.col("skus").sum(), *(nw.col(s).sum() for s in sums)))
    out = cells.join(grouped, on=["dos_flag", "age_flag"], how="left").with_columns(
        nw.col("skus").fill_null(0), *(nw.col(s).fill_null(0.0) for s in sums))
    return out.sort("dos_flag", "age_flag").to_native()


def dos_age_skus(detail, dos_flag: bool, age_flag: bool, month: str | None = None):
    """The SKUs behind one cell of ``dos_age_crosstab``, largest sellable value first."""
    frame = _latest(nw.from_native(detail, eager_only=True), month)
    cols = ["month", "sku", "sellable", "unit_cost", "demand", "dos", "total_value", "aged_value",
            *(f"slow_{k}" for k in SLOW_DEFINITIONS)]
    return (frame.filter(nw.col("flag_dos_whole") == bool(dos_flag), nw.col("flag_stock_age") == bool(age_flag))
            .select(*cols).sort(["total_value", "sku"], descending=[True, False]).to_native())


def slow_disagreements(detail, month: str | None = None):
    """SKUs whose slow flag differs between at least two definitions (latest month by default)."""
    frame = _latest(nw.from_native(detail, eager_only=True), month)
    flags = [nw.col(f"flag_{k}").cast(nw.Int64) for k in SLOW_DEFINITIONS]
    n = nw.sum_horizontal(*flags)
    cols = ["month", "sku", "total_value", "dos", "aged_value", *(f"flag_{k}" for k in SLOW_DEFINITIONS),
            *(f"slow_{k}" for k in SLOW_DEFINITIONS)]
    return (frame.filter((n > 0) & (n < len(SLOW_DEFINITIONS))).select(*cols)
            .sort(["total_value", "sku"], descending=[True, False]).to_native())


def slow_value_long(comparison):
    """A slow_moving Comparison as long rows for charts and downloads: the grouping columns,
    definition, slow_value, total_value and value (share), one row per group × definition."""
    frames = []
    for def_id, result in comparison.results.items():
        frame = nw.from_native(result.table, eager_only=True)
        frames.append(frame.select(*result.by, definition=nw.lit(def_id), slow_value=nw.col("slow_value"),
                                   total_value=nw.col("total_value"), value=nw.col("value")))
    return nw.concat(frames).to_native()


def slow_focus(long, classes: Sequence[str] = ("C", "D", "E")):
    """Pooled slow value of some ABC classes per definition, from ``slow_value_long`` grouped by
    abc_class: Σ slow_value, Σ total_value and their ratio (the article's C/D/E slow value)."""
    frame = nw.from_native(long, eager_only=True).filter(nw.col("abc_class").is_in(list(classes)))
    out = (frame.group_by("definition").agg(nw.col("slow_value").sum(), nw.col("total_value").sum())
           .with_columns(value=ratio("slow_value", "total_value")))
    order = {d: i for i, d in enumerate(SLOW_DEFINITIONS)}
    rows = sorted(out.rows(named=True), key=lambda r: order.get(r["definition"], 99))
    found = {r["definition"] for r in rows}
    for d in nw.from_native(long, eager_only=True)["definition"].unique().to_list():
        if d not in found:       # no SKU of these classes: nothing slow, nothing held
            rows.append({"definition": d, "slow_value": 0.0, "total_value": 0.0, "value": NAN})
    rows.sort(key=lambda r: order.get(r["definition"], 99))
    return nw.from_dict({k: [r[k] for r in rows] for k in ("definition", "slow_value", "total_value", "value")},
                        backend=frame.implementation).to_native()


def sweep_levels(sweep, levels: Sequence[int]):
    """The sweep read at the user's levels (L1/L2/L3): one row per definition, one share column
    per level, named by its number of days."""
    frame = nw.from_native(sweep, eager_only=True)
    data: dict[str, list] = {"definition": [d for d in SLOW_DEFINITIONS if d in set(frame["definition"].to_list())]}
    for level in levels:
        at = frame.filter(nw.col("threshold") == int(level))
        shares = dict(zip(at["definition"].to_list(), at["value"].to_list()))
        data[f"{int(level)} d"] = [shares.get(d, NAN) for d in data["definition"]]
    return nw.from_dict(data, backend=frame.implementation).to_native()


def growth_with_verdict(table):
    """An inventory_growth table with a ``verdict`` column (see ``growth_verdict``)."""
    frame = nw.from_native(table, eager_only=True)
    verdicts = [growth_verdict(i, g) for i, g in zip(frame["inv_growth"].to_list(), frame["gmv_growth"].to_list())]
    return frame.with_columns(verdict=nw.new_series("verdict", verdicts, nw.String, backend=frame.implementation)
                              ).to_native()


def promotion_months(dataset) -> list[str]:
    """Months ('YYYY-MM') with at least one promotion day in sales (``promo`` true): the 618 and
    Double 11 build-ups that make daily-average and month-end inventory differ."""
    if "sales" not in dataset.tables:
        return []
    sales = engines.lazy(dataset.tables["sales"])
    if "promo" not in sales.collect_schema().names():
        return []
    with engines.using(dataset):
        months = engines.collect(sales.filter(nw.col("promo").fill_null(False)).select(month=month_of("date")).unique())
    return sorted(months["month"].to_list())


# --------------------------------------------------------------------------- declarations

_BASIS = Param("basis", "choice", "trailing", L10n("DOS demand basis", "DOS 需求口径"),
               L10n("trailing: past sales (objective, cannot be steered); forward: the people's sales plan "
                    "(reflects why stock was built, needs a neutral plan).",
                    "trailing: 过去销售 (客观, 不易被操纵); forward: 未来销售计划 (反映备货原因, 需要一版中性稳定的计划)。"),
               choices=("trailing", "forward"))
_DOS_DAYS = Param("dos_days", "int", 180, L10n("DOS threshold (days)", "DOS 阈值 (天)"),
                  L10n("Stock covering more days of sales than this is slow (the article: 180, or 90/120 as "
                       "L1/L2/L3 levels).", "可售天数超过该值即为滞销 (文章: 180 天, 也可 90/120 天分级 L1/L2/L3)。"),
                  bounds=(0, 3650))
_AGE_DAYS = Param("age_days", "int", 90, L10n("Stock-age threshold (days)", "库龄阈值 (天)"),
                  L10n("Sellable lots received more than this many days before the snapshot are slow "
                       "(the article: GR > 90 days).", "入库超过该天数的可售批次即为滞销 (文章: GR > 90 天)。"),
                  bounds=(0, 3650))
_FRACTION = Param("fraction", "float", 0.3333, L10n("Near-expiry: remaining shelf life below", "临期: 剩余效期低于"),
                  L10n("Share of the total shelf life; the article's rule of thumb is 1/3.",
                       "占总效期的比例; 文章的经验规则是 1/3 效期。"), bounds=(0.0, 1.0))

_DAILY_NAME = L10n("Daily average", "日均")
_MONTH_END_NAME = L10n("Month end", "月末")
_DAILY_SAYS = L10n("Mean over the month's snapshot days of the stock value at cost: mid-month peaks and troughs "
                   "count, so the month end cannot be dressed up.",
                   "月内每个快照日库存货值的平均: 月中的波峰波谷都计入, 不能只在月底踩线。")
_DAILY_PREFER = L10n("Year-on-year analysis: it is steadier. Promotion peaks (618, Double 11) get their own peak "
                     "targets, managed as projects.",
                     "做年同比分析: 更稳定。618、双11 等 S 级大促的峰值库存单独设目标, 随项目管理。")
_MONTH_END_SAYS = L10n("Stock value at cost on the month's last snapshot day.", "月内最后一个快照日的库存货值。")
_MONTH_END_PREFER = L10n("You want to tie out with finance's balance sheet; month-end days of inventory are "
                         "easier to explain.", "需要与财务资产负债表一致; 月末库存天期也更容易理解。")

INVENTORY_VALUE = Kpi(
    id="inventory_value", family="inventory",
    name=L10n("Inventory value", "库存货值"),
    description=L10n("Stock value at cost, as a daily average over the month or at month end.",
                     "按成本计的库存货值, 取月内日均或月末。"),
    unit="money", direction="lower", tables=("inventory",), period=L10n("month", "月份"),
    params=(),
    definitions=(
        Definition("daily_average", _DAILY_NAME, "mean over the month's snapshot days t of Σ inventory.value(t)",
                   _DAILY_SAYS, _DAILY_PREFER, stats=_inventory_value_stats("daily_average"),
                   finish=_value_finish, sums=("inventory_value",), helpers=()),
        Definition("month_end", _MONTH_END_NAME, "Σ inventory.value on the month's last snapshot day",
                   _MONTH_END_SAYS, _MONTH_END_PREFER, stats=_inventory_value_stats("month_end"),
                   finish=_value_finish, sums=("inventory_value",), helpers=()),
    ),
    dims=("warehouse",), optional_tables=("skus",))

DAYS_OF_INVENTORY = Kpi(
    id="days_of_inventory", family="inventory",
    name=L10n("Days of inventory", "库存天期"),
    description=L10n("How many days of demand the stock on hand covers, valued at cost: on the last 30 days' "
                     "sales, or on the sales plan ahead.",
                     "在库库存能覆盖多少天的需求 (按成本计): 按过去 30 天销售, 或按未来销售计划。"),
    unit="days", direction="target", tables=("inventory", "sales", "skus"),
    period=L10n("month of the snapshot", "快照所在月份"),
    params=(DEMAND_WINDOW,),
    definitions=(
        Definition("trailing", L10n("On trailing sales", "按过去日均销售"),
                   "Σ inventory.value(t) / Σ_sku trailing_sku(t) × unit_cost,   trailing = Σ units of t−window+1…t / window",
                   L10n("Stock value over the cost of the last N days' mean daily sales. Swings after big "
                        "promotions and does not show why stock was built.",
                        "库存货值除以过去 N 天日均销售成本。大促爆发后波动较大, 也不反映备货原因。"),
                   L10n("There is no neutral, stable sales plan: past sales are objective and, seen the same way "
                        "every year, still show a pattern.",
                        "没有一版中性稳定的销售计划时退而求其次: 过去销售客观, 每年都这么看也能呈现规律。"),
                   daily_sales=True, stats=_doi_stats("trailing"), finish=_doi_finish,
                   sums=("inventory_value", "daily_cost_of_demand"),
                   helpers=("inventory_value", "daily_cost_of_demand"), params=("window",)),
        Definition("forward", L10n("On the forward plan", "按未来销售计划"),
                   "Σ inventory.value(t) / Σ_sku forward_sku(t) × unit_cost,   forward = mean daily plan of t+1…t+window",
                   L10n("Stock value over the cost of the planned daily sales ahead: stock built for a "
                        "promotion reads as cover for it.",
                        "库存货值除以未来计划日均销售成本: 为大促备的货会体现为对大促的覆盖。"),
                   L10n("You have a neutral, stable sales plan (its total reliably hits 90–110%); otherwise "
                        "the number is easy to steer.",
                        "系统中有一版中性稳定的销售计划 (总量稳定达成 90–110%); 否则这个数易被操纵。"),
                   stats=_doi_stats("forward"), finish=_doi_finish,
                   sums=("inventory_value", "daily_cost_of_demand"),
                   helpers=("inventory_value", "daily_cost_of_demand"), params=("window",)),
    ),
    optional_tables=("plans",))

_SLOW_TEXT = {
    "dos_excess": (
        L10n("DOS excess", "DOS 超出部分"),
        "Σ max(0, sellable − dos_days × demand) × unit_cost / Σ sellable × unit_cost",
        L10n("Only the part of a SKU's stock beyond dos_days of cover is slow: a SKU with 200 days of cover "
             "at 180 contributes 20 days' worth.",
             "只有超过 dos_days 覆盖的那部分货值算滞销: 可售 200 天、阈值 180 天, 只计超出的 20 天货值。"),
        L10n("Your data and plan process are mature enough to value the excess precisely; it rewards "
             "trimming the excess rather than clearing whole SKUs.",
             "数据处理能力和管理精度足够时; 鼓励削减超出部分而非整个清掉 SKU。")),
    "dos_whole": (
        L10n("DOS whole SKU", "DOS 整个 SKU"),
        "Σ [DOS > dos_days] · sellable × unit_cost / Σ sellable × unit_cost",
        L10n("The simplification: once a SKU's cover exceeds dos_days, all of its sellable stock is slow.",
             "简化做法: SKU 可售天数超过 dos_days 时, 其全部可售库存都算滞销。"),
        L10n("Simple to compute and explain; it reads higher than the excess and flags SKUs rather than "
             "value.", "计算和解释简单; 数值高于超出部分口径, 关注的是 SKU 而非货值。")),
    "stock_age": (
        L10n("Stock age", "库龄"),
        "Σ value of sellable batches with t − received_date > age_days / Σ sellable × unit_cost",
        L10n("Sellable lots received more than age_days ago are slow, whatever the demand.",
             "入库超过 age_days 天的可售批次算滞销, 不看需求。"),
        L10n("Every lot carries an accurate receipt date in WMS/ERP and the warehouse works strictly "
             "first-in-first-out; otherwise the numbers are disputed. Does not depend on a plan.",
             "WMS/ERP 中每份库存都带准确收货日期, 仓库严格先进先出; 否则沟通时数据先打脸。不依赖计划。")),
    "dos_and_age": (
        L10n("DOS and age", "DOS 与库龄交集"),
        "Σ [DOS > dos_days] · aged sellable batch value / Σ sellable × unit_cost",
        L10n("Old lots of SKUs whose cover is also too long: the intersection, the most severely slow stock.",
             "库龄超标且可售天数也超标的批次: 二者交集, 滞销程度最高。"),
        L10n("Both dimensions matter to you and you want a finer tier: act first on the intersection.",
             "认为两个维度都重要, 想更精细分层: 优先处理交集部分。")),
}

_SLOW_PARAMS = {"dos_excess": ("dos_days", "basis", "window"), "dos_whole": ("dos_days", "basis", "window"),
                "stock_age": ("age_days",), "dos_and_age": ("dos_days", "age_days", "basis", "window")}

SLOW_MOVING = Kpi(
    id="slow_moving", family="inventory",
    name=L10n("Slow-moving stock share", "滞销货值占比"),
    description=L10n("Share of sellable stock value that is slow-moving, by days of sales, by stock age, or both.",
                     "滞销货值占可售库存货值的比例: 按可售天数 (DOS)、按库龄, 或两者兼顾。"),
    unit="share", direction="lower", tables=("inventory", "skus", "sales"),
    period=L10n("month of the snapshot", "快照所在月份"),
    params=(_DOS_DAYS, _AGE_DAYS, _BASIS, DEMAND_WINDOW),
    definitions=tuple(
        Definition(k, _SLOW_TEXT[k][0], _SLOW_TEXT[k][1], _SLOW_TEXT[k][2], _SLOW_TEXT[k][3],
                   stats=_slow_stats(k), finish=_slow_finish, sums=("slow_value", "total_value"),
                   helpers=("slow_value", "total_value"), params=_SLOW_PARAMS[k],
                   daily_sales="dos_days" in _SLOW_PARAMS[k])     # days of sales read day by day
        for k in SLOW_DEFINITIONS),
    optional_tables=("batches", "plans"))

STOCK_HEALTH = Kpi(
    id="stock_health", family="inventory",
    name=L10n("Stock health", "不良/临期/不可售货值占比"),
    description=L10n("Share of batch value in a problem state: near expiry, defective, or not sellable.",
                     "处于问题状态的批次货值占比: 临期、不良、不可售。"),
    unit="share", direction="lower", tables=("batches", "skus"),
    period=L10n("month of the snapshot", "快照所在月份"),
    params=(_FRACTION,),
    definitions=(
        Definition("near_expiry", L10n("Near expiry", "临期品"),
                   "Σ value of sellable batches with expiry_date − t < fraction × shelf_life_days / Σ batch value",
                   L10n("Sellable lots with less than a fraction (1/3) of their total shelf life left.",
                        "剩余效期不足总效期一定比例 (1/3) 的可售批次。"),
                   L10n("Goods with a shelf life: catch them while they can still be sold; refine the rule for "
                        "short shelf lives.", "有效期商品: 在还能卖掉时发现它们; 总效期较短的品再细化规则。"),
                   stats=_health_stats("near_expiry"), finish=_health_finish,
                   sums=("problem_value", "total_value"), helpers=("problem_value", "total_value"),
                   params=("fraction",)),
        Definition("defective", L10n("Defective", "不良品"), "Σ value of batches with status defective / Σ batch value",
                   L10n("Lots marked defective: damaged at receipt, in the warehouse, or returned by customers.",
                        "标为不良的批次: 收货不良、库内转不良或消费者退货转不良。"),
                   L10n("You attribute the cause (supplier, logistics partner, return policy) and act on it, "
                        "with evidence.", "需要归因 (扣供应商货款、处罚物流、调整退货政策) 并有证据时。"),
                   stats=_health_stats("defective"), finish=_health_finish,
                   sums=("problem_value", "total_value"), helpers=("problem_value", "total_value")),
        Definition("unsellable", L10n("Not sellable", "不可售"),
                   "Σ value of batches with status locked or unsellable / Σ batch value",
                   L10n("Lots that cannot be sold for now: regulations, brand requirements, product pages not "
                        "shot yet (obsolete).", "暂时无法销售的货值: 政策法规、品牌方要求、商详未拍摄等 (obsolete)。"),
                   L10n("Review it regularly: it is easily forgotten until it expires.",
                        "需要定期 review: 一不小心就被忘掉, 直到过期造成资损。"),
                   stats=_health_stats("unsellable"), finish=_health_finish,
                   sums=("problem_value", "total_value"), helpers=("problem_value", "total_value")),
    ),
    dims=("warehouse",))

_GROWTH_FORMULA = ("(I(M)/I(M−12) − 1) / (G(M)/G(M−12) − 1) when GMV grew, else empty;   "
                   "I = {} inventory value, G = Σ sales.gmv of M")
_GOLDEN = (Reference(0.5, L10n("golden rule: half the GMV growth", "黄金法则: GMV 增长的一半")),
           Reference(1.0, L10n("at worst: as fast as GMV", "底线: 不快于 GMV 增长")))

INVENTORY_GROWTH = Kpi(
    id="inventory_growth", family="inventory",
    name=L10n("Inventory growth vs GMV growth", "库存增长 / GMV 增长"),
    description=L10n("Year-on-year inventory growth over GMV growth: the 'golden rule' wants inventory to grow "
                     "half as fast as GMV, and at least slower.",
                     "库存同比增长除以 GMV 同比增长: '黄金法则'要求库存增长为 GMV 增长的一半, 至少低于 GMV 增长。"),
    unit="ratio", direction="lower", tables=("inventory", "sales"),
    period=L10n("month (against the same month a year earlier)", "月份 (对比去年同月)"),
    params=(),
    definitions=(
        Definition("daily_average", _DAILY_NAME, _GROWTH_FORMULA.format("daily-average"),
                   L10n("Growth of the month's daily-average inventory value over GMV growth.",
                        "月日均库存货值的同比增长除以 GMV 同比增长。"),
                   L10n("The article's choice for year-on-year: daily averages are steadier. Keep the same "
                        "basis as inventory value.", "文章推荐做年同比: 日均更稳定。与库存货值口径保持一致。"),
                   stats=_growth_stats("daily_average"), finish=_growth_finish,
                   sums=("inventory", "inventory_year_ago", "gmv", "gmv_year_ago"),
                   helpers=("inv_growth", "gmv_growth", "ratio_change"), references=_GOLDEN),
        Definition("month_end", _MONTH_END_NAME, _GROWTH_FORMULA.format("month-end"),
                   L10n("Growth of the month-end inventory value over GMV growth.",
                        "月末库存货值的同比增长除以 GMV 同比增长。"),
                   L10n("You report against the balance sheet; a promotion build-up at month end (e.g. before "
                        "Double 11) moves it.", "与财务报表对齐时; 月末的大促备货 (如双11前) 会影响它。"),
                   stats=_growth_stats("month_end"), finish=_growth_finish,
                   sums=("inventory", "inventory_year_ago", "gmv", "gmv_year_ago"),
                   helpers=("inv_growth", "gmv_growth", "ratio_change"), references=_GOLDEN),
    ),
    dims=("warehouse",), optional_tables=("skus",))

KPIS = (INVENTORY_VALUE, DAYS_OF_INVENTORY, SLOW_MOVING, STOCK_HEALTH, INVENTORY_GROWTH)
