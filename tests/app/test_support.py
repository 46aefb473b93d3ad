"""The plain functions under the pages: scenario text and URL, the fit file, incidents, spend."""

from __future__ import annotations

import yaml

from model.fit import observed as observe
from model.planning import spend
from streamlit_ui.scenarios import ScenarioText, applied_text, decode_query, encode_query, read_folder_scenario
from model.scenario.reader import apply_override, load_scenario, scenario_from_text
from tests.app.apptools import ROOT

CHANGES = {"nodes.web.replicas": 6, "nodes.web.instance.type": "m6i.xlarge", "nodes.cache.hit_ratio": 0.9,
           "workload.rate_rps": 150.0, "nodes.web.autoscale.max": 12}


def test_applied_text_is_the_override_and_keeps_comments():
    text = read_folder_scenario("checkout").text
    out = applied_text(text, CHANGES)
    data = yaml.safe_load(text)
    for path, value in CHANGES.items():
        apply_override(data, path, value)
    assert yaml.safe_load(out) == data
    assert out.splitlines()[0].startswith("#")  # edited in place, comments kept
    assert sum(a != b for a, b in zip(text.splitlines(), out.splitlines())) == len(CHANGES)


def test_url_round_trip_for_a_folder_file_and_an_upload():
    for st_text in (read_folder_scenario("checkout"), ScenarioText("mine", read_folder_scenario("three-tier").text, "upload")):
        params = {k: (v if isinstance(v, list) else [v]) for k, v in encode_query(st_text, CHANGES).items()}
        back, changes, problem = decode_query(params)
        assert problem is None and back == st_text and changes == CHANGES


def test_demo_fit_file_validates_and_fetches():
    from connectors.demo import DemoSource
    from model.fit.file import fit_file_from_text

    scenario = load_scenario(ROOT / "scenarios" / "checkout.yaml")
    discovered = DemoSource().discover()
    mapping = {}
    for node, key in observe.slots(scenario):
        k = observe.default_choice(node, key, discovered)
        if k is not None:
            mapping[(node, key)] = discovered[k].metric
    assert mapping[("web", "cpu")].series == "web.cpu" and mapping[("", "traffic")].series == "traffic"
    fit = fit_file_from_text(observe.to_yaml(observe.fit_file(scenario, "demo", mapping)), "fit.yaml")
    assert set(fit.series()) >= {"traffic", "latency", "nodes.web.cpu", "nodes.db.reads"}


def test_incidents_find_the_demo_incident_and_peak_is_the_busiest_bucket():
    import pandas as pd
    from connectors.demo import DemoSource
    from connectors.demo_data import INCIDENT_MINUTES, INCIDENT_START

    wide, _truth = DemoSource().data()
    cpu = pd.DataFrame({"timestamp": wide.index, "value": wide["db.cpu"].to_numpy()})
    spans = observe.incidents(cpu, factor=2.0)  # as the Observe page reads a node's CPU
    start = pd.Timestamp(INCIDENT_START)
    assert len(spans) == 1 and any(a <= start + pd.Timedelta(minutes=15) and b >= start + pd.Timedelta(minutes=INCIDENT_MINUTES - 15)
               for a, b in spans), spans
    traffic = pd.DataFrame({"timestamp": wide.index, "value": wide["traffic"].to_numpy()})
    assert observe.peak(traffic) == wide["traffic"].idxmax()


def test_spend_totals_are_the_forecasts_and_commitments_are_cheaper():
    from model.planning.forecast import forecast

    scenario = load_scenario(ROOT / "scenarios" / "checkout.yaml")
    frame = spend.monthly_spend(scenario, 6)
    wide = spend.totals(frame)
    months = forecast(scenario, 6).to_json()["months"]
    assert [round(v, 2) for v in wide["on_demand"]] == [m["monthly"] for m in months]
    assert (wide["3yr"] < wide["1yr"]).all() and (wide["1yr"] < wide["on_demand"]).all()


def test_excel_export_opens_in_openpyxl():
    import io

    import openpyxl

    scenario = scenario_from_text(read_folder_scenario("checkout").text)
    frame = spend.monthly_spend(scenario, 2)
    book = openpyxl.load_workbook(io.BytesIO(spend.excel_bytes({"totals": spend.totals(frame), "detail": frame})))
    assert book.sheetnames == ["totals", "detail"] and book["detail"].max_row == len(frame) + 1
