"""The Cost page as a finance reviewer uses it, in headless Chromium: a shared link with its controls,
the months that are not a plan, and the two downloads opened as files (assumptions, totals, months)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.app.browser import SCREENSHOTS, have_chromium, settle

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_chromium(), reason="no /usr/bin/chromium")]

LINK = "cost_horizon=36&cost_budget=2000&cost_commitment=1yr"


@pytest.fixture(scope="module")
def page(app_server, chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 2400}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{app_server.url}/?{LINK}")  # a shared link, opened on Overview
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / "overview-cost-of-record.png"), full_page=True)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Cost").first.click()
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / "cost-36-months.png"), full_page=True)
    yield page
    context.close()


def _download(page, label: str) -> bytes:
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=label).click()
    return open(info.value.path(), "rb").read()


def test_the_link_sets_the_controls_and_stays_in_the_url(page):
    from model.planning.ledger import ledger
    from model.scenario.reader import load_scenario
    from tests.app.browser import ROOT

    assert page.locator('[data-testid="stException"]').count() == 0
    for part in LINK.split("&"):
        assert part in page.url
    plan = ledger(
        load_scenario(ROOT / "scenarios" / "checkout.yaml"), 36, commitment="1yr", budget_usd=2000.0
    )
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert f"{plan.not_a_plan_months} of 36 months are not a plan" in text
    assert "Total over 36 months" in text and f"${plan.total_usd:,.2f}" in text


def test_the_csv_carries_its_assumptions_months_and_totals(page):
    text = _download(page, "Download CSV").decode("utf-8")
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# cost definition: A month's bill") for line in head)
    assert any(line.startswith("# commitment model: 1yr") for line in head)
    assert any(line.startswith("# growth: growth 8% a month") for line in head)
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("#")))))
    assert len(rows) == 37 and rows[-1]["month"] == "Total"
    assert all(len(r["month"]) == 7 and r["month"][4] == "-" for r in rows[:-1])  # calendar months, YYYY-MM
    missed = [r for r in rows[:-1] if r["SLO"] != "met"]
    assert missed and "does not cope" in missed[0]["SLO"]
    money = [
        v for r in rows for k, v in r.items() if k.endswith("(USD)") and not k.startswith("per million") and v
    ]
    assert all(len(v.split(".")[-1]) <= 2 for v in money)  # cents, no float noise


def test_the_workbook_has_spend_commitment_and_assumptions(page):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_download(page, "Download Excel")))
    assert book.sheetnames == ["Spend", "Commitment", "Assumptions"]
    spend = list(book["Spend"].values)
    assert len(spend) == 1 + 36 + 1 and spend[-1][0] == "Total"
