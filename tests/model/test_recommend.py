"""The recommender against optima derived here from Erlang C, and against its own simulator."""

from __future__ import annotations

import json

import pytest

from cli import main
from model.loading import scenario_from_data
from model.recommend import recommend
from model.run import evaluate
from model.sweep import scenario_data, with_changes
from tests.model.planning_helpers import mmc_p99_ms, mmc_scenario

RATE, SERVICE_MS = 100.0, 50.0


def optimum() -> tuple[int, float]:
    """A p99 target with a clear optimum: the fewest servers c* whose exact p99 is >=10% inside it."""
    p99 = {c: mmc_p99_ms(c, RATE, SERVICE_MS) for c in range(6, 12)}
    target = 270.0
    best = min(c for c, v in p99.items() if v <= target)
    assert p99[best] <= 0.92 * target and p99[best - 1] >= 1.1 * target   # the case is not borderline
    return best, target


def test_finds_the_fewest_mmc_servers_meeting_a_p99():
    best, target = optimum()
    scenario = scenario_from_data(mmc_scenario(12, SERVICE_MS, RATE, p99_ms=target))
    rec = recommend(scenario, seed=3)
    assert rec.changes == {"nodes.web.replicas": best}
    assert rec.slo.met
    assert rec.monthly < rec.baseline_monthly
    assert rec.monthly == pytest.approx(rec.baseline_monthly * best / 12, rel=0.01)


def test_month_n_load_needs_more_servers():
    # 10% growth for 5 months: 161 req/s; the optimum is recomputed at that rate.
    rate5 = RATE * 1.1 ** 5
    p99 = {c: mmc_p99_ms(c, rate5, SERVICE_MS) for c in range(9, 16)}
    target = 270.0
    best = min(c for c, v in p99.items() if v <= target)
    assert p99[best - 1] > 1.05 * target
    scenario = scenario_from_data(mmc_scenario(20, SERVICE_MS, RATE, p99_ms=target, growth=10))
    rec = recommend(scenario, months=5, seed=4)
    assert rec.changes == {"nodes.web.replicas": best}
    assert rec.rate_rps == pytest.approx(rate5)


def test_never_recommends_a_setup_whose_simulation_fails():
    """A tight SLO where the formulas' pick is marginal: whatever is recommended must simulate as met."""
    scenario = scenario_from_data({**mmc_scenario(10, 20, 300, p99_ms=220),
                                   "nodes": {"web": {"kind": "service", "replicas": 10, "service_ms": 20,
                                                     "service_cv": 1.5, "instance": {"vcpu": 1, "memory_gib": 2}}}})
    rec = recommend(scenario, seed=5)
    assert rec.slo.met and rec.results.slo.met
    recommended = with_changes(scenario_data(scenario), rec.changes)
    for seed in (11, 12):
        assert evaluate(recommended, "sim", seed=seed, requests=20_000).slo.met


def test_right_sizes_instance_types_down_within_the_family():
    data = mmc_scenario(4, 20, 50, p99_ms=300)
    data["nodes"]["web"]["instance"] = {"provider": "aws", "type": "m6i.4xlarge"}
    rec = recommend(scenario_from_data(data), seed=1)
    assert rec.slo.met and rec.monthly < rec.baseline_monthly / 4
    new_type = rec.changes.get("nodes.web.instance.type", "m6i.4xlarge")
    assert new_type.startswith("m6i.")


def test_recommend_cli_json_and_exit_codes(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(mmc_scenario(3, 50, RATE, p99_ms=270)))
    assert main(["recommend", str(path), "--json", "--seed", "1", "--check-slo"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"changes", "monthly", "baseline_monthly", "latency_ms", "slo"} <= set(out)
    assert set(out["latency_ms"]) >= {"p95", "p99"} and set(out["slo"]) == {"met", "violations"}
    assert out["slo"]["met"] is True
    # An SLO no configuration can meet (the service alone takes longer): exit 3.
    path.write_text(json.dumps(mmc_scenario(3, 50, RATE, p99_ms=100)))
    assert main(["recommend", str(path), "--json", "--seed", "1", "--check-slo"]) == 3
    assert json.loads(capsys.readouterr().out)["slo"]["met"] is False
