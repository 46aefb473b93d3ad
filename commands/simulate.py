"""`simulate`: run the scenario once and print the results (contract section 2)."""

from __future__ import annotations

import argparse
import math

from commands.checks import requests_option, scenario_of
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options, add_strict_prices
from commands.progress import progress_bar
from model.planning.report import json_text, results_text
from model.queueing.evaluate import evaluate
from model.queueing.run_size import SIM_REQUESTS


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--method",
        choices=["sim", "analytic"],
        default="sim",
        help="simulation (default) or queueing formulas",
    )
    parser.add_argument(
        "--requests", type=int, default=None, metavar="N", help="completed requests to measure after warm-up"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a timed run instead of --requests: the load offered for that long, as a load test sees it",
    )
    parser.add_argument(
        "--burst",
        default=None,
        metavar="FACTOR,START_S,LENGTH_S",
        help="with --duration: the rate times FACTOR from START_S for LENGTH_S seconds (e.g. 2,60,10); "
        "the JSON's load_test then says whether and when the system recovered",
    )
    parser.add_argument("--check-slo", action="store_true", help="exit 3 when the SLO is not met")
    add_strict_prices(parser)


def run(args) -> int:
    scenario = scenario_of(args)
    requests = requests_option(args.requests, SIM_REQUESTS)
    duration_s = _duration(args)
    if duration_s is not None and scenario.workload.closed:
        raise InputError(
            "--duration offers an open rate for a time: give --rate, or drop --duration for users"
        )
    results = evaluate(
        scenario,
        args.method,
        seed=args.seed,
        requests=requests,
        progress=progress_bar(not args.json),
        duration_s=duration_s,
        burst=_burst(args.burst, duration_s, scenario),
    )
    if args.json:
        print(json_text(results.to_json()))
    else:
        print(results_text(results, {n: node.kind for n, node in scenario.nodes.items()}, args.seed))
    return EXIT_SLO if args.check_slo and not results.slo.met else EXIT_OK


def _duration(args) -> float | None:
    """--duration SECONDS: a timed simulation; it replaces --requests and has no analytic form."""
    if args.duration is None:
        return None
    # the simulator's timed run, imported only here: an analytic simulate never loads the simulator
    from model.queueing.sim.load_test import MAX_DURATION_S

    if args.requests is not None:
        raise InputError("give --duration SECONDS or --requests N, not both")
    if args.method != "sim":
        raise InputError("--duration runs the simulator (a timed run): drop --method analytic")
    if not (math.isfinite(args.duration) and 0 < args.duration <= MAX_DURATION_S):
        raise InputError(
            f"--duration must be above 0 and at most {MAX_DURATION_S:,.0f} seconds (got {args.duration:g})"
        )
    return args.duration


def _burst(text: str | None, duration_s: float | None, scenario):
    """--burst FACTOR,START_S,LENGTH_S (model.queueing.sim.load_test.Burst), within a --duration run."""
    if text is None:
        return None
    from model.queueing.sim.load_test import Burst  # as in _duration

    if duration_s is None:
        raise InputError("--burst happens within a timed run: give --duration SECONDS too")
    if scenario.workload.arrivals == "trace":
        raise InputError("--burst changes a steady rate; this scenario replays a trace, which sets its own")
    try:
        factor, start_s, length_s = (float(part) for part in text.split(","))
    except ValueError:
        raise InputError(
            f"--burst expects FACTOR,START_S,LENGTH_S, for example 2,60,10 (got {text[:40]!r})"
        ) from None
    burst = Burst(factor, start_s, length_s)
    try:
        burst.check(duration_s)
    except ValueError as exc:
        raise InputError(f"--burst: {exc}") from None
    return burst
