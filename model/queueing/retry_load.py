"""Client retries (issue 18, `workload.retries`): the load they add, the storm they can sustain, what is reported.

A client that sends a timed-out or refused request again turns a chance p that one attempt fails
into more load. With attempts failing independently, a request makes 1 + p + ... + p^A attempts on
average (A = `attempts`, the sends after the first) and fails for good with chance p^(A+1). The
server does not know the client gave up, so the work of an abandoned attempt is still done: every
attempt is load. That is the loop behind a retry storm: more load, longer queues, more timeouts,
more retries. When every attempt fails (a queue so long that each one times out) the client sends
rate x (A + 1); if that is at or above what the system can serve, such an overload, once started by
a burst or a pause, keeps itself going after the cause has passed. `StormRisk` states that
condition from the offered-load law alone; the simulator shows the storm itself through time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.queueing.offered_load import saturation_rps
from model.scenario.schema import Retries, Scenario, ServiceNode


def expected_attempts(fail_prob: float, attempts: int) -> float:
    """Mean sends per request when each fails independently with `fail_prob`: 1 + p + ... + p^A."""
    return sum(fail_prob**k for k in range(attempts + 1))


def final_failure(fail_prob: float, attempts: int) -> float:
    """The chance a request fails on its first send and on every retry: p^(A+1)."""
    return fail_prob ** (attempts + 1)


def backoff_bound_ms(retries: Retries, retry: int) -> float:
    """The wait before retry number `retry` (1 for the first): backoff_ms doubled each time. With
    jitter the wait is uniform between 0 and this (full jitter), so its mean is half of it."""
    return retries.backoff_ms * 2.0 ** (retry - 1)


@dataclass(frozen=True)
class StormRisk:
    """Whether an overload, once started, would sustain itself by retries alone."""

    capacity_rps: float  # attempts per second the busiest pool can serve (the saturation rate)
    storm_rps: float  # what the clients send when every attempt fails: rate x (attempts + 1)
    sustains: bool  # a timeout exists and storm_rps reaches capacity_rps

    def to_json(self) -> dict[str, Any]:
        return {
            "capacity_rps": round(self.capacity_rps, 4),  # infinite (null in JSON) when nothing is ever busy
            "storm_rps": round(self.storm_rps, 4),
            "storm_sustains": self.sustains,
        }


def storm_risk(scenario: Scenario, rate_rps: float) -> StormRisk:
    """The metastability condition: with every attempt failing, do retries alone exceed capacity?

    Failures in an overload come from timeouts (a queue that keeps growing answers nothing in
    time); without any `timeout_ms` an overload makes requests slow, not failed, and no retry."""
    retries = scenario.workload.retries
    attempts = retries.attempts if retries is not None else 0
    capacity = saturation_rps(scenario)
    storm = rate_rps * (attempts + 1)
    timeouts = any(isinstance(n, ServiceNode) and n.timeout_ms for n in scenario.nodes.values())
    return StormRisk(capacity, storm, bool(attempts and timeouts and storm >= capacity))


@dataclass(frozen=True)
class RetryStats:
    """What a run with client retries reports (`retries` in the simulate JSON), either solver."""

    policy: Retries
    offered_rps: float  # attempts per second reaching the entry: first sends plus retries
    goodput_rps: float  # requests answered in time per second (the same number as throughput_rps)
    attempt_error_pct: float  # attempts that timed out or were refused
    error_pct: float  # requests that failed after their last attempt (the same number as error_pct)
    rate_rps: float  # requests per second (first sends)
    risk: StormRisk

    @property
    def amplification(self) -> float:
        """Attempts per request: offered load over the request rate (1 when nothing is retried)."""
        return self.offered_rps / self.rate_rps if self.rate_rps > 0 else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": self.policy.attempts,
            "backoff_ms": self.policy.backoff_ms,
            "jitter": self.policy.jitter,
            "offered_rps": round(self.offered_rps, 4),
            "amplification": round(self.amplification, 4),
            "goodput_rps": round(self.goodput_rps, 4),
            "attempt_error_pct": round(self.attempt_error_pct, 4),
            "errors_after_last_attempt_pct": round(self.error_pct, 4),
            **self.risk.to_json(),
        }
