"""Availability on DuckDB through the numpy cube (the inventory fits ``KPILAB_CUBE_MAX_ROWS``):
the hand-worked and edge cases of test_availability, the random data against the reference
loops, and the page helpers, run again on DuckDB with the cube instead of the lazy path (which
the other tests take there); and both paths give the same numbers, grouped every way."""

from __future__ import annotations

import pytest

from kpilab import REGISTRY, compute
from kpilab.kpis import availability
from tests.kpis.test_availability import (  # noqa: F401  (collected here again, on the cube)
    random_frames, test_class_filter_and_empty_pool_is_nan, test_daily_series,
    test_demand_weighted_all_zero_weights_is_nan, test_demand_weighted_hand_worked_with_zero_weight,
    test_demand_weighted_needs_sales, test_gap_breakdown, test_in_stock_matrix,
    test_kernels_agree_with_reference_loops, test_lifecycle_filter_and_unknown_skus,
    test_lost_sales_historical_average_with_promo_reference_days, test_lost_sales_reference_window_at_start_of_data,
    test_lost_sales_traffic_conversion, test_lost_sales_traffic_needs_page_views,
    test_low_cover_forward_crosses_month_boundary, test_low_cover_forward_needs_plans,
    test_low_cover_trailing_hand_worked, test_missing_row_inside_listing_is_out_of_stock,
    test_month_and_year_boundary, test_row_order_invariance_and_pooling_of_detail, test_sku_level_by_warehouse_is_an_error,
    test_spec_worked_check, test_usable_definitions_and_pool_views_and_cover_long)
from tests.conftest import dataset


@pytest.fixture(autouse=True)
def cube_on_duckdb(monkeypatch):
    monkeypatch.setenv("KPILAB_CUBE_MAX_ROWS", "1000000")


@pytest.fixture
def backend() -> str:
    return "duckdb"


DEFINITIONS = [("availability", "sku_level"), ("availability", "cell_level"), ("availability", "demand_weighted"),
               ("low_cover", "trailing"), ("low_cover", "forward"), ("lost_sales", "historical_average"),
               ("lost_sales", "traffic_conversion")]


@pytest.mark.parametrize("kpi, definition", DEFINITIONS)
def test_cube_and_lazy_path_agree_on_duckdb(monkeypatch, kpi, definition):
    inv, sales, skus, plans = random_frames(11, n_sku=6)
    ds = dataset("duckdb", inventory=inv, sales=sales, skus=skus, plans=plans)
    groupings = [(), ("month",), ("category",)] + ([("warehouse",)] if definition not in ("sku_level",)
                                                  and kpi != "low_cover" else [])
    uses_cube = lambda: availability._use_cube(availability._context(ds, REGISTRY[kpi], {}))  # noqa: E731
    assert uses_cube()
    cube = {by: compute(ds, kpi, definition, by=list(by)).table for by in groupings}
    monkeypatch.setenv("KPILAB_CUBE_MAX_ROWS", "0")
    assert not uses_cube()
    for by in groupings:
        lazy = compute(ds, kpi, definition, by=list(by)).table
        assert list(lazy.columns) == list(cube[by].columns)
        keys = list(by)
        left = cube[by].sort_values(keys).reset_index(drop=True) if keys else cube[by]
        right = lazy.sort_values(keys).reset_index(drop=True) if keys else lazy
        for column in left.columns:
            if left[column].dtype.kind in "fi":
                assert left[column].to_numpy() == pytest.approx(right[column].to_numpy(), rel=1e-9, abs=1e-12,
                                                                nan_ok=True), (by, column)
            else:
                assert left[column].tolist() == right[column].tolist(), (by, column)
