"""The sourcing part of the suppliers page: supplier lead time, purchase savings and the supplier
scorecard, each under its rival definitions. Widgets from the registry → one cached library call
(``kpilab.kpis.sourcing.overview`` through ``state.derive``) → charts (``kpilab.charts.sourcing``
and the shared trend chart, drawn through ``components.chart``)."""

from __future__ import annotations

import streamlit as st

from kpilab import charts
from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import sourcing as sourcing_charts
from kpilab.kpis import sourcing

LEAD, SAVINGS, SCORECARD = sourcing.SUPPLIER_LEAD_TIME, sourcing.PURCHASE_SAVINGS, sourcing.SUPPLIER_SCORECARD


def _labels(kpi) -> dict[str, str]:
    return {d.id: tl(d.name) for d in kpi.definitions}


def _references(kpi, definition_id: str) -> list[tuple[float, str]]:
    return [(r.value, tl(r.label)) for r in kpi.definition(definition_id).references]


def _trend(cmp, kpi, definitions, unit: str, title: str, references=()) -> None:
    wide = cmp.wide()[["month", *definitions]]
    components.chart(charts.trend, charts.wide_to_long(wide, ["month"], _labels(kpi)), x="month",
                     series="definition", unit=unit, title=title, references=list(references))


@st.fragment
def sourcing_section() -> None:
    """Lead time, savings and scorecard on the session's dataset (each only when the data feeds it)."""
    ds = state.dataset()
    st.header(t("Sourcing: lead time, savings and the supplier scorecard", "采购寻源: 交货周期、降本与供应商评分卡"))
    st.caption(t("The sourcing team's OKRs (cut supplier lead time by 20 %, sourcing cost by 10 %, keep the supplier "
                 "scorecard at 90 or above) each have rival definitions: what counts as 'lead time', the reference a "
                 "saving is measured against, whether a strong component may cover a weak one.",
                 "采购团队的 OKR (交货周期缩短 20 %、采购成本降低 10 %、供应商评分卡保持 90 分以上) 各有多种口径: "
                 "什么算'交货周期'、降本相对什么参照价、强项能否弥补弱项。"))
    ok = {k.id: components.kpi_available(k, ds) for k in (LEAD, SAVINGS, SCORECARD)}
    if not any(ok.values()):
        return
    c1, c2, c3, c4 = st.columns(4)
    params = {}
    with c1:
        params["baseline_months"] = widgets.param_input(SAVINGS.param("baseline_months"), "sourcing_baseline_months")
    for col, name in zip((c2, c3, c4), sourcing.WEIGHTS):
        with col:
            params[name] = widgets.param_input(SCORECARD.param(name), f"sourcing_{name}")
    with st.expander(t("Scorecard OTIF window and baseline start", "评分卡 OTIF 窗口与基线期开始")):
        params |= widgets.param_inputs(SCORECARD, "sourcing", names=("early_days", "late_days", "line_fill"), columns=3)
        params["baseline_start"] = widgets.param_input(SAVINGS.param("baseline_start"), "sourcing_baseline_start")
    if sum(params[w] for w in sourcing.WEIGHTS) <= 0:
        st.warning(t("Give at least one scorecard component a weight above 0.", "请至少给评分卡的一个分项设置大于 0 的权重。"))
        return
    with components.guarded(t("Sourcing KPIs", "采购寻源指标")):
        key = tuple(sorted(params.items()))
        view = state.derive("sourcing_overview", lambda d, p: sourcing.overview(d, **dict(p)), key)
        if ok[LEAD.id]:
            _lead_time(view)
        if ok[SAVINGS.id]:
            _savings(view)
        if ok[SCORECARD.id]:
            _scorecard(view)


def _lead_time(view) -> None:
    st.subheader(t("Supplier lead time: first or full receipt, mean or tail", "供应商交货周期: 首批还是到齐, 平均还是长尾"))
    cmp = view.views[(LEAD.id, ())]
    components.definition_cards(cmp)
    components.notes(cmp)
    days = ["mean_first_receipt", "mean_full_receipt", "p90_first_receipt"]
    _trend(view.views[(LEAD.id, ("month",))], LEAD, days, "days",
           t("Lead time by order month (days)", "按下单月份的交货周期 (天)"))


def _savings(view) -> None:
    st.subheader(t("Purchase savings: against which price?", "采购降本: 相对哪个价格?"))
    cmp = view.views[(SAVINGS.id, ())]
    components.definition_cards(cmp)
    components.notes(cmp)
    _trend(view.views[(SAVINGS.id, ("month",))], SAVINGS, [d.id for d in SAVINGS.definitions], "share",
           t("Savings by order month", "按下单月份的降本率"), _references(SAVINGS, "vs_baseline"))


def _scorecard(view) -> None:
    st.subheader(t("Supplier scorecard: weighted or weakest link", "供应商评分卡: 加权还是最弱项"))
    cmp = view.views[(SCORECARD.id, ())]
    components.definition_cards(cmp)
    components.notes(view.views[(SCORECARD.id, ("supplier", sourcing.QUARTER))])
    cells = view.scorecard_cells
    if cells.empty:
        st.info(t("No supplier-quarter has data for the scorecard.", "没有可计算评分卡的供应商-季度。"))
        return
    names = _labels(SCORECARD)
    score = st.radio(t("Score shown", "显示的得分"), list(names), horizontal=True, key="sourcing_score",
                     format_func=names.get)
    components.chart(sourcing_charts.scorecard_grid, cells, score=score, score_label=names[score],
                     supplier_title=t("Supplier", "供应商"), quarter_title=t("Quarter", "季度"),
                     title=t("Score by supplier and quarter (outlined: below 90)", "按供应商 × 季度的得分 (描边: 低于 90)"))
    quarters = sorted(cells[sourcing.QUARTER].unique())
    quarter = st.selectbox(t("Quarter", "季度"), quarters, index=len(quarters) - 1, key="sourcing_quarter")
    labels = {"otif": t("OTIF by line", "按行 OTIF"), "inspection": t("Inspection pass (qty)", "验货合格率 (数量)"),
              "on_time": t("On time", "准时到货"), "weighted": names["weighted"], "weakest_link": names["weakest_link"]}
    chosen = cells[cells[sourcing.QUARTER] == quarter]
    components.chart(sourcing_charts.scorecard_components, chosen, labels=labels, supplier_title=t("Supplier", "供应商"),
                     title=t(f"Components and scores, {quarter}", f"{quarter} 各分项与得分"),
                     target_label=t("score 90 (article)", "得分 90 (文章)"))
    st.caption(t("A supplier whose weighted score is high while its weakest link is low is covering a weak "
                 "dimension with strong ones: the two definitions disagree exactly there.",
                 "加权得分高而最弱项低的供应商, 是用强项掩盖了弱项: 两种口径恰好在这里产生分歧。"))
    components.table(cells, key="sourcing_scorecard_table", height=300)
    components.download(cells, t("Scorecard (CSV)", "评分卡 (CSV)"), "supplier_scorecard.csv", "sourcing_dl_scorecard")
