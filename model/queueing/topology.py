"""From scenario nodes to queueing stations: server counts, speeds and service times.

The contract's semantics (cores per replica, CPU limits below one core, a database as one
pool per instance, Kafka partitions and consumers, nodes sharing a host's cores) are decided
here once, so the simulator and the analytic solver build on the same stations. A station
also says which server pools its visits use and how much work each receives (`demands`):
both solvers, the offered-load check and the per-node statistics read that one answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.queueing.distributions import ServiceTime, mixture
from model.scenario.graph import NodeVisits
from model.scenario.schema import CacheNode, DatabaseNode, Host, Instance, KafkaNode, Scenario, ServiceNode
from model.queueing.service_demand import service_visit_ms

PER_MS = 1.0 / 1000.0


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
class Demand:
    """The work one node's visits bring to one FIFO pool of `servers` servers."""

    node: str
    pool: str
    servers: int
    arrival_rps: float
    service: ServiceTime  # of one visit (a database instance: its reads and writes mixed)
    offered: float  # busy servers: arrival_rps * service mean, in erlangs


def host_pool(host: str) -> str:
    """The pool name of a host's cores (a namespace apart from node names)."""
    return f"host/{host}"


class _OnePool:
    """A station whose every visit runs on one pool: its own servers, or its host's cores."""

    @property
    def pool(self) -> str:
        return host_pool(self.host) if self.host else self.name

    def demands(self, rates: NodeVisits) -> list[Demand]:
        return [
            Demand(
                self.name,
                self.pool,
                self.servers,
                rates.visits,
                self.service,
                rates.visits * self.service.mean_ms * PER_MS,
            )
        ]


@dataclass(frozen=True)
class ServiceStation(_OnePool):
    name: str
    servers: int  # replicas * cores (on a host: the host's cores)
    service: ServiceTime  # per visit, slowed by a CPU limit and by background work
    slots: int | None  # replicas * concurrency, or no limit
    blocking_calls: bool
    timeout_ms: float | None
    background: float = 0.0  # share of every core busy with work no request causes
    host: str | None = None  # the host whose cores it shares, if any


@dataclass(frozen=True)
class CacheStation(_OnePool):
    name: str
    servers: int
    service: ServiceTime
    hit_ratio: float
    miss: str | None
    background: float = 0.0
    host: str | None = None


@dataclass(frozen=True)
class DatabaseStation:
    name: str
    instances: int  # primary + read replicas; reads spread uniformly
    servers_per_instance: int
    read: ServiceTime
    write: ServiceTime
    background: float = 0.0
    host: str | None = None  # on a host: one instance on the host's cores

    @property
    def pools(self) -> list[str]:
        if self.host:
            return [host_pool(self.host)]
        return [f"{self.name}/{k}" for k in range(self.instances)]

    def demands(self, rates: NodeVisits) -> list[Demand]:
        """One per instance: its reads and writes, served as one mixed stream."""
        out = []
        for pool, (reads, writes) in zip(self.pools, self.instance_rates(rates.reads, rates.writes)):
            service = mixture([(reads, self.read), (writes, self.write)])
            work = reads * self.read.mean_ms + writes * self.write.mean_ms
            out.append(
                Demand(self.name, pool, self.servers_per_instance, reads + writes, service, work * PER_MS)
            )
        return out

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
    produce: ServiceTime  # the producer's wait for the acknowledgement
    consume: ServiceTime  # one message on one consumer (exponential)
    max_backlog: int  # per partition, the message in process included

    def partitions_of(self, consumer: int) -> list[int]:
        """Round-robin assignment: consumer c owns partitions c, c + C, c + 2C, ..."""
        return list(range(consumer, self.partitions, self.consumers))

    @property
    def active_consumers(self) -> int:
        return min(self.consumers, self.partitions)

    def demands(self, rates: NodeVisits) -> list[Demand]:
        """One per active consumer: the partitions it owns (the analytic solver solves these as
        birth-death chains; the demands give the offered load)."""
        per_partition = rates.visits / self.partitions
        out = []
        for c in range(self.active_consumers):
            rps = len(self.partitions_of(c)) * per_partition
            out.append(
                Demand(
                    self.name,
                    f"{self.name}/consumer-{c}",
                    1,
                    rps,
                    self.consume,
                    rps * self.consume.mean_ms * PER_MS,
                )
            )
        return out


Station = ServiceStation | CacheStation | DatabaseStation | KafkaStation


@dataclass(frozen=True)
class HostSpec:
    """A host's cores as the stations placed on it see them."""

    name: str
    cores: Cores
    background: float  # its nodes' background work, a share of every core
    nodes: tuple[str, ...]


def build_hosts(scenario: Scenario) -> dict[str, HostSpec]:
    out = {}
    for name, host in scenario.hosts.items():
        placed = tuple(n for n, node in scenario.nodes.items() if getattr(node, "host", None) == name)
        background = sum(scenario.nodes[n].background_cpu_pct for n in placed) / 100.0
        out[name] = HostSpec(name, cores(_host_cpus(host)), background, placed)
    return out


def _host_cpus(host: Host) -> float:
    return host.cpus if host.cpus is not None else default_cpus(host.instance)


def build_stations(scenario: Scenario) -> dict[str, Station]:
    """Background work leaves requests (1 - background) of each core: they run that much slower.

    A node on a host runs on the host's cores, slowed by the background work of all its nodes."""
    hosts = build_hosts(scenario) if scenario.hosts else {}
    stations: dict[str, Station] = {}
    for name, node in scenario.nodes.items():
        host = hosts.get(getattr(node, "host", None) or "")
        if host is not None:
            c, bg = host.cores, host.background
        elif not isinstance(node, KafkaNode):
            fallback = 1.0 if isinstance(node, CacheNode) else default_cpus(node.instance)
            c, bg = cores(node.cpus if node.cpus is not None else fallback), node.background_cpu_pct / 100.0
        where = host.name if host is not None else None
        if isinstance(node, ServiceNode):
            stations[name] = ServiceStation(
                name,
                node.replicas * c.servers,
                ServiceTime(service_visit_ms(scenario, node), node.service_cv).scaled(c.speed * (1 - bg)),
                node.replicas * node.concurrency if node.concurrency else None,
                node.blocking_calls,
                node.timeout_ms,
                bg,
                where,
            )
        elif isinstance(node, CacheNode):
            stations[name] = CacheStation(
                name,
                node.nodes * c.servers,
                ServiceTime(node.hit_ms, 1.0).scaled(c.speed * (1 - bg)),
                node.hit_ratio,
                node.miss,
                bg,
                where,
            )
        elif isinstance(node, DatabaseNode):
            speed = c.speed * (1 - bg)
            stations[name] = DatabaseStation(
                name,
                node.instances,
                c.servers,
                ServiceTime(node.read_ms, node.service_cv).scaled(speed),
                ServiceTime(node.write_service_ms, node.service_cv).scaled(speed),
                bg,
                where,
            )
        elif isinstance(node, KafkaNode):
            stations[name] = KafkaStation(
                name,
                node.partitions,
                node.consumers,
                ServiceTime(node.produce_ms, 1.0),
                ServiceTime(node.consume_ms, 1.0),
                node.max_backlog,
            )
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
