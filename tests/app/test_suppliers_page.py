"""The suppliers page through the app frame, on the bundled sample."""

import datetime

import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page

PAGE = "views/suppliers.py"


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def metric_values(at):
    return [m.value for m in at.metric]


def test_suppliers_page_shows_every_definition_with_the_library_value(sample):
    at = open_page(PAGE)
    assert_clean(at)
    values = metric_values(at)
    for kpi in ("otif", "inspection_pass_rate", "preferred_supplier_share"):
        for d in kpilab.get_kpi(kpi).definitions:
            expected = kpilab.compute(sample, kpi, d.id).value
            assert format_value(expected, "share") in values, (kpi, d.id, values)
    # per supplier, receipt timing, fill curve, monthly, slope, correlations, rush, scarce, inspection ×4, preferred
    assert len(at.get("vega_lite_chart")) >= 12
    assert any("not yet due" in c.value for c in at.caption)


def test_window_and_fill_mark_changes_rerun_with_the_library_numbers(sample):
    at = open_page(PAGE)
    at.slider(key="suppliers_late_days").set_value(7).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "otif", "by_value", late_days=7).value
    assert format_value(expected, "share") in metric_values(at)

    at.slider(key="suppliers_line_fill").set_value(0.8).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "otif", "by_order", late_days=7, line_fill=0.8).value
    assert format_value(expected, "share") in metric_values(at)

    at.toggle(key="suppliers_exclude_scarce").set_value(False).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "otif", "by_line", late_days=7, line_fill=0.8, exclude_scarce=False).value
    assert format_value(expected, "share") in metric_values(at)

    at.selectbox(key="suppliers_orders").set_value("rush").run()
    assert_clean(at)
    at.multiselect(key="suppliers_windows").set_value([(0, 0)]).run()
    assert_clean(at)
    at.radio(key="suppliers_metric").set_value("kendall").run()
    assert_clean(at)
    # judged before any window closed: every definition is empty, and the page says why
    at.date_input(key="suppliers_as_of").set_value(datetime.date(2020, 1, 1)).run()
    assert_clean(at)
    assert metric_values(at)[:3] == ["—", "—", "—"]
    assert any("not yet due" in c.value for c in at.caption)


def test_inspection_and_preferred_controls(sample):
    at = open_page(PAGE)
    at.radio(key="suppliers_scope").set_value("new_first").run()
    assert_clean(at)
    expected = kpilab.compute(sample, "inspection_pass_rate", "by_lot", scope="new_first").value
    assert format_value(expected, "share") in metric_values(at)
    at.slider(key="suppliers_lot_threshold").set_value(0.9).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "inspection_pass_rate", "by_lot", scope="new_first", lot_threshold=0.9).value
    assert format_value(expected, "share") in metric_values(at)
    at.slider(key="suppliers_min_rating").set_value(90).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "preferred_supplier_share", "by_rating", min_rating=90).value
    assert format_value(expected, "share") in metric_values(at)
    at.multiselect(key="suppliers_tiers").set_value(["brand"]).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "preferred_supplier_share", "by_tier", tiers="brand").value
    assert format_value(expected, "share") in metric_values(at)


def test_chinese_labels():
    at = open_page(PAGE, lang="zh")
    assert_clean(at)
    assert any("供应商" in t.value for t in at.title)
    assert any(m.label == "按整单" for m in at.metric)


def test_dataset_without_supplier_tables_gets_a_message(monkeypatch):
    from kpilab.app import state

    sample = kpilab.load_sample()
    slim = kpilab.Dataset({k: v for k, v in sample.tables.items()
                           if k not in ("purchase_orders", "receipts", "inspections", "suppliers")}, name="slim")
    monkeypatch.setattr(state, "sample", lambda: slim)
    at = open_page(PAGE)
    assert_clean(at)
    assert len(at.info) >= 3        # one message per KPI naming the missing tables
    assert any("purchase_orders" in i.value for i in at.info)
