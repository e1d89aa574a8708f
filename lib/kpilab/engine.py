"""compute() and compare(): check the request against the registry, build the per-entity detail,
pool it into the result table.

Pooling is shared by every KPI: the detail is grouped by the requested columns (joining the
SKU master — with derived abc_class — when a grouping column comes from ``skus``), its additive
columns are summed, and the definition's ``finish`` turns the sums into ``value`` and helpers.
So "pooled" always means Σnumerator / Σdenominator over the group, never a mean of ratios.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

import narwhals.stable.v2 as nw
import numpy as np

from kpilab import engines
from kpilab.classification import derive_abc
from kpilab.registry import Definition, Kpi, KpiError, Note

_SHARED: OrderedDict = OrderedDict()
_SHARED_LOCK = threading.Lock()    # Streamlit serves sessions from several threads
_SHARED_SIZE = 32               # entries
_SHARED_BYTES = 1 << 30         # and at most this much frame and array memory


def clear_shared() -> None:
    """Empty the cross-request cache (benchmarks time cold computations with it)."""
    with _SHARED_LOCK:
        _SHARED.clear()


def _nbytes(value, depth: int = 0) -> int:
    """Approximate memory of a cached value: frames and arrays, also inside tuples, dicts and plain
    objects (two levels deep; anything else counts as 0)."""
    if isinstance(value, nw.DataFrame):
        return int(value.estimated_size())
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if depth >= 2:
        return 0
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v, depth + 1) for v in value.values())
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return sum(_nbytes(v, depth + 1) for v in vars(value).values())
    return 0


class Context:
    """The tables of one dataset as narwhals LazyFrames on its engine, plus things derived once
    per request (``cached``) or once per dataset (``shared``)."""

    def __init__(self, dataset, params: dict[str, Any]):
        self.dataset = dataset
        self.params = params
        self.notes: list[str] = []
        self._memo: dict[tuple, Any] = {}
        self._frames = {name: engines.lazy(t) for name, t in dataset.tables.items()}

    @property
    def engine(self) -> str:
        return self.dataset.engine

    def has(self, table: str) -> bool:
        return table in self._frames

    def table(self, name: str) -> nw.LazyFrame:
        if name not in self._frames:
            raise KpiError(f"this dataset has no usable '{name}' table")
        return self._use(self._frames[name])

    @property
    def skus(self) -> nw.LazyFrame:
        """The SKU master with abc_class filled (derived from sales GMV where blank)."""
        return self._use(self._skus)

    @cached_property
    def _skus(self) -> nw.LazyFrame:
        p = self.params
        return self.shared(("skus_abc", p["a"], p["b"], p["c"], p["window_days"]), lambda: derive_abc(
            self._frames["skus"], self._frames.get("sales"), a=p["a"], b=p["b"], c=p["c"],
            window_days=p["window_days"]))

    def filter_classes(self, frame: nw.LazyFrame) -> nw.LazyFrame:
        """Keep rows whose sku has abc_class in the ``classes`` parameter (all when empty)."""
        classes = self.params.get("classes")
        if not classes:
            return frame
        wanted = [c.upper() for c in classes]
        keep = self.skus.filter(nw.col("abc_class").is_in(wanted)).select("sku")
        return frame.join(keep, on="sku", how="inner")

    def note(self, text: str, zh: str | None = None) -> None:
        """Record a note for the user, in English and (when given) Chinese."""
        note = Note(text, zh)
        if note not in self.notes:
            self.notes.append(note)

    def shared(self, key: tuple, build):
        """Like ``cached``, and also kept across requests on the same data: a bounded LRU keyed on
        the dataset's content fingerprint and engine, so a page's many calls (ungrouped, by
        month, sweeps) build a heavy universe once. A lazy frame is computed once and kept on
        its engine (``engines.materialize``); cached values are never modified in place."""
        def across_requests():
            full = (self.dataset.fingerprint, self.backend, *key)
            with _SHARED_LOCK:
                hit = _SHARED.get(full)
                if hit is not None:
                    _SHARED.move_to_end(full)
            if hit is None:             # built outside the lock: sessions compute in parallel
                before = len(self.notes)
                hit = (_keep(build()), self.notes[before:])
                with _SHARED_LOCK:
                    _SHARED[full] = hit
                    while len(_SHARED) > 1 and (len(_SHARED) > _SHARED_SIZE or
                                                sum(_nbytes(v) for v, _ in _SHARED.values()) > _SHARED_BYTES):
                        _SHARED.popitem(last=False)
            value, notes = hit
            for text in notes:
                self.note(text)
            return self._use(value)
        return self._memoize(key, across_requests)

    @property
    def backend(self) -> str:
        """The engine, and for DuckDB the dataset's connection (its temporary tables live there)."""
        return self.engine if self.engine in engines.IN_MEMORY else f"{self.engine}-{id(self.dataset)}"

    def cached(self, key: tuple, build):
        """Build a value once per request (shared by the definitions of a comparison; a lazy
        frame is computed once, on its engine); the notes written while building it are
        repeated on every later use."""
        return self._memoize(key, lambda: _keep(build()))

    def _memoize(self, key: tuple, build):
        if key not in self._memo:
            before = len(self.notes)
            value = build()
            self._memo[key] = (value, self.notes[before:])
        value, notes = self._memo[key]
        for text in notes:
            self.note(text)
        return self._use(value)

    @staticmethod
    def _use(value):
        """A kept frame as the families read it: lazy."""
        return value.lazy() if isinstance(value, nw.DataFrame) else value

    def keep(self, frame: nw.LazyFrame) -> nw.LazyFrame:
        """A frame computed now and kept on its engine, for a build that still reads it (counts
        for notes) before returning it: the counts then read the kept result instead of
        recomputing the frame (``shared`` and ``cached`` do not copy it again)."""
        return self._use(_keep(frame))

    def count(self, frame: nw.LazyFrame) -> int:
        """Rows of a frame, counted on the engine (for notes)."""
        return engines.count(frame)

    def scalar(self, frame: nw.LazyFrame, expr: nw.Expr) -> Any:
        """One value computed on the engine (a sum for a note, the last date of a table)."""
        return engines.scalar(frame, expr)


def _keep(value):
    """What the cross-request cache holds: in-memory frames collected (so their size is known),
    DuckDB and Spark frames on their engine (temporary table, checkpoint), anything else as it is."""
    if isinstance(value, nw.LazyFrame):
        return engines.materialize(value) if engines.on_engine(value) else value.collect()
    return value


@dataclass(frozen=True)
class KpiResult:
    """A KPI under one definition: the pooled ``table`` (pandas) and the per-entity ``detail``.

    The detail stays on the dataset's engine (``detail_frame``, lazy) and is brought into pandas
    only when read (``detail``), so a result on a large DuckDB dataset costs only its pooled
    table. A result pickles (Streamlit's cache stores it): pickling collects the detail.
    """

    kpi_id: str
    definition_id: str
    params: dict[str, Any]
    by: tuple[str, ...]
    table: Any
    detail_frame: Any = field(repr=False, compare=False)
    notes: tuple[str, ...] = ()

    @property
    def kpi(self) -> Kpi:
        from kpilab.kpis import get_kpi

        return get_kpi(self.kpi_id)

    @property
    def definition(self) -> Definition:
        return self.kpi.definition(self.definition_id)

    @cached_property
    def detail(self):
        """The per-entity detail as a pandas frame (collected from the engine on first read)."""
        frame = self.detail_frame
        return frame if _is_pandas(frame) else engines.to_pandas(frame)

    def lazy_detail(self) -> nw.LazyFrame:
        """The per-entity detail as a LazyFrame on its engine (for pooling it another way)."""
        frame = self.detail_frame
        return engines.lazy(frame) if _is_pandas(frame) else frame

    @property
    def value(self) -> float:
        """The single value of an ungrouped result."""
        if self.by or len(self.table) != 1:
            raise KpiError("value is only defined for an ungrouped result; read .table")
        return self.table["value"].iloc[0]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["detail_frame"] = self.detail
        state.pop("detail", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)


def _is_pandas(frame) -> bool:
    return type(frame).__module__.startswith("pandas")


@dataclass(frozen=True)
class Comparison:
    """The same KPI under several definitions, on the same data, parameters and grouping."""

    kpi_id: str
    results: dict[str, KpiResult] = field(default_factory=dict)

    @property
    def kpi(self) -> Kpi:
        from kpilab.kpis import get_kpi

        return get_kpi(self.kpi_id)

    def wide(self):
        """One row per group, one value column per definition (pandas)."""
        import pandas as pd

        tables = [(d, r.table, r.by) for d, r in self.results.items()]
        by = list(tables[0][2]) if tables else []
        if not by:
            return pd.DataFrame({d: t["value"].to_numpy() for d, t, _ in tables})
        wide = pd.concat([t[by] for _, t, _ in tables]).drop_duplicates()
        for definition, table, _ in tables:
            wide = wide.merge(table[[*by, "value"]].rename(columns={"value": definition}), on=by, how="left")
        return wide.sort_values(by).reset_index(drop=True)

    def per_entity(self, dataset, keys: Iterable[str]):
        """Each definition pooled per entity (e.g. per sku): one value column per definition,
        plus ``spread`` = max − min across definitions — where the definitions disagree most."""
        keys = tuple(keys)
        any_result = next(iter(self.results.values()))
        ctx = Context(dataset, any_result.params)
        frames = []
        with engines.using(dataset):
            for definition_id, result in self.results.items():
                pooled = pool(ctx, result.lazy_detail(), keys, self.kpi.definition(definition_id))
                frames.append(engines.collect(pooled.select(*keys, nw.col("value").alias(definition_id))))
        wide = nw.concat([f.select(*keys) for f in frames]).unique()
        for frame in frames:
            wide = wide.join(frame, on=list(keys), how="left")
        ids = list(self.results)
        out = wide.with_columns(spread=nw.max_horizontal(*ids) - nw.min_horizontal(*ids)).sort(
            "spread", descending=True, nulls_last=True)
        return out.to_pandas().reset_index(drop=True)


DAILY_SALES = "daily sales rows (this dataset's sales are monthly totals)"


def grouping_columns(kpi: Kpi, dataset) -> tuple[str, ...]:
    """The columns a KPI can be grouped by on this dataset."""
    cols = ["month", *kpi.dims]
    if kpi.sku_grouping and "skus" in dataset.tables:
        sku_cols = engines.lazy(dataset.tables["skus"]).collect_schema().names()
        cols += [c for c in ["sku", *sku_cols, "abc_class"] if c not in cols]
    return tuple(dict.fromkeys(cols))


def missing_inputs(kpi: Kpi, dataset) -> list[str]:
    """What the dataset lacks for this KPI: tables, required columns without any data, or daily
    sales rows when every definition needs them and the sales are monthly totals."""
    missing = [t for t in kpi.tables if t not in dataset.tables]
    if kpi.needs_daily_sales and "sales" in dataset.tables and dataset.grain == "monthly":
        missing.append(DAILY_SALES)
    for spec in kpi.required_columns:
        table, column = spec.split(".")
        if table in dataset.tables:
            frame = engines.lazy(dataset.tables[table])
            if column not in frame.collect_schema().names() or not engines.scalar(
                    frame, nw.col(column).is_null().__invert__().any()):
                missing.append(spec)
    return missing


def coverage(dataset, lang: str = "en"):
    """Which KPIs this dataset can feed: one row per KPI with what is missing (pandas)."""
    import pandas as pd

    from kpilab.kpis import REGISTRY

    rows = [{"kpi": k.id, "family": k.family, "name": k.name(lang), "ok": not (m := missing_inputs(k, dataset)),
             "missing": ", ".join(m)} for k in REGISTRY.values()]
    return pd.DataFrame(rows)


def compute(dataset, kpi: str | Kpi, definition: str, by: Iterable[str] = (), **params) -> KpiResult:
    """Compute one KPI definition on a dataset, pooled per group of ``by``.

    Parameters are checked against the registry (unknown names, bad values and unknown
    grouping columns are errors that list the valid ones) before any work starts.
    """
    from kpilab.kpis import get_kpi

    kpi = get_kpi(kpi) if isinstance(kpi, str) else kpi
    chosen = kpi.definition(definition)
    values = kpi.resolve_params(params)
    return compute_in(Context(dataset, values), kpi, chosen, check_grouping(kpi, dataset, by))


def compare(dataset, kpi: str | Kpi, definitions: Iterable[str] | None = None, by: Iterable[str] = (),
            **params) -> Comparison:
    """Compute several definitions of one KPI with the same parameters and grouping."""
    from kpilab.kpis import get_kpi

    kpi = get_kpi(kpi) if isinstance(kpi, str) else kpi
    chosen = [kpi.definition(d) for d in (definitions or [d.id for d in kpi.definitions])]
    values = kpi.resolve_params(params)
    by = check_grouping(kpi, dataset, by)
    ctx = Context(dataset, values)
    return Comparison(kpi.id, {d.id: compute_in(ctx, kpi, d, by) for d in chosen})


def check_grouping(kpi: Kpi, dataset, by: Iterable[str]) -> tuple[str, ...]:
    """``by`` without repeats; a column the KPI cannot be grouped by is an error listing the valid ones."""
    by = tuple(dict.fromkeys(by))
    valid = grouping_columns(kpi, dataset)
    bad = [c for c in by if c not in valid]
    if bad:
        raise KpiError(f"{kpi.id} cannot be grouped by {', '.join(bad)}; valid: {', '.join(valid)}")
    return by


def compute_in(ctx: Context, kpi: Kpi, definition: Definition, by: tuple[str, ...]) -> KpiResult:
    """One definition in an existing Context (so several calls share its cached universes).

    The detail is computed once on the engine (kept there), pooled there, and only the pooled
    table comes back to pandas."""
    missing = missing_inputs(kpi, ctx.dataset)
    if missing:
        raise KpiError(f"{kpi.id} needs {', '.join(missing)}, which this dataset does not have")
    if definition.daily_sales and ctx.dataset.grain == "monthly":
        raise KpiError(f"{kpi.id} / {definition.id} needs {DAILY_SALES}, which this dataset does not have")
    ctx.notes = []
    with engines.using(ctx.dataset):
        detail = _keep_detail(engines.as_lazy(definition.stats(ctx, ctx.params, by)))
        table = engines.to_pandas(pool(ctx, detail, by, definition))
    return KpiResult(kpi.id, definition.id, dict(ctx.params), by, table, detail, tuple(ctx.notes))


def _keep_detail(detail: nw.LazyFrame):
    """The detail computed once: a pandas frame for in-memory engines, on the engine for DuckDB and Spark."""
    return engines.to_pandas(detail) if detail.implementation.is_pandas() else engines.materialize(detail)


def pool(ctx: Context, detail, by: tuple[str, ...], definition: Definition) -> nw.LazyFrame:
    """Σ of the definition's additive columns per group of ``by`` (or its own ``pooler`` for a
    percentile or a growth rate), then its ``finish`` — lazily, on the detail's engine."""
    frame = detail if isinstance(detail, (nw.LazyFrame, nw.DataFrame)) else engines.lazy(detail)
    frame = engines.as_lazy(frame)
    from_skus = [c for c in by if c not in frame.collect_schema().names()]
    if from_skus:
        skus = engines.onto(engines.as_lazy(ctx.skus).select("sku", *from_skus), frame)
        frame = frame.join(skus, on="sku", how="left")
    if definition.pooler is not None:
        pooled = definition.pooler(frame, list(by))
        pooled = pooled.sort(list(by)) if by else pooled
    else:
        sums = [nw.col(s).sum() for s in definition.sums]
        pooled = frame.group_by(list(by)).agg(*sums).sort(list(by)) if by else frame.select(*sums)
    return definition.finish(pooled).select(*by, "value", *definition.helpers)
