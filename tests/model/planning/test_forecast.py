"""Forecast: compound growth, runway month known exactly from Erlang C, the band, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cli import main
from model.planning.forecast import forecast, runway
from model.scenario.reader import load_scenario, scenario_from_data
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario

C, SERVICE_MS, RATE, GROWTH, TARGET = 8, 50.0, 100.0, 5.0, 300.0
ROOT = Path(__file__).resolve().parents[3]


def expected_runway() -> int:
    for m in range(40):
        rate = RATE * (1 + GROWTH / 100) ** m
        p99 = mmc_p99_ms(C, rate, SERVICE_MS)
        if p99 > TARGET:
            previous = mmc_p99_ms(C, RATE * (1 + GROWTH / 100) ** (m - 1), SERVICE_MS)
            assert p99 > 1.02 * TARGET and previous < 0.98 * TARGET  # not borderline
            return m
    raise AssertionError("no runway within 40 months")


def test_runway_month_matches_erlang_c():
    scenario = scenario_from_data(mmc_scenario(C, SERVICE_MS, RATE, p99_ms=TARGET, growth=GROWTH))
    result = forecast(scenario, months=12)
    runway = expected_runway()
    assert result.runway_months == runway
    assert [m.slo_met for m in result.months] == [m < runway for m in range(13)]
    for m in result.months:
        assert m.rate_rps == pytest.approx(RATE * 1.05**m.month)
        assert m.p99_ms == pytest.approx(
            mmc_p99_ms(C, m.rate_rps, SERVICE_MS), rel=1e-3
        ) or not math.isfinite(m.p99_ms)
    assert result.fails_first == "web"


def test_no_growth_means_no_runway_and_the_band_brackets_the_forecast():
    flat = forecast(scenario_from_data(mmc_scenario(C, SERVICE_MS, RATE, p99_ms=TARGET)), months=6)
    assert flat.runway_months is None and len(flat.months) == 7
    banded = forecast(
        scenario_from_data(mmc_scenario(C, SERVICE_MS, RATE, p99_ms=TARGET, growth=GROWTH)),
        months=4,
        growth_sd_pct=1.0,
    )
    for m in banded.months[1:]:
        assert m.low[0] < m.rate_rps < m.high[0]
        assert m.low[2] <= m.p99_ms <= m.high[2]
    assert "band" in banded.to_json()["months"][1]


def test_forecast_cli_json_and_exit_codes(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(mmc_scenario(C, SERVICE_MS, RATE, p99_ms=TARGET, growth=GROWTH)))
    assert main(["forecast", str(path), "--months", "3", "--json", "--check-slo"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runway_months"] is None and [m["month"] for m in out["months"]] == [0, 1, 2, 3]
    assert {"month", "rate_rps", "monthly", "latency_ms", "slo_met"} <= set(out["months"][0])
    assert main(["forecast", str(path), "--months", "12", "--json", "--check-slo"]) == 3
    assert json.loads(capsys.readouterr().out)["runway_months"] == expected_runway()


def test_runway_is_the_forecasts_without_its_bill():
    """The Overview and Cost show `runway`; it must be `forecast(...)`'s runway and bottleneck."""
    cases = [
        ("checkout", []),
        ("checkout", ["workload.growth_pct_per_month=20"]),
        ("checkout", ["workload.rate_rps=400"]),
        ("checkout", ["nodes.web.autoscale.max=5", "workload.growth_pct_per_month=15"]),
        ("checkout", ["nodes.web.replicas=1", "nodes.web.autoscale=null"]),
        ("three-tier", []),
        ("cache-db", []),
        ("kafka-consumers", []),
    ]
    seen = set()
    for name, changes in cases:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", changes)
        expected = forecast(scenario, scenario.workload.horizon_months).to_json()
        got = runway(scenario, scenario.workload.horizon_months)
        assert got == (expected["runway_months"], expected["bottleneck"]), (name, changes)
        seen.add(got[0])
    assert None in seen and 0 in seen and len(seen) >= 4  # met all along, missed today, and missed later


def _scenario_files() -> list[Path]:
    """Every scenario in scenarios/ (fit files there are not scenarios and are refused)."""
    from model.scenario.reader import ScenarioError

    found = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        try:
            load_scenario(path)
        except ScenarioError:
            continue
        found.append(path)
    assert len(found) >= 4
    return found


VARIANTS = {
    "as written": [],
    "fast growth": ["workload.growth_pct_per_month=25"],
    "shrinking": ["workload.growth_pct_per_month=-5"],
    "tiny load": ["workload.rate_rps=1"],
    "heavy load": ["workload.rate_rps=2000"],
    "no SLO": ["slo.p50_ms=null", "slo.p95_ms=null", "slo.p99_ms=null", "slo.max_error_pct=null"],
    "errors only": [
        "slo.p50_ms=null",
        "slo.p95_ms=null",
        "slo.p99_ms=null",
        "workload.growth_pct_per_month=30",
    ],
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.stem)
def test_runway_is_the_forecasts_on_every_scenario(path, variant):
    """The fast runway (what `diff`, Overview and Cost show) against the forecast solved month by month."""
    changes = VARIANTS[variant]
    if load_scenario(path).workload.closed:  # a closed workload: its load is its users
        changes = [c.replace("workload.rate_rps=1", "workload.users=1") for c in changes]
        changes = [c.replace("workload.rate_rps=2000", "workload.users=2000") for c in changes]
    scenario = load_scenario(path, changes)
    months = scenario.workload.horizon_months
    expected = forecast(scenario, months).to_json()
    assert runway(scenario, months) == (expected["runway_months"], expected["bottleneck"])


def test_runway_is_the_forecasts_for_the_benchmarks_ten_node_scenarios(tmp_path):
    import yaml

    from benchmarks.diff import ten_nodes

    for args in ((4, 2, 8), (3, 1, 12), (2, 1, 30)):
        for growth in (5, 20):
            data = ten_nodes(*args)
            data["workload"]["growth_pct_per_month"] = growth
            scenario = scenario_from_data(yaml.safe_load(yaml.safe_dump(data)), "ten-node.yaml")
            expected = forecast(scenario, 12).to_json()
            assert runway(scenario, 12) == (expected["runway_months"], expected["bottleneck"]), (args, growth)
