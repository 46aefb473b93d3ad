"""Headroom's testbed: a real stack under open-loop load, fitted and predicted by Headroom itself.

    python -m benchmarks.testbed [--smoke | --quick | --full] [--out DIR] [options]
    python -m benchmarks.testbed --remodel DIR [--out DIR]   (fit and predict a saved run again)

Starts PostgreSQL, Redis and a gunicorn service (benchmarks/testbed/app.py) on loopback,
pinned to the service cores; drives them from the load-generator cores; samples CPU per
process tree; runs the phases (a ramp to the knee, fit phases at low load, test phases up to
and past capacity, what-ifs on the hit ratio and the worker count); fits a scenario with
`cli.py fit`, predicts every phase with `cli.py simulate` (both methods) and writes
report.md and results.json to the output directory. Every server is stopped and the temp
directory removed on exit, on an error and on Ctrl-C. See docs/validation.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.testbed import predict as model  # noqa: E402
from benchmarks.testbed.cpu import CpuSampler  # noqa: E402
from benchmarks.testbed.loadgen import run_phase  # noqa: E402
from benchmarks.testbed.measure import Measured, measure, period_rows  # noqa: E402
from benchmarks.testbed.phases import PROFILES, Knee, Profile, RampStep, knee, ramp_rates  # noqa: E402
from benchmarks.testbed.ramp_report import step_key  # noqa: E402
from benchmarks.testbed.remodel import load_saved  # noqa: E402
from benchmarks.testbed.render import render  # noqa: E402
from benchmarks.testbed.services import Stack, missing_binaries, set_priority  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.testbed", description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group()
    for name in PROFILES:
        g.add_argument(
            f"--{name}", dest="profile", action="store_const", const=name, help=f"the {name} profile"
        )
    p.set_defaults(profile="quick")
    p.add_argument("--out", type=Path, help="output directory (default testbed-results/PROFILE-STAMP)")
    p.add_argument(
        "--remodel",
        type=Path,
        metavar="DIR",
        help="measure nothing: fit and predict the run saved in DIR again with the current code",
    )
    p.add_argument(
        "--service-cores",
        default="0",
        help="taskset CPU list for PostgreSQL, Redis and gunicorn ('' = no pinning)",
    )
    p.add_argument("--loadgen-cores", default="1", help="CPU list for the load generator ('' = no pinning)")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="priority (nice and autogroup) of the servers and the load generator, e.g. -10 on a shared machine (root only)",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    p.add_argument("--hit-ratio", type=float, default=0.75)
    p.add_argument("--write-ratio", type=float, default=0.10, help="share of requests that also INSERT")
    p.add_argument("--work-iters", type=int, default=20000, help="Python loop turns per request (~2-4 ms)")
    p.add_argument("--whatif-hit-ratio", type=float, default=0.5)
    p.add_argument("--whatif-workers", type=int, default=4)
    p.add_argument(
        "--capacity", type=float, help="skip the ramp and take this as the measured capacity (req/s)"
    )
    p.add_argument(
        "--timeout-s", type=float, default=10.0, help="a request unanswered after this is an error"
    )
    p.add_argument("--seed", type=int, default=1)
    for field in dataclasses.fields(Profile):
        if field.type in ("float", "int"):
            p.add_argument(
                f"--{field.name.replace('_', '-')}", type=float, help=f"override the profile's {field.name}"
            )
    for field in ("fit_loads", "test_loads"):
        p.add_argument(
            f"--{field.replace('_', '-')}", help="comma-separated fractions of the measured capacity"
        )
    return p.parse_args(argv)


def profile_of(args: argparse.Namespace) -> Profile:
    base = PROFILES[args.profile]
    changes = {}
    for field in dataclasses.fields(Profile):
        value = getattr(args, field.name, None)
        if value is None:
            continue
        if field.name in ("fit_loads", "test_loads"):
            value = tuple(float(v) for v in str(value).split(",") if v)
        elif field.type == "int":
            value = int(value)
        changes[field.name] = value
    return dataclasses.replace(base, **changes)


class Run:
    """One testbed run: the stack, the sampler, the phases measured so far and the fit's periods."""

    def __init__(self, args: argparse.Namespace, profile: Profile, out: Path, stack: Stack):
        self.args, self.profile, self.out, self.stack = args, profile, out, stack
        self.sampler = CpuSampler(
            {
                "web": lambda: stack.pids("web"),
                "cache": lambda: stack.pids("redis"),
                "db": lambda: stack.pids("postgres"),
            },
            out / "cpu.csv",
            profile.sample_s,
            host_cores=[int(c) for c in args.service_cores.split(",")] if args.service_cores else None,
        )
        self.phases: list[Measured] = []
        self.fit_rows: list[dict] = []
        self.seed = args.seed

    def phase(
        self, name: str, kind: str, rate_rps: float, duration_s: float, *, keep: bool = True
    ) -> Measured:
        self.seed += 1
        settings = {"workers": self.stack.workers, "hit_ratio": self.stack.hit_ratio}
        log(f"  {name}: {rate_rps:.1f} req/s for {duration_s:.0f} s")
        run = run_phase(self.stack.url, rate_rps, duration_s, seed=self.seed, timeout_s=self.args.timeout_s)
        time.sleep(self.profile.sample_s * 1.5)  # the sample covering the phase's end is written
        self._log_requests(name, run)
        m = measure(name, kind, run, self.sampler, min(self.profile.warmup_s, duration_s / 4), settings)
        log(
            f"    served {m.throughput_rps:.1f} req/s, mean {m.latency_ms['mean']:.1f} ms, p99 {m.latency_ms['p99']:.1f} ms, "
            f"errors {m.error_pct:.2f}%, CPU " + ", ".join(f"{k} {v:.0f}%" for k, v in m.cpu_pct.items())
        )
        if kind == "fit":
            self.fit_rows += period_rows(run, self.sampler, m.warmup_s, self.profile.period_s)
        if keep:
            self.phases.append(m)
        waited = self.stack.settle()
        if waited > 1:
            log(f"    waited {waited:.0f} s for the backlog of abandoned requests to clear")
        return m

    def _log_requests(self, name: str, run) -> None:
        """Every request of the phase, one line each (requests.csv): for a closer look than the percentiles."""
        path = self.out / "requests.csv"
        new = not path.exists()
        with open(path, "a") as f:
            if new:
                f.write("phase,start_epoch_s,sched_s,sent_s,latency_ms,ok,cache,wrote,error\n")
            for r in run.records:
                f.write(
                    f"{name},{run.start_wall:.3f},{r.sched_s:.4f},{r.sent_s:.4f},{r.latency_ms:.3f},{int(r.ok)},"
                    f"{r.cache},{int(r.wrote)},{r.error}\n"
                )

    def find_knee(self) -> Knee:
        probe = self.phase("probe", "ramp", 20.0, max(8.0, self.profile.ramp_step_s), keep=False)
        busy = sum(v for k, v in probe.cpu_pct.items() if k != "host") / 100.0
        cores = len(self.args.service_cores.split(",")) if self.args.service_cores else os.cpu_count() or 1
        estimate = probe.throughput_rps * cores / busy if busy > 0 else 200.0
        log(f"  utilization-law estimate {estimate:.0f} req/s; ramping")
        steps, misses = [], 0
        for rate in ramp_rates(estimate):
            m = self.phase(f"ramp {rate:.0f}", "ramp", rate, self.profile.ramp_step_s, keep=False)
            steps.append(
                RampStep(
                    rate,
                    m.throughput_rps,
                    m.latency_ms["mean"],
                    m.latency_ms["p99"],
                    m.error_pct,
                    m.p99_ci95_ms,
                )
            )
            misses = misses + 1 if not steps[-1].keeps_up else 0
            if misses >= 2:
                break
        return knee(steps)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.remodel:
        return remodel(args.remodel, args.out)
    profile = profile_of(args)
    missing = missing_binaries()
    if missing:
        print("testbed: cannot run, missing: " + "; ".join(missing), file=sys.stderr)
        return 2
    out = args.out or Path("testbed-results") / f"{args.profile}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 16384), hard), hard))
    all_cores = os.sched_getaffinity(0)
    wanted = {int(c) for cores in (args.service_cores, args.loadgen_cores) if cores for c in cores.split(",")}
    if not wanted <= all_cores:
        log(
            f"cores {sorted(wanted - all_cores)} are not available here ({sorted(all_cores)}): running without pinning"
        )
        args.service_cores = args.loadgen_cores = ""
    if args.loadgen_cores and args.service_cores:
        os.sched_setaffinity(0, {int(c) for c in args.loadgen_cores.split(",")})
    if args.nice:
        set_priority(os.getpid(), args.nice)
    started = time.time()
    log(f"testbed ({args.profile}): output in {out}")
    stack = Stack(
        service_cores=args.service_cores or None,
        workers=args.workers,
        hit_ratio=args.hit_ratio,
        write_ratio=args.write_ratio,
        work_iters=args.work_iters,
        nice=args.nice,
    )
    knee_found: Knee | None = None
    try:
        log("starting PostgreSQL, Redis and gunicorn")
        stack.start()
        run = Run(args, profile, out, stack)
        run.sampler.start()
        try:
            knee_found, capacity = measure_phases(run, args, profile)
        finally:
            run.sampler.stop()
    finally:
        stack.close()
        os.sched_setaffinity(0, all_cores)
    log("servers stopped; fitting and predicting")
    results = model_phases(run, args, profile, capacity, knee_found)
    results["wall_s"] = time.time() - started
    results["stack_root"] = str(stack.root)
    return write_report(out, results)


def remodel(source: Path, out: Path | None) -> int:
    """The fit and the predictions of a saved run, again, with this checkout's code (see remodel.py)."""
    out = out or source / f"remodel-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    try:
        saved = load_saved(source, out)
    except ValueError as e:
        print(f"testbed: {e}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    log(f"testbed: fitting and predicting the run saved in {source} again; output in {out}")
    results = model_phases(saved.run, saved.args, saved.profile, saved.capacity_rps, saved.knee)
    results["wall_s"] = time.time() - started
    results["remodel"] = {"source": saved.source, "when": _machine()["when"]}
    results["machine"] = saved.machine
    return write_report(out, results)


def write_report(out: Path, results: dict) -> int:
    """report.md and results.json in `out`, the report printed; 1 when the fit failed."""
    text = render(results)
    (out / "report.md").write_text(text)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(text, end="")
    log(f"wrote {out / 'report.md'} and results.json ({results['wall_s']:.0f} s)")
    return 0 if results["fit"]["ok"] else 1


def measure_phases(run: Run, args, profile: Profile) -> tuple[Knee | None, float | None]:
    if profile.fixed_rates:
        for rate in profile.fixed_rates:
            run.phase(f"fit-{rate:g}rps", "fit", rate, profile.fit_s)
        return None, args.capacity
    knee_found = None
    if args.capacity:
        capacity = args.capacity
    else:
        log("ramp")
        knee_found = run.find_knee()
        capacity = knee_found.capacity_rps
        log(f"measured capacity {capacity:.1f} req/s, knee at {knee_found.knee_rps:.1f} req/s offered")
    log("fit phases")
    for load in profile.fit_loads:
        run.phase(f"fit-{100 * load:.0f}%", "fit", load * capacity, profile.fit_s)
    log("test phases")
    for load in profile.test_loads:
        run.phase(f"test-{100 * load:.0f}%", "test", load * capacity, profile.test_s)
    if profile.whatif_s:
        log("what-ifs")
        rate = profile.whatif_load * capacity
        run.phase("whatif-base", "whatif", rate, profile.whatif_s)
        run.stack.start_web(hit_ratio=args.whatif_hit_ratio)
        run.phase(f"whatif-hit{args.whatif_hit_ratio:g}", "whatif", rate, profile.whatif_s)
        run.stack.start_web(hit_ratio=args.hit_ratio, workers=args.whatif_workers)
        run.phase(f"whatif-workers{args.whatif_workers}", "whatif", rate, profile.whatif_s)
        run.stack.start_web(workers=args.workers)
    return knee_found, capacity


def model_phases(run: Run, args, profile: Profile, capacity: float | None, knee_found: Knee | None) -> dict:
    fit = model.run_fit(
        run.out,
        run.fit_rows,
        profile.period_s,
        args.workers,
        len(args.service_cores.split(",")) if args.service_cores else os.cpu_count() or 1,
    )
    log(f"fit: {'ok' if fit.ok else 'FAILED'} ({fit.mode}) {fit.message}")
    variants = {"fitted": fit.scenario}
    if fit.hosts_scenario:
        variants["fitted + hosts"] = fit.hosts_scenario
    answers: dict[str, dict[str, dict]] = {}
    ramp_answers: dict[str, dict[str, dict]] = {}  # solver -> offered rate of a ramp step -> answer
    capacities: dict[str, dict] = {}
    if fit.ok:
        jobs = []  # (answers by label, label, phase or step, future)

        def predict(pool, path, method: str, rate_rps: float, sets: tuple[str, ...], length_s: float):
            """One prediction; a load at or past the measured capacity is a timed run as long as it was measured."""
            timed = length_s if rate_rps >= 0.99 * (capacity or 1e12) else None
            return pool.submit(model.predict, path, rate_rps, method, sets, profile.sim_requests, timed)

        with ThreadPoolExecutor(max_workers=2) as pool:
            for vname, path in variants.items():
                for method in ("sim", "analytic"):
                    label = f"{method} ({vname})"
                    for m in run.phases:
                        job = predict(pool, path, method, m.offered_rps, _sets(m, args), m.duration_s)
                        jobs.append((answers, label, m.name, job))
                    for step in knee_found.steps if knee_found else []:
                        job = predict(pool, path, method, step.offered_rps, (), profile.ramp_step_s)
                        jobs.append((ramp_answers, label, step_key(step.offered_rps), job))
            for into, label, key, job in jobs:
                into.setdefault(label, {})[key] = job.result()
        for vname, path in variants.items():
            low = max(run.phases, key=lambda m: m.offered_rps if m.kind == "fit" else 0)
            capacities[vname] = {
                "analytic_saturates_rps": model.capacity_rps(path),
                "sim_utilization_law_rps": model.utilization_capacity(
                    answers[f"sim ({vname})"].get(low.name, {})
                ),
                "analytic_utilization_law_rps": model.utilization_capacity(
                    answers[f"analytic ({vname})"].get(low.name, {})
                ),
            }
    return {
        "profile": args.profile,
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "phase_lengths": dataclasses.asdict(profile),
        "machine": _machine(),
        "capacity_rps": capacity,
        "knee": dataclasses.asdict(knee_found) if knee_found else None,
        "phases": [dataclasses.asdict(m) for m in run.phases],
        "fit_periods": len(run.fit_rows),
        "fit": {
            "ok": fit.ok,
            "mode": fit.mode,
            "message": fit.message,
            "scenario": str(fit.scenario or ""),
            "hosts_scenario": str(fit.hosts_scenario or ""),
            "hosts_how": fit.hosts_how,
            "report": fit.report,
        },
        "answers": answers,
        "ramp_answers": ramp_answers,
        "predicted_capacity": capacities,
    }


def _sets(m: Measured, args) -> tuple[str, ...]:
    """A what-if phase's change, said to the model as the user would (--set)."""
    sets = []
    if m.settings.get("hit_ratio") != args.hit_ratio:
        sets.append(f"nodes.cache.hit_ratio={m.settings['hit_ratio']}")
    if m.settings.get("workers") != args.workers:
        sets.append(f"nodes.web.concurrency={m.settings['workers']}")
    return tuple(sets)


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
