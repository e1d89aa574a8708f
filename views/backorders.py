"""Backorders: backorder rate, overdue backorders, promise kept, age and growth, each with its rival
definitions side by side and segmented by oos_policy. Widgets → cached library calls → charts."""

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import backorders as backorder_charts
from kpilab.engine import grouping_columns
from kpilab.kpis import get_kpi

RATE, OVERDUE, KEPT, AGE, GROWTH = (get_kpi(k) for k in (
    "backorder_rate", "overdue_backorders", "backorder_promise_kept", "backorder_age", "backorder_growth"))

st.title(t("Backorders — selling through a stock-out, and keeping the promise",
           "缺货预订 — 缺货时照常销售, 并兑现承诺"))
st.caption(t("Backorderable items keep selling when out of stock and ship later; substitutable ones offer a "
             "similar item. Each backorder metric has rival definitions that reward different behaviour: "
             "compare them per segment (oos_policy).",
             "可缺货预订的商品缺货时照常销售、稍后发货; 可替代的商品推荐相似商品。每个缺货预订指标都有"
             "奖励不同行为的多种定义: 按分段 (oos_policy) 对比。"))
ds = state.dataset()

if components.kpi_available(RATE, ds):
    segment = "oos_policy" if "oos_policy" in grouping_columns(RATE, ds) else None
    if segment is None:
        st.info(t("This dataset's skus table has no oos_policy: the KPIs are not segmented.",
                  "此数据集的 skus 表没有 oos_policy: 指标不分段。"))
    overdue_params = widgets.param_inputs(OVERDUE, "backorders", columns=2)
    for kpi, params in ((RATE, {}), (OVERDUE, overdue_params), (KEPT, {}), (AGE, {}), (GROWTH, {})):
        st.subheader(tl(kpi.name))
        st.caption(f"{tl(kpi.description)} · {t('Period', '期间')}: {tl(kpi.period)}")
        with components.guarded(tl(kpi.name)):
            overall = state.compare(kpi.id, **params)
            components.definition_cards(overall)
            components.notes(overall)
            keys = ["month", *([segment] if segment else [])]
            monthly = state.compare(kpi.id, by=tuple(keys), **params)
            labels = {d.id: tl(d.name) for d in kpi.definitions}
            refs = [(r.value, f"{labels[d.id]}: {tl(r.label)}") for d in kpi.definitions for r in d.references]
            components.chart(backorder_charts.by_segment, charts.wide_to_long(monthly.wide(), keys, labels),
                             unit=kpi.unit, segment=segment, references=refs,
                             title=t("By month, one line per definition and segment",
                                     "按月: 每条线一个定义与分段"))
            components.download(monthly.wide(), t("By month (CSV)", "按月 (CSV)"), f"{kpi.id}_monthly.csv",
                                f"backorders_dl_{kpi.id}")
            if kpi is GROWTH:
                backlog = state.compare(GROWTH.id, ["open_units"], by=tuple(keys)).results["open_units"].table
                components.chart(backorder_charts.backlog, backlog, segment=segment,
                                 units_title=t("open units", "未结件数"),
                                 title=t("Open backordered units at month-end", "月末未结的缺货预订件数"))
        with st.expander(t("What each definition says, and when to prefer it", "每个定义的含义与适用场景")):
            for d in kpi.definitions:
                st.markdown(f"**{tl(d.name)}** — `{d.formula}`  \n{tl(d.says)}  \n"
                            f"*{t('Prefer when', '适用')}:* {tl(d.prefer_when)}")
