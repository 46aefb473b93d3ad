"""Visit ratios: how many times one entry request reaches each node (the traffic equations).

Both solvers, the cost model and the fit need the same per-node load, so it is computed
once here from the call graph: v = e + R^T v, where R[i, j] is the mean number of visits
node i makes to node j (calls, and a cache's misses). A graph without a cycle, the usual
case, is walked once in topological order (O(calls), no recursion); one with a cycle (async
calls that come back) is solved as a sparse system. Neither ever builds an N x N matrix.
scipy is imported only for a cycle: every scenario load comes through here, and the command
line's start-up stays free of it (tests/test_cli_imports.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.scenario.schema import CacheNode, DatabaseNode, Scenario, post_order

if TYPE_CHECKING:
    from scipy import sparse


@dataclass(frozen=True)
class NodeVisits:
    """Mean visits to one node per request arriving at the entry node."""

    visits: float
    reads: float = 0.0  # databases: visits that are reads
    writes: float = 0.0  # databases: visits that are writes (they all go to the primary)


class UnboundedVisitsError(ValueError):
    """Calls that feed back on themselves with a gain of one or more never finish."""


Edge = tuple[int, int, float, str]  # (from, to, mean visits, "read" | "write")


def _edges(scenario: Scenario) -> tuple[list[str], list[Edge]]:
    names = list(scenario.nodes)
    index = {n: k for k, n in enumerate(names)}
    edges: list[Edge] = []
    for name, node in scenario.nodes.items():
        for call in getattr(node, "calls", []):
            edges.append((index[name], index[call.to], call.visits, call.op))
        if isinstance(node, CacheNode) and node.miss:
            edges.append((index[name], index[node.miss], 1.0 - node.hit_ratio, "read"))
    return names, edges


def routing_matrix(scenario: Scenario) -> tuple[list[str], "sparse.csr_matrix", "sparse.csr_matrix"]:
    """Node names, and the read and write visit matrices R[i, j] (mean visits i -> j), sparse:
    a graph has a few calls per node, so N x N dense would spend memory on zeros."""
    from scipy import sparse

    names, edges = _edges(scenario)
    shape = (len(names), len(names))
    out = []
    for op in ("read", "write"):
        chosen = [(i, j, v) for i, j, v, o in edges if o == op]
        rows, cols, values = (list(x) for x in zip(*chosen)) if chosen else ([], [], [])
        out.append(sparse.csr_matrix((values, (rows, cols)), shape=shape))
    return names, out[0], out[1]


def _topological(count: int, edges: list[Edge]) -> list[int] | None:
    """Kahn's order of the nodes, or None when the calls have a cycle."""
    indegree = [0] * count
    after: list[list[int]] = [[] for _ in range(count)]
    for i, j, _, _ in edges:
        indegree[j] += 1
        after[i].append(j)
    ready = deque(k for k in range(count) if indegree[k] == 0)
    order = []
    while ready:
        k = ready.popleft()
        order.append(k)
        for j in after[k]:
            indegree[j] -= 1
            if indegree[j] == 0:
                ready.append(j)
    return order if len(order) == count else None


def _feeds_back(routing: "sparse.csr_matrix") -> bool:
    """Whether some cycle of calls has a gain of one or more (spectral radius >= 1).

    Only strongly connected components can feed back, and each is checked on its own,
    so the dense eigenvalue problem is as large as the largest cycle, not the graph.
    """
    from scipy.sparse.csgraph import connected_components

    count, labels = connected_components(routing, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    for component in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(labels == component)
        block = routing[members][:, members].toarray()
        if np.max(np.abs(np.linalg.eigvals(block))) >= 1.0 - 1e-12:
            return True
    return bool(np.any(routing.diagonal() >= 1.0 - 1e-12))


def _solve_cyclic(scenario: Scenario, entry: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    _, reads, writes = routing_matrix(scenario)
    routing = (reads + writes).tocsr()
    if _feeds_back(routing):
        raise UnboundedVisitsError("calls feed back on themselves with a mean of one or more visits per pass")
    external = np.zeros(count)
    external[entry] = 1.0
    system = (sparse.identity(count, format="csc") - routing.T.tocsc()).tocsc()
    visits = np.atleast_1d(spsolve(system, external)) if count > 1 else external / system.toarray()[0, 0]
    return visits, writes.T @ visits


def visit_ratios(scenario: Scenario) -> dict[str, NodeVisits]:
    names, edges = _edges(scenario)
    entry = names.index(scenario.entry)
    order = _topological(len(names), edges)
    if order is None:
        visits, write_in = _solve_cyclic(scenario, entry, len(names))
    else:
        visits, write_in = np.zeros(len(names)), np.zeros(len(names))
        visits[entry] = 1.0
        out_edges: list[list[Edge]] = [[] for _ in names]
        for edge in edges:
            out_edges[edge[0]].append(edge)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in order:
                for _, j, count, op in out_edges[k]:
                    visits[j] += visits[k] * count
                    if op == "write":
                        write_in[j] += visits[k] * count
    if not np.all(np.isfinite(visits)):
        raise UnboundedVisitsError("calls multiply beyond any number a computer can hold")
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

    order = post_order(
        scenario.entry, lambda name: [to for to, _ in edges(name)]
    )  # sync calls form no cycles
    path = {name: 0.0 for name in order}
    path[scenario.entry] = 1.0
    for name in reversed(order):
        for to, visits in edges(name):
            path[to] += path[name] * visits
    return {n: v for n, v in path.items() if scenario.nodes[n].kind == "kafka"}


def arrival_rates(scenario: Scenario, rate_rps: float | None = None) -> dict[str, NodeVisits]:
    """Per-node arrival rates in requests per second (visit ratios times the entry rate).

    A closed workload (users) has no rate of its own: pass its throughput
    (model.queueing.offered_load.offered_rps)."""
    rate = scenario.workload.rate_rps if rate_rps is None else rate_rps
    if rate is None:
        raise ValueError("a closed workload (users) has no rate_rps: pass its throughput as rate_rps")
    return {
        n: NodeVisits(v.visits * rate, v.reads * rate, v.writes * rate)
        for n, v in visit_ratios(scenario).items()
    }
