"""The command line as scripts use it: contract JSON, exit codes, messages on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT = str(ROOT / "scenarios" / "checkout.yaml")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_simulate_json_is_exactly_the_contract_shape():
    out = run("simulate", CHECKOUT, "--json", "--seed", "3", "--requests", "3000")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # stdout holds the JSON document and nothing else
    assert {
        "scenario",
        "method",
        "rate_rps",
        "latency_ms",
        "latency_ci95_ms",
        "throughput_rps",
        "error_pct",
        "nodes",
        "kafka",
        "cost",
        "slo",
        "saturated",
    } <= set(doc)
    assert doc["scenario"] == "Checkout API" and doc["method"] == "sim" and doc["rate_rps"] == 120.0
    assert set(doc["latency_ms"]) >= {"mean", "p50", "p95", "p99"}
    assert set(doc["latency_ci95_ms"]) >= {"mean", "p99"} and len(doc["latency_ci95_ms"]["p99"]) == 2
    assert set(doc["nodes"]) == {"web", "cache", "db", "orders"}
    assert set(doc["nodes"]["web"]) >= {"arrival_rps", "utilization", "servers", "mean_wait_ms"}
    assert doc["nodes"]["web"]["servers"] == 8 and 0 <= doc["nodes"]["web"]["utilization"] <= 1
    assert set(doc["kafka"]["orders"]) >= {"lag_ms", "drop_pct"} and set(
        doc["kafka"]["orders"]["lag_ms"]
    ) >= {"p50", "p99"}
    assert doc["cost"]["currency"] == "USD" and set(doc["cost"]["by_node"]) == set(doc["nodes"])
    assert doc["cost"]["monthly"] == pytest.approx(sum(doc["cost"]["by_node"].values()), abs=0.011)
    assert doc["slo"] == {"met": True, "violations": []} and doc["saturated"] == []


def test_seed_makes_runs_repeatable():
    a = run("simulate", CHECKOUT, "--json", "--seed", "9", "--requests", "2000").stdout
    b = run("simulate", CHECKOUT, "--json", "--seed", "9", "--requests", "2000").stdout
    assert a == b


def test_analytic_method_has_no_confidence_interval():
    out = run("simulate", CHECKOUT, "--json", "--method", "analytic")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["method"] == "analytic" and "latency_ci95_ms" not in doc


def test_readable_table():
    out = run("simulate", CHECKOUT, "--seed", "1", "--requests", "2000")
    assert out.returncode == 0, out.stderr
    for words in ("Latency", "p99", " ms", "utilization", "$", "a month", "SLO"):
        assert words in out.stdout


def test_set_and_rate_overrides():
    doc = json.loads(
        run(
            "simulate",
            CHECKOUT,
            "--json",
            "--seed",
            "1",
            "--requests",
            "2000",
            "--set",
            "nodes.web.replicas=6",
            "--rate",
            "150",
        ).stdout
    )
    assert doc["rate_rps"] == 150.0 and doc["nodes"]["web"]["servers"] == 12


@pytest.mark.parametrize(
    "args, words",
    [
        (["simulate", "scenarios/missing.yaml"], "no such file"),
        (["simulate", CHECKOUT, "--set", "nodes.web.replicas=lots"], "nodes.web.replicas"),
        (["simulate", CHECKOUT, "--set", "nodes.web.knd=service"], "nodes.web.knd"),
        (["simulate", CHECKOUT, "--rate", "-5"], "--rate"),
        (["simulate", CHECKOUT, "--requests", "5"], "--requests"),
        (["simulate", CHECKOUT, "--method", "magic"], "invalid choice"),
        (["whatif", CHECKOUT, "--failure", "read-replica", "--node", "nosuch"], "no node 'nosuch'"),
        (
            ["whatif", str(ROOT / "scenarios" / "three-tier.yaml"), "--failure", "cache-flush"],
            "no cache node",
        ),
        (["forecast", CHECKOUT, "--months", "5000"], "--months must be from 0 to 120"),
        (["recommend", CHECKOUT, "--months", "-1"], "--months must be from 0 to 120"),
        (["sweep", CHECKOUT, "--grid", "nodes.web.replicas=2,4", "--requests", "0", "--local"], "--requests"),
        (["sweep", CHECKOUT, "--grid", "nodes.web.replicass=2,4", "--local"], "nodes.web.replicass"),
    ],
)
def test_invalid_input_exits_2_with_the_key_path(args, words):
    out = run(*args)
    assert out.returncode == 2
    assert words in out.stderr and "Traceback" not in out.stderr and out.stdout == ""


def test_confidence_intervals_are_always_present_for_sim():
    small = json.loads(run("simulate", CHECKOUT, "--json", "--seed", "1", "--requests", "100").stdout)
    assert set(small["latency_ci95_ms"]) >= {"mean", "p99"}
    assert small["latency_ci95_ms"]["p99"] == [None, None]  # too few requests for an honest interval
    flooded = json.loads(
        run("simulate", CHECKOUT, "--json", "--seed", "1", "--requests", "500", "--rate", "5000").stdout
    )
    assert set(flooded["latency_ci95_ms"]) >= {"mean", "p99"} and "web" in flooded["saturated"]


def test_check_slo_exits_3_when_the_slo_fails():
    ok = run("simulate", CHECKOUT, "--check-slo", "--seed", "1", "--requests", "2000")
    assert ok.returncode == 0
    bad = run(
        "simulate", CHECKOUT, "--check-slo", "--seed", "1", "--requests", "2000", "--set", "slo.p99_ms=5"
    )
    assert bad.returncode == 3 and "NOT met" in bad.stdout


def test_saturated_scenario_returns_promptly_and_says_so():
    out = run(
        "simulate",
        str(ROOT / "scenarios" / "three-tier.yaml"),
        "--json",
        "--rate",
        "400",
        "--requests",
        "3000",
        "--seed",
        "1",
    )
    doc = json.loads(out.stdout)
    assert "db" in doc["saturated"] and doc["slo"]["met"] is False
