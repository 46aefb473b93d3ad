"""A fitted scenario's validation error beside every prediction made from it (streamlit_ui/fitted_note.py):
What-if, Compare and Right-size under AppTest, with the scenario fitted on Calibrate or opened from the
folder; the sentence's number is the one the fit's validation computed."""

from __future__ import annotations

import re

import pytest

from model.planning.report import ms
from model.scenario.fitted import FitCheck, FitRecord
from model.scenario.reader import scenario_from_text
from streamlit_ui import fitted_note
from tests.app.apptools import ROOT, app, no_errors

FIT_DEMO = ROOT / "scenarios" / "fit-demo.yaml"
SIGNED = re.compile(r"\(([+-]\d+\.\d)%: ")


@pytest.fixture(scope="module")
def demo_fit():
    from model.fit.pipeline import fit_scenario

    return fit_scenario(str(FIT_DEMO))


def _notes(at) -> list[str]:
    return [i.value for i in at.info if "This model" in i.value]


def _fitted_in_the_app():
    """Calibrate the demo and use the fitted scenario, as a user does; the page's YAML and validation too."""
    at = app("calibrate")
    no_errors(at)
    fitted = scenario_from_text(at.code[-1].value, "fitted.yaml")
    validation = next(t.value for t in at.table if "verdict" in t.value.columns)
    at.button(key="cal-use").click().run()
    no_errors(at)
    return at, fitted, validation


def test_the_sentence_is_the_validations_signed_error_at_the_busy_hour_load(demo_fit):
    row = next(r for r in demo_fit.validation.rows if r.unit == "ms")
    expected = 100 * (row.predicted_busy_hour - row.observed_busy_hour) / row.observed_busy_hour
    text = fitted_note.sentence(demo_fit.scenario.fitted)
    shown = float(SIGNED.search(text).group(1))
    assert shown == pytest.approx(expected, abs=0.05)
    stat = row.what.removeprefix("latency ")
    verb = "under" if expected < 0 else "over"
    assert f"This model {verb}-predicted busy-hour {stat} latency by {abs(shown):.1f}% on your data" in text
    assert f"{ms(row.predicted_busy_hour)} predicted, {ms(row.observed_busy_hour)} observed" in text
    assert f"at {row.busy_hour_rps:,.1f} req/s" in text
    assert "fitted to demo data" in text


def test_without_latency_the_worst_utilization_is_said_and_a_match_says_so():
    def check(what, error, observed=50.0):
        return FitCheck(
            what=what,
            unit="%",
            rate_rps=100,
            observed=observed,
            predicted=observed * (1 + error / 100),
            error_pct=error,
        )

    record = FitRecord(
        source="csv", window="w", checks=[check("web utilization", 4.0), check("db utilization", 12.5)]
    )
    text = fitted_note.sentence(record)
    assert "over-predicted busy-hour db utilization by 12.5%" in text and "(+12.5%: 56.2% predicted" in text
    matched = FitRecord(source="csv", window="w", checks=[check("web utilization", 0.0)])
    assert "This model matched busy-hour web utilization on your data (+0.0%" in fitted_note.sentence(matched)
    assert fitted_note.sentence(FitRecord(source="csv", window="w")) is None


def test_whatif_shows_the_fitted_models_error_and_a_plain_scenario_shows_none():
    plain = app("whatif")
    no_errors(plain)
    assert _notes(plain) == []
    at, fitted, validation = _fitted_in_the_app()
    at.switch_page("pages/whatif.py").run()
    no_errors(at)
    assert _notes(at) == [fitted_note.sentence(fitted.fitted)]
    latency = validation[validation.index.str.startswith("latency")].iloc[0]  # Calibrate's own table
    observed, predicted = latency["observed busy hour"], latency["predicted busy hour"]
    shown = float(SIGNED.search(_notes(at)[0]).group(1))
    assert shown == pytest.approx(100 * (predicted - observed) / observed, abs=0.06)
    at.slider(key="wi:nodes.web.replicas").set_value(6).run()  # a what-if on the fitted model keeps it
    no_errors(at)
    assert _notes(at) == [fitted_note.sentence(fitted.fitted)]


def test_compare_names_the_fitted_scenario_beside_the_others():
    at, fitted, _ = _fitted_in_the_app()
    at.switch_page("pages/compare.py").run()
    no_errors(at)
    table = at.table[0].value
    assert {"checkout-fitted (this session)", "checkout.yaml"} <= set(table.columns)
    notes = _notes(at)
    assert notes == [f"**checkout-fitted (this session)**: {fitted_note.sentence(fitted.fitted)}"]


def test_rightsize_shows_the_error_beside_the_recommendation():
    at, fitted, _ = _fitted_in_the_app()
    at.switch_page("pages/rightsize.py").run()
    at.button(key="rs-go").click().run()
    no_errors(at)
    assert [m for m in at.metric if m.label.startswith("Recommended")]
    assert _notes(at) == [fitted_note.sentence(fitted.fitted)]


def test_a_fitted_file_opened_from_the_folder_carries_its_error(_scenarios_dir, demo_fit):
    (_scenarios_dir / "shop-fitted.yaml").write_text(demo_fit.yaml_text(), encoding="utf-8")
    at = app("whatif", params={"scenario": "shop-fitted"})
    no_errors(at)
    assert at.title[0].value == "What-if"
    assert _notes(at) == [fitted_note.sentence(demo_fit.scenario.fitted)]
