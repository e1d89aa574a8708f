"""Definition Lab: pick any KPI and two to four variants (a definition plus parameter values); see
them side by side, where they disagree, how sensitive they are, what a target under one means
under another, the KPI tree, and prototype a new definition in SQL. Everything comes from the
registry; widgets → cached library calls (kpilab.lab) → charts (kpilab.charts.lab).

The comparison (KPI, variants, grouping) lives in the URL, so a link reopens it."""

import math

import streamlit as st

from kpilab import deck, lab, sandbox
from kpilab.app import components, state, widgets
from kpilab.app.i18n import lang, t, tl
from kpilab.charts import lab as lab_charts
from kpilab.engine import grouping_columns
from kpilab.formatting import format_value
from kpilab.kpis import REGISTRY
from kpilab.registry import KpiError

URL_KEYS = ("kpi", "v", "by")
EXAMPLE_SQL = """-- One row per entity with the grouping columns and numerator / denominator.
-- Tables: sales, inventory, plans, skus, orders, returns, purchase_orders, receipts, …
-- Example: share of stocked cell-days with sellable units (a cell = sku × warehouse).
SELECT strftime(date, '%Y-%m') AS month,
       sku,
       count(*) FILTER (WHERE sellable_units > 0) AS numerator,
       count(*) AS denominator
FROM inventory
GROUP BY ALL"""


def runner(kpi_id, definitions, by, params):
    """Every variant goes through the app's cache (one entry per dataset, variant and grouping)."""
    return state.compare(kpi_id, definitions, by, **params)


def _widget_value(param, value):
    """A parameter value in the form its widget keeps in session state."""
    if param.kind == "list" and param.choices:
        canon = {c.lower(): c for c in param.choices}
        return [canon.get(str(v).lower(), v) for v in value]
    if param.kind == "list":
        return ",".join(value)
    return value


def _apply(saved: lab.LabState) -> None:
    """Put a LabState (from a link, or from the last visit) into the widgets' session state."""
    kpi = REGISTRY[saved.kpi_id]
    st.session_state["lab_kpi"] = kpi.id
    if saved.variants:
        st.session_state["lab_n"] = max(2, min(4, len(saved.variants)))
    for i, v in enumerate(saved.variants[:4]):
        st.session_state[f"lab_{kpi.id}_v{i}_def"] = v.definition_id
        shown = v.definition.params
        resolved = v.resolved_params
        for name in shown:
            st.session_state[f"lab_{kpi.id}_v{i}_{name}"] = _widget_value(kpi.param(name), resolved[name])
        st.session_state[f"lab_{kpi.id}_v{i}_extra"] = {k: val for k, val in v.params.items() if k not in shown}
        st.session_state[f"lab_{kpi.id}_v{i}_label"] = v.label
    if saved.by and saved.by[0] in grouping_columns(kpi, ds):
        st.session_state[f"lab_{kpi.id}_by"] = saved.by[0]


def _read_url() -> None:
    query = {k: st.query_params.get_all(k) for k in URL_KEYS if k in st.query_params}
    signature = repr(sorted(query.items()))
    if signature == st.session_state.get("lab_url_seen"):
        return
    st.session_state["lab_url_seen"] = signature
    decoded, problems = lab.decode_lab_state(query)
    for problem in problems:
        st.warning(t(f"Part of the link could not be read: {problem}", f"链接中有部分内容无法读取: {problem}"))
    if decoded is not None:
        _apply(decoded)
    elif "lab_saved" in st.session_state and "lab_kpi" not in st.session_state:
        _apply(st.session_state["lab_saved"])


def _write_url(current: lab.LabState) -> None:
    encoded = {k: v if isinstance(v, list) else [v] for k, v in lab.encode_lab_state(current).items()}
    for key in URL_KEYS:
        if key in encoded:
            if st.query_params.get_all(key) != encoded[key]:
                st.query_params[key] = encoded[key]
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state["lab_url_seen"] = repr(sorted(encoded.items()))
    st.session_state["lab_saved"] = current


def show_chart(builder, *args, **kwargs) -> None:
    """Draw a kpilab.charts.lab chart. Its Vega-Lite spec is cached on the inputs (state.derive):
    building Altair charts is most of a rerun's time when the numbers are already cached."""
    spec = state.derive(f"lab_chart_{builder.__name__}", lambda _d, a, k: builder(*a, **dict(k)).to_dict(),
                        args, tuple(sorted(kwargs.items())))
    st.vega_lite_chart(spec, theme=None, width="stretch")


def _level_input(label: str, unit: str, value, key: str, help_text: str | None = None):
    """A number typed in display units (percent for shares), returned in the library's units."""
    scale = lab.display_scale(unit)
    shown = None if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value) * scale
    typed = st.number_input(label + (" (%)" if scale == 100 else ""), value=shown, key=key, help=help_text,
                            format="%.2f")
    return None if typed is None else typed / scale


st.title(t("Definition Lab — one KPI, several definitions, the same data", "定义实验室 — 同一指标, 多种口径, 同一份数据"))
st.caption(t("Pick a KPI and two to four variants (a definition plus its parameters). See how they rank the same "
             "groups differently, how sensitive they are, and what a target under one means under another. "
             "The address bar holds this comparison: copy it to share.",
             "选择一个指标和 2–4 个口径 (定义 + 参数), 看它们如何给同一批分组排出不同名次、对参数有多敏感, "
             "以及一个口径下的目标在另一个口径下意味着什么。地址栏保存了当前对比, 复制即可分享。"))
ds = state.dataset()
_read_url()

top = st.columns([3, 1, 2])
with top[0]:
    kpi_ids = list(REGISTRY)
    if st.session_state.get("lab_kpi") not in kpi_ids:
        st.session_state.pop("lab_kpi", None)
    kpi_id = st.selectbox(t("KPI", "指标"), kpi_ids, key="lab_kpi",
                          format_func=lambda k: f"{tl(REGISTRY[k].name)} · {k}")
kpi = REGISTRY[kpi_id]
with top[1]:
    n = st.radio(t("Variants", "口径数"), [2, 3, 4], horizontal=True, key="lab_n")
with top[2]:
    options = list(grouping_columns(kpi, ds))
    default_group = lab.default_pairing_group(kpi, ds) or "month"
    if st.session_state.get(f"lab_{kpi.id}_by") not in options:
        st.session_state.pop(f"lab_{kpi.id}_by", None)
    group = st.selectbox(t("Compare per", "分组对比"), options, index=options.index(default_group),
                         key=f"lab_{kpi.id}_by")
st.caption(tl(kpi.description))

if not components.kpi_available(kpi, ds):
    st.stop()

variants: list[lab.Variant] = []
ids = [d.id for d in kpi.definitions]
cols = st.columns(n)
for i, col in enumerate(cols):
    with col, st.container(border=True):
        def_key = f"lab_{kpi.id}_v{i}_def"
        if st.session_state.get(def_key) not in ids:
            st.session_state.pop(def_key, None)
        definition_id = st.selectbox(t(f"Variant {i + 1}: definition", f"口径 {i + 1}: 定义"), ids,
                                     index=i % len(ids), key=def_key,
                                     format_func=lambda d: tl(kpi.definition(d).name))
        definition = kpi.definition(definition_id)
        params = dict(st.session_state.get(f"lab_{kpi.id}_v{i}_extra", {}))
        inner = st.columns(2 if n <= 3 and len(definition.params) > 1 else 1)
        for j, name in enumerate(definition.params):
            with inner[j % len(inner)]:
                params[name] = widgets.param_input(kpi.param(name), f"lab_{kpi.id}_v{i}_{name}")
        label = st.text_input(t("Label (optional)", "名称 (可选)"), key=f"lab_{kpi.id}_v{i}_label",
                              placeholder=tl(definition.name))
        try:
            variants.append(lab.Variant(kpi.id, definition_id, params, label))
        except KpiError as exc:
            st.warning(str(exc))
if len(variants) < 2:
    st.stop()
_write_url(lab.LabState(kpi.id, tuple(variants), (group,)))
overall = grouped = None
with components.guarded(tl(kpi.name)):
    overall = lab.compare_variants(ds, variants, (), runner=runner, lang=lang())
    grouped = lab.compare_variants(ds, variants, (group,), runner=runner, lang=lang())
if grouped is None:
    st.stop()
values = overall.values()
units = grouped.units()            # a definition may have its own unit (cost per order is money)

tabs = st.tabs([t("Side by side", "并排对比"), t("Disagreement", "分歧"), t("Sensitivity", "敏感性"),
                t("Target translator", "目标换算"), t("KPI tree", "指标树"), t("Prototype in SQL", "SQL 原型")])

# ------------------------------------------------------------------------------------ side by side
with tabs[0], components.guarded(tl(kpi.name)):
    cards = st.columns(len(variants))
    for col, v, label in zip(cards, variants, overall.labels):
        with col, st.container(border=True):
            ref = next(iter(v.definition.references), None)
            st.metric(label, format_value(values[label], v.unit), help=v.definition.formula)
            st.caption(f"`{v.definition.formula}`" + ("" if ref is None else
                       f"  \n{t('Reference', '参考水平')}: {format_value(ref.value, v.unit)} — {tl(ref.label)}"))
            st.markdown(tl(v.definition.says))
    for note in dict.fromkeys(overall.notes + grouped.notes):
        st.caption(f"ℹ️ {components.note_text(note)}")
    for unit, labels in grouped.unit_groups():      # one chart per unit when the definitions' units differ
        refs = [(r.value, f"{label}: {tl(r.label)}") for v, label in zip(variants, grouped.labels)
                if label in labels for r in v.definition.references[:1]]
        show_chart(lab_charts.variant_values, grouped.long(labels), group=group, unit=unit, labels=labels,
                   references=refs, title=t(f"{tl(kpi.name)} per {group}", f"{tl(kpi.name)} (按 {group})"))
    components.table(grouped.wide(), key="lab_table_grouped")
    components.download(grouped.wide(), t("Values per group (CSV)", "分组数值 (CSV)"), f"{kpi.id}_variants_{group}.csv",
                        "lab_dl_grouped")
    if st.session_state.get("lab_to_okr", 0) >= len(variants):
        st.session_state.pop("lab_to_okr")
    pick, go = st.columns([3, 1])
    with pick:
        chosen = st.selectbox(t("Take a variant to the OKR workshop", "把一个口径带到 OKR 工作坊"),
                              range(len(variants)), format_func=lambda i: grouped.labels[i], key="lab_to_okr")
    with go:
        st.write("")
        if st.button(t("Open the workshop", "打开工作坊"), key="lab_go_okr"):
            st.session_state["workshop_prefill"] = variants[chosen].text
            st.switch_page("views/workshop.py")
    if st.toggle(t("Prepare the deck of this comparison (PowerPoint and HTML report)",
                   "生成本次对比的演示文稿 (PowerPoint 与 HTML 报告)"), key="lab_deck_on",
                 help=t("The variants side by side, the chart, where they disagree, and the variant chosen above "
                        "with its key result from the OKR sheet (or a proposed one). Drawing the charts takes a few "
                        "seconds.",
                        "各口径并排、图表、分歧, 以及上面选中的口径和它在 OKR 表中的关键结果 (没有时给出建议)。"
                        "绘制图表需要几秒钟。")):
        with components.guarded(t("Deck", "演示文稿")):
            files = state.derive("deck_lab", lambda d, v, g, a, s, lg: deck.render(
                deck.lab_deck(d, v, g, agreed=a, sheet=s, runner=runner, lang=lg)),
                tuple(variants), group, chosen, st.session_state.get("workshop_sheet"), lang())
            p1, p2 = st.columns(2)
            with p1:
                st.download_button(t("⬇ PowerPoint (.pptx)", "⬇ PowerPoint (.pptx)"), files.pptx,
                                   f"{kpi.id}_definitions.pptx", deck.PPTX_MIME, key="lab_dl_pptx", on_click="ignore")
            with p2:
                st.download_button(t("⬇ HTML report", "⬇ HTML 报告"), files.html, f"{kpi.id}_definitions.html",
                                   "text/html", key="lab_dl_html", on_click="ignore")

# ------------------------------------------------------------------------------------ disagreement
with tabs[1], components.guarded(t("Disagreement", "分歧")):
    st.caption(t("Rank 1 is the best group under each variant. Spearman ρ and Kendall τ compare two rankings: "
                 "1 = same order, 0 = unrelated, −1 = reversed.",
                 "排名 1 为各口径下最好的分组。Spearman ρ 与 Kendall τ 比较两个排名: 1 = 顺序相同, 0 = 无关, −1 = 完全相反。"))
    corr = lab.rank_correlation(grouped)
    mcols = st.columns(max(len(corr), 1))
    for col, row in zip(mcols, corr.itertuples()):
        with col:
            rho = "—" if math.isnan(row.spearman) else f"{row.spearman:.2f}"
            tau = "—" if math.isnan(row.kendall) else f"{row.kendall:.2f}"
            st.metric(f"{row.a} ↔ {row.b}", f"ρ {rho} · τ {tau}", help=t(f"{row.n} groups", f"{row.n} 个分组"))
    for note in lab.rank_notes(grouped, lang()):
        st.caption(f"ℹ️ {note}")
    top_n = st.slider(t("Groups in the slope chart (largest rank changes)", "斜率图中的分组数 (名次变化最大)"),
                      3, 40, 12, key="lab_top")
    show_chart(lab_charts.rank_slope, lab.movers(grouped, top_n), list(grouped.labels),
               rank_title=t("rank (1 = best)", "排名 (1 = 最好)"), spread_title=t("rank change", "名次变化"),
               title=t("Who moves when the definition changes", "换口径后谁的名次变了"))
    with st.expander(t("Verdict levels (blank = compare terciles instead)", "判定水平 (留空则按三分位比较)")):
        refs_by_label = lab.reference_levels(grouped)
        levels = {}
        lcols = st.columns(len(variants))
        for i, (col, label) in enumerate(zip(lcols, grouped.labels)):
            with col:
                levels[label] = _level_input(label, units[label], refs_by_label[label], f"lab_{kpi.id}_level{i}")
    table = lab.disagreement(grouped, levels)
    differ = int(table["verdicts_differ"].sum())
    scheme = table["scheme"].iloc[0] if len(table) else "tercile"
    st.markdown(t(f"**{differ} of {len(table)} groups** get different verdicts "
                  f"({'meets / misses the level' if scheme == 'level' else 'top / middle / bottom third'}).",
                  f"**{len(table)} 个分组中有 {differ} 个** 在不同口径下判定不同 "
                  f"({'是否达到水平' if scheme == 'level' else '前/中/后三分之一'})。"))
    components.table(table.drop(columns=["scheme"] + (["group"] if len(grouped.by) == 1 else [])),
                     key="lab_table_disagreement")
    components.download(table, t("Ranks and verdicts (CSV)", "排名与判定 (CSV)"), f"{kpi.id}_disagreement.csv",
                        "lab_dl_disagreement")
    components.table(corr, key="lab_table_corr")

# ------------------------------------------------------------------------------------ sensitivity
with tabs[2], components.guarded(t("Sensitivity", "敏感性")):
    numeric = lab.numeric_params(kpi)
    if not numeric:
        st.info(t(f"{tl(kpi.name)} has no numeric parameter to sweep.", f"{tl(kpi.name)} 没有可扫描的数值参数。"))
    else:
        s1, s2, s3 = st.columns([2, 3, 1])
        with s1:
            pname = st.selectbox(t("Parameter", "参数"), [p.name for p in numeric], key=f"lab_{kpi.id}_sweep_param",
                                 format_func=lambda p: f"{tl(kpi.param(p).label)} ({p})")
        param = kpi.param(pname)
        grid = lab.sweep_values(param, steps=9)
        low, high, step = lab.sweep_range(param)
        cast = int if param.kind == "int" else float
        with s2:
            lo, hi = st.slider(t("Range", "范围"), min_value=cast(low), max_value=cast(high), step=cast(step),
                               value=(cast(max(grid[0], low)), cast(min(grid[-1], high))),
                               key=f"lab_{kpi.id}_sweep_range")
        with s3:
            steps = st.number_input(t("Steps", "步数"), 2, 15, 7, key="lab_sweep_steps")
        run = st.toggle(t("Run the sweep", "运行扫描"), key="lab_sweep_on",
                        help=t("Each step computes every variant once (then it is cached).", "每一步都要计算每个口径一次 (之后会缓存)。"))
        if run:
            values_swept = lab.sweep_values(param, lo, hi, steps)
            with components.progress(t("Sweeping", "正在扫描")) as report:
                sweep = lab.sweep(ds, variants, pname, values_swept, runner=runner, lang=lang(), progress=report)
            current = st.session_state.get(f"lab_{kpi.id}_v0_{pname}", param.default)
            for unit, labels in grouped.unit_groups():
                show_chart(lab_charts.sensitivity, lab.select_variants(sweep, labels), param=tl(param.label), unit=unit,
                           labels=labels, current=current,
                           title=t(f"{tl(kpi.name)} as {pname} moves", f"{tl(kpi.name)} 随 {pname} 变化"))
            st.caption(t("A dashed line is a variant whose definition does not read this parameter.",
                         "虚线表示该口径的定义不使用这个参数。"))
            components.download(sweep, t("Sweep (CSV)", "扫描结果 (CSV)"), f"{kpi.id}_sweep_{pname}.csv", "lab_dl_sweep")

# ------------------------------------------------------------------------------------ translator
with tabs[3], components.guarded(t("Target translator", "目标换算")):
    st.caption(t("A target agreed under one variant, read under another: fitted on this data's paired values per "
                 "month × group. It says so when the data is too thin to tell.",
                 "在一个口径下定好的目标, 换到另一个口径下是多少: 用本数据按 月×分组 的成对数值拟合。数据不足时会直接说明。"))
    pair_group = group if group != "month" else lab.default_pairing_group(kpi, ds)
    for key in ("lab_tr_from", "lab_tr_to", "lab_to_okr"):
        if st.session_state.get(key, 0) >= len(variants):
            st.session_state.pop(key)
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
    with c1:
        ix = st.selectbox(t("Target set under", "目标所在口径"), range(len(variants)), key="lab_tr_from",
                          format_func=lambda i: grouped.labels[i])
    with c2:
        iy = st.selectbox(t("Read under", "换算到口径"), range(len(variants)), index=1, key="lab_tr_to",
                          format_func=lambda i: grouped.labels[i])
    vx, vy = variants[ix], variants[iy]
    x_unit, y_unit = vx.unit, vy.unit
    pairs = lab.paired_values(ds, vx, vy, pair_group, runner=runner)
    with c3:
        target = _level_input(t("Target", "目标"), x_unit, lab.default_target(vx, pairs), f"lab_{kpi.id}_tr_target_{ix}")
    with c4:
        method = st.radio(t("Fit", "拟合"), ["theil_sen", "ols"], key="lab_tr_method",
                          format_func={"theil_sen": "Theil–Sen", "ols": "OLS"}.get)
    with components.progress(t("Bootstrapping the band: resamples", "正在自助抽样计算区间: 重抽样")) as report:
        relation = state.derive("lab_relation", lambda d, p, m, progress: lab.fit_relation(p, method=m, progress=progress),
                                pairs, method, progress=report)
    if target is None:
        st.info(t("Type a target.", "请输入目标。"))
    else:
        tr = lab.translate_target(relation, target, lang=lang())
        m1, m2, m3 = st.columns(3)
        with m1:
            st.metric(t(f"{grouped.labels[ix]} target", f"{grouped.labels[ix]} 目标"), format_value(target, x_unit))
        with m2:
            st.metric(t(f"≈ under {grouped.labels[iy]}", f"≈ {grouped.labels[iy]} 下"), format_value(tr.estimate, y_unit),
                      delta=(f"{format_value(tr.low, y_unit)} – {format_value(tr.high, y_unit)} "
                             f"({tr.level:.0%} {t('band', '区间')})") if tr.ok else None, delta_color="off")
        with m3:
            st.metric(t("Paired values · r", "成对数值 · r"), f"{tr.n} · {'—' if math.isnan(tr.r) else f'{tr.r:.2f}'}")
        (st.info if tr.ok and not tr.extrapolated else st.warning)(tr.message)
        if tr.ok:
            st.caption(t(f"A single month × {pair_group or 'month'} at the target scatters between "
                         f"{format_value(tr.spread_low, y_unit)} and {format_value(tr.spread_high, y_unit)}.",
                         f"单个 月×{pair_group or '月'} 在该目标下的波动范围: {format_value(tr.spread_low, y_unit)} – "
                         f"{format_value(tr.spread_high, y_unit)}。"))
        show_chart(lab_charts.translator, pairs, tr, x_title=grouped.labels[ix], y_title=grouped.labels[iy],
                   unit=x_unit, y_unit=y_unit, target_label=t("target", "目标"), estimate_label=t("equivalent", "等价水平"),
                   title=t(f"Paired values per month × {pair_group or 'month'}", f"按 月×{pair_group or '月'} 的成对数值"))
        components.download(pairs, t("Paired values (CSV)", "成对数值 (CSV)"), f"{kpi.id}_pairs.csv", "lab_dl_pairs")

# ------------------------------------------------------------------------------------ KPI tree
with tabs[4], components.guarded(t("KPI tree", "指标树")):
    st.caption(t("Set the outcome you want as level 1, then the inputs that support it as level 2, split along who "
                 "does what (the article: 'the art of setting KPIs'). Each box shows its current value.",
                 "考核什么 KPI, 先看最终结果目标, 设为一级指标; 再看支撑它达成的输入 (building block), 据此按组织分工设计二级指标。"
                 "每个方框显示当前数值。"))
    choices = {kpi.id: variants[0]}
    with st.expander(t("Definitions used in the tree", "树中使用的定义")):
        tcols = st.columns(3)
        for i, tree_kpi in enumerate(k for k in lab.tree_kpis() if k in REGISTRY and k != kpi.id):
            other = REGISTRY[tree_kpi]
            with tcols[i % 3]:
                did = st.selectbox(tl(other.name), [d.id for d in other.definitions], key=f"lab_tree_{tree_kpi}",
                                   format_func=lambda d, o=other: tl(o.definition(d).name))
                choices[tree_kpi] = lab.Variant(tree_kpi, did)
    nodes = lab.tree_nodes(ds, choices, runner=runner, lang=lang())
    show_chart(lab_charts.kpi_tree, nodes, focus=kpi.id)
    components.table(nodes[["level", "name", "definition", "text", "status", "reason", "why"]], key="lab_table_tree")

# ------------------------------------------------------------------------------------ SQL prototype
with tabs[5]:
    st.caption(t("Write a new metric as ONE SELECT over the loaded tables. It runs in DuckDB with file and network "
                 "access off, a row limit and a timeout. Return grouping columns (month, sku, …) and numerator / "
                 "denominator so it can be regrouped and drawn beside the built-in definitions.",
                 "用一条 SELECT 在已加载的表上写一个新指标。它在 DuckDB 中运行, 禁止文件与网络访问, 有行数上限与超时。"
                 "返回分组列 (month、sku …) 和 numerator / denominator, 即可重新分组并与内置定义并排显示。"))
    sql = st.text_area("SQL", EXAMPLE_SQL, height=220, key="lab_sql")
    q1, q2, q3 = st.columns([1, 1, 2])
    with q1:
        limit = st.number_input(t("Row limit", "行数上限"), 10, 1_000_000, 100_000, key="lab_sql_limit")
    with q2:
        timeout = st.number_input(t("Timeout (s)", "超时 (秒)"), 1, 120, 10, key="lab_sql_timeout")
    with q3:
        st.write("")
        if st.button(t("Run the SQL", "运行 SQL"), key="lab_sql_run", type="primary"):
            st.session_state["lab_sql_ran"] = sql
    ran = st.session_state.get("lab_sql_ran")
    if ran:
        result = state.derive("lab_sql", sandbox.run_on, ran, int(limit), float(timeout))
        if not result.ok:
            st.warning(t(f"The SQL did not run: {result.error}", f"SQL 未能运行: {result.error}"))
        else:
            st.caption(t(f"{len(result.frame):,} rows in {result.elapsed:.2f} s", f"{len(result.frame):,} 行, 用时 {result.elapsed:.2f} 秒")
                       + (t(" — cut at the row limit", " — 已在行数上限处截断") if result.truncated else ""))
            components.table(result.frame.head(200), key="lab_sql_rows")
            with components.guarded(t("SQL metric", "SQL 指标")):
                mine = sandbox.regroup_on(ds, result.frame, (group,))
                label = t("SQL prototype", "SQL 原型")
                unit, labels = grouped.unit_groups()[0]
                show_chart(lab_charts.variant_values, lab.add_series(grouped.long(labels), mine, label, (group,)),
                           group=group, unit=unit, labels=[*labels, label],
                           title=t(f"Your metric beside the built-in definitions, per {group}", f"你的指标与内置定义并排 (按 {group})"))
                components.download(mine, t("SQL metric per group (CSV)", "SQL 指标分组结果 (CSV)"),
                                    f"sql_metric_{group}.csv", "lab_dl_sql")
            d1, d2 = st.columns(2)
            with d1:
                def_id = st.text_input(t("Definition id", "定义 id"), "my_metric", key="lab_sql_id")
            with d2:
                def_name = st.text_input(t("Name", "名称"), "My metric", key="lab_sql_name")
            with components.guarded(t("Python stub", "Python 代码")):
                stub = sandbox.python_stub(ran, kpi.id, def_id, def_name)
                st.download_button(t("⬇ Python stub: register it as a definition", "⬇ Python 代码: 注册为新定义"),
                                   stub.encode("utf-8"), f"{def_id}.py", "text/x-python", key="lab_dl_stub",
                                   on_click="ignore")
                with st.expander(t("Show the stub", "查看代码")):
                    st.code(stub, language="python")
