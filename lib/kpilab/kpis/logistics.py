"""Logistics: logistics cost (to GMV, per order) and local-fulfilment rate.

Cost to GMV is what the logistics partners are judged on, split by cost type the way the cost
budget was built; cost per order shows anomalies faster (when orders fall short of plan, cost per
order rises because rent and staff do not shrink with volume). Local fulfilment is the share of
sub-orders shipped from a warehouse serving the customer's region: the network-planning team's
KPI, judged only on categories that follow a regional split-warehouse strategy.

Reading of the spec:
- logistics_cost: Σ amount over Σ denominator exactly as the spec's formula reads, over every row
  of both tables. When costs and the denominator table cover different months (an orders extract
  shorter than the cost history) the ungrouped value mixes spans: a note names the months only one
  side covers. Every (month, warehouse) cell seen in costs or in the denominator is kept.
- Empty groups are empty: a group with cost but no orders (or GMV) is empty (÷ 0), and so is a
  group with a denominator but no cost rows (a month, warehouse or cost type the cost table does
  not cover): no cost data cannot be told from no cost, so its value is empty, not 0, and a note
  names those groups. The helper ``cost_rows`` counts the cost rows behind each value.
- The detail is built for the grouping asked for, because two denominators are not additive:
  * cost_type filters the numerator only. Grouped by cost_type, the detail has one row per
    (month, warehouse, cost_type) for every cost type seen in the table, and each row repeats
    its cell's full GMV and orders (a cost type with no row in a cell has amount 0 and
    cost_rows 0). Summing such a detail over cost types would count the denominator once per
    type, so without cost_type the detail is one row per (month, warehouse) with the amounts of
    all types.
  * orders are distinct order_id. Grouped by warehouse, an order shipped from two warehouses
    counts once in each (each warehouse served it). Otherwise an order counts once per group:
    its count is split evenly over the (month, warehouse) cells it touches in the group, so the
    detail's ``orders`` column can hold fractions while every group total is a whole count
    (rounded to 9 decimals to remove float noise). Sub-orders with a blank warehouse form a
    cell of warehouse "(none)" (counted in a note), so they count in every total.
- local_fulfilment: regions are compared trimmed and case-insensitively. Under split_only the
  universe is the sub-orders of SKUs with split_warehouse true (a SKU missing from skus takes the
  contract default, true); ``excluded`` counts the sub-orders of that universe with a blank
  warehouse or customer_region or a warehouse missing from warehouses.
"""

from __future__ import annotations

from typing import Any, Sequence

import narwhals.stable.v2 as nw

from kpilab import engines
from kpilab.kpis._common import NAN, month_of, ratio
from kpilab.kpis.suppliers import compare_groupings, counts
from kpilab.registry import Definition, Kpi, L10n, Reference


# --------------------------------------------------------------------------- logistics cost

NO_WAREHOUSE = "(none)"   # the warehouse of sub-orders that name none, in the order counts
_NAMED = 8                # groups named in a note, at most
_NULL_KEY = "\u2400"      # stands for a blank key in null-safe joins (nulls never match in a join)


def with_month(frame, column: str, name: str = "month"):
    """Add the 'YYYY-MM' of a date column, formatting each distinct date once (strftime over every
    row is the slow part on pandas); lazy or eager frames.

    >>> import pandas as pd
    >>> f = nw.from_native(pd.DataFrame({"d": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-01-31"])}))
    >>> with_month(f, "d")["month"].to_list()
    ['2024-01', '2024-02', '2024-01']
    """
    days = frame.select(column).unique().with_columns(month_of(column).alias(name))
    return frame.join(days, on=column, how="left")


def _values(frame: nw.LazyFrame, columns: Sequence[str], limit: int | None = None) -> list[tuple]:
    """The distinct rows of a few columns, sorted (a short list of months or groups for a note)."""
    rows = frame.select(*columns).unique().sort(*columns)
    return engines.collect(rows.head(limit) if limit else rows).rows()


def _costs(ctx) -> nw.LazyFrame:
    return ctx.table("logistics_costs").select("month", "warehouse", "cost_type", "amount")


def _gmv(ctx) -> nw.LazyFrame:
    """Σ sales.gmv per (month, warehouse), from Σ per (day, warehouse) computed once (``with_month``
    reads its frame twice)."""
    daily = ctx.shared(("logistics_daily_gmv",), lambda: (
        ctx.table("sales").group_by("date", "warehouse").agg(nw.col("gmv").sum())))
    return ctx.shared(("logistics_gmv",), lambda: (
        with_month(daily, "date").group_by("month", "warehouse").agg(nw.col("gmv").sum())))


def _orders(ctx) -> nw.LazyFrame:
    """The columns of ``orders`` both KPIs read, computed once per dataset: the steps below read
    the table several times (self-joins), and on DuckDB each read would run the loader's
    cleaning of every row again."""
    return ctx.shared(("logistics_orders",), lambda: ctx.table("orders").select(
        "sub_order_id", "order_id", "paid_date", "sku", "customer_region", "warehouse"))


def _order_cells(ctx) -> nw.LazyFrame:
    """Distinct (order_id, month, warehouse) of paid orders; a blank warehouse is NO_WAREHOUSE."""
    def build():
        blank = nw.col("warehouse").is_null() | (nw.col("warehouse").str.strip_chars() == "")
        orders = (_orders(ctx).select("order_id", "paid_date", "warehouse")
                  .with_columns(nw.when(blank).then(nw.lit(NO_WAREHOUSE)).otherwise(nw.col("warehouse"))
                                .alias("warehouse")).unique())
        return with_month(orders, "paid_date").select("order_id", "month", "warehouse").unique()
    return ctx.shared(("logistics_order_cells",), build)


def _denominator(ctx, basis: str) -> nw.LazyFrame:
    """The denominator rows, every row as the spec's formula reads (Σ amount over Σ denominator):
    GMV per (month, warehouse), or distinct order cells. Months that only one side covers are
    named in a note, once per dataset: there the ungrouped value mixes spans, and grouping by
    month compares like with like."""
    den = _gmv(ctx) if basis == "gmv" else _order_cells(ctx)

    def note() -> None:
        table = "sales" if basis == "gmv" else "orders"
        cost_months, den_months = _costs(ctx).select("month").unique(), den.select("month").unique()
        only_cost = [m for (m,) in _values(cost_months.join(den_months, on="month", how="anti"), ["month"])]
        if only_cost:
            ctx.note(f"Logistics costs of {', '.join(only_cost)} have no {table} in the same month: the ungrouped "
                     f"value divides costs and {table} of different spans; group by month to compare like with like.",
                     zh=f"{', '.join(only_cost)} 的物流费用在同月没有 {table} 数据: 不分组的数值是用不同时间段的费用除以 {table}; "
                        "按月分组才能同口径比较。")
        only_den = [m for (m,) in _values(den_months.join(cost_months, on="month", how="anti"), ["month"])]
        if only_den:
            ctx.note(f"Months of {table} without logistics cost rows: {', '.join(only_den)} (their {table} count in "
                     "the ungrouped value; grouped by month they are empty).",
                     zh=f"{table} 中以下月份没有物流费用记录: {', '.join(only_den)} (不分组时其 {table} 计入分母; "
                        "按月分组时这些月份为空)。")
        if basis == "orders":
            n = ctx.scalar(den.filter(nw.col("warehouse") == NO_WAREHOUSE), nw.col("order_id").n_unique())
            if n:
                ctx.note(f"{n} orders have sub-orders without a warehouse: they count in the totals, under "
                         f"warehouse '{NO_WAREHOUSE}' when grouped by warehouse.",
                         zh=f"{n} 个订单含有无仓库的子订单: 它们计入合计, 按仓库分组时归入仓库 '{NO_WAREHOUSE}'。")
    ctx.shared(("logistics_span_notes", basis), note)
    return den


def cost_cells(ctx, by: Sequence[str], basis: str) -> nw.LazyFrame:
    """The logistics_cost detail for grouping ``by`` (see the module docstring); ``basis`` is the
    denominator, gmv or orders.

    Columns: month, warehouse, [cost_type,] amount, gmv | orders, cost_rows (the cost rows summed
    into amount: a group without any has no cost data, and its value is empty, not 0). Grouped by
    cost type, every type is divided by the whole GMV, so the types add up to the total (50 / 500
    here):

    >>> import pandas as pd
    >>> from kpilab import Dataset, compute
    >>> costs = pd.DataFrame({"month": ["2024-01"] * 2, "warehouse": "W1", "cost_type": ["storage", "courier"],
    ...                       "amount": [30.0, 20.0]})
    >>> sales = pd.DataFrame({"date": pd.to_datetime(["2024-01-05"]), "sku": "a", "warehouse": "W1",
    ...                       "units": 1.0, "gmv": 500.0})
    >>> orders = pd.DataFrame({"sub_order_id": ["s1"], "order_id": "o1", "paid_date": pd.to_datetime(["2024-01-05"]),
    ...                        "sku": "a", "units": 1.0, "gmv": 500.0, "customer_region": "E", "warehouse": "W1"})
    >>> ds = Dataset({"logistics_costs": costs, "sales": sales, "orders": orders})
    >>> table = compute(ds, "logistics_cost", "cost_to_gmv", by=["cost_type"]).table
    >>> table.to_dict("records")   # doctest: +NORMALIZE_WHITESPACE
    [{'cost_type': 'courier', 'value': 0.04, 'amount': 20.0, 'gmv': 500.0, 'cost_rows': 1},
     {'cost_type': 'storage', 'value': 0.06, 'amount': 30.0, 'gmv': 500.0, 'cost_rows': 1}]
    """
    costs, den = _costs(ctx), _denominator(ctx, basis)
    cell = ["month", "warehouse"]
    denominator = den if basis == "gmv" else _orders_per_cell(ctx, tuple(c for c in cell if c in by))
    keys = nw.concat([costs.select(cell), denominator.select(cell)]).unique()
    denominators = (keys.join(denominator, on=cell, how="left")
                    .with_columns(nw.col(basis).fill_null(0.0).cast(nw.Float64)))
    if "cost_type" in by:
        types = costs.select("cost_type").unique()
        amounts = costs.group_by(*cell, "cost_type").agg(nw.col("amount").sum(), cost_rows=nw.len())
        rows = (denominators.join(types, how="cross")
                .join(amounts, on=[*cell, "cost_type"], how="left"))
        out_cols = [*cell, "cost_type", "amount", basis, "cost_rows"]
    else:
        amounts = costs.group_by(cell).agg(nw.col("amount").sum(), cost_rows=nw.len())
        rows = denominators.join(amounts, on=cell, how="left")
        out_cols = [*cell, "amount", basis, "cost_rows"]
    return (rows.with_columns(nw.col("amount").fill_null(0.0).cast(nw.Float64),
                              nw.col("cost_rows").fill_null(0).cast(nw.Int64))
            .select(*out_cols).sort(out_cols[:-3], nulls_last=True))


def _orders_per_cell(ctx, kept: tuple[str, ...]) -> nw.LazyFrame:
    """Orders per (month, warehouse) cell, each order split evenly over the cells it touches
    once the ``kept`` cell columns (those grouped by) are fixed: a group total is then its count
    of distinct orders. Small, and kept across requests."""
    return ctx.shared(("logistics_orders_per_cell", kept), lambda: (
        _order_cells(ctx).with_columns(orders=1.0 / nw.len().over("order_id", *kept))
        .group_by("month", "warehouse").agg(nw.col("orders").sum())))


def _cost_stats(basis: str):
    def stats(ctx, p, by):
        detail = cost_cells(ctx, by, basis)
        _note_groups_without_costs(ctx, detail, by, basis)
        return detail
    return stats


def _note_groups_without_costs(ctx, detail: nw.LazyFrame, by: Sequence[str], basis: str) -> None:
    """Name the groups with a denominator and no cost rows: their value is empty, because no cost
    data cannot be told from no cost."""
    den = "GMV" if basis == "gmv" else "orders"
    if not by:
        if not counts(detail, nw.col("cost_rows") > 0)[0]:
            ctx.note("There are no logistics cost rows: the value is empty (no cost data, not 0).",
                     zh="没有物流费用记录: 数值为空 (没有费用数据, 而不是 0)。")
        return
    groups = (detail.group_by(list(by)).agg(nw.col("cost_rows").sum(), nw.col(basis).sum())
              .filter(nw.col("cost_rows") == 0, nw.col(basis) > 0))
    n = ctx.count(groups)
    if n:
        named = ", ".join(" / ".join(str(v) for v in row) for row in _values(groups, by, _NAMED))
        more = f" and {n - _NAMED} more" if n > _NAMED else ""
        more_zh = f" 等 {n} 组" if n > _NAMED else ""
        ctx.note(f"{n} groups have {den} but no logistics cost rows, so their value is empty (no cost data, not 0): "
                 f"{named}{more}.",
                 zh=f"{n} 个分组有{'GMV' if basis == 'gmv' else '订单'}但没有物流费用记录, 数值为空 (没有费用数据, 而不是 0): "
                    f"{named}{more_zh}。")


def _cost_finish(basis: str):
    """Σ amount / Σ denominator; empty where the group has no cost rows (see _note_groups_without_costs)."""
    def finish(sums):
        if basis == "orders":
            sums = sums.with_columns(nw.col("orders").round(9))   # fractions of split orders sum to whole counts
        return sums.with_columns(value=nw.when(nw.col("cost_rows") > 0).then(ratio("amount", basis))
                                 .otherwise(nw.lit(NAN)))
    return finish


def cost_trend(dataset, by: Sequence[str] = (), **params) -> Any:
    """Cost to GMV and cost per order per month, with their drivers, indexed to a common month.

    A tidy table (pandas) over the months both definitions judge: month, [by …], measure
    (cost_to_gmv, cost_per_order, amount, gmv, orders, gmv_per_order), value, index (value / the
    value in the group's base month × 100; the base month is the first month where every measure
    is above 0). Cost per order = cost to GMV × GMV per order, so when orders fall while GMV holds,
    cost per order rises and cost to GMV does not: the two index lines part exactly as orders and
    GMV do.
    """
    by = tuple(c for c in by if c != "month")
    cmp = compare_groupings(dataset, "logistics_cost", [("month", *by)], **params)[("month", *by)]
    keys = ["month", *by]
    gmv = nw.from_native(cmp.results["cost_to_gmv"].table, eager_only=True)
    per_order = nw.from_native(cmp.results["cost_per_order"].table, eager_only=True)
    common = gmv.select(keys).join(per_order.select(keys), on=keys, how="inner")
    aov = (gmv.select(*keys, "gmv").join(per_order.select(*keys, "orders"), on=keys, how="inner")
           .with_columns(gmv_per_order=ratio("gmv", "orders")))
    parts = [(gmv, {"cost_to_gmv": "value", "amount": "amount", "gmv": "gmv"}),
             (per_order, {"cost_per_order": "value", "orders": "orders"}),
             (aov, {"gmv_per_order": "gmv_per_order"})]
    long = nw.concat([table.join(common, on=keys, how="inner")
                      .select(*keys, nw.lit(m).alias("measure"), nw.col(c).cast(nw.Float64).alias("value"))
                      for table, columns in parts for m, c in columns.items()])
    usable = (~nw.col("value").is_nan()) & (nw.col("value") != 0)
    complete = (long.with_columns(_ok=usable.cast(nw.Int64)).group_by(keys).agg(nw.col("_ok").sum())
                .filter(nw.col("_ok") == sum(len(columns) for _, columns in parts)))
    base = complete.select(*keys).sort("month")
    base = (base.group_by(list(by)).agg(nw.col("month").min().alias("_base_month")) if by
            else base.head(1).rename({"month": "_base_month"}))
    base_values = (long.join(base, on=list(by), how="left") if by else long.join(base, how="cross")).filter(
        nw.col("month") == nw.col("_base_month")).select(*by, "measure", nw.col("value").alias("_base"))
    groups = ["measure", *by]
    out = long.join(base_values, on=groups, how="left").with_columns(
        index=ratio(nw.col("value") * 100.0, nw.col("_base").fill_null(0.0))).drop("_base")
    return out.sort("measure", *by, "month").to_pandas().reset_index(drop=True)


# --------------------------------------------------------------------------- local fulfilment


def _norm(column: str) -> nw.Expr:
    return nw.col(column).cast(nw.String).str.strip_chars().str.to_lowercase()


def fulfilment_lines(ctx) -> nw.LazyFrame:
    """One row per sub-order: month of paid_date, regions, split flag, usable flag (not excluded).

    Whether a sub-order is excluded or local depends only on its (warehouse, customer_region), so
    the text is trimmed and compared once per distinct pair and joined back (null-safe keys)."""
    def build():
        orders = _orders(ctx)
        skus = ctx.table("skus").select("sku", "split_warehouse")
        n = ctx.count(orders.join(skus, on="sku", how="anti"))
        if n:
            ctx.note(f"{n} sub-orders have SKUs missing from skus: treated as split_warehouse "
                     "true (the contract default).",
                     zh=f"{n} 个子订单的 SKU 不在 skus 中: 按 split_warehouse 为 true 处理 (数据约定的默认值)。")
        warehouses = ctx.table("warehouses").select("warehouse", "region").with_columns(_known=nw.lit(True))
        blank_wh = nw.col("warehouse").is_null() | (_norm("warehouse") == "")
        blank_region = nw.col("customer_region").is_null() | (_norm("customer_region") == "")
        unknown = ~blank_wh & nw.col("_known").is_null()
        keys = [nw.col("warehouse").fill_null(_NULL_KEY).alias("_wk"),
                nw.col("customer_region").fill_null(_NULL_KEY).alias("_ck")]
        pairs = (orders.select("warehouse", "customer_region").unique()
                 .join(warehouses, on="warehouse", how="left")
                 .select(*keys, "region",
                         _excluded=(blank_wh | blank_region | unknown | nw.col("region").is_null()).fill_null(True),
                         _same=(_norm("region") == _norm("customer_region")).fill_null(False)))
        return (with_month(orders, "paid_date").with_columns(*keys)
                .join(pairs, on=["_wk", "_ck"], how="left")
                .join(skus, on="sku", how="left")
                .with_columns(split_warehouse=nw.col("split_warehouse").fill_null(True).cast(nw.Boolean))
                .select("sub_order_id", "order_id", "sku", "month", "paid_date", "customer_region",
                        "warehouse", "region", "split_warehouse", "_excluded", "_same"))
    return ctx.shared(("fulfilment_lines",), build)


def _fulfilment_stats(kind: str):
    def stats(ctx, p, by):
        rows = fulfilment_lines(ctx)
        scope = nw.col("split_warehouse") if kind == "split_only" else nw.lit(True)
        detail = rows.with_columns(
            sub_orders=(scope & ~nw.col("_excluded")).cast(nw.Int64),
            excluded=(scope & nw.col("_excluded")).cast(nw.Int64)).with_columns(
            local=((nw.col("sub_orders") == 1) & nw.col("_same")).cast(nw.Int64))
        unsplit, excluded = counts(detail, ~nw.col("split_warehouse"), nw.col("excluded") == 1)
        if kind == "split_only" and unsplit:
            ctx.note(f"{unsplit} sub-orders of SKUs without a split-warehouse strategy (skus.split_warehouse "
                     "false) are left out of both counts.",
                     zh=f"{unsplit} 个子订单的 SKU 没有分仓策略 (skus.split_warehouse 为 false), 从分子分母中都剔除。")
        if excluded:
            ctx.note(f"{excluded} sub-orders with a blank warehouse or customer_region, or a warehouse missing from "
                     "warehouses, are left out of both counts (helper excluded).",
                     zh=f"{excluded} 个子订单的 warehouse 或 customer_region 为空, 或仓库不在 warehouses 中, "
                        "从分子分母中都剔除 (辅助列 excluded)。")
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
    unit="share", direction="lower", tables=("logistics_costs", "sales", "orders"),
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
            stats=_cost_stats("gmv"), finish=_cost_finish("gmv"),
            sums=("amount", "gmv", "cost_rows"), helpers=("amount", "gmv", "cost_rows")),
        Definition(
            "cost_per_order", L10n("Cost per order", "单均物流成本"), "Σ amount / #distinct orders.order_id "
            "(paid in the month)",
            L10n("Logistics cost divided by the number of customer orders paid in the month.",
                 "物流费用除以当月支付的订单数。"),
            L10n("Spotting anomalies early: when orders fall short of plan it rises (rent and contracted staff do "
                 "not shrink), which tells you to dig into temporary labour, staff allocation and packaging.",
                 "及时发现异常: 单量不及预期时它会上升 (仓租、正式工不随单量减少), 提示去深究临时工、人员摊分与包材使用。"),
            stats=_cost_stats("orders"), finish=_cost_finish("orders"),
            sums=("amount", "orders", "cost_rows"), helpers=("amount", "orders", "cost_rows"), unit="money"),
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
