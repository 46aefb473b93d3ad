"""Buzen's convolution algorithm: product-form throughput computed independently of MVA's recursion."""

from __future__ import annotations

import math

import numpy as np


def convolution_throughput(stations: list[tuple[float, list[float]]], think_s: float, users: int) -> float:
    """X(N) by Buzen's algorithm; each station (demand_s, rates a(1..)) beyond its list: the last rate."""
    g = np.zeros(users + 1)
    g[0] = 1.0
    for demand, rates in stations:
        weights = np.ones(users + 1)
        for j in range(1, users + 1):
            weights[j] = weights[j - 1] * demand / rates[min(j, len(rates)) - 1]
        g = np.array([sum(g[i] * weights[n - i] for i in range(n + 1)) for n in range(users + 1)])
    if think_s > 0:
        weights = np.array([think_s**j / math.factorial(j) for j in range(users + 1)])
        g = np.array([sum(g[i] * weights[n - i] for i in range(n + 1)) for n in range(users + 1)])
    return g[users - 1] / g[users]
