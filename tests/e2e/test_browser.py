"""End to end, as a person uses the app: deep links on a fresh server, upload, KPI pages."""

from __future__ import annotations

import re

import pytest

from kpilab import compute, load_dataset
from kpilab.formatting import format_value
from kpilab.simulate import simulate, write_dataset
from tests.e2e.conftest import assert_no_error, wait_idle

pytestmark = pytest.mark.e2e


def test_deep_link_on_fresh_server_keeps_language_and_frame(server, page):
    page.goto(f"{server}/planning?lang=zh")
    wait_idle(page)
    page.get_by_text("计划 (S&OP) — 计划有多准?").wait_for()
    assert page.get_by_text("语言", exact=False).count() >= 1           # the app's own sidebar is there
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "计划" in nav and "planning.py" not in nav                     # titles, not raw file names
    assert_no_error(page)
    assert "lang=zh" in page.url and "data=sample" in page.url


def test_upload_then_planning_shows_the_uploaded_numbers(server, page, tmp_path):
    tables = simulate(skus=25, warehouses=2, days=430, seed=11)
    files = write_dataset(tables, tmp_path / "upload")
    expected = compute(load_dataset(tmp_path / "upload"), "plan_accuracy", "min_max").value

    page.goto(f"{server}/data")
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzone'] input[type='file']").first.set_input_files(
        [str(f) for f in files])
    page.get_by_role("button", name="Use this dataset").click(timeout=180_000)
    wait_idle(page)
    page.get_by_text("The whole app now uses this dataset.").wait_for()

    page.locator("[data-testid='stSidebarNav'] a", has_text="Planning").click()
    wait_idle(page)
    page.get_by_text("Planning (S&OP) — how accurate is the plan?").wait_for()
    metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert format_value(expected, "share") in metrics, metrics
    assert_no_error(page)
    assert re.search(r"data=[0-9a-f]{16}", page.url)

    for nav, path in (("Inventory health", "inventory"), ("Availability", "availability"), ("Quality", "quality"),
                      ("Suppliers", "suppliers"), ("Logistics", "logistics"), ("Definition Lab", "lab"),
                      ("OKR Workshop", "workshop")):
        page.locator("[data-testid='stSidebarNav'] a", has_text=nav).first.click()
        page.wait_for_url(re.compile(f"/{path}\\?"))
        wait_idle(page)
        assert page.locator("[data-testid='stMetricValue']").count() >= 1, nav
        assert_no_error(page)
        assert re.search(r"data=[0-9a-f]{16}", page.url), nav      # still on the uploaded dataset


@pytest.mark.parametrize("nav, title", [
    ("Inventory health", "Inventory health — how much stock"),
    ("Availability", "Availability — is it on the shelf"),
    ("Quality", "Quality — how often do items come back"),
    ("Suppliers", "Suppliers — on time, in full"),
    ("Logistics", "Logistics — what does it cost"),
    ("Definition Lab", "Definition Lab — one KPI"),
])
def test_every_kpi_page_renders_in_the_browser(server, page, nav, title):
    page.goto(server)
    wait_idle(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text=nav).first.click()
    wait_idle(page)
    page.get_by_text(title).first.wait_for()
    assert page.locator("[data-testid='stMetricValue']").count() >= 2
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 1
    assert_no_error(page)
