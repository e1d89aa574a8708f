"""Planning family: the spec's worked checks, hand-worked cases and edge cases, on pandas and polars."""

import math
import random

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpilab import KpiError, compare, compute
from tests.conftest import dataset, table, value


def one_month(P, A, *, sku_names=None, month="2024-01", lag=1, source="plan", classes=None):
    """One judged month: plan rows for every SKU of P (lag 1) and sales A on the 15th; a sales row on
    the month's last day (0 units) makes the sales table cover the month completely."""
    skus = sku_names or [f"s{i}" for i in range(len(P))]
    version = pd.Period(month, "M") - lag
    plans = pd.DataFrame({"sku": skus, "month": month, "version_month": str(version), "source": source,
                          "units": [float(p) for p in P], "value": [float(p) * 2 for p in P]})
    end = pd.Period(month, "M").end_time.normalize()
    sales = pd.DataFrame({"date": [pd.Timestamp(f"{month}-15")] * len(skus) + [end],
                          "sku": skus + [skus[0]], "warehouse": "W1",
                          "units": [float(a) for a in A] + [0.0], "gmv": [float(a) * 2 for a in A] + [0.0]})
    sku_table = pd.DataFrame({"sku": skus, "category": "c", "unit_cost": 1.0,
                              "abc_class": classes or [None] * len(skus)})
    return plans, sales, sku_table


def ds_of(backend, P, A, **kw):
    plans, sales, skus = one_month(P, A, **kw)
    return dataset(backend, plans=plans, sales=sales, skus=skus)


# ----------------------------------------------------------------------------- spec worked checks

@pytest.mark.parametrize("P, A, wape, min_max", [([50], [100], 0.5, 0.5), ([100], [50], 0.0, 0.5)])
def test_spec_single_sku(backend, P, A, wape, min_max):
    ds = ds_of(backend, P, A)
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(wape)
    assert value(ds, "plan_accuracy", "min_max") == pytest.approx(min_max)


def test_spec_three_skus(backend):
    ds = ds_of(backend, [100, 50, 0], [80, 60, 10])
    # |20|+|10|+|10| = 40 over 150 → 1 − 40/150
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(0.733333, abs=1e-6)
    # (20/80 + 10/60 + 10/10)/3 = 1.416667/3 = 0.472222 → 0.527778
    assert value(ds, "plan_accuracy", "mape") == pytest.approx(0.527778, abs=1e-6)
    # r = .8, .8333, 0; max weights 100, 60, 10 → (80+50)/170
    assert value(ds, "plan_accuracy", "min_max") == pytest.approx(0.764706, abs=1e-6)
    # actual weights 80, 60, 10 → (64+50)/150
    assert value(ds, "plan_accuracy", "min_max", weight="actual") == pytest.approx(0.76, abs=1e-6)
    # plan weights 100, 50, 0 → (80+41.667)/150
    assert value(ds, "plan_accuracy", "min_max", weight="plan") == pytest.approx(0.811111, abs=1e-6)
    assert value(ds, "plan_bias", "bias") == pytest.approx(0.0)


def test_spec_unsold_sku_invisible_with_actual_weight(backend):
    ds = ds_of(backend, [100, 50], [100, 0])
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(0.5)
    result = compute(ds, "plan_accuracy", "min_max", weight="actual")
    assert result.value == pytest.approx(1.0)
    row = nw.from_native(result.table, eager_only=True).to_pandas().iloc[0]
    assert row["zero_weight_items"] == 1 and row["weight_total"] == pytest.approx(100)
    assert any("zero weight" in n and "权重为 0" in n("zh") for n in result.notes)
    assert value(ds, "plan_accuracy", "min_max", weight="max") == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- edge cases

def test_bias_sign_and_achievement(backend):
    ds = ds_of(backend, [120, 30], [100, 50])          # over by 20, under by 20 → bias 0
    assert value(ds, "plan_bias", "bias") == pytest.approx(0.0)
    ds = ds_of(backend, [150], [100])                  # over-planned → positive bias
    assert value(ds, "plan_bias", "bias") == pytest.approx(0.5)
    assert value(ds, "plan_bias", "achievement") == pytest.approx(100 / 150)


def test_planned_zero_actual_positive(backend):
    ds = ds_of(backend, [0], [10])
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(0.0)        # 1 − 10/10
    assert value(ds, "plan_accuracy", "min_max") == pytest.approx(0.0)     # r = 0
    assert value(ds, "plan_accuracy", "mape") == pytest.approx(0.0)
    assert value(ds, "plan_bias", "achievement") != value(ds, "plan_bias", "achievement")  # ΣP = 0 → NaN


def test_actual_zero_everywhere_gives_nan_not_zero(backend):
    ds = ds_of(backend, [10, 5], [0, 0])
    assert math.isnan(value(ds, "plan_accuracy", "wape"))
    assert math.isnan(value(ds, "plan_accuracy", "mape"))
    res = table(ds, "plan_accuracy", "mape")
    assert res.loc[0, "items_used"] == 0 and res.loc[0, "items_excluded"] == 2
    assert value(ds, "plan_accuracy", "min_max") == pytest.approx(0.0)      # max weights 10, 5; r = 0
    assert math.isnan(value(ds, "plan_accuracy", "min_max", weight="actual"))


def test_both_zero_pair_counts_as_perfect_but_weightless(backend):
    ds = ds_of(backend, [0, 50], [0, 100])
    assert value(ds, "plan_accuracy", "min_max") == pytest.approx(0.5)
    assert value(ds, "plan_accuracy", "mape") == pytest.approx(0.5)          # the 0/0 pair is excluded


def test_unplanned_sold_sku_enters_with_plan_zero(backend):
    plans, sales, skus = one_month([100], [100], sku_names=["a"])
    extra = pd.DataFrame({"date": [pd.Timestamp("2024-01-10")], "sku": ["b"], "warehouse": "W2",
                          "units": [50.0], "gmv": [100.0]})
    skus = pd.concat([skus, pd.DataFrame({"sku": ["b"], "category": "c", "unit_cost": 1.0, "abc_class": [None]})])
    ds = dataset(backend, plans=plans, sales=pd.concat([sales, extra]), skus=skus)
    # pairs a: P100 A100, b: P0 A50 → 1 − 50/150
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(1 - 50 / 150)
    detail = nw.from_native(compute(ds, "plan_accuracy", "wape").detail, eager_only=True).to_pandas()
    assert set(detail["sku"]) == {"a", "b"}


def test_month_not_covered_by_sales_is_not_judged(backend):
    plans, sales, skus = one_month([100], [100])
    later = plans.assign(month="2024-02", version_month="2024-01", units=999.0)
    sales_feb = pd.DataFrame({"date": [pd.Timestamp("2024-02-10")], "sku": ["s0"], "warehouse": "W1",
                              "units": [1.0], "gmv": [2.0]})
    ds = dataset(backend, plans=pd.concat([plans, later]), sales=pd.concat([sales, sales_feb]), skus=skus)
    res = compute(ds, "plan_accuracy", "wape", by=["month"])
    assert list(nw.from_native(res.table, eager_only=True)["month"]) == ["2024-01"]
    assert any("not judged" in n for n in res.notes)


def test_lag_and_source_select_rows(backend):
    plans, sales, skus = one_month([100], [100])
    m2 = plans.assign(version_month="2023-11", units=50.0)
    fc = plans.assign(source="forecast", units=80.0)
    ds = dataset(backend, plans=pd.concat([plans, m2, fc]), sales=sales, skus=skus)
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(1.0)
    assert value(ds, "plan_accuracy", "wape", lag=2) == pytest.approx(0.5)
    assert value(ds, "plan_accuracy", "wape", source="forecast") == pytest.approx(0.8)
    # plan 1.0 vs forecast 0.8 on the common universe
    res = table(ds, "forecast_value_added", "wape")
    assert res.loc[0, "value"] == pytest.approx(0.2)
    assert res.loc[0, "plan_accuracy"] == pytest.approx(1.0) and res.loc[0, "forecast_accuracy"] == pytest.approx(0.8)


def test_fva_missing_row_of_one_source_means_zero(backend):
    plans, sales, skus = one_month([100, 40], [100, 40])
    fc = plans.iloc[[0]].assign(source="forecast", units=100.0)     # forecast has no row for s1 → P = 0
    ds = dataset(backend, plans=pd.concat([plans, fc]), sales=sales, skus=skus)
    res = table(ds, "forecast_value_added", "wape")
    assert res.loc[0, "forecast_accuracy"] == pytest.approx(1 - 40 / 140)
    assert res.loc[0, "value"] == pytest.approx(40 / 140)


def test_measure_value_uses_plan_value_and_gmv(backend):
    ds = ds_of(backend, [50], [100])        # value = 2 × units on both sides
    assert value(ds, "plan_bias", "achievement", measure="value") == pytest.approx(200 / 100)


def test_ties_in_abc_ranking_and_class_filter(backend):
    # GMV a 40, b 40 (tie → a first), c 20: before a 0 → A, b 0.4 → A, c 0.8 → C (0.8 is not < 0.8)
    ds = ds_of(backend, [40, 40, 10], [20, 20, 10], sku_names=["b", "a", "c"])
    by_class = table(ds, "plan_accuracy", "wape", by=["abc_class"])
    assert list(by_class["abc_class"]) == ["A", "C"]
    # A: |40−20|·2 / 40 → 1 − 40/40 = 0
    assert by_class.loc[0, "value"] == pytest.approx(0.0)
    assert value(ds, "plan_accuracy", "wape", classes="C") == pytest.approx(1.0)


def test_given_abc_class_is_kept(backend):
    # s0 keeps its given D; s1 is derived from the ranking of all SKUs: GMV s0 20, s1 10 →
    # s1's before = 20/30 = 0.667 → B
    ds = ds_of(backend, [10, 10], [10, 5], classes=["D", None])
    by_class = table(ds, "plan_accuracy", "wape", by=["abc_class"])
    assert list(by_class["abc_class"]) == ["B", "D"]


def test_empty_class_filter_gives_nan_row(backend):
    ds = ds_of(backend, [10], [10])
    assert math.isnan(value(ds, "plan_accuracy", "wape", classes="E"))


def test_order_volume_accuracy(backend):
    orders = pd.DataFrame({"sub_order_id": ["1", "2", "3", "4"], "order_id": ["o1", "o1", "o2", "o3"],
                           "paid_date": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-01", "2024-03-02"]),
                           "sku": "a", "units": 1.0, "gmv": 1.0, "customer_region": None,
                           "warehouse": ["W1", "W1", "W1", "W2"]})
    plans = pd.DataFrame({"date": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-02", "2024-03-02",
                                                  "2024-03-03"]),
                          "warehouse": ["W1", "W1", "W2", "W1", "W1"],
                          "version_date": pd.to_datetime(["2024-02-16", "2024-02-23", "2024-02-17", "2024-02-17",
                                                          "2024-02-18"]),
                          "planned_orders": [4.0, 9.0, 1.0, 3.0, 5.0]})
    ds = dataset(backend, orders=orders, order_volume_plans=plans)
    # D-14 pairs up to the last paid date: W1 03-01 P4 A2; W2 03-02 P1 A1; W1 03-02 P3 A0 (03-03 is after)
    assert value(ds, "order_volume_accuracy", "wape") == pytest.approx(1 - (2 + 0 + 3) / 3)
    # r = .5, 1, 0 with max weights 4, 1, 3 → (2 + 1 + 0) / 8
    assert value(ds, "order_volume_accuracy", "min_max") == pytest.approx(3 / 8)
    by_wh = table(ds, "order_volume_accuracy", "wape", by=["warehouse"])
    assert by_wh.set_index("warehouse")["value"].to_dict() == pytest.approx({"W1": 1 - 5 / 2, "W2": 1.0})
    assert value(ds, "order_volume_accuracy", "wape", lag_days=7) == pytest.approx(1 - 7 / 2)


# ----------------------------------------------------------------------------- request errors

def test_bad_requests_list_valid_choices():
    ds = ds_of("pandas", [1], [1])
    with pytest.raises(KpiError, match="valid: wape, min_max, mape"):
        compute(ds, "plan_accuracy", "nope")
    with pytest.raises(KpiError, match="unknown parameter"):
        compute(ds, "plan_accuracy", "wape", lagg=1)
    with pytest.raises(KpiError, match="choose from"):
        compute(ds, "plan_accuracy", "min_max", weight="median")
    with pytest.raises(KpiError, match="cannot be grouped by warehouse"):
        compute(ds, "plan_accuracy", "wape", by=["warehouse"])
    with pytest.raises(KpiError, match="needs order_volume_plans, orders"):
        compute(ds, "order_volume_accuracy", "wape")


# ----------------------------------------------------------------------------- properties

pairs = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(pairs)
def test_min_max_bounds_symmetry_and_above_wape(data):
    P, A = [p for p, _ in data], [a for _, a in data]
    ds, swapped = ds_of("pandas", P, A), ds_of("pandas", A, P)
    mm = value(ds, "plan_accuracy", "min_max")
    if not math.isnan(mm):
        assert -1e-12 <= mm <= 1 + 1e-12
        assert mm == pytest.approx(value(swapped, "plan_accuracy", "min_max"))
    wape = value(ds, "plan_accuracy", "wape")
    for weight in ("max", "actual"):
        m = value(ds, "plan_accuracy", "min_max", weight=weight)
        if not (math.isnan(m) or math.isnan(wape)):
            assert m >= wape - 1e-9


@pytest.mark.parametrize("k", [1.0, 1.5, 2.0, 3.0])
def test_over_planned_by_k(k):
    ds = ds_of("pandas", [40 * k], [40])
    assert value(ds, "plan_accuracy", "wape") == pytest.approx(2 - k)
    assert value(ds, "plan_accuracy", "min_max") == pytest.approx(1 / k)


def test_row_order_and_pooling_of_detail(backend):
    rng = random.Random(3)
    P = [rng.randint(0, 100) for _ in range(30)]
    A = [rng.randint(0, 100) for _ in range(30)]
    plans, sales, skus = one_month(P, A)
    skus["category"] = [rng.choice(["x", "y", "z"]) for _ in range(30)]
    ds = dataset(backend, plans=plans, sales=sales, skus=skus)
    shuffled = dataset(backend, plans=plans.sample(frac=1, random_state=1),
                       sales=sales.sample(frac=1, random_state=2), skus=skus.sample(frac=1, random_state=3))
    for d in ("wape", "min_max", "mape"):
        a, b = table(ds, "plan_accuracy", d, by=["category"]), table(shuffled, "plan_accuracy", d, by=["category"])
        pd.testing.assert_frame_equal(a, b)
        # pooling the per-entity detail by hand gives the table
        detail = nw.from_native(compute(ds, "plan_accuracy", d).detail, eager_only=True).to_pandas()
        detail = detail.merge(skus[["sku", "category"]], on="sku")
        if d == "wape":
            sums = detail.groupby("category")[["abs_error", "actual"]].sum()
            expected = 1 - sums["abs_error"] / sums["actual"]
        elif d == "min_max":
            sums = detail.groupby("category")[["weighted", "weight_total"]].sum()
            expected = sums["weighted"] / sums["weight_total"]
        else:
            sums = detail.groupby("category")[["ape", "items_used"]].sum()
            expected = 1 - sums["ape"] / sums["items_used"]
        assert list(a["value"]) == pytest.approx(list(expected))


def test_pandas_and_polars_agree_on_every_grouping():
    rng = random.Random(5)
    P = [rng.randint(0, 60) for _ in range(20)]
    A = [rng.randint(0, 60) for _ in range(20)]
    for kpi, defs in (("plan_accuracy", ("wape", "min_max", "mape")), ("plan_bias", ("bias", "achievement"))):
        for d in defs:
            for by in ((), ("month",), ("abc_class",), ("month", "category")):
                a = table(ds_of("pandas", P, A), kpi, d, by=by)
                b = table(ds_of("polars", P, A), kpi, d, by=by)
                pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_compare_wide_has_one_column_per_definition():
    ds = ds_of("pandas", [100, 50, 0], [80, 60, 10])
    wide = compare(ds, "plan_accuracy", by=["month"]).wide()
    assert list(wide.columns) == ["month", "wape", "min_max", "mape"]
    assert wide.loc[0, "min_max"] == pytest.approx(0.764706, abs=1e-6)


# ----------------------------------------------------------------------------- universe (issue 13)

def _universe_dataset(backend):
    """a planned 100 / sold 100; b unplanned / sold 50; c planned 40 / no sales row at all."""
    plans, sales, skus = one_month([100, 40], [100, 0], sku_names=["a", "c"])
    sales = sales[sales["sku"] != "c"]
    extra = pd.DataFrame({"date": [pd.Timestamp("2024-01-10")], "sku": ["b"], "warehouse": "W2",
                          "units": [50.0], "gmv": [100.0]})
    skus = pd.concat([skus, pd.DataFrame({"sku": ["b"], "category": "c", "unit_cost": 1.0, "abc_class": [None]})])
    return dataset(backend, plans=plans, sales=pd.concat([sales, extra]), skus=skus)


@pytest.mark.parametrize("universe, wape, bias", [
    ("actuals_or_plan", 1 - 90 / 150, (140 - 150) / 150),   # a 0, b 50, c 40 over A 150
    ("planned_only", 1 - 40 / 100, (140 - 100) / 100),      # a 0, c 40 over A 100
    ("both_present", 1.0, 0.0),                             # a only
])
def test_universe_choice(backend, universe, wape, bias):
    ds = _universe_dataset(backend)
    assert value(ds, "plan_accuracy", "wape", universe=universe) == pytest.approx(wape)
    assert value(ds, "plan_bias", "bias", universe=universe) == pytest.approx(bias)


def test_unplanned_volume_over_five_percent_is_noted(backend):
    ds = _universe_dataset(backend)
    for universe in ("actuals_or_plan", "planned_only"):
        notes = compute(ds, "plan_accuracy", "wape", universe=universe).notes
        said = [n for n in notes if "without a plan row" in n]
        assert said and "1 SKU-months" in said[0] and "33.3%" in said[0], notes
        assert "33.3%" in said[0].zh


def test_unplanned_volume_under_five_percent_is_not_noted(backend):
    plans, sales, skus = one_month([100], [100], sku_names=["a"])
    extra = pd.DataFrame({"date": [pd.Timestamp("2024-01-10")], "sku": ["b"], "warehouse": "W2",
                          "units": [4.0], "gmv": [8.0]})                 # 4 of 104 = 3.8 %
    skus = pd.concat([skus, pd.DataFrame({"sku": ["b"], "category": "c", "unit_cost": 1.0, "abc_class": [None]})])
    ds = dataset(backend, plans=plans, sales=pd.concat([sales, extra]), skus=skus)
    assert not [n for n in compute(ds, "plan_accuracy", "wape").notes if "without a plan row" in n]


def test_fva_universe_judges_items_with_both_sources(backend):
    plans, sales, skus = one_month([100, 40], [80, 50], sku_names=["a", "b"])
    forecast = plans[plans["sku"] == "a"].assign(source="forecast", units=90.0)   # no forecast for b
    ds = dataset(backend, plans=pd.concat([plans, forecast]), sales=sales, skus=skus)
    # all: plan errors 20 + 10, forecast errors 10 + 50 over A 130 → (1−30/130) − (1−60/130)
    assert value(ds, "forecast_value_added", "wape") == pytest.approx(30 / 130)
    # planned_only = a row of both sources: a only → (1−20/80) − (1−10/80)
    assert value(ds, "forecast_value_added", "wape", universe="planned_only") == pytest.approx(-10 / 80)
