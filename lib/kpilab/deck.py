"""The workshop deck: the decisions of an OKR workshop (or of one Definition Lab comparison) as a
PowerPoint deck (python-pptx) and one self-contained HTML report, in English or Chinese.

Per KPI: the definitions side by side with their values, the values chart (the app's own Altair
builders rendered to PNG with vl-convert, no browser), where the definitions disagree (the groups
whose verdicts differ, biggest rank moves first), the agreed definition with its baseline and
target; then the OKR sheet. Pure library: no Streamlit.

The deck is first a *model* (``Deck``: slides holding text, formatted tables and PNG figures,
built from ``kpilab.lab`` / ``kpilab.okr`` results), then rendered by ``to_pptx`` and ``to_html``,
so both files show the same slides and the numbers are formatted once (``format_value``).

Reading of the brief (choices made here):

- "The definitions side by side" of a key result's KPI: the key results' own variants (marked
  as agreed), then every other definition of the KPI with the parameters it reads from the first
  agreed variant (and the same class filter), so the room sees what it chose against.
- Chinese renders: charts are drawn with the fonts under ``FONT_DIRS`` registered in vl-convert
  (Debian's ``fonts-wqy-microhei``); the PPTX names an East Asian font for every run (PowerPoint
  substitutes its own CJK font when it is missing); the HTML names a CJK font stack in its CSS.
- A KPI the dataset cannot feed gets one slide saying why, so the rest of the deck still builds
  and nothing is left out silently.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kpilab import lab, okr
from kpilab.charts import lab as lab_charts
from kpilab.formatting import format_value
from kpilab.lab.variants import Runner, Variant, default_runner
from kpilab.registry import KpiError, L10n

FONT_DIRS = ("/usr/share/fonts",)
EA_FONT = "Microsoft YaHei"       # the East Asian font PowerPoint is told to use for Chinese text
CSS_FONTS = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'
CHART_WIDTH = 760                 # px, before vl-convert's 2× scale
SHEET_ROWS = 10                   # OKR sheet rows per slide
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

T = {
    "workshop": L10n("OKR workshop", "OKR 工作坊"),
    "lab": L10n("Definition Lab", "定义实验室"),
    "source": L10n("Baselines from", "基线数据"),
    "made": L10n("Made", "生成日期"),
    "side": L10n("the definitions side by side", "各口径并排对比"),
    "definition": L10n("Definition", "定义 (口径)"),
    "value": L10n("Value", "数值"),
    "formula": L10n("Formula", "公式"),
    "says": L10n("What it says", "含义"),
    "reference": L10n("Reference level", "参考水平"),
    "agreed_mark": L10n("✓ agreed", "✓ 已约定"),
    "overall": L10n("Values over the whole dataset.", "在整个数据集上的数值。"),
    "per": L10n("{kpi} per {group}", "{kpi} (按 {group})"),
    "disagree": L10n("where the definitions disagree", "各口径的分歧"),
    "differ": L10n("{n} of {total} groups ({group}) get different verdicts ({scheme}).",
                   "{total} 个分组 ({group}) 中有 {n} 个在不同口径下判定不同 ({scheme})。"),
    "scheme_level": L10n("meets / misses the reference level", "是否达到参考水平"),
    "scheme_tercile": L10n("top / middle / bottom third", "前/中/后三分之一"),
    "rho": L10n("Rank correlation {a} ↔ {b}: Spearman ρ {rho} over {n} groups (1 = same order).",
                "排名相关 {a} ↔ {b}: Spearman ρ {rho}, 共 {n} 个分组 (1 = 顺序相同)。"),
    "top": L10n("The {n} groups whose verdicts differ or whose rank moves most; cells: value (rank, verdict).",
                "判定不同或名次变化最大的 {n} 个分组; 单元格: 数值 (名次, 判定)。"),
    "agreed": L10n("the agreed definition and target", "约定的口径与目标"),
    "proposed": L10n("Proposed key result (not in the OKR sheet yet): the baseline is the last three months with "
                     "data, the target the baseline rounded in the improving direction.",
                     "建议的关键结果 (尚未加入 OKR 表): 基线为最近三个有数据的月份, 目标为基线向改善方向取整。"),
    "key_result": L10n("Key result", "关键结果"),
    "baseline": L10n("Baseline (period)", "基线 (期间)"),
    "target": L10n("Target", "目标"),
    "owner": L10n("Owner", "负责人"),
    "deadline": L10n("Deadline", "截止"),
    "objective": L10n("Objective", "目标 (Objective)"),
    "sheet": L10n("OKR sheet", "OKR 表"),
    "no_kr": L10n("No key result yet.", "还没有关键结果。"),
    "problem": L10n("cannot be shown", "无法展示"),
    "higher": L10n("Higher is better.", "越高越好。"),
    "lower": L10n("Lower is better.", "越低越好。"),
    "closest": L10n("Closest to its reference level is best.", "越接近参考水平越好。"),
}
VERDICTS = {"meets": L10n("meets", "达到"), "misses": L10n("misses", "未达到"),
            "top": L10n("top third", "前三分之一"),
            "middle": L10n("middle third", "中间三分之一"), "bottom": L10n("bottom third", "后三分之一")}


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Table:
    """A table of formatted text: ``header`` and ``rows`` of the same length; ``widths`` are
    relative column widths."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A chart rendered to PNG (``width`` × ``height`` pixels, drawn at ``scale`` × its CSS size)
    with its alternative text."""

    png: bytes
    width: int
    height: int
    alt: str
    scale: float = 1.0


@dataclass(frozen=True)
class Slide:
    """One slide (one section of the HTML report). ``kind``: title, definitions, chart,
    disagreement, agreed, sheet or problem."""

    kind: str
    title: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    figure: Figure | None = None


@dataclass(frozen=True)
class Deck:
    title: str
    lang: str
    slides: tuple[Slide, ...]


@dataclass(frozen=True)
class DeckFiles:
    """The rendered deck: PowerPoint bytes and the HTML report (UTF-8 bytes)."""

    pptx: bytes
    html: bytes


# --------------------------------------------------------------------------- charts → PNG

_FONTS_LOCK = threading.Lock()
_FONTS_DONE = False


def _register_fonts() -> None:
    """Register the system fonts with vl-convert once (so Chinese chart text is not boxes)."""
    global _FONTS_DONE
    import vl_convert

    with _FONTS_LOCK:
        if not _FONTS_DONE:
            for folder in FONT_DIRS:
                if Path(folder).is_dir():
                    vl_convert.register_font_directory(folder)
            _FONTS_DONE = True


def render_chart(chart, alt: str, width: int = CHART_WIDTH, scale: float = 2.0) -> Figure:
    """An Altair chart (from ``kpilab.charts``) as a PNG figure, drawn by vl-convert at
    ``width`` px × ``scale`` (sharp when projected)."""
    import vl_convert

    _register_fonts()
    spec = chart.to_dict()
    spec["width"] = width
    png = vl_convert.vegalite_to_png(spec, scale=scale)
    w, h = struct.unpack(">II", png[16:24])          # the PNG header's IHDR width and height
    return Figure(png, w, h, alt, scale)


# --------------------------------------------------------------------------- building the model


def _title_slide(title: str, lines: Sequence[str]) -> Slide:
    return Slide("title", title, tuple(line for line in lines if line))


def _definitions_slide(cmp: lab.VariantComparison, values: dict[str, float], agreed: set[str], lang: str) -> Slide:
    rows = []
    for v, label in zip(cmp.variants, cmp.labels):
        ref = next(iter(v.definition.references), None)
        mark = f"{label}  {T['agreed_mark'](lang)}" if v.key in agreed else label
        rows.append((mark, format_value(values[label], v.unit), v.definition.formula, v.definition.says(lang),
                     "" if ref is None else f"{format_value(ref.value, v.unit)} — {ref.label(lang)}"))
    header = (T["definition"](lang), T["value"](lang), T["formula"](lang), T["says"](lang), T["reference"](lang))
    return Slide("definitions", f"{cmp.kpi.name(lang)}: {T['side'](lang)}", (T["overall"](lang),),
                 Table(header, tuple(rows), (2.2, 1.0, 2.4, 4.2, 1.8)))


def _chart_slides(cmp: lab.VariantComparison, group: str, lang: str) -> list[Slide]:
    """One chart per unit (definitions of one KPI may differ: a share and money)."""
    kpi_name = cmp.kpi.name(lang)
    title = T["per"](lang).format(kpi=kpi_name, group=group)
    slides = []
    for unit, labels in cmp.unit_groups():
        refs = [(r.value, f"{label}: {r.label(lang)}") for v, label in zip(cmp.variants, cmp.labels)
                if label in labels for r in v.definition.references[:1]]
        chart = lab_charts.variant_values(cmp.long(labels), group=group, unit=unit, labels=list(labels),
                                          references=refs, title=title)
        slides.append(Slide("chart", title, figure=render_chart(chart, title)))
    return slides


def _cell(value: float, rank: float, verdict, unit: str, lang: str) -> str:
    rank_text = "—" if rank != rank else f"#{int(rank)}"
    verdict_text = VERDICTS[verdict](lang) if verdict in VERDICTS else "—"
    return f"{format_value(value, unit)} ({rank_text}, {verdict_text})"


def _disagreement_slide(cmp: lab.VariantComparison, top: int, lang: str) -> Slide:
    """The groups whose verdicts differ (then the biggest rank moves) from ``lab.disagreement``,
    with the rank correlation of every pair: where choosing the definition changes who looks good."""
    table = lab.disagreement(cmp)
    group = " · ".join(cmp.by)
    scheme = table["scheme"].iloc[0] if len(table) else "tercile"
    paragraphs = [T["differ"](lang).format(n=int(table["verdicts_differ"].sum()), total=len(table), group=group,
                                           scheme=T[f"scheme_{scheme}"](lang))]
    for row in lab.rank_correlation(cmp).itertuples():
        rho = "—" if row.spearman != row.spearman else f"{row.spearman:.2f}"
        paragraphs.append(T["rho"](lang).format(a=row.a, b=row.b, rho=rho, n=row.n))
    shown = table.head(top)
    paragraphs.append(T["top"](lang).format(n=len(shown)))
    units = cmp.units()
    rows = tuple((str(r["group"]), *(_cell(r[label], r[f"rank · {label}"], r[f"verdict · {label}"], units[label],
                                           lang) for label in cmp.labels))
                 for r in shown.to_dict("records"))
    header = (group, *cmp.labels)
    return Slide("disagreement", f"{cmp.kpi.name(lang)}: {T['disagree'](lang)}", tuple(paragraphs),
                 Table(header, rows, (1.6, *([2.0] * len(cmp.labels)))))


def _kr_row(kr: okr.KeyResult, lang: str) -> tuple[str, ...]:
    unit = kr.variant.unit
    period = f" ({kr.baseline_from}…{kr.baseline_to})" if kr.baseline_from or kr.baseline_to else ""
    return (kr.headline(lang), format_value(kr.baseline, unit) + period, format_value(kr.target, unit), kr.owner,
            kr.deadline.isoformat() if kr.deadline else "")


def _agreed_slide(kpi_name: str, key_results: Sequence[okr.KeyResult], proposed: bool, lang: str) -> Slide:
    paragraphs = [T["proposed"](lang)] if proposed else []
    for kr in dict.fromkeys(key_results):
        d = kr.variant.definition
        direction = {"higher": "higher", "lower": "lower"}.get(kr.variant.direction, "closest")
        paragraphs.append(f"{kr.variant.describe(lang)}: {d.formula} — {d.says(lang)} {T[direction](lang)}")
    header = (T["key_result"](lang), T["baseline"](lang), T["target"](lang), T["owner"](lang), T["deadline"](lang))
    return Slide("agreed", f"{kpi_name}: {T['agreed'](lang)}", tuple(dict.fromkeys(paragraphs)),
                 Table(header, tuple(_kr_row(kr, lang) for kr in key_results), (4.0, 2.2, 1.3, 1.5, 1.3)))


def _sheet_slides(sheet: okr.OkrSheet, lang: str) -> list[Slide]:
    """The OKR sheet, ``SHEET_ROWS`` key results per slide."""
    rows = [(f"{i + 1}.{j + 1}", sheet.objectives[i].title, *_kr_row(kr, lang)) for i, j, kr in sheet.key_results]
    header = ("KR", T["objective"](lang), T["key_result"](lang), T["baseline"](lang), T["target"](lang),
              T["owner"](lang), T["deadline"](lang))
    widths = (0.6, 2.4, 3.4, 2.0, 1.1, 1.3, 1.2)
    title = T["sheet"](lang) + (f": {sheet.title}" if sheet.title else "")
    if not rows:
        return [Slide("sheet", title, (T["no_kr"](lang),))]
    parts = [rows[n:n + SHEET_ROWS] for n in range(0, len(rows), SHEET_ROWS)]
    return [Slide("sheet", title + (f" ({k}/{len(parts)})" if len(parts) > 1 else ""),
                  table=Table(header, tuple(part), widths)) for k, part in enumerate(parts, start=1)]


def _problem_slide(kpi_name: str, exc: KpiError, lang: str) -> Slide:
    return Slide("problem", f"{kpi_name}: {T['problem'](lang)}", (str(exc),))


def _compared_with(agreed: Sequence[Variant]) -> tuple[Variant, ...]:
    """The agreed variants, then every other definition of their KPI with the parameters it
    reads from the first agreed variant (and its class filter)."""
    first = agreed[0]
    chosen = list(dict.fromkeys(agreed))
    taken = {v.definition_id for v in chosen}
    for d in first.kpi.definitions:
        if d.id not in taken:
            keep = set(d.params) | set(lab.CLASS_NAMES)
            chosen.append(Variant(first.kpi_id, d.id, {k: v for k, v in first.params.items() if k in keep}))
    return tuple(chosen)


def _kpi_slides(dataset, variants: Sequence[Variant], agreed: set[str], chart_by: str, disagree_by: str,
                key_results: Sequence[okr.KeyResult], proposed: bool, runner: Runner, top: int,
                lang: str) -> list[Slide]:
    kpi = variants[0].kpi
    try:
        overall = lab.compare_variants(dataset, variants, (), runner=runner, lang=lang)
        by_chart = lab.compare_variants(dataset, variants, (chart_by,), runner=runner, lang=lang)
        by_group = by_chart if disagree_by == chart_by else lab.compare_variants(
            dataset, variants, (disagree_by,), runner=runner, lang=lang)
    except KpiError as exc:
        return [_problem_slide(kpi.name(lang), exc, lang)]
    return [_definitions_slide(overall, overall.values(), agreed, lang), *_chart_slides(by_chart, chart_by, lang),
            _disagreement_slide(by_group, top, lang), _agreed_slide(kpi.name(lang), key_results, proposed, lang)]


def workshop_deck(dataset, sheet: okr.OkrSheet, *, runner: Runner | None = None, lang: str = "en",
                  top: int = 8, today: dt.date | None = None) -> Deck:
    """The deck of a whole OKR sheet: a title slide, per KPI of the sheet (in the sheet's order)
    its definitions side by side, the monthly values chart, the disagreement per the KPI's
    pairing group (category, supplier …; month when it has none) and the agreed key results;
    then the OKR sheet."""
    if not sheet.key_results:
        raise KpiError(L10n("the OKR sheet has no key result yet", "OKR 表还没有关键结果")(lang))
    runner = runner or default_runner(dataset)
    by_kpi: dict[str, list[okr.KeyResult]] = {}
    for _, _, kr in sheet.key_results:
        by_kpi.setdefault(kr.variant.kpi_id, []).append(kr)
    title = sheet.title or T["workshop"](lang)
    slides = [_title_slide(title, (f"{T['source'](lang)}: {sheet.source or dataset.name}",
                                   f"{T['made'](lang)}: {(today or dt.date.today()).isoformat()}"))]
    for krs in by_kpi.values():
        agreed = [kr.variant for kr in krs]
        group = lab.default_pairing_group(agreed[0].kpi, dataset) or "month"
        slides += _kpi_slides(dataset, _compared_with(agreed), {v.key for v in agreed}, "month", group, krs,
                              False, runner, top, lang)
    slides += _sheet_slides(sheet, lang)
    return Deck(title, lang, tuple(slides))


def lab_deck(dataset, variants: Sequence[Variant | str], group: str, *, agreed: int = 0,
             sheet: okr.OkrSheet | None = None, runner: Runner | None = None, lang: str = "en", top: int = 8,
             today: dt.date | None = None) -> Deck:
    """The deck of one Definition Lab comparison: its variants side by side, the values per
    ``group``, the disagreement per ``group``, and the agreed variant (``agreed``, an index) with
    the sheet's key results for this KPI — or, when the sheet has none, a proposed one (baseline
    over the last three months with data, ``okr.suggest_target``)."""
    variants = tuple(lab.as_variant(v) for v in variants)
    if not variants:
        raise KpiError(L10n("choose at least one variant", "请至少选择一个口径")(lang))
    if not 0 <= agreed < len(variants):
        raise KpiError(f"agreed must be an index of the variants (0…{len(variants) - 1}), not {agreed}")
    runner = runner or default_runner(dataset)
    kpi = variants[0].kpi
    chosen = variants[agreed]
    krs = [kr for _, _, kr in (sheet or okr.OkrSheet()).key_results if kr.variant.kpi_id == kpi.id]
    proposed = not krs
    if proposed:
        try:
            months = okr.months_with_data(dataset, chosen, runner)
        except KpiError:
            months = []
        lo, hi = (months[max(0, len(months) - 3)], months[-1]) if months else ("", "")
        baseline = okr.period_value(dataset, chosen, lo, hi, runner=runner) if months else float("nan")
        krs = [okr.KeyResult(chosen, okr.suggest_target(chosen, baseline), baseline, lo, hi)]
    title = f"{T['lab'](lang)}: {kpi.name(lang)}"
    slides = [_title_slide(title, (f"{T['source'](lang)}: {dataset.name}",
                                   f"{T['made'](lang)}: {(today or dt.date.today()).isoformat()}"))]
    slides += _kpi_slides(dataset, variants, {chosen.key}, group, group, krs, proposed, runner, top, lang)
    kr_sheet = okr.OkrSheet(title=(sheet.title if sheet and not proposed else ""))
    for kr in krs:
        kr_sheet = kr_sheet.add(next((o.title for o in (sheet.objectives if sheet else ())
                                      if kr in o.key_results), ""), kr)
    slides += _sheet_slides(kr_sheet, lang)
    return Deck(title, lang, tuple(slides))


# --------------------------------------------------------------------------- PowerPoint


def _east_asian(run) -> None:
    """Name an East Asian font on a run (a:ea), so Chinese text gets a CJK font."""
    from pptx.oxml.ns import qn

    rpr = run._r.get_or_add_rPr()
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.insert_element_before(ea, "a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst")
    ea.set("typeface", EA_FONT)


def _fill(frame, paragraphs: Sequence[str], size: int, bold: bool = False) -> None:
    from pptx.util import Pt

    frame.word_wrap = True
    for n, text in enumerate(paragraphs):
        p = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
        p.text = text
        for run in p.runs:
            run.font.size = Pt(size)
            run.font.bold = bold or None
            _east_asian(run)


def to_pptx(deck: Deck) -> bytes:
    """The deck as a 16:9 PowerPoint file: a title slide, then one 'Title Only' slide per
    slide of the model with its text, table or chart picture (fitted, aspect kept)."""
    from pptx import Presentation
    from pptx.util import Emu, Inches

    prs = Presentation()
    prs.slide_height = Inches(7.5)
    prs.slide_width = Emu(prs.slide_height * 16 // 9)
    margin = Inches(0.5)
    inner = prs.slide_width - 2 * margin
    for model in deck.slides:
        if model.kind == "title":
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            title, subtitle = slide.placeholders[0], slide.placeholders[1]
            for shape in (title, subtitle):
                shape.left, shape.width = margin, inner
            _fill(title.text_frame, [model.title], 36, bold=True)
            _fill(subtitle.text_frame, model.paragraphs, 18)
            continue
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        title = slide.shapes.title
        title.left, title.top, title.width, title.height = margin, Inches(0.25), inner, Inches(0.9)
        _fill(title.text_frame, [model.title], 26, bold=True)
        top = Inches(1.25)
        if model.paragraphs:
            height = Inches(0.32 * len(model.paragraphs) + 0.1)
            _fill(slide.shapes.add_textbox(margin, top, inner, height).text_frame, model.paragraphs, 13)
            top += height + Inches(0.1)
        room = prs.slide_height - top - Inches(0.3)
        if model.table is not None:
            _table(slide, model.table, margin, top, inner)
        if model.figure is not None:
            f = model.figure
            scale = min(inner / f.width, room / f.height)
            width, height = Emu(int(f.width * scale)), Emu(int(f.height * scale))
            slide.shapes.add_picture(io.BytesIO(f.png), margin + (inner - width) // 2, top, width, height)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def _table(slide, table: Table, left, top, width) -> None:
    from pptx.util import Emu, Inches

    rows, cols = len(table.rows) + 1, len(table.header)
    shape = slide.shapes.add_table(rows, cols, left, top, width, Inches(0.34) * rows)
    grid = shape.table
    weights = table.widths if len(table.widths) == cols else (1.0,) * cols
    for n, w in enumerate(weights):
        grid.columns[n].width = Emu(int(width * w / sum(weights)))
    for r, values in enumerate((table.header, *table.rows)):
        for c, text in enumerate(values):
            cell = grid.cell(r, c)
            cell.text = ""
            _fill(cell.text_frame, [text], 12 if r == 0 else 11, bold=r == 0)


# --------------------------------------------------------------------------- HTML

_CSS = f"""
body {{ font-family: {CSS_FONTS}; margin: 0; background: #f4f5f7; color: #1d2733; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 24px; }}
section {{ background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); margin: 0 0 24px;
          padding: 24px 32px; }}
section.title {{ text-align: center; padding: 64px 32px; }}
h1 {{ font-size: 34px; margin: 0 0 16px; }} h2 {{ font-size: 24px; margin: 0 0 12px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border: 1px solid #d5dae1; padding: 6px 8px; text-align: left; vertical-align: top; }}
th {{ background: #eef2f7; }}
img {{ max-width: 100%; height: auto; display: block; margin: 8px auto; }}
@media print {{ body {{ background: #fff; }} section {{ box-shadow: none; page-break-after: always; }} }}
"""


def to_html(deck: Deck) -> str:
    """The deck as one self-contained HTML page: charts as PNG data URIs, a CJK font stack, no
    script and nothing fetched (a Content-Security-Policy allows only inline styles and data
    images); every text is HTML-escaped."""
    e = html.escape
    parts = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if deck.lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
             "style-src 'unsafe-inline'\">",
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(deck.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>"]
    for slide in deck.slides:
        parts.append(f'<section class="{e(slide.kind)}">')
        parts.append(f"<h1>{e(slide.title)}</h1>" if slide.kind == "title" else f"<h2>{e(slide.title)}</h2>")
        parts += [f"<p>{e(p)}</p>" for p in slide.paragraphs]
        if slide.table is not None:
            head = "".join(f"<th>{e(h)}</th>" for h in slide.table.header)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in slide.table.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if slide.figure is not None:
            data = base64.b64encode(slide.figure.png).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{data}" alt="{e(slide.figure.alt)}" '
                         f'width="{round(slide.figure.width / slide.figure.scale)}">')
        parts.append("</section>")
    parts.append("</main>\n</body>\n</html>\n")
    return "\n".join(parts)


def render(deck: Deck) -> DeckFiles:
    """Both files of a deck (what the pages' download buttons serve)."""
    return DeckFiles(to_pptx(deck), to_html(deck).encode("utf-8"))
