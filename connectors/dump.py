"""Series fetched through a source (and the cache), with a report of what the fetch read and cost.

`fetch_series` is what `model.fit.fetch` calls for the series a fit file names; `write_series_csv`
backs `python cli.py fit --config FIT.yaml --dump FILE.csv` for users who want the data itself.
This module knows sources and metric specs, not fit files (connectors never import the fit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from connectors.base import Query
from connectors.cache import SeriesCache, cached_fetch
from connectors.errors import ConnectorError
from connectors.registry import SourceSettings, open_source
from connectors.window import Window


@dataclass
class FetchReport:
    """What a fetch read and what it cost, for the CLI to print and the app to show."""

    source: str
    window: Window
    series: int
    points: int
    calls: int = 0
    retries: int = 0
    cost_usd: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    warnings: list[str] = field(default_factory=list)
    out_path: str | None = None

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "start": self.window.start.isoformat(),
            "end": self.window.end.isoformat(),
            "period_s": self.window.period_s,
            "series": self.series,
            "points": self.points,
            "calls": self.calls,
            "retries": self.retries,
            "cost_usd": round(self.cost_usd, 6),
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "warnings": list(self.warnings),
            "out_path": self.out_path,
        }

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        text = (
            f"{self.series} series, {self.points} points from {self.source}, "
            f"{self.window.start:%Y-%m-%d %H:%M} to {self.window.end:%Y-%m-%d %H:%M} UTC at {self.window.period_s} s"
        )
        if self.calls or self.cache_hits:
            text += f"; {self.calls} API call(s)"
            if self.retries:
                text += f" ({self.retries} retried)"
            text += f", {self.cache_hits} from cache"
        if self.cost_usd:
            text += f", about ${self.cost_usd:.4f}"
        if self.out_path:
            text += f"; written to {self.out_path}"
        return text


def fetch_series(
    source: str,
    series: dict[str, BaseModel],
    lookback: timedelta,
    period_s: int,
    settings: SourceSettings = SourceSettings(),
    refresh: bool = False,
    end: datetime | None = None,
    cache: SeriesCache | None = None,
) -> tuple[pd.DataFrame, FetchReport]:
    """The tidy frame of every series (id -> the source's metric spec) over an aligned window, and what it cost."""
    reader = open_source(source, settings)
    queries = [Query(name, metric) for name, metric in series.items()]
    frame, cache_stats = cached_fetch(
        reader, queries, lookback, period_s, end=end, refresh=refresh, cache=cache
    )
    window = reader.window(lookback, period_s, end)
    if reader.name == "csv":  # the CSV window ends at the data, not now
        window = Window(
            frame["timestamp"].min().to_pydatetime(), frame["timestamp"].max().to_pydatetime(), period_s
        )
    stats = getattr(reader, "stats", None)
    report = FetchReport(
        source=reader.name,
        window=window,
        series=len(queries),
        points=len(frame),
        calls=stats.calls if stats else 0,
        retries=stats.retries if stats else 0,
        cost_usd=stats.cost_usd if stats else 0.0,
        cache_hits=cache_stats.hits,
        cache_misses=cache_stats.misses,
        warnings=list(getattr(reader, "warnings", [])),
    )
    return frame, report


def write_series_csv(frame: pd.DataFrame, out_path: str | Path, report: FetchReport) -> FetchReport:
    """Write timestamp,series,value,unit (ISO 8601 UTC stamps) to a CSV file, atomically."""
    out = Path(out_path)
    written = frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temp = out.with_name(out.name + ".tmp")
        written.to_csv(temp, index=False, float_format="%.10g")
        os.replace(temp, out)
    except OSError as exc:
        raise ConnectorError(
            f"cannot write {out} ({exc.strerror}).", "Choose a writable path for --dump."
        ) from None
    report.out_path = str(out)
    return report
