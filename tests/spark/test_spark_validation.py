"""Reading and validation on Spark: the same report as on polars (problems, rows, counts), and a
CSV row with too many fields refused as with polars."""

from __future__ import annotations

import pytest

from kpilab import engines, load_dataset
from kpilab.reading import DatasetReadError, read_dataset
from kpilab.validation import validate
from tests.test_validation import _problems, only, write_bad_files

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_spark_and_polars_report_the_same_problems(spark, tmp_path, form):
    write_bad_files(tmp_path, form)
    on_polars = validate(read_dataset(tmp_path, engine="polars").tables)
    on_spark = validate(read_dataset(tmp_path, engine="spark").tables)
    assert _problems(on_spark) == _problems(on_polars)
    assert on_spark.report.rows_dropped == on_polars.report.rows_dropped
    assert on_spark.report.unusable == on_polars.report.unusable
    # worked by hand (see tests/test_validation.py): inventory keeps row 2 only
    assert only(on_spark, "inventory", "date, sku, warehouse").rows == (4,)
    assert only(on_spark, "inventory", "sellable_units").rows == (3, 5)
    assert engines.engine_of(on_spark.tables["inventory"]) == "spark"
    inventory = engines.convert(on_spark.tables["inventory"], "polars")
    assert inventory["on_hand_units"].to_list() == [10.0]
    skus = engines.convert(on_spark.tables["skus"], "polars").sort("sku")
    assert skus["unit_cost"].to_list() == [2.0, 1500.0]


def test_load_dataset_on_spark_reads_a_gb18030_semicolon_file(spark, tmp_path):
    (tmp_path / "skus.csv").write_bytes("sku;category;unit_cost\nA;饮料;1,5\nB;零食;2\n".encode("gb18030"))
    ds = load_dataset(tmp_path, engine="spark")
    assert ds.engine == "spark"
    assert any("GB18030" in str(n) for n in ds.notes)
    skus = engines.convert(ds.tables["skus"], "polars").sort("sku")
    # '1,5' is neither a plain number nor thousands-grouped: reported, its row (A) dropped
    assert only(ds, "skus", "unit_cost").rows == (2,)
    assert skus["category"].to_list() == ["零食"] and skus["unit_cost"].to_list() == [2.0]


def test_a_row_with_too_many_fields_is_refused(spark, tmp_path):
    (tmp_path / "skus.csv").write_text('sku,category\nA,x\nB,"y, z"\nC,z,extra\n', encoding="utf-8")
    with pytest.raises(DatasetReadError, match="Expected 2 fields in row 4, saw 3"):
        read_dataset(tmp_path, engine="spark")
