"""The shape of a closed workload's waits: what an arriving request finds, by the arrival theorem.

MVA gives each pool's mean wait. For percentiles the wait's distribution is needed too: a request
arriving at a pool finds it as it is with one user fewer in the network (exact for product-form),
so with j requests there and c servers it waits for j - c + 1 completions. That mixture of Erlang
waits is summarised as a chance of waiting and a gamma of the same mean (MVA's, so the mean stays
exact) and variance. Past the knee this is what makes a closed system's latency tight (every user
queues behind about the same number of others) where an open queue's would be exponential.

Computing the distributions costs O(users^2) per pool, so this is done up to EXACT_USERS users
(model.queueing.mva); above, the analytic solver falls back on the open network's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.queueing.closed_network import ClosedSolution
from model.queueing.mva import EXACT_USERS, arrival_marginals, wait_shape


@dataclass(frozen=True)
class WaitShape:
    """One visit's wait: none with 1 - prob, else gamma(mean_s, scv)."""

    prob: float
    mean_s: float  # when waiting
    scv: float


@dataclass(frozen=True)
class ClosedWaits:
    pools: dict[str, WaitShape]  # by pool name
    slots: WaitShape | None  # the wait for one of the entry's slots


def closed_waits(solution: ClosedSolution, users: int | None = None) -> ClosedWaits | None:
    """Each pool's per-visit wait at `users`, or None where it is not computed (too many users, or a
    curve that is not MVA's own recursion)."""
    n = int(users if users is not None else solution.network.users)
    if n > EXACT_USERS or solution.curve.method != "exact":
        return None
    pools = solution.network.pools
    if solution.inside is None:
        seen = arrival_marginals(solution.stations, solution.curve.throughput_rps, n)
        residence = solution.curve.residence_s[solution.row(n)]
        return ClosedWaits(_shapes(pools, solution.stations, seen, residence), None)
    slots = int(solution.inside.users[-1])
    full_rps = float(solution.inside.throughput_rps[-1])
    fes_seen = arrival_marginals([solution.fes], solution.curve.throughput_rps, n)[0]
    # The wait for a slot: j >= slots found at the entry wait for j - slots + 1 completions of the
    # full inner network (its throughput with every slot held).
    prob, mean, scv = wait_shape(fes_seen, slots, slots / full_rps)
    slot = WaitShape(prob, mean, scv) if prob > 0 else None
    # Inside: the population a request joins (what it found, itself included, at most the slots).
    joined = float((fes_seen * np.minimum(np.arange(len(fes_seen)) + 1.0, slots)).sum())
    held = max(1, min(round(joined), slots))
    seen = arrival_marginals(solution.stations, solution.inside.throughput_rps, held)
    inner = solution.inside.residence_s[solution.inside.at(held)].copy()
    # Scale the inner waits so slot wait and inner response add up to MVA's response at the entry
    # (the inner response averaged over the populations joined, not at their mean).
    service = np.array([st.demand_s for st in solution.stations])
    target = float(solution.curve.residence_s[solution.row(n), 0]) - prob * mean
    waits = inner - service
    if waits.sum() > 0 and target > service.sum():
        inner = service + waits * (target - service.sum()) / waits.sum()
    return ClosedWaits(_shapes(pools, solution.stations, seen, inner), slot)


def _shapes(pools, stations, seen, residence) -> dict[str, WaitShape]:
    out = {}
    for pool, station, marg, res in zip(pools, stations, seen, residence):
        if pool.visits <= 0 or pool.demand_s <= 0:
            continue
        service_s = station.demand_s / pool.visits
        prob, _, scv = wait_shape(marg, pool.servers, service_s)
        wait_s = max(float(res) - station.demand_s, 0.0) / pool.visits  # MVA's mean, per visit
        if prob > 0 and wait_s > 0:
            out[pool.pool] = WaitShape(prob, wait_s / prob, scv)
    return out
