"""Sensitivity: sweep one numeric parameter and compute every variant at each value."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from kpilab.kpis import get_kpi
from kpilab.registry import Kpi, KpiError, Param
from kpilab.lab.variants import CLASS_NAMES, Runner, Variant, as_variant, default_runner, unique_labels, value_of, variant_result


def numeric_params(kpi: Kpi | str) -> tuple[Param, ...]:
    """The KPI's own int and float parameters (candidates for a sweep)."""
    kpi = get_kpi(kpi) if isinstance(kpi, str) else kpi
    return tuple(p for p in kpi.params if p.kind in ("int", "float"))


def sweep_values(param: Param, lo: float | None = None, hi: float | None = None, steps: int = 7) -> list:
    """``steps`` values from lo to hi (default: half to twice the default, inside the bounds).

    >>> from kpilab.registry import Param, L10n
    >>> sweep_values(Param("days", "int", 7, L10n("", ""), bounds=(1, 30)), steps=4)
    [4, 7, 10, 14]
    """
    if param.kind not in ("int", "float"):
        raise KpiError(f"parameter {param.name} is not numeric")
    b_lo, b_hi = param.bounds or (None, None)
    d = float(param.default)
    if lo is None:
        lo = d / 2 if d > 0 else (b_lo if b_lo is not None else 0.0)
    if hi is None:
        hi = d * 2 if d > 0 else (b_hi if b_hi is not None else 10.0)
    if b_lo is not None:
        lo = max(lo, b_lo)
    if b_hi is not None:
        hi = min(hi, b_hi)
    if hi < lo:
        lo, hi = hi, lo
    steps = max(int(steps), 2)
    grid = np.linspace(lo, hi, steps)
    if param.kind == "int":
        values = sorted({int(round(x)) for x in grid})
    else:
        values = sorted({round(float(x), 6) for x in grid})
    return values


def sweep_range(param: Param) -> tuple[float, float, float]:
    """(lowest, highest, step) offered for sweeping ``param``: its bounds, capped at four times
    the default (at least 10 for counts and days; 1 for shares).

    >>> from kpilab.registry import Param, L10n
    >>> sweep_range(Param("late_days", "int", 3, L10n("", ""), bounds=(0, 365)))
    (0, 12, 1)
    """
    b_lo, b_hi = param.bounds or (None, None)
    d = float(param.default)
    unit_share = param.kind == "float" and b_hi is not None and b_hi <= 1
    lo = b_lo if b_lo is not None else 0.0
    guess = max(d * 4, 1.0) if unit_share else max(d * 4, 10.0)
    hi = min(b_hi, guess) if b_hi is not None else guess
    if param.kind == "int":
        return int(lo), int(hi), 1
    step = 0.01 if hi - lo <= 1 else round((hi - lo) / 100, 3)
    return float(lo), float(hi), step


def sweep(dataset, variants: Sequence[Variant | str], param: str, values: Iterable, *,
          runner: Runner | None = None, lang: str = "en",
          progress: Callable[[float, str], None] | None = None) -> pd.DataFrame:
    """Each variant's overall value with ``param`` set to each of ``values``.

    Columns: ``param_value``, ``variant`` (label), ``value``, ``reads`` (whether the variant's
    definition declares the parameter; a variant that does not read it is computed once and
    its value repeated, drawn flat).

    ``progress(share, text)`` is called before each computation (share = computations done /
    computations in all, text = "label: param = value") and once with 1.0 at the end, so a page
    can show a bar — and a rerun can stop a long sweep between two steps.
    """
    variants = tuple(as_variant(v) for v in variants)
    kpi = variants[0].kpi
    p = kpi.param(param)
    values = [p.parse(v) for v in values]
    runner = runner or default_runner(dataset)
    labels = unique_labels(variants, lang)
    reads_of = [param in v.definition.params or param in CLASS_NAMES for v in variants]
    total, done = sum(len(values) if reads else 1 for reads in reads_of), 0

    def step(label: str, value) -> None:
        nonlocal done
        if progress is not None:
            progress(done / total, f"{label}: {param} = {value}")
        done += 1

    rows = []
    for variant, label, reads in zip(variants, labels, reads_of):
        if not reads:
            step(label, variant.resolved_params.get(param, "—"))
        fixed = None if reads else value_of(variant_result(variant, (), runner))
        for value in values:
            if reads:
                step(label, value)
            v = value_of(variant_result(variant.with_params(**{param: value}), (), runner)) if reads else fixed
            rows.append({"param_value": value, "variant": label, "value": v, "reads": reads})
    if progress is not None:
        progress(1.0, "")
    return pd.DataFrame(rows, columns=["param_value", "variant", "value", "reads"])


def select_variants(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """The rows of a long frame (``variant`` column) that belong to ``labels``."""
    return frame[frame["variant"].isin(list(labels))].reset_index(drop=True)

