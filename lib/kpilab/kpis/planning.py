"""Planning (S&OP): plan accuracy, plan bias, forecast value added, order-volume plan accuracy.

The universe is a set of (month, SKU) pairs with planned P and actual A; every definition turns
a pair into additive columns so any grouping pools Σ over its pairs. The article judges the M-1
version (lag 1) of the people's plan; forecasts are the algorithm's proposals.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw

from kpilab import engines
from kpilab.classification import CLASSES_FILTER
from kpilab.kpis._common import (as_date, day_number, last_complete_month, month_number, month_number_of,
                                 month_of, month_str, ratio)
from kpilab.registry import Definition, Kpi, L10n, Param, Reference


# --------------------------------------------------------------------------- universe


def _monthly_actuals(ctx, measure: str) -> nw.LazyFrame:
    """Σ sales of each SKU per month over all warehouses (units, or gmv for measure=value)."""
    column = "units" if measure == "units" else "gmv"
    return ctx.shared(("monthly_actuals", measure), lambda: (
        ctx.table("sales").with_columns(month=month_of("date"))
        .group_by("sku", "month").agg(actual=nw.col(column).sum())))


def _plan_rows(ctx, source: str, lag: int, measure: str) -> nw.LazyFrame:
    """Plan rows of one source at one lag, in months the sales table covers completely."""
    def build():
        plans = ctx.table("plans")
        last_day = as_date(ctx.scalar(ctx.table("sales"), nw.col("date").max()))
        # monthly totals cover their last month; daily rows only once its last day is in
        last = month_number_of(last_day) if ctx.dataset.grain == "monthly" else last_complete_month(last_day)
        rows = plans.filter(
            nw.col("source") == source,
            month_number("month") - month_number("version_month") == lag,
            month_number("month") <= last)
        column = "units" if measure == "units" else "value"
        blank = ctx.count(rows.filter(nw.col(column).is_null()))
        if blank:
            ctx.note(f"{blank} {source} rows at lag {lag} have no {column} and are left out.",
                     zh=f"提前 {lag} 个月版本的 {source} 有 {blank} 行缺少 {column}, 不计入。")
        if ctx.count(plans.filter(nw.col("source") == source, month_number("month") > last)):
            ctx.note(f"Months after {month_str(last)} are not judged: sales do not cover them completely.",
                     zh=f"{month_str(last)} 之后的月份不参与评估: 销售数据尚未完整覆盖这些月份。")
        return rows.filter(~nw.col(column).is_null()).select("sku", "month", planned=nw.col(column))
    return ctx.shared(("plan_rows", source, lag, measure), build)


def _pairs(ctx, p) -> nw.LazyFrame:
    """(month, sku, planned, actual) for plan_accuracy and plan_bias.

    Months: those with a plan row of this source and lag that sales cover completely. SKU-months
    by ``universe``: ``actuals_or_plan`` each planned SKU plus each SKU that sold in the month
    without a plan row (P = 0); ``planned_only`` the SKU-months with a plan row (no sales = A 0);
    ``both_present`` those with a plan row and a sales row in the month.
    """
    def build():
        plans = _plan_rows(ctx, p["source"], p["lag"], p["measure"]).with_columns(has_plan=nw.lit(1))
        months = plans.select("month").unique()
        actual = (_monthly_actuals(ctx, p["measure"]).join(months, on="month", how="inner")
                  .with_columns(has_sales=nw.lit(1)))
        keys = nw.concat([plans.select("sku", "month"),
                          actual.filter(nw.col("actual") > 0).select("sku", "month")]).unique()
        pairs = (keys.join(plans, on=["sku", "month"], how="left")
                 .join(actual, on=["sku", "month"], how="left")
                 .with_columns(nw.col("planned", "actual").fill_null(0.0),
                               nw.col("has_plan", "has_sales").fill_null(0)))
        pairs = ctx.filter_classes(pairs)
        _note_unplanned(ctx, pairs, p["universe"])
        return _universe(pairs, p["universe"]).drop("has_plan", "has_sales").sort("month", "sku")
    return ctx.shared(("pairs", p["source"], p["lag"], p["measure"], p["universe"], *_class_key(p)), build)


def _universe(pairs: nw.LazyFrame, universe: str, planned: nw.Expr | None = None) -> nw.LazyFrame:
    """The SKU-months a plan is judged on (see ``_pairs``); ``planned`` says which have a plan."""
    planned = nw.col("has_plan") == 1 if planned is None else planned
    if universe == "planned_only":
        return pairs.filter(planned)
    if universe == "both_present":
        return pairs.filter(planned & (nw.col("has_sales") == 1))
    return pairs


def _note_unplanned(ctx, pairs: nw.LazyFrame, universe: str, planned: nw.Expr | None = None) -> None:
    """Warn when SKU-months that sold without a plan carry more than 5 % of the actual volume:
    whether they count (P = 0, error = A) is the universe choice, and it moves the result."""
    planned = nw.col("has_plan") == 1 if planned is None else planned
    total, unplanned, n = engines.collect(pairs.select(
        nw.col("actual").sum().alias("total"),
        nw.when(~planned).then(nw.col("actual")).otherwise(nw.lit(0.0)).sum().alias("unplanned"),
        (~planned & (nw.col("actual") > 0)).cast(nw.Int64).sum().alias("n"))).row(0)
    n = int(n or 0)
    if total and unplanned and unplanned / total > UNPLANNED_WARNING:
        share = unplanned / total
        counted = "counted with P = 0" if universe == "actuals_or_plan" else "left out"
        counted_zh = "按计划为 0 计入" if universe == "actuals_or_plan" else "不计入"
        ctx.note(f"{n} SKU-months sold without a plan row and carry {share:.1%} of the actual volume; "
                 f"under universe={universe} they are {counted}. The universe choice (actuals_or_plan, "
                 "planned_only, both_present) changes the result: compare them.",
                 zh=f"{n} 个 SKU-月有销售但没有计划行, 占实际量的 {share:.1%}; 在 universe={universe} 下"
                    f"它们{counted_zh}。评估范围的选择 (actuals_or_plan、planned_only、both_present) "
                    "会改变结果: 请对比。")


def _class_key(p) -> tuple:
    """What the ``classes`` filter depends on: the classes and the ABC derivation parameters."""
    return p["classes"], p["a"], p["b"], p["c"], p["window_days"]


def _fva_pairs(ctx, p) -> nw.LazyFrame:
    """(month, sku, plan, forecast, actual): months with rows of both sources at this lag; the
    SKU-months by ``universe`` as in ``_pairs``, where "planned" means a row of both sources (the
    people's plan and the algorithm's forecast are judged on the same items)."""
    def build():
        plan = (_plan_rows(ctx, "plan", p["lag"], p["measure"]).rename({"planned": "plan"})
                .with_columns(has_plan=nw.lit(1)))
        forecast = (_plan_rows(ctx, "forecast", p["lag"], p["measure"]).rename({"planned": "forecast"})
                    .with_columns(has_forecast=nw.lit(1)))
        months = plan.select("month").unique().join(forecast.select("month").unique(), on="month")
        actual = (_monthly_actuals(ctx, p["measure"]).join(months, on="month", how="inner")
                  .with_columns(has_sales=nw.lit(1)))
        keys = nw.concat([plan.select("sku", "month"), forecast.select("sku", "month"),
                          actual.filter(nw.col("actual") > 0).select("sku", "month")]).unique()
        pairs = (keys.join(months, on="month", how="inner")
                 .join(plan, on=["sku", "month"], how="left")
                 .join(forecast, on=["sku", "month"], how="left")
                 .join(actual, on=["sku", "month"], how="left")
                 .with_columns(nw.col("plan", "forecast", "actual").fill_null(0.0),
                               nw.col("has_plan", "has_forecast", "has_sales").fill_null(0)))
        pairs = ctx.filter_classes(pairs)
        both = (nw.col("has_plan") == 1) & (nw.col("has_forecast") == 1)
        _note_unplanned(ctx, pairs, p["universe"], both)
        return (_universe(pairs, p["universe"], both).drop("has_plan", "has_forecast", "has_sales")
                .sort("month", "sku"))
    return ctx.shared(("fva_pairs", p["lag"], p["measure"], p["universe"], *_class_key(p)), build)


# --------------------------------------------------------------------------- accuracy measures
# Each returns the additive per-pair columns (named with ``prefix``) and, from their sums, the value.


def _weight(planned: nw.Expr, actual: nw.Expr, weight: str) -> nw.Expr:
    return {"actual": actual, "plan": planned,
            "max": nw.max_horizontal(planned, actual)}[weight]


def accuracy_columns(kind: str, planned: str, actual: str, weight: str = "max",
                     prefix: str = "") -> list[nw.Expr]:
    """Per-pair additive columns of an accuracy measure.

    wape: abs_error = |P−A| (the actual column is summed as it is);
    min_max: weighted = w·min(P,A)/max(P,A) (r = 1 when both are 0), weight_total = w,
    zero_weight_items = [w = 0 and P + A > 0];
    mape: ape = |P−A|/A for A > 0 (else 0), items_used = [A > 0], items_excluded = [A = 0].
    """
    P, A = nw.col(planned), nw.col(actual)
    if kind == "wape":
        return [(P - A).abs().alias(f"{prefix}abs_error")]
    if kind == "min_max":
        w = _weight(P, A, weight)
        high = nw.max_horizontal(P, A)
        r = nw.when(high == 0).then(nw.lit(1.0)).otherwise(nw.min_horizontal(P, A) / high)
        return [(w * r).alias(f"{prefix}weighted"), w.alias(f"{prefix}weight_total"),
                ((w == 0) & (P + A > 0)).cast(nw.Int64).alias(f"{prefix}zero_weight_items")]
    if kind == "mape":
        used = A > 0
        return [nw.when(used).then((P - A).abs() / A).otherwise(nw.lit(0.0)).alias(f"{prefix}ape"),
                used.cast(nw.Int64).alias(f"{prefix}items_used"),
                (~used).cast(nw.Int64).alias(f"{prefix}items_excluded")]
    raise ValueError(kind)


def accuracy_value(kind: str, prefix: str = "", actual: str = "actual") -> nw.Expr:
    """The pooled accuracy from the sums of ``accuracy_columns``."""
    if kind == "wape":
        return 1 - ratio(f"{prefix}abs_error", actual)
    if kind == "min_max":
        return ratio(f"{prefix}weighted", f"{prefix}weight_total")
    return 1 - ratio(f"{prefix}ape", f"{prefix}items_used")


ACCURACY_SUMS = {"wape": ("abs_error", "actual"),
                 "min_max": ("weighted", "weight_total", "zero_weight_items"),
                 "mape": ("ape", "items_used", "items_excluded")}
ACCURACY_HELPERS = {"wape": ("abs_error", "actual"),
                    "min_max": ("weight_total", "zero_weight_items"),
                    "mape": ("items_used", "items_excluded")}


def _note_zero_weight(ctx, detail: nw.LazyFrame, items: L10n) -> None:
    n = ctx.scalar(detail, nw.col("zero_weight_items").sum())
    if n:
        ctx.note(f"{n} {items.en} have zero weight under weight={ctx.params['weight']} "
                 "(planned but none came, or came but not planned): Min/Max does not see their error.",
                 zh=f"weight={ctx.params['weight']} 下有 {n} 个{items.zh}权重为 0 "
                    "(计划了但实际为 0, 或实际有但没计划): Min/Max 看不到它们的误差。")


def _plan_accuracy_stats(kind: str):
    def stats(ctx, p, by):
        detail = _pairs(ctx, p).with_columns(*accuracy_columns(kind, "planned", "actual", p["weight"]))
        if kind == "min_max":
            _note_zero_weight(ctx, detail, L10n("SKU-months", "SKU-月"))
        if kind == "mape":
            excluded = ctx.scalar(detail, nw.col("items_excluded").sum())
            if excluded:
                ctx.note(f"{excluded} SKU-months with actual 0 are left out of MAPE (|P−A|/A is undefined).",
                         zh=f"{excluded} 个实际为 0 的 SKU-月不计入 MAPE (|P−A|/A 无定义)。")
        return detail
    return stats


def _plan_accuracy_finish(kind: str):
    return lambda sums: sums.with_columns(value=accuracy_value(kind))


def _fva_stats(kind: str):
    def stats(ctx, p, by):
        detail = _fva_pairs(ctx, p).with_columns(
            *accuracy_columns(kind, "plan", "actual", p["weight"], prefix="plan_"),
            *accuracy_columns(kind, "forecast", "actual", p["weight"], prefix="forecast_"))
        return detail
    return stats


def _fva_finish(kind: str):
    def finish(sums):
        return sums.with_columns(plan_accuracy=accuracy_value(kind, "plan_"),
                                 forecast_accuracy=accuracy_value(kind, "forecast_")).with_columns(
            value=nw.col("plan_accuracy") - nw.col("forecast_accuracy"))
    return finish


def _fva_sums(kind: str) -> tuple[str, ...]:
    own = tuple(s for s in ACCURACY_SUMS[kind] if s != "actual")
    return (*(f"plan_{s}" for s in own), *(f"forecast_{s}" for s in own), "actual")


# --------------------------------------------------------------------------- order volume


def _order_volume_pairs(ctx, p) -> nw.LazyFrame:
    """(date, warehouse, planned, actual): plan rows at lag_days up to the last paid_date;
    actual = distinct order_id paid that day through that warehouse (0 if none)."""
    def build():
        orders = ctx.table("orders")
        last = ctx.scalar(orders, nw.col("paid_date").max())
        actual = (orders.filter(~nw.col("warehouse").is_null())
                  .group_by("paid_date", "warehouse").agg(actual=nw.col("order_id").n_unique())
                  .rename({"paid_date": "date"}).with_columns(nw.col("actual").cast(nw.Float64)))
        plans = ctx.table("order_volume_plans").filter(
            day_number("date") - day_number("version_date") == p["lag_days"], nw.col("date") <= last)
        return (plans.select("date", "warehouse", planned=nw.col("planned_orders"))
                .join(actual, on=["date", "warehouse"], how="left")
                .with_columns(nw.col("actual").fill_null(0.0), month=month_of("date"))
                .sort("date", "warehouse"))
    return ctx.shared(("order_volume_pairs", p["lag_days"]), build)


def _order_volume_stats(kind: str):
    def stats(ctx, p, by):
        detail = _order_volume_pairs(ctx, p).with_columns(
            *accuracy_columns(kind, "planned", "actual", p["weight"]))
        if kind == "min_max":
            _note_zero_weight(ctx, detail, L10n("warehouse-days", "仓-日"))
        return detail
    return stats


# --------------------------------------------------------------------------- declarations

_LAG = Param("lag", "int", 1, L10n("Plan version (months ahead)", "计划版本 (提前月数)"),
             L10n("1 = the M-1 version: made in September for October.", "1 = M-1 版本: 9 月做的 10 月计划。"),
             bounds=(0, 24))
_SOURCE = Param("source", "choice", "plan", L10n("Source", "来源"),
                L10n("plan: confirmed by people; forecast: proposed by the algorithm.",
                     "plan: 人工确认的计划; forecast: 算法给出的预测。"), choices=("plan", "forecast"))
_MEASURE = Param("measure", "choice", "units", L10n("Measure", "度量"),
                 L10n("units, or value (plans.value against sales.gmv).",
                      "件数, 或货值 (plans.value 对比 sales.gmv)。"), choices=("units", "value"))
UNPLANNED_WARNING = 0.05   # share of the actual volume sold without a plan that earns a note

_UNIVERSE = Param("universe", "choice", "actuals_or_plan", L10n("SKU-months judged", "评估范围 (SKU-月)"),
                  L10n("actuals_or_plan: every planned SKU-month and every one that sold (unplanned sales "
                       "count with P = 0); planned_only: those with a plan row; both_present: those with a "
                       "plan row and sales rows.",
                       "actuals_or_plan: 所有有计划或有销售的 SKU-月 (没有计划的销售按计划 0 计入); "
                       "planned_only: 只看有计划行的; both_present: 有计划行且有销售行的。"),
                  choices=("actuals_or_plan", "planned_only", "both_present"))
_WEIGHT = Param("weight", "choice", "max", L10n("Min/Max weight", "Min/Max 权重"),
                L10n("max sees every error; actual is the article's 'weighted by units' and gives no "
                     "weight to SKUs planned but not sold; plan weights by the plan.",
                     "max 看得到每个误差; actual 即文章中的'按件数加权', 计划了但没卖的 SKU 权重为 0; "
                     "plan 按计划量加权。"), choices=("max", "actual", "plan"))

_WAPE_NAME = L10n("1-MAPE (1 − WAPE)", "1-MAPE (1 − 加权绝对误差)")
_WAPE_SAYS = L10n("One minus the total absolute error over total actual. Over-planning is punished "
                  "harder: plan 100 for 50 sold scores 0%, plan 50 for 100 sold scores 50%.",
                  "1 减去绝对误差总和除以实际总和。高估罚得更重: 计划 100 实际 50 得 0%, 计划 50 实际 100 得 50%。")
_WAPE_PREFER = L10n("Slow-moving stock is the bigger fear (brands, long lead times); the algorithm team "
                    "also feeds MAPE into order formulas.",
                    "更怕滞销 (品牌方、长提前期); 算法团队也会把 MAPE 用进订货公式。")
_MINMAX_NAME = L10n("Min/Max accuracy", "Min/Max 准确度")
_MINMAX_SAYS = L10n("Smaller over larger of plan and actual, weighted: symmetric, so plan 100 for 50 sold "
                    "and plan 50 for 100 sold both score 50%.",
                    "计划与实际中较小值除以较大值, 加权平均: 对称, 计划 100 实际 50 与计划 50 实际 100 都是 50%。")
_MINMAX_PREFER = L10n("Stock-outs are the bigger fear: winning the customer's wallet matters more than "
                      "some extra stock (retailers, Walmart).",
                      "更怕缺货: 抢占钱包份额比少量库存冗余更重要 (零售商、沃尔玛)。")
_MAPE_NAME = L10n("1 − mean APE", "1 − 平均绝对百分比误差")
_MAPE_SAYS = L10n("One minus the unweighted mean of |P−A|/A over SKUs that sold: every SKU counts the same, "
                  "SKUs with no sales are left out.",
                  "1 减去有销售 SKU 的 |P−A|/A 简单平均: 每个 SKU 权重相同, 无销售的 SKU 不计入。")
_MAPE_PREFER = L10n("You want every SKU to count equally, whatever its volume (e.g. to judge the long tail).",
                    "希望每个 SKU 不论销量都同等计入 (例如评估长尾)。")

_WAPE_FORMULA = "1 − Σ|P−A| / ΣA"
_MINMAX_FORMULA = "Σ wᵢ·min(Pᵢ,Aᵢ)/max(Pᵢ,Aᵢ) / Σ wᵢ   (rᵢ = 1 when Pᵢ = Aᵢ = 0; w = max, actual or plan)"
_MAPE_FORMULA = "1 − mean over Aᵢ > 0 of |Pᵢ−Aᵢ| / Aᵢ"

_ACCURACY_TEXT = {"wape": (_WAPE_NAME, _WAPE_FORMULA, _WAPE_SAYS, _WAPE_PREFER),
                  "min_max": (_MINMAX_NAME, _MINMAX_FORMULA, _MINMAX_SAYS, _MINMAX_PREFER),
                  "mape": (_MAPE_NAME, _MAPE_FORMULA, _MAPE_SAYS, _MAPE_PREFER)}
_REFERENCES = {
    "wape": (Reference(0.65, L10n("good M-1 plan (article)", "M-1 计划良好水平 (文章)")),
             Reference(0.70, L10n("good for A/B items", "AB 类良好水平"))),
    "min_max": (Reference(0.70, L10n("good M-1 plan (article)", "M-1 计划良好水平 (文章)")),
                Reference(0.75, L10n("good for A/B items", "AB 类良好水平"))),
    "mape": (),
}


def _accuracy_definition(kind: str, *, references=()) -> Definition:
    name, formula, says, prefer = _ACCURACY_TEXT[kind]
    return Definition(kind, name, formula, says, prefer, stats=_plan_accuracy_stats(kind),
                      finish=_plan_accuracy_finish(kind), sums=ACCURACY_SUMS[kind],
                      helpers=ACCURACY_HELPERS[kind],
                      params=("lag", "source", "measure", "universe", "classes") + (("weight",) if kind == "min_max" else ()),
                      references=references)


PLAN_ACCURACY = Kpi(
    id="plan_accuracy", family="planning",
    name=L10n("Plan accuracy", "计划准确度"),
    description=L10n("How close the monthly demand plan (or the algorithm's forecast) came to actual sales, "
                     "SKU by SKU.", "月度需求计划 (或算法预测) 在单品层面与实际销售的接近程度。"),
    unit="share", direction="higher", tables=("plans", "sales"),
    period=L10n("the planned month", "计划的月份"),
    params=(_LAG, _SOURCE, _MEASURE, _UNIVERSE, CLASSES_FILTER, _WEIGHT),
    definitions=tuple(_accuracy_definition(k, references=_REFERENCES[k]) for k in ("wape", "min_max", "mape")),
    optional_tables=("skus",))


def _bias_stats(ctx, p, by):
    return _pairs(ctx, p)


PLAN_BIAS = Kpi(
    id="plan_bias", family="planning",
    name=L10n("Plan bias and achievement", "计划偏差与达成率"),
    description=L10n("Whether the plan ran high or low in total: bias keeps the big number honest, accuracy "
                     "the SKU mix.", "计划总量是否偏高或偏低: 偏差保证大数不跑偏, 准确度保证单品结构靠谱。"),
    unit="ratio", direction="target", tables=("plans", "sales"),
    period=L10n("the planned month", "计划的月份"),
    params=(_LAG, _SOURCE, _MEASURE, _UNIVERSE, CLASSES_FILTER),
    definitions=(
        Definition("bias", L10n("Bias", "偏差 (BIAS)"), "Σ(P−A) / ΣA   (positive = over-planned)",
                   L10n("Total over- or under-planning relative to actual; 0 is on target, positive means "
                        "the plan was too high.", "相对实际的总体高估或低估; 0 为准确, 正数表示计划偏高。"),
                   L10n("Units planning: remember 'over-estimate is positive'.", "按件数看计划: 记住'高估为正'。"),
                   stats=_bias_stats,
                   finish=lambda s: s.with_columns(value=ratio(nw.col("planned") - nw.col("actual"), "actual")),
                   sums=("planned", "actual"), helpers=("planned", "actual"),
                   params=("lag", "source", "measure", "universe", "classes"),
                   references=(Reference(0.0, L10n("on target", "准确")),)),
        Definition("achievement", L10n("Plan achievement", "计划达成率"), "ΣA / ΣP",
                   L10n("Actual over plan: 90% means a plan of 1.0 bn delivered 0.9 bn, roughly 0.1 bn of "
                        "extra stock bought.", "实际除以计划: 90% 即计划 10 亿达成 9 亿, 大约多备了 1 亿的货。"),
                   L10n("With measure=value: it speaks the inventory-control team's language (stock value "
                        "bought for the plan).", "配合货值度量: 与库控组语言一致 (按计划备货的货值)。"),
                   stats=_bias_stats,
                   finish=lambda s: s.with_columns(value=ratio("actual", "planned")),
                   sums=("planned", "actual"), helpers=("planned", "actual"),
                   params=("lag", "source", "measure", "universe", "classes"),
                   references=(Reference(1.0, L10n("on plan", "达成")),)),
    ),
    optional_tables=("skus",))


FORECAST_VALUE_ADDED = Kpi(
    id="forecast_value_added", family="planning",
    name=L10n("Forecast value added", "计划增值 (FVA)"),
    description=L10n("Accuracy of the people's plan minus accuracy of the algorithm's forecast on the same "
                     "SKUs and months: positive means the adjustments helped.",
                     "人工计划准确度减去算法预测准确度 (同一批 SKU 与月份): 正数表示人工调整有价值。"),
    unit="share", direction="higher", tables=("plans", "sales"),
    period=L10n("the planned month", "计划的月份"),
    params=(_LAG, _MEASURE, _UNIVERSE, CLASSES_FILTER, _WEIGHT),
    definitions=tuple(
        Definition(k, _ACCURACY_TEXT[k][0], f"accuracy(plan) − accuracy(forecast), accuracy = {_ACCURACY_TEXT[k][1]}",
                   _ACCURACY_TEXT[k][2], _ACCURACY_TEXT[k][3], stats=_fva_stats(k), finish=_fva_finish(k),
                   sums=_fva_sums(k), helpers=("plan_accuracy", "forecast_accuracy"),
                   params=("lag", "measure", "universe", "classes") + (("weight",) if k == "min_max" else ()),
                   references=(Reference(0.0, L10n("no value added", "无增值")),))
        for k in ("wape", "min_max", "mape")),
    optional_tables=("skus",))


ORDER_VOLUME_ACCURACY = Kpi(
    id="order_volume_accuracy", family="planning",
    name=L10n("Order-volume plan accuracy", "单量计划准确度"),
    description=L10n("How well the D-14 plan of daily orders per warehouse matched the orders that came: "
                     "warehouse staffing and cost depend on it.",
                     "D-14 按仓每日单量计划与实际单量的接近程度: 仓库排班与成本依赖于它。"),
    unit="share", direction="higher", tables=("order_volume_plans", "orders"),
    period=L10n("month of the planned day", "计划日所在月份"),
    params=(Param("lag_days", "int", 14, L10n("Plan made days ahead", "提前天数"),
                  L10n("14 = the D-14 version.", "14 = D-14 版本。"), bounds=(0, 365)), _WEIGHT),
    definitions=(
        Definition("wape", _WAPE_NAME, _WAPE_FORMULA + "   over (day, warehouse)", _WAPE_SAYS,
                   L10n("The article's choice for order volume (staff planned too high cost money).",
                        "文章对单量计划的选择 (人员按高估排班会产生成本)。"),
                   stats=_order_volume_stats("wape"), finish=_plan_accuracy_finish("wape"),
                   sums=ACCURACY_SUMS["wape"], helpers=ACCURACY_HELPERS["wape"], params=("lag_days",)),
        Definition("min_max", _MINMAX_NAME, _MINMAX_FORMULA + "   over (day, warehouse)", _MINMAX_SAYS,
                   _MINMAX_PREFER, stats=_order_volume_stats("min_max"), finish=_plan_accuracy_finish("min_max"),
                   sums=ACCURACY_SUMS["min_max"], helpers=ACCURACY_HELPERS["min_max"],
                   params=("lag_days", "weight")),
    ),
    dims=("warehouse",), sku_grouping=False)

KPIS = (PLAN_ACCURACY, PLAN_BIAS, FORECAST_VALUE_ADDED, ORDER_VOLUME_ACCURACY)


def sku_disagreement(comparison, dataset):
    """Per SKU over the judged months: Σ planned, Σ actual and each definition's pooled value,
    with ``spread`` = max − min across definitions (the SKUs the definitions judge most
    differently come first). For plan_accuracy / plan_bias comparisons."""
    per_sku = nw.from_native(comparison.per_entity(dataset, ["sku"]), eager_only=True)
    first = next(iter(comparison.results.values()))
    totals = nw.from_native(first.detail, eager_only=True).group_by("sku").agg(
        nw.col("planned").sum(), nw.col("actual").sum())
    return per_sku.join(totals, on="sku", how="left").to_native()
