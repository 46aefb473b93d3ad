"""End to end in real headless Chromium against `streamlit run app.py` on a loopback port."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.app.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, have_chromium, settle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_chromium(), reason="no /usr/bin/chromium")]

PAGES = {
    "overview": "",
    "observe": "observe",
    "calibrate": "calibrate",
    "whatif": "whatif",
    "peak": "peak",
    "cost": "cost",
    "rightsize": "rightsize",
    "compare": "compare",
}


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _number(text: str) -> float:
    value = float(re.sub(r"[^0-9.]", "", text.split()[0]))
    return value * 1000 if text.strip().endswith(" s") else value


def test_every_page_renders_without_an_exception(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 2200})  # tall: the app scrolls inside
    page = context.new_page()
    for name, path in PAGES.items():
        page.goto(f"{app_server.url}/{path}")
        settle(page)
        if name == "rightsize":
            page.get_by_role("button", name=re.compile("Find the cheapest")).click()
            page.wait_for_selector("text=The YAML diff to apply", timeout=90_000)
            settle(page)
        if name == "whatif":
            page.wait_for_selector("text=/Simulation (agrees|: SLO missed)/", timeout=90_000)
            settle(page)
        if name == "peak":
            page.wait_for_selector("text=Through the event", timeout=90_000)
            settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, name
        assert page.locator("h1").count() >= 1, name
        if name == "calibrate":
            page.wait_for_selector("text=Use the fitted scenario", timeout=90_000)
            page.set_viewport_size(
                {"width": 1440, "height": 4400}
            )  # the app scrolls inside: show the whole fit
            settle(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": 1440, "height": 2200})
    context.close()


def test_whatif_change_moves_the_numbers(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(f"{app_server.url}/whatif")
    settle(page)
    p99_before, cost_before = _metric(page, "p99 latency"), _metric(page, "Cost this month")
    slider = (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text=re.compile(r"^Replicas"))
        .first.get_by_role("slider")
    )
    slider.focus()
    slider.press("ArrowRight")
    settle(page)
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(
        """(before) => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => m.innerText.includes('p99 latency') && !m.innerText.includes(before))""",
        arg=p99_before,
        timeout=60_000,
    )
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _number(_metric(page, "p99 latency")) < _number(p99_before)
    # web autoscales: the bill of record is the HPA's, whatever the file's replicas; the page says
    # what the 6 replicas the latency is solved at would bill
    assert _metric(page, "Cost this month") == cost_before
    assert "(web 6)" in page.locator('[data-testid="stAlert"]').filter(has_text="HPA").inner_text()
    assert "nodes.web.replicas%3D6" in page.url or "nodes.web.replicas=6" in page.url
    page.screenshot(path=str(SCREENSHOTS / "whatif-6-replicas.png"), full_page=True)
    context.close()


def test_five_sessions_simulate_at_once(app_server):
    """Five browser contexts each start a simulation: all finish, the runs overlap, memory stays bounded."""
    from playwright.async_api import async_playwright

    rss_before = app_server.rss_mb()

    async def one(browser, replicas: int) -> dict:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        opened = time.time()
        await page.goto(f"{app_server.url}/whatif?scenario=checkout&set=nodes.web.replicas%3D{replicas}")
        await page.wait_for_selector("text=/Simulated [0-9,]+ requests in/", timeout=150_000)
        shown = time.time()
        # the timing span follows the caption in the same script run: wait for it as long, never 30 s
        await page.wait_for_selector("span.headroom-run", state="attached", timeout=150_000)
        run = page.locator("span.headroom-run").first
        submitted = float(await run.get_attribute("data-submitted"))
        started, finished = (
            float(await run.get_attribute("data-started")),
            float(await run.get_attribute("data-finished")),
        )
        pid = await run.get_attribute("data-pid")
        errors = await page.locator('[data-testid="stException"]').count()
        await context.close()
        return {
            "replicas": replicas,
            "opened": opened,
            "submitted": submitted,
            "started": started,
            "finished": finished,
            "shown": shown,
            "pid": pid,
            "exceptions": errors,
        }

    async def main() -> list[dict]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return await asyncio.gather(*(one(browser, r) for r in (9, 10, 11, 12, 13)))
            finally:
                await browser.close()

    with ThreadPoolExecutor(1) as thread:  # the sync Playwright of the other tests owns this thread's loop
        runs = thread.submit(lambda: asyncio.run(main())).result()
    rss_after = app_server.rss_mb()
    t0 = min(r["opened"] for r in runs)
    for r in sorted(runs, key=lambda r: r["started"]):
        print(
            f"session replicas={r['replicas']}: worker {r['pid']} ran {r['started'] - t0:5.2f} s -> "
            f"{r['finished'] - t0:5.2f} s, shown at {r['shown'] - t0:5.2f} s"
        )
    print(
        f"server RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after "
        f"({app_server.rss_mb(children=True):.0f} MB with its worker processes)"
    )
    assert all(r["exceptions"] == 0 for r in runs)
    # Nobody queued behind another: each run started in a worker sooner after its page submitted it
    # than any run takes (queueing behind one would cost a whole run). Page loads on two cores are
    # staggered by seconds, so "all started before any finished" would test the browser, not the pool.
    shortest_run = min(r["finished"] - r["started"] for r in runs)
    assert all(r["started"] - r["submitted"] < shortest_run for r in runs), runs
    assert len({r["pid"] for r in runs}) == 5
    # and the runs really shared the machine: some were in flight at the same time
    assert any(
        a["started"] < b["finished"] and b["started"] < a["finished"]
        for i, a in enumerate(runs)
        for b in runs[i + 1 :]
    ), runs
    assert rss_after - rss_before < 250, (rss_before, rss_after)


def test_simulations_leave_the_server_log_clean(app_server, chromium):
    """Starting a simulation logs no "missing ScriptRunContext" (st.* called outside a session's script
    thread: a pool worker or a thread of the server). The log covers every session of the run's
    browser tests (they share one server: tests/app/conftest.py)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{app_server.url}/whatif?scenario=checkout&set=nodes.web.replicas%3D7")
    page.wait_for_selector("text=/Simulated [0-9,]+ requests in/", timeout=150_000)
    context.close()
    app_server.log.flush()
    log = Path(app_server.log.name).read_text(encoding="utf-8", errors="replace")
    assert "ScriptRunContext" not in log, log[-3000:]
