"""Shared pieces for the app's tests: the demo scenario's numbers straight from model/, and an AppTest factory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _scenarios_dir(tmp_path, monkeypatch):
    """Saving "to folder" writes into a copy of the scenarios folder, never the repository's."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for path in (ROOT / "scenarios").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("HEADROOM_SCENARIOS_DIR", str(folder))
    monkeypatch.chdir(ROOT)
    return folder


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """One `streamlit run app.py` for every browser test of this process, on a copy of the scenarios.

    A start costs the server's launch and the warm-up of its first visit (seconds each on two cores);
    the browser tests read pages in their own sessions, so one server serves them all (and its log
    then covers every session of the run, which is what test_browser.py's clean-log test reads).
    """
    from tests.app.browser import SCREENSHOTS, Server

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    folder = tmp_path_factory.mktemp("browser-scenarios")
    for path in (ROOT / "scenarios").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    server = Server(folder).wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for every browser test of this process; each test opens its own context."""
    from playwright.sync_api import sync_playwright

    from tests.app.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
