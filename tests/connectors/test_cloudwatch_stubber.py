"""Paths moto cannot serve (percentiles, NextToken pages, PartialData, expired tokens),
tested with botocore's Stubber on a real client, with response shapes as AWS returns them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber

from connectors.base import Query
from connectors.cloudwatch import CloudWatchSource
from connectors.errors import ConnectorError
from model.fit.file import CloudWatchMetric

END = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
LATENCY = CloudWatchMetric(
    namespace="AWS/ApplicationELB",
    name="TargetResponseTime",
    stat="p99",
    dimensions={"LoadBalancer": "app/shop/50dc6c495c0c9188"},
)


@pytest.fixture
def stubbed():
    client = boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield CloudWatchSource(client=client), stub


def _stamps(n: int) -> list[datetime]:
    return [END - timedelta(minutes=5 * (n - i)) for i in range(n)]


def test_percentile_request_and_answer(stubbed):
    src, stub = stubbed
    stamps = _stamps(12)
    expected = {
        "MetricDataQueries": [
            {
                "Id": "q0",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": "TargetResponseTime",
                        "Dimensions": [{"Name": "LoadBalancer", "Value": "app/shop/50dc6c495c0c9188"}],
                    },
                    "Period": 300,
                    "Stat": "p99",
                },
            }
        ],
        "StartTime": END - timedelta(hours=1),
        "EndTime": END,
        "ScanBy": "TimestampAscending",
    }
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "q0",
                    "Label": "TargetResponseTime",
                    "Timestamps": stamps,
                    "Values": [0.25 + i / 100 for i in range(12)],
                    "StatusCode": "Complete",
                }
            ],
            "Messages": [],
        },
        expected,
    )
    frame = src.fetch([Query("latency", LATENCY)], timedelta(hours=1), 300, end=END)
    stub.assert_no_pending_responses()
    assert frame["value"].round(4).tolist() == [round(0.25 + i / 100, 4) for i in range(12)]
    assert set(frame["unit"]) == {"Seconds"}


def test_next_token_pages_are_merged_by_id(stubbed):
    src, stub = stubbed
    stamps = _stamps(12)
    q1 = CloudWatchMetric(
        namespace="AWS/RDS", name="CPUUtilization", dimensions={"DBInstanceIdentifier": "a"}
    )
    page = lambda qid, sl, token=None: {  # noqa: E731
        "MetricDataResults": [
            {
                "Id": qid,
                "Label": qid,
                "Timestamps": stamps[sl],
                "Values": [float(i) for i in range(12)][sl],
                "StatusCode": "PartialData" if token else "Complete",
            }
        ],
        **({"NextToken": token} if token else {}),
    }
    stub.add_response(
        "get_metric_data",
        {
            **page("q0", slice(0, 5), "t1"),
            "MetricDataResults": page("q0", slice(0, 5), "t1")["MetricDataResults"]
            + page("q1", slice(0, 7))["MetricDataResults"],
        },
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY},
    )
    stub.add_response(
        "get_metric_data",
        page("q0", slice(5, 12)),
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY, "NextToken": "t1"},
    )
    frame = src.fetch([Query("a", LATENCY), Query("b", q1)], timedelta(hours=1), 300, end=END)
    assert frame[frame.series == "a"]["value"].tolist() == [float(i) for i in range(12)]
    assert len(frame[frame.series == "b"]) == 7
    assert src.stats.calls == 2


def test_partial_data_without_a_token_is_refused(stubbed):
    src, stub = stubbed
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "q0",
                    "Label": "x",
                    "Timestamps": _stamps(3),
                    "Values": [1.0, 2.0, 3.0],
                    "StatusCode": "PartialData",
                }
            ]
        },
    )
    with pytest.raises(ConnectorError, match="only part of latency"):
        src.fetch([Query("latency", LATENCY)], timedelta(hours=1), 300, end=END)


@pytest.mark.parametrize("code", ["ExpiredToken", "RequestExpired"])
def test_expired_credentials_say_how_to_refresh(stubbed, code):
    src, stub = stubbed
    stub.add_client_error(
        "get_metric_data",
        service_error_code=code,
        service_message="The security token included in the request is expired",
        http_status_code=403,
    )
    with pytest.raises(ConnectorError) as info:
        src.fetch([Query("latency", LATENCY)], timedelta(hours=1), 300, end=END)
    assert f"have expired ({code})" in str(info.value) and "aws sso login" in str(info.value)


def test_access_denied_names_the_permission(stubbed):
    src, stub = stubbed
    stub.add_client_error("list_metrics", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(ConnectorError, match="cloudwatch:ListMetrics"):
        src.discover(namespaces=["AWS/RDS"])


@pytest.mark.parametrize(
    "days, period, fix", [(20, 60, "period_s: 300"), (90, 300, "period_s: 3600"), (500, 3600, "455")]
)
def test_periods_must_suit_the_data_age(stubbed, days, period, fix):
    src, stub = stubbed  # no response queued: a call would fail the stub
    with pytest.raises(ConnectorError, match=fix):
        src.fetch([Query("latency", LATENCY)], timedelta(days=days), period, end=END)


def test_plan_reports_calls_and_cost_before_pulling(stubbed):
    src, _ = stubbed
    queries = [Query(f"s{k}", LATENCY) for k in range(1000)]
    plan = src.plan(queries, timedelta(days=14), 300)
    assert (plan.points_per_query, plan.queries_per_call, plan.calls) == (4032, 25, 40)
    assert plan.cost_usd == pytest.approx(0.01) and plan.large
    one_minute = src.plan(queries[:600], timedelta(days=1), 60)
    assert (one_minute.queries_per_call, one_minute.calls) == (70, 9)


def _reply(results: list[dict]) -> dict:
    return {"MetricDataResults": results, "Messages": []}


def test_a_truncated_reply_is_pulled_again_not_called_no_data(stubbed):
    src, stub = stubbed
    stamps = _stamps(12)
    cpu = CloudWatchMetric(
        namespace="AWS/RDS", name="CPUUtilization", dimensions={"DBInstanceIdentifier": "a"}
    )
    whole = [
        {
            "Id": "q0",
            "Label": "latency",
            "Timestamps": stamps,
            "Values": [0.2] * 12,
            "StatusCode": "Complete",
        },
        {"Id": "q1", "Label": "cpu", "Timestamps": stamps, "Values": [40.0] * 12, "StatusCode": "Complete"},
    ]
    stub.add_response("get_metric_data", _reply(whole[:1]))  # the reply stops after the first query's result
    stub.add_response("get_metric_data", _reply(whole))
    frame = src.fetch([Query("latency", LATENCY), Query("cpu", cpu)], timedelta(hours=1), 300, end=END)
    stub.assert_no_pending_responses()
    assert frame.groupby("series").size().to_dict() == {"cpu": 12, "latency": 12} and src.stats.retries == 1


def test_a_reply_that_stays_truncated_is_refused_with_what_happened(stubbed):
    src, stub = stubbed
    for _ in range(3):
        stub.add_response("get_metric_data", _reply([]))
    with pytest.raises(ConnectorError, match="left out latency \\(a truncated reply\\) 3 times") as caught:
        src.fetch([Query("latency", LATENCY)], timedelta(hours=1), 300, end=END)
    assert "check the metric's name" not in str(caught.value) and "no data" not in str(caught.value)


def test_a_complete_result_with_no_points_is_still_no_data(stubbed):
    src, stub = stubbed
    stub.add_response(
        "get_metric_data",
        _reply([{"Id": "q0", "Label": "latency", "Timestamps": [], "Values": [], "StatusCode": "Complete"}]),
    )
    with pytest.raises(ConnectorError, match="no data for latency"):
        src.fetch([Query("latency", LATENCY)], timedelta(hours=1), 300, end=END)
