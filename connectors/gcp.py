"""Google Cloud Monitoring through the official client: ListMetricDescriptors and
ListTimeSeries headers to discover, ListTimeSeries with aligners and reducers to fetch.

Credentials are application-default credentials; `endpoint` (HOST:PORT) points the client
at another server over an insecure channel, which is how tests reach a local fake. The
client's default retry covers only UNAVAILABLE, so calls pass one that also retries
RESOURCE_EXHAUSTED (quota) a bounded number of times. Pages are merged per series (one
series can span pages) and points, which come newest first, are sorted.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

import pandas as pd
from google.api_core import exceptions as gx
from google.api_core import retry as gretry

from connectors import gcp_catalog as catalog
from connectors.base import FetchStats, MetricInfo, OnBatch, Query, concat, hand_over, tidy
from connectors.errors import ConnectorError
from connectors.window import Window, align
from connectors.specs import GcpMetric

SRC = "gcp"
_RETRYABLE = (gx.ServiceUnavailable, gx.ResourceExhausted, gx.TooManyRequests)


class GcpSource:
    """Google Cloud Monitoring through its gRPC client: ListMetricDescriptors to discover, ListTimeSeries to fetch.

    Credentials are the application-default ones (gcloud), never from a file Headroom writes."""

    name = "gcp"
    cacheable = True

    def __init__(
        self,
        project: str | None = None,
        endpoint: str | None = None,
        *,
        client: Any = None,
        max_retries: int = 5,
        retry_initial_s: float = 1.0,
        timeout_s: float = 120.0,
    ):
        self.project, self.endpoint = project, endpoint
        self.max_retries, self.retry_initial_s, self.timeout_s = max_retries, retry_initial_s, timeout_s
        self._client = client
        self.stats = FetchStats()

    def identity(self) -> str:
        """Whose data a pull returns: the project as resolved from the credentials when not given."""
        self.client  # noqa: B018 (the property resolves the project from application default credentials)
        return f"gcp:{self.project}:{self.endpoint or ''}"

    # ------------------------------------------------------------ the client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        if not self.project:
            raise ConnectorError(
                "no GCP project is set.",
                "Add project: to the fit file, or set one with "
                "`gcloud config set project ID` before `gcloud auth application-default login`.",
                source=SRC,
            )
        return self._client

    def _make_client(self) -> Any:
        from google.cloud import monitoring_v3

        if self.endpoint:
            import grpc
            from google.cloud.monitoring_v3.services.metric_service.transports import (
                MetricServiceGrpcTransport,
            )

            target = self.endpoint.split("://", 1)[-1]
            return monitoring_v3.MetricServiceClient(
                transport=MetricServiceGrpcTransport(channel=grpc.insecure_channel(target))
            )
        import google.auth
        from google.auth import exceptions as auth_errors

        try:
            credentials, project = google.auth.default(
                scopes=["https://www.googleapis.com/auth/monitoring.read"]
            )
        except auth_errors.DefaultCredentialsError:
            raise ConnectorError(
                "no Google application-default credentials were found.",
                "Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
                "to a service-account key file.",
                source=SRC,
            ) from None
        self.project = self.project or project
        return monitoring_v3.MetricServiceClient(credentials=credentials)

    def _retry(self) -> gretry.Retry:
        budget = {"left": self.max_retries}

        def predicate(exc: Exception) -> bool:
            if isinstance(exc, _RETRYABLE) and budget["left"] > 0:
                budget["left"] -= 1
                self.stats.retries += 1
                return True
            return False

        return gretry.Retry(
            predicate=predicate,
            initial=self.retry_initial_s,
            maximum=30.0,
            multiplier=2.0,
            timeout=self.timeout_s,
        )

    def _run(self, operation: str, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except (ConnectorError, _Incomplete):
            raise
        except Exception as exc:
            raise translate(exc, operation, self.project or "", self.max_retries) from None

    # ------------------------------------------------------------ discovery

    def discover(self, prefixes: Sequence[str] | None = None, **_: Any) -> list[MetricInfo]:
        """Known metric types that exist in the project, one entry per monitored resource."""
        from google.cloud import monitoring_v3

        client, name = self.client, f"projects/{self.project}"
        out: list[MetricInfo] = []

        def work() -> None:
            types = []
            for prefix in prefixes or catalog.PREFIXES:
                self.stats.calls += 1
                for descriptor in client.list_metric_descriptors(
                    request={"name": name, "filter": f'metric.type = starts_with("{prefix}")'},
                    retry=self._retry(),
                ):
                    if descriptor.type in catalog.CATALOG:
                        types.append((descriptor.type, descriptor.unit, int(descriptor.metric_kind)))
            now = datetime.now().astimezone()
            for metric_type, unit, kind in types:
                known = catalog.CATALOG[metric_type]
                self.stats.calls += 1
                headers = client.list_time_series(
                    request={
                        "name": name,
                        "filter": f'metric.type = "{metric_type}"',
                        "interval": {"start_time": now - timedelta(days=1), "end_time": now},
                        "view": monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.HEADERS,
                    },
                    retry=self._retry(),
                )
                seen = set()
                for header in headers:
                    labels = dict(header.resource.labels)
                    key = tuple(sorted(labels.items()))
                    if key in seen:
                        continue
                    seen.add(key)
                    terms = " AND ".join(
                        f'resource.labels.{k} = "{v}"' for k, v in sorted(labels.items()) if k != "project_id"
                    )
                    metric = GcpMetric(
                        type=metric_type,
                        filter=terms or None,
                        aligner=catalog.aligner_for(known, kind),
                        reducer=known.reducer,
                    )
                    out.append(
                        MetricInfo(
                            SRC,
                            metric,
                            f"{header.resource.type} " + " ".join(f"{k}={v}" for k, v in key),
                            unit=header.unit or unit,
                            suggested_key=known.key,
                            labels=labels,
                        )
                    )

        self._run("ListMetricDescriptors", work)
        return out

    # ------------------------------------------------------------ fetching

    def window(self, lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
        return align(lookback, period_s, end)

    def fetch(
        self,
        queries: Sequence[Query],
        lookback: timedelta,
        period_s: int,
        *,
        end: datetime | None = None,
        on_batch: OnBatch | None = None,
        allow_empty: bool = False,
    ) -> pd.DataFrame:
        """`on_batch` and `allow_empty`: see `connectors.base.hand_over`."""
        window = self.window(lookback, period_s, end)
        client = self.client
        frames = []
        for query in queries:
            frame = self._complete(
                query, lambda q=query: self._run("ListTimeSeries", lambda: self._fetch_one(client, q, window))
            )
            frames.append(hand_over(frame, [query], window, SRC, on_batch, allow_empty))
        frame = concat(frames)
        self.stats.points += len(frame)
        self.stats.metrics_requested += len(queries)
        return frame

    def _complete(self, query: Query, pull: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A pull whose every page came back complete: one with `execution_errors` (the API's "these
        results are incomplete") is pulled again, and refused if it stays incomplete."""
        for attempt in range(self.max_retries + 1):
            try:
                return pull()
            except _Incomplete as exc:
                problem = exc
                if attempt < self.max_retries:
                    self.stats.retries += 1
                    time.sleep(min(self.retry_initial_s * 2**attempt, 30.0))
        raise ConnectorError(
            f"Cloud Monitoring returned incomplete results for {query.series} "
            f"({problem}) after {self.max_retries + 1} tries; no partial data was kept.",
            "Run again later, or shorten lookback_days or narrow the filter.",
            source=SRC,
        )

    def _fetch_one(self, client: Any, query: Query, window: Window) -> pd.DataFrame:
        metric: GcpMetric = query.metric  # type: ignore[assignment]
        text = f'metric.type = "{metric.type}"' + (f" AND ({metric.filter})" if metric.filter else "")
        aggregation: dict[str, Any] = {
            "alignment_period": timedelta(seconds=window.period_s),
            "per_series_aligner": metric.aligner,
        }
        if metric.reducer:
            aggregation["cross_series_reducer"] = metric.reducer
            aggregation["group_by_fields"] = list(metric.group_by)
        pages = client.list_time_series(
            request={
                "name": f"projects/{self.project}",
                "filter": text,
                "interval": {"start_time": window.start, "end_time": window.end},
                "aggregation": aggregation,
                "view": 0,
            },
            retry=self._retry(),
            timeout=self.timeout_s,
        )
        series: dict[tuple, dict[str, list]] = {}
        unit = ""
        for page in pages.pages:
            self.stats.calls += 1
            if len(page.execution_errors):
                raise _Incomplete(
                    "; ".join(
                        f"{e.code}: {' '.join(e.message.split())[:120]}"
                        for e in list(page.execution_errors)[:3]
                    )
                )
            for ts in page.time_series:
                key = (
                    ts.metric.type,
                    tuple(sorted(ts.metric.labels.items())),
                    ts.resource.type,
                    tuple(sorted(ts.resource.labels.items())),
                )
                bucket = series.setdefault(key, {"t": [], "v": []})
                unit = unit or ts.unit
                for point in ts.points:
                    value = _value(point.value)
                    if value is None:
                        continue
                    stamp = point.interval.end_time
                    if metric.aligner != "ALIGN_NONE":
                        stamp = stamp - timedelta(seconds=window.period_s)  # label the bucket by its start
                    bucket["t"].append(stamp)
                    bucket["v"].append(value)
        if len(series) > 1:
            raise ConnectorError(
                f"{query.series} matched {len(series)} time series, and a fit needs one.",
                "Add reducer: REDUCE_MEAN (or REDUCE_SUM for counts), or narrow the filter to one resource.",
                source=SRC,
            )
        if not series:
            return concat([])
        points = next(iter(series.values()))
        frame = tidy(points["t"], [query.series] * len(points["t"]), points["v"], [unit] * len(points["t"]))
        inside = (frame["timestamp"] >= window.start) & (frame["timestamp"] < window.end)
        return frame[inside].drop_duplicates(["timestamp"], keep="first").reset_index(drop=True)


class _Incomplete(Exception):
    """A ListTimeSeries page that carried execution_errors: its data is partial."""


def _value(typed: Any) -> float | None:
    kind = typed._pb.WhichOneof("value")
    if kind in ("double_value", "int64_value"):
        return float(getattr(typed, kind))
    if kind == "bool_value":
        return float(typed.bool_value)
    if kind == "distribution_value":
        return float(typed.distribution_value.mean) if typed.distribution_value.count else None
    return None


def translate(exc: Exception, operation: str, project: str, max_retries: int) -> ConnectorError:
    """One ConnectorError for any google-api-core or gRPC failure."""
    message = getattr(exc, "message", None) or str(exc)
    message = " ".join(str(message).split())[:300]
    if isinstance(exc, _RETRYABLE):
        what = (
            "throttled (RESOURCE_EXHAUSTED)" if not isinstance(exc, gx.ServiceUnavailable) else "unavailable"
        )
        return ConnectorError(
            f"Cloud Monitoring {what} {operation}, still failing after {max_retries} retries.",
            "Wait a minute and run again (cached series are not pulled twice), or check the project's "
            "Monitoring API quota.",
            source=SRC,
        )
    if isinstance(exc, gx.Unauthenticated):
        return ConnectorError(
            "Google rejected the credentials (UNAUTHENTICATED): they are missing or expired.",
            "Refresh them with `gcloud auth application-default login` and run again.",
            source=SRC,
        )
    if isinstance(exc, gx.PermissionDenied):
        return ConnectorError(
            f"the credentials may not read monitoring data in project {project!r}.",
            "Grant roles/monitoring.viewer, and check the Monitoring API is enabled.",
            source=SRC,
        )
    if isinstance(exc, gx.NotFound):
        return ConnectorError(
            f"project {project!r} was not found: {message}", "Check project: in the fit file.", source=SRC
        )
    if isinstance(exc, gx.InvalidArgument):
        return ConnectorError(
            f"Cloud Monitoring refused {operation}: {message}",
            "Check the metric type, filter, aligner and reducer in the fit file.",
            source=SRC,
        )
    if isinstance(exc, gx.RetryError):
        return ConnectorError(
            f"Cloud Monitoring {operation} kept failing until the retry deadline.",
            "Check the network and the endpoint, then run again.",
            source=SRC,
        )
    if isinstance(exc, gx.GoogleAPICallError):
        return ConnectorError(
            f"Cloud Monitoring failed {operation}: {exc.__class__.__name__}: {message}",
            "Try again later.",
            source=SRC,
        )
    return ConnectorError(
        f"unexpected failure in {operation}: {exc.__class__.__name__}: {message}", source=SRC
    )
