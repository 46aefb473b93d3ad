"""Summaries of simulated latencies: percentiles and batch-means confidence intervals.

Latencies of successive requests are correlated (they share queues), so a plain standard
error would be too narrow; batch means over consecutive requests absorb the correlation.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

QUANTILES = (50, 95, 99)


def percentiles(values: np.ndarray) -> dict[int, float]:
    q = np.percentile(values, QUANTILES)
    return {k: float(v) for k, v in zip(QUANTILES, q)}


def batch_ci(values: np.ndarray, batches: int = 20, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """95% intervals for the mean and each percentile from `batches` consecutive batches."""
    n = len(values) // batches
    if n < 10:
        return {}
    parts = values[: n * batches].reshape(batches, n)
    t = stats.t.ppf(0.5 + level / 2, batches - 1)
    out: dict[str, tuple[float, float]] = {}
    estimates = {"mean": parts.mean(axis=1)}
    qs = np.percentile(parts, QUANTILES, axis=1)
    for k, row in zip(QUANTILES, qs):
        estimates[f"p{k}"] = row
    for key, est in estimates.items():
        centre = float(np.mean(values)) if key == "mean" else float(np.percentile(values, int(key[1:])))
        half = float(t * est.std(ddof=1) / np.sqrt(batches))
        out[key] = (centre - half, centre + half)
    return out
