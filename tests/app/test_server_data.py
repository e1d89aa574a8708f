"""A dataset too big to upload, opened on the server from a Parquet folder (DuckDB, in place), only
under the allowed roots (issue 10)."""

import pytest

from kpilab.simulate import generate
from tests.app.conftest import assert_clean, open_page


@pytest.fixture(scope="module")
def parquet_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    generate(root / "small", fmt="parquet", skus=12, warehouses=2, days=120, seed=4)
    return root


def _open(path: str, monkeypatch, roots: str, lang: str = "en"):
    monkeypatch.setenv("KPILAB_DATA_ROOTS", roots)
    at = open_page("views/data.py", lang=lang)
    at.text_input(key="data_server_path").set_value(path).run()
    return at


def test_a_parquet_folder_opens_on_duckdb_and_becomes_the_dataset(parquet_root, monkeypatch):
    at = _open(str(parquet_root / "small"), monkeypatch, str(parquet_root))
    assert_clean(at)
    assert any("Engine: duckdb" in c.value for c in at.caption)
    at.button(key="data_server_use").click().run()
    assert_clean(at)
    at.switch_page("views/planning.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["data"] != "sample"         # the session now uses the server dataset
    assert at.get("vega_lite_chart"), "the planning page draws its charts from the DuckDB dataset"


def test_a_path_outside_the_roots_is_refused_with_the_fix(parquet_root, tmp_path, monkeypatch):
    at = _open(str(tmp_path), monkeypatch, str(parquet_root / "small"), lang="zh")
    assert not at.exception
    assert any("不在允许的目录内" in e.value for e in at.error)


def test_no_roots_configured_says_who_sets_them(parquet_root, monkeypatch):
    at = _open(str(parquet_root / "small"), monkeypatch, "")
    assert any("KPILAB_DATA_ROOTS" in e.value for e in at.error)
