"""Availability: on-shelf availability, low cover (DOS < N days), lost sales of stock-outs.

The pool on a day t is the set of cells (sku, warehouse) listed on t — from the cell's first
inventory row to its last, inclusive; a missing row in between is 0 units, i.e. out of stock —
whose SKU has lifecycle in ``lifecycles`` and abc_class in ``classes``. A SKU is in the pool on t
when one of its cells is. A cell is in stock when sellable_units > 0. Days are the dates present
in the inventory table; a day is a promotion day when any sales row of that date has promo true.
Every definition is pooled over days: Σ numerator / Σ denominator over the pool cell-days (or
SKU-days) of the group, never a mean of daily ratios.

The per-cell-day shapes (pool expansion over listed days, trailing demand weights, lost-sales
reference days) are the hot path, so they run as numpy kernels on a dense cells × days array
with cumulative sums (see ``_Cube``). Each definition first builds per-entity × day additive
arrays; the per-entity detail is their sum per calendar month (cell × month, or SKU × month for
the network-level definitions), so month grouping and any pooling stay exact, and
``daily_series`` sums the same arrays over entities to give the value per day. The cube of a pool
is kept for the last few (dataset fingerprint, pool) keys, so the many comparisons of one page
share it (a Dataset's frames must not be changed in place after it is made).

Worked check of the spec — 100 SKUs in 20 warehouses, one SKU out in all 20 and one out in 10:

>>> import pandas as pd, kpilab
>>> cells = pd.MultiIndex.from_product([[f"s{i:03d}" for i in range(100)],
...                                     [f"w{j:02d}" for j in range(20)]], names=["sku", "warehouse"])
>>> inv = cells.to_frame(index=False)
>>> out = (inv.sku == "s000") | ((inv.sku == "s001") & (inv.warehouse < "w10"))
>>> inv = inv.assign(date=pd.Timestamp("2024-01-01"), on_hand_units=1.0,
...                  sellable_units=(~out).astype(float))
>>> skus = pd.DataFrame({"sku": inv.sku.unique(), "category": "c", "unit_cost": 1.0})
>>> ds = kpilab.Dataset({"inventory": inv, "skus": skus})
>>> print(round(kpilab.compute(ds, "availability", "cell_level").value, 6))
0.985
>>> print(round(kpilab.compute(ds, "availability", "sku_level").value, 6))
0.99

Reading of the spec (where it leaves a choice):

- Demand weights (demand_weighted) count calendar days t−window … t−1 of the sales table (a day
  with no sales row is 0 units), divided by ``window``; days before the first sales date count 0,
  as in ``_demand``. The divisor cancels in Σ w·[in stock] / Σ w. A pool cell with no sales in its
  window has weight 0: it is invisible to this definition (a cell out of stock for the whole
  window is one) — counted in the notes and in ``gap_breakdown``.
- Lost-sales reference days are inventory dates d with t−window ≤ d ≤ t−1 on which the cell is in
  stock (so it has an inventory row) and whose promo flag equals t's. A reference day without a
  sales row sold 0 units. traffic_conversion: page_views left blank count as 0; when the reference
  days have no page views the conversion is unknown and the estimate is 0 (counted in the notes).
  Lost GMV uses the price Σgmv/Σunits of the reference days; when they sold nothing the estimated
  units are 0 anyway, and so is the GMV.
- ``lifecycles`` and ``classes`` left empty mean all. A SKU of the inventory that the SKU master
  does not list has no lifecycle and is left out of the pool (counted in the notes); a blank
  lifecycle is the contract default ``active``.
- sku_level and low_cover are network-level (a SKU is available when any warehouse has it; DOS
  sums sellable units over warehouses), so grouping them by warehouse is an error: sku_level
  raises a KpiError that names the per-warehouse definitions, and low_cover has no warehouse
  dimension. low_cover's pool SKU on t is a SKU with a listed pool cell on t; DOS < days with
  DOS = Σ_w sellable / demand, +∞ when demand is 0 and units > 0, 0 when units are 0 (so a SKU
  with no sellable units is always under cover).
- The forward basis needs the plans table (an error otherwise); the trailing one reads sales.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpilab.classification import CLASSES_FILTER
from kpilab.engine import Context, missing_inputs
from kpilab.kpis._common import ratio
from kpilab.kpis._demand import DEMAND_WINDOW, daily_demand
from kpilab.registry import Definition, Kpi, KpiError, L10n, Param

LIFECYCLES = ("not_launched", "new", "active", "phase_out", "discontinued")

# --------------------------------------------------------------------------- input helpers


def _strings(series) -> np.ndarray:
    return np.asarray(series.to_numpy(), dtype=object)


def _arrow(series) -> pa.Array:
    arr = series.to_arrow()
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _codes(series, values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a key column and the sorted distinct values it codes into (pyarrow
    hashing: converting millions of strings to Python objects is the slow part otherwise).
    With ``values`` (sorted): the position of each row's value in it, −1 when absent."""
    arr = _arrow(series)
    if values is not None:
        if not len(values):
            return np.full(len(arr), -1, dtype=np.int64), values
        try:
            found = pc.index_in(arr, value_set=pa.array(list(values), type=arr.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):   # e.g. ids read as numbers
            found = pc.index_in(pc.cast(arr, pa.large_string()),
                                value_set=pa.array([str(v) for v in values], type=pa.large_string()))
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64), values
    encoded = arr.dictionary_encode()
    distinct = np.array(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(distinct, kind="stable")
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[order] = np.arange(len(distinct))
    idx = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(idx >= 0, rank[np.maximum(idx, 0)], -1), distinct[order]


def _day_codes(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each date among the distinct sorted dates, those dates) in one linear pass."""
    if not len(days):
        return np.zeros(0, dtype=np.int64), days
    num = days.astype(np.int64)
    low = num.min()
    present = np.bincount(num - low) > 0
    index = np.cumsum(present) - 1
    return index[num - low], (low + np.flatnonzero(present)).astype("datetime64[D]")


def _days_of(series) -> np.ndarray:
    return np.asarray(series.to_numpy()).astype("datetime64[D]")


def _numbers(frame: nw.DataFrame, column: str, default: float = 0.0) -> np.ndarray:
    """A numeric column as float, blanks as ``default`` (an absent column is all ``default``)."""
    if column not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    return frame.select(nw.col(column).cast(nw.Float64).fill_null(default))[column].to_numpy().astype(float)


def _flags(frame: nw.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame.select(nw.col(column).fill_null(False))[column].to_numpy().astype(bool)


def _month_labels(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[M]"), unit="M").astype(object)


def _reduce_months(arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum an entities × days array per month (columns ``starts[i]`` … ``starts[i+1]−1``)."""
    arr = arr.astype(float) if arr.dtype == bool else arr
    if arr.shape[1] == 0:
        return np.zeros((arr.shape[0], 0))
    return np.add.reduceat(arr, starts, axis=1)


# --------------------------------------------------------------------------- the cube


@dataclass(frozen=True)
class _Cube:
    """Pool cells × inventory days. Cells are sorted by (sku, warehouse) and hold only SKUs of
    the pool's lifecycles and classes; ``listed`` is the cell's first … last inventory row."""

    skus: np.ndarray           # S pool SKUs (sorted, object)
    warehouses: np.ndarray     # W warehouses of pool cells (sorted, object)
    cell_sku: np.ndarray       # C → index into skus
    cell_wh: np.ndarray        # C → index into warehouses
    days: np.ndarray           # T inventory dates, datetime64[D], sorted
    sellable: np.ndarray       # C × T sellable units, 0 where there is no row
    listed: np.ndarray         # C × T bool
    month_starts: np.ndarray   # first day index of each month
    months: np.ndarray         # 'YYYY-MM' per month
    sku_starts: np.ndarray     # first cell index of each SKU
    implementation: object     # backend of the input frames

    @property
    def in_stock(self) -> np.ndarray:
        return self.sellable > 0

    @property
    def sku_listed(self) -> np.ndarray:
        """S × T: the SKU has a listed pool cell on the day."""
        if not len(self.skus):
            return np.zeros((0, len(self.days)), dtype=bool)
        return np.logical_or.reduceat(self.listed, self.sku_starts, axis=0)

    @property
    def sku_sellable(self) -> np.ndarray:
        """S × T: Σ over warehouses of sellable units."""
        if not len(self.skus):
            return np.zeros((0, len(self.days)))
        return np.add.reduceat(self.sellable, self.sku_starts, axis=0)

    @property
    def day_month(self) -> np.ndarray:
        return np.searchsorted(self.month_starts, np.arange(len(self.days)), side="right") - 1


def _eligible_skus(ctx) -> tuple[np.ndarray, np.ndarray]:
    """(SKUs of the master, those whose lifecycle and class are in the pool's parameters)."""
    p = ctx.params
    master = ctx.skus
    sku = _strings(master["sku"])
    if "lifecycle" in master.columns:
        life = np.array([str(v).strip().lower() if v is not None and v == v else "active"
                         for v in master["lifecycle"].to_list()], dtype=object)
    else:
        life = np.full(len(sku), "active", dtype=object)
    cls = np.array([str(v).strip().upper() if v is not None else "" for v in master["abc_class"].to_list()],
                   dtype=object)
    keep = np.ones(len(sku), dtype=bool)
    if p.get("lifecycles"):
        keep &= np.isin(life, [str(v).strip().lower() for v in p["lifecycles"]])
    if p.get("classes"):
        keep &= np.isin(cls, [str(v).strip().upper() for v in p["classes"]])
    return sku, sku[keep]


def _pool_label(p, lang: str = "en") -> str:
    life = ", ".join(p.get("lifecycles") or ()) or ("不限" if lang == "zh" else "any")
    classes = ", ".join(p.get("classes") or ()) or ("全部" if lang == "zh" else "all")
    if lang == "zh":
        return f"生命周期 {life}; ABC 分类 {classes}"
    return f"lifecycle {life}; classes {classes}"


def _pool_key(ctx) -> tuple:
    p = ctx.params
    return (tuple(p.get("lifecycles") or ()), tuple(p.get("classes") or ()),
            p.get("a"), p.get("b"), p.get("c"), p.get("window_days"))


def _cube(ctx) -> _Cube:
    return ctx.shared(("availability_cube", *_pool_key(ctx)), lambda: _build_cube(ctx))


def _build_cube(ctx) -> _Cube:
    inv = ctx.table("inventory")
    day_code, days = _day_codes(_days_of(inv["date"]))
    sell = _numbers(inv, "sellable_units")
    master, eligible = _eligible_skus(ctx)

    s_code, s_uni = _codes(inv["sku"])
    unknown = ~np.isin(s_uni, master)
    ok = np.isin(s_uni, eligible)
    if unknown.any():
        rows = int(unknown[s_code].sum())
        ctx.note(f"{rows} inventory rows of {int(unknown.sum())} SKUs missing from the SKU master are "
                 "left out of the pool (their lifecycle is unknown).",
                 zh=f"{int(unknown.sum())} 个 SKU 不在 SKU 主数据中, 其 {rows} 行库存记录不纳入品池 (生命周期未知)。")
    left_out = int((~ok & ~unknown).sum())
    ctx.note(f"Pool: {int(ok.sum())} SKUs ({_pool_label(ctx.params)})"
             + (f"; {left_out} SKUs of other lifecycles or classes left out." if left_out else "."),
             zh=f"品池: {int(ok.sum())} 个 SKU ({_pool_label(ctx.params, 'zh')})"
                + (f"; 另有 {left_out} 个其他生命周期或 ABC 分类的 SKU 不纳入。" if left_out else "。"))
    keep = ok[s_code]
    s_code = (np.cumsum(ok) - 1)[s_code[keep]]
    skus = s_uni[ok]
    w_all, w_uni = _codes(inv["warehouse"])
    w_used = np.zeros(len(w_uni), dtype=bool)
    w_used[w_all[keep]] = True
    warehouses = w_uni[w_used]
    w_code = (np.cumsum(w_used) - 1)[w_all[keep]]
    n_w = max(len(warehouses), 1)
    c_code, cell_keys = pd.factorize(s_code.astype(np.int64) * n_w + w_code, sort=True)
    cell_keys = np.asarray(cell_keys, dtype=np.int64)
    n_c, n_t = len(cell_keys), len(days)
    t_code = day_code[keep]

    sellable = np.zeros((n_c, n_t))
    sellable[c_code, t_code] = sell[keep]
    has_row = np.zeros((n_c, n_t), dtype=bool)
    has_row[c_code, t_code] = True
    if n_c and n_t:
        first = has_row.argmax(axis=1)
        last = n_t - 1 - has_row[:, ::-1].argmax(axis=1)
        axis = np.arange(n_t)
        listed = (axis >= first[:, None]) & (axis <= last[:, None])
    else:
        listed = has_row
    gaps = int((listed & ~has_row).sum())
    if gaps:
        ctx.note(f"{gaps} cell-days inside listing periods have no inventory row: counted as out of stock.",
                 zh=f"上架期内有 {gaps} 个仓×品天没有库存记录: 按缺货计。")

    cell_sku = cell_keys // n_w
    labels = days.astype("datetime64[M]")
    month_starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]) if n_t else np.zeros(0, dtype=int)
    sku_starts = (np.flatnonzero(np.r_[True, cell_sku[1:] != cell_sku[:-1]]) if n_c
                  else np.zeros(0, dtype=int))
    return _Cube(skus=skus, warehouses=warehouses, cell_sku=cell_sku, cell_wh=cell_keys % n_w, days=days,
                 sellable=sellable, listed=listed, month_starts=month_starts,
                 months=_month_labels(days[month_starts]), sku_starts=sku_starts,
                 implementation=inv.implementation)


@dataclass(frozen=True)
class _Sales:
    """The sales rows of pool cells mapped onto the cube: cell index, the row's date and its index
    among the inventory days (−1 when the date is not an inventory date)."""

    cell: np.ndarray
    date: np.ndarray
    day: np.ndarray
    units: np.ndarray
    gmv: np.ndarray
    page_views: np.ndarray
    page_views_blank: int
    promo_day: np.ndarray      # T bool: any sales row of the date has promo true


def _sales(ctx, cube: _Cube) -> _Sales:
    return ctx.shared(("availability_sales", *_pool_key(ctx)), lambda: _build_sales(ctx, cube))


def _build_sales(ctx, cube: _Cube) -> _Sales:
    sales = ctx.table("sales")
    n_w = max(len(cube.warehouses), 1)
    s_idx, _ = _codes(sales["sku"], cube.skus)
    w_idx, _ = _codes(sales["warehouse"], cube.warehouses)
    lookup = np.full(len(cube.skus) * n_w, -1, dtype=np.int64)
    lookup[cube.cell_sku * n_w + cube.cell_wh] = np.arange(len(cube.cell_sku))
    known = (s_idx >= 0) & (w_idx >= 0)
    cell = np.full(len(sales), -1, dtype=np.int64)
    cell[known] = lookup[s_idx[known] * n_w + w_idx[known]]
    date = _days_of(sales["date"])
    promo = _flags(sales, "promo")
    promo_day = np.isin(cube.days, np.unique(date[promo]))          # over every sales row of the date
    ours = cell >= 0                                                   # keep only rows of pool cells
    date = date[ours]
    pos = np.searchsorted(cube.days, date)
    exact = pos < len(cube.days)
    exact[exact] = cube.days[pos[exact]] == date[exact]
    day = np.where(exact, pos, -1).astype(np.int32)
    if "page_views" in sales.columns:
        blank = int(sales.select(nw.col("page_views").is_null())["page_views"].to_numpy()[ours].sum())
    else:
        blank = int(ours.sum())
    return _Sales(cell=cell[ours].astype(np.int32), date=date, day=day, units=_numbers(sales, "units")[ours],
                  gmv=_numbers(sales, "gmv")[ours], page_views=_numbers(sales, "page_views")[ours],
                  page_views_blank=blank, promo_day=promo_day)


def _dense(cube: _Cube, sales: _Sales, values: np.ndarray) -> np.ndarray:
    """C × T array of a sales column on the inventory days (0 where there is no row)."""
    n_c, n_t = cube.listed.shape
    ok = (sales.cell >= 0) & (sales.day >= 0)
    flat = sales.cell[ok].astype(np.int64) * n_t + sales.day[ok]
    return np.bincount(flat, weights=values[ok], minlength=n_c * n_t).reshape(n_c, n_t)


# --------------------------------------------------------------------------- kernels


def trailing_cell_units(cube: _Cube, sales: _Sales, window: int) -> np.ndarray:
    """C × T: Σ sales.units of the cell over calendar days t−window … t−1 (exact 0 when no day in
    the window sold anything). A dense cell × calendar-day array with cumulative sums."""
    n_c, n_t = cube.listed.shape
    if not n_c or not n_t:
        return np.zeros((n_c, n_t))
    origin = cube.days[0] - np.timedelta64(window, "D")
    span = int((cube.days[-1] - origin) / np.timedelta64(1, "D")) + 1
    pos = ((sales.date - origin) / np.timedelta64(1, "D")).astype(np.int64)
    ok = (sales.cell >= 0) & (pos >= 0) & (pos < span)
    flat = sales.cell[ok].astype(np.int64) * (span + 1) + pos[ok] + 1   # column k + 1 holds calendar day k
    at = ((cube.days - origin) / np.timedelta64(1, "D")).astype(np.int64)

    def window_sum(weights):
        dense = np.bincount(flat, weights=weights, minlength=n_c * (span + 1)).reshape(n_c, span + 1)
        cum = np.cumsum(dense, axis=1)                           # cum[:, k] = Σ of days < k
        return cum[:, at] - cum[:, at - window]

    total = window_sum(sales.units[ok])
    selling = window_sum((sales.units[ok] > 0).astype(float))    # exact count: guards float dust
    return np.where(selling > 0, np.maximum(total, 0.0), 0.0)


def reference_sums(cube: _Cube, promo_day: np.ndarray, window: int, cells: np.ndarray, days: np.ndarray,
                   quantities: Iterable[np.ndarray | None]) -> list[np.ndarray]:
    """For each (cells[i], days[i]): Σ of each C × T quantity (None = count of days) over the
    cell's reference days — inventory days d with t−window ≤ d ≤ t−1, in stock, promo(d) = promo(t).

    Cumulative sums along the day axis, one pass per promo flag."""
    n_c, n_t = cube.listed.shape
    lo = np.searchsorted(cube.days, cube.days - np.timedelta64(window, "D"), side="left")
    flag = promo_day[days]
    in_stock = cube.in_stock
    out = []
    for q in quantities:
        res = np.zeros(len(cells))
        for f in (False, True):
            sel = flag == f
            if not sel.any():
                continue
            mask = in_stock & (promo_day == f)[None, :]
            cum = np.zeros((n_c, n_t + 1))
            np.cumsum(mask if q is None else np.where(mask, q, 0.0), axis=1, out=cum[:, 1:])
            c, t = cells[sel], days[sel]
            res[sel] = cum[c, t] - cum[c, lo[t]]
        out.append(res)
    return out


# --------------------------------------------------------------------------- per-day arrays
# Each returns (level, {additive column: entities × days array}); level "cell" or "sku".


def _sku_level_arrays(ctx, cube):
    listed = cube.sku_listed
    return "sku", {"in_stock_sku_days": listed & (cube.sku_sellable > 0), "pool_sku_days": listed}


def _cell_level_arrays(ctx, cube):
    return "cell", {"in_stock_cell_days": cube.listed & cube.in_stock, "pool_cell_days": cube.listed}


def _demand_weighted_arrays(ctx, cube):
    if not ctx.has("sales"):
        raise KpiError("availability demand_weighted needs the sales table (the weights are past sales)")
    window = ctx.params["window"]
    w = trailing_cell_units(cube, _sales(ctx, cube), window) / window
    w = np.where(cube.listed, w, 0.0)
    zero = cube.listed & (w == 0)
    if zero.any():
        out = int((zero & ~cube.in_stock).sum())
        ctx.note(f"{int(zero.sum())} pool cell-days sold nothing in the {window} days before and weigh 0 in "
                 f"demand_weighted" + (f" ({out} of them out of stock: long stock-outs fade from this view)."
                                       if out else "."),
                 zh=f"{int(zero.sum())} 个品池仓×品天在此前 {window} 天内没有销量, 在 demand_weighted 中权重为 0"
                    + (f" (其中 {out} 个缺货: 长期缺货在此口径下会被淡化)。" if out else "。"))
    return "cell", {"in_stock_weight": np.where(cube.in_stock, w, 0.0), "weight_total": w,
                    "zero_weight_cell_days": zero}


def _low_cover_arrays(basis: str):
    def arrays(ctx, cube):
        p = ctx.params
        if basis == "forward" and not ctx.has("plans"):
            raise KpiError("low_cover forward needs the plans table (demand from the sales plan)")
        if basis == "forward" and not len(ctx.table("plans").filter(nw.col("source") == "plan")):
            ctx.note("The plans table has no 'plan' rows: forward demand is 0, so only SKUs without sellable "
                     "units are under cover.",
                     zh="plans 表没有 'plan' 行: 未来需求为 0, 只有没有可售库存的 SKU 算低覆盖。")
        n_s, n_t = len(cube.skus), len(cube.days)
        demand = np.zeros((n_s, n_t))
        if n_s and n_t:
            frame = daily_demand(ctx, basis, p["window"], cube.days.astype(object).tolist(), cube.skus.tolist())
            s, _ = _codes(frame["sku"], cube.skus)
            t = np.searchsorted(cube.days, _days_of(frame["date"]))
            demand[s, t] = frame["demand"].to_numpy().astype(float)
        units = cube.sku_sellable
        with np.errstate(divide="ignore", invalid="ignore"):
            dos = np.where(units > 0, np.where(demand > 0, units / np.where(demand > 0, demand, 1.0), np.inf), 0.0)
        listed = cube.sku_listed
        return "sku", {"low_cover_sku_days": listed & (dos < p["days"]), "pool_sku_days": listed}
    return arrays


def _lost_sales_arrays(method: str):
    def arrays(ctx, cube):
        window = ctx.params["window"]
        sales = _sales(ctx, cube)
        if method == "traffic_conversion" and len(sales.units) and sales.page_views_blank == len(sales.units):
            raise KpiError("lost_sales traffic_conversion needs sales.page_views, which this dataset does not fill")
        n_c, n_t = cube.listed.shape
        oos = cube.listed & ~cube.in_stock
        cells, days = np.nonzero(oos)
        units = _dense(cube, sales, sales.units)
        gmv = _dense(cube, sales, sales.gmv)
        quantities = [None, units, gmv, units > 0]
        if method == "traffic_conversion":
            views = _dense(cube, sales, sales.page_views)
            quantities += [views, views > 0]
        sums = reference_sums(cube, sales.promo_day, window, cells, days,
                              [q.astype(float) if q is not None and q.dtype == bool else q for q in quantities])
        n, u, g, n_selling = sums[:4]
        u = np.where(n_selling > 0, u, 0.0)
        if method == "historical_average":
            est = np.divide(u, n, out=np.zeros_like(u), where=n > 0)
        else:
            pv, n_viewed = sums[4], sums[5]
            rate = np.divide(u, pv, out=np.zeros_like(u), where=n_viewed > 0)
            est = views[cells, days] * rate
            blind = int(((n > 0) & (n_viewed == 0)).sum())
            if blind:
                ctx.note(f"{blind} out-of-stock cell-days have reference days without page views: "
                         "conversion unknown, estimated 0.",
                         zh=f"{blind} 个缺货仓×品天的参考日没有页面浏览: 转化率未知, 估算为 0。")
            if sales.page_views_blank:
                ctx.note(f"{sales.page_views_blank} sales rows have no page_views; they count as 0 views.",
                         zh=f"{sales.page_views_blank} 行销售记录缺少 page_views, 按 0 次浏览计。")
        price = np.divide(g, u, out=np.zeros_like(g), where=n_selling > 0)
        none = int((n == 0).sum())
        if none:
            ctx.note(f"{none} out-of-stock cell-days have no in-stock reference day with the same promo flag "
                     f"in the {window} days before: estimated 0.",
                     zh=f"{none} 个缺货仓×品天在此前 {window} 天内没有促销标记相同的有货参考日: 估算为 0。")
        lost_units = np.zeros((n_c, n_t))
        lost_units[cells, days] = est
        lost_gmv = np.zeros((n_c, n_t))
        lost_gmv[cells, days] = est * price
        no_ref = np.zeros((n_c, n_t), dtype=bool)
        no_ref[cells, days] = n == 0
        return "cell", {"lost_gmv": lost_gmv, "lost_units": lost_units, "oos_cell_days": oos,
                        "no_reference_cell_days": no_ref}
    return arrays


# --------------------------------------------------------------------------- detail


def _detail(cube: _Cube, level: str, arrays: dict[str, np.ndarray]) -> nw.DataFrame:
    """Per cell × month (or SKU × month) sums of the per-day arrays, rows with pool days only."""
    if level == "cell":
        pool = _reduce_months(cube.listed, cube.month_starts)
        keys = {"sku": cube.skus[cube.cell_sku] if len(cube.skus) else np.zeros(0, dtype=object),
                "warehouse": cube.warehouses[cube.cell_wh] if len(cube.warehouses) else np.zeros(0, dtype=object)}
    else:
        pool = _reduce_months(cube.sku_listed, cube.month_starts)
        keys = {"sku": cube.skus}
    n_e, n_m = pool.shape
    keep = (pool > 0).reshape(-1)
    data = {k: np.repeat(v, n_m)[keep] for k, v in keys.items()}
    data["month"] = np.tile(cube.months, n_e)[keep]
    for name, arr in arrays.items():
        summed = _reduce_months(arr, cube.month_starts).reshape(-1)[keep]
        data[name] = summed.astype(np.int64) if arr.dtype == bool else summed
    return nw.from_dict(data, backend=cube.implementation)


def _stats(arrays_of, network: bool = False):
    def stats(ctx, p, by):
        if network and "warehouse" in by:
            raise KpiError("sku_level is a network-level definition (a SKU counts as available when any "
                           "warehouse has it), so it cannot be grouped by warehouse; use cell_level or "
                           "demand_weighted for a per-warehouse view")
        cube = _cube(ctx)
        level, arrays = arrays_of(ctx, cube)
        return _detail(cube, level, arrays)
    return stats


def _share(num: str, den: str):
    return lambda sums: sums.with_columns(value=ratio(num, den))


def _lost_finish(sums):
    return sums.with_columns(value=nw.col("lost_gmv"))


# --------------------------------------------------------------------------- helpers for the page


def _context(dataset, kpi: Kpi, params: dict) -> Context:
    missing = missing_inputs(kpi, dataset)
    if missing:
        raise KpiError(f"{kpi.id} needs {', '.join(missing)}, which this dataset does not have")
    return Context(dataset, kpi.resolve_params(params))


def daily_series(dataset, kpi: str = "availability", definitions: Iterable[str] | None = None,
                 **params):
    """Value per inventory day of each definition (long frame: date, month, definition, value and
    the definition's additive columns) — the same per-day arrays the KPI pools, summed over the
    pool of each day. Native frame of the dataset's backend."""
    k = _KPIS[kpi] if kpi in _KPIS else None
    if k is None:
        raise KpiError(f"daily_series: {kpi!r} is not an availability KPI; valid: {', '.join(_KPIS)}")
    ctx = _context(dataset, k, params)
    cube = _cube(ctx)
    chosen = [k.definition(d) for d in (definitions or [d.id for d in k.definitions])]
    frames = []
    date_axis = cube.days.astype("datetime64[us]")
    for d in chosen:
        _, arrays = _ARRAYS[(k.id, d.id)](ctx, cube)
        data = {"date": date_axis, "month": _month_labels(cube.days),
                "definition": np.full(len(cube.days), d.id, dtype=object)}
        data.update({name: arrays[name].sum(axis=0).astype(float) for name in d.sums})
        frame = nw.from_dict(data, backend=cube.implementation)
        frames.append(d.finish(frame).select("date", "month", "definition", "value", *d.sums))
    return nw.concat(frames, how="diagonal").to_native()


def in_stock_matrix(dataset, *, month: str | None = None, top: int | None = None, sort: str = "demand",
                    **params):
    """Warehouse × SKU matrix of in-stock days for the heatmap (long frame, one row per pool cell).

    share = in-stock days / listed pool days of the cell over the inventory days of ``month`` (all
    days when None). demand = Σ sales.units of the SKU over all warehouses on the calendar days of
    that span. ``top`` keeps the N SKUs of highest demand (ties by sku); ``sort`` orders SKUs by
    ``demand`` (descending), ``availability`` (the SKU's pooled share ascending: worst first,
    ties by demand) or ``sku``; ``order`` is the SKU's position. Parameters are the availability
    KPI's (lifecycles, classes, …).
    """
    if sort not in ("demand", "availability", "sku"):
        raise KpiError(f"in_stock_matrix: sort must be demand, availability or sku, not {sort!r}")
    if top is not None and top < 1:
        raise KpiError("in_stock_matrix: top must be at least 1")
    ctx = _context(dataset, AVAILABILITY, params)
    cube = _cube(ctx)
    cols = np.ones(len(cube.days), dtype=bool)
    if month is not None:
        cols = _month_labels(cube.days) == month
        if not cols.any():
            raise KpiError(f"in_stock_matrix: no inventory day in month {month!r}")
    listed = cube.listed[:, cols]
    pool = listed.sum(axis=1)
    in_stock = (listed & cube.in_stock[:, cols]).sum(axis=1)
    demand = np.zeros(len(cube.skus))
    if ctx.has("sales") and cols.any() and len(cube.skus):
        sales = ctx.table("sales")
        span = cube.days[cols]
        date = _days_of(sales["date"])
        s, _ = _codes(sales["sku"], cube.skus)
        ok = (s >= 0) & (date >= span[0]) & (date <= span[-1])
        demand = np.bincount(s[ok], weights=_numbers(sales, "units")[ok], minlength=len(cube.skus))
    sku_pool = np.bincount(cube.cell_sku, weights=pool, minlength=len(cube.skus))
    sku_in = np.bincount(cube.cell_sku, weights=in_stock, minlength=len(cube.skus))
    sku_share = np.divide(sku_in, sku_pool, out=np.full(len(cube.skus), np.nan), where=sku_pool > 0)
    present = sku_pool > 0
    ids = np.flatnonzero(present)
    by_demand = ids[np.lexsort((cube.skus[ids], -demand[ids]))]        # cube.skus is sorted: ties by sku
    if top is not None:
        ids = np.sort(by_demand[:top])
    if sort == "demand":
        chosen = set(ids.tolist())
        ordered = [i for i in by_demand.tolist() if i in chosen]
    elif sort == "availability":
        ordered = ids[np.lexsort((cube.skus[ids], -demand[ids], sku_share[ids]))].tolist()
    else:
        ordered = sorted(ids.tolist())
    rank = np.full(len(cube.skus), -1)
    rank[np.asarray(ordered, dtype=int)] = np.arange(len(ordered))
    rows = (pool > 0) & (rank[cube.cell_sku] >= 0)
    classes = dict(zip(_strings(ctx.skus["sku"]), ctx.skus["abc_class"].to_list()))
    c = np.flatnonzero(rows)
    sku = cube.skus[cube.cell_sku[c]]
    data = {"sku": sku, "warehouse": cube.warehouses[cube.cell_wh[c]],
            "abc_class": np.array([classes.get(s) for s in sku], dtype=object),
            "in_stock_days": in_stock[c].astype(np.int64), "pool_days": pool[c].astype(np.int64),
            "share": in_stock[c] / pool[c],
            "sku_demand": demand[cube.cell_sku[c]].astype(float),
            "sku_share": sku_share[cube.cell_sku[c]], "order": rank[cube.cell_sku[c]].astype(np.int64)}
    frame = nw.from_dict(data, backend=cube.implementation).sort("order", "warehouse")
    return frame.to_native()


def gap_breakdown(dataset, **params):
    """Why the three availability definitions differ, as pool cell-day counts (one-row frame).

    - pool_cell_days, oos_cell_days: cell_level = 1 − oos_cell_days / pool_cell_days;
    - pool_sku_days, oos_sku_days (out in every warehouse): sku_level = 1 − oos_sku_days / pool_sku_days;
    - covered_oos_cell_days: out-of-stock cell-days of a SKU in stock in another warehouse that day —
      stock-outs cell_level sees and sku_level does not (the network 'covers' them); covered_share
      is their share of oos_cell_days;
    - oos_weight_share = 1 − demand_weighted, oos_count_share = 1 − cell_level, and
      weight_concentration = their ratio (> 1: stock-outs hit the cells that sell);
    - zero_weight_cell_days, zero_weight_oos_cell_days: pool cell-days with no sales in the window,
      which demand_weighted does not see (a long stock-out sells nothing, so it fades away).
    """
    ctx = _context(dataset, AVAILABILITY, params)
    cube = _cube(ctx)
    listed, in_stock = cube.listed, cube.in_stock
    oos = listed & ~in_stock
    sku_listed = cube.sku_listed
    sku_in = sku_listed & (cube.sku_sellable > 0)
    covered = oos & sku_in[cube.cell_sku] if len(cube.skus) else oos
    row = {"pool_cell_days": int(listed.sum()), "oos_cell_days": int(oos.sum()),
           "pool_sku_days": int(sku_listed.sum()), "oos_sku_days": int((sku_listed & ~sku_in).sum()),
           "covered_oos_cell_days": int(covered.sum())}
    row["covered_share"] = row["covered_oos_cell_days"] / row["oos_cell_days"] if row["oos_cell_days"] else math.nan
    weights = {}
    if ctx.has("sales"):
        _, weights = _demand_weighted_arrays(ctx, cube)
    if weights:
        total = float(weights["weight_total"].sum())
        out_weight = total - float(weights["in_stock_weight"].sum())
        zero = weights["zero_weight_cell_days"]
        row.update(zero_weight_cell_days=int(zero.sum()), zero_weight_oos_cell_days=int((zero & oos).sum()),
                   oos_weight_share=out_weight / total if total else math.nan)
    else:
        row.update(zero_weight_cell_days=0, zero_weight_oos_cell_days=0, oos_weight_share=math.nan)
    count_share = row["oos_cell_days"] / row["pool_cell_days"] if row["pool_cell_days"] else math.nan
    row["oos_count_share"] = count_share
    row["weight_concentration"] = (row["oos_weight_share"] / count_share
                                   if count_share and not math.isnan(count_share) else math.nan)
    return nw.from_dict({k: [v] for k, v in row.items()}, backend=cube.implementation).to_native()


def usable_definitions(dataset, kpi: str) -> tuple[str, ...]:
    """The definitions of an availability-family KPI this dataset can feed: demand_weighted needs
    sales, forward needs plans, traffic_conversion needs page views in sales."""
    k = _KPIS.get(kpi)
    if k is None:
        raise KpiError(f"usable_definitions: {kpi!r} is not an availability KPI; valid: {', '.join(_KPIS)}")
    tables = dataset.tables

    def has_views() -> bool:
        if "sales" not in tables:
            return False
        frame = nw.from_native(tables["sales"], eager_only=True)
        return "page_views" in frame.columns and frame["page_views"].null_count() < len(frame)

    needs = {"demand_weighted": lambda: "sales" in tables, "forward": lambda: "plans" in tables,
             "traffic_conversion": has_views}
    return tuple(d.id for d in k.definitions if needs.get(d.id, lambda: True)())


def pool_views(comparisons: dict, labels: dict[str, str] | None = None, pool_column: str = "pool") -> pd.DataFrame:
    """Out-of-stock rate (1 − availability) of each definition under several pools, one row per
    pool: ``comparisons`` maps a pool's display name (e.g. "A only") to an ungrouped availability
    Comparison; ``labels`` maps definition ids to column names."""
    labels = labels or {}
    rows = []
    for name, cmp in comparisons.items():
        row = {pool_column: name}
        for def_id, result in cmp.results.items():
            row[labels.get(def_id, def_id)] = 1 - float(result.value)
        rows.append(row)
    return pd.DataFrame(rows)


def cover_long(comparisons: dict, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Monthly low_cover comparisons at several thresholds as long rows (month, definition,
    threshold, value) for one chart: ``comparisons`` maps the ``days`` threshold to a low_cover
    Comparison grouped by month."""
    labels = labels or {}
    frames = []
    for days, cmp in comparisons.items():
        for def_id, result in cmp.results.items():
            frame = nw.from_native(result.table, eager_only=True).select("month", "value").to_pandas()
            frames.append(frame.assign(definition=labels.get(def_id, def_id), threshold=f"DOS < {days}"))
    if not frames:
        return pd.DataFrame(columns=["month", "definition", "threshold", "value"])
    return pd.concat(frames, ignore_index=True)[["month", "definition", "threshold", "value"]]


REBUY_RARE = ("apparel", "clothing", "fashion", "shoes", "footwear", "bag", "luggage", "accessor",
              "服饰", "服装", "鞋", "箱包", "包")


def rarely_rebought(categories: Iterable[str]) -> list[str]:
    """Categories whose items are rarely bought again (apparel, bags …, by keyword, English or
    Chinese): there the historical-average fill over-states lost sales (the article's caution).

    >>> rarely_rebought(["Apparel", "Diapers", "Bags", "女装服饰", "Wine"])
    ['Apparel', 'Bags', '女装服饰']
    """
    return [c for c in categories if isinstance(c, str) and any(k in c.lower() for k in REBUY_RARE)]


# --------------------------------------------------------------------------- declarations

_LIFECYCLES = Param("lifecycles", "list", ("new", "active"), L10n("Lifecycles in the pool", "纳入品池的生命周期"),
                    L10n("The article's pool: from new to active, leaving out not-launched and phased-out items "
                         "(blank = all).", "文章的取数品池: 从新品期到售卖期, 剔除未上市和淘汰的品 (留空 = 全部)。"),
                    choices=LIFECYCLES)
_WEIGHT_WINDOW = Param("window", "int", 30, L10n("Demand-weight window (days)", "销量权重窗口 (天)"),
                       L10n("Weight of a cell on day t = its mean daily units over the window days before t.",
                            "某仓某品在 t 日的权重 = t 日之前窗口内的日均销量。"), bounds=(1, 365))
_COVER_DAYS = Param("days", "int", 7, L10n("Cover threshold (days of sales)", "可售天数阈值 (天)"),
                    L10n("A SKU is under cover when DOS < days; the article watches 1 and 7.",
                         "DOS 小于该天数即为低覆盖; 文章关注 DOS<1 和 DOS<7。"), bounds=(1, 3650))
_REFERENCE_WINDOW = Param("window", "int", 28, L10n("Reference window (days)", "参考窗口 (天)"),
                          L10n("Reference days are the cell's in-stock days among the window days before the "
                               "stock-out, with the same promotion flag (everyday for everyday, promo for promo).",
                               "参考日为缺货日之前窗口内该仓该品有货、且促销标记相同的日子 (日常参考日常, 大促参考大促)。"),
                          bounds=(1, 365))

_POOL = ("lifecycles", "classes")

AVAILABILITY = Kpi(
    id="availability", family="availability",
    name=L10n("On-shelf availability", "在架率"),
    description=L10n("Share of the items that should be on sale that have sellable stock, day by day "
                     "(out-of-stock rate = 1 − availability).",
                     "应在线可售的商品中实际有良品可售库存的比例, 按天统计 (缺货率 = 1 − 在架率)。"),
    unit="share", direction="higher", tables=("inventory", "skus"),
    period=L10n("month of the snapshot day", "快照日所在月份"),
    params=(_LIFECYCLES, CLASSES_FILTER, _WEIGHT_WINDOW),
    definitions=(
        Definition("sku_level", L10n("SKU-level availability (one warehouse ships nationwide)",
                                     "SKU 在架率 (一仓发全国)"),
                   "pool SKUs with Σ_w sellable > 0 / pool SKUs   (per day, pooled over days)",
                   L10n("A SKU counts as available when any warehouse has sellable stock: 100 items with 2 "
                        "out is 98%.", "只要任一仓有良品可售库存, 该 SKU 即算在架: 100 个品两个没货, 在架率 98%。"),
                   L10n("Any warehouse can ship to the whole country, so a stock-out in one warehouse is "
                        "covered by another.", "各仓可以一仓发全国, 某仓缺货可由其他仓补位。"),
                   stats=_stats(_sku_level_arrays, network=True),
                   finish=_share("in_stock_sku_days", "pool_sku_days"),
                   sums=("in_stock_sku_days", "pool_sku_days"), helpers=("in_stock_sku_days", "pool_sku_days"),
                   params=_POOL),
        Definition("cell_level", L10n("Warehouse × SKU availability (forward warehouses)",
                                      "仓×品在架率 (前置仓)"),
                   "in-stock pool cells / pool cells   (cell = sku × warehouse; per day, pooled over days)",
                   L10n("The share of the warehouse × SKU matrix that has stock: 1 item out in 20 warehouses "
                        "and 1 in 10 of 2,000 cells is 98.5%.",
                        "'仓×SKU' 矩阵中有货格子的比例: 100 个品 20 个仓, 1 个品 20 仓全缺、1 个品缺 10 仓, "
                        "在架率 98.5%。"),
                   L10n("Warehouses cannot stand in for each other: each forward warehouse covers its own "
                        "delivery area.", "仓之间无法替代发货, 各前置仓各自覆盖一定配送范围。"),
                   stats=_stats(_cell_level_arrays), finish=_share("in_stock_cell_days", "pool_cell_days"),
                   sums=("in_stock_cell_days", "pool_cell_days"),
                   helpers=("in_stock_cell_days", "pool_cell_days"), params=_POOL),
        Definition("demand_weighted", L10n("Demand-weighted availability", "销量加权在架率"),
                   "Σ w·[in stock] / Σ w over pool cells, w = the cell's mean daily units over days "
                   "t−window … t−1",
                   L10n("Each warehouse × SKU cell counts by what it usually sells: a stock-out of a super-hit "
                        "weighs far more than one of a long-tail item.",
                        "每个仓×品格子按其日均销量加权: 超爆品缺货的分量远大于长尾品。"),
                   L10n("Plain availability has no notion of weight and cannot show how much business a "
                        "stock-out costs; here the hits dominate, like the article's A / AB out-of-stock "
                        "rates. Beware: a cell out for the whole window sold nothing and weighs 0.",
                        "简单在架率对不同 SKU 没有权重概念, 看不出缺货金额大小; 此口径由爆品主导, "
                        "类似文章的 A 类 / AB 类缺货率。注意: 整个窗口都缺货的格子没有销量, 权重为 0。"),
                   stats=_stats(_demand_weighted_arrays), finish=_share("in_stock_weight", "weight_total"),
                   sums=("in_stock_weight", "weight_total"), helpers=("in_stock_weight", "weight_total"),
                   params=(*_POOL, "window")),
    ),
    dims=("warehouse",), optional_tables=("sales",))


LOW_COVER = Kpi(
    id="low_cover", family="availability",
    name=L10n("Low cover (DOS < N days)", "低覆盖 SKU 占比 (DOS < N 天)"),
    description=L10n("Share of pool SKUs whose network stock covers fewer than N days of sales, day by day: a "
                     "watch list beyond in-stock / out-of-stock.",
                     "全网库存可售天数不足 N 天的品池 SKU 占比, 按天统计: 不只看'有无'的监控指标。"),
    unit="share", direction="lower", tables=("inventory", "sales", "skus"),
    period=L10n("month of the snapshot day", "快照日所在月份"),
    params=(_COVER_DAYS, DEMAND_WINDOW, _LIFECYCLES, CLASSES_FILTER),
    definitions=(
        Definition("trailing", L10n("By past sales", "按过去日均销售"),
                   "pool SKUs with DOS < days / pool SKUs, DOS = Σ_w sellable / (Σ units over t−window+1 … t "
                   "/ window)",
                   L10n("Days the stock lasts at the recent sales pace.", "按近期销售节奏, 库存还能卖几天。"),
                   L10n("No neutral, stable sales plan exists: past sales are objective and hard to "
                        "manipulate.", "没有中性稳定的销售计划时: 历史日均销售客观、不易被操纵。"),
                   stats=_stats(_low_cover_arrays("trailing")),
                   finish=_share("low_cover_sku_days", "pool_sku_days"),
                   sums=("low_cover_sku_days", "pool_sku_days"), helpers=("low_cover_sku_days", "pool_sku_days"),
                   params=("days", "window", *_POOL)),
        Definition("forward", L10n("By the sales plan", "按未来销售计划"),
                   "pool SKUs with DOS < days / pool SKUs, DOS = Σ_w sellable / forward demand "
                   "((1/window) · Σ_{d=t+1…t+window} P(month(d)) / days_in_month)",
                   L10n("Days the stock lasts against the plan ahead: catches the peak before a promotion.",
                        "按未来销售计划, 库存还能卖几天: 大促前就能看到缺口。"),
                   L10n("The article's DOS: a neutral, stable sales plan exists (90–110% achievement), and "
                        "you want to act before the stock-out.",
                        "文章的 DOS 定义: 有一版中性稳定的销售计划 (达成率 90–110%), 希望在缺货之前行动。"),
                   stats=_stats(_low_cover_arrays("forward")),
                   finish=_share("low_cover_sku_days", "pool_sku_days"),
                   sums=("low_cover_sku_days", "pool_sku_days"), helpers=("low_cover_sku_days", "pool_sku_days"),
                   params=("days", "window", *_POOL)),
    ),
    optional_tables=("plans",))


LOST_SALES = Kpi(
    id="lost_sales", family="availability",
    name=L10n("Lost sales of stock-outs (estimate)", "缺货损失金额 (估算)"),
    description=L10n("GMV the out-of-stock warehouse × SKU days would have sold, estimated from comparable "
                     "in-stock days. An estimate: validate it before you steer purchasing by it.",
                     "缺货的仓×品天本可实现的 GMV, 按可比的有货日估算。这是估算值: 验证可用后再据此指导采购。"),
    unit="money", direction="lower", tables=("inventory", "sales", "skus"),
    period=L10n("month of the out-of-stock day", "缺货日所在月份"),
    params=(_REFERENCE_WINDOW, _LIFECYCLES, CLASSES_FILTER),
    definitions=(
        Definition("historical_average", L10n("Historical daily average", "历史日均销量填补"),
                   "Σ lost GMV; units of an out-of-stock cell-day = mean sales.units of the cell over its "
                   "in-stock days among t−window … t−1 with the same promo flag as t (0 if none); "
                   "GMV = units × Σgmv/Σunits of those days",
                   L10n("Fills each out-of-stock day with the cell's average daily sales on comparable "
                        "in-stock days (everyday for everyday, promo for promo).",
                        "缺货的日子用历史日均销售填补 (日常参考日常, 大促参考大促)。"),
                   L10n("Simple and needs no traffic data. It ignores shopper fatigue, so it over-states items "
                        "rarely bought again (apparel, bags) and can push purchasing too high.",
                        "简单, 不需要流量数据。但没有考虑消费者疲劳度, 对不太回购的服饰箱包类会过度填补, "
                        "显示出过大的缺货金额, 引导过大的采购。"),
                   stats=_stats(_lost_sales_arrays("historical_average")), finish=_lost_finish,
                   sums=("lost_gmv", "lost_units", "oos_cell_days"), helpers=("lost_units", "oos_cell_days"),
                   params=("window", *_POOL)),
        Definition("traffic_conversion", L10n("Page views × conversion", "页面流量 × 历史转化率"),
                   "Σ lost GMV; units of an out-of-stock cell-day = page_views(t) × Σunits/Σpage_views of "
                   "the cell over the same reference days (0 if none); GMV = units × Σgmv/Σunits",
                   L10n("The shoppers who still reached the sold-out page, times the cell's usual conversion "
                        "on comparable in-stock days.",
                        "缺货日仍访问到商品页的流量, 乘以可比有货日的历史转化率。"),
                   L10n("Page views are tracked per item: uses real demand signals. But a sold-out item is "
                        "only reached by search, favourites or the cart, so its traffic is low and the "
                        "estimate needs calibration by the algorithm team.",
                        "有按品的页面浏览数据时: 用真实的需求信号。但售罄商品只能从搜索、收藏或购物车进入, "
                        "流量偏低, 需要算法模拟修正。"),
                   stats=_stats(_lost_sales_arrays("traffic_conversion")), finish=_lost_finish,
                   sums=("lost_gmv", "lost_units", "oos_cell_days"), helpers=("lost_units", "oos_cell_days"),
                   params=("window", *_POOL)),
    ),
    dims=("warehouse",))

_KPIS = {k.id: k for k in (AVAILABILITY, LOW_COVER, LOST_SALES)}
_ARRAYS = {
    ("availability", "sku_level"): _sku_level_arrays,
    ("availability", "cell_level"): _cell_level_arrays,
    ("availability", "demand_weighted"): _demand_weighted_arrays,
    ("low_cover", "trailing"): _low_cover_arrays("trailing"),
    ("low_cover", "forward"): _low_cover_arrays("forward"),
    ("lost_sales", "historical_average"): _lost_sales_arrays("historical_average"),
    ("lost_sales", "traffic_conversion"): _lost_sales_arrays("traffic_conversion"),
}

KPIS = (AVAILABILITY, LOW_COVER, LOST_SALES)
