"""Waits at a host's cores shared by several nodes, whose visits follow each other within a request.

A request on a host visits its cores several times in a row (the app's work, then the cache
lookup, then the database query). At a FIFO pool such visits are not Poisson arrivals: a visit
that follows one on the same host finds exactly the work that arrived while its predecessor
waited and was served, which depends on the order (a short visit after a long one waits much
longer than the reverse: 31 ms against 23 ms end to end for 8+2 ms and 2+8 ms at 60 req/s on one
core, in the simulator). An M/G/1 of the mixed visits ignores that and is 30% off.

For one server with exponential work the mean waits follow from counting the work seen:
- a visit arriving from elsewhere sees the time-average jobs of each kind, L_i = lambda_i (W_i + S_i)
  (Poisson arrivals see time averages; a job in service has S_i left on average);
- a visit following visit j at once sees what arrived during j's sojourn: fresh visits of kind i at
  their outside rate over W_j + S_j, and the successor of every job visit j found ahead of it;
- its wait is the sum of the work seen, W_k = sum_i n_i S_i.
These are linear in the W's; solved by iteration. Equal exponential visits give the M/M/1 wait
(product form) exactly. c servers: solved for one server c times as fast, then scaled by the
ratio of the M/M/c wait to that server's M/M/1 wait for the pooled visits (exact again for equal
exponential visits). Other service shapes scale the waits by Allen-Cunneen's (1 + cs^2) / 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from model.queueing.analytic.formulas import mmc_wait_mean
from model.scenario.schema import CacheNode, KafkaNode, Scenario

GAP = "\0gap"  # time spent in a plain delay (a Kafka producer's wait): breaks a run of visits


@dataclass
class _Walk:
    """One visit to a node and everything it waits for: the node it starts at, the last pool visit
    it ends with (a distribution) and the expected count of each back-to-back pair of visits (j, k)."""

    first: str
    last: dict[str, float]
    pairs: dict[tuple[str, str], float] = field(default_factory=dict)

    def then(self, other: "_Walk", prob: float = 1.0) -> "_Walk":
        """This walk followed, with probability prob, by `other`."""
        if prob <= 0:
            return self
        pairs = dict(self.pairs)
        for key, count in other.pairs.items():
            pairs[key] = pairs.get(key, 0.0) + prob * count
        for j, p in self.last.items():
            pairs[(j, other.first)] = pairs.get((j, other.first), 0.0) + prob * p
        last = {j: (1 - prob) * p for j, p in self.last.items()}
        for j, p in other.last.items():
            last[j] = last.get(j, 0.0) + prob * p
        return _Walk(self.first, last, pairs)


def _start(node: str) -> _Walk:
    return _Walk(node, {node: 1.0})


def back_to_back(scenario: Scenario) -> dict[tuple[str, str], float]:
    """Expected times per request that a visit to node j is followed at once by a visit to node k."""
    memo: dict[str, _Walk] = {}

    def walk(name: str) -> _Walk:
        if name in memo:
            return memo[name]
        node = scenario.nodes[name]
        out = _start(name)
        if isinstance(node, CacheNode):
            if node.miss is not None:
                out = out.then(walk(node.miss), 1.0 - node.hit_ratio)
        for call in getattr(node, "calls", []):
            target = scenario.nodes[call.to]
            if isinstance(target, KafkaNode):
                sub = _start(GAP) if target.produce_ms > 0 else None
            elif call.mode == "sync":
                sub = walk(call.to)
            else:
                sub = None
            if sub is None:
                continue
            whole = math.floor(call.visits)
            for _ in range(whole):
                out = out.then(sub)
            out = out.then(sub, call.visits - whole)
        memo[name] = out
        return out

    return walk(scenario.entry).pairs


@dataclass(frozen=True)
class Visit:
    """One node's visits to the shared pool."""

    node: str
    arrival_rps: float
    service_ms: float
    scv: float


def shared_waits(
    visits: list[Visit], servers: int, pairs: dict[tuple[str, str], float], request_rps: float
) -> dict[str, float]:
    """Mean wait (ms) of each node's visits at one FIFO pool of `servers` servers."""
    names = [v.node for v in visits]
    lam = np.array([v.arrival_rps / 1000.0 for v in visits])  # per ms
    s = np.array([v.service_ms / servers for v in visits])  # the one fast server
    rate_in = request_rps / 1000.0
    follow = np.zeros((len(visits), len(visits)))  # follow[j, k]: k right after j, per ms
    for (j, k), count in pairs.items():
        if j in names and k in names:
            follow[names.index(j), names.index(k)] += rate_in * count
    following = follow.sum(axis=0)  # rate of k arriving right after a visit here
    outside = np.maximum(lam - following, 0.0)  # fresh arrivals of each kind
    f = np.divide(following, lam, out=np.zeros_like(lam), where=lam > 0)
    successor = np.divide(follow, lam[:, None], out=np.zeros_like(follow), where=lam[:, None] > 0)
    before = np.divide(follow, following[None, :], out=np.zeros_like(follow), where=following[None, :] > 0).T
    waits = np.zeros(len(visits))
    seen = np.tile(lam * s, (len(visits), 1))  # seen[k]: jobs a k visit finds
    for _ in range(100_000):
        average = lam * (waits + s)
        left = np.outer(waits + s, outside) + seen @ successor  # left[j]: jobs there when j leaves
        seen = (1 - f)[:, None] * average[None, :] + f[:, None] * (before @ left)
        new = seen @ s
        done = np.max(np.abs(new - waits)) <= 1e-12 * max(1.0, float(np.max(new)))
        waits = new
        if done:
            break
    load = float(np.sum(lam * s))  # of the fast server
    total = float(np.sum(lam))
    if total <= 0:
        return {n: 0.0 for n in names}
    mean_ms = float(np.sum(lam * s) / total) * servers
    fast = mmc_wait_mean(1, total * 1000.0, mean_ms / servers)
    scale = mmc_wait_mean(servers, total * 1000.0, mean_ms) / fast if fast > 0 and load < 1 else 1.0
    scv = float(np.sum(lam * np.array([v.scv for v in visits])) / total)
    return {n: float(w) * scale * (1.0 + scv) / 2.0 for n, w in zip(names, waits)}
