"""OKR Workshop: objectives with key results whose baselines come from the team's own data; a target
(translated when the definition changes), an owner and a deadline; obvious mistakes flagged;
the sheet exported to Excel, CSV and Markdown, read back, and tracked against a newer dataset.
Widgets → cached library calls (kpilab.okr, kpilab.lab) → charts (kpilab.charts.lab).

The sheet lives in the URL (compact encoded form) while it is small, so a link reopens it."""

import datetime as dt
import math
from dataclasses import replace

import pandas as pd
import streamlit as st

from kpilab import deck, lab, okr
from kpilab.app import components, state, widgets
from kpilab.app.i18n import lang, t, tl
from kpilab.charts import lab as lab_charts
from kpilab.engine import missing_inputs
from kpilab.formatting import format_value
from kpilab.kpis import REGISTRY
from kpilab.registry import KpiError

SHEET = "workshop_sheet"
STATUS = {"achieved": t("achieved", "已达成"), "on the way": t("on the way", "推进中"),
          "going backwards": t("going backwards", "倒退"), "off target": t("off target", "未达标"),
          "no data": t("no data", "无数据")}
METHODS = {"auto": t("auto", "自动"), "pooled": t("pooled over the months (Σ num / Σ den)", "月份合并计算 (Σ分子/Σ分母)"),
           "mean": t("mean of the monthly values", "月度数值的平均"), "last": t("last month of the range", "区间最后一个月")}


def runner(kpi_id, definitions, by, params):
    return state.compare(kpi_id, definitions, by, **params)


def _sheet() -> okr.OkrSheet:
    return st.session_state.setdefault(SHEET, okr.OkrSheet())


def _set_sheet(sheet: okr.OkrSheet, sync_title: bool = False) -> None:
    """Keep the sheet; ``sync_title`` shows its title in the title box on the next run."""
    st.session_state[SHEET] = sheet
    if sync_title:
        st.session_state["ws_title_sync"] = True


def _read_url() -> None:
    text = st.query_params.get("sheet")
    if text and text != st.session_state.get("workshop_url_seen"):
        st.session_state["workshop_url_seen"] = text
        try:
            _set_sheet(okr.decode_sheet(text), sync_title=True)
        except KpiError as exc:
            st.warning(t(f"The sheet in the link could not be read: {exc}", f"链接中的 OKR 表无法读取: {exc}"))


def _write_url(sheet: okr.OkrSheet) -> bool:
    """Put the sheet in the URL; False when it is too big for a link."""
    text = okr.encode_sheet(sheet) if sheet.objectives else None
    if text:
        if st.query_params.get("sheet") != text:
            st.query_params["sheet"] = text
        st.session_state["workshop_url_seen"] = text
        return True
    if "sheet" in st.query_params:
        del st.query_params["sheet"]
    return not sheet.objectives


def _prefill() -> None:
    """A variant sent from the Definition Lab becomes the key-result form's starting point."""
    text = st.session_state.pop("workshop_prefill", None)
    if not text:
        return
    try:
        v = lab.Variant.from_text(text)
    except KpiError:
        return
    st.session_state["ws_kpi"] = v.kpi_id
    st.session_state[f"ws_{v.kpi_id}_def"] = v.definition_id
    for name in v.definition.params:
        param = v.kpi.param(name)
        value = v.resolved_params[name]
        if param.kind == "list" and param.choices:
            canon = {c.lower(): c for c in param.choices}
            value = [canon.get(str(x).lower(), x) for x in value]
        elif param.kind == "list":
            value = ",".join(value)
        st.session_state[f"ws_{v.kpi_id}_{name}"] = value
    st.session_state["ws_label"] = v.label


def _number(label: str, unit: str, value, key: str, help_text: str | None = None):
    """A number typed in display units (percent for shares), returned in the library's units."""
    scale = lab.display_scale(unit)
    shown = None if value is None or (isinstance(value, float) and not math.isfinite(value)) else round(value * scale, 2)
    typed = st.number_input(label + (" (%)" if scale == 100 else ""), value=shown, key=key, help=help_text,
                            format="%.2f")
    return None if typed is None else typed / scale


def _use_target(key: str, value: float, unit: str) -> None:
    st.session_state[key] = round(value * lab.display_scale(unit), 2)


def _template_section() -> None:
    """A team template (sourcing, backorders, S&OP): its key results with baselines from this dataset
    and suggested targets, editable, then added to the sheet; a key result the dataset cannot feed
    says what is missing."""
    global sheet
    with st.expander(t("Start from a team template", "从团队模板开始")):
        tid = st.selectbox(t("Team", "团队"), list(okr.TEMPLATES), key="ws_template",
                           format_func=lambda i: tl(okr.TEMPLATES[i].name))
        template = okr.TEMPLATES[tid]
        st.markdown(f"**{t('Objective', '目标')}:** {tl(template.objective)}")
        st.caption(t("Source: ", "来源: ") + tl(template.source))
        with components.guarded(tl(template.name)):
            rows = okr.template_rows(ds, tid, runner=runner, lang=lang())
            targets = {}
            for i, row in enumerate(rows):
                kr = row.template
                if row.missing:
                    st.info(f"{tl(kr.wording)}: {row.missing}")
                    continue
                unit = row.variant.unit
                c1, c2, c3 = st.columns([3, 1, 1])
                with c1:
                    st.markdown(f"**{tl(kr.wording)}** — {row.variant.kpi.name(lang())} · {row.variant.describe(lang())}")
                    st.caption(tl(kr.how))
                with c2:
                    st.metric(t("Baseline", "基线"), format_value(row.baseline, unit),
                              help=f"{row.baseline_from}…{row.baseline_to}")
                with c3:
                    targets[i] = _number(t("Target", "目标"), unit, row.target if math.isfinite(row.target) else None,
                                         f"ws_tpl_{tid}_{i}")
            usable = [i for i, row in enumerate(rows) if not row.missing]
            if usable and st.button(t("Add these key results to the sheet", "将这些关键结果加入 OKR 表"),
                                    key=f"ws_tpl_add_{tid}"):
                if any(targets[i] is None for i in usable):
                    st.warning(t("Type a target for every key result first.", "请先为每个关键结果填写目标值。"))
                else:
                    sheet = okr.apply_template(sheet, tid, rows, targets, lang=lang())
                    if not sheet.source:
                        sheet = replace(sheet, source=f"{ds.name} · {ds.fingerprint}")
                    _set_sheet(sheet)
                    st.toast(t("Template added", "已添加模板"))


st.title(t("OKR Workshop — targets from your own data", "OKR 工作坊 — 用自己的数据定目标"))
st.caption(t("Objectives with key results: each key result is a KPI under an agreed definition, with a baseline "
             "computed from this dataset, a target, an owner and a deadline. Export the sheet, and bring it back "
             "next quarter to see the progress.",
             "目标与关键结果: 每个关键结果是一个约定口径下的指标, 基线由当前数据计算, 再加上目标、负责人与截止日期。"
             "导出 OKR 表, 下个季度带回来看进度。"))
ds = state.dataset()
_read_url()
_prefill()
sheet = _sheet()

if st.session_state.pop("ws_title_sync", False) or "ws_title" not in st.session_state:
    st.session_state["ws_title"] = sheet.title
title = st.text_input(t("Sheet title", "表名"), key="ws_title",
                      placeholder=t("e.g. Supply chain OKRs, Q1", "例如: 供应链 Q1 OKR"))
if title != sheet.title:
    sheet = replace(sheet, title=title)
    _set_sheet(sheet)

build, track = st.tabs([t("Build the sheet", "制定 OKR"), t("Track progress", "跟踪进度")])

# ------------------------------------------------------------------------------------ build
with build:
    _template_section()
    st.subheader(t("Add a key result", "添加关键结果"))
    objectives = [o.title for o in sheet.objectives]
    objective = st.text_input(t("Objective", "目标 (Objective)"), key="ws_objective",
                              placeholder=t("e.g. Keep the shelf full without more stock", "例如: 不加库存也保证在架"),
                              help=t("Key results go under the objective of this title: "
                                     + (", ".join(objectives) if objectives else "none yet"),
                                     "关键结果归入同名目标: " + ("、".join(objectives) if objectives else "暂无")))
    kpi_ids = list(REGISTRY)
    usable = [k for k in kpi_ids if not missing_inputs(REGISTRY[k], ds)]
    if st.session_state.get("ws_kpi") not in kpi_ids:
        st.session_state.pop("ws_kpi", None)
    k1, k2 = st.columns(2)
    with k1:
        kpi_id = st.selectbox(t("KPI", "指标"), usable + [k for k in kpi_ids if k not in usable], key="ws_kpi",
                              format_func=lambda k: tl(REGISTRY[k].name) + ("" if k in usable else t(" (no data)", " (无数据)")))
    kpi = REGISTRY[kpi_id]
    ids = [d.id for d in kpi.definitions]
    if st.session_state.get(f"ws_{kpi.id}_def") not in ids:
        st.session_state.pop(f"ws_{kpi.id}_def", None)
    with k2:
        definition_id = st.selectbox(t("Definition", "定义 (口径)"), ids, key=f"ws_{kpi.id}_def",
                                     format_func=lambda d: tl(kpi.definition(d).name))
    definition = kpi.definition(definition_id)
    st.caption(f"`{definition.formula}` — {tl(definition.says)}")
    params = widgets.param_inputs(kpi, f"ws_{kpi.id}", names=definition.params, columns=4)
    label = st.text_input(t("Variant label (optional)", "口径名称 (可选)"), key="ws_label")

    if components.kpi_available(kpi, ds):
        with components.guarded(tl(kpi.name)):
            variant = lab.Variant(kpi.id, definition_id, params, label)
            unit = variant.unit
            months = okr.months_with_data(ds, variant, runner)
            if not months:
                raise KpiError(t("this variant has no month with data on this dataset", "该口径在当前数据上没有有数据的月份"))
            mkey = f"ws_{kpi.id}_months"
            if mkey in st.session_state and not set(st.session_state[mkey]) <= set(months):
                st.session_state.pop(mkey)
            b1, b2 = st.columns([3, 2])
            with b1:
                lo, hi = st.select_slider(t("Baseline months", "基线月份"), months, key=mkey,
                                          value=(months[max(0, len(months) - 3)], months[-1]))
            with b2:
                method = st.selectbox(t("Baseline over the months", "基线计算方式"), list(METHODS), key="ws_method",
                                      format_func=METHODS.get)
            baseline = okr.period_value(ds, variant, lo, hi, method, runner)
            c1, c2, c3 = st.columns(3)
            with c1:
                st.metric(t("Baseline", "基线"), format_value(baseline, unit),
                          help=t(f"{lo}…{hi}, {METHODS[okr.resolve_method(variant, method)]}",
                                 f"{lo}…{hi}, {METHODS[okr.resolve_method(variant, method)]}"))
                arrow = {"higher": t("higher is better", "越高越好"), "lower": t("lower is better", "越低越好"),
                         "target": t("closest to its reference is best", "越接近参考水平越好")}[variant.direction]
                st.caption(arrow + "".join(f" · {format_value(r.value, unit)} {tl(r.label)}"
                                           for r in definition.references))
            target_key = f"ws_target_{kpi.id}_{definition_id}"
            with c2:
                suggested = okr.suggest_target(variant, baseline)
                target = _number(t("Target", "目标"), unit, suggested if math.isfinite(suggested) else None, target_key)
            with c3:
                owner = st.text_input(t("Owner", "负责人"), key="ws_owner")
                deadline = st.date_input(t("Deadline", "截止日期"), value=dt.date.today() + dt.timedelta(days=90),
                                         key="ws_deadline")
            others = [d for d in ids if d != definition_id]
            if others:
                with st.expander(t("The target was agreed under another definition? Translate it",
                                   "目标是在另一个口径下定的? 换算一下")):
                    e1, e2 = st.columns(2)
                    with e1:
                        from_id = st.selectbox(t("Agreed under", "原口径"), others, key=f"ws_{kpi.id}_from",
                                               format_func=lambda d: tl(kpi.definition(d).name))
                    source = lab.Variant(kpi.id, from_id, {k: v for k, v in params.items()
                                                          if k in kpi.definition(from_id).params})
                    ref = next(iter(source.definition.references), None)
                    with e2:
                        level = _number(t("Level under that definition", "原口径下的目标"), source.unit,
                                        ref.value if ref else baseline, f"ws_{kpi.id}_{from_id}_level")
                    group = lab.default_pairing_group(kpi, ds)
                    pairs = lab.paired_values(ds, source, variant, group, runner=runner)
                    relation = state.derive("lab_relation", lambda d, p, m: lab.fit_relation(p, method=m), pairs,
                                            "theil_sen")
                    if level is not None:
                        tr = lab.translate_target(relation, level, lang=lang())
                        if tr.ok:
                            st.markdown(t(f"**{format_value(level, source.unit)}** under {tl(source.definition.name)} ≈ "
                                          f"**{format_value(tr.estimate, unit)}** under {tl(definition.name)} "
                                          f"({tr.level:.0%} band {format_value(tr.low, unit)} – {format_value(tr.high, unit)}).",
                                          f"{tl(source.definition.name)} 下的 **{format_value(level, source.unit)}** ≈ "
                                          f"{tl(definition.name)} 下的 **{format_value(tr.estimate, unit)}** "
                                          f"({tr.level:.0%} 区间 {format_value(tr.low, unit)} – {format_value(tr.high, unit)})。"))
                            st.button(t("Use it as the target", "用作目标"), key="ws_use_translation",
                                      on_click=_use_target, args=(target_key, tr.estimate, unit))
                        (st.caption if tr.ok and not tr.extrapolated else st.warning)(tr.message)
            wording = st.text_input(t("Key result in your words (optional)", "关键结果的表述 (可选)"), key="ws_wording")
            if st.button(t("Add key result", "添加关键结果"), key="ws_add", type="primary"):
                if not objective.strip():
                    st.warning(t("Give the objective a title first.", "请先填写目标的标题。"))
                elif target is None:
                    st.warning(t("Type a target first.", "请先填写目标值。"))
                else:
                    kr = okr.KeyResult(variant, target, baseline, lo, hi, method, owner.strip(), deadline, wording.strip())
                    sheet = sheet.add(objective, kr)
                    if not sheet.source:
                        sheet = replace(sheet, source=f"{ds.name} · {ds.fingerprint}")
                    _set_sheet(sheet)
                    st.toast(t("Key result added", "已添加关键结果"))

    st.divider()
    st.subheader(t("The sheet", "OKR 表"))
    if not sheet.objectives:
        st.info(t("No objective yet: add a key result above, or import a sheet in 'Track progress'.",
                  "还没有目标: 在上面添加关键结果, 或在'跟踪进度'中导入 OKR 表。"))
    else:
        for i, o in enumerate(sheet.objectives, start=1):
            st.markdown(f"**O{i}. {o.title}**" if o.title else f"**O{i}.**")
            rows = [{t("KR", "KR"): f"{i}.{j}", t("Key result", "关键结果"): kr.headline(lang()),
                     t("Baseline", "基线"): format_value(kr.baseline, kr.variant.unit),
                     t("Period", "期间"): f"{kr.baseline_from}…{kr.baseline_to}" if kr.baseline_from else "",
                     t("Target", "目标"): format_value(kr.target, kr.variant.unit),
                     t("Owner", "负责人"): kr.owner, t("Deadline", "截止"): kr.deadline.isoformat() if kr.deadline else "",
                     t("Variant", "口径"): kr.variant.text}
                    for j, kr in enumerate(o.key_results, start=1)]
            if rows:
                components.table(pd.DataFrame(rows), key=f"ws_table_{i}")
        issues = okr.validate(sheet)
        flagged = [x for x in issues if x.severity in ("error", "warning")]
        if flagged:
            st.warning(t("Check these:", "请检查:") + "\n\n" + "\n".join(
                f"- {'✖' if x.severity == 'error' else '⚠'} {x.message(lang())}" for x in flagged))
        for x in issues:
            if x.severity == "info":
                st.caption(f"ℹ️ {x.message(lang())}")
        choices = [(i, j) for i, j, _ in sheet.key_results] + [(i, None) for i, o in enumerate(sheet.objectives)
                                                                 if not o.key_results]
        r1, r2 = st.columns([3, 1])
        with r1:
            pick = st.selectbox(t("Remove", "删除"), range(len(choices)), key="ws_remove_pick",
                                format_func=lambda n: (f"KR {choices[n][0] + 1}.{choices[n][1] + 1}"
                                                       if choices[n][1] is not None else
                                                       f"O{choices[n][0] + 1} {sheet.objectives[choices[n][0]].title}"))
        with r2:
            st.write("")
            if st.button(t("Remove", "删除"), key="ws_remove"):
                i, j = choices[pick]
                sheet = sheet.remove(i, j)
                sheet = replace(sheet, objectives=tuple(o for o in sheet.objectives if o.key_results or o.title))
                _set_sheet(sheet)
                st.rerun()
        d1, d2, d3 = st.columns(3)
        name = "okr_sheet"
        with d1:
            st.download_button(t("⬇ Excel (.xlsx)", "⬇ Excel (.xlsx)"), lambda: okr.to_xlsx(sheet, lang()),
                               f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               key="ws_dl_xlsx", on_click="ignore")
        with d2:
            st.download_button(t("⬇ CSV", "⬇ CSV"), lambda: okr.to_csv(sheet, lang()), f"{name}.csv", "text/csv",
                               key="ws_dl_csv", on_click="ignore")
        with d3:
            st.download_button(t("⬇ Markdown", "⬇ Markdown"), lambda: okr.to_markdown(sheet, lang()).encode("utf-8"),
                               f"{name}.md", "text/markdown", key="ws_dl_md", on_click="ignore")
        with st.expander(t("Preview (Markdown)", "预览 (Markdown)")):
            st.code(okr.to_markdown(sheet, lang()), language="markdown")
        if sheet.key_results and st.toggle(
                t("Prepare the workshop deck (PowerPoint and HTML report)", "生成工作坊演示文稿 (PowerPoint 与 HTML 报告)"),
                key="ws_deck_on", help=t("Per KPI of the sheet: its definitions side by side, the chart, where they "
                                         "disagree, the agreed definition and target; then the sheet. Drawing the "
                                         "charts takes a few seconds.",
                                         "按 OKR 表中的每个指标: 各口径并排、图表、分歧、约定的口径与目标; 最后是 OKR 表。"
                                         "绘制图表需要几秒钟。")):
            with components.guarded(t("Workshop deck", "工作坊演示文稿")):
                files = state.derive("deck_workshop", lambda d, s, lg: deck.render(
                    deck.workshop_deck(d, s, runner=runner, lang=lg)), sheet, lang())
                p1, p2 = st.columns(2)
                with p1:
                    st.download_button(t("⬇ PowerPoint (.pptx)", "⬇ PowerPoint (.pptx)"), files.pptx, "okr_workshop.pptx",
                                       deck.PPTX_MIME, key="ws_dl_pptx", on_click="ignore")
                with p2:
                    st.download_button(t("⬇ HTML report", "⬇ HTML 报告"), files.html, "okr_workshop.html", "text/html",
                                       key="ws_dl_html", on_click="ignore")
    if not _write_url(sheet):
        st.caption(t("The sheet is too big to travel in the link: share the Excel file instead.",
                     "OKR 表太大, 无法放进链接: 请分享 Excel 文件。"))
    elif sheet.objectives:
        st.caption(t("The address bar holds this sheet: copy it to share.", "地址栏保存了这张 OKR 表, 复制即可分享。"))

# ------------------------------------------------------------------------------------ track
with track:
    st.caption(t("Bring back an exported sheet (or use the one above) and see where each key result stands on the "
                 "current dataset: 0% is the baseline, 100% the target.",
                 "导入导出过的 OKR 表 (或使用上面的表), 查看每个关键结果在当前数据上的进展: 0% 为基线, 100% 为目标。"))
    upload = st.file_uploader(t("OKR sheet (.xlsx or .csv)", "OKR 表 (.xlsx 或 .csv)"), type=["xlsx", "csv"],
                              key="ws_upload")
    tracked = sheet
    if upload is not None:
        try:
            tracked, problems = okr.read_sheet(upload.name, upload.getvalue())
            for problem in problems:
                st.warning(problem)
            st.caption(t(f"{len(tracked.key_results)} key results read from {upload.name}.",
                         f"从 {upload.name} 读取了 {len(tracked.key_results)} 个关键结果。"))
            if st.button(t("Load it into the editor", "载入编辑区"), key="ws_load"):
                _set_sheet(tracked, sync_title=True)
                st.rerun()
        except KpiError as exc:
            st.warning(str(exc))
            tracked = okr.OkrSheet()
    if not tracked.key_results:
        st.info(t("No key result to track yet.", "还没有可跟踪的关键结果。"))
    else:
        with components.guarded(t("Progress", "进度")):
            mode = st.radio(t("Current value over", "当前值的期间"), ["last", "range"], horizontal=True, key="ws_track_mode",
                            format_func={"last": t("each key result's last month with data", "各关键结果最近一个有数据的月份"),
                                         "range": t("chosen months", "指定月份")}.get)
            lo = hi = None
            if mode == "range":
                months = sorted({m for _, _, kr in tracked.key_results for m in okr.months_with_data(ds, kr.variant, runner)})
                if months:
                    lo, hi = st.select_slider(t("Months", "月份"), months, value=(months[-1], months[-1]), key="ws_track_months")
            prog = okr.progress(tracked, ds, lo, hi, runner=runner, lang=lang())
            st.altair_chart(lab_charts.okr_progress(prog, status_labels=STATUS,
                                                    title=t("Baseline → current → target", "基线 → 当前 → 目标")),
                            theme=None, width="stretch")
            components.table(okr.progress_table(prog, lang(), STATUS), key="ws_progress_table")
            components.download(prog, t("Progress (CSV)", "进度 (CSV)"), "okr_progress.csv", "ws_dl_progress")
