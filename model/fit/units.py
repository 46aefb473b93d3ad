"""What a metric's numbers mean: counts into rates, CPU into a busy fraction, latency into ms.

A source reports CPU as percent, a fraction or busy cores, latency in seconds, ms or us, and
traffic as counts per period or rates; a CSV often says nothing. Each reading here either
follows the unit given, infers it where the values leave no doubt (a CPU above 1 is percent),
or refuses with the units it knows and an example, so a wrong unit never becomes a plausible
but wrong fit. model.fit.series applies them on the fit's grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.fit.errors import FitError

CPU_PERCENT_SLACK = 0.5  # CloudWatch rounds; 100.4 % is 100 %, 130 % is a wrong metric
_RATE_UNITS = ("/second", "/s", "per_second", "1/s", "rps")
CPU_UNITS = "Percent (0-100), fraction (0-1) or cores (busy cores, e.g. 1.5 of 2)"
LATENCY_UNITS = "ms, s or us"


def is_rate_unit(unit: str) -> bool:
    return any(unit.lower().endswith(u) for u in _RATE_UNITS)


def spacing_s(values: pd.Series, period_s: int) -> int:
    """The series' own spacing: a CSV at one point an hour read at period_s 300 holds hourly counts."""
    present = values.dropna().index
    if len(present) < 3:
        return period_s
    spacing = float(np.median(np.diff(present.asi8)) / 1e9)
    return max(period_s, int(round(spacing / period_s)) * period_s)


def per_second(series_id: str, values: pd.Series, unit: str, period_s: int) -> pd.Series:
    if (values < 0).any():
        raise FitError(
            f"{series_id}: holds negative counts (first at {values[values < 0].index[0]:%Y-%m-%d %H:%M} UTC)"
        )
    if is_rate_unit(unit):
        return values
    return values / spacing_s(values, period_s)


def cpu_fraction(
    series_id: str, values: pd.Series, unit: str, source: str, warnings: list[str], cores: float | None = None
) -> pd.Series:
    """CloudWatch (and the demo) report percent, GCP a fraction; a CSV says so with `unit`, or its values do.

    A CSV column without a unit is percent when some value is above 1 (a fraction never is); when
    every value is at most 1 it could be either, and the fit asks once, with the units it knows.
    """
    lowered = unit.lower()
    present = values.dropna()
    if lowered in ("percent", "%", "pct"):
        percent, divide = True, 100.0
    elif lowered in ("1", "fraction", "ratio", "10^2.%"):
        percent, divide = False, 1.0
    elif lowered in ("cores", "core", "cpus", "vcpu", "vcpus"):
        if cores is None:
            raise FitError(
                f"{series_id}: unit cores needs the node's (or host's) cpus to turn busy cores into a share; "
                "set cpus on it, or give the CPU as unit: Percent"
            )
        percent, divide = False, cores
        values = values / divide
        present = values.dropna()
        divide = 1.0
    elif lowered:
        raise FitError(
            f"{series_id}: unknown CPU unit {unit!r}; use {CPU_UNITS}, e.g. cpu: {{file: m.csv, column: cpu, unit: Percent}}"
        )
    elif source == "csv":
        if len(present) and present.max() <= 1.0:
            raise FitError(
                f"{series_id}: no unit, and every value is at most 1, so it could be a fraction (0.35 = 35 % busy) "
                f"or percent (0.35 %); say which on the metric with unit: {CPU_UNITS}, "
                "e.g. cpu: {file: m.csv, column: cpu, unit: fraction}"
            )
        percent, divide = True, 100.0
    else:
        percent = source != "gcp"
        divide = 100.0 if percent else 1.0
        if percent and len(present) and present.max() <= 1.0:
            warnings.append(
                f"{series_id}: no unit and every value is at most 1; read as percent "
                "(set unit: '1' on the metric if they are fractions)"
            )
    if (present < 0).any():
        raise FitError(
            f"{series_id}: CPU below 0 ({present.min():g} at {present.idxmin():%Y-%m-%d %H:%M} UTC)"
        )
    top = 100.0 + CPU_PERCENT_SLACK if percent else 1.0 + CPU_PERCENT_SLACK / 100
    if (present > top).any():
        first = present[present > top]
        shown = f"{first.iloc[0]:g}{' %' if percent else ''}"
        raise FitError(
            f"{series_id}: CPU of {shown} at {first.index[0]:%Y-%m-%d %H:%M} UTC is above 100 % "
            f"({len(first)} period(s)); use a per-instance average (stat Average), not a sum over "
            "instances or cores" + ("" if percent else ", or a utilization fraction 0..1 (or unit: cores)")
        )
    return (values / divide).clip(upper=1.0)


def replica_count(series_id: str, values: pd.Series) -> pd.Series:
    """A running count: never negative, at least one replica at some point (a period's mean may be fractional)."""
    present = values.dropna()
    if (present < 0).any():
        raise FitError(
            f"{series_id}: a negative replica count ({present.min():g} at {present.idxmin():%Y-%m-%d %H:%M} UTC); "
            "use the running task or pod count (stat Average)"
        )
    if len(present) and present.max() < 0.5:
        raise FitError(
            f"{series_id}: the replica count is 0 in every period; check the metric (e.g. ECS RunningTaskCount "
            "with stat Average, or kube_deployment_status_replicas_available)"
        )
    return values


def ms_factor(
    unit: str, series_id: str, warnings: list[str], values: pd.Series | None = None, source: str = ""
) -> float:
    """Milliseconds per unit. Without a unit a CSV's values decide when they can: an end-to-end
    median under 0.05 is seconds (50 us end to end is not a real service), over 20 it is ms."""
    lowered = unit.lower()
    if lowered in ("seconds", "s", "second", "sec"):
        return 1000.0
    if lowered in ("microseconds", "us", "µs", "usec"):
        return 0.001
    if lowered in ("milliseconds", "ms", "millisecond", "msec"):
        return 1.0
    if lowered:
        raise FitError(
            f"{series_id}: unknown latency unit {unit!r}; use {LATENCY_UNITS}, e.g. "
            "latency: {metric: {file: m.csv, column: p99, unit: ms}}"
        )
    present = values.dropna() if values is not None else pd.Series(dtype=float)
    median = float(present.median()) if len(present) else float("nan")
    if source == "csv" and len(present):
        if median < 0.05:
            warnings.append(
                f"{series_id}: no unit; median {median:g} read as seconds (set unit: ms if it is not)"
            )
            return 1000.0
        if median > 20:
            return 1.0
        raise FitError(
            f"{series_id}: no unit, and values around {median:g} could be seconds or milliseconds; say which "
            f"on the metric with unit: {LATENCY_UNITS}, e.g. latency: {{metric: {{file: m.csv, column: p99, unit: ms}}}}"
        )
    warnings.append(f"{series_id}: unit {unit or 'not given'}; read as milliseconds")
    return 1.0


def latency_stat(metric) -> str:
    """Which statistic a latency metric reports: p50, p95, p99 (compared with the model's) or mean."""
    text = " ".join(
        str(getattr(metric, k, "") or "") for k in ("stat", "series", "column", "aligner", "name")
    ).lower()
    for stat in ("p50", "p95", "p99"):
        if stat in text or f"percentile_{stat[1:]}" in text:
            return stat
    column = str(getattr(metric, "column", "") or "").strip()
    if column in ("50%", "95%", "99%"):  # Locust's percentile columns
        return f"p{column[:-1]}"
    if "median" in text:
        return "p50"
    return "mean"
