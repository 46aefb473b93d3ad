"""Fit and predict a saved testbed run again with the current code, without measuring again.

    python -m benchmarks.testbed --remodel testbed-results/full-STAMP [--out DIR]

A full run measures for about 20 minutes and needs a quiet machine; the model and the fit change
far more often than the real system does. This reads what a run measured (results.json: the
phases, the ramp, the settings; fit-metrics.csv: the fit's periods) and runs the same fit and the
same predictions as the run did, so a change to the model can be judged against the same real
measurements, and the report says which measurement it used. A run saved before the fit's
periods carried their p50 and p99 gets them from requests.csv (every request, logged), over the
same windows the run used.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from datetime import datetime
from pathlib import Path

import math
from collections import defaultdict

from benchmarks.testbed.measure import Measured, p99_interval, period_percentiles, period_starts
from benchmarks.testbed.phases import Knee, Profile, RampStep


@dataclasses.dataclass
class SavedRun:
    """What model_phases reads of a Run: where to write, the measured phases and the fit's periods."""

    out: Path
    phases: list[Measured]
    fit_rows: list[dict]


@dataclasses.dataclass
class Saved:
    run: SavedRun
    args: argparse.Namespace
    profile: Profile
    capacity_rps: float | None
    knee: Knee | None
    source: str
    machine: dict  # the machine as the run measured it (when, CPUs, load average)


def load_saved(source: Path, out: Path) -> Saved:
    """A saved run read back; a missing or foreign file is a ValueError naming it."""
    results_path, rows_path = source / "results.json", source / "fit-metrics.csv"
    for path in (results_path, rows_path):
        if not path.is_file():
            raise ValueError(
                f"{path}: not found (a testbed output directory holds results.json and fit-metrics.csv)"
            )
    try:
        saved = json.loads(results_path.read_text())
        phases = [Measured(**p) for p in saved["phases"]]
        saved["machine"]["when"]
        settings = dict(saved["settings"])
        profile = Profile(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in saved["phase_lengths"].items()}
        )
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"{results_path}: not a testbed results file ({e})") from None
    knee = saved.get("knee")
    rows = _fit_rows(rows_path)
    if rows and "latency_p99_ms" not in rows[0] and (source / "requests.csv").is_file():
        rows = _with_percentiles(rows, phases, profile.period_s, source / "requests.csv")
    steps = [RampStep(**s) for s in knee["steps"]] if knee else []
    if any(s.p99_ci95_ms is None for s in steps) and (source / "requests.csv").is_file():
        _ramp_intervals(steps, source / "requests.csv", min(profile.warmup_s, profile.ramp_step_s / 4))
    return Saved(
        SavedRun(out, phases, rows),
        argparse.Namespace(**settings),
        profile,
        saved.get("capacity_rps"),
        Knee(knee["capacity_rps"], knee["knee_rps"], steps) if knee else None,
        str(source),
        saved["machine"],
    )


def _fit_rows(path: Path) -> list[dict]:
    """The fit's periods as the run held them: epoch seconds under `wall`, then the metric columns."""
    with open(path, newline="") as f:
        return [
            {
                "wall": datetime.fromisoformat(row.pop("timestamp")).timestamp(),
                **{k: float(v) if v != "" else math.nan for k, v in row.items()},
            }
            for row in csv.DictReader(f)
        ]


def _with_percentiles(
    rows: list[dict], phases: list[Measured], period_s: int, requests_csv: Path
) -> list[dict]:
    """Each fit period's p50 and p99 from the logged requests, over the windows period_rows used
    (a phase's start + warm-up + k periods, by scheduled send time), matched to the saved rows by
    their stamps (the window's start, floored to the period)."""
    starts = {m.name: period_starts(m.warmup_s, m.duration_s, period_s) for m in phases if m.kind == "fit"}
    stamp_of = {
        (m.name, k): math.floor((m.start_wall + start) / period_s) * period_s
        for m in phases
        if m.kind == "fit"
        for k, start in enumerate(starts[m.name])
    }
    latencies: dict[tuple[str, int], list[float]] = defaultdict(list)
    with open(requests_csv, newline="") as f:
        for r in csv.DictReader(f):
            if not starts.get(r["phase"]) or r["ok"] != "1":
                continue
            k = math.floor((float(r["sched_s"]) - starts[r["phase"]][0]) / period_s)
            if 0 <= k < len(starts[r["phase"]]):
                latencies[(r["phase"], k)].append(float(r["latency_ms"]))
    by_stamp = {stamp_of[key]: period_percentiles(values) for key, values in latencies.items()}
    missing = period_percentiles([])
    return [{**row, **by_stamp.get(row["wall"], missing)} for row in rows]


def _ramp_intervals(steps: list[RampStep], requests_csv: Path, warmup_s: float) -> None:
    """Each ramp step's p99 interval from the logged requests, for a run saved before the steps carried
    it (a step's requests are logged under `ramp N`, N its offered rate rounded, as Run.find_knee names it)."""
    by_name = {f"ramp {s.offered_rps:.0f}": s for s in steps}
    answered: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with open(requests_csv, newline="") as f:
        for r in csv.DictReader(f):
            if r["phase"] in by_name and r["ok"] == "1" and float(r["sched_s"]) >= warmup_s:
                sched, lat = answered[r["phase"]]
                sched.append(float(r["sched_s"]))
                lat.append(float(r["latency_ms"]))
    for name, step in by_name.items():
        if step.p99_ci95_ms is None and name in answered:
            step.p99_ci95_ms = p99_interval(*answered[name])
