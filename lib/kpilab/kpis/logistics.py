"""Logistics: logistics cost (to GMV, per order) and local-fulfilment rate.

Cost to GMV is what the logistics partners are judged on, split by cost type the way the cost
budget was built; cost per order shows anomalies faster (when orders fall short of plan, cost per
order rises because rent and staff do not shrink with volume). Local fulfilment is the share of
sub-orders shipped from a warehouse serving the customer's region: the network-planning team's
KPI, judged only on categories that follow a regional split-warehouse strategy.

Reading of the spec:
- logistics_cost: the months judged are those present in logistics_costs (costs are booked
  monthly, often later than sales); sales and orders of other months are left out and counted in
  a note. Within those months every (month, warehouse) cell seen in costs, sales or orders is
  kept, so a warehouse with sales but no cost rows adds its GMV and orders with cost 0.
- The detail is built for the grouping asked for, because two denominators are not additive:
  * cost_type filters the numerator only. Grouped by cost_type, the detail has one row per
    (month, warehouse, cost_type) for every cost type seen in the table, and each row repeats
    its cell's full GMV and orders (a cost type with no row in a cell has amount 0). Summing such
    a detail over cost types would count the denominator once per type, so without cost_type
    the detail is one row per (month, warehouse) with the amounts of all types.
  * orders are distinct order_id. Grouped by warehouse, an order shipped from two warehouses
    counts once in each (each warehouse served it). Otherwise an order counts once per group:
    its count is split evenly over the (month, warehouse) cells it touches in the group, so the
    detail's ``orders`` column can hold fractions while every group total is a whole count
    (rounded to 9 decimals to remove float noise). Sub-orders with no warehouse form a cell
    with a blank warehouse (counted in a note).
- local_fulfilment: regions are compared trimmed and case-insensitively. Under split_only the
  universe is the sub-orders of SKUs with split_warehouse true (a SKU missing from skus takes the
  contract default, true); ``excluded`` counts the sub-orders of that universe with a blank
  warehouse or customer_region or a warehouse missing from warehouses.
"""

from __future__ import annotations

from typing import Any, Sequence

import narwhals.stable.v2 as nw

from kpilab.kpis._common import month_of, ratio
from kpilab.registry import Definition, Kpi, L10n, Reference

# --------------------------------------------------------------------------- logistics cost


def _cost_months(ctx) -> nw.DataFrame:
    return ctx.table("logistics_costs").select("month").unique()


def _cost_inputs(ctx) -> tuple[nw.DataFrame, nw.DataFrame, nw.DataFrame]:
    """(costs, sales, orders) of the months present in logistics_costs, with a month column."""
    def build():
        months = _cost_months(ctx)
        costs = ctx.table("logistics_costs").select("month", "warehouse", "cost_type", "amount")
        sales = ctx.table("sales").with_columns(month=month_of("date"))
        orders = ctx.table("orders").with_columns(month=month_of("paid_date"))
        kept_sales = sales.join(months, on="month", how="inner")
        kept_orders = orders.join(months, on="month", how="inner")
        left = sorted(set(sales["month"].unique().to_list()) | set(orders["month"].unique().to_list())
                      - set(months["month"].to_list()))
        if left:
            ctx.note(f"Months without logistics cost rows are left out: {', '.join(left)}.")
        blank = kept_orders.filter(nw.col("warehouse").is_null())
        if len(blank):
            ctx.note(f"{blank['order_id'].n_unique()} orders have sub-orders without a warehouse: they count "
                     "in the totals, under a blank warehouse when grouped by warehouse.")
        return costs, kept_sales.select("month", "warehouse", "gmv"), kept_orders.select("month", "warehouse", "order_id")
    return ctx.cached(("logistics_cost_inputs",), build)


def cost_cells(ctx, by: Sequence[str]) -> nw.DataFrame:
    """The logistics_cost detail for grouping ``by`` (see the module docstring).

    Columns: month, warehouse, [cost_type,] amount, gmv, orders.
    """
    costs, sales, orders = _cost_inputs(ctx)
    cell = ["month", "warehouse"]
    gmv = sales.group_by(cell).agg(nw.col("gmv").sum())
    triples = orders.unique(["order_id", *cell])
    scope = ["order_id", *[c for c in cell if c in by]]
    counts = (triples.join(triples.group_by(scope).agg(_k=nw.len()), on=scope, how="left")
              .with_columns(orders=1.0 / nw.col("_k"))
              .group_by(cell).agg(nw.col("orders").sum()))
    keys = nw.concat([costs.select(cell), gmv.select(cell), counts.select(cell)]).unique()
    denominators = (keys.join(gmv, on=cell, how="left").join(counts, on=cell, how="left")
                    .with_columns(nw.col("gmv").fill_null(0.0).cast(nw.Float64),
                                  nw.col("orders").fill_null(0.0).cast(nw.Float64)))
    if "cost_type" in by:
        types = costs.select("cost_type").unique()
        amounts = costs.group_by(*cell, "cost_type").agg(nw.col("amount").sum())
        rows = (denominators.join(types, how="cross")
                .join(amounts, on=[*cell, "cost_type"], how="left"))
        out_cols = [*cell, "cost_type", "amount", "gmv", "orders"]
    else:
        amounts = costs.group_by(cell).agg(nw.col("amount").sum())
        rows = denominators.join(amounts, on=cell, how="left")
        out_cols = [*cell, "amount", "gmv", "orders"]
    return (rows.with_columns(nw.col("amount").fill_null(0.0).cast(nw.Float64))
            .select(*out_cols).sort(out_cols[:-3], nulls_last=True))


def _cost_stats(ctx, p, by):
    return cost_cells(ctx, by)


def _orders_total() -> nw.Expr:
    return nw.col("orders").round(9)


def cost_trend(dataset, by: Sequence[str] = (), **params) -> Any:
    """Cost to GMV and cost per order per month, with their drivers, indexed to the first month.

    A tidy table: month, [by …], measure (cost_to_gmv, cost_per_order, amount, gmv, orders), value,
    index (value / the first month's value of the same group × 100). When order volume falls,
    cost per order rises faster than cost to GMV whenever the average order value holds up: the
    two lines move apart exactly as orders and GMV do.
    """
    from kpilab.engine import compare

    by = tuple(c for c in by if c != "month")
    cmp = compare(dataset, "logistics_cost", by=("month", *by), **params)
    gmv = nw.from_native(cmp.results["cost_to_gmv"].table, eager_only=True)
    per_order = nw.from_native(cmp.results["cost_per_order"].table, eager_only=True)
    keys = ["month", *by]
    wide = (gmv.rename({"value": "cost_to_gmv"})
            .join(per_order.select(*keys, nw.col("value").alias("cost_per_order"), "orders"), on=keys,
                  how="left"))
    measures = ["cost_to_gmv", "cost_per_order", "amount", "gmv", "orders"]
    long = nw.concat([wide.select(*keys, nw.lit(m).alias("measure"), nw.col(m).cast(nw.Float64).alias("value"))
                      for m in measures])
    groups = ["measure", *by]
    first = (long.sort("month").filter(~nw.col("value").is_nan(), nw.col("value") != 0)
             .group_by(groups).agg(nw.col("value").first().alias("_base")))
    out = long.join(first, on=groups, how="left").with_columns(
        index=ratio(nw.col("value") * 100.0, nw.col("_base").fill_null(0.0))).drop("_base")
    return out.sort("measure", *by, "month").to_native()


# --------------------------------------------------------------------------- local fulfilment


def _norm(column: str) -> nw.Expr:
    return nw.col(column).cast(nw.String).str.strip_chars().str.to_lowercase()


def fulfilment_lines(ctx) -> nw.DataFrame:
    """One row per sub-order: month of paid_date, regions, split flag, usable flag (not excluded)."""
    def build():
        orders = ctx.table("orders")
        warehouses = ctx.table("warehouses").select("warehouse", "region").with_columns(_known=nw.lit(True))
        skus = ctx.table("skus").select("sku", "split_warehouse").with_columns(_listed=nw.lit(True))
        rows = (orders.join(warehouses, on="warehouse", how="left").join(skus, on="sku", how="left"))
        unlisted = rows.filter(nw.col("_listed").is_null())
        if len(unlisted):
            ctx.note(f"{len(unlisted)} sub-orders have SKUs missing from skus: treated as split_warehouse "
                     "true (the contract default).")
        blank_wh = nw.col("warehouse").is_null() | (_norm("warehouse") == "")
        blank_region = nw.col("customer_region").is_null() | (_norm("customer_region") == "")
        unknown = ~blank_wh & nw.col("_known").is_null()
        excluded = (blank_wh | blank_region | unknown | nw.col("region").is_null()).fill_null(True)
        return (rows.with_columns(month=month_of("paid_date"),
                                  split_warehouse=nw.col("split_warehouse").fill_null(True).cast(nw.Boolean),
                                  _excluded=excluded,
                                  _same=(_norm("region") == _norm("customer_region")).fill_null(False))
                .select("sub_order_id", "order_id", "sku", "month", "paid_date", "customer_region",
                        "warehouse", "region", "split_warehouse", "_excluded", "_same")
                .sort("sub_order_id"))
    return ctx.cached(("fulfilment_lines",), build)


def _fulfilment_stats(kind: str):
    def stats(ctx, p, by):
        rows = fulfilment_lines(ctx)
        scope = nw.col("split_warehouse") if kind == "split_only" else nw.lit(True)
        if kind == "split_only":
            n = len(rows.filter(~nw.col("split_warehouse")))
            if n:
                ctx.note(f"{n} sub-orders of SKUs without a split-warehouse strategy (skus.split_warehouse "
                         "false) are left out of both counts.")
        detail = rows.with_columns(
            sub_orders=(scope & ~nw.col("_excluded")).cast(nw.Int64),
            excluded=(scope & nw.col("_excluded")).cast(nw.Int64)).with_columns(
            local=((nw.col("sub_orders") == 1) & nw.col("_same")).cast(nw.Int64))
        n = detail["excluded"].sum()
        if n:
            ctx.note(f"{n} sub-orders with a blank warehouse or customer_region, or a warehouse missing from "
                     "warehouses, are left out of both counts (helper excluded).")
        return detail.drop("_excluded", "_same")
    return stats


# --------------------------------------------------------------------------- declarations

LOGISTICS_COST = Kpi(
    id="logistics_cost", family="logistics",
    name=L10n("Logistics cost", "物流费用"),
    description=L10n("What logistics costs, against sales (cost to GMV, the partners' KPI) and per order (the "
                     "early warning). Split by cost type the way the logistics budget was built.",
                     "物流费用, 对销售额看 (物流费比, 考核物流伙伴) 和按单看 (单均物流成本, 及时发现异常)。按做物流预算时的"
                     "费用类型拆分跟踪。"),
    unit="ratio", direction="lower", tables=("logistics_costs", "sales", "orders"),
    period=L10n("month", "月份"),
    params=(),
    definitions=(
        Definition(
            "cost_to_gmv", L10n("Cost to GMV", "物流费比"), "Σ amount / Σ sales.gmv",
            L10n("Logistics cost as a share of sales value: storage, handling, value-added services, packaging, "
                 "courier… each can be tracked as its own share.",
                 "物流费用占 GMV 的比例: 仓储费、操作费、增值服务费、包材费、快递费等都可以各自看占比。"),
            L10n("Judging the logistics partners and the cost budget: it follows the business, so it stays "
                 "stable when order value and volume move together.",
                 "考核物流伙伴和物流预算时: 它随生意规模伸缩, 单量与客单价同步变化时保持稳定。"),
            stats=_cost_stats, finish=lambda s: s.with_columns(value=ratio("amount", "gmv")),
            sums=("amount", "gmv"), helpers=("amount", "gmv")),
        Definition(
            "cost_per_order", L10n("Cost per order", "单均物流成本"), "Σ amount / #distinct orders.order_id "
            "(paid in the month)",
            L10n("Logistics cost divided by the number of customer orders paid in the month.",
                 "物流费用除以当月支付的订单数。"),
            L10n("Spotting anomalies early: when orders fall short of plan it rises (rent and contracted staff do "
                 "not shrink), which tells you to dig into temporary labour, staff allocation and packaging.",
                 "及时发现异常: 单量不及预期时它会上升 (仓租、正式工不随单量减少), 提示去深究临时工、人员摊分与包材使用。"),
            stats=_cost_stats,
            finish=lambda s: s.with_columns(_orders_total().alias("orders")).with_columns(value=ratio("amount", "orders")),
            sums=("amount", "orders"), helpers=("amount", "orders")),
    ),
    dims=("warehouse", "cost_type"), sku_grouping=False)

_LOCAL_REFS = (Reference(0.75, L10n("75%: already good (article)", "75%: 已算不错 (文章)")),
               Reference(0.80, L10n("80%: above may mean overstock spread across warehouses",
                                    "80%: 再高可能是过度多布库存")))
_LOCAL_FORMULA = "#{sub-orders with region(warehouse) = customer_region} / #sub-orders"

LOCAL_FULFILMENT = Kpi(
    id="local_fulfilment", family="logistics",
    name=L10n("Local fulfilment rate", "本地订单达成率"),
    description=L10n("The share of sub-orders shipped from a warehouse that serves the customer's region (Hangzhou "
                     "orders from the Zhejiang warehouse, not from Tianjin or Guangzhou). It judges how well "
                     "planning spreads stock over the network; higher is not always better.",
                     "由服务客户所在区域的仓库发货的子订单占比 (杭州的订单由浙江仓而非天津仓或广州仓满足)。考核供应链计划的分仓"
                     "分货; 并非越高越好。"),
    unit="share", direction="target", tables=("orders", "warehouses", "skus"),
    period=L10n("month of paid_date", "支付日期所在月份"),
    params=(),
    definitions=(
        Definition(
            "split_only", L10n("Split-warehouse categories only", "仅分仓类目"),
            _LOCAL_FORMULA + ", over SKUs with split_warehouse = true",
            L10n("Local share among items whose category follows a regional split-warehouse strategy; items "
                 "shipped nationwide from one warehouse are left out of both counts.",
                 "只看有分仓策略类目的商品; 一仓发全国的商品从分子分母中都剔除。"),
            L10n("The article's reading: luxury goods or electronics are deliberately kept in one warehouse, so "
                 "they should not count against the planners.",
                 "文章的口径: 奢侈品、数码等本就一仓发全国, 不应计入对计划团队的考核。"),
            stats=_fulfilment_stats("split_only"), finish=lambda s: s.with_columns(value=ratio("local", "sub_orders")),
            sums=("local", "sub_orders", "excluded"), helpers=("local", "sub_orders", "excluded"),
            references=_LOCAL_REFS),
        Definition(
            "all_items", L10n("All items", "全部商品"), _LOCAL_FORMULA,
            L10n("Local share over every sub-order, including items that are shipped nationwide on purpose.",
                 "所有子订单的本地满足比例, 包括有意一仓发全国的商品。"),
            L10n("You want the customer's view of delivery distance whatever the stocking strategy, or no "
                 "split-warehouse flag is maintained.", "关注客户感受到的配送距离而不论备货策略, 或没有维护分仓标记时。"),
            stats=_fulfilment_stats("all_items"), finish=lambda s: s.with_columns(value=ratio("local", "sub_orders")),
            sums=("local", "sub_orders", "excluded"), helpers=("local", "sub_orders", "excluded"),
            references=_LOCAL_REFS),
    ),
    dims=("customer_region",))

KPIS = (LOGISTICS_COST, LOCAL_FULFILMENT)
