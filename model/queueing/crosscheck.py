"""A warning whenever the simulator and the analytic solver tell different stories about one run.

Every simulated run is also solved analytically (milliseconds), and the two are compared: a node
one calls saturated and the other does not, or an analytic mean or p99 outside the simulator's
95% interval by more than the analytic solver's stated error (ANALYTIC_ERROR: exact where theory
is exact, within these bounds on the cases tests/model holds it to). Such a run is one where at
least one of the two answers should not be trusted without a look: the warning says which numbers
differ and by how much; `simulate --json` lists them under `warnings`.
"""

from __future__ import annotations

import math

from model.queueing.results import Results
from model.scenario.schema import Scenario

ANALYTIC_ERROR = {"mean": 0.10, "p99": 0.20}  # relative, beyond the simulator's 95% interval
RETRY_AMPLIFICATION_ERROR = 0.10  # relative: client retries' attempts per request


def disagreements(sim: Results, analytic: Results, compare_latency: bool = True) -> list[str]:
    """What the two solvers disagree on, as sentences with both numbers and units."""
    out: list[str] = []
    if set(sim.saturated) != set(analytic.saturated):

        def named(nodes: list[str]) -> str:
            return ", ".join(nodes) if nodes else "nothing"

        out.append(
            f"the solvers disagree on saturation: the simulator finds {named(sim.saturated)} saturated, "
            f"the analytic solver {named(analytic.saturated)}"
        )
        return out
    if not compare_latency or sim.saturated or not sim.latency_ci95_ms:
        return out
    for key, allowed in ANALYTIC_ERROR.items():
        lo, hi = sim.latency_ci95_ms.get(key, (math.nan, math.nan))
        value = getattr(analytic.latency_ms, key)
        if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(value)):
            continue
        if not lo * (1 - allowed) <= value <= hi * (1 + allowed):
            nearest = lo if value < lo else hi
            out.append(
                f"the solvers differ on {key} latency by more than their stated error: analytic "
                f"{value:,.1f} ms, simulated {getattr(sim.latency_ms, key):,.1f} ms (95% interval "
                f"{lo:,.1f} to {hi:,.1f} ms; analytic {100 * (value / nearest - 1):+.0f}% beyond it, "
                f"{100 * allowed:.0f}% allowed)"
            )
    return out


def crosscheck(
    scenario: Scenario, sim: Results, rate_rps: float | None = None, timed: bool = False
) -> list[str]:
    """The analytic answer for the same scenario and rate, compared with a simulated run. A timed run
    (cold start) and a replayed trace (the analytic solver sees its peak as Poisson) are compared
    on saturation only."""
    from model.queueing.analytic.solver import solve

    if scenario.workload.closed and rate_rps is None:
        return _closed_crosscheck(scenario, sim)
    try:
        analytic = solve(scenario, rate_rps)
    except (
        ValueError,
        ArithmeticError,
    ) as err:  # an input the analytic solver cannot take: say so, keep the run
        return [f"the analytic solver could not check this run ({err})"]
    if sim.retries is not None and sim.saturated and not analytic.saturated:
        # Both can be right: a metastable system has a calm state and a storm (model/queueing/retry_load.py).
        return [
            f"the simulation ran into a retry storm ({sim.retries.amplification:.2f} attempts per request, "
            f"{sim.retries.offered_rps:,.1f}/s offered; {', '.join(sim.saturated)} saturated) where the analytic "
            "solver gives the calm state: both states exist here, and this run ended in the storm"
        ]
    out = disagreements(sim, analytic, compare_latency=not timed and scenario.workload.arrivals != "trace")
    if sim.retries is not None and analytic.retries is not None and not (timed or sim.saturated or out):
        measured, formula = sim.retries.amplification, analytic.retries.amplification
        if abs(measured - formula) > RETRY_AMPLIFICATION_ERROR * formula:
            out.append(
                f"the solvers differ on retry amplification: simulated {measured:.3f} attempts per request, "
                f"analytic {formula:.3f}; the formulas take attempts as failing independently, and retries "
                "that come back within the busy spell that failed them fail more (a short backoff)"
            )
    return out


def _closed_crosscheck(scenario: Scenario, sim: Results) -> list[str]:
    """A closed workload against its MVA answer: latency only. Its `saturated` is a threshold on
    utilization (99%), which two honest answers can straddle; its latency stays finite."""
    import dataclasses

    from model.queueing.analytic.closed import solve_closed_results

    try:
        analytic = solve_closed_results(scenario)
    except (ValueError, ArithmeticError) as err:
        return [f"the analytic solver could not check this run ({err})"]
    return disagreements(dataclasses.replace(sim, saturated=[]), dataclasses.replace(analytic, saturated=[]))
