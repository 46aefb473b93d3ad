"""The fit's validation travels with the fitted scenario (`fitted`, model.fit.record): the same numbers,
the load they were measured at, written in the YAML, loaded back strictly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.fit.record import error_pct, fit_record
from model.fit.validate import Row, Validation, _row
from model.scenario.reader import ScenarioError, load_scenario, scenario_from_text

ROOT = Path(__file__).resolve().parents[3]
FIT_DEMO = ROOT / "scenarios" / "fit-demo.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from model.fit.pipeline import fit_to_file

    out = tmp_path_factory.mktemp("fit") / "fitted.yaml"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEADROOM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        result = fit_to_file(FIT_DEMO, out)
    return result, out


def test_the_busy_hour_load_is_the_mean_rate_over_the_busy_hour_periods():
    index = pd.date_range("2026-01-05", periods=36, freq="300s", tz="UTC")
    rate = pd.Series(np.r_[np.full(12, 10.0), np.linspace(50, 61, 12), np.full(12, 20.0)], index=index)
    observed = rate * 0.5
    busy = index[12:24]  # the second hour, the busiest
    row = _row("web utilization", "%", observed, observed * 0.9, busy, 0.0, rate)
    assert row.busy_hour_rps == pytest.approx(rate[12:24].mean())
    assert row.observed_busy_hour == pytest.approx(observed[12:24].mean())
    assert row.to_json()["busy_hour_rps"] == round(rate[12:24].mean(), 3)


def test_the_record_holds_each_rows_busy_hour_numbers_and_signed_error():
    rows = [
        Row("web utilization", "%", 40.0, 38.0, 3.1, 61.2, 58.9, 100, "good", busy_hour_rps=212.44),
        Row("latency p99", "ms", 30.0, 25.0, 21.7, 45.0, 30.1, 100, "fair", busy_hour_rps=212.44),
        Row("db utilization", "%", 1.0, 1.0, None, math.nan, math.nan, 0, "n/a"),  # no busy hour: left out
    ]
    record = fit_record(Validation("analytic", "2026-01-01 00:00", "2026-01-15 00:00 UTC", rows), "demo")
    assert record["source"] == "demo" and record["method"] == "analytic"
    assert record["window"] == "2026-01-01 00:00 to 2026-01-15 00:00 UTC"
    assert [c["what"] for c in record["checks"]] == ["web utilization", "latency p99"]
    latency = record["checks"][1]
    assert latency == {
        "what": "latency p99",
        "unit": "ms",
        "at": "busy hour",
        "rate_rps": 212.4,
        "observed": 45.0,
        "predicted": 30.1,
        "error_pct": -33.1,
        "mape_pct": 21.7,
    }
    assert "mape_pct" in record["checks"][0] and record["checks"][0]["error_pct"] == round(
        error_pct(61.2, 58.9), 1
    )
    assert fit_record(Validation("analytic", "a", "b", rows[2:]), "demo") is None


def test_a_fitted_scenario_carries_its_validation_in_the_written_yaml(demo):
    result, out = demo
    rows = [r for r in result.validation.rows if math.isfinite(r.observed_busy_hour)]
    assert rows and any(r.unit == "ms" for r in rows)
    loaded = load_scenario(out)  # the file as `simulate` reads it
    assert loaded.fitted is not None and loaded.fitted == result.scenario.fitted
    assert loaded.fitted.source == "demo" and loaded.fitted.method == result.validation.method
    for row, check in zip(rows, loaded.fitted.checks, strict=True):
        assert check.what == row.what and check.at == row.peak
        assert check.observed == pytest.approx(row.observed_busy_hour, rel=1e-3)
        assert check.predicted == pytest.approx(row.predicted_busy_hour, rel=1e-3)
        assert check.error_pct == pytest.approx(
            100 * (row.predicted_busy_hour - row.observed_busy_hour) / row.observed_busy_hour, abs=0.05
        )
        assert check.rate_rps == pytest.approx(row.busy_hour_rps, rel=1e-3)
        assert 0 < check.rate_rps <= result.load.max_rps
    text = out.read_text()
    assert "\nfitted:" in text and "# the fit's validation" in text
    assert result.to_json()["fitted_scenario"]["fitted"]["checks"][0]["what"] == rows[0].what


def test_the_fitted_key_is_strict_and_optional(demo):
    _, out = demo
    text = out.read_text()
    assert scenario_from_text(text.split("\nfitted:")[0] + "\n", "plain.yaml").fitted is None
    bad = text.replace("at: busy hour", "at: busy hour, colour: red", 1)
    with pytest.raises(ScenarioError) as err:
        scenario_from_text(bad, "bad.yaml")
    assert "fitted.checks.0.colour" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        scenario_from_text(text.replace("unit: ms", "unit: seconds", 1), "bad.yaml")
    assert "fitted.checks" in str(err.value) and ".unit" in str(err.value)
