"""The app marks a node whose price the catalog does not list: "estimated" or "price unknown"."""

from __future__ import annotations

from tests.app.apptools import ROOT, app, metric, no_errors
from model.scenario.reader import load_scenario
from model.planning.report import money
from model.planning.bill import this_month
from streamlit_ui.cost_record import LABEL

ESTIMATED = ["nodes.cache.instance.type=cache.m6g.2xlarge"]  # listed: cache.m6g.large and xlarge
UNKNOWN = ["nodes.orders.instance.type=kafka.q1.large"]  # no kafka.q1 size is listed


def test_overview_and_whatif_say_which_prices_are_estimated_or_unknown():
    expected = this_month(load_scenario(ROOT / "scenarios" / "checkout.yaml", ESTIMATED + UNKNOWN))
    for page in ("overview", "whatif"):
        at = app(page, params={"scenario": "checkout", "set": ESTIMATED + UNKNOWN})
        no_errors(at)
        assert metric(at, LABEL) == money(expected.monthly_usd)
        captions = " ".join(c.value for c in at.caption)
        assert "cache's cache.m6g.2xlarge estimated from cache.m6g.xlarge" in captions, page
        assert "excludes orders (price unknown" in captions, page


def test_cost_page_labels_the_nodes():
    at = app("cost", params={"scenario": "checkout", "set": ESTIMATED + UNKNOWN})
    no_errors(at)
    captions = " ".join(c.value for c in at.caption)
    assert "cache (estimated)" in captions and "orders (price unknown)" in captions
