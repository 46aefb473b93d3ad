"""The Peak event page under AppTest: the model's verdict, banner colour, cost and additions, and the button to What-if."""

from __future__ import annotations

from tests.app.apptools import app, metric, no_errors
from model.planning.peak import peak
from model.planning.peak_event import PeakEvent
from model.planning.report import money
from model.scenario.reader import load_scenario
from streamlit_ui import state
from tests.app.apptools import ROOT

SEED = 1  # the app's seed (streamlit_ui.cached.SEED)


def test_checkout_3x_holds_with_autoscaling_in_green_with_the_models_cost():
    at = app("peak")
    no_errors(at)
    assert at.title[0].value == "Peak event"
    expected = peak(load_scenario(ROOT / "scenarios" / "checkout.yaml"), PeakEvent(3, 1, 30), 0.75, SEED)
    assert len(at.success) == 1 and at.success[0].value.startswith("Holds with autoscaling")
    assert expected.verdict == "holds_with_autoscaling" and "web 4 to 10 replicas" in at.success[0].value
    assert not at.warning and not at.error
    assert metric(at, "Extra cost") == money(expected.cost.extra_usd)
    assert metric(at, "Replicas of web") == "4 → 10"
    assert at.session_state["peak_event"] == {"factor": 3.0, "days": 1.0, "ramp_minutes": 30.0}
    assert len(at.get("vega_lite_chart")) == 1


def test_three_tier_breaks_in_red_and_apply_opens_whatif_with_the_additions():
    at = app("peak", params={"scenario": "three-tier"})
    assert not at.exception
    assert at.error and "Breaks at minute" in at.error[0].value and "db" in at.error[0].value
    assert metric(at, "Breaks first") == "db"
    at.button(key="pk-apply").click().run()
    assert not at.exception
    assert at.session_state[state.CHANGES]["nodes.db.read_replicas"] >= 7
    assert at.title[0].value == "What-if"


def test_a_declared_event_is_kept_for_the_other_pages():
    at = app("peak")
    at.number_input(key="pk-factor").set_value(1.5).run()
    at.number_input(key="pk-days").set_value(2.0).run()
    at.number_input(key="pk-ramp").set_value(10.0).run()
    no_errors(at)
    assert at.session_state["peak_event"] == {"factor": 1.5, "days": 2.0, "ramp_minutes": 10.0}
    assert any("1.5x the planning load" in s.value for s in at.success)
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/peak.py").run()
    assert at.number_input(key="pk-factor").value == 1.5  # the event survives leaving the page
