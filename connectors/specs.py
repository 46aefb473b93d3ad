"""What a fit file may name for each source: one metric spec (a strict pydantic model) per source.

A metric's shape depends on where it lives (a CloudWatch metric has a namespace and a statistic, a
GCP metric a type and an aligner), so each source owns its spec here, in a module that imports no
client library: the fit file's schema is built from these classes (through `connectors.registry`),
and validating a file must not import boto3 or Google's clients.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class KeyPathError(ValueError):
    """A problem tied to a key below the model that raises it (pydantic cannot say where): the fit file's
    reader reports `path` after the model's own location (model.fit.file_parts.FitKeyError extends it)."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path, self.message = path, message


class Strict(BaseModel):
    """Unknown keys are refused: a misspelt key that silently falls back to a default gives a wrong fit."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_CW_STATS = ("Average", "Sum", "Maximum", "Minimum", "SampleCount", "IQM")
_PERCENTILE = re.compile(r"^p(100|\d{1,2}(\.\d{1,2})?)$")


class CloudWatchMetric(Strict):
    """One CloudWatch metric and statistic: what GetMetricData's MetricStat names."""

    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    stat: str = "Average"
    dimensions: dict[str, str] = Field(default_factory=dict, max_length=30)
    unit: str | None = None  # optional filter; CloudWatch then returns only data put with this unit

    @field_validator("stat")
    @classmethod
    def _known_stat(cls, stat: str) -> str:
        if stat in _CW_STATS or _PERCENTILE.match(stat):
            return stat
        raise ValueError(
            f"unknown statistic {stat!r}; use one of {', '.join(_CW_STATS)} "
            "or a percentile such as p50, p95, p99, p99.9"
        )

    @property
    def is_percentile(self) -> bool:
        return bool(_PERCENTILE.match(self.stat))


GCP_ALIGNERS = (
    "ALIGN_NONE",
    "ALIGN_DELTA",
    "ALIGN_RATE",
    "ALIGN_INTERPOLATE",
    "ALIGN_NEXT_OLDER",
    "ALIGN_MIN",
    "ALIGN_MAX",
    "ALIGN_MEAN",
    "ALIGN_COUNT",
    "ALIGN_SUM",
    "ALIGN_STDDEV",
    "ALIGN_COUNT_TRUE",
    "ALIGN_COUNT_FALSE",
    "ALIGN_FRACTION_TRUE",
    "ALIGN_PERCENTILE_99",
    "ALIGN_PERCENTILE_95",
    "ALIGN_PERCENTILE_50",
    "ALIGN_PERCENTILE_05",
    "ALIGN_PERCENT_CHANGE",
)
GCP_REDUCERS = (
    "REDUCE_NONE",
    "REDUCE_MEAN",
    "REDUCE_MIN",
    "REDUCE_MAX",
    "REDUCE_SUM",
    "REDUCE_STDDEV",
    "REDUCE_COUNT",
    "REDUCE_COUNT_TRUE",
    "REDUCE_COUNT_FALSE",
    "REDUCE_FRACTION_TRUE",
    "REDUCE_PERCENTILE_99",
    "REDUCE_PERCENTILE_95",
    "REDUCE_PERCENTILE_50",
    "REDUCE_PERCENTILE_05",
)


class GcpMetric(Strict):
    """One Cloud Monitoring query: a metric type, a resource filter and how to align/reduce it."""

    type: str = Field(min_length=1, pattern=r"^[\w.\-]+(/[\w.\-]+)+$")
    filter: str | None = None  # extra filter terms, ANDed with metric.type
    aligner: Literal[GCP_ALIGNERS] = "ALIGN_MEAN"  # type: ignore[valid-type]
    reducer: Literal[GCP_REDUCERS] | None = None  # type: ignore[valid-type]
    group_by: list[str] = Field(default_factory=list)


CSV_FORMATS = ("csv", "locust", "k6")


class CsvMetric(Strict):
    """One column of a CSV or Parquet file with a timestamp column.

    `format: locust` reads Locust's `--csv` stats history (`*_stats_history.csv`, the `Aggregated`
    rows unless `name:` picks an endpoint) and `format: k6` k6's `--out json` points stream
    (`column` is the metric: `http_reqs`, `http_req_duration`; `stat` says how a period's points
    are reduced: count, mean, max, min or a percentile such as p99).
    """

    file: str = Field(min_length=1)
    column: str = Field(min_length=1)
    timestamp_column: str = "timestamp"
    timezone: str | None = None  # for stamps without a zone; default UTC
    unit: str | None = None
    format: Literal[CSV_FORMATS] | None = None  # type: ignore[valid-type]  # None: a plain CSV (so a written fit file leaves it out)
    name: str | None = None  # locust: the request name whose rows are read (default the Aggregated rows)
    stat: str | None = None  # k6: how the points of one period are reduced (count, mean, p50, p95, p99, max)

    @model_validator(mode="after")
    def _format_keys(self) -> "CsvMetric":
        if self.name is not None and self.format != "locust":
            raise KeyPathError(("name",), "is only for format: locust (the request name whose rows are read)")
        if self.stat is not None:
            if self.format != "k6":
                raise KeyPathError(("stat",), "is only for format: k6; a CSV column is read as it is")
            if self.stat not in ("count", "mean", "max", "min") and not _PERCENTILE.match(self.stat):
                raise KeyPathError(
                    ("stat",),
                    f"unknown statistic {self.stat!r}; use count, mean, max, min or a percentile such as p99",
                )
        return self


PROMETHEUS_UNITS = ("rps", "count", "Percent", "fraction", "cores", "ms", "s", "replicas")
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


class PrometheusMetric(Strict):
    """One PromQL expression that returns one series, evaluated with query_range at period_s steps.

    `unit` says what its values are: rps or count (traffic), Percent, fraction or cores (CPU; cores
    are divided by the node's instances x cpus), ms or s (latency), replicas (a running count).
    """

    query: str = Field(min_length=1, max_length=4000)
    unit: Literal[PROMETHEUS_UNITS] | None = None  # type: ignore[valid-type]


class DemoMetric(Strict):
    """One series of the built-in demo data set (see connectors.demo: `traffic`, `web.cpu`, ...)."""

    series: str = Field(min_length=1)


class DemoOptions(Strict):
    """The fit file's `demo:` block: which scenario's physics the demo data follows, and its seed."""

    scenario: str | None = None  # the scenario whose physics the demo data follows; default checkout.yaml
    seed: int = 7
