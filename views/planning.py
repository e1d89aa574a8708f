"""Planning (S&OP): plan accuracy under 1-MAPE, Min/Max and MAPE side by side, bias, forecast value
added and D-14 order-volume accuracy. Widgets → cached library calls → charts."""

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import planning as planning_charts
from kpilab.kpis import get_kpi
from kpilab.kpis.planning import sku_disagreement

ACCURACY, BIAS, FVA, ORDERS = (get_kpi(k) for k in
                               ("plan_accuracy", "plan_bias", "forecast_value_added", "order_volume_accuracy"))

st.title(t("Planning (S&OP) — how accurate is the plan?", "计划 (S&OP) — 计划有多准?"))
st.caption(t("The same plan judged three ways. 1-MAPE punishes over-planning (prefer it when slow-moving stock "
             "is the bigger fear); Min/Max is symmetric (prefer it when stock-outs are the bigger fear).",
             "同一份计划, 三种评判。1-MAPE 对高估惩罚更重 (更怕滞销时选它); Min/Max 对称 (更怕缺货时选它)。"))
ds = state.dataset()

if components.kpi_available(ACCURACY, ds):
    params = widgets.param_inputs(ACCURACY, "planning")
    params |= widgets.class_params("planning")
    with components.guarded(tl(ACCURACY.name)):
        overall = state.compare("plan_accuracy", **params)
        monthly = state.compare("plan_accuracy", by=("month",), **params)
        labels = {d.id: tl(d.name) for d in ACCURACY.definitions}

        st.subheader(t("Definitions side by side", "定义并排对比"))
        components.definition_cards(overall)
        components.notes(overall)

        refs = [(r.value, f"{labels[d.id]}: {tl(r.label)}") for d in ACCURACY.definitions for r in d.references]
        long = charts.wide_to_long(monthly.wide(), ["month"], labels)
        components.chart(charts.trend, long, x="month", series="definition", unit="share", references=refs,
                         title=t("Monthly accuracy, one line per definition", "月度准确度 (每条线一个定义)"))
        components.download(monthly.wide(), t("Monthly accuracy (CSV)", "月度准确度 (CSV)"),
                            "plan_accuracy_monthly.csv", "planning_dl_monthly")

        st.subheader(t("Where the definitions disagree", "定义之间的分歧"))
        per_sku = state.derive("sku_disagreement", lambda d, c: sku_disagreement(c, d), overall)
        left, right = st.columns([3, 2])
        with left:
            components.chart(planning_charts.plan_vs_actual, per_sku, spread_title=t("disagreement", "分歧"),
                             x_title=t("actual", "实际"), y_title=t("planned", "计划"))
            st.caption(t("Each dot is a SKU over the judged months; above the diagonal it was over-planned. "
                         "Colour: the gap between its best and worst score across definitions.",
                         "每个点是一个 SKU (评估月份合计); 对角线以上为高估。颜色: 各定义下最高与最低得分之差。"))
        with right:
            top = st.slider(t("SKUs that move most", "分歧最大的 SKU 数"), 5, 40, 15, key="planning_top")
            components.chart(planning_charts.movers, per_sku, labels, top=top)
        components.download(per_sku, t("Per-SKU scores (CSV)", "单品得分 (CSV)"), "plan_accuracy_per_sku.csv",
                            "planning_dl_sku")

        with st.expander(t("What each definition says, and when to prefer it", "每个定义的含义与适用场景")):
            for d in ACCURACY.definitions:
                st.markdown(f"**{tl(d.name)}** — `{d.formula}`  \n{tl(d.says)}  \n"
                            f"*{t('Prefer when', '适用')}:* {tl(d.prefer_when)}")
            st.markdown(t("Min/Max weighted by actual or max is never below 1-MAPE on the same data, so a Min/Max "
                          "target must sit higher for the same ambition (the article: 65% 1-MAPE ≈ 70% Min/Max).",
                          "同一数据上, 按实际或较大值加权的 Min/Max 永远不低于 1-MAPE, 因此同样的要求下 Min/Max 目标"
                          "要定得更高 (文章: 1-MAPE 65% ≈ Min/Max 70%)。"))

    st.subheader(t("Bias and achievement", "偏差与达成率"))
    with components.guarded(tl(BIAS.name)):
        bias_params = {k: v for k, v in params.items() if k != "weight"}
        components.definition_cards(state.compare("plan_bias", **bias_params))
        bias_monthly = state.compare("plan_bias", by=("month",), **bias_params)
        components.chart(charts.trend, charts.wide_to_long(bias_monthly.wide(), ["month"],
                                                           {d.id: tl(d.name) for d in BIAS.definitions}),
                         x="month", series="definition", unit="ratio",
                         references=[(0.0, t("bias 0", "偏差 0")), (1.0, t("achievement 100%", "达成 100%"))],
                         title=t("Bias and achievement by month", "月度偏差与达成率"))

    st.subheader(t("Forecast value added: the plan vs the algorithm", "计划增值: 人工计划 vs 算法预测"))
    with components.guarded(tl(FVA.name)):
        fva_params = {k: v for k, v in params.items() if k != "source"}
        fva = state.compare("forecast_value_added", by=("month",), **fva_params)
        components.definition_cards(state.compare("forecast_value_added", **fva_params), references=False)
        components.chart(charts.trend, charts.wide_to_long(fva.wide(), ["month"],
                                                           {d.id: tl(d.name) for d in FVA.definitions}),
                         x="month", series="definition", unit="share",
                         references=[(0.0, t("no value added", "无增值"))],
                         title=t("Plan accuracy − forecast accuracy, by month", "计划准确度 − 预测准确度 (按月)"))

st.subheader(t("D-14 order-volume plan accuracy by warehouse", "D-14 单量计划准确度 (按仓)"))
if components.kpi_available(ORDERS, ds):
    with components.guarded(tl(ORDERS.name)):
        order_params = widgets.param_inputs(ORDERS, "planning_orders", columns=4)
        by_wh = state.compare("order_volume_accuracy", by=("warehouse",), **order_params)
        components.definition_cards(state.compare("order_volume_accuracy", **order_params), references=False)
        components.chart(charts.bars, charts.wide_to_long(by_wh.wide(), ["warehouse"],
                                                          {d.id: tl(d.name) for d in ORDERS.definitions}),
                         category="warehouse", series="definition", unit="share",
                         title=t("Order-volume accuracy per warehouse", "各仓单量计划准确度"))
        components.download(by_wh.wide(), t("By warehouse (CSV)", "按仓 (CSV)"), "order_volume_accuracy.csv",
                            "planning_dl_orders")
