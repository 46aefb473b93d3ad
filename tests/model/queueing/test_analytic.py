"""The analytic solver over whole scenarios, against theory computed independently here.

Exact cases (M/M/1, M/M/c, M/G/1 means, Jackson tandems, M/M/1/K partitions) are checked
to tight tolerances; composed cases (cache misses, replicas) against the textbook per-pool
formulas, and their percentiles against a seeded Monte Carlo of the same independent visits.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from model.queueing.analytic.closed import analyse_closed
from model.queueing.analytic.solver import analyse, bottleneck, solve
from model.scenario.reader import load_scenario, scenario_from_data
from model.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[3]
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def scenario(nodes: dict, rate_rps: float, entry: str = "web", **extra) -> Scenario:
    return scenario_from_data(
        {
            "version": 1,
            "name": "test",
            "workload": {"rate_rps": rate_rps, **extra},
            "entry": entry,
            "nodes": nodes,
        }
    )


def service(service_ms: float, servers: int = 1, cv: float = 1.0, calls: list | None = None, **extra) -> dict:
    return {
        "kind": "service",
        "replicas": servers,
        "cpus": 1,
        "service_ms": service_ms,
        "service_cv": cv,
        "calls": calls or [],
        **extra,
    }


def erlang_c(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_wait_ms(c: int, arrival_rps: float, service_ms: float) -> float:
    a = arrival_rps * service_ms / 1000
    return erlang_c(c, a) * service_ms / (c - a)


def sample_mmc_response(rng, n: int, c: int, arrival_rps: float, service_ms: float) -> np.ndarray:
    """Independent draws of one M/M/c visit: wait with prob C for Exp(1 / (c mu - lambda)), then service."""
    a = arrival_rps * service_ms / 1000
    waits = rng.random(n) < erlang_c(c, a)
    return waits * rng.exponential(service_ms / (c - a), n) + rng.exponential(service_ms, n)


# ---------------------------------------------------------------- single pools


def test_mm1_mean_percentiles_and_node_stats():
    results = solve(scenario({"web": service(10.0)}, 80.0))
    theta = 50.0  # 1 / (mu - lambda) with mu 100/s, lambda 80/s
    assert results.method == "analytic" and results.latency_ci95_ms is None and results.cost is None
    assert results.latency_ms.mean == pytest.approx(theta, rel=1e-9)
    for key, q in QUANTILES.items():
        assert getattr(results.latency_ms, key) == pytest.approx(-math.log(1 - q) * theta, rel=1e-3)
    web = results.nodes["web"]
    assert (web.arrival_rps, web.servers) == (80.0, 1)
    assert web.utilization == pytest.approx(0.8) and web.mean_wait_ms == pytest.approx(40.0, rel=1e-9)
    assert results.throughput_rps == 80.0 and results.error_pct == 0.0 and results.saturated == []


def test_mmc_mean_and_p99():
    results = solve(scenario({"web": service(10.0, servers=3)}, 250.0))
    wait_ms = mmc_wait_ms(3, 250, 10)
    assert results.nodes["web"].mean_wait_ms == pytest.approx(wait_ms, rel=1e-9)
    assert results.latency_ms.mean == pytest.approx(wait_ms + 10, rel=1e-9)
    c_wait, alpha, mu = erlang_c(3, 2.5), 0.05, 0.1  # per ms: c mu - lambda, mu
    cdf = lambda t: (
        (1 - c_wait) * (1 - math.exp(-mu * t))
        + c_wait * (1 - (mu * math.exp(-alpha * t) - alpha * math.exp(-mu * t)) / (mu - alpha))
    )
    p99 = optimize.brentq(lambda t: cdf(t) - 0.99, 0, 2000)
    assert results.latency_ms.p99 == pytest.approx(p99, rel=1e-3)


@pytest.mark.parametrize("cv", [0.0, 2.0])
def test_mg1_mean_is_pollaczek_khinchine(cv):
    results = solve(scenario({"web": service(10.0, cv=cv)}, 70.0))
    second_moment = 100.0 * (1 + cv * cv)  # E[S^2] in ms^2
    wait_ms = 0.070 * second_moment / (2 * (1 - 0.7))  # lambda per ms
    assert results.nodes["web"].mean_wait_ms == pytest.approx(wait_ms, rel=1e-9)
    assert results.latency_ms.mean == pytest.approx(10.0 + wait_ms, rel=1e-9)
    assert any("web" in note and "M/G/1" in note for note in results.notes)


def test_an_idle_fixed_service_takes_exactly_its_time():
    results = solve(
        scenario({"web": service(10.0, cv=0.0, calls=[{"to": "api"}]), "api": service(5.0, cv=0.0)}, 1e-3)
    )
    assert results.latency_ms.mean == pytest.approx(15.0, rel=1e-4)
    for key in QUANTILES:  # an atom is smeared over its neighbouring grid points: within a step or two
        assert getattr(results.latency_ms, key) == pytest.approx(15.0, rel=5e-3)


def test_cpu_limit_below_one_core_slows_the_service():
    results = solve(scenario({"web": {**service(10.0), "cpus": 0.5}}, 40.0))
    # one core at half speed: mean service 20 ms, rho 0.8 -> response 20 / 0.2 = 100 ms
    assert results.latency_ms.mean == pytest.approx(100.0, rel=1e-9)


def test_background_cpu_slows_requests_and_shows_in_utilization():
    results = solve(scenario({"web": service(10.0, servers=2, background_cpu_pct=20)}, 80.0))
    # requests get 80% of each core: M/M/2 with 12.5 ms; CPU shown = 20% + 80% x 50% = 60%
    assert results.latency_ms.mean == pytest.approx(12.5 + mmc_wait_ms(2, 80.0, 12.5), rel=1e-9)
    assert results.nodes["web"].utilization == pytest.approx(0.60, rel=1e-9)
    assert solve(scenario({"web": service(10.0, servers=2, background_cpu_pct=20)}, 160.0)).saturated == [
        "web"
    ]


# ---------------------------------------------------------------- networks


def test_jackson_tandem_of_mmc_mean_is_exact():
    nodes = {"web": service(8.0, servers=2, calls=[{"to": "api"}]), "api": service(3.0, servers=1)}
    results = solve(scenario(nodes, 200.0))
    expected = mmc_wait_ms(2, 200, 8) + 8 + 3 / (1 - 0.6)
    assert results.latency_ms.mean == pytest.approx(expected, rel=1e-9)


def test_mm1_tandem_percentiles_are_hypoexponential():
    nodes = {"web": service(5.0, calls=[{"to": "api"}]), "api": service(2.0)}
    results = solve(scenario(nodes, 100.0))
    a, b = 1 / 10.0, 1 / 2.5  # per ms: mu - lambda at each node
    cdf = lambda t: 1 - (b * math.exp(-a * t) - a * math.exp(-b * t)) / (b - a)
    assert results.latency_ms.mean == pytest.approx(12.5, rel=1e-9)
    for key, q in QUANTILES.items():
        assert getattr(results.latency_ms, key) == pytest.approx(
            optimize.brentq(lambda t: cdf(t) - q, 0, 1e4), rel=1e-3
        )


def test_fractional_visits_are_floor_plus_a_bernoulli_call():
    nodes = {"web": service(5.0, calls=[{"to": "api", "visits": 1.5}]), "api": service(2.0)}
    results = solve(scenario(nodes, 100.0))
    assert results.nodes["api"].arrival_rps == pytest.approx(150.0)
    api_ms = 2.0 / (1 - 0.3)
    assert results.latency_ms.mean == pytest.approx(10.0 + 1.5 * api_ms, rel=1e-9)

    def cdf(t):  # web Exp(10) plus one Exp(api) or Erlang(2, api), equally likely, convolved numerically
        grid = np.linspace(0, t, 4001)
        web_density = stats.expon.pdf(grid, scale=10)
        after = 0.5 * stats.expon.cdf(t - grid, scale=api_ms) + 0.5 * stats.gamma.cdf(
            t - grid, 2, scale=api_ms
        )
        return float(np.trapezoid(web_density * after, grid))

    for key, q in QUANTILES.items():
        assert getattr(results.latency_ms, key) == pytest.approx(
            optimize.brentq(lambda t: cdf(t) - q, 0, 1e3), rel=2e-3
        )


def test_async_calls_add_load_but_not_latency_and_produce_waits_count():
    nodes = {
        "web": service(
            5.0, calls=[{"to": "mail", "mode": "async"}, {"to": "topic", "visits": 2, "mode": "async"}]
        ),
        "mail": service(20.0, servers=4),
        "topic": {"kind": "kafka", "partitions": 2, "consumers": 2, "produce_ms": 3, "consume_ms": 10},
    }
    results = solve(scenario(nodes, 100.0))
    assert results.nodes["mail"].arrival_rps == pytest.approx(100.0)
    assert results.nodes["topic"].arrival_rps == pytest.approx(200.0)
    assert results.latency_ms.mean == pytest.approx(10.0 + 2 * 3.0, rel=1e-9)  # M/M/1 web + two acks


def test_cache_misses_go_to_the_database_as_reads():
    nodes = {
        "web": service(5.0, servers=4, calls=[{"to": "cache"}]),
        "cache": {"kind": "cache", "nodes": 1, "cpus": 1, "hit_ratio": 0.8, "hit_ms": 1.0, "miss": "db"},
        "db": {"kind": "database", "read_replicas": 1, "cpus": 2, "read_ms": 10.0, "write_ms": 20.0},
    }
    results = solve(scenario(nodes, 300.0))
    web_ms = mmc_wait_ms(4, 300, 5) + 5
    cache_ms = 1.0 / (1 - 0.3)
    db_ms = mmc_wait_ms(2, 30, 10) + 10  # 60 reads/s over two instances of 2 cores
    assert results.nodes["db"].arrival_rps == pytest.approx(60.0)
    assert results.nodes["db"].utilization == pytest.approx(60 * 0.010 / 4)
    assert results.nodes["db"].mean_wait_ms == pytest.approx(mmc_wait_ms(2, 30, 10), rel=1e-9)
    assert results.latency_ms.mean == pytest.approx(web_ms + cache_ms + 0.2 * db_ms, rel=1e-9)
    rng = np.random.default_rng(7)
    n = 2_000_000
    total = (
        sample_mmc_response(rng, n, 4, 300, 5)
        + sample_mmc_response(rng, n, 1, 300, 1)
        + (rng.random(n) < 0.2) * sample_mmc_response(rng, n, 2, 30, 10)
    )
    for key, q in QUANTILES.items():
        assert getattr(results.latency_ms, key) == pytest.approx(np.quantile(total, q), rel=0.01)


def test_reads_spread_over_replicas_and_writes_hit_the_primary():
    nodes = {
        "web": service(2.0, servers=8, calls=[{"to": "db"}, {"to": "db", "visits": 0.5, "op": "write"}]),
        "db": {"kind": "database", "read_replicas": 2, "cpus": 1, "read_ms": 10.0, "write_ms": 6.0},
    }
    results = solve(scenario(nodes, 60.0))
    # primary: 20 reads/s + 30 writes/s on one core -> M/G/1, exact by Pollaczek-Khinchine
    second = (20 * 2 * 10.0**2 + 30 * 2 * 6.0**2) / 50  # E[S^2], ms^2
    rho = (20 * 10.0 + 30 * 6.0) / 1000
    primary_wait = 0.050 * second / (2 * (1 - rho))
    replica_wait = 0.2 * 10 / (1 - 0.2)
    read_ms = (primary_wait + 10 + 2 * (replica_wait + 10)) / 3
    write_ms = primary_wait + 6
    web_ms = mmc_wait_ms(8, 60, 2) + 2
    assert results.latency_ms.mean == pytest.approx(web_ms + read_ms + 0.5 * write_ms, rel=1e-9)
    db = results.nodes["db"]
    assert db.servers == 3 and db.arrival_rps == pytest.approx(90.0)
    assert db.utilization == pytest.approx((rho + 0.2 + 0.2) / 3)
    assert db.mean_wait_ms == pytest.approx((50 * primary_wait + 40 * replica_wait) / 90, rel=1e-9)


# ---------------------------------------------------------------- Kafka


def mm1k_exact(lam: float, mu: float, k: int):
    """Blocking and the accepted sojourn CDF from the balance equations, pi_n ~ rho^n."""
    n = np.arange(k + 1)
    pi = (lam / mu) ** n
    pi = pi / pi.sum()
    found = pi[:-1] / pi[:-1].sum()
    cdf = lambda t_ms: float(np.dot(found, stats.gamma.cdf(t_ms / 1000, n[:-1] + 1, scale=1 / mu)))
    return float(pi[-1]), cdf


def topic(partitions: int, consumers: int, backlog: int) -> dict:
    return {
        "kind": "kafka",
        "partitions": partitions,
        "consumers": consumers,
        "produce_ms": 2,
        "consume_ms": 20,
        "max_backlog": backlog,
    }


def test_one_partition_per_consumer_is_exactly_mm1k():
    nodes = {"web": service(1.0, calls=[{"to": "topic", "mode": "async"}]), "topic": topic(4, 4, 10)}
    results = solve(scenario(nodes, 160.0))  # 40 msg/s a partition, consumers at 50/s
    blocking, cdf = mm1k_exact(40.0, 50.0, 10)
    stats_ = results.kafka["topic"]
    assert stats_.drop_pct == pytest.approx(100 * blocking, rel=1e-9)
    assert cdf(stats_.lag_p50_ms) == pytest.approx(0.5, abs=1e-6)
    assert cdf(stats_.lag_p99_ms) == pytest.approx(0.99, abs=1e-6)
    assert results.nodes["topic"].utilization == pytest.approx(0.8 * (1 - blocking))
    assert results.nodes["topic"].servers == 4
    assert results.saturated == []


def test_consumers_owning_several_partitions_with_room_behave_as_mm1():
    nodes = {"web": service(1.0, calls=[{"to": "topic", "mode": "async"}]), "topic": topic(6, 2, 1000)}
    results = solve(scenario(nodes, 90.0))  # each consumer: 3 partitions, 45 msg/s, mu 50/s
    lag_p99 = math.log(100) / (50.0 - 45.0) * 1000  # M/M/1 sojourn: exponential with rate mu - lambda
    assert results.kafka["topic"].drop_pct == pytest.approx(0.0, abs=1e-9)
    assert results.kafka["topic"].lag_p99_ms == pytest.approx(lag_p99, rel=1e-4)
    assert any("topic" in note and "birth-death" in note for note in results.notes)


def test_a_consumer_owning_partitions_drops_more_than_one_pooled_queue():
    # Per-partition limits bind before the consumer's total does: fewer messages fit than n*K.
    nodes = {"web": service(1.0, calls=[{"to": "topic", "mode": "async"}]), "topic": topic(6, 2, 5)}
    results = solve(scenario(nodes, 90.0))
    pooled, _ = mm1k_exact(45.0, 50.0, 15)
    single, _ = mm1k_exact(15.0, 50.0 / 3, 5)
    assert 100 * pooled < results.kafka["topic"].drop_pct < 100 * single


def test_idle_consumers_beyond_the_partition_count():
    nodes = {"web": service(1.0, calls=[{"to": "topic", "mode": "async"}]), "topic": topic(3, 5, 100)}
    results = solve(scenario(nodes, 60.0))
    assert results.nodes["topic"].servers == 3
    assert results.nodes["topic"].utilization == pytest.approx(60 / 3 / 50, rel=1e-6)


def test_saturated_consumers_drop_with_a_finite_lag():
    nodes = {"web": service(1.0, calls=[{"to": "topic", "mode": "async"}]), "topic": topic(2, 2, 50)}
    results = solve(scenario(nodes, 120.0))  # 60 msg/s a partition > 50/s
    blocking, cdf = mm1k_exact(60.0, 50.0, 50)
    assert results.saturated == ["topic"]
    assert results.kafka["topic"].drop_pct == pytest.approx(100 * blocking, rel=1e-9) and blocking > 0.1
    assert math.isfinite(results.kafka["topic"].lag_p99_ms)
    assert cdf(results.kafka["topic"].lag_p50_ms) == pytest.approx(0.5, abs=1e-6)
    assert math.isfinite(results.latency_ms.p99)  # the producer only waits for its ack


# ---------------------------------------------------------------- saturation, slots, timeouts


def test_saturated_entry_reports_infinite_latency():
    results = solve(scenario({"web": service(10.0, servers=2)}, 200.0))
    assert results.saturated == ["web"]
    assert results.latency_ms.p99 == math.inf and results.latency_ms.mean == math.inf
    assert results.nodes["web"].utilization == 1.0


def test_a_database_saturated_by_cache_misses():
    nodes = {
        "web": service(1.0, servers=4, calls=[{"to": "cache"}]),
        "cache": {"kind": "cache", "nodes": 1, "cpus": 1, "hit_ratio": 0.2, "hit_ms": 1.0, "miss": "db"},
        "db": {"kind": "database", "cpus": 2, "read_ms": 10.0},
    }
    assert solve(scenario(nodes, 100.0)).saturated == []  # 80 reads/s: 0.8 of 2 cores
    results = solve(scenario(nodes, 100.0), rate_rps=300.0)  # 240 reads/s: 2.4 erlangs
    assert results.rate_rps == 300.0
    assert results.saturated == ["db"] and results.latency_ms.p50 == math.inf
    assert results.nodes["db"].mean_wait_ms == math.inf and results.nodes["db"].utilization == 1.0


def test_deterministic_arrivals_shorten_the_entry_wait():
    poisson = solve(scenario({"web": service(10.0)}, 80.0))
    regular = solve(scenario({"web": service(10.0)}, 80.0, arrivals="deterministic"))
    # Allen-Cunneen with ca^2 = 0 halves the M/M/1 wait
    assert regular.nodes["web"].mean_wait_ms == pytest.approx(poisson.nodes["web"].mean_wait_ms / 2, rel=1e-9)
    assert any("deterministic" in note for note in regular.notes)


def test_saturated_node_off_the_sync_path_leaves_latency_finite():
    nodes = {"web": service(5.0, calls=[{"to": "mail", "mode": "async"}]), "mail": service(50.0)}
    results = solve(scenario(nodes, 100.0))
    assert results.saturated == ["mail"]
    assert results.latency_ms.mean == pytest.approx(10.0, rel=1e-9)


def test_concurrency_slots_held_during_sync_calls():
    db = {"kind": "database", "cpus": 1, "read_ms": 5.0}

    def web(
        concurrency: int, blocking_calls: bool = True
    ) -> dict:  # one replica: 4 cores, `concurrency` slots
        return {
            "web": {
                **service(10.0, calls=[{"to": "db"}]),
                "cpus": 4,
                "concurrency": concurrency,
                "blocking_calls": blocking_calls,
            },
            "db": db,
        }

    # 3 slots held through a database call: no closed form (the slots bound the database's queue);
    # held to the simulator in tests/model/queueing/test_hosts_and_slots.py.
    blocking = solve(scenario(web(3), 100.0))
    assert blocking.saturated == [] and blocking.nodes["web"].mean_wait_ms > 0
    assert any(
        "web: 3 worker slot(s) and its cores and sync calls solved together" in note
        for note in blocking.notes
    )
    # Slots given back after the node's own work: an M/M/3 of the 10 ms of work, then the database
    # (a Jackson tandem: exact).
    released = solve(scenario(web(3, blocking_calls=False), 100.0))
    assert released.latency_ms.mean == pytest.approx(mmc_wait_ms(3, 100, 10) + 10 + 10, rel=1e-6)
    starved = solve(scenario(web(1), 100.0))  # about 2 erlangs of holding time on one slot
    assert starved.saturated == ["web"]


def test_entry_timeout_counts_errors_and_latency_covers_completed_requests():
    results = solve(scenario({"web": service(10.0, timeout_ms=100.0)}, 80.0))  # M/M/1, mean 50 ms
    late = math.exp(-2.0)
    assert results.error_pct == pytest.approx(100 * late, rel=2e-3)
    assert results.throughput_rps == pytest.approx(80.0 * (1 - late), rel=2e-3)
    expected_p50 = -50.0 * math.log(1 - 0.5 * (1 - late))  # median of Exp(50) given <= 100 ms
    assert results.latency_ms.p50 == pytest.approx(expected_p50, rel=2e-3)
    assert results.latency_ms.mean == pytest.approx(50 - 100 * late / (1 - late), rel=2e-3)


def test_slo_check_uses_the_analytic_percentiles():
    data = {
        "version": 1,
        "name": "t",
        "workload": {"rate_rps": 80.0},
        "entry": "web",
        "nodes": {"web": service(10.0)},
        "slo": {"p99_ms": 200.0, "p50_ms": 100.0},
    }
    results = solve(scenario_from_data(data))
    assert not results.slo.met and results.slo.violations[0].startswith("p99")  # p99 is 230 ms


# ---------------------------------------------------------------- the worked scenarios

EXAMPLES = sorted(p for p in (ROOT / "scenarios").glob("*.yaml") if not p.name.startswith("fit"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_scenario_solves(path):
    sc = load_scenario(path)
    analysis = analyse_closed(sc) if sc.workload.closed else analyse(sc)  # users: mean-value analysis
    results = analysis.results
    assert results.method == "analytic" and set(results.nodes) == set(sc.nodes)
    assert 0 < results.latency_ms.p50 <= results.latency_ms.p95 <= results.latency_ms.p99 < math.inf
    assert results.to_json()["method"] == "analytic"
    assert analysis.bottleneck in sc.nodes and set(analysis.node_response_ms) == set(sc.nodes)


def test_three_tier_database_is_the_bottleneck_and_saturates_first():
    path = ROOT / "scenarios" / "three-tier.yaml"
    assert bottleneck(solve(load_scenario(path))) == "db"
    assert solve(load_scenario(path), rate_rps=120 * 1.4).saturated == ["db"]


def test_kafka_consumers_fall_behind_at_150_percent_of_peak():
    sc = load_scenario(ROOT / "scenarios" / "kafka-consumers.yaml")
    assert solve(sc).saturated == []
    results = solve(sc, rate_rps=sc.workload.rate_rps * 1.5)
    assert results.saturated == ["events"] and results.kafka["events"].drop_pct > 0


def test_the_open_solver_refuses_a_closed_workload_without_a_rate():
    """Users have no rate of their own: the open network needs one, or mean-value analysis solves them."""
    sc = load_scenario(ROOT / "scenarios" / "checkout-users.yaml")
    with pytest.raises(ValueError, match="closed workload"):
        analyse(sc)
    assert analyse(sc, rate_rps=50.0).results.rate_rps == 50.0
