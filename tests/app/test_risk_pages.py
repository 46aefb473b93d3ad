"""Issue 13 in the app: Right-size's risk and its "Try it on What-if", What-if's and Overview's one
story (the banner follows the numbers' verdict), and nodes above the headroom target drawn amber."""

from __future__ import annotations

import re

from model.planning.recommend import recommend
from model.planning.report import money
from model.queueing.evaluate import evaluate
from model.scenario.reader import load_scenario
from streamlit_ui import state
from tests.app.apptools import ROOT, app, metric, no_errors

DEMO = ROOT / "scenarios" / "checkout.yaml"
AT_360 = {"workload.rate_rps": 360.0}


def _texts(elements) -> str:
    return " ".join(e.value for e in elements)


def _at(page: str, changes: dict):
    at = app(page)
    if page == "whatif":
        at.toggle(key="wi-auto-sim").set_value(False).run()  # the analytic story is what these tests read
    at.session_state[state.CHANGES] = dict(changes)
    at.run()
    return at


def test_rightsize_at_360_keeps_headroom_and_try_it_opens_whatif_with_the_option():
    at = _at("rightsize", AT_360)
    assert at.slider(key="rs-headroom").value == 75 and at.toggle(key="rs-zone-loss").value is True
    at.button(key="rs-go").click().run()
    no_errors(at)
    answer = recommend(load_scenario(DEMO, ["workload.rate_rps=360"]), seed=1).to_json()
    assert metric(at, "Recommended") == money(answer["monthly"])
    banners = _texts(at.success) + _texts(at.warning)
    assert answer["verdict"].split(":")[0] in banners  # the model's verdict, in one banner
    page = _texts(at.markdown)
    assert f"Risk: {answer['risk']['level']}." in page and "Today's setup: high risk." in page
    assert "Not offered:" in _texts(at.caption)  # the cheaper, riskier option and why
    assert answer["changes"]

    at.button(key="rs-apply").click().run()
    no_errors(at)
    assert at.title[0].value == "What-if"  # it went there
    assert at.session_state[state.CHANGES] == {**AT_360, **answer["changes"]}
    target = answer["changes"].get("nodes.web.autoscale.target_cpu_pct")
    if target is not None:
        assert at.slider(key="wi:nodes.web.autoscale.target_cpu_pct").value == target
    # and every navigation keeps the scenario and its changes
    at.switch_page("pages/overview.py").run()
    from model.planning.bill import this_month

    expected = this_month(
        load_scenario(DEMO, [f"{k}={v}" for k, v in at.session_state[state.CHANGES].items()])
    )
    assert metric(at, "Cost this month") == money(expected.monthly_usd)  # the cost of record (issue 12)
    at.switch_page("pages/rightsize.py").run()
    assert at.session_state[state.CHANGES] == {**AT_360, **answer["changes"]}


def test_rightsize_rules_follow_the_switches():
    at = _at("rightsize", AT_360)
    at.slider(key="rs-headroom").set_value(100).run()
    at.toggle(key="rs-zone-loss").set_value(False).run()
    at.button(key="rs-go").click().run()
    no_errors(at)
    answer = recommend(
        load_scenario(DEMO, ["workload.rate_rps=360"]), seed=1, headroom_pct=100, zone_loss=False
    ).to_json()
    assert metric(at, "Recommended") == money(answer["monthly"])
    assert at.session_state[state.HEADROOM] == 100.0  # Overview and What-if colour by it too


def test_whatif_says_the_hpa_copes_where_fixed_replicas_do_not():
    at = _at("whatif", AT_360)
    no_errors(at)  # no red "Saturated" banner: the HPA would hold it
    story = _texts(at.warning)
    assert "Holds only with autoscaling." in story
    assert "web from 4 to 10 replicas" in story and "web cannot keep up with 360 req/s" in story
    assert "replicas as set" in story


def test_whatif_breaks_red_when_even_the_hpa_max_cannot_hold():
    at = _at("whatif", {"workload.rate_rps": 2000.0})
    assert not at.exception
    assert (
        "no steady state" in at.error[0].value
        and "even with web at its max of 10 replicas" in at.error[0].value
    )


def test_overview_shows_runway_and_saturation_on_each_assumption():
    at = app()
    no_errors(at)
    table = _texts(at.markdown)
    assert "replicas as set (web 4, fixed)" in table and "HPA scaling (web up to 10)" in table
    assert re.search(r"saturates at \| 200 req/s \(1\.7× today\) \| 500 req/s \(4\.2× today\)", table), table
    assert "Every SLO target is met, every node within the 75% headroom target." in _texts(at.success)


def test_overview_amber_above_the_headroom_target_even_when_the_slo_is_met():
    at = app()
    at.session_state[state.CHANGES] = {"workload.rate_rps": 170.0}  # web 85% busy with its 4 replicas
    at.run()
    no_errors(at)
    results = evaluate(load_scenario(DEMO, ["workload.rate_rps=170"]), "analytic")
    assert results.slo.met and results.nodes["web"].utilization > 0.75
    assert "above the 75% headroom target" in _texts(at.warning) and not at.success


def test_nodes_above_the_target_are_amber_not_green():
    from streamlit_ui.views import AMBER, band, bands, graph_dot

    assert band(0.90) == (AMBER, "above the 75% headroom target")  # was red "saturating" under a met SLO
    assert band(0.75)[0] != AMBER and band(0.40)[0] == bands()[0][1]
    assert band(0.90, 0.95)[0] != AMBER  # a 95% target: 90% is within it
    assert band(1.0)[1] == "saturated"
    scenario = load_scenario(DEMO, ["workload.rate_rps=170"])
    dot = graph_dot(scenario, evaluate(scenario, "analytic"), "web")
    web = next(line for line in dot.splitlines() if line.strip().startswith('"web" [label'))
    assert f'fillcolor="{AMBER}"' in web and "above the 75% headroom target" in web


def test_overview_at_360_says_it_holds_only_with_autoscaling():
    at = app()
    at.session_state[state.CHANGES] = dict(AT_360)
    at.run()
    no_errors(at)  # not a red "Saturated" beside a runway that lets the HPA scale
    assert "Holds only with autoscaling." in _texts(at.warning) and "web from 4 to 10 replicas" in _texts(
        at.warning
    )


def test_rightsize_holds_a_peak_event_declared_in_the_session():
    """The peak page leaves `peak_event` in session state; Right-size must hold its plateau."""
    at = app("rightsize")
    at.session_state[state.CHANGES] = dict(AT_360)
    at.session_state[state.PEAK_EVENT] = {"factor": 1.5, "days": 1, "ramp_minutes": 30}
    at.run()
    assert "Must also hold the declared peak event: 1.5× the load for 1 day" in _texts(at.caption)
    at.button(key="rs-go").click().run()
    no_errors(at)
    answer = recommend(load_scenario(DEMO, ["workload.rate_rps=360"]), seed=1, peak_factor=1.5).to_json()
    assert answer["rules"]["must_hold_rps"] == 540.0 and answer["risk"]["holds_peak"] is True
    assert metric(at, "Recommended") == money(answer["monthly"])
    assert "holds 540 req/s" in _texts(at.success) + _texts(at.warning)
