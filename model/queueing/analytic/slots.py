"""Worker slots and the CPU solved together: a flow-equivalent server over a closed sub-network.

A service with `concurrency` holds at most K = replicas * concurrency requests; inside, they
queue for its c cores (exponential, mean S each) and, with `blocking_calls`, wait for their
sync calls (an infinite-server delay of mean D: the calls' response). Putting an M/M/K queue
for slots on top of a holding time that already contains the CPU queue counts the CPU
queueing twice (issue 11: one replica, 1 core, concurrency 2, 10 ms at 70 req/s was declared
saturated; it is an M/M/1 with a 33.3 ms mean).

Here the K slots are one load-dependent server: with n requests inside, it completes X(n)
of them per ms, the throughput of the closed network (CPU + delay) with n customers, exact
by the convolution of the two stations' product-form terms. Open Poisson arrivals against it
form a birth-death chain with death rate X(min(n, K)). For exponential CPU work this is exact
(Norton's theorem for a window-limited product-form network): the mean number inside, the
mean wait for a slot and the probability of waiting. Other service-time shapes scale the
waits as Allen-Cunneen does, by (ca^2 + cs^2) / 2, where cs^2 is the CPU's when the slots are
CPU-bound and the holding time's when they are not (see `wait_scv`): exact for K = 1 (then
it is Pollaczek-Khinchine), an approximation otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from model.queueing.special import gammaln

MAX_POPULATION = 2000  # beyond this many slots the throughput has long converged


@dataclass(frozen=True)
class SlotSolution:
    """The node's slots and cores at one arrival rate (times in ms, per visit)."""

    saturated: bool
    prob_wait: float  # an arrival finds every slot taken (PASTA)
    slot_wait_ms: float  # mean wait for a slot, exponential shapes
    holding_ms: float  # mean time a slot is held: cores (queue and service) and the delay
    cpu_ms: float  # of which at the cores, queueing and service
    cpu_bound: float  # share of the cores busy when every slot is held (0..1)
    capacity_rps: float  # the most the slots and cores together complete, X(K)


@dataclass(frozen=True)
class Queue:
    """A FCFS station of the closed sub-network: `servers` exponential servers and the mean work
    one request brings it (visits * service, ms)."""

    servers: int
    demand_ms: float


def closed_throughput(
    servers: int, service_ms: float, delay_ms: float, population: int, queues: tuple[Queue, ...] = ()
) -> np.ndarray:
    """X(n) in completions per ms for n = 0..population (see `closed_network`)."""
    return closed_network(servers, service_ms, delay_ms, population, queues)[0]


def closed_network(
    servers: int, service_ms: float, delay_ms: float, population: int, queues: tuple[Queue, ...] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """X(n), completions per ms, and the mean number at the cores, for n = 0..population customers
    cycling through the node's cores (`servers` exponential servers, mean service_ms), the
    `queues` its held calls wait at, and a pure delay of mean delay_ms for the rest of the calls.

    Product form: G(n) is the convolution of the stations' terms, f(j) = D^j / prod min(i, c) for
    a FCFS station and D^j / j! for the delay; X(n) = G(n - 1) / G(n) and the cores hold
    sum_j j f(j) G_rest(n - j) / G(n). Computed in logs (populations in the thousands overflow
    floats) up to where X stops moving (then held at its limit).
    """
    top = min(population, 64)
    while True:
        j = np.arange(top + 1)
        log_cpu = _log_terms(top, servers, service_ms)
        rest = [_log_terms(top, queue.servers, queue.demand_ms) for queue in queues]
        if delay_ms > 0:
            rest.append(j * math.log(delay_ms) - _log_factorials(top))
        log_rest = rest[0] if rest else _log_one(top)
        for terms in rest[1:]:
            log_rest = _log_convolve(log_rest, terms)
        log_g = _log_convolve(log_cpu, log_rest)
        rate = np.concatenate(([0.0], np.exp(log_g[:-1] - log_g[1:])))
        weights = np.exp(log_cpu[None, :] + _shifted(log_rest) - log_g[:, None])  # [n, j]: j at the cores
        at_cpu = weights @ j
        if top >= min(population, MAX_POPULATION) or abs(rate[-1] - rate[-2]) <= 1e-13 * rate[-1]:
            break
        top = min(2 * top, population, MAX_POPULATION)
    rates, cpu = np.full(population + 1, rate[-1]), np.full(population + 1, at_cpu[-1])
    rates[: top + 1], cpu[: top + 1] = rate, at_cpu
    return rates, cpu


def _log_terms(top: int, servers: int, demand_ms: float) -> np.ndarray:
    """log f(j) = j log D - log prod_{i <= j} min(i, servers), j = 0..top: a FCFS station's terms."""
    return np.arange(top + 1) * math.log(demand_ms) - _log_server_products(top, servers)


# The parts of the terms that depend only on the population and the servers are built once: a
# runway solves the same nodes month after month, and these were a third of each solve.


@lru_cache(maxsize=64)
def _log_server_products(top: int, servers: int) -> np.ndarray:
    j = np.arange(1, top + 1)
    return _read_only(np.concatenate(([0.0], np.cumsum(np.log(np.minimum(j, servers))))))


@lru_cache(maxsize=16)
def _log_factorials(top: int) -> np.ndarray:
    return _read_only(gammaln(np.arange(top + 1) + 1))


@lru_cache(maxsize=16)
def _log_one(top: int) -> np.ndarray:
    """The terms of nothing (1 at j = 0): what the cores are convolved with when nothing else is held."""
    one = np.full(top + 1, -np.inf)
    one[0] = 0.0
    return _read_only(one)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # cached, so shared between calls
    return array


def _shifted(b: np.ndarray) -> np.ndarray:
    """The matrix b[n - j] (-inf where j > n), for convolutions as one array operation."""
    below, index = _lower_triangle(len(b))
    return np.where(below, b[index], -np.inf)


@lru_cache(maxsize=16)
def _lower_triangle(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(n - j >= 0, max(n - j, 0)) for a size x size matrix, built once per size (see above)."""
    n = np.arange(size)
    index = n[:, None] - n[None, :]
    return _read_only(index >= 0), _read_only(np.clip(index, 0, None))


def _log_convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log of the convolution of exp(a) and exp(b), without leaving logs (a log-sum-exp per row;
    scipy's logsumexp costs ten times more on these small arrays)."""
    terms = a[None, :] + _shifted(b)
    top = terms.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(terms - top[:, None]).sum(axis=1))


def solve_slots(
    arrival_rps: float,
    slots: int,
    servers: int,
    service_ms: float,
    delay_ms: float,
    queues: tuple[Queue, ...] = (),
) -> SlotSolution:
    """The birth-death chain of open arrivals against the K slots as one load-dependent server."""
    rate, at_cpu = closed_network(servers, service_ms, delay_ms, slots, queues)
    lam = arrival_rps / 1000.0  # per ms
    capacity = rate[slots]
    cpu_bound = min(capacity * service_ms / servers, 1.0)
    if lam >= capacity * (1 - 1e-12):
        return SlotSolution(True, 1.0, math.inf, math.inf, math.inf, cpu_bound, capacity * 1000.0)
    if lam <= 0:
        return SlotSolution(False, 0.0, 0.0, 0.0, 0.0, cpu_bound, capacity * 1000.0)
    # p(n) proportional to prod_{i <= n} lam / X(i) for n < K; geometric with ratio r from K on.
    log_p = np.concatenate(([0.0], np.cumsum(np.log(lam / rate[1 : slots + 1]))))
    r = lam / capacity
    log_p -= log_p.max()
    p = np.exp(log_p)
    p_k = p[slots]
    total = p[:slots].sum() + p_k / (1.0 - r)
    n = np.arange(slots)
    inside = (np.dot(n, p[:slots]) + slots * p_k / (1.0 - r)) / total  # E[min(N, K)]
    queued = p_k * r / (1.0 - r) ** 2 / total  # E[(N - K)+]
    prob_wait = p_k / (1.0 - r) / total
    holding_ms = inside / lam  # Little, per request
    cpu_ms = (np.dot(at_cpu[:slots], p[:slots]) + at_cpu[slots] * p_k / (1.0 - r)) / total / lam
    return SlotSolution(
        False,
        float(prob_wait),
        float(queued / lam),
        float(holding_ms),
        float(cpu_ms),
        cpu_bound,
        capacity * 1000.0,
    )


def wait_scv(slots: int, servers: int, cpu_bound: float, service_scv: float, holding_scv: float) -> float:
    """The service variability that shapes the wait for a slot.

    With no more slots than cores the slots are K independent servers holding a request for
    its whole holding time (an M/G/K); with more, the slots free up at the pace of the cores
    as far as the cores are the bottleneck when all slots are held, and of the holding time
    for the rest.
    """
    if slots <= servers:
        return holding_scv
    return cpu_bound * service_scv + (1.0 - cpu_bound) * holding_scv
