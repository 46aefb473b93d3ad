"""The recommender's search space: every priced way to size each node, cheapest first.

A node's options are independent of the other nodes' (its bill is its own units times its
own price), so the space is a list of options per node, and the search in
`model/planning/recommend.py` picks one per node. Instance types are searched within the node's own
provider, service, family and architecture (a service time measured on an m6i is not an
m6g's): right-sizing means more small machines or fewer big ones of the same kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.planning.autoscale import DEFAULT_DAY, TOLERANCE
from model.queueing.topology import cores_per_replica
from model.pricing.catalog import (
    UnknownInstanceError,
    UnlistedTypeError,
    load_catalog,
    price_spec,
    resolve_region,
)
from model.pricing.cost import HOURS_PER_MONTH
from model.pricing.estimate import unit_price
from model.queueing.offered_load import offered_load
from model.scenario.schema import CacheNode, DatabaseNode, Instance, KafkaNode, Scenario, ServiceNode
from model.queueing.topology import build_stations

MAX_UTILIZATION = 0.95  # options busier than this at the planned rate are never stable enough
MAX_OPTIONS_PER_TYPE = 40
TARGETS_PCT = tuple(range(30, 95, 5))
KAFKA_CONSUMER_UTILIZATION = 0.8


@dataclass(frozen=True)
class Option:
    """One way to size one node: what to change, what to evaluate at peak, what it costs."""

    node: str
    changes: dict[str, Any]  # key path suffix (e.g. "replicas") -> recommended value
    peak: dict[str, Any]  # node fields to evaluate the peak with (e.g. HPA replicas)
    monthly: float  # this node's monthly bill
    capacity: float  # servers (cores) at peak, for ordering upgrades
    label: str = field(default="", compare=False)
    hit_ratio: float | None = None  # a cache sized by its hit-ratio curve: the ratio its memory gives


def family_types(instance: Instance | None, scenario: Scenario) -> list[str]:
    """Priced instance types of the same provider, service, family and architecture."""
    if instance is None or instance.type is None:
        return []
    try:
        spec = price_spec(instance, scenario.pricing)
    except UnlistedTypeError:  # an unlisted type keeps its type (priced as an estimate)
        return []
    region = resolve_region(spec.provider, scenario.pricing.region)
    return sorted(
        {
            s.type
            for (p, _t, r), s in load_catalog().rows.items()
            if p == spec.provider
            and r == region
            and s.service == spec.service
            and s.family == spec.family
            and s.arch == spec.arch
            and s.unit == "instance-hour"
        }
    )


def _type_vcpus(scenario: Scenario, instance: Instance, type_: str) -> float:
    return price_spec(instance.model_copy(update={"type": type_}), scenario.pricing).vcpu


def _sizes(scenario: Scenario, name: str) -> list[tuple[Instance | None, float | None, dict]]:
    """(instance, cpus, changes) per type a node may run on; cpus follow the type unless pinned."""
    node = scenario.nodes[name]
    types = family_types(node.instance, scenario)
    if not types:
        return [(node.instance, getattr(node, "cpus", None), {})]
    pinned = getattr(node, "cpus", None)
    current_vcpus = _type_vcpus(scenario, node.instance, node.instance.type)
    follows = pinned is None or pinned == current_vcpus
    out = []
    for t in types:
        inst = node.instance.model_copy(update={"type": t})
        vcpus = _type_vcpus(scenario, node.instance, t)
        cpus = (None if pinned is None else vcpus) if follows else pinned
        changes: dict[str, Any] = {}
        if t != node.instance.type:
            changes["instance.type"] = t
            if pinned is not None and cpus != pinned:
                changes["cpus"] = int(cpus) if float(cpus).is_integer() else cpus
        out.append((inst, cpus, changes))
    return out


def _price(scenario: Scenario, instance: Instance | None) -> float:
    if instance is None:
        return 0.0
    hourly = unit_price(instance, scenario.pricing).hourly
    if hourly is None:
        raise UnknownInstanceError(
            f"recommend compares prices, and {instance.type!r} has none: neither it nor any "
            "size of its family is in the price catalog (data/prices.csv); give a listed type"
        )
    return hourly * HOURS_PER_MONTH


def node_options(
    scenario: Scenario,
    name: str,
    rate_rps: float,
    profile=DEFAULT_DAY,
    consumer_utilization: float = KAFKA_CONSUMER_UTILIZATION,
) -> list[Option]:
    """Every stable option for one node at `rate_rps`, cheapest first (more capacity first on ties).
    Kafka consumers are sized to at most `consumer_utilization` (the headroom target, when lower)."""
    node = scenario.nodes[name]
    loads = [p for p in offered_load(scenario, build_stations(scenario), rate_rps) if p.node == name]
    if isinstance(node, KafkaNode):
        # Brokers keep their type: the model has no broker capacity to size them against.
        return [_kafka_option(name, node, loads, _price(scenario, node.instance), consumer_utilization)]
    opts: list[Option] = []
    for inst, cpus, changes in _sizes(scenario, name):
        sized = node.model_copy(update={"instance": inst, "cpus": cpus})
        price = _price(scenario, inst)
        if isinstance(node, ServiceNode):
            opts += _service_options(name, sized, loads[0].offered, price, changes, profile)
        elif isinstance(node, CacheNode):
            opts += _cache_options(scenario, name, sized, loads[0].offered, price, changes)
        elif isinstance(node, DatabaseNode):
            opts += _database_options(scenario, name, sized, rate_rps, price, changes)
    return sorted(opts, key=lambda o: (round(o.monthly, 6), -o.capacity, -(o.hit_ratio or 0.0)))


def cache_memory_gib(scenario: Scenario, node: CacheNode) -> float | None:
    """Memory of one cache node (its instance type's, or a pod size's); None when unknown."""
    if node.instance is None:
        return None
    if node.instance.type is None:
        return node.instance.memory_gib
    try:
        return price_spec(node.instance, scenario.pricing).memory_gib
    except UnlistedTypeError:
        return None


def _cache_options(
    scenario: Scenario, name: str, node: CacheNode, busy_cores: float, price: float, changes: dict
) -> list[Option]:
    """Node counts for the lookups' CPU; with a hit-ratio curve, each count and type also sets the
    memory (nodes are shards, so memory adds up) and so the hit ratio the database behind sees."""
    per = node.cpus if node.cpus is not None and node.cpus >= 1 else 1
    low = max(1, math.floor(busy_cores / per / MAX_UTILIZATION) + 1)
    memory = cache_memory_gib(scenario, node) if node.hit_ratio_by_memory_gib else None
    out = []
    for n in range(low, low + MAX_OPTIONS_PER_TYPE):
        peak: dict[str, Any] = {"nodes": n, "instance": node.instance, "cpus": node.cpus}
        rec: dict[str, Any] = {**changes, "nodes": n}
        hit = None
        if memory is not None:
            hit = node.hit_ratio_at(n * memory)
            if hit is None:
                continue  # smaller than any size the curve states: its hit ratio is unknown
            hit = round(hit, 4)
            peak["hit_ratio"] = rec["hit_ratio"] = hit
        label = f"{n} x {node.instance.type if node.instance and node.instance.type else 'node'}"
        if hit is not None:
            label += f" ({n * memory:,.0f} GiB, hit ratio {hit:.0%})"
        out.append(Option(name, rec, peak, price * n, n * per, label, hit))
    return out


def curve_notes(scenario: Scenario) -> list[str]:
    """Where a cache's curve and its written hit ratio disagree at today's size, or the curve
    cannot be used: the search follows the curve, and the user should know it did."""
    notes = []
    for name, node in scenario.nodes.items():
        if not isinstance(node, CacheNode) or not node.hit_ratio_by_memory_gib:
            continue
        memory = cache_memory_gib(scenario, node)
        if memory is None:
            notes.append(
                f"{name}: hit_ratio_by_memory_gib needs an instance with known memory; cache memory was not searched"
            )
            continue
        today = node.hit_ratio_at(node.nodes * memory)
        if today is not None and abs(today - node.hit_ratio) > 0.005:
            notes.append(
                f"{name}: its hit_ratio_by_memory_gib gives {today:.1%} at today's {node.nodes * memory:,.1f} GiB, "
                f"the scenario says {node.hit_ratio:.1%}; the search followed the curve"
            )
    return notes


def optimistic(scenario: Scenario) -> Scenario:
    """Every curve-sized cache at the best hit ratio its curve states: the least load any choice of
    cache leaves downstream, so no option downstream is ruled out that some cache size makes stable."""
    nodes = dict(scenario.nodes)
    for name, node in scenario.nodes.items():
        if isinstance(node, CacheNode) and node.hit_ratio_by_memory_gib:
            nodes[name] = node.model_copy(update={"hit_ratio": max(node.hit_ratio_by_memory_gib.values())})
    return scenario.model_copy(update={"nodes": nodes})


def _service_options(
    name: str, node: ServiceNode, busy_cores: float, price: float, changes: dict, profile
) -> list[Option]:
    per = cores_per_replica(node)
    speed = node.cpus if node.cpus is not None and node.cpus < 1 else 1.0
    busy = busy_cores / per  # busy replicas' worth (the pool's offered load already holds the speed)
    low = max(1, math.floor(busy / MAX_UTILIZATION) + 1)
    inst = {"instance": node.instance, "cpus": node.cpus}
    if not node.autoscale:
        return [
            Option(
                name,
                {**changes, "replicas": n},
                {"replicas": n, **inst},
                price * n,
                n * per * speed,
                f"{n} x {node.instance.type if node.instance and node.instance.type else 'pod'}",
            )
            for n in range(low, low + MAX_OPTIONS_PER_TYPE)
        ]
    # With an HPA the knob is its target: the controller settles anywhere within the tolerance,
    # so the peak is checked at the fewest replicas it may settle on, and max must allow the most.
    cfg = node.autoscale
    out = []
    for target in TARGETS_PCT:
        t = target / 100.0
        fewest = max(math.ceil(busy / ((1 + TOLERANCE) * t) - 1e-9), cfg.min, 1)
        most = max(math.ceil(busy / ((1 - TOLERANCE) * t) - 1e-9), cfg.min)
        if busy / fewest >= MAX_UTILIZATION:
            continue
        day = [min(max(math.ceil(busy * f / t - 1e-9), cfg.min), max(most, cfg.max)) for f in profile]
        mean = sum(day) / len(day)
        rec = {**changes, "autoscale.target_cpu_pct": target}
        if most > cfg.max:
            rec["autoscale.max"] = most
        # the HPA's own settings travel with the peak: the risk rules read its target and max
        hpa = cfg.model_copy(update={"target_cpu_pct": target, "max": max(most, cfg.max)})
        out.append(
            Option(
                name,
                rec,
                {"replicas": fewest, "autoscale": hpa, **inst},
                price * mean,
                fewest * per * speed,
                f"HPA target {target}% (peak {fewest} to {most})",
            )
        )
    return out


def _database_options(
    scenario: Scenario, name: str, node: DatabaseNode, rate_rps: float, price: float, changes: dict
) -> list[Option]:
    out = []
    servers = cores_per_replica(node) if node.cpus is None or node.cpus >= 1 else 1
    speed = node.cpus if node.cpus is not None and node.cpus < 1 else 1.0
    label = node.instance.type if node.instance and node.instance.type else "instance"
    for replicas in range(0, 16):
        sized = node.model_copy(update={"read_replicas": replicas})
        candidate = scenario.model_copy(update={"nodes": {**scenario.nodes, name: sized}})
        pools = [p for p in offered_load(candidate, build_stations(candidate), rate_rps) if p.node == name]
        if max(p.utilization for p in pools) >= MAX_UTILIZATION:
            continue
        k = replicas + 1
        out.append(
            Option(
                name,
                {**changes, "read_replicas": replicas},
                {"read_replicas": replicas, "instance": node.instance, "cpus": node.cpus},
                price * k,
                k * servers * speed,
                f"{k} x {label}",
            )
        )
    return out


def _kafka_option(name: str, node: KafkaNode, loads, price: float, most: float) -> Option:
    """Consumers are not billed here, so they are sized for a bounded lag, not searched for cost."""
    per_consumer = max((p.offered for p in loads), default=0.0)
    total = sum(p.offered for p in loads)
    consumers = node.consumers
    if per_consumer > most:
        consumers = max(consumers, math.ceil(total / most - 1e-9))
    partitions = max(node.partitions, consumers)
    partitions = math.ceil(partitions / consumers) * consumers  # an even share per consumer
    changes = {}
    if consumers != node.consumers:
        changes["consumers"] = consumers
    if partitions != node.partitions:
        changes["partitions"] = partitions
    return Option(
        name,
        changes,
        {"consumers": consumers, "partitions": partitions},
        price * node.brokers,
        float(consumers),
        f"{consumers} consumers, {partitions} partitions",
    )
