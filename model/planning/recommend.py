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

The search lives in `option_search.py`, the answer's types (JSON, text) in `recommendation.py`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from model.planning.autoscale import autoscaled_nodes
from model.planning.bill import month_bill
from model.pricing.cost import monthly_cost
from model.planning.load import closed_note, month_load, sizing_rate
from model.planning.option_search import SLO_ONLY, Search, greedy
from model.planning.recommendation import Candidate, Recommendation
from model.queueing.results import Results, SloCheck
from model.queueing.evaluate import evaluate
from model.scenario.schema import Scenario
from model.planning.risk import assess, rules_for, slo_excess
from model.planning.search_space import curve_notes
from model.queueing.run_size import PLANNING_REQUESTS

CONFIRM_REQUESTS = PLANNING_REQUESTS
RUNNERS_UP = 3


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
    pick = greedy(search)
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
    cheap = greedy(loose)
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
