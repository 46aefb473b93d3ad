"""`sweep`: many variants of a scenario (a grid of keys and values), locally or on a dask cluster."""

from __future__ import annotations

import argparse
import math
import re
import socket
from pathlib import Path

from commands.checks import requests_option, scenario_of
from commands.errors import EXIT_OK, InputError
from commands.options import add_scenario_options
from commands.progress import progress_bar
from model.planning.report import json_text
from model.planning.sweep import run_sweep, sweep_text
from model.scenario.limits import check, limit, printable
from model.scenario.reader import parse_grid


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        required=True,
        help="a key and its values; repeat for a full grid",
    )
    parser.add_argument("--method", choices=["sim", "analytic"], default="sim")
    parser.add_argument("--requests", type=int, default=None, metavar="N")
    parser.add_argument("--replications", type=int, default=1, metavar="N")
    parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="an existing dask cluster (default: a local one)"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers of the local cluster")
    parser.add_argument("--local", action="store_true", help="run in this process, no cluster")
    parser.add_argument("--out", metavar="FILE.csv|FILE.parquet", help="write every run's results")


def run(args) -> int:
    grid = _checked_grid(args)
    scenario = scenario_of(args)
    if args.requests is not None:
        requests_option(args.requests, 0)
    frame = run_sweep(
        scenario,
        grid,
        replications=args.replications,
        method=args.method,
        seed=args.seed,
        requests=args.requests,
        scheduler=args.scheduler,
        workers=args.workers,
        local=args.local,
        progress=progress_bar(not args.json),
    )
    if args.out:
        out = Path(args.out)
        frame.to_parquet(out) if out.suffix == ".parquet" else frame.to_csv(out, index=False)
    if args.json:
        print(json_text(frame.to_dict(orient="records")))
    else:
        print(sweep_text(frame))
        if args.out:
            print(f"\nWrote {len(frame)} rows to {args.out}")
    return EXIT_OK


def _checked_grid(args) -> dict:
    """Every sweep option checked before the scenario is run once: a sweep can take hours, and
    finding the --out folder missing at the end loses them."""
    if not 1 <= args.workers <= limit("WORKERS"):
        raise InputError(
            f"--workers must be from 1 to {limit('WORKERS')} (got {args.workers}; "
            "raise the limit with the environment variable HEADROOM_MAX_WORKERS)"
        )
    if args.replications < 1:
        raise InputError("--replications must be at least 1")
    check("REPLICATIONS", args.replications, "--replications")
    grid: dict = {}
    for spec in args.grid:
        path, values = parse_grid(spec)
        if path in grid:
            raise InputError(f"--grid {printable(path)} is given twice; list all its values in one --grid")
        grid[path] = values
    points = math.prod(len(v) for v in grid.values())
    check("GRID_POINTS", points, "the grid's points")
    check("RUNS", points * args.replications, "the sweep's runs (grid points x replications)")
    if args.out:
        out = Path(args.out)
        if not out.parent.is_dir():
            raise InputError(
                f"--out: the folder {printable(str(out.parent))} does not exist; create it first"
            )
    if args.scheduler and not args.local:
        _check_scheduler(args.scheduler)
    return grid


def _check_scheduler(address: str, timeout_s: float = 3.0) -> None:
    """A dask scheduler that does not answer fails in seconds, not after dask's 30 s."""
    match = re.fullmatch(r"(?:tcp://)?\[?([\w.\-:]+?)\]?:(\d{1,5})", address.strip())
    if not match:
        raise InputError(f"--scheduler must look like tcp://HOST:PORT (got {printable(address[:80])})")
    try:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(
            f"--scheduler {printable(address[:80])} does not answer "
            f"({exc.strerror or exc.__class__.__name__}); is the dask scheduler running?"
        ) from None
