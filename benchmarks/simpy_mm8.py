"""The peer for benchmarks/cli_startup.py: the M/M/8 station of benchmarks/mm8.yaml as a
SimPy user would write it (a Process per customer, a Resource for the station), simulating
the same customers as `python cli.py simulate benchmarks/mm8.yaml --requests N`: a 10%
warm-up (at least 1,000) discarded, then N measured. Prints the mean response time in ms.

    python benchmarks/simpy_mm8.py --requests 200000 --seed 1
"""

from __future__ import annotations

import argparse
import random

import simpy

RATE_PER_MS, SERVERS, SERVICE_MS = 128 / 1000.0, 8, 50.0


def run(requests: int, seed: int) -> float:
    rng = random.Random(seed)
    env = simpy.Environment()
    station = simpy.Resource(env, capacity=SERVERS)
    warmup = max(requests // 10, 1000)
    latencies: list[float] = []
    done = env.event()

    def customer():
        start = env.now
        with station.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0 / SERVICE_MS))
        latencies.append(env.now - start)
        if len(latencies) >= warmup + requests and not done.triggered:
            done.succeed()

    def source():
        while True:
            yield env.timeout(rng.expovariate(RATE_PER_MS))
            env.process(customer())

    env.process(source())
    env.run(until=done)
    measured = latencies[warmup:]
    return sum(measured) / len(measured)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{run(args.requests, args.seed):.3f}")


if __name__ == "__main__":
    main()
