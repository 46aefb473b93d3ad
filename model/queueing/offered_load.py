"""Offered load per server pool: where the capacity runs out, without simulating.

The simulator names its saturated nodes from here; the analytic solver finds the same ones from
its own pool solution (tests/model/queueing/test_solvers_agree.py holds the two to the same answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.scenario.graph import arrival_rates
from model.scenario.schema import Scenario
from model.queueing.topology import CacheStation, DatabaseStation, KafkaStation, ServiceStation, Station


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
    rates = arrival_rates(scenario, rate_rps)
    out: list[PoolLoad] = []
    for name, st in stations.items():
        r = rates[name]
        per_ms = 1.0 / 1000.0
        if isinstance(st, (ServiceStation, CacheStation)):
            out.append(PoolLoad(name, name, r.visits * st.service.mean_ms * per_ms, st.servers))
        elif isinstance(st, DatabaseStation):
            for k, (reads, writes) in enumerate(st.instance_rates(r.reads, r.writes)):
                work = reads * st.read.mean_ms + writes * st.write.mean_ms
                out.append(PoolLoad(name, f"{name}/{k}", work * per_ms, st.servers_per_instance))
        elif isinstance(st, KafkaStation):
            per_partition = r.visits / st.partitions
            for c in range(st.active_consumers):
                owned = len(st.partitions_of(c))
                out.append(PoolLoad(name, f"{name}/consumer-{c}", owned * per_partition * st.consume.mean_ms * per_ms, 1))
    return out


def saturated_nodes(loads: list[PoolLoad]) -> list[str]:
    """Nodes with any pool whose offered load reaches its servers, in graph order."""
    seen: list[str] = []
    for load in loads:
        if load.utilization >= 1.0 and load.node not in seen:
            seen.append(load.node)
    return seen
