"""The parts of a fit file (contract section 3): the traffic at the entry, the latency, a load test's
phases, shared hosts, and the nodes with the metrics that observe them and any scenario keys given.

Generic in the source's metric spec `M` (connectors.specs): `model.fit.file` builds one `FitFile`
class per source from these. Node entries are permissive: every scenario node key may be given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from connectors.specs import KeyPathError, Strict
from model.scenario.schema import (
    NODE_KINDS,
    NODE_TYPES,
    Autoscale,
    Call,
    Cpus,
    HitRatioCurve,
    Instance,
    WorkerUsl,
)


class FitKeyError(KeyPathError):
    """A problem tied to a key path below the model that raises it (pydantic cannot say where)."""


M = TypeVar("M", bound=BaseModel)  # the source's metric spec (connectors.specs)


class Traffic(Strict, Generic[M]):
    """Requests arriving at the entry node."""

    metric: M
    kind: Literal["count", "rate"] | None = None  # count per period or per second; default: from the stat


class Observed(Strict, Generic[M]):
    metric: M
    # Extension (issue 11): more statistics of the same latency (p50, p95, p99, mean), e.g. a load
    # test's percentile columns; with two of them the fit separates service_cv from network_ms.
    stats: dict[Literal["p50", "p95", "p99", "mean"], M] = Field(default_factory=dict)


class Phase(Strict):
    """Extension (issue 11): one steady window of a load test: roughly constant offered load."""

    start: datetime
    end: datetime
    name: str | None = None
    workers: int | None = Field(
        default=None, ge=1
    )  # the entry service's worker count in this phase (worker USL)

    @model_validator(mode="after")
    def _ordered(self) -> "Phase":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) is not after start ({self.start})")
        return self


class FitHost(Strict, Generic[M]):
    """Extension (issue 11): a machine whose cores several nodes share, and its measured CPU."""

    cpus: float = Field(gt=0)
    cpu: M | None = None
    instance: Instance | None = None


# Which metric keys make sense for which node kind. A service's `replicas` is either the
# scenario key (a whole number: the count it runs) or a metric (the running count over time,
# e.g. ECS RunningTaskCount): with the metric the fit reads the count, and how capacity grows
# with it, from the series (model.fit.scaling).
METRIC_KEYS: dict[str, tuple[str, ...]] = {
    "service": ("cpu", "requests", "latency", "replicas", "workers"),
    "cache": ("cpu", "hits", "misses", "latency"),
    "database": ("cpu", "reads", "writes", "latency"),
    "kafka": ("cpu", "messages_in", "lag"),
}


def count_or_metric(value) -> str:
    return "metric" if isinstance(value, (dict, BaseModel)) else "count"


# `replicas: 4` (the scenario key) or `replicas: {namespace: ..., name: RunningTaskCount}` (a metric).
UNION_TAGS = ("count", "metric")


class FitNode(Strict, Generic[M]):
    """A node: its kind, any scenario keys the user knows, and the metrics that observe it."""

    kind: Literal[NODE_KINDS]  # type: ignore[valid-type]
    # metrics
    cpu: M | None = None
    requests: M | None = None
    latency: M | None = None
    hits: M | None = None
    misses: M | None = None
    reads: M | None = None
    writes: M | None = None
    messages_in: M | None = None
    lag: M | None = None
    workers: M | None = None  # extension: the worker (process or thread) count over time, for the worker USL
    host: str | None = None  # extension: the host (hosts:) whose cores the node shares
    # scenario keys, all optional: a given value is kept, the fit estimates the rest
    replicas: (
        Annotated[
            Union[Annotated[int, Tag("count"), Field(ge=1)], Annotated[M, Tag("metric")]],
            Discriminator(count_or_metric),
        ]
        | None
    ) = None
    cpus: Cpus = None
    concurrency: int | None = Field(default=None, ge=1)
    service_ms: float | None = Field(default=None, gt=0)
    service_cv: float | None = Field(default=None, ge=0)
    blocking_calls: bool | None = None
    timeout_ms: float | None = Field(default=None, gt=0)
    background_cpu_pct: float | None = Field(default=None, ge=0, lt=100)
    instance: Instance | None = None
    autoscale: Autoscale | None = None
    calls: list[Call] | None = None
    miss_ms: float | None = Field(default=None, ge=0)
    worker_usl: WorkerUsl | None = None
    nodes: int | None = Field(default=None, ge=1)
    hit_ratio: float | None = Field(default=None, ge=0, le=1)
    hit_ms: float | None = Field(default=None, gt=0)
    miss: str | None = None
    hit_ratio_by_memory_gib: HitRatioCurve = None
    read_replicas: int | None = Field(default=None, ge=0)
    read_ms: float | None = Field(default=None, gt=0)
    write_ms: float | None = Field(default=None, gt=0)
    brokers: int | None = Field(default=None, ge=1)
    partitions: int | None = Field(default=None, ge=1)
    consumers: int | None = Field(default=None, ge=1)
    produce_ms: float | None = Field(default=None, ge=0)
    consume_ms: float | None = Field(default=None, gt=0)
    max_backlog: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _keys_fit_the_kind(self) -> "FitNode":
        scenario_keys = set(NODE_TYPES[self.kind].model_fields)
        metric_keys = set(METRIC_KEYS[self.kind])
        all_metric_keys = {k for keys in METRIC_KEYS.values() for k in keys}
        for key in self.model_fields_set:
            if (
                key == "replicas"
                and self.replicas is not None
                and not self.replicas_metric
                and "replicas" not in scenario_keys
            ):
                raise FitKeyError((key,), f"is not a key of a {self.kind} node")
            if key in all_metric_keys and key not in metric_keys:
                raise FitKeyError(
                    (key,), f"is not a metric of a {self.kind} node (use {', '.join(METRIC_KEYS[self.kind])})"
                )
            if key not in all_metric_keys and key not in scenario_keys and key != "host":
                raise FitKeyError((key,), f"is not a key of a {self.kind} node")
        return self

    @property
    def replicas_metric(self) -> bool:
        """`replicas` names a metric (the running count over time), not a count."""
        return isinstance(self.replicas, BaseModel)

    def metrics(self) -> dict[str, M]:
        """The metric keys given, in a stable order (`replicas` only when it names a metric)."""
        return {
            k: getattr(self, k)
            for k in METRIC_KEYS[self.kind]
            if getattr(self, k) is not None and (k != "replicas" or self.replicas_metric)
        }
