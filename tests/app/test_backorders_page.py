"""The backorders page through the app frame: on the bundled sample (English and Chinese) and on a
dataset without a backorders table."""

import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page

PAGE = "views/backorders.py"
KPIS = ("backorder_rate", "overdue_backorders", "backorder_promise_kept", "backorder_age", "backorder_growth")


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def test_every_definition_shows_the_library_value_with_charts_per_segment(sample):
    at = open_page(PAGE)
    assert_clean(at)
    shown = [m.value for m in at.metric]
    for kpi_id in KPIS:
        kpi = kpilab.get_kpi(kpi_id)
        for d in kpi.definitions:
            expected = kpilab.compute(sample, kpi_id, d.id).value
            assert format_value(expected, kpi.unit_of(d)) in shown, (kpi_id, d.id, shown)
    charts = at.get("vega_lite_chart")
    assert len(charts) == len(KPIS) + 1          # one per KPI, and the backlog
    assert "oos_policy" in str(charts[0].proto.spec)


def test_max_days_and_weight_rerun_with_the_library_numbers(sample):
    at = open_page(PAGE)
    at.number_input(key="backorders_max_days").set_value(3).run()
    at.selectbox(key="backorders_weight").set_value("units").run()
    assert_clean(at)
    expected = kpilab.compute(sample, "overdue_backorders", "vs_age", max_days=3, weight="units").value
    assert format_value(expected, "share") in [m.value for m in at.metric]


def test_chinese_page_and_notes(sample):
    at = open_page(PAGE, lang="zh")
    assert_clean(at)
    assert any("缺货预订" in t.value for t in at.title)
    assert any(m.label == "按行" for m in at.metric)
    growth = kpilab.compute(sample, "backorder_growth", "new_units")
    assert any(note.zh in c.value for note in growth.notes for c in at.caption)


@pytest.mark.parametrize("lang, words", [("en", "backorders"), ("zh", "backorders")])
def test_dataset_without_backorders_gets_a_message(monkeypatch, sample, lang, words):
    from kpilab.app import state

    slim = kpilab.Dataset({k: v for k, v in sample.tables.items() if k != "backorders"}, name="slim")
    monkeypatch.setattr(state, "sample", lambda: slim)
    at = open_page(PAGE, lang=lang)
    assert_clean(at)
    assert not at.metric and not at.get("vega_lite_chart")
    assert len(at.info) == 1 and words in at.info[0].value
