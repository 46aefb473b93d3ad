"""How many concurrent users a configuration holds (`python cli.py users FILE`).

The closed workload's users (each sends a request, waits for it, thinks `think_ms`) are added one
at a time in the analytic model (model.queueing.analytic.closed: MVA's means, percentiles of the
equivalent open network): the answer is the largest count whose latency and errors still meet the
SLO. Beside it, the asymptotic bounds of operational analysis: throughput is at most N / (D + Z)
and at most the bottleneck's capacity 1 / D_max; the two lines cross at N* = (D + Z) / D_max, the
knee of the throughput curve, beyond which every added user only adds waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from model.planning.report import ms, round_or_none, table
from model.queueing.analytic.closed import analyse_closed
from model.queueing.closed_network import ClosedSolution, solve_closed
from model.queueing.results import Results
from model.scenario.limits import limit
from model.scenario.schema import Scenario

CURVE_POINTS = 24


@dataclass(frozen=True)
class UsersPoint:
    users: int
    throughput_rps: float
    mean_ms: float
    p95_ms: float
    p99_ms: float
    slo_met: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "throughput_rps": round_or_none(self.throughput_rps, 4),
            "latency_ms": {
                "mean": round_or_none(self.mean_ms, 4),
                "p95": round_or_none(self.p95_ms, 4),
                "p99": round_or_none(self.p99_ms, 4),
            },
            "slo_met": self.slo_met,
        }


@dataclass(frozen=True)
class UsersAnswer:
    scenario: str
    users: int  # the workload's users
    think_ms: float
    max_users: int | None  # the most users meeting the SLO; None: not even one, or no SLO to meet
    at_max: Results | None  # the analytic answer there
    at_users: Results  # the answer at the workload's users
    knee_users: float  # N*
    max_throughput_rps: float  # the bottleneck's (or the entry slots') capacity
    bottleneck: str
    demand_ms: float  # D: one request's work over every pool, alone in the system
    bottleneck_demand_ms: float  # D_max: the bottleneck's work per request per server
    has_slo: bool
    capped: bool  # the SLO still held at the USERS limit: the answer is at least max_users
    curve: list[UsersPoint] = field(default_factory=list)

    @property
    def slo_met(self) -> bool:
        """Whether the workload's users are within what the configuration holds."""
        return self.at_users.slo.met

    def to_json(self) -> dict[str, Any]:
        at = self.at_max
        return {
            "scenario": self.scenario,
            "users": self.users,
            "think_ms": self.think_ms,
            "max_users": self.max_users,
            "max_users_capped": self.capped,
            "at_max_users": None
            if at is None
            else {
                "throughput_rps": round_or_none(at.throughput_rps, 4),
                "latency_ms": at.latency_ms.to_json(),
                "error_pct": round(at.error_pct, 4),
            },
            "bottleneck": self.bottleneck,
            "knee_users": round_or_none(self.knee_users, 4),
            "max_throughput_rps": round_or_none(self.max_throughput_rps, 4),
            "demand_ms": round_or_none(self.demand_ms, 4),
            "bottleneck_demand_ms": round_or_none(self.bottleneck_demand_ms, 4),
            "slo": {"met": self.slo_met, "violations": list(self.at_users.slo.violations)},
            "curve": [p.to_json() for p in self.curve],
            "method": "analytic",
        }

    def to_text(self) -> str:
        out = [f"{self.scenario}: concurrent users (think time {ms(self.think_ms)}, analytic)", ""]
        if not self.has_slo:
            out.append("No latency or error target in the SLO: every user count meets it; see the knee.")
        elif self.max_users is None:
            out.append("Not even one user meets the SLO: " + "; ".join(self.at_max_violations()))
        else:
            at = self.at_max
            more = " (or more: the search stopped at the users limit)" if self.capped else ""
            out.append(
                f"Holds {self.max_users:,} users{more} within the SLO: {at.throughput_rps:,.1f} requests/s, "
                f"p99 {ms(at.latency_ms.p99)}, mean {ms(at.latency_ms.mean)}"
            )
        verdict = "met" if self.slo_met else "MISSED: " + "; ".join(self.at_users.slo.violations)
        out.append(f"At the workload's {self.users:,} users: SLO {verdict}")
        out.append(
            f"Knee N* = (D + Z) / D_max = ({self.demand_ms:,.1f} + {self.think_ms:,.0f}) ms / "
            f"{self.bottleneck_demand_ms:,.2f} ms = {self.knee_users:,.0f} users; at most "
            f"{self.max_throughput_rps:,.1f} requests/s, {self.bottleneck} saturates first"
        )
        out.append("")
        rows = [
            [
                f"{p.users:,}",
                f"{p.throughput_rps:,.1f}/s",
                ms(p.mean_ms),
                ms(p.p95_ms),
                ms(p.p99_ms),
                "met" if p.slo_met else "missed",
            ]
            for p in self.curve
        ]
        out.append(table(["users", "throughput", "mean", "p95", "p99", "SLO"], rows))
        return "\n".join(out)

    def at_max_violations(self) -> list[str]:
        return list((self.at_max or self.at_users).slo.violations)


def _has_slo(scenario: Scenario) -> bool:
    return any(v is not None for v in scenario.slo.model_dump().values())


def _point(scenario: Scenario, sol: ClosedSolution, n: int) -> Results:
    """The analytic answer at n users, from a solution whose curve has that row (else solved anew)."""
    if int(sol.curve.users[sol.row(n)]) != n:  # a sampled curve (very many users): solve at n
        sol = solve_closed(scenario, n)
    return analyse_closed(scenario, n, sol).results


def max_users(
    scenario: Scenario, curve_points: int = CURVE_POINTS, progress: Callable[[float], None] | None = None
) -> UsersAnswer:
    """The most users the scenario holds within its SLO, the bounds, and a users curve."""
    if not scenario.workload.closed:
        raise ValueError("needs a closed workload: workload.users (or --users N) and its think_ms")
    ceiling = limit("USERS")
    has_slo = _has_slo(scenario)
    # Double until the SLO is missed (or the limit is reached), then bisect inside one MVA curve.
    good, bad, n = 0, None, 1
    while has_slo and n <= ceiling:
        sol = solve_closed(scenario, n)
        if not _point(scenario, sol, n).slo.met:
            bad = n
            break
        good, n = n, n * 2
        if progress:
            progress(min(0.5, 0.05 * math.log2(n + 1)))
    capped = has_slo and bad is None
    if has_slo and bad is None and good < ceiling:
        sol = solve_closed(scenario, ceiling)
        if _point(scenario, sol, ceiling).slo.met:
            good = ceiling
        else:
            bad = ceiling
            capped = False
    if bad is not None:
        sol = solve_closed(scenario, bad)
        while bad - good > 1:
            mid = (good + bad) // 2
            if _point(scenario, sol, mid).slo.met:
                good = mid
            else:
                bad = mid
    users = int(scenario.workload.users)
    full = solve_closed(scenario, users)
    at_users = _point(scenario, full, users)
    stats = at_users.closed
    at_max = _point(scenario, solve_closed(scenario, good), good) if good >= 1 else None
    top = max(users, good, int(math.ceil(2 * stats.knee_users)) if math.isfinite(stats.knee_users) else users)
    curve = users_curve(scenario, min(top, ceiling), curve_points, progress)
    pool = full.network.bottleneck()
    return UsersAnswer(
        scenario.name,
        users,
        scenario.workload.think_time_ms,
        good if has_slo and good >= 1 else None,
        at_max if has_slo else None,
        at_users,
        stats.knee_users,
        stats.max_throughput_rps,
        stats.bottleneck,
        1000.0 * (full.network.demand_s + full.network.delay_s),
        1000.0 * pool.demand_s / pool.servers if pool is not None else 0.0,
        has_slo,
        capped,
        curve,
    )


def users_curve(
    scenario: Scenario, top: int, points: int = CURVE_POINTS, progress: Callable[[float], None] | None = None
) -> list[UsersPoint]:
    """Throughput and latency at `points` user counts from 1 to `top` (one MVA pass for them all)."""
    counts = sorted({max(1, round(top * (k / (points - 1)) ** 1.5)) for k in range(points)} | {1, top})
    sol = solve_closed(scenario, top)
    out = []
    for k, n in enumerate(counts):
        r = _point(scenario, sol, n)
        out.append(
            UsersPoint(n, r.throughput_rps, r.latency_ms.mean, r.latency_ms.p95, r.latency_ms.p99, r.slo.met)
        )
        if progress:
            progress(0.5 + 0.5 * (k + 1) / len(counts))
    return out
