"""Service-time distributions shared by the simulator (sampling) and the theory (moments).

One object serves both so that the simulator and the analytic solver can never disagree
about what "service_ms 40, cv 2" means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ServiceTime:
    """Mean and coefficient of variation: cv 0 fixed, 1 exponential, others gamma."""

    mean_ms: float
    cv: float = 1.0

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, the number queueing formulas use."""
        return self.cv * self.cv

    @property
    def variance(self) -> float:
        return (self.mean_ms * self.cv) ** 2

    def scaled(self, speed: float) -> "ServiceTime":
        """The same work on a core running at `speed` (a pod CPU limit below one core)."""
        return ServiceTime(self.mean_ms / speed, self.cv)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws in milliseconds; drawn in blocks because one numpy call per visit is slow."""
        if self.cv == 0:
            return np.full(n, self.mean_ms)
        if self.cv == 1:
            return rng.exponential(self.mean_ms, n)
        shape = 1.0 / self.scv
        return rng.gamma(shape, self.mean_ms / shape, n)


def mixture(parts: list[tuple[float, ServiceTime]]) -> ServiceTime:
    """Mean and cv of a probabilistic mix (a database pool serving reads and writes)."""
    total = sum(w for w, _ in parts)
    if total <= 0:
        return parts[0][1]
    mean = sum(w * s.mean_ms for w, s in parts) / total
    second = sum(w * (s.variance + s.mean_ms**2) for w, s in parts) / total
    var = max(second - mean * mean, 0.0)
    return ServiceTime(mean, (var**0.5) / mean if mean > 0 else 0.0)
