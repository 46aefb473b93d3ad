"""Sweeps: every combination of a grid of overrides, with replications, on dask.distributed.

A sweep is embarrassingly parallel, so it is shipped to a cluster as plain data: the
scenario as a dict and each point's overrides, never live objects (they would have to be
pickled with their closures). Replication seeds come from one `SeedSequence(seed).spawn`,
and replication r uses the same seed at every grid point (common random numbers, so two
variants differ by their configuration, not by luck); the same seeds give the same numbers
whether the points run in this process, on a local cluster or on a remote one.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from model.scenario.limits import check, over
from model.scenario.reader import ScenarioError, apply_override, scenario_from_data
from model.planning.report import money, table
from model.scenario.schema import Scenario
from model.queueing.run_size import PLANNING_REQUESTS

if TYPE_CHECKING:
    import pandas as pd

# A sweep point's default length: enough for a p99 that moves by a few percent, fast enough for hundreds.
SWEEP_REQUESTS = PLANNING_REQUESTS


def scenario_data(scenario: Scenario) -> dict:
    """The scenario as plain, picklable data that `scenario_from_data` reads back unchanged."""
    return scenario.model_dump(mode="json", exclude_none=True)


def grid_points(grid: dict[str, list]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the order the grid lists them."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def with_changes(data: dict, changes: dict[str, Any], source: str = "--grid") -> Scenario:
    """A validated scenario from base data and dotted-path overrides; errors name the path."""
    variant = copy.deepcopy(data)
    for path, value in changes.items():
        apply_override(variant, path, value, source)
    try:
        return scenario_from_data(variant, source, changed=set(changes))
    except ScenarioError as exc:
        culprit = next(
            (
                p
                for p in changes
                if exc.path == p
                or exc.path.startswith(p + ".")
                or p.startswith(exc.path + ".")
                or exc.path == ""
            ),
            None,
        )
        culprit = culprit or next(iter(changes), exc.path)
        raise ScenarioError(
            source, culprit, f"{exc.message} (at {exc.path})" if exc.path != culprit else exc.message
        ) from None


def validate_grid(scenario: Scenario, grid: dict[str, list]) -> list[dict[str, Any]]:
    """Check every grid point before anything runs; a bad key path fails here, naming it."""
    if not grid:
        raise ScenarioError("--grid", "", "needs at least one PATH=V1,V2,...")
    data = scenario_data(scenario)
    for path, values in grid.items():
        if not values:
            raise ScenarioError("--grid", path, "has no values")
        for value in values:  # one key at a time first, so the message names the right path
            with_changes(data, {path: value})
    message = over("GRID_POINTS", math.prod(len(v) for v in grid.values()), "the grid's points")
    if message:
        raise ScenarioError("--grid", "", message)
    points = grid_points(grid)
    for point in points:
        with_changes(data, point)
    return points


def replication_seeds(seed: int | None, replications: int) -> list[int]:
    """One integer seed per replication, from SeedSequence(seed).spawn(replications)."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(c.generate_state(1, np.uint64)[0]) for c in children]


def run_point(data: dict, changes: dict[str, Any], method: str, seed: int, requests: int) -> dict[str, Any]:
    """One grid point and replication -> one result row. Runs on a worker: plain data in and out."""
    from model.queueing.evaluate import evaluate

    scenario = with_changes(data, changes)
    r = evaluate(scenario, method, seed=seed, requests=requests)
    lat = r.latency_ms
    return {
        "p50_ms": lat.p50,
        "p95_ms": lat.p95,
        "p99_ms": lat.p99,
        "mean_ms": lat.mean,
        "error_pct": r.error_pct,
        "throughput_rps": r.throughput_rps,
        "monthly": r.cost.monthly if r.cost is not None else float("nan"),
        "slo_met": bool(r.slo.met),
        "saturated": ",".join(r.saturated),
    }


def run_sweep(
    scenario: Scenario,
    grid: dict[str, list],
    replications: int = 1,
    method: str = "sim",
    seed: int | None = None,
    requests: int | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    local: bool = False,
    progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """One row per grid point x replication: the grid values, replication, seed and the results.

    `local=True` runs in this process; `scheduler="tcp://HOST:PORT"` uses an existing dask
    cluster (its workers need this project importable); otherwise a LocalCluster of
    `workers` processes on 127.0.0.1 is started for the sweep and closed after it.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    check("REPLICATIONS", replications, "replications")
    points = validate_grid(scenario, grid)
    check("RUNS", len(points) * replications, "the sweep's runs (grid points x replications)")
    data = scenario_data(scenario)
    seeds = replication_seeds(seed, replications)
    n_requests = SWEEP_REQUESTS if requests is None else requests
    tasks = [(i, r, point, seeds[r]) for i, point in enumerate(points) for r in range(replications)]
    if local:
        outputs = []
        for k, (_i, _r, point, s) in enumerate(tasks):
            outputs.append(run_point(data, point, method, s, n_requests))
            if progress:
                progress((k + 1) / len(tasks))
    else:
        outputs = _run_on_dask(data, tasks, method, n_requests, scheduler, workers, progress)
    import pandas as pd  # here: 0.4 s to import, and recommend uses this module's helpers, not its frames

    rows = []
    for (i, r, point, s), out in zip(tasks, outputs):
        rows.append({**point, "point": i, "replication": r, "seed": s, **out})
    return pd.DataFrame(rows)


def _run_on_dask(
    data: dict,
    tasks: list,
    method: str,
    requests: int,
    scheduler: str | None,
    workers: int,
    progress: Callable[[float], None] | None,
) -> list[dict]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    try:
        with Client(cluster if cluster is not None else scheduler, timeout="10s") as client:
            [shared] = client.scatter([data], broadcast=True)
            futures = [
                client.submit(run_point, shared, point, method, s, requests, pure=False)
                for (_i, _r, point, s) in tasks
            ]
            index = {f.key: k for k, f in enumerate(futures)}
            outputs: list[dict | None] = [None] * len(futures)
            for done, future in enumerate(as_completed(futures), start=1):
                outputs[index[future.key]] = future.result()
                if progress:
                    progress(done / len(futures))
            return outputs  # type: ignore[return-value]
    finally:
        if cluster is not None:
            cluster.close()


def sweep_text(frame: pd.DataFrame) -> str:
    """A table per run, and with replications a summary per grid point (mean and range of p99)."""
    reserved = {
        "point",
        "replication",
        "seed",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "mean_ms",
        "error_pct",
        "throughput_rps",
        "monthly",
        "slo_met",
        "saturated",
    }
    keys = [c for c in frame.columns if c not in reserved]
    fmt_ms = lambda v: "unbounded" if not np.isfinite(v) else f"{v:,.1f} ms"  # noqa: E731
    rows = [
        [str(row[k]) for k in keys]
        + [
            str(row["replication"]),
            fmt_ms(row["p50_ms"]),
            fmt_ms(row["p99_ms"]),
            f"{row['error_pct']:.3f}%",
            f"{row['throughput_rps']:,.1f}/s",
            money(row["monthly"]),
            "met" if row["slo_met"] else "NOT met",
            row["saturated"] or "-",
        ]
        for _, row in frame.iterrows()
    ]
    out = [
        f"Sweep: {frame['point'].nunique()} grid points x {frame['replication'].nunique()} replications "
        f"= {len(frame)} runs",
        "",
        table(keys + ["rep", "p50", "p99", "errors", "served", "monthly", "SLO", "saturated"], rows),
    ]
    if frame["replication"].nunique() > 1:
        summary = frame.groupby("point").agg(
            p99_mean=("p99_ms", "mean"),
            p99_min=("p99_ms", "min"),
            p99_max=("p99_ms", "max"),
            met=("slo_met", "mean"),
        )
        first = frame.groupby("point").first()
        rows = [
            [str(first.loc[p, k]) for k in keys]
            + [fmt_ms(s.p99_mean), f"{fmt_ms(s.p99_min)} to {fmt_ms(s.p99_max)}", f"{100 * s.met:.0f}%"]
            for p, s in summary.iterrows()
        ]
        out += [
            "",
            "Per grid point over replications:",
            table(keys + ["mean p99", "p99 range", "SLO met in"], rows),
        ]
    return "\n".join(out)
