"""The cheapest configuration that meets the SLO, at today's load or month N's.

Search: each node's options (model/planning/search_space.py) start at their cheapest stable one;
while the queueing formulas say the SLO is missed, the upgrade that buys the most SLO
slack per dollar is taken (marginal allocation, the classic greedy for server allocation,
near-optimal because latency falls convexly in servers); then each node is pushed back
down to its cheapest option that still meets the SLO. Every SLO-meeting configuration seen
is kept; the cheapest few are then simulated, and the cheapest whose simulation meets the
SLO (its p99 confidence interval inside the target) is the recommendation; the others are
the runners-up. If the simulation rejects them all, the winner is upgraded, simulation by
simulation, so a configuration whose simulated SLO fails is never recommended as meeting it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from model.planning.autoscale import autoscaled_nodes
from model.planning.bill import month_bill
from model.pricing.cost import monthly_cost
from model.planning.forecast import month_rate
from model.planning.report import money, ms, table
from model.queueing.results import Results, SloCheck
from model.queueing.evaluate import evaluate
from model.scenario.schema import Scenario
from model.queueing.offered_load import offered_load
from model.planning.search_space import Option, curve_notes, node_options, optimistic
from model.queueing.topology import build_stations
from model.queueing.run_size import PLANNING_REQUESTS

CONFIRM_REQUESTS = PLANNING_REQUESTS
RUNNERS_UP = 3
MAX_STEPS = 400
SATURATED = 1e9  # slo_excess of a configuration that cannot keep up


@dataclass(frozen=True)
class Candidate:
    options: tuple[Option, ...]
    monthly: float
    results: Results | None = None  # the simulation, once run
    changes_override: dict[str, Any] | None = None

    @property
    def changes(self) -> dict[str, Any]:
        if self.changes_override is not None:
            return self.changes_override
        return {f"nodes.{o.node}.{k}": v for o in self.options for k, v in o.changes.items()}


@dataclass(frozen=True)
class Recommendation:
    scenario: str
    rate_rps: float
    months: int
    changes: dict[str, Any]
    monthly: float
    baseline_monthly: float
    results: Results  # the winner's simulation
    slo: SloCheck
    headroom_pct: float  # how far inside the tightest SLO target the winner runs
    zone_loss: SloCheck | None  # the winner with a third of each node lost
    runners_up: list[Candidate] = field(default_factory=list)
    baseline_slo: SloCheck | None = None
    notes: list[str] = field(default_factory=list)
    currency: str = "USD"

    def to_json(self) -> dict[str, Any]:
        lat = self.results.latency_ms
        return {
            "changes": self.changes,
            "monthly": round(self.monthly, 2),
            "baseline_monthly": round(self.baseline_monthly, 2),
            "latency_ms": {"p95": _r(lat.p95), "p99": _r(lat.p99)},
            "slo": self.slo.to_json(),
            "savings_monthly": round(self.baseline_monthly - self.monthly, 2),
            "rate_rps": round(self.rate_rps, 3),
            "months": self.months,
            "currency": self.currency,
            "risk": {
                "slo_headroom_pct": round(self.headroom_pct, 1),
                "survives_zone_loss": None if self.zone_loss is None else self.zone_loss.met,
                "zone_loss_violations": [] if self.zone_loss is None else list(self.zone_loss.violations),
            },
            "baseline_slo": None if self.baseline_slo is None else self.baseline_slo.to_json(),
            "runners_up": [
                {
                    "changes": c.changes,
                    "monthly": round(c.monthly, 2),
                    "latency_ms": {"p99": _r(c.results.latency_ms.p99)} if c.results else None,
                    "slo_met": c.results.slo.met if c.results else None,
                }
                for c in self.runners_up
            ],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        when = "today's load" if self.months == 0 else f"the load in {self.months} months"
        out = [f"{self.scenario}: cheapest configuration for {when} ({self.rate_rps:,.1f} requests/s)", ""]
        if not self.slo.met:
            out.append(
                "No configuration searched meets the SLO; the closest one is shown. "
                + "; ".join(self.slo.violations)
            )
        rows = [[k, str(v)] for k, v in self.changes.items()] or [["(no change)", ""]]
        out += [table(["change", "to"], rows), ""]
        saving = self.baseline_monthly - self.monthly
        verb = "saves" if saving >= 0 else "costs"
        out.append(
            f"Monthly   {money(self.monthly, self.currency)} (now {money(self.baseline_monthly, self.currency)}; "
            f"{verb} {money(abs(saving), self.currency)} a month)"
        )
        lat = self.results.latency_ms
        out.append(
            f"Latency   p95 {ms(lat.p95)}   p99 {ms(lat.p99)}   errors {self.results.error_pct:.3f}% (simulated)"
        )
        out.append("SLO       " + ("met" if self.slo.met else "NOT met: " + "; ".join(self.slo.violations)))
        zone = (
            "not checked"
            if self.zone_loss is None
            else (
                "survives"
                if self.zone_loss.met
                else "does NOT survive (" + "; ".join(self.zone_loss.violations) + ")"
            )
        )
        out.append(
            f"Risk      {self.headroom_pct:.0f}% headroom to the tightest SLO target; losing one zone: {zone}"
        )
        if self.runners_up:
            out += ["", "Runners-up:"]
            out.append(
                table(
                    ["monthly", "p99", "SLO", "changes"],
                    [
                        [
                            money(c.monthly, self.currency),
                            ms(c.results.latency_ms.p99) if c.results else "-",
                            ("met" if c.results.slo.met else "missed") if c.results else "-",
                            ", ".join(f"{k}={v}" for k, v in c.changes.items()) or "(none)",
                        ]
                        for c in self.runners_up
                    ],
                )
            )
        out += [f"Note      {n}" for n in self.notes]
        return "\n".join(out)


def _r(v: float) -> float:
    return round(float(v), 3) if math.isfinite(v) else math.inf


class Search:
    """Evaluations of option combinations, cached, at one rate."""

    def __init__(self, scenario: Scenario, rate_rps: float):
        self.scenario, self.rate_rps = scenario, rate_rps
        self.names = list(scenario.nodes)
        widest = optimistic(scenario)
        self.options = {n: node_options(widest, n, rate_rps) for n in self.names}
        self.cache: dict[tuple[int, ...], Results] = {}
        self.feasible: dict[tuple[int, ...], float] = {}

    def build(self, pick: tuple[int, ...]) -> Scenario:
        nodes = dict(self.scenario.nodes)
        for name, k in zip(self.names, pick):
            nodes[name] = nodes[name].model_copy(update=self.options[name][k].peak)
        return self.scenario.model_copy(update={"nodes": nodes})

    def cost(self, pick: tuple[int, ...]) -> float:
        return sum(self.options[n][k].monthly for n, k in zip(self.names, pick))

    def analytic(self, pick: tuple[int, ...]) -> Results:
        if pick not in self.cache:
            r = evaluate(self.build(pick), "analytic", rate_rps=self.rate_rps)
            self.cache[pick] = r
            if r.slo.met:
                self.feasible[pick] = self.cost(pick)
        return self.cache[pick]

    def excess(self, pick: tuple[int, ...]) -> float:
        """slo_excess, graded past saturation by the busiest pool's offered load, so that of two
        saturated configurations the less overloaded one still reads as closer to the SLO."""
        r = self.analytic(pick)
        if not r.saturated:
            return slo_excess(self.scenario, r)
        built = self.build(pick)
        worst = max(
            (p.utilization for p in offered_load(built, build_stations(built), self.rate_rps)), default=1.0
        )
        return SATURATED * max(worst, 1.0)

    def upgrades(self, pick: tuple[int, ...]) -> list[tuple[int, ...]]:
        """For each node, the cheapest option with more capacity than its current one, and for a
        curve-sized cache also the cheapest with a higher hit ratio (more memory)."""
        out = []
        for i, name in enumerate(self.names):
            opts, cur = self.options[name], self.options[name][pick[i]]
            more = [lambda o: o.capacity > cur.capacity]  # noqa: B023 (called below, in this iteration)
            if cur.hit_ratio is not None:
                more.append(lambda o: o.hit_ratio is not None and o.hit_ratio > cur.hit_ratio)  # noqa: B023
            for better in more:
                nxt = next((k for k, o in enumerate(opts) if better(o) and o.monthly >= cur.monthly), None)
                cand = None if nxt is None else pick[:i] + (nxt,) + pick[i + 1 :]
                if cand is not None and cand not in out:
                    out.append(cand)
        return out


def slo_excess(scenario: Scenario, r: Results) -> float:
    """How far past its targets a result is: the worst value/target ratio (<= 1 means met)."""
    slo, lat, worst = scenario.slo, r.latency_ms, 0.0
    for key in ("p50", "p95", "p99"):
        target = getattr(slo, f"{key}_ms")
        if target:
            worst = max(worst, getattr(lat, key) / target)
    if slo.max_error_pct is not None:
        worst = max(worst, r.error_pct / max(slo.max_error_pct, 1e-9))
    if r.saturated:
        worst = math.inf
    return worst if math.isfinite(worst) else SATURATED


def _greedy(search: Search) -> tuple[int, ...]:
    pick = tuple(0 for _ in search.names)
    for _ in range(MAX_STEPS):
        now = search.analytic(pick)
        if now.slo.met:
            break
        excess, cost = search.excess(pick), search.cost(pick)
        best, best_score = None, -math.inf
        for cand in search.upgrades(pick):
            gain = excess - search.excess(cand)
            score = gain / max(search.cost(cand) - cost, 1e-6)
            if score > best_score:
                best, best_score = cand, score
        if best is None:
            break
        pick = best
    # Push each node back down to its cheapest option that still meets the SLO.
    changed = search.analytic(pick).slo.met
    while changed:
        changed = False
        for i, name in enumerate(search.names):
            for k in range(len(search.options[name])):
                if search.options[name][k].monthly >= search.options[name][pick[i]].monthly:
                    break
                cand = pick[:i] + (k,) + pick[i + 1 :]
                if search.analytic(cand).slo.met:
                    pick, changed = cand, True
                    break
    return pick


def recommend(
    scenario: Scenario,
    months: int = 0,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    requests: int = CONFIRM_REQUESTS,
) -> Recommendation:
    """The cheapest simulated-SLO-meeting configuration at month `months`' load; see the module docstring."""
    rate = month_rate(scenario.workload.rate_rps, scenario.workload.growth_pct_per_month, months)
    search = Search(scenario, rate)
    if any(not opts for opts in search.options.values()):
        empty = [n for n, o in search.options.items() if not o]
        return _nothing_fits(scenario, rate, months, seed, requests, empty)
    pick = _greedy(search)
    if progress:
        progress(0.3)
    for neighbour in search.upgrades(pick):  # runners-up: one step more capacity on each node
        search.analytic(neighbour)
    ranked = sorted(search.feasible.items(), key=lambda kv: kv[1])[: RUNNERS_UP + 1] or [
        (pick, search.cost(pick))
    ]
    tried: list[tuple[tuple[int, ...], Results]] = []
    winner = None
    for cand, _cost in ranked:
        r = _simulate(search, cand, seed, requests)
        tried.append((cand, r))
        if _confirmed(r, scenario) and winner is None:
            winner = (cand, r)
        if progress:
            progress(0.3 + 0.5 * len(tried) / len(ranked))
    current = ranked[0][0]
    for _ in range(12):  # the simulation rejected the formulas' picks: upgrade on its evidence
        if winner is not None:
            break
        ups = search.upgrades(current)
        if not ups:
            break
        current = min(ups, key=lambda c: (search.excess(c), search.cost(c)))
        r = _simulate(search, current, seed, requests)
        tried.append((current, r))
        if _confirmed(r, scenario):
            winner = (current, r)
    if winner is None:
        winner = min(tried, key=lambda t: slo_excess(scenario, t[1]))
    return _report(scenario, search, rate, months, seed, requests, winner, tried)


def _simulate(search: Search, pick: tuple[int, ...], seed: int | None, requests: int) -> Results:
    return evaluate(search.build(pick), "sim", rate_rps=search.rate_rps, seed=seed, requests=requests)


def _confirmed(r: Results, scenario: Scenario | None = None) -> bool:
    """Met, and each percentile's 95% interval inside its target too (a lucky run is not a pass)."""
    if not r.slo.met:
        return False
    if scenario is None or not r.latency_ci95_ms:
        return True
    for key in ("p95", "p99"):
        target = getattr(scenario.slo, f"{key}_ms")
        if target is not None and key in r.latency_ci95_ms and r.latency_ci95_ms[key][1] > target:
            return False
    return True


def _with_changes(scenario: Scenario, search: Search, pick: tuple[int, ...]) -> Candidate:
    return Candidate(tuple(search.options[n][k] for n, k in zip(search.names, pick)), search.cost(pick))


def _monthly(scenario: Scenario, rate: float) -> float:
    """A configuration's bill: the cost of record (`bill.month_bill`) of the month whose peak is `rate`."""
    return month_bill(scenario, peak_rps=rate).monthly_usd


def _applied(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    from model.planning.sweep import scenario_data, with_changes

    return with_changes(scenario_data(scenario), changes, "recommend")


def _report(scenario, search, rate, months, seed, requests, winner, tried) -> Recommendation:
    from model.planning.failures import lose_zone
    from model.planning.autoscale import at_peak

    pick, results = winner
    cand = _with_changes(scenario, search, pick)
    changes = _differences(scenario, cand.changes)
    recommended = _applied(scenario, changes)
    monthly = _monthly(recommended, rate)
    baseline = _monthly(scenario, rate)
    baseline_slo = evaluate(at_peak(scenario, rate), "analytic", rate_rps=rate).slo
    headroom = 100.0 * (1.0 - slo_excess(scenario, results)) if results.slo.met else 0.0
    zone = lose_zone(search.build(pick), rate_rps=rate, method="analytic").slo
    runners = [
        Candidate(_with_changes(scenario, search, p).options, search.cost(p), r)
        for p, r in tried
        if p != pick
    ][:RUNNERS_UP]
    runners = [dataclasses.replace(c, changes_override=_differences(scenario, c.changes)) for c in runners]
    notes = curve_notes(scenario)
    caveat = monthly_cost(scenario, scenario.workload.rate_rps).caveat()
    if caveat:
        notes.append(f"prices: {caveat}")
    if autoscaled_nodes(scenario):
        notes.append(
            "autoscaled nodes: the SLO is checked at the fewest replicas the HPA may settle on at peak "
            "(10% tolerance); cost is the cost of record (the HPA's replicas hour by hour over the month)"
        )
    return Recommendation(
        scenario.name,
        rate,
        months,
        changes,
        monthly,
        baseline,
        results,
        results.slo,
        headroom,
        zone,
        runners,
        baseline_slo,
        notes,
    )


def _differences(scenario: Scenario, changes: dict[str, Any]) -> dict[str, Any]:
    """Only the paths whose value differs from the scenario's."""
    from model.planning.sweep import scenario_data

    data = scenario_data(scenario)
    out = {}
    for path, value in changes.items():
        here: Any = data
        for key in path.split("."):
            here = here.get(key) if isinstance(here, dict) else None
        if here != value:
            out[path] = value
    return out


def _nothing_fits(scenario, rate, months, seed, requests, empty) -> Recommendation:
    r = evaluate(scenario, "sim", rate_rps=rate, seed=seed, requests=requests)
    slo = SloCheck(
        False,
        [f"no stable size found for {', '.join(empty)} at {rate:,.1f} requests/s"] + list(r.slo.violations),
    )
    monthly = _monthly(scenario, rate)  # priced as every other answer is: the cost of record
    return Recommendation(scenario.name, rate, months, {}, monthly, monthly, r, slo, 0.0, None, [], r.slo)
