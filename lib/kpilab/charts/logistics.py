"""Charts of the logistics page: cost to GMV and cost per order indexed to their first month (they
move apart when order volume falls), cost shares stacked by cost type, and the local-fulfilment
rate against the article's 75–80% band.

Pure Altair builders on library output (no Streamlit); labels are passed in by the caller so the
page can translate them.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from kpilab.charts import PALETTE, axis_format, finish, to_pandas

BAND_COLOR = "#54A24B"


def index_lines(trend, *, labels: dict[str, str], measures: list[str] | None = None, x_title: str = "",
                y_title: str = "index (first month = 100)", base_label: str = "first month",
                title: str | None = None):
    """Each measure of ``kpis.logistics.cost_trend`` as an index (first month = 100): when orders
    fall and GMV holds, cost per order climbs away from cost to GMV."""
    df = to_pandas(trend)
    measures = measures or ["cost_to_gmv", "cost_per_order", "orders", "gmv"]
    df = df[df["measure"].isin(measures)].copy()
    df["series"] = df["measure"].map(lambda m: labels.get(m, m))
    order = [labels.get(m, m) for m in measures]
    dashed = [labels.get(m, m) for m in ("orders", "gmv", "amount", "gmv_per_order")]
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:O", title=x_title, axis=_x_axis(df, "month")),
        y=alt.Y("index:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", scale=alt.Scale(domain=order, range=PALETTE[: len(order)]), title=None),
        strokeDash=alt.condition(alt.FieldOneOfPredicate("series", dashed), alt.value([4, 3]), alt.value([1, 0])),
        tooltip=[alt.Tooltip("month:O"), alt.Tooltip("series:N", title=" "), alt.Tooltip("index:Q", format=",.1f"),
                 alt.Tooltip("value:Q", format=",.4~f")])
    rule = alt.Chart(pd.DataFrame({"y": [100.0], "label": [base_label]})).mark_rule(
        color="#888", strokeDash=[6, 4]).encode(y="y:Q", tooltip=[alt.Tooltip("label:N", title=" ")])
    return finish(rule + line, title, height=300)


def cost_type_stack(table, *, unit: str, labels: dict[str, str] | None = None, x: str = "month",
                    x_title: str = "", y_title: str = "", title: str | None = None):
    """Stacked bars of a cost KPI grouped by (x, cost_type): with cost_type the denominator is the
    whole GMV (or all orders) of the bar, so the cost-type pieces add up to the bar's total."""
    df = to_pandas(table).copy()
    df["type"] = df["cost_type"].map(lambda c: (labels or {}).get(c, c))
    fmt = axis_format(unit)
    bars = alt.Chart(df).mark_bar().encode(
        x=alt.X(f"{x}:O", title=x_title, axis=_x_axis(df, x)),
        y=alt.Y("value:Q", title=y_title, stack="zero", axis=alt.Axis(format=fmt)),
        color=alt.Color("type:N", title=None, scale=alt.Scale(range=PALETTE)),
        order=alt.Order("type:N"),
        tooltip=[alt.Tooltip(f"{x}:O"), alt.Tooltip("type:N", title=" "),
                 alt.Tooltip("value:Q", format=".2%" if unit in ("share", "ratio") else ",.2f"),
                 alt.Tooltip("amount:Q", format=",.0f")])
    return finish(bars, title, height=300)


def _x_axis(df, x: str) -> alt.Axis:
    """Horizontal labels, tilted when there are many of them."""
    return alt.Axis(labelAngle=-40 if df[x].nunique() > 8 else 0, labelLimit=140)


def _band(band: tuple[float, float], label: str) -> alt.Chart:
    data = pd.DataFrame({"low": [band[0]], "high": [band[1]], "label": [label]})
    return alt.Chart(data).mark_rect(color=BAND_COLOR, opacity=0.13).encode(
        y="low:Q", y2="high:Q", tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("low:Q", format=".0%"),
                                         alt.Tooltip("high:Q", format=".0%")])


def rate_with_band(long, *, x: str, series: str = "definition", band: tuple[float, float] = (0.75, 0.80),
                   band_label: str = "reference", kind: str = "line", order: list[str] | None = None,
                   x_title: str = "", y_title: str = "", title: str | None = None):
    """A share by ``x`` (months as a line, regions as bars), one colour per series, on the shaded
    reference band (the article: 75–80% is already good; higher may mean overstock spread thin)."""
    df = to_pandas(long)
    order = order or list(dict.fromkeys(df[series]))
    color = alt.Color(f"{series}:N", scale=alt.Scale(domain=order, range=PALETTE[: len(order)]), title=None)
    y = alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=kind == "bar"))
    tooltip = [alt.Tooltip(f"{x}:N"), alt.Tooltip(f"{series}:N", title=" "), alt.Tooltip("value:Q", format=".1%")]
    if kind == "bar":
        marks = alt.Chart(df).mark_bar().encode(
            x=alt.X(f"{x}:N", title=x_title, axis=_x_axis(df, x)), xOffset=alt.XOffset(f"{series}:N", sort=order),
            y=y, color=color, tooltip=tooltip)
    else:
        marks = alt.Chart(df).mark_line(point=True).encode(
            x=alt.X(f"{x}:O", title=x_title, axis=_x_axis(df, x)), y=y, color=color, tooltip=tooltip)
    return finish(_band(band, band_label) + marks, title, height=300)


def one_series(table, *, x: str, unit: str, label: str, kind: str = "line", x_title: str = "",
               title: str | None = None):
    """One definition's result table (``x``, value, helpers) as a line over months or bars over
    groups, formatted in its own unit (a share, or money per order)."""
    df = to_pandas(table).copy()
    df["definition"] = label
    fmt = axis_format(unit)
    tip = [alt.Tooltip(f"{x}:N"), alt.Tooltip("value:Q", title=label,
                                              format=".2%" if unit in ("share", "ratio") else ",.2f")]
    tip += [alt.Tooltip(f"{c}:Q", format=",.0f") for c in df.columns if c in ("amount", "gmv", "orders")]
    y = alt.Y("value:Q", title=label, axis=alt.Axis(format=fmt))
    if kind == "bar":
        marks = alt.Chart(df).mark_bar(color=PALETTE[0]).encode(
            x=alt.X(f"{x}:N", title=x_title, axis=_x_axis(df, x)), y=y, tooltip=tip)
    else:
        marks = alt.Chart(df).mark_line(point=True, color=PALETTE[0]).encode(
            x=alt.X(f"{x}:O", title=x_title, axis=_x_axis(df, x)), y=y, tooltip=tip)
    return finish(marks, title, height=260)
