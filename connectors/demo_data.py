"""The built-in demo data set: two weeks of 5-minute metrics that obey the scenario's physics.

It is generated, not recorded, so that a fit can be checked against known truths: traffic
at the entry node follows a daily and weekly cycle with an evening peak, compound growth
and noise; every node's CPU follows the utilization law (U = background + arrival rate x
service demand / cores); cache hits and misses follow the hit ratio; database reads and
writes the call graph; and one incident (slow database queries) shows in the database's
CPU and the latency. A fixed seed makes it the same on every machine.

Beside the scenario's series there is one autoscaled service outside its graph, `search`
(`search.requests`, `search.cpu`, `search.replicas`; scenarios/fit-demo-autoscale.yaml fits
it): an HPA on CPU runs it at 2 to 20 replicas, and its capacity at N replicas follows
Gunther's USL with known sigma and kappa (`AUTOSCALED`, `DemoTruth.usl`), so the fit's USL
can be checked. Its series come from a random stream of their own: the scenario's series
are the same with or without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from model.scenario.graph import arrival_rates
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode

END = datetime(2025, 3, 3, tzinfo=timezone.utc)  # a Monday 00:00 UTC: the window is two whole weeks
DAYS = 14
PERIOD_S = 300
BACKGROUND = {"service": 0.04, "cache": 0.02, "database": 0.05}  # CPU fraction busy without requests
INCIDENT_START = datetime(2025, 2, 26, 19, 0, tzinfo=timezone.utc)  # Wednesday evening peak
INCIDENT_MINUTES = 90
INCIDENT_READ_FACTOR, INCIDENT_WRITE_FACTOR = 10.0, 8.0  # slow queries: database service times grow
P99_OVER_MEAN = 3.0  # tail factor of a sum of a few exponential stages

# The autoscaled service beside the scenario: one replica (2 cores) does 1000 * cpus / demand_ms
# = 100 req/s at 100 % busy; N replicas do that times N / (1 + sigma (N - 1) + kappa N (N - 1)).
AUTOSCALED = {
    "name": "search",
    "peak_rps": 480.0,
    "cpus": 2,
    "demand_ms": 20.0,
    "background": 0.04,
    "sigma": 0.04,
    "kappa": 0.0012,
    "target_cpu_pct": 60.0,
    "min": 2,
    "max": 20,
}
HPA_TOLERANCE = 0.10  # the HPA leaves the count alone within 10 % of its target


@dataclass(frozen=True)
class DemoTruth:
    """What generated the data, for tests of a fit to compare against."""

    scenario: str
    start: datetime
    end: datetime
    period_s: int
    peak_rps: float  # the noiseless peak of the entry rate, at the last weekday evening
    growth_pct_per_month: float
    background_cpu: dict[str, float]  # per node, fraction
    demand_s: dict[str, float]  # per node: CPU-seconds per request arriving at the entry, per core pool
    cores: dict[str, float]
    hit_ratio: dict[str, float]
    incident: tuple[datetime, datetime]
    incident_nodes: tuple[str, ...] = ()  # nodes whose service times grow during the incident
    units: dict[str, str] = field(default_factory=dict)
    usl: dict[str, dict] = field(
        default_factory=dict
    )  # the autoscaled service: sigma, kappa, lambda_rps, ...


def daily_shape(hour: np.ndarray) -> np.ndarray:
    """Quiet nights, a working-day plateau and an evening peak at 20:00 UTC; max 1."""

    def bump(center: float, width: float) -> np.ndarray:
        d = (hour - center + 12) % 24 - 12  # circular distance in hours
        return np.exp(-0.5 * (d / width) ** 2)

    shape = 0.25 + 0.40 * bump(13, 3.5) + 0.75 * bump(20, 1.6)
    return shape / (0.25 + 0.40 * np.exp(-0.5 * (7 / 3.5) ** 2) + 0.75)


def generate(scenario: Scenario, seed: int = 7) -> tuple[pd.DataFrame, DemoTruth]:
    """A wide frame (one column per series id, index = bucket starts) and the truths behind it."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(END - timedelta(days=DAYS), END, freq=f"{PERIOD_S}s", inclusive="left")
    hours = stamps.hour.to_numpy() + stamps.minute.to_numpy() / 60
    weekday = stamps.day_of_week.to_numpy()
    months_before_end = ((END - stamps).total_seconds().to_numpy() / 86400) / 30.44
    growth = (1 + scenario.workload.growth_pct_per_month / 100) ** (-months_before_end)
    clean = scenario.workload.rate_rps * daily_shape(hours) * np.where(weekday >= 5, 0.75, 1.0) * growth
    rate = clean * rng.lognormal(0.0, 0.04, len(stamps))  # requests/s arriving at the entry
    incident = (stamps >= INCIDENT_START) & (stamps < INCIDENT_START + timedelta(minutes=INCIDENT_MINUTES))

    per_request = arrival_rates(scenario, 1.0)  # visits to each node per entry request
    columns: dict[str, np.ndarray] = {"traffic": rng.poisson(rate * PERIOD_S).astype(float)}
    units = {"traffic": "Count"}
    demand, cores, hit_ratio, background = {}, {}, {}, {}
    mean_response_s = np.zeros(len(stamps))
    for name, node in scenario.nodes.items():
        visits = per_request[name]
        lam = rate * visits.visits
        if isinstance(node, ServiceNode):
            pool = node.replicas * (node.cpus or 1)
            busy = lam * node.service_ms / 1000
            stage_s = np.full(len(stamps), node.service_ms / 1000)
        elif isinstance(node, CacheNode):
            pool = node.nodes * (node.cpus or 1)
            busy = lam * node.hit_ms / 1000
            stage_s = np.full(len(stamps), node.hit_ms / 1000)
            hit_ratio[name] = node.hit_ratio
            columns[f"{name}.hits"] = rng.poisson(lam * node.hit_ratio * PERIOD_S).astype(float)
            columns[f"{name}.misses"] = rng.poisson(lam * (1 - node.hit_ratio) * PERIOD_S).astype(float)
            units[f"{name}.hits"] = units[f"{name}.misses"] = "Count"
        elif isinstance(node, DatabaseNode):
            pool = node.instances * (node.cpus or 1)
            read_s = node.read_ms / 1000 * np.where(incident, INCIDENT_READ_FACTOR, 1.0)
            write_s = node.write_service_ms / 1000 * np.where(incident, INCIDENT_WRITE_FACTOR, 1.0)
            lam_r, lam_w = rate * visits.reads, rate * visits.writes
            busy = lam_r * read_s + lam_w * write_s
            stage_s = (visits.reads * read_s + visits.writes * write_s) / max(visits.visits, 1e-12)
            columns[f"{name}.reads"] = rng.poisson(lam_r * PERIOD_S).astype(float)
            columns[f"{name}.writes"] = rng.poisson(lam_w * PERIOD_S).astype(float)
            units[f"{name}.reads"] = units[f"{name}.writes"] = "Count"
        elif isinstance(node, KafkaNode):
            columns[f"{name}.messages_in"] = rng.poisson(lam * PERIOD_S).astype(float)
            units[f"{name}.messages_in"] = "Count"
            mean_response_s += visits.visits * node.produce_ms / 1000  # the producer waits for the ack
            continue
        else:  # pragma: no cover - the scenario's union is closed
            continue
        bg = BACKGROUND[node.kind]
        utilization = np.clip(bg + busy / pool, 0.0, 0.995)
        cpu = np.clip(100 * utilization + rng.normal(0.0, 0.5, len(stamps)), 0.0, 100.0)
        columns[f"{name}.cpu"] = np.round(cpu, 3)
        units[f"{name}.cpu"] = "Percent"
        # per-core queueing (M/M/1 per core) inflates each stage by 1 / (1 - U)
        mean_response_s += visits.visits * stage_s / (1 - np.clip(busy / pool, 0, 0.98))
        demand[name] = float(visits.visits * _mean_demand_s(node, visits))
        cores[name] = float(pool)
        background[name] = bg
    latency_ms = 1000 * mean_response_s * P99_OVER_MEAN * rng.lognormal(0.0, 0.08, len(stamps))
    columns["latency_p99"] = np.round(latency_ms, 3)
    units["latency_p99"] = "Milliseconds"
    usl = _autoscaled(clean / scenario.workload.rate_rps, np.random.default_rng([seed, 2]), columns, units)

    frame = pd.DataFrame(columns, index=stamps)
    truth = DemoTruth(
        scenario=scenario.name,
        start=stamps[0].to_pydatetime(),
        end=END,
        period_s=PERIOD_S,
        peak_rps=float(clean.max()),
        growth_pct_per_month=scenario.workload.growth_pct_per_month,
        background_cpu=background,
        demand_s=demand,
        cores=cores,
        hit_ratio=hit_ratio,
        incident=(INCIDENT_START, INCIDENT_START + timedelta(minutes=INCIDENT_MINUTES)),
        incident_nodes=tuple(n for n, node in scenario.nodes.items() if isinstance(node, DatabaseNode)),
        units=units,
        usl=usl,
    )
    return frame, truth


def usl_capacity_rps(n: np.ndarray | float, spec: dict = AUTOSCALED) -> np.ndarray | float:
    """Requests/s `n` replicas of the autoscaled service do at 100 % busy (the USL)."""
    n = np.asarray(n, dtype=float)
    lam = 1000.0 * spec["cpus"] / spec["demand_ms"]
    return lam * n / (1 + spec["sigma"] * (n - 1) + spec["kappa"] * n * (n - 1))


def _autoscaled(shape: np.ndarray, rng: np.random.Generator, columns: dict, units: dict) -> dict[str, dict]:
    """The autoscaled service's requests, CPU (mean over its replicas) and running replicas.

    Every 5 minutes the HPA looks at the last period's CPU and sets desired = ceil(N * U / target)
    (unchanged within the tolerance), clamped to min..max; a scale-down waits one period (the
    stabilization window) and goes to the higher of the two last recommendations. CPU is
    background + rate / capacity(N): the utilization law with the USL's capacity.
    """
    spec = AUTOSCALED
    name, target = spec["name"], spec["target_cpu_pct"] / 100
    rate = spec["peak_rps"] * shape * rng.lognormal(0.0, 0.04, len(shape))
    noise = rng.normal(0.0, 0.5, len(shape))
    replicas = np.empty(len(shape))
    cpu = np.empty(len(shape))
    n = last_raw = spec["min"]
    for t in range(len(shape)):
        replicas[t] = n
        u = min(spec["background"] + rate[t] / float(usl_capacity_rps(n)), 0.995)
        cpu[t] = min(max(100 * u + noise[t], 0.0), 100.0)
        seen = cpu[t] / 100
        raw = n if abs(seen / target - 1) <= HPA_TOLERANCE else int(np.ceil(n * seen / target - 1e-9))
        raw = min(max(raw, spec["min"]), spec["max"])
        n, last_raw = (raw if raw > n else min(n, max(raw, last_raw))), raw
    columns[f"{name}.requests"] = rng.poisson(rate * PERIOD_S).astype(float)
    columns[f"{name}.cpu"] = np.round(cpu, 3)
    columns[f"{name}.replicas"] = replicas
    units.update({f"{name}.requests": "Count", f"{name}.cpu": "Percent", f"{name}.replicas": "None"})
    lam = float(usl_capacity_rps(1.0))
    return {
        name: {
            "sigma": spec["sigma"],
            "kappa": spec["kappa"],
            "lambda_rps": lam,
            "cpus": spec["cpus"],
            "background_cpu": spec["background"],
            "peak_n": float(np.sqrt((1 - spec["sigma"]) / spec["kappa"])),
            "autoscale": {"target_cpu_pct": spec["target_cpu_pct"], "min": spec["min"], "max": spec["max"]},
        }
    }


def _mean_demand_s(node, visits) -> float:
    """CPU-seconds per visit outside the incident."""
    if isinstance(node, ServiceNode):
        return node.service_ms / 1000
    if isinstance(node, CacheNode):
        return node.hit_ms / 1000
    return (
        (visits.reads * node.read_ms + visits.writes * node.write_service_ms)
        / 1000
        / max(visits.visits, 1e-12)
    )
