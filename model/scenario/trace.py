"""Replaying a recorded load: a CSV of timestamp,rate_rps as a time-varying Poisson stream.

The trace gives the shape of the load; `workload.rate_rps` gives its scale: rates are
multiplied so that the trace's peak equals rate_rps, so growth and `--rate` still apply.
The rate holds from one stamp to the next; the replay starts at the first stamp and loops.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model.scenario.limits import LimitError, clip, limit
from model.scenario.strict_yaml import read_bounded

if TYPE_CHECKING:
    import pandas as pd


class TraceError(ValueError):
    pass


@dataclass(frozen=True)
class ArrivalTrace:
    starts_ms: np.ndarray  # segment start times from the trace's first stamp
    rates_per_ms: np.ndarray  # arrival rate in each segment
    period_ms: float  # the trace's length; the replay loops after it

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


def resolve_trace_path(trace: str, folder: Path) -> Path:
    """The trace file `trace` names, which must lie in the scenario's folder (or below it).

    A scenario can come from someone else (a shared folder, a link's changes), so its trace
    path must not reach other files: no absolute paths, no `..`, no symlink out of the folder.
    """
    shown = clip(trace, 80)
    relative = Path(trace)
    if relative.is_absolute() or trace.startswith("~"):
        raise TraceError(
            f"trace file {shown!r} must be a path relative to the scenario's folder, not absolute"
        )
    if ".." in relative.parts:
        raise TraceError(f"trace file {shown!r} must stay inside the scenario's folder (no '..')")
    base = folder.resolve()
    resolved = (base / relative).resolve()
    if not resolved.is_relative_to(base):
        raise TraceError(f"trace file {shown!r} leads outside the scenario's folder (a symbolic link)")
    return resolved


def read_trace_frame(path: str | Path, name: str | None = None) -> "pd.DataFrame":
    """The trace's rows, sorted, or TraceError naming the file (`name`, default its file name).

    A message never repeats what the file holds: the file may not be what it claims to be.
    """
    # pandas (0.4 s to import) is loaded here, not at the top: only a scenario with a trace
    # reads one, and every scenario load imports this module (tests/test_cli_imports.py).
    import pandas as pd

    shown = repr(clip(name if name is not None else Path(path).name, 80))
    try:
        data = read_bounded(path, limit("TRACE_BYTES"), "TRACE_BYTES", "trace file")
    except FileNotFoundError:
        raise TraceError(f"trace file {shown} not found") from None
    except IsADirectoryError:
        raise TraceError(f"trace file {shown} is a folder") from None
    except LimitError as exc:
        raise TraceError(f"trace file {shown}: {exc}") from None
    except OSError as exc:
        raise TraceError(f"trace file {shown} cannot be read ({exc.__class__.__name__})") from None
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except Exception:  # pandas raises many parser types; all mean the same to a user
        raise TraceError(f"trace file {shown} cannot be read as CSV of timestamp,rate_rps") from None
    cols = {str(c).strip().lower(): c for c in frame.columns}
    if "timestamp" not in cols or "rate_rps" not in cols:
        raise TraceError(f"trace file {shown} needs a header line with the columns timestamp,rate_rps")
    out = pd.DataFrame(
        {
            "timestamp": _timestamps(frame[cols["timestamp"]]),
            "rate_rps": pd.to_numeric(frame[cols["rate_rps"]], errors="coerce"),
        }
    )
    if np.isinf(out["rate_rps"]).any():
        raise TraceError(f"trace file {shown} has an infinite rate; rates must be finite numbers")
    out = out.dropna().sort_values("timestamp").drop_duplicates("timestamp")
    if len(out) < 2:
        raise TraceError(f"trace file {shown} has fewer than two readable rows of timestamp,rate_rps")
    if (out["rate_rps"] < 0).any():
        raise TraceError(f"trace file {shown} has negative rates")
    if out["rate_rps"].max() <= 0:
        raise TraceError(f"trace file {shown} has no positive rate")
    return out


# Epoch numbers are read in the unit that puts them between 1990 and 2200.
_EPOCH_UNITS = (("s", 1e0), ("ms", 1e3), ("us", 1e6), ("ns", 1e9))
_EPOCH_SPAN_S = (631_152_000, 7_258_118_400)


def _timestamps(column: "pd.Series") -> "pd.Series":
    """Stamps as UTC datetimes: ISO text (any offset, so a daylight-saving repeat stays distinct) or
    epoch numbers in seconds, ms, us or ns, the unit told from their size (a day of seconds is not
    0.0864 ms of nanoseconds)."""
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().mean() > 0.5:
        median = float(numbers.abs().median())
        for unit, per_second in _EPOCH_UNITS:
            if _EPOCH_SPAN_S[0] <= median / per_second <= _EPOCH_SPAN_S[1]:
                return pd.to_datetime(numbers, unit=unit, errors="coerce", utc=True)
        return pd.to_datetime(numbers, unit="s", errors="coerce", utc=True)  # offsets in seconds
    return pd.to_datetime(column, errors="coerce", utc=True, format="mixed")


def load_trace(path: str | Path, peak_rps: float) -> ArrivalTrace:
    frame = read_trace_frame(path)
    t_ms = (frame["timestamp"] - frame["timestamp"].iloc[0]).dt.total_seconds().to_numpy() * 1000.0
    step = float(np.median(np.diff(t_ms)))
    rates = frame["rate_rps"].to_numpy(dtype=float)
    rates = rates * (peak_rps / rates.max()) / 1000.0
    return ArrivalTrace(t_ms, rates, float(t_ms[-1] + step))
