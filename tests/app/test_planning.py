"""The planning page through the app frame, on the bundled sample."""

import pytest

import kpilab
from kpilab.formatting import format_value
from tests.app.conftest import assert_clean, open_page


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def test_planning_page_shows_every_definition_with_the_library_value(sample):
    at = open_page("views/planning.py")
    assert_clean(at)
    values = [m.value for m in at.metric]
    for definition in ("wape", "min_max", "mape"):
        expected = kpilab.compute(sample, "plan_accuracy", definition).value
        assert format_value(expected, "share") in values, (definition, values)
    assert len(at.get("vega_lite_chart")) >= 3


def test_widget_change_changes_the_numbers(sample):
    at = open_page("views/planning.py")
    before = [m.value for m in at.metric]
    at.selectbox(key="planning_weight").set_value("actual").run()
    assert_clean(at)
    after = [m.value for m in at.metric]
    expected = kpilab.compute(sample, "plan_accuracy", "min_max", weight="actual").value
    assert format_value(expected, "share") in after
    assert before != after


def test_chinese_labels():
    at = open_page("views/planning.py", lang="zh")
    assert_clean(at)
    assert any("计划" in t.value for t in at.title)
    assert any("Min/Max 准确度" == m.label for m in at.metric)
