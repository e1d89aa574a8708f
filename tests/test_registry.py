"""The registry against the spec: ids, completeness, parameter constraints; the core stays Streamlit-free."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kpilab import REGISTRY
from kpilab.registry import FAMILIES, KpiError

SPEC_IDS = Path(__file__).resolve().parents[2] / "shared" / "spec" / "catalog-ids.json"


@pytest.fixture(scope="module")
def spec_ids():
    if not SPEC_IDS.exists():
        pytest.skip("shared/spec is not beside the project")
    return json.loads(SPEC_IDS.read_text())


# KPIs that issues add to the spec (their text rules until shared/spec lists them).
ISSUE_IDS = {
    # issue 12: backorders and sourcing
    "backorder_rate": ["by_lines", "by_units", "by_value"],
    "overdue_backorders": ["vs_promise", "vs_age"],
    "backorder_promise_kept": ["shipped_only", "all_closed"],
    "backorder_age": ["mean", "p90"],
    "backorder_growth": ["new_units", "open_units"],
    "supplier_lead_time": ["mean_first_receipt", "mean_full_receipt", "p90_first_receipt", "variability"],
    "purchase_savings": ["vs_last_price", "vs_baseline", "vs_standard_cost"],
    "supplier_scorecard": ["weighted", "weakest_link"],
}


def test_ids_equal_the_spec(spec_ids):
    assert {k: [d.id for d in kpi.definitions] for k, kpi in REGISTRY.items()} == spec_ids | {
        k: v for k, v in ISSUE_IDS.items() if k not in spec_ids}


@pytest.mark.parametrize("kpi", REGISTRY.values(), ids=lambda k: k.id)
def test_every_record_is_complete(kpi):
    assert kpi.family in FAMILIES
    assert kpi.name.en and kpi.name.zh and kpi.description.en and kpi.description.zh
    assert len({d.id for d in kpi.definitions}) == len(kpi.definitions)
    names = {p.name for p in kpi.all_params}
    assert len(names) == len(kpi.all_params)
    for d in kpi.definitions:
        assert d.formula and d.name.en and d.name.zh
        assert d.says.en and d.says.zh and d.prefer_when.en and d.prefer_when.zh
        assert d.sums, d.id
        assert set(d.params) <= names, (d.id, set(d.params) - names)
    for p in kpi.all_params:
        assert p.label.en and p.label.zh
        assert p.parse(p.default) == p.default or p.kind in ("list", "date")   # defaults meet their own constraints


def test_parameter_parsing_from_the_command_line():
    kpi = REGISTRY["plan_accuracy"]
    assert kpi.resolve_params({"lag": "2", "classes": "A,B"})["classes"] == ("A", "B")
    assert kpi.resolve_params({"lag": "2"})["lag"] == 2
    for bad in ({"lag": "x"}, {"lag": "-1"}, {"classes": "A,Z"}, {"source": "guess"}, {"nope": "1"}):
        with pytest.raises(KpiError):
            kpi.resolve_params(bad)


def test_core_does_not_import_streamlit():
    """Every kpilab module but kpilab.app imports with streamlit blocked."""
    code = (
        "import sys, pkgutil, importlib; sys.modules['streamlit'] = None\n"
        "import kpilab\n"
        "for m in pkgutil.walk_packages(kpilab.__path__, 'kpilab.'):\n"
        "    if not m.name.startswith(('kpilab.app', 'kpilab.__main__')): importlib.import_module(m.name)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
