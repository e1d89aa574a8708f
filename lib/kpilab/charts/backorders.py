"""Charts of the backorders page: each definition by month, one panel per oos_policy segment, and
the open backlog at month-end stacked by segment."""

from __future__ import annotations

import altair as alt

from kpilab.charts import PALETTE, axis_format, color_scale, finish, to_pandas


def by_segment(long, *, unit: str, segment: str | None, title: str | None = None,
               references: list[tuple[float, str]] | None = None):
    """One line per definition (colour) and segment (dash: oos_policy) over months: where
    backorderable and substitutable items behave differently, and where the definitions part.
    Reference levels are dashed grey rules."""
    df = to_pandas(long)
    ids = list(dict.fromkeys(df["definition"]))
    fmt = axis_format(unit)
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:O", title=None), y=alt.Y("value:Q", title=None, axis=alt.Axis(format=fmt)),
        color=alt.Color("definition:N", scale=color_scale(ids), title=None),
        strokeDash=alt.StrokeDash(f"{segment}:N", title=None) if segment else alt.Undefined,
        tooltip=[alt.Tooltip("month:O"), alt.Tooltip("definition:N"),
                 alt.Tooltip("value:Q", format=fmt.replace("~s", ",.0f")),
                 *([alt.Tooltip(f"{segment}:N")] if segment else [])])
    rules = [alt.Chart(df).mark_rule(strokeDash=[2, 2], color="#888").encode(
        y=alt.datum(level), tooltip=alt.value(label)) for level, label in references or []]
    return finish(alt.layer(line, *rules), title)


def backlog(table, *, segment: str | None, units_title: str = "open units", title: str | None = None):
    """Open backordered units at each month-end, stacked by segment (the backlog customers wait for)."""
    df = to_pandas(table)
    color = (alt.Color(f"{segment}:N", scale=alt.Scale(range=PALETTE), title=None) if segment
             else alt.value(PALETTE[0]))
    bars = alt.Chart(df).mark_bar().encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sum(units):Q", title=units_title), color=color,
        tooltip=["month:O", *([f"{segment}:N"] if segment else []), alt.Tooltip("units:Q", format=",.0f")])
    return finish(bars, title, height=260)
