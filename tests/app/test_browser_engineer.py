"""The engineer's own data, end to end in headless Chromium, checked against the CLI on the same fit file.

"We run 6 web pods; is 4 safe? Prove it with our metrics": What-if at 6 replicas, two CSV files
uploaded on Observe (one with several columns), mapped, fitted on Calibrate, the fitted
scenario used, replicas set to 4, Right-size. Every number read off a page is compared with
`python cli.py` on the fit file the page offers. Along the way: no request leaves 127.0.0.1,
no request fails (deep links included), and no text is cut off at 1440 px or 390 px.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from tests.app.browser import ROOT, SCREENSHOTS, have_chromium, settle
from tests.app.test_observe_csv import REPLICAS, engineer_files

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_chromium(), reason="no /usr/bin/chromium")]

# Elements whose text must be whole: a metric's number, a button's label, a select's value, a code block.
CUT = """(selectors) => {
  const out = [];
  for (const sel of selectors) for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;            // not shown (a collapsed block)
    if (el.scrollWidth > el.clientWidth + 1) out.push(sel + ': ' + el.innerText.slice(0, 60));
  }
  return out;
}"""
WHOLE = [
    '[data-testid="stMetricValue"] div',
    '[data-testid="stMetricDelta"] div',
    '[data-testid="stMetricLabel"] p',
    "button p",
    '[data-testid="stSelectbox"] [data-baseweb="select"] *',
    '[data-testid="stMarkdownContainer"] p',
    '[data-testid="stCaptionContainer"]',
    '[data-testid="stTable"] td',
]


def cli(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "cli.py", *args, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode in (0, 3), done.stderr
    return json.loads(done.stdout)


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def number(text: str) -> float:
    value = float(re.sub(r"[^0-9.]", "", text.split()[0]))
    return value * 1000 if text.strip().endswith(" s") else value


def code_with(page, words: str) -> str:
    blocks = page.locator('[data-testid="stCode"] code')
    texts = [blocks.nth(k).inner_text() for k in range(blocks.count())]
    return next(t for t in texts if words in t)


PATHS = {
    "Overview": "",
    "Observe": "observe",
    "Calibrate": "calibrate",
    "What-if": "whatif",
    "Cost": "cost",
    "Right-size": "rightsize",
    "Compare": "compare",
}


def go(page, title: str) -> None:
    """Navigate inside the session (the sidebar's page links), as a person clicks."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    path = PATHS[title]
    links.filter(
        has=page.locator(f'xpath=self::a[substring(@href, string-length(@href) - {len(path)}) = "/{path}"]')
    ).first.click() if path else links.first.click()
    page.wait_for_timeout(300)
    settle(page)


def shot(page, name: str) -> None:
    try:  # a picture of placeholders shows nothing; past 15 s take what there is
        page.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=15_000)
    except Exception:
        pass
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_whole(page, where: str) -> None:
    cut = page.evaluate(CUT, WHOLE)
    assert not cut, f"{where}: text cut off: {cut}"


def test_the_engineers_own_data_from_upload_to_right_size(app_server, chromium, tmp_path):
    for name, data, _ in engineer_files():
        (tmp_path / name).write_bytes(data)
    context = chromium.new_context(viewport={"width": 1440, "height": 1400})
    page = context.new_page()
    requests, failed = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # a deep link: What-if with the 6 pods the engineer runs
    page.goto(f"{app_server.url}/whatif?scenario=checkout&set=nodes.web.replicas%3D{REPLICAS}")
    settle(page)
    assert metric(page, "p99 latency")  # the analytic numbers are on the page

    go(page, "Observe")
    page.locator("button").filter(has_text=re.compile("^CSV upload$")).first.click()
    settle(page)
    page.locator('[data-testid="stMain"] input[type="file"]').set_input_files(
        [str(tmp_path / "elb_requests.csv"), str(tmp_path / "metrics.csv")]
    )
    page.wait_for_selector("text=Preview: the mapped series as the fit reads them", timeout=90_000)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    fit_text = code_with(page, "source: csv")
    fit = yaml.safe_load(fit_text)
    assert fit["nodes"]["web"]["replicas"] == REPLICAS and fit["traffic"]["kind"] == "count"
    assert {fit["nodes"]["web"]["cpu"]["column"], fit["nodes"]["db"]["cpu"]["column"]} == {
        "web_cpu_pct",
        "db_cpu",
    }
    (tmp_path / "fit.yaml").write_text(fit_text, encoding="utf-8")
    fitted_cli = cli("fit", "--config", str(tmp_path / "fit.yaml"), "--out", str(tmp_path / "fitted.yaml"))[
        "fit"
    ]
    assert number(metric(page, "Peak load")) == pytest.approx(fitted_cli["load"]["max_rps"], abs=0.05)
    assert_whole(page, "Observe")
    shot(page, "engineer-observe")

    go(page, "Calibrate")
    page.wait_for_selector("text=Use the fitted scenario", timeout=90_000)
    settle(page)
    assert metric(page, "Planning load (peak)") == f"{fitted_cli['load']['peak_rps']:,.1f} req/s"
    app_fitted_text = code_with(page, "service_ms")
    app_fitted, cli_fitted = (
        yaml.safe_load(app_fitted_text),
        yaml.safe_load((tmp_path / "fitted.yaml").read_text()),
    )
    assert app_fitted["nodes"] == cli_fitted["nodes"] and app_fitted["workload"] == cli_fitted["workload"]
    assert app_fitted["nodes"]["web"]["replicas"] == REPLICAS
    (tmp_path / "app-fitted.yaml").write_text(app_fitted_text, encoding="utf-8")
    assert_whole(page, "Calibrate")
    shot(page, "engineer-calibrate")
    page.get_by_role("button", name="Use the fitted scenario").click()
    settle(page)

    go(page, "Overview")
    simulated = cli("simulate", str(tmp_path / "app-fitted.yaml"), "--method", "analytic")
    assert number(metric(page, "p99 latency")) == pytest.approx(simulated["latency_ms"]["p99"], abs=0.05)
    # the bill is the cost of record (the HPA's replicas hour by hour): forecast's month 0, not simulate's
    # cost at the file's replicas
    month0 = cli("forecast", str(tmp_path / "app-fitted.yaml"), "--months", "0")["months"][0]
    assert number(metric(page, "Cost this month")) == pytest.approx(month0["monthly"], abs=0.005)
    assert (
        "CSV upload (elb_requests.csv, metrics.csv)" in page.locator('[data-testid="stSidebar"]').inner_text()
    )
    assert_whole(page, "Overview")
    shot(page, "engineer-overview")

    # is 4 safe? two steps down on the web tier's replicas
    go(page, "What-if")
    p99_before = metric(page, "p99 latency")
    slider = (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text=re.compile(r"^Replicas"))
        .first.get_by_role("slider")
    )
    for _ in range(2):
        slider.focus()
        slider.press("ArrowLeft")
        settle(page)
    page.wait_for_function(
        """(before) => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => m.innerText.includes('p99 latency') && !m.innerText.includes(before))""",
        arg=p99_before,
        timeout=60_000,
    )
    settle(page)
    four = cli(
        "simulate", str(tmp_path / "app-fitted.yaml"), "--method", "analytic", "--set", "nodes.web.replicas=4"
    )
    assert number(metric(page, "p99 latency")) == pytest.approx(four["latency_ms"]["p99"], abs=0.05)
    month0 = cli(
        "forecast", str(tmp_path / "app-fitted.yaml"), "--months", "0", "--set", "nodes.web.replicas=4"
    )["months"][0]
    assert number(metric(page, "Cost this month")) == pytest.approx(month0["monthly"], abs=0.005)
    assert_whole(page, "What-if")
    shot(page, "engineer-whatif-4")

    go(page, "Right-size")
    page.get_by_role("button", name=re.compile("Find the cheapest")).click()
    page.wait_for_selector("text=The YAML diff to apply", timeout=180_000)
    settle(page)
    recommended = cli(
        "recommend", str(tmp_path / "app-fitted.yaml"), "--set", "nodes.web.replicas=4", "--seed", "1"
    )
    assert number(metric(page, "Recommended, per month")) == pytest.approx(recommended["monthly"], abs=0.005)
    diff = code_with(page, "+++")
    assert not [line for line in diff.splitlines() if line.startswith("+") and "# given" in line], diff
    assert_whole(page, "Right-size")
    shot(page, "engineer-rightsize")

    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert not outside, outside
    assert not failed, failed
    context.close()


@pytest.mark.parametrize("width", [1440, 390])
def test_every_page_shows_its_text_whole(app_server, chromium, width):
    context = chromium.new_context(viewport={"width": width, "height": 1600}, is_mobile=width < 600)
    page = context.new_page()
    problems = []
    for path in ("", "observe", "calibrate", "whatif", "cost", "rightsize", "compare"):
        page.goto(f"{app_server.url}/{path}?scenario=checkout&set=nodes.web.replicas%3D5")
        settle(page)
        if path == "calibrate":
            page.get_by_role("button", name="Use the fitted scenario").wait_for(timeout=120_000)
            settle(page)
        problems += [f"/{path}: {p}" for p in page.evaluate(CUT, WHOLE)]
        if (
            path == "whatif" and width < 640
        ):  # a knob below the first screen: the headline numbers stay in view
            page.set_viewport_size({"width": width, "height": 700})
            numbers = page.locator(".st-key-headline-numbers")
            top = numbers.bounding_box()["y"]
            knob = page.locator('[data-testid="stSlider"]').filter(has_text=re.compile(r"^Replicas")).first
            knob.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            box = numbers.bounding_box()
            assert knob.bounding_box()["y"] < 700 and box["y"] < top - 50  # the page did scroll
            assert -1 <= box["y"] < 60, box  # and the numbers stuck to the top
            page.set_viewport_size({"width": width, "height": 1600})
        shot(page, f"{path or 'overview'}-{width}")
    assert not problems, problems
    context.close()
