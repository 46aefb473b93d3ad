"""A peak event as a what-if: "3x the planning load for a day: do we hold, what breaks, what to add, what it costs".

The event (`peak_event.PeakEvent`: ramp, plateau, decay) is answered three ways at once:

- the HPA's replicas every sync through the event (`peak_event.track`, the fluid controller
  `simulate_day` uses), which gives the bill and, by the offered-load law, the moment a pool
  that cannot grow (a fixed node, or an autoscaled one at its `max`) reaches 100%: exact, so
  the verdict flips where utilization reaches 1;
- the simulator with the HPA acting inside it (`autoscale.attach_hpas` on
  `sim.timeline.TimelineSimulation`) over the ramp and the start of the plateau, up to a request
  budget (`run_size.PEAK_REQUESTS`; a longer stretch starts later in the ramp from the
  controllers' state there): p99, errors and Kafka drops minute by minute, the scale-up lag
  included;
- queueing theory minute by minute (`evaluate`, analytic) wherever the simulator did not run.

The verdict is the first minute that misses the SLO or saturates: "breaks at minute M" (which
node, at what load), else "holds with autoscaling" when an HPA added replicas, else "holds".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from model.planning.autoscale import attach_hpas, autoscaled_nodes, simulate_day
from model.planning.peak_additions import Additions, additions, apply
from model.planning.peak_event import LEAD_S, PeakEvent, Track, onset_end_s, tail_s, track
from model.pricing.cost import HOURS_PER_MONTH, monthly_cost
from model.queueing.evaluate import evaluate
from model.queueing.offered_load import offered_load
from model.queueing.results import Latency, check_slo
from model.queueing.run_size import PEAK_REQUESTS
from model.queueing.sim.timeline import TimelineSimulation
from model.queueing.topology import build_stations, cores_per_replica
from model.scenario.schema import Scenario

DEFAULT_TARGET = 0.75  # the utilization the additions keep every node under
THEORY_POINTS = 240  # at most this many minutes are solved by theory (a long ramp is sampled)


@dataclass(frozen=True)
class Minute:
    """One minute of the event: the load, the replicas serving, the busiest pool, latency and errors."""

    minute: float  # its start, minutes from the ramp's start
    rate_rps: float
    replicas: dict[str, int]  # autoscaled nodes' ready replicas at the minute's end
    busiest: str
    utilization: float  # the busiest pool's offered load over its servers (above 1: overloaded)
    p99_ms: float
    error_pct: float
    kafka_drop_pct: float
    source: str  # "simulation" or "theory"
    violations: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "minute": round(self.minute, 2),
            "rate_rps": round(self.rate_rps, 3),
            "replicas": dict(self.replicas),
            "busiest": self.busiest,
            "utilization": round(self.utilization, 4),
            "p99_ms": round(self.p99_ms, 3) if math.isfinite(self.p99_ms) else None,
            "error_pct": round(self.error_pct, 4),
            "kafka_drop_pct": round(self.kafka_drop_pct, 4),
            "source": self.source,
            "slo_met": not self.violations,
        }


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
        return (
            f"Breaks at minute {math.floor(b.minute)}: {b.node} gives out at {b.rate_rps:,.0f} req/s "
            f"({b.factor:.2f}x) on the way to {what} ({b.reason})."
        )
    if result.verdict == "holds_with_autoscaling":
        grown = ", ".join(f"{n} {s['before']} to {s['peak']} replicas" for n, s in result.scaling.items())
        return f"Holds with autoscaling: {what}, the HPA scales {grown}."
    return f"Holds: {what} needs no change and no scaling."


def _with_replicas(scenario: Scenario, replicas: dict[str, int]) -> Scenario:
    nodes = dict(scenario.nodes)
    for name, count in replicas.items():
        nodes[name] = nodes[name].model_copy(update={"replicas": max(int(count), 1)})
    return scenario.model_copy(update={"nodes": nodes})


class _Pools:
    """Every pool's offered load per request/s and how its servers follow the replicas (the offered-load law)."""

    def __init__(self, scenario: Scenario):
        self.loads = offered_load(scenario, build_stations(scenario), 1.0)
        self.scaled = set(autoscaled_nodes(scenario))
        self.cores = {n: cores_per_replica(scenario.nodes[n]) for n in self.scaled}

    def servers(self, pool, replicas: dict[str, int]) -> float:
        if pool.node in self.scaled and pool.pool == pool.node:  # the node's own cores follow its pods
            return max(replicas[pool.node], 0) * self.cores[pool.node]
        return pool.servers

    def busiest(self, rate_rps: float, replicas: dict[str, int]) -> tuple[str, float]:
        best = ("", 0.0)
        for p in self.loads:
            servers = self.servers(p, replicas)
            u = p.offered * rate_rps / servers if servers else math.inf
            if u > best[1]:
                best = (p.node, u)
        return best

    def saturates(self, scenario: Scenario) -> tuple[str, float]:
        """The node whose pool reaches 100% at the lowest entry rate, autoscaled nodes at their max."""
        top = {n: scenario.nodes[n].autoscale.max for n in self.scaled}
        rates = [(p.node, self.servers(p, top) / p.offered) for p in self.loads if p.offered > 0]
        return min(rates, key=lambda r: r[1], default=("", math.inf))


def _budget_start(event: PeakEvent, base: float, end_s: float, requests: int) -> float:
    """The whole minute from which simulating to `end_s` stays within `requests` arrivals (at most the lead)."""
    start = end_s
    total = 0.0
    while start - 60.0 >= -LEAD_S - 1e-9:
        total += 60.0 * event.mean_rate_rps(base, start - 60.0, start)
        if total > requests:
            break
        start -= 60.0
    return start


def _fluid_break(tr: Track, pools: _Pools, scenario: Scenario, base: float) -> Break | None:
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
                why = "its pods are at the HPA's max" if p.node in scaled else "its capacity is fixed"
                return Break(
                    t / 60.0,
                    p.node,
                    float(rate),
                    float(rate / base),
                    f"{p.node} saturates: its offered load reaches its {servers:g} servers and {why}",
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
    """Run the event against the scenario at its planning load (`workload.rate_rps`)."""
    report = progress or (lambda _f: None)
    base = scenario.workload.rate_rps
    tail = tail_s(scenario)
    onset_end = onset_end_s(scenario, event)
    sim_from = _budget_start(event, base, onset_end, requests)
    tr = track(scenario, event, base, snapshot_at=(sim_from,))
    pools = _Pools(scenario)
    scaled = autoscaled_nodes(scenario)
    report(0.05)

    sim_minutes, sim_requests = _simulate(scenario, event, base, tr, sim_from, onset_end, seed, pools, report)
    simulated = {round(m.minute, 6) for m in sim_minutes}
    theory = _theory(scenario, event, base, tr, pools, skip=simulated, onset_end=onset_end, tail=tail)
    series = sorted(sim_minutes + theory, key=lambda m: m.minute)
    report(0.9)

    candidates = [b for b in [_fluid_break(tr, pools, scenario, base)] if b is not None]
    missed = next((m for m in series if m.violations), None)
    if missed is not None:
        node = _kafka_dropping(scenario, missed) or missed.busiest
        candidates.append(
            Break(missed.minute, node, missed.rate_rps, missed.rate_rps / base, "; ".join(missed.violations))
        )
    first = min(candidates, key=lambda b: b.minute, default=None)
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
    if tr.held_from_s is not None:
        notes.append(
            f"the plateau from minute {tr.held_from_s / 60:,.0f} to {tr.held_to_s / 60:,.0f} is extrapolated: "
            "the load is constant there, so the settled state is held rather than simulated"
        )
    if sim_from > -LEAD_S:
        notes.append(
            f"simulated from minute {sim_from / 60:,.0f} (a budget of {requests:,} requests); "
            "earlier minutes are queueing theory at each minute's load"
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
            "to_minute": onset_end / 60.0,
            "requests": sim_requests,
            "seed": seed,
        },
        None if tr.held_from_s is None else (tr.held_from_s / 60.0, tr.held_to_s / 60.0),
        notes,
    )


def _kafka_dropping(scenario: Scenario, minute: Minute) -> str | None:
    if minute.kafka_drop_pct <= 0:
        return None
    return next((n for n, node in scenario.nodes.items() if node.kind == "kafka"), None)


def _drop_limit(scenario: Scenario) -> float:
    """Kafka drops allowed, in %: the SLO's error budget (messages lost are errors too), else none."""
    return scenario.slo.max_error_pct if scenario.slo.max_error_pct is not None else 0.0


def _violations(scenario: Scenario, latency: Latency, error_pct: float, drop_pct: float) -> list[str]:
    out = list(check_slo(scenario.slo, latency, error_pct).violations)
    if drop_pct > _drop_limit(scenario):
        out.append(f"Kafka drops {drop_pct:.3f}% of messages")
    return out


def _simulate(scenario, event, base, tr, sim_from, sim_to, seed, pools, report):
    """The simulator with the HPAs acting, from `sim_from` to `sim_to` (seconds from the ramp's start)."""
    duration = sim_to - sim_from
    if duration < 60.0:
        return [], 0
    hpas = tr.snapshots[sim_from]
    start = _with_replicas(scenario, {n: h.replicas for n, h in hpas.items()})
    steps = np.arange(sim_from, sim_to, 15.0)
    schedule = [(t - sim_from, float(event.rate_rps(base, t + 7.5))) for t in steps]
    sim = TimelineSimulation(start, schedule, duration, seed)
    _spec, serving = attach_hpas(sim, hpas)
    kafka = [n for n in sim.kafka_counts]
    counts: list[tuple[int, int]] = [(0, 0)]

    def tick(s: TimelineSimulation) -> None:
        counts.append((sum(s.kafka_counts[n][0] for n in kafka), sum(s.kafka_counts[n][1] for n in kafka)))
        report(0.05 + 0.8 * min(s.env.now / 1000.0 / duration, 1.0))

    sim.every(60.0, tick)
    sim.run()
    network = scenario.workload.network_ms
    out = []
    for k in range(int(duration // 60)):
        q, errors = sim.latency_between(60.0 * k, 60.0 * (k + 1))
        latency = Latency(math.nan, q[50] + network, q[95] + network, q[99] + network)
        produced = counts[k + 1][0] - counts[k][0] if k + 1 < len(counts) else 0
        dropped = counts[k + 1][1] - counts[k][1] if k + 1 < len(counts) else 0
        drop_pct = 100.0 * dropped / produced if produced else 0.0
        t0 = sim_from + 60.0 * k
        rate = event.mean_rate_rps(base, t0, t0 + 60.0)
        replicas = {n: _last(serving[n], 60.0 * (k + 1) - 1e-6) for n in serving}
        busiest, util = pools.busiest(rate, {**replicas})
        out.append(
            Minute(
                t0 / 60.0,
                rate,
                replicas,
                busiest,
                util,
                latency.p99,
                errors,
                drop_pct,
                "simulation",
                _violations(scenario, latency, errors, drop_pct),
            )
        )
    return out, len(sim.finished)


def _last(log: list[tuple[float, int]], t_s: float) -> int:
    return [v for t, v in log if t <= t_s][-1]


def _theory(scenario, event, base, tr, pools, skip, onset_end, tail) -> list[Minute]:
    """Queueing theory at each minute's mean load with the replicas ready then (the fewest in the minute)."""
    spans = [(-LEAD_S, onset_end)]
    if tr.held_from_s is not None:
        spans.append((math.floor(event.plateau_end_s / 60.0) * 60.0 - 60.0, event.end_s + tail))
    else:
        spans = [(-LEAD_S, event.end_s + tail)]
    starts = [
        t for lo, hi in spans for t in np.arange(lo, hi - 59.999, 60.0) if round(t / 60.0, 6) not in skip
    ]
    step = max(1, math.ceil(len(starts) / THEORY_POINTS))
    memo: dict[tuple, Any] = {}
    out = []
    for t0 in starts[::step]:
        t0 = float(t0)
        rate = event.mean_rate_rps(base, t0, t0 + 60.0)
        inside = (tr.times_s >= t0) & (tr.times_s < t0 + 60.0)
        replicas = {n: int(tr.ready[n][inside].min()) if inside.any() else tr.at(n, t0) for n in tr.ready}
        key = (tuple(sorted(replicas.items())), round(rate, 6))
        if key not in memo:
            memo[key] = evaluate(_with_replicas(scenario, replicas), "analytic", rate_rps=rate)
        r = memo[key]
        drop = max((k.drop_pct for k in r.kafka.values()), default=0.0)
        busiest, util = pools.busiest(rate, replicas)
        violations = list(r.slo.violations)
        if drop > _drop_limit(scenario):
            violations.append(f"Kafka drops {drop:.3f}% of messages")
        out.append(
            Minute(
                t0 / 60.0,
                rate,
                replicas,
                busiest,
                util,
                r.latency_ms.p99,
                r.error_pct,
                drop,
                "theory",
                violations,
            )
        )
    return out


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
