"""Suppliers: OTIF (on time in full), incoming-inspection pass rate, preferred-supplier share.

OTIF is the second-level KPI behind availability: if suppliers do not deliver, the stock team
cannot keep items on the shelf. The article's three readings differ in what they let a supplier
hide: the value reading lets a big line cover for many short ones, the line reading checks every
SKU at a 95% fill mark, the order reading asks for whole POs. Inspection pass rate is counted by
units or by delivery lot (票); preferred-supplier share tracks how much we buy from top-tier or
top-rated suppliers (the lever behind OTIF).

Reading of the spec:
- OTIF: receipts are read up to ``as_of`` (default: the last receipts.received_date). The window
  is inclusive at both ends: promised_date − early_days ≤ received_date ≤ promised_date +
  late_days. A line is judged when promised_date + late_days ≤ as_of; later lines are left out and
  counted in a note. Filters apply in this order, each counted: ``orders`` (rush flag),
  ``exclude_scarce`` (skus.scarce; SKUs missing from skus are not scarce), not yet due. Lines with
  ordered_units = 0 have no fill rate and are left out (counted). The line test is
  on_time_units / ordered_units ≥ line_fill, so a fill exactly at the mark passes. Receipts of
  PO lines missing from purchase_orders are counted in a note and left out. Without any receipt
  there is no default judging day: every line is left out (a note asks for as_of).
- OTIF by_order: the entity is the PO (po_id) restricted to its judged lines. With a grouping,
  a PO is split by the grouping columns: in each group its lines there form one order that
  passes when all of them pass. So a PO whose lines fall in two promised months (or, unusually,
  two suppliers, or both rush and normal lines) counts once in each month (supplier, rush
  group), judged on the lines there; ungrouped it counts once, judged on all its judged lines.
  The detail is therefore one row per (po_id, grouping columns) and is built for the grouping
  asked for.
- OTIF helper columns (the spec names none): numerator and denominator —
  on_time_value / ordered_value, lines_passed / lines, orders_passed / orders.
- Inspection: a lot passes when passed_units / inspected_units ≥ lot_threshold; lots with
  inspected_units = 0 have no rate and are left out of by_lot (counted in a note); they add 0 to
  by_quantity. ``new_first`` keeps lots with new_product true and attempt = 1 (re-inspections and
  ordinary lots are left out). Helpers: passed_units / inspected_units, lots_passed / lots.
- Preferred share: a PO line's supplier is looked up in ``suppliers``; a supplier missing there
  takes the contract defaults (tier other, no rating) and is counted in a note; a supplier with
  no rating is not preferred under by_rating. Helpers: preferred_value / purchase_value.

Page helpers (``otif_overview``, ``compare_groupings``, ``variants``, ``supplier_ranking`` with
``rank_correlations``, ``receipt_timing``, ``fill_curve``, ``preferred_breakdown``) compute what
the suppliers page and notebook 05 show, as pandas tables; they share one Context per parameter
set (``_Memo``), run lazily on the dataset's engine and give the same numbers as ``compute``
(tested).
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import narwhals.stable.v2 as nw

from kpilab import engines
from kpilab.kpis._common import NAN, as_date, day_number, month_of, ratio
from kpilab.registry import Definition, Kpi, L10n, Param


# --------------------------------------------------------------------------- OTIF universe

LINE_COLUMNS = ("po_line_id", "po_id", "supplier", "sku", "month", "rush", "promised_date",
                "ordered_units", "unit_price", "received_units", "early_units", "window_units",
                "late_units", "on_time_units", "fill", "lines_passed", "lines", "on_time_value",
                "ordered_value")


def otif_as_of(ctx, p) -> dt.date | None:
    """The judging day: the ``as_of`` parameter, else the last receipts.received_date (None
    without receipts)."""
    if p["as_of"] is not None:
        return p["as_of"]
    last = ctx.shared(("otif_last_receipt",), lambda: ctx.scalar(ctx.table("receipts"),
                                                                 nw.col("received_date").max()))
    return None if last is None or last != last else as_date(last)     # last != last: NaT


def otif_lines(ctx, p) -> nw.LazyFrame:
    """The judged PO lines, one row each, with their receipts split early / in window / late.

    on_time_units = min(ordered_units, Σ receipt units with promised_date − early_days ≤
    received_date ≤ promised_date + late_days); fill = on_time_units / ordered_units;
    lines_passed = [fill ≥ line_fill].

    >>> import pandas as pd
    >>> from kpilab import Dataset, compute
    >>> po = pd.DataFrame({"po_line_id": ["L1"], "po_id": ["P1"], "supplier": ["S"], "sku": ["x"],
    ...     "order_date": pd.to_datetime(["2024-01-01"]), "promised_date": pd.to_datetime(["2024-02-10"]),
    ...     "ordered_units": [100.0], "unit_price": [2.0], "rush": [False], "incoterm": [None]})
    >>> rc = pd.DataFrame({"po_line_id": ["L1"] * 3, "units": [10.0, 80.0, 10.0],
    ...     "received_date": pd.to_datetime(["2024-02-01", "2024-02-12", "2024-02-14"])})
    >>> ds = Dataset({"purchase_orders": po, "receipts": rc})
    >>> row = compute(ds, "otif", "by_line").detail.iloc[0]   # window 2024-02-03 … 2024-02-13
    >>> [float(row[c]) for c in ("early_units", "window_units", "late_units", "on_time_units", "fill")]
    [10.0, 80.0, 10.0, 80.0, 0.8]
    >>> int(row.lines_passed)   # 0.8 < line_fill 0.95
    0
    """
    key = ("otif_lines", p["early_days"], p["late_days"], p["line_fill"], p["exclude_scarce"],
           p["orders"], p["as_of"])
    return ctx.shared(key, lambda: _build_otif_lines(ctx, p))


def counts(frame: nw.LazyFrame, *exprs: nw.Expr) -> list[int]:
    """Several counts for notes (sums of 0/1 expressions) computed on the engine in one query."""
    row = engines.collect(frame.select(*(e.cast(nw.Int64).sum().alias(f"_n{i}") for i, e in enumerate(exprs)))).row(0)
    return [int(v or 0) for v in row]


def _po_lines(ctx) -> nw.LazyFrame:
    """PO lines with the month of their promised date (window-free, lazy)."""
    return ctx.table("purchase_orders").with_columns(month=month_of("promised_date"))


def _matched_receipts(ctx) -> nw.LazyFrame:
    """Receipts with the promised date of their line (window-free, lazy); receipts of PO lines
    missing from purchase_orders are left out, counted once per dataset in a note."""
    receipts = ctx.table("receipts")
    promised = ctx.table("purchase_orders").select("po_line_id", "promised_date")

    def note_orphans() -> None:
        orphans = ctx.count(receipts.join(promised, on="po_line_id", how="anti"))
        if orphans:
            ctx.note(f"{orphans} receipts refer to PO lines missing from purchase_orders and are left out.",
                     zh=f"{orphans} 条到货记录对应的采购订单行不在 purchase_orders 中, 不计入。")
    ctx.shared(("otif_orphan_receipts",), note_orphans)
    return (receipts.join(promised, on="po_line_id", how="inner")
            .select("po_line_id", "units", "received_date", "promised_date"))


def _window(early: int, late: int) -> tuple[nw.Expr, nw.Expr]:
    """The first and last day of a line's window: promised_date − early_days, + late_days."""
    promised = nw.col("promised_date").dt
    return promised.offset_by(f"{-early}d"), promised.offset_by(f"{late}d")


def _judging_day(ctx, p) -> dt.datetime:
    """as_of as a datetime (dates are compared with the tables' datetime columns); without
    receipts, 1900-01-01: before every window ends, so that every line is 'not yet due'."""
    as_of = otif_as_of(ctx, p)
    if as_of is None:
        ctx.note("There are no receipts, so no judging day: set as_of to judge the PO lines.",
                 zh="没有到货记录, 因此没有评估日: 请设置 as_of 来评估采购订单行。")
        as_of = dt.date(1900, 1, 1)
    return dt.datetime.combine(as_of, dt.time())


def _build_otif_lines(ctx, p) -> nw.LazyFrame:
    """The judged lines (see ``otif_lines``); the lines left out are counted in one query."""
    early, late = p["early_days"], p["late_days"]
    as_of = _judging_day(ctx, p)
    start, end = _window(early, late)
    day, units, zero = nw.col("received_date"), nw.col("units"), nw.lit(0.0)
    split = (_matched_receipts(ctx).filter(day <= as_of)
             .with_columns(early_units=nw.when(day < start).then(units).otherwise(zero),
                           window_units=nw.when((day >= start) & (day <= end)).then(units).otherwise(zero),
                           late_units=nw.when(day > end).then(units).otherwise(zero))
             .group_by("po_line_id")
             .agg(received_units=units.sum(), early_units=nw.col("early_units").sum(),
                  window_units=nw.col("window_units").sum(), late_units=nw.col("late_units").sum()))

    lines = _po_lines(ctx)
    if p["orders"] != "all":
        lines = lines.filter(nw.col("rush") == (p["orders"] == "rush"))
    if p["exclude_scarce"] and ctx.has("skus"):
        pool = ctx.table("skus").filter(nw.col("scarce").fill_null(False)).select("sku").unique()
        lines = lines.join(pool.with_columns(_scarce=nw.lit(True)), on="sku", how="left")
    else:
        lines = lines.with_columns(_scarce=nw.lit(None, nw.Boolean))
        if p["exclude_scarce"]:
            ctx.note("No skus table: scarce SKUs cannot be recognised, so none is left out.",
                     zh="没有 skus 表: 无法识别稀缺品, 因此不排除任何行。")
    # each line is left out for the first reason that applies: scarce, nothing ordered, not yet due
    scarce = nw.col("_scarce").fill_null(False)
    ordered = nw.col("ordered_units") > 0
    due = nw.col("promised_date") <= as_of - dt.timedelta(days=late)
    n_scarce, n_empty, n_open = counts(lines, scarce, ~scarce & ~ordered, ~scarce & ordered & ~due)
    if n_scarce:
        ctx.note(f"{n_scarce} PO lines of scarce SKUs (skus.scarce) are left out (exclude_scarce=true).",
                 zh=f"{n_scarce} 个稀缺品 (skus.scarce) 的采购订单行不计入 (exclude_scarce=true)。")
    if n_empty:
        ctx.note(f"{n_empty} PO lines with 0 ordered units (cancelled?) are left out.",
                 zh=f"{n_empty} 个下单数量为 0 的采购订单行 (已取消?) 不计入。")
    if n_open:
        ctx.note(f"{n_open} PO lines not yet due (promised_date + {late} days after "
                 f"{as_of.date().isoformat()}) are left out: their window is still open.",
                 zh=f"{n_open} 个采购订单行尚未到期 (promised_date + {late} 天晚于 {as_of.date().isoformat()}), "
                    "不计入: 其到货窗口尚未结束。")

    received = ["received_units", "early_units", "window_units", "late_units"]
    return (lines.filter(~scarce, ordered, due)
            .join(split, on="po_line_id", how="left")
            .with_columns(*(nw.col(c).fill_null(0.0).cast(nw.Float64) for c in received))
            .with_columns(on_time_units=nw.min_horizontal("ordered_units", "window_units"),
                          ordered_value=nw.col("ordered_units") * nw.col("unit_price"),
                          lines=nw.lit(1, nw.Int64))
            .with_columns(fill=nw.col("on_time_units") / nw.col("ordered_units"),
                          on_time_value=nw.col("on_time_units") * nw.col("unit_price"))
            .with_columns(lines_passed=(nw.col("fill") >= p["line_fill"]).cast(nw.Int64))
            .select(*LINE_COLUMNS).sort("po_line_id"))


def _otif_line_stats(ctx, p, by):
    return otif_lines(ctx, p)


def _otif_order_stats(ctx, p, by):
    """One row per (po_id, grouping columns): the PO's judged lines in that group form an order."""
    lines = otif_lines(ctx, p)
    from_skus = [c for c in by if c not in lines.collect_schema().names()]
    if from_skus:
        lines = lines.join(ctx.skus.select("sku", *from_skus), on="sku", how="left")
    keys = list(dict.fromkeys(["po_id", *by]))
    return (lines.group_by(keys)
            .agg(nw.col("lines").sum(), nw.col("lines_passed").sum(), nw.col("ordered_value").sum(),
                 nw.col("on_time_value").sum())
            .with_columns(orders=nw.lit(1, nw.Int64),
                          orders_passed=(nw.col("lines_passed") == nw.col("lines")).cast(nw.Int64))
            .sort(keys))


def receipt_timing(dataset, *, clip: int = 30, _memo=None, **params) -> Any:
    """Where the receipts of the judged PO lines land against their promised dates (pandas).

    A tidy table: offset_days (received_date − promised_date, clipped to ±``clip`` so the tails
    pile up at the ends), position (early / in_window / late under the window of ``params``),
    units (Σ receipt units), receipts (rows). Receipts after as_of are not seen, as in OTIF.
    """
    memo = _memo or _Memo(dataset, "otif")
    ctx = memo.context(params)
    p = ctx.params
    with engines.using(dataset):
        judged = otif_lines(ctx, p).select("po_line_id")
        as_of = _judging_day(ctx, p)
        start, end = _window(p["early_days"], p["late_days"])
        day = nw.col("received_date")
        position = (nw.when(day < start).then(nw.lit("early"))
                    .when(day > end).then(nw.lit("late")).otherwise(nw.lit("in_window")))
        offset = day_number("received_date") - day_number("promised_date")
        return engines.to_pandas(
            _matched_receipts(ctx).filter(day <= as_of).join(judged, on="po_line_id", how="inner")
            .with_columns(position=position,
                          offset_days=nw.min_horizontal(nw.max_horizontal(offset, nw.lit(-clip)), nw.lit(clip)))
            .group_by("offset_days", "position")
            .agg(nw.col("units").sum(), nw.len().alias("receipts"))
            .sort("offset_days", "position"))


def fill_curve(detail, thresholds: Sequence[float]) -> Any:
    """Share of rows whose ``fill`` (or ``rate``) is ≥ each threshold: the by_line (or by_lot)
    value as a function of the pass mark, from one detail (pandas, polars or a narwhals frame,
    lazy or not: one aggregate on its engine). Columns threshold, value, passed, rows (pandas).
    """
    frame = (engines.as_lazy(detail) if isinstance(detail, (nw.DataFrame, nw.LazyFrame))
             else engines.lazy(detail))
    names = frame.collect_schema().names()
    column = "fill" if "fill" in names else "rate"
    if "lots" in names:
        frame = frame.filter(nw.col("lots") > 0)
    counts = engines.collect(frame.select(
        nw.len().alias("rows"),
        *((nw.col(column) >= t).cast(nw.Int64).sum().alias(f"t{i}") for i, t in enumerate(thresholds)))).row(0)
    n = int(counts[0] or 0)
    passed = [int(c or 0) for c in counts[1:]]
    schema = {"threshold": nw.Float64(), "value": nw.Float64(), "passed": nw.Int64(), "rows": nw.Int64()}
    data = {"threshold": [float(t) for t in thresholds], "value": [k / n if n else NAN for k in passed],
            "passed": passed, "rows": [n] * len(passed)}
    return nw.from_dict(data, schema=schema, backend="pandas").to_native()


# --------------------------------------------------------------------------- inspections


def inspection_lots(ctx, p) -> nw.LazyFrame:
    """The lots of the chosen scope, with rate = passed / inspected and the lot test."""
    key = ("inspection_lots", p["lot_threshold"], p["scope"])

    def build():
        lots = ctx.table("inspections")
        if p["scope"] == "new_first":
            kept = lots.filter(nw.col("new_product").fill_null(False), nw.col("attempt").fill_null(1) == 1)
            n, total = ctx.count(kept), ctx.count(lots)
            ctx.note(f"new_first: {n} of {total} lots are first inspections of new products.",
                     zh=f"new_first: {total} 票中有 {n} 票是新品首次验货。")
            lots = kept
        inspected = nw.col("inspected_units") > 0
        n = ctx.count(lots.filter(~inspected))
        if n:
            ctx.note(f"{n} lots with 0 inspected units have no pass rate and are left out of the lot count.",
                     zh=f"{n} 票检验件数为 0, 没有合格率, 不计入票数。")
        rate = nw.when(inspected).then(nw.col("passed_units") / nw.col("inspected_units"))
        return (lots.with_columns(month=month_of("date"), rate=rate)
                .with_columns(lots=inspected.cast(nw.Int64),
                              lots_passed=(inspected & (nw.col("rate") >= p["lot_threshold"]))
                              .fill_null(False).cast(nw.Int64))
                .select("lot_id", "supplier", "sku", "month", "date", "new_product", "attempt",
                        "po_line_id", "inspected_units", "passed_units", "rate", "lots_passed", "lots")
                .sort("lot_id"))
    return ctx.shared(key, build)


def _inspection_stats(ctx, p, by):
    return inspection_lots(ctx, p)


# --------------------------------------------------------------------------- preferred suppliers


def purchase_lines(ctx, p) -> nw.LazyFrame:
    """PO lines with purchase value, month of order_date and the supplier's tier and rating."""
    def build():
        po = ctx.table("purchase_orders")
        suppliers = ctx.table("suppliers").select("supplier", "tier", "rating")
        unknown = po.join(suppliers, on="supplier", how="anti")
        lines = ctx.count(unknown)
        if lines:
            n = ctx.scalar(unknown, nw.col("supplier").n_unique())
            ctx.note(f"{n} suppliers of {lines} PO lines are missing from the suppliers table: "
                     "tier 'other', no rating.",
                     zh=f"{lines} 个采购订单行涉及的 {n} 个供应商不在 suppliers 表中: 层级按 'other' 处理, 无评分。")
        return (po.join(suppliers, on="supplier", how="left")
                .with_columns(tier=nw.col("tier").fill_null("other"), month=month_of("order_date"),
                              purchase_value=nw.col("ordered_units") * nw.col("unit_price"))
                .select("po_line_id", "po_id", "supplier", "sku", "month", "order_date", "tier",
                        "rating", "purchase_value")
                .sort("po_line_id"))
    return ctx.shared(("purchase_lines",), build)


def _preferred(kind: str, p) -> nw.Expr:
    """[the line's supplier is preferred]: tier in ``tiers``, or rating ≥ ``min_rating`` (no rating: not)."""
    if kind == "by_tier":
        return nw.col("tier").is_in([t.lower() for t in p["tiers"]])
    return (nw.col("rating") >= p["min_rating"]).fill_null(False)


def _preferred_stats(kind: str):
    def stats(ctx, p, by):
        rows = purchase_lines(ctx, p)
        if kind == "by_rating":
            n = ctx.count(rows.filter(nw.col("rating").is_null()))
            if n:
                ctx.note(f"{n} PO lines come from suppliers without a rating: not preferred.",
                         zh=f"{n} 个采购订单行来自无评分的供应商: 不算优质供应商。")
        return rows.with_columns(preferred=_preferred(kind, p).cast(nw.Int64)).with_columns(
            preferred_value=nw.when(nw.col("preferred") == 1).then(nw.col("purchase_value"))
            .otherwise(nw.lit(0.0)))
    return stats


# --------------------------------------------------------------------------- page helpers


def preferred_breakdown(dataset, **params) -> Any:
    """One row per supplier: tier, rating, purchase value, its share of all purchase value, and
    whether it counts as preferred under by_tier and under by_rating — the suppliers on which the
    two definitions disagree are the ones to talk about (pandas)."""
    ctx = _Memo(dataset, "preferred_supplier_share").context(params)
    p = ctx.params
    with engines.using(dataset):
        rows = purchase_lines(ctx, p).with_columns(by_tier=_preferred("by_tier", p).cast(nw.Int64),
                                                   by_rating=_preferred("by_rating", p).cast(nw.Int64))
        total = ctx.scalar(rows, nw.col("purchase_value").sum())
        return engines.to_pandas(
            rows.group_by("supplier", "tier", "rating")     # tier and rating are the supplier's own
            .agg(nw.col("purchase_value").sum(), nw.col("by_tier").max(), nw.col("by_rating").max())
            .with_columns(nw.col("by_tier", "by_rating").cast(nw.Boolean),
                          share=nw.col("purchase_value") / total if total else nw.lit(NAN))
            .select("supplier", "tier", "rating", "purchase_value", "share", "by_tier", "by_rating")
            .sort("purchase_value", descending=True))


class _Memo:
    """Requests of the page helpers on one dataset: one Context per parameter set (so its
    per-request values serve every grouping; the universes are ``ctx.shared`` across requests
    anyway) and one result per (parameters, definition, grouping), so a ranking at the page's
    window reuses the per-supplier comparison the page already made."""

    def __init__(self, dataset, kpi):
        from kpilab.kpis import get_kpi

        self.dataset = dataset
        self.kpi = get_kpi(kpi) if isinstance(kpi, str) else kpi
        self.contexts: dict = {}
        self.results: dict = {}

    def context(self, params: Mapping[str, Any]):
        from kpilab.engine import Context

        resolved = self.kpi.resolve_params(dict(params))
        key = tuple(sorted(resolved.items()))
        if key not in self.contexts:
            self.contexts[key] = Context(self.dataset, resolved)
        return self.contexts[key]

    def compare(self, groupings: Iterable[Sequence[str]], definitions=None, **params) -> dict:
        from kpilab.engine import Comparison, check_grouping, compute_in

        chosen = [self.kpi.definition(d) for d in (definitions or [d.id for d in self.kpi.definitions])]
        ctx = self.context(params)
        out = {}
        for by in groupings:
            by = check_grouping(self.kpi, self.dataset, by)
            for d in chosen:
                key = (id(ctx), d.id, by)
                if key not in self.results:
                    self.results[key] = compute_in(ctx, self.kpi, d, by)
            out[by] = Comparison(self.kpi.id, {d.id: self.results[(id(ctx), d.id, by)] for d in chosen})
        return out


def compare_groupings(dataset, kpi: str, groupings: Iterable[Sequence[str]], definitions=None,
                      **params) -> dict[tuple[str, ...], Any]:
    """``compare`` under several groupings at once ({by: Comparison}) in one Context: the universe
    is built once and pooled per grouping, so a page showing a KPI overall, per supplier, per
    month and per rush flag pays for one build."""
    return _Memo(dataset, kpi).compare(groupings, definitions, **params)


def variants(dataset, kpi: str, param: str, values: Iterable[Any], *, definitions=None,
             by: Sequence[str] = (), _memo=None, **params) -> Any:
    """The KPI's definitions under several values of one parameter, as a tidy table (pandas).

    Columns: ``param`` value as text (``variant``), definition, grouping columns, value. E.g.
    OTIF with exclude_scarce true/false, orders normal/rush, or inspection scope all/new_first.
    """
    memo = _memo or _Memo(dataset, kpi)
    frames = []
    by = tuple(by)
    for v in values:
        cmp = memo.compare([by], definitions, **{**params, param: v})[by]
        for definition, result in cmp.results.items():
            table = nw.from_native(result.table, eager_only=True)
            frames.append(table.select(
                nw.lit(_text(v)).alias("variant"), nw.lit(definition).alias("definition"),
                *by, nw.col("value").cast(nw.Float64)))
    return _tidy(nw.concat(frames))


def _tidy(frame: nw.DataFrame):
    """The native frame; a pandas one gets a clean 0…n−1 index after sorting and joins."""
    native = frame.to_native()
    return native.reset_index(drop=True) if hasattr(native, "reset_index") else native


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


@dataclass(frozen=True)
class Scenario:
    """One way to rank suppliers: a definition and the parameters that differ from the common ones."""

    label: str
    definition: str
    params: Mapping[str, Any] = field(default_factory=dict)


def ranking_scenarios(definitions: Sequence[str] = ("by_value", "by_line", "by_order"),
                      windows: Sequence[tuple[int, int]] = ((7, 3),),
                      names: Mapping[str, str] | None = None) -> tuple[Scenario, ...]:
    """Every definition under every (early_days, late_days) window, labelled 'by_line −7/+3'
    (or with ``names`` of the definitions, e.g. translated ones: '按订单行 −7/+3')."""
    names = names or {}
    return tuple(Scenario(f"{names.get(d, d)} −{e}/+{l}", d, {"early_days": e, "late_days": l})
                 for e, l in windows for d in definitions)


def supplier_ranking(dataset, scenarios: Sequence[Scenario] | None = None, *, kpi: str = "otif",
                     min_count: float = 1, _memo=None, **params) -> Any:
    """Suppliers ranked under several definitions / windows, as a tidy table (pandas).

    Columns: scenario, definition, supplier, value, count, rank (1 = best; ties share the best
    rank). ``count`` is what a supplier's value rests on: for OTIF its judged PO lines under the
    scenario's parameters (the same for the three definitions), otherwise the definition's
    denominator. Suppliers whose count is below ``min_count`` (or whose value is empty) are left
    out of that scenario's ranking. Each distinct parameter set is one comparison; all of them
    share the window-free preparation.
    """
    scenarios = tuple(scenarios or ranking_scenarios())
    memo = _memo or _Memo(dataset, kpi)
    k = memo.kpi
    frames = []
    groups: dict[tuple, list[Scenario]] = {}
    for s in scenarios:
        groups.setdefault(tuple(sorted({**params, **s.params}.items(), key=lambda kv: kv[0])), []).append(s)
    for items, chosen in groups.items():
        wanted = {s.definition for s in chosen} | ({"by_line"} if k.id == "otif" else set())
        cmp = memo.compare([("supplier",)], sorted(wanted), **dict(items))[("supplier",)]
        lines = (nw.from_native(cmp.results["by_line"].table, eager_only=True)
                 .select("supplier", nw.col("lines").cast(nw.Float64).alias("count")) if k.id == "otif" else None)
        for s in chosen:
            d = k.definition(s.definition)
            table = nw.from_native(cmp.results[s.definition].table, eager_only=True)
            if lines is not None:
                table = table.join(lines, on="supplier", how="left")
            else:
                den = d.helpers[1] if len(d.helpers) > 1 else d.helpers[0]
                table = table.with_columns(nw.col(den).cast(nw.Float64).alias("count"))
            ranked = (table.filter(~nw.col("value").is_nan(), nw.col("count") >= min_count)
                      .select("supplier", nw.col("value").cast(nw.Float64), "count")
                      .with_columns(rank=nw.col("value").rank(method="min", descending=True)
                                    .cast(nw.Int64)))
            frames.append(ranked.select(nw.lit(s.label).alias("scenario"),
                                        nw.lit(s.definition).alias("definition"),
                                        "supplier", "value", "count", "rank"))
    order = {s.label: i for i, s in enumerate(scenarios)}
    out = nw.concat(frames).with_columns(
        _order=nw.col("scenario").replace_strict(order, return_dtype=nw.Int64))
    return _tidy(out.sort("_order", "rank", "supplier").drop("_order"))


def rank_correlations(ranking, base: str | None = None) -> Any:
    """Spearman ρ and Kendall τ-b between the supplier rankings of every two scenarios.

    ``ranking`` is a ``supplier_ranking`` table; with ``base``, only pairs (base, other). Each
    pair uses the suppliers ranked in both; fewer than 2 (or a constant ranking) gives empty
    coefficients. Columns: scenario_a, scenario_b, suppliers, spearman, spearman_p, kendall,
    kendall_p. 1 = same order, 0 = unrelated, −1 = reversed.
    """
    from scipy import stats

    frame = nw.from_native(ranking, eager_only=True)
    labels = list(dict.fromkeys(frame["scenario"].to_list()))
    values = {s: dict(zip(part["supplier"].to_list(), part["value"].to_list()))
              for s in labels for part in [frame.filter(nw.col("scenario") == s)]}
    pairs = ([(base, s) for s in labels if s != base] if base is not None
             else list(itertools.combinations(labels, 2)))
    rows = []
    nan = float("nan")
    for a, b in pairs:
        common = sorted(set(values.get(a, {})) & set(values.get(b, {})))
        x = [values[a][s] for s in common]
        y = [values[b][s] for s in common]
        rho = p_rho = tau = p_tau = nan
        if len(common) >= 2 and len(set(x)) > 1 and len(set(y)) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rho, p_rho = (float(v) for v in stats.spearmanr(x, y))
                tau, p_tau = (float(v) for v in stats.kendalltau(x, y))
        rows.append({"scenario_a": a, "scenario_b": b, "suppliers": len(common), "spearman": rho,
                     "spearman_p": p_rho, "kendall": tau, "kendall_p": p_tau})
    schema = {"scenario_a": nw.String(), "scenario_b": nw.String(), "suppliers": nw.Int64(),
              "spearman": nw.Float64(), "spearman_p": nw.Float64(), "kendall": nw.Float64(),
              "kendall_p": nw.Float64()}
    data = {c: [r[c] for r in rows] for c in schema}
    return nw.from_dict(data, schema=schema, backend=frame.implementation).to_native()


# --------------------------------------------------------------------------- declarations

_EARLY = Param("early_days", "int", 7, L10n("Early window (days before promised)", "提前窗口 (承诺日前天数)"),
               L10n("Receipts more than this many days before the promised date do not count "
                    "('7 early, 3 late').", "早于承诺日超过该天数的到货不算准时 ('前 7 后 3')。"),
               bounds=(0, 365))
_LATE = Param("late_days", "int", 3, L10n("Late window (days after promised)", "延迟窗口 (承诺日后天数)"),
              L10n("Receipts more than this many days after the promised date do not count; set it "
                   "from your safety stock.", "晚于承诺日超过该天数的到货不算准时; 按安全库存水平设定。"),
              bounds=(0, 365))
_LINE_FILL = Param("line_fill", "float", 0.95, L10n("Line fill mark", "订单行满足线"),
                   L10n("A line passes when at least this share of its units arrived in the window.",
                        "窗口内到货达到该比例, 该行才算打卡。"), bounds=(0.0, 1.0))
_SCARCE = Param("exclude_scarce", "bool", True, L10n("Exclude scarce SKUs", "排除稀缺品"),
                L10n("Leave out SKUs in the scarce-goods pool (skus.scarce): Moutai, Lego… that no "
                     "supplier can be blamed for.", "排除稀缺品池中的单品 (skus.scarce): 茅台、乐高等采不到也不能怪供应商的货。"))
_ORDERS = Param("orders", "choice", "all", L10n("Orders", "订单类型"),
                L10n("all, normal (placed within lead time) or rush orders.",
                     "全部、正常单 (按提前期下单) 或急单。"), choices=("all", "normal", "rush"))
_AS_OF = Param("as_of", "date", None, L10n("Judge as of (blank = last receipt)", "评估日 (留空 = 最后到货日)"),
               L10n("Lines whose late window ends after this day are not judged yet.",
                    "延迟窗口在该日之后才结束的行暂不评估。"))

_OTIF_COMMON = ("early_days", "late_days", "exclude_scarce", "orders", "as_of")

OTIF = Kpi(
    id="otif", family="suppliers",
    name=L10n("Supplier OTIF (on time in full)", "供应商准时足量满足率 (OTIF)"),
    description=L10n("How much of what we ordered arrived on time and in full. It is the second-level KPI "
                     "behind availability: when suppliers do not deliver, the stock team cannot keep items "
                     "on the shelf without carrying more stock.",
                     "下单的货有多少准时、足量地到了。它是在架率的二级指标: 供应商不交货, 库控团队只能靠更高的库存"
                     "来保在架率。"),
    unit="share", direction="higher", tables=("purchase_orders", "receipts"),
    period=L10n("month of promised_date", "承诺到货日所在月份"),
    params=(_EARLY, _LATE, _LINE_FILL, _SCARCE, _ORDERS, _AS_OF),
    definitions=(
        Definition(
            "by_value", L10n("By value", "按金额"),
            "Σ on_time_unitsᵢ·unit_priceᵢ / Σ ordered_unitsᵢ·unit_priceᵢ,  on_time_units = min(ordered, "
            "units received in [promised − early_days, promised + late_days])",
            L10n("The share of ordered value that arrived inside the window. Easiest to compute, but a large "
                 "line delivered in full can hide many small lines that came short.",
                 "窗口内到货金额占下单金额的比例。最容易计算, 但一个足量到货的大金额行可以掩盖许多没到够的小行。"),
            L10n("You need a money view (cash, budget) or a first, simple OTIF; not when suppliers could "
                 "'game the amount'.", "需要金额视角 (资金、预算) 或先上一个简单的 OTIF; 不适合防止供应商钻金额的空子。"),
            stats=_otif_line_stats, finish=lambda s: s.with_columns(value=ratio("on_time_value", "ordered_value")),
            sums=("on_time_value", "ordered_value"), helpers=("on_time_value", "ordered_value"),
            params=_OTIF_COMMON),
        Definition(
            "by_line", L10n("By line", "按订单行"),
            "#{lines with on_time_units ≥ line_fill × ordered_units} / #lines",
            L10n("Each PO line (SKU) passes when at least 95% of its units arrived in the window: lines "
                 "passed over lines.", "每个订单行 (单品) 窗口内到货达到 95% 即打卡: 打卡行数除以总行数。"),
            L10n("You want every SKU filled, not just the total amount — the article's recommended reading, "
                 "it leaves no room to hide short lines behind big ones.",
                 "希望每个单品都满足, 而不只是总金额达标: 文章推荐的口径, 不让供应商钻金额的空子。"),
            stats=_otif_line_stats, finish=lambda s: s.with_columns(value=ratio("lines_passed", "lines")),
            sums=("lines_passed", "lines"), helpers=("lines_passed", "lines"),
            params=_OTIF_COMMON + ("line_fill",)),
        Definition(
            "by_order", L10n("By whole order", "按整单"),
            "#{POs all of whose lines pass the line test} / #POs",
            L10n("A PO counts only when every one of its lines passes the line test: the strictest reading.",
                 "一张采购单的每一行都打卡才算达成: 最严格的口径。"),
            L10n("Orders are only useful complete (kits, a launch, a promotion set); it punishes one short "
                 "line as hard as a missed order.", "整单到齐才有用时 (套装、新品上市、大促备货); 一行不足与整单未到同等处罚。"),
            stats=_otif_order_stats, finish=lambda s: s.with_columns(value=ratio("orders_passed", "orders")),
            sums=("orders_passed", "orders"), helpers=("orders_passed", "orders"),
            params=_OTIF_COMMON + ("line_fill",)),
    ),
    dims=("supplier", "rush"), optional_tables=("skus",))


_LOT_THRESHOLD = Param("lot_threshold", "float", 0.95, L10n("Lot pass mark", "单票合格线"),
                       L10n("A delivery lot passes when its pass rate is at least this (the article: "
                            "'above 95%').", "一票的合格率达到该值即算合格 (文章: '高于 95%')。"), bounds=(0.0, 1.0))
_SCOPE = Param("scope", "choice", "all", L10n("Lots", "验货范围"),
               L10n("all lots, or new_first: first inspections of new products (the new-product first-time "
                    "pass rate).", "全部批次, 或 new_first: 新品首次验货 (新品首次通过率)。"), choices=("all", "new_first"))

INSPECTION_PASS_RATE = Kpi(
    id="inspection_pass_rate", family="suppliers",
    name=L10n("Inspection pass rate", "验货合格率"),
    description=L10n("How much of what suppliers delivered passed incoming inspection; with new_first, how often a "
                     "new product passes at the first try, so it can go on sale on time.",
                     "供应商交付的货有多少通过了入库验货; 选 new_first 时, 看新品首次验货就通过的比例, 保证按时有货可卖。"),
    unit="share", direction="higher", tables=("inspections",),
    period=L10n("month of the inspection date", "验货日期所在月份"),
    params=(_LOT_THRESHOLD, _SCOPE),
    definitions=(
        Definition(
            "by_quantity", L10n("By quantity", "按数量"), "Σ passed_units / Σ inspected_units",
            L10n("Units that passed over units inspected: big deliveries weigh more.",
                 "合格件数除以检验件数: 大批量的交货权重更大。"),
            L10n("Quality cost and rejected volume matter (returns to supplier, concession acceptance).",
                 "关注质量成本与拒收量时 (退供、让步接收)。"),
            stats=_inspection_stats, finish=lambda s: s.with_columns(value=ratio("passed_units", "inspected_units")),
            sums=("passed_units", "inspected_units"), helpers=("passed_units", "inspected_units"),
            params=("scope",)),
        Definition(
            "by_lot", L10n("By delivery lot", "按交货票数"),
            "#{lots with passed/inspected ≥ lot_threshold} / #lots",
            L10n("A delivery (票) passes when its pass rate reaches 95%; passed lots over lots. A PO delivered "
                 "in two lots counts twice.", "一票交货合格率达到 95% 即算合格; 合格票数除以总票数。一张采购单分两票交货就算两票。"),
            L10n("Supplier evaluation: every delivery counts the same, so a supplier cannot hide many poor small "
                 "deliveries behind one good big one.", "供应商评估: 每票同等计入, 供应商无法用一票大货掩盖多票小货的问题。"),
            stats=_inspection_stats, finish=lambda s: s.with_columns(value=ratio("lots_passed", "lots")),
            sums=("lots_passed", "lots"), helpers=("lots_passed", "lots"),
            params=("lot_threshold", "scope")),
    ),
    dims=("supplier",), optional_tables=("skus",))


_TIERS = Param("tiers", "list", ("brand", "primary_distributor"), L10n("Preferred tiers", "优质采购层级"),
               L10n("Supplier tiers counted as preferred: the brand itself and its appointed primary distributor "
                    "rank highest.", "算作优质的供应商层级: 品牌方及其指定的一级供应商层级最高。"),
               choices=("brand", "primary_distributor", "distributor", "other"))
_MIN_RATING = Param("min_rating", "float", 80.0, L10n("Minimum rating", "最低评分"),
                    L10n("Suppliers rated at least this (0–100) are preferred.", "评分不低于该值 (0–100) 的供应商算优质。"),
                    bounds=(0.0, 100.0))

PREFERRED_SUPPLIER_SHARE = Kpi(
    id="preferred_supplier_share", family="suppliers",
    name=L10n("Preferred-supplier share", "优质供应商采购占比"),
    description=L10n("The share of purchase value bought from preferred suppliers: the lever behind OTIF, and a "
                     "check that price-first sourcing does not drain the strategic suppliers' annual rebates.",
                     "从优质供应商采购的金额占比: 是 OTIF 的下一级指标, 也用来检查价格优先的询价规则是否挤掉了战略供应商的年框返利。"),
    unit="share", direction="higher", tables=("purchase_orders", "suppliers"),
    period=L10n("month of order_date", "下单日期所在月份"),
    params=(_TIERS, _MIN_RATING),
    definitions=(
        Definition(
            "by_tier", L10n("By tier", "按采购层级"), "Σ ordered_units·unit_price of suppliers with tier ∈ tiers / "
            "Σ ordered_units·unit_price",
            L10n("Purchase value from brands and primary distributors over all purchase value.",
                 "向品牌方和一级供应商采购的金额占全部采购金额的比例。"),
            L10n("Sourcing level comes first: brands and their appointed distributors secure quota and "
                 "authenticity, even when they ask more of us.", "采购层级优先: 品牌方及其指定一级供应商能保配额、保正品, 即便要求多一些也要尊重。"),
            stats=_preferred_stats("by_tier"), finish=lambda s: s.with_columns(value=ratio("preferred_value", "purchase_value")),
            sums=("preferred_value", "purchase_value"), helpers=("preferred_value", "purchase_value"),
            params=("tiers",)),
        Definition(
            "by_rating", L10n("By rating", "按供应商评分"), "Σ ordered_units·unit_price of suppliers with rating ≥ "
            "min_rating / Σ ordered_units·unit_price",
            L10n("Purchase value from suppliers scoring at least 80 over all purchase value.",
                 "向评分 80 分及以上的供应商采购的金额占比。"),
            L10n("You run a supplier scorecard (delivery, quality, tier) and want volume to follow the score.",
                 "已建立供应商综合评分 (履约、质量、层级), 希望采购份额向高分供应商倾斜。"),
            stats=_preferred_stats("by_rating"), finish=lambda s: s.with_columns(value=ratio("preferred_value", "purchase_value")),
            sums=("preferred_value", "purchase_value"), helpers=("preferred_value", "purchase_value"),
            params=("min_rating",)),
    ),
    dims=("supplier",), optional_tables=("skus",))

KPIS = (OTIF, INSPECTION_PASS_RATE, PREFERRED_SUPPLIER_SHARE)


@dataclass(frozen=True)
class OtifOverview:
    """Everything the OTIF part of the suppliers page shows, from one shared preparation."""

    views: dict            # {grouping: Comparison} for (), supplier, month, rush
    timing: Any            # receipt_timing
    curve: Any             # fill_curve of the by-line detail
    ranking: Any           # supplier_ranking
    correlations: Any      # rank_correlations of the ranking
    scarce: Any            # variants over exclude_scarce true / false
    scenarios: tuple[str, ...]   # ranking scenario labels, in order


OVERVIEW_GROUPINGS = ((), ("supplier",), ("month",), ("rush",))
FILL_MARKS = tuple(x / 100 for x in range(50, 101, 5))


def otif_overview(dataset, *, windows: Sequence[tuple[int, int]] = ((3, 1), (14, 7)), min_lines: int = 1,
                  names: Mapping[str, str] | None = None, fill_marks: Sequence[float] = FILL_MARKS,
                  **params) -> OtifOverview:
    """OTIF overall and per supplier / month / rush flag, receipt timing, the by-line fill curve
    over ``fill_marks``, the supplier ranking (the three definitions at the chosen window, by line
    at the other ``windows``) with its rank correlations, and the scarce-pool variants — sharing
    one Context per parameter set, so a change of window or fill mark costs one universe build
    per window. ``names`` labels the ranking scenarios."""
    memo = _Memo(dataset, "otif")
    p = memo.kpi.resolve_params(params)
    window = (p["early_days"], p["late_days"])
    scenarios = ranking_scenarios(windows=(window,), names=names) + ranking_scenarios(
        ("by_line",), tuple(w for w in windows if tuple(w) != window), names=names)
    base = {k: v for k, v in params.items() if k not in ("early_days", "late_days")}
    views = memo.compare(OVERVIEW_GROUPINGS, **params)
    ranking = supplier_ranking(dataset, scenarios, min_count=min_lines, _memo=memo, **base)
    with engines.using(dataset):
        curve = fill_curve(views[()].results["by_line"].lazy_detail(), fill_marks)
    return OtifOverview(
        views=views,
        timing=receipt_timing(dataset, _memo=memo, **params),
        curve=curve,
        ranking=ranking,
        correlations=rank_correlations(ranking),
        scarce=variants(dataset, "otif", "exclude_scarce", [True, False], _memo=memo,
                        **{k: v for k, v in params.items() if k != "exclude_scarce"}),
        scenarios=tuple(s.label for s in scenarios))
