"""Prometheus as a source, against a real Prometheus server (Debian's package) on loopback.

The server serves series this module wrote with promtool, so every value, gap and error
that comes back went through the real PromQL engine and HTTP API.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from connectors import prometheus as prom
from connectors.base import Query
from connectors.cache import cached_fetch
from connectors.errors import ConnectorError
from model.fit.file import PrometheusMetric
from tests.connectors.prometheus_server import (
    PROMETHEUS,
    PROMTOOL,
    TEST_PASSWORD,
    TEST_USER,
    Family,
    PrometheusServer,
    free_port,
)

pytestmark = pytest.mark.skipif(
    not (PROMETHEUS and PROMTOOL), reason="needs Debian's prometheus (prometheus, promtool)"
)

ROOT = Path(__file__).resolve().parents[2]
STEP_S = 60
DAYS = 2
SERVICE_S = 0.020  # CPU seconds per request: the fit must find 20 ms
BACKGROUND_CORES = 0.1
GAP = (1000, 1030)  # sample indexes missing from the gauge: a 30-minute gap


def _end() -> int:
    return (int(datetime.now(timezone.utc).timestamp()) // STEP_S) * STEP_S - 600


def _series(end_s: int):
    stamps = np.arange(end_s - DAYS * 86400, end_s + 1, STEP_S, dtype=float)
    rng = np.random.default_rng(11)
    rate = 50 + 30 * np.sin(2 * math.pi * stamps / 86400) + rng.normal(0, 2, len(stamps))
    cores = rate * SERVICE_S + BACKGROUND_CORES
    requests = np.cumsum(rate * STEP_S)
    cpu_seconds = np.cumsum(cores * STEP_S)
    gauge = np.round(100 + 10 * np.cos(stamps / 5000), 4)
    keep = np.ones(len(stamps), bool)
    keep[GAP[0] : GAP[1]] = False
    pts = lambda values, mask=None: [
        (float(t), float(v)) for t, v, k in zip(stamps, values, keep if mask is None else mask) if k
    ]
    everywhere = np.ones(len(stamps), bool)
    return (
        stamps,
        gauge,
        keep,
        [
            Family("http_requests_total", "counter", {'{job="web"}': pts(requests, everywhere)}),
            Family("process_cpu_seconds_total", "counter", {'{job="web"}': pts(cpu_seconds, everywhere)}),
            Family("headroom_gauge", "gauge", {'{job="web"}': pts(gauge)}),
            Family(
                "headroom_multi",
                "gauge",
                {'{instance="a"}': pts(gauge, everywhere), '{instance="b"}': pts(gauge, everywhere)},
            ),
            Family(
                "kube_deployment_status_replicas_available",
                "gauge",
                {'{namespace="shop",deployment="web"}': pts(np.full(len(stamps), 2.0), everywhere)},
            ),
            Family(
                "container_cpu_usage_seconds_total",
                "counter",
                {'{namespace="shop",pod="web-7d9f-abc",container="app"}': pts(cpu_seconds, everywhere)},
            ),
            Family(
                "kube_pod_container_resource_requests",
                "gauge",
                {
                    '{namespace="shop",pod="web-7d9f-abc",container="app",resource="cpu"}': pts(
                        np.full(len(stamps), 2.0), everywhere
                    )
                },
            ),
        ],
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    end_s = _end()
    stamps, gauge, keep, families = _series(end_s)
    srv = PrometheusServer(tmp_path_factory.mktemp("prometheus"), families)
    srv.truth = (stamps, gauge, keep, end_s)
    yield srv
    srv.stop()


def fit_file(tmp_path: Path, url: str, **overrides) -> Path:
    doc = {
        "version": 1,
        "source": "prometheus",
        "url": url,
        "lookback_days": DAYS,
        "period_s": STEP_S,
        "traffic": {"metric": {"query": 'sum(rate(http_requests_total{job="web"}[2m]))', "unit": "rps"}},
        "entry": "web",
        "nodes": {
            "web": {
                "kind": "service",
                "replicas": 2,
                "cpus": 1,
                "cpu": {"query": 'sum(rate(process_cpu_seconds_total{job="web"}[2m]))', "unit": "cores"},
            }
        },
    }
    doc.update(overrides)
    path = tmp_path / "fit.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        env=full_env,
    )


def test_every_value_comes_back_unchanged_with_its_gaps_through_dump(server, tmp_path):
    stamps, gauge, keep, end_s = server.truth
    path = fit_file(
        tmp_path,
        server.url,
        traffic={"metric": {"query": 'headroom_gauge{job="web"}', "unit": "rps"}},
        nodes={
            "web": {
                "kind": "service",
                "replicas": 1,
                "cpu": {"query": 'headroom_gauge{job="web"} / 200', "unit": "fraction"},
            }
        },
    )
    out = cli("fit", "--config", str(path), "--dump", str(tmp_path / "series.csv"))
    assert out.returncode == 0, out.stderr
    dumped = pd.read_csv(tmp_path / "series.csv")
    traffic = dumped[dumped["series"] == "traffic"]
    seconds = pd.to_datetime(traffic["timestamp"], utc=True).dt.as_unit("s").astype("int64")
    got = dict(zip(seconds.tolist(), traffic["value"]))
    # What PromQL gives for a raw selector at time t: the newest sample in [t - 5 min, t] (Prometheus 2.x
    # closes the lookback at both ends; 3.x leaves it open on the left: one step less is carried).
    expected = {}
    present = stamps[keep]
    assert min(got) > stamps[0] - 86400
    carried = 5 if (server.version or "2").startswith("2") else 4
    for t in range(min(got), int(end_s) + 300 + 1, STEP_S):
        newest = present[(present <= t) & (present >= t - carried * STEP_S)]
        if len(newest):
            expected[t] = float(gauge[np.searchsorted(stamps, newest[-1])])
    assert set(got) == set(expected)
    assert all(got[t] == expected[t] for t in expected)  # unchanged, to the last digit
    gap_start, gap_end = int(stamps[GAP[0]]), int(stamps[GAP[1]])
    holes = [t for t in range(gap_start, gap_end, STEP_S) if t not in got]
    assert len(holes) == (GAP[1] - GAP[0]) - carried  # carried, then a gap: never filled
    cpu = dumped[dumped["series"] == "nodes.web.cpu"]
    assert np.allclose(cpu["value"].to_numpy(), traffic["value"].to_numpy() / 200)


def test_the_fit_recovers_the_service_time_from_counters_and_cpu(server, tmp_path):
    out = cli("fit", "--config", str(fit_file(tmp_path, server.url)), "--out", str(tmp_path / "fitted.yaml"))
    assert out.returncode == 0, out.stderr
    web = yaml.safe_load((tmp_path / "fitted.yaml").read_text())["nodes"]["web"]
    assert web["service_ms"] == pytest.approx(1000 * SERVICE_S, rel=0.05)


def test_long_ranges_are_split_under_the_servers_points_limit(server, monkeypatch):
    source = prom.PrometheusSource(server.url)
    query = Query(
        "traffic", PrometheusMetric(query='sum(rate(http_requests_total{job="web"}[2m]))', unit="rps")
    )
    whole = source.fetch([query], timedelta(days=DAYS), STEP_S)
    assert source.stats.calls == 1
    monkeypatch.setattr(prom, "CHUNK_POINTS", 500)
    split_source = prom.PrometheusSource(server.url)
    split = split_source.fetch([query], timedelta(days=DAYS), STEP_S)
    assert split_source.stats.calls == math.ceil(DAYS * 86400 / STEP_S / 500)
    pd.testing.assert_frame_equal(whole, split)
    # 14 days at one minute is 20,160 steps: the server refuses that in one request, and it is split
    monkeypatch.setattr(prom, "CHUNK_POINTS", 20_160)
    with pytest.raises(ConnectorError, match="HTTP 400.*11,000|11000"):
        prom.PrometheusSource(server.url).fetch([query], timedelta(days=14), STEP_S)
    monkeypatch.setattr(prom, "CHUNK_POINTS", 10_000)
    long = prom.PrometheusSource(server.url)
    frame = long.fetch([query], timedelta(days=14), STEP_S)
    assert long.stats.calls == 3
    same_span = frame[frame["timestamp"] >= whole["timestamp"].min()].reset_index(drop=True)
    pd.testing.assert_frame_equal(same_span, whole)


@pytest.mark.parametrize(
    "metric, needle",
    [
        ('sum(rate(http_requests_total{job="web"}[2m]', "refused the query (HTTP 400"),
        (
            "headroom_multi",
            'returned 2 series ({__name__="headroom_multi", instance="a"}; {__name__="headroom_multi", '
            'instance="b"})',
        ),
        ("headroom_multi + on() headroom_multi", "could not be evaluated (HTTP 422"),
    ],
)
def test_a_bad_query_is_one_line_exit_2_and_leaves_the_cache_empty(server, tmp_path, metric, needle):
    cache = tmp_path / "cache"
    path = fit_file(tmp_path, server.url, traffic={"metric": {"query": metric, "unit": "rps"}})
    out = cli(
        "fit",
        "--config",
        str(path),
        "--dump",
        str(tmp_path / "s.csv"),
        env={"HEADROOM_CACHE_DIR": str(cache)},
    )
    assert out.returncode == 2 and needle in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not cache.exists() or not list(cache.rglob("*.parquet"))
    assert not (tmp_path / "s.csv").exists()


def test_a_server_that_is_down_is_one_line_exit_2(tmp_path):
    out = cli(
        "fit",
        "--config",
        str(fit_file(tmp_path, f"http://127.0.0.1:{free_port()}")),
        "--out",
        str(tmp_path / "x.yaml"),
    )
    assert out.returncode == 2 and "cannot reach http://127.0.0.1:" in out.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_credentials_come_from_the_environment_and_a_refusal_says_so(server, tmp_path):
    _, _, _, end_s = server.truth
    secured = PrometheusServer(tmp_path / "secured", _series(end_s)[3], basic_auth=True)
    try:
        path = fit_file(tmp_path, secured.url)
        out = cli(
            "fit",
            "--config",
            str(path),
            "--dump",
            str(tmp_path / "s.csv"),
            env={"PROMETHEUS_USERNAME": TEST_USER, "PROMETHEUS_PASSWORD": "wrong"},
        )
        assert out.returncode == 2 and "refused the credentials (HTTP 401)" in out.stderr
        assert "wrong" not in out.stderr
        out = cli(
            "fit",
            "--config",
            str(path),
            "--dump",
            str(tmp_path / "s.csv"),
            env={"PROMETHEUS_USERNAME": TEST_USER, "PROMETHEUS_PASSWORD": TEST_PASSWORD},
        )
        assert out.returncode == 0, out.stderr
        assert TEST_PASSWORD not in out.stdout + out.stderr + (tmp_path / "s.csv").read_text()
    finally:
        secured.stop()
    # and never from the file
    path = fit_file(tmp_path, server.url, headers={"Authorization": "Bearer abc"})
    out = cli("fit", "--config", str(path), "--out", str(tmp_path / "x.yaml"))
    assert out.returncode == 2 and "headers" in out.stderr and "PROMETHEUS_BEARER_TOKEN" in out.stderr


class _Busy(BaseHTTPRequestHandler):
    """503 for the first `busy` requests (Retry-After: 0), then forwards to the real server."""

    def do_POST(self):  # noqa: N802 (the http.server naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        with server.lock:
            server.seen += 1
            busy = server.seen <= server.busy
        if busy:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        request = urllib.request.Request(
            server.upstream + self.path,
            data=body,
            method="POST",
            headers={"Content-Type": self.headers["Content-Type"]},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            payload = answer.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_):
        pass


def _busy_proxy(upstream: str, busy: int) -> ThreadingHTTPServer:
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    proxy.upstream, proxy.busy, proxy.seen, proxy.lock = upstream, busy, 0, threading.Lock()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return proxy


def test_an_overloaded_server_is_retried_then_refused(server, monkeypatch):
    query = Query(
        "traffic", PrometheusMetric(query='sum(rate(http_requests_total{job="web"}[2m]))', unit="rps")
    )
    proxy = _busy_proxy(server.url, busy=2)
    try:
        source = prom.PrometheusSource(f"http://127.0.0.1:{proxy.server_port}")
        frame = source.fetch([query], timedelta(days=1), STEP_S)
        assert len(frame) > 1000 and source.stats.retries == 2 and source.stats.calls == 3
    finally:
        proxy.shutdown()
    monkeypatch.setattr(prom, "BACKOFF_S", 0.01)
    proxy = _busy_proxy(server.url, busy=100)
    try:
        with pytest.raises(ConnectorError, match="stayed busy .HTTP 503. after 4 retries"):
            prom.PrometheusSource(f"http://127.0.0.1:{proxy.server_port}").fetch(
                [query], timedelta(days=1), STEP_S
            )
    finally:
        proxy.shutdown()


def test_discovery_offers_queries_that_run(server):
    source = prom.PrometheusSource(server.url)
    found = source.discover()
    by_key = {}
    for info in found:
        by_key.setdefault(info.suggested_key, []).append(info)
    assert any(
        'http_requests_total{job="web"}' in i.metric.query and i.unit == "rps" for i in by_key["traffic"]
    )
    assert any("process_cpu_seconds_total" in i.metric.query for i in by_key["cpu"])
    assert any(
        "kube_pod_container_resource_requests" in i.metric.query and i.unit == "Percent"
        for i in by_key["cpu"]
    )
    [replicas] = by_key["replicas"]
    assert replicas.resource == "deployment shop/web"
    queries = [Query(f"q{i}", info.metric) for i, info in enumerate(found)]
    frame = source.fetch(queries, timedelta(hours=6), STEP_S)
    assert set(frame["series"]) == {q.series for q in queries}  # each one series, each with data
    requests_pct = frame[
        frame["series"] == f"q{found.index(next(i for i in by_key['cpu'] if i.unit == 'Percent'))}"
    ]
    assert requests_pct["value"].between(0, 100).all()


def test_pulled_series_are_cached_by_url_and_query(server, tmp_path):
    from connectors.cache import SeriesCache

    query = Query(
        "traffic", PrometheusMetric(query='sum(rate(http_requests_total{job="web"}[2m]))', unit="rps")
    )
    cache = SeriesCache(tmp_path / "c")
    end = datetime.now(timezone.utc) - timedelta(minutes=20)
    first = prom.PrometheusSource(server.url)
    a, _ = cached_fetch(first, [query], timedelta(hours=12), STEP_S, end=end, cache=cache)
    again = prom.PrometheusSource(server.url)
    b, _ = cached_fetch(again, [query], timedelta(hours=12), STEP_S, end=end, cache=cache)
    assert first.stats.calls == 1 and again.stats.calls == 0
    pd.testing.assert_frame_equal(a, b)
    other = Query(
        "traffic", PrometheusMetric(query='sum(rate(http_requests_total{job="web"}[5m]))', unit="rps")
    )
    third = prom.PrometheusSource(server.url)
    cached_fetch(third, [other], timedelta(hours=12), STEP_S, end=end, cache=cache)
    assert third.stats.calls == 1  # another query is another entry
    assert json.dumps(
        prom.PrometheusSource(server.url, {"X-Scope-OrgID": "team-a"}).identity()
    ) != json.dumps(first.identity())


def test_a_later_pull_fetches_only_the_newest_periods(server, tmp_path):
    """The cache keeps what it has: a pull two periods later asks the server for the tail only."""
    from connectors.cache import SeriesCache

    query = Query(
        "traffic", PrometheusMetric(query='sum(rate(http_requests_total{job="web"}[2m]))', unit="rps")
    )
    cache = SeriesCache(tmp_path / "c")
    end = datetime.now(timezone.utc) - timedelta(minutes=30)
    first = prom.PrometheusSource(server.url)
    cached_fetch(first, [query], timedelta(hours=6), STEP_S, end=end, cache=cache)
    later = prom.PrometheusSource(server.url)
    frame, _ = cached_fetch(
        later, [query], timedelta(hours=6), STEP_S, end=end + timedelta(seconds=2 * STEP_S), cache=cache
    )
    assert later.stats.calls == 1 and later.stats.points <= 3  # the two new periods, not six hours again
    fresh = prom.PrometheusSource(server.url).fetch(
        [query], timedelta(hours=6), STEP_S, end=end + timedelta(seconds=2 * STEP_S)
    )
    assert set(fresh["timestamp"]) <= set(frame["timestamp"])
