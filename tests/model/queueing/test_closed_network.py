"""A scenario's closed workload: its network, exact MVA where product-form, the simulator within its
confidence interval of MVA, and the answers every other question reads (offered rate, knee)."""

from __future__ import annotations

import pytest

from model.queueing.closed_network import closed_network, solve_closed
from model.queueing.offered_load import offered_rps
from model.queueing.evaluate import evaluate
from model.queueing.sim.closed import simulate_closed
from model.scenario.reader import scenario_from_text
from tests.model.queueing.mva_reference import convolution_throughput

TANDEM = """\
version: 1
name: Tandem
workload: {{users: {users}, think_ms: {think}}}
entry: web
nodes:
  web:
    kind: service
    replicas: 1
    cpus: 2
    service_ms: 30
    calls: [{{to: db, visits: 2}}]
  db: {{kind: database, cpus: 1, read_ms: 6}}
"""


def tandem(users: int, think: float = 300.0):
    return scenario_from_text(TANDEM.format(users=users, think=think))


def test_the_network_has_each_pool_with_its_work_per_request():
    net = closed_network(tandem(10))
    pools = {p.pool: p for p in net.pools}
    assert pools["web"].servers == 2 and pools["web"].demand_s == pytest.approx(0.030)
    assert pools["db/0"].servers == 1 and pools["db/0"].demand_s == pytest.approx(0.012)
    assert pools["db/0"].visits == pytest.approx(2.0)
    assert net.think_s == pytest.approx(0.3) and net.entry_slots is None


@pytest.mark.parametrize("users", [1, 3, 10, 40])
def test_product_form_scenario_is_exact_mva(users):
    sol = solve_closed(tandem(users))
    expected = convolution_throughput([(0.030, [1, 2]), (0.012, [1])], 0.3, users)
    assert sol.throughput_rps() == pytest.approx(expected, rel=1e-9)
    assert sol.curve.method == "exact" and not sol.network.notes


def test_knee_and_bottleneck_bounds():
    """N* = (D + Z) / D_max: web's two cores give 2 / 0.030 = 66.7 req/s, D + Z = 0.342 s."""
    stats = evaluate(tandem(10), "analytic").closed
    assert stats.bottleneck == "web"
    assert stats.max_throughput_rps == pytest.approx(2 / 0.030)
    assert stats.knee_users == pytest.approx((0.030 + 0.012 + 0.3) * 2 / 0.030)


def test_offered_rate_of_a_closed_workload_is_its_throughput():
    s = tandem(20)
    assert offered_rps(s) == pytest.approx(solve_closed(s).throughput_rps())
    r = evaluate(s, "analytic")
    assert r.rate_rps == pytest.approx(offered_rps(s)) and r.cost is not None


def test_an_explicit_rate_evaluates_the_open_load():
    r = evaluate(tandem(20), "analytic", rate_rps=10.0)
    assert r.rate_rps == 10.0 and r.closed is None


def test_analytic_results_follow_little_and_the_utilization_law():
    s = tandem(25)
    r = evaluate(s, "analytic")
    x = r.throughput_rps
    assert x * (0.3 + r.latency_ms.mean / 1000.0) == pytest.approx(25, rel=1e-9)
    assert r.nodes["web"].utilization == pytest.approx(x * 0.030 / 2)
    assert r.nodes["db"].utilization == pytest.approx(x * 0.012)
    assert r.nodes["db"].arrival_rps == pytest.approx(2 * x)
    assert r.latency_ms.p50 < r.latency_ms.p95 < r.latency_ms.p99


@pytest.mark.parametrize("users, think", [(4, 300.0), (20, 300.0), (12, 0.0)])
def test_simulator_is_within_its_confidence_interval_of_mva(users, think):
    s = tandem(users, think)
    mva = solve_closed(s)
    sim = simulate_closed(s, seed=7, requests=30_000)
    lo, hi = sim.latency_ci95_ms["mean"]
    slack = 0.02 * mva.response_ms()  # the batch-means interval is itself estimated
    assert lo - slack <= mva.response_ms() <= hi + slack, (lo, hi, mva.response_ms())
    assert sim.rate_rps == pytest.approx(mva.throughput_rps(), rel=0.03)
    assert sim.closed.users == users and sim.error_pct == 0.0


def test_past_the_knee_the_bottleneck_is_saturated_and_latency_stays_finite():
    s = tandem(400)
    r = evaluate(s, "analytic")
    assert r.saturated == ["web"]
    assert r.throughput_rps == pytest.approx(2 / 0.030, rel=1e-3)
    assert r.latency_ms.mean == pytest.approx(1000 * (400 / (2 / 0.030) - 0.3), rel=1e-2)


def test_entry_slots_as_a_flow_equivalent_server_agree_with_the_simulator():
    text = TANDEM.replace("    cpus: 2\n", "    cpus: 2\n    concurrency: 3\n")
    s = scenario_from_text(text.format(users=30, think=100.0))
    sol = solve_closed(s)
    assert sol.network.entry_slots == 3 and any("flow-equivalent" in n for n in sol.network.notes)
    sim = simulate_closed(s, seed=3, requests=20_000)
    assert sim.rate_rps == pytest.approx(sol.throughput_rps(), rel=0.05)
    lo, hi = sim.latency_ci95_ms["mean"]
    assert lo * 0.93 <= sol.response_ms() <= hi * 1.07
