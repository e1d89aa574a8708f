"""End to end: the workshop deck's HTML report downloaded from the OKR Workshop in headless
Chromium, then opened in the browser: its title, a value and its chart images (loaded, not broken),
in English and in Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import kpilab
from kpilab import lab, okr
from kpilab.formatting import format_value
from tests.e2e.conftest import assert_no_error, wait_idle

pytestmark = pytest.mark.e2e

SHEET = okr.OkrSheet(title="Supply chain OKRs").add("Keep the shelf full", okr.KeyResult(
    lab.Variant("plan_accuracy", "wape"), 0.8, 0.75, "2026-08", "2026-10", owner="Li Lei",
    deadline=dt.date(2027, 1, 31)))


@pytest.mark.parametrize("lang, heading", [("en", "Plan accuracy: the definitions side by side"),
                                           ("zh", "计划准确度: 各口径并排对比")])
def test_download_the_html_report_and_open_it(server, page, tmp_path, lang, heading):
    page.goto(f"{server}/workshop?lang={lang}&sheet={okr.encode_sheet(SHEET)}")
    wait_idle(page)
    page.locator(".st-key-ws_deck_on label").click()
    wait_idle(page)
    page.locator(".st-key-ws_dl_html button").wait_for()
    assert_no_error(page)
    with page.expect_download() as info:
        page.locator(".st-key-ws_dl_html button").click()
    download = info.value
    assert download.suggested_filename == "okr_workshop.html"
    report = tmp_path / "okr_workshop.html"
    report.write_bytes(Path(download.path()).read_bytes())

    page.goto(report.as_uri())
    assert page.title() == "Supply chain OKRs"
    page.get_by_role("heading", name=heading).wait_for()
    wape = kpilab.compare(kpilab.load_sample(), "plan_accuracy").results["wape"].value
    assert page.get_by_role("cell", name=format_value(wape, "share"), exact=True).count() == 1
    sizes = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert sizes and all(done and width > 0 for done, width in sizes), sizes
