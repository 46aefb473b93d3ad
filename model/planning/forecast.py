"""Month by month with today's configuration: load, cost, p99, SLO met, and the runway.

Load grows by compound interest, rate * (1 + g/100) ** month. Each month is solved (or
simulated) as a steady state at that month's peak rate; the runway is the first month
whose SLO is missed. A fitted growth rate is uncertain, so with `growth_sd_pct` every month
is also solved at the growth rate z standard deviations below and above (one rate for the
whole horizon: the uncertainty is in the trend, so the band widens like a cone).
With autoscaling, "today's configuration" is the HPA's settings: each month runs the
replicas the HPA would hold at that month's peak, and is billed for its mean over a day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.planning.autoscale import at_peak, autoscaled_nodes, simulate_day
from model.pricing.cost import monthly_cost
from model.planning.report import money, ms, table
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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "month": self.month,
            "rate_rps": round(self.rate_rps, 3),
            "monthly": round(self.monthly, 2),
            "latency_ms": {"p99": _r(self.p99_ms)},
            "slo_met": self.slo_met,
            "violations": list(self.violations),
            "bottleneck": self.bottleneck,
            "bottleneck_utilization": round(self.utilization, 4),
            "saturated": list(self.saturated),
        }
        if self.low is not None and self.high is not None:
            out["band"] = {
                "rate_rps": [round(self.low[0], 3), round(self.high[0], 3)],
                "monthly": [round(self.low[1], 2), round(self.high[1], 2)],
                "p99_ms": [_r(self.low[2]), _r(self.high[2])],
            }
        return out


def _r(value: float) -> float:
    return round(float(value), 3) if math.isfinite(value) else math.inf


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
        out.update(self.prices)
        return out

    def to_text(self) -> str:
        how = "queueing formulas" if self.method == "analytic" else "simulation"
        head = [
            f"{self.scenario}: forecast with today's configuration ({how}), "
            f"load growing {self.growth_pct_per_month:g}% a month",
            "",
        ]
        band = self.growth_sd_pct is not None
        headers = ["month", "load", "monthly cost", "p99", "SLO", "busiest node"]
        if band:
            headers += ["cost band", "p99 band"]
        rows = []
        for m in self.months:
            row = [
                str(m.month),
                f"{m.rate_rps:,.1f} req/s",
                money(m.monthly, self.currency),
                ms(m.p99_ms),
                "met" if m.slo_met else "MISSED",
                f"{m.bottleneck} {100 * m.utilization:.0f}%",
            ]
            if band and m.low and m.high:
                row += [
                    f"{money(m.low[1], self.currency)} to {money(m.high[1], self.currency)}",
                    f"{ms(m.low[2])} to {ms(m.high[2])}",
                ]
            rows.append(row)
        out = head + [table(headers, rows), ""]
        runway = self.runway_months
        if runway is None:
            out.append(f"Runway: the SLO holds for all {len(self.months) - 1} months.")
        elif runway == 0:
            out.append(
                f"Runway: none, the SLO is already missed today ({'; '.join(self.months[0].violations)})."
            )
        else:
            m = self.months[runway]
            out.append(
                f"Runway: {runway} months. In month {runway} ({m.rate_rps:,.1f} req/s) the SLO is missed: "
                f"{'; '.join(m.violations)}. {m.bottleneck} gives out first "
                f"({100 * m.utilization:.0f}% busy)."
            )
        if band:
            out.append(
                f"Band: growth {self.growth_pct_per_month:g}% +/- {BAND_Z:g} x {self.growth_sd_pct:g}% a month."
            )
        out += [f"Note: {n}" for n in self.notes]
        return "\n".join(out)


def month_rate(rate_rps: float, growth_pct: float, month: int) -> float:
    return rate_rps * (1.0 + growth_pct / 100.0) ** month


def forecast(
    scenario: Scenario,
    months: int,
    method: str = "analytic",
    seed: int | None = None,
    growth_sd_pct: float | None = None,
    requests: int = FORECAST_REQUESTS,
) -> Forecast:
    """Months 0..months inclusive at compound growth; see the module docstring for the band."""
    if months < 0:
        raise ValueError("months must be 0 or more")
    growth = scenario.workload.growth_pct_per_month
    base = scenario.workload.rate_rps
    out = []
    for m in range(months + 1):
        month = _solve(scenario, month_rate(base, growth, m), method, seed, requests, m)
        if growth_sd_pct:
            lo = _solve(
                scenario,
                month_rate(base, max(growth - BAND_Z * growth_sd_pct, -99.0), m),
                method,
                seed,
                requests,
                m,
            )
            hi = _solve(
                scenario, month_rate(base, growth + BAND_Z * growth_sd_pct, m), method, seed, requests, m
            )
            month = _with_band(month, lo, hi)
        out.append(month)
    notes = []
    today = monthly_cost(scenario, base)  # which prices are estimated or unknown does not change by month
    prices = {k: v for k, v in today.to_json().items() if k in ("estimated", "unknown")}
    if prices:
        notes.append("cost: " + today.caveat())
    if autoscaled_nodes(scenario):
        notes.append(
            "autoscaled nodes run the replicas their HPA holds at each month's peak; "
            "cost is their mean over a day (model/planning/autoscale.py DEFAULT_DAY shape)"
        )
    return Forecast(scenario.name, method, growth, out, growth_sd_pct or None, notes=notes, prices=prices)


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
        rate = month_rate(scenario.workload.rate_rps, scenario.workload.growth_pct_per_month, month)
        met, busiest = slo_verdict(at_month_peak(scenario, rate), rate)
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
    HPA holds at that peak, billed for their mean over a day. `diff` calls this too, so a diff's
    latency and bill are the forecast's for the same month."""
    unit_hours = (
        simulate_day(scenario, peak_rps=rate_rps).mean_replicas if autoscaled_nodes(scenario) else None
    )
    return evaluate(
        at_month_peak(scenario, rate_rps),
        method,
        rate_rps=rate_rps,
        seed=seed,
        requests=requests,
        unit_hours_by_node=unit_hours,
    )


def _solve(
    scenario: Scenario, rate_rps: float, method: str, seed: int | None, requests: int, month: int
) -> Month:
    r = month_results(scenario, rate_rps, method, seed, requests)
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
    )


def _with_band(month: Month, low: Month, high: Month) -> Month:
    return Month(
        **{
            **month.__dict__,
            "low": (low.rate_rps, low.monthly, low.p99_ms),
            "high": (high.rate_rps, high.monthly, high.p99_ms),
        }
    )
