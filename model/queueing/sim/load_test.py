"""A timed run (`simulate --duration SECONDS`): the load offered for a fixed time, as a load test sees it.

A request-count run measures a steady state and stops early when the system cannot keep up. A
load test instead offers its rate for a fixed time from a cold start, and what it sees in
overload is errors and a queue that keeps growing. This runs the same simulation that way:
arrivals for `duration_s`, every answer within it counted from the first (no warm-up), and the
requests still in the system at the end reported with how fast their number grew.

A burst (`Burst`: the rate times a factor for a while) and client retries are stories in time: such
a run also reports its load per bucket of time (model.queueing.sim.series), and after a burst whether
and when the system recovered.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from simpy.events import Timeout

from model.queueing.results import Results
from model.scenario.schema import Scenario
from model.scenario.trace import ArrivalTrace
from model.queueing.sim.series import LoadSeries, bucket_width_s, load_series
from model.queueing.sim.simulation import RunLimits, Simulation

MAX_DURATION_S = 86_400.0
PROGRESS_STEPS = 20


@dataclass(frozen=True)
class Burst:
    """The rate times `factor` from `start_s` for `length_s` seconds, the plain rate before and after."""

    factor: float
    start_s: float
    length_s: float

    def check(self, duration_s: float) -> None:
        """ValueError saying what is wrong, for the CLI's exit 2 and the app's message."""
        if not (math.isfinite(self.factor) and 0 < self.factor <= 1000):
            raise ValueError(f"the burst factor must be above 0 and at most 1,000 (got {self.factor:g})")
        if not (math.isfinite(self.start_s) and 0 <= self.start_s < duration_s):
            raise ValueError(
                f"the burst must start within the run, 0 to {duration_s:g} s (got {self.start_s:g} s)"
            )
        if not (math.isfinite(self.length_s) and self.length_s > 0):
            raise ValueError(f"the burst must last more than 0 s (got {self.length_s:g} s)")

    def trace(self, rate_rps: float, duration_s: float) -> ArrivalTrace:
        """The run's arrival rate through time, as the simulator replays a trace (no loop within the run)."""
        end_ms = (self.start_s + self.length_s) * 1000.0
        starts = np.array([0.0, self.start_s * 1000.0, end_ms])
        rates = np.array([rate_rps, rate_rps * self.factor, rate_rps]) / 1000.0
        return ArrivalTrace(starts, rates, 2.0 * max(duration_s * 1000.0, end_ms) + 1.0)

    def to_json(self) -> dict[str, Any]:
        return {"factor": self.factor, "start_s": self.start_s, "length_s": self.length_s}


@dataclass(frozen=True)
class LoadTest:
    """What a load test of `duration_s` counts (all requests, from the first second)."""

    duration_s: float
    offered: int  # requests that arrived
    completed: int  # answered within the run
    errors: int  # failed: timed out or refused
    in_flight_end: int  # arrived, not yet answered when the run ended
    in_flight_half: int  # the same at half time
    throughput_rps: float  # answered per second of the run
    series: LoadSeries | None = None  # per bucket of time: with a burst or client retries
    burst: Burst | None = None

    @property
    def backlog_growth_rps(self) -> float:
        """How fast requests pile up over the second half (0 when the system keeps up)."""
        return (self.in_flight_end - self.in_flight_half) / (self.duration_s / 2.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "duration_s": self.duration_s,
            "offered": self.offered,
            "completed": self.completed,
            "errors": self.errors,
            "in_flight_end": self.in_flight_end,
            "backlog_growth_rps": round(self.backlog_growth_rps, 4),
            "throughput_rps": round(self.throughput_rps, 4),
            **self._through_time(),
        }

    def _through_time(self) -> dict[str, Any]:
        """`timeline` and `end` (with a burst or retries), `burst` with when the run recovered from it."""
        if self.series is None:
            return {}
        end = {k: round(v, 3) for k, v in self.series.end().items()}
        out: dict[str, Any] = {"timeline": self.series.to_json(), "end": end}
        if self.burst is not None:
            after_s = self.burst.start_s + self.burst.length_s
            out["burst"] = {**self.burst.to_json(), "recovered_at_s": self.series.recovered_at_s(after_s)}
        return out

    @property
    def backlog_grows(self) -> bool:
        """Overload: over the second half the backlog grew by more than 2% of the arrivals and
        ended half as large again as it was (a system that keeps up holds it level)."""
        offered_rps = self.offered / self.duration_s
        return (
            self.backlog_growth_rps > max(0.02 * offered_rps, 0.1)
            and self.in_flight_end > 1.5 * self.in_flight_half
        )


class TimedSimulation(Simulation):
    """The simulation run for a fixed time: every request counted, none discarded as warm-up."""

    KEEP_TIMES = True

    def __init__(
        self,
        scenario: Scenario,
        rate_rps: float,
        seed: int | None,
        duration_s: float,
        progress: Callable[[float], None] | None = None,
        burst: Burst | None = None,
    ):
        super().__init__(scenario, rate_rps, seed, RunLimits(requests=1, warmup=0), progress)
        self.duration_ms = duration_s * 1000.0
        self.target = math.inf
        self.arrived = 0
        self.in_flight_half = 0
        self.burst = burst
        if burst is not None:
            self.trace = burst.trace(rate_rps, duration_s)
        # When things happened, for the load through time: kept only with a burst or client retries.
        self.stamps: tuple[list, list, list] | None = None
        if burst is not None or self.client is not None:
            self.stamps = ([], [], [])  # requests sent, answered, failed after their last attempt

    def run(self) -> Results:
        env = self.env
        gap = self._arrivals()
        self._start_measuring()

        def arrive(_event) -> None:
            self.arrived += 1
            if self.stamps is not None:
                self.stamps[0].append(env._now)
            self.start_request()
            Timeout(env, gap()).callbacks.append(arrive)

        def half(_event) -> None:
            self.in_flight_half = self._in_flight()

        Timeout(env, gap()).callbacks.append(arrive)
        Timeout(env, self.duration_ms / 2.0).callbacks.append(half)
        if self.progress:
            for step in range(1, PROGRESS_STEPS + 1):
                Timeout(env, self.duration_ms * step / PROGRESS_STEPS).callbacks.append(
                    lambda _e, f=step / PROGRESS_STEPS: self.progress(f)
                )
        env.run(until=self.duration_ms)
        counts = LoadTest(
            self.duration_ms / 1000.0,
            self.arrived,
            len(self.latencies),
            self.failed,
            self._in_flight(),
            self.in_flight_half,
            len(self.latencies) / (self.duration_ms / 1000.0),
            self._series(),
            self.burst,
        )
        results = self._results(hit_time_limit=counts.backlog_grows)
        notes = [n for n in results.notes if not n.startswith("stopped at the time bound")]
        if counts.backlog_grows:
            notes.append(
                f"overload: {counts.in_flight_end:,} requests still in the system after "
                f"{counts.duration_s:g} s, growing by {counts.backlog_growth_rps:,.1f} a second"
            )
        return dataclasses.replace(results, load_test=counts, notes=notes)

    def _in_flight(self) -> int:
        return self.arrived - self.completed

    def _record(self, latency_ms: float, failed: bool) -> None:
        self.completed += 1
        if failed:
            self.failed += 1
        else:
            self.latencies.append(latency_ms)
        if self.stamps is not None:
            self.stamps[2 if failed else 1].append(self.env._now)

    def _series(self) -> LoadSeries | None:
        if self.stamps is None:
            return None
        retries = self.client.retry_times_ms if self.client is not None else []
        duration_s = self.duration_ms / 1000.0
        return load_series(
            self.duration_ms, bucket_width_s(duration_s), self.stamps[0], retries, *self.stamps[1:]
        )


def run_for(
    scenario: Scenario,
    duration_s: float,
    rate_rps: float | None = None,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    burst: Burst | None = None,
) -> Results:
    """Offer the scenario's rate for `duration_s` seconds and count what a load test would; with a
    `burst`, the rate times its factor for a while (a steady rate only: a trace sets its own)."""
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be above 0 and at most {MAX_DURATION_S:,.0f} s (got {duration_s:g})")
    if burst is not None:
        burst.check(duration_s)
        if scenario.workload.arrivals == "trace":
            raise ValueError(
                "a burst changes a steady rate: this scenario replays a trace, which sets its own"
            )
    rate = scenario.workload.rate_rps if rate_rps is None else rate_rps
    return TimedSimulation(scenario, rate, seed, duration_s, progress, burst).run()
