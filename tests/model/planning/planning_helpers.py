"""Shared for the planning tests: a one-node M/M/c scenario and exact M/M/c formulas, written
here from the textbook (independently of model/queueing/analytic/formulas.py and model/queueing/analytic/solver.py)."""

from __future__ import annotations

import math


def mmc_scenario(
    replicas: int,
    service_ms: float,
    rate_rps: float,
    p99_ms: float | None = None,
    growth: float = 0.0,
    autoscale: dict | None = None,
    extra_slo: dict | None = None,
) -> dict:
    node = {
        "kind": "service",
        "replicas": replicas,
        "service_ms": service_ms,
        "service_cv": 1.0,
        "instance": {"vcpu": 1, "memory_gib": 2},
    }
    if autoscale:
        node["autoscale"] = autoscale
    slo = {"p99_ms": p99_ms} if p99_ms else {}
    slo.update(extra_slo or {})
    return {
        "version": 1,
        "name": "mmc",
        "workload": {"rate_rps": rate_rps, "growth_pct_per_month": growth},
        "entry": "web",
        "nodes": {"web": node},
        "slo": slo,
    }


def fixed(count: int = 3, workload: dict | None = None, commitment: str = "on_demand") -> dict:
    """One service of `count` m6i.large (listed prices), for bills checked by hand."""
    return {
        "version": 1,
        "name": "fixed",
        "workload": {"rate_rps": 50.0, **(workload or {})},
        "entry": "web",
        "nodes": {
            "web": {
                "kind": "service",
                "replicas": count,
                "service_ms": 20,
                "instance": {"provider": "aws", "type": "m6i.large"},
            }
        },
        "pricing": {"commitment": commitment},
    }


def erlang_c(c: int, a: float) -> float:
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (below + top)


def mmc_p99_ms(c: int, rate_rps: float, service_ms: float, q: float = 0.99) -> float:
    """The q-quantile of response time (wait + service) of M/M/c, by bisection on its CDF."""
    mu = 1.0 / service_ms
    lam = rate_rps / 1000.0
    a = lam / mu
    if a >= c:
        return math.inf
    wait = erlang_c(c, a)
    alpha = c * mu - lam

    def cdf(t: float) -> float:
        served = 1 - math.exp(-mu * t)
        if abs(alpha - mu) < 1e-12:
            both = 1 - math.exp(-mu * t) * (1 + mu * t)
        else:
            both = 1 - (alpha * math.exp(-mu * t) - mu * math.exp(-alpha * t)) / (alpha - mu)
        return (1 - wait) * served + wait * both

    lo, hi = 0.0, 1.0
    while cdf(hi) < q:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
    return hi
