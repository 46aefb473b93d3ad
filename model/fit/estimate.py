"""A fitted value and where it came from: what the fit keeps per node, and the one way a value is set.

Every value the fit writes is fitted (from the metrics, with its interval), given (in the fit
file, kept and compared with what the metrics say) or assumed (the metrics cannot tell, and the
report says so). `set_fitted`, `assume` and `check_given` record them, so the written scenario
can say next to every number how it was obtained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.fit.demand import DemandFit
from model.fit.graph import Ratio
from model.fit.scaling import ScalingFit
from model.fit.errors import FitError

# Used only when the metrics cannot tell and the fit file does not say; each one is reported.
# A fitted time outside these is a unit mix-up or a near-empty series, not a measurement:
# no request is served in under a microsecond of CPU, and none takes a day.
MIN_FITTED_MS, MAX_FITTED_MS = 1e-3, 86_400_000.0
ASSUMED = {"service_ms": 10.0, "hit_ratio": 0.8, "read_ms": 5.0, "consume_ms": 10.0}
DISAGREE = 0.2  # a given value this far (relative) from what the metrics say is reported
# The unit of each node value a fit reports (the YAML's comments, the report's lines): milliseconds.
VALUE_UNITS = {
    "miss_ms": "ms",
    "network_ms": "ms",
    "service_ms": "ms",
    "hit_ms": "ms",
    "read_ms": "ms",
    "write_ms": "ms",
    "consume_ms": "ms",
    "produce_ms": "ms",
    "timeout_ms": "ms",
}


@dataclass(frozen=True)
class Estimate:
    """One scenario value and where it came from."""

    value: Any
    how: str  # fitted | given | assumed
    basis: str = ""
    ci95: tuple[float, float] | None = None
    r2: float | None = None

    def to_json(self) -> dict:
        out: dict = {"value": _round(self.value), "how": self.how, "basis": self.basis}
        if self.ci95 is not None:
            out["ci95"] = [_round(v) for v in self.ci95]
        if self.r2 is not None:
            out["r2"] = round(self.r2, 4)
        return out


@dataclass
class NodeFit:
    name: str
    kind: str
    values: dict[str, Estimate] = field(default_factory=dict)
    demand: DemandFit | None = None
    capacity_cores: float = 1.0
    visits: float = 0.0  # per entry request, from the fitted graph
    demand_ms: float | None = None  # CPU-ms per entry request
    demand_ms_ci95: tuple[float, float] | None = None
    demand_basis: str = "traffic"  # or "reads and writes" when a database's split is fitted
    background: float | None = None  # busy fraction with no requests, from the regression used
    scaling: ScalingFit | None = None  # capacity against replica count (USL), when `replicas` is a metric

    def to_json(self) -> dict:
        out: dict = {
            "kind": self.kind,
            "visits_per_request": round(self.visits, 6),
            "values": {k: v.to_json() for k, v in self.values.items()},
        }
        if self.demand is not None:
            d = self.demand
            out["utilization_law"] = {
                "demand_ms_per_request": _round(self.demand_ms),
                "demand_ms_ci95": [_round(v) for v in self.demand_ms_ci95 or ()],
                "demand_from": self.demand_basis,
                "cores": self.capacity_cores,
                "background_cpu_pct": round(
                    100 * (self.background if self.background is not None else d.background), 3
                ),
                "background_ci95_pct": [round(100 * v, 3) for v in d.background_ci95],
                "r2": round(d.r2, 4),
                "r2_with_outliers": round(d.r2_all, 4),
                "points": d.points,
                "outlier_pct": round(d.outlier_pct, 2),
                "off_line": list(d.off_line),
                "nonlinear": d.nonlinear,
            }
            if d.at_count is not None:
                out["utilization_law"].update(
                    {"fitted_per_replica_count": d.counts, "demand_at_replicas": d.at_count}
                )
        if self.scaling is not None:
            out["scaling"] = self.scaling.to_json()
        return out


@dataclass
class ParamFit:
    nodes: dict[str, NodeFit]
    data: dict[str, dict]  # the scenario's nodes, ready for YAML
    call_estimates: dict[tuple[str, int], Estimate]
    warnings: list[str]
    not_fitted: list[str]
    latency: Any = None  # model.fit.latency.LatencyFit, once the scenario is built
    workers: dict = field(default_factory=dict)  # node -> model.fit.workers.WorkerFit
    hosts: dict = field(default_factory=dict)  # host -> model.fit.hosts.HostFit


def set_fitted(
    nf: NodeFit,
    values: dict,
    key: str,
    value: float,
    r: Ratio,
    warnings: list[str],
    digits: int = 4,
    r2: float | None = None,
) -> None:
    """Record a fitted value, unless the fit file gives it: then keep the given one and compare."""
    if key in values:
        check_given(nf, key, values[key], value, warnings)
        return
    if key.endswith("_ms") and not MIN_FITTED_MS <= value <= MAX_FITTED_MS:
        raise FitError(
            f"nodes.{nf.name}.{key}: the metrics give {value:.3g} ms, outside the {MIN_FITTED_MS:g} ms "
            f"to {MAX_FITTED_MS:,.0f} ms a real system takes; check the metrics' units "
            f"(CPU as a fraction or percent, rates per second) or give {key} in the fit file"
        )
    values[key] = sig(value, digits)
    nf.values[key] = Estimate(values[key], "fitted", r.basis, r.ci95, r2)


def check_given(nf: NodeFit, key: str, given: float, measured: float, warnings: list[str]) -> None:
    if given and abs(measured - given) > DISAGREE * abs(given):
        warnings.append(
            f"nodes.{nf.name}.{key}: given {given:g}, the metrics say {measured:.3g}; the given value was kept"
        )


def assume(nf: NodeFit, values: dict, key: str, why: str, not_fitted: list[str], warnings: list[str]) -> None:
    values[key] = ASSUMED[key]
    nf.values[key] = Estimate(ASSUMED[key], "assumed", why)
    not_fitted.append(f"nodes.{nf.name}.{key}: {why}; assumed {ASSUMED[key]:g} (set it in the fit file)")


def sig(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def _round(value: Any) -> Any:
    return float(f"{value:.6g}") if isinstance(value, float) else value
