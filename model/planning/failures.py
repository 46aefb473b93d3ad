"""Failure what-ifs: what latency, errors and Kafka lag do, and whether the SLO still holds.

- Losing an availability zone takes ceil(share x units) of every node's replicas, cache
  nodes, database instances, Kafka consumers and brokers (a third by default: the worst
  zone when units are spread evenly over three), keeping at least one (a database's
  primary fails over; the pause that costs is `db_failover`). It is the state right after
  the loss: an HPA would add pods back after its start-up delay.
- Losing a read replica spreads the reads over the instances left.
- A cache flush sets the hit ratio to 0 and lets it climb back to normal over `warm_s`,
  solved as a sequence of steady states (each step is assumed long enough to settle).
- A database failover stops the primary for `pause_s`: simulated over time, requests
  queue (or time out) and the backlog drains afterwards; the SLO is judged over `window_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.planning.report import ms, table
from model.queueing.run_size import PLANNING_REQUESTS
from model.queueing.results import Results, SloCheck, check_slo, Latency
from model.queueing.offered_load import offered_rps
from model.queueing.evaluate import evaluate
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode
from model.queueing.sim.timeline import TimelineSimulation

ZONES = 3


@dataclass(frozen=True)
class WhatIf:
    """One failure's outcome (steps: several states in time order, e.g. a cache warming up)."""

    name: str
    steps: list[tuple[str, Results]]
    slo: SloCheck
    notes: list[str] = field(default_factory=list)

    @property
    def worst(self) -> Results:
        return max((r for _, r in self.steps), key=lambda r: (r.latency_ms.p99, r.error_pct))

    def to_json(self) -> dict[str, Any]:
        return {
            "what_if": self.name,
            "slo": self.slo.to_json(),
            "notes": list(self.notes),
            "steps": [
                {
                    "label": label,
                    "latency_ms": r.latency_ms.to_json(),
                    "error_pct": round(r.error_pct, 4),
                    "kafka_lag_p99_ms": {n: k.lag_p99_ms for n, k in r.kafka.items()},
                    "saturated": list(r.saturated),
                }
                for label, r in self.steps
            ],
        }

    def to_text(self) -> str:
        rows = [
            [
                label,
                ms(r.latency_ms.p99),
                f"{r.error_pct:.3f}%",
                ", ".join(f"{n} {ms(k.lag_p99_ms)}" for n, k in r.kafka.items()) or "-",
                ", ".join(r.saturated) or "-",
            ]
            for label, r in self.steps
        ]
        verdict = "SLO holds" if self.slo.met else "SLO MISSED: " + "; ".join(self.slo.violations)
        return "\n".join(
            [f"{self.name}: {verdict}", table(["state", "p99", "errors", "kafka lag p99", "saturated"], rows)]
            + [f"Note: {n}" for n in self.notes]
        )


def _require_node(scenario: Scenario, name: str | None) -> None:
    if name is not None and name not in scenario.nodes:
        raise ValueError(f"no node {name!r} in the scenario (nodes: {', '.join(scenario.nodes)})")


def _units_lost(units: int, share: float) -> int:
    return min(math.ceil(units * share - 1e-9), units - 1)


def zone_loss_scenario(scenario: Scenario, share: float = 1.0 / ZONES) -> Scenario:
    """The scenario with `share` of every node's units gone (at least one unit left)."""
    nodes = {}
    for name, node in scenario.nodes.items():
        if isinstance(node, ServiceNode):
            kept = node.replicas - _units_lost(node.replicas, share)
            update: dict[str, Any] = {"replicas": kept}
            if node.autoscale and node.autoscale.min > kept:
                update["autoscale"] = node.autoscale.model_copy(update={"min": kept})
        elif isinstance(node, CacheNode):
            update = {"nodes": node.nodes - _units_lost(node.nodes, share)}
        elif isinstance(node, DatabaseNode):
            update = {"read_replicas": node.read_replicas - _units_lost(node.instances, share)}
        elif isinstance(node, KafkaNode):
            update = {
                "consumers": node.consumers - _units_lost(node.consumers, share),
                "brokers": node.brokers - _units_lost(node.brokers, share),
            }
        nodes[name] = node.model_copy(update=update)
    return scenario.model_copy(update={"nodes": nodes})


def lose_zone(
    scenario: Scenario,
    share: float = 1.0 / ZONES,
    rate_rps: float | None = None,
    method: str = "sim",
    seed: int | None = None,
    requests: int = PLANNING_REQUESTS,
) -> WhatIf:
    if not 0 < share < 1:
        raise ValueError("share must be between 0 and 1")
    r = evaluate(zone_loss_scenario(scenario, share), method, rate_rps=rate_rps, seed=seed, requests=requests)
    return WhatIf(
        f"lose {share:.0%} of every node (one zone)",
        [("after the loss", r)],
        r.slo,
        ["the state right after the loss, before any autoscaler replaces pods"],
    )


def lose_read_replica(
    scenario: Scenario,
    database: str | None = None,
    rate_rps: float | None = None,
    method: str = "sim",
    seed: int | None = None,
    requests: int = PLANNING_REQUESTS,
) -> WhatIf:
    _require_node(scenario, database)
    names = (
        [database]
        if database
        else [n for n, x in scenario.nodes.items() if isinstance(x, DatabaseNode) and x.read_replicas > 0]
    )
    if not names:
        raise ValueError("no database with a read replica to lose")
    nodes = dict(scenario.nodes)
    for n in names:
        if not isinstance(nodes[n], DatabaseNode) or nodes[n].read_replicas < 1:
            raise ValueError(f"{n} is not a database with a read replica")
        nodes[n] = nodes[n].model_copy(update={"read_replicas": nodes[n].read_replicas - 1})
    r = evaluate(
        scenario.model_copy(update={"nodes": nodes}), method, rate_rps=rate_rps, seed=seed, requests=requests
    )
    return WhatIf(f"lose a read replica of {', '.join(names)}", [("one replica fewer", r)], r.slo)


def cache_flush(
    scenario: Scenario,
    cache: str | None = None,
    steps: int = 5,
    rate_rps: float | None = None,
    method: str = "analytic",
    seed: int | None = None,
    requests: int = PLANNING_REQUESTS,
) -> WhatIf:
    """Hit ratio 0, then steps of (k / steps) x the normal hit ratio; the SLO holds only if it holds at every step."""
    _require_node(scenario, cache)
    names = [cache] if cache else [n for n, x in scenario.nodes.items() if isinstance(x, CacheNode)]
    if not names or not all(isinstance(scenario.nodes[n], CacheNode) for n in names):
        raise ValueError("no cache node to flush")
    out = []
    for k in range(steps + 1):
        nodes = dict(scenario.nodes)
        for n in names:
            nodes[n] = nodes[n].model_copy(update={"hit_ratio": scenario.nodes[n].hit_ratio * k / steps})
        r = evaluate(
            scenario.model_copy(update={"nodes": nodes}),
            method,
            rate_rps=rate_rps,
            seed=seed,
            requests=requests,
        )
        out.append((f"hit ratio {nodes[names[0]].hit_ratio:.2f}", r))
    failing = [(label, r) for label, r in out if not r.slo.met]
    slo = SloCheck(not failing, [f"{label}: {v}" for label, r in failing for v in r.slo.violations])
    return WhatIf(f"flush {', '.join(names)}", out, slo, ["each step solved as a steady state"])


def db_failover(
    scenario: Scenario,
    database: str | None = None,
    pause_s: float = 30.0,
    window_s: float = 300.0,
    rate_rps: float | None = None,
    seed: int | None = None,
) -> WhatIf:
    """Simulate `window_s` seconds with the primary paused for `pause_s` starting at a third of the window."""
    _require_node(scenario, database)
    name = database or next((n for n, x in scenario.nodes.items() if isinstance(x, DatabaseNode)), None)
    if name is None or not isinstance(scenario.nodes[name], DatabaseNode):
        raise ValueError("no database to fail over")
    rate = offered_rps(scenario) if rate_rps is None else rate_rps
    start_s = window_s / 3.0
    sim = TimelineSimulation(scenario, [(0.0, rate)], window_s, seed)
    saved: dict[str, int] = {}
    sim.at(start_s, lambda s: saved.update(servers=s.pause_pool(name)))
    sim.at(start_s + pause_s, lambda s: s.resume_pool(name, saved["servers"]))
    r = sim.run()
    q, errors = sim.latency_between(0.0, window_s)
    latency = Latency(r.latency_ms.mean, q[50], q[95], q[99])
    slo = check_slo(scenario.slo, latency, errors)
    import dataclasses

    whole = dataclasses.replace(r, latency_ms=latency, error_pct=errors, slo=slo)
    during_q, during_err = sim.latency_between(start_s, start_s + pause_s + 30.0)
    during = dataclasses.replace(
        r, latency_ms=Latency(math.nan, during_q[50], during_q[95], during_q[99]), error_pct=during_err
    )
    return WhatIf(
        f"{name} primary pauses {pause_s:g} s (failover)",
        [("during the pause and 30 s after", during), (f"whole {window_s:g} s window", whole)],
        slo,
        [f"SLO judged over the {window_s:g} s window around the pause"],
    )
