"""A peak event as a what-if: "3x the planning load for a day: do we hold, what breaks, what to add, what it costs".

The event (`peak_event.PeakEvent`: ramp, plateau, decay) is answered three ways at once:

- the HPA's replicas every sync through the event (`peak_event.track`, the fluid controller
  `simulate_day` uses), which gives the bill and, by the offered-load law, the moment a pool
  that cannot grow (a fixed node, or an autoscaled one at its `max`) reaches 100%: exact, so
  the verdict flips where utilization reaches 1;
- the simulator with the HPA acting inside it (`autoscale.attach_hpas` on
  `sim.timeline.TimelineSimulation`) over the ramp and the start of the plateau, up to a budget
  of arrivals (`run_size.PEAK_REQUESTS`; when the whole stretch does not fit, the top of the ramp
  and the HPA's catching up are kept, started from the controllers' state there): p99, errors and
  Kafka drops minute by minute, the scale-up lag included;
- queueing theory minute by minute (`evaluate`, analytic) wherever the simulator did not run.

The verdict is the first minute that misses the SLO or saturates: "breaks at minute M" (which
node, at what load), else "holds with autoscaling" when an HPA added replicas, else "holds".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable


from model.planning.autoscale import autoscaled_nodes, simulate_day
from model.planning.peak_additions import Additions, additions, apply
from model.planning.peak_event import LEAD_S, PeakEvent, Track, onset_end_s, tail_s, track
from model.planning.peak_minutes import (
    Minute,
    Pools,
    confirm_misses,
    kafka_dropping,
    simulate_minutes,
    theory_minutes,
)
from model.pricing.cost import HOURS_PER_MONTH, monthly_cost
from model.queueing.run_size import PEAK_REQUESTS, PLANNING_REQUESTS
from model.scenario.schema import Scenario

DEFAULT_TARGET = 0.75  # the utilization the additions keep every node under


@dataclass(frozen=True)
class Break:
    minute: float
    node: str
    rate_rps: float
    factor: float  # rate over the planning load
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "minute": round(self.minute, 2),
            "node": self.node,
            "rate_rps": round(self.rate_rps, 3),
            "factor": round(self.factor, 3),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class EventCost:
    """Dollars for the event's span (not a month): the event against normal days at the planning load."""

    currency: str
    hours: float  # the ramp's start to the HPA back at its normal size
    event_usd: float
    normal_usd: float
    with_additions_usd: float  # the event with the additions (normal) in place for its span
    with_zone_additions_usd: float

    @property
    def extra_usd(self) -> float:
        return self.event_usd - self.normal_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "hours": round(self.hours, 3),
            "event": round(self.event_usd, 2),
            "normal": round(self.normal_usd, 2),
            "extra": round(self.extra_usd, 2),
            "extra_with_additions": round(self.with_additions_usd - self.normal_usd, 2),
            "extra_with_zone_additions": round(self.with_zone_additions_usd - self.normal_usd, 2),
        }


@dataclass(frozen=True)
class PeakResult:
    scenario: str
    event: PeakEvent
    base_rps: float
    verdict: str  # "holds" | "holds_with_autoscaling" | "breaks"
    breaks: Break | None
    first_to_saturate: tuple[str, float]  # (node, entry rate) with autoscaled nodes at their max
    scaling: dict[str, dict[str, int]]  # autoscaled node -> before, peak, max replicas
    additions: Additions
    zone_additions: Additions
    cost: EventCost
    series: list[Minute]
    simulated: dict[str, Any]  # from_minute, to_minute, requests, seed
    held: tuple[float, float] | None  # minutes of plateau held at the settled state (extrapolated)
    notes: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.verdict != "breaks"

    @property
    def peak_rps(self) -> float:
        return self.event.factor * self.base_rps

    def to_json(self) -> dict[str, Any]:
        node, rate = self.first_to_saturate
        return {
            "scenario": self.scenario,
            "event": {**self.event.to_json(), "base_rps": self.base_rps, "peak_rps": round(self.peak_rps, 3)},
            "verdict": self.verdict,
            "summary": summary(self),
            "breaks": None if self.breaks is None else self.breaks.to_json(),
            "first_to_saturate": {
                "node": node,
                "rate_rps": round(rate, 3) if math.isfinite(rate) else None,
                "factor": round(rate / self.base_rps, 3) if math.isfinite(rate) else None,
            },
            "autoscaling": self.scaling,
            "additions": {
                "target_utilization": self.additions.target_utilization,
                "normal": self.additions.to_json(),
                "zone_loss": self.zone_additions.to_json(),
            },
            "cost": self.cost.to_json(),
            "simulated": dict(self.simulated),
            "plateau_extrapolated": None
            if self.held is None
            else {"from_minute": round(self.held[0], 2), "to_minute": round(self.held[1], 2)},
            "series": [m.to_json() for m in self.series],
            "notes": list(self.notes),
        }


def summary(result: PeakResult) -> str:
    """The verdict in one sentence."""
    event = result.event
    what = (
        f"{event.factor:g}x the planning load ({result.peak_rps:,.0f} req/s) for "
        f"{event.days:g} day{'s' if event.days != 1 else ''}"
    )
    if result.breaks is not None:
        b = result.breaks
        node, rate = result.first_to_saturate
        saturates = (
            f"; {node} saturates at {rate:,.0f} req/s ({rate / result.base_rps:.2f}x)"
            if math.isfinite(rate) and rate < result.peak_rps and "saturated" not in b.reason
            else ""
        )
        if b.minute < 0:
            return f"Breaks before the event: at the planning load {b.node} already misses ({b.reason})."
        return (
            f"Breaks at minute {math.floor(b.minute)} of {what}: {b.node} gives out at {b.rate_rps:,.0f} req/s "
            f"({b.factor:.2f}x; {b.reason}){saturates}."
        )
    if result.verdict == "holds_with_autoscaling":
        grown = ", ".join(f"{n} {s['before']} to {s['peak']} replicas" for n, s in result.scaling.items())
        return f"Holds with autoscaling: {what}, the HPA scales {grown}."
    return f"Holds: {what} needs no change and no scaling."


def _arrivals(event: PeakEvent, base: float, start_s: float, end_s: float) -> float:
    return (end_s - start_s) * event.mean_rate_rps(base, start_s, end_s)


def _sim_window(
    scenario: Scenario, event: PeakEvent, base: float, onset_end: float, requests: int
) -> tuple[float, float]:
    """The stretch to simulate, in whole minutes, within `requests` arrivals.

    What must be simulated is the top of the ramp and the first minutes of the plateau, while
    the HPA catches up (its start-up and two syncs, at least a minute): from there the window
    reaches back into the ramp as far as the budget allows (the lead included), then forward
    into the settled plateau.
    """
    startup = max((scenario.nodes[n].autoscale.startup_s for n in autoscaled_nodes(scenario)), default=0.0)
    must_end = min(math.ceil((event.ramp_s + max(60.0, startup + 30.0)) / 60.0 - 1e-9) * 60.0, onset_end)
    start = must_end
    while start - 60.0 >= -LEAD_S - 1e-9 and _arrivals(event, base, start - 60.0, must_end) <= requests:
        start -= 60.0
    end = must_end
    while end + 60.0 <= onset_end + 1e-9 and _arrivals(event, base, start, end + 60.0) <= requests:
        end += 60.0
    return start, end


def _fluid_break(tr: Track, pools: Pools, scenario: Scenario, base: float) -> Break | None:
    """The first sync at which a pool that cannot grow reaches 100% of its servers."""
    scaled = pools.scaled
    for k, (t, rate) in enumerate(zip(tr.times_s, tr.rate_rps)):
        ready = {n: int(tr.ready[n][k]) for n in scaled}
        for p in pools.loads:
            growing = (
                p.node in scaled
                and p.pool == p.node
                and tr.replicas[p.node][k] < scenario.nodes[p.node].autoscale.max
            )
            servers = pools.servers(p, ready)
            if not growing and p.offered * rate >= servers:
                kind = scenario.nodes[p.node].kind
                what = "a consumer and its partitions" if kind == "kafka" else f"{servers:g} cores"
                why = "its pods are at the HPA's max" if p.node in scaled else "it does not scale"
                return Break(
                    t / 60.0,
                    p.node,
                    float(rate),
                    float(rate / base),
                    f"saturated: the load reaches 100% of {what} and {why}",
                )
    return None


def peak(
    scenario: Scenario,
    event: PeakEvent,
    target: float = DEFAULT_TARGET,
    seed: int | None = None,
    requests: int = PEAK_REQUESTS,
    progress: Callable[[float], None] | None = None,
) -> PeakResult:
    """Run the event against the scenario at its planning load (`workload.rate_rps`).

    A closed workload (users) is planned at what its users send today (their MVA throughput), and the
    event is that rate times `factor` offered as an open load: users who wait for their answers send
    less once the system slows, so this is the pessimistic reading of "F times the users", said so."""
    report = progress or (lambda _f: None)
    closed_note = None
    if scenario.workload.closed:
        from model.planning.load import planning_rate

        users, rate = scenario.workload.users, planning_rate(scenario)
        workload = scenario.workload.model_copy(update={"rate_rps": rate, "users": None, "think_ms": None})
        scenario = scenario.model_copy(update={"workload": workload})
        closed_note = (
            f"closed workload: {users:,} users send {rate:,.1f} req/s today; the event offers {event.factor:g}x "
            "that as an open load (users who wait for slow answers would send less: a pessimistic reading)"
        )
    base = scenario.workload.rate_rps
    tail = tail_s(scenario)
    onset_end = onset_end_s(scenario, event)
    sim_from, sim_to = _sim_window(scenario, event, base, onset_end, requests)
    tr = track(scenario, event, base, snapshot_at=(sim_from,))
    pools = Pools(scenario)
    scaled = autoscaled_nodes(scenario)
    report(0.05)

    sim_minutes, sim_requests = simulate_minutes(
        scenario, event, base, tr, sim_from, sim_to, seed, pools, report
    )
    simulated = {round(m.minute, 6) for m in sim_minutes}
    theory = theory_minutes(scenario, event, base, tr, pools, skip=simulated, onset_end=onset_end, tail=tail)
    series = sorted(sim_minutes + theory, key=lambda m: m.minute)
    report(0.9)

    saturated = _fluid_break(tr, pools, scenario, base)
    candidates = [saturated] if saturated is not None else []
    checked: list[str] = []
    if requests > 0:  # no budget: queueing theory alone (exact for M/M/c), nothing simulated
        series, checked = confirm_misses(
            scenario, series, math.floor(saturated.minute) if saturated else math.inf, seed, PLANNING_REQUESTS
        )
    missed = next((m for m in series if m.violations), None)
    if missed is not None:
        node = kafka_dropping(scenario, missed) or missed.busiest
        candidates.append(
            Break(missed.minute, node, missed.rate_rps, missed.rate_rps / base, "; ".join(missed.violations))
        )
    # the saturation's own sync when it falls in the first failing minute: its time and load are exact
    first = min(candidates, key=lambda b: math.floor(b.minute), default=None)
    before = {n: int(tr.start_replicas[n]) for n in scaled}
    most = {n: int(tr.replicas[n].max()) for n in scaled}
    scaling = {
        n: {"before": before[n], "peak": most[n], "max": scenario.nodes[n].autoscale.max} for n in scaled
    }
    if first is not None:
        verdict = "breaks"
    elif any(most[n] > before[n] for n in scaled):
        verdict = "holds_with_autoscaling"
    else:
        verdict = "holds"
    lagging = tuple(
        n
        for n in scaled
        if first is not None
        and first.node == n
        and tr.at(n, first.minute * 60, ready=False) < scenario.nodes[n].autoscale.max
    )
    normal = additions(scenario, event.factor * base, target, zone_loss=False, lagging=lagging)
    zone = additions(scenario, event.factor * base, target, zone_loss=True, lagging=lagging)
    cost = _cost(scenario, event, base, tr, normal, zone)
    report(1.0)
    notes = [
        "minutes from the start of the ramp; the planning load is workload.rate_rps "
        f"({base:,.0f} req/s), the plateau {event.factor:g}x that",
        "extra cost: the event's span against normal days (the HPA's business-day profile at the "
        "planning load), priced like the monthly bill",
        "zone loss: a third of every node's units gone; autoscaled nodes are assumed back to their "
        "HPA's replicas in the surviving zones after its start-up delay",
    ]
    notes += checked
    if closed_note:
        notes.append(closed_note)
    if tr.held_from_s is not None:
        notes.append(
            f"the plateau from minute {tr.held_from_s / 60:,.0f} to {tr.held_to_s / 60:,.0f} is extrapolated: "
            "the load is constant there, so the settled state is held rather than simulated"
        )
    if sim_to <= sim_from:
        notes.append("nothing simulated (no budget): every minute is queueing theory at that minute's load")
    elif sim_from > -LEAD_S or sim_to < onset_end:
        notes.append(
            f"simulated minutes {sim_from / 60:,.0f} to {sim_to / 60:,.0f} (a budget of {requests:,} "
            "arrivals); the other minutes are queueing theory at each minute's load"
        )
    return PeakResult(
        scenario.name,
        event,
        base,
        verdict,
        first,
        pools.saturates(scenario),
        scaling,
        normal,
        zone,
        cost,
        series,
        {
            "from_minute": sim_from / 60.0,
            "to_minute": sim_to / 60.0,
            "requests": sim_requests,
            "seed": seed,
        },
        None if tr.held_from_s is None else (tr.held_from_s / 60.0, tr.held_to_s / 60.0),
        notes,
    )


def _event_usd(scenario: Scenario, tr: Track, start_s: float, end_s: float) -> float:
    hours = (end_s - start_s) / 3600.0
    mean = {n: tr.unit_hours(n, start_s, end_s) / hours for n in tr.replicas}
    return monthly_cost(scenario, scenario.workload.rate_rps, mean).monthly * hours / HOURS_PER_MONTH


def _cost(scenario, event, base, tr, normal: Additions, zone: Additions) -> EventCost:
    """The event's span priced like the monthly bill (`monthly_cost` on the mean units), in dollars."""
    end = event.end_s + tail_s(scenario)
    hours = end / 3600.0
    day = simulate_day(scenario, peak_rps=base).mean_replicas if autoscaled_nodes(scenario) else None
    normal_usd = monthly_cost(scenario, base, day).monthly * hours / HOURS_PER_MONTH
    event_usd = _event_usd(scenario, tr, 0.0, end)
    priced = []
    for extra in (normal, zone):
        grown = apply(scenario, extra.changes) if extra.changes else scenario
        priced.append(_event_usd(grown, track(grown, event, base), 0.0, end) if extra.changes else event_usd)
    return EventCost("USD", hours, event_usd, normal_usd, priced[0], priced[1])
