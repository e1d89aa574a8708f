"""Charts of the quality page: the return rate under both denominators with immature months
marked, the maturity curve, the refund-lag distribution, the keyword sweep's before/after, and
per-group rates with confidence intervals against red and yellow lines.

Pure Altair builders on library output (no Streamlit); labels are passed in by the caller so
the page can translate them.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from kpilab.charts import PALETTE, finish, to_pandas
from kpilab.kpis.quality import IMMATURE_BELOW

YELLOW, RED, OK, GREY = "#E0A100", "#D62728", "#54A24B", "#9E9E9E"
FLAG_COLORS = {"red": RED, "yellow": YELLOW, "watch": "#8C8C8C", "ok": OK, "no_data": "#CCCCCC"}


def rate_by_month(same_month, attributed, *, labels: dict[str, str], maturity_title: str = "maturity",
                  immature_title: str = "not yet mature", x_title: str = "", y_title: str = "",
                  immature_below: float = IMMATURE_BELOW, title: str | None = None):
    """Both definitions by month on one chart. Attributed months whose maturity is below
    ``immature_below`` sit on a grey band, as hollow points labelled with their maturity."""
    sm = to_pandas(same_month)[["month", "value", "returned", "paid"]].assign(definition=labels["same_month"])
    at = to_pandas(attributed)[["month", "value", "returned", "paid", "maturity"]].assign(
        definition=labels["attributed"])
    long = pd.concat([sm.assign(maturity=float("nan")), at], ignore_index=True)
    long["immature"] = long["maturity"] < immature_below
    order = [labels["same_month"], labels["attributed"]]
    color = alt.Color("definition:N", scale=alt.Scale(domain=order, range=PALETTE[:2]), title=None)
    base = alt.Chart(long).encode(x=alt.X("month:O", title=x_title, axis=alt.Axis(labelAngle=0)),
                                  y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".2%")), color=color)
    tooltip = [alt.Tooltip("month:O"), alt.Tooltip("definition:N"), alt.Tooltip("value:Q", format=".3%"),
               alt.Tooltip("returned:Q", format=",d"), alt.Tooltip("paid:Q", format=",d"),
               alt.Tooltip("maturity:Q", format=".0%", title=maturity_title)]
    immature = long[long["immature"]]
    band = alt.Chart(immature.assign(label=immature_title)).mark_rect(color=GREY, opacity=0.12).encode(
        x="month:O", tooltip=[alt.Tooltip("month:O"), alt.Tooltip("label:N", title=" "),
                              alt.Tooltip("maturity:Q", format=".0%", title=maturity_title)])
    line = base.mark_line()
    points = base.mark_point(size=70, filled=True, opacity=1).encode(tooltip=tooltip).transform_filter(
        "!datum.immature")
    hollow = base.mark_point(size=90, filled=False, strokeWidth=2, opacity=1).encode(tooltip=tooltip) \
        .transform_filter("datum.immature")
    text = alt.Chart(immature).mark_text(dy=-14, fontSize=11, color="#555").encode(
        x="month:O", y="value:Q", text=alt.Text("maturity:Q", format=".0%"))
    return finish(band + line + points + hollow + text, title, height=320)


def maturity_curve(curve, *, horizon_days: int, x_title: str = "days since purchase",
                   y_title: str = "share of eventual returns visible", horizon_label: str = "horizon",
                   title: str | None = None):
    """F(age): the expected share of a cohort's eventual returns visible ``age`` days after purchase."""
    df = to_pandas(curve)
    line = alt.Chart(df).mark_line(interpolate="step-after", color=PALETTE[1]).encode(
        x=alt.X("age_days:Q", title=x_title), y=alt.Y("maturity:Q", title=y_title, axis=alt.Axis(format=".0%"),
                                                       scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("age_days:Q", title=x_title), alt.Tooltip("maturity:Q", format=".1%", title=y_title)])
    rule = alt.Chart(pd.DataFrame({"h": [horizon_days], "label": [f"{horizon_label}: {horizon_days}"]})).mark_rule(
        strokeDash=[4, 4], color=GREY).encode(x="h:Q", tooltip=["label:N"])
    return finish(line + rule, title, height=260)


def lag_distribution(lags, *, x_title: str = "days from purchase to refund", y_title: str = "refunds",
                     cumulative_title: str = "cumulative share", bin_days: int = 3, title: str | None = None):
    """Refunds per lag (binned by ``bin_days``) with the cumulative share on a second axis."""
    df = to_pandas(lags)
    if len(df):
        df = df.assign(bin=(df["lag_days"] // bin_days) * bin_days)
        df = df.groupby("bin", as_index=False).agg(refunds=("refunds", "sum"), cumulative=("cumulative", "max"))
        df["bin_end"] = df["bin"] + bin_days
    else:
        df = pd.DataFrame({"bin": [], "bin_end": [], "refunds": [], "cumulative": []})
    bars = alt.Chart(df).mark_bar(color=PALETTE[0], opacity=0.8).encode(
        x=alt.X("bin:Q", title=x_title), x2="bin_end:Q", y=alt.Y("refunds:Q", title=y_title), y2=alt.datum(0),
        tooltip=[alt.Tooltip("bin:Q", title=x_title), alt.Tooltip("refunds:Q", title=y_title)])
    cum = alt.Chart(df).mark_line(color=PALETTE[1], interpolate="step-after").encode(
        x="bin_end:Q", y=alt.Y("cumulative:Q", title=cumulative_title, axis=alt.Axis(format=".0%"),
                               scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("cumulative:Q", format=".1%", title=cumulative_title)])
    return finish(alt.layer(bars, cum).resolve_scale(y="independent"), title, height=260)


def keyword_effect(rates, *, labels: dict[str, str], x: str = "month", x_title: str = "", y_title: str = "",
                   title: str | None = None):
    """The rate with reason codes only and with the keyword sweep, by ``x`` (month) — or side by side
    when there is no ``x`` column."""
    df = to_pandas(rates).copy()
    df["scenario"] = df["scenario"].map(lambda s: labels.get(s, s))
    order = [labels.get(s, s) for s in ("reasons_only", "with_keywords")]
    color = alt.Color("scenario:N", scale=alt.Scale(domain=order, range=[PALETTE[0], PALETTE[4]]), title=None)
    tooltip = [alt.Tooltip("scenario:N"), alt.Tooltip("value:Q", format=".3%"),
               alt.Tooltip("returned:Q", format=",d"), alt.Tooltip("paid:Q", format=",d")]
    if x in df.columns:
        chart = alt.Chart(df).mark_line(point=True).encode(
            x=alt.X(f"{x}:O", title=x_title, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".2%")), color=color,
            tooltip=[alt.Tooltip(f"{x}:O"), *tooltip])
    else:
        chart = alt.Chart(df).mark_bar().encode(
            x=alt.X("scenario:N", title=None, sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".2%")), color=color, tooltip=tooltip)
    return finish(chart, title, height=260)


def group_flags(flags, group: str, *, flag_labels: dict[str, str], x_title: str = "",
                yellow_title: str = "yellow line", red_title: str = "red line", title: str | None = None):
    """Each group's rate (dot) with its confidence interval (bar), its yellow and red lines (ticks),
    coloured by the flag: a group is red or yellow only when the whole interval is above the line."""
    df = to_pandas(flags).copy()
    df[group] = df[group].astype(str)
    df["flag_label"] = df["flag"].map(lambda f: flag_labels.get(f, f))
    order = list(df.sort_values("value", ascending=False, na_position="last")[group])
    domain = [flag_labels.get(f, f) for f in FLAG_COLORS]
    color = alt.Color("flag_label:N", scale=alt.Scale(domain=domain, range=list(FLAG_COLORS.values())), title=None,
                      legend=alt.Legend(columns=2, labelLimit=320))
    y = alt.Y(f"{group}:N", sort=order, title=None)
    pct = alt.Axis(format=".1%")
    tooltip = [alt.Tooltip(f"{group}:N"), alt.Tooltip("value:Q", format=".2%"),
               alt.Tooltip("ci_low:Q", format=".2%"), alt.Tooltip("ci_high:Q", format=".2%"),
               alt.Tooltip("returned:Q", format=",d"), alt.Tooltip("paid:Q", format=",d"),
               alt.Tooltip("yellow_line:Q", format=".2%", title=yellow_title),
               alt.Tooltip("red_line:Q", format=".2%", title=red_title), alt.Tooltip("flag_label:N", title="flag")]
    base = alt.Chart(df).encode(y=y)
    interval = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X("ci_low:Q", title=x_title, axis=pct), x2="ci_high:Q", color=color)
    dot = base.mark_circle(size=90, opacity=1).encode(x="value:Q", color=color, tooltip=tooltip)
    ytick = base.mark_tick(color=YELLOW, thickness=2, size=18).encode(x="yellow_line:Q", tooltip=tooltip)
    rtick = base.mark_tick(color=RED, thickness=2, size=18).encode(x="red_line:Q", tooltip=tooltip)
    return finish(interval + ytick + rtick + dot, title, height=max(220, 42 * len(df)))
