"""Does a closed workload hold: its users, against the replicas as set and against the HPA's.

A closed workload (`workload.users`, `think_ms`) is not a rate offered from outside: each user
waits for an answer before sending the next request, so it cannot overload a pool without bound.
Past the knee N* = (D + Z) / D_max the bottleneck runs flat out and every user added only adds
waiting. Its verdict is therefore asked of the users themselves (the closed solve, the same
`evaluate(scenario, "analytic")` the pages show), never of an open rate at their throughput,
which would call a pool at 99% "saturated, no steady state" where the users simply wait.

The HPA sees the users' throughput. More replicas answer faster, so the same users send more,
which the HPA sees as more load: `settle_hpa` follows replicas -> the users' throughput ->
replicas until they stop moving, the replicas each HPA settles on for these users.
"""

from __future__ import annotations

from model.planning.autoscale import at_peak, autoscaled_nodes
from model.planning.report import ms
from model.queueing.evaluate import evaluate
from model.queueing.results import Results
from model.scenario.schema import Scenario

SETTLE_ROUNDS = 12  # replicas only move one way and stop at min/max: a few rounds settle them


def settle_hpa(scenario: Scenario, fixed: Results) -> tuple[Scenario, Results]:
    """Each autoscaled node at the replicas its HPA settles on for the workload's users, and the
    closed answer there (`fixed`: the closed answer with the replicas as set)."""
    names = autoscaled_nodes(scenario)
    current, results = scenario, fixed
    for _ in range(SETTLE_ROUNDS):
        scaled = at_peak(scenario, results.rate_rps)  # the HPA at what the users send now
        if all(scaled.nodes[n].replicas == current.nodes[n].replicas for n in names):
            break
        current, results = scaled, evaluate(scaled, "analytic")
    return current, results


def users_text(results: Results) -> str:
    """`150 users thinking 1,000.0 ms`: whom a closed answer is for."""
    closed = results.closed
    return f"{closed.users:,} users thinking {ms(closed.think_ms)}"


def knee_text(results: Results) -> str:
    """Where the users stand against the knee N*."""
    closed = results.closed
    if closed.knee_users == float("inf"):
        return "no knee: nothing on their path is busy"
    side = "past" if closed.users > closed.knee_users else "below"
    return f"{side} the knee N* = {closed.knee_users:,.0f} users"


def problem_text(fixed: Results) -> str:
    """What goes wrong for the users with the replicas as set."""
    if fixed.saturated:
        busy = ", ".join(fixed.saturated)
        return (
            f"{busy} is busy 99% or more: {users_text(fixed)} are {knee_text(fixed)}, so each user added "
            f"only waits (p99 {ms(fixed.latency_ms.p99)})"
        )
    return f"the SLO is missed at {users_text(fixed)} (" + "; ".join(fixed.slo.violations) + ")"


def closed_detail(
    fixed: Results, autoscaled: Results | None, replicas: dict[str, tuple[int, int, int]]
) -> str:
    """holding.Holding.detail for a closed workload, on the same verdict: holds (met as set), holds
    with autoscaling (met at the replicas the HPA settles on), breaks."""
    if fixed.slo.met:
        return (
            f"the SLO is met at {users_text(fixed)} with the replicas as set: they send "
            f"{fixed.rate_rps:,.0f} req/s, p99 {ms(fixed.latency_ms.p99)}, {knee_text(fixed)}"
        )
    problem = problem_text(fixed)
    if autoscaled is not None and autoscaled.slo.met:
        scaled = ", ".join(f"{n} from {s} to {h}" for n, (s, h, _m) in replicas.items() if h != s)
        return (
            f"with the replicas as set, {problem}; the HPA would scale {scaled} replicas and meet the SLO "
            f"(the users then send {autoscaled.rate_rps:,.0f} req/s, p99 {ms(autoscaled.latency_ms.p99)})"
        )
    if autoscaled is None:
        return problem
    capped = [f"{n} at its max of {m}" for n, (_s, h, m) in replicas.items() if h >= m]
    scaled = f"even with {', '.join(capped)} replicas" if capped else "even with the replicas its HPA adds"
    return f"with the replicas as set, {problem}, and {scaled} the SLO is missed"
