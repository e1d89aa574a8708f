"""End to end, as a facilitator uses the OKR Workshop: one objective, one key result, then the
sheet downloaded from the browser and read back."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

import kpilab
from kpilab import lab, okr
from tests.e2e.conftest import assert_no_error, wait_idle

pytestmark = pytest.mark.e2e


def _type(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_build_a_sheet_and_download_it(server, page):
    page.goto(f"{server}/workshop")
    wait_idle(page)
    page.get_by_text("OKR Workshop — targets from your own data").wait_for()
    _type(page, "ws_title", "Supply chain OKRs")
    _type(page, "ws_objective", "Keep the shelf full")
    _type(page, "ws_owner", "=Li Lei")                     # a formula-looking owner: must stay text
    _type(page, "ws_target_plan_accuracy_wape", "80")
    page.locator(".st-key-ws_add button").click()
    wait_idle(page)
    page.get_by_text("O1. Keep the shelf full").wait_for()
    assert_no_error(page)
    assert "sheet=" in page.url

    with page.expect_download() as info:
        page.locator(".st-key-ws_dl_csv button").click()
    download = info.value
    assert download.suggested_filename == "okr_sheet.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.StringIO(data.decode("utf-8-sig")), dtype=str, keep_default_na=False)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["objective"] == "Keep the shelf full" and row["owner"] == "'=Li Lei"
    assert row["variant"] == "plan_accuracy:wape" and float(row["target"]) == pytest.approx(0.80)
    sample = kpilab.load_sample()
    variant = lab.Variant("plan_accuracy", "wape")
    months = okr.months_with_data(sample, variant)
    assert (row["baseline_from"], row["baseline_to"]) == (months[-3], months[-1])
    assert float(row["baseline"]) == pytest.approx(okr.period_value(sample, variant, months[-3], months[-1]))

    with page.expect_download() as info:
        page.locator(".st-key-ws_dl_xlsx button").click()
    sheet, problems = okr.read_sheet("okr_sheet.xlsx", Path(info.value.path()).read_bytes())
    assert problems == [] and sheet.title == "Supply chain OKRs"
    (_, _, kr), = sheet.key_results
    assert kr.owner == "=Li Lei" and kr.target == pytest.approx(0.80)
    assert_no_error(page)
