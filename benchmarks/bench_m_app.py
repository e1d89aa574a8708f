"""Check the app on a big server-side Parquet folder (M = 10,000 SKUs × 10 warehouses × 365 days)
opened through DuckDB, in a real headless Chromium — a check to re-run, not a timed test.

Run:
    .venv/bin/python benchmarks/bench_m_app.py [DATASET] [--engine duckdb] [--out /tmp/m_app]
        [--page-timeout MINUTES] [--pages quality,suppliers,...]

DATASET defaults to /work/bench/M (generate one with
``kpilab generate /work/bench/M --skus 10000 --warehouses 10 --days 365 --format parquet``).
The script starts ``streamlit run app.py`` on a free port with ``KPILAB_DATA_ROOTS`` set to the
dataset's parent folder (and full error details, so an exception box shows its traceback),
opens the Data page, types the path into "A dataset on the server", waits for it to be read and
validated, clicks "Use this dataset", then visits every page of the navigation in the same
browser session and waits for each script run to finish. It prints and writes (``results.json``
in --out) per step: seconds to finish, exception boxes and error messages shown (their text),
warnings, how many metrics and charts were drawn, and a full-page screenshot; the server's log
(tracebacks of errors the pages caught) is ``server.log``, and its peak resident memory is
printed at the end. Needs Debian chromium at /usr/bin/chromium (as the e2e tests).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from bench_load import free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# navigation label → url path ("" for the default page), in the order of the sidebar (app.py's PAGES)
PAGES = [("Home", ""), ("Planning", "planning"), ("Inventory health", "inventory"),
         ("Availability", "availability"), ("Quality", "quality"), ("Suppliers", "suppliers"),
         ("Backorders", "backorders"), ("Logistics", "logistics"), ("Definition Lab", "lab"),
         ("OKR Workshop", "workshop"), ("Your data", "data")]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of the server process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def wait_run(page, timeout_ms: int) -> None:
    """Wait for the script run that an action started: it is seen running (a fast run may have
    ended before we look, hence the short wait), then not running, twice with a pause between
    (a rerun may follow a callback)."""
    try:
        page.wait_for_selector(RUNNING, state="attached", timeout=3_000)
    except Exception:     # noqa: BLE001 - already finished (or never started)
        pass
    for _ in range(2):
        page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)
        page.wait_for_timeout(500)


def texts(page, selector: str) -> list[str]:
    return [x.strip() for x in page.locator(selector).all_inner_texts()]


def observe(page, name: str, seconds: float, out: Path) -> dict:
    shot = out / f"{name}.png"
    size = page.viewport_size
    try:       # the app scrolls inside its main section, not the document: grow the window to show it all
        height = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                               "\"[data-testid='stMain'], [data-testid='stMainBlockContainer']\")]"
                               ".map(e => e.scrollHeight), 0)")
        page.set_viewport_size({"width": size["width"], "height": min(max(int(height) + 100, size["height"]), 20_000)})
        page.wait_for_timeout(500)
        page.screenshot(path=str(shot), full_page=True, timeout=60_000)
    except Exception as exc:  # noqa: BLE001 - a screenshot failing is recorded, not fatal
        shot = Path(f"(screenshot failed: {exc})")
    finally:
        page.set_viewport_size(size)
    return {
        "step": name, "seconds": round(seconds, 1), "url": page.url,
        "exceptions": texts(page, "[data-testid='stException']"),
        "errors": texts(page, "[data-testid='stAlertContentError']"),
        "warnings": texts(page, "[data-testid='stAlertContentWarning']"),
        "metrics": page.locator("[data-testid='stMetricValue']").count(),
        "charts": page.locator("[data-testid='stVegaLiteChart']").count(),
        "screenshot": str(shot),
    }


def report(row: dict) -> None:
    flag = "EXCEPTION" if row["exceptions"] else "error" if row["errors"] else "ok"
    print(f"{row['step']:<18} {row['seconds']:8.1f} s  {flag:<9} metrics {row['metrics']:3d}  "
          f"charts {row['charts']:3d}", flush=True)
    for kind in ("exceptions", "errors", "warnings"):
        for text in row[kind]:
            print(f"    {kind[:-1]}: {text[:2000]}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default="/work/bench/M")
    parser.add_argument("--engine", default="duckdb", choices=("duckdb", "auto", "polars"))
    parser.add_argument("--out", default="/tmp/m_app")
    parser.add_argument("--page-timeout", type=float, default=30, help="minutes per step (default 30)")
    parser.add_argument("--pages", help="visit only these pages, by url path, comma-separated "
                                        "(e.g. quality,suppliers; home is the first page)")
    args = parser.parse_args()
    dataset = Path(args.dataset).resolve()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    timeout_ms = int(args.page_timeout * 60_000)

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_server(port, env={"KPILAB_DATA_ROOTS": str(dataset.parent)}, log=open(out / "server.log", "wb"),
                        options=("--client.showErrorDetails", "full"), timeout=120)
    url = f"http://127.0.0.1:{port}"
    rows: list[dict] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(timeout_ms)

            start = time.perf_counter()
            page.goto(f"{url}/data")
            wait_run(page, timeout_ms)
            rows.append(observe(page, "data_sample", time.perf_counter() - start, out))
            report(rows[-1])

            engine_box = page.locator("[data-testid='stSelectbox']", has_text="Engine").last
            if args.engine != "duckdb":
                engine_box.click()
                page.get_by_role("option", name=args.engine, exact=True).click()
                wait_run(page, timeout_ms)
            path_box = page.get_by_label("Path on the server")
            path_box.fill(str(dataset))
            start = time.perf_counter()
            path_box.press("Enter")
            use = page.get_by_role("button", name="Use this dataset")
            try:
                use.wait_for(timeout=timeout_ms)
            except Exception:  # noqa: BLE001 - the opening failed: record what the page shows
                wait_run(page, 60_000)
                rows.append(observe(page, "open_dataset", time.perf_counter() - start, out))
                report(rows[-1])
                return 1
            wait_run(page, timeout_ms)
            rows.append(observe(page, "open_dataset", time.perf_counter() - start, out))
            report(rows[-1])

            start = time.perf_counter()
            use.click()
            wait_run(page, timeout_ms)
            rows.append(observe(page, "use_dataset", time.perf_counter() - start, out))
            report(rows[-1])
            if "data=sample" in page.url:
                print("the app did not switch to the dataset", file=sys.stderr)
                return 1

            chosen = set(args.pages.split(",")) if args.pages else None
            for label, path in PAGES:
                if chosen is not None and (path or "home") not in chosen:
                    continue
                start = time.perf_counter()
                page.locator("[data-testid='stSidebarNav'] a", has_text=label).first.click()
                page.wait_for_url(re.compile(f"/{path}\\?"), timeout=60_000)
                timed_out = None
                try:
                    wait_run(page, timeout_ms)
                except PlaywrightTimeout:
                    timed_out = f"still running after {args.page_timeout:g} minutes"
                rows.append(observe(page, path or "home", time.perf_counter() - start, out))
                if timed_out:
                    rows[-1]["errors"].append(timed_out)
                if "data=sample" in page.url:
                    rows[-1]["errors"].append("the page fell back to the sample dataset")
                report(rows[-1])
            browser.close()
    finally:
        peak = peak_rss_mb(proc.pid)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        (out / "results.json").write_text(json.dumps({"dataset": str(dataset), "engine": args.engine,
                                                      "server_peak_rss_mb": peak, "steps": rows}, indent=1))
        print(f"server peak resident memory: {peak:.0f} MB" if peak else "server peak memory: unknown")
        print(f"results: {out / 'results.json'}; screenshots and server.log in {out}")
    bad = [r["step"] for r in rows if r["exceptions"] or r["errors"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
