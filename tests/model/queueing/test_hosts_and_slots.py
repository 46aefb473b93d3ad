"""Shared hosts, worker slots solved with the cores, and the delay outside the stations (issue 11).

Each model is held to exact queueing theory where it exists (tolerance 1e-6: the analytic solver
is exact there) and the simulator to the same theory within its 95% interval widened by 2%
(one run's interval misses the truth 5% of the time; fixed seeds keep the tests repeatable).
Where no closed form exists the two solvers are held to each other, with the tolerance stated.
"""

from __future__ import annotations

import math

import pytest

from model.queueing.analytic.solver import solve
from model.scenario.reader import ScenarioError, scenario_from_data
from model.queueing.evaluate import evaluate
from model.queueing.sim.simulation import simulate
from model.queueing.analytic.slots import closed_throughput, solve_slots


def scenario(nodes: dict, rate_rps: float, hosts: dict | None = None, **workload):
    data = {
        "version": 1,
        "name": "t",
        "workload": {"rate_rps": rate_rps, **workload},
        "entry": "web",
        "nodes": nodes,
    }
    if hosts is not None:
        data["hosts"] = hosts
    return scenario_from_data(data)


def mmc_wait_ms(c: int, arrival_rps: float, service_ms: float) -> float:
    a = arrival_rps * service_ms / 1000
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top) * service_ms / (c - a)


def assert_in_ci(results, key: str, truth: float, slack: float = 0.02) -> None:
    lo, hi = results.latency_ci95_ms[key]
    assert lo * (1 - slack) <= truth <= hi * (1 + slack), (key, truth, (lo, hi))


# ---------------------------------------------------------------- worker slots and cores


def test_closed_network_throughput_is_exact():
    # One core and a delay: X(1) = 1 / (S + D); with no delay X(n) = min(n, c) / S.
    assert closed_throughput(1, 5.0, 15.0, 1)[1] == pytest.approx(1 / 20.0, rel=1e-12)
    assert list(closed_throughput(2, 10.0, 0.0, 3)) == pytest.approx([0.0, 0.1, 0.2, 0.2], rel=1e-12)
    # Two customers, one core (S) and a delay (D): states (2 at cpu), (1, 1), (0 at cpu, 2 delayed)
    # have weights S^2, S*D, D^2/2; X = P(cpu busy) / S.
    s, d = 4.0, 6.0
    g = s * s + s * d + d * d / 2
    assert closed_throughput(1, s, d, 2)[2] == pytest.approx((s * s + s * d) / g / s, rel=1e-12)
    # Thousands of slots: no overflow, and the limit is the cores' capacity.
    x = closed_throughput(8, 10.0, 100.0, 3000)
    assert x[-1] == pytest.approx(0.8, rel=1e-9) and all(x[1:] > 0)


def test_one_core_two_blocking_slots_is_an_mm1():
    # The smallest case: the analytic solver called it saturated; it is an M/M/1, mean 33.3 ms.
    sc = scenario(
        {"web": {"kind": "service", "cpus": 1, "concurrency": 2, "blocking_calls": True, "service_ms": 10}},
        70.0,
    )
    ana = solve(sc)
    assert ana.saturated == []
    assert ana.latency_ms.mean == pytest.approx(1000 / (100 - 70), rel=1e-6)
    for key, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):  # percentiles: waits taken as exponential
        assert getattr(ana.latency_ms, key) == pytest.approx(-math.log(1 - q) * 1000 / 30, rel=0.04)
    sim = simulate(sc, seed=3, requests=100_000)
    assert_in_ci(sim, "mean", 1000 / 30)
    assert sim.saturated == []


def test_one_slot_with_a_downstream_call_is_pollaczek_khinchine():
    # One slot held for 5 ms of work and a visit to an (almost idle, 8-core) database of 5 ms:
    # an M/G/1 whose service is the holding time (exact mean by Pollaczek-Khinchine).
    nodes = {
        "web": {"kind": "service", "cpus": 1, "concurrency": 1, "service_ms": 5, "calls": [{"to": "db"}]},
        "db": {"kind": "database", "cpus": 8, "read_ms": 5},
    }
    sc = scenario(nodes, 70.0)
    db_wait_ms = mmc_wait_ms(8, 70, 5)
    hold_ms = 5 + 5 + db_wait_ms
    second = 25 + 25 + hold_ms**2  # E[H^2]: two exponential variances (the db wait's, ~1e-4 ms, left out)
    rho = 0.070 * hold_ms
    truth = hold_ms + 0.070 * second / (2 * (1 - rho))
    ana = solve(sc)
    assert ana.latency_ms.mean == pytest.approx(truth, rel=2e-3)
    sim = simulate(sc, seed=5, requests=100_000)
    assert_in_ci(sim, "mean", truth)


def test_several_replicas_share_slots_and_cores_as_an_mm2():
    # Two replicas of one core and two slots each: 4 slots on 2 cores, no calls: an M/M/2.
    sc = scenario(
        {"web": {"kind": "service", "replicas": 2, "cpus": 1, "concurrency": 2, "service_ms": 10}}, 140.0
    )
    truth = mmc_wait_ms(2, 140, 10) + 10
    ana = solve(sc)
    assert ana.latency_ms.mean == pytest.approx(truth, rel=1e-6)
    assert ana.nodes["web"].utilization == pytest.approx(0.7, rel=1e-9)
    assert_in_ci(simulate(sc, seed=7, requests=100_000), "mean", truth)


@pytest.mark.parametrize(
    "rate, slots, cpus, db_cpus, read_ms, service_ms",
    [
        (100, 3, 4, 1, 5, 10),  # fewer slots than cores, a busy database behind them
        (120, 4, 2, 4, 10, 8),  # more slots than cores, 4 database cores
        (180, 4, 2, 4, 10, 8),  # the same at 93% of what the slots can complete
        (100, 2, 1, 1, 3, 5),
        (60, 8, 1, 1, 4, 8),
    ],
)
def test_slots_held_through_calls_agree_with_the_simulator(rate, slots, cpus, db_cpus, read_ms, service_ms):
    # No closed form when cores and calls both matter. Measured (seed 1, 100k requests): the analytic
    # mean is 0% to +12% above the simulator's (conservative), p99 within 15%. Held to: the analytic
    # mean within the simulator's 95% interval widened by 10%, p99 within its interval widened by 15%.
    nodes = {
        "web": {
            "kind": "service",
            "cpus": cpus,
            "concurrency": slots,
            "service_ms": service_ms,
            "calls": [{"to": "db"}],
        },
        "db": {"kind": "database", "cpus": db_cpus, "read_ms": read_ms},
    }
    sc = scenario(nodes, float(rate))
    ana, sim = solve(sc), simulate(sc, seed=1, requests=100_000)
    assert ana.saturated == sim.saturated == []
    assert_in_ci(sim, "mean", ana.latency_ms.mean, slack=0.10)
    assert_in_ci(sim, "p99", ana.latency_ms.p99, slack=0.15)


def test_slots_saturate_where_their_capacity_ends():
    # One slot held 20 ms (10 ms of work, 10 ms of calls) completes at most 50/s.
    solution = solve_slots(60.0, 1, 4, 10.0, 10.0)
    assert solution.saturated and solution.capacity_rps == pytest.approx(50.0)
    assert not solve_slots(49.0, 1, 4, 10.0, 10.0).saturated


# ---------------------------------------------------------------- hosts


def shared(web_ms: float, db_ms: float, rate_rps: float, cpus: float | None = 1, **host) -> object:
    nodes = {
        "web": {"kind": "service", "host": "box", "service_ms": web_ms, "calls": [{"to": "db"}]},
        "db": {"kind": "database", "host": "box", "read_ms": db_ms},
    }
    return scenario(nodes, rate_rps, hosts={"box": {**({"cpus": cpus} if cpus else {}), **host}})


def test_two_nodes_on_one_core_are_an_mm1_of_their_summed_demand():
    # Two exponential visits of equal mean to one FIFO core (product form: BCMP): the request's
    # mean response is its total demand / (1 - rho), rho = 70/s * 10 ms.
    sc = shared(5, 5, 70.0)
    truth = 10 / (1 - 0.7)
    ana = solve(sc)
    assert ana.latency_ms.mean == pytest.approx(truth, rel=1e-9)
    assert ana.nodes["web"].utilization == ana.nodes["db"].utilization == pytest.approx(0.7)
    assert ana.nodes["web"].servers == 1 and ana.nodes["db"].host == "box"
    sim = simulate(sc, seed=2, requests=100_000)
    assert_in_ci(sim, "mean", truth)
    assert sim.nodes["web"].utilization == pytest.approx(0.7, abs=0.01)
    assert sim.nodes["db"].utilization == pytest.approx(0.7, abs=0.01)
    doc = sim.to_json()
    assert doc["hosts"] == {
        "box": {"servers": 1, "utilization": round(sim.nodes["web"].utilization, 4), "nodes": ["web", "db"]}
    }
    assert doc["nodes"]["web"]["host"] == "box"


def test_unequal_demands_on_a_shared_core_agree_with_the_simulator():
    # FIFO with different means per visit has no product form: the analytic pool is an M/G/1 of the
    # mixed visits; within 6% of the simulator on the mean at 60% busy.
    sc = shared(2, 8, 60.0)
    ana, sim = solve(sc), simulate(sc, seed=4, requests=100_000)
    assert ana.latency_ms.mean == pytest.approx(sim.latency_ms.mean, rel=0.06)


def test_a_host_saturates_where_its_nodes_alone_would_not():
    # 60% each on their own cores; 120% of one shared core.
    apart = scenario(
        {
            "web": {"kind": "service", "cpus": 1, "service_ms": 6, "calls": [{"to": "db"}]},
            "db": {"kind": "database", "cpus": 1, "read_ms": 6},
        },
        100.0,
    )
    assert solve(apart).saturated == []
    sc = shared(6, 6, 100.0)
    assert solve(sc).saturated == ["web", "db"]
    assert simulate(sc, seed=1, requests=2_000).saturated == ["web", "db"]
    assert shared(6, 6, 100.0, cpus=2).nodes["web"].host == "box"
    assert solve(shared(6, 6, 100.0, cpus=2)).saturated == []


def test_background_work_of_hosted_nodes_adds_up_on_the_host():
    nodes = {
        "web": {"kind": "service", "host": "box", "service_ms": 5, "background_cpu_pct": 10},
        "cache": {"kind": "cache", "host": "box", "hit_ratio": 1.0, "hit_ms": 1, "background_cpu_pct": 15},
    }
    nodes["web"]["calls"] = [{"to": "cache"}]
    ana = solve(scenario(nodes, 50.0, hosts={"box": {"cpus": 1}}))
    busy = 50 * (5 + 1) / 1000 / (1 - 0.25)  # the requests' work on the 75% of the core left
    assert ana.nodes["web"].utilization == pytest.approx(0.25 + 0.75 * busy, rel=1e-9)


def test_the_host_is_priced_not_its_nodes():
    sc = shared(5, 5, 50.0, cpus=None, instance={"provider": "aws", "type": "m6i.large"})
    results = evaluate(sc, "analytic")
    cost = results.cost.to_json()
    assert cost["by_node"] == {"web": 0.0, "db": 0.0}
    assert cost["by_host"]["box"] > 0 and cost["monthly"] == pytest.approx(cost["by_host"]["box"])
    assert results.nodes["web"].servers == 2  # the instance's vCPUs
    assert (
        "by_host"
        not in evaluate(
            scenario({"web": {"kind": "service", "service_ms": 5}}, 10.0), "analytic"
        ).cost.to_json()
    )


@pytest.mark.parametrize(
    "node, key, says",
    [
        ({"kind": "service", "host": "nope", "service_ms": 5}, "nodes.web.host", "not in hosts"),
        (
            {"kind": "service", "host": "box", "replicas": 2, "service_ms": 5},
            "nodes.web.replicas",
            "one instance",
        ),
        ({"kind": "service", "host": "box", "cpus": 2, "service_ms": 5}, "nodes.web.cpus", "host's cores"),
        (
            {"kind": "service", "host": "box", "service_ms": 5, "instance": {"vcpu": 1, "memory_gib": 2}},
            "nodes.web.instance",
            "host is priced",
        ),
        (
            {"kind": "database", "host": "box", "read_ms": 5, "read_replicas": 1},
            "nodes.web.read_replicas",
            "one instance",
        ),
    ],
)
def test_hosted_nodes_refuse_what_belongs_to_the_host(node, key, says):
    with pytest.raises(ScenarioError) as err:
        scenario({"web": node}, 10.0, hosts={"box": {"cpus": 1}})
    assert key in str(err.value) and says in str(err.value)


def test_a_node_without_a_host_is_unchanged_by_hosts_elsewhere():
    nodes = {
        "web": {"kind": "service", "cpus": 1, "service_ms": 10, "calls": [{"to": "db"}]},
        "db": {"kind": "database", "cpus": 1, "read_ms": 5},
    }
    plain = solve(scenario(nodes, 50.0)).to_json()
    with_idle_host = solve(scenario(nodes, 50.0, hosts={"spare": {"cpus": 4}})).to_json()
    assert plain == with_idle_host


# ---------------------------------------------------------------- time outside the stations


def test_network_ms_adds_to_every_latency_statistic_in_both_solvers():
    nodes = {"web": {"kind": "service", "cpus": 1, "service_ms": 10}}
    base, net = scenario(nodes, 50.0), scenario(nodes, 50.0, network_ms=1.5)
    for method in ("analytic", "sim"):
        a, b = evaluate(base, method, seed=1, requests=5_000), evaluate(net, method, seed=1, requests=5_000)
        for key in ("mean", "p50", "p95", "p99"):
            assert getattr(b.latency_ms, key) == pytest.approx(getattr(a.latency_ms, key) + 1.5, rel=1e-9)
        assert b.nodes == a.nodes


# ---------------------------------------------------------------- slots and a shared host together


def stack(rate_rps: float):
    """The shape of issue 11's real stack: 2 blocking workers, cache-aside with 75% hits, a database
    on a miss and for a 10% write, all three on one core, 1.3 ms outside the stations."""
    nodes = {
        "web": {
            "kind": "service",
            "host": "box",
            "concurrency": 2,
            "service_ms": 3,
            "service_cv": 0.6,
            "calls": [{"to": "cache"}, {"to": "db", "visits": 0.1, "op": "write"}],
        },
        "cache": {"kind": "cache", "host": "box", "hit_ratio": 0.75, "hit_ms": 0.3, "miss": "db"},
        "db": {"kind": "database", "host": "box", "read_ms": 2.5, "write_ms": 0.5},
    }
    return scenario(nodes, rate_rps, hosts={"box": {"cpus": 1}}, network_ms=1.3)


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8, 0.9])
def test_workers_on_a_shared_core_are_not_declared_saturated_and_track_the_simulator(share):
    # 3.975 ms of work per request on one core: capacity 251.6 req/s. The analytic solver once
    # called this saturated from 74% of capacity (CPU queueing counted twice). Measured (seed 1,
    # 60k requests): analytic mean -6% to -11%, p99 -3% to -10% from the simulator at 20-90%.
    sc = stack(251.6 * share)
    ana, sim = solve(sc), simulate(sc, seed=1, requests=60_000)
    assert ana.saturated == sim.saturated == []
    assert ana.latency_ms.mean == pytest.approx(sim.latency_ms.mean, rel=0.15)
    assert ana.latency_ms.p99 == pytest.approx(sim.latency_ms.p99, rel=0.15)


def exact_two_station_window_mean_ms(rate_rps: float, slots: int, cpu_ms: float, db_ms: float) -> float:
    """Open Poisson arrivals into K slots held over a one-core CPU and a one-core database (exponential,
    demands per request `cpu_ms` and `db_ms`): Norton's flow-equivalent server is exact here.
    X(n) = G(n-1)/G(n), G(n) = sum_j cpu^j db^(n-j); a birth-death chain with death rate X(min(n, K))."""
    g = [sum(cpu_ms**j * db_ms ** (n - j) for j in range(n + 1)) for n in range(slots + 1)]
    x = [0.0] + [g[n - 1] / g[n] for n in range(1, slots + 1)]  # per ms
    lam = rate_rps / 1000
    p = [1.0]
    for n in range(1, slots + 1):
        p.append(p[-1] * lam / x[n])
    r = lam / x[slots]
    total = sum(p[:slots]) + p[slots] / (1 - r)
    mean_n = (sum(n * p[n] for n in range(slots)) + p[slots] * (slots / (1 - r) + r / (1 - r) ** 2)) / total
    return mean_n / lam  # Little: E[N] / lambda, in ms


@pytest.mark.parametrize(
    "rate, visits, above", [(265.9, 0.35, 0.03), (150.0, 0.25, 0.03), (190.0, 0.8, 0.12)]
)
def test_slots_held_through_a_partly_visited_database_are_exact(rate, visits, above):
    # A callee visited `visits` times per request: its load is rate x visits x service, once. (The
    # solver once counted the visits twice, in the rate and in the demand, and took most of the
    # database's load for other callers' work: on the testbed's scenario the mean came out 54% high.)
    # The analytic mean adds the database's open-queue wait to the slot's holding time where the
    # window caps it, so it sits above the exact value, by more the busier the database: measured +1.6%
    # with the database 36% busy (the testbed's case), +10.4% at 58%; held within 3% and 12%. Visits below one are a
    # Bernoulli visit (probabilistic routing, product form); a fixed count of several is not.
    nodes = {
        "web": {
            "kind": "service",
            "cpus": 1,
            "concurrency": 2,
            "service_ms": 2.5,
            "blocking_calls": True,
            "calls": [{"to": "db", "visits": visits}],
        },
        "db": {"kind": "database", "cpus": 1, "read_ms": 3.84},
    }
    sc = scenario(nodes, rate)
    db_ms = visits * 3.84
    truth = exact_two_station_window_mean_ms(rate, 2, 2.5, db_ms)
    ana = solve(sc)
    assert truth * 0.999 <= ana.latency_ms.mean <= truth * (1 + above)
    sim = simulate(sc, seed=2, requests=100_000)
    assert_in_ci(sim, "mean", truth, slack=0.02)
