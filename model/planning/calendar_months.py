"""Which calendar month a plan's month number is.

Month 0 is the start month: `--start YYYY-MM` on the command line, else `workload.start_month` in the
scenario, else the current month (UTC). Month m is m calendar months after it. A horizon of N months
is months 0 to N-1 (N calendar months); the forecast also shows month N, N months ahead.

API (stable names): `start_month(scenario, start=None, today=None) -> date` (the 1st of the month),
`parse_month(text) -> date`, `month_label(start, m) -> "2026-11"`, `month_name(start, m) -> "Nov 2026"`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from model.scenario.schema import Scenario


def parse_month(text: str) -> date:
    """ "2026-11" -> date(2026, 11, 1); anything else is a ValueError saying the form."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", str(text).strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"a start month is written YYYY-MM, for example 2026-11 (got {str(text)[:40]!r})")
    return date(int(match[1]), int(match[2]), 1)


def start_month(scenario: Scenario, start: str | date | None = None, today: date | None = None) -> date:
    if isinstance(start, date):
        return start.replace(day=1)
    if start:
        return parse_month(start)
    if scenario.workload.start_month:
        return parse_month(scenario.workload.start_month)
    now = today or datetime.now(timezone.utc).date()
    return now.replace(day=1)


def _shift(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_label(start: date, month: int) -> str:
    return _shift(start, month).strftime("%Y-%m")


def month_name(start: date, month: int) -> str:
    return _shift(start, month).strftime("%b %Y")
