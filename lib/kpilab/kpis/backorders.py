"""Backorders: backorder rate, overdue backorders, promise kept, backorder age, backorder growth.

Gartner asks supply-chain leads of digital commerce to segment items as backorderable or
substitutable (``skus.oos_policy``, a grouping column of every KPI here) and to steer with
backorder metrics: volume growth, overdue backorders, promised delivery dates. Each has rival
definitions that reward different behaviour, computed from ``orders`` and ``backorders``.

Readings of the spec:

- A line is open on day d when backorder_date ≤ d and neither shipped_date nor cancelled_date is
  ≤ d: a line shipped or cancelled on a month's last day is not open at that month-end.
- Month-end snapshots are the last day of each month from the first backorder's month to the
  last month the data covers completely (its last day is the latest paid_date or backorder_date);
  a later, incomplete month has no snapshot and a note says so. Each SKU with backorders gets a
  zero row per snapshot, so a month-end with nothing open is a row with an empty value (and a
  note), never a missing month and never 0.
- backorder_growth ungrouped (or grouped without month) is the growth of the last snapshot month
  over the month before; grouped by month it is each month over its previous month.
- A backorder line whose sub_order_id is not in orders has no SKU or paid month: left out and
  counted in a note (validation reports it as an error when the data is loaded).
"""

from __future__ import annotations


import narwhals.stable.v2 as nw

from kpilab import engines
from kpilab.kpis._common import (NAN, as_date, day_number_or_null, last_complete_month, month_number,
                                 month_number_of, month_of, month_str, ratio)
from kpilab.registry import Definition, Kpi, L10n, Param, Reference


_NEVER = 1e9    # a day number after any date: an empty shipped/cancelled date never closes a line


def _day(column: str) -> nw.Expr:
    """A date column as days since 1970-01-01 (float, so an empty date stays empty on pandas)."""
    return day_number_or_null(column)


def _first_day(mn: nw.Expr) -> nw.Expr:
    """Day number of the first day of month number ``mn`` (months since year 0).

    Howard Hinnant's days_from_civil in integer arithmetic, so month-ends are computed on every
    engine without building a calendar table: the year starts in March (mp = 0), so the leap day
    is the year's last day."""
    m = mn % 12 + 1
    y = mn // 12 - (m <= 2).cast(nw.Int64)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


# --------------------------------------------------------------------------- universes


def _lines(ctx) -> nw.LazyFrame:
    """Backorder lines with their sub-order's SKU: dates as day numbers, months as 'YYYY-MM'."""
    def build():
        backorders = ctx.table("backorders")
        orders = ctx.table("orders").select("sub_order_id", "sku")
        lines = backorders.join(orders, on="sub_order_id", how="inner")
        lost = ctx.count(backorders) - ctx.count(lines)
        if lost:
            ctx.note(f"{lost} backorder lines have a sub_order_id that is not in orders and are left out "
                     "(no SKU, no paid month).",
                     zh=f"{lost} 条缺货预订行的 sub_order_id 不在 orders 中, 不计入 (没有 SKU 和付款月份)。")
        return lines.select(
            "sub_order_id", "sku", units=nw.col("backordered_units").cast(nw.Float64),
            start=_day("backorder_date"), promised=_day("promised_date"),
            shipped=_day("shipped_date"), cancelled=_day("cancelled_date"),
            start_month=month_of("backorder_date"), shipped_month=month_of("shipped_date"),
            cancelled_month=month_of("cancelled_date")).sort("sub_order_id")
    return ctx.shared(("backorder_lines",), build)


def _snapshots(ctx) -> nw.LazyFrame:
    """(month, day): the last day of each month from the first backorder's month to the last
    month the data covers completely, for the months the data holds any paid, backorder, shipped
    or cancelled date (a gap is counted in a note)."""
    def build():
        orders, backorders = ctx.table("orders"), ctx.table("backorders")
        paid_last = ctx.scalar(orders, nw.col("paid_date").max())
        start, bo_last = engines.collect(backorders.select(
            nw.col("backorder_date").min().alias("a"), nw.col("backorder_date").max().alias("b"))).row(0)
        last_day = max(as_date(d) for d in (paid_last, bo_last) if d is not None and d == d)
        last = last_complete_month(last_day)
        first = month_number_of(as_date(start)) if start is not None and start == start else last + 1
        if last < month_number_of(last_day):
            ctx.note(f"{month_str(last + 1)} is not complete (the data ends on {last_day:%Y-%m-%d}): it has "
                     "no month-end snapshot.",
                     zh=f"{month_str(last + 1)} 数据不完整 (截至 {last_day:%Y-%m-%d}): 没有月末快照。")
        months = (nw.concat([orders.select(month=month_of("paid_date"))] +
                            [backorders.select(month=month_of(c)).filter(~nw.col("month").is_null())
                             for c in ("backorder_date", "shipped_date", "cancelled_date")]).unique()
                  .with_columns(mn=month_number("month"))
                  .filter(nw.col("mn") >= first, nw.col("mn") <= last))
        held = ctx.count(months)
        if first <= last and held < last - first + 1:
            ctx.note(f"{last - first + 1 - held} month(s) between {month_str(first)} and {month_str(last)} "
                     "hold no paid, backorder, shipped or cancelled date and have no snapshot.",
                     zh=f"{month_str(first)} 到 {month_str(last)} 之间有 {last - first + 1 - held} 个月没有任何"
                        "付款或缺货预订日期, 没有快照。")
        return months.select("month", "mn", day=_first_day(nw.col("mn") + 1) - 1).sort("month")
    return ctx.shared(("backorder_snapshots",), build)


def _open_lines(ctx) -> nw.LazyFrame:
    """One row per (month-end, line open that day): open_lines 1, open_units, age_days = d −
    backorder_date, late 1 when promised_date < d; plus a zero row per (SKU with backorders,
    month-end), so a month-end with nothing open is still there (empty, not 0)."""
    def build():
        lines, snaps = _lines(ctx), _snapshots(ctx).select("month", "day")
        closed = nw.min_horizontal(nw.col("shipped").fill_null(_NEVER), nw.col("cancelled").fill_null(_NEVER))
        day = nw.col("day").cast(nw.Float64)
        opened = (lines.join(snaps, how="cross").filter(nw.col("start") <= day, closed > day)
                  .select("sub_order_id", "sku", "month", open_lines=nw.lit(1.0), open_units=nw.col("units"),
                          age_days=day - nw.col("start"),
                          late=(nw.col("promised") < day).cast(nw.Float64)))
        zero = (lines.select("sku").unique().join(snaps.select("month"), how="cross")
                .select(nw.lit(None, nw.String).alias("sub_order_id"), "sku", "month",
                        *(nw.lit(0.0).alias(c) for c in ("open_lines", "open_units", "age_days", "late"))))
        opened = opened.with_columns(nw.col("sub_order_id").cast(nw.String), nw.col("sku").cast(nw.String),
                                     nw.col("month").cast(nw.String),
                                     nw.col("open_lines", "open_units", "age_days", "late").cast(nw.Float64))
        return nw.concat([opened, zero]).sort("month", "sku", "sub_order_id", nulls_last=True)
    return ctx.shared(("backorder_open_lines",), build)


def _with_sku_columns(ctx, frame: nw.LazyFrame, by) -> nw.LazyFrame:
    """The grouping columns that come from the SKU master joined on (as the engine's pool does)."""
    from_skus = [c for c in by if c not in frame.collect_schema().names()]
    return frame.join(ctx.skus.select("sku", *from_skus), on="sku", how="left") if from_skus else frame


def _note_empty(ctx, detail: nw.LazyFrame, by, denominator: str, what: L10n) -> None:
    """A note naming the groups whose denominator sums to 0: their value is empty, never 0."""
    frame = _with_sku_columns(ctx, detail, by)
    sums = (frame.group_by(*by).agg(nw.col(denominator).sum()) if by
            else frame.select(nw.col(denominator).sum()))
    empty = sums.filter(nw.col(denominator).fill_null(0.0) == 0)
    n = ctx.count(empty)
    if not n:
        return
    if not by:
        ctx.note(f"No {what.en}: the value is empty.", zh=f"没有{what.zh}: 数值为空。")
        return
    shown = engines.collect(empty.sort(*by).head(3).select(*by)).rows()
    names = ", ".join("/".join(str(v) for v in row) for row in shown) + (" …" if n > 3 else "")
    ctx.note(f"{n} groups have no {what.en} ({names}): their value is empty, not 0.",
             zh=f"{n} 个分组没有{what.zh} ({names}): 数值为空, 不是 0。")


# --------------------------------------------------------------------------- backorder_rate


def _rate_detail(ctx) -> nw.LazyFrame:
    """One row per sub-order, in its paid month: lines 1, backordered_lines 1 when it has a
    backorder line, units, backordered_units, gmv, backordered_value = backordered_units ×
    gmv / units (the backordered part of the line's value)."""
    def build():
        backorders = ctx.table("backorders").select("sub_order_id", bo=nw.col("backordered_units").cast(nw.Float64))
        orders = ctx.table("orders").select("sub_order_id", "sku", month=month_of("paid_date"),
                                            units=nw.col("units").cast(nw.Float64),
                                            gmv=nw.col("gmv").cast(nw.Float64))
        units = nw.col("bo").fill_null(0.0)
        return (orders.join(backorders, on="sub_order_id", how="left")
                .with_columns(lines=nw.lit(1.0), backordered_lines=(~nw.col("bo").is_null()).cast(nw.Float64),
                              backordered_units=units,
                              backordered_value=nw.when(nw.col("units") > 0)
                              .then(units * nw.col("gmv") / nw.col("units")).otherwise(nw.lit(0.0)))
                .drop("bo").sort("month", "sub_order_id"))
    return ctx.shared(("backorder_rate_detail",), build)


def _rate_stats(denominator: str, what: L10n):
    """Per sub-order additive columns (``_rate_detail``); the value is Σ numerator / Σ
    ``denominator``, empty with a note where the denominator is 0. The issue's worked check:

    >>> import pandas as pd, kpilab
    >>> paid = pd.Timestamp("2024-03-01")
    >>> orders = pd.DataFrame({"sub_order_id": ["s1", "s2", "s3", "s4"], "order_id": "o1",
    ...     "paid_date": paid, "sku": "a", "units": [2.0, 1.0, 5.0, 2.0], "gmv": [100.0, 300.0, 50.0, 40.0]})
    >>> backorders = pd.DataFrame({"sub_order_id": ["s2", "s3"], "backordered_units": [1.0, 2.0],
    ...     "backorder_date": paid, "promised_date": pd.Timestamp("2024-03-10"),
    ...     "shipped_date": pd.NaT, "cancelled_date": pd.NaT})
    >>> ds = kpilab.Dataset({"orders": orders, "backorders": backorders}, "issue 12")
    >>> [round(float(kpilab.compute(ds, "backorder_rate", d).value), 4) for d in ("by_lines", "by_units", "by_value")]
    [0.5, 0.3, 0.6531]
    """
    def stats(ctx, p, by):
        detail = _rate_detail(ctx)
        _note_empty(ctx, detail, by, denominator, what)
        return detail
    return stats


# --------------------------------------------------------------------------- overdue_backorders


def _overdue_stats(kind: str):
    def stats(ctx, p, by):
        """Open lines at each month-end weighted by lines or units (``open``); ``overdue`` is the
        weight of those past their promise (promised_date < d) or older than max_days (d −
        backorder_date > max_days). Value Σ overdue / Σ open."""
        weight = nw.col("open_lines") if p["weight"] == "lines" else nw.col("open_units")
        late = nw.col("late") > 0 if kind == "vs_promise" else nw.col("age_days") > p["max_days"]
        detail = _open_lines(ctx).with_columns(
            open=weight, overdue=nw.when(late & (nw.col("open_lines") > 0)).then(weight).otherwise(nw.lit(0.0)))
        _note_empty(ctx, detail, by, "open", L10n("open backorders at month-end", "月末未结的缺货预订"))
        return detail
    return stats


# --------------------------------------------------------------------------- backorder_promise_kept


def _closed_lines(ctx) -> nw.LazyFrame:
    """Lines shipped or cancelled, in the month they closed: kept_lines 1 when shipped on or
    before promised_date, shipped_lines, cancelled_lines, closed_lines = shipped + cancelled."""
    def build():
        shipped = ~nw.col("shipped").is_null()
        cancelled = ~shipped & ~nw.col("cancelled").is_null()
        return (_lines(ctx).filter(shipped | cancelled)
                .select("sub_order_id", "sku",
                        month=nw.when(shipped).then(nw.col("shipped_month")).otherwise(nw.col("cancelled_month")),
                        kept_lines=(shipped & (nw.col("shipped") <= nw.col("promised"))).cast(nw.Float64),
                        shipped_lines=shipped.cast(nw.Float64), cancelled_lines=cancelled.cast(nw.Float64),
                        closed_lines=nw.lit(1.0))
                .sort("month", "sub_order_id"))
    return ctx.shared(("backorder_closed_lines",), build)


def _promise_stats(kind: str):
    def stats(ctx, p, by):
        """shipped_only: Σ kept / Σ shipped (cancellations left out and counted);
        all_closed: Σ kept / Σ (shipped + cancelled) — a cancelled backorder is a broken promise."""
        detail = _closed_lines(ctx)
        if kind == "shipped_only":
            cancelled = int(ctx.scalar(detail, nw.col("cancelled_lines").sum()) or 0)
            if cancelled:
                ctx.note(f"{cancelled} cancelled backorder lines are left out (shipped_only judges shipped "
                         "lines only; all_closed counts them as broken promises).",
                         zh=f"{cancelled} 条已取消的缺货预订行不计入 (shipped_only 只看已发货的行; all_closed "
                            "将其计为未兑现的承诺)。")
            _note_empty(ctx, detail, by, "shipped_lines", L10n("shipped backorder lines", "已发货的缺货预订行"))
        else:
            _note_empty(ctx, detail, by, "closed_lines", L10n("closed backorder lines", "已结束的缺货预订行"))
        return detail
    return stats


# --------------------------------------------------------------------------- backorder_age


def _age_stats(ctx, p, by):
    """Open lines at each month-end with age_days = d − backorder_date (zero rows keep every
    month). mean = Σ age_days / Σ open_lines; p90 pools with ``_p90``."""
    detail = _open_lines(ctx)
    _note_empty(ctx, detail, by, "open_lines", L10n("open backorders at month-end", "月末未结的缺货预订"))
    return detail


def _p90(frame: nw.LazyFrame, by: list[str]) -> nw.LazyFrame:
    """90th percentile of the open lines' ages per group (linear interpolation between order
    statistics, the same on every engine); the zero rows are left out of the percentile."""
    frame = frame.with_columns(open_age=nw.when(nw.col("open_lines") > 0).then(nw.col("age_days")))
    aggs = (nw.col("open_age").quantile(0.9, "linear").alias("p90"), nw.col("open_lines").sum())
    return frame.group_by(*by).agg(*aggs) if by else frame.select(*aggs)


def _p90_finish(sums: nw.LazyFrame) -> nw.LazyFrame:
    open_lines = nw.col("open_lines").fill_null(0.0)
    return sums.with_columns(open_lines, value=nw.when(open_lines > 0).then(nw.col("p90")).otherwise(nw.lit(NAN)))


# --------------------------------------------------------------------------- backorder_growth


def _growth_detail(ctx, kind: str) -> nw.LazyFrame:
    """(sku, month, units) for every SKU with backorders and every snapshot month (0 when none):
    new_units = Σ backordered_units that went on backorder in the month; open_units = Σ open
    backordered units at the month-end."""
    if kind == "open_units":
        return (_open_lines(ctx).group_by("sku", "month").agg(units=nw.col("open_units").sum())
                .sort("month", "sku"))
    lines, months = _lines(ctx), _snapshots(ctx).select("month")
    new = lines.group_by("sku", nw.col("start_month").alias("month")).agg(new=nw.col("units").sum())
    return (lines.select("sku").unique().join(months, how="cross")
            .join(new, on=["sku", "month"], how="left")
            .select("sku", "month", units=nw.col("new").fill_null(0.0).cast(nw.Float64)).sort("month", "sku"))


def _growth(frame: nw.LazyFrame, by: list[str]) -> nw.LazyFrame:
    """Σ units per group and month next to the previous month's; without month in ``by``, the
    last month's row of each group (one empty row when there is no month at all)."""
    keys = [c for c in by if c != "month"]
    per = frame.group_by(*keys, "month").agg(nw.col("units").sum()).with_columns(mn=month_number("month"))
    previous = per.select(*keys, mn=nw.col("mn") + 1, previous_units=nw.col("units"))
    out = per.join(previous, on=[*keys, "mn"], how="left")
    if "month" not in by:
        out = per.select(nw.col("mn").max()).join(out, on="mn", how="left")
    return out.select(*by, "units", "previous_units")


def _growth_finish(sums: nw.LazyFrame) -> nw.LazyFrame:
    previous = nw.col("previous_units")
    return sums.with_columns(value=nw.when(previous.fill_null(0.0) > 0)
                             .then(nw.col("units") / previous - 1).otherwise(nw.lit(NAN)))


def _growth_stats(kind: str):
    def stats(ctx, p, by):
        """x_m / x_{m−1} − 1 per group, x = units per SKU-month (see ``_growth_detail``); a month
        whose previous month is 0 or missing is empty, with a note."""
        detail = _growth_detail(ctx, kind)
        grown = _growth(_with_sku_columns(ctx, detail, by), list(by))
        first, zero = engines.collect(grown.select(
            nw.col("previous_units").is_null().cast(nw.Int64).sum().alias("first"),
            (nw.col("previous_units") == 0).cast(nw.Int64).sum().alias("zero"))).row(0)
        if "month" in by and first:
            ctx.note("The first month has no previous month: its growth is empty.",
                     zh="第一个月没有上月可比: 增长率为空。")
        if zero:
            ctx.note(f"{zero} rows have 0 {kind.replace('_', ' ')} in the previous month: growth from 0 is "
                     "undefined and left empty.",
                     zh=f"{zero} 行的上月 {kind} 为 0: 从 0 起的增长率无定义, 留空。")
        if "month" not in by:
            last = ctx.scalar(detail, nw.col("month").max())
            if last is not None:
                ctx.note(f"Without a month grouping the value is the growth of {last} (the last month-end) over "
                         "the month before; group by month for every month.",
                         zh=f"不按月分组时, 数值是 {last} (最后一个月末) 相对上月的增长; 按月分组可看每个月。")
        return detail
    return stats


# --------------------------------------------------------------------------- declarations

_TABLES = ("orders", "backorders")
_MAX_DAYS = Param("max_days", "int", 14, L10n("Overdue after (days on backorder)", "超期天数 (缺货预订天数)"),
                  L10n("vs_age: a line open longer than this at the month-end is overdue.",
                       "vs_age: 月末时已缺货预订超过此天数的行算超期。"), bounds=(0, 365))
_WEIGHT = Param("weight", "choice", "lines", L10n("Weight", "权重"),
                L10n("lines: every backorder line counts the same; units: by backordered units.",
                     "lines: 每条缺货预订行同等计入; units: 按缺货预订件数加权。"), choices=("lines", "units"))
_EXAMPLE = L10n("example tolerance: set your own", "示例容忍度: 请自行设定")


def _example(value: float, en: str, zh: str) -> tuple[Reference, ...]:
    return (Reference(value, L10n(f"{en} ({_EXAMPLE.en})", f"{zh} ({_EXAMPLE.zh})")),)


BACKORDER_RATE = Kpi(
    id="backorder_rate", family="backorders",
    name=L10n("Backorder rate", "缺货预订率"),
    description=L10n("Share of the paid sub-orders that went on backorder: sold while out of stock, delivered "
                     "later.", "已付款子订单中进入缺货预订 (缺货时照常销售、稍后发货) 的比例。"),
    unit="share", direction="lower", tables=_TABLES, period=L10n("paid month", "付款月份"), params=(),
    definitions=(
        Definition("by_lines", L10n("By lines", "按行"), "backordered sub-orders / sub-orders",
                   L10n("How many customers' lines wait: a one-unit line and a ten-unit line count the same.",
                        "有多少客户订单行在等待: 1 件的行与 10 件的行同等计入。"),
                   L10n("Customer experience is the concern: each waiting line is a waiting customer.",
                        "关注客户体验: 每条等待的行就是一位在等的客户。"),
                   stats=_rate_stats("lines", L10n("sub-orders", "子订单")),
                   finish=lambda s: s.with_columns(value=ratio("backordered_lines", "lines")),
                   sums=("backordered_lines", "lines"), helpers=("backordered_lines", "lines"),
                   references=_example(0.02, "2% of lines", "2% 的行")),
        Definition("by_units", L10n("By units", "按件数"), "Σ backordered_units / Σ units",
                   L10n("How much of the volume sold was not in stock: big lines weigh more.",
                        "售出的量中有多少当时没有库存: 大件数的行权重更大。"),
                   L10n("Warehouse and supply planning: units to bring in for orders already sold.",
                        "仓库与供应计划: 已售订单还需补进多少件。"),
                   stats=_rate_stats("units", L10n("units ordered", "下单件数")),
                   finish=lambda s: s.with_columns(value=ratio("backordered_units", "units")),
                   sums=("backordered_units", "units"), helpers=("backordered_units", "units")),
        Definition("by_value", L10n("By value", "按金额"), "Σ backordered_units × gmv/units / Σ gmv",
                   L10n("How much of the GMV waits for stock: expensive items weigh more.",
                        "有多少 GMV 在等待库存: 贵的商品权重更大。"),
                   L10n("Finance and revenue recognition: GMV not yet delivered.",
                        "财务与收入确认: 尚未交付的 GMV。"),
                   stats=_rate_stats("gmv", L10n("sub-order value", "子订单金额")),
                   finish=lambda s: s.with_columns(value=ratio("backordered_value", "gmv")),
                   sums=("backordered_value", "gmv"), helpers=("backordered_value", "gmv")),
    ),
    optional_tables=("skus",))


OVERDUE_BACKORDERS = Kpi(
    id="overdue_backorders", family="backorders",
    name=L10n("Overdue backorders", "超期缺货预订"),
    description=L10n("Share of the backorders open at each month-end that are overdue: past the promised date, "
                     "or waiting longer than max_days.",
                     "每个月末未结的缺货预订中已超期的比例: 已过承诺日期, 或等待超过 max_days 天。"),
    unit="share", direction="lower", tables=_TABLES,
    period=L10n("month-end snapshot (the month's last day)", "月末快照 (每月最后一天)"),
    params=(_MAX_DAYS, _WEIGHT),
    definitions=(
        Definition("vs_promise", L10n("Past the promised date", "超过承诺日期"),
                   "open lines with promised_date < d / open lines   (d = month-end)",
                   L10n("Overdue against what the customer was told: a generous promise is never overdue.",
                        "相对客户被告知的日期是否超期: 承诺得宽松就永远不超期。"),
                   L10n("Promises are set carefully (by lead time) and customer trust is the concern.",
                        "承诺日期按提前期认真设定, 关注客户信任。"),
                   stats=_overdue_stats("vs_promise"),
                   finish=lambda s: s.with_columns(value=ratio("overdue", "open")),
                   sums=("overdue", "open"), helpers=("overdue", "open"), params=("weight",),
                   references=_example(0.10, "10% overdue", "10% 超期")),
        Definition("vs_age", L10n("Older than max_days", "超过 max_days 天"),
                   "open lines with d − backorder_date > max_days / open lines   (d = month-end)",
                   L10n("Overdue by how long the customer has waited, whatever was promised: padding the "
                        "promise does not help.", "按客户已等待的时间判定, 与承诺无关: 放宽承诺日期没有用。"),
                   L10n("Promised dates are unreliable or set by many hands; one internal tolerance for all.",
                        "承诺日期不可靠或来源多样; 用统一的内部容忍度。"),
                   stats=_overdue_stats("vs_age"),
                   finish=lambda s: s.with_columns(value=ratio("overdue", "open")),
                   sums=("overdue", "open"), helpers=("overdue", "open"), params=("max_days", "weight"),
                   references=_example(0.10, "10% overdue", "10% 超期")),
    ),
    optional_tables=("skus",))


PROMISE_KEPT = Kpi(
    id="backorder_promise_kept", family="backorders",
    name=L10n("Backorder promise kept", "缺货预订承诺兑现率"),
    description=L10n("Share of the backorder lines closed in the month that shipped on or before the date "
                     "promised to the customer.", "当月结束的缺货预订行中, 在承诺日期当天或之前发货的比例。"),
    unit="share", direction="higher", tables=_TABLES,
    period=L10n("month the line closed (shipped or cancelled)", "行结束 (发货或取消) 的月份"), params=(),
    definitions=(
        Definition("shipped_only", L10n("Shipped lines only", "仅已发货行"),
                   "lines shipped on or before promised_date / shipped lines",
                   L10n("Delivery punctuality of what shipped; cancellations are left out, so cancelling a "
                        "late backorder raises it.", "已发货部分的准时率; 取消的不计入, 所以取消一笔要迟到的"
                        "预订反而会提高它。"),
                   L10n("Judging the warehouse and carriers on the lines they handled.",
                        "按仓库和承运商实际处理的行评价它们。"),
                   stats=_promise_stats("shipped_only"),
                   finish=lambda s: s.with_columns(value=ratio("kept_lines", "shipped_lines")),
                   sums=("kept_lines", "shipped_lines"), helpers=("kept_lines", "shipped_lines"),
                   references=_example(0.95, "95% kept", "95% 兑现")),
        Definition("all_closed", L10n("All closed lines", "所有已结束行"),
                   "lines shipped on or before promised_date / (shipped + cancelled lines)",
                   L10n("A cancelled backorder is a promise broken: cancelling cannot improve the score.",
                        "取消的缺货预订就是未兑现的承诺: 取消无法提高得分。"),
                   L10n("Judging the promise made to the customer end to end (the backorder playbook).",
                        "端到端评价对客户的承诺 (缺货预订策略)。"),
                   stats=_promise_stats("all_closed"),
                   finish=lambda s: s.with_columns(value=ratio("kept_lines", "closed_lines")),
                   sums=("kept_lines", "closed_lines"), helpers=("kept_lines", "closed_lines"),
                   references=_example(0.90, "90% kept", "90% 兑现")),
    ),
    optional_tables=("skus",))


BACKORDER_AGE = Kpi(
    id="backorder_age", family="backorders",
    name=L10n("Backorder age", "缺货预订时长"),
    description=L10n("How long the backorders open at each month-end have waited (days since backorder_date).",
                     "每个月末未结的缺货预订已等待的天数 (自 backorder_date 起)。"),
    unit="days", direction="lower", tables=_TABLES,
    period=L10n("month-end snapshot (the month's last day)", "月末快照 (每月最后一天)"), params=(),
    definitions=(
        Definition("mean", L10n("Mean age", "平均时长"), "Σ (d − backorder_date) / open lines   (d = month-end)",
                   L10n("The typical wait; a flood of new backorders lowers it even when old ones still wait.",
                        "典型的等待时间; 大量新增预订会拉低它, 即使老的预订还在等待。"),
                   L10n("Capacity planning: total waiting days over lines.", "产能规划: 总等待天数除以行数。"),
                   stats=_age_stats, finish=lambda s: s.with_columns(value=ratio("age_days", "open_lines")),
                   sums=("age_days", "open_lines"), helpers=("age_days", "open_lines"),
                   references=_example(14.0, "14 days", "14 天")),
        Definition("p90", L10n("90th percentile age", "90 分位时长"),
                   "90th percentile of d − backorder_date over open lines (linear interpolation)",
                   L10n("The wait of the longest-waiting tenth: new backorders do not hide the old ones.",
                        "等待最久的一成客户的等待时间: 新增预订掩盖不了老的。"),
                   L10n("The tail is the concern: customers who wait far too long cancel and complain.",
                        "关注长尾: 等太久的客户会取消和投诉。"),
                   stats=_age_stats, finish=_p90_finish, sums=("age_days",), helpers=("open_lines",),
                   pooler=_p90, references=_example(30.0, "30 days", "30 天")),
    ),
    optional_tables=("skus",))


BACKORDER_GROWTH = Kpi(
    id="backorder_growth", family="backorders",
    name=L10n("Backorder growth", "缺货预订增长"),
    description=L10n("Month-over-month growth of the backorder volume: x_m / x_{m−1} − 1.",
                     "缺货预订量的环比增长: x_m / x_{m−1} − 1。"),
    unit="ratio", direction="lower", tables=_TABLES,
    period=L10n("month (complete months only)", "月份 (仅完整月份)"), params=(),
    definitions=(
        Definition("new_units", L10n("New backordered units", "新增预订件数"),
                   "new_m / new_{m−1} − 1,  new = Σ backordered_units with backorder_date in the month",
                   L10n("Is the inflow of backorders rising? Reacts at once to a stock-out wave.",
                        "新进入缺货预订的量是否在上升? 对一波缺货反应最快。"),
                   L10n("Early warning for planning and sales: demand outrunning stock.",
                        "给计划和销售的预警: 需求跑在库存前面。"),
                   stats=_growth_stats("new_units"), finish=_growth_finish, sums=("units",),
                   helpers=("units", "previous_units"), pooler=_growth,
                   references=_example(0.0, "no growth", "零增长")),
        Definition("open_units", L10n("Open backordered units", "未结预订件数"),
                   "open_m / open_{m−1} − 1,  open = Σ backordered units open at the month-end",
                   L10n("Is the backlog growing? Falls only when shipments catch up (or lines are cancelled).",
                        "积压是否在增长? 只有发货追上 (或取消) 时才会下降。"),
                   L10n("Judging recovery: the backlog customers still wait for.", "评价恢复情况: 客户仍在等待的积压。"),
                   stats=_growth_stats("open_units"), finish=_growth_finish, sums=("units",),
                   helpers=("units", "previous_units"), pooler=_growth,
                   references=_example(0.0, "no growth", "零增长")),
    ),
    optional_tables=("skus",))

KPIS = (BACKORDER_RATE, OVERDUE_BACKORDERS, PROMISE_KEPT, BACKORDER_AGE, BACKORDER_GROWTH)
