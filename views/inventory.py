"""Inventory health: inventory value (daily average vs month end), days of inventory (trailing vs
forward), slow-moving stock under four definitions, where they disagree (DOS × age), the threshold
sweep with L1/L2/L3, slow value by ABC class, stock health and the inventory-vs-GMV golden rule.
Widgets → cached library calls → charts."""

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import inventory as inventory_charts
from kpilab.formatting import format_value
from kpilab.kpis import get_kpi
from kpilab.kpis import inventory as inv

VALUE, DOI, SLOW, HEALTH, GROWTH = (get_kpi(k) for k in
                                    ("inventory_value", "days_of_inventory", "slow_moving", "stock_health",
                                     "inventory_growth"))


def labels(kpi) -> dict[str, str]:
    return {d.id: tl(d.name) for d in kpi.definitions}


def params_key(params: dict) -> tuple:
    return tuple(sorted(params.items()))


st.title(t("Inventory health — how much stock, how long it lasts, how much of it is slow",
           "库存健康 — 库存有多少、能卖多久、多少是滞销"))
st.caption(t("Each KPI under every definition the article describes, on the same data. Inventory is a stock: "
             "'at t' means the last inventory date (or each month's last one when shown by month).",
             "每个指标按文章描述的所有口径并排计算。库存是存量: '时点 t' 指最后一个库存日期 (按月展示时为每月最后一个)。"))
ds = state.dataset()

# ---------------------------------------------------------------------- controls
with st.container(border=True):
    st.markdown(t("**Parameters** (every parameter of the spec; the page recomputes on change)",
                  "**参数** (口径的全部参数; 修改后页面即时重算)"))
    slow_params = widgets.param_inputs(SLOW, "inventory", columns=4)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        fraction = widgets.param_input(HEALTH.param("fraction"), "inventory_fraction")
    levels = []
    for col, (name, default) in zip((c2, c3, c4), (("L1", 90), ("L2", 120), ("L3", 180))):
        with col:
            levels.append(int(st.number_input(t(f"{name} level (days)", f"{name} 滞销分级 (天)"), min_value=1,
                                              max_value=3650, value=default, step=10, key=f"inventory_{name.lower()}",
                                              help=t("Slow-moving levels: the same KPI at several thresholds "
                                                     "(the article: 90/120/180 days).",
                                                     "滞销分级: 同一指标取不同阈值 (文章: 90/120/180 天)。"))))
    class_params = widgets.class_params("inventory")
slow_params |= class_params
window = {"window": slow_params["window"]}

# ---------------------------------------------------------------------- inventory value
st.subheader(t("Inventory value: daily average vs month end", "库存货值: 日均 vs 月末"))
if components.kpi_available(VALUE, ds):
    with components.guarded(tl(VALUE.name)):
        components.definition_cards(state.compare("inventory_value"), references=False)
        monthly = state.compare("inventory_value", by=("month",))
        promos = state.derive("inventory_promo_months", inv.promotion_months)
        st.altair_chart(inventory_charts.value_with_promotions(
            charts.wide_to_long(monthly.wide(), ["month"], labels(VALUE)), promos,
            promo_label=t("month with promotion days (618, Double 11)", "含大促日的月份 (618、双11)"),
            title=t("Inventory value at cost by month; shaded: promotion months",
                    "月度库存货值 (成本); 阴影: 大促月份")), theme=None, width="stretch")
        st.markdown(t("**Why they differ around promotions.** Stock is built up ahead of 618 and Double 11 and sold "
                      "down in the event: month end catches the peak in the month before the event (the build-up) "
                      "and the trough right after it, while the daily average spreads both over the month. The "
                      "article sets separate peak-stock targets for S-class promotions and uses the daily average "
                      "for steadier year-on-year comparison; month end ties out with the balance sheet.",
                      "**为什么大促前后两者不同。** 618、双11 前会集中备货, 大促中快速消化: 月末值在大促前一个月 "
                      "(备货期) 抓到峰值, 大促后抓到低谷, 而日均把波峰波谷摊到整个月。文章建议 S 级大促单独设峰值库存"
                      "目标, 日均用于更稳定的年同比; 月末则能与财务资产负债表一致。"))
        components.download(monthly.wide(), t("Inventory value by month (CSV)", "月度库存货值 (CSV)"),
                            "inventory_value_monthly.csv", "inventory_dl_value")

# ---------------------------------------------------------------------- days of inventory
st.subheader(t("Days of inventory: trailing sales vs forward plan", "库存天期: 按过去销售 vs 按未来计划"))
if components.kpi_available(DOI, ds):
    with components.guarded(tl(DOI.name)):
        doi_defs = ["trailing"] + (["forward"] if ds.has("plans") else [])
        if not ds.has("plans"):
            st.info(t("The forward definition needs a plans table; only the trailing one is shown.",
                      "按未来计划的口径需要 plans 表; 只显示按过去销售的口径。"))
        components.definition_cards(state.compare("days_of_inventory", doi_defs, **window), references=False)
        doi_monthly = state.compare("days_of_inventory", doi_defs, by=("month",), **window)
        st.altair_chart(inventory_charts.ratio_trend(
            charts.wide_to_long(doi_monthly.wide(), ["month"], labels(DOI)), unit="days",
            title=t("Days of inventory at each month's last inventory date", "每月最后库存日的库存天期")),
            theme=None, width="stretch")
        st.caption(t("Trailing cover swings after big promotions (the last 30 days' sales are inflated) and does not "
                     "show why stock was built; the forward plan explains the build-up but needs a neutral plan.",
                     "按过去 30 天计算的天期在大促后波动大 (销售被放大), 也不反映备货原因; 按未来计划能解释备货, "
                     "但需要一版中性稳定的计划。"))
        components.notes(doi_monthly)
        components.download(doi_monthly.wide(), t("Days of inventory by month (CSV)", "月度库存天期 (CSV)"),
                            "days_of_inventory_monthly.csv", "inventory_dl_doi")

# ---------------------------------------------------------------------- slow moving
st.subheader(t("Slow-moving stock under four definitions", "四种口径下的滞销库存"))
if components.kpi_available(SLOW, ds):
    with components.guarded(tl(SLOW.name)):
        has_batches = ds.has("batches")
        slow_defs = list(inv.SLOW_DEFINITIONS) if has_batches else ["dos_excess", "dos_whole"]
        if not has_batches:
            st.info(t("Stock age needs a batches table (lots with receipt dates): only the DOS definitions are shown.",
                      "库龄口径需要 batches 表 (带收货日期的批次): 只显示 DOS 口径。"))
        slow = state.compare("slow_moving", slow_defs, **slow_params)
        components.definition_cards(slow, references=False)
        components.notes(slow)
        slow_long = inv.slow_value_long(slow)
        left, right = st.columns(2)
        with left:
            st.altair_chart(inventory_charts.slow_by_definition(
                slow_long, labels(SLOW), value_title=t("slow value", "滞销货值"), share_title=t("share", "占比"),
                title=t("Slow value at the last inventory date (label: share)", "最后库存日的滞销货值 (标注: 占比)")),
                theme=None, width="stretch")
        with right:
            slow_monthly = state.compare("slow_moving", slow_defs, by=("month",), **slow_params)
            st.altair_chart(inventory_charts.ratio_trend(
                charts.wide_to_long(slow_monthly.wide(), ["month"], labels(SLOW)), unit="share",
                title=t("Slow share at each month end", "每月末滞销货值占比"), label_angle=-45),
                theme=None, width="stretch")
        d1, d2 = st.columns(2)
        with d1:
            components.download(slow_long, t("Slow value per definition (CSV)", "各口径滞销货值 (CSV)"),
                                "slow_moving.csv", "inventory_dl_slow")
        with d2:
            components.download(slow_monthly.wide(), t("Slow share by month (CSV)", "月度滞销占比 (CSV)"),
                                "slow_moving_monthly.csv", "inventory_dl_slow_monthly")

        # -------------------------------------------------------------- disagreements
        if has_batches:
            st.subheader(t("Where the definitions disagree: DOS flag × stock-age flag",
                           "口径分歧: DOS 标记 × 库龄标记"))
            detail = slow.results["dos_whole"].detail
            crosstab = inv.dos_age_crosstab(detail)
            yes, no = t("yes", "是"), t("no", "否")
            dos_title = t(f"DOS > {slow_params['dos_days']} d", f"DOS > {slow_params['dos_days']} 天")
            age_title = t(f"sellable lots older than {slow_params['age_days']} d",
                          f"可售批次库龄 > {slow_params['age_days']} 天")
            left, right = st.columns([1, 1])
            with left:
                st.altair_chart(inventory_charts.dos_age_matrix(
                    crosstab, dos_title=dos_title, age_title=age_title, yes=yes, no=no, skus_title=t("SKUs", "个 SKU"),
                    value_title=t("sellable value", "可售货值")), theme=None, width="stretch")
                st.caption(t("Cells: sellable value at cost · number of SKUs. Off the diagonal the definitions "
                             "disagree: slow by cover but recently received (DOS yes, age no), or old lots that "
                             "still sell (DOS no, age yes). Both yes: the intersection, the most severely slow.",
                             "格内: 可售货值 (成本) · SKU 数。非对角格即口径分歧: 覆盖天数超标但批次较新 (DOS 是、库龄否), "
                             "或批次老但仍在动销 (DOS 否、库龄是)。两者皆是: 交集, 滞销程度最高。"))
            cells = {"dos_only": (True, False), "age_only": (False, True), "both": (True, True), "neither": (False, False)}
            cell_names = {"dos_only": t("DOS yes · age no", "DOS 是 · 库龄否"),
                          "age_only": t("DOS no · age yes", "DOS 否 · 库龄是"),
                          "both": t("both (intersection)", "两者皆是 (交集)"), "neither": t("neither", "都不是")}
            with right:
                cell = st.segmented_control(t("SKUs behind the cell", "该格对应的 SKU"), list(cells),
                                            default="dos_only", format_func=cell_names.get,
                                            key="inventory_cell", required=True) or "dos_only"
                skus_in_cell = inv.dos_age_skus(detail, *cells[cell])
                components.table(skus_in_cell, key="inventory_cell_table", height=300)
            d1, d2 = st.columns(2)
            with d1:
                components.download(crosstab, t("DOS × age cross-tab (CSV)", "DOS × 库龄交叉表 (CSV)"),
                                    "slow_moving_dos_x_age.csv", "inventory_dl_crosstab")
            with d2:
                components.download(skus_in_cell, t("SKUs of the selected cell (CSV)", "所选格的 SKU (CSV)"),
                                    f"slow_moving_{cell}.csv", "inventory_dl_cell")

        # -------------------------------------------------------------- threshold sweep
        st.subheader(t("Threshold sweep with your L1/L2/L3 levels", "阈值扫描与 L1/L2/L3 分级"))
        s1, s2 = st.columns([2, 3])
        with s1:
            and_moves = st.radio(t("DOS and age: which threshold moves", "DOS 与库龄交集: 移动哪个阈值"),
                                 ["dos", "age", "both"], horizontal=True, key="inventory_and_moves",
                                 format_func={"dos": t("DOS", "DOS"), "age": t("age", "库龄"),
                                              "both": t("both", "两者")}.get)
        with s2:
            sweep_classes = st.multiselect(t("Sweep on ABC classes (blank = all)", "扫描的 ABC 分类 (留空 = 全部)"),
                                           ["A", "B", "C", "D", "E"], key="inventory_sweep_classes",
                                           placeholder=t("all", "全部"))
        thresholds = tuple(sorted(set(range(30, 366, 5)) | set(levels)))
        sweep = state.derive("inventory_sweep", lambda d, th, am, cl, defs, p: inv.slow_moving_sweep(
            d, thresholds=th, and_moves=am, classes=cl, definitions=defs, **dict(p)), thresholds, and_moves,
            tuple(sweep_classes), tuple(slow_defs), params_key(slow_params))
        st.altair_chart(inventory_charts.threshold_sweep(
            sweep, labels(SLOW),
            [(lv, f"{name} {lv} d") for name, lv in zip(("L1", "L2", "L3"), levels)],
            x_title=t("threshold (days of sales, or stock age)", "阈值 (可售天数或库龄天数)"),
            y_title=t("slow share", "滞销占比"),
            title=t("Share of slow value as the threshold moves from 30 to 365 days",
                    "阈值从 30 天到 365 天时的滞销货值占比")), theme=None, width="stretch")
        at_levels = inv.sweep_levels(sweep, levels)
        st.dataframe(charts.to_pandas(at_levels).assign(definition=lambda f: f["definition"].map(labels(SLOW))),
                     hide_index=True, width="stretch", key="inventory_levels_table",
                     column_config={c: st.column_config.NumberColumn(c, format="percent")
                                    for c in charts.to_pandas(at_levels).columns if c != "definition"})
        st.caption(t("DOS definitions move dos_days, stock age moves age_days; the levels are the same KPI at "
                     "several thresholds (the article: tighten from 180 to 120 or 90 as management matures).",
                     "DOS 口径移动 dos_days, 库龄口径移动 age_days; 分级即同一指标取不同阈值 "
                     "(文章: 随管理精进从 180 天收紧到 120 或 90 天)。"))
        d1, d2 = st.columns(2)
        with d1:
            components.download(sweep, t("Threshold sweep (CSV)", "阈值扫描 (CSV)"), "slow_moving_sweep.csv",
                                "inventory_dl_sweep")
        with d2:
            components.download(at_levels, t("Shares at L1/L2/L3 (CSV)", "L1/L2/L3 占比 (CSV)"),
                                "slow_moving_levels.csv", "inventory_dl_levels")

        # -------------------------------------------------------------- by ABC class
        st.subheader(t("Slow value by ABC class: the article's focus is C/D/E", "按 ABC 分类的滞销货值: 文章重点看 CDE 类"))
        by_class = inv.slow_value_long(state.compare("slow_moving", slow_defs, by=("abc_class",), **slow_params))
        focus = inv.slow_focus(by_class)
        st.markdown(t("**C/D/E slow value** at the last inventory date (and its share of the C/D/E sellable value)",
                      "**CDE 类滞销货值** (最后库存日; 及其占 CDE 类可售货值的比例)"))
        cols = st.columns(len(slow_defs))
        for col, row in zip(cols, charts.to_pandas(focus).itertuples()):
            col.metric(labels(SLOW)[row.definition], format_value(row.slow_value, "money"),
                       delta=t(f"{format_value(row.value, 'share')} of C/D/E", f"占 CDE {format_value(row.value, 'share')}"),
                       delta_color="off", delta_arrow="off")
        st.altair_chart(inventory_charts.slow_by_class(
            by_class, labels(SLOW), value_title=t("slow value", "滞销货值"), share_title=t("share", "占比"),
            focus_title=t("C/D/E focus", "CDE 重点"),
            title=t("Slow value by class (A super-hit … E no sales); C/D/E in full colour",
                    "按分类的滞销货值 (A 超爆 … E 不动销); CDE 类为实色")), theme=None, width="stretch")
        st.caption(t("A/B items usually sell once the price is right, and stock bought at a good price may even have "
                     "gained value; C/D/E stock needs faster action.",
                     "AB 类容易卖, 价格到位多能出清, 压准价盘的囤货甚至可能升值; CDE 类需要更急的处理。"))
        components.download(by_class, t("Slow value by ABC class (CSV)", "按 ABC 分类的滞销货值 (CSV)"),
                            "slow_moving_by_class.csv", "inventory_dl_class")

# ---------------------------------------------------------------------- stock health
st.subheader(t("Near-expiry, defective and unsellable stock", "临期、不良与不可售库存"))
if components.kpi_available(HEALTH, ds):
    with components.guarded(tl(HEALTH.name)):
        health = state.compare("stock_health", fraction=fraction)
        components.definition_cards(health, references=False)
        components.notes(health)
        health_monthly = state.compare("stock_health", by=("month",), fraction=fraction)
        st.altair_chart(inventory_charts.ratio_trend(
            charts.wide_to_long(health_monthly.wide(), ["month"], labels(HEALTH)), unit="share",
            title=t("Share of batch value in a problem state, at each month's batch snapshot",
                    "每月批次快照中问题状态的货值占比")), theme=None, width="stretch")
        components.download(health_monthly.wide(), t("Stock health by month (CSV)", "月度库存健康 (CSV)"),
                            "stock_health_monthly.csv", "inventory_dl_health")

# ---------------------------------------------------------------------- golden rule
st.subheader(t("Inventory growth vs GMV growth: the golden rule", "库存增长 vs GMV 增长: 黄金法则"))
if components.kpi_available(GROWTH, ds):
    with components.guarded(tl(GROWTH.name)):
        growth = state.compare("inventory_growth")
        components.definition_cards(growth)
        components.notes(growth)
        basis = st.radio(t("Inventory basis", "库存口径"), [d.id for d in GROWTH.definitions], horizontal=True,
                         format_func=labels(GROWTH).get, key="inventory_growth_basis")
        growth_monthly = state.compare("inventory_growth", by=("month",))
        judged = inv.growth_with_verdict(growth_monthly.results[basis].table)
        verdicts = {"golden": t("golden: ≤ half of GMV growth", "黄金: ≤ GMV 增长的一半"),
                    "slower": t("slower than GMV", "低于 GMV 增长"),
                    "faster": t("faster than GMV: too fast", "快于 GMV 增长: 过快"),
                    "gmv_not_growing": t("GMV did not grow: read the inventory/GMV ratio change",
                                         "GMV 未增长: 看库存/GMV 比值变化"),
                    "unknown": t("no year-ago value", "无去年同期数据")}
        shown = charts.to_pandas(judged).assign(verdict=lambda f: f["verdict"].map(verdicts))
        left, right = st.columns([3, 2])
        with left:
            st.altair_chart(inventory_charts.growth_vs_gmv(
                judged, inventory_label=t("inventory growth", "库存增长"), gmv_label=t("GMV growth", "GMV 增长"),
                golden_label=t("golden rule: half of GMV growth", "黄金法则: GMV 增长的一半"),
                title=t("Year-on-year growth by month (red tick: half the GMV growth)",
                        "按月同比增长 (红线: GMV 增长的一半)")), theme=None, width="stretch")
        with right:
            st.dataframe(shown, hide_index=True, width="stretch", key="inventory_growth_table",
                         column_config={c: st.column_config.NumberColumn(c, format="percent")
                                        for c in ("value", "inv_growth", "gmv_growth", "ratio_change")})
        st.caption(t("value = inventory growth ÷ GMV growth: the golden rule wants ≤ 50%, and at worst inventory "
                     "growing slower than GMV (< 100%). When GMV shrinks the ratio misleads and is left empty; "
                     "ratio_change (the change of inventory ÷ GMV) reads in every case: below 0 is healthy.",
                     "value = 库存增长 ÷ GMV 增长: 黄金法则要求 ≤ 50%, 底线是库存增长低于 GMV 增长 (< 100%)。GMV 下降时"
                     "该比值会误导, 留空; ratio_change (库存/GMV 比值的变化) 任何情况下都可读: 小于 0 为健康。"))
        components.download(shown, t("Growth check by month (CSV)", "月度增长检查 (CSV)"),
                            "inventory_growth_monthly.csv", "inventory_dl_growth")
