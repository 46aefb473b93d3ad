"""From a fit file to the source that reads it."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Source
from model.fit.file import CloudWatchFitFile, CsvFitFile, DemoFitFile, FitFile, GcpFitFile, base_dir


def source_for(fit: FitFile, endpoint: str | None = None) -> Source:
    """The configured source. `endpoint` (HOST:PORT or a URL) points a cloud source at another server."""
    if isinstance(fit, CloudWatchFitFile):
        from connectors.cloudwatch import CloudWatchSource
        url = endpoint if not endpoint or "://" in endpoint else f"http://{endpoint}"
        return CloudWatchSource(region=fit.region, endpoint_url=url)
    if isinstance(fit, GcpFitFile):
        from connectors.gcp import GcpSource
        return GcpSource(project=fit.project, endpoint=endpoint)
    if isinstance(fit, CsvFitFile):
        from connectors.csv_source import CsvSource
        return CsvSource(base_dir(fit))
    if isinstance(fit, DemoFitFile):
        from connectors.demo import DemoSource
        scenario = fit.demo.scenario
        if scenario and not Path(scenario).is_absolute():
            scenario = str(base_dir(fit) / scenario)
        return DemoSource(scenario, seed=fit.demo.seed)
    raise TypeError(f"no source for {type(fit).__name__}")
