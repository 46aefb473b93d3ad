"""Service-time variability and the fixed delay outside the stations, from observed latency.

The utilization law gives each node's mean service time, but not how much it varies
(`service_cv`) nor the time a request spends outside every modelled station (network,
accept queues, the client: `workload.network_ms`). Both show in the latency at low load,
where queueing is small: the delay adds the same milliseconds to every statistic, while the
variability spreads them (p99 away from p50). So, over the periods where the fitted scenario
puts every node below LOW_LOAD utilization, the model is solved (analytic) at each period's
traffic for a grid of cv values (coarse, then fine around the best); for each cv the delay is
the median of observed minus predicted over every statistic observed (the median, as the CPU fit
is robust, because a phase or an incident with queueing the model does not see would otherwise
be read as a constant delay on every request: on the testbed one such phase out of three moved a
mean-based delay from 1 ms to 4.4 ms), and the cv kept is the one that leaves the least squared
error (a parabola through the best grid point and its neighbours).
The bimodality of hits and misses is in the model already (the cache routes misses), so the cv
fitted is what is left: the variability of each visit's own service time.

With one statistic only, the spread cannot be seen: cv stays as given (or 1) and the delay is
the latency's intercept at low load less the modelled path, said so. Intervals come from
refitting on separate parts of the data (each low-load phase of a load test, else four blocks
of time) with Student's t; fewer than two parts give no interval. With three parts or more, the cv
and the delay are the median of the parts' estimates rather than the pooled fit: on the testbed,
one phase of three had the load generator's lateness in its latency, and the pooled fit read it
as variability (cv 1.66, where the other two phases gave 0.72 and 0.88).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from model.fit.series import Observations
from model.scenario.schema import Scenario

LOW_LOAD = 0.6  # every node below this utilization: queueing does not dominate
CV_COARSE = np.round(np.arange(0.0, 2.51, 0.25), 3)  # then 0.05 steps around the best coarse value
CV_FINE_STEP = 0.05
RATE_POINTS = 5
MIN_PERIODS = 12
BLOCKS = 4
MEDIAN_PARTS = 3  # with this many separate parts, the estimate is their median, not the pooled fit
CV_KINDS = ("service", "database")  # nodes with a service_cv key


@dataclass
class LatencyFit:
    network_ms: float | None = None
    network_ci95: tuple[float, float] | None = None
    service_cv: float | None = None  # None: not fitted (one statistic only, or no latency)
    cv_ci95: tuple[float, float] | None = None
    cv_nodes: list[str] = field(default_factory=list)
    stats: list[str] = field(default_factory=list)
    periods: int = 0
    parts: int = 0
    rms_ms: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        def r(v):
            return None if v is None else round(float(v), 4)

        return {
            "network_ms": r(self.network_ms),
            "network_ci95": [r(v) for v in self.network_ci95] if self.network_ci95 else None,
            "service_cv": r(self.service_cv),
            "service_cv_ci95": [r(v) for v in self.cv_ci95] if self.cv_ci95 else None,
            "service_cv_nodes": list(self.cv_nodes),
            "statistics": list(self.stats),
            "periods": self.periods,
            "parts": self.parts,
            "rms_ms": r(self.rms_ms),
            "notes": list(self.notes),
        }

    def basis(self) -> str:
        stats = ", ".join(self.stats)
        return (
            f"latency {stats} over {self.periods} periods below {100 * LOW_LOAD:.0f} % utilization, against the "
            f"analytic solver; interval from {self.parts} separate parts"
            if self.parts >= 2
            else f"latency {stats} over {self.periods} periods below {100 * LOW_LOAD:.0f} % utilization, against the analytic solver"
        )


def fit_latency(scenario: Scenario, obs: Observations, given_cv: set[str]) -> LatencyFit:
    """The delay and (with two or more statistics) the cv; `given_cv` names nodes whose cv the fit file gives."""
    out = LatencyFit()
    if not obs.latency_stats:
        return out
    out.cv_nodes = [n for n, node in scenario.nodes.items() if node.kind in CV_KINDS and n not in given_cv]
    rate = obs.traffic_rps.dropna()
    rate = rate[rate > 0]
    if not len(rate):
        return out
    base = _with(scenario, None)
    probe = np.linspace(rate.min(), rate.max(), RATE_POINTS)
    util = [max((s.utilization for s in _solve(base, r).nodes.values()), default=0.0) for r in probe]
    ceiling = max((r for r, u in zip(probe, util) if u <= LOW_LOAD), default=None)
    if ceiling is None:
        out.notes.append(
            f"latency: no observed traffic leaves every node below {100 * LOW_LOAD:.0f} % busy; "
            "network_ms and service_cv were not fitted"
        )
        return out
    low = rate[rate <= ceiling * 1.0001]
    frame = pd.concat(
        [low.rename("rate")] + [s.rename(k) for k, s in obs.latency_stats.items()], axis=1, sort=True
    ).dropna(subset=["rate"])
    stats = [k for k in obs.latency_stats if frame[k].notna().sum() >= MIN_PERIODS]
    if not stats:
        out.notes.append(
            "latency: too few low-load periods with latency; network_ms and service_cv were not fitted"
        )
        return out
    out.stats, out.periods = stats, int(frame[stats].notna().any(axis=1).sum())
    grid = np.linspace(low.min(), low.max(), RATE_POINTS) if low.max() > low.min() else np.array([low.min()])
    fit_cv = len(stats) >= 2 and bool(out.cv_nodes)

    def predict(values: np.ndarray) -> list:
        return [
            _predict(_with(scenario, None if np.isnan(cv) else (out.cv_nodes, float(cv))), grid, stats)
            for cv in values
        ]

    cvs = CV_COARSE if fit_cv else np.array([np.nan])
    predicted = predict(cvs)
    if fit_cv:  # a finer grid around the coarse optimum, so the parabola has close neighbours
        centre = _best(frame, stats, grid, predicted, cvs)[0]
        fine = np.round(np.arange(max(centre - 0.3, 0.0), centre + 0.3 + 1e-9, CV_FINE_STEP), 3)
        fine = np.array([c for c in fine if not np.isclose(cvs, c).any()])
        predicted += predict(fine)
        cvs = np.concatenate([cvs, fine])
        order = np.argsort(cvs)
        cvs, predicted = cvs[order], [predicted[i] for i in order]
    parts = _parts(frame, obs)
    best_cv, network, rms = _best(frame, stats, grid, predicted, cvs)
    out.network_ms, out.rms_ms = max(network, 0.0), rms
    if fit_cv:
        out.service_cv = max(best_cv, 0.0)
    if len(parts) >= 2:
        estimates = [_best(part, stats, grid, predicted, cvs) for part in parts]
        out.parts = len(parts)
        if len(parts) >= MEDIAN_PARTS:  # robust: one part with queueing the model misses does not set them
            best_cv = float(np.median([e[0] for e in estimates]))
            out.network_ms = max(float(np.median([e[1] for e in estimates])), 0.0)
            if fit_cv:
                out.service_cv = max(best_cv, 0.0)
        out.network_ci95 = _interval([e[1] for e in estimates], out.network_ms)
        if fit_cv:
            out.cv_ci95 = _interval([e[0] for e in estimates], best_cv)
    if not fit_cv:
        why = (
            "one latency statistic only (add latency.stats, e.g. p50 next to p99)"
            if len(stats) < 2
            else "every node's service_cv is given"
        )
        out.notes.append(
            f"service_cv not fitted: {why}; network_ms is the latency at low load less the modelled path "
            "at the scenario's service_cv"
        )
    if network < 0:
        out.notes.append(
            f"latency: the model alone predicts more than observed at low load (by {-network:.3g} ms); "
            "network_ms is 0 and the service times or cv are likely too high"
        )
    return out


def _with(scenario: Scenario, cv: tuple[list[str], float] | None) -> Scenario:
    """The scenario without its fixed delay, with the given nodes' cv set."""
    nodes = dict(scenario.nodes)
    if cv is not None:
        names, value = cv
        nodes = {
            n: (node.model_copy(update={"service_cv": value}) if n in names else node)
            for n, node in nodes.items()
        }
    workload = scenario.workload.model_copy(update={"network_ms": 0.0})
    return scenario.model_copy(update={"nodes": nodes, "workload": workload})


def _solve(scenario: Scenario, rate: float):
    from model.queueing.analytic.solver import solve

    return solve(scenario, float(rate))


def _predict(scenario: Scenario, grid: np.ndarray, stats: list[str]) -> dict[str, np.ndarray]:
    runs = [_solve(scenario, r).latency_ms for r in grid]
    return {k: np.array([getattr(run, k) for run in runs]) for k in stats}


def _best(
    frame: pd.DataFrame, stats: list[str], grid: np.ndarray, predicted: list, cvs: np.ndarray
) -> tuple[float, float, float]:
    """(cv, network_ms, rms) minimizing the squared error over the frame's periods and statistics."""
    observed = {k: frame.loc[frame[k].notna(), ["rate", k]].to_numpy() for k in stats}
    losses, networks = [], []
    for j in range(len(cvs)):
        resid = []
        for k in stats:
            rows = observed[k]
            model = np.interp(rows[:, 0], grid, predicted[j][k]) if len(grid) > 1 else predicted[j][k][0]
            resid.append(rows[:, 1] - model)
        r = np.concatenate(resid)
        shift = float(np.median(r))  # robust: a phase or an incident the model misses does not move it
        networks.append(shift)
        losses.append(float(np.mean((r - max(shift, 0.0)) ** 2)))
    i = int(np.argmin(losses))
    cv = float(cvs[i])
    if len(cvs) > 2 and 0 < i < len(cvs) - 1:  # a parabola through the best grid point and its neighbours
        x0, x1, x2 = (float(v) for v in cvs[i - 1 : i + 2])
        y0, y1, y2 = losses[i - 1], losses[i], losses[i + 1]
        den = (x0 - x1) * (x0 - x2) * (x1 - x2)
        a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
        b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / den
        if a > 0:
            vertex = min(max(-b / (2 * a), x0), x2)
            return vertex, float(np.interp(vertex, [x0, x1, x2], networks[i - 1 : i + 2])), float(np.sqrt(y1))
    return cv, float(networks[i]), float(np.sqrt(losses[i]))


def _parts(frame: pd.DataFrame, obs: Observations) -> list[pd.DataFrame]:
    """Low-load phases of a load test, else BLOCKS blocks of time with enough periods each."""
    if obs.load_test and len(obs.phases) >= 2:
        parts = [frame[(frame.index >= p.start) & (frame.index < p.end)] for p in obs.phases]
    else:
        size = len(frame) // BLOCKS
        parts = [frame.iloc[i * size : (i + 1) * size] for i in range(BLOCKS)] if size >= MIN_PERIODS else []
    return [p for p in parts if len(p) >= MIN_PERIODS]


def _interval(values: list[float], centre: float) -> tuple[float, float]:
    """Student's t over the parts' estimates, around the pooled one; neither a delay nor a cv is negative."""
    k = len(values)
    half = float(stdtrit(k - 1, 0.975)) * float(np.std(values, ddof=1)) / np.sqrt(k)
    return max(centre - half, 0.0), centre + half
