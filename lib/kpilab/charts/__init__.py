"""Altair chart builders shared by the app and the notebooks (no Streamlit here).

One look everywhere: ``DEFINITION_COLORS`` gives each definition of a comparison a stable colour,
``reference_rules`` draws the article's reference levels as dashed target lines, ``axis_format``
formats shares as percentages. Charts take library output (already aggregated), never raw rows.
"""

from __future__ import annotations

import altair as alt
import narwhals.stable.v2 as nw
import pandas as pd

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#9D755D", "#BAB0AC"]
FONT = "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, sans-serif"


def to_pandas(frame) -> pd.DataFrame:
    return frame if isinstance(frame, pd.DataFrame) else nw.from_native(frame, eager_only=True).to_pandas()


def axis_format(unit: str) -> str:
    return {"share": ".0%", "ratio": ".0%", "money": "~s", "days": ",.0f"}.get(unit, ",.2f")


def color_scale(ids: list[str], labels: dict[str, str] | None = None) -> alt.Scale:
    labels = labels or {}
    return alt.Scale(domain=[labels.get(i, i) for i in ids], range=PALETTE[: len(ids)])


def reference_rules(references: list[tuple[float, str]], unit: str) -> alt.Chart | None:
    """Dashed horizontal lines at reference levels, each labelled."""
    if not references:
        return None
    data = (pd.DataFrame(references, columns=["level", "label"])
            .groupby("level", as_index=False)["label"].agg(" · ".join))   # one label per level
    rule = alt.Chart(data).mark_rule(strokeDash=[6, 4], color="#888").encode(
        y=alt.Y("level:Q"), tooltip=[alt.Tooltip("label:N"), alt.Tooltip("level:Q", format=axis_format(unit))])
    text = alt.Chart(data).mark_text(align="right", dx=-4, dy=-6, color="#555", fontSize=10).encode(
        y="level:Q", x=alt.value("width"), text="label:N")
    return rule + text


def finish(chart, title: str | None = None, height: int = 300):
    """Common sizing and fonts (CJK-capable font stack)."""
    props = {"height": height}
    if title:
        props["title"] = title
    return chart.properties(**props).configure(font=FONT).configure_axis(grid=True, gridOpacity=0.3) \
        .configure_legend(orient="bottom", labelLimit=260)


def trend(long: pd.DataFrame, *, x: str, series: str, unit: str, title: str | None = None,
          references: list[tuple[float, str]] | None = None, x_title: str = "", y_title: str = "",
          order: list[str] | None = None):
    """One line per series over ``x`` (e.g. one line per definition over months)."""
    long = to_pandas(long)
    ids = order or list(dict.fromkeys(long[series]))
    line = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X(f"{x}:O", title=x_title),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=axis_format(unit))),
        color=alt.Color(f"{series}:N", scale=color_scale(ids), title=None),
        tooltip=[alt.Tooltip(f"{x}:O"), alt.Tooltip(f"{series}:N"),
                 alt.Tooltip("value:Q", format=axis_format(unit).replace("~s", ",.0f"))])
    rules = reference_rules(references or [], unit)
    return finish(line + rules if rules is not None else line, title)


def bars(frame: pd.DataFrame, *, category: str, series: str, unit: str, title: str | None = None,
         references: list[tuple[float, str]] | None = None, y_title: str = ""):
    """Grouped bars: one bar per series within each category (e.g. definitions per warehouse)."""
    frame = to_pandas(frame)
    ids = list(dict.fromkeys(frame[series]))
    bar = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{category}:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=140)),
        xOffset=alt.XOffset(f"{series}:N"),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=axis_format(unit))),
        color=alt.Color(f"{series}:N", scale=color_scale(ids), title=None),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{series}:N"),
                 alt.Tooltip("value:Q", format=axis_format(unit).replace("~s", ",.0f"))])
    rules = reference_rules(references or [], unit)
    return finish(bar + rules if rules is not None else bar, title)


def wide_to_long(wide, id_cols: list[str], labels: dict[str, str] | None = None,
                 series: str = "definition") -> pd.DataFrame:
    """A comparison's wide table (one column per definition) as long rows for charting."""
    wide = to_pandas(wide)
    value_cols = [c for c in wide.columns if c not in id_cols]
    long = wide.melt(id_vars=id_cols, value_vars=value_cols, var_name=series, value_name="value")
    if labels:
        long[series] = long[series].map(lambda s: labels.get(s, s))
    return long
