"""Prometheus, and servers that speak its HTTP API (Thanos, Mimir, managed Prometheus).

Teams that run the Kubernetes autoscaling Headroom models usually keep utilization in
Prometheus: cAdvisor container CPU, kube-state-metrics replica counts, request counters. A
metric here is a PromQL expression evaluated with `/api/v1/query_range` at the fit file's
`period_s` as the step; each point is labelled with its evaluation time and returned as
Prometheus gives it. A step with no value stays a gap: nothing is filled in (Prometheus itself
carries a raw sample forward for up to its lookback delta, 5 minutes by default).

Plain HTTP through `requests` (already a dependency of Streamlit and the Google clients),
not `prometheus-api-client`: that client's range query is one GET around the same endpoint,
and what this connector needs beyond it (splitting a range under the 11,000-points limit,
a small bound on concurrent queries, telling a bad query from an overloaded server, never
echoing a response body) would be written here either way.

Credentials never come from a file: `PROMETHEUS_BEARER_TOKEN`, or `PROMETHEUS_USERNAME` and
`PROMETHEUS_PASSWORD`, from the environment; they are sent as headers and never logged.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import requests
from connectors.base import FetchStats, MetricInfo, Query, concat, empty_frame, require_data, tidy
from connectors.errors import ConnectorError
from connectors.window import Window, align
from connectors.specs import SECRET_HEADERS, PrometheusMetric

NAME = "prometheus"
MAX_POINTS = 11_000  # Prometheus refuses a range query of more points per series
CHUNK_POINTS = 10_000  # what one request asks for, under that limit
CONCURRENT_QUERIES = 4  # requests in flight at once: a courtesy to a shared server
RETRY_STATUSES = (429, 503)  # rate limited, or overloaded / query timed out: worth another try
RETRIES = 4
BACKOFF_S = 0.5  # doubled each try, or the server's Retry-After
TIMEOUT_S = 60


def env_auth() -> dict[str, str]:
    """Authorization from the environment (bearer token, else basic auth), or nothing."""
    token = os.environ.get("PROMETHEUS_BEARER_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get("PROMETHEUS_USERNAME"), os.environ.get("PROMETHEUS_PASSWORD")
    if user and password is not None:
        import base64

        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    return {}


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Extra headers a fit file may carry (a tenant id, say), never credentials."""
    for name in headers:
        if name.lower() in SECRET_HEADERS:
            raise ConnectorError(
                f"{name} is a credential and cannot be given as a header.",
                "Set PROMETHEUS_BEARER_TOKEN (or PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD).",
                source=NAME,
            )
    return headers


class PrometheusSource:
    """The Prometheus HTTP API at `url` (default: PROMETHEUS_URL)."""

    name = NAME
    cacheable = True  # remote and billed per query: pulled series go through the Parquet cache

    def __init__(self, url: str | None = None, headers: dict[str, str] | None = None):
        url = url or os.environ.get("PROMETHEUS_URL")
        if not url:
            raise ConnectorError(
                "no server to ask.",
                "Give `url:` in the fit file or set PROMETHEUS_URL, "
                "for example http://prometheus.monitoring:9090.",
                source=NAME,
            )
        if "://" not in url:
            url = f"http://{url}"
        self.url = url.rstrip("/")
        self.extra_headers = check_headers(dict(headers or {}))
        self.stats = FetchStats()
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=CONCURRENT_QUERIES)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def identity(self) -> str:
        """The server and the tenant headers (not the credentials): what decides which data a query reads."""
        tenant = ",".join(f"{k}={v}" for k, v in sorted(self.extra_headers.items()))
        return f"prometheus:{self.url}" + (f"|{tenant}" if tenant else "")

    def window(self, lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
        return align(lookback, period_s, end)

    # ---------------------------------------------------------------- HTTP

    def _call(
        self,
        path: str,
        params: dict[str, Any] | list[tuple[str, str]],
        stats: FetchStats,
        method: str = "POST",
    ) -> Any:
        """One API call with retries on 429/503; the `data` of a success, or one ConnectorError. POST (form
        encoded) keeps a long PromQL expression out of the URL; label values are GET only."""
        headers = {**self.extra_headers, **env_auth()}
        for attempt in range(RETRIES + 1):
            stats.calls += 1
            try:
                response = self._session.request(
                    method,
                    f"{self.url}{path}",
                    headers=headers,
                    timeout=TIMEOUT_S,
                    **({"data": params} if method == "POST" else {"params": params}),
                )
            except requests.exceptions.Timeout:
                raise ConnectorError(
                    f"{self.url} did not answer within {TIMEOUT_S} s.",
                    "Try a shorter lookback_days or a larger period_s.",
                    source=NAME,
                ) from None
            except requests.exceptions.RequestException as exc:
                raise ConnectorError(
                    f"cannot reach {self.url} ({exc.__class__.__name__}).",
                    "Check url / PROMETHEUS_URL and that the server is running.",
                    source=NAME,
                ) from None
            if response.status_code in RETRY_STATUSES and attempt < RETRIES:
                stats.retries += 1
                time.sleep(_retry_after(response, BACKOFF_S * 2**attempt))
                continue
            return self._data(response, path)
        raise AssertionError("unreachable")

    def _data(self, response: requests.Response, path: str) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise ConnectorError(
                f"{self.url} refused the credentials (HTTP {status}).",
                "Set PROMETHEUS_BEARER_TOKEN, or PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD, "
                "for an account that may read this server.",
                source=NAME,
            )
        body = _json(response)
        error = str(body.get("error", ""))[:200] if isinstance(body, dict) else ""
        if status == 400:
            raise ConnectorError(
                f"the server refused the query (HTTP 400: {error or 'bad request'}).",
                "Check the PromQL (try it in the Prometheus UI).",
                source=NAME,
            )
        if status == 422:
            raise ConnectorError(
                f"the query could not be evaluated (HTTP 422: {error or 'execution error'}).",
                "Narrow the selector, raise period_s or lower lookback_days.",
                source=NAME,
            )
        if status in RETRY_STATUSES:
            raise ConnectorError(
                f"the server stayed busy (HTTP {status}) after {RETRIES} retries.",
                "Try again later, or ask for fewer series at once.",
                source=NAME,
            )
        if status == 404:
            raise ConnectorError(
                f"{self.url}{path} does not exist (HTTP 404).",
                "Give the server's base URL (for Thanos or Mimir, including its path prefix).",
                source=NAME,
            )
        if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
            raise ConnectorError(
                f"unexpected answer from {self.url} (HTTP {status}{': ' + error if error else ''}).",
                source=NAME,
            )
        if body.get("warnings"):  # Thanos / Mimir partial responses: refuse incomplete data
            raise ConnectorError(
                "the server says its answer is incomplete: " + "; ".join(map(str, body["warnings"]))[:300],
                "Retry when every store answers, or query a narrower window.",
                source=NAME,
            )
        return body.get("data")

    # ---------------------------------------------------------------- fetching

    def fetch(
        self,
        queries: Sequence[Query],
        lookback: timedelta,
        period_s: int,
        *,
        end: datetime | None = None,
        on_batch: Callable | None = None,
        allow_empty: bool = False,
    ) -> pd.DataFrame:
        """Every query's chunks, CONCURRENT_QUERIES requests at a time. `on_batch(frame, [query])` gets each
        query once all its chunks have arrived, in order, so a cache never holds part of a series and a pull
        that fails half-way keeps the whole series it already has. `allow_empty`: a series with no point is
        not an error, and is still handed to `on_batch` (the cache's pull of the newest periods only)."""
        window = self.window(lookback, period_s, end)
        if window.buckets < 1:
            return empty_frame()
        ranges = chunks(window)
        parts: list[pd.DataFrame] = []
        with ThreadPoolExecutor(max_workers=CONCURRENT_QUERIES) as pool:
            pending = [
                (
                    q,
                    [
                        (pool.submit(self._range, q, start, stop, window.period_s, s), s)
                        for (start, stop), s in ((r, FetchStats()) for r in ranges)
                    ],
                )
                for q in queries
            ]
            try:
                for query, futures in pending:
                    frame = concat([future.result() for future, _ in futures])
                    for _, s in futures:
                        self.stats.add(s)
                    if on_batch and (len(frame) or allow_empty):
                        on_batch(frame, [query])
                    parts.append(frame)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        self.stats.metrics_requested += len(queries)
        frame = concat(parts)
        if not allow_empty:
            require_data(frame, queries, window, NAME)
        return frame

    def _range(
        self, query: Query, start: datetime, stop: datetime, step_s: int, stats: FetchStats
    ) -> pd.DataFrame:
        spec: PrometheusMetric = query.metric  # type: ignore[assignment]
        data = self._call(
            "/api/v1/query_range",
            {
                "query": spec.query,
                "start": f"{start.timestamp():.3f}",
                "end": f"{stop.timestamp():.3f}",
                "step": str(step_s),
            },
            stats,
        )
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise ConnectorError(
                f"{query.series}: the query returned a {data.get('resultType') if isinstance(data, dict) else 'non'}"
                " result, not a range of values.",
                "Use an expression that returns a series.",
                source=NAME,
            )
        result = data.get("result") or []
        if len(result) > 1:
            shown = "; ".join(_labels(r.get("metric", {})) for r in result[:4])
            more = f" and {len(result) - 4} more" if len(result) > 4 else ""
            raise ConnectorError(
                f"{query.series}: the query returned {len(result)} series ({shown}{more}); "
                "a metric must be one series.",
                "Aggregate it, e.g. sum(...) or sum by (job) (...) with a selector for one job.",
                source=NAME,
            )
        if not result:
            return empty_frame()
        values = result[0].get("values") or []
        stats.points += len(values)
        if not values:
            return empty_frame()
        pairs = np.asarray(values, dtype=object)
        stamps = pd.to_datetime(pairs[:, 0].astype(float), unit="s", utc=True)
        numbers = pairs[:, 1].astype(float)  # Prometheus writes "NaN", "+Inf", "-Inf" as such
        numbers[~np.isfinite(numbers)] = np.nan  # dropped by tidy: a gap, never a zero or a fill
        return tidy(stamps, query.series, numbers, spec.unit or "")

    # ---------------------------------------------------------------- discovery

    def discover(self, job: str | None = None, **_: Any) -> list[MetricInfo]:
        """Jobs and the usual queries for them, pre-filled for the user to confirm: request rate and
        process CPU per job, and for Kubernetes (kube-state-metrics and cAdvisor) replicas and container
        CPU against requests per deployment."""
        stats = FetchStats()
        names = set(self._call("/api/v1/label/__name__/values", {}, stats, "GET") or [])
        jobs = [
            j for j in (self._call("/api/v1/label/job/values", {}, stats, "GET") or []) if job in (None, j)
        ]
        out: list[MetricInfo] = []
        for j in jobs:
            sel = f'{{job="{_escape(j)}"}}'
            for counter in sorted(n for n in names if n.endswith("_requests_total")):
                out.append(_info(f"sum(rate({counter}{sel}[5m]))", "rps", f"job={j}", "traffic", {"job": j}))
            if "process_cpu_seconds_total" in names:
                out.append(
                    _info(
                        f"sum(rate(process_cpu_seconds_total{sel}[5m]))",
                        "cores",
                        f"job={j}",
                        "cpu",
                        {"job": j},
                    )
                )
        if "kube_deployment_status_replicas_available" in names:
            series = (
                self._call(
                    "/api/v1/series", [("match[]", "kube_deployment_status_replicas_available")], stats
                )
                or []
            )
            for labels in sorted({(s.get("namespace", ""), s.get("deployment", "")) for s in series}):
                ns, dep = labels
                if not dep:
                    continue
                where = f'namespace="{_escape(ns)}", deployment="{_escape(dep)}"'
                pods = f'namespace="{_escape(ns)}", pod=~"{_escape(dep)}-.*", container!=""'
                resource = f"deployment {ns}/{dep}"
                out.append(
                    _info(
                        f"sum(kube_deployment_status_replicas_available{{{where}}})",
                        "replicas",
                        resource,
                        "replicas",
                        {"namespace": ns, "deployment": dep},
                    )
                )
                if "container_cpu_usage_seconds_total" in names:
                    used = f"sum(rate(container_cpu_usage_seconds_total{{{pods}}}[5m]))"
                    out.append(_info(used, "cores", resource, "cpu", {"namespace": ns, "deployment": dep}))
                    if "kube_pod_container_resource_requests" in names:
                        asked = f'sum(kube_pod_container_resource_requests{{resource="cpu", {pods}}})'
                        out.append(
                            _info(
                                f"100 * {used} / {asked}",
                                "Percent",
                                resource,
                                "cpu",
                                {"namespace": ns, "deployment": dep, "of": "requests"},
                            )
                        )
        self.stats.add(stats)
        return out


def chunks(window: Window) -> list[tuple[datetime, datetime]]:
    """Evaluation times start, start+step, ..., end-step in ranges of at most CHUNK_POINTS points each
    (query_range includes both ends, so consecutive ranges start one step after the last ended)."""
    step = window.period_s
    total = window.buckets
    out = []
    for first in range(0, total, CHUNK_POINTS):
        last = min(first + CHUNK_POINTS, total) - 1
        out.append(
            (window.start + timedelta(seconds=first * step), window.start + timedelta(seconds=last * step))
        )
    return out


def _info(query: str, unit: str, resource: str, key: str, labels: dict[str, str]) -> MetricInfo:
    return MetricInfo(NAME, PrometheusMetric(query=query, unit=unit), resource, unit, key, labels)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _labels(metric: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()))[:120] + "}"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: requests.Response, default_s: float) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", default_s)), 0.0), 30.0)
    except ValueError:
        return default_s
