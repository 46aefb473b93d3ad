"""Visit ratios: how many times one entry request reaches each node (the traffic equations).

Both solvers, the cost model and the fit need the same per-node load, so it is computed
once here from the call graph: v = e + R^T v, where R[i, j] is the mean number of visits
node i makes to node j (calls, and a cache's misses), solved as a sparse system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

from model.scenario import CacheNode, DatabaseNode, Scenario, post_order


@dataclass(frozen=True)
class NodeVisits:
    """Mean visits to one node per request arriving at the entry node."""

    visits: float
    reads: float = 0.0   # databases: visits that are reads
    writes: float = 0.0  # databases: visits that are writes (they all go to the primary)


class UnboundedVisitsError(ValueError):
    """Calls that feed back on themselves with a gain of one or more never finish."""


def routing_matrix(scenario: Scenario) -> tuple[list[str], sparse.csr_matrix, sparse.csr_matrix]:
    """Node names, and the read and write visit matrices R[i, j] (mean visits i -> j), sparse:
    a graph has a few calls per node, so N x N dense would spend memory on zeros."""
    names = list(scenario.nodes)
    index = {n: k for k, n in enumerate(names)}
    entries: dict[str, tuple[list, list, list]] = {"read": ([], [], []), "write": ([], [], [])}
    for name, node in scenario.nodes.items():
        i = index[name]
        edges = [(c.op, c.to, c.visits) for c in getattr(node, "calls", [])]
        if isinstance(node, CacheNode) and node.miss:
            edges.append(("read", node.miss, 1.0 - node.hit_ratio))
        for op, to, visits in edges:
            rows, cols, values = entries[op]
            rows.append(i)
            cols.append(index[to])
            values.append(visits)
    shape = (len(names), len(names))
    reads, writes = (sparse.csr_matrix((v, (r, c)), shape=shape) for r, c, v in entries.values())
    return names, reads, writes


def _feeds_back(routing: sparse.csr_matrix) -> bool:
    """Whether some cycle of calls has a gain of one or more (spectral radius >= 1).

    Only strongly connected components can feed back, and each is checked on its own,
    so the dense eigenvalue problem is as large as the largest cycle, not the graph.
    """
    count, labels = connected_components(routing, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    for component in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(labels == component)
        block = routing[members][:, members].toarray()
        if np.max(np.abs(np.linalg.eigvals(block))) >= 1.0 - 1e-12:
            return True
    return bool(np.any(routing.diagonal() >= 1.0 - 1e-12))


def visit_ratios(scenario: Scenario) -> dict[str, NodeVisits]:
    names, reads, writes = routing_matrix(scenario)
    routing = (reads + writes).tocsr()
    external = np.zeros(len(names))
    external[names.index(scenario.entry)] = 1.0
    if len(names) and _feeds_back(routing):
        raise UnboundedVisitsError("calls feed back on themselves with a mean of one or more visits per pass")
    system = (sparse.identity(len(names), format="csc") - routing.T.tocsc()).tocsc()
    visits = np.atleast_1d(spsolve(system, external)) if len(names) > 1 else external / system.toarray()[0, 0]
    if not np.all(np.isfinite(visits)):
        raise UnboundedVisitsError("calls multiply beyond any number a computer can hold")
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

    order = post_order(scenario.entry, lambda name: [to for to, _ in edges(name)])  # sync calls form no cycles
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
