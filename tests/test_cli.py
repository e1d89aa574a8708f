"""The command line as the spec's "Command line" section describes it."""

import csv
import io
import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from kpilab.cli import main
from kpilab.contract import TABLES

SAMPLE = "data/sample"


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def tiny(tmp_path):
    """Three SKUs, one judged month: P=[100,50,0], A=[80,60,10] (the spec's worked check)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    pd.DataFrame({"sku": ["a", "b", "c"], "month": "2024-01", "version_month": "2023-12",
                  "units": [100, 50, 0]}).to_csv(folder / "plans.csv", index=False)
    pd.DataFrame({"date": ["2024-01-10", "2024-01-10", "2024-01-10", "2024-01-31"], "sku": ["a", "b", "c", "a"],
                  "warehouse": "W", "units": [80, 60, 10, 0], "gmv": [80, 60, 10, 0]}).to_csv(
        folder / "sales.csv", index=False)
    pd.DataFrame({"sku": ["a", "b", "c"], "category": ["x", "x", "y"], "unit_cost": 1}).to_csv(
        folder / "skus.csv", index=False)
    return folder


def test_compute_prints_csv_at_full_precision(capsys, tiny):
    code, out, _ = run(capsys, "compute", "plan_accuracy", "--definition", "wape", "--data", str(tiny))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["value", "abs_error", "actual"]
    assert float(rows[1][0]) == 1 - 40 / 150 and rows[1][0] == repr(1 - 40 / 150)


def test_compute_by_and_params_and_json(capsys, tiny):
    code, out, _ = run(capsys, "compute", "plan_accuracy", "--definition", "min_max", "--data", str(tiny),
                       "--param", "weight=actual", "--by", "category", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    # x: r .8, .8333 with actual weights 80, 60 → (64+50)/140; y: r 0 → 0
    assert [r["category"] for r in rows] == ["x", "y"]
    assert rows[0]["value"] == pytest.approx(114 / 140) and rows[1]["value"] == 0.0


def test_empty_value_is_an_empty_field(capsys, tiny):
    code, out, _ = run(capsys, "compute", "plan_bias", "--definition", "achievement", "--data", str(tiny),
                       "--param", "classes=E")
    assert code == 0
    assert out.splitlines()[1].split(",")[0] == ""


@pytest.mark.parametrize("args, message", [
    (["compute", "nope", "--definition", "x", "--data", "."], "unknown KPI"),
    (["compute", "plan_accuracy", "--definition", "x", "--data", "."], "valid: wape, min_max, mape"),
    (["compute", "plan_accuracy", "--definition", "wape", "--data", ".", "--param", "lagg=1"], "unknown parameter"),
    (["compute", "plan_accuracy", "--definition", "wape", "--data", ".", "--param", "lag"], "NAME=VALUE"),
    (["compute", "plan_accuracy", "--definition", "wape", "--data", SAMPLE, "--by", "warehouse"],
     "cannot be grouped by warehouse; valid: month"),
])
def test_bad_requests_exit_2_with_the_valid_choices(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and message in err and out == ""


def test_missing_data_exits_1(capsys, tmp_path):
    code, _, err = run(capsys, "compute", "plan_accuracy", "--definition", "wape", "--data", str(tmp_path / "none"))
    assert code == 1 and "no dataset" in err


def test_catalog_json_lists_every_kpi(capsys):
    code, out, _ = run(capsys, "catalog", "--format", "json")
    catalog = json.loads(out)
    assert code == 0
    accuracy = next(k for k in catalog if k["id"] == "plan_accuracy")
    assert accuracy["family"] == "planning"
    assert [d["id"] for d in accuracy["definitions"]] == ["wape", "min_max", "mape"]
    assert {"name": "lag", "default": 1}.items() <= next(p for p in accuracy["parameters"] if p["name"] == "lag").items()


def test_validate_reports_and_exit_codes(capsys, tiny, tmp_path):
    code, out, _ = run(capsys, "validate", str(tiny))
    assert code == 0 and "KPIs this dataset can feed" in out and "order_volume_accuracy: needs" in out
    bad = tmp_path / "bad"
    bad.mkdir()
    pd.DataFrame({"sku": ["a"], "category": ["x"]}).to_csv(bad / "skus.csv", index=False)   # no unit_cost
    code, out, _ = run(capsys, "validate", str(bad))
    assert code == 1 and "unit_cost" in out


def test_validate_with_a_saved_mapping(capsys, tmp_path):
    folder = tmp_path / "zh"
    folder.mkdir()
    pd.DataFrame({"SKU编码": ["a"], "品类": ["x"], "成本价": [2.0]}).to_csv(folder / "skus.csv", index=False,
                                                                       encoding="gb18030")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"version": 1, "tables": {"skus": {"SKU编码": "sku", "品类": "category",
                                                                      "成本价": "unit_cost"}}}), encoding="utf-8")
    code, out, _ = run(capsys, "validate", str(folder))
    assert "unit_cost" in out                       # unmapped: the required column is missing
    code, out, _ = run(capsys, "validate", str(folder), "--mapping", str(mapping))
    assert "0 errors" in out and "unit_cost" not in out, out


def test_generate_then_compute_through_python_dash_m(tmp_path):
    out = tmp_path / "gen"
    done = subprocess.run([sys.executable, "-m", "kpilab", "generate", str(out), "--skus", "12", "--warehouses", "2",
                           "--days", "430", "--seed", "4"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "sales.csv").exists() and (out / "inventory.csv").exists()
    done = subprocess.run([sys.executable, "-m", "kpilab", "compute", "plan_accuracy", "--definition", "min_max",
                           "--data", str(out), "--by", "month"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "month,value,weight_total,zero_weight_items"
    assert len(done.stdout.splitlines()) > 10


@pytest.mark.parametrize("command", [["compute", "plan_accuracy", "--definition", "wape", "--data"], ["validate"]])
def test_progress_bar_on_a_terminal_and_quiet_when_piped(tiny, command):
    import os
    import pty

    args = [sys.executable, "-m", "kpilab", *command, str(tiny)]
    piped = subprocess.run(args, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert "reading and validating" not in piped.stderr and "\r" not in piped.stderr    # quiet when piped
    assert "reading and validating" not in piped.stdout

    leader, follower = pty.openpty()                     # standard error is a terminal: a bar with its steps
    try:
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=follower, timeout=120)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:                              # the terminal is closed once everything is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"reading and validating" in shown and re.search(rb"\d/[12] ", shown), shown     # step n of 1 or 2
    assert done.stdout.decode() == piped.stdout          # the results themselves are the same


def test_generate_parquet_in_chunks(capsys, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "pq"
    code, stdout, err = run(capsys, "generate", str(out), "--skus", "12", "--warehouses", "2", "--days", "120",
                            "--format", "parquet", "--chunk-skus", "4")
    assert code == 0 and stdout == f"wrote {len(TABLES)} tables to {out}\n", err   # every contract table
    assert len(list(out.glob("*.parquet"))) == len(TABLES) and not list(out.glob("*.csv"))
    sales = pq.ParquetFile(out / "sales.parquet")
    # one row group per chunk: at most ⌈12 / 4⌉ = 3, but the best seller's supplier weighs as much
    # as the other suppliers together in expected rows, so the chunks balanced by rows are 2
    assert sales.num_row_groups == 2
    assert sales.schema_arrow.field("date").type == pa.date32()


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_generate_refuses_a_bad_chunk_size(capsys, tmp_path, value):
    with pytest.raises(SystemExit) as exit_:
        main(["generate", str(tmp_path / "x"), "--chunk-skus", value])
    assert exit_.value.code == 2
    assert "--chunk-skus: needs a whole number ≥ 1" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
