"""Charts of the inventory page: inventory value with promotion months shaded, slow-moving value
per definition, the DOS × age 2×2, the threshold sweep with L1/L2/L3 levels, slow value by ABC
class, and inventory growth against GMV growth.

Pure Altair builders on library output (no Streamlit); every label is passed in by the caller so
the page can translate it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from kpilab.charts import PALETTE, axis_format, color_scale, finish, reference_rules, to_pandas
from kpilab.formatting import format_value

GREY, FOCUS = "#9E9E9E", "#E45756"


def value_with_promotions(long, promo_months: list[str], *, unit: str = "money", promo_label: str = "promotion",
                          title: str | None = None, y_title: str = ""):
    """One line per definition over months; months with promotion days sit on a shaded band.

    ``long``: month, definition, value (``charts.wide_to_long`` of a monthly comparison).
    """
    df = to_pandas(long)
    ids = list(dict.fromkeys(df["definition"]))
    months = sorted(set(df["month"]))
    x = alt.X("month:O", title=None, sort=months, axis=alt.Axis(labelAngle=0))
    layers = []
    shaded = [m for m in promo_months if m in months]
    if shaded:
        band = alt.Chart(pd.DataFrame({"month": shaded, "label": promo_label})).mark_bar(
            color="#F2C14E", opacity=0.18).encode(x=x, tooltip=["month:O", alt.Tooltip("label:N", title=" ")])
        layers.append(band)
    fmt = axis_format(unit)
    line = alt.Chart(df).mark_line(point=True).encode(
        x=x, y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
        color=alt.Color("definition:N", scale=color_scale(ids), title=None),
        tooltip=["month:O", "definition:N", alt.Tooltip("value:Q", format=fmt.replace("~s", ",.0f"))])
    layers.append(line)
    return finish(alt.layer(*layers), title, height=300)


def slow_by_definition(long, labels: dict[str, str], *, value_title: str = "slow value",
                       share_title: str = "share", title: str | None = None):
    """Slow value per definition as bars, each labelled with its share of sellable value.

    ``long``: definition, slow_value, value (``kpis.inventory.slow_value_long`` of an ungrouped comparison).
    """
    df = to_pandas(long).copy()
    df["label"] = df["definition"].map(lambda d: labels.get(d, d))
    order = [labels.get(d, d) for d in dict.fromkeys(df["definition"])]
    base = alt.Chart(df).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        y=alt.Y("slow_value:Q", title=value_title, axis=alt.Axis(format="~s")))
    bars = base.mark_bar().encode(
        color=alt.Color("label:N", scale=alt.Scale(domain=order, range=PALETTE[: len(order)]), legend=None),
        tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("slow_value:Q", format=",.0f", title=value_title),
                 alt.Tooltip("value:Q", format=".1%", title=share_title)])
    text = base.mark_text(dy=-8, fontSize=12).encode(text=alt.Text("value:Q", format=".1%"))
    return finish(bars + text, title, height=280)


def dos_age_matrix(crosstab, *, dos_title: str = "DOS over threshold", age_title: str = "stock age over threshold",
                   yes: str = "yes", no: str = "no", skus_title: str = "SKUs", value_title: str = "sellable value",
                   title: str | None = None):
    """The 2×2 of DOS flag × age flag: each cell coloured by sellable value, labelled with value
    and SKU count (``kpis.inventory.dos_age_crosstab``)."""
    df = to_pandas(crosstab).copy()
    df["dos"] = df["dos_flag"].map({True: yes, False: no})
    df["age"] = df["age_flag"].map({True: yes, False: no})
    df["text"] = [f"{format_value(float(v), 'money')}\n{int(n)} {skus_title}" for v, n in zip(df["total_value"], df["skus"])]
    base = alt.Chart(df).encode(
        x=alt.X("age:N", sort=[no, yes], title=age_title, axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("dos:N", sort=[no, yes], title=dos_title))
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("total_value:Q", scale=alt.Scale(scheme="oranges"), legend=None),
        tooltip=[alt.Tooltip("dos:N", title=dos_title), alt.Tooltip("age:N", title=age_title),
                 alt.Tooltip("skus:Q", title=skus_title), alt.Tooltip("total_value:Q", format=",.0f", title=value_title),
                 alt.Tooltip("aged_value:Q", format=",.0f")])
    text = base.mark_text(fontSize=14, fontWeight="bold", lineBreak="\n").encode(
        text="text:N", color=alt.condition(alt.datum.total_value > df["total_value"].max() / 2,
                                           alt.value("white"), alt.value("#222")))
    return finish(cells + text, title, height=220)


def threshold_sweep(sweep, labels: dict[str, str], levels: list[tuple[int, str]], *,
                    x_title: str = "threshold (days)", y_title: str = "slow share", title: str | None = None):
    """Share of slow value per definition as the threshold moves, with vertical rules at the
    user's L1/L2/L3 levels (``kpis.inventory.slow_moving_sweep``)."""
    df = to_pandas(sweep).copy()
    df["label"] = df["definition"].map(lambda d: labels.get(d, d))
    order = [labels.get(d, d) for d in dict.fromkeys(df["definition"])]
    domain = [float(df["threshold"].min()), float(df["threshold"].max())] if len(df) else None
    line = alt.Chart(df).mark_line().encode(
        x=alt.X("threshold:Q", title=x_title, scale=alt.Scale(domain=domain, nice=False) if domain else alt.Undefined),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".0%")),
        color=alt.Color("label:N", scale=alt.Scale(domain=order, range=PALETTE[: len(order)]), title=None),
        tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("threshold:Q", title=x_title),
                 alt.Tooltip("value:Q", format=".1%", title=y_title),
                 alt.Tooltip("slow_value:Q", format=",.0f")])
    layers = [line]
    if levels:
        lv = pd.DataFrame(levels, columns=["threshold", "level"])
        layers.append(alt.Chart(lv).mark_rule(strokeDash=[6, 4], color="#666").encode(
            x="threshold:Q", tooltip=["level:N", "threshold:Q"]))
        layers.append(alt.Chart(lv).mark_text(align="left", dx=4, baseline="top", color="#444", fontSize=11).encode(
            x="threshold:Q", y=alt.value(4), text="level:N"))
    return finish(alt.layer(*layers), title, height=320)


def slow_by_class(long, labels: dict[str, str], *, focus: tuple[str, ...] = ("C", "D", "E"),
                  value_title: str = "slow value", share_title: str = "share", focus_title: str = "focus",
                  title: str | None = None):
    """Slow value by ABC class, one bar per definition within each class; the article's focus
    classes (C/D/E) at full colour, the others faded (``slow_value_long`` grouped by abc_class)."""
    df = to_pandas(long).copy()
    df["label"] = df["definition"].map(lambda d: labels.get(d, d))
    df["focus"] = df["abc_class"].isin(focus)
    order = [labels.get(d, d) for d in dict.fromkeys(df["definition"])]
    bars = alt.Chart(df).mark_bar().encode(
        x=alt.X("abc_class:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("label:N", sort=order),
        y=alt.Y("slow_value:Q", title=value_title, axis=alt.Axis(format="~s")),
        color=alt.Color("label:N", scale=alt.Scale(domain=order, range=PALETTE[: len(order)]), title=None),
        opacity=alt.condition("datum.focus", alt.value(1.0), alt.value(0.35)),
        tooltip=["abc_class:N", alt.Tooltip("label:N", title=" "),
                 alt.Tooltip("slow_value:Q", format=",.0f", title=value_title),
                 alt.Tooltip("value:Q", format=".1%", title=share_title),
                 alt.Tooltip("focus:N", title=focus_title)])
    return finish(bars, title, height=300)


def growth_vs_gmv(table, *, inventory_label: str = "inventory growth", gmv_label: str = "GMV growth",
                  golden_label: str = "golden rule: half of GMV growth", title: str | None = None):
    """Inventory growth and GMV growth per month side by side (year on year), with the golden-rule
    level (half the GMV growth) as a tick per month (``growth_with_verdict`` table)."""
    df = to_pandas(table)
    long = pd.concat([df[["month"]].assign(series=inventory_label, value=df["inv_growth"]),
                      df[["month"]].assign(series=gmv_label, value=df["gmv_growth"])], ignore_index=True)
    order = [inventory_label, gmv_label]
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)), xOffset=alt.XOffset("series:N", sort=order),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=".0%")),
        color=alt.Color("series:N", scale=alt.Scale(domain=order, range=[PALETTE[0], PALETTE[2]]), title=None),
        tooltip=["month:O", "series:N", alt.Tooltip("value:Q", format=".1%")])
    half = df[df["gmv_growth"] > 0][["month"]].assign(level=df["gmv_growth"] / 2, label=golden_label)
    tick = alt.Chart(half).mark_tick(color=FOCUS, thickness=2, size=40).encode(
        x="month:O", y="level:Q", tooltip=["month:O", "label:N", alt.Tooltip("level:Q", format=".1%")])
    return finish(bars + tick, title, height=300)


def ratio_trend(long, *, unit: str, title: str | None = None, references=None, y_title: str = "",
                label_angle: int = 0):
    """Monthly lines per definition with optional reference levels (DOI, stock health);
    ``label_angle`` -45 suits a narrow chart."""
    df = to_pandas(long)
    ids = list(dict.fromkeys(df["definition"]))
    fmt = axis_format(unit)
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=label_angle)),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
        color=alt.Color("definition:N", scale=color_scale(ids), title=None),
        tooltip=["month:O", "definition:N", alt.Tooltip("value:Q", format=fmt)])
    rules = reference_rules(references or [], unit)
    return finish(line + rules if rules is not None else line, title, height=280)
