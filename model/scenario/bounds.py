"""A valid scenario that asks for more than one machine can compute is refused here, by name.

The schema says what a scenario may say; these bounds say how much of it (model.scenario.limits).
They run after validation and before any solver, so a billion servers or a chain of a
thousand calls is one clear message instead of an hour of CPU or an out-of-memory kill.
"""

from __future__ import annotations

import math
import re

from model.scenario.graph import NodeVisits
from model.scenario.limits import over
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode, post_order

Refusal = tuple[tuple, str]  # (key path, message)
MIN_MS = 1e-6  # a positive time below a nanosecond is a unit mistake, and its reciprocal overflows sums


def check_node_count(data: object) -> Refusal | None:
    """The node count of raw data, before validation walks every node."""
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if isinstance(nodes, dict):
        message = over("NODES", len(nodes), "the number of nodes")
        if message:
            return ("nodes",), message
    return None


def check_bounds(scenario: Scenario) -> Refusal | None:
    """The first bound the scenario exceeds, as (key path, message), or None."""
    refusal = check_node_count({"nodes": scenario.nodes}) or check_names(scenario)
    if refusal:
        return refusal
    workload = scenario.workload
    for key, value, bound in (
        ("rate_rps", workload.rate_rps, "RATE_RPS"),
        ("users", workload.users, "USERS"),
        ("think_ms", workload.think_ms, "MS"),
        ("growth_pct_per_month", workload.growth_pct_per_month, "GROWTH_PCT"),
    ):
        message = over(bound, value, key) if value is not None else None
        if message:
            return ("workload", key), message
    for name, node in scenario.nodes.items():
        for key, value, bound in _counts(node) + _durations(node):
            message = over(bound, value, key)
            if message:
                return ("nodes", name, key), message
            if bound == "MS" and 0 < value < MIN_MS:
                return (
                    "nodes",
                    name,
                    key,
                ), f"is {value:.3g} ms, below {MIN_MS:g} ms (a nanosecond): check its unit"
    depth, deepest = call_depth(scenario)
    message = over("CALL_DEPTH", depth, f"the chain of calls from {deepest}")
    if message:
        return ("nodes", deepest, "calls") if deepest else ("nodes",), message
    return None


def check_visits(visits: dict[str, NodeVisits]) -> Refusal | None:
    """Every request's work: the visits it makes over the whole graph, repeats multiplied."""
    total = sum(v.visits for v in visits.values())
    message = over("VISITS", total if math.isfinite(total) else 1e308, "one request's visits over the graph")
    return (("nodes",), message) if message else None


def _counts(node) -> list[tuple[str, float, str]]:
    """(key, value, bound) for each count of a node that sizes work or memory."""
    out: list[tuple[str, float, str]] = []
    cpus = node.cpus if getattr(node, "cpus", None) else 1
    if isinstance(node, ServiceNode):
        out += [
            ("replicas", node.replicas, "REPLICAS"),
            ("cpus", cpus, "CPUS"),
            ("replicas", node.replicas * max(cpus, 1), "SERVERS"),
        ]
        if node.autoscale is not None:
            out += [
                ("autoscale", node.autoscale.max, "REPLICAS"),
                ("autoscale", node.autoscale.max * max(cpus, 1), "SERVERS"),
            ]
        if node.concurrency is not None:
            most = max(node.replicas, node.autoscale.max if node.autoscale else 1)
            out += [
                ("concurrency", node.concurrency, "CONCURRENCY"),
                ("concurrency", node.concurrency * most, "SERVERS"),
            ]
    elif isinstance(node, CacheNode):
        out += [
            ("nodes", node.nodes, "REPLICAS"),
            ("cpus", cpus, "CPUS"),
            ("nodes", node.nodes * max(cpus, 1), "SERVERS"),
        ]
    elif isinstance(node, DatabaseNode):
        out += [("read_replicas", node.read_replicas, "REPLICAS"), ("cpus", cpus, "CPUS")]
    elif isinstance(node, KafkaNode):
        per_consumer = math.ceil(node.partitions / node.consumers)
        out += [
            ("brokers", node.brokers, "REPLICAS"),
            ("partitions", node.partitions, "PARTITIONS"),
            ("consumers", node.consumers, "CONSUMERS"),
            ("max_backlog", per_consumer * node.max_backlog, "BACKLOG_STATES"),
        ]
    return out


def _durations(node) -> list[tuple[str, float, str]]:
    """Every time a node takes, in ms: beyond a day the arithmetic of rates and quantiles overflows."""
    keys = ("service_ms", "timeout_ms", "hit_ms", "read_ms", "write_ms", "produce_ms", "consume_ms")
    return [(key, getattr(node, key), "MS") for key in keys if getattr(node, key, None) is not None]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_names(scenario: Scenario) -> Refusal | None:
    """Names are printed on terminals and pages: control characters (ANSI escapes that recolour or
    clear a terminal, newlines that forge a line of output) have no place in them."""
    if _CONTROL.search(scenario.name):
        return ("name",), "has control characters (such as terminal escapes); use plain text"
    for name in scenario.nodes:
        if _CONTROL.search(name):
            return (
                "nodes",
                name,
            ), "a node name has control characters (such as terminal escapes); use plain text"
    return None


def _all_callees(scenario: Scenario, name: str) -> list[str]:
    node = scenario.nodes[name]
    out = [c.to for c in getattr(node, "calls", [])]
    if isinstance(node, CacheNode) and node.miss:
        out.append(node.miss)
    return out


def call_depth(scenario: Scenario) -> tuple[int, str]:
    """Hops on the longest chain of sync calls from the entry, and the node it ends at.

    Solvers build one nested delay (and the simulator one nested process) per hop, so the
    chain's length, not only the node count, bounds their work. Async calls feed new
    requests, so they count when they start a chain of their own.
    """
    depth: dict[str, int] = {}
    for name in post_order(scenario.entry, lambda n: scenario.sync_callees(n)):
        depth[name] = 1 + max((depth[c] for c in scenario.sync_callees(name) if c in depth), default=0)
    # Nodes reached only through async calls start chains of their own.
    for name in post_order(scenario.entry, lambda n: _all_callees(scenario, n)):
        if name not in depth:
            for start in post_order(name, lambda n: scenario.sync_callees(n)):
                if start not in depth:
                    depth[start] = 1 + max(
                        (depth[c] for c in scenario.sync_callees(start) if c in depth), default=0
                    )
    if not depth:
        return 0, ""
    deepest = max(depth, key=depth.get)
    return depth[deepest] - 1, deepest
