"""How many users: the most within the SLO (checked one user either side), the bounds, the curve."""

from __future__ import annotations

import pytest

from model.planning.users import max_users, users_curve
from model.queueing.analytic.closed import analyse_closed
from model.scenario.reader import scenario_from_text

SHOP = """\
version: 1
name: Shop
workload: {{users: {users}, think_ms: 2000}}
entry: web
nodes:
  web:
    kind: service
    replicas: 2
    cpus: 2
    service_ms: 40
    calls: [{{to: db, visits: 2}}]
  db: {{kind: database, cpus: 4, read_ms: 8}}
{slo}
"""


def shop(users: int = 300, slo: str = "slo: {p99_ms: 1000}"):
    return scenario_from_text(SHOP.format(users=users, slo=slo))


def test_the_answer_meets_the_slo_and_one_more_user_does_not():
    answer = max_users(shop())
    n = answer.max_users
    assert n is not None and 1 < n < 300
    assert analyse_closed(shop(n)).results.slo.met
    assert not analyse_closed(shop(n + 1)).results.slo.met
    assert answer.at_max.latency_ms.p99 <= 1000.0
    assert not answer.slo_met and not answer.capped  # the workload's 300 users are too many


def test_bounds_and_knee():
    """D = 40 + 2 x 8 = 56 ms, web's D_max per core 40 / 4 = 10 ms: N* = (56 + 2000) / 10."""
    answer = max_users(shop())
    assert answer.bottleneck == "web"
    assert answer.demand_ms == pytest.approx(56.0)
    assert answer.bottleneck_demand_ms == pytest.approx(10.0)
    assert answer.knee_users == pytest.approx(205.6)
    assert answer.max_throughput_rps == pytest.approx(100.0)


def test_the_curve_never_beats_its_bounds():
    for p in users_curve(shop(), 400, 12):
        assert p.throughput_rps <= min(p.users / 2.056, 100.0) * (1 + 1e-9)
        assert p.mean_ms >= 56.0 - 1e-9


def test_without_a_latency_target_every_count_meets_it():
    answer = max_users(shop(slo=""))
    assert answer.max_users is None and not answer.has_slo and answer.slo_met
    assert "every user count meets it" in answer.to_text()


def test_a_target_below_the_work_of_one_request_holds_no_user():
    answer = max_users(shop(slo="slo: {p99_ms: 5}"))
    assert answer.max_users is None and answer.has_slo
    assert "Not even one user" in answer.to_text()


def test_an_open_workload_is_refused():
    open_shop = scenario_from_text(
        SHOP.format(users=1, slo="").replace("{users: 1, think_ms: 2000}", "{rate_rps: 5}")
    )
    with pytest.raises(ValueError, match="closed workload"):
        max_users(open_shop)
