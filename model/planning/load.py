"""The load a plan is made for, month by month: an open rate, or a closed workload's users.

Growth (`growth_pct_per_month`) compounds on what the workload states: the rate of an open
workload, the users of a closed one. A rate-based question (the bill, the HPA's replicas, a
failure over time) is asked of a closed workload at the rate its users send: their throughput by
mean-value analysis (model.queueing.closed_network). A latency question is asked of the users
themselves (evaluate runs a closed workload as one), so a month of a closed forecast is the
closed answer for that month's users.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.queueing.offered_load import offered_rps
from model.scenario.schema import Scenario


def month_rate(rate_rps: float, growth_pct: float, month: int) -> float:
    return rate_rps * (1.0 + growth_pct / 100.0) ** month


def month_users(users: int, growth_pct: float, month: int) -> int:
    """Users grow as a rate does, counted whole (at least one)."""
    return max(1, round(users * (1.0 + growth_pct / 100.0) ** month))


@dataclass(frozen=True)
class MonthLoad:
    scenario: Scenario  # a closed workload with the month's users; an open one unchanged
    rate_rps: float  # the rate offered: the open rate grown, or the users' MVA throughput
    rate_given: bool  # evaluate at rate_rps (open); False: evaluate the users (closed)

    @property
    def evaluate_rate(self) -> float | None:
        """What to pass evaluate as rate_rps: None lets a closed workload run as one."""
        return self.rate_rps if self.rate_given else None


def month_load(scenario: Scenario, month: int = 0, growth_pct: float | None = None) -> MonthLoad:
    """The load of month `month` at `growth_pct` (default the workload's)."""
    workload = scenario.workload
    growth = workload.growth_pct_per_month if growth_pct is None else growth_pct
    if not workload.closed:
        return MonthLoad(scenario, month_rate(workload.rate_rps, growth, month), True)
    from model.queueing.closed_network import solve_closed  # MVA: closed workloads only

    users = month_users(workload.users, growth, month)
    grown = scenario.model_copy(update={"workload": workload.model_copy(update={"users": users})})
    return MonthLoad(grown, solve_closed(grown, users).throughput_rps(users), False)


def planning_rate(scenario: Scenario, month: int = 0, growth_pct: float | None = None) -> float:
    """The rate month `month` offers (a closed workload: its users' throughput)."""
    if month == 0 and growth_pct is None:
        return offered_rps(scenario)
    return month_load(scenario, month, growth_pct).rate_rps


def sizing_rate(scenario: Scenario) -> float:
    """The rate a closed workload's options are sized for: what its users send when their response
    is the loosest latency target T, N / (Z + T), the least throughput of any configuration that
    meets the SLO (a faster one lets them send more). Without a latency target, T is the response
    alone in the system: the most they can send."""
    from model.queueing.closed_network import closed_network

    net = closed_network(scenario)
    targets = [t for t in (scenario.slo.p50_ms, scenario.slo.p95_ms, scenario.slo.p99_ms) if t is not None]
    response_s = max(targets) / 1000.0 if targets else net.demand_s + net.delay_s
    return net.users / (net.think_s + response_s)


def closed_note(rec, scenario: Scenario):
    """A recommendation for a closed workload: its rate is what the users send on the winner
    (simulated), and a note says the question was asked of the users."""
    import dataclasses

    workload = scenario.workload
    note = (
        f"closed workload: {workload.users:,} users thinking {workload.think_time_ms:,.0f} ms; each "
        "configuration is judged with the users (they send what it answers); options sized for "
        f"{rec.rate_rps:,.1f} requests/s (the users at the loosest latency target)"
    )
    return dataclasses.replace(rec, rate_rps=rec.results.rate_rps, notes=[note, *rec.notes])
