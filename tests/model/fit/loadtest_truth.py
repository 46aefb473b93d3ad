"""A load test with known truths, written as the CSV source reads it (for the load-test fit tests).

One-second periods, steady phases at several loads with short ramps between them, the hit
ratio changed in one phase (so reads and writes, and the caller's per-miss cost, separate),
CPU from the utilization law with sampling noise, and latency statistics from the analytic
solver of the true scenario plus a fixed network delay (so the fit's service_cv and
network_ms have a truth to recover).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-03-02 10:00:00", tz="UTC")


@dataclass
class Truth:
    web_ms: float = 3.0  # web CPU per request on the hit path
    miss_ms: float = 0.8  # web CPU per cache miss
    hit_ms: float = 0.3
    read_ms: float = 2.5
    write_ms: float = 0.2
    write_share: float = 0.1  # writes per request
    service_cv: float = 0.5
    network_ms: float = 1.3
    background: float = 0.02
    phases: list[tuple[float, float, int]] = field(
        default_factory=lambda: [(40.0, 0.75, 150), (70.0, 0.75, 150), (100.0, 0.75, 150), (70.0, 0.5, 150)]
    )  # rate, hit ratio, seconds
    ramp_s: int = 20
    workers: list[int] | None = None  # the web's worker count per phase (None: not varied)
    sigma: float = 0.05  # the web's per-worker overhead (USL as a cost), at 2 workers = 1
    kappa: float = 0.002

    def worker_factor(self, n: int) -> float:
        def g(k: int) -> float:
            return 1 + self.sigma * (k - 1) + self.kappa * k * (k - 1)

        return g(n) / g(2)


def scenario(truth: Truth, rate: float, hit_ratio: float) -> dict:
    return {
        "version": 1,
        "name": "truth",
        "workload": {"rate_rps": rate},
        "entry": "web",
        "nodes": {
            "web": {
                "kind": "service",
                "cpus": 1,
                "service_ms": truth.web_ms,
                "miss_ms": truth.miss_ms,
                "service_cv": truth.service_cv,
                "calls": [
                    {"to": "cache", "visits": 1.0},
                    {"to": "db", "visits": truth.write_share, "op": "write"},
                ],
            },
            "cache": {
                "kind": "cache",
                "cpus": 1,
                "hit_ratio": hit_ratio,
                "hit_ms": truth.hit_ms,
                "miss": "db",
            },
            "db": {
                "kind": "database",
                "cpus": 1,
                "read_ms": truth.read_ms,
                "write_ms": truth.write_ms,
                "service_cv": truth.service_cv,
            },
        },
    }


def latency_truth(truth: Truth, rate: float, hit_ratio: float) -> dict[str, float]:
    from model.queueing.analytic.solver import solve
    from model.scenario.reader import scenario_from_data

    res = solve(scenario_from_data(scenario(truth, rate, hit_ratio), "truth"), rate)
    lat = res.latency_ms
    return {k: getattr(lat, k) + truth.network_ms for k in ("mean", "p50", "p95", "p99")}


def generate(truth: Truth, seed: int = 5) -> tuple[pd.DataFrame, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    rng = np.random.default_rng(seed)
    rows, spans = [], []
    t = 0
    for i, (rate, hit, seconds) in enumerate(truth.phases):
        factor = truth.worker_factor(truth.workers[i]) if truth.workers else 1.0
        t += truth.ramp_s
        lat = latency_truth(truth, rate, hit)
        spans.append((START + pd.Timedelta(seconds=t), START + pd.Timedelta(seconds=t + seconds)))
        for _ in range(seconds):
            n = rng.poisson(rate)
            hits = rng.binomial(n, hit)
            misses = n - hits
            writes = rng.binomial(n, truth.write_share)
            web = truth.background + factor * (n * truth.web_ms + misses * truth.miss_ms) / 1000
            cache = truth.background + n * truth.hit_ms / 1000
            db = truth.background + (misses * truth.read_ms + writes * truth.write_ms) / 1000
            noise = rng.normal(0, 0.01, 4)
            box = truth.background + (web + cache + db - 3 * truth.background) + noise[3]
            spread = 1 + rng.normal(0, 0.03, 4)
            rows.append(
                {
                    "timestamp": START + pd.Timedelta(seconds=t),
                    "requests": n,
                    "web_cpu": 100 * min(max(web + noise[0], 0), 1),
                    "cache_cpu": 100 * min(max(cache + noise[1], 0), 1),
                    "db_cpu": 100 * min(max(db + noise[2], 0), 1),
                    "box_cpu": 100 * min(max(box, 0), 1),
                    "hits": hits,
                    "misses": misses,
                    "writes": writes,
                    "mean_ms": lat["mean"] * spread[0],
                    "p50_ms": lat["p50"] * spread[1],
                    "p99_ms": lat["p99"] * spread[2],
                }
            )
            t += 1
    for r in rows:
        r["timestamp"] = r["timestamp"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return pd.DataFrame(rows), spans


FIT_FILE = """version: 1
source: csv
period_s: 1
lookback_days: 1
{extra}traffic:
  metric: {{file: metrics.csv, column: requests}}
latency:
  metric: {{file: metrics.csv, column: p99_ms, unit: ms}}
  stats:
    p50: {{file: metrics.csv, column: p50_ms, unit: ms}}
    mean: {{file: metrics.csv, column: mean_ms, unit: ms}}
entry: web
nodes:
  web:
    kind: service
    cpus: 1
    cpu: {{file: metrics.csv, column: web_cpu, unit: Percent}}
    calls: [{{to: cache}}, {{to: db, op: write}}]
  cache:
    kind: cache
    cpus: 1
    miss: db
    cpu: {{file: metrics.csv, column: cache_cpu, unit: Percent}}
    hits: {{file: metrics.csv, column: hits}}
    misses: {{file: metrics.csv, column: misses}}
  db:
    kind: database
    cpus: 1
    cpu: {{file: metrics.csv, column: db_cpu, unit: Percent}}
    writes: {{file: metrics.csv, column: writes}}
"""


def on_one_host(text: str) -> str:
    """The fit file with the three nodes on one host of one core, only the host's CPU measured."""
    for node in ("web", "cache", "db"):
        text = text.replace(
            f"    cpu: {{file: metrics.csv, column: {node}_cpu, unit: Percent}}\n", "    host: box\n"
        )
    text = text.replace("    cpus: 1\n", "")  # a node on a host runs on the host's cores: no cpus of its own
    return text.replace(
        "entry: web\n",
        "hosts:\n  box: {cpus: 1, cpu: {file: metrics.csv, column: box_cpu, unit: Percent}}\nentry: web\n",
    )


def write(
    tmp: Path, truth: Truth | None = None, extra: str = "", seed: int = 5, host: bool = False
) -> tuple[Path, Truth, list]:
    truth = truth or Truth()
    frame, spans = generate(truth, seed)
    frame.to_csv(tmp / "metrics.csv", index=False)
    path = tmp / "fit.yaml"
    if truth.workers:
        extra += "phases:\n" + "".join(
            f"  - {{start: '{a:%Y-%m-%d %H:%M:%S}', end: '{b:%Y-%m-%d %H:%M:%S}', workers: {w}}}\n"
            for (a, b), w in zip(spans, truth.workers)
        )
    text = FIT_FILE.format(extra=extra)
    path.write_text(on_one_host(text) if host else text, encoding="utf-8")
    return path, truth, spans
