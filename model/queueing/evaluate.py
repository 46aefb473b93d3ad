"""One way to evaluate a scenario: pick the solver, then price what it served.

The CLI, the app, the planner and the tests all call `evaluate`, so a number shown in the
browser is the number the CLI prints for the same scenario, method and seed.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Literal

from model.pricing.cost import monthly_cost
from model.queueing.results import Results, bottleneck
from model.queueing.run_size import SIM_REQUESTS as DEFAULT_REQUESTS
from model.scenario.schema import Scenario

Method = Literal["sim", "analytic"]


def evaluate(
    scenario: Scenario,
    method: Method = "sim",
    rate_rps: float | None = None,
    seed: int | None = None,
    requests: int = DEFAULT_REQUESTS,
    progress: Callable[[float], None] | None = None,
    unit_hours_by_node: dict[str, float] | None = None,
    duration_s: float | None = None,
    burst=None,
) -> Results:
    """`duration_s` (simulator only) offers the load for that long instead (model.queueing.sim.load_test),
    with an optional `burst` in it (model.queueing.sim.load_test.Burst).

    A closed workload (`workload.users`) is run as one (model.queueing.sim.closed, .analytic.closed)
    unless a `rate_rps` is given: an explicit rate is an open load at that rate."""
    if burst is not None and duration_s is None:
        raise ValueError("a burst happens within a timed run: give a duration")
    closed = scenario.workload.closed and rate_rps is None
    if closed and duration_s is not None:
        raise ValueError("a timed run (duration) of a closed workload (users) is not available")
    if closed and method == "analytic":
        from model.queueing.analytic.closed import solve_closed_results

        results = solve_closed_results(scenario)
    elif closed and method == "sim":
        from model.queueing.sim.closed import simulate_closed

        results = simulate_closed(scenario, seed=seed, requests=requests, progress=progress)
    elif duration_s is not None:
        if method != "sim":
            raise ValueError("a timed run (duration) is a simulation: use method sim")
        from model.queueing.sim.load_test import run_for

        results = run_for(scenario, duration_s, rate_rps=rate_rps, seed=seed, progress=progress, burst=burst)
    elif method == "analytic":
        from model.queueing.analytic.solver import solve

        results = solve(scenario, rate_rps)
    elif method == "sim":
        from model.queueing.sim.simulation import simulate  # the simulator's modules: only when simulating

        results = simulate(scenario, rate_rps=rate_rps, seed=seed, requests=requests, progress=progress)
    else:
        raise ValueError(f"unknown method {method!r}; use sim or analytic")
    if (
        method == "sim"
    ):  # the analytic answer alongside: warn where the two disagree (model.queueing.crosscheck)
        from model.queueing.crosscheck import crosscheck

        results = dataclasses.replace(
            results, warnings=crosscheck(scenario, results, rate_rps, duration_s is not None)
        )
    # Price the load offered, not the load served: a saturated system is still billed.
    cost = monthly_cost(scenario, results.rate_rps, unit_hours_by_node)
    return dataclasses.replace(results, cost=cost)


def slo_verdict(scenario: Scenario, rate_rps: float | None = None) -> tuple[bool, str | None]:
    """Whether the analytic solve at `rate_rps` meets the SLO, and which node gives out first when it
    does not: `evaluate(..., "analytic")`'s `slo.met` and bottleneck, without the bill or the work
    they do not need (model.queueing.analytic.verdict). The runway asks it of every month."""
    closed = rate_rps is None and scenario.workload.closed  # the users themselves: the whole closed solve
    if closed or scenario.workload.retries is not None:  # retries: the offered load's fixed point, whole
        r = evaluate(scenario, "analytic", rate_rps=rate_rps)
        return r.slo.met, None if r.slo.met else bottleneck(r)
    from model.queueing.analytic.verdict import slo_verdict as verdict

    return verdict(scenario, rate_rps)
