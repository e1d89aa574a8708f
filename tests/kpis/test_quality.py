"""Quality family (return_rate): the spec's worked check, hand-worked cases, edge cases and the
page helpers, on pandas and polars. A slow, obvious loop (``oracle``) checks the vectorised code
on random small datasets."""

import datetime as dt
import math
import random
from pathlib import Path

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from scipy.stats import beta, norm

from kpilab import KpiError, compare, compute
from kpilab.kpis import quality as q
from tests.conftest import dataset, table, value

D = pd.Timestamp


def orders_of(rows):
    """rows: (sub_order_id, paid_date, sku)."""
    return pd.DataFrame({"sub_order_id": [r[0] for r in rows], "order_id": [f"o-{r[0]}" for r in rows],
                         "paid_date": pd.to_datetime([r[1] for r in rows]), "sku": [r[2] for r in rows],
                         "units": 1.0, "gmv": 10.0})


def returns_of(rows):
    """rows: (sub_order_id, refund_date, reason, comment)."""
    return pd.DataFrame({"sub_order_id": [r[0] for r in rows], "refund_date": pd.to_datetime([r[1] for r in rows]),
                         "reason": [r[2] for r in rows], "comment": pd.Series([r[3] for r in rows], dtype=object)})


SKUS = pd.DataFrame({"sku": ["a", "b", "c"], "category": ["toys", "toys", "beauty"], "unit_cost": 1.0,
                     "abc_class": ["A", "B", "C"]})


def ds_of(backend, orders, returns, skus=SKUS):
    tables = {"orders": orders_of(orders), "returns": returns_of(returns)}
    if skus is not None:
        tables["skus"] = skus
    return dataset(backend, **tables)


def by_month(ds, definition, column="value", **params):
    res = table(ds, "return_rate", definition, by=["month"], **params)
    return dict(zip(res["month"], res[column]))


# ----------------------------------------------------------------------------- spec worked check

def test_spec_worked_check(backend):
    # 10 quality refunds in July, all bought in June; 1,000 paid in July, 10,000 in June
    orders = pd.DataFrame({"sub_order_id": [f"s{i}" for i in range(11_000)], "order_id": "o",
                           "paid_date": [D("2024-06-15")] * 10_000 + [D("2024-07-03")] * 1_000,
                           "sku": "a", "units": 1.0, "gmv": 1.0})
    returns = returns_of([(f"s{i}", f"2024-07-{i + 1:02d}", "quality", None) for i in range(10)])
    ds = dataset(backend, orders=orders, returns=returns)
    same, attributed = by_month(ds, "same_month"), by_month(ds, "attributed")
    assert same["2024-07"] == pytest.approx(0.01)            # 10 / 1,000
    assert attributed["2024-06"] == pytest.approx(0.001)     # 10 / 10,000
    assert same["2024-06"] == 0 and attributed["2024-07"] == 0
    assert by_month(ds, "same_month", "paid") == {"2024-06": 10_000, "2024-07": 1_000}


def test_worked_check_doctest_helper():
    assert q._worked_check("same_month")["2024-07"] == pytest.approx(0.01)
    assert q._worked_check("attributed")["2024-06"] == pytest.approx(0.001)


# ----------------------------------------------------------------------------- hand-worked case

# o1 paid 01-01 refunded 01-05 (lag 4); o2 paid 01-01 refunded 02-05 (lag 35); o3 paid 01-02 (no refund);
# o4 paid 03-25; o5 paid 03-30 refunded 03-31 (lag 1); o6 paid 03-31. last = 2024-03-31, first = 01-01,
# span 90 days → horizon = min(35, 45) = 35; mature cohorts paid ≤ 02-25: o1, o2 → lags {4, 35}.
# F(a) = 0 (a < 4), 0.5 (4 ≤ a < 35), 1 (a ≥ 35). Ages at 03-31: o1-o3 ≈ 90 → 1; o4 6 → 0.5; o5 1 → 0; o6 0 → 0.
HAND_ORDERS = [("o1", "2024-01-01", "a"), ("o2", "2024-01-01", "c"), ("o3", "2024-01-02", "a"),
               ("o4", "2024-03-25", "b"), ("o5", "2024-03-30", "a"), ("o6", "2024-03-31", "c")]
HAND_RETURNS = [("o1", "2024-01-05", "quality", None), ("o2", "2024-02-05", "quality", "bad"),
                ("o5", "2024-03-31", "quality", ""), ("o6", "2024-03-31", "size", "wrong size")]


def test_hand_worked_same_month(backend):
    ds = ds_of(backend, HAND_ORDERS, HAND_RETURNS)
    res = table(ds, "return_rate", "same_month", by=["month"])
    assert list(res.columns) == ["month", "value", "returned", "paid"]
    assert list(res["month"]) == ["2024-01", "2024-02", "2024-03"]
    # Jan: o1 / 3 paid; Feb: o2 refunded, nothing paid → NaN; Mar: o5 / 3 paid
    assert res["value"][0] == pytest.approx(1 / 3) and math.isnan(res["value"][1])
    assert res["value"][2] == pytest.approx(1 / 3)
    assert list(res["returned"]) == [1, 1, 1] and list(res["paid"]) == [3, 0, 3]
    assert value(ds, "return_rate", "same_month") == pytest.approx(3 / 6)
    assert any("2024-02" in n for n in compute(ds, "return_rate", "same_month", by=["month"]).notes)


def test_hand_worked_attributed_and_maturity(backend):
    ds = ds_of(backend, HAND_ORDERS, HAND_RETURNS)
    res = table(ds, "return_rate", "attributed", by=["month"])
    assert list(res.columns) == ["month", "value", "returned", "paid", "maturity"]
    assert list(res["month"]) == ["2024-01", "2024-03"]
    assert list(res["value"]) == pytest.approx([2 / 3, 1 / 3])
    # Jan ages ≥ 35 → 1; Mar: (0.5 + 0 + 0) / 3
    assert list(res["maturity"]) == pytest.approx([1.0, 1 / 6])
    pooled = table(ds, "return_rate", "attributed")
    assert pooled["maturity"][0] == pytest.approx((3 + 0.5) / 6)
    assert any("2024-03 (17%)" in n for n in compute(ds, "return_rate", "attributed", by=["month"]).notes)


def test_refund_lag_distribution_hand_worked(backend):
    rep = q.refund_lag_distribution(ds_of(backend, HAND_ORDERS, HAND_RETURNS))
    assert rep.horizon_days == 35 and rep.last_date == dt.date(2024, 3, 31)
    assert rep.mature_until == dt.date(2024, 2, 25) and rep.mature_refunds == 2 and rep.counted == 3
    lags = nw.from_native(rep.table, eager_only=True).to_pandas()
    assert list(lags["lag_days"]) == [4, 35] and list(lags["refunds"]) == [1, 1]
    assert list(lags["cumulative"]) == pytest.approx([0.5, 1.0])
    curve = nw.from_native(rep.curve, eager_only=True).to_pandas().set_index("age_days")["maturity"]
    assert (curve[0], curve[3], curve[4], curve[34], curve[35]) == pytest.approx((0, 0, 0.5, 0.5, 1))
    assert curve.is_monotonic_increasing and len(curve) == 36


def maturity_shares(ds, **params) -> dict[int, float]:
    """F(age) as the attributed definition computes it on the engine (the cum_sum window)."""
    from kpilab import engines

    ctx = q._context(ds, params)
    with engines.using(ds):
        shares = engines.to_pandas(q._maturity_shares(ctx, ctx.params))
    return dict(zip(shares["age"], shares["share"]))


def test_maturity_shares_on_the_engine_hand_worked(backend):
    # paid days 01-01 (age 90), 01-02 (89), 03-25 (6), 03-30 (1), 03-31 (0); mature lags {4, 35}
    shares = maturity_shares(ds_of(backend, HAND_ORDERS, HAND_RETURNS))
    assert shares == pytest.approx({90: 1.0, 89: 1.0, 6: 0.5, 1: 0.0, 0: 0.0})


@pytest.mark.parametrize("seed", range(2))
def test_lag_curve_agrees_with_the_engine_shares(backend, seed):
    """The page's curve reads F off the lag histogram in pandas (numpy); the attributed definition
    computes F per paid age on the engine: both give the same numbers at every paid age."""
    orders, returns = random_data(seed, n=80)
    ds = ds_of(backend, orders, returns)
    curve = q.refund_lag_distribution(ds).curve.set_index("age_days")["maturity"]
    shares = maturity_shares(ds)
    assert len(shares) > 20 and curve.iloc[-1] == 1.0
    for age, share in shares.items():
        assert share == pytest.approx(curve[age] if age in curve.index else 1.0, rel=1e-12), age


def test_horizon_capped_at_half_the_history(backend):
    # span 02-01 … 03-02 = 30 days; the only lag is 29 → horizon min(29, 15) = 15
    ds = ds_of(backend, [("x", "2024-02-01", "a"), ("y", "2024-03-02", "a")], [("x", "2024-03-01", "quality", None)])
    rep = q.refund_lag_distribution(ds)
    assert rep.horizon_days == 15 and rep.mature_refunds == 1


# ----------------------------------------------------------------------------- counting rules

def test_several_refunds_counted_once_at_earliest_qualifying_date(backend):
    orders = [("s1", "2024-01-20", "a"), ("s2", "2024-01-20", "a"), ("f", "2024-02-10", "a")]
    returns = [("s1", "2024-01-25", "size", "too small"),       # not qualifying: ignored
               ("s1", "2024-02-03", "quality", "seam open"),    # earliest qualifying → Feb
               ("s1", "2024-03-01", "quality", "again"),
               ("s2", "2024-01-28", "quality", None), ("s2", "2024-02-02", "quality", None)]
    ds = ds_of(backend, orders, returns)
    # same month: Jan s2 (1 / 2 paid), Feb s1 (1 / 1 paid); March has no counted refund and no order
    assert by_month(ds, "same_month", "returned") == {"2024-01": 1, "2024-02": 1}
    assert by_month(ds, "same_month") == pytest.approx({"2024-01": 0.5, "2024-02": 1.0})
    assert by_month(ds, "attributed") == pytest.approx({"2024-01": 1.0, "2024-02": 0.0})
    # with size counted too, s1 moves to January (its earliest qualifying row)
    assert by_month(ds, "same_month", "returned", reasons="quality,size") == {"2024-01": 2, "2024-02": 0}


def test_refunds_across_month_and_year_ends(backend):
    orders = [("a1", "2023-12-31", "a"), ("a2", "2023-12-31", "a"), ("b1", "2024-01-31", "a"),
              ("b2", "2024-02-01", "a")]
    returns = [("a1", "2024-01-01", "quality", None),      # paid Dec, refunded next year
               ("a2", "2023-12-31", "quality", None),      # same day
               ("b1", "2024-02-01", "quality", None)]      # last day of Jan → first of Feb
    ds = ds_of(backend, orders, returns)
    # same month: Dec a2 / 2; Jan a1 / 1 (b1); Feb b1 / 1 (b2)
    assert by_month(ds, "same_month") == pytest.approx({"2023-12": 0.5, "2024-01": 1.0, "2024-02": 1.0})
    # attributed: Dec a1, a2 / 2; Jan b1 / 1; Feb 0 / 1
    assert by_month(ds, "attributed") == pytest.approx({"2023-12": 1.0, "2024-01": 1.0, "2024-02": 0.0})


def test_keywords_chinese_and_mixed_case(backend):
    orders = [(f"s{i}", "2024-05-01", "a") for i in range(8)]
    returns = [("s0", "2024-05-03", "changed_mind", "Screen BROKEN after a day"),
               ("s1", "2024-05-03", "other", "屏幕坏了"),
               ("s2", "2024-05-03", "size", "DeFeCtIvE zipper"),          # 'defect' finds 'defective'
               ("s3", "2024-05-03", "other", "great quality, wrong colour"),
               ("s4", "2024-05-03", "other", "质量很好，就是不喜欢"),
               ("s5", "2024-05-03", "quality", None),
               ("s6", "2024-05-03", "logistics", None),
               ("s7", "2024-05-03", "other", "Poor Quality 次品")]
    ds = ds_of(backend, orders, returns)
    # off: only s5 → 1/8; on: s0, s1, s2, s5, s7 → 5/8 (praise does not match the default list)
    assert value(ds, "return_rate", "same_month") == pytest.approx(1 / 8)
    assert value(ds, "return_rate", "same_month", keywords=True) == pytest.approx(5 / 8)
    assert value(ds, "return_rate", "same_month", keywords="TRUE") == pytest.approx(5 / 8)
    # a bare 'quality' / '质量' would pull in the praise too: s3, s4, s7 (+ s5 by reason)
    assert value(ds, "return_rate", "same_month", keywords=True, keyword_list="Quality，质量") == pytest.approx(4 / 8)


def test_default_keywords_ignore_praise():
    praise = ["great quality", "Great Quality!", "质量很好", "质量不错, 好评"]
    complaints = ["arrived broken", "质量差", "有瑕疵", "STOPPED WORKING", "bad quality", "故障了"]
    for text in praise:
        assert not any(k in text.lower() for k in q.normalise_keywords(q.DEFAULT_KEYWORDS)), text
    for text in complaints:
        assert any(k in text.lower() for k in q.normalise_keywords(q.DEFAULT_KEYWORDS)), text
    assert q.RETURN_RATE.param("keyword_list").default == q.DEFAULT_KEYWORDS
    assert len(q.DEFAULT_KEYWORDS) == 15


def test_reasons_parameter_with_several_codes(backend):
    orders = [(f"s{i}", "2024-05-01", "a") for i in range(10)]
    returns = [("s0", "2024-05-02", "quality", None), ("s1", "2024-05-02", "authenticity", None),
               ("s2", "2024-05-02", "authenticity", None), ("s3", "2024-05-02", "size", None),
               ("s4", "2024-05-02", " Quality ", None)]     # hand-made frame, not validated: trimmed here
    ds = ds_of(backend, orders, returns)
    assert value(ds, "return_rate", "attributed") == pytest.approx(2 / 10)
    assert value(ds, "return_rate", "attributed", reasons="authenticity") == pytest.approx(2 / 10)
    assert value(ds, "return_rate", "attributed", reasons="quality,authenticity") == pytest.approx(4 / 10)
    assert value(ds, "return_rate", "attributed", reasons=" QUALITY , authenticity,size") == pytest.approx(5 / 10)
    assert value(ds, "return_rate", "attributed", reasons=("changed_mind",)) == pytest.approx(0.0)


def test_grouping_by_reason_keeps_the_full_denominator(backend):
    orders = [(f"s{i}", "2024-05-01", "a") for i in range(10)]
    returns = [("s0", "2024-05-02", "quality", None), ("s1", "2024-05-02", "changed_mind", "it is broken"),
               ("s2", "2024-05-02", "size", "faulty button"), ("s3", "2024-05-02", "size", None)]
    ds = ds_of(backend, orders, returns)
    for definition in ("same_month", "attributed"):
        res = table(ds, "return_rate", definition, by=["reason"], keywords=True).set_index("reason")
        # levels: quality (the parameter) + the counted reasons; each over all 10 paid
        assert list(res.index) == ["changed_mind", "quality", "size"]
        assert list(res["paid"]) == [10, 10, 10]
        assert list(res["value"]) == pytest.approx([0.1, 0.1, 0.1])
        assert res["value"].sum() == pytest.approx(value(ds, "return_rate", definition, keywords=True))
    # without keywords: the quality level only, and authenticity appears (with 0) when asked for
    res = table(ds, "return_rate", "same_month", by=["reason"], reasons="quality,authenticity")
    assert dict(zip(res["reason"], res["value"])) == pytest.approx({"authenticity": 0.0, "quality": 0.1})


def test_zero_denominator_months_are_nan_not_zero(backend):
    # refunds in March and April, orders only in January → same-month March / April are empty
    ds = ds_of(backend, [("s1", "2024-01-10", "a"), ("s2", "2024-01-10", "a")],
               [("s1", "2024-03-02", "quality", None), ("s2", "2024-04-02", "quality", None)])
    res = table(ds, "return_rate", "same_month", by=["month"])
    assert list(res["month"]) == ["2024-01", "2024-03", "2024-04"]
    assert res["value"][0] == 0 and math.isnan(res["value"][1]) and math.isnan(res["value"][2])
    assert by_month(ds, "attributed") == {"2024-01": 1.0}
    # a group with no orders at all (SKU c) has NaN, not 0
    by_sku = table(ds, "return_rate", "same_month", by=["sku"])
    assert list(by_sku["sku"]) == ["a"]


def test_no_refund_at_all_gives_zero_rate_and_unknown_maturity(backend):
    ds = ds_of(backend, [("s1", "2024-01-10", "a")], [("s1", "2024-01-12", "size", None)])
    res = table(ds, "return_rate", "attributed")
    assert res["value"][0] == 0 and math.isnan(res["maturity"][0])
    assert value(ds, "return_rate", "same_month") == 0
    rep = q.refund_lag_distribution(ds)
    assert rep.counted == 0 and len(nw.from_native(rep.table, eager_only=True)) == 0


def test_orphan_returns_are_counted_and_noted(backend):
    ds = ds_of(backend, [("s1", "2024-01-10", "a")],
               [("s1", "2024-01-12", "quality", None), ("ghost", "2024-01-12", "quality", None),
                ("ghost2", "2024-01-13", "quality", None), ("ghost3", "2024-01-13", "size", None)])
    for definition in ("same_month", "attributed"):
        res = compute(ds, "return_rate", definition)
        assert res.value == pytest.approx(1.0)
        assert any(n.startswith("2 qualifying refunds refer to sub-orders that are not in orders") for n in res.notes)


def test_refund_before_purchase_counts_with_lag_zero(backend):
    ds = ds_of(backend, [("s1", "2024-01-10", "a"), ("s2", "2024-01-10", "a")],
               [("s1", "2024-01-08", "quality", None)])
    res = compute(ds, "return_rate", "attributed")
    assert res.value == pytest.approx(0.5) and any("before their purchase" in n for n in res.notes)
    lags = nw.from_native(q.refund_lag_distribution(ds).table, eager_only=True).to_pandas()
    assert list(lags["lag_days"]) == [0]


def test_returns_without_comment_column(backend):
    returns = returns_of([("s1", "2024-01-12", "quality", None)]).drop(columns="comment")
    ds = dataset(backend, orders=orders_of([("s1", "2024-01-10", "a"), ("s2", "2024-01-11", "a")]), returns=returns)
    assert value(ds, "return_rate", "same_month", keywords=True) == pytest.approx(0.5)


def test_grouping_by_sku_and_skus_columns(backend):
    ds = ds_of(backend, HAND_ORDERS, HAND_RETURNS)
    by_sku = table(ds, "return_rate", "attributed", by=["sku"]).set_index("sku")
    # a: o1, o3, o5 → 2 counted; b: o4 → 0; c: o2, o6 → 1
    assert by_sku["value"].to_dict() == pytest.approx({"a": 2 / 3, "b": 0.0, "c": 0.5})
    by_cat = table(ds, "return_rate", "attributed", by=["category"]).set_index("category")
    assert by_cat["value"].to_dict() == pytest.approx({"beauty": 0.5, "toys": 2 / 4})
    # maturity of toys: o1 1, o3 1, o4 0.5, o5 0 → 2.5 / 4
    assert by_cat.loc["toys", "maturity"] == pytest.approx(2.5 / 4)
    # sku works without a skus table (own dimension)
    no_skus = ds_of(backend, HAND_ORDERS, HAND_RETURNS, skus=None)
    assert table(no_skus, "return_rate", "same_month", by=["sku"])["value"].tolist() == pytest.approx(
        [2 / 3, 0.0, 0.5])


# ----------------------------------------------------------------------------- request errors

def test_bad_requests():
    ds = ds_of("pandas", HAND_ORDERS, HAND_RETURNS)
    with pytest.raises(KpiError, match="valid: same_month, attributed"):
        compute(ds, "return_rate", "rolling")
    with pytest.raises(KpiError, match="keywords"):
        compute(ds, "return_rate", "same_month", keywords="maybe")
    with pytest.raises(KpiError, match="unknown parameter"):
        compute(ds, "return_rate", "same_month", reason="quality")
    with pytest.raises(KpiError, match="no refund can qualify"):
        compute(ds, "return_rate", "same_month", reasons=())
    with pytest.raises(KpiError, match="cannot be grouped by warehouse"):
        compute(ds, "return_rate", "same_month", by=["warehouse"])
    with pytest.raises(KpiError, match="needs returns"):
        compute(dataset("pandas", orders=orders_of(HAND_ORDERS)), "return_rate", "same_month")


# ----------------------------------------------------------------------------- oracle and properties

def oracle(orders, returns, definition, reasons=("quality",), keywords=False, keyword_list=q.DEFAULT_KEYWORDS):
    """A slow, obvious loop: {month: (value, returned, paid, maturity)}."""
    kws = [k.lower() for k in keyword_list] if keywords else []
    paid_on = {s: dt.date.fromisoformat(p) for s, p, _ in orders}
    first = {}
    for s, r, reason, comment in returns:
        ok = reason in reasons or any(k in (comment or "").lower() for k in kws)
        if ok and s in paid_on:
            d = dt.date.fromisoformat(r)
            if s not in first or d < first[s]:
                first[s] = d
    last = max([*paid_on.values(), *(dt.date.fromisoformat(r[1]) for r in returns)])
    start = min(paid_on.values())
    lags = {s: max(0, (d - paid_on[s]).days) for s, d in first.items()}
    horizon = min(max(lags.values()), (last - start).days // 2) if lags else 0
    sample = sorted(lag for s, lag in lags.items() if (last - paid_on[s]).days >= horizon)

    def cdf(age):
        return sum(1 for x in sample if x <= age) / len(sample) if sample else 0.0

    month = lambda d: d.strftime("%Y-%m")                                  # noqa: E731
    paid, returned, expected = {}, {}, {}
    for s, p in paid_on.items():
        paid[month(p)] = paid.get(month(p), 0) + 1
        expected[month(p)] = expected.get(month(p), 0) + cdf((last - p).days)
    for s, d in first.items():
        m = month(d) if definition == "same_month" else month(paid_on[s])
        returned[m] = returned.get(m, 0) + 1
    out = {}
    for m in sorted(set(paid) | set(returned)):
        n, k = paid.get(m, 0), returned.get(m, 0)
        out[m] = (k / n if n else math.nan, k, n, (expected[m] / n if sample and n else math.nan))
    return out


COMMENTS = [None, "", "Broken", "great quality", "质量很好", "有瑕疵", "it is DEFECTIVE", "坏了", "wrong size"]
REASONS = ["quality", "authenticity", "size", "changed_mind", "other"]


def random_data(seed, n=40):
    rng = random.Random(seed)
    start = dt.date(2023, 10, 1)
    orders = [(f"s{i}", str(start + dt.timedelta(days=rng.randint(0, 150))), rng.choice("abc")) for i in range(n)]
    returns = []
    for s, p, _ in orders + [("ghost", "2024-01-01", "a")]:
        days = rng.sample(range(0, 70), rng.choice([0, 0, 1, 1, 2, 3]))
        for k in days:
            returns.append((s, str(dt.date.fromisoformat(p) + dt.timedelta(days=k)), rng.choice(REASONS),
                            rng.choice(COMMENTS)))
    return orders, returns


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("params", [{}, {"keywords": True}, {"reasons": ("quality", "authenticity")},
                                    {"reasons": ("size",), "keywords": True, "keyword_list": ("broken", "瑕疵")}])
def test_matches_the_oracle(backend, seed, params):
    orders, returns = random_data(seed)
    ds = ds_of(backend, orders, returns)
    for definition in ("same_month", "attributed"):
        expect = oracle(orders, returns, definition, **params)
        res = table(ds, "return_rate", definition, by=["month"], **params)
        assert list(res["month"]) == list(expect)
        for row in res.itertuples():
            v, k, n, maturity = expect[row.month]
            assert (row.returned, row.paid) == (k, n)
            assert row.value == pytest.approx(v, nan_ok=True)
            if definition == "attributed":
                assert row.maturity == pytest.approx(maturity, nan_ok=True)


@pytest.mark.parametrize("seed", range(4))
def test_maturity_between_0_and_1_and_rising_with_age(backend, seed):
    orders, returns = random_data(seed, n=80)
    res = table(ds_of(backend, orders, returns), "return_rate", "attributed", by=["month"])
    maturity = list(res["maturity"])             # months in calendar order: older first
    assert all(0 <= m <= 1 for m in maturity)
    assert all(a >= b - 1e-12 for a, b in zip(maturity, maturity[1:]))
    assert maturity[0] == pytest.approx(1.0)
    rep = q.refund_lag_distribution(ds_of(backend, orders, returns))
    curve = nw.from_native(rep.curve, eager_only=True).to_pandas()["maturity"]
    assert curve.is_monotonic_increasing and curve.iloc[-1] == pytest.approx(1.0)


def test_row_order_invariance_and_pooling_of_detail(backend):
    orders, returns = random_data(11, n=60)
    ds = ds_of(backend, orders, returns)
    rng = random.Random(2)
    shuffled = ds_of(backend, rng.sample(orders, len(orders)), rng.sample(returns, len(returns)),
                     skus=SKUS.sample(frac=1, random_state=4))
    for definition in ("same_month", "attributed"):
        for by in ((), ("month",), ("category",), ("month", "reason"), ("abc_class", "sku")):
            a = table(ds, "return_rate", definition, by=by, keywords=True)
            b = table(shuffled, "return_rate", definition, by=by, keywords=True)
            pd.testing.assert_frame_equal(a, b)
        # pooling the per-(month, sku) detail by hand gives the table
        for by in (("category",), ("month", "reason")):
            res = compute(ds, "return_rate", definition, by=by, keywords=True)
            detail = nw.from_native(res.detail, eager_only=True).to_pandas().merge(SKUS[["sku", "category"]], on="sku")
            sums = detail.groupby(list(by)).sum(numeric_only=True)
            got = nw.from_native(res.table, eager_only=True).to_pandas()
            expected = [k / n if n else math.nan for k, n in zip(sums["returned"], sums["paid"])]
            assert list(got["value"]) == pytest.approx(expected, nan_ok=True)
            if definition == "attributed":
                assert list(got["maturity"]) == pytest.approx(list(sums["expected_visible"] / sums["maturity_base"]))


def test_pandas_and_polars_agree():
    orders, returns = random_data(21, n=60)
    for definition in ("same_month", "attributed"):
        for by in ((), ("month",), ("reason", "category"), ("sku",)):
            a = table(ds_of("pandas", orders, returns), "return_rate", definition, by=by, keywords=True)
            b = table(ds_of("polars", orders, returns), "return_rate", definition, by=by, keywords=True)
            pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_compare_wide():
    wide = compare(ds_of("pandas", HAND_ORDERS, HAND_RETURNS), "return_rate", by=["month"]).wide()
    assert list(wide.columns) == ["month", "same_month", "attributed"]
    assert len(wide) == 3          # Feb only exists for same_month


# ----------------------------------------------------------------------------- page helpers

def test_keyword_reclassification(backend):
    orders = [(f"s{i}", "2024-05-01", "a") for i in range(10)]
    returns = [("s0", "2024-05-03", "quality", "Broken hinge"),          # already counted by reason
               ("s1", "2024-05-03", "changed_mind", "BROKEN hinge"),     # pulled in
               ("s2", "2024-05-03", "size", "屏幕坏了, 有瑕疵"),          # pulled in (two keywords)
               ("s3", "2024-05-03", "other", "great quality"),           # praise: not pulled in
               ("s4", "2024-05-02", "size", "faulty"), ("s4", "2024-05-04", "quality", None),  # s4 counted by reason
               ("ghost", "2024-05-03", "other", "damaged")]               # pulled in, not in orders
    ds = ds_of(backend, orders, returns)
    prev = q.keyword_reclassification(ds, definition="attributed")
    pulled = nw.from_native(prev.pulled_in, eager_only=True).to_pandas()
    assert sorted(pulled["sub_order_id"]) == ["ghost", "s1", "s2"]
    assert dict(zip(pulled["sub_order_id"], pulled["matched"]))["s2"] == "瑕疵, 坏了"   # keyword-list order
    assert pulled.set_index("sub_order_id").loc["s1", "comment"] == "BROKEN hinge"
    per_kw = nw.from_native(prev.keywords, eager_only=True).to_pandas().set_index("keyword")
    assert per_kw.loc["broken", "matched_rows"] == 2 and per_kw.loc["broken", "pulled_in_rows"] == 1
    assert per_kw.loc["faulty", "matched_rows"] == 1 and per_kw.loc["faulty", "pulled_in_rows"] == 0
    for frame in (prev.rates, prev.overall):
        rates = nw.from_native(frame, eager_only=True).to_pandas().set_index("scenario")
        # before: s0, s4 → 2/10; after: + s1, s2 → 4/10 (the ghost has no order)
        assert rates.loc["reasons_only", "value"] == pytest.approx(0.2)
        assert rates.loc["with_keywords", "value"] == pytest.approx(0.4)
        assert list(rates["paid"]) == [10, 10]
    # grouped by reason, the overall stays the whole-dataset rate
    prev = q.keyword_reclassification(ds, by=["reason"])
    overall = nw.from_native(prev.overall, eager_only=True).to_pandas().set_index("scenario")
    assert overall.loc["with_keywords", "value"] == pytest.approx(0.4)
    by_reason = nw.from_native(prev.rates, eager_only=True).to_pandas()
    with_kw = by_reason[by_reason["scenario"] == "with_keywords"].set_index("reason")["value"]
    # with keywords, s4 counts at its earlier 'faulty' row, whose reason is size:
    # s0 quality; s1 changed_mind; s2, s4 size
    assert with_kw.to_dict() == pytest.approx({"changed_mind": 0.1, "quality": 0.1, "size": 0.2})
    # by month, and with a custom list
    prev = q.keyword_reclassification(ds, by=["month"], keyword_list="great quality")
    pulled = nw.from_native(prev.pulled_in, eager_only=True).to_pandas()
    assert list(pulled["sub_order_id"]) == ["s3"]
    assert set(nw.from_native(prev.rates, eager_only=True).to_pandas()["month"]) == {"2024-05"}


def test_group_rates_pool_chosen_months(backend):
    ds = ds_of(backend, HAND_ORDERS, HAND_RETURNS)
    table_, _ = q.group_rates(ds, "attributed", "category", months=["2024-03"])
    got = nw.from_native(table_, eager_only=True).to_pandas().set_index("category")
    # March cohort: toys o4 (b), o5 (a, refunded) → 1/2; beauty o6 → 0/1; maturity toys (0.5 + 0)/2
    assert got["value"].to_dict() == pytest.approx({"beauty": 0.0, "toys": 0.5})
    assert got.loc["toys", "maturity"] == pytest.approx(0.25)
    table_, _ = q.group_rates(ds, "same_month", "category", months=["2024-02"])
    got = nw.from_native(table_, eager_only=True).to_pandas()
    # February: o2 (beauty) refunded, nothing paid → NaN
    assert list(got["category"]) == ["beauty"] and math.isnan(got["value"][0]) and got["returned"][0] == 1
    table_, _ = q.group_rates(ds, "attributed", "category")
    assert nw.from_native(table_, eager_only=True).to_pandas()["value"].tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(KpiError, match="valid"):
        q.group_rates(ds, "attributed", "supplier")


def test_monthly_summary_side_by_side(backend):
    ds = ds_of(backend, HAND_ORDERS, HAND_RETURNS)
    cmp = compare(ds, "return_rate", by=["month"])
    got = nw.from_native(q.monthly_summary(cmp.results["same_month"].table, cmp.results["attributed"].table),
                         eager_only=True).to_pandas()
    assert list(got["month"]) == ["2024-01", "2024-02", "2024-03"]
    # February exists only for same month (a refund, no order): no attributed row, not mature
    assert math.isnan(got["attributed"][1]) and not got["mature"][1] and got["same_month_returned"][1] == 1
    assert list(got["mature"]) == [True, False, False]       # March is 1/6 mature
    assert got["attributed"][0] == pytest.approx(2 / 3) and got["same_month"][0] == pytest.approx(1 / 3)


def test_lines_from_table():
    edited = pd.DataFrame({"category": ["toys", "beauty", "food"], "yellow_pct": [1.5, None, math.nan],
                           "red_pct": [None, 4.0, math.nan]})
    lines = q.lines_from_table(edited, "category", yellow=0.01, red=0.02)
    assert list(lines) == ["toys", "beauty", "food"]
    assert [pytest.approx(v) for v in lines.values()] == [(0.015, 0.02), (0.01, 0.04), (0.01, 0.02)]


def wilson(k, n, z=norm.ppf(0.975)):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_rate_intervals_wilson_and_clopper_pearson(backend):
    frame = pd.DataFrame({"returned": [3, 0, 12, 5, 2], "paid": [100, 40, 12, 0, 1]})
    frame = nw.from_native(frame).to_polars() if backend == "polars" else frame
    out = nw.from_native(q.rate_intervals(frame), eager_only=True).to_pandas()
    for i, (k, n) in enumerate([(3, 100), (0, 40), (12, 12)]):
        lo, hi = wilson(k, n)
        assert out["ci_low"][i] == pytest.approx(max(lo, 0), abs=1e-12)
        assert out["ci_high"][i] == pytest.approx(min(hi, 1), abs=1e-12)
    assert math.isnan(out["ci_low"][3]) and math.isnan(out["ci_low"][4])     # n = 0; k > n
    exact = nw.from_native(q.rate_intervals(frame, method="clopper-pearson", confidence=0.9),
                           eager_only=True).to_pandas()
    assert exact["ci_low"][0] == pytest.approx(beta.ppf(0.05, 3, 98))
    assert exact["ci_high"][0] == pytest.approx(beta.ppf(0.95, 4, 97))
    assert exact["ci_low"][1] == 0
    with pytest.raises(KpiError, match="choose from"):
        q.rate_intervals(frame, method="normal")
    with pytest.raises(KpiError, match="between 0 and 1"):
        q.rate_intervals(frame, confidence=95)


def test_flag_fires_only_on_evidence(backend):
    # lines yellow 2%, red 5%.
    # big: 900 / 10,000 = 9%: Wilson low ≈ 8.45% > 5% → red
    # mid: 300 / 10,000 = 3%: low ≈ 2.68% > 2% → yellow (not above red)
    # tiny: 2 / 12 = 16.7%, far above red, but low ≈ 4.7% < 5% and > 2% → yellow, not red
    # speck: 1 / 12 = 8.3%: low ≈ 1.5% < 2% → watch, not flagged
    # fine: 10 / 10,000 → ok; empty: 0 paid → no_data
    frame = pd.DataFrame({"category": ["big", "mid", "tiny", "speck", "fine", "empty"],
                          "value": [0.09, 0.03, 2 / 12, 1 / 12, 0.001, math.nan],
                          "returned": [900, 300, 2, 1, 10, 0], "paid": [10_000, 10_000, 12, 12, 10_000, 0]})
    frame = nw.from_native(frame).to_polars() if backend == "polars" else frame
    out = nw.from_native(q.flag_rates(frame, yellow=0.02, red=0.05, group="category"), eager_only=True).to_pandas()
    assert list(out["flag"]) == ["red", "yellow", "yellow", "watch", "ok", "no_data"]
    assert wilson(2, 12)[0] < 0.05 < 2 / 12 and wilson(1, 12)[0] < 0.02
    # per-category lines: beauty-style stricter line for 'fine' (0.01%, 0.05%): low ≈ 0.054% > 0.05% → red
    out = q.flag_rates(frame, yellow=0.02, red=0.05, group="category",
                       lines={"fine": (0.0001, 0.0005), "big": (0.10, 0.20)})
    out = nw.from_native(out, eager_only=True).to_pandas()
    assert list(out["flag"]) == ["ok", "yellow", "yellow", "watch", "red", "no_data"]
    assert list(out["red_line"])[:2] == [0.20, 0.05]
    with pytest.raises(KpiError, match="yellow ≤ red"):
        q.flag_rates(frame, yellow=0.05, red=0.02)
    with pytest.raises(KpiError, match="yellow ≤ red"):
        q.flag_rates(frame, yellow=0.01, red=0.02, group="category", lines={"big": (0.3, 1.5)})


def test_registry_entry():
    kpi = q.RETURN_RATE
    assert [d.id for d in kpi.definitions] == ["same_month", "attributed"]
    assert [p.name for p in kpi.params] == ["reasons", "keywords", "keyword_list"]
    assert kpi.param("reasons").default == ("quality",) and kpi.param("keywords").default is False
    assert kpi.definition("same_month").helpers == ("returned", "paid")
    assert kpi.definition("attributed").helpers == ("returned", "paid", "maturity")
    assert kpi.definition("same_month").formula == "qualifying sub-orders refunded in m / sub-orders paid in m"
    assert kpi.definition("attributed").formula == "qualifying sub-orders paid in m / sub-orders paid in m"
    assert set(kpi.dims) == {"sku", "reason"} and kpi.direction == "lower" and kpi.unit == "share"


# ----------------------------------------------------------------------------- bundled sample

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_sample_dataset():
    pytest.importorskip("kpilab.validation")
    if not (SAMPLE / "orders.csv").exists():
        pytest.skip("the bundled sample is not generated yet")
    import kpilab

    ds = kpilab.load_sample()
    for definition in ("same_month", "attributed"):
        res = nw.from_native(compute(ds, "return_rate", definition, by=["month"]).table, eager_only=True).to_pandas()
        full = res[res["paid"] > 0]
        assert len(full) and full["value"].between(0, 1).all()
        if definition == "attributed":
            assert full["maturity"].between(0, 1).all()
        assert compute(ds, "return_rate", definition, reasons="authenticity").value >= 0
        assert compute(ds, "return_rate", definition, keywords=True).value >= \
            compute(ds, "return_rate", definition).value
