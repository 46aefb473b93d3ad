"""Planning questions of a closed workload: growth applies to users, rates are the users' throughput,
and the recommender holds the users at the SLO."""

from __future__ import annotations

import pytest

from model.planning.forecast import forecast
from model.planning.load import month_load, month_users, planning_rate, sizing_rate
from model.planning.recommend import recommend
from model.queueing.closed_network import solve_closed
from model.queueing.evaluate import evaluate
from model.scenario.reader import scenario_from_text

HOLD = """\
version: 1
name: Hold
workload: {users: 400, think_ms: 2000, growth_pct_per_month: 10}
entry: web
nodes:
  web:
    kind: service
    replicas: 2
    cpus: 2
    service_ms: 20
    instance: {provider: aws, type: m6i.large}
slo: {p99_ms: 500}
"""


def hold():
    return scenario_from_text(HOLD)


def test_users_grow_by_the_monthly_rate():
    assert [month_users(400, 10, m) for m in range(4)] == [400, 440, 484, 532]
    load = month_load(hold(), 2)
    assert load.scenario.workload.users == 484 and not load.rate_given and load.evaluate_rate is None
    assert load.rate_rps == pytest.approx(solve_closed(load.scenario).throughput_rps())


def test_planning_rate_is_the_users_throughput():
    s = hold()
    assert planning_rate(s) == pytest.approx(evaluate(s, "analytic").rate_rps)


def test_forecast_months_are_the_closed_answers_for_their_users():
    s = hold()
    f = forecast(s, 2)
    assert [m.users for m in f.months] == [400, 440, 484]
    for m in f.months:
        grown = month_load(s, m.month).scenario
        assert m.p99_ms == pytest.approx(evaluate(grown, "analytic").latency_ms.p99)
    assert f.months[0].rate_rps < f.months[2].rate_rps


def test_sizing_rate_is_what_the_users_send_at_the_target():
    assert sizing_rate(hold()) == pytest.approx(400 / (2.0 + 0.5))


def test_recommend_holds_the_users_within_the_slo():
    """400 users at 2 s think send about 200 req/s: 20 ms each needs 4+ cores; the answer's simulated
    users meet p99 500 ms and its rate is what they send on it."""
    rec = recommend(hold(), seed=3, requests=6000)
    assert rec.slo.met
    assert rec.results.closed is not None and rec.results.closed.users == 400
    assert rec.rate_rps == pytest.approx(rec.results.rate_rps)
    assert any("closed workload" in n for n in rec.notes)
