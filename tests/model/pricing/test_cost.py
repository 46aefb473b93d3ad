"""The cost model: units per node kind, 730-hour months, per-million math, autoscaled unit-hours."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from model.queueing.offered_load import offered_rps
from model.pricing.catalog import hourly_price, lookup
from model.pricing.cost import HOURS_PER_MONTH, monthly_cost, units, validate_prices
from model.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[3]


def make_scenario(pricing: dict | None = None, **node_overrides) -> Scenario:
    nodes = {
        "web": {
            "kind": "service",
            "replicas": 4,
            "service_ms": 40,
            "instance": {"provider": "aws", "type": "m6i.large"},
            "calls": [{"to": "cache"}, {"to": "orders", "mode": "async"}],
        },
        "cache": {
            "kind": "cache",
            "nodes": 1,
            "hit_ratio": 0.9,
            "miss": "db",
            "instance": {"provider": "aws", "type": "cache.r6g.large"},
        },
        "db": {
            "kind": "database",
            "read_replicas": 1,
            "read_ms": 4,
            "instance": {"provider": "aws", "type": "db.r6g.xlarge"},
        },
        "orders": {
            "kind": "kafka",
            "brokers": 3,
            "consume_ms": 20,
            "instance": {"provider": "aws", "type": "kafka.m5.large"},
        },
    }
    for name, node in node_overrides.items():
        nodes[name] = node
    return Scenario.model_validate(
        {
            "version": 1,
            "name": "t",
            "workload": {"rate_rps": 120},
            "entry": "web",
            "nodes": nodes,
            "pricing": pricing or {},
        }
    )


def test_units_per_node_kind():
    s = make_scenario()
    assert [units(s.nodes[n]) for n in ("web", "cache", "db", "orders")] == [4, 1, 2, 3]


def test_monthly_cost_by_node_and_total():
    cost = monthly_cost(make_scenario(), throughput_rps=120)
    expected = {"web": 0.096 * 4 * 730, "cache": 0.206 * 730, "db": 0.45 * 2 * 730, "orders": 0.21 * 3 * 730}
    assert cost.by_node == pytest.approx({k: round(v, 2) for k, v in expected.items()})
    assert cost.monthly == pytest.approx(280.32 + 150.38 + 657.0 + 459.9)
    assert cost.unpriced == []


def test_per_million_requests():
    cost = monthly_cost(make_scenario(), throughput_rps=120)
    millions_per_month = 120 * 3600 * 730 / 1e6  # 315.36
    assert cost.per_million_requests == pytest.approx(cost.monthly / millions_per_month)
    # Twice the throughput at the same bill halves the unit cost.
    assert monthly_cost(make_scenario(), 240).per_million_requests == pytest.approx(
        cost.per_million_requests / 2
    )


def test_zero_throughput_has_no_unit_cost():
    cost = monthly_cost(make_scenario(), 0.0)
    assert cost.per_million_requests is None and cost.monthly > 0
    assert cost.to_json()["per_million_requests"] is None
    with pytest.raises(ValueError):
        monthly_cost(make_scenario(), -1.0)


def test_to_json_is_the_contract_shape():
    out = monthly_cost(make_scenario(), 117.3).to_json()
    assert list(out) == ["currency", "monthly", "by_node", "per_million_requests"]
    assert out["currency"] == "USD"
    assert set(out["by_node"]) == {"web", "cache", "db", "orders"}
    for value in [out["monthly"], out["per_million_requests"], *out["by_node"].values()]:
        assert isinstance(value, float) and round(value, 2) == value
    assert out["monthly"] == pytest.approx(sum(out["by_node"].values()))


def test_node_without_instance_costs_nothing_and_is_listed():
    s = make_scenario(worker={"kind": "service", "replicas": 3, "service_ms": 5})
    cost = monthly_cost(s, 100)
    assert cost.by_node["worker"] == 0.0
    assert cost.unpriced == ["worker"]
    assert cost.monthly == pytest.approx(monthly_cost(make_scenario(), 100).monthly)


def test_commitment_lowers_the_bill_by_the_catalog_rates():
    od = monthly_cost(make_scenario({"commitment": "on_demand"}), 120)
    three = monthly_cost(make_scenario({"commitment": "3yr"}), 120)
    web_3yr = lookup("aws", "m6i.large", "us-east-1").hourly["3yr"]
    assert three.by_node["web"] == pytest.approx(round(web_3yr * 4 * 730, 2))
    assert three.by_node["orders"] == od.by_node["orders"]  # MSK has no reservations
    assert three.monthly < od.monthly


def test_region_changes_the_bill():
    us = monthly_cost(make_scenario({"region": "us-east-1"}), 120)
    eu = monthly_cost(make_scenario({"region": "eu-west-1"}), 120)
    assert eu.by_node["web"] == pytest.approx(round(0.107 * 4 * 730, 2))
    assert eu.monthly > us.monthly


def test_unit_hours_follow_the_autoscaled_day():
    s = make_scenario()
    fixed = monthly_cost(s, 120)
    scaled = monthly_cost(s, 120, unit_hours_by_node={"web": 2.5})
    assert scaled.by_node["web"] == pytest.approx(round(0.096 * 2.5 * 730, 2))
    assert scaled.nodes["web"].mean_units == 2.5
    assert {k: v for k, v in scaled.by_node.items() if k != "web"} == {
        k: v for k, v in fixed.by_node.items() if k != "web"
    }
    with pytest.raises(ValueError, match="ghost"):
        monthly_cost(s, 120, unit_hours_by_node={"ghost": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        monthly_cost(s, 120, unit_hours_by_node={"web": -1.0})


def test_pod_priced_service():
    s = make_scenario(
        web={
            "kind": "service",
            "replicas": 10,
            "service_ms": 40,
            "instance": {"vcpu": 0.5, "memory_gib": 1},
            "calls": [{"to": "cache"}],
        }
    )
    cost = monthly_cost(s, 120)
    assert cost.by_node["web"] == pytest.approx(round((0.5 * 0.04048 + 0.004445) * 10 * 730, 2))
    gcp = monthly_cost(
        make_scenario(
            {"provider": "gcp", "region": "us-central1"},
            web=s.nodes["web"].model_dump(exclude_none=True),
            cache={
                "kind": "cache",
                "hit_ratio": 0.9,
                "miss": "db",
                "instance": {"provider": "gcp", "type": "redis-standard-5gb"},
            },
        ),
        120,
    )
    assert gcp.by_node["web"] == pytest.approx(round((0.5 * 0.0445 + 0.0049225) * 10 * 730, 2))


def test_node_provider_overrides_pricing_provider():
    s = make_scenario(
        cache={
            "kind": "cache",
            "hit_ratio": 0.9,
            "miss": "db",
            "instance": {"provider": "gcp", "type": "redis-standard-5gb"},
        }
    )
    cost = monthly_cost(s, 120)
    assert cost.by_node["cache"] == pytest.approx(
        round(lookup("gcp", "redis-standard-5gb", "us-central1").hourly["on_demand"] * 730, 2)
    )
    assert cost.by_node["web"] == pytest.approx(round(0.096 * 4 * 730, 2))


def test_validate_prices_points_at_the_key():
    bad = make_scenario(
        db={"kind": "database", "read_ms": 4, "instance": {"provider": "aws", "type": "db.r6g.xlarg"}}
    )
    problems = validate_prices(bad)
    assert len(problems) == 1
    path, message = problems[0]
    assert path == ("nodes", "db", "instance", "type")
    assert "db.r6g.xlarge" in message
    assert validate_prices(make_scenario()) == []


def test_validate_prices_refuses_an_unknown_region():
    problems = validate_prices(make_scenario({"region": "us-west-2"}))
    assert problems and problems[0][0] == ("pricing", "region")
    assert "us-east-1" in problems[0][1]


SCENARIOS = sorted(
    p for p in (ROOT / "scenarios").glob("*.yaml") if not p.name.startswith("fit")
)  # fit-*.yaml are fit files


def test_there_are_example_scenarios():
    assert SCENARIOS, "scenarios/*.yaml is empty"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
@pytest.mark.parametrize("commitment", ["on_demand", "1yr", "3yr"])
def test_every_example_scenario_prices(path, commitment):
    raw = yaml.safe_load(path.read_text())
    raw.setdefault("pricing", {})["commitment"] = commitment
    scenario = Scenario.model_validate(raw)
    assert validate_prices(scenario) == []
    cost = monthly_cost(scenario, offered_rps(scenario))  # a closed workload: its users' throughput
    assert cost.monthly > 0 and cost.per_million_requests > 0
    for name, node in scenario.nodes.items():
        if node.instance is not None:
            expected = hourly_price(node.instance, scenario.pricing) * units(node) * HOURS_PER_MONTH
            assert cost.by_node[name] == pytest.approx(round(expected, 2)) and expected > 0
