"""Capacity helpers (saturation, latency curve, bill by commitment) against queueing theory and the cost model."""

from __future__ import annotations


import pytest

from model.planning.capacity import latency_curve, saturation_rps
from model.scenario.reader import scenario_from_data
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario


def test_saturation_is_servers_over_service_time():
    # M/M/c with c=4 servers of 20 ms saturates at c / S = 200 req/s, whatever the current rate.
    scenario = scenario_from_data(mmc_scenario(4, 20.0, 50.0))
    assert saturation_rps(scenario) == pytest.approx(200.0, rel=1e-9)


def test_latency_curve_rises_to_just_below_saturation_and_matches_mmc():
    scenario = scenario_from_data(mmc_scenario(4, 20.0, 50.0))
    curve = latency_curve(scenario, points=12)
    p99 = curve[curve["percentile"] == "p99"].sort_values("rate_rps")
    assert p99["rate_rps"].max() < 200.0 and p99["rate_rps"].min() == pytest.approx(10.0)
    assert p99["latency_ms"].is_monotonic_increasing
    low = p99.iloc[0]
    assert low["latency_ms"] == pytest.approx(mmc_p99_ms(4, low["rate_rps"], 20.0), rel=0.02)
