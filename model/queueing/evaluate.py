"""One way to evaluate a scenario: pick the solver, then price what it served.

The CLI, the app, the planner and the tests all call `evaluate`, so a number shown in the
browser is the number the CLI prints for the same scenario, method and seed.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Literal

from model.pricing.cost import monthly_cost
from model.queueing.results import Results
from model.scenario.schema import Scenario
from model.queueing.sim.simulation import DEFAULT_REQUESTS, simulate

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
    with an optional `burst` in it (model.queueing.sim.load_test.Burst)."""
    if burst is not None and duration_s is None:
        raise ValueError("a burst happens within a timed run: give a duration")
    if duration_s is not None:
        if method != "sim":
            raise ValueError("a timed run (duration) is a simulation: use method sim")
        from model.queueing.sim.load_test import run_for

        results = run_for(scenario, duration_s, rate_rps=rate_rps, seed=seed, progress=progress, burst=burst)
    elif method == "analytic":
        from model.queueing.analytic.solver import solve

        results = solve(scenario, rate_rps)
    elif method == "sim":
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
