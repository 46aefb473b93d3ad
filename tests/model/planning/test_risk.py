"""Risk-aware recommend: the headroom and zone-loss rules against M/M/c optima derived here, the
grade, a known peak, and the checkout case of issue 13 (360 req/s: no more "save $593/mo" by
running the web tier at 90% and losing a zone)."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import pytest

from cli import main
from model.planning.recommend import recommend
from model.planning.risk import (
    DEFAULT_HEADROOM_PCT,
    Rules,
    assess,
    production_like,
    rules_for,
)
from model.queueing.evaluate import evaluate
from model.scenario.reader import load_scenario, scenario_from_data
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario

ROOT = Path(__file__).resolve().parents[3]
CHECKOUT = ROOT / "scenarios" / "checkout.yaml"
RATE, SERVICE_MS = 100.0, 50.0  # 5 erlangs of work


def _fewest(ok) -> int:
    return next(c for c in range(1, 200) if ok(c))


# ------------------------------------------------------------------ who must survive a zone


def test_production_like_means_an_slo_and_something_redundant():
    assert production_like(load_scenario(CHECKOUT))
    single = mmc_scenario(1, SERVICE_MS, 10, p99_ms=500)
    assert not production_like(scenario_from_data(single))
    assert production_like(scenario_from_data(mmc_scenario(3, SERVICE_MS, 10, p99_ms=500)))
    assert not production_like(scenario_from_data(mmc_scenario(3, SERVICE_MS, 10)))  # no SLO stated
    hpa = mmc_scenario(1, SERVICE_MS, 10, p99_ms=500, autoscale={"min": 2, "max": 6})
    assert production_like(scenario_from_data(hpa))


def test_rules_default_and_the_known_peak():
    scenario = load_scenario(CHECKOUT)
    rules = rules_for(scenario, 120.0)
    assert rules.headroom_pct == DEFAULT_HEADROOM_PCT == 75.0
    assert rules.zone_loss and rules.zone_loss_why == "production-like scenario"
    assert rules.must_hold_rps is None
    assert not rules_for(scenario, 120.0, zone_loss=False).zone_loss
    peak = rules_for(scenario, 120.0, peak_factor=3, must_hold_rps=200)
    assert peak.must_hold_rps == pytest.approx(360.0) and "3x peak" in peak.must_hold_why
    assert rules_for(scenario, 120.0, must_hold_rps=100).must_hold_rps is None  # below the load: no peak
    observed = load_scenario(CHECKOUT, ["workload.observed_peak_rps=150"])
    assert rules_for(observed, 120.0).must_hold_rps == 150.0
    for bad in ({"headroom_pct": 0}, {"headroom_pct": 120}, {"must_hold_rps": -1}, {"peak_factor": math.nan}):
        with pytest.raises(ValueError):
            rules_for(scenario, 120.0, **bad)


# ------------------------------------------------------------------ the rules against M/M/c


@pytest.mark.parametrize("headroom", [75.0, 60.0])
def test_headroom_rule_gives_the_fewest_servers_at_or_under_the_target(headroom):
    """A loose SLO that 6 servers meet (83% busy): the headroom target alone sets the count."""
    target = 2000.0
    assert mmc_p99_ms(6, RATE, SERVICE_MS) < 0.5 * target
    best = math.ceil(RATE * SERVICE_MS / 1000 / (headroom / 100) - 1e-9)  # 7 at 75%, 9 at 60%
    scenario = scenario_from_data(mmc_scenario(12, SERVICE_MS, RATE, p99_ms=target))
    rec = recommend(scenario, seed=3, requests=5_000, headroom_pct=headroom, zone_loss=False)
    assert rec.changes == {"nodes.web.replicas": best}
    out = rec.to_json()
    assert out["safe"] and out["risk"]["within_headroom"]
    assert out["risk"]["busiest_utilization_pct"] == pytest.approx(100 * 5 / best, abs=0.1)
    assert out["rules"]["headroom_target_pct"] == headroom and out["rules"]["zone_loss_required"] is False
    cheaper = out["riskier_cheaper"]  # what the SLO alone would have taken, and why it is not offered
    assert cheaper["changes"] == {"nodes.web.replicas": 6} and cheaper["risk"]["within_headroom"] is False
    assert cheaper["monthly"] < out["monthly"]


def test_zone_loss_rule_gives_the_fewest_servers_that_survive_losing_a_third():
    """Zone loss keeps c - ceil(c/3) servers: the fewest c whose survivors meet the p99 (exact M/M/c)."""
    target = 270.0
    survives = _fewest(lambda c: mmc_p99_ms(c - math.ceil(c / 3), RATE, SERVICE_MS) <= target)
    headroom = _fewest(lambda c: 5 / c <= 0.75)
    best = max(survives, headroom)
    assert best > headroom  # the zone rule binds, not the headroom
    scenario = scenario_from_data(mmc_scenario(20, SERVICE_MS, RATE, p99_ms=target))
    rec = recommend(scenario, seed=3, requests=5_000)  # production-like: zone loss on by default
    assert rec.changes == {"nodes.web.replicas": best}
    assert rec.risk.survives_zone_loss and rec.to_json()["rules"]["zone_loss_required"]
    # one fewer does not survive: the rule is tight
    lost = best - 1 - math.ceil((best - 1) / 3)
    assert mmc_p99_ms(lost, RATE, SERVICE_MS) > target


def test_a_known_peak_is_never_sized_away():
    """At 100 req/s 7 servers keep 75%; a declared 2x peak (200 req/s) needs the fewest meeting the p99 there."""
    target = 270.0
    at_peak = _fewest(lambda c: mmc_p99_ms(c, 2 * RATE, SERVICE_MS) <= target)
    assert at_peak > 7
    scenario = scenario_from_data(mmc_scenario(20, SERVICE_MS, RATE, p99_ms=target))
    rec = recommend(scenario, seed=3, requests=5_000, zone_loss=False, peak_factor=2)
    assert rec.changes == {"nodes.web.replicas": at_peak}
    out = rec.to_json()
    assert out["rules"]["must_hold_rps"] == pytest.approx(200.0) and out["risk"]["holds_peak"] is True
    # the same peak stated as observed data
    observed = scenario_from_data(
        {
            **mmc_scenario(20, SERVICE_MS, RATE, p99_ms=target),
            "workload": {"rate_rps": RATE, "observed_peak_rps": 200},
        }
    )
    assert recommend(observed, seed=3, requests=5_000, zone_loss=False).changes == rec.changes


# ------------------------------------------------------------------ the grade


def _graded(replicas: int, zone_loss: bool = False, target: float = 2000.0):
    scenario = scenario_from_data(mmc_scenario(replicas, SERVICE_MS, RATE, p99_ms=target))
    rules = Rules(zone_loss=zone_loss)
    return assess(scenario, RATE, rules)


def test_grades_low_medium_high_with_reasons():
    low = _graded(8)  # 62% busy
    assert low.graded()[0] == "low" and low.safe
    medium = _graded(6)  # 83% busy: above 75%, below 90%
    level, reasons = medium.graded()
    assert level == "medium" and not medium.safe and "83% busy, above the 75% headroom target" in reasons[0]
    high = _graded(5)  # 100%: saturated, misses the SLO
    assert high.graded()[0] == "high" and "misses the SLO" in high.graded()[1][0]
    hot = assess(
        scenario_from_data(mmc_scenario(11, SERVICE_MS, 2 * RATE - 1, p99_ms=2000)), 2 * RATE - 1, Rules()
    )
    assert hot.utilization >= 0.9 and hot.graded()[0] == "high"  # 90% busy: high whatever the SLO says
    zone = _graded(7, zone_loss=True, target=270.0)  # 71% busy; 4 left after a zone: saturated
    level, reasons = zone.graded()
    assert level == "high" and any("does not survive losing one zone" in r for r in reasons)
    assert _graded(7, zone_loss=False, target=270.0).graded()[0] in ("low", "medium")  # not required


# ------------------------------------------------------------------ issue 13's checkout at 360 req/s


@functools.lru_cache(maxsize=4)
def _checkout_360(**risk):
    return recommend(load_scenario(CHECKOUT, ["workload.rate_rps=360"]), seed=1, **risk).to_json()


def test_checkout_at_360_keeps_headroom_and_survives_a_zone():
    out = _checkout_360()
    assert out["rules"]["headroom_target_pct"] == 75.0 and out["rules"]["zone_loss_required"]
    assert out["slo"]["met"] and out["safe"]
    assert out["risk"]["within_headroom"] and out["risk"]["survives_zone_loss"] is True
    assert out["changes"].get("nodes.web.autoscale.target_cpu_pct", 70) <= 75
    # today's setup is what does not survive a zone at this load: no saving is safe
    assert out["baseline_risk"]["survives_zone_loss"] is False and out["baseline_risk"]["level"] == "high"
    if out["savings_monthly"] <= 0:
        assert out["verdict"].startswith("No saving is safe")
    # the old answer (HPA to 90%, a smaller database, no read replica) is named and not offered
    cheaper = out["riskier_cheaper"]
    assert cheaper is not None and cheaper["savings_monthly"] > 0 and cheaper["risk"]["level"] == "high"
    assert cheaper["risk"]["safe"] is False


def test_checkout_at_360_without_the_rules_is_the_old_answer():
    """The SLO alone (no headroom target, no zone) still finds the cheap, risky configuration."""
    out = _checkout_360(headroom_pct=100, zone_loss=False)
    assert out["savings_monthly"] > 0 and out["changes"]["nodes.web.autoscale.target_cpu_pct"] > 75
    assert out["rules"]["zone_loss_required"] is False and out["riskier_cheaper"] is None


def test_cli_checkout_at_360(capsys):
    args = ["recommend", str(CHECKOUT), "--set", "workload.rate_rps=360", "--json", "--seed", "1"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == _checkout_360()
    assert main(args[:-3] + ["--seed", "1"]) == 0  # the text: the verdict first, the grade, today's risk
    text = capsys.readouterr().out
    assert out["verdict"] in text and "Grade     low" in text and "Today     high risk" in text
    assert "Not offered:" in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--headroom-pct", "0"], "--headroom-pct must be above 0 and at most 100"),
        (["--must-hold-rps", "-5"], "--must-hold-rps must be a number above 0"),
        (["--peak-factor", "nan"], "--peak-factor must be a number above 0"),
    ],
)
def test_cli_refuses_bad_risk_options(flags, message, capsys):
    assert main(["recommend", str(CHECKOUT), *flags]) == 2
    assert message in capsys.readouterr().err


def test_analytic_zone_check_agrees_with_the_whatif():
    """The zone rule is `whatif --failure zone`'s state: the same SLO verdict for the same configuration."""
    from model.planning.failures import lose_zone

    scenario = scenario_from_data(mmc_scenario(9, SERVICE_MS, RATE, p99_ms=270))
    a = assess(scenario, RATE, Rules())
    assert a.survives_zone_loss == lose_zone(scenario, method="analytic").slo.met
    assert a.zone.latency_ms.p99 == pytest.approx(
        evaluate(
            scenario.model_copy(
                update={"nodes": {"web": scenario.nodes["web"].model_copy(update={"replicas": 6})}}
            ),
            "analytic",
        ).latency_ms.p99
    )
