"""Suppliers: OTIF by value, by line and by order side by side; how the window and the fill mark
move it; whether the supplier ranking survives a change of definition; rush vs normal orders and
scarce SKUs; inspection pass rate by quantity and by lot; preferred-supplier share by tier and by
rating. Widgets → cached library calls → charts."""

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import suppliers as supplier_charts
from kpilab.kpis import get_kpi
from kpilab.kpis import suppliers as sup

OTIF, INSPECTION, PREFERRED = (get_kpi(k) for k in ("otif", "inspection_pass_rate", "preferred_supplier_share"))
WINDOWS = {(7, 3): t("−7/+3 (the article's)", "前 7 后 3 (文章)"), (3, 1): t("−3/+1 (strict)", "前 3 后 1 (严格)"),
           (14, 7): t("−14/+7 (loose)", "前 14 后 7 (宽松)"), (0, 0): t("promised day only", "仅承诺当日")}


def _key(params: dict) -> tuple:
    return tuple(sorted(params.items()))


def _labels(kpi) -> dict[str, str]:
    return {d.id: tl(d.name) for d in kpi.definitions}


st.title(t("Suppliers — on time, in full, and good quality?", "供应商 — 准时、足量、质量好吗?"))
st.caption(t("OTIF is the second-level KPI behind availability: when suppliers do not deliver, the stock team "
             "cannot keep items on the shelf without more stock. Its three readings differ in what they let a "
             "supplier hide; the ranking of suppliers can change with the reading and with the window.",
             "OTIF 是在架率的二级指标: 供应商不交货, 库控只能靠更多库存保在架率。三种口径的差别在于能让供应商'藏'住什么; "
             "供应商排名也可能随口径与时间窗口而变。"))
ds = state.dataset()

# ---------------------------------------------------------------------------------------------- OTIF
# Each section is a fragment: a control inside one re-runs that section only.
@st.fragment
def otif_section() -> None:
    st.subheader(t("OTIF under three definitions", "三种口径下的 OTIF"))
    c1, c2, c3 = st.columns(3)
    with c1:
        early = st.slider(tl(OTIF.param("early_days").label), 0, 30, OTIF.param("early_days").default,
                          key="suppliers_early_days", help=tl(OTIF.param("early_days").help))
    with c2:
        late = st.slider(tl(OTIF.param("late_days").label), 0, 30, OTIF.param("late_days").default,
                         key="suppliers_late_days", help=tl(OTIF.param("late_days").help))
    with c3:
        line_fill = st.slider(tl(OTIF.param("line_fill").label), 0.5, 1.0, OTIF.param("line_fill").default, 0.01,
                              key="suppliers_line_fill", help=tl(OTIF.param("line_fill").help))
    params = {"early_days": early, "late_days": late, "line_fill": line_fill}
    params |= widgets.param_inputs(OTIF, "suppliers", names=("exclude_scarce", "orders", "as_of"), columns=3)
    labels = _labels(OTIF)
    main = st.container()

    st.subheader(t("Does the supplier ranking depend on the definition?", "供应商排名是否取决于口径?"))
    st.caption(t("Suppliers ranked under each definition at the window above, and by line under other windows. "
                 "Spearman ρ and Kendall τ compare two rankings: 1 = same order, 0 = unrelated, −1 = reversed. "
                 "A low value means the choice of definition decides who is 'best'.",
                 "在上方窗口下按各口径给供应商排名, 并在其他窗口下按行排名。Spearman ρ 与 Kendall τ 比较两个排名: "
                 "1 = 顺序相同, 0 = 无关, −1 = 完全相反。值低说明'谁最好'取决于口径的选择。"))
    r1, r2, r3 = st.columns([3, 1, 1])
    with r1:
        other = st.multiselect(t("Other windows (by line)", "其他窗口 (按行)"),
                               [w for w in WINDOWS if w != (early, late)], default=[(3, 1), (14, 7)],
                               format_func=WINDOWS.get, key="suppliers_windows")
    with r2:
        metric = st.radio(t("Correlation", "相关系数"), ["spearman", "kendall"], horizontal=True,
                          key="suppliers_metric", format_func={"spearman": "Spearman ρ", "kendall": "Kendall τ"}.get)
    with r3:
        min_lines = st.number_input(t("Min. lines per supplier", "供应商最少行数"), 1, 500, 5,
                                    key="suppliers_min_lines")
    ranking_area = st.container()
    st.subheader(t("Rush orders and scarce SKUs", "急单与稀缺品"))
    rush_area = st.container()

    with components.guarded(tl(OTIF.name)):
        ov = state.derive("suppliers_otif", lambda d, w, m, n, p: sup.otif_overview(
            d, windows=w, min_lines=m, names=dict(n), **dict(p)), tuple(other), int(min_lines),
            tuple(labels.items()), _key(params))
        overall = ov.views[()]
        with main:
            components.definition_cards(overall, references=False)
            components.notes(overall)
            st.altair_chart(supplier_charts.value_bars(
                charts.wide_to_long(ov.views[("supplier",)].wide(), ["supplier"], labels), category="supplier",
                series="definition", series_order=list(labels.values()), y_title="OTIF",
                title=t("OTIF per supplier: value, line and whole-order readings", "各供应商 OTIF: 按金额、按行、按整单")),
                theme=None, width="stretch")
            st.caption(t("A supplier far higher by value than by line delivers its big lines and leaves small ones "
                         "short; by order is lowest when POs have many lines.",
                         "按金额远高于按行的供应商: 大金额行交够了, 小行没交够; 采购单行数多时按整单最低。"))
            components.download(ov.views[("supplier",)].wide(), t("OTIF per supplier (CSV)", "各供应商 OTIF (CSV)"),
                                "otif_per_supplier.csv", "suppliers_dl_per_supplier")
            left, right = st.columns(2)
            with left:
                st.altair_chart(supplier_charts.receipt_timing(
                    ov.timing, early_days=early, late_days=late,
                    labels={"early": t("too early", "过早"), "in_window": t("in the window", "窗口内"),
                            "late": t("late", "延迟")},
                    x_title=t("days from promised date (ends hold the tails)", "距承诺日天数 (两端为截断的尾部)"),
                    y_title=t("units received", "到货件数"), window_label=t("on-time window", "准时窗口"),
                    title=t("Where receipts land against the window", "到货落在窗口的哪里")), theme=None, width="stretch")
            with right:
                st.altair_chart(supplier_charts.pass_mark_curve(
                    ov.curve, current=line_fill, x_title=t("line fill mark", "订单行满足线"),
                    y_title=t("OTIF by line", "按行 OTIF"), current_label=t("mark in use", "当前满足线"),
                    title=t("By-line OTIF as the fill mark moves", "按行 OTIF 随满足线变化")), theme=None, width="stretch")
            st.altair_chart(charts.trend(charts.wide_to_long(ov.views[("month",)].wide(), ["month"], labels),
                                         x="month", series="definition", unit="share",
                                         title=t("OTIF by month of promised date", "按承诺到货月份的 OTIF")),
                            theme=None, width="stretch")
            with st.expander(t("What each definition says, and when to prefer it", "每个口径的含义与适用场景")):
                for d in OTIF.definitions:
                    st.markdown(f"**{tl(d.name)}** — `{d.formula}`  \n{tl(d.says)}  \n*{t('Prefer when', '适用')}:* "
                                f"{tl(d.prefer_when)}")

        with ranking_area:
            left, right = st.columns([3, 2])
            with left:
                st.altair_chart(supplier_charts.rank_slope(
                    ov.ranking, order=list(ov.scenarios), y_title=t("rank (1 = best)", "排名 (1 = 最好)"),
                    title=t("Supplier rank under each definition and window", "各口径与窗口下的供应商排名")),
                    theme=None, width="stretch")
            with right:
                st.altair_chart(supplier_charts.correlation_grid(
                    ov.correlations, metric=metric, order=list(ov.scenarios), metric_title=metric,
                    title=t("Rank correlation between scenarios", "情景之间的排名相关性")), theme=None, width="stretch")
            components.table(ov.correlations, key="suppliers_correlations")
            d1, d2 = st.columns(2)
            with d1:
                components.download(ov.ranking, t("Ranks (CSV)", "排名 (CSV)"), "otif_supplier_ranks.csv",
                                    "suppliers_dl_ranks")
            with d2:
                components.download(ov.correlations, t("Rank correlations (CSV)", "排名相关性 (CSV)"),
                                    "otif_rank_correlations.csv", "suppliers_dl_corr")

        with rush_area:
            left, right = st.columns(2)
            with left:
                st.altair_chart(supplier_charts.value_bars(
                    charts.wide_to_long(ov.views[("rush",)].wide(), ["rush"], labels), category="definition",
                    series="rush", series_order=[False, True],
                    series_labels={False: t("normal orders", "正常单"), True: t("rush orders", "急单")},
                    order=list(labels.values()), y_title="OTIF", title=t("Rush vs normal orders", "急单 vs 正常单")),
                    theme=None, width="stretch")
                st.caption(t("Rush orders are placed inside the supplier's lead time: judge them apart, and fix the "
                             "ordering before blaming the supplier.",
                             "急单是在供应商提前期之内下的单: 应分开评估, 先改善下单节奏, 再追究供应商。"))
            with right:
                st.altair_chart(supplier_charts.value_bars(
                    ov.scarce, category="definition", series="variant", series_order=["true", "false"],
                    category_labels=labels, order=list(labels), y_title="OTIF",
                    series_labels={"true": t("scarce SKUs excluded", "排除稀缺品"),
                                   "false": t("scarce SKUs included", "包含稀缺品")},
                    title=t("Scarce-goods pool in or out", "稀缺品池: 排除与否")), theme=None, width="stretch")
                st.caption(t("Items no supplier can deliver in full (Moutai, Lego…) are kept in a scarce pool, left "
                             "out of OTIF, and the pool is reviewed regularly.",
                             "茅台、乐高这类采不到也不能怪供应商的货放进稀缺品池, 不计入 OTIF, 并定期 review 池子。"))
            components.download(ov.scarce, t("Scarce in/out (CSV)", "稀缺品排除与否 (CSV)"), "otif_scarce_variants.csv",
                                "suppliers_dl_scarce")


# ---------------------------------------------------------------------------------------------- inspection
@st.fragment
def inspection_section() -> None:
    c1, c2 = st.columns([2, 3])
    with c1:
        lot = INSPECTION.param("lot_threshold")
        lot_threshold = st.slider(tl(lot.label), 0.5, 1.0, lot.default, 0.01, key="suppliers_lot_threshold",
                                  help=tl(lot.help))
    with c2:
        scope_param = INSPECTION.param("scope")
        scope = st.radio(tl(scope_param.label), list(scope_param.choices), horizontal=True, key="suppliers_scope",
                         help=tl(scope_param.help), format_func={"all": t("all lots", "全部批次"),
                                                                 "new_first": t("new products, first inspection",
                                                                                "新品首次验货")}.get)
    ins_params = {"lot_threshold": lot_threshold, "scope": scope}
    ins_labels = _labels(INSPECTION)
    with components.guarded(tl(INSPECTION.name)):
        ins = state.derive("suppliers_inspection", lambda d, p: sup.compare_groupings(
            d, "inspection_pass_rate", ((), ("supplier",), ("month",)), **dict(p)), _key(ins_params))
        components.definition_cards(ins[()], references=False)
        components.notes(ins[()])
        left, right = st.columns([3, 2])
        with left:
            st.altair_chart(supplier_charts.value_bars(
                charts.wide_to_long(ins[("supplier",)].wide(), ["supplier"], ins_labels), category="supplier",
                series="definition", series_order=list(ins_labels.values()), y_title=t("pass rate", "合格率"),
                title=t("Pass rate per supplier", "各供应商验货合格率")), theme=None, width="stretch")
        with right:
            scopes = state.derive("suppliers_scopes", lambda d, p: sup.variants(
                d, "inspection_pass_rate", "scope", ["all", "new_first"], **dict(p)),
                _key({"lot_threshold": lot_threshold}))
            st.altair_chart(supplier_charts.value_bars(
                scopes, category="definition", series="variant", series_order=["all", "new_first"],
                category_labels=ins_labels, order=list(ins_labels), y_title=t("pass rate", "合格率"),
                series_labels={"all": t("all lots", "全部批次"), "new_first": t("new-product first pass", "新品首次通过")},
                title=t("New-product first-time pass rate vs all lots", "新品首次通过率 vs 全部批次")),
                theme=None, width="stretch")
        curve = sup.fill_curve(ins[()].results["by_lot"].detail, [x / 100 for x in range(50, 101, 5)])
        left, right = st.columns(2)
        with left:
            st.altair_chart(supplier_charts.pass_mark_curve(
                curve, current=lot_threshold, x_title=t("lot pass mark", "单票合格线"),
                y_title=t("lots passed", "合格票数占比"), current_label=t("mark in use", "当前合格线"),
                title=t("By-lot pass rate as the mark moves", "按票合格率随合格线变化")), theme=None, width="stretch")
        with right:
            st.altair_chart(charts.trend(charts.wide_to_long(ins[("month",)].wide(), ["month"], ins_labels),
                                         x="month", series="definition", unit="share",
                                         title=t("Pass rate by month", "月度验货合格率")), theme=None, width="stretch")
        components.download(ins[("supplier",)].wide(), t("Pass rate per supplier (CSV)", "各供应商合格率 (CSV)"),
                            "inspection_pass_rate_per_supplier.csv", "suppliers_dl_inspection")

# ---------------------------------------------------------------------------------------------- preferred share
@st.fragment
def preferred_section() -> None:
    c1, c2 = st.columns([3, 2])
    with c1:
        tiers = widgets.param_input(PREFERRED.param("tiers"), "suppliers_tiers")
    with c2:
        rating = PREFERRED.param("min_rating")
        min_rating = float(st.slider(tl(rating.label), 0, 100, int(rating.default), key="suppliers_min_rating",
                                     help=tl(rating.help)))
    pref_params = {"tiers": tiers, "min_rating": min_rating}
    pref_labels = _labels(PREFERRED)
    with components.guarded(tl(PREFERRED.name)):
        pref = state.derive("suppliers_preferred", lambda d, p: sup.compare_groupings(
            d, "preferred_supplier_share", ((), ("month",)), **dict(p)), _key(pref_params))
        components.definition_cards(pref[()], references=False)
        components.notes(pref[()])
        st.altair_chart(charts.trend(charts.wide_to_long(pref[("month",)].wide(), ["month"], pref_labels),
                                     x="month", series="definition", unit="share",
                                     title=t("Preferred share by month of order", "按下单月份的优质供应商采购占比")),
                        theme=None, width="stretch")
        breakdown = state.derive("suppliers_breakdown", lambda d, p: sup.preferred_breakdown(d, **dict(p)),
                                 _key(pref_params))
        components.table(breakdown, key="suppliers_breakdown_table", height=320)
        st.caption(t("Suppliers preferred under one definition but not the other are where the two readings "
                     "disagree (e.g. a brand with a low score).",
                     "在一种口径下算优质、另一种不算的供应商, 就是两种口径的分歧所在 (例如评分不高的品牌方)。"))
        components.download(breakdown, t("Suppliers (CSV)", "供应商明细 (CSV)"), "preferred_supplier_breakdown.csv",
                            "suppliers_dl_breakdown")


if components.kpi_available(OTIF, ds):
    otif_section()
st.subheader(t("Inspection pass rate: by quantity or by delivery lot", "验货合格率: 按数量还是按交货票数"))
if components.kpi_available(INSPECTION, ds):
    inspection_section()
st.subheader(t("Preferred-supplier share: by tier or by rating", "优质供应商采购占比: 按层级还是按评分"))
if components.kpi_available(PREFERRED, ds):
    preferred_section()

from kpilab.app.sourcing_section import sourcing_section  # noqa: E402  (issue 12: sourcing KPIs)

sourcing_section()
