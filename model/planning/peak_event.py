"""A peak event's load over time, and the HPA's replicas through it (the fast, fluid path).

An event is `factor` x the planning load (`workload.rate_rps`) for `days`: the load ramps up
linearly over `ramp_minutes`, holds the plateau for `days`, and decays back over the same
ramp. Times are seconds from the start of the ramp (minute 0); the run starts `LEAD_S` before.

Only the stretches that can change anything are stepped through: the lead, the ramp and
enough of the plateau for the autoscalers and the queues to settle (`settle_s`), then the
end of the plateau, the decay and the tail in which the HPA scales back in. The plateau in
between is the settled state held (extrapolated): the load is constant, so nothing moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from model.planning.autoscale import SYNC_S, Hpa, at_peak, autoscaled_nodes, busy_cores_per_rps, follow
from model.queueing.topology import cores_per_replica
from model.scenario.schema import Scenario

LEAD_S = 300.0  # the planning load before the ramp starts: the state the event meets
MIN_SETTLE_S = 600.0  # at least ten minutes of plateau are stepped through
MAX_FACTOR = 100.0
MAX_DAYS = 31.0
MAX_RAMP_MINUTES = 24 * 60.0


class PeakInputError(ValueError):
    """An event the planner cannot take; the message names the option (--factor, --days, ...)."""


@dataclass(frozen=True)
class PeakEvent:
    factor: float
    days: float
    ramp_minutes: float = 30.0

    def __post_init__(self) -> None:
        checks = (
            ("--factor", self.factor, 1.0, MAX_FACTOR, "times the planning load"),
            ("--days", self.days, 0.0, MAX_DAYS, "days"),
            ("--ramp-minutes", self.ramp_minutes, 0.0, MAX_RAMP_MINUTES, "minutes"),
        )
        for option, value, low, high, unit in checks:
            lowest_ok = value > low if option == "--days" else value >= low
            if not (isinstance(value, (int, float)) and math.isfinite(value) and lowest_ok and value <= high):
                bound = f"above {low:g}" if option == "--days" else f"at least {low:g}"
                raise PeakInputError(f"{option} must be {bound} and at most {high:g} {unit} (got {value})")

    def to_json(self) -> dict:
        return {"factor": self.factor, "days": self.days, "ramp_minutes": self.ramp_minutes}

    @property
    def ramp_s(self) -> float:
        return self.ramp_minutes * 60.0

    @property
    def plateau_end_s(self) -> float:
        return self.ramp_s + self.days * 86_400.0

    @property
    def end_s(self) -> float:
        """When the load is back at the planning load."""
        return self.plateau_end_s + self.ramp_s

    def rate_rps(self, base_rps: float, t_s: np.ndarray | float) -> np.ndarray:
        """The entry rate at each time (seconds from the ramp's start)."""
        t = np.asarray(t_s, dtype=float)
        peak = self.factor * base_rps
        if self.ramp_s > 0:
            up = base_rps + (peak - base_rps) * np.clip(t / self.ramp_s, 0.0, 1.0)
            down = peak - (peak - base_rps) * np.clip((t - self.plateau_end_s) / self.ramp_s, 0.0, 1.0)
        else:
            up = np.where(t >= 0.0, peak, base_rps)
            down = np.where(t >= self.plateau_end_s, base_rps, peak)
        return np.where(t < self.plateau_end_s, up, down)

    def mean_rate_rps(self, base_rps: float, start_s: float, end_s: float, points: int = 16) -> float:
        """The mean rate over [start_s, end_s) (the rate is piecewise linear: a few points are exact enough)."""
        t = start_s + (np.arange(points) + 0.5) * (end_s - start_s) / points
        return float(self.rate_rps(base_rps, t).mean())


def settle_s(scenario: Scenario) -> float:
    """Plateau stepped through before it is held: the slowest autoscaler's start-up and a few syncs, doubled."""
    slowest = max(
        (scenario.nodes[n].autoscale.startup_s for n in autoscaled_nodes(scenario)),
        default=0.0,
    )
    return max(MIN_SETTLE_S, 2.0 * (slowest + 4 * SYNC_S))


def onset_end_s(scenario: Scenario, event: PeakEvent) -> float:
    """The end of the stretch stepped through from the start: the ramp and `settle_s` of plateau,
    on a whole minute (and no later than the event's end)."""
    end = math.ceil((event.ramp_s + settle_s(scenario)) / 60.0 - 1e-9) * 60.0
    return min(end, math.ceil(event.end_s / 60.0 - 1e-9) * 60.0)


def tail_s(scenario: Scenario) -> float:
    """After the decay: the longest scale-down stabilization window and two minutes more."""
    window = max(
        (scenario.nodes[n].autoscale.scale_down_stabilization_s for n in autoscaled_nodes(scenario)),
        default=0.0,
    )
    return window + 120.0


@dataclass(frozen=True)
class Track:
    """The HPA's decisions every sync through the stepped stretches of an event (fluid: no requests)."""

    times_s: np.ndarray  # seconds from the ramp's start, with a gap over the held plateau
    rate_rps: np.ndarray
    replicas: dict[str, np.ndarray]  # spec replicas (billed)
    ready: dict[str, np.ndarray]  # replicas serving
    start_replicas: dict[str, int]  # what each autoscaled node ran before the event
    held_from_s: float | None  # the plateau is held (extrapolated) from here ...
    held_to_s: float | None  # ... to here; None: the whole plateau was stepped through
    snapshots: dict[float, dict[str, Hpa]]  # controller states asked for, by time

    def at(self, node: str, t_s: float, ready: bool = True) -> int:
        """Replicas of `node` at time `t_s` (the last sync at or before it)."""
        k = max(int(np.searchsorted(self.times_s, t_s, side="right")) - 1, 0)
        return int((self.ready if ready else self.replicas)[node][k])

    def unit_hours(self, node: str, start_s: float, end_s: float) -> float:
        """Replica-hours billed for `node` over [start_s, end_s), the held plateau included."""
        times, spec = self.times_s, self.replicas[node]
        total = 0.0
        for k, t in enumerate(times):
            nxt = times[k + 1] if k + 1 < len(times) else t + SYNC_S
            if self.held_from_s is not None and t < self.held_from_s <= nxt:
                nxt = self.held_from_s  # the held stretch is added below at the settled count
            lo, hi = max(t, start_s), min(nxt, end_s)
            if hi > lo:
                total += spec[k] * (hi - lo)
        if self.held_from_s is not None:
            settled = self.at(node, self.held_from_s - 1e-6, ready=False)
            lo, hi = max(self.held_from_s, start_s), min(self.held_to_s, end_s)
            total += settled * max(hi - lo, 0.0)
        return total / 3600.0


def track(
    scenario: Scenario, event: PeakEvent, base_rps: float, snapshot_at: tuple[float, ...] = ()
) -> Track:
    """Step every autoscaled node's HPA through the event, starting settled at the planning load.

    Each sync reads the utilization the offered load implies on the ready pods
    (`autoscale.follow`, the controller `simulate_day` uses); `snapshot_at` keeps a copy of
    the controllers at those times, so a simulation can start from them mid-event.
    """
    tail = tail_s(scenario)
    onset_end = onset_end_s(scenario, event)
    if onset_end + 2 * SYNC_S >= event.plateau_end_s:  # a short plateau is stepped through whole
        pieces = [(-LEAD_S, event.end_s + tail)]
        held = (None, None)
    else:
        pieces = [(-LEAD_S, onset_end), (event.plateau_end_s - SYNC_S, event.end_s + tail)]
        held = (onset_end, event.plateau_end_s - SYNC_S)
    times = np.concatenate([np.arange(lo, hi, SYNC_S) for lo, hi in pieces])
    rates = event.rate_rps(base_rps, times + SYNC_S / 2)  # the mean of each sync period (linear within)
    start = at_peak(scenario, base_rps)
    per_rps = busy_cores_per_rps(scenario)
    replicas, ready, first, snaps = {}, {}, {}, {t: {} for t in snapshot_at}
    for name in autoscaled_nodes(scenario):
        node = start.nodes[name]
        hpa = Hpa(node.autoscale, node.replicas, SYNC_S, ready_at_s=[-math.inf] * node.replicas)
        first[name] = hpa.replicas
        spec_parts, ready_parts, begin = [], [], 0
        for t_snap in sorted(snapshot_at) + [math.inf]:
            end = int(np.searchsorted(times, t_snap, side="left"))
            spec, serving, _ = follow(
                hpa, times[begin:end], rates[begin:end], per_rps[name], cores_per_replica(node)
            )
            spec_parts.append(spec)
            ready_parts.append(serving)
            begin = end
            if math.isfinite(t_snap):
                snaps[t_snap][name] = _shifted(hpa, t_snap)
        replicas[name] = np.concatenate(spec_parts).astype(int)
        ready[name] = np.concatenate(ready_parts).astype(int)
    return Track(times, rates, replicas, ready, first, held[0], held[1], snaps)


def _shifted(hpa: Hpa, origin_s: float) -> Hpa:
    """A copy of the controller with its clock moved so that `origin_s` is time 0."""
    return Hpa(
        hpa.config,
        hpa.replicas,
        hpa.sync_s,
        hpa.tolerance,
        ready_at_s=[t - origin_s for t in hpa.ready_at_s],
        history=type(hpa.history)((t - origin_s, r) for t, r in hpa.history),
    )
