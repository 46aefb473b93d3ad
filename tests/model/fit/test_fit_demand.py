"""The statistics under the fit: robust utilization law, where it bends, the load's growth and peak."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.fit.demand import fit_demand
from model.fit.traffic import fit_load

STAMPS = pd.date_range("2025-01-06", periods=14 * 288, freq="300s", tz="UTC")  # two weeks from a Monday


def cycle(
    rng, peak_rps: float = 100.0, growth_pct: float = 0.0, stamps: pd.DatetimeIndex = STAMPS
) -> pd.Series:
    hours = stamps.hour + stamps.minute / 60
    months = (stamps - stamps[-1]).total_seconds() / 86400 / 30.44
    rate = (
        peak_rps
        * (0.3 + 0.7 * np.exp(-0.5 * ((hours - 18) / 3) ** 2))
        * np.where(stamps.day_of_week >= 5, 0.7, 1.0)
    )
    return pd.Series(
        rate * (1 + growth_pct / 100) ** months * rng.lognormal(0, 0.03, len(stamps)), index=stamps
    )


def test_an_incident_neither_drags_the_slope_nor_goes_unreported():
    rng = np.random.default_rng(1)
    rate = cycle(rng)
    busy = 0.05 + rate * 0.004 + rng.normal(0, 0.003, len(rate))
    incident = (STAMPS >= "2025-01-15 18:00") & (STAMPS < "2025-01-15 21:00")
    busy[incident] += 0.35
    fit = fit_demand(rate, busy, 300)
    assert fit.slope == pytest.approx(0.004, rel=0.02)
    assert fit.slope_ci95[0] < 0.004 < fit.slope_ci95[1]
    assert fit.background == pytest.approx(0.05, abs=0.005)
    assert fit.off_line and fit.off_line[0].startswith(
        "2025-01-15 18:00 to 21:00 UTC: CPU 35.0 points above it"
    )
    ols = np.polyfit(rate, busy, 1)[0]
    assert abs(ols / 0.004 - 1) > 2 * abs(fit.slope / 0.004 - 1)  # least squares is pulled, Huber is not


def test_saturation_is_named_with_the_load_where_it_starts():
    rng = np.random.default_rng(2)
    rate = cycle(rng, peak_rps=200)
    busy = np.minimum(0.05 + rate * 0.006, 0.97) + rng.normal(0, 0.004, len(rate))
    fit = fit_demand(rate, busy.clip(0, 1), 300)
    assert fit.nonlinear is not None and "saturation: CPU reaches" in fit.nonlinear
    assert "req/s at the entry" in fit.nonlinear


def test_a_straight_line_is_not_called_bent():
    rng = np.random.default_rng(3)
    rate = cycle(rng)
    fit = fit_demand(rate, 0.02 + rate * 0.003 + rng.normal(0, 0.003, len(rate)), 300)
    assert fit.nonlinear is None and not fit.off_line and fit.r2 > 0.95


@pytest.mark.parametrize("growth", [-5.0, 0.0, 12.0])
def test_growth_and_its_interval(growth):
    rng = np.random.default_rng(4)
    load = fit_load(cycle(rng, growth_pct=growth), 300)
    assert abs(load.growth_pct_per_month - growth) <= 2.0
    assert load.growth_ci95[0] <= growth <= load.growth_ci95[1]
    assert load.weekly_shape[6] == pytest.approx(0.7 * load.weekly_shape[2], rel=0.05)


def test_growth_does_not_depend_on_the_hour_the_window_starts():
    """A window that starts mid-evening and ends mid-morning holds more peak hours on its first
    day than its last: averaging whole calendar days read that as a trend (up to 30 points a
    month on these two weeks), so the daily cycle is fitted with the trend."""
    rng = np.random.default_rng(6)
    rate = cycle(
        rng, growth_pct=5.0, stamps=pd.date_range("2025-01-06", periods=17 * 288, freq="300s", tz="UTC")
    )
    errors = []
    for start_hour in range(0, 72, 3):
        window = rate.iloc[start_hour * 12 : start_hour * 12 + 14 * 288]  # two weeks
        load = fit_load(window, 300)
        errors.append(load.growth_pct_per_month - 5.0)
    assert max(abs(e) for e in errors) <= 2.0, errors


def test_under_two_weeks_weekends_are_still_told_apart_from_the_trend():
    fits = [
        fit_load(cycle(np.random.default_rng(seed), growth_pct=5.0).iloc[: 12 * 288], 300)  # one Saturday
        for seed in range(40)
    ]
    assert all(abs(f.growth_pct_per_month - 5.0) <= 2.0 for f in fits)
    covered = np.mean([f.growth_ci95[0] <= 5.0 <= f.growth_ci95[1] for f in fits])
    assert 0.85 <= covered <= 1.0, covered  # a 95% interval, over 40 independent windows
    assert "only weekends are told apart" in " ".join(fits[0].notes)


def test_peak_is_a_percentile_of_busy_hours_and_short_windows_skip_growth():
    rng = np.random.default_rng(5)
    rate = cycle(rng)
    load = fit_load(rate, 300, peak_percentile=50)
    busy_hours = rate.resample("1h").mean().groupby(lambda t: t.floor("D")).max()
    assert load.peak_rps == pytest.approx(float(np.median(busy_hours)))
    assert load.peak_rps < fit_load(rate, 300, peak_percentile=100).peak_rps
    short = fit_load(rate.iloc[: 3 * 288], 300)
    assert short.growth_pct_per_month is None and "growth not fitted: 3 day(s)" in short.notes[0]


def test_a_negative_background_is_refused_and_the_demand_fitted_through_zero():
    """CPU per request that rises with load (contention) pulls a free intercept below zero, and the
    slope paired with it above the CPU per request seen at any load; held at zero, the demand lies
    within what was measured."""
    rng = np.random.default_rng(4)
    rate = cycle(rng, peak_rps=150)
    per_request = 0.0022 + 0.000008 * rate  # 2.2 ms idle-ish, 3.4 ms at 150 req/s
    busy = rate * per_request + rng.normal(0, 0.002, len(rate))
    free = np.polyfit(rate, busy, 1)
    assert free[1] < -0.01  # the data really does pull the intercept below zero
    fit = fit_demand(rate, busy, 300)
    assert fit.background == 0.0 and fit.background_ci95 == (0.0, 0.0)
    assert fit.negative_background is not None and fit.negative_background < 0
    observed = busy / rate
    assert observed.min() < fit.slope < observed.max()
    assert fit.slope < free[0]
    (warning,) = [w for w in fit.warnings("nodes.web.cpu") if "idle CPU" in w]
    assert f"{100 * fit.negative_background:.1f} %" in warning


def test_a_positive_background_is_kept_as_fitted():
    rng = np.random.default_rng(5)
    rate = cycle(rng)
    fit = fit_demand(rate, 0.03 + rate * 0.003 + rng.normal(0, 0.003, len(rate)), 300)
    assert fit.negative_background is None
    assert fit.background == pytest.approx(0.03, abs=0.004)
