"""Charts of the suppliers page: where receipts land against the OTIF window, how a pass mark
moves a share (line fill, lot threshold), how supplier rankings change between definitions and
windows (slope chart and rank-correlation grid), and variants side by side.

Pure Altair builders on library output (no Streamlit); every label is passed in by the caller so
the page can translate it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from kpilab.charts import PALETTE, axis_format, finish, to_pandas

POSITION_COLORS = {"early": "#72B7B2", "in_window": "#54A24B", "late": "#E45756"}


def receipt_timing(timing, *, early_days: int, late_days: int, labels: dict[str, str], x_title: str = "",
                   y_title: str = "", window_label: str = "window", title: str | None = None):
    """Receipt units by day offset from the promised date, coloured early / in window / late, on a
    shaded band for the window [−early_days, +late_days] (the ends hold the clipped tails)."""
    df = to_pandas(timing).copy()
    df["position_label"] = df["position"].map(lambda p: labels.get(p, p))
    order = [labels.get(p, p) for p in POSITION_COLORS]
    band = alt.Chart(pd.DataFrame({"start": [-early_days - 0.5], "end": [late_days + 0.5],
                                   "label": [window_label]})).mark_rect(color="#54A24B", opacity=0.08).encode(
        x="start:Q", x2="end:Q", tooltip=[alt.Tooltip("label:N", title=" ")])
    bars = alt.Chart(df).mark_bar(size=9).encode(
        x=alt.X("offset_days:Q", title=x_title, axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("units:Q", title=y_title, axis=alt.Axis(format="~s")),
        color=alt.Color("position_label:N", scale=alt.Scale(domain=order, range=list(POSITION_COLORS.values())),
                        title=None),
        tooltip=[alt.Tooltip("offset_days:Q", title=x_title), alt.Tooltip("position_label:N", title=" "),
                 alt.Tooltip("units:Q", format=",.0f"), alt.Tooltip("receipts:Q", format=",d")])
    return finish(band + bars, title, height=260)


def pass_mark_curve(curve, *, current: float, x_title: str = "", y_title: str = "", current_label: str = "",
                    title: str | None = None):
    """Share of lines (or lots) that pass as a function of the pass mark, with the mark in use."""
    df = to_pandas(curve)
    line = alt.Chart(df).mark_line(point=True, color=PALETTE[1]).encode(
        x=alt.X("threshold:Q", title=x_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("threshold:Q", format=".0%", title=x_title), alt.Tooltip("value:Q", format=".1%"),
                 alt.Tooltip("passed:Q", format=",d"), alt.Tooltip("rows:Q", format=",d")])
    rule = alt.Chart(pd.DataFrame({"threshold": [current], "label": [current_label]})).mark_rule(
        strokeDash=[6, 4], color="#888").encode(x="threshold:Q", tooltip=[alt.Tooltip("label:N", title=" "),
                                                                          alt.Tooltip("threshold:Q", format=".0%")])
    return finish(line + rule, title, height=260)


def rank_slope(ranking, *, order: list[str] | None = None, x_title: str = "", y_title: str = "rank",
               highlight: list[str] | None = None, title: str | None = None):
    """One line per supplier through its rank under each scenario (1 at the top): crossing lines are
    suppliers whose standing depends on the definition or window. ``highlight`` suppliers are drawn
    in colour, the others in grey."""
    df = to_pandas(ranking).copy()
    order = order or list(dict.fromkeys(df["scenario"]))
    if highlight is None:
        moves = df.groupby("supplier")["rank"].agg(lambda r: r.max() - r.min())
        highlight = moves[moves > 0].sort_values(ascending=False, kind="stable").index[:7].tolist()
    df["shown"] = df["supplier"].where(df["supplier"].isin(highlight), " ")
    domain = highlight + [" "]
    colors = (PALETTE[:7] * 3)[: len(highlight)] + ["#D0D0D0"]
    n = int(df["rank"].max()) if len(df) else 1
    base = alt.Chart(df).encode(
        x=alt.X("scenario:N", sort=order, title=x_title, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        y=alt.Y("rank:Q", title=y_title, scale=alt.Scale(reverse=True, zero=False, nice=False, domain=[0.5, n + 0.5]),
                axis=alt.Axis(tickMinStep=1, format="d")),
        detail="supplier:N",
        color=alt.Color("shown:N", scale=alt.Scale(domain=domain, range=colors), title=None,
                        legend=alt.Legend(values=highlight)),
        tooltip=[alt.Tooltip("supplier:N"), alt.Tooltip("scenario:N"), alt.Tooltip("rank:Q"),
                 alt.Tooltip("value:Q", format=".1%")])
    lines = base.mark_line(strokeWidth=2)
    points = base.mark_point(filled=True, size=60, opacity=1)
    last = order[-1]
    labels = alt.Chart(df[df["scenario"] == last]).mark_text(align="left", dx=8, fontSize=11).encode(
        x=alt.X("scenario:N", sort=order), y="rank:Q", text="supplier:N",
        color=alt.Color("shown:N", scale=alt.Scale(domain=domain, range=colors), legend=None))
    return finish(lines + points + labels, title, height=max(260, 22 * n))


def correlation_grid(correlations, *, metric: str = "spearman", order: list[str] | None = None,
                     metric_title: str = "", title: str | None = None):
    """Rank correlation between every two scenarios as a coloured grid (1 = same order, −1 = reversed)."""
    df = to_pandas(correlations)
    order = order or list(dict.fromkeys(list(df["scenario_a"]) + list(df["scenario_b"])))
    both = pd.concat([df, df.rename(columns={"scenario_a": "scenario_b", "scenario_b": "scenario_a"})],
                     ignore_index=True)
    diag = pd.DataFrame({"scenario_a": order, "scenario_b": order, metric: 1.0, "suppliers": float("nan")})
    grid = pd.concat([both, diag], ignore_index=True)
    base = alt.Chart(grid).encode(
        x=alt.X("scenario_a:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30, labelLimit=160)),
        y=alt.Y("scenario_b:N", sort=order, title=None, axis=alt.Axis(labelLimit=160)))
    rect = base.mark_rect().encode(
        color=alt.Color(f"{metric}:Q", scale=alt.Scale(domain=[-1, 1], scheme="redblue"), title=metric_title),
        tooltip=[alt.Tooltip("scenario_a:N"), alt.Tooltip("scenario_b:N"),
                 alt.Tooltip(f"{metric}:Q", format=".2f", title=metric_title), alt.Tooltip("suppliers:Q")])
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text(f"{metric}:Q", format=".2f"),
        color=alt.condition(f"abs(datum.{metric}) > 0.55", alt.value("white"), alt.value("#222")))
    return finish(rect + text, title, height=max(200, 46 * len(order)))


def value_bars(frame, *, category: str, series: str, unit: str = "share", order: list[str] | None = None,
               series_order: list[str] | None = None, y_title: str = "", title: str | None = None,
               references: list[tuple[float, str]] | None = None, category_labels: dict | None = None,
               series_labels: dict | None = None):
    """Grouped bars with the value printed on each bar (e.g. a definition under two variants).
    ``category_labels`` / ``series_labels`` rename values for display (e.g. rush True → 'rush')."""
    df = to_pandas(frame).copy()
    if category_labels:
        df[category] = df[category].map(lambda v: category_labels.get(v, v))
    if series_labels:
        df[series] = df[series].map(lambda v: series_labels.get(v, v))
    if order and category_labels:
        order = [category_labels.get(v, v) for v in order]
    if series_order and series_labels:
        series_order = [series_labels.get(v, v) for v in series_order]
    series_order = series_order or list(dict.fromkeys(df[series]))
    fmt = axis_format(unit)
    base = alt.Chart(df).encode(
        x=alt.X(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        xOffset=alt.XOffset(f"{series}:N", sort=series_order),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
        color=alt.Color(f"{series}:N", scale=alt.Scale(domain=series_order, range=PALETTE[: len(series_order)]),
                        title=None),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{series}:N"),
                 alt.Tooltip("value:Q", format=".1%" if unit in ("share", "ratio") else ",.2f")])
    chart = base.mark_bar()
    if df[category].nunique() * len(series_order) <= 12:      # print values only where they fit
        chart = chart + base.mark_text(dy=-6, fontSize=10, color="#444").encode(
            text=alt.Text("value:Q", format=".1%" if unit in ("share", "ratio") else ",.1f"))
    if references:
        from kpilab.charts import reference_rules

        chart = chart + reference_rules(references, unit)
    return finish(chart, title, height=280)
