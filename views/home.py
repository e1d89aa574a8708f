"""Home: what KPI Lab is, the families, and what the current dataset can feed."""

import streamlit as st

from kpilab import REGISTRY
from kpilab.app import state
from kpilab.app.i18n import t, tl
from kpilab.engine import missing_inputs
from kpilab.registry import FAMILIES

st.title(t("KPI Lab — choose how to measure yourselves", "KPI Lab — 选择衡量自己的方式"))
st.markdown(t(
    "The same KPI can be defined several ways — forecast accuracy as 1-MAPE or Min/Max, return rate over the "
    "same month or attributed to the purchase month, slow-moving stock by days of sales or by stock age — and "
    "each choice rewards different behaviour. KPI Lab computes every definition on your data and shows them "
    "side by side: what each says, where they disagree, and what a target in one means in another.",
    "同一个 KPI 可以有多种定义 — 预测准确度用 1-MAPE 还是 Min/Max, 退货率按当月还是归因到购买月, 滞销按可售天数还是库龄 — "
    "每种选择都在鼓励不同的行为。KPI Lab 在你的数据上计算每一种定义并排展示: 各自说明了什么, 在哪些单品上有分歧, "
    "以及一个定义下的目标在另一个定义下意味着什么。"))

ds = state.dataset()
if ds.name == "sample":
    st.info(t("You are looking at the bundled sample: a simulated e-commerce operation with 618 and Double 11 "
              "peaks. Upload your own data on the Data page.",
              "当前为内置示例数据: 一个带 618 与双 11 大促的模拟电商业务。可在数据页上传自己的数据。"))

for family, label in FAMILIES.items():
    kpis = [k for k in REGISTRY.values() if k.family == family]
    if not kpis:
        continue
    st.subheader(tl(label))
    for kpi in kpis:
        missing = missing_inputs(kpi, ds)
        status = "✅" if not missing else "⛔ " + t("needs ", "需要 ") + ", ".join(missing)
        defs = " · ".join(tl(d.name) for d in kpi.definitions)
        st.markdown(f"**{tl(kpi.name)}** {status}  \n{tl(kpi.description)}  \n*{defs}*")
