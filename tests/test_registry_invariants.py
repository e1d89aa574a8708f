"""sklearn test_common style: every (KPI, definition) of the registry on one small simulated dataset —
identical on every engine (pandas, polars, DuckDB), ungrouped and grouped, independent of row order,
pooled detail consistent with the table."""

import math
import re

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import REGISTRY, Dataset, KpiError, compute, missing_inputs
from kpilab.simulate import simulate

CASES = [(k.id, d.id) for k in REGISTRY.values() for d in k.definitions]


@pytest.fixture(scope="module")
def small():
    return Dataset.from_frames(simulate(skus=18, warehouses=2, days=430, seed=5), "small")


@pytest.fixture(scope="module")
def shuffled(small):
    return Dataset({n: t.sample(frac=1.0, random_state=7).reset_index(drop=True) for n, t in small.tables.items()},
                   "shuffled")


@pytest.fixture(scope="module")
def engines(small):
    return {engine: small.to_engine(engine) for engine in ("polars", "duckdb")}


def pandas_table(result) -> pd.DataFrame:
    return nw.from_native(result.table, eager_only=True).to_pandas()


def groupings(kpi) -> list[tuple[str, ...]]:
    """Ungrouped, by month, by category (SKU-level KPIs) and by warehouse where it applies."""
    out = [(), ("month",)]
    if kpi.sku_grouping:
        out.append(("category",))
    if "warehouse" in kpi.dims:
        out.append(("warehouse",))
    return out


@pytest.mark.parametrize("kpi_id, definition", CASES)
def test_engine_parity_and_row_order(small, engines, shuffled, kpi_id, definition):
    kpi = REGISTRY[kpi_id]
    assert not missing_inputs(kpi, small)
    for by in groupings(kpi):
        try:
            base = pandas_table(compute(small, kpi_id, definition, by=by))
        except KpiError as refused:          # e.g. a network-level definition refuses warehouse
            for engine, ds in engines.items():
                with pytest.raises(KpiError, match=re.escape(str(refused))):
                    compute(ds, kpi_id, definition, by=by)
            continue
        assert len(base), (kpi_id, definition, by)
        for engine, ds in engines.items():
            other = pandas_table(compute(ds, kpi_id, definition, by=by))
            pd.testing.assert_frame_equal(base, other, check_dtype=False, rtol=1e-9, obj=f"{engine} {by}")
        pd.testing.assert_frame_equal(base, pandas_table(compute(shuffled, kpi_id, definition, by=by)),
                                      check_dtype=False, rtol=1e-9)


@pytest.mark.parametrize("kpi_id, definition", CASES)
def test_result_shape_follows_the_spec(small, kpi_id, definition):
    kpi = REGISTRY[kpi_id]
    d = kpi.definition(definition)
    result = compute(small, kpi_id, definition, by=("month",))
    table = pandas_table(result)
    assert list(table.columns) == ["month", "value", *d.helpers]
    assert table["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert table["month"].is_monotonic_increasing
    detail = nw.from_native(result.detail, eager_only=True)
    assert set(d.sums) <= set(detail.columns)
    overall = compute(small, kpi_id, definition).value
    assert overall is None or isinstance(overall, float) and (math.isnan(overall) or math.isfinite(overall)
                                                               or kpi.unit == "days")


@pytest.mark.parametrize("kpi_id", [k.id for k in REGISTRY.values() if k.sku_grouping])
def test_grouping_by_category_pools_the_same_entities(small, kpi_id):
    """Σ of each additive column over the category groups equals the ungrouped Σ (nothing lost or
    counted twice when the detail is joined to the SKU master)."""
    kpi = REGISTRY[kpi_id]
    d = kpi.definitions[0]
    whole = nw.from_native(compute(small, kpi_id, d.id).detail, eager_only=True).to_pandas()
    grouped = nw.from_native(compute(small, kpi_id, d.id, by=("category",)).detail, eager_only=True).to_pandas()
    for column in d.sums:
        assert grouped[column].sum() == pytest.approx(whole[column].sum(), rel=1e-9, abs=1e-9), column
