"""Does the load hold, and on what assumption: the replicas as set, or the HPA scaling.

A page that shows one number computed with the replicas fixed (latency, saturation) beside one
computed with the HPA scaling (the forecast's runway) tells two stories. These helpers compute
both, say which is which, and give one verdict the page colours its banner by:

- **holds**: the SLO is met with the replicas as set;
- **holds with autoscaling**: it is not, but every autoscaled service's HPA would add pods
  (the fewest it may settle on at that load, clamped to its `max`) and the SLO is then met;
- **breaks**: the SLO is missed either way.

A closed workload (`workload.users`) is judged on its users, as every page shows it: the closed
solve with the replicas as set, and with the replicas each HPA settles on for those users
(model.planning.closed_holding, which also words it: the users, the knee N*).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.planning.load import planning_rate
from model.planning.autoscale import at_peak, autoscaled_nodes
from model.planning.closed_holding import closed_detail, settle_hpa
from model.planning.diff import at_most_replicas
from model.planning.forecast import runway
from model.queueing.evaluate import evaluate
from model.queueing.offered_load import saturation_rps
from model.queueing.results import Results
from model.scenario.schema import Scenario

HOLDS, WITH_AUTOSCALING, BREAKS = "holds", "holds with autoscaling", "breaks"


@dataclass(frozen=True)
class Holding:
    """The load against the replicas as set and against the HPA's, with one verdict."""

    verdict: str
    rate_rps: float
    fixed: Results  # the replicas as set
    autoscaled: Results | None  # each HPA at the replicas it holds at the rate (None: no HPA)
    replicas: dict[str, tuple[int, int, int]]  # autoscaled node -> (set, the HPA holds, its max)

    @property
    def closed(self) -> bool:
        """Judged on a closed workload's users (not an open rate)."""
        return self.fixed.closed is not None

    @property
    def title(self) -> str:
        return {HOLDS: "Holds", WITH_AUTOSCALING: "Holds only with autoscaling", BREAKS: "Breaks"}[
            self.verdict
        ]

    def detail(self) -> str:
        """What the verdict rests on, naming the assumption behind each number."""
        if self.closed:
            return closed_detail(self.fixed, self.autoscaled, self.replicas)
        rate = f"{self.rate_rps:,.0f} req/s"
        fixed = self.fixed
        problem = (
            f"{', '.join(fixed.saturated)} cannot keep up with {rate}"
            if fixed.saturated
            else "the SLO is missed (" + "; ".join(fixed.slo.violations) + ")"
        )
        if self.verdict == HOLDS:
            return f"the SLO is met at {rate} with the replicas as set"
        if self.verdict == WITH_AUTOSCALING:
            scaled = ", ".join(f"{n} from {s} to {h}" for n, (s, h, _m) in self.replicas.items() if h != s)
            return (
                f"with the replicas as set, {problem}; the HPA would scale {scaled} replicas and meet "
                f"the SLO (p99 {self.autoscaled.latency_ms.p99:,.0f} ms)"
            )
        if self.autoscaled is None:
            return problem
        capped = [f"{n} at its max of {m}" for n, (_s, h, m) in self.replicas.items() if h >= m]
        scaled = (
            f"even with {', '.join(capped)} replicas" if capped else "even with the replicas its HPA adds"
        )
        return f"with the replicas as set, {problem}, and {scaled} the SLO is missed"

    def sentence(self) -> str:
        """The verdict in one sentence."""
        return f"{self.title}: {self.detail()}."


def holding(scenario: Scenario, rate_rps: float | None = None, fixed: Results | None = None) -> Holding:
    """`scenario` at `rate_rps` (default its own), with the replicas as set and with the HPA's.
    `fixed` is the analytic result with the replicas as set, when the caller already has it."""
    if rate_rps is None and scenario.workload.closed:  # the users themselves, as evaluate runs them
        fixed = fixed if fixed is not None else evaluate(scenario, "analytic")
        rate = fixed.rate_rps  # what they send: planning_rate's MVA throughput
    else:
        rate = planning_rate(scenario) if rate_rps is None else rate_rps
        fixed = fixed if fixed is not None else evaluate(scenario, "analytic", rate_rps=rate)
    names = autoscaled_nodes(scenario)
    if not names:
        return Holding(HOLDS if fixed.slo.met else BREAKS, rate, fixed, None, {})
    if fixed.closed is not None:
        scaled_scenario, scaled = settle_hpa(scenario, fixed)
    else:
        scaled_scenario = at_peak(scenario, rate)
        scaled = evaluate(scaled_scenario, "analytic", rate_rps=rate)
    replicas = {
        n: (scenario.nodes[n].replicas, scaled_scenario.nodes[n].replicas, scenario.nodes[n].autoscale.max)
        for n in names
    }
    verdict = HOLDS if fixed.slo.met else WITH_AUTOSCALING if scaled.slo.met else BREAKS
    return Holding(verdict, rate, fixed, scaled, replicas)


def without_autoscaling(scenario: Scenario) -> Scenario:
    """The replicas as set, held fixed: every `autoscale` block removed."""
    nodes = {
        n: node.model_copy(update={"autoscale": None}) if n in autoscaled_nodes(scenario) else node
        for n, node in scenario.nodes.items()
    }
    return scenario.model_copy(update={"nodes": nodes})


@dataclass(frozen=True)
class Stretch:
    """How far the scenario stretches on one assumption."""

    assumption: str  # "replicas as set" | "HPA up to max"
    saturation_rps: float  # the entry rate at which the busiest pool reaches 100% (inf: never)
    runway_months: int | None  # the first month the SLO is missed (None: within the horizon)


def stretch(scenario: Scenario) -> list[Stretch]:
    """Saturation and runway with the replicas as set and, when some service autoscales, with the
    HPA scaling (saturation at every HPA's `max`; the runway as the forecast computes it)."""
    horizon = scenario.workload.horizon_months
    fixed = without_autoscaling(scenario)
    out = [Stretch("replicas as set", saturation_rps(fixed), runway(fixed, horizon)[0])]
    if autoscaled_nodes(scenario):
        out.append(
            Stretch("HPA up to max", saturation_rps(at_most_replicas(scenario)), runway(scenario, horizon)[0])
        )
    return out
