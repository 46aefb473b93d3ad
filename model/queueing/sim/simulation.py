"""The simulator: a scenario's requests walked through the service graph on the engine.

Each node kind's behaviour is one generator method below, written to read like the
contract's semantics; the engine (model/queueing/sim/engine.py) makes them run fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from simpy import Environment
from simpy.events import Timeout

from model.queueing.sim.engine import (
    ACQUIRE,
    BLOCK as BLOCK_SIZE,
    DEADLINE,
    DELAY,
    SERVE,
    Consumer,
    Flow,
    Pool,
    SlotPool,
    block_stream,
)
from model.scenario.graph import arrival_rates
from model.queueing.offered_load import offered_load, saturated_nodes
from model.queueing.run_size import SIM_REQUESTS
from model.queueing.results import KafkaStats, Latency, NodeStats, Results, check_slo
from model.queueing.sim.client import RetryingClient
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode
from model.queueing.statistics import batch_ci, percentiles
from model.queueing.topology import (
    CacheStation,
    reported_utilization,
    DatabaseStation,
    KafkaStation,
    ServiceStation,
    build_stations,
    total_servers,
)
from model.scenario.trace import ArrivalTrace, load_trace

DEFAULT_REQUESTS = SIM_REQUESTS


def _as_generator(sub):
    """A visitor's result as a generator, where a flow of its own must drive it."""
    if type(sub) is tuple:
        return _one_step(sub)
    return sub


def _one_step(step):
    yield step


@dataclass(frozen=True)
class RunLimits:
    """How much to simulate. The time bound keeps a saturated run from going on forever."""

    requests: int = DEFAULT_REQUESTS
    warmup: int | None = None  # completed requests discarded; default 10%, at least 1,000
    time_factor: float = 2.0  # stop at this many times the expected duration

    @property
    def warmup_requests(self) -> int:
        return self.warmup if self.warmup is not None else max(1_000, self.requests // 10)


class Simulation:
    """One discrete-event run of a scenario at a rate: nodes compiled once into pools and flows on SimPy's engine.

    Requests arrive (Poisson or a trace), visit nodes by the call graph, queue for server pools and
    finish; latencies and per-node statistics after the warm-up become `Results`. `timeline.py`
    subclasses it for runs over a span of time with a changing load and events."""

    KEEP_TIMES = False  # runs through time keep when each retry was sent (model.queueing.sim.series)

    def __init__(
        self,
        scenario: Scenario,
        rate_rps: float,
        seed: int | None,
        limits: RunLimits,
        progress: Callable[[float], None] | None = None,
    ):
        self.scenario, self.rate_rps, self.limits, self.progress = scenario, rate_rps, limits, progress
        self.env = env = Environment()
        self.rng = np.random.default_rng(seed)
        self.stations = build_stations(scenario)
        self.uniform = self._stream(lambda: self.rng.random(BLOCK_SIZE))
        self.pools: dict[str, list[Pool]] = {}
        self.shared_pools: dict[str, Pool] = {}
        self.slots: dict[str, SlotPool] = {}
        self.samplers: dict[str, Callable[[], float]] = {}
        self.consumers: dict[str, list[Consumer]] = {}
        self.backlog: dict[str, list[int]] = {}
        self.kafka_counts: dict[str, list] = {}
        for name, st in self.stations.items():
            self._build(name, st)
        self._compile_visitors()
        entry = scenario.nodes[scenario.entry]
        self.entry_visitor = self.visitors[scenario.entry]
        self.entry_timeout_ms = entry.timeout_ms if isinstance(entry, ServiceNode) else None
        # With workload.retries a client resends failed attempts (model/queueing/sim/client.py).
        self.client = RetryingClient.of(self) if scenario.workload.retries is not None else None
        # Measurement.
        self.target = limits.warmup_requests + limits.requests
        self.completed = 0
        self.failed = 0
        self.latencies: list[float] = []
        self.measure_from = math.inf
        self.stop = env.event()
        self.trace: ArrivalTrace | None = None
        if scenario.workload.arrivals == "trace":
            self.trace = load_trace(scenario.workload.trace, rate_rps)

    # ------------------------------------------------------------ building

    def _stream(self, draw) -> Callable[[], float]:
        return block_stream(draw)

    def _sampler(self, service) -> Callable[[], float]:
        return self._stream(lambda: service.sample(self.rng, BLOCK_SIZE))

    def _pool(self, name: str, servers: int) -> Pool:
        """The pool of that name, made once: the nodes on a host all queue at its one pool."""
        if name not in self.shared_pools:
            self.shared_pools[name] = Pool(self.env, name, servers)
        return self.shared_pools[name]

    def _build(self, name: str, st) -> None:
        env = self.env
        if isinstance(st, (ServiceStation, CacheStation)):
            self.pools[name] = [self._pool(st.pool, st.servers)]
            self.samplers[name] = self._sampler(st.service)
            if isinstance(st, ServiceStation) and st.slots:
                self.slots[name] = SlotPool(env, name, st.slots)
        elif isinstance(st, DatabaseStation):
            self.pools[name] = [self._pool(pool, st.servers_per_instance) for pool in st.pools]
            self.samplers[name + ":read"] = self._sampler(st.read)
            self.samplers[name + ":write"] = self._sampler(st.write)
        elif isinstance(st, KafkaStation):
            counts = [0] * st.partitions
            stats = self.kafka_counts[name] = [0, 0, []]  # produced, dropped, lags (measured)

            def consumed(partition: int, produced_at: float, counts=counts, stats=stats) -> None:
                counts[partition] -= 1
                if produced_at >= self.measure_from:
                    stats[2].append(self.env._now - produced_at)

            consume = self._sampler(st.consume)
            self.consumers[name] = [Consumer(env, consume, consumed) for _ in range(st.active_consumers)]
            self.backlog[name] = counts
            self.samplers[name + ":produce"] = self._sampler(st.produce)

    # ------------------------------------------------------------ request behaviour
    #
    # Each node is compiled once into a visitor: visitor(op, failed) returns either one
    # step (a single service, e.g. a database read) or a generator of steps. Returning a
    # bare step where one suffices keeps `yield from` chains short, which is most of the
    # per-visit cost in Python.

    def _compile_visitors(self) -> None:
        self.visitors: dict[str, Callable] = {}
        for name, node in self.scenario.nodes.items():
            if isinstance(node, ServiceNode):
                visitor = self._service_visitor(name, node)
            elif isinstance(node, CacheNode):
                visitor = self._cache_visitor(name, node)
            elif isinstance(node, DatabaseNode):
                visitor = self._database_visitor(name)
            else:
                visitor = self._kafka_visitor(name, node)
            if isinstance(node, ServiceNode) and node.timeout_ms and name != self.scenario.entry:
                visitor = self._with_deadline(visitor, node.timeout_ms)
            self.visitors[name] = visitor

    def _service_visitor(self, name: str, node: ServiceNode) -> Callable:
        pool, sample, slots = self.pools[name][0], self.samplers[name], self.slots.get(name)
        blocking, uniform, visitors, env = node.blocking_calls, self.uniform, self.visitors, self.env
        calls = []
        for call in node.calls:
            whole = int(call.visits)
            to_kafka = isinstance(self.scenario.nodes[call.to], KafkaNode)
            calls.append(
                (
                    whole,
                    call.visits - whole,
                    call.to,
                    call.op,
                    "kafka" if to_kafka else call.mode,
                    call.mode == "sync",
                )
            )

        def visit(op: str, failed: list):
            if slots is not None:
                yield (ACQUIRE, slots, None)
            yield (SERVE, pool, sample())
            if slots is not None and not blocking:
                slots.release()
            for whole, frac, to, call_op, mode, sync in calls:
                count = whole + 1 if frac and uniform() < frac else whole
                for _ in range(count):
                    if mode == "kafka":
                        yield from visitors[to](call_op, failed, sync)
                    elif mode == "async":
                        Flow(env, _as_generator(visitors[to](call_op, [False]))).advance(None)
                    else:
                        sub = visitors[to](call_op, failed)
                        if type(sub) is tuple:
                            yield sub
                        else:
                            yield from sub
                        if failed[0]:
                            break
                if failed[0]:
                    break
            if slots is not None and blocking:
                slots.release()

        return visit

    def _cache_visitor(self, name: str, node: CacheNode) -> Callable:
        pool, sample, uniform, visitors = (
            self.pools[name][0],
            self.samplers[name],
            self.uniform,
            self.visitors,
        )
        hit_ratio, miss = node.hit_ratio, node.miss
        if miss is None:
            return lambda op, failed: (SERVE, pool, sample())

        def visit(op: str, failed: list):
            yield (SERVE, pool, sample())
            if uniform() >= hit_ratio:
                sub = visitors[miss]("read", failed)
                if type(sub) is tuple:
                    yield sub
                else:
                    yield from sub

        return visit

    def _database_visitor(self, name: str) -> Callable:
        pools, uniform = self.pools[name], self.uniform
        read, write = self.samplers[name + ":read"], self.samplers[name + ":write"]
        primary, count = pools[0], len(pools)
        if count == 1:
            return lambda op, failed: (SERVE, primary, write() if op == "write" else read())
        return lambda op, failed: (
            (SERVE, primary, write()) if op == "write" else (SERVE, pools[int(uniform() * count)], read())
        )

    def _kafka_visitor(self, name: str, node: KafkaNode) -> Callable:
        counts, stats, consumers = self.backlog[name], self.kafka_counts[name], self.consumers[name]
        produce, uniform, env = self.samplers[name + ":produce"], self.uniform, self.env
        partitions, owners, capacity = len(counts), node.consumers, node.max_backlog

        def visit(op: str, failed: list, sync: bool = True):
            """Wait for the acknowledgement, then the message joins a random partition."""
            if node.produce_ms > 0:
                yield (DELAY, None, produce())
            partition = int(uniform() * partitions)
            measuring = env._now >= self.measure_from
            if measuring:
                stats[0] += 1
            if counts[partition] >= capacity:
                if measuring:
                    stats[1] += 1
                if sync:
                    failed[0] = True
                return
            counts[partition] += 1
            consumers[partition % owners].offer(partition)

        return visit

    @staticmethod
    def _with_deadline(visitor: Callable, timeout_ms: float) -> Callable:
        def visit(op: str, failed: list):
            ok = yield (DEADLINE, _as_generator(visitor(op, failed)), timeout_ms)
            if not ok:
                failed[0] = True

        return visit

    def start_request(self) -> None:
        """One request at the entry node: a flow whose end (or deadline) records its latency; with
        client retries, the client sends it and records it once its last attempt ends."""
        if self.client is not None:
            self.client.send()
        else:
            self.send_attempt(self._finished)

    def send_attempt(self, on_done: Callable[[Flow], None]) -> None:
        """One attempt at the entry node, under the entry's timeout; `on_done(flow)` when it ends."""
        failed = [False]
        visitor = self.entry_visitor
        if self.entry_timeout_ms:
            visitor = self._with_deadline(visitor, self.entry_timeout_ms)
        Flow(self.env, _as_generator(visitor("read", failed)), on_done, failed).advance(None)

    def _finished(self, flow: Flow) -> None:
        self._record(self.env._now - flow.started_at, flow.failed[0])

    # ------------------------------------------------------------ measurement

    def _record(self, latency_ms: float, failed: bool) -> None:
        self.completed += 1
        warmup = self.limits.warmup_requests
        if self.completed == warmup:
            self._start_measuring()
        elif self.completed > warmup:
            if failed:
                self.failed += 1
            else:
                self.latencies.append(latency_ms)
            if self.progress and self.completed % 5_000 == 0:
                self.progress(min(1.0, self.completed / self.target))
        if self.completed >= self.target and not self.stop.triggered:
            self.stop.succeed()

    def _start_measuring(self) -> None:
        now = self.env._now
        self.measure_from = now
        parts = list(self.shared_pools.values()) + list(self.slots.values())
        parts += [c for consumers in self.consumers.values() for c in consumers]
        for part in parts:
            part.start_measuring(now)

    # ------------------------------------------------------------ arrivals

    def _arrivals(self) -> Callable[[], float]:
        mean_gap_ms = 1000.0 / self.rate_rps
        deterministic = self.scenario.workload.arrivals == "deterministic"
        if self.trace is not None:
            # A time-varying rate: each gap spends one unit of the rate's integral (fixed for
            # deterministic arrivals, exponential for Poisson), so the schedule is followed.
            if deterministic:
                return lambda: self.trace.next_gap_ms(self.env._now, 1.0)
            unit = self._stream(lambda: self.rng.exponential(1.0, BLOCK_SIZE))
            return lambda: self.trace.next_gap_ms(self.env._now, unit())
        if deterministic:
            return lambda: mean_gap_ms
        return self._stream(lambda: self.rng.exponential(mean_gap_ms, BLOCK_SIZE))

    def run(self) -> Results:
        env = self.env
        gap = self._arrivals()
        max_arrivals = int(self.target * 1.25) + 100
        arrived = [0]

        def arrive(_event) -> None:
            arrived[0] += 1
            self.start_request()
            if arrived[0] < max_arrivals:
                Timeout(env, gap()).callbacks.append(arrive)

        Timeout(env, gap()).callbacks.append(arrive)
        if self.trace is not None:
            expected_ms = self.trace.time_for_arrivals_ms(self.target) * self.limits.time_factor
        else:
            expected_ms = self.target / self.rate_rps * 1000.0 * self.limits.time_factor
        time_limit = Timeout(env, expected_ms)
        time_limit.callbacks.append(lambda _e: self.stop.triggered or self.stop.succeed())
        env.run(until=self.stop)
        return self._results(hit_time_limit=self.completed < self.target)

    def _results(self, hit_time_limit: bool) -> Results:
        now = self.env._now
        if not math.isfinite(self.measure_from):
            self.measure_from = 0.0  # nothing finished warm-up: measure the whole run
        window_ms = max(now - self.measure_from, 1e-9)
        # Time outside the stations (workload.network_ms) is a constant on every answered request.
        lat = np.asarray(self.latencies, dtype=float) + self.scenario.workload.network_ms
        measured = len(lat) + self.failed
        error_pct = 100.0 * self.failed / measured if measured else 100.0
        if len(lat):
            q = percentiles(lat)
            latency = Latency(float(lat.mean()), q[50], q[95], q[99])
        else:
            latency = Latency(math.inf, math.inf, math.inf, math.inf)
        ci = batch_ci(lat)
        # A replayed trace offers its own mean over the span simulated, not the peak it was scaled to.
        offered_rps = self.trace.mean_rps(0.0, now) if self.trace is not None else self.rate_rps
        amplification = self.client.amplification if self.client is not None else 1.0
        rates = arrival_rates(self.scenario, offered_rps * amplification)  # retries are arrivals too
        nodes: dict[str, NodeStats] = {}
        for name, st in self.stations.items():
            nodes[name] = self._node_stats(name, st, rates[name].visits, window_ms)
        kafka = {name: self._kafka_stats(name) for name in self.consumers}
        saturated = saturated_nodes(offered_load(self.scenario, self.stations, self.rate_rps * amplification))
        if hit_time_limit:
            # The run could not complete its requests in twice the expected time: something
            # other than a pool (worker slots held by slow calls) has run out of capacity.
            saturated = sorted(
                set(saturated)
                | {n for n, s in nodes.items() if s.utilization >= 0.95}
                | {n for n, s in self.slots.items() if s.free == 0 and s.waiting}
            )
        notes = []
        if hit_time_limit:
            notes.append(
                f"stopped at the time bound with {max(self.completed - self.limits.warmup_requests, 0):,} "
                f"of {self.limits.requests:,} requests measured: the system cannot keep up"
            )
        throughput_rps = len(lat) / window_ms * 1000.0
        retries = (
            self.client.stats(offered_rps, throughput_rps, error_pct, self.rate_rps) if self.client else None
        )
        return Results(
            scenario=self.scenario.name,
            method="sim",
            rate_rps=self.rate_rps,
            latency_ms=latency,
            throughput_rps=throughput_rps,
            error_pct=error_pct,
            nodes=nodes,
            kafka=kafka,
            slo=check_slo(self.scenario.slo, latency, error_pct, saturated),
            saturated=saturated,
            latency_ci95_ms=ci,
            requests=len(lat),
            notes=notes,
            retries=retries,
        )

    def _node_stats(self, name: str, st, arrival_rps: float, window_ms: float) -> NodeStats:
        servers = total_servers(st)
        if isinstance(st, KafkaStation):
            consumers = self.consumers[name]
            busy = sum(c.busy_ms for c in consumers)
            started = sum(c.started for c in consumers)
            wait = sum(c.wait_ms for c in consumers) / started if started else 0.0
            return NodeStats(arrival_rps, min(busy / (max(servers, 1) * window_ms), 1.0), servers, wait)
        pools = self.pools[name]
        busy = sum(p.busy_ms for p in pools)
        started = sum(p.started for p in pools)
        wait = sum(p.wait_ms for p in pools) / started if started else 0.0
        slots = self.slots.get(name)
        if slots is not None and slots.acquired:
            wait += slots.wait_ms / slots.acquired
        return NodeStats(
            arrival_rps,
            reported_utilization(st, min(busy / (servers * window_ms), 1.0)),
            servers,
            wait,
            st.host,
        )

    def _kafka_stats(self, name: str) -> KafkaStats:
        produced, dropped, lags = self.kafka_counts[name]
        if lags:
            q = percentiles(np.asarray(lags))
            p50, p99 = q[50], q[99]
        else:
            p50 = p99 = math.inf if produced else 0.0
        return KafkaStats(p50, p99, 100.0 * dropped / produced if produced else 0.0)


def simulate(
    scenario: Scenario,
    rate_rps: float | None = None,
    seed: int | None = None,
    requests: int = DEFAULT_REQUESTS,
    warmup: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Results:
    """Simulate `requests` completed requests after warm-up and summarise them."""
    rate = scenario.workload.rate_rps if rate_rps is None else rate_rps
    return Simulation(scenario, rate, seed, RunLimits(requests, warmup), progress).run()
