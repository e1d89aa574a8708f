"""Sample-data simulator: one e-commerce operation that writes every table of the data contract.

Everything comes from a single simulation driven by one seed (``numpy.random.Generator``), so
the tables agree with each other:

* **Item master.** SKUs in up to 8 categories (Infant formula, Diapers, Skincare, Wine, Apparel,
  Bags, Electronics, Snacks) with a price, a unit cost (category margin), a shelf life for
  consumables, a pack size and a supplier. Expected GMV follows a Zipf law over a random rank,
  so a few SKUs make half of the GMV and ABC classes are real. Lifecycles: a few SKUs are
  ``not_launched`` (launch after the last date: plans only), ``new`` (launched in the last
  months), ``phase_out`` (demand fades, replenishment stops: they become slow-moving),
  ``discontinued`` (stopped early, sold off, then delisted); a few ``active`` SKUs were launched
  inside the period (their first production run is inspected as a new product). Electronics and
  Bags are not split across warehouses (``split_warehouse`` false) and are held centrally.
* **Network.** Warehouses serve regions (WH-East/East China is the central one; beyond 7
  warehouses a region gets a second one); customers live in the warehouses' regions. A SKU is
  stocked in every warehouse, in about half of them, or only centrally, by rank and category;
  demand of a region without stock is shipped from the central warehouse and 15% of local demand
  leaks to other stocked warehouses, so local fulfilment lands near 80%.
* **Demand.** Per SKU × warehouse and day: base rate × weekday pattern × category seasonality ×
  yearly growth × promotions (618: June 1–18 with a spike on the 18th; Double 11: November 1–11
  with a spike on the 11th; ``promo`` is true on those days) × lifecycle × a monthly shock.
  Page views are drawn around demand / conversion rate, and demand is a binomial draw of the
  views, so ``page_views`` is proportional to demand with noise.
* **Plans.** Monthly per SKU, made 0, 1 and 2 months ahead (``version_month`` = month, month−1,
  month−2), source ``plan`` (people: slightly over-planned, know promotions and phase-outs) and
  ``forecast`` (algorithm: slightly under, noisier, under-reacts to promotions and declines). They
  cover every full month of the sales range and the months beyond the last date for which a
  version already exists (last month + 1 and + 2).
* **Inventory.** Simulated day by day for every cell: weekly review per supplier, order-up-to
  policy driven by the latest plan version (reorder point = cover for lead time + safety days,
  order up to one more review period, rounded up to the pack size). Supplier deliveries are on
  time, early, late, split in two or short; scarce SKUs are allocated only part of the order;
  rush orders (~10%) are placed when stock would run out before a normal delivery. Overstock
  comes from a legacy stock at the start for a few SKUs, the last-time buy of phase-out SKUs,
  opportunistic bulk buys of a few active SKUs, over-planned SKUs and pack sizes of slow
  sellers; stock-outs from under-planning, late or short deliveries and promotion peaks. Every
  delivery is inspected in full: passed units become a lot (QC-``locked`` on its receipt day,
  sellable from the next day), failed units stay ``defective`` until returned to the supplier;
  some failed lots are reworked and re-inspected (attempt 2) and re-enter stock. Sales =
  min(demand, sellable stock at the start of the day), consumed first-in-first-out; a few units
  get damaged (``defective``) and expired lots are written off (``unsellable``). So on-hand ≥
  sellable, and stock-outs cut sales. ``sales`` and ``inventory`` have one row per cell and day
  from the cell's first stock (or the first day) to the last day (discontinued: until sold
  out), including days with 0 units, so page views of out-of-stock days are there.
* **Batches.** The lots on hand (sellable, locked, defective, unsellable) at every month end in
  the period and at the last day; their units add up to ``on_hand_units`` of the cell that day.
  The batch id of a delivery equals the inspection ``lot_id``.
* **Orders.** Derived from the sales of the last ``ORDER_MONTHS`` (6) calendar months: every unit
  sold in that window belongs to exactly one sub-order line (1–3+ units), lines are grouped into
  orders of 1–3 lines of the same day, warehouse and customer region. Earlier months have sales
  but no orders (chosen to keep the sample small; cost per order and return rates are judged on
  the covered months).
* **Returns.** A category- and SKU-dependent share of sub-orders is refunded after a lognormal
  delay (median 9 days, 1–60) with a reason (apparel: mostly size) and an English or Chinese
  comment; some comments carry quality keywords under another reason, some praise quality
  ("great quality", "质量很好"); a few sub-orders get a second refund. Refunds after the last
  date are not yet known and are left out.
* **Backorders.** Each SKU has an ``oos_policy`` from its category and standing: active SKUs of
  the categories with dependable replenishment (infant formula, diapers, skincare, electronics)
  that are neither scarce nor in the slowest quarter are ``backorderable``; other active SKUs of
  apparel, bags, snacks and wine are ``substitutable``; the rest ``none``. In the order months a
  backorderable cell keeps selling through a stock-out: 60% of the demand it cannot serve from
  stock is paid as backorder sub-orders (1–2 units, their own orders rows on the paid day, not in
  ``sales``, which counts units shipped from stock). Each is promised by half the supplier's lead
  time (a purchase order is usually on its way) plus 2 days, ships on the first day the cell has sellable stock again, and is cancelled by the
  customer with a probability that rises with the wait (8%, 25% beyond 14 days); a line the data
  ends on is open. Drawn on a random stream of its own, so the other tables do not change.
* **Order-volume plans.** Per warehouse and order day, a D-14 version (all days with orders) and a
  D-7 version (the last three months), with bias and noise around the actual order count.
* **Logistics costs.** Per month × warehouse × cost type: storage (fixed rent + held units),
  handling (units shipped and received), value-added (gift packing of some categories,
  more in promotion months), packaging and courier (per order, at the order/unit ratio of the
  order months), other. They cover every month of the period, so cost per order is empty for
  the months before the orders start.

Simplifications: one currency (CNY); a PO line is one SKU for one warehouse; incoming inspection
is 100% and happens on the receipt day; no transfers between warehouses and no re-routing of
demand when a warehouse is out of stock (the sale is lost, or backordered for backorderable
SKUs; shipping a backorder draws no stock); customer returns do not go back into stock; receipts before the first day are summarised as opening lots without PO lines.

**Large datasets** (``kpilab generate --skus 10000 …``) are simulated and written in chunks of
SKUs (:func:`simulate_chunks`, :func:`generate`), so memory is bounded by one chunk (about 1.2 GB
at the default size) rather than by the dataset. The world is drawn once; each chunk of whole
suppliers runs the same simulation on its own random stream; ids continue from chunk to chunk;
order-volume plans and logistics costs are drawn once from the volumes summed over the chunks.
Sizes that fit in one chunk (the bundled sample, 1,000 × 10 × 365) take the single stream of
:func:`simulate`, so their files do not change.
"""
from __future__ import annotations

import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from kpilab.contract import TABLES

DEFAULT_SKUS = 80
DEFAULT_WAREHOUSES = 4
DEFAULT_DAYS = 457          # 2025-08-01 … 2026-10-31 with the default end date: 15 full months
ORDER_MONTHS = 6            # orders, returns and order-volume plans cover the last 6 months
_CHUNK_CELL_DAYS = 4_000_000  # SKU × warehouse × days simulated at once by default (generate)

#: Column order of every table, as in shared/spec/data-contract.md (skus without abc_class).
COLUMNS: dict[str, tuple[str, ...]] = {
    "skus": ("sku", "category", "unit_cost", "lifecycle", "shelf_life_days", "scarce",
             "split_warehouse", "oos_policy"),
    "warehouses": ("warehouse", "region"),
    "sales": ("date", "sku", "warehouse", "units", "gmv", "promo", "page_views"),
    "inventory": ("date", "sku", "warehouse", "on_hand_units", "sellable_units", "value"),
    "batches": ("date", "sku", "warehouse", "batch", "received_date", "units", "value",
                "expiry_date", "status"),
    "plans": ("sku", "month", "version_month", "source", "units", "value"),
    "orders": ("sub_order_id", "order_id", "paid_date", "sku", "units", "gmv", "customer_region",
               "warehouse"),
    "returns": ("sub_order_id", "refund_date", "reason", "comment"),
    "backorders": ("sub_order_id", "backordered_units", "backorder_date", "promised_date",
                   "shipped_date", "cancelled_date"),
    "order_volume_plans": ("date", "warehouse", "version_date", "planned_orders"),
    "purchase_orders": ("po_line_id", "po_id", "supplier", "sku", "order_date", "promised_date",
                        "ordered_units", "unit_price", "rush", "incoterm"),
    "receipts": ("po_line_id", "received_date", "units"),
    "inspections": ("lot_id", "supplier", "sku", "date", "inspected_units", "passed_units",
                    "po_line_id", "new_product", "attempt"),
    "logistics_costs": ("month", "warehouse", "cost_type", "amount"),
    "suppliers": ("supplier", "tier", "rating"),
}

_REVIEW_DAYS = 7            # replenishment review period
_BACKORDER_TAKE = 0.6       # share of a backorderable cell's unserved demand paid as backorders
_BACKORDERABLE = ("Infant formula", "Diapers", "Skincare", "Electronics")
_SUBSTITUTABLE = ("Apparel", "Bags", "Snacks", "Wine")
_LEAK = 0.15                # share of a region's demand served by another stocked warehouse
_BIG = np.int64(1) << 60    # "no lot here" position / "never expires" day
_DEFECTIVE, _EXPIRED = 0, 1 # kinds of stock held outside the sellable lots


@dataclass(frozen=True)
class _Category:
    name: str
    price: float                 # median selling price, CNY
    margin: float                # gross margin
    shelf_life: tuple[int, ...]  # possible shelf lives in days; () = not perishable
    split: bool                  # follows the regional split-warehouse strategy
    conversion: float            # page view → unit
    lead: tuple[int, int]        # supplier lead time range, days
    pack: int                    # order multiple
    safety_days: int
    season: tuple[float, ...]    # demand factor per calendar month, Jan … Dec
    promo: float                 # promotion intensity
    growth: float                # yearly demand growth
    return_rate: float           # share of sub-orders refunded
    reasons: tuple[tuple[str, float], ...]
    tiers: tuple[str, ...]       # supplier tiers, first supplier first
    incoterms: tuple[str, ...]


_CATEGORIES = (
    _Category("Infant formula", 260, 0.18, (540, 720), True, 0.06, (14, 28), 6, 14,
              (1.05, .95, 1, 1, 1, 1, .95, .95, 1, 1, 1.05, 1.05), 1.2, 0.12, 0.015,
              (("authenticity", .2), ("quality", .25), ("logistics", .2), ("changed_mind", .2),
               ("other", .15)), ("brand", "distributor", "primary_distributor"), ("CIF", "DDP")),
    _Category("Diapers", 110, 0.15, (1095,), True, 0.08, (7, 14), 4, 10,
              (1, .95, 1, 1, 1, 1, 1, 1, 1, 1, 1.05, 1.05), 1.2, 0.10, 0.02,
              (("quality", .3), ("size", .2), ("changed_mind", .25), ("logistics", .15),
               ("other", .1)), ("primary_distributor", "distributor", "brand"), ("DDP", "EXW")),
    _Category("Skincare", 320, 0.45, (730, 1095), True, 0.04, (10, 25), 12, 10,
              (1.1, 1, 1.15, 1, .95, .95, .9, .9, 1, 1.05, 1.15, 1.2), 1.3, 0.30, 0.035,
              (("authenticity", .15), ("quality", .2), ("changed_mind", .35),
               ("not_as_described", .15), ("logistics", .08), ("other", .07)),
              ("brand", "other", "primary_distributor", "distributor"), ("FOB", "CIF", "DDP")),
    _Category("Wine", 180, 0.40, (3650,), True, 0.035, (30, 45), 6, 14,
              (1.5, 1.3, .9, .85, .8, .75, .7, .75, 1.35, 1.1, 1, 1.5), 0.9, 0.15, 0.025,
              (("logistics", .35), ("authenticity", .2), ("quality", .15), ("changed_mind", .2),
               ("other", .1)), ("distributor", "primary_distributor", "other"), ("FOB", "CIF")),
    _Category("Apparel", 260, 0.55, (), True, 0.025, (10, 21), 5, 10,
              (.9, .8, 1.1, 1.15, 1, .9, .8, .8, 1.1, 1.2, 1.3, 1.25), 1.0, 0.20, 0.14,
              (("size", .45), ("changed_mind", .2), ("not_as_described", .12), ("quality", .12),
               ("logistics", .04), ("other", .05), ("authenticity", .02)),
              ("brand", "distributor", "other"), ("EXW", "DDP")),
    _Category("Bags", 1200, 0.35, (), False, 0.015, (14, 30), 1, 10,
              (1.2, 1.3, 1, .95, 1, .95, .9, 1, 1.05, 1, 1.05, 1.3), 0.9, 0.25, 0.06,
              (("quality", .2), ("authenticity", .15), ("not_as_described", .2),
               ("changed_mind", .3), ("logistics", .05), ("other", .1)),
              ("primary_distributor", "other", "distributor"), ("CIF", "DDP")),
    _Category("Electronics", 450, 0.15, (), False, 0.02, (7, 18), 1, 10,
              (1, .9, .9, .95, 1, 1, 1.05, 1.15, 1.15, 1, 1, 1.05), 1.3, 0.18, 0.05,
              (("quality", .45), ("not_as_described", .15), ("changed_mind", .25),
               ("logistics", .08), ("other", .07)),
              ("brand", "distributor", "primary_distributor"), ("DDP", "FOB")),
    _Category("Snacks", 45, 0.30, (180, 270, 365), True, 0.10, (5, 10), 24, 10,
              (1.5, 1.4, .9, .9, .9, .85, .85, .9, 1.2, 1.05, 1, 1.2), 1.0, 0.22, 0.015,
              (("quality", .3), ("logistics", .2), ("changed_mind", .3), ("other", .2)),
              ("distributor", "primary_distributor", "other"), ("DDP", "EXW")),
)

_WAREHOUSES = (("WH-East", "East China", .32), ("WH-North", "North China", .20),
               ("WH-South", "South China", .24), ("WH-West", "Southwest China", .10),
               ("WH-Central", "Central China", .07), ("WH-Northeast", "Northeast China", .04),
               ("WH-Northwest", "Northwest China", .03))
_WEEKDAY = np.array([.95, .95, .97, .98, 1.0, 1.08, 1.07])   # Monday … Sunday
_COST_TYPES = ("storage", "handling", "value_added", "packaging", "courier", "other")

# Return comments per reason, English and Chinese. Some carry a quality keyword under another reason
# ("Box arrived damaged", "有瑕疵"), some quality complaints carry none ("味道不对"), some praise quality.
_COMMENTS = {
    "quality": ("It stopped working after two days", "质量问题，用了一次就坏了", "Zipper is defective",
                "破损严重", "Poor quality stitching", "有瑕疵", "Smells strange, not like before",
                "味道不对", "The screen flickers", "颜色和上次买的不一样"),
    "authenticity": ("I doubt this is genuine", "怀疑是假货", "Batch code does not match the brand site",
                     "防伪码查不到"),
    "not_as_described": ("Colour differs from the photos", "和描述不符", "Smaller than described",
                         "Poor quality material, not like the photos", "有瑕疵，和图片不一样"),
    "size": ("Too small", "尺码偏小", "Too large, need one size down", "Great quality but too small",
             "质量很好，就是尺码偏大"),
    "changed_mind": ("Found it cheaper elsewhere", "不想要了", "Bought by mistake",
                     "Great quality, but I changed my mind", "质量很好，但是买重复了"),
    "logistics": ("Delivery took too long", "快递太慢了", "Box arrived damaged", "外包装破损",
                  "Wrong address, parcel returned"),
    "other": ("", "其他原因", "It stopped working, the seller asked me to pick other",
              "坏了，客服让选其他"),
}


@dataclass(frozen=True)
class _Calendar:
    """Day index e over whole months around the period; the period is e0 … e0 + T − 1."""

    dates: np.ndarray        # datetime64[D]
    e0: int
    T: int
    month: np.ndarray        # month index per day
    month_start: np.ndarray  # first day index per month
    month_end: np.ndarray    # last day index per month
    month_label: np.ndarray  # "YYYY-MM" per month
    weekday: np.ndarray      # 0 = Monday
    promo: np.ndarray        # bool per day
    uplift: np.ndarray       # promotion demand uplift per day at intensity 1 (pre-promo dip < 1)
    discount: np.ndarray     # price factor per day

    @classmethod
    def build(cls, end_date: str, days: int) -> _Calendar:
        end = pd.Timestamp(end_date).normalize()
        start = end - pd.Timedelta(days=days - 1)
        first = start.to_period("M").start_time
        last = (end.to_period("M") + 4).end_time.normalize()
        idx = pd.date_range(first, last, freq="D")
        mid = idx.year * 12 + idx.month - 1
        month = np.asarray(mid - mid[0])
        n_months = month[-1] + 1
        md = idx.month * 100 + idx.day
        in618 = np.asarray((md >= 601) & (md <= 618))
        in11 = np.asarray((md >= 1101) & (md <= 1111))
        uplift = np.ones(len(idx))
        uplift[in618] = 1.3
        uplift[in11] = 1.4
        uplift[np.asarray(md == 618)] = 4.0
        uplift[np.asarray(md == 1111)] = 7.0
        uplift[np.asarray(((md >= 527) & (md <= 531)) | ((md >= 1027) & (md <= 1031)))] = 0.85
        discount = np.ones(len(idx))
        discount[in618 | in11] = 0.9
        discount[np.asarray((md == 618) | (md == 1111))] = 0.78
        labels = pd.period_range(first, periods=n_months, freq="M").strftime("%Y-%m")
        return cls(dates=idx.values.astype("datetime64[D]"), e0=int((start - first).days), T=days,
                   month=month, month_start=np.searchsorted(month, np.arange(n_months)),
                   month_end=np.searchsorted(month, np.arange(n_months), side="right") - 1,
                   month_label=np.asarray(labels, dtype=object), weekday=np.asarray(idx.day_of_week),
                   promo=in618 | in11,
                   uplift=uplift, discount=discount)

    @property
    def period(self) -> slice:
        return slice(self.e0, self.e0 + self.T)


@dataclass
class _World:
    """Static master data: SKUs, warehouses, suppliers and stocked cells (SKU × warehouse)."""

    sku_id: np.ndarray
    cat: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    shelf: np.ndarray            # days, 0 = not perishable
    scarce: np.ndarray
    lifecycle: np.ndarray
    base: np.ndarray             # expected units per day at the end date, network
    q: np.ndarray                # rank quantile by expected GMV, 0 = best seller
    conv: np.ndarray
    pack: np.ndarray
    launch: np.ndarray           # day index of the launch (−10⁶: before the calendar)
    decline: np.ndarray          # day index where demand starts to fade (10⁶: never)
    stop: np.ndarray             # day index after which nothing is ordered
    floor: np.ndarray            # demand level a declining SKU fades to
    fade: np.ndarray             # time constant of the fade, days
    buy_day: np.ndarray          # day of a one-off buy (10⁶: none)
    buy_days: np.ndarray         # days of demand the one-off buy covers
    supplier: np.ndarray
    plan_bias: np.ndarray
    return_factor: np.ndarray
    overstock: np.ndarray        # starts with a legacy overstock
    wh_id: np.ndarray
    wh_region: np.ndarray        # region index per warehouse
    regions: np.ndarray
    sup_id: np.ndarray
    sup_tier: np.ndarray
    sup_rating: np.ndarray
    sup_lead: np.ndarray
    sup_late: np.ndarray         # probability of a late delivery
    sup_early: np.ndarray
    sup_split: np.ndarray
    sup_short: np.ndarray
    sup_defect: np.ndarray       # multiplier of the lot failure probability
    sup_incoterm: np.ndarray
    sup_weekday: np.ndarray
    cell_sku: np.ndarray
    cell_wh: np.ndarray
    cell_share: np.ndarray       # share of the SKU's demand served by the cell
    cell_mix: np.ndarray         # customer-region mix of the cell's demand (cells × regions)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Vectorised ``f"{prefix}{n:0{width}d}"`` (n ≥ 0) as a fixed-width text array: no Python
    string per id and no wider text than needed, which matters for millions of order lines."""
    numbers = np.asarray(numbers)
    if not numbers.size:                                     # np.char.zfill fails on an empty array
        return np.zeros(0, f"<U{len(prefix) + width}")
    return np.char.add(prefix, np.char.zfill(numbers.astype(f"<U{len(str(numbers.max()))}"), width))


def _build_world(rng: np.random.Generator, n: int, n_wh: int, cal: _Calendar) -> _World:
    """Draw SKUs, warehouses, suppliers and the stocking/routing of every SKU."""
    cats = _CATEGORIES[:min(n, len(_CATEGORIES))]
    cat = rng.permutation(np.arange(n) % len(cats))
    rank = rng.permutation(n) + 1
    c_price = np.array([c.price for c in cats])[cat]
    price = np.round(c_price * rng.lognormal(0, 0.35, n), 1)
    margin = np.clip(np.array([c.margin for c in cats])[cat] + rng.normal(0, 0.05, n), 0.05, 0.8)
    cost = np.round(price * (1 - margin), 2)
    shelf = np.array([rng.choice(cats[k].shelf_life) if cats[k].shelf_life else 0 for k in cat])
    gmv = rank ** -1.1 * rng.lognormal(0, 0.3, n)
    units = gmv / price
    base = units * (7.0 * n / units.sum())
    conv = np.array([c.conversion for c in cats])[cat] * rng.lognormal(0, 0.25, n)
    pack = np.array([c.pack for c in cats])[cat] * rng.choice([1, 1, 2], n)

    # lifecycles: the best sellers stay active
    T, e0, end = cal.T, cal.e0, cal.e0 + cal.T - 1
    lifecycle = np.full(n, "active", dtype=object)
    launch = np.full(n, -10**6)
    decline = np.full(n, 10**6)
    stop = np.full(n, 10**6)
    pool = rng.permutation(np.flatnonzero(rank > max(2, n // 10)))
    counts = {k: (max(1, round(f * n)) if n >= 10 else 0)
              for k, f in (("not_launched", .04), ("new", .06), ("phase_out", .07),
                           ("discontinued", .04), ("launched", .06))}
    at = 0
    for kind, k in counts.items():
        chosen, at = pool[at:at + k], at + k
        m = len(chosen)
        if kind == "not_launched":
            launch[chosen] = end + rng.integers(20, 60, m)
        elif kind == "new":
            launch[chosen] = end - rng.integers(25, 110, m)
        elif kind == "launched":
            launch[chosen] = e0 + rng.integers(int(.1 * T), int(.5 * T), m)
        elif kind == "phase_out":
            decline[chosen] = end - rng.integers(int(.45 * T), int(.6 * T), m)
            stop[chosen] = decline[chosen] + rng.integers(30, 60, m)
        else:
            decline[chosen] = e0 + rng.integers(int(.08 * T), int(.3 * T), m)
            stop[chosen] = decline[chosen] + rng.integers(10, 30, m)
        lifecycle[chosen] = "active" if kind == "launched" else kind
    floor = np.where(lifecycle == "discontinued", 0.2, rng.uniform(0.05, 0.15, n))
    fade = np.where(lifecycle == "discontinued", 30, rng.uniform(60, 120, n))
    not_top = rank > max(2, n // 10)
    overstock = (lifecycle == "active") & not_top & (rng.random(n) < 0.08)
    # one-off buys: the last-time buy of a phase-out, an opportunistic bulk buy of a few active SKUs
    bulk = (lifecycle == "active") & not_top & ~overstock & (launch < e0) & (rng.random(n) < 0.08)
    buy_day = np.where(lifecycle == "phase_out", stop - _REVIEW_DAYS,
                       np.where(bulk, end - rng.integers(90, 300, n), 10**6))
    buy_days = np.where(lifecycle == "phase_out", rng.integers(60, 150, n), rng.integers(150, 400, n))
    heavy = np.isin(np.array([c.name for c in cats])[cat], ("Infant formula", "Electronics"))
    scarce = heavy & (rank <= max(3, n // 4)) & (rng.random(n) < 0.35) & (lifecycle == "active")
    plan_bias = rng.lognormal(0, 0.08, n) * np.where(not_top & (rng.random(n) < 0.06), rng.uniform(1.4, 2.0, n), 1)

    # suppliers: about one per five SKUs of a category
    sup_of_cat, tiers, sup_cat = [], [], []
    for k, c in enumerate(cats):
        n_sup = max(1, round(np.sum(cat == k) / 5))
        sup_of_cat.append(np.arange(len(sup_cat), len(sup_cat) + n_sup))
        sup_cat += [k] * n_sup
        tiers += [c.tiers[j] if j < len(c.tiers) else rng.choice(c.tiers) for j in range(n_sup)]
    n_sup = len(sup_cat)
    sup_cat = np.array(sup_cat)
    order = rng.permutation(n_sup)       # supplier numbers do not follow the categories
    supplier = np.array([rng.choice(sup_of_cat[k]) for k in cat])
    lead = np.array([rng.integers(*cats[k].lead, endpoint=True) for k in sup_cat])
    reliability = rng.beta(5, 2, n_sup)
    sup_late = 0.03 + 0.35 * (1 - reliability)
    sup_early = rng.uniform(0.01, 0.08, n_sup)
    sup_defect = rng.lognormal(0, 0.5, n_sup)
    rating = np.clip(np.round(45 + 55 * reliability - 6 * (sup_defect - 1) + rng.normal(0, 5, n_sup), 1),
                     20, 99)

    # warehouses and stocking
    whs = [_WAREHOUSES[i % len(_WAREHOUSES)] for i in range(n_wh)]
    wh_id = np.array([w[0] if i < len(_WAREHOUSES) else f"{w[0]}-{i // len(_WAREHOUSES) + 1}"
                      for i, w in enumerate(whs)], dtype=object)
    regions = np.array(list(dict.fromkeys(w[1] for w in whs)), dtype=object)
    wh_region = np.array([list(regions).index(w[1]) for w in whs])
    reg_w = np.array([next(w[2] for w in _WAREHOUSES if w[1] == r) for r in regions])
    reg_w = reg_w / reg_w.sum()
    split = np.array([c.split for c in cats])[cat]
    q = (rank - 1) / n                                   # 0 = best seller
    by_size = np.argsort(-reg_w[wh_region], kind="stable")  # central (first) and big regions first
    n_stock = np.where(split, np.where(q < .75, n_wh, np.where(q < .92, 1 + n_wh // 2, 1)), 1)
    stocked = np.zeros((n, n_wh), bool)
    for s in range(n):
        stocked[s, by_size[:n_stock[s]]] = True
    # routing: region r → its own stocked warehouses (1 − leak), other stocked ones (leak), else central
    n_reg = len(regions)
    route = np.zeros((n, n_reg, n_wh))
    own = stocked[:, None, :] & (wh_region[None, None, :] == np.arange(n_reg)[None, :, None])
    other = stocked[:, None, :] & ~own
    n_own, n_other = own.sum(2, keepdims=True), other.sum(2, keepdims=True)
    leak = np.where(n_other > 0, _LEAK, 0.0)
    route += np.where(n_own > 0, own * (1 - leak) / np.maximum(n_own, 1), 0)
    route += np.where(n_own > 0, other * leak / np.maximum(n_other, 1), 0)
    route[:, :, by_size[0]] += np.where(n_own[..., 0] == 0, 1.0, 0.0)
    flow = route * reg_w[None, :, None]                  # sku × region × warehouse
    cs, cw = np.nonzero(stocked)
    share = flow.sum(1)[cs, cw]
    mix = flow[cs, :, cw] / share[:, None]
    return _World(
        sku_id=_ids("SKU-", np.arange(1, n + 1), max(3, len(str(n)))),
        cat=cat, price=price, cost=cost, shelf=shelf, scarce=scarce, lifecycle=lifecycle,
        base=base, q=q, conv=conv, pack=pack, launch=launch, decline=decline, stop=stop, floor=floor,
        fade=fade, buy_day=buy_day, buy_days=buy_days,
        supplier=order[supplier], plan_bias=plan_bias,
        return_factor=rng.lognormal(0, 0.45, n), overstock=overstock,
        wh_id=wh_id, wh_region=wh_region, regions=regions,
        sup_id=_ids("SUP-", np.arange(1, n_sup + 1), 3),
        sup_tier=np.array(tiers, dtype=object)[np.argsort(order)],
        sup_rating=rating[np.argsort(order)], sup_lead=lead[np.argsort(order)],
        sup_late=sup_late[np.argsort(order)], sup_early=sup_early[np.argsort(order)],
        sup_split=rng.uniform(0.04, 0.18, n_sup), sup_short=rng.uniform(0.02, 0.08, n_sup),
        sup_defect=sup_defect[np.argsort(order)],
        sup_incoterm=np.array([rng.choice(cats[k].incoterms) for k in sup_cat],
                              dtype=object)[np.argsort(order)],
        sup_weekday=rng.integers(0, 5, n_sup),
        cell_sku=cs, cell_wh=cw, cell_share=share, cell_mix=mix)


def _expected_demand(w: _World, cal: _Calendar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected network units per SKU and day: (with lifecycle, without the decline, without promo)."""
    cats = _CATEGORIES
    e = np.arange(len(cal.dates))
    end = cal.e0 + cal.T - 1
    doy = (cal.dates - cal.dates.astype("datetime64[Y]")).astype(int)
    centres = np.arange(12) * 30.4 + 15
    season = np.array([np.interp(doy, np.r_[centres - 365, centres, centres + 365], np.tile(c.season, 3))
                       for c in cats])
    growth = np.array([c.growth for c in cats])
    trend = (1 + growth[:, None]) ** ((e - end) / 365)[None, :]
    intensity = np.array([c.promo for c in cats])
    promo = 1 + (cal.uplift[None, :] - 1) * intensity[:, None]
    shape = _WEEKDAY[cal.weekday][None, :] * season * trend                       # category × day
    since = e[None, :] - w.launch[:, None]
    ramp = np.where(since >= 0, 1 - 0.6 * np.exp(-np.maximum(since, 0) / 20), 0.0)
    after = np.maximum(e[None, :] - w.decline[:, None], 0)
    fade = w.floor[:, None] + (1 - w.floor[:, None]) * np.exp(-after / w.fade[:, None])
    nopromo = w.base[:, None] * shape[w.cat] * ramp
    full = nopromo * promo[w.cat]
    return full * fade, full, nopromo * fade


def _plans(rng: np.random.Generator, w: _World, cal: _Calendar, exp_full: np.ndarray,
           exp_nodecline: np.ndarray, exp_nopromo: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """Planned units per (source, lag 0–3, SKU, month): source 0 = plan, 1 = forecast."""
    n_m = len(cal.month_start)

    def monthly(x):
        return np.add.reduceat(x, cal.month_start, axis=1)

    e_true, e_nodecl, e_nopromo = monthly(exp_full), monthly(exp_nodecline), monthly(exp_nopromo)
    dec_m = np.where(w.decline < len(cal.month), cal.month[np.minimum(w.decline, len(cal.month) - 1)],
                     10**6)
    months = np.arange(n_m)
    tail = np.where(w.q < 0.5, 1.0, 1.4)[:, None]                 # slow sellers are harder to plan
    promo_m = np.where(e_true > 0, e_true / np.maximum(e_nopromo, 1e-9), 1) > 1.05
    plans = np.zeros((2, 4, len(w.base), n_m))
    for k in range(4):
        v = months[None, :] - k                                     # version month
        known = np.where(v <= dec_m[:, None], e_nodecl, e_true)     # people know a fade once it shows
        sigma = (.15, .26, .34, .38)[k] * tail
        p = (known * shock ** (.7, .35, .15, .1)[k] * w.plan_bias[:, None]
             * np.exp(rng.normal(0.04 - sigma ** 2 / 2, sigma, known.shape))
             * np.where(promo_m, 1.08, 1.0))
        algo = np.where(v <= dec_m[:, None] + 1, e_nodecl, e_true)  # the algorithm reacts later
        algo = algo - 0.4 * (e_true - e_nopromo)                     # and under-reacts to promotions
        sigma = (.22, .34, .42, .46)[k] * tail
        f = algo * shock ** (.5, .25, .1, .05)[k] * np.exp(rng.normal(-0.03 - sigma ** 2 / 2, sigma, known.shape))
        plans[0, k], plans[1, k] = np.round(p), np.round(np.maximum(f, 0))
    return plans


class _Lots:
    """Per-cell FIFO lot queues: cumulative end positions against the cumulative outflow."""

    def __init__(self, cells: int):
        self.cap = 16
        self.end = np.full((cells, self.cap), _BIG)
        self.exp = np.full((cells, self.cap), _BIG)
        self.gid = np.full((cells, self.cap), -1)
        self.n = np.zeros(cells, np.int64)
        self.head = np.zeros(cells, np.int64)
        self.received = np.zeros(cells, np.int64)   # cumulative units put into lots
        self.out = np.zeros(cells, np.int64)        # cumulative units taken out (FIFO)
        self.rows = np.arange(cells)
        self.registry: list[tuple[np.ndarray, ...]] = []   # (gid, cell, day, expiry, start, end)
        self.next_gid = 0

    def add(self, cell: np.ndarray, units: np.ndarray, day: np.ndarray, expiry: np.ndarray) -> np.ndarray:
        """Append lots (several per cell allowed); return their global ids."""
        order = np.argsort(cell, kind="stable")
        cell, units, day, expiry = cell[order], units[order], day[order], expiry[order]
        first = np.r_[True, cell[1:] != cell[:-1]]
        grp = np.cumsum(first) - 1
        rank = np.arange(len(cell)) - np.flatnonzero(first)[grp]
        slot = self.n[cell] + rank
        if slot.size and slot.max() >= self.cap:
            grow = max(self.cap, slot.max() + 1 - self.cap)
            pad = np.full((len(self.n), grow), _BIG)
            self.end = np.hstack([self.end, pad])
            self.exp = np.hstack([self.exp, pad])
            self.gid = np.hstack([self.gid, np.full((len(self.n), grow), -1)])
            self.cap += grow
        csum = np.cumsum(units)
        before = csum - units - np.r_[0, csum][np.flatnonzero(first)][grp]
        start = self.received[cell] + before
        last_exp = np.where(self.n[cell] > 0, self.exp[cell, np.maximum(self.n[cell] - 1, 0)], 0)
        expiry = np.maximum(expiry, last_exp)        # keep expiry in FIFO order within a cell
        for r in range(1, rank.max() + 1 if rank.size else 0):
            at = np.flatnonzero(rank == r)
            expiry[at] = np.maximum(expiry[at], expiry[at - 1])
        gids = self.next_gid + np.arange(len(cell))
        self.next_gid += len(cell)
        self.end[cell, slot] = start + units
        self.exp[cell, slot] = expiry
        self.gid[cell, slot] = gids
        np.add.at(self.received, cell, units)
        np.add.at(self.n, cell, 1)
        self.registry.append((gids, cell, day, expiry, start, start + units))
        out = np.empty_like(gids)
        out[order] = gids
        return out

    def _advance(self):
        while True:
            h = np.minimum(self.head, self.cap - 1)
            m = (self.head < self.n) & (self.end[self.rows, h] <= self.out)
            if not m.any():
                return
            self.head[m] += 1

    def head_gid(self, cells: np.ndarray) -> np.ndarray:
        return self.gid[cells, np.minimum(self.head[cells], self.cap - 1)]

    def take(self, units: np.ndarray):
        """Take units (per cell) out of the oldest lots."""
        self.out += units
        self._advance()

    def expire(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Write off the remainder of head lots expired by ``day``: (cells, units, lot ids)."""
        cells, units, gids = [], [], []
        while True:
            h = np.minimum(self.head, self.cap - 1)
            m = (self.head < self.n) & (self.exp[self.rows, h] <= day) & (self.end[self.rows, h] > self.out)
            if not m.any():
                break
            c = np.flatnonzero(m)
            rem = self.end[c, h[c]] - self.out[c]
            cells.append(c), units.append(rem), gids.append(self.gid[c, h[c]])
            self.out[c] += rem
            self._advance()
        if not cells:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(cells), np.concatenate(units), np.concatenate(gids)

    def table(self) -> dict[str, np.ndarray]:
        cols = [np.concatenate(x) for x in zip(*self.registry)]
        return dict(zip(("gid", "cell", "day", "expiry", "start", "end"), cols))


def _cover(cum: np.ndarray, sku: np.ndarray, d: int, lo: np.ndarray, hi: np.ndarray,
           cal: _Calendar) -> np.ndarray:
    """Planned units of each SKU over days d+lo … d+hi, from the latest version made by day d."""
    total = np.zeros(len(sku))
    m0, last = cal.month[d], len(cal.month) - 1
    a, b = d + lo, np.minimum(d + hi, last)
    for k in range(cum.shape[0]):
        if m0 + k >= len(cal.month_start):
            break
        aa = np.maximum(a, cal.month_start[m0 + k])
        bb = np.minimum(b, cal.month_end[m0 + k])
        ok = bb >= aa
        total += np.where(ok, cum[k, sku, np.where(ok, bb + 1, 0)] - cum[k, sku, np.where(ok, aa, 0)], 0)
    return total


def _schedule(bucket: dict[int, list], days: np.ndarray, *arrays: np.ndarray):
    """Append the rows of ``arrays`` to ``bucket[day]`` for each row's day (rows with 0 units skipped)."""
    keep = arrays[1] > 0
    for day in np.unique(days[keep]):
        at = keep & (days == day)
        bucket.setdefault(int(day), []).append(tuple(x[at] for x in arrays))


def _operate(rng: np.random.Generator, w: _World, cal: _Calendar, demand: np.ndarray,
             plan_daily_cum: np.ndarray, snapshots: np.ndarray) -> dict:
    """Run purchasing, receiving, inspection, sales and stock day by day for all cells at once."""
    C, T, e0 = len(w.cell_sku), cal.T, cal.e0
    sku, sup = w.cell_sku, w.supplier[w.cell_sku]
    lead = w.sup_lead[sup]
    safety = np.array([c.safety_days for c in _CATEGORIES])[w.cat[sku]]
    shelf = w.shelf[sku]
    share = w.cell_share
    lots = _Lots(C)
    launched = w.launch[sku]
    first_run_open = (launched > e0) & (w.lifecycle[sku] != "not_launched")
    can_order = (w.lifecycle[sku] != "not_launched")
    sku_ordered = np.zeros(len(w.base), bool)
    bought = np.zeros(C, bool)

    def expiry_of(cell, day):
        life = shelf[cell]
        return np.where(life > 0, day + np.floor(life * rng.uniform(0.7, 0.92, len(cell))).astype(np.int64),
                        _BIG)

    # opening stock: 1–3 lots received before the first day
    pre = np.flatnonzero(launched < e0)
    days_cover = (lead[pre] / 2 + _REVIEW_DAYS / 2 + safety[pre]) * rng.uniform(0.6, 1.4, len(pre))
    rate = _cover(plan_daily_cum, sku[pre], e0, np.ones(len(pre), np.int64),
                  np.full(len(pre), 30), cal) / 30 * share[pre]
    open_units = np.ceil(rate * days_cover + np.where(w.overstock[sku[pre]],
                                                      rate * rng.uniform(200, 600, len(pre)), 0))
    n_open = rng.integers(1, 4, len(pre))
    cell_rep = np.repeat(pre, n_open)
    grp = np.repeat(np.arange(len(pre)), n_open)
    part = rng.random(len(cell_rep)) + 0.2
    units_rep = np.floor(open_units[grp] * part / np.bincount(grp, part)[grp]).astype(np.int64)
    age = np.where(w.overstock[sku[cell_rep]], rng.integers(60, 250, len(cell_rep)),
                   rng.integers(1, 90, len(cell_rep)))
    order = np.lexsort((-age, cell_rep))
    cell_rep, units_rep, age = cell_rep[order], units_rep[order], age[order]
    rec_day = e0 - age
    lots.add(cell_rep, units_rep, rec_day, expiry_of(cell_rep, rec_day))

    pipeline = np.zeros(C, np.int64)
    deliveries: dict[int, list[tuple[np.ndarray, ...]]] = {}
    reworks: dict[int, list[tuple[np.ndarray, ...]]] = {}
    po_lines, receipts, inspections, events = [], [], [], []
    n_lines = n_pos = 0
    sales = np.zeros((C, T), np.int64)
    sellable = np.zeros((C, T), np.int64)
    locked = np.zeros((C, T), np.int64)
    out_at_snap = {}
    snapshots = set(snapshots.tolist())

    for i in range(T):
        d = e0 + i
        # 1. expiry write-offs and sales from stock available at the start of the day
        ec, eu, eg = lots.expire(d)
        if len(ec):
            events.append((ec, np.full(len(ec), d), d + rng.integers(14, 60, len(ec)), eu, eg,
                           np.full(len(ec), _EXPIRED)))
        avail = lots.received - lots.out
        sold = np.minimum(demand[:, i], avail)
        lots.take(sold)
        sales[:, i] = sold
        # 2. warehouse damage
        left = avail - sold
        hit = np.flatnonzero((left > 0) & (rng.random(C) < 0.003))
        if hit.size:
            k = np.minimum(1 + rng.poisson(0.4, hit.size), left[hit])
            events.append((hit, np.full(hit.size, d), d + rng.integers(10, 60, hit.size), k,
                           lots.head_gid(hit), np.full(hit.size, _DEFECTIVE)))
            take = np.zeros(C, np.int64)
            take[hit] = k
            lots.take(take)
        sellable[:, i] = lots.received - lots.out
        # 3. deliveries: inspected in full, passed units become a lot, failed ones stay defective
        if d in deliveries:
            c, u, line, new = (np.concatenate(x) for x in zip(*deliveries.pop(d)))
            p_fail = np.select([rng.random(len(c)) < np.where(new, .35, .07) * w.sup_defect[sup[c]],
                                rng.random(len(c)) < .3], [rng.uniform(.05, .35, len(c)),
                                                           rng.uniform(.001, .03, len(c))], 0)
            failed = rng.binomial(u, np.minimum(p_fail, 1))
            passed = u - failed
            gids = lots.add(c, passed, np.full(len(c), d), expiry_of(c, d))
            pipeline -= np.bincount(c, u, C).astype(np.int64)
            locked[:, i] += np.bincount(c, passed, C).astype(np.int64)
            receipts.append((line, np.full(len(c), d), u))
            inspections.append((gids, c, np.full(len(c), d), u, passed, line, new, np.ones(len(c), np.int64)))
            bad = np.flatnonzero(failed > 0)
            rework = bad[(failed[bad] > 0.05 * u[bad]) & (rng.random(bad.size) < 0.5)]
            fixed = np.zeros(len(c), np.int64)
            fixed[rework] = rng.binomial(failed[rework], 0.85)
            back = d + rng.integers(3, 11, len(c))
            _schedule(reworks, back[rework], c[rework], fixed[rework], line[rework], failed[rework], new[rework])
            events.append((c[bad], np.full(bad.size, d), d + rng.integers(7, 40, bad.size),
                           failed[bad] - fixed[bad], gids[bad], np.full(bad.size, _DEFECTIVE)))
            events.append((c[rework], np.full(rework.size, d), back[rework], fixed[rework], gids[rework],
                           np.full(rework.size, _DEFECTIVE)))
        if d in reworks:
            c, u, line, failed, new = (np.concatenate(x) for x in zip(*reworks.pop(d)))
            gids = lots.add(c, u, np.full(len(c), d), expiry_of(c, d))
            locked[:, i] += np.bincount(c, u, C).astype(np.int64)
            inspections.append((gids, c, np.full(len(c), d), failed, u, line, new, np.full(len(c), 2)))
        # 4. weekly review of the suppliers due today
        due = np.flatnonzero((w.sup_weekday[sup] == cal.weekday[d]) & can_order & (d < w.stop[sku])
                             & (d >= launched - lead - 7))
        if due.size:
            first = first_run_open[due] & ~sku_ordered[sku[due]]
            ones = np.ones(due.size, np.int64)
            extra = np.where(first, 21, 0)
            s_level = _cover(plan_daily_cum, sku[due], d, ones, lead[due] + safety[due] + extra, cal) * share[due]
            S_level = _cover(plan_daily_cum, sku[due], d, ones,
                             lead[due] + _REVIEW_DAYS + safety[due] + extra, cal) * share[due]
            on_hand = lots.received[due] - lots.out[due]
            position = on_hand + pipeline[due]
            one_off = (d >= w.buy_day[sku[due]]) & ~bought[due]
            one_off_units = np.where(one_off, w.buy_days[sku[due]] * w.base[sku[due]] * share[due], 0)
            go = ((position < s_level) & (S_level > 0)) | (one_off_units >= 1)
            if go.any():
                cells = due[go]
                bought[cells] |= one_off[go]
                pk = w.pack[sku[cells]]
                want = np.where(position[go] < s_level[go], S_level[go] - position[go], 0) + one_off_units[go]
                qty = np.maximum(np.ceil(want / pk), 1).astype(np.int64) * pk
                soon = _cover(plan_daily_cum, sku[cells], d, ones[go], np.ceil(lead[cells] / 2).astype(np.int64),
                              cal) * share[cells]
                rush = (on_hand[go] < 0.9 * soon) & ~first[go] & (rng.random(cells.size) < 0.4)
                lt = np.where(rush, np.maximum(2, np.ceil(lead[cells] * 0.45)), lead[cells]).astype(np.int64)
                promised = d + lt
                new = first[go]
                sku_ordered[sku[cells]] = True
                first_run_open[cells] = False
                # one PO per supplier × warehouse; line ids in that order
                key = sup[cells] * len(w.wh_id) + w.cell_wh[cells]
                o = np.lexsort((cells, key))
                cells, qty, rush, promised, new, key = (x[o] for x in (cells, qty, rush, promised, new, key))
                po = n_pos + np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1
                n_pos = po[-1] + 1
                line = n_lines + np.arange(cells.size)
                n_lines += cells.size
                price = np.round(w.cost[sku[cells]] * rng.uniform(0.96, 1.04, cells.size)
                                 * np.where(rush, 1.06, 1.0), 2)
                po_lines.append((line, po, cells, np.full(cells.size, d), promised, qty, price, rush))
                # what the supplier will deliver, and when
                s = sup[cells]
                fill = np.where(w.scarce[sku[cells]], rng.uniform(0.3, 0.8, cells.size),
                                np.where(rng.random(cells.size) < w.sup_short[s],
                                         rng.uniform(0.6, 0.95, cells.size), 1.0))
                total = np.floor(qty * fill).astype(np.int64)
                u = rng.random(cells.size)
                late_p = w.sup_late[s] * np.where(rush | w.scarce[sku[cells]], 1.8, 1.0)
                delay = np.select([u < w.sup_early[s], u < w.sup_early[s] + late_p],
                                  [-rng.integers(8, 16, cells.size), rng.integers(4, 21, cells.size)],
                                  rng.choice([-3, -2, -1, 0, 0, 0, 1, 1, 2], cells.size))
                arrive = np.maximum(promised + delay, d + 1)
                split = (rng.random(cells.size) < w.sup_split[s]) & (total >= 2)
                part1 = np.where(split, np.ceil(total * rng.uniform(0.4, 0.8, cells.size)), total).astype(np.int64)
                arrive2 = arrive + rng.integers(5, 21, cells.size)
                _schedule(deliveries, arrive, cells, part1, line, new)
                _schedule(deliveries, arrive2[split], cells[split], (total - part1)[split], line[split], new[split])
                pipeline += np.bincount(cells, total, C).astype(np.int64)
        if i in snapshots:
            out_at_snap[i] = lots.out.copy()

    def stack(rows, n):
        return [np.concatenate(x) for x in zip(*rows)] if rows else [np.zeros(0, np.int64)] * n

    return dict(sales=sales, sellable=sellable, locked=locked, lots=lots.table(), out_at_snap=out_at_snap,
                po_lines=stack(po_lines, 8), receipts=stack(receipts, 3), inspections=stack(inspections, 8),
                events=stack(events, 6))


def _dates(cal: _Calendar, e: np.ndarray) -> pd.Series:
    """Day indices → datetime64[s] (indices outside the calendar are allowed)."""
    return pd.Series((cal.dates[0] + np.asarray(e, np.int64)).astype("datetime64[s]"))


def _orders(rng: np.random.Generator, w: _World, cal: _Calendar, sales: np.ndarray,
            gross: np.ndarray) -> dict[str, np.ndarray]:
    """Split the sales of the last ORDER_MONTHS months into sub-order lines and orders."""
    end_m = cal.month[cal.e0 + cal.T - 1]
    first = max(0, cal.month_start[max(end_m - ORDER_MONTHS + 1, 0)] - cal.e0)
    c, t = np.nonzero(sales[:, first:])
    t += first
    u = sales[c, t]
    n = 1 + rng.binomial(u - 1, 0.8)                  # most lines hold one unit
    grp = np.repeat(np.arange(len(u)), n)
    offset = np.r_[0, np.cumsum(n)[:-1]]
    extra_grp = np.repeat(np.arange(len(u)), u - n)
    line_units = 1 + np.bincount(offset[extra_grp] + (rng.random(extra_grp.size) * n[extra_grp]).astype(np.int64),
                                 minlength=grp.size)
    lc, lt = c[grp], t[grp]
    cum, draw = np.cumsum(w.cell_mix, axis=1), rng.random(lc.size)
    region = np.zeros(lc.size, np.int64)
    for k in range(cum.shape[1]):                     # column by column: no lines × regions matrix
        region += cum[lc, k] < draw
    region = np.minimum(region, len(w.regions) - 1)
    wh = w.cell_wh[lc]
    o = np.lexsort((rng.random(lc.size), region, wh, lt))
    lc, lt, region, wh, line_units = lc[o], lt[o], region[o], wh[o], line_units[o]
    boundary = np.r_[True, (lt[1:] != lt[:-1]) | (wh[1:] != wh[:-1]) | (region[1:] != region[:-1])]
    start = boundary | (rng.random(lc.size) < 0.72)
    idx = np.arange(lc.size)
    while True:                                       # orders have at most 3 lines
        pos = idx - np.maximum.accumulate(np.where(start, idx, 0))
        if not (pos >= 3).any():
            break
        start |= pos == 3
    gmv_line = np.round(line_units * gross[lc, lt] / np.maximum(sales[lc, lt], 1), 2)
    return dict(cell=lc, day=lt, units=line_units, gmv=gmv_line, region=region, wh=wh,
                order=np.cumsum(start) - 1, first=start)


def _returns(rng: np.random.Generator, w: _World, cal: _Calendar, od: dict) -> pd.DataFrame:
    """Refunds of some sub-orders: reason, delay and an English or Chinese comment."""
    sku = w.cell_sku[od["cell"]]
    cat = w.cat[sku]
    p = np.array([c.return_rate for c in _CATEGORIES])[cat] * w.return_factor[sku]
    hit = np.flatnonzero(rng.random(len(sku)) < p)
    reason = np.empty(hit.size, dtype=object)
    for k, c in enumerate(_CATEGORIES):
        at = cat[hit] == k
        names, probs = zip(*c.reasons)
        reason[at] = rng.choice(names, at.sum(), p=np.array(probs) / sum(probs))
    delay = np.clip(np.round(rng.lognormal(np.log(9), 0.6, hit.size)), 1, 60).astype(np.int64)
    second = rng.random(hit.size) < 0.03
    second &= delay < 58
    sub = np.r_[hit, hit[second]]
    reason = np.r_[reason, reason[second]]
    delay = np.r_[delay, np.minimum(delay[second] + rng.integers(2, 21, second.sum()), 60)]
    comment = np.empty(sub.size, dtype=object)
    for r in np.unique(reason):
        at = np.flatnonzero(reason == r)
        comment[at] = rng.choice(_COMMENTS[r], at.size)
    comment[(comment == "") | (rng.random(sub.size) < 0.25)] = None
    refund = od["day"][sub] + cal.e0 + delay
    keep = refund <= cal.e0 + cal.T - 1
    return pd.DataFrame({"sub": sub[keep], "refund": refund[keep], "reason": reason[keep],
                         "comment": comment[keep]})


@dataclass(frozen=True)
class _Ids:
    """Numbers already used by earlier chunks: ids continue from them, so they stay unique."""

    lot: int = 0
    line: int = 0      # PO line
    po: int = 0
    sub: int = 0       # sub-order
    order: int = 0


def _setup(skus: int, warehouses: int, days: int, seed: int, end_date: str):
    """The random stream, the calendar and the world (master data of every SKU), drawn in that order."""
    if skus < 1 or warehouses < 1 or days < 60:
        raise ValueError("simulate needs skus ≥ 1, warehouses ≥ 1 and days ≥ 60")
    rng = np.random.default_rng(seed)
    cal = _Calendar.build(end_date, days)
    return rng, cal, _build_world(rng, skus, warehouses, cal)


def simulate(*, skus: int = DEFAULT_SKUS, warehouses: int = DEFAULT_WAREHOUSES, days: int = DEFAULT_DAYS,
             seed: int = 7, end_date: str = "2026-10-31") -> dict[str, pd.DataFrame]:
    """Simulate the operation in one piece and return every contract table (dates as datetime64,
    months as text). One random stream drives everything, so data/sample is reproducible."""
    rng, cal, w = _setup(skus, warehouses, days, seed, end_date)
    tables, volumes, _ = _simulate_part(rng, w, cal, _Ids())
    tables.update(_master_tables(w))
    tables.update(_network_tables(rng, w, cal, volumes))
    return _in_contract_order(tables)


def default_chunk_skus(warehouses: int, days: int) -> int:
    """SKUs per chunk: about 4 million SKU × warehouse × days each (peak ≈ 1.2 GB at 10 warehouses
    × 365 days, measured), so 1,000 × 10 × 365 still fits in one chunk."""
    return max(1, _CHUNK_CELL_DAYS // (warehouses * days))


def simulate_chunks(*, skus: int = DEFAULT_SKUS, warehouses: int = DEFAULT_WAREHOUSES,
                    days: int = DEFAULT_DAYS, seed: int = 7, end_date: str = "2026-10-31",
                    chunk_skus: int | None = None) -> Iterator[dict[str, pd.DataFrame]]:
    """Yield the tables piece by piece, for writing in bounded memory.

    When all SKUs fit in one chunk this is :func:`simulate` (same random stream, same bytes).
    Otherwise the world (SKUs, suppliers, warehouses) is drawn once as in :func:`simulate` and
    yielded first; then the SKUs, grouped by supplier so that a purchase order (one supplier ×
    warehouse × day) never spans two chunks, are simulated in at most ⌈skus / chunk_skus⌉ chunks
    balanced by expected rows (:func:`_sku_chunks`), each on its own random stream spawned from
    the seed, and their per-SKU tables are yielded with ids that continue from the previous chunk;
    orders group lines of SKUs of the same chunk. Last, the per-warehouse tables (order-volume
    plans, logistics costs) are drawn from the volumes summed over all chunks. Deterministic by
    (seed, sizes, chunk size); another chunk size gives another draw of the same operation.
    """
    if chunk_skus is None:
        chunk_skus = default_chunk_skus(warehouses, days)
    if chunk_skus < 1:
        raise ValueError(f"chunk_skus must be ≥ 1, not {chunk_skus}")
    if skus <= chunk_skus:
        yield simulate(skus=skus, warehouses=warehouses, days=days, seed=seed, end_date=end_date)
        return
    _, cal, w = _setup(skus, warehouses, days, seed, end_date)
    groups = _sku_chunks(w, chunk_skus, days)
    streams = np.random.SeedSequence(seed).spawn(len(groups) + 1)
    yield _in_contract_order(_master_tables(w))
    ids, total = _Ids(), None
    for group, stream in zip(groups, streams):
        tables, volumes, ids = _simulate_part(np.random.default_rng(stream), _part_world(w, group), cal, ids)
        total = volumes if total is None else {k: total[k] + v for k, v in volumes.items()}
        yield _in_contract_order(tables)
        del tables, volumes
    yield _in_contract_order(_network_tables(np.random.default_rng(streams[-1]), w, cal, total))


def _sku_chunks(w: _World, size: int, days: int) -> list[np.ndarray]:
    """SKU indices in at most ⌈SKUs / size⌉ chunks of whole suppliers (sorted within a chunk),
    balanced by the rows they are expected to write rather than by SKU count.

    A SKU writes about 2 × cells × days sales and inventory rows plus about one order line per unit
    sold in the order months, and an order line costs about three times the memory of a cell-day
    while it is built (measured); under the Zipf law the best seller alone sells as much as a few
    hundred slow sellers, so equal SKU counts would give the chunk holding it far more memory.
    Cuts fall where the running weight, in supplier order, crosses a multiple of the mean chunk
    weight; a supplier heavier than that makes one chunk on its own (hence fewer chunks).
    """
    weight = 2 * np.bincount(w.cell_sku, minlength=len(w.base)) * days + 3 * w.base * ORDER_MONTHS * 30.4
    order = np.argsort(w.supplier, kind="stable")
    s = w.supplier[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    running = np.r_[0, np.cumsum(weight[order])]
    per_chunk = running[-1] / -(-len(order) // size)
    bucket = np.floor(running[starts] / per_chunk)              # of the weight before each supplier
    cuts = starts[np.r_[False, np.diff(bucket) > 0]]
    return [np.sort(part) for part in np.split(order, cuts)]


#: _World fields with one value per SKU (the others are per warehouse, supplier or cell).
_PER_SKU = ("sku_id", "cat", "price", "cost", "shelf", "scarce", "lifecycle", "base", "q", "conv", "pack",
            "launch", "decline", "stop", "floor", "fade", "buy_day", "buy_days", "supplier", "plan_bias",
            "return_factor", "overstock")


def _part_world(w: _World, skus: np.ndarray) -> _World:
    """The world restricted to some SKUs and their cells (cell_sku renumbered); suppliers and warehouses kept."""
    keep = np.isin(w.cell_sku, skus)
    local = np.full(len(w.base), -1)
    local[skus] = np.arange(len(skus))
    return replace(w, **{f: getattr(w, f)[skus] for f in _PER_SKU}, cell_sku=local[w.cell_sku[keep]],
                   cell_wh=w.cell_wh[keep], cell_share=w.cell_share[keep], cell_mix=w.cell_mix[keep])


def _in_contract_order(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: tables[name][list(cols)] for name, cols in COLUMNS.items() if name in tables}


def _master_tables(w: _World) -> dict[str, pd.DataFrame]:
    """skus, warehouses and suppliers: drawn with the world, no random draw here."""
    return {
        "skus": pd.DataFrame({
            "sku": w.sku_id, "category": np.array([c.name for c in _CATEGORIES], dtype=object)[w.cat],
            "unit_cost": w.cost, "lifecycle": w.lifecycle,
            "shelf_life_days": pd.Series(w.shelf, dtype="Int64").where(w.shelf > 0),
            "scarce": w.scarce, "split_warehouse": np.array([c.split for c in _CATEGORIES])[w.cat],
            "oos_policy": _oos_policy(w)}),
        "warehouses": pd.DataFrame({"warehouse": w.wh_id, "region": w.regions[w.wh_region]}),
        "suppliers": pd.DataFrame({"supplier": w.sup_id, "tier": w.sup_tier, "rating": w.sup_rating}),
    }


def _oos_policy(w: _World) -> np.ndarray:
    """backorderable, substitutable or none per SKU, from its category and standing (no draw)."""
    name = np.array([c.name for c in _CATEGORIES], dtype=object)[w.cat]
    active = (w.lifecycle == "active") | (w.lifecycle == "new")
    backorderable = active & np.isin(name, _BACKORDERABLE) & ~w.scarce & (w.q < 0.75)
    substitutable = active & np.isin(name, _SUBSTITUTABLE)
    return np.where(backorderable, "backorderable", np.where(substitutable, "substitutable", "none")).astype(object)


def _backorders(rng: np.random.Generator, w: _World, cal: _Calendar, unmet: np.ndarray, cells: np.ndarray,
                first: int, sellable: np.ndarray) -> dict[str, np.ndarray]:
    """Backorder lines of backorderable cells: a share of the unserved demand (``unmet``, cells ×
    days from ``first``) paid as 1–2 unit lines, promised by half the lead time + 2 days, shipped on the
    first later day with sellable stock, some cancelled (more after long waits)."""
    T = cal.T
    paid = rng.binomial(unmet, _BACKORDER_TAKE)
    c, t = np.nonzero(paid)
    u = paid[c, t]
    pairs = rng.binomial(u // 2, 0.5)                            # lines of 2 units; the rest of 1
    n = u - pairs
    grp = np.repeat(np.arange(len(u)), n)
    pos = np.arange(grp.size) - np.r_[0, np.cumsum(n)[:-1]][grp]
    units = 1 + (pos < pairs[grp]).astype(np.int64)
    cell, day = cells[c[grp]], t[grp] + first
    # the first day from d + 1 with sellable stock (T: never within the data)
    rows = sellable[cells, :]
    has = rows > 0
    nxt = np.where(has, np.arange(T)[None, :], T)
    nxt = np.minimum.accumulate(nxt[:, ::-1], axis=1)[:, ::-1]
    after = np.minimum(day + 1, T - 1)
    ship = np.where(day + 1 < T, nxt[c[grp], after], T)
    sku = w.cell_sku[cell]
    promised = day + w.sup_lead[w.supplier[sku]] // 2 + 2
    wait = ship - day
    cancel = rng.random(grp.size) < np.where(wait > 14, 0.25, 0.08)
    cancel_day = day + 1 + np.floor(rng.random(grp.size) * np.minimum(wait - 1, 20)).astype(np.int64)
    cancel &= (wait > 1) & (cancel_day < T)
    shipped = ~cancel & (ship < T)
    price = w.price[sku] * cal.discount[cal.period][day]
    cum, draw = np.cumsum(w.cell_mix[cell], axis=1), rng.random(grp.size)
    region = np.minimum((cum < draw[:, None]).sum(1), len(w.regions) - 1)
    return dict(cell=cell, day=day, units=units, gmv=np.round(units * price, 2), region=region,
                promised=promised, shipped=np.where(shipped, ship, -1), cancelled=np.where(cancel, cancel_day, -1))


def _network_tables(rng: np.random.Generator, w: _World, cal: _Calendar, volumes: dict) -> dict[str, pd.DataFrame]:
    """Per-warehouse tables drawn from the volumes of all SKUs: order-volume plans, logistics costs."""
    return {"order_volume_plans": _order_volume_plans(rng, w, cal, volumes),
            "logistics_costs": _logistics_costs(rng, w, cal, volumes)}


def _simulate_part(rng: np.random.Generator, w: _World, cal: _Calendar, ids: _Ids):
    """Simulate the SKUs of ``w``: their per-SKU tables, their volumes per warehouse (additive over
    parts) and the ids the next part starts from."""
    T, e0, last = cal.T, cal.e0, cal.e0 + cal.T - 1
    n, C = len(w.base), len(w.cell_sku)

    # demand
    exp_full, exp_nodecl, exp_nopromo = _expected_demand(w, cal)
    shock = rng.lognormal(0, (0.08 + 0.12 * w.q)[:, None], (n, len(cal.month_start)))
    mean = (exp_full * shock[:, cal.month])[w.cell_sku][:, cal.period] * w.cell_share[:, None]
    conv = w.conv[w.cell_sku][:, None]
    views = rng.poisson(mean / conv * rng.gamma(6, 1 / 6, mean.shape))
    demand = rng.binomial(views, np.minimum(conv, 1))
    del mean

    # plans and what replenishment reads from them (latest version per lag, spread over the days)
    plans = _plans(rng, w, cal, exp_full, exp_nodecl, exp_nopromo, shock)
    month_sum = np.add.reduceat(exp_full, cal.month_start, axis=1)
    shape = np.where(month_sum[:, cal.month] > 0, exp_full / np.maximum(month_sum[:, cal.month], 1e-12), 0)
    daily = plans[0][:, :, cal.month] * shape[None]
    cum = np.concatenate([np.zeros((4, n, 1)), np.cumsum(daily, axis=2)], axis=2)
    month_ends = np.r_[cal.month_end[(cal.month_end >= e0) & (cal.month_end < last)], last] - e0
    ops = _operate(rng, w, cal, demand, cum, month_ends)
    end_m = cal.month[last]
    order_first = max(0, cal.month_start[max(end_m - ORDER_MONTHS + 1, 0)] - e0)
    bo_cells = np.flatnonzero(_oos_policy(w)[w.cell_sku] == "backorderable")
    unmet = demand[bo_cells, order_first:] - ops["sales"][bo_cells, order_first:]
    del demand, cum, daily

    # stock on hand: sellable + QC-locked + defective / unsellable events
    ev_cell, ev_start, ev_end, ev_units = ops["events"][:4]
    diff = np.zeros((C, T + 1), np.int64)
    np.add.at(diff, (ev_cell, np.clip(ev_start - e0, 0, T)), ev_units)
    np.add.at(diff, (ev_cell, np.clip(ev_end - e0, 0, T)), -ev_units)
    on_hand = ops["sellable"] + ops["locked"] + np.cumsum(diff, axis=1)[:, :T]
    del diff
    sales = ops["sales"]
    # listing: from the first day with stock (or day 0) to the end; discontinued: until sold out
    held = on_hand > 0
    first_day = np.where(w.launch[w.cell_sku] < e0, 0, np.where(held.any(1), held.argmax(1), T))
    last_held = T - 1 - held[:, ::-1].argmax(1)
    disc = w.lifecycle[w.cell_sku] == "discontinued"
    last_day = np.where(disc & (last_held < T - 1), np.minimum(last_held + 1, T - 1), T - 1)
    days_idx = np.arange(T)
    listed = (days_idx >= first_day[:, None]) & (days_idx <= last_day[:, None])
    price = w.price[w.cell_sku][:, None] * cal.discount[cal.period][None, :]
    gross = np.round(sales * price, 2)

    lc, lt = np.nonzero(listed)
    del held, listed, price
    cell_sku_id, cell_wh_id = w.sku_id[w.cell_sku], w.wh_id[w.cell_wh]
    day_dates = _dates(cal, e0 + np.arange(T))
    tables: dict[str, pd.DataFrame] = {}
    tables["sales"] = pd.DataFrame({
        "date": day_dates.values[lt], "sku": cell_sku_id[lc], "warehouse": cell_wh_id[lc],
        "units": sales[lc, lt], "gmv": gross[lc, lt], "promo": cal.promo[e0 + lt],
        "page_views": views[lc, lt]})
    del views
    tables["inventory"] = pd.DataFrame({
        "date": day_dates.values[lt], "sku": cell_sku_id[lc], "warehouse": cell_wh_id[lc],
        "on_hand_units": on_hand[lc, lt], "sellable_units": ops["sellable"][lc, lt],
        "value": np.round(on_hand[lc, lt] * w.cost[w.cell_sku[lc]], 2)})
    del lc, lt
    tables["batches"] = _batches(w, cal, ops, month_ends, ids.lot)
    tables["plans"] = _plan_table(w, cal, plans)

    od = _orders(rng, w, cal, sales, gross)
    n_lines = len(od["cell"])
    sub_ids = _ids("S", ids.sub + np.arange(1, n_lines + 1), 7)
    tables["orders"] = pd.DataFrame({
        "sub_order_id": sub_ids, "order_id": _ids("O", ids.order + od["order"] + 1, 7),
        "paid_date": day_dates.values[od["day"]], "sku": cell_sku_id[od["cell"]], "units": od["units"],
        "gmv": od["gmv"], "customer_region": w.regions[od["region"]], "warehouse": w.wh_id[od["wh"]]})
    ret = _returns(rng, w, cal, od)
    tables["returns"] = pd.DataFrame({
        "sub_order_id": sub_ids[ret["sub"].to_numpy()], "refund_date": _dates(cal, ret["refund"].to_numpy()),
        "reason": ret["reason"].to_numpy(), "comment": ret["comment"].to_numpy()}
    ).sort_values(["refund_date", "sub_order_id"], ignore_index=True)
    n_orders = int(od["order"][-1]) + 1 if n_lines else 0
    bo = _backorders(np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]), w, cal, unmet, bo_cells,
                     order_first, ops["sellable"])
    del unmet
    n_bo = len(bo["cell"])
    bo_ids = _ids("S", ids.sub + n_lines + np.arange(1, n_bo + 1), 7)
    tables["orders"] = pd.concat([tables["orders"], pd.DataFrame({
        "sub_order_id": bo_ids, "order_id": _ids("O", ids.order + n_orders + np.arange(1, n_bo + 1), 7),
        "paid_date": day_dates.values[bo["day"]], "sku": cell_sku_id[bo["cell"]], "units": bo["units"],
        "gmv": bo["gmv"], "customer_region": w.regions[bo["region"]], "warehouse": cell_wh_id[bo["cell"]]})],
        ignore_index=True)
    tables["backorders"] = pd.DataFrame({
        "sub_order_id": bo_ids, "backordered_units": bo["units"].astype(float),
        "backorder_date": day_dates.values[bo["day"]], "promised_date": _dates(cal, e0 + bo["promised"]).values,
        "shipped_date": _dates(cal, e0 + bo["shipped"]).where(bo["shipped"] >= 0).values,
        "cancelled_date": _dates(cal, e0 + bo["cancelled"]).where(bo["cancelled"] >= 0).values})
    tables.update(_purchasing(w, cal, ops, ids))
    volumes = _volumes(w, cal, sales, on_hand, ops, od)
    po = ops["po_lines"][1]
    after = _Ids(lot=ids.lot + len(ops["lots"]["gid"]), line=ids.line + len(po),
                 po=ids.po + (int(po.max()) + 1 if len(po) else 0), sub=ids.sub + n_lines + n_bo,
                 order=ids.order + n_orders + n_bo)
    return tables, volumes, after


def _batches(w: _World, cal: _Calendar, ops: dict, snapshots: np.ndarray, first_lot: int) -> pd.DataFrame:
    """Lots on hand at each snapshot day: FIFO remainders plus defective / expired lots (lot ids
    numbered from ``first_lot`` + 1)."""
    lots, e0 = ops["lots"], cal.e0
    ev_cell, ev_start, ev_end, ev_units, ev_gid, ev_kind = ops["events"]
    lot_day = np.zeros(len(lots["gid"]), np.int64)         # lot ids are 0 … n − 1 (none: a chunk of
    lot_exp = np.full(len(lots["gid"]), _BIG)                # SKUs not launched yet)
    lot_day[lots["gid"]], lot_exp[lots["gid"]] = lots["day"], lots["expiry"]
    parts = []
    for i in snapshots:
        d = e0 + i
        out = ops["out_at_snap"][i][lots["cell"]]
        rem = np.clip(lots["end"] - np.maximum(out, lots["start"]), 0, lots["end"] - lots["start"])
        at = np.flatnonzero((lots["day"] <= d) & (rem > 0))
        parts.append(pd.DataFrame({
            "snap": d, "cell": lots["cell"][at], "gid": lots["gid"][at], "suffix": "",
            "status": np.where(lots["day"][at] == d, "locked", "sellable"), "units": rem[at]}))
        at = np.flatnonzero((ev_start <= d) & (ev_end > d))
        ev = pd.DataFrame({"snap": d, "cell": ev_cell[at], "gid": ev_gid[at], "kind": ev_kind[at],
                           "units": ev_units[at]})
        ev = ev.groupby(["snap", "cell", "gid", "kind"], as_index=False)["units"].sum()
        ev["suffix"] = np.where(ev["kind"] == _EXPIRED, "-X", "-D")
        ev["status"] = np.where(ev["kind"] == _EXPIRED, "unsellable", "defective")
        parts.append(ev.drop(columns="kind"))
    b = pd.concat(parts, ignore_index=True)
    b = b[b["units"] > 0].sort_values(["snap", "cell", "gid", "suffix"], ignore_index=True)
    cell, gid = b["cell"].to_numpy(), b["gid"].to_numpy()
    exp = lot_exp[gid]
    return pd.DataFrame({
        "date": _dates(cal, b["snap"].to_numpy()), "sku": w.sku_id[w.cell_sku[cell]],
        "warehouse": w.wh_id[w.cell_wh[cell]],
        "batch": np.char.add(_ids("L", first_lot + gid + 1, 6), b["suffix"].to_numpy().astype(str)),
        "received_date": _dates(cal, lot_day[gid]), "units": b["units"].to_numpy(),
        "value": np.round(b["units"].to_numpy() * w.cost[w.cell_sku[cell]], 2),
        "expiry_date": _dates(cal, np.where(exp < _BIG, exp, 0)).where(exp < _BIG),
        "status": b["status"].to_numpy()})


def _plan_table(w: _World, cal: _Calendar, plans: np.ndarray) -> pd.DataFrame:
    """Plan and forecast rows for lags 0–2, for versions made by the last month."""
    src, lag, s, m = np.meshgrid(np.arange(2), np.arange(3), np.arange(len(w.base)),
                                 np.arange(len(cal.month_start)), indexing="ij")
    src, lag, s, m = src.ravel(), lag.ravel(), s.ravel(), m.ravel()
    end_m = cal.month[cal.e0 + cal.T - 1]
    first_full = cal.month[cal.e0] + (cal.month_start[cal.month[cal.e0]] < cal.e0)
    launch_m = cal.month[np.clip(w.launch, 0, len(cal.month) - 1)]
    stop_m = cal.month[np.clip(w.stop, 0, len(cal.month) - 1)]
    keep = ((m >= first_full) & (m <= end_m + 2) & (m - lag <= end_m) & (m >= launch_m[s])
            & ((w.lifecycle[s] != "discontinued") | (m <= stop_m[s])))
    src, lag, s, m = src[keep], lag[keep], s[keep], m[keep]
    units = plans[src, lag, s, m].astype(np.int64)
    label = pd.period_range(pd.Period(cal.month_label[0], "M") - 2, periods=len(cal.month_start) + 2, freq="M")
    label = np.asarray(label.strftime("%Y-%m"), dtype=object)      # label[m + 2]: versions before the calendar
    df = pd.DataFrame({"sku": w.sku_id[s], "month": label[m + 2], "version_month": label[m - lag + 2],
                       "source": np.array(["plan", "forecast"], dtype=object)[src], "units": units,
                       "value": np.round(units * w.price[s], 2)})
    return df.sort_values(["sku", "month", "version_month", "source"], ignore_index=True)


def _order_volume_plans(rng: np.random.Generator, w: _World, cal: _Calendar, volumes: dict) -> pd.DataFrame:
    """D-14 (every order day) and D-7 (last three months) plans of the order count per warehouse,
    from the actual order count per day × warehouse (``volumes["orders"]``, flat day * n_wh + wh)."""
    n_wh = len(w.wh_id)
    actual = volumes["orders"]
    order_days = np.flatnonzero(actual.reshape(cal.T, n_wh).sum(1))
    first_day = order_days[0] if order_days.size else cal.T
    days = np.arange(first_day, cal.T)
    rows = []
    for lag, since in ((14, first_day), (7, max(first_day, cal.T - 92))):
        dd, wh = np.meshgrid(days[days >= since], np.arange(n_wh), indexing="ij")
        dd, wh = dd.ravel(), wh.ravel()
        promo = cal.promo[cal.e0 + dd]
        sigma = (0.12 if lag == 14 else 0.07) * np.where(promo, 2.2, 1)
        bias = np.where(promo, -0.12, 0.03)
        planned = np.round(actual[dd * n_wh + wh] * np.exp(rng.normal(bias, sigma))).astype(np.int64)
        rows.append(pd.DataFrame({"date": _dates(cal, cal.e0 + dd), "warehouse": w.wh_id[wh],
                                  "version_date": _dates(cal, cal.e0 + dd - lag), "planned_orders": planned}))
    return pd.concat(rows, ignore_index=True).sort_values(["date", "warehouse", "version_date"],
                                                          ignore_index=True)


def _purchasing(w: _World, cal: _Calendar, ops: dict, ids: _Ids) -> dict[str, pd.DataFrame]:
    """purchase_orders, receipts and inspections from the simulated PO lines and deliveries (line,
    PO and lot ids continue from ``ids``)."""
    line, po, cell, od, promised, qty, price, rush = ops["po_lines"]
    o = np.argsort(line)
    line, po, cell, od, promised, qty, price, rush = (x[o] for x in (line, po, cell, od, promised, qty, price, rush))
    sup = w.supplier[w.cell_sku[cell]]
    line_id = _ids("PL-", ids.line + line + 1, 6)
    purchase_orders = pd.DataFrame({
        "po_line_id": line_id, "po_id": _ids("PO-", ids.po + po + 1, 5), "supplier": w.sup_id[sup],
        "sku": w.sku_id[w.cell_sku[cell]], "order_date": _dates(cal, od), "promised_date": _dates(cal, promised),
        "ordered_units": qty, "unit_price": price, "rush": rush.astype(bool), "incoterm": w.sup_incoterm[sup]})
    r_line, r_day, r_units = ops["receipts"]
    receipts = pd.DataFrame({"po_line_id": line_id[r_line], "received_date": _dates(cal, r_day),
                             "units": r_units}).sort_values(["received_date", "po_line_id"], ignore_index=True)
    gid, c, day, inspected, passed, i_line, new, attempt = ops["inspections"]
    inspections = pd.DataFrame({
        "lot_id": _ids("L", ids.lot + gid + 1, 6), "supplier": w.sup_id[w.supplier[w.cell_sku[c]]],
        "sku": w.sku_id[w.cell_sku[c]], "date": _dates(cal, day), "inspected_units": inspected,
        "passed_units": passed, "po_line_id": line_id[i_line], "new_product": new.astype(bool),
        "attempt": attempt}).sort_values("lot_id", ignore_index=True)
    return {"purchase_orders": purchase_orders, "receipts": receipts, "inspections": inspections}


def _volumes(w: _World, cal: _Calendar, sales: np.ndarray, on_hand: np.ndarray, ops: dict,
             od: dict) -> dict[str, np.ndarray]:
    """What the per-warehouse tables need from some SKUs, as sums (so parts add up): per warehouse ×
    month units shipped, held, received and gift-packed; per warehouse orders and ordered units;
    orders per day × warehouse."""
    T, e0, n_wh = cal.T, cal.e0, len(w.wh_id)
    first = np.unique(cal.month[e0:e0 + T], return_index=True)[1]

    def by_wh_month(x):     # cells × days → warehouses × months
        out = np.zeros((n_wh, len(first)))
        np.add.at(out, w.cell_wh, np.add.reduceat(x, first, axis=1))
        return out

    receipts = np.zeros_like(sales)
    line_cell = np.empty(len(ops["po_lines"][0]), np.int64)
    line_cell[ops["po_lines"][0]] = ops["po_lines"][2]
    r_line, r_day, r_units = ops["receipts"]
    np.add.at(receipts, (line_cell[r_line], r_day - e0), r_units)
    names = np.array([c.name for c in _CATEGORIES])
    gift = np.isin(names[w.cat[w.cell_sku]], ("Wine", "Apparel", "Bags"))[:, None]
    return {"units_out": by_wh_month(sales), "held": by_wh_month(on_hand), "units_in": by_wh_month(receipts),
            "gift_units": by_wh_month(sales * gift),
            "n_orders": np.bincount(od["wh"][od["first"]], minlength=n_wh),
            "unit_sum": np.bincount(od["wh"], od["units"], minlength=n_wh),
            "orders": np.bincount((od["day"] * n_wh + od["wh"])[od["first"]], minlength=T * n_wh)}


def _logistics_costs(rng: np.random.Generator, w: _World, cal: _Calendar, volumes: dict) -> pd.DataFrame:
    """Monthly cost per warehouse and type, scaling with the simulated volumes (:func:`_volumes`)."""
    T, e0 = cal.T, cal.e0
    months, first = np.unique(cal.month[e0:e0 + T], return_index=True)
    units_out, held, units_in = volumes["units_out"], volumes["held"], volumes["units_in"]
    day_n = np.diff(np.r_[first, T])
    # orders per unit from the order lines (all months use the same ratio per warehouse)
    n_orders, unit_sum = volumes["n_orders"], volumes["unit_sum"]
    orders = units_out * np.where(unit_sum > 0, n_orders / np.maximum(unit_sum, 1), 0.8)[:, None]
    promo_m = np.add.reduceat(cal.promo[e0:e0 + T], first) > 0
    size = np.maximum(held.sum(1, keepdims=True) / T, 1)
    cost = {
        "storage": 150 * np.sqrt(size) * day_n / 30 + 0.9 * held / day_n,
        "handling": 1.2 * units_out + 0.4 * units_in,
        "value_added": 0.6 * volumes["gift_units"] * np.where(promo_m, 2.0, 1.0),
        "packaging": 1.1 * orders,
        "courier": 7.5 * orders,
    }
    cost["other"] = 0.03 * sum(cost.values())
    amount = np.stack([cost[k] for k in _COST_TYPES])              # type × warehouse × month
    amount = np.round(amount * rng.lognormal(0, 0.04, amount.shape), 2).transpose(2, 1, 0)
    m, wh, k = (x.ravel() for x in np.indices(amount.shape))
    return pd.DataFrame({"month": cal.month_label[months[m]], "warehouse": w.wh_id[wh],
                         "cost_type": np.array(_COST_TYPES, dtype=object)[k], "amount": amount.ravel()})


class _Writer:
    """One file per table in ``out_dir``, appended to chunk by chunk (a table's file is created
    when its first frame arrives, even an empty one).

    CSV as the bundled sample: UTF-8, header first, dates YYYY-MM-DD, booleans true/false, missing
    values blank. Parquet typed from the contract, so readers need no guessing: date → date32,
    float → float64, int → int64, bool → bool, text, codes and months → string; each chunk is
    appended as its own row group(s) (pyarrow ParquetWriter; at most about 1M rows in one).
    """

    def __init__(self, out_dir, fmt: str):
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
        self.fmt, self.out = fmt, pathlib.Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, object] = {}
        self.paths: list[pathlib.Path] = []

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc) -> None:
        for f in self.files.values():
            f.close()

    def write(self, tables: dict[str, pd.DataFrame]) -> None:
        for name, df in tables.items():
            if name not in self.files:
                self.files[name] = self._open(name, df)
            if len(df) == 0:
                continue
            if self.fmt == "csv":
                df = df.copy()
                for col in df.columns:
                    if pd.api.types.is_bool_dtype(df[col]):
                        df[col] = np.where(df[col], "true", "false")
                df.to_csv(self.files[name], header=False, index=False, date_format="%Y-%m-%d",
                          lineterminator="\n")
            else:
                import pyarrow as pa

                writer = self.files[name]
                writer.write_table(pa.Table.from_pandas(df, preserve_index=False).cast(writer.schema))

    def _open(self, name: str, df: pd.DataFrame):
        path = self.out / f"{name}.{self.fmt}"
        self.paths.append(path)
        if self.fmt == "csv":
            f = path.open("w", encoding="utf-8", newline="")
            df.iloc[:0].to_csv(f, index=False, lineterminator="\n")
            return f
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, arrow_schema(name, df.columns))


def arrow_schema(table: str, columns) -> "pa.Schema":
    """The Arrow types of a contract table's columns (see :class:`_Writer`)."""
    import pyarrow as pa

    types = {"date": pa.date32(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
    return pa.schema([(c, types.get(TABLES[table].column(c).dtype, pa.string())) for c in columns])


def write_dataset(tables: dict[str, pd.DataFrame], out_dir, fmt: str = "csv") -> list[pathlib.Path]:
    """Write one file per table (csv or parquet, see :class:`_Writer`); return the paths."""
    with _Writer(out_dir, fmt) as out:
        out.write(tables)
    return out.paths


def generate(out_dir, *, fmt: str = "csv", chunk_skus: int | None = None, **kwargs) -> list[pathlib.Path]:
    """Simulate (keyword arguments of :func:`simulate`) and write the tables to ``out_dir`` chunk by
    chunk (:func:`simulate_chunks`), so memory is bounded by one chunk, not by the dataset."""
    with _Writer(out_dir, fmt) as out:
        for part in simulate_chunks(chunk_skus=chunk_skus, **kwargs):
            out.write(part)
            del part            # free this chunk before the next one is simulated
    return out.paths
