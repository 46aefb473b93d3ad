"""The two solvers tell the same story on the worked examples.

Where theory is exact the tests in test_simulation.py and test_analytic.py hold each solver to
it; here the examples mix approximations (M/G/c, worker slots, correlated repeat visits), so
the tolerance is wider and stated: mean within 6%, p99 within 10%, utilization within 0.02.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.analytic import solve
from model.loading import load_scenario
from model.simulation import simulate

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["checkout", "cache-db", "kafka-consumers", "three-tier"])
def test_analytic_matches_simulation_on_examples(name):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    sim = simulate(scenario, seed=4, requests=60_000)
    ana = solve(scenario)
    assert ana.latency_ms.mean == pytest.approx(sim.latency_ms.mean, rel=0.06)
    assert ana.latency_ms.p99 == pytest.approx(sim.latency_ms.p99, rel=0.10)
    for node, stats in sim.nodes.items():
        assert ana.nodes[node].utilization == pytest.approx(stats.utilization, abs=0.02), node
    assert ana.saturated == sim.saturated == []
    for topic, stats in sim.kafka.items():
        assert ana.kafka[topic].lag_p99_ms == pytest.approx(stats.lag_p99_ms, rel=0.12)


def test_both_solvers_name_the_same_saturated_node():
    scenario = load_scenario(ROOT / "scenarios" / "three-tier.yaml", rate_rps=200)
    assert solve(scenario).saturated == simulate(scenario, seed=1, requests=5_000).saturated == ["db"]
