"""How fast the app answers: page load of the demo, and a what-if change on the analytic path.

Starts `streamlit run app.py` on a free loopback port and drives it with headless Chromium
(Debian's /usr/bin/chromium through Playwright), then prints a table. Targets (issue 6):
page load of the demo under 3 s, a what-if change answered under 300 ms.

    python benchmarks/app.py            # 5 repetitions each
"""

from __future__ import annotations

import importlib.util
import re
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
        if app.get_attribute("data-test-script-state") == "notRunning" and page.locator('[data-testid="stMetric"]').count() >= 4:
            return
        time.sleep(0.01)
    raise TimeoutError("page did not finish")


def analytic_change_ms(repeats: int) -> list[float]:
    """The What-if page's instant answer for a changed scenario, as the page computes it (cache cleared)."""
    from model.loading import load_scenario
    from model.run import evaluate

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
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_tools.CHROMIUM, args=browser_tools.CHROMIUM_ARGS)
            loads = []
            for k in range(repeats + 1):  # the first visit after the server starts pays the imports: shown apart
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                page = context.new_page()
                t = time.perf_counter()
                page.goto(server.url + "/")
                _wait_done(page)
                loads.append(time.perf_counter() - t)
                context.close()
            rows.append(("demo page load, first visit after start", f"{loads[0]:.2f} s", "< 3 s"))
            rows.append(("demo page load, later visits (median)", f"{statistics.median(loads[1:]):.2f} s", "< 3 s"))

            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            page.goto(server.url + "/whatif")
            _wait_done(page)
            page.locator('[data-testid="stCheckbox"]').filter(has_text="Simulate every change").locator("label").click()
            _wait_done(page)  # from here on the analytic path alone
            slider = page.locator('[data-testid="stSlider"]').filter(has_text=re.compile(r"^Replicas")).first.get_by_role("slider")
            changes = []
            for k in range(repeats):
                before = page.locator('[data-testid="stMetric"]').filter(has_text="Cost per month").inner_text()
                slider.focus()
                t = time.perf_counter()
                slider.press("ArrowRight")
                page.wait_for_function(
                    """(before) => [...document.querySelectorAll('[data-testid="stMetric"]')]
                         .some(m => m.innerText.includes('Cost per month') && m.innerText !== before)""",
                    arg=before, timeout=30_000)
                changes.append(time.perf_counter() - t)
                _wait_done(page)
            rows.append(("what-if change to new numbers in the browser (median)",
                         f"{1000 * statistics.median(changes):.0f} ms", "< 300 ms"))
            context.close()
            browser.close()
    finally:
        server.stop()
    solve = analytic_change_ms(repeats)
    rows.append(("analytic solve of a changed scenario (median)", f"{statistics.median(solve):.1f} ms", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>9}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:>9}  {target}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
