"""The OKR Workshop page through the app frame, on the bundled sample."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from streamlit.testing.v1 import AppTest

import kpilab
from kpilab import lab, okr
from kpilab.formatting import format_value
from tests.app.conftest import ROOT, assert_clean, open_page


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def _add(at, objective="Keep the shelf full", owner="Li Lei", target=None):
    at.text_input(key="ws_objective").input(objective)
    at.text_input(key="ws_owner").input(owner)
    if target is not None:
        at.number_input(key="ws_target_plan_accuracy_wape").set_value(target)
    at.button(key="ws_add").click().run()
    assert_clean(at)
    return at.session_state["workshop_sheet"]


def test_workshop_opens_with_a_baseline_from_the_data(sample):
    at = open_page("views/workshop.py")
    assert_clean(at)
    months = okr.months_with_data(sample, lab.Variant("plan_accuracy", "wape"))
    expected = okr.period_value(sample, lab.Variant("plan_accuracy", "wape"), months[-3], months[-1])
    assert {m.label: m.value for m in at.metric}["Baseline"] == format_value(expected, "share")
    assert at.select_slider(key="ws_plan_accuracy_months").value == (months[-3], months[-1])
    timings = []
    for lo in (months[-6], months[-3], months[0]):
        start = time.perf_counter()
        at.select_slider(key="ws_plan_accuracy_months").set_value((lo, months[-1])).run()
        timings.append(time.perf_counter() - start)
        assert_clean(at)
        expected = okr.period_value(sample, lab.Variant("plan_accuracy", "wape"), lo, months[-1])
        assert {m.label: m.value for m in at.metric}["Baseline"] == format_value(expected, "share")
    print(f"\nworkshop re-render after a widget change: {', '.join(f'{x:.2f}' for x in timings)} s")


def test_add_a_key_result_validate_and_share(sample):
    at = open_page("views/workshop.py")
    sheet = _add(at, target=60.0)                      # below the baseline on a higher-is-better KPI
    (o, kr), = [(o, kr) for o in sheet.objectives for kr in o.key_results]
    assert o.title == "Keep the shelf full" and kr.owner == "Li Lei" and kr.target == pytest.approx(0.60)
    assert kr.variant == lab.Variant("plan_accuracy", "wape")
    assert kr.deadline > dt.date.today()
    assert any("below the baseline" in w.value for w in at.warning)          # flagged, not forbidden
    assert "sheet" in at.query_params
    assert okr.decode_sheet(at.query_params["sheet"]) == sheet
    # a second key result under the same objective, another definition
    at.selectbox(key="ws_plan_accuracy_def").set_value("min_max").run()
    at.button(key="ws_add").click().run()
    assert_clean(at)
    sheet = at.session_state["workshop_sheet"]
    assert len(sheet.objectives) == 1 and len(sheet.objectives[0].key_results) == 2


def test_a_link_reopens_the_sheet():
    sheet = okr.OkrSheet(title="Q3").add("Lean stock", okr.KeyResult(
        lab.Variant("slow_moving", "stock_age", {"age_days": 120}), 0.05, 0.08, "2026-05", "2026-07",
        owner="Wang", deadline=dt.date.today() + dt.timedelta(days=60)))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["sheet"] = okr.encode_sheet(sheet)
    at.run()
    at.switch_page("views/workshop.py")
    at.run()
    assert_clean(at)
    assert at.session_state["workshop_sheet"] == sheet
    assert at.text_input(key="ws_title").value == "Q3"


def test_a_broken_link_is_a_message():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["sheet"] = "not-a-sheet"
    at.run()
    at.switch_page("views/workshop.py")
    at.run()
    assert not at.exception
    assert any("could not be read" in w.value for w in at.warning)


def test_translate_a_target_from_another_definition(sample):
    at = open_page("views/workshop.py")
    at.selectbox(key="ws_plan_accuracy_def").set_value("min_max").run()
    at.number_input(key="ws_plan_accuracy_wape_level").set_value(65.0).run()
    assert_clean(at)
    at.button(key="ws_use_translation").click().run()
    assert_clean(at)
    pairs = lab.paired_values(sample, lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "min_max"),
                              "category")
    expected = lab.translate_target(pairs, 0.65).estimate
    assert at.number_input(key="ws_target_plan_accuracy_min_max").value == pytest.approx(round(expected * 100, 2))


def test_track_progress_from_an_uploaded_sheet(sample):
    variant = lab.Variant("otif", "by_line")
    sheet = okr.OkrSheet(title="Suppliers").add("Suppliers deliver", okr.KeyResult(
        variant, 0.9, 0.6, "2025-09", "2025-11", owner="Zhao", deadline="2027-01-31"))
    at = open_page("views/workshop.py")
    at.tabs  # noqa: B018 - both tabs render; the uploader is in the second
    at.get("file_uploader")[0].set_value(("okr.csv", okr.to_csv(sheet), "text/csv")).run()
    assert_clean(at)
    table = [df for df in at.dataframe if "Current" in df.value.columns][0].value
    months = okr.months_with_data(sample, variant)
    current = okr.period_value(sample, variant, months[-1], months[-1])
    assert table["Current"].iloc[0] == format_value(current, "share")
    assert table["Progress"].iloc[0] == f"{(current - 0.6) / 0.3:.0%}"
    assert table["Baseline"].iloc[0] == "60.0%" and table["Target"].iloc[0] == "90.0%"
    at.button(key="ws_load").click().run()
    assert at.session_state["workshop_sheet"].title == "Suppliers"


def test_a_variant_from_the_lab_prefills_the_form():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["workshop_prefill"] = "otif:by_line;late_days=1"
    at.run()
    at.switch_page("views/workshop.py")
    at.run()
    assert_clean(at)
    assert at.selectbox(key="ws_kpi").value == "otif"
    assert at.selectbox(key="ws_otif_def").value == "by_line"
    assert at.number_input(key="ws_otif_late_days").value == 1


def test_chinese_labels():
    at = open_page("views/workshop.py", lang="zh")
    assert_clean(at)
    assert any("OKR 工作坊" in t.value for t in at.title)
    assert any(m.label == "基线" for m in at.metric)




def _open_with_sheet(lang: str = "en", deck_on: bool = False) -> AppTest:
    sheet = okr.OkrSheet(title="Q1").add("Keep the shelf full", okr.KeyResult(
        lab.Variant("plan_accuracy", "wape"), 0.8, 0.75, "2026-08", "2026-10", owner="Li Lei"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["workshop_sheet"] = sheet
    if deck_on:         # set before the first run: AppTest cannot rerun a Chinese page (its format functions
        at.session_state["ws_deck_on"] = True       # read the language outside the script run)
    at.run()
    at.switch_page("views/workshop.py")
    at.run()
    assert_clean(at)
    return at


def _downloads(at) -> dict[str, str]:
    return {d.key: d.proto.label for d in at.get("download_button")}


@pytest.mark.parametrize("lang, html_label", [("en", "⬇ HTML report"), ("zh", "⬇ HTML 报告")])
def test_the_workshop_deck_downloads(lang, html_label):
    downloads = _downloads(_open_with_sheet(lang, deck_on=True))
    assert downloads["ws_dl_pptx"] == "⬇ PowerPoint (.pptx)" and downloads["ws_dl_html"] == html_label


def test_the_deck_is_built_only_when_asked():
    at = _open_with_sheet()
    assert "ws_dl_xlsx" in _downloads(at) and "ws_dl_pptx" not in _downloads(at)
    at.toggle(key="ws_deck_on").set_value(True).run()
    assert_clean(at)
    assert {"ws_dl_pptx", "ws_dl_html"} <= set(_downloads(at))


def test_an_empty_sheet_offers_no_deck():
    at = open_page("views/workshop.py")
    assert not any(tg.key == "ws_deck_on" for tg in at.toggle)


def test_a_team_template_adds_its_key_results_with_edited_targets(sample):
    at = open_page("views/workshop.py")
    assert at.selectbox(key="ws_template").value == "sourcing"
    rows = okr.template_rows(sample, "sourcing")
    lead = rows[0]
    assert at.number_input(key="ws_tpl_sourcing_0").value == pytest.approx(round(lead.target, 2))
    assert at.number_input(key="ws_tpl_sourcing_4").value == pytest.approx(90.0)        # scorecard 90, in percent
    assert format_value(lead.baseline, "days") in [m.value for m in at.metric]
    at.number_input(key="ws_tpl_sourcing_0").set_value(12.0)                              # edited before export
    at.button(key="ws_tpl_add_sourcing").click().run()
    assert_clean(at)
    sheet = at.session_state["workshop_sheet"]
    (objective,) = sheet.objectives
    assert objective.title == okr.TEMPLATES["sourcing"].objective.en
    krs = objective.key_results
    assert [kr.variant.kpi_id for kr in krs] == ["supplier_lead_time", "purchase_savings", "inspection_pass_rate",
                                                 "return_rate", "supplier_scorecard"]
    assert krs[0].target == 12.0 and krs[0].baseline == pytest.approx(lead.baseline)
    assert krs[4].target == pytest.approx(0.90)
    assert "Reduce sourcing costs by 10 %" in okr.to_markdown(sheet)


def test_the_backorder_template_on_the_sample():
    """The sample has backorders: the template offers its key results with baselines (what a
    dataset without the table lacks is tested on the library, tests/test_okr.py)."""
    at = open_page("views/workshop.py")
    at.selectbox(key="ws_template").set_value("backorders").run()
    assert_clean(at)
    assert not [i for i in at.info if "backorders" in i.value]
    assert [b for b in at.button if b.key == "ws_tpl_add_backorders"]
    at.selectbox(key="ws_template").set_value("sop").run()
    assert_clean(at)
    assert at.number_input(key="ws_tpl_sop_1").value is not None          # halve the bias


def test_team_templates_in_chinese():
    at = open_page("views/workshop.py", lang="zh")
    assert_clean(at)
    assert any("从团队模板开始" in e.label for e in at.expander)
    assert any("供应商交付更快、更省、更好" in m.value for m in at.markdown)
    assert any("供应商交货周期缩短 20 %" in m.value for m in at.markdown)
