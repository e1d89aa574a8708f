"""Shared test helpers: tiny hand-made datasets on every engine."""

from __future__ import annotations

import os

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import Dataset, compute

# validated DuckDB datasets are cached on disk (kpilab.cache): off for the tests (and the
# notebooks and command lines they start), so each load validates what it reads and nothing is
# written to the user's cache; tests/test_cache.py turns it on in a folder of its own
os.environ["KPILAB_CACHE"] = "off"
# availability on DuckDB takes its lazy (out-of-core) path in the tests, as on data too big for
# the numpy cube; tests/kpis/test_availability_cube_on_duckdb.py checks the cube there
os.environ["KPILAB_CUBE_MAX_ROWS"] = "0"


@pytest.fixture(params=["pandas", "polars", "duckdb"])
def backend(request) -> str:
    """Run a test once on each engine (results must be identical)."""
    return request.param


def dataset(backend: str = "pandas", **tables: pd.DataFrame) -> Dataset:
    """A Dataset of typed frames (no file reading), on the chosen engine."""
    return Dataset(tables, name="test").to_engine(backend)


def table(ds: Dataset, kpi: str, definition: str, by=(), **params) -> pd.DataFrame:
    """The result table as pandas, whatever the backend."""
    return nw.from_native(compute(ds, kpi, definition, by=by, **params).table, eager_only=True).to_pandas()


def value(ds: Dataset, kpi: str, definition: str, **params) -> float:
    return compute(ds, kpi, definition, **params).value


def dates(*texts: str) -> pd.Series:
    return pd.to_datetime(pd.Series(texts))
