"""The quality page through the app frame, on the bundled sample."""


import narwhals.stable.v2 as nw
import pytest

import kpilab
from kpilab.formatting import format_value
from kpilab.kpis import quality as q
from tests.app.conftest import assert_clean, open_page

PAGE = "views/quality.py"


@pytest.fixture(scope="module")
def sample():
    return kpilab.load_sample()


def metric_values(at):
    return [m.value for m in at.metric]


def test_quality_page_shows_both_definitions_with_the_library_value(sample):
    at = open_page(PAGE)
    assert_clean(at)
    values = metric_values(at)
    for definition in ("same_month", "attributed"):
        expected = kpilab.compute(sample, "return_rate", definition).value
        assert format_value(expected, "share") in values, (definition, values)
    # monthly rates + maturity curve, lag distribution, keyword before/after, flags per category
    assert len(at.get("vega_lite_chart")) >= 5
    # the latest month, with the attributed maturity the library reports for it
    monthly = kpilab.compute(sample, "return_rate", "attributed", by=["month"]).table
    last = nw.from_native(monthly, eager_only=True).rows(named=True)[-1]
    assert f"{last['value']:.2%}" in values


def test_widget_changes_rerun_with_the_library_numbers(sample):
    at = open_page(PAGE)
    at.toggle(key="quality_keywords").set_value(True).run()
    assert_clean(at)
    expected = kpilab.compute(sample, "return_rate", "same_month", keywords=True).value
    assert format_value(expected, "share") in metric_values(at)

    at.button_group(key="quality_measure").set_value("authenticity").run()
    assert_clean(at)
    expected = kpilab.compute(sample, "return_rate", "attributed", reasons="authenticity", keywords=True,
                              keyword_list=q.AUTHENTICITY_KEYWORDS).value
    assert format_value(expected, "share") in metric_values(at)

    at.number_input(key="quality_red").set_value(1.5).run()
    assert_clean(at)
    at.selectbox(key="quality_group").set_value("abc_class").run()
    assert_clean(at)
    at.radio(key="quality_flag_definition").set_value("same_month").run()
    assert_clean(at)


def test_keyword_list_is_editable_and_comments_are_plain_text(sample):
    at = open_page(PAGE)
    at.text_input(key="quality_keyword_list_quality").set_value("stopped working, 坏了").run()
    assert_clean(at)
    preview = q.keyword_reclassification(sample, definition="attributed", keyword_list="stopped working, 坏了")
    assert f"{len(preview.pulled_in):,}" in metric_values(at)
    # the customers' comments appear only in data frames, never in Markdown
    comments = {c for c in nw.from_native(preview.pulled_in, eager_only=True)["comment"].to_list() if c}
    assert comments
    shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert not any(c in shown for c in comments)


def test_chinese_labels():
    at = open_page(PAGE, lang="zh")
    assert_clean(at)
    assert any("品质退款率" in t.value for t in at.title)
    assert any(m.label == "回溯法 (按支付月份归因)" for m in at.metric)
