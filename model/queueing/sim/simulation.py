"""The simulator: a scenario's requests walked through the service graph on the engine.

`Simulation` builds the nodes' pools on the engine (model/queueing/sim/engine.py, which makes them
run fast), sends the arrivals and measures; how each node kind serves a request is
`visitors.py`, written to read like the contract's semantics, and the run's `Results` are `summary.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from simpy import Environment
from simpy.events import Timeout

from model.queueing.sim.engine import (
    BLOCK as BLOCK_SIZE,
    Consumer,
    Flow,
    Pool,
    SlotPool,
    block_stream,
)
from model.queueing.run_size import SIM_REQUESTS
from model.queueing.results import Results
from model.queueing.sim.client import RetryingClient
from model.queueing.sim.summary import RunSummary
from model.queueing.sim.visitors import RequestBehaviour, as_generator
from model.scenario.schema import Scenario, ServiceNode
from model.queueing.topology import (
    CacheStation,
    DatabaseStation,
    KafkaStation,
    ServiceStation,
    build_stations,
)
from model.scenario.trace import ArrivalTrace, load_trace

DEFAULT_REQUESTS = SIM_REQUESTS


@dataclass(frozen=True)
class RunLimits:
    """How much to simulate. The time bound keeps a saturated run from going on forever."""

    requests: int = DEFAULT_REQUESTS
    warmup: int | None = None  # completed requests discarded; default 10%, at least 1,000
    time_factor: float = 2.0  # stop at this many times the expected duration

    @property
    def warmup_requests(self) -> int:
        return self.warmup if self.warmup is not None else max(1_000, self.requests // 10)


class Simulation(RequestBehaviour, RunSummary):
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
        Flow(self.env, as_generator(visitor("read", failed)), on_done, failed).advance(None)

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
