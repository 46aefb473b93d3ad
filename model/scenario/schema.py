"""The scenario: one service graph, its load, its SLO and its pricing (contract section 1).

These models are the single source of truth for what a scenario file may say. They are
strict (unknown keys are refused) because a typo that silently falls back to a default
would give a plausible but wrong answer, which is worse than no answer.

`Scenario`, the SLO and the pricing are here; the node kinds are in `nodes.py`, the workload in
`workload.py`, the strict base and `GraphError` in `strict_model.py`; the graph checks (calls, hosts, sync
cycles) and the call graph's walks stay beside `Scenario`. Every name stays importable from here
(`from model.scenario.schema import ServiceNode`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from model.scenario.fitted import FitRecord
from model.scenario.nodes import (
    NODE_KINDS,
    NODE_TYPES,
    Autoscale,
    CacheNode,
    Call,
    Cpus,
    DatabaseNode,
    HitRatioCurve,
    Host,
    Instance,
    KafkaNode,
    Node,
    ServiceNode,
    WorkerUsl,
)
from model.scenario.strict_model import GraphError, Strict
from model.scenario.workload import GrowthFit, Retries, Workload

__all__ = [
    "NODE_KINDS",
    "NODE_TYPES",
    "SLO",
    "Autoscale",
    "CacheNode",
    "Call",
    "Cpus",
    "DatabaseNode",
    "GraphError",
    "GrowthFit",
    "HitRatioCurve",
    "Host",
    "Instance",
    "KafkaNode",
    "Node",
    "Pricing",
    "Retries",
    "Scenario",
    "ServiceNode",
    "Strict",
    "WorkerUsl",
    "Workload",
    "find_sync_cycle",
    "post_order",
]


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
    fitted: FitRecord | None = None  # extension (issue 11): the fit's validation errors; never solved

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
