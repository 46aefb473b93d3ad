"""How far a scenario stretches: the entry rate that saturates it, latency against load.

The bill by commitment is the cost of record's (model.planning.bill, .commitments), not here.

Plain functions over a Scenario, so the CLI and tests reach what the app's Overview, What-if and
Cost pages draw (the app wraps them in its cache, keyed by the scenario's JSON).
"""

from __future__ import annotations

import math

import pandas as pd

from model.queueing.evaluate import evaluate

# the offered-load law's saturation rate, defined beside offered_load (no pandas: `diff` and the CLI use it)
from model.queueing.offered_load import offered_rps, saturation_rps
from model.scenario.schema import Scenario


def latency_curve(scenario: Scenario, points: int = 36) -> pd.DataFrame:
    """p50/p95/p99 against the entry rate, from light load to just below saturation (analytic).

    Rows: rate_rps, percentile (p50, p95, p99), latency_ms; unbounded latencies are left out."""
    top = saturation_rps(scenario)
    if not math.isfinite(top):
        top = 4 * offered_rps(scenario)
    rates = [top * (0.05 + 0.94 * (k / (points - 1)) ** 0.6) for k in range(points)]
    rows = []
    for rate in rates:
        r = evaluate(scenario, "analytic", rate_rps=rate)
        for name, value in (("p50", r.latency_ms.p50), ("p95", r.latency_ms.p95), ("p99", r.latency_ms.p99)):
            rows.append({"rate_rps": rate, "percentile": name, "latency_ms": float(value)})
    frame = pd.DataFrame(rows)
    return frame[frame["latency_ms"].apply(math.isfinite)]
