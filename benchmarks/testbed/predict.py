"""From measured periods to predictions, through the project's own command line.

1. The fit's inputs: `fit-metrics.csv` (a timestamp column and one column per series, rates
   per second, CPU in percent of one core, latency in ms) and `fit.yaml` naming them.
2. `python cli.py fit --config fit.yaml --out fitted.yaml --json`. The period is a parameter
   (default 5 s). A fit that refuses periods that short (before the load-test mode) gets the
   same rows re-stamped 60 s apart with `period_s: 60`: every value is a rate or a level, so
   the spacing changes no value, only what the fit believes about time (growth, day shape,
   which a load test does not have anyway). The report says which of the two ran.
3. A variant with the three nodes on one shared `hosts:` entry (their processes share the
   service cores): fitted again from a copy of the fit file that declares that placement
   (`fit-hosts.yaml`), so that the latency fit (service_cv, network_ms) is made against the
   structure that is then predicted; a fitted scenario with `hosts:` added afterwards when the
   fit file cannot declare hosts; skipped when the scenario schema has no hosts (detected by trying).
4. `python cli.py simulate SCENARIO --rate R --json --method sim|analytic [--set ...]`, per phase.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
NODES = ("web", "cache", "db")


def cli(*args: str, timeout_s: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout_s,
    )


@dataclass
class Fit:
    ok: bool
    scenario: Path | None
    hosts_scenario: Path | None
    mode: str  # "native periods of N s" or "re-stamped at 60 s"
    report: dict = field(default_factory=dict)
    message: str = ""
    hosts_how: str = ""  # how the hosts variant was made: "fitted" (its own fit) or "edited" (hosts added)


def write_fit_inputs(
    out_dir: Path, rows: list[dict], period_s: int, workers: int, service_cores: int, restamp: bool
) -> Path:
    """The metrics CSV and the fit file over it; `restamp` spaces the rows 60 s apart (see module doc)."""
    name = "fit-metrics-60s.csv" if restamp else "fit-metrics.csv"
    columns = [c for c in rows[0] if c != "wall"]
    first = math.floor(rows[0]["wall"] / 60) * 60
    with open(out_dir / name, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", *columns])
        for i, row in enumerate(rows):
            wall = first + 60 * i if restamp else math.floor(row["wall"] / period_s) * period_s
            stamp = datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")
            writer.writerow([stamp, *("" if math.isnan(row[c]) else f"{row[c]:.4f}" for c in columns)])

    def metric(column: str, unit: str) -> dict:
        return {"file": name, "column": column, "unit": unit}

    fit = {
        "version": 1,
        "source": "csv",
        "lookback_days": 1 if not restamp else max(1, math.ceil(len(rows) / 1440) + 1),
        "period_s": 60 if restamp else period_s,
        "traffic": {"metric": metric("traffic_rps", "Count/Second"), "kind": "rate"},
        "latency": {
            "metric": metric("latency_mean_ms", "Milliseconds"),
            **(
                {
                    "stats": {
                        "p50": metric("latency_p50_ms", "Milliseconds"),
                        "p99": metric("latency_p99_ms", "Milliseconds"),
                    }
                }
                if sum(1 for row in rows if not math.isnan(row.get("latency_p99_ms", math.nan))) >= 12
                else {}  # too few periods with enough requests (the smoke profile's 1 s periods)
            ),
        },
        "entry": "web",
        "nodes": {
            "web": {
                "kind": "service",
                "replicas": 1,
                "cpus": service_cores,
                "concurrency": workers,
                "blocking_calls": True,
                "cpu": metric("web_cpu_pct", "Percent"),
                "calls": [{"to": "cache"}, {"to": "db", "op": "write"}],
            },
            "cache": {
                "kind": "cache",
                "nodes": 1,
                "cpus": 1,
                "miss": "db",
                "cpu": metric("cache_cpu_pct", "Percent"),
                "hits": metric("cache_hits_rps", "Count/Second"),
                "misses": metric("cache_misses_rps", "Count/Second"),
            },
            "db": {
                "kind": "database",
                "read_replicas": 0,
                "cpus": service_cores,
                "cpu": metric("db_cpu_pct", "Percent"),
                "reads": metric("db_reads_rps", "Count/Second"),
                "writes": metric("db_writes_rps", "Count/Second"),
            },
        },
    }
    path = out_dir / ("fit-60s.yaml" if restamp else "fit.yaml")
    path.write_text(
        "# Written by benchmarks/testbed from the fit phases' periods.\n"
        + yaml.safe_dump(fit, sort_keys=False)
    )
    return path


def _refused(config: Path) -> str:
    """Why this version's fit-file schema refuses the file (checked in process: a CLI start costs seconds), or ''."""
    sys.path.insert(0, str(REPO))
    from model.fit.file import FitFileError, load_fit_file

    try:
        load_fit_file(config)
    except FitFileError as exc:
        return str(exc)
    return ""


def run_fit(out_dir: Path, rows: list[dict], period_s: int, workers: int, service_cores: int) -> Fit:
    attempts = [False, True] if period_s < 60 or period_s % 60 else [False]
    message = ""
    for restamp in attempts:
        config = write_fit_inputs(out_dir, rows, period_s, workers, service_cores, restamp)
        if restamp is False and len(attempts) > 1 and (message := _refused(config)):
            continue
        out = out_dir / "fitted.yaml"
        done = cli("fit", "--config", str(config), "--out", str(out), "--json")
        if done.returncode == 0:
            report = json.loads(done.stdout or "{}")
            mode = (
                "re-stamped at 60 s (this fit refuses shorter periods)"
                if restamp
                else f"native periods of {period_s} s"
            )
            note = f"the {period_s} s periods were refused: {message.strip()}" if message else ""
            hosts, how = fit_hosts(config, out_dir / "fitted-hosts.yaml", service_cores)
            if hosts is None:
                hosts, how = hosts_variant(out), "edited"
            return Fit(True, out, hosts, mode, report, note, how if hosts else "")
        message = (
            (done.stderr or done.stdout).strip().splitlines()[-1]
            if (done.stderr or done.stdout).strip()
            else f"exit {done.returncode}"
        )
    return Fit(False, None, None, "failed", {}, message)


def fit_hosts(config: Path, out: Path, service_cores: int) -> tuple[Path | None, str]:
    """The fit again, from the same periods, with the three nodes declared on one host of the service cores.

    The latency fit (service_cv and network_ms) is the model solved at low load against the observed
    p50/p99: fitted on the one-core-per-node scenario, the queueing that the shared core adds at
    low load is read as service-time variability, and the hosts variant (which then models that
    queueing too) counts it twice: on the quiet run the simulator's p99 came out 15-21 % high at 20-35 % load."""
    path = hosts_fit_file(config, service_cores)
    if _refused(path) or cli("fit", "--config", str(path), "--out", str(out), "--json").returncode != 0:
        return None, ""
    return out, "fitted"


def hosts_fit_file(config: Path, service_cores: int) -> Path:
    """A copy of the fit file (beside it, `-hosts` added to its name) placing web, cache and db on one
    host of `service_cores` cores; every metric stays as it was (each node keeps its own CPU series)."""
    data = yaml.safe_load(config.read_text())
    data["hosts"] = {"box": {"cpus": service_cores}}
    for name in NODES:
        data["nodes"][name]["host"] = "box"
        data["nodes"][name].pop("cpus", None)
    path = config.with_name(config.stem + "-hosts.yaml")
    path.write_text(
        "# The fit file with the three nodes on the service cores they share (hosts:).\n"
        + yaml.safe_dump(data, sort_keys=False)
    )
    return path


def hosts_variant(fitted: Path) -> Path | None:
    """The fitted scenario with web, cache and db on one host sharing the service cores, if the schema has hosts."""
    data = yaml.safe_load(fitted.read_text())
    cores = data["nodes"]["web"].get("cpus") or 1
    for keep_cpus in (False, True):
        variant = json.loads(json.dumps(data))
        variant["hosts"] = {"box": {"cpus": cores}}
        for name in NODES:
            variant["nodes"][name]["host"] = "box"
            if not keep_cpus:
                variant["nodes"][name].pop("cpus", None)
        path = fitted.with_name("fitted-hosts.yaml")
        path.write_text(
            "# The fitted scenario with its three nodes sharing the service cores (hosts:).\n"
            + yaml.safe_dump(variant, sort_keys=False)
        )
        if cli("simulate", str(path), "--method", "analytic", "--json").returncode == 0:
            return path
    path.unlink(missing_ok=True)
    return None


def predict(
    scenario: Path,
    rate_rps: float,
    method: str,
    sets: tuple[str, ...] = (),
    requests: int | None = None,
    duration_s: float | None = None,
    seed: int = 11,
) -> dict:
    """One `simulate --json` answer, or {"error": message}."""
    args = [
        "simulate",
        str(scenario),
        "--rate",
        f"{rate_rps:.3f}",
        "--json",
        "--method",
        method,
        "--seed",
        str(seed),
    ]
    for s in sets:
        args += ["--set", s]
    if method == "sim" and requests:
        args += ["--requests", str(requests)]
    if method == "sim" and duration_s:
        args += ["--duration", f"{duration_s:g}"]
    done = cli(*args)
    if done.returncode and duration_s:  # no --duration yet: a request-count run
        return predict(scenario, rate_rps, method, sets, requests, None, seed)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout)


def capacity_rps(scenario: Path, sets: tuple[str, ...] = (), hi_rps: float = 5000.0) -> float | None:
    """The analytic solver's capacity: the lowest rate it declares saturated (bisection, in process)."""
    sys.path.insert(0, str(REPO))
    from model.scenario.reader import load_scenario
    from model.queueing.evaluate import evaluate

    sc = load_scenario(scenario, list(sets))

    def saturated(rate: float) -> bool:
        return bool(evaluate(sc, "analytic", rate_rps=rate).saturated)

    lo, hi = 0.1, hi_rps
    if not saturated(hi):
        return None
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if saturated(mid) else (mid, hi)
        if hi / lo < 1.001:
            break
    return hi


def utilization_capacity(answer: dict) -> float | None:
    """Utilization law on a solver's answer: the rate at which its busiest station would reach 100 %."""
    utils = [
        v.get("utilization", 0.0)
        for group in ("nodes", "hosts")
        for v in (answer.get(group) or {}).values()
        if isinstance(v, dict)
    ]
    busiest = max(utils, default=0.0)
    return answer["rate_rps"] / busiest if busiest > 0 and "rate_rps" in answer else None
