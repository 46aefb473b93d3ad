"""Client retries in the analytic solver: the offered load as a fixed point, latency over the attempts.

A retried request is several attempts, each one more arrival. With a chance p(L) that one attempt
fails (times out or is refused) when the entry is offered L attempts a second, a request rate R
offers L = R x (1 + p + ... + p^A) (A = `attempts`; model.queueing.retry_load). The solver finds
the least L that satisfies this, iterating from L = R upward (the map grows with L, so the
iteration climbs monotonically to the least fixed point): the state a system settles in when the
load rises gently. Then a request fails for good with chance p^(A+1), and one that succeeds after
k failed attempts waited k timeouts and k backoffs before its answer.

What this cannot say: that state may not be the only one. When rate x (A + 1) reaches capacity, a
second state exists where every attempt fails and the retries alone keep the system overloaded
(a metastable failure); which one the system is in depends on its history (a burst, a pause), not
on the rate. The results say so (`retries.storm_sustains`) and point to the simulator, which shows
it through time (`simulate --duration S --burst F,START,LENGTH`).

Attempts are taken to fail independently. That holds when the backoff is long against the queue's
busy spells and jittered: in M/M/1 at 30% with a 25 ms timeout and 2 retries, the simulator
measures 1.25 attempts per request with a 5 s jittered backoff, as here. A short backoff brings a
retry back into the congestion that failed it: with 50 ms the simulator measures 1.63 attempts and
24% of requests failing against 1.25 and 0.9% here, so the results are then a lower bound (the note
says so, and a simulated run warns when the two differ by more than 10%).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from model.queueing.analytic.formulas import mixture_quantile
from model.queueing.results import Latency, Results, check_slo
from model.queueing.retry_load import (
    RetryStats,
    backoff_bound_ms,
    expected_attempts,
    final_failure,
    storm_risk,
)
from model.scenario.schema import Retries, Scenario, ServiceNode

MAX_ITERATIONS = 80
TOLERANCE = 1e-6  # relative change of the offered load at which the iteration stops
JITTER_POINTS = 16  # quadrature points of one uniform backoff
OFFSET_POINTS = 64  # points kept of a sum of backoffs


def with_retries(scenario: Scenario, rate_rps: float, attempt: Callable[[Scenario, float], object]):
    """The Analysis (model.queueing.analytic.solver) of `scenario` at `rate_rps` requests a second with its
    client retries; `attempt(scenario, offered_rps)` solves one attempt's system at an offered load."""
    policy: Retries = scenario.workload.retries
    offered = rate_rps
    analysis = attempt(scenario, offered)
    converged = False
    for _ in range(MAX_ITERATIONS):
        fail = analysis.results.error_pct / 100.0
        wanted = rate_rps * expected_attempts(fail, policy.attempts)
        if analysis.results.saturated or abs(wanted - offered) <= TOLERANCE * offered:
            converged = not analysis.results.saturated
            offered = wanted if analysis.results.saturated else offered
            break
        offered = wanted
        analysis = attempt(scenario, offered)
    return dataclasses.replace(analysis, results=_results(scenario, rate_rps, offered, analysis, converged))


def _results(scenario: Scenario, rate_rps: float, offered: float, analysis, converged: bool) -> Results:
    attempt_results: Results = analysis.results
    policy: Retries = scenario.workload.retries
    fail = attempt_results.error_pct / 100.0
    final = final_failure(fail, policy.attempts)
    latency = attempt_results.latency_ms
    if 1e-12 < fail < 1.0 and analysis.attempt_latency is not None and math.isfinite(latency.mean):
        latency = _latency_over_attempts(scenario, fail, analysis.attempt_latency, latency)
    error_pct = 100.0 * final
    risk = storm_risk(scenario, rate_rps)
    notes = list(attempt_results.notes)
    amplification = offered / rate_rps
    if attempt_results.saturated and rate_rps >= risk.capacity_rps:
        notes.append(
            f"retries: saturated before any retry ({rate_rps:,.1f} requests/s against a capacity of "
            f"{risk.capacity_rps:,.1f}/s); retrying failed attempts only adds to it ({offered:,.1f}/s offered)"
        )
    elif attempt_results.saturated:
        notes.append(
            f"retries: no steady state. At {rate_rps:,.1f} requests/s the attempts fail often enough that "
            f"the retries push the offered load past capacity ({risk.capacity_rps:,.1f} attempts/s): with "
            f"every attempt failing the clients send {risk.storm_rps:,.1f} attempts/s"
        )
    else:
        notes.append(
            f"retries: {amplification:.4g} attempts per request ({offered:,.1f} attempts/s offered), "
            f"the least fixed point of load = rate x expected attempts, {100 * fail:.3g}% of attempts "
            "failing, taken as independent: a lower bound when retries come back within the busy spell "
            "that failed them (a short backoff), where the simulator measures more"
            + ("" if converged else "; the iteration had not settled")
        )
        if risk.sustains:
            notes.append(
                f"retries: a retry storm would sustain itself: with every attempt failing the clients send "
                f"{risk.storm_rps:,.1f} attempts/s, at or above capacity ({risk.capacity_rps:,.1f}/s), so a "
                "burst or a pause that overloads it can leave it failing after the cause has passed; the "
                "formulas give the calm state only: simulate through time (--duration with --burst) to see it"
            )
    saturated = list(attempt_results.saturated)
    return dataclasses.replace(
        attempt_results,
        rate_rps=float(rate_rps),
        latency_ms=latency,
        throughput_rps=rate_rps * (1.0 - final),
        error_pct=error_pct,
        slo=check_slo(scenario.slo, latency, error_pct, saturated),
        notes=list(dict.fromkeys(notes)),
        retries=RetryStats(
            policy, offered, rate_rps * (1.0 - final), 100.0 * fail, error_pct, rate_rps, risk
        ),
    )


def _latency_over_attempts(scenario: Scenario, fail: float, dist, attempt: Latency) -> Latency:
    """Latency of the requests that succeed: k failed attempts (each a timeout, or the attempt's mean for
    a refusal without a timeout), k backoffs, then an answered attempt, with k's weight p^k (1 - p)."""
    policy: Retries = scenario.workload.retries
    network_ms = scenario.workload.network_ms
    entry = scenario.nodes[scenario.entry]
    timeout_ms = entry.timeout_ms if isinstance(entry, ServiceNode) else None
    success_mean = attempt.mean - network_ms
    failed_ms = timeout_ms if timeout_ms else success_mean
    edges = np.concatenate(([0.0], (np.arange(len(dist.mass)) + 0.5) * dist.step_ms))
    cumulative = np.concatenate(([0.0], dist.cumulative))
    kept = float(np.interp(timeout_ms, edges, cumulative)) if timeout_ms else 1.0

    def success_cdf(t: np.ndarray) -> np.ndarray:
        """One answered attempt's latency: the attempt's distribution below the timeout, renormalised."""
        return np.minimum(np.interp(t, edges, cumulative, left=0.0, right=1.0), kept) / max(kept, 1e-300)

    weights = np.array([fail**k * (1.0 - fail) for k in range(policy.attempts + 1)])
    weights /= weights.sum()
    parts = []
    offsets = np.zeros(1)
    for k, weight in enumerate(weights):
        if k:
            offsets = _add_backoff(offsets, policy, k)
        shift = k * failed_ms + offsets

        def cdf(t: float, shift: np.ndarray = shift) -> float:
            return float(success_cdf(t - shift).mean())

        parts.append((float(weight), cdf, float(shift.mean()) + success_mean))
    mean = sum(w * m for w, _, m in parts)
    p50, p95, p99 = (mixture_quantile(parts, q) for q in (0.5, 0.95, 0.99))
    return Latency(mean + network_ms, p50 + network_ms, p95 + network_ms, p99 + network_ms)


def _add_backoff(offsets: np.ndarray, policy: Retries, retry: int) -> np.ndarray:
    """The waits before the first `retry` retries, as points of equal weight: each wait is the doubled
    backoff, or uniform up to it with jitter (midpoint quadrature, the sum thinned to its quantiles)."""
    bound = backoff_bound_ms(policy, retry)
    if not policy.jitter:
        return offsets + bound
    points = (np.arange(JITTER_POINTS) + 0.5) / JITTER_POINTS * bound
    summed = np.sort((offsets[:, None] + points[None, :]).ravel())
    if len(summed) <= OFFSET_POINTS:
        return summed
    return np.quantile(summed, (np.arange(OFFSET_POINTS) + 0.5) / OFFSET_POINTS)
