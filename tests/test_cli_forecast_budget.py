"""`forecast --budget USD` and `--start YYYY-MM`: the first month over budget in the text and the
JSON, exit 3 with --check-slo when it falls within the horizon, exit 2 for a bad value; the months
that miss the SLO are marked and counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cli import main
from model.planning.bill import month_bill
from model.scenario.reader import scenario_from_data
from tests.model.planning.planning_helpers import fixed, mmc_scenario

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT = str(ROOT / "scenarios" / "checkout.yaml")


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    data = fixed(2, {"rate_rps": 100.0, "growth_pct_per_month": 10})
    data["nodes"]["web"].update({"cpus": 1, "service_ms": 50, "autoscale": {"min": 2, "max": 60}})
    path = tmp_path_factory.mktemp("budget") / "growing.yaml"
    path.write_text(yaml.safe_dump(data))
    bills = [month_bill(scenario_from_data(data), m).monthly_usd for m in range(7)]
    return str(path), bills


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_the_first_month_over_budget_and_the_exit_codes(growing, capsys):
    path, bills = growing
    budget = (bills[3] + bills[4]) / 2
    first = next(m for m, b in enumerate(bills) if b > budget)
    assert bills[0] < budget and first <= 4
    code, doc = _json(capsys, "forecast", path, "--months", "6", "--budget", f"{budget}", "--json")
    assert code == 0
    assert doc["budget"]["first_exceeded_month"] == first
    assert doc["budget"]["exceeded_monthly_usd"] == bills[first]
    assert [m["over_budget"] for m in doc["months"]] == [b > budget for b in bills]
    assert [m["monthly"] for m in doc["months"]] == bills  # the cost of record, month by month
    assert main(["forecast", path, "--months", "6", "--budget", f"{budget}", "--check-slo"]) == 3
    assert f"first exceeded in month {first}" in capsys.readouterr().out
    # before that month: not exceeded within the horizon, exit 0
    assert main(["forecast", path, "--months", str(first - 1), "--budget", f"{budget}", "--check-slo"]) == 0
    assert f"is not exceeded in months 0 to {first - 1}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--budget", "-5"], "--budget must be a sum of 0 or more"),
        (["--budget", "nan"], "--budget must be a sum of 0 or more"),
        (["--start", "2026-13"], "--start: a start month is written YYYY-MM"),
    ],
)
def test_bad_budget_or_start_is_invalid_input(argv, message, capsys):
    assert main(["forecast", CHECKOUT, "--months", "1", *argv]) == 2
    assert message in capsys.readouterr().err


def test_start_month_numbers_the_calendar(capsys):
    code, doc = _json(capsys, "forecast", CHECKOUT, "--months", "2", "--start", "2027-12", "--json")
    assert code == 0 and doc["start_month"] == "2027-12"
    assert [m["calendar_month"] for m in doc["months"]] == ["2027-12", "2028-01", "2028-02"]
    code, doc = _json(
        capsys, "forecast", CHECKOUT, "--months", "0", "--set", "workload.start_month=2030-05", "--json"
    )
    assert doc["months"][0]["calendar_month"] == "2030-05"


def test_missed_months_are_marked_and_counted(tmp_path, capsys):
    path = tmp_path / "mmc.yaml"
    path.write_text(yaml.safe_dump(mmc_scenario(8, 50.0, 100.0, p99_ms=300.0, growth=5.0)))
    code, doc = _json(capsys, "forecast", str(path), "--months", "12", "--json")
    missed = [m["month"] for m in doc["months"] if not m["slo_met"]]
    assert code == 0 and missed and doc["slo_missed_months"] == len(missed)
    assert all(m["verdict"].startswith("SLO missed: p99") for m in doc["months"] if not m["slo_met"])
    assert all(m["verdict"] is None for m in doc["months"] if m["slo_met"])
    assert main(["forecast", str(path), "--months", "12"]) == 0
    text = capsys.readouterr().out
    assert (
        f"{len(missed)} miss the SLO" in text and "the bill shown is for a system that does not cope" in text
    )
