"""Replaying a recorded load: a CSV of timestamp,rate_rps as a time-varying Poisson stream.

The trace gives the shape of the load; `workload.rate_rps` gives its scale: rates are
multiplied so that the trace's peak equals rate_rps, so growth and `--rate` still apply.
The rate holds from one stamp to the next; the replay starts at the first stamp and loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


class TraceError(ValueError):
    pass


@dataclass(frozen=True)
class ArrivalTrace:
    starts_ms: np.ndarray     # segment start times from the trace's first stamp
    rates_per_ms: np.ndarray  # arrival rate in each segment
    period_ms: float          # the trace's length; the replay loops after it

    def expected_arrivals(self, start_ms: float, end_ms: float) -> float:
        """The rate's integral over [start, end): arrivals a replay expects in that span."""
        loops, phase = divmod(end_ms, self.period_ms)
        whole = float(np.sum(self.rates_per_ms * np.diff(np.append(self.starts_ms, self.period_ms))))
        ends = np.minimum(np.append(self.starts_ms[1:], self.period_ms), phase)
        partial = float(np.sum(self.rates_per_ms * np.clip(ends - self.starts_ms, 0, None)))
        upto_end = loops * whole + partial
        return upto_end - (self.expected_arrivals(0.0, start_ms) if start_ms > 0 else 0.0)

    def mean_rps(self, start_ms: float, end_ms: float) -> float:
        span = end_ms - start_ms
        return self.expected_arrivals(start_ms, end_ms) / span * 1000.0 if span > 0 else 0.0

    def time_for_arrivals_ms(self, count: float) -> float:
        """When a replay from the first stamp expects `count` arrivals (bisection on the integral)."""
        low, high = 0.0, self.period_ms
        while self.expected_arrivals(0.0, high) < count:
            low, high = high, high * 2
        for _ in range(60):
            mid = (low + high) / 2
            low, high = (mid, high) if self.expected_arrivals(0.0, mid) < count else (low, mid)
        return high

    def next_gap_ms(self, now_ms: float, unit_exponential: float) -> float:
        """Time to the next arrival: walk the segments until the rate integral reaches E."""
        remaining = unit_exponential
        t = now_ms
        for _ in range(len(self.starts_ms) * 2 + 2):
            phase = t % self.period_ms
            k = int(np.searchsorted(self.starts_ms, phase, side="right") - 1)
            end = self.starts_ms[k + 1] if k + 1 < len(self.starts_ms) else self.period_ms
            rate = self.rates_per_ms[k]
            span = end - phase
            if rate > 0 and rate * span >= remaining:
                return t + remaining / rate - now_ms
            remaining -= rate * span
            t += span
        return t - now_ms  # a trace of zeros: no arrival within a full loop


def read_trace_frame(path: str | Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise TraceError(f"trace file {path} not found") from None
    except Exception as exc:  # pandas raises many parser types; all mean the same to a user
        raise TraceError(f"trace file {path} cannot be read as CSV: {exc}") from None
    cols = {c.strip().lower(): c for c in frame.columns}
    if "timestamp" not in cols or "rate_rps" not in cols:
        raise TraceError(f"trace file {path} needs the columns timestamp,rate_rps (has {', '.join(frame.columns)})")
    out = pd.DataFrame({
        "timestamp": pd.to_datetime(frame[cols["timestamp"]], errors="coerce", utc=True),
        "rate_rps": pd.to_numeric(frame[cols["rate_rps"]], errors="coerce"),
    }).dropna().sort_values("timestamp").drop_duplicates("timestamp")
    if len(out) < 2:
        raise TraceError(f"trace file {path} has fewer than two readable rows of timestamp,rate_rps")
    if (out["rate_rps"] < 0).any():
        raise TraceError(f"trace file {path} has negative rates")
    if out["rate_rps"].max() <= 0:
        raise TraceError(f"trace file {path} has no positive rate")
    return out


def load_trace(path: str | Path, peak_rps: float) -> ArrivalTrace:
    frame = read_trace_frame(path)
    t_ms = (frame["timestamp"] - frame["timestamp"].iloc[0]).dt.total_seconds().to_numpy() * 1000.0
    step = float(np.median(np.diff(t_ms)))
    rates = frame["rate_rps"].to_numpy(dtype=float)
    rates = rates * (peak_rps / rates.max()) / 1000.0
    return ArrivalTrace(t_ms, rates, float(t_ms[-1] + step))
