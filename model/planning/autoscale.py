"""The Kubernetes HPA algorithm, over a day of load (fast) and inside the simulator (step loads).

The controller (`Hpa`) is the documented algorithm: every sync period (15 s) desired =
ceil(current * utilization / target), no change within a 10% tolerance of the target,
pods still starting counted as idle when scaling up (so a scale-up is not repeated while
its pods start), a scale-down only to the highest recommendation of the stabilization
window, a start-up delay before a new pod serves, clamped to min/max. Scaling-rate
policies (pods or percent per period) are not modelled.

A day at 120 requests/s is ten million requests, too many to simulate one by one, so
`simulate_day` drives the controller with the utilization a pool's offered load implies
(utilization is offered work over ready cores, capped at 100%) and prices the mean replica
count. `step_load` runs the same controller inside the simulator for minutes of a step,
where the latency during the scale-up lag is the point.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from model.pricing.cost import CostBreakdown, monthly_cost
from model.queueing.offered_load import offered_load, offered_rps
from model.scenario.schema import Autoscale, Scenario, ServiceNode
from model.queueing.topology import build_stations, cores_per_replica

if TYPE_CHECKING:  # the simulator is imported by step_load alone: the HPA's day and peak need none of it
    from model.queueing.sim.timeline import TimelineSimulation, Window

SYNC_S = 15.0
TOLERANCE = 0.10

# A typical business-day shape: the fraction of the peak rate at each hour (0..23, local time).
# `workload.rate_rps` is the peak; a real shape can be passed in (or fitted from a trace).
DEFAULT_DAY = (
    0.35,
    0.30,
    0.28,
    0.27,
    0.30,
    0.38,
    0.50,
    0.65,
    0.80,
    0.90,
    0.95,
    0.98,
    1.00,
    0.98,
    0.95,
    0.93,
    0.92,
    0.90,
    0.88,
    0.85,
    0.78,
    0.65,
    0.52,
    0.42,
)


@dataclass
class Hpa:
    """One HorizontalPodAutoscaler's state: spec replicas, when each pod becomes ready, history."""

    config: Autoscale
    replicas: int
    sync_s: float = SYNC_S
    tolerance: float = TOLERANCE
    ready_at_s: list[float] = field(default_factory=list)
    history: deque[tuple[float, int]] = field(default_factory=deque)  # (time, raw recommendation)
    _raws: deque[int] = field(default_factory=deque, repr=False)  # the same recommendations, for max()

    def __post_init__(self) -> None:
        self.replicas = min(max(self.replicas, self.config.min), self.config.max)
        if not self.ready_at_s:
            self.ready_at_s = [-math.inf] * self.replicas
        self.ready_at_s = sorted(self.ready_at_s)
        self._raws = deque(r for _, r in self.history)

    def ready(self, now_s: float) -> int:
        return bisect_right(self.ready_at_s, now_s)  # ready_at_s is kept sorted

    def step(self, now_s: float, utilization_ready: float) -> int:
        """One sync: `utilization_ready` is the mean CPU utilization (0..1) of the ready pods."""
        cfg, target = self.config, self.config.target_cpu_pct / 100.0
        ready = self.ready(now_s)
        usage = utilization_ready * ready  # pods' worth of CPU in use
        ratio = utilization_ready / target if ready else 0.0
        raw = self.replicas
        if ready and abs(ratio - 1.0) > self.tolerance:
            # Starting pods count as idle: a scale-up already under way is not repeated.
            ratio_all = usage / (self.replicas * target)
            if ratio > 1.0 and ratio_all <= 1.0 + self.tolerance:
                raw = self.replicas
            else:
                raw = math.ceil(usage / target - 1e-9)
        raw = min(max(raw, cfg.min), cfg.max)
        self.history.append((now_s, raw))
        self._raws.append(raw)
        oldest = now_s - cfg.scale_down_stabilization_s - 1e-9
        while self.history[0][0] <= oldest:  # the window's recommendations only (the newest stays)
            self.history.popleft()
            self._raws.popleft()
        down_limit = max(self._raws)
        desired = self.replicas
        if raw > desired:
            desired = raw
        if desired > down_limit:
            desired = down_limit
        self._scale(now_s, desired)
        return desired

    def _scale(self, now_s: float, desired: int) -> None:
        if desired > self.replicas:  # time only moves on, so appending keeps the list sorted
            self.ready_at_s += [now_s + self.config.startup_s] * (desired - self.replicas)
        elif desired < self.replicas:
            self.ready_at_s = self.ready_at_s[:desired]  # the newest (unready) pods go first
        self.replicas = desired


def autoscaled_nodes(scenario: Scenario) -> list[str]:
    return [n for n, node in scenario.nodes.items() if isinstance(node, ServiceNode) and node.autoscale]


def busy_cores_per_rps(scenario: Scenario) -> dict[str, float]:
    """Offered work (busy cores) at each service node per request/s at the entry."""
    loads = offered_load(scenario, build_stations(scenario), 1.0)
    return {
        p.node: p.offered
        for p in loads
        if p.pool == p.node and isinstance(scenario.nodes[p.node], ServiceNode)
    }


def hpa_replicas_at(scenario: Scenario, node: str, rate_rps: float, worst: bool = True) -> int:
    """Replicas the HPA settles on at a steady `rate_rps`, clamped to min/max.

    The controller stops anywhere within the tolerance band around the target, so the
    fewest replicas it may settle on is ceil(busy / (1.1 * target)) (`worst=True`, the one
    to check the SLO with), the most ceil(busy / (0.9 * target)).
    """
    spec = scenario.nodes[node]
    cfg = spec.autoscale
    busy_pods = busy_cores_per_rps(scenario)[node] * rate_rps / cores_per_replica(spec)
    band = 1.0 + TOLERANCE if worst else 1.0 - TOLERANCE
    replicas = math.ceil(busy_pods / (band * cfg.target_cpu_pct / 100.0) - 1e-9)
    return min(max(replicas, cfg.min), cfg.max)


def at_peak(scenario: Scenario, rate_rps: float | None = None) -> Scenario:
    """The scenario with each autoscaled node at the replicas the HPA holds at `rate_rps`."""
    rate = offered_rps(scenario) if rate_rps is None else rate_rps
    nodes = dict(scenario.nodes)
    for name in autoscaled_nodes(scenario):
        nodes[name] = nodes[name].model_copy(update={"replicas": hpa_replicas_at(scenario, name, rate)})
    return scenario.model_copy(update={"nodes": nodes})


@dataclass(frozen=True)
class Day:
    """A simulated day of HPA decisions for each autoscaled node."""

    times_s: np.ndarray
    rate_rps: np.ndarray
    replicas: dict[str, np.ndarray]  # spec replicas (billed) at each sync
    ready: dict[str, np.ndarray]  # replicas serving at each sync
    utilization: dict[str, np.ndarray]  # of the ready replicas, 0..1
    cost: CostBreakdown

    @property
    def mean_replicas(self) -> dict[str, float]:
        """Replica-hours per hour: what the day is billed for."""
        return {n: float(r.mean()) for n, r in self.replicas.items()}


def day_rate(profile: tuple[float, ...] | list[float], peak_rps: float, times_s: np.ndarray) -> np.ndarray:
    """The rate at each time: the hourly profile, linearly interpolated and looped over 24 h."""
    hours = np.arange(len(profile) + 1) * (24.0 / len(profile))
    values = np.append(np.asarray(profile, dtype=float), profile[0])
    return peak_rps * np.interp((times_s / 3600.0) % 24.0, hours, values)


def follow(
    hpa: Hpa, times_s: np.ndarray, rates_rps: np.ndarray, busy_cores_per_rps: float, cores_each: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step `hpa` at each time with the utilization the offered load implies on its ready pods
    (offered work over ready cores, capped at 100%): spec replicas, ready replicas and that
    utilization at each sync. The fast path: no requests are simulated."""
    spec_out, ready_out, util_out = [], [], []
    for t, rate in zip(times_s, rates_rps):
        serving = hpa.ready(t)
        u = min(busy_cores_per_rps * rate / (serving * cores_each), 1.0) if serving else 1.0
        spec_out.append(hpa.step(t, u))
        ready_out.append(hpa.ready(t))
        util_out.append(u)
    return np.array(spec_out), np.array(ready_out), np.array(util_out)


def simulate_day(
    scenario: Scenario,
    profile: tuple[float, ...] | list[float] = DEFAULT_DAY,
    peak_rps: float | None = None,
    sync_s: float = SYNC_S,
) -> Day:
    """Run every autoscaled node's HPA over a day (after a day to settle) and price the mean.

    The profile is fractions of the peak (`workload.rate_rps` unless given). Nodes without
    autoscaling run their configured replicas all day.
    """
    peak = offered_rps(scenario) if peak_rps is None else peak_rps  # closed: the users' throughput
    times = np.arange(0.0, 86_400.0, sync_s)
    rates = day_rate(profile, peak, times)
    per_rps = busy_cores_per_rps(scenario)
    replicas, ready, util = {}, {}, {}
    for name in autoscaled_nodes(scenario):
        node = scenario.nodes[name]
        hpa = Hpa(node.autoscale, node.replicas, sync_s)
        follow(hpa, times, rates, per_rps[name], cores_per_replica(node))  # a day to settle
        replicas[name], ready[name], util[name] = follow(
            hpa, times + 86_400.0, rates, per_rps[name], cores_per_replica(node)
        )
    cost = monthly_cost(scenario, float(rates.mean()), {n: float(r.mean()) for n, r in replicas.items()})
    return Day(times, rates, replicas, ready, util, cost)


@dataclass(frozen=True)
class StepLoad:
    """A step-load run: per window, the rate, replicas serving, latency and errors."""

    windows: list[Window]
    rate_rps: list[float]
    replicas: dict[str, list[int]]  # spec replicas at each window's end
    ready: dict[str, list[int]]  # serving replicas at each window's end

    def to_json(self) -> dict:
        return {
            "windows": [
                {
                    "start_s": w.start_s,
                    "rate_rps": r,
                    "p50_ms": w.p50_ms,
                    "p99_ms": w.p99_ms,
                    "error_pct": w.error_pct,
                    **{f"{n}_replicas": self.ready[n][k] for n in self.ready},
                }
                for k, (w, r) in enumerate(zip(self.windows, self.rate_rps))
            ]
        }


def step_load(
    scenario: Scenario,
    before_rps: float,
    after_rps: float,
    step_at_s: float,
    duration_s: float,
    window_s: float = 10.0,
    seed: int | None = None,
    step_down_at_s: float | None = None,
) -> StepLoad:
    """Simulate a step from `before_rps` to `after_rps` (and optionally back) with the HPA acting.

    Each autoscaled node starts at the replicas the HPA would hold at `before_rps` (`attach_hpas`
    runs the controllers inside the simulation).
    """
    schedule = [(0.0, before_rps), (step_at_s, after_rps)]
    if step_down_at_s is not None:
        schedule.append((step_down_at_s, before_rps))
    from model.queueing.sim.timeline import TimelineSimulation

    start = at_peak(scenario, before_rps)
    sim = TimelineSimulation(start, schedule, duration_s, seed)
    names = autoscaled_nodes(scenario)
    hpas = {n: Hpa(start.nodes[n].autoscale, start.nodes[n].replicas, SYNC_S) for n in names}
    spec_log, serving_log = attach_hpas(sim, hpas)
    sim.run()
    windows = sim.windows(window_s)
    rates = [value_at(schedule, w.start_s) for w in windows]
    spec = {n: [value_at(spec_log[n], w.end_s - 1e-6) for w in windows] for n in names}
    ready = {n: [value_at(serving_log[n], w.end_s - 1e-6) for w in windows] for n in names}
    return StepLoad(windows, rates, spec, ready)


ReplicaLog = dict[str, list[tuple[float, int]]]  # node -> [(time s, replicas)], in time order


def attach_hpas(sim: TimelineSimulation, hpas: dict[str, Hpa]) -> tuple[ReplicaLog, ReplicaLog]:
    """Let each `Hpa` drive its node inside a timeline simulation (before `sim.run()`).

    Every sync the controller reads the utilization of the ready pods over the last period
    (busy time over core time), and a new pod joins the pool `startup_s` after the decision.
    An `Hpa` may come with pods still starting (times relative to the simulation's start):
    each joins when ready. Returns the spec and the serving replicas, logged as they change.
    """
    names = list(hpas)
    last_busy = {n: 0.0 for n in names}
    spec_log: ReplicaLog = {n: [(0.0, hpas[n].replicas)] for n in names}
    serving_log: ReplicaLog = {n: [(0.0, hpas[n].ready(0.0))] for n in names}

    def serve(s: TimelineSimulation, n: str) -> None:
        now_s = s.env.now / 1000.0
        s.set_replicas(n, hpas[n].ready(now_s))
        serving_log[n].append((now_s, s.replicas[n]))

    def sync(s: TimelineSimulation) -> None:
        now_s = s.env.now / 1000.0
        for n, hpa in hpas.items():
            pool = s.pools[n][0]
            busy = pool.busy_ms - last_busy[n]
            last_busy[n] = pool.busy_ms
            serving = s.replicas[n]
            u = min(busy / (SYNC_S * 1000.0 * serving * s.cores_per_replica(n)), 1.0) if serving else 1.0
            before = hpa.replicas
            hpa.step(now_s, u)
            if hpa.replicas < before:
                serve(s, n)
            elif hpa.replicas > before:
                s.at(now_s + hpa.config.startup_s, lambda s2, n=n: serve(s2, n))
            spec_log[n].append((now_s, hpa.replicas))

    for n, hpa in hpas.items():
        sim.set_replicas(n, hpa.ready(0.0))
        for when in sorted({t for t in hpa.ready_at_s if t > 0.0}):
            sim.at(when, lambda s2, n=n: serve(s2, n))
    sim.every(SYNC_S, sync)
    return spec_log, serving_log


def value_at(steps: list[tuple[float, Any]], t_s: float) -> Any:
    """What a step series of (time_s, value) holds at t_s: the last value set at or before it (a rate
    schedule's rate, a replica log's count)."""
    return [v for t, v in steps if t <= t_s][-1]
