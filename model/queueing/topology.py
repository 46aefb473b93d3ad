"""From scenario nodes to queueing stations: server counts, speeds and service times.

The contract's semantics (cores per replica, CPU limits below one core, a database as one
pool per instance, Kafka partitions and consumers) are decided here once, so the simulator
and the analytic solver build on the same stations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.queueing.distributions import ServiceTime
from model.scenario.schema import CacheNode, DatabaseNode, Instance, KafkaNode, Scenario, ServiceNode


@dataclass(frozen=True)
class Cores:
    """`cpus` as servers and speed: 2 -> two full cores; 0.5 -> one core at half speed."""

    servers: int
    speed: float


def cores(cpus: float) -> Cores:
    if cpus < 1:
        return Cores(1, cpus)
    return Cores(int(math.floor(cpus)), 1.0)


def default_cpus(instance: Instance | None) -> float:
    """The instance's vCPUs where the catalog knows them, else one core."""
    if instance is None:
        return 1.0
    if instance.vcpu is not None:
        return instance.vcpu
    from model.pricing.catalog import instance_vcpus  # the catalog is data; load it only when needed

    vcpus = instance_vcpus(instance)
    return float(vcpus) if vcpus else 1.0


def cores_per_replica(node: ServiceNode) -> int:
    """Full cores one replica serves on (a CPU limit below one core is one slower core)."""
    return cores(node.cpus if node.cpus is not None else default_cpus(node.instance)).servers


@dataclass(frozen=True)
class ServiceStation:
    name: str
    servers: int                 # replicas * cores
    service: ServiceTime         # per visit, slowed by a CPU limit and by background work
    slots: int | None            # replicas * concurrency, or no limit
    blocking_calls: bool
    timeout_ms: float | None
    background: float = 0.0      # share of every core busy with work no request causes


@dataclass(frozen=True)
class CacheStation:
    name: str
    servers: int
    service: ServiceTime
    hit_ratio: float
    miss: str | None
    background: float = 0.0


@dataclass(frozen=True)
class DatabaseStation:
    name: str
    instances: int               # primary + read replicas; reads spread uniformly
    servers_per_instance: int
    read: ServiceTime
    write: ServiceTime
    background: float = 0.0

    def instance_rates(self, reads_rps: float, writes_rps: float) -> list[tuple[float, float]]:
        """(reads/s, writes/s) on each instance, primary first: a read picks an instance
        uniformly at random, a write goes to the primary (contract section 1)."""
        each = reads_rps / self.instances
        return [(each, writes_rps)] + [(each, 0.0)] * (self.instances - 1)


@dataclass(frozen=True)
class KafkaStation:
    name: str
    partitions: int
    consumers: int
    produce: ServiceTime         # the producer's wait for the acknowledgement
    consume: ServiceTime         # one message on one consumer (exponential)
    max_backlog: int             # per partition, the message in process included

    def partitions_of(self, consumer: int) -> list[int]:
        """Round-robin assignment: consumer c owns partitions c, c + C, c + 2C, ..."""
        return list(range(consumer, self.partitions, self.consumers))

    @property
    def active_consumers(self) -> int:
        return min(self.consumers, self.partitions)


Station = ServiceStation | CacheStation | DatabaseStation | KafkaStation


def build_stations(scenario: Scenario) -> dict[str, Station]:
    """Background work leaves requests (1 - background) of each core: they run that much slower."""
    stations: dict[str, Station] = {}
    for name, node in scenario.nodes.items():
        if isinstance(node, ServiceNode):
            c = cores(node.cpus if node.cpus is not None else default_cpus(node.instance))
            bg = node.background_cpu_pct / 100.0
            stations[name] = ServiceStation(
                name, node.replicas * c.servers, ServiceTime(node.service_ms, node.service_cv).scaled(c.speed * (1 - bg)),
                node.replicas * node.concurrency if node.concurrency else None, node.blocking_calls, node.timeout_ms, bg)
        elif isinstance(node, CacheNode):
            c = cores(node.cpus if node.cpus is not None else 1.0)
            bg = node.background_cpu_pct / 100.0
            stations[name] = CacheStation(name, node.nodes * c.servers,
                                          ServiceTime(node.hit_ms, 1.0).scaled(c.speed * (1 - bg)), node.hit_ratio,
                                          node.miss, bg)
        elif isinstance(node, DatabaseNode):
            c = cores(node.cpus if node.cpus is not None else default_cpus(node.instance))
            bg = node.background_cpu_pct / 100.0
            speed = c.speed * (1 - bg)
            stations[name] = DatabaseStation(name, node.instances, c.servers,
                                             ServiceTime(node.read_ms, node.service_cv).scaled(speed),
                                             ServiceTime(node.write_service_ms, node.service_cv).scaled(speed), bg)
        elif isinstance(node, KafkaNode):
            stations[name] = KafkaStation(name, node.partitions, node.consumers,
                                          ServiceTime(node.produce_ms, 1.0), ServiceTime(node.consume_ms, 1.0),
                                          node.max_backlog)
    return stations


def reported_utilization(station: Station, request_busy: float) -> float:
    """CPU busy as a monitor shows it: background work plus the requests' share of the rest."""
    background = getattr(station, "background", 0.0)
    return background + (1.0 - background) * request_busy


def total_servers(station: Station) -> int:
    """What the contract's `nodes.*.servers` reports."""
    if isinstance(station, DatabaseStation):
        return station.instances * station.servers_per_instance
    if isinstance(station, KafkaStation):
        return station.active_consumers
    return station.servers
