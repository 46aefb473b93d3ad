"""Visit ratios: how many times one entry request reaches each node (the traffic equations).

Both solvers, the cost model and the fit need the same per-node load, so it is computed
once here from the call graph: v = e + R^T v, where R[i, j] is the mean number of visits
node i makes to node j (calls, and a cache's misses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.scenario.schema import CacheNode, DatabaseNode, Scenario


@dataclass(frozen=True)
class NodeVisits:
    """Mean visits to one node per request arriving at the entry node."""

    visits: float
    reads: float = 0.0   # databases: visits that are reads
    writes: float = 0.0  # databases: visits that are writes (they all go to the primary)


class UnboundedVisitsError(ValueError):
    """Calls that feed back on themselves with a gain of one or more never finish."""


def routing_matrix(scenario: Scenario) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Node names, and the read and write visit matrices R[i, j] (mean visits i -> j)."""
    names = list(scenario.nodes)
    index = {n: k for k, n in enumerate(names)}
    reads = np.zeros((len(names), len(names)))
    writes = np.zeros_like(reads)
    for name, node in scenario.nodes.items():
        i = index[name]
        for call in getattr(node, "calls", []):
            target = writes if call.op == "write" else reads
            target[i, index[call.to]] += call.visits
        if isinstance(node, CacheNode) and node.miss:
            reads[i, index[node.miss]] += 1.0 - node.hit_ratio
    return names, reads, writes


def visit_ratios(scenario: Scenario) -> dict[str, NodeVisits]:
    names, reads, writes = routing_matrix(scenario)
    routing = reads + writes
    external = np.zeros(len(names))
    external[names.index(scenario.entry)] = 1.0
    if len(names) and np.max(np.abs(np.linalg.eigvals(routing))) >= 1.0 - 1e-12:
        raise UnboundedVisitsError("calls feed back on themselves with a mean of one or more visits per pass")
    visits = np.linalg.solve(np.eye(len(names)) - routing.T, external)
    write_in = writes.T @ visits
    out: dict[str, NodeVisits] = {}
    for k, name in enumerate(names):
        if isinstance(scenario.nodes[name], DatabaseNode):
            # The entry database (rare) takes its external arrivals as reads.
            out[name] = NodeVisits(float(visits[k]), float(visits[k] - write_in[k]), float(write_in[k]))
        else:
            out[name] = NodeVisits(float(visits[k]))
    return out


def sync_produces(scenario: Scenario) -> dict[str, float]:
    """Mean produces per entry request that the request waits on (sync calls to a Kafka node).

    Only visits on the entry's synchronous path count: a refused produce fails the request
    there, while one made from async work fails nothing the client waits for.
    """

    def edges(name: str) -> list[tuple[str, float]]:
        node = scenario.nodes[name]
        out = [(c.to, c.visits) for c in getattr(node, "calls", []) if c.mode == "sync"]
        if isinstance(node, CacheNode) and node.miss:
            out.append((node.miss, 1.0 - node.hit_ratio))
        return out

    order: list[str] = []  # reverse post-order: every node after all that call it
    seen: set[str] = set()

    def visit(name: str) -> None:  # sync calls form no cycles: the loader refuses them
        seen.add(name)
        for to, _ in edges(name):
            if to not in seen:
                visit(to)
        order.append(name)

    visit(scenario.entry)
    path = {name: 0.0 for name in order}
    path[scenario.entry] = 1.0
    for name in reversed(order):
        for to, visits in edges(name):
            path[to] += path[name] * visits
    return {n: v for n, v in path.items() if scenario.nodes[n].kind == "kafka"}


def arrival_rates(scenario: Scenario, rate_rps: float | None = None) -> dict[str, NodeVisits]:
    """Per-node arrival rates in requests per second (visit ratios times the entry rate)."""
    rate = scenario.workload.rate_rps if rate_rps is None else rate_rps
    return {n: NodeVisits(v.visits * rate, v.reads * rate, v.writes * rate) for n, v in visit_ratios(scenario).items()}
