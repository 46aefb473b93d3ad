"""Engine speed and accuracy against peers, measured in one run (python benchmarks/engine.py).

One fixed open network: three M/M/c stations in tandem (a Jackson network, so the exact
mean response time is known). Each contender simulates the same number of requests; we
report requests simulated per wall-clock second, the ratio to our engine, and each one's
error against the exact mean. The analytic solver is timed on a 10-node graph.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simpy  # noqa: E402

from model.scenario.schema import Scenario  # noqa: E402
from model.queueing.sim.simulation import simulate  # noqa: E402

RATE_RPS = 150.0
# (servers, mean service ms) per station: utilizations 0.75, 0.6, 0.45
STATIONS = [(4, 20.0), (2, 8.0), (2, 6.0)]


def erlang_c(c: int, a: float) -> float:
    term = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (term + top)


def exact_mean_ms() -> float:
    lam = RATE_RPS / 1000.0
    total = 0.0
    for c, s in STATIONS:
        a = lam * s
        total += erlang_c(c, a) * s / (c - a) + s
    return total


def tandem_scenario() -> Scenario:
    (c1, s1), (c2, s2), (c3, s3) = STATIONS
    return Scenario.model_validate(
        {
            "version": 1,
            "name": "tandem",
            "entry": "web",
            "workload": {"rate_rps": RATE_RPS},
            "nodes": {
                "web": {
                    "kind": "service",
                    "replicas": c1,
                    "cpus": 1,
                    "service_ms": s1,
                    "blocking_calls": False,
                    "calls": [{"to": "api"}],
                },
                "api": {
                    "kind": "service",
                    "replicas": c2,
                    "cpus": 1,
                    "service_ms": s2,
                    "blocking_calls": False,
                    "calls": [{"to": "db"}],
                },
                "db": {"kind": "database", "cpus": c3, "read_ms": s3},
            },
        }
    )


def run_engine(requests: int, seed: int) -> float:
    return simulate(tandem_scenario(), seed=seed, requests=requests, warmup=requests // 10).latency_ms.mean


def run_idiomatic_simpy(requests: int, seed: int) -> float:
    """The model a SimPy user would write: a process per request, a Resource per station."""
    rng = random.Random(seed)
    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=c) for c, _ in STATIONS]
    warmup = requests // 10
    latencies: list[float] = []
    done = env.event()

    def customer():
        start = env.now
        for res, (_, mean) in zip(resources, STATIONS):
            with res.request() as req:
                yield req
                yield env.timeout(rng.expovariate(1.0 / mean))
        latencies.append(env.now - start)
        if len(latencies) >= warmup + requests and not done.triggered:
            done.succeed()

    def source():
        while True:
            yield env.timeout(rng.expovariate(RATE_RPS / 1000.0))
            env.process(customer())

    env.process(source())
    env.run(until=done)
    measured = latencies[warmup:]
    return sum(measured) / len(measured)


def run_ciw(requests: int, seed: int) -> float:
    import ciw

    lam = RATE_RPS / 1000.0
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam), None, None],
        service_distributions=[ciw.dists.Exponential(1.0 / s) for _, s in STATIONS],
        routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        number_of_servers=[c for c, _ in STATIONS],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    warmup = requests // 10
    sim.simulate_until_max_customers(warmup + requests, method="Finish")
    records = [r for r in sim.get_all_records() if r.node == 3]
    records.sort(key=lambda r: r.exit_date)
    # A customer's end-to-end time: its exit from the last node minus its arrival at the first.
    first = {r.id_number: r.arrival_date for r in sim.get_all_records() if r.node == 1}
    times = [r.exit_date - first[r.id_number] for r in records[warmup:]]
    return sum(times) / len(times)


def time_analytic(evaluations: int = 200) -> float | None:
    """Milliseconds per evaluation of the analytic solver on a 10-node graph."""
    try:
        from model.queueing.analytic.solver import solve
    except ImportError:
        return None
    nodes = {}
    for k in range(8):
        calls = [{"to": f"svc{k + 1}"}] if k < 7 else [{"to": "cache"}]
        nodes[f"svc{k}"] = {
            "kind": "service",
            "replicas": 3,
            "cpus": 2,
            "service_ms": 5 + k,
            "service_cv": 0.5 + 0.2 * k,
            "calls": calls,
        }
    nodes["cache"] = {"kind": "cache", "hit_ratio": 0.8, "hit_ms": 0.5, "miss": "db"}
    nodes["db"] = {"kind": "database", "read_replicas": 2, "cpus": 4, "read_ms": 4}
    scenario = Scenario.model_validate(
        {"version": 1, "name": "ten", "entry": "svc0", "workload": {"rate_rps": 100}, "nodes": nodes}
    )
    solve(scenario)
    start = time.perf_counter()
    for _ in range(evaluations):
        solve(scenario)
    return (time.perf_counter() - start) / evaluations * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-ciw", action="store_true")
    args = parser.parse_args()
    exact = exact_mean_ms()
    contenders = [("headroom engine", run_engine), ("idiomatic SimPy", run_idiomatic_simpy)]
    if not args.skip_ciw:
        contenders.append(("ciw", run_ciw))
    rows = []
    for name, fn in contenders:
        start = time.perf_counter()
        mean = fn(args.requests, args.seed)
        wall = time.perf_counter() - start
        total = args.requests * 1.1
        rows.append((name, total / wall, wall, mean))
    ours = rows[0][1]
    print(
        f"Network: 3 M/M/c stations in tandem at {RATE_RPS:g} rps, {args.requests:,} requests measured "
        f"(+10% warm-up); exact mean response {exact:.3f} ms"
    )
    print(f"{'contender':<18} {'requests/s':>12} {'wall s':>8} {'engine is':>10} {'mean ms':>9} {'error':>7}")
    for name, rps, wall, mean in rows:
        print(
            f"{name:<18} {rps:>12,.0f} {wall:>8.2f} {ours / rps:>9.2f}x {mean:>9.3f} {100 * (mean - exact) / exact:>6.2f}%"
        )
    analytic_ms = time_analytic()
    if analytic_ms is not None:
        print(
            f"{'analytic solver':<18} {1000.0 / analytic_ms:>12,.0f} evaluations/s on a 10-node graph: "
            f"{analytic_ms:.2f} ms each (exact for this network's mean)"
        )


if __name__ == "__main__":
    main()
