"""Daily demand per SKU (all warehouses) on given days: trailing sales or the forward plan.

- trailing(t) = Σ sales.units over days t−window+1 … t, divided by window (days before the
  first sales date count as 0; the divisor stays ``window``).
- forward(t) = (1/window) · Σ over d = t+1 … t+window of P(month(d)) / days_in_month(month(d)),
  P(M) = units of the ``plan`` row for M with the latest version_month ≤ month(t) (no
  look-ahead; lag 0 allowed), 0 when there is none.

Two kernels give the same numbers behind the same functions:

- lazy (narwhals, runs on the engine: DuckDB, later Spark): trailing is a running sum per SKU
  of +units on the sale day and −units ``window`` days later, read at the asked days; forward
  spreads each plan row over the days of the window that fall in its month;
- numpy (in memory): a dense SKU × day array with cumulative sums — the faster shape when the
  demand of every day is asked for (availability's cell-days).

``demand_at`` (frames in, a lazy frame out) picks numpy on pandas and lazy elsewhere;
``daily_demand`` (lists in, an eager frame out) is the numpy kernel.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Sequence

import narwhals.stable.v2 as nw
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kpilab import engines
from kpilab.kpis._common import as_date, day_number, month_number, month_number_of
from kpilab.registry import L10n, Param

_DAY = np.timedelta64(1, "D")
_EPOCH = dt.date(1970, 1, 1)
BASES = ("trailing", "forward")
KERNELS = ("auto", "numpy", "lazy")

DEMAND_WINDOW = Param("window", "int", 30, L10n("Demand window (days)", "需求窗口 (天)"),
                      L10n("Trailing: mean daily units of the last N days; forward: mean daily plan of the next "
                           "N days.", "过去: 最近 N 天日均销量; 未来: 未来 N 天日均计划量。"), bounds=(1, 365))
"""The ``window`` of the KPIs whose days of sales use daily_demand."""


def daily_demand(ctx, basis: str, window: int, days: Sequence[dt.date], skus: Sequence[str]) -> nw.DataFrame:
    """Frame (sku, date, demand) for every sku × day requested; demand in units per day (numpy
    kernel, an eager frame; the tables are collected when the context hands lazy frames)."""
    _check(basis, "numpy")
    days = sorted({as_date(d) for d in days})
    skus = sorted(set(skus))
    values = _kernel(basis)(ctx, window, days, skus)
    sales = ctx.table("sales")
    day_axis = np.array(days, dtype="datetime64[us]")
    frame = nw.from_dict({"sku": np.repeat(np.array(skus, dtype=object), len(days)),
                          "date": np.tile(day_axis, len(skus)),
                          "demand": values.reshape(-1)},
                         backend=_eager_backend(sales))
    return frame.with_columns(nw.col("date").cast(sales.collect_schema()["date"]))   # the data's time unit


def demand_at(ctx, basis: str, window: int, days: nw.LazyFrame, skus: nw.LazyFrame,
              kernel: str = "auto") -> nw.LazyFrame:
    """Lazy frame (sku, day, demand) for every sku of ``skus`` × day number of ``days`` (columns
    ``sku`` and ``day``, distinct values), on the dataset's engine.

    kernel "auto" runs the numpy kernel on pandas (where narwhals windows are slow) and the lazy
    one on polars and DuckDB (measured on 1,000 SKUs × 365 days at monthly snapshots: polars'
    lazy query is about 3× faster than the numpy kernel, which spends its time turning SKU
    strings into array positions); "numpy" and "lazy" force one (tests)."""
    _check(basis, kernel)
    if kernel == "numpy" or kernel == "auto" and ctx.engine == "pandas":
        day_list = [_EPOCH + dt.timedelta(days=int(d))
                    for d in engines.collect(days.select("day").sort("day"))["day"].to_list()]
        sku_list = sorted(engines.collect(skus.select("sku"))["sku"].to_list())
        values = _kernel(basis)(ctx, window, day_list, sku_list)
        frame = nw.from_dict({"sku": np.repeat(np.array(sku_list, dtype=object), len(day_list)),
                              "day": np.tile(np.array([(d - _EPOCH).days for d in day_list], dtype=np.int64),
                                             len(sku_list)),
                              "demand": values.reshape(-1)},
                             backend=_eager_backend(ctx.table("sales")))
        return frame.lazy()
    targets = skus.select("sku").join(days.select(nw.col("day").cast(nw.Int64)), how="cross")
    rates = _trailing_lazy(ctx, window, targets) if basis == "trailing" else _forward_lazy(ctx, window, targets)
    return (targets.join(rates, on=["sku", "day"], how="left")
            .with_columns(nw.col("demand").fill_null(0.0)))


def _check(basis: str, kernel: str) -> None:
    if basis not in BASES:
        raise ValueError(f"basis must be trailing or forward, not {basis!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")


def _kernel(basis: str):
    return _trailing if basis == "trailing" else _forward


def _eager_backend(frame):
    """The eager backend of results built in memory: the frame's own, pyarrow for DuckDB."""
    impl = frame.implementation
    return impl if impl.is_pandas() or impl.is_polars() else nw.Implementation.PYARROW


def _eager(frame) -> nw.DataFrame:
    return frame if isinstance(frame, nw.DataFrame) else engines.collect(frame)


# --------------------------------------------------------------------------- lazy kernels


def _trailing_lazy(ctx, window: int, targets: nw.LazyFrame) -> nw.LazyFrame:
    """Σ units of days t−window+1 … t / window at each target (sku, day): a running sum ordered
    by day of +units on the sale day and −units on day + window, read on the target rows
    (which sort after the sales of their own day)."""
    first, last = engines.collect(targets.select(nw.col("day").min().alias("a"), nw.col("day").max().alias("b"))).row(0)
    sales = ctx.table("sales")
    if first is not None:  # only the sales that some target's window reads (dates are datetimes)
        start, end = (dt.datetime(1970, 1, 1) + dt.timedelta(days=int(d)) for d in (first - window, last))
        sales = sales.filter(nw.col("date") >= start, nw.col("date") <= end)
    daily = (sales.join(targets.select("sku").unique(), on="sku", how="semi")
             .with_columns(nw.col("units").cast(nw.Float64))
             .group_by("sku", "date").agg(nw.col("units").sum())                    # then number
             .select("sku", day=day_number("date"), units=nw.col("units")))       # fewer rows
    events = nw.concat([
        daily.select("sku", "day", "units", target=nw.lit(0)),
        daily.select("sku", (nw.col("day") + window).alias("day"), units=-nw.col("units"), target=nw.lit(0)),
        targets.select("sku", "day", units=nw.lit(0.0), target=nw.lit(1))])
    running = events.with_columns(
        demand=nw.col("units").cum_sum().over("sku", order_by=["day", "target"]) / window)
    return running.filter(nw.col("target") == 1).select("sku", "day", "demand")


def _forward_lazy(ctx, window: int, targets: nw.LazyFrame) -> nw.LazyFrame:
    """(1/window) Σ over the months M the window t+1 … t+window touches of P(M) · (days of the
    window in M) / days_in_month(M), P(M) the latest plan version ≤ month(t)."""
    if not ctx.has("plans"):
        return targets.with_columns(demand=nw.lit(0.0))
    days = targets.select("day").unique().with_columns(first=nw.col("day") + 1, last=nw.col("day") + window)
    days = with_month_of(with_month_of(with_month_of(days, "day", "mt"), "first", "m1"), "last", "m2")
    if engines.is_spark(days):   # one row per day: kept, so Spark's optimiser does not re-plan the arithmetic 3 times
        days = engines.materialize(days)
    span = (window + 30) // 28 + 1         # the most calendar months a window can touch
    touched = nw.concat([days.with_columns(m=nw.col("m1") + k) for k in range(span)]).filter(
        nw.col("m") <= nw.col("m2"))
    plans = (ctx.table("plans").filter(nw.col("source") == "plan")
             .join(targets.select("sku").unique(), on="sku", how="semi")
             .select("sku", m=month_number("month"), v=month_number("version_month"),
                     units=nw.col("units").cast(nw.Float64)))
    rows = (touched.join(plans, on="m", how="inner").filter(nw.col("v") <= nw.col("mt"))
            .filter(nw.col("v") == nw.col("v").max().over("sku", "m", "day")))
    rows = with_month_start(with_month_start(rows, "m", "start"), "m", "end", offset=1)
    inside = nw.min_horizontal(nw.col("last"), nw.col("end") - 1) - nw.max_horizontal(nw.col("first"), nw.col("start")) + 1
    return (rows.with_columns(part=nw.col("units") * inside.cast(nw.Float64)
                              / (nw.col("end") - nw.col("start")).cast(nw.Float64))
            .group_by("sku", "day").agg(nw.col("part").sum()).select("sku", "day", demand=nw.col("part") / window))


def with_month_of(frame: nw.LazyFrame, day: str, out: str) -> nw.LazyFrame:
    """``out`` = month number (months since year 0) of the day number column ``day`` (days since
    1970-01-01), in integer arithmetic (Hinnant's civil_from_days) so it runs on every engine
    without date types; one step per column (DuckDB binds a single nested expression slowly)."""
    c = nw.col
    return (frame.with_columns(_z=c(day).cast(nw.Int64) + 719468)
            .with_columns(_era=c("_z") // 146097)
            .with_columns(_doe=c("_z") - c("_era") * 146097)
            .with_columns(_yoe=(c("_doe") - c("_doe") // 1460 + c("_doe") // 36524 - c("_doe") // 146096) // 365)
            .with_columns(_mp=(5 * (c("_doe") - 365 * c("_yoe") - c("_yoe") // 4 + c("_yoe") // 100) + 2) // 153)
            .with_columns(**{out: (c("_yoe") + c("_era") * 400 + (c("_mp") >= 10).cast(nw.Int64)) * 12
                             + (c("_mp") + 2) % 12})          # _mp: 0 = March … 11 = February
            .drop("_z", "_era", "_doe", "_yoe", "_mp"))


def with_month_start(frame: nw.LazyFrame, month: str, out: str, offset: int = 0) -> nw.LazyFrame:
    """``out`` = day number of the first day of month number ``month`` + ``offset``, in integer
    arithmetic (days_from_civil; years counted from March), one step per column."""
    c = nw.col
    return (frame.with_columns(_m=c(month).cast(nw.Int64) + offset)
            .with_columns(_y=c("_m") // 12 - (c("_m") % 12 < 2).cast(nw.Int64))
            .with_columns(_era=c("_y") // 400)
            .with_columns(_yoe=c("_y") - c("_era") * 400)
            .with_columns(**{out: c("_era") * 146097 + c("_yoe") * 365 + c("_yoe") // 4 - c("_yoe") // 100
                             + (153 * ((c("_m") % 12 + 10) % 12) + 2) // 5 - 719468})
            .drop("_m", "_y", "_era", "_yoe"))


# --------------------------------------------------------------------------- numpy kernels


def _trailing(ctx, window: int, days: list[dt.date], skus: list[str]) -> np.ndarray:
    out = np.zeros((len(skus), len(days)))
    if not days or not skus:
        return out
    sales = _eager(ctx.table("sales").select("sku", "date", "units"))
    first = np.datetime64(days[0], "D") - window * _DAY
    last = np.datetime64(days[-1], "D")
    span = int((last - first) / _DAY) + 1
    day_col = sales["date"].to_numpy().astype("datetime64[D]")
    idx = positions(skus, sales["sku"])
    pos = ((day_col - first) / _DAY).astype(np.int64)
    keep = (idx >= 0) & (pos >= 0) & (pos < span)
    dense = np.zeros((len(skus), span + 1))
    np.add.at(dense, (idx[keep], pos[keep] + 1), sales["units"].to_numpy().astype(float)[keep])
    cum = np.cumsum(dense, axis=1)            # cum[:, k] = Σ of days first … first+k−1
    t = np.array([int((np.datetime64(d, "D") - first) / _DAY) for d in days])
    return (cum[:, t + 1] - cum[:, t + 1 - window]) / window


def _forward(ctx, window: int, days: list[dt.date], skus: list[str]) -> np.ndarray:
    out = np.zeros((len(skus), len(days)))
    if not days or not skus or not ctx.has("plans"):
        return out
    plans = _eager(ctx.table("plans").filter(nw.col("source") == "plan")
                   .with_columns(m=month_number("month"), v=month_number("version_month"))
                   .select("sku", "m", "v", "units"))
    p_sku = positions(skus, plans["sku"])
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


def positions(skus: list[str], values: nw.Series) -> np.ndarray:
    """Index of each value in the sorted ``skus`` list, −1 where it is not there (Arrow hashing:
    turning millions of strings into Python objects was most of the kernel's time)."""
    arr = values.to_arrow()
    if not len(skus) or not len(arr):
        return np.full(len(arr), -1, dtype=np.int64)
    try:
        found = pc.index_in(arr, value_set=pa.array(list(skus), type=arr.type))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):   # ids read as numbers
        found = pc.index_in(pc.cast(arr, pa.large_string()),
                            value_set=pa.array([str(v) for v in skus], type=pa.large_string()))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
