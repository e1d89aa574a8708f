"""The logistics page through the app frame, on the bundled sample."""


import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page

PAGE = "views/logistics.py"


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def metric_values(at):
    return [m.value for m in at.metric]


def test_logistics_page_shows_every_definition_with_the_library_value(sample):
    at = open_page(PAGE)
    assert_clean(at)
    values = metric_values(at)
    assert format_value(kpilab.compute(sample, "logistics_cost", "cost_to_gmv").value, "share") in values
    assert format_value(kpilab.compute(sample, "logistics_cost", "cost_per_order").value, "amount") in values
    for d in ("split_only", "all_items"):
        assert format_value(kpilab.compute(sample, "local_fulfilment", d).value, "share") in values, (d, values)
    # monthly ×2, index, cost type ×2, warehouse ×2, local by month and by group
    assert len(at.get("vega_lite_chart")) >= 9
    assert any("cost per order rises" in i.value for i in at.info)


def test_widget_changes_rerun():
    at = open_page(PAGE)
    at.radio(key="logistics_breakdown").set_value("warehouse").run()
    assert_clean(at)
    at.radio(key="logistics_local_by").set_value("category").run()
    assert_clean(at)
    assert len(at.get("vega_lite_chart")) >= 9


def test_chinese_labels():
    at = open_page(PAGE, lang="zh")
    assert_clean(at)
    assert any("物流" in t.value for t in at.title)
    assert any(m.label == "单均物流成本" for m in at.metric)
