"""Daily demand per SKU (all warehouses) on given days: trailing sales or the forward plan.

- trailing(t) = Σ sales.units over days t−window+1 … t, divided by window (days before the
  first sales date count as 0; the divisor stays ``window``).
- forward(t) = (1/window) · Σ over d = t+1 … t+window of P(month(d)) / days_in_month(month(d)),
  P(M) = units of the ``plan`` row for M with the latest version_month ≤ month(t) (no
  look-ahead; lag 0 allowed), 0 when there is none.

This is the hot per-SKU-day window shape, so it runs as a numpy kernel (a dense SKU × day array
with cumulative sums) behind a narwhals interface: frames in, a frame of the same backend out.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Sequence

import narwhals.stable.v2 as nw
import numpy as np

from kpilab.kpis._common import as_date, month_number, month_number_of
from kpilab.registry import L10n, Param

_DAY = np.timedelta64(1, "D")

DEMAND_WINDOW = Param("window", "int", 30, L10n("Demand window (days)", "需求窗口 (天)"),
                      L10n("Trailing: mean daily units of the last N days; forward: mean daily plan of the next "
                           "N days.", "过去: 最近 N 天日均销量; 未来: 未来 N 天日均计划量。"), bounds=(1, 365))
"""The ``window`` of the KPIs whose days of sales use daily_demand."""


def daily_demand(ctx, basis: str, window: int, days: Sequence[dt.date], skus: Sequence[str]) -> nw.DataFrame:
    """Frame (sku, date, demand) for every sku × day requested; demand in units per day."""
    days = sorted({as_date(d) for d in days})
    skus = sorted(set(skus))
    if basis == "trailing":
        values = _trailing(ctx, window, days, skus)
    elif basis == "forward":
        values = _forward(ctx, window, days, skus)
    else:
        raise ValueError(f"basis must be trailing or forward, not {basis!r}")
    sales = ctx.table("sales")
    day_axis = np.array(days, dtype="datetime64[us]")
    frame = nw.from_dict({"sku": np.repeat(np.array(skus, dtype=object), len(days)),
                          "date": np.tile(day_axis, len(skus)),
                          "demand": values.reshape(-1)},
                         backend=sales.implementation)
    return frame.with_columns(nw.col("date").cast(sales.schema["date"]))   # same time unit as the data


def _trailing(ctx, window: int, days: list[dt.date], skus: list[str]) -> np.ndarray:
    out = np.zeros((len(skus), len(days)))
    if not days or not skus:
        return out
    sales = ctx.table("sales").select("sku", "date", "units")
    first = np.datetime64(days[0], "D") - window * _DAY
    last = np.datetime64(days[-1], "D")
    span = int((last - first) / _DAY) + 1
    sku_col = sales["sku"].to_numpy().astype(object)
    day_col = sales["date"].to_numpy().astype("datetime64[D]")
    idx = _positions(skus, sku_col)
    pos = ((day_col - first) / _DAY).astype(np.int64)
    keep = (idx >= 0) & (pos >= 0) & (pos < span)
    dense = np.zeros((len(skus), span + 1))
    np.add.at(dense, (idx[keep], pos[keep] + 1), sales["units"].to_numpy()[keep])
    cum = np.cumsum(dense, axis=1)            # cum[:, k] = Σ of days first … first+k−1
    t = np.array([int((np.datetime64(d, "D") - first) / _DAY) for d in days])
    return (cum[:, t + 1] - cum[:, t + 1 - window]) / window


def _forward(ctx, window: int, days: list[dt.date], skus: list[str]) -> np.ndarray:
    out = np.zeros((len(skus), len(days)))
    if not days or not skus or not ctx.has("plans"):
        return out
    plans = (ctx.table("plans").filter(nw.col("source") == "plan")
             .with_columns(m=month_number("month"), v=month_number("version_month"))
             .select("sku", "m", "v", "units"))
    p_sku = _positions(skus, plans["sku"].to_numpy().astype(object))
    p_month, p_version = plans["m"].to_numpy(), plans["v"].to_numpy()
    p_units = plans["units"].to_numpy().astype(float)
    first = np.datetime64(days[0], "D")
    span = int((np.datetime64(days[-1], "D") - first) / _DAY) + window + 2
    axis = [days[0] + dt.timedelta(days=k) for k in range(span)]
    axis_month = np.array([month_number_of(d) for d in axis])
    month_len = np.array([calendar.monthrange(d.year, d.month)[1] for d in axis], dtype=float)
    months = sorted(set(axis_month.tolist()))
    t_pos = np.array([(d - days[0]).days for d in days])
    t_month = np.array([month_number_of(d) for d in days])
    for m0 in sorted(set(t_month.tolist())):
        plan = np.zeros((len(skus), len(months)))
        row = _latest_versions(p_sku, p_month, p_version, m0)
        col = np.searchsorted(months, p_month[row])
        inside = (col < len(months)) & (np.array(months)[np.minimum(col, len(months) - 1)] == p_month[row])
        plan[p_sku[row][inside], col[inside]] = p_units[row][inside]
        rate = plan[:, np.searchsorted(months, axis_month)] / month_len      # sku × axis day
        cum = np.concatenate([np.zeros((len(skus), 1)), np.cumsum(rate, axis=1)], axis=1)
        sel = np.nonzero(t_month == m0)[0]
        t = t_pos[sel]
        out[:, sel] = (cum[:, t + 1 + window] - cum[:, t + 1]) / window
    return out


def _latest_versions(sku: np.ndarray, month: np.ndarray, version: np.ndarray, m0: int) -> np.ndarray:
    """Row numbers of the latest version ≤ m0 of each known (sku, month)."""
    rows = np.nonzero((version <= m0) & (sku >= 0))[0]
    order = rows[np.lexsort((version[rows], month[rows], sku[rows]))]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (sku[order][1:] != sku[order][:-1]) | (month[order][1:] != month[order][:-1])
    return order[last]


def _positions(skus: list[str], values: np.ndarray) -> np.ndarray:
    """Index of each value in the sorted ``skus`` list, −1 where it is not there (vectorised)."""
    ordered = np.array(skus, dtype=object)
    if not len(ordered) or not len(values):
        return np.full(len(values), -1, dtype=np.int64)
    values = values.astype(str).astype(object)
    pos = np.minimum(np.searchsorted(ordered.astype(str), values.astype(str)), len(ordered) - 1)
    return np.where(ordered[pos] == values, pos, -1).astype(np.int64)
