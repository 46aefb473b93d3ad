"""A closed workload's verdict is asked of its users (the closed solve the pages show), and its HPA
settles where the users' throughput puts it, not at an open rate's replicas."""

from __future__ import annotations

from pathlib import Path

from model.planning.autoscale import hpa_replicas_at
from model.planning.holding import BREAKS, HOLDS, WITH_AUTOSCALING, holding
from model.queueing.evaluate import evaluate
from model.scenario.reader import load_scenario

USERS = Path(__file__).resolve().parents[3] / "scenarios" / "checkout-users.yaml"


def _users(n: int, *overrides: str):
    return load_scenario(USERS, list(overrides), users=n)


def test_150_users_hold_below_the_knee_on_the_numbers_the_pages_show():
    scenario = _users(150)
    h = holding(scenario)
    shown = evaluate(scenario, "analytic")  # What-if's and Overview's numbers
    assert h.closed and h.verdict == HOLDS
    assert h.fixed.latency_ms == shown.latency_ms and h.rate_rps == shown.rate_rps
    assert h.replicas == {"web": (4, 4, 10)}
    text = h.sentence()
    assert text.startswith("Holds: the SLO is met at 150 users thinking 1,000.0 ms with the replicas as set")
    assert f"below the knee N* = {shown.closed.knee_users:,.0f} users" in text


def test_past_the_knee_the_hpa_settles_where_the_users_send():
    """300 users on 4 replicas: web runs flat out (200 req/s, 8 cores x 1 / 40 ms). An open rate of
    200 req/s would have the HPA stop at 6 pods; but on 6 the same users send ~287 req/s, web 96%
    busy, and the HPA adds more until its recommendation at what they send is what it runs: 8."""
    scenario = _users(300)
    h = holding(scenario)
    assert h.verdict == WITH_AUTOSCALING and h.fixed.saturated == ["web"]
    assert h.replicas["web"] == (4, 8, 10)
    assert hpa_replicas_at(scenario, "web", h.autoscaled.rate_rps) == 8  # settled
    assert hpa_replicas_at(scenario, "web", h.fixed.rate_rps) == 6  # where an open rate stops
    on_six = evaluate(_users(300, "nodes.web.replicas=6"), "analytic")
    assert on_six.rate_rps > 1.4 * h.fixed.rate_rps and hpa_replicas_at(scenario, "web", on_six.rate_rps) == 8
    assert h.autoscaled.slo.met and h.autoscaled.closed.users == 300
    text = h.sentence()
    assert text.startswith("Holds only with autoscaling: with the replicas as set, web is busy 99% or more")
    assert f"past the knee N* = {h.fixed.closed.knee_users:,.0f} users" in text
    assert "the HPA would scale web from 4 to 8 replicas and meet the SLO" in text
    assert "cannot keep up" not in text and "req/s;" not in text  # no open rate's story


def test_beyond_the_hpa_max_the_users_break_it():
    h = holding(_users(600))
    assert h.verdict == BREAKS and h.replicas["web"] == (4, 10, 10)
    assert "even with web at its max of 10 replicas the SLO is missed" in h.sentence()


def test_without_an_hpa_past_the_knee_breaks():
    h = holding(_users(300, "nodes.web.autoscale=null"))
    assert h.verdict == BREAKS and h.autoscaled is None
    assert h.sentence().startswith("Breaks: web is busy 99% or more: 300 users thinking 1,000.0 ms are past")


def test_an_explicit_rate_is_an_open_load_as_in_evaluate():
    h = holding(_users(150), 100.0)
    assert not h.closed and h.rate_rps == 100.0 and "at 100 req/s" in h.sentence()
