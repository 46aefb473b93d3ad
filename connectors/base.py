"""The interface every metric source implements, and the tidy frame they all return.

The fit, the app and the dump only ever see this interface: discover what exists, then
fetch series over an aligned window. A frame has one row per observed bucket with columns
`timestamp` (UTC, the start of the bucket), `series` (the caller's id), `value` (float) and
`unit`. A bucket with no data has no row: gaps stay gaps, and nothing is filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd
from pydantic import BaseModel

from connectors.errors import ConnectorError
from connectors.window import Window

COLUMNS = ("timestamp", "series", "value", "unit")


@dataclass(frozen=True)
class Query:
    """One series to fetch: the id it gets in the frame, and the source's metric spec."""

    series: str
    metric: BaseModel


@dataclass(frozen=True)
class MetricInfo:
    """One metric a source found. `metric` is a spec a fit file can name as-is."""

    source: str
    metric: BaseModel
    resource: str  # what it observes, e.g. "AWS/RDS DBInstanceIdentifier=shop-db"
    unit: str = ""
    suggested_key: str = ""  # the fit-file key it most likely fills: cpu, traffic, latency, hits, ...
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if getattr(self.metric, "column", None):  # a CSV column: "file: column", one label per column
            return f"{self.resource}: {self.metric.column}"
        return f"{self.resource} {getattr(self.metric, 'name', '') or getattr(self.metric, 'type', '') or getattr(self.metric, 'series', '') or getattr(self.metric, 'query', '')}".strip()


@dataclass
class FetchStats:
    """What a fetch cost: API calls made (retries counted apart) and points returned."""

    calls: int = 0
    retries: int = 0
    points: int = 0
    metrics_requested: int = 0
    cost_usd: float = 0.0

    def add(self, other: "FetchStats") -> None:
        for name in ("calls", "retries", "points", "metrics_requested", "cost_usd"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@runtime_checkable
class Source(Protocol):
    """A metric source: what the fit and the Observe page read observed series through.

    Implementations (each a row of `connectors.registry.SOURCES`): demo, csv, cloudwatch, gcp. A source
    lists what it has (`discover`) and fetches series for `Query`s over an aligned window as the tidy
    frame above; it knows metric specs (`connectors.specs`), never fit files or scenarios' numbers.
    Optional attributes the fetch reads when present: `cacheable` (pulls cost money: keep them in the
    local cache), `stats` (FetchStats: calls and cost) and `warnings` (lines for the fetch report).
    """

    name: str

    def identity(self) -> str:
        """What makes two instances read the same data (region, project, endpoint): the cache key's prefix."""
        ...

    def discover(self, **filters: Any) -> list[MetricInfo]:
        """The metrics this source can fetch, with specs ready for a fit file."""
        ...

    def fetch(
        self, queries: Sequence[Query], lookback: timedelta, period_s: int, *, end: datetime | None = None
    ) -> pd.DataFrame:
        """Series for the queries over the aligned window ending at `end` (default: now)."""
        ...

    def window(self, lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
        """The aligned window a fetch with these arguments reads (the cache keys on it)."""
        ...


def empty_frame() -> pd.DataFrame:
    return tidy([], [], [], [])


def tidy(timestamps: Any, series: Any, values: Any, units: Any) -> pd.DataFrame:
    """The canonical frame: typed columns, sorted by series then time, no NaN rows."""
    n = len(values)
    stamps = pd.to_datetime(
        timestamps if not isinstance(timestamps, list) else pd.Series(timestamps, dtype="object"), utc=True
    )
    frame = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(stamps).as_unit("ns")
            if n
            else pd.DatetimeIndex([], tz="UTC").as_unit("ns"),
            "series": pd.array(series if not isinstance(series, str) else [series] * n, dtype="str"),
            "value": np.asarray(values, dtype="float64"),
            "unit": pd.array(units if not isinstance(units, str) else [units] * n, dtype="str"),
        }
    )
    frame = frame[frame["value"].notna()]
    if not (frame["series"].is_monotonic_increasing and frame["timestamp"].is_monotonic_increasing):
        frame = frame.sort_values(["series", "timestamp"], kind="stable")
    return frame.reset_index(drop=True)


def concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Join tidy frames that each hold different series (as every fetch does) in canonical order."""
    frames = sorted((f for f in frames if len(f)), key=lambda f: f["series"].iloc[0])
    if not frames:
        return empty_frame()
    out = pd.concat(frames, ignore_index=True)
    if not out["series"].is_monotonic_increasing:  # frames whose series interleave
        out = out.sort_values(["series", "timestamp"], kind="stable").reset_index(drop=True)
    return out


def require_data(frame: pd.DataFrame, queries: Sequence[Query], window: Window, source: str) -> None:
    """A query that returned nothing is an error, not an empty series a fit would misread."""
    present = set(frame["series"].unique()) if len(frame) else set()
    missing = [q.series for q in queries if q.series not in present]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ConnectorError(
            f"no data for {shown} between {window.start:%Y-%m-%d %H:%M} and {window.end:%Y-%m-%d %H:%M} UTC.",
            "Check the metric's name and dimensions (or filter) against what discovery lists, "
            "and that the resource was running in that window; or raise lookback_days.",
            source=source,
        )


# Called with each pulled batch and its queries as it lands (the cache stores it then).
OnBatch = Callable[[pd.DataFrame, Sequence[Query]], None]


def hand_over(
    frame: pd.DataFrame,
    batch: Sequence[Query],
    window: Window,
    source: str,
    on_batch: OnBatch | None,
    allow_empty: bool,
) -> pd.DataFrame:
    """One pulled batch, checked then handed to `on_batch`, and returned.

    A series with no point is an error (`require_data`), unless `allow_empty`: the cache's pull of
    only the newest periods beyond what it holds, where nothing new is not a fault. The batch goes to
    `on_batch` before the next is pulled, so a pull that fails half-way keeps what it paid for."""
    if not allow_empty:
        require_data(frame, batch, window, source)
    if on_batch:
        on_batch(frame, batch)
    return frame
