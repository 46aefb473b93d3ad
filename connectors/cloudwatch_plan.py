"""CloudWatch's limits, turned into a plan before any call is made.

GetMetricData takes at most 500 queries and returns at most 100,800 points a call, so a
pull needs at least ceil(points / 100,800) calls and ceil(queries / 500) calls; the plan
packs queries to meet that minimum. Periods must suit the data's age (1-minute data is
kept 15 days, 5-minute 63 days, 1-hour 455 days), and the bill is per metric requested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from connectors.errors import ConnectorError
from connectors.window import Window

MAX_QUERIES_PER_CALL = 500
MAX_POINTS_PER_CALL = 100_800
USD_PER_1000_METRICS = 0.01
LARGE_PULL_METRICS = 1_000  # above this, callers should show the cost before pulling
_RETENTION = ((15, 60), (63, 300), (455, 3600))  # (days of age, the period must be a multiple of)


@dataclass(frozen=True)
class Plan:
    """How a pull will be made and what it will cost."""

    queries: int
    points_per_query: int
    queries_per_call: int
    calls: int
    cost_usd: float

    @property
    def large(self) -> bool:
        return self.queries >= LARGE_PULL_METRICS

    def describe(self) -> str:
        return (
            f"{self.queries} metric(s) x {self.points_per_query} point(s) in {self.calls} GetMetricData call(s), "
            f"about ${self.cost_usd:.4f}"
        )


def check_period(window: Window, now: datetime | None = None) -> None:
    """Refuse a period CloudWatch cannot serve for data this old, saying which would work."""
    now = now or datetime.now(timezone.utc)
    age_days = (now - window.start).total_seconds() / 86400
    for max_age, multiple in _RETENTION:
        if age_days <= max_age:
            if window.period_s % multiple:
                raise ConnectorError(
                    f"CloudWatch keeps data older than {_previous_age(max_age)} days only at {multiple}-second resolution, "
                    f"and period_s {window.period_s} is not a multiple of {multiple}.",
                    f"Use period_s: {multiple * math.ceil(window.period_s / multiple)} or a shorter lookback_days.",
                    source="cloudwatch",
                )
            return
    raise ConnectorError(
        f"CloudWatch keeps metrics for 455 days; the window starts {age_days:.0f} days ago.",
        "Use lookback_days of 455 or less.",
        source="cloudwatch",
    )


def _previous_age(max_age: int) -> int:
    ages = [age for age, _ in _RETENTION]
    return ages[ages.index(max_age) - 1] if ages.index(max_age) else 0


def plan(queries: int, window: Window) -> Plan:
    points = window.buckets
    if points > MAX_POINTS_PER_CALL:
        raise ConnectorError(
            f"{points} points per series exceed what one GetMetricData call returns ({MAX_POINTS_PER_CALL}).",
            "Use a longer period_s or a shorter lookback_days.",
            source="cloudwatch",
        )
    per_call = max(1, min(MAX_QUERIES_PER_CALL, MAX_POINTS_PER_CALL // max(points, 1)))
    return Plan(
        queries=queries,
        points_per_query=points,
        queries_per_call=per_call,
        calls=math.ceil(queries / per_call) if queries else 0,
        cost_usd=queries * USD_PER_1000_METRICS / 1000,
    )
