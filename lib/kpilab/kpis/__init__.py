"""The KPI families. Each public module here is one family and declares a ``KPIS`` tuple;
they are collected, in family order, into ``REGISTRY`` (KPI id → Kpi)."""

from __future__ import annotations

import importlib
import pkgutil

from kpilab.registry import FAMILIES, Kpi, KpiError


def _collect() -> dict[str, Kpi]:
    kpis: list[Kpi] = []
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            kpis += importlib.import_module(f"{__name__}.{module.name}").KPIS
    order = list(FAMILIES)
    kpis.sort(key=lambda k: order.index(k.family))
    registry = {k.id: k for k in kpis}
    if len(registry) != len(kpis):
        raise RuntimeError("two KPIs share an id")
    return registry


REGISTRY: dict[str, Kpi] = _collect()


def get_kpi(kpi_id: str) -> Kpi:
    """The KPI with this id; an unknown id is an error listing the valid ones."""
    try:
        return REGISTRY[kpi_id]
    except KeyError:
        raise KpiError(f"unknown KPI {kpi_id!r}; valid: {', '.join(REGISTRY)}") from None
