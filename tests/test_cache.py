"""Validated DuckDB datasets are kept on disk and read back while the files are unchanged."""

from __future__ import annotations

import shutil

import pytest

import kpilab
from kpilab import cache, validation
from kpilab.dataset import SAMPLE_DIR


@pytest.fixture
def folder(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("KPILAB_CACHE", str(where))
    return where


@pytest.fixture
def data(tmp_path):
    """A copy of three sample tables (enough for plan accuracy), which a test may change."""
    copy = tmp_path / "data"
    copy.mkdir()
    for name in ("skus.csv", "sales.csv", "plans.csv"):
        shutil.copy(SAMPLE_DIR / name, copy / name)
    return copy


def test_second_load_reads_the_validation_back(folder, data, monkeypatch):
    first = kpilab.load_dataset(data, engine="duckdb")
    assert len(list(folder.glob("*.duckdb"))) == 1

    def no_validation(*args, **kwargs):
        raise AssertionError("validated again")
    monkeypatch.setattr(validation, "validate", no_validation)
    second = kpilab.load_dataset(data, engine="duckdb")
    assert second.engine == "duckdb" and second.grain == first.grain
    assert second.report.rows_read == first.report.rows_read
    assert [p.what for p in second.report.problems] == [p.what for p in first.report.problems]
    for definition in ("wape", "min_max"):
        assert kpilab.compute(second, "plan_accuracy", definition, by=["month"]).table.equals(
            kpilab.compute(first, "plan_accuracy", definition, by=["month"]).table)


def test_a_changed_file_is_validated_again(folder, data):
    kpilab.load_dataset(data, engine="duckdb")
    sales = (data / "sales.csv").read_text(encoding="utf-8").splitlines()
    (data / "sales.csv").write_text("\n".join(sales[:-50]) + "\n", encoding="utf-8")
    changed = kpilab.load_dataset(data, engine="duckdb")
    assert changed.report.rows_read["sales"] == len(sales) - 51
    assert len(list(folder.glob("*.duckdb"))) == 2


def test_other_reading_options_are_another_entry(folder, data):
    kpilab.load_dataset(data, engine="duckdb")
    kpilab.load_dataset(data, engine="duckdb", grain="daily")
    assert len(list(folder.glob("*.duckdb"))) == 2


def test_a_damaged_entry_is_validated_again_and_rewritten(folder, data):
    first = kpilab.load_dataset(data, engine="duckdb")
    entry, = folder.glob("*.duckdb")
    entry.write_bytes(b"not a database")
    again = kpilab.load_dataset(data, engine="duckdb")
    assert again.report.rows_read == first.report.rows_read
    assert cache.load(entry.stem, "again") is not None


def test_only_the_newest_entries_are_kept(folder, data):
    for grain in ("auto", "daily", "monthly"):
        kpilab.load_dataset(data, engine="duckdb", grain=grain)
    for fmt in ("YYYY-MM-DD", "DD/MM/YYYY"):
        kpilab.load_dataset(data, engine="duckdb", date_formats={"sales": {"date": fmt}})
    assert len(list(folder.glob("*.duckdb"))) == cache.KEEP


def test_off_and_in_memory_engines_write_nothing(folder, data, monkeypatch):
    kpilab.load_dataset(data, engine="polars")
    assert not folder.exists()
    monkeypatch.setenv("KPILAB_CACHE", "off")
    kpilab.load_dataset(data, engine="duckdb")
    assert not folder.exists()
