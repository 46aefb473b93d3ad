"""`cli.py peak`: the contract's JSON keys, exit 3 with --check-slo when the event breaks, exit 2 naming the option."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import ROOT, run

THREE_TIER = str(ROOT / "scenarios" / "three-tier.yaml")
CHECKOUT = str(ROOT / "scenarios" / "checkout.yaml")
FAST = ("--requests", "2000", "--seed", "1")  # the verdicts below are decided by theory; keep the runs short


def test_peak_json_carries_the_documented_keys():
    out = run("peak", CHECKOUT, "--factor", "3", "--days", "1", "--json", *FAST)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # stdout holds the JSON document and nothing else
    assert set(doc) == {
        "scenario",
        "event",
        "verdict",
        "summary",
        "breaks",
        "first_to_saturate",
        "autoscaling",
        "additions",
        "cost",
        "simulated",
        "plateau_extrapolated",
        "series",
        "notes",
    }
    assert doc["event"] == {
        "factor": 3.0,
        "days": 1.0,
        "ramp_minutes": 30.0,
        "base_rps": 120.0,
        "peak_rps": 360.0,
    }
    assert doc["verdict"] == "holds_with_autoscaling" and doc["breaks"] is None
    assert set(doc["cost"]) == {
        "currency",
        "hours",
        "event",
        "normal",
        "extra",
        "extra_with_additions",
        "extra_with_zone_additions",
    }
    assert doc["cost"]["extra"] > 0  # the HPA runs more pods for a day than on a normal day
    assert set(doc["additions"]) == {"target_utilization", "normal", "zone_loss"}
    assert doc["additions"]["target_utilization"] == 0.75
    assert doc["plateau_extrapolated"]["to_minute"] > 1400
    first = doc["series"][0]
    assert first["minute"] == -5.0 and set(first) == {
        "minute",
        "rate_rps",
        "replicas",
        "busiest",
        "utilization",
        "p99_ms",
        "error_pct",
        "kafka_drop_pct",
        "source",
        "slo_met",
    }


def test_check_slo_exits_3_when_the_event_breaks_and_0_when_it_holds():
    broken = run("peak", THREE_TIER, "--factor", "3", "--check-slo", "--json", *FAST)
    assert broken.returncode == 3, broken.stderr
    doc = json.loads(broken.stdout)
    assert doc["verdict"] == "breaks" and doc["breaks"]["node"] == "db"
    assert doc["additions"]["normal"]["changes"]["nodes.db.read_replicas"] >= 7
    held = run("peak", CHECKOUT, "--factor", "1.2", "--check-slo", *FAST)
    assert held.returncode == 0, held.stderr
    assert "HOLDS" in held.stdout and "Cost of the event" in held.stdout
    assert run("peak", THREE_TIER, "--factor", "3", *FAST).returncode == 0  # without --check-slo: 0


def test_the_text_says_the_plateau_is_extrapolated():
    out = run("peak", CHECKOUT, "--factor", "2", "--days", "3", *FAST)
    assert out.returncode == 0, out.stderr
    assert "extrapolated" in out.stdout and "plateau held" in out.stdout


@pytest.mark.parametrize(
    "args, option",
    [
        (["--factor", "0.5"], "--factor"),
        (["--factor", "abc"], "--factor"),
        (["--factor", "3", "--days", "0"], "--days"),
        (["--factor", "3", "--ramp-minutes", "-1"], "--ramp-minutes"),
        (["--factor", "3", "--target-util", "0"], "--target-util"),
        (["--factor", "3", "--target-util", "150"], "--target-util"),
        (["--factor", "3", "--requests", "5"], "--requests"),
        (["--days", "1"], "--factor"),  # --factor is required
    ],
)
def test_bad_input_exits_2_naming_the_option(args, option):
    out = run("peak", CHECKOUT, *args)
    assert out.returncode == 2, out.stdout
    assert option in out.stderr and out.stdout == ""


def test_a_bad_scenario_file_exits_2():
    out = run("peak", str(ROOT / "scenarios" / "nope.yaml"), "--factor", "2")
    assert out.returncode == 2 and "nope.yaml" in out.stderr
