"""Whether a month's bill is a plan: the SLO verdict and saturation, said beside the money.

A bill for a month that misses its SLO, or for a configuration that cannot keep up with its load,
is the bill of a system that does not cope: the rows of forecasts, spend tables and exports carry
this verdict, with one sentence of the same weight as the number.

API (stable names): `Verdict` (`slo_met`, `violations`, `saturated`, `p99_ms`, `copes`, `message`,
`to_json()`), `verdict_of(results)`, `month_verdict(scenario, peak_rps, method="analytic")`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.planning.autoscale import at_peak, autoscaled_nodes
from model.queueing.evaluate import evaluate
from model.queueing.results import Results
from model.scenario.schema import Scenario

NOT_A_PLAN = "the bill shown is for a system that does not cope"


@dataclass(frozen=True)
class Verdict:
    slo_met: bool
    p99_ms: float
    violations: list[str] = field(default_factory=list)
    saturated: list[str] = field(default_factory=list)

    @property
    def copes(self) -> bool:
        """The SLO is met and nothing is saturated: the bill is the bill of a working system."""
        return self.slo_met and not self.saturated

    @property
    def message(self) -> str | None:
        """None when the month copes; else "SLO missed: p99 528.0 ms > 400.0 ms; the bill shown is ..."."""
        if not self.slo_met:
            return f"SLO missed: {'; '.join(self.violations)}; {NOT_A_PLAN}"
        if self.saturated:
            return f"Saturated: {', '.join(self.saturated)} cannot keep up with the load; {NOT_A_PLAN}"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "slo_met": self.slo_met,
            "copes": self.copes,
            "p99_ms": round(self.p99_ms, 3) if math.isfinite(self.p99_ms) else None,
            "violations": list(self.violations),
            "saturated": list(self.saturated),
            "message": self.message,
        }


def verdict_of(results: Results) -> Verdict:
    return Verdict(
        results.slo.met, float(results.latency_ms.p99), list(results.slo.violations), list(results.saturated)
    )


def month_verdict(scenario: Scenario, peak_rps: float, method: str = "analytic") -> Verdict:
    """The month's verdict at its peak, autoscaled nodes at the replicas their HPA holds there (as
    `forecast` solves a month)."""
    config = at_peak(scenario, peak_rps) if autoscaled_nodes(scenario) else scenario
    return verdict_of(evaluate(config, method, rate_rps=peak_rps))
