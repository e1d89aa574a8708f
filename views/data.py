"""Your data: upload files, map columns onto the contract, read the validation report, see which
KPIs the dataset can feed, and switch the app to it."""

import pandas as pd
import streamlit as st

from kpilab.app import components, state
from kpilab.app.i18n import lang, t
from kpilab.contract import TABLES, render_markdown
from kpilab.mapping import (ColumnMapping, MappingError, WideSpec, load_preset, preset_names, save_preset,
                            suggest, user_presets_dir)
from kpilab.reading import DatasetReadError
from kpilab.registry import KpiError
from kpilab.server_data import ROOTS_VARIABLE
from kpilab.validation import DATE_FORMATS

st.title(t("Your data", "你的数据"))
st.markdown(t(
    "A dataset is one file per table (`sales.csv`, `inventory.xlsx`, …), one Excel workbook with a sheet per "
    "table, or a .zip of such files. Only the tables a KPI needs must be present. CSV in UTF-8, UTF-8 with BOM or "
    "GBK/GB18030 (Chinese Excel exports) is read; headers that differ from the contract are mapped below.",
    "数据集为每张表一个文件 (`sales.csv`, `inventory.xlsx` 等)、一个每表一页的 Excel 工作簿, 或这些文件的 .zip。"
    "只需提供所需 KPI 用到的表。支持 UTF-8、带 BOM 的 UTF-8 与 GBK/GB18030 (中文 Excel 导出) 编码的 CSV; "
    "与约定不同的表头可在下方映射。"))


def show_dataset(ds, key: str) -> None:
    """Validation report, KPI coverage and a preview of each table."""
    report = ds.report
    for note in ds.notes:
        st.caption(f"ℹ️ {components.note_text(note)}")
    if report is not None:
        if report.errors:
            st.error(t(f"{len(report.errors)} problems: the rows concerned are left out (counted below).",
                       f"{len(report.errors)} 个问题: 相关行已剔除 (见下方计数)。"))
        elif report.warnings:
            st.warning(t(f"{len(report.warnings)} warnings.", f"{len(report.warnings)} 个警告。"))
        else:
            st.success(t("No problems found.", "未发现问题。"))
        if report.problems:
            components.table(report.to_frame(lang()), key=f"{key}_report")
            components.download(report.to_frame(lang()), t("Validation report (CSV)", "校验报告 (CSV)"),
                                "validation_report.csv", f"{key}_dl_report")
        dropped = {k: v for k, v in report.rows_dropped.items() if v}
        if dropped or report.unusable:
            st.markdown(t("**Rows left out per table:** ", "**各表剔除行数:** ")
                        + ", ".join(f"{k}: {v}" for k, v in dropped.items())
                        + "".join(f"  \n⛔ {k}: {components.note_text(why)}"
                                  for k, why in report.unusable.items()))
    cov = state.coverage(ds, lang())
    st.markdown(t(f"**KPIs this dataset can feed: {int(cov['ok'].sum())} of {len(cov)}**",
                  f"**此数据集可计算的 KPI: {int(cov['ok'].sum())} / {len(cov)}**"))
    components.table(cov.rename(columns={"ok": t("ready", "可用"), "missing": t("missing", "缺少")}),
                     key=f"{key}_coverage")
    st.caption(t(f"Engine: {ds.engine} · sales grain: {ds.grain}", f"计算引擎: {ds.engine} · 销售粒度: {ds.grain}"))
    with st.expander(t("Preview the tables", "预览数据表")):
        for name in ds.tables:
            st.markdown(f"**{name}** — {ds.rows(name):,} {t('rows', '行')}")
            st.dataframe(ds.head(name), hide_index=True, width="stretch")


st.subheader(t("Upload", "上传"))
files = st.file_uploader(t("Data files", "数据文件"), type=["csv", "xlsx", "parquet", "zip"],
                         accept_multiple_files=True, key="data_files")
encoding = st.selectbox(t("CSV encoding", "CSV 编码"), ["auto", "utf-8", "utf-8-sig", "gb18030"],
                        key="data_encoding", help=t("auto tries UTF-8, then GB18030, then a detector.",
                                                    "auto 依次尝试 UTF-8、GB18030、自动检测。"))
encoding = None if encoding == "auto" else encoding

if files:
    uploads = tuple((f.name, f.getvalue()) for f in files)
    try:
        raw = state.read_upload(uploads, encoding)
    except (DatasetReadError, ValueError) as exc:
        st.error(str(exc))
        st.stop()
    for table_name, source in raw.sources.items():
        st.caption(f"{table_name} ← {source}")
    for note in raw.notes:
        st.caption(f"ℹ️ {components.note_text(note)}")

    st.subheader(t("Map your columns", "映射列名"))

    def reset_mapping_widgets() -> None:
        """A new starting mapping (preset or file) replaces what the selectboxes hold."""
        for widget in [k for k in st.session_state if str(k).startswith(("data_map_", "data_wide_"))]:
            del st.session_state[widget]

    presets = dict(preset_names())
    preset_labels = {"": t("headers (suggested)", "表头 (自动建议)"),
                     **{n: f"{n} ({t('bundled', '内置') if b else t('yours', '自建')})" for n, b in presets.items()}}
    start = st.selectbox(t("Start from", "起点"), list(preset_labels), key="data_preset",
                         on_change=reset_mapping_widgets, format_func=preset_labels.get,
                         help=t(f"Presets are named mappings: bundled ones for common exports, and yours, saved in "
                                f"{user_presets_dir()} (set KPILAB_MAPPINGS to change the folder).",
                                f"预设即命名的映射: 内置的常见导出格式, 以及你保存在 {user_presets_dir()} 的映射 "
                                "(设置 KPILAB_MAPPINGS 可更改文件夹)。"))
    saved = st.file_uploader(t("Reuse a saved mapping (JSON)", "复用已保存的映射 (JSON)"), type=["json"],
                             key="data_mapping_file", on_change=reset_mapping_widgets)
    try:
        if saved:
            base = ColumnMapping.from_json(saved.getvalue().decode("utf-8"))
        elif start:
            preset = load_preset(start)
            st.caption(f"ℹ️ {t(preset.description, preset.description_zh)}")
            base = preset.mapping
        else:
            base = suggest(raw)
    except (MappingError, UnicodeDecodeError) as exc:
        st.error(components.note_text(exc.args[0]) if isinstance(exc, MappingError) else
                 t(f"The mapping file is not UTF-8 text ({exc}).", f"映射文件不是 UTF-8 文本 ({exc})。"))
        base = suggest(raw)
    chosen: dict[str, dict[str, str]] = {}
    wide: dict[str, WideSpec] = {}
    for table_name, frame in raw.tables.items():
        if table_name not in TABLES:
            continue
        contract_cols = ["", *TABLES[table_name].column_names]
        current = base.tables.get(table_name, {})
        with st.expander(f"{table_name} — {len(frame.columns)} {t('columns', '列')}",
                         expanded=bool(set(frame.columns) - set(contract_cols))):
            headers = list(frame.columns)
            if table_name in ("plans", "sales"):
                spec = base.wide.get(table_name)
                if st.checkbox(t("Wide file: one column per month" + (" or horizon (M+1, lag 1)" if table_name ==
                                                                      "plans" else ""),
                                 "宽表: 每月一列" + (" 或每个提前期一列 (M+1、lag 1)" if table_name == "plans" else "")),
                               value=spec is not None, key=f"data_wide_{table_name}"):
                    spec = spec or WideSpec()
                    kinds = ["month", "horizon"] if table_name == "plans" else ["month"]
                    values = [c.name for c in TABLES[table_name].columns if c.dtype == "float" and c.name != "page_views"]
                    wcols = st.columns(3)
                    kind_labels = {"month": t("months (2024-03, 2024年3月)", "月份 (2024-03、2024年3月)"),
                                   "horizon": t("horizons (M+1, lag 1)", "提前期 (M+1、lag 1)")}
                    kind = wcols[0].selectbox(t("Columns are", "列表示"), kinds, key=f"data_wide_kind_{table_name}",
                                              index=kinds.index(spec.kind) if spec.kind in kinds else 0,
                                              format_func=kind_labels.get)
                    value = wcols[1].selectbox(t("Cells hold", "单元格为"), values, key=f"data_wide_value_{table_name}",
                                               index=values.index(spec.value) if spec.value in values else 0)
                    constants = {}
                    if table_name == "plans":
                        sources = {"": t("(from the file, or plan)", "(取自文件, 否则 plan)"),
                                   "plan": "plan", "forecast": "forecast"}
                        source = wcols[2].selectbox(
                            "source", list(sources), key=f"data_wide_source_{table_name}",
                            index=list(sources).index(spec.constants.get("source", "")), format_func=sources.get)
                        constants = {"source": source} if source else {}
                    wide[table_name] = WideSpec(kind, value, constants)
                    columns_of_kind = [h for h in headers if wide[table_name].wide_header(h) is not None]
                    headers = [h for h in headers if h not in columns_of_kind]
                    st.caption(t(f"{len(columns_of_kind)} {kind} columns become rows: ",
                                 f"{len(columns_of_kind)} 个{'月份' if kind == 'month' else '提前期'}列转为行: ")
                               + ", ".join(f"`{h}`" for h in columns_of_kind[:12])
                               + (" …" if len(columns_of_kind) > 12 else ""))
            column_labels = {c: c or t("(not used)", "(不使用)") for c in contract_cols}
            cols = st.columns(3)
            for i, header in enumerate(headers):
                default = current.get(header, header if header in contract_cols else "")
                with cols[i % 3]:
                    target = st.selectbox(header, contract_cols, index=contract_cols.index(default),
                                          key=f"data_map_{table_name}_{header}",
                                          format_func=column_labels.get)
                if target and target != header:
                    chosen.setdefault(table_name, {})[header] = target
    grains = {"auto": t("detect from the data", "根据数据识别"), "daily": t("daily rows", "日数据"),
              "monthly": t("monthly totals", "月度汇总")}
    grain = st.radio(t("Sales are", "销售数据为"), list(grains), format_func=grains.get, horizontal=True,
                     index=list(grains).index(base.grain or "auto"), key="data_grain",
                     help=t("Monthly totals (one row per SKU and month, warehouse optional) feed the planning "
                            "KPIs; KPIs that need daily sales say so.",
                            "月度汇总 (每个 SKU 每月一行, 仓库可省略) 可用于计划类 KPI; 需要日数据的 KPI 会提示。"))
    try:
        mapping = ColumnMapping(chosen, wide, None if grain == "auto" else grain)
        mapped = mapping.apply(raw)
    except MappingError as exc:
        st.error(components.note_text(exc.args[0]))
        st.stop()
    for table_name in wide:
        if table_name in mapped.tables:
            st.markdown(t(f"**{table_name} as rows** (preview)", f"**{table_name} 转为行** (预览)"))
            st.dataframe(mapped.tables[table_name].head(20), hide_index=True, width="stretch",
                         key=f"data_wide_preview_{table_name}")
    for note in mapped.notes[len(raw.notes):]:
        st.caption(f"ℹ️ {components.note_text(note)}")
    save_cols = st.columns([2, 1, 2], vertical_alignment="bottom")
    preset_name = save_cols[0].text_input(t("Save as a preset named", "保存为预设, 名称"), key="data_preset_name",
                                          placeholder=t("e.g. my ERP export", "例如 我的 ERP 导出"))

    def save_current(name: str, current: ColumnMapping) -> None:
        """Save before the rerun, so that the preset list below already holds the new name."""
        try:
            where = save_preset(name, current, overwrite=name.strip() == start and not presets.get(start))
            st.session_state["data_preset_message"] = ("success", t(
                f"Saved as preset {name.strip()!r} ({where}).", f"已保存为预设 {name.strip()!r} ({where})。"))
        except (MappingError, OSError) as exc:
            st.session_state["data_preset_message"] = ("error", components.note_text(exc.args[0]) if isinstance(
                exc, MappingError) else t(f"The preset cannot be written: {exc}", f"无法写入预设: {exc}"))

    save_cols[1].button(t("Save preset", "保存预设"), key="data_preset_save", disabled=not preset_name.strip(),
                        on_click=save_current, args=(preset_name, mapping))
    if "data_preset_message" in st.session_state:
        kind, message = st.session_state.pop("data_preset_message")
        (st.success if kind == "success" else st.error)(message)
    with save_cols[2]:
        st.download_button(t("⬇ Save this mapping (JSON)", "⬇ 保存此映射 (JSON)"), mapping.to_json().encode("utf-8"),
                           "kpilab_mapping.json", "application/json", key="data_dl_mapping", on_click="ignore")

    with st.expander(t("Date formats (only if a column is ambiguous)", "日期格式 (仅当某列有歧义时)")):
        formats = []
        for table_name in raw.tables:
            if table_name not in TABLES:
                continue
            for column in TABLES[table_name].columns:
                if column.dtype == "date":
                    fmt = st.selectbox(f"{table_name}.{column.name}", ["auto", *DATE_FORMATS],
                                       key=f"data_fmt_{table_name}_{column.name}")
                    if fmt != "auto":
                        formats.append((table_name, column.name, fmt))

    st.subheader(t("Validation", "校验"))
    with components.guarded(t("Validation", "校验")):
        with components.progress(t("Reading and validating:", "读取并校验:")) as report:
            candidate = state.load_upload(uploads, mapping.to_json(), encoding, tuple(formats), progress=report)
        show_dataset(candidate, "data_upload")
        if candidate.report.usable:
            st.button(t("Use this dataset", "使用此数据集"), type="primary", key="data_use",
                      on_click=state.register_upload, args=(candidate,))
            if st.session_state.get("data") == candidate.fingerprint:
                st.success(t("The whole app now uses this dataset.", "整个应用已切换到此数据集。"))
        else:
            st.error(t("No table of this dataset is usable; fix the problems above.",
                       "此数据集没有可用的表; 请修正上述问题。"))

st.subheader(t("A dataset on the server", "服务器上的数据集"))
st.markdown(t(
    "Too big to upload? Give the path of a folder of Parquet files (one per table) or a `.duckdb` file on the "
    "server. It is queried in place by DuckDB (out of core), never loaded whole. Only folders the administrator "
    f"allows (`{ROOTS_VARIABLE}`) can be opened.",
    "数据太大无法上传? 请填写服务器上的 Parquet 目录 (每表一个文件) 或 `.duckdb` 文件路径。DuckDB 直接在原处查询 "
    f"(超出内存也可), 不会整体载入。只能打开管理员允许的目录 (`{ROOTS_VARIABLE}`)。"))
server_cols = st.columns([3, 1], vertical_alignment="bottom")
server_path = server_cols[0].text_input(t("Path on the server", "服务器路径"), key="data_server_path",
                                        placeholder="/data/kpilab/2025")
server_engine = server_cols[1].selectbox(t("Engine", "计算引擎"), ["duckdb", "auto", "polars"], key="data_server_engine")
if server_path.strip():
    with components.guarded(t("A dataset on the server", "服务器上的数据集")):
        try:
            with components.progress(t("Opening:", "正在打开:")) as report:
                on_server = state.open_server_path(server_path, server_engine, progress=report)
        except KpiError as exc:
            st.error(components.note_text(exc.args[0]))
        else:
            show_dataset(on_server, "data_server")
            if on_server.report is None or on_server.report.usable:
                st.button(t("Use this dataset", "使用此数据集"), type="primary", key="data_server_use",
                          on_click=state.register_upload, args=(on_server,))

st.divider()
current = state.dataset()
st.subheader(t(f"Current dataset: {current.name}", f"当前数据集: {current.name}"))
show_dataset(current, "data_current")
st.caption(t("The data contract (docs/data-contract.md in the repository, generated from the code): ",
             "数据约定 (仓库中的 docs/data-contract.md, 由代码生成): ") + ", ".join(f"`{n}`" for n in TABLES))
with st.expander(t("Columns of every table", "各表列说明")):
    rows = [{"table": tn, "column": c.name, "type": c.dtype, "required": c.required,
             "default": "" if c.default is None else str(c.default), "meaning": c.meaning}
            for tn, tb in TABLES.items() for c in tb.columns]
    components.table(pd.DataFrame(rows), key="data_contract")
with st.expander(t("The data contract document (docs/data-contract.md)", "数据约定文档 (docs/data-contract.md, 英文)")):
    contract_text = render_markdown()
    st.download_button(t("⬇ data-contract.md", "⬇ data-contract.md"), contract_text.encode("utf-8"),
                       "data-contract.md", "text/markdown", key="data_dl_contract", on_click="ignore")
    st.markdown("\n".join(line for line in contract_text.splitlines() if not line.startswith("<!--")))
