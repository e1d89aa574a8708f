"""The Definition Lab: the same KPI under two to four *variants* (a definition plus parameter
values), side by side, where they disagree, how sensitive they are, and what a target under one
means under another. Everything is driven by the registry: no KPI is named in this module except
in the KPI tree, which is data (ids only).

>>> v = Variant("otif", "by_line", {"early_days": 3, "late_days": 1})
>>> v.text
'otif:by_line;early_days=3;late_days=1'
>>> Variant.from_text(v.text) == v
True

Computation goes through a *runner* ``runner(kpi_id, definitions, by, params) -> Comparison``;
the default calls ``kpilab.compare`` on the dataset, the app passes its cached wrapper so each
variant is computed once per dataset and parameters.

Reading of the brief (choices made here, stated to the user where they matter):

- A variant's ``params`` keep only values that differ from the KPI's defaults, so two variants
  that compute the same thing have the same text form (and the same cache entry).
- Ranks: 1 is the best group. "Best" follows the definition's direction: highest first for
  higher-is-better, lowest first for lower-is-better; for a target KPI, the smallest distance
  to its reference level (or to the band between its lowest and highest reference); a target
  KPI without a reference level is ranked highest first, and a note says so.
- Verdicts: against a level per variant (the definition's first reference level unless the user
  gives one) when every variant has one; otherwise the tercile of the group's rank (top /
  middle / bottom third) — so verdicts compare like with like.
- Target translator: pairs are the two variants' values per month × group. The fit is Theil–Sen
  (robust) or ordinary least squares; the band is the uncertainty of the fitted line at the
  target (bootstrap percentiles for Theil–Sen, the regression's confidence interval for OLS);
  ``spread`` is how far one month × group scatters around the line (residual quantiles). It
  refuses (no estimate) with fewer than ``min_points`` pairs or |r| < ``min_r``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import quote, unquote

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

import kpilab
from kpilab.classification import CLASS_PARAMS
from kpilab.engine import Comparison, KpiResult, grouping_columns, missing_inputs
from kpilab.formatting import format_value
from kpilab.kpis import REGISTRY, get_kpi
from kpilab.registry import Definition, Kpi, KpiError, L10n, Param

Runner = Callable[[str, tuple, tuple, dict], Comparison]
_CLASS_NAMES = tuple(p.name for p in CLASS_PARAMS)

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


def _result(variant: Variant, by: tuple, runner: Runner) -> KpiResult:
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
    results = tuple(_result(v, by, runner) for v in variants)
    return VariantComparison(kpi.id, variants, unique_labels(variants, lang), by, results)


# --------------------------------------------------------------------------- ranks and verdicts


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


# --------------------------------------------------------------------------- sensitivity


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
          runner: Runner | None = None, lang: str = "en") -> pd.DataFrame:
    """Each variant's overall value with ``param`` set to each of ``values``.

    Columns: ``param_value``, ``variant`` (label), ``value``, ``reads`` (whether the variant's
    definition declares the parameter; a variant that does not read it is computed once and
    its value repeated, drawn flat).
    """
    variants = tuple(as_variant(v) for v in variants)
    kpi = variants[0].kpi
    p = kpi.param(param)
    values = [p.parse(v) for v in values]
    runner = runner or default_runner(dataset)
    labels = unique_labels(variants, lang)
    rows = []
    for variant, label in zip(variants, labels):
        reads = param in variant.definition.params or param in _CLASS_NAMES
        fixed = None if reads else _value_of(_result(variant, (), runner))
        for value in values:
            v = _value_of(_result(variant.with_params(**{param: value}), (), runner)) if reads else fixed
            rows.append({"param_value": value, "variant": label, "value": v, "reads": reads})
    return pd.DataFrame(rows, columns=["param_value", "variant", "value", "reads"])


def select_variants(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """The rows of a long frame (``variant`` column) that belong to ``labels``."""
    return frame[frame["variant"].isin(list(labels))].reset_index(drop=True)


def _value_of(result: KpiResult) -> float:
    table = nw.from_native(result.table, eager_only=True)
    return float(table["value"][0]) if len(table) else math.nan


# --------------------------------------------------------------------------- target translator


@dataclass(frozen=True)
class Translation:
    """A target under one variant expressed under another, with how sure we can be.

    ``estimate`` is NaN when the data is too thin to tell (``message`` says why). ``low`` /
    ``high``: the band of the fitted relation at the target (``level``, e.g. 90%);
    ``spread_low`` / ``spread_high``: where a single month × group at the target would fall.
    """

    target: float
    estimate: float
    low: float
    high: float
    n: int
    r: float
    method: str
    message: str
    ok: bool = False
    slope: float = math.nan
    intercept: float = math.nan
    level: float = 0.9
    spread_low: float = math.nan
    spread_high: float = math.nan
    extrapolated: bool = False


def paired_values(dataset, x: Variant | str, y: Variant | str, group: str | None = None, *,
                  runner: Runner | None = None) -> pd.DataFrame:
    """The two variants' values per month (× ``group``): columns month, [group], x, y — only
    pairs where both values are finite."""
    x, y = as_variant(x), as_variant(y)
    by = ("month",) + ((group,) if group and group != "month" else ())
    cmp = compare_variants(dataset, [x, y], by, runner=runner)
    wide = cmp.wide()
    out = wide[list(by)].copy()
    out["x"] = pd.to_numeric(wide[cmp.labels[0]], errors="coerce").astype(float)
    out["y"] = pd.to_numeric(wide[cmp.labels[1]], errors="coerce").astype(float)
    finite = np.isfinite(out["x"]) & np.isfinite(out["y"])
    return out[finite].reset_index(drop=True)


def _fit(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, float]:
    from scipy import stats

    if method == "ols":
        res = stats.linregress(x, y)
        return float(res.slope), float(res.intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # its own slope interval on tiny samples
        res = stats.theilslopes(y, x, method="joint")   # intercept = median(y − b·x)
    return float(res.slope), float(res.intercept)


@dataclass(frozen=True)
class Relation:
    """How variant Y moves with variant X on paired month × group values: the fitted line, its
    bootstrap lines (Theil–Sen) and residuals. ``ok`` is False (with ``reason``) when the data is
    too thin to tell. Fit once, then read any target cheaply with ``translate_target``."""

    n: int
    r: float
    method: str
    ok: bool
    reason: L10n = L10n("", "")
    slope: float = math.nan
    intercept: float = math.nan
    boot: tuple[tuple[float, float], ...] = ()
    residuals: tuple[float, ...] = ()
    x_min: float = math.nan
    x_max: float = math.nan
    x_mean: float = math.nan
    sxx: float = math.nan


def _xy(pairs) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(pairs, pd.DataFrame):
        x, y = pairs["x"].to_numpy(float), pairs["y"].to_numpy(float)
    else:
        x, y = (np.asarray(a, dtype=float) for a in pairs)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def theil_sen_resampled(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Theil–Sen (slope = median of pairwise slopes, intercept = median(y − slope·x), as
    ``scipy.stats.theilslopes(method="joint")``) on each row of resampling indices ``idx``,
    vectorised: the pairwise slopes are computed once and gathered per resample.

    >>> x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 5.0])
    >>> s, a = theil_sen_resampled(x, y, np.array([[0, 1, 2, 3]]))
    >>> from scipy import stats
    >>> bool(np.isclose(s[0], stats.theilslopes(y, x, method="joint").slope))
    True
    """
    n = len(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = x[None, :] - x[:, None]
        table = np.where(dx != 0, (y[None, :] - y[:, None]) / dx, np.nan)
    iu, ju = np.triu_indices(n, 1)
    slopes = np.empty(len(idx))
    chunk = max(1, int(2_000_000 // max(len(iu), 1)))
    for start in range(0, len(idx), chunk):
        rows = idx[start:start + chunk]
        pairs = np.sort(table[rows[:, iu], rows[:, ju]], axis=1)      # NaN (equal x) sort last
        k = np.isfinite(pairs).sum(axis=1)
        r = np.arange(len(rows))
        lo, hi = pairs[r, np.maximum((k - 1) // 2, 0)], pairs[r, np.maximum(k // 2, 0)]
        slopes[start:start + chunk] = np.where(k > 0, (lo + hi) / 2, np.nan)
    intercepts = np.median(y[idx] - slopes[:, None] * x[idx], axis=1)
    return slopes, intercepts


def fit_relation(pairs, *, method: str = "theil_sen", min_points: int = 8, min_r: float = 0.5,
                 n_boot: int = 200, seed: int = 0) -> Relation:
    """Fit y = a + b·x on paired values (a frame with columns x and y, or two sequences).

    Refuses (``ok`` False) with fewer than ``min_points`` pairs, no spread in x or y, or
    |r| < ``min_r`` (r = Pearson's correlation of the pairs).
    """
    if method not in ("theil_sen", "ols"):
        raise KpiError(f"method must be theil_sen or ols, not {method!r}")
    x, y = _xy(pairs)
    n = len(x)
    flat = n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0
    r = math.nan if n < 3 or np.ptp(x) == 0 else (0.0 if np.ptp(y) == 0 else float(np.corrcoef(x, y)[0, 1]))
    if n < min_points:
        return Relation(n, r, method, False, L10n(
            f"Too thin to tell: only {n} paired month × group values (need {min_points})"
            + ("" if math.isnan(r) else f"; r = {r:.2f}") + ".",
            f"数据太少, 无法判断: 只有 {n} 组成对的 月×分组 数值 (至少需要 {min_points} 组)"
            + ("" if math.isnan(r) else f"; r = {r:.2f}") + "。"))
    if flat:
        return Relation(n, r, method, False, L10n(
            f"Too thin to tell: one of the definitions does not vary across the {n} paired values.",
            f"无法判断: 在 {n} 组成对数值中, 其中一个口径没有变化。"))
    if abs(r) < min_r:
        return Relation(n, r, method, False, L10n(
            f"The two definitions hardly move together on this data (r = {r:.2f}, n = {n}; need |r| ≥ {min_r}): "
            "a target under one says little about the other.",
            f"两个口径在这份数据上几乎不同步 (r = {r:.2f}, n = {n}; 需要 |r| ≥ {min_r}): 一个口径下的目标无法推出另一个口径下的水平。"))
    slope, intercept = _fit(x, y, method)
    boot: list[tuple[float, float]] = []
    if method == "theil_sen":
        # bounded work: with many pairs, fewer resamples (at least 50)
        reps = min(n_boot, max(50, int(3_000_000 // (n * (n - 1) // 2))))
        idx = np.random.default_rng(seed).integers(0, n, (reps, n))
        slopes, intercepts = theil_sen_resampled(x, y, idx)
        keep = np.isfinite(slopes)
        boot = list(zip(slopes[keep].tolist(), intercepts[keep].tolist()))
    resid = y - (intercept + slope * x)
    return Relation(n, r, method, True, L10n("", ""), slope, intercept, tuple(boot), tuple(map(float, resid)),
                    float(x.min()), float(x.max()), float(x.mean()), float(np.sum((x - x.mean()) ** 2)))


def translate_target(pairs, target: float, *, method: str = "theil_sen", level: float = 0.9,
                     min_points: int = 8, min_r: float = 0.5, n_boot: int = 200, seed: int = 0,
                     lang: str = "en") -> Translation:
    """Estimate the level under Y equivalent to ``target`` under X.

    ``pairs``: paired values (see ``paired_values``: columns x and y, or two sequences), or a
    ``Relation`` already fitted by ``fit_relation`` (then ``method`` and the thinness settings
    are the relation's). Returns NaN with a message saying why when the data is too thin.

    >>> xs = [0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.72, 0.75, 0.8]
    >>> t = translate_target((xs, [x + 0.05 for x in xs]), 0.65)
    >>> round(t.estimate, 3), t.ok
    (0.7, True)
    """
    from scipy import stats

    rel = pairs if isinstance(pairs, Relation) else fit_relation(
        pairs, method=method, min_points=min_points, min_r=min_r, n_boot=n_boot, seed=seed)
    target = float(target)
    nan = math.nan
    T = lambda en, zh: zh if lang == "zh" else en  # noqa: E731
    if not rel.ok:
        return Translation(target, nan, nan, nan, rel.n, rel.r, rel.method, rel.reason(lang), level=level)
    estimate = rel.intercept + rel.slope * target
    alpha = 1 - level
    n = rel.n
    if rel.method == "ols" or not rel.boot:
        t_crit = stats.t.ppf(1 - alpha / 2, n - 2)
        s = math.sqrt(sum(e * e for e in rel.residuals) / (n - 2))
        half = t_crit * s * math.sqrt(1 / n + (target - rel.x_mean) ** 2 / rel.sxx)
        low, high = estimate - half, estimate + half
    else:
        boot = np.asarray(rel.boot)
        at = boot[:, 1] + boot[:, 0] * target
        low, high = (float(q) for q in np.quantile(at, [alpha / 2, 1 - alpha / 2]))
    q_lo, q_hi = np.quantile(np.asarray(rel.residuals), [alpha / 2, 1 - alpha / 2])
    extrapolated = not (rel.x_min <= target <= rel.x_max)
    fit_name = T("Theil–Sen line", "Theil–Sen 稳健回归") if rel.method == "theil_sen" else T("least-squares line", "最小二乘回归")
    msg = T(f"From {n} paired month × group values (r = {rel.r:.2f}, {fit_name}).",
            f"基于 {n} 组成对的 月×分组 数值 (r = {rel.r:.2f}, {fit_name})。")
    if extrapolated:
        msg += T(f" The target lies outside the observed range ({rel.x_min:.3g}–{rel.x_max:.3g}): "
                 "the estimate extrapolates, treat it with care.",
                 f" 目标超出了观测范围 ({rel.x_min:.3g}–{rel.x_max:.3g}): 属于外推, 请谨慎使用。")
    return Translation(target, float(estimate), float(low), float(high), n, rel.r, rel.method, msg, ok=True,
                       slope=rel.slope, intercept=rel.intercept, level=level, spread_low=float(estimate + q_lo),
                       spread_high=float(estimate + q_hi), extrapolated=extrapolated)


def default_pairing_group(kpi: Kpi | str, dataset) -> str | None:
    """The group used with month for the translator's pairs (and the Lab's first grouping):
    ``category`` when SKU columns can group the KPI (every definition accepts it), else the
    KPI's first own dimension, else none (months only)."""
    kpi = get_kpi(kpi) if isinstance(kpi, str) else kpi
    valid = grouping_columns(kpi, dataset)
    for candidate in ("category", *[d for d in kpi.dims if d != "sku"]):
        if candidate in valid and candidate != "month":
            return candidate
    return None


def default_target(variant: Variant | str, pairs: pd.DataFrame) -> float:
    """A target to start the translator with: the definition's first reference level when it
    lies within the paired values' range, else their median (a typical month × group)."""
    variant = as_variant(variant)
    x = pd.to_numeric(pairs["x"], errors="coerce") if len(pairs) else pd.Series(dtype=float)
    x = x[np.isfinite(x)]
    ref = next(iter(variant.definition.references), None)
    if ref is not None and (x.empty or x.min() <= ref.value <= x.max()):
        return float(ref.value)
    return float(x.median()) if len(x) else (float(ref.value) if ref is not None else math.nan)


# --------------------------------------------------------------------------- KPI tree

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
                    value = _value_of(_result(variant, (), runner))
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


# --------------------------------------------------------------------------- URL state


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
