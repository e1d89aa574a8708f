"""Target translator: what a target under one variant means under another, from the two variants'
values paired per month × group on this data (Theil–Sen or least squares, with a band)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from kpilab.engine import grouping_columns
from kpilab.kpis import get_kpi
from kpilab.registry import Kpi, KpiError, L10n
from kpilab.lab.variants import Runner, Variant, as_variant, compare_variants


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


def theil_sen_resampled(x: np.ndarray, y: np.ndarray, idx: np.ndarray,
                        progress: Callable[[float, str], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Theil–Sen (slope = median of pairwise slopes, intercept = median(y − slope·x), as
    ``scipy.stats.theilslopes(method="joint")``) on each row of resampling indices ``idx``,
    vectorised: the pairwise slopes are computed once and gathered per resample, in chunks of
    about 2 million pairs; ``progress(share, "resamples done/all")`` is called before each chunk.

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
        if progress is not None:
            progress(start / len(idx), f"{start}/{len(idx)}")
        rows = idx[start:start + chunk]
        pairs = np.sort(table[rows[:, iu], rows[:, ju]], axis=1)      # NaN (equal x) sort last
        k = np.isfinite(pairs).sum(axis=1)
        r = np.arange(len(rows))
        lo, hi = pairs[r, np.maximum((k - 1) // 2, 0)], pairs[r, np.maximum(k // 2, 0)]
        slopes[start:start + chunk] = np.where(k > 0, (lo + hi) / 2, np.nan)
    intercepts = np.median(y[idx] - slopes[:, None] * x[idx], axis=1)
    return slopes, intercepts


def fit_relation(pairs, *, method: str = "theil_sen", min_points: int = 8, min_r: float = 0.5,
                 n_boot: int = 200, seed: int = 0, progress: Callable[[float, str], None] | None = None) -> Relation:
    """Fit y = a + b·x on paired values (a frame with columns x and y, or two sequences).

    Refuses (``ok`` False) with fewer than ``min_points`` pairs, no spread in x or y, or
    |r| < ``min_r`` (r = Pearson's correlation of the pairs). ``progress(share, text)`` follows
    the Theil–Sen bootstrap (the slow part with many pairs) and ends with 1.0.
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
        slopes, intercepts = theil_sen_resampled(x, y, idx, progress)
        keep = np.isfinite(slopes)
        boot = list(zip(slopes[keep].tolist(), intercepts[keep].tolist()))
    if progress is not None:
        progress(1.0, "")
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
