"""The command line for client retries (issue 18): `retries` in the JSON, `--burst` in timed runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORM = "scenarios/retry-storm.yaml"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_simulate_json_reports_the_retries_by_both_methods():
    for method in ("sim", "analytic"):
        out = run("simulate", STORM, "--json", "--seed", "1", "--requests", "3000", "--method", method)
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        retries = doc["retries"]
        assert set(retries) == {
            "attempts",
            "backoff_ms",
            "jitter",
            "offered_rps",
            "amplification",
            "goodput_rps",
            "attempt_error_pct",
            "errors_after_last_attempt_pct",
            "capacity_rps",
            "storm_rps",
            "storm_sustains",
        }
        assert retries["goodput_rps"] == doc["throughput_rps"]
        assert retries["errors_after_last_attempt_pct"] == doc["error_pct"]
        assert retries["storm_sustains"] is True and retries["storm_rps"] == 210.0
        assert "load_test" not in doc


def test_a_burst_with_retries_shows_the_storm_through_time():
    out = run("simulate", STORM, "--json", "--seed", "1", "--duration", "120", "--burst", "2,40,10")
    assert out.returncode == 0, out.stderr
    test = json.loads(out.stdout)["load_test"]
    timeline = test["timeline"]
    assert timeline["bucket_s"] == 1.0 and len(timeline["start_s"]) == 120
    assert set(timeline) == {
        "bucket_s",
        "start_s",
        "requests_rps",
        "offered_rps",
        "goodput_rps",
        "errors_rps",
    }
    assert test["burst"] == {"factor": 2.0, "start_s": 40.0, "length_s": 10.0, "recovered_at_s": None}
    assert test["end"]["goodput_rps"] < 0.2 * test["end"]["requests_rps"]


def test_the_same_burst_without_retries_recovers_and_says_when():
    out = run(
        "simulate", STORM, "--seed", "1", "--duration", "120", "--burst", "2,40,10",
        "--set", "workload.retries=null",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Through time (per 5 s)" in out.stdout and "Retries" not in out.stdout
    assert "recovered at" in out.stdout and "after it ended" in out.stdout


def test_the_text_tells_the_storm():
    out = run("simulate", STORM, "--seed", "2", "--duration", "120", "--burst", "2,40,10")
    assert out.returncode == 0, out.stderr
    assert "Retries   up to 2 more attempt(s), backoff 100.0 ms doubling with jitter" in out.stdout
    assert "sustains itself (metastable)" in out.stdout
    assert "still failing when the run ended" in out.stdout


def test_a_timed_run_without_burst_or_retries_prints_what_it_printed_before():
    out = run("simulate", "scenarios/checkout.yaml", "--json", "--seed", "1", "--duration", "5")
    test = json.loads(out.stdout)["load_test"]
    assert set(test) == {
        "duration_s",
        "offered",
        "completed",
        "errors",
        "in_flight_end",
        "backlog_growth_rps",
        "throughput_rps",
    }


@pytest.mark.parametrize(
    "args, words",
    [
        (["--burst", "2,60,10"], "give --duration SECONDS too"),
        (["--duration", "100", "--burst", "2,60"], "FACTOR,START_S,LENGTH_S"),
        (["--duration", "100", "--burst", "two,60,10"], "FACTOR,START_S,LENGTH_S"),
        (["--duration", "100", "--burst", "0,60,10"], "factor must be above 0"),
        (["--duration", "50", "--burst", "2,60,10"], "must start within the run"),
        (["--duration", "100", "--burst", "2,60,0"], "must last more than 0 s"),
        (["--duration", "100", "--burst", "2,nan,5"], "must start within the run"),
    ],
)
def test_a_bad_burst_is_invalid_input(args, words):
    out = run("simulate", STORM, *args)
    assert out.returncode == 2 and words in out.stderr and out.stdout == ""


def test_bad_retries_in_a_set_are_invalid_input():
    out = run("simulate", STORM, "--set", "workload.retries.attempts=50")
    assert out.returncode == 2 and "workload.retries.attempts" in out.stderr


def test_recommend_meets_the_slo_with_the_retries_load_counted():
    out = run("recommend", STORM, "--json", "--seed", "1")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert any(
        n.startswith("client retries: the SLO is met with the retries' load counted") for n in doc["notes"]
    )
