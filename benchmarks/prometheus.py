"""Pulling a fleet's worth of series from Prometheus (python benchmarks/prometheus.py).

500 PromQL queries x 14 days at 5 minutes (4,032 points each) against a real Prometheus on
loopback (Debian's package, data built with promtool), through the connector and the Parquet
cache as `fit` pulls them: the wall time and requests of a cold pull, then of a cached re-read.
The peer is the same 500 range queries sent one after another with plain `requests` calls
(no splitting, no concurrency, no parsing into frames), timed in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.base import Query  # noqa: E402
from connectors.cache import SeriesCache, cached_fetch  # noqa: E402
from connectors.prometheus import PrometheusSource  # noqa: E402
from model.fit.file import PrometheusMetric  # noqa: E402


def _server_module():
    """The test suite's real-server helper, loaded by path (a `tests` package elsewhere on sys.path would
    shadow ours)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "prometheus_server", ROOT / "tests" / "connectors" / "prometheus_server.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_server = _server_module()
Family, PrometheusServer = _server.Family, _server.PrometheusServer

PERIOD_S = 300
DAYS = 14


def families(series: int, end_s: int) -> list[Family]:
    stamps = np.arange(end_s - DAYS * 86400, end_s + 1, PERIOD_S, dtype=float)
    rng = np.random.default_rng(3)
    samples = {}
    for i in range(series):
        values = np.round(
            50 + 20 * np.sin(2 * np.pi * (stamps / 86400 + i / series)) + rng.normal(0, 1, len(stamps)), 3
        )
        samples[f'{{pod="web-{i:04d}"}}'] = [(float(t), float(v)) for t, v in zip(stamps, values)]
    return [Family("bench_cpu_percent", "gauge", samples)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    end_s = (int(datetime.now(timezone.utc).timestamp()) // PERIOD_S) * PERIOD_S - PERIOD_S
    end = datetime.fromtimestamp(end_s, timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        server = PrometheusServer(Path(tmp) / "prom", families(args.queries, end_s))
        print(
            f"built and started Prometheus with {args.queries} series x {DAYS} days at {PERIOD_S} s "
            f"in {time.perf_counter() - start:.1f} s"
        )
        try:
            queries = [
                Query(
                    f"q{i}", PrometheusMetric(query=f'bench_cpu_percent{{pod="web-{i:04d}"}}', unit="Percent")
                )
                for i in range(args.queries)
            ]
            cache = SeriesCache(Path(tmp) / "cache")
            rows = []
            for label in ("cold pull (connector + cache)", "cached re-read"):
                source = PrometheusSource(server.url)
                start = time.perf_counter()
                frame, stats = cached_fetch(
                    source, queries, timedelta(days=DAYS), PERIOD_S, end=end, cache=cache
                )
                rows.append((label, time.perf_counter() - start, source.stats.calls, len(frame), stats.hits))
            session = requests.Session()
            start = time.perf_counter()
            points = 0
            window_start = end - timedelta(days=DAYS)
            for q in queries:
                answer = session.post(
                    f"{server.url}/api/v1/query_range",
                    timeout=60,
                    data={
                        "query": q.metric.query,
                        "start": window_start.timestamp(),
                        "end": (end - timedelta(seconds=PERIOD_S)).timestamp(),
                        "step": PERIOD_S,
                    },
                ).json()
                points += sum(len(r["values"]) for r in answer["data"]["result"])
            rows.append(
                ("peer: sequential requests, raw JSON", time.perf_counter() - start, len(queries), points, 0)
            )
        finally:
            server.stop()
    print(f"{'':38}{'wall s':>8}{'requests':>10}{'points':>10}{'from cache':>12}")
    for label, wall, calls, points, hits in rows:
        print(f"{label:38}{wall:8.2f}{calls:10d}{points:10d}{hits:12d}")
    print(
        f"cold pull / peer: {rows[0][1] / rows[2][1]:.2f}x; cached re-read / cold pull: {rows[1][1] / rows[0][1]:.3f}x"
    )


if __name__ == "__main__":
    main()
