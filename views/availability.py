"""Availability: on-shelf availability under three definitions (SKU level, warehouse × SKU, demand
weighted) per day or month with the gap between them explained, the warehouse × SKU in-stock
heatmap, A-only / AB-only views, low cover (DOS < 1 and < N days) and lost sales by both
estimation methods. Widgets → cached library calls → charts."""

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import availability as av_charts
from kpilab.formatting import format_value
from kpilab.kpis import availability as av
from kpilab.kpis import get_kpi

AVAIL, COVER, LOST = (get_kpi(k) for k in ("availability", "low_cover", "lost_sales"))
POOLS = {"all": ((), ("All SKUs", "全部 SKU")), "A": (("A",), ("A only (super-hits)", "仅 A 类 (超爆品)")),
         "AB": (("A", "B"), ("A + B (hits)", "A + B 类 (爆品)")), "custom": (None, ("Custom classes", "自选分类"))}


def labels(kpi) -> dict[str, str]:
    return {d.id: tl(d.name) for d in kpi.definitions}


def short(kpi) -> dict[str, str]:
    """Definition names without their parenthesis, for legends."""
    return {d.id: tl(d.name).split(" (")[0] for d in kpi.definitions}


def oos_columns() -> dict[str, str]:
    return {"sku_level": t("SKU level", "SKU 口径"), "cell_level": t("warehouse × SKU", "仓×品口径"),
            "demand_weighted": t("demand weighted", "销量加权")}


def key(params: dict) -> tuple:
    return tuple(sorted(params.items()))


st.title(t("Availability — is it on the shelf, and what do stock-outs cost?",
           "在架率 — 货在不在架上, 缺货损失多少?"))
st.caption(t("On-shelf availability = items with sellable stock / items that should be on sale, day by day "
             "(out-of-stock rate = 1 − availability). The pool: SKUs from new to active, listed in a warehouse "
             "from its first to its last inventory row; a missing row in between counts as out of stock.",
             "在架率 = 实际在线可售 / 应在线可售, 按天统计 (缺货率 = 1 − 在架率)。品池: 新品期到售卖期的 SKU, "
             "某仓从第一条到最后一条库存记录之间视为应在线; 中间缺失的记录按缺货计。"))
ds = state.dataset()

# ---------------------------------------------------------------------- controls
with st.container(border=True):
    st.markdown(t("**Pool and parameters** (every parameter of the spec; the page recomputes on change)",
                  "**品池与参数** (口径的全部参数; 修改后页面即时重算)"))
    c1, c2, c3 = st.columns([2, 2, 1])
    with c1:
        lifecycles = widgets.param_input(AVAIL.param("lifecycles"), "availability_lifecycles")
    with c2:
        pool = st.radio(t("ABC view", "ABC 视图"), list(POOLS), format_func=lambda k: t(*POOLS[k][1]),
                        horizontal=True, key="availability_pool",
                        help=t("The article reviews the A / AB out-of-stock rate: about 10% of SKUs that make 80% "
                               "of the business.", "文章建议重点 review A 类 / AB 类缺货率: 约 10% 的 SKU 贡献 80% 的生意。"))
        classes = POOLS[pool][0]
        if classes is None:
            classes = widgets.param_input(AVAIL.param("classes"), "availability_classes")
    with c3:
        weight_window = widgets.param_input(AVAIL.param("window"), "availability_window")
    c4, c5, c6 = st.columns(3)
    with c4:
        cover_days = widgets.param_input(COVER.param("days"), "availability_cover_days")
    with c5:
        cover_window = widgets.param_input(COVER.param("window"), "availability_cover_window")
    with c6:
        lost_window = widgets.param_input(LOST.param("window"), "availability_lost_window")
    class_params = widgets.class_params("availability")

pool_params = {"lifecycles": lifecycles, "classes": tuple(classes)} | class_params
avail_params = pool_params | {"window": weight_window}
cover_params = pool_params | {"window": cover_window}
lost_params = pool_params | {"window": lost_window}

# ---------------------------------------------------------------------- availability
st.subheader(t("Availability under three definitions", "三种口径的在架率"))
if components.kpi_available(AVAIL, ds):
    with components.guarded(tl(AVAIL.name)):
        avail_defs = av.usable_definitions(ds, "availability")
        overall = state.compare("availability", avail_defs, **avail_params)
        components.definition_cards(overall, references=False)
        components.notes(overall)

        grain = st.radio(t("Show", "显示"), ["month", "day"], horizontal=True, key="availability_grain",
                         format_func=lambda g: t("per month", "按月") if g == "month" else t("per day", "按天"))
        if grain == "month":
            monthly = state.compare("availability", avail_defs, by=("month",), **avail_params).wide()
            st.altair_chart(av_charts.monthly_lines(
                charts.wide_to_long(monthly, ["month"]), short(AVAIL),
                title=t("Availability by month, one line per definition", "月度在架率 (每条线一个口径)")),
                theme=None, width="stretch")
            components.download(monthly, t("Availability by month (CSV)", "月度在架率 (CSV)"),
                                "availability_monthly.csv", "availability_dl_monthly")
        else:
            daily = state.derive("availability_daily",
                                 lambda d, p, defs: av.daily_series(d, "availability", defs, **dict(p)),
                                 key(avail_params), avail_defs)
            st.altair_chart(av_charts.daily_lines(
                daily, short(AVAIL), title=t("Availability by day, one line per definition",
                                              "每日在架率 (每条线一个口径)")), theme=None, width="stretch")
            components.download(daily, t("Availability by day (CSV)", "每日在架率 (CSV)"),
                                "availability_daily.csv", "availability_dl_daily")

        st.markdown(t("**Why the three numbers differ**", "**三个数字为什么不同**"))
        gaps = state.derive("availability_gaps", lambda d, p: av.gap_breakdown(d, **dict(p)), key(avail_params))
        g = charts.to_pandas(gaps).iloc[0]
        values = {d: overall.results[d].value for d in overall.results}
        pct = lambda v: format_value(v, "share")  # noqa: E731
        count = lambda v: f"{int(v):,}"  # noqa: E731
        st.markdown(t(
            f"- **SKU level vs warehouse × SKU.** {count(g['oos_cell_days'])} of {count(g['pool_cell_days'])} "
            f"warehouse × SKU days were out of stock ({pct(g['oos_count_share'])}). "
            f"{count(g['covered_oos_cell_days'])} of them ({pct(g['covered_share'])}) were SKUs still in stock in "
            f"another warehouse that day: when one warehouse ships nationwide they cost nothing, so SKU level "
            f"({pct(values.get('sku_level'))}) does not count them; with forward warehouses each one is a "
            f"customer turned away, so warehouse × SKU ({pct(values.get('cell_level'))}) does.\n"
            f"- **Demand weighted vs warehouse × SKU.** The out-of-stock cells carry {pct(g['oos_weight_share'])} "
            f"of the demand weight against {pct(g['oos_count_share'])} of the cells (× "
            f"{format_value(g['weight_concentration'], 'count')}): above 1 the stock-outs hit the items that sell, "
            f"below 1 they sit on the long tail. {count(g['zero_weight_oos_cell_days'])} out-of-stock cell-days "
            f"sold nothing in the {weight_window} days before and weigh 0 — a long stock-out fades from the "
            f"demand-weighted view, which is why it should not be read alone.",
            f"- **SKU 口径 vs 仓×品口径。** {count(g['pool_cell_days'])} 个仓×品天中有 {count(g['oos_cell_days'])} "
            f"个缺货 ({pct(g['oos_count_share'])})。其中 {count(g['covered_oos_cell_days'])} 个 "
            f"({pct(g['covered_share'])}) 当天在其他仓仍有货: 一仓发全国时它们没有损失, 所以 SKU 口径 "
            f"({pct(values.get('sku_level'))}) 不计; 前置仓模式下每一个都是流失的顾客, 所以仓×品口径 "
            f"({pct(values.get('cell_level'))}) 计入。\n"
            f"- **销量加权 vs 仓×品口径。** 缺货格子占销量权重的 {pct(g['oos_weight_share'])}, 而占格子数的 "
            f"{pct(g['oos_count_share'])} (× {format_value(g['weight_concentration'], 'count')}): 大于 1 说明缺货打在"
            f"畅销品上, 小于 1 说明缺货多在长尾。{count(g['zero_weight_oos_cell_days'])} 个缺货仓×品天在之前 "
            f"{weight_window} 天没有销量, 权重为 0 — 长期缺货会从销量加权口径中'消失', 所以不能单独看它。"))
        st.altair_chart(av_charts.oos_split(gaps, {
            "cells": t("warehouse × SKU", "仓×品"), "weights": t("demand weight", "销量权重"),
            "covered": t("in stock in another warehouse", "其他仓有货"),
            "everywhere": t("out in every warehouse", "全网缺货"),
            "zero_weight": t("weigh 0 (no sales in window)", "权重为 0 (窗口内无销量)"),
            "weighted": t("weigh > 0", "权重 > 0")},
            x_title=t("out-of-stock cell-days", "缺货仓×品天数")), theme=None, width="stretch")
        components.download(gaps, t("Gap breakdown (CSV)", "口径差异拆解 (CSV)"), "availability_gaps.csv",
                            "availability_dl_gaps")

        left, right = st.columns(2)
        with left:
            cell_defs = tuple(d for d in avail_defs if d != "sku_level")
            by_wh = state.compare("availability", cell_defs, by=("warehouse",), **avail_params).wide()
            st.altair_chart(av_charts.by_warehouse(
                charts.wide_to_long(by_wh, ["warehouse"]), short(AVAIL),
                title=t("By warehouse (SKU level is network-wide: not split)", "按仓 (SKU 口径为全网口径, 不拆分)")),
                theme=None, width="stretch")
            components.download(by_wh, t("By warehouse (CSV)", "按仓 (CSV)"), "availability_by_warehouse.csv",
                                "availability_dl_wh")
        with right:
            views = {}
            for name in ("all", "A", "AB"):
                views[name] = state.compare("availability", avail_defs,
                                            **(avail_params | {"classes": POOLS[name][0]}))
            pool_column = t("pool", "品池")
            table = av.pool_views({t(*POOLS[n][1]): c for n, c in views.items()}, oos_columns(), pool_column)
            st.markdown(t("**Out-of-stock rate by ABC view** (1 − availability)", "**各 ABC 视图的缺货率** (1 − 在架率)"))
            st.dataframe(table, hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="percent")
                                        for c in table.columns if c != pool_column})
            st.caption(t("The article: plain availability has no weight, so review the A and AB out-of-stock rate "
                         "— the super-hits — separately.",
                         "文章: 在架率对不同 SKU 没有权重概念, 所以要单独看 A 类 / AB 类 (超爆品) 缺货率。"))
            components.download(table, t("By ABC view (CSV)", "按 ABC 视图 (CSV)"), "availability_by_view.csv",
                                "availability_dl_views")

# ---------------------------------------------------------------------- heatmap
st.subheader(t("Warehouse × SKU: share of listed days in stock", "仓×品矩阵: 应在线天数中有货的比例"))
if components.kpi_available(AVAIL, ds):
    with components.guarded(t("In-stock heatmap", "有货热力图")):
        months = state.compare("availability", ("cell_level",), by=("month",), **pool_params).results["cell_level"]
        month_options = ["all"] + charts.to_pandas(months.table)["month"].tolist()
        h1, h2, h3 = st.columns(3)
        with h1:
            sort = st.selectbox(t("Sort SKUs by", "SKU 排序"), ["demand", "availability", "sku"],
                                key="availability_sort",
                                format_func=lambda s: {"demand": t("demand (highest first)", "销量 (高→低)"),
                                                       "availability": t("availability (worst first)", "在架率 (差→好)"),
                                                       "sku": t("SKU id", "SKU 编码")}[s])
        with h2:
            top = int(st.number_input(t("Top N SKUs by demand (0 = all)", "按销量取前 N 个 SKU (0 = 全部)"),
                                      min_value=0, max_value=100000, value=100, step=10, key="availability_top"))
        with h3:
            month = st.selectbox(t("Month", "月份"), month_options, key="availability_month",
                                 format_func=lambda m: t("all days", "全部天数") if m == "all" else m)
        matrix = state.derive("availability_matrix",
                              lambda d, p, m, n, s: av.in_stock_matrix(d, month=m, top=n, sort=s, **dict(p)),
                              key(pool_params), None if month == "all" else month, top or None, sort)
        st.altair_chart(av_charts.in_stock_heatmap(
            matrix, sku_title="SKU", warehouse_title=t("warehouse", "仓库"),
            share_title=t("in-stock share", "有货比例"), demand_title=t("units sold", "销量")),
            theme=None, width="stretch")
        st.caption(t("Each cell is a warehouse × SKU: red = often out, blue = always in; blank = not listed "
                     "there. The strip on top is the SKU over all its warehouses. Hover for days and demand.",
                     "每个格子是一个仓×品: 红色 = 经常缺货, 蓝色 = 一直有货; 空白 = 该仓未铺货。顶部色条为该 SKU "
                     "全部仓的合计。悬停可看天数与销量。"))
        components.download(matrix, t("In-stock matrix (CSV)", "有货矩阵 (CSV)"), "availability_matrix.csv",
                            "availability_dl_matrix")

# ---------------------------------------------------------------------- low cover
st.subheader(t(f"Low cover: share of SKUs under 1 and {cover_days} days of sales",
               f"低覆盖: 可售天数不足 1 天和 {cover_days} 天的 SKU 占比"))
st.caption(t("Beyond in / out of stock: DOS < 1 and DOS < 7 are watch metrics, not targets; for super-hits under 7 "
             "days, follow up purchasing and suppliers on their action plan.",
             "不只看'有无': DOS<1 和 DOS<7 不做考核, 作为监控指标; 超爆品 DOS<7 要追到采购和供应商的具体行动计划。"))
if components.kpi_available(COVER, ds):
    with components.guarded(tl(COVER.name)):
        cover_defs = av.usable_definitions(ds, "low_cover")
        thresholds = list(dict.fromkeys([1, cover_days]))
        cols = st.columns(len(thresholds) * len(cover_defs))
        monthly = {}
        for i, (days, d) in enumerate((days, d) for days in thresholds for d in cover_defs):
            result = state.compare("low_cover", cover_defs, **(cover_params | {"days": days}))
            monthly[days] = state.compare("low_cover", cover_defs, by=("month",), **(cover_params | {"days": days}))
            with cols[i]:
                st.metric(f"DOS < {days} · {tl(COVER.definition(d).name)}",
                          format_value(result.results[d].value, "share"), help=COVER.definition(d).formula)
        cover_long = av.cover_long(monthly, labels(COVER))
        st.altair_chart(av_charts.cover_lines(cover_long, title=t("Share of pool SKUs under cover, by month",
                                                                  "低覆盖 SKU 占比 (按月)")),
                        theme=None, width="stretch")
        if "forward" not in cover_defs:
            st.info(t("The forward basis (the article's DOS, by the sales plan) needs the plans table.",
                      "按未来销售计划的 DOS (文章的定义) 需要 plans 表。"))
        with st.expander(t("What each basis says, and when to prefer it", "两种需求口径的含义与适用场景")):
            for d in COVER.definitions:
                st.markdown(f"**{tl(d.name)}** — `{d.formula}`  \n{tl(d.says)}  \n"
                            f"*{t('Prefer when', '适用')}:* {tl(d.prefer_when)}")
        components.download(cover_long, t("Low cover by month (CSV)", "月度低覆盖 (CSV)"), "low_cover_monthly.csv",
                            "availability_dl_cover")

# ---------------------------------------------------------------------- lost sales
st.subheader(t("Lost sales of stock-outs: two estimates side by side", "缺货损失: 两种估算并排"))
st.info(t("Caution (the article): filling out-of-stock days with historical daily averages ignores shopper "
          "fatigue, so it over-states items that are rarely bought again — apparel, bags — shows too large a "
          "lost amount and can push purchasing too high. Run the estimate alongside the business for a while and "
          "validate it before you use it.",
          "注意 (文章): 用历史日均销售填补缺货日没有考虑消费者疲劳度, 对不太回购的服饰箱包类会过度填补, "
          "显示出过大的缺货金额, 引导过大的采购。需要算法磨练和陪跑一段时间, 验证可用后再用。"))
if components.kpi_available(LOST, ds):
    with components.guarded(tl(LOST.name)):
        lost_defs = av.usable_definitions(ds, "lost_sales")
        lost = state.compare("lost_sales", lost_defs, **lost_params)
        components.definition_cards(lost, references=False)
        components.notes(lost)
        if "traffic_conversion" not in lost_defs:
            st.info(t("Page views × conversion needs sales.page_views, which this dataset does not fill.",
                      "页面流量 × 转化率需要 sales.page_views, 当前数据集没有。"))
        lost_monthly = state.compare("lost_sales", lost_defs, by=("month",), **lost_params).wide()
        st.altair_chart(av_charts.monthly_lines(charts.wide_to_long(lost_monthly, ["month"]), labels(LOST),
                                                unit="money", title=t("Lost GMV by month", "月度缺货损失 GMV")),
                        theme=None, width="stretch")
        components.download(lost_monthly, t("Lost sales by month (CSV)", "月度缺货损失 (CSV)"),
                            "lost_sales_monthly.csv", "availability_dl_lost_month")
        lost_cat = state.compare("lost_sales", lost_defs, by=("category",), **lost_params).wide()
        cat_long = charts.wide_to_long(lost_cat, ["category"])
        st.altair_chart(av_charts.lost_by_group(
            cat_long, labels(LOST), group="category", highlight=av.rarely_rebought(cat_long["category"].unique()),
            title=t("Lost GMV by category (outlined: rarely bought again — the historical average over-states them)",
                    "按品类的缺货损失 (描边: 不太回购的品类 — 历史日均填补会高估)")),
            theme=None, width="stretch")
        components.download(lost_cat, t("Lost sales by category (CSV)", "按品类缺货损失 (CSV)"),
                            "lost_sales_by_category.csv", "availability_dl_lost_cat")
