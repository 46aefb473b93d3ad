"""What to add before a peak event so that every node stays at or under a target utilization.

Per node, the fewest units (replicas, cache nodes, read replicas, Kafka consumers) that keep its
busiest pool at or under the target at the event's plateau, by the offered-load law
(`model.queueing.offered_load`); a node's pools depend on its own units only, so nodes are sized
one at a time. With one zone lost the same search runs on `failures.zone_loss_scenario` of each
candidate (a third of every node's units gone, at least one kept).

An autoscaled node is sized by its HPA: its `max` must leave room for the target, and when the
HPA aims hotter than the target (its `target_cpu_pct` above it), or its start-up lag broke the
event, its `min` is raised so the replicas are there before the event. After a zone loss the HPA
is assumed to bring its pods back in the surviving zones within its start-up delay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.planning.autoscale import autoscaled_nodes, busy_cores_per_rps
from model.planning.failures import zone_loss_scenario
from model.queueing.offered_load import offered_load
from model.queueing.topology import build_stations, cores_per_replica
from model.scenario.limits import limit
from model.scenario.reader import apply_override
from model.scenario.schema import CacheNode, DatabaseNode, Scenario, ServiceNode


@dataclass(frozen=True)
class Additions:
    """Changes (key path -> new value) that hold the plateau at the target, and what units cannot fix."""

    target_utilization: float
    zone_loss: bool
    changes: dict[str, Any] = field(default_factory=dict)
    unfixable: dict[str, str] = field(default_factory=dict)  # node -> why adding units does not help

    def to_json(self) -> dict[str, Any]:
        return {"changes": dict(self.changes), "unfixable": dict(self.unfixable)}


def node_utilization(scenario: Scenario, node: str, rate_rps: float) -> float:
    """The busiest pool of `node` at `rate_rps` (offered work over servers)."""
    loads = offered_load(scenario, build_stations(scenario), rate_rps)
    return max((p.utilization for p in loads if p.node == node), default=0.0)


def _units(node) -> int:
    if isinstance(node, ServiceNode):
        return node.replicas
    if isinstance(node, CacheNode):
        return node.nodes
    if isinstance(node, DatabaseNode):
        return node.read_replicas
    return node.consumers


def _with_units(node, units: int):
    """The node with `units` and the key paths (under nodes.NAME) that say so."""
    if isinstance(node, ServiceNode):
        return node.model_copy(update={"replicas": units}), {"replicas": units}
    if isinstance(node, CacheNode):
        return node.model_copy(update={"nodes": units}), {"nodes": units}
    if isinstance(node, DatabaseNode):
        return node.model_copy(update={"read_replicas": units}), {"read_replicas": units}
    changes = {"consumers": units}
    update = {"consumers": units}
    if units > node.partitions:  # a consumer without a partition idles: partitions follow
        update["partitions"] = changes["partitions"] = units
    return node.model_copy(update=update), changes


def _fits(
    scenario: Scenario, name: str, node, units: int, rate_rps: float, target: float, zone: bool
) -> bool:
    grown, _ = _with_units(node, units)
    candidate = scenario.model_copy(update={"nodes": {**scenario.nodes, name: grown}})
    if zone:
        candidate = zone_loss_scenario(candidate)
    return node_utilization(candidate, name, rate_rps) <= target + 1e-12


def _fewest_units(scenario: Scenario, name: str, rate_rps: float, target: float, zone: bool) -> int | None:
    """The fewest units at or above today's that fit (doubling, then halving), or None within the limit."""
    node = scenario.nodes[name]
    low = _units(node)
    if _fits(scenario, name, node, low, rate_rps, target, zone):
        return low
    ceiling = limit("REPLICAS")
    high = max(low, 1)
    while not _fits(scenario, name, node, high, rate_rps, target, zone):
        if high >= ceiling:
            return None
        low, high = high, min(2 * high, ceiling)
    while high - low > 1:  # low does not fit, high does
        mid = (low + high) // 2
        if _fits(scenario, name, node, mid, rate_rps, target, zone):
            high = mid
        else:
            low = mid
    return high


def _why_not(scenario: Scenario, name: str, rate_rps: float, target: float) -> str:
    node = scenario.nodes[name]
    if getattr(node, "host", None):
        return f"runs on host {node.host}: its cores are shared, add cores to the host"
    if isinstance(node, DatabaseNode):
        writes_only = node.model_copy(update={"read_replicas": limit("REPLICAS")})
        primary = node_utilization(
            scenario.model_copy(update={"nodes": {**scenario.nodes, name: writes_only}}), name, rate_rps
        )
        return (
            f"the primary's writes alone put it at {100 * primary:.0f}% at the peak: read replicas cannot "
            f"bring it under {100 * target:.0f}%; a larger instance or fewer writes can"
        )
    return f"no count up to {limit('REPLICAS'):,} brings it under {100 * target:.0f}%"


def additions(
    scenario: Scenario,
    peak_rps: float,
    target: float = 0.75,
    zone_loss: bool = False,
    lagging: tuple[str, ...] = (),
) -> Additions:
    """The fewest additions that hold `peak_rps` with every node at or under `target` (0..1).

    `lagging` names autoscaled nodes whose start-up lag broke the event: they are scaled up
    before it (`autoscale.min`).
    """
    if not 0 < target <= 1:
        raise ValueError(f"target utilization must be above 0% and at most 100% (got {100 * target:g}%)")
    changes: dict[str, Any] = {}
    unfixable: dict[str, str] = {}
    scaled = set(autoscaled_nodes(scenario))
    per_rps = busy_cores_per_rps(scenario) if scaled else {}
    for name, node in scenario.nodes.items():
        if getattr(node, "host", None):  # a host's cores are shared: units of the node do not add any
            if not _fits(scenario, name, node, _units(node), peak_rps, target, zone_loss):
                unfixable[name] = _why_not(scenario, name, peak_rps, target)
            continue
        if name in scaled:
            cfg = node.autoscale
            needed = max(math.ceil(per_rps[name] * peak_rps / (cores_per_replica(node) * target) - 1e-9), 1)
            if needed > cfg.max:
                changes[f"nodes.{name}.autoscale.max"] = needed
            if needed > cfg.min and (cfg.target_cpu_pct / 100.0 > target + 1e-12 or name in lagging):
                changes[f"nodes.{name}.autoscale.min"] = needed
            continue
        units = _fewest_units(scenario, name, peak_rps, target, zone_loss)
        if units is None:
            unfixable[name] = _why_not(scenario, name, peak_rps, target)
        elif units != _units(node):
            _, paths = _with_units(node, units)
            changes.update({f"nodes.{name}.{key}": value for key, value in paths.items()})
    return Additions(target, zone_loss, changes, unfixable)


def apply(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """The scenario with `changes` (key path -> value, as `--set` takes them) applied and validated."""
    data = scenario.model_dump()
    for path, value in changes.items():
        apply_override(data, path, value)
    return Scenario.model_validate(data)
