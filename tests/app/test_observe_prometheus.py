"""Observe with Prometheus, against a real Prometheus server (issue 15), under AppTest.

The page's Prometheus comes from the server's PROMETHEUS_URL, never from the browser (issue 17);
with it, discovery offers the usual queries, the mapping picks them for the graph's nodes, and
the fit file it offers names `source: prometheus`, the URL and the PromQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import yaml

from tests.app.apptools import app, no_errors
from tests.connectors.prometheus_server import PROMETHEUS, PROMTOOL, Family, PrometheusServer

pytestmark = pytest.mark.skipif(
    not (PROMETHEUS and PROMTOOL), reason="needs Debian's prometheus (prometheus, promtool)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    end_s = (int(datetime.now(timezone.utc).timestamp()) // 60) * 60 - 300
    stamps = np.arange(end_s - 2 * 86400, end_s + 1, 60, dtype=float)
    rate = 80 + 40 * np.sin(2 * np.pi * stamps / 86400)
    counter = lambda per_s: [(float(t), float(v)) for t, v in zip(stamps, np.cumsum(per_s * 60))]
    families = [
        Family("http_requests_total", "counter", {'{job="web"}': counter(rate)}),
        Family("process_cpu_seconds_total", "counter", {'{job="web"}': counter(rate * 0.02 + 0.1)}),
    ]
    srv = PrometheusServer(tmp_path_factory.mktemp("prometheus-observe"), families)
    yield srv
    srv.stop()


def _prometheus(at):
    at.segmented_control(key="obs-source").set_value("prometheus").run()
    return at


def test_without_a_configured_server_the_page_says_how_to_set_one(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    monkeypatch.delenv("HEADROOM_ALLOW_LOOPBACK_ENDPOINT", raising=False)
    at = _prometheus(app("observe"))
    no_errors(at)
    assert any("PROMETHEUS_URL" in i.value for i in at.info)
    assert not [
        t for t in at.text_input if t.key and "prometheus-endpoint" in t.key
    ]  # nothing to type a URL into


def test_discovered_queries_map_to_nodes_and_make_the_fit_file(monkeypatch, server):
    monkeypatch.setenv("PROMETHEUS_URL", server.url)
    at = _prometheus(app("observe"))
    at.toggle(key="obs-connect").set_value(True).run()
    no_errors(at)
    assert at.selectbox(key="obs-map:prometheus:.traffic").value != "— not observed —"
    fit = yaml.safe_load(next(c.value for c in reversed(at.code) if "nodes:" in c.value))
    assert fit["source"] == "prometheus" and fit["url"] == server.url
    assert 'http_requests_total{job="web"}' in fit["traffic"]["metric"]["query"]
    assert fit["traffic"]["metric"]["unit"] == "rps"
    assert "process_cpu_seconds_total" in fit["nodes"]["web"]["cpu"]["query"]
