"""Spark Connect: the command line with ``--spark-remote sc://127.0.0.1:PORT`` against a Connect
server — a local Spark with the Connect plugin (the jar pyspark ships), in its own process on a
free loopback port — gives the pandas numbers for a planning and an inventory KPI.

Both the server and the client are subprocesses: a process holds one SparkContext, and this test
worker's is the classic session of ``conftest.spark``. The client is pure Python (gRPC, no JVM),
so the test pays one JVM start, the server's."""

from __future__ import annotations

import csv
import io
import math
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kpilab.cli import main
from kpilab.simulate import generate

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2]

SERVER = """
import sys
from pyspark.sql import SparkSession
from kpilab.engines import SPARK_LOCAL_CONF

builder = (SparkSession.builder.master("local[1]").appName("kpilab-connect-test")
           .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
           .config("spark.connect.grpc.binding.address", "127.0.0.1")
           .config("spark.connect.grpc.binding.port", sys.argv[1]))
for key, value in {**SPARK_LOCAL_CONF, "spark.sql.shuffle.partitions": "1"}.items():
    builder = builder.config(key, value)
session = builder.getOrCreate()
print("ready", flush=True)
sys.stdin.read()          # serve until the test closes stdin
session.stop()
"""

# Only the tables the two KPIs read: over Connect every query and schema lookup is a gRPC round trip.
TABLES = ("skus", "warehouses", "sales", "plans", "inventory")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(server: subprocess.Popen, seconds: float, log: Path) -> None:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(server.stdout.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    if not line or line[0].strip() != "ready":
        server.kill()
        raise AssertionError(f"Connect server not ready in {seconds} s: {log.read_text()[-2000:]}")


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("connect")
    generate(out, skus=12, warehouses=2, days=400, seed=5)
    for path in out.iterdir():
        if path.stem not in TABLES:
            path.unlink()
    return out


def test_command_line_over_spark_connect_gives_the_pandas_numbers(folder, tmp_path, capsys):
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as err:         # a file, not a pipe: Spark's log lines must never block it
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    try:
        _wait_ready(server, 300, log)
        for kpi, definition in (("plan_accuracy", "wape"), ("days_of_inventory", "trailing")):
            args = ["compute", kpi, "--definition", definition, "--data", str(folder), "--by", "month"]
            assert main([*args, "--engine", "pandas"]) == 0
            want = _rows(capsys.readouterr().out)
            done = subprocess.run([sys.executable, "-m", "kpilab", *args, "--engine", "spark",
                                   "--spark-remote", f"sc://127.0.0.1:{port}"],
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            got = _rows(done.stdout)
            assert len(want) > 3 and [r["month"] for r in got] == [r["month"] for r in want], kpi
            for a, b in zip(want, got):
                for key in a:
                    if key != "month":
                        assert (not a[key] and not b[key]) or math.isclose(
                            float(a[key]), float(b[key]), rel_tol=1e-9, abs_tol=1e-9), (kpi, key, a, b)
    finally:
        server.stdin.close()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
