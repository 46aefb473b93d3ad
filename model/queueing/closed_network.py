"""A scenario's closed workload as a closed queueing network, solved by mean-value analysis.

`workload.users` users each send a request, wait for its answer and think for an exponential
time of mean `think_ms`. The network's stations are the FIFO server pools the requests' visits
use (the same pools and demands as the open model: model.queueing.topology), each with the work
one request brings it; fixed delays (network_ms, Kafka acknowledgements) are delay stations.
Where the scenario is product-form (exponential service, no worker slots, no timeouts, no async
work) the answer is exact MVA (model.queueing.mva); elsewhere it is a documented approximation,
and `notes` say which:

- worker slots (`concurrency`) of the entry node: a flow-equivalent server (Chandy-Herzog-Woo):
  the network inside the slots is solved for 1..slots requests, and the slots become one
  load-dependent station whose rate with j requests present is that network's throughput at
  min(j, slots). Exact for a product-form inside; slots of other nodes are not modelled here.
- async work (calls with mode: async) is load the users do not wait for: it slows the pools it
  uses as background work would (demand / (1 - its utilization)), iterated with the throughput.
- Kafka consumers are off the users' path: their utilization follows from the throughput.
- service_cv != 1: the residual-life correction (model.queueing.mva).

Its throughput, the requests per second the users send, is what every rate-based question (cost,
forecast, autoscale) plans for a closed workload (model.queueing.offered_load.offered_rps).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from model.queueing.mva import MvaCurve, MvaStation, mva
from model.queueing.topology import KafkaStation, ServiceStation, Station, build_stations
from model.scenario.graph import arrival_rates
from model.scenario.schema import CacheNode, KafkaNode, Scenario, post_order

SATURATED_UTILIZATION = 0.99  # a closed workload cannot overload; at this utilization users only wait
ASYNC_ITERATIONS = 8


@dataclass(frozen=True)
class PoolDemand:
    """One FIFO pool on the users' path: seconds of work per request, its servers, its visits."""

    pool: str
    servers: int
    demand_s: float  # work of the requests' synchronous path, per request
    async_s: float  # work of async calls, per request (background the users do not wait for)
    visits: float  # visits per request (for per-visit waits)
    scv: float
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class ClosedNetwork:
    users: int
    think_s: float
    delay_s: float  # fixed delays inside a request's response: network, acknowledgements
    network_s: float  # the part of delay_s spent outside the servers (holds no worker slot)
    pools: list[PoolDemand]
    entry_slots: int | None  # the entry's worker slots, when they can bind (fewer than the users)
    notes: list[str] = field(default_factory=list)

    @property
    def demand_s(self) -> float:
        return sum(p.demand_s for p in self.pools)

    def bottleneck(self) -> PoolDemand | None:
        """The pool with the most work per server: it saturates first as users are added."""
        return max(self.pools, key=lambda p: p.demand_s / p.servers, default=None)

    @property
    def max_rps(self) -> float:
        """Throughput bound: the bottleneck's capacity (and the slots', solved in `solve`)."""
        b = self.bottleneck()
        return b.servers / b.demand_s if b is not None and b.demand_s > 0 else float("inf")

    @property
    def knee_users(self) -> float:
        """N* = (D + Z) / D_max: where the two asymptotes of throughput (N / (D + Z) and the
        bottleneck's capacity) cross; beyond it every added user only waits."""
        b = self.bottleneck()
        if b is None or b.demand_s <= 0:
            return float("inf")
        return (self.demand_s + self.delay_s + self.think_s) * b.servers / b.demand_s


def sync_shares(scenario: Scenario) -> dict[str, float]:
    """Visits per request each node gets on the requests' synchronous path (waited for)."""
    order = post_order(scenario.entry, scenario.sync_callees)
    path = {name: 0.0 for name in scenario.nodes}
    path[scenario.entry] = 1.0
    for name in reversed(order):
        node = scenario.nodes[name]
        for call in getattr(node, "calls", []):
            if call.mode == "sync" and not isinstance(scenario.nodes[call.to], KafkaNode):
                path[call.to] += path[name] * call.visits
        if isinstance(node, CacheNode) and node.miss:
            path[node.miss] += path[name] * (1.0 - node.hit_ratio)
    return path


def closed_network(scenario: Scenario, users: int | None = None) -> ClosedNetwork:
    """The scenario's closed network at `users` (default: workload.users)."""
    workload = scenario.workload
    users = int(users if users is not None else workload.users or 1)
    stations = build_stations(scenario)
    visits = arrival_rates(scenario, 1.0)
    path = sync_shares(scenario)
    notes: list[str] = []
    by_pool: dict[str, dict] = {}
    for name, st in stations.items():
        if isinstance(st, KafkaStation):
            continue
        total = visits[name].visits
        share = min(path[name] / total, 1.0) if total > 0 else 0.0
        for d in st.demands(visits[name]):
            entry = by_pool.setdefault(
                d.pool,
                {"servers": d.servers, "sync": 0.0, "async": 0.0, "visits": 0.0, "w": 0.0, "nodes": []},
            )
            entry["sync"] += d.offered * share
            entry["async"] += d.offered * (1.0 - share)
            entry["visits"] += d.arrival_rps * share
            entry["w"] += d.offered * d.service.scv
            entry["nodes"].append(name)
    pools = [
        PoolDemand(
            pool,
            e["servers"],
            e["sync"],
            e["async"],
            e["visits"],
            e["w"] / (e["sync"] + e["async"]) if e["sync"] + e["async"] > 0 else 1.0,
            tuple(dict.fromkeys(e["nodes"])),
        )
        for pool, e in by_pool.items()
        if e["sync"] + e["async"] > 0
    ]
    delay_ms = workload.network_ms
    for name, node in scenario.nodes.items():  # a producer waits for the acknowledgement, sync or async
        for call in getattr(node, "calls", []):
            target = scenario.nodes[call.to]
            if isinstance(target, KafkaNode) and path[name] > 0:
                delay_ms += path[name] * call.visits * target.produce_ms
    entry = stations[scenario.entry]
    slots = entry.slots if isinstance(entry, ServiceStation) and entry.blocking_calls else None
    _notes(scenario, stations, pools, notes, slots, users)
    return ClosedNetwork(
        users,
        workload.think_time_ms / 1000.0,
        delay_ms / 1000.0,
        workload.network_ms / 1000.0,
        pools,
        slots if slots is not None and slots < users else None,
        notes,
    )


def _notes(
    scenario: Scenario,
    stations: dict[str, Station],
    pools: list[PoolDemand],
    notes: list[str],
    slots: int | None,
    users: int,
) -> None:
    if any(abs(p.scv - 1.0) > 1e-9 for p in pools):
        notes.append("closed workload: service_cv != 1 by MVA's residual-life correction (approximate)")
    if any(p.async_s > 0 for p in pools):
        notes.append("closed workload: async work slows the pools it shares as background work (approximate)")
    if slots is not None and slots < users:
        notes.append(
            f"closed workload: {scenario.entry}'s {slots} worker slots as a flow-equivalent server (approximate)"
        )
    for name, st in stations.items():
        if isinstance(st, ServiceStation) and st.slots is not None and name != scenario.entry:
            notes.append(
                f"closed workload: {name}'s worker slots are not in the MVA (the simulator has them)"
            )
        if isinstance(st, ServiceStation) and st.timeout_ms is not None:
            notes.append(f"closed workload: {name}'s timeout_ms is not in the MVA (the simulator has it)")


def _stations(pools: list[PoolDemand], x_rps: float) -> list[MvaStation]:
    """MVA stations at throughput x: async work slows each pool as background work would."""
    out = []
    for p in pools:
        busy = min(x_rps * p.async_s / p.servers, 0.95)
        out.append(MvaStation(p.pool, p.demand_s / (1.0 - busy), p.servers, p.scv))
    return out


@dataclass(frozen=True)
class ClosedSolution:
    """MVA at 1..users users; per pool rows follow `network.pools`."""

    network: ClosedNetwork
    curve: MvaCurve  # throughput and response per user count; per-pool columns
    inside: MvaCurve | None  # the network inside the entry's slots (flow-equivalent server)
    stations: list[MvaStation] = field(default_factory=list)  # the pools as solved (async included)
    fes: MvaStation | None = None  # the slots as one load-dependent station, with `inside`

    def row(self, users: int | None = None) -> int:
        return self.curve.at(users if users is not None else self.network.users)

    def throughput_rps(self, users: int | None = None) -> float:
        return float(self.curve.throughput_rps[self.row(users)])

    def response_ms(self, users: int | None = None) -> float:
        return 1000.0 * float(self.curve.response_s[self.row(users)])

    def held(self, users: int | None = None) -> int:
        """Requests inside the entry's slots (its flow-equivalent server's mean population, at most
        the slots)."""
        k = self.row(users)
        return max(1, min(round(float(self.curve.queue[k].sum())), int(self.inside.users[-1])))

    def pool_residence_s(self, users: int | None = None) -> np.ndarray:
        """Seconds per request at each pool (queueing and service)."""
        if self.inside is None:
            return self.curve.residence_s[self.row(users)]
        # Inside the slots: the inner network at the mean number of requests holding a slot.
        return self.inside.residence_s[self.inside.at(self.held(users))]


def solve_closed(scenario: Scenario, users: int | None = None) -> ClosedSolution:
    """MVA of the scenario's closed workload at 1..users users."""
    net = closed_network(scenario, users)
    x = 0.0
    for _ in range(ASYNC_ITERATIONS if any(p.async_s > 0 for p in net.pools) else 1):
        stations = _stations(net.pools, x)
        inside = fes = None
        if net.entry_slots is not None:
            inside = mva(stations, 0.0, net.delay_s - net.network_s, net.entry_slots)
            rates = inside.throughput_rps / inside.throughput_rps[0]
            fes = MvaStation("slots", 1.0 / float(inside.throughput_rps[0]), 1, 1.0, tuple(rates))
            curve = mva([fes], net.think_s, net.network_s, net.users)
        else:
            curve = mva(stations, net.think_s, net.delay_s, net.users)
        x = float(curve.throughput_rps[-1])
    if inside is not None:  # per pool from the utilization law; the response is the FES's
        util = np.minimum(
            curve.throughput_rps[:, None] * np.array([p.demand_s / p.servers for p in net.pools]), 1.0
        )
        curve = replace(curve, utilization=util)
    return ClosedSolution(net, curve, inside, stations, fes)


@dataclass(frozen=True)
class ClosedStats:
    """What `simulate --json` adds under "closed" for a closed workload (docs/contract.md)."""

    users: int
    think_ms: float
    knee_users: float  # N* = (D + Z) / D_max
    max_throughput_rps: float  # the bottleneck's bound (the slots' where they bind first)
    bottleneck: str  # the node whose pool saturates first
    mva_throughput_rps: float
    mva_response_ms: float
    mva_method: str  # exact, seidmann or schweitzer (model.queueing.mva)

    def to_json(self) -> dict:
        finite = lambda v: round(v, 4) if np.isfinite(v) else None  # noqa: E731
        return {
            "users": self.users,
            "think_ms": round(self.think_ms, 3),
            "knee_users": finite(self.knee_users),
            "max_throughput_rps": finite(self.max_throughput_rps),
            "bottleneck": self.bottleneck,
            "mva_throughput_rps": finite(self.mva_throughput_rps),
            "mva_response_ms": finite(self.mva_response_ms),
            "mva_method": self.mva_method,
        }


def closed_stats(solution: ClosedSolution, users: int | None = None) -> ClosedStats:
    net = solution.network
    n = users if users is not None else net.users
    b = net.bottleneck()
    top = net.max_rps
    if solution.inside is not None:
        top = min(top, float(solution.inside.throughput_rps.max()))
    return ClosedStats(
        n,
        net.think_s * 1000.0,
        (net.demand_s + net.delay_s + net.think_s) * top,  # N* = (D + Z) / D_max, D_max = 1 / top
        top,
        b.nodes[0] if b is not None else "",
        solution.throughput_rps(n),
        solution.response_ms(n),
        solution.curve.method,
    )


def saturated_pools(solution: ClosedSolution, users: int | None = None) -> list[str]:
    """Nodes whose pool the users keep busy SATURATED_UTILIZATION or more, in graph order."""
    k = solution.row(users)
    out: list[str] = []
    for p, u in zip(solution.network.pools, solution.curve.utilization[k]):
        if u >= SATURATED_UTILIZATION:
            out += [n for n in p.nodes if n not in out]
    return out
