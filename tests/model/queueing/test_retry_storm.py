"""The metastable case (scenarios/retry-storm.yaml): a short burst leaves the system failing with retries,
and the same burst without retries recovers.

The scenario serves 100 queries/s at its database and runs at 70; a burst of 2x for 10 s from 60 s
builds a backlog of about 400 requests, 4 s of queue against a 1 s timeout. With 2 retries the
clients then send about 3 x 70 = 210 attempts/s against 100: the backlog can only grow, so goodput
stays near 0 to the end of the run. Without retries it drains at 30/s and answers come back within
about 15 s of the burst's end. The margins below are far from both outcomes (measured: goodput at
the end 0.0/s against 68-72 requests/s with retries; recovered at 80-86 s without, seeds 1-4), so they hold for
any seed; two seeds are run for each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.queueing.analytic.solver import solve
from model.queueing.sim.load_test import Burst, run_for
from model.queueing.sim.timeline import TimelineSimulation
from model.scenario.reader import load_scenario

ROOT = Path(__file__).resolve().parents[3]
STORM = ROOT / "scenarios" / "retry-storm.yaml"
BURST = Burst(2.0, 60.0, 10.0)


def storm(overrides: tuple[str, ...] = (), seed: int = 1):
    return run_for(load_scenario(STORM, list(overrides)), 180.0, seed=seed, burst=BURST)


def test_the_scenario_is_calm_before_any_burst():
    r = solve(load_scenario(STORM))
    assert r.slo.met and not r.saturated
    assert r.retries.amplification == pytest.approx(1.0, abs=1e-6)
    assert r.retries.risk.sustains and r.to_json()["retries"]["storm_sustains"] is True
    assert r.retries.risk.capacity_rps == pytest.approx(100.0) and r.retries.risk.storm_rps == pytest.approx(
        210
    )
    assert any("retry storm would sustain itself" in n for n in r.notes)


@pytest.mark.parametrize("seed", [1, 2])
def test_with_retries_the_burst_leaves_it_failing(seed):
    r = storm(seed=seed)
    series, test = r.load_test.series, r.load_test
    before = series.mean_between(10, 60)
    assert before["goodput_rps"] > 0.9 * before["requests_rps"] and before["errors_rps"] == 0
    end = series.end()  # the last 18 s, 110 s after the burst ended
    assert end["requests_rps"] == pytest.approx(70, rel=0.25)
    assert end["goodput_rps"] < 0.2 * end["requests_rps"]
    assert end["offered_rps"] > 150  # retries keep it far above the capacity of 100/s
    assert series.recovered_at_s(70.0) is None
    assert test.to_json()["burst"]["recovered_at_s"] is None
    assert r.retries.amplification > 2.0 and "db" in r.saturated


@pytest.mark.parametrize("overrides", [("workload.retries.attempts=0",), ("workload.retries=null",)])
@pytest.mark.parametrize("seed", [1, 2])
def test_without_retries_the_same_burst_recovers(overrides, seed):
    r = storm(overrides, seed=seed)
    series = r.load_test.series
    recovered = series.recovered_at_s(70.0)
    assert recovered is not None and recovered < 110  # the backlog of ~400 drains at ~30/s
    end = series.end()
    assert end["goodput_rps"] > 0.9 * end["requests_rps"] and end["errors_rps"] == 0
    assert series.mean_between(60, 75)["errors_rps"] > 0  # the burst did time requests out
    assert r.load_test.to_json()["burst"]["recovered_at_s"] == recovered


def test_the_timeline_simulation_shows_the_same_storm():
    """A span of time with events (model/queueing/sim/timeline.py) carries retries and reports the load."""
    sc = load_scenario(STORM)
    sim = TimelineSimulation(sc, [(0.0, 70.0), (60.0, 140.0), (70.0, 70.0)], 150.0, seed=3)
    sim.run()
    load = sim.load(bucket_s=5.0)
    assert load.bucket_s == 5.0 and len(load.start_s) == 30
    calm, late = load.mean_between(20, 60), load.mean_between(120, 150)
    assert calm["offered_rps"] == pytest.approx(calm["requests_rps"], rel=0.02)  # nothing retried
    assert late["offered_rps"] > 2 * late["requests_rps"] and late["goodput_rps"] < 0.2 * late["requests_rps"]
    calm_plain = TimelineSimulation(
        load_scenario(STORM, ["workload.retries=null"]), [(0.0, 70.0), (60.0, 140.0), (70.0, 70.0)], 150.0, 3
    )
    calm_plain.run()
    assert calm_plain.load(5.0).mean_between(120, 150)["goodput_rps"] > 60
