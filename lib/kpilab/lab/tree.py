"""The KPI tree: level-1 outcomes and the level-2 building blocks the article links to them, each
with its current value under the chosen definition."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import pandas as pd

from kpilab.engine import missing_inputs
from kpilab.formatting import format_value
from kpilab.kpis import REGISTRY
from kpilab.registry import KpiError, L10n
from kpilab.lab.variants import Runner, Variant, as_variant, default_runner, value_of, variant_result


#: Level-1 outcomes and the building blocks the article links to them ("KPI设置的艺术": set the
#: result you want as level 1, then the inputs that support it as level 2, split along who
#: does what). (parent, child, why) — ids only; a KPI that is not registered shows as such.
KPI_TREE: tuple[tuple[str, str, L10n], ...] = (
    ("availability", "otif", L10n("Suppliers that do not deliver leave the shelf empty, whatever was ordered.",
                                  "供应商不交货, 下了单也没货上架。")),
    ("availability", "plan_accuracy", L10n("Orders follow the plan: a wrong plan buys the wrong items.",
                                           "订货依据计划: 计划不准就买错货。")),
    ("availability", "days_of_inventory", L10n("More days of stock buy availability when suppliers are late.",
                                               "供应商做不好时, 只能靠更多库存天数保在架率。")),
    ("availability", "low_cover", L10n("Items with under 7 days of cover are tomorrow's stock-outs (monitor).",
                                       "DOS<7 的单品就是明天的缺货 (监控指标)。")),
    ("otif", "preferred_supplier_share", L10n("Buying from brands and primary distributors makes OTIF possible.",
                                              "向品牌方与一级供应商采购, OTIF 才做得好。")),
    ("logistics_cost", "local_fulfilment", L10n("Stock placed near the customer ships cheaper and faster.",
                                                "货放在离消费者近的仓, 更省更快。")),
    ("logistics_cost", "order_volume_accuracy", L10n("Warehouse staffing follows the D-14 order plan.",
                                                     "仓库排班依据 D-14 单量计划。")),
    ("slow_moving", "plan_bias", L10n("Over-planning buys stock that does not sell.", "计划高估, 买进卖不掉的货。")),
    ("slow_moving", "days_of_inventory", L10n("Long cover today is slow-moving stock tomorrow.",
                                              "今天的库存天数过长, 就是明天的滞销。")),
    ("return_rate", "inspection_pass_rate", L10n("Incoming inspection stops defects before customers see them.",
                                                 "到货质检在消费者之前拦住次品。")),
)


def tree_roots(tree: Sequence[tuple[str, str, Any]] = KPI_TREE) -> tuple[str, ...]:
    parents = list(dict.fromkeys(p for p, _, _ in tree))
    children = {c for _, c, _ in tree}
    return tuple(p for p in parents if p not in children)


def tree_kpis(tree: Sequence[tuple[str, str, Any]] = KPI_TREE) -> tuple[str, ...]:
    """Every KPI id of the tree, in reading order."""
    return tuple(dict.fromkeys(k for p, c, _ in tree for k in (p, c)))


def tree_nodes(dataset, choices: Mapping[str, Variant | str] | None = None, *,
               tree: Sequence[tuple[str, str, L10n]] = KPI_TREE, runner: Runner | None = None,
               lang: str = "en") -> pd.DataFrame:
    """One row per node of the tree (a KPI under two parents appears twice), with its value.

    ``choices`` maps a KPI id to the variant to show (default: its first definition at default
    parameters). Columns: path, parent_path, kpi_id, level (1 = outcome), order (vertical
    position), name, definition, value, text (formatted value), status (ok / not registered /
    missing data / error), reason, why (the link to its parent, from the article), unit,
    direction.
    """
    choices = {k: as_variant(v) for k, v in (choices or {}).items()}
    runner = runner or default_runner(dataset)
    children: dict[str, list[tuple[str, L10n]]] = {}
    for parent, child, why in tree:
        children.setdefault(parent, []).append((child, why))
    cache: dict[str, dict] = {}

    def evaluate(kpi_id: str) -> dict:
        if kpi_id in cache:
            return cache[kpi_id]
        out = {"name": kpi_id, "definition": "", "value": math.nan, "text": "—", "status": "ok", "reason": "",
               "unit": "", "direction": ""}
        if kpi_id not in REGISTRY:
            out |= {"status": "not registered", "reason": L10n("not in this version's registry",
                                                               "当前版本未注册该指标")(lang)}
        else:
            kpi = REGISTRY[kpi_id]
            variant = choices.get(kpi_id) or Variant(kpi_id, kpi.definitions[0].id)
            out |= {"name": kpi.name(lang), "definition": variant.describe(lang), "unit": variant.unit,
                    "direction": variant.direction}
            missing = missing_inputs(kpi, dataset)
            if missing:
                out |= {"status": "missing data",
                        "reason": L10n(f"needs {', '.join(missing)}", f"缺少 {', '.join(missing)}")(lang)}
            else:
                try:
                    value = value_of(variant_result(variant, (), runner))
                    out |= {"value": value, "text": format_value(value, variant.unit)}
                except KpiError as exc:
                    out |= {"status": "error", "reason": str(exc)}
                except Exception as exc:  # noqa: BLE001 - a node must not break the tree
                    out |= {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        cache[kpi_id] = out
        return out

    rows: list[dict] = []
    leaf = [0]

    def walk(kpi_id: str, parent_path: str, level: int, why: L10n | None, seen: tuple[str, ...]):
        path = f"{parent_path}/{kpi_id}" if parent_path else kpi_id
        kids = [(c, w) for c, w in children.get(kpi_id, []) if c not in seen]
        start = leaf[0]
        for child, child_why in kids:
            walk(child, path, level + 1, child_why, seen + (kpi_id,))
        if kids:
            order = (start + leaf[0] - 1) / 2
        else:
            order = float(leaf[0])
            leaf[0] += 1
        rows.append({"path": path, "parent_path": parent_path, "kpi_id": kpi_id, "level": level, "order": order,
                     **evaluate(kpi_id), "why": why(lang) if why is not None else ""})

    for root in tree_roots(tree):
        walk(root, "", 1, None, ())
        leaf[0] += 0.5  # a little air between trees
    frame = pd.DataFrame(rows)
    return frame.sort_values(["level", "order"], ignore_index=True)
