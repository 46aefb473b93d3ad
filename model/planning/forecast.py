"""Month by month with today's configuration: load, cost, p99, SLO met, and the runway.

Load grows by compound interest, rate * (1 + g/100) ** month. Each month is solved (or
simulated) as a steady state at that month's peak rate; the runway is the first month
whose SLO is missed. A fitted growth rate is uncertain, so with `growth_sd_pct` every month
is also solved at the growth rate z standard deviations below and above (one rate for the
whole horizon: the uncertainty is in the trend, so the band widens like a cone).
With autoscaling, "today's configuration" is the HPA's settings: each month's latency is
solved with the replicas the HPA would hold at that month's peak.

Each month's bill is the cost of record (`model.planning.bill.month_bill`: instance-hours hour by
hour over the month's traffic shape x the price), so month 0 here is "this month" on every page.
Each month also carries its verdict (`model.planning.verdict`): a month that misses the SLO or
saturates is marked, and counted. With a budget, the first month whose bill exceeds it is named.
A fitted scenario's growth comes with its 90% band (`workload.growth_fit`), used as the band
unless `growth_sd_pct` is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from model.planning.autoscale import at_peak, autoscaled_nodes
from model.planning.bill import DEFINITION, MonthBill, month_bill
from model.planning.calendar_months import month_label, month_name, start_month
from model.planning.growth import GrowthInUse, growth_in_use, with_growth
from model.planning.load import MonthLoad, month_load, month_rate  # noqa: F401 (month_rate: importers of forecast)
from model.planning.report import round_or_inf
from model.planning.verdict import verdict_of
from model.pricing.cost import monthly_cost
from model.queueing.results import Results, bottleneck
from model.queueing.evaluate import evaluate, slo_verdict
from model.scenario.schema import Scenario
from model.queueing.run_size import PLANNING_REQUESTS

FORECAST_REQUESTS = PLANNING_REQUESTS
BAND_Z = 1.645  # a 90% band when the growth estimate is normal


@dataclass(frozen=True)
class Month:
    month: int
    rate_rps: float
    monthly: float
    p99_ms: float
    slo_met: bool
    violations: list[str]
    bottleneck: str  # the busiest node this month
    utilization: float  # that node's utilization
    saturated: list[str]
    low: tuple[float, float, float] | None = None  # (rate, monthly, p99) at the low growth
    high: tuple[float, float, float] | None = None  # the same at the high growth
    mean_rps: float | None = None  # the month's mean rate over its traffic shape
    per_million: float | None = None  # the bill over the requests of the month (mean rate x 730 h)
    verdict: str | None = None  # "SLO missed: ...; the bill shown is for a system that does not cope"
    calendar_month: str | None = None  # YYYY-MM
    over_budget: bool | None = None  # None without a budget
    users: int | None = None  # a closed workload: the month's users (rate_rps is their throughput)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "month": self.month,
            "rate_rps": round(self.rate_rps, 3),
            "monthly": round(self.monthly, 2),
            "latency_ms": {"p99": round_or_inf(self.p99_ms)},
            "slo_met": self.slo_met,
            "violations": list(self.violations),
            "bottleneck": self.bottleneck,
            "bottleneck_utilization": round(self.utilization, 4),
            "saturated": list(self.saturated),
            "calendar_month": self.calendar_month,
            "mean_rps": None if self.mean_rps is None else round(self.mean_rps, 3),
            "per_million_requests": None if self.per_million is None else round(self.per_million, 4),
            "verdict": self.verdict,
        }
        if self.over_budget is not None:
            out["over_budget"] = self.over_budget
        if self.users is not None:
            out["users"] = self.users
        if self.low is not None and self.high is not None:
            out["band"] = {
                "rate_rps": [round(self.low[0], 3), round(self.high[0], 3)],
                "monthly": [round(self.low[1], 2), round(self.high[1], 2)],
                "p99_ms": [round_or_inf(self.low[2]), round_or_inf(self.high[2])],
            }
        return out


@dataclass(frozen=True)
class Forecast:
    scenario: str
    method: str
    growth_pct_per_month: float
    months: list[Month]
    growth_sd_pct: float | None = None
    currency: str = "USD"
    notes: list[str] = field(default_factory=list)
    prices: dict[str, Any] = field(
        default_factory=dict
    )  # cost's `estimated` / `unknown`, when some node has them
    budget_usd: float | None = None
    growth: GrowthInUse | None = None
    growth_band_pct: tuple[float, float] | None = None  # (low, high) growth of the band, when there is one
    start_month: str | None = None  # YYYY-MM of month 0

    @property
    def slo_missed_months(self) -> int:
        """How many of the months shown miss the SLO."""
        return sum(not m.slo_met for m in self.months)

    @property
    def saturated_months(self) -> int:
        return sum(bool(m.saturated) for m in self.months)

    @property
    def first_over_budget(self) -> int | None:
        """The first month whose bill exceeds the budget, or None (also without a budget)."""
        return next((m.month for m in self.months if m.over_budget), None)

    @property
    def runway_months(self) -> int | None:
        """The first month whose SLO fails with today's configuration, or None within the horizon."""
        return next((m.month for m in self.months if not m.slo_met), None)

    @property
    def fails_first(self) -> str | None:
        """The node that gives out first: the busiest node in the runway month."""
        runway = self.runway_months
        return None if runway is None else self.months[runway].bottleneck

    def to_json(self) -> dict[str, Any]:
        out = {
            "months": [m.to_json() for m in self.months],
            "runway_months": self.runway_months,
            "bottleneck": self.fails_first,
            "method": self.method,
            "growth_pct_per_month": self.growth_pct_per_month,
            "currency": self.currency,
        }
        if self.growth_sd_pct is not None:
            out["growth_sd_pct"] = self.growth_sd_pct
            out["band_z"] = BAND_Z
        if self.growth_band_pct is not None:
            out["growth_band_pct"] = [round(v, 4) for v in self.growth_band_pct]
        out.update(self.prices)
        out["start_month"] = self.start_month
        out["slo_missed_months"] = self.slo_missed_months
        out["saturated_months"] = self.saturated_months
        out["cost_definition"] = DEFINITION
        if self.growth is not None:
            out["growth"] = self.growth.to_json()
        if self.budget_usd is not None:
            first = self.first_over_budget
            out["budget"] = {
                "monthly_usd": self.budget_usd,
                "first_exceeded_month": first,
                "first_exceeded_calendar_month": None if first is None else self.months[first].calendar_month,
                "exceeded_monthly_usd": None if first is None else round(self.months[first].monthly, 2),
            }
        return out

    def to_text(self) -> str:
        from model.planning.forecast_text import forecast_text

        return forecast_text(self)


def forecast(
    scenario: Scenario,
    months: int,
    method: str = "analytic",
    seed: int | None = None,
    growth_sd_pct: float | None = None,
    requests: int = FORECAST_REQUESTS,
    budget_usd: float | None = None,
    start: str | None = None,
    growth_pct: float | None = None,
) -> Forecast:
    """Months 0..months inclusive at compound growth; see the module docstring for the band.

    `budget_usd`: a monthly budget; each month says whether its bill exceeds it. `start`: the
    calendar month (YYYY-MM) of month 0 (default `workload.start_month`, else this month).
    `growth_pct`: the user's growth instead of the file's (`growth.source` "override")."""
    if months < 0:
        raise ValueError("months must be 0 or more")
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd >= 0):
        raise ValueError(f"the budget must be a sum of 0 or more (got {budget_usd:g})")
    in_use = growth_in_use(scenario, growth_pct)
    scenario = with_growth(scenario, in_use.pct_per_month)
    growth = in_use.pct_per_month
    band: tuple[float, float] | None = None
    if growth_sd_pct:
        band = (max(growth - BAND_Z * growth_sd_pct, -99.0), growth + BAND_Z * growth_sd_pct)
    elif in_use.source == "fitted" and in_use.band_pct is not None:
        band = (max(in_use.band_pct[0], -99.0), in_use.band_pct[1])
    first = start_month(scenario, start)
    out = []
    for m in range(months + 1):
        month = _solve(month_load(scenario, m, growth), method, seed, requests, m)
        if band is not None:
            lo = _solve(month_load(scenario, m, band[0]), method, seed, requests, m)
            hi = _solve(month_load(scenario, m, band[1]), method, seed, requests, m)
            month = _with_band(month, lo, hi)
        over = None if budget_usd is None else month.monthly > budget_usd + 1e-9
        out.append(replace(month, calendar_month=month_label(first, m), over_budget=over))
    notes = []
    # which prices are estimated or unknown does not change by month
    today = monthly_cost(scenario, month_load(scenario).rate_rps)
    prices = {k: v for k, v in today.to_json().items() if k in ("estimated", "unknown")}
    if prices:
        notes.append("cost: " + today.caveat())
    notes.append(f"month 0 is {month_name(first, 0)}; " + DEFINITION[0].lower() + DEFINITION[1:])
    if autoscaled_nodes(scenario):
        notes.append(
            "latency: autoscaled nodes at the replicas their HPA holds at each month's peak"
            + ("" if scenario.workload.daily_profile else "; the day's shape is autoscale.DEFAULT_DAY")
        )
    return Forecast(
        scenario.name,
        method,
        growth,
        out,
        growth_sd_pct or None,
        notes=notes,
        prices=prices,
        budget_usd=budget_usd,
        growth=in_use,
        growth_band_pct=band,
        start_month=month_label(first, 0),
    )


def runway(scenario: Scenario, months: int) -> tuple[int | None, str | None]:
    """`forecast(scenario, months)`'s runway and the node that gives out first, without its bill.

    The SLO never depends on the bill, so this asks each month at its peak for the SLO verdict
    only (no simulated HPA day to price it, no Kafka lag percentiles; model.queueing.evaluate's
    slo_verdict) and stops at the first month that misses: what a page showing only the runway, and
    `diff`, need, in milliseconds rather than the forecast's second. Every month up to the first miss
    is solved: the verdict is not monotone in the load in general (an HPA adds replicas in steps, an
    entry timeout drops the slowest requests from the percentiles, growth may be negative).
    """
    for month in range(months + 1):
        load = month_load(scenario, month)
        peak = at_month_peak(load.scenario, load.rate_rps)
        if load.rate_given:
            met, busiest = slo_verdict(peak, load.rate_rps)
        else:  # a closed workload: the users themselves, solved whole
            r = evaluate(peak, "analytic")
            met, busiest = r.slo.met, bottleneck(r)
        if not met:
            return month, busiest
    return None, None


def at_month_peak(scenario: Scenario, rate_rps: float) -> Scenario:
    """The configuration running at the month's peak: autoscaled nodes at the replicas their HPA holds."""
    return at_peak(scenario, rate_rps) if autoscaled_nodes(scenario) else scenario


def month_results(
    scenario: Scenario,
    rate_rps: float,
    method: str = "analytic",
    seed: int | None = None,
    requests: int = FORECAST_REQUESTS,
) -> Results:
    """One month at its peak rate, as the forecast solves it: autoscaled nodes at the replicas their
    HPA holds at that peak; `cost` is the month's cost of record (`bill.month_bill`). `diff` calls
    this too, so a diff's latency and bill are the forecast's for the same month. A closed workload
    (model.planning.load: the month's users) runs as one; `rate_rps`, its throughput, sizes the HPA
    and the bill."""
    return _month(scenario, rate_rps, method, seed, requests)[0]


def _month(
    scenario: Scenario, rate_rps: float, method: str, seed: int | None, requests: int
) -> tuple[Results, MonthBill]:
    r = evaluate(
        at_month_peak(scenario, rate_rps),
        method,
        rate_rps=None if scenario.workload.closed else rate_rps,
        seed=seed,
        requests=requests,
    )
    bill = month_bill(scenario, peak_rps=rate_rps)
    return replace(r, cost=bill.cost), bill


def _solve(load: MonthLoad, method: str, seed: int | None, requests: int, month: int) -> Month:
    rate_rps = load.rate_rps
    r, bill = _month(load.scenario, rate_rps, method, seed, requests)
    busiest = bottleneck(r)
    return Month(
        month,
        rate_rps,
        r.cost.monthly,
        float(r.latency_ms.p99),
        r.slo.met,
        list(r.slo.violations),
        busiest,
        r.nodes[busiest].utilization,
        list(r.saturated),
        mean_rps=bill.mean_rps,
        per_million=bill.per_million_usd,
        verdict=verdict_of(r).message,
        users=load.scenario.workload.users,
    )


def _with_band(month: Month, low: Month, high: Month) -> Month:
    return replace(
        month,
        low=(low.rate_rps, low.monthly, low.p99_ms),
        high=(high.rate_rps, high.monthly, high.p99_ms),
    )
