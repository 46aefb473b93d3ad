"""The recommender against optima derived here from Erlang C, and against its own simulator."""

from __future__ import annotations

import itertools
import json

import pytest

from cli import main
from model.scenario.reader import scenario_from_data
from model.planning.recommend import recommend
from model.queueing.evaluate import evaluate
from model.planning.sweep import scenario_data, with_changes
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario

RATE, SERVICE_MS = 100.0, 50.0
# The SLO alone: these tests check the search against Erlang C's optimum for the SLO; the headroom
# and zone-loss rules on top are checked against their own optima in test_risk.py.
SLO_ONLY = {"headroom_pct": 100, "zone_loss": False}


def optimum() -> tuple[int, float]:
    """A p99 target with a clear optimum: the fewest servers c* whose exact p99 is >=10% inside it."""
    p99 = {c: mmc_p99_ms(c, RATE, SERVICE_MS) for c in range(6, 12)}
    target = 270.0
    best = min(c for c, v in p99.items() if v <= target)
    assert p99[best] <= 0.92 * target and p99[best - 1] >= 1.1 * target  # the case is not borderline
    return best, target


def test_finds_the_fewest_mmc_servers_meeting_a_p99():
    best, target = optimum()
    scenario = scenario_from_data(mmc_scenario(12, SERVICE_MS, RATE, p99_ms=target))
    rec = recommend(scenario, seed=3, **SLO_ONLY)
    assert rec.changes == {"nodes.web.replicas": best}
    assert rec.slo.met
    assert rec.monthly < rec.baseline_monthly
    assert rec.monthly == pytest.approx(rec.baseline_monthly * best / 12, rel=0.01)


def test_month_n_load_needs_more_servers():
    # 10% growth for 5 months: 161 req/s; the optimum is recomputed at that rate.
    rate5 = RATE * 1.1**5
    p99 = {c: mmc_p99_ms(c, rate5, SERVICE_MS) for c in range(9, 16)}
    target = 270.0
    best = min(c for c, v in p99.items() if v <= target)
    assert p99[best - 1] > 1.05 * target
    scenario = scenario_from_data(mmc_scenario(20, SERVICE_MS, RATE, p99_ms=target, growth=10))
    rec = recommend(scenario, months=5, seed=4, **SLO_ONLY)
    assert rec.changes == {"nodes.web.replicas": best}
    assert rec.rate_rps == pytest.approx(rate5)


def test_never_recommends_a_setup_whose_simulation_fails():
    """A tight SLO where the formulas' pick is marginal: whatever is recommended must simulate as met."""
    scenario = scenario_from_data(
        {
            **mmc_scenario(10, 20, 300, p99_ms=220),
            "nodes": {
                "web": {
                    "kind": "service",
                    "replicas": 10,
                    "service_ms": 20,
                    "service_cv": 1.5,
                    "instance": {"vcpu": 1, "memory_gib": 2},
                }
            },
        }
    )
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


CURVE = {13.07: 0.5, 26.14: 0.8, 52.28: 0.95}  # GiB -> hit ratio: two r6g.large shards hold the hot set


def cache_db(curve: dict[float, float]) -> dict:
    """400 lookups/s; every miss is a 20 ms read on a 2-core database: memory and replicas trade off."""
    return {
        "version": 1,
        "name": "cache sizing",
        "workload": {"rate_rps": 400.0},
        "entry": "cache",
        "nodes": {
            "cache": {
                "kind": "cache",
                "nodes": 1,
                "cpus": 1,
                "hit_ms": 0.5,
                "hit_ratio": 0.5,
                "miss": "db",
                "hit_ratio_by_memory_gib": curve,
                "instance": {"provider": "aws", "type": "cache.r6g.large"},
            },
            "db": {
                "kind": "database",
                "read_replicas": 3,
                "read_ms": 20,
                "instance": {"provider": "aws", "type": "db.r6g.large"},
            },
        },
        "slo": {"p99_ms": 120.0},
        "pricing": {"provider": "aws", "region": "us-east-1"},
    }


def test_sizes_cache_memory_by_its_hit_ratio_curve_against_an_exhaustive_search():
    data = cache_db(CURVE)
    scenario = scenario_from_data(data)
    memory = {"cache.r6g.large": 13.07, "cache.r6g.xlarge": 26.32}
    best = None
    for cache_type, nodes, replicas in itertools.product(memory, range(1, 5), range(0, 5)):
        hit = scenario.nodes["cache"].hit_ratio_at(memory[cache_type] * nodes)
        changes = {
            "nodes.cache.instance.type": cache_type,
            "nodes.cache.nodes": nodes,
            "nodes.cache.hit_ratio": hit,
            "nodes.db.read_replicas": replicas,
        }
        r = evaluate(with_changes(data, changes), "analytic")
        if r.slo.met and (best is None or r.cost.monthly < best[0]):
            best = (r.cost.monthly, changes)
    rec = recommend(scenario, seed=2)
    assert rec.monthly == pytest.approx(best[0], rel=1e-6), (rec.changes, best)
    # more memory (three shards, hit ratio 89%) instead of the three read replicas it has today
    assert rec.changes["nodes.cache.nodes"] == best[1]["nodes.cache.nodes"] > 1
    assert rec.changes["nodes.cache.hit_ratio"] == pytest.approx(best[1]["nodes.cache.hit_ratio"], abs=1e-4)
    assert rec.changes["nodes.db.read_replicas"] < 3 and rec.monthly < rec.baseline_monthly
    assert evaluate(with_changes(data, rec.changes), "sim", seed=7, requests=20_000).slo.met
    assert not rec.notes  # hit_ratio 0.5 is what the curve says at today's 13.07 GiB


def test_a_curve_that_disagrees_with_the_written_hit_ratio_is_noted():
    data = cache_db(CURVE)
    data["nodes"]["cache"]["hit_ratio"] = 0.6
    rec = recommend(scenario_from_data(data), seed=2)
    assert any("gives 50.0% at today's 13.1 GiB, the scenario says 60.0%" in n for n in rec.notes), rec.notes


def test_a_flat_curve_buys_no_memory():
    rec = recommend(scenario_from_data(cache_db({13.07: 0.5, 52.28: 0.5})), seed=2)
    assert rec.slo.met
    assert not any(k.startswith("nodes.cache.") for k in rec.changes), rec.changes


def test_when_no_size_can_hold_the_writes_it_says_so_and_prices_today_as_forecast_does():
    """Writes alone saturate the primary (read replicas cannot help), and the web tier autoscales:
    the answer names the database and prices today's setup by its HPA day, as every other path."""
    from model.planning.forecast import forecast

    data = mmc_scenario(4, 20, 100, p99_ms=500, autoscale={"target_cpu_pct": 60, "min": 2, "max": 12})
    data["nodes"]["web"]["calls"] = [{"to": "db", "op": "write"}]
    data["nodes"]["db"] = {
        "kind": "database",
        "cpus": 1,
        "read_ms": 5,
        "write_ms": 12,
        "instance": {"provider": "aws", "type": "db.r6g.large"},
    }
    scenario = scenario_from_data(data)
    rec = recommend(scenario, seed=1, requests=5_000)
    assert not rec.slo.met and "no stable size found for db" in rec.slo.violations[0]
    assert rec.changes == {}
    assert rec.baseline_monthly == pytest.approx(forecast(scenario, 0).months[0].monthly, rel=1e-9)
    assert rec.baseline_monthly < evaluate(scenario, "analytic").cost.monthly  # not the 4 static replicas
