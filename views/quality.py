"""Quality: the quality refund rate (and the authenticity-doubt rate) under both denominators, how
mature recent months are, the keyword sweep, and red/yellow lines judged on evidence.
Widgets → cached library calls → charts. Customer comments are shown as plain text only."""

import narwhals.stable.v2 as nw
import pandas as pd
import streamlit as st

from kpilab.app import components, state, widgets
from kpilab.app.i18n import t, tl
from kpilab.charts import quality as quality_charts
from kpilab.engine import grouping_columns
from kpilab.formatting import format_value
from kpilab.kpis import get_kpi
from kpilab.kpis import quality as q

KPI = get_kpi("return_rate")
DEF_LABELS = {d.id: tl(d.name) for d in KPI.definitions}
SHORT = {"same_month": t("Same month", "当月法"), "attributed": t("Attributed", "回溯法")}

st.title(t("Quality — how often do items come back for quality?", "质量 — 品质退款率有多高?"))
st.caption(t("The same refunds over two denominators. Same month (this month's refunds ÷ this month's orders) is "
             "timely but mixes purchase months; attributed (refunds ÷ orders of the month they were bought) is fair "
             "to items and suppliers but recent months are not complete yet. Look at anomalies with the first, "
             "assign responsibility with the second.",
             "同一批退款, 两种分母。当月法 (当月退款 ÷ 当月支付) 及时, 但混合了不同购买月份; 回溯法 (退款 ÷ 购买当月的"
             "订单) 对单品和供应商更公平, 但近期月份尚不完整。用当月数据看异常, 用回溯数据定责。"))
ds = state.dataset()


def _params_key(params: dict) -> tuple:
    return tuple(sorted(params.items()))


def _pct(value) -> str:
    """A return rate with two decimals (rates are small: 0.54%, not 0.5%)."""
    return "—" if value is None or value != value else f"{value:.2%}"


def _column(frame, name: str) -> list:
    return nw.from_native(frame, eager_only=True)[name].to_list()


if components.kpi_available(KPI, ds):
    # ------------------------------------------------------------------ parameters
    presets = {"quality": t("Quality refund rate (品退率)", "品质退款率 (品退率)"),
               "authenticity": t("Authenticity-doubt rate (正品质疑率)", "正品质疑率"),
               "custom": t("Other reason codes", "其他退款原因")}
    measure = st.segmented_control(t("What to measure", "衡量什么"), list(presets), default="quality",
                                   format_func=presets.get, key="quality_measure", required=True)
    if measure == "custom":
        reasons = widgets.param_input(KPI.param("reasons"), "quality_reasons")
    else:
        reasons = (measure or "quality",)
    middle, right = st.columns([3, 5])
    with middle:
        keywords = widgets.param_input(KPI.param("keywords"), "quality_keywords")
    with right:   # each preset keeps its own list; authenticity starts from words of doubt, not of defects
        keyword_list = widgets.param_input(
            KPI.param("keyword_list"), f"quality_keyword_list_{measure}",
            default=q.AUTHENTICITY_KEYWORDS if measure == "authenticity" else None)
    params = {"reasons": reasons, "keywords": keywords, "keyword_list": keyword_list}
    params |= widgets.class_params("quality")

    with components.guarded(tl(KPI.name)):
        overall = state.compare("return_rate", **params)
        monthly = state.compare("return_rate", by=("month",), **params)

        summary = q.monthly_summary(monthly.results["same_month"].table, monthly.results["attributed"].table)
        rows = nw.from_native(summary, eager_only=True).rows(named=True)
        if rows:
            latest = rows[-1]
            mature = [r for r in rows if r["mature"]]
            cols = st.columns(3)
            cols[0].metric(t(f"Same month, {latest['month']}", f"当月法, {latest['month']}"), _pct(latest["same_month"]),
                           help=f"{latest['same_month_returned']:,} / {latest['same_month_paid']:,}")
            cols[1].metric(t(f"Attributed, {latest['month']}", f"回溯法, {latest['month']}"), _pct(latest["attributed"]),
                           delta=t(f"{format_value(latest['maturity'], 'share')} mature",
                                   f"成熟度 {format_value(latest['maturity'], 'share')}"), delta_color="off")
            if mature:
                cols[2].metric(t(f"Attributed, {mature[-1]['month']} (mature)", f"回溯法, {mature[-1]['month']} (已成熟)"),
                               _pct(mature[-1]["attributed"]),
                               help=f"{mature[-1]['attributed_returned']:,} / {mature[-1]['attributed_paid']:,}")

        st.subheader(t("Both definitions over the whole period", "两种定义 (整个期间)"))
        components.definition_cards(overall, references=False)
        st.caption(" · ".join(
            f"{SHORT[def_id]}: {_pct(result.value)} = {_column(result.table, 'returned')[0]:,} / "
            f"{_column(result.table, 'paid')[0]:,}" for def_id, result in overall.results.items()) + "  —  " +
            t("pooled over every month both count the same refunds over the same orders; they part ways month by "
              "month, below.", "全部月份合计时两者统计的是同一批退款和订单, 区别体现在逐月数据上 (见下)。"))
        components.notes(overall)

        # ------------------------------------------------------------------ monthly + maturity
        st.subheader(t("Monthly rate under both denominators", "两种分母下的月度退款率"))
        lags = state.derive("quality_lags", lambda d, p: q.refund_lag_distribution(d, **dict(p)), _params_key(params))
        chart_col, curve_col = st.columns([3, 2])
        with chart_col:
            st.altair_chart(quality_charts.rate_by_month(
                monthly.results["same_month"].table, monthly.results["attributed"].table, labels=SHORT,
                maturity_title=t("maturity", "成熟度"), immature_title=t("not yet mature", "尚未成熟"),
                y_title=t("return rate", "退款率"),
                title=t("Grey band: attributed month not yet mature", "灰色: 回溯月份尚未成熟")),
                theme=None, width="stretch")
        with curve_col:
            st.altair_chart(quality_charts.maturity_curve(
                lags.curve, horizon_days=lags.horizon_days, x_title=t("days since purchase", "购买后天数"),
                y_title=t("returns visible", "已可见退款占比"),
                horizon_label=t("horizon (days)", "观察期 (天)"),
                title=t("Maturity curve", "成熟度曲线")), theme=None, width="stretch")
        st.caption(t(f"Maturity of a paid month = the expected share of its eventual returns already visible on "
                     f"{lags.last_date}, from the refund lags of cohorts paid on or before {lags.mature_until} "
                     f"(older than the {lags.horizon_days}-day horizon). Below {q.IMMATURE_BELOW:.0%} a month is "
                     "marked not yet mature: its attributed rate will still rise.",
                     f"回溯月份的成熟度 = 截至 {lags.last_date} 其最终退款中预计已可见的比例, 依据 {lags.mature_until} 及之前"
                     f"支付的订单 (超过 {lags.horizon_days} 天观察期) 的退款时滞分布。低于 {q.IMMATURE_BELOW:.0%} 的月份"
                     "标为尚未成熟: 其回溯退款率还会上升。"))
        dl1, dl2 = st.columns(2)
        with dl1:
            components.download(summary, t("Both definitions by month, with maturity (CSV)", "两种定义月度 (含成熟度, CSV)"),
                                "return_rate_monthly.csv", "quality_dl_monthly")
        with dl2:
            components.download(lags.curve, t("Maturity curve (CSV)", "成熟度曲线 (CSV)"),
                                "return_rate_maturity_curve.csv", "quality_dl_curve")

        # ------------------------------------------------------------------ refund lags
        st.subheader(t("How long after purchase do refunds come?", "退款在购买后多久发生?"))
        st.altair_chart(quality_charts.lag_distribution(
            lags.table, x_title=t("days from purchase to refund", "购买到退款的天数"), y_title=t("refunds", "退款数"),
            cumulative_title=t("cumulative share", "累计占比"),
            title=t(f"Refund lags of mature cohorts ({lags.mature_refunds:,} of {lags.counted:,} counted refunds)",
                    f"成熟批次的退款时滞 (已计入退款 {lags.counted:,} 笔中的 {lags.mature_refunds:,} 笔)")),
            theme=None, width="stretch")
        components.download(lags.table, t("Refund-lag distribution (CSV)", "退款时滞分布 (CSV)"),
                            "return_rate_refund_lags.csv", "quality_dl_lags")

    # ------------------------------------------------------------------ keyword sweep
    st.subheader(t("Keyword sweep: refunds the reason codes missed", "关键词分析: 退款原因没有覆盖到的质量问题"))
    st.caption(t("Customers pick the first reason for convenience, or are steered to another one; a comment that "
                 "names a quality problem counts as a quality refund when the keyword sweep is on. Edit the keyword "
                 "list above (English and Chinese, comma separated); bare 'quality' or '质量' would also catch praise.",
                 "消费者可能图方便选第一个原因, 或被引导选了别的原因; 打开关键词分析后, 留言提到质量问题的退款视同品质退款。"
                 "可在上方编辑关键词 (中英文, 逗号分隔); 单用 'quality' 或 '质量' 会把好评也算进来。"))
    with components.guarded(t("Keyword sweep", "关键词分析")):
        sweep_def = st.radio(t("Rate shown", "显示的退款率"), [d.id for d in KPI.definitions], index=1,
                             format_func=DEF_LABELS.get, horizontal=True, key="quality_sweep_definition")
        kw_params = {k: v for k, v in params.items() if k != "keywords"}
        sweep = state.derive("quality_sweep", lambda d, defn, p: q.keyword_reclassification(
            d, definition=defn, by=("month",), **dict(p)), sweep_def, _params_key(kw_params))
        scen = {"reasons_only": t("reason codes only", "仅按退款原因"),
                "with_keywords": t("with keywords", "加关键词")}
        rates = nw.from_native(sweep.overall, eager_only=True).rows(named=True)
        cols = st.columns(3)
        for col, row in zip(cols, rates):
            col.metric(scen[row["scenario"]], _pct(row["value"]),
                       help=f"{row['returned']:,} / {row['paid']:,}")
        pulled = sweep.pulled_in
        cols[2].metric(t("Refunds pulled in", "新纳入的退款"), f"{len(pulled):,}")
        chart_col, kw_col = st.columns([1, 1])
        with chart_col:
            st.altair_chart(quality_charts.keyword_effect(
                sweep.rates, labels=scen, y_title=t("return rate", "退款率"),
                title=t(f"{SHORT[sweep_def]}: before and after the keyword sweep",
                        f"{SHORT[sweep_def]}: 关键词分析前后")), theme=None, width="stretch")
        with kw_col:
            components.table(sweep.keywords, key="quality_keyword_table")
            st.caption(t("matched_rows: refund rows whose comment contains the keyword; pulled_in_rows: of those, "
                         "refunds whose sub-order no reason code counted.",
                         "matched_rows: 留言含该关键词的退款行数; pulled_in_rows: 其中退款原因没有计入的子订单。"))
        st.markdown(t("**Comments the keywords pull in** (newest first)", "**关键词新纳入的留言** (最新在前)"))
        st.dataframe(nw.from_native(pulled, eager_only=True).to_pandas(), hide_index=True, height=300,
                     key="quality_pulled_table", column_config={
                         "paid_date": st.column_config.DateColumn(format="YYYY-MM-DD"),
                         "refund_date": st.column_config.DateColumn(format="YYYY-MM-DD"),
                         "comment": st.column_config.TextColumn(width="large")})
        dl1, dl2 = st.columns(2)
        with dl1:
            components.download(pulled, t("Pulled-in refunds (CSV)", "新纳入的退款 (CSV)"),
                                "return_rate_keyword_pulled_in.csv", "quality_dl_pulled")
        with dl2:
            components.download(sweep.rates, t("Before/after by month (CSV)", "前后对比 (按月, CSV)"),
                                "return_rate_keyword_effect.csv", "quality_dl_sweep")

    # ------------------------------------------------------------------ red and yellow lines
    st.subheader(t("Red and yellow lines, judged on evidence", "红线与黄线: 有证据才亮灯"))
    st.caption(t("Set a yellow line (improvement action) and a red line (take the item off sale) per group. A group is "
                 "flagged only when its whole confidence interval is above the line, so a category with twelve orders "
                 "is not flagged on noise; 'watch' means above a line but not proven yet.",
                 "为每个分组设置黄线 (需改善) 与红线 (下架)。只有置信区间整体高于线时才亮灯, 单量很少的类目不会因偶然波动被"
                 "误判; '观察' 表示超线但证据不足。"))
    with components.guarded(t("Red and yellow lines", "红线与黄线")):
        options = [c for c in grouping_columns(KPI, ds) if c != "month"]
        c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
        with c1:
            group = st.selectbox(t("Group", "分组"), options,
                                 index=options.index("category") if "category" in options else 0, key="quality_group")
        with c2:
            flag_def = st.radio(t("Definition", "定义"), [d.id for d in KPI.definitions], index=1,
                                format_func=SHORT.get, key="quality_flag_definition")
        with c3:
            confidence = st.select_slider(t("Confidence", "置信水平"), [0.8, 0.9, 0.95, 0.99], value=0.95,
                                          format_func=lambda v: f"{v:.0%}", key="quality_confidence")
            method = st.selectbox(t("Interval", "区间方法"), ["wilson", "clopper-pearson"], key="quality_ci_method")
        with c4:
            yellow = st.number_input(t("Yellow line (%)", "黄线 (%)"), 0.0, 100.0, 1.0, 0.1, key="quality_yellow",
                                     format="%.2f")
            red = st.number_input(t("Red line (%)", "红线 (%)"), 0.0, 100.0, 2.0, 0.1, key="quality_red",
                                  format="%.2f")
        months = _column(state.compare("return_rate", by=("month",), **params).results[flag_def].table, "month")
        span = st.select_slider(t("Months", "月份"), months, value=(months[0], months[-1]), key="quality_months") \
            if len(months) > 1 else tuple(months)
        chosen = [m for m in months if span and span[0] <= m <= span[-1]]
        rates_by_group, group_notes = state.derive(
            "quality_groups", lambda d, defn, g, ms, p: q.group_rates(d, defn, g, ms, **dict(p)),
            flag_def, group, tuple(chosen), _params_key(params))
        groups = _column(rates_by_group, group)
        st.markdown(t("**Lines per group** (blank = the default lines above; in %)", "**各分组的线** (留空 = 上方默认值; 单位 %)"))
        editor = st.data_editor(
            pd.DataFrame({group: groups, "yellow_pct": [None] * len(groups),
                          "red_pct": [None] * len(groups)}).astype({"yellow_pct": "float", "red_pct": "float"}),
            hide_index=True, disabled=[group], key=f"quality_lines_{group}", height=min(38 * (len(groups) + 1), 320),
            column_config={"yellow_pct": st.column_config.NumberColumn(t("yellow %", "黄线 %"), min_value=0.0,
                                                                        max_value=100.0, format="%.2f"),
                           "red_pct": st.column_config.NumberColumn(t("red %", "红线 %"), min_value=0.0,
                                                                     max_value=100.0, format="%.2f")})
        lines = q.lines_from_table(editor, group, yellow=yellow / 100, red=red / 100)
        flags = q.flag_rates(rates_by_group, yellow=yellow / 100, red=red / 100, group=group, lines=lines,
                             confidence=confidence, method=method)
        flag_labels = {k: tl(v) for k, v in q.FLAGS.items()}
        st.altair_chart(quality_charts.group_flags(
            flags, group, flag_labels=flag_labels, x_title=t("return rate", "退款率"),
            yellow_title=t("yellow line", "黄线"), red_title=t("red line", "红线"),
            title=t(f"{SHORT[flag_def]} by {group}: rate, {confidence:.0%} interval and lines",
                    f"{SHORT[flag_def]} 按 {group}: 退款率、{confidence:.0%} 置信区间与红黄线")),
            theme=None, width="stretch")
        for note in group_notes:
            st.caption(f"ℹ️ {components.note_text(note)}")
        shown = nw.from_native(flags, eager_only=True).to_pandas()
        shown["flag"] = shown["flag"].map(flag_labels)
        pct = st.column_config.NumberColumn(format="percent")
        st.dataframe(shown, hide_index=True, key="quality_flags_table",
                     column_config={c: pct for c in ("value", "ci_low", "ci_high", "yellow_line", "red_line",
                                                     "maturity")})
        components.download(flags, t("Flags per group (CSV)", "分组亮灯结果 (CSV)"), "return_rate_flags.csv",
                            "quality_dl_flags")

    with st.expander(t("What each definition says, and when to prefer it", "每个定义的含义与适用场景")):
        for d in KPI.definitions:
            st.markdown(f"**{tl(d.name)}** — `{d.formula}`  \n{tl(d.says)}  \n"
                        f"*{t('Prefer when', '适用')}:* {tl(d.prefer_when)}")
        st.markdown(t("A sub-order counts once, at its earliest qualifying refund. Grouped by reason, each reason's "
                      "refunds are divided by all sub-orders paid, so the reasons add up to the total rate.",
                      "一个子订单只计一次, 按最早一笔符合条件的退款计。按退款原因分组时, 各原因的退款都除以全部支付子订单, "
                      "各原因之和等于总退款率。"))
