"""Closed workloads on the command line: --users, the users command, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT = str(ROOT / "scenarios" / "checkout.yaml")
USERS = str(ROOT / "scenarios" / "checkout-users.yaml")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_simulate_with_users_reports_the_closed_workload():
    out = run("simulate", CHECKOUT, "--users", "60", "--json", "--seed", "2", "--requests", "3000")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["closed"]["users"] == 60 and doc["closed"]["think_ms"] == 0.0
    assert doc["rate_rps"] > 0 and doc["throughput_rps"] <= doc["rate_rps"] + 1e-9
    assert doc["closed"]["bottleneck"] in doc["nodes"]


def test_analytic_closed_json_has_its_bounds():
    out = run("simulate", USERS, "--method", "analytic", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    closed = doc["closed"]
    assert closed["users"] == 150 and closed["think_ms"] == 1000.0 and closed["mva_method"] == "exact"
    assert doc["rate_rps"] == pytest.approx(closed["mva_throughput_rps"], rel=1e-3)
    assert doc["rate_rps"] <= closed["max_throughput_rps"] * (1 + 1e-9)


def test_rate_and_users_together_are_invalid_input():
    out = run("simulate", CHECKOUT, "--users", "5", "--rate", "3")
    assert out.returncode == 2 and "not both" in out.stderr


def test_a_file_with_both_names_the_key_and_line(tmp_path):
    bad = tmp_path / "both.yaml"
    bad.write_text(Path(CHECKOUT).read_text().replace("  rate_rps: 120\n", "  rate_rps: 120\n  users: 10\n"))
    out = run("simulate", str(bad), "--method", "analytic")
    assert out.returncode == 2
    assert "workload.users (line 9)" in out.stderr and "exclusive" in out.stderr


def test_users_command_answers_the_most_users_and_the_knee():
    out = run("users", USERS, "--json", "--users", "400")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert 150 <= doc["max_users"] < 400 and not doc["slo"]["met"] and doc["users"] == 400
    assert doc["bottleneck"] == "web" and doc["knee_users"] > 0
    assert doc["at_max_users"]["latency_ms"]["p99"] <= 500.0
    assert [p["users"] for p in doc["curve"]] == sorted(p["users"] for p in doc["curve"])


def test_users_check_slo_exits_3_when_the_workloads_users_miss_it():
    assert run("users", USERS, "--check-slo").returncode == 0  # the file's 150 users hold
    assert run("users", USERS, "--check-slo", "--users", "400").returncode == 3


def test_users_command_text_names_the_answer():
    out = run("users", USERS)
    assert out.returncode == 0, out.stderr
    assert "users within the SLO" in out.stdout and "Knee N*" in out.stdout


def test_users_command_refuses_an_open_workload():
    out = run("users", CHECKOUT)
    assert out.returncode == 2 and "closed workload" in out.stderr


def test_duration_with_users_is_invalid_input():
    out = run("simulate", USERS, "--duration", "10")
    assert out.returncode == 2 and "--duration" in out.stderr


def test_forecast_of_a_closed_workload_grows_the_users():
    out = run("forecast", USERS, "--months", "2", "--json", "--users", "100")
    assert out.returncode == 0, out.stderr
    months = json.loads(out.stdout)["months"]
    assert [m["users"] for m in months] == [100, 108, 117]
    assert months[0]["rate_rps"] < months[2]["rate_rps"]


def test_ramp_json_has_each_step_beside_its_steady_state():
    out = run(
        "ramp",
        USERS,
        "--from",
        "20",
        "--to",
        "100",
        "--steps",
        "3",
        "--step-s",
        "20",
        "--json",
        "--seed",
        "1",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [s["users"] for s in doc["steps"]] == [20, 60, 100]
    assert [s["start_s"] for s in doc["steps"]] == [0.0, 20.0, 40.0]
    for step in doc["steps"]:
        assert step["throughput_rps"] > 0 and step["errors"] == 0
        assert abs(step["throughput_rps"] / step["expected"]["throughput_rps"] - 1) < 0.2
    assert "observed" not in doc


def test_ramp_beside_a_locust_run_follows_its_steps():
    locust = ROOT / "tests" / "connectors" / "loadtest" / "locust_stats_history.csv"
    out = run("ramp", USERS, "--locust", str(locust), "--json", "--seed", "1")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    observed = doc["observed"]["steps"]
    assert doc["observed"]["from"] == "locust locust_stats_history.csv"
    assert [s["users"] for s in doc["steps"]] == [o["users"] for o in observed]
    assert run("ramp", USERS, "--locust", str(locust)).stdout.count("Your load test") == 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["--to", "0"], "--to must be 1 user or more"),
        (["--steps", "500"], "--steps must be from 1 to 200"),
        (["--steps", "100", "--step-s", "3600"], "above 86,400 s"),
        (["--locust", "no-such-file.csv"], "no such file"),
    ],
)
def test_ramp_bad_input_is_exit_2(args, words):
    out = run("ramp", USERS, *args)
    assert out.returncode == 2 and words in out.stderr, out.stderr


def test_ramp_needs_users():
    out = run("ramp", CHECKOUT)
    assert out.returncode == 2 and "--users" in out.stderr
