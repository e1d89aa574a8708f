"""The KPI registry: every KPI, definition and parameter declared once.

Pages, the command line, notebooks, the Definition Lab and the docs read these records; nothing
else repeats a KPI's name, formula, parameters or reference levels. A family module
(``kpilab.kpis.<family>``) declares its ``KPIS`` tuple; ``kpilab.kpis`` collects them into
``REGISTRY``.

Computation is two-stage (after torchmetrics' sufficient statistics): a definition's ``stats``
returns one row per entity with additive columns, and ``finish`` turns the pooled sums of a
group into ``value`` and the helper columns. Any regrouping of the detail stays correct.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

Direction = Literal["higher", "lower", "target"]
Unit = Literal["share", "ratio", "days", "money", "units", "count"]


class KpiError(ValueError):
    """A request the library cannot serve: unknown id, bad parameter, missing table."""


@dataclass(frozen=True)
class L10n:
    """A text in English and Chinese."""

    en: str
    zh: str

    def __call__(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


class Note(str):
    """A note for the user (rows left out, zero weights …): reads as its English text, and carries
    the Chinese one in ``zh`` for the app.

    >>> n = Note("3 rows left out.", "剔除 3 行。")
    >>> n, n("zh")
    ('3 rows left out.', '剔除 3 行。')
    """

    zh: str

    def __new__(cls, en: str, zh: str | None = None):
        note = super().__new__(cls, en)
        note.zh = zh or getattr(en, "zh", en)      # re-wrapping a Note keeps its Chinese
        return note

    def __call__(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else str(self)

    def __reduce__(self):
        return Note, (str(self), self.zh)


@dataclass(frozen=True)
class Param:
    """A KPI parameter with its default and constraints (sklearn-style declared constraints).

    kind: int, float, bool, choice (one of ``choices``), list (comma list, optionally limited to
    ``choices``), date (YYYY-MM-DD or None), text.
    """

    name: str
    kind: Literal["int", "float", "bool", "choice", "list", "date", "text"]
    default: Any
    label: L10n
    help: L10n = L10n("", "")
    choices: tuple[str, ...] | None = None
    bounds: tuple[float | None, float | None] | None = None

    def parse(self, raw: Any) -> Any:
        """Coerce ``raw`` (a CLI string or a Python value) and check the constraints."""
        if raw is None or (isinstance(raw, str) and raw.strip() == "" and self.kind != "text"):
            if self.kind == "date" or self.kind == "list":
                return self.default
            raise KpiError(f"parameter {self.name}: a value is required")
        try:
            value = self._coerce(raw)
        except (TypeError, ValueError) as exc:
            raise KpiError(f"parameter {self.name}: cannot read {raw!r} as {self.kind} ({exc})") from None
        self._check(value)
        return value

    def _coerce(self, raw: Any) -> Any:
        if self.kind == "int":
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError("not a whole number")
            return int(raw)
        if self.kind == "float":
            return float(raw)
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"true", "1", "yes", "y", "是"}:
                return True
            if text in {"false", "0", "no", "n", "否"}:
                return False
            raise ValueError("use true or false")
        if self.kind == "list":
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(s for s in (str(i).strip() for i in items) if s)
        if self.kind == "date":
            return raw if isinstance(raw, _dt.date) else _dt.date.fromisoformat(str(raw).strip())
        if self.kind == "choice":
            return str(raw).strip().lower()
        return str(raw)

    def _check(self, value: Any) -> None:
        if self.choices is not None:
            values = value if self.kind == "list" else (value,)
            norm = {c.lower(): c for c in self.choices}
            bad = [v for v in values if str(v).lower() not in norm]
            if bad:
                raise KpiError(f"parameter {self.name}: {', '.join(map(str, bad))} not allowed; "
                               f"choose from {', '.join(self.choices)}")
        if self.bounds is not None and self.kind in ("int", "float"):
            lo, hi = self.bounds
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise KpiError(f"parameter {self.name}: {value} is outside "
                               f"[{'' if lo is None else lo}, {'' if hi is None else hi}]")

    def to_json(self) -> dict:
        default = self.default
        if isinstance(default, tuple):
            default = ",".join(default)
        elif isinstance(default, _dt.date):
            default = default.isoformat()
        return {"name": self.name, "kind": self.kind, "default": default, "label": self.label.en,
                "label_zh": self.label.zh, "help": self.help.en, "choices": self.choices,
                "bounds": self.bounds}


@dataclass(frozen=True)
class Reference:
    """A reference level from the source article, drawn as a target line."""

    value: float
    label: L10n


@dataclass(frozen=True)
class Definition:
    """One way to define a KPI.

    ``stats(ctx, params, by)`` returns the per-entity detail (a narwhals LazyFrame) holding the
    grouping columns it can provide and the additive columns named in ``sums``; ``finish(frame)``
    adds ``value`` and ``helpers`` to a frame of pooled sums. ``params`` names the KPI
    parameters this definition reads (the others are ignored by it).

    A definition whose value is not a ratio of sums (a percentile, a growth rate) sets
    ``pooler(detail, by)``: a lazy aggregation of the detail to one row per group of ``by`` (one
    row when ``by`` is empty) holding what ``finish`` reads; ``sums`` then names the detail
    columns it reads. The engine calls it in place of the sums, on every engine.
    """

    id: str
    name: L10n
    formula: str
    says: L10n
    prefer_when: L10n
    stats: Callable[..., Any] = field(repr=False)
    finish: Callable[..., Any] = field(repr=False)
    sums: tuple[str, ...]
    helpers: tuple[str, ...]
    params: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    direction: Direction | None = None  # overrides the KPI's direction when set
    unit: Unit | None = None            # overrides the KPI's unit when set (cost per order is money)
    pooler: Callable[..., Any] | None = field(default=None, repr=False)   # non-additive pooling
    daily_sales: bool = False           # reads sales day by day: refused on monthly-grain sales

    @property
    def additive(self) -> bool:
        """True when the value is a ratio of sums, so a group's value pools its entities' sums."""
        return self.pooler is None

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name.en, "name_zh": self.name.zh, "formula": self.formula,
                "says": self.says.en, "prefer_when": self.prefer_when.en, "helpers": list(self.helpers),
                "parameters": list(self.params), "unit": self.unit,
                "references": [{"value": r.value, "label": r.label.en} for r in self.references]}


@dataclass(frozen=True)
class Kpi:
    """A KPI: what it measures, what it needs, how it may be grouped, its definitions."""

    id: str
    family: str
    name: L10n
    description: L10n
    unit: Unit
    direction: Direction
    tables: tuple[str, ...]
    period: L10n
    params: tuple[Param, ...]
    definitions: tuple[Definition, ...]
    dims: tuple[str, ...] = ()          # own grouping dimensions besides month and skus columns
    sku_grouping: bool = True           # detail carries a sku column, so skus columns can group it
    optional_tables: tuple[str, ...] = ()
    required_columns: tuple[str, ...] = ()   # "table.column" that must hold data (e.g. sales.page_views)

    def definition(self, definition_id: str) -> Definition:
        for d in self.definitions:
            if d.id == definition_id:
                return d
        raise KpiError(f"{self.id}: unknown definition {definition_id!r}; "
                       f"valid: {', '.join(d.id for d in self.definitions)}")

    @property
    def needs_daily_sales(self) -> bool:
        """Every definition reads sales day by day (none can run on monthly totals)."""
        return all(d.daily_sales for d in self.definitions)

    def param(self, name: str) -> Param:
        for p in self.all_params:
            if p.name == name:
                return p
        raise KpiError(f"{self.id}: unknown parameter {name!r}; "
                       f"valid: {', '.join(p.name for p in self.all_params)}")

    @property
    def all_params(self) -> tuple[Param, ...]:
        from kpilab.classification import CLASS_PARAMS

        return self.params + CLASS_PARAMS

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given``, each parsed and checked; unknown names are errors."""
        values = {p.name: p.default for p in self.all_params}
        for name, raw in given.items():
            values[name] = self.param(name).parse(raw)
        return values

    def direction_of(self, definition: Definition) -> Direction:
        return definition.direction or self.direction

    def unit_of(self, definition: Definition) -> Unit:
        return definition.unit or self.unit

    def to_json(self) -> dict:
        return {"id": self.id, "family": self.family, "name": self.name.en, "name_zh": self.name.zh,
                "description": self.description.en, "unit": self.unit, "direction": self.direction,
                "tables": list(self.tables), "optional_tables": list(self.optional_tables),
                "period": self.period.en, "dims": ["month", *self.dims],
                "sku_grouping": self.sku_grouping,
                "definitions": [d.to_json() for d in self.definitions],
                "parameters": [p.to_json() for p in self.all_params]}


FAMILIES: dict[str, L10n] = {
    "planning": L10n("Planning (S&OP)", "计划 (S&OP)"),
    "inventory": L10n("Inventory health", "库存健康"),
    "availability": L10n("Availability", "在架率与缺货"),
    "logistics": L10n("Logistics", "物流"),
    "suppliers": L10n("Suppliers", "供应商"),
    "quality": L10n("Quality", "质量"),
    "backorders": L10n("Backorders", "缺货预订 (Backorder)"),
    "sourcing": L10n("Sourcing", "采购寻源"),
}
