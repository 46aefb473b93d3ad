"""Sweeps: a real dask LocalCluster (processes, loopback) gives the local run's numbers; bad paths fail first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli import main
from model.scenario.reader import ScenarioError, scenario_from_data
from model.queueing.evaluate import evaluate
from model.planning.sweep import replication_seeds, run_sweep
from tests.model.planning.planning_helpers import mmc_scenario

ROOT = Path(__file__).resolve().parents[3]
GRID = {"nodes.web.replicas": [6, 8], "workload.rate_rps": [80, 100]}


def scenario():
    return scenario_from_data(mmc_scenario(6, 50, 100, p99_ms=300))


def test_cluster_and_local_runs_give_identical_numbers():
    local = run_sweep(scenario(), GRID, replications=2, seed=42, requests=1_500, local=True)
    cluster = run_sweep(scenario(), GRID, replications=2, seed=42, requests=1_500, workers=2)
    assert len(local) == 8
    pd.testing.assert_frame_equal(local, cluster)
    # Replication seeds come from SeedSequence(42).spawn(2), the same at every grid point.
    expected = [int(c.generate_state(1, np.uint64)[0]) for c in np.random.SeedSequence(42).spawn(2)]
    assert sorted(set(local["seed"])) == sorted(expected) == sorted(replication_seeds(42, 2))
    # Each row is exactly a plain simulation of that variant with that seed.
    row = local.iloc[5]
    variant = scenario_from_data(
        mmc_scenario(int(row["nodes.web.replicas"]), 50, float(row["workload.rate_rps"]), p99_ms=300)
    )
    direct = evaluate(variant, "sim", seed=int(row["seed"]), requests=1_500)
    assert row["p99_ms"] == direct.latency_ms.p99 and row["monthly"] == direct.cost.monthly


def test_more_replicas_lower_the_p99_in_the_sweep():
    frame = run_sweep(scenario(), {"nodes.web.replicas": [6, 10]}, method="analytic", local=True)
    assert frame["p99_ms"].iloc[0] > frame["p99_ms"].iloc[1]
    assert list(frame.columns[:1]) == ["nodes.web.replicas"]


@pytest.mark.parametrize("path", ["nodes.web.replicass", "nodes.nope.replicas", "workload.rate_rpss"])
def test_a_bad_grid_path_fails_before_anything_runs(path):
    with pytest.raises(ScenarioError) as err:
        run_sweep(scenario(), {"nodes.web.replicas": [2], path: [1]}, local=True)
    assert path in str(err.value)


def test_sweep_cli_json_and_bad_grid_exit_code(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(mmc_scenario(6, 50, 100, p99_ms=300)))
    out_csv = tmp_path / "runs.csv"
    code = main(
        [
            "sweep",
            str(path),
            "--grid",
            "nodes.web.replicas=6,8",
            "--local",
            "--json",
            "--seed",
            "1",
            "--requests",
            "1000",
            "--out",
            str(out_csv),
        ]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["nodes.web.replicas"] for r in rows] == [6, 8] and all(
        "p99_ms" in r and "slo_met" in r for r in rows
    )
    assert len(pd.read_csv(out_csv)) == 2
    done = subprocess.run(
        [sys.executable, "cli.py", "sweep", str(path), "--grid", "nodes.web.replicass=1,2", "--local"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "nodes.web.replicass" in done.stderr and done.stdout == ""
