"""Peak events: verdicts on the seed stories, against exact M/M/c theory, with the HPA, and what to add."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from model.planning.autoscale import simulate_day
from model.planning.failures import zone_loss_scenario
from model.planning.peak import peak
from model.planning.peak_additions import apply, node_utilization
from model.planning.peak_event import PeakEvent, PeakInputError, track
from model.pricing.catalog import hourly_price
from model.scenario.reader import load_scenario, scenario_from_data
from tests.model.planning.planning_helpers import mmc_p99_ms, mmc_scenario

ROOT = Path(__file__).resolve().parents[3]
THREE_TIER = ROOT / "scenarios" / "three-tier.yaml"
KAFKA = ROOT / "scenarios" / "kafka-consumers.yaml"
CHECKOUT = ROOT / "scenarios" / "checkout.yaml"
THEORY_ONLY = 0  # no simulated arrivals: every minute by queueing theory (exact for M/M/c)


# ---------------------------------------------------------------- the event's shape


def test_the_load_ramps_holds_and_decays():
    event = PeakEvent(3, 1, ramp_minutes=30)
    rate = lambda t: float(event.rate_rps(100.0, t))  # noqa: E731
    assert rate(-60) == 100 and rate(0) == 100
    assert rate(900) == pytest.approx(200)  # half way up the ramp
    assert rate(1800) == 300 and rate(1800 + 86_000) == 300
    assert rate(event.plateau_end_s + 900) == pytest.approx(200)
    assert rate(event.end_s + 1) == 100
    step = PeakEvent(2, 0.5, ramp_minutes=0)
    assert float(step.rate_rps(100.0, -1e-3)) == 100 and float(step.rate_rps(100.0, 0.0)) == 200


@pytest.mark.parametrize(
    "kwargs, option",
    [
        ({"factor": 0.5, "days": 1}, "--factor"),
        ({"factor": math.nan, "days": 1}, "--factor"),
        ({"factor": 3, "days": 0}, "--days"),
        ({"factor": 3, "days": 40}, "--days"),
        ({"factor": 3, "days": 1, "ramp_minutes": -5}, "--ramp-minutes"),
    ],
)
def test_a_bad_event_names_its_option(kwargs, option):
    with pytest.raises(PeakInputError, match=option):
        PeakEvent(**kwargs)


# ---------------------------------------------------------------- exact theory: one M/M/c station, a step


def _mmc(**slo):
    """Two servers of 10 ms: capacity 200 req/s; the planning load 100 req/s."""
    return scenario_from_data(mmc_scenario(2, 10, 100, extra_slo=slo))


@pytest.mark.parametrize("factor, holds", [(1.999, True), (2.001, False)])
def test_the_verdict_flips_where_utilization_reaches_one(factor, holds):
    result = peak(_mmc(max_error_pct=0.1), PeakEvent(factor, 1, ramp_minutes=0), requests=THEORY_ONLY)
    assert result.holds is holds
    if not holds:
        assert result.breaks.node == "web" and result.breaks.minute == 0.0
        assert result.breaks.rate_rps == pytest.approx(100 * factor)
    assert result.first_to_saturate == ("web", pytest.approx(200.0))


def test_with_a_p99_target_the_verdict_flips_at_the_exact_mmc_quantile():
    target_ms = 100.0
    lo, hi = 100.0, 199.999  # the rate at which M/M/2's p99 reaches the target, from the textbook CDF
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mmc_p99_ms(2, mid, 10) < target_ms else (lo, mid)
    flip = lo / 100.0
    scenario = _mmc(p99_ms=target_ms)
    below = peak(scenario, PeakEvent(flip * 0.99, 1, 0), requests=THEORY_ONLY)
    above = peak(scenario, PeakEvent(flip * 1.01, 1, 0), requests=THEORY_ONLY)
    assert below.verdict == "holds" and above.verdict == "breaks"
    assert "p99" in above.breaks.reason


def test_the_simulator_sees_the_step_overload_and_not_the_step_just_below():
    data = mmc_scenario(2, 10, 100, extra_slo={"max_error_pct": 0.1})
    data["nodes"]["web"]["timeout_ms"] = 3000
    scenario = scenario_from_data(data)
    below = peak(scenario, PeakEvent(1.95, 1, 0), seed=3, requests=120_000)
    above = peak(scenario, PeakEvent(2.05, 1, 0), seed=3, requests=120_000)
    assert below.simulated["from_minute"] == -5 and below.simulated["to_minute"] >= 6  # the step simulated
    assert below.verdict == "holds"
    assert all(m.error_pct == 0 for m in below.series if m.source == "simulation")
    assert above.verdict == "breaks" and above.breaks.minute == 0.0
    # queues grow at 5 req/s past capacity until requests time out: the simulated minutes show errors
    late = [m for m in above.series if m.source == "simulation" and m.minute >= 3]
    assert late and all(m.error_pct > 0 for m in late)


# ---------------------------------------------------------------- the seed stories


def test_three_tier_breaks_at_the_database_before_14x():
    """scenarios/three-tier.yaml: the database saturates first, at about 1.4x."""
    scenario = load_scenario(THREE_TIER)
    result = peak(scenario, PeakEvent(3, 1), seed=1)
    assert result.verdict == "breaks"
    assert result.breaks.node == "db"
    assert result.first_to_saturate == ("db", pytest.approx(120 / 0.72))  # 72% busy at 120 req/s
    # on a 30-minute ramp from 1x to 3x, 1.39x is reached at minute 5.8: it gives out by then (the SLO
    # goes first, as the database nears 100%)
    assert 1.2 <= result.breaks.factor <= 120 / 0.72 / 120 + 1e-9
    assert 2.5 <= result.breaks.minute <= 5.85
    assert "nodes.db.read_replicas" in result.additions.changes


def test_kafka_drops_at_150_percent_of_peak_and_holds_at_130():
    """scenarios/kafka-consumers.yaml: six consumers keep up to 273 msg/s (1.36x); at 1.5x messages drop."""
    scenario = load_scenario(KAFKA)
    held = peak(scenario, PeakEvent(1.3, 1), seed=1)
    assert held.verdict == "holds" and held.breaks is None
    ramp = peak(scenario, PeakEvent(1.5, 1, ramp_minutes=30), requests=THEORY_ONLY)
    assert ramp.verdict == "breaks" and ramp.breaks.node == "events"
    assert ramp.breaks.rate_rps == pytest.approx(6 / 0.022, rel=0.002)  # 272.7 msg/s, at minute 21.8
    assert math.floor(ramp.breaks.minute) == 21
    # a step to 1.5x, simulated: the backlog fills the partitions (500 messages each, growing at about
    # 4.5 a second) and messages are dropped, about 1 - 273/300 = 9% of them
    step = peak(scenario, PeakEvent(1.5, 1, ramp_minutes=0), seed=1, requests=150_000)
    assert step.verdict == "breaks" and step.breaks.node == "events" and step.breaks.minute == 0
    plateau = [m for m in step.series if m.source == "simulation" and m.minute >= 3]
    assert plateau and all(m.kafka_drop_pct > 3.0 for m in plateau)


def test_checkout_holds_at_3x_with_autoscaling():
    scenario = load_scenario(CHECKOUT)
    result = peak(scenario, PeakEvent(3, 1), seed=1)
    assert result.verdict == "holds_with_autoscaling", result.breaks
    assert result.scaling["web"]["before"] == 4 and result.scaling["web"]["peak"] == 10
    assert result.held is not None  # a day of plateau is extrapolated, and said so
    assert any("extrapolated" in n for n in result.notes)
    sim = [m for m in result.series if m.source == "simulation"]
    assert sim and all(not m.violations for m in sim)
    assert max(m.replicas["web"] for m in sim) == 10


def test_a_step_outruns_the_hpa_and_scaling_up_before_the_event_fixes_it():
    scenario = load_scenario(CHECKOUT)
    step = peak(scenario, PeakEvent(3, 1, ramp_minutes=0), seed=1)
    assert step.verdict == "breaks" and step.breaks.node == "web"  # 30 s of start-up at 1.8x capacity
    assert step.breaks.minute < 2
    changes = step.additions.changes
    assert changes.get("nodes.web.autoscale.min", 0) >= 10
    fixed = peak(apply(scenario, changes), PeakEvent(3, 1, ramp_minutes=0), seed=1)
    assert fixed.holds, fixed.breaks


# ---------------------------------------------------------------- what to add, applied and re-run


@pytest.mark.parametrize(
    "path, factor", [(THREE_TIER, 3.0), (KAFKA, 1.5)], ids=["three-tier 3x", "kafka 1.5x"]
)
def test_the_additions_make_the_event_hold_when_applied(path, factor):
    scenario = load_scenario(path)
    event = PeakEvent(factor, 1)
    first = peak(scenario, event, requests=THEORY_ONLY)
    assert not first.holds and first.additions.changes
    grown = apply(scenario, first.additions.changes)
    again = peak(grown, event, seed=2)
    assert again.holds, again.breaks
    for name in scenario.nodes:  # every node at or under 75% at the plateau
        assert node_utilization(grown, name, factor * scenario.workload.rate_rps) <= 0.75 + 1e-9
    zone = apply(scenario, first.zone_additions.changes)
    lost = zone_loss_scenario(zone)
    for name in scenario.nodes:
        assert node_utilization(lost, name, factor * scenario.workload.rate_rps) <= 0.75 + 1e-9
    lost_event = peak(lost, event, seed=2)  # with the zone gone, the event still holds
    assert lost_event.holds, lost_event.breaks


def test_the_additions_are_the_fewest():
    scenario = load_scenario(THREE_TIER)
    changes = peak(scenario, PeakEvent(3, 1), requests=THEORY_ONLY).additions.changes
    replicas = changes["nodes.db.read_replicas"]
    one_less = apply(scenario, {"nodes.db.read_replicas": replicas - 1})
    assert node_utilization(one_less, "db", 360) > 0.75
    # by hand: reads 3 x 6 ms spread over the instances, writes 0.5 x 12 ms on the primary, 4 cores
    assert (3 * 360 * 0.006 / (replicas + 1) + 0.5 * 360 * 0.012) / 4 <= 0.75


# ---------------------------------------------------------------- cost in dollars for the event's hours


def test_extra_cost_of_fixed_additions_by_hand():
    scenario = load_scenario(THREE_TIER)
    result = peak(scenario, PeakEvent(3, 1), requests=THEORY_ONLY)
    hours = (30 + 24 * 60 + 30) / 60 + 2 / 60  # ramp, day, decay, and two minutes of tail
    assert result.cost.hours == pytest.approx(hours)
    assert result.cost.extra_usd == 0  # nothing autoscales: the event costs what a normal day does
    db = scenario.nodes["db"]
    added = result.additions.changes["nodes.db.read_replicas"] - db.read_replicas
    by_hand = added * hourly_price(db.instance, scenario.pricing) * hours
    assert result.cost.to_json()["extra_with_additions"] == pytest.approx(by_hand, abs=0.01)


def test_extra_cost_of_autoscaling_by_hand():
    """A step to 3x with no start-up and no stabilization: the HPA holds 2.5x the pods for the day."""
    hpa = {"target_cpu_pct": 50, "min": 1, "max": 100, "startup_s": 0, "scale_down_stabilization_s": 0}
    scenario = scenario_from_data(mmc_scenario(4, 50, 40, autoscale=hpa))
    # 40 req/s x 50 ms = 2 busy cores: 4 pods at 50%; at 120 req/s 6 busy cores: 12 pods
    result = peak(scenario, PeakEvent(3, 1, ramp_minutes=0), requests=THEORY_ONLY)
    assert result.scaling["web"] == {"before": 4, "peak": 12, "max": 100}
    price = hourly_price(scenario.nodes["web"].instance, scenario.pricing)
    hours = 24 + 2 / 60
    event_by_hand = price * (12 * 24 + 4 * 2 / 60)
    assert result.cost.event_usd == pytest.approx(event_by_hand, abs=price * 2 * 15 / 3600 * 12)
    normal = simulate_day(scenario).mean_replicas["web"] * price * hours
    assert result.cost.normal_usd == pytest.approx(normal, abs=0.01)
    assert result.cost.extra_usd == pytest.approx(event_by_hand - normal, abs=price * 2 * 15 / 3600 * 12)


def test_the_track_holds_the_plateau_rather_than_stepping_a_week():
    scenario = load_scenario(CHECKOUT)
    week = track(scenario, PeakEvent(3, 7), 120.0)
    assert len(week.times_s) < 1000  # the ramp, ten minutes of plateau, the decay and the tail
    assert week.held_to_s - week.held_from_s > 6.9 * 86_400
    assert week.unit_hours("web", 0.0, 7 * 86_400) == pytest.approx(10 * 7 * 24, rel=0.01)


def test_a_closed_workload_peaks_at_its_users_throughput_times_the_factor():
    """Issue 18: a peak accepts users; the event is the factor times what they send today (MVA),
    offered as an open load, and the note says so."""
    from model.planning.load import planning_rate

    scenario = load_scenario(ROOT / "scenarios" / "checkout-users.yaml")
    sends = planning_rate(scenario)
    result = peak(scenario, PeakEvent(factor=2.0, days=1.0, ramp_minutes=30.0), requests=0)
    doc = result.to_json()
    assert any(n.startswith("closed workload: 150 users send") for n in doc["notes"])
    assert f"({sends:,.0f} req/s)" in doc["notes"][0]
