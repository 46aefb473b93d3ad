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
from model.planning.load import closed_note, month_load, sizing_rate
from model.planning.report import money, ms, table
from model.queueing.results import Results, SloCheck
from model.queueing.evaluate import evaluate
from model.scenario.schema import Scenario
from model.planning.risk import Assessment, Rules, assess, rules_for, slo_excess, verdict
from model.planning.search_space import (
    KAFKA_CONSUMER_UTILIZATION,
    Option,
    curve_notes,
    node_options,
    optimistic,
)
from model.queueing.run_size import PLANNING_REQUESTS

CONFIRM_REQUESTS = PLANNING_REQUESTS
RUNNERS_UP = 3
MAX_STEPS = 400
SLO_ONLY = Rules(headroom_pct=100.0, zone_loss=False, zone_loss_why="turned off")


@dataclass(frozen=True)
class Candidate:
    options: tuple[Option, ...]
    monthly: float
    results: Results | None = None  # the simulation, once run
    changes_override: dict[str, Any] | None = None
    risk: Assessment | None = None

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
    rules: Rules | None = None  # the risk rules searched by (model/planning/risk.py)
    risk: Assessment | None = None  # the winner against them
    baseline_risk: Assessment | None = None  # today's setup against them
    riskier: Candidate | None = None  # the cheapest that only meets the SLO, when cheaper and not safe

    @property
    def safe(self) -> bool:
        return self.slo.met and (self.risk is None or self.risk.safe)

    @property
    def verdict(self) -> str:
        return verdict(
            self.slo.met,
            self.risk,
            self.baseline_risk,
            self.baseline_monthly - self.monthly,
            bool(self.changes),
            self.currency,
        )

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
                **(self.risk.to_json() if self.risk else {}),
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
                    "risk": c.risk.to_json() if c.risk else None,
                }
                for c in self.runners_up
            ],
            "notes": list(self.notes),
            **self._risk_json(),
        }

    def _risk_json(self) -> dict[str, Any]:
        """The keys issue 13 added (contract: recommend's risk extension)."""
        riskier = self.riskier
        return {
            "safe": self.safe,
            "verdict": self.verdict,
            "rules": self.rules.to_json() if self.rules else None,
            "baseline_risk": self.baseline_risk.to_json() if self.baseline_risk else None,
            "riskier_cheaper": None
            if riskier is None
            else {
                "changes": riskier.changes,
                "monthly": round(riskier.monthly, 2),
                "savings_monthly": round(self.baseline_monthly - riskier.monthly, 2),
                "risk": riskier.risk.to_json() if riskier.risk else None,
            },
        }

    def to_text(self) -> str:
        when = "today's load" if self.months == 0 else f"the load in {self.months} months"
        out = [f"{self.scenario}: cheapest configuration for {when} ({self.rate_rps:,.1f} requests/s)", ""]
        out += [self.verdict, ""]  # "No configuration searched meets the SLO; ..." when none does
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
            f"Risk      {self.headroom_pct:.0f}% inside the tightest SLO target; losing one zone: {zone}"
        )
        if self.risk is not None:
            level, reasons = self.risk.graded()
            out.append(f"Grade     {level}: " + "; ".join(reasons))
        if self.baseline_risk is not None:
            level, reasons = self.baseline_risk.graded()
            out.append(f"Today     {level} risk: " + "; ".join(reasons))
        if self.riskier is not None and self.riskier.risk is not None:
            level, reasons = self.riskier.risk.graded()
            saving = self.baseline_monthly - self.riskier.monthly
            changes = ", ".join(f"{k}={v}" for k, v in self.riskier.changes.items()) or "(no change)"
            verb = "saves" if saving >= 0 else "costs"
            out.append(
                f"Not offered: {changes} ({money(self.riskier.monthly, self.currency)} a month, {verb} "
                f"{money(abs(saving), self.currency)}): {level} risk, " + "; ".join(reasons[:2])
            )
        if self.runners_up:
            out += ["", "Runners-up:"]
            out.append(
                table(
                    ["monthly", "p99", "SLO", "risk", "changes"],
                    [
                        [
                            money(c.monthly, self.currency),
                            ms(c.results.latency_ms.p99) if c.results else "-",
                            ("met" if c.results.slo.met else "missed") if c.results else "-",
                            c.risk.level if c.risk else "-",
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
    """Evaluations of option combinations, cached, at one rate, judged by the risk rules."""

    def __init__(self, scenario: Scenario, rate_rps: float, rules: Rules = SLO_ONLY):
        self.scenario, self.rate_rps, self.rules = scenario, rate_rps, rules
        self.eval_rate = None if scenario.workload.closed else rate_rps  # closed: evaluate the users
        self.names = list(scenario.nodes)
        widest = optimistic(scenario)
        consumers = min(KAFKA_CONSUMER_UTILIZATION, rules.headroom_pct / 100.0)
        self.options = {
            n: node_options(widest, n, rate_rps, consumer_utilization=consumers) for n in self.names
        }
        self.cache: dict[tuple[int, ...], Results] = {}
        self.assessed: dict[tuple[int, ...], Assessment] = {}
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
            self.cache[pick] = evaluate(self.build(pick), "analytic", rate_rps=self.eval_rate)
            if self.ok(pick):
                self.feasible[pick] = self.cost(pick)
        return self.cache[pick]

    def assess(self, pick: tuple[int, ...]) -> Assessment:
        if pick not in self.assessed:
            self.assessed[pick] = assess(
                self.build(pick), self.rate_rps, self.rules, self.analytic(pick), check_zone=False
            )
        return self.assessed[pick]

    def ok(self, pick: tuple[int, ...]) -> bool:
        """Meets the SLO (formulas) and every risk rule."""
        return self.assess(pick).safe

    def excess(self, pick: tuple[int, ...]) -> float:
        """Every rule as one ratio (<= 1: all kept); past saturation graded by the busiest pool's
        offered load, so that of two saturated configurations the less overloaded reads as closer."""
        return self.assess(pick).excess

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


def _greedy(search: Search) -> tuple[int, ...]:
    pick = tuple(0 for _ in search.names)
    for _ in range(MAX_STEPS):
        if search.ok(pick):
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
    changed = search.ok(pick)
    while changed:
        changed = False
        for i, name in enumerate(search.names):
            for k in range(len(search.options[name])):
                if search.options[name][k].monthly >= search.options[name][pick[i]].monthly:
                    break
                cand = pick[:i] + (k,) + pick[i + 1 :]
                if search.ok(cand):
                    pick, changed = cand, True
                    break
    return pick


def recommend(
    scenario: Scenario,
    months: int = 0,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    requests: int = CONFIRM_REQUESTS,
    headroom_pct: float | None = None,
    zone_loss: bool | None = None,
    must_hold_rps: float | None = None,
    peak_factor: float | None = None,
) -> Recommendation:
    """The cheapest configuration at month `months`' load whose simulation meets the SLO and that
    keeps the risk rules (model/planning/risk.py: `headroom_pct` default 75, `zone_loss` default on
    for production-like scenarios, a known peak of `must_hold_rps` or `peak_factor` x the load);
    see the module docstring. A closed workload: the month's users, options sized by sizing_rate."""
    load = month_load(scenario, months)
    scenario, rate = load.scenario, load.rate_rps if load.rate_given else sizing_rate(load.scenario)
    rules = rules_for(scenario, rate, headroom_pct, zone_loss, must_hold_rps, peak_factor)
    search = Search(scenario, rate, rules)
    if any(not opts for opts in search.options.values()):
        empty = [n for n, o in search.options.items() if not o]
        return _nothing_fits(scenario, rate, months, seed, requests, empty, rules)
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
        if _confirmed(r, scenario) and search.ok(current):
            winner = (current, r)
    if winner is None:
        winner = min(tried, key=lambda t: slo_excess(scenario, t[1]))
    rec = _report(scenario, search, rate, months, seed, requests, winner, tried)
    return closed_note(rec, scenario) if scenario.workload.closed else rec


def _simulate(search: Search, pick: tuple[int, ...], seed: int | None, requests: int) -> Results:
    return evaluate(search.build(pick), "sim", rate_rps=search.eval_rate, seed=seed, requests=requests)


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


def _riskier(scenario: Scenario, search: Search, pick: tuple[int, ...]) -> Candidate | None:
    """The cheapest configuration that only meets the SLO, when it is cheaper than `pick` and breaks
    a rule: what the search would have said without the rules, and why it is not offered."""
    if search.rules == SLO_ONLY:
        return None
    loose = Search(scenario, search.rate_rps)
    cheap = _greedy(loose)
    if not loose.ok(cheap) or loose.cost(cheap) >= search.cost(pick) - 0.005:
        return None
    risk = assess(loose.build(cheap), search.rate_rps, search.rules)
    if risk.safe:
        return None
    changes = _differences(scenario, _with_changes(scenario, loose, cheap).changes)
    monthly = _monthly(_applied(scenario, changes), search.rate_rps)
    return Candidate((), monthly, None, changes, risk)


def _report(scenario, search, rate, months, seed, requests, winner, tried) -> Recommendation:
    from model.planning.autoscale import at_peak

    pick, results = winner
    cand = _with_changes(scenario, search, pick)
    changes = _differences(scenario, cand.changes)
    recommended = _applied(scenario, changes)
    monthly = _monthly(recommended, rate)
    baseline = _monthly(scenario, rate)
    today = at_peak(scenario, rate)
    baseline_results = evaluate(today, "analytic", rate_rps=search.eval_rate)
    baseline_risk = assess(today, rate, search.rules, baseline_results)
    risk = assess(search.build(pick), rate, search.rules, results)
    if changes and monthly > baseline + 0.005 and baseline_risk.safe:
        # today's setup keeps every rule for less than the search's pick: never advise spending more
        simulated = evaluate(today, "sim", rate_rps=search.eval_rate, seed=seed, requests=requests)
        if _confirmed(simulated, scenario):
            changes, monthly, results = {}, baseline, simulated
            risk = assess(today, rate, search.rules, simulated)
    headroom = 100.0 * (1.0 - slo_excess(scenario, results)) if results.slo.met else 0.0
    runners = [
        Candidate(
            _with_changes(scenario, search, p).options,
            search.cost(p),
            r,
            risk=assess(search.build(p), rate, search.rules, r),
        )
        for p, r in tried
        if p != pick
    ][:RUNNERS_UP]
    runners = [dataclasses.replace(c, changes_override=_differences(scenario, c.changes)) for c in runners]
    notes = curve_notes(scenario)
    caveat = monthly_cost(scenario, rate).caveat()
    if caveat:
        notes.append(f"prices: {caveat}")
    if autoscaled_nodes(scenario):
        notes.append(
            "autoscaled nodes: the SLO is checked at the fewest replicas the HPA may settle on at peak "
            "(10% tolerance); cost is the cost of record (the HPA's replicas hour by hour over the month)"
        )
    if scenario.workload.retries is not None:
        notes.append(_retries_note(recommended, rate))
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
        risk.zone.slo if risk.zone is not None else None,
        runners,
        baseline_results.slo,
        notes,
        rules=search.rules,
        risk=risk,
        baseline_risk=baseline_risk,
        riskier=_riskier(scenario, search, pick),
    )


def _retries_note(recommended: Scenario, rate: float) -> str:
    """Client retries: the SLO was met with their load counted (both solvers run them); say whether the
    recommended size would sustain a retry storm once one started (model.queueing.retry_load)."""
    from model.queueing.retry_load import storm_risk

    risk = storm_risk(recommended, rate)
    return "client retries: the SLO is met with the retries' load counted; " + (
        f"a retry storm would sustain itself at this size (every attempt failing, clients send "
        f"{risk.storm_rps:,.1f}/s against a capacity of {risk.capacity_rps:,.1f}/s): a burst can leave it "
        "failing; more capacity than that or fewer retries rules it out"
        if risk.sustains
        else "a retry storm would die out at this size"
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


def _nothing_fits(scenario, rate, months, seed, requests, empty, rules) -> Recommendation:
    r = evaluate(
        scenario, "sim", rate_rps=None if scenario.workload.closed else rate, seed=seed, requests=requests
    )
    slo = SloCheck(
        False,
        [f"no stable size found for {', '.join(empty)} at {rate:,.1f} requests/s"] + list(r.slo.violations),
    )
    monthly = _monthly(scenario, rate)  # priced as every other answer is: the cost of record
    return Recommendation(
        scenario.name, rate, months, {}, monthly, monthly, r, slo, 0.0, None, [], r.slo, rules=rules
    )
