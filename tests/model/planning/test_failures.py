"""Failure what-ifs: the right units are lost, and the outcome follows exact M/M/c numbers."""

from __future__ import annotations

import pytest

from model.planning.failures import cache_flush, db_failover, lose_read_replica, lose_zone, zone_loss_scenario
from model.scenario.reader import load_scenario, scenario_from_data
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario


def test_zone_loss_takes_the_worst_zone_of_each_node():
    s = zone_loss_scenario(load_scenario("scenarios/checkout.yaml"))
    assert s.nodes["web"].replicas == 2  # 4 pods over 3 zones: the worst zone holds 2
    assert s.nodes["db"].instances == 1  # 2 instances: one left (the primary fails over)
    assert s.nodes["cache"].nodes == 1  # never below one
    assert s.nodes["orders"].consumers == 2 and s.nodes["orders"].brokers == 2
    half = zone_loss_scenario(load_scenario("scenarios/checkout.yaml"), share=0.5)
    assert half.nodes["web"].replicas == 2


def test_zone_loss_latency_is_the_mmc_with_fewer_servers():
    scenario = scenario_from_data(mmc_scenario(9, 50, 100, p99_ms=250))
    outcome = lose_zone(scenario, method="analytic")
    assert outcome.steps[0][1].latency_ms.p99 == pytest.approx(mmc_p99_ms(6, 100, 50), rel=1e-3)
    assert not outcome.slo.met  # 6 servers: p99 306 ms > 250 ms, while 9 servers meet it
    assert scenario_from_data(mmc_scenario(9, 50, 100, p99_ms=250)).slo.p99_ms == 250


def test_read_replica_loss_and_cache_flush_load_the_database():
    s = load_scenario("scenarios/cache-db.yaml")
    replica = lose_read_replica(s, method="analytic")
    assert replica.steps[0][1].nodes["db"].utilization > 0
    flush = cache_flush(s, steps=4)
    db_util = [r.nodes["db"].utilization for _, r in flush.steps]
    assert db_util == sorted(db_util, reverse=True) and db_util[0] > 2 * db_util[-1]
    assert not flush.slo.met  # at hit ratio 0 the database gets 2 reads per request: saturated
    assert flush.steps[-1][1].slo.met


def test_db_failover_pause_causes_a_latency_spike():
    s = load_scenario("scenarios/three-tier.yaml")
    outcome = db_failover(s, pause_s=10, window_s=60, rate_rps=60, seed=1)
    during = outcome.steps[0][1]
    assert during.latency_ms.p99 > 5_000 or during.error_pct > 0  # requests wait out the pause
    assert not outcome.slo.met
