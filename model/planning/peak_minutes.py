"""A peak event minute by minute: the simulator with the HPA acting, or queueing theory at each minute's load.

`simulate_minutes` runs `sim.timeline.TimelineSimulation` with each autoscaled node's `Hpa`
inside it (`autoscale.attach_hpas`, started from the controllers' state at that time) and reads
each minute's finished requests (p50/p95/p99, errors) and Kafka messages (produced, dropped).
`theory_minutes` solves each other minute by `evaluate` (analytic) at its mean load with the
replicas ready then (the fewest in the minute). `Pools` is the offered-load law per pool, with a
node's own cores following its ready pods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.planning.autoscale import attach_hpas, autoscaled_nodes, value_at
from model.planning.peak_event import LEAD_S
from model.queueing.evaluate import evaluate
from model.queueing.offered_load import offered_load
from model.queueing.results import Latency, check_slo
from model.queueing.sim.timeline import TimelineSimulation
from model.queueing.topology import build_stations, cores_per_replica
from model.scenario.schema import Scenario

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


def with_replicas(scenario: Scenario, replicas: dict[str, int]) -> Scenario:
    nodes = dict(scenario.nodes)
    for name, count in replicas.items():
        nodes[name] = nodes[name].model_copy(update={"replicas": max(int(count), 1)})
    return scenario.model_copy(update={"nodes": nodes})


class Pools:
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


def kafka_dropping(scenario: Scenario, minute: Minute) -> str | None:
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


def simulate_minutes(scenario, event, base, tr, sim_from, sim_to, seed, pools, report):
    """The simulator with the HPAs acting, from `sim_from` to `sim_to` (seconds from the ramp's start)."""
    duration = sim_to - sim_from
    if duration < 60.0:
        return [], 0
    hpas = tr.snapshots[sim_from]
    start = with_replicas(scenario, {n: h.replicas for n, h in hpas.items()})
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
    while len(counts) <= duration // 60:  # the run stops at its end, before a tick there
        tick(sim)
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
        replicas = {n: value_at(serving[n], 60.0 * (k + 1) - 1e-6) for n in serving}
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


def theory_minutes(scenario, event, base, tr, pools, skip, onset_end, tail) -> list[Minute]:
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
            memo[key] = evaluate(with_replicas(scenario, replicas), "analytic", rate_rps=rate)
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


def _dominates(held: Minute, other: Minute) -> bool:
    """A minute that held at a load and replicas answers for any minute with no more load and no fewer replicas."""
    return other.rate_rps <= held.rate_rps + 1e-9 and all(
        other.replicas.get(n, 0) >= r for n, r in held.replicas.items()
    )


def confirm_misses(
    scenario: Scenario,
    minutes: list[Minute],
    before_minute: float,
    seed: int | None,
    requests: int,
    limit: int = 6,
) -> tuple[list[Minute], list[str]]:
    """Theory minutes that miss the SLO, checked by a steady-state simulation at their load and replicas.

    The analytic solver is the quick answer and is conservative in places (worker slots held
    through calls): a miss it alone reports is simulated before it becomes the verdict. The
    hardest miss (most load, fewest replicas) goes first; a minute whose simulation holds
    answers for every miss with no more load and no fewer replicas. Misses from `before_minute`
    on (where a pool is saturated by the offered-load law) need no check. At most `limit` runs.
    """
    misses = [m for m in minutes if m.source == "theory" and m.violations and m.minute < before_minute]
    if not misses:
        return minutes, []
    hardest = max(misses, key=lambda m: (m.rate_rps, -sum(m.replicas.values())))
    order = [hardest] + [m for m in misses if m is not hardest]
    replaced: dict[int, Minute] = {}
    held: list[Minute] = []
    runs = 0
    for miss in order:
        if any(
            _dominates(h, miss) for h in held
        ):  # held by a harder minute's simulation: no number of its own
            replaced[id(miss)] = Minute(
                miss.minute,
                miss.rate_rps,
                miss.replicas,
                miss.busiest,
                miss.utilization,
                math.nan,
                0.0,
                0.0,
                "simulation",
                [],
            )
            continue
        if runs >= limit:
            break
        runs += 1
        r = evaluate(
            with_replicas(scenario, miss.replicas),
            "sim",
            rate_rps=miss.rate_rps,
            seed=seed,
            requests=requests,
        )
        drop = max((k.drop_pct for k in r.kafka.values()), default=0.0)
        violations = list(r.slo.violations)
        if drop > _drop_limit(scenario):
            violations.append(f"Kafka drops {drop:.3f}% of messages")
        if violations:
            if miss is hardest:
                continue  # the hardest minute misses: the earlier misses are checked one by one
            break  # the simulation agrees: this is the first miss
        checked = Minute(
            miss.minute,
            miss.rate_rps,
            miss.replicas,
            miss.busiest,
            miss.utilization,
            r.latency_ms.p99,
            r.error_pct,
            drop,
            "simulation",
            [],
        )
        held.append(checked)
        replaced[id(miss)] = checked
    notes = []
    if replaced:
        notes.append(
            f"queueing theory missed the SLO at {len(replaced)} minute(s) where a simulation at the same load "
            f"and replicas ({runs} run(s) of {requests:,} requests) met it: the simulation's answer is used"
        )
    return [replaced.get(id(m), m) for m in minutes], notes
