"""Types the catalog does not list: simulated all the same, priced from their family's sizes
(an estimate, said so everywhere) or unknown (null, left out of the total, said so)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from model.pricing.catalog import Catalog, load_catalog
from model.pricing.cost import monthly_cost, validate_prices
from model.scenario.reader import ScenarioError, load_scenario, scenario_from_text
from model.pricing.estimate import estimate, parse_size
from model.planning.report import results_text
from model.queueing.evaluate import evaluate
from model.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[3]
CHECKOUT = ROOT / "scenarios" / "checkout.yaml"


def _without(catalog: Catalog, type_: str) -> Catalog:
    return replace(catalog, rows={k: v for k, v in catalog.rows.items() if k[1] != type_})


def test_a_missing_small_size_is_its_family_scaled():
    """cache.t4g.small is listed now; without its row it is half a cache.t4g.medium."""
    catalog = _without(load_catalog(), "cache.t4g.small")
    guess = estimate(catalog, "aws", "cache.t4g.small", "us-east-1")
    assert guess.from_types == ("cache.t4g.micro", "cache.t4g.medium")  # one size below, one above
    assert guess.factors == (2.0, 0.5)
    assert guess.hourly["on_demand"] == pytest.approx((0.016 * 2 + 0.065 * 0.5) / 2)
    assert guess.hourly["on_demand"] == pytest.approx(0.032, rel=0.01)  # its list price
    for commitment in ("1yr", "3yr"):
        assert 0 < guess.hourly[commitment] < guess.hourly["on_demand"]


@pytest.mark.parametrize(
    "type_, region, listed",
    [
        ("cache.m6g.2xlarge", "us-east-1", 0.596),  # published list prices of types the catalog lacks
        ("m6i.8xlarge", "us-east-1", 1.536),
        ("t3.nano", "us-east-1", 0.0052),
        ("e2-standard-16", "us-central1", 0.536048),
    ],
)
def test_estimates_of_real_types_are_close_to_their_list_price(type_, region, listed):
    provider = "gcp" if region == "us-central1" else "aws"
    assert estimate(load_catalog(), provider, type_, region).hourly["on_demand"] == pytest.approx(
        listed, rel=0.02
    )


def test_names_are_read_per_provider_scheme():
    assert parse_size("db.t3.micro").family == "db.t3" and parse_size("db.t3.micro").units == 1 / 8
    assert parse_size("aurora.db.r6g.12xlarge").units == 24
    assert parse_size("n2-highmem-8").family == "n2-highmem" and parse_size("n2-highmem-8").units == 8
    assert parse_size("redis-basic-10gb").units == 10
    assert parse_size("db-custom-2-13312").memory_units == 13312
    assert parse_size("whatever") is None


def _checkout(**sets: str):
    return load_scenario(CHECKOUT, [f"{k}={v}" for k, v in sets.items()])


def test_cache_type_not_listed_simulates_and_is_priced_as_an_estimate():
    listed = evaluate(_checkout(), "analytic")
    scenario = _checkout(**{"nodes.cache.instance.type": "cache.m6g.2xlarge"})
    result = evaluate(scenario, "analytic")
    assert (
        result.latency_ms == listed.latency_ms and result.nodes == listed.nodes
    )  # latency never waits on prices
    cost = result.cost.to_json()
    assert cost["by_node"]["cache"] == round(0.596 * 730, 2)
    assert cost["estimated"] == {
        "cache": {"type": "cache.m6g.2xlarge", "from": ["cache.m6g.xlarge"], "scale": [2.0], "hourly": 0.596}
    }
    assert "unknown" not in cost
    assert cost["monthly"] == pytest.approx(sum(cost["by_node"].values()), abs=0.011)
    text = results_text(result, {n: node.kind for n, node in scenario.nodes.items()})
    assert "cache $435.08 (estimated)" in text and "estimated from cache.m6g.xlarge x2" in text


def test_unknown_family_costs_null_and_the_total_says_it_excludes_it():
    scenario = _checkout(**{"nodes.cache.instance.type": "cache.x9q.large"})
    result = evaluate(scenario, "analytic")
    cost = result.cost.to_json()
    assert cost["by_node"]["cache"] is None and cost["unknown"] == ["cache"] and "estimated" not in cost
    assert cost["monthly"] == pytest.approx(
        sum(v for v in cost["by_node"].values() if v is not None), abs=0.011
    )
    text = results_text(result, {n: node.kind for n, node in scenario.nodes.items()})
    assert (
        "cache unknown" in text
        and "excludes cache (price unknown: unknown aws instance type 'cache.x9q.large'" in text
    )


def test_a_fully_listed_bill_keeps_the_contract_shape():
    assert list(evaluate(_checkout(), "analytic").cost.to_json()) == [
        "currency",
        "monthly",
        "by_node",
        "per_million_requests",
    ]


def test_service_without_cpus_still_needs_a_listed_type():
    text = CHECKOUT.read_text().replace("    cpus: 2\n", "", 1).replace("type: m6i.large", "type: m6i.larg")
    with pytest.raises(ScenarioError) as err:
        scenario_from_text(text, "checkout.yaml")
    message = str(err.value)
    assert "nodes.web.instance.type" in message and "(line 25)" in message
    assert "closest known: m6i.large" in message and "cpus" in message
    # the same type with cpus given is accepted, and priced as an estimate
    fine = scenario_from_text(
        CHECKOUT.read_text().replace("type: m6i.large", "type: m6i.8xlarge"), "checkout.yaml"
    )
    assert monthly_cost(fine, 120).estimated["web"].from_types == ("m6i.4xlarge",)


def test_strict_prices_refuses_what_would_be_estimated_or_unknown():
    text = CHECKOUT.read_text().replace("type: cache.r6g.large", "type: cache.m6g.2xlarge")
    assert scenario_from_text(text, "checkout.yaml")  # accepted without strict
    with pytest.raises(ScenarioError) as err:
        scenario_from_text(text, "checkout.yaml", strict_prices=True)
    assert "checkout.yaml: nodes.cache.instance.type (line 44)" in str(
        err.value
    ) and "--strict-prices" in str(err.value)
    assert validate_prices(Scenario.model_validate(_checkout().model_dump()), strict=True) == []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_cli_estimate_unknown_and_strict_prices(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        CHECKOUT.read_text()
        .replace("type: cache.r6g.large", "type: cache.m6g.2xlarge")
        .replace("type: kafka.m5.large", "type: kafka.q1.large")
    )
    out = _cli("simulate", str(path), "--method", "analytic", "--json")
    assert out.returncode == 0, out.stderr
    cost = json.loads(out.stdout)["cost"]
    assert cost["estimated"]["cache"]["from"] == ["cache.m6g.xlarge"] and cost["unknown"] == ["orders"]
    assert cost["by_node"]["orders"] is None
    for command in (["simulate", "--method", "analytic"], ["forecast", "--months", "1"], ["recommend"]):
        out = _cli(command[0], str(path), *command[1:], "--strict-prices")
        assert out.returncode == 2, (command, out.stdout, out.stderr)
        assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
        assert f"{path}: nodes.cache.instance.type (line 44)" in out.stderr and "closest known" in out.stderr
    assert _cli("simulate", str(CHECKOUT), "--method", "analytic", "--strict-prices").returncode == 0


def test_cli_no_cpus_and_an_unlisted_type_exits_2_with_suggestions(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        (ROOT / "scenarios" / "three-tier.yaml")
        .read_text()
        .replace("type: db.r6g.xlarge", "type: db.r6g.xlrge")
    )
    out = _cli("simulate", str(path), "--method", "analytic")
    assert out.returncode == 2 and out.stdout == ""
    assert (
        f"{path}: nodes.db.instance.type (line 35)" in out.stderr
        and "closest known: db.r6g.xlarge" in out.stderr
    )
