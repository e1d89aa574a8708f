"""The bundled sample loads cleanly and feeds every KPI; fingerprints follow content; notebooks are stored clean."""

import json
from pathlib import Path

import pandas as pd

import kpilab
from kpilab import Dataset, coverage

ROOT = Path(__file__).resolve().parents[1]


def test_sample_is_valid_and_feeds_every_kpi():
    ds = kpilab.load_sample()
    assert ds.report.ok and not ds.report.warnings, ds.report.to_text()
    cov = coverage(ds)
    assert cov["ok"].all(), cov[~cov["ok"]]


def test_fingerprint_follows_content_not_identity():
    a = {"skus": pd.DataFrame({"sku": ["a"], "category": ["x"], "unit_cost": [1.0]})}
    b = {"skus": pd.DataFrame({"sku": ["a"], "category": ["x"], "unit_cost": [1.0]})}
    c = {"skus": pd.DataFrame({"sku": ["a"], "category": ["x"], "unit_cost": [2.0]})}
    assert Dataset(a).fingerprint == Dataset(b).fingerprint != Dataset(c).fingerprint


def test_polars_copy_keeps_fingerprint_and_values():
    ds = Dataset.from_frames({"skus": pd.DataFrame({"sku": ["a"], "category": ["x"], "unit_cost": ["1"]})})
    pl = ds.to_polars()
    assert pl.fingerprint == ds.fingerprint
    assert pl.tables["skus"]["unit_cost"].to_list() == [1.0]


def test_notebooks_are_stored_without_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, path.name
