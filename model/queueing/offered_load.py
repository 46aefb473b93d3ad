"""Offered load per server pool: where the capacity runs out, without simulating.

The simulator names its saturated nodes from here; the analytic solver finds the same ones from
its own pool solution (tests/model/queueing/test_solvers_agree.py holds the two to the same answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.scenario.graph import arrival_rates
from model.scenario.schema import Scenario
from model.queueing.topology import Station, build_stations


@dataclass(frozen=True)
class PoolLoad:
    """One FIFO pool: offered work in busy servers (lambda * E[S]) against its servers."""

    node: str
    pool: str
    offered: float
    servers: int

    @property
    def utilization(self) -> float:
        return self.offered / self.servers


def offered_load(scenario: Scenario, stations: dict[str, Station], rate_rps: float) -> list[PoolLoad]:
    """One PoolLoad per (node, pool) its visits use, in graph order. A pool shared by several
    nodes (a host's cores) carries the work of all of them: each node on it sees the host's load."""
    rates = arrival_rates(scenario, rate_rps)
    demands = [d for name, st in stations.items() for d in st.demands(rates[name])]
    pooled: dict[str, float] = {}
    for d in demands:
        pooled[d.pool] = pooled.get(d.pool, 0.0) + d.offered
    return [PoolLoad(d.node, d.pool, pooled[d.pool], d.servers) for d in demands]


def saturated_nodes(loads: list[PoolLoad]) -> list[str]:
    """Nodes with any pool whose offered load reaches its servers, in graph order."""
    seen: list[str] = []
    for load in loads:
        if load.utilization >= 1.0 and load.node not in seen:
            seen.append(load.node)
    return seen


def saturation_rps(scenario: Scenario) -> float:
    """The entry rate at which the busiest pool reaches 100% (offered load grows linearly with the
    rate), or infinity when nothing is ever busy."""
    per_rps = max((p.utilization for p in offered_load(scenario, build_stations(scenario), 1.0)), default=0.0)
    return 1.0 / per_rps if per_rps > 0 else math.inf


def offered_rps(scenario: Scenario) -> float:
    """The requests per second a scenario's load sends: rate_rps, or a closed workload's throughput
    by mean-value analysis, loaded only for one (an open workload's questions never need it)."""
    if scenario.workload.rate_rps is not None:
        return scenario.workload.rate_rps
    from model.queueing.closed_network import solve_closed  # MVA: closed workloads only

    return solve_closed(scenario).throughput_rps()
