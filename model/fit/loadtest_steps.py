"""A user's own load test, step by step: Locust's stats history or k6's points, by user count.

Load tools ramp users in plateaus; grouping their report by the user count gives one row per
plateau (how long it was held, its throughput, percentiles and errors), which is what the ramp
(`python cli.py ramp FILE --locust ...`) puts beside its simulation of the same steps. The files
are read by connectors.loadtest_files, as the fit reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectors.errors import ConnectorError
from connectors.loadtest_files import read_k6, read_locust

K6_PERIOD_S = 5


@dataclass(frozen=True)
class ObservedStep:
    """One plateau of a load test: every row or period at one user count."""

    users: int
    start_s: float  # since the test began
    duration_s: float
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_pct: float

    def to_json(self) -> dict[str, Any]:
        def r(v: float) -> float | None:
            return round(float(v), 3) if math.isfinite(v) else None

        return {
            "users": self.users,
            "start_s": r(self.start_s),
            "duration_s": r(self.duration_s),
            "throughput_rps": r(self.throughput_rps),
            "latency_ms": {"p50": r(self.p50_ms), "p95": r(self.p95_ms), "p99": r(self.p99_ms)},
            "error_pct": r(self.error_pct),
        }


def _numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce")  # Locust writes N/A before a request finished


def _plateaus(frame: pd.DataFrame, period_s: float | None = None) -> list[ObservedStep]:
    """frame: seconds, users, rps, p50, p95, p99, error_pct; consecutive rows at one user count."""
    frame = frame.dropna(subset=["seconds", "users"]).sort_values("seconds")
    frame = frame[frame["users"] > 0]
    if not len(frame):
        return []
    start = float(frame["seconds"].iloc[0])
    block = (frame["users"] != frame["users"].shift()).cumsum()
    out = []
    for _, rows in frame.groupby(block, sort=False):
        first, last = float(rows["seconds"].iloc[0]), float(rows["seconds"].iloc[-1])
        held = (
            last
            - first
            + (period_s or (float(np.median(np.diff(frame["seconds"]))) if len(frame) > 1 else 1.0))
        )

        out.append(
            ObservedStep(
                int(rows["users"].iloc[0]),
                first - start,
                held,
                _median(rows, "rps"),
                _median(rows, "p50"),
                _median(rows, "p95"),
                _median(rows, "p99"),
                _median(rows, "error_pct"),
            )
        )
    return out


def _median(rows: pd.DataFrame, column: str) -> float:
    values = rows[column].dropna()
    return float(values.median()) if len(values) else math.nan


def locust_steps(path: str | Path) -> list[ObservedStep]:
    """Plateaus of Locust's `--csv` stats history (its Aggregated rows)."""
    columns = ["User Count", "Requests/s", "Failures/s", "50%", "95%", "99%"]
    raw = read_locust(Path(path), columns, None)
    rps, fails = _numbers(raw["Requests/s"]), _numbers(raw["Failures/s"])
    frame = pd.DataFrame(
        {
            "seconds": _numbers(raw["timestamp"]),
            "users": _numbers(raw["User Count"]),
            "rps": rps - fails.fillna(0.0),
            "p50": _numbers(raw["50%"]),
            "p95": _numbers(raw["95%"]),
            "p99": _numbers(raw["99%"]),
            "error_pct": 100.0 * fails / rps.where(rps > 0),
        }
    )
    return _steps_or_refuse(path, _plateaus(frame))


def k6_steps(path: str | Path) -> list[ObservedStep]:
    """Plateaus of k6's `--out json` points (vus, http_reqs, http_req_duration, http_req_failed)."""
    metrics = [
        ("vus", "max"),
        ("http_reqs", "count"),
        ("http_req_duration", "p50"),
        ("http_req_duration", "p95"),
        ("http_req_duration", "p99"),
    ]
    raw, _ = read_k6(Path(path), metrics, K6_PERIOD_S)
    try:
        failed, _ = read_k6(Path(path), [("http_req_failed", "mean")], K6_PERIOD_S)
        error_pct = (
            100.0 * failed.set_index("timestamp")["http_req_failed:mean"].reindex(raw["timestamp"]).to_numpy()
        )
    except ConnectorError:  # older k6 versions write no http_req_failed
        error_pct = np.full(len(raw), math.nan)
    frame = pd.DataFrame(
        {
            "seconds": [t.timestamp() for t in pd.to_datetime(raw["timestamp"], utc=True)],
            "users": raw["vus:max"].to_numpy(),
            "rps": raw["http_reqs:count"].to_numpy() / K6_PERIOD_S,
            "p50": raw["http_req_duration:p50"].to_numpy(),
            "p95": raw["http_req_duration:p95"].to_numpy(),
            "p99": raw["http_req_duration:p99"].to_numpy(),
            "error_pct": error_pct,
        }
    )
    return _steps_or_refuse(path, _plateaus(frame, K6_PERIOD_S))


def _steps_or_refuse(path: str | Path, steps: list[ObservedStep]) -> list[ObservedStep]:
    if not steps:
        raise ConnectorError(
            f"{Path(path).name}: no rows with users running.",
            "Give the file of a run that had users (Locust --csv history, k6 --out json).",
            source="csv",
        )
    return steps
