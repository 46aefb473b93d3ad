"""Deep links opened first thing after a start, in headless Chromium: every page route shows the app's
navigation, the wide layout and the page's own content, with the link's parameters applied.

Streamlit took the `pages/` folder for an old-style multipage app until some session ran app.py's
`st.navigation`: a fresh server's first visitor who came straight to `/cost` got pages/cost.py run
alone (narrow, the navigation missing or listing the files), and so did every deep link after it
until someone opened `/` (streamlit_ui/deep_links.py `navigation_only`). So this module's server
is its own, never warmed (no script health check, which runs app.py), and nothing opens `/` before
the deep links have been checked (the tests run in LINKS' order, Overview's last).
"""

from __future__ import annotations

import re

import pytest

from tests.app.browser import ROOT, SCREENSHOTS, Server, have_chromium

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_chromium(), reason="no /usr/bin/chromium")]

NAVIGATION = ["Overview", "Observe", "Calibrate", "What-if", "Peak event", "Cost", "Right-size", "Compare"]
WIDE_PX = 1000  # the main column at a 1440 px window: ~1100 px wide, 736 px in Streamlit's narrow layout

# route, link parameters, the page's title (h1), its navigation entry, the scenario the link names
LINKS = [
    ("cost", "scenario=three-tier&cost_horizon=36&cost_commitment=1yr", "Cost", "Cost", "three-tier"),
    ("whatif", "scenario=checkout&set=nodes.web.replicas%3D6", "What-if", "What-if", "checkout"),
    ("observe", "scenario=cache-db", "Observe", "Observe", "cache-db"),
    ("calibrate", "", "Calibrate", "Calibrate", "checkout"),
    ("peak", "scenario=three-tier", "Peak event", "Peak event", "three-tier"),
    ("rightsize", "scenario=checkout-users", "Right-size", "Right-size", "checkout-users"),
    ("compare", "scenario=three-tier", "Compare", "Compare", "three-tier"),
    # last: it lands on `/`, whose app.py would switch the old kind of multipage app off for the others
    ("overview", "scenario=kafka-consumers", None, "Overview", "kafka-consumers"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    folder = tmp_path_factory.mktemp("scenarios")
    for path in (ROOT / "scenarios").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    srv = Server(folder).wait_ready()  # not warmed: the first session must be a deep link's
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(chromium):
    """The test process's one Chromium (tests/app/conftest.py): Playwright's sync API cannot start a
    second one in the same thread. The server is what must be fresh, and it is this module's own."""
    return chromium


def _scenario_name(stem: str) -> str:
    from model.scenario.reader import load_scenario

    return load_scenario(ROOT / "scenarios" / f"{stem}.yaml").name


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(url)
    # what this checks is drawn before a page's slow work (a simulation, a fit): no need to wait for it
    page.wait_for_selector("h1", timeout=90_000)
    page.wait_for_selector('[data-testid="stSidebar"] input[aria-label="Scenario"]', timeout=90_000)
    page.wait_for_timeout(300)  # let the navigation and the layout paint
    return context, page


def _label(text: str) -> str:
    """A navigation link's title (its text also holds the icon's ligature name, `hub`)."""
    return text.strip().split("\n")[-1].strip()


def _shows_the_app(page, title: str | None, entry: str, stem: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Page not found").count() == 0
    nav = page.locator('[data-testid="stSidebarNav"] a')
    assert [_label(t) for t in nav.all_inner_texts()] == NAVIGATION
    current = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
    assert _label(current.inner_text()) == entry
    width = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"]
    assert width > WIDE_PX, f"narrow layout: the main column is {width:.0f} px"
    assert page.locator("h1").first.inner_text().strip() == (title or _scenario_name(stem))
    picked = page.locator('[data-testid="stSidebar"] input[aria-label="Scenario"]').input_value()
    assert picked == f"{stem}.yaml", picked


@pytest.mark.parametrize("route, query, title, entry, stem", LINKS, ids=[link[0] for link in LINKS])
def test_a_page_route_opens_with_the_navigation_and_the_wide_layout(
    server, browser, route, query, title, entry, stem
):
    """Each link in a new browser context; the first is the server's first session ever."""
    context, page = _open(browser, f"{server.url}/{route}" + (f"?{query}" if query else ""))
    try:
        page.screenshot(path=str(SCREENSHOTS / f"deep-link-{route}.png"))
        _shows_the_app(page, title, entry, stem)
        for part in query.split("&") if query else []:
            assert part in page.url, (route, part, page.url)
        if route == "whatif":  # the link's change is in effect
            slider = page.locator('[data-testid="stSlider"]').filter(has_text=re.compile(r"^Replicas")).first
            assert slider.locator('[data-testid="stSliderThumbValue"]').inner_text().strip() == "6"
            hpa = page.locator('[data-testid="stAlert"]').filter(has_text="HPA").inner_text()
            assert "(web 6)" in hpa, hpa
        if route == "cost":  # the link's horizon
            page.wait_for_selector("text=Total over 36 months", timeout=90_000)
        if route == "overview":  # the landing page's own name: redirected to /, the query kept
            assert page.url == f"{server.url}/?{query}"
    finally:
        context.close()
