"""Pull 1,000 series x 14 days at 5 minutes from a local moto server, then from the cache.

    python benchmarks/connectors.py [--series 1000]

The wire is real (boto3 -> HTTP/JSON -> moto's server on 127.0.0.1), but moto's own
GetMetricData scans every stored point for every bucket (O(buckets x points)) and would
need about four million datum objects in memory, so the server's backend answers from an
in-memory array store with the same bucketing instead; moto still parses the request and
serializes the 100,800-point responses. Calls are counted at the server.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1000)
    args = parser.parse_args()
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tempfile.mkdtemp(prefix="headroom-bench-")
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        HEADROOM_CACHE_DIR=cache,
    )

    period, days = 300, 14
    end = datetime.fromtimestamp((int(time.time()) // 3600 - 1) * 3600, timezone.utc)
    start = end - timedelta(days=days)
    buckets = days * 86400 // period
    rng = np.random.default_rng(1)
    store = {f"i-{k:04d}": np.round(rng.uniform(0, 100, buckets), 3) for k in range(args.series)}
    calls: list[int] = []

    def get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):
        calls.append(len(queries))
        start_time, end_time = (
            t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t for t in (start_time, end_time)
        )
        first = int((start_time - start).total_seconds()) // period
        last = int((end_time - start).total_seconds()) // period
        stamps = [start + timedelta(seconds=period * i) for i in range(max(first, 0), min(last, buckets))]
        out = []
        for q in queries:
            dims = {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"].get("Dimensions", [])}
            values = store[dims["InstanceId"]][max(first, 0) : min(last, buckets)]
            out.append(
                {
                    "id": q["Id"],
                    "label": q["Id"],
                    "values": values.tolist(),
                    "timestamps": stamps,
                    "status_code": "Complete",
                }
            )
        return out

    CloudWatchBackend.get_metric_data = get_metric_data
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        from connectors.base import Query
        from connectors.cache import cached_fetch
        from connectors.cloudwatch import CloudWatchSource
        from model.fit.file import CloudWatchMetric

        queries = [
            Query(
                f"s{k}",
                CloudWatchMetric(namespace="AWS/EC2", name="CPUUtilization", dimensions={"InstanceId": name}),
            )
            for k, name in enumerate(store)
        ]
        source = CloudWatchSource()
        plan = source.plan(queries, timedelta(days=days), period, end=end)
        t0 = time.perf_counter()
        pulled, stats = cached_fetch(source, queries, timedelta(days=days), period, end=end)
        pull_s = time.perf_counter() - t0
        pull_calls = len(calls)
        t0 = time.perf_counter()
        cached, stats2 = cached_fetch(CloudWatchSource(), queries, timedelta(days=days), period, end=end)
        cache_s = time.perf_counter() - t0
        assert len(calls) == pull_calls and stats2.hits == len(queries)
        assert len(pulled) == len(cached) == args.series * buckets and pulled.equals(cached)
        rows = [
            ("pull from moto", pull_s, pull_calls, len(pulled)),
            ("re-read from cache", cache_s, len(calls) - pull_calls, len(cached)),
        ]
        print(
            f"{args.series} series x {days} days at {period} s = {args.series * buckets:,} points; "
            f"minimum calls by the API limits: {plan.calls} ({plan.queries_per_call} queries x {buckets} points a call); "
            f"estimated cost ${plan.cost_usd:.4f}"
        )
        print(f"{'':<20}{'seconds':>10}{'calls':>8}{'points':>12}")
        for name, seconds, n, points in rows:
            print(f"{name:<20}{seconds:>10.2f}{n:>8}{points:>12,}")
        print(
            f"cache speed-up: {pull_s / cache_s:.1f}x; calls made equal the minimum: {pull_calls == plan.calls}"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
