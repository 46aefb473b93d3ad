"""One verdict for a load: holds, holds only with autoscaling, breaks; runway and saturation on each
assumption (issue 13: What-if's red "Saturated" beside "the HPA would hold 10 replicas")."""

from __future__ import annotations

import math
from pathlib import Path

from model.planning.diff import at_most_replicas
from model.planning.forecast import runway
from model.planning.holding import BREAKS, HOLDS, WITH_AUTOSCALING, holding, stretch, without_autoscaling
from model.queueing.offered_load import saturation_rps
from model.scenario.reader import load_scenario, scenario_from_data
from tests.model.planning.planning_helpers import mmc_scenario

CHECKOUT = Path(__file__).resolve().parents[3] / "scenarios" / "checkout.yaml"


def test_checkout_holds_only_with_autoscaling_at_360():
    """4 replicas of 2 cores hold 8 cores; 360 req/s x 40 ms is 14.4 busy cores: saturated as set,
    and the HPA (target 70%, max 10) would hold 10 replicas, 72% busy."""
    h = holding(load_scenario(CHECKOUT, ["workload.rate_rps=360"]))
    assert h.verdict == WITH_AUTOSCALING
    assert "web" in h.fixed.saturated and h.autoscaled.slo.met
    assert h.replicas["web"] == (4, 10, 10)
    text = h.sentence()
    assert text.startswith("Holds only with autoscaling:") and "web from 4 to 10 replicas" in text
    assert "web cannot keep up with 360 req/s" in text


def test_checkout_holds_as_set_today_and_breaks_past_the_hpa_max():
    assert holding(load_scenario(CHECKOUT)).verdict == HOLDS
    h = holding(load_scenario(CHECKOUT, ["workload.rate_rps=2000"]))
    assert h.verdict == BREAKS and "even with web at its max of 10 replicas" in h.sentence()


def test_without_an_hpa_the_verdict_flips_at_the_slo():
    scenario = scenario_from_data(mmc_scenario(4, 50, 60, p99_ms=500))
    assert holding(scenario).verdict == HOLDS  # 75% busy
    assert holding(scenario, 80.0).verdict == BREAKS  # 100%: saturated
    assert holding(scenario, 80.0).autoscaled is None


def test_stretch_names_each_assumption():
    """Saturation: 8 cores / (0.04 s x 1 visit) = 200 req/s as set; 20 cores at the HPA's max = 500."""
    scenario = load_scenario(CHECKOUT)
    fixed, scaled = stretch(scenario)
    assert fixed.assumption == "replicas as set" and scaled.assumption == "HPA up to max"
    assert fixed.saturation_rps == saturation_rps(without_autoscaling(scenario))
    assert scaled.saturation_rps == saturation_rps(at_most_replicas(scenario))
    assert fixed.saturation_rps < scaled.saturation_rps
    assert scaled.runway_months == runway(scenario, scenario.workload.horizon_months)[0]
    assert fixed.runway_months is not None and (
        scaled.runway_months is None or scaled.runway_months > fixed.runway_months
    )
    plain = stretch(scenario_from_data(mmc_scenario(4, 50, 60, p99_ms=500)))
    assert len(plain) == 1 and math.isclose(plain[0].saturation_rps, 80.0)


def test_the_seed_stories_break_where_their_files_say():
    """three-tier: the database saturates first at 1.4x (more pods cannot help); kafka-consumers: the
    consumers saturate at 150% of peak."""
    folder = CHECKOUT.parent
    tier = load_scenario(folder / "three-tier.yaml")
    assert holding(tier, 1.2 * tier.workload.rate_rps).verdict == HOLDS  # db 86% busy
    h = holding(tier, 1.45 * tier.workload.rate_rps)
    assert h.verdict == BREAKS and h.fixed.saturated == ["db"] and "db cannot keep up" in h.sentence()
    kafka = load_scenario(folder / "kafka-consumers.yaml")
    h = holding(kafka, 1.5 * kafka.workload.rate_rps)
    assert h.verdict == BREAKS and any(
        n in h.fixed.saturated for n in kafka.nodes if kafka.nodes[n].kind == "kafka"
    )
