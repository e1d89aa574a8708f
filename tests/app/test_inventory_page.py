"""The inventory health page through the app frame, on the bundled sample."""


import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page

PAGE = "views/inventory.py"


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def _metrics(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def test_inventory_page_shows_every_definition_with_the_library_value(sample):
    at = open_page(PAGE)
    assert_clean(at)
    shown = [v for _, v in _metrics(at)]
    expected = {("inventory_value", "daily_average"): "money", ("inventory_value", "month_end"): "money",
                ("days_of_inventory", "trailing"): "days", ("days_of_inventory", "forward"): "days",
                ("slow_moving", "dos_excess"): "share", ("slow_moving", "dos_whole"): "share",
                ("slow_moving", "stock_age"): "share", ("slow_moving", "dos_and_age"): "share",
                ("stock_health", "near_expiry"): "share", ("stock_health", "defective"): "share",
                ("stock_health", "unsellable"): "share",
                ("inventory_growth", "daily_average"): "ratio", ("inventory_growth", "month_end"): "ratio"}
    for (kpi, definition), unit in expected.items():
        value = kpilab.compute(sample, kpi, definition).value
        assert format_value(value, unit) in shown, (kpi, definition, value, shown)
    # value vs month end, DOI, slow bars + monthly, 2×2, sweep, ABC, health, growth
    assert len(at.get("vega_lite_chart")) >= 9
    assert len(at.get("download_button")) >= 10


def test_widget_change_reruns_and_matches_the_library(sample):
    at = open_page(PAGE)
    at.number_input(key="inventory_dos_days").set_value(120).run()
    assert_clean(at)
    shown = [v for _, v in _metrics(at)]
    for definition in ("dos_excess", "dos_whole", "dos_and_age"):
        expected = kpilab.compute(sample, "slow_moving", definition, dos_days=120).value
        assert format_value(expected, "share") in shown, (definition, shown)

    at.selectbox(key="inventory_basis").set_value("forward").run()
    assert_clean(at)
    expected = kpilab.compute(sample, "slow_moving", "dos_whole", dos_days=120, basis="forward").value
    assert format_value(expected, "share") in [v for _, v in _metrics(at)]

    at.number_input(key="inventory_fraction").set_value(0.5).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "stock_health", "near_expiry", fraction=0.5).value
    assert format_value(expected, "share") in [v for _, v in _metrics(at)]

    at.number_input(key="inventory_l1").set_value(60).run()
    at.radio(key="inventory_and_moves").set_value("both").run()
    at.radio(key="inventory_growth_basis").set_value("month_end").run()
    assert_clean(at)


def test_chinese_labels():
    at = open_page(PAGE, lang="zh")
    assert_clean(at)
    assert any("库存健康" in t.value for t in at.title)
    labels = [label for label, _ in _metrics(at)]
    assert "日均" in labels and "库龄" in labels and "DOS 超出部分" in labels
