"""Summaries of simulated latencies: percentiles and batch-means confidence intervals.

Latencies of successive requests are correlated (they share queues), so a plain standard
error would be too narrow; batch means over consecutive requests absorb the correlation.
"""

from __future__ import annotations

import numpy as np

from model.queueing.special import t_quantile

QUANTILES = (50, 95, 99)


def percentiles(values: np.ndarray) -> dict[int, float]:
    q = np.percentile(values, QUANTILES)
    return {k: float(v) for k, v in zip(QUANTILES, q)}


NO_INTERVAL = (float("nan"), float("nan"))
MIN_BATCHES = 5
TAIL_VALUES = 5  # a batch must hold this many values beyond a percentile for it to mean anything


def batch_ci(values: np.ndarray, batches: int = 20, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """95% intervals for the mean and each percentile from up to `batches` consecutive batches.

    A batch must be big enough for its statistic: 10 values for the mean and median, and
    TAIL_VALUES beyond the percentile for a tail (500 a batch for p99). With fewer than
    MIN_BATCHES such batches there is no honest interval: (nan, nan), written as null.
    """
    out: dict[str, tuple[float, float]] = {}
    for key in ("mean", *(f"p{k}" for k in QUANTILES)):
        q = 50 if key == "mean" else int(key[1:])
        per_batch = max(10, int(np.ceil(TAIL_VALUES / (1 - q / 100))))
        count = min(batches, len(values) // per_batch)
        if count < MIN_BATCHES:
            out[key] = NO_INTERVAL
            continue
        n = len(values) // count
        parts = values[: n * count].reshape(count, n)
        estimates = parts.mean(axis=1) if key == "mean" else np.percentile(parts, q, axis=1)
        centre = float(np.mean(values)) if key == "mean" else float(np.percentile(values, q))
        half = float(t_quantile(0.5 + level / 2, count - 1) * estimates.std(ddof=1) / np.sqrt(count))
        out[key] = (centre - half, centre + half)
    return out
