"""The workshop deck: the PPTX opens with python-pptx and holds the expected slides, chart
pictures and numbers; the HTML report is self-contained, escaped and holds the same numbers; the
Chinese deck is in Chinese. Numbers are worked out by hand on a tiny dataset, and checked against
kpilab.compare on the bundled sample."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

import kpilab
from kpilab import KpiError, deck, okr
from kpilab.formatting import format_value
from kpilab.lab import Variant, default_runner
from tests.test_lab import planning_ds

PNG = b"\x89PNG\r\n\x1a\n"
WAPE, MIN_MAX = Variant("plan_accuracy", "wape"), Variant("plan_accuracy", "min_max")
OTIF = Variant("otif", "by_line", {"late_days": 1})

# One month, three SKUs in three categories (month, sku, category, plan, actual):
#   x: P 40,  A 100 → 1-WAPE 1 − 60/100 = 0.400;  Min/Max 40/100 = 0.400 (weight max 100)
#   y: P 100, A 72  → 1-WAPE 1 − 28/72  = 0.611;  Min/Max 72/100 = 0.720 (weight 100)
#   z: P 90,  A 100 → 1-WAPE 1 − 10/100 = 0.900;  Min/Max 90/100 = 0.900 (weight 100)
#   overall 1-WAPE 1 − 98/272 = 0.640 (64.0%);  Min/Max (40 + 72 + 90) / 300 = 0.673 (67.3%)
# Reference levels 65% (1-WAPE) and 70% (Min/Max): only y gets different verdicts (misses / meets);
# both rank z 1, y 2, x 3.
HAND = [("2024-01", "a", "x", 40, 100), ("2024-01", "b", "y", 100, 72), ("2024-01", "c", "z", 90, 100)]


def _texts(slide) -> list[str]:
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out.append(shape.text_frame.text)
        if shape.has_table:
            out += [cell.text for row in shape.table.rows for cell in row.cells]
    return out


def _title(slide) -> str:
    return slide.shapes.title.text_frame.text


def _pictures(slide) -> list:
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


def _table(slide) -> list[list[str]]:
    (shape,) = [s for s in slide.shapes if s.has_table]
    return [[cell.text for cell in row.cells] for row in shape.table.rows]


@pytest.fixture(scope="module")
def hand_lab():
    ds = planning_ds(HAND)
    model = deck.lab_deck(ds, [WAPE, MIN_MAX], "category", agreed=1, today=dt.date(2024, 3, 1))
    return model, deck.render(model)


def test_lab_deck_by_hand(hand_lab):
    model, files = hand_lab
    prs = Presentation(io.BytesIO(files.pptx))
    assert [_title(s) for s in prs.slides] == [
        "Definition Lab: Plan accuracy", "Plan accuracy: the definitions side by side", "Plan accuracy per category",
        "Plan accuracy: where the definitions disagree", "Plan accuracy: the agreed definition and target",
        "OKR sheet"]
    assert [s.kind for s in model.slides] == ["title", "definitions", "chart", "disagreement", "agreed", "sheet"]
    slides = list(prs.slides)
    assert "Baselines from: test\nMade: 2024-03-01" in _texts(slides[0])
    # side by side: the values worked out above; the agreed variant (index 1) is marked
    rows = _table(slides[1])
    assert rows[0][:2] == ["Definition", "Value"]
    assert [r[:2] for r in rows[1:]] == [["1-MAPE (1 − WAPE)", "64.0%"], ["Min/Max accuracy  ✓ agreed", "67.3%"]]
    assert rows[1][4].startswith("65.0%") and rows[2][4].startswith("70.0%")      # the reference levels
    # the chart is a PNG picture, fitted inside the slide
    (pic,) = _pictures(slides[2])
    assert pic.image.blob.startswith(PNG) and pic.image.content_type == "image/png"
    assert pic.left >= 0 and pic.left + pic.width <= prs.slide_width and pic.top + pic.height <= prs.slide_height
    # disagreement: 1 of 3 groups, y first (its verdicts differ), cells "value (rank, verdict)"
    texts = _texts(slides[3])
    assert any("1 of 3 groups (category) get different verdicts (meets / misses the reference level)" in t
               for t in texts)
    assert any("Spearman ρ 1.00 over 3 groups" in t for t in texts)
    assert _table(slides[3]) == [["category", "1-MAPE (1 − WAPE)", "Min/Max accuracy"],
                                 ["y", "61.1% (#2, misses)", "72.0% (#2, meets)"],
                                 ["x", "40.0% (#3, misses)", "40.0% (#3, misses)"],
                                 ["z", "90.0% (#1, meets)", "90.0% (#1, meets)"]]
    # no sheet: a proposed key result, baseline over the one month with data (67.3%), target one
    # step of 0.1 point above it in display units (67.4%)
    assert any(t.startswith("Proposed key result") for t in _texts(slides[4]))
    assert _table(slides[4])[1] == ["Plan accuracy · Min/Max accuracy", "67.3% (2024-01…2024-01)", "67.4%", "", ""]
    assert _table(slides[5])[1][2:5] == ["Plan accuracy · Min/Max accuracy", "67.3% (2024-01…2024-01)", "67.4%"]


def test_html_report_by_hand(hand_lab):
    model, files = hand_lab
    text = files.html.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="en">' in text
    assert "<title>Definition Lab: Plan accuracy</title>" in text
    assert "<td>64.0%</td>" in text and "<td>67.3%</td>" in text and "<td>72.0% (#2, meets)</td>" in text
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(PNG)
    assert model.slides[2].figure.png == base64.b64decode(images[0])      # the same picture as in the deck
    assert "default-src 'none'" in text                                   # nothing is fetched
    assert not re.search(r"(src|href)=\"(?!data:)", text)
    assert "WenQuanYi Micro Hei" in text


def test_lab_deck_uses_the_sheet_and_escapes_user_text():
    ds = planning_ds(HAND)
    kr = okr.KeyResult(MIN_MAX, 0.75, 0.6, "2024-01", "2024-01", owner="<script>alert(1)</script>",
                       deadline=dt.date(2024, 6, 30), title="Plans <b>match</b> sales")
    sheet = okr.OkrSheet(title="Q2 & Q3").add("Plan well", kr)
    model = deck.lab_deck(ds, [WAPE, MIN_MAX], "category", agreed=1, sheet=sheet)
    agreed = next(s for s in model.slides if s.kind == "agreed")
    assert not any(p.startswith("Proposed") for p in agreed.paragraphs)
    assert agreed.table.rows == (("Plans <b>match</b> sales", "60.0% (2024-01…2024-01)", "75.0%",
                                  "<script>alert(1)</script>", "2024-06-30"),)
    assert model.slides[-1].title == "OKR sheet: Q2 & Q3"
    assert model.slides[-1].table.rows[0][:2] == ("1.1", "Plan well")
    text = deck.to_html(model)
    assert "<script>" not in text and "<b>match" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "Q2 &amp; Q3" in text


def test_bad_requests_are_errors():
    ds = planning_ds(HAND)
    with pytest.raises(KpiError, match="no key result"):
        deck.workshop_deck(ds, okr.OkrSheet(title="empty").add("Objective without key results"))
    with pytest.raises(KpiError, match="index"):
        deck.lab_deck(ds, [WAPE, MIN_MAX], "category", agreed=2)
    bad_group = deck.lab_deck(ds, [WAPE, MIN_MAX], "warehouse")
    (problem,) = [s for s in bad_group.slides if s.kind == "problem"]
    assert "cannot be grouped by warehouse" in problem.paragraphs[0]


# ----------------------------------------------------------------------------- the sample, whole sheet


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def _sheet() -> okr.OkrSheet:
    sheet = okr.OkrSheet(title="Supply chain OKRs", source="sample")
    sheet = sheet.add("Keep the shelf full", okr.KeyResult(WAPE, 0.8, 0.75, "2026-08", "2026-10", owner="Li Lei",
                                                           deadline=dt.date(2027, 1, 31)))
    return sheet.add("Suppliers deliver", okr.KeyResult(OTIF, 0.9, 0.7, "2026-08", "2026-10", owner="Wang"))


@pytest.fixture(scope="module")
def workshop(sample):
    return {lang: deck.render(deck.workshop_deck(sample, _sheet(), lang=lang)) for lang in ("en", "zh")}


def test_workshop_deck_slides_charts_and_numbers(sample, workshop):
    prs = Presentation(io.BytesIO(workshop["en"].pptx))
    slides = list(prs.slides)
    assert prs.slide_width * 9 == prs.slide_height * 16                                  # 16:9
    pa, ot = "Plan accuracy", "Supplier OTIF (on time in full)"
    assert [_title(s) for s in slides] == [
        "Supply chain OKRs",
        f"{pa}: the definitions side by side", f"{pa} per month", f"{pa}: where the definitions disagree",
        f"{pa}: the agreed definition and target",
        f"{ot}: the definitions side by side", f"{ot} per month", f"{ot}: where the definitions disagree",
        f"{ot}: the agreed definition and target",
        "OKR sheet: Supply chain OKRs"]
    assert [len(_pictures(s)) for s in slides] == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0]
    # every definition of the KPI, valued as kpilab.compare values it; the agreed one first and marked
    plan = kpilab.compare(sample, "plan_accuracy")
    rows = _table(slides[1])[1:]
    assert [r[1] for r in rows] == [format_value(r.value, "share") for r in plan.results.values()]
    assert rows[0][0].endswith("✓ agreed") and not rows[1][0].endswith("✓ agreed")
    otif = kpilab.compare(sample, "otif", late_days=1)
    values = {r[0]: r[1] for r in _table(slides[5])[1:]}
    assert values["By line (late_days=1)  ✓ agreed"] == format_value(otif.results["by_line"].value, "share")
    assert values["By value (late_days=1)"] == format_value(otif.results["by_value"].value, "share")
    assert values["By whole order (late_days=1)"] == format_value(otif.results["by_order"].value, "share")
    # disagreement per category (the KPI's pairing group): a table of categories
    assert _table(slides[3])[0][0] == "category" and len(_table(slides[3])) > 2
    # the sheet: both key results with their baselines and targets
    assert [r[:6] for r in _table(slides[9])[1:]] == [
        ["1.1", "Keep the shelf full", f"{pa} · 1-MAPE (1 − WAPE)", "75.0% (2026-08…2026-10)", "80.0%", "Li Lei"],
        ["2.1", "Suppliers deliver", f"{ot} · By line (late_days=1)", "70.0% (2026-08…2026-10)", "90.0%", "Wang"]]


def test_workshop_html_holds_the_values_and_images(sample, workshop):
    text = workshop["en"].html.decode("utf-8")
    plan = kpilab.compare(sample, "plan_accuracy")
    for result in plan.results.values():
        assert f"<td>{format_value(result.value, 'share')}</td>" in text
    assert len(re.findall(r'<img src="data:image/png;base64,', text)) == 2
    assert text.count("<section") == 10


def test_chinese_deck(workshop):
    prs = Presentation(io.BytesIO(workshop["zh"].pptx))
    titles = [_title(s) for s in prs.slides]
    assert titles[1] == "计划准确度: 各口径并排对比" and titles[2] == "计划准确度 (按 month)"
    assert titles[3] == "计划准确度: 各口径的分歧" and titles[4] == "计划准确度: 约定的口径与目标"
    assert titles[-1] == "OKR 表: Supply chain OKRs"
    assert "1-MAPE (1 − 加权绝对误差)  ✓ 已约定" in _table(prs.slides[1])[1][0]
    assert 'typeface="Microsoft YaHei"' in prs.slides[1].shapes[0]._element.xml   # East Asian font named
    text = workshop["zh"].html.decode("utf-8")
    assert '<html lang="zh-CN">' in text and "<h2>计划准确度: 各口径并排对比</h2>" in text


def test_a_kpi_the_data_cannot_feed_is_a_slide_not_a_crash(sample):
    base = default_runner(sample)

    def runner(kpi_id, definitions, by, params):
        if kpi_id == "otif":
            raise KpiError("otif needs receipts.received_date, which this dataset does not have")
        return base(kpi_id, definitions, by, params)

    model = deck.workshop_deck(sample, _sheet(), runner=runner)
    problem = [s for s in model.slides if s.kind == "problem"]
    assert [(s.title, s.paragraphs) for s in problem] == [
        ("Supplier OTIF (on time in full): cannot be shown",
         ("otif needs receipts.received_date, which this dataset does not have",))]
    assert [s.kind for s in model.slides].count("chart") == 1        # plan accuracy is still there


def test_a_long_sheet_spreads_over_slides():
    ds = planning_ds(HAND)
    sheet = okr.OkrSheet(title="Big")
    for n in range(12):
        sheet = sheet.add(f"O{n // 5}", okr.KeyResult(WAPE, 0.7, 0.64, owner=f"owner {n}"))
    model = deck.workshop_deck(ds, sheet)
    parts = [s for s in model.slides if s.kind == "sheet"]
    assert [(s.title, len(s.table.rows)) for s in parts] == [("OKR sheet: Big (1/2)", 10), ("OKR sheet: Big (2/2)", 2)]
    assert parts[1].table.rows[-1][0] == "3.2" and parts[1].table.rows[-1][5] == "owner 11"
