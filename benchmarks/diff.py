"""How long a pull-request check waits for `cli.py diff` (python benchmarks/diff.py).

Two 10-node scenarios (a gateway, six services, a cache, a database with a replica and a
topic; the head version has fewer pods, a smaller cache and a slower write path), diffed
analytically as a whole process, the way CI runs it. The peer is the bare interpreter start
with the libraries every command needs (`python -c "import numpy, yaml, pydantic, simpy"`),
timed alternately in the same run so machine drift cancels in the ratio. Target: well under a
second of wall time for the diff.

Two cases, because Python compiles a module's source the first time it imports it:
- a fresh checkout: the project's bytecode not yet written (a pull-request job's one run on a new
  clone; also every run where PYTHONDONTWRITEBYTECODE is set). Measured on a copy of the project
  without `__pycache__` and with bytecode writing off; the libraries stay compiled, as pip leaves them.
- later runs: the project's bytecode cached (written to a temporary PYTHONPYCACHEPREFIX by a first run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PEER = [sys.executable, "-c", "import numpy, yaml, pydantic, simpy"]


def ten_nodes(pods: int, cache_nodes: int, write_ms: float) -> dict:
    services = ["auth", "catalog", "cart", "pricing", "search", "orders-api"]
    nodes: dict = {
        "gateway": {
            "kind": "service",
            "replicas": 2,
            "cpus": 2,
            "service_ms": 2,
            "instance": {"provider": "aws", "type": "m6i.large"},
            "calls": [{"to": s, "visits": 0.5 if s != "auth" else 1.0} for s in services],
        }
    }
    for s in services:
        nodes[s] = {
            "kind": "service",
            "replicas": pods,
            "cpus": 2,
            "concurrency": 8,
            "service_ms": 12,
            "blocking_calls": True,
            "instance": {"provider": "aws", "type": "m6i.large"},
            "calls": [{"to": "cache", "visits": 1.0}],
        }
    nodes["orders-api"]["calls"] += [
        {"to": "db", "visits": 1.0, "op": "write"},
        {"to": "events", "visits": 1.0, "mode": "async"},
    ]
    nodes["cache"] = {
        "kind": "cache",
        "nodes": cache_nodes,
        "hit_ratio": 0.85,
        "hit_ms": 0.5,
        "miss": "db",
        "instance": {"provider": "aws", "type": "cache.r6g.large"},
    }
    nodes["db"] = {
        "kind": "database",
        "read_replicas": 1,
        "cpus": 4,
        "read_ms": 3,
        "write_ms": write_ms,
        "instance": {"provider": "aws", "type": "db.r6g.xlarge"},
    }
    nodes["events"] = {
        "kind": "kafka",
        "brokers": 3,
        "partitions": 12,
        "consumers": 4,
        "produce_ms": 3,
        "consume_ms": 20,
        "instance": {"provider": "aws", "type": "kafka.m5.large"},
    }
    return {
        "version": 1,
        "name": "Ten-node shop",
        "entry": "gateway",
        "workload": {"rate_rps": 300, "growth_pct_per_month": 5, "horizon_months": 12},
        "nodes": nodes,
        "slo": {"p99_ms": 400},
        "pricing": {"provider": "aws", "region": "us-east-1"},
    }


def wall_s(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, cwd=cwd, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[:300]}")
    return elapsed


def fresh_copy(source: Path, target: Path) -> Path:
    """A project's files as a clone has them: no bytecode, no virtualenv, no results."""
    skip = shutil.ignore_patterns(
        "__pycache__", "*.pyc", ".venv", ".git", "testbed-results", "test-artifacts"
    )
    shutil.copytree(source, target, ignore=skip)
    return target


def rounds(
    contenders: dict[str, tuple[list[str], Path]], env: dict[str, str], runs: int
) -> dict[str, list[float]]:
    """Wall times of each contender, taken in turn round after round so drift hits all alike."""
    for cmd, cwd in contenders.values():  # warm the file cache (and, if allowed, the bytecode)
        wall_s(cmd, cwd, env)
    times: dict[str, list[float]] = {label: [] for label in contenders}
    for _ in range(runs):
        for label, (cmd, cwd) in contenders.items():
            times[label].append(wall_s(cmd, cwd, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="another checkout of Headroom (e.g. a `git worktree` of the previous main), timed in the same rounds",
    )
    args = parser.parse_args()
    base_env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    with tempfile.TemporaryDirectory() as tmp:
        base, head = Path(tmp) / "base.yaml", Path(tmp) / "head.yaml"
        base.write_text(yaml.safe_dump(ten_nodes(4, 2, 8), sort_keys=False))
        head.write_text(yaml.safe_dump(ten_nodes(3, 1, 12), sort_keys=False))
        checkouts = {"cli.py diff --markdown": fresh_copy(ROOT, Path(tmp) / "checkout")}
        if args.against:
            checkouts[f"the same, {args.against.name}"] = fresh_copy(args.against, Path(tmp) / "against")
        contenders = {
            f"{label} (s)": (
                [sys.executable, str(c / "cli.py"), "diff", str(base), str(head), "--markdown"],
                c,
            )
            for label, c in checkouts.items()
        }
        contenders["bare imports peer (s)"] = (PEER, Path(tmp))
        cases = {
            "fresh checkout (no bytecode)": {**base_env, "PYTHONDONTWRITEBYTECODE": "1"},
            "later runs (bytecode cached)": {**base_env, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")},
        }
        measured = {case: rounds(contenders, env, args.runs) for case, env in cases.items()}
    print(f"analytic diff of two 10-node scenarios, whole process, {args.runs} rounds taking each in turn")
    print(f"{'':52}{'min':>8}{'median':>8}{'max':>8}")
    for case, times in measured.items():
        print(case)
        peers = times["bare imports peer (s)"]
        rows = list(times.items()) + [
            (f"ratio {label.removesuffix(' (s)')} / peer", [d / p for d, p in zip(values, peers)])
            for label, values in times.items()
            if label != "bare imports peer (s)"
        ]
        for label, values in rows:
            print(f"  {label:50}{min(values):8.3f}{statistics.median(values):8.3f}{max(values):8.3f}")


if __name__ == "__main__":
    main()
