"""Locust's --csv stats history and k6's --out json points, read as CSV-source series."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from connectors.base import Query
from connectors.csv_source import CsvSource
from connectors.errors import ConnectorError
from model.fit.file import CsvMetric, FitFileError, fit_file_from_text
from model.fit.units import latency_stat

HERE = Path(__file__).parent / "loadtest"


def fetch(metrics: dict[str, CsvMetric], period_s: int = 1) -> pd.DataFrame:
    return CsvSource(HERE).fetch([Query(k, m) for k, m in metrics.items()], timedelta(days=1), period_s)


def test_locust_history_reads_the_aggregated_rows_with_units():
    raw = pd.read_csv(HERE / "locust_stats_history.csv")
    agg = raw[raw["Name"] == "Aggregated"]
    frame = fetch(
        {
            "rps": CsvMetric(file="locust_stats_history.csv", column="Requests/s", format="locust"),
            "p99": CsvMetric(file="locust_stats_history.csv", column="99%", format="locust"),
        }
    )
    rps = frame[frame.series == "rps"]
    assert len(rps) == len(agg) == 90
    assert rps["value"].tolist() == pytest.approx(agg["Requests/s"].astype(float).tolist())
    assert set(rps["unit"]) == {"Count/Second"}
    p99 = frame[frame.series == "p99"]
    assert set(p99["unit"]) == {"ms"}
    assert len(p99) == int(agg["99%"].notna().sum()) < len(agg)  # N/A is a gap, not an error
    assert rps["timestamp"].iloc[0] == pd.Timestamp("2026-03-02 10:00:00", tz="UTC")


def test_locust_one_endpoint_and_clear_errors():
    item = fetch(
        {"x": CsvMetric(file="locust_stats_history.csv", column="Requests/s", format="locust", name="/item")}
    )
    raw = pd.read_csv(HERE / "locust_stats_history.csv")
    assert item["value"].sum() == pytest.approx(raw.loc[raw["Name"] == "/item", "Requests/s"].sum())
    with pytest.raises(ConnectorError, match=r"no rows named '/nope'.*Aggregated"):
        fetch(
            {
                "x": CsvMetric(
                    file="locust_stats_history.csv", column="Requests/s", format="locust", name="/nope"
                )
            }
        )
    with pytest.raises(ConnectorError, match=r"no column 'p99'.*99%"):
        fetch({"x": CsvMetric(file="locust_stats_history.csv", column="p99", format="locust")})
    assert latency_stat(CsvMetric(file="f", column="99%", format="locust")) == "p99"
    assert latency_stat(CsvMetric(file="f", column="50%", format="locust")) == "p50"


def _points(metric: str) -> pd.DataFrame:
    rows = [json.loads(line) for line in (HERE / "k6_points.json").read_text().splitlines()]
    pts = [
        (pd.Timestamp(r["data"]["time"]), r["data"]["value"])
        for r in rows
        if r.get("type") == "Point" and r["metric"] == metric
    ]
    return pd.DataFrame(pts, columns=["t", "v"])


def test_k6_points_are_counted_and_reduced_per_period():
    frame = fetch(
        {
            "reqs": CsvMetric(file="k6_points.json", column="http_reqs", format="k6"),
            "p99": CsvMetric(file="k6_points.json", column="http_req_duration", format="k6", stat="p99"),
            "mean": CsvMetric(file="k6_points.json", column="http_req_duration", format="k6"),
        },
        period_s=5,
    )
    reqs = _points("http_reqs")
    per = reqs.groupby(reqs["t"].dt.floor("5s"))["v"].sum()
    got = frame[frame.series == "reqs"].set_index("timestamp")["value"]
    assert got.tolist() == per.tolist() and got.sum() == len(reqs)
    dur = _points("http_req_duration")
    p99 = dur.groupby(dur["t"].dt.floor("5s"))["v"].quantile(0.99)
    assert frame[frame.series == "p99"]["value"].tolist() == pytest.approx(p99.tolist())
    assert set(frame[frame.series == "p99"]["unit"]) == {"ms"}
    mean = dur.groupby(dur["t"].dt.floor("5s"))["v"].mean()
    assert frame[frame.series == "mean"]["value"].tolist() == pytest.approx(mean.tolist())
    # the second half of the run was offered twice the load of the first
    assert got.iloc[2:].mean() > 1.5 * got.iloc[:2].mean()


def test_k6_summary_is_refused_with_what_to_use():
    with pytest.raises(ConnectorError, match=r"end-of-test summary.*no timestamps") as err:
        fetch({"x": CsvMetric(file="k6_summary.json", column="http_reqs", format="k6")})
    assert "--out json" in str(err.value)
    with pytest.raises(ConnectorError, match="no points of metric 'http_req_waiting'"):
        fetch({"x": CsvMetric(file="k6_points.json", column="http_req_waiting", format="k6")})


def test_format_keys_are_checked_in_the_fit_file():
    base = (
        "version: 1\nsource: csv\nperiod_s: 1\nentry: web\ntraffic: {metric: %s}\n"
        "nodes: {web: {kind: service, cpu: {file: m.csv, column: cpu, unit: Percent}}}\n"
    )
    fit_file_from_text(base % "{file: l.csv, column: Requests/s, format: locust, name: /item}")
    with pytest.raises(FitFileError, match=r"traffic.metric.stat.*only for format: k6"):
        fit_file_from_text(base % "{file: l.csv, column: Requests/s, format: locust, stat: p99}")
    with pytest.raises(FitFileError, match=r"traffic.metric.name.*only for format: locust"):
        fit_file_from_text(base % "{file: l.csv, column: x, name: /item}")
    with pytest.raises(FitFileError, match=r"unknown statistic 'p1000'"):
        fit_file_from_text(base % "{file: k.json, column: http_req_duration, format: k6, stat: p1000}")
    with pytest.raises(FitFileError, match=r"period_s.*multiple of 60 seconds for this source.*source: csv"):
        fit_file_from_text(
            "version: 1\nsource: demo\nperiod_s: 30\nentry: web\ntraffic: {metric: {series: traffic}}\n"
            "nodes: {web: {kind: service, cpu: {series: web.cpu}}}\n"
        )
