"""The availability page through the app frame, on the bundled sample."""


import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


@pytest.fixture(scope="module")
def page():
    return open_page("views/availability.py")


def test_page_shows_every_definition_with_the_library_value(sample, page):
    assert_clean(page)
    values = {m.label: m.value for m in page.metric}
    shown = list(values.values())
    for definition in ("sku_level", "cell_level", "demand_weighted"):
        assert format_value(kpilab.compute(sample, "availability", definition).value, "share") in shown, definition
    for days in (1, 7):
        for definition in ("trailing", "forward"):
            expected = format_value(kpilab.compute(sample, "low_cover", definition, days=days).value, "share")
            label = next(k for k in values if k.startswith(f"DOS < {days} ·") and
                         kpilab.get_kpi("low_cover").definition(definition).name.en in k)
            assert values[label] == expected, (definition, days)
    for definition in ("historical_average", "traffic_conversion"):
        assert format_value(kpilab.compute(sample, "lost_sales", definition).value, "money") in shown, definition
    assert len(page.get("vega_lite_chart")) >= 7
    assert any("apparel" in i.value.lower() for i in page.info)     # the article's caution on lost sales


def test_widget_changes_rerun_and_change_the_numbers(sample, page):
    before = [m.value for m in page.metric]
    page.number_input(key="availability_window").set_value(7).run()
    assert_clean(page)
    expected = kpilab.compute(sample, "availability", "demand_weighted", window=7).value
    assert format_value(expected, "share") in [m.value for m in page.metric]
    page.radio(key="availability_pool").set_value("A").run()
    assert_clean(page)
    expected = kpilab.compute(sample, "availability", "cell_level", window=7, classes="A").value
    assert format_value(expected, "share") in [m.value for m in page.metric]
    assert [m.value for m in page.metric] != before
    page.radio(key="availability_grain").set_value("day").run()
    page.selectbox(key="availability_sort").set_value("availability").run()
    page.number_input(key="availability_top").set_value(0).run()
    page.number_input(key="availability_cover_days").set_value(3).run()
    assert_clean(page)
    assert any(m.label.startswith("DOS < 3") for m in page.metric)
    page.radio(key="availability_pool").set_value("custom").run()
    page.multiselect(key="availability_classes").set_value(["E"]).run()      # an empty pool: no crash
    assert not page.exception


def test_chinese_labels():
    at = open_page("views/availability.py", lang="zh")
    assert_clean(at)
    assert any("在架率" in t.value for t in at.title)
    assert any(m.label.startswith("SKU 在架率") for m in at.metric)
