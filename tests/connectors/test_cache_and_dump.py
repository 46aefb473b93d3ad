"""The series cache and the fit-file dump, end to end over moto and the demo."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from model.fit.fetch import dump_fit_series, fetch_fit_series
from connectors.errors import ConnectorError
from model.fit.file import FitFileError
from tests.connectors.conftest import put_series, recent_end

ROOT = Path(__file__).resolve().parents[2]

CW_FIT = """\
version: 1
source: cloudwatch
lookback_days: 1
period_s: 300
traffic:
  metric: {namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum, dimensions: {LoadBalancer: app/shop/1}}
entry: web
nodes:
  web:
    kind: service
    cpu: {namespace: AWS/ECS, name: CPUUtilization, dimensions: {ClusterName: shop, ServiceName: web}}
"""


@pytest.fixture
def cw_fit(aws, tmp_path):
    end = recent_end()
    stamps = [end - timedelta(minutes=5 * i) for i in range(1, 100)]
    put_series(
        aws, "AWS/ApplicationELB", "RequestCount", {"LoadBalancer": "app/shop/1"}, stamps, range(99), "Count"
    )
    put_series(
        aws,
        "AWS/ECS",
        "CPUUtilization",
        {"ClusterName": "shop", "ServiceName": "web"},
        stamps,
        [50] * 99,
        "Percent",
    )
    path = tmp_path / "fit.yaml"
    path.write_text(CW_FIT)
    return path, end


def test_second_look_reads_the_cache_and_refresh_pulls_again(cw_fit, moto_calls):
    path, end = cw_fit
    first, report = fetch_fit_series(path, end=end)
    assert (report.calls, report.cache_hits, report.cache_misses) == (1, 0, 2) and len(moto_calls) == 1
    second, report = fetch_fit_series(path, end=end)
    assert (report.calls, report.cache_hits) == (0, 2) and len(moto_calls) == 1
    pd.testing.assert_frame_equal(first, second)
    _, report = fetch_fit_series(path, end=end, refresh=True)
    assert report.calls == 1 and len(moto_calls) == 2
    _, report = fetch_fit_series(path, end=end + timedelta(minutes=5))  # a new aligned window
    assert report.cache_misses == 2 and len(moto_calls) == 3


def test_half_failed_pull_keeps_the_batches_it_paid_for(cw_fit, monkeypatch, moto_calls):
    from connectors import cloudwatch_plan
    from moto.cloudwatch.models import CloudWatchBackend

    path, end = cw_fit
    monkeypatch.setattr(cloudwatch_plan, "MAX_POINTS_PER_CALL", 288)  # one query a call
    real, state = CloudWatchBackend.get_metric_data, {"n": 0}

    def second_call_fails(self, *args, **kwargs):
        state["n"] += 1
        if state["n"] == 2:
            from moto.cloudwatch.exceptions import InvalidParameterValue

            raise InvalidParameterValue("injected")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", second_call_fails)
    with pytest.raises(ConnectorError, match="refused GetMetricData: injected"):
        fetch_fit_series(path, end=end)
    frame, report = fetch_fit_series(path, end=end)
    assert (report.cache_hits, report.cache_misses, report.calls) == (1, 1, 1)
    assert frame.groupby("series").size().to_dict() == {"nodes.web.cpu": 99, "traffic": 99}


def test_dump_over_moto_writes_the_tidy_frame(cw_fit, tmp_path):
    path, _ = cw_fit  # the data ends an hour ago, well inside the last day
    report = dump_fit_series(path, tmp_path / "out" / "series.csv")
    written = pd.read_csv(tmp_path / "out" / "series.csv")
    assert list(written.columns) == ["timestamp", "series", "value", "unit"]
    assert written["timestamp"].str.endswith("Z").all() and report.points == len(written) == 198
    assert sorted(written[written.series == "traffic"]["value"]) == list(range(99))
    assert "198 points from cloudwatch" in report.summary()


def test_demo_fit_dump_works_out_of_the_box(tmp_path):
    report = dump_fit_series(ROOT / "scenarios" / "fit-demo.yaml", tmp_path / "demo.csv")
    written = pd.read_csv(tmp_path / "demo.csv")
    assert report.series == 10 and len(written) == 10 * 4032
    assert set(written["series"]) >= {
        "traffic",
        "latency",
        "nodes.web.cpu",
        "nodes.cache.hits",
        "nodes.db.writes",
    }


def test_bad_fit_file_is_a_fit_file_error(tmp_path):
    bad = tmp_path / "fit.yaml"
    bad.write_text(CW_FIT.replace("stat: Sum", "stat: Total"))
    with pytest.raises(FitFileError, match=r"fit.yaml: traffic.metric.stat \(line 6\)"):
        dump_fit_series(bad, tmp_path / "x.csv")


def test_connectors_never_import_streamlit():
    code = (
        "import sys, connectors.dump, connectors.cloudwatch, connectors.gcp, connectors.csv_source, connectors.demo; "
        "assert 'streamlit' not in sys.modules, 'streamlit imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_source_override_revalidates_for_that_source(tmp_path):
    with pytest.raises(
        FitFileError, match=r"with --source cloudwatch\): traffic.metric.series \(line 10\): unknown key"
    ):
        fetch_fit_series(ROOT / "scenarios" / "fit-demo.yaml", source="cloudwatch")
    frame, report = fetch_fit_series(ROOT / "scenarios" / "fit-demo.yaml", source="demo")
    assert report.to_json()["series"] == 10 and str(report) == report.summary()
