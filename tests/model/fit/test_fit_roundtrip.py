"""Round trip: a known system -> per-period metrics -> moto's CloudWatch -> the connector -> the fit.

The truth is generated here, independently of the demo data: requests per period are
Poisson around a daily and weekly cycle with compound growth; each node's busy time is the
sum of that period's exponential service times (a gamma draw), plus background and
metric noise; cache hits are binomial draws; the share of requests that write varies over
the day (so reads and writes can be told apart, as on a real shop where checkouts peak in
the evening). Everything travels over HTTP to moto on 127.0.0.1, through boto3 and the
CloudWatch connector, exactly as a user's pull would.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

import cli
from model.scenario.reader import load_scenario
from tests.connectors.conftest import aws, loopback_only, moto_url, put_series, recent_end  # noqa: F401 (fixtures)

PERIOD_S, DAYS = 3600, 28  # hourly: moto scans every point for every bucket, so 5-minute data takes minutes;
# four weeks, because 5% a month is 2.3% over two weeks, about the size of a fortnight's noise
TRUTH = {
    "api.service_ms": 25.0,
    "api.cores": 6,
    "api.background": 0.03,
    "cache.visits": 1.5,
    "cache.hit_ratio": 0.9,
    "cache.hit_ms": 0.6,
    "cache.background": 0.015,
    "db.write_visits": 0.25,
    "db.read_ms": 4.0,
    "db.write_ms": 12.0,
    "db.cores": 4,
    "db.background": 0.04,
    "growth_pct_per_month": 5.0,
    "peak_rps": 200.0,
}
ELB = {"LoadBalancer": "app/shop/50dc6c495c0c9188"}
ECS = {"ClusterName": "shop", "ServiceName": "api"}
REDIS = {"CacheClusterId": "shop-cache-001"}
RDS = {"DBInstanceIdentifier": "shop-db"}

FIT_FILE = f"""
version: 1
source: cloudwatch
region: us-east-1
lookback_days: {DAYS}
period_s: {PERIOD_S}
traffic:
  metric: {{namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum, dimensions: {json.dumps(ELB)}}}
entry: api
nodes:
  api:
    kind: service
    replicas: 3
    cpus: 2
    cpu: {{namespace: AWS/ECS, name: CPUUtilization, stat: Average, dimensions: {json.dumps(ECS)}}}
    calls: [{{to: cache}}, {{to: db, op: write}}]
  cache:
    kind: cache
    miss: db
    cpu: {{namespace: AWS/ElastiCache, name: CPUUtilization, stat: Average, dimensions: {json.dumps(REDIS)}}}
    hits: {{namespace: AWS/ElastiCache, name: CacheHits, stat: Sum, dimensions: {json.dumps(REDIS)}}}
    misses: {{namespace: AWS/ElastiCache, name: CacheMisses, stat: Sum, dimensions: {json.dumps(REDIS)}}}
  db:
    kind: database
    cpus: 4
    cpu: {{namespace: AWS/RDS, name: CPUUtilization, stat: Average, dimensions: {json.dumps(RDS)}}}
    reads: {{namespace: AWS/RDS, name: ReadIOPS, stat: Average, dimensions: {json.dumps(RDS)}}}
    writes: {{namespace: AWS/RDS, name: WriteIOPS, stat: Average, dimensions: {json.dumps(RDS)}}}
"""


def generate(end, seed: int = 11) -> tuple[dict[str, tuple[list, np.ndarray, str]], float]:
    """The series, and the true mean write visits per request (the share varies over the day,
    so its mean per request is the traffic-weighted mean of the share, not the share's midline)."""
    rng = np.random.default_rng(seed)
    n = DAYS * 86400 // PERIOD_S
    stamps = [end - timedelta(seconds=PERIOD_S * (n - i)) for i in range(n)]
    age_months = np.array([(end - t).total_seconds() / 86400 / 30.44 for t in stamps])
    hour = np.array([t.hour + t.minute / 60 for t in stamps])
    weekend = np.array([t.weekday() >= 5 for t in stamps])
    daily = 0.3 + 0.7 * np.exp(-0.5 * (((hour - 19 + 12) % 24 - 12) / 3.0) ** 2)
    growth = (1 + TRUTH["growth_pct_per_month"] / 100) ** (-age_months)
    rate = TRUTH["peak_rps"] * daily * np.where(weekend, 0.8, 1.0) * growth * rng.lognormal(0, 0.03, n)
    requests = rng.poisson(rate * PERIOD_S)

    def busy(count: np.ndarray, service_s: float, cores: float, background: float) -> np.ndarray:
        work_s = rng.gamma(np.maximum(count, 1e-9), service_s) * (
            count > 0
        )  # sum of `count` exponential times
        return np.clip(100 * (background + work_s / (PERIOD_S * cores)) + rng.normal(0, 0.3, n), 0, 100)

    lookups = rng.poisson(requests * TRUTH["cache.visits"])
    hits = rng.binomial(lookups, TRUTH["cache.hit_ratio"])
    misses = lookups - hits
    write_share = TRUTH["db.write_visits"] * (1 + 0.6 * np.sin(2 * np.pi * (hour - 3) / 24))
    writes = rng.poisson(requests * write_share)
    db_work = rng.gamma(np.maximum(misses, 1e-9), TRUTH["db.read_ms"] / 1000) * (misses > 0) + rng.gamma(
        np.maximum(writes, 1e-9), TRUTH["db.write_ms"] / 1000
    ) * (writes > 0)
    db_cpu = np.clip(
        100 * (TRUTH["db.background"] + db_work / (PERIOD_S * TRUTH["db.cores"])) + rng.normal(0, 0.3, n),
        0,
        100,
    )
    write_visits = float(np.sum(rate * write_share) / np.sum(rate))
    return {
        "traffic": (stamps, requests.astype(float), "Count"),
        "api.cpu": (
            stamps,
            busy(requests, TRUTH["api.service_ms"] / 1000, TRUTH["api.cores"], TRUTH["api.background"]),
            "Percent",
        ),
        "cache.cpu": (
            stamps,
            busy(lookups, TRUTH["cache.hit_ms"] / 1000, 1, TRUTH["cache.background"]),
            "Percent",
        ),
        "cache.hits": (stamps, hits.astype(float), "Count"),
        "cache.misses": (stamps, misses.astype(float), "Count"),
        "db.cpu": (stamps, db_cpu, "Percent"),
        "db.reads": (stamps, misses / PERIOD_S, "Count/Second"),
        "db.writes": (stamps, writes / PERIOD_S, "Count/Second"),
    }, write_visits


def publish(client, series) -> None:
    where = {
        "traffic": ("AWS/ApplicationELB", "RequestCount", ELB),
        "api.cpu": ("AWS/ECS", "CPUUtilization", ECS),
        "cache.cpu": ("AWS/ElastiCache", "CPUUtilization", REDIS),
        "cache.hits": ("AWS/ElastiCache", "CacheHits", REDIS),
        "cache.misses": ("AWS/ElastiCache", "CacheMisses", REDIS),
        "db.cpu": ("AWS/RDS", "CPUUtilization", RDS),
        "db.reads": ("AWS/RDS", "ReadIOPS", RDS),
        "db.writes": ("AWS/RDS", "WriteIOPS", RDS),
    }
    for key, (stamps, values, unit) in series.items():
        namespace, name, dims = where[key]
        put_series(client, namespace, name, dims, stamps, np.round(values, 4), unit)


@pytest.fixture
def fitted(aws, tmp_path, capsys):
    series, write_visits = generate(recent_end(PERIOD_S))
    publish(aws, series)
    config = tmp_path / "fit.yaml"
    config.write_text(FIT_FILE)
    out = tmp_path / "fitted.yaml"
    code = cli.main(["fit", "--config", str(config), "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)["fit"], out, write_visits


def test_round_trip_through_moto_recovers_the_truth(fitted):
    report, out, write_visits = fitted
    nodes = report["nodes"]

    def value(node: str, key: str) -> float:
        return nodes[node]["values"][key]["value"]

    assert value("api", "service_ms") == pytest.approx(TRUTH["api.service_ms"], rel=0.10)
    assert value("cache", "hit_ms") == pytest.approx(TRUTH["cache.hit_ms"], rel=0.10)
    assert value("cache", "hit_ratio") == pytest.approx(TRUTH["cache.hit_ratio"], rel=0.10)
    assert value("db", "read_ms") == pytest.approx(TRUTH["db.read_ms"], rel=0.10)
    assert value("db", "write_ms") == pytest.approx(TRUTH["db.write_ms"], rel=0.10)
    # demands per entry request (CPU-ms), the quantity the utilization law measures directly
    db_demand = (
        TRUTH["cache.visits"] * (1 - TRUTH["cache.hit_ratio"]) * TRUTH["db.read_ms"]
        + write_visits * TRUTH["db.write_ms"]
    )
    truths = {
        "api": TRUTH["api.service_ms"],
        "cache": TRUTH["cache.visits"] * TRUTH["cache.hit_ms"],
        "db": db_demand,
    }
    for node, truth in truths.items():
        law = nodes[node]["utilization_law"]
        assert law["demand_ms_per_request"] == pytest.approx(truth, rel=0.10), node
        assert law["background_cpu_pct"] == pytest.approx(100 * TRUTH[f"{node}.background"], abs=1.0), node
    # visit ratios the fit file left out, from the counts
    calls = report["calls"]
    assert calls["nodes.api.calls.0"]["value"] == pytest.approx(TRUTH["cache.visits"], rel=0.10)
    assert calls["nodes.api.calls.1"]["value"] == pytest.approx(write_visits, rel=0.10)
    assert calls["nodes.api.calls.0"]["how"] == "fitted"
    # the load
    growth = report["load"]["growth_pct_per_month"]
    assert abs(growth - TRUTH["growth_pct_per_month"]) <= 2.0
    lo, hi = report["load"]["growth_ci95"]
    assert lo < growth < hi
    assert report["workload"]["rate_rps"] == pytest.approx(TRUTH["peak_rps"], rel=0.10)


def test_round_trip_scenario_simulates_and_validates(fitted):
    report, out, _ = fitted
    scenario = load_scenario(out)  # what `simulate` would load
    assert scenario.nodes["api"].service_ms == pytest.approx(
        report["nodes"]["api"]["values"]["service_ms"]["value"]
    )
    text = out.read_text()
    assert "# fitted: utilization law: nodes.api.cpu on traffic" in text
    assert "# given: fit file" in text
    rows = {r["what"]: r for r in report["validation"]["rows"]}
    for node in ("api", "cache"):
        assert rows[f"{node} utilization"]["mape_pct"] < 10, rows[f"{node} utilization"]
        assert rows[f"{node} utilization"]["verdict"] == "good"
    # The database's write share moves over the day, which a scenario (mean visits) cannot hold:
    # the validation must say the fit is not good there, and why.
    db = rows["db utilization"]
    assert db["verdict"] in ("fair", "poor") and "mix of reads and writes" in db["cause"]
    assert db["observed_mean"] == pytest.approx(db["predicted_mean"], rel=0.05)  # right on average
    backtest = {r["what"]: r for r in report["backtest"]["rows"]}
    assert backtest["api utilization"]["mape_pct"] < 10
    assert report["backtest"]["skipped"] is None
