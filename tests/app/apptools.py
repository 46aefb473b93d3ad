"""Helpers for the app's tests: an AppTest factory and readers of the numbers a page shows."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["overview", "observe", "calibrate", "whatif", "peak", "cost", "rightsize", "compare"]


def app(page: str | None = None, params: dict | None = None, timeout: float = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page and page != "overview":
        at.switch_page(f"pages/{page}.py")
        at.run()
    return at


def metric(at: AppTest, label_start: str) -> str:
    found = [m.value for m in at.metric if m.label.startswith(label_start)]
    assert found, f"no metric {label_start!r} in {[m.label for m in at.metric]}"
    return found[0]


def number(text: str) -> float:
    """`$1,547.60` -> 1547.6, `191.4 ms` -> 191.4, `1.2 s` -> 1200."""
    value = float(re.sub(r"[^0-9.\-]", "", text.split()[0]))
    return value * 1000 if text.strip().endswith(" s") else value


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
