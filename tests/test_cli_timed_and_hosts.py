"""The command line for issue 11: timed runs (--duration), solver warnings, hosts and network_ms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.queueing.crosscheck import disagreements
from model.queueing.results import Latency, NodeStats, Results, SloCheck

ROOT = Path(__file__).resolve().parents[1]

MM1 = """version: 1
name: one core
workload: {rate_rps: 70}
entry: web
nodes:
  web: {kind: service, cpus: 1, service_ms: 10}
"""

SHARED = """version: 1
name: shared host
workload: {rate_rps: 70}
entry: web
hosts:
  box: {cpus: 1}
nodes:
  web: {kind: service, host: box, service_ms: 5, calls: [{to: db}]}
  db: {kind: database, host: box, read_ms: 5}
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@pytest.fixture
def mm1(tmp_path) -> str:
    path = tmp_path / "mm1.yaml"
    path.write_text(MM1)
    return str(path)


def test_a_timed_run_counts_what_a_load_test_sees(mm1):
    out = run("simulate", mm1, "--duration", "120", "--seed", "2", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    test = doc["load_test"]
    assert set(test) == {
        "duration_s",
        "offered",
        "completed",
        "errors",
        "in_flight_end",
        "backlog_growth_rps",
        "throughput_rps",
    }
    assert test["duration_s"] == 120
    assert test["offered"] == pytest.approx(70 * 120, rel=0.05)  # Poisson: sd 1.1%
    assert test["offered"] == test["completed"] + test["errors"] + test["in_flight_end"]
    assert test["in_flight_end"] < 30 and doc["saturated"] == []
    assert doc["latency_ms"]["mean"] == pytest.approx(1000 / 30, rel=0.15)  # M/M/1 from a cold start


def test_an_overloaded_timed_run_shows_the_queue_growing_at_the_excess_rate(mm1):
    # 110 req/s against 100/s of capacity: the queue grows by 10 a second (sd ~1.9/s over 60 s).
    out = run("simulate", mm1, "--duration", "120", "--rate", "110", "--seed", "1", "--json")
    doc = json.loads(out.stdout)
    assert doc["saturated"] == ["web"] and doc["slo"]["met"] is True  # no SLO given: met, but saturated
    assert doc["load_test"]["backlog_growth_rps"] == pytest.approx(10, abs=5)
    assert doc["load_test"]["throughput_rps"] == pytest.approx(100, rel=0.05)
    text = run("simulate", mm1, "--duration", "30", "--rate", "110", "--seed", "1").stdout
    assert "still in the system at the end (growing by" in text


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--requests", "500"], "not both"),
        (["--method", "analytic"], "drop --method analytic"),
        (["--duration", "0"], "--duration must be above 0"),
    ],
)
def test_timed_run_refuses_what_it_cannot_do(mm1, extra, says):
    args = ["simulate", mm1, *extra] + ([] if "--duration" in extra else ["--duration", "10"])
    out = run(*args)
    assert out.returncode == 2 and says in out.stderr


def test_a_run_where_the_solvers_disagree_carries_a_warning(mm1):
    # At 99% busy a short run is nowhere near steady state: its mean is far below the analytic 1 s.
    out = run("simulate", mm1, "--rate", "99", "--requests", "2000", "--seed", "1", "--json")
    doc = json.loads(out.stdout)
    assert any("differ on mean latency" in w for w in doc["warnings"])
    text = run("simulate", mm1, "--rate", "99", "--requests", "2000", "--seed", "1").stdout
    assert "WARNING   the solvers differ on mean latency" in text
    calm = json.loads(run("simulate", mm1, "--requests", "20000", "--seed", "1", "--json").stdout)
    assert "warnings" not in calm


def _results(saturated: list[str], mean: float, ci: tuple[float, float]) -> Results:
    return Results(
        "t",
        "sim",
        1.0,
        Latency(mean, mean, mean, mean),
        1.0,
        0.0,
        {"web": NodeStats(1.0, 0.5, 1, 0.0)},
        {},
        SloCheck(True),
        saturated,
        latency_ci95_ms={"mean": ci, "p99": ci},
    )


def test_disagreements_name_saturation_and_latency_beyond_the_stated_error():
    sim = _results([], 100.0, (95.0, 105.0))
    assert disagreements(sim, _results([], 112.0, (0, 0))) == []  # 105 * 1.10 = 115.5 allowed
    beyond = disagreements(sim, _results([], 120.0, (0, 0)))
    assert len(beyond) == 1 and "mean" in beyond[0] and "analytic 120.0 ms" in beyond[0]
    saturated = disagreements(sim, _results(["web"], 100.0, (0, 0)))
    assert saturated == [
        "the solvers disagree on saturation: the simulator finds nothing saturated, the analytic solver web"
    ]


def test_hosts_and_network_ms_through_the_command_line(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    doc = json.loads(run("simulate", str(path), "--method", "analytic", "--json").stdout)
    assert doc["latency_ms"]["mean"] == pytest.approx(1000 / 30, abs=0.01)  # BCMP: 10 ms / (1 - 0.7)
    assert doc["nodes"]["web"]["host"] == doc["nodes"]["db"]["host"] == "box"
    assert doc["hosts"] == {"box": {"servers": 1, "utilization": 0.7, "nodes": ["web", "db"]}}
    shifted = json.loads(
        run(
            "simulate", str(path), "--method", "analytic", "--json", "--set", "workload.network_ms=1.5"
        ).stdout
    )
    for key in ("mean", "p50", "p95", "p99"):
        assert shifted["latency_ms"][key] == pytest.approx(doc["latency_ms"][key] + 1.5, abs=0.002)
    bad = run("simulate", str(path), "--set", "nodes.web.replicas=2")
    assert bad.returncode == 2 and "nodes.web.replicas" in bad.stderr
