"""Does the fitted scenario reproduce what was observed? Validation and a one-week backtest.

Validation runs the fitted scenario (analytic solver, through `evaluate`) at the traffic
of every observed period and puts predicted utilization and latency beside the observed,
with the mean absolute percentage error. A fit that reproduces its own data can still be
overfitted to it, so the backtest fits on all but the last week and predicts the last
week from its traffic alone: that error is the one to expect from a forecast.

Background CPU (work no request causes) is in the fitted scenario as `background_cpu_pct`,
so predicted utilization includes it; the validation says how much that is.

A node whose replica count is a metric ran different counts over the window, while the
scenario holds one; its observed CPU is put on the scenario's count first (the CPU from
requests times the replicas that ran, over the scenario's replicas, plus the background).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import numpy as np
import pandas as pd

from model.fit.series import MIN_POINTS, Observations
from model.queueing.evaluate import evaluate
from model.scenario.schema import Scenario

GRID_POINTS = 16  # rates the solver is run at; periods in between are interpolated
MIN_OBSERVED_UTIL = 0.02  # below 2 % CPU a percentage error says more about noise than the model
GOOD_MAPE, FAIR_MAPE = 10.0, 25.0
BACKTEST_DAYS = 7
MIN_TRAIN_DAYS = 3


@dataclass(frozen=True)
class Row:
    what: str  # "web utilization", "latency p99"
    unit: str  # "%" or "ms"
    observed_mean: float
    predicted_mean: float
    mape_pct: float | None
    observed_busy_hour: float
    predicted_busy_hour: float
    points: int
    verdict: str  # good | fair | poor | n/a
    cause: str | None = None
    peak: str = "busy hour"  # what the busy-hour columns cover: the busiest hour, or a load test's top phase
    busy_hour_rps: float = math.nan  # the observed load at the entry over those same periods

    def to_json(self) -> dict:
        def r(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else round(v, 3)

        return {
            "what": self.what,
            "unit": self.unit,
            "observed_mean": r(self.observed_mean),
            "predicted_mean": r(self.predicted_mean),
            "mape_pct": r(self.mape_pct),
            "observed_busy_hour": r(self.observed_busy_hour),
            "predicted_busy_hour": r(self.predicted_busy_hour),
            "points": self.points,
            "verdict": self.verdict,
            "cause": self.cause,
            "peak": self.peak,
            "busy_hour_rps": r(self.busy_hour_rps),
        }

    def to_text(self) -> str:
        mape = "n/a" if self.mape_pct is None else f"{self.mape_pct:.1f} %"
        line = (
            f"  {self.what:<24} observed {self.observed_mean:9.2f} {self.unit:<2} predicted {self.predicted_mean:9.2f} {self.unit:<2}"
            f" {self.peak} {self.observed_busy_hour:9.2f} vs {self.predicted_busy_hour:9.2f}  MAPE {mape:>8}  {self.verdict}"
        )
        return line + (f"\n      likely cause: {self.cause}" if self.cause else "")


@dataclass
class Validation:
    method: str
    start: str
    end: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "start": self.start,
            "end": self.end,
            "rows": [r.to_json() for r in self.rows],
            "notes": list(self.notes),
        }


@dataclass
class Backtest:
    train: str  # the fitted range
    test: str  # the predicted week
    validation: Validation | None
    skipped: str | None = None

    def to_json(self) -> dict:
        return {
            "train": self.train,
            "test": self.test,
            "skipped": self.skipped,
            "rows": [r.to_json() for r in self.validation.rows] if self.validation else [],
            "notes": list(self.validation.notes) if self.validation else [],
        }


def validate(
    scenario: Scenario,
    backgrounds: dict[str, float],
    r2: dict[str, float],
    obs: Observations,
    method: str = "analytic",
    hints: dict[str, str] | None = None,
) -> Validation:
    """Predicted against observed over the periods of `obs`, node by node, then latency."""
    rate = obs.traffic_rps.dropna()
    rate = rate[rate > 0]
    validation = Validation(method, f"{obs.start:%Y-%m-%d %H:%M}", f"{obs.end:%Y-%m-%d %H:%M} UTC")
    if len(rate) < MIN_POINTS:
        validation.notes.append(f"only {len(rate)} period(s) with traffic; nothing to validate")
        return validation
    grid = np.unique(np.linspace(rate.min(), rate.max(), GRID_POINTS))
    # The fixed delay outside the stations (workload.network_ms) is added here to a run without it,
    # so it is counted once whether or not the solver adds it itself.
    network_ms = float(getattr(scenario.workload, "network_ms", 0.0) or 0.0)
    solved = (
        scenario.model_copy(update={"workload": scenario.workload.model_copy(update={"network_ms": 0.0})})
        if network_ms
        else scenario
    )
    runs = [evaluate(solved, method, rate_rps=float(r)) for r in grid]
    saturated_at = next((float(r) for r, res in zip(grid, runs) if res.saturated), None)
    if saturated_at is not None:
        validation.notes.append(
            f"the fitted scenario saturates at {saturated_at:,.1f} req/s, a rate that was observed: "
            "a service time or a server count is too high, or the system really was saturated"
        )
    busy_hour, peak = _busy_hour(rate), "busy hour"
    if obs.load_test and obs.phases:
        top = max(obs.phases, key=lambda p: p.mean_rps)
        busy_hour, peak = rate.index[(rate.index >= top.start) & (rate.index < top.end)], "top phase"
    for name, busy in obs.cpu.items():
        if name not in scenario.nodes or scenario.nodes[name].kind == "kafka":
            continue
        model = np.array([res.nodes[name].utilization for res in runs])
        predicted = pd.Series(np.interp(rate.to_numpy(), grid, model), index=rate.index)
        if name in obs.replicas and scenario.nodes[name].kind == "service":
            busy = _on_scenario_replicas(
                name,
                busy,
                obs.replicas[name],
                scenario.nodes[name].replicas,
                backgrounds.get(name, 0.0),
                validation.notes,
            )
        predicted = predicted.clip(upper=1.0)
        row = _row(
            f"{name} utilization", "%", 100 * busy, 100 * predicted, busy_hour, MIN_OBSERVED_UTIL * 100, rate
        )
        if row is None:
            validation.notes.append(f"{name}: no observed CPU in this range; nothing to compare")
            continue
        validation.rows.append(
            _explain_util(dataclasses.replace(row, peak=peak), r2.get(name), (hints or {}).get(name))
        )
    if backgrounds:
        shown = ", ".join(f"{n} {100 * b:.1f} %" for n, b in backgrounds.items() if abs(b) >= 0.005)
        if shown:
            validation.notes.append(
                f"predicted utilization includes the fitted background CPU ({shown}), "
                "held in the scenario as background_cpu_pct"
            )
    if obs.latency_ms is not None:
        stat = obs.latency_stat
        model = np.array([getattr(res.latency_ms, stat) for res in runs]) + network_ms
        finite = np.isfinite(model)
        if finite.sum() >= 2:
            predicted = pd.Series(np.interp(rate.to_numpy(), grid[finite], model[finite]), index=rate.index)
            predicted[rate > (grid[finite].max() if saturated_at else np.inf)] = np.nan
            row = _row(f"latency {stat}", "ms", obs.latency_ms, predicted, busy_hour, 0.0, rate)
            if row is None:
                validation.notes.append("latency: none observed in this range; nothing to compare")
            else:
                validation.rows.append(_explain_latency(dataclasses.replace(row, peak=peak)))
        else:
            validation.notes.append(
                "latency: the fitted scenario saturates at every observed rate; no latency to compare"
            )
    return validation


def backtest(
    obs: Observations,
    build: Callable[[Observations], tuple[Scenario, dict[str, float], dict[str, float], dict[str, str]]],
    method: str = "analytic",
) -> Backtest:
    """Fit on all but the last week (with `build`), predict the last week from its traffic.

    A load test holds out its last phase instead (usually its highest load): fitted on the phases
    before it, predicted from its traffic alone. A window too short for either says so plainly.
    """
    if obs.load_test:
        return _phase_backtest(obs, build, method)
    present = obs.traffic_rps.dropna()
    span_days = (obs.end - obs.start).total_seconds() / 86400
    needed = MIN_TRAIN_DAYS + BACKTEST_DAYS
    if span_days < needed or not len(present):
        window = f"{obs.start:%Y-%m-%d %H:%M} to {obs.end:%Y-%m-%d %H:%M} UTC"
        return Backtest(
            window,
            "none",
            None,
            f"skipped: the window is {_span(obs.end - obs.start)}; the backtest holds out "
            f"the last {BACKTEST_DAYS} days and needs {needed} days of traffic",
        )
    split = obs.end - timedelta(days=BACKTEST_DAYS)
    train_span = (split - present.index[0].to_pydatetime()).total_seconds() / 86400
    train_text = f"{obs.start:%Y-%m-%d %H:%M} to {split:%Y-%m-%d %H:%M} UTC"
    test_text = f"{split:%Y-%m-%d %H:%M} to {obs.end:%Y-%m-%d %H:%M} UTC"
    if train_span < MIN_TRAIN_DAYS:
        return Backtest(
            train_text,
            test_text,
            None,
            f"skipped: traffic starts {train_span:.1f} day(s) before the last week; "
            f"the backtest needs {needed} days of traffic",
        )
    try:
        scenario, backgrounds, r2, hints = build(obs.between(None, split))
    except ValueError as exc:  # FitError and friends: the shorter window may lack what the full one has
        return Backtest(
            train_text, test_text, None, f"skipped: the first part alone cannot be fitted ({exc})"
        )
    return Backtest(
        train_text, test_text, validate(scenario, backgrounds, r2, obs.between(split, None), method, hints)
    )


def _phase_backtest(obs: Observations, build, method: str) -> Backtest:
    phases = obs.phases
    if len(phases) < 2:
        return Backtest(
            "all phases",
            "none",
            None,
            f"skipped: {len(phases)} steady phase(s); holding one out needs at least 2",
        )
    last = phases[-1]
    train = f"{phases[0].start:%H:%M:%S} to {phases[-2].end:%H:%M:%S} UTC ({len(phases) - 1} phase(s))"
    test = f"{last.name}, {last.start:%H:%M:%S} to {last.end:%H:%M:%S} UTC"
    try:
        scenario, backgrounds, r2, hints = build(obs.between(None, last.start))
    except ValueError as exc:
        return Backtest(
            train, test, None, f"skipped: the phases before {last.name} alone cannot be fitted ({exc})"
        )
    return Backtest(
        train, test, validate(scenario, backgrounds, r2, obs.between(last.start, None), method, hints)
    )


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def _on_scenario_replicas(
    name: str, busy: pd.Series, count: pd.Series, replicas: int, background: float, notes: list[str]
) -> pd.Series:
    present = count.dropna()
    if len(present) and (present.min() != replicas or present.max() != replicas):
        notes.append(
            f"{name}: ran {present.min():g} to {present.max():g} replicas; its observed CPU is compared on the "
            f"scenario's {replicas} (CPU from requests x replicas running / {replicas}, plus the background)"
        )
    return background + (busy - background) * count / replicas


def _busy_hour(rate: pd.Series) -> pd.DatetimeIndex:
    hourly = rate.resample("1h").mean()
    top = hourly.idxmax()
    return rate.index[(rate.index >= top) & (rate.index < top + pd.Timedelta(hours=1))]


def _row(
    what: str,
    unit: str,
    observed: pd.Series,
    predicted: pd.Series,
    busy_hour: pd.DatetimeIndex,
    floor: float,
    rate: pd.Series,
) -> Row | None:
    both = pd.concat([observed.rename("o"), predicted.rename("p")], axis=1).dropna()
    if not len(both):
        return None
    scored = both[both["o"] > floor]
    mape = (
        float((np.abs(scored["p"] - scored["o"]) / scored["o"]).mean() * 100)
        if len(scored) >= MIN_POINTS
        else None
    )
    hour = both[both.index.isin(busy_hour)]
    verdict = (
        "n/a" if mape is None else "good" if mape <= GOOD_MAPE else "fair" if mape <= FAIR_MAPE else "poor"
    )
    return Row(
        what,
        unit,
        float(both["o"].mean()) if len(both) else math.nan,
        float(both["p"].mean()) if len(both) else math.nan,
        mape,
        float(hour["o"].mean()) if len(hour) else math.nan,
        float(hour["p"].mean()) if len(hour) else math.nan,
        len(scored),
        verdict,
        busy_hour_rps=float(rate.reindex(hour.index).mean()) if len(hour) else math.nan,
    )


def _explain_util(row: Row, r2: float | None, hint: str | None = None) -> Row:
    if row.verdict not in ("fair", "poor"):
        return row
    if hint:
        cause = hint
    elif r2 is not None and r2 < 0.5:
        cause = f"CPU hardly follows traffic (R^2 {r2:.2f}): background jobs, another tenant, or a CPU metric of another resource"
    elif row.predicted_mean < row.observed_mean:
        cause = "more CPU than the traffic explains in part of the window: incidents, a level shift or a workload mix change"
    else:
        cause = "less CPU than the traffic explains in part of the window: a level shift (a deploy, a scaled fleet) or caching"
    return dataclasses.replace(row, cause=cause)


def _explain_latency(row: Row) -> Row:
    if row.verdict not in ("fair", "poor"):
        return row
    if (
        row.predicted_busy_hour < 0.8 * row.observed_busy_hour
        and row.predicted_mean >= 0.8 * row.observed_mean
    ):
        cause = (
            "latency grows with load faster than the model says: fewer effective servers (queues per core or per "
            "replica rather than one shared pool), service times that vary more (service_cv above 1), or "
            "a limit the model lacks (a connection pool, a lock)"
        )
    elif row.predicted_mean < row.observed_mean:
        cause = (
            "the observed latency has time the model does not see (network, unobserved dependencies, GC or lock "
            "waits), or service times vary more than service_cv says"
        )
    else:
        cause = "less queueing than the model assumes: service_cv below 1, or more servers than configured"
    return dataclasses.replace(row, cause=cause)
