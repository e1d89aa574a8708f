"""OKR sheets: objectives whose key results are KPI variants with a baseline from the team's own
data, a target, an owner and a deadline — checked for obvious mistakes, exported to Excel, CSV
and Markdown, read back, and tracked against a newer dataset.

A key result's ``variant`` is a ``kpilab.lab.Variant`` (KPI, definition, parameters), so the
sheet says exactly how the number is computed and a newer dataset gives a comparable value.

Reading of the brief (choices made here):

- Baseline over a month range: ``pooled`` sums the definition's additive columns over the
  months (Σnumerator / Σdenominator — the spec's "pooled"); ``mean`` averages the monthly
  values; ``last`` takes the range's last month. ``auto`` is ``mean`` for money, unit and count
  KPIs (a monthly figure, whose sum over months would not be comparable) and ``pooled`` for
  shares, ratios and days.
- Shares are stored as fractions (0.65 = 65%), in files too (the Excel cells are formatted as
  percentages).
- Progress = (current − baseline) / (target − baseline): 0 at the baseline, 1 at the target.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from kpilab import engines
from kpilab.engine import Context, pool
from kpilab.export import to_csv_bytes, to_xlsx_bytes, unneutralise, unneutralise_text
from kpilab.formatting import format_value
from kpilab.lab.disagreement import _target_band
from kpilab.lab.variants import Runner, Variant, _param_text, as_variant, default_runner
from kpilab.registry import KpiError, L10n

NAN = math.nan
METHODS = ("auto", "pooled", "mean", "last")
COLUMNS = ("objective", "key_result", "kpi", "definition", "params", "label", "kpi_name", "definition_name",
           "unit", "direction", "baseline_from", "baseline_to", "baseline_method", "baseline", "target", "owner",
           "deadline", "variant", "sheet_title", "source")
MAX_UPLOAD_BYTES = 5_000_000
MAX_UNZIPPED_BYTES = 50_000_000
MAX_ROWS = 500


# --------------------------------------------------------------------------- the sheet


@dataclass(frozen=True)
class KeyResult:
    """One key result: a KPI variant, its baseline over a month range, a target, an owner and a
    deadline. ``title`` is the team's own wording (optional)."""

    variant: Variant
    target: float
    baseline: float = NAN
    baseline_from: str = ""
    baseline_to: str = ""
    method: str = "auto"
    owner: str = ""
    deadline: dt.date | None = None
    title: str = ""

    def __post_init__(self):
        object.__setattr__(self, "variant", as_variant(self.variant))
        object.__setattr__(self, "target", _float(self.target))
        object.__setattr__(self, "baseline", _float(self.baseline))
        object.__setattr__(self, "deadline", _date(self.deadline))
        if self.method not in METHODS:
            raise KpiError(f"baseline method must be one of {', '.join(METHODS)}, not {self.method!r}")

    def headline(self, lang: str = "en") -> str:
        """The team's wording, else 'KPI · variant' (no numbers: tables show them apart)."""
        return self.title or f"{self.variant.kpi.name(lang)} · {self.variant.describe(lang)}"

    def describe(self, lang: str = "en") -> str:
        """The key result in words, e.g. 'Plan accuracy (1-MAPE) from 61.0% to 65.0%'."""
        if self.title:
            return self.title
        kpi, unit = self.variant.kpi, self.variant.unit
        text = f"{kpi.name(lang)} · {self.variant.describe(lang)}"
        if lang == "zh":
            return f"{text}: {format_value(self.baseline, unit)} → {format_value(self.target, unit)}"
        return f"{text}: from {format_value(self.baseline, unit)} to {format_value(self.target, unit)}"


@dataclass(frozen=True)
class Objective:
    title: str
    key_results: tuple[KeyResult, ...] = ()


@dataclass(frozen=True)
class OkrSheet:
    """Objectives and their key results; ``source`` names the data the baselines come from."""

    objectives: tuple[Objective, ...] = ()
    title: str = ""
    source: str = ""

    @property
    def key_results(self) -> list[tuple[int, int, KeyResult]]:
        return [(i, j, kr) for i, o in enumerate(self.objectives) for j, kr in enumerate(o.key_results)]

    def add(self, objective: str, key_result: KeyResult | None = None) -> "OkrSheet":
        """A new sheet with ``key_result`` added under ``objective`` (created when new)."""
        objective = objective.strip()
        objectives = list(self.objectives)
        for i, o in enumerate(objectives):
            if o.title == objective:
                if key_result is not None:
                    objectives[i] = replace(o, key_results=o.key_results + (key_result,))
                return replace(self, objectives=tuple(objectives))
        objectives.append(Objective(objective, (key_result,) if key_result is not None else ()))
        return replace(self, objectives=tuple(objectives))

    def remove(self, objective: int, key_result: int | None = None) -> "OkrSheet":
        """A new sheet without key result ``key_result`` of objective ``objective`` (or without
        the whole objective when ``key_result`` is None)."""
        objectives = list(self.objectives)
        if key_result is None:
            del objectives[objective]
        else:
            o = objectives[objective]
            objectives[objective] = replace(o, key_results=tuple(k for j, k in enumerate(o.key_results)
                                                                 if j != key_result))
        return replace(self, objectives=tuple(objectives))


def _float(value) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return NAN
    try:
        return float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise KpiError(f"cannot read {value!r} as a number") from None


def _date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise KpiError(f"cannot read deadline {value!r}: use YYYY-MM-DD") from None


# --------------------------------------------------------------------------- baselines


def resolve_method(variant: Variant, method: str = "auto") -> str:
    """``auto`` → ``mean`` for money, units and count values, else ``pooled``."""
    if method != "auto":
        return method
    return "mean" if variant.unit in ("money", "units", "count") else "pooled"


def monthly(dataset, variant: Variant | str, runner: Runner | None = None) -> pd.DataFrame:
    """The variant's value per month (columns month, value)."""
    variant = as_variant(variant)
    runner = runner or default_runner(dataset)
    result = runner(variant.kpi_id, (variant.definition_id,), ("month",), dict(variant.params)).results[
        variant.definition_id]
    table = nw.from_native(result.table, eager_only=True).to_pandas()
    return table[["month", "value"]].sort_values("month", ignore_index=True)


def months_with_data(dataset, variant: Variant | str, runner: Runner | None = None) -> list[str]:
    """The months in which the variant has a finite value."""
    table = monthly(dataset, variant, runner)
    values = pd.to_numeric(table["value"], errors="coerce")
    return table.loc[np.isfinite(values), "month"].astype(str).tolist()


def period_value(dataset, variant: Variant | str, start: str | None = None, end: str | None = None,
                 method: str = "auto", runner: Runner | None = None) -> float:
    """The variant's value over months ``start``…``end`` (inclusive; None = open), aggregated by
    ``method`` (see the module docstring). NaN when the range holds no data."""
    variant = as_variant(variant)
    method = resolve_method(variant, method)
    if method not in ("pooled", "mean", "last"):
        raise KpiError(f"unknown baseline method {method!r}")
    if start and end and start > end:
        raise KpiError(f"the period starts ({start}) after it ends ({end})")
    runner = runner or default_runner(dataset)
    result = runner(variant.kpi_id, (variant.definition_id,), ("month",), dict(variant.params)).results[
        variant.definition_id]
    table = nw.from_native(result.table, eager_only=True).to_pandas()
    inside = pd.Series(True, index=table.index)
    if start:
        inside &= table["month"].astype(str) >= start
    if end:
        inside &= table["month"].astype(str) <= end
    chosen = table[inside]
    values = pd.to_numeric(chosen["value"], errors="coerce").astype(float)
    if method == "mean":
        finite = values[np.isfinite(values)]
        return float(finite.mean()) if len(finite) else NAN
    if method == "last":
        finite = chosen.assign(v=values)[np.isfinite(values)]
        return float(finite.sort_values("month")["v"].iloc[-1]) if len(finite) else NAN
    detail = result.lazy_detail()
    if "month" not in detail.collect_schema().names():
        finite = values[np.isfinite(values)]
        return float(finite.mean()) if len(finite) else NAN
    keep = ([nw.col("month") >= start] if start else []) + ([nw.col("month") <= end] if end else [])
    part = detail.filter(*keep) if keep else detail
    if engines.count(part) == 0:
        return NAN
    return float(engines.scalar(pool(Context(dataset, result.params), part, (), variant.definition),
                                nw.col("value")))


def suggest_target(variant: Variant | str, baseline: float) -> float:
    """A starting target: the baseline rounded to 3 significant figures (in display units:
    percent for shares) in the improving direction; for a target KPI its reference level (the
    middle of its reference band), else the baseline rounded.

    >>> suggest_target(Variant("plan_accuracy", "wape"), 0.727116)
    0.728
    >>> suggest_target(Variant("plan_bias", "bias"), 0.08)
    0.0
    """
    from kpilab.lab import display_scale

    variant = as_variant(variant)
    if baseline is None or not math.isfinite(baseline):
        return NAN
    band = _target_band(variant.definition)
    if variant.direction == "target" and band is not None:
        return (band[0] + band[1]) / 2
    scale = display_scale(variant.unit)
    shown = baseline * scale
    if shown == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(shown))) - 2)
    if variant.direction == "higher":
        rounded = math.floor(shown / step + 1e-9) * step + step
    elif variant.direction == "lower":
        rounded = math.ceil(shown / step - 1e-9) * step - step
    else:
        rounded = round(shown / step) * step
    return float(f"{rounded / scale:.12g}")


def make_key_result(dataset, variant: Variant | str, target: float, start: str | None, end: str | None, *,
                    method: str = "auto", owner: str = "", deadline=None, title: str = "",
                    runner: Runner | None = None) -> KeyResult:
    """A key result whose baseline is computed from ``dataset`` over ``start``…``end``."""
    variant = as_variant(variant)
    base = period_value(dataset, variant, start, end, method, runner)
    return KeyResult(variant, target, base, start or "", end or "", method, owner.strip(), deadline, title.strip())


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Issue:
    """A problem found in a sheet: ``error`` (cannot be used), ``warning`` (probably a mistake,
    allowed) or ``info``. ``key_result`` is None for an objective-level issue."""

    severity: str
    objective: int
    key_result: int | None
    field: str
    message: L10n


def validate(sheet: OkrSheet, today: dt.date | None = None) -> list[Issue]:
    """Obvious mistakes, flagged not forbidden: a target on the wrong side of the baseline, a
    share outside 0–100%, a deadline in the past, no baseline, no owner, an empty objective."""
    today = today or dt.date.today()
    issues: list[Issue] = []
    if not sheet.objectives:
        issues.append(Issue("info", -1, None, "objective", L10n("The sheet has no objective yet.", "还没有目标。")))
    for i, objective in enumerate(sheet.objectives):
        if not objective.title.strip():
            issues.append(Issue("warning", i, None, "objective", L10n("An objective has no title.", "有目标没有标题。")))
        if not objective.key_results:
            issues.append(Issue("info", i, None, "key_results",
                                L10n(f"Objective “{objective.title}” has no key result.",
                                     f"目标 “{objective.title}” 还没有关键结果。")))
        seen: set[str] = set()
        for j, kr in enumerate(objective.key_results):
            issues += _check_kr(i, j, kr, today)
            if kr.variant.key in seen:
                issues.append(Issue("info", i, j, "variant", L10n("The same KPI variant appears twice in this objective.",
                                                                  "同一目标下出现了两次相同的指标口径。")))
            seen.add(kr.variant.key)
    return issues


def _check_kr(i: int, j: int, kr: KeyResult, today: dt.date) -> list[Issue]:
    out: list[Issue] = []
    kpi, unit, direction = kr.variant.kpi, kr.variant.unit, kr.variant.direction
    f = lambda v: format_value(v, unit)  # noqa: E731
    add = lambda sev, fld, en, zh: out.append(Issue(sev, i, j, fld, L10n(en, zh)))  # noqa: E731
    name = kpi.name
    if math.isnan(kr.target):
        add("error", "target", f"{name.en}: no target.", f"{name.zh}: 没有目标值。")
    if unit == "share":
        if not math.isnan(kr.target) and not 0 <= kr.target <= 1:
            hint = f" (did you mean {kr.target / 100:.1%}?)" if 1 < kr.target <= 100 else ""
            hint_zh = f" (是否想填 {kr.target / 100:.1%}?)" if 1 < kr.target <= 100 else ""
            add("warning", "target", f"{name.en}: the target {kr.target:g} is a share outside 0–100%{hint}.",
                f"{name.zh}: 目标 {kr.target:g} 是占比, 却不在 0–100% 之间{hint_zh}。")
        if not math.isnan(kr.baseline) and not 0 <= kr.baseline <= 1:
            add("warning", "baseline", f"{name.en}: the baseline is a share outside 0–100%.",
                f"{name.zh}: 基线是占比, 却不在 0–100% 之间。")
    if math.isnan(kr.baseline):
        add("warning", "baseline", f"{name.en}: no baseline (the chosen months hold no data).",
            f"{name.zh}: 没有基线 (所选月份没有数据)。")
    elif not math.isnan(kr.target):
        if kr.target == kr.baseline:
            add("info", "target", f"{name.en}: the target equals the baseline — no improvement is asked.",
                f"{name.zh}: 目标等于基线 — 没有要求改进。")
        elif direction == "higher" and kr.target < kr.baseline:
            add("warning", "target", f"{name.en}: higher is better, but the target {f(kr.target)} is below the "
                f"baseline {f(kr.baseline)}.", f"{name.zh}: 越高越好, 但目标 {f(kr.target)} 低于基线 {f(kr.baseline)}。")
        elif direction == "lower" and kr.target > kr.baseline:
            add("warning", "target", f"{name.en}: lower is better, but the target {f(kr.target)} is above the "
                f"baseline {f(kr.baseline)}.", f"{name.zh}: 越低越好, 但目标 {f(kr.target)} 高于基线 {f(kr.baseline)}。")
        elif direction == "target":
            band = _target_band(kr.variant.definition)
            if band is not None:
                dist = lambda v: max(band[0] - v, 0.0, v - band[1])  # noqa: E731
                if dist(kr.target) > dist(kr.baseline):
                    level = f(band[0]) if band[0] == band[1] else f"{f(band[0])}–{f(band[1])}"
                    add("warning", "target", f"{name.en}: the target is further from the reference level {level} "
                        "than the baseline.", f"{name.zh}: 目标比基线离参考水平 {level} 更远。")
    if kr.deadline is None:
        add("info", "deadline", f"{name.en}: no deadline.", f"{name.zh}: 没有截止日期。")
    elif kr.deadline < today:
        add("warning", "deadline", f"{name.en}: the deadline {kr.deadline.isoformat()} is in the past.",
            f"{name.zh}: 截止日期 {kr.deadline.isoformat()} 已经过去。")
    if not kr.owner.strip():
        add("info", "owner", f"{name.en}: no owner.", f"{name.zh}: 没有负责人。")
    if kr.baseline_from and kr.baseline_to and kr.baseline_from > kr.baseline_to:
        add("error", "baseline_from", f"{name.en}: the baseline period starts after it ends.",
            f"{name.zh}: 基线期的开始晚于结束。")
    return out


def issues_frame(issues: Sequence[Issue], sheet: OkrSheet, lang: str = "en") -> pd.DataFrame:
    """Issues as a table (severity, objective, key result, field, message)."""
    rows = []
    for issue in issues:
        objective = sheet.objectives[issue.objective].title if 0 <= issue.objective < len(sheet.objectives) else ""
        rows.append({"severity": issue.severity, "objective": objective,
                     "key_result": "" if issue.key_result is None else issue.key_result + 1,
                     "field": issue.field, "message": issue.message(lang)})
    return pd.DataFrame(rows, columns=["severity", "objective", "key_result", "field", "message"])


# --------------------------------------------------------------------------- flat table, files


def _params_text(variant: Variant) -> str:
    return ";".join(f"{k}={_param_text(v)}" for k, v in variant.params.items())


def to_frame(sheet: OkrSheet, lang: str = "en") -> pd.DataFrame:
    """One row per key result (an objective without key results is one row with blanks)."""
    rows = []
    for objective in sheet.objectives:
        if not objective.key_results:
            rows.append({"objective": objective.title, "sheet_title": sheet.title, "source": sheet.source})
        for kr in objective.key_results:
            v = kr.variant
            rows.append({"objective": objective.title, "key_result": kr.title, "kpi": v.kpi_id,
                         "definition": v.definition_id, "params": _params_text(v), "label": v.label,
                         "kpi_name": v.kpi.name(lang), "definition_name": v.definition.name(lang),
                         "unit": v.unit, "direction": v.direction, "baseline_from": kr.baseline_from,
                         "baseline_to": kr.baseline_to, "baseline_method": kr.method, "baseline": kr.baseline,
                         "target": kr.target, "owner": kr.owner,
                         "deadline": kr.deadline.isoformat() if kr.deadline else "", "variant": v.text,
                         "sheet_title": sheet.title, "source": sheet.source})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in ("baseline", "target"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    text_cols = [c for c in COLUMNS if c not in ("baseline", "target")]
    frame[text_cols] = frame[text_cols].astype(object).where(frame[text_cols].notna(), "")
    return frame


def _cell(value) -> str:
    """An id-like cell (kpi, definition, month …): text, trimmed."""
    return _text(value).strip()


def _text(value) -> str:
    """A free-text cell (objective, owner, wording): kept as written; blank for empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_ooxml(value):
    """Excel files escape control characters as _xHHHH_ (ST_Xstring); openpyxl leaves them."""
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value) if isinstance(value, str) else value


def from_frame(frame: pd.DataFrame, *, title: str = "", source: str = "") -> tuple[OkrSheet, list[str]]:
    """Read a flat table (as written by ``to_frame``, possibly edited in Excel) back into a
    sheet. Rows that cannot be read are skipped and named in the problems (row numbers as the
    spreadsheet shows them, header = row 1)."""
    frame = unneutralise(frame)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "objective" not in frame.columns:
        raise KpiError("the file has no 'objective' column: is it an OKR sheet exported by KPI Lab?")
    if len(frame) > MAX_ROWS:
        raise KpiError(f"the sheet has more than {MAX_ROWS} rows")
    sheet = OkrSheet(title=title, source=source)
    problems: list[str] = []
    for n, row in enumerate(frame.to_dict("records"), start=2):
        objective = _text(row.get("objective"))
        has_kr = any(_cell(row.get(c)) for c in ("variant", "kpi"))
        if not objective.strip() and not has_kr:
            continue
        if not has_kr:
            sheet = sheet.add(objective)
            continue
        try:
            text = _cell(row.get("variant"))
            if text:
                variant = Variant.from_text(text)
            else:
                params = {}
                for pair in _cell(row.get("params")).split(";"):
                    if pair.strip():
                        name, _, value = pair.partition("=")
                        params[name.strip()] = value.strip()
                variant = Variant(_cell(row.get("kpi")), _cell(row.get("definition")), params, _cell(row.get("label")))
            kr = KeyResult(variant, row.get("target"), row.get("baseline"), _month(row.get("baseline_from")),
                           _month(row.get("baseline_to")), _cell(row.get("baseline_method")) or "auto",
                           _text(row.get("owner")), row.get("deadline"), _text(row.get("key_result")))
        except KpiError as exc:
            problems.append(f"row {n}: {exc}")
            continue
        sheet = sheet.add(objective, kr)
    return sheet, problems


def _month(value) -> str:
    if isinstance(value, (pd.Timestamp, dt.date)):
        return f"{value.year:04d}-{value.month:02d}"
    return _cell(value)[:7]


def _share_format(frame: pd.DataFrame):
    def fmt(sheet: str, row: int, column: str) -> str | None:
        if sheet == "OKR" and column in ("baseline", "target"):
            return "0.0%" if frame["unit"].iloc[row] in ("share", "ratio") else "#,##0.00"
        return None
    return fmt


def _about(sheet: OkrSheet) -> pd.DataFrame:
    return pd.DataFrame({
        "item": ["title", "baselines from", "exported", "how to read", "怎么读"],
        "value": [sheet.title, sheet.source, dt.date.today().isoformat(),
                  "One row per key result. 'variant' says exactly how the KPI is computed (KPI, definition, "
                  "parameters); keep it when you edit the sheet so KPI Lab can track progress. Shares are "
                  "fractions (0.65 = 65%).",
                  "每行一个关键结果。'variant' 列精确说明指标的计算口径 (指标、定义、参数); 编辑时请保留, "
                  "KPI Lab 才能跟踪进度。占比以小数表示 (0.65 = 65%)。"]})


def to_xlsx(sheet: OkrSheet, lang: str = "en") -> bytes:
    """The sheet as an Excel workbook (sheet 'OKR', plus 'About'); formulas never run."""
    frame = to_frame(sheet, lang)
    widths = {"OKR": {"objective": 30, "key_result": 30, "params": 24, "kpi_name": 24, "definition_name": 24,
                      "variant": 40, "owner": 16}, "About": {"item": 16, "value": 90}}
    return to_xlsx_bytes({"OKR": frame, "About": _about(sheet)}, cell_format=_share_format(frame),
                         column_widths=widths)


def to_csv(sheet: OkrSheet, lang: str = "en") -> bytes:
    """The sheet as CSV (UTF-8 with BOM, formulas neutralised, numbers at full precision)."""
    # CRLF rows: the csv writer then quotes any text holding a CR or LF, so the file reads back intact
    return to_csv_bytes(to_frame(sheet, lang))


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|!#"})


def _md(text: str) -> str:
    return " ".join(str(text).split()).translate(_MD_SPECIAL)


def to_markdown(sheet: OkrSheet, lang: str = "en") -> str:
    """The sheet as Markdown: one table per objective. User text is escaped (no links, images
    or HTML come through)."""
    zh = lang == "zh"
    lines = [f"# {_md(sheet.title or ('OKR' if not zh else 'OKR 表'))}", ""]
    if sheet.source:
        lines += [("基线数据: " if zh else "Baselines from: ") + _md(sheet.source), ""]
    head = (["关键结果", "指标 · 口径", "基线 (期间)", "目标", "负责人", "截止"] if zh else
            ["Key result", "KPI · definition", "Baseline (period)", "Target", "Owner", "Deadline"])
    for i, objective in enumerate(sheet.objectives, start=1):
        lines += [f"## {'目标' if zh else 'Objective'} {i}: {_md(objective.title)}", ""]
        if not objective.key_results:
            lines += ["_" + ("还没有关键结果" if zh else "No key result yet") + "_", ""]
            continue
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for j, kr in enumerate(objective.key_results, start=1):
            unit = kr.variant.unit
            period = f"{kr.baseline_from}…{kr.baseline_to}" if kr.baseline_from or kr.baseline_to else ""
            cells = [kr.title or f"KR {i}.{j}", f"{kr.variant.kpi.name(lang)} · {kr.variant.describe(lang)}",
                     f"{format_value(kr.baseline, unit)} ({period})" if period else format_value(kr.baseline, unit),
                     format_value(kr.target, unit), kr.owner, kr.deadline.isoformat() if kr.deadline else ""]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
        lines.append("")
    lines += ["", ("口径 (variant): " if zh else "Definitions (variant): ")]
    for _, _, kr in sheet.key_results:
        lines.append(f"- `{kr.variant.text.replace('`', '')}`")
    return "\n".join(lines).rstrip() + "\n"


def read_sheet(name: str, data: bytes) -> tuple[OkrSheet, list[str]]:
    """Read an exported sheet back from .xlsx or .csv bytes (checked for size first)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise KpiError(f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB")
    lower = name.lower()
    if lower.endswith(".xlsx"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if sum(i.file_size for i in z.infolist()) > MAX_UNZIPPED_BYTES:
                    raise KpiError("the workbook unpacks to more than 50 MB")
        except zipfile.BadZipFile:
            raise KpiError("this is not a valid .xlsx file") from None
        book = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, engine="openpyxl")
        frame = book.get("OKR", next(iter(book.values())))
        about = book.get("About")
        meta = {}
        if about is not None and {"item", "value"} <= set(about.columns):
            meta = {str(k): _text(unneutralise_text(_unescape_ooxml(v))) for k, v in zip(about["item"], about["value"])}
        frame = frame.where(frame.notna(), None).map(_unescape_ooxml)
        return from_frame(frame, title=meta.get("title", ""), source=meta.get("baselines from", ""))
    if lower.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        meta = {c: next((unneutralise_text(str(v)) for v in frame[c] if str(v).strip()), "")
                if c in frame.columns else "" for c in ("sheet_title", "source")}
        return from_frame(frame, title=meta["sheet_title"], source=meta["source"])
    raise KpiError("upload an .xlsx or .csv file exported by KPI Lab")


# --------------------------------------------------------------------------- tracking


def progress(sheet: OkrSheet, dataset, start: str | None = None, end: str | None = None, *,
             runner: Runner | None = None, lang: str = "en") -> pd.DataFrame:
    """Each key result's current value on ``dataset`` over ``start``…``end`` (default: the
    variant's last month with data), with the share of the way from baseline to target.

    Columns: objective, key_result (text), variant, unit, direction, baseline, current, target,
    progress, status (achieved / on the way / going backwards / off target / no data), period,
    note.
    """
    runner = runner or default_runner(dataset)
    rows = []
    for i, j, kr in sheet.key_results:
        objective = sheet.objectives[i].title
        row = {"objective": objective, "key_result": kr.headline(lang), "kr": f"{i + 1}.{j + 1}",
               "variant": kr.variant.text, "unit": kr.variant.unit, "direction": kr.variant.direction,
               "baseline": kr.baseline, "current": NAN, "target": kr.target, "progress": NAN,
               "status": "no data", "period": "", "note": ""}
        try:
            months = months_with_data(dataset, kr.variant, runner)
            lo, hi = start, end
            if not lo and not hi:
                lo = hi = months[-1] if months else None
            if lo is None and hi is None:
                row["note"] = L10n("no month with data", "没有有数据的月份")(lang)
            else:
                row["current"] = period_value(dataset, kr.variant, lo, hi, kr.method, runner)
                row["period"] = lo if lo == hi else f"{lo or '…'}–{hi or '…'}"
        except KpiError as exc:
            row["note"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - one key result must not break the others
            row["note"] = f"{type(exc).__name__}: {exc}"
        row["progress"], row["status"] = _progress(kr, row["current"])
        rows.append(row)
    return pd.DataFrame(rows, columns=["objective", "kr", "key_result", "variant", "unit", "direction", "baseline",
                                       "current", "target", "progress", "status", "period", "note"])


def progress_table(progress_frame: pd.DataFrame, lang: str = "en", status_labels: Mapping[str, str] | None = None
                   ) -> pd.DataFrame:
    """``progress`` for people: values formatted in their units, progress in percent."""
    zh = lang == "zh"
    labels = status_labels or {}
    rows = []
    for r in progress_frame.to_dict("records"):
        rows.append({
            "KR": r["kr"], ("关键结果" if zh else "Key result"): r["key_result"],
            ("基线" if zh else "Baseline"): format_value(r["baseline"], r["unit"]),
            ("当前" if zh else "Current"): format_value(r["current"], r["unit"]),
            ("目标" if zh else "Target"): format_value(r["target"], r["unit"]),
            ("进度" if zh else "Progress"): "—" if not math.isfinite(r["progress"]) else f"{r['progress']:.0%}",
            ("状态" if zh else "Status"): labels.get(r["status"], r["status"]),
            ("期间" if zh else "Period"): r["period"], ("说明" if zh else "Note"): r["note"]})
    return pd.DataFrame(rows)


def _progress(kr: KeyResult, current: float) -> tuple[float, str]:
    """(share of the way from baseline to target, status). A target on the wrong side of the
    baseline (a 'hold the line' key result) has no share: it is achieved or off target."""
    if current is None or not math.isfinite(current) or not math.isfinite(kr.target):
        return NAN, "no data"
    direction = kr.variant.direction
    if direction == "higher":
        met = current >= kr.target
    elif direction == "lower":
        met = current <= kr.target
    else:
        met = None
    base = kr.baseline
    if not math.isfinite(base) or base == kr.target:
        return NAN, "achieved" if (met if met is not None else math.isclose(current, kr.target)) else "off target"
    wrong_side = (direction == "higher" and kr.target < base) or (direction == "lower" and kr.target > base)
    if wrong_side:
        return NAN, "achieved" if met else "off target"
    share = (current - base) / (kr.target - base)
    if share >= 1 or met:
        return float(share), "achieved"
    return float(share), "going backwards" if share < 0 else "on the way"


# --------------------------------------------------------------------------- URL state


def sheet_to_json(sheet: OkrSheet) -> dict:
    """A compact JSON form (short keys) of the sheet."""
    def kr(k: KeyResult) -> dict:
        out = {"v": k.variant.text, "g": _num(k.target), "b": _num(k.baseline), "f": k.baseline_from,
               "u": k.baseline_to, "m": k.method, "w": k.owner, "d": k.deadline.isoformat() if k.deadline else "",
               "t": k.title}
        return {key: value for key, value in out.items() if value not in ("", None) and not (key == "m" and value == "auto")}
    return {"t": sheet.title, "s": sheet.source,
            "o": [{"t": o.title, "k": [kr(k) for k in o.key_results]} for o in sheet.objectives]}


def _num(value: float):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def sheet_from_json(data: Mapping) -> OkrSheet:
    if not isinstance(data, Mapping):
        raise KpiError("not an OKR sheet")
    objectives = []
    for o in data.get("o", [])[:100]:
        krs = tuple(KeyResult(k["v"], k.get("g"), k.get("b"), k.get("f", ""), k.get("u", ""), k.get("m", "auto"),
                              k.get("w", ""), k.get("d") or None, k.get("t", "")) for k in o.get("k", [])[:50])
        objectives.append(Objective(str(o.get("t", "")), krs))
    return OkrSheet(tuple(objectives), str(data.get("t", "")), str(data.get("s", "")))


def encode_sheet(sheet: OkrSheet, max_chars: int = 1800) -> str | None:
    """The sheet as a short URL-safe text (JSON, deflated, base64url), or None when longer than
    ``max_chars`` (then the page says the sheet is too big for a link: export it instead)."""
    raw = json.dumps(sheet_to_json(sheet), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")
    return text if len(text) <= max_chars else None


def decode_sheet(text: str, max_bytes: int = 200_000) -> OkrSheet:
    """Read ``encode_sheet``'s text back; anything malformed is a KpiError."""
    try:
        padded = text + "=" * (-len(text) % 4)
        packed = base64.urlsafe_b64decode(padded.encode("ascii"))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, max_bytes)
        if inflater.unconsumed_tail:
            raise KpiError("the sheet in the link is too large")
        data = json.loads(raw.decode("utf-8"))
    except KpiError:
        raise
    except Exception as exc:  # noqa: BLE001 - a link can hold anything
        raise KpiError(f"cannot read the sheet in the link ({type(exc).__name__})") from None
    try:
        return sheet_from_json(data)
    except KpiError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise KpiError(f"cannot read the sheet in the link ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------- team templates


@dataclass(frozen=True)
class TemplateKeyResult:
    """A key result of a team template: a KPI variant (text form) and how its target follows
    from the baseline computed on the team's data:

    - ``relative``: target = baseline × (1 + change)            (lead time −20 %: change −0.20)
    - ``complement``: target = 1 − (1 − baseline) × (1 + change)  (defect rate −15 % on a pass rate)
    - ``level``: target = change, whatever the baseline           (scorecard ≥ 90: 0.90)

    ``tables`` names what the KPI reads, so a template whose KPI is not in this version of the
    catalog can still say which table is missing."""

    variant: str
    rule: str
    change: float
    wording: L10n
    how: L10n
    tables: tuple[str, ...] = ()

    def target(self, baseline: float) -> float:
        if self.rule == "level":
            return self.change
        if baseline is None or not math.isfinite(baseline):
            return NAN
        if self.rule == "complement":
            return 1 - (1 - baseline) * (1 + self.change)
        return baseline * (1 + self.change)


@dataclass(frozen=True)
class Template:
    """A team's objective with its key results (the OKR Workshop's starting points)."""

    id: str
    name: L10n
    objective: L10n
    key_results: tuple[TemplateKeyResult, ...]
    source: L10n


TEMPLATES: dict[str, Template] = {t.id: t for t in (
    Template(
        "sourcing", L10n("Sourcing team", "采购团队"),
        L10n("Faster, cheaper and better supply from our suppliers", "供应商交付更快、更省、更好"),
        (TemplateKeyResult("supplier_lead_time:mean_first_receipt", "relative", -0.20,
                           L10n("Reduce supplier lead time by 20 %", "供应商交货周期缩短 20 %"),
                           L10n("Mean days from order to first receipt; target = baseline × 0.8.",
                                "下单到首批到货的平均天数; 目标 = 基线 × 0.8。"),
                           ("purchase_orders", "receipts")),
         TemplateKeyResult("purchase_savings:vs_baseline", "level", 0.10,
                           L10n("Reduce sourcing costs by 10 %", "采购成本降低 10 %"),
                           L10n("Paying 10 % less than in the baseline period (the first three months of the data) "
                                "is a saving of 10 % against the baseline prices: target 10 %.",
                                "比基线期 (数据中的前三个月) 少付 10 %, 即相对基线价的降本率达到 10 %: 目标 10 %。"),
                           ("purchase_orders",)),
         TemplateKeyResult("inspection_pass_rate:by_quantity", "complement", -0.15,
                           L10n("Reduce the product defect rate by 15 %", "产品次品率降低 15 %"),
                           L10n("Defect rate = 1 − inspection pass rate by quantity (units failing incoming "
                                "inspection); 15 % fewer defects: target = 1 − (1 − baseline) × 0.85.",
                                "次品率 = 1 − 按数量的验货合格率 (入库验货不合格的件数); 次品减少 15 %: "
                                "目标 = 1 − (1 − 基线) × 0.85。"),
                           ("inspections",)),
         TemplateKeyResult("return_rate:same_month", "relative", -0.25,
                           L10n("Decrease customer returns due to quality issues by 25 %", "因质量问题的客户退货减少 25 %"),
                           L10n("The quality refund rate (品退率: refunds with a quality reason over sub-orders paid); "
                                "target = baseline × 0.75.",
                                "品退率 (质量原因退款的子订单 / 当月支付子订单); 目标 = 基线 × 0.75。"),
                           ("orders", "returns")),
         TemplateKeyResult("supplier_scorecard:weighted", "level", 0.90,
                           L10n("Keep the supplier scorecard at 90 or above", "供应商评分卡保持 90 分以上"),
                           L10n("Weighted score (0.4 OTIF by line, 0.4 inspection pass by quantity, 0.2 on time) of "
                                "the supplier base; 90 of 100 points = 90 %.",
                                "供应商整体的加权得分 (0.4 按行 OTIF、0.4 按数量验货合格率、0.2 准时到货); 90 分 = 90 %。"),
                           ("purchase_orders", "receipts", "inspections"))),
        L10n("OKRs of a product sourcing team in e-commerce (John Carter, 2023)",
             "电商采购团队的 OKR (John Carter, 2023)")),
    Template(
        "backorders", L10n("Backorder team", "缺货预订团队"),
        L10n("Keep our promises on backordered items", "兑现缺货预订的承诺"),
        (TemplateKeyResult("overdue_backorders:vs_promise", "relative", -0.30,
                           L10n("Cut overdue backorders by 30 %", "逾期缺货预订减少 30 %"),
                           L10n("Share of open backorder lines past their promised date at month-end; "
                                "target = baseline × 0.7.", "月末未结缺货预订中已超过承诺日期的占比; 目标 = 基线 × 0.7。"),
                           ("orders", "backorders")),
         TemplateKeyResult("backorder_promise_kept:all_closed", "complement", -0.30,
                           L10n("Keep more backorder promises", "更多地兑现缺货预订承诺"),
                           L10n("Lines shipped by the promised date over lines closed (a cancellation is a broken "
                                "promise); 30 % fewer broken promises: target = 1 − (1 − baseline) × 0.7.",
                                "按承诺日期发货的行 / 已关闭的行 (取消即违约); 违约减少 30 %: 目标 = 1 − (1 − 基线) × 0.7。"),
                           ("orders", "backorders")),
         TemplateKeyResult("backorder_rate:by_units", "relative", -0.20,
                           L10n("Reduce the backorder rate by 20 %", "缺货预订率降低 20 %"),
                           L10n("Backordered units over units sold; target = baseline × 0.8.",
                                "缺货预订件数 / 销售件数; 目标 = 基线 × 0.8。"),
                           ("orders", "backorders"))),
        L10n("Gartner on digital commerce: steer backorderable items with backorder metrics",
             "Gartner 数字商务: 用缺货预订指标管理可预订商品")),
    Template(
        "sop", L10n("S&OP team", "S&OP 团队"),
        L10n("A plan the business can trust", "业务可以信赖的计划"),
        (TemplateKeyResult("plan_accuracy:wape", "complement", -0.20,
                           L10n("Cut the plan error by 20 %", "计划误差降低 20 %"),
                           L10n("1-MAPE of the M-1 plan; 20 % less error: target = 1 − (1 − baseline) × 0.8.",
                                "M-1 计划的 1-MAPE; 误差减少 20 %: 目标 = 1 − (1 − 基线) × 0.8。"),
                           ("plans", "sales")),
         TemplateKeyResult("plan_bias:bias", "relative", -0.50,
                           L10n("Halve the plan bias", "计划偏差减半"),
                           L10n("Σ(P − A) / ΣA, 0 is on target; target = baseline × 0.5 (towards 0 from either side).",
                                "Σ(P − A) / ΣA, 0 为准确; 目标 = 基线 × 0.5 (从任一侧向 0 靠近)。"),
                           ("plans", "sales"))),
        L10n("The KPI article: plan accuracy keeps the SKU mix right, bias the big number",
             "KPI 文章: 准确度保证单品结构, 偏差保证大数")),
)}


@dataclass(frozen=True)
class TemplateRow:
    """A template key result on one dataset: its baseline and suggested target, or why not."""

    template: TemplateKeyResult
    variant: Variant | None
    baseline: float
    target: float
    baseline_from: str
    baseline_to: str
    missing: str          # what the dataset (or the catalog) lacks; empty when the row can be used


def template_rows(dataset, template: Template | str, months: int = 3, runner: Runner | None = None,
                  lang: str = "en") -> list[TemplateRow]:
    """Each key result of ``template`` on ``dataset``: baseline over the variant's last ``months``
    months with data (``auto`` method) and the target its rule gives. A key result whose KPI is not
    in the catalog, or whose tables the dataset lacks, has ``missing`` set instead of failing."""
    from kpilab.engine import missing_inputs
    from kpilab.kpis import REGISTRY

    template = TEMPLATES[template] if isinstance(template, str) else template
    runner = runner or default_runner(dataset)
    rows = []
    for kr in template.key_results:
        kpi_id = kr.variant.split(":")[0]
        if kpi_id not in REGISTRY:
            lacking = [t for t in kr.tables if t not in dataset.tables] or list(kr.tables)
            rows.append(TemplateRow(kr, None, NAN, NAN, "", "", L10n(
                f"{kpi_id} is not in this version's catalog (needs {', '.join(lacking)})",
                f"当前版本的指标目录中没有 {kpi_id} (需要 {', '.join(lacking)})")(lang)))
            continue
        variant = Variant.from_text(kr.variant)
        missing = missing_inputs(variant.kpi, dataset)
        if missing:
            rows.append(TemplateRow(kr, variant, NAN, NAN, "", "", L10n(
                f"this dataset has no {', '.join(missing)}", f"当前数据集没有 {', '.join(missing)}")(lang)))
            continue
        with_data = months_with_data(dataset, variant, runner)
        if not with_data:
            rows.append(TemplateRow(kr, variant, NAN, NAN, "", "", L10n(
                "no month with data", "没有有数据的月份")(lang)))
            continue
        lo, hi = with_data[max(0, len(with_data) - months)], with_data[-1]
        base = period_value(dataset, variant, lo, hi, "auto", runner)
        rows.append(TemplateRow(kr, variant, base, kr.target(base), lo, hi, ""))
    return rows


def apply_template(sheet: OkrSheet, template: Template | str, rows: Sequence[TemplateRow],
                   targets: Mapping[int, float] | None = None, owner: str = "", deadline=None,
                   lang: str = "en") -> OkrSheet:
    """``sheet`` with the template's objective and its usable key results added (rows with
    ``missing`` set are skipped); ``targets`` overrides the suggested target by row index."""
    template = TEMPLATES[template] if isinstance(template, str) else template
    targets = targets or {}
    objective = template.objective(lang)
    for i, row in enumerate(rows):
        if row.missing or row.variant is None:
            continue
        target = targets.get(i, row.target)
        kr = KeyResult(row.variant, target, row.baseline, row.baseline_from, row.baseline_to, "auto", owner,
                       deadline, row.template.wording(lang))
        sheet = sheet.add(objective, kr)
    return sheet
