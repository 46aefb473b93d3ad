"""Fit and predict a saved testbed run again with the current code, without measuring again.

    python -m benchmarks.testbed --remodel testbed-results/full-STAMP [--out DIR]

A full run measures for about 20 minutes and needs a quiet machine; the model and the fit change
far more often than the real system does. This reads what a run measured (results.json: the
phases, the ramp, the settings; fit-metrics.csv: the fit's periods) and runs the same fit and the
same predictions as the run did, so a change to the model can be judged against the same real
measurements, and the report says which measurement it used.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from datetime import datetime
from pathlib import Path

from benchmarks.testbed.measure import Measured
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
    return Saved(
        SavedRun(out, phases, _fit_rows(rows_path)),
        argparse.Namespace(**settings),
        profile,
        saved.get("capacity_rps"),
        Knee(knee["capacity_rps"], knee["knee_rps"], [RampStep(**s) for s in knee["steps"]])
        if knee
        else None,
        str(source),
        saved["machine"],
    )


def _fit_rows(path: Path) -> list[dict]:
    """The fit's periods as the run held them: epoch seconds under `wall`, then the metric columns."""
    with open(path, newline="") as f:
        return [
            {
                "wall": datetime.fromisoformat(row.pop("timestamp")).timestamp(),
                **{k: float(v) for k, v in row.items()},
            }
            for row in csv.DictReader(f)
        ]
