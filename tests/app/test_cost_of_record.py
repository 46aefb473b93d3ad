"""One cost of record: the same scenario shows the same "Cost this month" on Overview, What-if, Cost,
Right-size and Compare, and it is `cli.py forecast`'s month 0, for every scenario in the folder."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from model.planning.bill import this_month
from model.planning.report import money
from model.scenario.reader import load_scenario
from streamlit_ui.cost_record import LABEL
from streamlit_ui.scenarios import folder_scenarios
from tests.app.apptools import ROOT, app, metric

NAMES = folder_scenarios()  # the folder's scenarios, fit files left out


def _cli_month0(path) -> float:
    out = subprocess.run(
        [sys.executable, "cli.py", "forecast", str(path), "--json", "--months", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)["months"][0]["monthly"]


def test_the_folder_holds_the_scenarios_this_checks():
    assert {"checkout", "cache-db", "kafka-consumers", "three-tier"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_this_month_is_one_number_on_every_page_and_in_the_cli(name):
    path = ROOT / "scenarios" / f"{name}.yaml"
    expected = money(this_month(load_scenario(path)).monthly_usd)
    assert money(_cli_month0(path)) == expected

    at = app(params={"scenario": name})
    assert not at.exception  # errors are allowed: a scenario may miss its SLO later in its horizon
    seen = {"overview": metric(at, LABEL)}
    at.session_state["wi-auto-sim"] = False  # the simulation is not what this checks
    for page in ("whatif", "cost", "rightsize", "compare"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        if page != "compare":
            seen[page] = metric(at, LABEL)
    seen["compare"] = at.table[0].value[f"{name}.yaml"]["cost this month"].split(" (")[0]
    assert seen == dict.fromkeys(seen, expected)


def test_the_file_replicas_bill_is_said_to_be_something_else():
    """checkout's web autoscales: the latency shown is at the file's 4 replicas, whose bill differs
    from the cost of record; Overview and What-if say so beside it."""
    at = app()
    assert any(
        "not the cost of record" in c.value or "cost of record this month" in c.value for c in at.caption
    )
    at.session_state["wi-auto-sim"] = False
    at.switch_page("pages/whatif.py").run()
    assert any("the replicas set here (web 4)" in i.value for i in at.info)


def test_a_saturated_link_never_shows_a_plain_bill():
    at = app(params={"scenario": "checkout", "set": ["workload.rate_rps=100000"]})
    assert not at.exception
    verdicts = [m.proto.delta for m in at.metric if m.label == LABEL]
    assert verdicts and all("not a plan" in v for v in verdicts)
    at.switch_page("pages/cost.py").run()
    assert not at.exception
    assert any("not a plan" in e.value for e in at.error)
    assert "not a plan" in [m for m in at.metric if m.label == LABEL][0].proto.delta
