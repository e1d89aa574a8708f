"""Charts of the planning page: plan vs actual per SKU coloured by disagreement, movers."""

from __future__ import annotations

import altair as alt
import pandas as pd

from kpilab.charts import PALETTE, finish, to_pandas


def plan_vs_actual(per_sku, *, spread_title: str = "spread", x_title: str = "actual", y_title: str = "planned"):
    """Each SKU at (actual, planned), coloured by how differently the definitions judge it.
    The diagonal is a perfect plan; above it the SKU was over-planned."""
    df = to_pandas(per_sku)
    df = df[(df["planned"] > 0) | (df["actual"] > 0)].copy()
    top = float(max(df["planned"].max(), df["actual"].max(), 1.0)) if len(df) else 1.0
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, top], "y": [0.0, top]})).mark_line(
        strokeDash=[4, 4], color="#999").encode(x="x:Q", y="y:Q")
    value_cols = [c for c in df.columns if c not in ("sku", "planned", "actual", "spread")]
    points = alt.Chart(df).mark_circle(size=70, opacity=0.8).encode(
        x=alt.X("actual:Q", title=x_title, scale=alt.Scale(type="symlog")),
        y=alt.Y("planned:Q", title=y_title, scale=alt.Scale(type="symlog")),
        color=alt.Color("spread:Q", title=spread_title, scale=alt.Scale(scheme="orangered")),
        tooltip=["sku:N", alt.Tooltip("planned:Q", format=",.0f"), alt.Tooltip("actual:Q", format=",.0f"),
                 *[alt.Tooltip(f"{c}:Q", format=".1%") for c in value_cols],
                 alt.Tooltip("spread:Q", format=".1%")])
    return finish(diagonal + points, height=360)


def movers(per_sku, labels: dict[str, str], top: int = 15):
    """The SKUs that move most between definitions: each definition's value as a dot on a line."""
    df = to_pandas(per_sku).dropna(subset=["spread"]).head(top)
    ids = list(labels)
    long = df.melt(id_vars=["sku", "spread"], value_vars=ids, var_name="definition", value_name="value")
    long["definition"] = long["definition"].map(labels)
    order = list(df["sku"])
    base = alt.Chart(long).encode(y=alt.Y("sku:N", sort=order, title=None))
    line = base.mark_rule(color="#bbb").encode(x=alt.X("min(value):Q", axis=alt.Axis(format=".0%"), title=None),
                                              x2="max(value):Q")
    dots = base.mark_circle(size=90).encode(
        x="value:Q", color=alt.Color("definition:N", scale=alt.Scale(domain=list(labels.values()),
                                                                     range=PALETTE[: len(ids)]), title=None),
        tooltip=["sku:N", "definition:N", alt.Tooltip("value:Q", format=".1%")])
    return finish(line + dots, height=max(200, 24 * len(order)))
