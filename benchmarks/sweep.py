"""Sweep throughput (scenarios per second, local vs a 2-worker dask LocalCluster) and the
recommender's time for a 5-node graph. Run: python benchmarks/sweep.py [--requests N]."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.scenario.reader import load_scenario, scenario_from_data  # noqa: E402
from model.planning.recommend import recommend  # noqa: E402
from model.planning.report import table  # noqa: E402
from model.planning.sweep import run_sweep  # noqa: E402

GRID = {
    "nodes.web.replicas": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    "workload.rate_rps": [60, 70, 80, 90, 100],
    "nodes.cache.hit_ratio": [0.8, 0.9, 0.95, 0.99],
}  # 10 x 5 x 4 = 200 points


def five_nodes():
    """checkout.yaml plus a second service behind web: web, cache, db, orders, pricing."""
    base = load_scenario(ROOT / "scenarios" / "checkout.yaml").model_dump(mode="json", exclude_none=True)
    base["nodes"]["pricing"] = {
        "kind": "service",
        "replicas": 3,
        "service_ms": 8,
        "service_cv": 1.0,
        "instance": {"provider": "aws", "type": "c6i.large"},
        "calls": [{"to": "db", "visits": 1}],
    }
    base["nodes"]["web"]["calls"].append({"to": "pricing", "visits": 1.0})
    return scenario_from_data(base)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5_000)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "checkout.yaml")
    rows = []
    for label, kwargs in (
        ("sim, in process", dict(local=True)),
        ("sim, LocalCluster 2 workers", dict(workers=2)),
        ("analytic, in process", dict(local=True, method="analytic")),
    ):
        start = time.perf_counter()
        frame = run_sweep(scenario, GRID, seed=1, requests=args.requests, **kwargs)
        took = time.perf_counter() - start
        rows.append(
            [label, str(len(frame)), f"{args.requests:,}", f"{took:,.1f} s", f"{len(frame) / took:,.1f}"]
        )
    print(table(["sweep (200-point grid)", "runs", "requests/run", "wall time", "scenarios/s"], rows))
    print()
    start = time.perf_counter()
    rec = recommend(five_nodes(), seed=1)
    took = time.perf_counter() - start
    print(
        table(
            ["recommender", "nodes", "wall time", "SLO met", "monthly", "baseline"],
            [
                [
                    "checkout + pricing",
                    "5",
                    f"{took:,.1f} s",
                    str(rec.slo.met),
                    f"{rec.monthly:,.2f}",
                    f"{rec.baseline_monthly:,.2f}",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
