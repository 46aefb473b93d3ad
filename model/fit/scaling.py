"""How a service's capacity grows with its replica count, from its CPU and running-replica series.

The queueing model scales replicas linearly: twice the replicas, twice the capacity. Real
services lose some of that to contention (a shared database pool, a lock, a leader) and to
coherency (keeping N replicas' caches or memberships consistent), which is what Gunther's
Universal Scalability Law measures (model.fit.usl). A service that autoscales runs at many
replica counts over two weeks, and its metrics say what each count could do:

- per period, the utilization law gives the capacity: the throughput the node handled
  divided by the CPU busy fraction net of the fitted background, i.e. the throughput it
  would do at 100 % busy with the replicas it ran then;
- periods are grouped by replica count N (a period whose mean count is not a whole number
  was mid-scaling and is left out); a count with too few periods, or too little CPU from
  requests for the ratio to mean much, is left out and said so in the notes;
- each count's capacity is the median over its periods (robust to incidents);
- the USL is fitted to capacity against N when there are at least MIN_LEVELS counts.

The result says sigma and kappa with their intervals, the peak N*, and whether the count the
node runs at (the HPA's max when it autoscales, else the replicas at the planning load) is
near or past the point where one more replica adds less than STOPS_PAYING of what one
replica does alone. It is a report: the scenario keeps the queueing model's linear replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model.fit.usl import UslError, UslFit, fit_usl

MIN_LEVEL_PERIODS = 12  # periods at one replica count for its capacity to count: an hour at 300 s
MIN_NET_BUSY = 0.10  # median CPU from requests (net of background) a count needs: below it the ratio is noise
MIN_LEVELS = 4  # replica counts the USL needs: three parameters and one degree of freedom
STOPS_PAYING = 0.25  # the next replica adds less than this share of a lone replica's throughput
NEAR = 0.8  # a count at this share of where replicas stop paying is near it
_SEARCH_N = 100_000


@dataclass(frozen=True)
class Level:
    """One replica count and what the periods at it say."""

    replicas: int
    periods: int
    capacity_rps: float  # median throughput at 100 % busy (requests/s at the node)
    busy_pct: float  # median CPU from requests, net of background

    def to_json(self) -> dict:
        return {
            "replicas": self.replicas,
            "periods": self.periods,
            "capacity_rps": round(self.capacity_rps, 4),
            "per_replica_rps": round(self.capacity_rps / self.replicas, 4),
            "busy_pct": round(self.busy_pct, 2),
        }


@dataclass
class ScalingFit:
    node: str
    series: str  # the replicas metric, "nodes.web.replicas"
    background: float | None = None  # the node's fitted background CPU (fraction) the capacities are net of
    levels: list[Level] = field(default_factory=list)
    usl: UslFit | None = None
    reference: int | None = None  # the count checked: the HPA max, else the replicas at the planning load
    reference_what: str = ""
    marginal: float | None = None  # at reference: (X(N+1) - X(N)) / X(1)
    efficiency: float | None = None  # at reference: X(N) / (N X(1)), 1 for linear scaling
    stops_paying_at: int | None = None  # the first N whose next replica adds less than STOPS_PAYING
    warning: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        out: dict = {
            "series": self.series,
            "fitted": self.usl is not None,
            "background_cpu_pct": None if self.background is None else round(100 * self.background, 3),
            "levels": [lv.to_json() for lv in self.levels],
            "notes": list(self.notes),
            "warning": self.warning,
            "stops_paying_fraction": STOPS_PAYING,
        }
        if self.usl is not None:
            u = self.usl
            out.update(
                {
                    "sigma": _r(u.sigma),
                    "sigma_ci95": [_r(v) for v in u.sigma_ci95],
                    "kappa": _r(u.kappa),
                    "kappa_ci95": [_r(v) for v in u.kappa_ci95],
                    "lambda_rps": _r(u.lambda_),
                    "peak_replicas": None if not math.isfinite(u.peak_n) else _r(u.peak_n),
                    "peak_rps": _r(u.peak_throughput),
                    "r2": round(u.r2, 4),
                    "reference_replicas": self.reference,
                    "reference": self.reference_what,
                    "marginal_at_reference": None if self.marginal is None else round(self.marginal, 4),
                    "efficiency_at_reference": None if self.efficiency is None else round(self.efficiency, 4),
                    "stops_paying_at": self.stops_paying_at,
                }
            )
        return out

    def summary(self) -> str:
        """One line: the fit or why there is none (the YAML comment on the node)."""
        if self.usl is None:
            reason = next((n for n in self.notes if n.startswith("not fitted")), "not fitted")
            return f"scaling (USL, from {self.series} and cpu): {reason}"
        u = self.usl
        peak = (
            f"peak at N* = {u.peak_n:.1f} replicas ({u.peak_throughput:,.4g} req/s)"
            if math.isfinite(u.peak_n)
            else "no peak (kappa 0: throughput levels off, never falls)"
        )
        text = (
            f"scaling (USL, from {self.series} and cpu, {len(self.levels)} replica counts): "
            f"sigma {u.sigma:.3g} (95% CI {u.sigma_ci95[0]:.3g} to {u.sigma_ci95[1]:.3g}), "
            f"kappa {u.kappa:.3g} (95% CI {u.kappa_ci95[0]:.3g} to {u.kappa_ci95[1]:.3g}), {peak}"
        )
        if self.reference is not None and self.marginal is not None:
            text += (
                f"; at {self.reference} replicas ({self.reference_what}) the next adds {100 * self.marginal:.0f} % "
                f"of a lone replica's throughput and {self.reference} give {100 * self.efficiency:.0f} % of "
                f"{self.reference} x one"
            )
        if self.warning:
            text += ": adding replicas " + (
                "lowers throughput"
                if self._past_peak()
                else "has stopped paying"
                if self.marginal is not None and self.marginal < STOPS_PAYING
                else "is close to no longer paying"
            )
        return text

    def to_text(self) -> list[str]:
        lines = []
        if self.levels:
            shown = ", ".join(f"{lv.replicas}: {lv.capacity_rps:,.4g}" for lv in self.levels)
            lines.append(
                f"    capacity at 100 % busy by replica count (req/s, median of each count's periods): {shown}"
            )
        if self.usl is not None:
            u = self.usl
            peak = (
                f"peak at N* = {u.peak_n:.1f} replicas, {u.peak_throughput:,.4g} req/s"
                if math.isfinite(u.peak_n)
                else "no peak (kappa 0)"
            )
            lines.append(
                f"    USL: sigma {u.sigma:.4g} (95% CI {u.sigma_ci95[0]:.3g} to {u.sigma_ci95[1]:.3g}), kappa {u.kappa:.4g} "
                f"(95% CI {u.kappa_ci95[0]:.3g} to {u.kappa_ci95[1]:.3g}), {u.lambda_:,.4g} req/s for one replica; "
                f"{peak}; R^2 {u.r2:.3f}"
            )
            if self.reference is not None and self.marginal is not None:
                stops = (
                    f"; from {self.stops_paying_at} replicas on, one more adds less than {100 * STOPS_PAYING:.0f} % "
                    "of a lone replica's throughput"
                    if self.stops_paying_at
                    else ""
                )
                lines.append(
                    f"    at {self.reference} replicas ({self.reference_what}): the next adds {100 * self.marginal:.0f} % "
                    f"of a lone replica's throughput, and {self.reference} give {100 * self.efficiency:.0f} % of "
                    f"{self.reference} x one (the scenario assumes 100 %){stops}"
                )
        lines += [f"    note: {n}" for n in self.notes]
        if self.warning:
            lines.append(f"    WARNING: {self.warning}")
        return lines

    def _past_peak(self) -> bool:
        return (
            self.usl is not None
            and self.reference is not None
            and math.isfinite(self.usl.peak_n)
            and self.reference >= self.usl.peak_n
        )


def fit_scaling(
    node: str,
    throughput_rps: pd.Series,
    busy: pd.Series,
    count: pd.Series,
    whole: pd.Series,
    background: float,
    reference: int | None,
    reference_what: str,
) -> ScalingFit:
    """The USL over replica counts for one node.

    `throughput_rps` is the node's requests per second, `busy` its CPU busy fraction (the mean over
    its running replicas), `count` the replicas metric as read and `whole` the same as whole numbers
    (NaN mid-scaling, model.fit.demand.whole_counts), `background` the node's fitted background.
    """
    out = ScalingFit(node, f"nodes.{node}.replicas", background)
    frame = pd.concat(
        [throughput_rps.rename("x"), busy.rename("u"), count.rename("raw"), whole.rename("n")], axis=1
    )
    frame = frame.dropna(subset=["x", "u", "raw"])
    scaling = int(frame["n"].isna().sum())
    if scaling:
        out.notes.append(
            f"{scaling} period(s) whose mean replica count is not a whole number (mid-scaling) or 0 are left out"
        )
    frame = frame.dropna(subset=["n"])
    frame["net"] = frame["u"] - background
    idle = frame["net"] <= 0
    if idle.any():
        out.notes.append(f"{int(idle.sum())} period(s) with CPU at or below the background are left out")
    frame = frame[~idle]
    frame["capacity"] = frame["x"] / frame["net"]
    skipped: list[str] = []
    for n, group in frame.groupby("n"):
        n = int(n)
        net = float(group["net"].median())
        if len(group) < MIN_LEVEL_PERIODS:
            skipped.append(f"{n} ({len(group)} period(s); a count needs {MIN_LEVEL_PERIODS})")
        elif net < MIN_NET_BUSY:
            skipped.append(
                f"{n} (CPU from requests {100 * net:.1f} %; a count needs {100 * MIN_NET_BUSY:.0f} % "
                "for throughput over CPU to mean much)"
            )
        else:
            out.levels.append(Level(n, len(group), float(group["capacity"].median()), 100 * net))
    if skipped:
        out.notes.append("replica counts left out: " + "; ".join(skipped))
    distinct = [lv.replicas for lv in out.levels]
    if len(distinct) < MIN_LEVELS:
        seen = sorted(int(v) for v in frame["n"].unique())
        if len(seen) <= 1:
            why = (
                f"the replica count did not change (always {seen[0]})"
                if seen
                else "no period has a whole replica count"
            )
        else:
            why = f"{len(distinct)} usable replica count(s) ({', '.join(map(str, distinct)) or 'none'})"
        out.notes.append(
            f"not fitted: {why}; the USL needs at least {MIN_LEVELS} replica counts, each with "
            f"{MIN_LEVEL_PERIODS} periods and {100 * MIN_NET_BUSY:.0f} % CPU from requests (an autoscaler's "
            "range over the window, or a load test at several counts, gives them)"
        )
        return out
    try:
        usl = fit_usl(distinct, [lv.capacity_rps for lv in out.levels])
    except UslError as exc:
        out.notes.append(f"not fitted: {exc}")
        return out
    out.usl = usl
    if reference is not None:
        _check(out, usl, reference, reference_what)
    return out


def marginal_gain(usl: UslFit, n: np.ndarray | float) -> np.ndarray | float:
    """What replica n + 1 adds, as a share of what one replica does alone."""
    n = np.asarray(n, dtype=float)
    return (usl.throughput(n + 1) - usl.throughput(n)) / float(usl.throughput(1.0))


def _check(out: ScalingFit, usl: UslFit, reference: int, what: str) -> None:
    out.reference, out.reference_what = reference, what
    out.marginal = float(marginal_gain(usl, reference))
    out.efficiency = float(usl.throughput(reference)) / (reference * float(usl.throughput(1.0)))
    n = np.arange(1, _SEARCH_N + 1, dtype=float)
    below = np.flatnonzero(marginal_gain(usl, n) < STOPS_PAYING)
    out.stops_paying_at = int(n[below[0]]) if len(below) else None
    name, params = out.node, f"USL sigma {usl.sigma:.3g}, kappa {usl.kappa:.3g}"
    if out._past_peak():
        out.warning = (
            f"nodes.{name}: {reference} replicas ({what}) is past the USL peak of N* = {usl.peak_n:.1f} "
            f"({params}): each replica beyond it lowers throughput; fewer, larger replicas or less "
            "contention (shared locks, pools, cross-replica chatter) would do more"
        )
    elif out.marginal < STOPS_PAYING:
        out.warning = (
            f"nodes.{name}: at {reference} replicas ({what}) one more replica adds only "
            f"{100 * out.marginal:.0f} % of a lone replica's throughput (below {100 * STOPS_PAYING:.0f} %; "
            f"{params}, peak at N* = {usl.peak_n:.1f}): adding replicas has stopped paying, and the "
            "scenario, which scales replicas linearly, overstates what more of them would do"
        )
    elif out.stops_paying_at is not None and reference >= NEAR * out.stops_paying_at:
        out.warning = (
            f"nodes.{name}: {reference} replicas ({what}) is close to where adding replicas stops paying: "
            f"from {out.stops_paying_at} replicas one more adds less than {100 * STOPS_PAYING:.0f} % of a lone "
            f"replica's throughput ({params})"
        )


def _r(value: float) -> float:
    return float(f"{value:.6g}")
