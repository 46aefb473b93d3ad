"""Query windows aligned to period boundaries.

Every call and the cache must see the same buckets, so a window's start and end are
multiples of the period since the Unix epoch, and its length a whole number of periods.
A bucket is labelled by its start; the window is [start, end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    period_s: int

    @property
    def buckets(self) -> int:
        return int((self.end - self.start).total_seconds()) // self.period_s

    def key(self) -> str:
        return f"{int(self.start.timestamp())}-{int(self.end.timestamp())}-{self.period_s}"


def utc(moment: datetime) -> datetime:
    """A naive datetime is taken as UTC; an aware one is converted."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def align(lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
    """The window of whole periods that covers `lookback` and ends on the last boundary <= end."""
    if period_s <= 0:
        raise ValueError("period_s must be positive")
    end = utc(end or datetime.now(timezone.utc))
    end_s = math.floor(end.timestamp() / period_s) * period_s
    count = max(1, math.ceil(lookback.total_seconds() / period_s))
    start_s = end_s - count * period_s
    return Window(
        datetime.fromtimestamp(start_s, timezone.utc), datetime.fromtimestamp(end_s, timezone.utc), period_s
    )
