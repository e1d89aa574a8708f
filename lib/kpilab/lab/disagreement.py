"""Where variants disagree: ranks (1 = best, by each definition's direction), verdicts against a
level or by tercile, rank correlation (Spearman, Kendall) and the biggest movers."""

from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from kpilab.formatting import format_value
from kpilab.registry import Definition, KpiError, L10n
from kpilab.lab.variants import VariantComparison


def _target_band(definition: Definition) -> tuple[float, float] | None:
    refs = [r.value for r in definition.references]
    return (min(refs), max(refs)) if refs else None


def rank_values(values: pd.Series, direction: str, band: tuple[float, float] | None = None) -> pd.Series:
    """Rank 1 = best (ties share the best rank; empty values get no rank).

    >>> rank_values(pd.Series([0.2, 0.9, 0.5]), "higher").tolist()
    [3.0, 1.0, 2.0]
    >>> rank_values(pd.Series([-0.3, 0.1, 0.05]), "target", (0.0, 0.0)).tolist()
    [3.0, 2.0, 1.0]
    """
    values = pd.to_numeric(values, errors="coerce").astype(float)
    values = values.where(~np.isinf(values) | (direction != "target"))
    if direction == "lower":
        key = values
    elif direction == "target" and band is not None:
        lo, hi = band
        key = (lo - values).clip(lower=0) + (values - hi).clip(lower=0)
        key = key.where(values.notna())
    else:
        key = -values
    return key.rank(method="min", na_option="keep")


def _group_label(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    if not by:
        return pd.Series(["all"] * len(frame), index=frame.index)
    return frame[list(by)].astype(str).agg(" · ".join, axis=1)


def ranks(cmp: VariantComparison) -> pd.DataFrame:
    """Per group and variant: value, rank (1 = best) and the number of ranked groups (long)."""
    if not cmp.by:
        raise KpiError("ranks need a grouping (e.g. category or supplier)")
    wide = cmp.wide()
    group = _group_label(wide, cmp.by)
    rows = []
    for variant, label in zip(cmp.variants, cmp.labels):
        r = rank_values(wide[label], variant.direction, _target_band(variant.definition))
        rows.append(pd.DataFrame({"group": group, "variant": label, "value": wide[label].astype(float),
                                  "rank": r, "ranked": int(r.notna().sum())}))
    return pd.concat(rows, ignore_index=True)


def rank_notes(cmp: VariantComparison, lang: str = "en") -> list[str]:
    """How each variant ranks groups, where that is not obvious."""
    out = []
    for variant, label in zip(cmp.variants, cmp.labels):
        if variant.direction == "target":
            band = _target_band(variant.definition)
            if band is None:
                out.append(L10n(f"{label}: no reference level, so groups are ranked highest first.",
                                f"{label}: 没有参考水平, 按数值从高到低排名。")(lang))
            else:
                level = format_value(band[0], variant.unit) if band[0] == band[1] else \
                    f"{format_value(band[0], variant.unit)}–{format_value(band[1], variant.unit)}"
                out.append(L10n(f"{label}: ranked by distance to {level}.",
                                f"{label}: 按与 {level} 的距离排名。")(lang))
    return out


def reference_levels(cmp: VariantComparison) -> dict[str, float | None]:
    """The first reference level of each variant's definition (None when it has none)."""
    return {label: (v.definition.references[0].value if v.definition.references else None)
            for v, label in zip(cmp.variants, cmp.labels)}


def disagreement(cmp: VariantComparison, levels: Mapping[str, float | None] | None = None) -> pd.DataFrame:
    """Per group: each variant's value, rank and verdict, the rank spread, and whether the
    verdicts differ — groups where the variants disagree most come first.

    Verdicts: ``meets`` / ``misses`` a level per variant (``levels``, default the definitions'
    first reference level) when every variant has one; else ``top`` / ``middle`` / ``bottom``
    third of the ranked groups. Columns: the ``by`` columns, ``group``, then per variant label
    ``<label>``, ``rank · <label>``, ``verdict · <label>``; then ``rank_spread``,
    ``verdicts_differ``, ``scheme``.
    """
    long = ranks(cmp)
    wide = cmp.wide()
    levels = dict(reference_levels(cmp) if levels is None else levels)
    use_levels = all(levels.get(label) is not None for label in cmp.labels)
    out = wide[list(cmp.by)].copy()
    out["group"] = _group_label(wide, cmp.by)
    rank_cols, verdict_cols = [], []
    for variant, label in zip(cmp.variants, cmp.labels):
        part = long[long["variant"] == label].reset_index(drop=True)
        out[label] = part["value"].to_numpy()
        out[f"rank · {label}"] = part["rank"].to_numpy()
        if use_levels:
            verdict = _meets(part["value"], variant.direction, float(levels[label]),
                             _target_band(variant.definition))
        else:
            n = part["ranked"].iloc[0] if len(part) else 0
            third = part["rank"] / max(n, 1)
            verdict = np.where(part["rank"].isna(), None,
                               np.where(third <= 1 / 3, "top", np.where(third <= 2 / 3, "middle", "bottom")))
        out[f"verdict · {label}"] = verdict
        rank_cols.append(f"rank · {label}")
        verdict_cols.append(f"verdict · {label}")
    out["rank_spread"] = out[rank_cols].max(axis=1) - out[rank_cols].min(axis=1)
    verdicts = out[verdict_cols].astype(object)
    out["verdicts_differ"] = verdicts.notna().all(axis=1) & (verdicts.nunique(axis=1, dropna=True) > 1)
    out["scheme"] = "level" if use_levels else "tercile"
    return out.sort_values(["verdicts_differ", "rank_spread"], ascending=[False, False],
                           na_position="last", ignore_index=True)


def _meets(values: pd.Series, direction: str, level: float, band) -> np.ndarray:
    v = values.astype(float)
    if direction == "lower":
        ok = v <= level
    elif direction == "target":
        lo, hi = band if band is not None else (level, level)
        tol = max(abs(hi - lo), 1e-9) if lo != hi else 0.0
        ok = (v >= lo - tol) & (v <= hi + tol) if tol else np.isclose(v, level)
    else:
        ok = v >= level
    return np.where(v.isna(), None, np.where(ok, "meets", "misses"))


def rank_correlation(cmp: VariantComparison) -> pd.DataFrame:
    """Spearman's ρ and Kendall's τ between every pair of variants across the groups (both
    ranked on 'best first', so +1 means the same order). Pairs with fewer than 3 groups
    valued under both variants get no coefficient."""
    from scipy import stats

    long = ranks(cmp)
    table = long.pivot(index="group", columns="variant", values="rank")
    rows = []
    for i, a in enumerate(cmp.labels):
        for b in cmp.labels[i + 1:]:
            pair = table[[a, b]].dropna()
            row = {"a": a, "b": b, "n": len(pair), "spearman": math.nan, "spearman_p": math.nan,
                   "kendall": math.nan, "kendall_p": math.nan}
            if len(pair) >= 3 and pair[a].nunique() > 1 and pair[b].nunique() > 1:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    s = stats.spearmanr(pair[a], pair[b])
                    k = stats.kendalltau(pair[a], pair[b])
                row |= {"spearman": float(s.statistic), "spearman_p": float(s.pvalue),
                        "kendall": float(k.statistic), "kendall_p": float(k.pvalue)}
            rows.append(row)
    return pd.DataFrame(rows, columns=["a", "b", "n", "spearman", "spearman_p", "kendall", "kendall_p"])


def movers(cmp: VariantComparison, top: int = 10) -> pd.DataFrame:
    """The groups whose rank changes most between the variants (long: group, variant, rank,
    value, rank_spread), for a slope chart; ``top`` groups by rank spread."""
    long = ranks(cmp)
    spread = long.groupby("group")["rank"].agg(lambda r: r.max() - r.min()).rename("rank_spread")
    keep = spread.dropna().sort_values(ascending=False, kind="stable").head(top).index
    out = long[long["group"].isin(keep)].merge(spread, left_on="group", right_index=True)
    return out.reset_index(drop=True)
