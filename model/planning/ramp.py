"""A load-test ramp (`python cli.py ramp FILE`): users stepped up over time, simulated, step by step.

Each step is what a load tool reports for it (throughput, percentiles, errors of the requests that
ended in it), beside the steady state the analytic model expects at that many users (MVA): a step
too short for the system to settle, or an overload whose latency still grows, shows as the two
apart. A user's own load-test results (Locust or k6, read by model.fit.loadtest_steps) are shown
beside them when given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from model.planning.report import ms, round_or_none, table
from model.queueing.analytic.closed import analyse_closed
from model.queueing.closed_network import solve_closed
from model.queueing.sim.ramp import RampStep, run_ramp, step_schedule
from model.scenario.schema import Scenario


@dataclass(frozen=True)
class Expected:
    """The analytic steady state at a step's users."""

    users: int
    throughput_rps: float
    mean_ms: float
    p99_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "throughput_rps": round(self.throughput_rps, 3),
            "latency_ms": {"mean": round_or_none(self.mean_ms), "p99": round_or_none(self.p99_ms)},
        }


@dataclass(frozen=True)
class Ramp:
    scenario: str
    think_ms: float
    step_s: float
    steps: list[RampStep]
    expected: list[Expected]
    knee_users: float
    seed: int | None
    observed: list[Any] = field(default_factory=list)  # model.fit.loadtest_steps.ObservedStep
    observed_from: str | None = None  # "locust FILE" / "k6 FILE"

    def to_json(self) -> dict[str, Any]:
        out = {
            "scenario": self.scenario,
            "think_ms": self.think_ms,
            "step_s": self.step_s,
            "knee_users": round_or_none(self.knee_users),
            "steps": [{**s.to_json(), "expected": e.to_json()} for s, e in zip(self.steps, self.expected)],
            "seed": self.seed,
        }
        if self.observed_from is not None:
            out["observed"] = {"from": self.observed_from, "steps": [o.to_json() for o in self.observed]}
        return out

    def to_text(self) -> str:
        out = [
            f"{self.scenario}: load-test ramp, {len(self.steps)} steps of {self.step_s:g} s, think time "
            f"{ms(self.think_ms)} (simulated; 'steady' is the analytic expectation)",
            "",
        ]
        rows = [
            [
                f"{s.start_s:g}-{s.end_s:g} s",
                f"{s.users:,}",
                f"{s.throughput_rps:,.1f}/s",
                ms(s.mean_ms),
                ms(s.p95_ms),
                ms(s.p99_ms),
                f"{s.error_pct:.2f}%",
                f"{e.throughput_rps:,.1f}/s, p99 {ms(e.p99_ms)}",
            ]
            for s, e in zip(self.steps, self.expected)
        ]
        out.append(table(["time", "users", "throughput", "mean", "p95", "p99", "errors", "steady"], rows))
        out.append("")
        out.append(
            f"Knee N* {self.knee_users:,.0f} users: beyond it throughput stays flat and latency climbs."
        )
        if self.observed_from is not None:
            out += ["", f"Your load test ({self.observed_from}), by user count:"]
            out.append(
                table(
                    [
                        "users",
                        "held",
                        "throughput",
                        "p50",
                        "p95",
                        "p99",
                        "errors",
                        "simulated at those users",
                    ],
                    [
                        [
                            f"{o.users:,}",
                            f"{o.duration_s:,.0f} s",
                            f"{o.throughput_rps:,.1f}/s",
                            ms(o.p50_ms),
                            ms(o.p95_ms),
                            ms(o.p99_ms),
                            f"{o.error_pct:.2f}%",
                            _nearest(self.steps, o.users),
                        ]
                        for o in self.observed
                    ],
                )
            )
        return "\n".join(out)


def _nearest(steps: list[RampStep], users: int) -> str:
    step = min(steps, key=lambda s: abs(s.users - users))
    return f"{step.users:,} users: {step.throughput_rps:,.1f}/s, p99 {ms(step.p99_ms)}"


def ramp(
    scenario: Scenario,
    start_users: int,
    end_users: int,
    steps: int,
    step_s: float,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    observed: list[Any] | None = None,
    observed_from: str | None = None,
    schedule: list[tuple[float, int]] | None = None,
) -> Ramp:
    """Simulate the ramp (or `schedule`, [(start_s, users)]) and solve each step's steady state."""
    if not scenario.workload.closed:
        raise ValueError("a ramp steps users: it needs a closed workload (workload.users or --users)")
    plan = schedule or step_schedule(start_users, end_users, steps, step_s)
    results, simulated = run_ramp(scenario, plan, step_s, seed, progress)
    top = max(u for _, u in plan)
    sol = solve_closed(scenario, top)
    expected = []
    for _, users in plan:
        r = analyse_closed(scenario, users, sol).results
        expected.append(Expected(users, r.throughput_rps, r.latency_ms.mean, r.latency_ms.p99))
    return Ramp(
        scenario.name,
        scenario.workload.think_time_ms,
        step_s,
        simulated,
        expected,
        results.closed.knee_users,
        seed,
        list(observed or []),
        observed_from,
    )
