"""Every series a fit file names, fetched through its source (and the cache).

`fetch_fit_series` is what the fit and the app call; `dump_fit_series` backs
`python cli.py fit --config FIT.yaml --dump FILE.csv` for users who want the data itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from connectors.base import Query
from connectors.cache import SeriesCache, cached_fetch
from connectors.errors import ConnectorError
from connectors.registry import source_for
from connectors.window import Window

from model.fit.file import FitFile, load_fit_file_as


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
        return {"source": self.source, "start": self.window.start.isoformat(), "end": self.window.end.isoformat(),
                "period_s": self.window.period_s, "series": self.series, "points": self.points, "calls": self.calls,
                "retries": self.retries, "cost_usd": round(self.cost_usd, 6), "cache_hits": self.cache_hits,
                "cache_misses": self.cache_misses, "warnings": list(self.warnings), "out_path": self.out_path}

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        text = (f"{self.series} series, {self.points} points from {self.source}, "
                f"{self.window.start:%Y-%m-%d %H:%M} to {self.window.end:%Y-%m-%d %H:%M} UTC at {self.window.period_s} s")
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


def fetch_fit_series(fit_file: FitFile | str | Path, refresh: bool = False, endpoint: str | None = None,
                     end: datetime | None = None, cache: SeriesCache | None = None,
                     source: str | None = None) -> tuple[pd.DataFrame, FetchReport]:
    """The tidy frame of every series in the fit file (ids: traffic, latency, nodes.NAME.KEY).

    `source` (the CLI's --source) overrides the file's `source:`; the file is then re-validated for it.
    """
    fit = load_fit_file_as(fit_file, source)
    reader = source_for(fit, endpoint)
    queries = [Query(series, metric) for series, metric in fit.series().items()]
    lookback = timedelta(days=fit.lookback_days)
    frame, cache_stats = cached_fetch(reader, queries, lookback, fit.period_s, end=end, refresh=refresh, cache=cache)
    window = reader.window(lookback, fit.period_s, end)
    if reader.name == "csv":  # the CSV window ends at the data, not now
        window = Window(frame["timestamp"].min().to_pydatetime(), frame["timestamp"].max().to_pydatetime(), fit.period_s)
    stats = getattr(reader, "stats", None)
    report = FetchReport(source=reader.name, window=window, series=len(queries), points=len(frame),
                         calls=stats.calls if stats else 0, retries=stats.retries if stats else 0,
                         cost_usd=stats.cost_usd if stats else 0.0,
                         cache_hits=cache_stats.hits, cache_misses=cache_stats.misses,
                         warnings=list(getattr(reader, "warnings", [])))
    return frame, report


def dump_fit_series(config_path: str | Path, out_path: str | Path, refresh: bool = False,
                    endpoint: str | None = None, source: str | None = None) -> FetchReport:
    """Fetch and write timestamp,series,value,unit (ISO 8601 UTC stamps) to a CSV file."""
    frame, report = fetch_fit_series(config_path, refresh=refresh, endpoint=endpoint, source=source)
    out = Path(out_path)
    written = frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temp = out.with_name(out.name + ".tmp")
        written.to_csv(temp, index=False, float_format="%.10g")
        os.replace(temp, out)
    except OSError as exc:
        raise ConnectorError(f"cannot write {out} ({exc.strerror}).", "Choose a writable path for --dump.") from None
    report.out_path = str(out)
    return report
