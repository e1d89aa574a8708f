"""How a KPI value reads to a person: shares as %, days, money, ratios."""

from __future__ import annotations

import math


def format_value(value, unit: str) -> str:
    """'73.3%' for a share, '41.2 d' for days, '1.23M' for money; '—' when empty; '∞' for infinity.

    >>> format_value(0.733333, "share"), format_value(float("nan"), "share"), format_value(1234567.0, "money")
    ('73.3%', '—', '1.23M')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if unit in ("share", "ratio"):
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:,.1f} d"
    if unit == "money":
        for cut, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= cut:
                return f"{value / cut:,.2f}{suffix}"
        return f"{value:,.0f}"
    return f"{value:,.2f}"
