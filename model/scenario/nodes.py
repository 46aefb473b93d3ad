"""The scenario's node kinds (service, cache, database, kafka) and what they are made of: the instance
that prices them, the HPA's knobs, their calls, cores, per-worker overhead, a cache's hit-ratio curve,
and the shared host several nodes may run on (contract section 1).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, Field, model_validator

from model.scenario.strict_model import Strict


class Instance(Strict):
    """A priced machine type, or a pod size priced per vCPU and GiB."""

    provider: Literal["aws", "gcp"] | None = None
    type: str | None = None
    vcpu: float | None = Field(default=None, gt=0)
    memory_gib: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _type_or_size(self) -> "Instance":
        if self.type is None and self.vcpu is None:
            raise ValueError("give either type (with provider) or vcpu and memory_gib")
        if self.type is not None and self.vcpu is not None:
            raise ValueError("give either type or vcpu/memory_gib, not both")
        if self.vcpu is not None and self.memory_gib is None:
            raise ValueError("memory_gib is required with vcpu")
        return self


class Autoscale(Strict):
    """The Kubernetes HPA algorithm's knobs."""

    target_cpu_pct: float = Field(default=70, gt=0, le=100)
    min: int = Field(default=1, ge=1)
    max: int = Field(default=10, ge=1)
    startup_s: float = Field(default=30, ge=0)
    scale_down_stabilization_s: float = Field(default=300, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscale":
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Call(Strict):
    to: str
    visits: float = Field(default=1.0, ge=0)
    op: Literal["read", "write"] = "read"
    mode: Literal["sync", "async"] = "sync"


def _check_cpus(cpus: float | None) -> float | None:
    if cpus is not None and cpus > 1 and cpus != int(cpus):
        raise ValueError("cpus above 1 must be a whole number of cores (below 1 it is a CPU limit)")
    return cpus


# Cores per replica; below 1 it is a pod's CPU limit: one core running at that fraction of speed.
Cpus = Annotated[float | None, Field(default=None, gt=0), AfterValidator(_check_cpus)]


class WorkerUsl(Strict):
    """Extension (issue 11): per-worker overhead, the USL over worker counts.

    CPU per request grows with the workers sharing the cores as 1 + sigma (N - 1) + kappa N (N - 1)
    (context switches, lock and cache contention); `service_ms` was measured at `workers`.
    """

    sigma: float = Field(ge=0, le=1)
    kappa: float = Field(default=0.0, ge=0)
    workers: int = Field(ge=1)

    def factor(self, n: int) -> float:
        """CPU per request at n workers over CPU per request at `workers`."""

        def cost(k: int) -> float:
            return 1 + self.sigma * (k - 1) + self.kappa * k * (k - 1)

        return cost(n) / cost(self.workers)


class ServiceNode(Strict):
    """App pods or instances behind a load balancer."""

    kind: Literal["service"]
    replicas: int = Field(default=1, ge=1)
    cpus: Cpus = None
    concurrency: int | None = Field(default=None, ge=1)
    service_ms: float = Field(gt=0)
    service_cv: float = Field(default=1.0, ge=0)
    blocking_calls: bool = True
    timeout_ms: float | None = Field(default=None, gt=0)
    background_cpu_pct: float = Field(default=0.0, ge=0, lt=100)  # CPU busy with work no request causes
    instance: Instance | None = None
    autoscale: Autoscale | None = None
    calls: list[Call] = Field(default_factory=list)
    host: str | None = None  # extension: runs on that host's cores, shared with the other nodes on it
    miss_ms: float = Field(
        default=0.0, ge=0
    )  # extension (issue 11): its own CPU per miss of a cache it calls
    worker_usl: WorkerUsl | None = None  # extension (issue 11): per-worker overhead, used with concurrency


def _check_curve(curve: dict[float, float] | None) -> dict[float, float] | None:
    if curve is None:
        return curve
    if len(curve) < 2:
        raise ValueError("needs at least two sizes (GiB: hit ratio)")
    points = sorted(curve.items())
    for (m0, h0), (m1, h1) in zip(points, points[1:]):
        if h1 < h0:
            raise ValueError(
                f"{m1:g} GiB hits less ({h1:g}) than {m0:g} GiB ({h0:g}); a bigger cache never hits less"
            )
    return curve


# GiB of cache (over all its nodes) -> the hit ratio it would have; never falling as memory grows.
HitRatioCurve = Annotated[
    dict[Annotated[float, Field(gt=0)], Annotated[float, Field(ge=0, le=1)]] | None,
    Field(default=None),
    AfterValidator(_check_curve),
]


class CacheNode(Strict):
    kind: Literal["cache"]
    nodes: int = Field(default=1, ge=1)
    cpus: Cpus = None
    hit_ratio: float = Field(ge=0, le=1)
    hit_ms: float = Field(default=1.0, gt=0)
    miss: str | None = None
    background_cpu_pct: float = Field(default=0.0, ge=0, lt=100)  # CPU busy with work no request causes
    instance: Instance | None = None
    host: str | None = (
        None  # extension (issue 11): runs on that host's cores, shared with the other nodes on it
    )
    # Extension: the hit ratio the cache would have at other sizes (total GiB over its nodes), for
    # example from a miss-ratio curve; with it the recommender sizes the cache's memory too.
    hit_ratio_by_memory_gib: HitRatioCurve = None

    def hit_ratio_at(self, memory_gib: float) -> float | None:
        """The stated curve at `memory_gib`, linear in log memory between its points; the largest
        point's ratio beyond it (no gain is assumed past what was stated); None below the smallest,
        where nothing was stated."""
        points = sorted((self.hit_ratio_by_memory_gib or {}).items())
        if not points or memory_gib < points[0][0] * (1 - 1e-9):
            return None
        for (m0, h0), (m1, h1) in zip(points, points[1:]):
            if memory_gib <= m1:
                w = math.log(memory_gib / m0) / math.log(m1 / m0)
                return h0 + min(max(w, 0.0), 1.0) * (h1 - h0)
        return points[-1][1]


class DatabaseNode(Strict):
    kind: Literal["database"]
    read_replicas: int = Field(default=0, ge=0)
    cpus: Cpus = None
    read_ms: float = Field(gt=0)
    write_ms: float | None = Field(default=None, gt=0)
    service_cv: float = Field(default=1.0, ge=0)
    background_cpu_pct: float = Field(default=0.0, ge=0, lt=100)  # CPU busy with work no request causes
    instance: Instance | None = None
    host: str | None = None  # extension: runs on that host's cores, shared with the other nodes on it

    @property
    def instances(self) -> int:
        return 1 + self.read_replicas

    @property
    def write_service_ms(self) -> float:
        """Writes cost what reads cost unless the file says otherwise."""
        return self.write_ms if self.write_ms is not None else self.read_ms


class KafkaNode(Strict):
    kind: Literal["kafka"]
    brokers: int = Field(default=1, ge=1)
    partitions: int = Field(default=1, ge=1)
    consumers: int = Field(default=1, ge=1)
    produce_ms: float = Field(default=0.0, ge=0)
    consume_ms: float = Field(gt=0)
    max_backlog: int = Field(default=100_000, ge=1)
    instance: Instance | None = None


Node = Annotated[Union[ServiceNode, CacheNode, DatabaseNode, KafkaNode], Field(discriminator="kind")]
NODE_TYPES: dict[str, type[BaseModel]] = {
    "service": ServiceNode,
    "cache": CacheNode,
    "database": DatabaseNode,
    "kafka": KafkaNode,
}
NODE_KINDS = tuple(NODE_TYPES)


class Host(Strict):
    """Extension: a machine (or pod) whose cores several nodes share (contract: hosts)."""

    cpus: Cpus = None  # default: the instance's vCPUs, else one core
    instance: Instance | None = None
