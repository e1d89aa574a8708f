"""KPI Lab — the app frame: page config, session state, the shared sidebar, navigation.

Run: streamlit run app.py
"""

import logging

import streamlit as st

from kpilab.app import state
from kpilab.app.i18n import LANGUAGES, t

logging.basicConfig(level=logging.INFO)
st.set_page_config(page_title="KPI Lab", page_icon=":material/analytics:", layout="wide")
state.init()


def sidebar() -> None:
    with st.sidebar:
        st.radio("Language / 语言", list(LANGUAGES), format_func=LANGUAGES.get, key="lang", horizontal=True,
                 on_change=state.sync_query)
        options = [state.SAMPLE] + [d.fingerprint for d in state.uploaded()]
        names = {state.SAMPLE: t("Bundled sample", "内置示例数据")} | {d.fingerprint: d.name for d in state.uploaded()}
        if st.session_state["data"] not in options:
            options.append(st.session_state["data"])
        st.selectbox(t("Dataset", "数据集"), options, format_func=lambda k: names.get(k, k), key="data",
                     on_change=state.sync_query)
        ds = state.dataset()
        st.caption(t(f"{len(ds.tables)} tables · {ds.engine} · fingerprint {ds.fingerprint}",
                     f"{len(ds.tables)} 张表 · {ds.engine} · 指纹 {ds.fingerprint}"))


PAGES = {
    "": [("views/home.py", ("Home", "首页"), ":material/home:"),
         ("views/data.py", ("Your data", "数据"), ":material/upload_file:")],
    "KPIs": [("views/planning.py", ("Planning", "计划"), ":material/trending_up:"),
             ("views/inventory.py", ("Inventory health", "库存健康"), ":material/inventory_2:"),
             ("views/availability.py", ("Availability", "在架率"), ":material/storefront:"),
             ("views/quality.py", ("Quality", "质量"), ":material/assignment_return:"),
             ("views/suppliers.py", ("Suppliers", "供应商"), ":material/local_shipping:"),
             ("views/backorders.py", ("Backorders", "缺货预订"), ":material/pending_actions:"),
             ("views/logistics.py", ("Logistics", "物流"), ":material/warehouse:")],
    "Lab": [("views/lab.py", ("Definition Lab", "定义实验室"), ":material/science:"),
            ("views/workshop.py", ("OKR Workshop", "OKR 工作坊"), ":material/flag:")],
}

sidebar()
navigation = st.navigation({
    section: [st.Page(path, title=t(*title), icon=icon, url_path=path.split("/")[1][:-3],
                      default=path == "views/home.py")
              for path, title, icon in pages]
    for section, pages in PAGES.items()})
navigation.run()
