"""Fitting the built-in demo recovers the truths it was generated from (connectors.demo_data.DemoTruth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cli
from connectors.demo import DemoSource
from model.fit.pipeline import fit_scenario
from model.scenario.reader import load_scenario

ROOT = Path(__file__).resolve().parents[3]
FIT_DEMO = ROOT / "scenarios" / "fit-demo.yaml"
FIT_DEMO_AUTOSCALE = ROOT / "scenarios" / "fit-demo-autoscale.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEADROOM_CACHE_DIR", str(cache))
        result = fit_scenario(FIT_DEMO)
    _, truth = DemoSource(ROOT / "scenarios" / "checkout.yaml", seed=7).data()
    return result, truth


def test_demands_backgrounds_and_hit_ratio_within_ten_percent(demo):
    result, truth = demo
    for node, demand_s in truth.demand_s.items():
        fitted = result.params.nodes[node]
        assert fitted.demand_ms == pytest.approx(1000 * demand_s, rel=0.10), node
        assert fitted.capacity_cores == truth.cores[node]
        assert fitted.background == pytest.approx(truth.background_cpu[node], abs=0.01), node
    for node, ratio in truth.hit_ratio.items():
        assert result.params.nodes[node].values["hit_ratio"].value == pytest.approx(ratio, rel=0.10)
        assert result.params.nodes[node].values["hit_ratio"].how == "fitted"
    web = result.scenario.nodes["web"]
    assert web.service_ms == pytest.approx(40.0, rel=0.10)  # checkout.yaml's web service_ms


def test_fitted_scenario_holds_the_background_and_reproduces_observed_cpu(demo):
    result, truth = demo
    for node, background in truth.background_cpu.items():
        assert result.scenario.nodes[node].background_cpu_pct == pytest.approx(100 * background, abs=1.0), (
            node
        )
    text = result.to_text()
    assert "background_cpu_pct" in result.yaml_text() and "held in the scenario" in text


def test_load_peak_and_growth(demo):
    result, truth = demo
    assert result.load.peak_rps == pytest.approx(truth.peak_rps, rel=0.10)
    assert result.scenario.workload.rate_rps == pytest.approx(truth.peak_rps, rel=0.10)
    assert abs(result.load.growth_pct_per_month - truth.growth_pct_per_month) <= 2.0
    lo, hi = result.load.growth_ci95
    assert lo <= truth.growth_pct_per_month <= hi
    shape = result.load.daily_shape
    assert max(range(24), key=lambda h: shape[h]) in (19, 20)  # the evening peak at 20:00 UTC
    assert result.load.weekly_shape[5] < 0.85 * result.load.weekly_shape[1]  # weekends are quieter


def test_incident_is_shown_where_it_happened(demo):
    result, truth = demo
    start = f"{truth.incident[0]:%Y-%m-%d %H:%M}"
    assert any("nodes.db.cpu" in w and start in w for w in result.warnings), result.warnings
    assert not any("nodes.web.cpu: not on the utilization line" in w for w in result.warnings)


def test_validation_and_backtest_are_reported(demo):
    result, _ = demo
    rows = {r.what: r for r in result.validation.rows}
    assert rows["web utilization"].verdict == "good" and rows["web utilization"].mape_pct < 5
    assert "latency p99" in rows
    assert result.backtest.validation is not None
    back = {r.what: r for r in result.backtest.validation.rows}
    assert back["web utilization"].mape_pct < 5
    report = result.to_json()
    json.dumps(report)  # plain JSON
    assert set(report) >= {"nodes", "load", "validation", "backtest", "warnings", "not_fitted"}
    assert (
        report["nodes"]["web"]["values"]["service_ms"]["ci95"][0]
        < 40
        < report["nodes"]["web"]["values"]["service_ms"]["ci95"][1] + 1
    )
    assert any(
        "consume_ms" in n for n in report["not_fitted"]
    )  # Kafka consumer time cannot be seen in broker metrics
    text = result.to_text()
    assert "req/s" in text and "% per month" in text and "ms per request" in text


def test_cli_fit_demo_writes_a_scenario_simulate_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEADROOM_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "fitted.yaml"
    assert cli.main(["fit", "--source", "demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Validation" in printed and f"Wrote the fitted scenario to {out}" in printed
    text = out.read_text()
    assert "# fitted: utilization law" in text and "# assumed" in text and "# given: fit file" in text
    scenario = load_scenario(out)
    assert scenario.nodes["cache"].hit_ratio == pytest.approx(0.85, abs=0.01)
    assert cli.main(["simulate", str(out), "--method", "analytic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == scenario.name


def test_checkout_fit_has_no_replicas_series_and_no_usl(demo):
    result, _ = demo
    assert all(nf.scaling is None for nf in result.params.nodes.values())
    assert result.scenario.nodes["web"].replicas == 4  # given in the fit file


def test_autoscaled_demo_service_reports_the_usl_it_was_generated_with(tmp_path, monkeypatch):
    """scenarios/fit-demo-autoscale.yaml: sigma within 0.005, kappa within 10 %, N* and lambda within 5 %."""
    monkeypatch.setenv("HEADROOM_CACHE_DIR", str(tmp_path / "cache"))
    result = fit_scenario(FIT_DEMO_AUTOSCALE)
    _, truth = DemoSource(ROOT / "scenarios" / "checkout.yaml", seed=7).data()
    true = truth.usl["search"]
    scaling = result.params.nodes["search"].scaling
    assert scaling is not None and scaling.usl is not None, scaling and scaling.notes
    usl = scaling.usl
    assert abs(usl.sigma - true["sigma"]) <= 0.005 and usl.sigma_ci95[0] <= true["sigma"] <= usl.sigma_ci95[1]
    assert (
        usl.kappa == pytest.approx(true["kappa"], rel=0.10)
        and usl.kappa_ci95[0] <= true["kappa"] <= usl.kappa_ci95[1]
    )
    assert usl.peak_n == pytest.approx(true["peak_n"], rel=0.05)
    assert usl.lambda_ == pytest.approx(true["lambda_rps"], rel=0.05)
    assert result.params.nodes["search"].background == pytest.approx(true["background_cpu"], abs=0.005)
    # the HPA max (20) is past the point where one more replica adds a quarter of a lone one's throughput
    assert scaling.reference == true["autoscale"]["max"] and scaling.warning in result.warnings
    assert "stopped paying" in scaling.warning
    report = result.to_json()["nodes"]["search"]["scaling"]
    assert report["fitted"] and report["peak_replicas"] == pytest.approx(true["peak_n"], rel=0.05)
    assert "USL: sigma" in result.to_text()
    assert "# scaling (USL" in result.yaml_text()
    assert result.scenario.nodes["search"].autoscale.max == 20
    assert 2 < result.scenario.nodes["search"].replicas <= 20


def test_the_fitted_scenario_carries_its_growth_band_and_traffic_shape(demo):
    """Issue 12: the fit writes growth_fit (the 90% interval, inside the 95% one) and the daily and
    weekly profiles as fractions of their busiest hour and day; the plan then says "fitted"."""
    from model.planning.growth import growth_in_use

    result, truth = demo
    workload = result.scenario.workload
    fit = workload.growth_fit
    lo95, hi95 = result.load.growth_ci95
    assert fit.pct_per_month == workload.growth_pct_per_month
    assert lo95 < fit.low_pct < fit.pct_per_month < fit.high_pct < hi95
    assert growth_in_use(result.scenario).source == "fitted"
    assert max(workload.daily_profile) == 1.0 and workload.daily_profile.index(1.0) in (19, 20)
    assert workload.weekly_profile[5] < 0.85 * workload.weekly_profile[1]
    assert "growth_fit: {pct_per_month:" in result.yaml_text() and "daily_profile: [" in result.yaml_text()


def test_the_bill_of_a_fitted_scenario_serves_the_observed_mean_traffic(demo):
    """The cost of record's month, over the fitted daily and weekly profile, carries the traffic the
    metrics saw (their mean), not the planning peak running all month."""
    from model.planning.bill import this_month

    result, _ = demo
    bill = this_month(result.scenario)
    assert bill.mean_rps == pytest.approx(result.load.mean_rps, rel=0.05)
    assert bill.mean_rps < 0.6 * result.scenario.workload.rate_rps
