"""The scenario: one service graph, its load, its SLO and its pricing (contract section 1).

These models are the single source of truth for what a scenario file may say. They are
strict (unknown keys are refused) because a typo that silently falls back to a default
would give a plausible but wrong answer, which is worse than no answer.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Instance(Strict):
    """A priced machine type, or a pod size priced per vCPU and GiB."""

    provider: Literal["aws", "gcp"] | None = None
    type: str | None = None
    vcpu: float | None = Field(default=None, gt=0)
    memory_gib: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _type_or_size(self) -> "Instance":
        if self.type is None and self.vcpu is None:
            raise ValueError("give either type (with provider) or vcpu and memory_gib")
        if self.type is not None and self.vcpu is not None:
            raise ValueError("give either type or vcpu/memory_gib, not both")
        if self.vcpu is not None and self.memory_gib is None:
            raise ValueError("memory_gib is required with vcpu")
        return self


class Autoscale(Strict):
    """The Kubernetes HPA algorithm's knobs."""

    target_cpu_pct: float = Field(default=70, gt=0, le=100)
    min: int = Field(default=1, ge=1)
    max: int = Field(default=10, ge=1)
    startup_s: float = Field(default=30, ge=0)
    scale_down_stabilization_s: float = Field(default=300, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscale":
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Call(Strict):
    to: str
    visits: float = Field(default=1.0, ge=0)
    op: Literal["read", "write"] = "read"
    mode: Literal["sync", "async"] = "sync"


def _check_cpus(cpus: float | None) -> float | None:
    if cpus is not None and cpus > 1 and cpus != int(cpus):
        raise ValueError("cpus above 1 must be a whole number of cores (below 1 it is a CPU limit)")
    return cpus


# Cores per replica; below 1 it is a pod's CPU limit: one core running at that fraction of speed.
Cpus = Annotated[float | None, Field(default=None, gt=0), AfterValidator(_check_cpus)]


class WorkerUsl(Strict):
    """Extension (issue 11): per-worker overhead, the USL over worker counts.

    CPU per request grows with the workers sharing the cores as 1 + sigma (N - 1) + kappa N (N - 1)
    (context switches, lock and cache contention); `service_ms` was measured at `workers`.
    """

    sigma: float = Field(ge=0, le=1)
    kappa: float = Field(default=0.0, ge=0)
    workers: int = Field(ge=1)

    def factor(self, n: int) -> float:
        """CPU per request at n workers over CPU per request at `workers`."""

        def cost(k: int) -> float:
            return 1 + self.sigma * (k - 1) + self.kappa * k * (k - 1)

        return cost(n) / cost(self.workers)


class ServiceNode(Strict):
    """App pods or instances behind a load balancer."""

    kind: Literal["service"]
    replicas: int = Field(default=1, ge=1)
    cpus: Cpus = None
    concurrency: int | None = Field(default=None, ge=1)
    service_ms: float = Field(gt=0)
    service_cv: float = Field(default=1.0, ge=0)
    blocking_calls: bool = True
    timeout_ms: float | None = Field(default=None, gt=0)
    background_cpu_pct: float = Field(default=0.0, ge=0, lt=100)  # CPU busy with work no request causes
    instance: Instance | None = None
    autoscale: Autoscale | None = None
    calls: list[Call] = Field(default_factory=list)
    host: str | None = None  # extension: runs on that host's cores, shared with the other nodes on it
    miss_ms: float = Field(
        default=0.0, ge=0
    )  # extension (issue 11): its own CPU per miss of a cache it calls
    worker_usl: WorkerUsl | None = None  # extension (issue 11): per-worker overhead, used with concurrency


def _check_curve(curve: dict[float, float] | None) -> dict[float, float] | None:
    if curve is None:
        return curve
    if len(curve) < 2:
        raise ValueError("needs at least two sizes (GiB: hit ratio)")
    points = sorted(curve.items())
    for (m0, h0), (m1, h1) in zip(points, points[1:]):
        if h1 < h0:
            raise ValueError(
                f"{m1:g} GiB hits less ({h1:g}) than {m0:g} GiB ({h0:g}); a bigger cache never hits less"
            )
    return curve


# GiB of cache (over all its nodes) -> the hit ratio it would have; never falling as memory grows.
HitRatioCurve = Annotated[
    dict[Annotated[float, Field(gt=0)], Annotated[float, Field(ge=0, le=1)]] | None,
    Field(default=None),
    AfterValidator(_check_curve),
]


class CacheNode(Strict):
    kind: Literal["cache"]
    nodes: int = Field(default=1, ge=1)
    cpus: Cpus = None
    hit_ratio: float = Field(ge=0, le=1)
    hit_ms: float = Field(default=1.0, gt=0)
    miss: str | None = None
    background_cpu_pct: float = Field(default=0.0, ge=0, lt=100)  # CPU busy with work no request causes
    instance: Instance | None = None
    host: str | None = None  # extension (issue 11)
    # Extension: the hit ratio the cache would have at other sizes (total GiB over its nodes), for
    # example from a miss-ratio curve; with it the recommender sizes the cache's memory too.
    hit_ratio_by_memory_gib: HitRatioCurve = None
    host: str | None = None  # extension: runs on that host's cores, shared with the other nodes on it

    def hit_ratio_at(self, memory_gib: float) -> float | None:
        """The stated curve at `memory_gib`, linear in log memory between its points; the largest
        point's ratio beyond it (no gain is assumed past what was stated); None below the smallest,
        where nothing was stated."""
        points = sorted((self.hit_ratio_by_memory_gib or {}).items())
        if not points or memory_gib < points[0][0] * (1 - 1e-9):
            return None
        for (m0, h0), (m1, h1) in zip(points, points[1:]):
            if memory_gib <= m1:
                w = math.log(memory_gib / m0) / math.log(m1 / m0)
                return h0 + min(max(w, 0.0), 1.0) * (h1 - h0)
        return points[-1][1]


class DatabaseNode(Strict):
    kind: Literal["database"]
    read_replicas: int = Field(default=0, ge=0)
    cpus: Cpus = None
    read_ms: float = Field(gt=0)
    write_ms: float | None = Field(default=None, gt=0)
    service_cv: float = Field(default=1.0, ge=0)
    background_cpu_pct: float = Field(default=0.0, ge=0, lt=100)  # CPU busy with work no request causes
    instance: Instance | None = None
    host: str | None = None  # extension: runs on that host's cores, shared with the other nodes on it

    @property
    def instances(self) -> int:
        return 1 + self.read_replicas

    @property
    def write_service_ms(self) -> float:
        """Writes cost what reads cost unless the file says otherwise."""
        return self.write_ms if self.write_ms is not None else self.read_ms


class KafkaNode(Strict):
    kind: Literal["kafka"]
    brokers: int = Field(default=1, ge=1)
    partitions: int = Field(default=1, ge=1)
    consumers: int = Field(default=1, ge=1)
    produce_ms: float = Field(default=0.0, ge=0)
    consume_ms: float = Field(gt=0)
    max_backlog: int = Field(default=100_000, ge=1)
    instance: Instance | None = None


Node = Annotated[Union[ServiceNode, CacheNode, DatabaseNode, KafkaNode], Field(discriminator="kind")]
NODE_TYPES: dict[str, type[BaseModel]] = {
    "service": ServiceNode,
    "cache": CacheNode,
    "database": DatabaseNode,
    "kafka": KafkaNode,
}
NODE_KINDS = tuple(NODE_TYPES)


class GrowthFit(Strict):
    """Extension (issue 12): the fit's estimate of the monthly growth and its 90% interval.

    Growth is "fitted" while `workload.growth_pct_per_month` still equals `pct_per_month`; a file
    edited to another growth keeps the record of the fit but says its growth is given."""

    pct_per_month: float = Field(gt=-100)
    low_pct: float = Field(gt=-100)  # the 90% interval, percent per month
    high_pct: float = Field(gt=-100)
    days: int = Field(default=0, ge=0)  # days of traffic the trend was fitted on

    @model_validator(mode="after")
    def _ordered(self) -> "GrowthFit":
        if not self.low_pct <= self.high_pct:
            raise ValueError(f"low_pct ({self.low_pct:g}) is above high_pct ({self.high_pct:g})")
        return self


class Workload(Strict):
    rate_rps: float = Field(gt=0)
    arrivals: Literal["poisson", "deterministic", "trace"] = "poisson"
    trace: str | None = None
    growth_pct_per_month: float = Field(default=0.0, gt=-100)
    horizon_months: int = Field(default=12, ge=1, le=120)
    # Extension: time every request spends outside the modelled stations (network, accept, client),
    # a constant added to its end-to-end latency.
    network_ms: float = Field(default=0.0, ge=0)
    # Extension (issue 12): the traffic's shape over a day and a week, as fractions of the peak
    # (`rate_rps`): 24 hourly values (UTC), 7 daily ones (Monday..Sunday). They set how many replicas
    # an HPA runs hour by hour and how many requests a month serves (model/planning/bill.py).
    daily_profile: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, min_length=24, max_length=24
    )
    weekly_profile: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None, min_length=7, max_length=7
    )
    # Extension (issue 12): how the fit estimated growth_pct_per_month (its 90% interval); written by `fit`.
    growth_fit: GrowthFit | None = None
    # Extension (issue 12): the calendar month the forecast's month 0 is (YYYY-MM); default: this month.
    start_month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")

    @model_validator(mode="after")
    def _trace_given(self) -> "Workload":
        if self.arrivals == "trace" and not self.trace:
            raise ValueError("arrivals: trace needs trace: a CSV of timestamp,rate_rps")
        for key, what in (("daily_profile", "hour"), ("weekly_profile", "day")):
            values = getattr(self, key)
            if values is not None and abs(max(values) - 1.0) > 1e-6:
                raise ValueError(
                    f"{key}: the busiest {what} runs at the peak (rate_rps), so its largest value must be 1 "
                    f"(got {max(values):g})"
                )
        return self


class Host(Strict):
    """Extension: a machine (or pod) whose cores several nodes share (contract: hosts)."""

    cpus: Cpus = None  # default: the instance's vCPUs, else one core
    instance: Instance | None = None


class SLO(Strict):
    p50_ms: float | None = Field(default=None, gt=0)
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    max_error_pct: float | None = Field(default=None, ge=0, le=100)


class Pricing(Strict):
    provider: Literal["aws", "gcp"] = "aws"
    region: str = "us-east-1"
    commitment: Literal["on_demand", "1yr", "3yr"] = "on_demand"


class Scenario(Strict):
    """A service graph to plan: the workload at its entry, the nodes and their calls, the SLO and the pricing.

    The hub type: the reader builds it from YAML (contract section 1), both solvers, the cost model, the
    planner and the app take it, and the fit writes one. Strict (unknown keys refused) and frozen; graph
    checks (calls to unknown nodes, synchronous call cycles) run here, price checks in `model.scenario.reader`."""

    version: Literal[1]
    name: str = Field(min_length=1)
    description: str | None = None
    workload: Workload
    entry: str
    nodes: dict[str, Node] = Field(min_length=1)
    hosts: dict[str, Host] = Field(default_factory=dict)
    slo: SLO = Field(default_factory=SLO)
    pricing: Pricing = Field(default_factory=Pricing)

    @model_validator(mode="after")
    def _graph_is_sound(self) -> "Scenario":
        # Raised as GraphError so the loader can point at the exact key path.
        if self.entry not in self.nodes:
            raise GraphError(("entry",), f"entry node {self.entry!r} is not in nodes ({_names(self.nodes)})")
        for name, node in self.nodes.items():
            for i, call in enumerate(getattr(node, "calls", [])):
                if call.to not in self.nodes:
                    raise GraphError(
                        ("nodes", name, "calls", i, "to"),
                        f"calls {call.to!r}, which is not in nodes ({_names(self.nodes)})",
                    )
                if call.to == name:
                    raise GraphError(("nodes", name, "calls", i, "to"), "a node cannot call itself")
                if call.op == "write" and not isinstance(self.nodes[call.to], DatabaseNode):
                    raise GraphError(
                        ("nodes", name, "calls", i, "op"),
                        f"op: write goes to a database, and {call.to!r} is a {self.nodes[call.to].kind}",
                    )
            if isinstance(node, CacheNode) and node.miss is not None:
                if node.miss not in self.nodes:
                    raise GraphError(
                        ("nodes", name, "miss"),
                        f"miss goes to {node.miss!r}, which is not in nodes ({_names(self.nodes)})",
                    )
                if isinstance(self.nodes[node.miss], (KafkaNode, CacheNode)):
                    raise GraphError(
                        ("nodes", name, "miss"),
                        f"a cache miss goes to a database or service, not a {self.nodes[node.miss].kind}",
                    )
        _check_hosts(self)
        cycle = find_sync_cycle(self)
        if cycle:
            raise GraphError(
                ("nodes", cycle[0], "calls"),
                "sync calls form a cycle ("
                + " -> ".join(cycle + [cycle[0]])
                + "); a request would never finish",
            )
        return self

    def sync_callees(self, name: str) -> list[str]:
        """Nodes a request at `name` waits for: sync calls and a cache's miss target."""
        node = self.nodes[name]
        out = [
            c.to
            for c in getattr(node, "calls", [])
            if c.mode == "sync" and not isinstance(self.nodes[c.to], KafkaNode)
        ]
        if isinstance(node, CacheNode) and node.miss:
            out.append(node.miss)
        return out


class GraphError(ValueError):
    """A graph-level problem, tied to the key path that causes it."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


# What a node placed on a host may not say: the host owns the cores, the price and the single instance.
_HOSTED_REFUSED = {
    "replicas": 1,
    "nodes": 1,
    "read_replicas": 0,
    "cpus": None,
    "instance": None,
    "autoscale": None,
}


def _check_hosts(scenario: "Scenario") -> None:
    """A hosted node is one process on the host's cores: one instance, no cores or price of its own."""
    for name, node in scenario.nodes.items():
        host = getattr(node, "host", None)
        if host is None:
            continue
        if host not in scenario.hosts:
            known = ", ".join(sorted(scenario.hosts)) or "none defined"
            raise GraphError(("nodes", name, "host"), f"host {host!r} is not in hosts ({known})")
        for key, allowed in _HOSTED_REFUSED.items():
            value = getattr(node, key, allowed)
            if value != allowed:
                why = (
                    "the host's cores are what it runs on"
                    if key == "cpus"
                    else "the host is priced, not its nodes"
                    if key == "instance"
                    else f"a node on a host runs one instance ({key}: {allowed!r})"
                )
                raise GraphError(
                    ("nodes", name, key), f"{key} cannot be set on a node placed on host {host!r}: {why}"
                )
    for host_name in scenario.hosts:
        placed = [n for n, node in scenario.nodes.items() if getattr(node, "host", None) == host_name]
        background = sum(scenario.nodes[n].background_cpu_pct for n in placed)
        if background >= 100:
            raise GraphError(
                ("hosts", host_name),
                f"the background_cpu_pct of its nodes ({', '.join(placed)}) adds up to {background:g}%, "
                "leaving no CPU for requests",
            )


def _names(nodes: dict) -> str:
    return ", ".join(sorted(nodes))


def find_sync_cycle(scenario: Scenario) -> list[str] | None:
    """A cycle of nodes that wait on each other, or None. Async produce breaks a cycle.

    Walked with an explicit stack, so a long chain cannot exhaust Python's recursion limit.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in scenario.nodes:
        if root in state:
            continue
        path: list[str] = [root]
        pending = [iter(scenario.sync_callees(root))]
        state[root] = 1
        while pending:
            callee = next(pending[-1], None)
            if callee is None:
                state[path.pop()] = 2
                pending.pop()
            elif state.get(callee) == 1:
                return path[path.index(callee) :]
            elif callee not in state:
                state[callee] = 1
                path.append(callee)
                pending.append(iter(scenario.sync_callees(callee)))
    return None


def post_order(start: str, callees) -> list[str]:
    """Nodes reachable from `start`, each after everything it calls (an iterative depth-first walk)."""
    order: list[str] = []
    seen = {start}
    stack = [(start, iter(callees(start)))]
    while stack:
        name, todo = stack[-1]
        nxt = next((n for n in todo if n not in seen), None)
        if nxt is None:
            order.append(name)
            stack.pop()
        else:
            seen.add(nxt)
            stack.append((nxt, iter(callees(nxt))))
    return order
