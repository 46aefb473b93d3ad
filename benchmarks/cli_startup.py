"""Whole-process start-up and speed of the command line, against peers measured in the same
run (python benchmarks/cli_startup.py [--rounds N] [--requests N]).

Every contender is a fresh `python` process, timed wall-clock with time.perf_counter; the
contenders alternate round by round, so a busy machine slows all of them alike, and the
medians are compared as ratios:
- `python cli.py --help` and an analytic `simulate` against a bare
  `python -c "import numpy, yaml, pydantic, simpy"` (the libraries any command needs);
- `simulate --requests N` on one M/M/8 station (benchmarks/mm8.yaml) against an idiomatic
  SimPy script simulating the same customers (benchmarks/simpy_mm8.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.planning.report import table  # noqa: E402

# Exact M/M/8 mean for benchmarks/mm8.yaml (lambda 0.128/ms, 50 ms service): Erlang C.
EXACT_MM8_MS = 64.30


def contenders(requests: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "bare import (numpy, yaml, pydantic, simpy)": [py, "-c", "import numpy, yaml, pydantic, simpy"],
        "cli.py --help": [py, "cli.py", "--help"],
        "cli.py simulate checkout --method analytic --json": [
            py,
            "cli.py",
            "simulate",
            "scenarios/checkout.yaml",
            "--method",
            "analytic",
            "--json",
        ],
        f"cli.py simulate mm8 --requests {requests:,}": [
            py,
            "cli.py",
            "simulate",
            "benchmarks/mm8.yaml",
            "--requests",
            str(requests),
            "--seed",
            "1",
            "--json",
        ],
        f"SimPy script, same {requests:,} customers": [
            py,
            "benchmarks/simpy_mm8.py",
            "--requests",
            str(requests),
            "--seed",
            "1",
        ],
    }


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {out.stderr.strip()}")
    return took, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    runs = contenders(args.requests)
    times: dict[str, list[float]] = {name: [] for name in runs}
    outputs: dict[str, str] = {}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))  # alternate, so drift hits both ends
        for name in order:
            took, outputs[name] = timed(runs[name])
            times[name].append(took)
    median = {name: statistics.median(t) for name, t in times.items()}
    names = list(runs)
    bare, helps, analytic, ours, simpy_peer = (median[n] for n in names)
    rows = [
        [name, f"{median[name]:.3f} s", f"{min(times[name]):.3f} s", f"{max(times[name]):.3f} s"]
        for name in names
    ]
    print(table(["whole process", "median", "fastest", "slowest"], rows))
    print()
    import json

    ours_mean = json.loads(outputs[names[3]])["latency_ms"]["mean"]
    peer_mean = float(outputs[names[4]].strip())
    checks = [
        [
            "--help / bare import",
            f"{helps / bare:.2f}x",
            "at most 1.5x",
            "yes" if helps / bare <= 1.5 else "NO",
        ],
        [
            "analytic simulate / bare import",
            f"{analytic / bare:.2f}x",
            "at most 2x",
            "yes" if analytic / bare <= 2 else "NO",
        ],
        [
            "SimPy script / cli.py simulate (M/M/8)",
            f"{simpy_peer / ours:.2f}x",
            "at least 2x",
            "yes" if simpy_peer / ours >= 2 else "NO",
        ],
    ]
    print(table(["ratio of medians", "measured", "target", "met"], checks))
    print(
        f"\nM/M/8 mean response time, exact {EXACT_MM8_MS} ms: cli.py {ours_mean:.2f} ms, SimPy {peer_mean:.2f} ms "
        f"({args.rounds} rounds, alternating order)"
    )


if __name__ == "__main__":
    main()
