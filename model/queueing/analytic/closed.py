"""The analytic answer for a closed workload (`workload.users`): MVA's means, and their distribution.

Throughput, mean response time, utilization and waits per node are MVA's (exact where the network
is product-form: model.queueing.closed_network says where it is not). For percentiles each pool's
wait is given the shape of what an arriving request finds there (model.queueing.closed_waits: the
arrival theorem's queue-length distribution, a chance of waiting and a gamma of MVA's mean), and
the open solver's composition of visits, calls, caches and repeats (model.queueing.analytic.solver)
turns them into the end-to-end distribution, visits taken as independent as it takes them. Above
EXACT_USERS users that shape is not computed, and the percentiles are the open network's at its
*equivalent rate* (the Poisson rate at which its mean response is MVA's): close where think time
dominates, wider than the truth past the knee. The simulator measures them.
"""

from __future__ import annotations

import dataclasses
import math

from model.queueing.analytic.delay_grid import ZERO, Delay, Gamma, Mixture, Sum, service_delay
from model.queueing.analytic.solver import Analysis, _Pool, _Solver, analyse
from model.queueing.closed_network import ClosedSolution, closed_stats, saturated_pools, solve_closed
from model.queueing.closed_waits import WaitShape, closed_waits
from model.queueing.offered_load import offered_load
from model.queueing.results import Latency, NodeStats, Results, bottleneck, check_slo
from model.queueing.topology import (
    DatabaseStation,
    KafkaStation,
    ServiceStation,
    build_stations,
    reported_utilization,
    total_servers,
)
from model.scenario.graph import arrival_rates
from model.scenario.schema import Scenario

BISECTIONS = 40


def equivalent_rate(scenario: Scenario, x_rps: float, response_ms: float) -> float:
    """The open rate (at most the throughput x) whose mean response is `response_ms`."""

    def mean_ms(rate: float) -> float:
        solver = _Solver(scenario, rate)
        return solver.response(scenario.entry).mean_ms + scenario.workload.network_ms

    if not math.isfinite(response_ms) or x_rps <= 0:
        return x_rps
    if mean_ms(x_rps) <= response_ms:
        return x_rps
    lo, hi = 0.0, x_rps
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mean_ms(max(mid, x_rps * 1e-9)) < response_ms:
            lo = mid
        else:
            hi = mid
    return max(lo, x_rps * 1e-9)


def _wait_delay(shape: WaitShape | None) -> Delay:
    if shape is None or shape.prob <= 0 or shape.mean_s <= 0:
        return ZERO
    wait = Gamma(1000.0 * shape.mean_s, shape.scv)
    return wait if shape.prob >= 1.0 else Mixture([(1.0 - shape.prob, ZERO), (shape.prob, wait)])


class _ClosedShape(_Solver):
    """The open solver's composition at throughput x, each pool's wait replaced by the closed one;
    worker slots are in the waits already (the entry's) or not modelled (others')."""

    def __init__(self, scenario: Scenario, x_rps: float, waits):
        super().__init__(scenario, x_rps)
        self.saturated = set()
        self.slot_wait = _wait_delay(waits.slots)
        for name, station in self.stations.items():
            if isinstance(station, KafkaStation):
                continue
            names = station.pools if isinstance(station, DatabaseStation) else [station.pool]
            self.pools[name] = [
                _Pool(p.servers, p.load, _wait_delay(waits.pools.get(pool)))
                for p, pool in zip(self.pools[name], names)
            ]

    def _response(self, station, op: str) -> Delay:
        if isinstance(station, ServiceStation) and station.slots is not None:
            own = Sum([self.pools[station.name][0].wait, service_delay(station.service)])
            base: Delay = Sum([own] + self._calls(station))
        else:
            base = super()._response(station, op)
        if getattr(station, "name", None) == self.scenario.entry:
            return Sum([self.slot_wait, base])
        return base


def _shape(scenario: Scenario, sol: ClosedSolution, n: int, x: float, response_ms: float):
    """(Results whose percentiles are the closed network's, node responses, how they were found)."""
    waits = closed_waits(sol, n)
    if waits is not None:
        solver = _ClosedShape(scenario, x, waits)
        r = solver.results()
        responses = {name: solver.response(name).mean_ms for name in scenario.nodes}
        return r, responses, "percentiles from the waits arriving requests find (arrival theorem)"
    rate = equivalent_rate(scenario, x, response_ms)
    shape = analyse(scenario, rate)
    how = f"percentiles of the open network at the rate with the same mean ({rate:,.2f} req/s, approximate)"
    return shape.results, shape.node_response_ms, how


def analyse_closed(
    scenario: Scenario, users: int | None = None, solution: ClosedSolution | None = None
) -> Analysis:
    """The closed workload at `users` (default workload.users) as an Analysis (Results and detail)."""
    sol = solution if solution is not None else solve_closed(scenario, users)
    n = int(users if users is not None else sol.network.users)
    x = sol.throughput_rps(n)
    response_ms = sol.response_ms(n)
    r, responses, how = _shape(scenario, sol, n, x, response_ms)
    if r.error_pct > 0 or not math.isfinite(r.latency_ms.mean):
        latency = r.latency_ms
    else:  # MVA's mean; the percentiles of the distribution built around it
        latency = Latency(response_ms, r.latency_ms.p50, r.latency_ms.p95, r.latency_ms.p99)
    saturated = saturated_pools(sol, n)
    nodes = _node_stats(scenario, sol, n, x, r.nodes)
    notes = [
        f"closed workload: {n:,} users; throughput, mean latency and waits by MVA ({sol.curve.method}); {how}"
    ]
    notes += sol.network.notes + [note for note in r.notes if note not in notes]
    results = Results(
        scenario=scenario.name,
        method="analytic",
        rate_rps=x,
        latency_ms=latency,
        throughput_rps=x * (1.0 - r.error_pct / 100.0),
        error_pct=r.error_pct,
        nodes=nodes,
        kafka=r.kafka,
        slo=check_slo(scenario.slo, latency, r.error_pct, saturated),
        saturated=saturated,
        notes=notes,
        closed=closed_stats(sol, n),
    )
    return Analysis(results, responses, bottleneck(results))


def solve_closed_results(scenario: Scenario, users: int | None = None) -> Results:
    return analyse_closed(scenario, users).results


def _node_stats(
    scenario: Scenario, sol: ClosedSolution, users: int, x_rps: float, open_nodes: dict[str, NodeStats]
) -> dict[str, NodeStats]:
    """Per node at throughput x: arrivals and utilization by the utilization law (exact given x),
    waits from MVA's residence times; Kafka consumers (off the users' path) from the open solver."""
    stations = build_stations(scenario)
    rates = arrival_rates(scenario, x_rps)
    loads = offered_load(scenario, stations, x_rps)
    residence = sol.pool_residence_s(users)
    wait_s = {
        p.pool: max(res - p.demand_s, 0.0) / p.visits if p.visits > 0 else 0.0
        for p, res in zip(sol.network.pools, residence)
    }
    visits_at = {p.pool: p.visits for p in sol.network.pools}
    out: dict[str, NodeStats] = {}
    for name, st in stations.items():
        if isinstance(st, KafkaStation):
            out[name] = dataclasses.replace(open_nodes[name], arrival_rps=rates[name].visits)
            continue
        mine = [p for p in loads if p.node == name]
        busy = min(sum(p.offered for p in mine) / total_servers(st), 1.0)
        weights = [(visits_at.get(p.pool, 0.0), wait_s.get(p.pool, 0.0)) for p in mine]
        total = sum(w for w, _ in weights)
        wait_ms = 1000.0 * sum(w * v for w, v in weights) / total if total > 0 else 0.0
        out[name] = NodeStats(
            rates[name].visits, reported_utilization(st, busy), total_servers(st), wait_ms, st.host
        )
    return out
