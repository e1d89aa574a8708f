"""Monthly actuals (issue 13): sales given as one row per SKU and month load without renaming,
are detected as monthly totals, feed the planning KPIs up to their last month, and the KPIs that
need daily sales say so."""

import json

import pandas as pd
import pytest

import kpilab
from kpilab import KpiError, compute
from kpilab.dataset import detect_grain
from kpilab.engine import DAILY_SALES, missing_inputs
from kpilab.mapping import ColumnMapping, MappingError

MONTHLY = "tests/fixtures/monthly"


@pytest.fixture(params=["pandas", "polars", "duckdb"])
def monthly(request):
    return kpilab.load_dataset(MONTHLY, engine=request.param)


def test_monthly_sales_are_detected_and_noted(monthly):
    assert monthly.grain == "monthly"
    assert any("monthly totals" in n for n in monthly.notes)
    assert monthly.report.ok


def test_the_last_month_of_monthly_actuals_is_judged(monthly):
    # Jan: a P90 A100 (b, c sold unplanned: 50 + 10); Feb: a P100 A80, b P60 A60.
    by_month = compute(monthly, "plan_accuracy", "wape", by=["month"]).table
    assert by_month["month"].tolist() == ["2024-01", "2024-02"]
    # Jan: |90−100| + 50 + 10 = 70 over 160; Feb: 20 + 0 over 140
    assert by_month["value"].tolist() == pytest.approx([1 - 70 / 160, 1 - 20 / 140])
    planned = compute(monthly, "plan_accuracy", "wape", by=["month"], universe="planned_only").table
    assert planned["value"].tolist() == pytest.approx([1 - 10 / 100, 1 - 20 / 140])


def test_daily_kpis_say_they_need_daily_sales(monthly):
    needing = [k for k in kpilab.REGISTRY.values() if k.needs_daily_sales]
    assert needing, "some KPI must declare that it reads sales day by day"
    for kpi in needing:
        if "sales" in kpi.tables:
            assert DAILY_SALES in missing_inputs(kpi, monthly)
    kpi = needing[0]
    with pytest.raises(KpiError, match="daily sales rows"):
        compute(monthly, kpi.id, kpi.definitions[0].id)


def test_grain_can_be_set_by_hand_and_in_a_mapping(tmp_path):
    assert kpilab.load_dataset(MONTHLY, engine="polars", grain="daily").grain == "daily"
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"version": 1, "tables": {}, "grain": "daily"}), encoding="utf-8")
    assert kpilab.load_dataset(MONTHLY, mapping=mapping, engine="polars").grain == "daily"
    assert ColumnMapping.from_json(mapping.read_text(encoding="utf-8")).to_dict()["grain"] == "daily"
    with pytest.raises(MappingError):
        ColumnMapping.from_json(json.dumps({"version": 1, "tables": {}, "grain": "weekly"}))


def test_daily_rows_stay_daily():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-01"])
    assert detect_grain(pd.DataFrame({"sku": ["a", "a", "a"], "date": days})) == "daily"
    assert detect_grain(pd.DataFrame({"sku": ["a"], "date": days[:1]})) == "daily"   # nothing to tell
    assert kpilab.load_sample().grain == "daily"


def test_command_line_reads_monthly_actuals(capsys):
    from kpilab.cli import main

    assert main(["compute", "plan_accuracy", "--definition", "wape", "--data", MONTHLY, "--by", "month",
                 "--engine", "polars"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("month,value") and lines[2].startswith("2024-02,")
    assert main(["compute", "days_of_inventory", "--definition", "trailing", "--data", MONTHLY,
                 "--grain", "monthly"]) == 2
    assert "daily sales rows" in capsys.readouterr().err
