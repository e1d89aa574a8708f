"""A room opening the app at once: N sessions against one real server, time to first chart and
server CPU.

Run: .venv/bin/python benchmarks/bench_load.py [--page planning] [--sessions 1,10,30]

It starts ``streamlit run app.py`` headless on a free loopback port, then opens sessions with a
light client instead of a browser: Streamlit's own protocol, a websocket to ``/_stcore/stream``
carrying protobuf messages (``BackMsg`` from the client, ``ForwardMsg`` from the server, from
``streamlit.proto``). Each session sends the ``rerun_script`` request a browser sends when a page
opens (page name and query string), then reads the server's messages until the script run has
finished. Per session it records the time to the first Vega-Lite chart (a ``delta`` whose new
element is a ``vega_lite_chart``) and to ``script_finished``; for a batch, the server process's
CPU time (user + system, psutil) spent while serving it.

The server is warmed once by one session (the first visitor computes; the line ``warm-up``), then
batches of N sessions open at the same moment, as a workshop room does. All traffic stays on
127.0.0.1, every wait has a deadline, and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
SESSION_TIMEOUT = 120.0          # seconds a session may take before it counts as not served


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, *, env: dict | None = None, log=subprocess.DEVNULL, options: tuple = (),
                 timeout: float = 60) -> subprocess.Popen:
    """``streamlit run app.py`` on 127.0.0.1:port, returned once /_stcore/health answers ok;
    ``env`` is added to this process' environment, ``options`` to streamlit's command line, its
    output goes to ``log`` (also used by bench_m_app.py)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", *options],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy() | (env or {}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the app server did not start within {timeout:.0f} s")


def rerun_request(page: str, query: str) -> bytes:
    """The BackMsg a browser sends when it opens ``/<page>?<query>``."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    return msg.SerializeToString()


async def one_session(port: int, page: str, query: str) -> dict:
    """Open a session, run the page once; seconds to the first chart and to the end of the run."""
    start = time.perf_counter()
    first_chart = finished = None
    errors = 0
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=None, open_timeout=SESSION_TIMEOUT) as ws:
        await ws.send(rerun_request(page, query))
        deadline = start + SESSION_TIMEOUT
        while finished is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            try:
                raw = await asyncio.wait_for(ws.recv(), remaining)
            except TimeoutError:
                break
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element.WhichOneof("type")
                if element == "vega_lite_chart" and first_chart is None:
                    first_chart = time.perf_counter() - start
                elif element == "exception":
                    errors += 1
            elif kind == "script_finished":
                finished = time.perf_counter() - start
    return {"first_chart": first_chart, "finished": finished, "errors": errors}


async def batch(port: int, n: int, page: str, query: str) -> list[dict]:
    return await asyncio.gather(*(one_session(port, page, query) for _ in range(n)))


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def run_batch(port: int, server: psutil.Process, n: int, page: str, query: str) -> dict:
    """N sessions at once: their timings and the server CPU spent while serving them."""
    cpu0, wall0 = cpu_seconds(server), time.perf_counter()
    results = asyncio.run(batch(port, n, page, query))
    wall = time.perf_counter() - wall0
    time.sleep(0.5)                      # let the server finish what it does after the last message
    cpu = cpu_seconds(server) - cpu0
    charts = [r["first_chart"] for r in results if r["first_chart"] is not None]
    return {"n": n, "served": len(charts), "errors": sum(r["errors"] for r in results),
            "median": statistics.median(charts) if charts else float("nan"),
            "slowest": max(charts) if charts else float("nan"),
            "finished": max((r["finished"] for r in results if r["finished"] is not None), default=float("nan")),
            "wall": wall, "cpu": cpu, "cpu_per_session": cpu / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="planning", help="url path of the page the room opens")
    parser.add_argument("--query", default="data=sample&lang=en")
    parser.add_argument("--sessions", default="1,10,30", help="batch sizes, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sessions.split(",")]

    port = free_port()
    proc = start_server(port)
    try:
        server = psutil.Process(proc.pid)
        print(f"server pid {proc.pid} on 127.0.0.1:{port}, page /{args.page}?{args.query}, "
              f"{psutil.cpu_count()} cores")
        print(f"{'sessions':>8} {'served':>7} {'first chart median':>19} {'slowest':>8} {'all finished':>13} "
              f"{'server CPU':>11} {'CPU/session':>12}")
        rows = [("warm-up", run_batch(port, server, 1, args.page, args.query))]
        rows += [(str(n), run_batch(port, server, n, args.page, args.query)) for n in sizes]
        for label, r in rows:
            print(f"{label:>8} {r['served']:>4}/{r['n']:<2} {r['median']:>17.2f} s {r['slowest']:>6.2f} s "
                  f"{r['finished']:>11.2f} s {r['cpu']:>9.2f} s {r['cpu_per_session']:>10.3f} s"
                  + (f"  ({r['errors']} exceptions shown)" if r["errors"] else ""))
        return 0 if all(r["served"] == r["n"] and not r["errors"] for _, r in rows) else 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
