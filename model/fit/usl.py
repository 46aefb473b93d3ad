"""The Universal Scalability Law: when adding replicas (or users, or threads) stops paying.

Gunther's USL (Guerrilla Capacity Planning, 2007, ch. 4-6) models throughput at
concurrency N as X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1)):
sigma is contention (the serial fraction: queueing for a shared resource), kappa is
coherency (the cost of keeping N parts consistent, which makes throughput fall past a
peak at N* = sqrt((1 - sigma) / kappa)). The queueing model assumes replicas scale
linearly; a USL fit on a load test or on throughput against replica count says how far that
holds. The fit is nonlinear least squares with lambda free (as the R package `usl` does by
default since 2.0), so a noisy first measurement does not set the scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit
from scipy.optimize import least_squares


class UslError(ValueError):
    """Data the USL cannot be fitted to."""


@dataclass(frozen=True)
class UslFit:
    sigma: float  # contention, 0..1
    kappa: float  # coherency, >= 0
    lambda_: float  # throughput of one unit of concurrency, ideal
    sigma_ci95: tuple[float, float]
    kappa_ci95: tuple[float, float]
    r2: float
    points: int

    def throughput(self, n: float | np.ndarray) -> float | np.ndarray:
        n = np.asarray(n, dtype=float)
        return self.lambda_ * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))

    @property
    def peak_n(self) -> float:
        """Concurrency of the highest throughput (infinite when kappa is 0: Amdahl's law)."""
        return math.sqrt((1 - self.sigma) / self.kappa) if self.kappa > 0 else math.inf

    @property
    def peak_throughput(self) -> float:
        return (
            float(self.throughput(self.peak_n))
            if math.isfinite(self.peak_n)
            else self.lambda_ / max(self.sigma, 1e-300)
        )

    def to_json(self) -> dict:
        return {
            "sigma": self.sigma,
            "kappa": self.kappa,
            "lambda": self.lambda_,
            "sigma_ci95": list(self.sigma_ci95),
            "kappa_ci95": list(self.kappa_ci95),
            "peak_n": None if not math.isfinite(self.peak_n) else self.peak_n,
            "peak_throughput": self.peak_throughput,
            "r2": self.r2,
            "points": self.points,
        }

    def to_text(self) -> str:
        peak = (
            "never (no coherency cost: Amdahl's law)"
            if not math.isfinite(self.peak_n)
            else f"at N = {self.peak_n:.1f}, throughput {self.peak_throughput:,.1f}"
        )
        return (
            f"USL: contention sigma {self.sigma:.4g} (95% CI {self.sigma_ci95[0]:.3g} to {self.sigma_ci95[1]:.3g}), "
            f"coherency kappa {self.kappa:.4g} (95% CI {self.kappa_ci95[0]:.3g} to {self.kappa_ci95[1]:.3g}), "
            f"lambda {self.lambda_:,.4g} per unit; peak {peak}; R^2 {self.r2:.3f}"
        )


def fit_usl(concurrency: np.ndarray | list[float], throughput: np.ndarray | list[float]) -> UslFit:
    """Fit sigma, kappa and lambda to measured (N, X(N)) pairs; at least 3 distinct N are needed."""
    n = np.asarray(concurrency, dtype=float)
    x = np.asarray(throughput, dtype=float)
    if n.shape != x.shape or n.ndim != 1:
        raise UslError("concurrency and throughput must be two lists of the same length")
    if not (np.isfinite(n).all() and np.isfinite(x).all()):
        raise UslError("concurrency and throughput must be finite numbers")
    if (n < 1).any() or (x <= 0).any():
        raise UslError("concurrency must be at least 1 and throughput positive")
    if len(np.unique(n)) < 3:
        raise UslError(
            f"the USL has three parameters; it needs measurements at 3 or more concurrency levels (got {len(np.unique(n))})"
        )
    start_lambda = float(np.max(x / n))

    def residuals(p: np.ndarray) -> np.ndarray:
        lam, sigma, kappa = p
        return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) - x

    scale_kappa = 1.0 / max(float(n.max()) ** 2, 1.0)
    result = least_squares(
        residuals,
        [start_lambda, 0.01, scale_kappa],
        bounds=([0, 0, 0], [np.inf, 1, np.inf]),
        x_scale=[start_lambda, 0.01, scale_kappa],
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
        max_nfev=20000,
    )
    lam, sigma, kappa = (float(v) for v in result.x)
    kappa = 0.0 if kappa < 1e-12 else kappa  # the bound, reached: no coherency cost (Amdahl)
    resid = result.fun
    dof = max(len(x) - 3, 1)
    s2 = float(resid @ resid) / dof
    jac = result.jac
    cov = s2 * np.linalg.pinv(jac.T @ jac)
    t = float(stdtrit(dof, 0.975))
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    total = float(np.sum((x - x.mean()) ** 2))
    r2 = 1 - float(resid @ resid) / total if total > 0 else 0.0
    return UslFit(
        sigma,
        kappa,
        lam,
        (float(sigma - t * se[1]), float(sigma + t * se[1])),
        (float(kappa - t * se[2]), float(kappa + t * se[2])),
        r2,
        len(x),
    )
