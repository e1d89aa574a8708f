"""The Lab's state in the URL (query parameters), so a shared link reopens the same comparison."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


from kpilab.kpis import REGISTRY
from kpilab.registry import KpiError
from kpilab.lab.variants import Variant


@dataclass(frozen=True)
class LabState:
    """What a Lab link reopens: the KPI, its variants and the grouping."""

    kpi_id: str
    variants: tuple[Variant, ...]
    by: tuple[str, ...] = ()


def encode_lab_state(state: LabState) -> dict[str, Any]:
    """Query parameters: ``kpi``, ``v`` (one per variant, its text form), ``by`` (comma list).

    >>> s = LabState("otif", (Variant("otif", "by_line"), Variant("otif", "by_value")), ("supplier",))
    >>> encode_lab_state(s)
    {'kpi': 'otif', 'v': ['otif:by_line', 'otif:by_value'], 'by': 'supplier'}
    >>> decode_lab_state(encode_lab_state(s))[0] == s
    True
    """
    out: dict[str, Any] = {"kpi": state.kpi_id, "v": [v.text for v in state.variants]}
    if state.by:
        out["by"] = ",".join(state.by)
    return out


def _first(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else None
    return str(value)


def _all(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def decode_lab_state(query: Mapping[str, Any], max_variants: int = 4) -> tuple[LabState | None, list[str]]:
    """Read ``encode_lab_state``'s parameters back: (state or None, problems). Lenient: a
    variant that cannot be read (or of another KPI) is skipped and named in the problems."""
    problems: list[str] = []
    kpi_id = _first(query.get("kpi"))
    if not kpi_id:
        return None, problems
    if kpi_id not in REGISTRY:
        return None, [f"unknown KPI {kpi_id!r} in the link"]
    variants = []
    for text in _all(query.get("v"))[:max_variants]:
        try:
            v = Variant.from_text(text)
        except KpiError as exc:
            problems.append(str(exc))
            continue
        if v.kpi_id != kpi_id:
            problems.append(f"variant {text!r} is not of {kpi_id}")
            continue
        variants.append(v)
    by = tuple(c for c in (_first(query.get("by")) or "").split(",") if c)
    return LabState(kpi_id, tuple(variants), by), problems
