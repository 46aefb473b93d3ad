"""A load-test ramp: virtual users added step by step over time, as JMeter and Locust ramps do.

The closed workload's loop (model.queueing.sim.closed: request, wait for the answer, think) run
through time: at each step's start the number of users changes (new users begin with a think time,
as a running user would be found; users beyond a lower step leave when their request ends). Nothing
is discarded as warm-up: like a load tool's report, each step counts the requests that ended in it,
so the first seconds after a step show the system catching up, and an overload shows as latency
growing within the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from simpy.events import Timeout

from model.queueing.results import Results
from model.queueing.sim.closed import ClosedSimulation
from model.queueing.sim.simulation import RunLimits
from model.queueing.statistics import percentiles
from model.scenario.schema import Scenario

MAX_STEPS = 200
PROGRESS_STEPS = 20


@dataclass(frozen=True)
class RampStep:
    """The requests that ended within one step of the ramp."""

    start_s: float
    end_s: float
    users: int
    completed: int  # answered
    errors: int  # failed (timed out at the entry)
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def throughput_rps(self) -> float:
        return self.completed / max(self.end_s - self.start_s, 1e-9)

    @property
    def error_pct(self) -> float:
        total = self.completed + self.errors
        return 100.0 * self.errors / total if total else 0.0

    def to_json(self) -> dict[str, Any]:
        def r(v: float) -> float | None:
            return round(v, 3) if math.isfinite(v) else None

        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "users": self.users,
            "throughput_rps": round(self.throughput_rps, 3),
            "latency_ms": {
                "mean": r(self.mean_ms),
                "p50": r(self.p50_ms),
                "p95": r(self.p95_ms),
                "p99": r(self.p99_ms),
            },
            "completed": self.completed,
            "errors": self.errors,
            "error_pct": round(self.error_pct, 4),
        }


def step_schedule(start_users: int, end_users: int, steps: int, step_s: float) -> list[tuple[float, int]]:
    """`steps` evenly spaced user counts from start to end, each held `step_s` seconds."""
    if steps < 1 or steps > MAX_STEPS:
        raise ValueError(f"steps must be from 1 to {MAX_STEPS}")
    if steps == 1:
        return [(0.0, end_users)]
    counts = np.linspace(start_users, end_users, steps).round().astype(int)
    return [(k * step_s, max(int(c), 1)) for k, c in enumerate(counts)]


class RampSimulation(ClosedSimulation):
    """Users following `schedule` [(start_s, users), ...] for `duration_s` seconds."""

    def __init__(
        self,
        scenario: Scenario,
        schedule: list[tuple[float, int]],
        duration_s: float,
        seed: int | None = None,
        progress: Callable[[float], None] | None = None,
    ):
        super().__init__(
            scenario, max(u for _, u in schedule), seed, RunLimits(requests=1, warmup=0), progress
        )
        self.schedule = sorted(schedule)
        self.duration_ms = duration_s * 1000.0
        self.target = math.inf
        self.measure_from = 0.0
        self.active = 0  # users in the loop now
        self.wanted = 0  # users the current step asks for
        self.finished: list[tuple[float, float, bool]] = []  # (end ms, latency ms, failed)

    def _record(self, latency_ms: float, failed: bool) -> None:
        self.completed += 1
        self.finished.append((self.env._now, latency_ms, failed))

    def _after_think(self) -> None:
        if self.active > self.wanted:  # a lower step: this user leaves as its request ends
            self.active -= 1
            return
        super()._after_think()

    def _step_to(self, users: int) -> None:
        self.wanted = users
        while self.active < users:
            self.active += 1
            super()._after_think()

    def run(self) -> Results:
        self._start_measuring()
        for start_s, users in self.schedule:
            Timeout(self.env, start_s * 1000.0).callbacks.append(lambda _e, u=users: self._step_to(u))
        if self.progress:
            for k in range(1, PROGRESS_STEPS + 1):
                Timeout(self.env, self.duration_ms * k / PROGRESS_STEPS).callbacks.append(
                    lambda _e, f=k / PROGRESS_STEPS: self.progress(f)
                )
        self.env.run(until=self.duration_ms)
        self.latencies = [lat for _, lat, failed in self.finished if not failed]
        self.failed = sum(1 for *_, failed in self.finished if failed)
        self.limits = RunLimits(requests=len(self.finished), warmup=0)
        return self._results(hit_time_limit=False)

    def steps(self) -> list[RampStep]:
        """Each step's requests: those that ended between its start and the next step's."""
        data = np.array(self.finished, dtype=float).reshape(-1, 3)
        ends = [s for s, _ in self.schedule[1:]] + [self.duration_ms / 1000.0]
        network = self.scenario.workload.network_ms
        out = []
        for (start_s, users), end_s in zip(self.schedule, ends):
            rows = data[(data[:, 0] >= start_s * 1000.0) & (data[:, 0] < end_s * 1000.0)]
            ok = rows[rows[:, 2] == 0, 1] + network
            q = percentiles(ok) if len(ok) else {50: math.nan, 95: math.nan, 99: math.nan}
            mean = float(ok.mean()) if len(ok) else math.nan
            out.append(
                RampStep(start_s, end_s, users, len(ok), int(rows[:, 2].sum()), mean, q[50], q[95], q[99])
            )
        return out


def run_ramp(
    scenario: Scenario,
    schedule: list[tuple[float, int]],
    step_s: float,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[Results, list[RampStep]]:
    """Simulate the ramp: `schedule` of (start_s, users), the last step held `step_s` seconds."""
    duration_s = schedule[-1][0] + step_s
    sim = RampSimulation(scenario, schedule, duration_s, seed, progress)
    results = sim.run()
    return results, sim.steps()
