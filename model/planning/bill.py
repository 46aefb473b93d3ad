"""The cost of record: what one month is billed. Forecast, spend, diff, the exports, every page and the
CLI call this one function for "this month", so one scenario shows one bill everywhere.

API (stable names; later changes only add):
- `DEFINITION`: the sentence a page shows beside the number.
- `month_bill(scenario, month=0, *, peak_rps=None, commitment=None, baseline_units=None) -> MonthBill`:
  month `month` (0 = this month) at `rate_rps` grown `month` months (or at `peak_rps`).
- `this_month(scenario, **kw)`: `month_bill(scenario, 0, **kw)`.
- `MonthBill`: `monthly_usd`, `per_million_usd`, `requests`, `mean_rps`, `peak_rps`, `hours`,
  `commitment`, `nodes` (name -> `NodeBill`), `hosts` (name -> USD), `cost` (a `CostBreakdown`: the
  contract's `cost` JSON), `to_json()`.
- `NodeBill`: `hourly_units` (730 values), `instance_hours`, `mean_units`, `committed_units`,
  `committed_usd`, `on_demand_usd`, `monthly_usd` (None: price unknown), `price`
  ("listed" | "estimated" | "unknown" | "none").
- `hourly_shape(scenario)`: the month's 730 hourly rates as fractions of the peak (daily x weekly).
- `hourly_units(scenario, peak_rps)`: each node's billed units hour by hour over a month.
- `default_baseline(scenario)`: the commitment baseline finance buys by default (whole units).
- `month_rate(rate_rps, growth_pct, month)`: the peak rate `month` months ahead (compound growth).
- `FILE_REPLICAS_LABEL`, `file_replicas_note(monthly_usd, bill)`: what a view says beside a number
  that is not the cost of record (`Results.cost` from evaluate: the replicas written in the file).

The month: 730 hours (the providers' convention, 8760 / 12) starting on a Monday at 00:00 UTC. Each
hour's rate is the peak x the daily profile (`workload.daily_profile`, else autoscale.DEFAULT_DAY) x
that weekday's factor (`workload.weekly_profile`, else every day alike). A fixed node is billed its
count every hour. An autoscaled node is billed the replicas its HPA runs in each hour: the controller
(`autoscale.simulate_day`) runs over a day at that weekday's peak and the replicas are averaged hour by
hour. Each unit-hour is priced at the commitment: with `on_demand` every hour at the on-demand price;
with `1yr` / `3yr` a steady baseline of units per node is committed (billed every hour at the
commitment's rate, used or not) and the hours above it are on demand, as finance buys them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.planning.autoscale import DEFAULT_DAY, SYNC_S, autoscaled_nodes, day_rate, simulate_day
from model.pricing.cost import HOURS_PER_MONTH, CostBreakdown, NodeCost, monthly_cost, units
from model.pricing.estimate import unit_price
from model.scenario.schema import Scenario

HOURS = int(HOURS_PER_MONTH)  # 730
FLAT_WEEK = (1.0,) * 7
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

DEFINITION = (
    "A month's bill is each node's billed instance-hours in the month (fixed nodes: their count x 730 h; "
    "autoscaled nodes: the replicas their HPA runs hour by hour over the month's daily and weekly traffic "
    "shape) x the price for the chosen commitment."
)
FILE_REPLICAS_LABEL = "at the replicas written in the file, all month (not the cost of record)"


def month_rate(rate_rps: float, growth_pct: float, month: int) -> float:
    """The peak rate `month` months ahead: rate * (1 + g/100) ** month."""
    return rate_rps * (1.0 + growth_pct / 100.0) ** month


def _profiles(scenario: Scenario) -> tuple[tuple[float, ...], tuple[float, ...]]:
    w = scenario.workload
    daily = tuple(w.daily_profile) if w.daily_profile else DEFAULT_DAY
    weekly = tuple(w.weekly_profile) if w.weekly_profile else FLAT_WEEK
    return daily, weekly


def _hour_means(daily: tuple[float, ...]) -> np.ndarray:
    """The mean of the day's rate (as `simulate_day` drives it) within each hour, as a fraction of the peak."""
    times = np.arange(0.0, 86_400.0, SYNC_S)
    return day_rate(daily, 1.0, times).reshape(24, -1).mean(axis=1)


def _weekday_of_hour() -> np.ndarray:
    return (np.arange(HOURS) // 24) % 7


def hourly_shape(scenario: Scenario) -> np.ndarray:
    """The month's 730 hourly rates as fractions of the peak: daily profile x the weekday's factor."""
    daily, weekly = _profiles(scenario)
    hours = np.arange(HOURS)
    return _hour_means(daily)[hours % 24] * np.asarray(weekly)[_weekday_of_hour()]


@functools.lru_cache(maxsize=512)
def _day_units(scenario_json: str, peak_rps: float, daily: tuple[float, ...]) -> dict[str, tuple[float, ...]]:
    """Each autoscaled node's mean spec replicas in each hour of a day at `peak_rps` (cached: months,
    commitments and pages ask for the same days)."""
    scenario = Scenario.model_validate_json(scenario_json)
    day = simulate_day(scenario, daily, peak_rps=peak_rps)
    return {n: tuple(float(v) for v in r.reshape(24, -1).mean(axis=1)) for n, r in day.replicas.items()}


def _day_key(scenario: Scenario) -> str:
    """The scenario as the HPA's day sees it: prices, growth and the calendar do not change a day."""
    workload = scenario.workload.model_copy(
        update={"growth_pct_per_month": 0.0, "growth_fit": None, "start_month": None, "horizon_months": 12}
    )
    pricing = scenario.pricing.model_copy(update={"commitment": "on_demand"})
    plain = scenario.model_copy(update={"workload": workload, "pricing": pricing, "name": "day"})
    return plain.model_dump_json()


def hourly_units(scenario: Scenario, peak_rps: float) -> dict[str, np.ndarray]:
    """Each node's billed units in each of the month's 730 hours at this month's peak rate."""
    daily, weekly = _profiles(scenario)
    out = {name: np.full(HOURS, float(units(node))) for name, node in scenario.nodes.items()}
    scaled = autoscaled_nodes(scenario)
    if not scaled:
        return out
    key = _day_key(scenario)
    hours, weekday = np.arange(HOURS) % 24, _weekday_of_hour()
    for factor in sorted(set(weekly)):
        days = _day_units(key, float(peak_rps * factor), daily)
        mask = np.asarray(weekly)[weekday] == factor
        for name in scaled:
            out[name][mask] = np.asarray(days[name])[hours[mask]]
    return out


@dataclass(frozen=True)
class NodeBill:
    """One node's month: units hour by hour, the hours billed and what they cost."""

    node: str
    hourly_units: tuple[float, ...]
    committed_units: int  # the commitment's baseline (0 on demand)
    committed_usd: float | None  # baseline x the commitment's rate x 730 h, used or not
    on_demand_usd: float | None  # the unit-hours above the baseline at the on-demand rate
    monthly_usd: float | None  # None: the price is unknown
    price: str  # listed | estimated | unknown | none (no instance: not billed)

    @property
    def instance_hours(self) -> float:
        return float(sum(self.hourly_units))

    @property
    def mean_units(self) -> float:
        return self.instance_hours / HOURS

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_hours": round(self.instance_hours, 2),
            "mean_units": round(self.mean_units, 4),
            "min_units": round(min(self.hourly_units), 4),
            "max_units": round(max(self.hourly_units), 4),
            "committed_units": self.committed_units,
            "committed_usd": _cents(self.committed_usd),
            "on_demand_usd": _cents(self.on_demand_usd),
            "monthly_usd": _cents(self.monthly_usd),
            "price": self.price,
        }


@dataclass(frozen=True)
class MonthBill:
    """The cost of record of one month (see the module docstring)."""

    scenario: str
    month: int
    peak_rps: float
    mean_rps: float
    commitment: str
    nodes: dict[str, NodeBill]
    hosts: dict[str, float]  # host -> USD (one unit all month, at the commitment's rate)
    cost: CostBreakdown  # the same bill in the contract's `cost` shape
    hours: float = HOURS_PER_MONTH
    currency: str = "USD"
    notes: list[str] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return self.cost.monthly

    @property
    def requests(self) -> float:
        """Requests arriving in the month: the mean rate over the month's shape x its hours."""
        return self.mean_rps * 3600.0 * self.hours

    @property
    def per_million_usd(self) -> float | None:
        return self.monthly_usd / (self.requests / 1e6) if self.requests > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "peak_rps": round(self.peak_rps, 3),
            "mean_rps": round(self.mean_rps, 3),
            "requests_millions": round(self.requests / 1e6, 3),
            "hours": self.hours,
            "commitment": self.commitment,
            "monthly_usd": _cents(self.monthly_usd),
            "per_million_usd": None if self.per_million_usd is None else round(self.per_million_usd, 4),
            "currency": self.currency,
            "nodes": {n: b.to_json() for n, b in self.nodes.items()},
            "hosts": {h: _cents(v) for h, v in self.hosts.items()},
        }


def _cents(value: float | None) -> float | None:
    return None if value is None else round(float(value) + 0.0, 2)


def _priced(scenario: Scenario, commitment: str) -> Scenario:
    pricing = scenario.pricing.model_copy(update={"commitment": commitment})
    return scenario.model_copy(update={"pricing": pricing})


def default_baseline(scenario: Scenario, commitment: str | None = None) -> dict[str, int]:
    """The units a commitment covers by default: each node's lowest hourly usage in month 0 (this
    month, the horizon's first), rounded down to whole units, as savings-plan advice sizes it. With
    `commitment`, a node whose commitment rate is no cheaper than on demand (not offered: MSK) gets 0."""
    usage = hourly_units(scenario, scenario.workload.rate_rps)
    out = {name: int(math.floor(float(u.min()) + 1e-9)) for name, u in usage.items()}
    if commitment and commitment != "on_demand":
        for name, node in scenario.nodes.items():
            if node.instance is None:
                continue
            committed = unit_price(node.instance, _priced(scenario, commitment).pricing).hourly
            listed = unit_price(node.instance, _priced(scenario, "on_demand").pricing).hourly
            if committed is None or listed is None or committed >= listed:
                out[name] = 0
    return out


def month_bill(
    scenario: Scenario,
    month: int = 0,
    *,
    peak_rps: float | None = None,
    commitment: str | None = None,
    baseline_units: dict[str, int] | None = None,
) -> MonthBill:
    """The cost of record of month `month` (0 = this month); see the module docstring.

    `commitment` defaults to `pricing.commitment`; `baseline_units` (node -> committed units) to
    `default_baseline`. With `on_demand` nothing is committed."""
    if month < 0:
        raise ValueError("month must be 0 or more")
    w = scenario.workload
    peak = month_rate(w.rate_rps, w.growth_pct_per_month, month) if peak_rps is None else float(peak_rps)
    if not (peak >= 0 and math.isfinite(peak)):
        raise ValueError(f"peak_rps must be a finite rate of 0 or more, got {peak}")
    commitment = commitment or scenario.pricing.commitment
    usage = hourly_units(scenario, peak)
    if commitment == "on_demand":
        baseline = {name: 0 for name in scenario.nodes}
    else:
        baseline = {**default_baseline(scenario, commitment), **(baseline_units or {})}
        unknown = sorted(set(baseline) - set(scenario.nodes))
        if unknown:
            raise ValueError(f"baseline_units names nodes not in the scenario: {', '.join(unknown)}")
    shape = hourly_shape(scenario)
    mean_rps = float(peak * shape.mean())
    above = {n: float(np.maximum(u - baseline[n], 0.0).sum()) / HOURS for n, u in usage.items()}
    committed = monthly_cost(
        _priced(scenario, commitment), mean_rps, {n: float(b) for n, b in baseline.items()}
    )
    on_demand = monthly_cost(_priced(scenario, "on_demand"), mean_rps, above)
    return _combine(scenario, month, peak, mean_rps, commitment, usage, baseline, committed, on_demand)


def this_month(scenario: Scenario, **kwargs: Any) -> MonthBill:
    """`month_bill(scenario, 0)`: the number every page and `forecast`'s month 0 show."""
    return month_bill(scenario, 0, **kwargs)


def _combine(
    scenario: Scenario,
    month: int,
    peak: float,
    mean_rps: float,
    commitment: str,
    usage: dict[str, np.ndarray],
    baseline: dict[str, int],
    committed: CostBreakdown,
    on_demand: CostBreakdown,
) -> MonthBill:
    """The committed and on-demand parts as one bill, and as one `CostBreakdown`."""
    nodes: dict[str, NodeBill] = {}
    costs: dict[str, NodeCost] = {}
    by_node: dict[str, float | None] = {}
    for name in scenario.nodes:
        c, d = committed.by_node[name], on_demand.by_node[name]
        total = None if c is None or d is None else round(c + d, 2)
        od_node = on_demand.nodes[name]
        price = (
            "none"
            if name in on_demand.unpriced
            else "unknown"
            if total is None
            else "estimated"
            if od_node.estimate is not None
            else "listed"
        )
        units_h = tuple(float(v) for v in usage[name])
        nodes[name] = NodeBill(name, units_h, baseline[name], c, d, total, price)
        mean_units = sum(units_h) / HOURS
        hourly = None if total is None or mean_units == 0 else total / (mean_units * HOURS_PER_MONTH)
        costs[name] = NodeCost(hourly, mean_units, total, od_node.estimate, od_node.unknown_because)
        by_node[name] = total
    hosts = dict(committed.by_host or {})
    monthly = round(sum(v for v in by_node.values() if v is not None) + sum(hosts.values()), 2)
    requests = mean_rps * 3600.0 * HOURS_PER_MONTH
    cost = CostBreakdown(
        currency=on_demand.currency,
        monthly=monthly,
        by_node=by_node,
        per_million_requests=monthly / (requests / 1e6) if requests > 0 else None,
        commitment=commitment,
        nodes=costs,
        unpriced=list(on_demand.unpriced),
        by_host=committed.by_host,
    )
    return MonthBill(scenario.name, month, peak, mean_rps, commitment, nodes, hosts, cost)


def file_replicas_note(monthly_usd: float, bill: MonthBill, currency: str = "USD") -> str:
    """The sentence beside a bill priced at the file's replicas (evaluate's `Results.cost`), which is
    not the cost of record: says what it is and what the cost of record is."""
    return (
        f"${monthly_usd:,.2f} {FILE_REPLICAS_LABEL}; the cost of record this month is "
        f"${bill.monthly_usd:,.2f} (the HPA's replicas hour by hour over the month's traffic)"
        if currency == "USD"
        else f"{monthly_usd:,.2f} {currency} {FILE_REPLICAS_LABEL}; the cost of record this month is "
        f"{bill.monthly_usd:,.2f} {currency}"
    )
