"""What the Observe page computes: the fit file from discovered metrics, incidents and the peak."""

from __future__ import annotations

from pathlib import Path

from model.fit import observed as observe
from model.scenario.reader import load_scenario

ROOT = Path(__file__).resolve().parents[3]


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
    assert len(spans) == 1 and any(
        a <= start + pd.Timedelta(minutes=15) and b >= start + pd.Timedelta(minutes=INCIDENT_MINUTES - 15)
        for a, b in spans
    ), spans
    traffic = pd.DataFrame({"timestamp": wide.index, "value": wide["traffic"].to_numpy()})
    assert observe.peak(traffic) == wide["traffic"].idxmax()
