"""CloudWatch over the real wire: boto3 -> HTTP -> moto's server on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from connectors.base import Query
from connectors.cloudwatch import CloudWatchSource
from connectors.errors import ConnectorError
from model.fit.file import CloudWatchMetric
from tests.connectors.conftest import NAB, put_series, recent_end

RDS = {"DBInstanceIdentifier": "shop-db"}


def cpu(dims=RDS, stat="Average", namespace="AWS/RDS", name="CPUUtilization"):
    return CloudWatchMetric(namespace=namespace, name=name, stat=stat, dimensions=dims)


def test_series_round_trip_with_gaps(aws):
    end = recent_end()
    stamps = [end - timedelta(minutes=5 * (288 - i)) for i in range(288)]
    values = np.round(np.random.default_rng(1).uniform(5, 95, 288), 3)
    keep = [i for i in range(288) if not 100 <= i < 110]  # a 50-minute gap
    put_series(aws, "AWS/RDS", "CPUUtilization", RDS, [stamps[i] for i in keep], values[keep], "Percent")
    frame = CloudWatchSource().fetch([Query("nodes.db.cpu", cpu())], timedelta(days=1), 300, end=end)
    assert list(frame.columns) == ["timestamp", "series", "value", "unit"]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert len(frame) == len(keep)  # no fill in the gap
    assert frame["timestamp"].tolist() == [pd.Timestamp(stamps[i]) for i in keep]
    np.testing.assert_allclose(frame["value"], values[keep])
    assert set(frame["unit"]) == {"Percent"}


def test_sum_and_maximum_aggregate_within_aligned_buckets(aws):
    end = recent_end(3600)
    # two raw points per 5-minute bucket, one minute apart
    stamps = [end - timedelta(minutes=m) for m in range(60, 0, -1) if m % 5 in (4, 3)]
    values = list(range(len(stamps)))
    dims = {"LoadBalancer": "app/shop/1"}
    put_series(aws, "AWS/ApplicationELB", "RequestCount", dims, stamps, values, "Count")
    src = CloudWatchSource()
    total = src.fetch(
        [Query("traffic", cpu(dims, "Sum", "AWS/ApplicationELB", "RequestCount"))],
        timedelta(hours=1),
        300,
        end=end,
    )
    peak = src.fetch(
        [Query("traffic", cpu(dims, "Maximum", "AWS/ApplicationELB", "RequestCount"))],
        timedelta(hours=1),
        300,
        end=end,
    )
    expected = pd.Series(values, index=pd.DatetimeIndex(stamps)).groupby(lambda t: t.floor("300s"))
    assert total["value"].tolist() == expected.sum().astype(float).tolist()
    assert peak["value"].tolist() == expected.max().astype(float).tolist()
    assert (total["timestamp"].dt.minute % 5 == 0).all()


@pytest.mark.parametrize(
    "name", ["elb_request_count_8c0756", "ec2_cpu_utilization_24ae8d", "rds_cpu_utilization_cc0c53"]
)
def test_nab_series_come_back_unchanged_through_moto(aws, name):
    """Real CloudWatch data, moved to the last days (CloudWatch keeps 1-minute data 15 days)."""
    raw = pd.read_csv(NAB / f"{name}.csv", parse_dates=["timestamp"])
    raw["timestamp"] = raw["timestamp"].dt.tz_localize("UTC")
    gaps = raw["timestamp"].diff() > pd.Timedelta(minutes=5)
    centre = int(np.argmax(gaps.to_numpy())) if gaps.any() else len(raw) // 2
    part = raw.iloc[max(0, centre - 250) : centre + 250].reset_index(drop=True)
    shift = pd.Timestamp(recent_end(60)) - pd.Timedelta(days=3) - part["timestamp"].iloc[0].floor("D")
    stamps = part["timestamp"] + shift
    put_series(aws, "AWS/EC2", "Nab", {"File": name}, list(stamps), part["value"])
    span = (stamps.iloc[-1] - stamps.iloc[0].floor("D")) + pd.Timedelta(minutes=1)
    end = stamps.iloc[0].floor("D") + span.ceil("60s")
    frame = CloudWatchSource().fetch(
        [Query(name, cpu({"File": name}, name="Nab", namespace="AWS/EC2"))],
        span.to_pytimedelta(),
        60,
        end=end.to_pydatetime(),
    )
    assert frame["timestamp"].tolist() == stamps.tolist()
    assert frame["value"].tolist() == part["value"].astype(float).tolist()
    if gaps.any():
        assert (frame["timestamp"].diff() > pd.Timedelta(minutes=5)).sum() >= 1  # the gap is still there


def test_batches_follow_the_point_limit(aws, moto_calls):
    """30 series x 4,032 points: 25 fit under 100,800 points a call, so exactly 2 calls."""
    end = recent_end()
    for k in range(30):
        put_series(
            aws, "AWS/EC2", "CPUUtilization", {"InstanceId": f"i-{k}"}, [end - timedelta(minutes=5)], [k]
        )
    queries = [Query(f"s{k}", cpu({"InstanceId": f"i-{k}"}, namespace="AWS/EC2")) for k in range(30)]
    src = CloudWatchSource()
    assert src.plan(queries, timedelta(days=14), 300, end=end).calls == 2
    frame = src.fetch(queries, timedelta(days=14), 300, end=end)
    assert moto_calls == [25, 5]
    assert src.stats.calls == 2
    assert frame.set_index("series")["value"].to_dict() == {f"s{k}": float(k) for k in range(30)}


def test_discovery_pages_and_deduplicates(aws):
    end = recent_end()
    for k in range(520):  # more than one ListMetrics page (500)
        put_series(
            aws,
            "AWS/EC2",
            "CPUUtilization",
            {"InstanceId": f"i-{k:04d}"},
            [end, end - timedelta(minutes=5)],
            [1, 2],
        )
    put_series(aws, "AWS/RDS", "CPUUtilization", RDS, [end], [3])
    found = CloudWatchSource().discover()
    ec2 = [m for m in found if m.metric.namespace == "AWS/EC2"]
    assert len(ec2) == 520 and len({tuple(m.metric.dimensions.items()) for m in ec2}) == 520
    rds = [m for m in found if m.metric.namespace == "AWS/RDS"]
    assert len(rds) == 1 and rds[0].suggested_key == "cpu" and rds[0].unit == "Percent"


def test_region_without_metrics(aws):
    src = CloudWatchSource(region="eu-west-3")
    assert src.discover() == []
    with pytest.raises(ConnectorError, match="no data for nodes.db.cpu"):
        src.fetch([Query("nodes.db.cpu", cpu())], timedelta(days=1), 300, end=recent_end())


def test_metric_without_data_in_window_names_it(aws):
    end = recent_end()
    put_series(aws, "AWS/RDS", "CPUUtilization", RDS, [end - timedelta(days=3)], [50])
    with pytest.raises(ConnectorError) as info:
        CloudWatchSource().fetch([Query("nodes.db.cpu", cpu())], timedelta(days=1), 300, end=end)
    assert "nodes.db.cpu" in str(info.value) and "lookback_days" in str(info.value)


def _throttle(monkeypatch, times: int):
    from moto.cloudwatch.exceptions import CloudWatchException
    from moto.cloudwatch.models import CloudWatchBackend

    class Throttling(CloudWatchException):
        code = "Throttling"

    real, left = CloudWatchBackend.get_metric_data, {"n": times}

    def flaky(self, *args, **kwargs):
        if left["n"] > 0:
            left["n"] -= 1
            raise Throttling("Rate exceeded")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", flaky)
    return left


def test_throttling_is_retried_then_succeeds(aws, monkeypatch):
    end = recent_end()
    put_series(aws, "AWS/RDS", "CPUUtilization", RDS, [end - timedelta(minutes=5)], [42])
    left = _throttle(monkeypatch, 2)
    src = CloudWatchSource(max_attempts=4)
    frame = src.fetch([Query("db", cpu())], timedelta(hours=1), 300, end=end)
    assert left["n"] == 0 and src.stats.retries == 2 and src.stats.calls == 1
    assert frame["value"].tolist() == [42.0]


def test_throttling_that_does_not_stop_is_a_clear_error(aws, monkeypatch):
    _throttle(monkeypatch, 100)
    with pytest.raises(ConnectorError, match=r"throttled GetMetricData and it still failed after 1 retries"):
        CloudWatchSource(max_attempts=2).fetch(
            [Query("db", cpu())], timedelta(hours=1), 300, end=recent_end()
        )


def test_half_failed_batch_names_the_series_and_keeps_nothing(aws, monkeypatch):
    from moto.cloudwatch.models import CloudWatchBackend

    end = recent_end()
    put_series(aws, "AWS/RDS", "CPUUtilization", RDS, [end - timedelta(minutes=5)], [1])
    put_series(aws, "AWS/EC2", "CPUUtilization", {"InstanceId": "i-1"}, [end - timedelta(minutes=5)], [2])
    real = CloudWatchBackend.get_metric_data

    def half(self, *args, **kwargs):
        results = real(self, *args, **kwargs)
        results[1]["status_code"] = "InternalError"
        return results

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", half)
    with pytest.raises(ConnectorError, match=r"could not return nodes\.web\.cpu \(InternalError"):
        CloudWatchSource().fetch(
            [
                Query("nodes.db.cpu", cpu()),
                Query("nodes.web.cpu", cpu({"InstanceId": "i-1"}, namespace="AWS/EC2")),
            ],
            timedelta(hours=1),
            300,
            end=end,
        )


def test_rejected_credentials_over_the_wire(aws, monkeypatch):
    """moto with authentication on refuses unknown keys with HTTP 403, as AWS does."""
    from moto import settings

    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    with pytest.raises(ConnectorError) as info:
        CloudWatchSource().fetch([Query("db", cpu())], timedelta(hours=1), 300, end=recent_end())
    assert "refused the request (HTTP 403)" in str(info.value) or "rejected the credentials" in str(
        info.value
    )
    assert "aws sso login" in str(info.value) and "testing" not in str(info.value)


def test_missing_credentials_fail_before_any_call(aws, monkeypatch, moto_calls):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ConnectorError, match="no AWS credentials were found"):
        CloudWatchSource().fetch([Query("db", cpu())], timedelta(hours=1), 300, end=recent_end())
    assert moto_calls == []


def test_missing_region(aws, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ConnectorError, match="no AWS region is set"):
        CloudWatchSource().discover()


def test_unreachable_endpoint_is_a_clear_error(aws, monkeypatch):
    from tests.connectors.conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ConnectorError, match="cannot reach CloudWatch at http://127.0.0.1"):
        CloudWatchSource(max_attempts=1).discover(namespaces=["AWS/RDS"])
