"""What a scenario costs per month: by node, in total, and per million requests served.

A month is 730 hours (the providers' own convention: 8760 / 12). A node's cost is its
hourly unit price times the units it runs: replicas, cache nodes, database instances
(primary and read replicas) or brokers. With autoscaling the unit count moves over the
day, so the caller may pass the simulated mean unit count per node and the cost follows
it rather than a fixed count: paying for the maximum all day would overstate the bill.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.pricing.catalog import UnknownInstanceError, hourly_price, load_catalog, pod_rates, price_spec, resolve_region
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode

HOURS_PER_MONTH = 730.0


def units(node: ServiceNode | CacheNode | DatabaseNode | KafkaNode) -> int:
    """Billable machines (or pods) a node runs at its configured size."""
    if isinstance(node, ServiceNode):
        return node.replicas
    if isinstance(node, CacheNode):
        return node.nodes
    if isinstance(node, DatabaseNode):
        return node.instances
    if isinstance(node, KafkaNode):
        return node.brokers
    raise TypeError(f"no unit count for {type(node).__name__}")


@dataclass(frozen=True)
class NodeCost:
    """One node's bill; `mean_units` is fractional when it follows a simulated autoscaling day."""

    hourly_per_unit: float
    mean_units: float
    monthly: float


@dataclass(frozen=True)
class CostBreakdown:
    """The monthly bill of one scenario at one throughput."""

    currency: str
    monthly: float                           # sum of by_node, each rounded to cents
    by_node: dict[str, float]                # node -> monthly, rounded to cents
    per_million_requests: float | None       # None when nothing was served (no meaningful ratio)
    commitment: str
    nodes: dict[str, NodeCost] = field(default_factory=dict)
    unpriced: list[str] = field(default_factory=list)  # nodes without an instance (cost 0)

    def to_json(self) -> dict:
        """The contract's `cost` object; extra detail stays on the dataclass."""
        per_million = None if self.per_million_requests is None else round(self.per_million_requests, 2)
        return {"currency": self.currency, "monthly": round(self.monthly, 2),
                "by_node": {name: round(v, 2) for name, v in self.by_node.items()},
                "per_million_requests": per_million}


def monthly_cost(scenario: Scenario, throughput_rps: float,
                 unit_hours_by_node: dict[str, float] | None = None) -> CostBreakdown:
    """Price every node for a 730-hour month at the scenario's provider, region and commitment.

    `unit_hours_by_node` maps a node to its unit-hours per hour averaged over a simulated day
    (that is, its mean replica count); nodes not in it run their configured count.
    `per_million_requests` divides the month by the requests a month at `throughput_rps`;
    `model.queueing.evaluate.evaluate` passes the offered rate, since a saturated system is billed all the same.
    """
    if throughput_rps < 0:
        raise ValueError(f"throughput_rps must be >= 0, got {throughput_rps}")
    overrides = dict(unit_hours_by_node or {})
    unknown = sorted(set(overrides) - set(scenario.nodes))
    if unknown:
        raise ValueError(f"unit_hours_by_node names nodes not in the scenario: {', '.join(unknown)}")
    nodes: dict[str, NodeCost] = {}
    unpriced: list[str] = []
    for name, node in scenario.nodes.items():
        mean_units = float(overrides.get(name, units(node)))
        if mean_units < 0:
            raise ValueError(f"unit_hours_by_node[{name!r}] must be >= 0, got {mean_units}")
        if node.instance is None:
            unpriced.append(name)
            nodes[name] = NodeCost(0.0, mean_units, 0.0)
            continue
        hourly = hourly_price(node.instance, scenario.pricing)
        nodes[name] = NodeCost(hourly, mean_units, hourly * mean_units * HOURS_PER_MONTH)
    by_node = {name: round(c.monthly, 2) for name, c in nodes.items()}
    monthly = round(sum(by_node.values()), 2)
    requests_per_month = throughput_rps * 3600 * HOURS_PER_MONTH
    per_million = monthly / (requests_per_month / 1e6) if requests_per_month > 0 else None
    return CostBreakdown(currency="USD", monthly=monthly, by_node=by_node, per_million_requests=per_million,
                         commitment=scenario.pricing.commitment, nodes=nodes, unpriced=unpriced)


def validate_prices(scenario: Scenario) -> list[tuple[tuple, str]]:
    """Every pricing problem, as (key path, message), so the loader can refuse the file up front.

    Paths are tuples like `GraphError.path`, e.g. ("nodes", "web", "instance", "type").
    """
    problems: list[tuple[tuple, str]] = []
    catalog = load_catalog()
    pricing = scenario.pricing
    if pricing.region not in catalog.regions(pricing.provider):
        problems.append((("pricing", "region"),
                         f"no {pricing.provider} prices for region {pricing.region!r}; "
                         f"known regions: {', '.join(catalog.regions(pricing.provider))}"))
        return problems
    for name, node in scenario.nodes.items():
        instance = node.instance
        if instance is None:
            continue
        provider = instance.provider or pricing.provider
        try:
            if instance.type is not None:
                price_spec(instance, pricing)
            else:
                pod_rates(provider, resolve_region(provider, pricing.region))
        except UnknownInstanceError as err:
            key = "type" if instance.type is not None else "vcpu"
            problems.append((("nodes", name, "instance", key), str(err)))
    return problems
