"""What-if with client retries (issue 18): the retries control, and a burst through time (the retry storm).

Under AppTest the retries toggle edits `workload.retries` (and the link), and the burst runs in the
worker pool: with the scenario's retries it ends in a storm, without them it recovers. In headless
Chromium the page is drawn with the storm chart and screenshotted for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.app.apptools import PAGES, app, metric, number
from tests.app.browser import SCREENSHOTS, have_chromium, settle

STORM = {"scenario": "retry-storm"}


def _values(value) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _burst(at, duration_s: int = 60):
    at.select_slider(key="storm-duration").set_value(duration_s).run()
    at.button(key="storm-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_a_scenario_with_retries(page):
    at = app(page, STORM)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title


def test_the_retries_control_edits_the_scenario_and_the_link():
    at = app("whatif", STORM)
    at.toggle(key="wi-auto-sim").set_value(False).run()
    assert at.toggle(key="wi:workload.retries.on").value is True
    assert at.slider(key="wi:workload.retries.attempts").value == 2
    assert any("Client retries: 1.000 attempts per request" in c.value for c in at.caption)
    at.slider(key="wi:workload.retries.attempts").set_value(4).run()
    assert 'workload.retries={"attempts": 4, "backoff_ms": 100.0, "jitter": true}' in _values(
        at.query_params.get("set")
    )
    at.toggle(key="wi:workload.retries.on").set_value(False).run()
    assert "workload.retries=null" in _values(at.query_params.get("set"))
    assert not any("Client retries:" in c.value for c in at.caption)
    assert not at.exception and number(metric(at, "Errors")) == 0.0


def test_a_burst_with_retries_is_a_storm_and_without_them_it_recovers():
    at = app("whatif", STORM)
    at.toggle(key="wi-auto-sim").set_value(False).run()
    _burst(at)
    assert any("Retry storm." in e.value for e in at.error), [e.value for e in at.error]
    assert metric(at, "Retry amplification").endswith("x") and number(metric(at, "Retry amplification")) > 1.5
    assert number(metric(at, "Goodput at the end")) < 15  # of 70 requests/s
    at.toggle(key="wi:workload.retries.on").set_value(False).run()
    _burst(at)
    assert not at.error and any("Recovered at" in s.value for s in at.success)
    assert metric(at, "Retry amplification") == "no retries"
    assert number(metric(at, "Goodput at the end")) > 60


@pytest.mark.browser
@pytest.mark.skipif(not have_chromium(), reason="no /usr/bin/chromium")
def test_the_storm_chart_in_a_browser(app_server, chromium):
    page = chromium.new_page(viewport={"width": 1440, "height": 3000})
    try:
        page.goto(f"{app_server.url}/whatif?scenario=retry-storm")
        settle(page)
        page.get_by_role("button", name="Simulate the burst").click()
        page.wait_for_selector("text=Retry storm.", timeout=120_000)
        settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 2  # latency curve, storm
        page.screenshot(path=str(SCREENSHOTS / "whatif-retry-storm.png"), full_page=True)
        page.goto(f"{app_server.url}/whatif?scenario=retry-storm&set=workload.retries%3Dnull")  # no retries
        settle(page)
        assert page.get_by_text("Client retries:").count() == 0  # the retries caption is gone
        page.get_by_role("button", name="Simulate the burst").click()
        page.wait_for_selector("text=Recovered at", timeout=120_000)
        settle(page)
        page.screenshot(path=str(SCREENSHOTS / "whatif-burst-recovers.png"), full_page=True)
    finally:
        page.context.close()
