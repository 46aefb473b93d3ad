"""How fast the app answers: page load of the demo, and a what-if change on the analytic path.

Starts `streamlit run app.py` on a free loopback port and drives it with headless Chromium
(Debian's /usr/bin/chromium through Playwright), then prints a table. Targets (issue 6):
page load of the demo under 3 s, a what-if change answered under 300 ms.

    python benchmarks/app.py            # 5 repetitions each

The first visit is measured three ways: on a server started a few seconds before (its start-up
warm-up, streamlit_ui/lifecycle.py, has run), on a server whose readiness probe ran the app once,
and the moment a freshly started server answers its health check (the visitor waits for the
rest of the warm-up).

Where the time goes is measured too: the same Chromium loading a bare Streamlit page (a
title and four metrics, no model), which is the floor Streamlit's frontend sets on this
machine; when the frontend is up (the app element attached) against when the script has
finished; and each page's server script under AppTest, cold (a fresh interpreter: imports
and empty caches) and warm.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import tempfile
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("app_browser", ROOT / "tests" / "app" / "browser.py")
browser_tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser_tools)


def _wait_done(page, timeout_s: float = 60) -> None:
    app = page.locator('[data-testid="stApp"]')
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (
            app.get_attribute("data-test-script-state") == "notRunning"
            and page.locator('[data-testid="stMetric"]').count() >= 4
        ):
            return
        time.sleep(0.01)
    raise TimeoutError("page did not finish")


BARE_APP = """import streamlit as st

st.set_page_config(page_title="bare", layout="wide")
st.title("A bare Streamlit page")
for col, label in zip(st.columns(4), ("p99 latency", "Cost per month", "Runway", "Errors")):
    col.metric(label, "1", border=True)
"""


def page_loads(browser, url: str, repeats: int) -> list[dict]:
    """Open `url` in a fresh context `repeats + 1` times: when the frontend was up, when the script had finished."""
    out = []
    for _ in range(repeats + 1):
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=60_000)
        frontend = time.perf_counter() - t
        _wait_done(page)
        out.append({"frontend": frontend, "done": time.perf_counter() - t})
        context.close()
    return out


def script_times() -> dict:
    """Each page's server script under AppTest in this (fresh) interpreter: the first run cold, then warm."""
    sys.path[:0] = [str(ROOT / "tests" / "app")]
    from streamlit.testing.v1 import AppTest

    out = {}
    t = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    out["overview (cold: imports, forecast)"] = time.perf_counter() - t
    for page in ("overview", "observe", "calibrate", "whatif", "cost", "compare"):
        for run in ("first", "warm"):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            if page == "whatif":
                at.session_state["wi-auto-sim"] = False  # the analytic path; the simulation runs in the pool
            at.run()
            t = time.perf_counter()
            if page != "overview":
                at.switch_page(f"pages/{page}.py")
            at.run()
            if run == "warm" or page != "overview":
                out[f"{page} ({run})"] = time.perf_counter() - t
    return out


def analytic_change_ms(repeats: int) -> list[float]:
    """The What-if page's instant answer for a changed scenario, as the page computes it (cache cleared)."""
    from model.scenario.reader import load_scenario
    from model.queueing.evaluate import evaluate

    out = []
    for k in range(repeats):
        scenario = load_scenario(ROOT / "scenarios" / "checkout.yaml", [f"nodes.web.replicas={5 + k}"])
        t = time.perf_counter()
        evaluate(scenario, "analytic")
        out.append(1000 * (time.perf_counter() - t))
    return out


def main(repeats: int = 5) -> None:
    from playwright.sync_api import sync_playwright

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    server = browser_tools.Server().wait_ready()
    warm_server = browser_tools.Server().wait_ready()
    probe_s = warm_server.warm()  # a deployment's readiness probe: the app runs once before the first visitor
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=browser_tools.CHROMIUM, args=browser_tools.CHROMIUM_ARGS
            )
            loads = page_loads(
                browser, server.url + "/", repeats
            )  # the first visit after the start pays the imports
            warmed = page_loads(browser, warm_server.url + "/", 0)[0]
            # the worst case: a visitor who comes the moment the server answers, its start-up warm-up still running
            eager_server = browser_tools.Server()
            try:
                eager = page_loads(browser, eager_server.wait_ready(poll_s=0.02).url + "/", 0)[0]
            finally:
                eager_server.stop()
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "bare.py").write_text(BARE_APP)
                shutil.copytree(ROOT / ".streamlit", Path(folder) / ".streamlit")
                bare_server = browser_tools.Server(script="bare.py", cwd=Path(folder)).wait_ready()
                try:
                    bare = page_loads(browser, bare_server.url + "/", repeats)
                finally:
                    bare_server.stop()
            for name, runs in (("demo page load", loads), ("bare Streamlit page (the floor)", bare)):
                later = runs[1:]
                rows.append(
                    (
                        f"{name}, first visit after start",
                        f"{runs[0]['done']:.2f} s",
                        "< 3 s" if name[0] == "d" else "",
                    )
                )
                rows.append(
                    (
                        f"{name}, later visits (median)",
                        f"{statistics.median(r['done'] for r in later):.2f} s",
                        "< 3 s" if name[0] == "d" else "",
                    )
                )
                rows.append(
                    (
                        "  of which the frontend up (median)",
                        f"{statistics.median(r['frontend'] for r in later):.2f} s",
                        "",
                    )
                )
                if name[0] == "d":
                    rows.append(
                        (
                            "demo page load, first visit the moment the server answers",
                            f"{eager['done']:.2f} s",
                            "",
                        )
                    )
                    rows.append(
                        (
                            "demo page load, first visit after the readiness probe",
                            f"{warmed['done']:.2f} s",
                            "< 3 s",
                        )
                    )
                    rows.append(
                        ("  the probe itself (script-health-check, at start)", f"{probe_s:.2f} s", "")
                    )

            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            page.goto(server.url + "/whatif")
            _wait_done(page)
            page.locator('[data-testid="stCheckbox"]').filter(has_text="Simulate every change").locator(
                "label"
            ).click()
            _wait_done(page)  # from here on the analytic path alone
            slider = (
                page.locator('[data-testid="stSlider"]')
                .filter(has_text=re.compile(r"^Replicas"))
                .first.get_by_role("slider")
            )
            changes = []
            for _ in range(repeats):
                before = (
                    page.locator('[data-testid="stMetric"]').filter(has_text="Cost per month").inner_text()
                )
                slider.focus()
                t = time.perf_counter()
                slider.press("ArrowRight")
                page.wait_for_function(
                    """(before) => [...document.querySelectorAll('[data-testid="stMetric"]')]
                         .some(m => m.innerText.includes('Cost per month') && m.innerText !== before)""",
                    arg=before,
                    timeout=30_000,
                )
                changes.append(time.perf_counter() - t)
                _wait_done(page)
            rows.append(
                (
                    "what-if change to new numbers in the browser (median)",
                    f"{1000 * statistics.median(changes):.0f} ms",
                    "< 300 ms",
                )
            )
            context.close()
            browser.close()
    finally:
        server.stop()
        warm_server.stop()
    scripts = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--script-times"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    for name, seconds in scripts.items():
        rows.append((f"server script, {name}", f"{seconds:.2f} s", ""))
    solve = analytic_change_ms(repeats)
    rows.append(("analytic solve of a changed scenario (median)", f"{statistics.median(solve):.1f} ms", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>9}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:>9}  {target}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--script-times"]:
        print(json.dumps(script_times()))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
