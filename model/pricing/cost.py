"""What a scenario costs per month: by node, in total, and per million requests served.

A month is 730 hours (the providers' own convention: 8760 / 12). A node's cost is its
hourly unit price times the units it runs: replicas, cache nodes, database instances
(primary and read replicas) or brokers. With autoscaling the unit count moves over the
day, so the caller may pass the simulated mean unit count per node and the cost follows
it rather than a fixed count: paying for the maximum all day would overstate the bill.

A type the catalog does not list is priced from its family's listed sizes and reported as
an estimate; with no listed size of its family its cost is unknown (None), left out of the
total, and reported as such (`estimated`, `unknown`; model/pricing/estimate.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.pricing.catalog import (
    UnknownInstanceError,
    UnlistedTypeError,
    hourly_price,
    load_catalog,
    pod_rates,
    price_spec,
    resolve_region,
)
from model.pricing.estimate import PriceEstimate, unit_price
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode

HOURS_PER_MONTH = 730.0


def units(node: ServiceNode | CacheNode | DatabaseNode | KafkaNode) -> int:
    """Billable machines (or pods) a node runs at its configured size (a node on a host: the host
    is billed instead, see _host_costs below)."""
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
    """One node's bill; `mean_units` is fractional when it follows a simulated autoscaling day.
    `hourly_per_unit` and `monthly` are None when the price is unknown; `estimate` is set when
    the price was scaled from other sizes of the type's family."""

    hourly_per_unit: float | None
    mean_units: float
    monthly: float | None
    estimate: PriceEstimate | None = None
    unknown_because: str = ""


@dataclass(frozen=True)
class CostBreakdown:
    """The monthly bill of one scenario at one throughput."""

    currency: str
    monthly: float  # sum of by_node's known values, each rounded to cents
    by_node: dict[str, float | None]  # node -> monthly, rounded to cents; None: price unknown
    per_million_requests: float | None  # None when nothing was served (no meaningful ratio)
    commitment: str
    nodes: dict[str, NodeCost] = field(default_factory=dict)
    unpriced: list[str] = field(default_factory=list)  # nodes without an instance (cost 0)
    by_host: dict[str, float] | None = None  # host -> monthly (one unit each); None without hosts

    @property
    def estimated(self) -> dict[str, PriceEstimate]:
        """Nodes whose price is scaled from other sizes of their family, and from which."""
        return {
            name: c.estimate
            for name, c in self.nodes.items()
            if c.estimate is not None and c.monthly is not None
        }

    @property
    def unknown(self) -> list[str]:
        """Nodes with no price at all; `monthly` leaves them out."""
        return [name for name, value in self.by_node.items() if value is None]

    def to_json(self) -> dict:
        """The contract's `cost` object, plus `estimated` and `unknown` only when some node has
        no listed price (docs/contract.md), so a fully listed bill keeps the contract's shape."""
        per_million = None if self.per_million_requests is None else round(self.per_million_requests, 2)
        out = {
            "currency": self.currency,
            "monthly": round(self.monthly, 2),
            "by_node": {name: None if v is None else round(v, 2) for name, v in self.by_node.items()},
            "per_million_requests": per_million,
        }
        if self.by_host is not None:
            out["by_host"] = {name: round(v, 2) for name, v in self.by_host.items()}
        if self.estimated:
            out["estimated"] = {name: e.to_json(self.commitment) for name, e in self.estimated.items()}
        if self.unknown:
            out["unknown"] = self.unknown
        return out

    def caveat(self) -> str:
        """One sentence on what the total rests on besides list prices, or ""."""
        parts = [
            f"{name}'s {e.type} estimated from "
            + " and ".join(f"{t} x{f:.3g}" for t, f in zip(e.from_types, e.factors))
            for name, e in self.estimated.items()
        ]
        if self.unknown:
            why = "; ".join(
                self.nodes[n].unknown_because
                for n in self.unknown
                if n in self.nodes and self.nodes[n].unknown_because
            )
            parts.append(f"excludes {', '.join(self.unknown)} (price unknown" + (f": {why})" if why else ")"))
        return "; ".join(parts)


def monthly_cost(
    scenario: Scenario, throughput_rps: float, unit_hours_by_node: dict[str, float] | None = None
) -> CostBreakdown:
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
        price = unit_price(node.instance, scenario.pricing)
        monthly = None if price.hourly is None else price.hourly * mean_units * HOURS_PER_MONTH
        nodes[name] = NodeCost(price.hourly, mean_units, monthly, price.estimate, price.unknown_because)
    by_node = {name: None if c.monthly is None else round(c.monthly, 2) for name, c in nodes.items()}
    by_host = _host_costs(scenario) if scenario.hosts else None
    monthly = round(sum(v for v in by_node.values() if v is not None) + sum((by_host or {}).values()), 2)
    requests_per_month = throughput_rps * 3600 * HOURS_PER_MONTH
    per_million = monthly / (requests_per_month / 1e6) if requests_per_month > 0 else None
    return CostBreakdown(
        currency="USD",
        monthly=monthly,
        by_node=by_node,
        per_million_requests=per_million,
        commitment=scenario.pricing.commitment,
        nodes=nodes,
        unpriced=unpriced,
        by_host=by_host,
    )


def _host_costs(scenario: Scenario) -> dict[str, float]:
    """A host is one billable machine (or pod); its nodes carry no instance of their own."""
    return {
        name: round(hourly_price(host.instance, scenario.pricing) * HOURS_PER_MONTH, 2)
        if host.instance
        else 0.0
        for name, host in scenario.hosts.items()
    }


def needs_catalog_vcpus(node) -> bool:
    """A service or database without `cpus` takes its servers from the catalog's vCPUs, so its
    type must be listed; a cache serves on `cpus` (default 1) and Kafka on its partitions."""
    return isinstance(node, (ServiceNode, DatabaseNode)) and node.cpus is None


def validate_prices(scenario: Scenario, strict: bool = False) -> list[tuple[tuple, str]]:
    """Every pricing problem, as (key path, message), so the loader can refuse the file up front.

    Paths are tuples like `GraphError.path`, e.g. ("nodes", "web", "instance", "type"). A type
    the catalog does not list is a problem only where the node needs its vCPUs from there, or
    with `strict` (`--strict-prices`: CI wants listed prices only, no estimates, no unknowns).
    """
    problems: list[tuple[tuple, str]] = []
    catalog = load_catalog()
    pricing = scenario.pricing
    if pricing.region not in catalog.regions(pricing.provider):
        problems.append(
            (
                ("pricing", "region"),
                f"no {pricing.provider} prices for region {pricing.region!r}; "
                f"known regions: {', '.join(catalog.regions(pricing.provider))}",
            )
        )
        return problems
    priced = [(("nodes", name), node, node.instance) for name, node in scenario.nodes.items()]
    priced += [(("hosts", name), host, host.instance) for name, host in scenario.hosts.items()]
    for path, owner, instance in priced:
        if instance is None:
            continue
        provider = instance.provider or pricing.provider
        try:
            if instance.type is not None:
                price_spec(instance, pricing)
            else:
                pod_rates(provider, resolve_region(provider, pricing.region))
        except UnlistedTypeError as err:
            if strict:
                problems.append(
                    (
                        (*path, "instance", "type"),
                        f"{err} (--strict-prices accepts listed prices only; without it the cost "
                        "would be estimated from the type's family or unknown)",
                    )
                )
            elif path[0] == "hosts":  # a host's bill is its machine's price: no estimate is made for it
                problems.append(((*path, "instance", "type"), str(err)))
            elif needs_catalog_vcpus(owner):
                problems.append(
                    (
                        (*path, "instance", "type"),
                        f"{err}; or give the node's cpus to simulate it with an estimated price",
                    )
                )
        except UnknownInstanceError as err:
            key = "type" if instance.type is not None else "vcpu"
            problems.append(((*path, "instance", key), str(err)))
    return problems
