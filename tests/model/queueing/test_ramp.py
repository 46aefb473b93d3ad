"""The load-test ramp: users follow the schedule, each step is measured on its own, a step held long
enough settles at the analytic steady state, and past the knee throughput stays flat."""

from __future__ import annotations

import pytest
from simpy.events import Timeout

from model.queueing.closed_network import solve_closed
from model.queueing.sim.ramp import RampSimulation, run_ramp, step_schedule
from model.scenario.reader import scenario_from_text

ONE_POOL = """\
version: 1
name: One pool
workload: {users: 10, think_ms: 200}
entry: web
nodes:
  web: {kind: service, replicas: 1, cpus: 2, service_ms: 20}
"""


def scenario():
    return scenario_from_text(ONE_POOL)


def test_schedule_steps_evenly_from_start_to_end():
    assert step_schedule(10, 100, 4, 30) == [(0.0, 10), (30.0, 40), (60.0, 70), (90.0, 100)]
    assert step_schedule(5, 50, 1, 30) == [(0.0, 50)]
    with pytest.raises(ValueError):
        step_schedule(1, 2, 0, 30)


def test_users_in_the_loop_follow_the_schedule_up_and_down():
    sim = RampSimulation(scenario(), [(0.0, 5), (20.0, 30), (40.0, 8)], 60.0, seed=1)
    seen = []
    for t in (10.0, 30.0, 59.0):
        Timeout(sim.env, t * 1000.0).callbacks.append(lambda _e: seen.append(sim.active))
    sim.run()
    assert seen[0] == 5 and seen[1] == 30
    assert seen[2] == 8  # the 22 extra users left as their requests ended (think 200 ms, service 20 ms)


def test_each_step_settles_at_the_analytic_steady_state():
    s = scenario()
    _, steps = run_ramp(s, step_schedule(5, 60, 3, 120.0), 120.0, seed=4)
    sol = solve_closed(s, 60)
    for step in steps:
        assert step.throughput_rps == pytest.approx(sol.throughput_rps(step.users), rel=0.06), step
        assert step.errors == 0
    assert steps[0].p99_ms < steps[-1].p99_ms


def test_past_the_knee_throughput_stays_at_capacity_and_latency_climbs():
    s = scenario()  # two cores at 20 ms: 100 req/s; knee (20 + 200) / 10 = 22 users
    _, steps = run_ramp(s, [(0.0, 60), (60.0, 120)], 60.0, seed=2)
    assert steps[0].throughput_rps == pytest.approx(100.0, rel=0.05)
    assert steps[1].throughput_rps == pytest.approx(100.0, rel=0.05)
    assert steps[1].mean_ms > 1.8 * steps[0].mean_ms  # about N / X - Z: 400 ms, then 1,000 ms
