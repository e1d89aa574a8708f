"""The SQL sandbox: one SELECT only (DuckDB's own parser decides), no file or network access, no
Python variables, a row limit and a timeout; metric results regrouped; a SQL definition
registered on a KPI and exported as a Python stub."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pytest

import kpilab
from kpilab import KpiError, lab, sandbox
from kpilab.kpis import REGISTRY
from kpilab.registry import L10n
from tests.test_lab import planning_ds

SALES = pd.DataFrame({"sku": ["a", "a", "b"], "units": [1, 3, 5], "month": ["2024-01", "2024-02", "2024-01"]})


# ----------------------------------------------------------------------------- what is accepted


@pytest.mark.parametrize("sql", [
    "SELECT 1",
    "select sku, sum(units) from sales group by sku;",
    "WITH s AS (SELECT * FROM sales) SELECT count(*) FROM s",
    "FROM sales SELECT sku",
    "  -- a comment\nSELECT 1 AS x  ",
    "SELECT 1 UNION ALL SELECT 2",
])
def test_one_select_is_accepted(sql):
    assert sandbox.check_sql(sql)
    assert sandbox.run_sql(sql, {"sales": SALES}).ok


@pytest.mark.parametrize("sql, why", [
    ("COPY sales TO '/tmp/x.csv'", "COPY"),
    ("COPY (SELECT 1) TO '/tmp/x.csv' (FORMAT csv)", "COPY"),
    ("ATTACH '/tmp/x.duckdb' AS x", "ATTACH"),
    ("INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("RESET lock_configuration", "SET"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("CREATE MACRO m() AS 1", "CREATE"),
    ("INSERT INTO sales VALUES ('c', 1, '2024-01')", "INSERT"),
    ("DROP VIEW sales", "DROP"),
    ("PRAGMA database_list", "PRAGMA"),
    ("EXPLAIN SELECT 1", "EXPLAIN"),
    ("CALL pragma_version()", "CALL"),
    ("EXPORT DATABASE '/tmp/x'", "EXPORT"),
    ("SELECT 1; SELECT 2", "one statement"),
    ("SELECT 1; DROP VIEW sales", "one statement"),
    ("SELECT 1; COPY sales TO '/tmp/y.csv'", "one statement"),
    ("", "empty"),
    ("SELEC 1", "does not parse"),
])
def test_everything_else_is_rejected_by_the_parser(sql, why, tmp_path):
    with pytest.raises(sandbox.SqlRejected, match=why):
        sandbox.check_sql(sql)
    result = sandbox.run_sql(sql, {"sales": SALES})
    assert not result.ok and why in result.error and result.frame is None


def test_overlong_sql_is_rejected():
    with pytest.raises(sandbox.SqlRejected, match="longer"):
        sandbox.check_sql("SELECT 1 " + " " * sandbox.MAX_SQL_CHARS)


def test_nothing_is_written(tmp_path):
    target = tmp_path / "out.csv"
    sandbox.run_sql(f"COPY (SELECT 1) TO '{target}'", {})
    sandbox.run_sql(f"SELECT * FROM (SELECT 1) t; COPY (SELECT 1) TO '{target}'", {})
    assert not target.exists()


# ----------------------------------------------------------------------------- file and network access


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/hostname')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('/tmp/*.parquet')",
    "SELECT * FROM read_json('/etc/passwd')",
])
def test_file_access_is_refused(sql):
    result = sandbox.run_sql(sql, {})
    assert not result.ok and "root:" not in result.error
    error = result.error.lower()
    assert "disabled" in error or "permission" in error or "does not exist" in error, result.error


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "SELECT * FROM 'https://127.0.0.1:9/data.parquet'",
    "SELECT * FROM read_json('s3://bucket/x.json')",
])
def test_network_access_is_refused(sql):
    result = sandbox.run_sql(sql, {})
    assert not result.ok
    assert "disabled" in result.error.lower() or "permission" in result.error.lower(), result.error


def test_configuration_is_locked_and_python_variables_are_invisible():
    secret = pd.DataFrame({"password": ["hunter2"]})  # noqa: F841 - a frame in the caller's scope
    result = sandbox.run_sql("SELECT * FROM secret", {})
    assert not result.ok and "hunter2" not in result.error
    settings = sandbox.run_sql("SELECT current_setting('enable_external_access') AS ext, "
                               "current_setting('lock_configuration') AS locked", {})
    assert settings.frame.to_dict("records") == [{"ext": False, "locked": True}]
    # the lockdown order matters: external access off first, then the lock
    steps = [s.split("=")[0].split()[-1] for s in sandbox._LOCKDOWN]
    assert steps.index("enable_external_access") < steps.index("lock_configuration") == len(steps) - 1


def test_a_fresh_connection_per_run():
    sandbox.run_sql("SELECT setseed(0.5)", {})
    assert not sandbox.run_sql("SELECT * FROM sales", {}).ok        # no table left over from another run


# ----------------------------------------------------------------------------- limits, errors, params


def test_row_limit():
    result = sandbox.run_sql("SELECT * FROM range(100)", {}, row_limit=10)
    assert result.ok and len(result.frame) == 10 and result.truncated
    exact = sandbox.run_sql("SELECT * FROM range(10)", {}, row_limit=10)
    assert len(exact.frame) == 10 and not exact.truncated


def test_timeout_interrupts_a_long_query():
    sql = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE (a.range * b.range) % 7 = 3"
    result = sandbox.run_sql(sql, {}, timeout=0.5)
    assert not result.ok and "longer than 0.5 s" in result.error
    assert result.elapsed < 8


def test_errors_are_plain():
    result = sandbox.run_sql("SELECT nope FROM sales", {"sales": SALES})
    assert not result.ok and "nope" in result.error and "\n" not in result.error and "LINE" not in result.error
    assert "does not exist" in sandbox.run_sql("SELECT * FROM nothing_here", {}).error


def test_tables_params_and_types(backend):
    tables = {"sales": SALES if backend == "pandas" else pl.from_pandas(SALES)}
    result = sandbox.run_sql("SELECT sku, sum(units) AS n FROM sales WHERE units > $min GROUP BY sku ORDER BY sku",
                             tables, params={"min": 2})
    assert result.frame.to_dict("list") == {"sku": ["a", "b"], "n": [3.0, 5.0]}     # HUGEINT sums read as float
    ds = planning_ds([("2024-01", "a", "x", 50, 100)], backend)
    assert sandbox.run_sql("SELECT count(*) AS n FROM plans", ds).frame["n"].tolist() == [1]


# ----------------------------------------------------------------------------- metric results


def test_regroup_pools_numerator_and_denominator():
    f = pd.DataFrame({"month": ["m1", "m1", "m2"], "sku": ["a", "b", "a"], "numerator": [1.0, 3.0, 0.0],
                      "denominator": [2.0, 2.0, 0.0]})
    by_month = sandbox.regroup(f, ["month"]).set_index("month")
    assert by_month.loc["m1", "value"] == pytest.approx(1.0)        # (1+3)/(2+2)
    assert math.isnan(by_month.loc["m2", "value"])                   # 0/0 is empty, not 0
    assert sandbox.regroup(f).iloc[0]["value"] == pytest.approx(4 / 4)
    skus = pd.DataFrame({"sku": ["a", "b"], "category": ["x", "y"]})
    by_cat = sandbox.regroup(f, ["category"], skus).set_index("category")
    assert by_cat.loc["x", "value"] == pytest.approx(0.5) and by_cat.loc["y", "value"] == pytest.approx(1.5)


def test_regroup_value_only():
    f = pd.DataFrame({"month": ["m2", "m1"], "value": [0.2, 0.1]})
    assert sandbox.regroup(f, ["month"])["value"].tolist() == [0.1, 0.2]
    with pytest.raises(KpiError, match="numerator and denominator"):
        sandbox.regroup(pd.DataFrame({"month": ["m1"], "sku": ["a"], "value": [1.0]}), ["month"])
    with pytest.raises(KpiError, match="value, or numerator"):
        sandbox.regroup(pd.DataFrame({"month": ["m1"], "x": [1.0]}), ["month"])
    with pytest.raises(KpiError, match="numeric"):
        sandbox.regroup(pd.DataFrame({"value": ["1"]}))
    with pytest.raises(KpiError, match="no column category"):
        sandbox.regroup(pd.DataFrame({"month": ["m1"], "value": [1.0]}), ["category"])


# ----------------------------------------------------------------------------- as a definition


WAPE_SQL = """
WITH actual AS (
  SELECT sku, strftime(date, '%Y-%m') AS month, sum(units) AS a FROM sales GROUP BY ALL
), planned AS (
  SELECT sku, month, units AS p FROM plans
  WHERE source = 'plan' AND (CAST(left(month, 4) AS INT) * 12 + CAST(right(month, 2) AS INT))
      - (CAST(left(version_month, 4) AS INT) * 12 + CAST(right(version_month, 2) AS INT)) = $lag
)
SELECT coalesce(p.sku, a.sku) AS sku, coalesce(p.month, a.month) AS month,
       coalesce(a.a, 0) - abs(coalesce(p.p, 0) - coalesce(a.a, 0)) AS numerator,
       coalesce(a.a, 0) AS denominator
FROM planned p FULL JOIN actual a ON p.sku = a.sku AND p.month = a.month
WHERE p.sku IS NOT NULL OR a.a > 0
"""


@pytest.fixture
def restore_registry():
    saved = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(saved)


def test_sql_definition_matches_the_built_in(restore_registry, backend):
    """1 − WAPE written in SQL (numerator A − |P−A|, denominator A) gives the library's numbers."""
    rows = [(m, s, c, p, a) for m, s, c, p, a in (
        ("2024-01", "a", "x", 50, 100), ("2024-01", "b", "y", 100, 50), ("2024-02", "a", "x", 80, 100),
        ("2024-02", "b", "y", 0, 30))]
    ds = planning_ds(rows, backend)
    definition = sandbox.sql_definition("wape_sql", WAPE_SQL, name=L10n("1-WAPE in SQL", "SQL 版 1-WAPE"),
                                        params=("lag",))
    lab.register_definition("plan_accuracy", definition)
    for by in ((), ("month",), ("category",), ("month", "category")):
        mine = kpilab.compute(ds, "plan_accuracy", "wape_sql", by=by).table
        theirs = kpilab.compute(ds, "plan_accuracy", "wape", by=by).table
        mine = pl.from_pandas(mine) if isinstance(mine, pd.DataFrame) else mine
        theirs = pl.from_pandas(theirs) if isinstance(theirs, pd.DataFrame) else theirs
        assert mine["value"].to_list() == pytest.approx(theirs["value"].to_list()), by
    # Jan: 1 − (50+50)/150 = 1/3
    assert kpilab.compute(ds, "plan_accuracy", "wape_sql", by=["month"]).table["value"][0] == pytest.approx(1 / 3)


def test_sql_definition_errors_are_kpi_errors(restore_registry):
    ds = planning_ds([("2024-01", "a", "x", 50, 100)])
    lab.register_definition("plan_accuracy", sandbox.sql_definition(
        "only_value", "SELECT 0.5 AS value", name="only value"))
    with pytest.raises(KpiError, match="numerator and denominator"):
        kpilab.compute(ds, "plan_accuracy", "only_value")
    lab.register_definition("plan_accuracy", sandbox.sql_definition(
        "no_month", "SELECT 1.0 AS numerator, 2.0 AS denominator", name="x"))
    assert kpilab.compute(ds, "plan_accuracy", "no_month").value == pytest.approx(0.5)
    with pytest.raises(KpiError, match="cannot be grouped by month"):
        kpilab.compute(ds, "plan_accuracy", "no_month", by=["month"])
    with pytest.raises(KpiError):
        sandbox.sql_definition("Bad Id", "SELECT 1", name="x")
    with pytest.raises(sandbox.SqlRejected):
        sandbox.sql_definition("bad_sql", "DROP VIEW sales", name="x")


def test_python_stub_registers_the_definition(restore_registry):
    stub = sandbox.python_stub(WAPE_SQL.replace("$lag", "1"), "plan_accuracy", "wape_sql", "1-WAPE in SQL", "SQL 版")
    code = compile(stub, "wape_sql.py", "exec")
    namespace = {"__name__": "stub"}                                 # not __main__: no sample computation
    exec(code, namespace)
    assert "wape_sql" in [d.id for d in REGISTRY["plan_accuracy"].definitions]
    ds = planning_ds([("2024-01", "a", "x", 50, 100), ("2024-01", "b", "y", 100, 50)])
    assert kpilab.compute(ds, "plan_accuracy", "wape_sql").value == pytest.approx(1 / 3)
    assert "'''" not in stub.split("SQL = ")[0]
    tricky = sandbox.python_stub('SELECT \'"""\' AS x, 1.0 AS numerator, 1.0 AS denominator', "plan_accuracy",
                                 "tricky", 'name with """ quotes')
    compile(tricky, "tricky.py", "exec")
