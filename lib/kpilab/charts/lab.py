"""Charts of the Definition Lab and the OKR Workshop (pure Altair; no Streamlit here).

Every builder takes library output (``kpilab.lab`` / ``kpilab.okr`` frames), never raw rows.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from kpilab.charts import PALETTE, axis_format, bars, color_scale, finish, reference_rules, to_pandas, trend

_TIP = {"share": ".1%", "ratio": ".1%", "money": ",.0f", "days": ",.1f"}


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _tip(unit: str) -> str:
    return _TIP.get(unit, ",.3f")


def variant_values(long, *, group: str, unit: str, labels: list[str], title: str | None = None,
                   references: list[tuple[float, str]] | None = None):
    """Each variant's value per group: lines over months, grouped bars otherwise.
    ``long`` has the group column, ``variant`` and ``value`` (``VariantComparison.long()``)."""
    long = to_pandas(long).copy()
    long["value"] = pd.to_numeric(long["value"], errors="coerce").replace([np.inf, -np.inf], np.nan)
    if group == "month":
        return trend(long, x="month", series="variant", unit=unit, title=title, references=references,
                     order=labels)
    long[group] = long[group].astype(str)
    return bars(long, category=group, series="variant", unit=unit, title=title, references=references)


def rank_slope(movers, labels: list[str], *, title: str | None = None, rank_title: str = "rank",
               spread_title: str = "rank change"):
    """A slope chart of ranks (1 = best, at the top): one line per group across the variants;
    the groups whose rank moves most are drawn dark and thick."""
    df = to_pandas(movers).dropna(subset=["rank"]).copy()
    if df.empty:
        return finish(alt.Chart(pd.DataFrame({"x": []})).mark_point(), title, height=120)
    df["variant"] = pd.Categorical(df["variant"], categories=labels, ordered=True)
    df["order"] = df["variant"].cat.codes
    n = int(df["rank"].max())
    first, last = labels[0], labels[-1]
    ends = df[df["variant"].isin([first, last])].copy()
    ends["align"] = np.where(ends["variant"] == first, "right", "left")
    ends["dx"] = np.where(ends["variant"] == first, -8, 8)
    base = alt.Chart(df).encode(
        x=alt.X("variant:N", sort=labels, title=None, axis=alt.Axis(labelAngle=0, labelLimit=220, orient="top")),
        y=alt.Y("rank:Q", scale=alt.Scale(domain=[n + 0.5, 0.5], nice=False), title=rank_title,
                axis=alt.Axis(tickMinStep=1, format="d")),
        detail="group:N")
    lines = base.mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        color=alt.Color("rank_spread:Q", title=spread_title, scale=alt.Scale(scheme="orangered")),
        strokeWidth=alt.StrokeWidth("rank_spread:Q", scale=alt.Scale(range=[1, 4]), legend=None),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("variant:N"), alt.Tooltip("rank:Q", format="d"),
                 alt.Tooltip("value:Q", format=",.3f"),
                 alt.Tooltip("rank_spread:Q", title=spread_title, format="d")])
    left = alt.Chart(ends[ends["align"] == "right"]).mark_text(align="right", dx=-10, fontSize=11).encode(
        x=alt.X("variant:N", sort=labels), y="rank:Q", text="group:N")
    right = alt.Chart(ends[ends["align"] == "left"]).mark_text(align="left", dx=10, fontSize=11).encode(
        x=alt.X("variant:N", sort=labels), y="rank:Q", text="group:N")
    return finish(lines + left + right, title, height=max(220, 26 * n)).configure_view(strokeWidth=0)


def sensitivity(sweep, *, param: str, unit: str, labels: list[str], current=None, title: str | None = None,
                references: list[tuple[float, str]] | None = None):
    """Every variant's value against a swept parameter; a dashed rule marks the current value."""
    df = to_pandas(sweep).copy()
    df["value"] = pd.to_numeric(df["value"], errors="coerce").replace([np.inf, -np.inf], np.nan)
    lines = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("param_value:Q", title=param),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_format(unit))),
        color=alt.Color("variant:N", scale=color_scale(labels), title=None),
        strokeDash=alt.StrokeDash("reads:N", legend=None, scale=alt.Scale(domain=[True, False],
                                                                          range=[[1, 0], [4, 4]])),
        tooltip=[alt.Tooltip("param_value:Q", title=param), alt.Tooltip("variant:N"),
                 alt.Tooltip("value:Q", format=_tip(unit))])
    layers = [lines]
    if current is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [current]})).mark_rule(strokeDash=[4, 4], color="#666").encode(
            x="x:Q"))
    rules = reference_rules(references or [], unit)
    if rules is not None:
        layers.append(rules)
    return finish(alt.layer(*layers), title)


def translator(pairs, translation, *, x_title: str, y_title: str, unit: str, title: str | None = None,
               target_label: str = "target", estimate_label: str = "equivalent", y_unit: str | None = None):
    """Paired month × group values (x under one variant, y under the other), the fitted line, the
    target on x and the equivalent level on y with its band. ``y_unit`` when y is in another unit
    (then no diagonal is drawn)."""
    df = to_pandas(pairs).copy()
    y_unit = y_unit or unit
    tip_cols = [c for c in df.columns if c not in ("x", "y")]
    points = alt.Chart(df).mark_circle(size=55, opacity=0.55, color=PALETTE[0]).encode(
        x=alt.X("x:Q", title=x_title, axis=alt.Axis(format=axis_format(unit)), scale=alt.Scale(zero=False)),
        y=alt.Y("y:Q", title=y_title, axis=alt.Axis(format=axis_format(y_unit)), scale=alt.Scale(zero=False)),
        tooltip=[*[alt.Tooltip(f"{c}:N") for c in tip_cols], alt.Tooltip("x:Q", format=_tip(unit), title=x_title),
                 alt.Tooltip("y:Q", format=_tip(y_unit), title=y_title)])
    layers = [points]
    t = translation
    if len(df) and y_unit == unit:
        lo = float(min(df["x"].min(), t.target)) if math.isfinite(t.target) else float(df["x"].min())
        hi = float(max(df["x"].max(), t.target)) if math.isfinite(t.target) else float(df["x"].max())
        diagonal = pd.DataFrame({"x": [lo, hi], "y": [lo, hi]})
        layers.append(alt.Chart(diagonal).mark_line(color="#bbb", strokeDash=[2, 3]).encode(x="x:Q", y="y:Q"))
    if len(df) and t.ok:
        lo = float(min(df["x"].min(), t.target)) if math.isfinite(t.target) else float(df["x"].min())
        hi = float(max(df["x"].max(), t.target)) if math.isfinite(t.target) else float(df["x"].max())
        line = pd.DataFrame({"x": [lo, hi], "y": [t.intercept + t.slope * lo, t.intercept + t.slope * hi]})
        layers.append(alt.Chart(line).mark_line(color=PALETTE[1], strokeWidth=2.5).encode(x="x:Q", y="y:Q"))
    if math.isfinite(t.target):
        layers.append(alt.Chart(pd.DataFrame({"x": [t.target], "label": [target_label]})).mark_rule(
            strokeDash=[6, 4], color="#555").encode(x="x:Q", tooltip=[alt.Tooltip("label:N"),
                                                                    alt.Tooltip("x:Q", format=_tip(unit))]))
    if t.ok:
        mark = pd.DataFrame({"x": [t.target], "y": [t.estimate], "low": [t.low], "high": [t.high],
                             "label": [estimate_label]})
        layers.append(alt.Chart(mark).mark_rule(strokeDash=[6, 4], color=PALETTE[1]).encode(y="y:Q"))
        layers.append(alt.Chart(mark).mark_errorbar(color=PALETTE[3], thickness=3, ticks=True).encode(
            x="x:Q", y=alt.Y("low:Q", title=y_title), y2="high:Q"))
        layers.append(alt.Chart(mark).mark_point(shape="diamond", size=160, filled=True, color=PALETTE[3]).encode(
            x="x:Q", y="y:Q", tooltip=[alt.Tooltip("label:N"), alt.Tooltip("y:Q", format=_tip(y_unit)),
                                       alt.Tooltip("low:Q", format=_tip(y_unit)),
                                       alt.Tooltip("high:Q", format=_tip(y_unit))]))
    return finish(alt.layer(*layers), title, height=360)


_STATUS_FILL = {"ok": "#EAF1FB", "missing data": "#F2F2F2", "not registered": "#F2F2F2", "error": "#FCEDEA"}
_ARROW = {"higher": "↑", "lower": "↓", "target": "◎"}


def kpi_tree(nodes, *, title: str | None = None, focus: str | None = None):
    """The KPI tree as boxes and links: level-1 outcomes on the left, their building blocks to
    the right; each box shows the KPI, the definition used and its current value (or why there
    is none). ``focus`` outlines one KPI (the one studied in the Lab)."""
    df = to_pandas(nodes).copy()
    if df.empty:
        return finish(alt.Chart(pd.DataFrame({"x": []})).mark_point(), title, height=120)
    half_w, half_h = 0.42, 0.36
    df["x"] = df["level"].astype(float)
    df["x1"], df["x2"] = df["x"] - half_w, df["x"] + half_w
    df["y1"], df["y2"] = df["order"] - half_h, df["order"] + half_h
    df["fill"] = df["status"].map(_STATUS_FILL).fillna("#F2F2F2")
    df["stroke"] = np.where(df["kpi_id"] == focus, "#E45756", "#8DA6C8")
    df["arrow"] = df["direction"].map(_ARROW).fillna("")
    df["line2"] = np.where(df["status"] == "ok", df["definition"].astype(str).map(lambda s: _clip(s, 30)) + ": "
                           + df["text"] + " " + df["arrow"], df["reason"].astype(str).map(lambda s: _clip(s, 40)))
    df["name"] = df["name"].astype(str).map(lambda s: _clip(s, 36))
    parents = df.set_index("path")[["x", "order"]]
    edges = df[df["parent_path"] != ""].copy()
    edges["px"] = edges["parent_path"].map(parents["x"]) + half_w
    edges["py"] = edges["parent_path"].map(parents["order"])
    edges["cx"] = edges["x"] - half_w
    edges["mx"] = (edges["px"] + edges["cx"]) / 2
    segments = pd.concat([
        pd.DataFrame({"edge": edges["path"], "step": 0, "x": edges["px"], "y": edges["py"], "why": edges["why"]}),
        pd.DataFrame({"edge": edges["path"], "step": 1, "x": edges["mx"], "y": edges["py"], "why": edges["why"]}),
        pd.DataFrame({"edge": edges["path"], "step": 2, "x": edges["mx"], "y": edges["order"], "why": edges["why"]}),
        pd.DataFrame({"edge": edges["path"], "step": 3, "x": edges["cx"], "y": edges["order"], "why": edges["why"]}),
    ], ignore_index=True)
    top, bottom = float(df["y1"].min()) - 0.1, float(df["y2"].max()) + 0.1
    xs = alt.Scale(domain=[0.5, float(df["x"].max()) + 0.5], nice=False)
    ys = alt.Scale(domain=[bottom, top], nice=False)
    link = alt.Chart(segments).mark_line(color="#9AA8BA", strokeWidth=1.6, interpolate="linear").encode(
        x=alt.X("x:Q", scale=xs, axis=None), y=alt.Y("y:Q", scale=ys, axis=None), detail=alt.Detail("edge:N"),
        order=alt.Order("step:Q"), tooltip=[alt.Tooltip("why:N")])
    cols = ["name", "definition", "text", "status", "reason", "why"]
    tooltip = [alt.Tooltip(f"{c}:N") for c in cols]
    slim = df[["x", "x1", "x2", "y1", "y2", "order", "fill", "stroke", "line2", *cols]]
    box = alt.Chart(slim).mark_rect(cornerRadius=6, strokeWidth=1.5).encode(
        x=alt.X("x1:Q", scale=xs, axis=None), x2=alt.X2("x2:Q"), y=alt.Y("y1:Q", scale=ys, axis=None),
        y2=alt.Y2("y2:Q"), fill=alt.Fill("fill:N", scale=None), stroke=alt.Stroke("stroke:N", scale=None),
        tooltip=tooltip)
    name = alt.Chart(slim).mark_text(fontWeight="bold", fontSize=12, dy=-8).encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("order:Q", scale=ys), text=alt.Text("name:N"), tooltip=tooltip)
    value = alt.Chart(slim).mark_text(fontSize=11, dy=9, color="#333").encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("order:Q", scale=ys), text=alt.Text("line2:N"), tooltip=tooltip)
    height = max(240, int(58 * (bottom - top)))
    return finish(alt.layer(link, box, name, value), title, height=height).configure_view(strokeWidth=0)


_PROGRESS_COLORS = {"achieved": "#54A24B", "on the way": "#4C78A8", "going backwards": "#E45756",
                    "off target": "#F58518", "no data": "#BAB0AC"}


def okr_progress(progress, *, title: str | None = None, status_labels: dict[str, str] | None = None):
    """Each key result's way from baseline (0%) to target (100%), with the current position as a
    bar and the values (baseline → current → target) written beside it."""
    from kpilab.formatting import format_value

    df = to_pandas(progress).copy()
    if df.empty:
        return finish(alt.Chart(pd.DataFrame({"x": []})).mark_point(), title, height=120)
    labels = status_labels or {}
    df["shown"] = pd.to_numeric(df["progress"], errors="coerce").clip(-0.5, 1.5)
    df["shown"] = df["shown"].where(df["shown"].notna(), np.where(df["status"] == "achieved", 1.0, 0.0))
    df["status_label"] = df["status"].map(lambda s: labels.get(s, s))
    df["row"] = df["kr"].astype(str) + "  " + df["key_result"].astype(str).map(lambda s: _clip(s, 56))
    df["text_x"] = df["shown"].clip(lower=0)
    df["values"] = [f"{format_value(b, u)} → {format_value(c, u)} → {format_value(t, u)}"
                    for b, c, t, u in zip(df["baseline"], df["current"], df["target"], df["unit"])]
    order = list(df["row"])
    domain = [labels.get(s, s) for s in _PROGRESS_COLORS]
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=420))
    bar = alt.Chart(df).mark_bar(height=18, cornerRadiusEnd=3).encode(
        x=alt.X("shown:Q", title=None, scale=alt.Scale(domain=[-0.5, 1.6]),
                axis=alt.Axis(format=".0%", values=[-0.5, 0, 0.5, 1, 1.5])),
        y=y, color=alt.Color("status_label:N", title=None, scale=alt.Scale(domain=domain,
                                                                          range=list(_PROGRESS_COLORS.values()))),
        tooltip=[alt.Tooltip("kr:N"), alt.Tooltip("key_result:N"), alt.Tooltip("values:N"),
                 alt.Tooltip("status_label:N"), alt.Tooltip("progress:Q", format=".0%"), alt.Tooltip("period:N")])
    rules = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "what": ["baseline", "target"]})).mark_rule(
        strokeDash=[4, 3], color="#555").encode(x="x:Q", tooltip=[alt.Tooltip("what:N")])
    text = alt.Chart(df).mark_text(align="left", baseline="middle", dx=5, fontSize=11, color="#333").encode(
        x=alt.X("text_x:Q"), y=y, text=alt.Text("values:N"))
    return finish(alt.layer(bar, rules, text), title, height=max(120, 40 * len(df)))
