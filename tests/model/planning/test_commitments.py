"""Commitments as finance buys them, against hand computations: coverage, utilization, savings
over the full term and the break-even month."""

from __future__ import annotations

import math

import pytest

from model.planning.commitments import commitment_plan
from model.pricing.catalog import lookup
from model.scenario.reader import scenario_from_data
from tests.model.planning.planning_helpers import fixed

M6I = lookup("aws", "m6i.large", "us-east-1").hourly


@pytest.mark.parametrize("term,months", [("1yr", 12), ("3yr", 36)])
def test_a_steady_fleet_fully_committed(term, months):
    plan = commitment_plan(scenario_from_data(fixed(3)), term)
    od, c = M6I["on_demand"], M6I[term]
    assert plan.term_months == months and len(plan.months) == months  # the full term, not the horizon
    assert plan.baseline_units == {"web": 3}
    assert plan.coverage == pytest.approx(1.0) and plan.utilization == pytest.approx(1.0)
    assert plan.savings_usd == pytest.approx(months * 3 * 730 * (od - c), abs=0.01 * months)
    # covered value after k months: k * 3 * 730 * od; the term costs months * 3 * 730 * c
    assert plan.break_even_month == math.ceil(months * c / od) - 1


def test_a_baseline_above_the_usage_is_paid_and_idle():
    plan = commitment_plan(scenario_from_data(fixed(3)), "1yr", baseline_units={"web": 4})
    od, c = M6I["on_demand"], M6I["1yr"]
    assert plan.coverage == pytest.approx(1.0)
    assert plan.utilization == pytest.approx(3 / 4)
    assert plan.committed_usd == pytest.approx(12 * 4 * 730 * c, abs=0.1)
    # (k + 1) months of 3 used units at on demand reach 12 months of 4 committed
    expected = math.ceil(12 * 4 * c / (3 * od)) - 1
    assert plan.break_even_month == (expected if expected < 12 else None)


def test_a_partial_baseline_leaves_the_rest_on_demand():
    plan = commitment_plan(scenario_from_data(fixed(3)), "1yr", baseline_units={"web": 1})
    od, c = M6I["on_demand"], M6I["1yr"]
    assert plan.coverage == pytest.approx(1 / 3) and plan.utilization == pytest.approx(1.0)
    assert plan.months[0].with_commitment_usd == pytest.approx(730 * c + 2 * 730 * od, abs=0.01)


def test_growth_adds_on_demand_hours_above_the_baseline():
    data = fixed(2, {"rate_rps": 100.0, "growth_pct_per_month": 10})
    data["nodes"]["web"].update({"cpus": 1, "service_ms": 50, "autoscale": {"min": 2, "max": 40}})
    plan = commitment_plan(scenario_from_data(data), "1yr")
    assert plan.baseline_units == {"web": 2}  # the lowest hour of month 0
    assert plan.utilization == pytest.approx(1.0)
    assert plan.coverage < plan.months[0].covered_hours / plan.months[0].used_hours  # growth dilutes it
    assert plan.months[-1].with_commitment_usd > plan.months[0].with_commitment_usd


def test_bad_terms_and_baselines_are_refused():
    scenario = scenario_from_data(fixed(3))
    with pytest.raises(ValueError, match="1yr, 3yr"):
        commitment_plan(scenario, "5yr")
    with pytest.raises(ValueError, match="whole number"):
        commitment_plan(scenario, "1yr", baseline_units={"web": 1.5})
