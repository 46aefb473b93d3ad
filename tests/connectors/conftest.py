"""Loopback servers for the connector tests: moto's CloudWatch and a fake Cloud Monitoring.

Both speak the real wire protocol to the real clients (boto3, MetricServiceClient); only
127.0.0.1 is ever contacted, which an autouse guard enforces for Python sockets.
"""

from __future__ import annotations

import socket
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest

NAB = Path(__file__).resolve().parents[2] / "data" / "samples" / "nab"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch, tmp_path):
    """No test reaches the internet, and none writes to the user's real cache."""
    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and self.family in (socket.AF_INET, socket.AF_INET6)
        ):
            raise OSError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setenv("HEADROOM_CACHE_DIR", str(tmp_path / "cache"))
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDWATCH",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


# ---------------------------------------------------------------- CloudWatch (moto)


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url, monkeypatch):
    """A clean moto and the environment a user would have: endpoint, dummy keys, region."""
    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.client("cloudwatch")


@pytest.fixture
def moto_calls(monkeypatch):
    """Records every GetMetricData call moto serves: the number of queries in each."""
    from moto.cloudwatch.models import CloudWatchBackend

    calls: list[int] = []
    real = CloudWatchBackend.get_metric_data

    def recording(self, queries, *args, **kwargs):
        calls.append(len(queries))
        return real(self, queries, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", recording)
    return calls


def put_series(
    client, namespace: str, name: str, dimensions: dict, stamps, values, unit: str = "None"
) -> None:
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    items = [
        {"MetricName": name, "Dimensions": dims, "Timestamp": t, "Value": float(v), "Unit": unit}
        for t, v in zip(stamps, values)
    ]
    for first in range(0, len(items), 1000):
        client.put_metric_data(Namespace=namespace, MetricData=items[first : first + 1000])


def recent_end(period_s: int = 300) -> datetime:
    """A period boundary an hour ago: recent enough for every period rule."""
    now = datetime.now(timezone.utc) - timedelta(hours=1)
    return datetime.fromtimestamp(int(now.timestamp()) // period_s * period_s, timezone.utc)


# ---------------------------------------------------------------- Cloud Monitoring (fake gRPC)


@dataclass
class FakeMetricService:
    """google.monitoring.v3.MetricService on 127.0.0.1, answering from stored series.

    `page_size` counts points, as the real service does, so one series can span pages;
    points are returned newest first. `fail` is a list of grpc.StatusCode to answer before
    serving; `expect` an assertion run on every ListTimeSeries request.
    """

    series: list = field(default_factory=list)
    descriptors: list = field(default_factory=list)
    page_size: int = 1000
    fail: list = field(default_factory=list)
    expect: object = None
    requests: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    incomplete: int = (
        0  # answers to give as the API's partial results: a quarter of the points and execution_errors
    )

    def list_time_series(self, request, context):
        from google.cloud.monitoring_v3 import types

        self.requests.append(request)
        if self.fail:
            context.abort(self.fail.pop(0), "injected failure")
        if self.expect is not None:
            try:
                self.expect(request)
            except AssertionError as exc:
                self.errors.append(exc)
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"request assertion failed: {exc}")
        start = request.interval.start_time
        end = request.interval.end_time
        wanted = request.filter.split('"')[1]
        flat = []  # (series index, point) newest first within each series
        for k, ts in enumerate(self.series):
            if ts.metric.type != wanted:
                continue
            if (
                'instance_id = "' in request.filter
                and ts.resource.labels.get("instance_id") not in request.filter
            ):
                continue
            points = [p for p in ts.points if start < p.interval.end_time <= end]
            points.sort(key=lambda p: p.interval.end_time, reverse=True)
            flat.extend((k, p) for p in points)
        offset = int(request.page_token or 0)
        page = flat[offset : offset + self.page_size]
        out = []
        for k, p in page:
            if not out or out[-1][0] != k:
                src = self.series[k]
                out.append(
                    (
                        k,
                        types.TimeSeries(
                            metric=src.metric,
                            resource=src.resource,
                            metric_kind=src.metric_kind,
                            value_type=src.value_type,
                            unit=src.unit,
                        ),
                    )
                )
            if request.view == types.ListTimeSeriesRequest.TimeSeriesView.FULL:
                out[-1][1].points.append(p)
        token = str(offset + self.page_size) if offset + self.page_size < len(flat) else ""
        if self.incomplete and request.view == types.ListTimeSeriesRequest.TimeSeriesView.FULL:
            from google.rpc import status_pb2

            self.incomplete -= 1
            for _, ts in out:
                del ts.points[len(ts.points) // 4 :]
            return types.ListTimeSeriesResponse(
                time_series=[ts for _, ts in out],
                next_page_token="",
                execution_errors=[
                    status_pb2.Status(
                        code=4, message="Some results could not be retrieved before the deadline."
                    )
                ],
            )
        return types.ListTimeSeriesResponse(time_series=[ts for _, ts in out], next_page_token=token)

    def list_metric_descriptors(self, request, context):
        from google.cloud.monitoring_v3 import types
        from google.api import metric_pb2  # noqa: F401  (the descriptor type lives in google.api)

        prefix = request.filter.split('"')[1] if '"' in request.filter else ""
        return types.ListMetricDescriptorsResponse(
            metric_descriptors=[d for d in self.descriptors if d.type.startswith(prefix)]
        )


@pytest.fixture
def gcp(grpc_server):
    """A started fake and the endpoint (HOST:PORT) to give GcpSource."""
    from google.cloud.monitoring_v3 import types

    fake = FakeMetricService()
    port = grpc_server(
        "google.monitoring.v3.MetricService",
        {
            "ListTimeSeries": (
                fake.list_time_series,
                types.ListTimeSeriesRequest,
                types.ListTimeSeriesResponse,
            ),
            "ListMetricDescriptors": (
                fake.list_metric_descriptors,
                types.ListMetricDescriptorsRequest,
                types.ListMetricDescriptorsResponse,
            ),
        },
    )
    yield fake, f"127.0.0.1:{port}"


def gcp_series(
    metric_type: str, instance_id: str, end: datetime, period_s: int, values, unit: str = "1", gaps=()
):
    """A GCE-style series whose aligned points end on period boundaries (index 0 is the oldest)."""
    from google.cloud.monitoring_v3 import types

    n = len(values)
    points = []
    for i, v in enumerate(values):
        if i in gaps:
            continue
        point_end = end - timedelta(seconds=period_s * (n - 1 - i))
        points.append(
            types.Point(
                interval=types.TimeInterval(
                    start_time=point_end - timedelta(seconds=period_s), end_time=point_end
                ),
                value=types.TypedValue(double_value=float(v)),
            )
        )
    return types.TimeSeries(
        metric={"type": metric_type},
        resource={"type": "gce_instance", "labels": {"instance_id": instance_id, "project_id": "p"}},
        metric_kind=1,
        value_type=3,
        unit=unit,
        points=points,
    )
