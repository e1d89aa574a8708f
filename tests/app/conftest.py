"""AppTest helpers: run the real app frame (app.py) and switch to a page, as a person navigates."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(page: str, lang: str = "en", timeout: float = 120) -> AppTest:
    """app.py run once, then the given page (e.g. "views/planning.py") run through the frame."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page)
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture(autouse=True)
def _chdir_root(monkeypatch):
    monkeypatch.chdir(ROOT)      # app.py resolves page files relative to the working directory
