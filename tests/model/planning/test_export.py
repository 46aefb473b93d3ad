"""Exports finance can use: calendar months, cents, a totals row, the assumptions."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from model.planning.commitments import commitment_plan
from model.planning.export import TOTAL_LABEL, spend_csv, spend_frame, spend_xlsx
from model.planning.ledger import ledger
from model.scenario.reader import scenario_from_data
from tests.model.planning.planning_helpers import fixed

FIT = {"pct_per_month": 9.0, "low_pct": 7.4, "high_pct": 10.5, "days": 14}


@pytest.fixture(scope="module")
def book():
    data = fixed(2, {"rate_rps": 120.0, "growth_pct_per_month": 9.0, "growth_fit": FIT})
    data["nodes"]["web"].update({"cpus": 1, "service_ms": 30, "autoscale": {"min": 2, "max": 40}})
    scenario = scenario_from_data(data)
    return scenario, ledger(scenario, 12, start="2027-01", budget_usd=400.0)


def test_the_frame_has_calendar_months_cents_and_a_totals_row(book):
    _, led = book
    frame = spend_frame(led)
    assert list(frame["month"])[:2] == ["2027-01", "2027-02"] and frame["month"].iloc[-1] == TOTAL_LABEL
    assert len(frame) == 12 + 1  # a horizon of 12 is 12 months, plus the totals row
    months, total = frame.iloc[:-1], frame.iloc[-1]
    for column in [c for c in frame.columns if c.endswith("(USD)") and not c.startswith("per million")]:
        assert total[column] == pytest.approx(round(months[column].sum(), 2), abs=0.001)
        assert all(round(v, 2) == v for v in frame[column].dropna())
    assert (
        "web (USD)" in frame and "with 1yr commitment (USD)" in frame and "with 3yr commitment (USD)" in frame
    )


def test_csv_has_the_assumptions_and_no_float_noise(book):
    scenario, led = book
    text = spend_csv(led, commitment_plan(scenario, "1yr"))
    head = [line for line in text.splitlines() if line.startswith("#")]
    for key in (
        "price source",
        "price date: 2025-06-01",
        "provider and region: aws us-east-1",
        "commitment model",
        "growth source: fitted",
        "growth 90% interval: 7.4% to 10.5%",
        "SLO 2027-01: met",
        "1yr break-even",
    ):
        assert any(key in line for line in head), key
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert not re.search(r"\d\.\d{5,}", body)  # no 129.60000000000002


def test_excel_has_spend_commitment_and_assumptions_sheets(book):
    scenario, led = book
    wb = openpyxl.load_workbook(io.BytesIO(spend_xlsx(led, commitment_plan(scenario, "3yr"))))
    assert wb.sheetnames == ["Spend", "Commitment", "Assumptions"]
    spend = wb["Spend"]
    assert spend.max_row == 12 + 2 and spend.cell(row=spend.max_row, column=1).value == TOTAL_LABEL
    assumptions = {r[0]: r[1] for r in wb["Assumptions"].iter_rows(min_row=2, values_only=True)}
    assert assumptions["growth source"] == "fitted" and "2025-06-01" in assumptions["price date"]
    assert wb["Commitment"].max_row == 36 + 2  # the 3-year term in full, and its total
    header = [c.value for c in spend[1]]
    money = header.index("web (USD)") + 1
    assert spend.cell(row=2, column=money).number_format == "#,##0.00"
