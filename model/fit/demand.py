"""Service demand by the utilization law, fitted robustly, with where it does not hold.

The utilization law says a node's CPU busy fraction is U = U0 + X * D / c: U0 the background
(work no request causes), X the entry rate, D the CPU-seconds one entry request costs the
node and c its cores. Regressing U on X over two weeks gives D from the slope and U0 from
the intercept. Real series have incidents (a slow query, a deploy, a cron job), so the
regression is Huber's M-estimator (iteratively reweighted least squares): periods far off the
line are down-weighted instead of dragging the slope, and they are reported as time ranges,
because an incident is something the user should see, not silently average away.

A background below zero cannot be: no node does negative work when idle. It comes out of the
regression when the CPU per request rises with load (contention, a mix that gets dearer at
peak), and then the slope it pairs with is too steep: on a real stack a -8.4 % background came
with a demand 27 % above the CPU per request measured at any load. Such a fit is redone with
the background held at zero (`with_background`), and the warning says so.

Periods next to each other are not independent (a busy hour is busy for twelve periods), so
the confidence interval is widened by the residuals' lag-1 autocorrelation, (1 + r)/(1 - r):
the effective number of independent points, not the number of rows, sets the interval.

A node whose replica count changes over the window (an autoscaler) has a different capacity
at each count, so its CPU is regressed with one slope per count and one shared background,
U = U0 + X * b_N (`fit_demand_by_count`); 1 / b_N is the throughput N replicas would do at
100 % busy, which the USL (model.fit.scaling) relates across counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

HUBER_K = 1.345  # 95 % efficiency under normal errors
OUTLIER_U = 4.0  # a residual this many robust scales off the line is an outlier
MIN_RUN = 3  # consecutive outlying periods that make a range worth reporting
SATURATION_U = 0.9  # CPU above this is near saturation: the law bends there
WHOLE_COUNT = 0.2  # a period's mean replica count this far from a whole number: it was scaling then


@dataclass(frozen=True)
class Robust:
    """A Huber fit of y on the columns of x (the first column is the intercept)."""

    coef: np.ndarray
    cov: np.ndarray
    scale: float  # robust scale of the residuals (1.4826 * MAD)
    residuals: np.ndarray
    weights: np.ndarray
    r2: float  # ordinary R^2 over every point, outliers included
    negative_background: float | None = None  # the intercept a free fit gave, when below zero and refused

    def ci95(self, k: int) -> tuple[float, float]:
        half = 1.96 * float(np.sqrt(max(self.cov[k, k], 0.0)))
        return float(self.coef[k] - half), float(self.coef[k] + half)


def huber(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> Robust:
    """Huber regression by IRLS; covariance by Huber's sandwich, widened for autocorrelation."""
    n, p = x.shape
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    scale = 1.0
    weights = np.ones(n)
    for _ in range(iterations):
        resid = y - x @ coef
        scale = _mad(resid)
        u = resid / scale
        weights = np.minimum(1.0, HUBER_K / np.maximum(np.abs(u), 1e-12))
        sw = np.sqrt(weights)
        new = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)[0]
        if np.allclose(new, coef, rtol=1e-10, atol=1e-14):
            coef = new
            break
        coef = new
    resid = y - x @ coef
    scale = _mad(resid)
    u = resid / scale
    psi = np.clip(u, -HUBER_K, HUBER_K)
    dpsi = (np.abs(u) <= HUBER_K).astype(float)
    m = max(float(dpsi.mean()), 1.0 / n)
    xtx_inv = np.linalg.pinv(x.T @ x)
    cov = (scale**2) * (np.sum(psi**2) / max(n - p, 1)) / m**2 * xtx_inv
    cov = cov * _autocorrelation_factor(psi)
    return Robust(coef, cov, scale, resid, weights, _r2(y, resid))


def with_background(x: np.ndarray, y: np.ndarray) -> Robust:
    """`huber` on columns whose first is the intercept (the background), held at zero if it comes out below.

    The returned fit keeps the intercept's place (coefficient 0, variance 0), so callers index it as
    before; `negative_background` holds the refused value.
    """
    free = huber(x, y)
    if free.coef[0] >= 0 or x.shape[1] < 2:
        return free
    zero = huber(x[:, 1:], y)
    p = x.shape[1]
    cov = np.zeros((p, p))
    cov[1:, 1:] = zero.cov
    return Robust(
        np.concatenate([[0.0], zero.coef]),
        cov,
        zero.scale,
        zero.residuals,
        zero.weights,
        zero.r2,
        float(free.coef[0]),
    )


def _r2(y: np.ndarray, resid: np.ndarray) -> float:
    """The share of y's spread the fit explains (0 when y does not vary)."""
    spread = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum(resid**2)) / spread if spread > 0 else 0.0


def _mad(resid: np.ndarray) -> float:
    scale = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    if scale <= 0:
        scale = float(np.std(resid)) or 1e-9
    return scale


def _autocorrelation_factor(psi: np.ndarray) -> float:
    if len(psi) < 4 or np.std(psi) == 0:
        return 1.0
    rho = float(np.corrcoef(psi[:-1], psi[1:])[0, 1])
    rho = min(max(rho if np.isfinite(rho) else 0.0, 0.0), 0.95)
    return (1 + rho) / (1 - rho)


# ---------------------------------------------------------------- the utilization law


@dataclass(frozen=True)
class DemandFit:
    """U = background + slope * X for one node; slope = demand / cores."""

    slope: float  # busy fraction per request/s at the entry
    slope_ci95: tuple[float, float]
    background: float  # busy fraction with no requests
    background_ci95: tuple[float, float]
    r2: float  # over the periods on the line (outliers are reported apart)
    points: int
    outlier_pct: float
    off_line: list[str] = field(default_factory=list)  # time ranges where the law does not hold
    nonlinear: str | None = None  # how it bends across the load range, if it does
    r2_all: float = 0.0  # over every period, outliers included
    at_count: int | None = None  # fitted per replica count: the slope is the one at this count
    counts: int = 1  # replica counts with a slope of their own
    negative_background: float | None = None  # a free fit's background below zero, refused (held at 0)

    def warnings(self, series_id: str) -> list[str]:
        out = [
            f"{series_id}: {r} off the utilization line"
            if r.startswith("and ")
            else f"{series_id}: not on the utilization line {r}"
            for r in self.off_line
        ]
        if self.nonlinear:
            out.append(f"{series_id}: {self.nonlinear}")
        if self.negative_background is not None:
            out.append(negative_background_warning(series_id, self.negative_background))
        return out


def negative_background_warning(series_id: str, background: float) -> str:
    return (
        f"{series_id}: the regression put the idle CPU at {100 * background:.1f} %, which cannot be; "
        "fitted with no idle CPU instead (the CPU per request rises with load here: contention, "
        "or a mix that gets dearer at peak)"
    )


def fit_demand(rate_rps: pd.Series, busy: pd.Series, period_s: int) -> DemandFit:
    """Regress busy fraction on entry rate over the periods both have (indices aligned)."""
    both = pd.concat([rate_rps.rename("x"), busy.rename("y")], axis=1).dropna()
    x, y = both["x"].to_numpy(), both["y"].to_numpy()
    design = np.column_stack([np.ones(len(x)), x])
    fit = with_background(design, y)
    outliers, r2 = _off_the_line(fit, y)
    off_line = _ranges(both.index, outliers, fit.residuals, period_s)
    bend = _bend(x, y, fit, both.index, period_s)
    return DemandFit(
        float(fit.coef[1]),
        fit.ci95(1),
        float(fit.coef[0]),
        fit.ci95(0),
        r2,
        len(x),
        100.0 * float(outliers.mean()),
        off_line,
        bend,
        fit.r2,
        negative_background=fit.negative_background,
    )


def _off_the_line(fit: Robust, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The periods off the line (OUTLIER_U robust scales or more), and R^2 over the others."""
    u = fit.residuals / fit.scale
    outliers = np.abs(u) > OUTLIER_U
    inliers = ~outliers
    return outliers, _r2(y[inliers], fit.residuals[inliers])


def whole_counts(count: pd.Series) -> pd.Series:
    """Each period's replica count as a whole number; NaN while it scaled (a mean WHOLE_COUNT or more off) or with none."""
    rounded = count.round()
    return rounded.where(((count - rounded).abs() <= WHOLE_COUNT) & (rounded >= 1))


def fit_demand_by_count(
    rate_rps: pd.Series,
    busy: pd.Series,
    count: pd.Series,
    reference: int,
    period_s: int,
    min_points: int = 12,
) -> DemandFit:
    """U = U0 + X * b_N: one slope per whole replica count `count` (see whole_counts), one shared background.

    The slope returned is b at `reference` (the count the scenario holds), or at the nearest count
    with `min_points` periods when that one has fewer (`at_count` says which).
    """
    both = pd.concat([rate_rps.rename("x"), busy.rename("y"), count.rename("n")], axis=1).dropna()
    x, y, n = both["x"].to_numpy(), both["y"].to_numpy(), both["n"].to_numpy().astype(int)
    levels, sizes = np.unique(n, return_counts=True)
    design = np.column_stack([np.ones(len(x))] + [np.where(n == k, x, 0.0) for k in levels])
    fit = with_background(design, y)
    full = [int(k) for k, m in zip(levels, sizes) if m >= min_points] or [int(levels[np.argmax(sizes)])]
    at = min(full, key=lambda k: (abs(k - reference), -k))
    column = 1 + int(np.flatnonzero(levels == at)[0])
    outliers, r2 = _off_the_line(fit, y)
    off_line = _ranges(both.index, outliers, fit.residuals, period_s)
    return DemandFit(
        float(fit.coef[column]),
        fit.ci95(column),
        float(fit.coef[0]),
        fit.ci95(0),
        r2,
        len(x),
        100.0 * float(outliers.mean()),
        off_line,
        None,
        fit.r2,
        at,
        len(levels),
        fit.negative_background,
    )


def fit_split(rates: list[pd.Series], busy: pd.Series) -> tuple[Robust, int] | None:
    """Busy fraction on several rates at once (database reads and writes), or None if they move together.

    Reads and writes usually both follow traffic, and then no regression can tell their costs
    apart: the estimates trade off against each other with huge intervals. The split is only
    returned when each cost is positive and known to within half its value.
    """
    both = pd.concat([r.rename(f"x{i}") for i, r in enumerate(rates)] + [busy.rename("y")], axis=1).dropna()
    if len(both) < 24:
        return None
    xs = both[[f"x{i}" for i in range(len(rates))]].to_numpy()
    corr = np.corrcoef(xs.T)
    if not np.all(np.isfinite(corr)) or np.max(np.abs(corr - np.eye(len(rates)))) > 0.97:
        return None
    fit = with_background(np.column_stack([np.ones(len(both)), xs]), both["y"].to_numpy())
    for k in range(1, len(rates) + 1):
        lo, hi = fit.ci95(k)
        if fit.coef[k] <= 0 or (hi - lo) / 2 > 0.5 * fit.coef[k]:
            return None
    return fit, len(both)


def _ranges(
    index: pd.DatetimeIndex, flags: np.ndarray, resid: np.ndarray, period_s: int, limit: int = 5
) -> list[str]:
    """Runs of at least MIN_RUN flagged periods (a gap of one period does not break a run)."""
    runs: list[tuple[int, int]] = []
    start = last = None
    stamps = index.asi8 // 10**9
    for i in np.flatnonzero(flags):
        if last is not None and stamps[i] - stamps[last] <= 2 * period_s:
            last = i
            continue
        if start is not None:
            runs.append((start, last))
        start = last = i
    if start is not None:
        runs.append((start, last))
    runs = [(a, b) for a, b in runs if int(flags[a : b + 1].sum()) >= MIN_RUN]
    runs.sort(key=lambda r: -abs(float(resid[r[0] : r[1] + 1].mean())) * (r[1] - r[0] + 1))
    out = []
    for a, b in sorted(runs[:limit]):
        mean = 100 * float(resid[a : b + 1][flags[a : b + 1]].mean())
        end = index[b] + pd.Timedelta(seconds=period_s)
        out.append(
            f"{index[a]:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"
            + ("" if end.date() == index[a].date() else f" ({end:%m-%d})")
            + f": CPU {abs(mean):.1f} points {'above' if mean > 0 else 'below'} it "
            "(an incident, background work or a different workload mix)"
        )
    if len(runs) > limit:
        out.append(f"and {len(runs) - limit} shorter range(s)")
    return out


def _bend(x: np.ndarray, y: np.ndarray, fit: Robust, index: pd.DatetimeIndex, period_s: int) -> str | None:
    """Does CPU grow faster or slower than traffic at the top of the load range?

    The slope over the busiest third of periods is compared with the slope over the rest;
    a flattening near full CPU is saturation (the node cannot do more work, requests queue),
    a steepening a workload mix that changes with load (more expensive requests at peak).
    """
    if len(x) < 60 or np.ptp(x) <= 0:
        return None
    cut = np.quantile(x, 2 / 3)
    low, high = x <= cut, x > cut
    if high.sum() < 20 or low.sum() < 20 or np.ptp(x[high]) <= 0 or np.ptp(x[low]) <= 0:
        return None
    parts = [huber(np.column_stack([np.ones(m.sum()), x[m]]), y[m]) for m in (low, high)]
    s_low, s_high = float(parts[0].coef[1]), float(parts[1].coef[1])
    se = float(np.sqrt(parts[0].cov[1, 1] + parts[1].cov[1, 1]))
    if fit.coef[1] <= 0 or abs(s_high - s_low) < max(3 * se, 0.25 * abs(fit.coef[1])):
        return None
    change = 100 * (s_high / s_low - 1) if s_low > 0 else float("inf")
    saturated = y >= SATURATION_U
    where = (
        _ranges(index, saturated, y - SATURATION_U, period_s, limit=3) if saturated.sum() >= MIN_RUN else []
    )
    if s_high < s_low:
        cause = (
            "saturation: CPU reaches "
            + f"{100 * y.max():.0f} %"
            + (" (" + "; ".join(w.split(":")[0] for w in where) + ")" if where else "")
            if y.max() >= SATURATION_U
            else "saturation elsewhere (a downstream limit, a connection pool) or "
            "a workload mix that gets cheaper at peak"
        )
    else:
        cause = "a workload mix that gets more expensive at peak, or contention (locks, GC) growing with load"
    return (
        f"not linear: above {cut:,.1f} req/s at the entry the CPU slope is {change:+.0f} % against below it; "
        f"likely {cause}; the fitted demand is the average over the whole range"
    )
