"""The SLO verdict alone: is the SLO met at this load, and if not, which node gives out first.

The runway asks it of every month of the horizon (for `diff`, twice), and needs neither the
bill nor Kafka's lag percentiles (a root search over each consumer group's lag distribution,
most of a Kafka solve). A month whose pools saturate misses any SLO that sets a target
(model.queueing.results.check_slo), so once the responses have named the saturated nodes the
answer is known without the end-to-end distribution or a saturated group's drops (a
birth-death chain over every backlog state, up to max_backlog per partition). Otherwise it is
the full solve: the verdict is always `solve(...).slo.met` and `bottleneck(solve(...))`.
"""

from __future__ import annotations

from model.queueing.analytic.solver import _Solver
from model.queueing.results import bottleneck
from model.scenario.schema import Scenario, post_order


def slo_verdict(scenario: Scenario, rate_rps: float | None = None) -> tuple[bool, str | None]:
    """(met, the node that gives out first when missed, else None), as the analytic solve says."""
    if all(v is None for v in scenario.slo.model_dump().values()):
        return True, None  # no target: nothing to miss (check_slo's rule)
    rate = scenario.workload.rate_rps if rate_rps is None else rate_rps
    solver = _Solver(scenario, rate, verdict_only=True)
    for name in post_order(scenario.entry, solver._waits_on):  # the responses, as results() asks for them
        solver.response(name)
    solver.response(scenario.entry)
    for name in scenario.nodes:
        solver.response(name)
    saturated = [n for n in scenario.nodes if n in solver.saturated]
    if saturated:  # check_slo: a target is set, so latency without bound or "saturated" misses it
        return False, saturated[0]
    results = solver.results()
    return results.slo.met, None if results.slo.met else bottleneck(results)
