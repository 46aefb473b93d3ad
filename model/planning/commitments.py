"""Commitments as finance buys them: a steady baseline for the whole term, the rest on demand.

A 1- or 3-year commitment (reserved instances, savings plans, committed use) buys a number of units
of a node's type for every hour of the term, used or not, at the commitment's rate. Usage above the
baseline is billed on demand; baseline hours the node does not use are paid and wasted. The default
baseline is each node's lowest hourly usage in month 0 (the horizon's first month), rounded down to
whole units: the size savings-plan recommendations usually propose, never idle; a node whose type has
no commitment cheaper than on demand (MSK) is not committed by default.

Over the full term (12 or 36 months, whatever the horizon shown) this module says:
- coverage: the share of the unit-hours used that the commitment covered;
- utilization: the share of the committed unit-hours that were used;
- savings: the term's bills all on demand minus the term's bills with the commitment;
- break-even month: the first month by whose end the on-demand value of the hours the commitment
  covered reaches what the whole term's commitment costs (None: it never pays for itself).
Hosts (one steady unit each) are committed whole. Nodes whose price is unknown are left out.

API (stable names): `TERMS`, `commitment_plan(scenario, term, baseline_units=None) -> CommitmentPlan`,
`CommitmentPlan` (`term`, `term_months`, `baseline_units`, `months`, `coverage`, `utilization`,
`savings_usd`, `on_demand_usd`, `with_commitment_usd`, `committed_usd`, `break_even_month`,
`to_json()`), `CommitmentMonth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model.planning.bill import HOURS, MonthBill, default_baseline, month_bill
from model.scenario.schema import Scenario

TERMS = {"1yr": 12, "3yr": 36}


@dataclass(frozen=True)
class CommitmentMonth:
    month: int
    on_demand_usd: float  # the month's bill with nothing committed
    with_commitment_usd: float  # baseline at the commitment's rate + the hours above it on demand
    committed_usd: float  # the commitment's part, paid used or not
    used_hours: float  # unit-hours run (priced nodes and hosts)
    covered_hours: float  # of those, within the baseline
    committed_hours: float  # baseline x 730 h
    covered_value_usd: float  # what the covered hours would have cost on demand

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "on_demand_usd": round(self.on_demand_usd, 2),
            "with_commitment_usd": round(self.with_commitment_usd, 2),
            "committed_usd": round(self.committed_usd, 2),
            "used_hours": round(self.used_hours, 2),
            "covered_hours": round(self.covered_hours, 2),
            "committed_hours": round(self.committed_hours, 2),
        }


@dataclass(frozen=True)
class CommitmentPlan:
    scenario: str
    term: str
    baseline_units: dict[str, int]
    months: list[CommitmentMonth]  # the whole term, month 0 first

    @property
    def term_months(self) -> int:
        return TERMS[self.term]

    @property
    def on_demand_usd(self) -> float:
        return round(sum(m.on_demand_usd for m in self.months), 2)

    @property
    def with_commitment_usd(self) -> float:
        return round(sum(m.with_commitment_usd for m in self.months), 2)

    @property
    def committed_usd(self) -> float:
        return round(sum(m.committed_usd for m in self.months), 2)

    @property
    def savings_usd(self) -> float:
        """The full term all on demand minus the full term with the commitment (negative: it costs more)."""
        return round(self.on_demand_usd - self.with_commitment_usd, 2)

    @property
    def coverage(self) -> float:
        used = sum(m.used_hours for m in self.months)
        return sum(m.covered_hours for m in self.months) / used if used > 0 else 0.0

    @property
    def utilization(self) -> float:
        committed = sum(m.committed_hours for m in self.months)
        return sum(m.covered_hours for m in self.months) / committed if committed > 0 else 0.0

    @property
    def break_even_month(self) -> int | None:
        """The month by whose end the covered hours' on-demand value reaches the term's commitment."""
        if self.committed_usd <= 0:
            return None
        value = 0.0
        for m in self.months:
            value += m.covered_value_usd
            if value >= self.committed_usd - 0.005:
                return m.month
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "term_months": self.term_months,
            "baseline_units": dict(self.baseline_units),
            "coverage": round(self.coverage, 4),
            "utilization": round(self.utilization, 4),
            "on_demand_usd": self.on_demand_usd,
            "with_commitment_usd": self.with_commitment_usd,
            "committed_usd": self.committed_usd,
            "savings_usd": self.savings_usd,
            "break_even_month": self.break_even_month,
            "months": [m.to_json() for m in self.months],
        }


def commitment_plan(
    scenario: Scenario, term: str, baseline_units: dict[str, int] | None = None
) -> CommitmentPlan:
    """The commitment `term` ("1yr" | "3yr") on `baseline_units` (default `bill.default_baseline`),
    month by month over the whole term at the scenario's growth."""
    if term not in TERMS:
        raise ValueError(f"a commitment term is one of {', '.join(TERMS)} (got {term!r})")
    baseline = {**default_baseline(scenario, term), **(baseline_units or {})}
    for name, count in baseline.items():
        if name not in scenario.nodes:
            raise ValueError(f"baseline_units names {name!r}, which is not a node of the scenario")
        if count < 0 or int(count) != count:
            raise ValueError(f"baseline_units[{name!r}] must be a whole number of units, 0 or more")
    months = []
    for m in range(TERMS[term]):
        od = month_bill(scenario, m, commitment="on_demand")
        cm = month_bill(scenario, m, commitment=term, baseline_units=baseline)
        months.append(_month(m, od, cm))
    return CommitmentPlan(scenario.name, term, {n: int(b) for n, b in baseline.items()}, months)


def _month(m: int, od: MonthBill, cm: MonthBill) -> CommitmentMonth:
    used = covered = committed_hours = value = committed_usd = 0.0
    for name, node in cm.nodes.items():
        if node.price in ("none", "unknown") or node.committed_usd is None:
            continue
        units = np.asarray(node.hourly_units)
        hourly_od = od.cost.nodes[name].hourly_per_unit or 0.0
        covered_n = float(np.minimum(units, node.committed_units).sum())
        used += float(units.sum())
        covered += covered_n
        committed_hours += node.committed_units * HOURS
        value += covered_n * hourly_od
        committed_usd += node.committed_usd
    for host, usd in cm.hosts.items():  # one steady unit each, committed whole
        used += HOURS
        covered += HOURS
        committed_hours += HOURS
        value += od.hosts.get(host, 0.0)
        committed_usd += usd
    return CommitmentMonth(
        m, od.monthly_usd, cm.monthly_usd, committed_usd, used, covered, committed_hours, value
    )
