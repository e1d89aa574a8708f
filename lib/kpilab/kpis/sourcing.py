"""Sourcing: supplier lead time, purchase savings and the supplier scorecard (issue 12, after the
article on sourcing-team OKRs: "reduce supplier lead time by 20 %", "reduce sourcing costs by
10 %", "a supplier scorecard with an average score of 90 % or above").

Each KPI has rival definitions that reward different behaviour: a mean lead time lets a few very
late lines hide among many quick ones where the 90th percentile does not; savings against the
last price reward a buyer who first pays too much, savings against a baseline or the standard
cost do not; a weighted scorecard lets a strong component cover a weak one, the weakest link does
not.

Reading of the spec:
- Lead time: the entity is a PO line with ordered_units > 0, by month of order_date. First
  receipt = its earliest received_date; full receipt = the first day on which its cumulative
  receipts reach ordered_units. Lines without a receipt (first) or never completed (full) are
  left out and counted; so are lines with 0 ordered units, lines whose first receipt is before
  their order_date (a data error) and receipts of unknown PO lines. ``variability`` = population
  std / mean of the first-receipt lead time, pooled from n, Σx and Σx² (exact for whole days:
  var = (nΣx² − (Σx)²) / n²); a mean of 0 gives an empty value. p90 is pooled by its own pooler.
- Purchase savings: the entity is a PO line, by month of order_date; savings = (ref −
  unit_price) × ordered_units, value = Σ savings / Σ ref × ordered_units. Lines whose reference
  is missing or 0 are left out and counted: no earlier PO line (vs_last_price), in the baseline
  period or a SKU not bought in it (vs_baseline), no skus.unit_cost (vs_standard_cost).
  vs_last_price: "earlier" is an earlier order_date, any supplier; the lines of one SKU on one day
  give one price (Σ price × units / Σ units; lines with 0 units give no price). vs_baseline: the
  baseline is ``baseline_months`` calendar months from ``baseline_start`` (blank = the first
  order month in purchase_orders); lines before and after it are judged.
- Scorecard: components on the lines OTIF judges (receipts up to the last received_date; a line
  is judged when promised_date + late_days ≤ that day; 0-unit lines left out; scarce SKUs are not
  left out: the scorecard judges everything bought). ``otif`` = lines with ≥ line_fill of their
  units in [promised − early_days, promised + late_days] / lines; ``on_time`` = lines whose first
  receipt is on or before promised_date / lines (on time, any quantity: completeness is OTIF's
  part); ``inspection`` = Σ passed_units / Σ inspected_units of the lots inspected in the period.
  Lines count in the month and quarter of promised_date, lots in those of their inspection date.
  A group's score is the scorecard of its pooled components, so by supplier × quarter it is each
  supplier's quarterly score, ungrouped the supplier base's. The score is a share (0.9 = 90 of
  100 points). A group missing a component it needs (no judged line, or no inspected unit) has
  an empty score (supplier-quarters counted in a note); a component with weight 0 is not needed.
  Weights are normalised by their sum (the weighted pooler carries them to ``finish``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw

from kpilab.kpis._common import NAN, as_date, day_number, month_number, month_number_of, month_of, month_str, ratio
from kpilab.registry import Definition, Kpi, KpiError, L10n, Param, Reference


QUARTER = "quarter"
_EPOCH = dt.date(1970, 1, 1)


def quarter_of(column: str) -> nw.Expr:
    """'YYYY-Qn' of a date column."""
    date = nw.col(column)
    q = ((date.dt.month() - 1) // 3 + 1).cast(nw.String)
    return nw.concat_str([date.dt.year().cast(nw.String), nw.lit("-Q"), q])


def _count_note(ctx, n: int, en: str, zh: str) -> None:
    """A note with the count ``n`` filled in ({n}), written only when n > 0."""
    if n:
        ctx.note(en.format(n=n), zh=zh.format(n=n))


# --------------------------------------------------------------------------- lead time


def receipt_days(ctx) -> nw.LazyFrame:
    """One row per PO line with ordered_units > 0: po_line_id, po_id, supplier, sku, month (of
    order_date), promised_month and quarter (of promised_date), order_day, promised_day,
    ordered_units, first_day and full_day (day numbers of the first receipt and of the receipt
    that completes the line; null when none)."""
    def build():
        po = ctx.table("purchase_orders")
        receipts = ctx.table("receipts").select("po_line_id", "received_date", "units")
        lines = po.filter(nw.col("ordered_units") > 0)
        _count_note(ctx, ctx.count(po) - ctx.count(lines),
                    "{n} PO lines with 0 ordered units (cancelled?) are left out.",
                    "{n} 个下单数量为 0 的采购订单行 (已取消?) 不计入。")
        known = receipts.join(po.select("po_line_id", "ordered_units"), on="po_line_id", how="inner")
        _count_note(ctx, ctx.count(receipts) - ctx.count(known),
                    "{n} receipts refer to PO lines missing from purchase_orders and are left out.",
                    "{n} 条到货记录对应的采购订单行不在 purchase_orders 中, 不计入。")
        per_line = (known.with_columns(
            _day=day_number("received_date"),
            _cum=nw.col("units").cum_sum().over("po_line_id", order_by="received_date"))
            .with_columns(_full=nw.when(nw.col("_cum") >= nw.col("ordered_units") - 1e-9).then(nw.col("_day")))
            .group_by("po_line_id").agg(first_day=nw.col("_day").min(), full_day=nw.col("_full").min()))
        return (lines.join(per_line, on="po_line_id", how="left")
                .with_columns(month=month_of("order_date"), promised_month=month_of("promised_date"),
                              quarter=quarter_of("promised_date"), order_day=day_number("order_date"),
                              promised_day=day_number("promised_date"))
                .select("po_line_id", "po_id", "supplier", "sku", "month", "promised_month", QUARTER, "order_day",
                        "promised_day", "ordered_units", "first_day", "full_day"))
    return ctx.shared(("sourcing_receipt_days",), build)


def lead_lines(ctx, which: str) -> nw.LazyFrame:
    """The lines with a first (``which`` = "first") or full ("full") receipt, one row each:
    lead_days (receipt day − order day), lead_days_sq, lines = 1."""
    def build():
        lines = receipt_days(ctx)
        day = nw.col(f"{which}_day")
        _count_note(ctx, ctx.count(lines.filter(nw.col("first_day") < nw.col("order_day"))),
                    "{n} PO lines received before their order_date (a data error) are left out.",
                    "{n} 个采购订单行的到货早于下单日期 (数据错误), 不计入。")
        if which == "first":
            _count_note(ctx, ctx.count(lines.filter(nw.col("first_day").is_null())),
                        "{n} PO lines without any receipt yet are left out.",
                        "{n} 个采购订单行尚无到货记录, 不计入。")
        else:
            short = lines.filter(nw.col("full_day").is_null())
            n, nothing = ctx.count(short), ctx.count(short.filter(nw.col("first_day").is_null()))
            if n:
                ctx.note(f"{n} PO lines never received in full ({nothing} of them received nothing) are left out.",
                         zh=f"{n} 个采购订单行从未足量到货 (其中 {nothing} 行完全未到货), 不计入。")
        lead = (day - nw.col("order_day")).cast(nw.Float64)
        return (lines.filter(~day.is_null(), nw.col("first_day") >= nw.col("order_day"))
                .with_columns(lead_days=lead, lead_days_sq=lead * lead, lines=nw.lit(1, nw.Int64))
                .select("po_line_id", "po_id", "supplier", "sku", "month", "lead_days", "lead_days_sq", "lines"))
    return ctx.shared(("sourcing_lead_lines", which), build)


def _first_stats(ctx, p, by):
    return lead_lines(ctx, "first")


def _full_stats(ctx, p, by):
    return lead_lines(ctx, "full")


def _p90_pooler(detail: nw.LazyFrame, by: list[str]) -> nw.LazyFrame:
    """The 90th percentile of lead_days per group (linear interpolation between order statistics)."""
    aggs = (nw.col("lead_days").quantile(0.9, "linear").alias("p90"), nw.col("lines").sum())
    return detail.group_by(by).agg(*aggs) if by else detail.select(*aggs)


def _p90_finish(pooled: nw.LazyFrame) -> nw.LazyFrame:
    """The pooler's percentile; empty for a group without lines."""
    return pooled.with_columns(value=nw.when(nw.col("lines") > 0).then(nw.col("p90")).otherwise(nw.lit(NAN)))


def _variability_finish(sums: nw.LazyFrame) -> nw.LazyFrame:
    """mean = Σx / n; std = √(nΣx² − (Σx)²) / n (population); value = std / mean, empty when the
    mean is 0 (every line received on its order day) or there is no line."""
    n, sx, sxx = nw.col("lines"), nw.col("lead_days"), nw.col("lead_days_sq")
    spread = n * sxx - sx * sx
    std = nw.when(spread > 0).then(spread).otherwise(nw.lit(0.0)) ** 0.5
    return sums.with_columns(mean_days=ratio(sx, n), std_days=ratio(std, n)).with_columns(
        value=ratio("std_days", "mean_days"))


def _mean_finish(sums: nw.LazyFrame) -> nw.LazyFrame:
    return sums.with_columns(value=ratio("lead_days", "lines"))


# --------------------------------------------------------------------------- purchase savings

_SAVINGS_COLUMNS = ("po_line_id", "po_id", "supplier", "sku", "month", "ordered_units", "unit_price", "ref_price",
                    "savings", "ref_value")


def _po_lines(ctx) -> nw.LazyFrame:
    """PO lines with month (of order_date), _day (day number) and _value = unit_price × ordered_units."""
    return (ctx.table("purchase_orders")
            .with_columns(month=month_of("order_date"), _day=day_number("order_date"),
                          _value=nw.col("unit_price") * nw.col("ordered_units"))
            .select("po_line_id", "po_id", "supplier", "sku", "month", "_day", "ordered_units", "unit_price",
                    "_value"))


def _judged(ctx, lines: nw.LazyFrame, left_out: tuple[str, str]) -> nw.LazyFrame:
    """Lines holding a reference price ``_ref``: savings = (ref − price) × units, ref_value = ref ×
    units. Lines with no reference (or 0) are left out and counted with the ``left_out`` note."""
    usable = ~nw.col("_ref").is_null() & (nw.col("_ref") > 0)
    _count_note(ctx, ctx.count(lines.filter(~usable)), *left_out)
    return (lines.filter(usable)
            .with_columns(ref_price=nw.col("_ref"),
                          savings=(nw.col("_ref") - nw.col("unit_price")) * nw.col("ordered_units"),
                          ref_value=nw.col("_ref") * nw.col("ordered_units"))
            .select(*_SAVINGS_COLUMNS))


def _last_price_stats(ctx, p, by):
    """ref = the SKU's price on its latest earlier order day (that day's lines averaged by units)."""
    def build():
        lines = _po_lines(ctx)
        days = (lines.filter(nw.col("ordered_units") > 0).group_by("sku", "_day")
                .agg(nw.col("_value").sum(), nw.col("ordered_units").sum())
                .with_columns(_price=nw.col("_value") / nw.col("ordered_units"))
                .with_columns(_ref=nw.col("_price").shift(1).over("sku", order_by="_day"))
                .select("sku", "_day", "_ref"))
        joined = lines.join(days, on=["sku", "_day"], how="left")   # a day of 0-unit lines only has no price
        return _judged(ctx, joined, ("{n} PO lines without an earlier PO line of their SKU (or at price 0) are left out.",
                                     "{n} 个采购订单行的单品此前没有采购记录 (或价格为 0), 不计入。"))
    return ctx.shared(("sourcing_last_price",), build)


def baseline_window(ctx, p) -> tuple[int, int]:
    """(first, last) month numbers of the baseline: ``baseline_months`` months from the month of
    ``baseline_start`` (blank = the first order month in purchase_orders)."""
    start = p["baseline_start"]
    if start is None:
        first = ctx.scalar(ctx.table("purchase_orders"), nw.col("order_date").min())
        if first is None:
            raise KpiError("purchase_orders has no order_date: there is no baseline period")
        start = as_date(first)
    first_month = month_number_of(start)
    return first_month, first_month + p["baseline_months"] - 1


def _baseline_stats(ctx, p, by):
    """ref = the SKU's units-weighted mean price over the baseline months; lines in them left out."""
    def build():
        lo, hi = baseline_window(ctx, p)
        lines = _po_lines(ctx).with_columns(_m=month_number("month"))
        inside = (nw.col("_m") >= lo) & (nw.col("_m") <= hi)
        ctx.note(f"Baseline: {month_str(lo)} … {month_str(hi)}; its PO lines set the reference and are not judged.",
                 zh=f"基线期: {month_str(lo)} … {month_str(hi)}; 基线期内的采购订单行作为参照价, 不参与评估。")
        _count_note(ctx, ctx.count(lines.filter(inside)), "{n} PO lines in the baseline period are left out.",
                    "{n} 个基线期内的采购订单行不计入。")
        base = (lines.filter(inside, nw.col("ordered_units") > 0).group_by("sku")
                .agg(nw.col("_value").sum(), nw.col("ordered_units").sum())
                .select("sku", _ref=nw.col("_value") / nw.col("ordered_units")))
        judged = lines.filter(~inside).join(base, on="sku", how="left")
        return _judged(ctx, judged, ("{n} PO lines of SKUs not bought in the baseline period (or at price 0) are left out.",
                                     "{n} 个采购订单行的单品在基线期内没有采购 (或价格为 0), 不计入。"))
    return ctx.shared(("sourcing_baseline", p["baseline_start"], p["baseline_months"]), build)


def _standard_cost_stats(ctx, p, by):
    """ref = skus.unit_cost."""
    def build():
        costs = ctx.table("skus").select("sku", _ref=nw.col("unit_cost"))
        joined = _po_lines(ctx).join(costs, on="sku", how="left")
        return _judged(ctx, joined, ("{n} PO lines of SKUs without a unit_cost in skus (or 0) are left out.",
                                     "{n} 个采购订单行的单品在 skus 中没有 unit_cost (或为 0), 不计入。"))
    return ctx.shared(("sourcing_standard_cost",), build)


def _savings_finish(sums: nw.LazyFrame) -> nw.LazyFrame:
    return sums.with_columns(value=ratio("savings", "ref_value"))


# --------------------------------------------------------------------------- scorecard

COMPONENTS = ("otif", "inspection", "on_time")
WEIGHTS = ("weight_otif", "weight_inspection", "weight_on_time")
SCORE_SUMS = ("lines", "lines_passed", "lines_on_time", "passed_units", "inspected_units")
_SCORE_COLUMNS = ("entity", "supplier", "sku", "month", QUARTER, *SCORE_SUMS)


def scorecard_rows(ctx, p) -> nw.LazyFrame:
    """One row per judged PO line (lines = 1, lines_passed, lines_on_time) and one per inspected
    lot (passed_units, inspected_units), with entity (po_line_id or lot_id), supplier, sku, month
    and quarter; the other component columns 0."""
    early, late, fill = p["early_days"], p["late_days"], p["line_fill"]

    def build():
        lines = receipt_days(ctx)
        receipts = ctx.table("receipts")
        last = ctx.scalar(receipts, nw.col("received_date").max())
        if last is None:
            ctx.note("There are no receipts, so no PO line can be judged.", zh="没有到货记录, 无法评估任何采购订单行。")
        as_of = (as_date(last) - _EPOCH).days if last is not None else -10 ** 9
        _count_note(ctx, ctx.count(lines.filter(nw.col("promised_day") + late > as_of)),
                    f"{{n}} PO lines not yet due (promised_date + {late} days after the last receipt) are left out.",
                    f"{{n}} 个采购订单行尚未到期 (promised_date + {late} 天晚于最后到货日), 不计入。")
        judged = lines.filter(nw.col("promised_day") + late <= as_of)
        offset = nw.col("_day") - nw.col("promised_day")
        window = (receipts.join(judged.select("po_line_id", "promised_day"), on="po_line_id", how="inner")
                  .with_columns(_day=day_number("received_date"))
                  .filter(offset >= -early, offset <= late)
                  .group_by("po_line_id").agg(_window=nw.col("units").sum()))
        zero = nw.lit(0.0)
        ordered = nw.col("ordered_units")
        po_rows = (judged.join(window, on="po_line_id", how="left")
                   .with_columns(nw.col("_window").fill_null(0.0))
                   .with_columns(
                       lines=nw.lit(1.0),
                       lines_passed=(nw.min_horizontal(nw.col("_window"), ordered) >= fill * ordered).cast(nw.Float64),
                       lines_on_time=(~nw.col("first_day").is_null() & (nw.col("first_day") <= nw.col("promised_day")))
                       .fill_null(False).cast(nw.Float64),
                       passed_units=zero, inspected_units=zero)
                   .select(nw.col("po_line_id").alias("entity"), "supplier", "sku",
                           nw.col("promised_month").alias("month"), QUARTER, *SCORE_SUMS))
        lots = (ctx.table("inspections")
                .with_columns(month=month_of("date"), quarter=quarter_of("date"), lines=zero, lines_passed=zero,
                              lines_on_time=zero, passed_units=nw.col("passed_units").cast(nw.Float64),
                              inspected_units=nw.col("inspected_units").cast(nw.Float64))
                .select(nw.col("lot_id").alias("entity"), *_SCORE_COLUMNS[1:]))
        return nw.concat([po_rows, lots], how="vertical")
    return ctx.shared(("sourcing_scorecard", early, late, fill), build)


def _weights(p) -> tuple[float, ...]:
    """The component weights normalised to sum 1 (an error when they sum to 0)."""
    raw = [float(p[w]) for w in WEIGHTS]
    if sum(raw) <= 0:
        raise KpiError("supplier_scorecard: the weights sum to 0; give at least one component a weight")
    return tuple(w / sum(raw) for w in raw)


def _note_missing_components(ctx, rows: nw.LazyFrame, needed: tuple[str, ...]) -> None:
    """Count the supplier-quarters whose score is empty: a needed component has no denominator."""
    dens = {"otif": "lines", "on_time": "lines", "inspection": "inspected_units"}
    columns = tuple(dict.fromkeys(dens[c] for c in needed))
    cells = rows.group_by("supplier", QUARTER).agg(*(nw.col(c).sum() for c in columns))
    lacking = ctx.count(cells.filter(nw.any_horizontal(*(nw.col(c) <= 0 for c in columns), ignore_nulls=True)))
    if lacking:
        total = ctx.count(cells)
        ctx.note(f"{lacking} of {total} supplier-quarters lack a component (no judged PO line or no inspected unit): "
                 "their score is empty.",
                 zh=f"{total} 个供应商-季度中有 {lacking} 个缺少分项 (没有可评估的采购订单行或没有检验件数): 其得分为空。")


def _weighted_stats(ctx, p, by):
    """The scorecard rows with the normalised weights as constant columns (read by the pooler)."""
    weights = _weights(p)
    rows = scorecard_rows(ctx, p)
    _note_missing_components(ctx, rows, tuple(c for c, w in zip(COMPONENTS, weights) if w > 0))
    return rows.with_columns(*(nw.lit(w).alias(name) for name, w in zip(WEIGHTS, weights)))


def _weakest_stats(ctx, p, by):
    rows = scorecard_rows(ctx, p)
    _note_missing_components(ctx, rows, COMPONENTS)
    return rows


def _weighted_pooler(detail: nw.LazyFrame, by: list[str]) -> nw.LazyFrame:
    """Σ of the component columns per group, and the (constant) weights carried along."""
    aggs = (*(nw.col(c).sum() for c in SCORE_SUMS), *(nw.col(w).max() for w in WEIGHTS))
    return detail.group_by(by).agg(*aggs) if by else detail.select(*aggs)


def _components(sums: nw.LazyFrame) -> nw.LazyFrame:
    return sums.with_columns(otif=ratio("lines_passed", "lines"), inspection=ratio("passed_units", "inspected_units"),
                             on_time=ratio("lines_on_time", "lines"))


def _weighted_finish(pooled: nw.LazyFrame) -> nw.LazyFrame:
    """Σ w·component over the components with w > 0 (a 0-weight component, even empty, adds nothing)."""
    terms = [nw.when(nw.col(w) > 0).then(nw.col(w) * nw.col(c)).otherwise(nw.lit(0.0))
             for c, w in zip(COMPONENTS, WEIGHTS)]
    return _components(pooled).with_columns(value=terms[0] + terms[1] + terms[2])


def _weakest_finish(sums: nw.LazyFrame) -> nw.LazyFrame:
    """The lowest of the three components; empty when one is empty."""
    parts = [nw.col(c) for c in COMPONENTS]
    empty = parts[0].is_nan() | parts[1].is_nan() | parts[2].is_nan()
    return _components(sums).with_columns(
        value=nw.when(empty).then(nw.lit(NAN)).otherwise(nw.min_horizontal(*parts)))


# --------------------------------------------------------------------------- declarations

SUPPLIER_LEAD_TIME = Kpi(
    id="supplier_lead_time", family="sourcing",
    name=L10n("Supplier lead time", "供应商交货周期"),
    description=L10n("Days from placing a PO line to receiving it. The sourcing team's OKR cuts it by 20 %; whether "
                     "the first delivery or the full quantity counts, and whether the mean, the tail or the "
                     "spread is judged, decides what a supplier has to improve.",
                     "从下单到收货的天数。采购团队的 OKR 要把它缩短 20 %; 以首批到货还是全部到齐计, 看平均、看长尾还是看波动, "
                     "决定了供应商要改进什么。"),
    unit="days", direction="lower", tables=("purchase_orders", "receipts"),
    period=L10n("month of order_date", "下单日期所在月份"), params=(),
    definitions=(
        Definition(
            "mean_first_receipt", L10n("Mean, first receipt", "平均 (首批到货)"),
            "Σ (first received_date − order_date) / #lines received",
            L10n("Average days until the first units of a line arrive. A supplier that ships a token first lot "
                 "early looks fast even when the rest comes weeks later.",
                 "采购行首批到货的平均天数。先发一小批的供应商看起来很快, 即使剩下的货晚了几周才到。"),
            L10n("You can sell as soon as some stock is in (fast movers, frequent small lots).",
                 "有货就能卖时 (快销品、小批多次到货)。"),
            stats=_first_stats, finish=_mean_finish, sums=("lead_days", "lines"), helpers=("lead_days", "lines")),
        Definition(
            "mean_full_receipt", L10n("Mean, full receipt", "平均 (全部到齐)"),
            "Σ (day the cumulative receipts reach ordered_units − order_date) / #lines completed",
            L10n("Average days until the whole line is in. Lines never completed are left out (and counted), so a "
                 "supplier that never finishes short lines is not punished here: read it with OTIF.",
                 "整行全部到齐的平均天数。从未到齐的行不计入 (会计数提示), 长期欠货的供应商在这里不受惩罚: 请与 OTIF 一起看。"),
            L10n("Only complete lines are useful (kits, launches, promotions) or stock is planned on full arrival.",
                 "只有到齐才有用时 (套装、新品上市、大促), 或按全部到齐来计划库存时。"),
            stats=_full_stats, finish=_mean_finish, sums=("lead_days", "lines"), helpers=("lead_days", "lines")),
        Definition(
            "p90_first_receipt", L10n("90th percentile, first receipt", "90 分位 (首批到货)"),
            "90th percentile of (first received_date − order_date) over the lines received (linear interpolation)",
            L10n("The lead time nine lines in ten beat: the tail safety stock has to cover. Many quick lines cannot "
                 "hide a few very late ones.",
                 "九成采购行都能做到的交货天数: 安全库存要覆盖的长尾。大量快速到货的行掩盖不了少数严重延迟的行。"),
            L10n("You size safety stock or promise dates to customers: the tail matters, not the average.",
                 "用于设定安全库存或对客户的承诺日期: 关键是长尾, 不是平均。"),
            stats=_first_stats, finish=_p90_finish, sums=("lead_days", "lines"), helpers=("lines",),
            pooler=_p90_pooler),
        Definition(
            "variability", L10n("Variability (coefficient of variation)", "波动性 (变异系数)"),
            "population std / mean of (first received_date − order_date)",
            L10n("How unpredictable the lead time is relative to its mean: 0 means every line takes the same time. "
                 "A reliable 30 days can be planned; 10 days that are sometimes 40 cannot.",
                 "交货周期相对其均值的不确定程度: 0 表示每行用时相同。稳定的 30 天可以计划, 时而 10 天时而 40 天则不行。"),
            L10n("Planners suffer more from surprises than from long lead times (safety stock grows with the "
                 "variability).", "计划员更怕意外而不是周期长时 (安全库存随波动增长)。"),
            stats=_first_stats, finish=_variability_finish, sums=("lead_days", "lead_days_sq", "lines"),
            helpers=("mean_days", "std_days", "lines"), unit="ratio",
            references=(Reference(0.5, L10n("high variability (CV 0.5, rule of thumb)", "高波动 (变异系数 0.5, 经验值)")),)),
    ),
    dims=("supplier",), optional_tables=("skus",))


_BASELINE_MONTHS = Param("baseline_months", "int", 3, L10n("Baseline months", "基线期月数"),
                         L10n("Length of the baseline period in calendar months (default: the first three months "
                              "in the data).", "基线期长度 (自然月; 默认: 数据中的前三个月)。"), bounds=(1, 36))
_BASELINE_START = Param("baseline_start", "date", None,
                        L10n("Baseline starts (blank = first order month)", "基线期开始 (留空 = 第一个下单月份)"),
                        L10n("The month of this day opens the baseline period.", "该日期所在月份为基线期的第一个月。"))
_SAVINGS_FORMULA = "Σ (ref − unit_price) × ordered_units / Σ ref × ordered_units"
_SAVINGS_SUMS = ("savings", "ref_value")

PURCHASE_SAVINGS = Kpi(
    id="purchase_savings", family="sourcing",
    name=L10n("Purchase savings", "采购降本率"),
    description=L10n("How much less was paid than a reference price, as a share of the spend at that reference: the "
                     "sourcing team's 'reduce sourcing costs by 10 %'. The reference decides what counts as a saving.",
                     "实际采购价比参照价少付的金额占参照采购额的比例: 即采购团队的'采购成本降低 10 %'。参照价决定了什么算降本。"),
    unit="share", direction="higher", tables=("purchase_orders",),
    period=L10n("month of order_date", "下单日期所在月份"),
    params=(_BASELINE_MONTHS, _BASELINE_START),
    definitions=(
        Definition(
            "vs_last_price", L10n("Against the last price", "对比上次采购价"),
            _SAVINGS_FORMULA + ";  ref = the SKU's price on its latest earlier PO line (same-day lines averaged by units)",
            L10n("Each purchase against the one before: the negotiation result deal by deal. A price raised and "
                 "lowered again counts as a saving the second time.",
                 "每次采购与上一次比: 逐笔反映谈判结果。先涨价再降回来, 第二次也算降本。"),
            L10n("Buyers negotiate continuously and you want each deal's effect; not as a bonus basis (a high "
                 "price first games it).", "采购持续议价、需要看每笔交易效果时; 不宜作为奖金依据 (先抬价即可钻空子)。"),
            stats=_last_price_stats, finish=_savings_finish, sums=_SAVINGS_SUMS, helpers=_SAVINGS_SUMS),
        Definition(
            "vs_baseline", L10n("Against a baseline period", "对比基线期"),
            _SAVINGS_FORMULA + ";  ref = the SKU's units-weighted mean price over the baseline months",
            L10n("Prices against a fixed period (default the first three months): savings accumulate and cannot be "
                 "earned twice by raising a price first. SKUs not bought in the baseline are left out.",
                 "与固定基线期 (默认前三个月) 的价格比: 降本逐步累积, 不能靠先涨价再降价重复获得。基线期没有采购的单品不计入。"),
            L10n("An annual sourcing target ('−10 % against last year's prices'): the OKR reading.",
                 "年度采购降本目标 ('比去年价格降低 10 %'): 即 OKR 的口径。"),
            stats=_baseline_stats, finish=_savings_finish, sums=_SAVINGS_SUMS, helpers=_SAVINGS_SUMS,
            params=("baseline_months", "baseline_start"),
            references=(Reference(0.10, L10n("−10 % sourcing cost (article)", "采购成本降低 10 % (文章)")),)),
        Definition(
            "vs_standard_cost", L10n("Against standard cost", "对比标准成本"),
            _SAVINGS_FORMULA + ";  ref = skus.unit_cost",
            L10n("Prices against the standard cost of the item master, which finance budgets with. A stale standard "
                 "cost makes every purchase look like a saving (or a loss).",
                 "与商品主数据中的标准成本比, 即财务做预算的口径。标准成本过时, 每笔采购都会显得降本 (或超支)。"),
            L10n("Finance owns the target and keeps the standard costs current.", "财务主导目标且标准成本维护及时时。"),
            stats=_standard_cost_stats, finish=_savings_finish, sums=_SAVINGS_SUMS, helpers=_SAVINGS_SUMS),
    ),
    dims=("supplier",), optional_tables=("skus",))


def _weight(name: str, default: float, en: str, zh: str) -> Param:
    return Param(name, "float", default, L10n(f"Weight: {en}", f"权重: {zh}"),
                 L10n("Weights are normalised by their sum; 0 leaves the component out of the weighted score.",
                      "权重按总和归一; 0 表示该分项不计入加权得分。"), bounds=(0.0, 1.0))


_OTIF_WINDOW = ("early_days", "late_days", "line_fill")
_SCORE_HELPERS = (*COMPONENTS, "lines", "inspected_units")

SUPPLIER_SCORECARD = Kpi(
    id="supplier_scorecard", family="sourcing",
    name=L10n("Supplier scorecard", "供应商评分卡"),
    description=L10n("One score per supplier and quarter from delivery and quality: OTIF by line, inspection pass "
                     "rate by quantity and on-time delivery. The article's OKR keeps the average at 90 or above; "
                     "whether a strong component may cover a weak one is the definition's choice.",
                     "按供应商 × 季度, 由交付与质量给出一个得分: 按行 OTIF、按数量验货合格率与准时到货率。文章的 OKR 要求平均分"
                     "保持在 90 以上; 强项能否弥补弱项, 由口径决定。"),
    unit="share", direction="higher", tables=("purchase_orders", "receipts", "inspections"),
    period=L10n("quarter (or month) of promised_date for PO lines, of the inspection date for lots",
                "采购订单行按承诺到货日、验货批次按验货日期所在的季度 (或月份)"),
    params=(_weight("weight_otif", 0.4, "OTIF by line", "按行 OTIF"),
            _weight("weight_inspection", 0.4, "inspection pass by quantity", "按数量验货合格率"),
            _weight("weight_on_time", 0.2, "on time (first receipt by the promised date)", "准时 (承诺日前首批到货)"),
            Param("early_days", "int", 7, L10n("Early window (days before promised)", "提前窗口 (承诺日前天数)"),
                  L10n("OTIF component: receipts earlier than this do not count.", "OTIF 分项: 早于该天数的到货不算准时。"),
                  bounds=(0, 365)),
            Param("late_days", "int", 3, L10n("Late window (days after promised)", "延迟窗口 (承诺日后天数)"),
                  L10n("OTIF component: receipts later than this do not count; a line is judged once it has passed.",
                       "OTIF 分项: 晚于该天数的到货不算准时; 窗口结束后该行才参与评估。"), bounds=(0, 365)),
            Param("line_fill", "float", 0.95, L10n("Line fill mark", "订单行满足线"),
                  L10n("OTIF component: a line passes when at least this share of its units arrived in the window.",
                       "OTIF 分项: 窗口内到货达到该比例, 该行才算打卡。"), bounds=(0.0, 1.0))),
    definitions=(
        Definition(
            "weighted", L10n("Weighted score", "加权得分"),
            "(w_otif·OTIF_line + w_insp·pass_qty + w_on_time·on_time) / Σw   (default 0.4 / 0.4 / 0.2)",
            L10n("The weighted mean of the components: a supplier strong on quality makes up for late deliveries, "
                 "in proportion to the weights.", "各分项的加权平均: 质量好的供应商可以按权重比例弥补交付晚的不足。"),
            L10n("Suppliers are compared on an agreed balance of delivery and quality (annual reviews, allocating "
                 "volume).", "按约定的交付与质量权衡来比较供应商时 (年度评审、分配采购份额)。"),
            stats=_weighted_stats, finish=_weighted_finish, sums=(*SCORE_SUMS, *WEIGHTS), helpers=_SCORE_HELPERS,
            params=(*WEIGHTS, *_OTIF_WINDOW), pooler=_weighted_pooler,
            references=(Reference(0.90, L10n("average score 90 (article)", "平均分 90 (文章)")),)),
        Definition(
            "weakest_link", L10n("Weakest link", "最弱项"),
            "min(OTIF_line, pass_qty, on_time)",
            L10n("The lowest component: a supplier is as good as its worst dimension, and nothing makes up for it.",
                 "最低的分项: 供应商的水平取决于最差的一项, 其他项无法弥补。"),
            L10n("Any failing dimension hurts (punctuality does not pay for a quality problem); to find what to fix "
                 "first.", "任何一项不达标都会伤害业务时 (准时弥补不了质量问题); 用于找出最先要改进的环节。"),
            stats=_weakest_stats, finish=_weakest_finish, sums=SCORE_SUMS, helpers=_SCORE_HELPERS,
            params=_OTIF_WINDOW,
            references=(Reference(0.90, L10n("score 90 (article)", "得分 90 (文章)")),)),
    ),
    dims=("supplier", QUARTER), optional_tables=("skus",))

KPIS = (SUPPLIER_LEAD_TIME, PURCHASE_SAVINGS, SUPPLIER_SCORECARD)


# --------------------------------------------------------------------------- page helper


@dataclass(frozen=True)
class SourcingOverview:
    """What the sourcing part of the suppliers page shows: each KPI's definitions overall and by
    month, and the scorecard by supplier × quarter (``scorecard_cells``, both definitions with
    the components of the weighted one)."""

    views: dict                # {(kpi_id, by): Comparison}
    scorecard_cells: Any       # supplier, quarter, weighted, weakest_link, otif, inspection, on_time, lines


def overview(dataset, **params) -> SourcingOverview:
    """The three sourcing KPIs with one parameter set (each KPI reads its own), overall and by
    month, and the scorecard by supplier × quarter — one Context per KPI, so the universes are
    built once."""
    from kpilab.engine import Comparison, Context, check_grouping, compute_in

    views = {}
    for kpi in KPIS:
        own = {k: v for k, v in params.items() if k in {p.name for p in kpi.params}}
        ctx = Context(dataset, kpi.resolve_params(own))
        groupings = [(), ("month",)] + ([("supplier", QUARTER)] if kpi is SUPPLIER_SCORECARD else [])
        for by in groupings:
            by = check_grouping(kpi, dataset, by)
            views[(kpi.id, by)] = Comparison(kpi.id, {d.id: compute_in(ctx, kpi, d, by) for d in kpi.definitions})
    cells = views[(SUPPLIER_SCORECARD.id, ("supplier", QUARTER))]
    weighted = cells.results["weighted"].table
    table = weighted[["supplier", QUARTER, "value", *COMPONENTS, "lines", "inspected_units"]].rename(
        columns={"value": "weighted"})
    weakest = cells.results["weakest_link"].table[["supplier", QUARTER, "value"]].rename(columns={"value": "weakest_link"})
    table = table.merge(weakest, on=["supplier", QUARTER], how="outer").sort_values(["supplier", QUARTER])
    return SourcingOverview(views, table.reset_index(drop=True))
