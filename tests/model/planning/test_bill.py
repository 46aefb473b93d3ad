"""The cost of record against hand computations: a fixed node is count x 730 h x price; an
autoscaled node matches an HPA run hour by hour over a whole month; per million divides by the
requests of the month's shape; forecast's month 0 is `this_month` for every scenario in scenarios/."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from model.planning.autoscale import DEFAULT_DAY, Hpa
from model.planning.bill import DEFINITION, HOURS, file_replicas_note, month_bill, this_month
from model.planning.forecast import forecast
from model.pricing.catalog import lookup
from model.queueing.evaluate import evaluate
from model.scenario.reader import ScenarioError, load_scenario, scenario_from_data
from tests.model.planning.planning_helpers import fixed

ROOT = Path(__file__).resolve().parents[3]
M6I = lookup("aws", "m6i.large", "us-east-1").hourly  # {on_demand, 1yr, 3yr} per hour


def test_a_fixed_node_is_its_count_times_730_hours_times_the_price():
    bill = this_month(scenario_from_data(fixed(3)))
    assert bill.monthly_usd == pytest.approx(round(3 * 730 * M6I["on_demand"], 2), abs=0.005)
    assert bill.nodes["web"].instance_hours == 3 * 730
    # months do not change a fixed node's bill, whatever the growth
    grown = month_bill(scenario_from_data(fixed(3, {"growth_pct_per_month": 10})), 6)
    assert grown.monthly_usd == bill.monthly_usd and grown.peak_rps == pytest.approx(50 * 1.1**6)


def test_a_commitment_covers_its_baseline_and_the_rest_is_on_demand():
    scenario = scenario_from_data(fixed(3, commitment="1yr"))
    whole = this_month(scenario)  # default baseline: the lowest hourly usage, 3
    assert whole.nodes["web"].committed_units == 3
    assert whole.monthly_usd == pytest.approx(3 * 730 * M6I["1yr"], abs=0.01)
    part = this_month(scenario, baseline_units={"web": 2})
    assert part.monthly_usd == pytest.approx(2 * 730 * M6I["1yr"] + 730 * M6I["on_demand"], abs=0.01)
    idle = this_month(scenario, baseline_units={"web": 5})  # paid used or not
    assert idle.monthly_usd == pytest.approx(5 * 730 * M6I["1yr"], abs=0.01)
    with pytest.raises(ValueError, match="not in the scenario"):
        this_month(scenario, baseline_units={"api": 1})


def test_per_million_divides_by_the_requests_of_the_months_shape():
    """Weekdays at the peak all day, weekends at half: 730 h from a Monday hold 8 weekend days."""
    flat_day = [1.0] * 24
    week = [1, 1, 1, 1, 1, 0.5, 0.5]
    scenario = scenario_from_data(fixed(2, {"daily_profile": flat_day, "weekly_profile": week}))
    bill = this_month(scenario)
    mean = 50.0 * (538 + 0.5 * 192) / 730
    assert bill.mean_rps == pytest.approx(mean)
    assert bill.requests == pytest.approx(mean * 730 * 3600)
    assert bill.per_million_usd == pytest.approx(bill.monthly_usd / (mean * 730 * 3600 / 1e6))
    # not the peak running all month
    assert bill.per_million_usd > bill.monthly_usd / (50.0 * 730 * 3600 / 1e6) * 1.1


def _reference_instance_hours(peak: float, busy_s_per_request: float, cfg, daily, weekly) -> float:
    """An HPA driven sync by sync through a whole month (one settling day before it), the rate read
    off the hourly profile by linear interpolation, utilization = offered work / ready cores."""
    hpa = Hpa(cfg, cfg.min)
    hours = np.arange(25.0)
    values = np.append(np.asarray(daily, dtype=float), daily[0])
    total_spec = 0.0
    t = -86_400.0
    while t < HOURS * 3600.0:
        day = math.floor(t / 86_400.0)
        rate = peak * weekly[day % 7] * float(np.interp((t / 3600.0) % 24.0, hours, values))
        ready = hpa.ready(t)
        u = min(rate * busy_s_per_request / ready, 1.0) if ready else 1.0
        replicas = hpa.step(t, u)
        if t >= 0:
            total_spec += replicas * 15.0 / 3600.0
        t += 15.0
    return total_spec


def test_an_autoscaled_node_is_billed_the_replicas_its_hpa_runs_hour_by_hour():
    weekly = [1, 1, 1, 1, 1, 0.6, 0.45]
    data = fixed(2, {"rate_rps": 100.0, "daily_profile": list(DEFAULT_DAY), "weekly_profile": weekly})
    web = data["nodes"]["web"]
    web.update({"cpus": 1, "service_ms": 50})
    web["autoscale"] = {"target_cpu_pct": 70, "min": 2, "max": 20}
    scenario = scenario_from_data(data)
    bill = this_month(scenario)
    reference = _reference_instance_hours(100.0, 0.05, scenario.nodes["web"].autoscale, DEFAULT_DAY, weekly)
    assert bill.nodes["web"].instance_hours == pytest.approx(reference, rel=0.01)
    assert bill.monthly_usd == pytest.approx(reference * M6I["on_demand"], rel=0.01)
    units = np.asarray(bill.nodes["web"].hourly_units)
    assert (
        7 <= units.max() <= 8 and units.min() == 2
    )  # ceil(5 busy cores / 0.77..0.7) at the peak; min at night
    assert units[5 * 24 + 12] < units[12]  # a Saturday noon runs fewer than a Monday noon


def test_evaluates_file_replicas_are_labelled_as_not_the_cost_of_record():
    scenario = load_scenario(ROOT / "scenarios" / "checkout.yaml")
    file_cost = evaluate(scenario, "analytic").cost.monthly
    bill = this_month(scenario)
    assert file_cost != bill.monthly_usd
    note = file_replicas_note(file_cost, bill)
    assert f"${file_cost:,.2f}" in note and f"${bill.monthly_usd:,.2f}" in note and "not the cost" in note
    assert "hour by hour" in DEFINITION


def _scenario_files() -> list[Path]:
    return [
        p
        for p in sorted((ROOT / "scenarios").glob("*.yaml"))
        if "source" not in (yaml.safe_load(p.read_text()) or {})  # fit files are not scenarios
    ]


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.name)
def test_forecast_month_0_is_the_cost_of_record_for_every_scenario(path):
    scenario = load_scenario(path)
    bill = this_month(scenario)
    month0 = forecast(scenario, 0).months[0]
    assert month0.monthly == bill.monthly_usd
    assert month0.per_million == pytest.approx(bill.per_million_usd)


def test_profiles_are_fractions_of_the_peak():
    with pytest.raises(ScenarioError, match="largest value must be 1"):
        scenario_from_data(fixed(1, {"daily_profile": [0.5] * 24}))
    with pytest.raises(ScenarioError, match="weekly_profile"):
        scenario_from_data(fixed(1, {"weekly_profile": [1, 1, 1]}))
