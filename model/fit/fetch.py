"""The fit's only I/O: every series a fit file names, fetched through its source (and the cache).

`fetch_fit_series` is what the fit and the app call; `dump_fit_series` backs
`python cli.py fit --config FIT.yaml --dump FILE.csv`. The fit file says which source and
metrics; `connectors` does the reading and knows nothing of fit files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from connectors.cache import SeriesCache
from connectors.dump import FetchReport, fetch_series, write_series_csv
from connectors.registry import SOURCES, SourceSettings
from model.fit.file import FitFile, base_dir, load_fit_file_as


def settings_for(fit: FitFile, endpoint: str | None = None) -> SourceSettings:
    """Where the fit file's source reads from. `endpoint` (HOST:PORT or a URL) points a cloud source elsewhere."""
    info = SOURCES[fit.source]  # type: ignore[attr-defined]
    options = getattr(fit, info.options[0]) if info.options else None
    return SourceSettings(
        region=fit.region,
        project=fit.project,
        endpoint=endpoint,
        folder=base_dir(fit),
        options=options,
        url=fit.url,
        headers=tuple(sorted(fit.headers.items())),
    )


def fetch_fit_series(
    fit_file: FitFile | str | Path,
    refresh: bool = False,
    endpoint: str | None = None,
    end: datetime | None = None,
    cache: SeriesCache | None = None,
    source: str | None = None,
) -> tuple[pd.DataFrame, FetchReport]:
    """The tidy frame of every series in the fit file (ids: traffic, latency, nodes.NAME.KEY).

    `source` (the CLI's --source) overrides the file's `source:`; the file is then re-validated for it.
    """
    fit = load_fit_file_as(fit_file, source)
    return fetch_series(
        fit.source,
        fit.series(),
        timedelta(days=fit.lookback_days),
        fit.period_s,  # type: ignore[attr-defined]
        settings_for(fit, endpoint),
        refresh=refresh,
        end=end,
        cache=cache,
    )


def dump_fit_series(
    config_path: str | Path,
    out_path: str | Path,
    refresh: bool = False,
    endpoint: str | None = None,
    source: str | None = None,
) -> FetchReport:
    """Fetch and write timestamp,series,value,unit (ISO 8601 UTC stamps) to a CSV file."""
    frame, report = fetch_fit_series(config_path, refresh=refresh, endpoint=endpoint, source=source)
    return write_series_csv(frame, out_path, report)
