"""Every page under AppTest: runs clean, shows model/'s numbers, and answers a change the right way."""

from __future__ import annotations

import pytest

from tests.app.apptools import PAGES, ROOT, app, metric, no_errors, number
from model.scenario.reader import load_scenario
from model.planning.bill import this_month
from model.planning.report import money, ms
from model.queueing.evaluate import evaluate
from streamlit_ui.cost_record import LABEL

DEMO = ROOT / "scenarios" / "checkout.yaml"


def _values(value) -> list[str]:
    """AppTest collapses a one-element list of query values to a string."""
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _off_sim(at):
    """Turn the what-if page's automatic simulation off (the analytic path is what these tests check)."""
    at.toggle(key="wi-auto-sim").set_value(False).run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(page):
    at = app(page)
    no_errors(at)
    assert at.title, f"{page} shows no title"


def test_overview_headline_numbers_are_the_models():
    at = app()
    no_errors(at)
    scenario = load_scenario(DEMO)
    expected = evaluate(scenario, "analytic")
    assert metric(at, "p99 latency") == ms(expected.latency_ms.p99)
    assert metric(at, LABEL) == money(this_month(scenario).monthly_usd)  # the cost of record
    from model.planning.forecast import forecast

    runway = forecast(scenario, scenario.workload.horizon_months).runway_months
    assert metric(at, "Runway") == (
        f"> {scenario.workload.horizon_months} months" if runway is None else f"{runway} months"
    )
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"web"' in dot and "bottleneck" in dot


def test_more_replicas_lower_p99_and_the_bill_stays_the_hpas():
    """web autoscales: more replicas in the file lower the p99 shown (solved at them), but the cost
    of record bills what the HPA runs, and the page says what the set replicas would bill."""
    at = _off_sim(app("whatif"))
    p99_before, cost_before = number(metric(at, "p99 latency")), metric(at, LABEL)
    at.slider(key="wi:nodes.web.replicas").set_value(6).run()
    no_errors(at)
    assert number(metric(at, "p99 latency")) < p99_before
    scenario = load_scenario(DEMO, ["nodes.web.replicas=6"])
    expected = evaluate(scenario, "analytic")
    assert metric(at, "p99 latency") == ms(expected.latency_ms.p99)
    assert metric(at, LABEL) == money(this_month(scenario).monthly_usd) == cost_before
    assert any(
        "(web 6)" in i.value and money(expected.cost.monthly).replace("$", "\\$") in i.value for i in at.info
    )
    assert "nodes.web.replicas=6" in _values(at.query_params.get("set"))


def test_higher_hit_ratio_lowers_database_load_and_load_raises_latency():
    at = _off_sim(app("whatif"))
    p99 = number(metric(at, "p99 latency"))
    at.slider(key="wi:workload.rate_rps").set_value(180.0).run()
    no_errors(at)
    assert number(metric(at, "p99 latency")) > p99
    at.slider(key="wi:nodes.cache.hit_ratio").set_value(0.99).run()
    expected = evaluate(
        load_scenario(DEMO, ["workload.rate_rps=180", "nodes.cache.hit_ratio=0.99"]), "analytic"
    )
    assert metric(at, "p99 latency") == ms(expected.latency_ms.p99)


def test_instance_type_change_moves_cores_with_it():
    at = _off_sim(app("whatif"))
    at.selectbox(key="wi:nodes.web.instance.type").set_value("m6i.xlarge").run()
    no_errors(at)
    expected = evaluate(
        load_scenario(DEMO, ["nodes.web.instance.type=m6i.xlarge", "nodes.web.cpus=4"]), "analytic"
    )
    assert metric(at, "p99 latency") == ms(expected.latency_ms.p99)
    changed = load_scenario(DEMO, ["nodes.web.instance.type=m6i.xlarge", "nodes.web.cpus=4"])
    assert metric(at, LABEL) == money(this_month(changed).monthly_usd)


def test_simulation_confirms_with_the_models_numbers():
    at = app("whatif")
    no_errors(at)
    table = at.dataframe[-1].value
    sim = evaluate(load_scenario(DEMO), "sim", seed=1, requests=50_000)
    row = table[table[""] == "p99 latency"].iloc[0]
    assert row["simulation"] == ms(sim.latency_ms.p99)
    assert [s.value for s in at.success if "Simulation agrees" in s.value]


def test_bad_upload_gives_a_friendly_error_with_the_line():
    at = app()
    text = DEMO.read_text(encoding="utf-8").replace("replicas: 4", "replicas: -2")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "replicas: -2" in l)
    at.file_uploader(key="sb:upload").set_value(("broken.yaml", text.encode(), "application/x-yaml")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(
        "nodes.web.replicas" in e and f"line {line}" in e and "upload the file again" in e for e in errors
    ), errors
    assert metric(at, LABEL) == money(this_month(load_scenario(DEMO)).monthly_usd)  # still the demo


def test_not_yaml_upload_is_refused_with_the_line():
    at = app()
    at.file_uploader(key="sb:upload").set_value(
        ("x.yaml", b"version: 1\nname: [unclosed\n", "application/x-yaml")
    ).run()
    assert not at.exception
    assert any("not valid YAML" in e.value and "line" in e.value for e in at.error)


def test_good_upload_opens_it_and_puts_it_in_the_url():
    at = app()
    text = (ROOT / "scenarios" / "three-tier.yaml").read_text(encoding="utf-8")
    at.file_uploader(key="sb:upload").set_value(("mine.yaml", text.encode(), "application/x-yaml")).run()
    no_errors(at)
    expected = this_month(load_scenario(ROOT / "scenarios" / "three-tier.yaml"))
    assert metric(at, LABEL) == money(expected.monthly_usd)
    assert at.query_params.get("yaml") and _values(at.query_params.get("name")) == ["mine"]


def test_a_link_reproduces_the_view():
    at = app(
        "whatif",
        params={"scenario": "checkout", "set": ["nodes.web.replicas=5", "nodes.cache.hit_ratio=0.9"]},
    )
    no_errors(at)
    assert at.slider(key="wi:nodes.web.replicas").value == 5
    expected = evaluate(
        load_scenario(DEMO, ["nodes.web.replicas=5", "nodes.cache.hit_ratio=0.9"]), "analytic"
    )
    assert metric(at, "p99 latency") == ms(expected.latency_ms.p99)


def test_a_broken_link_opens_the_demo_with_a_note():
    at = app(params={"scenario": "no-such-file"})
    assert not at.exception
    assert any("not in the scenarios folder" in i.value for i in at.info)
    assert metric(at, LABEL) == money(this_month(load_scenario(DEMO)).monthly_usd)


def test_cost_page_month_zero_is_the_forecasts_and_commitments_are_cheaper():
    from model.planning.forecast import forecast

    at = app("cost")
    no_errors(at)
    scenario = load_scenario(DEMO)
    months = forecast(scenario, scenario.workload.horizon_months).to_json()["months"]
    assert metric(at, LABEL) == money(months[0]["monthly"])
    assert number(metric(at, "36-month")) > number(metric(at, "12-month")) > 0  # savings over the term
    assert [b for b in at.get("download_button") if "Excel" in b.proto.label]  # its contents: tests/model


def test_rightsize_shows_the_recommenders_answer():
    from model.planning.recommend import recommend

    at = app("rightsize")
    at.button(key="rs-go").click().run()
    no_errors(at)
    answer = recommend(load_scenario(DEMO), months=0, seed=1).to_json()
    assert metric(at, "Recommended") == money(answer["monthly"])
    diff = at.code[-1].value
    for path, value in answer["changes"].items():
        assert f"{path.split('.')[-1]}: {value}" in diff
    at.button(key="rs-apply").click().run()
    at.switch_page("pages/overview.py").run()
    expected = this_month(load_scenario(DEMO, [f"{k}={v}" for k, v in answer["changes"].items()]))
    assert metric(at, LABEL) == money(expected.monthly_usd)
    assert money(answer["monthly"]) == money(expected.monthly_usd)  # Right-size's bill is the cost of record


def test_compare_keeps_a_changed_scenario_next_to_the_file():
    at = _off_sim(app("whatif"))
    at.slider(key="wi:nodes.web.replicas").set_value(8).run()
    at.selectbox(key="wi:nodes.db.instance.type").set_value("db.r6g.2xlarge").run()  # a bigger bill
    at.text_input(key="sb:save_name").input("eight pods").run()
    at.button(key="sb:keep").click().run()
    at.switch_page("pages/compare.py").run()
    no_errors(at)
    table = at.table[0].value  # scenarios across, measures down
    assert {"eight-pods (this session)", "checkout.yaml"} <= set(table.columns)
    assert "kafka-consumers.yaml" not in table.columns  # another system: only when picked
    eight, base = table["eight-pods (this session)"], table["checkout.yaml"]
    assert number(eight["cost this month"]) > number(base["cost this month"])
    assert number(eight["p50 / p95 / p99"].split(" / ")[2]) < number(base["p50 / p95 / p99"].split(" / ")[2])
    assert {"busiest node", "headroom", "losing one zone"} <= set(table.index)
