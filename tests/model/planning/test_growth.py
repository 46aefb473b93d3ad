"""Which growth is in use: given, fitted (with its 90% band) or the user's override."""

from __future__ import annotations

import pytest

from model.planning.forecast import forecast
from model.planning.growth import growth_in_use, sd_from_band
from model.scenario.reader import ScenarioError, scenario_from_data
from tests.model.planning.planning_helpers import fixed

FIT = {"pct_per_month": 9.0, "low_pct": 7.4, "high_pct": 10.5, "days": 14}


def test_given_fitted_and_override():
    assert growth_in_use(scenario_from_data(fixed(2, {"growth_pct_per_month": 8}))).source == "given"
    fitted = scenario_from_data(fixed(2, {"growth_pct_per_month": 9.0, "growth_fit": FIT}))
    g = growth_in_use(fitted)
    assert (g.source, g.pct_per_month, g.band_pct) == ("fitted", 9.0, (7.4, 10.5))
    assert "fitted from 14 days" in g.sentence() and "7.4% to 10.5%" in g.sentence()
    edited = scenario_from_data(fixed(2, {"growth_pct_per_month": 8.0, "growth_fit": FIT}))
    assert (
        growth_in_use(edited).source == "given" and "the fit measured 9%" in growth_in_use(edited).sentence()
    )
    override = growth_in_use(fitted, 5.0)
    assert (override.source, override.pct_per_month, override.fitted_pct) == ("override", 5.0, 9.0)
    assert sd_from_band((7.4, 10.5)) == pytest.approx(3.1 / 3.29)


def test_the_forecast_of_a_fitted_scenario_shows_the_fits_band():
    data = fixed(2, {"growth_pct_per_month": 9.0, "growth_fit": FIT})
    data["nodes"]["web"]["autoscale"] = {"min": 2, "max": 40}
    out = forecast(scenario_from_data(data), 3).to_json()
    assert out["growth"]["source"] == "fitted" and out["growth_band_pct"] == [7.4, 10.5]
    third = out["months"][3]
    assert third["band"]["rate_rps"] == [round(50 * 1.074**3, 3), round(50 * 1.105**3, 3)]


def test_a_band_upside_down_is_refused():
    with pytest.raises(ScenarioError, match="above high_pct"):
        scenario_from_data(fixed(2, {"growth_fit": {**FIT, "low_pct": 12.0}}))


def test_the_users_growth_overrides_the_fitted_one(tmp_path, capsys):
    import json

    import yaml

    from cli import main

    path = tmp_path / "fitted.yaml"
    path.write_text(yaml.safe_dump(fixed(2, {"growth_pct_per_month": 9.0, "growth_fit": FIT})))
    assert main(["forecast", str(path), "--months", "2", "--growth", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["growth"]["source"] == "override" and doc["growth_pct_per_month"] == 5.0
    assert doc["months"][2]["rate_rps"] == round(50 * 1.05**2, 3) and "band" not in doc["months"][2]
    assert main(["forecast", str(path), "--months", "2", "--growth", "-100"]) == 2
    assert "--growth must be above -100" in capsys.readouterr().err
