"""Widgets generated from the registry's Param records, so a new parameter needs no page change."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from kpilab.app.i18n import t, tl
from kpilab.classification import CLASS_PARAMS
from kpilab.engine import grouping_columns
from kpilab.registry import Kpi, Param

_CLASS_NAMES = {p.name for p in CLASS_PARAMS}


def param_input(param: Param, key: str, *, default=None, label: str | None = None):
    """One widget for one parameter; returns the value in the registry's own types."""
    value = param.default if default is None else default
    label = label or tl(param.label)
    help_text = tl(param.help) or None
    if param.kind == "bool":
        return st.toggle(label, value=bool(value), key=key, help=help_text)
    if param.kind == "choice":
        options = list(param.choices)
        return st.selectbox(label, options, index=options.index(value), key=key, help=help_text)
    if param.kind == "list" and param.choices:
        return tuple(st.multiselect(label, list(param.choices), default=list(value), key=key, help=help_text,
                                    placeholder=t("all", "全部")))
    if param.kind == "list":
        return param.parse(st.text_input(label, ",".join(value), key=key, help=help_text))
    if param.kind == "date":
        picked = st.date_input(label, value=value, key=key, help=help_text)
        return picked if isinstance(picked, dt.date) else None
    if param.kind in ("int", "float"):
        lo, hi = param.bounds or (None, None)
        cast = int if param.kind == "int" else float
        step = 1 if param.kind == "int" else (0.01 if (hi is not None and hi <= 1) else 1.0)
        return cast(st.number_input(label, min_value=None if lo is None else cast(lo),
                                    max_value=None if hi is None else cast(hi), value=cast(value),
                                    step=cast(step), key=key, help=help_text))
    return st.text_input(label, str(value), key=key, help=help_text)


def param_inputs(kpi: Kpi, prefix: str, names=None, columns: int = 5, defaults=None) -> dict:
    """Widgets for the KPI's parameters (all, or ``names``) laid out in ``columns`` columns.

    The ABC classification parameters go in a collapsed expander of their own.
    """
    defaults = defaults or {}
    chosen = [p for p in kpi.params if names is None or p.name in names]
    values = {}
    cols = st.columns(min(columns, max(len(chosen), 1)))
    for i, param in enumerate(chosen):
        with cols[i % len(cols)]:
            values[param.name] = param_input(param, f"{prefix}_{param.name}", default=defaults.get(param.name))
    return values


def class_params(prefix: str) -> dict:
    """The ABC thresholds and window (they matter when abc_class is derived from sales)."""
    with st.expander(t("ABC classification thresholds", "ABC 分类阈值")):
        cols = st.columns(len(CLASS_PARAMS))
        values = {}
        for col, param in zip(cols, CLASS_PARAMS):
            with col:
                values[param.name] = param_input(param, f"{prefix}_{param.name}")
        return values


def group_by(kpi: Kpi, dataset, key: str, default=("month",), exclude=()) -> tuple[str, ...]:
    """Grouping columns valid for this KPI on this dataset."""
    options = [c for c in grouping_columns(kpi, dataset) if c not in exclude]
    return tuple(st.multiselect(t("Group by", "分组"), options, default=[c for c in default if c in options],
                                key=key))
