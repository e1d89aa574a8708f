"""The sourcing section of the suppliers page (issue 12) through the app frame, on the bundled
sample, in English and Chinese: every definition's card shows the library's value, the widgets
rerun it with the library's numbers, the charts are drawn."""

import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page

PAGE = "views/suppliers.py"
KPIS = ("supplier_lead_time", "purchase_savings", "supplier_scorecard")


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def _expected(sample, kpi_id: str, definition: str, **params) -> str:
    kpi = kpilab.get_kpi(kpi_id)
    own = {k: v for k, v in params.items() if k in {p.name for p in kpi.params}}
    return format_value(kpilab.compute(sample, kpi_id, definition, **own).value, kpi.unit_of(kpi.definition(definition)))


def test_sourcing_section_shows_every_definition_in_english(sample):
    at = open_page(PAGE)
    assert_clean(at)
    values = [m.value for m in at.metric]
    for kpi_id in KPIS:
        for d in kpilab.get_kpi(kpi_id).definitions:
            assert _expected(sample, kpi_id, d.id) in values, (kpi_id, d.id, values)
    assert any("Sourcing: lead time" in h.value for h in at.header)
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert sum("Score by supplier and quarter" in s for s in specs) == 1
    assert sum("Lead time by order month" in s for s in specs) == 1
    assert any("PO lines in the baseline period are left out" in c.value for c in at.caption)


def test_weights_and_baseline_rerun_with_the_library_numbers(sample):
    at = open_page(PAGE)
    at.number_input(key="sourcing_weight_on_time").set_value(0.0).run()
    assert_clean(at)
    values = [m.value for m in at.metric]
    assert _expected(sample, "supplier_scorecard", "weighted", weight_on_time=0.0) in values
    at.number_input(key="sourcing_baseline_months").set_value(1).run()
    assert_clean(at)
    assert _expected(sample, "purchase_savings", "vs_baseline", baseline_months=1) in [m.value for m in at.metric]
    for name in ("sourcing_weight_otif", "sourcing_weight_inspection"):
        at.number_input(key=name).set_value(0.0).run()
    assert_clean(at)
    assert any("at least one scorecard component" in w.value for w in at.warning)


def test_sourcing_section_in_chinese(sample):
    at = open_page(PAGE, lang="zh")
    assert_clean(at)
    assert any("采购寻源" in h.value for h in at.header)
    assert any("供应商评分卡" in s.value for s in at.subheader)
    assert any("基线期内的采购订单行不计入" in c.value for c in at.caption)
    assert _expected(sample, "supplier_lead_time", "p90_first_receipt") in [m.value for m in at.metric]
