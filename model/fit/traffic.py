"""The load the scenario should plan for: peak-hour rate, daily and weekly shape, growth.

Capacity is sized for the busy hour, not the average, so the planning rate is a chosen
percentile (default 90th) of each day's busiest hour: high enough to cover ordinary peaks,
not so high that one odd spike sets the fleet size. Growth is a regression of log hourly
rates on time with a term per hour of the day, and a term per weekday when every weekday is
seen twice (else one for weekends): in a two-week window the weekend days are not centred in time and would otherwise
read as a trend, and a window that starts or ends mid-day would read the daily cycle as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import stdtrit

DAYS_PER_MONTH = 30.44
MIN_GROWTH_DAYS = 7
MIN_DAY_HOURS = 6  # a day counts towards growth when this many of its hours have traffic
HOUR_COVERAGE = 0.5


@dataclass(frozen=True)
class LoadFit:
    peak_rps: float  # the planning rate
    peak_percentile: float
    busy_hours: int  # days whose busiest hour entered the percentile
    mean_rps: float
    max_rps: float  # the highest single period
    daily_shape: list[float]  # 24 values, mean rate by UTC hour / overall mean
    weekly_shape: list[float] | None  # Monday..Sunday / overall mean, with 7+ days
    growth_pct_per_month: float | None
    growth_ci95: tuple[float, float] | None
    growth_days: int
    notes: list[str] = field(default_factory=list)
    mode: str = "history"  # or "load_test": phases, not days (model.fit.phases)
    phases: list = field(default_factory=list)
    growth_ci90: tuple[float, float] | None = None  # the 90% interval (the forecast's band)

    def to_json(self) -> dict:
        if self.mode == "load_test":
            return {
                "mode": self.mode,
                "peak_rps": round(self.peak_rps, 4),
                "mean_rps": round(self.mean_rps, 4),
                "max_rps": round(self.max_rps, 4),
                "phases": [p.to_json() for p in self.phases],
                "growth_pct_per_month": None,
                "notes": list(self.notes),
            }
        return {
            "mode": self.mode,
            "peak_rps": round(self.peak_rps, 4),
            "peak_percentile": self.peak_percentile,
            "busy_hours": self.busy_hours,
            "mean_rps": round(self.mean_rps, 4),
            "max_rps": round(self.max_rps, 4),
            "daily_shape": [round(v, 4) for v in self.daily_shape],
            "weekly_shape": [round(v, 4) for v in self.weekly_shape] if self.weekly_shape else None,
            "growth_pct_per_month": None
            if self.growth_pct_per_month is None
            else round(self.growth_pct_per_month, 3),
            "growth_ci95": None if self.growth_ci95 is None else [round(v, 3) for v in self.growth_ci95],
            "growth_days": self.growth_days,
            "notes": list(self.notes),
        }


def fit_load(rate_rps: pd.Series, period_s: int, peak_percentile: float = 90.0) -> LoadFit:
    """Everything about the entry rate the scenario and the forecast need."""
    present = rate_rps.dropna()
    notes: list[str] = []
    per_hour = 3600 // period_s if period_s <= 3600 else 1
    hourly = present.resample("1h").agg(["mean", "count"])
    hourly = hourly[hourly["count"] >= max(1, HOUR_COVERAGE * per_hour)]["mean"]
    busiest = hourly.groupby(hourly.index.floor("D")).max()
    if len(busiest):
        peak = float(np.percentile(busiest.to_numpy(), peak_percentile))
    else:
        peak = float(present.max())
        notes.append("no hour had enough data for a busy-hour rate; the planning rate is the highest period")
    mean = float(present.mean())
    by_hour = present.groupby(present.index.hour).mean()
    daily = [float(by_hour.get(h, np.nan) / mean) if mean > 0 else 1.0 for h in range(24)]
    days = present.index.floor("D").unique()
    weekly = None
    if len(days) >= 7 and present.index.day_of_week.nunique() == 7:
        by_day = present.groupby(present.index.day_of_week).mean()
        weekly = [float(by_day[d] / mean) if mean > 0 else 1.0 for d in range(7)]
    growth, ci, used, ci90 = _growth(present, period_s, notes)
    return LoadFit(
        peak,
        peak_percentile,
        len(busiest),
        mean,
        float(present.max()),
        daily,
        weekly,
        growth,
        ci,
        used,
        notes,
        growth_ci90=ci90,
    )


def fit_load_test(rate_rps: pd.Series, phases: list) -> LoadFit:
    """A load test's load: the planning rate is the highest steady phase's mean (else the highest period).

    A load test has no days, busy hours or growth; the scenario is solved at the load the test
    held longest at its top, and growth is 0 (said so), since minutes say nothing about months.
    """
    present = rate_rps.dropna()
    notes = [
        "load test: the planning rate is the highest phase's mean rate; minutes of data say nothing about "
        "growth, so 0 % per month is written (set it from your history)"
    ]
    if phases:
        top = max(phases, key=lambda p: p.mean_rps)
        peak = float(top.mean_rps)
    else:
        peak = float(present.max())
        notes.append("load test: no steady phase; the planning rate is the highest period")
    return LoadFit(
        peak,
        100.0,
        0,
        float(present.mean()),
        float(present.max()),
        [],
        None,
        None,
        None,
        0,
        notes,
        "load_test",
        list(phases),
    )


def _growth(
    rate: pd.Series, period_s: int, notes: list[str]
) -> tuple[float | None, tuple[float, float] | None, int, tuple[float, float] | None]:
    """Growth per month, its 95% and 90% intervals, and the days it was fitted on."""
    hourly = rate.resample("1h").mean().dropna() if period_s < 3600 else rate
    hourly = hourly[hourly > 0]
    day_of = hourly.index.floor("D")
    hours_per_day = hourly.groupby(day_of).size()
    used_days = hours_per_day[hours_per_day >= MIN_DAY_HOURS * min(1.0, 3600 / period_s)].index
    if len(used_days) < MIN_GROWTH_DAYS:
        notes.append(
            f"growth not fitted: {len(used_days)} day(s) with traffic in at least {MIN_DAY_HOURS} of their "
            f"hours; it needs {MIN_GROWTH_DAYS}"
        )
        return None, None, len(used_days), None
    hourly = hourly[day_of.isin(used_days)]
    day_of = hourly.index.floor("D")
    t = ((hourly.index - hourly.index[0]).total_seconds() / 86400).to_numpy()
    hour, weekday = hourly.index.hour.to_numpy(), hourly.index.day_of_week.to_numpy()
    columns = [np.ones(len(hourly)), t]
    columns += [(hour == h).astype(float) for h in np.unique(hour)[1:]]
    day_weekdays = used_days.day_of_week
    day_terms = 2
    weekend_days = int((day_weekdays >= 5).sum())
    if all((day_weekdays == d).sum() >= 2 for d in range(7)):
        columns += [(weekday == d).astype(float) for d in range(1, 7)]
        day_terms += 6
    elif weekend_days >= 2 and len(used_days) - weekend_days >= 2:
        columns.append((weekday >= 5).astype(float))
        day_terms += 1
        notes.append("growth: fewer than two of every weekday, so only weekends are told apart from weekdays")
    else:
        notes.append("growth: too few weekend days to separate the weekly cycle from the trend")
    dof_days = len(used_days) - day_terms
    if dof_days < 2:
        notes.append("growth not fitted: too few days for the trend and the weekly cycle together")
        return None, None, len(used_days), None
    x = np.column_stack(columns)
    y = np.log(hourly.to_numpy())
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    sigma2 = float(resid @ resid) / max(1, len(y) - x.shape[1])
    # Hours of one day share their noise (a slow day is slow all day), so independent hours would
    # overstate the evidence: the variance is widened by the design effect, measured as how much
    # more the daily residual means vary than independent hours would make them.
    by_day = pd.Series(resid).groupby(day_of.to_numpy())
    design_effect = (
        max(1.0, float((by_day.size() * by_day.mean() ** 2).sum() / by_day.size().sum() / sigma2))
        if sigma2 > 0
        else 1.0
    )
    se = float(np.sqrt(sigma2 * design_effect * np.linalg.pinv(x.T @ x)[1, 1]))
    tq = float(stdtrit(dof_days, 0.975))
    tq90 = float(stdtrit(dof_days, 0.95))

    def monthly(slope_per_day: float) -> float:
        return 100.0 * (np.exp(slope_per_day * DAYS_PER_MONTH) - 1.0)

    return (
        monthly(coef[1]),
        (monthly(coef[1] - tq * se), monthly(coef[1] + tq * se)),
        len(used_days),
        (monthly(coef[1] - tq90 * se), monthly(coef[1] + tq90 * se)),
    )
