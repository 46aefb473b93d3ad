"""`users`: how many concurrent users meet the SLO, the throughput there, the bottleneck, the knee."""

from __future__ import annotations

import argparse

from commands.checks import scenario_of
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options
from commands.progress import progress_bar
from model.planning.report import json_text
from model.planning.users import max_users
from model.scenario.limits import printable


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--check-slo", action="store_true", help="exit 3 when the workload's users miss the SLO"
    )


def run(args) -> int:
    scenario = scenario_of(args)
    if not scenario.workload.closed:
        raise InputError(
            f"{printable(args.file)}: users needs a closed workload (workload.users and think_ms); "
            "try --users N --set workload.think_ms=MS"
        )
    answer = max_users(scenario, progress=progress_bar(not args.json))
    print(json_text(answer.to_json()) if args.json else answer.to_text())
    return EXIT_SLO if args.check_slo and not answer.slo_met else EXIT_OK
