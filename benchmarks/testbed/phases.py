"""The run's plan and the ramp that finds the measured capacity (the knee).

A profile fixes the phase lengths; every length, load and placement is a command-line
parameter too. Loads of the fit, test and what-if phases are fractions of the capacity the
ramp measured, so the same plan suits a fast and a slow machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    ramp_step_s: float
    fit_s: float
    test_s: float
    whatif_s: float
    warmup_s: float
    period_s: int
    sample_s: float
    sim_requests: int
    fit_loads: tuple[float, ...] = (0.20, 0.35, 0.50)
    test_loads: tuple[float, ...] = (0.65, 0.80, 0.90, 1.00, 1.10)
    whatif_load: float = 0.5
    fixed_rates: tuple[float, ...] = ()  # smoke: fit at these rates, no ramp, no test or what-if phases


PROFILES = {
    "smoke": Profile(
        ramp_step_s=0,
        fit_s=13,
        test_s=0,
        whatif_s=0,
        warmup_s=1,
        period_s=1,
        sample_s=1,
        sim_requests=2000,
        fixed_rates=(12.0, 24.0),
    ),
    "quick": Profile(
        ramp_step_s=10,
        fit_s=60,
        test_s=30,
        whatif_s=30,
        warmup_s=5,
        period_s=5,
        sample_s=1,
        sim_requests=20000,
    ),
    "full": Profile(
        ramp_step_s=15,
        fit_s=150,
        test_s=75,
        whatif_s=75,
        warmup_s=10,
        period_s=5,
        sample_s=1,
        sim_requests=50000,
    ),
}


@dataclass
class RampStep:
    offered_rps: float
    served_rps: float
    mean_ms: float
    p99_ms: float
    error_pct: float
    p99_ci95_ms: list[float] | None = None  # measure.p99_interval: how far the step's own p99 is known

    @property
    def keeps_up(self) -> bool:
        return self.served_rps >= 0.95 * self.offered_rps and self.error_pct < 1.0


@dataclass
class Knee:
    capacity_rps: float  # the most the system served in any ramp step (its saturated throughput)
    knee_rps: float  # the first offered rate it did not keep up with
    steps: list[RampStep]


def ramp_rates(estimate_rps: float) -> list[float]:
    """Offered rates from 20 % to 160 % of a utilization-law estimate, 10 % apart.

    The estimate (the CPU the three servers use per request at the probe, against the service
    cores) is an upper bound: on a shared machine other work takes part of those cores, so the
    ramp starts well below it and stops after two steps it did not keep up with.
    """
    return [estimate_rps * f / 100 for f in range(20, 161, 10)]


def knee(steps: list[RampStep]) -> Knee:
    """The capacity and the knee: the first step of the last run of steps not kept up with.

    A single short step can miss the 95 % by Poisson noise and be followed by steps that keep
    up; the knee is where the system stopped keeping up for good.
    """
    capacity = max(s.served_rps for s in steps)
    i = len(steps)
    while i > 0 and not steps[i - 1].keeps_up:
        i -= 1
    return Knee(capacity, steps[min(i, len(steps) - 1)].offered_rps, steps)
