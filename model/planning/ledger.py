"""The spend plan finance reads: a horizon's calendar months, each with its cost of record under each
commitment, its SLO verdict and the budget; the totals; and what it all assumes.

A horizon of N months is months 0 to N-1: N calendar months from the start month (month 0, this
month unless said: `model.planning.calendar_months`). Each month's bill is `bill.month_bill` (so
month 0 is every page's "this month"); its verdict is `verdict.month_verdict` at its peak. The
exports (`model.planning.export`) and the Cost page show this object.

API (stable names): `ledger(scenario, months=None, *, start=None, commitment=None,
baseline_units=None, budget_usd=None, growth_pct=None) -> Ledger`; `Ledger` (`months`,
`total_usd`, `total_by_commitment`, `slo_missed_months`, `saturated_months`, `first_over_budget`,
`growth`, `price_as_of`, `to_json()`); `LedgerMonth` (`month`, `calendar_month`, `bill`, `verdict`,
`by_commitment`, `over_budget`); `price_as_of(scenario)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from model.planning.bill import DEFINITION, MonthBill, month_bill
from model.planning.calendar_months import month_label, start_month
from model.planning.growth import GrowthInUse, growth_in_use, with_growth
from model.planning.verdict import Verdict, month_verdict
from model.pricing.catalog import COMMITMENTS, UnknownInstanceError, pod_rates, price_spec
from model.scenario.schema import Scenario


@dataclass(frozen=True)
class LedgerMonth:
    month: int  # 0 = the start month
    calendar_month: str  # YYYY-MM
    bill: MonthBill  # at the ledger's commitment
    verdict: Verdict
    by_commitment: dict[str, float]  # on_demand / 1yr / 3yr -> the month's bill under each
    over_budget: bool | None  # None without a budget

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "calendar_month": self.calendar_month,
            **{k: v for k, v in self.bill.to_json().items() if k != "month"},
            "by_commitment_usd": {c: round(v, 2) for c, v in self.by_commitment.items()},
            "verdict": self.verdict.to_json(),
            "over_budget": self.over_budget,
        }


@dataclass(frozen=True)
class Ledger:
    scenario: str
    start_month: str  # YYYY-MM of month 0
    commitment: str
    months: list[LedgerMonth]
    growth: GrowthInUse
    provider: str
    region: str
    price_as_of: str
    budget_usd: float | None = None
    currency: str = "USD"

    @property
    def total_usd(self) -> float:
        return round(sum(m.bill.monthly_usd for m in self.months), 2)

    @property
    def total_by_commitment(self) -> dict[str, float]:
        return {c: round(sum(m.by_commitment[c] for m in self.months), 2) for c in COMMITMENTS}

    @property
    def slo_missed_months(self) -> int:
        return sum(not m.verdict.slo_met for m in self.months)

    @property
    def saturated_months(self) -> int:
        return sum(bool(m.verdict.saturated) for m in self.months)

    @property
    def not_a_plan_months(self) -> int:
        """Months whose bill is for a system that does not cope (SLO missed or saturated)."""
        return sum(not m.verdict.copes for m in self.months)

    @property
    def first_over_budget(self) -> LedgerMonth | None:
        return next((m for m in self.months if m.over_budget), None)

    def to_json(self) -> dict[str, Any]:
        first = self.first_over_budget
        return {
            "scenario": self.scenario,
            "start_month": self.start_month,
            "horizon_months": len(self.months),
            "commitment": self.commitment,
            "currency": self.currency,
            "cost_definition": DEFINITION,
            "months": [m.to_json() for m in self.months],
            "total_usd": self.total_usd,
            "total_by_commitment_usd": self.total_by_commitment,
            "slo_missed_months": self.slo_missed_months,
            "saturated_months": self.saturated_months,
            "budget": None
            if self.budget_usd is None
            else {
                "monthly_usd": self.budget_usd,
                "first_exceeded_month": None if first is None else first.month,
                "first_exceeded_calendar_month": None if first is None else first.calendar_month,
            },
            "growth": self.growth.to_json(),
            "prices": {"provider": self.provider, "region": self.region, "as_of": self.price_as_of},
        }


def ledger(
    scenario: Scenario,
    months: int | None = None,
    *,
    start: str | None = None,
    commitment: str | None = None,
    baseline_units: dict[str, int] | None = None,
    budget_usd: float | None = None,
    growth_pct: float | None = None,
) -> Ledger:
    """Months 0..N-1 (N = `months`, default `workload.horizon_months`); see the module docstring.
    `growth_pct` overrides the scenario's growth (the growth then says "override")."""
    n = scenario.workload.horizon_months if months is None else months
    if not 1 <= n <= 120:
        raise ValueError(f"a horizon is 1 to 120 months (got {n})")
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd >= 0):
        raise ValueError(f"the budget must be a sum of 0 or more (got {budget_usd:g})")
    growth = growth_in_use(scenario, growth_pct)
    planned = with_growth(scenario, growth.pct_per_month)
    commitment = commitment or scenario.pricing.commitment
    first = start_month(scenario, start)
    rows = []
    for m in range(n):
        bills = {c: month_bill(planned, m, commitment=c, baseline_units=baseline_units) for c in COMMITMENTS}
        bill = bills[commitment]
        verdict = month_verdict(planned, bill.peak_rps)
        over = None if budget_usd is None else bill.monthly_usd > budget_usd + 1e-9
        by_commitment = {c: b.monthly_usd for c, b in bills.items()}
        rows.append(LedgerMonth(m, month_label(first, m), bill, verdict, by_commitment, over))
    return Ledger(
        scenario.name,
        month_label(first, 0),
        commitment,
        rows,
        growth,
        scenario.pricing.provider,
        scenario.pricing.region,
        price_as_of(scenario),
        budget_usd,
    )


def price_as_of(scenario: Scenario) -> str:
    """The date(s) of the catalog rows the scenario's listed prices come from ("2025-06-01")."""
    dates = set()
    instances = [n.instance for n in scenario.nodes.values() if n.instance is not None]
    instances += [h.instance for h in scenario.hosts.values() if h.instance is not None]
    for instance in instances:
        try:
            if instance.type is not None:
                dates.add(price_spec(instance, scenario.pricing).as_of)
            else:
                provider = instance.provider or scenario.pricing.provider
                dates.update(r.as_of for r in pod_rates(provider, scenario.pricing.region))
        except UnknownInstanceError:  # an unlisted type: its price is an estimate, said elsewhere
            continue
    dates.discard("")
    return ", ".join(sorted(dates)) or "unknown"
