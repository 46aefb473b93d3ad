"""Calibrate under AppTest: the page shows model.fit.pipeline's answer, uses it, and refuses a bad fit input kindly."""

from __future__ import annotations

import pytest

from streamlit_ui import state
from model.scenario.reader import scenario_from_text
from model.planning.report import money
from tests.app.apptools import ROOT, app, metric, no_errors


@pytest.fixture(scope="module")
def demo_fit():
    from model.fit.pipeline import fit_scenario

    return fit_scenario(str(ROOT / "scenarios" / "fit-demo.yaml"))


def _row(at, node: str, key: str):
    table = next(d.value for d in at.dataframe if "key" in d.value.columns)
    rows = table[(table["node"] == node) & (table["key"] == key)]
    assert len(rows) == 1, table
    return rows.iloc[0]


def test_calibrate_shows_the_demo_fit(demo_fit):
    at = app("calibrate")
    no_errors(at)
    expected = demo_fit.params.nodes["web"].values["service_ms"]
    web = _row(at, "web", "service_ms")
    assert web["value"] == f"{expected.value:.4g}" and web["how"] == "fitted"
    assert web["95% interval"] == f"{expected.ci95[0]:.4g} to {expected.ci95[1]:.4g}"
    assert _row(at, "orders", "consume_ms")["how"] == "assumed"
    assert metric(at, "Planning load") == f"{demo_fit.load.peak_rps:,.1f} req/s"
    verdicts = [t.value for t in at.table if "verdict" in t.value.columns]
    assert len(verdicts) == 2  # validation and backtest
    assert list(verdicts[0]["verdict"]) == [r.verdict for r in demo_fit.validation.rows]
    assert list(verdicts[1]["MAPE %"]) == [round(r.mape_pct, 3) for r in demo_fit.backtest.validation.rows]


def test_use_the_fitted_scenario_makes_it_current(demo_fit):
    at = app("calibrate")
    text = at.code[-1].value
    fitted = scenario_from_text(text, "fitted.yaml")
    band = fitted.workload.growth_fit
    assert band is not None and any(f"90% band, {band.low_pct:g}%" in c.value for c in at.caption)
    assert fitted.nodes == demo_fit.scenario.nodes and fitted.workload == demo_fit.scenario.workload
    assert fitted.slo.p99_ms == 500  # carried over from checkout.yaml
    at.button(key="cal-use").click().run()
    no_errors(at)
    assert at.session_state[state.SCENARIO].name == "checkout-fitted"
    at.switch_page("pages/overview.py").run()
    no_errors(at)
    assert at.title[0].value == "Checkout API (fitted)"
    from model.planning.bill import this_month
    from streamlit_ui.cost_record import LABEL

    assert metric(at, LABEL) == money(this_month(fitted).monthly_usd)
    at.switch_page("pages/cost.py").run()  # Cost plans with the fitted growth and draws its band
    assert not at.exception
    assert any("fitted from" in c.value and "90% band" in c.value for c in at.caption)
    assert "bill, 90% growth band" in at.dataframe[0].value.columns


BAD = {
    "not YAML": ("version: 1\nsource: demo\nnodes: [web\n", "The fit file is invalid", "line"),
    "unknown key": (
        "version: 1\nsource: demo\ntraffic: {metric: {series: traffic}}\nentry: web\n"
        "nodes: {web: {kind: service, replicas: 2, cpu: {series: web.cpu}, colour: red}}\n",
        "The fit file is invalid",
        "nodes.web.colour",
    ),
    "no such series": (
        "version: 1\nsource: demo\ndemo: {scenario: checkout.yaml}\ntraffic: {metric: {series: nope}}\n"
        "entry: web\nnodes: {web: {kind: service, replicas: 2, cpus: 2, cpu: {series: web.cpu}}}\n",
        "",
        "nope",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_fit_input_gives_a_friendly_message(case, _scenarios_dir):
    text, title, detail = BAD[case]
    at = app()
    at.session_state[state.FIT_YAML] = {"yaml": text, "folder": str(_scenarios_dir), "endpoint": ""}
    at.switch_page("pages/calibrate.py").run()
    assert not at.exception
    assert len(at.error) == 1 and title in at.error[0].value and detail in at.error[0].value, at.error[
        0
    ].value
    assert not at.dataframe and not at.table  # nothing half-drawn


def test_observes_fit_file_names_the_scenario_relative_to_the_folder_and_fits_from_there(
    _scenarios_dir, demo_fit
):
    """The downloaded fit file holds no absolute path; saved in the scenarios folder, `fit` reads it as the page did."""
    from model.fit.pipeline import fit_scenario

    at = app("observe")
    no_errors(at)
    text = at.code[0].value
    assert (
        "demo: {scenario: checkout.yaml, seed: 7}" in text
        and str(_scenarios_dir) not in text
        and "/tmp" not in text
    )
    path = _scenarios_dir / "fit.yaml"
    path.write_text(text, encoding="utf-8")
    result = fit_scenario(str(path))
    assert (
        result.params.nodes["web"].values["service_ms"].value
        == demo_fit.params.nodes["web"].values["service_ms"].value
    )
