"""Load tests: steady phases instead of days.

A load test is minutes long and runs the system at a few offered loads in turn (a ramp, a
few steady phases, maybe a what-if with other settings). Days, busy hours and growth mean
nothing there; what the fit needs is the steady windows, where traffic, CPU and latency have
settled at one load, without the transients of the ramps between them. The fit file lists
them (`phases: [{start, end, name, workers}]`), or they are found here: runs of periods whose
smoothed traffic stays within STEADY_TOLERANCE of the run's median, at least MIN_PHASE_S long,
with their first and last SETTLE_S left out (the system settles after a load change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

STEADY_TOLERANCE = 0.15  # a phase's smoothed traffic stays within this share of its median
MIN_PHASE_S = 60  # shorter steady runs are transients, not phases
SETTLE_S = 10  # left out at each end of a detected phase
SMOOTH_S = 15  # the rolling median's width
LOAD_TEST_DAYS = 1.0  # `mode: auto` reads a window shorter than this as a load test


@dataclass(frozen=True)
class PhaseSpan:
    """One steady window: [start, end), the load it held, and the workers it ran with if known."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    mean_rps: float = float("nan")
    periods: int = 0
    workers: int | None = None
    detected: bool = False

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "start": f"{self.start:%Y-%m-%d %H:%M:%S}",
            "end": f"{self.end:%Y-%m-%d %H:%M:%S}",
            "mean_rps": round(self.mean_rps, 4),
            "periods": self.periods,
            "workers": self.workers,
            "detected": self.detected,
        }

    def text(self) -> str:
        workers = f", {self.workers} workers" if self.workers else ""
        return (
            f"{self.name}: {self.start:%H:%M:%S} to {self.end:%H:%M:%S} UTC, {self.mean_rps:,.2f} req/s "
            f"over {self.periods} periods{workers}{' (detected)' if self.detected else ''}"
        )


def is_load_test(mode: str, has_phases: bool, period_s: int, span_s: float) -> bool:
    """`mode: auto` means a load test when phases are listed, periods are under a minute or the window under a day."""
    if mode != "auto":
        return mode == "load_test"
    return has_phases or period_s < 60 or span_s < LOAD_TEST_DAYS * 86400


def given_phases(phases, traffic_rps: pd.Series) -> list[PhaseSpan]:
    """The fit file's phases with the load each held (naive stamps are UTC)."""
    out = []
    for i, p in enumerate(phases):
        start, end = _utc(p.start), _utc(p.end)
        inside = traffic_rps[(traffic_rps.index >= start) & (traffic_rps.index < end)].dropna()
        out.append(
            PhaseSpan(
                p.name or f"phase {i + 1}",
                start,
                end,
                float(inside.mean()) if len(inside) else float("nan"),
                len(inside),
                p.workers,
            )
        )
    return out


def detect_phases(traffic_rps: pd.Series, period_s: int) -> list[PhaseSpan]:
    """Steady runs of traffic (see the module docstring), in time order."""
    present = traffic_rps.dropna()
    if not len(present):
        return []
    width = max(3, int(round(SMOOTH_S / period_s)) | 1)
    smooth = present.rolling(width, center=True, min_periods=1).median().to_numpy()
    stamps = present.index
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(smooth) + 1):
        if i < len(smooth):
            level = float(np.median(smooth[start:i]))
            gap = (stamps[i] - stamps[i - 1]).total_seconds() > 3 * period_s
            ahead = smooth[i : i + width]  # a change of load holds; a blip of noise does not
            if not gap and np.min(np.abs(ahead - level)) <= STEADY_TOLERANCE * max(level, 1e-9):
                continue
        runs.append((start, i))
        start = i
    settle = int(np.ceil(SETTLE_S / period_s))
    out: list[PhaseSpan] = []
    for a, b in runs:
        a2, b2 = a + settle, b - settle
        if b2 <= a2 or (b2 - a2) * period_s < MIN_PHASE_S:
            continue
        values = present.iloc[a2:b2]
        if float(values.mean()) <= 0:
            continue
        out.append(
            PhaseSpan(
                f"phase {len(out) + 1}",
                stamps[a2],
                stamps[b2 - 1] + pd.Timedelta(seconds=period_s),
                float(values.mean()),
                len(values),
                None,
                True,
            )
        )
    return out


def in_phases(index: pd.DatetimeIndex, phases: list[PhaseSpan]) -> np.ndarray:
    keep = np.zeros(len(index), dtype=bool)
    for p in phases:
        keep |= (index >= p.start) & (index < p.end)
    return keep


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize(timezone.utc) if stamp.tzinfo is None else stamp.tz_convert(timezone.utc)
