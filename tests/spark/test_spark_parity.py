"""Every definition of every KPI gives on Spark (local mode) the numbers it
gives on pandas, ungrouped and grouped; the data round-trips through Spark; Spark tables wrap
into a Dataset; the command line computes on Spark."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import narwhals.stable.v2 as nw
import pandas as pd
import pytest

from kpilab import REGISTRY, Dataset, KpiError, compute, engines
from kpilab.cli import main
from tests.test_registry_invariants import CASES, groupings

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kpi_id, definition", CASES)
def test_spark_gives_the_pandas_numbers(small, small_on_spark, kpi_id, definition):
    kpi = REGISTRY[kpi_id]
    for by in groupings(kpi):
        try:
            base = compute(small, kpi_id, definition, by=by).table
        except KpiError as refused:  # e.g. a network-level definition grouped by warehouse
            with pytest.raises(KpiError, match=re.escape(str(refused))):
                compute(small_on_spark, kpi_id, definition, by=by)
            continue
        assert len(base), (kpi_id, definition, by)
        on_spark = compute(small_on_spark, kpi_id, definition, by=by)
        pd.testing.assert_frame_equal(base, on_spark.table, check_dtype=False, rtol=1e-9,
                                      obj=f"spark {by}")


def test_detail_stays_on_spark_until_read(small_on_spark):
    result = compute(small_on_spark, "plan_accuracy", "wape", by=("month",))
    assert engines.is_spark(nw.from_native(result.detail_frame.to_native()))
    assert len(result.detail) == engines.count(result.detail_frame)


def test_round_trip_keeps_dates_and_nulls(spark):
    frame = pd.DataFrame({
        "date": pd.to_datetime(["2024-02-29", None, "1999-12-31"]),
        "units": [1.5, None, -2.0],
        "sku": ["A", None, "雪"],
        "flag": pd.array([True, None, False], dtype="boolean"),
    })
    on_spark = engines.convert(frame, "spark")
    assert engines.engine_of(on_spark) == "spark"
    assert dict(on_spark.dtypes)["date"] == "timestamp_ntz"     # wall-clock dates, no time zone
    back = engines.convert(on_spark, "pandas")
    assert back["date"].dt.tz is None
    assert back["date"].tolist()[0] == pd.Timestamp("2024-02-29")
    assert pd.isna(back["date"][1]) and back["date"][2] == pd.Timestamp("1999-12-31")
    assert back["units"].isna().tolist() == [False, True, False]
    assert back["units"][2] == -2.0
    assert back["sku"].tolist()[2] == "雪" and pd.isna(back["sku"][1])
    assert [None if pd.isna(v) else bool(v) for v in back["flag"]] == [True, None, False]


def test_materialize_casts_decimals_and_keeps_the_frame_on_spark(spark):
    frame = nw.from_native(spark.sql("SELECT CAST(1.25 AS DECIMAL(10, 2)) AS x, 'a' AS k"))
    kept = engines.materialize(frame)
    assert engines.on_engine(kept) and kept.collect_schema()["x"] == nw.Float64
    assert engines.collect(kept)["x"].to_list() == [1.25]


def test_from_spark_validates_on_spark_and_computes_like_pandas(spark, small):
    """Raw tables as a team would have them in a catalog (dates as text) wrap into a Dataset
    whose checks and KPIs run on Spark."""
    plans = engines.convert(small.tables["plans"], "pandas")
    sales = engines.convert(small.tables["sales"], "pandas")
    raw = {"skus": small.tables["skus"], "plans": plans,
           "sales": sales.assign(date=sales["date"].dt.strftime("%Y-%m-%d"))}
    ds = Dataset.from_spark({name: engines.convert(t, "spark") for name, t in raw.items()})
    assert ds.engine == "spark" and ds.report.ok
    assert ds.report.rows_read["sales"] == len(sales)
    assert engines.engine_of(ds.tables["sales"]) == "spark"
    got = compute(ds, "plan_accuracy", "min_max", by=("month",)).table
    want = compute(small, "plan_accuracy", "min_max", by=("month",)).table
    pd.testing.assert_frame_equal(want, got, check_dtype=False, rtol=1e-9)


def test_from_spark_reports_bad_rows_by_scan_order(spark):
    sales = spark.createDataFrame(
        [("2024-03-01", "A", "W1", "1", "5"), ("2024-03-02", "A", "W1", "x", "5"),
         ("2024-03-03", "A", "W1", "-2", "5")],
        "date string, sku string, warehouse string, units string, gmv string")
    report = Dataset.from_spark({"sales": sales}).report
    # row 1 is the header: 'x' is row 3 (text in a number column), -2 is row 4 (negative)
    assert sorted((p.column, p.rows, p.n_rows) for p in report.errors) == [
        ("units", (3,), 1), ("units", (4,), 1)]
    assert report.rows_dropped["sales"] == 2


def test_fingerprint_tells_spark_tables_apart(spark):
    one = spark.createDataFrame([("A", 1.0)], "sku string, units double")
    two = one.filter("units > 5")
    assert Dataset({"sales": one}).fingerprint == Dataset({"sales": one}).fingerprint
    assert Dataset({"sales": one}).fingerprint != Dataset({"sales": two}).fingerprint


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_command_line_computes_on_spark(tmp_path, capsys):
    """A fresh process (its own local session, as on a fresh clone) against the polars engine."""
    from kpilab.simulate import generate

    generate(tmp_path, skus=18, warehouses=2, days=430, seed=5)
    args = ["compute", "plan_accuracy", "--definition", "wape", "--data", str(tmp_path), "--by", "month"]
    assert main([*args, "--engine", "polars"]) == 0
    want = _rows(capsys.readouterr().out)
    done = subprocess.run([sys.executable, "-m", "kpilab", *args, "--engine", "spark"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    got = _rows(done.stdout)
    assert [r["month"] for r in got] == [r["month"] for r in want] and len(want) > 3
    for a, b in zip(want, got):
        for key in a:
            if key != "month":
                assert math.isclose(float(a[key] or "nan"), float(b[key] or "nan"), rel_tol=1e-9) \
                    or not a[key] and not b[key], (key, a, b)


def test_command_line_refuses_spark_options_without_spark(capsys):
    code = main(["validate", str(ROOT / "data" / "sample"), "--spark-master", "local[1]"])
    assert code == 2
    assert "--spark-master only works with --engine spark" in capsys.readouterr().err
