"""What a run returns, the same for the simulator and the analytic solver.

Results are plain data; `to_json` gives exactly the contract's `simulate --json` shape, so
the CLI, the app and the tests read one structure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.scenario.schema import SLO


@dataclass(frozen=True)
class Latency:
    mean: float
    p50: float
    p95: float
    p99: float

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class NodeStats:
    arrival_rps: float
    utilization: float  # mean fraction of the node's servers busy, 0..1
    servers: int
    mean_wait_ms: float  # time queued before service (and for slots, where limited)
    host: str | None = None  # the host whose cores it shares: servers and utilization are the host's

    def to_json(self) -> dict[str, Any]:
        out = {
            "arrival_rps": round(self.arrival_rps, 4),
            "utilization": round(self.utilization, 4),
            "servers": self.servers,
            "mean_wait_ms": round(self.mean_wait_ms, 3),
        }
        if self.host is not None:
            out["host"] = self.host
        return out


def hosts_json(nodes: dict[str, NodeStats]) -> dict[str, Any]:
    """Each host once: its cores, how busy they are, and the nodes placed on it."""
    out: dict[str, Any] = {}
    for name, s in nodes.items():
        if s.host is not None:
            entry = out.setdefault(
                s.host, {"servers": s.servers, "utilization": round(s.utilization, 4), "nodes": []}
            )
            entry["nodes"].append(name)
    return out


@dataclass(frozen=True)
class KafkaStats:
    lag_p50_ms: float
    lag_p99_ms: float
    drop_pct: float

    def to_json(self) -> dict[str, Any]:
        return {
            "lag_ms": {"p50": round(self.lag_p50_ms, 3), "p99": round(self.lag_p99_ms, 3)},
            "drop_pct": round(self.drop_pct, 4),
        }


@dataclass(frozen=True)
class SloCheck:
    met: bool
    violations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"met": self.met, "violations": list(self.violations)}


def check_slo(slo: SLO, latency: Latency, error_pct: float, saturated: list[str] = ()) -> SloCheck:
    """Each SLO target the run misses, as a sentence with both numbers and units."""
    violations = []
    for key, value in (("p50", latency.p50), ("p95", latency.p95), ("p99", latency.p99)):
        target = getattr(slo, f"{key}_ms")
        if target is not None and not value <= target:
            if math.isfinite(value):
                violations.append(f"{key} {value:,.1f} ms > {target:,.1f} ms")
            else:
                violations.append(f"{key} grows without bound (target {target:,.1f} ms)")
    if slo.max_error_pct is not None and not error_pct <= slo.max_error_pct:
        violations.append(f"errors {error_pct:.3f}% > {slo.max_error_pct:.3f}%")
    if saturated and not violations and any(v is not None for v in slo.model_dump().values()):
        violations.append("saturated: " + ", ".join(saturated) + " cannot keep up with the load")
    return SloCheck(not violations, violations)


@dataclass(frozen=True)
class Results:
    """What a solve returns, whichever solver: latency percentiles, per-node statistics, saturation, SLO check, cost.

    The contract's simulate JSON is `to_json()`; the CLI, app and planner read these fields only."""

    scenario: str
    method: str  # "sim" | "analytic"
    rate_rps: float
    latency_ms: Latency
    throughput_rps: float
    error_pct: float
    nodes: dict[str, NodeStats]
    kafka: dict[str, KafkaStats]
    slo: SloCheck
    saturated: list[str]
    cost: Any = None  # model.pricing.cost.CostBreakdown
    latency_ci95_ms: dict[str, tuple[float, float]] | None = None
    requests: int = 0  # completed requests measured (sim)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the two solvers disagree (model.queueing.crosscheck)
    load_test: Any = None  # a timed run's counts (model.queueing.sim.simulation.LoadTest)
    closed: Any = None  # a closed workload's users, think time and bounds (model.queueing.closed_network)
    retries: Any = None  # client retries' load and outcome (model.queueing.retry_load.RetryStats)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "method": self.method,
            "rate_rps": float(self.rate_rps),
            "latency_ms": self.latency_ms.to_json(),
        }
        if self.latency_ci95_ms is not None:
            out["latency_ci95_ms"] = {
                k: [round(lo, 3), round(hi, 3)] for k, (lo, hi) in self.latency_ci95_ms.items()
            }
        out.update(
            {
                "throughput_rps": round(self.throughput_rps, 4),
                "error_pct": round(self.error_pct, 4),
                "nodes": {n: s.to_json() for n, s in self.nodes.items()},
            }
        )
        hosts = hosts_json(self.nodes)
        if hosts:
            out["hosts"] = hosts
        out.update(
            {
                "kafka": {n: s.to_json() for n, s in self.kafka.items()},
                "cost": self.cost.to_json() if self.cost is not None else None,
                "slo": self.slo.to_json(),
                "saturated": list(self.saturated),
            }
        )
        if self.load_test is not None:
            out["load_test"] = self.load_test.to_json()
        if self.closed is not None:
            out["closed"] = self.closed.to_json()
        if self.retries is not None:
            out["retries"] = self.retries.to_json()
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def bottleneck(results: Results) -> str:
    """The node that gives out first: the first saturated node (graph order), else the busiest.

    The one rule for every page and command that names a bottleneck (the analytic Analysis, the
    forecast's runway, the app's overview)."""
    if results.saturated:
        return results.saturated[0]
    return max(results.nodes, key=lambda name: results.nodes[name].utilization)
