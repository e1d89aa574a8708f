"""Charts of the availability page: the three availability definitions per day or month, the
warehouse × SKU in-stock heatmap, where the stock-outs sit (the gap between definitions), low
cover at two thresholds, and lost sales by both estimation methods.

Pure Altair builders on library output (``kpilab.kpis.availability`` helpers and comparisons);
no Streamlit. Every label is passed in by the caller so the page can translate it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from kpilab.charts import PALETTE, axis_format, color_scale, finish, reference_rules, to_pandas

IN_STOCK_SCALE = alt.Scale(domain=[0.6, 0.8, 0.9, 0.97, 1.0],
                           range=["#B2182B", "#EF8A62", "#FDDB8C", "#92C5DE", "#2166AC"], clamp=True)


def daily_lines(daily, labels: dict[str, str], *, unit: str = "share", title: str | None = None,
                y_title: str = "", references: list[tuple[float, str]] | None = None, height: int = 300):
    """One line per definition over inventory days (``availability.daily_series`` output)."""
    df = to_pandas(daily)[["date", "definition", "value"]].copy()
    ids = list(dict.fromkeys(df["definition"]))
    df["definition"] = df["definition"].map(lambda d: labels.get(d, d))
    fmt = axis_format(unit)
    line = alt.Chart(df).mark_line(strokeWidth=1.6).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y-%m", labelAngle=0)),
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)),
        color=alt.Color("definition:N", scale=color_scale(ids, labels), title=None),
        tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), alt.Tooltip("definition:N", title=" "),
                 alt.Tooltip("value:Q", format=".2%" if unit == "share" else ",.0f")])
    rules = reference_rules(references or [], unit)
    return finish(line + rules if rules is not None else line, title, height=height)


def monthly_lines(long, labels: dict[str, str], *, unit: str = "share", title: str | None = None,
                  y_title: str = "", height: int = 300):
    """One line per definition over months (``charts.wide_to_long`` of a monthly comparison, ids
    not yet translated)."""
    df = to_pandas(long).copy()
    ids = list(dict.fromkeys(df["definition"]))
    df["definition"] = df["definition"].map(lambda d: labels.get(d, d))
    fmt = axis_format(unit)
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=unit == "money"), axis=alt.Axis(format=fmt)),
        color=alt.Color("definition:N", scale=color_scale(ids, labels), title=None),
        tooltip=["month:O", alt.Tooltip("definition:N", title=" "),
                 alt.Tooltip("value:Q", format=".2%" if unit == "share" else ",.0f")])
    return finish(chart, title, height=height)


def in_stock_heatmap(matrix, *, sku_title: str = "SKU", warehouse_title: str = "warehouse",
                     share_title: str = "in-stock days", demand_title: str = "demand", title: str | None = None,
                     label_limit: int = 80):
    """Warehouse × SKU heatmap of the share of listed days in stock (``availability.in_stock_matrix``).

    SKUs run along x in the matrix's ``order`` (by demand, worst availability first, or by id);
    their names are shown only when there are at most ``label_limit`` of them, so hundreds of SKUs
    stay readable as a texture of red (often out) and blue (always in). A strip above gives each
    SKU's pooled share over all its warehouses.
    """
    df = to_pandas(matrix).copy()
    order = df.drop_duplicates("sku").sort_values("order")["sku"].tolist()
    show_labels = len(order) <= label_limit
    width_step = max(4, min(18, int(900 / max(len(order), 1))))
    x = alt.X("sku:N", sort=order, title=sku_title,
              axis=alt.Axis(labels=show_labels, ticks=show_labels, labelAngle=-60, labelFontSize=9))
    tooltip = [alt.Tooltip("sku:N", title=sku_title), alt.Tooltip("warehouse:N", title=warehouse_title),
               alt.Tooltip("abc_class:N", title="ABC"),
               alt.Tooltip("share:Q", format=".1%", title=share_title),
               alt.Tooltip("in_stock_days:Q", format=",d"), alt.Tooltip("pool_days:Q", format=",d"),
               alt.Tooltip("sku_demand:Q", format=",.0f", title=demand_title)]
    cells = alt.Chart(df).mark_rect().encode(
        x=x, y=alt.Y("warehouse:N", title=warehouse_title),
        color=alt.Color("share:Q", scale=IN_STOCK_SCALE, title=share_title,
                        legend=alt.Legend(format=".0%", orient="right")),
        tooltip=tooltip).properties(width=alt.Step(width_step))
    strip = alt.Chart(df.drop_duplicates("sku")).mark_rect().encode(
        x=alt.X("sku:N", sort=order, axis=None),
        color=alt.Color("sku_share:Q", scale=IN_STOCK_SCALE, legend=None),
        tooltip=[alt.Tooltip("sku:N", title=sku_title), alt.Tooltip("sku_share:Q", format=".1%", title=share_title),
                 alt.Tooltip("sku_demand:Q", format=",.0f", title=demand_title)]
    ).properties(height=14, width=alt.Step(width_step))
    n_wh = df["warehouse"].nunique()
    chart = alt.vconcat(strip, cells.properties(height=max(60, 22 * n_wh)), spacing=3)
    if title:
        chart = chart.properties(title=title)
    return chart.configure(font="Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif") \
        .configure_view(strokeWidth=0)


def oos_split(gaps, labels: dict[str, str], *, title: str | None = None, x_title: str = "out-of-stock cell-days"):
    """Where the out-of-stock cell-days sit: covered by another warehouse (cell_level sees them,
    sku_level does not) or out everywhere; and how many of them weigh 0 in demand_weighted.

    ``gaps``: the one-row ``availability.gap_breakdown`` frame; ``labels`` maps ``covered``,
    ``everywhere``, ``zero_weight``, ``weighted`` to display names.
    """
    g = to_pandas(gaps).iloc[0]
    covered = int(g["covered_oos_cell_days"])
    everywhere = int(g["oos_cell_days"]) - covered
    zero = int(g["zero_weight_oos_cell_days"])
    rows = pd.DataFrame([
        {"bar": labels.get("cells", "cell-days"), "part": labels["covered"], "days": covered, "rank": 0},
        {"bar": labels.get("cells", "cell-days"), "part": labels["everywhere"], "days": everywhere, "rank": 1},
        {"bar": labels.get("weights", "weights"), "part": labels["zero_weight"], "days": zero, "rank": 2},
        {"bar": labels.get("weights", "weights"), "part": labels["weighted"], "days": int(g["oos_cell_days"]) - zero,
         "rank": 3},
    ])
    parts = rows["part"].tolist()
    chart = alt.Chart(rows).mark_bar().encode(
        y=alt.Y("bar:N", title=None, sort=list(dict.fromkeys(rows["bar"]))),
        x=alt.X("days:Q", title=x_title, stack="zero"),
        color=alt.Color("part:N", scale=alt.Scale(domain=parts, range=["#F58518", "#E45756", "#BAB0AC", "#4C78A8"]),
                        title=None),
        order=alt.Order("rank:Q"),
        tooltip=[alt.Tooltip("part:N", title=" "), alt.Tooltip("days:Q", format=",d")])
    return finish(chart, title, height=200)


def by_warehouse(long, labels: dict[str, str], *, unit: str = "share", title: str | None = None, x_title: str = ""):
    """One row per warehouse, one dot per definition, on an axis that does not start at 0 (so a
    1-point gap between definitions is visible). ``long``: warehouse, definition (id), value."""
    df = to_pandas(long).copy()
    ids = list(dict.fromkeys(df["definition"]))
    df["definition"] = df["definition"].map(lambda d: labels.get(d, d))
    fmt = ".1%" if unit == "share" else axis_format(unit)
    base = alt.Chart(df).encode(y=alt.Y("warehouse:N", title=None))
    rule = base.mark_rule(color="#BBB").encode(x=alt.X("min(value):Q"), x2="max(value):Q")
    dots = base.mark_circle(size=110, opacity=0.9).encode(
        x=alt.X("value:Q", title=x_title, scale=alt.Scale(zero=False, padding=12), axis=alt.Axis(format=fmt)),
        color=alt.Color("definition:N", scale=color_scale(ids, labels), title=None),
        tooltip=[alt.Tooltip("warehouse:N"), alt.Tooltip("definition:N", title=" "),
                 alt.Tooltip("value:Q", format=".2%" if unit == "share" else ",.0f")])
    n = df["warehouse"].nunique()
    return finish(rule + dots, title, height=max(160, 34 * n + 90))


def cover_lines(long, *, title: str | None = None, y_title: str = "", height: int = 300):
    """Share of pool SKUs under cover by month: colour = definition (demand basis), dash = threshold.

    ``long``: month, definition (display name), threshold (display name), value.
    """
    df = to_pandas(long)
    ids = list(dict.fromkeys(df["definition"]))
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".0%")),
        color=alt.Color("definition:N", scale=alt.Scale(domain=ids, range=PALETTE[: len(ids)]), title=None),
        strokeDash=alt.StrokeDash("threshold:N", title=None,
                                  legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolSize=300)),
        tooltip=["month:O", alt.Tooltip("definition:N", title=" "), alt.Tooltip("threshold:N", title=" "),
                 alt.Tooltip("value:Q", format=".1%")])
    return finish(chart, title, height=height)


def lost_by_group(long, labels: dict[str, str], *, group: str, title: str | None = None, y_title: str = "",
                  highlight: list[str] | None = None):
    """Lost GMV per group (e.g. category), one bar per estimation method side by side; groups in
    ``highlight`` (items rarely bought again) are outlined."""
    df = to_pandas(long).copy()
    ids = list(dict.fromkeys(df["definition"]))
    df["definition"] = df["definition"].map(lambda d: labels.get(d, d))
    df["flag"] = df[group].isin(highlight or [])
    order = (df.groupby(group)["value"].max().sort_values(ascending=False).index.tolist())
    bars = alt.Chart(df).mark_bar().encode(
        x=alt.X(f"{group}:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=120)),
        xOffset=alt.XOffset("definition:N"),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format="~s")),
        color=alt.Color("definition:N", scale=color_scale(ids, labels), title=None),
        stroke=alt.condition("datum.flag", alt.value("#222"), alt.value(None)),
        strokeWidth=alt.condition("datum.flag", alt.value(1.5), alt.value(0)),
        tooltip=[alt.Tooltip(f"{group}:N"), alt.Tooltip("definition:N", title=" "),
                 alt.Tooltip("value:Q", format=",.0f")])
    return finish(bars, title, height=300)
