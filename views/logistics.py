"""Logistics: cost to GMV and cost per order by month, cost type and warehouse (and why they move
apart when order volume falls); the local-fulfilment rate with and without the categories that
are shipped nationwide from one warehouse, against the article's 75–80% band.
Widgets → cached library calls → charts."""

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.engine import grouping_columns
from kpilab.charts import logistics as logistics_charts
from kpilab.formatting import format_value
from kpilab.kpis import get_kpi
from kpilab.kpis import logistics as lg
from kpilab.kpis.suppliers import compare_groupings

COST, LOCAL = get_kpi("logistics_cost"), get_kpi("local_fulfilment")
COST_UNITS = {"cost_to_gmv": "share", "cost_per_order": "money"}
COST_GROUPINGS = ((), ("month",), ("month", "cost_type"), ("warehouse",), ("warehouse", "cost_type"))
COST_TYPES = {"storage": t("storage", "仓储费"), "handling": t("handling", "操作费"),
              "value_added": t("value-added services", "增值服务费"), "packaging": t("packaging", "包材费"),
              "courier": t("courier", "快递费"), "other": t("other", "其他")}


def _labels(kpi) -> dict[str, str]:
    return {d.id: tl(d.name) for d in kpi.definitions}


def cost_cards(cmp) -> None:
    """The two cost definitions in their own units (a share and money per order)."""
    cols = st.columns(len(cmp.results))
    for col, (def_id, result) in zip(cols, cmp.results.items()):
        d = COST.definition(def_id)
        with col, st.container(border=True):
            st.metric(tl(d.name), format_value(result.value, "share" if def_id == "cost_to_gmv" else "amount"),
                      help=d.formula)
            st.caption(f"`{d.formula}`")
            st.markdown(f"**{t('Says', '含义')}:** {tl(d.says)}")
            st.markdown(f"**{t('Prefer when', '适用')}:** {tl(d.prefer_when)}")


st.title(t("Logistics — what does it cost, and is stock near the customer?", "物流 — 花了多少, 货离客户近吗?"))
ds = state.dataset()

# ---------------------------------------------------------------------------------------------- cost
# Each section is a fragment: a control inside one re-runs that section only.
@st.fragment
def cost_section() -> None:
    params = widgets.param_inputs(COST, "logistics") if COST.params else {}   # none of its own today
    labels = _labels(COST)
    with components.guarded(tl(COST.name)):
        views = state.derive("logistics_cost_views", lambda d, p: compare_groupings(
            d, "logistics_cost", COST_GROUPINGS, **dict(p)), tuple(sorted(params.items())))
        cost_cards(views[()])
        components.notes(views[()])

        left, right = st.columns(2)
        monthly = views[("month",)]
        for col, def_id in zip((left, right), ("cost_to_gmv", "cost_per_order")):
            with col:
                st.altair_chart(logistics_charts.one_series(
                    monthly.results[def_id].table, x="month", unit=COST_UNITS[def_id], label=labels[def_id],
                    title=t(f"{labels[def_id]} by month", f"月度{labels[def_id]}")), theme=None, width="stretch")

        trend = state.derive("logistics_trend", lambda d, p: lg.cost_trend(d, **dict(p)), tuple(sorted(params.items())))
        st.altair_chart(logistics_charts.index_lines(
            trend, labels={"cost_to_gmv": labels["cost_to_gmv"], "cost_per_order": labels["cost_per_order"],
                           "orders": t("orders", "订单数"), "gmv": "GMV",
                           "gmv_per_order": t("GMV per order", "客单价")},
            measures=["cost_to_gmv", "cost_per_order", "orders", "gmv", "gmv_per_order"],
            y_title=t("index (first month = 100)", "指数 (首月 = 100)"), base_label=t("first month", "首月"),
            title=t("Why the two move apart: both indexed to the first month", "两者为何分道扬镳: 以首月为 100 的指数")),
            theme=None, width="stretch")
        st.info(t("Cost per order = cost to GMV × average order value. When orders fall short of plan while GMV holds "
                  "(bigger baskets, price rises), cost to GMV barely moves but cost per order rises: rent and "
                  "contracted staff do not shrink with volume. Read the two together, then split by cost type and "
                  "warehouse to see which costs did not follow the volume.",
                  "单均物流成本 = 物流费比 × 客单价。单量不及预期而 GMV 持平 (客单价上升、涨价) 时, 物流费比几乎不变, "
                  "单均成本却会上升: 仓租和正式工不随单量减少。两个指标要一起看, 再按费用类型和仓拆分, 找出没有随单量变化的费用。"))

        breakdown = st.radio(t("Break down by", "拆分维度"), ["month", "warehouse"], horizontal=True,
                             key="logistics_breakdown",
                             format_func={"month": t("month", "月份"), "warehouse": t("warehouse", "仓库")}.get)
        left, right = st.columns(2)
        by_type = views[(breakdown, "cost_type")]
        for col, def_id in zip((left, right), ("cost_to_gmv", "cost_per_order")):
            with col:
                st.altair_chart(logistics_charts.cost_type_stack(
                    by_type.results[def_id].table, unit=COST_UNITS[def_id], labels=COST_TYPES, x=breakdown,
                    title=t(f"{labels[def_id]} by cost type", f"按费用类型的{labels[def_id]}")),
                    theme=None, width="stretch")
        st.caption(t("Grouped by cost type, each type's cost is divided by the whole GMV (or all orders) of the "
                     "month or warehouse, so the pieces add up to the total.",
                     "按费用类型分组时, 每类费用都除以该月 (或该仓) 的全部 GMV (或全部订单), 因此各部分相加等于总数。"))
        by_wh = views[("warehouse",)]
        left, right = st.columns(2)
        for col, def_id in zip((left, right), ("cost_to_gmv", "cost_per_order")):
            with col:
                st.altair_chart(logistics_charts.one_series(
                    by_wh.results[def_id].table, x="warehouse", kind="bar", unit=COST_UNITS[def_id],
                    label=labels[def_id], title=t(f"{labels[def_id]} by warehouse", f"各仓{labels[def_id]}")),
                    theme=None, width="stretch")
        d1, d2, d3 = st.columns(3)
        with d1:
            components.download(monthly.wide(), t("By month (CSV)", "按月 (CSV)"), "logistics_cost_monthly.csv",
                                "logistics_dl_monthly")
        with d2:
            components.download(by_type.results["cost_to_gmv"].table, t("By cost type (CSV)", "按费用类型 (CSV)"),
                                "logistics_cost_by_type.csv", "logistics_dl_type")
        with d3:
            components.download(by_wh.wide(), t("By warehouse (CSV)", "按仓 (CSV)"), "logistics_cost_by_warehouse.csv",
                                "logistics_dl_warehouse")

# ---------------------------------------------------------------------------------------------- local fulfilment
LOCAL_CAPTION = t("Share of sub-orders shipped from a warehouse serving the customer's region (Hangzhou orders from the "
                  "Zhejiang warehouse, not Tianjin or Guangzhou). 75–80% is already good; higher may mean stock spread "
                  "too thin across warehouses. Categories shipped nationwide from one warehouse (luxury, electronics) "
                  "should be left out of both counts — compare the two definitions.",
                  "由服务客户所在区域的仓库发货的子订单占比 (杭州订单由浙江仓而非天津仓、广州仓满足)。75~80% 已算不错; "
                  "更高可能是过度多布库存。一仓发全国的类目 (奢侈品、数码) 应在分子分母中都剔除 — 请对比两种口径。")


@st.fragment
def local_section() -> None:
    local_params = widgets.param_inputs(LOCAL, "logistics_local") if LOCAL.params else {}   # none of its own today
    local_labels = _labels(LOCAL)
    band = tuple(r.value for r in LOCAL.definitions[0].references)
    band_label = t("75–80%: already good (article)", "75~80%: 已算不错 (文章)")
    with components.guarded(tl(LOCAL.name)):
        region_options = [c for c in ("customer_region", "category") if c in grouping_columns(LOCAL, ds)]
        dimension = st.radio(t("Compare across", "对比维度"), region_options, horizontal=True, key="logistics_local_by",
                             format_func={"customer_region": t("customer region", "客户区域"),
                                          "category": t("category", "类目")}.get)
        local = state.derive("logistics_local_views", lambda d, dim, p: compare_groupings(
            d, "local_fulfilment", ((), ("month",), (dim,)), **dict(p)), dimension, tuple(sorted(local_params.items())))
        components.definition_cards(local[()])
        components.notes(local[()])
        left, right = st.columns(2)
        with left:
            st.altair_chart(logistics_charts.rate_with_band(
                charts.wide_to_long(local[("month",)].wide(), ["month"], local_labels), x="month", band=band,
                band_label=band_label, order=list(local_labels.values()), y_title=t("local share", "本地占比"),
                title=t("Local fulfilment by month", "月度本地订单达成率")), theme=None, width="stretch")
        with right:
            st.altair_chart(logistics_charts.rate_with_band(
                charts.wide_to_long(local[(dimension,)].wide(), [dimension], local_labels), x=dimension, kind="bar",
                band=band, band_label=band_label, order=list(local_labels.values()),
                y_title=t("local share", "本地占比"),
                title=t("Local fulfilment by " + dimension.replace("_", " "),
                        "按" + {"customer_region": "客户区域", "category": "类目"}[dimension] + "的本地订单达成率")),
                theme=None, width="stretch")
        for def_id, result in local[()].results.items():
            row = charts.to_pandas(result.table).iloc[0]
            st.caption(t(f"{local_labels[def_id]}: {int(row['local']):,} local of {int(row['sub_orders']):,} sub-orders; "
                         f"{int(row['excluded']):,} left out (blank or unknown warehouse or region).",
                         f"{local_labels[def_id]}: {int(row['sub_orders']):,} 个子订单中 {int(row['local']):,} 个本地满足; "
                         f"{int(row['excluded']):,} 个被剔除 (仓库或区域为空或未知)。"))
        d1, d2 = st.columns(2)
        with d1:
            components.download(local[("month",)].wide(), t("By month (CSV)", "按月 (CSV)"),
                                "local_fulfilment_monthly.csv", "logistics_dl_local_month")
        with d2:
            components.download(local[(dimension,)].wide(), t("By group (CSV)", "按分组 (CSV)"),
                                f"local_fulfilment_by_{dimension}.csv", "logistics_dl_local_group")


st.subheader(t("Logistics cost: to GMV and per order", "物流费比与单均物流成本"))
if components.kpi_available(COST, ds):
    cost_section()
st.subheader(t("Local fulfilment: orders served from the customer's region", "本地订单达成率"))
st.caption(LOCAL_CAPTION)
if components.kpi_available(LOCAL, ds):
    local_section()
