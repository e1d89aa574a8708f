"""Prototype a metric as one SQL SELECT over the loaded tables, safely.

The SQL runs in DuckDB, in a fresh in-memory connection per run, with file and network access
disabled and the configuration locked (``enable_external_access = false``, then
``lock_configuration = true``), Python variable scans off, extensions neither installed nor
loaded, a memory limit, a row limit and a timeout (the query is interrupted after N seconds).
Only ONE statement is accepted and it must be a SELECT (or WITH … SELECT): DuckDB's own parser
says so (``extract_statements`` and the statement type), not a regular expression. The loaded
tables are registered as views under their contract names (sales, plans, skus …).

A metric's result has group or entity columns plus either ``value`` or — so that it can be
regrouped like the built-in definitions — ``numerator`` and ``denominator`` (value = Σnumerator
/ Σdenominator per group, empty when Σdenominator = 0).

>>> import pandas as pd
>>> r = run_sql("SELECT sku, sum(units) AS numerator, count(*) AS denominator FROM sales GROUP BY sku ORDER BY sku",
...             {"sales": pd.DataFrame({"sku": ["a", "a", "b"], "units": [1, 3, 5]})})
>>> r.frame.to_dict("list")
{'sku': ['a', 'b'], 'numerator': [4.0, 5.0], 'denominator': [2, 1]}
>>> run_sql("SELECT * FROM read_csv('/etc/passwd')", {}).ok
False
"""

from __future__ import annotations

import keyword
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

import narwhals.stable.v2 as nw
import pandas as pd

from kpilab import engines
from kpilab.kpis._common import ratio
from kpilab.registry import Definition, KpiError, L10n

MAX_SQL_CHARS = 20_000
DEFAULT_ROW_LIMIT = 10_000
DEFAULT_TIMEOUT = 10.0
MEMORY_LIMIT = "1GB"
VALUE_COLUMNS = ("value", "numerator", "denominator")

_LOCKDOWN = (
    "SET python_enable_replacements = false",
    f"SET memory_limit = '{MEMORY_LIMIT}'",
    "SET threads = 2",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)


class SqlRejected(KpiError):
    """The SQL is not one SELECT statement (or is empty, or too long)."""


@dataclass(frozen=True)
class SqlResult:
    """What a run gave: the rows (up to the limit) or a plain error message."""

    frame: pd.DataFrame | None
    error: str = ""
    truncated: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.frame is not None and not self.error


def _connect():
    import duckdb

    return duckdb.connect(":memory:")


def check_sql(sql: str, connection=None) -> str:
    """The single SELECT statement of ``sql``; anything else is a SqlRejected saying why."""
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise SqlRejected("write one SELECT statement (it is empty)")
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRejected(f"the SQL is longer than {MAX_SQL_CHARS:,} characters")
    con = connection or _connect()
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlRejected(f"the SQL does not parse: {_plain(exc)}") from None
    finally:
        if connection is None:
            con.close()
    statements = [s for s in statements if s.query.strip().rstrip(";").strip()]
    if len(statements) != 1:
        raise SqlRejected(f"only one statement is allowed (found {len(statements)})")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise SqlRejected(f"only SELECT (or WITH … SELECT) is allowed, not {name}")
    return statements[0].query


def _plain(exc: Exception) -> str:
    """DuckDB's message without the caret drawing, on one line."""
    text = str(exc).split("\n\nLINE")[0]
    return " ".join(text.split())


def _arrow(frame) -> Any:
    """A table of any engine as Arrow (the locked-down connection reads no files: a DuckDB or
    Spark table is collected into memory, so prototype on a sample of a very large dataset)."""
    return engines.collect(engines.lazy(frame)).to_arrow()


def _tables_of(source) -> Mapping[str, Any]:
    return source.tables if hasattr(source, "tables") else source


def run_sql(sql: str, tables, *, params: Mapping[str, Any] | None = None, row_limit: int = DEFAULT_ROW_LIMIT,
            timeout: float = DEFAULT_TIMEOUT) -> SqlResult:
    """Run one SELECT over ``tables`` (a Dataset or name → frame) in a locked-down DuckDB.

    Never raises for a problem of the SQL: the result carries a plain ``error`` instead.
    ``params`` fill ``$name`` placeholders. At most ``row_limit`` rows come back
    (``truncated`` says when there were more); the query is interrupted after ``timeout`` s.
    """
    start = time.perf_counter()
    con = _connect()
    try:
        try:
            query = check_sql(sql, con)
        except SqlRejected as exc:
            return SqlResult(None, str(exc), elapsed=time.perf_counter() - start)
        for name, frame in _tables_of(tables).items():
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                con.register(name, _arrow(frame))
        for setting in _LOCKDOWN:
            con.execute(setting)
        out: dict[str, Any] = {}

        def work():
            try:
                rel = con.sql(query, params=dict(params) if params else None)
                if rel is None:
                    out["error"] = "the statement returned no rows"
                    return
                out["table"] = rel.limit(int(row_limit) + 1).to_arrow_table()
            except Exception as exc:  # noqa: BLE001 - every SQL error is the user's to read
                out["error"] = _plain(exc)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            con.interrupt()
            worker.join(5)
            return SqlResult(None, f"the query ran longer than {timeout:g} s and was stopped",
                             elapsed=time.perf_counter() - start)
        if "error" in out:
            return SqlResult(None, out["error"], elapsed=time.perf_counter() - start)
        table = out["table"]
        truncated = table.num_rows > row_limit
        frame = _decimals_as_float(table.slice(0, row_limit)).to_pandas()
        return SqlResult(frame, "", truncated, time.perf_counter() - start)
    finally:
        try:
            con.close()
        except Exception:  # noqa: BLE001
            pass


def _decimals_as_float(table):
    """DuckDB's SUM of integers is a HUGEINT (an Arrow decimal): read it as float."""
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.float64()))
    return table


def run_on(dataset, sql: str, row_limit: int = DEFAULT_ROW_LIMIT, timeout: float = DEFAULT_TIMEOUT) -> SqlResult:
    """``run_sql`` with the dataset first (the shape the app's cache expects)."""
    return run_sql(sql, dataset, row_limit=row_limit, timeout=timeout)


# --------------------------------------------------------------------------- metric results


def metric_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """The group / entity columns of a metric result (everything but value, numerator,
    denominator)."""
    return tuple(c for c in frame.columns if c not in VALUE_COLUMNS)


def check_metric(frame: pd.DataFrame) -> None:
    """A metric result has ``value``, or ``numerator`` and ``denominator`` (numeric)."""
    cols = set(frame.columns)
    if not ({"numerator", "denominator"} <= cols or "value" in cols):
        raise KpiError("the result needs a column named value, or numerator and denominator "
                       f"(it has {', '.join(map(str, frame.columns)) or 'no columns'})")
    for c in VALUE_COLUMNS:
        if c in cols and not pd.api.types.is_numeric_dtype(frame[c]):
            raise KpiError(f"column {c} must be numeric (cast it in the SQL, e.g. CAST(x AS DOUBLE))")


def regroup(frame: pd.DataFrame, by=(), skus: pd.DataFrame | None = None) -> pd.DataFrame:
    """The metric per group of ``by``: Σnumerator / Σdenominator when the result has them;
    with only ``value`` the result must already be one row per ``by`` group.

    A ``by`` column the result lacks is looked up in ``skus`` through a ``sku`` column.

    >>> f = pd.DataFrame({"sku": ["a", "b", "c"], "numerator": [1.0, 2.0, 3.0], "denominator": [2.0, 2.0, 0.0]})
    >>> regroup(f, ["category"], pd.DataFrame({"sku": ["a", "b", "c"], "category": ["x", "x", "y"]}))
      category  value  numerator  denominator
    0        x   0.75        3.0          4.0
    1        y    NaN        3.0          0.0
    """
    check_metric(frame)
    by = list(dict.fromkeys(by))
    work = frame
    missing = [c for c in by if c not in work.columns]
    if missing:
        if skus is None or "sku" not in work.columns or any(c not in skus.columns for c in missing):
            raise KpiError(f"the result has no column {', '.join(missing)}"
                           + ("" if "sku" in work.columns else " (return a sku column to group by SKU attributes)"))
        work = work.merge(skus[["sku", *missing]].drop_duplicates("sku"), on="sku", how="left")
    if {"numerator", "denominator"} <= set(work.columns):
        sums = (work.groupby(by, dropna=False, sort=True)[["numerator", "denominator"]].sum().reset_index()
                if by else work[["numerator", "denominator"]].sum().to_frame().T)
        den = sums["denominator"].astype(float)
        sums.insert(len(by), "value", (sums["numerator"].astype(float) / den.where(den != 0)).astype(float))
        return sums.reset_index(drop=True)
    others = [c for c in metric_columns(work) if c not in by]
    if others or (by and work.duplicated(by).any()) or (not by and len(work) != 1):
        raise KpiError("the result has value only, so it cannot be regrouped: return numerator and "
                       "denominator per entity (the value is then Σnumerator / Σdenominator of each group)")
    return work[[*by, "value"]].sort_values(by, ignore_index=True) if by else work[["value"]].reset_index(drop=True)


# --------------------------------------------------------------------------- as a definition


def _check_id(definition_id: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", definition_id or "") or keyword.iskeyword(definition_id):
        raise KpiError(f"definition id {definition_id!r}: use lower-case letters, digits and _")


def sql_definition(definition_id: str, sql: str, *, name: L10n | str, formula: str = "Σ numerator / Σ denominator",
                   says: L10n | str = "", prefer_when: L10n | str = "", params: tuple[str, ...] = (),
                   timeout: float = 60.0, row_limit: int = 5_000_000) -> Definition:
    """A Definition whose per-entity detail is the result of ``sql`` (run in the sandbox).

    The SQL returns one row per entity with the grouping columns it can provide (``month``
    'YYYY-MM', ``sku`` so that SKU attributes can group it, the KPI's own dimensions) and the
    additive ``numerator`` and ``denominator``; value = Σnumerator / Σdenominator per group.
    ``params`` names KPI parameters the SQL reads as ``$name``.
    """
    _check_id(definition_id)
    check_sql(sql)
    as_l10n = lambda t: t if isinstance(t, L10n) else L10n(str(t), str(t))  # noqa: E731

    def stats(ctx, p, by):
        values = {k: (",".join(v) if isinstance(v, tuple) else v) for k, v in p.items() if k in params}
        result = run_sql(sql, ctx.dataset, params=values or None, row_limit=row_limit, timeout=timeout)
        if not result.ok:
            raise KpiError(f"{definition_id}: {result.error}")
        if result.truncated:
            raise KpiError(f"{definition_id}: the SQL returned more than {row_limit:,} rows")
        frame = result.frame
        if not {"numerator", "denominator"} <= set(frame.columns):
            raise KpiError(f"{definition_id}: the SQL must return numerator and denominator columns")
        check_metric(frame)
        lacking = [c for c in by if c not in frame.columns]
        if lacking and "sku" not in frame.columns:
            raise KpiError(f"{definition_id} cannot be grouped by {', '.join(lacking)}: the SQL returns no such "
                           "column (nor sku)")
        frame = frame.assign(numerator=frame["numerator"].astype(float),
                             denominator=frame["denominator"].astype(float))
        return nw.from_native(frame).lazy()      # small (row-limited): pooled in pandas

    def finish(sums):
        return sums.with_columns(value=ratio("numerator", "denominator"))

    return Definition(definition_id, as_l10n(name), formula, as_l10n(says), as_l10n(prefer_when), stats=stats,
                      finish=finish, sums=("numerator", "denominator"), helpers=("numerator", "denominator"),
                      params=tuple(params))


def python_stub(sql: str, kpi_id: str, definition_id: str, name: str = "", name_zh: str = "") -> str:
    """Python text that registers the SQL as a new definition of ``kpi_id`` and compares it with
    the built-ins (the 'export as code' of the Lab)."""
    _check_id(definition_id)
    name = name or definition_id
    return f'''"""Prototype metric {definition_id!r} as a definition of {kpi_id!r} (exported from the KPI Lab).

Run it (python this_file.py, or paste it into a notebook): the definition is added to
kpilab.REGISTRY for this Python process. To make it permanent, move it into the family module
lib/kpilab/kpis/<family>.py with tests (notebooks/06-add-a-new-definition.ipynb shows the way).
"""

from kpilab import compare, load_sample
from kpilab.lab import register_definition
from kpilab.registry import L10n
from kpilab.sandbox import sql_definition

SQL = {sql.strip()!r}

DEFINITION = sql_definition(
    {definition_id!r}, SQL,
    name=L10n({name!r}, {(name_zh or name)!r}),
    formula="Σ numerator / Σ denominator",
    says=L10n("Prototype written in SQL.", "用 SQL 写的原型指标。"),
    prefer_when=L10n("Describe when to prefer it.", "说明何时优先使用。"),
)
register_definition({kpi_id!r}, DEFINITION, replace=True)

if __name__ == "__main__":
    result = compare(load_sample(), {kpi_id!r}, by=["month"])
    print(result.wide())
'''


def regroup_on(dataset, frame: pd.DataFrame, by=()) -> pd.DataFrame:
    """``regroup`` with the dataset's SKU master (abc_class derived where blank) for SKU columns."""
    from kpilab.classification import CLASS_PARAMS
    from kpilab.engine import Context

    skus = None
    if "skus" in dataset.tables:
        ctx = Context(dataset, {p.name: p.default for p in CLASS_PARAMS})
        skus = engines.to_pandas(ctx.skus)
    return regroup(frame, by, skus)
