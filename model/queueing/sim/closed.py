"""The simulator for a closed workload: `users` users, each sending a request, waiting, thinking.

The same stations and request behaviour as the open simulator (model.queueing.sim.simulation);
only the arrivals differ. Each user starts with a think time (exponential, mean think_ms: the
users' starts are spread as they would be in a running system), sends a request, and when it ends
(answered, or failed at the entry's timeout) thinks again before the next. Nothing is ever
dropped: beyond the knee a closed system answers more slowly, it does not pile up requests.
Throughput is measured (requests ended per second after the warm-up), not given.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

from simpy.events import Timeout

from model.queueing.closed_network import SATURATED_UTILIZATION, closed_network, closed_stats, solve_closed
from model.queueing.offered_load import offered_load
from model.queueing.results import Results, check_slo
from model.queueing.sim.engine import BLOCK as BLOCK_SIZE
from model.queueing.sim.simulation import DEFAULT_REQUESTS, RunLimits, Simulation
from model.scenario.schema import Scenario

TIME_FACTOR = 4.0  # the time bound, in multiples of the duration at the throughput bound


class ClosedSimulation(Simulation):
    """A Simulation whose requests come from `users` users in a loop (rate_rps is measured)."""

    def __init__(
        self,
        scenario: Scenario,
        users: int,
        seed: int | None,
        limits: RunLimits,
        progress: Callable[[float], None] | None = None,
    ):
        net = closed_network(scenario, users)
        # The fastest the users could go: all think and no wait, or the bottleneck flat out.
        floor_s = net.think_s + net.delay_s + net.demand_s
        self.bound_rps = min(users / floor_s if floor_s > 0 else math.inf, net.max_rps)
        super().__init__(scenario, self.bound_rps, seed, limits, progress)
        self.users = users
        think_ms = scenario.workload.think_time_ms
        if think_ms > 0:
            self.think = self._stream(lambda: self.rng.exponential(think_ms, BLOCK_SIZE))
        else:
            self.think = lambda: 0.0

    def _finished(self, flow) -> None:
        super()._finished(flow)
        self._after_think()

    def _after_think(self) -> None:
        Timeout(self.env, self.think()).callbacks.append(lambda _e: self.start_request())

    def run(self) -> Results:
        for _ in range(self.users):
            self._after_think()
        expected_ms = self.target / self.bound_rps * 1000.0 * TIME_FACTOR * self.limits.time_factor
        time_limit = Timeout(self.env, expected_ms)
        time_limit.callbacks.append(lambda _e: self.stop.triggered or self.stop.succeed())
        self.env.run(until=self.stop)
        return self._results(hit_time_limit=self.completed < self.target)

    def _results(self, hit_time_limit: bool) -> Results:
        now = self.env._now
        start = self.measure_from if math.isfinite(self.measure_from) else 0.0
        ended = (
            max(self.completed - self.limits.warmup_requests, 0)
            if math.isfinite(self.measure_from)
            else self.completed
        )
        self.rate_rps = ended / max(now - start, 1e-9) * 1000.0  # what the users sent: measured
        results = super()._results(hit_time_limit)
        saturated = self._saturated(results)
        return dataclasses.replace(
            results,
            saturated=saturated,
            slo=check_slo(self.scenario.slo, results.latency_ms, results.error_pct, saturated),
            closed=closed_stats(solve_closed(self.scenario, self.users)),
        )

    def _saturated(self, results: Results) -> list[str]:
        """As the analytic answer names them: pools the users keep busy 99% or more (the simulator's
        own utilization, from the measured throughput), in graph order."""
        out: list[str] = []
        for load in offered_load(self.scenario, self.stations, self.rate_rps):
            if load.utilization >= SATURATED_UTILIZATION and load.node not in out:
                out.append(load.node)
        return out


def simulate_closed(
    scenario: Scenario,
    users: int | None = None,
    seed: int | None = None,
    requests: int = DEFAULT_REQUESTS,
    warmup: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Results:
    """Simulate the closed workload (`users`, default workload.users) for `requests` after warm-up.

    The warm-up is at least two requests per user, so every user has cycled before measuring."""
    n = int(users if users is not None else scenario.workload.users)
    limits = RunLimits(requests, warmup if warmup is not None else max(1_000, requests // 10, 2 * n))
    return ClosedSimulation(scenario, n, seed, limits, progress).run()
