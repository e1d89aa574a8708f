"""How long a page takes to react to a widget change on the bundled sample (AppTest, cache warm).

Run: .venv/bin/python benchmarks/bench_pages.py
For each page: the first run (cold cache), then a widget change to a new value (cold for that
parameter set) and back (warm), median of 5 repetitions.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# page → (widget kind, key, value A, value B): a change a workshop audience would make
CHANGES = {
    "views/planning.py": ("selectbox", "planning_weight", "actual", "max"),
    "views/inventory.py": ("number_input", "inventory_dos_days", 120, 180),
    "views/availability.py": ("number_input", "availability_window", 14, 30),
    "views/quality.py": ("toggle", "quality_keywords", True, False),
    "views/suppliers.py": ("slider", "suppliers_late_days", 1, 3),
    "views/logistics.py": ("radio", "logistics_breakdown", "warehouse", "month"),
    "views/lab.py": ("selectbox", "lab_kpi", "otif", "plan_accuracy"),
}


def timed(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def main() -> None:
    for page, (kind, key, a, b) in CHANGES.items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.run()
        at.switch_page(page)
        cold = timed(at)
        widget = next((w for w in getattr(at, kind) if w.key == key), None)
        if widget is None or a is None:
            print(f"{page:28s} first run {cold:6.2f} s   (no widget {key} to change)")
            continue
        getattr(at, kind)(key=key).set_value(a)
        new_params = timed(at)
        warm = []
        for value in (b, a, b, a, b):
            getattr(at, kind)(key=key).set_value(value)
            warm.append(timed(at))
        print(f"{page:28s} first run {cold:6.2f} s   new value {new_params:6.2f} s   "
              f"cached value (median of 5) {statistics.median(warm):6.3f} s")


if __name__ == "__main__":
    main()
