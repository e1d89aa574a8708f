"""Charts of the sourcing part of the suppliers page: the supplier scorecard as a supplier ×
quarter grid, and each supplier's components next to its two scores.

Pure Altair builders on library output (``kpilab.kpis.sourcing.overview``); every label is passed
in by the caller so the page can translate it. Trends per definition use ``kpilab.charts.trend``.
"""

from __future__ import annotations

import altair as alt

from kpilab.charts import PALETTE, finish, to_pandas


def scorecard_grid(cells, *, score: str, score_label: str, supplier_title: str = "", quarter_title: str = "",
                   target: float = 0.9, title: str | None = None):
    """One cell per supplier × quarter coloured by ``score`` (a share), its value written in it; a
    cell below ``target`` is outlined, an empty score is grey."""
    df = to_pandas(cells)[["supplier", "quarter", score]].rename(columns={score: "score"})
    df["below"] = df["score"] < target
    base = alt.Chart(df).encode(x=alt.X("quarter:O", title=quarter_title, axis=alt.Axis(labelAngle=0)),
                                y=alt.Y("supplier:N", title=supplier_title))
    rect = base.mark_rect(stroke="#333").encode(
        color=alt.Color("score:Q", title=score_label, scale=alt.Scale(domain=[0.4, 1.0], scheme="redyellowgreen"),
                        legend=alt.Legend(format=".0%")),
        strokeWidth=alt.condition("datum.below", alt.value(1.5), alt.value(0)),
        tooltip=[alt.Tooltip("supplier:N"), alt.Tooltip("quarter:O"),
                 alt.Tooltip("score:Q", title=score_label, format=".1%")])
    text = base.mark_text(fontSize=10).encode(text=alt.Text("score:Q", format=".0%"))
    height = max(160, 22 * df["supplier"].nunique())
    return finish(rect + text, title, height=height)


def scorecard_components(cells, *, labels: dict[str, str], supplier_title: str = "", title: str | None = None,
                         target: float = 0.9, target_label: str = ""):
    """Per supplier: its components (OTIF, inspection, on time) and its two scores as bars, with
    the target as a dashed line — where the weighted score hides a weak component."""
    df = to_pandas(cells)
    series = [c for c in ("otif", "inspection", "on_time", "weighted", "weakest_link") if c in df.columns]
    long = df.melt(id_vars=["supplier"], value_vars=series, var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(lambda m: labels.get(m, m))
    order = [labels.get(m, m) for m in series]
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("supplier:N", title=supplier_title, axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("measure:N", sort=order),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("measure:N", scale=alt.Scale(domain=order, range=PALETTE[: len(order)]), title=None),
        tooltip=[alt.Tooltip("supplier:N"), alt.Tooltip("measure:N"), alt.Tooltip("value:Q", format=".1%")])
    rule = alt.Chart(alt.Data(values=[{"level": target, "label": target_label}])).mark_rule(
        strokeDash=[6, 4], color="#888").encode(y="level:Q", tooltip=[alt.Tooltip("label:N", title=" ")])
    return finish(bars + rule, title, height=300)
