"""Quality: the quality refund rate (品退率) and, through ``reasons``, the authenticity-doubt rate.

Universe: paid sub-orders (``orders``) and the refunds of ``returns``. A sub-order *qualifies*
when one of its returns rows has a reason in ``reasons`` or — with ``keywords`` on — a comment
containing one of ``keyword_list`` (case-insensitive substring). It counts once, at its earliest
qualifying refund_date, with the reason code of that row.

Two denominators (the article's "当月除以当月" and "回溯法")::

    same_month(m) = #qualifying sub-orders refunded in m / #sub-orders paid in m   (m = refund month)
    attributed(m) = #qualifying sub-orders paid in m     / #sub-orders paid in m   (m = paid month)

The detail is one row per (month, sku) — plus ``reason`` when the result is grouped by reason —
with additive counts ``returned`` and ``paid`` (attributed adds ``expected_visible`` and
``maturity_base``, see :class:`RefundLags`), so any grouping pools Σreturned / Σpaid.

Reading of the spec:

- Returns whose sub_order_id is not in ``orders`` have no purchase date and no SKU: they are left
  out of both definitions (so both count the same refunds), and their number is noted.
- Grouping by ``reason`` splits the numerator by the reason code of the counted refund (with
  keywords on, e.g. ``changed_mind`` with the comment "arrived broken"); the denominator stays
  all sub-orders paid in the month, repeated for every reason level (the levels in ``reasons``
  plus any counted reason), so the reason rows add up to the total rate.
- ``keyword_list`` also splits on the full-width separators "，" and "、" (users paste Chinese
  lists); keywords and reason codes are trimmed and lower-cased. Reasons empty with keywords off
  would count nothing: that is an error.
- Months are every month with a paid sub-order or a counted refund; a refund month with no paid
  sub-order gives an empty (NaN) same_month rate. Refunds dated before their purchase are kept
  (counted and noted); their lag counts as 0 days.
- ``maturity`` (attributed only) is defined in :class:`RefundLags`: one lag distribution over the
  whole dataset (not per group), so it pools additively over any grouping. The horizon is the
  largest observed lag, capped at half the paid-date span so some cohorts are always mature.
- The data's last date is the later of the last paid_date and the last refund_date. The paid
  months are not cut to complete months (the spec does not); a partial last month is simply
  small, and its attributed maturity says how much is still to come.
- A sub-order whose SKU is not in ``skus`` still counts; grouped by a skus column it falls in the
  group whose value is empty.

Written once as narwhals lazy code: counted refunds, paid cohorts, the lag histogram and the
maturity shares F(age) (a ``cum_sum`` window over lags and ages) are computed on the dataset's
engine (pandas, polars or DuckDB); notes read counts and dates with ``ctx.count`` / ``ctx.scalar``.

Page helpers (tested here, used by the Quality page and notebook 02): ``refund_lag_distribution``,
``keyword_reclassification``, ``group_rates`` (run on the engine, return pandas), and
``monthly_summary``, ``rate_intervals``, ``flag_rates``, ``lines_from_table`` (on result tables).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

import narwhals.stable.v2 as nw
import numpy as np

from kpilab import engines
from kpilab.kpis._common import as_date, day_number, month_of, ratio
from kpilab.registry import Definition, Kpi, KpiError, L10n, Param


DEFAULT_KEYWORDS = ("defect", "broken", "damaged", "faulty", "stopped working", "poor quality", "bad quality",
                    "质量问题", "质量差", "破损", "瑕疵", "坏了", "损坏", "故障", "次品")
AUTHENTICITY_KEYWORDS = ("fake", "counterfeit", "not genuine", "not authentic", "replica", "假货", "假的",
                         "不是正品", "非正品", "仿品", "高仿")
"""A starting keyword list for the authenticity-doubt rate (a page suggestion, not the KPI default)."""
_EPOCH = dt.date(1970, 1, 1)
IMMATURE_BELOW = 0.95
"""Attributed months whose maturity is below this are called "not yet mature" in notes and charts."""

# --------------------------------------------------------------------------- parameters


def normalise_reasons(reasons) -> tuple[str, ...]:
    """Reason codes trimmed, lower-cased, de-duplicated (order kept)."""
    return tuple(dict.fromkeys(r.strip().lower() for r in reasons if r and r.strip()))


def normalise_keywords(keywords) -> tuple[str, ...]:
    """Keywords trimmed and lower-cased; items are also split on "，" and "、"."""
    out = []
    for item in keywords:
        for part in str(item).replace("，", ",").replace("、", ",").split(","):
            if part.strip():
                out.append(part.strip().lower())
    return tuple(dict.fromkeys(out))


def _rule(p) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(reasons, keywords) actually applied; keywords empty when the keyword sweep is off."""
    reasons = normalise_reasons(p["reasons"])
    keywords = normalise_keywords(p["keyword_list"]) if p["keywords"] else ()
    if not reasons and not keywords:
        raise KpiError("return_rate: reasons is empty and no keyword is applied, so no refund can qualify; "
                       "give at least one reason code (e.g. quality) or turn keywords on with a keyword list")
    return reasons, keywords


# --------------------------------------------------------------------------- universe


def _comment_lower() -> nw.Expr:
    return nw.col("comment").cast(nw.String).str.to_lowercase()


def _keyword_hit(keywords: tuple[str, ...], text: nw.Expr) -> nw.Expr:
    """True when the (lower-cased) text contains any keyword; False for an empty comment."""
    if not keywords:
        return nw.lit(False)
    hit = None
    for kw in keywords:
        one = text.str.contains(kw, literal=True).fill_null(False)
        hit = one if hit is None else (hit | one)
    return hit


def _reason_hit(reasons: tuple[str, ...]) -> nw.Expr:
    if not reasons:
        return nw.lit(False)
    return nw.col("reason").is_in(list(reasons)).fill_null(False)


def _returns(ctx) -> nw.LazyFrame:
    """The returns table with reason codes trimmed and lower-cased (validation already does it;
    hand-made frames may not), and an empty comment column when the table has none. Not kept:
    a projection is cheaper to repeat than to store (on DuckDB each stored frame is a table)."""
    returns = ctx.table("returns")
    if "comment" not in returns.collect_schema().names():
        returns = returns.with_columns(comment=nw.lit(None, nw.String))
    return returns.with_columns(nw.col("reason").cast(nw.String).str.strip_chars().str.to_lowercase())


def _flagged_rows(ctx, reasons, keywords) -> nw.LazyFrame:
    """Every returns row with ``by_reason`` and ``by_keyword`` flags."""
    return _returns(ctx).with_columns(by_reason=_reason_hit(reasons),
                                      by_keyword=_keyword_hit(keywords, _comment_lower()))


def _day_span(ctx) -> tuple[int, int]:
    """(first, last) as day numbers: the first paid_date, and the data's last date — the later of
    the last paid_date and the last refund_date. An orders table without a paid date is an error."""
    def build():
        orders = ctx.table("orders")
        first, last = (ctx.scalar(orders, nw.col("paid_date").min()), ctx.scalar(orders, nw.col("paid_date").max()))
        if last is None:
            raise KpiError("return_rate: orders has no paid sub-order (no paid_date), so there is no rate to compute")
        refunded = ctx.scalar(ctx.table("returns"), nw.col("refund_date").max())
        last = as_date(last) if refunded is None else max(as_date(last), as_date(refunded))
        return (as_date(first) - _EPOCH).days, (last - _EPOCH).days
    return ctx.shared(("quality_day_span",), build)


def _counted(ctx, p) -> nw.LazyFrame:
    """One row per counted sub-order: sub_order_id, sku, paid_date, refund_date (earliest
    qualifying), reason (of that row), lag (days, ≥ 0). Orphans are left out and noted."""
    reasons, keywords = _rule(p)

    def build():
        rows = _flagged_rows(ctx, reasons, keywords).filter(nw.col("by_reason") | nw.col("by_keyword"))
        first = rows.group_by("sub_order_id").agg(nw.col("refund_date").min())
        counted = (first.join(rows.select("sub_order_id", "refund_date", "reason"),
                              on=["sub_order_id", "refund_date"], how="inner")
                   .group_by("sub_order_id", "refund_date").agg(nw.col("reason").min()))
        orders = ctx.table("orders").select("sub_order_id", "sku", "paid_date", known=nw.lit(True))
        counted = engines.materialize(counted.join(orders, on="sub_order_id", how="left"))
        orphans = ctx.count(counted.filter(nw.col("known").is_null()))
        if orphans:
            ctx.note(f"{orphans} qualifying refunds refer to sub-orders that are not in orders (no purchase "
                     "date, no SKU): they are left out of both definitions.",
                     zh=f"{orphans} 笔符合条件的退款对应的子订单不在 orders 中 (无支付日期, 无 SKU): 两种口径都不计入。")
        counted = counted.filter(~nw.col("known").is_null()).drop("known").with_columns(
            lag=day_number("refund_date") - day_number("paid_date"))
        early = ctx.count(counted.filter(nw.col("lag") < 0))
        if early:
            ctx.note(f"{early} qualifying refunds are dated before their purchase: they count, "
                     "with a lag of 0 days.",
                     zh=f"{early} 笔符合条件的退款日期早于支付日期: 仍计入, 退款滞后按 0 天计。")
        return counted.with_columns(lag=nw.when(nw.col("lag") < 0).then(nw.lit(0, nw.Int64)).otherwise(nw.col("lag")))
    return ctx.shared(("quality_counted", reasons, keywords), build)


def _paid_daily(ctx) -> nw.LazyFrame:
    """Sub-orders paid per (sku, paid_date), with the paid month and the age in days at the last date."""
    def build():
        _, last = _day_span(ctx)
        return (ctx.table("orders").group_by("sku", "paid_date").agg(paid=nw.len())
                .with_columns(nw.col("paid").cast(nw.Int64), month=month_of("paid_date"), age=last - day_number("paid_date")))
    return ctx.shared(("quality_paid_daily",), build)


def _paid_monthly(ctx) -> nw.LazyFrame:
    """Sub-orders paid per (paid month, sku)."""
    return ctx.shared(("quality_paid_monthly",), lambda: _paid_daily(ctx).group_by("month", "sku").agg(
        nw.col("paid").sum()).with_columns(nw.col("paid").cast(nw.Int64)))


# --------------------------------------------------------------------------- refund lags / maturity


@dataclass(frozen=True)
class RefundLags:
    """The refund-lag distribution of mature cohorts and the maturity curve it implies.

    lag = refund_date − paid_date (days, negative → 0) of each counted refund. With ``last`` the
    data's last date (the later of the last paid_date and the last refund_date) and ``first`` the
    first paid_date:

    - horizon H = the largest lag observed, capped at ⌊(last − first) / 2⌋ days so that at least
      half of the history counts as mature;
    - mature cohorts are the sub-orders paid on or before last − H: all their refunds up to H days
      (and in practice all of them) are already visible;
    - F(a) = share of the mature cohorts' counted refunds with lag ≤ a (empirical CDF; the
      histogram is :func:`_lag_histogram`, F per age :func:`_maturity_shares`);
    - a sub-order paid on day d has age a = last − d; F(a) is the expected share of its eventual
      quality refunds already visible. A cohort's maturity = Σ F(aᵢ) / n over its sub-orders
      (``expected_visible`` / ``maturity_base`` in the detail, both additive, so maturity pools
      over any grouping). It is between 0 and 1 and never decreases with the cohort's age.

    With no mature refund the curve is unknown (``known`` is False) and maturity is NaN.
    """

    horizon_days: int
    last_date: dt.date
    mature_until: dt.date      # sub-orders paid on or before this day form the mature cohorts
    counted: int               # counted refunds with a purchase date (all cohorts)
    mature_refunds: int        # of which in the mature cohorts: the sample behind F

    @property
    def known(self) -> bool:
        return self.mature_refunds > 0


def _refund_lags(ctx, p) -> RefundLags:
    reasons, keywords = _rule(p)

    def build():
        counted = _counted(ctx, p)
        first, last = _day_span(ctx)
        last_date = _EPOCH + dt.timedelta(days=last)
        n = ctx.count(counted)
        if not n:
            return RefundLags(0, last_date, last_date, 0, 0)
        horizon = int(min(ctx.scalar(counted, nw.col("lag").max()), (last - first) // 2))
        mature = ctx.count(counted.filter(day_number("paid_date") <= last - horizon))
        return RefundLags(horizon, last_date, last_date - dt.timedelta(days=horizon), n, mature)
    return ctx.shared(("quality_lags", reasons, keywords), build)


def _lag_histogram(ctx, p) -> nw.LazyFrame:
    """(lag, refunds): counted refunds of the mature cohorts per lag in days (lazy, over the kept
    counted refunds)."""
    cutoff = (_refund_lags(ctx, p).mature_until - _EPOCH).days
    return (_counted(ctx, p).filter(day_number("paid_date") <= cutoff)
            .group_by("lag").agg(refunds=nw.len()).with_columns(nw.col("refunds").cast(nw.Int64)))


def _maturity_shares(ctx, p) -> nw.LazyFrame:
    """(age, share): F(age) for every age of a paid day (0 everywhere when the curve is unknown).

    Lags and ages in one column ordered by (day, lag before age): the running Σ refunds at an
    age row is the number of mature refunds with lag ≤ age — a window, not a join of every age
    with every lag."""
    lags = _refund_lags(ctx, p)
    ages = _paid_daily(ctx).select("age").unique()
    if not lags.known:
        return ages.with_columns(share=nw.lit(0.0))
    events = nw.concat([
        _lag_histogram(ctx, p).select(day=nw.col("lag").cast(nw.Int64), refunds=nw.col("refunds"),
                                      is_age=nw.lit(0, nw.Int64)),
        ages.select(day=nw.col("age").cast(nw.Int64), refunds=nw.lit(0, nw.Int64), is_age=nw.lit(1, nw.Int64))])
    seen = nw.col("refunds").cum_sum().over(order_by=["day", "is_age"])
    return (events.with_columns(seen=seen).filter(nw.col("is_age") == 1)
            .select(age=nw.col("day"), share=nw.col("seen").cast(nw.Float64) / lags.mature_refunds))


# --------------------------------------------------------------------------- definitions


def _reason_levels(ctx, p, counted: nw.LazyFrame) -> nw.LazyFrame:
    """The reason levels of a grouping by reason: those in ``reasons`` plus every counted reason."""
    reasons, _ = _rule(p)
    one_row = ctx.table("orders").select(nw.len())
    given = [one_row.select(reason=nw.lit(r, nw.String)) for r in reasons]
    return nw.concat([counted.select(nw.col("reason").cast(nw.String)), *given]).unique()


def _assemble(ctx, p, by, paid: nw.LazyFrame, returned: nw.LazyFrame, counted: nw.LazyFrame,
              paid_cols: tuple[str, ...]) -> nw.LazyFrame:
    """Join per-(month, sku) paid columns with returned counts; with ``reason`` in ``by`` the paid
    columns are repeated for each reason level and returned is split by reason."""
    keys = ["month", "sku"]
    if "reason" in by:
        paid = paid.join(_reason_levels(ctx, p, counted), how="cross")
        returned = returned.group_by("month", "sku", "reason").agg(returned=nw.len())
        keys.append("reason")
    else:
        returned = returned.group_by("month", "sku").agg(returned=nw.len())
    universe = nw.concat([paid.select(keys), returned.select(keys)]).unique()
    detail = (universe.join(paid, on=keys, how="left").join(returned, on=keys, how="left")
              .with_columns(nw.col("returned").fill_null(0).cast(nw.Int64),
                            *(nw.col(c).fill_null(0).cast(nw.Float64 if c == "expected_visible" else nw.Int64)
                              for c in paid_cols)))
    return detail.select(*keys, "returned", *paid_cols).sort(keys)


def _months(frame: nw.LazyFrame) -> list[str]:
    """The distinct months of a small frame, sorted (brought back for a note)."""
    return engines.to_pandas(frame.select("month").unique().sort("month"))["month"].tolist()


def _same_month_stats(ctx, p, by):
    """Per (refund or paid month, sku): returned = counted sub-orders refunded in the month,
    paid = sub-orders paid in the month.

    >>> round(_worked_check("same_month")["2024-07"], 4)   # spec: 10 / 1,000
    0.01
    """
    counted = _counted(ctx, p)
    paid = _paid_monthly(ctx)
    returned = counted.with_columns(month=month_of("refund_date"))
    orphan_months = _months(returned.join(paid.select("month").unique(), on="month", how="anti"))
    if orphan_months:
        months = ", ".join(orphan_months)
        ctx.note(f"Refund months with no paid sub-order have an empty same-month rate: {months}.",
                 zh=f"以下退款月份没有支付子订单, 当月法退款率为空: {months}。")
    return _assemble(ctx, p, by, paid, returned, counted, ("paid",))


def _same_month_finish(sums):
    return sums.with_columns(value=ratio("returned", "paid"))


def _attributed_paid(ctx, p) -> nw.LazyFrame:
    """Per (paid month, sku): paid, expected_visible = Σ paid·F(age), maturity_base = paid when
    the curve is known (else 0); notes the paid months not yet mature."""
    reasons, keywords = _rule(p)

    def build():
        known = _refund_lags(ctx, p).known
        priced = _paid_daily(ctx).join(_maturity_shares(ctx, p), on="age", how="left").with_columns(
            expected_visible=nw.col("paid") * nw.col("share"), maturity_base=nw.col("paid") * int(known))
        if not known:
            ctx.note("No refund qualifies, so the refund-lag distribution and maturity are unknown.",
                     zh="没有符合条件的退款: 退款滞后分布和成熟度未知。")
        else:
            monthly = engines.to_pandas(
                priced.group_by("month").agg(nw.col("expected_visible").sum(), nw.col("paid").sum())
                .with_columns(maturity=ratio("expected_visible", "paid"))
                .filter(nw.col("maturity") < IMMATURE_BELOW).sort("month"))
            if len(monthly):
                shown = ", ".join(f"{m} ({v:.0%})" for m, v in zip(monthly["month"], monthly["maturity"]))
                ctx.note(f"Recent paid months are not yet mature (share of their eventual returns already visible): "
                         f"{shown}. Their attributed rate will still rise.",
                         zh=f"近期支付月份尚未成熟 (最终退款中已可见的比例): {shown}。其回溯法退款率还会继续上升。")
        return priced.group_by("month", "sku").agg(nw.col("paid").sum(), nw.col("expected_visible").sum(),
                                                   nw.col("maturity_base").sum())
    return ctx.shared(("quality_attributed_paid", reasons, keywords), build)


def _attributed_stats(ctx, p, by):
    """Per (paid month, sku): returned = counted sub-orders paid in the month, paid = sub-orders
    paid in the month, expected_visible = Σ F(age) over them (see :class:`RefundLags`),
    maturity_base = paid where the lag distribution is known (else 0).

    >>> round(_worked_check("attributed")["2024-06"], 4)   # spec: 10 / 10,000
    0.001
    """
    counted = _counted(ctx, p)
    returned = counted.with_columns(month=month_of("paid_date"))
    return _assemble(ctx, p, by, _attributed_paid(ctx, p), returned, counted,
                     ("paid", "expected_visible", "maturity_base"))


def _attributed_finish(sums):
    return sums.with_columns(value=ratio("returned", "paid"),
                             maturity=ratio("expected_visible", "maturity_base"))


def _worked_check(definition: str) -> dict[str, float]:
    """The spec's worked check: 10 quality refunds in July 2024, all bought in June; 1,000
    sub-orders paid in July, 10,000 in June. Returns {month: value}."""
    import pandas as pd

    from kpilab.dataset import Dataset
    from kpilab.engine import compute

    june = pd.to_datetime("2024-06-10")
    july = pd.to_datetime("2024-07-10")
    orders = pd.DataFrame({"sub_order_id": [f"s{i}" for i in range(11_000)],
                           "order_id": [f"o{i}" for i in range(11_000)],
                           "paid_date": [june] * 10_000 + [july] * 1_000, "sku": "A", "units": 1.0, "gmv": 1.0})
    returns = pd.DataFrame({"sub_order_id": [f"s{i}" for i in range(10)], "refund_date": [july] * 10,
                            "reason": "quality", "comment": None})
    table = compute(Dataset({"orders": orders, "returns": returns}), "return_rate", definition,
                    by=["month"]).table
    return dict(zip(table["month"], table["value"]))


# --------------------------------------------------------------------------- helpers for the page
# Library functions the Quality page and notebooks call (no KPI arithmetic outside the library).
# They run on the dataset's engine and hand back small pandas tables.


def _context(dataset, params: Mapping[str, Any]):
    from kpilab.engine import Context, missing_inputs

    missing = missing_inputs(RETURN_RATE, dataset)
    if missing:
        raise KpiError(f"return_rate needs {', '.join(missing)}, which this dataset does not have")
    return Context(dataset, RETURN_RATE.resolve_params(dict(params)))


def _check_by(dataset, by) -> tuple[str, ...]:
    from kpilab.engine import check_grouping

    return check_grouping(RETURN_RATE, dataset, by)


@dataclass(frozen=True)
class LagReport:
    """The refund-lag distribution (``table``), the maturity curve (``curve``) and their basis."""

    table: Any          # pandas: lag_days, refunds, share, cumulative (mature cohorts only)
    curve: Any          # pandas: age_days, maturity (F(age), 0 … horizon + 1 or the largest lag)
    horizon_days: int
    last_date: dt.date
    mature_until: dt.date
    mature_refunds: int
    counted: int
    notes: tuple[str, ...] = ()


def refund_lag_distribution(dataset, **params) -> LagReport:
    """Refund lags (refund_date − paid_date, days) of the counted refunds of mature cohorts, and
    the maturity curve F(age) used by the attributed definition (see :class:`RefundLags`).

    ``table`` has one row per observed lag: refunds, share of refunds and cumulative share (= F).
    ``curve`` gives F for every age from 0 to the largest mature lag, so a chart can draw it
    (NaN when no mature refund is known).
    """
    import pandas as pd

    ctx = _context(dataset, params)
    with engines.using(dataset):
        lags = _refund_lags(ctx, ctx.params)
        total = lags.mature_refunds
        hist = _lag_histogram(ctx, ctx.params).select(lag_days=nw.col("lag").cast(nw.Int64), refunds="refunds")
        table = engines.to_pandas(hist.with_columns(
            share=nw.col("refunds").cast(nw.Float64) / max(total, 1),
            cumulative=nw.col("refunds").cum_sum().over(order_by="lag_days").cast(nw.Float64) / max(total, 1))
            .sort("lag_days"))
    top = int(table["lag_days"].max()) if len(table) else 0
    ages = np.arange(0, max(top, lags.horizon_days) + 1)
    # F(age) = Σ refunds with lag ≤ age / total, read off the (small) histogram already in pandas
    seen = np.concatenate([[0], table["refunds"].cumsum().to_numpy()])[
        np.searchsorted(table["lag_days"].to_numpy(), ages, side="right")]
    curve = pd.DataFrame({"age_days": ages, "maturity": seen / total if total else np.full(len(ages), np.nan)})
    return LagReport(table, curve, lags.horizon_days, lags.last_date, lags.mature_until, total, lags.counted,
                     tuple(ctx.notes))


@dataclass(frozen=True)
class KeywordPreview:
    """What the keyword sweep adds to the reason codes."""

    pulled_in: Any      # pandas: refund rows the keywords pull in (their sub-order has no qualifying reason)
    keywords: Any       # pandas: keyword, matched_rows, pulled_in_rows
    rates: Any          # pandas: [by], scenario (reasons_only | with_keywords), value, returned, paid
    overall: Any        # pandas: scenario, value, returned, paid (the whole dataset pooled)
    notes: tuple[str, ...] = ()


def _keyword_counts(frame: nw.LazyFrame, keywords: tuple[str, ...]) -> list[int]:
    """Rows of ``frame`` whose comment contains each keyword (one query for the whole list)."""
    if not keywords:
        return []
    hits = [_keyword_hit((k,), _comment_lower()).cast(nw.Int64).sum().alias(f"k{i}") for i, k in enumerate(keywords)]
    return [int(v or 0) for v in engines.collect(frame.select(*hits)).row(0)]


def keyword_reclassification(dataset, definition: str = "same_month", by=(), **params) -> KeywordPreview:
    """Which comments the keyword list pulls in that the reason codes did not, and the rate of
    ``definition`` before (keywords off) and after (keywords on).

    A row is *pulled in* when its comment contains a keyword and no returns row of its sub-order
    has a reason in ``reasons`` (so the sub-order would not count without the keywords). The
    ``keywords`` parameter is ignored: both scenarios are computed.
    """
    import pandas as pd

    from kpilab.engine import pool

    given = {k: v for k, v in params.items() if k != "keywords"}
    ctx = _context(dataset, given)
    reasons = normalise_reasons(ctx.params["reasons"])
    keywords = normalise_keywords(ctx.params["keyword_list"])
    chosen = RETURN_RATE.definition(definition)
    by = _check_by(dataset, by)
    with engines.using(dataset):
        text = _comment_lower()
        flagged = _flagged_rows(ctx, reasons, keywords)
        by_reason = flagged.filter(nw.col("by_reason")).select("sub_order_id").unique()
        matched = (nw.concat_str([nw.when(text.str.contains(k, literal=True).fill_null(False)).then(nw.lit(k))
                                  .otherwise(nw.lit(None, nw.String)) for k in keywords],
                                 separator=", ", ignore_nulls=True) if keywords else nw.lit(""))
        orders = ctx.table("orders").select("sub_order_id", "sku", "paid_date")
        pulled = (flagged.filter(nw.col("by_keyword")).join(by_reason, on="sub_order_id", how="anti")
                  .with_columns(matched=matched)
                  .join(orders, on="sub_order_id", how="left")
                  .select("sub_order_id", "sku", "paid_date", "refund_date", "reason", "comment", "matched"))
        per_keyword = pd.DataFrame({"keyword": pd.Series(keywords, dtype=object),
                                    "matched_rows": pd.Series(_keyword_counts(_returns(ctx), keywords), dtype="int64"),
                                    "pulled_in_rows": pd.Series(_keyword_counts(pulled, keywords), dtype="int64")})
        pulled = engines.to_pandas(pulled.sort(["refund_date", "sub_order_id"], descending=[True, False]))
        frames, totals, notes = [], [], list(ctx.notes)
        for scenario, on in (("reasons_only", False), ("with_keywords", True)):
            if not reasons and not on:
                continue
            sctx = _context(dataset, {**given, "keywords": on})
            detail = chosen.stats(sctx, sctx.params, by)
            whole = detail if "reason" not in by else chosen.stats(sctx, sctx.params, ())
            label = nw.lit(scenario).alias("scenario")
            frames.append(pool(sctx, detail, by, chosen).select(*by, label, "value", "returned", "paid"))
            totals.append(pool(sctx, whole, (), chosen).select(label, "value", "returned", "paid"))
            notes += [n for n in sctx.notes if n not in notes]
        rates, overall = engines.to_pandas(nw.concat(frames)), engines.to_pandas(nw.concat(totals))
    return KeywordPreview(pulled, per_keyword, rates, overall, tuple(notes))


def group_rates(dataset, definition: str = "attributed", group: str = "category", months=None, **params):
    """The rate of ``definition`` per value of ``group`` (a skus column, sku or reason), pooled over
    ``months`` (the definition's own period; None = all): Σreturned / Σpaid per group, from the
    per-(month, sku) detail. Returns (pandas table, notes)."""
    from kpilab.engine import pool

    ctx = _context(dataset, params)
    if group == "month":
        raise KpiError("group_rates pools over months: choose another grouping column")
    _check_by(dataset, (group,))
    chosen = RETURN_RATE.definition(definition)
    with engines.using(dataset):
        detail = chosen.stats(ctx, ctx.params, (group,))
        if months is not None:
            detail = detail.filter(nw.col("month").is_in(list(months)))
        table = engines.to_pandas(pool(ctx, detail, (group,), chosen))
    return table, tuple(ctx.notes)


def lines_from_table(frame, group: str, *, yellow: float, red: float, yellow_col: str = "yellow_pct",
                     red_col: str = "red_pct") -> dict:
    """Per-group (yellow, red) lines, as shares, from a table of percentages a person edited
    (one row per group value; a blank cell takes the default ``yellow`` / ``red`` share).

    >>> import pandas as pd
    >>> lines_from_table(pd.DataFrame({"category": ["a", "b"], "yellow_pct": [1.0, None], "red_pct": [None, 3.0]}),
    ...                  "category", yellow=0.005, red=0.02)
    {'a': (0.01, 0.02), 'b': (0.005, 0.03)}
    """
    rows = nw.from_native(frame, eager_only=True)
    out = {}
    for key, y, r in zip(rows[group].to_list(), rows[yellow_col].to_list(), rows[red_col].to_list()):
        blank = lambda v: v is None or (isinstance(v, float) and math.isnan(v))   # noqa: E731
        out[key] = (yellow if blank(y) else float(y) / 100, red if blank(r) else float(r) / 100)
    return out


def monthly_summary(same_month, attributed, immature_below: float = IMMATURE_BELOW):
    """One row per month with both definitions side by side: month, same_month, attributed,
    returned and paid of each, maturity, and ``mature`` (maturity ≥ ``immature_below``; False
    for a month with no attributed row). Takes the by-month tables of the two definitions.

    >>> import pandas as pd
    >>> sm = pd.DataFrame({"month": ["2024-06", "2024-07"], "value": [0.0, 0.01], "returned": [0, 10],
    ...                    "paid": [10_000, 1_000]})
    >>> at = pd.DataFrame({"month": ["2024-06", "2024-07"], "value": [0.001, 0.0], "returned": [10, 0],
    ...                    "paid": [10_000, 1_000], "maturity": [1.0, 0.4]})
    >>> monthly_summary(sm, at)[["month", "same_month", "attributed", "mature"]].values.tolist()
    [['2024-06', 0.0, 0.001, True], ['2024-07', 0.01, 0.0, False]]
    """
    sm = nw.from_native(same_month, eager_only=True).select(
        "month", nw.col("value").alias("same_month"), nw.col("returned").alias("same_month_returned"),
        nw.col("paid").alias("same_month_paid"))
    at = nw.from_native(attributed, eager_only=True).select(
        "month", nw.col("value").alias("attributed"), nw.col("returned").alias("attributed_returned"),
        nw.col("paid").alias("attributed_paid"), "maturity")
    months = nw.concat([sm.select("month"), at.select("month")]).unique()
    out = (months.join(sm, on="month", how="left").join(at, on="month", how="left")
           .with_columns(mature=(nw.col("maturity") >= immature_below).fill_null(False)).sort("month"))
    return out.to_native()


CI_METHODS = {"wilson": "wilson", "clopper-pearson": "exact", "exact": "exact"}
FLAGS = {
    "red": L10n("red: interval above the red line", "红线: 置信区间整体高于红线"),
    "yellow": L10n("yellow: interval above the yellow line", "黄线: 置信区间整体高于黄线"),
    "watch": L10n("watch: above a line, not proven (too few orders)", "观察: 超线但证据不足 (单量太少)"),
    "ok": L10n("ok", "正常"),
    "no_data": L10n("no orders", "无订单"),
}
"""Flag values of :func:`flag_rates`, with their labels."""


def rate_intervals(table, numerator: str = "returned", denominator: str = "paid", confidence: float = 0.95,
                   method: str = "wilson"):
    """Add ``ci_low`` and ``ci_high``: a binomial confidence interval on numerator / denominator
    for every row (``scipy.stats.binomtest(k, n).proportion_ci``; method wilson or
    clopper-pearson). Empty (NaN) when the denominator is 0 or the numerator exceeds it (a
    same-month rate above 100% is not a proportion).

    >>> import pandas as pd
    >>> out = rate_intervals(pd.DataFrame({"returned": [3, 0], "paid": [100, 0]}))
    >>> [round(x, 4) for x in out["ci_low"].fillna(-1)]
    [0.0103, -1.0]
    """
    from scipy.stats import binomtest

    if method not in CI_METHODS:
        raise KpiError(f"confidence interval method {method!r}: choose from wilson, clopper-pearson")
    if not 0 < confidence < 1:
        raise KpiError(f"confidence {confidence} must be between 0 and 1 (e.g. 0.95)")
    frame = nw.from_native(table, eager_only=True)
    low, high = [], []
    for k, n in zip(frame[numerator].to_list(), frame[denominator].to_list()):
        if k is None or n is None or not n > 0 or not 0 <= k <= n or (isinstance(k, float) and math.isnan(k)):
            low.append(float("nan"))
            high.append(float("nan"))
            continue
        ci = binomtest(int(round(k)), int(round(n))).proportion_ci(confidence_level=confidence,
                                                                   method=CI_METHODS[method])
        low.append(float(ci.low))
        high.append(float(ci.high))
    backend = frame.implementation
    return frame.with_columns(nw.new_series("ci_low", low, nw.Float64(), backend=backend),
                              nw.new_series("ci_high", high, nw.Float64(), backend=backend)).to_native()


def flag_rates(table, *, yellow: float, red: float, group: str | None = None,
               lines: Mapping[Any, tuple[float, float]] | None = None, confidence: float = 0.95,
               method: str = "wilson"):
    """Flag each row's rate against its yellow and red lines, on evidence only.

    ``lines`` maps a value of the ``group`` column (e.g. a category) to its own (yellow, red);
    other rows use ``yellow`` and ``red``. Adds yellow_line, red_line, ci_low, ci_high and
    ``flag``: red when the interval's lower bound is above the red line, yellow when it is above
    the yellow line, watch when the rate is above the yellow line but the interval reaches below
    it (too little evidence — e.g. a category with twelve orders), ok otherwise, no_data when
    nothing was paid. Lines are shares (0.01 = 1%), yellow ≤ red.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"category": ["big", "tiny"], "value": [0.12, 2 / 12], "returned": [1_200, 2],
    ...                   "paid": [10_000, 12]})
    >>> list(flag_rates(t, yellow=0.05, red=0.10, group="category")["flag"])   # 17% of 12 is not proof
    ['red', 'watch']
    """
    frame = nw.from_native(rate_intervals(table, confidence=confidence, method=method), eager_only=True)
    lines = dict(lines or {})
    for pair in [(yellow, red), *lines.values()]:
        y, r = float(pair[0]), float(pair[1])
        if not (0 <= y <= 1 and 0 <= r <= 1) or y > r:
            raise KpiError(f"lines yellow={y}, red={r}: use shares between 0 and 1 with yellow ≤ red")
    keys = frame[group].to_list() if group else [None] * len(frame)
    ys = [float(lines.get(k, (yellow, red))[0]) for k in keys]
    rs = [float(lines.get(k, (yellow, red))[1]) for k in keys]
    flags = []
    for value, paid, lo, y, r in zip(frame["value"].to_list(), frame["paid"].to_list(), frame["ci_low"].to_list(),
                                     ys, rs):
        if not paid or value is None or (isinstance(value, float) and math.isnan(value)):
            flags.append("no_data")
        elif not math.isnan(lo) and lo > r:
            flags.append("red")
        elif not math.isnan(lo) and lo > y:
            flags.append("yellow")
        elif value > y:
            flags.append("watch")
        else:
            flags.append("ok")
    backend = frame.implementation
    return frame.with_columns(nw.new_series("yellow_line", ys, nw.Float64(), backend=backend),
                              nw.new_series("red_line", rs, nw.Float64(), backend=backend),
                              nw.new_series("flag", flags, nw.String(), backend=backend)).to_native()


# --------------------------------------------------------------------------- declarations

_REASONS = Param("reasons", "list", ("quality",), L10n("Refund reasons counted", "计入的退款原因"),
                 L10n("Comma list of reason codes. quality gives the quality refund rate; authenticity gives "
                      "the authenticity-doubt rate.",
                      "退款原因代码, 逗号分隔。quality 即品质退款率 (品退率); authenticity 即正品质疑率。"))
_KEYWORDS = Param("keywords", "bool", False, L10n("Also count comments with keywords", "按留言关键词补充计入"),
                  L10n("A refund whose comment contains a keyword counts even when the customer picked another "
                       "reason (the article's keyword sweep).",
                       "即使消费者选了别的退款原因, 留言中含关键词的也视同品质原因退款 (文章中的关键词分析)。"))
_KEYWORD_LIST = Param("keyword_list", "list", DEFAULT_KEYWORDS, L10n("Keywords", "关键词"),
                      L10n("Comma list, English and Chinese; case-insensitive substring match, so 'defect' also "
                           "finds 'defective'. Avoid bare 'quality' or '质量': they also match praise such as "
                           "'great quality' or '质量很好'.",
                           "逗号分隔, 中英文均可; 不区分大小写的包含匹配 ('defect' 也能匹配 'defective')。"
                           "不要单用 'quality' 或 '质量': 会把 'great quality'、'质量很好' 这样的好评也算进来。"))

_SAME_MONTH = Definition(
    "same_month", L10n("Same month (this month's refunds ÷ this month's orders)", "当月法 (当月退款 ÷ 当月支付)"),
    "qualifying sub-orders refunded in m / sub-orders paid in m",
    L10n("Quality refunds booked this month over sub-orders paid this month. Available at once, but most refunds "
         "come from earlier purchases: after a big promotion or a live stream the denominator drops back while "
         "the refunds keep coming, and a merchant or supplier can be wrongly flagged red.",
         "当月品质退款子订单数除以当月支付子订单数。数据及时, 但退款大多来自更早的购买: 大促或直播之后分母回落而退款"
         "还在持续, 分子分母错位, 可能把商家或供应商冤枉\"飘绿\"。"),
    L10n("Coarse monitoring (industry level) when timeliness matters: use it to spot anomalies early, and leave "
         "merchants and suppliers a right to respond.",
         "管理相对粗放、只看行业等粗颗粒度、追求数据及时性时: 用当月数据看异常, 并给商家和供应商留出反馈权。"),
    stats=_same_month_stats, finish=_same_month_finish, sums=("returned", "paid"), helpers=("returned", "paid"),
    params=("reasons", "keywords", "keyword_list"))

_ATTRIBUTED = Definition(
    "attributed", L10n("Attributed to the purchase month (cohort)", "回溯法 (按支付月份归因)"),
    "qualifying sub-orders paid in m / sub-orders paid in m",
    L10n("Each refund is charged to the month the item was bought: refunds of June's orders over June's orders. "
         "Fair to items and suppliers, but a month is complete only weeks later — maturity says how much of its "
         "eventual returns are already visible — and recent months keep rising.",
         "把每笔退款归到商品被购买的月份: 6 月订单的退款除以 6 月订单数。对单品和供应商更公平, 但一个月的数据要过几周"
         "才完整 (成熟度表示其最终退款中已可见的比例), 近期月份还会继续上升。"),
    L10n("Fine-grained management — suppliers, platform merchants, own-brand items, leaf categories: use it to "
         "assign responsibility and corrective action (the article recommends it).",
         "精细化管理, 尤其是对供应商、平台商家和自有品牌单品的管理: 用回溯数据定责和做执行纠偏 (文章推荐)。"),
    stats=_attributed_stats, finish=_attributed_finish,
    sums=("returned", "paid", "expected_visible", "maturity_base"), helpers=("returned", "paid", "maturity"),
    params=("reasons", "keywords", "keyword_list"))

RETURN_RATE = Kpi(
    id="return_rate", family="quality",
    name=L10n("Quality return rate", "品质退款率 (品退率)"),
    description=L10n("Share of paid sub-orders refunded for a quality reason; with reasons=authenticity, the "
                     "authenticity-doubt rate. Two denominators: this month's orders, or the orders of the month "
                     "the refunded items were bought.",
                     "因质量问题退款的子订单数占支付子订单数的比例; reasons=authenticity 时即正品质疑率。"
                     "两种分母: 当月支付的子订单, 或被退商品购买当月的子订单 (回溯)。"),
    unit="share", direction="lower", tables=("orders", "returns"),
    period=L10n("refund month (same_month) or paid month (attributed)", "退款月份 (当月法) 或支付月份 (回溯法)"),
    params=(_REASONS, _KEYWORDS, _KEYWORD_LIST),
    definitions=(_SAME_MONTH, _ATTRIBUTED),
    dims=("sku", "reason"), sku_grouping=True, optional_tables=("skus",))

KPIS = (RETURN_RATE,)
