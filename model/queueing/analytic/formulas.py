"""Queueing formulas for one pool of servers, in the units of the scenario file.

Times are in milliseconds and rates in requests per second; offered load is in erlangs
(arrival_rps * service_ms / 1000). These are the building blocks of the analytic solver and
of the planner, so they are pure functions of numbers, with no scenario in sight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from model.queueing.analytic.delay_grid import Delay, Sum, distribution_of, queue_wait, service_delay
from model.queueing.distributions import ServiceTime
from model.queueing.special import (
    binomial_sf_by_trials,
    brentq,
    gammaincinv,
    gammaln,
    pdtr,
    pdtrc,
    poisson_sf_by_count,
)


def erlangs(arrival_rps: float, service_ms: float) -> float:
    """Erlangs: the mean number of busy servers the traffic needs."""
    return arrival_rps * service_ms / 1000.0


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (1 when saturated).

    Computed through the Erlang B recursion, which stays stable for thousands of servers
    where the textbook factorial sum overflows.
    """
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    if servers <= ERLANG_RECURSION_SERVERS:
        blocking = 1.0
        for k in range(1, servers + 1):
            blocking = load * blocking / (k + load * blocking)
    else:
        blocking = erlang_b_closed(servers, load)
    return blocking / (1.0 - (load / servers) * (1.0 - blocking))


ERLANG_RECURSION_SERVERS = 2_000  # above this the recursion's O(servers) loop gives way to the closed form


def erlang_b_closed(servers: int, load: float) -> float:
    """Erlang B as P(Poisson(load) = c) / P(Poisson(load) <= c), in constant time.

    The ratio is taken in logs, and for load < c the denominator is at least about a half,
    so it neither overflows nor loses precision where the recursion would need a billion steps.
    """
    log_pmf = -load + servers * math.log(load) - gammaln(servers + 1)
    return math.exp(log_pmf - _log_poisson_cdf(servers, load))


def mmc_wait_mean(servers: int, arrival_rps: float, service_ms: float) -> float:
    """Mean queueing delay in an M/M/c queue, ms (exact)."""
    load = erlangs(arrival_rps, service_ms)
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * service_ms / (servers - load)


def pk_wait_mean(arrival_rps: float, service_ms: float, service_scv: float) -> float:
    """Pollaczek-Khinchine mean wait of an M/G/1 queue, ms (exact)."""
    rho = erlangs(arrival_rps, service_ms)
    if rho >= 1:
        return math.inf
    return rho * service_ms * (1.0 + service_scv) / (2.0 * (1.0 - rho))


def mgc_wait_mean_allen_cunneen(
    servers: int, arrival_rps: float, service_ms: float, service_scv: float, arrival_scv: float = 1.0
) -> float:
    """Allen-Cunneen mean wait of a G/G/c queue, ms: M/M/c scaled by (ca^2 + cs^2) / 2.

    Exact for M/M/c and for M/G/1 (where it is Pollaczek-Khinchine); an approximation
    otherwise, good for moderate cv.
    """
    return mmc_wait_mean(servers, arrival_rps, service_ms) * (arrival_scv + service_scv) / 2.0


def pool_wait(servers: int, arrival_rps: float, service: ServiceTime, arrival_scv: float = 1.0) -> Delay:
    """The queueing delay of one visit to an M/G/c pool as a distribution.

    Waits with the Erlang C probability, and then for an exponential time whose mean makes
    the overall mean Allen-Cunneen's: exact for M/M/c, the exact mean for M/G/1.
    """
    load = erlangs(arrival_rps, service.mean_ms)
    mean_ms = mgc_wait_mean_allen_cunneen(servers, arrival_rps, service.mean_ms, service.scv, arrival_scv)
    return queue_wait(erlang_c(servers, load), mean_ms)


# ---------------------------------------------------------------- response-time quantiles


def mmc_response_cdf(servers: int, arrival_rps: float, service_ms: float, t_ms: float) -> float:
    """P(wait + service <= t) in an M/M/c queue (exact): service plus a hypoexponential."""
    load = erlangs(arrival_rps, service_ms)
    if load >= servers:
        return 0.0
    mu, alpha = 1.0 / service_ms, (servers - load) / service_ms
    waits = erlang_c(servers, load)
    served = -math.expm1(-mu * t_ms)
    if abs(mu - alpha) < 1e-9 * mu:
        both = 1.0 - math.exp(-mu * t_ms) * (1.0 + mu * t_ms)
    else:
        both = 1.0 - (mu * math.exp(-alpha * t_ms) - alpha * math.exp(-mu * t_ms)) / (mu - alpha)
    return (1.0 - waits) * served + waits * both


def mmc_response_quantile(servers: int, arrival_rps: float, service_ms: float, q: float) -> float:
    """The q-quantile of wait + service in an M/M/c queue, ms (exact up to root finding)."""
    mean_ms = mmc_wait_mean(servers, arrival_rps, service_ms) + service_ms
    if not math.isfinite(mean_ms):
        return math.inf
    return _root(lambda t: mmc_response_cdf(servers, arrival_rps, service_ms, t), q, mean_ms)


def response_quantile(servers: int, arrival_rps: float, service: ServiceTime, q: float) -> float:
    """The q-quantile of one visit's wait + service at an M/G/c pool, ms (as the solver has it)."""
    if service.cv == 1:
        return mmc_response_quantile(servers, arrival_rps, service.mean_ms, q)
    if erlangs(arrival_rps, service.mean_ms) >= servers:
        return math.inf
    return distribution_of(Sum([pool_wait(servers, arrival_rps, service), service_delay(service)])).quantile(
        q
    )


def min_servers_for_quantile(
    arrival_rps: float, service: ServiceTime, q: float, target_ms: float, max_servers: int = 100_000
) -> int | None:
    """The fewest servers whose q-quantile response is within target_ms, or None if none can.

    More servers only shorten the wait, so the answer is found by doubling then bisection;
    None when even no waiting at all misses the target (the service alone is too slow).
    """
    if _service_quantile(service, q) > target_ms:
        return None
    low = max(1, math.floor(erlangs(arrival_rps, service.mean_ms)) + 1)  # fewest stable

    def meets(c: int) -> bool:
        return response_quantile(c, arrival_rps, service, q) <= target_ms

    if meets(low):
        return low
    high = low
    while not meets(high):
        if high >= max_servers:
            return None
        low, high = high, min(2 * high, max_servers)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if meets(mid) else (mid, high)
    return high


def _service_quantile(service: ServiceTime, q: float) -> float:
    if service.cv == 0:
        return service.mean_ms
    shape = 1.0 / service.scv
    return float(gammaincinv(shape, q)) * service.mean_ms / shape


def _root(cdf: Callable[[float], float], q: float, mean_ms: float) -> float:
    """Solve cdf(t) = q on [0, mean / (1 - q)], the bracket Markov's inequality guarantees."""
    high = mean_ms / (1.0 - q) * 1.001 + 1e-12
    if cdf(0.0) >= q:
        return 0.0
    return float(brentq(lambda t: cdf(t) - q, 0.0, high, xtol=1e-10 * high, rtol=1e-10))


# ---------------------------------------------------------------- M/M/1/K (a Kafka partition)


@dataclass(frozen=True)
class MM1K:
    """An M/M/1/K queue: K places, the one in service included; arrivals finding it full are lost.

    The sojourn of an accepted arrival that finds n waiting is Erlang(n + 1), and n is a
    truncated geometric, so the CDF reduces to Poisson tails (closed form, no sum over K).
    """

    arrival_rps: float
    service_rps: float
    capacity: int

    @property
    def rho(self) -> float:
        return self.arrival_rps / self.service_rps

    @property
    def blocking_prob(self) -> float:
        rho, k = self.rho, self.capacity
        if _near_one(rho, k):
            return 1.0 / (k + 1)
        if rho < 1:
            return rho**k * (1.0 - rho) / (1.0 - rho ** (k + 1))
        inv = 1.0 / rho  # the same distribution read from the full end: ratio 1/rho
        return (1.0 - inv) / (1.0 - inv ** (k + 1))

    @property
    def mean_found_by_accepted(self) -> float:
        """Mean number an accepted arrival finds (truncated geometric on 0..K-1)."""
        rho, k = self.rho, self.capacity
        if _near_one(rho, k):
            return (k - 1) / 2.0
        if rho < 1:
            return rho / (1.0 - rho) - k * rho**k / (1.0 - rho**k)
        inv = 1.0 / rho
        return (k - 1) - (inv / (1.0 - inv) - k * inv**k / (1.0 - inv**k))

    @property
    def mean_sojourn_ms(self) -> float:
        return (self.mean_found_by_accepted + 1.0) * 1000.0 / self.service_rps

    def cdf(self, t_ms: float) -> float:
        """P(sojourn <= t) for an accepted arrival (exact)."""
        if t_ms <= 0:
            return 0.0
        rho, k = self.rho, self.capacity
        x = self.service_rps * t_ms / 1000.0  # mean services completed in t
        full = float(pdtrc(k - 1, x))  # P(at least K services done): surely finished
        below = float(pdtr(k - 1, x))
        if _near_one(rho, k):
            return full + (x * float(pdtr(k - 2, x)) / k if k > 1 else 0.0)
        if rho < 1:
            return full + (below - math.exp(-(1.0 - rho) * x) * float(pdtr(k - 1, rho * x))) / (1.0 - rho**k)
        inv = 1.0 / rho
        log_s = x * (rho - 1.0) - k * math.log(rho) + _log_poisson_cdf(k - 1, rho * x)
        return min(1.0, full + (math.exp(log_s) - inv**k * below) / (1.0 - inv**k))

    def quantile_ms(self, q: float) -> float:
        return _root(self.cdf, q, self.mean_sojourn_ms)


def mm1k(arrival_rps: float, service_rps: float, capacity: int) -> MM1K:
    return MM1K(arrival_rps, service_rps, capacity)


@dataclass(frozen=True)
class SharedPartitions:
    """One consumer serving `partitions` partitions FIFO, each holding at most `capacity`.

    A message picks its partition at random, so the labels of the N messages a consumer
    holds are close to independent and uniform: the target is full with probability
    P(Binomial(N, 1/n) >= K). N is then a birth-death chain whose arrivals are thinned by
    that probability. Against the simulator: drops within 2% at moderate load and 12% in
    overload, where pooling the partitions into one M/M/1/(nK) was 4-6x too low.
    """

    arrival_rps: float  # offered to the consumer, all its partitions together
    service_rps: float
    partitions: int
    capacity: int  # per partition, the message in process included

    @cached_property
    def _chain(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, P(N), P(full | N)) over the states that carry probability."""
        rho = self.arrival_rps / self.service_rps
        top = self.partitions * self.capacity
        if rho < 0.999:  # the tail decays at least geometrically (thinning only slows births)
            top = min(top, int(math.ceil(-37.0 / math.log(rho))) + 1 if rho > 0 else 1)
        n = np.arange(top + 1)
        full = binomial_sf_by_trials(self.capacity, top, 1.0 / self.partitions)  # P(Binomial(N, 1/n) >= K)
        births = np.maximum(self.arrival_rps * (1.0 - full[:-1]), 1e-300)
        log_p = np.concatenate([[0.0], np.cumsum(np.log(births / self.service_rps))])
        p = np.exp(log_p - log_p.max())
        return n, p / p.sum(), full

    @property
    def blocking_prob(self) -> float:
        _, p, full = self._chain
        return float(np.dot(p, full))

    @cached_property
    def _accepted(self) -> tuple[np.ndarray, np.ndarray]:
        """How many an accepted message finds, and with what probability."""
        n, p, full = self._chain
        w = p * (1.0 - full)
        keep = w > w.max() * 1e-14
        return n[keep], w[keep] / w[keep].sum()

    @property
    def mean_sojourn_ms(self) -> float:
        found, w = self._accepted
        return float(np.dot(w, found + 1.0)) * 1000.0 / self.service_rps

    def cdf(self, t_ms: float) -> float:
        """P(lag <= t): finding N, the lag is Erlang(N + 1): P(Poisson(mu t) >= N + 1)."""
        if t_ms <= 0:
            return 0.0
        found, w = self._accepted
        return float(np.dot(w, poisson_sf_by_count(int(found[-1]), self.service_rps * t_ms / 1000.0)[found]))


def consumer_queue(
    partitions: int, partition_rps: float, service_rps: float, capacity: int
) -> MM1K | SharedPartitions:
    """A consumer's queue: exact M/M/1/K for one partition, the shared-partition chain for more."""
    if partitions == 1:
        return MM1K(partition_rps, service_rps, capacity)
    return SharedPartitions(partitions * partition_rps, service_rps, partitions, capacity)


def mixture_quantile(parts: list[tuple[float, Callable[[float], float], float]], q: float) -> float:
    """The q-quantile of a mixture given (weight, cdf, mean_ms) parts (weights sum to one)."""
    mean_ms = sum(w * m for w, _, m in parts)
    return _root(lambda t: sum(w * cdf(t) for w, cdf, _ in parts), q, mean_ms)


def _near_one(rho: float, capacity: int) -> bool:
    """rho so close to 1 that the rho != 1 formulas cancel catastrophically."""
    return abs(rho - 1.0) * capacity < 1e-7


def _log_poisson_cdf(k: int, mean: float) -> float:
    """log P(Poisson(mean) <= k), accurate far in the lower tail where pdtr underflows."""
    p = float(pdtr(k, mean))
    if p > 1e-280 or mean <= k:
        return math.log(p) if p > 0 else -math.inf
    # Sum down from the top term: pmf(k) * (1 + k/m + k(k-1)/m^2 + ...), ratios below k/m < 1.
    log_top = -mean + k * math.log(mean) - gammaln(k + 1)
    terms = min(k, int(math.ceil(42.0 / -math.log(k / mean))) + 1) if k > 0 else 0
    total, term = 1.0, 1.0
    for i in range(terms):
        term *= (k - i) / mean
        total += term
        if term < 1e-18 * total:
            break
    return log_top + math.log(total)
