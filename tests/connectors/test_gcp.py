"""Cloud Monitoring over the real wire: MetricServiceClient -> gRPC -> a fake MetricService on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest

from connectors.base import Query
from connectors.errors import ConnectorError
from connectors.gcp import GcpSource
from model.fit.file import GcpMetric
from tests.connectors.conftest import gcp_series

CPU_TYPE = "compute.googleapis.com/instance/cpu/utilization"
END = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
CPU = GcpMetric(
    type=CPU_TYPE, filter='resource.labels.instance_id = "123"', aligner="ALIGN_MEAN", reducer="REDUCE_MEAN"
)


def source(endpoint, **kw):
    return GcpSource(project="p", endpoint=endpoint, retry_initial_s=0.01, **kw)


def test_aggregation_request_pagination_and_order(gcp):
    fake, endpoint = gcp
    values = [i / 100 for i in range(36)]
    fake.series = [gcp_series(CPU_TYPE, "123", END, 300, values, gaps={10, 11})]
    fake.page_size = 10  # points per page: the series spans four pages

    def expect(request):
        assert request.name == "projects/p"
        assert request.filter == f'metric.type = "{CPU_TYPE}" AND (resource.labels.instance_id = "123")'
        assert request.aggregation.alignment_period.total_seconds() == 300
        assert request.aggregation.per_series_aligner.name == "ALIGN_MEAN"
        assert request.aggregation.cross_series_reducer.name == "REDUCE_MEAN"
        assert request.interval.end_time == END and request.interval.start_time == END - timedelta(hours=3)

    fake.expect = expect
    src = source(endpoint)
    frame = src.fetch([Query("nodes.web.cpu", CPU)], timedelta(hours=3), 300, end=END)
    assert not fake.errors and len(fake.requests) == 4 and src.stats.calls == 4
    assert frame["value"].tolist() == [v for i, v in enumerate(values) if i not in (10, 11)]
    assert frame["timestamp"].is_monotonic_increasing
    assert frame["timestamp"].iloc[-1] == END - timedelta(minutes=5)  # labelled by bucket start
    assert set(frame["unit"]) == {"1"}


def test_rejected_aggregation_is_a_clear_error(gcp):
    fake, endpoint = gcp
    fake.series = [gcp_series(CPU_TYPE, "123", END, 300, [0.5] * 12)]
    fake.expect = lambda r: (_ for _ in ()).throw(AssertionError("needs ALIGN_RATE"))
    with pytest.raises(ConnectorError, match="refused ListTimeSeries.*needs ALIGN_RATE"):
        source(endpoint).fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)


def test_resource_exhausted_is_retried_then_succeeds(gcp):
    fake, endpoint = gcp
    fake.series = [gcp_series(CPU_TYPE, "123", END, 300, [0.5] * 12)]
    fake.fail = [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3
    src = source(endpoint)
    frame = src.fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)
    assert src.stats.retries == 3 and len(frame) == 12 and not fake.fail


def test_endless_throttling_stops_with_a_message(gcp):
    fake, endpoint = gcp
    fake.fail = [grpc.StatusCode.RESOURCE_EXHAUSTED] * 10
    with pytest.raises(ConnectorError, match="throttled .* after 2 retries"):
        source(endpoint, max_retries=2).fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    "status, words",
    [
        (grpc.StatusCode.UNAUTHENTICATED, "application-default login"),
        (grpc.StatusCode.PERMISSION_DENIED, "roles/monitoring.viewer"),
        (grpc.StatusCode.NOT_FOUND, "was not found"),
    ],
)
def test_auth_and_project_faults(gcp, status, words):
    fake, endpoint = gcp
    fake.fail = [status]
    with pytest.raises(ConnectorError, match=words):
        source(endpoint).fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)


def test_empty_project_is_refused_before_any_call(gcp):
    fake, endpoint = gcp
    with pytest.raises(ConnectorError, match="no GCP project"):
        GcpSource(project="", endpoint=endpoint).fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)
    assert fake.requests == []


def test_project_without_metrics_and_metric_without_data(gcp):
    fake, endpoint = gcp
    src = source(endpoint)
    assert src.discover() == []
    with pytest.raises(ConnectorError, match="no data for cpu"):
        src.fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)


def test_several_series_without_a_reducer_are_refused(gcp):
    fake, endpoint = gcp
    fake.series = [
        gcp_series(CPU_TYPE, "1", END, 300, [0.1] * 6),
        gcp_series(CPU_TYPE, "2", END, 300, [0.9] * 6),
    ]
    with pytest.raises(ConnectorError, match="matched 2 time series.*REDUCE_MEAN"):
        source(endpoint).fetch([Query("cpu", GcpMetric(type=CPU_TYPE))], timedelta(hours=1), 300, end=END)


def test_discovery_lists_known_types_per_resource(gcp):
    from google.api import metric_pb2

    fake, endpoint = gcp
    fake.descriptors = [
        metric_pb2.MetricDescriptor(type=CPU_TYPE, unit="1"),
        metric_pb2.MetricDescriptor(type="compute.googleapis.com/instance/uptime", unit="s"),
    ]
    now = datetime.now(timezone.utc)
    fake.series = [
        gcp_series(CPU_TYPE, "1", now, 300, [0.1] * 3),
        gcp_series(CPU_TYPE, "2", now, 300, [0.2] * 3),
    ]
    found = source(endpoint).discover(prefixes=["compute.googleapis.com/"])
    assert sorted(m.labels["instance_id"] for m in found) == ["1", "2"]
    assert all(m.suggested_key == "cpu" and m.metric.aligner == "ALIGN_MEAN" for m in found)
    assert found[0].metric.filter == 'resource.labels.instance_id = "1"'


def test_partial_results_with_execution_errors_are_pulled_again(gcp):
    fake, endpoint = gcp
    fake.series = [gcp_series(CPU_TYPE, "123", END, 300, [0.5] * 12)]
    fake.incomplete = 2  # two partial answers (a quarter of the points each), then the whole series
    src = source(endpoint)
    frame = src.fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)
    assert len(frame) == 12 and src.stats.retries == 2 and len(fake.requests) == 3


def test_results_that_stay_incomplete_are_refused_not_kept(gcp):
    fake, endpoint = gcp
    fake.series = [gcp_series(CPU_TYPE, "123", END, 300, [0.5] * 12)]
    fake.incomplete = 10
    with pytest.raises(ConnectorError, match="incomplete results for cpu .*no partial data was kept"):
        source(endpoint, max_retries=2).fetch([Query("cpu", CPU)], timedelta(hours=1), 300, end=END)
    assert len(fake.requests) == 3


def test_discovery_suggests_an_aligner_that_keeps_gaps_for_delta_counters(gcp):
    from google.api import metric_pb2

    fake, endpoint = gcp
    lb, hits = "loadbalancing.googleapis.com/https/request_count", "redis.googleapis.com/stats/keyspace_hits"
    delta, cumulative = (
        metric_pb2.MetricDescriptor.MetricKind.DELTA,
        metric_pb2.MetricDescriptor.MetricKind.CUMULATIVE,
    )
    fake.descriptors = [
        metric_pb2.MetricDescriptor(type=lb, unit="1", metric_kind=delta),
        metric_pb2.MetricDescriptor(type=hits, unit="1", metric_kind=delta),
    ]
    now = datetime.now(timezone.utc)
    fake.series = [gcp_series(lb, "1", now, 300, [5] * 3), gcp_series(hits, "2", now, 300, [5] * 3)]
    found = source(endpoint).discover(
        prefixes=["loadbalancing.googleapis.com/https/", "redis.googleapis.com/"]
    )
    assert {m.metric.type: m.metric.aligner for m in found} == {lb: "ALIGN_SUM", hits: "ALIGN_SUM"}
    fake.descriptors = [metric_pb2.MetricDescriptor(type=lb, unit="1", metric_kind=cumulative)]
    found = source(endpoint).discover(prefixes=["loadbalancing.googleapis.com/https/"])
    assert [m.metric.aligner for m in found] == ["ALIGN_DELTA"]  # ALIGN_SUM is refused on cumulative counters


def test_a_delta_counter_pulled_with_align_sum_keeps_its_gaps(gcp):
    fake, endpoint = gcp
    lb = "loadbalancing.googleapis.com/https/request_count"
    fake.series = [gcp_series(lb, "1", END, 300, [float(i) for i in range(12)], gaps={4, 5, 6})]
    metric = GcpMetric(type=lb, aligner="ALIGN_SUM", reducer="REDUCE_SUM")
    fake.expect = lambda r: (
        None
        if r.aggregation.per_series_aligner.name == "ALIGN_SUM"
        else (_ for _ in ()).throw(AssertionError("expected ALIGN_SUM"))
    )
    frame = source(endpoint).fetch([Query("traffic", metric)], timedelta(hours=1), 300, end=END)
    assert len(frame) == 9 and frame["value"].tolist() == [0, 1, 2, 3, 7, 8, 9, 10, 11]
