"""Variants: a KPI definition plus parameter values, registering new definitions at run time,
and computing variants side by side."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote, unquote

import narwhals.stable.v2 as nw
import pandas as pd

import kpilab
from kpilab.classification import CLASS_PARAMS
from kpilab.engine import Comparison, KpiResult, grouping_columns, missing_inputs
from kpilab.kpis import REGISTRY, get_kpi
from kpilab.registry import Definition, Kpi, KpiError, Param


Runner = Callable[[str, tuple, tuple, dict], Comparison]
CLASS_NAMES = tuple(p.name for p in CLASS_PARAMS)

# --------------------------------------------------------------------------- variants


def _param_text(value: Any) -> str:
    """A parameter value as text that ``Param.parse`` reads back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, float(b), rel_tol=0, abs_tol=1e-12)
    return a == b


@dataclass(frozen=True)
class Variant:
    """A KPI definition plus parameter values, e.g. OTIF by line with a 3/1 window.

    ``params`` are checked against the registry and normalised on creation: values are parsed
    into the registry's types and values equal to the default are dropped. ``label`` is an
    optional display name. ``text`` is a stable short form for URLs and files.
    """

    kpi_id: str
    definition_id: str
    params: dict = field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        kpi = get_kpi(self.kpi_id)
        kpi.definition(self.definition_id)
        order = {p.name: i for i, p in enumerate(kpi.all_params)}
        clean = {}
        for name, raw in dict(self.params or {}).items():
            param = kpi.param(name)
            value = param.parse(raw) if not (param.kind == "date" and raw is None) else None
            if not _same(value, param.default):
                clean[name] = value
        object.__setattr__(self, "params", dict(sorted(clean.items(), key=lambda kv: order[kv[0]])))
        object.__setattr__(self, "label", str(self.label or "").strip())

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def kpi(self) -> Kpi:
        return get_kpi(self.kpi_id)

    @property
    def definition(self) -> Definition:
        return self.kpi.definition(self.definition_id)

    @property
    def direction(self) -> str:
        return self.kpi.direction_of(self.definition)

    @property
    def unit(self) -> str:
        """The unit of this variant's values (a definition may override its KPI's unit)."""
        unit_of = getattr(self.kpi, "unit_of", None)
        return unit_of(self.definition) if unit_of else self.kpi.unit

    @property
    def resolved_params(self) -> dict:
        """Every parameter of the KPI: defaults overlaid with this variant's values."""
        return self.kpi.resolve_params(self.params)

    @property
    def key(self) -> str:
        """The text form without the label: what is computed."""
        parts = [f"{self.kpi_id}:{self.definition_id}"]
        parts += [f"{name}={quote(_param_text(value), safe=',.-_:')}" for name, value in self.params.items()]
        return ";".join(parts)

    @property
    def text(self) -> str:
        """``kpi:definition;name=value;…|label`` (values and label percent-encoded)."""
        return self.key + (f"|{quote(self.label, safe='')}" if self.label else "")

    @classmethod
    def from_text(cls, text: str) -> "Variant":
        """Read the text form back; a malformed text is a KpiError naming the problem."""
        text = str(text).strip()
        body, _, label = text.partition("|")
        head, *pairs = body.split(";")
        kpi_id, sep, definition_id = head.partition(":")
        if not sep or not kpi_id or not definition_id:
            raise KpiError(f"cannot read variant {text!r}: expected kpi:definition;param=value…")
        params = {}
        for pair in pairs:
            if not pair:
                continue
            name, sep, value = pair.partition("=")
            if not sep:
                raise KpiError(f"cannot read variant {text!r}: {pair!r} is not name=value")
            params[unquote(name)] = unquote(value)
        return cls(kpi_id, definition_id, params, unquote(label))

    def with_params(self, **params) -> "Variant":
        """The same variant with some parameters changed (the label is kept)."""
        return Variant(self.kpi_id, self.definition_id, {**self.params, **params}, self.label)

    def describe(self, lang: str = "en") -> str:
        """A readable name: the label, else the definition's name and the non-default values."""
        if self.label:
            return self.label
        name = self.definition.name(lang)
        if not self.params:
            return name
        return f"{name} ({', '.join(f'{k}={_param_text(v)}' for k, v in self.params.items())})"


def as_variant(value: "Variant | str") -> Variant:
    return value if isinstance(value, Variant) else Variant.from_text(value)


def default_variants(kpi: Kpi | str, n: int = 2) -> tuple[Variant, ...]:
    """The KPI's first ``n`` definitions at default parameters (repeating when it has fewer)."""
    kpi = get_kpi(kpi) if isinstance(kpi, str) else kpi
    ids = [d.id for d in kpi.definitions]
    return tuple(Variant(kpi.id, ids[i % len(ids)]) for i in range(n))


def unique_labels(variants: Sequence[Variant], lang: str = "en") -> tuple[str, ...]:
    """Display labels, made unique with a #n suffix where two variants read the same."""
    labels, seen = [], {}
    for v in variants:
        label = v.describe(lang)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return tuple(labels)


# --------------------------------------------------------------------------- registering


def register_definition(kpi_id: str, definition: Definition, *, params: Sequence[Param] = (),
                        replace: bool = False) -> Kpi:
    """Add ``definition`` (and any new ``params`` it reads) to a registered KPI, at runtime.

    Returns the new Kpi, installed in ``kpilab.REGISTRY`` (the registry files are not
    touched: the change lasts for this Python process). A definition id already present is an
    error unless ``replace``; so is a parameter name the KPI already has, or a definition that
    reads a parameter the KPI does not declare.
    """
    kpi = get_kpi(kpi_id)
    existing = {d.id for d in kpi.definitions}
    if definition.id in existing and not replace:
        raise KpiError(f"{kpi_id} already has a definition {definition.id!r} (pass replace=True)")
    names = {p.name for p in kpi.all_params}
    clash = [p.name for p in params if p.name in names]
    if clash:
        raise KpiError(f"{kpi_id} already has parameter(s) {', '.join(clash)}")
    new_params = kpi.params + tuple(params)
    known = names | {p.name for p in params}
    unknown = [n for n in definition.params if n not in known]
    if unknown:
        raise KpiError(f"definition {definition.id!r} reads {', '.join(unknown)}, which {kpi_id} does not "
                       "declare: pass them as params=(Param(...),)")
    definitions = tuple(d for d in kpi.definitions if d.id != definition.id) + (definition,)
    new = dataclasses.replace(kpi, params=new_params, definitions=definitions)
    REGISTRY[kpi_id] = new
    return new


def unregister_definition(kpi_id: str, definition_id: str) -> Kpi:
    """Remove a definition added with ``register_definition`` (the KPI keeps at least one)."""
    kpi = get_kpi(kpi_id)
    kpi.definition(definition_id)
    rest = tuple(d for d in kpi.definitions if d.id != definition_id)
    if not rest:
        raise KpiError(f"{kpi_id} would have no definition left")
    new = dataclasses.replace(kpi, definitions=rest)
    REGISTRY[kpi_id] = new
    return new


# --------------------------------------------------------------------------- comparing variants


def default_runner(dataset) -> Runner:
    """A runner that calls ``kpilab.compare`` on ``dataset`` (no caching)."""
    def run(kpi_id: str, definitions: tuple, by: tuple, params: dict) -> Comparison:
        return kpilab.compare(dataset, kpi_id, definitions, by=by, **params)
    return run


def variant_result(variant: Variant, by: tuple, runner: Runner) -> KpiResult:
    cmp = runner(variant.kpi_id, (variant.definition_id,), tuple(by), dict(variant.params))
    return cmp.results[variant.definition_id]


@dataclass(frozen=True)
class VariantComparison:
    """Two to four variants of one KPI on the same data and grouping."""

    kpi_id: str
    variants: tuple[Variant, ...]
    labels: tuple[str, ...]
    by: tuple[str, ...]
    results: tuple[KpiResult, ...]

    @property
    def kpi(self) -> Kpi:
        return get_kpi(self.kpi_id)

    @property
    def notes(self) -> tuple[str, ...]:
        seen: list[str] = []
        for r in self.results:
            seen += [n for n in r.notes if n not in seen]
        return tuple(seen)

    def wide(self) -> pd.DataFrame:
        """One row per group (the ``by`` columns), one value column per variant label."""
        frames = []
        for label, result in zip(self.labels, self.results):
            table = nw.from_native(result.table, eager_only=True).to_pandas()
            frames.append(table[[*self.by, "value"]].rename(columns={"value": label}))
        if not self.by:
            return pd.concat([f.reset_index(drop=True) for f in frames], axis=1)
        wide = frames[0]
        for frame in frames[1:]:
            wide = wide.merge(frame, on=list(self.by), how="outer")
        return wide.sort_values(list(self.by), ignore_index=True)

    def long(self, labels: Sequence[str] | None = None) -> pd.DataFrame:
        """``by`` columns, ``variant`` (label) and ``value``: one row per group and variant (only
        the variants of ``labels`` when given, e.g. those of one unit)."""
        wide = self.wide()
        chosen = [label for label in self.labels if labels is None or label in labels]
        return wide.melt(id_vars=list(self.by), value_vars=chosen, var_name="variant", value_name="value")

    def units(self) -> dict[str, str]:
        """Each variant's unit (label → unit): definitions of one KPI may differ (share vs money)."""
        return {label: v.unit for v, label in zip(self.variants, self.labels)}

    def unit_groups(self) -> list[tuple[str, list[str]]]:
        """Labels grouped by unit, in order: one chart per unit when the variants' units differ."""
        groups: dict[str, list[str]] = {}
        for label, unit in self.units().items():
            groups.setdefault(unit, []).append(label)
        return list(groups.items())

    def values(self) -> dict[str, float]:
        """The single value of each variant (ungrouped comparisons only)."""
        if self.by:
            raise KpiError("values() needs an ungrouped comparison")
        return {label: float(nw.from_native(r.table, eager_only=True)["value"][0]) if len(r.table) else math.nan
                for label, r in zip(self.labels, self.results)}


def compare_variants(dataset, variants: Sequence[Variant | str], by: Iterable[str] = (), *,
                     runner: Runner | None = None, lang: str = "en") -> VariantComparison:
    """Compute each variant (grouped by ``by``) and line them up.

    Every variant must belong to the same KPI; ``by`` must be valid for it on this dataset.
    """
    variants = tuple(as_variant(v) for v in variants)
    if not variants:
        raise KpiError("choose at least one variant")
    kpis = {v.kpi_id for v in variants}
    if len(kpis) != 1:
        raise KpiError(f"variants of one KPI only (got {', '.join(sorted(kpis))})")
    kpi = variants[0].kpi
    by = tuple(dict.fromkeys(by))
    if dataset is not None:
        missing = missing_inputs(kpi, dataset)
        if missing:
            raise KpiError(f"{kpi.id} needs {', '.join(missing)}, which this dataset does not have")
        valid = grouping_columns(kpi, dataset)
        bad = [c for c in by if c not in valid]
        if bad:
            raise KpiError(f"{kpi.id} cannot be grouped by {', '.join(bad)}; valid: {', '.join(valid)}")
    runner = runner or default_runner(dataset)
    results = tuple(variant_result(v, by, runner) for v in variants)
    return VariantComparison(kpi.id, variants, unique_labels(variants, lang), by, results)


# --------------------------------------------------------------------------- small helpers for the pages


def display_scale(unit: str) -> float:
    """Shares and ratios are typed and shown in percent (×100); other units as they are."""
    return 100.0 if unit in ("share", "ratio") else 1.0


def add_series(long: pd.DataFrame, frame: pd.DataFrame, label: str, by: Sequence[str]) -> pd.DataFrame:
    """``VariantComparison.long()`` plus one more series (e.g. a SQL prototype's regrouped
    values: the ``by`` columns and ``value``)."""
    extra = frame[[*by, "value"]].copy()
    extra.insert(len(by), "variant", label)
    out = pd.concat([long, extra], ignore_index=True)
    for c in by:
        out[c] = out[c].astype(str)
    return out

def value_of(result: KpiResult) -> float:
    table = nw.from_native(result.table, eager_only=True)
    return float(table["value"][0]) if len(table) else math.nan
