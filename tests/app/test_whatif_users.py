"""What-if with concurrent users: switch the load to users, read the users panel, and back."""

from __future__ import annotations

from model.planning.report import ms
from model.planning.users import max_users
from model.queueing.evaluate import evaluate
from model.scenario.reader import load_scenario
from streamlit_ui.users_controls import CLOSED, OPEN
from tests.app.apptools import ROOT, app, metric, no_errors

USERS = ROOT / "scenarios" / "checkout-users.yaml"
CHECKOUT = ROOT / "scenarios" / "checkout.yaml"


def _off_sim(at):
    at.toggle(key="wi-auto-sim").set_value(False).run()
    return at


def test_a_closed_scenario_shows_its_users_and_the_knee():
    at = _off_sim(app("whatif", params={"scenario": "checkout-users"}))
    no_errors(at)
    scenario = load_scenario(USERS)
    answer = max_users(scenario)
    assert metric(at, "Users in SLO") == f"{answer.max_users:,}"
    assert metric(at, "Knee N*") == f"{answer.knee_users:,.0f}"
    assert metric(at, "p99 latency") == ms(evaluate(scenario, "analytic").latency_ms.p99)
    assert at.slider(key="wi:workload.users").value == 150
    assert "Users against throughput and latency" in [h.value for h in at.subheader]


def test_fewer_users_lower_p99():
    at = _off_sim(app("whatif", params={"scenario": "checkout-users"}))
    at.slider(key="wi:workload.users").set_value(100).run()
    no_errors(at)
    expected = evaluate(load_scenario(USERS, users=100), "analytic")
    assert metric(at, "p99 latency") == ms(expected.latency_ms.p99)


def test_switching_an_open_scenario_to_users_and_back():
    at = _off_sim(app("whatif", params={"scenario": "checkout"}))
    at.radio(key="wi:workload.kind").set_value(CLOSED).run()
    no_errors(at)
    users = at.slider(key="wi:workload.users").value
    assert users > 1
    assert float(metric(at, "Knee N*").replace(",", "")) > 0
    closed = load_scenario(CHECKOUT, users=users, overrides=["workload.think_ms=1000"])
    assert metric(at, "p99 latency") == ms(evaluate(closed, "analytic").latency_ms.p99)
    at.radio(key="wi:workload.kind").set_value(OPEN).run()
    no_errors(at)
    assert at.slider(key="wi:workload.rate_rps").value == 120
    assert metric(at, "p99 latency") == ms(evaluate(load_scenario(CHECKOUT), "analytic").latency_ms.p99)


def test_a_ramp_runs_in_the_pool_and_shows_each_step():
    at = _off_sim(app("whatif", params={"scenario": "checkout-users"}))
    at.number_input(key="ramp-from").set_value(50)
    at.number_input(key="ramp-to").set_value(300)
    at.number_input(key="ramp-steps").set_value(3)
    at.number_input(key="ramp-step-s").set_value(10).run()
    at.button(key="ramp-go").click().run()
    no_errors(at)
    table = at.dataframe[-1].value
    assert list(table["users"]) == [50, 175, 300]
    assert "Load-test ramp" in [h.value for h in at.subheader]
