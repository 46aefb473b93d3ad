"""Simulating a stretch of time rather than a steady state: a load that changes, and events.

The steady-state simulator (`model/queueing/sim/simulation.py`) runs until enough requests finish. A
what-if over time (a step in load while an autoscaler reacts, a database that pauses for a
failover) needs a fixed span of simulated time, a rate that follows a schedule, actions at
given times (resize a pool), and latencies stamped with the time they finished. This is a
subclass of the simulator, so the request behaviour is the same code; nothing in the
steady-state path changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from simpy.events import Timeout

from model.queueing.results import Results
from model.scenario.schema import Scenario, ServiceNode
from model.queueing.sim.series import LoadSeries, bucket_width_s, load_series
from model.queueing.sim.simulation import RunLimits, Simulation
from model.queueing.statistics import percentiles
from model.queueing.topology import cores_per_replica
from model.scenario.trace import ArrivalTrace


@dataclass(frozen=True)
class Window:
    """Requests that finished in [start_s, end_s)."""

    start_s: float
    end_s: float
    completed: int
    failed: int
    p50_ms: float
    p99_ms: float

    @property
    def error_pct(self) -> float:
        total = self.completed + self.failed
        return 100.0 * self.failed / total if total else 0.0


class TimelineSimulation(Simulation):
    """A run of `duration_s` seconds of arrivals following `schedule`: [(start_s, rate_rps), ...].

    Each rate holds until the next start (Poisson arrivals at that rate). Every finished
    request is kept with its finish time, so latency can be read per window of time.
    """

    KEEP_TIMES = True  # with client retries, when each retry was sent (see `load`)

    def __init__(
        self,
        scenario: Scenario,
        schedule: list[tuple[float, float]],
        duration_s: float,
        seed: int | None = None,
    ):
        peak = max(rate for _, rate in schedule)
        super().__init__(scenario, peak, seed, RunLimits(requests=10**12, warmup=0))
        if schedule[0][0] > 0:
            schedule = [(0.0, schedule[0][1])] + list(schedule)
        self.duration_ms = duration_s * 1000.0
        starts = np.array([s * 1000.0 for s, _ in schedule])
        rates = np.array([r / 1000.0 for _, r in schedule])
        self.trace = ArrivalTrace(starts, rates, max(self.duration_ms, float(starts[-1]) + 1.0) * 2)
        self.finished: list[tuple[float, float, bool]] = []  # (finish ms, latency ms, failed)
        self.sent_ms: list[float] = []  # when each request was sent (its first attempt)
        self.measure_from = 0.0  # no warm-up: a timeline is measured from its first second
        self.replicas: dict[str, int] = {
            n: node.replicas for n, node in scenario.nodes.items() if isinstance(node, ServiceNode)
        }

    # ------------------------------------------------------------ actions

    def at(self, time_s: float, action: Callable[["TimelineSimulation"], None]) -> None:
        """Run `action(self)` once at `time_s`."""
        Timeout(self.env, max(time_s * 1000.0 - self.env.now, 0.0)).callbacks.append(lambda _e: action(self))

    def every(self, period_s: float, action: Callable[["TimelineSimulation"], None]) -> None:
        """Run `action(self)` every `period_s`, starting one period in."""

        def tick(_event) -> None:
            action(self)
            Timeout(self.env, period_s * 1000.0).callbacks.append(tick)

        Timeout(self.env, period_s * 1000.0).callbacks.append(tick)

    def cores_per_replica(self, node: str) -> int:
        return cores_per_replica(self.scenario.nodes[node])

    def set_replicas(self, node: str, replicas: int) -> None:
        """Serving replicas of a service node now: its core pool and its worker slots follow."""
        old = self.replicas[node]
        if replicas == old:
            return
        self.replicas[node] = replicas
        self.pools[node][0].resize(replicas * self.cores_per_replica(node))
        slots = self.slots.get(node)
        concurrency = self.scenario.nodes[node].concurrency
        if slots is not None and concurrency:
            delta = (replicas - old) * concurrency
            slots.slots += delta
            if delta > 0:
                for _ in range(delta):
                    slots.release()  # hands a new slot to a waiting request, or frees it
            else:
                slots.free += delta  # may go negative: slots vanish as their holders let go

    def pause_pool(self, node: str, instance: int = 0) -> int:
        """Stop one pool serving (requests queue); returns its servers so `resume_pool` can restore them."""
        pool = self.pools[node][instance]
        servers = pool.servers
        pool.servers = 0
        return servers

    def resume_pool(self, node: str, servers: int, instance: int = 0) -> None:
        self.pools[node][instance].resize(servers)

    # ------------------------------------------------------------ running

    def _record(self, latency_ms: float, failed: bool) -> None:
        self.finished.append((self.env._now, latency_ms, failed))
        super()._record(latency_ms, failed)

    def run(self) -> Results:
        env = self.env
        gap = self._arrivals()

        def arrive(_event) -> None:
            self.sent_ms.append(env._now)
            self.start_request()
            next_gap = gap()
            if env._now + next_gap < self.duration_ms:
                Timeout(env, next_gap).callbacks.append(arrive)

        first = gap()
        if first < self.duration_ms:
            Timeout(env, first).callbacks.append(arrive)
        env.run(until=self.duration_ms)
        return self._results(hit_time_limit=False)

    def windows(self, window_s: float) -> list[Window]:
        """Latency and errors of the requests that finished in each window of `window_s`."""
        data = np.array(self.finished, dtype=float).reshape(-1, 3)
        out = []
        edges = np.arange(0.0, self.duration_ms + 1e-9, window_s * 1000.0)
        for start, end in zip(edges[:-1], edges[1:]):
            rows = data[(data[:, 0] >= start) & (data[:, 0] < end)]
            ok = rows[rows[:, 2] == 0, 1]
            q = percentiles(ok) if len(ok) else {50: math.nan, 99: math.nan}
            out.append(Window(start / 1000.0, end / 1000.0, len(ok), int(rows[:, 2].sum()), q[50], q[99]))
        return out

    def latency_between(self, start_s: float, end_s: float) -> tuple[dict[int, float], float]:
        """Percentiles (50, 95, 99) and error % of requests finished in [start_s, end_s)."""
        data = np.array(self.finished, dtype=float).reshape(-1, 3)
        rows = data[(data[:, 0] >= start_s * 1000.0) & (data[:, 0] < end_s * 1000.0)]
        ok = rows[rows[:, 2] == 0, 1]
        q = percentiles(ok) if len(ok) else {50: math.inf, 95: math.inf, 99: math.inf}
        errors = 100.0 * rows[:, 2].sum() / len(rows) if len(rows) else 0.0
        return q, float(errors)

    def load(self, bucket_s: float | None = None) -> LoadSeries:
        """Requests sent, attempts offered (retries included), goodput and errors per bucket of time."""
        data = np.array(self.finished, dtype=float).reshape(-1, 3)
        retries = self.client.retry_times_ms if self.client is not None else []
        width = bucket_s if bucket_s is not None else bucket_width_s(self.duration_ms / 1000.0)
        answered, failed = data[data[:, 2] == 0, 0], data[data[:, 2] != 0, 0]
        return load_series(self.duration_ms, width, self.sent_ms, retries, answered, failed)
