"""Your data: upload files, map columns onto the contract, read the validation report, see which
KPIs the dataset can feed, and switch the app to it."""

import json

import pandas as pd
import streamlit as st

from kpilab.app import components, state
from kpilab.app.i18n import lang, t
from kpilab.contract import TABLES
from kpilab.mapping import ColumnMapping, MappingError, suggest
from kpilab.reading import DatasetReadError
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
    with st.expander(t("Preview the tables", "预览数据表")):
        for name in ds.tables:
            frame = ds.tables[name]
            st.markdown(f"**{name}** — {len(frame):,} {t('rows', '行')}")
            st.dataframe(frame.head(50), hide_index=True, width="stretch")


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
    saved = st.file_uploader(t("Reuse a saved mapping (JSON)", "复用已保存的映射 (JSON)"), type=["json"],
                             key="data_mapping_file")
    try:
        base = ColumnMapping.from_json(saved.getvalue().decode("utf-8")) if saved else suggest(raw)
    except MappingError as exc:
        st.error(str(exc))
        base = suggest(raw)
    chosen: dict[str, dict[str, str]] = {}
    for table_name, frame in raw.tables.items():
        if table_name not in TABLES:
            continue
        contract_cols = ["", *TABLES[table_name].column_names]
        current = base.tables.get(table_name, {})
        with st.expander(f"{table_name} — {len(frame.columns)} {t('columns', '列')}",
                         expanded=bool(set(frame.columns) - set(contract_cols))):
            cols = st.columns(3)
            for i, header in enumerate(frame.columns):
                default = current.get(header, header if header in contract_cols else "")
                with cols[i % 3]:
                    target = st.selectbox(header, contract_cols, index=contract_cols.index(default),
                                          key=f"data_map_{table_name}_{header}",
                                          format_func=lambda c: c or t("(not used)", "(不使用)"))
                if target and target != header:
                    chosen.setdefault(table_name, {})[header] = target
    try:
        mapping = ColumnMapping(chosen)
    except MappingError as exc:
        st.error(str(exc))
        st.stop()
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
            candidate = state.load_upload(uploads, json.dumps({"version": 1, "tables": chosen}), encoding,
                                          tuple(formats), progress=report)
        show_dataset(candidate, "data_upload")
        if candidate.report.usable:
            st.button(t("Use this dataset", "使用此数据集"), type="primary", key="data_use",
                      on_click=state.register_upload, args=(candidate,))
            if st.session_state.get("data") == candidate.fingerprint:
                st.success(t("The whole app now uses this dataset.", "整个应用已切换到此数据集。"))
        else:
            st.error(t("No table of this dataset is usable; fix the problems above.",
                       "此数据集没有可用的表; 请修正上述问题。"))

st.divider()
current = state.dataset()
st.subheader(t(f"Current dataset: {current.name}", f"当前数据集: {current.name}"))
show_dataset(current, "data_current")
st.caption(t("The data contract: ", "数据约定: ") + ", ".join(f"`{n}`" for n in TABLES))
with st.expander(t("Columns of every table", "各表列说明")):
    rows = [{"table": tn, "column": c.name, "type": c.dtype, "required": c.required,
             "default": "" if c.default is None else str(c.default), "meaning": c.meaning}
            for tn, tb in TABLES.items() for c in tb.columns]
    components.table(pd.DataFrame(rows), key="data_contract")
