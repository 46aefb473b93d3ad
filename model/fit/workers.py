"""Per-worker overhead: the USL over a service's worker counts, written where the model uses it.

Adding workers (processes or threads) on the same cores does not add CPU: past the cores it
only adds context switches, cache misses and lock contention, so each request costs a little
more CPU and a worker what-if can make a real service slower. A load test that runs phases at
several worker counts (the fit file's `phases: [{..., workers: N}]`, or a `workers` metric on
the node) shows it: the CPU per request at each count, D(N), from one utilization regression
with one slope per count and a shared background. Gunther's USL (model.fit.usl) read as a cost,
D(N) = D(1) (1 + sigma (N - 1) + kappa N (N - 1)), is fitted to them: with three or more counts
both coefficients (the USL's X(N) = N / D(N), the throughput per unit of CPU), with two only sigma
(kappa 0, said so). It is fitted as a cost, linear in D(1), D(1) sigma and D(1) kappa, by
weighted least squares over the counts; the intervals come from redrawing each count's CPU
within its own interval. The result goes into the scenario as the service's `worker_usl` with the
count its `service_ms` was measured at, and the solvers scale the CPU per request by it when
`concurrency` changes (model.queueing.service_demand).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model.fit.demand import with_background

MIN_PERIODS = 12
DRAWS = 2000  # Monte Carlo draws of the per-count CPU for the coefficients' intervals


@dataclass
class WorkerFit:
    node: str
    counts: dict[int, float] = field(default_factory=dict)  # workers -> CPU-ms per visit
    counts_ci95: dict[int, tuple[float, float]] = field(default_factory=dict)
    sigma: float | None = None
    kappa: float | None = None
    sigma_ci95: tuple[float, float] | None = None
    kappa_ci95: tuple[float, float] | None = None
    reference: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "cpu_ms_per_visit_by_workers": {str(k): round(v, 5) for k, v in self.counts.items()},
            "ci95_by_workers": {str(k): [round(a, 5), round(b, 5)] for k, (a, b) in self.counts_ci95.items()},
            "sigma": self.sigma,
            "kappa": self.kappa,
            "sigma_ci95": list(self.sigma_ci95) if self.sigma_ci95 else None,
            "kappa_ci95": list(self.kappa_ci95) if self.kappa_ci95 else None,
            "workers": self.reference,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        shown = ", ".join(f"{k} workers {v:.4g} ms" for k, v in sorted(self.counts.items()))
        if self.sigma is None:
            return f"CPU per visit by worker count: {shown}"
        ci = f" (95% CI {self.sigma_ci95[0]:.3g} to {self.sigma_ci95[1]:.3g})" if self.sigma_ci95 else ""
        kci = f" (95% CI {self.kappa_ci95[0]:.3g} to {self.kappa_ci95[1]:.3g})" if self.kappa_ci95 else ""
        return (
            f"fitted: USL over worker counts from CPU per visit ({shown}): sigma {self.sigma:.4g}{ci}, kappa "
            f"{self.kappa:.3g}{kci}; service_ms is at {self.reference} workers"
        )


def fit_workers(
    name: str,
    rate_rps: pd.Series,
    busy: pd.Series,
    workers: pd.Series,
    cores: float,
    visits: float,
    reference: int | None,
) -> WorkerFit:
    """CPU per visit at each worker count and the USL over them (see the module docstring)."""
    out = WorkerFit(name)
    both = pd.concat([rate_rps.rename("x"), busy.rename("y"), workers.rename("n")], axis=1).dropna()
    both = both[both["n"] >= 1]
    sizes = both["n"].astype(int).value_counts()
    levels = sorted(int(k) for k in sizes.index if sizes[k] >= MIN_PERIODS)
    if len(levels) < 2:
        out.notes.append(
            f"worker USL not fitted: {len(levels)} worker count(s) with {MIN_PERIODS} periods or more; it needs "
            "phases at two or more counts (phases: [{..., workers: N}] or a workers metric)"
        )
        return out
    both = both[both["n"].astype(int).isin(levels)]
    n = both["n"].astype(int).to_numpy()
    x = both["x"].to_numpy()
    design = np.column_stack([np.ones(len(x))] + [np.where(n == k, x, 0.0) for k in levels])
    fit = with_background(design, both["y"].to_numpy())
    scale = 1000 * cores / visits
    for i, k in enumerate(levels, start=1):
        out.counts[k] = float(fit.coef[i]) * scale
        lo, hi = fit.ci95(i)
        out.counts_ci95[k] = (lo * scale, hi * scale)
    if min(out.counts.values()) <= 0:
        out.notes.append("worker USL not fitted: the CPU per request is not measurable at every worker count")
        return out
    out.reference = reference if reference in out.counts else max(levels, key=lambda k: sizes[k])
    ns = np.array(levels, dtype=float)
    demand = np.array([out.counts[k] for k in levels])
    se = np.array([(out.counts_ci95[k][1] - out.counts_ci95[k][0]) / 3.92 for k in levels])
    out.sigma, out.kappa = _usl_cost(ns, demand, se)
    draws = np.random.default_rng(0).normal(demand, se, size=(DRAWS, len(levels)))
    sampled = np.array([_usl_cost(ns, d, se) for d in draws if (d > 0).all()])
    if len(sampled) >= DRAWS // 2:
        out.sigma_ci95 = (float(np.percentile(sampled[:, 0], 2.5)), float(np.percentile(sampled[:, 0], 97.5)))
        out.kappa_ci95 = (float(np.percentile(sampled[:, 1], 2.5)), float(np.percentile(sampled[:, 1], 97.5)))
    if len(levels) == 2:
        out.notes.append(
            "worker USL from two worker counts: sigma only (kappa 0); a third count would show coherency costs"
        )
    return out


def _usl_cost(n: np.ndarray, demand: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """sigma and kappa of D(N) = D1 (1 + sigma (N - 1) + kappa N (N - 1)), weighted least squares, both >= 0.

    The USL's throughput form X(N) = N / D(N) read as a cost; linear in (D1, D1 sigma, D1 kappa),
    with kappa 0 when only two counts were measured.
    """
    w = 1.0 / np.maximum(se, 1e-12)
    x = np.column_stack([np.ones_like(n), n - 1] + ([n * (n - 1)] if len(n) >= 3 else []))

    def solve(cols: list[int]) -> np.ndarray:
        coef = np.zeros(3)
        coef[cols] = np.linalg.lstsq(x[:, cols] * w[:, None], demand * w, rcond=None)[0]
        return coef

    coef = solve(list(range(x.shape[1])))
    if coef[2] < 0:
        coef = solve([0, 1])
    if coef[1] < 0:
        coef = solve([0, 2]) if x.shape[1] == 3 else solve([0])
        coef[2] = max(coef[2], 0.0)
    d1 = max(float(coef[0]), 1e-12)
    return float(min(max(coef[1] / d1, 0.0), 1.0)), float(max(coef[2] / d1, 0.0))
