"""A run through time in buckets: requests, offered load with retries, goodput and errors per second.

A retry storm is a story in time: a burst pushes the queue past the clients' timeouts, the
retries raise the offered load above capacity, and goodput collapses and stays down after the
burst has passed, or recovers once the backlog drains. One number per run hides that; these
series show it, for a timed run (`simulate --duration`, model.queueing.sim.load_test) and for a
run over a span of time with events (model.queueing.sim.timeline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

NICE_BUCKETS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_BUCKETS = 120
HEALTHY_ERRORS = 0.05  # a bucket whose final failures stay within 5% of its requests is healthy
HEALTHY_GOODPUT = 0.90  # and a recovery answers at least 90% of the requests in time


def bucket_width_s(duration_s: float) -> float:
    """The smallest round width that cuts the run into at most MAX_BUCKETS buckets."""
    return next((w for w in NICE_BUCKETS_S if duration_s / w <= MAX_BUCKETS), NICE_BUCKETS_S[-1])


@dataclass(frozen=True)
class LoadSeries:
    """Per bucket of `bucket_s` seconds, all per second: requests sent (first attempts), attempts offered
    (first attempts and retries), requests answered in time (goodput) and requests that failed after
    their last attempt (errors), each counted in the bucket where it happened."""

    bucket_s: float
    start_s: list[float]
    requests_rps: list[float]
    offered_rps: list[float]
    goodput_rps: list[float]
    errors_rps: list[float]

    def to_json(self) -> dict[str, Any]:
        def r(values: list[float]) -> list[float]:
            return [round(v, 3) for v in values]

        return {
            "bucket_s": self.bucket_s,
            "start_s": r(self.start_s),
            "requests_rps": r(self.requests_rps),
            "offered_rps": r(self.offered_rps),
            "goodput_rps": r(self.goodput_rps),
            "errors_rps": r(self.errors_rps),
        }

    def mean_between(self, start_s: float, end_s: float) -> dict[str, float]:
        """The mean of each series over the buckets that start in [start_s, end_s)."""
        picked = [i for i, s in enumerate(self.start_s) if start_s <= s < end_s]
        out = {}
        for key in ("requests_rps", "offered_rps", "goodput_rps", "errors_rps"):
            values = getattr(self, key)
            out[key] = sum(values[i] for i in picked) / len(picked) if picked else math.nan
        return out

    def end(self) -> dict[str, float]:
        """The state the run ended in: the means over its last tenth (at least one bucket)."""
        count = max(1, len(self.start_s) // 10)
        from_s = self.start_s[-count] if self.start_s else 0.0
        return {"from_s": from_s, **self.mean_between(from_s, math.inf)}

    def recovered_at_s(self, after_s: float) -> float | None:
        """The start of the first bucket at or after `after_s` from which every bucket is healthy (final
        failures within 5% of its requests) and goodput averages at least 90% of the requests; None
        when the run ends failing or falling behind."""
        n = len(self.start_s)
        first = None
        for i in range(n - 1, -1, -1):
            if self.start_s[i] < after_s:
                break
            if self.errors_rps[i] > HEALTHY_ERRORS * max(self.requests_rps[i], 1e-9):
                break
            first = i
        if first is None:
            return None
        tail = self.mean_between(self.start_s[first], math.inf)
        if tail["goodput_rps"] < HEALTHY_GOODPUT * tail["requests_rps"]:
            return None
        return self.start_s[first]


def load_series(
    duration_ms: float,
    bucket_s: float,
    requests_ms: Sequence[float],
    retries_ms: Sequence[float],
    answered_ms: Sequence[float],
    failed_ms: Sequence[float],
) -> LoadSeries:
    """Bucket the moments things happened (ms from the run's start) into per-second rates."""
    width_ms = bucket_s * 1000.0
    count = max(1, int(math.ceil(duration_ms / width_ms - 1e-9)))
    edges = np.arange(count + 1) * width_ms

    def rate(times: Sequence[float]) -> list[float]:
        hist, _ = np.histogram(np.asarray(times, dtype=float), bins=edges)
        spans = np.minimum(edges[1:], duration_ms) - edges[:-1]
        return [float(h / (s / 1000.0)) if s > 0 else 0.0 for h, s in zip(hist, spans)]

    requests = rate(requests_ms)
    retries = rate(retries_ms)
    return LoadSeries(
        bucket_s,
        [float(e / 1000.0) for e in edges[:-1]],
        requests,
        [a + b for a, b in zip(requests, retries)],
        rate(answered_ms),
        rate(failed_ms),
    )
