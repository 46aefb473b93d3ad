"""The analytic solver (`simulate --method analytic`): queueing theory composed over the graph.

Each pool (a service's cores, a cache, each database instance, each Kafka consumer) is
solved alone from its Poisson arrival rate: M/M/c exactly, M/G/c by Allen-Cunneen (exact
Pollaczek-Khinchine mean for one server), a partition as M/M/1/K. A request's latency is
the sum of its visits, taken as independent (exact for Jackson tandems of M/M/c, by
Reich's theorem), so means are exact there and percentiles come from the convolved
distribution (model.queueing.analytic.delay_grid). Fast enough for the app's sliders; the simulator confirms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.queueing.analytic.delay_grid import (
    INFINITE,
    ZERO,
    Delay,
    GridDistribution,
    Mixture,
    Repeat,
    Sum,
    distribution_of,
    queue_wait,
    service_delay,
)
from model.queueing.distributions import ServiceTime
from model.scenario.graph import NodeVisits, arrival_rates, sync_produces
from model.queueing.analytic.host_waits import Visit, back_to_back, shared_waits
from model.queueing.analytic.formulas import consumer_queue, erlang_c, erlangs, mixture_quantile, pool_wait
from model.queueing.results import KafkaStats, Latency, NodeStats, Results, bottleneck, check_slo
from model.scenario.schema import Scenario, post_order
from model.queueing.analytic.slotted import slotted_response
from model.queueing.topology import (
    CacheStation,
    DatabaseStation,
    Demand,
    reported_utilization,
    KafkaStation,
    ServiceStation,
    Station,
    build_stations,
    total_servers,
)


@dataclass(frozen=True)
class Analysis:
    """The Results, plus per-node detail the app shows next to them."""

    results: Results
    node_response_ms: dict[str, float]  # mean response of one visit, its sync calls included
    bottleneck: str  # model.queueing.results.bottleneck: first saturated, else the busiest
    attempt_latency: GridDistribution | None = None  # one attempt's latency at the entry (network excluded)


def solve(scenario: Scenario, rate_rps: float | None = None) -> Results:
    """The scenario's results by queueing theory (method "analytic")."""
    return analyse(scenario, rate_rps).results


def analyse(scenario: Scenario, rate_rps: float | None = None) -> Analysis:
    """The open network at `rate_rps` (default workload.rate_rps). A closed workload (users, no rate)
    is model.queueing.analytic.closed's, built on this module; model.queueing.evaluate picks it."""
    if rate_rps is None and scenario.workload.closed:
        raise ValueError(
            "a closed workload (users) has no rate: solve it with model.queueing.analytic.closed "
            "(model.queueing.evaluate does), or pass the rate to solve the open network at"
        )
    rate = scenario.workload.rate_rps if rate_rps is None else rate_rps
    # Client retries: the offered attempts as a fixed point (model/queueing/analytic/retries.py).
    if scenario.workload.retries is not None:
        from model.queueing.analytic.retries import with_retries

        return with_retries(scenario, rate, _analyse_attempts)
    return _analyse_attempts(scenario, rate)


def _analyse_attempts(scenario: Scenario, rate: float) -> Analysis:
    """The scenario offered `rate` attempts a second at its entry (requests, when nothing retries)."""
    solver = _Solver(scenario, rate)
    results = solver.results()
    responses = {name: solver.response(name).mean_ms for name in scenario.nodes}
    return Analysis(results, responses, bottleneck(results), solver.entry_distribution)


@dataclass(frozen=True)
class _Pool:
    """One FIFO pool solved on its own."""

    servers: int
    load: float  # offered load, erlangs
    wait: Delay  # queueing delay of one visit


def _solve_pool(servers: int, arrival_rps: float, service: ServiceTime, arrival_scv: float = 1.0) -> _Pool:
    load = erlangs(arrival_rps, service.mean_ms)
    wait = INFINITE if load >= servers else pool_wait(servers, arrival_rps, service, arrival_scv)
    return _Pool(servers, load, wait)


@dataclass(frozen=True)
class _KafkaSolution:
    stats: KafkaStats
    utilization: float
    mean_wait_ms: float
    saturated: bool


class _Solver:
    """One evaluation: pools first (they need only arrival rates), then responses, recursively."""

    def __init__(self, scenario: Scenario, rate_rps: float, verdict_only: bool = False):
        self.scenario, self.rate_rps = scenario, rate_rps
        self.verdict_only = verdict_only  # model.queueing.analytic.verdict: no lag percentiles, nor
        # a saturated consumer group's drops (the SLO is missed either way)
        self.stations = build_stations(scenario)
        self.rates: dict[str, NodeVisits] = arrival_rates(scenario, rate_rps)
        self.notes: list[str] = []
        self.saturated: set[str] = set()
        self.pools: dict[str, list[_Pool]] = {}
        self.slot_waits: dict[str, Delay] = {}
        self.cpu_waits: dict[
            str, Delay
        ] = {}  # a slotted node's wait for a core, from model.queueing.analytic.slots
        self.kafka: dict[str, _KafkaSolution] = {}
        self.memo: dict[tuple[str, str], Delay] = {}
        self.entry_distribution: GridDistribution | None = None  # set by results()
        arrival_scv = self._arrival_scv()
        demands = {
            name: station.demands(self.rates[name])
            for name, station in self.stations.items()
            if not isinstance(station, KafkaStation)
        }
        solved = self._solve_shared(demands)
        for name, station in self.stations.items():
            scv = arrival_scv if name == scenario.entry else 1.0
            if isinstance(station, KafkaStation):
                self.kafka[name] = self._solve_kafka(station, self.rates[name].visits)
                if self.kafka[name].saturated:
                    self.saturated.add(name)
                continue
            self.pools[name] = [
                solved[(name, d.pool)] if (name, d.pool) in solved else self._solve_pools(station, d, scv)
                for d in demands[name]
            ]
            if any(p.load >= p.servers for p in self.pools[name]):
                self.saturated.add(name)

    # ------------------------------------------------------------ pools

    def _arrival_scv(self) -> float:
        arrivals = self.scenario.workload.arrivals
        if arrivals == "deterministic":
            self.notes.append(
                f"{self.scenario.entry}: deterministic arrivals enter Allen-Cunneen's "
                "wait at the entry pool only; downstream arrivals are taken as Poisson"
            )
            return 0.0
        if arrivals == "trace":
            self.notes.append("arrivals: the trace is approximated as Poisson at workload.rate_rps")
        return 1.0

    def _solve_pools(self, station: Station, demand: Demand, arrival_scv: float) -> _Pool:
        """A pool only this node uses."""
        if isinstance(station, DatabaseStation):
            if demand.pool == station.pools[0]:
                rates = self.rates[station.name]
                mixed = rates.writes > 0 and rates.reads > 0 and station.read != station.write
                self._note_service(
                    station.name,
                    demand.service if mixed else station.read,
                    station.servers_per_instance,
                    " (primary: reads and writes mixed)" if mixed else "",
                )
            return _solve_pool(demand.servers, demand.arrival_rps, demand.service)
        self._note_service(station.name, station.service, station.servers)
        return _solve_pool(demand.servers, demand.arrival_rps, demand.service, arrival_scv)

    def _solve_shared(self, demands: dict[str, list[Demand]]) -> dict[tuple[str, str], _Pool]:
        """Pools several nodes use (a host's cores): one FIFO queue fed by all their visits, whose
        visits follow each other within a request (model.queueing.analytic.host_waits); each node its own wait."""
        by_pool: dict[str, list[Demand]] = {}
        for node_demands in demands.values():
            for d in node_demands:
                by_pool.setdefault(d.pool, []).append(d)
        solved: dict[tuple[str, str], _Pool] = {}
        pairs = None
        for pool, parts in by_pool.items():
            if len(parts) < 2:
                continue
            servers = parts[0].servers
            load = sum(d.offered for d in parts)
            if load >= servers:
                waits = {d.node: math.inf for d in parts}
            else:
                pairs = back_to_back(self.scenario) if pairs is None else pairs
                visits = [Visit(d.node, d.arrival_rps, d.service.mean_ms, d.service.scv) for d in parts]
                waits = shared_waits(visits, servers, pairs, self.rate_rps)
            prob_wait = erlang_c(servers, load)
            for d in parts:
                solved[(d.node, pool)] = _Pool(servers, load, queue_wait(prob_wait, waits[d.node]))
            self.notes.append(
                f"{pool.split('/', 1)[-1]}: one FIFO pool of {servers} core(s) shared by "
                f"{', '.join(d.node for d in parts)}; waits from the work each visit finds, visits "
                "that follow each other within a request included (model/queueing/analytic/host_waits.py)"
            )
        return solved

    def _note_service(self, name: str, service: ServiceTime, servers: int, what: str = "") -> None:
        if abs(service.cv - 1.0) < 1e-9:
            return
        if servers > 1:
            self.notes.append(f"{name}: M/G/c wait by Allen-Cunneen{what}, cv {service.cv:.2g}")
        else:
            self.notes.append(
                f"{name}: exact M/G/1 mean wait{what}; its distribution approximated as exponential"
            )

    def _solve_kafka(self, station: KafkaStation, message_rps: float) -> _KafkaSolution:
        """Consumers grouped by how many partitions they own; each group one consumer queue."""
        counts: dict[int, int] = {}
        for consumer in range(station.consumers):
            owned = len(station.partitions_of(consumer))
            if owned:
                counts[owned] = counts.get(owned, 0) + 1
        service_rps = 1000.0 / station.consume.mean_ms
        partition_rps = message_rps / station.partitions
        groups = [
            (count, owned, consumer_queue(owned, partition_rps, service_rps, station.max_backlog))
            for owned, count in sorted(counts.items())
        ]
        saturated = any(q.arrival_rps >= service_rps for _, _, q in groups)
        if self.verdict_only and saturated:
            return _KafkaSolution(KafkaStats(math.nan, math.nan, math.nan), 1.0, math.nan, True)
        if any(owned > 1 for _, owned, _ in groups):
            shared = max(owned for _, owned, _ in groups)
            self.notes.append(
                f"{station.name}: a consumer owning {shared} partitions: drops and lag from a "
                "birth-death chain with per-partition limits (approximate)"
            )
        drop = sum(count * owned / station.partitions * q.blocking_prob for count, owned, q in groups)
        accepted = [count * owned * (1.0 - q.blocking_prob) for count, owned, q in groups]
        total = sum(accepted)
        parts = [(a / total, q.cdf, q.mean_sojourn_ms) for a, (_, _, q) in zip(accepted, groups)]
        lag_mean_ms = sum(w * m for w, _, m in parts)
        busy = sum(count * q.arrival_rps * (1.0 - q.blocking_prob) / service_rps for count, _, q in groups)
        lags = (
            (math.nan, math.nan) if self.verdict_only else (mixture_quantile(parts, q) for q in (0.5, 0.99))
        )
        stats = KafkaStats(*lags, 100.0 * drop)
        return _KafkaSolution(
            stats, min(busy / station.active_consumers, 1.0), lag_mean_ms - station.consume.mean_ms, saturated
        )

    # ------------------------------------------------------------ responses

    def response(self, name: str, op: str = "read") -> Delay:
        """One visit's delay at `name`, its sync calls (and produce waits) included."""
        key = (name, op if isinstance(self.stations[name], DatabaseStation) else "read")
        if key not in self.memo:
            self.memo[key] = self._response(self.stations[name], key[1])
        return self.memo[key]

    def _response(self, station: Station, op: str) -> Delay:
        if isinstance(station, KafkaStation):
            return service_delay(station.produce)
        pools = self.pools[station.name]
        if isinstance(station, DatabaseStation):
            if op == "write":
                return Sum([pools[0].wait, service_delay(station.write)])
            read = service_delay(station.read)
            share = 1.0 / station.instances
            return Mixture([(share, Sum([p.wait, read])) for p in pools])
        own = Sum([pools[0].wait, service_delay(station.service)])
        if isinstance(station, CacheStation):
            if station.miss is None or station.hit_ratio >= 1:
                return own
            return Sum(
                [
                    own,
                    Mixture(
                        [(station.hit_ratio, ZERO), (1.0 - station.hit_ratio, self.response(station.miss))]
                    ),
                ]
            )
        if station.slots is None:
            return Sum([own] + self._calls(station))
        return slotted_response(self, station, pools[0], self._calls(station))

    def _waits_on(self, name: str) -> list[str]:
        """The nodes whose response `name`'s response includes, in the order `_response` asks for them."""
        station = self.stations[name]
        if isinstance(station, CacheStation):
            return [station.miss] if station.miss is not None and station.hit_ratio < 1 else []
        if isinstance(station, ServiceStation):
            return [
                c.to
                for c in self.scenario.nodes[name].calls
                if isinstance(self.stations[c.to], KafkaStation) or c.mode == "sync"
            ]
        return []

    def _calls(self, station: ServiceStation) -> list[Delay]:
        parts: list[Delay] = []
        for call in self.scenario.nodes[station.name].calls:
            target = self.stations[call.to]
            if isinstance(target, KafkaStation):  # the producer waits for the ack, sync or async
                parts.append(Repeat(self.response(call.to), call.visits))
            elif call.mode == "sync":
                parts.append(Repeat(self.response(call.to, call.op), call.visits))
        return parts

    def arrival_scv_at(self, name: str) -> float:
        """Deterministic arrivals enter the entry's waits (Allen-Cunneen's ca^2 = 0); all else Poisson."""
        return (
            0.0 if name == self.scenario.entry and self.scenario.workload.arrivals == "deterministic" else 1.0
        )

    # ------------------------------------------------------------ results

    def results(self) -> Results:
        for name in post_order(self.scenario.entry, self._waits_on):  # callees first, as the recursion
            self.response(name)  # would, but never deeper than one call
        entry = self.response(self.scenario.entry)
        for name in self.scenario.nodes:  # slot pools off the entry's sync path too
            self.response(name)
        latency, error_frac = self._latency(entry)
        network_ms = self.scenario.workload.network_ms
        if network_ms:  # time outside the stations: a constant on every answered request
            latency = Latency(
                *(v + network_ms for v in (latency.mean, latency.p50, latency.p95, latency.p99))
            )
        error_frac = 1.0 - (1.0 - error_frac) * self._produce_success()
        if len(self.pools) + len(self.kafka) > 1:
            self.notes.append(
                "visits treated as independent (exact for Jackson tandems; repeated visits "
                "to one node are correlated in reality, so tails may be a little light)"
            )
        saturated = [n for n in self.scenario.nodes if n in self.saturated]
        error_pct = 100.0 * error_frac
        return Results(
            scenario=self.scenario.name,
            method="analytic",
            rate_rps=float(self.rate_rps),
            latency_ms=latency,
            throughput_rps=self.rate_rps * (1.0 - error_frac),
            error_pct=error_pct,
            nodes={n: self._node_stats(n) for n in self.scenario.nodes},
            kafka={n: k.stats for n, k in self.kafka.items()},
            slo=check_slo(self.scenario.slo, latency, error_pct, saturated),
            saturated=saturated,
            notes=list(dict.fromkeys(self.notes)),
        )

    def _latency(self, entry: Delay) -> tuple[Latency, float]:
        """End-to-end latency of completed requests, and the fraction that time out."""
        station = self.stations[self.scenario.entry]
        timeout_ms = station.timeout_ms if isinstance(station, ServiceStation) else None
        for name, other in self.stations.items():
            if (
                isinstance(other, ServiceStation)
                and other.timeout_ms is not None
                and name != self.scenario.entry
            ):
                self.notes.append(f"{name}: timeout_ms not modelled analytically (only the entry's is)")
        if not entry.finite:
            return Latency(math.inf, math.inf, math.inf, math.inf), (1.0 if timeout_ms is not None else 0.0)
        dist = self.entry_distribution = distribution_of(entry)
        error_frac = 0.0 if timeout_ms is None else max(0.0, 1.0 - dist.cdf(timeout_ms))
        if error_frac <= 1e-12:
            return Latency(
                entry.mean_ms, dist.quantile(0.5), dist.quantile(0.95), dist.quantile(0.99)
            ), error_frac
        kept = 1.0 - error_frac  # completed requests are those answered before the timeout
        self.notes.append(f"{self.scenario.entry}: latency is over requests answered within timeout_ms")
        return Latency(
            dist.mean_below(timeout_ms),
            dist.quantile(0.5 * kept),
            dist.quantile(0.95 * kept),
            dist.quantile(0.99 * kept),
        ), error_frac

    def _produce_success(self) -> float:
        """Chance a request's sync produces are all accepted (a refused one fails the request)."""
        success = 1.0
        for topic, produces in sync_produces(self.scenario).items():
            success *= (1.0 - self.kafka[topic].stats.drop_pct / 100.0) ** produces
        return success

    def _node_stats(self, name: str) -> NodeStats:
        station = self.stations[name]
        arrival_rps = self.rates[name].visits
        if isinstance(station, KafkaStation):
            k = self.kafka[name]
            return NodeStats(arrival_rps, k.utilization, total_servers(station), k.mean_wait_ms)
        pools = self.pools[name]
        load = sum(p.load for p in pools)
        utilization = reported_utilization(station, min(load / total_servers(station), 1.0))
        if station.host is not None:  # as a host's monitor (and the simulator) sees it: its average wait
            wait_ms = self._host_wait_ms(station.host) + self.slot_waits.get(name, ZERO).mean_ms
        elif isinstance(station, DatabaseStation):
            visits = [
                r + w for r, w in station.instance_rates(self.rates[name].reads, self.rates[name].writes)
            ]
            wait_ms = (
                sum(v * p.wait.mean_ms for v, p in zip(visits, pools) if v > 0) / arrival_rps
                if arrival_rps
                else 0.0
            )
        else:
            cpu_wait = self.cpu_waits.get(name, pools[0].wait)
            wait_ms = cpu_wait.mean_ms + self.slot_waits.get(name, ZERO).mean_ms
        return NodeStats(arrival_rps, utilization, total_servers(station), wait_ms, station.host)

    def _host_wait_ms(self, host: str) -> float:
        """Mean wait for the host's cores over every visit of every node placed on it."""
        placed = [n for n, st in self.stations.items() if getattr(st, "host", None) == host]
        visits = {n: self.rates[n].visits for n in placed}
        total = sum(visits.values())
        if not total:
            return 0.0
        return (
            sum(v * self.cpu_waits.get(n, self.pools[n][0].wait).mean_ms for n, v in visits.items()) / total
        )
