"""The demo data: deterministic, and physically consistent enough for a fit to recover truths."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from connectors.base import Query
from connectors.demo import DemoSource
from connectors.errors import ConnectorError
from model.fit.file import DemoMetric


@pytest.fixture(scope="module")
def demo():
    return DemoSource().data()


def test_two_weeks_at_five_minutes_deterministic(demo):
    wide, truth = demo
    assert len(wide) == 14 * 288 and (wide.index[1] - wide.index[0]).total_seconds() == 300
    assert str(wide.index.tz) == "UTC" and wide.index[0] == truth.start
    from connectors import demo_data
    from model.scenario.reader import load_scenario

    again, _ = demo_data.generate(load_scenario(DemoSource().scenario_path), seed=7)  # not the memoised copy
    assert again.equals(wide)
    other, _ = DemoSource(seed=8).data()
    assert not other["traffic"].equals(wide["traffic"])


def test_cycles_peak_growth(demo):
    wide, truth = demo
    rate = wide["traffic"] / 300
    by_time = rate.groupby(rate.index.hour + rate.index.minute / 60).mean()
    assert (
        abs(by_time.idxmax() - 20) <= 0.25 and by_time.min() < 0.45 * by_time.max()
    )  # evening peak at 20:00 UTC
    weekend = rate[rate.index.day_of_week >= 5].mean() / rate[rate.index.day_of_week < 5].mean()
    assert 0.7 < weekend < 0.8
    first, second = rate.iloc[:2016].mean(), rate.iloc[2016:].mean()
    assert second / first == pytest.approx((1 + truth.growth_pct_per_month / 100) ** (7 / 30.44), rel=0.02)
    assert rate.max() == pytest.approx(truth.peak_rps, rel=0.15)


def test_utilization_law_and_ratios_are_recoverable(demo):
    wide, truth = demo
    quiet = wide[(wide.index < truth.incident[0]) | (wide.index >= truth.incident[1])]
    rate = quiet["traffic"] / 300
    for node in ("web", "cache", "db"):
        slope, intercept = np.polyfit(rate, quiet[f"{node}.cpu"] / 100, 1)
        assert slope == pytest.approx(truth.demand_s[node] / truth.cores[node], rel=0.05)
        assert intercept == pytest.approx(truth.background_cpu[node], abs=0.01)
    hits, misses = quiet["cache.hits"].sum(), quiet["cache.misses"].sum()
    assert hits / (hits + misses) == pytest.approx(truth.hit_ratio["cache"], abs=0.005)
    assert quiet["db.writes"].sum() / quiet["traffic"].sum() == pytest.approx(0.2, abs=0.005)
    assert quiet["orders.messages_in"].sum() / quiet["traffic"].sum() == pytest.approx(0.1, abs=0.005)


def test_incident_shows_in_database_cpu_and_latency(demo):
    wide, truth = demo
    during = wide[(wide.index >= truth.incident[0]) & (wide.index < truth.incident[1])]
    same_time_day_before = wide[
        (wide.index >= truth.incident[0] - timedelta(days=1))
        & (wide.index < truth.incident[1] - timedelta(days=1))
    ]
    assert truth.incident_nodes == ("db",)
    assert during["db.cpu"].mean() > 1.8 * same_time_day_before["db.cpu"].mean()
    assert during["latency_p99"].mean() > 1.2 * same_time_day_before["latency_p99"].mean()
    assert during["web.cpu"].mean() == pytest.approx(same_time_day_before["web.cpu"].mean(), rel=0.1)


def test_fetch_resamples_counts_by_sum_and_percent_by_mean(demo):
    wide, _ = demo
    frame = DemoSource().fetch(
        [Query("t", DemoMetric(series="traffic")), Query("c", DemoMetric(series="web.cpu"))],
        timedelta(days=14),
        3600,
    )
    hourly = frame[frame.series == "t"]
    assert len(hourly) == 336 and hourly["value"].sum() == wide["traffic"].sum()
    assert frame[frame.series == "c"]["value"].iloc[0] == pytest.approx(wide["web.cpu"].iloc[:12].mean())
    assert set(frame[frame.series == "c"]["unit"]) == {"Percent"}


def test_unknown_series_and_bad_period():
    with pytest.raises(ConnectorError, match="no series 'web.memory'.*web.cpu"):
        DemoSource().fetch([Query("m", DemoMetric(series="web.memory"))], timedelta(days=1), 300)
    with pytest.raises(ConnectorError, match="period_s 420"):
        DemoSource().fetch([Query("t", DemoMetric(series="traffic"))], timedelta(days=1), 420)


def test_discover_lists_every_series():
    found = {m.metric.series: m for m in DemoSource().discover()}
    assert found["web.cpu"].suggested_key == "cpu" and found["traffic"].unit == "Count"
    assert {"cache.hits", "cache.misses", "db.reads", "db.writes", "latency_p99"} <= set(found)


def test_autoscaled_service_follows_the_usl(demo):
    from connectors.demo_data import AUTOSCALED, usl_capacity_rps

    wide, truth = demo
    spec, usl = AUTOSCALED, truth.usl["search"]
    assert (usl["sigma"], usl["kappa"], usl["lambda_rps"]) == (0.04, 0.0012, pytest.approx(100.0))
    replicas = wide["search.replicas"]
    assert (
        (replicas == replicas.round()).all()
        and spec["min"] <= replicas.min()
        and replicas.max() <= spec["max"]
    )
    assert (
        replicas.nunique() >= 8 and truth.units["search.replicas"] != "Count"
    )  # a count of replicas is averaged, not summed
    # the HPA follows load: more replicas in the busiest hours than at night
    busy = wide["search.requests"] > wide["search.requests"].quantile(0.9)
    assert replicas[busy].median() >= 3 * replicas[~busy].min()
    # CPU is background + rate / capacity(N), with the USL's capacity
    net = wide["search.cpu"] / 100 - spec["background"]
    capacity = (wide["search.requests"] / 300 / net).groupby(replicas).median()
    sizes = replicas.value_counts()
    for n, value in capacity.items():
        if sizes[n] >= 30:
            assert value == pytest.approx(float(usl_capacity_rps(n)), rel=0.02), n


def test_autoscaled_series_leave_the_scenarios_series_alone(demo, monkeypatch):
    from connectors import demo_data
    from model.scenario.reader import load_scenario

    wide, truth = demo
    monkeypatch.setattr(demo_data, "_autoscaled", lambda *args: {})
    without, truth_without = demo_data.generate(load_scenario(DemoSource().scenario_path), seed=7)
    assert set(wide.columns) - set(without.columns) == {"search.requests", "search.cpu", "search.replicas"}
    assert wide[list(without.columns)].equals(without)
    assert truth_without.demand_s == truth.demand_s and truth_without.peak_rps == truth.peak_rps
