"""The one list of metric sources: name -> source class, metric spec, label, help.

The CLI's `--source` choices, the fit file's schema (which `source:` names exist and what a metric
looks like for each) and the Observe page's source picker are all built from `SOURCES`. Adding a
source is one module (its `Source` class, and its spec in `connectors.specs`) and one row here.

A row opens its source through a function that imports the module only then: boto3 and Google's
clients take a second to import, and validating a fit file or drawing a form needs none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pydantic import BaseModel

from connectors.specs import CloudWatchMetric, CsvMetric, DemoMetric, DemoOptions, GcpMetric, PrometheusMetric

if TYPE_CHECKING:  # pandas and numpy: the CLI builds its --source choices from this module before any fetch
    from connectors.base import Source

DEFAULT_SOURCE = "demo"  # what a fit file without `source:` reads


@dataclass(frozen=True)
class SourceSettings:
    """Where a source reads from, as a fit file or the Observe form gives it (nothing secret: credentials
    come from each cloud's own chain)."""

    region: str | None = None  # cloudwatch; default: the AWS chain
    project: str | None = None  # gcp; default: the application-default credentials' project
    endpoint: str | None = None  # HOST:PORT or a URL: a cloud source pointed at another server (moto, a fake)
    folder: Path | None = None  # where relative paths (CSV files, the demo scenario) resolve from
    options: BaseModel | None = None  # the source's own fit-file block (SourceInfo.options), e.g. DemoOptions
    url: str | None = None  # prometheus: the server (default PROMETHEUS_URL); `endpoint` overrides it
    headers: tuple[
        tuple[str, str], ...
    ] = ()  # prometheus: extra headers such as X-Scope-OrgID, never credentials


@dataclass(frozen=True)
class SourceInfo:
    """One row of the registry."""

    name: str  # the fit file's `source:` and the CLI's `--source`
    label: str  # what the app shows
    help: str  # one sentence for people choosing a source
    spec: type[BaseModel]  # what one metric looks like in a fit file for this source
    open: Callable[[SourceSettings], Source]
    options: tuple[str, type[BaseModel]] | None = (
        None  # a source-specific fit-file block, e.g. ("demo", DemoOptions)
    )


def _url(endpoint: str | None) -> str | None:
    return endpoint if not endpoint or "://" in endpoint else f"http://{endpoint}"


def _cloudwatch(s: SourceSettings) -> Source:
    from connectors.cloudwatch import CloudWatchSource  # boto3: imported when a CloudWatch source is opened

    return CloudWatchSource(region=s.region, endpoint_url=_url(s.endpoint))


def _gcp(s: SourceSettings) -> Source:
    from connectors.gcp import GcpSource  # Google's clients: imported when a GCP source is opened

    return GcpSource(project=s.project, endpoint=s.endpoint)


def _csv(s: SourceSettings) -> Source:
    from connectors.csv_source import CsvSource

    return CsvSource(s.folder)


def _prometheus(s: SourceSettings) -> Source:
    from connectors.prometheus import PrometheusSource

    return PrometheusSource(url=s.endpoint or s.url, headers=dict(s.headers))


def _demo(s: SourceSettings) -> Source:
    from connectors.demo import DemoSource

    demo = s.options if isinstance(s.options, DemoOptions) else DemoOptions()
    scenario = demo.scenario
    if scenario and not Path(scenario).is_absolute():
        scenario = str((s.folder or Path.cwd()) / scenario)
    return DemoSource(scenario, seed=demo.seed)


SOURCES: dict[str, SourceInfo] = {
    row.name: row
    for row in (
        SourceInfo(
            "cloudwatch",
            "AWS CloudWatch",
            "Amazon CloudWatch metrics (GetMetricData), credentials from the AWS chain.",
            CloudWatchMetric,
            _cloudwatch,
        ),
        SourceInfo(
            "gcp",
            "GCP Cloud Monitoring",
            "Google Cloud Monitoring time series, application-default credentials.",
            GcpMetric,
            _gcp,
        ),
        SourceInfo(
            "csv",
            "CSV upload",
            "A CSV or Parquet export with a timestamp column and one column per series.",
            CsvMetric,
            _csv,
        ),
        SourceInfo(
            "prometheus",
            "Prometheus",
            "PromQL through the HTTP API (Prometheus, Thanos, Mimir), credentials from the environment.",
            PrometheusMetric,
            _prometheus,
        ),
        SourceInfo(
            "demo",
            "Demo",
            "Two weeks at 5 minutes generated from the scenario's own physics, with an evening "
            "peak and one incident (slow database queries).",
            DemoMetric,
            _demo,
            options=("demo", DemoOptions),
        ),
    )
}


def source_names() -> list[str]:
    return list(SOURCES)


def open_source(name: str, settings: SourceSettings = SourceSettings()) -> Source:
    """The source `name` reads through, configured by `settings`."""
    try:
        info = SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; use one of: {', '.join(SOURCES)}") from None
    return info.open(settings)
