"""Issue 13 in headless Chromium: Right-size at 360 req/s, "Try it on What-if" lands on What-if with
the option applied (in the page and in its link), and What-if and Overview tell one story."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from tests.app.browser import ROOT, SCREENSHOTS, have_chromium, settle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_chromium(), reason="no /usr/bin/chromium")]


def test_try_it_on_whatif_lands_on_whatif_with_the_option(app_server, chromium):
    from model.planning.recommend import recommend
    from model.scenario.reader import load_scenario

    answer = recommend(load_scenario(ROOT / "scenarios" / "checkout.yaml", ["workload.rate_rps=360"]), seed=1)
    context = chromium.new_context(viewport={"width": 1440, "height": 2000})
    page = context.new_page()
    page.goto(f"{app_server.url}/rightsize?scenario=checkout&set=workload.rate_rps%3D360")
    settle(page)
    page.get_by_role("button", name=re.compile("Find the cheapest")).click()
    page.wait_for_selector("text=The YAML diff to apply", timeout=180_000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text(answer.verdict.split(":")[0]).count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "rightsize-360.png"), full_page=True)

    page.get_by_role("button", name=re.compile("Try it on What-if")).click()
    page.wait_for_url(re.compile(r"/whatif"), timeout=60_000)
    page.wait_for_selector("h1:has-text('What-if')", timeout=60_000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    link = unquote(page.url)
    for path, value in answer.changes.items():
        assert f"{path}={json.dumps(value)}" in link, (path, link)
    assert "workload.rate_rps=360" in link  # the changes in effect before stay
    page.screenshot(path=str(SCREENSHOTS / "whatif-after-try-it.png"), full_page=True)
    context.close()


def test_whatif_and_overview_tell_one_story_at_360(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 2000})
    page = context.new_page()
    page.goto(f"{app_server.url}/whatif?scenario=checkout&set=workload.rate_rps%3D360")
    settle(page)
    assert page.get_by_text("Holds only with autoscaling.").count() == 1
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0  # no red "Saturated" beside it
    page.screenshot(path=str(SCREENSHOTS / "whatif-360.png"), full_page=True)
    page.goto(f"{app_server.url}/?scenario=checkout")
    settle(page)
    assert page.get_by_text(re.compile("replicas as set")).count() >= 1
    assert page.get_by_text(re.compile(r"HPA scaling \(web up to 10\)")).count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "overview-assumptions.png"), full_page=True)
    context.close()
