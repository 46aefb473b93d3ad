"""The ledger: N calendar months from the start month, totals over those N, the SLO verdict on every
month (and counted), the first month over budget."""

from __future__ import annotations

import pytest

from model.planning.bill import month_bill
from model.planning.ledger import ledger
from model.planning.verdict import NOT_A_PLAN
from model.scenario.reader import scenario_from_data
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario
from tests.model.planning.planning_helpers import fixed


def test_a_horizon_of_12_is_12_calendar_months_and_its_total():
    scenario = scenario_from_data(fixed(3, {"growth_pct_per_month": 5}))
    book = ledger(scenario, 12, start="2026-11")
    assert [m.calendar_month for m in book.months][:3] == ["2026-11", "2026-12", "2027-01"]
    assert len(book.months) == 12 and book.months[-1].calendar_month == "2027-10"
    assert book.total_usd == pytest.approx(
        sum(month_bill(scenario, m).monthly_usd for m in range(12)), abs=0.005
    )
    assert book.months[0].bill.monthly_usd == month_bill(scenario, 0).monthly_usd
    assert book.total_by_commitment["1yr"] < book.total_by_commitment["on_demand"]


def test_months_that_miss_the_slo_say_so_and_are_counted():
    """M/M/8 at 50 ms and 100 req/s growing 5% a month: the p99 target is crossed at a month known
    from Erlang C; every later month carries the sentence."""
    target = 300.0
    scenario = scenario_from_data(mmc_scenario(8, 50.0, 100.0, p99_ms=target, growth=5.0))
    book = ledger(scenario, 12)
    missed = [m for m in range(12) if mmc_p99_ms(8, 100.0 * 1.05**m, 50.0) > target]
    assert missed and [m.month for m in book.months if not m.verdict.slo_met] == missed
    assert book.slo_missed_months == len(missed)
    first = book.months[missed[0]].verdict.message
    assert first.startswith("SLO missed: p99 ") and "> 300.0 ms" in first and first.endswith(NOT_A_PLAN)
    assert book.months[0].verdict.message is None


def test_a_saturated_configuration_is_never_an_ordinary_bill():
    scenario = scenario_from_data(mmc_scenario(2, 50.0, 100_000.0))  # no SLO at all, 2,500 x capacity
    month = ledger(scenario, 1).months[0]
    assert month.verdict.saturated == ["web"] and not month.verdict.copes
    assert month.verdict.message.startswith("Saturated: web") and NOT_A_PLAN in month.verdict.message


def test_the_first_month_over_budget():
    data = fixed(2, {"rate_rps": 100.0, "growth_pct_per_month": 10})
    data["nodes"]["web"].update({"cpus": 1, "service_ms": 50, "autoscale": {"min": 2, "max": 40}})
    scenario = scenario_from_data(data)
    bills = [month_bill(scenario, m).monthly_usd for m in range(12)]
    k = next(m for m in range(1, 12) if bills[m] > bills[0] * 1.2)
    budget = (bills[k - 1] + bills[k]) / 2 if bills[k - 1] < bills[k] else bills[k] - 0.01
    book = ledger(scenario, 12, budget_usd=budget)
    first = book.first_over_budget
    assert first is not None and first.month == next(m for m in range(12) if bills[m] > budget)
    assert book.to_json()["budget"]["first_exceeded_month"] == first.month
    assert ledger(scenario, 12, budget_usd=10 * max(bills)).first_over_budget is None


def test_the_ledger_and_the_forecast_agree_month_by_month():
    from pathlib import Path

    from model.planning.forecast import forecast
    from model.scenario.reader import load_scenario

    scenario = load_scenario(Path(__file__).resolve().parents[3] / "scenarios" / "checkout.yaml")
    book = ledger(scenario, 24)
    months = forecast(scenario, 23).months
    assert [m.bill.monthly_usd for m in book.months] == [m.monthly for m in months]
    assert [m.verdict.message for m in book.months] == [m.verdict for m in months]
    assert book.slo_missed_months == sum(not m.slo_met for m in months) > 0  # checkout misses from month 19
