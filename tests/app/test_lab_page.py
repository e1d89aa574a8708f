"""The Definition Lab page through the app frame, on the bundled sample."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

import kpilab
from kpilab import lab
from kpilab.formatting import format_value
from tests.app.conftest import ROOT, assert_clean, open_page


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def _values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_lab_opens_with_two_variants_and_their_values(sample):
    at = open_page("views/lab.py")
    assert_clean(at)
    kpi = next(iter(kpilab.REGISTRY.values()))
    values = _values(at)
    for definition in kpi.definitions[:2]:
        expected = kpilab.compute(sample, kpi.id, definition.id).value
        assert values[definition.name.en] == format_value(expected, kpi.unit)
    assert len(at.tabs) == 6
    assert len(at.get("vega_lite_chart")) >= 4                     # values, slope, translator, tree
    assert at.query_params["kpi"] == kpi.id                          # the comparison is in the URL
    assert len(at.query_params["v"]) == 2


def test_widget_change_reruns_and_updates_the_link(sample):
    at = open_page("views/lab.py")
    at.selectbox(key="lab_plan_accuracy_v1_weight").set_value("actual").run()
    assert_clean(at)
    expected = kpilab.compute(sample, "plan_accuracy", "min_max", weight="actual").value
    assert _values(at)["Min/Max accuracy (weight=actual)"] == format_value(expected, "share")
    assert "plan_accuracy:min_max;weight=actual" in at.query_params["v"]
    # re-render time after a widget change (the number reported in the brief's measurement)
    timings = []
    for weight in ("plan", "max", "plan"):
        start = time.perf_counter()
        at.selectbox(key="lab_plan_accuracy_v1_weight").set_value(weight).run()
        timings.append(time.perf_counter() - start)
        assert_clean(at)
    print(f"\nlab re-render after a widget change: {', '.join(f'{x:.2f}' for x in timings)} s")


def test_deep_link_reopens_the_comparison(sample):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["kpi"] = "otif"
    at.query_params["v"] = ["otif:by_line;early_days=3;late_days=1|Strict 3/1", "otif:by_line", "otif:by_value"]
    at.query_params["by"] = "supplier"
    at.run()
    at.switch_page("views/lab.py")
    at.run()
    assert_clean(at)
    values = _values(at)
    strict = kpilab.compute(sample, "otif", "by_line", early_days=3, late_days=1).value
    assert values["Strict 3/1"] == format_value(strict, "share")
    assert "By value" in values and at.radio(key="lab_n").value == 3
    assert at.selectbox(key="lab_otif_by").value == "supplier"
    tree = at.get("vega_lite_chart")
    assert tree


def test_a_bad_link_is_a_message_not_a_crash():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["kpi"] = "otif"
    at.query_params["v"] = ["otif:by_line", "otif:nope", "otif:by_value;late_days=-4"]
    at.run()
    at.switch_page("views/lab.py")
    at.run()
    assert not at.exception
    assert len(at.warning) >= 2


@pytest.mark.parametrize("kpi_id", ["slow_moving", "availability", "logistics_cost", "return_rate"])
def test_other_families_run(kpi_id):
    at = open_page("views/lab.py")
    at.selectbox(key="lab_kpi").set_value(kpi_id).run()
    assert_clean(at)
    assert len(at.metric) >= 2


def test_sweep_translator_and_sql_prototype(sample):
    at = open_page("views/lab.py")
    at.toggle(key="lab_sweep_on").set_value(True).run()
    assert_clean(at)
    at.number_input(key="lab_plan_accuracy_tr_target_0").set_value(70.0).run()
    assert_clean(at)
    pairs = lab.paired_values(sample, lab.Variant("plan_accuracy", "wape"), lab.Variant("plan_accuracy", "min_max"),
                              "category")
    t = lab.translate_target(pairs, 0.70)
    assert _values(at)["≈ under Min/Max accuracy"] == format_value(t.estimate, "share")
    at.button(key="lab_sql_run").click().run()
    assert_clean(at)
    charts_before = len(at.get("vega_lite_chart"))
    assert charts_before >= 6                                       # … plus the SQL metric beside the variants
    at.text_area(key="lab_sql").input("COPY sales TO '/tmp/x.csv'").run()
    at.button(key="lab_sql_run").click().run()
    assert not at.exception
    assert any("only SELECT" in w.value for w in at.warning)


def test_chinese_labels():
    at = open_page("views/lab.py", lang="zh")
    assert_clean(at)
    assert any("定义实验室" in t.value for t in at.title)
    assert "计划准确度 · plan_accuracy" in at.selectbox(key="lab_kpi").options
    assert any(m.label == "Min/Max 准确度" for m in at.metric)


def test_take_a_variant_to_the_workshop():
    at = open_page("views/lab.py")
    at.selectbox(key="lab_plan_accuracy_v1_weight").set_value("actual").run()
    at.selectbox(key="lab_to_okr").set_value(1).run()
    at.button(key="lab_go_okr").click().run()
    assert_clean(at)
    assert at.session_state["ws_plan_accuracy_def"] == "min_max"
    assert at.session_state["ws_plan_accuracy_weight"] == "actual"




@pytest.mark.parametrize("lang, html_label", [("en", "⬇ HTML report"), ("zh", "⬇ HTML 报告")])
def test_the_comparison_deck_downloads(lang, html_label):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["lab_deck_on"] = True       # set before the first run: AppTest cannot rerun a Chinese page
    at.run()                                     # (its format functions read the language outside the script run)
    at.switch_page("views/lab.py")
    at.run()
    assert_clean(at)
    downloads = {d.key: d.proto.label for d in at.get("download_button")}
    assert downloads["lab_dl_pptx"] == "⬇ PowerPoint (.pptx)" and downloads["lab_dl_html"] == html_label


def test_the_comparison_deck_is_built_only_when_asked():
    at = open_page("views/lab.py")
    assert "lab_dl_pptx" not in {d.key for d in at.get("download_button")}
    at.toggle(key="lab_deck_on").set_value(True).run()
    assert_clean(at)
    assert {"lab_dl_pptx", "lab_dl_html"} <= {d.key for d in at.get("download_button")}
