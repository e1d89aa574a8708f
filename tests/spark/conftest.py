"""One Spark session for the whole test run: a local JVM costs 5–30 s to start, so it is made
once (``local[2]`` with kpilab's settings, see ``engines.spark_session``) and every Spark test
uses it. Tests in this folder are marked ``spark`` (``pytest -m "not spark"`` leaves them out)."""

from __future__ import annotations

import pytest

from kpilab import Dataset
from kpilab.simulate import simulate


@pytest.fixture(scope="session")
def spark():
    from kpilab.engines import spark_session

    session = spark_session()
    # Tiny test data: compiling generated code and re-planning stages cost more than they save
    # (measured: a planning batch 19 s with Spark's defaults, 9 s with these).
    for key, value in {"spark.sql.codegen.wholeStage": "false",
                       "spark.sql.codegen.factoryMode": "NO_CODEGEN",
                       "spark.sql.adaptive.enabled": "false",
                       "spark.sql.shuffle.partitions": "1"}.items():
        session.conf.set(key, value)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small() -> Dataset:
    """The registry-invariants dataset (18 SKUs, 2 warehouses, 430 days), validated on pandas."""
    return Dataset.from_frames(simulate(skus=18, warehouses=2, days=430, seed=5), "small")


@pytest.fixture(scope="session")
def small_on_spark(spark, small) -> Dataset:
    return small.to_engine("spark")


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist every Spark test goes to the same worker, so the run keeps one session."""
    for item in items:
        if "tests/spark/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("spark"))
