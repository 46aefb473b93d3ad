"""AWS CloudWatch through boto3: ListMetrics to discover, GetMetricData to fetch.

Credentials come only from boto3's standard chain (environment, profile, SSO, role), and
boto3 itself honours AWS_ENDPOINT_URL, which is how tests point it at a local moto server.
A pull is planned against the API's limits first (see cloudwatch_plan), windows are aligned
to period boundaries, pages are merged by query Id, and any query that does not come back
Complete fails the pull with its series named, rather than returning a partial series.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta
from typing import Any, Sequence

import boto3
import pandas as pd
from botocore.config import Config

from connectors import cloudwatch_catalog as catalog
from connectors.base import FetchStats, MetricInfo, OnBatch, Query, concat, hand_over, tidy
from connectors.cloudwatch_errors import translate
from connectors.cloudwatch_plan import Plan, check_period, plan
from connectors.errors import ConnectorError
from connectors.window import Window, align
from connectors.specs import CloudWatchMetric


class CloudWatchSource:
    """Amazon CloudWatch through boto3: ListMetrics to discover, GetMetricData (batched, retried, costed) to fetch.

    Credentials come from the standard AWS chain, never from a file Headroom writes."""

    name = "cloudwatch"
    cacheable = True  # pulls cost money and time

    def __init__(
        self,
        region: str | None = None,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 5,
        client: Any = None,
    ):
        """`max_attempts` counts calls (the first one included); `client` lets tests pass a stubbed client."""
        self.region, self.profile = region, profile
        self.endpoint_url = (
            endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_CLOUDWATCH")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        self.retry_mode, self.max_attempts = retry_mode, max_attempts
        self._client = client
        self._account = ""  # a digest of the credentials' access key: two accounts never share a cache
        self.stats = FetchStats()

    # ------------------------------------------------------------ the client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        try:
            region = (
                self.region or os.environ.get("AWS_REGION") or None
            )  # botocore reads only AWS_DEFAULT_REGION
            session = boto3.session.Session(profile_name=self.profile, region_name=region)
            if not session.region_name:
                raise ConnectorError(
                    "no AWS region is set.",
                    "Add region: to the fit file, or set AWS_REGION (or a region in your AWS profile).",
                    source=self.name,
                )
            credentials = session.get_credentials()
            if credentials is None:
                raise translate(__import__("botocore").exceptions.NoCredentialsError(), "GetMetricData")
            self._account = hashlib.sha256(credentials.access_key.encode()).hexdigest()[:16]
            config = Config(
                retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
                connect_timeout=5,
                read_timeout=60,
                user_agent_extra="headroom",
            )
            self.region = session.region_name
            return session.client("cloudwatch", endpoint_url=self.endpoint_url, config=config)
        except Exception as exc:
            raise translate(exc, "GetMetricData", self.endpoint_url or "") from None

    def identity(self) -> str:
        """Whose data a pull returns: the resolved region and the credentials, never the key itself."""
        self.client  # noqa: B018 (the property resolves the region and the credentials)
        return f"cloudwatch:{self._account}:{self.region or ''}:{self.endpoint_url or ''}"

    def _call(self, operation: str, **kwargs: Any) -> dict:
        method = getattr(self.client, _snake(operation))
        try:
            response = method(**kwargs)
        except Exception as exc:
            self.stats.calls += 1
            retries = (
                getattr(exc, "response", {}).get("ResponseMetadata", {}).get("RetryAttempts", 0)
                if hasattr(exc, "response")
                else 0
            )
            self.stats.retries += retries
            raise translate(exc, operation, self.endpoint_url or "") from None
        self.stats.calls += 1
        self.stats.retries += response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        return response

    # ------------------------------------------------------------ discovery

    def discover(self, namespaces: Sequence[str] | None = None, **_: Any) -> list[MetricInfo]:
        """Metrics with data in the last two weeks (ListMetrics' rule), de-duplicated."""
        seen: set[tuple] = set()
        out: list[MetricInfo] = []
        for namespace in namespaces or catalog.NAMESPACES:
            token = None
            while True:
                response = self._call(
                    "ListMetrics", Namespace=namespace, **({"NextToken": token} if token else {})
                )
                for item in response.get("Metrics", []):
                    dims = {d["Name"]: d["Value"] for d in item.get("Dimensions", [])}
                    key = (item["Namespace"], item["MetricName"], tuple(sorted(dims.items())))
                    if key in seen:
                        continue
                    seen.add(key)
                    known = catalog.known(item["Namespace"], item["MetricName"])
                    metric = CloudWatchMetric(
                        namespace=item["Namespace"],
                        name=item["MetricName"],
                        stat=known.stat if known else "Average",
                        dimensions=dims,
                    )
                    resource = " ".join(f"{k}={v}" for k, v in sorted(dims.items())) or "(no dimensions)"
                    out.append(
                        MetricInfo(
                            self.name,
                            metric,
                            f"{item['Namespace']} {resource}",
                            unit=catalog.unit_of(item["Namespace"], item["MetricName"]),
                            suggested_key=known.key if known else "",
                            labels=dims,
                        )
                    )
                token = response.get("NextToken")
                if not token:
                    break
        return out

    # ------------------------------------------------------------ fetching

    def window(self, lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
        return align(lookback, period_s, end)

    def plan(
        self, queries: Sequence[Query], lookback: timedelta, period_s: int, end: datetime | None = None
    ) -> Plan:
        """Calls and cost of a pull, before making it (show it to the user for a large pull)."""
        window = self.window(lookback, period_s, end)
        check_period(window)
        return plan(len(queries), window)

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
        check_period(window)
        the_plan = plan(len(queries), window)
        self.stats.metrics_requested += len(queries)
        self.stats.cost_usd += the_plan.cost_usd
        frames = []
        for first in range(0, len(queries), the_plan.queries_per_call):
            batch = list(queries[first : first + the_plan.queries_per_call])
            frames.append(
                hand_over(self._fetch_batch(batch, window), batch, window, self.name, on_batch, allow_empty)
            )
        frame = concat(frames)
        self.stats.points += len(frame)
        return frame

    def _fetch_batch(self, batch: list[Query], window: Window, tries: int = 3) -> pd.DataFrame:
        """One GetMetricData pull (all its pages); a reply that leaves a query out entirely (a
        truncated reply, not a metric with no data) is pulled again, then refused."""
        for attempt in range(tries):
            frame, absent = self._fetch_batch_once(batch, window)
            if not absent:
                return frame
            if attempt < tries - 1:
                self.stats.retries += 1
        raise ConnectorError(
            f"CloudWatch's GetMetricData reply left out {', '.join(absent[:5])} "
            f"(a truncated reply) {tries} times; no partial data was kept.",
            "Run again; if it repeats, shorten lookback_days.",
            source=self.name,
        )

    def _fetch_batch_once(self, batch: list[Query], window: Window) -> tuple[pd.DataFrame, list[str]]:
        ids = {f"q{i}": q for i, q in enumerate(batch)}
        request = {
            "MetricDataQueries": [_metric_query(qid, q.metric, window.period_s) for qid, q in ids.items()],  # type: ignore[arg-type]
            "StartTime": window.start,
            "EndTime": window.end,
            "ScanBy": "TimestampAscending",
        }
        stamps: dict[str, list] = {qid: [] for qid in ids}
        values: dict[str, list] = {qid: [] for qid in ids}
        status: dict[str, str] = {}
        token = None
        while True:
            response = self._call("GetMetricData", **request, **({"NextToken": token} if token else {}))
            for result in response.get("MetricDataResults", []):
                qid = result["Id"]
                if qid not in ids:
                    continue
                stamps[qid].extend(result.get("Timestamps", []))
                values[qid].extend(result.get("Values", []))
                status[qid] = result.get("StatusCode", "Complete")
                if result.get("StatusCode") in ("InternalError", "Forbidden"):
                    detail = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
                    raise ConnectorError(
                        f"CloudWatch could not return {ids[qid].series} ({result['StatusCode']}"
                        f"{': ' + detail if detail else ''}); no partial data was kept for it.",
                        "Run again; if it says Forbidden, grant access to that metric's namespace.",
                        source=self.name,
                    )
            token = response.get("NextToken")
            if not token:
                break
        partial = [ids[q].series for q, s in status.items() if s == "PartialData"]
        if partial:
            raise ConnectorError(
                f"CloudWatch returned only part of {', '.join(partial)} and no page token to get the rest.",
                "Run again with a shorter lookback_days.",
                source=self.name,
            )
        frames = []
        for qid, query in ids.items():
            metric: CloudWatchMetric = query.metric  # type: ignore[assignment]
            ts = pd.Series(
                pd.DatetimeIndex(stamps[qid], tz="UTC") if stamps[qid] else pd.DatetimeIndex([], tz="UTC")
            )
            inside = ((ts >= window.start) & (ts < window.end)).to_numpy()
            kept = ts[inside]
            vals = pd.Series(values[qid], dtype="float64")[inside]
            unit = metric.unit or catalog.unit_of(metric.namespace, metric.name)
            frame = tidy(kept, query.series, vals.to_numpy(), unit)
            if frame["timestamp"].duplicated().any():
                frame = frame.drop_duplicates(
                    ["timestamp"], keep="last"
                )  # a repeated page overlap, not new data
            frames.append(frame)
        return concat(frames), [ids[q].series for q in ids if q not in status]


def _metric_query(qid: str, metric: CloudWatchMetric, period_s: int) -> dict:
    stat: dict[str, Any] = {
        "Metric": {
            "Namespace": metric.namespace,
            "MetricName": metric.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(metric.dimensions.items())],
        },
        "Period": period_s,
        "Stat": metric.stat,
    }
    if metric.unit:
        stat["Unit"] = metric.unit
    return {"Id": qid, "MetricStat": stat, "ReturnData": True}


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
