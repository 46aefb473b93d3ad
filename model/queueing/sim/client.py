"""The client that retries (`workload.retries`): a failed attempt is sent again after a backoff.

The simulator's entry node sees attempts, not requests. An attempt that times out (the entry's
`timeout_ms`) or is refused (a full Kafka partition, a downstream timeout) makes the client wait
`backoff_ms` doubled for each retry so far (uniformly between 0 and that with jitter) and send it
again, up to `attempts` more times; the request ends at its first answered attempt or after its
last failed one, and its latency runs from the first send. The server keeps working on an attempt
the client gave up on (the engine's deadline lets the sub-request run on), so the duplicate work
loads the system as it does in production. Without `workload.retries` none of this runs and the
simulation is exactly what it was.
"""

from __future__ import annotations

from typing import Callable

from simpy import Environment
from simpy.events import Timeout

from model.queueing.retry_load import RetryStats, backoff_bound_ms, storm_risk
from model.queueing.sim.engine import BLOCK, Flow, block_stream
from model.scenario.schema import Retries, Scenario


class RetryingClient:
    """Sends each request's attempts through `send_attempt` and reports each request once to `record`.

    Counts attempts from `measure_from()` on (the end of the warm-up); with `keep_times` it also keeps
    when each retry was sent, for loads through time (model.queueing.sim.series)."""

    def __init__(
        self,
        env: Environment,
        scenario: Scenario,
        send_attempt: Callable[[Callable[[Flow], None]], None],
        record: Callable[[float, bool], None],
        measure_from: Callable[[], float],
        uniform: Callable[[], float],
        keep_times: bool = False,
    ):
        self.env, self.scenario = env, scenario
        self.retries: Retries = scenario.workload.retries
        self.send_attempt, self.record, self.measure_from = send_attempt, record, measure_from
        self.uniform = uniform
        self.first_sends = 0  # requests sent while measuring
        self.sends = 0  # attempts sent while measuring: first sends and retries
        self.ended_attempts = 0  # attempts that ended (answered, timed out or refused) while measuring
        self.failed_attempts = 0
        self.retry_times_ms: list[float] | None = [] if keep_times else None

    @classmethod
    def of(cls, sim) -> "RetryingClient":
        """The client of a Simulation (model.queueing.sim.simulation) whose scenario has retries."""
        return cls(
            sim.env,
            sim.scenario,
            sim.send_attempt,
            sim._record,
            lambda: sim.measure_from,
            block_stream(lambda: sim.rng.random(BLOCK)),  # jitter: drawn from at the first retry only
            sim.KEEP_TIMES,
        )

    def send(self) -> None:
        """A new request: its first attempt now."""
        self._attempt(self.env._now, 0)

    def _attempt(self, first_sent_ms: float, retry: int) -> None:
        now = self.env._now
        if now >= self.measure_from():
            self.sends += 1
            if retry == 0:
                self.first_sends += 1
        if retry and self.retry_times_ms is not None:
            self.retry_times_ms.append(now)

        def ended(flow: Flow) -> None:
            self._ended(flow.failed[0], first_sent_ms, retry)

        self.send_attempt(ended)

    def _ended(self, failed: bool, first_sent_ms: float, retry: int) -> None:
        now = self.env._now
        if now >= self.measure_from():
            self.ended_attempts += 1
            self.failed_attempts += failed
        if failed and retry < self.retries.attempts:
            wait_ms = backoff_bound_ms(self.retries, retry + 1)
            if self.retries.jitter:
                wait_ms *= self.uniform()
            Timeout(self.env, wait_ms).callbacks.append(
                lambda _event: self._attempt(first_sent_ms, retry + 1)
            )
        else:
            self.record(now - first_sent_ms, failed)

    @property
    def amplification(self) -> float:
        """Attempts per request measured (1 before anything was measured)."""
        return self.sends / self.first_sends if self.first_sends else 1.0

    @property
    def attempt_error_pct(self) -> float:
        return 100.0 * self.failed_attempts / self.ended_attempts if self.ended_attempts else 0.0

    def stats(self, rate_rps: float, goodput_rps: float, error_pct: float, steady_rps: float) -> RetryStats:
        """What the run reports: `rate_rps` requests per second offered (a burst or a trace included),
        `goodput_rps` answered in time, `error_pct` of requests failed after their last attempt; the storm
        risk at `steady_rps`, the rate a burst returns to (a trace's peak)."""
        return RetryStats(
            self.retries,
            rate_rps * self.amplification,
            goodput_rps,
            self.attempt_error_pct,
            error_pct,
            rate_rps,
            storm_risk(self.scenario, steady_rps),
        )
