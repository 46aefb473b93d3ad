"""The HPA: scale out after the start-up delay, in after the stabilization window; cost follows replicas."""

from __future__ import annotations

import pytest

from model.planning.autoscale import Hpa, simulate_day, step_load
from model.pricing.catalog import hourly_price
from model.pricing.cost import HOURS_PER_MONTH
from model.scenario.reader import scenario_from_data
from model.scenario.schema import Autoscale
from tests.model.planning.planning_helpers import mmc_scenario

CFG = Autoscale(target_cpu_pct=50, min=2, max=20, startup_s=30, scale_down_stabilization_s=120)


def test_controller_scales_out_after_startup_and_in_after_the_window():
    hpa = Hpa(CFG, replicas=4)
    assert hpa.step(0.0, 0.5) == 4  # at target: no change
    assert hpa.step(15.0, 0.54) == 4  # within the 10% tolerance
    assert hpa.step(30.0, 1.0) == 8  # ceil(4 * 1.0 / 0.5)
    assert hpa.ready(59.9) == 4 and hpa.ready(60.0) == 8  # new pods serve 30 s after the decision
    assert hpa.step(45.0, 1.0) == 8  # starting pods count as idle: no second scale-up
    # Load drops to a quarter at t=75: the recommendation is 2 pods, but the window holds 8.
    for t in range(75, 180, 15):
        assert hpa.step(float(t), 0.125) == 8, t
    # 120 s after the last recommendation of 8 (t=60), the window only holds 2s.
    assert hpa.step(195.0, 0.125) == 2


def test_step_load_in_the_simulator_scales_out_after_the_delay_and_back_in():
    data = mmc_scenario(2, 50, 40, p99_ms=1000, autoscale=dict(CFG.model_dump()))
    scenario = scenario_from_data(data)
    # 40 req/s needs 2 busy cores (4 pods at 50%); at 120 req/s 6 busy cores -> up to 12 pods.
    run = step_load(scenario, 40, 120, step_at_s=60, duration_s=360, window_s=15, seed=2, step_down_at_s=180)
    serving = dict(zip([w.start_s for w in run.windows], run.ready["web"]))
    before = serving[45.0]
    assert 3 <= before <= 5
    spec = dict(zip([w.start_s for w in run.windows], run.replicas["web"]))
    # The first sync after the step is at 75 s: it asks for about 12 pods at once, but they
    # serve only from 105 s (a 30 s start-up), so the windows ending at 90 s and 105 s still
    # run on the old pods.
    assert spec[75.0] >= 8
    assert serving[75.0] <= before + 1 and serving[90.0] <= before + 1
    assert serving[105.0] >= 8
    # Latency during the lag is worse than after the new pods serve.
    p99 = {w.start_s: w.p99_ms for w in run.windows}
    assert p99[90.0] > p99[165.0]
    # The load drops at 180 s; the 120 s window keeps the pods until about 300 s.
    assert serving[240.0] >= serving[165.0] - 1
    assert serving[345.0] < serving[240.0]


def test_day_cost_integrates_the_replica_count():
    data = mmc_scenario(2, 50, 100, p99_ms=1000, autoscale={"target_cpu_pct": 50, "min": 2, "max": 30})
    scenario = scenario_from_data(data)
    flat = simulate_day(scenario, profile=[1.0] * 24)
    # 100 req/s x 50 ms = 5 busy cores; at 50% that is 10 pods all day.
    assert set(flat.replicas["web"]) == {10}
    price = hourly_price(scenario.nodes["web"].instance, scenario.pricing)
    assert flat.cost.by_node["web"] == pytest.approx(round(10 * price * HOURS_PER_MONTH, 2))
    day = simulate_day(scenario, profile=[1.0] * 12 + [0.2] * 12)
    mean = float(day.replicas["web"].mean())
    assert day.cost.by_node["web"] == pytest.approx(round(mean * price * HOURS_PER_MONTH, 2))
    assert 2 < mean < 10  # billed for the mean, not the maximum
    # Time at 10 pods is at least the 11 h plateau and, with the window, a little more.
    share = float((day.replicas["web"] == 10).mean())
    assert 11 / 24 <= share <= 13.5 / 24
