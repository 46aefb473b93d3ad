"""What a change to a scenario does to capacity and cost: two versions side by side, with signs.

Cost tools post the dollar difference of an infrastructure change; a reviewer also wants to
know what it does to latency, errors and runway before it merges. Each side is evaluated the
way `forecast` evaluates a month (`forecast.month_results`: the planning load N months ahead,
autoscaled nodes at the replicas their HPA holds there, billed with the cost of record `bill.month_bill`), so
a diff's numbers are the forecast's numbers for the same file, month and method.

A side is a scenario file, or `git:REF:PATH` read with `git show` (PATH relative to the
current folder), so a pull request's base and head can be compared without a checkout; reading the
sides and the keys that changed are `diff_sides.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from model.queueing.results import bottleneck
from model.planning.autoscale import autoscaled_nodes
from model.planning.forecast import FORECAST_REQUESTS, month_results, runway
from model.planning.load import month_load
from model.queueing.offered_load import saturation_rps
from model.planning.diff_sides import Change, changed_keys, load_side
from model.scenario.schema import Scenario


@dataclass(frozen=True)
class Side:
    """One version of the scenario at the planning load."""

    label: str  # the file or git:REF:PATH as given
    scenario: str  # the scenario's name
    rate_rps: float  # the planning load: rate_rps grown for `months`
    latency_ms: dict[str, float]  # p50, p95, p99 (inf when a queue grows without bound)
    error_pct: float
    busiest: str  # the node whose servers are busiest
    busiest_utilization: float  # 0..1
    saturation_rps: float  # entry rate at which the busiest pool reaches 100%, autoscaled nodes at
    # their HPA maximum (inf: never)
    saturated: list[str]
    runway_months: int | None  # first month (from today) whose SLO fails; None within the horizon
    horizon_months: int
    monthly: float  # the bill of a month at this load
    per_million_requests: float | None
    currency: str
    slo_met: bool
    violations: list[str]
    slo_p99_ms: float | None
    cost_caveat: str = ""  # what the bill rests on besides list prices (estimates, unknowns)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.label,
            "scenario": self.scenario,
            "rate_rps": round(self.rate_rps, 3),
            "latency_ms": {k: _round(v, 3) for k, v in self.latency_ms.items()},
            "error_pct": round(self.error_pct, 4),
            "busiest": {"node": self.busiest, "utilization": round(self.busiest_utilization, 4)},
            "saturation_rps": _round(self.saturation_rps, 3),
            "saturated": list(self.saturated),
            "runway_months": self.runway_months,
            "horizon_months": self.horizon_months,
            "cost": {
                "currency": self.currency,
                "monthly": round(self.monthly, 2),
                "per_million_requests": None
                if self.per_million_requests is None
                else round(self.per_million_requests, 2),
                "caveat": self.cost_caveat or None,
            },
            "slo": {"met": self.slo_met, "violations": list(self.violations)},
        }


@dataclass(frozen=True)
class Diff:
    base: Side
    head: Side
    changes: list[Change]
    method: str
    months: int
    seed: int | None = None
    notes: list[str] = field(default_factory=list)
    autoscaled: bool = False  # either side has an HPA: saturation is at its maximum replicas

    def deltas(self) -> dict[str, Any]:
        """HEAD minus BASE for each number (None where either side is unbounded or missing)."""
        b, h = self.base, self.head
        out: dict[str, Any] = {
            "latency_ms": {k: _sub(h.latency_ms[k], b.latency_ms[k]) for k in b.latency_ms}
        }
        out["p99_pct"] = _pct(h.latency_ms["p99"], b.latency_ms["p99"])
        out["error_pct"] = round(h.error_pct - b.error_pct, 4)
        out["busiest_utilization"] = round(h.busiest_utilization - b.busiest_utilization, 4)
        out["saturation_rps"] = _sub(h.saturation_rps, b.saturation_rps)
        out["runway_months"] = (
            None if h.runway_months is None or b.runway_months is None else h.runway_months - b.runway_months
        )
        out["monthly"] = round(h.monthly - b.monthly, 2)
        out["per_million_requests"] = (
            None
            if h.per_million_requests is None or b.per_million_requests is None
            else round(h.per_million_requests - b.per_million_requests, 2)
        )
        return out

    def gate_failures(
        self,
        check_slo: bool = False,
        max_p99_increase_pct: float | None = None,
        max_cost_increase: float | None = None,
    ) -> list[str]:
        """Why a pull-request check should fail (exit 3), one sentence each; empty when it passes."""
        out = []
        if check_slo and not self.head.slo_met:
            out.append("HEAD misses its SLO: " + "; ".join(self.head.violations))
        if max_p99_increase_pct is not None:
            b, h = self.base.latency_ms["p99"], self.head.latency_ms["p99"]
            rise = _pct(h, b)
            if not math.isfinite(h) and math.isfinite(b):
                out.append(
                    f"p99 grows without bound at {self.head.rate_rps:,.1f} req/s (limit +{max_p99_increase_pct:g}%)"
                )
            elif rise is not None and rise > max_p99_increase_pct:
                out.append(
                    f"p99 rises {rise:+.1f}% ({b:,.1f} -> {h:,.1f} ms), over the +{max_p99_increase_pct:g}% allowed"
                )
        if max_cost_increase is not None:
            rise = self.head.monthly - self.base.monthly
            if rise > max_cost_increase:
                out.append(
                    f"the monthly bill rises {rise:+,.2f} {self.head.currency}, over the "
                    f"{max_cost_increase:,.2f} allowed"
                )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "months": self.months,
            "seed": self.seed,
            "changes": [c.to_json() for c in self.changes],
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "delta": self.deltas(),
            "notes": list(self.notes),
        }


def _round(value: float, digits: int) -> float:
    return round(value, digits) if math.isfinite(value) else math.inf


def _sub(after: float, before: float) -> float | None:
    return round(after - before, 3) if math.isfinite(after) and math.isfinite(before) else None


def _pct(after: float, before: float) -> float | None:
    if not (math.isfinite(after) and math.isfinite(before)) or before <= 0:
        return None
    return round(100.0 * (after - before) / before, 2)


# ---------------------------------------------------------------- evaluating


def evaluate_side(
    label: str,
    scenario: Scenario,
    months: int,
    method: str,
    seed: int | None,
    requests: int = FORECAST_REQUESTS,
) -> Side:
    workload = scenario.workload
    load = month_load(scenario, months)
    r = month_results(load.scenario, load.rate_rps, method, seed, requests)
    rate = load.rate_rps if load.rate_given else r.rate_rps
    busiest = bottleneck(r)
    runway_months, _ = runway(scenario, workload.horizon_months)
    cost = r.cost
    lat = r.latency_ms
    return Side(
        label,
        scenario.name,
        rate,
        {"p50": float(lat.p50), "p95": float(lat.p95), "p99": float(lat.p99)},
        float(r.error_pct),
        busiest,
        float(r.nodes[busiest].utilization),
        saturation_rps(at_most_replicas(scenario)),
        list(r.saturated),
        runway_months,
        workload.horizon_months,
        float(cost.monthly),
        cost.per_million_requests,
        cost.currency,
        r.slo.met,
        list(r.slo.violations),
        scenario.slo.p99_ms,
        cost.caveat(),
    )


def at_most_replicas(scenario: Scenario) -> Scenario:
    """Autoscaled nodes at the HPA's `max`: the most capacity the file lets the system have."""
    nodes = dict(scenario.nodes)
    for name in autoscaled_nodes(scenario):
        nodes[name] = nodes[name].model_copy(update={"replicas": nodes[name].autoscale.max})
    return scenario.model_copy(update={"nodes": nodes})


def diff(
    base: str,
    head: str,
    months: int = 0,
    method: str = "analytic",
    seed: int | None = None,
    overrides: Iterable[str] = (),
    rate_rps: float | None = None,
    requests: int = FORECAST_REQUESTS,
    strict_prices: bool = False,
    users: int | None = None,
) -> Diff:
    """BASE and HEAD (files or git:REF:PATH) evaluated the same way, and what changed between them."""
    overrides = list(overrides)
    base_text, base_scenario = load_side(base, overrides, rate_rps, strict_prices, users)
    head_text, head_scenario = load_side(head, overrides, rate_rps, strict_prices, users)
    return diff_scenarios(
        SideInput(base, base_text, base_scenario),
        SideInput(head, head_text, head_scenario),
        months,
        method,
        seed,
        requests,
    )


@dataclass(frozen=True)
class SideInput:
    """A side already read: what to call it, its YAML as written, and the scenario it validates to."""

    label: str
    text: str
    scenario: Scenario


def diff_scenarios(
    base: SideInput,
    head: SideInput,
    months: int = 0,
    method: str = "analytic",
    seed: int | None = None,
    requests: int = FORECAST_REQUESTS,
) -> Diff:
    """The diff of two sides held in memory (the app's scenarios, or what `diff` read from files and git)."""
    notes = []
    bp, hp = base.scenario.pricing, head.scenario.pricing
    if (bp.provider, bp.region) != (hp.provider, hp.region):
        notes.append(
            f"the sides are priced in different places ({bp.provider} {bp.region} -> {hp.provider} {hp.region})"
        )
    if method == "sim":
        notes.append(
            "simulated: small differences can be noise; compare with the p99 confidence interval of a "
            "`simulate` run, or use the same --seed on both sides (done here)"
        )
    sides = [evaluate_side(s.label, s.scenario, months, method, seed, requests) for s in (base, head)]
    autoscaled = bool(autoscaled_nodes(base.scenario) or autoscaled_nodes(head.scenario))
    return Diff(
        sides[0], sides[1], changed_keys(base.text, head.text), method, months, seed, notes, autoscaled
    )
